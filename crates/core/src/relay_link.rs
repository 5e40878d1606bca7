//! The link to the relay: sign-in, the event stream (resume from the cache's cursor,
//! reconnect with backoff), and the HTTP calls a console makes (sends, routing, admin).
//!
//! The relay sends only what this user may see: after Welcome it names the chats she may
//! hold ([`ServerFrame::Scope`]) and the cache forgets the others; chats that become visible
//! arrive with their history ([`ServerFrame::Backfill`]); chats taken away are forgotten
//! ([`ServerFrame::Forget`]).
//!
//! Transport: `https://` and `wss://` with the roots of [`crate::tls`]; plain `http://` only
//! to this machine ([`LinkError::Insecure`] otherwise, before anything connects).

use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt as _, SinkExt, StreamExt};
use linedesk_line::Secret;
use linedesk_protocol::api::{has_dot_segment, Call, Method};
use linedesk_protocol::{
    ApiErrorBody, ClientFrame, ErrorCode, EventFrame, LoginRequest, LoginResponse, SendAnswer,
    SendRequest, ServerFrame, PROTOCOL_VERSION,
};
use serde::Serialize;
use tokio::sync::{broadcast, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::Connector;

use crate::cache::Cache;
use crate::CoreEvent;

/// Errors talking to the relay.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The relay could not be reached.
    #[error("cannot reach the relay at {url}: {source}")]
    Unreachable {
        /// Relay URL.
        url: String,
        /// Cause.
        #[source]
        source: reqwest::Error,
    },
    /// The relay refused with a code.
    #[error("the relay refused: {message}")]
    Refused {
        /// Stable code.
        code: ErrorCode,
        /// Safe message.
        message: String,
        /// For refused entries: each field and why.
        invalid: Vec<linedesk_protocol::Invalid>,
    },
    /// The relay answered something unexpected.
    #[error("unexpected answer from the relay: {0}")]
    Protocol(String),
    /// The local cache failed.
    #[error("the local cache failed: {0}")]
    Cache(String),
    /// The relay URL is not http(s).
    #[error("relay URL must start with http:// or https://: {0}")]
    BadUrl(String),
    /// Plain `http://` to another machine: session tokens and customers' messages would cross
    /// the network unencrypted. Refused before any connection is attempted.
    #[error(
        "refusing {url}: plain http:// is allowed only to this machine; reach the relay at {} \
         — traffic off this machine must be encrypted",
        https_form(.url)
    )]
    Insecure {
        /// The refused relay URL.
        url: String,
    },
}

/// `url` with `https://` in place of `http://`, to name the address to use instead.
fn https_form(url: &str) -> String {
    format!("https://{}", url.strip_prefix("http://").unwrap_or(url))
}

/// The relay's base URL without a trailing slash, checked: `https://` to anywhere, plain
/// `http://` only to this machine (`localhost`, 127.0.0.0/8, `[::1]`). The websocket's URL is
/// derived from it (`ws://`, `wss://`), so this rule covers both.
fn checked_base(base: &str) -> Result<String, LinkError> {
    // The string is kept as typed: it names the session in the keyring and the cache.
    let base = base.trim_end_matches('/').to_owned();
    let secure = base.starts_with("https://");
    if !secure && !base.starts_with("http://") {
        return Err(LinkError::BadUrl(base));
    }
    // Parsed, not matched as text: `http://localhost@relay.example.com` goes to relay.example.com.
    let url = url::Url::parse(&base).map_err(|_| LinkError::BadUrl(base.clone()))?;
    if secure || is_this_machine(&url) {
        Ok(base)
    } else {
        Err(LinkError::Insecure { url: base })
    }
}

/// Whether `url`'s host is this machine's loopback interface.
fn is_this_machine(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Connection state, for the rail's indicator.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LinkState {
    /// Not signed in.
    SignedOut,
    /// Connecting or reconnecting.
    Connecting {
        /// Attempt number since the last success.
        attempt: u32,
    },
    /// Streaming live events.
    Online,
    /// The relay is unreachable; drafts and queued sends are kept.
    Offline {
        /// Why, in plain words.
        reason: String,
    },
    /// The session was refused; sign in again.
    Refused {
        /// Why.
        reason: String,
    },
}

pub use linedesk_protocol::Uploaded;

/// A picture the relay keeps besides customers' media.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Picture {
    /// A sticker, or its animation.
    Sticker {
        /// LINE's sticker ID.
        sticker_id: String,
        /// The animation (APNG) rather than the still.
        animation: bool,
    },
    /// A LINE emoji.
    Emoji {
        /// Its product (set).
        product_id: String,
        /// Its ID within the product.
        emoji_id: String,
    },
    /// A customer's profile picture.
    Avatar {
        /// Channel.
        channel_id: String,
        /// LINE user ID.
        user_id: String,
    },
}

/// HTTP side of the relay link, for one session.
#[derive(Clone)]
pub struct RelayClient {
    http: reqwest::Client,
    /// The websocket's TLS settings (the same roots as `http`'s).
    tls: Arc<rustls::ClientConfig>,
    base: String,
    token: Secret<String>,
    /// Who is signed in.
    pub user: String,
}

impl std::fmt::Debug for RelayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayClient")
            .field("base", &self.base)
            .field("user", &self.user)
            .finish()
    }
}

async fn refusal(resp: reqwest::Response) -> LinkError {
    let status = resp.status();
    match resp.json::<ApiErrorBody>().await {
        Ok(body) => LinkError::Refused {
            code: body.code,
            message: body.message,
            invalid: body.invalid,
        },
        Err(_) => LinkError::Protocol(format!("status {status}")),
    }
}

impl RelayClient {
    /// A client for an existing session token (from the keyring). Refuses plain `http://`
    /// to anything but this machine ([`LinkError::Insecure`]).
    pub fn new(
        http: reqwest::Client,
        tls: Arc<rustls::ClientConfig>,
        base: &str,
        user: &str,
        token: Secret<String>,
    ) -> Result<Self, LinkError> {
        let base = checked_base(base)?;
        Ok(Self {
            http,
            tls,
            base,
            token,
            user: user.into(),
        })
    }

    /// Signs in with user and password.
    pub async fn login(
        http: reqwest::Client,
        tls: Arc<rustls::ClientConfig>,
        base: &str,
        user: &str,
        password: &str,
        device: &str,
    ) -> Result<(Self, LoginResponse), LinkError> {
        // Checks the URL before the password leaves the machine.
        let probe = Self::new(
            http.clone(),
            tls.clone(),
            base,
            user,
            Secret::new(String::new()),
        )?;
        let resp = http
            .post(format!("{}{}", probe.base, linedesk_protocol::LOGIN_PATH))
            .json(&LoginRequest {
                user: user.into(),
                password: password.into(),
                device: Some(device.into()),
            })
            .send()
            .await
            .map_err(|source| LinkError::Unreachable {
                url: probe.base.clone(),
                source,
            })?;
        if !resp.status().is_success() {
            return Err(refusal(resp).await);
        }
        let login: LoginResponse = resp
            .json()
            .await
            .map_err(|e| LinkError::Protocol(e.to_string()))?;
        let client = Self::new(
            http,
            tls,
            base,
            &login.user,
            Secret::new(login.token.clone()),
        )?;
        Ok((client, login))
    }

    /// The session token (for the keyring).
    pub fn token(&self) -> &Secret<String> {
        &self.token
    }

    /// The relay's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, LinkError> {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose())
            .json(body);
        self.json_answer(req).await
    }

    /// Sends a request to the relay: unreachable, refused (with the relay's code), or the
    /// successful answer.
    async fn accepted(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, LinkError> {
        let resp = req.send().await.map_err(|source| LinkError::Unreachable {
            url: self.base.clone(),
            source,
        })?;
        if !resp.status().is_success() {
            return Err(refusal(resp).await);
        }
        Ok(resp)
    }

    /// Sends a request to the relay and reads its JSON answer.
    async fn json_answer<T: serde::de::DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, LinkError> {
        self.accepted(req)
            .await?
            .json()
            .await
            .map_err(|e| LinkError::Protocol(e.to_string()))
    }

    /// Hands a message to the relay to send (idempotent by outbox id).
    pub async fn send(&self, request: &SendRequest) -> Result<SendAnswer, LinkError> {
        self.post_json(linedesk_protocol::SEND_PATH, request).await
    }

    /// Ends this session on the relay (every device using it is signed out).
    pub async fn logout(&self) -> Result<(), LinkError> {
        let req = self
            .http
            .post(format!("{}/api/logout", self.base))
            .bearer_auth(self.token.expose())
            .timeout(Duration::from_secs(5));
        self.accepted(req).await.map(drop)
    }

    /// One call of the relay's set-up, contact and profile API ([`linedesk_protocol::api`]).
    /// A path with a `.` or `..` segment is refused before anything leaves the machine.
    pub async fn call<C: Call>(&self, call: &C) -> Result<C::Answer, LinkError> {
        let path = call.path();
        if !path.starts_with("/api/") || has_dot_segment(&path) {
            return Err(LinkError::BadUrl(format!("not a relay API path: {path}")));
        }
        let method = match C::METHOD {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token.expose());
        if let Some(b) = call.body() {
            req = req.json(b);
        }
        let bytes = self
            .accepted(req)
            .await?
            .bytes()
            .await
            .map_err(|e| LinkError::Protocol(e.to_string()))?;
        // 204 No Content (a removal) is the answer `()`.
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(bytes).map_err(|e| LinkError::Protocol(e.to_string()))
    }

    /// Sets this representative's presence.
    pub async fn set_presence(
        &self,
        presence: linedesk_protocol::routing::Presence,
    ) -> Result<linedesk_protocol::routing::AgentSnapshot, LinkError> {
        self.post_json(
            "/api/presence",
            &linedesk_protocol::routing::PresenceRequest { presence },
        )
        .await
    }

    /// A routing command on a relay conversation: `accept`, `reject`, `wait`, `end`, `close`,
    /// `transfer` (body: `{toUser}` or `{toQueue}`), `consult`, `join` (body: `{user}`).
    pub async fn act<T: serde::de::DeserializeOwned>(
        &self,
        conversation: &str,
        action: &str,
        body: &serde_json::Value,
    ) -> Result<T, LinkError> {
        let safe = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !safe(conversation) || !safe(action) {
            return Err(LinkError::Protocol(
                "malformed conversation or action".into(),
            ));
        }
        self.post_json(&format!("/api/conversations/{conversation}/{action}"), body)
            .await
    }

    /// The "send later" messages waiting in relay conversation `conversation`.
    pub async fn later_waiting(
        &self,
        conversation: &str,
    ) -> Result<Vec<linedesk_protocol::routing::LaterMessage>, LinkError> {
        if !conversation
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(LinkError::Protocol("malformed conversation".into()));
        }
        let req = self
            .http
            .get(format!(
                "{}/api/conversations/{conversation}/later",
                self.base
            ))
            .bearer_auth(self.token.expose());
        self.json_answer(req).await
    }

    /// Uploads a file the representative sends; `progress(sent, total)` as it goes.
    pub async fn upload(
        &self,
        channel_id: Option<&str>,
        name: &str,
        bytes: bytes::Bytes,
        progress: impl Fn(u64, u64) + Send + Sync + 'static,
    ) -> Result<Uploaded, LinkError> {
        const CHUNK: usize = 64 * 1024;
        let total = bytes.len() as u64;
        let chunks: Vec<bytes::Bytes> = (0..bytes.len())
            .step_by(CHUNK)
            .map(|at| bytes.slice(at..(at + CHUNK).min(bytes.len())))
            .collect();
        let mut sent = 0u64;
        let stream = futures_util::stream::iter(chunks.into_iter().map(move |c| {
            sent += c.len() as u64;
            progress(sent, total);
            Ok::<_, std::io::Error>(c)
        }));
        let mut params = vec![("name", name)];
        if let Some(channel) = channel_id {
            params.push(("channel", channel));
        }
        let url = reqwest::Url::parse_with_params(&format!("{}/api/uploads", self.base), &params)
            .map_err(|e| LinkError::BadUrl(e.to_string()))?;
        let req = self
            .http
            .post(url)
            .bearer_auth(self.token.expose())
            .header(reqwest::header::CONTENT_LENGTH, total)
            .body(reqwest::Body::wrap_stream(stream))
            .timeout(std::time::Duration::from_secs(600));
        self.json_answer(req).await
    }

    /// A customer's media from the relay (ids checked first): the relay's answer as it is, so
    /// callers can stream it and read `202` (still downloading from LINE) and `410` (unsent).
    pub async fn media(
        &self,
        channel_id: &str,
        message_id: &str,
    ) -> Result<reqwest::Response, LinkError> {
        let valid = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !valid(channel_id) || !valid(message_id) {
            return Err(LinkError::BadUrl("bad media id".into()));
        }
        self.http
            .get(format!("{}/api/media/{channel_id}/{message_id}", self.base))
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(|source| LinkError::Unreachable {
                url: self.base.clone(),
                source,
            })
    }

    /// A sticker's, a LINE emoji's or a customer's picture from the relay, as the relay
    /// answered (`202` while it is being fetched, `404` when there is none).
    pub async fn picture(&self, picture: &Picture) -> Result<reqwest::Response, LinkError> {
        let valid = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        let path = match picture {
            Picture::Sticker {
                sticker_id,
                animation,
            } if valid(sticker_id) => {
                format!("/api/stickers/{sticker_id}?animation={animation}")
            }
            Picture::Emoji {
                product_id,
                emoji_id,
            } if valid(product_id) && valid(emoji_id) => {
                format!("/api/emoji/{product_id}/{emoji_id}")
            }
            Picture::Avatar {
                channel_id,
                user_id,
            } if valid(channel_id) && valid(user_id) => {
                format!("/api/avatars/{channel_id}/{user_id}")
            }
            _ => return Err(LinkError::BadUrl("bad picture id".into())),
        };
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(|source| LinkError::Unreachable {
                url: self.base.clone(),
                source,
            })
    }

    /// The preview (or the file) of something uploaded, by its public URL's token.
    pub async fn fetch_upload(
        &self,
        url: &str,
        preview: bool,
    ) -> Result<(String, bytes::Bytes), LinkError> {
        let token = url
            .rsplit_once("/o/")
            .map(|(_, t)| t.trim_end_matches("/preview"))
            .filter(|t| {
                t.len() == 43
                    && t.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .ok_or_else(|| LinkError::BadUrl("not an upload of this relay".into()))?;
        let suffix = if preview { "/preview" } else { "" };
        let resp = self
            .http
            .get(format!("{}/o/{token}{suffix}", self.base))
            .send()
            .await
            .map_err(|source| LinkError::Unreachable {
                url: self.base.clone(),
                source,
            })?;
        if !resp.status().is_success() {
            return Err(LinkError::Protocol(format!(
                "upload answered {}",
                resp.status()
            )));
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| LinkError::Protocol(e.to_string()))?;
        Ok((content_type, bytes))
    }

    fn ws_url(&self) -> String {
        format!(
            "{}{}",
            self.base.replacen("http", "ws", 1),
            linedesk_protocol::WS_PATH
        )
    }
}

/// Streams the relay's log into the cache until shutdown, reconnecting with backoff.
pub async fn run(
    client: RelayClient,
    cache: Arc<Cache>,
    state: watch::Sender<LinkState>,
    events: broadcast::Sender<CoreEvent>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut attempt: u32 = 0;
    loop {
        if *shutdown.borrow() {
            return;
        }
        attempt += 1;
        state.send_replace(LinkState::Connecting { attempt });
        let outcome = tokio::select! {
            r = session(&client, &cache, &state, &events) => r,
            _ = shutdown.changed() => return,
        };
        match outcome {
            Ok(()) => attempt = 0,
            Err(LinkError::Refused {
                code: ErrorCode::Unauthenticated,
                message,
                ..
            }) => {
                state.send_replace(LinkState::Refused { reason: message });
                let _ = events.send(CoreEvent::LinkChanged);
                return;
            }
            Err(e) => {
                if matches!(*state.borrow(), LinkState::Online) {
                    attempt = 1;
                }
                tracing::info!(error = %e, attempt, "relay link down");
                state.send_replace(LinkState::Offline {
                    reason: e.to_string(),
                });
            }
        }
        let _ = events.send(CoreEvent::LinkChanged);
        // 0.25 s, 0.5 s, 1 s, … up to 15 s.
        let delay = Duration::from_millis(250u64.saturating_mul(1 << attempt.min(6)))
            .min(Duration::from_secs(15));
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn session(
    client: &RelayClient,
    cache: &Arc<Cache>,
    state: &watch::Sender<LinkState>,
    events: &broadcast::Sender<CoreEvent>,
) -> Result<(), LinkError> {
    let (mut ws, _) = tokio::time::timeout(
        Duration::from_secs(10),
        // The same roots as the HTTP client; `ws://` (loopback only) ignores the connector.
        tokio_tungstenite::connect_async_tls_with_config(
            client.ws_url(),
            None,
            false,
            Some(Connector::Rustls(client.tls.clone())),
        ),
    )
    .await
    .map_err(|_| LinkError::Protocol("timed out connecting".into()))?
    .map_err(|e| LinkError::Protocol(format!("websocket: {e}")))?;
    let cursor = blocking(cache, |c| c.cursor()).await?;
    let hello = ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        token: client.token.expose().clone(),
        since: Some(cursor),
    };
    ws.send(Message::text(
        serde_json::to_string(&hello).expect("frames serialize"),
    ))
    .await
    .map_err(|e| LinkError::Protocol(e.to_string()))?;
    let mut ping = tokio::time::interval(Duration::from_secs(20));
    loop {
        let msg = tokio::select! {
            m = ws.next() => m,
            _ = ping.tick() => {
                let frame = ClientFrame::Ping { nonce: 0 };
                ws.send(Message::text(serde_json::to_string(&frame).expect("frames serialize"))).await.map_err(|e| LinkError::Protocol(e.to_string()))?;
                continue;
            }
        };
        let mut frames = Vec::new();
        let mut backfill = Vec::new();
        let mut control = None;
        let mut next = msg;
        // Take every frame already received, so one transaction stores a burst.
        loop {
            match next {
                None => {
                    return Err(LinkError::Protocol(
                        "the relay closed the connection".into(),
                    ))
                }
                Some(Err(e)) => return Err(LinkError::Protocol(e.to_string())),
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<ServerFrame>(t.as_str())
                {
                    Ok(ServerFrame::Event(ev)) => frames.push(ev),
                    Ok(ServerFrame::Backfill(ev)) => backfill.push(ev),
                    // Applied after the frames before it are stored, so nothing comes back.
                    Ok(frame @ (ServerFrame::Scope(_) | ServerFrame::Forget { .. })) => {
                        control = Some(frame);
                        break;
                    }
                    Ok(ServerFrame::Welcome { .. }) => {
                        state.send_replace(LinkState::Online);
                        let _ = events.send(CoreEvent::LinkChanged);
                    }
                    Ok(ServerFrame::CaughtUp { .. }) | Ok(ServerFrame::Pong { .. }) => {}
                    Ok(ServerFrame::Error { code, message }) => {
                        return Err(LinkError::Refused {
                            code,
                            message,
                            invalid: Vec::new(),
                        })
                    }
                    Err(e) => return Err(LinkError::Protocol(format!("malformed frame: {e}"))),
                },
                Some(Ok(Message::Close(_))) => {
                    return Err(LinkError::Protocol(
                        "the relay closed the connection".into(),
                    ))
                }
                Some(Ok(_)) => {}
            }
            if frames.len() >= 500 {
                break;
            }
            match ws.next().now_or_never() {
                Some(m) => next = m,
                None => break,
            }
        }
        if !backfill.is_empty() {
            // A chat that became visible: its history, below the cursor, stored first.
            let touched = blocking(cache, move |c| c.apply_history(&backfill)).await?;
            if !touched.is_empty() {
                let _ = events.send(CoreEvent::ConversationsChanged(touched));
            }
        }
        if !frames.is_empty() {
            store(cache, events, frames, &mut ws).await?;
        }
        let forgotten = match control {
            Some(ServerFrame::Scope(scope)) => {
                blocking(cache, move |c| c.keep_only(&scope)).await?
            }
            Some(ServerFrame::Forget {
                channel_id,
                chat_hash,
            }) => blocking(cache, move |c| c.forget(&channel_id, &chat_hash))
                .await?
                .into_iter()
                .collect(),
            _ => Vec::new(),
        };
        if !forgotten.is_empty() {
            let _ = events.send(CoreEvent::ConversationsChanged(forgotten));
        }
    }
}

async fn store<S>(
    cache: &Arc<Cache>,
    events: &broadcast::Sender<CoreEvent>,
    frames: Vec<EventFrame>,
    ws: &mut S,
) -> Result<(), LinkError>
where
    S: futures_util::Sink<Message> + Unpin,
    S::Error: std::fmt::Display,
{
    let applied = blocking(cache, move |c| c.apply(&frames)).await?;
    // Acknowledge only what is durable in the cache.
    let ack = ClientFrame::Ack {
        seq: applied.cursor,
    };
    ws.send(Message::text(
        serde_json::to_string(&ack).expect("frames serialize"),
    ))
    .await
    .map_err(|e| LinkError::Protocol(e.to_string()))?;
    if !applied.conversations.is_empty() {
        let _ = events.send(CoreEvent::ConversationsChanged(applied.conversations));
    }
    if !applied.inbound.is_empty() {
        let _ = events.send(CoreEvent::Inbound(applied.inbound));
    }
    if !applied.offers.is_empty() {
        let _ = events.send(CoreEvent::Offers(applied.offers));
    }
    if applied.agents_changed {
        let _ = events.send(CoreEvent::AgentsChanged);
    }
    if !applied.breaches.is_empty() {
        let _ = events.send(CoreEvent::Breaches(applied.breaches));
    }
    if !applied.reminders.is_empty() {
        let _ = events.send(CoreEvent::Reminders(applied.reminders));
    }
    Ok(())
}

async fn blocking<T: Send + 'static>(
    cache: &Arc<Cache>,
    f: impl FnOnce(&Cache) -> Result<T, crate::cache::CacheError> + Send + 'static,
) -> Result<T, LinkError> {
    let cache = cache.clone();
    tokio::task::spawn_blocking(move || f(&cache))
        .await
        .map_err(|e| LinkError::Protocol(e.to_string()))?
        .map_err(|e| LinkError::Cache(e.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_http_is_allowed_only_to_this_machine() {
        use super::{checked_base, LinkError};
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.8.9.10:8080/",
            "http://localhost:1",
            "http://[::1]:1",
            "https://relay.example.com",
            "https://10.0.0.5:8443",
        ] {
            assert!(checked_base(ok).is_ok(), "{ok} must be accepted");
        }
        for refused in [
            "http://10.0.0.5:8080",
            "http://relay.example.com",
            "http://localhost.relay.example.com",
            "http://localhost@relay.example.com",
            "http://[::ffff:10.0.0.5]:8080",
        ] {
            assert!(
                matches!(checked_base(refused), Err(LinkError::Insecure { .. })),
                "{refused} must be refused as insecure"
            );
        }
        for bad in ["ws://127.0.0.1:8080", "relay.example.com", "http://"] {
            assert!(
                matches!(checked_base(bad), Err(LinkError::BadUrl(_))),
                "{bad} is not a relay URL"
            );
        }
    }

    #[test]
    fn the_refusal_says_why_and_where_to_go_instead() {
        let err = super::checked_base("http://relay.example.com:8080/").expect_err("refused");
        let message = err.to_string();
        assert!(
            message.contains("https://relay.example.com:8080"),
            "names the https address: {message}"
        );
        assert!(
            message.contains("only to this machine"),
            "says why: {message}"
        );
    }

    #[test]
    fn a_client_for_another_machine_over_plain_http_is_never_made() {
        let tls = crate::tls::client_config(None).expect("system roots");
        let made = super::RelayClient::new(
            reqwest::Client::new(),
            tls,
            "http://10.0.0.5:8080",
            "rita",
            linedesk_line::Secret::new("token".into()),
        );
        assert!(
            matches!(made, Err(super::LinkError::Insecure { .. })),
            "RelayClient::new refuses it: {made:?}"
        );
    }
}
