//! The SQL of a contact's export and erasure ([`crate::identity::erase`]): what one LINE
//! profile left in `events`, `media`, `uploads`, `conversations` (with their `declines`,
//! `consultants`, `survey_answers` and `automated` rows), `sent_messages`, `sends`,
//! `customers`, `profiles`, `consents` and `contact_links`, and the contact's own `contacts`
//! and `audit` rows; and the WAL checkpoint that leaves no old frames of them behind.
//!
//! These tables belong to other modules of the store; here are only the reads that find a
//! profile's data and the deletes that erase it.

use super::sql::Db;
use super::StoreError;
use crate::args;

/// A profile's logged events after `after` (seq, type, body). A whole-log scan: run it on a
/// reader, then only the tail on the writer, so webhooks never wait behind it.
///
/// The event's `source.userId` is read with each engine's JSON function (`json_extract` on
/// SQLite, `jsonb #>>` on PostgreSQL).
pub fn scan_events<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    user: &str,
    after: i64,
) -> Result<Vec<(i64, String, String)>, StoreError> {
    let db = db.into();
    let sql = if db.is_postgres() {
        "SELECT seq, event_type, body FROM events
         WHERE seq > ?3 AND channel_id = ?1 AND body::jsonb #>> '{source,userId}' = ?2 ORDER BY seq"
    } else {
        "SELECT seq, event_type, body FROM events
         WHERE seq > ?3 AND channel_id = ?1 AND json_extract(body, '$.source.userId') = ?2 ORDER BY seq"
    };
    db.query(sql, args![channel, user, after], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
}

/// The file hash of a customer's media message: `None` when the relay has no row for it,
/// `Some(None)` when the row has no file.
pub fn media_file<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    message_id: &str,
) -> Result<Option<Option<String>>, StoreError> {
    db.into().query_opt(
        "SELECT sha256 FROM media WHERE channel_id = ?1 AND message_id = ?2",
        args![channel, message_id],
        |r| r.get::<Option<String>>(0),
    )
}

/// The file hash of an upload and of its preview, if the upload exists.
pub fn upload_files<'a>(
    db: impl Into<Db<'a>>,
    token: &str,
) -> Result<Option<(String, Option<String>)>, StoreError> {
    db.into().query_opt(
        // A quick reply's picture was sent to many customers: it stays, and so does its file.
        "SELECT sha256, preview_sha256 FROM uploads WHERE token = ?1
             AND NOT EXISTS (SELECT 1 FROM quick_replies WHERE image_token = ?1)",
        args![token],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Deletes one logged event.
pub fn delete_event<'a>(db: impl Into<Db<'a>>, seq: i64) -> Result<(), StoreError> {
    db.into()
        .execute("DELETE FROM events WHERE seq = ?1", args![seq])?;
    Ok(())
}

/// Deletes the media row of a customer's message (the file stays; see [`file_in_use`]).
pub fn delete_media<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    message_id: &str,
) -> Result<(), StoreError> {
    db.into().execute(
        "DELETE FROM media WHERE channel_id = ?1 AND message_id = ?2",
        args![channel, message_id],
    )?;
    Ok(())
}

/// Deletes an upload's row (the file stays; see [`file_in_use`]).
pub fn delete_upload<'a>(db: impl Into<Db<'a>>, token: &str) -> Result<(), StoreError> {
    db.into()
        .execute("DELETE FROM uploads WHERE token = ?1", args![token])?;
    Ok(())
}

/// The ids of every conversation of a chat.
pub fn chat_conversations<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    chat: &str,
) -> Result<Vec<String>, StoreError> {
    db.into().query(
        "SELECT id FROM conversations WHERE channel_id = ?1 AND chat_id = ?2",
        args![channel, chat],
        |r| r.get::<String>(0),
    )
}

/// Deletes a conversation with its declines, consultants, survey answers, automated replies
/// and the supervisors' audit of it.
pub fn delete_conversation<'a>(db: impl Into<Db<'a>>, id: &str) -> Result<(), StoreError> {
    let db = db.into();
    // Fixed table names, never input.
    for table in [
        "declines",
        "consultants",
        "survey_answers",
        "automated",
        "supervision_audit",
        "reminders",
        "viewers",
    ] {
        db.execute(
            &format!("DELETE FROM {table} WHERE conversation_id = ?1"),
            args![id],
        )?;
    }
    db.execute("DELETE FROM conversations WHERE id = ?1", args![id])?;
    Ok(())
}

/// Deletes what is left of a chat once its events, media, uploads and conversations are gone:
/// its transcript reports, sends, customer record, profile, consent, contact links, automated
/// replies and the reports' record of its conversations.
pub fn delete_chat<'a>(db: impl Into<Db<'a>>, channel: &str, user: &str) -> Result<(), StoreError> {
    let db = db.into();
    for sql in [
        "DELETE FROM sent_messages WHERE channel_id = ?1 AND chat_id = ?2",
        "DELETE FROM sends WHERE channel_id = ?1 AND chat_id = ?2",
        "DELETE FROM customers WHERE channel_id = ?1 AND chat_id = ?2",
        "DELETE FROM profiles WHERE channel_id = ?1 AND user_id = ?2",
        "DELETE FROM consents WHERE channel_id = ?1 AND user_id = ?2",
        "DELETE FROM contact_links WHERE channel_id = ?1 AND user_id = ?2",
        "DELETE FROM automated WHERE channel_id = ?1 AND chat_id = ?2",
    ] {
        db.execute(sql, args![channel, user])?;
    }
    // The reports keep their sums, which hold no customer data, and forget the chat.
    let hash = linedesk_protocol::identity::chat_hash(channel, user);
    db.execute(
        "DELETE FROM report_conversations WHERE chat_hash = ?1",
        args![hash],
    )?;
    Ok(())
}

/// Whether any remaining record still uses a media file.
pub fn file_in_use<'a>(db: impl Into<Db<'a>>, sha: &str) -> Result<bool, StoreError> {
    Ok(db
        .into()
        .query_opt(
            "SELECT EXISTS (SELECT 1 FROM media WHERE sha256 = ?1)
                 OR EXISTS (SELECT 1 FROM uploads WHERE sha256 = ?1 OR preview_sha256 = ?1)
                 OR EXISTS (SELECT 1 FROM pictures WHERE sha256 = ?1)",
            args![sha],
            |r| r.get::<bool>(0),
        )?
        .unwrap_or(false))
}

/// Whether a chat has a conversation that is not closed yet.
pub fn has_open_conversation<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    chat: &str,
) -> Result<bool, StoreError> {
    Ok(db
        .into()
        .query_opt(
            "SELECT EXISTS (SELECT 1 FROM conversations WHERE channel_id = ?1 AND chat_id = ?2 AND state != 'closed')",
            args![channel, chat],
            |r| r.get::<bool>(0),
        )?
        .unwrap_or(false))
}

/// Deletes a contact and its audit rows (the erasure's own audit row is written after).
pub fn delete_contact<'a>(db: impl Into<Db<'a>>, id: i64) -> Result<(), StoreError> {
    let db = db.into();
    db.execute("DELETE FROM audit WHERE contact_id = ?1", args![id])?;
    db.execute("DELETE FROM contacts WHERE id = ?1", args![id])?;
    Ok(())
}

/// PostgreSQL only: rewrites the tables an erasure touched without their dead rows, so the
/// erased text does not linger in the tables' pages (SQLite has `secure_delete` and the WAL
/// truncation instead). Runs outside any transaction.
pub fn vacuum<'a>(db: impl Into<Db<'a>>) -> Result<(), StoreError> {
    let db = db.into();
    if !db.is_postgres() {
        return Ok(());
    }
    db.batch(
        "VACUUM events, media, uploads, sent_messages, sends, profiles, customers, conversations,
             declines, consultants, survey_answers, automated, consents, contacts, contact_links, audit,
             pictures, reminders, viewers",
    )
}
