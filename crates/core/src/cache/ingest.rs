//! Turning relay log events into conversations and messages.
//!
//! Idempotent: a frame at or below the stored cursor is skipped, and `messages.seq` is unique,
//! so a replay after a crash changes nothing. The cursor moves in the same transaction as the
//! rows, so the cache never claims an event it did not store.

use linedesk_line::webhook::{Event, EventBody, MessageContent};
use linedesk_protocol::identity::ERASED_EVENT;
use linedesk_protocol::routing::{
    AgentSnapshot, ConversationSnapshot, AGENT_EVENT, BREACH_EVENT, CONVERSATION_EVENT, NOTE_EVENT,
    REMINDER_EVENT,
};
use linedesk_protocol::EventFrame;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::Value;

use super::{search, Cache, CacheError};

/// What a batch changed, for the UI.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Conversations whose list entry changed.
    pub conversations: Vec<i64>,
    /// Customer messages that arrived, in order.
    pub inbound: Vec<crate::notify::Inbound>,
    /// Highest sequence stored.
    pub cursor: u64,
    /// Routing snapshots that carry a new offer (for the request notification).
    pub offers: Vec<(i64, ConversationSnapshot)>,
    /// A representative's presence or load changed.
    pub agents_changed: bool,
    /// Conversations that waited past their queue's service-level target.
    pub breaches: Vec<crate::notify::Breach>,
    /// Reminders that came due (for whomever they remind).
    pub reminders: Vec<crate::notify::Reminder>,
}

/// What one frame changed besides its conversation.
#[derive(Default)]
struct Side {
    inbound: Vec<crate::notify::Inbound>,
    offers: Vec<(i64, ConversationSnapshot)>,
    agents_changed: bool,
    breaches: Vec<crate::notify::Breach>,
    reminders: Vec<crate::notify::Reminder>,
    /// A customer was erased: old WAL frames must not keep their messages.
    erased: bool,
}

impl Cache {
    /// Stores frames from the relay in one transaction and moves the cursor.
    pub fn apply(&self, frames: &[EventFrame]) -> Result<Applied, CacheError> {
        let mut conn = self.w();
        let tx = conn.transaction()?;
        let mut cursor: u64 = tx
            .query_row("SELECT value FROM meta WHERE key = 'cursor'", [], |r| {
                r.get::<_, String>(0)
            })
            .optional()?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut touched = Vec::new();
        let mut side = Side::default();
        for frame in frames {
            if frame.seq <= cursor {
                continue;
            }
            if let Some(id) = apply_one(&tx, frame, &mut side)? {
                if !touched.contains(&id) {
                    touched.push(id);
                }
            }
            cursor = frame.seq;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('cursor', ?1) ON CONFLICT (key) DO UPDATE SET value = ?1",
            [cursor.to_string()],
        )?;
        tx.commit()?;
        if side.erased {
            truncate_wal(&conn);
        }
        Ok(Applied {
            conversations: touched,
            inbound: side.inbound,
            cursor,
            offers: side.offers,
            agents_changed: side.agents_changed,
            breaches: side.breaches,
            reminders: side.reminders,
        })
    }
}

impl Cache {
    /// Stores earlier events of a chat that just became visible (offered, assigned, consulted).
    /// They sit below the cursor, which does not move; rows are idempotent by sequence and
    /// routing snapshots by version, so a repeat changes nothing. No notifications.
    pub fn apply_history(&self, frames: &[EventFrame]) -> Result<Vec<i64>, CacheError> {
        let mut conn = self.w();
        let tx = conn.transaction()?;
        let mut touched = Vec::new();
        let mut side = Side::default();
        for frame in frames {
            if let Some(id) = apply_one(&tx, frame, &mut side)? {
                if !touched.contains(&id) {
                    touched.push(id);
                }
            }
        }
        tx.commit()?;
        Ok(touched)
    }

    /// Forgets one chat the user may no longer see (by the relay's chat hash): its messages,
    /// search entries, routing history and unsent outbox rows. Answers the conversation.
    pub fn forget(&self, channel: &str, hash: &str) -> Result<Option<i64>, CacheError> {
        let mut conn = self.w();
        let tx = conn.transaction()?;
        let gone = forget_chat(&tx, channel, hash)?;
        tx.commit()?;
        if gone.is_some() {
            truncate_wal(&conn);
        }
        Ok(gone)
    }

    /// Keeps only the chats the relay says this user may hold now; answers those forgotten.
    pub fn keep_only(&self, scope: &linedesk_protocol::Scope) -> Result<Vec<i64>, CacheError> {
        let linedesk_protocol::Scope::Chats { chats } = scope else {
            return Ok(Vec::new());
        };
        let keep: std::collections::HashSet<(&str, &str)> = chats
            .iter()
            .map(|(channel, hash)| (channel.as_str(), hash.as_str()))
            .collect();
        let mut conn = self.w();
        let tx = conn.transaction()?;
        let all: Vec<(i64, String, String)> = tx
            .prepare("SELECT id, channel_id, chat_id FROM conversations")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let mut gone = Vec::new();
        for (id, channel, chat) in all {
            let hash = linedesk_protocol::identity::chat_hash(&channel, &chat);
            if !keep.contains(&(channel.as_str(), hash.as_str())) {
                forget_chat(&tx, &channel, &hash)?;
                gone.push(id);
            }
        }
        tx.commit()?;
        if !gone.is_empty() {
            truncate_wal(&conn);
        }
        Ok(gone)
    }
}

/// secure_delete zeroed the rows; the WAL still holds the pages as they were. Readers may hold
/// it briefly: a failed checkpoint is retried at the next forgetting.
fn truncate_wal(conn: &Connection) {
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "could not truncate the cache's WAL after forgetting a chat");
    }
}

fn conversation_id(tx: &Connection, channel: &str, chat: &str) -> Result<i64, rusqlite::Error> {
    tx.prepare_cached(
        "INSERT INTO conversations (channel_id, chat_id) VALUES (?1, ?2)
         ON CONFLICT (channel_id, chat_id) DO UPDATE SET chat_id = chat_id RETURNING id",
    )?
    .query_row(params![channel, chat], |r| r.get(0))
}

/// Plain text of a message for display and search.
fn message_text(m: &MessageContent) -> Option<String> {
    match m {
        MessageContent::Text { text, .. } => Some(text.clone()),
        MessageContent::Sticker { text, keywords, .. } => text
            .clone()
            .or_else(|| (!keywords.is_empty()).then(|| keywords.join(" "))),
        MessageContent::File { file_name, .. } => Some(file_name.clone()),
        MessageContent::Location { title, address, .. } => {
            let parts: Vec<&str> = [title.as_deref(), address.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            (!parts.is_empty()).then(|| parts.join(" · "))
        }
        _ => None,
    }
}

fn kind_of(m: &MessageContent) -> String {
    match m {
        MessageContent::Unknown(raw) => raw
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_owned(),
        other => serde_json::to_value(other)
            .ok()
            .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| "unknown".into()),
    }
}

struct NewRow<'a> {
    conversation_id: i64,
    seq: u64,
    line_message_id: Option<&'a str>,
    direction: &'a str,
    kind: &'a str,
    text: Option<&'a str>,
    body: &'a str,
    created_at: i64,
}

fn insert_message(tx: &Connection, row: &NewRow<'_>) -> Result<Option<i64>, rusqlite::Error> {
    let n = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO messages (conversation_id, seq, line_message_id, direction, kind, text, body, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            row.conversation_id,
            row.seq as i64,
            row.line_message_id,
            row.direction,
            row.kind,
            row.text,
            row.body,
            row.created_at
        ])?;
    if n == 0 {
        return Ok(None);
    }
    let id = tx.last_insert_rowid();
    if let Some(text) = row.text {
        tx.prepare_cached("INSERT INTO messages_fts (rowid, text) VALUES (?1, ?2)")?
            .execute(params![id, search::index_text(text)])?;
    }
    Ok(Some(id))
}

fn touch(
    tx: &Connection,
    id: i64,
    at: i64,
    preview: Option<&str>,
    unread: bool,
) -> Result<(), rusqlite::Error> {
    tx.prepare_cached(
        "UPDATE conversations SET last_message_at = MAX(last_message_at, ?2),
             last_preview = COALESCE(?3, last_preview), unread = unread + ?4 WHERE id = ?1",
    )?
    .execute(params![id, at, preview, i64::from(unread)])?;
    Ok(())
}

/// An erased customer: the chat's messages (search included), routing history and unsent
/// outbox rows go. Answers the conversation so the list drops it.
fn forget_chat(
    tx: &Transaction<'_>,
    channel: &str,
    hash: &str,
) -> Result<Option<i64>, rusqlite::Error> {
    let chats: Vec<(i64, String)> = tx
        .prepare("SELECT id, chat_id FROM conversations WHERE channel_id = ?1")?
        .query_map([channel], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let Some((conv, _)) = chats
        .into_iter()
        .find(|(_, chat)| linedesk_protocol::identity::chat_hash(channel, chat) == hash)
    else {
        return Ok(None);
    };
    for sql in [
        "DELETE FROM messages_fts WHERE rowid IN (SELECT id FROM messages WHERE conversation_id = ?1)",
        "DELETE FROM outbox WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = ?1)",
        "DELETE FROM messages WHERE conversation_id = ?1",
        "DELETE FROM episodes WHERE conversation_id = ?1",
        "DELETE FROM conversations WHERE id = ?1",
    ] {
        tx.execute(sql, [conv])?;
    }
    Ok(Some(conv))
}

/// Applies one frame; returns the conversation it touched.
fn apply_one(
    tx: &Transaction<'_>,
    frame: &EventFrame,
    side: &mut Side,
) -> Result<Option<i64>, rusqlite::Error> {
    let raw: Value = match serde_json::from_str(frame.event.get()) {
        Ok(v) => v,
        Err(_) => return Ok(None),
    };
    if raw["type"] == AGENT_EVENT {
        if let Ok(agent) = serde_json::from_value::<AgentSnapshot>(raw["agent"].clone()) {
            tx.execute(
                "INSERT INTO agents (user, snapshot) VALUES (?1, ?2)
                 ON CONFLICT (user) DO UPDATE SET snapshot = ?2",
                params![agent.user, raw["agent"].to_string()],
            )?;
            side.agents_changed = true;
        }
        return Ok(None);
    }
    if raw["type"] == ERASED_EVENT {
        side.erased = true;
        return forget_chat(
            tx,
            &frame.channel_id,
            raw["chatHash"].as_str().unwrap_or_default(),
        );
    }
    let inbound = &mut side.inbound;
    let event: Event = match serde_json::from_value(raw.clone()) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(seq = frame.seq, error = %e, "event not understood; kept in the log only");
            return Ok(None);
        }
    };
    let Some(chat) = event
        .source
        .as_ref()
        .and_then(|s| s.chat_id())
        .map(str::to_owned)
    else {
        return Ok(None);
    };
    let conv = conversation_id(tx, &frame.channel_id, &chat)?;
    let at = if event.timestamp > 0 {
        event.timestamp
    } else {
        frame.received_at
    };
    let event_row = |kind: &str| -> Result<(), rusqlite::Error> {
        insert_message(
            tx,
            &NewRow {
                conversation_id: conv,
                seq: frame.seq,
                line_message_id: None,
                direction: "event",
                kind,
                text: None,
                body: frame.event.get(),
                created_at: at,
            },
        )?;
        Ok(())
    };
    match &event.body {
        EventBody::Message { message } => {
            let text = message_text(message);
            let kind = kind_of(message);
            let body = serde_json::to_string(&raw["message"]).unwrap_or_default();
            let inserted = insert_message(
                tx,
                &NewRow {
                    conversation_id: conv,
                    seq: frame.seq,
                    line_message_id: message.id(),
                    direction: "in",
                    kind: &kind,
                    text: text.as_deref(),
                    body: &body,
                    created_at: at,
                },
            )?;
            let preview = text.clone().unwrap_or_else(|| format!("[{kind}]"));
            // A message already held (history sent again) is not news: no unread count.
            touch(tx, conv, at, Some(&preview), inserted.is_some())?;
            if let Some(message_id) = inserted {
                let (name, earlier, owner): (Option<String>, i64, Option<String>) = tx.query_row(
                    "SELECT display_name, (SELECT COUNT(*) FROM messages WHERE conversation_id = ?1 AND direction = 'in' AND id != ?2),
                         owner
                     FROM conversations WHERE id = ?1",
                    params![conv, message_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?;
                inbound.push(crate::notify::Inbound {
                    conversation_id: conv,
                    message_id,
                    display_name: name,
                    preview,
                    first: earlier == 0,
                    owner,
                });
            }
            if let (Some(token), linedesk_line::webhook::Mode::Active) =
                (&event.reply_token, &event.mode)
            {
                tx.execute(
                    "UPDATE conversations SET reply_token = ?2, reply_token_at = ?3 WHERE id = ?1",
                    params![conv, token, frame.received_at],
                )?;
            }
        }
        EventBody::MessageEdited { message } => {
            if let (Some(id), Some(text)) = (message.id(), message_text(message)) {
                let ids: Vec<i64> = tx
                    .prepare_cached("SELECT id FROM messages WHERE line_message_id = ?1 AND conversation_id = ?2")?
                    .query_map(params![id, conv], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                for mid in ids {
                    tx.execute(
                        "UPDATE messages SET text = ?2, kind = 'text' WHERE id = ?1",
                        params![mid, text],
                    )?;
                    tx.execute("DELETE FROM messages_fts WHERE rowid = ?1", [mid])?;
                    tx.execute(
                        "INSERT INTO messages_fts (rowid, text) VALUES (?1, ?2)",
                        params![mid, search::index_text(&text)],
                    )?;
                }
            }
            event_row("edited")?;
        }
        EventBody::Unsend { unsend } => {
            // LINE asks that unsent messages disappear everywhere, search included.
            hide_message(tx, conv, &unsend.message_id)?;
            event_row("unsend")?;
            touch(tx, conv, at, None, false)?;
            // The list must not keep showing what the customer took back.
            tx.execute(
                "UPDATE conversations SET last_preview = (
                     SELECT COALESCE(text, '[' || kind || ']') FROM messages
                     WHERE conversation_id = ?1 AND direction != 'event' AND hidden = 0
                     ORDER BY created_at DESC, id DESC LIMIT 1)
                 WHERE id = ?1",
                [conv],
            )?;
        }
        EventBody::Follow { follow } => {
            tx.execute(
                "UPDATE conversations SET following = 1 WHERE id = ?1",
                [conv],
            )?;
            event_row(if follow.is_unblocked {
                "unblocked"
            } else {
                "follow"
            })?;
            touch(tx, conv, at, None, false)?;
        }
        EventBody::Unfollow => {
            tx.execute(
                "UPDATE conversations SET following = 0 WHERE id = ?1",
                [conv],
            )?;
            event_row("blocked")?;
            touch(tx, conv, at, None, false)?;
        }
        EventBody::Unknown(raw) if event.type_name() == "linedeskProfile" => {
            let p = &raw["profile"];
            tx.execute(
                "UPDATE conversations SET display_name = ?2, picture_url = ?3, language = ?4 WHERE id = ?1",
                params![conv, p["displayName"].as_str(), p["pictureUrl"].as_str(), p["language"].as_str()],
            )?;
        }
        EventBody::Unknown(raw) if event.type_name() == "linedeskSent" => {
            apply_sent(tx, frame, conv, raw, event.reply_token.as_deref(), at)?;
        }
        EventBody::Unknown(raw) if event.type_name() == CONVERSATION_EVENT => {
            if let Ok(snap) =
                serde_json::from_value::<ConversationSnapshot>(raw["conversation"].clone())
            {
                if apply_routing(tx, conv, &snap, &raw["conversation"])? && snap.offer.is_some() {
                    side.offers.push((conv, snap));
                }
            }
        }
        EventBody::Unknown(raw) if event.type_name() == BREACH_EVENT => {
            // An alert, not part of the conversation's story: no timeline row.
            side.breaches.push(crate::notify::Breach {
                conversation_id: conv,
                queue_name: raw["queueName"].as_str().unwrap_or_default().to_owned(),
                opened_at: raw["openedAt"].as_i64().unwrap_or(at),
                target_ms: raw["targetMs"].as_i64().unwrap_or_default(),
                at,
            });
        }
        EventBody::Unknown(raw) if event.type_name() == REMINDER_EVENT => {
            // In the timeline ("Reminder for rita: …"), and an alert for her.
            insert_message(
                tx,
                &NewRow {
                    conversation_id: conv,
                    seq: frame.seq,
                    line_message_id: None,
                    direction: "event",
                    kind: "reminder",
                    text: raw["note"].as_str(),
                    body: frame.event.get(),
                    created_at: at,
                },
            )?;
            side.reminders.push(crate::notify::Reminder {
                conversation_id: conv,
                user: raw["user"].as_str().unwrap_or_default().to_owned(),
                note: raw["note"].as_str().unwrap_or_default().to_owned(),
                at,
            });
        }
        EventBody::Unknown(raw) if event.type_name() == NOTE_EVENT => {
            // An internal note (a supervisor's whisper to the owner, or a team note): in the
            // timeline and search, never in the list's preview or unread count.
            let kind = if raw["whisper"].as_bool() == Some(true) {
                "whisper"
            } else {
                "note"
            };
            if let Some(id) = insert_message(
                tx,
                &NewRow {
                    conversation_id: conv,
                    seq: frame.seq,
                    line_message_id: None,
                    direction: "event",
                    kind,
                    text: raw["text"].as_str(),
                    body: frame.event.get(),
                    created_at: at,
                },
            )? {
                tx.execute(
                    "UPDATE messages SET sent_by = ?2 WHERE id = ?1",
                    params![id, raw["author"].as_str()],
                )?;
            }
        }
        EventBody::Unknown(raw) if event.type_name() == "linedeskBlocked" => {
            // The workstream does not let customers send files: hidden, like an unsend.
            let message_id = raw["messageId"].as_str().unwrap_or_default();
            hide_message(tx, conv, message_id)?;
            event_row("attachment_blocked")?;
        }
        other => {
            let kind = other.type_name().to_owned();
            event_row(&kind)?;
        }
    }
    Ok(Some(conv))
}

/// Hides a message everywhere, search included (unsent by the customer, or an attachment the
/// workstream does not accept).
fn hide_message(tx: &Connection, conv: i64, line_message_id: &str) -> Result<(), rusqlite::Error> {
    let ids: Vec<i64> = tx
        .prepare_cached(
            "SELECT id FROM messages WHERE line_message_id = ?1 AND conversation_id = ?2",
        )?
        .query_map(params![line_message_id, conv], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for mid in ids {
        tx.execute(
            "UPDATE messages SET hidden = 1, text = NULL WHERE id = ?1",
            [mid],
        )?;
        tx.execute("DELETE FROM messages_fts WHERE rowid = ?1", [mid])?;
    }
    Ok(())
}

/// Stores a routing snapshot; returns whether it was news (a newer version). The chat row
/// shows the newest conversation of the chat.
fn apply_routing(
    tx: &Connection,
    conv: i64,
    snap: &ConversationSnapshot,
    raw: &Value,
) -> Result<bool, rusqlite::Error> {
    let stored: Option<i64> = tx
        .query_row(
            "SELECT version FROM episodes WHERE id = ?1",
            [&snap.id],
            |r| r.get(0),
        )
        .optional()?;
    if stored.is_some_and(|v| v >= snap.version as i64) {
        return Ok(false);
    }
    let text = raw.to_string();
    tx.execute(
        "INSERT INTO episodes (id, conversation_id, version, state, owner, opened_at, closed_at, snapshot)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET version = ?3, state = ?4, owner = ?5, closed_at = ?7, snapshot = ?8",
        params![snap.id, conv, snap.version as i64, snap.state.as_str(), snap.owner, snap.opened_at, snap.closed_at, text],
    )?;
    let newest: Option<String> = tx
        .query_row(
            "SELECT id FROM episodes WHERE conversation_id = ?1 ORDER BY opened_at DESC, id DESC LIMIT 1",
            [conv],
            |r| r.get(0),
        )
        .optional()?;
    if newest.as_deref() == Some(snap.id.as_str()) {
        tx.execute(
            "UPDATE conversations SET episode_id = ?2, state = ?3, owner = ?4, offered_to = ?5, offer_expires_at = ?6,
                 routing = ?7 WHERE id = ?1",
            params![
                conv,
                snap.id,
                snap.state.as_str(),
                snap.owner,
                snap.offer.as_ref().map(|o| &o.to),
                snap.offer.as_ref().map(|o| o.expires_at),
                text
            ],
        )?;
    }
    Ok(true)
}

/// A message a console sent: ours (update the outbox row) or a colleague's (insert it).
fn apply_sent(
    tx: &Connection,
    frame: &EventFrame,
    conv: i64,
    raw: &Value,
    reply_token: Option<&str>,
    at: i64,
) -> Result<(), rusqlite::Error> {
    let outbox_id = raw["outboxId"].as_str().unwrap_or_default();
    let via = raw["via"].as_str();
    let sent_by = raw["sentBy"].as_str();
    let message = &raw["messages"][0];
    let line_id = raw["sentMessages"][0]["id"].as_str();
    let updated = tx.execute(
        "UPDATE messages SET seq = ?2, status = 'sent', via = COALESCE(?3, via), line_message_id = COALESCE(?4, line_message_id),
             sent_by = COALESCE(?5, sent_by), error = NULL
         WHERE outbox_id = ?1 AND seq IS NULL",
        params![outbox_id, frame.seq as i64, via, line_id, sent_by],
    )?;
    if via == Some("reply") {
        // Spent: our own reply must not try the same token.
        // (The envelope's `replyToken`: the webhook parser keeps it out of `raw`.)
        if let Some(token) = reply_token.or(raw["replyToken"].as_str()) {
            tx.execute(
                "UPDATE conversations SET reply_token = NULL WHERE id = ?1 AND reply_token = ?2",
                params![conv, token],
            )?;
        }
    }
    let automated = raw["automated"].as_str();
    if updated == 0 {
        // An automated send may carry several messages (goodbye and survey): show them as one.
        let joined: Option<String> =
            raw["messages"]
                .as_array()
                .filter(|m| m.len() > 1)
                .map(|all| {
                    all.iter()
                        .filter_map(|m| m["text"].as_str())
                        .collect::<Vec<_>>()
                        .join("\n\n")
                });
        let text = joined.as_deref().or(message["text"].as_str());
        let kind = message["type"].as_str().unwrap_or("text");
        let n = tx.execute(
            "INSERT OR IGNORE INTO messages (conversation_id, seq, line_message_id, outbox_id, direction, kind, text, body,
                 created_at, status, via, sent_by, automated)
             VALUES (?1, ?2, ?3, ?4, 'out', ?5, ?6, ?7, ?8, 'sent', ?9, ?10, ?11)",
            params![conv, frame.seq as i64, line_id, outbox_id, kind, text, message.to_string(), at, via, sent_by, automated],
        )?;
        if n == 1 {
            if let Some(text) = text {
                tx.execute(
                    "INSERT INTO messages_fts (rowid, text) VALUES (?1, ?2)",
                    params![tx.last_insert_rowid(), search::index_text(text)],
                )?;
            }
        }
    }
    touch(tx, conv, at, message["text"].as_str(), false)
}

#[cfg(test)]
mod tests {
    use linedesk_protocol::{EventFrame, Scope};
    use serde_json::value::RawValue;

    use crate::cache::Cache;

    fn text(seq: u64, chat: &str, text: &str) -> EventFrame {
        let body = serde_json::json!({
            "type": "message", "mode": "active", "timestamp": 1_795_000_000_000i64 + seq as i64,
            "source": {"type": "user", "userId": chat}, "webhookEventId": format!("E{seq}"),
            "replyToken": "r", "message": {"type": "text", "id": seq.to_string(), "quoteToken": "q", "text": text}
        });
        EventFrame {
            seq,
            channel_id: "1650000000".into(),
            webhook_event_id: Some(format!("E{seq}")),
            received_at: 0,
            event: RawValue::from_string(body.to_string()).expect("json"),
        }
    }

    fn chats(cache: &Cache) -> Vec<String> {
        let mut c: Vec<String> = cache
            .conversations(100)
            .expect("list")
            .into_iter()
            .map(|c| c.chat_id)
            .collect();
        c.sort();
        c
    }

    #[test]
    fn history_lands_below_the_cursor_and_the_scope_forgets_chats_no_longer_hers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(dir.path()).expect("cache");
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path())
                .expect("stat")
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o777,
                0o700,
                "the cache folder is the person's alone"
            );
        }
        cache
            .apply(&[text(5, "U1", "mine"), text(9, "U2", "also mine")])
            .expect("apply");
        // U3 became hers at seq 12: its earlier events come as history, below the cursor.
        let touched = cache
            .apply_history(&[text(3, "U3", "before she had it")])
            .expect("history");
        assert_eq!(touched.len(), 1);
        assert_eq!(
            cache.cursor().expect("cursor"),
            9,
            "history does not move the cursor"
        );
        assert_eq!(chats(&cache), ["U1", "U2", "U3"]);
        // After a reconnect the relay says she may hold U1 and U3 only.
        let keep = |chat: &str| {
            (
                "1650000000".to_owned(),
                linedesk_protocol::identity::chat_hash("1650000000", chat),
            )
        };
        let gone = cache
            .keep_only(&Scope::Chats {
                chats: vec![keep("U1"), keep("U3")],
            })
            .expect("scope");
        assert_eq!(gone.len(), 1);
        assert_eq!(chats(&cache), ["U1", "U3"]);
        assert!(
            cache.search("also", 10).expect("search").is_empty(),
            "a forgotten chat leaves no search entry"
        );
        // A transfer away: forget one chat by its hash.
        assert!(cache
            .forget("1650000000", &keep("U3").1)
            .expect("forget")
            .is_some());
        assert_eq!(chats(&cache), ["U1"]);
        assert!(
            cache.keep_only(&Scope::All).expect("all").is_empty(),
            "an admin keeps everything"
        );
    }

    #[test]
    fn a_whisper_is_in_the_timeline_and_search_but_not_the_preview() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(dir.path()).expect("cache");
        cache
            .apply(&[text(5, "U1", "my parcel is late")])
            .expect("apply");
        let body = serde_json::json!({
            "type": "linedeskNote", "timestamp": 1_795_000_000_100i64, "mode": "active",
            "source": {"type": "user", "userId": "U1"}, "webhookEventId": "note:1",
            "conversationId": "c1", "author": "sam", "text": "offer the refund", "whisper": true,
        });
        let note = EventFrame {
            seq: 6,
            channel_id: "1650000000".into(),
            webhook_event_id: Some("note:1".into()),
            received_at: 0,
            event: RawValue::from_string(body.to_string()).expect("json"),
        };
        cache.apply(&[note]).expect("apply the note");
        let conv = cache.conversations(10).expect("list");
        assert_eq!(conv[0].last_preview.as_deref(), Some("my parcel is late"));
        let messages = cache.messages(conv[0].id, None, 10).expect("messages");
        let whisper = messages.last().expect("the whisper");
        assert_eq!(
            (whisper.direction.as_str(), whisper.kind.as_str()),
            ("event", "whisper")
        );
        assert_eq!(whisper.text.as_deref(), Some("offer the refund"));
        assert_eq!(whisper.sent_by.as_deref(), Some("sam"));
        assert_eq!(cache.search("refund", 10).expect("search").len(), 1);
    }

    #[test]
    fn a_breach_is_an_alert_not_a_timeline_row() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(dir.path()).expect("cache");
        cache.apply(&[text(5, "U1", "hello?")]).expect("apply");
        let body = serde_json::json!({
            "type": "linedeskBreach", "timestamp": 1_795_000_061_000i64, "mode": "active",
            "source": {"type": "user", "userId": "U1"}, "webhookEventId": "breach:c1",
            "conversationId": "c1", "queueId": "general", "queueName": "General",
            "openedAt": 1_795_000_000_000i64, "targetMs": 60_000,
        });
        let applied = cache
            .apply(&[EventFrame {
                seq: 6,
                channel_id: "1650000000".into(),
                webhook_event_id: Some("breach:c1".into()),
                received_at: 0,
                event: RawValue::from_string(body.to_string()).expect("json"),
            }])
            .expect("apply the alert");
        let conv = cache.conversations(10).expect("list")[0].id;
        assert_eq!(
            applied.breaches,
            vec![crate::notify::Breach {
                conversation_id: conv,
                queue_name: "General".into(),
                opened_at: 1_795_000_000_000,
                target_ms: 60_000,
                at: 1_795_000_061_000,
            }]
        );
        assert_eq!(
            cache.messages(conv, None, 10).expect("messages").len(),
            1,
            "only the customer's message"
        );
    }

    #[test]
    fn a_reminder_is_a_timeline_row_and_an_alert_for_whom_it_reminds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(dir.path()).expect("cache");
        cache.apply(&[text(5, "U1", "hello?")]).expect("apply");
        let body = serde_json::json!({
            "type": "linedeskReminder", "timestamp": 1_795_000_061_000i64, "mode": "active",
            "source": {"type": "user", "userId": "U1"}, "webhookEventId": "reminder:r1",
            "conversationId": "c1", "reminderId": "r1", "user": "rita",
            "note": "Call back about the refund", "dueAt": 1_795_000_060_000i64,
        });
        let applied = cache
            .apply(&[EventFrame {
                seq: 6,
                channel_id: "1650000000".into(),
                webhook_event_id: Some("reminder:r1".into()),
                received_at: 0,
                event: RawValue::from_string(body.to_string()).expect("json"),
            }])
            .expect("apply the reminder");
        let conv = cache.conversations(10).expect("list")[0].id;
        assert_eq!(
            applied.reminders,
            vec![crate::notify::Reminder {
                conversation_id: conv,
                user: "rita".into(),
                note: "Call back about the refund".into(),
                at: 1_795_000_061_000,
            }]
        );
        let messages = cache.messages(conv, None, 10).expect("messages");
        let row = messages.last().expect("the reminder's row");
        assert_eq!(
            (row.direction.as_str(), row.kind.as_str()),
            ("event", "reminder")
        );
        assert_eq!(row.text.as_deref(), Some("Call back about the refund"));
    }
}
