//! "Remind me": a representative sets her conversation aside until a time; the relay reminds
//! her then, once, across a restart, and not at all when she called it off or the
//! conversation closed meanwhile. Time is the relay's manual clock.

use std::sync::Arc;

use linedesk_protocol::Role;
use linedesk_relay::clock::{Clock, ManualClock};
use linedesk_relay::routing::Routing;
use linedesk_tests::{Loopback, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

/// The reminders the relay has logged, as consoles receive them.
async fn reminders_logged(w: &Loopback) -> Vec<Value> {
    w.relay()
        .read(|c| linedesk_relay::store::events::read_after(c, 0, 100_000))
        .await
        .expect("the log")
        .into_iter()
        .filter(|e| e.event_type == linedesk_protocol::routing::REMINDER_EVENT)
        .map(|e| serde_json::from_str(&e.body).expect("json"))
        .collect()
}

/// A customer writes and Rita takes the chat; the relay conversation's id.
async fn taken(w: &Loopback, rita: &str, name: &str) -> String {
    let chat = w.customer(name, "en").await;
    w.sim(
        &format!("/sim/customers/{chat}/messages"),
        json!({"type": "text", "text": "Could you check on my refund?"}),
    )
    .await;
    let id = w.offered(rita, &chat).await;
    let (status, _) = w
        .api(
            Method::POST,
            &format!("/api/conversations/{id}/accept"),
            rita,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200);
    id
}

#[tokio::test]
async fn a_reminder_comes_once_at_its_time_across_a_restart_and_only_while_it_is_hers() {
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
    let hour = 3_600_000;
    let ann = taken(&w, &rita, "Ann").await;
    let remind = format!("/api/conversations/{ann}/remind");

    // Refusals: another representative (who may not see it); a time gone by; a note too long.
    let (status, body) = w
        .api(
            Method::POST,
            &remind,
            &nora,
            Some(json!({"at": clock.now_ms() + hour, "note": ""})),
        )
        .await;
    assert_eq!(status, 404, "Nora may not see it: {body}");
    let (status, body) = w
        .api(
            Method::POST,
            &remind,
            &rita,
            Some(json!({"at": clock.now_ms() - 1, "note": "x".repeat(501)})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let fields: Vec<_> = body["invalid"]
        .as_array()
        .expect("invalid")
        .iter()
        .map(|i| i["field"].clone())
        .collect();
    assert_eq!(fields, [json!("at"), json!("note")], "{body}");

    // Rita sets Ann's conversation aside for an hour: it waits, and she has one reminder.
    let due = clock.now_ms() + hour;
    let (status, body) = w
        .api(
            Method::POST,
            &remind,
            &rita,
            Some(json!({"at": due, "note": "Call back about the refund"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let reminder = body["id"].as_str().expect("id").to_owned();
    let (_, conv) = w
        .api(
            Method::GET,
            &format!("/api/conversations/{ann}"),
            &rita,
            None,
        )
        .await;
    assert_eq!(conv["state"], "waiting", "set aside: {conv}");
    let (_, mine) = w.api(Method::GET, "/api/reminders", &rita, None).await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    assert_eq!(mine[0]["note"], "Call back about the refund");
    assert_eq!(mine[0]["at"], due);
    let (_, theirs) = w.api(Method::GET, "/api/reminders", &nora, None).await;
    assert_eq!(theirs, json!([]), "Nora has none, and sees none of Rita's");
    let (status, _) = w
        .api(
            Method::DELETE,
            &format!("/api/reminders/{reminder}"),
            &nora,
            None,
        )
        .await;
    assert_eq!(status, 404, "Nora cannot call off Rita's reminder");

    // A second one, called off; a third, whose conversation closes before its time.
    let bob = taken(&w, &rita, "Bob").await;
    let (status, body) = w
        .api(
            Method::POST,
            &format!("/api/conversations/{bob}/remind"),
            &rita,
            Some(json!({"at": due, "note": "Bob"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = w
        .api(
            Method::DELETE,
            &format!("/api/reminders/{}", body["id"].as_str().expect("id")),
            &rita,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let cy = taken(&w, &rita, "Cy").await;
    let (status, _) = w
        .api(
            Method::POST,
            &format!("/api/conversations/{cy}/remind"),
            &rita,
            Some(json!({"at": due, "note": "Cy"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = w
        .api(
            Method::POST,
            &format!("/api/conversations/{cy}/close"),
            &rita,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Before its time: nothing, however often the clock runs.
    clock.advance(hour / 2);
    Routing::tick(&w.relay()).await.expect("tick");
    assert!(reminders_logged(&w).await.is_empty());

    // The relay stops and comes back after the time: the reminder comes, once.
    w.stop_relay().await;
    clock.advance(hour);
    w.start_relay().await;
    Routing::tick(&w.relay()).await.expect("tick");
    Routing::tick(&w.relay()).await.expect("tick");
    let logged = reminders_logged(&w).await;
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0]["conversationId"], ann.as_str());
    assert_eq!(logged[0]["user"], "rita");
    assert_eq!(logged[0]["note"], "Call back about the refund");
    assert_eq!(logged[0]["dueAt"], due);
    let (_, mine) = w.api(Method::GET, "/api/reminders", &rita, None).await;
    assert_eq!(mine, json!([]), "nothing left to come");
}
