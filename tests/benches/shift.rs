//! A representative's shift, compressed: the console as it ships (release, painting without
//! GPU compositing) signed in to a relay and the LINE simulator on loopback, driven through
//! WebDriver. Rita accepts 150 offered chats one after another; in each, the customer and she
//! exchange 20 messages (3,000 in all), some customers send a picture or a file, she opens
//! earlier conversations again, searches every tenth one, then ends and closes it; the pace
//! leaves idle stretches between chats so the whole shift takes `SHIFT_MINUTES` (30).
//!
//! Every `SHIFT_SAMPLE_SECS` (60) the PSS of every process of the console (the app and its
//! WebKit processes) is sampled. At the end the bench prints the curve as a table, the growth
//! after warm-up (the first sixth of the shift) and whether the curve climbs steadily, and
//! draws it to `SHIFT_PNG` (`target/shift-memory.png`). Target: growth at most 10 %, no
//! steady climb.
//!
//! Needs a display, a session bus and the keyring: `scripts/bench-shift.sh` (which also builds
//! the release console). `SHIFT_CONVERSATIONS` and `SHIFT_MINUTES` shrink it for a quick look.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use fantoccini::{Client, Locator};
use linedesk_tests::window::{launch_with, set_presence, sign_in, wait_text};
use linedesk_tests::{Loopback, USER};
use plotters::prelude::*;
use serde_json::json;

/// Messages in each conversation, both ways (half each).
const MESSAGES_EACH: usize = 20;
/// The processes of the console, by the start of their names in `/proc` (15 characters).
const PROCESSES: [&str; 3] = ["linedesk", "WebKitWebProces", "WebKitNetworkPr"];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One sample: minutes into the shift, then KiB of PSS per process kind in [`PROCESSES`]'
/// order.
#[derive(Clone, Debug)]
struct Sample {
    at_min: f64,
    kib: [u64; 3],
    /// Elements in the page, as last counted between chats.
    elements: u64,
    /// With `LINEDESK_BENCH_SMAPS=1`: KiB of PSS by process kind and mapping, to say what grew.
    mappings: Vec<HashMap<String, u64>>,
}

impl Sample {
    fn total_mib(&self) -> f64 {
        self.kib.iter().sum::<u64>() as f64 / 1024.0
    }
}

/// PSS of the console's processes below tauri-driver, summed per kind.
fn sample(driver: u32, started: Instant, elements: u64) -> Sample {
    let mut kib = [0u64; 3];
    let by_mapping = std::env::var_os("LINEDESK_BENCH_SMAPS").is_some();
    let mut mappings = vec![HashMap::new(); if by_mapping { PROCESSES.len() } else { 0 }];
    for (pid, name) in linedesk_tests::process_tree(driver) {
        if let Some(i) = PROCESSES.iter().position(|p| name.starts_with(p)) {
            kib[i] += linedesk_tests::pss_kib(pid);
            if by_mapping {
                for (path, k) in linedesk_tests::pss_by_mapping(pid) {
                    *mappings[i].entry(path).or_default() += k;
                }
            }
        }
    }
    Sample {
        at_min: started.elapsed().as_secs_f64() / 60.0,
        kib,
        elements,
        mappings,
    }
}

/// How many elements the page holds now.
async fn count_elements(client: &Client) -> u64 {
    client
        .execute("return document.getElementsByTagName('*').length", vec![])
        .await
        .ok()
        .and_then(|v| v.as_u64())
        .unwrap_or(0)
}

/// A picture of its own for each customer who sends one (so each is a new download and a new
/// picture in the window).
fn picture(n: usize) -> String {
    let shade = (n * 37 % 200) as u8;
    let mut png = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_fn(480, 360, |x, y| {
        image::Rgb([shade, (x % 256) as u8, (y % 256) as u8])
    })
    .write_to(&mut png, image::ImageFormat::Png)
    .expect("png");
    base64::engine::general_purpose::STANDARD.encode(png.into_inner())
}

async fn click(client: &Client, css: &str) {
    for attempt in 0.. {
        match client.find(Locator::Css(css)).await {
            Ok(el) => match el.click().await {
                Ok(_) => return,
                Err(e) if attempt > 50 => panic!("{css}: {e}"),
                Err(_) => {}
            },
            Err(e) if attempt > 50 => panic!("{css} not found: {e}"),
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Types into the composer and sends with Enter.
async fn reply(client: &Client, text: &str) {
    let composer = client
        .wait()
        .for_element(Locator::Css(".composer textarea"))
        .await
        .expect("composer");
    composer
        .send_keys(&format!("{text}\u{E007}"))
        .await
        .expect("type and send");
}

/// Customer `n`'s part of the shift: offered, accepted, 20 messages, maybe a picture or a file,
/// ended and closed.
async fn conversation(w: &Loopback, client: &Client, n: usize) {
    let name = format!("顧客 {n:03}");
    let user = w.customer(&name, "zh-TW").await;
    let say = |text: String| {
        let user = user.clone();
        async move {
            w.sim(
                &format!("/sim/customers/{user}/messages"),
                json!({"type": "text", "text": text}),
            )
            .await;
        }
    };
    say(format!("你好，訂單 {n} 還沒到")).await;
    wait_text(client, ".requests .request", &name).await;
    click(client, ".request button.primary").await;
    wait_text(client, "header .chip", "Active").await;
    for k in 0..MESSAGES_EACH / 2 {
        let asked = if k == 0 {
            format!("你好，訂單 {n} 還沒到")
        } else {
            let q = format!("第 {k} 個問題：訂單 {n} 的物流編號是什麼？");
            say(q.clone()).await;
            q
        };
        wait_text(client, ".timeline", &asked).await;
        let answer = format!("#{n} ok {k}");
        reply(client, &answer).await;
        wait_text(client, ".timeline", &answer).await;
    }
    if n.is_multiple_of(5) {
        w.sim(
            &format!("/sim/customers/{user}/messages"),
            json!({"type": "image", "contentBase64": picture(n)}),
        )
        .await;
        linedesk_tests::window::wait_for(client, ".timeline img", "a picture").await;
    }
    if n.is_multiple_of(7) {
        let file = format!("receipt-{n}.pdf");
        w.sim(
            &format!("/sim/customers/{user}/messages"),
            json!({"type": "file", "fileName": file}),
        )
        .await;
        wait_text(client, ".timeline", &file).await;
    }
    click(client, "header .actions button[title='Ctrl+Shift+E']").await;
    wait_text(client, "header .chip", "Wrap-up").await;
    click(client, "header .actions button.primary").await;
    wait_text(client, "header .chip", "Closed").await;
}

/// Opens the `k`-th card of the list's earlier conversations and waits for its timeline.
async fn look_back(client: &Client, k: usize) {
    let cards = client
        .find_all(Locator::Css(".list ul .card"))
        .await
        .expect("cards");
    if cards.is_empty() {
        return;
    }
    let card = &cards[k % cards.len()];
    if card.click().await.is_ok() {
        let _ = client.wait().for_element(Locator::Css(".timeline")).await;
    }
}

/// Ctrl+K, a word, the hits, Escape.
async fn search(client: &Client) {
    client
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .send_keys("\u{E009}k")
        .await
        .expect("ctrl+k");
    let input = client
        .wait()
        .for_element(Locator::Css(".dialog input"))
        .await
        .expect("search box");
    input.send_keys("物流編號").await.expect("type");
    wait_text(client, ".dialog", "顧客").await;
    input.send_keys("\u{E00C}").await.expect("escape");
}

fn print_curve(samples: &[Sample], warm: usize) {
    println!("minute | total MiB | app | WebKitWebProcess | WebKitNetworkProcess | page elements");
    for s in samples {
        println!(
            "{:6.1} | {:9.1} | {:5.1} | {:5.1} | {:5.1} | {}",
            s.at_min,
            s.total_mib(),
            s.kib[0] as f64 / 1024.0,
            s.kib[1] as f64 / 1024.0,
            s.kib[2] as f64 / 1024.0,
            s.elements
        );
    }
    let base = samples[warm].total_mib();
    let last = samples.last().expect("samples").total_mib();
    let peak = samples[warm..]
        .iter()
        .map(Sample::total_mib)
        .fold(f64::MIN, f64::max);
    // A steady climb: every sample after warm-up at least as high as the one before, and the
    // whole rise more than 2 % (flat curves go up and down by a few pages).
    let after: Vec<f64> = samples[warm..].iter().map(Sample::total_mib).collect();
    let climbs = after.windows(2).all(|w| w[1] >= w[0]) && last > base * 1.02;
    println!(
        "after warm-up (minute {:.1}): {base:.1} MiB; at the end: {last:.1} MiB; peak {peak:.1} MiB",
        samples[warm].at_min
    );
    println!(
        "growth after warm-up: {:+.1} % at the end, {:+.1} % at the peak (target: at most 10 %); steady climb: {}",
        (last / base - 1.0) * 100.0,
        (peak / base - 1.0) * 100.0,
        if climbs { "yes" } else { "no" }
    );
    println!(
        "page elements: {} after warm-up, {} at the end",
        samples[warm].elements,
        samples.last().expect("samples").elements
    );
}

/// With `LINEDESK_BENCH_SMAPS=1`: the mappings whose PSS changed most between warm-up and the
/// end, per process, which is where a growth comes from.
fn print_growers(warm: &Sample, last: &Sample) {
    for (i, process) in PROCESSES.iter().enumerate() {
        let (Some(before), Some(after)) = (warm.mappings.get(i), last.mappings.get(i)) else {
            return;
        };
        let mut change: Vec<(&str, i64)> = before
            .keys()
            .chain(after.keys())
            .map(|path| {
                let kib = |m: &HashMap<String, u64>| m.get(path).copied().unwrap_or(0) as i64;
                (path.as_str(), kib(after) - kib(before))
            })
            .collect();
        change.sort_by_key(|(path, kib)| (std::cmp::Reverse(kib.abs()), *path));
        change.dedup();
        println!("{process}: largest changes after warm-up");
        for (path, kib) in change.into_iter().take(8) {
            println!("  {kib:+8} KiB  {path}");
        }
    }
}

/// A line of the chart: its label, colour and value.
type Series = (&'static str, RGBColor, Box<dyn Fn(&Sample) -> f64>);

fn plot(samples: &[Sample], path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    // plotters draws text with ab_glyph from a font file of the machine.
    let font = std::fs::read("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")?;
    let font: &'static [u8] = Box::leak(font.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, font)
        .map_err(|_| "font not usable")?;
    let (w, h) = (960u32, 540u32);
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        let end = samples.last().map_or(1.0, |s| s.at_min).max(1.0);
        // Room above the curves for the legend.
        let top = samples.iter().map(Sample::total_mib).fold(0.0, f64::max) * 1.4;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "linedesk console through a shift: PSS of every process",
                ("sans-serif", 22),
            )
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..end, 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc("minutes into the shift")
            .y_desc("MiB (PSS)")
            .draw()?;
        let series: [Series; 4] = [
            ("all processes", BLACK, Box::new(Sample::total_mib)),
            ("app", BLUE, Box::new(|s| s.kib[0] as f64 / 1024.0)),
            (
                "WebKitWebProcess",
                RGBColor(200, 80, 0),
                Box::new(|s| s.kib[1] as f64 / 1024.0),
            ),
            (
                "WebKitNetworkProcess",
                RGBColor(0, 140, 70),
                Box::new(|s| s.kib[2] as f64 / 1024.0),
            ),
        ];
        for (label, colour, value) in series {
            chart
                .draw_series(LineSeries::new(
                    samples.iter().map(|s| (s.at_min, value(s))),
                    colour.stroke_width(2),
                ))?
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
    }
    image::RgbImage::from_raw(w, h, rgb)
        .ok_or("buffer size")?
        .save(path)?;
    Ok(())
}

fn main() {
    // `cargo test --all-targets` runs benches without `--bench`: this one takes half an hour.
    if !std::env::args().any(|a| a == "--bench") {
        println!("shift bench: run scripts/bench-shift.sh");
        return;
    }
    assert!(
        std::env::var_os("DISPLAY").is_some()
            && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "run scripts/bench-shift.sh (needs a display and a session bus)"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let conversations: usize = env_or("SHIFT_CONVERSATIONS", 150);
    let minutes: f64 = env_or("SHIFT_MINUTES", 30.0);
    let every = Duration::from_secs(env_or("SHIFT_SAMPLE_SECS", 60));
    let png: PathBuf = std::env::var_os("SHIFT_PNG")
        .map(PathBuf::from)
        .unwrap_or_else(|| linedesk_tests::target_dir().join("shift-memory.png"));
    let app = std::env::var_os("LINEDESK_APP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| linedesk_tests::target_dir().join("release/linedesk"));
    assert!(
        app.exists(),
        "build first: cargo build --release -p linedesk"
    );
    std::env::set_var("LINEDESK_APP_BIN", &app);

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let w = Loopback::start(&dir.path().join("relay")).await;
        // The console as it ships: no GPU compositing (WebDriver's screenshot is not used).
        let (client, driver) = launch_with(
            &dir.path().join("console"),
            &dir.path().join("tauri-driver.log"),
            None,
            &[
                (
                    "LINEDESK_GPU",
                    &std::env::var("SHIFT_GPU").unwrap_or_else(|_| "0".into()),
                ),
                ("LINEDESK_LOG", "warn"),
            ],
        )
        .await;
        sign_in(&client, &w.console_url, USER).await;
        set_presence(&client, "available").await;
        wait_text(&client, ".presence", "in use").await;

        let started = Instant::now();
        // The page's element count (DOM nodes that pile up would show here), taken between
        // chats through WebDriver and read by the sampler.
        let elements = Arc::new(AtomicU64::new(count_elements(&client).await));
        let samples = Arc::new(Mutex::new(vec![sample(
            driver.child.id(),
            started,
            elements.load(Ordering::SeqCst),
        )]));
        let done = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (samples, done, root, elements) = (
                samples.clone(),
                done.clone(),
                driver.child.id(),
                elements.clone(),
            );
            std::thread::spawn(move || {
                let mut next = Instant::now() + every;
                while !done.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(200));
                    if Instant::now() >= next {
                        let s = sample(root, started, elements.load(Ordering::SeqCst));
                        println!("  minute {:.1}: {:.1} MiB", s.at_min, s.total_mib());
                        samples.lock().expect("samples").push(s);
                        next += every;
                    }
                }
            })
        };
        let shift = Duration::from_secs_f64(minutes * 60.0);
        // Each chat starts on a schedule; what is left of its slot is an idle stretch.
        let slot = shift.mul_f64(0.9) / conversations.max(1) as u32;
        for n in 1..=conversations {
            let begun = Instant::now();
            conversation(&w, &client, n).await;
            if n.is_multiple_of(10) || n <= 3 {
                println!(
                    "  conversation {n}: {:.1} s (minute {:.1})",
                    begun.elapsed().as_secs_f64(),
                    started.elapsed().as_secs_f64() / 60.0
                );
            }
            look_back(&client, n).await;
            if n.is_multiple_of(10) {
                search(&client).await;
            }
            elements.store(count_elements(&client).await, Ordering::SeqCst);
            let due = started + slot * n as u32;
            if let Some(idle) = due.checked_duration_since(Instant::now()) {
                tokio::time::sleep(idle).await;
            }
        }
        let work = started.elapsed();
        println!(
            "shift: {conversations} conversations, {} messages, done in {:.1} min",
            conversations * MESSAGES_EACH,
            work.as_secs_f64() / 60.0
        );
        // The rest of the shift idle, then one last sample.
        if let Some(idle) = (started + shift).checked_duration_since(Instant::now()) {
            tokio::time::sleep(idle).await;
        }
        done.store(true, Ordering::SeqCst);
        sampler.join().expect("sampler");
        let mut samples = samples.lock().expect("samples").clone();
        samples.push(sample(
            driver.child.id(),
            started,
            count_elements(&client).await,
        ));
        let warm = (samples.len() / 6).max(1).min(samples.len() - 1);
        print_curve(&samples, warm);
        print_growers(&samples[warm], samples.last().expect("samples"));
        match plot(&samples, &png) {
            Ok(()) => println!("curve drawn to {}", png.display()),
            Err(e) => println!("curve not drawn ({e}); the table above has it"),
        }
        let _ = client.close().await;
        drop(driver);
        w.stop_relay().await;
    });
}
