//! The real console window driven through tauri-driver and WebKitWebDriver (fantoccini), for
//! the window tests and the shift benchmark: start the driver and the app, sign in, wait for
//! text. Run inside `xvfb-run` and `dbus-run-session` (scripts/test.sh does).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

use crate::{app_binary, workspace, PASSWORD};

/// A free TCP port on 127.0.0.1 (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// tauri-driver, stopped with SIGTERM so it takes WebKitWebDriver down with it
/// (TAURI-LINUX.md pitfall 1); its output goes to a file, never to the test's pipes.
pub struct Driver {
    /// tauri-driver itself.
    pub child: Child,
    /// Its WebDriver port.
    pub port: u16,
}

impl Driver {
    /// `ca`: the test CA the app trusts for a TLS relay (`LINEDESK_RELAY_CA`).
    /// `env`: more of the app's environment (a dark GTK theme, for one).
    pub fn start(
        data_dir: &std::path::Path,
        log: &std::path::Path,
        ca: Option<&std::path::Path>,
        env: &[(&str, &str)],
    ) -> Self {
        let port = free_port();
        let native = free_port();
        let out = std::fs::File::create(log).expect("driver log");
        let mut cmd = Command::new("tauri-driver");
        if let Some(ca) = ca {
            cmd.env("LINEDESK_RELAY_CA", ca);
        }
        let child = cmd
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("LINEDESK_DATA_DIR", data_dir)
            // The web view's own storage (the chosen language, for one) stays with this
            // test's console: tests that run side by side never see each other's.
            .env("XDG_DATA_HOME", data_dir.join("xdg-data"))
            .env("XDG_CACHE_HOME", data_dir.join("xdg-cache"))
            .env("LINEDESK_DOWNLOAD_DIR", data_dir.join("downloads"))
            // The assertions read English text: pin the app's language whatever the machine's.
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LINEDESK_LOG", "info")
            // WebKitWebDriver's screenshot waits for a composited frame, which never comes when
            // the console paints without GPU compositing (as it ships): these sessions keep
            // WebKit's default; `tests/paint.rs` checks the shipped painting.
            .env("LINEDESK_GPU", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("tauri-driver on PATH (scripts/setup.sh installs it)");
        Self { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
    }
}

/// Saves the page to `target/screenshots/{name}.png` (WebDriver's screenshot, which needs GPU
/// compositing: `LINEDESK_GPU=1`, as [`Driver::start`] sets by default).
pub async fn screenshot(client: &Client, name: &str) {
    let dir = workspace().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    // Let the last DOM change paint: under load WebKit's snapshot can trail the DOM.
    tokio::time::sleep(Duration::from_millis(400)).await;
    // WebKitWebDriver's screenshot never answers when the app paints without GPU
    // compositing: give up after a while rather than hang.
    if let Ok(Ok(png)) = tokio::time::timeout(Duration::from_secs(10), client.screenshot()).await {
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
}

/// Waits up to 15 s until the element `css` holds `needle` in its text; answers that text.
pub async fn wait_text(client: &Client, css: &str, needle: &str) -> String {
    let mut last = String::new();
    for _ in 0..150 {
        // textContent, not WebDriver's visible-text heuristics, which skip clamped or
        // ellipsised text; what is not rendered at all is not in the DOM either.
        let script =
            "const el = document.querySelector(arguments[0]); return el ? el.textContent : null;";
        match client.execute(script, vec![json!(css)]).await {
            Ok(Value::String(text)) if text.contains(needle) => return text,
            Ok(other) => last = other.to_string(),
            Err(e) => last = format!("script failed: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(client, "failure").await;
    panic!("{css} never showed {needle:?}; last seen: {last:?}");
}

/// Waits up to 15 s until an element matches `css` (`what` names it in the failure).
pub async fn wait_for(client: &Client, css: &str, what: &str) {
    for _ in 0..150 {
        if client.find(Locator::Css(css)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(client, "failure").await;
    panic!("{what} ({css}) never appeared");
}

/// A WebDriver session on `driver` (started half a second ago or more) running the app `bin`.
pub async fn session(driver: &Driver, bin: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("wry"));
    caps.insert("tauri:options".into(), json!({"application": bin}));
    let mut tries = 0;
    loop {
        let session = tokio::time::timeout(
            Duration::from_secs(30),
            ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{}", driver.port)),
        )
        .await
        .expect("WebDriver session within 30 s");
        match session {
            Ok(client) => return client,
            // tauri-driver took the connection before WebKitWebDriver listened, and dropped
            // it without an answer (seen under load, when four windows start at once): ask
            // again.
            Err(
                fantoccini::error::NewSessionError::FailedC(_)
                | fantoccini::error::NewSessionError::Lost(_),
            ) if tries < 3 => {}
            Err(e) => panic!("WebDriver session: {e:?}"),
        }
        tries += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Starts tauri-driver and the app; answers the WebDriver session.
pub async fn launch(
    console_data: &std::path::Path,
    log: &std::path::Path,
    ca: Option<&std::path::Path>,
) -> (Client, Driver) {
    launch_with(console_data, log, ca, &[]).await
}

/// [`launch`], with more of the app's environment.
pub async fn launch_with(
    console_data: &std::path::Path,
    log: &std::path::Path,
    ca: Option<&std::path::Path>,
    env: &[(&str, &str)],
) -> (Client, Driver) {
    let bin = app_binary();
    assert!(
        bin.exists(),
        "build the app first: {} (cargo build -p linedesk)",
        bin.display()
    );
    let driver = Driver::start(console_data, log, ca, env);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let client = session(&driver, &bin).await;
    (client, driver)
}

/// Fills the sign-in form and waits until the relay link is up.
pub async fn sign_in(client: &Client, relay_url: &str, user: &str) {
    let relay = client
        .wait()
        .for_element(Locator::Css("input[name=relay]"))
        .await
        .expect("sign-in form");
    relay.clear().await.expect("clear");
    relay.send_keys(relay_url).await.expect("type");
    for (field, value) in [("user", user), ("password", PASSWORD)] {
        client
            .find(Locator::Css(&format!("input[name={field}]")))
            .await
            .expect("field")
            .send_keys(value)
            .await
            .expect("type");
    }
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("click");
    wait_text(client, ".link", "Connected").await;
}

/// Chooses `presence` (`available`, `busy`...) in the rail's switcher.
pub async fn set_presence(client: &Client, presence: &str) {
    client
        .find(Locator::Css(".presence select"))
        .await
        .expect("presence switcher")
        .select_by_value(presence)
        .await
        .expect("choose a presence");
}
