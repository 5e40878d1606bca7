//! `users` and `sessions`: who may connect, with which role.
//!
//! Passwords are argon2id hashes. A session token is 32 random bytes shown once to the console;
//! only its SHA-256 is stored, so a copy of the database cannot be used to sign in.
//!
//! Also the rows of other tables an admin touches when managing a user: capacity in `agents`,
//! queue membership in `queues`' settings, and whether they hold `conversations`.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use linedesk_protocol::Role;
use rand::RngCore as _;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A user as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
}

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// Who.
    pub user: User,
    /// Ends at, UTC ms.
    pub expires_at: i64,
    /// Highest sequence the console acknowledged.
    pub acked_seq: u64,
}

/// User store errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserError {
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// A user with this name exists.
    #[error("user {0} already exists")]
    Exists(String),
    /// Name empty, too long or with control characters.
    #[error("user name must be 1 to 64 printable characters")]
    BadName,
    /// Password shorter than 8 characters.
    #[error("password must have at least 8 characters")]
    WeakPassword,
    /// Hashing failed.
    #[error("password hashing failed")]
    Hash,
}

fn role_of(text: &str) -> Role {
    Role::parse(text).unwrap_or(Role::Rep)
}

/// Adds a user with an argon2id password hash.
pub fn add(
    conn: &Connection,
    name: &str,
    role: Role,
    password: &str,
    now: i64,
) -> Result<User, UserError> {
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(UserError::BadName);
    }
    let hash = hash_password(password)?;
    match conn.execute(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, role.as_str(), hash, now],
    ) {
        Ok(_) => Ok(User {
            id: conn.last_insert_rowid(),
            name: name.into(),
            role,
        }),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(UserError::Exists(name.into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// An argon2id PHC string for a password of at least 8 characters.
pub fn hash_password(password: &str) -> Result<String, UserError> {
    if password.chars().count() < 8 {
        return Err(UserError::WeakPassword);
    }
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|_| UserError::Hash)?
        .to_string())
}

/// Sets a new password and ends the user's sessions. Returns whether the user exists.
pub fn set_password(conn: &Connection, name: &str, password: &str) -> Result<bool, UserError> {
    let hash = hash_password(password)?;
    let n = conn.execute(
        "UPDATE users SET password_hash = ?2 WHERE name = ?1",
        params![name, hash],
    )?;
    conn.execute(
        "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)",
        [name],
    )?;
    Ok(n > 0)
}

/// Every user.
pub fn list(conn: &Connection) -> Result<Vec<User>, rusqlite::Error> {
    let mut stmt = conn.prepare("SELECT id, name, role FROM users ORDER BY name")?;
    let rows = stmt.query_map([], |r| {
        Ok(User {
            id: r.get(0)?,
            name: r.get(1)?,
            role: role_of(&r.get::<_, String>(2)?),
        })
    })?;
    rows.collect()
}

/// Removes a user and their sessions. Returns whether they existed.
pub fn remove(conn: &Connection, name: &str) -> Result<bool, rusqlite::Error> {
    end_user_sessions(conn, name)?;
    Ok(conn.execute("DELETE FROM users WHERE name = ?1", [name])? > 0)
}

/// Checks a name and password. Runs argon2 (tens of ms): call off the async runtime.
pub fn check_password(
    conn: &Connection,
    name: &str,
    password: &str,
) -> Result<Option<User>, rusqlite::Error> {
    let row = conn
        .query_row(
            "SELECT id, name, role, password_hash FROM users WHERE name = ?1",
            [name],
            |r| {
                Ok((
                    User {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        role: role_of(&r.get::<_, String>(2)?),
                    },
                    r.get::<_, String>(3)?,
                ))
            },
        )
        .optional()?;
    let Some((user, hash)) = row else {
        // The same work as a wrong password, so timing does not tell which names exist.
        let _ = PasswordHash::new(dummy_hash())
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed));
        return Ok(None);
    };
    let ok = PasswordHash::new(&hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    Ok(ok.then_some(user))
}

/// A valid argon2 hash of nothing anyone knows, to check unknown names against.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        hash_password("linedesk: no such user, same cost").expect("hashing a fixed password works")
    })
}

/// SHA-256 of a bearer token, the form sessions are stored in.
pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Starts a session; returns the token (shown once) and when it expires.
pub fn create_session(
    conn: &Connection,
    user_id: i64,
    device: Option<&str>,
    now: i64,
    ttl_ms: i64,
) -> Result<(String, i64), rusqlite::Error> {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let expires_at = now + ttl_ms;
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, device, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![hash_token(&token), user_id, device, now, expires_at],
    )?;
    Ok((token, expires_at))
}

/// The live session for a token, if any (expired sessions count as none).
pub fn session(
    conn: &Connection,
    token: &str,
    now: i64,
) -> Result<Option<Session>, rusqlite::Error> {
    let hash = hash_token(token);
    conn.prepare_cached(
        "SELECT u.id, u.name, u.role, s.expires_at, s.acked_seq FROM sessions s
         JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1 AND s.expires_at > ?2",
    )?
    .query_row(params![hash, now], |r| {
        Ok(Session {
            token_hash: hash.clone(),
            user: User {
                id: r.get(0)?,
                name: r.get(1)?,
                role: role_of(&r.get::<_, String>(2)?),
            },
            expires_at: r.get(3)?,
            acked_seq: r.get::<_, i64>(4)? as u64,
        })
    })
    .optional()
}

/// Records the highest sequence a session acknowledged (never moves backwards).
pub fn ack(conn: &Connection, token_hash: &[u8], seq: u64) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(
        "UPDATE sessions SET acked_seq = MAX(acked_seq, ?2) WHERE token_hash = ?1",
    )?
    .execute(params![token_hash, seq as i64])?;
    Ok(())
}

/// Ends a session.
pub fn end_session(conn: &Connection, token: &str) -> Result<(), rusqlite::Error> {
    conn.execute(
        "DELETE FROM sessions WHERE token_hash = ?1",
        [hash_token(token)],
    )?;
    Ok(())
}

/// Ends every session of a user (removal, password reset, role change).
pub fn end_user_sessions(conn: &Connection, name: &str) -> Result<usize, rusqlite::Error> {
    conn.execute(
        "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)",
        [name],
    )
}

/// Deletes expired sessions.
pub fn purge_expired(conn: &Connection, now: i64) -> Result<usize, rusqlite::Error> {
    conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])
}

/// Every user's name, in order.
pub fn names(conn: &Connection) -> Result<Vec<String>, rusqlite::Error> {
    conn.prepare("SELECT name FROM users ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect()
}

/// A user's role and skills (JSON array), unparsed; `None` when there is no such user.
pub fn role_and_skills(
    conn: &Connection,
    name: &str,
) -> Result<Option<(String, String)>, rusqlite::Error> {
    conn.query_row(
        "SELECT role, skills FROM users WHERE name = ?1",
        [name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Adds a user with an already computed password hash and their skills (JSON array). A
/// taken name fails with SQLite's constraint violation.
pub fn add_hashed(
    conn: &Connection,
    name: &str,
    role: Role,
    password_hash: &str,
    now: i64,
    skills: &str,
) -> Result<(), rusqlite::Error> {
    conn.execute(
        "INSERT INTO users (name, role, password_hash, created_at, skills) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, role.as_str(), password_hash, now, skills],
    )?;
    Ok(())
}

/// Gives a user another role. Returns whether it changed (false: no such user, or the role
/// was already theirs). Sessions are left to the caller.
pub fn set_role(conn: &Connection, name: &str, role: Role) -> Result<bool, rusqlite::Error> {
    Ok(conn.execute(
        "UPDATE users SET role = ?2 WHERE name = ?1 AND role != ?2",
        params![name, role.as_str()],
    )? > 0)
}

/// Sets an already computed password hash. Sessions are left to the caller.
pub fn set_password_hash(
    conn: &Connection,
    name: &str,
    password_hash: &str,
) -> Result<(), rusqlite::Error> {
    conn.execute(
        "UPDATE users SET password_hash = ?2 WHERE name = ?1",
        params![name, password_hash],
    )?;
    Ok(())
}

/// Sets a user's skills (JSON array).
pub fn set_skills(conn: &Connection, name: &str, skills: &str) -> Result<(), rusqlite::Error> {
    conn.execute(
        "UPDATE users SET skills = ?2 WHERE name = ?1",
        params![name, skills],
    )?;
    Ok(())
}

/// A user's capacity as routing's agent, if they have an `agents` row.
pub fn capacity(conn: &Connection, name: &str) -> Result<Option<u32>, rusqlite::Error> {
    conn.query_row("SELECT capacity FROM agents WHERE user = ?1", [name], |r| {
        r.get(0)
    })
    .optional()
}

/// Removes a user's `agents` row (capacity, presence).
pub fn remove_agent(conn: &Connection, name: &str) -> Result<(), rusqlite::Error> {
    conn.execute("DELETE FROM agents WHERE user = ?1", [name])?;
    Ok(())
}

/// Whether a user owns, or is offered, a conversation that is not closed.
pub fn holds_conversations(conn: &Connection, name: &str) -> Result<bool, rusqlite::Error> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM conversations WHERE (owner = ?1 OR offered_to = ?1) AND state != 'closed')",
        [name],
        |r| r.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_are_checked_with_the_cost_of_real_passwords() {
        let real = hash_password("correct horse battery").expect("hash");
        let params = |phc: &str| {
            let parsed = PasswordHash::new(phc).expect("a PHC string");
            (
                parsed.algorithm.to_string(),
                parsed.version,
                parsed.params.to_string(),
            )
        };
        assert_eq!(params(dummy_hash()), params(&real));
    }
}
