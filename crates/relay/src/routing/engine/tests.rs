//! The routing rules on the in-memory store: each test is a small floor (a channel, a few
//! representatives, customers writing) moved through time by hand, one engine per
//! transaction as the writer runs it.

use std::collections::BTreeMap;

use linedesk_protocol::routing::{ConversationState, Presence, CONVERSATION_EVENT};
use linedesk_protocol::Role;
use serde_json::json;

use super::super::config::{Condition, Queue, Rule, Survey, WrapUpBlocks, DEFAULT_QUEUE};
use super::{Actor, Command, Engine, EngineError, GRACE_MS};
use crate::store::events::StoredEvent;
use crate::store::memory::MemoryRouting;
use crate::store::routing::RoutingStore as _;

const CHANNEL: &str = "1650000000";
const T0: i64 = 1_700_000_000_000;

/// A floor: the store and the time, with one engine per step as the writer runs it.
struct Floor {
    store: Option<MemoryRouting>,
    now: i64,
    seq: u64,
}

impl Floor {
    fn new(store: MemoryRouting) -> Self {
        Self {
            store: Some(store),
            now: T0,
            seq: 0,
        }
    }

    /// The usual floor: rita and sam take work, the default workstream.
    fn team() -> Self {
        Self::new(
            MemoryRouting::default()
                .with_user("rita", "representative")
                .with_user("sam", "representative")
                .with_user("sue", "supervisor"),
        )
    }

    /// Runs one transaction.
    fn step<T>(
        &mut self,
        f: impl FnOnce(&mut Engine<MemoryRouting>) -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        let mut engine = Engine::with_store(self.store.take().expect("store"), self.now);
        let out = f(&mut engine);
        self.store = Some(engine.into_store().expect("flush"));
        out
    }

    fn store(&self) -> &MemoryRouting {
        self.store.as_ref().expect("store")
    }

    fn store_mut(&mut self) -> &mut MemoryRouting {
        self.store.as_mut().expect("store")
    }

    fn advance(&mut self, ms: i64) {
        self.now += ms;
    }

    /// A customer writes; routed like a batch of one, then distribution.
    fn customer_writes(&mut self, user: &str, text: &str) {
        let n = self.seq + 1;
        self.customer_event(
            user,
            "message",
            json!({
                "replyToken": format!("token{n}"),
                "message": {"type": "text", "id": format!("m{n}"), "text": text},
            }),
        );
    }

    /// A customer taps a postback button.
    fn postback(&mut self, user: &str, data: &str) {
        self.customer_event(user, "postback", json!({ "postback": {"data": data} }));
    }

    /// Logs and routes one customer event of `kind` with the fields of `extra`.
    fn customer_event(&mut self, user: &str, kind: &str, extra: serde_json::Value) {
        self.seq += 1;
        let mut body = json!({
            "type": kind, "mode": "active", "timestamp": self.now,
            "source": {"type": "user", "userId": user},
        });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let ev = StoredEvent {
            seq: self.seq,
            channel_id: CHANNEL.into(),
            webhook_event_id: Some(format!("E{}", self.seq)),
            event_type: kind.into(),
            event_ts: self.now,
            received_at: self.now,
            body: body.to_string(),
            chat_id: Some(user.into()),
        };
        self.routed(&ev);
    }

    fn routed(&mut self, ev: &StoredEvent) {
        self.step(|e| {
            e.on_event(ev)?;
            e.flush_touches()?;
            e.distribute()?;
            Ok(())
        })
        .expect("routed");
    }

    fn tick(&mut self) -> usize {
        self.step(|e| Ok(e.tick()?)).expect("tick")
    }

    fn available(&mut self, user: &str) {
        self.step(|e| {
            e.connection(user, true)?;
            e.set_presence(user, Presence::Available)?;
            e.distribute()?;
            Ok(())
        })
        .expect("available");
    }

    fn command(&mut self, user: &str, id: &str, cmd: Command) -> Result<(), EngineError> {
        let role = match self.store().users.get(user).map(String::as_str) {
            Some("supervisor") => Role::Supervisor,
            Some("admin") => Role::Admin,
            _ => Role::Rep,
        };
        let actor = Actor {
            user: user.into(),
            role,
        };
        self.step(|e| {
            e.command(&actor, id, cmd)?;
            e.distribute()?;
            Ok(())
        })
    }

    /// The live conversation of a customer.
    fn live(&self, user: &str) -> crate::store::routing::Conversation {
        self.store()
            .live_conversation(CHANNEL, user)
            .expect("read")
            .unwrap_or_else(|| panic!("{user} has no live conversation"))
    }

    fn presence(&self, user: &str) -> Presence {
        self.store().agents[user].presence
    }
}

#[test]
fn a_message_opens_one_conversation_in_the_rule_queue_and_later_ones_join_it() {
    let mut floor = Floor::team();
    floor.store_mut().queues.insert(
        "billing".into(),
        Queue {
            name: "Billing".into(),
            ..Queue::default()
        },
    );
    let ws = floor
        .store_mut()
        .workstreams
        .entry(CHANNEL.into())
        .or_default();
    ws.rules.push(Rule {
        name: "invoices".into(),
        conditions: vec![Condition::Keywords {
            any_of: vec!["invoice".into()],
        }],
        queue: "billing".into(),
    });
    floor.customer_writes("U1", "Where is my invoice?");
    floor.advance(1_000);
    floor.customer_writes("U1", "hello?");
    floor.customer_writes("U2", "hi");

    let u1 = floor.live("U1");
    assert_eq!(u1.queue_id, "billing", "the keyword rule chose the queue");
    assert_eq!(u1.first_text.as_deref(), Some("Where is my invoice?"));
    assert_eq!(
        u1.last_customer_at,
        T0 + 1_000,
        "the second message moved it"
    );
    assert_eq!(
        u1.reply_token.as_deref(),
        Some("token2"),
        "the newest token"
    );
    assert_eq!(floor.live("U2").queue_id, DEFAULT_QUEUE, "no rule matched");
    assert_eq!(
        floor.store().conversations.len(),
        2,
        "one conversation per customer"
    );
    let snapshots = floor
        .store()
        .events
        .iter()
        .filter(|(_, e)| e.event_type == CONVERSATION_EVENT)
        .count();
    assert_eq!(snapshots, 2, "each opening told consoles once");
}

#[test]
fn push_offers_go_to_the_least_loaded_and_lapse_into_declines_up_to_the_limit() {
    let mut floor = Floor::team();
    floor.available("rita");
    floor.available("sam");
    floor.customer_writes("U1", "first");
    let first = floor.live("U1");
    let first_to = first.offered_to.clone().expect("offered");
    floor
        .command(&first_to, &first.id, Command::Accept)
        .expect("accepted");
    assert_eq!(floor.presence(&first_to), Presence::Busy, "1 of 3 units");

    floor.customer_writes("U2", "second");
    let second = floor.live("U2");
    let other = if first_to == "rita" { "sam" } else { "rita" };
    assert_eq!(
        second.offered_to.as_deref(),
        Some(other),
        "the idle one gets the next offer"
    );

    // Let the offer lapse: the idler one is offered it until they reach the decline limit
    // (3 by default), then the other, until neither may have it.
    let ws = floor.store().workstream(CHANNEL).expect("ws");
    for round in 0..6 {
        floor.advance(ws.offer_timeout_ms);
        floor.tick();
        let now = floor.live("U2");
        if round < 5 {
            assert!(now.offered_to.is_some(), "offered again in round {round}");
        } else {
            assert_eq!(now.offered_to, None, "both declined three times");
        }
    }
    let declines = floor.store().declines(&second.id).expect("declines");
    assert_eq!(declines.get("rita"), Some(&3));
    assert_eq!(declines.get("sam"), Some(&3));
}

#[test]
fn capacity_moves_presence_and_a_timed_wrap_up_holds_it_until_it_ends() {
    let mut floor = Floor::team();
    floor.store_mut().workstreams.insert(
        CHANNEL.into(),
        super::Workstream {
            wrap_up_blocks: WrapUpBlocks::Duration { ms: 90_000 },
            ..super::Workstream::default()
        },
    );
    floor.step(|e| e.set_capacity("rita", 2)).expect("cap");
    floor.available("rita");
    let mut ids = Vec::new();
    for user in ["U1", "U2"] {
        floor.customer_writes(user, "hi");
        let c = floor.live(user);
        assert_eq!(c.offered_to.as_deref(), Some("rita"));
        floor
            .command("rita", &c.id, Command::Accept)
            .expect("accept");
        ids.push(c.id);
    }
    assert_eq!(floor.presence("rita"), Presence::DoNotDisturb, "2 of 2");
    floor.customer_writes("U3", "me too");
    assert_eq!(floor.live("U3").offered_to, None, "no room for a third");

    floor.command("rita", &ids[0], Command::End).expect("end");
    floor.advance(89_000);
    floor.tick();
    assert_eq!(
        floor.live("U3").offered_to,
        None,
        "the wrap-up still holds its unit"
    );
    floor.advance(1_000);
    floor.tick();
    assert_eq!(
        floor.live("U3").offered_to.as_deref(),
        Some("rita"),
        "offered once the wrap-up's 90 s are over"
    );
}

#[test]
fn a_returning_customer_is_offered_to_the_last_representative_first() {
    let mut floor = Floor::team();
    floor.available("rita");
    floor.customer_writes("U1", "hello");
    floor.customer_writes("U9", "other");
    for user in ["U1", "U9"] {
        let c = floor.live(user);
        floor
            .command("rita", &c.id, Command::Accept)
            .expect("accept");
    }
    let first = floor.live("U1").id;
    floor
        .command("rita", &first, Command::Close)
        .expect("close");
    floor.available("sam");

    // sam has all three units free and was never offered anything; rita holds U9.
    floor.advance(60_000);
    floor.customer_writes("U1", "me again");
    let again = floor.live("U1");
    assert_eq!(again.affinity_to.as_deref(), Some("rita"));
    assert_eq!(
        again.offered_to.as_deref(),
        Some("rita"),
        "affinity beats the idler representative"
    );
}

#[test]
fn queue_priority_then_longest_waiting_decides_who_is_offered_first() {
    let mut floor = Floor::team();
    floor.store_mut().queues.insert(
        "vip".into(),
        Queue {
            name: "VIP".into(),
            priority: 5,
            ..Queue::default()
        },
    );
    floor
        .store_mut()
        .workstreams
        .entry(CHANNEL.into())
        .or_default()
        .rules
        .push(Rule {
            name: "vip".into(),
            conditions: vec![Condition::Keywords {
                any_of: vec!["gold".into()],
            }],
            queue: "vip".into(),
        });
    floor.customer_writes("U1", "plain, waiting longest");
    floor.advance(1_000);
    floor.customer_writes("U2", "plain");
    floor.advance(1_000);
    floor.customer_writes("U3", "gold member");
    floor.step(|e| e.set_capacity("rita", 1)).expect("cap");
    floor.available("rita");
    assert_eq!(
        floor.live("U3").offered_to.as_deref(),
        Some("rita"),
        "VIP first"
    );
    let vip = floor.live("U3").id;
    floor
        .command("rita", &vip, Command::Accept)
        .expect("accept");
    floor.command("rita", &vip, Command::Close).expect("close");
    assert_eq!(
        floor.live("U1").offered_to.as_deref(),
        Some("rita"),
        "then the longest waiting"
    );
    assert_eq!(floor.live("U2").offered_to, None);
}

#[test]
fn a_console_that_goes_away_loses_its_offers_and_after_the_grace_its_presence() {
    let mut floor = Floor::team();
    floor.available("rita");
    floor.customer_writes("U1", "hi");
    let c = floor.live("U1");
    floor
        .command("rita", &c.id, Command::Accept)
        .expect("accept");
    floor.customer_writes("U2", "hello");
    assert_eq!(floor.live("U2").offered_to.as_deref(), Some("rita"));

    floor
        .step(|e| Ok(e.connection("rita", false)?))
        .expect("gone");
    assert_eq!(
        floor.live("U2").offered_to,
        None,
        "the offer went back to the queue at once"
    );
    assert_eq!(
        floor
            .store()
            .declines(&floor.live("U2").id)
            .expect("d")
            .len(),
        0,
        "and is not counted as a decline"
    );
    floor.tick();
    assert_eq!(floor.live("U2").offered_to, None, "nothing new while away");
    assert_eq!(
        floor.presence("rita"),
        Presence::Busy,
        "kept through the grace"
    );

    floor.advance(GRACE_MS);
    floor.tick();
    assert_eq!(
        floor.presence("rita"),
        Presence::Inactive,
        "gone, but still holds a conversation"
    );
    floor.command("rita", &c.id, Command::Close).expect("close");
    assert_eq!(floor.presence("rita"), Presence::Offline);
}

#[test]
fn a_waiting_conversation_wakes_when_the_customer_writes_and_goes_back_to_its_owner() {
    let mut floor = Floor::team();
    floor.available("rita");
    floor.customer_writes("U1", "hi");
    let c = floor.live("U1");
    floor
        .command("rita", &c.id, Command::Accept)
        .expect("accept");
    floor.command("rita", &c.id, Command::Wait).expect("wait");
    assert_eq!(
        floor.presence("rita"),
        Presence::Available,
        "capacity freed"
    );
    floor.available("sam");
    floor.advance(5_000);
    floor.customer_writes("U1", "any news?");
    let woken = floor.live("U1");
    assert_eq!(woken.state, ConversationState::Open);
    assert_eq!(woken.owner, None);
    assert_eq!(woken.offered_to.as_deref(), Some("rita"), "its owner first");
    assert_eq!(woken.last_customer_at, T0 + 5_000);
}

#[test]
fn transfers_record_where_a_conversation_came_from_and_start_declines_afresh() {
    let mut floor = Floor::team();
    floor
        .store_mut()
        .queues
        .insert("second".into(), Queue::default());
    floor.available("rita");
    floor.available("sam");
    floor.customer_writes("U1", "hi");
    let c = floor.live("U1");
    let first = c.offered_to.clone().expect("offered");
    floor
        .command(&first, &c.id, Command::Reject)
        .expect("reject");
    let second = floor.live("U1").offered_to.expect("offered to the other");
    floor
        .command(&second, &c.id, Command::Accept)
        .expect("accept");
    floor
        .command(&second, &c.id, Command::TransferToQueue("second".into()))
        .expect("to queue");
    let moved = floor.live("U1");
    assert_eq!(moved.queue_id, "second");
    assert_eq!(moved.owner, None);
    assert_eq!(moved.transferred_from.as_deref(), Some(second.as_str()));
    assert!(
        floor.store().declines(&c.id).expect("d").is_empty(),
        "declines start afresh"
    );
    let holder = moved.offered_to.expect("offered again at once");
    assert_eq!(
        floor
            .command("sam", "no-such-id", Command::Accept)
            .err()
            .map(|e| e.to_string()),
        Some("no such conversation".into())
    );
    floor
        .command(&holder, &c.id, Command::Accept)
        .expect("accept");
    let other = if holder == "rita" { "sam" } else { "rita" };
    // A representative cannot move someone else's conversation; a supervisor can.
    assert!(matches!(
        floor.command(other, &c.id, Command::TransferToUser(other.into())),
        Err(EngineError::Forbidden(_))
    ));
    floor
        .command("sue", &c.id, Command::TransferToUser(other.into()))
        .expect("supervisor moves it");
    let now = floor.live("U1");
    assert_eq!(now.owner.as_deref(), Some(other));
    assert_eq!(now.state, ConversationState::Active);
    assert_eq!(now.transferred_from.as_deref(), Some(holder.as_str()));
}

#[test]
fn the_survey_takes_the_first_rating_and_a_comment_within_the_window() {
    let mut floor = Floor::team();
    floor.store_mut().workstreams.insert(
        CHANNEL.into(),
        super::Workstream {
            survey: Survey::Buttons {
                question: BTreeMap::from([("en".into(), "How did we do?".into())]),
                scale: vec!["1".into(), "2".into(), "3".into()],
                comment_prompt: BTreeMap::from([("en".into(), "Tell us more".into())]),
            },
            ..super::Workstream::default()
        },
    );
    floor.available("rita");
    floor.customer_writes("U1", "hi");
    let id = floor.live("U1").id;
    floor.command("rita", &id, Command::Accept).expect("accept");
    floor.command("rita", &id, Command::Close).expect("close");
    let asked = floor
        .store()
        .automated
        .last()
        .expect("survey queued")
        .clone();
    assert!(asked.messages.contains("How did we do?"));
    assert_eq!(asked.trigger, "closed");

    floor.postback("U1", &format!("linedesk-survey:{id}:3"));
    floor.postback("U1", &format!("linedesk-survey:{id}:1"));
    let answer = floor.store().answers[&id].clone();
    assert_eq!(answer.rating, Some(3), "the first tap counts");
    assert_eq!(answer.owner.as_deref(), Some("rita"));
    assert_eq!(
        floor.store().conversations[&id].survey_state.as_deref(),
        Some("rated")
    );
    floor.advance(60_000);
    floor.customer_writes("U1", "Quick and kind, thanks");
    assert_eq!(
        floor.store().answers[&id].comment.as_deref(),
        Some("Quick and kind, thanks")
    );
    assert_eq!(
        floor.store().conversations[&id].survey_state.as_deref(),
        Some("done")
    );
    assert!(
        floor
            .store()
            .live_conversation(CHANNEL, "U1")
            .expect("read")
            .is_none(),
        "a comment opens no conversation"
    );
    floor.customer_writes("U1", "one more question");
    assert!(
        floor.store().answers[&id].comment.as_deref() == Some("Quick and kind, thanks"),
        "only one comment"
    );
    assert_eq!(
        floor.live("U1").first_text.as_deref(),
        Some("one more question")
    );
}

#[test]
fn idle_held_conversations_auto_close_and_open_ones_do_not() {
    let mut floor = Floor::team();
    floor.store_mut().workstreams.insert(
        CHANNEL.into(),
        super::Workstream {
            auto_close_after_ms: Some(3_600_000),
            ..super::Workstream::default()
        },
    );
    floor.available("rita");
    floor.customer_writes("U1", "hi");
    let held = floor.live("U1").id;
    floor
        .command("rita", &held, Command::Accept)
        .expect("accept");
    floor
        .step(|e| e.set_presence("rita", Presence::Away))
        .expect("away");
    floor.customer_writes("U2", "waiting in the queue");
    floor.advance(3_600_000);
    floor.tick();
    let closed = &floor.store().conversations[&held];
    assert_eq!(closed.state, ConversationState::Closed);
    assert_eq!(closed.close_reason.as_deref(), Some("auto_close"));
    assert_eq!(
        floor.live("U2").state,
        ConversationState::Open,
        "nobody held it: it waits"
    );
    assert_eq!(
        floor.store().customers[&(CHANNEL.to_owned(), "U1".to_owned())]
            .last_owner
            .as_deref(),
        Some("rita"),
        "affinity remembered"
    );
}

#[test]
fn taking_a_conversation_counts_as_activity_for_auto_close() {
    let mut floor = Floor::team();
    floor.customer_writes("U1", "anyone there?");
    // Nobody was available for a day; then rita comes and takes it.
    floor.advance(24 * 3_600_000);
    floor.tick();
    floor.available("rita");
    let c = floor.live("U1");
    assert_eq!(c.offered_to.as_deref(), Some("rita"));
    floor
        .command("rita", &c.id, Command::Accept)
        .expect("accept");
    floor.advance(1_000);
    floor.tick();
    assert_eq!(
        floor.live("U1").state,
        ConversationState::Active,
        "not closed as idle a second after she took it"
    );
}
