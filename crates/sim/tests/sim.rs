//! The simulator behaves as LINE does, answers as LINE's OpenAPI files say, and the
//! `linedesk-line` client handles it (retries, retry keys, transcoding, unsend).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use linedesk_line::api::{ApiError, Endpoints, LineClient, RetryPolicy};
use linedesk_line::send::Message;
use linedesk_line::webhook::{CallbackRequest, EventBody};
use linedesk_line::Secret;
use linedesk_sim::{ChannelConfig, Sim};
use serde_json::{json, Value};

const SECRET: &str = "sim-secret-0123456789abcdef01234";
const TOKEN: &str = "sim-long-lived-token";
const CHANNEL: &str = "1650000000";

/// A webhook receiver that checks signatures and keeps every body.
#[derive(Clone, Default)]
struct Receiver {
    bodies: Arc<Mutex<Vec<CallbackRequest>>>,
    forged: Arc<Mutex<usize>>,
}

async fn start_receiver() -> (SocketAddr, Receiver) {
    let rx = Receiver::default();
    let state = rx.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                if linedesk_line::signature::verify_headers(SECRET, &body, &headers).is_err() {
                    *state.forged.lock().expect("lock") += 1;
                    return StatusCode::UNAUTHORIZED;
                }
                let req = CallbackRequest::parse(&body).expect("simulator sends valid webhooks");
                state.bodies.lock().expect("lock").push(req);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, rx)
}

struct Fixture {
    base: String,
    http: reqwest::Client,
    client: LineClient,
    receiver: Receiver,
}

async fn fixture() -> Fixture {
    let (hook, receiver) = start_receiver().await;
    let sim = Sim::new(
        ChannelConfig {
            channel_id: CHANNEL.into(),
            channel_secret: SECRET.into(),
            access_token: TOKEN.into(),
            bot_user_id: "U8e742f61d673b39c7fff3cecb7536ef0".into(),
            bot_name: "test bot".into(),
        },
        Some(format!("http://{hook}/hook")),
    );
    let (addr, _) = sim
        .serve("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("serve");
    let base = format!("http://{addr}");
    let client = LineClient::new(Endpoints::single(&base), Secret::new(TOKEN.into())).with_retry(
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            transcoding_wait: Duration::from_secs(5),
        },
    );
    Fixture {
        base,
        http: reqwest::Client::new(),
        client,
        receiver,
    }
}

impl Fixture {
    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .request(method, format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("control call");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }

    async fn customer(&self, name: &str, lang: &str) -> String {
        let v = self
            .control(
                reqwest::Method::POST,
                "/sim/customers",
                json!({"displayName": name, "language": lang}),
            )
            .await;
        v["customer"]["userId"]
            .as_str()
            .expect("user id")
            .to_owned()
    }

    async fn say(&self, user: &str, msg: Value) -> Value {
        self.control(
            reqwest::Method::POST,
            &format!("/sim/customers/{user}/messages"),
            msg,
        )
        .await
    }

    async fn received(&self, user: &str) -> Vec<Value> {
        let v = self
            .control(
                reqwest::Method::GET,
                &format!("/sim/customers/{user}/received"),
                json!(null),
            )
            .await;
        v.as_array().expect("list").clone()
    }

    async fn fault(&self, f: Value) {
        self.http
            .post(format!("{}/sim/faults", self.base))
            .json(&f)
            .send()
            .await
            .expect("fault");
    }
}

#[tokio::test]
async fn customers_send_signed_webhooks_of_every_type() {
    let f = fixture().await;
    let user = f.customer("王小明", "zh-TW").await;
    for msg in [
        json!({"type": "text", "text": "你好 <b>hi</b>"}),
        json!({"type": "sticker", "keywords": ["hello"]}),
        json!({"type": "image"}),
        json!({"type": "video"}),
        json!({"type": "audio"}),
        json!({"type": "file", "fileName": "報告.pdf"}),
        json!({"type": "location", "title": "Taipei 101", "address": "Xinyi", "latitude": 25.03, "longitude": 121.56}),
    ] {
        let r = f.say(&user, msg).await;
        assert_eq!(r["delivery"]["status"], 200, "delivered and acknowledged");
    }
    let bodies = f.receiver.bodies.lock().expect("lock").clone();
    let types: Vec<String> = bodies
        .iter()
        .flat_map(|b| b.events.iter())
        .map(|e| match &e.body {
            EventBody::Message { message } => serde_json::to_value(message).expect("json")["type"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
            other => other.type_name().to_owned(),
        })
        .collect();
    assert_eq!(
        types,
        ["follow", "text", "sticker", "image", "video", "audio", "file", "location"]
    );
    assert!(
        bodies.iter().all(|b| b.events.iter().all(|e| e
            .webhook_event_id
            .as_deref()
            .is_some_and(|id| id.len() == 26))),
        "ULID event ids"
    );
    assert_eq!(
        *f.receiver.forged.lock().expect("lock"),
        0,
        "every webhook correctly signed"
    );
}

#[tokio::test]
async fn redelivery_duplicates_and_out_of_order_bursts() {
    let f = fixture().await;
    let user = f.customer("佐藤", "ja").await;
    let sent = f.say(&user, json!({"type": "text", "text": "one"})).await;
    let id = sent["webhookEventId"].as_str().expect("id").to_owned();
    f.control(
        reqwest::Method::POST,
        "/sim/redeliver",
        json!({"webhookEventId": id}),
    )
    .await;
    f.control(
        reqwest::Method::POST,
        "/sim/redeliver",
        json!({"webhookEventId": id, "duplicate": true}),
    )
    .await;
    f.control(
        reqwest::Method::POST,
        &format!("/sim/customers/{user}/burst"),
        json!({"count": 5, "order": "reversed"}),
    )
    .await;
    let bodies = f.receiver.bodies.lock().expect("lock").clone();
    let events: Vec<_> = bodies.iter().flat_map(|b| b.events.clone()).collect();
    let copies: Vec<_> = events
        .iter()
        .filter(|e| e.webhook_event_id.as_deref() == Some(&id))
        .collect();
    assert_eq!(
        copies.len(),
        3,
        "original, redelivery and duplicate share the event id"
    );
    assert!(
        copies[1].is_redelivery() && !copies[2].is_redelivery(),
        "only the redelivery is flagged"
    );
    let texts: Vec<String> = events
        .iter()
        .rev()
        .take(5)
        .filter_map(|e| match &e.body {
            EventBody::Message { message } => serde_json::to_value(message)
                .ok()
                .and_then(|v| v["text"].as_str().map(str::to_owned)),
            _ => None,
        })
        .collect();
    assert_eq!(
        texts,
        ["burst 0", "burst 1", "burst 2", "burst 3", "burst 4"],
        "delivered in reverse of send order"
    );
}

#[tokio::test]
async fn reply_tokens_are_single_use_and_expire_and_replies_are_free() {
    let f = fixture().await;
    let user = f.customer("Emily", "en").await;
    let token = f.say(&user, json!({"type": "text", "text": "hi"})).await["replyToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let sent = f
        .client
        .reply(&token, vec![Message::text("hello!")])
        .await
        .expect("first reply works");
    assert_eq!(sent.sent_messages.len(), 1);
    let again = f
        .client
        .reply(&token, vec![Message::text("again")])
        .await
        .expect_err("token is single use");
    assert_eq!(again.status(), Some(400));
    f.control(
        reqwest::Method::POST,
        "/sim/settings",
        json!({"reply_token_ttl_ms": 50}),
    )
    .await;
    let stale = f.say(&user, json!({"type": "text", "text": "later"})).await["replyToken"]
        .as_str()
        .expect("token")
        .to_owned();
    tokio::time::sleep(Duration::from_millis(120)).await;
    let err = f
        .client
        .reply(&stale, vec![Message::text("too late")])
        .await
        .expect_err("expired");
    assert!(
        matches!(&err, ApiError::Status { status: 400, body, .. } if body.message == "Invalid reply token")
    );
    let received = f.received(&user).await;
    assert_eq!(received.len(), 1, "only the good reply arrived");
    assert_eq!(received[0]["via"], "reply");
    assert_eq!(
        f.client
            .quota_consumption()
            .await
            .expect("consumption")
            .total_usage,
        0,
        "replies are free"
    );
}

#[tokio::test]
async fn push_retry_key_makes_retries_safe() {
    let f = fixture().await;
    let user = f.customer("สมชาย", "th").await;
    let key = uuid::Uuid::new_v4().to_string();
    // The first attempt takes effect but its answer is lost (500 after processing).
    f.fault(json!({"path": "/v2/bot/message/push", "status": 500, "after": true}))
        .await;
    let out = f
        .client
        .push(&user, vec![Message::text("ขอบคุณครับ")], &key)
        .await
        .expect("retried to success");
    assert!(
        out.already_accepted,
        "the retry learned the first attempt was accepted (409)"
    );
    assert_eq!(
        out.sent_messages.len(),
        1,
        "409 repeats the original sentMessages"
    );
    let received = f.received(&user).await;
    assert_eq!(received.len(), 1, "delivered exactly once");
    assert_eq!(received[0]["via"], "push");
    assert_eq!(received[0]["retryKey"], key.as_str());
    assert_eq!(
        received[0]["id"],
        out.sent_messages[0].id.as_str(),
        "same message id"
    );
    // A 5xx before processing is retried with the same key and succeeds once.
    f.fault(json!({"path": "/v2/bot/message/push", "status": 503}))
        .await;
    let key2 = uuid::Uuid::new_v4().to_string();
    let out2 = f
        .client
        .push(&user, vec![Message::text("second")], &key2)
        .await
        .expect("retried");
    assert!(!out2.already_accepted);
    assert_eq!(f.received(&user).await.len(), 2);
    assert_eq!(
        f.client
            .quota_consumption()
            .await
            .expect("consumption")
            .total_usage,
        2,
        "pushes are counted"
    );
}

#[tokio::test]
async fn monthly_limit_is_terminal_and_rate_limits_are_retried() {
    let f = fixture().await;
    let user = f.customer("Kenji", "ja").await;
    f.fault(json!({"path": "/v2/bot/message/push", "status": 429}))
        .await;
    f.client
        .push(
            &user,
            vec![Message::text("a")],
            &uuid::Uuid::new_v4().to_string(),
        )
        .await
        .expect("rate limit retried");
    f.control(
        reqwest::Method::POST,
        "/sim/settings",
        json!({"quota_limit": 1}),
    )
    .await;
    let err = f
        .client
        .push(
            &user,
            vec![Message::text("b")],
            &uuid::Uuid::new_v4().to_string(),
        )
        .await
        .expect_err("over quota");
    assert!(err.is_monthly_limit(), "monthly limit recognised: {err}");
    assert_eq!(f.client.quota().await.expect("quota").value, Some(1));
}

#[tokio::test]
async fn bots_cannot_send_files_and_bad_messages_are_refused() {
    let f = fixture().await;
    let user = f.customer("陳", "zh-TW").await;
    let file = Message::from(linedesk_line::send::MessageKind::Raw(
        json!({"type": "file", "fileName": "x.pdf"}),
    ));
    let err = f
        .client
        .push(&user, vec![file], &uuid::Uuid::new_v4().to_string())
        .await
        .expect_err("no files");
    assert_eq!(err.status(), Some(400));
    let long = "字".repeat(5001);
    let err = f
        .client
        .push(
            &user,
            vec![Message::text(long)],
            &uuid::Uuid::new_v4().to_string(),
        )
        .await
        .expect_err("too long");
    assert!(
        matches!(&err, ApiError::Status { body, .. } if body.details.iter().any(|d| d.property.as_deref() == Some("messages[0].text")))
    );
    let err = f
        .client
        .push(
            "Unobody",
            vec![Message::text("x")],
            &uuid::Uuid::new_v4().to_string(),
        )
        .await
        .expect_err("unknown user");
    assert_eq!(err.status(), Some(400));
    assert!(
        f.received(&user).await.is_empty(),
        "nothing sent on refusals"
    );
}

#[tokio::test]
async fn content_waits_for_transcoding_and_unsent_content_is_gone() {
    let f = fixture().await;
    let user = f.customer("Emily", "en").await;
    let png = f.say(&user, json!({"type": "image"})).await["messageId"]
        .as_str()
        .expect("id")
        .to_owned();
    let img = f.client.content(&png).await.expect("image");
    assert_eq!(img.content_type, "image/png");
    assert!(img.bytes.starts_with(b"\x89PNG"), "real PNG bytes");
    let video = f.say(&user, json!({"type": "video"})).await["messageId"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        f.client
            .transcoding_status(&video)
            .await
            .expect("status")
            .status,
        "processing"
    );
    let v = f.client.content(&video).await.expect("waited out 202");
    assert!(!v.bytes.is_empty(), "never an empty 202 body");
    let file = f
        .say(
            &user,
            json!({"type": "file", "fileName": "a.txt", "contentBase64": "aGVsbG8="}),
        )
        .await["messageId"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        &f.client.content(&file).await.expect("file").bytes[..],
        b"hello"
    );
    f.control(
        reqwest::Method::POST,
        &format!("/sim/customers/{user}/unsend"),
        json!({"messageId": file}),
    )
    .await;
    assert!(
        matches!(
            f.client.content(&file).await,
            Err(ApiError::ContentGone { .. })
        ),
        "410 after unsend"
    );
    assert_eq!(
        f.client
            .content("nope")
            .await
            .expect_err("unknown")
            .status(),
        Some(404)
    );
}

#[tokio::test]
async fn tokens_profile_bot_info_and_webhook_settings() {
    let f = fixture().await;
    let user = f.customer("王小明", "zh-TW").await;
    let p = f.client.profile(&user).await.expect("profile");
    assert_eq!(
        (p.display_name.as_str(), p.language.as_deref()),
        ("王小明", Some("zh-TW"))
    );
    assert_eq!(
        f.client
            .profile("U0000")
            .await
            .expect_err("unknown")
            .status(),
        Some(404)
    );
    assert_eq!(
        f.client.bot_info().await.expect("info").user_id,
        "U8e742f61d673b39c7fff3cecb7536ef0"
    );
    assert_eq!(
        f.client.verify_token().await.expect("valid").client_id,
        CHANNEL
    );
    let endpoints = Endpoints::single(&f.base);
    let stateless = LineClient::issue_stateless_token(
        &f.http,
        &endpoints,
        CHANNEL,
        &Secret::new(SECRET.into()),
    )
    .await
    .expect("stateless token");
    let short = LineClient::new(endpoints.clone(), stateless);
    short
        .show_loading(&user, 5)
        .await
        .expect("stateless token works as bearer");
    assert!(LineClient::issue_stateless_token(
        &f.http,
        &endpoints,
        CHANNEL,
        &Secret::new("wrong".into())
    )
    .await
    .is_err());
    let bad = LineClient::new(endpoints.clone(), Secret::new("forged".into()));
    assert_eq!(
        bad.bot_info().await.expect_err("bad token").status(),
        Some(401)
    );
    let hook = f.client.webhook_endpoint().await.expect("configured");
    assert!(hook.active);
    f.client
        .set_webhook_endpoint(&hook.endpoint)
        .await
        .expect("set");
    let test = f.client.test_webhook(None).await.expect("test");
    assert!(test.success && test.status_code == 200, "{test:?}");
    let dead = f
        .client
        .test_webhook(Some("http://127.0.0.1:9/hook"))
        .await
        .expect("test runs");
    assert_eq!(dead.reason, "COULD_NOT_CONNECT");
    assert!(
        f.client
            .set_webhook_endpoint("http://example.com/x")
            .await
            .is_err(),
        "HTTPS required"
    );
    f.client.mark_as_read("mar-1").await.expect("mark as read");
    assert!(
        f.client.show_loading(&user, 7).await.is_err(),
        "seconds must be a multiple of 5"
    );
}

// ---- OpenAPI validation -------------------------------------------------------------------

fn shared_dir() -> PathBuf {
    std::env::var_os("LINEDESK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

struct Spec {
    doc: Value,
}

impl Spec {
    fn load(file: &str) -> Self {
        let path = shared_dir().join("line-api/openapi").join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc: Value = serde_yaml::from_str(&text).expect("valid yaml");
        Self { doc }
    }

    /// The response schema for a request, by matching path templates.
    fn schema_for(&self, method: &str, path: &str, status: u16) -> Option<Value> {
        for (template, ops) in self.doc["paths"].as_object()? {
            if !template_matches(template, path) {
                continue;
            }
            let op = &ops[method.to_ascii_lowercase()];
            let responses = op.get("responses")?;
            let resp = responses
                .get(status.to_string())
                .or_else(|| responses.get("default"));
            let schema = resp
                .and_then(|r| r.get("content"))
                .and_then(|c| c.get("application/json"))
                .and_then(|c| c.get("schema"))
                .cloned();
            return Some(schema.unwrap_or_else(|| {
                // Errors without a declared body use the spec's ErrorResponse.
                if status >= 400 {
                    json!({"$ref": "#/components/schemas/ErrorResponse"})
                } else {
                    json!({"type": "object"})
                }
            }));
        }
        None
    }

    fn validator(&self, schema: &Value) -> jsonschema::Validator {
        let root = json!({"allOf": [schema], "components": self.doc["components"]});
        jsonschema::draft7::new(&root).expect("schema compiles")
    }
}

fn template_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(a, b)| (a.starts_with('{') && a.ends_with('}')) || a == b)
}

#[tokio::test]
async fn every_simulator_answer_validates_against_lines_openapi() {
    if !shared_dir().join("line-api/openapi").is_dir() {
        println!(
            "skipped: the simulator against LINE's OpenAPI files: not at {} (put shared/line-api \
             beside the repository or set LINEDESK_SHARED)",
            shared_dir().join("line-api/openapi").display()
        );
        return;
    }
    let f = fixture().await;
    f.control(reqwest::Method::POST, "/sim/recording", json!({"on": true}))
        .await;
    // Exercise every endpoint, successes and errors.
    let user = f.customer("王小明", "zh-TW").await;
    let token = f.say(&user, json!({"type": "text", "text": "hi"})).await["replyToken"]
        .as_str()
        .expect("t")
        .to_owned();
    f.client
        .reply(&token, vec![Message::text("a"), Message::text("b")])
        .await
        .expect("reply");
    let _ = f.client.reply(&token, vec![Message::text("again")]).await;
    let key = uuid::Uuid::new_v4().to_string();
    f.client
        .push(&user, vec![Message::text("p")], &key)
        .await
        .expect("push");
    f.client
        .push(&user, vec![Message::text("p")], &key)
        .await
        .expect("409 path");
    let _ = f
        .client
        .push(
            &user,
            vec![Message::text("")],
            &uuid::Uuid::new_v4().to_string(),
        )
        .await;
    let video = f.say(&user, json!({"type": "video"})).await["messageId"]
        .as_str()
        .expect("id")
        .to_owned();
    f.client
        .transcoding_status(&video)
        .await
        .expect("transcoding");
    f.client.content(&video).await.expect("content");
    let _ = f.client.profile(&user).await;
    let _ = f.client.profile("U0").await;
    f.client.bot_info().await.expect("info");
    f.client.show_loading(&user, 5).await.expect("loading");
    let _ = f.client.show_loading(&user, 3).await;
    f.client.mark_as_read("mar-1").await.expect("read");
    let _ = f.client.mark_as_read("bogus").await;
    f.client.webhook_endpoint().await.expect("get");
    f.client
        .set_webhook_endpoint(&f.client.webhook_endpoint().await.expect("get").endpoint)
        .await
        .expect("set");
    f.client.test_webhook(None).await.expect("test");
    f.client.quota().await.expect("quota");
    f.client.quota_consumption().await.expect("consumption");
    f.client.verify_token().await.expect("verify");
    let endpoints = Endpoints::single(&f.base);
    LineClient::issue_stateless_token(&f.http, &endpoints, CHANNEL, &Secret::new(SECRET.into()))
        .await
        .expect("token");
    let _ =
        LineClient::issue_stateless_token(&f.http, &endpoints, CHANNEL, &Secret::new("x".into()))
            .await;
    let _ = LineClient::new(endpoints, Secret::new("bad".into()))
        .bot_info()
        .await;

    let recorded = f
        .control(reqwest::Method::GET, "/sim/recorded", json!(null))
        .await;
    let recorded = recorded.as_array().expect("list");
    let messaging = Spec::load("messaging-api.yml");
    let tokens = Spec::load("channel-access-token.yml");
    // Negative control: the validator must reject an answer that breaks the spec.
    let push_schema = messaging
        .schema_for("POST", "/v2/bot/message/push", 200)
        .expect("push in spec");
    assert!(
        !messaging
            .validator(&push_schema)
            .is_valid(&json!({"sentMessages": "not a list"})),
        "validation must catch a wrong answer"
    );
    assert!(
        !messaging.validator(&push_schema).is_valid(&json!({})),
        "required fields enforced"
    );
    let mut checked = 0;
    let mut statuses = std::collections::BTreeSet::new();
    for r in recorded {
        let (method, path, status) = (
            r["method"].as_str().expect("m"),
            r["path"].as_str().expect("p"),
            r["status"].as_u64().expect("s") as u16,
        );
        let body = r["body"].as_str().unwrap_or("");
        let spec = if path.starts_with("/oauth2") || path.starts_with("/v2/oauth") {
            &tokens
        } else {
            &messaging
        };
        let schema = spec
            .schema_for(method, path, status)
            .unwrap_or_else(|| panic!("{method} {path} is not in LINE's spec"));
        statuses.insert(format!("{method} {path} {status}"));
        if body.is_empty() {
            assert!(
                status == 202 || !r["content_type"].as_str().unwrap_or("").contains("json"),
                "{method} {path} {status}: JSON answers have bodies"
            );
            continue;
        }
        let value: Value = serde_json::from_str(body).expect("JSON answer");
        let validator = spec.validator(&schema);
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status} does not match the spec: {errors:?}\n{body}"
        );
        checked += 1;
    }
    assert!(checked >= 25, "validated {checked} answers: {statuses:?}");
}
