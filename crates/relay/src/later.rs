//! "Send later": a representative writes a message now and the relay sends it at the time she
//! chose, by push with the message's id as the retry key. It waits in the automated messages'
//! table, so it survives restarts and goes once: a relay that stopped after LINE took it but
//! before noting so sends it again with the same key, and LINE answers that it has it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use linedesk_protocol::routing::{LaterCancel, LaterMessage, LaterRequest, LATER_MAX_MS};
use linedesk_protocol::{Invalid, Reason};
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::policy::{AnyUser, Refusal};
use crate::routing::engine;
use crate::routing::http::parse;
use crate::store::automated::{self as store, NewLater};
use crate::Relay;

fn message(id: String, at: i64, messages: &str, sent_by: Option<String>) -> LaterMessage {
    let text = serde_json::from_str::<Value>(messages)
        .ok()
        .and_then(|v| v[0]["text"].as_str().map(str::to_owned))
        .unwrap_or_default();
    LaterMessage {
        id,
        at,
        text,
        sent_by,
    }
}

/// `POST /api/conversations/{id}/later` and `…/later-cancel`, for `caller`.
pub async fn act(
    relay: &Relay,
    caller: &Caller,
    id: &str,
    action: &str,
    body: &[u8],
) -> Result<axum::response::Response, Refusal> {
    let snap = crate::signals::writable(relay, &caller.session.user.name, id).await?;
    if action == "later-cancel" {
        let req: LaterCancel = parse(body)?;
        let conv = snap.id.clone();
        // Not while the sender is at work: a message it has picked up goes (or not) whole.
        let _sender = relay.routing().sending.lock().await;
        let cancelled = relay
            .writer()
            .run(move |c| store::cancel(c, &conv, &req.id))
            .await
            .map_err(Refusal::internal)?;
        return if cancelled {
            Ok(Json(json!({})).into_response())
        } else {
            Err(Refusal::not_found("no such message waiting"))
        };
    }
    let req: LaterRequest = parse(body)?;
    let now = relay.clock().now_ms();
    let mut bad = Vec::new();
    let units = req.text.encode_utf16().count();
    if req.text.trim().is_empty() || units > 5000 {
        bad.push(Invalid::new("text", Reason::Length { min: 1, max: 5000 }));
    }
    if req.at <= now || req.at > now + LATER_MAX_MS {
        bad.push(Invalid::new(
            "at",
            Reason::Duration {
                min_ms: 1,
                max_ms: LATER_MAX_MS,
            },
        ));
    }
    if !bad.is_empty() {
        return Err(Refusal::fields(bad));
    }
    let later_id = uuid::Uuid::new_v4().to_string();
    let messages = json!([{"type": "text", "text": req.text}]).to_string();
    let user = caller.session.user.name.clone();
    let (row, conv, channel, chat) = (later_id.clone(), snap.id, snap.channel_id, snap.chat_id);
    let stored = messages.clone();
    relay
        .writer()
        .run(move |c| {
            store::schedule(
                c,
                &NewLater {
                    id: &row,
                    conversation_id: &conv,
                    channel_id: &channel,
                    chat_id: &chat,
                    messages: &stored,
                    sent_by: &user,
                    at: req.at,
                    now,
                },
            )
        })
        .await
        .map_err(Refusal::internal)?;
    Ok((
        StatusCode::CREATED,
        Json(message(
            later_id,
            req.at,
            &messages,
            Some(caller.session.user.name.clone()),
        )),
    )
        .into_response())
}

/// `GET /api/conversations/{id}/later`: what waits to be sent in a conversation, for who may
/// write in it.
pub async fn waiting(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Refusal> {
    let user = caller.session.user.name.clone();
    let key = id.clone();
    let snap = relay
        .read(move |c| engine::snapshot(c, &key))
        .await?
        .ok_or_else(|| Refusal::not_found("no such conversation"))?;
    let mine = snap.owner.as_deref() == Some(user.as_str())
        || snap.consultants.iter().any(|c| c.user == user && c.joined);
    if !mine {
        return Err(Refusal::forbidden_because(Reason::OwnedByOther {
            owner: snap.owner.clone(),
        }));
    }
    let rows = relay.read(move |c| store::waiting(c, &id)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(id, at, messages, by)| message(id, at, &messages, by))
            .collect::<Vec<_>>(),
    ))
}
