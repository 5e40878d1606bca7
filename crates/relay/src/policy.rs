//! How a handler says who may call it, and how the relay says no.
//!
//! - [`Refusal`]: the one refusal type; renders `{code, message}` with its HTTP status.
//!   Handlers return `Result<_, Refusal>` and use `?`.
//! - Role extractors: [`AnyUser`], [`Supervising`] (supervisor or admin), [`AdminOnly`]. Each
//!   is a [`Caller`] whose role was checked before the handler runs (401 without a live
//!   session, 403 for another role). What a person may see or write (ownership) is decided in
//!   [`crate::access`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use linedesk_protocol::{ApiErrorBody, ErrorCode, Role};

use crate::auth::Caller;
use crate::Relay;

/// A refusal: status, stable code, safe message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code the console branches on.
    pub code: ErrorCode,
    /// Safe to show; names no secret.
    pub message: String,
    /// Refused entries: each field and why, for the console to word.
    pub invalid: Vec<linedesk_protocol::Invalid>,
}

impl Refusal {
    /// Any refusal.
    pub fn new(status: StatusCode, code: ErrorCode, message: &str) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            invalid: Vec::new(),
        }
    }

    /// 400 for an entry the relay cannot take: names the field and why.
    pub fn invalid(invalid: linedesk_protocol::Invalid) -> Self {
        Self::fields(vec![invalid])
    }

    /// 400 for entries the relay cannot take, one line each in the message.
    pub fn fields(invalid: Vec<linedesk_protocol::Invalid>) -> Self {
        Self {
            message: invalid
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            invalid,
            ..Self::bad_request("")
        }
    }

    /// Any refusal whose reason the console words (a field's, or the request's as a whole).
    pub fn because(
        status: StatusCode,
        code: ErrorCode,
        invalid: linedesk_protocol::Invalid,
    ) -> Self {
        Self {
            status,
            code,
            message: invalid.to_string(),
            invalid: vec![invalid],
        }
    }

    /// 403 for the request as a whole, for `reason`.
    pub fn forbidden_because(reason: linedesk_protocol::Reason) -> Self {
        Self::because(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            linedesk_protocol::Invalid::whole(reason),
        )
    }

    /// 400 naming `field` and `reason`.
    pub fn field(field: &str, reason: linedesk_protocol::Reason) -> Self {
        Self::invalid(linedesk_protocol::Invalid::new(field, reason))
    }

    /// 403: the caller may not.
    pub fn forbidden(message: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    /// 404.
    pub fn not_found(message: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    /// 400.
    pub fn bad_request(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    /// 409: lost a race, or no longer applies.
    pub fn conflict(message: &str) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
    }

    /// 500 that logs the cause and tells the caller nothing internal.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "the relay failed; try again",
        )
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ApiErrorBody {
                code: self.code,
                message: self.message,
                invalid: self.invalid,
            }),
        )
            .into_response()
    }
}

impl From<anyhow::Error> for Refusal {
    fn from(e: anyhow::Error) -> Self {
        Self::internal(e)
    }
}

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Self {
        Self::internal(e)
    }
}

/// The roles each extractor admits.
pub trait RoleSet {
    /// Roles admitted.
    const ROLES: &'static [Role];
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $($role:expr),+) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Caller);

        impl RoleSet for $name {
            const ROLES: &'static [Role] = &[$($role),+];
        }

        impl FromRequestParts<Relay> for $name {
            type Rejection = Response;

            async fn from_request_parts(parts: &mut Parts, relay: &Relay) -> Result<Self, Self::Rejection> {
                let caller = Caller::from_request_parts(parts, relay).await?;
                caller
                    .require(Self::ROLES)
                    .map_err(IntoResponse::into_response)?;
                Ok(Self(caller))
            }
        }

        impl std::ops::Deref for $name {
            type Target = Caller;
            fn deref(&self) -> &Caller {
                &self.0
            }
        }
    };
}

role_extractor!(
    /// Anyone signed in.
    AnyUser,
    Role::Rep,
    Role::Supervisor,
    Role::Admin
);
role_extractor!(
    /// A supervisor or an admin.
    Supervising,
    Role::Supervisor,
    Role::Admin
);
role_extractor!(
    /// An admin.
    AdminOnly,
    Role::Admin
);

impl Caller {
    /// The caller as [`crate::access`] sees them.
    pub fn viewer(&self) -> crate::access::Viewer {
        crate::access::Viewer {
            user: self.session.user.name.clone(),
            role: self.session.user.role,
        }
    }
}
