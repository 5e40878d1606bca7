//! `events`: the durable webhook event log. Append-only; the sequence is the consoles' cursor.

use rusqlite::params;

use super::sql::{Db, Row};
use super::StoreError;
use crate::args;
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
/// Returns the sequences of the events actually inserted.
///
/// On PostgreSQL each event's sequence comes from `log_head`, whose row lock the append keeps
/// until its transaction ends: appends of several relays commit one after another in
/// sequence order, so a reader following `seq > cursor` never passes a row that commits
/// later (a sequence or identity column would let a later number commit first).
pub fn append<'a>(
    db: impl Into<Db<'a>>,
    channel_id: &str,
    events: &[NewEvent],
    now: i64,
) -> Result<Vec<u64>, StoreError> {
    let db = db.into();
    let mut seqs = Vec::with_capacity(events.len());
    for ev in events {
        match &db {
            Db::Sqlite(conn) => {
                let n = conn
                    .prepare_cached(
                        "INSERT INTO events (channel_id, webhook_event_id, event_type, event_ts, received_at, body)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                    )?
                    .execute(params![
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
            Db::Postgres(_) => {
                // A duplicate costs a number: the log may have gaps, never a reordering.
                let seq = db
                    .query_opt(
                        "UPDATE log_head SET seq = seq + 1 WHERE one = 1 RETURNING seq",
                        args![],
                        |r| r.get::<i64>(0),
                    )?
                    .ok_or_else(|| StoreError::Type {
                        column: 0,
                        why: "log_head has no row".into(),
                    })?;
                let n = db.execute(
                    "INSERT INTO events (seq, channel_id, webhook_event_id, event_type, event_ts, received_at, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                    args![seq, channel_id, ev.webhook_event_id, ev.event_type, ev.event_ts, now, ev.body],
                )?;
                if n == 1 {
                    seqs.push(seq as u64);
                }
            }
        }
    }
    Ok(seqs)
}

/// Rows in one multi-row insert on PostgreSQL (7 parameters each, far below its 65,535).
const ROWS_PER_INSERT: usize = 256;

/// Appends several webhooks' events at once (the writer's group commit); for each, the
/// sequences of the events actually inserted, as [`append`] answers them. SQLite appends them
/// one by one (no round trips to save). PostgreSQL numbers them all with one `log_head` update
/// and inserts them in multi-row statements, so a batch costs a few round trips instead of two
/// per event; numbers still commit in order, under the same lock.
pub fn append_many<'a>(
    db: impl Into<Db<'a>>,
    jobs: &[(&str, &[NewEvent])],
    now: i64,
) -> Result<Vec<Vec<u64>>, StoreError> {
    let db = db.into();
    if !db.is_postgres() {
        return jobs
            .iter()
            .map(|(channel, events)| append(db, channel, events, now))
            .collect();
    }
    let total: usize = jobs.iter().map(|(_, events)| events.len()).sum();
    if total == 0 {
        return Ok(jobs.iter().map(|_| Vec::new()).collect());
    }
    let last = db
        .query_opt(
            "UPDATE log_head SET seq = seq + ?1 WHERE one = 1 RETURNING seq",
            args![total],
            |r| r.get::<i64>(0),
        )?
        .ok_or_else(|| StoreError::Type {
            column: 0,
            why: "log_head has no row".into(),
        })?;
    let first = last - total as i64 + 1;
    let rows: Vec<(i64, &str, &NewEvent)> = jobs
        .iter()
        .flat_map(|(channel, events)| events.iter().map(move |ev| (*channel, ev)))
        .zip(first..)
        .map(|((channel, ev), seq)| (seq, channel, ev))
        .collect();
    let mut inserted = std::collections::HashSet::with_capacity(total);
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = i * 7;
                format!(
                    "(?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO events (seq, channel_id, webhook_event_id, event_type, event_ts, received_at, body)
             VALUES {} ON CONFLICT DO NOTHING RETURNING seq",
            values.join(", ")
        );
        let params: Vec<&dyn super::sql::ToValue> = chunk
            .iter()
            .flat_map(|(seq, channel, ev)| {
                [
                    seq as &dyn super::sql::ToValue,
                    channel,
                    &ev.webhook_event_id,
                    &ev.event_type,
                    &ev.event_ts,
                    &now,
                    &ev.body,
                ]
            })
            .collect();
        inserted.extend(db.query(&sql, &params, |r| r.get::<i64>(0))?);
    }
    let mut seq = first;
    Ok(jobs
        .iter()
        .map(|(_, events)| {
            events
                .iter()
                .filter_map(|_| {
                    let this = seq;
                    seq += 1;
                    inserted.contains(&this).then_some(this as u64)
                })
                .collect()
        })
        .collect())
}

const EVENT_COLUMNS: &str =
    "seq, channel_id, webhook_event_id, event_type, event_ts, received_at, body, chat_id";

/// Events after `after`, oldest first, at most `limit`.
pub fn read_after<'a>(
    db: impl Into<Db<'a>>,
    after: u64,
    limit: usize,
) -> Result<Vec<StoredEvent>, StoreError> {
    db.into().query(
        &format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
        args![after, limit],
        stored,
    )
}

fn stored(r: &Row<'_>) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        seq: r.get(0)?,
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
pub fn chat_before<'a>(
    db: impl Into<Db<'a>>,
    channel_id: &str,
    chat_id: &str,
    before: u64,
    only_type: Option<&str>,
    limit: usize,
) -> Result<Vec<StoredEvent>, StoreError> {
    let all_types = only_type.is_none();
    let mut rows = db.into().query(
        &format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE channel_id = ?1 AND chat_id = ?2 AND seq < ?3
                 AND (?4 = 1 OR event_type = ?5)
             ORDER BY seq DESC LIMIT ?6"
        ),
        args![
            channel_id,
            chat_id,
            before,
            all_types,
            only_type.unwrap_or(""),
            limit
        ],
        stored,
    )?;
    rows.reverse();
    Ok(rows)
}

/// Takes the `log_head` row lock until the transaction ends (PostgreSQL; SQLite has one
/// writer). Appends take it to number events, so sequences are handed out in commit order
/// across relays; routing takes it first thing, so routing decisions of all relays on the
/// database happen one at a time, each reading what the one before it wrote.
pub fn lock_log<'a>(db: impl Into<Db<'a>>) -> Result<(), StoreError> {
    let db = db.into();
    if db.is_postgres() {
        db.query_opt(
            "SELECT seq FROM log_head WHERE one = 1 FOR UPDATE",
            args![],
            |_| Ok(()),
        )?;
    }
    Ok(())
}

/// Highest sequence in the log (0 when empty).
pub fn head<'a>(db: impl Into<Db<'a>>) -> Result<u64, StoreError> {
    Ok(db
        .into()
        .query_opt(
            "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM events",
            args![],
            |r| r.get::<u64>(0),
        )?
        .unwrap_or(0))
}
