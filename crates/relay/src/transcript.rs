//! What consoles send, made visible to everyone: the channel token a console sends with, and
//! the transcript report after LINE accepted a message.
//!
//! - `POST /api/channels/{id}/token`: a stateless channel access token (15 minutes, LINE
//!   `POST /oauth2/v3/token`), so long-lived secrets never reach a representative's machine.
//!   The relay reuses one until two minutes before it expires.
//! - `POST /api/transcript`: a console reports a message LINE accepted. The report is stored
//!   once per outbox id and appended to the event log as a `linedeskSent` event, so every
//!   console (supervisors, the next representative) sees it in order with the customer's
//!   messages.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use linedesk_line::api::LineClient;
use linedesk_line::Secret;
use linedesk_protocol::{ChannelToken, ErrorCode, TranscriptReport};
use rusqlite::params;

use crate::auth::{internal, refuse, Caller};
use crate::store::events::NewEvent;
use crate::Relay;

/// A token issued for a channel: the token, when to stop reusing it, and its expiry (UTC ms).
type Issued = (Secret<String>, Instant, i64);

/// Issued tokens by channel, reused until shortly before expiry.
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<String, Issued>>,
}

const REUSE_MARGIN: Duration = Duration::from_secs(120);

/// `POST /api/channels/{id}/token`.
pub async fn channel_token(
    State(relay): State<Relay>,
    _caller: Caller,
    Path(channel_id): Path<String>,
) -> Response {
    let Some(entry) = relay.registry().get(&channel_id) else {
        return refuse(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no such channel",
        );
    };
    let cached = relay
        .tokens()
        .tokens
        .lock()
        .expect("token lock")
        .get(&channel_id)
        .cloned();
    let (token, expires_at) = match cached {
        Some((token, valid_until, expires_at)) if Instant::now() + REUSE_MARGIN < valid_until => {
            (token, expires_at)
        }
        _ => {
            let issued = LineClient::issue_stateless_token(
                relay.registry().http(),
                entry.client.endpoints(),
                &entry.channel.id,
                &entry.channel.secret,
            )
            .await;
            let token = match issued {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(channel = %channel_id, error = %e, "could not issue a channel token");
                    return refuse(
                        StatusCode::BAD_GATEWAY,
                        ErrorCode::Internal,
                        "LINE did not issue a channel token; try again",
                    );
                }
            };
            // LINE's stateless tokens last 900 s.
            let lifetime = Duration::from_secs(900);
            let expires_at = crate::store::now_ms() + lifetime.as_millis() as i64;
            relay.tokens().tokens.lock().expect("token lock").insert(
                channel_id.clone(),
                (token.clone(), Instant::now() + lifetime, expires_at),
            );
            (token, expires_at)
        }
    };
    Json(ChannelToken {
        channel_id,
        access_token: token.expose().clone(),
        expires_at,
        api_base: entry.channel.api_base.clone(),
        api_data_base: entry.channel.api_data_base.clone(),
    })
    .into_response()
}

/// `POST /api/transcript`.
pub async fn report(
    State(relay): State<Relay>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Response {
    let Ok(report) = serde_json::from_slice::<TranscriptReport>(&body) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "malformed transcript report",
        );
    };
    if report.outbox_id.len() > 64 || report.messages.is_empty() || report.messages.len() > 5 {
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "outbox id or messages out of range",
        );
    }
    let Some(entry) = relay.registry().get(&report.channel_id) else {
        return refuse(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no such channel",
        );
    };
    let event = serde_json::json!({
        "type": "linedeskSent",
        "timestamp": report.sent_at,
        "mode": "active",
        "source": {"type": "user", "userId": report.chat_id},
        "webhookEventId": format!("sent:{}", report.outbox_id),
        "outboxId": report.outbox_id,
        "sentBy": caller.session.user.name,
        "via": report.via,
        "messages": report.messages,
        "sentMessages": report.sent_messages,
    });
    let new_event = NewEvent {
        webhook_event_id: Some(format!("sent:{}", report.outbox_id)),
        event_type: "linedeskSent".into(),
        event_ts: report.sent_at,
        body: event.to_string(),
    };
    // The log's de-duplication makes a repeated report a no-op.
    match relay
        .writer()
        .append(entry.id.clone(), vec![new_event])
        .await
    {
        Ok(_) => {}
        Err(e) => return internal(e),
    }
    let user_id = caller.session.user.id;
    let stored = relay
        .writer()
        .run(move |c| {
            let seq: i64 = c.query_row(
                "SELECT seq FROM events WHERE channel_id = ?1 AND webhook_event_id = ?2",
                params![report.channel_id, format!("sent:{}", report.outbox_id)],
                |r| r.get(0),
            )?;
            c.execute(
                "INSERT OR IGNORE INTO sent_messages (outbox_id, channel_id, chat_id, user_id, via, messages, line_ids, sent_at, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    report.outbox_id,
                    report.channel_id,
                    report.chat_id,
                    user_id,
                    report.via.as_str(),
                    serde_json::to_string(&report.messages).unwrap_or_default(),
                    serde_json::to_string(&report.sent_messages).unwrap_or_default(),
                    report.sent_at,
                    seq
                ],
            )?;
            Ok(seq)
        })
        .await;
    match stored {
        Ok(seq) => Json(serde_json::json!({"seq": seq})).into_response(),
        Err(e) => internal(e),
    }
}
