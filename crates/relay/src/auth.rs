//! Login, sessions, and [`Caller`]: the authenticated user behind an API request.
//!
//! Every `/api` route takes a [`Caller`] (401 without a live session), most through a role
//! extractor of [`crate::policy`] ([`AnyUser`](crate::policy::AnyUser),
//! [`Supervising`](crate::policy::Supervising), [`AdminOnly`](crate::policy::AdminOnly)) that
//! checks the role with [`Caller::require`] before the handler runs (403 otherwise). A handler
//! whose role depends on the action in its path calls [`Caller::require`] itself. Errors are
//! `{code, message}` bodies.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use linedesk_protocol::{ApiErrorBody, ErrorCode, LoginRequest, LoginResponse, Role};

use crate::policy::Refusal;
use crate::store::{self, users};
use crate::Relay;

/// An error answer with a stable code.
pub fn refuse(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    (
        status,
        Json(ApiErrorBody {
            code,
            message: message.into(),
            invalid: Vec::new(),
        }),
    )
        .into_response()
}

/// A 500 that logs the cause and tells the caller nothing internal.
pub fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "internal error");
    refuse(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Internal,
        "the relay failed; try again",
    )
}

/// The signed-in user of a request. `Debug` leaves the bearer token out.
#[derive(Clone)]
pub struct Caller {
    /// Session details.
    pub session: users::Session,
    /// The bearer token (to end the session).
    pub token: String,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("user", &self.session.user.name)
            .field("role", &self.session.user.role)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl Caller {
    /// `Ok` if the caller has one of `roles`, else a 403 to return.
    pub fn require(&self, roles: &[Role]) -> Result<(), Refusal> {
        if roles.contains(&self.session.user.role) {
            Ok(())
        } else {
            Err(Refusal::forbidden("your role may not do this"))
        }
    }
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Looks a token up; `None` if unknown or expired.
pub async fn session_for(relay: &Relay, token: &str) -> anyhow::Result<Option<users::Session>> {
    let token = token.to_owned();
    let now = store::now_ms();
    relay.read(move |c| users::session(c, &token, now)).await
}

impl FromRequestParts<Relay> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, relay: &Relay) -> Result<Self, Self::Rejection> {
        let unauth = || {
            refuse(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "sign in first",
            )
        };
        let token = bearer(&parts.headers).ok_or_else(unauth)?.to_owned();
        match session_for(relay, &token).await {
            Ok(Some(session)) => Ok(Caller { session, token }),
            Ok(None) => Err(unauth()),
            Err(e) => Err(internal(e)),
        }
    }
}

/// `POST /api/login`.
pub async fn login(State(relay): State<Relay>, peer: Peer, body: axum::body::Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<LoginRequest>(&body) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "expected {\"user\", \"password\"}",
        );
    };
    let LoginRequest {
        user,
        password,
        device,
    } = req;
    // Throttled before any hashing (crate::throttle).
    if let Err(wait) = relay.throttle().admit(&user, peer.0) {
        let secs = wait.as_secs() + 1;
        tracing::warn!(user = %user, peer = ?peer.0, "sign-in throttled");
        let mut resp = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            &format!("too many sign-in attempts; try again in {secs} s"),
        );
        resp.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(secs),
        );
        return resp;
    }
    let _turn = relay.throttle().hashing().await;
    // argon2 takes tens of milliseconds: run on the blocking pool via the reader.
    let checked = relay
        .read(move |c| users::check_password(c, &user, &password))
        .await;
    let user = match checked {
        Ok(Some(user)) => user,
        Ok(None) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "wrong user name or password",
            )
        }
        Err(e) => return internal(e),
    };
    let ttl = relay.session_ttl_ms();
    let user_id = user.id;
    let created = relay
        .writer()
        .run(move |c| users::create_session(c, user_id, device.as_deref(), store::now_ms(), ttl))
        .await;
    match created {
        Ok((token, expires_at)) => {
            tracing::info!(user = %user.name, "signed in");
            Json(LoginResponse {
                token,
                expires_at,
                user: user.name,
                role: user.role,
            })
            .into_response()
        }
        Err(e) => internal(e),
    }
}

/// The peer's IP address, when the server recorded it (`into_make_service_with_connect_info`).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// `POST /api/logout`: ends the caller's session.
pub async fn logout(State(relay): State<Relay>, caller: Caller) -> Response {
    let token = caller.token;
    let hash = users::hash_token(&token);
    match relay
        .writer()
        .run(move |c| users::end_session(c, &token))
        .await
    {
        Ok(()) => {
            relay.sessions().end_session(hash);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => internal(e),
    }
}
