//! linedesk: the console. `linedesk --demo` starts a relay and the LINE simulator on loopback.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if std::env::args()
        .skip(1)
        .any(|a| a == "--version" || a == "-V")
    {
        println!(
            "linedesk {} ({})",
            env!("CARGO_PKG_VERSION"),
            env!("LINEDESK_COMMIT")
        );
        return;
    }
    linedesk_app::malloc::tune();
    linedesk_app::paint_without_gpu_compositing();
    linedesk_app::run();
}
