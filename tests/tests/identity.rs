//! Admin and identity on the real relay and the LINE simulator: channel set-up checked with
//! LINE, webhook set and tested, the health panel, delete; users and roles; contacts linked to
//! LINE profiles (audited), later conversations arriving linked, ambiguity, merge; consent;
//! export and erasure that leaves nothing behind; and no secret in plain text on disk.

use std::time::Duration;

use linedesk_protocol::Role;
use linedesk_relay::routing::Routing;
use linedesk_tests::{files_holding, Loopback, CHANNEL, PASSWORD, SECRET, TOKEN, USER};
use reqwest::Method;
use serde_json::{json, Value};

struct World {
    dir: tempfile::TempDir,
    lb: Loopback,
    admin: String,
}

impl World {
    async fn open(bare: bool) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let lb = if bare {
            Loopback::start_bare(dir.path()).await
        } else {
            Loopback::start(dir.path()).await
        };
        lb.add_user("ada", Role::Admin, PASSWORD);
        lb.add_user("sam", Role::Supervisor, PASSWORD);
        let admin = lb.login("ada", PASSWORD).await;
        // Sam supervises the general queue: he sees its customers (and only those).
        let (status, body) = lb
            .api(
                Method::PUT,
                "/api/queues/general",
                &admin,
                Some(json!({"name": "General", "priority": 0, "members": [], "supervisors": ["sam"]})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        Self { dir, lb, admin }
    }

    /// rita, signed in and available for offers.
    async fn rita(&self) -> String {
        let rita = self.lb.login(USER, PASSWORD).await;
        let (status, body) = self
            .call(
                Method::POST,
                "/api/presence",
                &rita,
                json!({"presence": "available"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        rita
    }

    async fn settle(&self) {
        Routing::settled(&self.lb.relay()).await;
    }

    async fn call(&self, method: Method, path: &str, token: &str, body: Value) -> (u16, Value) {
        let body = (!body.is_null()).then_some(body);
        let answer = self.lb.api(method, path, token, body).await;
        self.settle().await;
        answer
    }

    async fn admin(&self, method: Method, path: &str, body: Value) -> (u16, Value) {
        self.call(method, path, &self.admin, body).await
    }

    async fn says(&self, customer: &str, text: &str) {
        self.lb
            .sim(
                &format!("/sim/customers/{customer}/messages"),
                json!({"type": "text", "text": text}),
            )
            .await;
        self.settle().await;
    }

    async fn conversations(&self, customer: &str) -> Vec<Value> {
        let (status, list) = self
            .admin(
                Method::GET,
                &format!("/api/conversations?chat={customer}"),
                Value::Null,
            )
            .await;
        assert_eq!(status, 200);
        list.as_array().cloned().unwrap_or_default()
    }

    async fn live(&self, customer: &str) -> Value {
        self.conversations(customer)
            .await
            .into_iter()
            .find(|c| c["state"] != "closed")
            .unwrap_or_else(|| panic!("{customer} has no live conversation"))
    }

    async fn received(&self, customer: &str) -> Vec<Value> {
        self.lb
            .sim(&format!("/sim/customers/{customer}/received"), Value::Null)
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    async fn flush(&self) {
        Routing::flush_automated(&self.lb.relay())
            .await
            .expect("automated messages sent");
        self.settle().await;
    }

    /// rita accepts the customer's conversation, ends and closes it.
    async fn handle_and_close(&self, rita: &str, customer: &str) {
        let conv = self.live(customer).await;
        let id = conv["id"].as_str().expect("id").to_owned();
        for action in ["accept", "end", "close"] {
            let (status, body) = self
                .call(
                    Method::POST,
                    &format!("/api/conversations/{id}/{action}"),
                    rita,
                    json!({}),
                )
                .await;
            assert_eq!(status, 200, "{action}: {body}");
        }
    }

    async fn channel(&self) -> Value {
        let (status, list) = self.admin(Method::GET, "/api/channels", Value::Null).await;
        assert_eq!(status, 200, "{list}");
        list.as_array()
            .and_then(|l| l.iter().find(|c| c["id"] == CHANNEL).cloned())
            .unwrap_or(Value::Null)
    }
}

fn field_errors(body: &Value) -> String {
    body["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_channel_checked_with_line_sets_and_tests_its_webhook() {
    let w = World::open(true).await;
    let add = |secret: &str, token: &str| json!({"id": CHANNEL, "name": "Support TW", "secret": secret, "token": token});

    // Shape first: every empty field named.
    let (status, body) = w
        .admin(
            Method::POST,
            "/api/channels",
            json!({"id": "", "name": "", "secret": "", "token": ""}),
        )
        .await;
    assert_eq!(status, 400);
    let msg = field_errors(&body);
    for f in ["id:", "name:", "secret:", "token:"] {
        assert!(msg.contains(f), "{f} named in {msg}");
    }
    // A token LINE does not know.
    let (status, body) = w
        .admin(
            Method::POST,
            "/api/channels",
            add(SECRET, "not-a-real-token"),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        field_errors(&body).starts_with("token: LINE does not accept this access token"),
        "{body}"
    );
    // The right token with a wrong secret.
    let (status, body) = w
        .admin(Method::POST, "/api/channels", add("wrong-secret", TOKEN))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        field_errors(&body).starts_with("secret: LINE says this channel secret does not belong"),
        "{body}"
    );
    assert!(w.channel().await.is_null(), "nothing saved after refusals");

    // Good credentials: saved, masked, the bot known, the token checked.
    let (status, ch) = w
        .admin(Method::POST, "/api/channels", add(SECRET, TOKEN))
        .await;
    assert_eq!(status, 201, "{ch}");
    assert_eq!(ch["secretHint"], "••••cdef");
    assert_eq!(ch["tokenHint"], "••••oken");
    assert_eq!(ch["botName"], "loopback");
    assert_eq!(ch["tokenValid"], true);
    assert!(ch["tokenCheckedAt"].as_i64().is_some());
    let text = ch.to_string();
    assert!(
        !text.contains(SECRET) && !text.contains(TOKEN),
        "never shown in full: {text}"
    );
    let callback = format!("{}/line/{CHANNEL}/webhook", w.lb.relay_url);
    assert_eq!(ch["callbackUrl"], callback);
    assert_ne!(ch["webhookOurs"], true, "LINE has no webhook URL yet");
    let (status, _) = w
        .admin(Method::POST, "/api/channels", add(SECRET, TOKEN))
        .await;
    assert_eq!(status, 409, "added once");

    // Another tool owns LINE's webhook: the health panel says so.
    let other =
        w.lb.http
            .put(format!("{}/v2/bot/channel/webhook/endpoint", w.lb.sim_url))
            .bearer_auth(TOKEN)
            .json(&json!({"endpoint": "https://other-tool.example/hook"}))
            .send()
            .await
            .expect("another tool sets LINE's webhook");
    assert_eq!(other.status(), 200);
    let (status, ch) = w
        .admin(
            Method::POST,
            &format!("/api/channels/{CHANNEL}/check"),
            Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{ch}");
    assert_eq!(ch["webhookEndpoint"], "https://other-tool.example/hook");
    assert_eq!(ch["webhookOurs"], false, "another tool's URL is not ours");

    // Set webhook in LINE, then LINE's test call reaches the relay, signed.
    let (status, ch) = w
        .admin(
            Method::POST,
            &format!("/api/channels/{CHANNEL}/webhook"),
            Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{ch}");
    assert_eq!(ch["webhookEndpoint"], callback);
    assert_eq!(ch["webhookOurs"], true);
    let (status, ch) = w
        .admin(
            Method::POST,
            &format!("/api/channels/{CHANNEL}/test"),
            Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{ch}");
    assert_eq!(ch["lastTest"]["success"], true, "{ch}");
    assert_eq!(ch["lastTest"]["statusCode"], 200);

    // A forged webhook is refused and counted; real events are counted for today.
    let forged =
        w.lb.http
            .post(&callback)
            .header("x-line-signature", "Zm9yZ2Vk")
            .body(r#"{"destination":"U1","events":[]}"#)
            .send()
            .await
            .expect("forged post");
    assert_eq!(forged.status(), 401);
    let mei = w.lb.customer("Mei", "zh-TW").await;
    w.says(&mei, "hello").await;
    let mut ch = w.channel().await;
    for _ in 0..100 {
        if ch["signatureFailures"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        ch = w.channel().await;
    }
    assert_eq!(ch["signatureFailures"], 1, "{ch}");
    assert!(
        ch["eventsToday"].as_i64().unwrap_or(0) >= 2,
        "follow and message: {ch}"
    );
    assert!(ch["lastEventAt"].as_i64().is_some());
    assert!(ch["quotaUsed"].as_i64().is_some(), "quota read: {ch}");

    // Replacing the token: a bad one is refused and the old one keeps working.
    let (status, body) = w
        .admin(
            Method::PUT,
            &format!("/api/channels/{CHANNEL}"),
            json!({"token": "revoked-token"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(field_errors(&body).starts_with("token:"), "{body}");
    let (status, ch) = w
        .admin(
            Method::POST,
            &format!("/api/channels/{CHANNEL}/check"),
            Value::Null,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ch["tokenValid"], true);

    // Neither the secret nor the token sits in plain text in anything the relay wrote.
    assert_eq!(
        files_holding(w.dir.path(), SECRET.as_bytes()),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(
        files_holding(w.dir.path(), TOKEN.as_bytes()),
        Vec::<std::path::PathBuf>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_channel_closes_its_conversations_and_refuses_later_webhooks() {
    let w = World::open(false).await;
    let rita = w.rita().await;
    let ken = w.lb.customer("Ken", "en").await;
    w.says(&ken, "is my order shipped?").await;
    let conv = w.live(&ken).await;
    let (status, _) = w
        .call(
            Method::POST,
            &format!(
                "/api/conversations/{}/accept",
                conv["id"].as_str().expect("id")
            ),
            &rita,
            json!({}),
        )
        .await;
    assert_eq!(status, 200);

    let (status, ch) = w
        .admin(
            Method::POST,
            &format!("/api/channels/{CHANNEL}/delete"),
            json!({"message": "This chat service has moved; write to us at support@example.com."}),
        )
        .await;
    assert_eq!(status, 200, "{ch}");
    assert!(ch["deletedAt"].as_i64().is_some());
    assert_eq!(ch["secretHint"], "(removed)", "credentials forgotten");

    let closed = w.conversations(&ken).await;
    assert_eq!(closed[0]["state"], "closed");
    assert_eq!(closed[0]["closeReason"], "channel_deleted");
    let got = w.received(&ken).await;
    assert!(
        got.iter().any(|r| r["message"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("has moved"))),
        "the customer was told: {got:?}"
    );
    let (_, agents) = w.admin(Method::GET, "/api/agents", Value::Null).await;
    let rita_agent = agents
        .as_array()
        .and_then(|a| a.iter().find(|a| a["user"] == USER).cloned())
        .expect("rita");
    assert_eq!(rita_agent["used"], 0, "capacity freed");

    // LINE keeps calling: refused with a clear status, nothing stored.
    let resp =
        w.lb.http
            .post(format!("{}/line/{CHANNEL}/webhook", w.lb.relay_url))
            .header("x-line-signature", "Zm9yZ2Vk")
            .body(r#"{"destination":"U1","events":[]}"#)
            .send()
            .await
            .expect("post");
    assert_eq!(resp.status(), 410);
    assert!(resp.text().await.unwrap_or_default().contains("removed"));
    // History stays readable.
    assert_eq!(w.conversations(&ken).await.len(), 1);
    assert_eq!(
        files_holding(w.dir.path(), TOKEN.as_bytes()),
        Vec::<std::path::PathBuf>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_users_roles_capacity_queues_and_passwords() {
    let w = World::open(false).await;
    let (status, body) = w
        .admin(
            Method::POST,
            "/api/users",
            json!({"name": "nina", "role": "rep", "password": "short"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(field_errors(&body).starts_with("password:"), "{body}");
    let (status, nina) = w
        .admin(
            Method::POST,
            "/api/users",
            json!({"name": "nina", "role": "rep", "password": "first password",
                   "capacity": 5, "queues": ["general"], "skills": ["billing", "日本語"]}),
        )
        .await;
    assert_eq!(status, 201, "{nina}");
    assert_eq!(nina["capacity"], 5);
    assert_eq!(nina["queues"], json!(["general"]));
    assert_eq!(nina["skills"], json!(["billing", "日本語"]));
    let (status, _) = w
        .admin(
            Method::POST,
            "/api/users",
            json!({"name": "nina", "role": "rep", "password": "first password"}),
        )
        .await;
    assert_eq!(status, 409);
    let nina_token = w.lb.login("nina", "first password").await;

    // Promote, reset the password: the old session ends, the new password works.
    let (status, nina) = w
        .admin(
            Method::PUT,
            "/api/users/nina",
            json!({"role": "supervisor", "password": "second password", "queues": []}),
        )
        .await;
    assert_eq!(status, 200, "{nina}");
    assert_eq!(nina["role"], "supervisor");
    assert_eq!(nina["queues"], json!([]));
    let (status, _) = w
        .call(Method::GET, "/api/agents", &nina_token, Value::Null)
        .await;
    assert_eq!(status, 401, "a reset ends the user's sessions");
    let _ = w.lb.login("nina", "second password").await;

    let (status, _) = w.admin(Method::DELETE, "/api/users/ada", Value::Null).await;
    assert_eq!(status, 409, "an admin cannot remove themself");
    let (status, _) = w
        .admin(Method::DELETE, "/api/users/nina", Value::Null)
        .await;
    assert_eq!(status, 204);
    let resp =
        w.lb.http
            .post(format!("{}/api/login", w.lb.relay_url))
            .json(&json!({"user": "nina", "password": "second password"}))
            .send()
            .await
            .expect("login");
    assert_eq!(resp.status(), 401, "removed users cannot sign in");
    for p in ["first password", "second password", PASSWORD] {
        assert_eq!(
            files_holding(w.dir.path(), p.as_bytes()),
            Vec::<std::path::PathBuf>::new(),
            "{p}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_profiles_fill_later_conversations_and_ambiguity_is_flagged() {
    let w = World::open(false).await;
    let rita = w.rita().await;
    let sam = w.lb.login("sam", PASSWORD).await;
    let (status, contact) = w
        .call(
            Method::POST,
            "/api/contacts",
            &rita,
            json!({"name": "Mei Lin", "phone": "+886 912-345-678", "email": "mei@example.com",
                   "company": "Lin Trading", "custom": {"tier": "gold"}}),
        )
        .await;
    assert_eq!(status, 200, "{contact}");
    let mei_contact = contact["contact"]["id"].as_i64().expect("id");
    let (status, body) = w
        .call(
            Method::POST,
            "/api/contacts",
            &rita,
            json!({"name": "X", "email": "not-an-email"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(field_errors(&body).starts_with("email:"), "{body}");

    // Search by name, phone digits and email.
    for q in ["mei", "912345", "912-345", "mei@example"] {
        let (_, found) = w
            .call(
                Method::GET,
                &format!("/api/contacts?q={q}"),
                &rita,
                Value::Null,
            )
            .await;
        assert_eq!(found[0]["id"], mei_contact, "search {q}: {found}");
    }

    let mei = w.lb.customer("Mei Lin", "zh-TW").await;
    w.says(&mei, "我的訂單呢？").await;
    let profile_path = format!("/api/profiles/{CHANNEL}/{mei}");
    let mut profile = Value::Null;
    for _ in 0..100 {
        profile = w
            .call(Method::GET, &profile_path, &rita, Value::Null)
            .await
            .1;
        if profile["displayName"] == "Mei Lin" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        profile["suggestions"][0]["id"], mei_contact,
        "suggested by name: {profile}"
    );
    assert!(w.live(&mei).await["contact"].is_null());

    // rita links the profile: the conversation shows the contact, the audit says who and why.
    let (status, summary) = w
        .call(
            Method::POST,
            &format!("/api/contacts/{mei_contact}/link"),
            &rita,
            json!({"channelId": CHANNEL, "userId": mei, "reason": "confirmed order number"}),
        )
        .await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(w.live(&mei).await["contact"]["name"], "Mei Lin");
    let link_audit = &summary["audit"][0];
    assert_eq!(link_audit["action"], "link");
    assert_eq!(link_audit["actor"], USER);
    assert_eq!(link_audit["detail"], "confirmed order number");

    // Her next conversation arrives linked, before anyone accepts it.
    w.handle_and_close(&rita, &mei).await;
    w.says(&mei, "one more question").await;
    let next = w.live(&mei).await;
    assert_eq!(next["state"], "open");
    assert_eq!(next["contact"]["id"], mei_contact);
    assert_eq!(next["contact"]["company"], "Lin Trading");
    let (_, summary) = w
        .call(
            Method::GET,
            &format!("/api/contacts/{mei_contact}"),
            &rita,
            Value::Null,
        )
        .await;
    assert_eq!(summary["conversations"].as_array().map(Vec::len), Some(2));
    assert_eq!(summary["contact"]["custom"]["tier"], "gold");

    // A supervisor creates a second contact from the same profile: ambiguous, flagged, and
    // nothing the customer writes is dropped.
    let (status, second) = w
        .call(
            Method::POST,
            "/api/contacts",
            &sam,
            json!({"name": "Mei (shared phone)", "link": {"channelId": CHANNEL, "userId": mei}}),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    let second_id = second["contact"]["id"].as_i64().expect("id");
    let flagged = w.live(&mei).await;
    assert_eq!(flagged["flag"], "ambiguous_contact");
    assert!(
        flagged["contact"].is_null(),
        "no guess between two contacts"
    );
    w.says(&mei, "are you there?").await;
    assert_eq!(
        w.conversations(&mei).await.len(),
        2,
        "same conversation, message kept"
    );

    // Merging resolves it; unlinking is audited too.
    let (status, _) = w
        .call(
            Method::POST,
            &format!("/api/contacts/{mei_contact}/merge"),
            &rita,
            json!({"other": second_id}),
        )
        .await;
    assert_eq!(status, 403, "representatives do not merge");
    let (status, merged) = w
        .call(
            Method::POST,
            &format!("/api/contacts/{mei_contact}/merge"),
            &sam,
            json!({"other": second_id}),
        )
        .await;
    assert_eq!(status, 200, "{merged}");
    let after = w.live(&mei).await;
    assert!(after["flag"].is_null(), "{after}");
    assert_eq!(after["contact"]["id"], mei_contact);
    let (status, unlinked) = w
        .call(
            Method::POST,
            &format!("/api/contacts/{mei_contact}/unlink"),
            &sam,
            json!({"channelId": CHANNEL, "userId": mei, "reason": "wrong person"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(unlinked["audit"][0]["action"], "unlink");
    assert_eq!(unlinked["audit"][0]["actor"], "sam");
    assert!(w.live(&mei).await["contact"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_is_asked_on_first_contact_and_the_answer_recorded() {
    let w = World::open(false).await;
    let (status, ch) = w
        .admin(
            Method::PUT,
            &format!("/api/channels/{CHANNEL}"),
            json!({"consent": {"message": {"*": "We keep this chat to help you. OK?", "zh-TW": "我們會保存此對話以協助您，可以嗎？"},
                               "agree": "Agree", "decline": "No thanks"}}),
        )
        .await;
    assert_eq!(status, 200, "{ch}");
    let mei = w.lb.customer("Mei", "zh-TW").await;
    w.says(&mei, "hi").await;
    w.flush().await;
    let got = w.received(&mei).await;
    let ask = got
        .iter()
        .find(|r| r["message"]["quickReply"].is_object())
        .unwrap_or_else(|| panic!("consent question sent: {got:?}"));
    assert_eq!(ask["message"]["text"], "我們會保存此對話以協助您，可以嗎？");
    assert_eq!(ask["via"], "reply", "the free reply token");
    assert_eq!(w.live(&mei).await["consent"], "asked");

    w.lb.sim(
        &format!("/sim/customers/{mei}/postback"),
        json!({"data": "linedesk-consent:granted"}),
    )
    .await;
    w.settle().await;
    assert_eq!(w.live(&mei).await["consent"], "granted");
    let (_, profile) = w
        .admin(
            Method::GET,
            &format!("/api/profiles/{CHANNEL}/{mei}"),
            Value::Null,
        )
        .await;
    assert_eq!(profile["consent"], "granted");
    let asked_once = w.received(&mei).await.len();
    w.says(&mei, "thanks").await;
    w.flush().await;
    assert_eq!(
        w.received(&mei).await.len(),
        asked_once,
        "never asked twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_contact_leaves_nothing_in_the_database_or_media_store() {
    let w = World::open(false).await;
    let rita = w.rita().await;
    let sam = w.lb.login("sam", PASSWORD).await;
    let ken = w.lb.customer("Kenji Erasable", "ja").await;
    let marker = "my card number is 4111-ERASE-ME";
    w.says(&ken, marker).await;
    let file_bytes = b"%PDF-1.4 ERASE-ME-FILE-CONTENT-7731";
    use base64::Engine as _;
    let sent =
        w.lb.sim(
            &format!("/sim/customers/{ken}/messages"),
            json!({"type": "file", "fileName": "statement.pdf",
                   "contentBase64": base64::engine::general_purpose::STANDARD.encode(file_bytes)}),
        )
        .await;
    let message_id = sent["messageId"].as_str().expect("id").to_owned();
    let media_url = format!("{}/api/media/{CHANNEL}/{message_id}", w.lb.relay_url);
    let mut ready = false;
    for _ in 0..200 {
        let r =
            w.lb.http
                .get(&media_url)
                .bearer_auth(&rita)
                .send()
                .await
                .expect("media");
        if r.status() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(ready, "the file was downloaded at ingest");
    assert!(
        !files_holding(w.dir.path(), file_bytes).is_empty(),
        "the media store has it before"
    );

    let (_, c) = w
        .call(
            Method::POST,
            "/api/contacts",
            &sam,
            json!({"name": "Kenji Erasable", "phone": "+81 90-5555-0199", "email": "kenji.erasable@example.jp",
                   "notes": "prefers mornings", "link": {"channelId": CHANNEL, "userId": ken}}),
        )
        .await;
    let id = c["contact"]["id"].as_i64().expect("id");

    // Export first: JSON with the messages and the media bytes.
    let (status, export) = w
        .call(
            Method::GET,
            &format!("/api/contacts/{id}/export"),
            &sam,
            Value::Null,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(export["contact"]["email"], "kenji.erasable@example.jp");
    assert!(export.to_string().contains(marker));
    let media = export["profiles"][0]["media"][0]["base64"]
        .as_str()
        .expect("media in export");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(media)
            .expect("base64"),
        file_bytes
    );

    // Ken's face, as the relay fetched it with his profile.
    let face_key = format!("avatar:{CHANNEL}:{ken}");
    for _ in 0..400 {
        let key = face_key.clone();
        let row =
            w.lb.relay()
                .read(move |c| linedesk_relay::store::pictures::get(c, &key))
                .await
                .expect("read");
        if row.is_some_and(|r| r.status == "ready") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let face =
        w.lb.http
            .get(format!("{}/sim/pictures/{ken}.png", w.lb.sim_url))
            .send()
            .await
            .expect("the face")
            .bytes()
            .await
            .expect("its bytes");

    // Not while the conversation is open.
    let (status, body) = w
        .call(
            Method::POST,
            &format!("/api/contacts/{id}/erase"),
            &sam,
            Value::Null,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    w.handle_and_close(&rita, &ken).await;
    w.flush().await;
    let (status, body) = w
        .call(
            Method::POST,
            &format!("/api/contacts/{id}/erase"),
            &rita,
            Value::Null,
        )
        .await;
    assert_eq!(status, 403, "representatives do not erase: {body}");
    let (status, body) = w
        .call(
            Method::POST,
            &format!("/api/contacts/{id}/erase"),
            &sam,
            Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["files"], 2, "the photo Ken sent, and his face");

    w.lb.stop_relay().await;
    for needle in [
        marker,
        "Kenji Erasable",
        "kenji.erasable@example.jp",
        "5555-0199",
        "prefers mornings",
        ken.as_str(),
    ] {
        assert_eq!(
            files_holding(w.dir.path(), needle.as_bytes()),
            Vec::<std::path::PathBuf>::new(),
            "{needle} is gone from the relay's files"
        );
    }
    assert_eq!(
        files_holding(w.dir.path(), file_bytes),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(
        files_holding(w.dir.path(), &face),
        Vec::<std::path::PathBuf>::new(),
        "his face is gone too"
    );

    // One audit stub stays, naming no one.
    let conn = linedesk_relay::ServeConfig::local_for_tests(w.dir.path().to_owned())
        .expect("config")
        .open_database()
        .expect("the relay's database");
    let (action, detail): (String, String) = conn
        .db()
        .query_opt(
            "SELECT action, detail FROM audit WHERE contact_id = ?1",
            linedesk_relay::args![id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("read")
        .expect("stub");
    assert_eq!(action, "erase");
    assert!(detail.starts_with("erased: "), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_rules_can_send_known_contacts_to_their_queue() {
    let w = World::open(false).await;
    let rita = w.rita().await;
    let (status, _) = w
        .admin(Method::PUT, "/api/queues/vip", json!({"name": "VIP"}))
        .await;
    assert_eq!(status, 200);
    let (_, mut ws) = w
        .admin(
            Method::GET,
            &format!("/api/workstreams/{CHANNEL}"),
            Value::Null,
        )
        .await;
    ws["rules"] = json!([{"name": "gold customers", "queue": "vip",
        "conditions": [{"field": "contactField", "name": "tier", "in": ["Gold"]}]}]);
    let (status, body) = w
        .admin(Method::PUT, &format!("/api/workstreams/{CHANNEL}"), ws)
        .await;
    assert_eq!(status, 200, "{body}");

    let mei = w.lb.customer("Mei", "zh-TW").await;
    w.says(&mei, "hello").await;
    assert_eq!(w.live(&mei).await["queueId"], "general", "not known yet");
    w.handle_and_close(&rita, &mei).await;
    let (status, _) = w
        .call(
            Method::POST,
            "/api/contacts",
            &rita,
            json!({"name": "Mei Lin", "custom": {"tier": "gold"},
                   "link": {"channelId": CHANNEL, "userId": mei}}),
        )
        .await;
    assert_eq!(status, 200);
    w.says(&mei, "hello again").await;
    let next = w.live(&mei).await;
    assert_eq!(next["queueId"], "vip", "{next}");
    assert_eq!(next["contact"]["name"], "Mei Lin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_still_downloading_when_its_customer_is_erased_is_not_kept() {
    use base64::Engine as _;
    let w = World::open(false).await;
    let rita = w.rita().await;
    let sam = w.lb.login("sam", PASSWORD).await;
    let ken = w.lb.customer("Ken Slow", "ja").await;
    w.says(&ken, "hello").await;
    w.handle_and_close(&rita, &ken).await;
    w.flush().await;
    let (status, c) = w
        .call(
            Method::POST,
            "/api/contacts",
            &sam,
            json!({"name": "Ken Slow", "link": {"channelId": CHANNEL, "userId": ken}}),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    let id = c["contact"]["id"].as_i64().expect("id");

    // LINE is slow to hand over the next file: the download is still running when sam erases.
    w.lb.sim(
        "/sim/faults",
        json!({"path": "/v2/bot/message/", "delayMs": 3000, "count": 1}),
    )
    .await;
    let bytes = b"%PDF-1.4 SLOW-DOWNLOAD-ERASED-9931";
    w.lb.sim(
        &format!("/sim/customers/{ken}/messages"),
        json!({"type": "file", "fileName": "late.pdf",
                   "contentBase64": base64::engine::general_purpose::STANDARD.encode(bytes)}),
    )
    .await;
    w.settle().await;
    w.handle_and_close(&rita, &ken).await;
    let (status, body) = w
        .call(
            Method::POST,
            &format!("/api/contacts/{id}/erase"),
            &sam,
            Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(4000)).await;
    assert_eq!(
        files_holding(w.dir.path(), bytes),
        Vec::<std::path::PathBuf>::new(),
        "the late download was dropped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_still_being_fetched_when_its_customer_is_erased_is_not_kept() {
    let w = World::open(false).await;
    let rita = w.rita().await;
    let sam = w.lb.login("sam", PASSWORD).await;
    // LINE is slow to answer the new customer's profile: the fetch is still running when sam
    // erases her.
    w.lb.sim(
        "/sim/faults",
        json!({"path": "/v2/bot/profile/", "delayMs": 3000, "count": 1}),
    )
    .await;
    let name = "Late Profile Nakamura-7781";
    let yui = w.lb.customer(name, "ja").await;
    w.says(&yui, "hello").await;
    w.handle_and_close(&rita, &yui).await;
    let (status, c) = w
        .call(
            Method::POST,
            "/api/contacts",
            &sam,
            json!({"name": "Yui", "link": {"channelId": CHANNEL, "userId": yui}}),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    let id = c["contact"]["id"].as_i64().expect("id");
    let (status, body) = w
        .call(
            Method::POST,
            &format!("/api/contacts/{id}/erase"),
            &sam,
            Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(4000)).await;
    for needle in [name, yui.as_str()] {
        assert_eq!(
            files_holding(w.dir.path(), needle.as_bytes()),
            Vec::<std::path::PathBuf>::new(),
            "{needle}: the late profile was dropped"
        );
    }
}
