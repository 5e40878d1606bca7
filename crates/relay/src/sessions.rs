//! Ending sessions everywhere at once.
//!
//! Sign-out, removing a user, a password reset and a role change delete the user's session
//! rows in the database (so every later HTTP call is refused) and then announce it on the
//! [`SessionBus`]; every open websocket of that user listens and closes with
//! `unauthenticated` at once. A websocket that missed announcements (its receiver lagged)
//! looks its session up again instead. Expired sessions are purged every ten minutes.

use std::time::Duration;

use tokio::sync::broadcast;

use crate::store::users;
use crate::Relay;

/// What ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Every session of this user (removal, reset, role change).
    User {
        /// User name.
        name: String,
        /// Why, for the console.
        reason: &'static str,
    },
    /// One session (sign-out), by its token hash.
    Session {
        /// SHA-256 of the token.
        token_hash: Vec<u8>,
    },
}

/// Announces ended sessions to open websockets, on this relay and the others.
pub struct SessionBus {
    tx: broadcast::Sender<Ended>,
    /// Notifications to the other relays (several relays on PostgreSQL).
    peers: std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<String>>,
}

impl Default for SessionBus {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(256).0,
            peers: std::sync::OnceLock::new(),
        }
    }
}

/// Why sessions end, as the console is told; another relay's announcement is matched against
/// these (an unknown one reads as [`ENDED`]).
const REASONS: &[&str] = &[
    "your role changed; sign in again",
    "your password was reset; sign in again",
    "your account was removed",
];

/// The reason given for an ending this relay does not know the words of.
const ENDED: &str = "your session ended; sign in again";

/// The reason of another relay's announcement, as one of this relay's own words.
pub fn reason_of(text: &str) -> &'static str {
    REASONS
        .iter()
        .find(|r| **r == text)
        .copied()
        .unwrap_or(ENDED)
}

impl SessionBus {
    /// Listens for ended sessions.
    pub fn subscribe(&self) -> broadcast::Receiver<Ended> {
        self.tx.subscribe()
    }

    /// Sends this relay's announcements to the other relays too.
    pub fn tell_peers(&self, notes: tokio::sync::mpsc::UnboundedSender<String>) {
        let _ = self.peers.set(notes);
    }

    /// Announces, here and on every other relay, that every session of `name` ended (call
    /// after the rows are deleted).
    pub fn end_user(&self, name: &str, reason: &'static str) {
        self.end_user_here(name, reason);
        self.to_peers(format!("u {reason}\u{1f}{name}"));
    }

    /// Announces, here and on every other relay, that one session ended.
    pub fn end_session(&self, token_hash: Vec<u8>) {
        let hex: String = token_hash.iter().map(|b| format!("{b:02x}")).collect();
        self.end_session_here(token_hash);
        self.to_peers(format!("s {hex}"));
    }

    /// Announces on this relay only (what another relay announced).
    pub fn end_user_here(&self, name: &str, reason: &'static str) {
        let _ = self.tx.send(Ended::User {
            name: name.to_owned(),
            reason,
        });
    }

    /// Announces on this relay only that one session ended.
    pub fn end_session_here(&self, token_hash: Vec<u8>) {
        let _ = self.tx.send(Ended::Session { token_hash });
    }

    fn to_peers(&self, note: String) {
        if let Some(peers) = self.peers.get() {
            let _ = peers.send(note);
        }
    }
}

/// Deletes expired sessions every ten minutes until shutdown.
pub async fn purge_loop(relay: Relay) {
    let mut stop = relay.shutdown_signal();
    loop {
        let now = crate::store::now_ms();
        match relay
            .writer()
            .run(move |c| users::purge_expired(c, now))
            .await
        {
            Ok(n) if n > 0 => tracing::info!(purged = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not purge expired sessions"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(600)) => {}
            _ = stop.changed() => return,
        }
    }
}
