//! Helpers shared by the relay's integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::Body;
use futures_util::{SinkExt, StreamExt};
use http::{Request, StatusCode};
use linedesk_line::Secret;
use linedesk_protocol::{ClientFrame, Role, ServerFrame};
use linedesk_relay::store::{self, channels, events::StoredEvent, users};
use linedesk_relay::{app, Relay, ServeConfig};
use tokio_tungstenite::tungstenite::Message;
use tower::ServiceExt as _;

pub const CHANNEL: &str = "1650000000";
pub const SECRET: &str = "0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "long-lived-token-ABCDEFGHIJKLMNOPQRSTUVWXYZ";

pub struct TestRelay {
    pub dir: tempfile::TempDir,
    pub relay: Relay,
    pub config: ServeConfig,
}

impl TestRelay {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`TestRelay::start`], with settings changed by `tune`.
    pub async fn start_with(tune: impl FnOnce(&mut ServeConfig)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        seed(dir.path(), "http://127.0.0.1:9");
        let mut config = ServeConfig::local_for_tests(dir.path().to_owned()).expect("config");
        tune(&mut config);
        let relay = Relay::start(&config).await.expect("relay starts");
        Self { dir, relay, config }
    }

    pub fn app(&self) -> axum::Router {
        app(self.relay.clone())
    }

    pub async fn serve(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = self.app();
        let limits = self.config.limits();
        tokio::spawn(linedesk_relay::edge::serve(
            listener,
            router,
            limits,
            std::future::pending(),
        ));
        addr
    }

    pub async fn post_webhook(
        &self,
        channel: &str,
        body: &[u8],
        signature: Option<&str>,
    ) -> StatusCode {
        let mut req = Request::post(format!("/line/{channel}/webhook"))
            .header("content-type", "application/json; charset=utf-8");
        if let Some(sig) = signature {
            req = req.header("X-Line-Signature", sig);
        }
        self.app()
            .oneshot(req.body(Body::from(body.to_vec())).expect("request"))
            .await
            .expect("served")
            .status()
    }

    /// A GET without a session.
    pub async fn get(&self, path: &str) -> axum::response::Response {
        self.app()
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("served")
    }

    /// A GET with `token`'s session; answers the status and body.
    pub async fn get_as(&self, path: &str, token: &str) -> (StatusCode, String) {
        let resp = self
            .app()
            .oneshot(
                Request::get(path)
                    .header("authorization", format!("Bearer {token}"))
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("served");
        (resp.status(), body_text(resp).await)
    }

    pub async fn events(&self) -> Vec<StoredEvent> {
        self.relay
            .read(|c| store::events::read_after(c, 0, 100_000))
            .await
            .expect("read")
    }

    /// The events LINE sent (the log also holds the relay's own `linedesk*` events).
    pub async fn line_events(&self) -> Vec<StoredEvent> {
        self.events()
            .await
            .into_iter()
            .filter(|e| !e.event_type.starts_with("linedesk"))
            .collect()
    }

    pub async fn login(&self, user: &str) -> String {
        let resp = self
            .app()
            .oneshot(json_post(
                "/api/login",
                &format!(r#"{{"user":"{user}","password":"correct horse"}}"#),
            ))
            .await
            .expect("served");
        assert_eq!(resp.status(), StatusCode::OK, "login of {user}");
        let v: serde_json::Value = serde_json::from_str(&body_text(resp).await).expect("json");
        v["token"].as_str().expect("token").to_owned()
    }
}

/// Seeds a data dir with the test channel and users (rita the rep, sam the supervisor, ada the
/// admin).
pub fn seed(dir: &Path, api_base: &str) {
    let conn = linedesk_relay::ServeConfig::local_for_tests(dir.to_owned())
        .and_then(|c| Ok(c.open_database()?))
        .expect("the relay database");
    seed_into(&conn, dir, api_base);
}

/// [`seed`] into a SQLite data directory, whatever database the tests run on.
pub fn seed_sqlite(dir: &Path, api_base: &str) {
    let conn = ServeConfig::local(dir.to_owned())
        .open_database()
        .expect("the relay database");
    seed_into(&conn, dir, api_base);
}

fn seed_into(conn: &linedesk_relay::store::sql::Conn, dir: &Path, api_base: &str) {
    let vault = linedesk_relay::vault::Vault::load(dir).expect("vault");
    channels::upsert(
        conn,
        &vault,
        &channels::Channel {
            id: CHANNEL.into(),
            name: "Support TW".into(),
            secret: Secret::new(SECRET.into()),
            token: Secret::new(TOKEN.into()),
            api_base: api_base.into(),
            api_data_base: api_base.into(),
            deleted_at: None,
        },
        store::now_ms(),
    )
    .expect("channel");
    users::add(conn, "rita", Role::Rep, "correct horse", 0).expect("rep");
    users::add(conn, "ada", Role::Admin, "correct horse", 0).expect("admin");
    users::add(conn, "sam", Role::Supervisor, "correct horse", 0).expect("supervisor");
}

/// A second relay's data directory with the first one's relay key (several relays on one
/// database open the channels' credentials with the same key).
pub fn copy_key(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("data dir");
    std::fs::copy(
        from.join(linedesk_relay::vault::KEY_FILE),
        to.join(linedesk_relay::vault::KEY_FILE),
    )
    .expect("relay key copied");
}

pub fn sign(body: &[u8]) -> String {
    linedesk_line::signature::sign(SECRET, body)
}

pub fn text_event(id: &str, text: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "message", "mode": "active", "timestamp": 1_700_000_000_000i64,
        "source": {"type": "user", "userId": "U4af4980629a1b2c3d4e5f60718293a4b"},
        "webhookEventId": id, "deliveryContext": {"isRedelivery": false},
        "replyToken": "r", "message": {"id": "1", "type": "text", "quoteToken": "q", "text": text}
    })
}

pub fn webhook_body(events: &[serde_json::Value]) -> Vec<u8> {
    serde_json::to_vec(
        &serde_json::json!({"destination": "U8e742f61d673b39c7fff3cecb7536ef0", "events": events}),
    )
    .expect("json")
}

pub fn json_post(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request")
}

pub async fn body_text(resp: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Polls `f` until it yields `Some`, for at most 10 s.
pub async fn wait_for<T, F, Fut>(f: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..1000 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not met within 10 s");
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

pub struct WsClient {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl WsClient {
    pub async fn connect(addr: SocketAddr) -> Self {
        let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/ws"))
            .await
            .expect("ws connects");
        Self { socket }
    }

    pub async fn send(&mut self, frame: &ClientFrame) {
        self.send_text(&serde_json::to_string(frame).expect("json"))
            .await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::text(text.to_owned()))
            .await
            .expect("send");
    }

    pub async fn recv(&mut self) -> ServerFrame {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("a frame within 10 s")
                .expect("socket open")
                .expect("frame");
            if let Message::Text(t) = msg {
                let frame: ServerFrame = serde_json::from_str(t.as_str()).expect("server frame");
                // The scope after Welcome is checked by the access tests, not here.
                if !matches!(frame, ServerFrame::Scope(_)) {
                    return frame;
                }
            }
        }
    }

    pub async fn recv_event_seq(&mut self) -> u64 {
        match self.recv().await {
            ServerFrame::Event(ev) => ev.seq,
            other => panic!("expected an event, got {other:?}"),
        }
    }
}
