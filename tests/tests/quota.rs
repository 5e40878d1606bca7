//! The channel's messages this month against its monthly limit, as LINE reports them, for the
//! reply-window bar of any signed-in user.

use linedesk_protocol::Role;
use linedesk_tests::{Loopback, CHANNEL, PASSWORD};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn representatives_read_the_channels_quota_as_line_last_reported_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Loopback::start(&dir.path().join("relay")).await;
    w.add_user("ada", Role::Admin, PASSWORD);
    let rita = w.login("rita", PASSWORD).await;
    let ada = w.login("ada", PASSWORD).await;
    let quota = format!("/api/channels/{CHANNEL}/quota");
    w.sim("/sim/settings", json!({"quota_limit": 5000})).await;
    let used = w.sim("/sim/sent", serde_json::Value::Null).await["pushCount"]
        .as_i64()
        .expect("LINE's count");

    // The relay asks LINE (every 15 minutes, or when an admin checks the channel).
    let (status, body) = w
        .api(
            Method::POST,
            &format!("/api/channels/{CHANNEL}/check"),
            &ada,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = w.api(Method::GET, &quota, &rita, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"used": used, "limit": 5000}));

    // An unknown channel, another GET of a channel's actions, no session.
    let (status, _) = w
        .api(Method::GET, "/api/channels/1650009999/quota", &rita, None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .api(
            Method::GET,
            &format!("/api/channels/{CHANNEL}/check"),
            &rita,
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = w.api(Method::GET, &quota, "nobody", None).await;
    assert_eq!(status, 401);
}
