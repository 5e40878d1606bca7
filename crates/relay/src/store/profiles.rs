//! `profiles`: customers' LINE profiles (name, picture, language) as last fetched, per
//! channel and LINE user.

use super::sql::Db;
use super::StoreError;
use crate::args;

/// A profile as LINE gave it; all `None` when LINE answered 404 (blocked, not a friend, no
/// consent).
#[derive(Debug, Clone, Copy, Default)]
pub struct Fetched<'a> {
    /// Display name.
    pub display_name: Option<&'a str>,
    /// Picture URL.
    pub picture_url: Option<&'a str>,
    /// Language.
    pub language: Option<&'a str>,
}

/// When the profile of a LINE user on a channel was last fetched, if ever.
pub fn fetched_at<'a>(
    db: impl Into<Db<'a>>,
    channel_id: &str,
    user_id: &str,
) -> Result<Option<i64>, StoreError> {
    let db = db.into();
    db.query_opt(
        "SELECT fetched_at FROM profiles WHERE channel_id = ?1 AND user_id = ?2",
        args![channel_id, user_id],
        |r| r.get::<i64>(0),
    )
}

/// Records a fetched profile (or LINE's 404), replacing the one before.
pub fn upsert<'a>(
    db: impl Into<Db<'a>>,
    channel_id: &str,
    user_id: &str,
    profile: &Fetched<'_>,
    now: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "INSERT INTO profiles (channel_id, user_id, display_name, picture_url, language, fetched_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (channel_id, user_id) DO UPDATE SET display_name = ?3, picture_url = ?4,
             language = ?5, fetched_at = ?6",
        args![
            channel_id,
            user_id,
            profile.display_name,
            profile.picture_url,
            profile.language,
            now
        ],
    )?;
    Ok(())
}
