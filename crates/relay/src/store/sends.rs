//! `sends` (and `sent_messages`, the transcript reports of earlier versions, kept for export):
//! messages consoles send through the relay, keyed by the console's outbox id, from intent
//! (`sending`) to LINE's answer (`sent`, `failed` or `unknown`). Also what a send reads and
//! writes elsewhere: the conversation's reply token (`conversations`) and its already-logged
//! transcript event (`events`).

use super::sql::Db;
use super::StoreError;
use crate::args;

/// A `sends` row, as a retry of the same outbox id finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRow {
    /// Who sent it.
    pub user: String,
    /// Channel.
    pub channel: String,
    /// Chat.
    pub chat: String,
    /// `sending`, `sent`, `failed` or `unknown`.
    pub state: String,
    /// `reply` or `push`.
    pub via: String,
    /// The answer given (JSON `SendAnswer`), once sent.
    pub answer: Option<String>,
    /// LINE's reason, once failed or unknown.
    pub error: Option<String>,
}

/// A send about to call LINE, recorded as `sending`.
#[derive(Debug, Clone, Copy)]
pub struct NewSend<'a> {
    /// The console's outbox id (also LINE's retry key).
    pub outbox_id: &'a str,
    /// Channel.
    pub channel_id: &'a str,
    /// Chat.
    pub chat_id: &'a str,
    /// Who sends it.
    pub user_name: &'a str,
    /// The messages, as JSON.
    pub messages: &'a str,
    /// `reply` or `push`.
    pub via: &'a str,
    /// The reply token taken for it, when replying.
    pub reply_token: Option<&'a str>,
    /// Now, UTC ms.
    pub now: i64,
}

/// The error of a lookup that must find its row and did not (on either engine: the same error
/// SQLite's `query_row` gave before).
fn no_row() -> StoreError {
    StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows)
}

/// The send recorded under an outbox id, if any.
pub fn find<'a>(db: impl Into<Db<'a>>, outbox_id: &str) -> Result<Option<SendRow>, StoreError> {
    let db = db.into();
    db.query_opt(
        "SELECT user_name, channel_id, chat_id, state, via, answer, error FROM sends WHERE outbox_id = ?1",
        args![outbox_id],
        |r| {
            Ok(SendRow {
                user: r.get(0)?,
                channel: r.get(1)?,
                chat: r.get(2)?,
                state: r.get(3)?,
                via: r.get(4)?,
                answer: r.get(5)?,
                error: r.get(6)?,
            })
        },
    )
}

/// A reply found still `sending` (the relay stopped during it) becomes `unknown`.
pub fn mark_interrupted_reply<'a>(
    db: impl Into<Db<'a>>,
    outbox_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE sends SET state = 'unknown', reply_token = NULL, updated_at = ?2,
             error = 'the relay stopped while this reply was being sent' WHERE outbox_id = ?1",
        args![outbox_id, now],
    )?;
    Ok(())
}

/// The conversation's reply token and when it came (either may be missing). The conversation
/// must exist: an error (`QueryReturnedNoRows`) otherwise.
pub fn reply_token<'a>(
    db: impl Into<Db<'a>>,
    conversation: &str,
) -> Result<(Option<String>, Option<i64>), StoreError> {
    let db = db.into();
    db.query_opt(
        "SELECT reply_token, reply_token_at FROM conversations WHERE id = ?1",
        args![conversation],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?
    .ok_or_else(no_row)
}

/// Takes the conversation's reply token for a send: an automated message queued later pushes
/// instead.
pub fn take_reply_token<'a>(db: impl Into<Db<'a>>, conversation: &str) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE conversations SET reply_token = NULL WHERE id = ?1",
        args![conversation],
    )?;
    Ok(())
}

/// Records the intent to send, `sending`.
pub fn insert_sending<'a>(db: impl Into<Db<'a>>, send: &NewSend<'_>) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "INSERT INTO sends (outbox_id, channel_id, chat_id, user_name, messages, via, reply_token, state, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'sending', ?8, ?8)",
        args![
            send.outbox_id,
            send.channel_id,
            send.chat_id,
            send.user_name,
            send.messages,
            send.via,
            send.reply_token,
            send.now
        ],
    )?;
    Ok(())
}

/// A reply whose token was stale or spent goes out by push instead (recorded before pushing).
pub fn fall_back_to_push<'a>(
    db: impl Into<Db<'a>>,
    outbox_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE sends SET via = 'push', reply_token = NULL, updated_at = ?2 WHERE outbox_id = ?1",
        args![outbox_id, now],
    )?;
    Ok(())
}

/// The log position of a send's transcript event, logged before (a crash between the log and
/// the row). The event must be logged: an error (`QueryReturnedNoRows`) otherwise.
pub fn logged_seq<'a>(
    db: impl Into<Db<'a>>,
    channel_id: &str,
    event_id: &str,
) -> Result<i64, StoreError> {
    let db = db.into();
    db.query_opt(
        "SELECT seq FROM events WHERE channel_id = ?1 AND webhook_event_id = ?2",
        args![channel_id, event_id],
        |r| r.get::<i64>(0),
    )?
    .ok_or_else(no_row)
}

/// Marks a send `sent` and keeps its answer (JSON `SendAnswer`), given by `via`.
pub fn mark_sent<'a>(
    db: impl Into<Db<'a>>,
    outbox_id: &str,
    via: &str,
    answer: &str,
    now: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE sends SET state = 'sent', via = ?2, reply_token = NULL, answer = ?3, updated_at = ?4
         WHERE outbox_id = ?1",
        args![outbox_id, via, answer, now],
    )?;
    Ok(())
}

/// Ends a send as `state` (`failed` or `unknown`) with LINE's reason.
pub fn settle<'a>(
    db: impl Into<Db<'a>>,
    outbox_id: &str,
    state: &str,
    error: &str,
    now: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE sends SET state = ?2, error = ?3, reply_token = NULL, updated_at = ?4 WHERE outbox_id = ?1",
        args![outbox_id, state, error, now],
    )?;
    Ok(())
}
