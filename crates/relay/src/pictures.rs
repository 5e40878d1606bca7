//! Pictures that are not a customer's message: stickers, LINE emoji and customers' profile
//! pictures. LINE's API gives none of them (REFERENCE.md Traps 18): stickers and emoji come
//! from LINE's sticker CDN by id, a profile picture from the URL in the profile.
//!
//! The media pipeline records what an event names (a sticker, each emoji of a text) and the
//! profile refresher records a customer's picture, as `pending` rows of `pictures`. They are
//! fetched here with limited concurrency, each once by key into the media store, retried with
//! backoff for three days (a restart resumes them), then `failed`; a 404 is final at once. The
//! console shows the keywords' tile or the initials when a picture is not there.
//!
//! Only pictures are kept: the first bytes must be PNG, JPEG, GIF or WebP, and a file is at
//! most [`MAX_PICTURE`]. Redirects are not followed, and a profile picture is fetched only from
//! LINE's CDN (`*.line-scdn.net`, HTTPS) or from the configured LINE or sticker base, so a
//! profile answer cannot point the relay at an address of the team's network.
//!
//! Stickers and emoji are the same for everyone and any signed-in user may fetch them; a
//! profile picture only by whoever may see that customer's chat, and it is erased with them.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use linedesk_protocol::Reason;
use serde::Deserialize;

use crate::media::StageError;
use crate::policy::{AnyUser, Refusal};
use crate::store::{self, pictures};
use crate::Relay;

/// Largest picture kept (an animated sticker is a few hundred KB).
pub const MAX_PICTURE: u64 = 5 << 20;
/// Fetches at once.
const CONCURRENCY: usize = 4;
/// How long a picture is retried before the fallback is shown for good.
const RETRY_WINDOW_MS: i64 = 3 * 24 * 3600 * 1000;
/// Longest wait between two attempts.
const MAX_BACKOFF_MS: i64 = 10 * 60 * 1000;
/// LINE's sticker CDN, where stickers and LINE emoji are fetched by id.
pub const LINE_STICKER_BASE: &str = "https://stickershop.line-scdn.net";

/// Where pictures come from, and what is being fetched.
#[derive(Debug, Clone)]
pub struct Pictures {
    http: reqwest::Client,
    sticker_base: String,
    /// URL prefixes a profile picture may have besides LINE's CDN (the configured bases).
    trusted: Vec<String>,
    in_flight: Arc<Mutex<HashSet<String>>>,
    done: Arc<tokio::sync::Notify>,
}

impl Pictures {
    /// Stickers and emoji from `sticker_base`; profile pictures from LINE's CDN or from one
    /// of `trusted` (the simulator, in tests and the demo).
    pub fn new(sticker_base: &str, trusted: Vec<String>) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(60))
                .build()?,
            sticker_base: sticker_base.trim_end_matches('/').to_owned(),
            trusted: trusted
                .into_iter()
                .map(|t| format!("{}/", t.trim_end_matches('/')))
                .collect(),
            in_flight: Arc::default(),
            done: Arc::default(),
        })
    }

    /// The static image of sticker `id`, or its animation (APNG).
    pub fn sticker_url(&self, id: &str, animation: bool) -> String {
        if animation {
            format!(
                "{}/stickershop/v1/sticker/{id}/iPhone/sticker_animation@2x.png",
                self.sticker_base
            )
        } else {
            format!(
                "{}/stickershop/v1/sticker/{id}/android/sticker.png",
                self.sticker_base
            )
        }
    }

    /// LINE emoji `emoji` of product `product`.
    pub fn emoji_url(&self, product: &str, emoji: &str) -> String {
        format!(
            "{}/sticonshop/v1/sticon/{product}/android/{emoji}.png",
            self.sticker_base
        )
    }

    /// Resolves when a fetch has ended, so the next in line can start.
    pub async fn fetch_ended(&self) {
        self.done.notified().await;
    }

    /// Whether the relay may fetch a profile picture from `url`.
    pub fn may_fetch_profile_picture(&self, url: &str) -> bool {
        if self.trusted.iter().any(|t| url.starts_with(t.as_str())) {
            return true;
        }
        let Ok(parsed) = url::Url::parse(url) else {
            return false;
        };
        parsed.scheme() == "https"
            && parsed.port().is_none()
            && parsed
                .host_str()
                .is_some_and(|h| h == "line-scdn.net" || h.ends_with(".line-scdn.net"))
    }
}

/// The key of a customer's profile picture.
pub fn avatar_key(channel: &str, user: &str) -> String {
    format!("avatar:{channel}:{user}")
}

fn sticker_key(id: &str, animation: bool) -> String {
    if animation {
        format!("sticker:{id}:animation")
    } else {
        format!("sticker:{id}")
    }
}

fn emoji_key(product: &str, emoji: &str) -> String {
    format!("emoji:{product}:{emoji}")
}

/// An id as LINE writes them (digits for stickers, hex for emoji products and ids).
fn valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The pictures a message event names, as `(key, url)`: its sticker (and the sticker's
/// animation when it has one) or each LINE emoji of its text.
pub fn named_by(pictures: &Pictures, event: &crate::glance::Glance<'_>) -> Vec<(String, String)> {
    let Some(message) = event.message() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match message.kind.as_deref() {
        Some("sticker") => {
            if let Some(id) = message.sticker_id.as_deref().filter(|s| valid_id(s)) {
                out.push((sticker_key(id, false), pictures.sticker_url(id, false)));
                let kind = message.sticker_resource_type.as_deref().unwrap_or("");
                if kind.starts_with("ANIMATION") {
                    out.push((sticker_key(id, true), pictures.sticker_url(id, true)));
                }
            }
        }
        Some("text") => {
            for e in message.emojis.iter().take(20) {
                let (Some(p), Some(id)) = (e.product_id.as_deref(), e.emoji_id.as_deref()) else {
                    continue;
                };
                if valid_id(p) && valid_id(id) {
                    out.push((emoji_key(p, id), pictures.emoji_url(p, id)));
                }
            }
        }
        _ => {}
    }
    out.sort();
    out.dedup();
    out
}

/// Starts the fetches that are due, up to [`CONCURRENCY`] at once.
pub async fn start_fetches(relay: &Relay) -> anyhow::Result<()> {
    let now = relay.clock().now_ms();
    let due = relay.read(move |c| pictures::pending(c, now, 32)).await?;
    for row in due {
        {
            let mut in_flight = relay.pictures().in_flight.lock().expect("in-flight lock");
            if in_flight.len() >= CONCURRENCY || !in_flight.insert(row.key.clone()) {
                continue;
            }
        }
        let relay = relay.clone();
        tokio::spawn(async move {
            let key = row.key.clone();
            fetch(&relay, row).await;
            relay
                .pictures()
                .in_flight
                .lock()
                .expect("in-flight lock")
                .remove(&key);
            // The next in line goes at once (a palette asks for forty), not at the next tick.
            relay.pictures().done.notify_one();
        });
    }
    Ok(())
}

/// Why an attempt failed, and whether to try again.
enum Failure {
    Final(String),
    Retry(String),
}

async fn fetch(relay: &Relay, row: pictures::Picture) {
    match download(relay, &row.url).await {
        Ok((sha, content_type)) => {
            let (key, url, file) = (row.key.clone(), row.url.clone(), sha.clone());
            let kept = relay
                .writer()
                .run(move |c| {
                    if pictures::mark_ready(c, &key, &url, &content_type, &file)? {
                        return Ok(true);
                    }
                    crate::store::erasure::file_in_use(c, &file)
                })
                .await;
            match kept {
                Ok(true) => {}
                // Its row changed or went (erased) while it downloaded.
                Ok(false) => crate::media::forget(relay, &sha).await,
                Err(e) => tracing::warn!(error = %e, "could not record a picture"),
            }
        }
        Err(failure) => {
            let now = relay.clock().now_ms();
            let tried_for = now - row.first_tried_at.unwrap_or(now);
            let (status, why) = match failure {
                Failure::Final(why) => ("failed", why),
                Failure::Retry(why) if tried_for < RETRY_WINDOW_MS => ("pending", why),
                Failure::Retry(why) => ("failed", format!("{why}; gave up")),
            };
            let next = now + (1000i64 << row.attempts.clamp(0, 20)).min(MAX_BACKOFF_MS);
            tracing::info!(key = %row.key, status, error = %why, "picture fetch");
            let (key, url) = (row.key.clone(), row.url.clone());
            if let Err(e) = relay
                .writer()
                .run(move |c| pictures::mark_attempt(c, &key, &url, status, &why, now, next))
                .await
            {
                tracing::warn!(error = %e, "could not record a picture's failure");
            }
        }
    }
}

/// Fetches `url` into the media store; its SHA-256 and content type.
async fn download(relay: &Relay, url: &str) -> Result<(String, String), Failure> {
    let mut resp = relay
        .pictures()
        .http
        .get(url)
        .send()
        .await
        .map_err(|e| Failure::Retry(format!("unreachable: {e}")))?;
    let status = resp.status();
    if matches!(status.as_u16(), 404 | 410) {
        return Err(Failure::Final(format!("answered {status}")));
    }
    if !status.is_success() {
        return Err(Failure::Retry(format!("answered {status}")));
    }
    if resp.content_length().is_some_and(|n| n > MAX_PICTURE) {
        return Err(Failure::Final("too large".into()));
    }
    let chunks = futures_util::stream::unfold(&mut resp, |r| async move {
        match r.chunk().await {
            Ok(Some(bytes)) => Some((Ok(bytes), r)),
            Ok(None) => None,
            Err(e) => Some((Err(e), r)),
        }
    });
    let staged = match relay.media().stage(Box::pin(chunks), MAX_PICTURE).await {
        Ok(staged) => staged,
        Err(StageError::TooLarge { .. }) => return Err(Failure::Final("too large".into())),
        Err(e) => return Err(Failure::Retry(format!("receiving failed: {e}"))),
    };
    let content_type = match image::guess_format(&staged.head) {
        Ok(image::ImageFormat::Png) => "image/png",
        Ok(image::ImageFormat::Jpeg) => "image/jpeg",
        Ok(image::ImageFormat::Gif) => "image/gif",
        Ok(image::ImageFormat::WebP) => "image/webp",
        _ => return Err(Failure::Final("not a picture".into())),
    };
    let sha = relay
        .media()
        .keep(staged)
        .await
        .map_err(|e| Failure::Retry(format!("storing failed: {e}")))?;
    crate::media::share(relay, &sha)
        .await
        .map_err(|e| Failure::Retry(format!("storing failed: {e}")))?;
    Ok((sha, content_type.into()))
}

/// Records what a profile refresh found: the customer's picture to fetch, or none. A picture
/// replaced or removed leaves the media store when nothing else uses its file.
pub fn profile_picture_change(
    conn: store::sql::Db<'_>,
    pictures: &Pictures,
    channel: &str,
    user: &str,
    url: Option<&str>,
) -> Result<Option<String>, store::StoreError> {
    let key = avatar_key(channel, user);
    let old = match url.filter(|u| pictures.may_fetch_profile_picture(u)) {
        Some(url) => pictures::want(conn, &key, url)?,
        None => pictures::remove(conn, &key)?,
    };
    match old {
        Some(sha) if !crate::store::erasure::file_in_use(conn, &sha)? => Ok(Some(sha)),
        _ => Ok(None),
    }
}

#[derive(Debug, Deserialize)]
pub struct StickerQuery {
    #[serde(default)]
    animation: bool,
}

/// `GET /api/stickers/{sticker_id}[?animation=true]`: a sticker's picture, for anyone signed in.
/// A sticker no event named is fetched only when LINE lets bots send it (the palette), so ids
/// made up by a client never make the relay fetch or keep anything.
pub async fn sticker(
    State(relay): State<Relay>,
    AnyUser(_caller): AnyUser,
    Path(id): Path<String>,
    Query(q): Query<StickerQuery>,
    request: axum::extract::Request,
) -> Result<Response, Refusal> {
    if !valid_id(&id) {
        return Err(Refusal::field("sticker_id", Reason::Malformed));
    }
    let key = sticker_key(&id, q.animation);
    // The stickers representatives may send are fetched on demand, for the palette.
    if !q.animation && linedesk_line::send::sendable_sticker_package(&id).is_some() {
        let (k, url) = (key.clone(), relay.pictures().sticker_url(&id, q.animation));
        let known = relay.read({
            let k = k.clone();
            move |c| pictures::get(c, &k)
        });
        if known.await?.is_none() {
            relay
                .writer()
                .run(move |c| pictures::want(c, &k, &url))
                .await
                .map_err(Refusal::internal)?;
            if let Err(e) = start_fetches(&relay).await {
                tracing::warn!(error = %e, "could not start fetching a sticker");
            }
        }
    }
    serve(&relay, key, request).await
}

/// `GET /api/emoji/{product_id}/{emoji_id}`: a LINE emoji's picture, for anyone signed in.
pub async fn emoji(
    State(relay): State<Relay>,
    AnyUser(_caller): AnyUser,
    Path((product, id)): Path<(String, String)>,
    request: axum::extract::Request,
) -> Result<Response, Refusal> {
    if !valid_id(&product) || !valid_id(&id) {
        return Err(Refusal::field("emoji_id", Reason::Malformed));
    }
    serve(&relay, emoji_key(&product, &id), request).await
}

/// `GET /api/avatars/{channel_id}/{user_id}`: a customer's profile picture, for whoever may
/// see their chat; anyone else is answered as if there were none.
pub async fn avatar(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    Path((channel, user)): Path<(String, String)>,
    request: axum::extract::Request,
) -> Result<Response, Refusal> {
    let viewer = caller.viewer();
    let (c, u) = (channel.clone(), user.clone());
    let may = relay
        .read(move |conn| crate::access::may_see(conn, &viewer, &c, &u))
        .await?;
    if !may {
        return Err(Refusal::not_found("no picture"));
    }
    // A customer whose profile was read and has no picture: none, for good (until it changes).
    let key = avatar_key(&channel, &user);
    let k = key.clone();
    let none = relay
        .read(move |c| {
            Ok(pictures::get(c, &k)?.is_none()
                && crate::store::profiles::fetched_at(c, &channel, &user)?.is_some())
        })
        .await?;
    if none {
        return Err(Refusal::new(
            StatusCode::GONE,
            linedesk_protocol::ErrorCode::NotFound,
            "the customer has no picture",
        ));
    }
    serve(&relay, key, request).await
}

/// The picture by key: 200 with its bytes, 202 while it is being fetched, 410 when it failed
/// for good (the console shows its fallback from then on), 404 while the relay has not heard
/// of it (the event or profile naming it may not have been read yet: ask again later).
async fn serve(
    relay: &Relay,
    key: String,
    request: axum::extract::Request,
) -> Result<Response, Refusal> {
    let row = relay.read(move |c| pictures::get(c, &key)).await?;
    let Some(row) = row else {
        return Err(Refusal::not_found("no picture"));
    };
    match (row.status.as_str(), row.sha256, row.content_type) {
        ("ready", Some(sha), Some(content_type)) => {
            if !crate::media::ensure_local(relay, &sha).await {
                // Its file went (an erasure or a changed face shared it): fetch it again.
                let key = row.key.clone();
                relay
                    .writer()
                    .run(move |c| pictures::refetch(c, &key))
                    .await
                    .map_err(Refusal::internal)?;
                return Ok((
                    StatusCode::ACCEPTED,
                    axum::Json(serde_json::json!({"status": "pending"})),
                )
                    .into_response());
            }
            let mut resp = relay.media().serve_file(&sha, &content_type, request).await;
            let h = resp.headers_mut();
            h.insert(
                "x-content-type-options",
                HeaderValue::from_static("nosniff"),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=86400"),
            );
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            );
            Ok(resp)
        }
        ("pending", ..) => Ok((
            StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({"status": "pending"})),
        )
            .into_response()),
        _ => Err(Refusal::new(
            StatusCode::GONE,
            linedesk_protocol::ErrorCode::NotFound,
            "the picture could not be fetched",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named_in(p: &Pictures, body: &str) -> Vec<(String, String)> {
        named_by(p, &crate::glance::Glance::of(body))
    }

    fn pictures() -> Pictures {
        Pictures::new("http://127.0.0.1:9/", vec!["http://127.0.0.1:9".into()])
            .expect("client builds")
    }

    #[test]
    fn a_sticker_names_its_picture_and_its_animation() {
        let p = pictures();
        let body = r#"{"type":"message","message":{"type":"sticker","id":"1","packageId":"446","stickerId":"1988","stickerResourceType":"ANIMATION_SOUND"}}"#;
        assert_eq!(
            named_in(&p, body),
            vec![
                (
                    "sticker:1988".into(),
                    "http://127.0.0.1:9/stickershop/v1/sticker/1988/android/sticker.png".into()
                ),
                (
                    "sticker:1988:animation".into(),
                    "http://127.0.0.1:9/stickershop/v1/sticker/1988/iPhone/sticker_animation@2x.png"
                        .into()
                ),
            ]
        );
        let still =
            r#"{"message":{"type":"sticker","stickerId":"1988","stickerResourceType":"STATIC"}}"#;
        assert_eq!(named_in(&p, still).len(), 1);
    }

    #[test]
    fn a_text_names_each_emoji_once_and_no_odd_ids() {
        let p = pictures();
        let body = r#"{"message":{"type":"text","text":"$ hi $ $","emojis":[
            {"index":0,"length":1,"productId":"5ac1bfd5040ab15980c9b435","emojiId":"001"},
            {"index":5,"length":1,"productId":"5ac1bfd5040ab15980c9b435","emojiId":"001"},
            {"index":7,"length":1,"productId":"../x","emojiId":"002"}]}}"#;
        let named = named_in(&p, body);
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].0, "emoji:5ac1bfd5040ab15980c9b435:001");
    }

    #[test]
    fn profile_pictures_only_from_lines_cdn_or_the_configured_bases() {
        let p = pictures();
        assert!(p.may_fetch_profile_picture("https://profile.line-scdn.net/0h1234"));
        assert!(p.may_fetch_profile_picture("http://127.0.0.1:9/sim/pictures/U1.png"));
        for bad in [
            "http://profile.line-scdn.net/0h1234",
            "https://profile.line-scdn.net:8443/x",
            "https://line-scdn.net.evil.example/x",
            "https://169.254.169.254/latest/meta-data",
            "http://127.0.0.1:99/x",
            "file:///etc/passwd",
        ] {
            assert!(!p.may_fetch_profile_picture(bad), "{bad}");
        }
    }
}
