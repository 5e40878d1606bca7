//! The console puts its icon in the tray only where the desktop shows one: a StatusNotifierItem
//! host on the session bus, or an XEmbed system tray owning its selection on the X display.
//! Asked of the real private bus and Xvfb display that scripts/test.sh runs the suite in.

use linedesk_app::tray::{host_present, WATCHER};
use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{ConnectionExt as _, CreateWindowAux, WindowClass};
use x11rb::wrapper::ConnectionExt as _;

#[test]
fn the_icon_goes_where_a_tray_host_or_an_xembed_tray_is_and_nowhere_else() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
            && std::env::var_os("DISPLAY").is_some(),
        "run inside xvfb-run and dbus-run-session (scripts/test.sh does)"
    );
    assert!(!host_present(), "a bare display and bus have no tray");

    // A StatusNotifierItem host (KDE, GNOME's AppIndicator extension) registers its watcher.
    let bus = zbus::block_on(zbus::connection::Builder::session().name(WATCHER).build())
        .expect("own the watcher's name on the private bus");
    assert!(host_present(), "a StatusNotifierItem host is a tray");
    zbus::block_on(bus.release_name(WATCHER)).expect("release the name");
    assert!(!host_present(), "the host left");

    // An XEmbed system tray owns `_NET_SYSTEM_TRAY_S<screen>`.
    let (x, screen) = x11rb::connect(None).expect("the X display");
    let root = x.setup().roots[screen].root;
    let tray = x.generate_id().expect("window id");
    x.create_window(
        0,
        tray,
        root,
        0,
        0,
        1,
        1,
        0,
        WindowClass::INPUT_ONLY,
        0,
        &CreateWindowAux::new(),
    )
    .expect("create")
    .check()
    .expect("window");
    let selection = format!("_NET_SYSTEM_TRAY_S{screen}");
    let atom = x
        .intern_atom(false, selection.as_bytes())
        .expect("intern")
        .reply()
        .expect("atom")
        .atom;
    x.set_selection_owner(tray, atom, x11rb::CURRENT_TIME)
        .expect("own")
        .check()
        .expect("owned");
    assert!(host_present(), "an XEmbed system tray is a tray");
    x.destroy_window(tray)
        .expect("destroy")
        .check()
        .expect("destroyed");
    x.sync().expect("sync");
    assert!(
        !host_present(),
        "the tray's window is gone, and its selection with it"
    );
}
