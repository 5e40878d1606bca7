//! The Messaging API as LINE answers it (REFERENCE.md §3–§13; `openapi/messaging-api.yml`,
//! `openapi/channel-access-token.yml`). Bodies are checked the way LINE checks them, and every
//! bot message is recorded against the customer who received it.
//!
//! One deliberate leniency: media URLs and webhook endpoints must be HTTPS, as on LINE, except
//! on loopback hosts, so tests and the demo can run without certificates.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::faults::line_error;
use crate::state::{AcceptedKey, Received, Via};
use crate::{now_ms, Sim};

/// Routes that need a bearer token, and the OAuth routes that do not.
pub fn router(sim: Sim) -> Router {
    let bearer = Router::new()
        .route("/v2/bot/message/reply", post(reply))
        .route("/v2/bot/message/push", post(push))
        .route("/v2/bot/message/{id}/content", get(content))
        .route("/v2/bot/message/{id}/content/transcoding", get(transcoding))
        .route("/v2/bot/message/{id}/content/preview", get(preview))
        .route("/v2/bot/profile/{user_id}", get(profile))
        .route("/v2/bot/chat/loading/start", post(loading))
        .route("/v2/bot/chat/markAsRead", post(mark_as_read))
        .route("/v2/bot/info", get(bot_info))
        .route(
            "/v2/bot/channel/webhook/endpoint",
            get(get_webhook).put(set_webhook),
        )
        .route("/v2/bot/channel/webhook/test", post(test_webhook))
        .route("/v2/bot/message/quota", get(quota))
        .route("/v2/bot/message/quota/consumption", get(consumption))
        .route_layer(middleware::from_fn_with_state(sim.clone(), require_bearer));
    Router::new()
        .merge(bearer)
        .route("/oauth2/v3/token", post(issue_stateless))
        .route("/v2/oauth/verify", post(verify_token))
        .layer(middleware::from_fn_with_state(
            sim.clone(),
            crate::faults::layer,
        ))
        .with_state(sim)
}

async fn require_bearer(
    State(sim): State<Sim>,
    req: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let ok = token.is_some_and(|t| sim.state().is_valid_token(&t));
    if !ok {
        return line_error(
            StatusCode::UNAUTHORIZED,
            "Authentication failed. Confirm that the access token in the authorization header is valid.",
        );
    }
    next.run(req).await
}

fn bad_request(message: &str, property: Option<&str>) -> Response {
    match property {
        Some(p) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "The request body has 1 error(s)", "details": [{"message": message, "property": p}]})),
        )
            .into_response(),
        None => line_error(StatusCode::BAD_REQUEST, message),
    }
}

fn parse_json(body: &[u8]) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|e| {
        bad_request(
            &format!("The request body could not be parsed as JSON ({e})"),
            None,
        )
    })
}

fn is_allowed_url(url: &str) -> bool {
    if url.len() > 2000 {
        return false;
    }
    if url.starts_with("https://") {
        return true;
    }
    ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| url.starts_with(p))
}

/// Validates message objects as LINE does; `Err` is the 400 to send.
pub fn validate_messages(messages: Option<&Value>) -> Result<Vec<Value>, Response> {
    let Some(Value::Array(list)) = messages else {
        return Err(bad_request("must be specified", Some("messages")));
    };
    if list.is_empty() || list.len() > 5 {
        return Err(bad_request(
            "Size must be between 1 and 5",
            Some("messages"),
        ));
    }
    for (i, m) in list.iter().enumerate() {
        let prop = |f: &str| format!("messages[{i}].{f}");
        let s = |f: &str| m.get(f).and_then(Value::as_str);
        match s("type") {
            Some("text") => {
                let text = s("text")
                    .ok_or_else(|| bad_request("must be specified", Some(&prop("text"))))?;
                if text.is_empty() || linedesk_line::send::utf16_len(text) > 5000 {
                    return Err(bad_request(
                        "Length must be between 1 and 5000",
                        Some(&prop("text")),
                    ));
                }
            }
            Some("image") | Some("video") => {
                for f in ["originalContentUrl", "previewImageUrl"] {
                    if !s(f).is_some_and(is_allowed_url) {
                        return Err(bad_request("Must be a valid HTTPS URL", Some(&prop(f))));
                    }
                }
            }
            Some("audio") => {
                if !s("originalContentUrl").is_some_and(is_allowed_url) {
                    return Err(bad_request(
                        "Must be a valid HTTPS URL",
                        Some(&prop("originalContentUrl")),
                    ));
                }
                if m.get("duration").and_then(Value::as_i64).is_none() {
                    return Err(bad_request("must be specified", Some(&prop("duration"))));
                }
            }
            Some("sticker") => {
                if s("packageId").is_none() || s("stickerId").is_none() {
                    return Err(bad_request("must be specified", Some(&prop("packageId"))));
                }
            }
            Some("location") => {
                for f in ["title", "address"] {
                    if !s(f).is_some_and(|v| !v.is_empty() && v.chars().count() <= 100) {
                        return Err(bad_request(
                            "Length must be between 1 and 100",
                            Some(&prop(f)),
                        ));
                    }
                }
                if m.get("latitude").and_then(Value::as_f64).is_none()
                    || m.get("longitude").and_then(Value::as_f64).is_none()
                {
                    return Err(bad_request("must be specified", Some(&prop("latitude"))));
                }
            }
            Some("textV2") | Some("imagemap") | Some("template") | Some("flex") => {}
            // LINE bots cannot send files (REFERENCE.md Traps 9).
            Some("file") => {
                return Err(line_error(
                    StatusCode::BAD_REQUEST,
                    "This message type is not available for your account",
                ))
            }
            _ => return Err(bad_request("Invalid message type", Some(&prop("type")))),
        }
    }
    Ok(list.clone())
}

fn sent_messages(sim: &Sim, messages: &[Value]) -> Vec<Value> {
    let mut st = sim.state();
    messages
        .iter()
        .map(|m| {
            let id = st.message_id();
            let quotable = matches!(
                m.get("type").and_then(Value::as_str),
                Some("text" | "textV2" | "sticker" | "image" | "video" | "template" | "flex")
            );
            if quotable {
                json!({"id": id, "quoteToken": format!("q{}", uuid::Uuid::new_v4().simple())})
            } else {
                json!({"id": id})
            }
        })
        .collect()
}

fn record(
    sim: &Sim,
    user_id: &str,
    via: Via,
    retry_key: Option<&str>,
    messages: &[Value],
    sent: &[Value],
    delivered: bool,
) {
    let mut st = sim.state();
    let at = now_ms();
    let list = st.received.entry(user_id.to_owned()).or_default();
    for (m, s) in messages.iter().zip(sent) {
        list.push(Received {
            id: s["id"].as_str().unwrap_or_default().to_owned(),
            via,
            retry_key: retry_key.map(str::to_owned),
            message: m.clone(),
            at,
            delivered,
        });
    }
}

async fn reply(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    if headers.contains_key("x-line-retry-key") {
        return line_error(
            StatusCode::BAD_REQUEST,
            "The retry key is not supported for this API",
        );
    }
    let req = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(token) = req.get("replyToken").and_then(Value::as_str) else {
        return bad_request("must be specified", Some("replyToken"));
    };
    let messages = match validate_messages(req.get("messages")) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let user_id = {
        let mut st = sim.state();
        let ttl = st.reply_ttl();
        match st.reply_tokens.get_mut(token) {
            Some(t) if !t.used && t.issued.elapsed() <= ttl => {
                t.used = true;
                t.user_id.clone()
            }
            _ => return line_error(StatusCode::BAD_REQUEST, "Invalid reply token"),
        }
    };
    let delivered = !sim
        .state()
        .customers
        .get(&user_id)
        .is_some_and(|c| c.blocked);
    let sent = sent_messages(&sim, &messages);
    record(
        &sim,
        &user_id,
        Via::Reply,
        None,
        &messages,
        &sent,
        delivered,
    );
    Json(json!({"sentMessages": sent})).into_response()
}

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

async fn push(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    let retry_key = match headers
        .get("x-line-retry-key")
        .map(|v| v.to_str().unwrap_or(""))
    {
        Some(k) if !is_uuid(k) => {
            return bad_request("The retry key must be a UUID", Some("X-Line-Retry-Key"));
        }
        other => other.map(str::to_owned),
    };
    if let Some(key) = &retry_key {
        let st = sim.state();
        if let Some(accepted) = st
            .retry_keys
            .get(key)
            .filter(|a| a.at.elapsed() < Duration::from_secs(86_400))
        {
            let mut resp = (
                StatusCode::CONFLICT,
                Json(json!({"message": "The retry key is already accepted", "sentMessages": accepted.sent_messages})),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&accepted.request_id) {
                resp.headers_mut().insert("x-line-accepted-request-id", v);
            }
            return resp;
        }
    }
    let req = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(to) = req.get("to").and_then(Value::as_str).map(str::to_owned) else {
        return bad_request("must be specified", Some("to"));
    };
    let messages = match validate_messages(req.get("messages")) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let blocked = {
        let st = sim.state();
        let Some(customer) = st.customers.get(&to) else {
            return line_error(
                StatusCode::BAD_REQUEST,
                "The property, 'to', in the request body is invalid (line: -, column: -)",
            );
        };
        if let Some(limit) = st.settings.quota_limit {
            if st.push_count >= limit && !customer.blocked {
                return line_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "You have reached your monthly limit.",
                );
            }
        }
        customer.blocked
    };
    let sent = sent_messages(&sim, &messages);
    let request_id = uuid::Uuid::new_v4().to_string();
    {
        let mut st = sim.state();
        // Blocked users are not counted and see nothing, but LINE still answers 200 (Traps 15).
        if !blocked {
            st.push_count += 1;
        }
        if let Some(key) = &retry_key {
            st.retry_keys.insert(
                key.clone(),
                AcceptedKey {
                    request_id: request_id.clone(),
                    sent_messages: json!(sent),
                    at: Instant::now(),
                },
            );
        }
    }
    record(
        &sim,
        &to,
        Via::Push,
        retry_key.as_deref(),
        &messages,
        &sent,
        !blocked,
    );
    let mut resp = Json(json!({"sentMessages": sent})).into_response();
    resp.headers_mut().insert(
        "x-line-request-id",
        HeaderValue::from_str(&request_id).expect("uuid header"),
    );
    resp
}

enum ContentState {
    Missing,
    Gone,
    Processing,
    Ready(bytes::Bytes, String),
}

fn content_state(sim: &Sim, id: &str) -> (ContentState, bool) {
    let st = sim.state();
    let ttl = Duration::from_millis(st.settings.content_ttl_ms);
    let Some(c) = st.content.get(id) else {
        return (ContentState::Missing, false);
    };
    let transcodable = c.content_type.starts_with("video/") || c.content_type.starts_with("audio/");
    let state = if c.gone {
        ContentState::Gone
    } else if c.created.elapsed() > ttl {
        ContentState::Missing
    } else if c.ready_at.is_some_and(|t| Instant::now() < t) {
        ContentState::Processing
    } else {
        ContentState::Ready(c.bytes.clone(), c.content_type.clone())
    };
    (state, transcodable)
}

async fn content(State(sim): State<Sim>, Path(id): Path<String>) -> Response {
    match content_state(&sim, &id).0 {
        ContentState::Missing => line_error(StatusCode::NOT_FOUND, "Not found"),
        ContentState::Gone => line_error(StatusCode::GONE, "The content is gone"),
        ContentState::Processing => StatusCode::ACCEPTED.into_response(),
        ContentState::Ready(bytes, ct) => ([("content-type", ct)], bytes).into_response(),
    }
}

async fn transcoding(State(sim): State<Sim>, Path(id): Path<String>) -> Response {
    let (state, transcodable) = content_state(&sim, &id);
    match state {
        ContentState::Missing => line_error(StatusCode::NOT_FOUND, "Not found"),
        ContentState::Gone => line_error(StatusCode::GONE, "The content is gone"),
        _ if !transcodable => line_error(
            StatusCode::BAD_REQUEST,
            "Transcoding status doesn't support this type of content",
        ),
        ContentState::Processing => Json(json!({"status": "processing"})).into_response(),
        ContentState::Ready(..) => Json(json!({"status": "succeeded"})).into_response(),
    }
}

async fn preview(State(sim): State<Sim>, Path(id): Path<String>) -> Response {
    match content_state(&sim, &id).0 {
        ContentState::Missing => line_error(StatusCode::NOT_FOUND, "Not found"),
        ContentState::Gone => line_error(StatusCode::GONE, "The content is gone"),
        ContentState::Processing => StatusCode::ACCEPTED.into_response(),
        ContentState::Ready(_, ct) if !(ct.starts_with("image/") || ct.starts_with("video/")) => {
            line_error(
                StatusCode::BAD_REQUEST,
                "Preview is not supported for this type of content",
            )
        }
        // Previews are small JPEG/PNG images; the simulator's stand-in is a 1x1 PNG.
        ContentState::Ready(..) => (
            [("content-type", "image/png")],
            crate::customers::tiny_png(),
        )
            .into_response(),
    }
}

async fn profile(State(sim): State<Sim>, Path(user_id): Path<String>) -> Response {
    let st = sim.state();
    match st.customers.get(&user_id) {
        Some(c) if !c.blocked => {
            let mut v = json!({"displayName": c.display_name, "userId": c.user_id});
            // Every simulated customer has a face, served by the simulator itself unless the
            // test gave another picture.
            let picture = c.picture_url.clone().or_else(|| {
                st.base_url
                    .as_ref()
                    .map(|b| format!("{b}/sim/pictures/{}.png", c.user_id))
            });
            if let Some(p) = picture {
                v["pictureUrl"] = json!(p);
            }
            if let Some(s) = &c.status_message {
                v["statusMessage"] = json!(s);
            }
            if let Some(l) = &c.language {
                v["language"] = json!(l);
            }
            Json(v).into_response()
        }
        _ if !user_id.starts_with('U') => line_error(
            StatusCode::BAD_REQUEST,
            "The value for the 'userId' parameter is invalid",
        ),
        _ => line_error(StatusCode::NOT_FOUND, "Not found"),
    }
}

async fn loading(State(sim): State<Sim>, body: Bytes) -> Response {
    let req = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let chat = req.get("chatId").and_then(Value::as_str).unwrap_or("");
    let secs = req
        .get("loadingSeconds")
        .and_then(Value::as_u64)
        .unwrap_or(20);
    if !chat.starts_with('U') || !sim.state().customers.contains_key(chat) {
        return bad_request("Invalid chatId", Some("chatId"));
    }
    if !(5..=60).contains(&secs) || secs % 5 != 0 {
        return bad_request(
            "Must be a multiple of 5 between 5 and 60",
            Some("loadingSeconds"),
        );
    }
    sim.state()
        .signals
        .push(json!({"kind": "loading", "chatId": chat, "loadingSeconds": secs}));
    (StatusCode::ACCEPTED, Json(json!({}))).into_response()
}

async fn mark_as_read(State(sim): State<Sim>, body: Bytes) -> Response {
    let req = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let token = req
        .get("markAsReadToken")
        .and_then(Value::as_str)
        .unwrap_or("");
    let known = token
        .strip_prefix("mar-")
        .is_some_and(|id| sim.state().content.contains_key(id) || id.parse::<u64>().is_ok());
    if !known {
        return line_error(
            StatusCode::BAD_REQUEST,
            "Invalid markAsReadToken. Tokens must be used by the bot that received them via Webhook.",
        );
    }
    sim.state()
        .signals
        .push(json!({"kind": "markAsRead", "markAsReadToken": token}));
    Json(json!({})).into_response()
}

async fn bot_info(State(sim): State<Sim>) -> Response {
    let st = sim.state();
    Json(json!({
        "userId": st.channel.bot_user_id,
        "basicId": "@linedesk",
        "displayName": st.channel.bot_name,
        "chatMode": "chat",
        "markAsReadMode": "manual",
    }))
    .into_response()
}

async fn get_webhook(State(sim): State<Sim>) -> Response {
    let st = sim.state();
    match &st.webhook_url {
        Some(url) => Json(json!({"endpoint": url, "active": st.webhook_active})).into_response(),
        None => line_error(StatusCode::NOT_FOUND, "Webhook endpoint not found"),
    }
}

async fn set_webhook(State(sim): State<Sim>, body: Bytes) -> Response {
    let req = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match req.get("endpoint").and_then(Value::as_str) {
        Some(url) if url.len() <= 500 && is_allowed_url(url) => {
            let mut st = sim.state();
            st.webhook_url = Some(url.to_owned());
            st.webhook_active = true;
            Json(json!({})).into_response()
        }
        _ => line_error(StatusCode::BAD_REQUEST, "Invalid webhook endpoint URL"),
    }
}

async fn test_webhook(State(sim): State<Sim>, body: Bytes) -> Response {
    let req: Value = if body.is_empty() {
        json!({})
    } else {
        parse_json(&body).unwrap_or(json!({}))
    };
    let endpoint = match req.get("endpoint").and_then(Value::as_str) {
        Some(url) if !is_allowed_url(url) => {
            return line_error(StatusCode::BAD_REQUEST, "Invalid webhook endpoint URL")
        }
        Some(url) => url.to_owned(),
        None => match sim.state().webhook_url.clone() {
            Some(url) => url,
            None => return line_error(StatusCode::NOT_FOUND, "Webhook endpoint not found"),
        },
    };
    let result = crate::deliver::post_body(&sim, &endpoint, Vec::new()).await;
    let status_code = result.as_ref().map(|s| i64::from(*s)).unwrap_or(0);
    let (success, reason, detail) = match result {
        Ok(s) if (200..300).contains(&s) => (true, "OK", format!("{s}")),
        Ok(s) => (
            false,
            "ERROR_STATUS_CODE",
            format!("The webhook returned an HTTP status code other than 200.({s})"),
        ),
        Err(e) if e.is_timeout() => (false, "REQUEST_TIMEOUT", "Request timeout".to_owned()),
        Err(_) => (false, "COULD_NOT_CONNECT", "Connection failed".to_owned()),
    };
    Json(json!({
        "success": success,
        "timestamp": crate::customers::iso8601(now_ms()),
        "statusCode": status_code,
        "reason": reason,
        "detail": detail,
    }))
    .into_response()
}

async fn quota(State(sim): State<Sim>) -> Response {
    match sim.state().settings.quota_limit {
        Some(limit) => Json(json!({"type": "limited", "value": limit})).into_response(),
        None => Json(json!({"type": "none"})).into_response(),
    }
}

async fn consumption(State(sim): State<Sim>) -> Response {
    Json(json!({"totalUsage": sim.state().push_count})).into_response()
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn form(body: &[u8]) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

async fn issue_stateless(State(sim): State<Sim>, body: Bytes) -> Response {
    let f = form(&body);
    if f.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let mut st = sim.state();
    let ok = f.get("client_id") == Some(&st.channel.channel_id)
        && f.get("client_secret") == Some(&st.channel.channel_secret);
    if !ok {
        return oauth_error("invalid_client", "client_id or client_secret is invalid");
    }
    let token = format!("stateless.{}", uuid::Uuid::new_v4().simple());
    let ttl = Duration::from_millis(st.settings.stateless_token_ttl_ms);
    st.stateless_tokens
        .insert(token.clone(), Instant::now() + ttl);
    Json(json!({"token_type": "Bearer", "access_token": token, "expires_in": ttl.as_secs()}))
        .into_response()
}

async fn verify_token(State(sim): State<Sim>, body: Bytes) -> Response {
    let f = form(&body);
    let token = f.get("access_token").cloned().unwrap_or_default();
    let mut st = sim.state();
    if token == st.channel.access_token {
        return Json(json!({"client_id": st.channel.channel_id, "expires_in": 2_147_483_647i64, "scope": "P CM"}))
            .into_response();
    }
    if st.is_valid_token(&token) {
        let left = st
            .stateless_tokens
            .get(&token)
            .map(|e| e.saturating_duration_since(Instant::now()).as_secs())
            .unwrap_or(0);
        return Json(
            json!({"client_id": st.channel.channel_id, "expires_in": left, "scope": "P CM"}),
        )
        .into_response();
    }
    oauth_error("invalid_request", "access token expired")
}
