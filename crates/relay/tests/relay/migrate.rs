//! `linedesk-relay migrate --from DIR --to postgres://…`: a SQLite relay that routed
//! conversations, linked a contact and kept an upload is moved into PostgreSQL; a relay
//! started on the moved data (with a fresh data directory holding only the relay key) serves
//! the same conversations, contacts, media and sessions. Runs in the test command's
//! PostgreSQL pass; says "skipped" otherwise.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use linedesk_protocol::{ClientFrame, PROTOCOL_VERSION};
use linedesk_relay::store;
use serde_json::{json, Value};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{copy_key, seed_sqlite, sign, webhook_body, CHANNEL};
use crate::crash::free_port;

fn relay_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_linedesk-relay"));
    cmd.env_remove("LINEDESK_DATABASE")
        .env_remove("LINEDESK_DATA")
        .env("LINEDESK_LOG", "warn");
    cmd
}

pub(crate) async fn start(data: &Path, addr: SocketAddr, database: Option<&str>) -> Child {
    let mut cmd = relay_command();
    cmd.args(["serve", "--listen", &addr.to_string(), "--data"])
        .arg(data)
        .args(database.iter().flat_map(|url| ["--database", url]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("relay binary starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "relay did not listen in 20 s");
        if let Ok(Some(status)) = child.try_wait() {
            panic!("relay exited at start: {status}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child
}

struct Api {
    http: reqwest::Client,
    addr: SocketAddr,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, token: &str, body: Value) -> Value {
        let mut req = self
            .http
            .request(method, format!("http://{}{path}", self.addr))
            .bearer_auth(token);
        if !body.is_null() {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("relay answers");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn login(&self, user: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/api/login",
                "",
                json!({"user": user, "password": "correct horse"}),
            )
            .await;
        v["token"].as_str().expect("token").to_owned()
    }

    async fn says(&self, id: &str, user: &str, text: &str) {
        let body = webhook_body(&[json!({
            "type": "message", "mode": "active", "timestamp": 1_700_000_000_000i64,
            "source": {"type": "user", "userId": user},
            "webhookEventId": id, "deliveryContext": {"isRedelivery": false},
            "replyToken": format!("r{id}"),
            "message": {"id": id, "type": "text", "quoteToken": "q", "text": text}
        })]);
        let resp = self
            .http
            .post(format!("http://{}/line/{CHANNEL}/webhook", self.addr))
            .header("x-line-signature", sign(&body))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("webhook");
        assert_eq!(resp.status(), 200);
    }

    /// The conversations, as an admin sees them, once `ready` holds.
    async fn conversations_when(
        &self,
        token: &str,
        ready: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let list = self
                .call(
                    reqwest::Method::GET,
                    "/api/conversations",
                    token,
                    Value::Null,
                )
                .await;
            let list = list.as_array().cloned().unwrap_or_default();
            if ready(&list) {
                return list;
            }
            assert!(
                Instant::now() < deadline,
                "conversations never got there: {list:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Id, chat, state, owner and offer of each conversation, in order.
fn essentials(list: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = list
        .iter()
        .map(|c| {
            json!([
                c["id"],
                c["chatId"],
                c["state"],
                c["owner"],
                c["offer"]["to"],
                c["firstText"]
            ])
        })
        .collect();
    out.sort_by_key(|v| v[0].to_string());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sqlite_relay_moved_to_postgresql_serves_the_same_records_media_and_sessions() {
    let cluster = match std::env::var("LINEDESK_TEST_POSTGRES") {
        Ok(url) if std::env::var("LINEDESK_TEST_DATABASE").as_deref() == Ok("postgres") => url,
        _ => {
            eprintln!("skipped: moving into PostgreSQL needs the PostgreSQL pass");
            return;
        }
    };
    let base = tempfile::tempdir().expect("tempdir");
    let (old_dir, new_dir) = (base.path().join("sqlite"), base.path().join("pg"));
    seed_sqlite(&old_dir, "http://127.0.0.1:9");
    let target = store::pg::database_for(&cluster, &base.path().join("target")).expect("target");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");

    // A day on SQLite: rita takes one customer, a second waits on her offer, she links a
    // contact and uploads a file.
    let addr = free_port();
    let mut relay = start(&old_dir, addr, None).await;
    let api = Api {
        http: http.clone(),
        addr,
    };
    let ada = api.login("ada").await;
    let rita = api.login("rita").await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/ws"))
        .await
        .expect("websocket");
    let hello = ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        token: rita.clone(),
        since: None,
    };
    ws.send(Message::text(serde_json::to_string(&hello).expect("json")))
        .await
        .expect("hello");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let agents = api
            .call(reqwest::Method::GET, "/api/agents", &ada, Value::Null)
            .await;
        let connected = agents
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["user"] == "rita" && a["connected"] == true);
        if connected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "rita's console never counted: {agents}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    api.call(
        reqwest::Method::POST,
        "/api/presence",
        &rita,
        json!({"presence": "available"}),
    )
    .await;
    let mei = format!("U{:032x}", 1);
    let ken = format!("U{:032x}", 2);
    api.says("01JMOVE0000000000000000001", &mei, "where is my order?")
        .await;
    let list = api
        .conversations_when(&ada, |l| l.iter().any(|c| c["offer"]["to"] == "rita"))
        .await;
    let id = list[0]["id"].as_str().expect("id").to_owned();
    api.call(
        reqwest::Method::POST,
        &format!("/api/conversations/{id}/accept"),
        &rita,
        json!({}),
    )
    .await;
    api.says("01JMOVE0000000000000000002", &ken, "hello?").await;
    let before = api
        .conversations_when(&ada, |l| {
            l.len() == 2
                && l.iter().any(|c| c["owner"] == "rita")
                && l.iter().any(|c| c["offer"]["to"] == "rita")
        })
        .await;
    let contact = api
        .call(
            reqwest::Method::POST,
            "/api/contacts",
            &rita,
            json!({"name": "Mei Lin", "email": "mei@example.com"}),
        )
        .await;
    let contact_id = contact["contact"]["id"].as_i64().expect("contact id");
    api.call(
        reqwest::Method::POST,
        &format!("/api/contacts/{contact_id}/link"),
        &rita,
        json!({"channelId": CHANNEL, "userId": mei, "reason": "order number matches"}),
    )
    .await;
    let contact_before = api
        .call(
            reqwest::Method::GET,
            &format!("/api/contacts/{contact_id}"),
            &ada,
            Value::Null,
        )
        .await;
    let pdf = [b"%PDF-1.4\n".as_slice(), &[9u8; 2_500_000]].concat();
    let upload: Value = http
        .post(format!(
            "http://{addr}/api/uploads?channel={CHANNEL}&name=invoice.pdf"
        ))
        .bearer_auth(&rita)
        .body(pdf.clone())
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    let url = upload["url"].as_str().expect("upload URL");
    let upload_path = url[url.find("/o/").expect("/o/")..].to_owned();
    relay.start_kill().expect("stop the SQLite relay");
    let _ = relay.wait().await;
    let logged_before = {
        let conn = store::Database::Sqlite(old_dir.clone())
            .open_reader()
            .expect("sqlite");
        store::events::read_after(&conn, 0, usize::MAX >> 1).expect("log")
    };

    // The move, and a second attempt that must refuse to mix two relays' data.
    let out = relay_command()
        .args(["migrate", "--from"])
        .arg(&old_dir)
        .args(["--to", &target])
        .output()
        .await
        .expect("migrate runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "migrate: {stdout}\n{stderr}");
    eprintln!("{stderr}{stdout}");
    assert!(stdout.contains("counts verified"), "{stdout}");
    assert!(stderr.contains("events: "), "each table reported: {stderr}");
    assert!(stderr.contains("media: "), "media reported: {stderr}");
    assert!(!stdout.contains("password") && !stderr.contains(":secret@"));
    let again = relay_command()
        .args(["migrate", "--from"])
        .arg(&old_dir)
        .args(["--to", &target])
        .output()
        .await
        .expect("migrate runs");
    assert!(!again.status.success(), "a second move is refused");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds a relay's data"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // A relay on PostgreSQL, with a new data directory that has only the relay key.
    copy_key(&old_dir, &new_dir);
    let addr = free_port();
    let _moved = start(&new_dir, addr, Some(&target)).await;
    let api = Api {
        http: http.clone(),
        addr,
    };
    // Sessions moved too: ada's token still works.
    let after = api
        .conversations_when(&ada, |l| l.len() == before.len())
        .await;
    assert_eq!(
        essentials(&after),
        essentials(&before),
        "the same conversations"
    );
    let contact_after = api
        .call(
            reqwest::Method::GET,
            &format!("/api/contacts/{contact_id}"),
            &ada,
            Value::Null,
        )
        .await;
    assert_eq!(
        contact_after["contact"], contact_before["contact"],
        "the same contact"
    );
    assert_eq!(contact_after["links"], contact_before["links"], "its link");
    let served = http
        .get(format!("http://{addr}{upload_path}"))
        .send()
        .await
        .expect("upload served");
    assert_eq!(served.status(), 200);
    assert_eq!(
        served.bytes().await.expect("bytes").as_ref(),
        pdf.as_slice()
    );
    let conn = store::Database::Postgres(target.clone())
        .open_reader()
        .expect("pg");
    let logged_after = store::events::read_after(&conn, 0, usize::MAX >> 1).expect("log");
    let ids = |log: &[store::events::StoredEvent]| -> Vec<(u64, Option<String>, String)> {
        log.iter()
            .map(|e| (e.seq, e.webhook_event_id.clone(), e.body.clone()))
            .collect()
    };
    assert_eq!(
        ids(&logged_after[..logged_before.len()]),
        ids(&logged_before),
        "the log, event for event"
    );

    // The moved relay goes on: a new customer gets the next sequence and a conversation.
    api.says("01JMOVE0000000000000000003", &format!("U{:032x}", 3), "hi")
        .await;
    api.conversations_when(&ada, |l| l.len() == 3).await;
    let newest = store::events::read_after(&conn, 0, usize::MAX >> 1).expect("log");
    assert!(
        newest.windows(2).all(|w| w[0].seq < w[1].seq),
        "sequences go on after the moved log"
    );
}
