//! Errors from LINE's APIs: typed, with LINE's error body and `x-line-request-id`.

use serde::{Deserialize, Serialize};

/// LINE's error JSON. Messaging API endpoints send `{message, details}`; OAuth endpoints send
/// `{error, error_description}`; both are folded into one shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// `message`, or the OAuth `error_description`/`error`.
    #[serde(default)]
    pub message: String,
    /// Field-level problems (`details[]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
    /// OAuth `error` code, when the endpoint uses that shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One entry of `details[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// What is wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Which property, e.g. `messages[0].text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
}

impl ErrorBody {
    /// Reads an error body of either shape; a body that is not JSON becomes the message.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            message: Option<String>,
            #[serde(default)]
            details: Vec<ErrorDetail>,
            #[serde(default)]
            error: Option<String>,
            #[serde(default)]
            error_description: Option<String>,
        }
        match serde_json::from_slice::<Raw>(bytes) {
            Ok(raw) => ErrorBody {
                message: raw
                    .message
                    .or(raw.error_description)
                    .or_else(|| raw.error.clone())
                    .unwrap_or_default(),
                details: raw.details,
                error: raw.error,
            },
            Err(_) => ErrorBody {
                message: String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).into_owned(),
                ..Default::default()
            },
        }
    }
}

/// What went wrong talking to LINE.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// LINE answered with an error status.
    #[error("line answered {status} to {endpoint}: {}", body.message)]
    Status {
        /// Which call, e.g. `push`.
        endpoint: &'static str,
        /// HTTP status.
        status: u16,
        /// LINE's error body.
        body: ErrorBody,
        /// `x-line-request-id`, for LINE support.
        request_id: Option<String>,
    },
    /// The request did not complete (connect error or timeout); it may or may not have arrived.
    #[error("request to line {endpoint} failed: {source}")]
    Transport {
        /// Which call.
        endpoint: &'static str,
        /// Whether it timed out (for a reply: "delivery unknown").
        timed_out: bool,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// LINE answered 2xx but the body was not what the spec says.
    #[error("line's answer to {endpoint} could not be read: {message}")]
    Decode {
        /// Which call.
        endpoint: &'static str,
        /// What did not parse.
        message: String,
    },
    /// Content was unsent by the user (410) and is gone for good.
    #[error("content of message {message_id} is gone (unsent)")]
    ContentGone {
        /// The message.
        message_id: String,
    },
    /// Video or audio preparation failed on LINE's side.
    #[error("line could not prepare content of message {message_id}")]
    TranscodingFailed {
        /// The message.
        message_id: String,
    },
    /// Video or audio was still being prepared when we stopped waiting.
    #[error("content of message {message_id} still being prepared after waiting")]
    ContentNotReady {
        /// The message.
        message_id: String,
    },
    /// A URL could not be built from the configured base.
    #[error("invalid line api url: {0}")]
    Url(String),
}

impl ApiError {
    /// HTTP status, if LINE answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The monthly message limit was hit: retrying cannot help (Traps 11).
    pub fn is_monthly_limit(&self) -> bool {
        matches!(self, ApiError::Status { status: 429, body, .. } if body.message.contains("monthly limit"))
    }

    /// Whether the same request may be sent again: 5xx, transport failures, and rate-limit 429s.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Status { status, .. } => {
                *status >= 500 || (*status == 429 && !self.is_monthly_limit())
            }
            ApiError::Transport { .. } => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_error_shapes() {
        let m = ErrorBody::from_bytes(br#"{"message":"Invalid reply token"}"#);
        assert_eq!(m.message, "Invalid reply token");
        let o = ErrorBody::from_bytes(
            br#"{"error":"invalid_request","error_description":"The access token expired"}"#,
        );
        assert_eq!(o.message, "The access token expired");
        assert_eq!(o.error.as_deref(), Some("invalid_request"));
        let junk = ErrorBody::from_bytes(b"<html>bad gateway</html>");
        assert!(
            junk.message.contains("bad gateway"),
            "non-JSON kept as text"
        );
    }

    #[test]
    fn monthly_limit_is_not_retryable() {
        let e = ApiError::Status {
            endpoint: "push",
            status: 429,
            body: ErrorBody {
                message: "You have reached your monthly limit.".into(),
                ..Default::default()
            },
            request_id: None,
        };
        assert!(e.is_monthly_limit());
        assert!(!e.is_retryable(), "monthly limit is terminal");
    }
}
