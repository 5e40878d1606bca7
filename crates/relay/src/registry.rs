//! The channels this relay serves, with credentials opened, shared by the webhook handler
//! (secret), the media pipeline (LINE client) and the admin view.
//!
//! `linedesk-relay channel add` writes the database while `serve` runs, so the registry is
//! reloaded every two seconds, and at once when a webhook names a channel it does not know.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::store::channels::Channel;
use crate::vault::Vault;
use crate::Relay;
use linedesk_line::api::{Endpoints, LineClient};

/// A served channel.
#[derive(Debug)]
pub struct ChannelEntry {
    /// ID, name and credentials.
    pub channel: Channel,
    /// Messaging API client with the channel's token.
    pub client: LineClient,
    /// The ID as a shared string (event log key).
    pub id: Arc<str>,
}

/// Channel ID → entry.
pub struct Registry {
    channels: RwLock<HashMap<String, Arc<ChannelEntry>>>,
    vault: Vault,
    http: reqwest::Client,
    last_miss_reload: std::sync::Mutex<Option<std::time::Instant>>,
    deleted: RwLock<std::collections::HashSet<String>>,
    /// Channels whose credentials do not open with this relay's key: (id, why).
    unreadable: RwLock<Vec<(String, String)>>,
    /// The bot's user ID of each channel whose ID is known (added from the console).
    bots: RwLock<HashMap<String, String>>,
}

impl Registry {
    /// An empty registry.
    pub fn new(vault: Vault, http: reqwest::Client) -> Self {
        Self {
            channels: RwLock::new(HashMap::new()),
            vault,
            http,
            last_miss_reload: std::sync::Mutex::new(None),
            deleted: RwLock::default(),
            unreadable: RwLock::default(),
            bots: RwLock::default(),
        }
    }

    /// The relay key.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The shared HTTP client for LINE calls.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Number of channels.
    pub fn len(&self) -> usize {
        self.channels.read().expect("registry lock").len()
    }

    /// Whether no channel is configured.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entry for a channel ID.
    pub fn get(&self, id: &str) -> Option<Arc<ChannelEntry>> {
        self.channels
            .read()
            .expect("registry lock")
            .get(id)
            .cloned()
    }

    /// Whether an admin deleted this channel (its webhooks get 410).
    pub fn is_deleted(&self, id: &str) -> bool {
        self.deleted.read().expect("registry lock").contains(id)
    }

    /// The bot's user ID of a channel, when known (the webhook's `destination`).
    pub fn bot_of(&self, channel: &str) -> Option<String> {
        self.bots
            .read()
            .expect("registry lock")
            .get(channel)
            .cloned()
    }

    /// Replaces the known bot user IDs.
    pub fn set_bots(&self, bots: HashMap<String, String>) {
        *self.bots.write().expect("registry lock") = bots;
    }

    /// Channels set aside because their credentials do not open: (id, why).
    pub fn unreadable(&self) -> Vec<(String, String)> {
        self.unreadable.read().expect("registry lock").clone()
    }

    /// Records the channels set aside; logs each newly found one once.
    pub fn set_unreadable(&self, list: Vec<(String, String)>) {
        let mut current = self.unreadable.write().expect("registry lock");
        for (id, why) in &list {
            if !current.iter().any(|(known, _)| known == id) {
                tracing::error!(channel = %id, reason = %why, "channel credentials do not open with this relay's key; the channel is not served");
            }
        }
        *current = list;
    }

    /// Replaces the set of deleted channel IDs.
    pub fn set_deleted(&self, ids: Vec<String>) {
        *self.deleted.write().expect("registry lock") = ids.into_iter().collect();
    }

    /// Replaces the set of channels, reusing entries whose credentials did not change.
    pub fn replace(&self, channels: Vec<Channel>) {
        let mut map = self.channels.write().expect("registry lock");
        let mut next = HashMap::with_capacity(channels.len());
        for ch in channels {
            let same = map.get(&ch.id).is_some_and(|old| {
                old.channel.secret == ch.secret
                    && old.channel.token == ch.token
                    && old.channel.api_base == ch.api_base
                    && old.channel.api_data_base == ch.api_data_base
                    && old.channel.name == ch.name
                    && old.channel.deleted_at == ch.deleted_at
            });
            let entry = if same {
                map.remove(&ch.id).expect("checked above")
            } else {
                let endpoints = Endpoints {
                    api_base: ch.api_base.clone(),
                    data_base: ch.api_data_base.clone(),
                };
                let client = LineClient::with_http(self.http.clone(), endpoints, ch.token.clone());
                Arc::new(ChannelEntry {
                    id: Arc::from(ch.id.as_str()),
                    client,
                    channel: ch,
                })
            };
            next.insert(entry.channel.id.clone(), entry);
        }
        *map = next;
    }

    /// Whether an unknown-channel miss may trigger a reload now (at most twice a second).
    pub fn may_reload_on_miss(&self) -> bool {
        let mut last = self.last_miss_reload.lock().expect("miss lock");
        let now = std::time::Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < Duration::from_millis(500)) {
            return false;
        }
        *last = Some(now);
        true
    }
}

/// Reloads channels every two seconds until shutdown.
pub async fn refresh_loop(relay: Relay) {
    let mut stop = relay.shutdown_signal();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = relay.reload_channels().await {
            tracing::warn!(error = %e, "could not reload channels");
        }
    }
}
