//! Per-contact export (JSON with messages and media) and erasure (messages, media, profile,
//! routing history and the contact removed; one audit stub kept).
//!
//! Erasure refuses while a conversation of the contact is still open, so no representative
//! loses a conversation under their hands. The database runs with `secure_delete`, and the
//! WAL is truncated afterwards, so the erased text does not linger in free pages or old WAL
//! frames; media files no other record uses are deleted from the media store.

use std::collections::BTreeSet;

use crate::store::sql::Db;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::policy::{Refusal, RoleSet, Supervising};
use crate::routing::engine::EngineError;
use crate::routing::Routing;
use crate::store::erasure;
use crate::store::events::NewEvent;
use crate::store::identity as store;
use crate::Relay;

pub use linedesk_protocol::identity::{chat_hash, ERASED_EVENT};
use linedesk_protocol::Reason;

/// What the relay holds of one LINE profile.
#[derive(Debug, Default)]
pub struct Held {
    /// Log events (seq, type, body).
    pub events: Vec<(i64, String, String)>,
    /// Customer media: message ID and file hash.
    pub media: Vec<(String, Option<String>)>,
    /// Upload tokens of files sent to the customer, and their file hashes.
    pub uploads: Vec<(String, Vec<String>)>,
}

/// Profiles scanned on a reader up to a log position, by channel and user.
type Scanned = std::collections::HashMap<(String, String), Vec<(i64, String, String)>>;

/// Scans every profile linked to `contact` on a reader; answers the scans and the log head
/// they are complete up to.
async fn prescan(relay: &Relay, contact: i64) -> anyhow::Result<(Scanned, i64)> {
    let head = *relay.log_head().borrow() as i64;
    relay
        .read(move |c| {
            let mut out = Scanned::new();
            if let Some(found) = store::get(c, contact)? {
                for l in found.links {
                    let events = erasure::scan_events(c, &l.channel_id, &l.user_id, 0)?;
                    out.insert((l.channel_id, l.user_id), events);
                }
            }
            Ok((out, head))
        })
        .await
}

/// Everything held of a profile: `events` (from a prescan) completed with those after `head`.
pub fn held(
    conn: Db<'_>,
    channel: &str,
    user: &str,
    scanned: Option<&Scanned>,
    head: i64,
) -> Result<Held, crate::store::StoreError> {
    let events = match scanned.and_then(|s| s.get(&(channel.to_owned(), user.to_owned()))) {
        Some(before) => {
            let mut all: Vec<(i64, String, String)> =
                before.iter().filter(|e| e.0 <= head).cloned().collect();
            all.extend(erasure::scan_events(conn, channel, user, head)?);
            all
        }
        None => erasure::scan_events(conn, channel, user, 0)?,
    };
    let mut media = Vec::new();
    let mut tokens = BTreeSet::new();
    for (_, kind, body) in &events {
        let Ok(v) = serde_json::from_str::<Value>(body) else {
            continue;
        };
        if kind == "message" {
            if let Some(id) = v["message"]["id"].as_str() {
                if let Some(sha) = erasure::media_file(conn, channel, id)? {
                    media.push((id.to_owned(), sha));
                }
            }
        }
        if kind == "linedeskSent" {
            // Files sent to the customer are hosted at /o/{token}[/…]; find every token.
            for part in body.split("/o/").skip(1) {
                let token: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                if token.len() >= 40 {
                    tokens.insert(token);
                }
            }
        }
    }
    let mut uploads = Vec::new();
    for token in tokens {
        if let Some((sha, preview)) = erasure::upload_files(conn, &token)? {
            uploads.push((token, std::iter::once(sha).chain(preview).collect()));
        }
    }
    Ok(Held {
        events,
        media,
        uploads,
    })
}

/// `GET /api/contacts/{id}/export` (supervisor, admin): the contact, its audit, and for every
/// linked profile its profile, conversations and every logged event (messages in and out),
/// with the media bytes in Base64. Audited.
pub async fn export(
    axum::extract::State(relay): axum::extract::State<Relay>,
    Supervising(caller): Supervising,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<impl IntoResponse, Refusal> {
    super::check_contact(&relay, &caller, id).await?;
    let actor = caller.session.user.name.clone();
    // Read on a reader (a long scan must not hold up webhooks), then audit.
    let (summary, profiles) = relay
        .read(move |conn| {
            let summary = match super::summary(conn, id) {
                Ok(s) => s,
                Err(EngineError::Db(e)) => return Err(e),
                Err(e) => return Ok(Err(e)),
            };
            let mut profiles = Vec::new();
            for l in &summary.contact.links {
                let h = held(conn, &l.channel_id, &l.user_id, None, 0)?;
                profiles.push((l.channel_id.clone(), l.user_id.clone(), h));
            }
            Ok(Ok((summary, profiles)))
        })
        .await??;
    relay
        .writer()
        .run(move |c| {
            store::audit(
                c,
                crate::store::now_ms(),
                &actor,
                "export",
                Some(id),
                None,
                None,
                None,
            )
        })
        .await
        .map_err(Refusal::internal)?;
    let mut out_profiles = Vec::new();
    for (channel, user, h) in profiles {
        let mut media = Vec::new();
        for (message_id, sha) in &h.media {
            let bytes = match sha {
                Some(sha) if crate::media::ensure_local(&relay, sha).await => {
                    tokio::fs::read(relay.media().path_of(sha)).await.ok()
                }
                Some(_) => None,
                None => None,
            };
            media.push(
                json!({"messageId": message_id, "base64": bytes.map(|b| STANDARD.encode(b))}),
            );
        }
        for (token, shas) in &h.uploads {
            let bytes = if crate::media::ensure_local(&relay, &shas[0]).await {
                tokio::fs::read(relay.media().path_of(&shas[0])).await.ok()
            } else {
                None
            };
            media.push(json!({"uploadToken": token, "base64": bytes.map(|b| STANDARD.encode(b))}));
        }
        let events: Vec<Value> = h
            .events
            .iter()
            .filter_map(|(_, _, body)| serde_json::from_str(body).ok())
            .collect();
        out_profiles.push(json!({
            "channelId": channel, "userId": user, "events": events, "media": media,
        }));
    }
    let doc = json!({
        "exportedAt": crate::store::now_ms(),
        "exportedBy": caller.session.user.name,
        "contact": summary.contact,
        "conversations": summary.conversations,
        "audit": summary.audit,
        "profiles": out_profiles,
    });
    Ok((
        [(
            axum::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"contact-{id}.json\""),
        )],
        Json(doc),
    ))
}

fn delete_profile(
    conn: Db<'_>,
    channel: &str,
    user: &str,
    h: &Held,
) -> Result<(), crate::store::StoreError> {
    for (seq, _, _) in &h.events {
        erasure::delete_event(conn, *seq)?;
    }
    for (message_id, _) in &h.media {
        erasure::delete_media(conn, channel, message_id)?;
    }
    for (token, _) in &h.uploads {
        erasure::delete_upload(conn, token)?;
    }
    for id in &erasure::chat_conversations(conn, channel, user)? {
        erasure::delete_conversation(conn, id)?;
    }
    erasure::delete_chat(conn, channel, user)
}

/// Whether any remaining record still uses a media file (media retention asks too).
pub(crate) use crate::store::erasure::file_in_use;

/// `POST /api/contacts/{id}/erase` (supervisor, admin). Reached through
/// [`super::link`], which admits anyone signed in, so the role is checked here.
pub async fn erase(relay: Relay, caller: Caller, id: i64) -> Result<impl IntoResponse, Refusal> {
    caller.require(Supervising::ROLES)?;
    super::check_contact(&relay, &caller, id).await?;
    let actor = caller.session.user.name.clone();
    let (scanned, head) = prescan(&relay, id).await?;
    let erasures = relay.erasures().clone();
    let (messages, unused, erased_chats) = Routing::decide(&relay, move |tx| {
        let conn = tx.conn();
        let contact =
            store::get(conn, id)?.ok_or_else(|| EngineError::not_found(Reason::NoSuchContact))?;
        for l in &contact.links {
            if erasure::has_open_conversation(conn, &l.channel_id, &l.user_id)? {
                return Err(EngineError::conflict(Reason::OpenConversations));
            }
        }
        let mut files = BTreeSet::new();
        let mut erased_chats = Vec::new();
        let (mut messages, mut n_files) = (0usize, 0usize);
        for l in &contact.links {
            let h = held(conn, &l.channel_id, &l.user_id, Some(&scanned), head)?;
            messages += h
                .events
                .iter()
                .filter(|e| e.1 == "message" || e.1 == "linedeskSent")
                .count();
            files.extend(h.media.iter().filter_map(|m| m.1.clone()));
            files.extend(h.uploads.iter().flat_map(|u| u.1.iter().cloned()));
            n_files += h.media.len() + h.uploads.len();
            let avatar = crate::pictures::avatar_key(&l.channel_id, &l.user_id);
            if let Some(sha) = crate::store::pictures::remove(conn, &avatar)? {
                files.insert(sha);
                n_files += 1;
            }
            delete_profile(conn, &l.channel_id, &l.user_id, &h)?;
            erasures.erased(&l.channel_id, &l.user_id);
            erased_chats.push((l.channel_id.clone(), l.user_id.clone()));
            let event = json!({
                "type": ERASED_EVENT, "timestamp": tx.now(), "mode": "active",
                "chatHash": chat_hash(&l.channel_id, &l.user_id),
            });
            crate::store::events::append(
                conn,
                &l.channel_id,
                &[NewEvent {
                    webhook_event_id: None,
                    event_type: ERASED_EVENT.into(),
                    event_ts: tx.now(),
                    body: event.to_string(),
                }],
                tx.now(),
            )?;
        }
        erasure::delete_contact(conn, id)?;
        store::audit(
            conn,
            tx.now(),
            &actor,
            "erase",
            Some(id),
            None,
            None,
            Some(&format!(
                "erased: {messages} messages, {n_files} files, {} LINE profiles",
                contact.links.len()
            )),
        )?;
        let mut unused = Vec::new();
        for sha in files {
            if !file_in_use(conn, &sha)? {
                unused.push(sha);
            }
        }
        Ok((messages, unused, erased_chats))
    })
    .await?;
    // The log no longer has them; neither may the consoles' shared tail.
    for (channel, chat) in &erased_chats {
        relay.writer().fresh().forget_chat(channel, chat);
        relay.tail().forget_chat(channel, chat);
    }
    for sha in &unused {
        crate::media::forget(&relay, sha).await;
    }
    match relay.database() {
        crate::store::Database::Sqlite(_) => truncate_wal(&relay).await?,
        crate::store::Database::Postgres(_) => relay.read(|c| erasure::vacuum(c)).await?,
    }
    Ok((
        StatusCode::OK,
        Json(linedesk_protocol::identity::Erased {
            erased: id,
            messages: messages as u64,
            files: unused.len() as u64,
        }),
    ))
}

/// Copies the WAL into the database and truncates it, so erased rows leave no old frames.
/// The writer does it between two batches; readers inside the WAL put it off a moment.
async fn truncate_wal(relay: &Relay) -> anyhow::Result<()> {
    for _ in 0..50 {
        if relay.writer().truncate_wal().await? {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    anyhow::bail!("the WAL could not be truncated after an erasure")
}

#[cfg(test)]
mod tests {
    #[test]
    fn chat_hash_names_no_one() {
        let h = super::chat_hash("1650000000", "U1234");
        assert_eq!(h.len(), 64);
        assert!(!h.contains("U1234"));
    }
}
