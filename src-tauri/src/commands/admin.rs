//! Admin, supervisor and contact screens: the relay's routing set-up (workstreams, queues,
//! capacities), channels, users, contacts and profile links, and a contact's export. The relay
//! checks the caller's role; the core only lets these paths through.

use tauri::State;

use crate::ipc_error::{ErrorCode, IpcError};
use crate::AppState;

fn refused(e: linedesk_core::CoreError) -> IpcError {
    use linedesk_core::relay_link::LinkError;
    use linedesk_protocol::ErrorCode as Relay;
    match e {
        // The relay's reasons are written for people (a field-by-field refusal, "close the
        // conversation first", "LINE could not be reached"): shown as they are.
        linedesk_core::CoreError::Link(LinkError::Refused { code, message })
            if code != Relay::Unauthenticated =>
        {
            let code = match code {
                Relay::BadRequest => ErrorCode::Invalid,
                Relay::Conflict | Relay::NotFound => ErrorCode::Conflict,
                Relay::Forbidden => ErrorCode::Forbidden,
                _ => ErrorCode::Internal,
            };
            IpcError { code, message }
        }
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

/// Any method on the same whitelisted relay paths (`POST` to add or act, `DELETE` to remove).
#[tauri::command]
pub async fn relay_send(
    state: State<'_, AppState>,
    method: String,
    path: String,
    body: Option<serde_json::Value>,
) -> Result<serde_json::Value, IpcError> {
    let method = match method.as_str() {
        "GET" => reqwest::Method::GET,
        "POST" => reqwest::Method::POST,
        "PUT" => reqwest::Method::PUT,
        "DELETE" => reqwest::Method::DELETE,
        _ => {
            return Err(IpcError {
                code: ErrorCode::Invalid,
                message: format!("unsupported method {method}"),
            })
        }
    };
    state
        .core
        .relay_call(method, &path, body)
        .await
        .map_err(refused)
}

/// Saves a contact's export (JSON with messages and media) into Downloads; answers the path.
#[tauri::command]
pub async fn export_contact<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    contact_id: i64,
) -> Result<String, IpcError> {
    use tokio::io::AsyncWriteExt as _;
    let doc = state
        .core
        .relay_call(
            reqwest::Method::GET,
            &format!("/api/contacts/{contact_id}/export"),
            None,
        )
        .await
        .map_err(refused)?;
    let dir = super::conversations::download_dir(&app)
        .ok_or_else(|| IpcError::internal("no download folder"))?;
    let (path, mut file) =
        super::conversations::create_unique(&dir, &format!("contact-{contact_id}.json")).await?;
    let bytes = serde_json::to_vec_pretty(&doc).map_err(IpcError::internal)?;
    file.write_all(&bytes).await.map_err(IpcError::internal)?;
    file.sync_all().await.map_err(IpcError::internal)?;
    Ok(path.display().to_string())
}
