//! A blank Tauri 2 window (an empty HTML page, `ui/public/blank.html`, same Tauri, WebKitGTK
//! and window size as the console): the baseline the `memory` bench compares the console's
//! idle memory with. `about:blank` would not start a WebKit web process at all.
//!
//! By default it is the window as Tauri makes it. With `LINEDESK_BLANK_SOFTWARE=1` it paints
//! without GPU compositing, as the console does, so the bench can also compare like with like;
//! with `LINEDESK_BLANK_MALLOC=1` it also takes the console's malloc settings.

fn main() {
    if std::env::var_os("LINEDESK_BLANK_MALLOC").is_some_and(|v| v == "1") {
        linedesk_app::malloc::tune();
    }
    if std::env::var_os("LINEDESK_BLANK_SOFTWARE").is_some_and(|v| v == "1") {
        linedesk_app::paint_without_gpu_compositing();
    }
    let mut context = tauri::generate_context!("../tauri.conf.json");
    context.config_mut().app.windows.clear();
    tauri::Builder::default()
        .setup(|app| {
            tauri::WebviewWindowBuilder::new(
                app,
                "main",
                tauri::WebviewUrl::App("blank.html".into()),
            )
            .title("blank")
            .inner_size(1280.0, 800.0)
            .build()?;
            Ok(())
        })
        .run(context)
        .expect("a blank Tauri window");
}
