//! The local cache: conversations and messages from the relay's log, full-text search, and the
//! outbox table. SQLite (bundled), WAL, migrations with `rusqlite_migration`.
//!
//! One writer connection behind a `Mutex` (held only for short synchronous sections, never
//! across `.await`); reads that may be long (opening a large conversation, searching) use a
//! second connection so they never wait behind ingest. Call these from a blocking thread.

mod ingest;
mod outbox_table;
mod queries;
pub mod search;
pub mod suggest;

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension};
use rusqlite_migration::{Migrations, M};
use serde::Serialize;

pub use outbox_table::{OutboxRow, OutboxUpdate};

/// File name of the cache inside the console's data directory.
pub const CACHE_FILE: &str = "cache.db";

/// Every schema change, in order. Never edit one after it merged; add a new one.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("migrations/001_initial.sql")),
        M::up(include_str!("migrations/002_routing.sql")),
        M::up(include_str!("migrations/003_drafts.sql")),
    ])
}

/// What went wrong in the cache.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// SQLite failed.
    #[error("cache database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The schema could not be brought up to date.
    #[error("cache migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// The data directory could not be created.
    #[error("cache directory {path}: {source}")]
    Io {
        /// Which directory.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// No conversation with this id.
    #[error("no conversation {0}")]
    NoConversation(i64),
}

/// A conversation as listed.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conversation {
    /// Cache id.
    pub id: i64,
    /// LINE channel.
    pub channel_id: String,
    /// LINE chat (user, group or room).
    pub chat_id: String,
    /// Customer's display name, once the relay fetched the profile.
    pub display_name: Option<String>,
    /// Profile picture URL (load through the relay, never directly).
    pub picture_url: Option<String>,
    /// Customer's language (BCP-47).
    pub language: Option<String>,
    /// Whether the customer follows the account (not blocked).
    pub following: bool,
    /// Last activity, UTC ms.
    pub last_message_at: i64,
    /// Preview of the last message (plain text).
    pub last_preview: Option<String>,
    /// Messages not yet read.
    pub unread: i64,
    /// Until when (UTC ms, the relay's clock) an answer goes out free, by reply; `None`: by
    /// push (metered). LINE's reply token of the customer's latest message, unused.
    pub reply_until: Option<i64>,
    /// The relay's current conversation for this chat (state, owner, offer), once routed.
    pub routing: Option<linedesk_protocol::routing::ConversationSnapshot>,
}

/// A message or timeline event as shown in a conversation.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Cache id.
    pub id: i64,
    /// Conversation.
    pub conversation_id: i64,
    /// Relay log position, once logged.
    pub seq: Option<i64>,
    /// LINE's message ID.
    pub line_message_id: Option<String>,
    /// Outbox id of an outgoing message.
    pub outbox_id: Option<String>,
    /// `in`, `out` or `event`.
    pub direction: String,
    /// `text`, `image`, `video`, `audio`, `file`, `location`, `sticker`, `follow`, `unblocked`,
    /// `blocked`, `unsend`, `postback`, or another LINE type.
    pub kind: String,
    /// Plain text (render as text, never as HTML).
    pub text: Option<String>,
    /// The LINE message or event object (JSON).
    pub body: String,
    /// UTC ms.
    pub created_at: i64,
    /// Outgoing state: `queued`, `sending`, `sent`, `failed`, `unknown`.
    pub status: Option<String>,
    /// `reply` (free) or `push` (metered).
    pub via: Option<String>,
    /// LINE's reason when failed.
    pub error: Option<String>,
    /// Representative who sent it.
    pub sent_by: Option<String>,
    /// Unsent by the customer: hide it.
    pub hidden: bool,
    /// Sent by the relay automatically: the trigger (`greeting`, `closed`, `survey_comment` …).
    pub automated: Option<String>,
}

/// Text typed into a conversation's composer and not sent yet.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Draft {
    /// Cache id of the conversation.
    pub conversation_id: i64,
    /// The text.
    pub text: String,
}

/// Longest draft kept, in UTF-16 units (LINE's limit for a text message).
pub const MAX_DRAFT_UNITS: usize = 5000;

/// A search hit.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchHit {
    /// The message.
    pub message: Message,
    /// Its conversation's display name.
    pub display_name: Option<String>,
}

/// The cache.
pub struct Cache {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

impl Cache {
    /// Opens (creating and migrating) the cache in `dir`.
    pub fn open(dir: &Path) -> Result<Self, CacheError> {
        std::fs::create_dir_all(dir).map_err(|source| CacheError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        // Customers' messages live here: the person's alone, whatever the umask.
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(
                |source| CacheError::Io {
                    path: dir.display().to_string(),
                    source,
                },
            )?;
        }
        let path = dir.join(CACHE_FILE);
        let mut writer = Connection::open(&path)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a send the representative pressed must survive a power cut, like the relay's log.
        writer.pragma_update(None, "synchronous", "FULL")?;
        writer.pragma_update(None, "foreign_keys", "ON")?;
        // An erased customer's messages must not linger in free pages.
        writer.pragma_update(None, "secure_delete", "ON")?;
        writer.busy_timeout(std::time::Duration::from_secs(10))?;
        migrations().to_latest(&mut writer)?;
        let reader =
            Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        reader.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(Self {
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
        })
    }

    fn w(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.writer.lock().expect("cache writer lock")
    }

    fn r(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.reader.lock().expect("cache reader lock")
    }

    /// The highest relay sequence stored (the resume cursor).
    pub fn cursor(&self) -> Result<u64, CacheError> {
        Ok(self
            .meta("cursor")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// A `meta` value.
    pub fn meta(&self, key: &str) -> Result<Option<String>, CacheError> {
        Ok(self
            .w()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Sets a `meta` value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), CacheError> {
        self.w().execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
            [key, value],
        )?;
        Ok(())
    }

    /// Removes everything (sign-out of one relay, sign-in to another): routing history and
    /// representatives too, before the conversations they point at.
    pub fn clear(&self) -> Result<(), CacheError> {
        let mut conn = self.w();
        // All or nothing: a failure rolls back when `tx` is dropped.
        let tx = conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM outbox; DELETE FROM messages_fts; DELETE FROM messages; DELETE FROM drafts;
             DELETE FROM episodes; DELETE FROM agents; DELETE FROM conversations; DELETE FROM meta;",
        )?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn clear_leaves_nothing_of_the_last_relay_routing_included() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = super::Cache::open(dir.path()).expect("cache");
        cache
            .w()
            .execute_batch(
                "INSERT INTO conversations (id, channel_id, chat_id) VALUES (1, 'C', 'U1');
                 INSERT INTO episodes (id, conversation_id, version, state, opened_at, snapshot)
                     VALUES ('E1', 1, 1, 'active', 0, '{}');
                 INSERT INTO agents (user, snapshot) VALUES ('rita', '{}');
                 INSERT INTO drafts (conversation_id, text, updated_at) VALUES (1, 'half', 0);
                 INSERT INTO meta (key, value) VALUES ('cursor', '7');",
            )
            .expect("rows of a relay");
        cache
            .clear()
            .expect("cleared despite the episode pointing at its conversation");
        for table in [
            "conversations",
            "episodes",
            "agents",
            "meta",
            "messages",
            "outbox",
            "drafts",
        ] {
            let n: i64 = cache
                .w()
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .expect("count");
            assert_eq!(n, 0, "{table} kept rows of the last relay");
        }
    }

    #[test]
    fn drafts_outlive_the_console_and_go_with_their_conversation() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let cache = super::Cache::open(dir.path()).expect("cache");
            cache
                .w()
                .execute_batch(
                    "INSERT INTO conversations (id, channel_id, chat_id) VALUES (1, 'C', 'U1'), (2, 'C', 'U2');",
                )
                .expect("two chats");
            assert!(cache
                .set_draft(1, "Half-written: your parcel", 5)
                .expect("kept"));
            assert!(cache.set_draft(2, "x", 5).expect("kept"));
            assert!(cache
                .set_draft(2, "Thanks for waiting", 6)
                .expect("replaced"));
            assert!(
                !cache.set_draft(9, "ghost", 7).expect("answered"),
                "no draft for a conversation the cache does not have"
            );
        }
        // A new process (a restart, or after a crash: each save is committed on its own).
        let cache = super::Cache::open(dir.path()).expect("cache again");
        let mut drafts = cache.drafts().expect("drafts");
        drafts.sort_by_key(|d| d.conversation_id);
        let texts: Vec<(i64, &str)> = drafts
            .iter()
            .map(|d| (d.conversation_id, d.text.as_str()))
            .collect();
        assert_eq!(
            texts,
            [(1, "Half-written: your parcel"), (2, "Thanks for waiting")]
        );
        assert!(cache.set_draft(2, "", 8).expect("removed"));
        cache
            .w()
            .execute("DELETE FROM conversations WHERE id = 1", [])
            .expect("the chat goes (erased, or out of sight)");
        assert!(cache.drafts().expect("drafts").is_empty(), "its draft too");
    }

    #[test]
    fn migrations_are_valid() {
        assert!(
            super::migrations().validate().is_ok(),
            "cache migrations must apply cleanly"
        );
    }
}
