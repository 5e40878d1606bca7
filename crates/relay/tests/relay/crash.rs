//! Crash safety of the real binary: 10,000 signed events (`CRASH_EVENTS` for more) from 32
//! concurrent connections, the ingest benchmark's load, while the relay is SIGKILLed and
//! restarted at least five times. Every event that got a 200 must be in the log exactly once
//! and reach a websocket subscriber exactly once, in order.
//!
//! At the benchmark's rate (release, as the README says):
//! `CRASH_EVENTS=200000 cargo test --release -p linedesk-relay --test relay crash -- --nocapture`

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use linedesk_protocol::{ClientFrame, ServerFrame, PROTOCOL_VERSION};
use linedesk_relay::store;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{seed, sign, text_event, webhook_body, CHANNEL};

/// Events sent unless `CRASH_EVENTS` says otherwise.
const EVENTS: usize = 10_000;
/// Connections sending at once, as `cargo bench -p linedesk-relay --bench relay` uses.
const CLIENTS: usize = 32;
const KILLS: usize = 6;

pub(crate) fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

pub(crate) async fn start(data: &Path, addr: SocketAddr) -> Child {
    let config = linedesk_relay::ServeConfig::local_for_tests(data.to_owned()).expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_linedesk-relay"))
        .args(["serve", "--listen", &addr.to_string(), "--data"])
        .arg(data)
        .args(
            config
                .database
                .iter()
                .flat_map(|url| ["--database", url.as_str()]),
        )
        .env("LINEDESK_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("relay binary starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "relay did not listen within 20 s"
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("relay exited at start: {status}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child
}

pub(crate) async fn login(http: &reqwest::Client, addr: SocketAddr) -> String {
    let resp = http
        .post(format!("http://{addr}/api/login"))
        .json(&serde_json::json!({"user": "ada", "password": "correct horse"}))
        .send()
        .await
        .expect("login reaches the relay");
    assert!(resp.status().is_success(), "login ok");
    let v: serde_json::Value = resp.json().await.expect("json");
    v["token"].as_str().expect("token").to_owned()
}

/// A console that reconnects after every kill and resumes from the last sequence it holds.
async fn subscriber(
    addr: SocketAddr,
    token: String,
    seen: Arc<Mutex<Vec<(u64, String)>>>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::SeqCst) {
        let Ok(Ok((mut ws, _))) = tokio::time::timeout(
            Duration::from_secs(2),
            tokio_tungstenite::connect_async(format!("ws://{addr}/api/ws")),
        )
        .await
        else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let since = seen
            .lock()
            .expect("lock")
            .last()
            .map(|(s, _)| *s)
            .unwrap_or(0);
        let hello = ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            token: token.clone(),
            since: Some(since),
        };
        if ws
            .send(Message::text(serde_json::to_string(&hello).expect("json")))
            .await
            .is_err()
        {
            continue;
        }
        loop {
            let next = tokio::time::timeout(Duration::from_millis(500), ws.next()).await;
            let msg = match next {
                Err(_) if stop.load(Ordering::SeqCst) => return,
                Err(_) => continue,
                Ok(Some(Ok(m))) => m,
                Ok(_) => break, // killed: reconnect
            };
            let Message::Text(text) = msg else { continue };
            match serde_json::from_str::<ServerFrame>(text.as_str()).expect("server frame") {
                ServerFrame::Event(ev) => {
                    let id = ev.webhook_event_id.clone().expect("event id");
                    seen.lock().expect("lock").push((ev.seq, id));
                    let _ = ws
                        .send(Message::text(
                            serde_json::to_string(&ClientFrame::Ack { seq: ev.seq }).expect("json"),
                        ))
                        .await;
                }
                ServerFrame::Error { code, message } => {
                    panic!("relay refused the subscriber: {code:?} {message}")
                }
                _ => {}
            }
        }
    }
}

fn event_id(i: usize) -> String {
    // ULID-shaped and unique per event.
    format!("01JCRASH{i:018}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_events_survive_sigkill_exactly_once_and_in_order() {
    let events: usize = std::env::var("CRASH_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(EVENTS);
    let dir = tempfile::tempdir().expect("tempdir");
    let data: PathBuf = dir.path().to_owned();
    seed(&data, "http://127.0.0.1:9");
    let addr = free_port();
    let mut child = start(&data, addr).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .expect("client");
    let token = login(&http, addr).await;

    let seen = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let sub = tokio::spawn(subscriber(addr, token, seen.clone(), stop.clone()));

    // Clients: each event is retried until acknowledged, as LINE's redelivery would.
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let attempts = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (http, acked, attempts, next) =
            (http.clone(), acked.clone(), attempts.clone(), next.clone());
        clients.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= events {
                    return;
                }
                let id = event_id(i);
                let body = webhook_body(&[text_event(&id, &format!("message {i}"))]);
                let sig = sign(&body);
                loop {
                    attempts.fetch_add(1, Ordering::SeqCst);
                    let resp = http
                        .post(format!("http://{addr}/line/{CHANNEL}/webhook"))
                        .header("x-line-signature", &sig)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    match resp {
                        Ok(r) if r.status() == 200 => {
                            acked.lock().expect("lock").insert(id.clone());
                            break;
                        }
                        _ => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
            }
        }));
    }

    // The killer: SIGKILL and restart while clients send.
    let sending = Instant::now();
    let mut kills = 0;
    while kills < KILLS || next.load(Ordering::SeqCst) < events {
        tokio::time::sleep(Duration::from_millis(300 + (kills as u64 * 97) % 400)).await;
        if clients.iter().all(|c| c.is_finished()) && kills >= KILLS {
            break;
        }
        child.start_kill().expect("SIGKILL");
        let _ = child.wait().await;
        kills += 1;
        child = start(&data, addr).await;
    }
    for c in clients {
        c.await.expect("client task");
    }
    let sent_in = sending.elapsed();
    assert!(kills >= 5, "relay was killed {kills} times");
    let acked: HashSet<String> = acked.lock().expect("lock").clone();
    assert_eq!(
        acked.len(),
        events,
        "every event was eventually acknowledged"
    );

    // The subscriber must catch up with everything.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = seen.lock().expect("lock").len();
        if n >= events || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let _ = sub.await;
    child.start_kill().expect("stop relay");
    let _ = child.wait().await;

    // 1. The log holds every acknowledged event exactly once.
    let config = linedesk_relay::ServeConfig::local_for_tests(data.clone()).expect("config");
    let conn = store::Database::of(&config).open_reader().expect("db");
    let logged = store::events::read_after(&conn, 0, usize::MAX >> 1).expect("read");
    let mut counts: HashMap<String, usize> = HashMap::new();
    for ev in &logged {
        *counts
            .entry(ev.webhook_event_id.clone().expect("id"))
            .or_default() += 1;
    }
    for id in &acked {
        assert_eq!(
            counts.get(id).copied(),
            Some(1),
            "{id} acknowledged, must be logged exactly once"
        );
    }
    assert!(
        logged.windows(2).all(|w| w[0].seq < w[1].seq),
        "log order strictly increasing"
    );

    // 2. The subscriber got every logged event exactly once, in log order.
    let seen = seen.lock().expect("lock").clone();
    let seen_seqs: Vec<u64> = seen.iter().map(|(s, _)| *s).collect();
    let logged_seqs: Vec<u64> = logged.iter().map(|e| e.seq).collect();
    assert_eq!(
        seen_seqs, logged_seqs,
        "subscriber saw the log exactly once, in order, across {kills} kills"
    );
    let seen_ids: HashSet<&String> = seen.iter().map(|(_, id)| id).collect();
    assert_eq!(seen_ids.len(), seen.len(), "no event doubled");
    for id in &acked {
        assert!(seen_ids.contains(id), "{id} reached the subscriber");
    }
    eprintln!(
        "crash test: {events} events from {CLIENTS} connections acknowledged in {:.1} s \
         ({:.0} events/s, restarts included), {} POST attempts, {kills} SIGKILLs, log {} rows",
        sent_in.as_secs_f64(),
        events as f64 / sent_in.as_secs_f64(),
        attempts.load(Ordering::SeqCst),
        logged.len()
    );
}
