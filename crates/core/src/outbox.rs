//! Sending: the outbox worker.
//!
//! A message is in the outbox (durably) before anything goes to LINE. The worker then uses the
//! reply API while the conversation's reply token is fresh (free) and push otherwise (metered),
//! with `X-Line-Retry-Key` = the outbox id on every push attempt, so a retry after a crash or a
//! timeout can never double-send (409 means LINE already accepted it). A reply that times out
//! is "delivery unknown" and is never re-sent by itself (REFERENCE.md Traps 7). Once LINE
//! accepts, the worker reports the message to the relay, idempotently by outbox id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use linedesk_line::api::{ApiError, Endpoints, LineClient};
use linedesk_line::send::Message;
use linedesk_line::Secret;
use linedesk_protocol::{ChannelToken, TranscriptReport, Via};
use tokio::sync::{broadcast, watch, Notify};

use crate::cache::{Cache, OutboxRow, OutboxUpdate};
use crate::relay_link::RelayClient;
use crate::{now_ms, CoreEvent};

/// A reply token older than this goes by push instead (LINE: about a minute; keep a margin).
pub const REPLY_TOKEN_MAX_AGE_MS: i64 = 50_000;

/// The worker.
pub struct OutboxWorker {
    cache: Arc<Cache>,
    relay: RelayClient,
    tokens: Mutex<HashMap<String, ChannelToken>>,
    wake: Arc<Notify>,
    events: broadcast::Sender<CoreEvent>,
}

enum Step {
    Done,
    /// LINE or the relay is unreachable: try again later.
    Later,
}

impl OutboxWorker {
    /// A worker for one session.
    pub fn new(
        cache: Arc<Cache>,
        relay: RelayClient,
        wake: Arc<Notify>,
        events: broadcast::Sender<CoreEvent>,
    ) -> Self {
        Self {
            cache,
            relay,
            tokens: Mutex::new(HashMap::new()),
            wake,
            events,
        }
    }

    /// Works the outbox until shutdown; woken by new sends and every few seconds.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            let pending = self
                .cache_call(|c| c.outbox_pending())
                .await
                .unwrap_or_default();
            let mut later = false;
            for row in pending {
                if *shutdown.borrow() {
                    return;
                }
                if let Step::Later = self.process(row).await {
                    later = true;
                }
            }
            let pause = if later {
                Duration::from_secs(3)
            } else {
                Duration::from_secs(30)
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    async fn cache_call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Cache) -> Result<T, crate::cache::CacheError> + Send + 'static,
    ) -> Option<T> {
        let cache = self.cache.clone();
        match tokio::task::spawn_blocking(move || f(&cache)).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "outbox cache operation failed");
                None
            }
            Err(e) => {
                tracing::error!(error = %e, "outbox cache task failed");
                None
            }
        }
    }

    async fn set_state(
        &self,
        row: &OutboxRow,
        state: &'static str,
        via: Option<Via>,
        token: Option<String>,
        error: Option<String>,
        sent: Option<String>,
    ) {
        let id = row.id.clone();
        let via = via.map(|v| v.as_str());
        self.cache_call(move |c| {
            let update = OutboxUpdate {
                state,
                via,
                reply_token: token.as_deref(),
                error: error.as_deref(),
                sent_messages: sent.as_deref(),
            };
            c.set_outbox_state(&id, &update, now_ms())
        })
        .await;
        let _ = self.events.send(CoreEvent::OutboxChanged(row.id.clone()));
    }

    async fn client_for(&self, channel_id: &str) -> Option<LineClient> {
        let cached = self
            .tokens
            .lock()
            .expect("token lock")
            .get(channel_id)
            .cloned();
        let token = match cached {
            Some(t) if t.expires_at - now_ms() > 60_000 => t,
            _ => match self.relay.channel_token(channel_id).await {
                Ok(t) => {
                    self.tokens
                        .lock()
                        .expect("token lock")
                        .insert(channel_id.into(), t.clone());
                    t
                }
                Err(e) => {
                    tracing::info!(error = %e, "no channel token; send waits");
                    return None;
                }
            },
        };
        Some(LineClient::new(
            Endpoints {
                api_base: token.api_base.clone(),
                data_base: token.api_data_base.clone(),
            },
            Secret::new(token.access_token.clone()),
        ))
    }

    async fn process(&self, row: OutboxRow) -> Step {
        match row.state.as_str() {
            "sent" => self.report(&row).await,
            // A crash during a reply: LINE may or may not have it. Never resend blindly.
            "sending" if row.via.as_deref() == Some("reply") => {
                self.set_state(
                    &row,
                    "unknown",
                    None,
                    None,
                    Some("the app stopped while this reply was being sent".into()),
                    None,
                )
                .await;
                Step::Done
            }
            "sending" => self.push(&row).await,
            "queued" => self.send(&row).await,
            _ => Step::Done,
        }
    }

    async fn send(&self, row: &OutboxRow) -> Step {
        let (channel, chat) = (row.channel_id.clone(), row.chat_id.clone());
        let token = self
            .cache_call(move |c| {
                c.take_reply_token(&channel, &chat, now_ms(), REPLY_TOKEN_MAX_AGE_MS)
            })
            .await
            .flatten();
        match token {
            Some(token) => self.reply(row, token).await,
            None => self.push(row).await,
        }
    }

    fn message_of(row: &OutboxRow) -> Option<Message> {
        serde_json::from_str(&row.message).ok()
    }

    async fn reply(&self, row: &OutboxRow, token: String) -> Step {
        let Some(client) = self.client_for(&row.channel_id).await else {
            return Step::Later;
        };
        let Some(message) = Self::message_of(row) else {
            return self.fail(row, "the message could not be read").await;
        };
        self.set_state(
            row,
            "sending",
            Some(Via::Reply),
            Some(token.clone()),
            None,
            None,
        )
        .await;
        match client.reply(&token, vec![message]).await {
            Ok(resp) => {
                let sent = serde_json::to_string(&resp.sent_messages).ok();
                self.set_state(row, "sent", Some(Via::Reply), None, None, sent)
                    .await;
                let mut row = row.clone();
                row.via = Some("reply".into());
                row.sent_messages = serde_json::to_string(&resp.sent_messages).ok();
                self.report(&row).await
            }
            // LINE sent nothing (errors are all-or-nothing): the token was stale; push instead.
            Err(ApiError::Status { status: 400, .. }) => {
                self.set_state(row, "queued", Some(Via::Push), None, None, None)
                    .await;
                self.push(row).await
            }
            Err(e @ ApiError::Transport { .. }) => {
                self.set_state(
                    row,
                    "unknown",
                    Some(Via::Reply),
                    None,
                    Some(e.to_string()),
                    None,
                )
                .await;
                Step::Done
            }
            Err(e) => self.fail(row, &line_reason(&e)).await,
        }
    }

    async fn push(&self, row: &OutboxRow) -> Step {
        let Some(client) = self.client_for(&row.channel_id).await else {
            return Step::Later;
        };
        let Some(message) = Self::message_of(row) else {
            return self.fail(row, "the message could not be read").await;
        };
        // Recorded before the call: after a crash we know to retry with the same key.
        self.set_state(row, "sending", Some(Via::Push), None, None, None)
            .await;
        match client.push(&row.chat_id, vec![message], &row.id).await {
            Ok(out) => {
                let sent = serde_json::to_string(&out.sent_messages).ok();
                self.set_state(row, "sent", Some(Via::Push), None, None, sent.clone())
                    .await;
                let mut row = row.clone();
                row.via = Some("push".into());
                row.sent_messages = sent;
                self.report(&row).await
            }
            Err(e) if e.is_retryable() => {
                // Stays "sending": the next attempt reuses the retry key.
                tracing::info!(error = %e, "push will be retried");
                Step::Later
            }
            Err(e) => {
                if self
                    .tokens
                    .lock()
                    .expect("token lock")
                    .remove(&row.channel_id)
                    .is_some()
                    && e.status() == Some(401)
                {
                    return Step::Later;
                }
                self.fail(row, &line_reason(&e)).await
            }
        }
    }

    async fn fail(&self, row: &OutboxRow, reason: &str) -> Step {
        self.set_state(row, "failed", None, None, Some(reason.into()), None)
            .await;
        Step::Done
    }

    async fn report(&self, row: &OutboxRow) -> Step {
        let message: serde_json::Value = serde_json::from_str(&row.message).unwrap_or_default();
        let sent: Vec<serde_json::Value> = row
            .sent_messages
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        let report = TranscriptReport {
            outbox_id: row.id.clone(),
            channel_id: row.channel_id.clone(),
            chat_id: row.chat_id.clone(),
            via: if row.via.as_deref() == Some("reply") {
                Via::Reply
            } else {
                Via::Push
            },
            messages: vec![message],
            sent_messages: sent,
            sent_at: now_ms(),
        };
        match self.relay.report(&report).await {
            Ok(()) => {
                let id = row.id.clone();
                self.cache_call(move |c| c.mark_reported(&id)).await;
                Step::Done
            }
            Err(e) => {
                tracing::info!(error = %e, "transcript report will be retried");
                Step::Later
            }
        }
    }
}

/// LINE's reason, in words for the representative.
fn line_reason(e: &ApiError) -> String {
    match e {
        ApiError::Status { body, .. } if e.is_monthly_limit() => {
            format!("LINE's monthly message limit is reached ({})", body.message)
        }
        ApiError::Status { status, body, .. } => {
            let details: Vec<String> = body
                .details
                .iter()
                .filter_map(|d| d.message.clone())
                .collect();
            if details.is_empty() {
                format!("LINE refused ({status}): {}", body.message)
            } else {
                format!(
                    "LINE refused ({status}): {} ({})",
                    body.message,
                    details.join("; ")
                )
            }
        }
        other => other.to_string(),
    }
}
