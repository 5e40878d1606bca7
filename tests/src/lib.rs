//! `linedesk-tests`: end-to-end tests across the crates (see `tests/`), and [`Loopback`], the
//! world they run in: the LINE simulator and a relay on 127.0.0.1 with a real data directory,
//! one channel and one representative.

use std::net::SocketAddr;
use std::path::Path;

use linedesk_line::Secret;
use linedesk_protocol::Role;
use linedesk_relay::store::{self, channels, users};
use linedesk_relay::{Relay, ServeConfig};
use linedesk_sim::{ChannelConfig, Sim};
use serde_json::Value;

/// The channel every loopback world serves.
pub const CHANNEL: &str = "1650000000";
/// Its access token (known to the simulator and sealed in the relay).
pub const TOKEN: &str = "loopback-long-lived-token";
/// Its secret.
pub const SECRET: &str = "loopback-secret-0123456789abcdef";
/// The representative's user name.
pub const USER: &str = "rita";
/// Her password.
pub const PASSWORD: &str = "correct horse";

/// Simulator and relay on loopback.
pub struct Loopback {
    /// The relay's base URL.
    pub relay_url: String,
    /// The simulator's base URL.
    pub sim_url: String,
    /// The running relay.
    pub relay: Relay,
    /// A client for control calls.
    pub http: reqwest::Client,
}

impl Loopback {
    /// Starts both, the relay's data in `data` (created), LINE's webhook pointing at the relay.
    pub async fn start(data: &Path) -> Self {
        let relay_addr: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port");
        let sim = Sim::new(
            ChannelConfig {
                channel_id: CHANNEL.into(),
                channel_secret: SECRET.into(),
                access_token: TOKEN.into(),
                bot_user_id: "U8e742f61d673b39c7fff3cecb7536ef0".into(),
                bot_name: "loopback".into(),
            },
            Some(format!("http://{relay_addr}/line/{CHANNEL}/webhook")),
        );
        let (sim_addr, _) = sim
            .serve("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("simulator serves");
        let sim_url = format!("http://{sim_addr}");
        {
            let conn = store::open_writer(data).expect("relay database");
            let vault = linedesk_relay::vault::Vault::load(data).expect("relay key");
            let ch = channels::Channel {
                id: CHANNEL.into(),
                name: "Support TW".into(),
                secret: Secret::new(SECRET.into()),
                token: Secret::new(TOKEN.into()),
                api_base: sim_url.clone(),
                api_data_base: sim_url.clone(),
            };
            channels::upsert(&conn, &vault, &ch, store::now_ms()).expect("channel");
            users::add(&conn, USER, Role::Rep, PASSWORD, 0).expect("user");
        }
        let relay = Relay::start(&ServeConfig::local(data.to_owned()))
            .await
            .expect("relay starts");
        let listener = tokio::net::TcpListener::bind(relay_addr)
            .await
            .expect("relay port");
        let router = linedesk_relay::app(relay.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            relay_url: format!("http://{relay_addr}"),
            sim_url,
            relay,
            http: reqwest::Client::new(),
        }
    }

    /// A simulator control call: GET when `body` is null, else POST; answers its JSON (or null).
    pub async fn sim(&self, path: &str, body: Value) -> Value {
        let method = if body.is_null() {
            reqwest::Method::GET
        } else {
            reqwest::Method::POST
        };
        let resp = self
            .http
            .request(method, format!("{}{path}", self.sim_url))
            .json(&body)
            .send()
            .await
            .expect("simulator control call");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }

    /// A new simulated customer (who follows the account); returns the user ID.
    pub async fn customer(&self, name: &str, language: &str) -> String {
        let v = self
            .sim(
                "/sim/customers",
                serde_json::json!({"displayName": name, "language": language}),
            )
            .await;
        v["customer"]["userId"]
            .as_str()
            .expect("user id")
            .to_owned()
    }
}
