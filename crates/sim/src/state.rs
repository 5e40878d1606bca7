//! The simulator's memory: the channel, its tokens, customers, what the bot sent, content,
//! reply tokens, retry keys, quota and injected faults. One `Mutex`, never held across `.await`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The simulated channel.
#[derive(Debug, Clone)]
pub struct ChannelConfig {
    /// Channel ID.
    pub channel_id: String,
    /// Channel secret (signs webhooks, issues tokens).
    pub channel_secret: String,
    /// The long-lived access token the API accepts.
    pub access_token: String,
    /// The bot's user ID (`destination`).
    pub bot_user_id: String,
    /// Bot name.
    pub bot_name: String,
}

/// Behaviour knobs, adjustable through `POST /sim/settings`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// How long a reply token works after its event (LINE: about a minute).
    pub reply_token_ttl_ms: u64,
    /// How long content stays downloadable (LINE: undisclosed; then 404).
    pub content_ttl_ms: u64,
    /// How long video/audio stay "processing" (202) after being sent.
    pub transcoding_ms: u64,
    /// Monthly push limit; `None` = unlimited.
    pub quota_limit: Option<i64>,
    /// How long a stateless token lives (LINE: 900 s).
    pub stateless_token_ttl_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            reply_token_ttl_ms: 60_000,
            content_ttl_ms: 7 * 24 * 3_600_000,
            transcoding_ms: 300,
            quota_limit: None,
            stateless_token_ttl_ms: 900_000,
        }
    }
}

/// A simulated LINE user in a 1:1 chat with the bot.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// `U` + 32 hex digits.
    pub user_id: String,
    /// Display name.
    pub display_name: String,
    /// BCP-47 language (`zh-TW`, `ja`, `th`, `en`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Picture URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture_url: Option<String>,
    /// Status message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// Whether they follow (are friends with) the bot.
    pub following: bool,
    /// Whether they blocked the bot.
    pub blocked: bool,
}

/// How a bot message reached a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// Reply API (free).
    Reply,
    /// Push API (metered).
    Push,
}

/// One message the bot sent, as the customer received it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    /// LINE message ID given to it.
    pub id: String,
    /// Reply or push.
    pub via: Via,
    /// The push's `X-Line-Retry-Key`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_key: Option<String>,
    /// The message object as sent.
    pub message: Value,
    /// When, UTC ms.
    pub at: i64,
    /// Whether the customer could see it (blocked customers do not, though LINE answers 200).
    pub delivered: bool,
}

/// Content a customer sent.
#[derive(Debug, Clone)]
pub struct StoredContent {
    /// Bytes.
    pub bytes: bytes::Bytes,
    /// Content type.
    pub content_type: String,
    /// Sent at.
    pub created: Instant,
    /// Still "processing" until then (video, audio).
    pub ready_at: Option<Instant>,
    /// Unsent by the customer: 410.
    pub gone: bool,
}

/// A retry key LINE has accepted.
#[derive(Debug, Clone)]
pub struct AcceptedKey {
    /// The original request's ID.
    pub request_id: String,
    /// The original answer's `sentMessages`.
    pub sent_messages: Value,
    /// When accepted (keys are remembered for 24 h).
    pub at: Instant,
}

/// A reply token handed out in a webhook.
#[derive(Debug, Clone)]
pub struct ReplyToken {
    /// Who can be replied to.
    pub user_id: String,
    /// Issued at.
    pub issued: Instant,
    /// Already used.
    pub used: bool,
}

/// An injected fault.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fault {
    /// Applies to requests whose path starts with this (e.g. `/v2/bot/message/push`).
    pub path: String,
    /// Answer this status with LINE's error body; `None` = only delay, then answer normally.
    #[serde(default)]
    pub status: Option<u16>,
    /// Error message; defaults to LINE's text for the status.
    #[serde(default)]
    pub message: Option<String>,
    /// Wait this long first (a slow answer, or a timeout for the client).
    #[serde(default)]
    pub delay_ms: u64,
    /// How many requests it applies to.
    #[serde(default = "one")]
    pub count: u32,
    /// Apply the fault after processing the request (the request took effect, the answer is lost).
    #[serde(default)]
    pub after: bool,
    /// Send the answer's body at this rate (a slow link).
    #[serde(default)]
    pub bytes_per_second: Option<u64>,
}

fn one() -> u32 {
    1
}

/// A webhook POST the simulator made.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Events' `webhookEventId`s.
    pub webhook_event_ids: Vec<String>,
    /// HTTP status, or 0 if it could not connect.
    pub status: u16,
    /// Whether it was a redelivery.
    pub redelivery: bool,
    /// When, UTC ms.
    pub at: i64,
}

/// A response the simulator produced (kept when recording, for spec validation).
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Status.
    pub status: u16,
    /// Response content type.
    pub content_type: String,
    /// Body bytes as text (JSON answers only).
    pub body: String,
}

/// Everything the simulator remembers.
#[derive(Debug)]
pub struct SimState {
    /// The channel.
    pub channel: ChannelConfig,
    /// Knobs.
    pub settings: Settings,
    /// Webhook URL, as set by CLI or `PUT /v2/bot/channel/webhook/endpoint`.
    pub webhook_url: Option<String>,
    /// "Use webhook".
    pub webhook_active: bool,
    /// Stateless tokens issued → expiry.
    pub stateless_tokens: HashMap<String, Instant>,
    /// Customers by user ID, and creation order.
    pub customers: HashMap<String, Customer>,
    /// Creation order of customers.
    pub customer_order: Vec<String>,
    /// What each customer received.
    pub received: HashMap<String, Vec<Received>>,
    /// Reply tokens.
    pub reply_tokens: HashMap<String, ReplyToken>,
    /// Accepted retry keys.
    pub retry_keys: HashMap<String, AcceptedKey>,
    /// Content by message ID.
    pub content: HashMap<String, StoredContent>,
    /// Pushes counted this month (reply is free).
    pub push_count: i64,
    /// Active faults.
    pub faults: Vec<Fault>,
    /// Webhook POSTs made.
    pub deliveries: Vec<Delivery>,
    /// Every event sent, by `webhookEventId`, for redelivery.
    pub sent_events: HashMap<String, Value>,
    /// Recorded responses (when recording is on).
    pub recorded: Option<Vec<Recorded>>,
    /// Loading animations and mark-as-read calls LINE accepted, in order.
    pub signals: Vec<serde_json::Value>,
    /// Message ID counter.
    pub next_message_id: u64,
    /// Where the simulator serves, once it does (customers' default profile pictures).
    pub base_url: Option<String>,
}

impl SimState {
    /// A fresh state for a channel.
    pub fn new(channel: ChannelConfig, webhook_url: Option<String>) -> Self {
        Self {
            channel,
            settings: Settings::default(),
            webhook_active: webhook_url.is_some(),
            webhook_url,
            stateless_tokens: HashMap::new(),
            customers: HashMap::new(),
            customer_order: Vec::new(),
            received: HashMap::new(),
            reply_tokens: HashMap::new(),
            retry_keys: HashMap::new(),
            content: HashMap::new(),
            push_count: 0,
            faults: Vec::new(),
            deliveries: Vec::new(),
            sent_events: HashMap::new(),
            recorded: None,
            signals: Vec::new(),
            next_message_id: 600_000_000_000_000,
            base_url: None,
        }
    }

    /// A new LINE message ID (numeric string, as LINE's).
    pub fn message_id(&mut self) -> String {
        self.next_message_id += 1;
        self.next_message_id.to_string()
    }

    /// Whether `token` is the channel's long-lived token or a live stateless one.
    pub fn is_valid_token(&mut self, token: &str) -> bool {
        if token == self.channel.access_token {
            return true;
        }
        let now = Instant::now();
        self.stateless_tokens.retain(|_, exp| *exp > now);
        self.stateless_tokens.contains_key(token)
    }

    /// Issues a reply token for a customer's event.
    pub fn issue_reply_token(&mut self, user_id: &str) -> String {
        let token = uuid::Uuid::new_v4().simple().to_string();
        self.reply_tokens.insert(
            token.clone(),
            ReplyToken {
                user_id: user_id.into(),
                issued: Instant::now(),
                used: false,
            },
        );
        token
    }

    /// The reply token TTL.
    pub fn reply_ttl(&self) -> Duration {
        Duration::from_millis(self.settings.reply_token_ttl_ms)
    }
}
