//! `events`: the durable webhook event log. Append-only; the sequence is the consoles' cursor.

use rusqlite::{params, Connection};
use serde::Serialize;

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// LINE's `webhookEventId`.
    pub webhook_event_id: Option<String>,
    /// `type`.
    pub event_type: String,
    /// LINE's `timestamp`.
    pub event_ts: i64,
    /// The event object's bytes as received.
    pub body: String,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEvent {
    /// Log position.
    pub seq: u64,
    /// Channel it came in on.
    pub channel_id: String,
    /// LINE's `webhookEventId`.
    pub webhook_event_id: Option<String>,
    /// `type`.
    pub event_type: String,
    /// LINE's timestamp.
    pub event_ts: i64,
    /// When it became durable.
    pub received_at: i64,
    /// The raw event JSON.
    pub body: String,
    /// The chat (group, room or user) it belongs to; `None` for team-wide events.
    pub chat_id: Option<String>,
}

/// Appends events, skipping any whose `webhookEventId` is already logged for the channel.
/// Returns the `(seq, event)` pairs actually inserted.
pub fn append(
    conn: &Connection,
    channel_id: &str,
    events: &[NewEvent],
    now: i64,
) -> Result<Vec<u64>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO events (channel_id, webhook_event_id, event_type, event_ts, received_at, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
    )?;
    let mut seqs = Vec::with_capacity(events.len());
    for ev in events {
        let n = stmt.execute(params![
            channel_id,
            ev.webhook_event_id,
            ev.event_type,
            ev.event_ts,
            now,
            ev.body
        ])?;
        if n == 1 {
            seqs.push(conn.last_insert_rowid() as u64);
        }
    }
    Ok(seqs)
}

/// Events after `after`, oldest first, at most `limit`.
pub fn read_after(
    conn: &Connection,
    after: u64,
    limit: usize,
) -> Result<Vec<StoredEvent>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, channel_id, webhook_event_id, event_type, event_ts, received_at, body, chat_id
         FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after as i64, limit as i64], stored)?;
    rows.collect()
}

fn stored(r: &rusqlite::Row<'_>) -> Result<StoredEvent, rusqlite::Error> {
    Ok(StoredEvent {
        seq: r.get::<_, i64>(0)? as u64,
        channel_id: r.get(1)?,
        webhook_event_id: r.get(2)?,
        event_type: r.get(3)?,
        event_ts: r.get(4)?,
        received_at: r.get(5)?,
        body: r.get(6)?,
        chat_id: r.get(7)?,
    })
}

/// A chat's events before `before` (only those of `only_type`, when given), oldest first: the
/// newest `limit` of them.
pub fn chat_before(
    conn: &Connection,
    channel_id: &str,
    chat_id: &str,
    before: u64,
    only_type: Option<&str>,
    limit: usize,
) -> Result<Vec<StoredEvent>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, channel_id, webhook_event_id, event_type, event_ts, received_at, body, chat_id
         FROM events WHERE channel_id = ?1 AND chat_id = ?2 AND seq < ?3
             AND (?4 IS NULL OR event_type = ?4)
         ORDER BY seq DESC LIMIT ?5",
    )?;
    let mut rows = stmt
        .query_map(
            params![channel_id, chat_id, before as i64, only_type, limit as i64],
            stored,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    rows.reverse();
    Ok(rows)
}

/// Highest sequence in the log (0 when empty).
pub fn head(conn: &Connection) -> Result<u64, rusqlite::Error> {
    conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|v| v as u64)
}
