//! The routing API. Representatives: presence, accept/reject, wait, end, close, transfer,
//! consult. Everyone signed in: read agents and conversations. Admins: workstreams, queues,
//! capacity. Each handler names who may call it with a role extractor ([`AnyUser`],
//! [`AdminOnly`]) and refuses with a [`Refusal`]; an [`EngineError`] becomes one through `?`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use linedesk_protocol::routing::{
    AssignRequest, CloseRequest, CommandAnswer, ConsultRequest, ConversationState, NoteRequest,
    PresenceRequest, TransferRequest,
};
use serde::Deserialize;

use super::config::{check_queue, check_workstream, valid_queue_id, Queue, Workstream};
use super::engine::{self, Actor, Command, EngineError};
use super::Routing;
use crate::policy::{AdminOnly, AnyUser, Refusal, RoleSet, Supervising};
use crate::store::setup;
use crate::Relay;
use linedesk_protocol::setup::{AgentSettings, QueueEntry};
use linedesk_protocol::{ErrorCode, Reason};

/// A refused command answers with its own status and code; a database or write failure is
/// an internal error (logged, not shown).
impl From<EngineError> for Refusal {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NotFound(i) => {
                Refusal::because(StatusCode::NOT_FOUND, ErrorCode::NotFound, i)
            }
            EngineError::Conflict(i) => {
                Refusal::because(StatusCode::CONFLICT, ErrorCode::Conflict, i)
            }
            EngineError::Forbidden(i) => {
                Refusal::because(StatusCode::FORBIDDEN, ErrorCode::Forbidden, i)
            }
            // A name already taken is a conflict with what exists, still worded per field.
            EngineError::Invalid(i) if i.reason == Reason::Taken => Refusal {
                status: axum::http::StatusCode::CONFLICT,
                code: linedesk_protocol::ErrorCode::Conflict,
                ..Refusal::invalid(i)
            },
            EngineError::Invalid(i) => Refusal::invalid(i),
            other @ (EngineError::Db(_) | EngineError::Write(_) | EngineError::Internal(_)) => {
                Refusal::internal(other)
            }
        }
    }
}

/// The body as a `T`, or a 400 naming the field that is wrong (its path in the body, as the
/// console's forms name their fields) or, when the body is not JSON at all, why.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    let mut json = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let field = e.path().to_string();
        if field.is_empty() || field == "." || e.inner().is_syntax() || e.inner().is_eof() {
            Refusal::bad_request(&format!("malformed request: {}", e.inner()))
        } else {
            Refusal::field(&field, Reason::Malformed)
        }
    })
}

/// A conversation snapshot the viewer may read: one of a chat she may see, or a pick-mode
/// request card of her queue.
fn may_see_snapshot(
    c: crate::store::sql::Db<'_>,
    viewer: &crate::access::Viewer,
    snap: &linedesk_protocol::routing::ConversationSnapshot,
    queues: &std::collections::HashMap<String, Queue>,
) -> Result<bool, crate::store::StoreError> {
    Ok(
        crate::access::may_see(c, viewer, &snap.channel_id, &snap.chat_id)?
            || (snap.state == ConversationState::Open
                && crate::access::is_request_card_for(viewer, snap, queues)),
    )
}

/// `POST /api/presence`.
pub async fn presence(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Refusal> {
    let req: PresenceRequest = parse(&body)?;
    let agent =
        Routing::set_presence(&relay, caller.session.user.name.clone(), req.presence).await?;
    Ok(Json(agent))
}

/// `GET /api/agents`.
pub async fn agents(State(relay): State<Relay>, _: AnyUser) -> Result<impl IntoResponse, Refusal> {
    let now = relay.clock().now_ms();
    let list = relay.read(move |c| engine::agents(c, now)).await?;
    Ok(Json(list))
}

/// `PUT /api/agents/{user}`.
pub async fn set_agent(
    State(relay): State<Relay>,
    _: AdminOnly,
    Path(user): Path<String>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Refusal> {
    let req: AgentSettings = parse(&body)?;
    if req.capacity > 100 {
        return Err(Refusal::field(
            "capacity",
            Reason::Range { min: 0, max: 100 },
        ));
    }
    let agent = Routing::set_capacity(&relay, user, req.capacity).await?;
    Ok(Json(agent))
}

/// `POST /api/conversations/{id}/{action}`.
pub async fn act(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    Path((id, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<axum::response::Response, Refusal> {
    // What the customer sees of the representative: LINE's loading animation, "read".
    if matches!(action.as_str(), "typing" | "read") {
        return crate::signals::signal(&relay, &caller, &id, &action)
            .await
            .map(IntoResponse::into_response);
    }
    // A message the relay sends later, at the time the representative chose.
    if matches!(action.as_str(), "later" | "later-cancel") {
        return crate::later::act(&relay, &caller, &id, &action, &body).await;
    }
    // Collision: who else has it open, who types.
    if action == "viewing" {
        return crate::viewers::viewing(&relay, &caller, &id, &body)
            .await
            .map(IntoResponse::into_response);
    }
    // "Remind me": set aside until a time.
    if action == "remind" {
        return crate::reminders::remind(&relay, &caller, &id, &body).await;
    }
    // Supervisors' own actions: a representative is refused before anything is looked up.
    if matches!(action.as_str(), "assign" | "monitor" | "whisper") {
        caller.require(<Supervising as RoleSet>::ROLES)?;
    }
    let cmd = match action.as_str() {
        "accept" => Command::Accept,
        "reject" => Command::Reject,
        "wait" => Command::Wait,
        "end" => Command::End,
        // No body is no reason (the owner's own close).
        "close" => Command::Close(if body.is_empty() {
            None
        } else {
            parse::<CloseRequest>(&body)?.reason
        }),
        "assign" => Command::Assign(parse::<AssignRequest>(&body)?.to_user),
        "monitor" => Command::Monitor,
        "note" => Command::Note {
            text: parse::<NoteRequest>(&body)?.text,
            whisper: false,
        },
        "whisper" => Command::Note {
            text: parse::<NoteRequest>(&body)?.text,
            whisper: true,
        },
        "transfer" => match parse::<TransferRequest>(&body)? {
            TransferRequest {
                to_user: Some(u),
                to_queue: None,
            } => Command::TransferToUser(u),
            TransferRequest {
                to_user: None,
                to_queue: Some(q),
            } => Command::TransferToQueue(q),
            _ => {
                return Err(Refusal::bad_request(
                    "name exactly one of toUser and toQueue",
                ))
            }
        },
        "consult" => Command::Consult(parse::<ConsultRequest>(&body)?.user),
        "join" => Command::Join(parse::<ConsultRequest>(&body)?.user),
        _ => return Err(Refusal::not_found("no such action")),
    };
    let actor = Actor {
        user: caller.session.user.name.clone(),
        role: caller.session.user.role,
    };
    let (conversation, warning) = Routing::command(&relay, actor, id, cmd).await?;
    Ok(Json(CommandAnswer {
        conversation,
        warning,
    })
    .into_response())
}

/// `POST /api/conversations/{id}/later` (its own route beside the GET of what waits).
pub async fn act_later(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<axum::response::Response, Refusal> {
    crate::later::act(&relay, &caller, &id, "later", &body).await
}

/// `GET /api/conversations/{id}`.
pub async fn conversation(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Refusal> {
    let viewer = caller.viewer();
    let found = relay
        .read(move |c| {
            let queues = crate::access::queues(c)?;
            Ok(engine::snapshot(c, &id)?
                .filter(|s| may_see_snapshot(c, &viewer, s, &queues).unwrap_or(false)))
        })
        .await?;
    found
        .map(Json)
        .ok_or_else(|| Refusal::not_found("no such conversation"))
}

/// `GET /api/conversations` query.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Only this state.
    pub state: Option<String>,
    /// Only this chat.
    pub chat: Option<String>,
}

/// `GET /api/conversations?state=open&chat=…`: at most 1,000, newest first.
pub async fn conversations(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, Refusal> {
    let state = match q.state.as_deref().map(ConversationState::parse) {
        Some(None) => return Err(Refusal::bad_request("unknown state")),
        Some(Some(s)) => Some(s.as_str()),
        None => None,
    };
    let viewer = caller.viewer();
    let list = relay
        .read(move |c| {
            let ids: Vec<String> = setup::conversation_ids(c, state, q.chat.as_deref())?;
            let queues = crate::access::queues(c)?;
            let mut out = Vec::new();
            for id in &ids {
                if let Some(s) = engine::snapshot(c, id)? {
                    if may_see_snapshot(c, &viewer, &s, &queues)? {
                        out.push(s);
                    }
                }
            }
            Ok(out)
        })
        .await?;
    Ok(Json(list))
}

/// 404 unless the relay serves `channel`.
fn known_channel(relay: &Relay, channel: &str) -> Result<(), Refusal> {
    match relay.registry().get(channel) {
        Some(_) => Ok(()),
        None => Err(Refusal::not_found("no such channel")),
    }
}

/// `GET /api/workstreams/{channel}`.
pub async fn workstream(
    State(relay): State<Relay>,
    _: AnyUser,
    Path(channel): Path<String>,
) -> Result<impl IntoResponse, Refusal> {
    known_channel(&relay, &channel)?;
    let ws = relay
        .read(move |c| engine::load_workstream(c, &channel))
        .await?;
    Ok(Json(ws))
}

/// `PUT /api/workstreams/{channel}`: the whole workstream; the mode cannot change once saved.
pub async fn put_workstream(
    State(relay): State<Relay>,
    _: AdminOnly,
    Path(channel): Path<String>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Refusal> {
    known_channel(&relay, &channel)?;
    let ws: Workstream = parse(&body)?;
    let now = relay.clock().now_ms();
    let saved = relay
        .writer()
        .run(move |c| {
            let existing: Option<String> = setup::workstream_config(c, &channel)?;
            if let Some(old) = existing.and_then(|t| serde_json::from_str::<Workstream>(&t).ok()) {
                if old.mode != ws.mode {
                    // 409: the request was well-formed, but the saved workstream forbids it.
                    let conflict = Refusal::conflict("");
                    return Ok(Err(Refusal {
                        status: conflict.status,
                        code: conflict.code,
                        ..Refusal::field("mode", Reason::Fixed)
                    }));
                }
            }
            let exists = |q: &str| engine::queue_exists(c, q).unwrap_or(false);
            if let Err(e) = check_workstream(&ws, &exists) {
                return Ok(Err(Refusal::invalid(e)));
            }
            setup::save_workstream(
                c,
                &channel,
                &serde_json::to_string(&ws).unwrap_or_default(),
                now,
            )?;
            Ok(Ok(ws))
        })
        .await
        .map_err(Refusal::internal)??;
    Ok(Json(saved))
}

/// `POST /api/workstreams/{channel}/test` (admin): which queue a sample message and customer
/// reach under the rules the form holds, as routing would decide now.
pub async fn test_rule(
    State(relay): State<Relay>,
    _: AdminOnly,
    Path(channel): Path<String>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Refusal> {
    known_channel(&relay, &channel)?;
    let test: linedesk_protocol::setup::RuleTest = parse(&body)?;
    if test.text.chars().count() > 5_000 {
        return Err(Refusal::field(
            "text",
            Reason::Length { min: 0, max: 5_000 },
        ));
    }
    for (i, rule) in test.workstream.rules.iter().enumerate() {
        super::config::check_rule(rule, &|_| true)
            .map_err(|e| Refusal::field(&format!("rules[{i}].{}", e.field), e.reason))?;
    }
    let facts = super::rules::Facts {
        channel_id: &channel,
        language: test.language.as_deref().filter(|l| !l.is_empty()),
        text: Some(test.text.as_str()),
        following: Some(test.following),
        now_ms: relay.clock().now_ms(),
        contact: test.contact.as_ref(),
    };
    let ws = &test.workstream;
    let chosen = super::rules::choose(&ws.rules, &facts);
    let rule = chosen.map(|(_, r)| r);
    let queues = match rule {
        Some(r) if !r.split.is_empty() => r.split.clone(),
        Some(r) => vec![linedesk_protocol::setup::Share {
            queue: r.queue.clone(),
            percent: 100,
        }],
        None => vec![linedesk_protocol::setup::Share {
            queue: ws.fallback_queue.clone(),
            percent: 100,
        }],
    };
    Ok(Json(linedesk_protocol::setup::RuleTestAnswer {
        rule: chosen.map(|(i, _)| i as u32),
        rule_name: rule.map(|r| r.name.clone()),
        queues,
        required_skills: rule.map(|r| r.required_skills.clone()).unwrap_or_default(),
        skill_match: rule.map(|r| r.skill_match).unwrap_or_default(),
    }))
}

/// `GET /api/queues`: `[{id, queue}]`.
pub async fn queues(State(relay): State<Relay>, _: AnyUser) -> Result<impl IntoResponse, Refusal> {
    let rows = relay
        .read(|c| {
            let mut rows: Vec<(String, String)> = setup::queues(c)?;
            if !rows
                .iter()
                .any(|(id, _)| id == super::config::DEFAULT_QUEUE)
            {
                rows.insert(
                    0,
                    (
                        super::config::DEFAULT_QUEUE.into(),
                        serde_json::to_string(&Queue::default()).unwrap_or_default(),
                    ),
                );
            }
            Ok(rows)
        })
        .await?;
    Ok(Json(
        rows.into_iter()
            .filter_map(|(id, cfg)| {
                let q: Queue = serde_json::from_str(&cfg).ok()?;
                Some(QueueEntry { id, queue: q })
            })
            .collect::<Vec<_>>(),
    ))
}

/// `PUT /api/queues/{id}`.
pub async fn put_queue(
    State(relay): State<Relay>,
    _: AdminOnly,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Refusal> {
    if !valid_queue_id(&id) {
        return Err(Refusal::field("id", Reason::Identifier));
    }
    let queue: Queue = parse(&body)?;
    let now = relay.clock().now_ms();
    let text = serde_json::to_string(&queue).unwrap_or_default();
    relay
        .writer()
        .run(move |c| {
            let exists = |q: &str| engine::queue_exists(c, q).unwrap_or(false);
            if let Err(e) = check_queue(&id, &queue, &exists) {
                return Ok(Err(Refusal::invalid(e)));
            }
            setup::save_queue(c, &id, &text, now)?;
            Ok(Ok(queue))
        })
        .await
        .map_err(Refusal::internal)?
        .map(Json)
}
