//! Sending: the outbox worker.
//!
//! A message is in the outbox (durably) before anything leaves the machine. The worker then
//! hands it to the relay (`POST /api/send`), which alone holds the channel's credentials: it
//! checks that this representative may write in the conversation now, replies with the
//! conversation's reply token while it is fresh (free) or pushes with `X-Line-Retry-Key` = the
//! outbox id (metered), writes the message into the log from LINE's answer, and answers the
//! outcome. The relay is idempotent per outbox id, so asking again after a crash or a timeout
//! gets the first answer and never a second send. A reply whose outcome nobody knows comes
//! back as "delivery unknown" and is never re-sent by itself (REFERENCE.md Traps 7).

use std::sync::Arc;
use std::time::Duration;

use linedesk_protocol::{ErrorCode, SendAnswer, SendRequest, Via};
use tokio::sync::{broadcast, watch, Notify};

use crate::cache::{Cache, OutboxRow, OutboxUpdate};
use crate::relay_link::{LinkError, RelayClient};
use crate::{now_ms, CoreEvent};

/// The worker.
pub struct OutboxWorker {
    cache: Arc<Cache>,
    relay: RelayClient,
    wake: Arc<Notify>,
    events: broadcast::Sender<CoreEvent>,
}

enum Step {
    Done,
    /// The relay or LINE is unreachable or busy: try again later.
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

    async fn process(&self, row: OutboxRow) -> Step {
        match row.state.as_str() {
            // Sent before an older version reported it: the log has it from that report.
            "sent" => {
                let id = row.id.clone();
                self.cache_call(move |c| c.mark_reported(&id)).await;
                Step::Done
            }
            // Queued, or in flight when the app stopped: the relay answers a repeat with the
            // first outcome, so asking again is always safe.
            "queued" | "sending" => self.send(&row).await,
            _ => Step::Done,
        }
    }

    async fn send(&self, row: &OutboxRow) -> Step {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&row.message) else {
            return self.fail(row, "the message could not be read").await;
        };
        // Recorded before the call: after a crash the worker asks the relay again.
        self.set_state(row, "sending", None, None, None, None).await;
        let request = SendRequest {
            outbox_id: row.id.clone(),
            channel_id: row.channel_id.clone(),
            chat_id: row.chat_id.clone(),
            messages: vec![message],
        };
        match self.relay.send(&request).await {
            Ok(answer) => self.sent(row, answer).await,
            Err(LinkError::Refused { code, message, .. }) => match code {
                ErrorCode::DeliveryUnknown => {
                    self.set_state(row, "unknown", None, None, Some(message), None)
                        .await;
                    Step::Done
                }
                // Busy, throttled or failing for a moment: the same outbox id later.
                ErrorCode::RateLimited | ErrorCode::Internal | ErrorCode::Unauthenticated => {
                    tracing::info!(%message, "send will be retried");
                    Step::Later
                }
                _ => self.fail(row, &message).await,
            },
            Err(e) => {
                tracing::info!(error = %e, "send will be retried");
                Step::Later
            }
        }
    }

    async fn sent(&self, row: &OutboxRow, answer: SendAnswer) -> Step {
        let sent = serde_json::to_string(&answer.sent_messages).ok();
        self.set_state(row, "sent", Some(answer.via), None, None, sent)
            .await;
        let id = row.id.clone();
        self.cache_call(move |c| c.mark_reported(&id)).await;
        Step::Done
    }

    async fn fail(&self, row: &OutboxRow, reason: &str) -> Step {
        self.set_state(row, "failed", None, None, Some(reason.into()), None)
            .await;
        Step::Done
    }
}
