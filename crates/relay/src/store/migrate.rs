//! Moving a relay's data from its SQLite file to PostgreSQL
//! (`linedesk-relay migrate --from DIR --to postgres://…`).
//!
//! The SQLite file is first brought up to date with its own migrations, then held with a
//! write lock for the whole move, so a relay still running on it can change nothing meanwhile.
//! Every table is copied in one PostgreSQL transaction, with the media files as parts in
//! `media_blobs`; before the commit each table's rows are counted on both sides and each file
//! is checked against its hash. A mismatch rolls everything back. The target must hold no
//! relay's data yet. The relay key (`relay.key`) stays with the data directory: channels'
//! credentials are sealed with it and are copied sealed.

use std::path::Path;

use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};

use super::sql::{Db, Value};
use super::StoreError;
use crate::args;

/// Rows per multi-row insert (far below PostgreSQL's 65,535 parameters for our widest table).
const ROWS_PER_INSERT: usize = 200;

/// What was moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Each table with its rows, as counted on both sides.
    pub tables: Vec<(String, i64)>,
    /// Media files stored in the database.
    pub media_files: usize,
    /// Their bytes.
    pub media_bytes: u64,
}

/// Why the data could not be moved; nothing was written to the target.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    /// The SQLite file is being written (a relay runs on it).
    #[error("{0} is in use: stop the relay that runs on it first")]
    InUse(String),
    /// The target already holds a relay's data.
    #[error("the target database already holds a relay's data ({0}); move into an empty one")]
    NotEmpty(String),
    /// The counts differ after copying.
    #[error("{table}: {source_rows} rows in SQLite but {target_rows} in PostgreSQL")]
    Count {
        table: String,
        source_rows: i64,
        target_rows: i64,
    },
    /// A media file's bytes do not match the hash it is named by.
    #[error("media file {0} does not match its SHA-256: the data directory is damaged")]
    Damaged(String),
    /// Either database refused.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An owned cell read from SQLite.
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl super::sql::ToValue for Cell {
    fn value(&self) -> Value<'_> {
        match self {
            Cell::Null => Value::Null,
            Cell::Int(v) => Value::Int(*v),
            Cell::Real(v) => Value::Real(*v),
            Cell::Text(v) => Value::Text(v),
            Cell::Blob(v) => Value::Blob(v),
        }
    }
}

/// Moves the relay data in `dir` into the empty PostgreSQL database at `url`; `progress`
/// hears each table and file count as it is done.
pub fn sqlite_to_postgres(
    dir: &Path,
    url: &str,
    mut progress: impl FnMut(&str) + Send,
) -> Result<Moved, MoveError> {
    let lite = super::open_writer(dir)?;
    lite.busy_timeout(std::time::Duration::from_secs(2))
        .map_err(StoreError::from)?;
    lite.execute_batch("BEGIN IMMEDIATE").map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy => {
            MoveError::InUse(dir.display().to_string())
        }
        other => MoveError::Store(other.into()),
    })?;
    // One thread, off any async runtime, for the blocking PostgreSQL client.
    super::sql::off_runtime(move || {
        let conn =
            super::sql::Conn::Postgres(Box::new(std::cell::RefCell::new(super::pg::open(url)?)));
        let db = conn.db();
        db.batch("BEGIN")?;
        let result = copy_all(&lite, db, dir, &mut progress);
        let _ = lite.execute_batch("ROLLBACK");
        match result {
            Ok(moved) => {
                db.batch("COMMIT")?;
                Ok(moved)
            }
            Err(e) => {
                let _ = db.batch("ROLLBACK");
                Err(e)
            }
        }
    })
}

fn copy_all(
    lite: &rusqlite::Connection,
    pg: Db<'_>,
    dir: &Path,
    progress: &mut impl FnMut(&str),
) -> Result<Moved, MoveError> {
    for table in ["events", "channels", "users"] {
        let rows = count(pg, table)?;
        if rows > 0 {
            return Err(MoveError::NotEmpty(format!("{rows} rows in {table}")));
        }
    }
    // Tables in the order they were made, so a table comes after those it refers to.
    let tables: Vec<String> = {
        let mut stmt = lite
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table'
                 AND name NOT LIKE 'sqlite_%' AND name != 'rusqlite_migration' ORDER BY rowid",
            )
            .map_err(StoreError::from)?;
        let names = stmt
            .query_map([], |r| r.get(0))
            .map_err(StoreError::from)?
            .collect::<Result<_, _>>()
            .map_err(StoreError::from)?;
        names
    };
    let mut moved = Moved {
        tables: Vec::new(),
        media_files: 0,
        media_bytes: 0,
    };
    for table in &tables {
        // What PostgreSQL computes itself (the log's chat) is not copied.
        let columns = pg.query(
            "SELECT column_name FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = ?1 AND is_generated = 'NEVER'
             ORDER BY ordinal_position",
            args![table],
            |r| r.get::<String>(0),
        )?;
        if columns.is_empty() {
            continue;
        }
        // Rows left from earlier runs of the target's own bookkeeping.
        pg.execute(&format!("DELETE FROM {}", quote(table)), args![])?;
        let list = columns
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = lite
            .prepare(&format!("SELECT {list} FROM {}", quote(table)))
            .map_err(StoreError::from)?;
        let mut rows = stmt.query([]).map_err(StoreError::from)?;
        let mut chunk: Vec<Vec<Cell>> = Vec::with_capacity(ROWS_PER_INSERT);
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            let mut cells = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                cells.push(match row.get_ref(i).map_err(StoreError::from)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Int(v),
                    ValueRef::Real(v) => Cell::Real(v),
                    ValueRef::Text(v) => Cell::Text(String::from_utf8_lossy(v).into_owned()),
                    ValueRef::Blob(v) => Cell::Blob(v.to_vec()),
                });
            }
            chunk.push(cells);
            if chunk.len() == ROWS_PER_INSERT {
                insert(pg, table, &list, columns.len(), &chunk)?;
                chunk.clear();
            }
        }
        insert(pg, table, &list, columns.len(), &chunk)?;
        let source_rows: i64 = lite
            .query_row(&format!("SELECT COUNT(*) FROM {}", quote(table)), [], |r| {
                r.get(0)
            })
            .map_err(StoreError::from)?;
        let target_rows = count(pg, table)?;
        if source_rows != target_rows {
            return Err(MoveError::Count {
                table: table.clone(),
                source_rows,
                target_rows,
            });
        }
        progress(&format!("{table}: {target_rows} rows"));
        moved.tables.push((table.clone(), target_rows));
    }
    // Identity columns go on after the highest id copied.
    for (table, column) in pg.query(
        "SELECT table_name, column_name FROM information_schema.columns
         WHERE table_schema = 'public' AND is_identity = 'YES'",
        args![],
        |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
    )? {
        pg.query_opt(
            &format!(
                "SELECT CAST(setval(pg_get_serial_sequence(?1, ?2), COALESCE(MAX({}), 0) + 1, false) AS BIGINT) FROM {}",
                quote(&column),
                quote(&table)
            ),
            args![table, column],
            |_| Ok(()),
        )?;
    }
    // The log goes on after the highest sequence SQLite ever gave (erased events included).
    let given: i64 = lite
        .query_row(
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),
                        COALESCE((SELECT MAX(seq) FROM events), 0))",
            [],
            |r| r.get(0),
        )
        .map_err(StoreError::from)?;
    pg.execute("UPDATE log_head SET seq = ?1 WHERE one = 1", args![given])?;

    // Media files by hash, each checked as it is stored.
    let media = dir.join("media");
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    if let Ok(shards) = std::fs::read_dir(&media) {
        for shard in shards.flatten() {
            if shard.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if let Ok(entries) = std::fs::read_dir(shard.path()) {
                files.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    files.sort();
    for path in &files {
        let Some(sha) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let io = |source| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut hashing = HashingReader {
            inner: std::io::BufReader::new(std::fs::File::open(path).map_err(io)?),
            hasher: Sha256::new(),
            size: 0,
        };
        super::cluster::put_blob_parts(pg, &sha, &mut hashing)?;
        // Whatever the reader left unread counts too.
        std::io::copy(&mut hashing, &mut std::io::sink()).map_err(io)?;
        let got: String = hashing
            .hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if got != sha {
            return Err(MoveError::Damaged(path.display().to_string()));
        }
        moved.media_files += 1;
        moved.media_bytes += hashing.size;
    }
    let stored = pg
        .query_opt(
            "SELECT COUNT(*) FROM media_blobs WHERE part = 0",
            args![],
            |r| r.get::<i64>(0),
        )?
        .unwrap_or(0);
    if stored != moved.media_files as i64 {
        return Err(MoveError::Count {
            table: "media files".into(),
            source_rows: moved.media_files as i64,
            target_rows: stored,
        });
    }
    progress(&format!(
        "media: {} files, {} bytes",
        moved.media_files, moved.media_bytes
    ));
    Ok(moved)
}

fn insert(
    pg: Db<'_>,
    table: &str,
    list: &str,
    width: usize,
    rows: &[Vec<Cell>],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..rows.len())
        .map(|r| {
            let cells: Vec<String> = (1..=width).map(|c| format!("?{}", r * width + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    let params: Vec<&dyn super::sql::ToValue> = rows
        .iter()
        .flat_map(|row| row.iter().map(|c| c as &dyn super::sql::ToValue))
        .collect();
    pg.execute(
        &format!(
            "INSERT INTO {} ({list}) VALUES {}",
            quote(table),
            values.join(", ")
        ),
        &params,
    )?;
    Ok(())
}

fn count(db: Db<'_>, table: &str) -> Result<i64, StoreError> {
    Ok(db
        .query_opt(
            &format!("SELECT COUNT(*) FROM {}", quote(table)),
            args![],
            |r| r.get::<i64>(0),
        )?
        .unwrap_or(0))
}

/// An identifier quoted the way both engines read it.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Hashes what is read through it.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R: std::io::Read> std::io::Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}
