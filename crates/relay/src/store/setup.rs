//! What admins set up for routing, as the routing API reads and writes it: `workstreams`
//! and `queues` (settings as JSON, parsed by [`crate::routing::config`]), the conversation
//! listing over `conversations`, and the routing follower's look at `workstreams`,
//! `channels` and `agents` when a relay starts and before each batch.
//!
//! The engine's own reads of these tables live in [`super::routing`].

use rusqlite::{params, Connection, OptionalExtension};

/// The stored settings JSON of `channel`'s workstream, unparsed; `None` before an admin
/// saved one.
pub fn workstream_config(
    conn: &Connection,
    channel: &str,
) -> Result<Option<String>, rusqlite::Error> {
    conn.query_row(
        "SELECT config FROM workstreams WHERE channel_id = ?1",
        [channel],
        |r| r.get(0),
    )
    .optional()
}

/// Saves `channel`'s workstream settings JSON at `now` (UTC ms), replacing any earlier.
pub fn save_workstream(
    conn: &Connection,
    channel: &str,
    config: &str,
    now: i64,
) -> Result<(), rusqlite::Error> {
    conn.execute(
        "INSERT INTO workstreams (channel_id, config, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (channel_id) DO UPDATE SET config = ?2, updated_at = ?3",
        params![channel, config, now],
    )?;
    Ok(())
}

/// Every stored queue's id and settings JSON, unparsed, by id.
pub fn queues(conn: &Connection) -> Result<Vec<(String, String)>, rusqlite::Error> {
    conn.prepare_cached("SELECT id, config FROM queues ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

/// Saves queue `id`'s settings JSON at `now` (UTC ms), replacing any earlier.
pub fn save_queue(
    conn: &Connection,
    id: &str,
    config: &str,
    now: i64,
) -> Result<(), rusqlite::Error> {
    conn.execute(
        "INSERT INTO queues (id, config, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET config = ?2, updated_at = ?3",
        params![id, config, now],
    )?;
    Ok(())
}

/// Ids of the conversations in `state` (any when `None`) of `chat` (any when `None`), newest
/// opened first, at most 1,000.
pub fn conversation_ids(
    conn: &Connection,
    state: Option<&str>,
    chat: Option<&str>,
) -> Result<Vec<String>, rusqlite::Error> {
    conn.prepare_cached(
        "SELECT id FROM conversations WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR chat_id = ?2)
                     ORDER BY opened_at DESC LIMIT 1000",
    )?
    .query_map(params![state, chat], |r| r.get(0))?
    .collect()
}

/// Runs when a relay starts: every console of the previous run is gone (they all reconnect),
/// so each representative not offline is marked disconnected at `now` (UTC ms) and keeps
/// the presence only through the reconnect grace.
pub fn mark_consoles_gone(conn: &Connection, now: i64) -> Result<(), rusqlite::Error> {
    conn.execute(
        "UPDATE agents SET disconnected_at = ?1 WHERE disconnected_at IS NULL AND chosen != 'offline'",
        [now],
    )?;
    Ok(())
}

/// Whether routing wants customers' languages before routing: some workstream has a rule on
/// the language, or some live channel asks the consent question (in the customer's language).
pub fn any_rule_needs_language(conn: &Connection) -> Result<bool, rusqlite::Error> {
    conn.prepare_cached(
        "SELECT 1 FROM workstreams WHERE config LIKE '%\"field\":\"language\"%'
                 UNION ALL SELECT 1 FROM channels WHERE consent IS NOT NULL AND deleted_at IS NULL
                 LIMIT 1",
    )?
    .exists([])
}
