//! `POST /api/send`: consoles send through the relay, which alone holds LINE credentials and
//! writes the transcript from LINE's answers.
//!
//! 1. **Who**: [`access::may_write`]: the owner while Active, or a consultant the owner let
//!    join. The workstream's "representatives may send files" toggle and LINE's limits (1 to
//!    5 messages, 5,000 UTF-16 units of text) are checked here, not in the console.
//! 2. **Intent first**: in one writer transaction the relay takes the conversation's reply
//!    token if it is fresh (so automated messages, which take it the same way, never collide
//!    with it) and records a `sends` row (`sending`) keyed by the outbox id.
//! 3. **LINE**: reply with the token (free), or push with `X-Line-Retry-Key` = outbox id
//!    (metered). A stale token (400) falls back to push. A limiter per channel keeps calls
//!    under LINE's 2,000 requests/s, shared by the relays alive on one database (each takes
//!    an equal part); the LINE client backs off and retries 429s and 5xx with the same retry
//!    key.
//! 4. **Transcript**: the sent message goes into the log as `linedeskSent` with LINE's
//!    `sentMessages`, its time, reply or push and who, in the same transaction that marks the
//!    row `sent` and keeps the answer.
//!
//! Idempotent per outbox id: a retry gets the stored answer. After a crash of the relay, a
//! row still `sending` by push is pushed again with the same retry key (LINE answers 409 with
//! the first `sentMessages` when it already has it); one still `sending` by reply becomes
//! `unknown` (delivery unknown): nobody can tell whether LINE delivered it, so it is never
//! re-sent by itself.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use crate::store::sql::Db;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use linedesk_line::api::ApiError;
use linedesk_line::send::{Message, MessageKind};
use linedesk_protocol::{ErrorCode, Reason, SendAnswer, SendRequest, Via};
use serde_json::json;

use crate::access;
use crate::policy::{AnyUser, Refusal};
use crate::routing::engine::{load_workstream, REPLY_TOKEN_FRESH_MS};
use crate::store::events::{self, NewEvent};
use crate::store::sends as store;
use crate::Relay;

/// LINE's rate limit for reply and push, per channel (REFERENCE: 2,000 requests/s).
const LINE_REQUESTS_PER_SECOND: u32 = 2_000;

/// Sends in flight and the per-channel limiters; part of [`Relay`].
#[derive(Default)]
pub struct Sends {
    in_flight: Mutex<HashSet<String>>,
    limiters: Mutex<HashMap<String, (u32, Arc<DefaultDirectRateLimiter>)>>,
}

impl Sends {
    /// The channel's limiter when `relays` relays share LINE's limit.
    fn limiter(&self, channel: &str, relays: u32) -> Arc<DefaultDirectRateLimiter> {
        let mut limiters = self.limiters.lock().expect("limiter lock");
        let entry = limiters
            .entry(channel.to_owned())
            .or_insert_with(|| (0, Arc::new(RateLimiter::direct(share_of(1)))));
        if entry.0 != relays {
            *entry = (relays, Arc::new(RateLimiter::direct(share_of(relays))));
        }
        entry.1.clone()
    }
}

/// One relay's part of LINE's per-channel limit among `relays`.
fn share_of(relays: u32) -> Quota {
    let per_second = (LINE_REQUESTS_PER_SECOND / relays.max(1)).max(1);
    Quota::per_second(NonZeroU32::new(per_second).expect("at least one request a second"))
}

/// Marks an outbox id as being sent until dropped.
struct InFlight<'a> {
    sends: &'a Sends,
    id: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.sends
            .in_flight
            .lock()
            .expect("in-flight lock")
            .remove(&self.id);
    }
}

/// What the intent transaction decided.
enum Plan {
    /// Already sent: the first answer.
    Done(SendAnswer),
    /// Call LINE: reply with this token, or push.
    Call { reply_token: Option<String> },
}

fn refusal_line(message: String) -> Refusal {
    Refusal {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: ErrorCode::LineRefused,
        message,
        invalid: Vec::new(),
    }
}

fn delivery_unknown(message: &str) -> Refusal {
    Refusal::new(StatusCode::CONFLICT, ErrorCode::DeliveryUnknown, message)
}

/// Checks the request's shape and LINE's limits; answers the parsed messages.
fn check_request(req: &SendRequest) -> Result<Vec<Message>, Refusal> {
    // LINE takes only a UUID as X-Line-Retry-Key.
    if uuid::Uuid::try_parse(&req.outbox_id).is_err() || req.outbox_id.len() != 36 {
        return Err(Refusal::bad_request(
            "outboxId: a UUID such as 123e4567-e89b-12d3-a456-426614174000",
        ));
    }
    if req.messages.is_empty() || req.messages.len() > linedesk_line::send::MESSAGES_PER_REQUEST {
        return Err(Refusal::bad_request("messages: 1 to 5 message objects"));
    }
    let mut out = Vec::with_capacity(req.messages.len());
    for (i, m) in req.messages.iter().enumerate() {
        let message: Message = serde_json::from_value(m.clone())
            .map_err(|e| Refusal::bad_request(&format!("messages[{i}]: {e}")))?;
        match &message.kind {
            MessageKind::Text { text, .. } => {
                let n = linedesk_line::send::utf16_len(text);
                if n == 0 || n > linedesk_line::send::TEXT_MAX_UTF16 {
                    return Err(Refusal::bad_request(&format!(
                        "messages[{i}].text: 1 to 5,000 characters (LINE counts UTF-16 units; this has {n})"
                    )));
                }
            }
            MessageKind::Sticker {
                package_id,
                sticker_id,
                ..
            } if !linedesk_line::send::is_sendable_sticker(package_id, sticker_id) => {
                return Err(Refusal::bad_request(&format!(
                    "messages[{i}]: sticker {package_id}/{sticker_id} is not one LINE lets bots send"
                )))
            }
            MessageKind::Raw(v) => {
                return Err(Refusal::bad_request(&format!(
                    "messages[{i}]: type {} cannot be sent from a console",
                    v["type"].as_str().unwrap_or("unknown")
                )))
            }
            _ => {}
        }
        out.push(message);
    }
    Ok(out)
}

fn is_attachment(m: &Message) -> bool {
    matches!(
        m.kind,
        MessageKind::Image { .. } | MessageKind::Video { .. } | MessageKind::Audio { .. }
    )
}

/// The intent transaction (on the writer).
fn plan(
    c: Db<'_>,
    user: &str,
    req: &SendRequest,
    has_attachment: bool,
    now: i64,
) -> Result<Result<Plan, Refusal>, crate::store::StoreError> {
    let existing = store::find(c, &req.outbox_id)?;
    if let Some(store::SendRow {
        user: owner,
        channel,
        chat,
        state,
        via,
        answer,
        error,
    }) = existing
    {
        if owner != user || channel != req.channel_id || chat != req.chat_id {
            return Ok(Err(Refusal::conflict(
                "this outbox id was already used for another message",
            )));
        }
        return Ok(match (state.as_str(), via.as_str()) {
            ("sent", _) => match answer.and_then(|a| serde_json::from_str(&a).ok()) {
                Some(a) => Ok(Plan::Done(a)),
                None => Err(Refusal::internal("a sent row without its answer")),
            },
            ("failed", _) => Err(refusal_line(error.unwrap_or_default())),
            ("unknown", _) => Err(delivery_unknown(
                "this reply may or may not have reached the customer; it is not sent again",
            )),
            ("sending", "reply") => {
                store::mark_interrupted_reply(c, &req.outbox_id, now)?;
                Err(delivery_unknown(
                    "the relay stopped while this reply was being sent; it may have arrived, so it is not sent again",
                ))
            }
            // A push in flight when the relay stopped: the same retry key cannot double it.
            _ => Ok(Plan::Call { reply_token: None }),
        });
    }
    let conversation = match access::may_write(c, user, &req.channel_id, &req.chat_id)? {
        Ok(id) => id,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if has_attachment
        && !load_workstream(c, &req.channel_id)?
            .attachments
            .representatives_can_send
    {
        return Ok(Err(Refusal::forbidden_because(Reason::AttachmentsOff)));
    }
    let (token, token_at): (Option<String>, Option<i64>) = store::reply_token(c, &conversation)?;
    let reply_token = match (token, token_at) {
        (Some(t), Some(at)) if now - at < REPLY_TOKEN_FRESH_MS => {
            // Taken: an automated message queued later pushes instead.
            store::take_reply_token(c, &conversation)?;
            Some(t)
        }
        _ => None,
    };
    store::insert_sending(
        c,
        &store::NewSend {
            outbox_id: &req.outbox_id,
            channel_id: &req.channel_id,
            chat_id: &req.chat_id,
            user_name: user,
            messages: &serde_json::Value::from(req.messages.clone()).to_string(),
            via: if reply_token.is_some() {
                "reply"
            } else {
                "push"
            },
            reply_token: reply_token.as_deref(),
            now,
        },
    )?;
    Ok(Ok(Plan::Call { reply_token }))
}

/// `POST /api/send`.
pub async fn send(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    body: Bytes,
) -> Result<Json<SendAnswer>, Refusal> {
    let req: SendRequest = serde_json::from_slice(&body)
        .map_err(|e| Refusal::bad_request(&format!("malformed send: {e}")))?;
    let messages = check_request(&req)?;
    let entry = relay
        .registry()
        .get(&req.channel_id)
        .ok_or_else(|| Refusal::not_found("no such channel"))?;
    let sends = relay.sends();
    if !sends
        .in_flight
        .lock()
        .expect("in-flight lock")
        .insert(req.outbox_id.clone())
    {
        return Err(Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "this message is being sent right now; ask again in a moment",
        ));
    }
    let _guard = InFlight {
        sends,
        id: req.outbox_id.clone(),
    };
    let user = caller.session.user.name.clone();
    let has_attachment = messages.iter().any(is_attachment);
    let now = relay.clock().now_ms();
    let planned = {
        let (user, req) = (user.clone(), req.clone());
        relay
            .writer()
            .run(move |c| plan(c, &user, &req, has_attachment, now))
            .await
            .map_err(Refusal::internal)??
    };
    let reply_token = match planned {
        Plan::Done(answer) => return Ok(Json(answer)),
        Plan::Call { reply_token } => reply_token,
    };
    sends
        .limiter(&req.channel_id, relay.cluster().live())
        .until_ready()
        .await;
    let mut outcome = None;
    if let Some(token) = &reply_token {
        match entry.client.reply(token, messages.clone()).await {
            Ok(r) => outcome = Some((Via::Reply, serde_json::to_value(r.sent_messages))),
            // The token was stale or spent (LINE sent nothing): push instead, recorded first
            // so a crash from here on re-pushes with the same key.
            Err(e)
                if e.status() == Some(400)
                    || (e.status() == Some(429) && !e.is_monthly_limit()) =>
            {
                let id = req.outbox_id.clone();
                relay
                    .writer()
                    .run(move |c| store::fall_back_to_push(c, &id, now))
                    .await
                    .map_err(Refusal::internal)?;
            }
            Err(e) if e.is_retryable() => {
                settle(&relay, &req.outbox_id, "unknown", &e.to_string()).await?;
                return Err(delivery_unknown(
                    "LINE did not answer this reply; it may have arrived, so it is not sent again",
                ));
            }
            Err(e) => {
                let reason = line_reason(&e);
                settle(&relay, &req.outbox_id, "failed", &reason).await?;
                return Err(refusal_line(reason));
            }
        }
    }
    let (via, sent) = match outcome {
        Some(o) => o,
        None => match entry
            .client
            .push(&req.chat_id, messages.clone(), &req.outbox_id)
            .await
        {
            Ok(r) => (Via::Push, serde_json::to_value(r.sent_messages)),
            Err(e) if e.is_retryable() => {
                // Stays `sending`: the console asks again and the same retry key is used.
                tracing::info!(error = %e, outbox = %req.outbox_id, "push will be retried");
                return Err(Refusal::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::RateLimited,
                    "LINE did not accept the message yet; it will be tried again",
                ));
            }
            Err(e) => {
                let reason = line_reason(&e);
                settle(&relay, &req.outbox_id, "failed", &reason).await?;
                return Err(refusal_line(reason));
            }
        },
    };
    let sent = sent.map_err(Refusal::internal)?;
    let answer = record(&relay, &user, &req, via, reply_token, sent).await?;
    Ok(Json(answer))
}

/// Writes the sent message into the log and keeps the answer, in one transaction.
async fn record(
    relay: &Relay,
    user: &str,
    req: &SendRequest,
    via: Via,
    reply_token: Option<String>,
    sent: serde_json::Value,
) -> Result<SendAnswer, Refusal> {
    let now = relay.clock().now_ms();
    let event_id = format!("sent:{}", req.outbox_id);
    let event = json!({
        "type": "linedeskSent",
        "timestamp": now,
        "mode": "active",
        "source": {"type": "user", "userId": req.chat_id},
        "webhookEventId": event_id,
        "outboxId": req.outbox_id,
        "sentBy": user,
        "via": via,
        "replyToken": if via == Via::Reply { reply_token } else { None },
        "messages": req.messages,
        "sentMessages": sent,
    });
    let (channel, outbox) = (req.channel_id.clone(), req.outbox_id.clone());
    let sent_messages = sent.as_array().cloned().unwrap_or_default();
    relay
        .writer()
        .run(move |c| {
            let seqs = events::append(
                c,
                &channel,
                &[NewEvent {
                    webhook_event_id: Some(event_id.clone()),
                    event_type: "linedeskSent".into(),
                    event_ts: now,
                    body: event.to_string(),
                }],
                now,
            )?;
            let seq = match seqs.first() {
                Some(s) => *s,
                // Logged before (a crash between the log and the row): keep that one.
                None => store::logged_seq(c, &channel, &event_id)? as u64,
            };
            let answer = SendAnswer {
                outbox_id: outbox.clone(),
                via,
                sent_messages,
                sent_at: now,
                seq,
            };
            store::mark_sent(
                c,
                &outbox,
                via.as_str(),
                &serde_json::to_string(&answer).expect("answers serialize"),
                now,
            )?;
            Ok(answer)
        })
        .await
        .map_err(Refusal::internal)
}

/// Ends a send as `failed` or `unknown` with LINE's reason.
async fn settle(
    relay: &Relay,
    outbox: &str,
    state: &'static str,
    error: &str,
) -> Result<(), Refusal> {
    let (id, error) = (
        outbox.to_owned(),
        error.chars().take(500).collect::<String>(),
    );
    let now = relay.clock().now_ms();
    relay
        .writer()
        .run(move |c| store::settle(c, &id, state, &error, now))
        .await
        .map_err(Refusal::internal)
}

/// LINE's reason, in words for the representative.
fn line_reason(e: &ApiError) -> String {
    match e {
        ApiError::Status { body, .. } if e.is_monthly_limit() => {
            format!("LINE's monthly message limit is reached ({})", body.message)
        }
        ApiError::Status { status, body, .. } => {
            let details: Vec<String> = body
                .details
                .iter()
                .filter_map(|d| d.message.clone())
                .collect();
            if details.is_empty() {
                format!("LINE refused ({status}): {}", body.message)
            } else {
                format!(
                    "LINE refused ({status}): {} ({})",
                    body.message,
                    details.join("; ")
                )
            }
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays_alive_share_lines_limit_without_exceeding_it() {
        for relays in 1..=7u32 {
            let quota = share_of(relays);
            let per_second = 1_000_000_000 / quota.replenish_interval().as_nanos() as u32;
            assert!(
                per_second * relays <= LINE_REQUESTS_PER_SECOND,
                "{relays} relays at {per_second}/s each"
            );
            assert!(per_second * relays > LINE_REQUESTS_PER_SECOND * 9 / 10);
        }
        let sends = Sends::default();
        let alone = sends.limiter("c", 1);
        assert!(Arc::ptr_eq(&alone, &sends.limiter("c", 1)), "kept");
        assert!(
            !Arc::ptr_eq(&alone, &sends.limiter("c", 3)),
            "made again when the number of relays changes"
        );
    }
}
