//! The newest events of the log, read once for every console.
//!
//! Each console session streams the log from its own cursor. Reading SQLite per session per
//! commit costs one query times the number of consoles (500 consoles at a few hundred commits
//! a second saturate two cores), so one follower task takes each new event once (as this
//! relay's writer appended it, [`crate::log::Fresh`], or else read from the log), serializes
//! its `event` frame once, and keeps the newest [`CAPACITY`] in a ring. A session whose cursor
//! is inside the ring streams from memory; one further behind (a console back from a day
//! offline, a first sign-in) reads its backlog from the log as before. [`Tail::head`] moves
//! only after the ring holds the events, so a session never waits on what it cannot read.
//!
//! An erasure deletes a customer's events from the log; [`Tail::forget_chat`] drops them from
//! the ring too, so no later session can be handed them from memory.

use std::collections::VecDeque;
use std::sync::{Arc, RwLock};

use axum::extract::ws::Utf8Bytes;
use linedesk_protocol::{EventFrame, ServerFrame};
use serde_json::value::RawValue;
use tokio::sync::watch;

use crate::store::events::{self, StoredEvent};
use crate::Relay;

/// Events kept in memory.
pub const CAPACITY: usize = 16_384;
/// Events read from the log per round trip.
const READ_BATCH: usize = 1_024;
/// Under load the tail moves at most this often: every move wakes every console session, so
/// at 1,000 commits/s and 500 consoles, publishing each commit alone would be half a million
/// wake-ups a second. Idle, the first event goes out at once.
const MIN_INTERVAL: std::time::Duration = std::time::Duration::from_millis(4);

/// One event, with its frame as every console receives it.
#[derive(Debug)]
pub struct TailEvent {
    /// The event as logged, shared with the followers that read it from the ring.
    pub event: Arc<StoredEvent>,
    /// `{"type":"event","data":…}`, serialized once.
    pub frame: Utf8Bytes,
}

struct Ring {
    /// The ring holds every event with a sequence above this.
    floor: u64,
    events: VecDeque<Arc<TailEvent>>,
}

/// The shared tail; part of [`Relay`].
pub struct Tail {
    ring: RwLock<Ring>,
    head: watch::Sender<u64>,
}

impl Tail {
    /// An empty tail that starts at the log's `head`.
    pub fn new(head: u64) -> Self {
        Self {
            ring: RwLock::new(Ring {
                floor: head,
                events: VecDeque::new(),
            }),
            head: watch::channel(head).0,
        }
    }

    /// The highest sequence the tail holds; moves after the events are in memory.
    pub fn head(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    /// Events after `cursor`, oldest first, at most `limit`; `None` when the ring does not
    /// reach back that far (read the log instead).
    pub fn after(&self, cursor: u64, limit: usize) -> Option<Vec<Arc<TailEvent>>> {
        let ring = self.ring.read().expect("tail lock");
        if cursor < ring.floor {
            return None;
        }
        let start = ring.events.partition_point(|e| e.event.seq <= cursor);
        Some(ring.events.range(start..).take(limit).cloned().collect())
    }

    fn push(&self, batch: Vec<StoredEvent>) -> anyhow::Result<()> {
        let Some(last) = batch.last().map(|e| e.seq) else {
            return Ok(());
        };
        let mut shared = Vec::with_capacity(batch.len());
        for event in batch {
            let frame = RawValue::from_string(event.body.clone()).and_then(|body| {
                serde_json::to_string(&ServerFrame::Event(EventFrame {
                    seq: event.seq,
                    channel_id: event.channel_id.clone(),
                    webhook_event_id: event.webhook_event_id.clone(),
                    received_at: event.received_at,
                    event: body,
                }))
            });
            match frame {
                Ok(frame) => shared.push(Arc::new(TailEvent {
                    event: Arc::new(event),
                    frame: frame.into(),
                })),
                Err(e) => {
                    // The ring must not have a hole that routing or a console would step
                    // over: start it again after this batch, so whoever is behind reads the
                    // log instead.
                    {
                        let mut ring = self.ring.write().expect("tail lock");
                        ring.events.clear();
                        ring.floor = last;
                    }
                    self.head.send_replace(last);
                    return Err(anyhow::anyhow!("event {} cannot be framed: {e}", event.seq));
                }
            }
        }
        {
            let mut ring = self.ring.write().expect("tail lock");
            ring.events.extend(shared);
            while ring.events.len() > CAPACITY {
                if let Some(old) = ring.events.pop_front() {
                    ring.floor = old.event.seq;
                }
            }
        }
        self.head.send_replace(last);
        Ok(())
    }

    /// Drops an erased customer's events from memory.
    pub fn forget_chat(&self, channel: &str, chat: &str) {
        self.ring
            .write()
            .expect("tail lock")
            .events
            .retain(|e| e.event.channel_id != channel || e.event.chat_id.as_deref() != Some(chat));
    }
}

/// What a follower of the log (routing, media) reads next: the events after `cursor`, at
/// most `limit`, from the ring when it reaches back that far, else from the log. Followers
/// wake on [`Tail::head`], which moves once the ring holds the events, so each event is read
/// from the database once for every follower and console instead of once per follower.
pub async fn events_after(
    relay: &Relay,
    cursor: u64,
    limit: usize,
) -> anyhow::Result<Vec<Arc<StoredEvent>>> {
    if let Some(held) = relay.tail().after(cursor, limit) {
        // Shared, not copied: three followers read every event.
        return Ok(held.iter().map(|e| e.event.clone()).collect());
    }
    let read = relay
        .read(move |c| events::read_after(c, cursor, limit))
        .await?;
    Ok(read.into_iter().map(Arc::new).collect())
}

/// Follows the writer's head and reads each new event once, until shutdown.
pub async fn follow(relay: Relay) {
    let mut head_rx = relay.log_head();
    let mut stop = relay.shutdown_signal();
    let mut read_to = *relay.tail().head.borrow();
    let mut last_move = tokio::time::Instant::now() - MIN_INTERVAL;
    loop {
        // Gather what commits in the meantime into one move.
        tokio::time::sleep_until(last_move + MIN_INTERVAL).await;
        last_move = tokio::time::Instant::now();
        let head = *head_rx.borrow_and_update();
        while read_to < head {
            let after = read_to;
            // What this relay's writer just appended, handed over as written.
            if let Some(run) = relay.writer().fresh().take_after(after) {
                read_to = run.last().map_or(after, |e| e.seq);
                if let Err(e) = relay.tail().push(run) {
                    tracing::error!(error = %e, "could not keep a logged event for consoles");
                }
                continue;
            }
            match relay
                .read(move |c| events::read_after(c, after, READ_BATCH))
                .await
            {
                Ok(batch) if batch.is_empty() => {
                    // Nothing past the cursor (rows erased meanwhile): the head is reached.
                    read_to = head;
                    relay.tail().head.send_replace(head);
                }
                Ok(batch) => {
                    read_to = batch.last().map_or(head, |e| e.seq);
                    if let Err(e) = relay.tail().push(batch) {
                        tracing::error!(error = %e, "could not keep a logged event for consoles");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the log for consoles; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
        tokio::select! {
            changed = head_rx.changed() => if changed.is_err() { return },
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A logged message event of `chat` on channel `c`.
    pub(crate) fn ev(seq: u64, chat: &str) -> StoredEvent {
        StoredEvent {
            seq,
            channel_id: "c".into(),
            webhook_event_id: Some(format!("E{seq}")),
            event_type: "message".into(),
            event_ts: 0,
            received_at: 0,
            body: format!(r#"{{"source":{{"userId":"{chat}"}}}}"#),
            chat_id: Some(chat.into()),
        }
    }

    #[test]
    fn an_event_that_cannot_be_framed_leaves_no_hole_in_the_ring() {
        let tail = Tail::new(10);
        tail.push((11..=12).map(|s| ev(s, "U1")).collect())
            .expect("push");
        let mut bad = ev(14, "U1");
        bad.body = "not json".into();
        assert!(tail.push(vec![ev(13, "U1"), bad, ev(15, "U1")]).is_err());
        assert!(
            tail.after(12, 10).is_none(),
            "behind the failed batch: read the log"
        );
        assert_eq!(tail.after(15, 10).map(|v| v.len()), Some(0));
        assert_eq!(*tail.head().borrow(), 15, "the head still moves");
    }

    #[test]
    fn a_cursor_inside_the_ring_is_served_from_memory_and_older_ones_are_not() {
        let tail = Tail::new(10);
        tail.push((11..=13).map(|s| ev(s, "U1")).collect())
            .expect("push");
        let seqs = |v: Option<Vec<Arc<TailEvent>>>| {
            v.map(|v| v.iter().map(|e| e.event.seq).collect::<Vec<_>>())
        };
        assert_eq!(seqs(tail.after(10, 10)), Some(vec![11, 12, 13]));
        assert_eq!(seqs(tail.after(12, 10)), Some(vec![13]));
        assert_eq!(
            seqs(tail.after(9, 10)),
            None,
            "before the ring: read the log"
        );
        assert_eq!(*tail.head().borrow(), 13);
        let frame = tail.after(12, 1).expect("held")[0].frame.to_string();
        assert!(
            frame.starts_with(r#"{"type":"event","data":{"seq":13"#),
            "{frame}"
        );
    }

    #[test]
    fn the_ring_keeps_the_newest_and_forgets_erased_chats() {
        let tail = Tail::new(0);
        tail.push(
            (1..=(CAPACITY as u64 + 5))
                .map(|s| ev(s, if s % 2 == 0 { "U2" } else { "U1" }))
                .collect(),
        )
        .expect("push");
        assert!(tail.after(4, 1).is_none(), "the oldest five left the ring");
        assert!(tail.after(5, 1).is_some());
        tail.forget_chat("c", "U2");
        let left = tail.after(5, usize::MAX).expect("held");
        assert!(left
            .iter()
            .all(|e| e.event.chat_id.as_deref() == Some("U1")));
    }
}
