//! The trust boundary, played against a real relay and the LINE simulator on 127.0.0.1:
//!
//! - a curious representative tries every door (a channel token, another representative's
//!   customer, the whole log from cursor 0, contact ids one by one, another customer's media,
//!   a file the workstream forbids, writing while only consulting); the relay refuses each;
//! - the access rules as a table over real conversations, walked for every role;
//! - sessions end everywhere at once (sign-out, removal, password reset, role change);
//! - a relay killed while LINE is answering a push: the message reaches the customer once and
//!   is in the transcript once.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use linedesk_protocol::identity::chat_hash;
use linedesk_protocol::{ClientFrame, ErrorCode, Role, Scope, ServerFrame, PROTOCOL_VERSION};
use linedesk_relay::routing::Routing;
use linedesk_tests::{Loopback, CHANNEL, PASSWORD, USER};
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// Two representatives each serving one customer: Alice is Nora's, Bob is Rita's.
struct Floor {
    _dir: tempfile::TempDir,
    lb: Loopback,
    admin: String,
    rita: String,
    nora: String,
    alice: String,
    bob: String,
    /// Relay conversation ids.
    alice_conv: String,
    bob_conv: String,
    /// Alice's photo (a LINE message id).
    alice_photo: String,
}

const ALICE_TEXT: &str = "我的訂單 A-1001 還沒到";
const BOB_TEXT: &str = "where is parcel B-2002";

/// A UUID-shaped outbox id (LINE takes only UUIDs as retry keys).
fn outbox(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
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

impl Floor {
    async fn open() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let lb = Loopback::start(dir.path()).await;
        lb.add_user("nora", Role::Rep, PASSWORD);
        lb.add_user("ada", Role::Admin, PASSWORD);
        let admin = lb.login("ada", PASSWORD).await;
        let rita = lb.login(USER, PASSWORD).await;
        let nora = lb.login("nora", PASSWORD).await;
        let mut floor = Floor {
            _dir: dir,
            lb,
            admin,
            rita,
            nora,
            alice: String::new(),
            bob: String::new(),
            alice_conv: String::new(),
            bob_conv: String::new(),
            alice_photo: String::new(),
        };
        // Only Nora is at her desk when Alice writes.
        let nora = floor.nora.clone();
        floor.presence(&nora, "available").await;
        floor.alice = floor.lb.customer("Alice Wang", "zh-TW").await;
        floor.say(&floor.alice.clone(), ALICE_TEXT).await;
        floor.alice_photo = floor
            .lb
            .sim(
                &format!("/sim/customers/{}/messages", floor.alice),
                json!({"type": "image"}),
            )
            .await["messageId"]
            .as_str()
            .expect("message id")
            .to_owned();
        floor.alice_conv = floor.take_offer(&floor.alice.clone(), &nora, "nora").await;
        // Then Nora steps away and Rita sits down: Bob is hers.
        floor.presence(&nora, "away").await;
        let rita = floor.rita.clone();
        floor.presence(&rita, "available").await;
        floor.bob = floor.lb.customer("Bob Chen", "en").await;
        floor.say(&floor.bob.clone(), BOB_TEXT).await;
        floor.bob_conv = floor.take_offer(&floor.bob.clone(), &rita, USER).await;
        floor
    }

    async fn call(&self, method: Method, path: &str, token: &str, body: Value) -> (u16, Value) {
        let body = (!body.is_null()).then_some(body);
        let answer = self.lb.api(method, path, token, body).await;
        Routing::settled(&self.lb.relay()).await;
        answer
    }

    async fn presence(&self, token: &str, presence: &str) {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/presence",
                token,
                json!({ "presence": presence }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    async fn say(&self, user: &str, text: &str) {
        self.lb
            .sim(
                &format!("/sim/customers/{user}/messages"),
                json!({"type": "text", "text": text}),
            )
            .await;
    }

    /// Waits for the chat's conversation to be offered to `who`, who accepts; answers its id.
    async fn take_offer(&self, chat: &str, token: &str, who: &str) -> String {
        let id = eventually("the offer", async || {
            Routing::settled(&self.lb.relay()).await;
            let (_, list) = self
                .lb
                .api(
                    Method::GET,
                    &format!("/api/conversations?chat={chat}"),
                    &self.admin,
                    None,
                )
                .await;
            let c = list.as_array()?.first()?.clone();
            (c["offer"]["to"] == who).then(|| c["id"].as_str().map(str::to_owned))?
        })
        .await;
        let (status, body) = self
            .call(
                Method::POST,
                &format!("/api/conversations/{id}/accept"),
                token,
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{who} accepts: {body}");
        id
    }

    async fn send(&self, token: &str, outbox: &str, chat: &str, message: Value) -> (u16, Value) {
        self.call(
            Method::POST,
            "/api/send",
            token,
            json!({"outboxId": outbox, "channelId": CHANNEL, "chatId": chat, "messages": [message]}),
        )
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

    async fn logged_sends(&self, outbox: &str) -> usize {
        let outbox = outbox.to_owned();
        self.lb
            .relay()
            .read(move |c| {
                let id = format!("sent:{outbox}");
                Ok(c.query_opt(
                    "SELECT COUNT(*) FROM events WHERE webhook_event_id = ?1",
                    linedesk_relay::args![id],
                    |r| r.get::<i64>(0),
                )?
                .unwrap_or(0))
            })
            .await
            .expect("read") as usize
    }

    fn ws_url(&self) -> String {
        format!("{}/api/ws", self.lb.relay_url.replacen("http", "ws", 1))
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn hello(url: &str, token: &str) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket");
    let hello = ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        token: token.into(),
        since: Some(0),
    };
    ws.send(Message::text(serde_json::to_string(&hello).expect("json")))
        .await
        .expect("hello");
    ws
}

/// The next frame as text and parsed; `None` when the socket closed.
async fn frame(ws: &mut Ws, within: Duration) -> Option<(String, ServerFrame)> {
    loop {
        let msg = tokio::time::timeout(within, ws.next())
            .await
            .expect("a frame in time");
        match msg {
            Some(Ok(Message::Text(t))) => {
                let parsed = serde_json::from_str(t.as_str()).expect("a server frame");
                return Some((t.to_string(), parsed));
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

/// Frames up to and including `until`.
async fn frames_until(
    ws: &mut Ws,
    until: impl Fn(&ServerFrame) -> bool,
) -> Vec<(String, ServerFrame)> {
    let mut out = Vec::new();
    loop {
        let (text, f) = frame(ws, Duration::from_secs(10))
            .await
            .expect("socket open");
        let done = until(&f);
        out.push((text, f));
        if done {
            return out;
        }
    }
}

/// The chat an event frame is about, if any.
fn chat_of(f: &ServerFrame) -> Option<String> {
    let ev = match f {
        ServerFrame::Event(ev) | ServerFrame::Backfill(ev) => ev,
        _ => return None,
    };
    let v: Value = serde_json::from_str(ev.event.get()).ok()?;
    let s = &v["source"];
    s["groupId"]
        .as_str()
        .or(s["roomId"].as_str())
        .or(s["userId"].as_str())
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_curious_representative_is_refused_by_the_relay_at_every_door() {
    let f = Floor::open().await;

    // 1. A channel token: the call is gone, and nothing token-like comes back.
    let (status, body) = f
        .call(
            Method::POST,
            &format!("/api/channels/{CHANNEL}/token"),
            &f.rita,
            json!({}),
        )
        .await;
    assert!((403..=405).contains(&status), "token call: {status}");
    assert!(
        !body.to_string().to_lowercase().contains("token\":"),
        "no token in {body}"
    );

    // 2. Writing to Nora's customer: refused, nothing reaches LINE, nothing is logged.
    let before = f.received(&f.alice).await.len();
    let (status, body) = f
        .send(
            &f.rita,
            &outbox(1),
            &f.alice,
            json!({"type": "text", "text": "psst, this is Rita"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "forbidden");
    // Why, as a reason the console words: Alice is Nora's customer.
    assert_eq!(
        body["invalid"],
        json!([{"field": "", "reason": {"kind": "ownedByOther", "owner": "nora"}}]),
        "{body}"
    );
    assert_eq!(
        f.received(&f.alice).await.len(),
        before,
        "nothing reached the simulator"
    );
    assert_eq!(f.logged_sends(&outbox(1)).await, 0, "nothing logged");

    // 3. The whole log from cursor 0: only Bob's chat (and team-wide events) arrive.
    let mut ws = hello(&f.ws_url(), &f.rita).await;
    let frames = frames_until(&mut ws, |fr| matches!(fr, ServerFrame::CaughtUp { .. })).await;
    let scope = frames
        .iter()
        .find_map(|(_, fr)| match fr {
            ServerFrame::Scope(s) => Some(s.clone()),
            _ => None,
        })
        .expect("a scope after welcome");
    assert_eq!(
        scope,
        Scope::Chats {
            chats: vec![(CHANNEL.to_owned(), chat_hash(CHANNEL, &f.bob))]
        },
        "Rita may hold Bob's chat and nothing else"
    );
    let mut chats = HashSet::new();
    for (text, fr) in &frames {
        assert!(
            !text.contains(ALICE_TEXT) && !text.contains(&f.alice),
            "nothing of Alice reaches Rita: {text}"
        );
        if let Some(chat) = chat_of(fr) {
            chats.insert(chat);
        }
    }
    assert_eq!(
        chats,
        HashSet::from([f.bob.clone()]),
        "every chat event is Bob's"
    );
    assert!(
        frames.iter().any(|(t, _)| t.contains(BOB_TEXT)),
        "Bob's message is there"
    );

    // 4. Contacts by id: only the one linked to her customer answers, and the read is audited.
    let mut ids = Vec::new();
    for (name, chat) in [
        ("Alice Wang", Some(&f.alice)),
        ("Bob Chen", Some(&f.bob)),
        ("Carol Unlinked", None),
    ] {
        let mut body = json!({"name": name, "phone": "+886 912-345-678", "email": "x@example.com"});
        if let Some(chat) = chat {
            body["link"] = json!({"channelId": CHANNEL, "userId": chat});
        }
        let (status, c) = f.call(Method::POST, "/api/contacts", &f.admin, body).await;
        assert_eq!(status, 200, "{c}");
        ids.push(c["contact"]["id"].as_i64().expect("id"));
    }
    let last = *ids.iter().max().expect("ids");
    for id in 1..=last + 3 {
        let (status, body) = f
            .call(
                Method::GET,
                &format!("/api/contacts/{id}"),
                &f.rita,
                Value::Null,
            )
            .await;
        if id == ids[1] {
            assert_eq!(status, 200, "her own customer's contact: {body}");
        } else {
            assert_eq!(status, 404, "contact {id} is not hers: {body}");
            assert!(!body.to_string().contains("912"), "no details leak");
        }
    }
    let (_, found) = f
        .call(Method::GET, "/api/contacts?q=Alice", &f.rita, Value::Null)
        .await;
    let alice_found = &found.as_array().expect("list")[0];
    assert_eq!(alice_found["name"], "Alice Wang", "found by name to link");
    assert!(
        alice_found["phone"].is_null() && alice_found["email"].is_null(),
        "but without her details: {alice_found}"
    );
    let (_, summary) = f
        .call(
            Method::GET,
            &format!("/api/contacts/{}", ids[1]),
            &f.admin,
            Value::Null,
        )
        .await;
    assert!(
        summary["audit"]
            .as_array()
            .expect("audit")
            .iter()
            .any(|a| a["action"] == "view" && a["actor"] == USER),
        "Rita's read of the contact is audited: {summary}"
    );

    // 5. Alice's photo: not for Rita; Nora gets it.
    let path = format!("/api/media/{CHANNEL}/{}", f.alice_photo);
    let (status, _) = f.call(Method::GET, &path, &f.rita, Value::Null).await;
    assert_eq!(status, 404, "another customer's media answers as if absent");
    eventually("Nora's media", async || {
        let (status, _) = f.lb.api(Method::GET, &path, &f.nora, None).await;
        (status == 200).then_some(())
    })
    .await;

    // 6. A picture where the workstream forbids representatives' files.
    let (_, mut ws_config) = f
        .call(
            Method::GET,
            &format!("/api/workstreams/{CHANNEL}"),
            &f.admin,
            Value::Null,
        )
        .await;
    ws_config["attachments"]["representativesCanSend"] = json!(false);
    let (status, body) = f
        .call(
            Method::PUT,
            &format!("/api/workstreams/{CHANNEL}"),
            &f.admin,
            ws_config,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let before = f.received(&f.bob).await.len();
    let (status, body) = f
        .send(
            &f.rita,
            &outbox(2),
            &f.bob,
            json!({"type": "image", "originalContentUrl": "https://files.example/a.jpg",
                   "previewImageUrl": "https://files.example/a.jpg"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(f.received(&f.bob).await.len(), before, "no image went out");

    // 7. Nora asks Rita to look at Alice: the chat arrives with its history, read-only.
    let (status, body) = f
        .call(
            Method::POST,
            &format!("/api/conversations/{}/consult", f.alice_conv),
            &f.nora,
            json!({"user": USER}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let granted = frames_until(&mut ws, |fr| {
        matches!(fr, ServerFrame::Event(ev) if ev.event.get().contains("linedeskConversation") && ev.event.get().contains(&f.alice))
    })
    .await;
    assert!(
        granted
            .iter()
            .any(|(t, fr)| matches!(fr, ServerFrame::Backfill(_)) && t.contains(ALICE_TEXT)),
        "Alice's earlier messages come with the consult"
    );
    let (status, body) = f
        .send(
            &f.rita,
            &outbox(3),
            &f.alice,
            json!({"type": "text", "text": "consultant speaking"}),
        )
        .await;
    assert_eq!(status, 403, "read-only until the owner lets her: {body}");
    assert_eq!(body["invalid"][0]["reason"]["kind"], "readOnlyConsult");
    assert_eq!(f.logged_sends(&outbox(3)).await, 0);
    let (status, body) = f
        .call(
            Method::POST,
            &format!("/api/conversations/{}/join", f.alice_conv),
            &f.nora,
            json!({"user": USER}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = f
        .send(
            &f.rita,
            &outbox(4),
            &f.alice,
            json!({"type": "text", "text": "consultant speaking"}),
        )
        .await;
    assert_eq!(status, 200, "joined: she may write: {body}");
    assert_eq!(body["outboxId"], outbox(4).as_str());
    // The same outbox id again: the first answer, no second send.
    let (status, again) = f
        .send(
            &f.rita,
            &outbox(4),
            &f.alice,
            json!({"type": "text", "text": "consultant speaking"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(again, body, "a retry gets the first answer");
    let got: Vec<_> = f
        .received(&f.alice)
        .await
        .into_iter()
        .filter(|m| m.to_string().contains("consultant speaking"))
        .collect();
    assert_eq!(got.len(), 1, "the customer got it once");
    assert_eq!(f.logged_sends(&outbox(4)).await, 1, "logged once");

    // 8. Rita hands Bob to Nora: her console is told to forget him.
    f.presence(&f.nora, "available").await;
    let (status, body) = f
        .call(
            Method::POST,
            &format!("/api/conversations/{}/transfer", f.bob_conv),
            &f.rita,
            json!({"toUser": "nora"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let bob_hash = chat_hash(CHANNEL, &f.bob);
    let forgot = frames_until(&mut ws, |fr| matches!(fr, ServerFrame::Forget { .. })).await;
    match &forgot.last().expect("frames").1 {
        ServerFrame::Forget {
            channel_id,
            chat_hash,
        } => {
            assert_eq!(channel_id, CHANNEL);
            assert_eq!(chat_hash, &bob_hash, "Bob is forgotten");
        }
        other => panic!("expected forget, got {other:?}"),
    }
    let (status, _) = f
        .call(
            Method::GET,
            &format!("/api/conversations/{}", f.bob_conv),
            &f.rita,
            Value::Null,
        )
        .await;
    assert_eq!(status, 404, "no longer hers to read");
}

/// Who may do what, over real conversations (Alice is Nora's, Bob is Rita's; Sam supervises
/// the queue they are in, Vic supervises another; Ada is an admin).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_rules_hold_for_every_role_over_real_conversations() {
    let f = Floor::open().await;
    f.lb.add_user("sam", Role::Supervisor, PASSWORD);
    f.lb.add_user("vic", Role::Supervisor, PASSWORD);
    for (id, supervisors) in [("general", json!(["sam"])), ("vip", json!(["vic"]))] {
        let (status, body) = f
            .call(
                Method::PUT,
                &format!("/api/queues/{id}"),
                &f.admin,
                json!({"name": id, "priority": 0, "members": [], "supervisors": supervisors}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let sam = f.lb.login("sam", PASSWORD).await;
    let vic = f.lb.login("vic", PASSWORD).await;
    let people = [
        ("rita", f.rita.clone()),
        ("nora", f.nora.clone()),
        ("sam", sam),
        ("vic", vic),
        ("ada", f.admin.clone()),
    ];
    let alice_photo = format!("/api/media/{CHANNEL}/{}", f.alice_photo);
    // (what, path, who may) — reads answer 200 (media: 200 or 202 while downloading) to those
    // who may and 404 to everyone else, so ids cannot be walked.
    let reads: Vec<(&str, String, &[&str])> = vec![
        (
            "Alice's conversation",
            format!("/api/conversations/{}", f.alice_conv),
            &["nora", "sam", "ada"],
        ),
        (
            "Bob's conversation",
            format!("/api/conversations/{}", f.bob_conv),
            &["rita", "sam", "ada"],
        ),
        ("Alice's photo", alice_photo, &["nora", "sam", "ada"]),
        (
            "Alice's profile",
            format!("/api/profiles/{CHANNEL}/{}", f.alice),
            &["nora", "sam", "ada"],
        ),
        (
            "Bob's profile",
            format!("/api/profiles/{CHANNEL}/{}", f.bob),
            &["rita", "sam", "ada"],
        ),
        (
            "Alice's face",
            format!("/api/avatars/{CHANNEL}/{}", f.alice),
            &["nora", "sam", "ada"],
        ),
        (
            "Bob's face",
            format!("/api/avatars/{CHANNEL}/{}", f.bob),
            &["rita", "sam", "ada"],
        ),
    ];
    // The faces are fetched after the profiles: wait until the admin sees both.
    for chat in [&f.alice, &f.bob] {
        let path = format!("/api/avatars/{CHANNEL}/{chat}");
        eventually("the face fetched", async || {
            let (status, _) = f.call(Method::GET, &path, &f.admin, Value::Null).await;
            (status == 200).then_some(())
        })
        .await;
    }
    for (what, path, allowed) in &reads {
        for (who, token) in &people {
            let (status, body) = f.call(Method::GET, path, token, Value::Null).await;
            if allowed.contains(who) {
                assert!(
                    matches!(status, 200 | 202),
                    "{who} may read {what}: {status} {body}"
                );
            } else {
                assert_eq!(status, 404, "{who} may not read {what}: {body}");
            }
        }
    }
    // The conversation list holds only what each may see.
    for (who, token) in &people {
        let (_, list) = f
            .call(Method::GET, "/api/conversations", token, Value::Null)
            .await;
        let chats: HashSet<String> = list
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|c| c["chatId"].as_str().map(str::to_owned))
            .collect();
        let expected: HashSet<String> = match *who {
            "rita" => HashSet::from([f.bob.clone()]),
            "nora" => HashSet::from([f.alice.clone()]),
            "vic" => HashSet::new(),
            _ => HashSet::from([f.alice.clone(), f.bob.clone()]),
        };
        assert_eq!(chats, expected, "{who}'s conversation list");
    }
    // Writing: only the owner of the Active conversation; role alone grants nothing.
    let sends = [(&f.alice, "nora"), (&f.bob, USER)];
    for (n, (chat, owner)) in sends.iter().enumerate() {
        for (who, token) in &people {
            let outbox = outbox(
                100 + 10 * n as u64
                    + people.iter().position(|p| p.0 == *who).expect("person") as u64,
            );
            let (status, body) = f
                .send(
                    token,
                    &outbox,
                    chat,
                    json!({"type": "text", "text": "hello"}),
                )
                .await;
            if *who == *owner {
                assert_eq!(status, 200, "{who} owns it: {body}");
            } else {
                assert_eq!(
                    status, 403,
                    "{who} may not write to {owner}'s customer: {body}"
                );
                assert_eq!(f.logged_sends(&outbox).await, 0);
            }
        }
    }
    // Every console's stream matches the same rule.
    for (who, token) in &people {
        let mut ws = hello(&f.ws_url(), token).await;
        let frames = frames_until(&mut ws, |fr| matches!(fr, ServerFrame::CaughtUp { .. })).await;
        let chats: HashSet<String> = frames.iter().filter_map(|(_, fr)| chat_of(fr)).collect();
        let expected: HashSet<String> = match *who {
            "rita" => HashSet::from([f.bob.clone()]),
            "nora" => HashSet::from([f.alice.clone()]),
            "vic" => HashSet::new(),
            _ => HashSet::from([f.alice.clone(), f.bob.clone()]),
        };
        assert_eq!(chats, expected, "{who}'s stream");
    }
}

/// Sign-out, a password reset, a role change and removal each close the user's open websocket
/// within a second, and every later call is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_everywhere_within_a_second() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lb = Loopback::start(dir.path()).await;
    lb.add_user("ada", Role::Admin, PASSWORD);
    let admin = lb.login("ada", PASSWORD).await;
    let url = format!("{}/api/ws", lb.relay_url.replacen("http", "ws", 1));
    let cases: [(&str, &str); 4] = [
        ("sign-out", "una"),
        ("password reset", "ubo"),
        ("role change", "uci"),
        ("removal", "udo"),
    ];
    for (what, name) in cases {
        lb.add_user(name, Role::Rep, PASSWORD);
        let token = lb.login(name, PASSWORD).await;
        let mut ws = hello(&url, &token).await;
        frames_until(&mut ws, |fr| matches!(fr, ServerFrame::CaughtUp { .. })).await;
        // The socket is watched while the admin's call runs: the close may come before its answer.
        let watch = tokio::spawn(async move {
            let mut refused = None;
            while let Some((_, fr)) = frame(&mut ws, Duration::from_secs(10)).await {
                if let ServerFrame::Error { code, message } = fr {
                    refused = Some((code, message));
                    break;
                }
            }
            let at = Instant::now();
            if refused.is_some() {
                // After the refusal, nothing more: the socket ends.
                assert!(frame(&mut ws, Duration::from_secs(10)).await.is_none());
            }
            (refused, at)
        });
        let started = Instant::now();
        let (status, body) = match what {
            "sign-out" => lb.api(Method::POST, "/api/logout", &token, None).await,
            "password reset" => {
                lb.api(
                    Method::PUT,
                    &format!("/api/users/{name}"),
                    &admin,
                    Some(json!({"password": "a brand new passphrase"})),
                )
                .await
            }
            "role change" => {
                lb.api(
                    Method::PUT,
                    &format!("/api/users/{name}"),
                    &admin,
                    Some(json!({"role": "supervisor"})),
                )
                .await
            }
            _ => {
                lb.api(Method::DELETE, &format!("/api/users/{name}"), &admin, None)
                    .await
            }
        };
        let answered = Instant::now();
        assert!(status < 300, "{what}: {status} {body}");
        let (refused, closed) = watch.await.expect("the watch ends");
        if let Some((code, message)) = refused {
            assert_eq!(code, ErrorCode::Unauthenticated, "{what}: {message}");
        }
        // The bound is on the session's end, not on how long the change itself took to commit
        // on a loaded machine: measured from the admin's answer, which comes after the commit.
        let after = closed.saturating_duration_since(answered);
        assert!(
            after < Duration::from_secs(1),
            "{what}: closed {after:?} after the answer ({:?} after the call)",
            closed.saturating_duration_since(started)
        );
        let (status, _) = lb.api(Method::GET, "/api/agents", &token, None).await;
        assert_eq!(status, 401, "{what}: later calls are refused");
    }
}

/// The relay binary on the loopback world's address and data.
async fn relay_process(data: &Path, addr: SocketAddr) -> tokio::process::Child {
    let bin = linedesk_tests::debug_binary("linedesk-relay");
    assert!(
        bin.exists(),
        "{} is built by the test command's `cargo build --workspace`",
        bin.display()
    );
    let config = linedesk_relay::ServeConfig::local_for_tests(data.to_owned()).expect("config");
    let child = tokio::process::Command::new(bin)
        .args(["serve", "--listen", &addr.to_string(), "--data"])
        .arg(data)
        .args(
            config
                .database
                .iter()
                .flat_map(|url| ["--database", url.as_str()]),
        )
        .env("LINEDESK_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("relay binary starts");
    eventually("the relay process listens", async || {
        tokio::net::TcpStream::connect(addr).await.ok().map(drop)
    })
    .await;
    child
}

/// SIGKILL while LINE holds a push's answer: after a restart, the console's retry (same outbox
/// id) pushes again with the same retry key, LINE answers 409 with the first message, and the
/// transcript records it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_mid_send_delivers_once_and_transcribes_once() {
    let f = Floor::open().await;
    // The free reply token goes to a first answer; the next one is a push.
    let (status, body) = f
        .send(
            &f.rita,
            &outbox(5),
            &f.bob,
            json!({"type": "text", "text": "Hello Bob"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["via"], "reply");
    // Swap the in-process relay for the binary on the same address and data.
    let addr: SocketAddr =
        f.lb.relay_url
            .trim_start_matches("http://")
            .parse()
            .expect("relay address");
    let data = f.lb.relay().data_dir().to_owned();
    f.lb.stop_relay().await;
    let mut relay = relay_process(&data, addr).await;
    // LINE takes the push, then holds its answer for 5 s.
    f.lb.sim(
        "/sim/faults",
        json!({"path": "/v2/bot/message/push", "delay_ms": 5000, "after": true, "count": 1}),
    )
    .await;
    let send = {
        let (url, token, bob) = (f.lb.relay_url.clone(), f.rita.clone(), f.bob.clone());
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{url}/api/send"))
                .bearer_auth(token)
                .json(
                    &json!({"outboxId": &outbox(6), "channelId": CHANNEL, "chatId": bob,
                              "messages": [{"type": "text", "text": "Your parcel ships today"}]}),
                )
                .send()
                .await
        })
    };
    eventually("the push reached LINE", async || {
        let r = f.received(&f.bob).await;
        r.iter()
            .any(|m| m.to_string().contains("Your parcel ships today"))
            .then_some(())
    })
    .await;
    relay.kill().await.expect("SIGKILL");
    let _ = send.await;
    let mut relay = relay_process(&data, addr).await;
    // The console asks again with the same outbox id.
    let answer = reqwest::Client::new()
        .post(format!("{}/api/send", f.lb.relay_url))
        .bearer_auth(&f.rita)
        .json(
            &json!({"outboxId": &outbox(6), "channelId": CHANNEL, "chatId": f.bob,
                      "messages": [{"type": "text", "text": "Your parcel ships today"}]}),
        )
        .send()
        .await
        .expect("relay answers");
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().await.expect("json");
    assert_eq!(answer["via"], "push");
    let delivered: Vec<_> = f
        .received(&f.bob)
        .await
        .into_iter()
        .filter(|m| m.to_string().contains("Your parcel ships today"))
        .collect();
    assert_eq!(delivered.len(), 1, "the customer got it exactly once");
    assert_eq!(delivered[0]["retryKey"], outbox(6).as_str());
    let logged = reqwest::Client::new()
        .get(format!("{}/healthz", f.lb.relay_url))
        .send()
        .await
        .expect("health");
    assert!(logged.status().is_success());
    relay.kill().await.expect("stop");
    let conn = linedesk_relay::ServeConfig::local_for_tests(data.clone())
        .expect("config")
        .open_database()
        .expect("database");
    let id = format!("sent:{}", outbox(6));
    let n: i64 = conn
        .db()
        .query_opt(
            "SELECT COUNT(*) FROM events WHERE webhook_event_id = ?1",
            linedesk_relay::args![id],
            |r| r.get(0),
        )
        .expect("count")
        .unwrap_or(0);
    assert_eq!(n, 1, "in the transcript once");
}

/// In pick mode a queue's members see each open request as a card (the customer's name and
/// first message), never the messages; once a colleague takes it, the card goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pick_mode_members_get_the_card_not_the_messages_and_lose_it_once_taken() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lb = Loopback::start(dir.path()).await;
    lb.add_user("nora", Role::Rep, PASSWORD);
    lb.add_user("ada", Role::Admin, PASSWORD);
    let admin = lb.login("ada", PASSWORD).await;
    let (_, mut ws_config) = lb
        .api(
            Method::GET,
            &format!("/api/workstreams/{CHANNEL}"),
            &admin,
            None,
        )
        .await;
    ws_config["mode"] = json!("pick");
    let (status, body) = lb
        .api(
            Method::PUT,
            &format!("/api/workstreams/{CHANNEL}"),
            &admin,
            Some(ws_config),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let rita = lb.login(USER, PASSWORD).await;
    let nora = lb.login("nora", PASSWORD).await;
    let url = format!("{}/api/ws", lb.relay_url.replacen("http", "ws", 1));
    let mut ws = hello(&url, &rita).await;
    frames_until(&mut ws, |fr| matches!(fr, ServerFrame::CaughtUp { .. })).await;

    let carol = lb.customer("Carol Lin", "zh-TW").await;
    lb.sim(
        &format!("/sim/customers/{carol}/messages"),
        json!({"type": "text", "text": "is my parcel on its way?"}),
    )
    .await;
    let mut card = frames_until(&mut ws, |fr| {
        matches!(fr, ServerFrame::Event(ev) if ev.event.get().contains("linedeskConversation"))
    })
    .await;
    let (last, _) = card.last().expect("the card").clone();
    assert!(last.contains("\"state\":\"open\""), "{last}");
    // The profile comes with the card, or after it when LINE answered the profile call later.
    if !card.iter().any(|(t, _)| t.contains("Carol Lin")) {
        card.extend(
            frames_until(
                &mut ws,
                |fr| matches!(fr, ServerFrame::Event(ev) if ev.event.get().contains("Carol Lin")),
            )
            .await,
        );
    }
    assert!(
        card.iter().any(|(t, _)| t.contains("Carol Lin")),
        "the card names the customer"
    );
    // A console that reconnects keeps the card: the scope names the request's chat.
    let mut again = hello(&url, &rita).await;
    let frames = frames_until(&mut again, |fr| matches!(fr, ServerFrame::CaughtUp { .. })).await;
    let scope = frames
        .iter()
        .find_map(|(_, fr)| match fr {
            ServerFrame::Scope(s) => Some(s.clone()),
            _ => None,
        })
        .expect("a scope");
    assert_eq!(
        scope,
        Scope::Chats {
            chats: vec![(CHANNEL.to_owned(), chat_hash(CHANNEL, &carol))]
        },
        "an open request of her queue stays on her console"
    );
    drop(again);
    for (text, fr) in &card {
        if let ServerFrame::Event(ev) | ServerFrame::Backfill(ev) = fr {
            let v: Value = serde_json::from_str(ev.event.get()).expect("json");
            assert!(
                v["type"] != "message",
                "no customer message reaches a member before she takes it: {text}"
            );
        }
    }

    // Nora takes it: Rita's console drops the card.
    let id = {
        let (_, list) = lb
            .api(
                Method::GET,
                &format!("/api/conversations?chat={carol}"),
                &admin,
                None,
            )
            .await;
        list[0]["id"].as_str().expect("id").to_owned()
    };
    let (status, body) = lb
        .api(
            Method::POST,
            &format!("/api/conversations/{id}/accept"),
            &nora,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let gone = frames_until(&mut ws, |fr| matches!(fr, ServerFrame::Forget { .. })).await;
    assert!(
        matches!(&gone.last().expect("frame").1, ServerFrame::Forget { chat_hash: h, .. } if *h == chat_hash(CHANNEL, &carol)),
        "the taken request is forgotten"
    );
    for (text, fr) in &gone {
        if let ServerFrame::Event(ev) | ServerFrame::Backfill(ev) = fr {
            let v: Value = serde_json::from_str(ev.event.get()).expect("json");
            assert!(
                v["type"] != "message",
                "its messages never came (the card's first text is all she saw): {text}"
            );
        }
    }
}
