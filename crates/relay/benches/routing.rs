//! Routing benchmarks (run with `cargo bench -p linedesk-relay --bench routing`), in-process
//! on a real data directory:
//!
//! 1. Offers per second with 500 representatives and 10,000 waiting conversations: one
//!    distribution pass hands out 500 offers; then every representative rejects, one command
//!    at a time, each reject making the next offer (the steady state of a busy floor).
//! 2. First customer message to the offer on a representative's screen: a signed webhook for
//!    a new customer, timed until the `linedeskConversation` event carrying the offer arrives
//!    on the representative's websocket.
//!
//! Environment: `BENCH_REPS` (500), `BENCH_WAITING` (10000), `BENCH_SAMPLES` (200).

use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use linedesk_protocol::{ClientFrame, Role, ServerFrame, PROTOCOL_VERSION};
use linedesk_relay::routing::engine::{Actor, Command, Tx};
use linedesk_relay::routing::Routing;
use linedesk_relay::store::{self, events::NewEvent, users};
use linedesk_relay::{Relay, ServeConfig};
use tokio_tungstenite::tungstenite::Message;

mod support;
use support::{env_or, ms, percentile, seed_channel, CHANNEL, SECRET};

fn message_event(user: &str, n: usize) -> serde_json::Value {
    serde_json::json!({
        "type": "message", "mode": "active", "timestamp": store::now_ms(),
        "source": {"type": "user", "userId": user},
        "webhookEventId": format!("01JROUTE{n:018}"), "deliveryContext": {"isRedelivery": false},
        "replyToken": format!("{n:032x}"),
        "message": {"id": n.to_string(), "type": "text", "quoteToken": "q", "text": format!("question {n}")}
    })
}

async fn start(dir: &std::path::Path, reps: usize, waiting: usize, samples: usize) -> Relay {
    {
        let conn = seed_channel(dir);
        let db = conn.db();
        // No automated messages or survey: nothing to send to a LINE that is not there.
        db.execute(
            "INSERT INTO workstreams (channel_id, config, updated_at) VALUES (?1, ?2, 0)",
            linedesk_relay::args![
                CHANNEL,
                r#"{"messages": {}, "survey": {"kind": "off"}, "autoCloseAfterMs": null}"#
            ],
        )
        .expect("workstream");
        // Profiles known, so routing does not ask LINE.
        let known = (0..waiting).chain(1_000_000..1_000_000 + samples);
        for i in known {
            let user = format!("U{i:032x}");
            db.execute(
                "INSERT INTO profiles (channel_id, user_id, display_name, language, fetched_at) VALUES (?1, ?2, 'c', 'en', ?3)",
                linedesk_relay::args![CHANNEL, user, store::now_ms()],
            )
            .expect("profile");
        }
        users::add(&conn, "rep000", Role::Rep, "bench-password", 0).expect("user");
        // Argon2 is slow on purpose: the others share rep000's hash.
        for r in 1..reps {
            let name = format!("rep{r:03}");
            db.execute(
                "INSERT INTO users (name, role, password_hash, created_at)
                 SELECT CAST(?1 AS TEXT), 'rep', password_hash, 0 FROM users WHERE name = 'rep000'",
                linedesk_relay::args![name],
            )
            .expect("user");
        }
    }
    Relay::start(&ServeConfig::local_for_tests(dir.to_owned()).expect("config"))
        .await
        .expect("relay")
}

async fn offers_per_second(relay: &Relay, reps: usize, waiting: usize) {
    // 10,000 customers write while nobody is available: all wait in the queue.
    let started = Instant::now();
    for chunk in (0..waiting).collect::<Vec<_>>().chunks(500) {
        let evs: Vec<NewEvent> = chunk
            .iter()
            .map(|&i| {
                let body = message_event(&format!("U{i:032x}"), i);
                NewEvent {
                    webhook_event_id: body["webhookEventId"].as_str().map(str::to_owned),
                    event_type: "message".into(),
                    event_ts: store::now_ms(),
                    body: body.to_string(),
                }
            })
            .collect();
        relay
            .writer()
            .append(CHANNEL.into(), evs)
            .await
            .expect("append");
    }
    Routing::settled(relay).await;
    println!(
        "routing: {waiting} new conversations routed into the queue in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    // 500 representatives become available at once (capacity 1); one distribution pass, in
    // the same transaction, so the relay's own clock tick cannot get there first.
    let now = store::now_ms();
    let (made, pass) = relay
        .writer()
        .run(move |c| {
            for r in 0..reps {
                let name = format!("rep{r:03}");
                c.execute(
                    "INSERT INTO agents (\"user\", chosen, presence, capacity, updated_at) VALUES (?1, 'available', 'available', 1, 0)
                     ON CONFLICT (\"user\") DO UPDATE SET chosen = 'available', presence = 'available', capacity = 1",
                    linedesk_relay::args![name],
                )?;
            }
            let t = Instant::now();
            let made = Tx::new(c, now).distribute()?;
            Ok((made, t.elapsed()))
        })
        .await
        .expect("distribute");

    println!(
        "offers: one distribution pass made {made} offers to {reps} representatives over {waiting} waiting in {} = {:.0} offers/s",
        ms(pass),
        made as f64 / pass.as_secs_f64()
    );
    // Every representative rejects at the same moment; each reject re-offers at once.
    let offered: Vec<(String, String)> = relay
        .read(|c| {
            c.query(
                "SELECT id, offered_to FROM conversations WHERE offered_to IS NOT NULL",
                linedesk_relay::args![],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
        .await
        .expect("offers");
    let t = Instant::now();
    let tasks: Vec<_> = offered
        .into_iter()
        .map(|(id, user)| {
            let relay = relay.clone();
            tokio::spawn(async move {
                let actor = Actor {
                    user,
                    role: Role::Rep,
                };
                Routing::command(&relay, actor, id, Command::Reject)
                    .await
                    .expect("reject");
            })
        })
        .collect();
    let remade = tasks.len();
    for task in tasks {
        task.await.expect("task");
    }
    let steady = t.elapsed();
    println!(
        "offers: {remade} representatives reject at once, each answered by a new offer, in {:.2} s = {:.0} offers/s (command, decline, next offer, all durable)",
        steady.as_secs_f64(),
        remade as f64 / steady.as_secs_f64()
    );
}

async fn first_message_to_offer(dir: &std::path::Path, samples: usize) {
    let relay = start(dir, 1, 0, samples).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = linedesk_relay::app(relay.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("http://{addr}/api/login"))
        .json(&serde_json::json!({"user": "rep000", "password": "bench-password"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token").to_owned();
    relay
        .writer()
        .run(|c| {
            c.execute(
                "INSERT INTO agents (\"user\", chosen, presence, capacity, updated_at) VALUES ('rep000', 'available', 'available', 100000, 0)
                 ON CONFLICT (\"user\") DO UPDATE SET chosen = 'available', presence = 'available', capacity = 100000",
                linedesk_relay::args![],
            )
            .map(drop)
        })
        .await
        .expect("agent");
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/ws"))
        .await
        .expect("ws");
    let head = *relay.writer().head().borrow();
    ws.send(Message::text(
        serde_json::to_string(&ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            token,
            since: Some(head),
        })
        .expect("json"),
    ))
    .await
    .expect("hello");
    let mut latencies = Vec::with_capacity(samples);
    for i in 0..samples {
        let user = format!("U{:032x}", 1_000_000 + i);
        let body = serde_json::to_vec(&serde_json::json!({
            "destination": "Ubench", "events": [message_event(&user, 1_000_000 + i)]
        }))
        .expect("json");
        let sig = linedesk_line::signature::sign(SECRET, &body);
        let t = Instant::now();
        let status = http
            .post(format!("http://{addr}/line/{CHANNEL}/webhook"))
            .header("x-line-signature", sig)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("webhook")
            .status();
        assert!(status.is_success());
        loop {
            let Some(Ok(Message::Text(text))) = ws.next().await else {
                panic!("websocket ended")
            };
            let Ok(ServerFrame::Event(ev)) = serde_json::from_str::<ServerFrame>(&text) else {
                continue;
            };
            let v: serde_json::Value = serde_json::from_str(ev.event.get()).expect("event");
            if v["type"] == "linedeskConversation"
                && v["source"]["userId"] == user.as_str()
                && v["conversation"]["offer"]["to"] == "rep000"
            {
                latencies.push(t.elapsed());
                // Accept, so the next customer can be offered (one offer at a time).
                let id = v["conversation"]["id"].as_str().expect("id").to_owned();
                let actor = Actor {
                    user: "rep000".into(),
                    role: Role::Rep,
                };
                Routing::command(&relay, actor, id, Command::Accept)
                    .await
                    .expect("accept");
                break;
            }
        }
    }
    latencies.sort();
    println!(
        "first message to offer on the representative's websocket: {samples} new customers; p50 {} p99 {} max {}",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().expect("samples"))
    );
    relay.shutdown();
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs it tiny, as a smoke test.
    let quick = !std::env::args().any(|a| a == "--bench");
    let scale =
        |name: &str, full: usize, small: usize| env_or(name, if quick { small } else { full });
    let reps = scale("BENCH_REPS", 500, 20);
    let waiting = scale("BENCH_WAITING", 10_000, 200);
    let samples = scale("BENCH_SAMPLES", 200, 5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let relay = start(dir.path(), reps, waiting, samples).await;
        offers_per_second(&relay, reps, waiting).await;
        relay.shutdown();
        let dir2 = tempfile::tempdir().expect("tempdir");
        first_message_to_offer(dir2.path(), samples).await;
    });
}
