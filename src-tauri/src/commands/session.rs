//! Sign-in, sign-out and the connection state.

use linedesk_core::relay_link::LinkState;
use serde::Serialize;
use tauri::State;

use crate::ipc_error::IpcError;
use crate::AppState;

/// What the UI needs at start.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AppInfo {
    /// Signed-in user, if any.
    pub user: Option<String>,
    /// Relay URL last used.
    pub relay_url: Option<String>,
    /// Running in demo mode (relay and simulator on loopback).
    pub demo: bool,
    /// Demo credentials to prefill, in demo mode only.
    pub demo_user: Option<String>,
    /// The signed-in user's role: `rep`, `supervisor` or `admin`.
    pub role: Option<String>,
    /// The OS locale (`LC_ALL`, `LC_MESSAGES` or `LANG`, e.g. `th_TH.UTF-8`): WebKitGTK does not
    /// always report it to the page.
    pub os_locale: Option<String>,
}

fn os_locale() -> Option<String> {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty() && v != "C" && v != "POSIX")
        .map(|v| v.split('.').next().unwrap_or_default().replace('_', "-"))
}

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo, IpcError> {
    let relay_url = state
        .core
        .cache()
        .meta("relay_url")
        .map_err(IpcError::internal)?;
    Ok(AppInfo {
        user: state.core.user(),
        role: state
            .core
            .cache()
            .meta("role")
            .map_err(IpcError::internal)?,
        relay_url,
        demo: state.demo.is_some(),
        demo_user: state.demo.as_ref().map(|d| d.user.clone()),
        os_locale: os_locale(),
    })
}

#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    relay_url: String,
    user: String,
    password: String,
) -> Result<(), IpcError> {
    state
        .core
        .sign_in(relay_url.trim(), user.trim(), &password)
        .await
        .map_err(IpcError::from)
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Result<(), IpcError> {
    state.core.sign_out().await.map_err(IpcError::from)
}

#[tauri::command]
pub fn link_state(state: State<'_, AppState>) -> LinkState {
    state.core.link_state().borrow().clone()
}

/// The console's language changed: the shell's own words (notification buttons, tray) follow.
#[tauri::command]
pub fn set_shell_words<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    words: crate::words::ShellWords,
) -> Result<(), IpcError> {
    if let Some(problem) = words.problem() {
        return Err(IpcError {
            code: crate::ipc_error::ErrorCode::Invalid,
            message: problem,
            invalid: Vec::new(),
        });
    }
    state.words.set(state.core.cache(), words.clone());
    crate::tray::relabel(&app, &words);
    crate::update_waiting(&app, &state.core);
    Ok(())
}
