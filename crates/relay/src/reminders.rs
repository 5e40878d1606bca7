//! "Remind me": a representative sets a conversation aside until a time; then the relay
//! reminds her with a `linedeskReminder` log event, which her console turns into a
//! notification. Reminders are rows of `reminders`, so they survive restarts; the routing
//! clock fires the due ones in its own transaction, on the relay that holds the lease, and
//! marks each fired or dropped in that same commit: each reminds once.
//!
//! A reminder goes only while the conversation is still hers and not closed; otherwise it is
//! dropped (a colleague who took it over, or a closed conversation, needs no reminder of hers).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use linedesk_protocol::routing::{
    ConversationState, Reminder, ReminderRequest, REMINDER_EVENT, REMINDER_MAX_MS,
    REMINDER_NOTE_MAX,
};
use linedesk_protocol::{Invalid, Reason};
use serde_json::json;

use crate::auth::Caller;
use crate::policy::{AnyUser, Refusal};
use crate::routing::engine::{self, Actor, Command};
use crate::routing::http::parse;
use crate::routing::Routing;
use crate::store::events::NewEvent;
use crate::store::reminders as store;
use crate::store::sql::Db;
use crate::Relay;

fn answer(row: store::Reminder, chat_id: String) -> Reminder {
    Reminder {
        id: row.id,
        conversation_id: row.conversation_id,
        chat_id,
        at: row.due_at,
        note: row.note,
    }
}

/// `POST /api/conversations/{id}/remind {at, note}`: the owner sets her conversation aside
/// (Active becomes Waiting) and is reminded at `at`.
pub async fn remind(
    relay: &Relay,
    caller: &Caller,
    id: &str,
    body: &[u8],
) -> Result<axum::response::Response, Refusal> {
    let req: ReminderRequest = parse(body)?;
    let now = relay.clock().now_ms();
    let mut bad = Vec::new();
    if req.at <= now || req.at > now + REMINDER_MAX_MS {
        bad.push(Invalid::new(
            "at",
            Reason::Duration {
                min_ms: 1,
                max_ms: REMINDER_MAX_MS,
            },
        ));
    }
    if req.note.chars().count() > REMINDER_NOTE_MAX {
        bad.push(Invalid::new(
            "note",
            Reason::Length {
                min: 0,
                max: REMINDER_NOTE_MAX as u32,
            },
        ));
    }
    if !bad.is_empty() {
        return Err(Refusal::fields(bad));
    }
    let user = caller.session.user.name.clone();
    let key = id.to_owned();
    let snap = relay
        .read(move |c| engine::snapshot(c, &key))
        .await?
        .ok_or_else(|| Refusal::not_found("no such conversation"))?;
    if snap.owner.as_deref() != Some(user.as_str()) {
        // Someone who may not see it is answered as if it did not exist.
        let viewer = caller.viewer();
        let (channel, chat) = (snap.channel_id.clone(), snap.chat_id.clone());
        let may = relay
            .read(move |c| crate::access::may_see(c, &viewer, &channel, &chat))
            .await?;
        if !may {
            return Err(Refusal::not_found("no such conversation"));
        }
        return Err(Refusal::forbidden_because(Reason::OwnedByOther {
            owner: snap.owner.clone(),
        }));
    }
    match snap.state {
        ConversationState::Active => {
            let actor = Actor {
                user: user.clone(),
                role: caller.session.user.role,
            };
            Routing::command(relay, actor, snap.id.clone(), Command::Wait).await?;
        }
        ConversationState::Waiting => {}
        other => {
            return Err(Refusal::because(
                StatusCode::CONFLICT,
                linedesk_protocol::ErrorCode::Conflict,
                Invalid::whole(Reason::NotInState {
                    state: other.as_str().to_owned(),
                }),
            ))
        }
    }
    let row = store::Reminder {
        id: uuid::Uuid::new_v4().to_string(),
        conversation_id: snap.id.clone(),
        user,
        due_at: req.at,
        note: req.note.trim().to_owned(),
    };
    let stored = row.clone();
    relay
        .writer()
        .run(move |c| store::set(c, &stored, now))
        .await
        .map_err(Refusal::internal)?;
    Ok((StatusCode::CREATED, Json(answer(row, snap.chat_id))).into_response())
}

/// `GET /api/reminders`: the caller's reminders still to come.
pub async fn list(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
) -> Result<impl IntoResponse, Refusal> {
    let user = caller.session.user.name.clone();
    let rows = relay
        .read(move |c| {
            let mut out = Vec::new();
            for row in store::pending_of(c, &user)? {
                let chat = engine::snapshot(c, &row.conversation_id)?
                    .map(|s| s.chat_id)
                    .unwrap_or_default();
                out.push(answer(row, chat));
            }
            Ok(out)
        })
        .await?;
    Ok(Json(rows))
}

/// `DELETE /api/reminders/{id}`: one of the caller's own reminders called off; anyone else's
/// is not found.
pub async fn cancel(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Refusal> {
    let user = caller.session.user.name.clone();
    let cancelled = relay
        .writer()
        .run(move |c| store::cancel(c, &user, &id))
        .await
        .map_err(Refusal::internal)?;
    if cancelled {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Refusal::not_found("no such reminder"))
    }
}

/// Fires the reminders due at `now`, in the routing clock's transaction: each logs one
/// `linedeskReminder` event and is marked fired, or is dropped when its conversation closed or
/// is no longer its user's. Answers how many fired.
pub fn fire_due(c: Db<'_>, now: i64) -> Result<usize, crate::store::StoreError> {
    let mut fired = 0;
    for r in store::due(c, now)? {
        let live = engine::snapshot(c, &r.conversation_id)?.filter(|s| {
            s.state != ConversationState::Closed && s.owner.as_deref() == Some(r.user.as_str())
        });
        let Some(snap) = live else {
            store::settle(c, &r.id)?;
            continue;
        };
        let event_id = format!("reminder:{}", r.id);
        let event = json!({
            "type": REMINDER_EVENT, "timestamp": now, "mode": "active",
            "source": engine::source_of(&snap.chat_id),
            "webhookEventId": event_id, "conversationId": snap.id,
            "reminderId": r.id, "user": r.user, "note": r.note, "dueAt": r.due_at,
        });
        crate::store::events::append(
            c,
            &snap.channel_id,
            &[NewEvent {
                webhook_event_id: Some(event_id),
                event_type: REMINDER_EVENT.into(),
                event_ts: now,
                body: event.to_string(),
            }],
            now,
        )?;
        store::settle(c, &r.id)?;
        fired += 1;
    }
    Ok(fired)
}
