//! Every typed call of `linedesk_protocol::api` (what the console sends) reaches a handler of
//! the relay: the relay may refuse it (400, 404 for a missing thing, 502 when LINE is away), but
//! with its own JSON refusal, never the router's bare 404 or 405. A path written differently on
//! the two sides fails here, not on an admin's screen.

use crate::common;

use axum::body::Body;
use common::*;
use http::{Request, StatusCode};
use linedesk_protocol::api::{self, Call, Method};
use linedesk_protocol::identity::{ChannelUpdate, ContactFields, DeleteChannel, LinkRequest};
use linedesk_protocol::setup::{AgentSettings, Queue, Workstream};
use tower::ServiceExt as _;

async fn send<C: Call>(t: &TestRelay, token: &str, call: &C) -> (StatusCode, String, String) {
    let method = match C::METHOD {
        Method::Get => http::Method::GET,
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Delete => http::Method::DELETE,
    };
    let body = call
        .body()
        .map(|b| serde_json::to_vec(b).expect("body"))
        .unwrap_or_default();
    let req = Request::builder()
        .method(method.clone())
        .uri(call.path())
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body))
        .expect("request");
    let resp = t.app().oneshot(req).await.expect("served");
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        format!("{method} {}", call.path()),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn reached((status, call, body): (StatusCode, String, String)) -> String {
    assert_ne!(
        status,
        StatusCode::METHOD_NOT_ALLOWED,
        "{call}: no such method"
    );
    if !status.is_success() {
        let refusal: Result<linedesk_protocol::ApiErrorBody, _> = serde_json::from_str(&body);
        assert!(
            refusal.is_ok(),
            "{call}: {status} without the relay's refusal (no route?): {body:?}"
        );
    }
    format!("{call}: {status}")
}

#[tokio::test]
async fn every_typed_call_reaches_its_handler() {
    let t = TestRelay::start().await;
    let ada = t.login("ada").await;
    let link = LinkRequest {
        channel_id: CHANNEL.into(),
        user_id: "U0123456789abcdef0123456789abcdef".into(),
        reason: None,
    };
    let mut seen = vec![
        reached(send(&t, &ada, &api::ListChannels {}).await),
        reached(
            send(
                &t,
                &ada,
                &api::UpdateChannel {
                    channel_id: CHANNEL.into(),
                    update: ChannelUpdate {
                        name: Some("Renamed".into()),
                        ..Default::default()
                    },
                },
            )
            .await,
        ),
        reached(send(&t, &ada, &api::ListUsers {}).await),
        reached(send(&t, &ada, &api::ListQueues {}).await),
        reached(
            send(
                &t,
                &ada,
                &api::PutQueue {
                    id: "billing".into(),
                    queue: Queue::default(),
                },
            )
            .await,
        ),
        reached(
            send(
                &t,
                &ada,
                &api::GetWorkstream {
                    channel_id: CHANNEL.into(),
                },
            )
            .await,
        ),
        reached(
            send(
                &t,
                &ada,
                &api::PutWorkstream {
                    channel_id: CHANNEL.into(),
                    workstream: Workstream::default(),
                },
            )
            .await,
        ),
        reached(
            send(
                &t,
                &ada,
                &api::TestRule {
                    channel_id: CHANNEL.into(),
                    test: linedesk_protocol::setup::RuleTest {
                        text: "สวัสดี".into(),
                        ..Default::default()
                    },
                },
            )
            .await,
        ),
        reached(
            send(
                &t,
                &ada,
                &api::SetCapacity {
                    user: "rita".into(),
                    settings: AgentSettings { capacity: 2 },
                },
            )
            .await,
        ),
        reached(
            send(
                &t,
                &ada,
                &api::SearchContacts {
                    query: "王 & co".into(),
                },
            )
            .await,
        ),
        reached(send(&t, &ada, &api::GetContact { id: 999 }).await),
        reached(
            send(
                &t,
                &ada,
                &api::UpdateContact {
                    id: 999,
                    fields: ContactFields {
                        name: "Mei".into(),
                        ..Default::default()
                    },
                },
            )
            .await,
        ),
        reached(
            send(
                &t,
                &ada,
                &api::LinkProfile {
                    id: 999,
                    link: link.clone(),
                },
            )
            .await,
        ),
        reached(
            send(
                &t,
                &ada,
                &api::UnlinkProfile {
                    id: 999,
                    link: link.clone(),
                },
            )
            .await,
        ),
        reached(
            send(
                &t,
                &ada,
                &api::MergeContacts {
                    id: 999,
                    merge: linedesk_protocol::identity::MergeRequest { other: 998 },
                },
            )
            .await,
        ),
        reached(send(&t, &ada, &api::EraseContact { id: 999 }).await),
        reached(send(&t, &ada, &api::ExportContact { id: 999 }).await),
        reached(
            send(
                &t,
                &ada,
                &api::GetProfile {
                    channel_id: CHANNEL.into(),
                    user_id: link.user_id.clone(),
                },
            )
            .await,
        ),
        reached(
            send(
                &t,
                &ada,
                &api::GetReport {
                    from: "2026-12-01".into(),
                    to: "2026-12-01".into(),
                    by: linedesk_protocol::reports::ReportGroup::Queue,
                },
            )
            .await,
        ),
        reached(
            send(
                &t,
                &ada,
                &api::RemoveUser {
                    name: "nobody-here".into(),
                },
            )
            .await,
        ),
        reached(
            send(
                &t,
                &ada,
                &api::SetReminder {
                    conversation_id: "01HXNOSUCHCONVERSATION0000".into(),
                    reminder: linedesk_protocol::routing::ReminderRequest {
                        at: linedesk_relay::store::now_ms() + 60_000,
                        note: String::new(),
                    },
                },
            )
            .await,
        ),
        reached(send(&t, &ada, &api::ListReminders {}).await),
        reached(
            send(
                &t,
                &ada,
                &api::GetChannelQuota {
                    channel_id: CHANNEL.into(),
                },
            )
            .await,
        ),
        reached(
            send(
                &t,
                &ada,
                &api::Viewing {
                    conversation_id: "01HXNOSUCHCONVERSATION0000".into(),
                    viewing: Default::default(),
                },
            )
            .await,
        ),
        reached(
            send(
                &t,
                &ada,
                &api::CancelReminder {
                    id: "no-such-reminder".into(),
                },
            )
            .await,
        ),
    ];
    for check in [
        api::ChannelCheck::Check,
        api::ChannelCheck::Webhook,
        api::ChannelCheck::Test,
        api::ChannelCheck::RetryMedia,
    ] {
        seen.push(reached(
            send(
                &t,
                &ada,
                &api::CheckChannel {
                    channel_id: "nochannel".into(),
                    check,
                },
            )
            .await,
        ));
    }
    seen.push(reached(
        send(
            &t,
            &ada,
            &api::RemoveChannel {
                channel_id: "nochannel".into(),
                farewell: DeleteChannel::default(),
            },
        )
        .await,
    ));
    // Adding writes: a channel LINE cannot confirm (the simulator is not running) and a user.
    seen.push(reached(
        send(
            &t,
            &ada,
            &api::AddUser {
                user: serde_json::from_value(serde_json::json!({
                    "name": "nina", "role": "rep", "password": "correct horse battery"
                }))
                .expect("new user"),
            },
        )
        .await,
    ));
    seen.push(reached(
        send(
            &t,
            &ada,
            &api::CreateContact {
                contact: linedesk_protocol::identity::NewContact {
                    fields: ContactFields {
                        name: "Mei".into(),
                        ..Default::default()
                    },
                    link: None,
                },
            },
        )
        .await,
    ));
    seen.push(reached(
        send(
            &t,
            &ada,
            &api::AddChannel {
                channel: serde_json::from_value(serde_json::json!({
                    "id": "1650009999", "name": "New", "secret": "0123456789abcdef0123456789abcdef",
                    "token": "t".repeat(40)
                }))
                .expect("new channel"),
            },
        )
        .await,
    ));
    // One call of each kind the console can make, and the writes took effect.
    assert_eq!(seen.len(), 33, "{seen:#?}");
    let (status, _, body) = send(&t, &ada, &api::ListQueues {}).await;
    assert_eq!(status, StatusCode::OK);
    let queues: Vec<linedesk_protocol::setup::QueueEntry> =
        serde_json::from_str(&body).expect("typed answer");
    assert!(queues.iter().any(|q| q.id == "billing"), "{queues:?}");
}

#[tokio::test]
async fn a_refused_entry_names_its_field_and_reason() {
    let t = TestRelay::start().await;
    let ada = t.login("ada").await;
    let mut ws = Workstream {
        decline_limit: 6,
        ..Workstream::default()
    };
    let (status, _, body) = send(
        &t,
        &ada,
        &api::PutWorkstream {
            channel_id: CHANNEL.into(),
            workstream: ws.clone(),
        },
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let refusal: linedesk_protocol::ApiErrorBody = serde_json::from_str(&body).expect("refusal");
    assert_eq!(
        refusal.invalid,
        [linedesk_protocol::Invalid::new(
            "declineLimit",
            linedesk_protocol::Reason::Range { min: 1, max: 5 }
        )]
    );
    // A field that is not even a number (a form's emptied number input sends null).
    let resp = t
        .app()
        .oneshot(
            Request::put(format!("/api/workstreams/{CHANNEL}"))
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {ada}"))
                .body(Body::from(r#"{"declineLimit": null}"#))
                .expect("request"),
        )
        .await
        .expect("served");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body");
    let refusal: linedesk_protocol::ApiErrorBody = serde_json::from_slice(&bytes).expect("refusal");
    assert_eq!(
        refusal.invalid,
        [linedesk_protocol::Invalid::new(
            "declineLimit",
            linedesk_protocol::Reason::Malformed
        )]
    );
    ws.decline_limit = 5;
    ws.wrap_up_blocks = linedesk_protocol::setup::WrapUpBlocks::Duration { ms: 150_000 };
    ws.rules.push(linedesk_protocol::setup::Rule {
        name: "Thai".into(),
        conditions: vec![linedesk_protocol::setup::Condition::Regex {
            pattern: "(unclosed".into(),
        }],
        queue: "general".into(),
        ..Default::default()
    });
    let (status, _, body) = send(
        &t,
        &ada,
        &api::PutWorkstream {
            channel_id: CHANNEL.into(),
            workstream: ws.clone(),
        },
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let refusal: linedesk_protocol::ApiErrorBody = serde_json::from_str(&body).expect("refusal");
    let [invalid] = &refusal.invalid[..] else {
        panic!("one field: {refusal:?}");
    };
    assert_eq!(invalid.field, "rules[0].conditions[0].pattern");
    assert!(matches!(
        invalid.reason,
        linedesk_protocol::Reason::Regex { .. }
    ));
    // Fixed, a wrap-up block of two and a half minutes is taken as it is.
    ws.rules.clear();
    let (status, _, body) = send(
        &t,
        &ada,
        &api::PutWorkstream {
            channel_id: CHANNEL.into(),
            workstream: ws.clone(),
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let saved: Workstream = serde_json::from_str(&body).expect("workstream");
    assert_eq!(saved, ws);
    let (status, _, body) = send(
        &t,
        &ada,
        &api::PutQueue {
            id: "bad id".into(),
            queue: Queue::default(),
        },
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let refusal: linedesk_protocol::ApiErrorBody = serde_json::from_str(&body).expect("refusal");
    assert_eq!(
        refusal.invalid,
        [linedesk_protocol::Invalid::new(
            "id",
            linedesk_protocol::Reason::Identifier
        )]
    );
}
