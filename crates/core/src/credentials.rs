//! Where the console keeps its relay session token: the OS keyring in the app, never a file.
//!
//! [`CredentialStore`] is the seam: the shell passes [`KeyringOrMemory`], tests pass
//! [`MemoryStore`].

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

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

/// The OS keyring, or memory when the keyring cannot be reached (no Secret Service running):
/// then the session is not remembered and the user signs in at each start.
///
/// Which of the two is decided by the first call's own answer, not when the store is made:
/// asking the Secret Service is a synchronous D-Bus round trip that can take seconds (a keyring
/// daemon still starting, a bus that activates one), and the shell makes its store on the
/// thread that paints the window. The first call comes from the session's resume, off that
/// thread.
pub struct KeyringOrMemory<K = KeyringStore> {
    keyring: K,
    memory: MemoryStore,
    /// Whether the keyring answered the first call (unset until then).
    usable: OnceLock<bool>,
}

impl KeyringOrMemory {
    /// The OS keyring's entries of `service` (e.g. `linedesk`).
    pub fn new(service: &str) -> Self {
        Self::over(KeyringStore::new(service))
    }
}

impl<K: CredentialStore> KeyringOrMemory<K> {
    /// Falls back from `keyring` (another store in tests).
    pub fn over(keyring: K) -> Self {
        Self {
            keyring,
            memory: MemoryStore::default(),
            usable: OnceLock::new(),
        }
    }

    /// Runs `call` on the keyring while it answers, on memory once it did not. The first call
    /// is its own probe: a keyring that refuses it is not asked again, and memory takes it.
    fn on_store<T>(
        &self,
        call: impl Fn(&dyn CredentialStore) -> Result<T, CredentialError>,
    ) -> Result<T, CredentialError> {
        match self.usable.get() {
            Some(true) => call(&self.keyring),
            Some(false) => call(&self.memory),
            None => match call(&self.keyring) {
                Ok(answer) => {
                    let _ = self.usable.set(true);
                    Ok(answer)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "no OS keyring; the session will not be remembered");
                    let _ = self.usable.set(false);
                    call(&self.memory)
                }
            },
        }
    }
}

impl<K: CredentialStore> CredentialStore for KeyringOrMemory<K> {
    fn get(&self, account: &str) -> Result<Option<Secret<String>>, CredentialError> {
        self.on_store(|store| store.get(account))
    }

    fn set(&self, account: &str, secret: &Secret<String>) -> Result<(), CredentialError> {
        self.on_store(|store| store.set(account, secret))
    }

    fn delete(&self, account: &str) -> Result<(), CredentialError> {
        self.on_store(|store| store.delete(account))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A keyring that refuses every call, as when no Secret Service runs, counting the calls.
    #[derive(Default)]
    struct Refusing {
        calls: AtomicUsize,
    }

    impl CredentialStore for Refusing {
        fn get(&self, _: &str) -> Result<Option<Secret<String>>, CredentialError> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            Err(CredentialError::Unavailable("no secret service".into()))
        }
        fn set(&self, _: &str, _: &Secret<String>) -> Result<(), CredentialError> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            Err(CredentialError::Unavailable("no secret service".into()))
        }
        fn delete(&self, _: &str) -> Result<(), CredentialError> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            Err(CredentialError::Unavailable("no secret service".into()))
        }
    }

    #[test]
    fn an_unreachable_keyring_is_asked_once_and_memory_keeps_the_session() {
        let store = KeyringOrMemory::over(Refusing::default());
        assert_eq!(
            store.keyring.calls.load(Ordering::Relaxed),
            0,
            "made without asking"
        );
        let token = Secret::new("t0ken".to_owned());
        store
            .set("session:ann@relay", &token)
            .expect("memory takes it");
        let got = store.get("session:ann@relay").expect("memory answers");
        assert_eq!(got.map(|s| s.expose().to_owned()).as_deref(), Some("t0ken"));
        store.delete("session:ann@relay").expect("memory forgets");
        assert!(store
            .get("session:ann@relay")
            .expect("memory answers")
            .is_none());
        assert_eq!(
            store.keyring.calls.load(Ordering::Relaxed),
            1,
            "one probe, then memory"
        );
    }

    #[test]
    fn a_keyring_that_answers_holds_the_session() {
        let store = KeyringOrMemory::over(MemoryStore::default());
        let token = Secret::new("t0ken".to_owned());
        store
            .set("session:ann@relay", &token)
            .expect("keyring takes it");
        assert!(
            store
                .keyring
                .get("session:ann@relay")
                .expect("answers")
                .is_some(),
            "the session is in the keyring, not the fallback"
        );
        assert!(store
            .memory
            .get("session:ann@relay")
            .expect("answers")
            .is_none());
    }
}
