//! What the relay benchmarks share: settings from the environment, percentiles, a process's
//! CPU time, and a data directory with the bench channel. Also included by
//! `tests/benches/send.rs`.
#![allow(dead_code)] // each bench uses what it needs

use std::path::Path;
use std::time::Duration;

use linedesk_line::Secret;
use linedesk_relay::store::{self, channels};

/// The bench channel's ID.
pub const CHANNEL: &str = "1650000000";
/// Its secret (webhook signatures).
pub const SECRET: &str = "bench-secret-0123456789abcdef012";

/// A number from the environment, or `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p` percentile of sorted durations (zero for none).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// CPU seconds (user + system) a process has used, from `/proc/{pid}/stat`.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
        .sum();
    ticks / 100.0 // USER_HZ is 100 on Linux
}

/// CPU seconds per thread name of a process (threads of one name added up), from
/// `/proc/{pid}/task/*/stat`: where a server's time goes between its runtime's workers, its
/// blocking pool and its own threads.
pub fn cpu_by_thread(pid: u32) -> std::collections::BTreeMap<String, f64> {
    let mut by_name = std::collections::BTreeMap::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let ticks: f64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
            .sum();
        *by_name.entry(name).or_insert(0.0) += ticks / 100.0;
    }
    by_name
}

/// The change of [`cpu_by_thread`] between two readings, largest first, as text.
pub fn cpu_by_thread_since(before: &std::collections::BTreeMap<String, f64>, pid: u32) -> String {
    let mut spent: Vec<(String, f64)> = cpu_by_thread(pid)
        .into_iter()
        .map(|(name, s)| {
            let was = before.get(&name).copied().unwrap_or(0.0);
            (name, s - was)
        })
        .filter(|(_, s)| *s > 0.0)
        .collect();
    spent.sort_by(|a, b| b.1.total_cmp(&a.1));
    spent
        .iter()
        .map(|(name, s)| format!("{name} {s:.2} s"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Opens (creating) the data directory with the bench channel; LINE is not there.
pub fn seed_channel(dir: &Path) -> store::sql::Conn {
    // SQLite in `dir`, or PostgreSQL with LINEDESK_TEST_DATABASE=postgres (and
    // LINEDESK_TEST_POSTGRES naming a cluster, as scripts/pg.sh prints).
    let conn = linedesk_relay::ServeConfig::local_for_tests(dir.to_owned())
        .expect("config")
        .open_database()
        .expect("db");
    let vault = linedesk_relay::vault::Vault::load(dir).expect("key");
    let ch = channels::Channel {
        id: CHANNEL.into(),
        name: "bench".into(),
        secret: Secret::new(SECRET.into()),
        token: Secret::new("t".into()),
        api_base: "http://127.0.0.1:9".into(),
        api_data_base: "http://127.0.0.1:9".into(),
        deleted_at: None,
    };
    channels::upsert(&conn, &vault, &ch, store::now_ms()).expect("channel");
    conn
}

/// Starts the relay binary `bin` (`env!("CARGO_BIN_EXE_linedesk-relay")` in the relay's
/// benches) on a free loopback port over `dir`; answers it once it listens.
pub fn spawn_relay(bin: &str, dir: &Path) -> (std::process::Child, std::net::SocketAddr) {
    let config = linedesk_relay::ServeConfig::local_for_tests(dir.to_owned()).expect("config");
    spawn_relay_on(bin, dir, config.database.as_deref())
}

/// [`spawn_relay`] on a given database (several relays on one PostgreSQL database).
pub fn spawn_relay_on(
    bin: &str,
    dir: &Path,
    database: Option<&str>,
) -> (std::process::Child, std::net::SocketAddr) {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let child = std::process::Command::new(bin)
        .args(["serve", "--listen", &addr.to_string(), "--data"])
        .arg(dir)
        .args(database.iter().flat_map(|url| ["--database", *url]))
        .env("LINEDESK_LOG", "error")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("relay starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(std::time::Instant::now() < deadline, "relay did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, addr)
}

/// A console's websocket: connected and Hello said (resuming after what the session acked).
pub async fn hello(
    addr: std::net::SocketAddr,
    token: String,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use futures_util::SinkExt as _;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/ws"))
        .await
        .expect("ws");
    let hello = linedesk_protocol::ClientFrame::Hello {
        version: linedesk_protocol::PROTOCOL_VERSION,
        token,
        since: None,
    };
    ws.send(tokio_tungstenite::tungstenite::Message::text(
        serde_json::to_string(&hello).expect("json"),
    ))
    .await
    .expect("hello");
    ws
}
