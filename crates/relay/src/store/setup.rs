//! What admins set up for routing, as the routing API reads and writes it: `workstreams`
//! and `queues` (settings as JSON, parsed by [`crate::routing::config`]), the conversation
//! listing over `conversations`, and the routing follower's look at `workstreams`,
//! `channels` and `agents` when a relay starts and before each batch.
//!
//! The engine's own reads of these tables live in [`super::routing`].

use super::sql::Db;
use super::StoreError;
use crate::args;

/// The stored settings JSON of `channel`'s workstream, unparsed; `None` before an admin
/// saved one.
pub fn workstream_config<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
) -> Result<Option<String>, StoreError> {
    let db = db.into();
    db.query_opt(
        "SELECT config FROM workstreams WHERE channel_id = ?1",
        args![channel],
        |r| r.get(0),
    )
}

/// Saves `channel`'s workstream settings JSON at `now` (UTC ms), replacing any earlier.
pub fn save_workstream<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    config: &str,
    now: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "INSERT INTO workstreams (channel_id, config, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (channel_id) DO UPDATE SET config = ?2, updated_at = ?3",
        args![channel, config, now],
    )?;
    Ok(())
}

/// Every stored queue's id and settings JSON, unparsed, by id.
pub fn queues<'a>(db: impl Into<Db<'a>>) -> Result<Vec<(String, String)>, StoreError> {
    let db = db.into();
    db.query("SELECT id, config FROM queues ORDER BY id", args![], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}

/// Saves queue `id`'s settings JSON at `now` (UTC ms), replacing any earlier.
pub fn save_queue<'a>(
    db: impl Into<Db<'a>>,
    id: &str,
    config: &str,
    now: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "INSERT INTO queues (id, config, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET config = ?2, updated_at = ?3",
        args![id, config, now],
    )?;
    Ok(())
}

/// Ids of the conversations in `state` (any when `None`) of `chat` (any when `None`), newest
/// opened first, at most 1,000.
pub fn conversation_ids<'a>(
    db: impl Into<Db<'a>>,
    state: Option<&str>,
    chat: Option<&str>,
) -> Result<Vec<String>, StoreError> {
    let db = db.into();
    // The casts type the parameters for PostgreSQL, whose first sight of each is `IS NULL`.
    db.query(
        "SELECT id FROM conversations
                 WHERE (CAST(?1 AS TEXT) IS NULL OR state = ?1) AND (CAST(?2 AS TEXT) IS NULL OR chat_id = ?2)
                 ORDER BY opened_at DESC LIMIT 1000",
        args![state, chat],
        |r| r.get(0),
    )
}

/// Runs when a relay starts: every console of the previous run is gone (they all reconnect),
/// so each representative not offline is marked disconnected at `now` (UTC ms) and keeps
/// the presence only through the reconnect grace.
pub fn mark_consoles_gone<'a>(db: impl Into<Db<'a>>, now: i64) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE agents SET disconnected_at = ?1 WHERE disconnected_at IS NULL AND chosen != 'offline'",
        args![now],
    )?;
    db.execute("DELETE FROM relay_consoles", args![])?;
    Ok(())
}

/// [`mark_consoles_gone`] for the representatives of one relay among several, as its
/// consoles vanish with it (it restarted, or died).
pub fn mark_consoles_of_gone<'a>(
    db: impl Into<Db<'a>>,
    users: &[String],
    now: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    for user in users {
        db.execute(
            "UPDATE agents SET disconnected_at = ?1
             WHERE \"user\" = ?2 AND disconnected_at IS NULL AND chosen != 'offline'",
            args![now, user],
        )?;
    }
    Ok(())
}

/// Whether routing wants customers' languages before routing: some workstream has a rule on
/// the language, or some live channel asks the consent question (in the customer's language).
/// (`lower` keeps SQLite's case-blind `LIKE` on PostgreSQL.)
pub fn any_rule_needs_language<'a>(db: impl Into<Db<'a>>) -> Result<bool, StoreError> {
    let db = db.into();
    Ok(db
        .query_opt(
            "SELECT 1 FROM workstreams WHERE lower(config) LIKE '%\"field\":\"language\"%'
                 UNION ALL SELECT 1 FROM channels WHERE consent IS NOT NULL AND deleted_at IS NULL
                 LIMIT 1",
            args![],
            |_| Ok(()),
        )?
        .is_some())
}
