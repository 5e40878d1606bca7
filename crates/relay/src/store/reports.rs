//! `report_conversations` and `report_daily`: what the reports follower keeps
//! ([`crate::reports`]), and the sums a report reads.

use super::sql::{Db, Row};
use super::StoreError;
use crate::args;

/// Key of the reports follower's cursor: every log event up to it is counted.
pub const REPORTS_CURSOR: &str = "reports_cursor";

/// A conversation as the follower last saw it, with what it has counted already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    /// Relay conversation id.
    pub id: String,
    /// LINE channel ID.
    pub channel_id: String,
    /// `identity::chat_hash` of its chat.
    pub chat_hash: String,
    /// The day it opened, in the report time zone (`YYYY-MM-DD`).
    pub day: String,
    /// When it opened, ms.
    pub opened_at: i64,
    /// Its state's name.
    pub state: String,
    /// Its queue.
    pub queue_id: String,
    /// Its owner.
    pub owner: Option<String>,
    /// Who it is offered to.
    pub offered_to: Option<String>,
    /// First acceptance, ms.
    pub accepted_at: Option<i64>,
    /// A representative's first message, ms.
    pub first_response_at: Option<i64>,
    /// First end (wrap-up began), ms.
    pub ended_at: Option<i64>,
    /// Counted as closed.
    pub closed: bool,
    /// Its survey question was counted.
    pub survey_sent: bool,
    /// Its rating was counted.
    pub rated: bool,
}

const TRACKED: &str = "id, channel_id, chat_hash, day, opened_at, state, queue_id, owner, \
     offered_to, accepted_at, first_response_at, ended_at, closed, survey_sent, rated";

fn tracked(r: &Row<'_>) -> Result<Tracked, StoreError> {
    Ok(Tracked {
        id: r.get(0)?,
        channel_id: r.get(1)?,
        chat_hash: r.get(2)?,
        day: r.get(3)?,
        opened_at: r.get(4)?,
        state: r.get(5)?,
        queue_id: r.get(6)?,
        owner: r.get(7)?,
        offered_to: r.get(8)?,
        accepted_at: r.get(9)?,
        first_response_at: r.get(10)?,
        ended_at: r.get(11)?,
        closed: r.get(12)?,
        survey_sent: r.get(13)?,
        rated: r.get(14)?,
    })
}

/// The conversation `id`, if the follower has seen it.
pub fn conversation<'a>(db: impl Into<Db<'a>>, id: &str) -> Result<Option<Tracked>, StoreError> {
    let db = db.into();
    db.query_opt(
        &format!("SELECT {TRACKED} FROM report_conversations WHERE id = ?1"),
        args![id],
        tracked,
    )
}

/// The chat's conversation that was open at `at` (the last one opened by then).
pub fn conversation_of_chat<'a>(
    db: impl Into<Db<'a>>,
    chat_hash: &str,
    at: i64,
) -> Result<Option<Tracked>, StoreError> {
    let db = db.into();
    db.query_opt(
        &format!(
            "SELECT {TRACKED} FROM report_conversations WHERE chat_hash = ?1 AND opened_at <= ?2
             ORDER BY opened_at DESC, id DESC LIMIT 1"
        ),
        args![chat_hash, at],
        tracked,
    )
}

/// Saves what the follower knows of a conversation.
pub fn save_conversation<'a>(db: impl Into<Db<'a>>, t: &Tracked) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        &format!(
            "INSERT INTO report_conversations ({TRACKED})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
             ON CONFLICT (id) DO UPDATE SET state = ?6, queue_id = ?7, owner = ?8,
                 offered_to = ?9, accepted_at = ?10, first_response_at = ?11, ended_at = ?12,
                 closed = ?13, survey_sent = ?14, rated = ?15"
        ),
        args![
            t.id,
            t.channel_id,
            t.chat_hash,
            t.day,
            t.opened_at,
            t.state,
            t.queue_id,
            t.owner,
            t.offered_to,
            t.accepted_at,
            t.first_response_at,
            t.ended_at,
            t.closed,
            t.survey_sent,
            t.rated
        ],
    )?;
    Ok(())
}

/// Where a daily row belongs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DayKey {
    /// `YYYY-MM-DD` in the report time zone.
    pub day: String,
    /// LINE channel ID.
    pub channel_id: String,
    /// Queue id (`""`: none).
    pub queue_id: String,
    /// Representative (`""`: none).
    pub agent: String,
}

/// The sums of one daily row. The sketches are DDSketch in postcard (`None`: no value yet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sums {
    /// Conversations opened.
    pub received: i64,
    /// First acceptances.
    pub accepted: i64,
    /// Closed with a representative's message.
    pub answered: i64,
    /// Closed without one.
    pub unanswered: i64,
    /// Hand-overs.
    pub transfers: i64,
    /// Offers that ended without the representative taking them.
    pub declines: i64,
    /// Accepted in a queue with a target.
    pub targeted: i64,
    /// Of those, within it.
    pub within_target: i64,
    /// Handle times counted.
    pub handle_n: i64,
    /// Their sum, ms.
    pub handle_ms: i64,
    /// Wrap-up times counted.
    pub wrap_n: i64,
    /// Their sum, ms.
    pub wrap_ms: i64,
    /// Survey questions sent.
    pub surveys_sent: i64,
    /// Ratings received.
    pub surveys_answered: i64,
    /// Their sum.
    pub rating_sum: i64,
    /// Replies sent.
    pub sent_free: i64,
    /// Pushes sent.
    pub sent_metered: i64,
    /// Waiting times, a DDSketch in postcard.
    pub wait_sketch: Option<Vec<u8>>,
    /// First response times, a DDSketch in postcard.
    pub first_response_sketch: Option<Vec<u8>>,
}

impl Sums {
    /// Adds the counts of `d` (not its sketches).
    pub fn add(&mut self, d: &Sums) {
        self.received += d.received;
        self.accepted += d.accepted;
        self.answered += d.answered;
        self.unanswered += d.unanswered;
        self.transfers += d.transfers;
        self.declines += d.declines;
        self.targeted += d.targeted;
        self.within_target += d.within_target;
        self.handle_n += d.handle_n;
        self.handle_ms += d.handle_ms;
        self.wrap_n += d.wrap_n;
        self.wrap_ms += d.wrap_ms;
        self.surveys_sent += d.surveys_sent;
        self.surveys_answered += d.surveys_answered;
        self.rating_sum += d.rating_sum;
        self.sent_free += d.sent_free;
        self.sent_metered += d.sent_metered;
    }
}

const SUMS: &str = "received, accepted, answered, unanswered, transfers, declines, targeted, \
     within_target, handle_n, handle_ms, wrap_n, wrap_ms, surveys_sent, surveys_answered, \
     rating_sum, sent_free, sent_metered, wait_sketch, first_response_sketch";

/// `SUMS` read from column `at` on.
fn sums(r: &Row<'_>, at: usize) -> Result<Sums, StoreError> {
    Ok(Sums {
        received: r.get(at)?,
        accepted: r.get(at + 1)?,
        answered: r.get(at + 2)?,
        unanswered: r.get(at + 3)?,
        transfers: r.get(at + 4)?,
        declines: r.get(at + 5)?,
        targeted: r.get(at + 6)?,
        within_target: r.get(at + 7)?,
        handle_n: r.get(at + 8)?,
        handle_ms: r.get(at + 9)?,
        wrap_n: r.get(at + 10)?,
        wrap_ms: r.get(at + 11)?,
        surveys_sent: r.get(at + 12)?,
        surveys_answered: r.get(at + 13)?,
        rating_sum: r.get(at + 14)?,
        sent_free: r.get(at + 15)?,
        sent_metered: r.get(at + 16)?,
        wait_sketch: r.get(at + 17)?,
        first_response_sketch: r.get(at + 18)?,
    })
}

/// The row at `key`, if it exists.
pub fn daily<'a>(db: impl Into<Db<'a>>, key: &DayKey) -> Result<Option<Sums>, StoreError> {
    let db = db.into();
    db.query_opt(
        &format!(
            "SELECT {SUMS} FROM report_daily
             WHERE day = ?1 AND channel_id = ?2 AND queue_id = ?3 AND agent = ?4"
        ),
        args![key.day, key.channel_id, key.queue_id, key.agent],
        |r| sums(r, 0),
    )
}

/// Writes the row at `key` (the follower has added this batch's figures to it).
pub fn save_daily<'a>(db: impl Into<Db<'a>>, key: &DayKey, s: &Sums) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        &format!(
            "INSERT INTO report_daily (day, channel_id, queue_id, agent, {SUMS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19, ?20, ?21, ?22, ?23)
             ON CONFLICT (day, channel_id, queue_id, agent) DO UPDATE SET
                 received = ?5, accepted = ?6, answered = ?7, unanswered = ?8, transfers = ?9,
                 declines = ?10, targeted = ?11, within_target = ?12, handle_n = ?13,
                 handle_ms = ?14, wrap_n = ?15, wrap_ms = ?16, surveys_sent = ?17,
                 surveys_answered = ?18, rating_sum = ?19, sent_free = ?20, sent_metered = ?21,
                 wait_sketch = ?22, first_response_sketch = ?23"
        ),
        args![
            key.day,
            key.channel_id,
            key.queue_id,
            key.agent,
            s.received,
            s.accepted,
            s.answered,
            s.unanswered,
            s.transfers,
            s.declines,
            s.targeted,
            s.within_target,
            s.handle_n,
            s.handle_ms,
            s.wrap_n,
            s.wrap_ms,
            s.surveys_sent,
            s.surveys_answered,
            s.rating_sum,
            s.sent_free,
            s.sent_metered,
            s.wait_sketch,
            s.first_response_sketch
        ],
    )?;
    Ok(())
}

/// Every daily row from `from` to `to` (inclusive), in key order.
pub fn range<'a>(
    db: impl Into<Db<'a>>,
    from: &str,
    to: &str,
) -> Result<Vec<(DayKey, Sums)>, StoreError> {
    let db = db.into();
    db.query(
        &format!(
            "SELECT day, channel_id, queue_id, agent, {SUMS} FROM report_daily
             WHERE day >= ?1 AND day <= ?2 ORDER BY day, channel_id, queue_id, agent"
        ),
        args![from, to],
        |r| {
            Ok((
                DayKey {
                    day: r.get(0)?,
                    channel_id: r.get(1)?,
                    queue_id: r.get(2)?,
                    agent: r.get(3)?,
                },
                sums(r, 4)?,
            ))
        },
    )
}
