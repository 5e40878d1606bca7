//! Reports benchmark (run with `cargo bench -p linedesk-relay --bench reports`), in-process on
//! a real data directory:
//!
//! 1. Counting: a generator writes a year of a 50-representative team's work as the log would
//!    carry it (per conversation: opened, accepted, a reply, ended, closed, often a rating) and
//!    the reports follower's fold counts it in batches of 1,024 events, one transaction each,
//!    as it does on the relay. Prints events counted per second (live traffic is 1,000/s).
//! 2. Reading: the whole year's report for an admin, grouped by day, channel, queue and
//!    representative; each timed over 5 runs (median and worst).
//!
//! Environment: `BENCH_CONVERSATIONS` (1000000), `BENCH_REPS` (50). With
//! `LINEDESK_TEST_DATABASE=postgres` and `LINEDESK_TEST_POSTGRES` it runs on PostgreSQL.

use std::time::{Duration, Instant};

use linedesk_protocol::reports::ReportGroup;
use linedesk_protocol::routing::{ConversationSnapshot, ConversationState, SurveyAnswer};
use linedesk_protocol::Role;
use linedesk_relay::access::Viewer;
use linedesk_relay::reports::{fold::Fold, http::report_for};
use linedesk_relay::store::events::StoredEvent;

mod support;
use support::{env_or, ms, seed_channel, CHANNEL};

/// 2026-01-01 00:00 UTC.
const YEAR_START: i64 = 1_767_225_600_000;
const DAY_MS: i64 = 86_400_000;

/// A deterministic spread of numbers (xorshift), so each run makes the same year.
struct Spread(u64);

impl Spread {
    fn next(&mut self, below: i64) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below.max(1) as u64) as i64
    }
}

fn snapshot_event(seq: u64, s: &ConversationSnapshot, at: i64) -> StoredEvent {
    let body = serde_json::json!({
        "type": "linedeskConversation", "timestamp": at, "mode": "active",
        "source": {"type": "user", "userId": s.chat_id},
        "webhookEventId": format!("conv:{}:{}", s.id, s.version), "conversation": s,
    });
    StoredEvent {
        seq,
        channel_id: CHANNEL.into(),
        webhook_event_id: None,
        event_type: "linedeskConversation".into(),
        event_ts: at,
        received_at: at,
        body: body.to_string(),
        chat_id: Some(s.chat_id.clone()),
    }
}

fn sent_event(seq: u64, chat: &str, by: &str, via: &str, at: i64) -> StoredEvent {
    let body = serde_json::json!({
        "type": "linedeskSent", "timestamp": at, "mode": "active",
        "source": {"type": "user", "userId": chat}, "sentBy": by, "via": via,
    });
    StoredEvent {
        seq,
        channel_id: CHANNEL.into(),
        webhook_event_id: None,
        event_type: "linedeskSent".into(),
        event_ts: at,
        received_at: at,
        body: body.to_string(),
        chat_id: Some(chat.into()),
    }
}

/// The log events of conversation `n`: opened, accepted, answered, ended, closed, rated.
fn conversation_events(
    n: usize,
    reps: usize,
    per_day: usize,
    spread: &mut Spread,
) -> Vec<StoredEvent> {
    let day = (n / per_day) as i64;
    let opened = YEAR_START + day * DAY_MS + spread.next(DAY_MS - 3_600_000);
    let rep = format!("rep{:02}", n % reps);
    let queue = ["general", "billing", "vip"][n % 3];
    let chat = format!("U{n:032x}");
    let mut s = ConversationSnapshot {
        id: format!("c{n}"),
        version: 1,
        channel_id: CHANNEL.into(),
        chat_id: chat.clone(),
        state: ConversationState::Open,
        queue_id: queue.into(),
        queue_name: queue.into(),
        mode: Default::default(),
        owner: None,
        offer: None,
        first_text: None,
        language: None,
        opened_at: opened,
        last_customer_at: opened,
        accepted_at: None,
        ended_at: None,
        closed_at: None,
        close_reason: None,
        transferred_from: None,
        consultants: Vec::new(),
        survey: None,
        survey_asked: false,
        contact: None,
        flag: None,
        consent: None,
    };
    let seq = n as u64 * 6;
    let mut out = vec![snapshot_event(seq, &s, opened)];
    let accepted = opened + 1_000 + spread.next(180_000);
    s.version += 1;
    s.state = ConversationState::Active;
    s.owner = Some(rep.clone());
    s.accepted_at = Some(accepted);
    out.push(snapshot_event(seq + 1, &s, accepted));
    let answered = accepted + 1_000 + spread.next(60_000);
    let via = if answered - opened < 50_000 {
        "reply"
    } else {
        "push"
    };
    out.push(sent_event(seq + 2, &chat, &rep, via, answered));
    let ended = answered + 30_000 + spread.next(600_000);
    s.version += 1;
    s.state = ConversationState::WrapUp;
    s.ended_at = Some(ended);
    out.push(snapshot_event(seq + 3, &s, ended));
    let closed = ended + spread.next(60_000);
    s.version += 1;
    s.state = ConversationState::Closed;
    s.closed_at = Some(closed);
    s.survey_asked = true;
    out.push(snapshot_event(seq + 4, &s, closed));
    if spread.next(3) > 0 {
        s.version += 1;
        s.survey = Some(SurveyAnswer {
            rating: Some(1 + spread.next(5) as u8),
            comment: None,
        });
        out.push(snapshot_event(seq + 5, &s, closed + 20_000));
    }
    out
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs it tiny, as a smoke test.
    let quick = !std::env::args().any(|a| a == "--bench");
    let conversations = env_or("BENCH_CONVERSATIONS", if quick { 2_000 } else { 1_000_000 });
    let reps = env_or("BENCH_REPS", 50);
    let per_day = conversations.div_ceil(365);
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = seed_channel(dir.path());
    let db = conn.db();
    let zone = jiff::tz::TimeZone::UTC;

    println!("reports: {conversations} conversations over a year, {reps} representatives");
    let mut spread = Spread(0x9e37_79b9_7f4a_7c15);
    let (mut events, mut counting) = (0usize, Duration::ZERO);
    let mut batch = Vec::with_capacity(1_100);
    let flush = |batch: &mut Vec<StoredEvent>, counting: &mut Duration| {
        let started = Instant::now();
        db.begin().expect("begin");
        let mut fold = Fold::new(db, zone.clone()).expect("fold");
        for ev in batch.iter() {
            fold.event(ev).expect("count");
        }
        fold.finish().expect("write");
        db.commit().expect("commit");
        *counting += started.elapsed();
        batch.clear();
    };
    for n in 0..conversations {
        let evs = conversation_events(n, reps, per_day, &mut spread);
        events += evs.len();
        batch.extend(evs);
        if batch.len() >= 1_024 {
            flush(&mut batch, &mut counting);
        }
        if n > 0 && n % 200_000 == 0 {
            println!(
                "  {n} conversations counted, {:.0} events/s so far",
                events as f64 / counting.as_secs_f64()
            );
        }
    }
    flush(&mut batch, &mut counting);
    println!(
        "counting: {events} events in {:.1} s of folding: {:.0} events/s (live traffic: 1,000/s)",
        counting.as_secs_f64(),
        events as f64 / counting.as_secs_f64()
    );

    let admin = Viewer {
        user: "ada".into(),
        role: Role::Admin,
    };
    for by in [
        ReportGroup::Day,
        ReportGroup::Channel,
        ReportGroup::Queue,
        ReportGroup::Agent,
    ] {
        let mut runs = Vec::new();
        let mut rows = 0;
        for _ in 0..5 {
            let started = Instant::now();
            let r = report_for(db, &admin, "2026-01-01", "2026-12-31", by, "UTC").expect("report");
            runs.push(started.elapsed());
            rows = r.rows.len();
            assert_eq!(
                r.total.accepted as usize, conversations,
                "every conversation counted"
            );
        }
        runs.sort();
        println!(
            "report for the year by {}: {rows} rows, median {}, worst {}",
            by.as_str(),
            ms(runs[2]),
            ms(runs[4])
        );
    }
}
