//! The core against a real relay and the LINE simulator on 127.0.0.1: streaming into the cache,
//! search, sending by reply then push, crash-safe outbox, offline and catch-up.

#[path = "core/props.rs"]
mod props;
#[path = "core/replies.rs"]
mod replies;
#[path = "core/suggest.rs"]
mod suggest;
#[path = "core/transcript.rs"]
mod transcript;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use linedesk_core::credentials::MemoryStore;
use linedesk_core::relay_link::LinkState;
use linedesk_core::Core;
use linedesk_line::Secret;
use linedesk_tests::{Loopback, PASSWORD};
use serde_json::{json, Value};

struct World {
    dir: tempfile::TempDir,
    lb: Loopback,
}

async fn world() -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let lb = Loopback::start(&dir.path().join("relay")).await;
    // Rita is at her desk: conversations are offered to her, and no "all busy" notice spends
    // the customer's free reply token.
    let token = lb.login("rita", PASSWORD).await;
    let (status, _) = lb
        .api(
            reqwest::Method::POST,
            "/api/presence",
            &token,
            Some(json!({"presence": "available"})),
        )
        .await;
    assert_eq!(status, 200);
    World { dir, lb }
}

impl World {
    fn console_dir(&self) -> PathBuf {
        self.dir.path().join("console")
    }

    async fn console(&self, creds: Arc<MemoryStore>) -> Core {
        Core::open(&self.console_dir(), creds, "test").expect("core opens")
    }

    async fn sim(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        self.lb.sim_request(method, path, body).await
    }

    async fn customer(&self, name: &str, lang: &str) -> String {
        self.lb.customer(name, lang).await
    }

    async fn say(&self, user: &str, msg: Value) -> Value {
        self.lb
            .sim(&format!("/sim/customers/{user}/messages"), msg)
            .await
    }

    async fn received(&self, user: &str) -> Vec<Value> {
        self.lb
            .sim(&format!("/sim/customers/{user}/received"), Value::Null)
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    async fn stop_relay(&mut self) {
        self.lb.stop_relay().await;
    }

    async fn start_relay(&mut self) {
        self.lb.start_relay().await;
    }

    fn relay_url(&self) -> String {
        self.lb.relay_url.clone()
    }
}

async fn eventually<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..500 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what} did not happen within 10 s");
}

async fn online(core: &Core) {
    let mut state = core.link_state();
    eventually("link online", async || {
        (*state.borrow_and_update() == LinkState::Online).then_some(())
    })
    .await;
}

/// Waits for the relay's offer of this chat to reach the console, then accepts it: only the
/// owner of an Active conversation may write to the customer.
async fn accept(core: &Core, conv: i64) {
    let id = eventually("the offer reached the console", async || {
        let list = core.conversations(50).await.ok()?;
        let c = list.into_iter().find(|c| c.id == conv)?;
        let snap = c.routing?;
        snap.offer.is_some().then_some(snap.id)
    })
    .await;
    core.act(&id, "accept", json!({}))
        .await
        .expect("the representative accepts the offer");
}

#[tokio::test]
async fn customer_messages_stream_into_the_cache_and_are_searchable() {
    let w = world().await;
    let core = w.console(Arc::default()).await;
    core.sign_in(&w.relay_url(), "rita", PASSWORD)
        .await
        .expect("sign in");
    online(&core).await;
    let user = w.customer("王小明", "zh-TW").await;
    w.say(
        &user,
        json!({"type": "text", "text": "你好，我的訂單還沒到"}),
    )
    .await;
    w.say(
        &user,
        json!({"type": "text", "text": "<img src=x onerror=alert(1)>"}),
    )
    .await;
    let photo = w.say(&user, json!({"type": "image"})).await["messageId"]
        .as_str()
        .expect("id")
        .to_owned();
    let conv = eventually("profile and messages cached", async || {
        let list = core.conversations(10).await.ok()?;
        let c = list.into_iter().find(|c| c.chat_id == user)?;
        (c.display_name.is_some() && c.unread >= 3).then_some(c)
    })
    .await;
    assert_eq!(conv.display_name.as_deref(), Some("王小明"));
    assert_eq!(conv.language.as_deref(), Some("zh-TW"));
    assert!(
        core.cache().mark_read(conv.id).expect("mark read"),
        "three unread messages are marked read"
    );
    assert!(
        !core.cache().mark_read(conv.id).expect("mark read again"),
        "a conversation already read is not written again"
    );
    let msgs = core.messages(conv.id, None, 100).await.expect("messages");
    let kinds: Vec<&str> = msgs.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, ["follow", "text", "text", "image"]);
    assert_eq!(
        msgs[2].text.as_deref(),
        Some("<img src=x onerror=alert(1)>"),
        "stored as plain text, unchanged"
    );

    let hits = core.search("訂單", 10).await.expect("search");
    assert_eq!(
        hits.len(),
        1,
        "a two-character Chinese word is found inside a sentence"
    );
    assert_eq!(hits[0].display_name.as_deref(), Some("王小明"));
    assert!(
        core.search("onerr", 10).await.expect("search").len() == 1,
        "Latin prefix search"
    );

    // Unsend hides the message everywhere.
    let text_id = msgs[1].line_message_id.clone().expect("line id");
    w.sim(
        reqwest::Method::POST,
        &format!("/sim/customers/{user}/unsend"),
        json!({"messageId": text_id}),
    )
    .await;
    eventually("unsend applied", async || {
        let m = core.messages(conv.id, None, 100).await.ok()?;
        m.iter().any(|m| m.kind == "unsend").then_some(())
    })
    .await;
    let msgs = core.messages(conv.id, None, 100).await.expect("messages");
    assert!(
        msgs[1].hidden && msgs[1].text.is_none(),
        "unsent message hidden and its text dropped"
    );
    assert!(
        core.search("訂單", 10).await.expect("search").is_empty(),
        "and gone from search"
    );
    let _ = photo;
    core.shutdown().await;
}

#[tokio::test]
async fn replies_go_free_while_fresh_then_by_push_with_the_outbox_id_as_retry_key() {
    let w = world().await;
    let core = w.console(Arc::default()).await;
    core.sign_in(&w.relay_url(), "rita", PASSWORD)
        .await
        .expect("sign in");
    online(&core).await;
    let user = w.customer("Emily", "en").await;
    w.say(&user, json!({"type": "text", "text": "hi"})).await;
    let conv = eventually("conversation", async || {
        core.conversations(10)
            .await
            .ok()?
            .into_iter()
            .find(|c| c.chat_id == user && c.unread >= 1)
    })
    .await;
    accept(&core, conv.id).await;
    let until = conv
        .reply_until
        .expect("a fresh reply token: free until then");
    assert!(
        until > linedesk_core::now_ms() && until <= linedesk_core::now_ms() + 50_000,
        "about 50 s from the message"
    );
    let first = core
        .send_text(conv.id, "Hello! How can I help?")
        .await
        .expect("queued");
    let second = core
        .send_text(conv.id, "Are you still there?")
        .await
        .expect("queued");
    let received = eventually("both delivered", async || {
        let r = w.received(&user).await;
        (r.len() == 2).then_some(r)
    })
    .await;
    assert_eq!(
        received[0]["via"], "reply",
        "the fresh reply token is used first: free"
    );
    assert_eq!(
        received[1]["via"], "push",
        "the token is single-use: the next goes by push"
    );
    assert_eq!(
        received[1]["retryKey"],
        second.id.as_str(),
        "push carries the outbox id as retry key"
    );
    let msgs = eventually("transcribed and confirmed", async || {
        let m = core.messages(conv.id, None, 100).await.ok()?;
        m.iter()
            .filter(|m| m.direction == "out")
            .all(|m| m.status.as_deref() == Some("sent") && m.seq.is_some())
            .then_some(m)
    })
    .await;
    let out: Vec<_> = msgs.iter().filter(|m| m.direction == "out").collect();
    assert_eq!(
        out.len(),
        2,
        "each sent message appears once, even after the relay's transcript came back"
    );
    assert_eq!(out[0].via.as_deref(), Some("reply"));
    assert_eq!(out[1].via.as_deref(), Some("push"));
    assert_eq!(out[0].outbox_id.as_deref(), Some(first.id.as_str()));
    let now = core
        .conversations(10)
        .await
        .expect("list")
        .into_iter()
        .find(|c| c.id == conv.id)
        .expect("the chat");
    assert_eq!(
        now.reply_until, None,
        "the token is spent: push from now on"
    );
    assert!(
        core.send_text(conv.id, "  ").await.is_err(),
        "empty text refused"
    );
    core.shutdown().await;
}

#[tokio::test]
async fn a_send_interrupted_by_a_crash_is_delivered_exactly_once_after_restart() {
    let w = world().await;
    let creds = Arc::new(MemoryStore::default());
    let user = w.customer("สมชาย", "th").await;
    w.say(&user, json!({"type": "text", "text": "สวัสดีครับ"}))
        .await;
    let row = {
        let core = w.console(creds.clone()).await;
        core.sign_in(&w.relay_url(), "rita", PASSWORD)
            .await
            .expect("sign in");
        online(&core).await;
        let conv = eventually("conversation", async || {
            core.conversations(10)
                .await
                .ok()?
                .into_iter()
                .find(|c| c.chat_id == user)
        })
        .await;
        accept(&core, conv.id).await;
        // The first answer spends the free reply token; what follows goes by push.
        core.send_text(conv.id, "สวัสดีครับ ยินดีให้บริการ")
            .await
            .expect("queued");
        eventually("the reply reached LINE", async || {
            (w.received(&user).await.len() == 1).then_some(())
        })
        .await;
        // Every push takes effect at LINE but its answer is lost, as if the app died mid-call.
        w.sim(
            reqwest::Method::POST,
            "/sim/faults",
            json!({"path": "/v2/bot/message/push", "status": 500, "after": true, "count": 1000}),
        )
        .await;
        let row = core.send_text(conv.id, "ขอบคุณครับ").await.expect("queued");
        eventually("first attempt reached LINE", async || {
            (w.received(&user).await.len() == 2).then_some(())
        })
        .await;
        core.shutdown().await; // the "crash": the outbox row is left in `sending`
        let state = core
            .cache()
            .outbox_row(&row.id)
            .expect("row")
            .expect("exists")
            .state;
        assert_eq!(
            state, "sending",
            "the send was in flight when the app stopped"
        );
        row
    };
    w.sim(reqwest::Method::DELETE, "/sim/faults", Value::Null)
        .await;
    let core = w.console(creds).await;
    assert!(
        core.resume().await.expect("resume"),
        "session resumed from the credential store"
    );
    online(&core).await;
    let conv_id = core.conversations(10).await.expect("list")[0].id;
    let msgs = eventually("delivered and confirmed after restart", async || {
        let m = core.messages(conv_id, None, 100).await.ok()?;
        m.iter()
            .any(|m| {
                m.outbox_id.as_deref() == Some(row.id.as_str())
                    && m.status.as_deref() == Some("sent")
                    && m.seq.is_some()
            })
            .then_some(m)
    })
    .await;
    let received = w.received(&user).await;
    assert_eq!(
        received.len(),
        2,
        "the customer got each message exactly once"
    );
    assert_eq!(
        received[1]["retryKey"].as_str(),
        Some(row.id.as_str()),
        "the retry key was reused"
    );
    assert_eq!(
        msgs.iter().filter(|m| m.direction == "out").count(),
        2,
        "each message is in the transcript once"
    );
    core.shutdown().await;
}

#[tokio::test]
async fn offline_console_keeps_queued_sends_and_catches_up_on_reconnect() {
    let mut w = world().await;
    let core = w.console(Arc::default()).await;
    core.sign_in(&w.relay_url(), "rita", PASSWORD)
        .await
        .expect("sign in");
    online(&core).await;
    let user = w.customer("佐藤 花子", "ja").await;
    w.say(&user, json!({"type": "text", "text": "こんにちは"}))
        .await;
    let conv = eventually("conversation", async || {
        core.conversations(10)
            .await
            .ok()?
            .into_iter()
            .find(|c| c.chat_id == user)
    })
    .await;
    accept(&core, conv.id).await;
    w.stop_relay().await;
    let mut state = core.link_state();
    eventually("offline shown", async || {
        matches!(*state.borrow_and_update(), LinkState::Offline { .. }).then_some(())
    })
    .await;
    let queued = core
        .send_text(conv.id, "すぐに確認します")
        .await
        .expect("queued while offline");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let row = core
        .cache()
        .outbox_row(&queued.id)
        .expect("row")
        .expect("exists");
    assert!(
        matches!(row.state.as_str(), "queued" | "sending"),
        "kept, not failed: {}",
        row.state
    );
    assert!(
        w.received(&user).await.is_empty(),
        "nothing sent while the relay is down"
    );
    // Customers keep writing; LINE redelivers to the relay once it is back (the sim's redeliver).
    let missed = w
        .say(&user, json!({"type": "text", "text": "もしもし？"}))
        .await;
    assert_eq!(missed["delivery"]["status"], 0, "the relay was down");
    w.start_relay().await;
    w.sim(
        reqwest::Method::POST,
        "/sim/redeliver",
        json!({"webhookEventId": missed["webhookEventId"]}),
    )
    .await;
    online(&core).await;
    let msgs = eventually("caught up and sent", async || {
        let m = core.messages(conv.id, None, 100).await.ok()?;
        let got = m.iter().any(|m| m.text.as_deref() == Some("もしもし？"));
        let sent = m
            .iter()
            .any(|m| m.direction == "out" && m.status.as_deref() == Some("sent"));
        (got && sent).then_some(m)
    })
    .await;
    assert_eq!(
        msgs.iter()
            .filter(|m| m.text.as_deref() == Some("もしもし？"))
            .count(),
        1,
        "nothing doubled"
    );
    assert_eq!(
        w.received(&user).await.len(),
        1,
        "the queued send went out once"
    );
    core.shutdown().await;
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_relay_and_forgets_the_token() {
    let w = world().await;
    let creds = Arc::new(MemoryStore::default());
    let core = w.console(creds.clone()).await;
    core.sign_in(&w.relay_url(), "rita", PASSWORD)
        .await
        .expect("sign in");
    online(&core).await;
    let (_, token) = core.session_token().expect("signed in");
    core.sign_out().await.expect("sign out");
    let (status, _) =
        w.lb.api(reqwest::Method::GET, "/api/agents", token.expose(), None)
            .await;
    assert_eq!(status, 401, "the relay no longer knows the session");
    assert!(
        !core.resume().await.expect("resume"),
        "the keyring entry is gone: nothing to resume"
    );
}

#[tokio::test]
async fn the_session_token_is_not_written_to_the_cache_directory() {
    let w = world().await;
    let creds = Arc::new(MemoryStore::default());
    let core = w.console(creds.clone()).await;
    core.sign_in(&w.relay_url(), "rita", PASSWORD)
        .await
        .expect("sign in");
    online(&core).await;
    let (_, token) = core.session_token().expect("signed in");
    core.shutdown().await;
    let mut files = vec![w.console_dir()];
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(
                std::fs::read_dir(&p)
                    .expect("dir")
                    .map(|e| e.expect("entry").path()),
            );
            continue;
        }
        let bytes = std::fs::read(&p).expect("file");
        for needle in [token.expose().as_str(), PASSWORD] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} holds a secret",
                p.display()
            );
        }
    }
}

#[test]
fn session_tokens_round_trip_through_the_os_keyring() {
    use linedesk_core::credentials::{CredentialStore, KeyringStore};
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "run the tests inside `dbus-run-session -- scripts/with-keyring.sh` (scripts/test.sh does)"
    );
    let store = KeyringStore::new("linedesk-test");
    let account = format!("session:rita@http://127.0.0.1:{}", std::process::id());
    let token = Secret::new(format!("token-{}", uuid_like()));
    store
        .set(&account, &token)
        .expect("keyring stores the token");
    // A fresh store (as after an app restart) reads it back from the keyring daemon.
    let again = KeyringStore::new("linedesk-test")
        .get(&account)
        .expect("keyring readable");
    assert_eq!(
        again.as_ref().map(|s| s.expose().as_str()),
        Some(token.expose().as_str()),
        "same token back"
    );
    store.delete(&account).expect("delete");
    assert!(
        store.get(&account).expect("readable").is_none(),
        "forgotten after sign-out"
    );
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos()
    )
}

#[tokio::test]
async fn offers_reach_the_console_and_accepting_makes_the_conversation_mine() {
    use linedesk_protocol::routing::{ConversationState, Presence};
    let w = world().await;
    let core = w.console(Arc::new(MemoryStore::default())).await;
    let mut events = core.subscribe();
    core.sign_in(&w.relay_url(), "rita", PASSWORD)
        .await
        .expect("signs in");
    let me = core
        .set_presence(Presence::Available)
        .await
        .expect("presence");
    assert_eq!(me.presence, Presence::Available);
    let yuki = w.customer("ゆき", "ja").await;
    w.say(&yuki, json!({"type": "text", "text": "返品したいです"}))
        .await;

    let conv = eventually("the offer", async || {
        let list = core.conversations(10).await.ok()?;
        list.into_iter().find(|c| {
            c.routing
                .as_ref()
                .and_then(|r| r.offer.as_ref())
                .is_some_and(|o| o.to == "rita")
        })
    })
    .await;
    let routing = conv.routing.clone().expect("routed");
    assert_eq!(routing.first_text.as_deref(), Some("返品したいです"));
    let offered = eventually("the offers event", async || loop {
        match events.try_recv() {
            Ok(linedesk_core::CoreEvent::Offers(o)) => return Some(o),
            Ok(_) => continue,
            Err(_) => return None,
        }
    })
    .await;
    assert_eq!(offered[0].0, conv.id);

    let answer = core
        .act(&routing.id, "accept", json!({}))
        .await
        .expect("accepted");
    assert_eq!(answer.conversation.state, ConversationState::Active);
    eventually("mine in the cache", async || {
        let c = core.cache().conversation(conv.id).ok()?;
        (c.routing?.owner.as_deref() == Some("rita")).then_some(())
    })
    .await;
    let again = core.act(&routing.id, "accept", json!({})).await;
    assert!(again.is_err(), "a second accept is refused: {again:?}");
    eventually("rita busy", async || {
        let agents = core.agents().await.ok()?;
        agents
            .iter()
            .find(|a| a.user == "rita" && a.presence == Presence::Busy)
            .map(drop)
    })
    .await;
    assert_eq!(core.episodes(conv.id).await.expect("episodes").len(), 1);
    core.shutdown().await;
}

/// A relay that terminates TLS with a certificate from a private CA (made here), serving only
/// rita: the data directory `linedesk_relay::serve` opens.
async fn tls_relay(
    dir: &std::path::Path,
) -> (
    linedesk_tests::tls::TestPki,
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let pki = linedesk_tests::tls::TestPki::new(dir);
    let data = dir.join("relay");
    {
        let conn = linedesk_relay::store::open_writer(&data).expect("relay database");
        linedesk_relay::store::users::add(&conn, "rita", linedesk_protocol::Role::Rep, PASSWORD, 0)
            .expect("user");
    }
    let mut config = linedesk_relay::ServeConfig::local(data);
    config.tls_cert = Some(pki.cert_file());
    config.tls_key = Some(pki.key_file());
    let (bound_tx, bound_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(linedesk_relay::serve(config, Some(bound_tx), async move {
        let _ = stop_rx.await;
    }));
    let addr = bound_rx.await.expect("the relay binds");
    (pki, addr, stop_tx, server)
}

#[tokio::test]
async fn the_console_reaches_a_tls_relay_whose_ca_file_it_was_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pki, addr, stop, server) = tls_relay(dir.path()).await;
    let config = linedesk_core::CoreConfig {
        relay_ca: Some(pki.ca_file()),
    };
    let core = Core::open_with_config(
        &dir.path().join("console"),
        Arc::new(MemoryStore::default()),
        "test",
        &config,
    )
    .expect("core opens with the CA file");
    // https for the calls, wss for the stream: both must trust the test CA.
    let url = format!("https://localhost:{}", addr.port());
    core.sign_in(&url, "rita", PASSWORD)
        .await
        .expect("sign in over https");
    online(&core).await;
    core.shutdown().await;
    let _ = stop.send(());
    server
        .await
        .expect("server task")
        .expect("the relay shuts down cleanly");
}

#[tokio::test]
async fn plain_http_to_another_machine_is_refused_before_connecting() {
    use linedesk_core::relay_link::LinkError;
    use linedesk_core::CoreError;
    let dir = tempfile::tempdir().expect("tempdir");
    let core = Core::open(
        &dir.path().join("console"),
        Arc::new(MemoryStore::default()),
        "test",
    )
    .expect("core opens");
    // 10.0.0.5 answers nothing here: an attempt to connect would take the 10 s connect timeout
    // (or fail as unreachable), so an answer within a second is a refusal made before it.
    let result = tokio::time::timeout(
        Duration::from_secs(1),
        core.sign_in("http://10.0.0.5:8080", "rita", PASSWORD),
    )
    .await
    .expect("refused at once, without trying to connect");
    assert!(
        matches!(result, Err(CoreError::Link(LinkError::Insecure { .. }))),
        "plain http:// off this machine is refused as insecure: {result:?}"
    );
    assert_eq!(
        *core.link_state().borrow(),
        LinkState::SignedOut,
        "nothing was started"
    );
}
