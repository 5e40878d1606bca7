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

/// Announces ended sessions to open websockets.
pub struct SessionBus {
    tx: broadcast::Sender<Ended>,
}

impl Default for SessionBus {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(256).0,
        }
    }
}

impl SessionBus {
    /// Listens for ended sessions.
    pub fn subscribe(&self) -> broadcast::Receiver<Ended> {
        self.tx.subscribe()
    }

    /// Announces that every session of `name` ended (call after the rows are deleted).
    pub fn end_user(&self, name: &str, reason: &'static str) {
        let _ = self.tx.send(Ended::User {
            name: name.to_owned(),
            reason,
        });
    }

    /// Announces that one session ended.
    pub fn end_session(&self, token_hash: Vec<u8>) {
        let _ = self.tx.send(Ended::Session { token_hash });
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
