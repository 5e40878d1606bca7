//! The `outbox` table: a send survives a crash from the moment the representative pressed Send.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use super::{search, Cache, CacheError};

/// An outbox entry.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxRow {
    /// UUID; the push retry key.
    pub id: String,
    /// Its message row.
    pub message_id: i64,
    /// Channel.
    pub channel_id: String,
    /// Chat.
    pub chat_id: String,
    /// The LINE message object (JSON).
    pub message: String,
    /// `queued`, `sending`, `sent`, `failed`, `unknown`.
    pub state: String,
    /// How it was (or is being) sent.
    pub via: Option<String>,
    /// The reply token it was sent with.
    pub reply_token: Option<String>,
    /// Attempts so far.
    pub attempts: i64,
    /// LINE's `sentMessages` (JSON), once accepted.
    pub sent_messages: Option<String>,
    /// Whether the relay has the transcript.
    pub reported: bool,
    /// When Send was pressed.
    pub created_at: i64,
}

/// A state change of an outbox entry; `None` fields keep their value (except `error`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OutboxUpdate<'a> {
    /// New state.
    pub state: &'a str,
    /// How it is being sent.
    pub via: Option<&'a str>,
    /// The reply token used.
    pub reply_token: Option<&'a str>,
    /// LINE's reason, shown to the representative; cleared when `None`.
    pub error: Option<&'a str>,
    /// LINE's `sentMessages` (JSON).
    pub sent_messages: Option<&'a str>,
}

fn row(r: &Row<'_>) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.get(0)?,
        message_id: r.get(1)?,
        channel_id: r.get(2)?,
        chat_id: r.get(3)?,
        message: r.get(4)?,
        state: r.get(5)?,
        via: r.get(6)?,
        reply_token: r.get(7)?,
        attempts: r.get(8)?,
        sent_messages: r.get(9)?,
        reported: r.get::<_, i64>(10)? != 0,
        created_at: r.get(11)?,
    })
}

const COLUMNS: &str =
    "id, message_id, channel_id, chat_id, message, state, via, reply_token, attempts, sent_messages, reported, created_at";

impl Cache {
    /// Queues a message: the outbox row and the visible message row, in one durable commit.
    pub fn enqueue(
        &self,
        conversation_id: i64,
        outbox_id: &str,
        message: &serde_json::Value,
        sent_by: &str,
        now: i64,
    ) -> Result<OutboxRow, CacheError> {
        let mut conn = self.w();
        let tx = conn.transaction()?;
        let (channel_id, chat_id): (String, String) = tx
            .query_row(
                "SELECT channel_id, chat_id FROM conversations WHERE id = ?1",
                [conversation_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or(CacheError::NoConversation(conversation_id))?;
        let text = message["text"].as_str();
        let kind = message["type"].as_str().unwrap_or("text");
        tx.execute(
            "INSERT INTO messages (conversation_id, outbox_id, direction, kind, text, body, created_at, status, sent_by)
             VALUES (?1, ?2, 'out', ?3, ?4, ?5, ?6, 'queued', ?7)",
            params![conversation_id, outbox_id, kind, text, message.to_string(), now, sent_by],
        )?;
        let message_id = tx.last_insert_rowid();
        if let Some(text) = text {
            tx.execute(
                "INSERT INTO messages_fts (rowid, text) VALUES (?1, ?2)",
                params![message_id, search::index_text(text)],
            )?;
        }
        tx.execute(
            "INSERT INTO outbox (id, message_id, channel_id, chat_id, message, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?6)",
            params![outbox_id, message_id, channel_id, chat_id, message.to_string(), now],
        )?;
        tx.execute(
            "UPDATE conversations SET last_message_at = MAX(last_message_at, ?2), last_preview = COALESCE(?3, last_preview) WHERE id = ?1",
            params![conversation_id, now, text],
        )?;
        let row = tx.query_row(
            &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
            [outbox_id],
            row,
        )?;
        tx.commit()?;
        Ok(row)
    }

    /// Entries still to send or to report, oldest first.
    pub fn outbox_pending(&self) -> Result<Vec<OutboxRow>, CacheError> {
        let conn = self.w();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE state IN ('queued', 'sending') OR (state = 'sent' AND reported = 0)
             ORDER BY created_at"
        ))?;
        let rows = stmt.query_map([], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One entry.
    pub fn outbox_row(&self, id: &str) -> Result<Option<OutboxRow>, CacheError> {
        Ok(self
            .w()
            .query_row(
                &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
                [id],
                row,
            )
            .optional()?)
    }

    /// Takes the conversation's reply token if it is fresh (received less than `max_age_ms`
    /// ago) and unused, marking it used in the same commit: a token is never tried twice.
    pub fn take_reply_token(
        &self,
        channel_id: &str,
        chat_id: &str,
        now: i64,
        max_age_ms: i64,
    ) -> Result<Option<String>, CacheError> {
        let mut conn = self.w();
        let tx = conn.transaction()?;
        let token: Option<(String, i64)> = tx
            .query_row(
                "SELECT reply_token, reply_token_at FROM conversations WHERE channel_id = ?1 AND chat_id = ?2 AND reply_token IS NOT NULL",
                params![channel_id, chat_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        tx.execute(
            "UPDATE conversations SET reply_token = NULL, reply_token_at = NULL WHERE channel_id = ?1 AND chat_id = ?2",
            params![channel_id, chat_id],
        )?;
        tx.commit()?;
        Ok(token
            .filter(|(_, at)| now - at < max_age_ms)
            .map(|(t, _)| t))
    }

    /// Records the outbox entry's new state (and its message row's), durably.
    pub fn set_outbox_state(
        &self,
        id: &str,
        update: &OutboxUpdate<'_>,
        now: i64,
    ) -> Result<(), CacheError> {
        let OutboxUpdate {
            state,
            via,
            reply_token,
            error,
            sent_messages,
        } = *update;
        let mut conn = self.w();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE outbox SET state = ?2, via = COALESCE(?3, via), reply_token = COALESCE(?4, reply_token), error = ?5,
                 sent_messages = COALESCE(?6, sent_messages), attempts = attempts + (?2 = 'sending'), updated_at = ?7
             WHERE id = ?1",
            params![id, state, via, reply_token, error, sent_messages, now],
        )?;
        let line_id: Option<String> = sent_messages
            .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
            .and_then(|v| v[0]["id"].as_str().map(str::to_owned));
        tx.execute(
            "UPDATE messages SET status = CASE WHEN seq IS NULL OR status != 'sent' THEN ?2 ELSE status END,
                 via = COALESCE(?3, via), error = ?4, line_message_id = COALESCE(?5, line_message_id)
             WHERE outbox_id = ?1",
            params![id, state, via, error, line_id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The relay has the transcript of this entry.
    pub fn mark_reported(&self, id: &str) -> Result<(), CacheError> {
        self.w()
            .execute("UPDATE outbox SET reported = 1 WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Puts a failed or unknown entry back in the queue (the representative pressed Retry).
    ///
    /// The retry is a new send, so it gets a new outbox id: the relay answers the old one with
    /// its first outcome forever (that is what makes a crash-retry safe).
    pub fn requeue(&self, id: &str, now: i64) -> Result<bool, CacheError> {
        let mut conn = self.w();
        let tx = conn.transaction()?;
        let fresh = uuid::Uuid::new_v4().to_string();
        let n = tx.execute(
            "UPDATE outbox SET id = ?3, state = 'queued', via = NULL, error = NULL, updated_at = ?2
             WHERE id = ?1 AND state IN ('failed', 'unknown')",
            params![id, now, fresh],
        )?;
        tx.execute(
            "UPDATE messages SET outbox_id = ?3, status = 'queued', error = NULL WHERE outbox_id = ?1 AND ?2 > 0",
            params![id, n as i64, fresh],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }
}
