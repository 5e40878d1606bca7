//! Errors as the UI sees them: `{code, message}`. The UI branches on `code`, never on text.

use linedesk_core::relay_link::LinkError;
use linedesk_core::CoreError;
use serde::Serialize;

/// Stable error codes the UI branches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Wrong user name or password, or the session ended.
    Unauthenticated,
    /// The relay cannot be reached.
    Offline,
    /// The input is not acceptable (empty message, bad URL).
    Invalid,
    /// Not signed in.
    SignedOut,
    /// Someone else was first, or the offer lapsed.
    Conflict,
    /// The user's role may not do this.
    Forbidden,
    /// Anything else; the log has details.
    Internal,
}

/// An error returned by a command.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct IpcError {
    /// Stable code.
    pub code: ErrorCode,
    /// Safe, short description (the UI shows its own localized text by code).
    pub message: String,
    /// For entries the relay refused: each field and why, worded by the UI under that field.
    pub invalid: Vec<linedesk_protocol::Invalid>,
}

impl From<CoreError> for IpcError {
    fn from(e: CoreError) -> Self {
        tracing::warn!(error = %e, "command failed");
        let code = match &e {
            CoreError::Link(LinkError::Refused {
                code: linedesk_protocol::ErrorCode::Unauthenticated,
                ..
            }) => ErrorCode::Unauthenticated,
            CoreError::Link(LinkError::Unreachable { .. }) => ErrorCode::Offline,
            // An insecure relay URL is a sign-in form mistake: the message says to use https://.
            CoreError::Link(LinkError::BadUrl(_) | LinkError::Insecure { .. })
            | CoreError::BadText
            | CoreError::BadSticker
            | CoreError::NotAPicture
            | CoreError::Transcript(_) => ErrorCode::Invalid,
            CoreError::SignedOut => ErrorCode::SignedOut,
            CoreError::Link(LinkError::Refused {
                code:
                    linedesk_protocol::ErrorCode::Conflict | linedesk_protocol::ErrorCode::NotFound,
                ..
            }) => ErrorCode::Conflict,
            CoreError::Link(LinkError::Refused {
                code: linedesk_protocol::ErrorCode::Forbidden,
                ..
            }) => ErrorCode::Forbidden,
            _ => ErrorCode::Internal,
        };
        IpcError {
            code,
            message: e.to_string(),
            invalid: Vec::new(),
        }
    }
}

impl IpcError {
    /// An internal error with a logged cause.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "command failed");
        IpcError {
            code: ErrorCode::Internal,
            message: "something went wrong; see the log".into(),
            invalid: Vec::new(),
        }
    }
}
