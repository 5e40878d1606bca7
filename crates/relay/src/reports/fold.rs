//! What one batch of the log adds to the reports: each conversation snapshot and each send
//! becomes increments of the daily sums, counted once per conversation (the follower keeps
//! what it counted in `report_conversations`).
//!
//! Attribution, as the README's "Report figures" says: a conversation's figures count on the
//! day it opened; each goes to the representative who did the thing (accepted, wrote first,
//! ended, handed over, owned it at close) and the queue it was in then. Sends count on the
//! day they were sent.

use std::collections::HashMap;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use linedesk_protocol::identity::chat_hash;
use linedesk_protocol::routing::{ConversationSnapshot, ConversationState, CONVERSATION_EVENT};
use serde_json::Value;
use sketches_ddsketch::{Config, DDSketch};

use crate::routing::config::Queue;
use crate::store::events::StoredEvent;
use crate::store::reports::{self as store, DayKey, Sums, Tracked};
use crate::store::sql::Db;
use crate::store::StoreError;

/// The sketches' settings: within 1 % of the true value, from 1 ms. Every row's sketches use
/// the same, so they merge.
pub fn sketch_config() -> Config {
    Config::new(0.01, 4096, 1.0)
}

/// A sketch read back from its stored bytes (an empty one when there are none).
pub fn sketch_of(bytes: Option<&[u8]>) -> DDSketch {
    bytes
        .and_then(|b| postcard::from_bytes(b).ok())
        .unwrap_or_else(|| DDSketch::new(sketch_config()))
}

/// Increments of one daily row in this batch.
#[derive(Default)]
struct Delta {
    sums: Sums,
    waits: Vec<f64>,
    first_responses: Vec<f64>,
}

/// One batch being counted, inside the writer's transaction.
pub struct Fold<'a> {
    db: Db<'a>,
    zone: TimeZone,
    /// Queue settings (service-level targets).
    queues: HashMap<String, Queue>,
    /// Conversations read or changed in this batch.
    tracked: HashMap<String, Tracked>,
    /// Increments by row.
    deltas: HashMap<DayKey, Delta>,
}

impl<'a> Fold<'a> {
    /// A batch counting days in `zone`.
    pub fn new(db: Db<'a>, zone: TimeZone) -> Result<Self, StoreError> {
        Ok(Self {
            queues: crate::access::queues(db)?,
            db,
            zone,
            tracked: HashMap::new(),
            deltas: HashMap::new(),
        })
    }

    /// `YYYY-MM-DD` of `ms` in the report time zone.
    pub fn day(&self, ms: i64) -> String {
        Timestamp::from_millisecond(ms)
            .map(|t| t.to_zoned(self.zone.clone()).date().to_string())
            .unwrap_or_default()
    }

    fn delta(&mut self, day: &str, channel: &str, queue: &str, agent: Option<&str>) -> &mut Delta {
        self.deltas
            .entry(DayKey {
                day: day.to_owned(),
                channel_id: channel.to_owned(),
                queue_id: queue.to_owned(),
                agent: agent.unwrap_or_default().to_owned(),
            })
            .or_default()
    }

    /// Counts one log event.
    pub fn event(&mut self, ev: &StoredEvent) -> Result<(), StoreError> {
        if ev.event_type == CONVERSATION_EVENT {
            let Ok(body) = serde_json::from_str::<Value>(&ev.body) else {
                return Ok(());
            };
            let Ok(snap) =
                serde_json::from_value::<ConversationSnapshot>(body["conversation"].clone())
            else {
                return Ok(());
            };
            return self.snapshot(&snap);
        }
        if ev.event_type == "linedeskSent" {
            let Ok(body) = serde_json::from_str::<Value>(&ev.body) else {
                return Ok(());
            };
            return self.sent(&ev.channel_id, &body, ev.event_ts);
        }
        Ok(())
    }

    fn tracked(&mut self, id: &str) -> Result<Option<Tracked>, StoreError> {
        if let Some(t) = self.tracked.get(id) {
            return Ok(Some(t.clone()));
        }
        store::conversation(self.db, id)
    }

    /// A conversation changed: counts what it did since the last snapshot the follower saw.
    fn snapshot(&mut self, s: &ConversationSnapshot) -> Result<(), StoreError> {
        use ConversationState as S;
        let channel = s.channel_id.as_str();
        let mut t = match self.tracked(&s.id)? {
            Some(t) => t,
            None => {
                let day = self.day(s.opened_at);
                self.delta(&day, channel, &s.queue_id, None).sums.received += 1;
                Tracked {
                    id: s.id.clone(),
                    channel_id: s.channel_id.clone(),
                    chat_hash: chat_hash(&s.channel_id, &s.chat_id),
                    day,
                    opened_at: s.opened_at,
                    state: S::Open.as_str().to_owned(),
                    queue_id: s.queue_id.clone(),
                    owner: None,
                    offered_to: None,
                    accepted_at: None,
                    first_response_at: None,
                    ended_at: None,
                    closed: false,
                    survey_sent: false,
                    rated: false,
                }
            }
        };
        let day = t.day.clone();
        let was = ConversationState::parse(&t.state).unwrap_or(S::Open);
        // Handed over: back to a queue (the relay notes who it came from), or straight to a
        // colleague. A Waiting conversation that the customer wakes goes back to Open too,
        // but it names no one as where it came from then: that is not a hand-over.
        let to_queue = matches!(was, S::Active | S::Waiting)
            && s.state == S::Open
            && t.owner.is_some()
            && s.transferred_from == t.owner;
        let to_colleague = matches!(
            (&t.owner, &s.owner),
            (Some(a), Some(b)) if a != b && !t.closed
        );
        if to_queue || to_colleague {
            let (queue, owner) = (t.queue_id.clone(), t.owner.clone());
            self.delta(&day, channel, &queue, owner.as_deref())
                .sums
                .transfers += 1;
        }
        // An offer that ended without its representative taking it: rejected, timed out, or
        // withdrawn when they left. Not when someone else settled it meanwhile: closed,
        // assigned to a colleague, or moved to another queue.
        let offered_now = s.offer.as_ref().map(|o| o.to.as_str());
        if let Some(was_offered) = t.offered_to.clone() {
            let settled = s.state == S::Closed || s.owner.is_some() || s.queue_id != t.queue_id;
            if offered_now != Some(was_offered.as_str()) && !settled {
                let queue = t.queue_id.clone();
                self.delta(&day, channel, &queue, Some(&was_offered))
                    .sums
                    .declines += 1;
            }
        }
        if let (None, Some(at)) = (t.accepted_at, s.accepted_at) {
            let wait = (at - t.opened_at).max(0);
            let target = self
                .queues
                .get(&s.queue_id)
                .and_then(|q| q.service_level)
                .map(|sl| sl.within_ms);
            let d = self.delta(&day, channel, &s.queue_id, s.owner.as_deref());
            d.sums.accepted += 1;
            d.waits.push(wait as f64);
            if let Some(within) = target {
                d.sums.targeted += 1;
                if wait <= within {
                    d.sums.within_target += 1;
                }
            }
            t.accepted_at = Some(at);
        }
        if let (None, Some(end), Some(accepted)) = (t.ended_at, s.ended_at, t.accepted_at) {
            let d = self.delta(&day, channel, &s.queue_id, s.owner.as_deref());
            d.sums.handle_n += 1;
            d.sums.handle_ms += (end - accepted).max(0);
            t.ended_at = Some(end);
        }
        if !t.closed && s.state == S::Closed {
            let closed_at = s.closed_at.unwrap_or(s.opened_at);
            let answered = t.first_response_at.is_some();
            let (accepted, ended) = (t.accepted_at, t.ended_at);
            let d = self.delta(&day, channel, &s.queue_id, s.owner.as_deref());
            if answered {
                d.sums.answered += 1;
            } else {
                d.sums.unanswered += 1;
            }
            match (ended, accepted) {
                (Some(end), _) => {
                    d.sums.wrap_n += 1;
                    d.sums.wrap_ms += (closed_at - end).max(0);
                }
                // Closed while being handled: it was handled until then, with no wrap-up.
                (None, Some(accepted)) => {
                    d.sums.handle_n += 1;
                    d.sums.handle_ms += (closed_at - accepted).max(0);
                }
                (None, None) => {}
            }
            if s.survey_asked && !t.survey_sent {
                d.sums.surveys_sent += 1;
                t.survey_sent = true;
            }
            t.closed = true;
        }
        if let (false, Some(rating)) = (t.rated, s.survey.as_ref().and_then(|a| a.rating)) {
            let d = self.delta(&day, channel, &s.queue_id, s.owner.as_deref());
            d.sums.surveys_answered += 1;
            d.sums.rating_sum += i64::from(rating);
            t.rated = true;
        }
        t.state = s.state.as_str().to_owned();
        t.queue_id = s.queue_id.clone();
        t.owner = s.owner.clone();
        t.offered_to = offered_now.map(str::to_owned);
        self.tracked.insert(t.id.clone(), t);
        Ok(())
    }

    /// The chat's conversation that was open at `at`, as this batch knows it.
    fn conversation_at(&mut self, hash: &str, at: i64) -> Result<Option<Tracked>, StoreError> {
        let stored = store::conversation_of_chat(self.db, hash, at)?;
        let in_batch = self
            .tracked
            .values()
            .filter(|t| t.chat_hash == hash && t.opened_at <= at)
            .max_by(|a, b| (a.opened_at, &a.id).cmp(&(b.opened_at, &b.id)))
            .cloned();
        let latest = match (stored, in_batch) {
            (Some(s), Some(b)) => {
                if (b.opened_at, &b.id) >= (s.opened_at, &s.id) {
                    b
                } else {
                    s
                }
            }
            (s, b) => match s.or(b) {
                Some(t) => t,
                None => return Ok(None),
            },
        };
        // The batch's copy is newer than the stored one.
        Ok(Some(
            self.tracked.get(&latest.id).cloned().unwrap_or(latest),
        ))
    }

    /// A message went out: free or metered, and maybe the conversation's first response.
    fn sent(&mut self, channel: &str, body: &Value, at: i64) -> Result<(), StoreError> {
        let Some(chat) = ["userId", "groupId", "roomId"]
            .iter()
            .find_map(|k| body["source"][*k].as_str())
        else {
            return Ok(());
        };
        let by = body["sentBy"].as_str().map(str::to_owned);
        let conversation = self.conversation_at(&chat_hash(channel, chat), at)?;
        let queue = conversation
            .as_ref()
            .map(|t| t.queue_id.clone())
            .unwrap_or_default();
        let day = self.day(at);
        let d = self.delta(&day, channel, &queue, by.as_deref());
        if body["via"].as_str() == Some("reply") {
            d.sums.sent_free += 1;
        } else {
            d.sums.sent_metered += 1;
        }
        let (Some(by), Some(mut t)) = (by, conversation) else {
            return Ok(());
        };
        if t.first_response_at.is_none() && !t.closed {
            let d = self.delta(&t.day.clone(), channel, &t.queue_id.clone(), Some(&by));
            d.first_responses.push((at - t.opened_at).max(0) as f64);
            t.first_response_at = Some(at);
            self.tracked.insert(t.id.clone(), t);
        }
        Ok(())
    }

    /// Writes the batch: the conversations it changed and the sums it added.
    pub fn finish(self) -> Result<(), StoreError> {
        for t in self.tracked.values() {
            store::save_conversation(self.db, t)?;
        }
        for (key, delta) in self.deltas {
            let mut row = store::daily(self.db, &key)?.unwrap_or_default();
            row.add(&delta.sums);
            row.wait_sketch = grown(row.wait_sketch.as_deref(), &delta.waits)?;
            row.first_response_sketch =
                grown(row.first_response_sketch.as_deref(), &delta.first_responses)?;
            store::save_daily(self.db, &key, &row)?;
        }
        Ok(())
    }
}

/// The sketch `stored` with `values` added (unchanged when there are none).
fn grown(stored: Option<&[u8]>, values: &[f64]) -> Result<Option<Vec<u8>>, StoreError> {
    if values.is_empty() {
        return Ok(stored.map(<[u8]>::to_vec));
    }
    let mut sketch = sketch_of(stored);
    for v in values {
        sketch.add(*v);
    }
    postcard::to_allocvec(&sketch)
        .map(Some)
        .map_err(|e| StoreError::Other(e.to_string()))
}
