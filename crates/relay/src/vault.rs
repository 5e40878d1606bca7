//! The relay key: seals channel secrets and access tokens at rest (XChaCha20-Poly1305).
//!
//! The key comes from `LINEDESK_RELAY_KEY` (32 bytes, standard Base64), which keeps it off the
//! data disk, or else from `relay.key` in the data directory, created with mode 0600 on first
//! use. Each sealed value is bound to its row and field (associated data), so swapping blobs
//! between channels or fields fails to open.

use std::io::Write as _;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;

/// Environment variable that carries the relay key.
pub const KEY_ENV: &str = "LINEDESK_RELAY_KEY";
/// Key file name inside the data directory.
pub const KEY_FILE: &str = "relay.key";
const NONCE_LEN: usize = 24;

/// Why the key or a sealed value could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The key in the environment or file is not 32 bytes of Base64.
    #[error("relay key from {0} is not 32 bytes of base64")]
    BadKey(&'static str),
    /// The key file could not be read or created.
    #[error("relay key file {path}: {source}")]
    Io {
        /// Path.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A sealed value did not open: wrong key, or the data was altered.
    #[error("sealed value for {0} does not open with this relay key")]
    Open(String),
}

/// Seals and opens secrets with the relay key.
#[derive(Clone)]
pub struct Vault {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(<redacted>)")
    }
}

impl Vault {
    /// Loads the key from the environment or the data directory (creating it there).
    pub fn load(data_dir: &Path) -> Result<Self, VaultError> {
        if let Ok(text) = std::env::var(KEY_ENV) {
            return Self::from_base64(&text, KEY_ENV);
        }
        let path = data_dir.join(KEY_FILE);
        let io = |source| VaultError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_base64(&text, "relay.key"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(io)?;
                let mut key = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut key);
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                let mut file = opts.open(&path).map_err(io)?;
                file.write_all(STANDARD.encode(key).as_bytes())
                    .map_err(io)?;
                file.sync_all().map_err(io)?;
                // The file's name lives in the folder: without this, a power cut can lose
                // the key after channels were sealed with it.
                std::fs::File::open(data_dir)
                    .and_then(|dir| dir.sync_all())
                    .map_err(io)?;
                Ok(Self::from_key(&key))
            }
            Err(e) => Err(io(e)),
        }
    }

    fn from_base64(text: &str, from: &'static str) -> Result<Self, VaultError> {
        let key = STANDARD
            .decode(text.trim())
            .map_err(|_| VaultError::BadKey(from))?;
        let key: [u8; 32] = key.try_into().map_err(|_| VaultError::BadKey(from))?;
        Ok(Self::from_key(&key))
    }

    fn from_key(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// Seals `plaintext`, bound to `label` (e.g. `channel/123/secret`).
    pub fn seal(&self, label: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: label.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 sealing cannot fail for in-memory data");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a value sealed under `label`.
    pub fn open(&self, label: &str, sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
        if sealed.len() < NONCE_LEN {
            return Err(VaultError::Open(label.into()));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: label.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Open(label.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_under_their_label() {
        let dir = tempfile::tempdir().expect("tempdir");
        let vault = Vault::load(dir.path()).expect("creates key");
        let sealed = vault.seal("channel/1/secret", b"s3cret");
        assert!(
            !sealed.windows(6).any(|w| w == b"s3cret"),
            "no plaintext in the blob"
        );
        assert_eq!(
            vault.open("channel/1/secret", &sealed).expect("opens"),
            b"s3cret"
        );
        assert!(
            vault.open("channel/2/secret", &sealed).is_err(),
            "bound to its label"
        );
        let again = Vault::load(dir.path()).expect("reloads the same key");
        assert_eq!(
            again.open("channel/1/secret", &sealed).expect("same key"),
            b"s3cret"
        );
    }
}
