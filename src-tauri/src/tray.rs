//! The tray icon: a click on "Show" (or the icon) brings the window forward; the icon carries a
//! red dot and the title a number while chat requests or unread messages of my conversations
//! wait. The window's launcher badge says the same where the desktop shows one.

use tauri::image::Image;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

use std::sync::Arc;

use crate::words::{ShellWords, Words};

const TRAY_ID: &str = "main";

/// The icon with a red dot in its top-right corner (`rgba` is width × height × 4).
pub fn badged(rgba: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut out = rgba.to_vec();
    let r = (width.min(height) as f32) * 0.22;
    let (cx, cy) = (width as f32 - r - 1.0, r + 1.0);
    for y in 0..height {
        for x in 0..width {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            let d = (dx * dx + dy * dy).sqrt();
            let i = ((y * width + x) * 4) as usize;
            if d <= r && i + 3 < out.len() {
                out[i..i + 4].copy_from_slice(&[0xE5, 0x39, 0x35, 0xFF]);
            }
        }
    }
    out
}

fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// The tray's menu in `words`' language.
fn menu<R: Runtime>(app: &AppHandle<R>, words: &ShellWords) -> tauri::Result<Menu<R>> {
    let show = MenuItem::with_id(app, "show", &words.show, true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", &words.quit, true, None::<&str>)?;
    Menu::with_items(app, &[&show, &quit])
}

/// Words the tray's menu anew (the console's language changed).
pub fn relabel<R: Runtime>(app: &AppHandle<R>, words: &ShellWords) {
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        match menu(app, words) {
            Ok(m) => {
                let _ = tray.set_menu(Some(m));
            }
            Err(e) => tracing::warn!(error = %e, "could not word the tray's menu"),
        }
    }
}

/// The StatusNotifierItem host's registry (KDE, Cinnamon, XFCE, MATE, Budgie, GNOME with the
/// AppIndicator extension): the tray library shows the icon through it when it is on the bus.
pub const WATCHER: &str = "org.kde.StatusNotifierWatcher";

/// Whether this desktop shows tray icons: a StatusNotifierItem host on the session bus, or an
/// XEmbed system tray (older panels: LXDE, tint2, i3bar) owning `_NET_SYSTEM_TRAY_S<screen>`
/// on the X display. Without either (GNOME as it ships, a kiosk) the tray library still makes
/// its icon, as a 16×16 X window that nothing shows, and that costs the app process about
/// 4 MiB (README, Figures).
pub fn host_present() -> bool {
    status_notifier_host() || xembed_tray()
}

fn status_notifier_host() -> bool {
    let asked = zbus::block_on(async {
        let bus = zbus::Connection::session().await?;
        let dbus = zbus::fdo::DBusProxy::new(&bus).await?;
        let name = zbus::names::BusName::try_from(WATCHER)?;
        Ok::<_, zbus::Error>(dbus.name_has_owner(name).await?)
    });
    answered(asked, "no session bus to ask for a tray host")
}

fn xembed_tray() -> bool {
    use x11rb::protocol::xproto::ConnectionExt as _;
    let asked = || -> Result<bool, Box<dyn std::error::Error>> {
        let (x, screen) = x11rb::connect(None)?;
        let selection = format!("_NET_SYSTEM_TRAY_S{screen}");
        // Only if some client ever named it: a display without a tray has no such atom.
        let atom = x.intern_atom(true, selection.as_bytes())?.reply()?.atom;
        if atom == x11rb::NONE {
            return Ok(false);
        }
        let owner = x.get_selection_owner(atom)?.reply()?.owner;
        Ok(owner != x11rb::NONE)
    };
    answered(asked(), "no X display to ask for a system tray")
}

/// A tray's presence as asked, or none where it could not be asked (noted at debug level).
fn answered<E: std::fmt::Display>(asked: Result<bool, E>, unasked: &str) -> bool {
    asked.unwrap_or_else(|e| {
        tracing::debug!(error = %e, "{unasked}");
        false
    })
}

/// Puts the icon in the tray, where the desktop has one ([`host_present`], asked off the main
/// thread so the window paints meanwhile); a tray that appears later is used from the next
/// start. A desktop without a tray (or without the appindicator library) only loses the icon:
/// the window, badge and notifications still work.
pub fn install_where_shown<R: Runtime>(app: &AppHandle<R>, words: Arc<Words>) {
    let app = app.clone();
    let asked = std::thread::Builder::new()
        .name("tray-host".into())
        .spawn(move || {
            if !host_present() {
                tracing::info!("no tray on this desktop: no icon; the badge and notifications still say what waits");
                return;
            }
            let on_main = app.clone();
            if let Err(e) = app.run_on_main_thread(move || {
                install(&on_main, &words.get());
                // What waited before the icon existed.
                let last = on_main.state::<Shown>().0.lock().expect("tray state lock").clone();
                if let Some((waiting, tip)) = last {
                    draw(&on_main, waiting, &tip, true);
                }
            }) {
                tracing::warn!(error = %e, "no tray icon");
            }
        });
    if let Err(e) = asked {
        tracing::warn!(error = %e, "no tray icon");
    }
}

/// Puts the icon in the tray.
fn install<R: Runtime>(app: &AppHandle<R>, words: &ShellWords) {
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(
        || -> tauri::Result<TrayIcon<R>> {
            let menu = menu(app, words)?;
            let mut builder = TrayIconBuilder::with_id(TRAY_ID)
                .tooltip("linedesk")
                .menu(&menu)
                .on_menu_event(|app, event| match event.id.as_ref() {
                    "show" => show_window(app),
                    "quit" => app.exit(0),
                    _ => {}
                })
                .on_tray_icon_event(|tray, event| {
                    if let TrayIconEvent::Click { .. } = event {
                        show_window(tray.app_handle());
                    }
                });
            if let Some(icon) = app.default_window_icon() {
                builder = builder.icon(icon.clone());
            }
            builder.build(app)
        },
    ));
    match built {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "no tray icon"),
        Err(_) => tracing::warn!("no tray icon: the desktop's tray library is missing"),
    }
}

/// What the tray shows last: the count and its tooltip.
#[derive(Default)]
pub struct Shown(std::sync::Mutex<Option<(u32, String)>>);

/// What a new count changes in the tray.
#[derive(Debug, PartialEq, Eq)]
enum Redraw {
    /// The same count in the same words: nothing.
    Nothing,
    /// The number, tooltip and badge; the icon keeps its dot (or lack of one).
    Text,
    /// Those and the icon: the red dot comes or goes.
    TextAndIcon,
}

fn redraw(last: Option<&(u32, String)>, waiting: u32, tip: &str) -> Redraw {
    match last {
        Some((n, t)) if *n == waiting && t == tip => Redraw::Nothing,
        Some((n, _)) if (*n > 0) == (waiting > 0) => Redraw::Text,
        _ => Redraw::TextAndIcon,
    }
}

/// Shows how many items wait: tooltip, title (the number beside the icon), red dot, badge.
/// Called on every change to a conversation, it draws only what differs: a new icon is a
/// copy of its pixels, which the tray library then writes out as a PNG for the tray host.
pub fn set_waiting<R: Runtime>(app: &AppHandle<R>, waiting: u32, words: &ShellWords) {
    let tip = if waiting == 0 {
        "linedesk".to_owned()
    } else {
        format!("linedesk — {}", words.waiting(waiting))
    };
    // Decided and noted under the lock, drawn after it: the tray's calls wait on the main
    // thread, which must never wait on this lock.
    let change = {
        let shown = app.state::<Shown>();
        let mut last = shown.0.lock().expect("tray state lock");
        let change = redraw(last.as_ref(), waiting, &tip);
        *last = Some((waiting, tip.clone()));
        change
    };
    if change == Redraw::Nothing {
        return;
    }
    draw(app, waiting, &tip, change == Redraw::TextAndIcon);
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.set_badge_count((waiting > 0).then_some(i64::from(waiting)));
    }
}

/// The count in the tray: tooltip, title and, with `icon`, the icon with or without its dot.
fn draw<R: Runtime>(app: &AppHandle<R>, waiting: u32, tip: &str, icon: bool) {
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let _ = tray.set_tooltip(Some(tip));
        let _ = tray.set_title((waiting > 0).then(|| waiting.to_string()));
        if let (true, Some(icon)) = (icon, app.default_window_icon()) {
            let image = if waiting > 0 {
                Image::new_owned(
                    badged(icon.rgba(), icon.width(), icon.height()),
                    icon.width(),
                    icon.height(),
                )
            } else {
                icon.clone().to_owned()
            };
            let _ = tray.set_icon(Some(image));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{redraw, Redraw};

    #[test]
    fn the_tray_is_drawn_again_only_where_the_count_or_its_words_changed() {
        let shown = (3, "linedesk — 3 waiting".to_owned());
        assert_eq!(
            redraw(None, 0, "linedesk"),
            Redraw::TextAndIcon,
            "first time"
        );
        assert_eq!(
            redraw(Some(&shown), 3, "linedesk — 3 waiting"),
            Redraw::Nothing
        );
        assert_eq!(
            redraw(Some(&shown), 4, "linedesk — 4 waiting"),
            Redraw::Text
        );
        assert_eq!(
            redraw(Some(&shown), 3, "linedesk — 3 件待ち"),
            Redraw::Text,
            "another language"
        );
        assert_eq!(
            redraw(Some(&shown), 0, "linedesk"),
            Redraw::TextAndIcon,
            "dot goes"
        );
        let none = (0, "linedesk".to_owned());
        assert_eq!(
            redraw(Some(&none), 1, "linedesk — 1 waiting"),
            Redraw::TextAndIcon,
            "dot comes"
        );
    }

    #[test]
    fn the_badge_is_a_red_dot_top_right_and_leaves_the_rest() {
        let (w, h) = (32u32, 32u32);
        let plain = vec![0x10u8; (w * h * 4) as usize];
        let out = super::badged(&plain, w, h);
        let px = |x: u32, y: u32| &out[((y * w + x) * 4) as usize..((y * w + x) * 4 + 4) as usize];
        assert_eq!(px(w - 8, 7), &[0xE5, 0x39, 0x35, 0xFF], "red in the corner");
        assert_eq!(px(2, h - 2), &[0x10; 4], "untouched elsewhere");
    }
}
