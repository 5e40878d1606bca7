//! The relay's SQLite database: schema, migrations, and one module per table.
//!
//! One writer connection lives on the [`crate::log`] writer thread; readers open their own
//! connections (WAL lets them read while the writer commits). `synchronous = FULL` makes each
//! commit durable before the webhook is answered.

pub mod access;
pub mod automated;
pub mod channels;
pub mod cluster;
pub mod erasure;
pub mod events;
pub mod identity;
pub mod media;
pub mod memory;
pub mod meta;
pub mod migrate;
pub mod pg;
pub mod pg_tls;
pub mod pictures;
pub mod profiles;
pub mod reminders;
pub mod replies;
pub mod reports;
pub mod routing;
pub mod sends;
pub mod setup;
pub mod sql;
pub mod uploads;
pub mod users;
pub mod viewers;

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
        M::up(include_str!("migrations/010_cluster.sql")),
        M::up(include_str!("migrations/011_routing_depth.sql")),
        M::up(include_str!("migrations/012_reports.sql")),
        M::up(include_str!("migrations/013_supervision.sql")),
        M::up(include_str!("migrations/014_sla_breach.sql")),
        M::up(include_str!("migrations/015_quick_replies.sql")),
        M::up(include_str!("migrations/016_send_later.sql")),
        M::up(include_str!("migrations/017_pictures.sql")),
        M::up(include_str!("migrations/018_reminders.sql")),
        M::up(include_str!("migrations/019_viewers.sql")),
        M::up(include_str!("migrations/020_reply_images.sql")),
    ])
}

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] postgres::Error),
    /// Something around the database failed (sealing credentials, a file).
    #[error("{0}")]
    Other(String),
    /// A column did not hold what the store expected.
    #[error("column {column}: {why}")]
    Type {
        /// Which column of the row.
        column: usize,
        /// What was wrong.
        why: String,
    },
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

/// Where the relay keeps its records: SQLite in the data directory (the default), or a
/// PostgreSQL database that several relays may share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// `relay.db` in this data directory.
    Sqlite(std::path::PathBuf),
    /// A `postgres://` URL.
    Postgres(String),
}

impl Database {
    /// Whether this is PostgreSQL (several relays may share it).
    pub fn is_postgres(&self) -> bool {
        matches!(self, Database::Postgres(_))
    }

    /// The database a relay's settings name: `database` when set, else SQLite in `data`.
    pub fn of(config: &crate::ServeConfig) -> Self {
        Self::choose(config.database.as_deref(), &config.data)
    }

    /// `url` (`postgres://…` or `postgresql://…`) when given, else SQLite in `data`.
    pub fn choose(url: Option<&str>, data: &Path) -> Self {
        match url {
            Some(url) => Database::Postgres(url.to_owned()),
            None => Database::Sqlite(data.to_owned()),
        }
    }

    /// Whether `url` names a database this relay can use: a `postgres://` URL, reached in
    /// plain text only on this machine (loopback or a Unix socket) and over TLS otherwise
    /// (`store::pg_tls`). Nothing is connected or read.
    pub fn check_url(url: &str) -> Result<(), String> {
        if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            return Err(format!(
                "database must be a postgres:// URL (or left out for SQLite in the data directory), not {}",
                mask_password(url)
            ));
        }
        let (config, _) = pg_tls::plan(url).map_err(|e| e.to_string())?;
        if config.get_hosts().is_empty() {
            return Err(
                "database URL names no host: give a host name, an address or a socket".into(),
            );
        }
        Ok(())
    }

    /// Opens (creating and migrating) the writer's connection.
    pub fn open_writer(&self) -> Result<sql::Conn, StoreError> {
        Ok(match self {
            Database::Sqlite(dir) => sql::Conn::Sqlite(open_log_writer(dir)?),
            Database::Postgres(url) => {
                sql::Conn::Postgres(Box::new(std::cell::RefCell::new(pg::open(url)?)))
            }
        })
    }

    /// Opens a reader's connection (the writer migrated the schema first).
    pub fn open_reader(&self) -> Result<sql::Conn, StoreError> {
        Ok(match self {
            Database::Sqlite(dir) => sql::Conn::Sqlite(open_reader(dir)?),
            Database::Postgres(url) => sql::Conn::Postgres(Box::new(std::cell::RefCell::new(
                sql::PgConn::connect(url)?,
            ))),
        })
    }
}

impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(dir) => write!(f, "SQLite in {}", dir.display()),
            Database::Postgres(url) => write!(f, "PostgreSQL at {}", mask_password(url)),
        }
    }
}

/// A database URL with its password replaced by `***`, for messages and logs.
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Writer tasks speak rusqlite's error; a store error keeps its SQLite cause, and anything
/// else travels as a boxed cause.
impl From<StoreError> for rusqlite::Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Sqlite(e) => e,
            other => rusqlite::Error::ToSqlConversionFailure(Box::new(other)),
        }
    }
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
    conn.busy_timeout(BUSY_WAIT)?;
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
    // When the log restarts after a checkpoint, a WAL grown past this is cut back to it.
    conn.pragma_update(None, "journal_size_limit", WAL_KEEP_BYTES)?;
    Ok(conn)
}

/// The WAL size kept for reuse after a restart (bytes).
const WAL_KEEP_BYTES: i64 = 64 << 20;

/// How often the WAL is copied into the database. Each copy ends with an fsync of the
/// database file, and a commit's own fsync waits behind it on the same disk: small copies
/// often keep that wait short.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// WAL frames past which the log is started again (about 16 MiB of 4 KiB pages).
const WAL_RESTART_FRAMES: i64 = 4096;

/// How long a restart waits for readers still inside the WAL to let go.
const WAL_RESTART_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// How long a connection waits for a lock.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Checkpoints the WAL from its own connection every [`CHECKPOINT_EVERY`], until `stop` is set,
/// and calls `restart` when the log should start again from its beginning.
///
/// A PASSIVE checkpoint copies the WAL into the database without blocking anyone. But under
/// steady load some reader always holds a snapshot inside the WAL, so SQLite never finds the
/// moment it needs to start the log again: at the ingest bench's load the WAL grew by some
/// 60 MB a second, without end, and every commit grew the file, which costs a second write
/// for the file's size. So once everything is copied and the WAL is past
/// [`WAL_RESTART_FRAMES`], the writer is asked to [`restart_wal`] between two batches.
pub fn checkpoint_loop(
    data_dir: &Path,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    restart: impl Fn(),
) {
    let conn = match Connection::open(data_dir.join(DB_FILE)) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "checkpointer could not open the database");
            return;
        }
    };
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(CHECKPOINT_EVERY);
        let passive = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        });
        match passive {
            Ok((log, copied)) if log >= WAL_RESTART_FRAMES && copied == log => restart(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "wal checkpoint failed"),
        }
    }
}

/// Starts the WAL again from its beginning, on the writer's own connection between two
/// batches (so no other writer holds the log): copies what the last checkpoint left, waits
/// up to [`WAL_RESTART_WAIT`] for readers still inside the WAL (new ones read the database
/// file, which is then complete), and the next commit writes from the WAL's start, into a
/// file of the same size (cut back to `journal_size_limit` if it grew past it). Answers
/// whether it restarted; readers that stayed longer, or the checkpointer's own copy under
/// way, put it off to the next round.
pub fn restart_wal(db: sql::Db<'_>) -> Result<bool, StoreError> {
    wal_checkpoint(db, "RESTART")
}

/// Like [`restart_wal`], and truncates the WAL to nothing (after an erasure: no old frames
/// of erased rows are left behind).
pub fn truncate_wal(db: sql::Db<'_>) -> Result<bool, StoreError> {
    wal_checkpoint(db, "TRUNCATE")
}

/// A blocking checkpoint in `mode` on the writer's connection, waiting at most
/// [`WAL_RESTART_WAIT`] for the readers; whether it was done. SQLite only.
fn wal_checkpoint(db: sql::Db<'_>, mode: &str) -> Result<bool, StoreError> {
    let sql::Db::Sqlite(conn) = db else {
        return Ok(false);
    };
    conn.busy_timeout(WAL_RESTART_WAIT)?;
    let done = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        r.get::<_, i64>(0)
    });
    conn.busy_timeout(BUSY_WAIT)?;
    Ok(done? == 0)
}

/// Opens a reader (the schema must exist: call [`open_writer`] once first).
pub fn open_reader(data_dir: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        data_dir.join(DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_WAIT)?;
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

    /// The string literals of Rust source, comments skipped (a small lexer: enough for
    /// this crate's code, which has no nested block comments inside strings).
    fn string_literals(src: &str) -> Vec<(usize, String)> {
        let b = src.as_bytes();
        let line_of = |i: usize| src[..i].matches('\n').count() + 1;
        let (mut out, mut i) = (Vec::new(), 0);
        while i < b.len() {
            match b[i] {
                b'/' if b.get(i + 1) == Some(&b'/') => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                }
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    i += 2;
                    while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                        i += 1;
                    }
                    i += 2;
                }
                b'\'' => {
                    // A char literal ('x', '\n', '\'') or a lifetime ('a).
                    if b.get(i + 1) == Some(&b'\\') {
                        i += 2;
                        while i < b.len() && b[i] != b'\'' {
                            i += 1;
                        }
                        i += 1;
                    } else if b.get(i + 2) == Some(&b'\'') {
                        i += 3;
                    } else {
                        i += 1;
                    }
                }
                b'r' if matches!(b.get(i + 1), Some(b'"' | b'#'))
                    && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
                {
                    let mut j = i + 1;
                    while b.get(j) == Some(&b'#') {
                        j += 1;
                    }
                    if b.get(j) != Some(&b'"') {
                        i += 1;
                        continue;
                    }
                    let hashes = "#".repeat(j - i - 1);
                    let close = format!("\"{hashes}");
                    let start = j + 1;
                    let end = src[start..].find(&close).map_or(b.len(), |e| start + e);
                    out.push((line_of(i), src[start..end].to_owned()));
                    i = end + close.len();
                }
                b'"' => {
                    let start = i + 1;
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    out.push((line_of(start), src[start..i.min(b.len())].to_owned()));
                    i += 1;
                }
                _ => i += 1,
            }
        }
        out
    }

    /// Only `store/` speaks SQL: no string in the relay's other sources starts with an SQL
    /// statement, so a second database engine means a second store, not a hunt.
    #[test]
    fn no_file_outside_the_store_holds_sql() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let statement = regex::Regex::new(
            r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|PRAGMA|CREATE|ALTER|DROP|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|VACUUM|REPLACE)\b",
        )
        .expect("pattern");
        let mut found = Vec::new();
        let mut files = vec![src.clone()];
        while let Some(path) = files.pop() {
            if path.is_dir() {
                if path == src.join("store") {
                    continue;
                }
                for entry in std::fs::read_dir(&path).expect("read dir") {
                    files.push(entry.expect("entry").path());
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read");
                for (line, literal) in string_literals(&text) {
                    if statement.is_match(&literal) {
                        found.push(format!("{}:{line}", path.display()));
                    }
                }
            }
        }
        found.sort();
        assert!(found.is_empty(), "SQL outside src/store/: {found:#?}");
    }

    /// The lexer finds SQL where it hides and not in comments or prose.
    #[test]
    fn the_sql_check_sees_strings_and_skips_comments() {
        let sample = r##"
            // "SELECT in a comment"
            let a = 'x'; fn f<'a>(s: &'a str) {}
            conn.execute("UPDATE t SET a = 1", []);
            let q = format!(r#"
                SELECT {COLS} FROM t"#);
            let p = "Select a queue";
        "##;
        let literals: Vec<String> = string_literals(sample).into_iter().map(|l| l.1).collect();
        assert_eq!(literals.len(), 3, "{literals:?}");
        assert!(literals[0].starts_with("UPDATE"));
        assert!(literals[1].trim_start().starts_with("SELECT"));
    }

    #[test]
    fn a_database_off_this_machine_is_reached_over_tls_only() {
        use super::Database;
        for ok in [
            "postgres://linedesk@127.0.0.1:5432/relay",
            "postgresql://u:secret@localhost/relay",
            "postgres://u@[::1]:5433/relay",
            "postgres://u@/relay?host=/run/postgresql",
            "postgres://u:secret@db.example.com/relay",
            "postgres://u@10.0.0.5:5432/relay?sslmode=verify-full&sslrootcert=/etc/ca.pem",
        ] {
            assert_eq!(Database::check_url(ok), Ok(()), "{ok}");
        }
        for (bad, says) in [
            (
                "postgres://u:secret@db.example.com/relay?sslmode=disable",
                "only over TLS",
            ),
            ("mysql://u@127.0.0.1/relay", "postgres:// URL"),
            ("postgres://u@/relay", "names no host"),
        ] {
            let refused = Database::check_url(bad).expect_err(bad);
            assert!(refused.contains(says), "{bad}: {refused}");
            assert!(!refused.contains("secret"), "no password in {refused}");
        }
    }

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

    /// With a reader inside the WAL SQLite does not start the log again by itself; the
    /// checkpointer asks for a restart once all is copied, and [`super::restart_wal`] (what
    /// the writer runs between batches when asked) puts it off while the reader stays and
    /// does it once the reader lets go.
    #[test]
    fn a_wal_past_its_mark_is_started_again_between_batches() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let dir = tempfile::tempdir().expect("tempdir");
        let writer = super::open_log_writer(dir.path()).expect("writer");
        writer
            .execute_batch("CREATE TABLE scratch (b BLOB)")
            .expect("table");
        let fill = |rows: usize| {
            writer.execute_batch("BEGIN").expect("begin");
            for _ in 0..rows {
                writer
                    .execute("INSERT INTO scratch VALUES (zeroblob(4000))", [])
                    .expect("insert");
            }
            writer.execute_batch("COMMIT").expect("commit");
        };
        let frames = || {
            writer
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1))
                .expect("checkpoint")
        };
        fill(super::WAL_RESTART_FRAMES as usize + 100);
        // A reader inside the WAL, as the tail always is under load: it keeps SQLite from
        // starting the log again by itself.
        let reader = super::open_reader(dir.path()).expect("reader");
        reader.execute_batch("BEGIN").expect("begin");
        let rows: i64 = reader
            .query_row("SELECT count(*) FROM scratch", [], |r| r.get(0))
            .expect("read");
        assert!(rows > super::WAL_RESTART_FRAMES, "the reader sees the rows");
        let (stop, asked) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let checkpointer = {
            let (dir, stop, asked) = (dir.path().to_owned(), stop.clone(), asked.clone());
            std::thread::spawn(move || {
                super::checkpoint_loop(&dir, stop, || asked.store(true, Ordering::SeqCst))
            })
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !asked.load(Ordering::SeqCst) {
            assert!(std::time::Instant::now() < deadline, "no restart asked for");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        stop.store(true, Ordering::SeqCst);
        checkpointer.join().expect("checkpointer");
        fill(1);
        assert!(frames() > super::WAL_RESTART_FRAMES, "the log went on");
        // The restart waits a moment for the reader, then puts itself off...
        let db = super::sql::Db::Sqlite(&writer);
        assert!(!super::restart_wal(db).expect("restart"), "put off");
        fill(1);
        assert!(
            frames() > super::WAL_RESTART_FRAMES,
            "the log still goes on"
        );
        // ...until it lets go; then the next commit writes from the WAL's start.
        reader.execute_batch("COMMIT").expect("end read");
        assert!(super::restart_wal(db).expect("restart"), "restarted");
        fill(1);
        assert!(frames() < 16, "the log started again: {} frames", frames());
    }
}
