//! The Messaging API client (reqwest with rustls).
//!
//! One [`LineClient`] per channel access token. Base URLs are configurable ([`Endpoints`]) so
//! the same client talks to `linedesk-sim` in tests and the demo.
//!
//! Retries only where they are safe (REFERENCE.md §4, §14): reads (profile, content, bot info,
//! quota, webhook get) and push *with* its retry key are retried after a 5xx, a timeout or a
//! rate-limit 429, with exponential backoff; reply is never retried (a timed-out reply is
//! "delivery unknown", Traps 7); the monthly-limit 429 is terminal.

mod error;
mod types;

pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use types::*;

use std::time::Duration;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::secret::Secret;
use crate::send::{Message, PushRequest, ReplyRequest, SendResponse};

/// LINE's production hosts.
pub const API_BASE: &str = "https://api.line.me";
/// LINE's content host.
pub const DATA_BASE: &str = "https://api-data.line.me";

/// Where the API lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `https://api.line.me` or the simulator.
    pub api_base: String,
    /// `https://api-data.line.me` or the simulator.
    pub data_base: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            api_base: API_BASE.into(),
            data_base: DATA_BASE.into(),
        }
    }
}

impl Endpoints {
    /// Both hosts at one base URL (the simulator serves both).
    pub fn single(base: &str) -> Self {
        let base = base.trim_end_matches('/').to_owned();
        Self {
            api_base: base.clone(),
            data_base: base,
        }
    }
}

/// How often and how patiently to retry safe calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Delay before the first retry; doubles each time.
    pub base_delay: Duration,
    /// Longest wait for video/audio preparation (202) before giving up.
    pub transcoding_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            transcoding_wait: Duration::from_secs(120),
        }
    }
}

/// A Messaging API client for one channel access token.
#[derive(Clone)]
pub struct LineClient {
    http: reqwest::Client,
    endpoints: Endpoints,
    token: Secret<String>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for LineClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineClient")
            .field("endpoints", &self.endpoints)
            .field("token", &self.token)
            .finish()
    }
}

const HEADER_REQUEST_ID: &str = "x-line-request-id";
/// Whole-call deadline for API calls with small answers (content downloads have none: only
/// [`READ_TIMEOUT`] between bytes).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest silence while reading any answer (content included).
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);
const HEADER_RETRY_KEY: &str = "X-Line-Retry-Key";

impl LineClient {
    /// A client with a 30 s request timeout.
    pub fn new(endpoints: Endpoints, token: Secret<String>) -> Self {
        let http = reqwest::Client::builder()
            .read_timeout(READ_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("reqwest client with rustls builds");
        Self::with_http(http, endpoints, token)
    }

    /// A client sharing a `reqwest::Client` (connection pool) with others.
    pub fn with_http(http: reqwest::Client, endpoints: Endpoints, token: Secret<String>) -> Self {
        Self {
            http,
            endpoints,
            token,
            retry: RetryPolicy::default(),
        }
    }

    /// Changes the retry policy (tests use short delays).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The endpoints this client talks to.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// `POST /v2/bot/message/reply`. Never retried: the token is single-use.
    pub async fn reply(
        &self,
        reply_token: &str,
        messages: Vec<Message>,
    ) -> Result<SendResponse, ApiError> {
        let body = ReplyRequest {
            reply_token: reply_token.into(),
            messages,
            notification_disabled: false,
        };
        let req = self.api(Method::POST, "/v2/bot/message/reply").json(&body);
        let resp = self.send_once("reply", req).await?;
        decode("reply", resp).await
    }

    /// `POST /v2/bot/message/push` with `X-Line-Retry-Key: retry_key` (a UUID the caller persisted
    /// before the first attempt). Retried after 5xx/timeout with the same key; a 409 means an
    /// earlier attempt was accepted, and yields its sent messages.
    pub async fn push(
        &self,
        to: &str,
        messages: Vec<Message>,
        retry_key: &str,
    ) -> Result<PushOutcome, ApiError> {
        let body = PushRequest {
            to: to.into(),
            messages,
            notification_disabled: false,
        };
        let bytes = serde_json::to_vec(&body).map_err(|e| ApiError::Decode {
            endpoint: "push",
            message: e.to_string(),
        })?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let req = self
                .api(Method::POST, "/v2/bot/message/push")
                .header(HEADER_RETRY_KEY, retry_key)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes.clone());
            let err = match req.send().await {
                Ok(resp) if resp.status() == StatusCode::CONFLICT => {
                    let request_id = request_id(&resp);
                    let raw = resp.bytes().await.unwrap_or_default();
                    let parsed: SendResponse =
                        serde_json::from_slice(&raw).unwrap_or(SendResponse {
                            sent_messages: vec![],
                        });
                    return Ok(PushOutcome {
                        sent_messages: parsed.sent_messages,
                        already_accepted: true,
                        request_id,
                    });
                }
                Ok(resp) => match check("push", resp).await {
                    Ok(resp) => {
                        let request_id = request_id(&resp);
                        let parsed: SendResponse = decode("push", resp).await?;
                        return Ok(PushOutcome {
                            sent_messages: parsed.sent_messages,
                            already_accepted: false,
                            request_id,
                        });
                    }
                    Err(e) => e,
                },
                Err(e) => transport("push", e),
            };
            if !err.is_retryable() || attempt >= self.retry.max_attempts {
                return Err(err);
            }
            tokio::time::sleep(self.backoff(attempt)).await;
        }
    }

    /// `GET /v2/bot/message/{id}/content`, waiting out 202 ("being prepared") by polling
    /// `/content/transcoding`. A 410 (unsent) is [`ApiError::ContentGone`].
    pub async fn content(&self, message_id: &str) -> Result<Content, ApiError> {
        let mut stream = self.content_stream(message_id).await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.chunk().await? {
            bytes.extend_from_slice(&chunk);
        }
        Ok(Content {
            bytes: bytes.into(),
            content_type: stream.content_type,
        })
    }

    /// Like [`LineClient::content`], but the bytes are read chunk by chunk
    /// ([`ContentStream::chunk`]), so a big file never sits in memory whole.
    pub async fn content_stream(&self, message_id: &str) -> Result<ContentStream, ApiError> {
        let started = tokio::time::Instant::now();
        let path = format!("/v2/bot/message/{}/content", encode(message_id));
        loop {
            let resp = self
                .send_retrying("content", || self.data(Method::GET, &path))
                .await;
            let resp = match resp {
                Err(ApiError::Status { status: 410, .. }) => {
                    return Err(ApiError::ContentGone {
                        message_id: message_id.into(),
                    })
                }
                other => other?,
            };
            if resp.status() == StatusCode::ACCEPTED {
                // Not ready: wait for preparation, never keep the empty 202 body (Traps 10).
                self.wait_transcoding(message_id, started).await?;
                continue;
            }
            let content_type = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_owned();
            return Ok(ContentStream { resp, content_type });
        }
    }

    async fn wait_transcoding(
        &self,
        message_id: &str,
        started: tokio::time::Instant,
    ) -> Result<(), ApiError> {
        let mut delay = self.retry.base_delay;
        loop {
            if started.elapsed() > self.retry.transcoding_wait {
                return Err(ApiError::ContentNotReady {
                    message_id: message_id.into(),
                });
            }
            match self.transcoding_status(message_id).await?.status.as_str() {
                "succeeded" => return Ok(()),
                "failed" => {
                    return Err(ApiError::TranscodingFailed {
                        message_id: message_id.into(),
                    })
                }
                _ => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// `GET /v2/bot/message/{id}/content/transcoding`.
    pub async fn transcoding_status(
        &self,
        message_id: &str,
    ) -> Result<TranscodingStatus, ApiError> {
        let path = format!("/v2/bot/message/{}/content/transcoding", encode(message_id));
        self.get_json("transcoding", || self.data(Method::GET, &path))
            .await
    }

    /// `GET /v2/bot/profile/{userId}`.
    pub async fn profile(&self, user_id: &str) -> Result<Profile, ApiError> {
        let path = format!("/v2/bot/profile/{}", encode(user_id));
        self.get_json("profile", || self.api(Method::GET, &path))
            .await
    }

    /// `POST /v2/bot/chat/loading/start` (1:1 only, 5–60 s in steps of 5).
    pub async fn show_loading(&self, chat_id: &str, seconds: u32) -> Result<(), ApiError> {
        let req = self
            .api(Method::POST, "/v2/bot/chat/loading/start")
            .json(&serde_json::json!({"chatId": chat_id, "loadingSeconds": seconds}));
        self.send_once("loading", req).await.map(drop)
    }

    /// `POST /v2/bot/chat/markAsRead` with a webhook's `markAsReadToken`.
    pub async fn mark_as_read(&self, mark_as_read_token: &str) -> Result<(), ApiError> {
        let body = serde_json::json!({"markAsReadToken": mark_as_read_token});
        self.send_retrying("markAsRead", || {
            self.api(Method::POST, "/v2/bot/chat/markAsRead")
                .json(&body)
        })
        .await
        .map(drop)
    }

    /// `GET /v2/bot/info`.
    pub async fn bot_info(&self) -> Result<BotInfo, ApiError> {
        self.get_json("botInfo", || self.api(Method::GET, "/v2/bot/info"))
            .await
    }

    /// `POST /v2/oauth/verify`: checks this client's (long- or short-lived) token.
    pub async fn verify_token(&self) -> Result<TokenInfo, ApiError> {
        let form = [("access_token", self.token.expose().as_str())];
        let url = format!("{}/v2/oauth/verify", self.endpoints.api_base);
        self.get_json("verifyToken", || self.http.post(&url).form(&form))
            .await
    }

    /// `POST /oauth2/v3/token`: a stateless 15-minute token from channel ID and secret.
    pub async fn issue_stateless_token(
        http: &reqwest::Client,
        endpoints: &Endpoints,
        channel_id: &str,
        channel_secret: &Secret<String>,
    ) -> Result<Secret<String>, ApiError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", channel_id),
            ("client_secret", channel_secret.expose().as_str()),
        ];
        let url = format!("{}/oauth2/v3/token", endpoints.api_base);
        let resp = http
            .post(&url)
            .form(&form)
            .send()
            .await
            .map_err(|e| transport("issueToken", e))?;
        let token: IssuedToken = decode("issueToken", check("issueToken", resp).await?).await?;
        Ok(Secret::new(token.access_token))
    }

    /// `GET /v2/bot/channel/webhook/endpoint`.
    pub async fn webhook_endpoint(&self) -> Result<WebhookEndpoint, ApiError> {
        self.get_json("getWebhook", || {
            self.api(Method::GET, "/v2/bot/channel/webhook/endpoint")
        })
        .await
    }

    /// `PUT /v2/bot/channel/webhook/endpoint` (takes up to a minute to apply at LINE).
    pub async fn set_webhook_endpoint(&self, endpoint: &str) -> Result<(), ApiError> {
        let body = serde_json::json!({"endpoint": endpoint});
        self.send_retrying("setWebhook", || {
            self.api(Method::PUT, "/v2/bot/channel/webhook/endpoint")
                .json(&body)
        })
        .await
        .map(drop)
    }

    /// `POST /v2/bot/channel/webhook/test` (60 per hour; not retried).
    pub async fn test_webhook(
        &self,
        endpoint: Option<&str>,
    ) -> Result<WebhookTestResult, ApiError> {
        let body = match endpoint {
            Some(e) => serde_json::json!({"endpoint": e}),
            None => serde_json::json!({}),
        };
        let req = self
            .api(Method::POST, "/v2/bot/channel/webhook/test")
            .json(&body);
        decode("testWebhook", self.send_once("testWebhook", req).await?).await
    }

    /// `GET /v2/bot/message/quota`.
    pub async fn quota(&self) -> Result<Quota, ApiError> {
        self.get_json("quota", || self.api(Method::GET, "/v2/bot/message/quota"))
            .await
    }

    /// `GET /v2/bot/message/quota/consumption`.
    pub async fn quota_consumption(&self) -> Result<QuotaConsumption, ApiError> {
        self.get_json("consumption", || {
            self.api(Method::GET, "/v2/bot/message/quota/consumption")
        })
        .await
    }

    /// A call whose answer is small: it must be over within [`CALL_TIMEOUT`].
    fn api(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.endpoints.api_base, path))
            .timeout(CALL_TIMEOUT)
            .bearer_auth(self.token.expose())
    }

    /// A call on the content host. Content can be hundreds of megabytes over a slow link, so
    /// no deadline covers the whole answer; the client's per-read deadline catches a stall.
    fn data(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.endpoints.data_base, path))
            .bearer_auth(self.token.expose())
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<T, ApiError> {
        decode(endpoint, self.send_retrying(endpoint, make).await?).await
    }

    async fn send_once(
        &self,
        endpoint: &'static str,
        req: RequestBuilder,
    ) -> Result<reqwest::Response, ApiError> {
        let resp = req.send().await.map_err(|e| transport(endpoint, e))?;
        check(endpoint, resp).await
    }

    async fn send_retrying(
        &self,
        endpoint: &'static str,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<reqwest::Response, ApiError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.send_once(endpoint, make()).await {
                Ok(resp) => return Ok(resp),
                Err(e) if e.is_retryable() && attempt < self.retry.max_attempts => {
                    tracing::debug!(endpoint, attempt, error = %e, "retrying line call");
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        // Exponential with a little jitter from the clock, so many consoles do not retry in step.
        let base = self.retry.base_delay * 2u32.saturating_pow(attempt.saturating_sub(1));
        let jitter_ms = u64::from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_millis())
                .unwrap_or(0),
        ) % (self.retry.base_delay.as_millis() as u64 / 4 + 1);
        base + Duration::from_millis(jitter_ms)
    }
}

fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

fn request_id(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get(HEADER_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub(crate) fn transport(endpoint: &'static str, source: reqwest::Error) -> ApiError {
    ApiError::Transport {
        endpoint,
        timed_out: source.is_timeout(),
        source,
    }
}

async fn check(
    endpoint: &'static str,
    resp: reqwest::Response,
) -> Result<reqwest::Response, ApiError> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status().as_u16();
    let request_id = request_id(&resp);
    let bytes = resp.bytes().await.unwrap_or_default();
    let body = ErrorBody::from_bytes(&bytes);
    tracing::warn!(endpoint, status, request_id = request_id.as_deref().unwrap_or("-"), message = %body.message, "line api error");
    Err(ApiError::Status {
        endpoint,
        status,
        body,
        request_id,
    })
}

async fn decode<T: DeserializeOwned>(
    endpoint: &'static str,
    resp: reqwest::Response,
) -> Result<T, ApiError> {
    let bytes = resp.bytes().await.map_err(|e| transport(endpoint, e))?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode {
        endpoint,
        message: e.to_string(),
    })
}

/// Serialises any body LINE takes; exposed for the simulator's validation tests.
pub fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("LINE request types always serialize")
}
