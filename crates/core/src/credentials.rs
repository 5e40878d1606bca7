//! Where the console keeps its relay session token: the OS keyring in the app, never a file.
//!
//! [`CredentialStore`] is the seam: the shell passes the keyring-backed store, tests pass
//! [`MemoryStore`].

use std::collections::HashMap;
use std::sync::Mutex;

use linedesk_line::Secret;

/// Errors of a credential store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The platform store refused or is unavailable (locked keyring, no session bus).
    #[error("credential store unavailable: {0}")]
    Unavailable(String),
}

/// Stores secrets by account name.
pub trait CredentialStore: Send + Sync {
    /// The secret for `account`, if any.
    fn get(&self, account: &str) -> Result<Option<Secret<String>>, CredentialError>;
    /// Saves the secret for `account`.
    fn set(&self, account: &str, secret: &Secret<String>) -> Result<(), CredentialError>;
    /// Forgets `account`.
    fn delete(&self, account: &str) -> Result<(), CredentialError>;
}

/// In-memory store, for tests and for "do not remember me".
#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<String, Secret<String>>>,
}

impl CredentialStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<Secret<String>>, CredentialError> {
        Ok(self
            .map
            .lock()
            .expect("memory store lock")
            .get(account)
            .cloned())
    }

    fn set(&self, account: &str, secret: &Secret<String>) -> Result<(), CredentialError> {
        self.map
            .lock()
            .expect("memory store lock")
            .insert(account.into(), secret.clone());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<(), CredentialError> {
        self.map.lock().expect("memory store lock").remove(account);
        Ok(())
    }
}

/// The keyring account name for a session on a relay.
pub fn session_account(relay_url: &str, user: &str) -> String {
    format!("session:{user}@{relay_url}")
}

/// The OS keyring (Secret Service: GNOME Keyring, KWallet) through the `keyring` crate.
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    /// A store whose entries belong to `service` (e.g. `linedesk`).
    pub fn new(service: &str) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, CredentialError> {
        keyring::Entry::new(&self.service, account)
            .map_err(|e| CredentialError::Unavailable(e.to_string()))
    }
}

impl CredentialStore for KeyringStore {
    fn get(&self, account: &str) -> Result<Option<Secret<String>>, CredentialError> {
        match self.entry(account)?.get_password() {
            Ok(p) => Ok(Some(Secret::new(p))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(CredentialError::Unavailable(e.to_string())),
        }
    }

    fn set(&self, account: &str, secret: &Secret<String>) -> Result<(), CredentialError> {
        self.entry(account)?
            .set_password(secret.expose())
            .map_err(|e| CredentialError::Unavailable(e.to_string()))
    }

    fn delete(&self, account: &str) -> Result<(), CredentialError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(CredentialError::Unavailable(e.to_string())),
        }
    }
}
