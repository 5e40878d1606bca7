//! `meta`: the relay's own integer settings by key (cursors such as routing's), and the
//! savepoint the writer thread puts around each task of a group commit.
//!
//! The media pipeline keeps its cursor in `meta` through [`super::media`]'s own helpers.

use rusqlite::{params, Connection, OptionalExtension};

/// Key of routing's cursor: every log event up to it has been routed.
pub const ROUTING_CURSOR: &str = "routing_cursor";

/// The value stored under `key`, if any.
pub fn get(conn: &Connection, key: &str) -> Result<Option<i64>, rusqlite::Error> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
        r.get::<_, i64>(0)
    })
    .optional()
}

/// Stores `value` under `key`, replacing what was there.
pub fn set(conn: &Connection, key: &str, value: i64) -> Result<(), rusqlite::Error> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
        params![key, value],
    )?;
    Ok(())
}

/// Opens the savepoint of one writer task inside the group commit's transaction, so a task
/// that fails can be undone without spoiling the other tasks of the batch. Close it with
/// [`end_savepoint`].
pub fn savepoint(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("SAVEPOINT task")
}

/// Closes the task's savepoint: keeps its writes in the group commit when `keep`, otherwise
/// rolls them back first. Either way the savepoint is released, and the batch's transaction
/// goes on.
pub fn end_savepoint(conn: &Connection, keep: bool) -> rusqlite::Result<()> {
    let end = if keep {
        "RELEASE task"
    } else {
        "ROLLBACK TO task; RELEASE task"
    };
    conn.execute_batch(end)
}
