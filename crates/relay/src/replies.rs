//! The quick-reply API. Anyone signed in lists the team's replies and their own, and keeps
//! their own; the team's are kept by supervisors and admins. Someone else's own reply is not
//! found, whoever asks.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use linedesk_protocol::replies::{
    language_tag, QuickReply, QuickReplyImage, QuickReplyInput, MAX_LANGUAGES, MAX_REPLIES,
    MAX_TEXT, MAX_TITLE,
};
use linedesk_protocol::{Invalid, Reason, Role};

use crate::auth::Caller;
use crate::policy::{AnyUser, Refusal};
use crate::routing::http::parse;
use crate::store::replies as store;
use crate::Relay;

/// What is wrong with a reply as written, field by field.
pub fn check(input: &QuickReplyInput) -> Vec<Invalid> {
    let mut bad = Vec::new();
    let title = input.title.trim().chars().count();
    if title == 0 || title > MAX_TITLE as usize {
        bad.push(Invalid::new(
            "title",
            Reason::Length {
                min: 1,
                max: MAX_TITLE,
            },
        ));
    }
    if input.texts.is_empty() || input.texts.len() > MAX_LANGUAGES as usize {
        bad.push(Invalid::new(
            "texts",
            Reason::Count {
                min: 1,
                max: MAX_LANGUAGES,
            },
        ));
    }
    for (lang, text) in &input.texts {
        if !language_tag(lang) {
            bad.push(Invalid::new(format!("texts.{lang}"), Reason::Malformed));
            continue;
        }
        let units = text.encode_utf16().count();
        if text.trim().is_empty() || units > MAX_TEXT as usize {
            bad.push(Invalid::new(
                format!("texts.{lang}"),
                Reason::Length {
                    min: 1,
                    max: MAX_TEXT,
                },
            ));
        }
    }
    if input.image.as_ref().is_some_and(|i| i.token().is_none()) {
        bad.push(Invalid::new("image", Reason::Malformed));
    }
    bad
}

/// Refuses a picture that is not one the caller uploaded to this relay for a reply, at the
/// address the relay gave (`base`: the one LINE will fetch from).
fn image_refusal(
    c: crate::store::sql::Db<'_>,
    image: Option<&QuickReplyImage>,
    user: &str,
    base: &str,
) -> Result<Option<Refusal>, crate::store::StoreError> {
    let Some(image) = image else {
        return Ok(None);
    };
    let ours = image
        .token()
        .filter(|t| image.url == format!("{base}/o/{t}"));
    let Some(token) = ours else {
        return Ok(Some(Refusal::field("image", Reason::Malformed)));
    };
    Ok((!store::is_reply_picture(c, token, user)?)
        .then(|| Refusal::field("image", Reason::Malformed)))
}

fn keeps_team(caller: &Caller) -> bool {
    matches!(caller.session.user.role, Role::Supervisor | Role::Admin)
}

/// Whether `caller` may change `reply` (`Err`: how to refuse).
fn may_change(caller: &Caller, reply: &QuickReply) -> Result<(), Refusal> {
    if reply.team {
        if keeps_team(caller) {
            Ok(())
        } else {
            Err(Refusal::forbidden_because(Reason::SupervisorOnly))
        }
    } else if reply.owner.as_deref() == Some(caller.session.user.name.as_str()) {
        Ok(())
    } else {
        // Someone else's own: as if it did not exist.
        Err(Refusal::not_found("no such quick reply"))
    }
}

/// Reply `id`, when `caller` may change it (else how to refuse).
fn changeable(
    c: crate::store::sql::Db<'_>,
    caller: &Caller,
    id: i64,
) -> Result<Result<QuickReply, Refusal>, crate::store::StoreError> {
    Ok(match store::get(c, id)? {
        None => Err(Refusal::not_found("no such quick reply")),
        Some(old) => may_change(caller, &old).map(|()| old),
    })
}

fn trimmed(input: QuickReplyInput) -> (String, BTreeMap<String, String>, Option<QuickReplyImage>) {
    (input.title.trim().to_owned(), input.texts, input.image)
}

/// `GET /api/quick-replies`.
pub async fn list(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
) -> Result<impl IntoResponse, Refusal> {
    let user = caller.session.user.name.clone();
    Ok(Json(relay.read(move |c| store::visible(c, &user)).await?))
}

/// `POST /api/quick-replies`.
pub async fn add(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Refusal> {
    let base = crate::request_base(&relay, &headers);
    let user = caller.session.user.name.clone();
    let input: QuickReplyInput = parse(&body)?;
    if input.team && !keeps_team(&caller) {
        return Err(Refusal::forbidden_because(Reason::SupervisorOnly));
    }
    let bad = check(&input);
    if !bad.is_empty() {
        return Err(Refusal::fields(bad));
    }
    let owner = (!input.team).then(|| caller.session.user.name.clone());
    let now = relay.clock().now_ms();
    let (title, texts, image) = trimmed(input);
    let added = relay
        .writer()
        .run(move |c| {
            if let Some(refusal) = image_refusal(c, image.as_ref(), &user, &base)? {
                return Ok(Err(refusal));
            }
            if store::count(c, owner.as_deref())? >= i64::from(MAX_REPLIES) {
                return Ok(Err(Refusal::field(
                    "",
                    Reason::Count {
                        min: 0,
                        max: MAX_REPLIES,
                    },
                )));
            }
            Ok(Ok(store::insert(
                c,
                owner.as_deref(),
                &title,
                &texts,
                image.as_ref(),
                now,
            )?))
        })
        .await
        .map_err(Refusal::internal)??;
    Ok((StatusCode::CREATED, Json(added)))
}

/// `PUT /api/quick-replies/{id}`.
pub async fn update(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    Path(id): Path<i64>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Refusal> {
    let base = crate::request_base(&relay, &headers);
    let user = caller.session.user.name.clone();
    let input: QuickReplyInput = parse(&body)?;
    let bad = check(&input);
    if !bad.is_empty() {
        return Err(Refusal::fields(bad));
    }
    let now = relay.clock().now_ms();
    let (title, texts, image) = trimmed(input);
    let changed = relay
        .writer()
        .run(move |c| {
            if let Err(refusal) = changeable(c, &caller, id)? {
                return Ok(Err(refusal));
            }
            // A picture the reply already has stays acceptable, whoever uploaded it.
            let kept = store::get(c, id)?.and_then(|r| r.image) == image;
            if !kept {
                if let Some(refusal) = image_refusal(c, image.as_ref(), &user, &base)? {
                    return Ok(Err(refusal));
                }
            }
            Ok(store::update(c, id, &title, &texts, image.as_ref(), now)?
                .ok_or_else(|| Refusal::not_found("no such quick reply")))
        })
        .await
        .map_err(Refusal::internal)??;
    Ok(Json(changed))
}

/// `DELETE /api/quick-replies/{id}`.
pub async fn remove(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, Refusal> {
    relay
        .writer()
        .run(move |c| {
            if let Err(refusal) = changeable(c, &caller, id)? {
                return Ok(Err(refusal));
            }
            store::remove(c, id)?;
            Ok(Ok(()))
        })
        .await
        .map_err(Refusal::internal)??;
    Ok(StatusCode::NO_CONTENT)
}
