//! linedesk: the console. `linedesk --demo` starts a relay and the LINE simulator on loopback.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    linedesk_app::paint_without_gpu_compositing();
    linedesk_app::run();
}
