//! `linedesk-core`: the console's brain, with no Tauri dependency.
//!
//! - [`cache`]: conversations and messages from the relay's log, full-text search (CJK and
//!   Thai included), the outbox table.
//! - [`relay_link`]: sign-in, the resumable event stream, reconnect with backoff, HTTP calls.
//! - [`outbox`]: sending by reply (free) or push with a retry key (metered), crash-safe, and the
//!   transcript report to the relay.
//! - [`credentials`]: where the session token lives (the OS keyring in the app).
//! - [`notify`]: which incoming messages deserve an OS notification.
//! - [`tls`]: which relays the console trusts: the system's roots plus an optional CA file.
//! - [`transcript`]: a relay conversation as a printable, self-contained HTML file.
//!
//! [`Core`] ties them together for one signed-in session; the Tauri shell holds one.
#![deny(missing_docs)]

pub mod cache;
pub mod credentials;
pub mod notify;
pub mod outbox;
pub mod relay_link;
pub mod tls;
pub mod transcript;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use linedesk_line::Secret;
use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;

use crate::cache::{Cache, CacheError, Conversation, Message, OutboxRow, SearchHit};
use crate::credentials::{session_account, CredentialError, CredentialStore};
use crate::relay_link::{LinkError, LinkState, RelayClient};

/// Something the UI should refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreEvent {
    /// These conversations changed (new message, profile, state).
    ConversationsChanged(Vec<i64>),
    /// Customer messages arrived (for notifications).
    Inbound(Vec<notify::Inbound>),
    /// An outbox entry changed state.
    OutboxChanged(String),
    /// The relay link changed state.
    LinkChanged,
    /// Routing made offers (to anyone; the shell alerts the ones to this user).
    Offers(Vec<(i64, linedesk_protocol::routing::ConversationSnapshot)>),
    /// A representative's presence or load changed.
    AgentsChanged,
    /// Conversations waited past their queue's service-level target.
    Breaches(Vec<notify::Breach>),
    /// Reminders came due (to anyone; the shell alerts the ones for this user).
    Reminders(Vec<notify::Reminder>),
    /// An upload is under way.
    Upload {
        /// Conversation it goes to.
        conversation_id: i64,
        /// File name.
        file_name: String,
        /// Bytes sent so far.
        sent: u64,
        /// Bytes in all.
        total: u64,
    },
}

/// Errors of [`Core`] operations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// The cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The relay link failed.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The credential store failed.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// The TLS settings (the relay CA file) are unusable.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// Not signed in.
    #[error("not signed in")]
    SignedOut,
    /// The message is empty or longer than LINE allows.
    #[error("a text message must have 1 to 5000 characters (LINE counts UTF-16 units)")]
    BadText,
    /// Not a picture (a quick reply's picture must be one).
    #[error("only a picture can go with a quick reply")]
    NotAPicture,
    /// A sticker LINE does not let bots send.
    #[error("LINE lets bots send only the stickers of its list")]
    BadSticker,
    /// A background task failed.
    #[error("background task failed: {0}")]
    Task(String),
    /// A transcript cannot be made as asked.
    #[error("cannot export the transcript: {0}")]
    Transcript(String),
}

/// A transcript ready to save.
#[derive(Debug, Clone)]
pub struct Transcript {
    /// A file name for it (made safe by whoever writes it).
    pub file_name: String,
    /// The HTML.
    pub html: String,
}

struct Session {
    client: RelayClient,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

struct Inner {
    cache: Arc<Cache>,
    credentials: Arc<dyn CredentialStore>,
    http: reqwest::Client,
    /// The websocket's TLS settings; the same roots as `http`.
    tls: Arc<rustls::ClientConfig>,
    device: String,
    session: Mutex<Option<Session>>,
    link: watch::Sender<LinkState>,
    events: broadcast::Sender<CoreEvent>,
    outbox_wake: Arc<Notify>,
}

/// The console's core: cheap to clone.
#[derive(Clone)]
pub struct Core {
    inner: Arc<Inner>,
}

/// Current time, UTC milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Settings the shell passes when it opens the core.
#[derive(Debug, Clone, Default)]
pub struct CoreConfig {
    /// A PEM file of CA certificates to trust besides the system's roots, for a relay whose
    /// certificate comes from a private CA (`LINEDESK_RELAY_CA` in the app).
    pub relay_ca: Option<PathBuf>,
}

impl Core {
    /// Opens the cache in `data_dir`. Nothing connects until [`Core::sign_in`] or [`Core::resume`].
    pub fn open(
        data_dir: &Path,
        credentials: Arc<dyn CredentialStore>,
        device: &str,
    ) -> Result<Self, CoreError> {
        Self::open_with_config(data_dir, credentials, device, &CoreConfig::default())
    }

    /// Like [`Core::open`], with settings (a CA file for a self-hosted relay).
    pub fn open_with_config(
        data_dir: &Path,
        credentials: Arc<dyn CredentialStore>,
        device: &str,
        config: &CoreConfig,
    ) -> Result<Self, CoreError> {
        let tls = tls::client_config(config.relay_ca.as_deref())?;
        let cache = Arc::new(Cache::open(data_dir)?);
        // reqwest may speak HTTP/2 to a TLS proxy in front of the relay, so its copy offers h2;
        // the websocket's copy offers nothing, which means HTTP/1.1, the only way to upgrade.
        let mut http_tls = (*tls).clone();
        http_tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(http_tls)
            .timeout(std::time::Duration::from_secs(30))
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("reqwest client builds (it and this crate share one rustls version)");
        let (link, _) = watch::channel(LinkState::SignedOut);
        let (events, _) = broadcast::channel(1024);
        Ok(Self {
            inner: Arc::new(Inner {
                cache,
                credentials,
                http,
                tls,
                device: device.into(),
                session: Mutex::new(None),
                link,
                events,
                outbox_wake: Arc::new(Notify::new()),
            }),
        })
    }

    /// The HTTP client that trusts the relay (the shell fetches media with it).
    pub fn relay_http(&self) -> reqwest::Client {
        self.inner.http.clone()
    }

    /// The cache (for reads; call from a blocking thread).
    pub fn cache(&self) -> &Arc<Cache> {
        &self.inner.cache
    }

    /// UI refresh events.
    pub fn subscribe(&self) -> broadcast::Receiver<CoreEvent> {
        self.inner.events.subscribe()
    }

    /// The relay link's state.
    pub fn link_state(&self) -> watch::Receiver<LinkState> {
        self.inner.link.subscribe()
    }

    /// Signs in, keeps the session token in the credential store, and starts streaming.
    pub async fn sign_in(
        &self,
        relay_url: &str,
        user: &str,
        password: &str,
    ) -> Result<(), CoreError> {
        let (client, login) = RelayClient::login(
            self.inner.http.clone(),
            self.inner.tls.clone(),
            relay_url,
            user,
            password,
            &self.inner.device,
        )
        .await?;
        let same_relay =
            self.blocking(|c| c.meta("relay_url")).await?.as_deref() == Some(client.base());
        let same_user = self.blocking(|c| c.meta("user")).await?.as_deref() == Some(&client.user);
        if !same_relay || !same_user {
            // Another relay's events, or another person's customers, must not mix with these.
            self.blocking(|c| c.clear()).await?;
        }
        let (base, name) = (client.base().to_owned(), client.user.clone());
        let role = login.role.as_str();
        let (account, token) = (session_account(&base, &name), client.token().clone());
        self.credentials(move |k| k.set(&account, &token)).await?;
        self.blocking(move |c| {
            c.set_meta("relay_url", &base)?;
            c.set_meta("role", role)?;
            c.set_meta("user", &name)
        })
        .await?;
        self.start(client);
        Ok(())
    }

    /// Resumes the last session from the credential store, if there is one.
    pub async fn resume(&self) -> Result<bool, CoreError> {
        let (Some(base), Some(user)) = (
            self.blocking(|c| c.meta("relay_url")).await?,
            self.blocking(|c| c.meta("user")).await?,
        ) else {
            return Ok(false);
        };
        let account = session_account(&base, &user);
        let Some(token) = self.credentials(move |k| k.get(&account)).await? else {
            return Ok(false);
        };
        self.start(RelayClient::new(
            self.inner.http.clone(),
            self.inner.tls.clone(),
            &base,
            &user,
            token,
        )?);
        Ok(true)
    }

    /// Signs out: ends the session on the relay (best effort: an unreachable relay ends it
    /// when it expires), stops streaming and deletes the token from the keyring. The cache
    /// stays for the next sign-in of the same person; another person's sign-in clears it.
    pub async fn sign_out(&self) -> Result<(), CoreError> {
        let session = self.inner.session.lock().expect("session lock").take();
        if let Some(s) = session {
            if let Err(e) = s.client.logout().await {
                tracing::warn!(error = %e, "the relay did not end the session; it ends when it expires");
            }
            s.stop.send_replace(true);
            let account = session_account(s.client.base(), &s.client.user);
            self.credentials(move |k| k.delete(&account)).await?;
            for t in s.tasks {
                let _ = t.await;
            }
        }
        self.inner.link.send_replace(LinkState::SignedOut);
        let _ = self.inner.events.send(CoreEvent::LinkChanged);
        Ok(())
    }

    /// Stops background work (app exit); the session stays in the credential store.
    pub async fn shutdown(&self) {
        let session = self.inner.session.lock().expect("session lock").take();
        if let Some(s) = session {
            s.stop.send_replace(true);
            for t in s.tasks {
                let _ = t.await;
            }
        }
    }

    fn start(&self, client: RelayClient) {
        let (stop, stop_rx) = watch::channel(false);
        let link = tokio::spawn(relay_link::run(
            client.clone(),
            self.inner.cache.clone(),
            self.inner.link.clone(),
            self.inner.events.clone(),
            stop_rx.clone(),
        ));
        let worker = outbox::OutboxWorker::new(
            self.inner.cache.clone(),
            client.clone(),
            self.inner.outbox_wake.clone(),
            self.inner.events.clone(),
        );
        let sender = tokio::spawn(worker.run(stop_rx));
        let old = self
            .inner
            .session
            .lock()
            .expect("session lock")
            .replace(Session {
                client,
                stop,
                tasks: vec![link, sender],
            });
        if let Some(old) = old {
            old.stop.send_replace(true);
        }
    }

    /// Who is signed in.
    pub fn user(&self) -> Option<String> {
        self.inner
            .session
            .lock()
            .expect("session lock")
            .as_ref()
            .map(|s| s.client.user.clone())
    }

    /// Queues a text message to a conversation; it survives a crash from this moment.
    pub async fn send_text(
        &self,
        conversation_id: i64,
        text: &str,
    ) -> Result<OutboxRow, CoreError> {
        self.send_text_quoting(conversation_id, text, None).await
    }

    /// Queues a sticker from LINE's sendable list
    /// ([`linedesk_line::send::SENDABLE_STICKERS`]).
    pub async fn send_sticker(
        &self,
        conversation_id: i64,
        package_id: &str,
        sticker_id: &str,
    ) -> Result<OutboxRow, CoreError> {
        if !linedesk_line::send::is_sendable_sticker(package_id, sticker_id) {
            return Err(CoreError::BadSticker);
        }
        self.send_message(
            conversation_id,
            serde_json::json!({"type": "sticker", "packageId": package_id, "stickerId": sticker_id}),
        )
        .await
    }

    /// Queues a text message quoting an earlier message of the chat (its `quoteToken`).
    pub async fn send_text_quoting(
        &self,
        conversation_id: i64,
        text: &str,
        quote_token: Option<&str>,
    ) -> Result<OutboxRow, CoreError> {
        let units = linedesk_line::send::utf16_len(text);
        if text.trim().is_empty() || units > linedesk_line::send::TEXT_MAX_UTF16 {
            return Err(CoreError::BadText);
        }
        if quote_token.is_some_and(|q| q.is_empty() || q.len() > 200) {
            return Err(CoreError::BadText);
        }
        let message = match quote_token {
            Some(q) => serde_json::json!({"type": "text", "text": text, "quoteToken": q}),
            None => serde_json::json!({"type": "text", "text": text}),
        };
        self.send_message(conversation_id, message).await
    }

    /// Queues any LINE message object.
    pub async fn send_message(
        &self,
        conversation_id: i64,
        message: serde_json::Value,
    ) -> Result<OutboxRow, CoreError> {
        let user = self.user().ok_or(CoreError::SignedOut)?;
        let id = uuid::Uuid::new_v4().to_string();
        let row = self
            .blocking(move |c| c.enqueue(conversation_id, &id, &message, &user, now_ms()))
            .await?;
        self.inner.outbox_wake.notify_one();
        let _ = self
            .inner
            .events
            .send(CoreEvent::ConversationsChanged(vec![conversation_id]));
        Ok(row)
    }

    /// Retries a failed or "delivery unknown" message (the representative decided to).
    pub async fn retry(&self, outbox_id: &str) -> Result<bool, CoreError> {
        let id = outbox_id.to_owned();
        let requeued = self.blocking(move |c| c.requeue(&id, now_ms())).await?;
        self.inner.outbox_wake.notify_one();
        Ok(requeued)
    }

    /// Conversations, most recent first.
    pub async fn conversations(&self, limit: usize) -> Result<Vec<Conversation>, CoreError> {
        self.blocking(move |c| c.conversations(limit)).await
    }

    /// A page of a conversation, oldest first.
    pub async fn messages(
        &self,
        conversation_id: i64,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Message>, CoreError> {
        self.blocking(move |c| c.messages(conversation_id, before, limit))
            .await
    }

    /// One call of the relay's set-up, contact and profile API; the relay checks the role.
    pub async fn call<C: linedesk_protocol::api::Call>(
        &self,
        call: &C,
    ) -> Result<C::Answer, CoreError> {
        Ok(self.client()?.call(call).await?)
    }

    /// The team's quick replies and this user's own. Kept in the cache each time the relay
    /// answers, so the picker works while the relay cannot be reached.
    pub async fn quick_replies(
        &self,
    ) -> Result<Vec<linedesk_protocol::replies::QuickReply>, CoreError> {
        const KEY: &str = "quick_replies";
        match self
            .call(&linedesk_protocol::api::ListQuickReplies {})
            .await
        {
            Ok(list) => {
                let text = serde_json::to_string(&list).unwrap_or_default();
                self.blocking(move |c| c.set_meta(KEY, &text)).await?;
                Ok(list)
            }
            Err(e @ CoreError::Link(LinkError::Unreachable { .. })) => {
                let kept = self.blocking(|c| c.meta(KEY)).await?;
                kept.and_then(|t| serde_json::from_str(&t).ok()).ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Sets this representative's presence.
    pub async fn set_presence(
        &self,
        presence: linedesk_protocol::routing::Presence,
    ) -> Result<linedesk_protocol::routing::AgentSnapshot, CoreError> {
        Ok(self.client()?.set_presence(presence).await?)
    }

    /// Uploads a quick reply's picture (an image: anything else is refused) for any channel;
    /// the relay checks each workstream's permission when it is sent.
    pub async fn upload_reply_picture(
        &self,
        file_name: &str,
        bytes: bytes::Bytes,
    ) -> Result<linedesk_protocol::Uploaded, CoreError> {
        let uploaded = self
            .client()?
            .upload(None, file_name, bytes, |_, _| {})
            .await?;
        if uploaded.kind != "image" {
            return Err(CoreError::NotAPicture);
        }
        Ok(uploaded)
    }

    /// Sends quick reply `reply_id`'s picture in a conversation: only a picture of a reply the
    /// relay keeps (and so checked as one of its own uploads) goes out this way.
    pub async fn send_reply_picture(
        &self,
        conversation_id: i64,
        reply_id: i64,
    ) -> Result<OutboxRow, CoreError> {
        let image = self
            .quick_replies()
            .await?
            .into_iter()
            .find(|r| r.id == reply_id)
            .and_then(|r| r.image)
            .ok_or(CoreError::NotAPicture)?;
        self.send_message(
            conversation_id,
            serde_json::json!({
                "type": "image", "originalContentUrl": image.url,
                "previewImageUrl": image.preview_url,
            }),
        )
        .await
    }

    /// Sends a file: uploads it to the relay (progress as [`CoreEvent::Upload`]), then queues
    /// the LINE message naming its URL: image, video or audio by URL, anything else as a link
    /// (LINE bots cannot send files). `duration_ms` is the audio's length.
    pub async fn send_attachment(
        &self,
        conversation_id: i64,
        file_name: &str,
        bytes: bytes::Bytes,
        duration_ms: Option<u64>,
    ) -> Result<OutboxRow, CoreError> {
        let conv = self
            .blocking(move |c| c.conversation(conversation_id))
            .await?;
        let events = self.inner.events.clone();
        let name = file_name.to_owned();
        let uploaded = self
            .client()?
            .upload(
                Some(&conv.channel_id),
                file_name,
                bytes,
                move |sent, total| {
                    let _ = events.send(CoreEvent::Upload {
                        conversation_id,
                        file_name: name.clone(),
                        sent,
                        total,
                    });
                },
            )
            .await?;
        let message = match uploaded.kind.as_str() {
            "image" | "video" => serde_json::json!({
                "type": uploaded.kind, "originalContentUrl": uploaded.url,
                "previewImageUrl": uploaded.preview_url.unwrap_or_else(|| uploaded.url.clone()),
            }),
            "audio" => serde_json::json!({
                "type": "audio", "originalContentUrl": uploaded.url,
                "duration": duration_ms.unwrap_or(1_000).max(1),
            }),
            _ => serde_json::json!({
                "type": "text", "text": format!("📎 {}\n{}", uploaded.file_name, uploaded.url),
            }),
        };
        self.send_message(conversation_id, message).await
    }

    /// A customer's media from the relay, as the relay answered (see [`RelayClient::media`]).
    pub async fn media(
        &self,
        channel_id: &str,
        message_id: &str,
    ) -> Result<reqwest::Response, CoreError> {
        Ok(self.client()?.media(channel_id, message_id).await?)
    }

    /// A sticker's, LINE emoji's or customer's picture from the relay, as the relay answered.
    pub async fn picture(
        &self,
        picture: &relay_link::Picture,
    ) -> Result<reqwest::Response, CoreError> {
        Ok(self.client()?.picture(picture).await?)
    }

    /// Relay conversation `episode_id` of chat `conversation_id` as a printable HTML file,
    /// worded by `text`, times in IANA zone `zone`. Made from this console's cache (only what
    /// its user may see); pictures come from the relay as thumbnails, at most
    /// [`transcript::MAX_PICTURES`] of them.
    pub async fn transcript(
        &self,
        conversation_id: i64,
        episode_id: &str,
        text: transcript::TranscriptText,
        zone: &str,
    ) -> Result<Transcript, CoreError> {
        use futures_util::StreamExt as _;
        if let Some(problem) = transcript::check_text(&text) {
            return Err(CoreError::Transcript(problem));
        }
        // Pictures come through the relay with this session.
        self.client()?;
        let zone = jiff::tz::TimeZone::get(zone)
            .map_err(|_| CoreError::Transcript(format!("unknown time zone {zone:?}")))?;
        let id = episode_id.to_owned();
        let found = self
            .blocking(move |c| {
                let episodes = c.episodes(conversation_id)?;
                let first = |a, b| c.first_inbound(conversation_id, a, b).ok().flatten();
                let Some((from, to)) = transcript::span(&episodes, &id, first) else {
                    return Ok(None);
                };
                let episode = episodes.into_iter().find(|e| e.id == id);
                let conversation = c.conversation(conversation_id)?;
                let messages = c.messages_between(conversation_id, from, to)?;
                Ok(episode.map(|e| (e, conversation, messages)))
            })
            .await?;
        let (episode, conversation, messages) =
            found.ok_or_else(|| CoreError::Transcript("no such conversation".into()))?;
        if episode.closed_at.is_none() {
            return Err(CoreError::Transcript(
                "the conversation is not closed yet".into(),
            ));
        }
        let opened = jiff::Timestamp::from_millisecond(episode.opened_at)
            .map(|t| t.to_zoned(zone.clone()).strftime("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let wanted: Vec<(i64, transcript::PictureSource)> = messages
            .iter()
            .filter_map(|m| transcript::picture_of(m, &conversation.channel_id).map(|p| (m.id, p)))
            .take(transcript::MAX_PICTURES)
            .collect();
        let pictures: std::collections::HashMap<i64, String> = futures_util::stream::iter(wanted)
            .map(|(id, source)| async move {
                let bytes = self.picture_bytes(&source).await?;
                let thumb = tokio::task::spawn_blocking(move || transcript::thumbnail(&bytes))
                    .await
                    .ok()
                    .flatten()?;
                Some((id, thumb))
            })
            .buffer_unordered(4)
            .filter_map(std::future::ready)
            .collect()
            .await;
        let file_name = format!("{} {opened}.html", text.title.trim());
        let html = tokio::task::spawn_blocking(move || {
            transcript::render(&transcript::Document {
                text: &text,
                zone: &zone,
                messages: &messages,
                pictures: &pictures,
            })
        })
        .await
        .map_err(|e| CoreError::Task(e.to_string()))?;
        Ok(Transcript { file_name, html })
    }

    /// The bytes of a picture for a transcript; `None` when it is not (or no longer) there.
    async fn picture_bytes(&self, source: &transcript::PictureSource) -> Option<bytes::Bytes> {
        match source {
            transcript::PictureSource::Customer {
                channel_id,
                message_id,
            } => {
                let mut resp = self.media(channel_id, message_id).await.ok()?;
                if resp.status() != reqwest::StatusCode::OK
                    || resp
                        .content_length()
                        .is_some_and(|n| n > transcript::MAX_PICTURE_BYTES)
                {
                    return None;
                }
                let mut out = Vec::new();
                while let Some(chunk) = resp.chunk().await.ok()? {
                    out.extend_from_slice(&chunk);
                    if out.len() as u64 > transcript::MAX_PICTURE_BYTES {
                        return None;
                    }
                }
                Some(out.into())
            }
            transcript::PictureSource::Sent { url } => {
                self.fetch_upload(url, true).await.ok().map(|(_, b)| b)
            }
        }
    }

    /// The bytes of something this console uploaded (for showing what was sent).
    pub async fn fetch_upload(
        &self,
        url: &str,
        preview: bool,
    ) -> Result<(String, bytes::Bytes), CoreError> {
        Ok(self.client()?.fetch_upload(url, preview).await?)
    }

    /// A routing command (accept, reject, wait, end, close, transfer, consult, join) on the
    /// relay's conversation `id`.
    pub async fn act(
        &self,
        id: &str,
        action: &str,
        body: serde_json::Value,
    ) -> Result<linedesk_protocol::routing::CommandAnswer, CoreError> {
        Ok(self.client()?.act(id, action, &body).await?)
    }

    /// Tells the customer of relay conversation `id` what LINE's app shows: `typing` (the
    /// loading animation) or `read` (their messages marked read). Whether LINE was told.
    pub async fn signal(&self, id: &str, action: &str) -> Result<bool, CoreError> {
        if !matches!(action, "typing" | "read") {
            return Err(CoreError::Link(LinkError::Protocol(format!(
                "no signal {action:?}"
            ))));
        }
        let answer: linedesk_protocol::routing::SignalAnswer = self
            .client()?
            .act(id, action, &serde_json::json!({}))
            .await?;
        Ok(answer.sent)
    }

    /// Has the relay send `text` in relay conversation `id` at `at` (UTC ms), by push.
    pub async fn send_later(
        &self,
        id: &str,
        text: &str,
        at: i64,
    ) -> Result<linedesk_protocol::routing::LaterMessage, CoreError> {
        let body = serde_json::json!({"text": text, "at": at});
        Ok(self.client()?.act(id, "later", &body).await?)
    }

    /// The "send later" messages waiting in relay conversation `id`.
    pub async fn later_waiting(
        &self,
        id: &str,
    ) -> Result<Vec<linedesk_protocol::routing::LaterMessage>, CoreError> {
        Ok(self.client()?.later_waiting(id).await?)
    }

    /// Cancels a waiting "send later" message.
    pub async fn cancel_later(&self, id: &str, later: &str) -> Result<(), CoreError> {
        let _: serde_json::Value = self
            .client()?
            .act(id, "later-cancel", &serde_json::json!({"id": later}))
            .await?;
        Ok(())
    }

    /// Every representative's presence and load, as the relay last said.
    pub async fn agents(
        &self,
    ) -> Result<Vec<linedesk_protocol::routing::AgentSnapshot>, CoreError> {
        self.blocking(|c| c.agents()).await
    }

    /// The relay conversations of one chat, newest first (past conversations).
    pub async fn episodes(
        &self,
        conversation_id: i64,
    ) -> Result<Vec<linedesk_protocol::routing::ConversationSnapshot>, CoreError> {
        self.blocking(move |c| c.episodes(conversation_id)).await
    }

    fn client(&self) -> Result<RelayClient, CoreError> {
        self.inner
            .session
            .lock()
            .expect("session lock")
            .as_ref()
            .map(|s| s.client.clone())
            .ok_or(CoreError::SignedOut)
    }

    /// Every unsent draft, by conversation.
    pub async fn drafts(&self) -> Result<Vec<cache::Draft>, CoreError> {
        self.blocking(|c| c.drafts()).await
    }

    /// Keeps what the representative typed into a conversation (empty: forgets it); durable
    /// when this returns. Answers false for a conversation no longer in the cache.
    pub async fn save_draft(&self, conversation_id: i64, text: &str) -> Result<bool, CoreError> {
        if text.encode_utf16().count() > cache::MAX_DRAFT_UNITS {
            return Err(CoreError::BadText);
        }
        let text = text.to_owned();
        self.blocking(move |c| c.set_draft(conversation_id, &text, now_ms()))
            .await
    }

    /// What the team answered to past questions most like the customer's newest one in
    /// conversation `conversation_id` (nothing once it is answered).
    pub async fn suggest(
        &self,
        conversation_id: i64,
    ) -> Result<Vec<cache::suggest::Suggestion>, CoreError> {
        self.blocking(move |c| c.suggest_for(conversation_id, 3))
            .await
    }

    /// Full-text search.
    pub async fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, CoreError> {
        let q = query.to_owned();
        self.blocking(move |c| c.search(&q, limit)).await
    }

    /// Runs `f` on the credential store off the async workers: the OS keyring answers over
    /// synchronous D-Bus calls.
    async fn credentials<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn CredentialStore) -> Result<T, CredentialError> + Send + 'static,
    ) -> Result<T, CoreError> {
        let store = self.inner.credentials.clone();
        off_workers(move || f(store.as_ref())).await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Cache) -> Result<T, CacheError> + Send + 'static,
    ) -> Result<T, CoreError> {
        let cache = self.inner.cache.clone();
        off_workers(move || f(&cache)).await
    }

    /// The session token, for callers that fetch media from the relay.
    pub fn session_token(&self) -> Option<(String, Secret<String>)> {
        self.inner
            .session
            .lock()
            .expect("session lock")
            .as_ref()
            .map(|s| (s.client.base().to_owned(), s.client.token().clone()))
    }
}

/// Runs `f` on tokio's blocking pool (SQLite, the keyring's D-Bus calls), so it never holds up
/// an async worker.
async fn off_workers<T, E>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, CoreError>
where
    T: Send + 'static,
    E: Send + 'static,
    CoreError: From<E>,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CoreError::Task(e.to_string()))?
        .map_err(CoreError::from)
}
