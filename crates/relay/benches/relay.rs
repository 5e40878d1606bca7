//! Relay benchmarks (run with `cargo bench -p linedesk-relay --bench relay`).
//!
//! 1. Webhook ingest: the release relay binary in its own process; 32 keep-alive connections
//!    POST pre-signed webhooks (one event each), each answered only after the durable group
//!    commit. Prints events/s and latency percentiles. The same load, in the same run, against
//!    two floors in a process of their own (this bench started again): bare axum answering
//!    200, and axum checking the signature first; the relay's share of each is printed.
//! 2. Webhook to console: a websocket subscriber is connected while webhooks arrive at a
//!    steady 1,000 events/s; prints the time from starting the POST to the event arriving.
//! 3. Real webhooks under a forged flood: connections post webhooks with a wrong signature
//!    flat out while real ones are posted one after another on a connection of their own;
//!    prints the real ones' latency and how many forged ones were refused meanwhile.
//!
//! Environment: `BENCH_EVENTS` (default 200000), `BENCH_CONNECTIONS` (32),
//! `BENCH_EVENTS_PER_BODY` (1), `BENCH_RATE_SECONDS` (10), `BENCH_FLOOD_CONNECTIONS` (16),
//! `BENCH_FLOOD_REAL` (2000), `BENCH_ROUNDS` (1): ingest runs that many rounds of both floors
//! and a fresh relay, and prints the medians. On a shared VM whose speed drifts by a quarter
//! from one minute to the next, a change to the relay shows in the median of several rounds,
//! each measured against floors run beside it, not in one run.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use linedesk_protocol::ServerFrame;
use linedesk_relay::store::users;
use tokio_tungstenite::tungstenite::Message;

mod support;
use support::{
    cpu_by_thread, cpu_by_thread_since, cpu_seconds, env_or, hello, ms, percentile, seed_channel,
    spawn_relay, CHANNEL, SECRET,
};

fn body(i: usize, per_body: usize) -> Vec<u8> {
    let events: Vec<serde_json::Value> = (0..per_body)
        .map(|j| {
            let n = i * per_body + j;
            serde_json::json!({
                "type": "message", "mode": "active", "timestamp": 1_795_000_000_000i64 + n as i64,
                "source": {"type": "user", "userId": "U4af4980629a1b2c3d4e5f60718293a4b"},
                "webhookEventId": format!("01JBENCH{n:018}"), "deliveryContext": {"isRedelivery": false},
                "replyToken": "0f3779fba3b349968c5d07db31eab56f",
                "message": {"id": n.to_string(), "type": "text", "quoteToken": "q", "text": format!("message {n}")}
            })
        })
        .collect();
    serde_json::to_vec(
        &serde_json::json!({"destination": "U8e742f61d673b39c7fff3cecb7536ef0", "events": events}),
    )
    .expect("json")
}

struct RelayProcess {
    child: std::process::Child,
    addr: SocketAddr,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_relay() -> RelayProcess {
    let dir = tempfile::tempdir_in(
        std::env::var("BENCH_DIR").unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
    )
    .expect("tempdir");
    let conn = seed_channel(dir.path());
    // An admin: this console follows the whole log (`fanout` measures filtered consoles).
    users::add(
        &conn,
        "bench",
        linedesk_protocol::Role::Admin,
        "bench-password",
        0,
    )
    .expect("user");
    drop(conn);
    let (child, addr) = spawn_relay(env!("CARGO_BIN_EXE_linedesk-relay"), dir.path());
    RelayProcess {
        child,
        addr,
        _dir: Some(dir),
    }
}

/// A floor to measure the relay against, served by this bench started again with
/// `BENCH_FLOOR` set (a process of its own, on tokio's default runtime as the relay's).
#[derive(Clone, Copy)]
enum Floor {
    /// axum answering 200 to the webhook's POST, the body read.
    Bare,
    /// The same, after checking the body's signature as the relay does.
    Hmac,
}

impl Floor {
    fn name(self) -> &'static str {
        match self {
            Floor::Bare => "bare",
            Floor::Hmac => "hmac",
        }
    }

    fn start(self) -> RelayProcess {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr");
        let child = std::process::Command::new(std::env::current_exe().expect("this bench"))
            .env("BENCH_FLOOR", self.name())
            .env("BENCH_FLOOR_ADDR", addr.to_string())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("floor starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "floor did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        RelayProcess {
            child,
            addr,
            _dir: None,
        }
    }
}

/// Serves a floor (`BENCH_FLOOR`) until killed.
fn serve_floor(kind: &str, addr: &str) {
    use axum::routing::post;
    let check = kind == "hmac";
    let app = axum::Router::new().route(
        "/line/{channel}/webhook",
        post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
                if check
                    && linedesk_line::signature::verify_headers(SECRET, &body, &headers).is_err()
                {
                    return axum::http::StatusCode::UNAUTHORIZED;
                }
                axum::http::StatusCode::OK
            },
        ),
    );
    let addr: SocketAddr = addr.parse().expect("floor address");
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
            axum::serve(listener, app).await.expect("serve");
        });
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Sender {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    sender
}

async fn post(sender: &mut Sender, addr: SocketAddr, body: Bytes, sig: &str) -> u16 {
    sender.ready().await.expect("connection ready");
    let req = hyper::Request::post(format!("http://{addr}/line/{CHANNEL}/webhook"))
        .header("host", addr.to_string())
        .header("content-type", "application/json; charset=utf-8")
        .header("x-line-signature", sig)
        .body(Full::new(body))
        .expect("request");
    let resp = sender.send_request(req).await.expect("response");
    let status = resp.status().as_u16();
    let _ = resp.into_body().collect().await;
    status
}

/// What one ingest run measured.
#[derive(Clone, Copy)]
struct Ingested {
    rate: f64,
    p99: Duration,
    /// Server CPU per event (µs).
    cpu_us: f64,
}

/// The median of `values` (sorted here).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Runs the ingest load against `relay` (named `what` in the output).
async fn ingest(relay: &RelayProcess, what: &str) -> Ingested {
    let total = env_or("BENCH_EVENTS", 200_000);
    let conns = env_or("BENCH_CONNECTIONS", 32);
    let per_body = env_or("BENCH_EVENTS_PER_BODY", 1).max(1);
    let requests = total / per_body;
    eprintln!("signing {requests} bodies…");
    let bodies: Arc<Vec<(Bytes, String)>> = Arc::new(
        (0..requests)
            .map(|i| {
                let b = body(i, per_body);
                let sig = linedesk_line::signature::sign(SECRET, &b);
                (Bytes::from(b), sig)
            })
            .collect(),
    );
    // Warm up the connections.
    let mut senders = Vec::new();
    for _ in 0..conns {
        senders.push(connect(relay.addr).await);
    }
    let next = Arc::new(AtomicUsize::new(0));
    let relay_cpu0 = cpu_seconds(relay.child.id());
    let threads0 = cpu_by_thread(relay.child.id());
    let own_cpu0 = cpu_seconds(std::process::id());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut sender in senders {
        let (bodies, next, addr) = (bodies.clone(), next.clone(), relay.addr);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= bodies.len() {
                    return lat;
                }
                let (b, sig) = &bodies[i];
                let t = Instant::now();
                let status = post(&mut sender, addr, b.clone(), sig).await;
                assert_eq!(status, 200, "webhook acknowledged");
                lat.push(t.elapsed());
            }
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("task"));
    }
    let elapsed = started.elapsed();
    let relay_cpu = cpu_seconds(relay.child.id()) - relay_cpu0;
    let own_cpu = cpu_seconds(std::process::id()) - own_cpu0;
    lat.sort();
    let rate = (requests * per_body) as f64 / elapsed.as_secs_f64();
    println!(
        "ingest {what}: {} events in {} requests over {conns} connections in {:.2} s = {:.0} events/s, {:.0} requests/s; latency p50 {} p99 {} max {}",
        requests * per_body,
        requests,
        elapsed.as_secs_f64(),
        (requests * per_body) as f64 / elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap_or(&Duration::ZERO)),
    );
    println!(
        "ingest {what} CPU: server {relay_cpu:.2} s ({:.0} events per server CPU-second), load generator {own_cpu:.2} s, of {:.2} s available on {} cores",
        (requests * per_body) as f64 / relay_cpu.max(0.01),
        elapsed.as_secs_f64() * std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    );
    println!(
        "ingest {what} CPU by thread: {}",
        cpu_by_thread_since(&threads0, relay.child.id())
    );
    Ingested {
        rate,
        p99: percentile(&lat, 0.99),
        cpu_us: relay_cpu * 1e6 / (requests * per_body) as f64,
    }
}

async fn to_console(relay: &RelayProcess) {
    let seconds = env_or("BENCH_RATE_SECONDS", 10);
    let rate = 1000usize;
    let count = seconds * rate;
    let offset = 10_000_000; // event ids distinct from the ingest run
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("http://{}/api/login", relay.addr))
        .json(&serde_json::json!({"user": "bench", "password": "bench-password"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token").to_owned();
    let mut ws = hello(relay.addr, token).await;
    // Skip the backlog from the ingest run.
    let mut head = 0;
    loop {
        let Some(Ok(Message::Text(t))) = ws.next().await else {
            panic!("socket closed")
        };
        match serde_json::from_str::<ServerFrame>(t.as_str()).expect("frame") {
            ServerFrame::Welcome { head: h, .. } => head = h,
            ServerFrame::CaughtUp { .. } => break,
            _ => {}
        }
    }
    eprintln!("subscriber caught up at {head}; sending {count} events at {rate}/s…");
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let bodies: Vec<(Bytes, String, String)> = (0..count)
        .map(|i| {
            let b = body(offset + i, 1);
            let sig = linedesk_line::signature::sign(SECRET, &b);
            (Bytes::from(b), sig, format!("01JBENCH{:018}", offset + i))
        })
        .collect();
    let receiver = {
        let sent_at = sent_at.clone();
        tokio::spawn(async move {
            let mut lat = Vec::with_capacity(count);
            while lat.len() < count {
                let Some(Ok(Message::Text(t))) = ws.next().await else {
                    break;
                };
                if let ServerFrame::Event(ev) =
                    serde_json::from_str::<ServerFrame>(t.as_str()).expect("frame")
                {
                    let now = Instant::now();
                    let id = ev.webhook_event_id.expect("id");
                    if let Some(t0) = sent_at.lock().expect("lock").remove(&id) {
                        lat.push(now - t0);
                    }
                }
            }
            lat
        })
    };
    let addr = relay.addr;
    let mut senders = Vec::new();
    for _ in 0..8 {
        senders.push(Arc::new(tokio::sync::Mutex::new(connect(addr).await)));
    }
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate as u64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let post_lat: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let mut posts = Vec::new();
    for (i, (b, sig, id)) in bodies.into_iter().enumerate() {
        tick.tick().await;
        let sender = senders[i % senders.len()].clone();
        let (sent_at, post_lat) = (sent_at.clone(), post_lat.clone());
        posts.push(tokio::spawn(async move {
            let mut s = sender.lock().await;
            let t0 = Instant::now();
            sent_at.lock().expect("lock").insert(id, t0);
            assert_eq!(post(&mut s, addr, b, &sig).await, 200);
            post_lat.lock().expect("lock").push(t0.elapsed());
        }));
    }
    for p in posts {
        p.await.expect("post");
    }
    let mut lat = tokio::time::timeout(Duration::from_secs(30), receiver)
        .await
        .expect("all events arrive")
        .expect("task");
    lat.sort();
    let mut acks = post_lat.lock().expect("lock").clone();
    acks.sort();
    println!(
        "webhook to console: {} events at {rate}/s; webhook ack p50 {} p99 {}; to console p50 {} p99 {} max {}",
        lat.len(),
        ms(percentile(&acks, 0.50)),
        ms(percentile(&acks, 0.99)),
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap_or(&Duration::ZERO)),
    );
}

/// Real webhooks, one after another, while other connections post forged ones flat out.
async fn under_forged_flood(relay: &RelayProcess) {
    let flooders = env_or("BENCH_FLOOD_CONNECTIONS", 16);
    let count = env_or("BENCH_FLOOD_REAL", 2_000);
    let offset = 20_000_000; // event ids distinct from the runs before
    let addr = relay.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let forged = Arc::new(AtomicUsize::new(0));
    let fake = Bytes::from(body(offset + count, 1));
    let mut flood = Vec::new();
    for _ in 0..flooders {
        let mut sender = connect(addr).await;
        let (stop, forged, fake) = (stop.clone(), forged.clone(), fake.clone());
        flood.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let status =
                    post(&mut sender, addr, fake.clone(), "bm90IHRoZSBzaWduYXR1cmU=").await;
                assert_eq!(status, 401, "a forged webhook is refused");
                forged.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while forged.load(Ordering::Relaxed) < 1_000 {
        assert!(Instant::now() < deadline, "the forged flood did not start");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut real = connect(addr).await;
    let forged0 = forged.load(Ordering::Relaxed);
    let started = Instant::now();
    let mut lat = Vec::with_capacity(count);
    for i in 0..count {
        let b = body(offset + i, 1);
        let sig = linedesk_line::signature::sign(SECRET, &b);
        let t = Instant::now();
        assert_eq!(post(&mut real, addr, Bytes::from(b), &sig).await, 200);
        lat.push(t.elapsed());
    }
    let elapsed = started.elapsed();
    let refused = forged.load(Ordering::Relaxed) - forged0;
    stop.store(true, Ordering::Relaxed);
    for f in flood {
        f.await.expect("flood connection");
    }
    lat.sort();
    println!(
        "real webhooks under a forged flood: {count} on one connection beside {flooders} flooding ({refused} forged refused meanwhile, {:.0}/s); latency p50 {} p99 {} max {}",
        refused as f64 / elapsed.as_secs_f64(),
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap_or(&Duration::ZERO)),
    );
}

fn main() {
    if let (Ok(kind), Ok(addr)) = (
        std::env::var("BENCH_FLOOR"),
        std::env::var("BENCH_FLOOR_ADDR"),
    ) {
        return serve_floor(&kind, &addr);
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run tiny then.
    let quick = !std::env::args().any(|a| a == "--bench");
    if quick {
        std::env::set_var("BENCH_EVENTS", "2000");
        std::env::set_var("BENCH_RATE_SECONDS", "1");
        std::env::set_var("BENCH_FLOOD_REAL", "100");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Each round: the floors (each in its own process, stopped before the next starts), then
    // a fresh relay; every run posts the same signed bodies.
    let rounds = env_or("BENCH_ROUNDS", 1).max(1);
    let mut shares: Vec<(f64, f64)> = Vec::new();
    let mut runs: Vec<Ingested> = Vec::new();
    let mut relay = None;
    for round in 1..=rounds {
        if rounds > 1 {
            println!("round {round} of {rounds}");
        }
        let floors: Vec<(&str, f64)> = [Floor::Bare, Floor::Hmac]
            .into_iter()
            .map(|floor| {
                let server = floor.start();
                let run = runtime.block_on(ingest(&server, floor.name()));
                (floor.name(), run.rate)
            })
            .collect();
        // The last round's relay goes before the next one starts.
        drop(relay.take());
        let started = start_relay();
        let run = runtime.block_on(ingest(&started, "relay"));
        for (name, floor) in &floors {
            println!(
                "ingest relay against the {name} floor: {:.0} %",
                100.0 * run.rate / floor.max(1.0)
            );
        }
        shares.push((
            run.rate / floors[0].1.max(1.0),
            run.rate / floors[1].1.max(1.0),
        ));
        runs.push(run);
        relay = Some(started);
    }
    if rounds > 1 {
        let of = |f: fn(&Ingested) -> f64| median(runs.iter().map(f).collect());
        println!(
            "ingest relay, median of {rounds} rounds: {:.0} events/s, p99 {:.2} ms, {:.1} µs of relay CPU per event; {:.0} % of the bare floor and {:.0} % of the hmac floor (each round against its own floors)",
            of(|r| r.rate),
            of(|r| r.p99.as_secs_f64() * 1e3),
            of(|r| r.cpu_us),
            100.0 * median(shares.iter().map(|s| s.0).collect()),
            100.0 * median(shares.iter().map(|s| s.1).collect()),
        );
    }
    let relay = relay.expect("at least one round");
    runtime.block_on(async {
        to_console(&relay).await;
        under_forged_flood(&relay).await;
    });
}
