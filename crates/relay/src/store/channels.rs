//! `channels` and `channel_stats`: LINE channels the relay serves, credentials sealed.

use std::collections::HashMap;

use linedesk_line::Secret;
use serde::Serialize;

use super::sql::{Db, Row};
use super::StoreError;
use crate::args;
use crate::vault::{Vault, VaultError};

/// A channel with its credentials opened.
#[derive(Debug, Clone)]
pub struct Channel {
    /// LINE channel ID.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Channel secret (webhook signatures, token issue).
    pub secret: Secret<String>,
    /// Long-lived channel access token.
    pub token: Secret<String>,
    /// Messaging API base URL.
    pub api_base: String,
    /// Content API base URL.
    pub api_data_base: String,
    /// Deleted, UTC ms: webhooks are refused; the credentials stay only until the last
    /// messages to its customers are out.
    pub deleted_at: Option<i64>,
}

/// Health figures of a channel, for `channel list` and the admin view.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelStats {
    /// LINE channel ID.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Events made durable.
    pub events_received: i64,
    /// When the last one arrived.
    pub last_event_at: Option<i64>,
    /// Webhooks refused for a missing or wrong signature.
    pub signature_failures: i64,
    /// Media downloads that failed.
    pub media_failures: i64,
}

/// Error loading channels.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelError {
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The database (either engine) failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A credential did not open with the relay key.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// A sealed credential is not UTF-8.
    #[error("credential of channel {0} is not text")]
    NotText(String),
}

fn label(id: &str, field: &str) -> String {
    format!("channel/{id}/{field}")
}

/// Adds or replaces a channel.
pub fn upsert<'a>(
    db: impl Into<Db<'a>>,
    vault: &Vault,
    ch: &Channel,
    now: i64,
) -> Result<(), ChannelError> {
    let db = db.into();
    db.execute(
        "INSERT INTO channels (id, name, secret_enc, token_enc, api_base, api_data_base, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET name = ?2, secret_enc = ?3, token_enc = ?4,
             api_base = ?5, api_data_base = ?6, deleted_at = NULL",
        args![
            ch.id,
            ch.name,
            vault.seal(&label(&ch.id, "secret"), ch.secret.expose().as_bytes()),
            vault.seal(&label(&ch.id, "token"), ch.token.expose().as_bytes()),
            ch.api_base,
            ch.api_data_base,
            now
        ],
    )?;
    db.execute(
        "INSERT INTO channel_stats (channel_id) VALUES (?1) ON CONFLICT DO NOTHING",
        args![ch.id],
    )?;
    Ok(())
}

/// Removes a channel; its events stay in the log. Returns whether it existed.
pub fn remove<'a>(db: impl Into<Db<'a>>, id: &str) -> Result<bool, StoreError> {
    let db = db.into();
    Ok(db.execute("DELETE FROM channels WHERE id = ?1", args![id])? > 0)
}

/// Marks a channel deleted (webhooks refused from now on). Returns whether it was live.
pub fn mark_deleted<'a>(db: impl Into<Db<'a>>, id: &str, now: i64) -> Result<bool, StoreError> {
    let db = db.into();
    Ok(db.execute(
        "UPDATE channels SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
        args![id, now],
    )? > 0)
}

/// Forgets a deleted channel's credentials (the row, its history and links stay).
pub fn wipe_credentials<'a>(db: impl Into<Db<'a>>, id: &str) -> Result<(), StoreError> {
    let db = db.into();
    // The empty value is bound: SQLite's `X''` is a bit string on PostgreSQL.
    let empty: &[u8] = &[];
    db.execute(
        "UPDATE channels SET secret_enc = ?2, token_enc = ?2 WHERE id = ?1 AND deleted_at IS NOT NULL",
        args![id, empty],
    )?;
    Ok(())
}

/// IDs of deleted channels.
pub fn deleted_ids<'a>(db: impl Into<Db<'a>>) -> Result<Vec<String>, StoreError> {
    let db = db.into();
    db.query(
        "SELECT id FROM channels WHERE deleted_at IS NOT NULL",
        args![],
        |r| r.get::<String>(0),
    )
}

/// A channel's row, credentials still sealed.
type SealedRow = (
    String,
    String,
    Vec<u8>,
    Vec<u8>,
    String,
    String,
    Option<i64>,
);

fn sealed_row(r: &Row<'_>) -> Result<SealedRow, StoreError> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

/// Every channel that still has credentials, opened.
pub fn all<'a>(db: impl Into<Db<'a>>, vault: &Vault) -> Result<Readable, ChannelError> {
    let db = db.into();
    let rows = db.query(
        "SELECT id, name, secret_enc, token_enc, api_base, api_data_base, deleted_at FROM channels
         WHERE length(secret_enc) > 0 ORDER BY id",
        args![],
        sealed_row,
    )?;
    let mut out = Readable::default();
    for (id, name, secret, token, api_base, api_data_base, deleted_at) in rows {
        let open = |field: &str, blob: &[u8]| -> Result<Secret<String>, ChannelError> {
            let bytes = vault.open(&label(&id, field), blob)?;
            String::from_utf8(bytes)
                .map(Secret::new)
                .map_err(|_| ChannelError::NotText(id.clone()))
        };
        // One channel sealed under another key (a restored backup, a lost key) must not stop
        // the others: it is set aside and reported.
        let (secret, token) = match (open("secret", &secret), open("token", &token)) {
            (Ok(s), Ok(t)) => (s, t),
            (Err(e), _) | (_, Err(e)) => {
                out.unreadable.push((id, e.to_string()));
                continue;
            }
        };
        out.channels.push(Channel {
            id,
            name,
            secret,
            token,
            api_base,
            api_data_base,
            deleted_at,
        });
    }
    Ok(out)
}

/// Each channel's bot user ID, where an admin's console learned it from LINE.
pub fn bot_ids<'a>(db: impl Into<Db<'a>>) -> Result<HashMap<String, String>, StoreError> {
    let db = db.into();
    let rows = db.query(
        "SELECT id, bot_user_id FROM channels WHERE bot_user_id IS NOT NULL",
        args![],
        |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
    )?;
    Ok(rows.into_iter().collect())
}

/// The channels whose credentials open, and those that do not (id, why).
#[derive(Debug, Default)]
pub struct Readable {
    /// Served.
    pub channels: Vec<Channel>,
    /// Set aside: sealed under another relay key, or damaged.
    pub unreadable: Vec<(String, String)>,
}

/// Health figures of every channel.
pub fn stats<'a>(db: impl Into<Db<'a>>) -> Result<Vec<ChannelStats>, StoreError> {
    let db = db.into();
    db.query(
        "SELECT c.id, c.name, COALESCE(s.events_received, 0), s.last_event_at,
                COALESCE(s.signature_failures, 0), COALESCE(s.media_failures, 0)
         FROM channels c LEFT JOIN channel_stats s ON s.channel_id = c.id ORDER BY c.id",
        args![],
        |r| {
            Ok(ChannelStats {
                id: r.get(0)?,
                name: r.get(1)?,
                events_received: r.get(2)?,
                last_event_at: r.get(3)?,
                signature_failures: r.get(4)?,
                media_failures: r.get(5)?,
            })
        },
    )
}

/// Signature failures counted for one channel.
pub fn signature_failures<'a>(db: impl Into<Db<'a>>, id: &str) -> Result<i64, StoreError> {
    let db = db.into();
    Ok(db
        .query_opt(
            "SELECT signature_failures FROM channel_stats WHERE channel_id = ?1",
            args![id],
            |r| r.get::<i64>(0),
        )?
        .unwrap_or(0))
}

/// Counts one refused webhook.
pub fn count_signature_failure<'a>(
    db: impl Into<Db<'a>>,
    id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    count_signature_failures(db, id, 1, now)
}

/// Adds `n` signature failures, the last at `last_at`.
pub fn count_signature_failures<'a>(
    db: impl Into<Db<'a>>,
    id: &str,
    n: u64,
    last_at: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    // The stored row's columns are named with the table: unqualified, PostgreSQL finds them
    // ambiguous with `excluded`'s.
    db.execute(
        "INSERT INTO channel_stats (channel_id, signature_failures, last_signature_failure_at)
         VALUES (?1, ?2, ?3)
         ON CONFLICT (channel_id) DO UPDATE SET
             signature_failures = channel_stats.signature_failures + ?2,
             last_signature_failure_at = ?3",
        args![id, n as i64, last_at],
    )?;
    Ok(())
}

/// Counts events made durable: one statement, run by the writer inside each batch's
/// transaction.
pub fn count_events<'a>(
    db: impl Into<Db<'a>>,
    id: &str,
    n: usize,
    now: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    // The stored row's columns are named with the table: unqualified, PostgreSQL finds them
    // ambiguous with `excluded`'s.
    db.execute(
        &format!(
            "INSERT INTO channel_stats (channel_id, events_received, last_event_at, day, events_day)
             VALUES (?1, ?2, ?3, ?4, ?2) {COUNTED_ON_CONFLICT}"
        ),
        args![id, n as i64, now, now.div_euclid(86_400_000)],
    )?;
    Ok(())
}

/// How an insert of (channel_id, events_received, last_event_at, day, events_day) adds to a
/// channel's counts; [`count_events`] and the PostgreSQL batch append
/// (`events::append_many`) share it.
pub(super) const COUNTED_ON_CONFLICT: &str = "ON CONFLICT (channel_id) DO UPDATE SET
    events_received = channel_stats.events_received + excluded.events_received,
    last_event_at = excluded.last_event_at,
    events_day = CASE WHEN channel_stats.day = excluded.day
                      THEN channel_stats.events_day + excluded.events_day
                      ELSE excluded.events_day END,
    day = excluded.day";

/// Puts the channel's failed media back in line and clears its failure count (an admin's
/// "retry"); answers how many files will be fetched again.
pub fn retry_failed_media<'a>(
    db: impl Into<Db<'a>>,
    id: &str,
    now: i64,
) -> Result<usize, StoreError> {
    let db = db.into();
    let n = super::media::retry_failed(db, id, now)?;
    db.execute(
        "UPDATE channel_stats SET media_failures = 0 WHERE channel_id = ?1",
        args![id],
    )?;
    Ok(n)
}

/// Counts a failed media download.
pub fn count_media_failure<'a>(db: impl Into<Db<'a>>, id: &str) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE channel_stats SET media_failures = media_failures + 1 WHERE channel_id = ?1",
        args![id],
    )?;
    Ok(())
}

/// A channel's row and health figures as stored, for the admin's health panel: credentials
/// still sealed (empty once wiped), JSON columns unparsed, missing figures as zero.
#[derive(Debug, Clone)]
pub struct HealthRow {
    /// Display name.
    pub name: String,
    /// Sealed channel secret.
    pub secret_enc: Vec<u8>,
    /// Sealed access token.
    pub token_enc: Vec<u8>,
    /// The bot's name at LINE.
    pub bot_name: Option<String>,
    /// The consent message settings, JSON.
    pub consent: Option<String>,
    /// Deleted, UTC ms.
    pub deleted_at: Option<i64>,
    /// Events made durable.
    pub events_received: i64,
    /// When the last one arrived.
    pub last_event_at: Option<i64>,
    /// Webhooks refused for a missing or wrong signature.
    pub signature_failures: i64,
    /// Media downloads that failed.
    pub media_failures: i64,
    /// UTC day number `events_day` counts.
    pub day: Option<i64>,
    /// Events received on `day`.
    pub events_day: i64,
    /// Whether LINE accepted the token when last checked.
    pub token_valid: Option<bool>,
    /// When it was checked.
    pub token_checked_at: Option<i64>,
    /// What LINE said when it refused the token.
    pub token_error: Option<String>,
    /// LINE's webhook URL, as last read.
    pub webhook_endpoint: Option<String>,
    /// LINE's "Use webhook" switch, as last read.
    pub webhook_active: Option<bool>,
    /// Monthly message limit.
    pub quota_limit: Option<i64>,
    /// Messages counted against it this month.
    pub quota_used: Option<i64>,
    /// The last webhook test, JSON.
    pub last_test: Option<String>,
}

fn health(r: &Row<'_>) -> Result<HealthRow, StoreError> {
    Ok(HealthRow {
        name: r.get(0)?,
        secret_enc: r.get(1)?,
        token_enc: r.get(2)?,
        bot_name: r.get(3)?,
        consent: r.get(4)?,
        deleted_at: r.get(5)?,
        events_received: r.get(6)?,
        last_event_at: r.get(7)?,
        signature_failures: r.get(8)?,
        media_failures: r.get(9)?,
        day: r.get(10)?,
        events_day: r.get(11)?,
        token_valid: r.get(12)?,
        token_checked_at: r.get(13)?,
        token_error: r.get(14)?,
        webhook_endpoint: r.get(15)?,
        webhook_active: r.get(16)?,
        quota_limit: r.get(17)?,
        quota_used: r.get(18)?,
        last_test: r.get(19)?,
    })
}

/// One channel's row and health figures, deleted or not.
pub fn health_row<'a>(db: impl Into<Db<'a>>, id: &str) -> Result<Option<HealthRow>, StoreError> {
    let db = db.into();
    db.query_opt(
        "SELECT c.name, c.secret_enc, c.token_enc, c.bot_name, c.consent, c.deleted_at,
             COALESCE(s.events_received, 0), s.last_event_at, COALESCE(s.signature_failures, 0),
             COALESCE(s.media_failures, 0), s.day, COALESCE(s.events_day, 0), s.token_valid,
             s.token_checked_at, s.token_error, s.webhook_endpoint, s.webhook_active,
             s.quota_limit, s.quota_used, s.last_test
         FROM channels c LEFT JOIN channel_stats s ON s.channel_id = c.id WHERE c.id = ?1",
        args![id],
        health,
    )
}

/// IDs of every channel, live ones first, each part by name.
pub fn ids_live_first<'a>(db: impl Into<Db<'a>>) -> Result<Vec<String>, StoreError> {
    let db = db.into();
    db.query(
        "SELECT id FROM channels ORDER BY deleted_at IS NOT NULL, name, id",
        args![],
        |r| r.get::<String>(0),
    )
}

/// IDs of the channels not deleted.
pub fn live_ids<'a>(db: impl Into<Db<'a>>) -> Result<Vec<String>, StoreError> {
    let db = db.into();
    db.query(
        "SELECT id FROM channels WHERE deleted_at IS NULL",
        args![],
        |r| r.get::<String>(0),
    )
}

/// Whether a channel with this ID is set up and not deleted.
pub fn is_live<'a>(db: impl Into<Db<'a>>, id: &str) -> Result<bool, StoreError> {
    let db = db.into();
    Ok(db
        .query_opt(
            "SELECT EXISTS (SELECT 1 FROM channels WHERE id = ?1 AND deleted_at IS NULL)",
            args![id],
            |r| r.get::<bool>(0),
        )?
        .unwrap_or(false))
}

/// Records the bot's user ID and name, as LINE gave them.
pub fn set_bot<'a>(
    db: impl Into<Db<'a>>,
    id: &str,
    bot_user_id: &str,
    bot_name: &str,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE channels SET bot_user_id = ?2, bot_name = ?3 WHERE id = ?1",
        args![id, bot_user_id, bot_name],
    )?;
    Ok(())
}

/// Records that LINE accepted the channel's token at `now`.
pub fn mark_token_accepted<'a>(
    db: impl Into<Db<'a>>,
    id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE channel_stats SET token_valid = 1, token_checked_at = ?2, token_error = NULL WHERE channel_id = ?1",
        args![id, now],
    )?;
    Ok(())
}

/// Sets the consent message settings (JSON), or turns consent off (`None`).
pub fn set_consent<'a>(
    db: impl Into<Db<'a>>,
    id: &str,
    consent: Option<&str>,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE channels SET consent = ?2 WHERE id = ?1",
        args![id, consent],
    )?;
    Ok(())
}

/// Makes sure the channel has a `channel_stats` row.
pub fn ensure_stats<'a>(db: impl Into<Db<'a>>, id: &str) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "INSERT INTO channel_stats (channel_id) VALUES (?1) ON CONFLICT DO NOTHING",
        args![id],
    )?;
    Ok(())
}

/// Records what LINE said of the token when checked at `checked_at` (`valid` is `None` when
/// LINE could not be reached).
pub fn set_token_check<'a>(
    db: impl Into<Db<'a>>,
    id: &str,
    valid: Option<bool>,
    checked_at: i64,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE channel_stats SET token_valid = ?2, token_checked_at = ?3, token_error = ?4 WHERE channel_id = ?1",
        args![id, valid, checked_at, error],
    )?;
    Ok(())
}

/// Records the bot's name, as LINE gave it.
pub fn set_bot_name<'a>(db: impl Into<Db<'a>>, id: &str, name: &str) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE channels SET bot_name = ?2 WHERE id = ?1",
        args![id, name],
    )?;
    Ok(())
}

/// Records LINE's webhook URL and "Use webhook" switch for the channel (`None`: none set).
pub fn set_webhook<'a>(
    db: impl Into<Db<'a>>,
    id: &str,
    endpoint: Option<&str>,
    active: Option<bool>,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE channel_stats SET webhook_endpoint = ?2, webhook_active = ?3 WHERE channel_id = ?1",
        args![id, endpoint, active],
    )?;
    Ok(())
}

/// Records the monthly message limit and how much of it is used.
pub fn set_quota<'a>(
    db: impl Into<Db<'a>>,
    id: &str,
    limit: Option<i64>,
    used: Option<i64>,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE channel_stats SET quota_limit = ?2, quota_used = ?3 WHERE channel_id = ?1",
        args![id, limit, used],
    )?;
    Ok(())
}

/// Keeps the last webhook test's result (JSON).
pub fn set_last_test<'a>(db: impl Into<Db<'a>>, id: &str, test: &str) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE channel_stats SET last_test = ?2 WHERE channel_id = ?1",
        args![id, test],
    )?;
    Ok(())
}
