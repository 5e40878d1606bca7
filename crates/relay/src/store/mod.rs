//! The relay's SQLite database: schema, migrations, and one module per table.
//!
//! One writer connection lives on the [`crate::log`] writer thread; readers open their own
//! connections (WAL lets them read while the writer commits). `synchronous = FULL` makes each
//! commit durable before the webhook is answered.

pub mod channels;
pub mod events;
pub mod media;
pub mod users;

use std::path::Path;

use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "relay.db";

/// Every schema change, in order. Never edit one after it merged; add a new one.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("migrations/001_initial.sql")),
        M::up(include_str!("migrations/002_transcript.sql")),
        M::up(include_str!("migrations/003_routing.sql")),
        M::up(include_str!("migrations/004_uploads.sql")),
        M::up(include_str!("migrations/005_queue_order.sql")),
        M::up(include_str!("migrations/006_offer_index.sql")),
        M::up(include_str!("migrations/007_identity.sql")),
        M::up(include_str!("migrations/008_trust.sql")),
        M::up(include_str!("migrations/009_media_retry.sql")),
    ])
}

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// A file next to the database failed.
    #[error("file error at {path}: {source}")]
    Io {
        /// Which file.
        path: String,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
}

/// Opens (creating and migrating) the database for writing.
pub fn open_writer(data_dir: &Path) -> Result<Connection, StoreError> {
    std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
        path: data_dir.display().to_string(),
        source,
    })?;
    private(data_dir, 0o700)?;
    let db = data_dir.join(DB_FILE);
    if !db.exists() {
        // Created owner-only, whatever the umask; SQLite gives the WAL and shm the same mode.
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&db)
            .map_err(|source| StoreError::Io {
                path: db.display().to_string(),
                source,
            })?;
    }
    for file in [DB_FILE, "relay.db-wal", "relay.db-shm"] {
        let path = data_dir.join(file);
        if path.exists() {
            private(&path, 0o600)?;
        }
    }
    let mut conn = Connection::open(&db)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Erased customer data must not linger in free pages.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    migrations().to_latest(&mut conn)?;
    Ok(conn)
}

/// Sets owner-only permissions: customers' messages and the relay key live here.
fn private(path: &Path, mode: u32) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|source| {
        StoreError::Io {
            path: path.display().to_string(),
            source,
        }
    })
}

/// Opens the writer connection of a running relay: like [`open_writer`], but checkpoints are
/// left to [`checkpoint_loop`], so no webhook waits behind copying the WAL into the database.
pub fn open_log_writer(data_dir: &Path) -> Result<Connection, StoreError> {
    let conn = open_writer(data_dir)?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    Ok(conn)
}

/// Checkpoints the WAL from its own connection about once a second (PASSIVE: never blocks
/// the writer or readers), until `stop` is set.
pub fn checkpoint_loop(data_dir: &Path, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let conn = match Connection::open(data_dir.join(DB_FILE)) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "checkpointer could not open the database");
            return;
        }
    };
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(std::time::Duration::from_millis(1000));
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "wal checkpoint failed");
        }
    }
}

/// Opens a reader (the schema must exist: call [`open_writer`] once first).
pub fn open_reader(data_dir: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        data_dir.join(DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

/// Current time as UTC milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use rusqlite::{params, Connection};

    #[test]
    fn migrations_are_valid() {
        assert!(
            super::migrations().validate().is_ok(),
            "migrations must apply cleanly"
        );
    }

    /// The data directory and the database are the relay's alone, whatever the umask.
    #[test]
    fn the_data_directory_and_database_are_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("dir");
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let _conn = super::open_writer(&data).expect("open");
        let mode =
            |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700, "data directory");
        assert_eq!(mode(&data.join(super::DB_FILE)), 0o600, "database");
        assert_eq!(mode(&data.join("relay.db-wal")), 0o600, "its WAL");
    }

    /// A data directory written before the trust boundary (schema 7) opens in place: its
    /// events get their chat, and a console's filtered stream and backfill can read them.
    #[test]
    fn a_data_directory_of_the_previous_version_upgrades_in_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let mut old = Connection::open(dir.path().join(super::DB_FILE)).expect("open");
            super::migrations()
                .to_version(&mut old, 7)
                .expect("the previous schema");
            let rows = [
                (
                    r#"{"type":"message","source":{"type":"user","userId":"U1"},"message":{"type":"text","id":"1","text":"hi"}}"#,
                    "message",
                ),
                (
                    r#"{"type":"message","source":{"type":"group","groupId":"C9","userId":"U2"},"message":{"type":"text","id":"2","text":"yo"}}"#,
                    "message",
                ),
                (
                    r#"{"type":"linedeskAgent","agent":{"user":"rita"}}"#,
                    "linedeskAgent",
                ),
                (
                    r#"{"type":"message","source":{"type":"user","userId":"U1"},"message":{"type":"text","id":"3","text":"again"}}"#,
                    "message",
                ),
            ];
            for (i, (body, kind)) in rows.iter().enumerate() {
                old.execute(
                    "INSERT INTO events (channel_id, webhook_event_id, event_type, event_ts, received_at, body)
                     VALUES ('1650000000', ?1, ?2, 1, 1, ?3)",
                    params![format!("E{i}"), kind, body],
                )
                .expect("old event");
            }
            old.execute(
                "INSERT INTO sent_messages (outbox_id, channel_id, chat_id, user_id, via, messages, line_ids, sent_at, seq)
                 VALUES ('o1', '1650000000', 'U1', 1, 'push', '[]', '[]', 1, 4)",
                [],
            )
            .expect("an old transcript report");
        }
        let conn = super::open_writer(dir.path()).expect("upgraded in place");
        let chats: Vec<Option<String>> = conn
            .prepare("SELECT chat_id FROM events ORDER BY seq")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(
            chats,
            [
                Some("U1".into()),
                Some("C9".into()),
                None,
                Some("U1".into())
            ],
            "a group's chat is the group; team-wide events have none"
        );
        let history =
            super::events::chat_before(&conn, "1650000000", "U1", 4, None, 100).expect("read");
        assert_eq!(
            history.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [1],
            "a chat's earlier events, for a console that just got it"
        );
        let kept: i64 = conn
            .query_row("SELECT COUNT(*) FROM sent_messages", [], |r| r.get(0))
            .expect("count");
        assert_eq!(
            kept, 1,
            "earlier transcript reports stay (export reads them)"
        );
        conn.execute(
            "INSERT INTO sends (outbox_id, channel_id, chat_id, user_name, messages, via, state, created_at, updated_at)
             VALUES ('00000000-0000-4000-8000-000000000001', '1650000000', 'U1', 'rita', '[]', 'push', 'sending', 1, 1)",
            [],
        )
        .expect("the sends table exists");
    }
}
