//! Three relay processes on one PostgreSQL database. Signed webhooks are spread across all
//! three and consoles are connected to different relays; the routing arbiter is SIGKILLed
//! mid-load, then the next arbiter. Every acknowledged event must be in the log exactly once,
//! every console must receive the whole stream in the log's order (resuming from its cursor
//! on another relay), offers must resume within 5 s of each kill, and no conversation may be
//! lost or doubled. Runs in the test command's PostgreSQL pass; says "skipped" on SQLite.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use linedesk_protocol::{ClientFrame, ServerFrame, PROTOCOL_VERSION};
use linedesk_relay::store;
use serde_json::{json, Value};
use tokio::process::Child;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{copy_key, seed, sign, webhook_body, CHANNEL};
use crate::crash::free_port;
use crate::migrate::start;

/// Customers writing during the load.
const CUSTOMERS: usize = 30;
/// Webhook senders.
const CLIENTS: usize = 6;
/// How long the arbiter's successor may take to hand out offers again.
const TAKEOVER: Duration = Duration::from_secs(5);

/// The relays, by place; `None` once killed.
type Relays = Arc<Mutex<Vec<(SocketAddr, Option<Child>)>>>;

fn live(relays: &Relays) -> Vec<SocketAddr> {
    relays
        .lock()
        .expect("lock")
        .iter()
        .filter(|(_, c)| c.is_some())
        .map(|(a, _)| *a)
        .collect()
}

/// The live relays that say they are the arbiter, by place.
async fn holders(http: &reqwest::Client, relays: &Relays) -> Vec<usize> {
    let addrs: Vec<(usize, SocketAddr)> = relays
        .lock()
        .expect("lock")
        .iter()
        .enumerate()
        .filter(|(_, (_, c))| c.is_some())
        .map(|(i, (a, _))| (i, *a))
        .collect();
    let mut holders = Vec::new();
    for (i, addr) in addrs {
        let health: Option<Value> = match http.get(format!("http://{addr}/healthz")).send().await {
            Ok(r) => r.json().await.ok(),
            Err(_) => None,
        };
        if health.is_some_and(|h| h["arbiter"] == true) {
            holders.push(i);
        }
    }
    holders
}

/// The relay that says it is the arbiter, once exactly one of the live ones does.
async fn arbiter(http: &reqwest::Client, relays: &Relays) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let holders = holders(http, relays).await;
        if let [one] = holders[..] {
            return one;
        }
        assert!(Instant::now() < deadline, "no single arbiter: {holders:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn customer(n: usize) -> String {
    format!("U{n:032x}")
}

fn customer_event(id: &str, user: &str, text: &str) -> Value {
    json!({
        "type": "message", "mode": "active", "timestamp": 1_700_000_000_000i64,
        "source": {"type": "user", "userId": user},
        "webhookEventId": id, "deliveryContext": {"isRedelivery": false},
        "replyToken": format!("r{id}"),
        "message": {"id": id, "type": "text", "quoteToken": "q", "text": text}
    })
}

/// Posts one signed webhook to the live relays in turn, starting at `first`, until one
/// acknowledges it.
async fn deliver(http: &reqwest::Client, relays: &Relays, first: usize, body: &[u8]) {
    let sig = sign(body);
    for attempt in 0.. {
        let addrs = live(relays);
        let addr = addrs[(first + attempt) % addrs.len()];
        let resp = http
            .post(format!("http://{addr}/line/{CHANNEL}/webhook"))
            .header("x-line-signature", &sig)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await;
        if matches!(resp, Ok(r) if r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn login(http: &reqwest::Client, addr: SocketAddr, user: &str) -> String {
    let v: Value = http
        .post(format!("http://{addr}/api/login"))
        .json(&json!({"user": user, "password": "correct horse"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    v["token"].as_str().expect("token").to_owned()
}

/// What a console received: `(seq, event)`.
type Seen = Arc<Mutex<Vec<(u64, Value)>>>;

/// A console that starts on relay `home` and, when its relay dies, resumes from the last
/// sequence it holds on the next live one. `on_event` sees each event (the representative's
/// console accepts its offers there).
async fn console<F, Fut>(
    relays: Relays,
    home: usize,
    token: String,
    seen: Seen,
    stop: Arc<AtomicBool>,
    on_event: F,
) where
    F: Fn(Value) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut place = home;
    let mut first = true;
    while !stop.load(Ordering::SeqCst) {
        let addr = {
            let relays = relays.lock().expect("lock");
            (0..relays.len())
                .map(|k| (place + k) % relays.len())
                .find(|i| relays[*i].1.is_some())
                .map(|i| {
                    place = i;
                    relays[i].0
                })
                .expect("a live relay")
        };
        let Ok(Ok((mut ws, _))) = tokio::time::timeout(
            Duration::from_secs(2),
            tokio_tungstenite::connect_async(format!("ws://{addr}/api/ws")),
        )
        .await
        else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let since = seen.lock().expect("lock").last().map(|(s, _)| *s);
        let hello = ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            token: token.clone(),
            since: if first { Some(0) } else { since.or(Some(0)) },
        };
        first = false;
        if ws
            .send(Message::text(serde_json::to_string(&hello).expect("json")))
            .await
            .is_err()
        {
            continue;
        }
        loop {
            let next = tokio::time::timeout(Duration::from_millis(300), ws.next()).await;
            let msg = match next {
                Err(_) if stop.load(Ordering::SeqCst) => return,
                Err(_) => continue,
                Ok(Some(Ok(m))) => m,
                Ok(_) => break, // its relay died: resume elsewhere
            };
            let Message::Text(text) = msg else { continue };
            match serde_json::from_str::<ServerFrame>(text.as_str()).expect("server frame") {
                ServerFrame::Event(ev) => {
                    let body: Value = serde_json::from_str(ev.event.get()).expect("event json");
                    seen.lock().expect("lock").push((ev.seq, body.clone()));
                    on_event(body).await;
                    let _ = ws
                        .send(Message::text(
                            serde_json::to_string(&ClientFrame::Ack { seq: ev.seq }).expect("json"),
                        ))
                        .await;
                }
                ServerFrame::Error { code, message } => {
                    panic!("relay refused a console: {code:?} {message}")
                }
                _ => {}
            }
        }
    }
}

/// When each customer's conversation was first offered to rita, as her console saw it.
type Offers = Arc<Mutex<HashMap<String, Instant>>>;

/// One kill of the arbiter, timed from the SIGKILL: the newcomer's offer, its webhook's
/// acknowledgement, and when a live relay first said it held the lease (`None` when the
/// offer came first).
struct Takeover {
    took: Duration,
    delivered: Duration,
    leased: Option<Duration>,
}

impl std::fmt::Display for Takeover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let leased = match self.leased {
            Some(at) => format!("{at:.2?}"),
            None => "not before the offer".to_owned(),
        };
        write!(
            f,
            "offer after {:.2?} (webhook acknowledged after {:.2?}, lease held after {leased})",
            self.took, self.delivered
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_relays_keep_one_log_one_stream_and_one_arbiter_through_sigkills() {
    let base = tempfile::tempdir().expect("tempdir");
    let dirs: Vec<_> = (0..3)
        .map(|i| base.path().join(format!("relay{i}")))
        .collect();
    let config =
        linedesk_relay::ServeConfig::local_for_tests(dirs[0].clone()).expect("test settings");
    let Some(database) = config.database.clone() else {
        eprintln!("skipped: several relays need PostgreSQL (LINEDESK_TEST_DATABASE=postgres)");
        return;
    };
    seed(&dirs[0], "http://127.0.0.1:9");
    // Every relay opens the channels' credentials with the same key.
    for dir in &dirs[1..] {
        copy_key(&dirs[0], dir);
    }
    let mut started = Vec::new();
    for dir in &dirs {
        let addr = free_port();
        started.push((addr, Some(start(dir, addr, Some(&database)).await)));
    }
    let relays: Relays = Arc::new(Mutex::new(started));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let addrs = live(&relays);

    // Rita takes every conversation offered to her, from a console on relay 2, through
    // whichever relay is alive.
    let admin = login(&http, addrs[0], "ada").await;
    let resp = http
        .put(format!("http://{}/api/agents/rita", addrs[0]))
        .bearer_auth(&admin)
        .json(&json!({"capacity": 100}))
        .send()
        .await
        .expect("capacity");
    assert_eq!(resp.status(), 200, "capacity set");
    let rita = login(&http, addrs[2], "rita").await;
    let stop = Arc::new(AtomicBool::new(false));
    let offers: Offers = Arc::default();
    let rita_seen: Seen = Arc::default();
    let accepted = Arc::new(AtomicUsize::new(0));
    let rita_console = {
        let (relays, http, token, offers, accepted) = (
            relays.clone(),
            http.clone(),
            rita.clone(),
            offers.clone(),
            accepted.clone(),
        );
        tokio::spawn(console(
            relays.clone(),
            2,
            rita.clone(),
            rita_seen.clone(),
            stop.clone(),
            move |ev: Value| {
                let (relays, http, token, offers, accepted) = (
                    relays.clone(),
                    http.clone(),
                    token.clone(),
                    offers.clone(),
                    accepted.clone(),
                );
                async move {
                    let c = &ev["conversation"];
                    if ev["type"] != "linedeskConversation" || c["offer"]["to"] != "rita" {
                        return;
                    }
                    let chat = c["chatId"].as_str().unwrap_or_default().to_owned();
                    offers
                        .lock()
                        .expect("lock")
                        .entry(chat)
                        .or_insert_with(Instant::now);
                    let id = c["id"].as_str().expect("conversation id").to_owned();
                    for attempt in 0..50 {
                        let addrs = live(&relays);
                        let addr = addrs[attempt % addrs.len()];
                        match http
                            .post(format!("http://{addr}/api/conversations/{id}/accept"))
                            .bearer_auth(&token)
                            .json(&json!({}))
                            .send()
                            .await
                        {
                            Ok(r) if r.status() == 200 => {
                                accepted.fetch_add(1, Ordering::SeqCst);
                                return;
                            }
                            // Accepted already (the same offer seen again).
                            Ok(r) if r.status() == 409 => return,
                            _ => tokio::time::sleep(Duration::from_millis(50)).await,
                        }
                    }
                    panic!("rita could not accept {id}");
                }
            },
        ))
    };
    // Wait until rita counts as connected and available.
    let resp = http
        .post(format!("http://{}/api/presence", addrs[2]))
        .bearer_auth(&rita)
        .json(&json!({"presence": "available"}))
        .send()
        .await
        .expect("presence");
    assert_eq!(resp.status(), 200, "rita available");

    // Two admin consoles, on relays 0 and 1, see the whole stream.
    let mut watchers = Vec::new();
    let mut watched: Vec<Seen> = Vec::new();
    for home in [0, 1] {
        let token = login(&http, addrs[home], "ada").await;
        let seen: Seen = Arc::default();
        watched.push(seen.clone());
        watchers.push(tokio::spawn(console(
            relays.clone(),
            home,
            token,
            seen,
            stop.clone(),
            |_| async {},
        )));
    }

    // The load: signed webhooks from 30 customers, spread over the live relays, each retried
    // until acknowledged (as LINE redelivers), until the kills are done.
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let load_stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for k in 0..CLIENTS {
        let (http, relays, acked, next, load_stop) = (
            http.clone(),
            relays.clone(),
            acked.clone(),
            next.clone(),
            load_stop.clone(),
        );
        clients.push(tokio::spawn(async move {
            while !load_stop.load(Ordering::SeqCst) {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let id = format!("01JCLUSTER{i:016}");
                let body = webhook_body(&[customer_event(
                    &id,
                    &customer(i % CUSTOMERS),
                    &format!("message {i}"),
                )]);
                deliver(&http, &relays, k + i, &body).await;
                acked.lock().expect("lock").insert(id);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }

    // Twice: once some load is through, SIGKILL the arbiter; a new customer writes; the
    // successor must offer their conversation within 5 s of the kill.
    let mut takeovers = Vec::new();
    for round in 0..2 {
        let target = acked.lock().expect("lock").len() + 600;
        while acked.lock().expect("lock").len() < target {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let victim = arbiter(&http, &relays).await;
        let mut child = relays.lock().expect("lock")[victim]
            .1
            .take()
            .expect("alive");
        child.start_kill().expect("SIGKILL");
        let killed_at = Instant::now();
        let _ = child.wait().await;
        let newcomer = customer(1_000 + round);
        let body = webhook_body(&[customer_event(
            &format!("01JCLUSTERNEW{round:013}"),
            &newcomer,
            "hello after the kill",
        )]);
        deliver(&http, &relays, round, &body).await;
        let delivered = killed_at.elapsed();
        // Where a slow takeover spends its time: the lease, or routing and the stream after it.
        let mut leased = None;
        let offered = loop {
            if let Some(at) = offers.lock().expect("lock").get(&newcomer).copied() {
                break at;
            }
            if leased.is_none() && !holders(&http, &relays).await.is_empty() {
                leased = Some(killed_at.elapsed());
            }
            assert!(
                killed_at.elapsed() < Duration::from_secs(30),
                "no offer for the newcomer 30 s after killing relay {victim}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let took = offered.saturating_duration_since(killed_at);
        let took = Takeover {
            took,
            delivered,
            leased,
        };
        eprintln!("cluster: killed arbiter relay {victim}; {took}");
        takeovers.push(took);
        let successor = arbiter(&http, &relays).await;
        assert_ne!(successor, victim, "another relay arbitrates");
    }
    load_stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.await.expect("client task");
    }
    let acked: HashSet<String> = acked.lock().expect("lock").clone();

    // Let the survivor route everything and every console catch up with the log.
    let survivor = live(&relays)[0];
    let reader = store::Database::Postgres(database.clone())
        .open_reader()
        .expect("database");
    let wanted = CUSTOMERS + 2;
    let deadline = Instant::now() + Duration::from_secs(60);
    let conversations: Vec<Value> = loop {
        let list: Value = http
            .get(format!("http://{survivor}/api/conversations"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("conversations")
            .json()
            .await
            .expect("json");
        let list = list.as_array().cloned().unwrap_or_default();
        let taken = list.iter().filter(|c| c["owner"] == "rita").count();
        if taken >= wanted || Instant::now() > deadline {
            break list;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let logged = store::events::read_after(&reader, 0, usize::MAX >> 1).expect("log");
    let last = logged.last().map(|e| e.seq).expect("a log");
    for seen in &watched {
        let deadline = Instant::now() + Duration::from_secs(30);
        while seen.lock().expect("lock").last().map(|(s, _)| *s) < Some(last)
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    stop.store(true, Ordering::SeqCst);
    for w in watchers {
        let _ = w.await;
    }
    let _ = rita_console.await;

    // 1. Every acknowledged event is in the log exactly once, and the log is in order.
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for ev in &logged {
        if let Some(id) = ev.webhook_event_id.as_deref() {
            *counts.entry(id).or_default() += 1;
        }
    }
    for id in &acked {
        assert_eq!(
            counts.get(id.as_str()),
            Some(&1),
            "{id} logged exactly once"
        );
    }
    assert!(
        logged.windows(2).all(|w| w[0].seq < w[1].seq),
        "the log's order is strict"
    );

    // 2. Every console received the whole stream, in the log's order, across relays.
    let logged_seqs: Vec<u64> = logged.iter().map(|e| e.seq).collect();
    for (n, seen) in watched.iter().enumerate() {
        let seqs: Vec<u64> = seen.lock().expect("lock").iter().map(|(s, _)| *s).collect();
        assert_eq!(
            seqs, logged_seqs,
            "console {n} saw the log exactly once and in order through two kills"
        );
    }

    // 3. No conversation lost or doubled: one per customer, each offered and taken once.
    let mut per_chat: HashMap<String, usize> = HashMap::new();
    for c in &conversations {
        *per_chat
            .entry(c["chatId"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    assert_eq!(per_chat.len(), wanted, "a conversation for every customer");
    assert!(
        per_chat.values().all(|n| *n == 1),
        "no customer has two conversations: {per_chat:?}"
    );
    assert!(
        conversations
            .iter()
            .all(|c| c["owner"] == "rita" && c["state"] == "active"),
        "every conversation was offered and taken"
    );
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        wanted,
        "each conversation was accepted once"
    );

    // 4. Offers resumed within 5 s of each kill.
    for t in &takeovers {
        assert!(t.took < TAKEOVER, "offers resumed too late: {t}");
    }
    eprintln!(
        "cluster: {} events acknowledged across 3 relays, log {} rows, takeovers: {}",
        acked.len(),
        logged.len(),
        takeovers
            .iter()
            .map(|t| format!("{:.2?}", t.took))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // 5. The relays never deadlocked each other (each deadlock costs a second of PostgreSQL's
    //    deadlock_timeout and fails a batch of webhooks). A backend reports its count when it
    //    ends: stop the relays, wait for their connections to end, then read it.
    let children: Vec<Child> = relays
        .lock()
        .expect("lock")
        .iter_mut()
        .filter_map(|(_, c)| c.take())
        .collect();
    for mut child in children {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
    drop(reader);
    let deadlocks = tokio::task::spawn_blocking(move || {
        let mut client =
            postgres::Client::connect(&database, postgres::NoTls).expect("the test database");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let others: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                    &[],
                )
                .expect("activity")
                .get(0);
            if others == 0 {
                break;
            }
            assert!(Instant::now() < deadline, "the relays' connections ended");
            std::thread::sleep(Duration::from_millis(50));
        }
        client
            .query_one(
                "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
                &[],
            )
            .expect("statistics")
            .get::<_, i64>(0)
    })
    .await
    .expect("statistics read");
    assert_eq!(deadlocks, 0, "the relays deadlocked each other");
}

/// Two relays on one database, apart from the routing: a file a representative uploads
/// through one relay is served by the other (LINE may fetch from either), and signing out
/// through one relay closes the session's websocket on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn media_and_ended_sessions_reach_every_relay() {
    let base = tempfile::tempdir().expect("tempdir");
    let dirs: Vec<_> = (0..2)
        .map(|i| base.path().join(format!("relay{i}")))
        .collect();
    let config =
        linedesk_relay::ServeConfig::local_for_tests(dirs[0].clone()).expect("test settings");
    let Some(database) = config.database.clone() else {
        eprintln!("skipped: several relays need PostgreSQL (LINEDESK_TEST_DATABASE=postgres)");
        return;
    };
    seed(&dirs[0], "http://127.0.0.1:9");
    copy_key(&dirs[0], &dirs[1]);
    let (a, b) = (free_port(), free_port());
    let _first = start(&dirs[0], a, Some(&database)).await;
    let _second = start(&dirs[1], b, Some(&database)).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");

    // A PDF uploaded through the first relay.
    let rita = login(&http, a, "rita").await;
    let pdf = [b"%PDF-1.4\n".as_slice(), &[7u8; 300_000]].concat();
    let answer: Value = http
        .post(format!(
            "http://{a}/api/uploads?channel={CHANNEL}&name=invoice.pdf"
        ))
        .bearer_auth(&rita)
        .body(pdf.clone())
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    let url = answer["url"].as_str().expect("an upload URL");
    let path = &url[url.find("/o/").expect("an /o/ URL")..];
    let served = http
        .get(format!("http://{b}{path}"))
        .send()
        .await
        .expect("served");
    assert_eq!(served.status(), 200, "the other relay serves the upload");
    assert_eq!(
        served.bytes().await.expect("bytes").as_ref(),
        pdf.as_slice(),
        "byte for byte"
    );
    assert!(
        dirs[1].join("media").exists(),
        "the second relay keeps a copy as its cache"
    );

    // Rita's console on the second relay; she signs out through the first.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{b}/api/ws"))
        .await
        .expect("websocket");
    let hello = ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        token: rita.clone(),
        since: None,
    };
    ws.send(Message::text(serde_json::to_string(&hello).expect("json")))
        .await
        .expect("hello");
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("welcome in time")
            .expect("open")
            .expect("frame");
        if let Message::Text(text) = msg {
            if matches!(
                serde_json::from_str::<ServerFrame>(text.as_str()),
                Ok(ServerFrame::Welcome { .. })
            ) {
                break;
            }
        }
    }
    let out = http
        .post(format!("http://{a}/api/logout"))
        .bearer_auth(&rita)
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), 204);
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(text) = msg {
                if let Ok(ServerFrame::Error { code, .. }) =
                    serde_json::from_str::<ServerFrame>(text.as_str())
                {
                    return Some(code);
                }
            }
        }
        None
    })
    .await
    .expect("the other relay ended the session in time");
    assert_eq!(
        ended,
        Some(linedesk_protocol::ErrorCode::Unauthenticated),
        "the websocket on the other relay closed as signed out"
    );
}
