//! Sends the automated messages routing queued (greeting, assigned, out of hours, closed,
//! survey …): the reply API while the event's reply token is fresh (free), push otherwise
//! with `X-Line-Retry-Key` = the row's id, so a crash or timeout never sends one twice.
//! Each message LINE accepted is logged as a `linedeskSent` event, so consoles show it in
//! the timeline and know the reply token is spent.

use std::time::Duration;

use linedesk_line::api::ApiError;
use linedesk_line::send::Message;
use serde_json::json;

use crate::store::automated::{self as store, Pending};
use crate::store::events::{self, NewEvent};
use crate::Relay;

/// Give up on a message after this many failed attempts.
const MAX_ATTEMPTS: i64 = 8;

/// Sends what is due, until shutdown; woken by routing after it queued something.
pub async fn run(relay: Relay, wake: std::sync::Arc<tokio::sync::Notify>) {
    let mut stop = relay.shutdown_signal();
    loop {
        if let Err(e) = send_due(&relay).await {
            tracing::warn!(error = %e, "automated messages: could not send");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Sends every pending message that is due; returns how many were sent.
pub async fn send_due(relay: &Relay) -> anyhow::Result<usize> {
    let _one_sender = relay.routing().sending.lock().await;
    let now = relay.clock().now_ms();
    let due: Vec<Pending> = relay.read(move |c| store::due(c, now)).await?;
    let mut sent = 0;
    for p in due {
        if send_one(relay, p).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

async fn send_one(relay: &Relay, p: Pending) -> anyhow::Result<bool> {
    let Some(entry) = relay.registry().get(&p.channel_id) else {
        fail(relay, &p.id, "the channel was removed", None).await?;
        return Ok(false);
    };
    // A representative's "send later" goes only while it still waits (not called off) and she
    // may still write in that conversation (not ended, closed or handed over, not removed).
    if p.trigger == store::LATER {
        let (id, conv, channel, chat) = (
            p.id.clone(),
            p.conversation_id.clone(),
            p.channel_id.clone(),
            p.chat_id.clone(),
        );
        let user = p.sent_by.clone().unwrap_or_default();
        let go = relay
            .read(move |c| {
                Ok(store::still_pending(c, &id)?
                    && crate::access::may_write(c, &user, &channel, &chat)?
                        .is_ok_and(|live| live == conv))
            })
            .await?;
        if !go {
            fail(
                relay,
                &p.id,
                "its writer no longer has the conversation",
                None,
            )
            .await?;
            return Ok(false);
        }
    }
    let messages: Vec<Message> = serde_json::from_str(&p.messages)?;
    let now = relay.clock().now_ms();
    let fresh = p.attempts == 0
        && p.reply_token_at
            .is_some_and(|at| now - at < super::engine::REPLY_TOKEN_FRESH_MS);
    let mut outcome = None;
    if let (true, Some(token)) = (fresh, &p.reply_token) {
        match entry.client.reply(token, messages.clone()).await {
            Ok(r) => outcome = Some(("reply", serde_json::to_value(r.sent_messages)?)),
            // Spent by a representative first, or expired: push instead.
            Err(ApiError::Status { status: 400, .. }) => {}
            Err(e)
                if matches!(e, ApiError::Transport { .. })
                    || e.status().is_some_and(|s| s >= 500) =>
            {
                // It may have arrived: never re-sent blindly.
                fail(relay, &p.id, &format!("delivery unknown: {e}"), None).await?;
                return Ok(false);
            }
            Err(e) => {
                fail(relay, &p.id, &e.to_string(), None).await?;
                return Ok(false);
            }
        }
    }
    if outcome.is_none() {
        match entry.client.push(&p.chat_id, messages.clone(), &p.id).await {
            Ok(r) => outcome = Some(("push", serde_json::to_value(r.sent_messages)?)),
            Err(e) if e.is_retryable() && p.attempts + 1 < MAX_ATTEMPTS => {
                let backoff = 1_000 * (1_i64 << p.attempts.min(8));
                fail(relay, &p.id, &e.to_string(), Some(now + backoff)).await?;
                return Ok(false);
            }
            Err(e) => {
                fail(relay, &p.id, &e.to_string(), None).await?;
                return Ok(false);
            }
        }
    }
    let Some((via, sent_messages)) = outcome else {
        return Ok(false);
    };
    let event_id = format!("sent:{}", p.id);
    let event = json!({
        "type": "linedeskSent", "timestamp": now, "mode": "active",
        "source": {"type": "user", "userId": p.chat_id},
        "webhookEventId": event_id, "outboxId": p.id, "sentBy": p.sent_by,
        // A representative's "send later" message is hers, not the relay's.
        "automated": (p.trigger != store::LATER).then_some(&p.trigger), "via": via, "replyToken": if via == "reply" { p.reply_token.clone() } else { None },
        "messages": messages, "sentMessages": sent_messages,
    });
    let (id, channel) = (p.id.clone(), p.channel_id.clone());
    relay
        .writer()
        .run(move |c| {
            if !store::mark_sent(c, &id, via, now)? {
                // Erased with its customer while it went: nothing of it comes back to the log.
                return Ok(());
            }
            events::append(
                c,
                &channel,
                &[NewEvent {
                    webhook_event_id: Some(event_id),
                    event_type: "linedeskSent".into(),
                    event_ts: now,
                    body: event.to_string(),
                }],
                now,
            )?;
            Ok(())
        })
        .await?;
    Ok(true)
}

/// Records a failure: try again at `retry_at`, or give up (`None`).
async fn fail(relay: &Relay, id: &str, error: &str, retry_at: Option<i64>) -> anyhow::Result<()> {
    tracing::warn!(
        id,
        error,
        retrying = retry_at.is_some(),
        "automated message not sent"
    );
    let (id, error) = (id.to_owned(), error.chars().take(500).collect::<String>());
    relay
        .writer()
        .run(move |c| store::record_failure(c, &id, &error, retry_at))
        .await?;
    Ok(())
}
