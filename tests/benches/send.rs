//! What sending through the relay costs over calling LINE directly (run with
//! `cargo bench -p linedesk-tests --bench send`).
//!
//! The LINE simulator and a relay on loopback. A representative owns an Active conversation.
//! First, the baseline: pushes straight to the simulator with the channel's token at
//! `BENCH_SEND_RATE` sends/s (200) for `BENCH_SEND_SECONDS` (10). Then the same rate through
//! `POST /api/send` as the representative: the relay checks who may write, records the
//! intent, pushes with the outbox id as retry key, and logs the message before answering.
//! Prints p50 and p99 of both and the difference.

use std::time::{Duration, Instant};

use linedesk_line::api::{Endpoints, LineClient};
use linedesk_line::send::Message;
use linedesk_line::Secret;
use linedesk_tests::{Loopback, CHANNEL, PASSWORD, TOKEN, USER};
use serde_json::{json, Value};

#[path = "../../crates/relay/benches/support/mod.rs"]
mod support;
use support::{env_or, ms, percentile};

fn uuid(run: u8, n: usize) -> String {
    format!("00000000-0000-4000-8{run:03}-{n:012}")
}

/// Runs `count` calls at `rate`/s, each in its own task; answers the sorted latencies.
async fn paced<F, Fut>(count: usize, rate: usize, call: F) -> Vec<Duration>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate as u64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::with_capacity(count);
    for n in 0..count {
        tick.tick().await;
        let fut = call(n);
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            fut.await;
            t0.elapsed()
        }));
    }
    let mut lat = Vec::with_capacity(count);
    for t in tasks {
        lat.push(t.await.expect("call"));
    }
    lat.sort();
    lat
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run tiny then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rate = if quick {
        50
    } else {
        env_or("BENCH_SEND_RATE", 200)
    };
    let seconds = if quick {
        1
    } else {
        env_or("BENCH_SEND_SECONDS", 10)
    };
    let count = rate * seconds;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let lb = Loopback::start(dir.path()).await;
        let rita = lb.login(USER, PASSWORD).await;
        let (status, _) = lb
            .api(
                reqwest::Method::POST,
                "/api/presence",
                &rita,
                Some(json!({"presence": "available"})),
            )
            .await;
        assert_eq!(status, 200);
        let customer = lb.customer("Bench Customer", "en").await;
        lb.sim(
            &format!("/sim/customers/{customer}/messages"),
            json!({"type": "text", "text": "hello"}),
        )
        .await;
        let mut conversation = None;
        for _ in 0..500 {
            let (_, list) = lb
                .api(
                    reqwest::Method::GET,
                    &format!("/api/conversations?chat={customer}"),
                    &rita,
                    None,
                )
                .await;
            if let Some(id) = list[0]["offer"]["to"]
                .as_str()
                .filter(|to| *to == USER)
                .and(list[0]["id"].as_str())
            {
                conversation = Some(id.to_owned());
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let conversation = conversation.expect("the conversation is offered to the representative");
        let (status, _) = lb
            .api(
                reqwest::Method::POST,
                &format!("/api/conversations/{conversation}/accept"),
                &rita,
                Some(json!({})),
            )
            .await;
        assert_eq!(status, 200);

        let direct = {
            let client = LineClient::new(Endpoints::single(&lb.sim_url), Secret::new(TOKEN.into()));
            let to = customer.clone();
            paced(count, rate, move |n| {
                let (client, to) = (client.clone(), to.clone());
                async move {
                    client
                        .push(&to, vec![Message::text(format!("direct {n}"))], &uuid(1, n))
                        .await
                        .expect("push");
                }
            })
            .await
        };
        let relayed = {
            let (http, url, token, to) = (
                reqwest::Client::new(),
                format!("{}/api/send", lb.relay_url),
                rita.clone(),
                customer.clone(),
            );
            paced(count, rate, move |n| {
                let req = http.post(&url).bearer_auth(&token).json(&json!({
                    "outboxId": uuid(2, n), "channelId": CHANNEL, "chatId": to,
                    "messages": [{"type": "text", "text": format!("through the relay {n}")}],
                }));
                async move {
                    let resp = req.send().await.expect("send");
                    assert_eq!(resp.status(), 200, "{:?}", resp.json::<Value>().await);
                }
            })
            .await
        };
        println!(
            "send at {rate}/s x {count}: direct to LINE p50 {} p99 {}; through the relay p50 {} p99 {}; \
             the relay adds p50 {} p99 {}",
            ms(percentile(&direct, 0.50)),
            ms(percentile(&direct, 0.99)),
            ms(percentile(&relayed, 0.50)),
            ms(percentile(&relayed, 0.99)),
            ms(percentile(&relayed, 0.50).saturating_sub(percentile(&direct, 0.50))),
            ms(percentile(&relayed, 0.99).saturating_sub(percentile(&direct, 0.99))),
        );
    });
}
