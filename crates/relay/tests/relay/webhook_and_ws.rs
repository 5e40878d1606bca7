//! The relay's HTTP surface: the webhook answer table, login, and the console websocket.
//! Real SQLite files in a temp dir; `app()` driven with `oneshot` or served on 127.0.0.1:0.

use crate::common;

use axum::body::Body;
use common::*;
use futures_util::{SinkExt, StreamExt};
use http::{Request, StatusCode};
use linedesk_protocol::{ClientFrame, ErrorCode, ServerFrame, PROTOCOL_VERSION};
use linedesk_relay::store;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tower::ServiceExt as _;

#[tokio::test]
async fn valid_webhook_is_stored_once_per_event_id() {
    let t = TestRelay::start().await;
    let body = webhook_body(&[text_event("01HXAAAAAAAAAAAAAAAAAAAAAA", "hello")]);
    for _ in 0..3 {
        let resp = t.post_webhook(CHANNEL, &body, Some(&sign(&body))).await;
        assert_eq!(resp, StatusCode::OK, "a valid webhook is acknowledged");
    }
    let events = t.line_events().await;
    assert_eq!(events.len(), 1, "redelivered copies are stored once");
    assert!(events[0].body.contains("hello"), "raw event stored");
}

#[tokio::test]
async fn verify_request_with_no_events_stores_nothing() {
    let t = TestRelay::start().await;
    let body = br#"{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}"#.to_vec();
    assert_eq!(
        t.post_webhook(CHANNEL, &body, Some(&sign(&body))).await,
        StatusCode::OK
    );
    assert!(t.events().await.is_empty(), "Verify stores nothing");
}

#[tokio::test]
async fn forged_or_missing_signatures_are_refused_counted_and_not_stored() {
    let t = TestRelay::start().await;
    let body = webhook_body(&[text_event("01HXBBBBBBBBBBBBBBBBBBBBBB", "forged")]);
    assert_eq!(
        t.post_webhook(CHANNEL, &body, None).await,
        StatusCode::UNAUTHORIZED,
        "missing signature"
    );
    let wrong = linedesk_line::signature::sign("another-secret", &body);
    assert_eq!(
        t.post_webhook(CHANNEL, &body, Some(&wrong)).await,
        StatusCode::UNAUTHORIZED,
        "wrong secret"
    );
    assert_eq!(
        t.post_webhook(CHANNEL, &body, Some("garbage")).await,
        StatusCode::UNAUTHORIZED,
        "garbage"
    );
    // An empty events list needs a signature too (REFERENCE.md Traps 2).
    let verify = br#"{"destination":"U0","events":[]}"#.to_vec();
    assert_eq!(
        t.post_webhook(CHANNEL, &verify, None).await,
        StatusCode::UNAUTHORIZED
    );
    assert!(t.events().await.is_empty(), "nothing stored on refusal");
    let counted = wait_for(|| async {
        let n = t
            .relay
            .read(|c| store::channels::signature_failures(c, CHANNEL))
            .await
            .expect("read");
        (n == 4).then_some(n)
    })
    .await;
    assert_eq!(counted, 4, "every refusal counted for the channel");
}

#[tokio::test]
async fn unknown_channel_is_404_and_stores_nothing() {
    let t = TestRelay::start().await;
    let body = webhook_body(&[text_event("01HXCCCCCCCCCCCCCCCCCCCCCC", "x")]);
    assert_eq!(
        t.post_webhook("999", &body, Some(&sign(&body))).await,
        StatusCode::NOT_FOUND
    );
    assert!(t.events().await.is_empty());
}

#[tokio::test]
async fn oversized_body_is_413_and_stores_nothing() {
    let t = TestRelay::start().await;
    let big = "x".repeat(1024 * 1024 + 1);
    let body = webhook_body(&[text_event("01HXDDDDDDDDDDDDDDDDDDDDDD", &big)]);
    assert_eq!(
        t.post_webhook(CHANNEL, &body, Some(&sign(&body))).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert!(t.events().await.is_empty());
}

#[tokio::test]
async fn signed_malformed_json_is_400_and_stores_nothing() {
    let t = TestRelay::start().await;
    for body in [
        &b"{not json"[..],
        br#"{"destination":"U0"}"#,
        br#"{"destination":"U0","events":{}}"#,
    ] {
        assert_eq!(
            t.post_webhook(CHANNEL, body, Some(&sign(body))).await,
            StatusCode::BAD_REQUEST,
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
    assert!(t.events().await.is_empty());
}

#[tokio::test]
async fn several_events_in_one_body_keep_their_order() {
    let t = TestRelay::start().await;
    let body = webhook_body(&[
        text_event("01HXE0000000000000000000001", "one"),
        text_event("01HXE0000000000000000000002", "two"),
        text_event("01HXE0000000000000000000003", "three"),
    ]);
    assert_eq!(
        t.post_webhook(CHANNEL, &body, Some(&sign(&body))).await,
        StatusCode::OK
    );
    // LINE's events (routing may already have logged its own after them).
    let texts: Vec<String> = t
        .line_events()
        .await
        .iter()
        .map(|e| e.webhook_event_id.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        texts,
        [
            "01HXE0000000000000000000001",
            "01HXE0000000000000000000002",
            "01HXE0000000000000000000003"
        ]
    );
}

#[tokio::test]
async fn login_gives_a_session_and_wrong_passwords_do_not() {
    let t = TestRelay::start().await;
    let ok = t
        .app()
        .oneshot(json_post(
            "/api/login",
            r#"{"user":"rita","password":"correct horse"}"#,
        ))
        .await
        .expect("served");
    assert_eq!(ok.status(), StatusCode::OK);
    let bad = t
        .app()
        .oneshot(json_post(
            "/api/login",
            r#"{"user":"rita","password":"wrong"}"#,
        ))
        .await
        .expect("served");
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let junk = t
        .app()
        .oneshot(json_post("/api/login", "{"))
        .await
        .expect("served");
    assert_eq!(junk.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn api_routes_refuse_missing_sessions_and_wrong_roles() {
    let t = TestRelay::start().await;
    let anon = t.get("/api/channels").await;
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
    let rep = t.login("rita").await;
    let as_rep = t
        .app()
        .oneshot(
            Request::get("/api/channels")
                .header("authorization", format!("Bearer {rep}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("served");
    assert_eq!(
        as_rep.status(),
        StatusCode::FORBIDDEN,
        "representatives do not see channel health"
    );
    let admin = t.login("ada").await;
    let as_admin = t
        .app()
        .oneshot(
            Request::get("/api/channels")
                .header("authorization", format!("Bearer {admin}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("served");
    assert_eq!(as_admin.status(), StatusCode::OK);
    let text = body_text(as_admin).await;
    assert!(
        !text.contains(SECRET) && !text.contains(TOKEN),
        "no credentials in the admin view"
    );
}

#[tokio::test]
async fn websocket_streams_in_order_and_resumes_from_the_cursor() {
    let t = TestRelay::start().await;
    let addr = t.serve().await;
    for i in 0..5 {
        let body = webhook_body(&[text_event(
            &format!("01HXF00000000000000000000{i:02}"),
            &format!("m{i}"),
        )]);
        assert_eq!(
            t.post_webhook(CHANNEL, &body, Some(&sign(&body))).await,
            StatusCode::OK
        );
    }
    // The log holds the customer's messages and what routing decided about them.
    linedesk_relay::routing::Routing::settled(&t.relay).await;
    let logged: Vec<u64> = t.events().await.iter().map(|e| e.seq).collect();
    let head = *logged.last().expect("events");
    assert!(
        logged.len() > 5,
        "routing snapshots are logged too: {logged:?}"
    );
    // An admin sees the whole log (what a representative sees is the access tests' story).
    let token = t.login("ada").await;
    let mut ws = WsClient::connect(addr).await;
    ws.send(&ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        token: token.clone(),
        since: Some(0),
    })
    .await;
    match ws.recv().await {
        ServerFrame::Welcome {
            resume_after: 0,
            head: h,
            ..
        } => assert_eq!(h, head),
        other => panic!("expected welcome, got {other:?}"),
    }
    let mut seqs = Vec::new();
    for _ in 0..logged.len() {
        seqs.push(ws.recv_event_seq().await);
    }
    assert_eq!(seqs, logged, "backlog in order, every event once");
    assert!(matches!(ws.recv().await, ServerFrame::CaughtUp { head: h } if h == head));
    let acked = logged[2];
    ws.send(&ClientFrame::Ack { seq: acked }).await;
    // Live events follow.
    let body = webhook_body(&[text_event("01HXF0000000000000000000099", "live")]);
    assert_eq!(
        t.post_webhook(CHANNEL, &body, Some(&sign(&body))).await,
        StatusCode::OK
    );
    assert_eq!(ws.recv_event_seq().await, head + 1, "live event delivered");
    drop(ws);
    linedesk_relay::routing::Routing::settled(&t.relay).await;
    let logged: Vec<u64> = t.events().await.iter().map(|e| e.seq).collect();
    // Reconnect from the acknowledged cursor: nothing missed, nothing doubled.
    let stored = wait_for(|| async {
        let tok = token.clone();
        let s = t
            .relay
            .read(move |c| store::users::session(c, &tok, store::now_ms()))
            .await
            .expect("read")
            .expect("session");
        (s.acked_seq == acked).then_some(s.acked_seq)
    })
    .await;
    assert_eq!(stored, acked);
    let mut ws = WsClient::connect(addr).await;
    ws.send(&ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        token,
        since: None,
    })
    .await;
    assert!(matches!(
        ws.recv().await,
        ServerFrame::Welcome { resume_after, .. } if resume_after == acked
    ));
    let expected: Vec<u64> = logged.iter().copied().filter(|s| *s > acked).collect();
    let mut again = Vec::new();
    for _ in 0..expected.len() {
        again.push(ws.recv_event_seq().await);
    }
    assert_eq!(again, expected, "resumed after the acknowledged cursor");
    assert!(matches!(ws.recv().await, ServerFrame::CaughtUp { .. }));
}

#[tokio::test]
async fn websocket_refuses_unknown_expired_and_wrong_version() {
    let t = TestRelay::start().await;
    let addr = t.serve().await;
    let mut ws = WsClient::connect(addr).await;
    ws.send(&ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        token: "nope".into(),
        since: None,
    })
    .await;
    assert!(matches!(
        ws.recv().await,
        ServerFrame::Error {
            code: ErrorCode::Unauthenticated,
            ..
        }
    ));

    let expired = t
        .relay
        .writer()
        .run(|c| store::users::create_session(c, 1, None, store::now_ms() - 10_000, 1))
        .await
        .expect("session")
        .0;
    let mut ws = WsClient::connect(addr).await;
    ws.send(&ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        token: expired,
        since: None,
    })
    .await;
    assert!(
        matches!(
            ws.recv().await,
            ServerFrame::Error {
                code: ErrorCode::Unauthenticated,
                ..
            }
        ),
        "expired session refused"
    );

    let token = t.login("rita").await;
    let mut ws = WsClient::connect(addr).await;
    ws.send(&ClientFrame::Hello {
        version: 99,
        token,
        since: None,
    })
    .await;
    assert!(matches!(
        ws.recv().await,
        ServerFrame::Error {
            code: ErrorCode::VersionMismatch,
            ..
        }
    ));

    let mut ws = WsClient::connect(addr).await;
    ws.send_text("{\"type\":\"ack\"").await;
    assert!(
        matches!(
            ws.recv().await,
            ServerFrame::Error {
                code: ErrorCode::BadRequest,
                ..
            }
        ),
        "malformed frame refused"
    );
}

#[tokio::test]
async fn secrets_are_not_stored_in_plain_text() {
    let t = TestRelay::start().await;
    let body = webhook_body(&[text_event("01HXG0000000000000000000001", "x")]);
    t.post_webhook(CHANNEL, &body, Some(&sign(&body))).await;
    let _ = t.login("rita").await;
    for entry in walk(t.dir.path()) {
        let bytes = std::fs::read(&entry).expect("readable");
        for needle in [SECRET, TOKEN, "correct horse"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} contains {needle:?} in plain text",
                entry.display()
            );
        }
    }
}

#[tokio::test]
async fn one_odd_event_in_a_signed_batch_is_kept_flagged_and_the_others_are_processed() {
    let t = TestRelay::start().await;
    let good: Vec<serde_json::Value> = (0..4)
        .map(|i| {
            text_event(
                &format!("01HXODD000000000000000000{i}"),
                &format!("fine {i}"),
            )
        })
        .collect();
    let events = vec![
        good[0].clone(),
        good[1].clone(),
        serde_json::json!({"timestamp": 1, "note": "no type"}),
        good[2].clone(),
        good[3].clone(),
    ];
    let body = webhook_body(&events);
    for _ in 0..2 {
        assert_eq!(
            t.post_webhook(CHANNEL, &body, Some(&sign(&body))).await,
            StatusCode::OK,
            "the batch is acknowledged (a redelivery too)"
        );
    }
    let logged = t.line_events().await;
    let kinds: Vec<&str> = logged.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        kinds,
        ["message", "message", "malformed", "message", "message"],
        "four processed, one kept and flagged, each once"
    );
    assert!(logged[2].body.contains("no type"), "kept byte for byte");
}

#[tokio::test]
async fn a_huge_frame_before_hello_closes_the_socket_and_a_silent_console_is_dropped() {
    let t = TestRelay::start_with(|c| c.console_idle_seconds = 1).await;
    let addr = t.serve().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/ws"))
        .await
        .expect("ws");
    let huge = "x".repeat(60 * 1024 * 1024);
    let _ = ws.send(Message::text(huge)).await;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "a 60 MiB frame closes the socket");

    // A console that signs in and then says nothing (frozen, or its network gone).
    let token = t.login("ada").await;
    let mut ws = WsClient::connect(addr).await;
    ws.send(&ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        token,
        since: None,
    })
    .await;
    let started = std::time::Instant::now();
    loop {
        if let ServerFrame::Error { code, .. } = ws.recv().await {
            assert_eq!(code, ErrorCode::BadRequest);
            break;
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "dropped at the idle deadline: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_sign_in_flood_is_throttled_and_unknown_names_take_as_long_as_wrong_passwords() {
    let t = TestRelay::start().await;
    let attempt = |user: &str| {
        let body = format!(r#"{{"user":"{user}","password":"not the password"}}"#);
        let app = t.app();
        async move {
            let started = std::time::Instant::now();
            let resp = app
                .oneshot(json_post("/api/login", &body))
                .await
                .expect("served");
            (resp.status(), started.elapsed())
        }
    };
    // Timing: a wrong password for a real name and any password for a made-up one both run
    // argon2 (the first call also builds the dummy hash, so warm up once).
    let _ = attempt("nobody-warmup").await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    // Interleaved, and compared by their medians: the machine's other load hits both alike.
    for i in 0..9 {
        let (status, took) = attempt("rita").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        known.push(took);
        let (status, took) = attempt(&format!("nobody{i}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        unknown.push(took);
    }
    known.sort();
    unknown.sort();
    assert!(
        unknown[4] * 2 > known[4] && known[4] * 2 > unknown[4],
        "an unknown name is refused in about the time a wrong password is: {unknown:?} vs {known:?}"
    );
    // A flood on one account gets 429 with Retry-After, before any hashing.
    let mut throttled = 0;
    for _ in 0..12 {
        let resp = t
            .app()
            .oneshot(json_post(
                "/api/login",
                r#"{"user":"rita","password":"guess"}"#,
            ))
            .await
            .expect("served");
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(resp.headers().contains_key("retry-after"));
            throttled += 1;
        }
    }
    assert!(throttled >= 4, "the flood is throttled: {throttled} of 12");
    let other = t
        .app()
        .oneshot(json_post(
            "/api/login",
            r#"{"user":"sam","password":"correct horse"}"#,
        ))
        .await
        .expect("served");
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "other accounts still sign in"
    );
}

#[tokio::test]
async fn a_channel_sealed_under_another_key_is_set_aside_and_the_others_keep_working() {
    let dir = tempfile::tempdir().expect("tempdir");
    seed(dir.path(), "http://127.0.0.1:9");
    {
        // A channel restored from another relay's backup: sealed with that relay's key.
        let elsewhere = tempfile::tempdir().expect("tempdir");
        let other_key = linedesk_relay::vault::Vault::load(elsewhere.path()).expect("vault");
        let conn = linedesk_relay::ServeConfig::local_for_tests(dir.path().to_owned())
            .and_then(|c| Ok(c.open_database()?))
            .expect("the relay database");
        store::channels::upsert(
            &conn,
            &other_key,
            &store::channels::Channel {
                id: "1659999999".into(),
                name: "From a backup".into(),
                secret: linedesk_line::Secret::new("another-secret".into()),
                token: linedesk_line::Secret::new("another-token".into()),
                api_base: "http://127.0.0.1:9".into(),
                api_data_base: "http://127.0.0.1:9".into(),
                deleted_at: None,
            },
            store::now_ms(),
        )
        .expect("channel");
    }
    let config =
        linedesk_relay::ServeConfig::local_for_tests(dir.path().to_owned()).expect("config");
    let relay = linedesk_relay::Relay::start(&config)
        .await
        .expect("the relay starts despite one unreadable channel");
    let t = TestRelay { dir, relay, config };
    let body = webhook_body(&[text_event("01HXKEY0000000000000000001", "still here")]);
    assert_eq!(
        t.post_webhook(CHANNEL, &body, Some(&sign(&body))).await,
        StatusCode::OK,
        "the other channel keeps working"
    );
    let health = t.get("/healthz").await;
    let health: serde_json::Value = serde_json::from_str(&body_text(health).await).expect("json");
    assert_eq!(
        health["unreadableChannels"],
        serde_json::json!(["1659999999"]),
        "the health check names it: {health}"
    );
    // The admin's health panel says which channel, and why.
    let admin = t.login("ada").await;
    let (status, list) = t.get_as("/api/channels", &admin).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list: serde_json::Value = serde_json::from_str(&list).expect("json");
    let flag = |id: &str| {
        list.as_array()
            .and_then(|l| l.iter().find(|c| c["id"] == id))
            .map(|c| c["credentialsUnreadable"].clone())
    };
    assert_eq!(flag("1659999999"), Some(serde_json::json!(true)), "{list}");
    assert_eq!(flag(CHANNEL), Some(serde_json::json!(false)), "{list}");
}

#[tokio::test]
async fn a_writer_that_dies_turns_healthz_unhealthy_and_webhooks_are_not_acknowledged() {
    let t = TestRelay::start().await;
    // A test-only trigger: a task that panics on the writer thread.
    let outcome = t
        .relay
        .writer()
        .run(|_| -> Result<(), store::StoreError> { panic!("a test-only writer failure") })
        .await;
    assert!(outcome.is_err(), "the task is answered, not left hanging");
    wait_for(|| async { (!t.relay.writer().is_alive()).then_some(()) }).await;
    let health = t.get("/healthz").await;
    assert_eq!(
        health.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "a supervisor sees it and restarts the relay"
    );
    let body = webhook_body(&[text_event("01HXDEAD000000000000000001", "lost?")]);
    assert_eq!(
        t.post_webhook(CHANNEL, &body, Some(&sign(&body))).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "not acknowledged, so LINE redelivers it to the restarted relay"
    );
}

#[tokio::test]
async fn a_webhook_for_another_bot_is_refused_once_the_bot_is_known() {
    let t = TestRelay::start().await;
    t.relay
        .writer()
        .run(|c| {
            c.execute(
                "UPDATE channels SET bot_user_id = 'U8e742f61d673b39c7fff3cecb7536ef0' WHERE id = ?1",
                linedesk_relay::args![CHANNEL],
            )
            .map(drop)
        })
        .await
        .expect("bot id known");
    t.relay.reload_channels().await.expect("reload");
    let ours = webhook_body(&[text_event("01HXDEST00000000000000000001", "for us")]);
    assert_eq!(
        t.post_webhook(CHANNEL, &ours, Some(&sign(&ours))).await,
        StatusCode::OK
    );
    let theirs = serde_json::to_vec(&serde_json::json!({
        "destination": "Uffffffffffffffffffffffffffffffff",
        "events": [text_event("01HXDEST00000000000000000002", "for another bot")],
    }))
    .expect("json");
    assert_eq!(
        t.post_webhook(CHANNEL, &theirs, Some(&sign(&theirs))).await,
        StatusCode::BAD_REQUEST,
        "another bot's webhook"
    );
    let texts: Vec<String> = t.line_events().await.into_iter().map(|e| e.body).collect();
    assert!(texts.iter().any(|b| b.contains("for us")));
    assert!(
        !texts.iter().any(|b| b.contains("for another bot")),
        "nothing of it stored"
    );
}
