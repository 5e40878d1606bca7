//! The real console window under Xvfb, driven through tauri-driver and WebKitWebDriver, against
//! a relay and the LINE simulator on 127.0.0.1. Run inside `xvfb-run` and `dbus-run-session`
//! (scripts/test.sh does); fails, never skips, when the display or the driver is missing.
//!
//! Screenshots of each screen are saved to `target/screenshots/`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use fantoccini::{Client, Locator};
use linedesk_tests::window::{
    launch, launch_with, screenshot, session, set_presence, sign_in, wait_text, Driver,
};
use linedesk_tests::{app_binary, workspace, Loopback, PASSWORD, USER};
use serde_json::{json, Value};

/// Waits until `n` pictures matching `css` have loaded; the centre pixel of each, read back
/// through a canvas (the pictures are `blob:` URLs of the page's own origin).
async fn pictures_shown(client: &Client, css: &str, n: usize) -> Vec<[u8; 3]> {
    let script = "return [...document.querySelectorAll(arguments[0])]
        .filter((i) => i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:'))
        .map((i) => {
          const c = document.createElement('canvas');
          c.width = i.naturalWidth; c.height = i.naturalHeight;
          const g = c.getContext('2d');
          g.drawImage(i, 0, 0);
          const d = g.getImageData(c.width >> 1, c.height >> 1, 1, 1).data;
          return [d[0], d[1], d[2]];
        });";
    let mut last = Value::Null;
    for _ in 0..150 {
        if let Ok(v) = client.execute(script, vec![json!(css)]).await {
            if let Ok(colours) = serde_json::from_value::<Vec<[u8; 3]>>(v.clone()) {
                if colours.len() >= n {
                    return colours;
                }
            }
            last = v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(client, "failure").await;
    panic!("{n} pictures {css} never showed; last seen: {last}");
}

/// A 1×1 PNG.
const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// A notification the app raised.
#[derive(Debug)]
struct Note {
    id: u32,
    summary: String,
    body: String,
    actions: Vec<String>,
    /// The centre pixel of the picture it carries (`image-data`), if any.
    face: Option<[u8; 3]>,
}

/// The centre pixel of a notification's `image-data` hint: width, height, row stride, alpha,
/// bits per sample, channels, pixels.
fn face_in(hints: &std::collections::HashMap<String, zbus::OwnedVariant>) -> Option<[u8; 3]> {
    let value = hints.get("image-data")?.try_clone().ok()?;
    let (w, h, stride, _alpha, _bits, channels, data): (i32, i32, i32, bool, i32, i32, Vec<u8>) =
        value.try_into().ok()?;
    let at = (h / 2) as usize * stride as usize + (w / 2) as usize * channels as usize;
    Some([*data.get(at)?, *data.get(at + 1)?, *data.get(at + 2)?])
}

/// Owns `org.freedesktop.Notifications` on the private session bus the app also uses, and
/// passes every `Notify` to the test; the test can press an action like a user would.
struct NotificationServer {
    calls: std::sync::mpsc::Sender<Note>,
    next: std::sync::atomic::AtomicU32,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl NotificationServer {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: std::collections::HashMap<String, zbus::OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let _ = self.calls.send(Note {
            id,
            summary,
            body,
            actions,
            face: face_in(&hints),
        });
        id
    }

    /// What a desktop says when the user presses a notification's action.
    #[zbus(signal)]
    async fn action_invoked(
        emitter: &zbus::object_server::SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into(), "actions".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "fake".into(),
            "linedesk-tests".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    fn close_notification(&self, _id: u32) {}
}

/// Sum of VmRSS over processes whose name starts with one of `names`.
fn rss_mib(names: &[&str]) -> u64 {
    let mut kib = 0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let name = status
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("Name:")
            .trim();
        if !names.iter().any(|n| name.starts_with(n)) {
            continue;
        }
        kib += status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    kib / 1024
}

/// The next notification titled `summary` (other apps on the bus may notify too).
fn note_for(notes: &std::sync::mpsc::Receiver<Note>, summary: &str) -> Note {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let n = notes
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no notification about {summary}"));
        if n.summary == summary {
            return n;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_work_distribution_in_the_real_window() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run under xvfb-run"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Loopback::start(&dir.path().join("relay")).await;
    w.add_user("ada", linedesk_protocol::Role::Admin, PASSWORD);
    let (client, driver) = launch(
        &dir.path().join("console"),
        &dir.path().join("driver.log"),
        None,
    )
    .await;
    sign_in(&client, &w.relay_url, "ada").await;

    // `?` lists the keyboard shortcuts; Esc closes the list.
    client
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .send_keys("?")
        .await
        .expect("press ?");
    wait_text(&client, ".dialog", "Keyboard shortcuts").await;
    screenshot(&client, "08a-shortcuts").await;
    client
        .find(Locator::Css(".dialog"))
        .await
        .expect("dialog")
        .send_keys("\u{E00C}")
        .await
        .expect("press Esc");
    wait_text(&client, "nav", "Admin").await;
    client
        .find(Locator::XPath("//nav//button[normalize-space()='Admin']"))
        .await
        .expect("the Admin item, for admins only")
        .click()
        .await
        .expect("open admin");
    wait_text(&client, ".panel", "Support TW").await;
    click_text(&client, "Routing").await;
    wait_text(&client, ".panel", "Offer countdown").await;
    let countdown = client
        .find(Locator::XPath(
            "//label[contains(., 'Offer countdown')]/input",
        ))
        .await
        .expect("offer countdown");
    countdown.clear().await.expect("clear");
    countdown.send_keys("60\t").await.expect("type");
    client
        .find(Locator::XPath(
            "//button[normalize-space()='Save workstream']",
        ))
        .await
        .expect("save")
        .click()
        .await
        .expect("save");
    wait_text(&client, ".panel .status", "Saved.").await;
    let shown = client
        .execute(
            "return document.evaluate(\"//label[contains(., 'Offer countdown')]/input\", document, null, 9, null).singleNodeValue.value",
            vec![],
        )
        .await
        .expect("read the countdown");
    assert_eq!(shown, json!("60"), "the form shows what was saved");

    // A queue with two holidays on the same day: the relay names the field, and the form
    // says why under it.
    click_text(&client, "Queues").await;
    fill(&client, ".panel input[name=new-queue-id]", "vip").await;
    click_text(&client, "Add queue").await;
    wait_text(&client, ".panel", "(vip)").await;
    click_xpath(
        &client,
        "//details[@data-queue='vip']/summary",
        "the vip queue",
    )
    .await;
    click_xpath(
        &client,
        "//details[@data-queue='vip']//input[@name='has-hours']",
        "limited hours",
    )
    .await;
    for _ in 0..2 {
        click_xpath(
            &client,
            "//details[@data-queue='vip']//button[normalize-space()='Add a holiday']",
            "add a holiday",
        )
        .await;
    }
    click_xpath(
        &client,
        "//details[@data-queue='vip']//button[normalize-space()='Save queue']",
        "save vip",
    )
    .await;
    let refused = wait_text(&client, ".panel .status", "Not saved").await;
    assert!(
        refused.contains("hours.holidays[1].date"),
        "the field is named: {refused}"
    );
    wait_text(
        &client,
        "details[data-queue=vip] .err",
        "This appears twice.",
    )
    .await;
    screenshot(&client, "08-admin-routing").await;

    let admin = w.login("ada", PASSWORD).await;
    let (_, ws) = w
        .api(
            reqwest::Method::GET,
            &format!("/api/workstreams/{}", linedesk_tests::CHANNEL),
            &admin,
            None,
        )
        .await;
    assert_eq!(ws["offerTimeoutMs"], 60_000, "saved on the relay: {ws}");
    let (_, queues) = w
        .api(reqwest::Method::GET, "/api/queues", &admin, None)
        .await;
    assert!(
        queues.as_array().is_some_and(|q| q
            .iter()
            .any(|q| q["id"] == "vip" && q["queue"]["hours"].is_null())),
        "the queue exists, without the refused hours: {queues}"
    );
    client.close().await.expect("close session");
    drop(driver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_representative_signs_in_reads_and_answers_in_the_real_window() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run under xvfb-run (scripts/test.sh does)"
    );
    // reqwest and the WebDriver client both bring rustls; pick one crypto provider for both.
    let _ = rustls::crypto::ring::default_provider().install_default();
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "no session bus: run inside dbus-run-session (scripts/test.sh does)"
    );
    let (note_tx, notes) = std::sync::mpsc::channel();
    let bus = zbus::connection::Builder::session()
        .name("org.freedesktop.Notifications")
        .serve_at(
            "/org/freedesktop/Notifications",
            NotificationServer {
                calls: note_tx,
                next: Default::default(),
            },
        )
        .build()
        .await
        .expect("own the notification service");
    let bin = app_binary();
    assert!(
        bin.exists(),
        "build the app first: {} (cargo build -p linedesk)",
        bin.display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let console_data = dir.path().join("console");
    let driver_log = dir.path().join("tauri-driver.log");
    // The console reaches the relay over TLS (a test CA it is told to trust), as in production.
    let w = Loopback::start_tls(&dir.path().join("relay")).await;
    let driver = Driver::start(&console_data, &driver_log, w.ca_file.as_deref(), &[]);
    let downloads = console_data.join("downloads");
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = std::time::Instant::now();
    let client = session(&driver, &bin).await;

    // Sign in.
    client
        .wait()
        .for_element(Locator::Css("input[name=relay]"))
        .await
        .expect("sign-in form");
    // A figure, not an assertion: includes WebDriver session set-up (TAURI-LINUX.md: ~0.25 s).
    eprintln!(
        "figure: app launch to usable sign-in form via WebDriver: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    screenshot(&client, "01-sign-in").await;
    // Rita keeps a quick reply of her own, in four languages.
    let token = w.login("rita", PASSWORD).await;
    let (status, body) = w
        .api(
            reqwest::Method::POST,
            "/api/quick-replies",
            &token,
            Some(
                json!({"team": false, "title": "訂單查詢 Order status", "texts": {
                "en": "Hello {CustomerName}, this is {AgentName}: I am checking your order now.",
                "zh-TW": "{CustomerName} 您好，我是 {AgentName}，我馬上幫您查詢。",
                "ja": "{CustomerName}様、{AgentName}がすぐにお調べします。",
                "th": "สวัสดีค่ะ คุณ{CustomerName} ดิฉัน{AgentName} จะตรวจสอบให้ทันทีค่ะ"}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // And one with a picture, sent after its text: the map to the shop.
    let mut map = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(96, 64, image::Rgb([30, 140, 200]))
        .write_to(&mut map, image::ImageFormat::Png)
        .expect("png");
    let uploaded: Value = w
        .http
        .post(format!("{}/api/uploads?name=map.png", w.relay_url))
        .bearer_auth(&token)
        .body(map.into_inner())
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("uploaded");
    let map_url = uploaded["url"].as_str().expect("url").to_owned();
    let (status, body) = w
        .api(
            reqwest::Method::POST,
            "/api/quick-replies",
            &token,
            Some(json!({"team": false, "title": "店舗地圖 Shop map",
                "texts": {"en": "Here is how to find our shop.", "zh-TW": "這是我們門市的位置。"},
                "image": {"url": map_url, "previewUrl": format!("{map_url}/preview")}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    sign_in(&client, &w.console_url, "rita").await;

    // Rita sets herself Available in the rail.
    set_presence(&client, "available").await;
    wait_text(&client, ".presence", "0 of 3 in use").await;

    // A customer writes, including text that looks like HTML: the relay offers the chat to
    // rita, the request card counts down, and an OS notification offers Accept and Reject.
    let user = w
        .sim(
            "/sim/customers",
            json!({"displayName": "王小明", "language": "zh-TW"}),
        )
        .await["customer"]["userId"]
        .as_str()
        .expect("id")
        .to_owned();
    // Following the account, the customer's profile and face reach the relay first.
    let face_key = format!("avatar:{}:{user}", linedesk_tests::CHANNEL);
    for _ in 0..200 {
        let key = face_key.clone();
        let row = w
            .relay()
            .read(move |c| linedesk_relay::store::pictures::get(c, &key))
            .await
            .expect("read");
        if row.is_some_and(|r| r.status == "ready") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    w.sim(
        &format!("/sim/customers/{user}/messages"),
        json!({"type": "text", "text": "你好，我的訂單還沒到"}),
    )
    .await;
    w.sim(
        &format!("/sim/customers/{user}/messages"),
        json!({"type": "text", "text": "<img src=x onerror=alert(1)>"}),
    )
    .await;
    let card = wait_text(&client, ".requests .request", "王小明").await;
    assert!(
        card.contains("你好，我的訂單還沒到"),
        "the first message: {card}"
    );
    assert!(card.contains("Accept") && card.contains("Reject"), "{card}");
    let ring = client
        .find(Locator::Css(".request .ring"))
        .await
        .expect("countdown ring");
    let label = ring
        .attr("aria-label")
        .await
        .expect("attr")
        .unwrap_or_default();
    assert!(label.contains("s left to answer"), "a countdown: {label}");
    // The customer's face, fetched by the relay from the profile's picture and shown through
    // it: the simulator drew it in a colour of its own.
    assert_eq!(
        pictures_shown(
            &client,
            &format!(".request img.avatar[data-face='{user}']"),
            1
        )
        .await,
        [linedesk_sim::pictures::colour_of(&format!("avatar:{user}"))],
        "the request card shows the customer's face"
    );
    screenshot(&client, "02-request").await;
    // Other window tests share this session bus: take the note about this customer.
    let note = note_for(&notes, "王小明");
    assert_eq!(
        note.summary, "王小明",
        "the notification names the customer"
    );
    assert!(
        note.body.contains("我的訂單還沒到") && note.body.contains("General"),
        "first message and queue, as plain text: {}",
        note.body
    );
    assert!(
        note.actions.iter().any(|a| a == "accept") && note.actions.iter().any(|a| a == "reject"),
        "Accept and Reject on the notification: {:?}",
        note.actions
    );
    assert_eq!(
        note.face,
        Some(linedesk_sim::pictures::colour_of(&format!("avatar:{user}"))),
        "the notification shows the customer's face"
    );
    client
        .find(Locator::Css(".request button.primary"))
        .await
        .expect("accept button")
        .click()
        .await
        .expect("accept");
    wait_text(&client, "header .chip", "Active").await;
    let timeline = wait_text(&client, ".timeline", "<img src=x onerror=alert(1)>").await;
    assert!(timeline.contains("你好，我的訂單還沒到"));
    let injected = client
        .find_all(Locator::Css(".timeline img[src='x']"))
        .await
        .expect("query");
    assert!(injected.is_empty(), "customer text must never become HTML");
    wait_text(&client, ".presence", "1 of 3 in use").await;
    screenshot(&client, "03-conversation").await;

    // The reply window counts down while LINE's reply token is fresh.
    let seconds = |bar: &str| -> u64 {
        let (m, s) = bar
            .trim()
            .trim_start_matches("Free reply for ")
            .split_once(':')
            .expect("m:ss");
        m.parse::<u64>().expect("minutes") * 60 + s.parse::<u64>().expect("seconds")
    };
    let bar = "[data-reply-window=free]";
    let first = seconds(&wait_text(&client, bar, "Free reply for 0:").await);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let later = seconds(&wait_text(&client, bar, "Free reply for 0:").await);
    assert!(
        later < first && first <= 50,
        "counts down: {first} s, then {later} s"
    );

    // Answer with the quick reply, by keyboard: "/" and a Chinese word of its title, Enter
    // inserts it in the customer's language with the variables filled, Enter sends it; the
    // fresh reply token makes it free.
    let composer = client
        .find(Locator::Css(".composer textarea"))
        .await
        .expect("composer");
    composer.send_keys("/訂單").await.expect("type");
    wait_text(&client, "[data-picker]", "訂單查詢 Order status").await;
    screenshot(&client, "03b-quick-reply-picker").await;
    composer.send_keys("\u{E007}").await.expect("enter");
    let filled = "王小明 您好，我是 rita，我馬上幫您查詢。";
    let mut value = Value::Null;
    for _ in 0..100 {
        value = client
            .execute(
                "return document.querySelector('.composer textarea').value",
                vec![],
            )
            .await
            .expect("composer value");
        if value == json!(filled) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        value,
        json!(filled),
        "inserted in Chinese, variables filled, editable"
    );
    composer.send_keys("\u{E007}").await.expect("enter");
    wait_text(&client, ".timeline", "Sent · free (reply)").await;
    // The token is spent: what follows goes by push.
    wait_text(
        &client,
        "[data-reply-window=push]",
        "Replies go by push (metered)",
    )
    .await;
    let received = w
        .sim(&format!("/sim/customers/{user}/received"), Value::Null)
        .await;
    assert_eq!(
        received[0]["via"], "reply",
        "the customer got it by reply (free)"
    );
    assert_eq!(received[0]["message"]["text"], filled);

    // A note for the team: in the timeline, marked internal; LINE hears nothing of it.
    type_into(
        &client,
        "//textarea[@name='note']",
        "Asked twice about this order",
    )
    .await;
    click_xpath(
        &client,
        "//button[normalize-space()='Add note']",
        "Add note",
    )
    .await;
    let note = wait_text(&client, "aside.note", "Asked twice about this order").await;
    assert!(note.contains("Note from rita"), "{note}");
    let heard = w
        .sim(&format!("/sim/customers/{user}/received"), Value::Null)
        .await;
    assert_eq!(
        heard.as_array().map(Vec::len),
        Some(1),
        "the note stays inside: {heard}"
    );

    // A quick reply with a picture: the picture waits above the composer, then goes after the
    // text.
    composer.send_keys("/地圖").await.expect("type");
    wait_text(&client, "[data-picker]", "店舗地圖 Shop map").await;
    composer.send_keys("\u{E007}").await.expect("enter");
    wait_text(&client, "[data-reply-picture]", "店舗地圖 Shop map").await;
    pictures_shown(&client, "[data-reply-picture] img", 1).await;
    screenshot(&client, "03c-quick-reply-with-picture").await;
    composer.send_keys("\u{E007}").await.expect("enter");
    let mut got = Vec::new();
    for _ in 0..100 {
        got = w
            .sim(&format!("/sim/customers/{user}/received"), Value::Null)
            .await
            .as_array()
            .cloned()
            .unwrap_or_default();
        if got.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[1]["message"]["text"], "這是我們門市的位置。");
    assert_eq!(got[2]["message"]["type"], "image");
    assert_eq!(got[2]["message"]["originalContentUrl"], map_url.as_str());

    // Send later: written now, kept by the relay for its time (an hour from now to start with);
    // it waits above the composer until then, and can be called off.
    composer
        .send_keys("I will check the courier's answer and write again.")
        .await
        .expect("type");
    click_xpath(&client, "//button[@data-action='send-later']", "Send later").await;
    click_xpath(
        &client,
        "//form[contains(@class,'later')]//button[@type='submit']",
        "Schedule",
    )
    .await;
    wait_text(&client, "[data-later]", "I will check the courier's answer").await;
    screenshot(&client, "04b-send-later").await;
    click_xpath(&client, "//ul[@data-later]//button", "Don't send").await;
    let mut gone = false;
    for _ in 0..100 {
        gone = client
            .find_all(Locator::Css("[data-later]"))
            .await
            .is_ok_and(|l| l.is_empty());
        if gone {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "called off");

    // The reply token is spent: the next answer goes by push, metered, with the outbox id as
    // the retry key.
    composer.send_keys("訂單已經出貨了。").await.expect("type");
    composer.send_keys("\u{E007}").await.expect("enter");
    wait_text(&client, ".timeline", "Sent · push (metered)").await;
    let received = w
        .sim(&format!("/sim/customers/{user}/received"), Value::Null)
        .await;
    assert_eq!(received[1]["via"], "push");
    assert!(
        received[1]["retryKey"]
            .as_str()
            .is_some_and(|k| k.len() == 36),
        "a push carries X-Line-Retry-Key: {}",
        received[1]
    );
    screenshot(&client, "04-replied").await;

    // Quote the customer's first message, with an emoji from the picker.
    client
        .execute(
            // The row of the message the assertion below names: other rows arrive in their
            // own order, and some kinds (a file) carry no quote token.
            "[...document.querySelectorAll('.timeline .row.in')]\
             .find(r => r.textContent.includes('你好，我的訂單還沒到'))\
             .querySelector('.quote').click()",
            vec![],
        )
        .await
        .expect("quote");
    wait_text(&client, ".composer", "Replying to:").await;
    client
        .find(Locator::Css(".composer button[aria-label='Emoji']"))
        .await
        .expect("emoji button")
        .click()
        .await
        .expect("open emoji");
    client
        .find(Locator::Css(".composer .emoji button"))
        .await
        .expect("an emoji")
        .click()
        .await
        .expect("pick");
    composer
        .send_keys("單號已寄到您的信箱")
        .await
        .expect("type");
    composer.send_keys("\u{E007}").await.expect("enter");
    let logged = w
        .relay()
        .read(|c| linedesk_relay::store::events::read_after(c, 0, 10_000))
        .await
        .expect("the relay's log");
    let first_quote = logged
        .iter()
        .find(|e| e.body.contains("你好，我的訂單還沒到"))
        .and_then(|e| serde_json::from_str::<Value>(&e.body).ok())
        .and_then(|v| v["message"]["quoteToken"].as_str().map(str::to_owned))
        .expect("the customer's message carries a quote token");
    let mut quoted = Value::Null;
    for _ in 0..100 {
        let got = w
            .sim(&format!("/sim/customers/{user}/received"), Value::Null)
            .await;
        if let Some(m) = got.as_array().and_then(|l| {
            l.iter()
                .find(|m| m["message"]["text"] == "😊單號已寄到您的信箱")
        }) {
            quoted = m.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        quoted["message"]["quoteToken"].as_str(),
        Some(first_quote.as_str()),
        "the reply quotes the customer's message: {quoted}"
    );

    // An image shows as a thumbnail; an unsent message disappears.
    w.sim(
        &format!("/sim/customers/{user}/messages"),
        json!({"type": "image"}),
    )
    .await;
    for _ in 0..100 {
        if !client
            .find_all(Locator::Css(".timeline .thumb img"))
            .await
            .expect("query")
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let thumbs = client
        .find_all(Locator::Css(".timeline .thumb img"))
        .await
        .expect("query");
    assert_eq!(thumbs.len(), 1, "the customer's image is shown");
    let src = thumbs[0]
        .attr("src")
        .await
        .expect("attr")
        .unwrap_or_default();
    assert!(
        src.starts_with("blob:"),
        "media comes through the relay as a blob, not a remote URL: {src}"
    );
    let last = w
        .sim(
            &format!("/sim/customers/{user}/messages"),
            json!({"type": "text", "text": "please ignore this"}),
        )
        .await;
    wait_text(&client, ".timeline", "please ignore this").await;
    w.sim(
        &format!("/sim/customers/{user}/unsend"),
        json!({"messageId": last["messageId"]}),
    )
    .await;
    wait_text(&client, ".timeline", "The customer unsent a message").await;
    let text = wait_text(&client, ".timeline", "The customer unsent a message").await;
    assert!(
        !text.contains("please ignore this"),
        "unsent text is hidden"
    );
    screenshot(&client, "05-media-and-unsend").await;

    // Stickers and LINE emoji as LINE shows them; a sticker LINE's CDN no longer has is a
    // tile with its keywords.
    w.sim(
        "/sim/faults",
        json!({"path": "/stickershop/v1/sticker/52002740/", "status": 404, "count": 100}),
    )
    .await;
    let product = "5ac1bfd5040ab15980c9b435";
    for message in [
        json!({"type": "sticker", "packageId": "11537", "stickerId": "52002734"}),
        json!({"type": "text", "text": "$ thank you $", "emojis": [
            {"index": 0, "length": 1, "productId": product, "emojiId": "001"},
            {"index": 12, "length": 1, "productId": product, "emojiId": "002"}]}),
        json!({"type": "sticker", "packageId": "11537", "stickerId": "52002740",
               "keywords": ["gone", "missing"]}),
    ] {
        w.sim(&format!("/sim/customers/{user}/messages"), message)
            .await;
    }
    assert_eq!(
        pictures_shown(&client, ".timeline [data-sticker='52002734'] img", 1).await,
        [linedesk_sim::pictures::colour_of("sticker:52002734")],
        "the sticker is its picture"
    );
    assert_eq!(
        pictures_shown(&client, ".timeline img.line-emoji", 2).await,
        [
            linedesk_sim::pictures::colour_of(&format!("emoji:{product}:001")),
            linedesk_sim::pictures::colour_of(&format!("emoji:{product}:002")),
        ],
        "both LINE emoji are pictures, in their places"
    );
    let tile = wait_text(
        &client,
        ".timeline [data-sticker='52002740'][data-shown='tile']",
        "gone, missing",
    )
    .await;
    assert!(tile.contains("Sticker"), "{tile}");
    screenshot(&client, "05a-stickers-and-emoji").await;

    // Rita answers with a sticker from the palette of those LINE lets bots send.
    client
        .find(Locator::Css(".composer [data-action='stickers']"))
        .await
        .expect("stickers button")
        .click()
        .await
        .expect("open the palette");
    // The palette asks the shell for the sendable stickers when it opens.
    click_css(
        &client,
        ".composer [data-package='11537']",
        "a package's tab",
    )
    .await;
    assert_eq!(
        pictures_shown(&client, "[data-sticker-choice='52002735'] img", 1).await,
        [linedesk_sim::pictures::colour_of("sticker:52002735")]
    );
    screenshot(&client, "05a2-sticker-palette").await;
    click_css(&client, "[data-sticker-choice='52002735']", "a sticker").await;
    let mut sent = Value::Null;
    for _ in 0..100 {
        let got = w
            .sim(&format!("/sim/customers/{user}/received"), Value::Null)
            .await;
        if let Some(m) = got
            .as_array()
            .and_then(|l| l.iter().find(|m| m["message"]["type"] == "sticker"))
        {
            sent = m["message"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        (&sent["packageId"], &sent["stickerId"]),
        (&json!("11537"), &json!("52002735")),
        "LINE received the sticker: {sent}"
    );
    assert_eq!(
        pictures_shown(&client, ".timeline .out [data-sticker='52002735'] img", 1).await,
        [linedesk_sim::pictures::colour_of("sticker:52002735")],
        "the sent sticker shows as its picture"
    );

    // The customer sends a file: it shows as a card and downloads through the relay.
    w.sim(
        &format!("/sim/customers/{user}/messages"),
        json!({"type": "file", "fileName": "invoice-2026.pdf"}),
    )
    .await;
    wait_text(&client, ".timeline .file", "invoice-2026.pdf").await;
    client
        .find(Locator::Css(".timeline .file button"))
        .await
        .expect("download button")
        .click()
        .await
        .expect("download");
    let saved = wait_text(&client, ".timeline .file", "Saved to").await;
    let path = downloads.join("invoice-2026.pdf");
    assert!(saved.contains("invoice-2026.pdf"), "{saved}");
    let bytes = std::fs::read_to_string(&path).expect("the file is in Downloads");
    assert_eq!(
        bytes,
        "A document from the LINE simulator: invoice-2026.pdf\n"
    );

    // Rita sends an image: uploaded to the relay, sent by URL; the URL serves those bytes.
    let photo = dir.path().join("parcel.png");
    std::fs::write(&photo, PNG_1X1).expect("write png");
    client
        .find(Locator::Css(".composer input[type=file]"))
        .await
        .expect("file input")
        .send_keys(&photo.display().to_string())
        .await
        .expect("pick the file");
    client
        .wait()
        .for_element(Locator::Css(".timeline img.sent"))
        .await
        .expect("the sent image shows in the timeline");
    let mut image = Value::Null;
    for _ in 0..100 {
        let got = w
            .sim(&format!("/sim/customers/{user}/received"), Value::Null)
            .await;
        if let Some(m) = got
            .as_array()
            // Not the quick reply's map, sent earlier: the file Rita picked now.
            .and_then(|l| {
                l.iter().find(|m| {
                    m["message"]["type"] == "image"
                        && m["message"]["originalContentUrl"] != map_url.as_str()
                })
            })
        {
            image = m.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = image["message"]["originalContentUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("the simulator recorded an image message: {image}"));
    // The console reached the relay over TLS, so the image's URL is https: trust the test CA.
    let ca = std::fs::read(w.ca_file.as_ref().expect("a TLS world")).expect("CA file");
    let fetcher = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("CA PEM"))
        .build()
        .expect("client");
    let served = fetcher.get(url).send().await.expect("fetch the image URL");
    assert_eq!(
        served.headers()["content-type"],
        "image/png",
        "served with its true type"
    );
    assert_eq!(
        served.bytes().await.expect("bytes").as_ref(),
        PNG_1X1,
        "the URL serves exactly the bytes rita sent"
    );
    screenshot(&client, "05b-file-and-sent-image").await;

    // The relay goes down: the console says so and keeps working. A send goes straight to
    // LINE with the short-lived channel token the console holds (the relay only hears of it
    // once it is back); the customer gets it exactly once.
    w.stop_relay().await;
    wait_text(&client, ".link", "Offline").await;
    let composer = client
        .find(Locator::Css(".composer textarea"))
        .await
        .expect("composer");
    composer
        .send_keys("系統恢復後會通知您。")
        .await
        .expect("type");
    composer.send_keys("\u{E007}").await.expect("enter");
    wait_text(&client, ".timeline", "系統恢復後會通知您。").await;
    screenshot(&client, "05c-offline").await;
    w.start_relay().await;
    wait_text(&client, ".link", "Connected").await;
    let mut delivered = 0;
    for _ in 0..150 {
        let got = w
            .sim(&format!("/sim/customers/{user}/received"), Value::Null)
            .await;
        delivered = got
            .as_array()
            .map(|l| {
                l.iter()
                    .filter(|m| m["message"]["text"] == "系統恢復後會通知您。")
                    .count()
            })
            .unwrap_or(0);
        if delivered > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        delivered, 1,
        "queued while offline, delivered once after reconnect"
    );
    wait_text(&client, ".timeline", "push (metered)").await;

    // A second customer; rita accepts from the notification, as on a desktop with actions.
    let ken = w.customer("Ken", "en").await;
    w.sim(
        &format!("/sim/customers/{ken}/messages"),
        json!({"type": "text", "text": "Is the store open on Sunday?"}),
    )
    .await;
    let note = note_for(&notes, "Ken");
    // A person takes a moment to press; the app listens for the answer once the note is up.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let iface = bus
        .object_server()
        .interface::<_, NotificationServer>("/org/freedesktop/Notifications")
        .await
        .expect("our notification interface");
    NotificationServer::action_invoked(iface.signal_emitter(), note.id, "accept")
        .await
        .expect("press Accept");
    wait_text(&client, "header", "Ken").await;
    wait_text(&client, "header .chip", "Active").await;

    // "Remind me": Ken's conversation set aside until a time, with a note; called off again.
    client
        .find(Locator::Css("header [data-action='remind']"))
        .await
        .expect("remind button")
        .click()
        .await
        .expect("open the reminder");
    fill(
        &client,
        "form[data-form='remind'] input[name='remind-note']",
        "Call Ken back on Sunday",
    )
    .await;
    client
        .find(Locator::Css(
            "form[data-form='remind'] button[type='submit']",
        ))
        .await
        .expect("set aside")
        .click()
        .await
        .expect("set the reminder");
    wait_text(&client, "header .chip", "Waiting").await;
    wait_text(
        &client,
        "[data-banner='reminder']",
        "Call Ken back on Sunday",
    )
    .await;
    screenshot(&client, "05d-reminder").await;
    client
        .find(Locator::Css("[data-banner='reminder'] button"))
        .await
        .expect("call off")
        .click()
        .await
        .expect("call off the reminder");
    for _ in 0..100 {
        if client
            .find_all(Locator::Css("[data-banner='reminder']"))
            .await
            .expect("query")
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        client
            .find_all(Locator::Css("[data-banner='reminder']"))
            .await
            .expect("query")
            .is_empty(),
        "the reminder is called off"
    );

    // End, wrap up, close: the customer receives the survey.
    client
        .find(Locator::Css("header .actions button[title='Ctrl+Shift+E']"))
        .await
        .expect("end")
        .click()
        .await
        .expect("end");
    wait_text(&client, "header .chip", "Wrap-up").await;
    screenshot(&client, "06-wrap-up").await;
    client
        .find(Locator::Css("header .actions button.primary"))
        .await
        .expect("close")
        .click()
        .await
        .expect("close");
    wait_text(&client, "header .chip", "Closed").await;
    wait_text(&client, ".thread", "This conversation is closed").await;
    let mut survey = Value::Null;
    for _ in 0..100 {
        let got = w
            .sim(&format!("/sim/customers/{ken}/received"), Value::Null)
            .await;
        if let Some(m) = got
            .as_array()
            .and_then(|l| l.iter().find(|m| !m["message"]["quickReply"].is_null()))
        {
            survey = m.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        survey["message"]["quickReply"]["items"]
            .as_array()
            .map(Vec::len),
        Some(5),
        "the customer got the 1–5 survey: {survey}"
    );
    wait_text(&client, ".timeline", "Automatic message").await;
    screenshot(&client, "07-closed-with-survey").await;

    // The owner keeps the record: the closed conversation as a transcript.
    click_xpath(
        &client,
        "//button[@data-action='transcript']",
        "Export transcript",
    )
    .await;
    wait_text(&client, ".thread [data-saved]", "Transcript saved to").await;

    // In Japanese, the shell's notification speaks Japanese too.
    click_xpath(
        &client,
        "//nav//button[normalize-space()='Settings']",
        "Settings",
    )
    .await;
    choose(&client, "//div[@role='dialog']//select", "ja").await;
    wait_text(&client, "#settings-heading", "設定").await;
    click_xpath(
        &client,
        "//div[@role='dialog']//div[contains(@class,'actions')]/button[last()]",
        "Close the settings",
    )
    .await;
    // The console tells the shell its words when the language changes.
    let cache = console_data
        .join("console")
        .join(linedesk_core::cache::CACHE_FILE);
    let mut told = false;
    for _ in 0..100 {
        told = rusqlite::Connection::open_with_flags(
            &cache,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .and_then(|db| {
            db.query_row(
                "SELECT value FROM meta WHERE key = 'shell_words'",
                [],
                |r| r.get::<_, String>(0),
            )
        })
        .is_ok_and(|w| w.contains("受ける"));
        if told {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(told, "the shell has the Japanese words");
    let yuki = w.customer("Yuki", "ja").await;
    w.sim(
        &format!("/sim/customers/{yuki}/messages"),
        json!({"type": "text", "text": "日曜日は営業していますか？"}),
    )
    .await;
    let note = note_for(&notes, "Yuki");
    for label in ["開く", "受ける", "断る"] {
        assert!(
            note.actions.iter().any(|a| a == label),
            "{label} among {:?}",
            note.actions
        );
    }
    wait_text(&client, ".request", "日曜日は営業していますか？").await;
    screenshot(&client, "08-japanese-request").await;
    // The quick replies she keeps, in Japanese.
    click_xpath(&client, "//nav//button[normalize-space()='設定']", "設定").await;
    click_xpath(
        &client,
        "//button[@data-action='quick-replies']",
        "クイック返信…",
    )
    .await;
    wait_text(&client, "#replies-heading", "クイック返信").await;
    wait_text(
        &client,
        "[data-reply='訂單查詢 Order status']",
        "訂單查詢 Order status",
    )
    .await;
    screenshot(&client, "08b-quick-replies").await;

    eprintln!(
        "figure: resident memory of the app and its WebKit processes: {} MiB",
        rss_mib(&["linedesk", "WebKitWebProces", "WebKitNetworkPr"])
    );
    client.close().await.expect("close session");
    drop(driver);
}

/// Waits for `user`'s conversation to be offered, then accepts it with `token`.
async fn accept_when_offered(w: &Loopback, token: &str, user: &str) {
    let id = w.offered(token, user).await;
    let (status, _) = w
        .api(
            reqwest::Method::POST,
            &format!("/api/conversations/{id}/accept"),
            token,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200);
}

/// Every process under `root` whose name starts with `name`.
fn descendants_named(root: u32, name: &str) -> Vec<u32> {
    linedesk_tests::process_tree(root)
        .into_iter()
        .filter(|(_, n)| n.starts_with(name))
        .map(|(pid, _)| pid)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_app_mid_send_delivers_exactly_once_after_restart() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run under xvfb-run"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let console = dir.path().join("console");
    let w = Loopback::start_tls(&dir.path().join("relay")).await;
    // Rita is available; a customer writes and she takes the chat.
    let api = w.login("rita", PASSWORD).await;
    w.api(
        reqwest::Method::POST,
        "/api/presence",
        &api,
        Some(json!({"presence": "available"})),
    )
    .await;
    let user = w.customer("Lena", "en").await;
    w.sim(
        &format!("/sim/customers/{user}/messages"),
        json!({"type": "text", "text": "Can you change my delivery address?"}),
    )
    .await;
    accept_when_offered(&w, &api, &user).await;

    let (client, driver) = launch(
        &console,
        &dir.path().join("driver-1.log"),
        w.ca_file.as_deref(),
    )
    .await;
    sign_in(&client, &w.console_url, "rita").await;
    wait_text(&client, ".list", "Lena").await;
    client
        .find(Locator::XPath(
            "//section[contains(@class,'list')]//button[contains(., 'Lena')]",
        ))
        .await
        .expect("Lena's conversation")
        .click()
        .await
        .expect("open");
    let composer = client
        .find(Locator::Css(".composer textarea"))
        .await
        .expect("composer");
    composer.send_keys("Of course.").await.expect("type");
    composer.send_keys("\u{E007}").await.expect("enter");
    wait_text(&client, ".timeline", "Sent · free (reply)").await;

    // Every push now takes effect at LINE but its answer is lost; the app is killed while it
    // would retry.
    w.sim("/sim/recording", json!({"on": true})).await;
    w.sim(
        "/sim/faults",
        json!({"path": "/v2/bot/message/push", "status": 500, "after": true, "count": 1000}),
    )
    .await;
    composer
        .send_keys("Done: the new address is saved.")
        .await
        .expect("type");
    composer.send_keys("\u{E007}").await.expect("enter");
    let mut reached = false;
    for _ in 0..100 {
        let got = w
            .sim(&format!("/sim/customers/{user}/received"), Value::Null)
            .await;
        if got.as_array().is_some_and(|l| l.len() == 2) {
            reached = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reached, "the push reached LINE");
    // A half-written answer in the composer: the cache keeps it once the typing pauses.
    composer
        .send_keys("Half-written: your parcel left")
        .await
        .expect("type");
    let cache = console
        .join("console")
        .join(linedesk_core::cache::CACHE_FILE);
    let mut kept = None;
    for _ in 0..100 {
        kept = rusqlite::Connection::open_with_flags(
            &cache,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .and_then(|db| db.query_row("SELECT text FROM drafts", [], |r| r.get::<_, String>(0)))
        .ok();
        if kept.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(kept.as_deref(), Some("Half-written: your parcel left"));
    let apps = descendants_named(driver.child.id(), "linedesk");
    assert!(!apps.is_empty(), "the app runs under the driver");
    for pid in apps {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    drop(client);
    drop(driver);
    w.sim_request(reqwest::Method::DELETE, "/sim/faults", Value::Null)
        .await;

    // Start again: the session comes back from the keyring, the outbox resends with the same
    // retry key, LINE answers 409 (already accepted), and the customer has it once.
    let (client, driver) = launch(
        &console,
        &dir.path().join("driver-2.log"),
        w.ca_file.as_deref(),
    )
    .await;
    wait_text(&client, ".link", "Connected").await;
    wait_text(&client, ".list", "Lena").await;
    client
        .find(Locator::XPath(
            "//section[contains(@class,'list')]//button[contains(., 'Lena')]",
        ))
        .await
        .expect("Lena's conversation")
        .click()
        .await
        .expect("open");
    wait_text(&client, ".timeline", "Sent · push (metered)").await;
    // The draft came back with the app.
    let mut draft = Value::Null;
    for _ in 0..100 {
        draft = client
            .execute(
                "return document.querySelector('.composer textarea')?.value ?? null",
                vec![],
            )
            .await
            .expect("composer value");
        if draft == json!("Half-written: your parcel left") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        draft,
        json!("Half-written: your parcel left"),
        "the draft outlived the kill"
    );
    screenshot(&client, "09-after-kill").await;
    let got = w
        .sim(&format!("/sim/customers/{user}/received"), Value::Null)
        .await;
    let copies: Vec<&Value> = got
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|m| m["message"]["text"] == "Done: the new address is saved.")
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(copies.len(), 1, "delivered exactly once: {got}");
    let recorded = w.sim("/sim/recorded", Value::Null).await;
    let conflicts = recorded
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|r| r["path"] == "/v2/bot/message/push" && r["status"] == 409)
                .count()
        })
        .unwrap_or(0);
    assert!(
        conflicts >= 1,
        "the retry after the restart reused the retry key (LINE answered 409): {recorded}"
    );
    client.close().await.expect("close");
    drop(driver);
}

/// Clicks the element `xpath` finds (`what` names it in a failure), waiting for it first.
async fn click_xpath(client: &Client, xpath: &str, what: &str) {
    click_at(client, Locator::XPath(xpath), what).await;
}

/// Clicks the element `css` finds (`what` names it in a failure), waiting for it first.
async fn click_css(client: &Client, css: &str, what: &str) {
    click_at(client, Locator::Css(css), what).await;
}

/// Waits for the element `at` and clicks it; found again when the list it is in re-rendered
/// between finding and clicking (a stale element), until 15 s have passed.
async fn click_at(client: &Client, at: Locator<'_>, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let el = client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(at)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        match el.click().await {
            Ok(()) => return,
            Err(e) if e.is_stale_element_reference() && tokio::time::Instant::now() < deadline => {}
            Err(e) => {
                screenshot(client, "failure").await;
                panic!("click {what}: {e:?}");
            }
        }
    }
}

/// Clicks the button whose text is exactly `text`.
async fn click_text(client: &Client, text: &str) {
    let xpath = format!("//button[normalize-space()='{text}']");
    click_xpath(client, &xpath, &format!("the button {text:?}")).await;
}

/// Clicks the save button at `xpath` and waits for the "Saved." of this click: the status
/// line of an earlier save still reads "Saved." until the form clears it, so that line is
/// first seen gone.
async fn save_and_wait(client: &Client, xpath: &str, what: &str) {
    let earlier = client.find(Locator::Css(".panel .status")).await.ok();
    click_xpath(client, xpath, what).await;
    if let Some(earlier) = earlier {
        let mut gone = false;
        for _ in 0..150 {
            if earlier.text().await.is_err() {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(gone, "{what}: the earlier status line stayed");
    }
    wait_text(client, ".panel .status", "Saved.").await;
}

/// Saves the routing tab's workstream form, waiting for this save's "Saved.".
async fn save_workstream(client: &Client) {
    let xpath = "//button[normalize-space()='Save workstream']";
    save_and_wait(client, xpath, "Save workstream").await;
}

/// Types into the input found by `css` (cleared first).
async fn fill(client: &Client, css: &str, value: &str) {
    let input = client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    input.clear().await.expect("clear");
    input.send_keys(value).await.expect("type");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_and_identity_in_the_real_window() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run under xvfb-run"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    use linedesk_protocol::Role;
    use linedesk_tests::{CHANNEL, SECRET, TOKEN};
    let dir = tempfile::tempdir().expect("tempdir");
    let relay_dir = dir.path().join("relay");
    let w = Loopback::start_bare(&relay_dir).await;
    w.add_user("ada", Role::Admin, PASSWORD);
    w.add_user("sam", Role::Supervisor, PASSWORD);
    // Sam supervises the general queue: he sees its customers, and only those.
    let admin = w.login("ada", PASSWORD).await;
    let (status, body) = w
        .api(
            reqwest::Method::PUT,
            "/api/queues/general",
            &admin,
            Some(json!({"name": "General", "priority": 0, "members": [], "supervisors": ["sam"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // --- The admin adds the channel: a bad token is refused by field, then a good one. ---
    let (client, driver) = launch(
        &dir.path().join("console-ada"),
        &dir.path().join("driver-ada.log"),
        None,
    )
    .await;
    sign_in(&client, &w.relay_url, "ada").await;
    click_text(&client, "Admin").await;
    wait_text(&client, ".panel", "Add a LINE channel").await;
    wait_text(&client, ".panel .notice", "outside your organisation").await;
    fill(&client, "input[name=id]", CHANNEL).await;
    fill(&client, "input[name=name]", "Support TW").await;
    fill(&client, "input[name=secret]", SECRET).await;
    fill(&client, "input[name=token]", "expired-token-from-2019").await;
    click_text(&client, "Check and add").await;
    let refused = wait_text(
        &client,
        "form.card .err",
        "LINE does not accept this access token",
    )
    .await;
    assert!(!refused.contains(SECRET), "{refused}");
    screenshot(&client, "10-channel-bad-token").await;
    fill(&client, "input[name=token]", TOKEN).await;
    click_text(&client, "Check and add").await;
    wait_text(&client, ".tab .status", "Channel Support TW added").await;
    let panel = wait_text(&client, ".health", "••••cdef").await;
    assert!(
        !panel.contains(SECRET) && !panel.contains(TOKEN),
        "masked: {panel}"
    );
    wait_text(&client, ".health", "Not set").await;

    // Set the webhook in LINE (the simulator) and run LINE's test call.
    click_text(&client, "Set webhook in LINE").await;
    wait_text(&client, ".health", "Points at this relay").await;
    click_text(&client, "Test webhook").await;
    wait_text(&client, ".test", "Test passed.").await;

    // A forged webhook shows on the health panel.
    let forged = w
        .http
        .post(format!("{}/line/{CHANNEL}/webhook", w.relay_url))
        .header("x-line-signature", "Zm9yZ2VkIHNpZ25hdHVyZQ==")
        .body(r#"{"destination":"Uxxx","events":[]}"#)
        .send()
        .await
        .expect("forged webhook");
    assert_eq!(forged.status(), 401);
    tokio::time::sleep(Duration::from_millis(300)).await;
    click_text(&client, "Check now").await;
    wait_text(&client, "[data-field=signature-failures]", "1").await;
    wait_text(&client, ".health", "Valid").await;
    screenshot(&client, "11-channel-health").await;
    // Users and roles: everyone with role, capacity, queues and skills.
    click_text(&client, "Users").await;
    wait_text(&client, ".tab", "Supervisor").await;
    wait_text(&client, ".tab", "New user").await;
    screenshot(&client, "11b-users").await;
    client.close().await.expect("close session");
    drop(driver);

    // An existing contact, made by a supervisor over the API.
    let sam_api = w.login("sam", PASSWORD).await;
    let (status, contact) = w
        .api(
            reqwest::Method::POST,
            "/api/contacts",
            &sam_api,
            Some(json!({"name": "Chen Mei-hua", "phone": "+886 912 000 321",
                        "email": "meihua.chen@example.tw", "company": "Chen Trading"})),
        )
        .await;
    assert_eq!(status, 200, "{contact}");

    // --- A representative links the customer to the existing contact. ---
    let (client, driver) = launch(
        &dir.path().join("console-rita"),
        &dir.path().join("driver-rita.log"),
        None,
    )
    .await;
    sign_in(&client, &w.relay_url, "rita").await;
    set_presence(&client, "available").await;
    let mei = w.customer("Mei Chen", "zh-TW").await;
    w.sim(
        &format!("/sim/customers/{mei}/messages"),
        json!({"type": "text", "text": "請問我的退款 ERASE-MARKER-1 處理了嗎？"}),
    )
    .await;
    wait_text(&client, ".requests .request", "Mei Chen").await;
    client
        .find(Locator::Css(".request button.primary"))
        .await
        .expect("accept")
        .click()
        .await
        .expect("accept");
    wait_text(&client, "header .chip", "Active").await;
    wait_text(&client, ".identity", "Chen Mei-hua").await;
    fill(
        &client,
        ".identity input[aria-label='Why (kept in the history)']",
        "asked for her order number",
    )
    .await;
    client
        .find(Locator::XPath(
            "//section[contains(@class,'identity')]//li[contains(., 'Chen Mei-hua')]/button",
        ))
        .await
        .expect("Link on the suggestion")
        .click()
        .await
        .expect("link");
    wait_text(&client, ".identity .name", "Chen Mei-hua").await;
    wait_text(&client, ".identity", "meihua.chen@example.tw").await;
    screenshot(&client, "12-linked-contact").await;
    click_text(&client, "End").await;
    wait_text(&client, "header .chip", "Wrap-up").await;
    click_text(&client, "Close").await;
    wait_text(&client, "header .chip", "Closed").await;

    // Her next conversation arrives linked: the request card knows her before anyone accepts.
    w.sim(
        &format!("/sim/customers/{mei}/messages"),
        json!({"type": "text", "text": "還有一件事 ERASE-MARKER-2"}),
    )
    .await;
    let card = wait_text(&client, ".requests .request .known", "Chen Mei-hua").await;
    assert!(card.contains("Chen Trading"), "{card}");
    screenshot(&client, "13-known-customer-request").await;
    client
        .find(Locator::Css(".request button.primary"))
        .await
        .expect("accept")
        .click()
        .await
        .expect("accept");
    wait_text(&client, ".identity .name", "Chen Mei-hua").await;
    let summary = wait_text(&client, ".identity", "rita · Active").await;
    assert!(
        summary.contains("Conversations on every channel") && summary.contains("rita · Closed"),
        "both conversations: {summary}"
    );
    click_text(&client, "End").await;
    wait_text(&client, "header .chip", "Wrap-up").await;
    click_text(&client, "Close").await;
    wait_text(&client, "header .chip", "Closed").await;
    client.close().await.expect("close session");
    drop(driver);

    // --- A supervisor creates a contact from a new profile, then erases Mei. ---
    let ken = w.customer("Tanaka Ken", "ja").await;
    w.sim(
        &format!("/sim/customers/{ken}/messages"),
        json!({"type": "text", "text": "配送について質問があります"}),
    )
    .await;
    let (client, driver) = launch(
        &dir.path().join("console-sam"),
        &dir.path().join("driver-sam.log"),
        None,
    )
    .await;
    sign_in(&client, &w.relay_url, "sam").await;
    click_xpath(&client, "//button[contains(@class,'card')][.//span[contains(@class,'name') and normalize-space()='Tanaka Ken']]", "Tanaka in the list").await;
    wait_text(&client, ".identity", "Not linked to a contact yet.").await;
    click_text(&client, "New contact from this profile").await;
    let name = client
        .find(Locator::Css(".identity input[name=contact-name]"))
        .await
        .expect("name field")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(
        name.as_deref(),
        Some("Tanaka Ken"),
        "prefilled from the profile"
    );
    fill(
        &client,
        ".identity input[name=contact-phone]",
        "call me maybe",
    )
    .await;
    click_text(&client, "Create and link").await;
    wait_text(&client, ".identity .err", "digits, spaces and + - ( ) only").await;
    fill(
        &client,
        ".identity input[name=contact-phone]",
        "+81 90 1234 5678",
    )
    .await;
    fill(
        &client,
        ".identity input[name=contact-email]",
        "ken.tanaka@example.jp",
    )
    .await;
    click_text(&client, "Create and link").await;
    wait_text(&client, ".identity .name", "Tanaka Ken").await;
    screenshot(&client, "14-supervisor-created-contact").await;

    click_text(&client, "Contacts").await;
    fill(&client, ".panel input[type=search]", "meihua").await;
    click_xpath(
        &client,
        "//button[contains(@class,'row-button')][contains(., 'Chen Mei-hua')]",
        "Mei in the search",
    )
    .await;
    wait_text(&client, ".panel .right", "Linked by rita").await;
    click_text(&client, "Erase…").await;
    wait_text(&client, ".panel .warn", "cannot be undone").await;
    screenshot(&client, "15-erase-confirm").await;
    click_text(&client, "Erase Chen Mei-hua now").await;
    wait_text(&client, ".panel .status", "was erased").await;
    // Every console forgets her too.
    for _ in 0..100 {
        let gone = client
            .find_all(Locator::XPath(
                "//span[contains(@class,'name') and normalize-space()='Mei Chen']",
            ))
            .await
            .expect("query")
            .is_empty();
        if gone {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        client
            .find_all(Locator::XPath(
                "//span[contains(@class,'name') and normalize-space()='Mei Chen']"
            ))
            .await
            .expect("query")
            .is_empty(),
        "the erased customer left the console's list"
    );
    screenshot(&client, "16-erased").await;
    client.close().await.expect("close session");
    drop(driver);
    w.stop_relay().await;
    // The supervisor's console was online: its cache forgot her as well.
    for needle in ["ERASE-MARKER-1", "ERASE-MARKER-2", mei.as_str()] {
        assert_eq!(
            linedesk_tests::files_holding(&dir.path().join("console-sam"), needle.as_bytes()),
            Vec::<PathBuf>::new(),
            "{needle} left in the supervisor's console cache"
        );
    }

    // Nothing of Mei remains in the relay's database or media store.
    for needle in [
        "Chen Mei-hua",
        "meihua.chen@example.tw",
        "912 000 321",
        "ERASE-MARKER-1",
        "ERASE-MARKER-2",
        "Mei Chen",
        mei.as_str(),
    ] {
        assert_eq!(
            linedesk_tests::files_holding(&relay_dir, needle.as_bytes()),
            Vec::<PathBuf>::new(),
            "{needle} left in the relay's files"
        );
    }
    // No channel secret, token or password in plain text in anything relay or consoles wrote,
    // logs included.
    for needle in [SECRET, TOKEN, PASSWORD] {
        assert_eq!(
            linedesk_tests::files_holding(dir.path(), needle.as_bytes()),
            Vec::<PathBuf>::new(),
            "{needle} in plain text"
        );
    }
}

/// The representative's agent as the relay reports it.
async fn agent_of(w: &Loopback, token: &str, user: &str) -> Value {
    let (_, list) = w
        .api(reqwest::Method::GET, "/api/agents", token, None)
        .await;
    list.as_array()
        .and_then(|l| l.iter().find(|a| a["user"] == user).cloned())
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_console_is_dropped_within_a_minute_and_offered_nothing() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run under xvfb-run"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let console = dir.path().join("console");
    // The relay as it ships: a console silent for 45 s is taken as gone.
    let w = Loopback::start(&dir.path().join("relay")).await;
    w.add_user("ada", linedesk_protocol::Role::Admin, PASSWORD);
    let (client, driver) = launch(&console, &dir.path().join("driver.log"), None).await;
    sign_in(&client, &w.console_url, "rita").await;
    let api = w.login("rita", PASSWORD).await;
    w.api(
        reqwest::Method::POST,
        "/api/presence",
        &api,
        Some(json!({"presence": "available"})),
    )
    .await;
    assert_eq!(agent_of(&w, &api, "rita").await["connected"], true);
    // Freeze the app: its socket stays open, but it says nothing more.
    let apps = descendants_named(driver.child.id(), "linedesk");
    assert!(!apps.is_empty(), "the app process");
    for pid in &apps {
        let _ = Command::new("kill")
            .args(["-STOP", &pid.to_string()])
            .status();
    }
    let frozen = std::time::Instant::now();
    loop {
        if agent_of(&w, &api, "rita").await["connected"] == false {
            break;
        }
        assert!(
            frozen.elapsed() < Duration::from_secs(60),
            "a frozen console still counts as connected after {:?}",
            frozen.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!("a frozen console was dropped after {:?}", frozen.elapsed());
    // A customer writes: nobody is offered it, rita least of all.
    let user = w.customer("Pim", "en").await;
    w.sim(
        &format!("/sim/customers/{user}/messages"),
        json!({"type": "text", "text": "Hello, is anyone there?"}),
    )
    .await;
    linedesk_relay::routing::Routing::settled(&w.relay()).await;
    let admin = w.login("ada", PASSWORD).await;
    let (_, list) = w
        .api(
            reqwest::Method::GET,
            &format!("/api/conversations?chat={user}"),
            &admin,
            None,
        )
        .await;
    let conversation = list
        .as_array()
        .and_then(|l| l.first())
        .cloned()
        .expect("the customer's conversation");
    assert!(
        conversation["offer"].is_null(),
        "offered to a frozen console: {conversation}"
    );
    for pid in &apps {
        let _ = Command::new("kill")
            .args(["-CONT", &pid.to_string()])
            .status();
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    drop(driver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customers_video_plays_and_seeks_in_the_real_window() {
    use base64::Engine as _;
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run under xvfb-run"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let console = dir.path().join("console");
    let w = Loopback::start(&dir.path().join("relay")).await;
    let api = w.login("rita", PASSWORD).await;
    w.api(
        reqwest::Method::POST,
        "/api/presence",
        &api,
        Some(json!({"presence": "available"})),
    )
    .await;
    let user = w.customer("Noor", "en").await;
    w.sim(
        &format!("/sim/customers/{user}/messages"),
        json!({"type": "text", "text": "The parcel arrived like this:"}),
    )
    .await;
    accept_when_offered(&w, &api, &user).await;
    // A real H.264 clip of 4 s (tests/fixtures/media/clip.mp4, made with ffmpeg's test source).
    let clip = std::fs::read(workspace().join("tests/fixtures/media/clip.mp4")).expect("clip");
    let video = w
        .sim(
            &format!("/sim/customers/{user}/messages"),
            json!({"type": "video", "duration": 4000,
                   "contentBase64": base64::engine::general_purpose::STANDARD.encode(&clip)}),
        )
        .await["messageId"]
        .as_str()
        .expect("message id")
        .to_owned();
    // The relay has it from LINE before the console asks.
    let media = format!(
        "{}/api/media/{}/{video}",
        w.relay_url,
        linedesk_tests::CHANNEL
    );
    for _ in 0..200 {
        let resp = w
            .http
            .get(&media)
            .bearer_auth(&api)
            .send()
            .await
            .expect("media");
        if resp.status() == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (client, driver) = launch(&console, &dir.path().join("driver.log"), None).await;
    sign_in(&client, &w.console_url, "rita").await;
    wait_text(&client, ".list", "Noor").await;
    click_xpath(
        &client,
        "//section[contains(@class,'list')]//button[contains(., 'Noor')]",
        "Noor's conversation",
    )
    .await;
    click_xpath(
        &client,
        "//button[contains(., '▶')]",
        "the video's play button",
    )
    .await;
    client
        .wait()
        .for_element(Locator::Css("video"))
        .await
        .expect("the video element");
    // Seek to 2.5 s once the metadata is in; answer where the video stands after `seeked`.
    let seeked = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               const v = document.querySelector("video");
               const timer = setTimeout(() => done({error: "no seeked event", state: v.readyState}), 15000);
               v.addEventListener("error", () => done({error: "media error " + (v.error && v.error.code)}), {once: true});
               const seek = () => {
                 v.addEventListener("seeked", () => { clearTimeout(timer); done({at: v.currentTime, duration: v.duration}); }, {once: true});
                 v.currentTime = 2.5;
               };
               if (v.readyState >= 1) seek(); else v.addEventListener("loadedmetadata", seek, {once: true});"#,
            vec![],
        )
        .await
        .expect("script ran");
    screenshot(&client, "video-seeked").await;
    let at = seeked["at"].as_f64().unwrap_or_else(|| panic!("{seeked}"));
    assert!(
        (at - 2.5).abs() < 0.6,
        "the video stands at {at} s: {seeked}"
    );
    assert!(
        (seeked["duration"].as_f64().unwrap_or(0.0) - 4.0).abs() < 0.5,
        "{seeked}"
    );
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    drop(driver);
}

/// Sets a `<select>` found by `xpath` to the option with `value`, as a person choosing it does.
async fn choose(client: &Client, xpath: &str, value: &str) {
    client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|e| panic!("{xpath}: {e}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("choose {value} in {xpath}: {e}"));
}

/// Types into the element found by `xpath` (cleared first).
async fn type_into(client: &Client, xpath: &str, value: &str) {
    let el = client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|e| panic!("{xpath}: {e}"));
    el.clear().await.expect("clear");
    el.send_keys(value).await.expect("type");
}

/// Scrolls the admin panel back to its top, where its tabs are.
async fn to_top(client: &Client) {
    client
        .execute("document.querySelector('.panel')?.scrollTo(0, 0);", vec![])
        .await
        .expect("scroll to the top");
}

/// Sets the value of the field found by `xpath` as typing then leaving it would (input and
/// change events): for Thai and other text that WebDriver's key events do not carry.
async fn set_value(client: &Client, xpath: &str, value: &str) {
    client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|e| panic!("{xpath}: {e}"));
    client
        .execute(
            "const el = document.evaluate(arguments[0], document, null, 9, null).singleNodeValue; \
             el.focus(); el.value = arguments[1]; \
             el.dispatchEvent(new Event('input', {bubbles: true})); \
             el.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(xpath), json!(value)],
        )
        .await
        .unwrap_or_else(|e| panic!("set {xpath}: {e}"));
}

/// 2026-12-02T10:00 in Asia/Bangkok (03:00 UTC): a Wednesday, inside the default hours.
const WEDNESDAY_10_IN_BANGKOK_MS: i64 = 1_796_180_400_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_routing_entirely_through_the_forms() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run under xvfb-run"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    // Routing reads the hours set below on the relay's clock, held at a time the Thai desk
    // is open, so the test does not depend on when it runs.
    let open = linedesk_relay::clock::ManualClock::new(WEDNESDAY_10_IN_BANGKOK_MS);
    let w = Loopback::start_with_clock(&dir.path().join("relay"), std::sync::Arc::new(open)).await;
    w.add_user("ada", linedesk_protocol::Role::Admin, PASSWORD);
    w.add_user("noi", linedesk_protocol::Role::Rep, PASSWORD);
    let (client, driver) = launch(
        &dir.path().join("console"),
        &dir.path().join("driver.log"),
        None,
    )
    .await;
    sign_in(&client, &w.relay_url, "ada").await;
    click_xpath(&client, "//nav//button[normalize-space()='Admin']", "Admin").await;
    wait_text(&client, ".panel", "Support TW").await;
    click_text(&client, "Routing").await;

    // The workstream: a shorter countdown and a wrap-up block of two and a half minutes.
    wait_text(&client, ".panel", "Offer countdown").await;
    type_into(&client, "//input[@name='offerTimeout']", "60\t").await;
    choose(
        &client,
        "//label[contains(., 'Wrap-up uses capacity')]/select",
        "duration",
    )
    .await;
    type_into(&client, "//input[@name='wrapUpMinutes']", "2.5\t").await;
    save_workstream(&client).await;

    // Two queues, each with hours in a time zone and a holiday.
    click_text(&client, "Queues").await;
    for (id, name, zone, holiday) in [
        ("thai", "Thai desk", "Asia/Bangkok", "2026-12-05"),
        ("vip", "VIP", "Asia/Taipei", "2026-12-25"),
    ] {
        fill(&client, ".panel input[name=new-queue-id]", id).await;
        fill(&client, ".panel input[name=new-queue-name]", name).await;
        click_text(&client, "Add queue").await;
        wait_text(&client, ".panel", &format!("({id})")).await;
        let card = format!("//details[@data-queue='{id}']");
        click_xpath(&client, &format!("{card}/summary"), name).await;
        click_xpath(
            &client,
            &format!("{card}//input[@name='has-hours']"),
            "hours",
        )
        .await;
        choose(&client, &format!("{card}//select[@name='time-zone']"), zone).await;
        click_xpath(
            &client,
            &format!("{card}//input[@name='open-sat']"),
            "Saturday",
        )
        .await;
        click_xpath(
            &client,
            &format!("{card}//button[normalize-space()='Add a holiday']"),
            "add a holiday",
        )
        .await;
        set_value(
            &client,
            &format!("{card}//input[@name='holiday-0']"),
            holiday,
        )
        .await;
        save_and_wait(
            &client,
            &format!("{card}//button[normalize-space()='Save queue']"),
            "save the queue",
        )
        .await;
    }
    screenshot(&client, "14-queue-hours").await;

    // A rule with a required skill, tried with a sample message before it is saved.
    to_top(&client).await;
    click_text(&client, "Routing rules").await;
    click_text(&client, "Add a rule").await;
    type_into(&client, "//input[@aria-label='Rule name']", "Thai speakers").await;
    set_value(
        &client,
        "//input[@aria-label='Message contains one of']",
        "สวัสดี",
    )
    .await;
    choose(
        &client,
        "//label[contains(., 'Then send to')]/select",
        "thai",
    )
    .await;
    type_into(
        &client,
        "//label[contains(., 'Required skills')]/input",
        "thai\t",
    )
    .await;
    set_value(&client, "//textarea[@name='sample']", "สวัสดีครับ").await;
    click_text(&client, "Test").await;
    let result = wait_text(&client, ".panel .result", "Thai desk").await;
    assert!(
        result.contains("Rule 1 “Thai speakers” matches"),
        "{result}"
    );
    assert!(result.contains("needs thai"), "{result}");
    screenshot(&client, "14-rule-test").await;
    save_workstream(&client).await;

    // The place-in-queue message in Thai, its variable from the chip.
    to_top(&client).await;
    click_text(&client, "Automated messages").await;
    let block = "//fieldset[legend='Place in the queue']";
    click_xpath(
        &client,
        &format!("{block}//button[normalize-space()='ไทย']"),
        "Thai",
    )
    .await;
    set_value(&client, &format!("{block}//textarea"), "คุณอยู่ลำดับที่ ").await;
    click_xpath(
        &client,
        &format!("{block}//button[normalize-space()='{{Position}}']"),
        "the chip",
    )
    .await;
    wait_text(&client, ".panel", "คุณอยู่ลำดับที่ 3").await;
    screenshot(&client, "14-thai-message").await;
    save_workstream(&client).await;
    let admin = w.login("ada", PASSWORD).await;
    let workstream = format!("/api/workstreams/{}", linedesk_tests::CHANNEL);
    let (_, saved) = w.api(reqwest::Method::GET, &workstream, &admin, None).await;
    assert_eq!(
        saved["messages"]["queue_position"]["th"], "คุณอยู่ลำดับที่ {Position}",
        "the relay holds the Thai text before the customer writes: {saved}"
    );

    // A Thai customer writes: the rule sends them to the Thai desk, and nobody is there to
    // take them, so they hear their place in Thai.
    let somchai = w.customer("สมชาย", "th").await;
    w.sim(
        &format!("/sim/customers/{somchai}/messages"),
        json!({"type": "text", "text": "สวัสดีครับ ขอสอบถามหน่อย"}),
    )
    .await;
    let mut queue = Value::Null;
    for _ in 0..100 {
        let (_, list) = w
            .api(
                reqwest::Method::GET,
                &format!("/api/conversations?chat={somchai}"),
                &admin,
                None,
            )
            .await;
        queue = list[0]["queueId"].clone();
        if !queue.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(queue, json!("thai"), "the rule chose the Thai desk");
    let mut heard = Vec::new();
    for _ in 0..100 {
        heard = w
            .sim(&format!("/sim/customers/{somchai}/received"), Value::Null)
            .await
            .as_array()
            .cloned()
            .unwrap_or_default();
        if heard.iter().any(|m| m["message"]["text"] == "คุณอยู่ลำดับที่ 1")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        heard.iter().any(|m| m["message"]["text"] == "คุณอยู่ลำดับที่ 1"),
        "the Thai position message: {heard:?}"
    );
    let (_, ws) = w.api(reqwest::Method::GET, &workstream, &admin, None).await;
    assert_eq!(ws["offerTimeoutMs"], 60_000, "{ws}");
    assert_eq!(
        ws["wrapUpBlocks"],
        json!({"kind": "duration", "ms": 150_000})
    );
    assert_eq!(ws["rules"][0]["requiredSkills"], json!(["thai"]));
    let (_, queues) = w
        .api(reqwest::Method::GET, "/api/queues", &admin, None)
        .await;
    let vip = queues
        .as_array()
        .and_then(|l| l.iter().find(|q| q["id"] == "vip"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(vip["queue"]["hours"]["timeZone"], "Asia/Taipei", "{vip}");
    assert_eq!(vip["queue"]["hours"]["holidays"][0]["date"], "2026-12-25");

    // In Japanese, a refusal says why under its field.
    to_top(&client).await;
    click_text(&client, "Close").await;
    click_xpath(
        &client,
        "//nav//button[normalize-space()='Settings']",
        "Settings",
    )
    .await;
    choose(&client, "//div[@role='dialog']//select", "ja").await;
    client
        .find(Locator::Css(".dialog"))
        .await
        .expect("settings")
        .send_keys("\u{E00C}")
        .await
        .expect("Esc");
    click_xpath(&client, "//nav//button[normalize-space()='管理']", "管理").await;
    click_xpath(
        &client,
        "//div[@role='tablist']/button[3]",
        "the routing tab",
    )
    .await;
    type_into(&client, "//input[@name='declineLimit']", "6\t").await;
    click_xpath(
        &client,
        "//section/button[contains(@class,'primary')]",
        "保存",
    )
    .await;
    let under = wait_text(
        &client,
        "label:has(input[name=declineLimit]) .err",
        "1〜5 の数値を入力してください。",
    )
    .await;
    assert!(!under.is_empty());
    screenshot(&client, "14-refusal-ja").await;
    client.close().await.expect("close session");
    drop(driver);
}

/// Finds the row of the reports table whose heading is `name`; answers its cell `column`.
async fn report_cell(client: &Client, name: &str, column: &str) -> String {
    let xpath = format!("//tbody/tr[th[normalize-space()='{name}']]/td[@data-column='{column}']");
    for _ in 0..100 {
        if let Ok(cell) = client.find(Locator::XPath(&xpath)).await {
            if let Ok(text) = cell.text().await {
                return text;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    screenshot(client, "failure").await;
    panic!("no report cell {column} for {name}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_reads_the_reports_with_charts_in_the_real_window() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run under xvfb-run"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let (w, _admin, rita) = supervised_floor(
        dir.path(),
        json!({"serviceLevel": {"percent": 80, "withinMs": 60_000}}),
    )
    .await;
    // A little history: Rita takes two customers and answers one of them.
    for (i, name) in ["王小明", "Somchai"].into_iter().enumerate() {
        let customer = w.customer(name, "en").await;
        w.sim(
            &format!("/sim/customers/{customer}/messages"),
            json!({"type": "text", "text": "hello"}),
        )
        .await;
        accept_when_offered(&w, &rita, &customer).await;
        if i == 0 {
            let (status, body) = w
                .api(
                    reqwest::Method::POST,
                    "/api/send",
                    &rita,
                    Some(
                        json!({"outboxId": "00000000-0000-4000-8000-000000000001", "channelId": linedesk_tests::CHANNEL,
                                "chatId": customer, "messages": [{"type": "text", "text": "Hi!"}]}),
                    ),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
    }

    // In dark mode (the console follows the OS; GTK's dark theme tells WebKit): the light one is
    // in the floor's screenshots.
    let console = dir.path().join("console");
    let (client, driver) = launch_with(
        &console,
        &dir.path().join("driver.log"),
        None,
        &[("GTK_THEME", "Adwaita:dark")],
    )
    .await;
    sign_in(&client, &w.relay_url, "sam").await;
    let dark = client
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches",
            vec![],
        )
        .await
        .expect("media query");
    assert_eq!(dark, json!(true), "the web view is in dark mode");
    click_xpath(
        &client,
        "//nav//button[normalize-space()='Reports']",
        "Reports",
    )
    .await;
    wait_text(&client, ".panel", "Days in UTC").await;
    choose(&client, "//select[@name='by']", "agent").await;
    assert_eq!(report_cell(&client, USER, "accepted").await, "2");
    assert_eq!(report_cell(&client, USER, "sent_free").await, "1");
    assert_eq!(
        report_cell(&client, "Nobody (automated, not taken)", "received").await,
        "2"
    );
    let charts = client
        .find_all(Locator::Css(".panel figure.chart canvas"))
        .await
        .expect("charts");
    assert_eq!(charts.len(), 3, "volume, times and messages sent");
    screenshot(&client, "15-reports-by-representative-dark").await;

    choose(&client, "//select[@name='by']", "queue").await;
    assert_eq!(report_cell(&client, "Support TW", "received").await, "2");
    click_text(&client, "Export CSV").await;
    let saved = wait_text(&client, ".panel .status", "Saved").await;
    let path = saved.trim_start_matches("Saved ").trim();
    let text = std::fs::read_to_string(path).expect("the CSV in Downloads");
    assert!(text.starts_with("Queue,Received,Accepted,"), "{text}");
    assert!(text.contains("\r\nSupport TW,2,2,"), "{text}");
    assert!(path.starts_with(console.join("downloads").to_str().expect("path")));
    screenshot(&client, "16-reports-by-queue-dark").await;
    click_xpath(
        &client,
        "//div[@role='dialog']//header/button",
        "Close the reports",
    )
    .await;
    click_xpath(&client, "//nav//button[normalize-space()='Floor']", "Floor").await;
    wait_text(&client, "tr[data-agent=rita] td[data-column=active]", "2").await;
    screenshot(&client, "21-floor-dark").await;
    client.close().await.expect("close session");
    drop(driver);
}

/// A websocket of `token`'s user on the relay, as a console holds one.
async fn console_socket(
    relay_url: &str,
    token: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use futures_util::SinkExt as _;
    let url = format!("{}/api/ws", relay_url.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("websocket");
    let hello = linedesk_protocol::ClientFrame::Hello {
        version: linedesk_protocol::PROTOCOL_VERSION,
        token: token.to_owned(),
        since: None,
    };
    ws.send(tokio_tungstenite::tungstenite::Message::text(
        serde_json::to_string(&hello).expect("json"),
    ))
    .await
    .expect("hello");
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_watches_the_floor_whispers_and_force_closes_in_the_real_window() {
    use base64::Engine as _;
    use futures_util::StreamExt as _;
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run under xvfb-run"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let (w, admin, rita) = supervised_floor(dir.path(), json!({})).await;
    let mut ritas_console = console_socket(&w.relay_url, &rita).await;
    let (client, driver) = launch(
        &dir.path().join("console"),
        &dir.path().join("driver.log"),
        None,
    )
    .await;
    sign_in(&client, &w.relay_url, "sam").await;

    // The floor follows the stream: a customer writes (offered), Rita takes him (in progress).
    click_xpath(&client, "//nav//button[normalize-space()='Floor']", "Floor").await;
    wait_text(
        &client,
        "tr[data-queue=general] td[data-column=waiting]",
        "0",
    )
    .await;
    let ken = w.customer("Tanaka Ken", "ja").await;
    w.sim(
        &format!("/sim/customers/{ken}/messages"),
        json!({"type": "text", "text": "注文した商品が届きません"}),
    )
    .await;
    // A photo of the parcel label, for the transcript's thumbnail.
    let label = image::RgbImage::from_fn(900, 600, |x, y| {
        if (x / 60 + y / 60) % 2 == 0 {
            image::Rgb([240, 190, 40])
        } else {
            image::Rgb([40, 60, 90])
        }
    });
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(label)
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    w.sim(
        &format!("/sim/customers/{ken}/messages"),
        json!({"type": "image",
               "contentBase64": base64::engine::general_purpose::STANDARD.encode(png.get_ref())}),
    )
    .await;
    wait_text(
        &client,
        "tr[data-queue=general] td[data-column=offered]",
        "1",
    )
    .await;
    wait_text(&client, "table.live", "Tanaka Ken").await;
    accept_when_offered(&w, &rita, &ken).await;
    wait_text(
        &client,
        "tr[data-queue=general] td[data-column=in_progress]",
        "1",
    )
    .await;
    wait_text(&client, "tr[data-agent=rita] td[data-column=active]", "1").await;
    wait_text(
        &client,
        "tr[data-queue=general] td[data-column=accepted]",
        "1",
    )
    .await;
    screenshot(&client, "19-supervisor-floor").await;
    click_xpath(
        &client,
        "//div[@role='dialog']//header/button",
        "Close the floor",
    )
    .await;
    let heard = w
        .sim(&format!("/sim/customers/{ken}/received"), Value::Null)
        .await
        .as_array()
        .map_or(0, Vec::len);
    click_xpath(
        &client,
        "//button[contains(@class,'card')][.//span[contains(@class,'name') and normalize-space()='Tanaka Ken']]",
        "Tanaka Ken in the list",
    )
    .await;
    click_text(&client, "Monitor").await;
    wait_text(&client, "[data-banner=monitoring]", "Monitoring read-only").await;
    // Collision: Rita, in her own console, has the conversation open and types; the supervisor
    // sees it under the header.
    let (_, list) = w
        .api(
            reqwest::Method::GET,
            &format!("/api/conversations?chat={ken}"),
            &rita,
            None,
        )
        .await;
    let conv = list[0]["id"]
        .as_str()
        .expect("Ken's conversation")
        .to_owned();
    let mut shown = String::new();
    for _ in 0..40 {
        let (status, _) = w
            .api(
                reqwest::Method::POST,
                &format!("/api/conversations/{conv}/viewing"),
                &rita,
                Some(json!({"typing": true})),
            )
            .await;
        assert_eq!(status, 200);
        shown = client
            .execute(
                "const el = document.querySelector('[data-others]'); return el ? el.textContent : '';",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        if shown.contains("rita is typing") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        shown.contains("rita is typing"),
        "collision shown: {shown:?}"
    );
    screenshot(&client, "17a-supervisor-sees-rita-typing").await;
    type_into(
        &client,
        "//textarea[@name='note']",
        "Offer the refund, please",
    )
    .await;
    click_xpath(
        &client,
        "//button[normalize-space()='Whisper to rita']",
        "Whisper",
    )
    .await;
    let note = wait_text(&client, "aside.note.whisper", "Offer the refund, please").await;
    assert!(note.contains("Whisper from sam to the owner"), "{note}");
    screenshot(&client, "17-supervisor-whisper").await;

    // Rita's console receives the whisper; LINE hears nothing of it.
    let got = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(frame)) = ritas_console.next().await {
            let Ok(text) = frame.into_text() else {
                continue;
            };
            if text.contains("linedeskNote") && text.contains("Offer the refund, please") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(got, Ok(true), "Rita's console shows the whisper");
    let now_heard = w
        .sim(&format!("/sim/customers/{ken}/received"), Value::Null)
        .await
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(now_heard, heard, "nothing was sent to LINE");

    click_text(&client, "Force close").await;
    type_into(
        &client,
        "//input[@name='reason']",
        "Duplicate of another chat",
    )
    .await;
    click_text(&client, "Close now").await;
    wait_text(&client, ".thread .notice", "closed").await;
    let (_, list) = w
        .api(
            reqwest::Method::GET,
            &format!("/api/conversations?chat={ken}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(list[0]["state"], "closed", "{list}");
    assert_eq!(list[0]["closeReason"], "forced", "{list}");
    screenshot(&client, "18-supervisor-force-closed").await;

    // The closed conversation as a printable transcript in Downloads.
    click_xpath(
        &client,
        "//button[@data-action='transcript']",
        "Export transcript",
    )
    .await;
    let saved = wait_text(&client, ".thread [data-saved]", "Transcript saved to").await;
    let downloads = dir.path().join("console").join("downloads");
    let file = std::fs::read_dir(&downloads)
        .expect("downloads")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "html"))
        .expect("the transcript file");
    assert!(
        saved.contains(&file.display().to_string()),
        "{saved} names {}",
        file.display()
    );
    let name = file
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(name.starts_with("Transcript Tanaka Ken 20"), "{name}");
    let html = std::fs::read_to_string(&file).expect("the transcript");
    assert!(
        html.contains("注文した商品が届きません"),
        "the customer's words"
    );
    assert!(
        html.contains("class=\"note whisper\""),
        "the whisper, as a note"
    );
    assert!(html.contains("Whisper from sam to the owner"));
    assert!(html.contains("(internal, not sent to LINE)"));
    assert!(html.contains("Offer the refund, please"));
    assert!(
        html.contains("<dd>Closed by a supervisor</dd>"),
        "how it closed"
    );
    assert!(html.contains("<dd>rita</dd>"), "who had it");
    assert!(
        html.contains("src=\"data:image/jpeg;base64,"),
        "the photo's thumbnail is inside the file"
    );
    assert!(
        !html.contains("<script") && !html.contains("http://") && !html.contains("https://"),
        "self-contained"
    );
    // How it prints and reads: the file in this same WebKit, for the screenshot.
    client
        .execute(
            "document.open(); document.write(arguments[0]); document.close(); return true;",
            vec![json!(html)],
        )
        .await
        .expect("shows the transcript");
    wait_text(&client, "h1", "Transcript Tanaka Ken").await;
    screenshot(&client, "20-transcript").await;
    client.close().await.expect("close session");
    drop(driver);
}

/// A relay where Sam supervises the General queue ("Support TW", with `queue`'s other
/// settings), and Rita (signed in, available); answers the relay, the admin's token and Rita's.
async fn supervised_floor(dir: &std::path::Path, queue: Value) -> (Loopback, String, String) {
    let w = Loopback::start(&dir.join("relay")).await;
    w.add_user("ada", linedesk_protocol::Role::Admin, PASSWORD);
    w.add_user("sam", linedesk_protocol::Role::Supervisor, PASSWORD);
    let admin = w.login("ada", PASSWORD).await;
    let mut settings = json!({"name": "Support TW", "supervisors": ["sam"]});
    if let (Some(s), Some(more)) = (settings.as_object_mut(), queue.as_object()) {
        s.extend(more.clone());
    }
    let (status, body) = w
        .api(
            reqwest::Method::PUT,
            "/api/queues/general",
            &admin,
            Some(settings),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let rita = w.login(USER, PASSWORD).await;
    let (status, _) = w
        .api(
            reqwest::Method::POST,
            "/api/presence",
            &rita,
            Some(json!({"presence": "available"})),
        )
        .await;
    assert_eq!(status, 200);
    (w, admin, rita)
}
