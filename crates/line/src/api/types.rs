//! Answers of the non-send endpoints: profile, bot info, tokens, webhook settings, quota.

use serde::{Deserialize, Serialize};

/// `GET /v2/bot/profile/{userId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// Display name (untrusted text).
    pub display_name: String,
    /// The user.
    pub user_id: String,
    /// HTTPS picture URL, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture_url: Option<String>,
    /// Status message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// BCP-47 language, missing without consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// `GET /v2/bot/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BotInfo {
    /// The bot's user ID; equals webhook `destination`.
    pub user_id: String,
    /// `@…` basic ID.
    pub basic_id: String,
    /// Premium ID, if bought.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premium_id: Option<String>,
    /// Bot name.
    pub display_name: String,
    /// Picture URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture_url: Option<String>,
    /// `chat` or `bot`.
    pub chat_mode: String,
    /// `auto` or `manual`.
    pub mark_as_read_mode: String,
}

/// `POST /v2/oauth/verify` (short- and long-lived tokens).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// The channel the token belongs to.
    pub client_id: String,
    /// Seconds left.
    pub expires_in: i64,
    /// Scopes.
    #[serde(default)]
    pub scope: Option<String>,
}

/// `POST /oauth2/v3/token` (stateless, 15 minutes).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IssuedToken {
    /// The token (treat as a secret).
    pub access_token: String,
    /// Seconds until it expires (900).
    pub expires_in: i64,
    /// `Bearer`.
    pub token_type: String,
}

/// `GET /v2/bot/channel/webhook/endpoint`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    /// The URL.
    pub endpoint: String,
    /// The "Use webhook" switch.
    pub active: bool,
}

/// `POST /v2/bot/channel/webhook/test`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookTestResult {
    /// Whether the endpoint answered 2xx.
    pub success: bool,
    /// When the test ran (ISO-8601).
    pub timestamp: String,
    /// Status the endpoint answered (0 or negative: no answer).
    pub status_code: i32,
    /// `OK`, `COULD_NOT_CONNECT`, `REQUEST_TIMEOUT`, `ERROR_STATUS_CODE`, `UNCLASSIFIED`.
    pub reason: String,
    /// Details.
    pub detail: String,
}

/// `GET /v2/bot/message/quota`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    /// `none` (unlimited) or `limited`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Monthly target, when limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<i64>,
}

/// `GET /v2/bot/message/quota/consumption`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaConsumption {
    /// Messages sent this month (approximate).
    pub total_usage: i64,
}

/// `GET …/content/transcoding`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscodingStatus {
    /// `processing`, `succeeded` or `failed`.
    pub status: String,
}

/// Downloaded message content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// The bytes.
    pub bytes: bytes::Bytes,
    /// `Content-Type` as LINE sent it.
    pub content_type: String,
}

/// Content being received from LINE.
#[derive(Debug)]
pub struct ContentStream {
    pub(crate) resp: reqwest::Response,
    /// `Content-Type` as LINE sent it.
    pub content_type: String,
}

impl ContentStream {
    /// The next piece of the bytes, or `None` at their end.
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, super::ApiError> {
        self.resp
            .chunk()
            .await
            .map_err(|e| super::transport("content", e))
    }

    /// The length LINE declared, if any.
    pub fn declared_length(&self) -> Option<u64> {
        self.resp.content_length()
    }
}

/// The outcome of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    /// The sent messages (from the 200, or repeated by the 409).
    pub sent_messages: Vec<crate::send::SentMessage>,
    /// `true` when LINE said the retry key was already accepted (409): sent earlier, not now.
    pub already_accepted: bool,
    /// `x-line-request-id` of the answer.
    pub request_id: Option<String>,
}
