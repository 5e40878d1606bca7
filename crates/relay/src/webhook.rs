//! `POST /line/{channel_id}/webhook`: LINE's webhook.
//!
//! | request | answer | stored |
//! |---|---|---|
//! | valid signature and body | 200 once durable | yes, once per `webhookEventId` |
//! | `events: []` (LINE's Verify) | 200 | nothing |
//! | missing or wrong signature | 401, counted per channel | nothing |
//! | unknown channel | 404 | nothing |
//! | channel an admin deleted | 410 | nothing |
//! | body over 1 MiB | 413 (by the body limit layer) | nothing |
//! | signed but malformed JSON | 400 | nothing |
//!
//! The signature is checked over the raw bytes before anything is parsed (REFERENCE.md Traps 1),
//! and required on every POST, Verify included (Traps 2). Parsing here is shallow: the event
//! objects are stored byte for byte; everything else happens off the request path.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::store::events::NewEvent;
use crate::Relay;

#[derive(Deserialize)]
struct Body<'a> {
    #[allow(dead_code)]
    destination: &'a str,
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct EventHead<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    timestamp: i64,
    #[serde(rename = "webhookEventId", default, borrow)]
    webhook_event_id: Option<Cow<'a, str>>,
}

/// Splits a verified body into events to log; `Err` carries a safe reason for a 400.
pub fn split_events(body: &[u8]) -> Result<Vec<NewEvent>, String> {
    let parsed: Body<'_> =
        serde_json::from_slice(body).map_err(|e| format!("malformed webhook body: {e}"))?;
    parsed
        .events
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let head: EventHead<'_> = serde_json::from_str(raw.get())
                .map_err(|e| format!("event {i} is not a LINE event object: {e}"))?;
            Ok(NewEvent {
                webhook_event_id: head.webhook_event_id.map(Cow::into_owned),
                event_type: head.kind.into_owned(),
                event_ts: head.timestamp,
                body: raw.get().to_owned(),
            })
        })
        .collect()
}

/// The webhook handler.
pub async fn receive(
    State(relay): State<Relay>,
    Path(channel_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if relay.registry().is_deleted(&channel_id) {
        return (
            StatusCode::GONE,
            "this LINE channel was removed from linedesk; remove the webhook URL in the LINE Developers Console",
        )
            .into_response();
    }
    let entry = match relay.registry().get(&channel_id) {
        Some(entry) => entry,
        None => {
            // A channel added a moment ago by the CLI: look once more before refusing.
            if relay.registry().may_reload_on_miss() {
                if let Err(e) = relay.reload_channels().await {
                    tracing::warn!(error = %e, "channel reload failed");
                }
            }
            match relay.registry().get(&channel_id) {
                Some(entry) => entry,
                None => return (StatusCode::NOT_FOUND, "unknown channel").into_response(),
            }
        }
    };
    if let Err(e) =
        linedesk_line::signature::verify_headers(entry.channel.secret.expose(), &body, &headers)
    {
        tracing::warn!(channel = %channel_id, reason = %e, "webhook refused");
        let id = channel_id.clone();
        let writer = relay.writer().clone();
        // Counted in the background: a flood of forgeries must not hold up real webhooks.
        tokio::spawn(async move {
            let now = crate::store::now_ms();
            if let Err(e) = writer
                .run(move |c| crate::store::channels::count_signature_failure(c, &id, now))
                .await
            {
                tracing::warn!(error = %e, "could not count a signature failure");
            }
        });
        return (StatusCode::UNAUTHORIZED, "invalid signature").into_response();
    }
    let events = match split_events(&body) {
        Ok(events) => events,
        Err(reason) => return (StatusCode::BAD_REQUEST, reason).into_response(),
    };
    if events.is_empty() {
        return StatusCode::OK.into_response();
    }
    match relay.writer().append(entry.id.clone(), events).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(channel = %channel_id, error = %e, "webhook not stored");
            (StatusCode::SERVICE_UNAVAILABLE, "not stored, retry").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_events_keeping_their_bytes() {
        let body = br#"{"destination":"U1","events":[{"type":"message","timestamp":5,"webhookEventId":"01A","x":"\ud83d\ude04"}]}"#;
        let events = split_events(body).expect("valid");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].webhook_event_id.as_deref(), Some("01A"));
        assert_eq!(events[0].event_ts, 5);
        assert!(
            events[0].body.contains(r"\ud83d\ude04"),
            "escapes kept byte for byte"
        );
    }

    #[test]
    fn refuses_bodies_that_are_not_webhooks() {
        assert!(split_events(b"not json").is_err());
        assert!(
            split_events(br#"{"destination":"U1"}"#).is_err(),
            "events required"
        );
        assert!(
            split_events(br#"{"destination":"U1","events":[42]}"#).is_err(),
            "events are objects"
        );
        assert!(
            split_events(br#"{"destination":"U1","events":[{"timestamp":1}]}"#).is_err(),
            "type required"
        );
    }
}
