//! Channels, set up from the console (admin): add with LINE's checks, replace credentials,
//! the callback URL, set and test LINE's webhook, the health panel, and delete.
//!
//! Adding checks everything with LINE before anything is saved: the token with
//! `POST /v2/oauth/verify` (and that it belongs to this channel ID), the secret by asking LINE
//! for a stateless token with channel ID and secret (LINE refuses a wrong secret), and the bot
//! with `GET /v2/bot/info`. Refusals name the field in plain words.
//!
//! Every call but the list is for admins ([`AdminOnly`]); supervisors read the list too
//! ([`Supervising`]).

use crate::store::sql::Db;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use linedesk_line::api::{ApiError, LineClient};
use linedesk_line::Secret;
use linedesk_protocol::identity::{
    ChannelHealth, ChannelUpdate, ConsentSettings, DeleteChannel, NewChannel, WebhookTest,
};
use linedesk_protocol::ErrorCode;
use linedesk_protocol::{Invalid, Reason};

use crate::policy::{AdminOnly, Refusal, Supervising};
use crate::routing::http::parse;
use crate::routing::Routing;
use crate::store::channels::{self, Channel};
use crate::Relay;

/// The webhook URL LINE should call for a channel: the public URL when configured, else the
/// address the admin's console reached the relay at.
pub fn callback_url(relay: &Relay, headers: &HeaderMap, id: &str) -> String {
    format!("{}/line/{id}/webhook", crate::request_base(relay, headers))
}

fn hint(secret: &str) -> String {
    let n = secret.chars().count();
    let tail: String = secret.chars().skip(n.saturating_sub(4)).collect();
    format!("••••{tail}")
}

/// What a credential's hint says when it does not open with this relay's key.
const UNREADABLE: &str = "(unreadable)";

/// The health of one channel (credentials masked).
pub fn health(
    conn: Db<'_>,
    vault: &crate::vault::Vault,
    id: &str,
    callback: String,
) -> Result<Option<ChannelHealth>, crate::store::StoreError> {
    let Some(row) = channels::health_row(conn, id)? else {
        return Ok(None);
    };
    let open = |blob: &[u8], field: &str| -> String {
        if blob.is_empty() {
            return "(removed)".into();
        }
        vault
            .open(&format!("channel/{id}/{field}"), blob)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .map(|s| hint(&s))
            .unwrap_or_else(|| UNREADABLE.into())
    };
    let today = crate::store::now_ms().div_euclid(86_400_000);
    let (secret_hint, token_hint) = (
        open(&row.secret_enc, "secret"),
        open(&row.token_enc, "token"),
    );
    Ok(Some(ChannelHealth {
        id: id.to_owned(),
        name: row.name,
        credentials_unreadable: secret_hint == UNREADABLE || token_hint == UNREADABLE,
        secret_hint,
        token_hint,
        bot_name: row.bot_name,
        consent: row.consent.and_then(|t| serde_json::from_str(&t).ok()),
        deleted_at: row.deleted_at,
        events_received: row.events_received,
        last_event_at: row.last_event_at,
        signature_failures: row.signature_failures,
        media_failures: row.media_failures,
        events_today: if row.day == Some(today) {
            row.events_day
        } else {
            0
        },
        token_valid: row.token_valid,
        token_checked_at: row.token_checked_at,
        token_error: row.token_error,
        webhook_ours: row.webhook_endpoint.as_ref().map(|e| *e == callback),
        webhook_endpoint: row.webhook_endpoint,
        webhook_active: row.webhook_active,
        quota_limit: row.quota_limit,
        quota_used: row.quota_used,
        last_test: row.last_test.and_then(|t| serde_json::from_str(&t).ok()),
        callback_url: callback,
    }))
}

async fn health_answer(
    relay: &Relay,
    headers: &HeaderMap,
    id: &str,
) -> Result<Json<ChannelHealth>, Refusal> {
    let vault = relay.registry().vault().clone();
    let (id, callback) = (id.to_owned(), callback_url(relay, headers, id));
    match relay
        .read(move |c| health(c, &vault, &id, callback))
        .await?
    {
        Some(h) => Ok(Json(h)),
        None => Err(Refusal::not_found("no such channel")),
    }
}

/// `GET /api/channels` (supervisor, admin): every channel's health, deleted ones last.
pub async fn list(
    State(relay): State<Relay>,
    _: Supervising,
    headers: HeaderMap,
) -> Result<impl IntoResponse, Refusal> {
    let vault = relay.registry().vault().clone();
    let callbacks = {
        let relay = relay.clone();
        move |id: &str| callback_url(&relay, &headers, id)
    };
    let result = relay
        .read(move |c| {
            let ids: Vec<String> = channels::ids_live_first(c)?;
            let mut out = Vec::new();
            for id in ids {
                if let Some(h) = health(c, &vault, &id, callbacks(&id))? {
                    out.push(h);
                }
            }
            Ok(out)
        })
        .await?;
    Ok(Json(result))
}

/// Refused fields, each with its reason.
pub type Fields = Vec<Invalid>;

fn fields_answer(fields: &Fields) -> Refusal {
    Refusal::fields(fields.clone())
}

/// Checks the shape of a channel's fields before LINE is asked about them.
pub fn check_shape(
    id: &str,
    name: Option<&str>,
    secret: Option<&str>,
    token: Option<&str>,
) -> Fields {
    let mut f = Fields::new();
    if id.is_empty()
        || id.len() > 32
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        f.push(Invalid::new("id", Reason::ChannelId));
    }
    if let Some(n) = name {
        if n.trim().is_empty() || n.chars().count() > 100 {
            f.push(Invalid::new("name", Reason::Length { min: 1, max: 100 }));
        }
    }
    if let Some(s) = secret {
        if s.is_empty() || s.len() > 128 || s.contains(char::is_whitespace) {
            f.push(Invalid::new("secret", Reason::Credential));
        }
    }
    if let Some(t) = token {
        if t.is_empty() || t.len() > 2000 || t.contains(char::is_whitespace) {
            f.push(Invalid::new("token", Reason::Credential));
        }
    }
    f
}

/// What LINE said about a set of credentials.
enum Verdict {
    /// All good: the bot's user ID and name.
    Ok {
        bot_user_id: String,
        bot_name: String,
    },
    /// Field errors.
    Fields(Fields),
    /// LINE could not be asked.
    Unreachable(String),
}

fn line_said(e: &ApiError) -> String {
    match e {
        ApiError::Status { body, .. } => body.message.clone(),
        other => other.to_string(),
    }
}

/// Checks a token (and a secret) with LINE for channel `id`.
async fn verify(relay: &Relay, id: &str, secret: &str, token: &str) -> Verdict {
    let endpoints = relay.line_endpoints().clone();
    let http = relay.registry().http().clone();
    let client = LineClient::with_http(
        http.clone(),
        endpoints.clone(),
        Secret::new(token.to_owned()),
    );
    let mut fields = Fields::new();
    match client.verify_token().await {
        Ok(info) if info.client_id != id => fields.push(Invalid::new(
            "token",
            Reason::TokenOfOtherChannel {
                channel: info.client_id,
            },
        )),
        Ok(_) => {}
        Err(e) if matches!(e.status(), Some(400 | 401 | 403)) => fields.push(Invalid::new(
            "token",
            Reason::TokenRefused {
                detail: line_said(&e),
            },
        )),
        Err(e) => {
            return Verdict::Unreachable(format!(
                "LINE could not be reached to check the token: {e}"
            ))
        }
    }
    match LineClient::issue_stateless_token(&http, &endpoints, id, &Secret::new(secret.to_owned()))
        .await
    {
        Ok(_) => {}
        Err(e) if matches!(e.status(), Some(400 | 401)) => {
            fields.push(Invalid::new("secret", Reason::SecretRefused))
        }
        Err(e) => {
            return Verdict::Unreachable(format!(
                "LINE could not be reached to check the secret: {e}"
            ))
        }
    }
    if !fields.is_empty() {
        return Verdict::Fields(fields);
    }
    match client.bot_info().await {
        Ok(bot) => Verdict::Ok {
            bot_user_id: bot.user_id,
            bot_name: bot.display_name,
        },
        Err(e) => Verdict::Unreachable(format!("LINE did not give the bot's details: {e}")),
    }
}

fn unreachable(message: &str) -> Refusal {
    Refusal::new(StatusCode::BAD_GATEWAY, ErrorCode::Internal, message)
}

/// `POST /api/channels` (admin).
pub async fn add(
    State(relay): State<Relay>,
    _: AdminOnly,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, Refusal> {
    let req: NewChannel = parse(&body)?;
    let (id, secret, token) = (
        req.id.trim().to_owned(),
        req.secret.trim().to_owned(),
        req.token.trim().to_owned(),
    );
    let shape = check_shape(&id, Some(&req.name), Some(&secret), Some(&token));
    if !shape.is_empty() {
        return Err(fields_answer(&shape));
    }
    let live = {
        let id = id.clone();
        relay.read(move |c| channels::is_live(c, &id)).await?
    };
    if live {
        let conflict = Refusal::conflict("");
        return Err(Refusal {
            status: conflict.status,
            code: conflict.code,
            ..Refusal::field("id", Reason::AlreadySetUp)
        });
    }
    let (bot_user_id, bot_name) = match verify(&relay, &id, &secret, &token).await {
        Verdict::Ok {
            bot_user_id,
            bot_name,
        } => (bot_user_id, bot_name),
        Verdict::Fields(f) => return Err(fields_answer(&f)),
        Verdict::Unreachable(m) => return Err(unreachable(&m)),
    };
    let endpoints = relay.line_endpoints().clone();
    let ch = Channel {
        id: id.clone(),
        name: req.name.trim().to_owned(),
        secret: Secret::new(secret),
        token: Secret::new(token),
        api_base: endpoints.api_base,
        api_data_base: endpoints.data_base,
        deleted_at: None,
    };
    save(&relay, ch, Some((bot_user_id, bot_name))).await?;
    check(&relay, &headers, &id).await;
    let mut resp = health_answer(&relay, &headers, &id).await.into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

async fn save(relay: &Relay, ch: Channel, bot: Option<(String, String)>) -> anyhow::Result<()> {
    let vault = relay.registry().vault().clone();
    relay
        .writer()
        .run(move |c| {
            let now = crate::store::now_ms();
            channels::upsert(c, &vault, &ch, now).map_err(|e| match e {
                channels::ChannelError::Store(e) => e,
                channels::ChannelError::Sqlite(e) => e.into(),
                other => crate::store::StoreError::Other(other.to_string()),
            })?;
            if let Some((user, name)) = bot {
                channels::set_bot(c, &ch.id, &user, &name)?;
                channels::mark_token_accepted(c, &ch.id, now)?;
            }
            Ok(())
        })
        .await?;
    relay.reload_channels().await
}

/// `PUT /api/channels/{id}` (admin): rename, replace secret or token (checked with LINE), or
/// set the consent message.
pub async fn update(
    State(relay): State<Relay>,
    _: AdminOnly,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Refusal> {
    let req: ChannelUpdate = parse(&body)?;
    let Some(entry) = relay
        .registry()
        .get(&id)
        .filter(|e| e.channel.deleted_at.is_none())
    else {
        return Err(Refusal::not_found("no such channel"));
    };
    let secret = req.secret.as_deref().map(str::trim);
    let token = req.token.as_deref().map(str::trim);
    let shape = check_shape(&id, req.name.as_deref(), secret, token);
    if !shape.is_empty() {
        return Err(fields_answer(&shape));
    }
    if let Some(c) = &req.consent {
        check_consent(c).map_err(Refusal::invalid)?;
    }
    let mut ch = entry.channel.clone();
    if let Some(n) = &req.name {
        ch.name = n.trim().to_owned();
    }
    let mut bot = None;
    if secret.is_some() || token.is_some() {
        let s = secret
            .map(str::to_owned)
            .unwrap_or_else(|| ch.secret.expose().clone());
        let t = token
            .map(str::to_owned)
            .unwrap_or_else(|| ch.token.expose().clone());
        match verify(&relay, &id, &s, &t).await {
            Verdict::Ok {
                bot_user_id,
                bot_name,
            } => bot = Some((bot_user_id, bot_name)),
            Verdict::Fields(f) => return Err(fields_answer(&f)),
            Verdict::Unreachable(m) => return Err(unreachable(&m)),
        }
        ch.secret = Secret::new(s);
        ch.token = Secret::new(t);
    }
    save(&relay, ch, bot).await?;
    if req.consent.is_some() || req.consent_off {
        let consent = if req.consent_off {
            None
        } else {
            req.consent.clone()
        };
        let id2 = id.clone();
        relay
            .writer()
            .run(move |c| {
                channels::set_consent(
                    c,
                    &id2,
                    consent
                        .map(|c| serde_json::to_string(&c).unwrap_or_default())
                        .as_deref(),
                )
            })
            .await
            .map_err(Refusal::internal)?;
    }
    health_answer(&relay, &headers, &id).await
}

fn check_consent(c: &ConsentSettings) -> Result<(), Invalid> {
    if c.message.is_empty() || c.message.values().all(|m| m.trim().is_empty()) {
        return Err(Invalid::new("consent.message", Reason::Required));
    }
    if c.message.values().any(|m| m.chars().count() > 5000) {
        return Err(Invalid::new(
            "consent.message",
            Reason::Length { min: 1, max: 5000 },
        ));
    }
    for (field, label) in [("consent.agree", &c.agree), ("consent.decline", &c.decline)] {
        if label.trim().is_empty() || label.chars().count() > 20 {
            return Err(Invalid::new(field, Reason::Length { min: 1, max: 20 }));
        }
    }
    Ok(())
}

/// `GET /api/channels/{id}/quota` (anyone signed in): the channel's messages this month
/// against its limit, as LINE last reported them. No other `GET` of the channel's actions.
pub async fn quota(
    State(relay): State<Relay>,
    _: crate::policy::AnyUser,
    Path((id, action)): Path<(String, String)>,
) -> Result<Json<linedesk_protocol::identity::ChannelQuota>, Refusal> {
    if action != "quota" {
        return Err(Refusal::not_found("no such action"));
    }
    let row = relay
        .read(move |c| channels::health_row(c, &id))
        .await?
        .filter(|r| r.deleted_at.is_none())
        .ok_or_else(|| Refusal::not_found("no such channel"))?;
    Ok(Json(linedesk_protocol::identity::ChannelQuota {
        used: row.quota_used,
        limit: row.quota_limit,
    }))
}

/// Asks LINE about a channel: token, bot, webhook endpoint, quota; stores what it said.
pub async fn check(relay: &Relay, _headers: &HeaderMap, id: &str) {
    let Some(entry) = relay.registry().get(id) else {
        return;
    };
    let client = &entry.client;
    let now = crate::store::now_ms();
    let (valid, error) = match client.verify_token().await {
        Ok(info) if info.client_id == id => (Some(true), None),
        Ok(info) => (
            Some(false),
            Some(format!("the token belongs to channel {}", info.client_id)),
        ),
        Err(e) if matches!(e.status(), Some(400 | 401 | 403)) => (Some(false), Some(line_said(&e))),
        Err(e) => (None, Some(format!("LINE could not be reached: {e}"))),
    };
    let bot = client.bot_info().await.ok().map(|b| b.display_name);
    let webhook = match client.webhook_endpoint().await {
        Ok(w) => Some((Some(w.endpoint), Some(w.active))),
        Err(e) if e.status() == Some(404) => Some((None, None)),
        Err(_) => None,
    };
    let quota = client.quota().await.ok();
    let used = client.quota_consumption().await.ok().map(|q| q.total_usage);
    let id = id.to_owned();
    let result = relay
        .writer()
        .run(move |c| {
            channels::ensure_stats(c, &id)?;
            if valid.is_some() {
                channels::set_token_check(c, &id, valid, now, error.as_deref())?;
            }
            if let Some(name) = bot {
                channels::set_bot_name(c, &id, &name)?;
            }
            if let Some((endpoint, active)) = webhook {
                channels::set_webhook(c, &id, endpoint.as_deref(), active)?;
            }
            if let Some(q) = quota {
                channels::set_quota(c, &id, q.value, used)?;
            }
            Ok(())
        })
        .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not store channel health");
    }
}

/// Checks every live channel's health every 15 minutes, until shutdown.
pub async fn health_loop(relay: Relay) {
    let mut stop = relay.shutdown_signal();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(900)) => {}
            _ = stop.changed() => return,
        }
        let ids: Vec<String> = relay
            .read(|c| channels::live_ids(c))
            .await
            .unwrap_or_default();
        for id in ids {
            check(&relay, &HeaderMap::new(), &id).await;
        }
    }
}

/// `POST /api/channels/{id}/{check|webhook|test|delete}` (admin).
pub async fn act(
    State(relay): State<Relay>,
    _: AdminOnly,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, Refusal> {
    let entry = relay
        .registry()
        .get(&id)
        .filter(|e| e.channel.deleted_at.is_none());
    let Some(entry) = entry else {
        return Err(Refusal::not_found("no such channel"));
    };
    match action.as_str() {
        "check" => {}
        "webhook" => {
            let url = callback_url(&relay, &headers, &id);
            if let Err(e) = entry.client.set_webhook_endpoint(&url).await {
                return Err(unreachable(&format!(
                    "LINE did not take the webhook URL: {}",
                    line_said(&e)
                )));
            }
        }
        "test" => {
            let test = match entry.client.test_webhook(None).await {
                Ok(t) => WebhookTest {
                    detail: explain_test(t.success, t.status_code, &t.reason, &t.detail),
                    success: t.success,
                    status_code: t.status_code,
                    reason: t.reason,
                    at: crate::store::now_ms(),
                },
                Err(e) if e.status() == Some(404) => {
                    return Err(Refusal::field("webhook", Reason::NoWebhookYet))
                }
                Err(e) => {
                    return Err(unreachable(&format!(
                        "LINE could not run the test: {}",
                        line_said(&e)
                    )))
                }
            };
            let id2 = id.clone();
            let json = serde_json::to_string(&test).unwrap_or_default();
            relay
                .writer()
                .run(move |c| {
                    channels::ensure_stats(c, &id2)?;
                    channels::set_last_test(c, &id2, &json)
                })
                .await
                .map_err(Refusal::internal)?;
        }
        "delete" => return delete(relay, headers, id, body).await,
        "retry-media" => {
            let (id2, now) = (id.clone(), relay.clock().now_ms());
            let requeued = relay
                .writer()
                .run(move |c| channels::retry_failed_media(c, &id2, now))
                .await
                .map_err(Refusal::internal)?;
            tracing::info!(channel = %id, requeued, "failed media put back in line by an admin");
        }
        _ => return Err(Refusal::not_found("no such channel action")),
    }
    check(&relay, &headers, &id).await;
    Ok(health_answer(&relay, &headers, &id).await?.into_response())
}

/// LINE's test result in plain words; a 401 from us means the saved secret is wrong.
fn explain_test(success: bool, status: i32, reason: &str, detail: &str) -> String {
    match (success, status, reason) {
        (true, _, _) => "LINE reached the relay and the signature checked out.".into(),
        (false, 401, _) => "LINE reached the relay, but its signature did not match the saved channel secret: replace the secret.".into(),
        (false, 404, _) => "LINE reached the relay, but the relay does not serve this channel at that URL.".into(),
        (false, _, "COULD_NOT_CONNECT") => "LINE could not connect to the relay: check the public URL and TLS.".into(),
        (false, _, "REQUEST_TIMEOUT") => "The relay did not answer LINE in time.".into(),
        _ => format!("The test failed: {detail}"),
    }
}

async fn delete(
    relay: Relay,
    headers: HeaderMap,
    id: String,
    body: axum::body::Bytes,
) -> Result<Response, Refusal> {
    let req: DeleteChannel = if body.is_empty() {
        DeleteChannel::default()
    } else {
        parse(&body)?
    };
    if req
        .message
        .as_ref()
        .is_some_and(|m| m.chars().count() > 5000)
    {
        return Err(Refusal::field(
            "message",
            Reason::Length { min: 0, max: 5000 },
        ));
    }
    let id2 = id.clone();
    let closed = Routing::decide(&relay, move |tx| {
        channels::mark_deleted(tx.conn(), &id2, tx.now())?;
        Ok(tx.close_channel(&id2, req.message.as_deref())?)
    })
    .await?;
    relay.reload_channels().await?;
    // The last messages go out while the token is still known; then it is forgotten.
    if let Err(e) = Routing::flush_automated(&relay).await {
        tracing::warn!(error = %e, "messages to a deleted channel's customers not all sent");
    }
    let id2 = id.clone();
    relay
        .writer()
        .run(move |c| channels::wipe_credentials(c, &id2))
        .await
        .map_err(Refusal::internal)?;
    relay.reload_channels().await?;
    let mut resp = health_answer(&relay, &headers, &id).await.into_response();
    resp.headers_mut().insert(
        "x-linedesk-closed",
        axum::http::HeaderValue::from(closed as u64),
    );
    Ok(resp)
}
