//! Several relays on one database: who is alive, who arbitrates, whose consoles are where,
//! media bytes every relay can serve, and the notifications that tell relays of each other's
//! commits. The liveness and lease statements use the database's clock, so relays on
//! machines whose clocks differ still agree on who is alive.
//!
//! A SQLite relay is alone on its file: it always arbitrates and has no peers, but keeps
//! `relay_consoles` like the others so presence follows connections the same way.

use super::sql::Db;
use super::StoreError;
use crate::args;

/// PostgreSQL's clock in milliseconds since the epoch (`clock_timestamp`, not the
/// transaction's start: a group commit can be long).
const DB_NOW: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";

/// The notification channel relays listen on.
pub const CHANNEL: &str = "linedesk";

/// The lease of the relay that follows the log for routing, media and automated messages.
pub const ARBITER: &str = "arbiter";

/// What a heartbeat learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beat {
    /// This relay holds the arbiter lease until the next beat is due.
    pub arbiter: bool,
    /// Relays alive, this one included.
    pub live: u32,
}

/// Says `relay` is alive, takes or renews the arbiter lease for `lease_ms` when it is free,
/// expired or already this relay's, and counts the live relays (PostgreSQL only).
pub fn heartbeat<'a>(
    db: impl Into<Db<'a>>,
    relay: &str,
    lease_ms: i64,
) -> Result<Beat, StoreError> {
    let db = db.into();
    db.execute(
        &format!(
            "INSERT INTO relays (id, seen_at, started_at) VALUES (?1, {DB_NOW}, {DB_NOW})
             ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at"
        ),
        args![relay],
    )?;
    let arbiter = db
        .query_opt(
            &format!(
                "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, {DB_NOW} + ?3)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                 WHERE leases.holder = excluded.holder OR leases.expires_at < {DB_NOW}
                 RETURNING holder"
            ),
            args![ARBITER, relay, lease_ms],
            |r| r.get::<String>(0),
        )?
        .is_some();
    let live = db
        .query_opt(
            &format!("SELECT COUNT(*) FROM relays WHERE seen_at > {DB_NOW} - ?1"),
            args![lease_ms],
            |r| r.get::<i64>(0),
        )?
        .unwrap_or(1);
    Ok(Beat {
        arbiter,
        live: u32::try_from(live.max(1)).unwrap_or(u32::MAX),
    })
}

/// Whether `relay` holds the arbiter lease now. Routing checks it inside its own transaction,
/// so a relay that lost the lease (paused, cut off) cannot commit routing after another took
/// over. Always true on SQLite.
pub fn holds_lease<'a>(db: impl Into<Db<'a>>, relay: &str) -> Result<bool, StoreError> {
    let db = db.into();
    if !db.is_postgres() {
        return Ok(true);
    }
    Ok(db
        .query_opt(
            &format!(
                "SELECT 1 FROM leases WHERE name = ?1 AND holder = ?2 AND expires_at > {DB_NOW}"
            ),
            args![ARBITER, relay],
            |_| Ok(()),
        )?
        .is_some())
}

/// Gives the lease up (a relay shutting down), so another takes over at once.
pub fn release<'a>(db: impl Into<Db<'a>>, relay: &str) -> Result<(), StoreError> {
    let db = db.into();
    if db.is_postgres() {
        db.execute(
            "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
            args![ARBITER, relay],
        )?;
        db.execute("DELETE FROM relays WHERE id = ?1", args![relay])?;
    }
    Ok(())
}

/// Relays not seen for `lease_ms`: dead (PostgreSQL only).
pub fn dead_relays<'a>(db: impl Into<Db<'a>>, lease_ms: i64) -> Result<Vec<String>, StoreError> {
    let db = db.into();
    let mut dead = db.query(
        &format!("SELECT id FROM relays WHERE seen_at <= {DB_NOW} - ?1"),
        args![lease_ms],
        |r| r.get::<String>(0),
    )?;
    // Consoles recorded by a relay that never beat (it died while starting) are its too.
    dead.extend(db.query(
        "SELECT DISTINCT relay FROM relay_consoles WHERE relay NOT IN (SELECT id FROM relays)",
        args![],
        |r| r.get::<String>(0),
    )?);
    Ok(dead)
}

/// Forgets a relay and its consoles; the representatives who now have no console anywhere.
pub fn forget_relay<'a>(db: impl Into<Db<'a>>, relay: &str) -> Result<Vec<String>, StoreError> {
    let db = db.into();
    let users = consoles_gone(db, relay)?;
    if db.is_postgres() {
        db.execute("DELETE FROM relays WHERE id = ?1", args![relay])?;
    }
    Ok(users)
}

/// Drops every console `relay` held (it restarted, or died); the representatives who now
/// have no console anywhere.
pub fn consoles_gone<'a>(db: impl Into<Db<'a>>, relay: &str) -> Result<Vec<String>, StoreError> {
    let db = db.into();
    let users = db.query(
        "DELETE FROM relay_consoles WHERE relay = ?1 RETURNING username",
        args![relay],
        |r| r.get::<String>(0),
    )?;
    let mut gone = Vec::with_capacity(users.len());
    for user in users {
        if !connected_anywhere(db, &user)? {
            gone.push(user);
        }
    }
    Ok(gone)
}

/// Notes that `user` has a console on `relay`.
pub fn console_up<'a>(db: impl Into<Db<'a>>, relay: &str, user: &str) -> Result<(), StoreError> {
    db.into().execute(
        "INSERT INTO relay_consoles (relay, username) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        args![relay, user],
    )?;
    Ok(())
}

/// Notes that `user` has no console left on `relay`; whether one remains on another relay.
pub fn console_down<'a>(
    db: impl Into<Db<'a>>,
    relay: &str,
    user: &str,
) -> Result<bool, StoreError> {
    let db = db.into();
    db.execute(
        "DELETE FROM relay_consoles WHERE relay = ?1 AND username = ?2",
        args![relay, user],
    )?;
    connected_anywhere(db, user)
}

fn connected_anywhere(db: Db<'_>, user: &str) -> Result<bool, StoreError> {
    Ok(db
        .query_opt(
            "SELECT 1 FROM relay_consoles WHERE username = ?1 LIMIT 1",
            args![user],
            |_| Ok(()),
        )?
        .is_some())
}

/// Sends `payload` to every relay listening (PostgreSQL; delivered when the surrounding
/// transaction commits, or at once outside one).
pub fn notify<'a>(db: impl Into<Db<'a>>, payload: &str) -> Result<(), StoreError> {
    let db = db.into();
    if db.is_postgres() {
        db.query_opt(
            "SELECT CAST(pg_notify(?1, ?2) AS TEXT)",
            args![CHANNEL, payload],
            |_| Ok(()),
        )?;
    }
    Ok(())
}

/// Bytes per stored part of a media file.
pub const BLOB_PART: usize = 1024 * 1024;

/// Stores a media file's bytes by hash from `file`, a part at a time, in one transaction of
/// its own (PostgreSQL; a copy already there is kept). Not on the writer's connection: the
/// parts would hold up every other commit.
pub fn put_blob<'a>(
    db: impl Into<Db<'a>>,
    sha256: &str,
    file: impl std::io::Read,
) -> Result<(), StoreError> {
    let db = db.into();
    if has_blob(db, sha256)? {
        return Ok(());
    }
    db.batch("BEGIN")?;
    match put_blob_parts(db, sha256, file) {
        Ok(()) => db.batch("COMMIT"),
        Err(e) => {
            let _ = db.batch("ROLLBACK");
            Err(e)
        }
    }
}

/// [`put_blob`] inside the caller's transaction (moving a relay's data).
pub fn put_blob_parts<'a>(
    db: impl Into<Db<'a>>,
    sha256: &str,
    mut file: impl std::io::Read,
) -> Result<(), StoreError> {
    let db = db.into();
    let mut buf = vec![0u8; BLOB_PART];
    let mut part = 0i64;
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            let n = file
                .read(&mut buf[filled..])
                .map_err(|source| StoreError::Io {
                    path: format!("media {sha256}"),
                    source,
                })?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 && part > 0 {
            return Ok(());
        }
        db.execute(
            "INSERT INTO media_blobs (sha256, part, bytes) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            args![sha256, part, &buf[..filled]],
        )?;
        part += 1;
        if filled < buf.len() {
            return Ok(());
        }
    }
}

/// Writes a stored media file's bytes into `out`, a part at a time; whether it was there.
pub fn get_blob<'a>(
    db: impl Into<Db<'a>>,
    sha256: &str,
    mut out: impl std::io::Write,
) -> Result<bool, StoreError> {
    let db = db.into();
    let mut part = 0i64;
    while let Some(bytes) = db.query_opt(
        "SELECT bytes FROM media_blobs WHERE sha256 = ?1 AND part = ?2",
        args![sha256, part],
        |r| r.get::<Vec<u8>>(0),
    )? {
        out.write_all(&bytes).map_err(|source| StoreError::Io {
            path: format!("media {sha256}"),
            source,
        })?;
        part += 1;
    }
    Ok(part > 0)
}

/// Whether the database holds a media file by this hash.
pub fn has_blob<'a>(db: impl Into<Db<'a>>, sha256: &str) -> Result<bool, StoreError> {
    Ok(db
        .into()
        .query_opt(
            "SELECT 1 FROM media_blobs WHERE sha256 = ?1 AND part = 0",
            args![sha256],
            |_| Ok(()),
        )?
        .is_some())
}

/// Deletes a media file's bytes (erasure, once no record uses them).
pub fn delete_blob<'a>(db: impl Into<Db<'a>>, sha256: &str) -> Result<(), StoreError> {
    let db = db.into();
    if db.is_postgres() {
        db.execute("DELETE FROM media_blobs WHERE sha256 = ?1", args![sha256])?;
    }
    Ok(())
}
