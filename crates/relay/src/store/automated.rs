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
    /// The representative who wrote it ("send later"); `None` for the relay's own.
    pub sent_by: Option<String>,
    /// The relay conversation it belongs to.
    pub conversation_id: String,
}

/// The trigger of a representative's "send later" message.
pub const LATER: &str = "later";

/// A message a representative wants sent later.
#[derive(Debug, Clone)]
pub struct NewLater<'a> {
    /// Its id: a UUID, the push's retry key.
    pub id: &'a str,
    /// The relay conversation it belongs to.
    pub conversation_id: &'a str,
    /// Channel.
    pub channel_id: &'a str,
    /// Chat.
    pub chat_id: &'a str,
    /// JSON array of message objects.
    pub messages: &'a str,
    /// Who wrote it.
    pub sent_by: &'a str,
    /// When it is due, UTC ms.
    pub at: i64,
    /// Queued at, UTC ms.
    pub now: i64,
}

/// Queues a "send later" message.
pub fn schedule<'a>(db: impl Into<Db<'a>>, m: &NewLater<'_>) -> Result<(), StoreError> {
    db.into().execute(
        "INSERT INTO automated (id, conversation_id, channel_id, chat_id, trigger, messages, state,
                                next_attempt_at, created_at, sent_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8, ?9)",
        args![
            m.id,
            m.conversation_id,
            m.channel_id,
            m.chat_id,
            LATER,
            m.messages,
            m.at,
            m.now,
            m.sent_by
        ],
    )?;
    Ok(())
}

/// A "send later" message still waiting: id, when, the messages (JSON), who wrote it.
pub type Waiting = (String, i64, String, Option<String>);

/// The "send later" messages of a relay conversation still waiting, soonest first.
pub fn waiting<'a>(db: impl Into<Db<'a>>, conversation: &str) -> Result<Vec<Waiting>, StoreError> {
    db.into().query(
        "SELECT id, next_attempt_at, messages, sent_by FROM automated
         WHERE conversation_id = ?1 AND trigger = ?2 AND state = 'pending' ORDER BY next_attempt_at, id",
        args![conversation, LATER],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
}

/// Cancels a waiting "send later" message of `conversation`; whether there was one.
pub fn cancel<'a>(db: impl Into<Db<'a>>, conversation: &str, id: &str) -> Result<bool, StoreError> {
    Ok(db.into().execute(
        "DELETE FROM automated WHERE id = ?1 AND conversation_id = ?2 AND trigger = ?3 AND state = 'pending'",
        args![id, conversation, LATER],
    )? > 0)
}

/// The pending messages due at `now` (UTC ms), oldest first, at most 64.
pub fn due<'a>(db: impl Into<Db<'a>>, now: i64) -> Result<Vec<Pending>, StoreError> {
    let db = db.into();
    db.query(
        "SELECT id, channel_id, chat_id, trigger, messages, reply_token, reply_token_at, attempts, sent_by,
                        conversation_id
                 FROM automated WHERE state = 'pending' AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at, created_at LIMIT 64",
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
                sent_by: r.get(8)?,
                conversation_id: r.get(9)?,
            })
        },
    )
}

/// Marks message `id` sent `via` the reply or push API at `now` (UTC ms), counting the
/// attempt; false when it is no longer pending (erased with its customer meanwhile).
pub fn mark_sent<'a>(
    db: impl Into<Db<'a>>,
    id: &str,
    via: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let db = db.into();
    Ok(db.execute(
        "UPDATE automated SET state = 'sent', via = ?2, sent_at = ?3, attempts = attempts + 1
         WHERE id = ?1 AND state = 'pending'",
        args![id, via, now],
    )? == 1)
}

/// Whether message `id` still waits (not cancelled, erased or sent meanwhile).
pub fn still_pending<'a>(db: impl Into<Db<'a>>, id: &str) -> Result<bool, StoreError> {
    Ok(db
        .into()
        .query_opt(
            "SELECT 1 FROM automated WHERE id = ?1 AND state = 'pending'",
            args![id],
            |r| r.get::<i64>(0),
        )?
        .is_some())
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
