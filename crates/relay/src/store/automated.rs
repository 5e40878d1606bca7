//! `automated` as its sender sees it: the automated messages routing queued (greeting,
//! assigned, out of hours, closed, survey …), picked up when due and marked sent or failed.
//!
//! Routing queues the rows ([`super::routing`]); [`crate::routing::automated`] sends them.
//! A row's id is its push retry key, so a row is sent at most once.

use super::sql::Db;
use super::StoreError;
use crate::args;

/// A pending automated message whose time has come.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The row's id; also the `X-Line-Retry-Key` of its push.
    pub id: String,
    /// Channel it goes out on.
    pub channel_id: String,
    /// The chat it goes to.
    pub chat_id: String,
    /// What queued it (greeting, assigned, closed, survey …).
    pub trigger: String,
    /// JSON array of message objects.
    pub messages: String,
    /// The customer event's reply token, if it had one.
    pub reply_token: Option<String>,
    /// When that reply token was received (UTC ms).
    pub reply_token_at: Option<i64>,
    /// Attempts so far.
    pub attempts: i64,
}

/// The pending messages due at `now` (UTC ms), oldest first, at most 64.
pub fn due<'a>(db: impl Into<Db<'a>>, now: i64) -> Result<Vec<Pending>, StoreError> {
    let db = db.into();
    db.query(
        "SELECT id, channel_id, chat_id, trigger, messages, reply_token, reply_token_at, attempts
                 FROM automated WHERE state = 'pending' AND next_attempt_at <= ?1 ORDER BY created_at LIMIT 64",
        args![now],
        |r| {
            Ok(Pending {
                id: r.get(0)?,
                channel_id: r.get(1)?,
                chat_id: r.get(2)?,
                trigger: r.get(3)?,
                messages: r.get(4)?,
                reply_token: r.get(5)?,
                reply_token_at: r.get(6)?,
                attempts: r.get(7)?,
            })
        },
    )
}

/// Marks message `id` sent `via` the reply or push API at `now` (UTC ms), counting the
/// attempt.
pub fn mark_sent<'a>(
    db: impl Into<Db<'a>>,
    id: &str,
    via: &str,
    now: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE automated SET state = 'sent', via = ?2, sent_at = ?3, attempts = attempts + 1 WHERE id = ?1",
        args![id, via, now],
    )?;
    Ok(())
}

/// Records a failed attempt of message `id` with its `error`: pending again at `retry_at`
/// (UTC ms), or failed for good when `retry_at` is `None`.
pub fn record_failure<'a>(
    db: impl Into<Db<'a>>,
    id: &str,
    error: &str,
    retry_at: Option<i64>,
) -> Result<(), StoreError> {
    let db = db.into();
    // The cast types `?3` for PostgreSQL, whose first sight of it is `IS NULL`.
    db.execute(
        "UPDATE automated SET attempts = attempts + 1, error = ?2,
                     state = CASE WHEN CAST(?3 AS BIGINT) IS NULL THEN 'failed' ELSE 'pending' END,
                     next_attempt_at = COALESCE(?3, next_attempt_at)
                 WHERE id = ?1",
        args![id, error, retry_at],
    )?;
    Ok(())
}
