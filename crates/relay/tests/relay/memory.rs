//! The real relay binary's memory under big files: uploads and downloads are streamed, so five
//! 190 MiB uploads at once and thirty downloads of a 190 MiB video stay far below their size.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::common::{seed, CHANNEL};
use crate::crash::{free_port, login, start};

const MIB: usize = 1024 * 1024;
const FILE: usize = 190 * MIB;
/// What the relay may hold resident at its peak.
const CEILING_KIB: u64 = 300 * 1024;

/// Reads an HTTP/1.1 answer to its end; answers the status and the body when it is small
/// (a big one is counted and dropped as it arrives).
async fn read_answer(mut tcp: TcpStream) -> (u16, usize, String) {
    let mut head = Vec::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0usize;
    loop {
        let n = tcp.read(&mut buf).await.expect("read");
        if n == 0 {
            break;
        }
        total += n;
        if head.len() < 64 * 1024 {
            head.extend_from_slice(&buf[..n.min(64 * 1024)]);
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .expect("an HTTP status line");
    let body_at = text.find("\r\n\r\n").map_or(text.len(), |i| i + 4);
    (status, total - body_at, text[body_at..].to_owned())
}

/// Uploads a distinct 190 MiB video, written 1 MiB at a time; answers its `/o/…` path.
async fn upload(addr: SocketAddr, token: &str, n: u8) -> String {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/uploads?channel={CHANNEL}&name=clip{n}.mp4 HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {token}\r\nContent-Length: {FILE}\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.expect("headers");
    let mut chunk = vec![n; MIB];
    chunk[..32].copy_from_slice(b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41");
    for i in 0..FILE / MIB {
        if i == 1 {
            chunk[..32].fill(n);
        }
        tcp.write_all(&chunk).await.expect("body");
    }
    let (status, _, body) = read_answer(tcp).await;
    assert_eq!(status, 200, "upload {n}: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let url = v["url"].as_str().expect("url");
    url[url.find("/o/").expect("/o/ path")..].to_owned()
}

/// Downloads `path` whole; answers how many body bytes arrived.
async fn download(addr: SocketAddr, path: &str) -> usize {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .expect("request");
    let (status, length, _) = read_answer(tcp).await;
    assert_eq!(status, 200);
    length
}

/// Peak resident memory of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_190_mib_uploads_and_thirty_downloads_keep_the_relay_under_300_mib() {
    let dir = tempfile::tempdir().expect("tempdir");
    seed(dir.path(), "http://127.0.0.1:9");
    let addr = free_port();
    let relay = start(dir.path(), addr).await;
    let pid = relay.id().expect("pid");
    let token = login(&reqwest::Client::new(), addr).await;
    let uploads: Vec<_> = (1..=5u8)
        .map(|n| {
            let token = token.clone();
            tokio::spawn(async move { upload(addr, &token, n).await })
        })
        .collect();
    let mut paths = Vec::new();
    for u in uploads {
        paths.push(u.await.expect("upload task"));
    }
    let after_uploads = peak_rss_kib(pid);
    let downloads: Vec<_> = (0..30)
        .map(|_| {
            let path = paths[0].clone();
            tokio::spawn(async move { download(addr, &path).await })
        })
        .collect();
    for d in downloads {
        assert_eq!(d.await.expect("download task"), FILE);
    }
    let peak = peak_rss_kib(pid);
    eprintln!(
        "relay peak resident: {} MiB after 5 × 190 MiB uploads, {} MiB after 30 downloads",
        after_uploads / 1024,
        peak / 1024
    );
    assert!(
        peak < CEILING_KIB,
        "the relay peaked at {} MiB resident",
        peak / 1024
    );
}
