//! linedesk, the Tauri shell: commands, events to the UI, and demo mode. All behaviour lives
//! in `linedesk-core`; this crate parses, calls and maps errors.
//!
//! - [`commands`]: the commands the UI may call (each granted in `capabilities/default.json`).
//! - [`ipc_error`]: `{code, message}` errors.
//! - [`demo`]: relay and simulator on loopback for `linedesk --demo`.
//! - [`malloc`]: glibc malloc's settings, for memory that stays flat through a shift.
//! - [`notifier`]: OS notifications for new chat requests and messages.

pub mod bindings;
pub mod commands;
pub mod demo;
pub mod ipc_error;
pub mod malloc;
pub mod notifier;
pub mod tray;
pub mod words;

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use linedesk_core::credentials::KeyringOrMemory;
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
    /// What the window is doing, for the notification rules.
    pub attention: Arc<Attention>,
    /// The shell's words in the console's language.
    pub words: Arc<words::Words>,
}

/// The shell's words in use (English before the app state exists).
pub(crate) fn shell_words<R: Runtime>(app: &tauri::AppHandle<R>) -> words::ShellWords {
    app.try_state::<AppState>()
        .map(|s| s.words.get())
        .unwrap_or_default()
}

/// Window focus and the open conversation (0 = none), updated by the shell and the UI.
#[derive(Default)]
pub struct Attention {
    /// The main window has focus.
    pub focused: AtomicBool,
    /// The conversation open in the window.
    pub open: AtomicI64,
}

impl Attention {
    fn snapshot(&self) -> linedesk_core::notify::Attention {
        let open = self.open.load(Ordering::Relaxed);
        linedesk_core::notify::Attention {
            focused: self.focused.load(Ordering::Relaxed),
            open_conversation: (open > 0).then_some(open),
        }
    }
}

/// Registers the commands and the shell's state (shared by `run` and the tests).
pub fn builder<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .manage(tray::Shown::default())
        .invoke_handler(tauri::generate_handler![
            commands::session::app_info,
            commands::session::sign_in,
            commands::session::sign_out,
            commands::session::link_state,
            commands::session::set_shell_words,
            commands::conversations::list_conversations,
            commands::conversations::get_messages,
            commands::conversations::mark_read,
            commands::conversations::send_text,
            commands::conversations::retry_send,
            commands::conversations::list_drafts,
            commands::conversations::list_quick_replies,
            commands::conversations::suggest_answers,
            commands::conversations::save_draft,
            commands::conversations::search_messages,
            commands::conversations::fetch_media,
            commands::conversations::fetch_picture,
            commands::conversations::sendable_stickers,
            commands::conversations::send_sticker,
            commands::conversations::upload_reply_picture,
            commands::conversations::send_reply_picture,
            commands::conversations::open_map,
            commands::conversations::send_attachment,
            commands::conversations::fetch_upload,
            commands::conversations::download_media,
            commands::conversations::export_transcript,
            commands::routing::set_presence,
            commands::admin::relay_call,
            commands::admin::export_contact,
            commands::admin::save_csv,
            commands::routing::act_conversation,
            commands::routing::signal_conversation,
            commands::routing::send_later,
            commands::routing::list_later,
            commands::routing::cancel_later,
            commands::routing::list_agents,
            commands::routing::list_episodes,
        ])
}

/// Forwards core events to the UI as `conversation-updated`, `outbox-changed`, `link-changed`.
fn forward_events<R: Runtime>(app: tauri::AppHandle<R>, core: Core, attention: Arc<Attention>) {
    let mut events = core.subscribe();
    let mut link = core.link_state();
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::select! {
                ev = events.recv() => match ev {
                    Ok(CoreEvent::ConversationsChanged(ids)) => {
                        let _ = app.emit("conversation-updated", ids);
                        update_waiting(&app, &core);
                    }
                    Ok(CoreEvent::OutboxChanged(id)) => { let _ = app.emit("outbox-changed", id); }
                    Ok(CoreEvent::LinkChanged) => {}
                    Ok(CoreEvent::AgentsChanged) => { let _ = app.emit("agents-changed", ()); }
                    Ok(CoreEvent::Breaches(breaches)) => {
                        // Supervisors and admins hear of a conversation waiting past its
                        // target: a toast in the window and an OS notification, for news only.
                        let role = core.cache().meta("role").ok().flatten().unwrap_or_default();
                        let supervises = role == "supervisor" || role == "admin";
                        let now = linedesk_core::now_ms();
                        let news: Vec<_> = breaches.into_iter().filter(|b| supervises && now - b.at < linedesk_core::notify::BREACH_NEWS_MS).collect();
                        if !news.is_empty() { let _ = app.emit("sla-breach", &news); }
                        for b in news {
                            let name = core.cache().conversation(b.conversation_id).ok().and_then(|c| c.display_name);
                            let body = shell_words(&app).breach(b.target_ms, &b.queue_name);
                            let alert = linedesk_core::notify::breach_alert(&b, name, body);
                            let (app, core) = (app.clone(), core.clone());
                            tauri::async_runtime::spawn(async move { show_named(&app, &core, alert).await });
                        }
                    }
                    Ok(CoreEvent::Reminders(reminders)) => {
                        // "Remind me" came due: an OS notification for whom it reminds, for
                        // news only (a console catching up after a night shows the timeline).
                        let me = core.user().unwrap_or_default();
                        let now = linedesk_core::now_ms();
                        for r in reminders.into_iter().filter(|r| r.user == me && now - r.at < linedesk_core::notify::BREACH_NEWS_MS) {
                            let _ = app.emit("reminder", r.conversation_id);
                            let name = core.cache().conversation(r.conversation_id).ok().and_then(|c| c.display_name);
                            let body = shell_words(&app).reminder(&r.note);
                            let alert = linedesk_core::notify::reminder_alert(&r, name, body);
                            let (app, core) = (app.clone(), core.clone());
                            tauri::async_runtime::spawn(async move { show_named(&app, &core, alert).await });
                        }
                    }
                    Ok(CoreEvent::Upload { conversation_id, file_name, sent, total }) => {
                        let _ = app.emit("upload-progress", serde_json::json!({
                            "conversationId": conversation_id, "fileName": file_name, "sent": sent, "total": total,
                        }));
                    }
                    Ok(CoreEvent::Offers(offers)) => {
                        let me = core.user().unwrap_or_default();
                        let now = linedesk_core::now_ms();
                        for (conversation, snap) in offers {
                            let live = snap.offer.as_ref().is_some_and(|o| o.to == me && o.expires_at > now);
                            if !live { continue; }
                            let name = core.cache().conversation(conversation).ok().and_then(|c| c.display_name);
                            if let Some(alert) = linedesk_core::notify::offer_alert(conversation, &snap, name) {
                                let (app, core) = (app.clone(), core.clone());
                                tauri::async_runtime::spawn(async move { show_named(&app, &core, alert).await });
                            }
                        }
                    }
                    Ok(CoreEvent::Inbound(messages)) => {
                        let me = core.user().unwrap_or_default();
                        for alert in linedesk_core::notify::alerts(&messages, attention.snapshot(), &me, "") {
                            let (app, core) = (app.clone(), core.clone());
                            tauri::async_runtime::spawn(async move { show_named(&app, &core, alert).await });
                        }
                    }
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

/// Tray and badge: chat requests offered to me plus my conversations with unread messages.
pub(crate) fn update_waiting<R: Runtime>(app: &tauri::AppHandle<R>, core: &Core) {
    let Some(me) = core.user() else { return };
    match core.cache().waiting_for(&me, linedesk_core::now_ms()) {
        Ok(n) => tray::set_waiting(app, n, &shell_words(app)),
        Err(e) => tracing::warn!(error = %e, "could not count waiting conversations"),
    }
}

/// Shows an alert, first waiting briefly for the customer's name when it is not known yet:
/// the relay publishes the LINE profile just after a new customer's first message.
async fn show_named<R: Runtime>(
    app: &tauri::AppHandle<R>,
    core: &Core,
    mut alert: linedesk_core::notify::Alert,
) {
    for _ in 0..20 {
        if !alert.title.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if let Ok(c) = core.cache().conversation(alert.conversation_id) {
            alert.title = c.display_name.unwrap_or_default();
        }
    }
    if alert.title.is_empty() {
        alert.title = "LINE".into();
    }
    let face = face_of(core, alert.conversation_id).await;
    notifier::show(app, &alert, face);
}

/// The customer's face for a notification about conversation `id`, if the relay has one at
/// hand (asked briefly: a notification does not wait for a slow relay).
async fn face_of(core: &Core, id: i64) -> Option<image::RgbaImage> {
    let c = core.cache().conversation(id).ok()?;
    if !c.chat_id.starts_with('U') {
        return None;
    }
    let picture = linedesk_core::relay_link::Picture::Avatar {
        channel_id: c.channel_id,
        user_id: c.chat_id,
    };
    let fetch = async {
        let resp = core.picture(&picture).await.ok()?;
        if resp.status() != 200 {
            return None;
        }
        resp.bytes().await.ok()
    };
    let bytes = tokio::time::timeout(std::time::Duration::from_secs(2), fetch)
        .await
        .ok()??;
    tauri::async_runtime::spawn_blocking(move || notifier::face(&bytes))
        .await
        .ok()?
}

/// Paints the console without GPU compositing. On machines without a GPU (virtual desktops,
/// the usual contact-center seat) WebKitGTK would otherwise emulate OpenGL in software for
/// every layer, which costs about 50 MiB and CPU for nothing a chat screen needs; GNOME's
/// Evolution mail client does the same. `LINEDESK_GPU=1` keeps WebKit's default.
///
/// Set through WebKit's environment switch before any thread or webview exists: changing the
/// webview's hardware-acceleration policy after it was made restarts its compositing, which
/// stalls a WebDriver session.
pub fn paint_without_gpu_compositing() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("LINEDESK_GPU").is_none_or(|v| v != "1") {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
}

/// Runs the app.
pub fn run() {
    let started = std::time::Instant::now();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LINEDESK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let demo_mode = std::env::args().any(|a| a == "--demo");
    builder(tauri::Builder::default())
        .setup(move |app| {
            // Tauri has made the window by now; it paints once `setup` returns.
            let window_made = started.elapsed();
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
            // A relay with a certificate from a private CA: that CA's PEM file, trusted besides
            // the system's roots.
            let config = linedesk_core::CoreConfig {
                relay_ca: std::env::var_os("LINEDESK_RELAY_CA").map(std::path::PathBuf::from),
            };
            let core = Core::open_with_config(
                &console_dir,
                // Not asked here: the window cannot paint until `setup` returns.
                Arc::new(KeyringOrMemory::new("linedesk")),
                "linedesk desktop",
                &config,
            )?;
            let attention = Arc::new(Attention::default());
            let words = Arc::new(words::Words::load(core.cache()));
            forward_events(app.handle().clone(), core.clone(), attention.clone());
            tray::install_where_shown(app.handle(), words.clone());
            if let Some(window) = app.get_webview_window("main") {
                let focus = attention.clone();
                focus
                    .focused
                    .store(window.is_focused().unwrap_or(false), Ordering::Relaxed);
                window.on_window_event(move |event| {
                    if let tauri::WindowEvent::Focused(f) = event {
                        focus.focused.store(*f, Ordering::Relaxed);
                    }
                });
            }
            let starter = core.clone();
            let demo_login = demo
                .as_ref()
                .map(|d| (d.relay_url.clone(), d.user.clone(), d.password.clone()));
            tauri::async_runtime::spawn(async move {
                let result = match demo_login {
                    Some((url, user, password)) => {
                        // The demo's representative is at her desk: chat requests arrive at once.
                        match starter.sign_in(&url, &user, &password).await {
                            Ok(()) => starter
                                .set_presence(linedesk_protocol::routing::Presence::Available)
                                .await
                                .map(|_| true),
                            Err(e) => Err(e),
                        }
                    }
                    None => starter.resume().await,
                };
                if let Err(e) = result {
                    tracing::warn!(error = %e, "could not resume the session");
                }
            });
            // Media comes from the relay: the same trusted roots as the core's calls.
            let http = core.relay_http();
            app.manage(AppState {
                core,
                http,
                demo,
                attention,
                words,
            });
            tracing::info!(
                window_ms = window_made.as_millis() as u64,
                setup_ms = (started.elapsed() - window_made).as_millis() as u64,
                "console started"
            );
            Ok(())
        })
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("linedesk failed to start");
}
