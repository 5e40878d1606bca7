//! `linedesk-tests`: end-to-end tests across the crates (see `tests/`), and [`Loopback`], the
//! world they run in: the LINE simulator and a relay on 127.0.0.1 with a real data directory,
//! one channel and one representative. [`tls`]: a test CA for relays that serve HTTPS.

pub mod screen;
pub mod tls;
pub mod window;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use linedesk_line::Secret;
use linedesk_protocol::Role;
use linedesk_relay::clock::{Clock, SystemClock};
use linedesk_relay::store::{self, channels, users};
use linedesk_relay::{Relay, ServeConfig};
use linedesk_sim::{ChannelConfig, Sim};
use serde_json::Value;

/// The channel every loopback world serves.
pub const CHANNEL: &str = "1650000000";
/// Its access token (known to the simulator and sealed in the relay).
pub const TOKEN: &str = "loopback-long-lived-token";
/// Its secret.
pub const SECRET: &str = "loopback-secret-0123456789abcdef";
/// The representative's user name.
pub const USER: &str = "rita";
/// Her password.
pub const PASSWORD: &str = "correct horse";

/// A relay being served, and its server tasks (plain, and TLS for consoles when asked).
struct Served {
    relay: Relay,
    server: tokio::task::JoinHandle<()>,
    tls_server: Option<tokio::task::JoinHandle<()>>,
}

/// Where a TLS world's relay serves consoles: the certificate files and the address.
#[derive(Clone)]
struct TlsSide {
    cert: PathBuf,
    key: PathBuf,
    addr: SocketAddr,
}

async fn bind_again(addr: SocketAddr) -> tokio::net::TcpListener {
    for _ in 0..100 {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => return l,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    panic!("relay port {addr} free again");
}

/// Simulator and relay on loopback. The relay can be stopped and started again on the same
/// address and data, as when it goes down in production.
pub struct Loopback {
    /// The relay's base URL (plain HTTP on loopback: LINE's side, and API calls in tests).
    pub relay_url: String,
    /// Where consoles reach the relay: `https://localhost:…` in a TLS world, else `relay_url`.
    pub console_url: String,
    /// The CA a console must trust in a TLS world (`LINEDESK_RELAY_CA`).
    pub ca_file: Option<PathBuf>,
    tls: Option<TlsSide>,
    _pki: Option<tls::TestPki>,
    /// The simulator's base URL.
    pub sim_url: String,
    /// A client for control calls.
    pub http: reqwest::Client,
    data: PathBuf,
    addr: SocketAddr,
    served: Mutex<Option<Served>>,
    clock: Arc<dyn Clock>,
}

/// Serves a relay on `addr` until it shuts down: on `held`, the port kept since it was chosen
/// (so no outgoing connection of another test can take it meanwhile), or, on a restart, on
/// the same port bound again once it is free.
async fn serve(
    data: &Path,
    addr: SocketAddr,
    held: Option<std::net::TcpListener>,
    clock: Arc<dyn Clock>,
    sim_url: &str,
    tls: Option<&TlsSide>,
) -> Served {
    let mut config = ServeConfig::local_for_tests(data.to_owned()).expect("config");
    // Channels an admin adds from the console are checked with the simulator.
    config.line_api_base = Some(sim_url.to_owned());
    let relay = Relay::start_with_clock(&config, clock)
        .await
        .expect("relay starts");
    let listener = match held {
        Some(l) => {
            l.set_nonblocking(true).expect("nonblocking listener");
            tokio::net::TcpListener::from_std(l).expect("held listener")
        }
        None => bind_again(addr).await,
    };
    let router = linedesk_relay::app_tls(relay.clone());
    let mut stop = relay.shutdown_signal();
    let plain = linedesk_relay::app(relay.clone());
    let limits = config.limits();
    let server = tokio::spawn(async move {
        linedesk_relay::edge::serve(listener, plain, limits, async move {
            let _ = stop.changed().await;
        })
        .await;
    });
    // LINE (the simulator) posts webhooks over plain loopback; consoles use TLS.
    let tls_server = match tls {
        Some(side) => {
            let server_tls = linedesk_relay::tls::ServerTls::load(&side.cert, &side.key)
                .expect("test certificate loads");
            let listener =
                linedesk_relay::tls::TlsListener::new(bind_again(side.addr).await, server_tls)
                    .expect("TLS listener");
            let mut stop = relay.shutdown_signal();
            Some(tokio::spawn(async move {
                linedesk_relay::edge::serve(listener, router, limits, async move {
                    let _ = stop.changed().await;
                })
                .await;
            }))
        }
        None => None,
    };
    Served {
        relay,
        server,
        tls_server,
    }
}

impl Loopback {
    /// Starts both, the relay's data in `data` (created), LINE's webhook pointing at the relay.
    pub async fn start(data: &Path) -> Self {
        Self::start_with_clock(data, Arc::new(SystemClock)).await
    }

    /// Like [`Loopback::start`], with the relay's routing on `clock`.
    pub async fn start_with_clock(data: &Path, clock: Arc<dyn Clock>) -> Self {
        Self::start_inner(data, clock, true).await
    }

    /// Simulator and relay, but the relay serves no channel yet and LINE has no webhook URL:
    /// an admin sets the channel up from the console.
    pub async fn start_bare(data: &Path) -> Self {
        Self::start_inner(data, Arc::new(SystemClock), false).await
    }

    /// Like [`Loopback::start`], and the relay also serves consoles over TLS with a test CA
    /// (written next to `data`): [`Loopback::console_url`] and [`Loopback::ca_file`].
    pub async fn start_tls(data: &Path) -> Self {
        Self::start_full(data, Arc::new(SystemClock), true, true).await
    }

    async fn start_inner(data: &Path, clock: Arc<dyn Clock>, with_channel: bool) -> Self {
        Self::start_full(data, clock, with_channel, false).await
    }

    async fn start_full(
        data: &Path,
        clock: Arc<dyn Clock>,
        with_channel: bool,
        with_tls: bool,
    ) -> Self {
        // The relay's port is chosen now (the simulator needs its webhook URL) and held until
        // the relay serves on it.
        let relay_port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let relay_addr: SocketAddr = relay_port.local_addr().expect("its address");
        let sim = Sim::new(
            ChannelConfig {
                channel_id: CHANNEL.into(),
                channel_secret: SECRET.into(),
                access_token: TOKEN.into(),
                bot_user_id: "U8e742f61d673b39c7fff3cecb7536ef0".into(),
                bot_name: "loopback".into(),
            },
            with_channel.then(|| format!("http://{relay_addr}/line/{CHANNEL}/webhook")),
        );
        let (sim_addr, _) = sim
            .serve("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("simulator serves");
        let sim_url = format!("http://{sim_addr}");
        {
            let conn = linedesk_relay::ServeConfig::local_for_tests(data.to_owned())
                .and_then(|c| Ok(c.open_database()?))
                .expect("the relay database");
            let vault = linedesk_relay::vault::Vault::load(data).expect("relay key");
            let ch = channels::Channel {
                id: CHANNEL.into(),
                name: "Support TW".into(),
                secret: Secret::new(SECRET.into()),
                token: Secret::new(TOKEN.into()),
                api_base: sim_url.clone(),
                api_data_base: sim_url.clone(),
                deleted_at: None,
            };
            if with_channel {
                channels::upsert(&conn, &vault, &ch, store::now_ms()).expect("channel");
            }
            users::add(&conn, USER, Role::Rep, PASSWORD, 0).expect("user");
        }
        let (pki, tls_side) = if with_tls {
            let dir = data.with_extension("pki");
            std::fs::create_dir_all(&dir).expect("pki dir");
            let pki = tls::TestPki::new(&dir);
            let addr = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port");
            let side = TlsSide {
                cert: pki.cert_file(),
                key: pki.key_file(),
                addr,
            };
            (Some(pki), Some(side))
        } else {
            (None, None)
        };
        let served = serve(
            data,
            relay_addr,
            Some(relay_port),
            clock.clone(),
            &sim_url,
            tls_side.as_ref(),
        )
        .await;
        Self {
            console_url: match &tls_side {
                Some(side) => format!("https://localhost:{}", side.addr.port()),
                None => format!("http://{relay_addr}"),
            },
            ca_file: pki.as_ref().map(|p| p.ca_file()),
            tls: tls_side,
            _pki: pki,
            relay_url: format!("http://{relay_addr}"),
            sim_url,
            http: reqwest::Client::new(),
            data: data.to_owned(),
            addr: relay_addr,
            served: Mutex::new(Some(served)),
            clock,
        }
    }

    /// Adds a relay user (works while the relay runs).
    pub fn add_user(&self, name: &str, role: Role, password: &str) {
        let conn = linedesk_relay::ServeConfig::local_for_tests(self.data.clone())
            .and_then(|c| Ok(c.open_database()?))
            .expect("the relay database");
        users::add(&conn, name, role, password, 0).expect("user");
    }

    /// Signs in; answers the session token.
    pub async fn login(&self, user: &str, password: &str) -> String {
        let resp = self
            .http
            .post(format!("{}/api/login", self.relay_url))
            .json(&serde_json::json!({"user": user, "password": password}))
            .send()
            .await
            .expect("login");
        assert!(
            resp.status().is_success(),
            "login {user}: {}",
            resp.status()
        );
        let v: Value = resp.json().await.expect("login json");
        v["token"].as_str().expect("token").to_owned()
    }

    /// A relay API call as a signed-in user; answers status and JSON (or null).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.relay_url))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("relay api call");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The running relay (panics while stopped).
    pub fn relay(&self) -> Relay {
        self.served
            .lock()
            .expect("lock")
            .as_ref()
            .expect("relay running")
            .relay
            .clone()
    }

    /// Stops the relay (its port refuses connections until [`Loopback::start_relay`]).
    pub async fn stop_relay(&self) {
        let served = self.served.lock().expect("lock").take();
        if let Some(s) = served {
            s.relay.shutdown();
            let _ = s.server.await;
            if let Some(t) = s.tls_server {
                let _ = t.await;
            }
        }
    }

    /// Starts the relay again on the same address and data.
    pub async fn start_relay(&self) {
        let served = serve(
            &self.data,
            self.addr,
            None,
            self.clock.clone(),
            &self.sim_url,
            self.tls.as_ref(),
        )
        .await;
        *self.served.lock().expect("lock") = Some(served);
    }

    /// A simulator control call with any method; answers its JSON (or null).
    pub async fn sim_request(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .request(method, format!("{}{path}", self.sim_url))
            .json(&body)
            .send()
            .await
            .expect("simulator control call");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }

    /// A simulator control call: GET when `body` is null, else POST.
    pub async fn sim(&self, path: &str, body: Value) -> Value {
        let method = if body.is_null() {
            reqwest::Method::GET
        } else {
            reqwest::Method::POST
        };
        self.sim_request(method, path, body).await
    }

    /// A new simulated customer (who follows the account); returns the user ID.
    pub async fn customer(&self, name: &str, language: &str) -> String {
        let v = self
            .sim(
                "/sim/customers",
                serde_json::json!({"displayName": name, "language": language}),
            )
            .await;
        v["customer"]["userId"]
            .as_str()
            .expect("user id")
            .to_owned()
    }

    /// Waits until `chat`'s conversation is offered (as `token`'s user sees it); answers the
    /// relay conversation's ID.
    pub async fn offered(&self, token: &str, chat: &str) -> String {
        for _ in 0..400 {
            let (_, list) = self
                .api(
                    reqwest::Method::GET,
                    &format!("/api/conversations?chat={chat}"),
                    token,
                    None,
                )
                .await;
            if let Some(id) = list
                .as_array()
                .and_then(|l| l.first())
                .filter(|c| !c["offer"].is_null())
                .and_then(|c| c["id"].as_str())
            {
                return id.to_owned();
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("{chat} was never offered");
    }
}

/// The workspace's root directory.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The console binary the window tests drive: `LINEDESK_APP_BIN`, or the debug build in the
/// target directory (`cargo build -p linedesk`).
pub fn app_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("LINEDESK_APP_BIN") {
        return PathBuf::from(p);
    }
    debug_binary("linedesk")
}

/// A binary of the workspace's debug build, in `CARGO_TARGET_DIR` when it is set.
pub fn debug_binary(name: &str) -> PathBuf {
    target_dir().join("debug").join(name)
}

/// The target directory: `CARGO_TARGET_DIR` when it is set, else the workspace's.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
}

/// The proportional set size of process `pid` in KiB (its share of pages it shares with
/// others, so shared libraries are not counted twice across a process tree); 0 once it is gone.
pub fn pss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|t| {
            t.lines().find(|l| l.starts_with("Pss:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
            })
        })
        .unwrap_or(0)
}

/// Where process `pid`'s PSS goes, in KiB by mapping: a file's path, or `[heap]`, `[stack]`,
/// `[anon]` for anonymous memory (glibc's arenas, JavaScriptCore's heap); empty once it is gone.
/// For the memory benches, to find what to trim and what grows.
pub fn pss_by_mapping(pid: u32) -> std::collections::HashMap<String, u64> {
    let mut by_path = std::collections::HashMap::new();
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) else {
        return by_path;
    };
    let mut current = String::new();
    for line in text.lines() {
        if let Some(kib) = line.strip_prefix("Pss:") {
            let kib: u64 = kib
                .trim()
                .trim_end_matches(" kB")
                .trim()
                .parse()
                .unwrap_or(0);
            *by_path.entry(current.clone()).or_default() += kib;
        } else if line.split_whitespace().next().is_some_and(|f| {
            f.contains('-') && f.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        }) {
            current = line
                .split_whitespace()
                .nth(5)
                .unwrap_or("[anon]")
                .to_owned();
        }
    }
    by_path
}

/// `root` and every process below it, with their names, from `/proc` (Linux): the app and the
/// WebKit processes it starts, for the window tests and the memory bench.
pub fn process_tree(root: u32) -> Vec<(u32, String)> {
    let mut procs: Vec<(u32, u32, String)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let ppid = stat[close + 2..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        procs.push((pid, ppid, stat[open + 1..close].to_owned()));
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(
            procs
                .iter()
                .filter(|(_, pp, _)| *pp == p)
                .map(|(pid, _, _)| *pid),
        );
        i += 1;
    }
    procs
        .into_iter()
        .filter(|(pid, _, _)| tree.contains(pid))
        .map(|(pid, _, name)| (pid, name))
        .collect()
}

/// The files under `dir` (recursively) that hold `needle` anywhere in their bytes: how tests
/// prove that an erased customer or a secret left no trace in what relay and consoles wrote.
pub fn files_holding(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
            {
                out.push(p);
            }
        }
    }
    out
}
