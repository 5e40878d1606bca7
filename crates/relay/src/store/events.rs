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

/// An event [`append_many`] inserted: where it stands among its webhook's events, its sequence,
/// and the chat the log files it under (SQLite's generated column; on PostgreSQL [`chat_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inserted {
    /// Its index in the events given.
    pub index: usize,
    /// Its log position.
    pub seq: u64,
    /// Its `chat_id` as stored.
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
    Ok(insert(db.into(), channel_id, events, now)?
        .into_iter()
        .map(|i| i.seq)
        .collect())
}

/// [`append`], answering what each inserted event became.
fn insert(
    db: Db<'_>,
    channel_id: &str,
    events: &[NewEvent],
    now: i64,
) -> Result<Vec<Inserted>, StoreError> {
    let mut inserted = Vec::with_capacity(events.len());
    for (index, ev) in events.iter().enumerate() {
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
                    // The chat is SQLite's generated column: [`append_many`] reads it back.
                    inserted.push(Inserted {
                        index,
                        seq: conn.last_insert_rowid() as u64,
                        chat_id: None,
                    });
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
                let chat_id = chat_of(&ev.body);
                let n = db.execute(
                    "INSERT INTO events (seq, channel_id, webhook_event_id, event_type, event_ts, received_at, body, chat_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
                    args![seq, channel_id, ev.webhook_event_id, ev.event_type, ev.event_ts, now, ev.body, chat_id],
                )?;
                if n == 1 {
                    inserted.push(Inserted {
                        index,
                        seq: seq as u64,
                        chat_id,
                    });
                }
            }
        }
    }
    Ok(inserted)
}

/// Fills in the chat of each event SQLite just inserted, from its generated column, in one
/// read of the rows (hot in the writer's cache), one statement per batch. `RETURNING` on each
/// insert instead cost the writer 7.8 s of CPU for the ingest bench's 200,000 events, against
/// 5.6–6.0 s this way (one run against three, 2026-12-02).
fn chats_of_inserted(db: Db<'_>, jobs: &mut [Vec<Inserted>]) -> Result<(), StoreError> {
    let seqs = || jobs.iter().flatten().map(|i| i.seq);
    let (Some(first), Some(last)) = (seqs().min(), seqs().max()) else {
        return Ok(());
    };
    let chats: std::collections::HashMap<u64, Option<String>> = db
        .query(
            "SELECT seq, chat_id FROM events WHERE seq BETWEEN ?1 AND ?2",
            args![first, last],
            |r| Ok((r.get::<u64>(0)?, r.get::<Option<String>>(1)?)),
        )?
        .into_iter()
        .collect();
    for inserted in jobs.iter_mut().flatten() {
        inserted.chat_id = chats.get(&inserted.seq).cloned().flatten();
    }
    Ok(())
}

/// The chat an event body belongs to, as SQLite's generated `chat_id` column finds it:
/// `source.groupId`, else `source.roomId`, else `source.userId` (PostgreSQL's column is
/// written by the relay: see `migrations/pg/003_event_chat.sql`).
pub fn chat_of(body: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Body<'a> {
        #[serde(borrow)]
        source: Option<Source<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Source<'a> {
        #[serde(rename = "groupId", borrow)]
        group_id: Option<std::borrow::Cow<'a, str>>,
        #[serde(rename = "roomId", borrow)]
        room_id: Option<std::borrow::Cow<'a, str>>,
        #[serde(rename = "userId", borrow)]
        user_id: Option<std::borrow::Cow<'a, str>>,
    }
    let source = serde_json::from_str::<Body<'_>>(body).ok()?.source?;
    source
        .group_id
        .or(source.room_id)
        .or(source.user_id)
        .map(std::borrow::Cow::into_owned)
}

/// Rows in one multi-row insert on PostgreSQL (8 parameters each, far below its 65,535).
pub const ROWS_PER_INSERT: usize = 256;

/// Appends several webhooks' events at once (the writer's group commit) and counts those
/// inserted as received by their channel (`channel_stats`); answers, for each webhook, the
/// events actually inserted ([`Inserted`]), as [`append`] does. SQLite appends them one by
/// one (no round trips to save) and counts them after, a failed count only logged. PostgreSQL
/// numbers them all with one `log_head` update and inserts and counts them in multi-row
/// statements, so a batch costs two round trips instead of two per event; numbers still
/// commit in order, under the same lock.
pub fn append_many<'a>(
    db: impl Into<Db<'a>>,
    jobs: &[(&str, &[NewEvent])],
    now: i64,
) -> Result<Vec<Vec<Inserted>>, StoreError> {
    let db = db.into();
    if !db.is_postgres() {
        let mut seqs = jobs
            .iter()
            .map(|(channel, events)| insert(db, channel, events, now))
            .collect::<Result<Vec<_>, _>>()?;
        chats_of_inserted(db, &mut seqs)?;
        let mut per_channel: Vec<(&str, usize)> = Vec::new();
        for ((channel, _), seqs) in jobs.iter().zip(&seqs) {
            match per_channel.iter_mut().find(|(c, _)| c == channel) {
                Some((_, n)) => *n += seqs.len(),
                None => per_channel.push((channel, seqs.len())),
            }
        }
        for (channel, n) in per_channel.into_iter().filter(|(_, n)| *n > 0) {
            // Counts are not worth the batch (a failed statement leaves SQLite's
            // transaction usable).
            if let Err(e) = super::channels::count_events(db, channel, n, now) {
                tracing::warn!(error = %e, "could not count events");
            }
        }
        return Ok(seqs);
    }
    let total: usize = jobs.iter().map(|(_, events)| events.len()).sum();
    if total == 0 {
        return Ok(jobs.iter().map(|_| Vec::new()).collect());
    }
    let rows: Vec<(&str, &NewEvent, Option<String>)> = jobs
        .iter()
        .flat_map(|(channel, events)| events.iter().map(move |ev| (*channel, ev)))
        .map(|(channel, ev)| (channel, ev, chat_of(&ev.body)))
        .collect();
    // The sequence of each row (in `rows`' order) that was inserted.
    let mut inserted: Vec<Option<u64>> = vec![None; total];
    let mut offset = 0;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let n = chunk.len();
        let values: Vec<String> = (0..n)
            .map(|i| {
                let p = i * 7;
                format!(
                    "(CAST(?{} AS BIGINT), CAST(?{} AS TEXT), CAST(?{} AS TEXT), CAST(?{} AS TEXT), \
                      CAST(?{} AS BIGINT), CAST(?{} AS TEXT), CAST(?{} AS TEXT))",
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
        // One statement numbers the rows (under the `log_head` row lock), inserts them and
        // counts them: one round trip per chunk, and in autocommit (the writer's batch of
        // appends alone) it commits too. It answers the head with each inserted position,
        // and the head alone when every row was a duplicate.
        let (count, at, day) = (n * 7 + 1, n * 7 + 2, n * 7 + 3);
        let sql = format!(
            "WITH h AS (
                 UPDATE log_head SET seq = seq + CAST(?{count} AS BIGINT) WHERE one = 1 RETURNING seq),
             v (i, channel_id, webhook_event_id, event_type, event_ts, body, chat_id) AS (VALUES {}),
             ins AS (
                 INSERT INTO events (seq, channel_id, webhook_event_id, event_type, event_ts, received_at, body, chat_id)
                 SELECT h.seq - CAST(?{count} AS BIGINT) + v.i, v.channel_id, v.webhook_event_id,
                        v.event_type, v.event_ts, CAST(?{at} AS BIGINT), v.body, v.chat_id
                 FROM h, v ORDER BY v.i
                 ON CONFLICT DO NOTHING RETURNING seq, channel_id),
             counted AS (
                 INSERT INTO channel_stats (channel_id, events_received, last_event_at, day, events_day)
                 SELECT channel_id, COUNT(*), CAST(?{at} AS BIGINT), CAST(?{day} AS BIGINT), COUNT(*)
                 FROM ins GROUP BY channel_id
                 {counted})
             SELECT h.seq, ins.seq FROM h LEFT JOIN ins ON TRUE",
            values.join(", "),
            counted = super::channels::COUNTED_ON_CONFLICT,
        );
        let positions: Vec<i64> = (1..=n as i64).collect();
        let (n_param, day_now) = (n as i64, now.div_euclid(86_400_000));
        let mut params: Vec<&dyn super::sql::ToValue> = chunk
            .iter()
            .zip(&positions)
            .flat_map(|((channel, ev, chat), i)| {
                [
                    i as &dyn super::sql::ToValue,
                    channel,
                    &ev.webhook_event_id,
                    &ev.event_type,
                    &ev.event_ts,
                    &ev.body,
                    chat,
                ]
            })
            .collect();
        params.push(&n_param);
        params.push(&now);
        params.push(&day_now);
        let answered = db.query(&sql, &params, |r| {
            Ok((r.get::<i64>(0)?, r.get::<Option<i64>>(1)?))
        })?;
        if answered.is_empty() {
            return Err(StoreError::Type {
                column: 0,
                why: "log_head has no row".into(),
            });
        }
        for (head, seq) in answered {
            if let Some(seq) = seq {
                // The chunk's first row got head - n + 1.
                let at = offset + (seq - (head - n_param) - 1) as usize;
                if let Some(slot) = inserted.get_mut(at) {
                    *slot = Some(seq as u64);
                }
            }
        }
        offset += n;
    }
    let mut position = 0;
    Ok(jobs
        .iter()
        .map(|(_, events)| {
            let done = inserted[position..position + events.len()]
                .iter()
                .enumerate()
                .filter_map(|(index, seq)| {
                    seq.map(|seq| Inserted {
                        index,
                        seq,
                        chat_id: rows[position + index].2.clone(),
                    })
                })
                .collect();
            position += events.len();
            done
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
/// across relays; every writer transaction takes it first thing, so writes of all relays on
/// the database (routing decisions among them) happen one at a time, each reading what the
/// one before it wrote, and always lock rows after this one (no deadlocks between relays).
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The writer's batch append on `db` (a fresh store): duplicates skipped, and what was
    /// inserted counted once for its channel and day.
    pub(crate) fn appends_are_counted_once_per_channel_and_day(db: Db<'_>) {
        const DAY: i64 = 86_400_000;
        let ev = |id: &str| NewEvent {
            webhook_event_id: Some(id.into()),
            event_type: "message".into(),
            event_ts: 1,
            body: r#"{"type":"message","source":{"type":"user","userId":"U1"}}"#.into(),
        };
        let batch = |jobs: &[(&str, &[NewEvent])], now: i64| {
            db.begin().expect("begin");
            let done = append_many(db, jobs, now).expect("append");
            db.commit().expect("commit");
            // What each insert answers is what the log holds.
            for (events, done) in jobs.iter().map(|(_, events)| events).zip(&done) {
                for inserted in done {
                    let stored = read_after(db, inserted.seq - 1, 1).expect("read");
                    assert_eq!(stored[0].seq, inserted.seq);
                    assert_eq!(stored[0].chat_id, inserted.chat_id);
                    assert_eq!(stored[0].body, events[inserted.index].body);
                }
            }
            done.iter().map(Vec::len).collect::<Vec<_>>()
        };
        assert_eq!(
            batch(
                &[("a", &[ev("1"), ev("2")]), ("b", &[ev("3")])],
                3 * DAY + 5
            ),
            vec![2, 1]
        );
        assert_eq!(
            batch(
                &[("a", &[ev("2"), ev("4")]), ("a", &[ev("4")])],
                3 * DAY + 9
            ),
            vec![1, 0],
            "duplicates are skipped"
        );
        assert_eq!(batch(&[("a", &[ev("5")])], 4 * DAY + 1), vec![1]);
        let counts = db
            .query(
                "SELECT channel_id, events_received, events_day, day, last_event_at
                 FROM channel_stats ORDER BY channel_id",
                args![],
                |r| {
                    Ok((
                        r.get::<String>(0)?,
                        r.get::<i64>(1)?,
                        r.get::<i64>(2)?,
                        r.get::<i64>(3)?,
                        r.get::<i64>(4)?,
                    ))
                },
            )
            .expect("counts");
        assert_eq!(
            counts,
            vec![
                ("a".into(), 4, 1, 4, 4 * DAY + 1),
                ("b".into(), 1, 1, 3, 3 * DAY + 5)
            ]
        );
    }

    #[test]
    fn appends_are_counted_once_on_sqlite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = super::super::open_writer(dir.path()).expect("store");
        appends_are_counted_once_per_channel_and_day(Db::Sqlite(&conn));
    }

    #[test]
    fn the_relay_finds_the_chat_as_sqlites_generated_column_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = super::super::open_writer(dir.path()).expect("store");
        let bodies = [
            r#"{"type":"message","source":{"type":"user","userId":"U1"}}"#,
            r#"{"type":"message","source":{"type":"group","groupId":"C1","userId":"U2"}}"#,
            r#"{"type":"join","source":{"type":"room","roomId":"R1","userId":"U3"}}"#,
            r#"{"source":{"userId":"U\u00e9\"4"},"type":"message"}"#,
            r#"{"type":"linedeskAgent","agent":{"user":"rita"}}"#,
            r#"{"type":"message","source":{}}"#,
        ];
        let events: Vec<NewEvent> = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| NewEvent {
                webhook_event_id: Some(format!("E{i}")),
                event_type: "message".into(),
                event_ts: 1,
                body: (*body).to_owned(),
            })
            .collect();
        append(&conn, "c", &events, 1).expect("append");
        let stored = read_after(&conn, 0, 100).expect("read");
        assert_eq!(stored.len(), bodies.len());
        for ev in &stored {
            assert_eq!(chat_of(&ev.body), ev.chat_id, "{}", ev.body);
        }
        assert_eq!(stored[3].chat_id.as_deref(), Some("Ué\"4"));
        assert_eq!(chat_of("not json"), None);
    }
}
