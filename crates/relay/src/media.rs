//! Customer media: downloaded from LINE's content API at ingest (LINE deletes it later,
//! REFERENCE.md §5), stored by content hash, served to signed-in consoles.
//!
//! The pipeline follows the event log from its own cursor. For every message event with
//! downloadable content it records a `pending` media row in the same commit that moves the
//! cursor; downloads then run with limited concurrency. 410 (unsent) is recorded as `gone`;
//! other failures are retried with backoff and end as `failed` (counted for the channel's health).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use linedesk_line::api::ApiError;
use linedesk_line::webhook::{Event, EventBody, MessageContent};
use linedesk_protocol::ErrorCode;
use sha2::{Digest, Sha256};

use crate::policy::{AnyUser, Refusal};
use crate::store::{self, events, media};
use crate::Relay;

/// Downloads at once.
const CONCURRENCY: usize = 4;
/// Attempts before a download is `failed`.
const MAX_ATTEMPTS: i64 = 5;

/// Where media files live: `media/ab/abcdef…` by SHA-256.
#[derive(Debug, Clone)]
pub struct MediaStore {
    root: PathBuf,
    in_flight: Arc<Mutex<HashSet<(String, String)>>>,
}

impl MediaStore {
    /// A store rooted at `root`.
    pub fn new(root: PathBuf) -> Self {
        Self {
            root,
            in_flight: Arc::default(),
        }
    }

    /// Path of the file with this hash.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2.min(sha256.len())]).join(sha256)
    }

    /// Writes bytes durably (temp file, fsync, rename); returns their SHA-256.
    pub async fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let hash = hex(&Sha256::digest(bytes));
        let path = self.path_of(&hash);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(hash);
        }
        let dir = path.parent().expect("media path has a parent").to_owned();
        tokio::fs::create_dir_all(&dir).await?;
        let tmp = dir.join(format!(".{hash}.tmp"));
        let bytes = bytes.to_vec();
        let (tmp2, path2) = (tmp.clone(), path.clone());
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write as _;
            let mut f = std::fs::File::create(&tmp2)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp2, &path2)?;
            std::fs::File::open(path2.parent().expect("parent"))?.sync_all()
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(hash)
    }
}

impl MediaStore {
    /// Receives a body into a temporary file in the store, hashing it on the way, without ever
    /// holding more than one chunk in memory. Nothing is kept unless [`MediaStore::keep`] is
    /// called.
    pub async fn stage<S, E>(&self, mut body: S, max: u64) -> Result<Staged, StageError>
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        use futures_util::StreamExt as _;
        use tokio::io::AsyncWriteExt as _;
        let incoming = self.root.join(".incoming");
        tokio::fs::create_dir_all(&incoming).await?;
        let (file, path) = tempfile::NamedTempFile::new_in(&incoming)?.into_parts();
        let mut file = tokio::fs::File::from_std(file);
        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(SNIFF_LEN);
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| StageError::Body(e.to_string()))?;
            size += chunk.len() as u64;
            if size > max {
                return Err(StageError::TooLarge { max });
            }
            if head.len() < SNIFF_LEN {
                let take = (SNIFF_LEN - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        Ok(Staged {
            path,
            sha256: hex(&hasher.finalize()),
            size,
            head,
        })
    }

    /// Makes a staged file part of the store (fsync, rename, fsync of its folder); answers its
    /// SHA-256. A file already there by that hash is kept and the staged copy dropped.
    pub async fn keep(&self, staged: Staged) -> std::io::Result<String> {
        let path = self.path_of(&staged.sha256);
        let Staged {
            path: tmp, sha256, ..
        } = staged;
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if path.exists() {
                return Ok(());
            }
            let dir = path.parent().expect("media path has a parent");
            std::fs::create_dir_all(dir)?;
            std::fs::File::open(&tmp)?.sync_all()?;
            tmp.persist(&path).map_err(|e| e.error)?;
            std::fs::File::open(dir)?.sync_all()
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(sha256)
    }

    /// Serves the stored file `sha256` as `content_type`, streamed in chunks, with Range
    /// (video seeks) and conditional requests answered from `request`'s headers.
    pub async fn serve_file(
        &self,
        sha256: &str,
        content_type: &str,
        request: axum::extract::Request,
    ) -> Response {
        use tower::ServiceExt as _;
        let mime: mime::Mime = content_type
            .parse()
            .unwrap_or(mime::APPLICATION_OCTET_STREAM);
        match tower_http::services::ServeFile::new_with_mime(self.path_of(sha256), &mime)
            .oneshot(request)
            .await
        {
            Ok(resp) => resp.map(axum::body::Body::new),
            Err(never) => match never {},
        }
    }
}

/// Bytes read to tell what a file is.
pub const SNIFF_LEN: usize = 64;

/// A received file not yet in the store; dropped, it is deleted.
#[derive(Debug)]
pub struct Staged {
    path: tempfile::TempPath,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// Its length in bytes.
    pub size: u64,
    /// Its first bytes (up to [`SNIFF_LEN`]).
    pub head: Vec<u8>,
}

impl Staged {
    /// Where it is while staged.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

/// Why a body could not be received.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("more than {max} bytes")]
    TooLarge { max: u64 },
    #[error("the body could not be read: {0}")]
    Body(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Whether an I/O error means the disk is full (or the quota used up).
pub fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What of an event needs downloading: `(message_id, file_name)`.
pub fn downloadable(body: &str) -> Option<(String, Option<String>)> {
    let event: Event = serde_json::from_str(body).ok()?;
    let EventBody::Message { message } = event.body else {
        return None;
    };
    if !message.has_downloadable_content() {
        return None;
    }
    let file_name = match &message {
        MessageContent::File { file_name, .. } => Some(file_name.clone()),
        _ => None,
    };
    Some((message.id()?.to_owned(), file_name))
}

/// Follows the log and downloads media until shutdown.
pub async fn pipeline(relay: Relay) {
    let mut head = relay.writer().head();
    let mut stop = relay.shutdown_signal();
    let mut retry_tick = tokio::time::interval(Duration::from_secs(2));
    let mut scanner = Scanner {
        profile_attempts: Default::default(),
        cursor: None,
        persisted: 0,
        last_persist: std::time::Instant::now(),
    };
    loop {
        let found = match scanner.scan(&relay).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "media pipeline scan failed");
                false
            }
        };
        if found {
            if let Err(e) = start_downloads(&relay).await {
                tracing::warn!(error = %e, "media pipeline could not start downloads");
            }
        }
        tokio::select! {
            r = head.changed() => if r.is_err() { return },
            _ = retry_tick.tick() => {
                if let Err(e) = start_downloads(&relay).await {
                    tracing::warn!(error = %e, "media pipeline could not start downloads");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Walks the log for media. The cursor is written together with any media it found; batches
/// without media only move it in memory and persist it about once a second, so text-only
/// traffic costs the writer no extra commits. Re-scanning after a crash is harmless:
/// enqueueing is idempotent.
struct Scanner {
    profile_attempts: std::collections::HashMap<(String, String), std::time::Instant>,
    cursor: Option<u64>,
    persisted: u64,
    last_persist: std::time::Instant,
}

impl Scanner {
    /// Returns whether any media was queued.
    async fn scan(&mut self, relay: &Relay) -> anyhow::Result<bool> {
        let mut cursor = match self.cursor {
            Some(c) => c,
            None => {
                let c = relay.read(media::cursor).await?;
                self.persisted = c;
                c
            }
        };
        let mut any = false;
        loop {
            let after = cursor;
            let batch = relay
                .read(move |c| events::read_after(c, after, 1000))
                .await?;
            let Some(last) = batch.last().map(|e| e.seq) else {
                break;
            };
            let mut people: Vec<(String, String)> = batch
                .iter()
                .filter(|e| !e.event_type.starts_with("linedesk"))
                .filter_map(|e| {
                    crate::profiles::source_user(&e.body).map(|u| (e.channel_id.clone(), u))
                })
                .collect();
            people.sort();
            people.dedup();
            for (channel, user) in people {
                let key = (channel.clone(), user.clone());
                // One attempt per person per minute, whatever its outcome (LINE may be down).
                let recently = self
                    .profile_attempts
                    .get(&key)
                    .is_some_and(|t| t.elapsed() < Duration::from_secs(60));
                if recently
                    || !crate::profiles::is_stale(relay, &channel, &user)
                        .await
                        .unwrap_or(false)
                {
                    continue;
                }
                self.profile_attempts.insert(key, std::time::Instant::now());
                let relay = relay.clone();
                tokio::spawn(
                    async move { crate::profiles::refresh(&relay, &channel, &user).await },
                );
            }
            if self.profile_attempts.len() > 10_000 {
                self.profile_attempts
                    .retain(|_, t| t.elapsed() < Duration::from_secs(60));
            }
            let found: Vec<(String, String, u64, Option<String>)> = batch
                .into_iter()
                .filter(|e| e.event_type == "message")
                .filter_map(|e| {
                    downloadable(&e.body).map(|(id, name)| (e.channel_id, id, e.seq, name))
                })
                .collect();
            cursor = last;
            if !found.is_empty() {
                any = true;
                let now = store::now_ms();
                relay
                    .writer()
                    .run(move |c| {
                        for (channel, message_id, seq, name) in &found {
                            media::enqueue(c, channel, message_id, *seq, name.as_deref(), now)?;
                        }
                        media::set_cursor(c, last)
                    })
                    .await?;
                self.persisted = last;
                self.last_persist = std::time::Instant::now();
            }
        }
        self.cursor = Some(cursor);
        if cursor > self.persisted && self.last_persist.elapsed() > Duration::from_secs(1) {
            relay
                .writer()
                .run(move |c| media::set_cursor(c, cursor))
                .await?;
            self.persisted = cursor;
            self.last_persist = std::time::Instant::now();
        }
        Ok(any)
    }
}

async fn start_downloads(relay: &Relay) -> anyhow::Result<()> {
    let pending = relay.read(|c| media::pending(c, 64)).await?;
    for row in pending {
        let key = (row.channel_id.clone(), row.message_id.clone());
        {
            let mut in_flight = relay.media().in_flight.lock().expect("in-flight lock");
            if in_flight.len() >= CONCURRENCY || !in_flight.insert(key.clone()) {
                continue;
            }
        }
        let relay = relay.clone();
        tokio::spawn(async move {
            download(&relay, row).await;
            relay
                .media()
                .in_flight
                .lock()
                .expect("in-flight lock")
                .remove(&key);
        });
    }
    Ok(())
}

async fn download(relay: &Relay, row: media::Media) {
    let Some(entry) = relay.registry().get(&row.channel_id) else {
        // Channel removed: nothing can fetch it any more.
        record(relay, &row, "failed", "channel no longer configured").await;
        return;
    };
    if row.attempts > 0 {
        // Back off between attempts: 1 s, 2 s, 4 s, …
        tokio::time::sleep(Duration::from_secs(1 << row.attempts.min(5))).await;
    }
    match entry.client.content(&row.message_id).await {
        Ok(content) => {
            let hash = match relay.media().put(&content.bytes).await {
                Ok(h) => h,
                Err(e) => {
                    record(
                        relay,
                        &row,
                        retry_status(&row),
                        &format!("storing failed: {e}"),
                    )
                    .await;
                    return;
                }
            };
            let (ch, id, ct, size) = (
                row.channel_id.clone(),
                row.message_id.clone(),
                content.content_type,
                content.bytes.len() as i64,
            );
            let now = store::now_ms();
            let path = relay.media().path_of(&hash);
            // Keep the file unless the customer was erased meanwhile and nothing else uses it.
            let keep = relay
                .writer()
                .run(move |c| {
                    if media::mark_ready(c, &ch, &id, &ct, size, &hash, now)? {
                        return Ok(true);
                    }
                    crate::identity::erase::file_in_use(c, &hash)
                })
                .await;
            match keep {
                Ok(true) => {}
                // Erased while it downloaded: its bytes must not stay behind.
                Ok(false) => {
                    if let Err(e) = tokio::fs::remove_file(&path).await {
                        tracing::warn!(error = %e, "could not delete media of an erased customer");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not record media"),
            }
        }
        Err(ApiError::ContentGone { .. }) => {
            record(relay, &row, "gone", "unsent by the customer (410)").await
        }
        Err(e) => {
            let status = if e.is_retryable() {
                retry_status(&row)
            } else {
                "failed"
            };
            record(relay, &row, status, &e.to_string()).await;
        }
    }
}

fn retry_status(row: &media::Media) -> &'static str {
    if row.attempts + 1 >= MAX_ATTEMPTS {
        "failed"
    } else {
        "pending"
    }
}

async fn record(relay: &Relay, row: &media::Media, status: &'static str, error: &str) {
    tracing::warn!(channel = %row.channel_id, message = %row.message_id, status, error, "media download");
    let (ch, id, err) = (
        row.channel_id.clone(),
        row.message_id.clone(),
        error.to_owned(),
    );
    let now = store::now_ms();
    let result = relay
        .writer()
        .run(move |c| {
            media::mark_attempt(c, &ch, &id, status, &err, now)?;
            if status == "failed" {
                store::channels::count_media_failure(c, &ch)?;
            }
            Ok(())
        })
        .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not record media failure");
    }
}

/// Content types served as themselves; anything else goes out as a download.
const SAFE_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/quicktime",
    "audio/mp4",
    "audio/m4a",
    "audio/x-m4a",
    "audio/mpeg",
    "audio/aac",
    "application/pdf",
];

/// `GET /api/media/{channel_id}/{message_id}`: the bytes, for any signed-in user.
pub async fn serve(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    Path((channel_id, message_id)): Path<(String, String)>,
    request: axum::extract::Request,
) -> Result<Response, Refusal> {
    let viewer = caller.viewer();
    let row = relay
        .read(move |c| {
            let Some(row) = media::get(c, &channel_id, &message_id)? else {
                return Ok(None);
            };
            // Another customer's media answers as if it did not exist.
            let chat = crate::access::chat_of_message(c, &channel_id, &message_id)?;
            let may = match chat {
                Some(chat) => crate::access::may_see(c, &viewer, &channel_id, &chat)?,
                None => viewer.sees_all(),
            };
            Ok(may.then_some(row))
        })
        .await?
        .ok_or_else(|| Refusal::not_found("no media for this message"))?;
    match row.status.as_str() {
        "ready" => {}
        "pending" => {
            return Ok((
                StatusCode::ACCEPTED,
                axum::Json(serde_json::json!({"status": "pending"})),
            )
                .into_response())
        }
        "gone" => {
            return Err(Refusal::new(
                StatusCode::GONE,
                ErrorCode::NotFound,
                "the customer unsent this message",
            ))
        }
        _ => {
            return Err(Refusal::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::Internal,
                "the media could not be fetched from LINE",
            ))
        }
    }
    let Some(hash) = row.sha256 else {
        return Err(Refusal::internal("ready media without hash"));
    };
    let declared = row
        .content_type
        .as_deref()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let content_type = if SAFE_TYPES.contains(&declared.as_str()) {
        declared
    } else {
        "application/octet-stream".into()
    };
    let mut resp = relay
        .media()
        .serve_file(&hash, &content_type, request)
        .await;
    let h = resp.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if let Some(name) = row.file_name {
        let encoded: String = url_encode(&name);
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename*=UTF-8''{encoded}")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(resp)
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_line_hosted_media_and_files_are_downloaded() {
        let image = r#"{"type":"message","timestamp":1,"mode":"active","message":{"type":"image","id":"7","contentProvider":{"type":"line"}}}"#;
        assert_eq!(downloadable(image), Some(("7".into(), None)));
        let external = r#"{"type":"message","timestamp":1,"mode":"active","message":{"type":"image","id":"7","contentProvider":{"type":"external","originalContentUrl":"https://x"}}}"#;
        assert_eq!(
            downloadable(external),
            None,
            "external media has no content on LINE"
        );
        let file = r#"{"type":"message","timestamp":1,"mode":"active","message":{"type":"file","id":"8","fileName":"a b.pdf","fileSize":3}}"#;
        assert_eq!(
            downloadable(file),
            Some(("8".into(), Some("a b.pdf".into())))
        );
        let text = r#"{"type":"message","timestamp":1,"mode":"active","message":{"type":"text","id":"9","text":"hi"}}"#;
        assert_eq!(downloadable(text), None);
    }

    #[test]
    fn file_names_are_percent_encoded() {
        assert_eq!(url_encode("報告 1.pdf"), "%E5%A0%B1%E5%91%8A%201.pdf");
    }
}
