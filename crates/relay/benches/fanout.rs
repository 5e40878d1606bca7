//! Webhook to every entitled console, with many consoles connected (run with
//! `cargo bench -p linedesk-relay --bench fanout`).
//!
//! The release relay binary in its own process serves `BENCH_REPS` representatives (default
//! 450), `BENCH_SUPERVISORS` (45) and `BENCH_ADMINS` (5), each with an open websocket. Every
//! representative owns two Active conversations; supervisors watch one of nine queues each.
//! Signed webhooks arrive at `BENCH_RATE` events/s (1,000) for `BENCH_RATE_SECONDS` (10),
//! spread over the chats. Each event reaches exactly the consoles entitled to it (its owner,
//! its queue's supervisors, the admins); the bench checks that, and prints the time from
//! starting the POST to the event arriving at each of them (p50, p99, max) and the relay's
//! CPU use.
//!
//! `BENCH_RELAYS=3` (on PostgreSQL: `LINEDESK_TEST_DATABASE=postgres`) runs three relay
//! processes on one database, with the consoles and the webhooks spread over them: the time
//! then includes one relay learning of another's commit.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use linedesk_protocol::{Role, ServerFrame};
use linedesk_relay::store::{self, users};
use tokio_tungstenite::tungstenite::Message;

mod support;
use support::{
    cpu_seconds, env_or, hello, ms, percentile, seed_channel, spawn_relay_on, CHANNEL, SECRET,
};

const QUEUES: usize = 9;

fn chat(i: usize) -> String {
    format!("U{i:032x}")
}

struct Floor {
    /// (user, role, session token)
    consoles: Vec<(String, Role, String)>,
    /// chat index → users entitled to it
    entitled: Vec<Vec<String>>,
}

/// Seeds users, sessions, queues and conversations straight into the database.
fn seed(dir: &std::path::Path, reps: usize, sups: usize, admins: usize) -> Floor {
    let conn = seed_channel(dir);
    users::add(&conn, "rep0", Role::Rep, "bench-password", 0).expect("user");
    let mut people = vec![("rep0".to_owned(), Role::Rep)];
    people.extend((1..reps).map(|i| (format!("rep{i}"), Role::Rep)));
    people.extend((0..sups).map(|i| (format!("sup{i}"), Role::Supervisor)));
    people.extend((0..admins).map(|i| (format!("admin{i}"), Role::Admin)));
    let now = store::now_ms();
    let mut consoles = Vec::new();
    for (name, role) in &people {
        // One argon2 hash for all: the bench signs in through sessions, not passwords.
        conn.db()
            .execute(
                "INSERT INTO users (name, role, password_hash, created_at)
                 SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), password_hash, 0 FROM users WHERE name = 'rep0'
                 ON CONFLICT DO NOTHING",
                linedesk_relay::args![name, role.as_str()],
            )
            .expect("user");
        let id: i64 = conn
            .db()
            .query_opt(
                "SELECT id FROM users WHERE name = ?1",
                linedesk_relay::args![name],
                |r| r.get(0),
            )
            .expect("id")
            .expect("a user");
        let (token, _) =
            users::create_session(&conn, id, Some("bench"), now, 3_600_000).expect("session");
        consoles.push((name.clone(), *role, token));
    }
    for q in 0..QUEUES {
        let supervisors: Vec<String> = (0..sups)
            .filter(|s| s % QUEUES == q)
            .map(|s| format!("sup{s}"))
            .collect();
        let config = serde_json::json!({"name": format!("Queue {q}"), "priority": 0,
                                        "members": [], "supervisors": supervisors});
        let (id, config) = (format!("q{q}"), config.to_string());
        conn.db()
            .execute(
                "INSERT INTO queues (id, config, updated_at) VALUES (?1, ?2, ?3)",
                linedesk_relay::args![id, config, now],
            )
            .expect("queue");
    }
    let admins_list: Vec<String> = (0..admins).map(|i| format!("admin{i}")).collect();
    let mut entitled = Vec::new();
    for i in 0..reps * 2 {
        let owner = format!("rep{}", i % reps);
        let queue = i % QUEUES;
        let (id, chat_id, queue_id) =
            (format!("01JBENCHCONV{i:014}"), chat(i), format!("q{queue}"));
        conn.db()
            .execute(
                "INSERT INTO conversations (id, channel_id, chat_id, state, queue_id, owner, opened_at,
                     last_customer_at, last_activity_at, accepted_at)
                 VALUES (?1, ?2, ?3, 'active', ?4, ?5, ?6, ?6, ?6, ?6)",
                linedesk_relay::args![id, CHANNEL, chat_id, queue_id, owner, now],
            )
        .expect("conversation");
        let mut who = vec![owner];
        who.extend(
            (0..sups)
                .filter(|s| s % QUEUES == queue)
                .map(|s| format!("sup{s}")),
        );
        who.extend(admins_list.iter().cloned());
        entitled.push(who);
    }
    Floor { consoles, entitled }
}

fn event_body(n: usize, chat_id: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "destination": "U8e742f61d673b39c7fff3cecb7536ef0",
        "events": [{
            "type": "message", "mode": "active", "timestamp": 1_795_000_000_000i64 + n as i64,
            "source": {"type": "user", "userId": chat_id},
            "webhookEventId": format!("01JFAN{n:020}"), "deliveryContext": {"isRedelivery": false},
            "replyToken": "0f3779fba3b349968c5d07db31eab56f",
            "message": {"id": n.to_string(), "type": "text", "quoteToken": "q", "text": format!("message {n}")}
        }]
    }))
    .expect("json")
}

type Arrivals = Arc<Mutex<Vec<(String, String, Instant)>>>;

/// One console: signs in with its session, skips the backlog, records every event's arrival.
async fn console(
    addr: SocketAddr,
    user: String,
    token: String,
    arrivals: Arrivals,
    ready: tokio::sync::mpsc::Sender<()>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ws = hello(addr, token).await;
    let mut announced = false;
    loop {
        let msg = tokio::select! {
            m = ws.next() => m,
            _ = stop.changed() => return,
        };
        let Some(Ok(Message::Text(t))) = msg else {
            return;
        };
        let now = Instant::now();
        match serde_json::from_str::<ServerFrame>(t.as_str()).expect("frame") {
            ServerFrame::CaughtUp { .. } if !announced => {
                announced = true;
                let _ = ready.send(()).await;
            }
            ServerFrame::Event(ev) if announced => {
                if let Some(id) = ev.webhook_event_id {
                    if id.starts_with("01JFAN") {
                        arrivals.lock().expect("lock").push((user.clone(), id, now));
                    }
                }
            }
            _ => {}
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run tiny then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (reps, sups, admins) = if quick {
        (8, 2, 1)
    } else {
        (
            env_or("BENCH_REPS", 450),
            env_or("BENCH_SUPERVISORS", 45),
            env_or("BENCH_ADMINS", 5),
        )
    };
    let rate = if quick {
        200
    } else {
        env_or("BENCH_RATE", 1000)
    };
    let seconds = if quick {
        1
    } else {
        env_or("BENCH_RATE_SECONDS", 10)
    };
    let relays = if quick { 1 } else { env_or("BENCH_RELAYS", 1) };
    let dir = tempfile::tempdir().expect("tempdir");
    let floor = seed(dir.path(), reps, sups, admins);
    let database = linedesk_relay::ServeConfig::local_for_tests(dir.path().to_owned())
        .expect("config")
        .database;
    assert!(
        relays == 1 || database.is_some(),
        "BENCH_RELAYS above 1 needs PostgreSQL (LINEDESK_TEST_DATABASE=postgres)"
    );
    let others: Vec<tempfile::TempDir> = (1..relays)
        .map(|_| {
            let other = tempfile::tempdir().expect("tempdir");
            std::fs::copy(
                dir.path().join(linedesk_relay::vault::KEY_FILE),
                other.path().join(linedesk_relay::vault::KEY_FILE),
            )
            .expect("the relay key");
            other
        })
        .collect();
    let bin = env!("CARGO_BIN_EXE_linedesk-relay");
    let mut children = Vec::new();
    for d in std::iter::once(dir.path()).chain(others.iter().map(|d| d.path())) {
        children.push(spawn_relay_on(bin, d, database.as_deref()));
    }
    let addrs: Vec<SocketAddr> = children.iter().map(|(_, a)| *a).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let arrivals: Arrivals = Arc::default();
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(floor.consoles.len());
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for (k, (user, _, token)) in floor.consoles.iter().enumerate() {
            tasks.push(tokio::spawn(console(
                addrs[k % addrs.len()],
                user.clone(),
                token.clone(),
                arrivals.clone(),
                ready_tx.clone(),
                stop_rx.clone(),
            )));
        }
        for _ in 0..floor.consoles.len() {
            ready_rx.recv().await.expect("a console caught up");
        }
        let chats = floor.entitled.len();
        let count = rate * seconds;
        eprintln!(
            "{} consoles ({reps} representatives, {sups} supervisors, {admins} admins) on \
             {relays} relay(s) caught up; {count} events at {rate}/s over {chats} chats…",
            floor.consoles.len()
        );
        let bodies: Vec<(Vec<u8>, String, String, usize)> = (0..count)
            .map(|n| {
                let c = n % chats;
                let b = event_body(n, &chat(c));
                let sig = linedesk_line::signature::sign(SECRET, &b);
                (b, sig, format!("01JFAN{n:020}"), c)
            })
            .collect();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(16)
            .build()
            .expect("client");
        let sent: Arc<Mutex<HashMap<String, (Instant, usize)>>> = Arc::default();
        let pids: Vec<u32> = children.iter().map(|(c, _)| c.id()).collect();
        let cpu_all = || pids.iter().map(|p| cpu_seconds(*p)).sum::<f64>();
        let cpu_before = cpu_all();
        let wall = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate as u64));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut posts = Vec::new();
        for (n, (b, sig, id, c)) in bodies.into_iter().enumerate() {
            tick.tick().await;
            let (http, sent) = (http.clone(), sent.clone());
            let addr = addrs[n % addrs.len()];
            posts.push(tokio::spawn(async move {
                sent.lock().expect("lock").insert(id, (Instant::now(), c));
                let resp = http
                    .post(format!("http://{addr}/line/{CHANNEL}/webhook"))
                    .header("x-line-signature", sig)
                    .header("content-type", "application/json")
                    .body(b)
                    .send()
                    .await
                    .expect("webhook");
                assert_eq!(resp.status(), 200);
            }));
        }
        for p in posts {
            p.await.expect("post");
        }
        let expected: usize = (0..count).map(|n| floor.entitled[n % chats].len()).sum();
        let deadline = Instant::now() + Duration::from_secs(60);
        while arrivals.lock().expect("lock").len() < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let elapsed = wall.elapsed().as_secs_f64();
        let cpu = cpu_all() - cpu_before;
        stop_tx.send_replace(true);
        let arrivals = arrivals.lock().expect("lock").clone();
        let sent = sent.lock().expect("lock").clone();
        let mut lat = Vec::with_capacity(arrivals.len());
        // The worst latency of the events sent in each second: one stall and a slow tail
        // throughout read alike as p99, not here.
        let mut worst = vec![Duration::ZERO; seconds + 1];
        for (user, id, at) in &arrivals {
            let (t0, c) = sent[id];
            assert!(
                floor.entitled[c].contains(user),
                "{user} received an event of chat {c} it may not see"
            );
            lat.push(*at - t0);
            let second = (t0 - wall).as_secs() as usize;
            if let Some(w) = worst.get_mut(second) {
                *w = (*w).max(*at - t0);
            }
        }
        assert_eq!(
            arrivals.len(),
            expected,
            "every entitled console got every event of its chats"
        );
        lat.sort();
        println!(
            "fan-out: {} consoles on {relays} relay(s), {count} events at {rate}/s, {} deliveries \
             to entitled consoles; webhook to console p50 {} p99 {} max {}; relay CPU {:.0} % of \
             one core",
            floor.consoles.len(),
            lat.len(),
            ms(percentile(&lat, 0.50)),
            ms(percentile(&lat, 0.99)),
            ms(*lat.last().unwrap_or(&Duration::ZERO)),
            cpu / elapsed * 100.0,
        );
        println!(
            "worst webhook to console by second sent: {}",
            worst.iter().map(|w| ms(*w)).collect::<Vec<_>>().join(", ")
        );
    });
    for (mut child, _) in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}
