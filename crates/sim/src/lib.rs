//! `linedesk-sim`: the LINE platform on loopback, for tests and the demo.
//!
//! - [`api`]: the Messaging API subset linedesk uses, answering as `shared/line-api/openapi`
//!   says: bearer check, single-use expiring reply tokens, retry keys (409 with the original
//!   `sentMessages`), content with transcoding (202) and unsend (410), quota counting (push
//!   counts, reply does not), stateless tokens, webhook endpoint get/set/test.
//! - [`customers`]: simulated 1:1 customers and the webhook events they cause.
//! - [`deliver`]: signs and POSTs webhooks, keeps every event for redelivery.
//! - [`control`]: the `/sim/...` HTTP API tests and the demo drive it with.
//! - [`faults`]: injected 429/5xx/slow answers, request IDs, response recording.
//! - [`pictures`]: stickers, LINE emoji and profile pictures, as LINE's CDN serves them.
//! - [`demo`]: customers writing in several languages, for `linedesk --demo`.
//! - [`state`]: what the simulator remembers.

pub mod api;
pub mod control;
pub mod customers;
pub mod deliver;
pub mod demo;
pub mod faults;
pub mod pictures;
pub mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;

pub use state::{ChannelConfig, Settings};

/// A running (or runnable) simulator; cheap to clone.
#[derive(Clone)]
pub struct Sim {
    state: Arc<Mutex<state::SimState>>,
    http: reqwest::Client,
}

impl Sim {
    /// A simulator for one channel, sending webhooks to `webhook_url`.
    pub fn new(channel: ChannelConfig, webhook_url: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("reqwest client builds");
        Self {
            state: Arc::new(Mutex::new(state::SimState::new(channel, webhook_url))),
            http,
        }
    }

    /// Locks the state (never across `.await`).
    pub fn state(&self) -> MutexGuard<'_, state::SimState> {
        self.state.lock().expect("sim state lock")
    }

    /// The HTTP client used for webhooks.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// LINE API plus control API.
    pub fn router(&self) -> Router {
        api::router(self.clone())
            .merge(control::router(self.clone()))
            .merge(pictures::router(self.clone()))
    }

    /// Serves on `addr` (port 0 picks one); returns the bound address.
    pub async fn serve(
        &self,
        addr: SocketAddr,
    ) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        self.state().base_url = Some(format!("http://{bound}"));
        let router = self.router();
        let handle = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "simulator stopped");
            }
        });
        Ok((bound, handle))
    }
}

/// Current time, UTC milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
