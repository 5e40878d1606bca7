//! `meta`: the relay's own integer settings by key (cursors such as routing's), and the
//! savepoint the writer thread puts around each task of a group commit.
//!
//! The media pipeline keeps its cursor in `meta` through [`super::media`]'s own helpers.

use super::sql::Db;
use super::StoreError;
use crate::args;

/// Key of routing's cursor: every log event up to it has been routed.
pub const ROUTING_CURSOR: &str = "routing_cursor";

/// The value stored under `key`, if any.
pub fn get<'a>(db: impl Into<Db<'a>>, key: &str) -> Result<Option<i64>, StoreError> {
    let db = db.into();
    db.query_opt("SELECT value FROM meta WHERE key = ?1", args![key], |r| {
        r.get::<i64>(0)
    })
}

/// Stores `value` under `key`, replacing what was there.
pub fn set<'a>(db: impl Into<Db<'a>>, key: &str, value: i64) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
        args![key, value],
    )?;
    Ok(())
}

/// Opens the savepoint of one writer task inside the group commit's transaction, so a task
/// that fails can be undone without spoiling the other tasks of the batch. Close it with
/// [`end_savepoint`].
pub fn savepoint<'a>(db: impl Into<Db<'a>>) -> Result<(), StoreError> {
    let db = db.into();
    db.batch("SAVEPOINT task")
}

/// Closes the task's savepoint: keeps its writes in the group commit when `keep`, otherwise
/// rolls them back first. Either way the savepoint is released, and the batch's transaction
/// goes on.
pub fn end_savepoint<'a>(db: impl Into<Db<'a>>, keep: bool) -> Result<(), StoreError> {
    let db = db.into();
    let end = if keep {
        "RELEASE task"
    } else {
        "ROLLBACK TO task; RELEASE task"
    };
    db.batch(end)
}
