//! Admin and supervisor screens: read and write the relay's routing set-up (workstreams,
//! queues, capacities). The relay checks the caller's role; the core only lets these paths
//! through.

use tauri::State;

use crate::ipc_error::{ErrorCode, IpcError};
use crate::AppState;

fn refused(e: linedesk_core::CoreError) -> IpcError {
    use linedesk_core::relay_link::LinkError;
    match e {
        // The relay's field-by-field reason is shown to the admin as it is.
        linedesk_core::CoreError::Link(LinkError::Refused {
            code: linedesk_protocol::ErrorCode::BadRequest,
            message,
        }) => IpcError {
            code: ErrorCode::Invalid,
            message,
        },
        other => IpcError::from(other),
    }
}

#[tauri::command]
pub async fn relay_get(
    state: State<'_, AppState>,
    path: String,
) -> Result<serde_json::Value, IpcError> {
    state.core.relay_get(&path).await.map_err(refused)
}

#[tauri::command]
pub async fn relay_put(
    state: State<'_, AppState>,
    path: String,
    body: serde_json::Value,
) -> Result<serde_json::Value, IpcError> {
    state.core.relay_put(&path, body).await.map_err(refused)
}
