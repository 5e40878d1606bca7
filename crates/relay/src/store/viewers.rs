//! `viewers`: who has a conversation open and who types in it (see [`crate::viewers`]).

use super::sql::Db;
use super::StoreError;
use crate::args;

/// Records that `user` has `conversation` open at `now` (and types in it, when `typing`);
/// forgets what is older than an hour.
pub fn seen<'a>(
    db: impl Into<Db<'a>>,
    conversation: &str,
    user: &str,
    typing: bool,
    now: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    let typing_at = typing.then_some(now);
    db.execute(
        "INSERT INTO viewers (conversation_id, user_name, seen_at, typing_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (conversation_id, user_name) DO UPDATE SET seen_at = ?3, typing_at = ?4",
        args![conversation, user, now, typing_at],
    )?;
    db.execute(
        "DELETE FROM viewers WHERE seen_at < ?1",
        args![now - 3_600_000],
    )?;
    Ok(())
}

/// Who else had `conversation` open since `since`, each with whether they typed since
/// `typing_since`; by name.
pub fn others<'a>(
    db: impl Into<Db<'a>>,
    conversation: &str,
    user: &str,
    since: i64,
    typing_since: i64,
) -> Result<Vec<(String, bool)>, StoreError> {
    db.into().query(
        "SELECT user_name, COALESCE(typing_at, 0) >= ?4 FROM viewers
         WHERE conversation_id = ?1 AND user_name != ?2 AND seen_at >= ?3 ORDER BY user_name",
        args![conversation, user, since, typing_since],
        |r| Ok((r.get::<String>(0)?, r.get::<bool>(1)?)),
    )
}
