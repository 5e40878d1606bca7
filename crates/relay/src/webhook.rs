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
//! | signed batch with one event that is not a LINE event object | 200 | the others as usual; that one byte for byte as type `malformed` (once) |
//! | signed, but `destination` is not the channel's bot (when its ID is known) | 400 | nothing |
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
    #[serde(borrow)]
    destination: Cow<'a, str>,
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

/// Signature failures not yet written, per channel: (how many, the last one's time).
#[derive(Default)]
pub struct Forgeries {
    pending: std::sync::Mutex<std::collections::HashMap<String, (u64, i64)>>,
}

/// How often counted signature failures are written.
const FORGERY_FLUSH: std::time::Duration = std::time::Duration::from_millis(250);

impl Forgeries {
    /// Counts one refused signature.
    pub fn count(&self, channel: &str, at: i64) {
        let mut pending = self.pending.lock().expect("forgeries lock");
        // A flood of made-up channel paths is answered 404 before this; only served
        // channels are counted, so the map stays as small as the channel list.
        let entry = pending.entry(channel.to_owned()).or_insert((0, at));
        entry.0 += 1;
        entry.1 = entry.1.max(at);
    }

    fn take(&self) -> std::collections::HashMap<String, (u64, i64)> {
        std::mem::take(&mut *self.pending.lock().expect("forgeries lock"))
    }
}

/// Writes counted signature failures until shutdown (and once more at the end).
pub async fn flush_forgeries(relay: Relay) {
    let mut stop = relay.shutdown_signal();
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(FORGERY_FLUSH) => false,
            _ = stop.changed() => true,
        };
        let counts = relay.forgeries().take();
        if !counts.is_empty() {
            let refused: u64 = counts.values().map(|(n, _)| n).sum();
            let written = relay
                .writer()
                .run(move |c| {
                    for (channel, (n, last_at)) in &counts {
                        crate::store::channels::count_signature_failures(c, channel, *n, *last_at)?;
                    }
                    Ok(counts.len())
                })
                .await;
            match written {
                Ok(channels) => {
                    tracing::warn!(refused, channels, "webhooks with a bad signature refused")
                }
                Err(e) => tracing::warn!(error = %e, "could not count signature failures"),
            }
        }
        if stopping {
            return;
        }
    }
}

/// The type a signed event that is not a LINE event object is logged under.
pub const MALFORMED_EVENT: &str = "malformed";

/// Splits a verified body into events to log; `Err` carries a safe reason for a 400.
///
/// One oddly shaped event must not cost its neighbours: LINE would redeliver the whole batch,
/// and refuse it again, forever. It is kept byte for byte as [`MALFORMED_EVENT`], keyed by the
/// hash of its bytes so a redelivery stores it once; readers skip what they do not know.
pub fn split_events(body: &[u8]) -> Result<Vec<NewEvent>, String> {
    split(body).map(|(_, events)| events)
}

/// Whether JSON text is an object (its first non-blank byte is `{`).
fn is_object(text: &[u8]) -> bool {
    text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// The body's `destination` (the bot's user ID) and its events.
fn split(body: &[u8]) -> Result<(String, Vec<NewEvent>), String> {
    // serde's derived structs also take arrays by position; LINE only sends objects.
    if !is_object(body) {
        return Err("malformed webhook body: not a JSON object".into());
    }
    let parsed: Body<'_> =
        serde_json::from_slice(body).map_err(|e| format!("malformed webhook body: {e}"))?;
    let destination = parsed.destination.clone().into_owned();
    let events = parsed
        .events
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let head = if is_object(raw.get().as_bytes()) {
                serde_json::from_str::<EventHead<'_>>(raw.get()).map_err(|e| e.to_string())
            } else {
                Err("not a JSON object".to_owned())
            };
            (i, raw, head)
        })
        .map(|(i, raw, head)| match head {
            Ok(head) => NewEvent {
                webhook_event_id: head.webhook_event_id.map(Cow::into_owned),
                event_type: head.kind.into_owned(),
                event_ts: head.timestamp,
                body: raw.get().to_owned(),
            },
            Err(e) => {
                use sha2::Digest as _;
                tracing::warn!(index = i, error = %e, "a webhook event is not a LINE event object; kept as malformed");
                let hash = sha2::Sha256::digest(raw.get().as_bytes());
                NewEvent {
                    webhook_event_id: Some(format!(
                        "{MALFORMED_EVENT}:{}",
                        hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
                    )),
                    event_type: MALFORMED_EVENT.into(),
                    event_ts: 0,
                    body: raw.get().to_owned(),
                }
            }
        })
        .collect();
    Ok((destination, events))
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
        tracing::debug!(channel = %channel_id, reason = %e, "webhook refused");
        // Counted in memory and written a few times a second in one job: a flood of
        // forgeries adds no work to the writer per request, so real webhooks do not wait.
        relay.forgeries().count(&channel_id, crate::store::now_ms());
        return (StatusCode::UNAUTHORIZED, "invalid signature").into_response();
    }
    let events = match split(&body) {
        Ok((destination, events)) => {
            // LINE names the bot the webhook is for; a body for another bot is not this
            // channel's, whatever its signature (checked when the bot's ID is known).
            if relay
                .registry()
                .bot_of(&channel_id)
                .is_some_and(|bot| bot != destination)
            {
                tracing::warn!(channel = %channel_id, "webhook for another bot refused");
                return (
                    StatusCode::BAD_REQUEST,
                    "destination is not this channel's bot",
                )
                    .into_response();
            }
            events
        }
        Err(reason) => return (StatusCode::BAD_REQUEST, reason).into_response(),
    };
    if events.is_empty() {
        return StatusCode::OK.into_response();
    }
    // The events own their bytes now. The body is a view into the connection's read buffer:
    // held across the commit, it keeps hyper from reusing that buffer, and every request
    // then costs a fresh 8 KiB allocation (glibc's slow path: a fifth of ingest's allocator
    // time in `perf`).
    drop((body, headers));
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
        // serde's derived structs would take these by position; LINE never sends them.
        assert!(
            split_events(br#"["U1",[]]"#).is_err(),
            "a body is an object"
        );
        let events = split_events(br#"{"destination":"U1","events":[["follow",1]]}"#)
            .expect("the batch is taken");
        assert_eq!(
            events[0].event_type, MALFORMED_EVENT,
            "an event is an object"
        );
    }

    #[test]
    fn an_odd_event_is_kept_flagged_and_its_neighbours_go_on() {
        let body = br#"{"destination":"U1","events":[{"type":"follow","webhookEventId":"01A"},42,{"timestamp":1},{"type":"unfollow","webhookEventId":"01B"}]}"#;
        let events = split_events(body).expect("the batch is taken");
        let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            kinds,
            ["follow", MALFORMED_EVENT, MALFORMED_EVENT, "unfollow"]
        );
        assert_eq!(events[1].body, "42", "kept byte for byte");
        assert_ne!(
            events[1].webhook_event_id, events[2].webhook_event_id,
            "keyed by their bytes"
        );
        assert_eq!(
            split_events(body).expect("again")[2].webhook_event_id,
            events[2].webhook_event_id,
            "a redelivery stores it once"
        );
    }
}
