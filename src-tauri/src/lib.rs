//! linedesk, the Tauri shell: commands, events to the UI, and demo mode. All behaviour lives
//! in `linedesk-core`; this crate parses, calls and maps errors.
//!
//! - [`commands`]: the commands the UI may call (each granted in `capabilities/default.json`).
//! - [`ipc_error`]: `{code, message}` errors.
//! - [`demo`]: relay and simulator on loopback for `linedesk --demo`.

pub mod commands;
pub mod demo;
pub mod ipc_error;

use std::sync::Arc;

use linedesk_core::credentials::{CredentialStore, KeyringStore, MemoryStore};
use linedesk_core::{Core, CoreEvent};
use tauri::{Emitter, Manager, Runtime};

/// What the commands share.
pub struct AppState {
    /// The core.
    pub core: Core,
    /// HTTP client for media.
    pub http: reqwest::Client,
    /// Demo mode details.
    pub demo: Option<demo::Demo>,
}

/// The keyring, or memory when no Secret Service is running (then the user signs in each start).
fn credential_store() -> Arc<dyn CredentialStore> {
    let keyring = KeyringStore::new("linedesk");
    match keyring.get("probe") {
        Ok(_) => Arc::new(keyring),
        Err(e) => {
            tracing::warn!(error = %e, "no OS keyring; the session will not be remembered");
            Arc::new(MemoryStore::default())
        }
    }
}

/// Registers the commands (shared by `run` and the tests).
pub fn builder<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::session::app_info,
        commands::session::sign_in,
        commands::session::sign_out,
        commands::session::link_state,
        commands::conversations::list_conversations,
        commands::conversations::get_messages,
        commands::conversations::mark_read,
        commands::conversations::send_text,
        commands::conversations::retry_send,
        commands::conversations::search_messages,
        commands::conversations::fetch_media,
    ])
}

/// Forwards core events to the UI as `conversation-updated`, `outbox-changed`, `link-changed`.
fn forward_events<R: Runtime>(app: tauri::AppHandle<R>, core: Core) {
    let mut events = core.subscribe();
    let mut link = core.link_state();
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::select! {
                ev = events.recv() => match ev {
                    Ok(CoreEvent::ConversationsChanged(ids)) => { let _ = app.emit("conversation-updated", ids); }
                    Ok(CoreEvent::OutboxChanged(id)) => { let _ = app.emit("outbox-changed", id); }
                    Ok(CoreEvent::LinkChanged) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => { let _ = app.emit("conversation-updated", Vec::<i64>::new()); }
                    Err(_) => return,
                },
                changed = link.changed() => {
                    if changed.is_err() { return; }
                    let state = link.borrow_and_update().clone();
                    let _ = app.emit("link-changed", state);
                }
            }
        }
    });
}

/// Runs the app.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LINEDESK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let demo_mode = std::env::args().any(|a| a == "--demo");
    builder(tauri::Builder::default())
        .setup(move |app| {
            let data = match std::env::var_os("LINEDESK_DATA_DIR") {
                Some(d) => std::path::PathBuf::from(d),
                None => app.path().app_data_dir()?,
            };
            let (console_dir, demo) = if demo_mode {
                let every = std::env::var("LINEDESK_DEMO_EVERY")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(5.0);
                let demo = tauri::async_runtime::block_on(demo::start(
                    &data.join("demo"),
                    std::time::Duration::from_secs_f64(every),
                ))?;
                (data.join("demo").join("console"), Some(demo))
            } else {
                (data.join("console"), None)
            };
            let core = Core::open(&console_dir, credential_store(), "linedesk desktop")?;
            forward_events(app.handle().clone(), core.clone());
            let starter = core.clone();
            let demo_login = demo
                .as_ref()
                .map(|d| (d.relay_url.clone(), d.user.clone(), d.password.clone()));
            tauri::async_runtime::spawn(async move {
                let result = match demo_login {
                    Some((url, user, password)) => {
                        starter.sign_in(&url, &user, &password).await.map(|_| true)
                    }
                    None => starter.resume().await,
                };
                if let Err(e) = result {
                    tracing::warn!(error = %e, "could not resume the session");
                }
            });
            app.manage(AppState {
                core,
                http: reqwest::Client::new(),
                demo,
            });
            Ok(())
        })
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("linedesk failed to start");
}
