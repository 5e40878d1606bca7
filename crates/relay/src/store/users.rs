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
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::sql::{Db, Row};
use super::StoreError;
use crate::args;

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
    /// The database (either engine) failed.
    #[error(transparent)]
    Store(#[from] StoreError),
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

fn user_row(r: &Row<'_>) -> Result<User, StoreError> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        role: role_of(&r.get::<String>(2)?),
    })
}

/// Whether a statement failed on a constraint (a taken name, on either engine): SQLite's
/// constraint violation, or PostgreSQL's class 23 (integrity constraint violation).
///
/// On PostgreSQL the failed statement also aborts the transaction it ran in.
pub fn is_constraint_violation(e: &StoreError) -> bool {
    match e {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
            e.code == rusqlite::ErrorCode::ConstraintViolation
        }
        StoreError::Postgres(e) => e.code().is_some_and(|c| c.code().starts_with("23")),
        _ => false,
    }
}

/// Adds a user with an argon2id password hash.
pub fn add<'a>(
    db: impl Into<Db<'a>>,
    name: &str,
    role: Role,
    password: &str,
    now: i64,
) -> Result<User, UserError> {
    let db = db.into();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(UserError::BadName);
    }
    let hash = hash_password(password)?;
    match db.query_opt(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)
         RETURNING id",
        args![name, role.as_str(), hash, now],
        |r| r.get::<i64>(0),
    ) {
        Ok(Some(id)) => Ok(User {
            id,
            name: name.into(),
            role,
        }),
        Ok(None) => Err(StoreError::Type {
            column: 0,
            why: "the insert returned no id".into(),
        }
        .into()),
        Err(e) if is_constraint_violation(&e) => Err(UserError::Exists(name.into())),
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
pub fn set_password<'a>(
    db: impl Into<Db<'a>>,
    name: &str,
    password: &str,
) -> Result<bool, UserError> {
    let db = db.into();
    let hash = hash_password(password)?;
    let n = db.execute(
        "UPDATE users SET password_hash = ?2 WHERE name = ?1",
        args![name, hash],
    )?;
    db.execute(
        "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)",
        args![name],
    )?;
    Ok(n > 0)
}

/// Every user.
pub fn list<'a>(db: impl Into<Db<'a>>) -> Result<Vec<User>, StoreError> {
    let db = db.into();
    db.query(
        "SELECT id, name, role FROM users ORDER BY name",
        args![],
        user_row,
    )
}

/// Removes a user and their sessions. Returns whether they existed.
pub fn remove<'a>(db: impl Into<Db<'a>>, name: &str) -> Result<bool, StoreError> {
    let db = db.into();
    end_user_sessions(db, name)?;
    // Their own quick replies go with them (the team's stay).
    super::replies::remove_owned_by(db, name)?;
    Ok(db.execute("DELETE FROM users WHERE name = ?1", args![name])? > 0)
}

/// Checks a name and password. Runs argon2 (tens of ms): call off the async runtime.
pub fn check_password<'a>(
    db: impl Into<Db<'a>>,
    name: &str,
    password: &str,
) -> Result<Option<User>, StoreError> {
    let db = db.into();
    let row = db.query_opt(
        "SELECT id, name, role, password_hash FROM users WHERE name = ?1",
        args![name],
        |r| Ok((user_row(r)?, r.get::<String>(3)?)),
    )?;
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
pub fn create_session<'a>(
    db: impl Into<Db<'a>>,
    user_id: i64,
    device: Option<&str>,
    now: i64,
    ttl_ms: i64,
) -> Result<(String, i64), StoreError> {
    let db = db.into();
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let expires_at = now + ttl_ms;
    db.execute(
        "INSERT INTO sessions (token_hash, user_id, device, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        args![hash_token(&token), user_id, device, now, expires_at],
    )?;
    Ok((token, expires_at))
}

/// The live session for a token, if any (expired sessions count as none).
pub fn session<'a>(
    db: impl Into<Db<'a>>,
    token: &str,
    now: i64,
) -> Result<Option<Session>, StoreError> {
    let db = db.into();
    let hash = hash_token(token);
    db.query_opt(
        "SELECT u.id, u.name, u.role, s.expires_at, s.acked_seq FROM sessions s
         JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1 AND s.expires_at > ?2",
        args![hash, now],
        |r| {
            Ok(Session {
                token_hash: hash.clone(),
                user: user_row(r)?,
                expires_at: r.get(3)?,
                acked_seq: r.get::<i64>(4)? as u64,
            })
        },
    )
}

/// Records the highest sequence a session acknowledged (never moves backwards).
pub fn ack<'a>(db: impl Into<Db<'a>>, token_hash: &[u8], seq: u64) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE sessions SET acked_seq = CASE WHEN acked_seq >= ?2 THEN acked_seq ELSE ?2 END
         WHERE token_hash = ?1",
        args![token_hash, seq as i64],
    )?;
    Ok(())
}

/// Ends a session.
pub fn end_session<'a>(db: impl Into<Db<'a>>, token: &str) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "DELETE FROM sessions WHERE token_hash = ?1",
        args![hash_token(token)],
    )?;
    Ok(())
}

/// Ends every session of a user (removal, password reset, role change).
pub fn end_user_sessions<'a>(db: impl Into<Db<'a>>, name: &str) -> Result<usize, StoreError> {
    let db = db.into();
    Ok(db.execute(
        "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)",
        args![name],
    )? as usize)
}

/// Deletes expired sessions.
pub fn purge_expired<'a>(db: impl Into<Db<'a>>, now: i64) -> Result<usize, StoreError> {
    let db = db.into();
    Ok(db.execute("DELETE FROM sessions WHERE expires_at <= ?1", args![now])? as usize)
}

/// Every user's name, in order.
pub fn names<'a>(db: impl Into<Db<'a>>) -> Result<Vec<String>, StoreError> {
    let db = db.into();
    db.query("SELECT name FROM users ORDER BY name", args![], |r| {
        r.get::<String>(0)
    })
}

/// A user's role and skills (JSON array), unparsed; `None` when there is no such user.
pub fn role_and_skills<'a>(
    db: impl Into<Db<'a>>,
    name: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let db = db.into();
    db.query_opt(
        "SELECT role, skills FROM users WHERE name = ?1",
        args![name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Adds a user with an already computed password hash and their skills (JSON array). A
/// taken name fails with a constraint violation (see [`is_constraint_violation`]).
pub fn add_hashed<'a>(
    db: impl Into<Db<'a>>,
    name: &str,
    role: Role,
    password_hash: &str,
    now: i64,
    skills: &str,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "INSERT INTO users (name, role, password_hash, created_at, skills) VALUES (?1, ?2, ?3, ?4, ?5)",
        args![name, role.as_str(), password_hash, now, skills],
    )?;
    Ok(())
}

/// Gives a user another role. Returns whether it changed (false: no such user, or the role
/// was already theirs). Sessions are left to the caller.
pub fn set_role<'a>(db: impl Into<Db<'a>>, name: &str, role: Role) -> Result<bool, StoreError> {
    let db = db.into();
    Ok(db.execute(
        "UPDATE users SET role = ?2 WHERE name = ?1 AND role != ?2",
        args![name, role.as_str()],
    )? > 0)
}

/// Sets an already computed password hash. Sessions are left to the caller.
pub fn set_password_hash<'a>(
    db: impl Into<Db<'a>>,
    name: &str,
    password_hash: &str,
) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE users SET password_hash = ?2 WHERE name = ?1",
        args![name, password_hash],
    )?;
    Ok(())
}

/// Sets a user's skills (JSON array).
pub fn set_skills<'a>(db: impl Into<Db<'a>>, name: &str, skills: &str) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "UPDATE users SET skills = ?2 WHERE name = ?1",
        args![name, skills],
    )?;
    Ok(())
}

/// A user's capacity as routing's agent, if they have an `agents` row.
pub fn capacity<'a>(db: impl Into<Db<'a>>, name: &str) -> Result<Option<u32>, StoreError> {
    let db = db.into();
    db.query_opt(
        r#"SELECT capacity FROM agents WHERE "user" = ?1"#,
        args![name],
        |r| r.get::<u32>(0),
    )
}

/// Removes a user's `agents` row (capacity, presence).
pub fn remove_agent<'a>(db: impl Into<Db<'a>>, name: &str) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(r#"DELETE FROM agents WHERE "user" = ?1"#, args![name])?;
    Ok(())
}

/// Whether a user owns, or is offered, a conversation that is not closed.
pub fn holds_conversations<'a>(db: impl Into<Db<'a>>, name: &str) -> Result<bool, StoreError> {
    let db = db.into();
    Ok(db
        .query_opt(
            "SELECT EXISTS (SELECT 1 FROM conversations WHERE (owner = ?1 OR offered_to = ?1) AND state != 'closed')",
            args![name],
            |r| r.get::<bool>(0),
        )?
        .unwrap_or(false))
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
