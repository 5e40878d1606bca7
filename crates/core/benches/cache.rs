//! Cache benchmarks (run with `cargo bench -p linedesk-core --bench cache`).
//!
//! Fills a real cache file through the same ingest path the relay link uses, with
//! `CACHE_BENCH_MESSAGES` messages (default 1,000,000) over 10,000 conversations, one of which
//! holds 10,000 messages, in English, Chinese, Japanese and Thai. Then measures opening that
//! conversation (the newest page the UI shows, and all 10,000) and full-text searches.

use std::time::{Duration, Instant};

use linedesk_core::cache::Cache;
use linedesk_protocol::EventFrame;
use serde_json::value::RawValue;

const WORDS: &[&str] = &[
    "order",
    "delivery",
    "package",
    "refund",
    "invoice",
    "address",
    "thanks",
    "please",
    "where",
    "tomorrow",
    "訂單",
    "配送",
    "退款",
    "地址",
    "謝謝",
    "請問",
    "今天",
    "明天",
    "注文",
    "配達",
    "返品",
    "住所",
    "ありがとう",
    "お願いします",
    "สินค้า",
    "จัดส่ง",
    "ที่อยู่",
    "ขอบคุณ",
    "คืนเงิน",
];

fn sentence(seed: u64) -> String {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let n = 4 + (x >> 60) as usize;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push(WORDS[(x >> 33) as usize % WORDS.len()]);
    }
    out.join(" ")
}

fn frame(seq: u64, chat: u64, text: &str) -> EventFrame {
    let event = serde_json::json!({
        "type": "message", "mode": "active", "timestamp": 1_700_000_000_000i64 + seq as i64,
        "source": {"type": "user", "userId": format!("U{chat:032x}")},
        "webhookEventId": format!("01BENCH{seq:019}"),
        "message": {"type": "text", "id": seq.to_string(), "text": text, "quoteToken": "q"}
    });
    EventFrame {
        seq,
        channel_id: "1650000000".into(),
        webhook_event_id: None,
        received_at: 1_700_000_000_000 + seq as i64,
        event: RawValue::from_string(event.to_string()).expect("json"),
    }
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed());
    }
    times.sort();
    (
        times[times.len() / 2],
        times[times.len() - 1],
        last.expect("at least one run"),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let total: u64 = std::env::var("CACHE_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 20_000 } else { 1_000_000 });
    let conversations: u64 = 10_000;
    let big: u64 = 10_000.min(total / 2);
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = Cache::open(dir.path()).expect("cache");
    let started = Instant::now();
    let mut batch = Vec::with_capacity(5000);
    for seq in 1..=total {
        // The first `big` messages go to conversation 0; the rest round-robin over the others.
        let chat = if seq <= big {
            0
        } else {
            1 + seq % (conversations - 1)
        };
        batch.push(frame(seq, chat, &sentence(seq)));
        if batch.len() == 5000 || seq == total {
            cache.apply(&batch).expect("apply");
            batch.clear();
        }
    }
    let fill = started.elapsed();
    let size = std::fs::metadata(dir.path().join("cache.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "cache fill: {total} messages in {conversations} conversations through ingest in {:.1} s ({:.0}/s), file {:.0} MB",
        fill.as_secs_f64(),
        total as f64 / fill.as_secs_f64(),
        size as f64 / 1e6
    );
    let conv = cache
        .conversations(conversations as usize)
        .expect("list")
        .into_iter()
        .find(|c| c.chat_id == format!("U{:032x}", 0))
        .expect("big conversation");
    let (p50, max, page) = time(50, || cache.messages(conv.id, None, 200).expect("page"));
    println!(
        "open {big}-message conversation, newest 200: p50 {} max {} ({} rows)",
        ms(p50),
        ms(max),
        page.len()
    );
    let (p50, max, all) = time(20, || cache.messages(conv.id, None, 100_000).expect("all"));
    println!(
        "open {big}-message conversation, all rows: p50 {} max {} ({} rows)",
        ms(p50),
        ms(max),
        all.len()
    );
    let (p50, max, list) = time(20, || cache.conversations(200).expect("list"));
    println!(
        "conversation list, newest 200 of {conversations}: p50 {} max {} ({} rows)",
        ms(p50),
        ms(max),
        list.len()
    );
    // Suggested answers: the newest question of a conversation against every cached one. The
    // generated history has no answers, so every candidate is looked at: the worst case.
    for (name, id) in [
        ("the big conversation's newest", all.last().map(|m| m.id)),
        (
            "another",
            list.get(7)
                .and_then(|c| cache.messages(c.id, None, 1).ok()?.pop())
                .map(|m| m.id),
        ),
    ] {
        let Some(id) = id else { continue };
        let (p50, max, found) = time(20, || cache.suggest(id, 3).expect("suggest"));
        println!(
            "suggested answers for {name} question over {total} messages: p50 {} max {} ({} found)",
            ms(p50),
            ms(max),
            found.len()
        );
    }
    for q in [
        "refund",
        "deliv",
        "訂單",
        "ありがとう",
        "ขอบคุณ",
        "invoice tomorrow",
        "zzzznotfound",
    ] {
        let (p50, max, hits) = time(20, || cache.search(q, 50).expect("search"));
        println!(
            "search {q:?} over {total} messages: p50 {} max {} ({} hits shown)",
            ms(p50),
            ms(max),
            hits.len()
        );
    }
}
