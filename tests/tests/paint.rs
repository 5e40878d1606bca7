//! The console as it ships paints without GPU compositing (`paint_without_gpu_compositing`):
//! launch the real app under Xvfb without WebDriver, capture its X window and find the sign-in
//! form's pixels; and check that WebKit's processes really run in that mode.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use linedesk_tests::screen::{accent_pixels, capture, save, window_of};
use linedesk_tests::{app_binary, workspace};

#[test]
fn the_console_paints_its_window_without_gpu_compositing() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run under xvfb-run"
    );
    let bin = app_binary();
    assert!(bin.exists(), "build the app first: cargo build -p linedesk");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(&bin)
        .env("LINEDESK_DATA_DIR", dir.path())
        .env("LINEDESK_LOG", "warn")
        .env("LANG", "C.UTF-8")
        .env_remove("LINEDESK_GPU")
        .env_remove("WEBKIT_DISABLE_COMPOSITING_MODE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the app");
    let started = Instant::now();
    let pid = child.id();
    let result = std::panic::catch_unwind(|| {
        let deadline = Instant::now() + Duration::from_secs(30);
        let window = window_of(pid, deadline, Duration::from_millis(200))
            .expect("the app's window within 30 s");
        // The sign-in form is painted: its Sign in button is a solid green bar.
        let mut green = 0;
        while Instant::now() < deadline {
            let (rgb, width) = capture(&window);
            assert!(width > 0 && rgb.len() % (3 * width) == 0, "a whole image");
            green = accent_pixels(&rgb);
            if green > 3_000 {
                // A figure, not a check: timing belongs to benchmarks.
                println!(
                    "sign-in form painted {} ms after launch",
                    started.elapsed().as_millis()
                );
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        let shots = workspace().join("target/screenshots");
        std::fs::create_dir_all(&shots).expect("screenshot dir");
        save(&window, &shots.join("00-sign-in-software-paint.png"));
        assert!(
            green > 3_000,
            "the sign-in button was never painted ({green} green pixels)"
        );
        // Every WebKit process runs with compositing off.
        let tree = linedesk_tests::process_tree(pid);
        let web = tree
            .iter()
            .find(|(_, name)| name.starts_with("WebKitWebProces"))
            .expect("a WebKit web process");
        let environ = std::fs::read(format!("/proc/{}/environ", web.0)).expect("environ");
        assert!(
            environ
                .split(|b| *b == 0)
                .any(|v| v == b"WEBKIT_DISABLE_COMPOSITING_MODE=1"),
            "the web process paints without GPU compositing"
        );
    });
    let _ = child.kill();
    let _ = child.wait();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
