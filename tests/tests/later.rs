//! "Send later": a representative's message the relay sends at the time she chose, by push
//! with its id as the retry key, once, whether the relay restarts before its time or after LINE
//! took it but before the relay could note so. Time is the relay's manual clock.

use std::sync::Arc;

use linedesk_protocol::Role;
use linedesk_relay::clock::{Clock, ManualClock};
use linedesk_relay::routing::Routing;
use linedesk_tests::{Loopback, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

async fn received(w: &Loopback, user: &str) -> Vec<Value> {
    w.sim(&format!("/sim/customers/{user}/received"), Value::Null)
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Sends whatever is due now, as the relay's sender does every second.
async fn flush(w: &Loopback) {
    Routing::flush_automated(&w.relay())
        .await
        .expect("due messages sent");
}

#[tokio::test]
async fn a_message_sent_later_goes_once_at_its_time_across_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(linedesk_relay::store::now_ms());
    let w = Loopback::start_with_clock(&dir.path().join("relay"), Arc::new(clock.clone())).await;
    w.add_user("nora", Role::Rep, PASSWORD);
    let rita = w.login("rita", PASSWORD).await;
    let nora = w.login("nora", PASSWORD).await;
    let (status, _) = w
        .api(
            Method::POST,
            "/api/presence",
            &rita,
            Some(json!({"presence": "available"})),
        )
        .await;
    assert_eq!(status, 200);
    let ann = w.customer("Ann", "en").await;
    w.sim(
        &format!("/sim/customers/{ann}/messages"),
        json!({"type": "text", "text": "When will my refund arrive?"}),
    )
    .await;
    let id = w.offered(&rita, &ann).await;
    let (status, _) = w
        .api(
            Method::POST,
            &format!("/api/conversations/{id}/accept"),
            &rita,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200);
    let later = format!("/api/conversations/{id}/later");
    let hour = 3_600_000;

    // Refusals: another representative; a time gone by; an empty text.
    let (status, _) = w
        .api(
            Method::POST,
            &later,
            &nora,
            Some(json!({"text": "x", "at": clock.now_ms() + hour})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = w
        .api(
            Method::POST,
            &later,
            &rita,
            Some(json!({"text": " ", "at": clock.now_ms() - 1})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let fields: Vec<&str> = body["invalid"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|i| i["field"].as_str())
        .collect();
    assert_eq!(fields, ["text", "at"]);

    // In an hour: "your refund went out".
    let text = "Your refund went out this morning; it shows within 2 days.";
    let (status, queued) = w
        .api(
            Method::POST,
            &later,
            &rita,
            Some(json!({"text": text, "at": clock.now_ms() + hour})),
        )
        .await;
    assert_eq!(status, 201, "{queued}");
    let key = queued["id"].as_str().expect("id").to_owned();
    let (_, waiting) = w.api(Method::GET, &later, &rita, None).await;
    assert_eq!(waiting[0]["text"], text, "{waiting}");
    assert_eq!(waiting[0]["sentBy"], "rita");
    let (status, _) = w.api(Method::GET, &later, &nora, None).await;
    assert_eq!(status, 403, "Nora does not see Rita's");

    // Half an hour on: not yet.
    clock.advance(hour / 2);
    flush(&w).await;
    assert!(received(&w, &ann).await.is_empty(), "not before its time");

    // The relay stops; its time passes meanwhile; it starts again and sends it, once.
    w.stop_relay().await;
    clock.advance(hour);
    w.start_relay().await;
    flush(&w).await;
    flush(&w).await;
    let got = received(&w, &ann).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["message"]["text"], text);
    assert_eq!(got[0]["via"], "push");
    assert_eq!(got[0]["retryKey"], key.as_str());
    let (_, waiting) = w.api(Method::GET, &later, &rita, None).await;
    assert_eq!(waiting, json!([]));

    // LINE takes the next one but its answer is lost. The same key is tried again (at once, or
    // after a restart) and LINE keeps one.
    let second = "A reminder: the refund shows in your bank app today.";
    let (status, queued) = w
        .api(
            Method::POST,
            &later,
            &rita,
            Some(json!({"text": second, "at": clock.now_ms() + hour})),
        )
        .await;
    assert_eq!(status, 201);
    let key = queued["id"].as_str().expect("id").to_owned();
    w.sim(
        "/sim/faults",
        json!({"path": "/v2/bot/message/push", "status": 500, "after": true, "count": 1}),
    )
    .await;
    clock.advance(hour);
    flush(&w).await;
    assert_eq!(received(&w, &ann).await.len(), 2, "LINE has it");
    w.stop_relay().await;
    w.sim_request(Method::DELETE, "/sim/faults", Value::Null)
        .await;
    clock.advance(hour);
    w.start_relay().await;
    flush(&w).await;
    let got = received(&w, &ann).await;
    let copies = got
        .iter()
        .filter(|m| m["message"]["text"] == second)
        .count();
    assert_eq!(
        copies, 1,
        "sent again with the same key, LINE kept one: {got:?}"
    );
    assert!(got.iter().any(|m| m["retryKey"] == key.as_str()));
    let (_, waiting) = w.api(Method::GET, &later, &rita, None).await;
    assert_eq!(waiting, json!([]), "noted as sent");

    // A waiting one can be cancelled, once.
    let (_, queued) = w
        .api(
            Method::POST,
            &later,
            &rita,
            Some(json!({"text": "never mind", "at": clock.now_ms() + hour})),
        )
        .await;
    let cancel = format!("/api/conversations/{id}/later-cancel");
    let body = json!({"id": queued["id"]});
    let (status, _) = w
        .api(Method::POST, &cancel, &rita, Some(body.clone()))
        .await;
    assert_eq!(status, 200);
    let (status, _) = w.api(Method::POST, &cancel, &rita, Some(body)).await;
    assert_eq!(status, 404);
    clock.advance(2 * hour);
    flush(&w).await;
    assert_eq!(
        received(&w, &ann).await.len(),
        2,
        "the cancelled one never went"
    );

    // One waits, then Rita ends the conversation: it is hers no more to write in, so it stays.
    let (status, _) = w
        .api(
            Method::POST,
            &later,
            &rita,
            Some(json!({"text": "too late", "at": clock.now_ms() + hour})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = w
        .api(
            Method::POST,
            &format!("/api/conversations/{id}/end"),
            &rita,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200);
    clock.advance(2 * hour);
    flush(&w).await;
    assert_eq!(received(&w, &ann).await.len(), 2, "not after she ended it");
}
