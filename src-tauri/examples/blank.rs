//! A blank Tauri 2 window (an empty HTML page, `ui/public/blank.html`, same Tauri, WebKitGTK
//! and window size as the console): the baseline the `memory` bench compares the console's
//! idle memory with. `about:blank` would not start a WebKit web process at all.

fn main() {
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
