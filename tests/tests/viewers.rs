//! Collision: a conversation shows who else has it open and who types in it, to whoever may
//! see it; someone who stopped saying so is gone within half a minute. Time is the relay's
//! manual clock.

use std::sync::Arc;

use linedesk_protocol::Role;
use linedesk_relay::clock::ManualClock;
use linedesk_tests::{Loopback, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

async fn viewing(w: &Loopback, token: &str, id: &str, typing: bool) -> (u16, Value) {
    w.api(
        Method::POST,
        &format!("/api/conversations/{id}/viewing"),
        token,
        Some(json!({"typing": typing})),
    )
    .await
}

#[tokio::test]
async fn who_else_is_viewing_or_typing_shows_to_who_may_see_and_fades() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(linedesk_relay::store::now_ms());
    let w = Loopback::start_with_clock(&dir.path().join("relay"), Arc::new(clock.clone())).await;
    w.add_user("nora", Role::Rep, PASSWORD);
    w.add_user("ada", Role::Admin, PASSWORD);
    let rita = w.login("rita", PASSWORD).await;
    let nora = w.login("nora", PASSWORD).await;
    let ada = w.login("ada", PASSWORD).await;
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
        json!({"type": "text", "text": "Hello?"}),
    )
    .await;
    let id = w.offered(&rita, &ann).await;

    // Rita alone: nobody else. The admin opens it: she sees Rita, Rita sees her.
    assert_eq!(viewing(&w, &rita, &id, false).await, (200, json!([])));
    assert_eq!(
        viewing(&w, &ada, &id, false).await,
        (200, json!([{"user": "rita", "typing": false}]))
    );
    assert_eq!(
        viewing(&w, &rita, &id, true).await,
        (200, json!([{"user": "ada", "typing": false}]))
    );
    assert_eq!(
        viewing(&w, &ada, &id, false).await,
        (200, json!([{"user": "rita", "typing": true}])),
        "Rita types"
    );
    // Another representative may not see it: as if it did not exist, and she is never listed.
    let (status, _) = viewing(&w, &nora, &id, true).await;
    assert_eq!(status, 404);
    assert_eq!(
        viewing(&w, &ada, &id, false).await.1,
        json!([{"user": "rita", "typing": true}])
    );

    // Typing fades after a few seconds, having it open after half a minute of silence.
    clock.advance(10_000);
    assert_eq!(
        viewing(&w, &ada, &id, false).await.1,
        json!([{"user": "rita", "typing": false}])
    );
    clock.advance(31_000);
    assert_eq!(viewing(&w, &ada, &id, false).await.1, json!([]));
}
