//! What the customer sees of the representative, as LINE's own app shows it: the loading
//! animation while she types, and their messages marked read when she opens the conversation.
//! Both go through the relay, only from who may write, and never into a group chat; the
//! simulator records what LINE was asked.

use std::time::Duration;

use linedesk_protocol::Role;
use linedesk_tests::{Loopback, CHANNEL, PASSWORD, SECRET};
use serde_json::{json, Value};

async fn signal(w: &Loopback, token: &str, id: &str, what: &str) -> (u16, Value) {
    w.api(
        reqwest::Method::POST,
        &format!("/api/conversations/{id}/{what}"),
        token,
        Some(json!({})),
    )
    .await
}

async fn signals(w: &Loopback) -> Vec<Value> {
    w.sim_request(reqwest::Method::GET, "/sim/signals", Value::Null)
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn typing_and_read_reach_line_from_the_owner_only_and_never_in_a_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Loopback::start(&dir.path().join("relay")).await;
    w.add_user("nora", Role::Rep, PASSWORD);
    let rita = w.login("rita", PASSWORD).await;
    let nora = w.login("nora", PASSWORD).await;
    let (status, _) = w
        .api(
            reqwest::Method::POST,
            "/api/presence",
            &rita,
            Some(json!({"presence": "available"})),
        )
        .await;
    assert_eq!(status, 200);

    w.sim("/sim/recording", json!({"on": true})).await;
    let ann = w.customer("Ann", "en").await;
    let first = w
        .sim(
            &format!("/sim/customers/{ann}/messages"),
            json!({"type": "text", "text": "Is my order on its way?"}),
        )
        .await["messageId"]
        .as_str()
        .expect("id")
        .to_owned();
    let id = w.offered(&rita, &ann).await;
    // Offered, not yet taken: nobody writes in it, so nobody signals.
    let (status, body) = signal(&w, &rita, &id, "typing").await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = w
        .api(
            reqwest::Method::POST,
            &format!("/api/conversations/{id}/accept"),
            &rita,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200);

    // Another representative: refused, with the owner named; LINE hears nothing.
    for what in ["typing", "read"] {
        let (status, body) = signal(&w, &nora, &id, what).await;
        assert_eq!(status, 403, "{what}: {body}");
        assert_eq!(
            body["invalid"][0]["reason"]["kind"], "ownedByOther",
            "{body}"
        );
        assert_eq!(body["invalid"][0]["reason"]["owner"], "rita", "{body}");
    }
    assert!(signals(&w).await.is_empty());

    // Rita types: the loading animation, in Ann's chat, for 20 s; typing on within the next
    // ten seconds asks LINE nothing more.
    let (status, body) = signal(&w, &rita, &id, "typing").await;
    assert_eq!((status, &body["sent"]), (200, &json!(true)), "{body}");
    let (status, body) = signal(&w, &rita, &id, "typing").await;
    assert_eq!((status, &body["sent"]), (200, &json!(false)), "{body}");
    // Rita has it open: Ann's messages are marked read with the newest one's token, once.
    let (_, body) = signal(&w, &rita, &id, "read").await;
    let recorded = w.sim("/sim/recorded", Value::Null).await;
    assert_eq!(body["sent"], true, "{body} {recorded}");
    let (_, body) = signal(&w, &rita, &id, "read").await;
    assert_eq!(body["sent"], false, "nothing new to mark: {body}");
    let second = w
        .sim(
            &format!("/sim/customers/{ann}/messages"),
            json!({"type": "text", "text": "It was due yesterday"}),
        )
        .await["messageId"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut marked = json!(null);
    for _ in 0..100 {
        // The message is logged a moment after LINE delivered it.
        let (_, body) = signal(&w, &rita, &id, "read").await;
        if body["sent"] == true {
            marked = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(marked["sent"], true, "the new message is marked read");
    assert_eq!(
        signals(&w).await,
        [
            json!({"kind": "loading", "chatId": ann, "loadingSeconds": 20}),
            json!({"kind": "markAsRead", "markAsReadToken": format!("mar-{first}")}),
            json!({"kind": "markAsRead", "markAsReadToken": format!("mar-{second}")}),
        ]
    );

    // A group chat: routed like any chat, but LINE has no loading animation or read mark
    // there, so the relay never asks.
    let group = "Cc0ffee0000000000000000000000000a";
    let body = json!({
        "destination": "U8e742f61d673b39c7fff3cecb7536ef0",
        "events": [{
            "type": "message", "mode": "active", "timestamp": linedesk_relay::store::now_ms(),
            "webhookEventId": "01KGROUPSIGNALS000000000001",
            "deliveryContext": {"isRedelivery": false},
            "replyToken": "group-reply-token-1",
            "source": {"type": "group", "groupId": group, "userId": ann},
            "message": {"id": "700000000000000001", "type": "text", "text": "Hello from the team chat",
                        "quoteToken": "q-group-1", "markAsReadToken": "mar-700000000000000001"}
        }]
    })
    .to_string();
    let resp = reqwest::Client::new()
        .post(format!("{}/line/{CHANNEL}/webhook", w.relay_url))
        .header("content-type", "application/json")
        .header(
            "x-line-signature",
            linedesk_line::signature::sign(SECRET, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .expect("webhook");
    assert_eq!(resp.status(), 200);
    let gid = w.offered(&rita, group).await;
    let (status, _) = w
        .api(
            reqwest::Method::POST,
            &format!("/api/conversations/{gid}/accept"),
            &rita,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200);
    for what in ["typing", "read"] {
        let (status, body) = signal(&w, &rita, &gid, what).await;
        assert_eq!(
            (status, &body["sent"]),
            (200, &json!(false)),
            "{what}: {body}"
        );
    }
    assert_eq!(signals(&w).await.len(), 3, "nothing for the group");

    // Wrapped up: nobody is writing any more.
    let (status, _) = w
        .api(
            reqwest::Method::POST,
            &format!("/api/conversations/{id}/end"),
            &rita,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = signal(&w, &rita, &id, "typing").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["invalid"][0]["reason"]["kind"], "notInState", "{body}");
    let (status, _) = signal(&w, &rita, "no-such-conversation", "read").await;
    assert_eq!(status, 404);
}
