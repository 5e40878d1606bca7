//! The HTTP edge under abuse: slow clients, the connection cap, oversized bodies.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use http::{Request, StatusCode};
use linedesk_relay::edge;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tower::ServiceExt as _;

use crate::common::*;

/// Opens a connection that sends the start of a webhook request and never finishes it.
async fn slow_client(addr: SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(b"POST /line/1650000000/webhook HTTP/1.1\r\nHost: relay\r\nContent-Le")
        .await
        .expect("half a request");
    tcp
}

/// An HTTP client that gives up after 30 s, so a stalled relay fails the test, not hangs it.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Posts a real signed webhook over TCP; answers its status.
async fn post_real_webhook(addr: SocketAddr, id: &str) -> reqwest::StatusCode {
    let body = webhook_body(&[text_event(id, "still here")]);
    client()
        .post(format!("http://{addr}/line/{CHANNEL}/webhook"))
        .header("content-type", "application/json")
        .header("x-line-signature", sign(&body))
        .body(body)
        .send()
        .await
        .expect("webhook answered")
        .status()
}

/// True when the server closed `tcp` (EOF or reset) within `within`.
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 512];
    loop {
        match tokio::time::timeout(within, tcp.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // An error page before the close is fine; keep reading to the close.
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_slow_connections_do_not_keep_a_real_webhook_waiting() {
    let limits = edge::within_descriptors(edge::Limits::default());
    // The test holds both ends of every connection.
    assert!(
        limits.max_connections >= 2_100,
        "this test needs about 4,500 file descriptors; the limit allows {}",
        limits.max_connections
    );
    let t = TestRelay::start().await;
    let addr = t.serve().await;
    let mut slow = Vec::with_capacity(2_000);
    for _ in 0..2_000 {
        slow.push(slow_client(addr).await);
    }
    // Half the slow clients' header deadline: a webhook queued behind them would wait the
    // whole 10 s. A liveness bound with room for a loaded machine; the bench gives speed.
    let status = tokio::time::timeout(
        Duration::from_secs(5),
        post_real_webhook(addr, "01HXEDGE0000000000000000001"),
    )
    .await
    .expect("the webhook is answered before the slow clients' deadline");
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(t.line_events().await.len(), 1);
    // The slow clients are all still connected (their header deadline is 10 s away).
    let mut probe = slow.pop().expect("a slow client");
    assert!(!closed_within(&mut probe, Duration::from_millis(50)).await);
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let t = TestRelay::start_with(|c| c.header_timeout_seconds = 1).await;
    let addr = t.serve().await;
    let mut tcp = slow_client(addr).await;
    assert!(
        closed_within(&mut tcp, Duration::from_secs(10)).await,
        "the relay closes a connection whose headers do not arrive in time"
    );
    // An idle keep-alive connection is let go the same way.
    let mut idle = TcpStream::connect(addr).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
        .await
        .expect("request");
    assert!(closed_within(&mut idle, Duration::from_secs(10)).await);
}

#[tokio::test]
async fn at_the_connection_cap_a_new_client_waits_until_a_place_frees() {
    let t = TestRelay::start_with(|c| c.max_connections = 10).await;
    let addr = t.serve().await;
    let mut slow = Vec::new();
    for _ in 0..10 {
        slow.push(slow_client(addr).await);
    }
    // The eleventh connects (the kernel's backlog takes it) but is not served...
    let mut late = TcpStream::connect(addr).await.expect("connect");
    late.write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let mut answer = Vec::new();
    let waited =
        tokio::time::timeout(Duration::from_millis(300), late.read_to_end(&mut answer)).await;
    assert!(waited.is_err(), "served beyond the cap");
    // ...until one of the ten goes away.
    drop(slow.pop());
    tokio::time::timeout(Duration::from_secs(10), late.read_to_end(&mut answer))
        .await
        .expect("served once a place is free")
        .expect("read");
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
            .chars()
            .take(200)
            .collect::<String>()
    );
}

/// Every route the relay has, with its method (path parameters filled in).
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/line/1650000000/webhook"),
    ("GET", "/healthz"),
    ("POST", "/api/login"),
    ("POST", "/api/logout"),
    ("GET", "/api/ws"),
    ("GET", "/api/media/1650000000/1"),
    ("GET", "/api/channels"),
    ("POST", "/api/channels"),
    ("PUT", "/api/channels/1650000000"),
    ("POST", "/api/channels/1650000000/check"),
    ("GET", "/api/users"),
    ("POST", "/api/users"),
    ("PUT", "/api/users/rita"),
    ("DELETE", "/api/users/rita"),
    ("GET", "/api/contacts"),
    ("POST", "/api/contacts"),
    ("GET", "/api/contacts/1"),
    ("PUT", "/api/contacts/1"),
    ("GET", "/api/contacts/1/export"),
    ("POST", "/api/contacts/1/link"),
    (
        "GET",
        "/api/profiles/1650000000/U4af4980629a1b2c3d4e5f60718293a4b",
    ),
    ("POST", "/api/send"),
    ("POST", "/api/uploads"),
    ("GET", "/o/abc/def"),
    ("POST", "/api/presence"),
    ("GET", "/api/agents"),
    ("PUT", "/api/agents/rita"),
    ("GET", "/api/conversations"),
    ("GET", "/api/conversations/1"),
    ("POST", "/api/conversations/1/close"),
    ("GET", "/api/workstreams/1650000000"),
    ("PUT", "/api/workstreams/1650000000"),
    ("GET", "/api/queues"),
    ("PUT", "/api/queues/1"),
];

#[tokio::test]
async fn a_body_over_its_route_limit_is_413_on_every_route_and_changes_nothing() {
    let t = TestRelay::start().await;
    let admin = t.login("ada").await;
    let before = (t.events().await.len(), t.get_as("/api/users", &admin).await);
    for (method, path) in ROUTES {
        let limit = match *path {
            "/api/uploads" => linedesk_relay::uploads::MAX_UPLOAD,
            p if p.ends_with("/webhook") => linedesk_relay::MAX_WEBHOOK_BODY,
            _ => linedesk_relay::MAX_API_BODY,
        };
        // The declared length is enough: the relay refuses before reading a byte of it.
        let req = Request::builder()
            .method(*method)
            .uri(*path)
            .header("authorization", format!("Bearer {admin}"))
            .header("content-type", "application/json")
            .header("content-length", limit + 1)
            .body(Body::from("{}"))
            .expect("request");
        let resp = t.app().oneshot(req).await.expect("served");
        assert_eq!(
            resp.status(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "{method} {path}"
        );
    }
    let after = (t.events().await.len(), t.get_as("/api/users", &admin).await);
    assert_eq!(before, after, "an oversized request changed something");
}

/// A flood of forged signatures: real webhooks are answered while it goes on, each forgery is
/// counted once for the admin (in memory, written in batches), and none is stored. How quick the
/// real ones stay is a figure for the relay bench ("real webhooks under a forged flood"), not
/// a timed assertion here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_forged_signatures_is_counted_and_real_webhooks_go_through_it() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    let t = TestRelay::start().await;
    let addr = t.serve().await;
    let stop = Arc::new(AtomicBool::new(false));
    let forged = Arc::new(AtomicUsize::new(0));
    let body = webhook_body(&[text_event("01HXFORGED0000000000000001", "let me in")]);
    let mut flood = Vec::new();
    for _ in 0..16 {
        let (stop, forged, body) = (stop.clone(), forged.clone(), body.clone());
        flood.push(tokio::spawn(async move {
            let http = client();
            while !stop.load(Ordering::SeqCst) {
                let status = http
                    .post(format!("http://{addr}/line/{CHANNEL}/webhook"))
                    .header(
                        "x-line-signature",
                        "bm90IHRoZSBzaWduYXR1cmUgb2YgdGhpcyBib2R5IQ==",
                    )
                    .body(body.clone())
                    .send()
                    .await
                    .expect("a forged webhook is answered")
                    .status();
                assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
                forged.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    // The flood is under way before the real webhooks start...
    wait_for(|| {
        let n = forged.load(Ordering::SeqCst);
        async move { (n >= 200).then_some(()) }
    })
    .await;
    let during = forged.load(Ordering::SeqCst);
    for n in 0..200 {
        let status = post_real_webhook(addr, &format!("01HXREAL{n:018}")).await;
        assert_eq!(status, reqwest::StatusCode::OK);
    }
    // ...and still going when the last one is answered: the two were served side by side.
    let flooding = forged.load(Ordering::SeqCst);
    wait_for(|| {
        let n = forged.load(Ordering::SeqCst);
        async move { (n > flooding).then_some(()) }
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    for f in flood {
        f.await.expect("flood client");
    }
    let refused = forged.load(Ordering::SeqCst);
    eprintln!(
        "200 real webhooks answered while {} forged ones were refused",
        flooding - during
    );
    assert_eq!(t.line_events().await.len(), 200, "no forged event stored");
    // Every refusal is counted for the admin's health view.
    let counted = wait_for(|| async {
        let n = t
            .relay
            .read(|c| linedesk_relay::store::channels::signature_failures(c, CHANNEL))
            .await
            .expect("read");
        (n as usize >= refused).then_some(n as usize)
    })
    .await;
    assert_eq!(counted, refused, "each forged webhook counted once");
}
