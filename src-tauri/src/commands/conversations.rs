//! Conversations, messages, sending, search and media.

use base64::Engine as _;
use linedesk_core::cache::{Conversation, Message, OutboxRow, SearchHit};
use serde::Serialize;
use tauri::State;

use crate::ipc_error::{ErrorCode, IpcError};
use crate::AppState;

#[tauri::command]
pub async fn list_conversations(state: State<'_, AppState>) -> Result<Vec<Conversation>, IpcError> {
    state.core.conversations(500).await.map_err(IpcError::from)
}

#[tauri::command]
pub async fn get_messages(
    state: State<'_, AppState>,
    conversation_id: i64,
    before: Option<i64>,
) -> Result<Vec<Message>, IpcError> {
    state
        .core
        .messages(conversation_id, before, 200)
        .await
        .map_err(IpcError::from)
}

#[tauri::command]
pub async fn mark_read(state: State<'_, AppState>, conversation_id: i64) -> Result<(), IpcError> {
    state
        .core
        .cache()
        .mark_read(conversation_id)
        .map_err(IpcError::internal)
}

#[tauri::command]
pub async fn send_text(
    state: State<'_, AppState>,
    conversation_id: i64,
    text: String,
) -> Result<OutboxRow, IpcError> {
    state
        .core
        .send_text(conversation_id, &text)
        .await
        .map_err(IpcError::from)
}

#[tauri::command]
pub async fn retry_send(state: State<'_, AppState>, outbox_id: String) -> Result<bool, IpcError> {
    state.core.retry(&outbox_id).await.map_err(IpcError::from)
}

#[tauri::command]
pub async fn search_messages(
    state: State<'_, AppState>,
    query: String,
) -> Result<Vec<SearchHit>, IpcError> {
    if query.chars().count() > 200 {
        return Err(IpcError {
            code: ErrorCode::Invalid,
            message: "search text is too long".into(),
        });
    }
    state.core.search(&query, 50).await.map_err(IpcError::from)
}

/// Media bytes for the UI (shown through a `blob:` URL, never a remote URL).
#[derive(Debug, Clone, Serialize)]
pub struct Media {
    /// `ready`, `pending` (still downloading from LINE), `gone` (unsent) or `failed`.
    pub status: String,
    /// Content type, when ready.
    pub content_type: Option<String>,
    /// Bytes, base64, when ready.
    pub data_base64: Option<String>,
}

#[tauri::command]
pub async fn fetch_media(
    state: State<'_, AppState>,
    channel_id: String,
    message_id: String,
) -> Result<Media, IpcError> {
    let valid = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if !valid(&channel_id) || !valid(&message_id) {
        return Err(IpcError {
            code: ErrorCode::Invalid,
            message: "bad media id".into(),
        });
    }
    let Some((base, token)) = state.core.session_token() else {
        return Err(IpcError {
            code: ErrorCode::SignedOut,
            message: "not signed in".into(),
        });
    };
    let resp = state
        .http
        .get(format!("{base}/api/media/{channel_id}/{message_id}"))
        .bearer_auth(token.expose())
        .send()
        .await
        .map_err(|_| IpcError {
            code: ErrorCode::Offline,
            message: "relay unreachable".into(),
        })?;
    let status = match resp.status().as_u16() {
        200 => "ready",
        202 => "pending",
        410 => "gone",
        401 => {
            return Err(IpcError {
                code: ErrorCode::Unauthenticated,
                message: "session ended".into(),
            })
        }
        _ => "failed",
    };
    if status != "ready" {
        return Ok(Media {
            status: status.into(),
            content_type: None,
            data_base64: None,
        });
    }
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = resp.bytes().await.map_err(IpcError::internal)?;
    Ok(Media {
        status: status.into(),
        content_type,
        data_base64: Some(base64::engine::general_purpose::STANDARD.encode(&bytes)),
    })
}

/// Opens a customer's shared location on OpenStreetMap in the OS browser (never inside the
/// app's webview). Only coordinates cross the boundary; the URL is built here.
#[tauri::command]
pub fn open_map(latitude: f64, longitude: f64) -> Result<(), IpcError> {
    if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
        return Err(IpcError {
            code: ErrorCode::Invalid,
            message: "coordinates out of range".into(),
        });
    }
    let url = format!(
        "https://www.openstreetmap.org/?mlat={latitude:.6}&mlon={longitude:.6}#map=17/{latitude:.6}/{longitude:.6}"
    );
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(&url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(drop)
        .map_err(IpcError::internal)
}
