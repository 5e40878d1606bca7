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
        ..Rule::default()
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
        .command("rita", &first, Command::Close(None))
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
            ..Rule::default()
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
    floor
        .command("rita", &vip, Command::Close(None))
        .expect("close");
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
    floor
        .command("rita", &c.id, Command::Close(None))
        .expect("close");
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
    // Sue supervises the second queue (only its supervisors and admins move others' work).
    floor.store_mut().queues.insert(
        "second".into(),
        Queue {
            supervisors: vec!["sue".into()],
            ..Queue::default()
        },
    );
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
    // A representative cannot move someone else's conversation; its queue's supervisor can.
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
    floor
        .command("rita", &id, Command::Close(None))
        .expect("close");
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

// Routing as deep as the suites': skills, overflow, split, presence after offers, unattended
// Open items, queue position and transfer messages.

/// A workstream for the tests below: a position message and a transfer message in English.
fn chatty(floor: &mut Floor) -> &mut super::Workstream {
    let ws = floor
        .store_mut()
        .workstreams
        .entry(CHANNEL.into())
        .or_default();
    ws.messages.clear();
    ws.messages.insert(
        super::super::config::Trigger::QueuePosition,
        BTreeMap::from([(
            "en".into(),
            "You are number {Position} in {QueueName}.".into(),
        )]),
    );
    ws.messages.insert(
        super::super::config::Trigger::TransferAccepted,
        BTreeMap::from([("en".into(), "{AgentName} is helping you now.".into())]),
    );
    ws
}

/// The texts of the automated messages queued for a customer, in order.
fn told(floor: &Floor, user: &str) -> Vec<String> {
    floor
        .store()
        .automated
        .iter()
        .filter(|m| m.chat_id == user)
        .flat_map(|m| {
            serde_json::from_str::<Vec<serde_json::Value>>(&m.messages).unwrap_or_default()
        })
        .filter_map(|m| m["text"].as_str().map(str::to_owned))
        .collect()
}

fn skill_rule(skills: &[&str], skill_match: super::super::config::SkillMatch) -> Rule {
    Rule {
        name: "thai".into(),
        conditions: vec![Condition::Keywords {
            any_of: vec!["สวัสดี".into()],
        }],
        queue: DEFAULT_QUEUE.into(),
        required_skills: skills.iter().map(|s| (*s).to_owned()).collect(),
        skill_match,
        ..Rule::default()
    }
}

#[test]
fn exact_skills_wait_for_a_representative_who_has_them_all() {
    use super::super::config::SkillMatch;
    let mut floor = Floor::team();
    floor
        .store_mut()
        .skills
        .insert("sam".into(), vec!["Thai".into(), "billing".into()]);
    floor
        .store_mut()
        .workstreams
        .entry(CHANNEL.into())
        .or_default()
        .rules
        .push(skill_rule(&["thai"], SkillMatch::Exact));
    floor.available("rita");
    floor.customer_writes("U1", "สวัสดีครับ");
    let u1 = floor.live("U1");
    assert_eq!(u1.required_skills, ["thai"]);
    assert_eq!(u1.offered_to, None, "rita speaks no Thai: it waits");
    floor.customer_writes("U2", "hello");
    assert_eq!(floor.live("U2").offered_to.as_deref(), Some("rita"));
    floor.available("sam");
    assert_eq!(
        floor.live("U1").offered_to.as_deref(),
        Some("sam"),
        "skills match case-insensitively"
    );
}

#[test]
fn closest_skills_prefer_the_best_match_and_fall_back_to_anyone() {
    use super::super::config::SkillMatch;
    let mut floor = Floor::team();
    floor
        .store_mut()
        .skills
        .insert("rita".into(), vec!["billing".into()]);
    floor
        .store_mut()
        .skills
        .insert("sam".into(), vec!["thai".into(), "billing".into()]);
    floor
        .store_mut()
        .workstreams
        .entry(CHANNEL.into())
        .or_default()
        .rules
        .push(skill_rule(&["thai", "billing"], SkillMatch::Closest));
    floor.available("rita");
    floor.available("sam");
    floor.customer_writes("U1", "สวัสดี บิล");
    assert_eq!(
        floor.live("U1").offered_to.as_deref(),
        Some("sam"),
        "both skills beat one"
    );
    floor.customer_writes("U2", "สวัสดี");
    assert_eq!(
        floor.live("U2").offered_to.as_deref(),
        Some("rita"),
        "sam holds an offer: the closest left is rita, with one of two"
    );
}

#[test]
fn a_queue_overflows_by_count_into_another_queue() {
    use super::super::config::{Overflow, OverflowAction, OverflowWhen};
    let mut floor = Floor::team();
    floor.store_mut().queues.insert(
        DEFAULT_QUEUE.into(),
        Queue {
            overflow: vec![Overflow {
                when: OverflowWhen::WaitingOver { count: 1 },
                action: OverflowAction::MoveTo {
                    queue: "backup".into(),
                },
            }],
            ..Queue::default()
        },
    );
    floor.store_mut().queues.insert(
        "backup".into(),
        Queue {
            name: "Backup".into(),
            ..Queue::default()
        },
    );
    floor.customer_writes("U1", "first");
    floor.advance(1_000);
    floor.customer_writes("U2", "second");
    floor.advance(1_000);
    floor.customer_writes("U3", "third");
    assert_eq!(floor.live("U1").queue_id, DEFAULT_QUEUE, "one may wait");
    assert_eq!(floor.live("U2").queue_id, "backup");
    assert_eq!(floor.live("U3").queue_id, "backup");
    assert!(floor.live("U2").overflowed_at.is_some());
    // Nobody comes back: an overflowed conversation stays where it went.
    floor.tick();
    assert_eq!(floor.live("U3").queue_id, "backup");
}

#[test]
fn a_long_wait_overflows_once_with_a_message_in_the_customers_language() {
    use super::super::config::{Overflow, OverflowAction, OverflowWhen};
    let mut floor = Floor::team();
    chatty(&mut floor).messages.clear();
    floor.store_mut().queues.insert(
        DEFAULT_QUEUE.into(),
        Queue {
            overflow: vec![Overflow {
                when: OverflowWhen::OldestOver { ms: 120_000 },
                action: OverflowAction::Message {
                    text: BTreeMap::from([
                        ("en".into(), "Still here: you are number {Position}.".into()),
                        ("th".into(), "ยังอยู่ในคิว ลำดับที่ {Position}".into()),
                    ]),
                },
            }],
            ..Queue::default()
        },
    );
    floor
        .store_mut()
        .profiles
        .insert((CHANNEL.into(), "U1".into()), (Some("th".into()), None));
    floor.customer_writes("U1", "สวัสดี");
    floor.advance(60_000);
    floor.customer_writes("U2", "hi");
    floor.advance(61_000);
    floor.tick();
    assert_eq!(told(&floor, "U1"), ["ยังอยู่ในคิว ลำดับที่ 1"]);
    assert!(
        told(&floor, "U2").is_empty(),
        "U2 waited 61 s, not 2 minutes"
    );
    floor.advance(60_000);
    floor.tick();
    floor.advance(600_000);
    floor.tick();
    assert_eq!(told(&floor, "U1").len(), 1, "told once");
    assert_eq!(told(&floor, "U2"), ["Still here: you are number 2."]);
    assert_eq!(
        floor.live("U1").queue_id,
        DEFAULT_QUEUE,
        "a message keeps it there"
    );
}

#[test]
fn a_split_rule_shares_conversations_between_queues_by_percentage() {
    use super::super::config::Share;
    let mut floor = Floor::team();
    for q in ["north", "south"] {
        floor.store_mut().queues.insert(q.into(), Queue::default());
    }
    floor
        .store_mut()
        .workstreams
        .entry(CHANNEL.into())
        .or_default()
        .rules
        .push(Rule {
            name: "everyone".into(),
            queue: "north".into(),
            split: vec![
                Share {
                    queue: "north".into(),
                    percent: 25,
                },
                Share {
                    queue: "south".into(),
                    percent: 75,
                },
            ],
            ..Rule::default()
        });
    const N: usize = 2_000;
    for i in 0..N {
        floor.customer_writes(&format!("U{i}"), "hello");
    }
    let south = floor
        .store()
        .conversations
        .values()
        .filter(|c| c.queue_id == "south")
        .count();
    let north = floor
        .store()
        .conversations
        .values()
        .filter(|c| c.queue_id == "north")
        .count();
    assert_eq!(
        north + south,
        N,
        "every conversation went to one of the two"
    );
    // 75 % of 2,000 is 1,500; the binomial's standard deviation is about 19, so 1,400 to
    // 1,600 holds but for one run in many millions.
    assert!((1_400..=1_600).contains(&south), "south got {south} of {N}");
}

#[test]
fn a_missed_offer_and_a_reject_change_presence_as_the_workstream_says() {
    let mut floor = Floor::team();
    let ws = floor
        .store_mut()
        .workstreams
        .entry(CHANNEL.into())
        .or_default();
    ws.presence_rules.after_missed = Some(Presence::Inactive);
    ws.presence_rules.after_reject = Some(Presence::DoNotDisturb);
    let countdown = ws.offer_timeout_ms;
    floor.available("rita");
    floor.customer_writes("U1", "hi");
    assert_eq!(floor.live("U1").offered_to.as_deref(), Some("rita"));
    floor.advance(countdown);
    floor.tick();
    assert_eq!(
        floor.presence("rita"),
        Presence::Inactive,
        "missed: inactive"
    );
    assert_eq!(floor.live("U1").offered_to, None, "no new offer to her");

    floor.available("sam");
    let id = floor.live("U1").id;
    assert_eq!(floor.live("U1").offered_to.as_deref(), Some("sam"));
    floor.command("sam", &id, Command::Reject).expect("reject");
    assert_eq!(floor.presence("sam"), Presence::DoNotDisturb);
    floor.available("rita");
    assert_eq!(
        floor.live("U1").offered_to.as_deref(),
        Some("rita"),
        "back at the desk, she is offered it again"
    );
}

#[test]
fn open_conversations_nobody_took_close_after_the_set_time() {
    let mut floor = Floor::team();
    floor
        .store_mut()
        .workstreams
        .entry(CHANNEL.into())
        .or_default()
        .open_auto_close_after_ms = Some(2 * 86_400_000);
    floor.customer_writes("U1", "anyone?");
    floor.advance(86_400_000);
    floor.customer_writes("U2", "hello");
    floor.advance(86_400_000);
    floor.tick();
    let closed: Vec<_> = floor
        .store()
        .conversations
        .values()
        .filter(|c| c.state == ConversationState::Closed)
        .map(|c| (c.chat_id.clone(), c.close_reason.clone()))
        .collect();
    assert_eq!(closed, [("U1".to_owned(), Some("unattended".to_owned()))]);
    assert_eq!(floor.live("U2").state, ConversationState::Open);
}

#[test]
fn waiting_customers_hear_their_place_and_who_took_a_transfer() {
    let mut floor = Floor::team();
    chatty(&mut floor);
    floor.customer_writes("U1", "one");
    floor.advance(1_000);
    floor.customer_writes("U2", "two");
    assert_eq!(told(&floor, "U1"), ["You are number 1 in General."]);
    assert_eq!(told(&floor, "U2"), ["You are number 2 in General."]);

    floor.available("rita");
    let id = floor.live("U1").id;
    floor.command("rita", &id, Command::Accept).expect("accept");
    floor.available("sam");
    floor
        .command("rita", &id, Command::TransferToUser("sam".into()))
        .expect("to sam");
    assert_eq!(
        told(&floor, "U1").last().map(String::as_str),
        Some("sam is helping you now.")
    );
}

#[test]
fn a_queue_first_tells_a_waiting_customer_then_moves_them_on() {
    use super::super::config::{Overflow, OverflowAction, OverflowWhen};
    let mut floor = Floor::team();
    chatty(&mut floor).messages.clear();
    floor.store_mut().queues.insert(
        DEFAULT_QUEUE.into(),
        Queue {
            overflow: vec![
                Overflow {
                    when: OverflowWhen::OldestOver { ms: 60_000 },
                    action: OverflowAction::Message {
                        text: BTreeMap::from([("en".into(), "Still here.".into())]),
                    },
                },
                Overflow {
                    when: OverflowWhen::OldestOver { ms: 120_000 },
                    action: OverflowAction::MoveTo {
                        queue: "backup".into(),
                    },
                },
            ],
            ..Queue::default()
        },
    );
    floor.store_mut().queues.insert(
        "backup".into(),
        Queue {
            name: "Backup".into(),
            overflow: vec![Overflow {
                when: OverflowWhen::WaitingOver { count: 0 },
                action: OverflowAction::MoveTo {
                    queue: DEFAULT_QUEUE.into(),
                },
            }],
            ..Queue::default()
        },
    );
    floor.customer_writes("U1", "hello");
    floor.advance(61_000);
    floor.tick();
    assert_eq!(told(&floor, "U1"), ["Still here."]);
    assert_eq!(floor.live("U1").queue_id, DEFAULT_QUEUE);
    floor.advance(60_000);
    floor.tick();
    assert_eq!(floor.live("U1").queue_id, "backup", "then moved on");
    floor.advance(60_000);
    floor.tick();
    assert_eq!(
        floor.live("U1").queue_id,
        "backup",
        "moved once: Backup cannot send it back"
    );
    assert_eq!(told(&floor, "U1"), ["Still here."], "each rule fires once");
}

#[test]
fn an_empty_text_falls_back_to_the_next_language() {
    let texts = BTreeMap::from([
        ("th".to_owned(), "  ".to_owned()),
        ("en".to_owned(), "Hello".to_owned()),
    ]);
    assert_eq!(
        super::pick_language(&texts, Some("th"), "en"),
        Some("Hello")
    );
    let none = BTreeMap::from([("th".to_owned(), String::new())]);
    assert_eq!(super::pick_language(&none, Some("th"), "en"), None);
}

#[test]
fn an_attachment_the_workstream_forbids_is_kept_and_flagged_hidden() {
    let mut floor = Floor::team();
    floor.store_mut().workstreams.insert(
        CHANNEL.into(),
        super::Workstream {
            attachments: super::super::config::Attachments {
                customers_can_send: false,
                representatives_can_send: true,
            },
            ..super::Workstream::default()
        },
    );
    floor.customer_event(
        "U1",
        "message",
        json!({"replyToken": "t1", "message": {"type": "image", "id": "m7"}}),
    );
    assert_eq!(floor.live("U1").chat_id, "U1", "the conversation opened");
    let (channel, blocked) = floor
        .store()
        .events
        .iter()
        .find(|(_, e)| e.event_type == "linedeskBlocked")
        .expect("a blocked record");
    assert_eq!(channel, CHANNEL);
    assert_eq!(blocked.webhook_event_id.as_deref(), Some("blocked:m7"));
    let body: serde_json::Value = serde_json::from_str(&blocked.body).expect("json");
    assert_eq!(
        body["source"],
        json!({"type": "user", "userId": "U1"}),
        "the chat's source"
    );
    assert_eq!(body["messageId"], "m7");
    assert_eq!(body["reason"], "workstream_forbids_customer_attachments");

    // A body a `Value` refuses for a part routing does not read (a lone surrogate in the
    // file's name): routed all the same, its record filed under the chat.
    floor.seq += 1;
    let odd = StoredEvent {
        seq: floor.seq,
        channel_id: CHANNEL.into(),
        webhook_event_id: Some("E-odd".into()),
        event_type: "message".into(),
        event_ts: floor.now,
        received_at: floor.now,
        body: r#"{"type":"message","mode":"active","source":{"type":"user","userId":"U3"},
            "message":{"type":"file","id":"m9","fileName":"\ud800.pdf"}}"#
            .into(),
        chat_id: Some("U3".into()),
    };
    floor.routed(&odd);
    assert_eq!(floor.live("U3").chat_id, "U3", "routed");
    let (_, blocked) = floor
        .store()
        .events
        .iter()
        .find(|(_, e)| e.webhook_event_id.as_deref() == Some("blocked:m9"))
        .expect("its blocked record");
    let body: serde_json::Value = serde_json::from_str(&blocked.body).expect("json");
    assert_eq!(body["source"], json!({"type": "user", "userId": "U3"}));

    // A picture is allowed where the workstream lets customers send them.
    floor.store_mut().workstreams.remove(CHANNEL);
    floor.customer_event(
        "U2",
        "message",
        json!({"message": {"type": "image", "id": "m8"}}),
    );
    let blocked = floor
        .store()
        .events
        .iter()
        .filter(|(_, e)| e.event_type == "linedeskBlocked");
    assert_eq!(blocked.count(), 2, "no record for the allowed picture");
}
