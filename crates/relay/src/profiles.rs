//! LINE profiles of customers, fetched when they first appear in the log and again after a
//! day, and published to consoles as `linedeskProfile` events in the log.
//!
//! A profile event's ID is derived from its content, so an unchanged profile is logged once
//! and a changed name or picture reaches every console in order with the messages.

use std::time::Duration;

use linedesk_line::api::ApiError;
use sha2::{Digest, Sha256};

use crate::store::{self, events::NewEvent};
use crate::Relay;

/// Profiles older than this are fetched again.
const REFRESH_AFTER_MS: i64 = 24 * 3_600_000;

/// The user ID in an event's `source`, if any.
pub fn source_user(body: &str) -> Option<String> {
    crate::glance::Glance::of(body).user().map(str::to_owned)
}

/// Whether the profile of `user_id` needs fetching.
pub async fn is_stale(relay: &Relay, channel_id: &str, user_id: &str) -> anyhow::Result<bool> {
    let (c, u) = (channel_id.to_owned(), user_id.to_owned());
    let fetched: Option<i64> = relay
        .read(move |conn| store::profiles::fetched_at(conn, &c, &u))
        .await?;
    Ok(fetched.is_none_or(|at| store::now_ms() - at > REFRESH_AFTER_MS))
}

/// Fetches one profile and records it (and a log event when it changed). A customer erased
/// while the fetch was under way stays erased: the answer is dropped.
pub async fn refresh(relay: &Relay, channel_id: &str, user_id: &str) {
    let Some(entry) = relay.registry().get(channel_id) else {
        return;
    };
    let ticket = relay.erasures().ticket();
    let now = store::now_ms();
    let profile =
        match tokio::time::timeout(Duration::from_secs(30), entry.client.profile(user_id)).await {
            Ok(Ok(p)) => Some(p),
            // 404: blocked, not a friend, or no consent. Remember, so we do not ask on every message.
            Ok(Err(ApiError::Status { status: 404, .. })) => None,
            Ok(Err(e)) => {
                tracing::warn!(channel = channel_id, error = %e, "profile fetch failed");
                return;
            }
            Err(_) => return,
        };
    let (name, picture, language) = match &profile {
        Some(p) => (
            Some(p.display_name.clone()),
            p.picture_url.clone(),
            p.language.clone(),
        ),
        None => (None, None, None),
    };
    let known = profile.is_some();
    let event = profile.map(|p| {
        let profile_json = serde_json::json!({
            "displayName": p.display_name, "pictureUrl": p.picture_url, "language": p.language,
            "statusMessage": p.status_message,
        });
        let digest: String = Sha256::digest(profile_json.to_string().as_bytes())[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let id = format!("profile:{user_id}:{digest}");
        let event = serde_json::json!({
            "type": "linedeskProfile", "timestamp": now, "mode": "active",
            "source": {"type": "user", "userId": user_id},
            "webhookEventId": id, "profile": profile_json,
        });
        NewEvent {
            webhook_event_id: Some(id),
            event_type: "linedeskProfile".into(),
            event_ts: now,
            body: event.to_string(),
        }
    });
    let (c, u) = (entry.id.to_string(), user_id.to_owned());
    let erasures = relay.erasures().clone();
    let pictures = relay.pictures().clone();
    // The row and its event in one write, on the writer thread that also runs erasures.
    let saved = relay
        .writer()
        .run(move |conn| {
            if erasures.since(&c, &u, ticket) {
                return Ok(None);
            }
            // LINE's 404 says nothing about the picture: keep what was fetched before.
            let replaced = if known {
                crate::pictures::profile_picture_change(
                    conn,
                    &pictures,
                    &c,
                    &u,
                    picture.as_deref(),
                )?
            } else {
                None
            };
            store::profiles::upsert(
                conn,
                &c,
                &u,
                &store::profiles::Fetched {
                    display_name: name.as_deref(),
                    picture_url: picture.as_deref(),
                    language: language.as_deref(),
                },
                now,
            )?;
            if let Some(event) = &event {
                store::events::append(conn, &c, std::slice::from_ref(event), now)?;
            }
            Ok(Some(replaced))
        })
        .await;
    match saved {
        Ok(Some(replaced)) => {
            if let Some(sha) = replaced {
                crate::media::forget(relay, &sha).await;
            }
            if let Err(e) = crate::pictures::start_fetches(relay).await {
                tracing::warn!(error = %e, "could not start fetching a profile picture");
            }
        }
        Ok(None) => tracing::info!(
            channel = channel_id,
            "profile of an erased customer dropped"
        ),
        Err(e) => tracing::warn!(error = %e, "could not store profile"),
    }
}
