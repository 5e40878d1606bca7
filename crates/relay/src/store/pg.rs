//! The relay's database on PostgreSQL: connecting and bringing the schema up to date.
//!
//! Schema changes are numbered files under `migrations/pg/`, applied in order inside one
//! transaction each and recorded in `schema_migrations`. Several relays may start at once on
//! one database: an advisory lock lets one migrate while the others wait, then find nothing
//! left to do.

use super::sql::PgConn;
use super::StoreError;

/// Every PostgreSQL schema change, in order. Never edit one after it merged; add a new one.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/pg/001_schema.sql")),
    (2, include_str!("migrations/pg/002_cluster.sql")),
    (3, include_str!("migrations/pg/003_event_chat.sql")),
    (4, include_str!("migrations/pg/004_routing_depth.sql")),
    (5, include_str!("migrations/pg/005_reports.sql")),
    (6, include_str!("migrations/pg/006_supervision.sql")),
    (7, include_str!("migrations/pg/007_sla_breach.sql")),
    (8, include_str!("migrations/pg/008_quick_replies.sql")),
    (9, include_str!("migrations/pg/009_send_later.sql")),
    (10, include_str!("migrations/pg/010_pictures.sql")),
    (11, include_str!("migrations/pg/011_reminders.sql")),
    (12, include_str!("migrations/pg/012_viewers.sql")),
    (13, include_str!("migrations/pg/013_reply_images.sql")),
];

/// Advisory lock key held while migrating ("linedesk" in ASCII).
const MIGRATION_LOCK: i64 = 0x6c69_6e65_6465_736b;

/// Connects to `url` and brings the schema up to date.
pub fn open(url: &str) -> Result<PgConn, StoreError> {
    let mut conn = PgConn::connect(url)?;
    super::sql::off_runtime(|| migrate(&mut conn, MIGRATIONS.len()))?;
    Ok(conn)
}

/// Applies the migrations up to number `to` that the database does not have yet; the
/// version it is at afterwards.
pub fn migrate(conn: &mut PgConn, to: usize) -> Result<i64, StoreError> {
    let client = conn.client()?;
    client.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )?;
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    let done: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )?
        .get(0);
    for (version, sql) in MIGRATIONS.iter().take(to) {
        if *version <= done {
            continue;
        }
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[version, &super::now_ms()],
        )?;
    }
    let now: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )?
        .get(0);
    tx.commit()?;
    Ok(now)
}

/// The URL of a database of the cluster at `cluster_url` that belongs to the data directory
/// `data` (named after its path), created unless it exists. For tests and the test command.
pub fn database_for(cluster_url: &str, data: &std::path::Path) -> Result<String, StoreError> {
    super::sql::off_runtime(|| create_database_for(cluster_url, data))
}

/// Copies the database of data directory `from` as the database of `to` (tests that start
/// many relays from one seeded directory copy the directory and this).
pub fn copy_database_for(
    cluster_url: &str,
    from: &std::path::Path,
    to: &std::path::Path,
) -> Result<(), StoreError> {
    super::sql::off_runtime(|| {
        let mut admin = super::pg_tls::connect(cluster_url)?;
        admin.batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY",
            database_name(to),
            database_name(from)
        ))?;
        Ok(())
    })
}

/// The database name of a data directory: a hash of its path.
fn database_name(data: &std::path::Path) -> String {
    use sha2::{Digest as _, Sha256};
    let digest = Sha256::digest(data.to_string_lossy().as_bytes());
    std::iter::once("relay_".to_owned())
        .chain(digest[..12].iter().map(|b| format!("{b:02x}")))
        .collect()
}

fn create_database_for(cluster_url: &str, data: &std::path::Path) -> Result<String, StoreError> {
    let name = database_name(data);
    let mut admin = super::pg_tls::connect(cluster_url)?;
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])?
        .is_some();
    if !exists {
        if let Err(e) = admin.batch_execute(&format!("CREATE DATABASE {name} STRATEGY FILE_COPY")) {
            // Another process created it first.
            if e.code() != Some(&postgres::error::SqlState::DUPLICATE_DATABASE) {
                return Err(e.into());
            }
        }
    }
    let (base, _) = cluster_url.rsplit_once('/').ok_or_else(|| {
        StoreError::Other(format!(
            "{} names no database",
            super::mask_password(cluster_url)
        ))
    })?;
    Ok(format!("{base}/{name}"))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::RefCell;
    use std::collections::{BTreeMap, BTreeSet};
    use std::time::{Duration, Instant};

    use super::super::sql::Db;
    use crate::args;

    /// A fresh database in the test cluster (`LINEDESK_TEST_POSTGRES`, which
    /// `scripts/test.sh` starts), or `None` with a "skipped" line when there is none.
    pub(crate) fn fresh_database(test: &str) -> Option<String> {
        let Ok(url) = std::env::var("LINEDESK_TEST_POSTGRES") else {
            println!("skipped: {test}: LINEDESK_TEST_POSTGRES is not set (scripts/test.sh starts a cluster)");
            return None;
        };
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        admin
            .batch_execute(&format!("CREATE DATABASE {name} STRATEGY FILE_COPY"))
            .expect("create database");
        let (base, _) = url.rsplit_once('/').expect("url with a database");
        Some(format!("{base}/{name}"))
    }

    async fn beat(writer: &crate::log::Writer) -> Result<(), crate::log::WriteError> {
        writer
            .run(|c| super::super::cluster::heartbeat(c, "relay-a", 2_500).map(drop))
            .await
    }

    /// On PostgreSQL a writer transaction waits for the log's lock before it locks any other
    /// row, so relays whose batches mix appends, routing and heartbeats lock rows in one
    /// order and cannot deadlock each other.
    #[test]
    fn a_writer_transaction_takes_the_log_lock_before_any_other_row() {
        let Some(url) = fresh_database("log_lock_first") else {
            return;
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let database = super::super::Database::Postgres(url.clone());
        let writer =
            crate::log::Writer::start(database.open_writer().expect("writer")).expect("started");
        runtime.block_on(beat(&writer)).expect("a first beat");

        // Another relay holds the log's lock.
        let mut holder = postgres::Client::connect(&url, postgres::NoTls).expect("holder");
        holder.batch_execute("BEGIN").expect("begin");
        holder
            .query_one("SELECT seq FROM log_head WHERE one = 1 FOR UPDATE", &[])
            .expect("the log's lock");
        let waiting = runtime.spawn(async move {
            let out = beat(&writer).await;
            (writer, out)
        });

        // The writer waits for it, holding no lease or relay row meanwhile.
        let mut probe = postgres::Client::connect(&url, postgres::NoTls).expect("probe");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let blocked: i64 = probe
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                    &[],
                )
                .expect("activity")
                .get(0);
            if blocked == 1 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the writer's heartbeat did not wait for the log's lock"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        probe.batch_execute("BEGIN").expect("begin");
        probe
            .query("SELECT 1 FROM leases FOR UPDATE NOWAIT", &[])
            .expect("no lease row is locked by the waiting writer");
        probe
            .query("SELECT 1 FROM relays FOR UPDATE NOWAIT", &[])
            .expect("no relay row is locked by the waiting writer");
        probe.batch_execute("ROLLBACK").expect("rollback");

        holder.batch_execute("COMMIT").expect("release");
        let (_writer, out) = runtime.block_on(waiting).expect("joined");
        out.expect("the beat went through once the lock was free");
    }

    /// The relay reaches the test cluster over TLS when the URL asks for it, checking the
    /// server's certificate against the given CA, and refuses a server whose certificate
    /// does not chain to it.
    #[test]
    fn the_relay_speaks_verified_tls_to_postgresql() {
        let Some(url) = fresh_database("tls") else {
            return;
        };
        let Ok(ca) = std::env::var("LINEDESK_TEST_POSTGRES_CA") else {
            println!(
                "skipped: tls: LINEDESK_TEST_POSTGRES_CA is not set (scripts/test.sh sets it)"
            );
            return;
        };
        let named = url.replacen("@127.0.0.1:", "@localhost:", 1);
        assert_ne!(named, url, "the test cluster's URL names 127.0.0.1");
        let encrypted = |url: &str| -> bool {
            let conn = RefCell::new(super::open(url).expect("connected and migrated"));
            Db::Postgres(&conn)
                .query_opt(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    args![],
                    |r| r.get::<bool>(0),
                )
                .expect("pg_stat_ssl")
                .expect("this backend")
        };
        let verified = format!("{named}?sslmode=verify-full&sslrootcert={ca}");
        assert!(encrypted(&verified), "sslmode=verify-full is encrypted");
        assert!(!encrypted(&url), "plain text on loopback when not asked");

        // A CA the server's certificate does not chain to.
        let dir = tempfile::tempdir().expect("tempdir");
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let other = dir.path().join("other-ca.pem");
        std::fs::write(&other, params.self_signed(&key).expect("CA").pem()).expect("write");
        let refused = super::super::sql::PgConn::connect(&format!(
            "{named}?sslmode=verify-full&sslrootcert={}",
            other.display()
        ))
        .err()
        .expect("a server the CA does not vouch for is refused")
        .to_string();
        assert!(
            refused.to_lowercase().contains("certificate"),
            "the refusal names the certificate: {refused}"
        );
    }

    #[test]
    fn appends_are_counted_once_on_postgresql() {
        let Some(url) = fresh_database("appends_are_counted_once") else {
            return;
        };
        let conn = RefCell::new(super::open(&url).expect("open"));
        super::super::events::tests::appends_are_counted_once_per_channel_and_day(Db::Postgres(
            &conn,
        ));
    }

    /// Both engines end with the same tables and columns.
    #[test]
    fn the_postgresql_schema_has_the_sqlite_schemas_tables_and_columns() {
        let Some(url) = fresh_database("schema parity") else {
            return;
        };
        let mut pg = super::open(&url).expect("migrated");
        let dir = tempfile::tempdir().expect("tempdir");
        let sqlite = super::super::open_writer(dir.path()).expect("sqlite");

        let mut lite: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let tables: Vec<String> = sqlite
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("tables");
        for table in tables {
            let columns: BTreeSet<String> = sqlite
                .prepare(&format!("SELECT name FROM pragma_table_xinfo('{table}')"))
                .expect("prepare")
                .query_map([], |r| r.get(0))
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("columns");
            lite.insert(table, columns);
        }
        let mut post: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for row in pg
            .client()
            .expect("open")
            .query(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'",
                &[],
            )
            .expect("columns")
        {
            post.entry(row.get(0)).or_default().insert(row.get(1));
        }
        // Each engine's own bookkeeping.
        lite.remove("rusqlite_migration");
        post.remove("schema_migrations");
        post.remove("log_head");
        // What only several relays on one database need.
        for table in ["relays", "leases", "media_blobs"] {
            post.remove(table);
        }
        assert_eq!(lite, post);
    }

    /// Migrating twice (a second relay starting) changes nothing.
    #[test]
    fn postgresql_migrations_run_once() {
        let Some(url) = fresh_database("migrations") else {
            return;
        };
        let mut first = super::open(&url).expect("first");
        let mut again = super::super::sql::PgConn::connect(&url).expect("connect");
        assert_eq!(
            super::migrate(&mut again, super::MIGRATIONS.len()).expect("again"),
            super::MIGRATIONS.len() as i64
        );
        let applied: i64 = first
            .client()
            .expect("open")
            .query_one("SELECT COUNT(*) FROM schema_migrations", &[])
            .expect("count")
            .get(0);
        assert_eq!(applied, super::MIGRATIONS.len() as i64);
    }

    /// A database made by the first release's schema is brought up to date with its records
    /// intact, and the relay runs on it.
    #[test]
    fn an_old_postgresql_schema_is_upgraded_with_its_records() {
        let Some(url) = fresh_database("upgrade") else {
            return;
        };
        let mut old = super::super::sql::PgConn::connect(&url).expect("connect");
        assert_eq!(super::migrate(&mut old, 1).expect("version 1"), 1);
        let old = RefCell::new(old);
        let db = Db::Postgres(&old);
        // An event as the first release wrote it: the server computed its chat.
        db.execute("UPDATE log_head SET seq = 1 WHERE one = 1", args![])
            .expect("the old log head");
        db.execute(
            "INSERT INTO events (seq, channel_id, webhook_event_id, event_type, event_ts, received_at, body)
             VALUES (1, '1650000000', '01JOLD', 'message', 1, 2, ?1)",
            args![r#"{"type":"message","source":{"type":"user","userId":"U1"}}"#],
        )
        .expect("an event in the old schema");
        super::super::users::add(db, "rita", linedesk_protocol::Role::Rep, "correct horse", 0)
            .expect("a user in the old schema");
        drop(old);

        let upgraded = RefCell::new(super::open(&url).expect("upgraded"));
        let db = Db::Postgres(&upgraded);
        let log = super::super::events::read_after(db, 0, 10).expect("log");
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].seq, 1);
        assert_eq!(log[0].chat_id.as_deref(), Some("U1"), "kept by the upgrade");
        // The relay writes the chat of new events itself.
        let seqs = super::super::events::append(
            db,
            "1650000000",
            &[super::super::events::NewEvent {
                webhook_event_id: Some("01JNEW".into()),
                event_type: "message".into(),
                event_ts: 3,
                body:
                    r#"{"type":"message","source":{"type":"group","groupId":"C1","userId":"U2"}}"#
                        .into(),
            }],
            4,
        )
        .expect("an event in the new schema");
        assert_eq!(seqs, vec![2]);
        let log = super::super::events::read_after(db, 1, 10).expect("log");
        assert_eq!(log[0].chat_id.as_deref(), Some("C1"));
        assert_eq!(
            super::super::users::names(db).expect("read"),
            vec!["rita".to_owned()]
        );
        // What the upgrade added works.
        super::super::cluster::console_up(db, "relay-a", "rita").expect("relay_consoles");
        let beat = super::super::cluster::heartbeat(db, "relay-a", 2_500).expect("heartbeat");
        assert!(beat.arbiter, "alone, it takes the lease");
        let versions: i64 = upgraded
            .borrow_mut()
            .client()
            .expect("open")
            .query_one("SELECT MAX(version) FROM schema_migrations", &[])
            .expect("version")
            .get(0);
        assert_eq!(versions, super::MIGRATIONS.len() as i64);
    }

    /// One statement in the shared dialect gives the same answers on both engines.
    #[test]
    fn the_shared_dialect_reads_and_writes_alike_on_both_engines() {
        let Some(url) = fresh_database("dialect") else {
            return;
        };
        let pg = RefCell::new(super::open(&url).expect("pg"));
        let dir = tempfile::tempdir().expect("tempdir");
        let sqlite = super::super::open_writer(dir.path()).expect("sqlite");
        for db in [Db::Sqlite(&sqlite), Db::Postgres(&pg)] {
            let engine = if db.is_postgres() { "pg" } else { "sqlite" };
            for (user, gone) in [("rita", false), ("sam", true)] {
                db.execute(
                    "INSERT INTO agents (\"user\", capacity, gone, updated_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT DO NOTHING",
                    args![user, 3u32, gone, 1i64],
                )
                .expect(engine);
            }
            let again = db
                .execute(
                    "INSERT INTO agents (\"user\", updated_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    args!["rita", 2i64],
                )
                .expect(engine);
            assert_eq!(again, 0, "{engine}: a conflict inserts nothing");
            let rows = db
                .query(
                    "SELECT a.\"user\", a.gone, a.disconnected_at, CAST(SUM(a.capacity) AS BIGINT)
                     FROM agents a INDEXED BY sqlite_autoindex_agents_1
                     WHERE a.gone = ?1 OR a.capacity = ?2 GROUP BY a.\"user\", a.gone, a.disconnected_at
                     ORDER BY a.\"user\"",
                    args![false, Some(3u32)],
                    |r| {
                        Ok((
                            r.get::<String>(0)?,
                            r.get::<bool>(1)?,
                            r.get::<Option<i64>>(2)?,
                            r.get::<u32>(3)?,
                        ))
                    },
                )
                .expect(engine);
            assert_eq!(
                rows,
                [
                    ("rita".to_owned(), false, None, 3),
                    ("sam".to_owned(), true, None, 3)
                ],
                "{engine}"
            );
            db.execute(
                "INSERT INTO channels (id, name, secret_enc, token_enc, api_base, api_data_base, created_at)
                 VALUES (?1, 'it''s ?2', ?2, ?2, '', '', 0)",
                args!["1650000000", vec![0u8, 159, 255]],
            )
            .expect(engine);
            let blob = db
                .query_opt(
                    "SELECT secret_enc, name FROM channels WHERE id = ?1",
                    args!["1650000000"],
                    |r| Ok((r.get::<Vec<u8>>(0)?, r.get::<String>(1)?)),
                )
                .expect(engine);
            assert_eq!(
                blob,
                Some((vec![0, 159, 255], "it's ?2".to_owned())),
                "{engine}: bytes round-trip; a ? inside quotes stays"
            );
        }
    }

    /// The log trap: appends of several writers (several relays) must reach a reader that
    /// follows `seq > cursor` in full. Each writer holds its transaction open for a moment
    /// after taking its numbers, as a slow commit would; the follower must still miss nothing
    /// and see nothing twice.
    #[test]
    fn a_follower_misses_no_event_appended_by_concurrent_writers() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;

        use super::super::events::{self, NewEvent};

        let Some(url) = fresh_database("log order") else {
            return;
        };
        drop(super::open(&url).expect("migrated"));
        const WRITERS: usize = 3;
        const BATCHES: usize = 60;
        let running = Arc::new(AtomicUsize::new(WRITERS));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (url, running) = (url.clone(), running.clone());
                std::thread::spawn(move || {
                    let pg =
                        RefCell::new(super::super::sql::PgConn::connect(&url).expect("connect"));
                    let db = Db::Postgres(&pg);
                    for b in 0..BATCHES {
                        db.batch("BEGIN").expect("begin");
                        let batch: Vec<NewEvent> = (0..1 + (b % 3))
                            .map(|i| NewEvent {
                                webhook_event_id: Some(format!("w{w}b{b}e{i}")),
                                event_type: "message".into(),
                                event_ts: 1,
                                body: format!(r#"{{"source":{{"userId":"U{w}"}},"n":{i}}}"#),
                            })
                            .collect();
                        if b % 2 == 0 {
                            events::append(&pg, "1650000000", &batch, 1).expect("append");
                        } else {
                            // As the writer's group commit does: several webhooks at once.
                            let (one, rest) = batch.split_at(1);
                            let done = events::append_many(
                                &pg,
                                &[("1650000000", one), ("1650000000", rest)],
                                1,
                            )
                            .expect("append many");
                            assert_eq!(
                                done.iter().map(Vec::len).sum::<usize>(),
                                batch.len(),
                                "each webhook's numbers"
                            );
                        }
                        std::thread::sleep(std::time::Duration::from_micros(300 * (b as u64 % 4)));
                        db.batch("COMMIT").expect("commit");
                    }
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        let follower = RefCell::new(super::super::sql::PgConn::connect(&url).expect("connect"));
        let (mut cursor, mut seen) = (0u64, Vec::new());
        loop {
            let done = running.load(Ordering::SeqCst) == 0;
            let page = events::read_after(&follower, cursor, 1000).expect("read");
            for ev in &page {
                assert!(ev.seq > cursor, "in order");
                cursor = ev.seq;
                seen.push(ev.webhook_event_id.clone().expect("id"));
            }
            if done && page.is_empty() {
                break;
            }
        }
        for w in writers {
            w.join().expect("writer");
        }
        let expected: usize = (0..BATCHES).map(|b| 1 + b % 3).sum::<usize>() * WRITERS;
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "nothing twice");
        assert_eq!(seen.len(), expected, "nothing missed");
        assert_eq!(
            events::head(&follower).expect("head"),
            cursor,
            "the follower reached the head"
        );
        let chats = events::chat_before(&follower, "1650000000", "U1", u64::MAX >> 1, None, 5)
            .expect("chat");
        assert_eq!(chats.len(), 5, "the chat column on PostgreSQL");
        assert!(chats.iter().all(|e| e.chat_id.as_deref() == Some("U1")));
    }

    #[test]
    fn statements_become_postgresql_placeholders_without_sqlite_hints() {
        assert_eq!(
            super::super::sql::to_postgres(
                "SELECT id FROM conversations INDEXED BY conversations_by_offer WHERE a = ?1 AND b = '?' AND c = ?12"
            ),
            "SELECT id FROM conversations WHERE a = $1 AND b = '?' AND c = $12"
        );
    }
}
