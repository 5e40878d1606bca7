//! Users and roles (admin): add, edit (role, capacity, queues, skills), reset a password,
//! remove. Capacity lives with routing's agents, queue membership in each queue's members.
//! Every handler takes [`AdminOnly`].

use crate::store::sql::Db;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use linedesk_protocol::identity::{NewUser, UserInfo, UserUpdate};
use linedesk_protocol::{Invalid, Reason, Role};

use crate::policy::{AdminOnly, Refusal};
use crate::routing::config::{Queue, DEFAULT_QUEUE};
use crate::routing::engine::EngineError;
use crate::routing::http::parse;
use crate::routing::Routing;
use crate::store::users::{self, UserError};
use crate::Relay;

fn user_error(e: UserError) -> EngineError {
    match e {
        UserError::Sqlite(e) => EngineError::Db(e.into()),
        UserError::Store(e) => EngineError::Db(e),
        UserError::Exists(_) => EngineError::Invalid(Invalid::new("name", Reason::Taken)),
        UserError::BadName => {
            EngineError::Invalid(Invalid::new("name", Reason::Length { min: 1, max: 64 }))
        }
        UserError::WeakPassword => {
            EngineError::Invalid(Invalid::new("password", Reason::TooShort { min: 8 }))
        }
        UserError::Hash => EngineError::Internal(e.to_string()),
    }
}

fn info(conn: Db<'_>, name: &str) -> Result<Option<UserInfo>, crate::store::StoreError> {
    let row: Option<(String, String)> = users::role_and_skills(conn, name)?;
    let Some((role, skills)) = row else {
        return Ok(None);
    };
    let capacity: u32 = users::capacity(conn, name)?.unwrap_or(3);
    let mut queues = Vec::new();
    for (id, q) in all_queues(conn)? {
        if q.members.iter().any(|m| m == name) {
            queues.push(id);
        }
    }
    Ok(Some(UserInfo {
        name: name.to_owned(),
        role: Role::parse(&role).unwrap_or(Role::Rep),
        capacity,
        queues,
        skills: serde_json::from_str(&skills).unwrap_or_default(),
    }))
}

fn all_queues(conn: Db<'_>) -> Result<Vec<(String, Queue)>, crate::store::StoreError> {
    Ok(crate::store::setup::queues(conn)?
        .into_iter()
        .map(|(id, c)| (id, serde_json::from_str(&c).unwrap_or_default()))
        .collect())
}

fn set_queues(conn: Db<'_>, name: &str, wanted: &[String], now: i64) -> Result<(), EngineError> {
    let mut queues = all_queues(conn)?;
    // The general queue exists before anyone saved it.
    if !queues.iter().any(|(id, _)| id == DEFAULT_QUEUE) {
        queues.push((DEFAULT_QUEUE.to_owned(), Queue::default()));
    }
    for w in wanted {
        if !queues.iter().any(|(id, _)| id == w) {
            return Err(EngineError::Invalid(Invalid::new(
                "queues",
                Reason::NoSuchQueue,
            )));
        }
    }
    for (id, mut q) in queues {
        let member = q.members.iter().any(|m| m == name);
        let want = wanted.contains(&id);
        if member == want {
            continue;
        }
        if want {
            q.members.push(name.to_owned());
        } else {
            q.members.retain(|m| m != name);
        }
        crate::store::setup::save_queue(
            conn,
            &id,
            &serde_json::to_string(&q).unwrap_or_default(),
            now,
        )?;
    }
    Ok(())
}

fn check_skills(skills: &[String]) -> Result<String, EngineError> {
    if skills.len() > 30 {
        return Err(EngineError::Invalid(Invalid::new(
            "skills",
            Reason::Count { min: 0, max: 30 },
        )));
    }
    if skills
        .iter()
        .any(|s| s.trim().is_empty() || s.chars().count() > 40)
    {
        return Err(EngineError::Invalid(Invalid::new(
            "skills",
            Reason::Length { min: 1, max: 40 },
        )));
    }
    Ok(
        serde_json::to_string(&skills.iter().map(|s| s.trim()).collect::<Vec<_>>())
            .unwrap_or_default(),
    )
}

/// `GET /api/users` (admin).
pub async fn list(State(relay): State<Relay>, _: AdminOnly) -> Result<impl IntoResponse, Refusal> {
    let result = relay
        .read(|c| {
            let names: Vec<String> = users::names(c)?;
            let mut out = Vec::new();
            for n in names {
                out.extend(info(c, &n)?);
            }
            Ok(out)
        })
        .await?;
    Ok(Json(result))
}

/// `POST /api/users` (admin).
pub async fn add(
    State(relay): State<Relay>,
    _: AdminOnly,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Refusal> {
    let req: NewUser = parse(&body)?;
    if req.capacity.is_some_and(|c| c > 100) {
        return Err(Refusal::field(
            "capacity",
            Reason::Range { min: 0, max: 100 },
        ));
    }
    // argon2 takes tens of milliseconds: hashed here, not on the writer thread.
    let hash = tokio::task::spawn_blocking({
        let p = req.password.clone();
        move || users::hash_password(&p)
    })
    .await
    .map_err(Refusal::internal)?
    .map_err(user_error)?;
    let user = Routing::decide(&relay, move |tx| {
        let name = req.name.trim().to_owned();
        let c = tx.conn();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(user_error(UserError::BadName));
        }
        let skills = check_skills(req.skills.as_deref().unwrap_or_default())?;
        match users::add_hashed(c, &name, req.role, &hash, tx.now(), &skills) {
            Ok(_) => {}
            Err(e) if users::is_constraint_violation(&e) => {
                return Err(user_error(UserError::Exists(name)))
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(q) = &req.queues {
            set_queues(c, &name, q, tx.now())?;
        }
        tx.set_capacity(&name, req.capacity.unwrap_or(3))?;
        info(c, &name)?.ok_or_else(|| EngineError::not_found(Reason::NoSuchUser))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// `PUT /api/users/{name}` (admin): role, password reset, capacity, queues, skills.
pub async fn update(
    State(relay): State<Relay>,
    AdminOnly(caller): AdminOnly,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Refusal> {
    let req: UserUpdate = parse(&body)?;
    if req.capacity.is_some_and(|c| c > 100) {
        return Err(Refusal::field(
            "capacity",
            Reason::Range { min: 0, max: 100 },
        ));
    }
    if name == caller.session.user.name && req.role.is_some_and(|r| r != Role::Admin) {
        return Err(Refusal::field("role", Reason::OwnRole));
    }
    let hash = match req.password.clone() {
        Some(p) => Some(
            tokio::task::spawn_blocking(move || users::hash_password(&p))
                .await
                .map_err(Refusal::internal)?
                .map_err(user_error)?,
        ),
        None => None,
    };
    let (user, ended) = Routing::decide(&relay, move |tx| {
        let c = tx.conn();
        if info(c, &name)?.is_none() {
            return Err(EngineError::not_found(Reason::NoSuchUser));
        }
        let mut ended = None;
        if let Some(role) = req.role {
            let changed = users::set_role(c, &name, role)?;
            if changed {
                // What the user may see changes with the role: sign in again.
                users::end_user_sessions(c, &name)?;
                ended = Some("your role changed; sign in again");
            }
        }
        if let Some(hash) = hash {
            users::set_password_hash(c, &name, &hash)?;
            // A reset ends every session of the user.
            users::end_user_sessions(c, &name)?;
            ended = Some("your password was reset; sign in again");
        }
        if let Some(skills) = &req.skills {
            let s = check_skills(skills)?;
            users::set_skills(c, &name, &s)?;
        }
        if let Some(q) = &req.queues {
            set_queues(c, &name, q, tx.now())?;
        }
        if let Some(cap) = req.capacity {
            tx.set_capacity(&name, cap)?;
        }
        let user = info(c, &name)?.ok_or_else(|| EngineError::not_found(Reason::NoSuchUser))?;
        Ok((user, ended))
    })
    .await?;
    if let Some(reason) = ended {
        relay.sessions().end_user(&user.name, reason);
    }
    Ok(Json(user))
}

/// `DELETE /api/users/{name}` (admin): not oneself, not while they hold conversations.
pub async fn remove(
    State(relay): State<Relay>,
    AdminOnly(caller): AdminOnly,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, Refusal> {
    if name == caller.session.user.name {
        return Err(Refusal::because(
            StatusCode::CONFLICT,
            linedesk_protocol::ErrorCode::Conflict,
            Invalid::new("name", Reason::Yourself),
        ));
    }
    let removed = Routing::decide(&relay, move |tx| {
        let c = tx.conn();
        let holds: bool = users::holds_conversations(c, &name)?;
        if holds {
            return Err(EngineError::conflict(Reason::OpenConversations));
        }
        set_queues(c, &name, &[], tx.now())?;
        users::remove_agent(c, &name)?;
        if !users::remove(c, &name)? {
            return Err(EngineError::not_found(Reason::NoSuchUser));
        }
        Ok(name)
    })
    .await?;
    relay
        .sessions()
        .end_user(&removed, "your account was removed");
    Ok(StatusCode::NO_CONTENT)
}
