//! Customer media: downloaded from LINE's content API at ingest (LINE deletes it later,
//! REFERENCE.md §5), stored by content hash, served to signed-in consoles.
//!
//! The pipeline follows the event log from its own cursor. For every message event with
//! downloadable content it records a `pending` media row in the same commit that moves the
//! cursor; downloads then run with limited concurrency, streamed to disk. 410 (unsent) is
//! recorded as `gone`; other failures are retried with backoff (up to 10 min apart, scheduled
//! in the row, so a restart resumes them) for as long as LINE may keep the content, then end as
//! `failed` (counted for the channel's health, and put back in line by an admin's retry).
//!
//! **Where media lives.** Files are kept by SHA-256 under the data directory. On PostgreSQL
//! the bytes are also stored in the database (`media_blobs`) before any row says they are
//! ready, so every relay sharing the database can serve them and they are backed up and
//! replicated with the rest of the team's data, which a shared file system would not give
//! without more to run. A relay that lacks a file fetches it from the database once and keeps
//! it as a cache; an erasure deletes the bytes from the database and tells every relay to drop
//! its copy.

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
use crate::store::{self, media};
use crate::Relay;

/// Downloads at once.
const CONCURRENCY: usize = 4;

/// Where media files live: `media/ab/abcdef…` by SHA-256.
#[derive(Debug, Clone)]
pub struct MediaStore {
    root: PathBuf,
    in_flight: Arc<Mutex<HashSet<(String, String)>>>,
}

impl MediaStore {
    /// A store rooted at `root`. Files half-received when the relay last stopped are deleted
    /// (their downloads and uploads were never acknowledged).
    pub fn new(root: PathBuf) -> Self {
        let _ = std::fs::remove_dir_all(root.join(".incoming"));
        Self {
            root,
            in_flight: Arc::default(),
        }
    }

    /// Path of the file with this hash.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.root.join(sha256.get(..2).unwrap_or("__")).join(sha256)
    }

    /// Writes bytes durably (a temporary file of its own, fsync, rename); returns their
    /// SHA-256. Concurrent writers of the same bytes each rename a whole file into place.
    pub async fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let hash = hex(&Sha256::digest(bytes));
        let path = self.path_of(&hash);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(hash);
        }
        let incoming = self.root.join(".incoming");
        let bytes = bytes.to_vec();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write as _;
            let dir = path.parent().expect("media path has a parent");
            std::fs::create_dir_all(dir)?;
            std::fs::create_dir_all(&incoming)?;
            let mut tmp = tempfile::NamedTempFile::new_in(&incoming)?;
            tmp.write_all(&bytes)?;
            tmp.as_file().sync_all()?;
            tmp.persist(&path).map_err(|e| e.error)?;
            std::fs::File::open(dir)?.sync_all()
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

/// Puts a stored file's bytes in the database, for the other relays (PostgreSQL only; call
/// before a row says the file is ready).
pub async fn share(relay: &Relay, sha256: &str) -> anyhow::Result<()> {
    if !relay.database().is_postgres() {
        return Ok(());
    }
    let sha = sha256.to_owned();
    let path = relay.media().path_of(sha256);
    relay
        .read(move |c| {
            let file = std::fs::File::open(&path).map_err(|source| store::StoreError::Io {
                path: path.display().to_string(),
                source,
            })?;
            store::cluster::put_blob(c, &sha, std::io::BufReader::new(file))
        })
        .await
}

/// Makes sure this relay has the file `sha256`, fetching it from the database when another
/// relay stored it; whether it is here now.
pub async fn ensure_local(relay: &Relay, sha256: &str) -> bool {
    if tokio::fs::try_exists(relay.media().path_of(sha256))
        .await
        .unwrap_or(false)
    {
        return true;
    }
    if !relay.database().is_postgres() {
        return false;
    }
    // Into a staged file, hashed on the way, then kept like a download.
    let incoming = relay.media().root.join(".incoming");
    let sha = sha256.to_owned();
    let fetched = relay
        .read(move |c| {
            let io = |source| store::StoreError::Io {
                path: incoming.display().to_string(),
                source,
            };
            std::fs::create_dir_all(&incoming).map_err(io)?;
            let tmp = tempfile::NamedTempFile::new_in(&incoming).map_err(io)?;
            let (hash, size) = {
                let mut out = HashingWriter {
                    file: std::io::BufWriter::new(tmp.as_file()),
                    hasher: Sha256::new(),
                    size: 0,
                };
                if !store::cluster::get_blob(c, &sha, &mut out)? {
                    return Ok(None);
                }
                std::io::Write::flush(&mut out.file).map_err(io)?;
                (out.hasher.finalize(), out.size)
            };
            Ok(Some(Staged {
                path: tmp.into_temp_path(),
                sha256: hex(&hash),
                size,
                head: Vec::new(),
            }))
        })
        .await;
    match fetched {
        Ok(Some(staged)) if staged.sha256 == sha256 => match relay.media().keep(staged).await {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, "could not keep media from the database");
                false
            }
        },
        Ok(Some(_)) => {
            tracing::error!(sha256, "media in the database does not match its hash");
            false
        }
        Ok(None) => false,
        Err(e) => {
            tracing::warn!(error = %e, "could not read media from the database");
            false
        }
    }
}

/// A file being written that hashes what goes through it.
struct HashingWriter<W> {
    file: W,
    hasher: Sha256,
    size: u64,
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Deletes a file that no record uses any more, here, in the database and on every other
/// relay (erasure).
pub async fn forget(relay: &Relay, sha256: &str) {
    forget_here(relay, sha256).await;
    if relay.database().is_postgres() {
        let sha = sha256.to_owned();
        if let Err(e) = relay
            .read(move |c| store::cluster::delete_blob(c, &sha))
            .await
        {
            tracing::warn!(error = %e, "could not delete erased media from the database");
        }
        let _ = relay.cluster().notifier().send(format!("x {sha256}"));
    }
}

/// Deletes this relay's copy of a file.
pub async fn forget_here(relay: &Relay, sha256: &str) {
    if let Err(e) = tokio::fs::remove_file(relay.media().path_of(sha256)).await {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(error = %e, "could not delete an erased media file");
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
    // The shared tail's head: it moves once the events are in memory (`tail::events_after`).
    let mut head = relay.tail().head();
    let mut stop = relay.shutdown_signal();
    let mut retry_tick = tokio::time::interval(Duration::from_secs(2));
    let mut scanner = Scanner {
        profile_looks: Default::default(),
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
            start_all(&relay).await;
        }
        tokio::select! {
            r = head.changed() => if r.is_err() { return },
            _ = retry_tick.tick() => start_all(&relay).await,
            _ = relay.pictures().fetch_ended() => start_all(&relay).await,
            _ = stop.changed() => return,
        }
    }
}

/// Walks the log for media. The cursor is written together with any media it found; batches
/// without media only move it in memory and persist it about once a second, so text-only
/// traffic costs the writer no extra commits. Re-scanning after a crash is harmless:
/// enqueueing is idempotent.
struct Scanner {
    profile_looks: std::collections::HashMap<(String, String), std::time::Instant>,
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
                let c = relay.read(|c| media::cursor(c)).await?;
                self.persisted = c;
                c
            }
        };
        let mut any = false;
        loop {
            let after = cursor;
            let batch = crate::tail::events_after(relay, after, 1000).await?;
            let Some(last) = batch.last().map(|e| e.seq) else {
                break;
            };
            // Each body read once, for its sender, its content and the pictures it names.
            let mut people: Vec<(String, String)> = Vec::new();
            let mut found: Vec<(String, String, u64, Option<String>)> = Vec::new();
            let mut named: Vec<(String, String)> = Vec::new();
            for e in batch
                .iter()
                .filter(|e| !e.event_type.starts_with("linedesk"))
            {
                let glance = crate::glance::Glance::of(&e.body);
                if let Some(user) = glance.user() {
                    people.push((e.channel_id.clone(), user.to_owned()));
                }
                if e.event_type != "message" {
                    continue;
                }
                if glance.may_have_content() {
                    if let Some((id, name)) = downloadable(&e.body) {
                        found.push((e.channel_id.clone(), id, e.seq, name));
                    }
                }
                named.extend(crate::pictures::named_by(relay.pictures(), &glance));
            }
            people.sort();
            people.dedup();
            for (channel, user) in people {
                let key = (channel.clone(), user.clone());
                // One look per person per minute, whatever it found (a fresh profile, or a
                // fetch whose outcome is not known yet: LINE may be down): a busy customer's
                // every batch is not a database read.
                let recently = self
                    .profile_looks
                    .get(&key)
                    .is_some_and(|t| t.elapsed() < Duration::from_secs(60));
                if recently {
                    continue;
                }
                self.profile_looks.insert(key, std::time::Instant::now());
                if !crate::profiles::is_stale(relay, &channel, &user)
                    .await
                    .unwrap_or(false)
                {
                    continue;
                }
                let relay = relay.clone();
                tokio::spawn(
                    async move { crate::profiles::refresh(&relay, &channel, &user).await },
                );
            }
            if self.profile_looks.len() > 10_000 {
                self.profile_looks
                    .retain(|_, t| t.elapsed() < Duration::from_secs(60));
            }
            named.sort();
            named.dedup();
            cursor = last;
            if !found.is_empty() || !named.is_empty() {
                any = true;
                let now = store::now_ms();
                relay
                    .writer()
                    .run(move |c| {
                        for (channel, message_id, seq, name) in &found {
                            media::enqueue(c, channel, message_id, *seq, name.as_deref(), now)?;
                        }
                        for (key, url) in &named {
                            store::pictures::want(c, key, url)?;
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

/// Starts the media downloads and picture fetches that are due.
async fn start_all(relay: &Relay) {
    if let Err(e) = start_downloads(relay).await {
        tracing::warn!(error = %e, "media pipeline could not start downloads");
    }
    if let Err(e) = crate::pictures::start_fetches(relay).await {
        tracing::warn!(error = %e, "media pipeline could not start picture fetches");
    }
}

async fn start_downloads(relay: &Relay) -> anyhow::Result<()> {
    let now = relay.clock().now_ms();
    let pending = relay.read(move |c| media::pending(c, now, 64)).await?;
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
        record(
            relay,
            &row,
            Outcome::Final("channel no longer configured".into()),
        )
        .await;
        return;
    };
    let mut content = match entry.client.content_stream(&row.message_id).await {
        Ok(content) => content,
        Err(e) => {
            record(relay, &row, outcome_of(&e)).await;
            return;
        }
    };
    let content_type = content.content_type.clone();
    let chunks = futures_util::stream::unfold(&mut content, |c| async move {
        match c.chunk().await {
            Ok(Some(bytes)) => Some((Ok(bytes), c)),
            Ok(None) => None,
            Err(e) => Some((Err(e), c)),
        }
    });
    let staged = match relay
        .media()
        .stage(Box::pin(chunks), MAX_CUSTOMER_FILE)
        .await
    {
        Ok(staged) => staged,
        Err(StageError::TooLarge { max }) => {
            let why = format!("larger than the {} MiB the relay keeps", max >> 20);
            record(relay, &row, Outcome::Final(why)).await;
            return;
        }
        Err(e) => {
            record(
                relay,
                &row,
                Outcome::Retry(format!("receiving failed: {e}")),
            )
            .await;
            return;
        }
    };
    if staged.size == 0 {
        // Never keep an empty answer as the file (Traps 10).
        record(relay, &row, Outcome::Retry("LINE answered no bytes".into())).await;
        return;
    }
    let size = staged.size as i64;
    let hash = match relay.media().keep(staged).await {
        Ok(h) => h,
        Err(e) => {
            record(relay, &row, Outcome::Retry(format!("storing failed: {e}"))).await;
            return;
        }
    };
    if let Err(e) = share(relay, &hash).await {
        record(relay, &row, Outcome::Retry(format!("storing failed: {e}"))).await;
        return;
    }
    let (ch, id) = (row.channel_id.clone(), row.message_id.clone());
    let now = relay.clock().now_ms();
    let erased_hash = hash.clone();
    // Keep the file unless the customer was erased meanwhile and nothing else uses it.
    let keep = relay
        .writer()
        .run(move |c| {
            if media::mark_ready(c, &ch, &id, &content_type, size, &hash, now)? {
                return Ok(true);
            }
            crate::identity::erase::file_in_use(c, &hash)
        })
        .await;
    match keep {
        Ok(true) => {}
        // Erased while it downloaded: its bytes must not stay behind.
        Ok(false) => forget(relay, &erased_hash).await,
        Err(e) => tracing::warn!(error = %e, "could not record media"),
    }
}

/// What a failed attempt leads to.
enum Outcome {
    /// Unsent by the customer (410): nothing to fetch, ever.
    Gone,
    /// LINE will never give it (a bad request, a file too big): `failed` at once.
    Final(String),
    /// Try again later, while LINE may still hold it.
    Retry(String),
    /// LINE does not know the message: it may not be ready yet, or it was purged; tried
    /// again for [`NOT_FOUND_WINDOW_MS`].
    NotFound(String),
}

fn outcome_of(e: &ApiError) -> Outcome {
    match e {
        ApiError::ContentGone { .. } => Outcome::Gone,
        ApiError::TranscodingFailed { .. } => Outcome::Final(e.to_string()),
        ApiError::Status { status: 404, .. } => Outcome::NotFound(e.to_string()),
        // A malformed request will not get better by asking again.
        ApiError::Status { status: 400, .. } => Outcome::Final(e.to_string()),
        // 5xx, 429, timeouts, a token being replaced (401/403), still transcoding: LINE keeps
        // content for days, so keep asking.
        _ => Outcome::Retry(e.to_string()),
    }
}

/// How long a download is retried. LINE keeps content for an unstated time (REFERENCE.md §5:
/// days in practice), so a LINE outage of hours costs no file.
const RETRY_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;
/// How long a message LINE answers 404 for is retried.
const NOT_FOUND_WINDOW_MS: i64 = 3600 * 1000;
/// Longest wait between two attempts.
const MAX_BACKOFF_MS: i64 = 10 * 60 * 1000;
/// Largest customer file kept (LINE lets customers send files of up to a few hundred MB).
const MAX_CUSTOMER_FILE: u64 = 1 << 30;

/// Wait before the attempt after `attempts` failed ones: 1 s, 2 s, 4 s, … up to 10 min.
fn backoff_ms(attempts: i64) -> i64 {
    (1000i64 << attempts.clamp(0, 20)).min(MAX_BACKOFF_MS)
}

async fn record(relay: &Relay, row: &media::Media, outcome: Outcome) {
    let now = relay.clock().now_ms();
    let tried_for = now - row.first_tried_at.unwrap_or(now);
    let (status, error) = match outcome {
        Outcome::Gone => ("gone", "unsent by the customer (410)".to_owned()),
        Outcome::Final(why) => ("failed", why),
        Outcome::Retry(why) if tried_for < RETRY_WINDOW_MS => ("pending", why),
        Outcome::NotFound(why) if tried_for < NOT_FOUND_WINDOW_MS => ("pending", why),
        Outcome::Retry(why) | Outcome::NotFound(why) => (
            "failed",
            format!("{why}; gave up after {} h", tried_for / 3_600_000),
        ),
    };
    let next = now + backoff_ms(row.attempts);
    tracing::warn!(channel = %row.channel_id, message = %row.message_id, status, error, "media download");
    let (ch, id) = (row.channel_id.clone(), row.message_id.clone());
    let result = relay
        .writer()
        .run(move |c| {
            media::mark_attempt(c, &ch, &id, status, &error, now, next)?;
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
    if !ensure_local(&relay, &hash).await {
        return Err(Refusal::internal("media file missing"));
    }
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
