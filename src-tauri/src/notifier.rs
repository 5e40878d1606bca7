//! OS notifications (notify-rust: D-Bus `org.freedesktop.Notifications` on Linux) for the
//! alerts the core's rules choose. A click on the notification focuses the window and opens
//! the conversation.

use linedesk_core::notify::{plain_body, Alert};
use tauri::{Emitter, Manager, Runtime};

/// Longest body shown.
const BODY_CHARS: usize = 200;

/// A face for a notification from a picture's bytes (as the relay keeps it: PNG, JPEG, GIF or
/// WebP), at most [`FACE_SIDE`] on each side; `None` when it cannot be read.
pub fn face(bytes: &[u8]) -> Option<image::RgbaImage> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(4096);
    limits.max_image_height = Some(4096);
    limits.max_alloc = Some(64 << 20);
    reader.limits(limits);
    let picture = reader.decode().ok()?;
    Some(picture.thumbnail(FACE_SIDE, FACE_SIDE).to_rgba8())
}

/// notify-rust names the picture's hint by the server's spec version, which it asks the server
/// for the first time it needs it. Asked while a notification is being sent, that nested
/// blocking D-Bus call panics inside notify-rust's own runtime ("block_on called from a task
/// this runtime is running"); so it is asked once beforehand, on a thread of its own.
fn server_spec_known() {
    static ASKED: std::sync::Once = std::sync::Once::new();
    ASKED.call_once(|| {
        let _ = std::thread::spawn(|| {
            let _ = *notify_rust::SPEC_VERSION;
        })
        .join();
    });
}

/// Builds the notification for an alert (customer text escaped: servers may read markup),
/// its buttons worded by `words`.
pub fn notification(alert: &Alert, words: &crate::words::ShellWords) -> notify_rust::Notification {
    let mut n = notify_rust::Notification::new();
    n.appname("linedesk")
        .summary(&alert.title)
        .body(&plain_body(&alert.body, BODY_CHARS))
        .hint(notify_rust::Hint::Category(if alert.request {
            "im.received".into()
        } else {
            "im".into()
        }))
        .action("default", &words.open);
    if let Some(offer) = &alert.offer {
        // Where the desktop offers actions, the request is answered from the notification.
        n.action("accept", &words.accept)
            .action("reject", &words.reject);
        let left = (offer.expires_at - linedesk_core::now_ms()).clamp(1_000, 3_600_000);
        n.timeout(notify_rust::Timeout::Milliseconds(left as u32));
    } else {
        n.timeout(notify_rust::Timeout::Milliseconds(if alert.request {
            120_000
        } else {
            10_000
        }));
    }
    n
}

/// Side of the face shown in a notification, in pixels.
pub const FACE_SIDE: u32 = 96;

/// Shows an alert, with the customer's face when there is one; a click brings the window
/// forward on that conversation.
pub fn show<R: Runtime>(app: &tauri::AppHandle<R>, alert: &Alert, face: Option<image::RgbaImage>) {
    let mut n = notification(alert, &crate::shell_words(app));
    if let Some(image) = face.and_then(|f| notify_rust::Image::try_from(f).ok()) {
        server_spec_known();
        n.image_data(image);
    }
    let handle = match n.show() {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "could not show a notification");
            return;
        }
    };
    let app = app.clone();
    let conversation = alert.conversation_id;
    let offer = alert.offer.as_ref().map(|o| o.id.clone());
    // `wait_for_action` blocks until the notification is clicked or closed.
    std::thread::spawn(move || {
        handle.wait_for_action(|action| {
            let answer = match (action, &offer) {
                ("accept", Some(id)) => Some((id.clone(), "accept")),
                ("reject", Some(id)) => Some((id.clone(), "reject")),
                _ => None,
            };
            if let Some((id, verb)) = answer {
                let core = app.state::<crate::AppState>().core.clone();
                let app = app.clone();
                tauri::async_runtime::spawn(async move {
                    if let Err(e) = core.act(&id, verb, serde_json::json!({})).await {
                        tracing::warn!(error = %e, "answering the offer from the notification failed");
                    }
                    if verb == "accept" {
                        let _ = app.emit("open-conversation", conversation);
                    }
                });
                return;
            }
            if action == "default" {
                if let Some(window) = app.get_webview_window("main") {
                    let _ = window.unminimize();
                    let _ = window.set_focus();
                }
                let _ = app.emit("open-conversation", conversation);
            }
        });
    });
}
