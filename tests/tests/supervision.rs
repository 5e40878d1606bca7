//! Supervisors on the floor, on the real relay and the LINE simulator: monitor, whisper,
//! join, assign, transfer and force close, each on a real conversation by a supervisor of its
//! queue, and refused (as a table) for a representative and for a supervisor of another queue.
//! Whispers and notes reach the consoles that see the conversation and never LINE.

mod floor;

use std::time::Duration;

use floor::{Console, Floor};
use futures_util::StreamExt as _;
use linedesk_protocol::{Role, ServerFrame};
use linedesk_relay::store::routing::supervision_audit;
use linedesk_tests::{CHANNEL, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

/// A floor with Rita and Bob, Sam supervising General and Una supervising another queue.
async fn floor() -> Floor {
    let f = Floor::open(&["rita", "bob"]).await;
    f.lb.add_user("sam", Role::Supervisor, PASSWORD);
    f.lb.add_user("una", Role::Supervisor, PASSWORD);
    let (status, body) = f
        .put(
            "/api/queues/general",
            json!({"name": "General", "supervisors": ["sam"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = f
        .put(
            "/api/queues/vip",
            json!({"name": "VIP", "supervisors": ["una"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    f
}

/// A customer who wrote and whom Rita took; answers the customer and the conversation id.
async fn ritas_customer(f: &Floor, name: &str) -> (String, Value) {
    let rita = f.token("rita").await;
    f.presence(&rita, "available").await;
    let customer = f.customer(name, "en").await;
    f.says(&customer, "my order is late").await;
    let c = f.conversation(&customer).await;
    let (status, body) = f.act(&rita, &c["id"], "accept", None).await;
    assert_eq!(status, 200, "{body}");
    (customer, c["id"].clone())
}

/// The next internal note a console receives within `wait`, if any.
async fn next_note(ws: &mut Console, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .ok()??
            .ok()?;
        let Ok(text) = frame.into_text() else {
            continue;
        };
        if let Ok(ServerFrame::Event(ev)) = serde_json::from_str::<ServerFrame>(&text) {
            let event: Value = serde_json::from_str(ev.event.get()).ok()?;
            if event["type"] == "linedeskNote" {
                return Some(event);
            }
        }
    }
}

async fn audit(f: &Floor, id: &Value) -> Vec<(String, String, Option<String>)> {
    let id = id.as_str().expect("id").to_owned();
    f.lb.relay()
        .read(move |c| supervision_audit(c, &id))
        .await
        .expect("audit")
}

#[tokio::test]
async fn a_supervisor_monitors_whispers_joins_assigns_and_force_closes() {
    let f = floor().await;
    let (rita, sam) = (f.token("rita").await, f.token("sam").await);
    let mut ritas_console = f.console(&rita, "rita").await;
    let (customer, id) = ritas_customer(&f, "Ken").await;
    let heard = f.received(&customer).await.len();

    // Monitor: read-only, the customer is not told; audited.
    let (status, body) = f.act(&sam, &id, "monitor", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["conversation"]["owner"], "rita");

    // Whisper: an internal note to Rita, in her console, never at LINE.
    let (status, body) = f
        .act(
            &sam,
            &id,
            "whisper",
            Some(json!({"text": "offer the refund"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let note = next_note(&mut ritas_console, Duration::from_secs(5))
        .await
        .expect("Rita's console shows the whisper");
    assert_eq!(note["text"], "offer the refund");
    assert_eq!(note["author"], "sam");
    assert_eq!(note["whisper"], true);
    assert_eq!(note["conversationId"], id);
    // A team note from Rita herself.
    let (status, body) = f
        .act(
            &rita,
            &id,
            "note",
            Some(json!({"text": "customer prefers LINE Pay"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    f.flush().await;
    assert_eq!(
        f.received(&customer).await.len(),
        heard,
        "nothing of a monitor, whisper or note reached the customer"
    );

    // Join: Sam writes to the customer alongside Rita.
    let (status, body) = f.act(&sam, &id, "join", Some(json!({"user": "sam"}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["conversation"]["consultants"],
        json!([{"user": "sam", "joined": true}])
    );
    let (status, body) = f
        .lb
        .api(
            Method::POST,
            "/api/send",
            &sam,
            Some(json!({"outboxId": "00000000-0000-4000-8000-000000000015", "channelId": CHANNEL,
                        "chatId": customer, "messages": [{"type": "text", "text": "I am Sam, the team lead"}]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(f
        .received(&customer)
        .await
        .iter()
        .any(|m| m["message"]["text"] == "I am Sam, the team lead"));

    // Assign: to Bob, who is away, with no offer.
    let bob = f.token("bob").await;
    f.presence(&bob, "away").await;
    let (status, body) = f
        .act(&sam, &id, "assign", Some(json!({"toUser": "bob"})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["conversation"]["owner"], "bob");
    assert_eq!(body["conversation"]["state"], "active");
    assert!(body["conversation"]["offer"].is_null());

    // Transfer back to the queue, then force close, which needs a reason.
    let (status, body) = f
        .act(&sam, &id, "transfer", Some(json!({"toQueue": "general"})))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = f.act(&sam, &id, "close", None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["invalid"][0]["field"], "reason");
    let (status, body) = f
        .act(&sam, &id, "close", Some(json!({"reason": "spam"})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["conversation"]["state"], "closed");
    assert_eq!(body["conversation"]["closeReason"], "forced");
    assert_eq!(
        body["conversation"]["surveyAsked"], false,
        "no survey after a forced close"
    );

    let actions: Vec<(String, String, Option<String>)> = audit(&f, &id).await;
    assert_eq!(
        actions,
        vec![
            ("sam".into(), "monitor".into(), None),
            (
                "sam".into(),
                "whisper".into(),
                Some("offer the refund".into())
            ),
            ("sam".into(), "join".into(), None),
            ("sam".into(), "assign".into(), Some("bob".into())),
            ("sam".into(), "transfer".into(), Some("general".into())),
            ("sam".into(), "force_close".into(), Some("spam".into())),
        ]
    );
}

#[tokio::test]
async fn supervisor_actions_are_refused_for_representatives_and_other_queues_supervisors() {
    let f = floor().await;
    let (customer, id) = ritas_customer(&f, "Mia").await;
    let heard = f.received(&customer).await.len();
    let (rita, bob, una) = (
        f.token("rita").await,
        f.token("bob").await,
        f.token("una").await,
    );
    // (who, action, body, status): nothing changes for any of them.
    let table: Vec<(&str, &String, &str, Value, u16)> = vec![
        ("bob", &bob, "monitor", json!({}), 403),
        ("bob", &bob, "whisper", json!({"text": "psst"}), 403),
        ("bob", &bob, "note", json!({"text": "mine now"}), 403),
        ("bob", &bob, "join", json!({"user": "bob"}), 403),
        ("bob", &bob, "assign", json!({"toUser": "bob"}), 403),
        ("bob", &bob, "transfer", json!({"toUser": "bob"}), 403),
        ("bob", &bob, "close", json!({"reason": "spam"}), 403),
        ("rita", &rita, "monitor", json!({}), 403),
        ("rita", &rita, "whisper", json!({"text": "psst"}), 403),
        ("rita", &rita, "assign", json!({"toUser": "bob"}), 403),
        ("una", &una, "monitor", json!({}), 403),
        ("una", &una, "whisper", json!({"text": "psst"}), 403),
        ("una", &una, "join", json!({"user": "una"}), 403),
        ("una", &una, "assign", json!({"toUser": "bob"}), 403),
        ("una", &una, "close", json!({"reason": "spam"}), 403),
        ("una", &una, "transfer", json!({"toQueue": "vip"}), 403),
    ];
    for (who, token, action, body, want) in table {
        let (status, answer) = f.act(token, &id, action, Some(body)).await;
        assert_eq!(status, want, "{who} {action}: {answer}");
    }
    let c = f.conversation(&customer).await;
    assert_eq!(c["owner"], "rita");
    assert_eq!(c["state"], "active");
    assert_eq!(c["consultants"], json!([]));
    assert!(
        audit(&f, &id).await.is_empty(),
        "nothing refused is audited"
    );
    f.flush().await;
    assert_eq!(f.received(&customer).await.len(), heard);
}

/// How many service-level alerts the log holds for the conversation.
async fn breaches(f: &Floor, id: &Value) -> usize {
    linedesk_relay::tail::events_after(&f.lb.relay(), 0, 100_000)
        .await
        .expect("the log")
        .iter()
        .filter(|e| e.event_type == "linedeskBreach" && e.body.contains(id.as_str().expect("id")))
        .count()
}

#[tokio::test]
async fn a_conversation_past_its_queues_target_raises_the_alert_exactly_once() {
    let f = floor().await;
    let (status, body) = f
        .put(
            "/api/queues/general",
            json!({"name": "General", "supervisors": ["sam"],
                   "serviceLevel": {"percent": 80, "withinMs": 60_000}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Nobody is available: Lea waits.
    let lea = f.customer("Lea", "en").await;
    f.says(&lea, "hello?").await;
    let id = f.conversation(&lea).await["id"].clone();

    f.advance(60_000).await;
    assert_eq!(breaches(&f, &id).await, 0, "at the target itself, no alert");
    f.advance(1_000).await;
    assert_eq!(breaches(&f, &id).await, 1, "past the target: one alert");
    let alert = linedesk_relay::tail::events_after(&f.lb.relay(), 0, 100_000)
        .await
        .expect("the log")
        .into_iter()
        .find(|e| e.event_type == "linedeskBreach")
        .expect("the alert");
    let alert: Value = serde_json::from_str(&alert.body).expect("json");
    assert_eq!(alert["queueName"], "General");
    assert_eq!(alert["targetMs"], 60_000);
    assert_eq!(
        alert["source"]["userId"],
        lea.as_str(),
        "sent to those who see the chat"
    );

    f.advance(60_000).await;
    f.says(&lea, "anyone?").await;
    f.advance(60_000).await;
    assert_eq!(breaches(&f, &id).await, 1, "once, however long it waits");
    // Taken at last: nothing more, and a new customer in a queue without a target never alerts.
    let rita = f.token("rita").await;
    f.presence(&rita, "available").await;
    let (status, body) = f.act(&rita, &id, "accept", None).await;
    assert_eq!(status, 200, "{body}");
    f.advance(120_000).await;
    assert_eq!(breaches(&f, &id).await, 1);
}
