//! Every relay call × every role × no session: each answer is what the role may do.
//! Allowed calls may still refuse for other reasons (404, 400, 502); they never answer 401 or
//! 403. Refused roles get 403, and no session gets 401.

use crate::common;

use axum::body::Body;
use common::*;
use http::{Method, Request, StatusCode};
use tower::ServiceExt as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Nobody,
    Rep,
    Supervisor,
    Admin,
}

#[derive(Debug, Clone, Copy)]
enum Allowed {
    Everyone,
    SupervisorUp,
    AdminOnly,
}

impl Allowed {
    fn admits(self, who: Who) -> bool {
        match (self, who) {
            (_, Who::Nobody) => false,
            (Allowed::Everyone, _) => true,
            (Allowed::SupervisorUp, w) => w != Who::Rep,
            (Allowed::AdminOnly, w) => w == Who::Admin,
        }
    }
}

#[tokio::test]
async fn every_call_checks_the_callers_role() {
    let t = TestRelay::start().await;
    let tokens = [
        (Who::Rep, t.login("rita").await),
        (Who::Supervisor, t.login("sam").await),
        (Who::Admin, t.login("ada").await),
    ];
    let conv = "01HXNOSUCHCONVERSATION0000";
    let link = format!(r#"{{"channelId":"{CHANNEL}","userId":"U1"}}"#);
    let calls: Vec<(Method, String, &str, Allowed)> = vec![
        (
            Method::GET,
            "/api/channels".into(),
            "",
            Allowed::SupervisorUp,
        ),
        (Method::POST, "/api/send".into(), "{}", Allowed::Everyone),
        (
            Method::POST,
            format!("/api/uploads?channel={CHANNEL}&name=note.txt"),
            "hello",
            Allowed::Everyone,
        ),
        (
            Method::GET,
            format!("/api/media/{CHANNEL}/123"),
            "",
            Allowed::Everyone,
        ),
        (
            Method::GET,
            "/api/stickers/52002734".into(),
            "",
            Allowed::Everyone,
        ),
        (
            Method::GET,
            "/api/emoji/5ac1bfd5040ab15980c9b435/001".into(),
            "",
            Allowed::Everyone,
        ),
        (Method::GET, "/api/reminders".into(), "", Allowed::Everyone),
        (
            Method::GET,
            format!("/api/channels/{CHANNEL}/quota"),
            "",
            Allowed::Everyone,
        ),
        // Whose reminder or conversation it is decides too: someone else's answers 404/403.
        (
            Method::DELETE,
            "/api/reminders/no-such-reminder".into(),
            "",
            Allowed::Everyone,
        ),
        (
            Method::POST,
            format!("/api/conversations/{conv}/viewing"),
            r#"{"typing":false}"#,
            Allowed::Everyone,
        ),
        (
            Method::POST,
            format!("/api/conversations/{conv}/remind"),
            r#"{"at":1,"note":""}"#,
            Allowed::Everyone,
        ),
        // Whose face it is decides too: someone else's customer answers 404.
        (
            Method::GET,
            format!("/api/avatars/{CHANNEL}/U1"),
            "",
            Allowed::Everyone,
        ),
        (
            Method::POST,
            "/api/presence".into(),
            r#"{"presence":"away"}"#,
            Allowed::Everyone,
        ),
        (Method::GET, "/api/agents".into(), "", Allowed::Everyone),
        (
            Method::PUT,
            "/api/agents/rita".into(),
            r#"{"capacity":2}"#,
            Allowed::AdminOnly,
        ),
        (
            Method::GET,
            "/api/conversations".into(),
            "",
            Allowed::Everyone,
        ),
        (
            Method::GET,
            format!("/api/conversations/{conv}"),
            "",
            Allowed::Everyone,
        ),
        (
            Method::POST,
            format!("/api/conversations/{conv}/accept"),
            "{}",
            Allowed::Everyone,
        ),
        (
            Method::POST,
            format!("/api/conversations/{conv}/assign"),
            r#"{"toUser":"rita"}"#,
            Allowed::SupervisorUp,
        ),
        (
            Method::POST,
            format!("/api/conversations/{conv}/monitor"),
            "{}",
            Allowed::SupervisorUp,
        ),
        (
            Method::POST,
            format!("/api/conversations/{conv}/whisper"),
            r#"{"text":"psst"}"#,
            Allowed::SupervisorUp,
        ),
        (
            Method::POST,
            format!("/api/conversations/{conv}/note"),
            r#"{"text":"fyi"}"#,
            Allowed::Everyone,
        ),
        (
            Method::GET,
            format!("/api/workstreams/{CHANNEL}"),
            "",
            Allowed::Everyone,
        ),
        (
            Method::PUT,
            format!("/api/workstreams/{CHANNEL}"),
            "{}",
            Allowed::AdminOnly,
        ),
        (
            Method::POST,
            format!("/api/workstreams/{CHANNEL}/test"),
            r#"{"text":"hello"}"#,
            Allowed::AdminOnly,
        ),
        (Method::GET, "/api/queues".into(), "", Allowed::Everyone),
        (
            Method::GET,
            "/api/reports?from=2026-12-01&to=2026-12-01&by=agent".into(),
            "",
            Allowed::SupervisorUp,
        ),
        (
            Method::PUT,
            "/api/queues/night".into(),
            r#"{"name":"Night"}"#,
            Allowed::AdminOnly,
        ),
        // Channels: bodies that fail validation or name no channel, so nothing changes.
        (
            Method::POST,
            "/api/channels".into(),
            "{}",
            Allowed::AdminOnly,
        ),
        (
            Method::PUT,
            "/api/channels/nochannel".into(),
            "{}",
            Allowed::AdminOnly,
        ),
        (
            Method::POST,
            "/api/channels/nochannel/check".into(),
            "",
            Allowed::AdminOnly,
        ),
        (
            Method::POST,
            "/api/channels/nochannel/webhook".into(),
            "",
            Allowed::AdminOnly,
        ),
        (
            Method::POST,
            "/api/channels/nochannel/test".into(),
            "",
            Allowed::AdminOnly,
        ),
        (
            Method::POST,
            "/api/channels/nochannel/delete".into(),
            "{}",
            Allowed::AdminOnly,
        ),
        (
            Method::POST,
            "/api/channels/nochannel/retry-media".into(),
            "",
            Allowed::AdminOnly,
        ),
        // Users.
        (Method::GET, "/api/users".into(), "", Allowed::AdminOnly),
        (Method::POST, "/api/users".into(), "{}", Allowed::AdminOnly),
        (
            Method::PUT,
            "/api/users/nobody".into(),
            r#"{"capacity":2}"#,
            Allowed::AdminOnly,
        ),
        (
            Method::DELETE,
            "/api/users/nobody".into(),
            "",
            Allowed::AdminOnly,
        ),
        // Contacts and identity.
        (
            Method::GET,
            "/api/contacts?q=mei".into(),
            "",
            Allowed::Everyone,
        ),
        (
            Method::POST,
            "/api/contacts".into(),
            r#"{"name":""}"#,
            Allowed::Everyone,
        ),
        (
            Method::GET,
            "/api/contacts/999".into(),
            "",
            Allowed::Everyone,
        ),
        (
            Method::PUT,
            "/api/contacts/999".into(),
            r#"{"name":"x"}"#,
            Allowed::Everyone,
        ),
        (
            Method::POST,
            "/api/contacts/999/link".into(),
            &link,
            Allowed::Everyone,
        ),
        (
            Method::POST,
            "/api/contacts/999/unlink".into(),
            &link,
            Allowed::Everyone,
        ),
        (
            Method::POST,
            "/api/contacts/999/merge".into(),
            r#"{"other":998}"#,
            Allowed::SupervisorUp,
        ),
        (
            Method::GET,
            "/api/contacts/999/export".into(),
            "",
            Allowed::SupervisorUp,
        ),
        (
            Method::POST,
            "/api/contacts/999/erase".into(),
            "",
            Allowed::SupervisorUp,
        ),
        (
            Method::GET,
            format!("/api/profiles/{CHANNEL}/U1"),
            "",
            Allowed::Everyone,
        ),
        (Method::POST, "/api/logout".into(), "{}", Allowed::Everyone),
    ];
    let mut table = Vec::new();
    for (method, path, body, allowed) in &calls {
        for who in [Who::Nobody, Who::Rep, Who::Supervisor, Who::Admin] {
            // Logging out ends the session: use a fresh one for that call.
            let token = match who {
                Who::Nobody => None,
                _ if path == "/api/logout" => Some(
                    t.login(match who {
                        Who::Rep => "rita",
                        Who::Supervisor => "sam",
                        _ => "ada",
                    })
                    .await,
                ),
                _ => tokens
                    .iter()
                    .find(|(w, _)| *w == who)
                    .map(|(_, t)| t.clone()),
            };
            let mut req = Request::builder()
                .method(method.clone())
                .uri(path.as_str())
                .header("content-type", "application/json");
            if let Some(tok) = &token {
                req = req.header("authorization", format!("Bearer {tok}"));
            }
            let status = t
                .app()
                .oneshot(req.body(Body::from(body.to_string())).expect("request"))
                .await
                .expect("served")
                .status();
            table.push(format!("{method} {path} as {who:?}: {status}"));
            if who == Who::Nobody {
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} without a session"
                );
            } else if allowed.admits(who) {
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{method} {path} as {who:?} must be allowed, got {status}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} as {who:?}");
            }
        }
    }
    assert_eq!(table.len(), calls.len() * 4, "the whole matrix was walked");
}
