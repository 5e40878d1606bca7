//! `reminders`: "remind me" on a conversation (see [`crate::reminders`]).

use super::sql::{Db, Row};
use super::StoreError;
use crate::args;

/// A reminder row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// Its id.
    pub id: String,
    /// The relay conversation.
    pub conversation_id: String,
    /// Whom it reminds.
    pub user: String,
    /// When, UTC ms.
    pub due_at: i64,
    /// What for.
    pub note: String,
}

const COLUMNS: &str = "id, conversation_id, user_name, due_at, note";

fn row(r: &Row<'_>) -> Result<Reminder, StoreError> {
    Ok(Reminder {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        user: r.get(2)?,
        due_at: r.get(3)?,
        note: r.get(4)?,
    })
}

/// Sets `reminder`, replacing a pending one of the same user on the same conversation.
pub fn set<'a>(db: impl Into<Db<'a>>, reminder: &Reminder, now: i64) -> Result<(), StoreError> {
    let db = db.into();
    // Rows live only while pending: a replaced, called-off or settled one is deleted, so a
    // client setting reminders in a loop never grows the table.
    db.execute(
        "DELETE FROM reminders WHERE conversation_id = ?1 AND user_name = ?2",
        args![reminder.conversation_id, reminder.user],
    )?;
    db.execute(
        "INSERT INTO reminders (id, conversation_id, user_name, due_at, note, state, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
        args![
            reminder.id,
            reminder.conversation_id,
            reminder.user,
            reminder.due_at,
            reminder.note,
            now
        ],
    )?;
    Ok(())
}

/// A user's pending reminders, soonest first.
pub fn pending_of<'a>(db: impl Into<Db<'a>>, user: &str) -> Result<Vec<Reminder>, StoreError> {
    db.into().query(
        &format!(
            "SELECT {COLUMNS} FROM reminders WHERE user_name = ?1 AND state = 'pending'
             ORDER BY due_at, id"
        ),
        args![user],
        row,
    )
}

/// Calls off one of `user`'s pending reminders; whether there was one.
pub fn cancel<'a>(db: impl Into<Db<'a>>, user: &str, id: &str) -> Result<bool, StoreError> {
    let n = db.into().execute(
        "DELETE FROM reminders WHERE id = ?1 AND user_name = ?2 AND state = 'pending'",
        args![id, user],
    )?;
    Ok(n > 0)
}

/// Pending reminders due at `now`.
pub fn due<'a>(db: impl Into<Db<'a>>, now: i64) -> Result<Vec<Reminder>, StoreError> {
    db.into().query(
        &format!(
            "SELECT {COLUMNS} FROM reminders WHERE state = 'pending' AND due_at <= ?1
             ORDER BY due_at, id LIMIT 200"
        ),
        args![now],
        row,
    )
}

/// A due reminder is done with (fired: its event is in the log; or dropped).
pub fn settle<'a>(db: impl Into<Db<'a>>, id: &str) -> Result<(), StoreError> {
    db.into()
        .execute("DELETE FROM reminders WHERE id = ?1", args![id])?;
    Ok(())
}
