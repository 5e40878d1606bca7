//! The routing floor the scenario tests share: a relay and the LINE simulator on loopback,
//! representatives and an admin, customers who write, and a clock moved by hand. Each test
//! crate uses part of it.
#![allow(dead_code)]

use std::sync::Arc;

use linedesk_protocol::Role;
use linedesk_relay::clock::ManualClock;
use linedesk_relay::routing::Routing;
use linedesk_tests::{Loopback, PASSWORD, USER};
use reqwest::Method;
use serde_json::{json, Value};

pub type Console =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Monday 2026-11-30 10:00 in Taipei (02:00 UTC).
pub const MONDAY_10_TAIPEI: i64 = 1_796_004_000_000;

pub struct Floor {
    _dir: tempfile::TempDir,
    pub lb: Loopback,
    pub clock: ManualClock,
    pub admin: String,
}

impl Floor {
    /// A floor with `reps` (rita is always the first) and an admin.
    pub async fn open(reps: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = ManualClock::new(MONDAY_10_TAIPEI);
        let lb = Loopback::start_with_clock(dir.path(), Arc::new(clock.clone())).await;
        for rep in reps.iter().filter(|r| **r != USER) {
            lb.add_user(rep, Role::Rep, PASSWORD);
        }
        lb.add_user("ada", Role::Admin, PASSWORD);
        let admin = lb.login("ada", PASSWORD).await;
        Self {
            _dir: dir,
            lb,
            clock,
            admin,
        }
    }

    pub async fn token(&self, user: &str) -> String {
        self.lb.login(user, PASSWORD).await
    }

    /// A console of `token`'s user, connected until dropped; answers once routing has it. After
    /// a relay restart every console reconnects, and nobody is offered work before theirs has.
    pub async fn console(&self, token: &str, user: &str) -> Console {
        use futures_util::SinkExt as _;
        let url = format!("{}/api/ws", self.lb.relay_url.replacen("http", "ws", 1));
        let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .expect("websocket");
        let hello = linedesk_protocol::ClientFrame::Hello {
            version: linedesk_protocol::PROTOCOL_VERSION,
            token: token.to_owned(),
            since: None,
        };
        ws.send(tokio_tungstenite::tungstenite::Message::text(
            serde_json::to_string(&hello).expect("json"),
        ))
        .await
        .expect("hello");
        for _ in 0..200 {
            if self.agent(user).await["connected"] == true {
                self.settle().await;
                return ws;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("{user}'s console never counted as connected");
    }

    pub async fn settle(&self) {
        Routing::settled(&self.lb.relay()).await;
    }

    pub async fn tick(&self) {
        Routing::tick(&self.lb.relay()).await.expect("tick");
        self.settle().await;
    }

    pub async fn advance(&self, ms: i64) {
        self.clock.advance(ms);
        self.tick().await;
    }

    pub async fn flush(&self) {
        Routing::flush_automated(&self.lb.relay())
            .await
            .expect("automated messages sent");
        self.settle().await;
    }

    pub async fn presence(&self, token: &str, presence: &str) -> Value {
        let (status, body) = self
            .lb
            .api(
                Method::POST,
                "/api/presence",
                token,
                Some(json!({"presence": presence})),
            )
            .await;
        assert_eq!(status, 200, "presence: {body}");
        self.settle().await;
        body
    }

    pub async fn capacity(&self, user: &str, units: u32) {
        let (status, body) = self
            .lb
            .api(
                Method::PUT,
                &format!("/api/agents/{user}"),
                &self.admin,
                Some(json!({"capacity": units})),
            )
            .await;
        assert_eq!(status, 200, "capacity: {body}");
        self.settle().await;
    }

    pub async fn customer(&self, name: &str, language: &str) -> String {
        let id = self.lb.customer(name, language).await;
        self.settle().await;
        id
    }

    pub async fn says(&self, customer: &str, text: &str) {
        self.lb
            .sim(
                &format!("/sim/customers/{customer}/messages"),
                json!({"type": "text", "text": text}),
            )
            .await;
        self.settle().await;
    }

    /// The customer's live (not closed) conversation, or the newest one.
    pub async fn conversation(&self, customer: &str) -> Value {
        let (status, list) = self
            .lb
            .api(
                Method::GET,
                &format!("/api/conversations?chat={customer}"),
                &self.admin,
                None,
            )
            .await;
        assert_eq!(status, 200);
        let list = list.as_array().cloned().unwrap_or_default();
        list.iter()
            .find(|c| c["state"] != "closed")
            .or(list.first())
            .cloned()
            .unwrap_or_else(|| panic!("{customer} has no conversation"))
    }

    pub async fn act(
        &self,
        token: &str,
        id: &Value,
        action: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let id = id.as_str().expect("conversation id");
        let answer = self
            .lb
            .api(
                Method::POST,
                &format!("/api/conversations/{id}/{action}"),
                token,
                body.or(Some(json!({}))),
            )
            .await;
        self.settle().await;
        answer
    }

    pub async fn agent(&self, user: &str) -> Value {
        let (_, list) = self
            .lb
            .api(Method::GET, "/api/agents", &self.admin, None)
            .await;
        list.as_array()
            .and_then(|l| l.iter().find(|a| a["user"] == user).cloned())
            .unwrap_or(Value::Null)
    }

    pub async fn received(&self, customer: &str) -> Vec<Value> {
        self.lb
            .sim(&format!("/sim/customers/{customer}/received"), Value::Null)
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        let answer = self
            .lb
            .api(Method::PUT, path, &self.admin, Some(body))
            .await;
        self.settle().await;
        answer
    }
}
