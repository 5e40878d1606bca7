//! `media` and the pipeline cursor in `meta`: customer media downloaded at ingest.
//!
//! A row is `pending` from the moment the pipeline sees the event (in the same commit that
//! moves the cursor), so a crash between seeing and downloading loses nothing: pending rows are
//! picked up again at start.

use super::sql::{Db, Row};
use super::StoreError;
use crate::args;

/// A media row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// Channel.
    pub channel_id: String,
    /// LINE message ID.
    pub message_id: String,
    /// `pending`, `ready`, `gone` or `failed`.
    pub status: String,
    /// Content type LINE sent.
    pub content_type: Option<String>,
    /// Bytes.
    pub size: Option<i64>,
    /// SHA-256 (hex) of the bytes; also the file name in the media store.
    pub sha256: Option<String>,
    /// The customer's file name, for file messages.
    pub file_name: Option<String>,
    /// Download attempts so far.
    pub attempts: i64,
    /// When the first attempt failed (UTC ms), while it is being retried.
    pub first_tried_at: Option<i64>,
    /// When it may be tried again (UTC ms), while pending.
    pub next_attempt_at: i64,
}

const PIPELINE_CURSOR: &str = "media_pipeline_seq";

/// The pipeline's cursor: every event up to it has been looked at.
pub fn cursor<'a>(db: impl Into<Db<'a>>) -> Result<u64, StoreError> {
    let db = db.into();
    Ok(db
        .query_opt(
            "SELECT value FROM meta WHERE key = ?1",
            args![PIPELINE_CURSOR],
            |r| r.get::<i64>(0),
        )?
        .unwrap_or(0) as u64)
}

/// Moves the cursor forward (never back).
pub fn set_cursor<'a>(db: impl Into<Db<'a>>, seq: u64) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE
             SET value = CASE WHEN meta.value >= ?2 THEN meta.value ELSE ?2 END",
        args![PIPELINE_CURSOR, seq as i64],
    )?;
    Ok(())
}

/// Records media to download (ignored if already known, or if its event is gone: the
/// customer was erased after the pipeline read the event).
pub fn enqueue<'a>(
    db: impl Into<Db<'a>>,
    channel_id: &str,
    message_id: &str,
    seq: u64,
    file_name: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "INSERT INTO media (channel_id, message_id, seq, status, file_name, updated_at)
         SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), CAST(?3 AS BIGINT), 'pending', CAST(?4 AS TEXT),
             CAST(?5 AS BIGINT)
         WHERE EXISTS (SELECT 1 FROM events WHERE seq = ?3)
         ON CONFLICT DO NOTHING",
        args![channel_id, message_id, seq as i64, file_name, now],
    )?;
    Ok(())
}

fn row(r: &Row<'_>) -> Result<Media, StoreError> {
    Ok(Media {
        channel_id: r.get(0)?,
        message_id: r.get(1)?,
        status: r.get(2)?,
        content_type: r.get(3)?,
        size: r.get(4)?,
        sha256: r.get(5)?,
        file_name: r.get(6)?,
        attempts: r.get(7)?,
        first_tried_at: r.get(8)?,
        next_attempt_at: r.get(9)?,
    })
}

const COLUMNS: &str =
    "channel_id, message_id, status, content_type, size, sha256, file_name, attempts, first_tried_at, next_attempt_at";

/// Media to download that is due at `now`, the longest due first.
pub fn pending<'a>(
    db: impl Into<Db<'a>>,
    now: i64,
    limit: usize,
) -> Result<Vec<Media>, StoreError> {
    let db = db.into();
    db.query(
        &format!(
            "SELECT {COLUMNS} FROM media WHERE status = 'pending' AND next_attempt_at <= ?1
             ORDER BY next_attempt_at, seq LIMIT ?2"
        ),
        args![now, limit as i64],
        row,
    )
}

/// Puts a channel's failed media back in line, as new (an admin's "retry"); answers how many.
pub fn retry_failed<'a>(
    db: impl Into<Db<'a>>,
    channel_id: &str,
    now: i64,
) -> Result<usize, StoreError> {
    let db = db.into();
    let n = db.execute(
        "UPDATE media SET status = 'pending', attempts = 0, next_attempt_at = 0,
             first_tried_at = NULL, error = NULL, updated_at = ?2
         WHERE channel_id = ?1 AND status = 'failed'",
        args![channel_id, now],
    )?;
    Ok(n as usize)
}

/// One media row.
pub fn get<'a>(
    db: impl Into<Db<'a>>,
    channel_id: &str,
    message_id: &str,
) -> Result<Option<Media>, StoreError> {
    let db = db.into();
    db.query_opt(
        &format!("SELECT {COLUMNS} FROM media WHERE channel_id = ?1 AND message_id = ?2"),
        args![channel_id, message_id],
        row,
    )
}

/// The download finished and the file is in the media store.
/// Returns false when the row is gone (the customer was erased while the download ran).
pub fn mark_ready<'a>(
    db: impl Into<Db<'a>>,
    channel_id: &str,
    message_id: &str,
    content_type: &str,
    size: i64,
    sha256: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let db = db.into();
    let n = db.execute(
        "UPDATE media SET status = 'ready', content_type = ?3, size = ?4, sha256 = ?5, error = NULL,
             attempts = attempts + 1, updated_at = ?6 WHERE channel_id = ?1 AND message_id = ?2",
        args![channel_id, message_id, content_type, size, sha256, now],
    )?;
    Ok(n > 0)
}

/// The download failed: `final_status` is `gone` (unsent, 410), `failed`, or `pending` to be
/// tried again at `next_attempt_at`.
pub fn mark_attempt<'a>(
    db: impl Into<Db<'a>>,
    channel_id: &str,
    message_id: &str,
    final_status: &str,
    error: &str,
    now: i64,
    next_attempt_at: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE media SET status = ?3, error = ?4, attempts = attempts + 1, updated_at = ?5,
             next_attempt_at = ?6, first_tried_at = COALESCE(first_tried_at, ?5)
         WHERE channel_id = ?1 AND message_id = ?2",
        args![
            channel_id,
            message_id,
            final_status,
            error,
            now,
            next_attempt_at
        ],
    )?;
    Ok(())
}
