//! The routing API. Representatives: presence, accept/reject, wait, end, close, transfer,
//! consult. Everyone signed in: read agents and conversations. Admins: workstreams, queues,
//! capacity. Every handler checks the caller's role first.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use linedesk_protocol::routing::{
    CommandAnswer, ConsultRequest, ConversationState, PresenceRequest, TransferRequest,
};
use linedesk_protocol::{ErrorCode, Role};
use rusqlite::params;
use serde::Deserialize;

use super::config::{valid_queue_id, Queue, Workstream};
use super::engine::{self, Actor, Command, EngineError};
use super::Routing;
use crate::auth::{internal, refuse, Caller};
use crate::Relay;

const EVERYONE: &[Role] = &[Role::Rep, Role::Supervisor, Role::Admin];
const ADMIN: &[Role] = &[Role::Admin];

pub(crate) fn engine_error(e: EngineError) -> Response {
    let (status, code) = match &e {
        EngineError::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
        EngineError::Conflict(_) => (StatusCode::CONFLICT, ErrorCode::Conflict),
        EngineError::Forbidden(_) => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
        EngineError::BadRequest(_) => (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
        EngineError::Db(_) | EngineError::Write(_) => return internal(e),
    };
    refuse(status, code, &e.to_string())
}

pub(crate) fn bad_request(message: &str) -> Response {
    refuse(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| bad_request(&format!("malformed request: {e}")))
}

/// The caller may do this (one of `roles`) and the body is a `T`; else the refusal to answer.
pub(crate) fn admit<T: serde::de::DeserializeOwned>(
    caller: &Caller,
    roles: &[Role],
    body: &[u8],
) -> Result<T, Response> {
    caller.require(roles)?;
    parse(body)
}

/// A conversation snapshot the viewer may read: one of a chat she may see, or a pick-mode
/// request card of her queue.
fn may_see_snapshot(
    c: &rusqlite::Connection,
    viewer: &crate::access::Viewer,
    snap: &linedesk_protocol::routing::ConversationSnapshot,
    queues: &std::collections::HashMap<String, Queue>,
) -> Result<bool, rusqlite::Error> {
    Ok(
        crate::access::may_see(c, viewer, &snap.channel_id, &snap.chat_id)?
            || crate::access::is_request_card_for(viewer, snap, queues),
    )
}

/// `POST /api/presence`.
pub async fn presence(
    State(relay): State<Relay>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Response {
    let req: PresenceRequest = match admit(&caller, EVERYONE, &body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    match Routing::set_presence(&relay, caller.session.user.name.clone(), req.presence).await {
        Ok(agent) => Json(agent).into_response(),
        Err(e) => engine_error(e),
    }
}

/// `GET /api/agents`.
pub async fn agents(State(relay): State<Relay>, caller: Caller) -> Response {
    if let Err(r) = caller.require(EVERYONE) {
        return r;
    }
    let now = relay.clock().now_ms();
    match relay.read(move |c| engine::agents(c, now)).await {
        Ok(list) => Json(list).into_response(),
        Err(e) => internal(e),
    }
}

/// `PUT /api/agents/{user}` body.
#[derive(Debug, Deserialize)]
pub struct AgentSettings {
    /// Capacity units.
    pub capacity: u32,
}

/// `PUT /api/agents/{user}`.
pub async fn set_agent(
    State(relay): State<Relay>,
    caller: Caller,
    Path(user): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let req: AgentSettings = match admit(&caller, ADMIN, &body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if req.capacity > 100 {
        return bad_request("capacity must be 0 to 100 units");
    }
    match Routing::set_capacity(&relay, user, req.capacity).await {
        Ok(agent) => Json(agent).into_response(),
        Err(e) => engine_error(e),
    }
}

/// `POST /api/conversations/{id}/{action}`.
pub async fn act(
    State(relay): State<Relay>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = caller.require(EVERYONE) {
        return r;
    }
    let cmd = match action.as_str() {
        "accept" => Command::Accept,
        "reject" => Command::Reject,
        "wait" => Command::Wait,
        "end" => Command::End,
        "close" => Command::Close,
        "transfer" => match parse::<TransferRequest>(&body) {
            Ok(TransferRequest {
                to_user: Some(u),
                to_queue: None,
            }) => Command::TransferToUser(u),
            Ok(TransferRequest {
                to_user: None,
                to_queue: Some(q),
            }) => Command::TransferToQueue(q),
            Ok(_) => return bad_request("name exactly one of toUser and toQueue"),
            Err(r) => return r,
        },
        "consult" => match parse::<ConsultRequest>(&body) {
            Ok(r) => Command::Consult(r.user),
            Err(r) => return r,
        },
        "join" => match parse::<ConsultRequest>(&body) {
            Ok(r) => Command::Join(r.user),
            Err(r) => return r,
        },
        _ => return refuse(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such action"),
    };
    let actor = Actor {
        user: caller.session.user.name.clone(),
        role: caller.session.user.role,
    };
    match Routing::command(&relay, actor, id, cmd).await {
        Ok((conversation, warning)) => Json(CommandAnswer {
            conversation,
            warning,
        })
        .into_response(),
        Err(e) => engine_error(e),
    }
}

/// `GET /api/conversations/{id}`.
pub async fn conversation(
    State(relay): State<Relay>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = caller.require(EVERYONE) {
        return r;
    }
    let viewer = caller.viewer();
    let found = relay
        .read(move |c| {
            let queues = crate::access::queues(c)?;
            Ok(engine::snapshot(c, &id)?
                .filter(|s| may_see_snapshot(c, &viewer, s, &queues).unwrap_or(false)))
        })
        .await;
    match found {
        Ok(Some(s)) => Json(s).into_response(),
        Ok(None) => refuse(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no such conversation",
        ),
        Err(e) => internal(e),
    }
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
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Err(r) = caller.require(EVERYONE) {
        return r;
    }
    let state = match q.state.as_deref().map(ConversationState::parse) {
        Some(None) => return bad_request("unknown state"),
        Some(Some(s)) => Some(s.as_str()),
        None => None,
    };
    let viewer = caller.viewer();
    let list = relay
        .read(move |c| {
            let ids: Vec<String> = c
                .prepare_cached(
                    "SELECT id FROM conversations WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR chat_id = ?2)
                     ORDER BY opened_at DESC LIMIT 1000",
                )?
                .query_map(params![state, q.chat], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
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
        .await;
    match list {
        Ok(list) => Json(list).into_response(),
        Err(e) => internal(e),
    }
}

/// `GET /api/workstreams/{channel}`.
pub async fn workstream(
    State(relay): State<Relay>,
    caller: Caller,
    Path(channel): Path<String>,
) -> Response {
    if let Err(r) = caller.require(EVERYONE) {
        return r;
    }
    if relay.registry().get(&channel).is_none() {
        return refuse(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no such channel",
        );
    }
    match relay
        .read(move |c| engine::load_workstream(c, &channel))
        .await
    {
        Ok(ws) => Json(ws).into_response(),
        Err(e) => internal(e),
    }
}

/// `PUT /api/workstreams/{channel}`: the whole workstream; the mode cannot change once saved.
pub async fn put_workstream(
    State(relay): State<Relay>,
    caller: Caller,
    Path(channel): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = caller.require(ADMIN) {
        return r;
    }
    if relay.registry().get(&channel).is_none() {
        return refuse(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no such channel",
        );
    }
    let ws: Workstream = match parse(&body) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let now = relay.clock().now_ms();
    let saved = relay
        .writer()
        .run(move |c| {
            let existing: Option<String> = rusqlite::OptionalExtension::optional(c.query_row(
                "SELECT config FROM workstreams WHERE channel_id = ?1",
                [&channel],
                |r| r.get(0),
            ))?;
            if let Some(old) = existing.and_then(|t| serde_json::from_str::<Workstream>(&t).ok()) {
                if old.mode != ws.mode {
                    return Ok(Err(refuse(
                        StatusCode::CONFLICT,
                        ErrorCode::Conflict,
                        "mode: the distribution mode is fixed once the workstream exists",
                    )));
                }
            }
            let exists = |q: &str| engine::queue_exists(c, q).unwrap_or(false);
            if let Err(e) = ws.validate(&exists) {
                return Ok(Err(bad_request(&e.to_string())));
            }
            c.execute(
                "INSERT INTO workstreams (channel_id, config, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (channel_id) DO UPDATE SET config = ?2, updated_at = ?3",
                params![channel, serde_json::to_string(&ws).unwrap_or_default(), now],
            )?;
            Ok(Ok(ws))
        })
        .await;
    match saved {
        Ok(Ok(ws)) => Json(ws).into_response(),
        Ok(Err(r)) => r,
        Err(e) => internal(e),
    }
}

/// `GET /api/queues`: `[{id, queue}]`.
pub async fn queues(State(relay): State<Relay>, caller: Caller) -> Response {
    if let Err(r) = caller.require(EVERYONE) {
        return r;
    }
    let list = relay
        .read(|c| {
            let mut rows: Vec<(String, String)> = c
                .prepare_cached("SELECT id, config FROM queues ORDER BY id")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
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
        .await;
    match list {
        Ok(rows) => Json(
            rows.into_iter()
                .filter_map(|(id, cfg)| {
                    let q: Queue = serde_json::from_str(&cfg).ok()?;
                    Some(serde_json::json!({"id": id, "queue": q}))
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => internal(e),
    }
}

/// `PUT /api/queues/{id}`.
pub async fn put_queue(
    State(relay): State<Relay>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = caller.require(ADMIN) {
        return r;
    }
    if !valid_queue_id(&id) {
        return bad_request("id: use 1 to 64 letters, digits, - or _");
    }
    let queue: Queue = match parse(&body) {
        Ok(q) => q,
        Err(r) => return r,
    };
    if let Err(e) = queue.validate() {
        return bad_request(&e.to_string());
    }
    let now = relay.clock().now_ms();
    let text = serde_json::to_string(&queue).unwrap_or_default();
    let saved = relay
        .writer()
        .run(move |c| {
            c.execute(
                "INSERT INTO queues (id, config, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET config = ?2, updated_at = ?3",
                params![id, text, now],
            )
            .map(drop)
        })
        .await;
    match saved {
        Ok(()) => Json(queue).into_response(),
        Err(e) => internal(e),
    }
}
