//! Simulator → relay → console link, all real: the simulator signs and POSTs webhooks to a
//! relay served on 127.0.0.1:0 with a real SQLite data dir; a websocket client signs in as a
//! console would. Media sent by simulated customers is downloaded at ingest and served back.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use linedesk_line::Secret;
use linedesk_protocol::{ClientFrame, LoginResponse, ServerFrame, PROTOCOL_VERSION};
use linedesk_relay::store;
use linedesk_relay::Relay;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use linedesk_tests::{Loopback, CHANNEL, TOKEN};

struct World {
    _dir: tempfile::TempDir,
    relay_url: String,
    http: reqwest::Client,
    relay: Relay,
    lb: Loopback,
}

async fn world() -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let lb = Loopback::start(dir.path()).await;
    // These stories follow the whole log: an admin sees every chat (what a representative sees
    // is `trust.rs`'s story).
    lb.add_user("ada", linedesk_protocol::Role::Admin, "correct horse");
    // Point LINE's webhook at the relay through the API, as an admin would, and test it.
    let client = linedesk_line::api::LineClient::new(
        linedesk_line::api::Endpoints::single(&lb.sim_url),
        Secret::new(TOKEN.into()),
    );
    client
        .set_webhook_endpoint(&format!("{}/line/{CHANNEL}/webhook", lb.relay_url))
        .await
        .expect("set webhook");
    let test = client.test_webhook(None).await.expect("test webhook");
    assert!(
        test.success,
        "LINE's webhook test reaches the relay: {test:?}"
    );
    World {
        _dir: dir,
        relay_url: lb.relay_url.clone(),
        http: lb.http.clone(),
        relay: lb.relay(),
        lb,
    }
}

impl World {
    async fn sim(&self, path: &str, body: Value) -> Value {
        self.lb.sim(path, body).await
    }

    async fn login(&self) -> String {
        let resp = self
            .http
            .post(format!("{}/api/login", self.relay_url))
            .json(&json!({"user": "ada", "password": "correct horse"}))
            .send()
            .await
            .expect("login");
        resp.json::<LoginResponse>()
            .await
            .expect("login json")
            .token
    }

    async fn media(&self, token: Option<&str>, message_id: &str) -> reqwest::Response {
        let mut req = self.http.get(format!(
            "{}/api/media/{CHANNEL}/{message_id}",
            self.relay_url
        ));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("media request")
    }

    async fn media_ready(&self, token: &str, message_id: &str) -> reqwest::Response {
        for _ in 0..500 {
            let resp = self.media(Some(token), message_id).await;
            if resp.status() != 202 && resp.status() != 404 {
                return resp;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("media {message_id} never became ready");
    }
}

#[tokio::test]
async fn customer_messages_reach_a_console_in_order() {
    let w = world().await;
    let created = w
        .sim(
            "/sim/customers",
            json!({"displayName": "王小明", "language": "zh-TW"}),
        )
        .await;
    let user = created["customer"]["userId"]
        .as_str()
        .expect("user")
        .to_owned();
    assert_eq!(
        created["delivery"]["status"], 200,
        "relay acknowledged the follow"
    );
    for text in ["你好", "<img src=x onerror=alert(1)>", "third"] {
        let r = w
            .sim(
                &format!("/sim/customers/{user}/messages"),
                json!({"type": "text", "text": text}),
            )
            .await;
        assert_eq!(r["delivery"]["status"], 200);
    }
    let token = w.login().await;
    let ws_url = format!("{}/api/ws", w.relay_url.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url.as_str())
        .await
        .expect("ws");
    let hello = ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        token,
        since: Some(0),
    };
    ws.send(Message::text(serde_json::to_string(&hello).expect("json")))
        .await
        .expect("send");
    let mut events = Vec::new();
    while events.len() < 4 {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("frame")
            .expect("open")
            .expect("ok");
        let Message::Text(t) = msg else { continue };
        if let ServerFrame::Event(ev) = serde_json::from_str(t.as_str()).expect("frame") {
            let parsed: linedesk_line::webhook::Event =
                serde_json::from_str(ev.event.get()).expect("LINE event");
            // The relay's own profile event may fall anywhere among them; only LINE's count here.
            if !parsed.type_name().starts_with("linedesk") {
                events.push((ev.seq, parsed));
            }
        }
    }
    let seqs: Vec<u64> = events.iter().map(|(s, _)| *s).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in log order: {seqs:?}"
    );
    assert_eq!(events[0].1.type_name(), "follow");
    let raw = serde_json::to_value(&events[2].1).expect("json");
    assert_eq!(
        raw["message"]["text"], "<img src=x onerror=alert(1)>",
        "customer text passes through untouched"
    );
}

#[tokio::test]
async fn customer_media_is_downloaded_at_ingest_and_served_to_consoles() {
    let w = world().await;
    let user = w
        .sim(
            "/sim/customers",
            json!({"displayName": "Emily", "language": "en"}),
        )
        .await["customer"]["userId"]
        .as_str()
        .expect("user")
        .to_owned();
    let say = |msg: Value| {
        let path = format!("/sim/customers/{user}/messages");
        let w = &w;
        async move {
            w.sim(&path, msg).await["messageId"]
                .as_str()
                .expect("id")
                .to_owned()
        }
    };
    let image = say(json!({"type": "image"})).await;
    let file =
        say(json!({"type": "file", "fileName": "請求書 11.pdf", "contentBase64": "JVBERi0xLjQK"}))
            .await;
    let video = say(json!({"type": "video"})).await;
    let token = w.login().await;

    let resp = w.media_ready(&token, &image).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert!(
        resp.bytes().await.expect("bytes").starts_with(b"\x89PNG"),
        "the customer's image bytes"
    );

    let resp = w.media_ready(&token, &file).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/octet-stream",
        "unknown types are never sniffed"
    );
    assert!(resp.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .contains("filename*=UTF-8''%E8%AB%8B"));
    assert_eq!(&resp.bytes().await.expect("bytes")[..], b"%PDF-1.4\n");

    let resp = w.media_ready(&token, &video).await;
    assert_eq!(
        resp.status(),
        200,
        "video fetched after LINE's transcoding wait"
    );
    assert_eq!(resp.headers()["content-type"], "video/mp4");

    assert_eq!(
        w.media(None, &image).await.status(),
        401,
        "media needs a session"
    );
    assert_eq!(w.media(Some("forged"), &image).await.status(), 401);
}

#[tokio::test]
async fn unsent_media_is_recorded_as_gone() {
    let w = world().await;
    // The relay's first content fetch is held 1.5 s, so the unsend lands before LINE answers it.
    w.sim(
        "/sim/faults",
        json!({"path": "/v2/bot/message/", "delayMs": 1500, "count": 1}),
    )
    .await;
    let user = w
        .sim(
            "/sim/customers",
            json!({"displayName": "佐藤", "language": "ja"}),
        )
        .await["customer"]["userId"]
        .as_str()
        .expect("user")
        .to_owned();
    let id = w
        .sim(
            &format!("/sim/customers/{user}/messages"),
            json!({"type": "image"}),
        )
        .await["messageId"]
        .as_str()
        .expect("id")
        .to_owned();
    w.sim(
        &format!("/sim/customers/{user}/unsend"),
        json!({"messageId": id}),
    )
    .await;
    let token = w.login().await;
    let resp = w.media_ready(&token, &id).await;
    assert_eq!(
        resp.status(),
        410,
        "LINE's 410 is recorded; the console is told it was unsent"
    );
    let row = w
        .relay
        .read(move |c| store::media::get(c, CHANNEL, &id))
        .await
        .expect("read")
        .expect("media row");
    assert_eq!(row.status, "gone");
}

#[tokio::test]
async fn profiles_are_published_in_the_log_and_channel_tokens_never_leave_the_relay() {
    let w = world().await;
    let user = w
        .sim(
            "/sim/customers",
            json!({"displayName": "สมชาย ใจดี", "language": "th"}),
        )
        .await["customer"]["userId"]
        .as_str()
        .expect("user")
        .to_owned();
    let token = w.login().await;
    // The relay fetched the profile and logged it for consoles.
    let mut profile = None;
    for _ in 0..300 {
        let events = w
            .relay
            .read(|c| store::events::read_after(c, 0, 100))
            .await
            .expect("read");
        if let Some(e) = events.iter().find(|e| e.event_type == "linedeskProfile") {
            profile = Some(serde_json::from_str::<Value>(&e.body).expect("json"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let profile = profile.expect("profile event logged");
    assert_eq!(profile["source"]["userId"], user.as_str());
    assert_eq!(profile["profile"]["displayName"], "สมชาย ใจดี");
    assert_eq!(profile["profile"]["language"], "th");

    // Channel tokens never leave the relay, and consoles no longer write the transcript:
    // both calls are gone.
    for path in [
        format!("/api/channels/{CHANNEL}/token"),
        "/api/transcript".to_owned(),
    ] {
        let resp = w
            .http
            .post(format!("{}{path}", w.relay_url))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .await
            .expect("request");
        assert!(
            matches!(resp.status().as_u16(), 404 | 405),
            "{path} answered {}",
            resp.status()
        );
        let body = resp.text().await.unwrap_or_default();
        assert!(!body.contains("access_token"), "no token in {body}");
    }
}

/// LINE's content host down for five minutes (by the relay's clock), the relay restarted in the
/// middle, then 100 MB served at 1 MB/s: the customer's video ends ready, whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_media_outlasts_a_line_outage_a_restart_and_a_slow_link() {
    use linedesk_relay::clock::{Clock as _, ManualClock};
    const SIZE: usize = 100_000_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(store::now_ms());
    let lb = Loopback::start_with_clock(dir.path(), std::sync::Arc::new(clock.clone())).await;
    lb.add_user("ada", linedesk_protocol::Role::Admin, "correct horse");
    let user = lb.customer("Kenji", "ja").await;
    // Every content call answers 503 (each relay attempt makes a few, all refused).
    lb.sim(
        "/sim/faults",
        json!({"path": "/v2/bot/message/", "status": 503, "count": 100_000}),
    )
    .await;
    let id = lb
        .sim(
            &format!("/sim/customers/{user}/messages"),
            json!({"type": "video", "contentSize": SIZE}),
        )
        .await["messageId"]
        .as_str()
        .expect("message id")
        .to_owned();
    let row = |lb: &Loopback| {
        let id = id.clone();
        let relay = lb.relay();
        async move {
            relay
                .read(move |c| store::media::get(c, CHANNEL, &id))
                .await
                .expect("read")
        }
    };
    // Waits until the pipeline tried and set the next attempt in the future: it has settled.
    let settled = |lb: &Loopback, clock: &ManualClock| {
        let (row, now) = (row(lb), clock.now_ms());
        async move {
            let row = row.await;
            row.filter(|r| r.status != "pending" || r.next_attempt_at > now)
        }
    };
    let mut last = None;
    for step in 0..10 {
        if step == 5 {
            lb.stop_relay().await;
            lb.start_relay().await;
        }
        let mut found = None;
        for _ in 0..1000 {
            found = settled(&lb, &clock).await;
            if found.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let found = found.expect("the pipeline tries again once due");
        assert_eq!(
            found.status, "pending",
            "gave up during an outage: {found:?}"
        );
        last = Some(found);
        clock.advance(30_000);
    }
    let last = last.expect("tried");
    assert!(
        last.attempts >= 5,
        "tried only {} times in 5 minutes",
        last.attempts
    );
    // LINE is back, on a slow link: the download lasts 10 s longer than the whole-call
    // deadline of LINE's other calls, which a content download must not be held to.
    let lasts = linedesk_line::api::CALL_TIMEOUT + Duration::from_secs(10);
    let bytes_per_second = (SIZE as f64 / lasts.as_secs_f64()) as u64;
    lb.sim_request(reqwest::Method::DELETE, "/sim/faults", Value::Null)
        .await;
    lb.sim(
        "/sim/faults",
        json!({"path": format!("/v2/bot/message/{id}/content"), "bytesPerSecond": bytes_per_second}),
    )
    .await;
    clock.advance(15 * 60_000);
    let mut ready = None;
    for _ in 0..1800 {
        if let Some(r) = row(&lb).await.filter(|r| r.status != "pending") {
            ready = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = ready.expect("the download finished within 180 s");
    assert_eq!(ready.status, "ready", "{ready:?}");
    assert_eq!(ready.size, Some(SIZE as i64));
    let path = lb
        .relay()
        .media()
        .path_of(ready.sha256.as_deref().expect("hash"));
    let stored = std::fs::read(path).expect("stored file");
    assert!(
        stored == linedesk_sim::customers::made_up_video(SIZE),
        "the stored bytes are LINE's"
    );
}
