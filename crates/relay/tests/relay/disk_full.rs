//! The real relay binary on a data directory that fills up: webhooks answer 503 (LINE delivers
//! them again), nothing acknowledged is lost, and the relay recovers by itself once space is
//! freed. The data directory is a small tmpfs in a mount namespace of the test's own
//! (`unshare`), so no privileges beyond a user namespace are needed.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::common::{seed, sign, text_event, webhook_body, CHANNEL};
use crate::crash::free_port;

/// The tmpfs, as this process sees it through the namespace's keeper process.
fn inside(keeper: u32, mount: &Path) -> PathBuf {
    PathBuf::from(format!("/proc/{keeper}/root")).join(mount.strip_prefix("/").expect("absolute"))
}

/// Starts the relay on a fresh `size` tmpfs holding a copy of `seeded`. Answers the keeper
/// (a process that keeps the namespace, and so the tmpfs, alive) and the relay's pid.
async fn start_on_tmpfs(
    seeded: &Path,
    mount: &Path,
    addr: SocketAddr,
    size: &str,
) -> Option<(Child, u32)> {
    let pid_file = seeded.with_extension("pid");
    let script = r#"mount -t tmpfs -o "size=$1" linedesk-full "$2" && cp -a "$3/." "$2/" &&
        { LINEDESK_LOG=warn "$4" serve --listen "$5" --data "$2" >/dev/null 2>&1 & echo $! > "$6"; } &&
        exec sleep 600"#;
    let keeper = Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            script,
            "sh",
            size,
        ])
        .arg(mount)
        .arg(seeded)
        .arg(env!("CARGO_BIN_EXE_linedesk-relay"))
        .arg(addr.to_string())
        .arg(&pid_file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let relay = std::fs::read_to_string(&pid_file)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some((keeper, relay))
}

async fn post(http: &reqwest::Client, addr: SocketAddr, id: &str) -> u16 {
    let body = webhook_body(&[text_event(id, "is anyone there")]);
    match http
        .post(format!("http://{addr}/line/{CHANNEL}/webhook"))
        .header("x-line-signature", sign(&body))
        .body(body)
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

/// Fills the file system holding `path` with one file; answers its path.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write as _;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).expect("filler");
    let block = vec![0x5Au8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
    // Whatever is left below one block.
    while f.write_all(&block[..512]).is_ok() {}
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_503_loses_nothing_acknowledged_and_recovers() {
    if std::env::var("LINEDESK_TEST_DATABASE").as_deref() == Ok("postgres") {
        println!("skipped: the full disk here is SQLite's (the relay's own file); PostgreSQL's disk is its server's");
        return;
    }
    let root = tempfile::tempdir().expect("tempdir");
    let seeded = root.path().join("seeded");
    std::fs::create_dir(&seeded).expect("seed dir");
    seed(&seeded, "http://127.0.0.1:9");
    let mount = root.path().join("data");
    std::fs::create_dir(&mount).expect("mount point");
    let addr = free_port();
    let Some((keeper, relay)) = start_on_tmpfs(&seeded, &mount, addr, "24m").await else {
        eprintln!("skipped: this machine does not allow a user and mount namespace (unshare -rm)");
        return;
    };
    let data = inside(keeper.id().expect("keeper pid"), &mount);
    let http = reqwest::Client::new();
    let mut acked = HashSet::new();
    let mut n = 0u32;
    let mut next_id = || {
        n += 1;
        format!("01HXFULL{n:018}")
    };
    for _ in 0..50 {
        let id = next_id();
        assert_eq!(post(&http, addr, &id).await, 200);
        acked.insert(id);
    }
    let filler = fill(&data);
    // Under load on a full disk: every answer is a 200 (stored) or a 503 (not stored).
    let mut refused = 0;
    for _ in 0..400 {
        let id = next_id();
        match post(&http, addr, &id).await {
            200 => {
                acked.insert(id);
            }
            503 => refused += 1,
            other => panic!("a webhook on a full disk got {other}"),
        }
        if refused >= 20 {
            break;
        }
    }
    assert!(refused >= 20, "a full disk never answered 503");
    std::fs::remove_file(&filler).expect("space freed");
    // The relay recovers by itself: the next webhooks are stored again.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let id = next_id();
        if post(&http, addr, &id).await == 200 {
            acked.insert(id);
            break;
        }
        assert!(Instant::now() < deadline, "the relay did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..20 {
        let id = next_id();
        assert_eq!(post(&http, addr, &id).await, 200, "after recovery");
        acked.insert(id);
    }
    // The process never went down, and every acknowledged event is in the log.
    assert!(
        Path::new(&format!("/proc/{relay}")).exists(),
        "the relay exited"
    );
    nix_kill(relay);
    // Read a copy: opened through /proc/PID/root, SQLite did not see the log here.
    let copy = root.path().join("after");
    std::fs::create_dir(&copy).expect("copy dir");
    for file in ["relay.db", "relay.db-wal"] {
        if data.join(file).exists() {
            std::fs::copy(data.join(file), copy.join(file)).expect("copy the database");
        }
    }
    let conn = rusqlite::Connection::open(copy.join("relay.db")).expect("relay.db");
    let mut stmt = conn
        .prepare("SELECT webhook_event_id FROM events WHERE webhook_event_id LIKE '01HXFULL%'")
        .expect("query");
    let stored: HashSet<String> = stmt
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("ids");
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    eprintln!(
        "full disk: {} acknowledged, {refused} refused with 503, none lost",
        acked.len()
    );
}

/// SIGKILL, as a crash would.
fn nix_kill(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}/status")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/status"))
            .map(|s| !s.contains("State:\tZ"))
            .unwrap_or(false)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
}
