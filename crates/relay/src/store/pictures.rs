//! `pictures`: stickers, LINE emoji and customers' profile pictures, by key, with where they
//! are fetched from and how far the fetch got (see [`crate::pictures`]).

use super::sql::{Db, Row};
use super::StoreError;
use crate::args;

/// A picture row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// `sticker:{id}`, `sticker:{id}:animation`, `emoji:{product}:{id}` or
    /// `avatar:{channel}:{user}`.
    pub key: String,
    /// Where it is fetched from.
    pub url: String,
    /// `pending`, `ready` or `failed` (for good: the fallback is shown).
    pub status: String,
    /// SHA-256 of the bytes in the media store, when ready.
    pub sha256: Option<String>,
    /// Its content type, when ready.
    pub content_type: Option<String>,
    /// Attempts so far.
    pub attempts: i64,
    /// When the first attempt failed (UTC ms), while it is being retried.
    pub first_tried_at: Option<i64>,
}

const COLUMNS: &str = "key, url, status, sha256, content_type, attempts, first_tried_at";

fn row(r: &Row<'_>) -> Result<Picture, StoreError> {
    Ok(Picture {
        key: r.get(0)?,
        url: r.get(1)?,
        status: r.get(2)?,
        sha256: r.get(3)?,
        content_type: r.get(4)?,
        attempts: r.get(5)?,
        first_tried_at: r.get(6)?,
    })
}

/// Records a picture to fetch from `url`; nothing changes when it is already known by that
/// URL. A known key with another URL (a new profile picture) is fetched again; the file it
/// had, if any, is answered so the caller can drop it when nothing else uses it.
pub fn want<'a>(db: impl Into<Db<'a>>, key: &str, url: &str) -> Result<Option<String>, StoreError> {
    let db = db.into();
    let before = db.query_opt(
        "SELECT url, sha256 FROM pictures WHERE key = ?1",
        args![key],
        |r| Ok((r.get::<String>(0)?, r.get::<Option<String>>(1)?)),
    )?;
    match before {
        Some((known, _)) if known == url => Ok(None),
        Some((_, old)) => {
            db.execute(
                "UPDATE pictures SET url = ?2, status = 'pending', sha256 = NULL, content_type = NULL,
                     error = NULL, attempts = 0, first_tried_at = NULL, next_attempt_at = 0
                 WHERE key = ?1",
                args![key, url],
            )?;
            Ok(old)
        }
        None => {
            db.execute(
                "INSERT INTO pictures (key, url, status) VALUES (?1, ?2, 'pending')
                 ON CONFLICT DO NOTHING",
                args![key, url],
            )?;
            Ok(None)
        }
    }
}

/// Forgets a picture (a customer's removed or erased profile picture); answers its file.
pub fn remove<'a>(db: impl Into<Db<'a>>, key: &str) -> Result<Option<String>, StoreError> {
    let db = db.into();
    let file = db
        .query_opt(
            "SELECT sha256 FROM pictures WHERE key = ?1",
            args![key],
            |r| r.get::<Option<String>>(0),
        )?
        .flatten();
    db.execute("DELETE FROM pictures WHERE key = ?1", args![key])?;
    Ok(file)
}

/// One picture.
pub fn get<'a>(db: impl Into<Db<'a>>, key: &str) -> Result<Option<Picture>, StoreError> {
    db.into().query_opt(
        &format!("SELECT {COLUMNS} FROM pictures WHERE key = ?1"),
        args![key],
        row,
    )
}

/// Fetches a picture again (its file is no longer there).
pub fn refetch<'a>(db: impl Into<Db<'a>>, key: &str) -> Result<(), StoreError> {
    db.into().execute(
        "UPDATE pictures SET status = 'pending', sha256 = NULL, content_type = NULL, error = NULL,
             attempts = 0, first_tried_at = NULL, next_attempt_at = 0
         WHERE key = ?1 AND status = 'ready'",
        args![key],
    )?;
    Ok(())
}

/// Pictures to fetch that are due at `now`.
pub fn pending<'a>(
    db: impl Into<Db<'a>>,
    now: i64,
    limit: usize,
) -> Result<Vec<Picture>, StoreError> {
    db.into().query(
        &format!(
            "SELECT {COLUMNS} FROM pictures WHERE status = 'pending' AND next_attempt_at <= ?1
             ORDER BY next_attempt_at, key LIMIT ?2"
        ),
        args![now, limit as i64],
        row,
    )
}

/// The picture is in the media store. False when its row changed meanwhile (another URL, or
/// erased): the file is then not this row's.
pub fn mark_ready<'a>(
    db: impl Into<Db<'a>>,
    key: &str,
    url: &str,
    content_type: &str,
    sha256: &str,
) -> Result<bool, StoreError> {
    let n = db.into().execute(
        "UPDATE pictures SET status = 'ready', content_type = ?3, sha256 = ?4, error = NULL,
             attempts = attempts + 1
         WHERE key = ?1 AND url = ?2 AND status = 'pending'",
        args![key, url, content_type, sha256],
    )?;
    Ok(n > 0)
}

/// An attempt failed: `status` is `pending` (tried again at `next_attempt_at`) or `failed`.
pub fn mark_attempt<'a>(
    db: impl Into<Db<'a>>,
    key: &str,
    url: &str,
    status: &str,
    error: &str,
    now: i64,
    next_attempt_at: i64,
) -> Result<(), StoreError> {
    db.into().execute(
        "UPDATE pictures SET status = ?3, error = ?4, attempts = attempts + 1,
             next_attempt_at = ?6, first_tried_at = COALESCE(first_tried_at, ?5)
         WHERE key = ?1 AND url = ?2 AND status = 'pending'",
        args![key, url, status, error, now, next_attempt_at],
    )?;
    Ok(())
}
