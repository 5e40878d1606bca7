//! Work distribution: presence, accept / reject / wait / end / close / transfer, colleagues'
//! presence, a chat's past conversations.

use linedesk_protocol::routing::{AgentSnapshot, CommandAnswer, ConversationSnapshot, Presence};
use tauri::State;

use crate::ipc_error::IpcError;
use crate::AppState;

#[tauri::command]
pub async fn set_presence(
    state: State<'_, AppState>,
    presence: Presence,
) -> Result<AgentSnapshot, IpcError> {
    state
        .core
        .set_presence(presence)
        .await
        .map_err(IpcError::from)
}

/// `action`: accept, reject, wait, end, close, transfer (`body`: `{toUser}` or `{toQueue}`).
#[tauri::command]
pub async fn act_conversation(
    state: State<'_, AppState>,
    id: String,
    action: String,
    body: Option<serde_json::Value>,
) -> Result<CommandAnswer, IpcError> {
    let body = body.unwrap_or_else(|| serde_json::json!({}));
    state
        .core
        .act(&id, &action, body)
        .await
        .map_err(IpcError::from)
}

#[tauri::command]
pub async fn list_agents(state: State<'_, AppState>) -> Result<Vec<AgentSnapshot>, IpcError> {
    state.core.agents().await.map_err(IpcError::from)
}

#[tauri::command]
pub async fn list_episodes(
    state: State<'_, AppState>,
    conversation_id: i64,
) -> Result<Vec<ConversationSnapshot>, IpcError> {
    state
        .core
        .episodes(conversation_id)
        .await
        .map_err(IpcError::from)
}

/// `typing` (LINE's loading animation for the customer) or `read` (their messages marked
/// read) on relay conversation `id`; whether LINE was told.
#[tauri::command]
pub async fn signal_conversation(
    state: State<'_, AppState>,
    id: String,
    action: String,
) -> Result<bool, IpcError> {
    if !matches!(action.as_str(), "typing" | "read") {
        return Err(IpcError {
            code: crate::ipc_error::ErrorCode::Invalid,
            message: "typing or read".into(),
            invalid: Vec::new(),
        });
    }
    state
        .core
        .signal(&id, &action)
        .await
        .map_err(IpcError::from)
}

/// Has the relay send `text` in relay conversation `id` at `at` (UTC ms).
#[tauri::command]
pub async fn send_later(
    state: State<'_, AppState>,
    id: String,
    text: String,
    at: i64,
) -> Result<linedesk_protocol::routing::LaterMessage, IpcError> {
    state
        .core
        .send_later(&id, &text, at)
        .await
        .map_err(IpcError::from)
}

/// The "send later" messages waiting in relay conversation `id`.
#[tauri::command]
pub async fn list_later(
    state: State<'_, AppState>,
    id: String,
) -> Result<Vec<linedesk_protocol::routing::LaterMessage>, IpcError> {
    state.core.later_waiting(&id).await.map_err(IpcError::from)
}

/// Cancels a waiting "send later" message.
#[tauri::command]
pub async fn cancel_later(
    state: State<'_, AppState>,
    id: String,
    later: String,
) -> Result<(), IpcError> {
    state
        .core
        .cancel_later(&id, &later)
        .await
        .map_err(IpcError::from)
}
