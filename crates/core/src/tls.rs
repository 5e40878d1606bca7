//! Which relays the console trusts: one rustls client configuration, built once when the core
//! opens, from the system's root certificates plus, for a self-hosted relay with its own
//! certificate authority, the PEM certificates of a CA file (`LINEDESK_RELAY_CA` in the app).
//!
//! The HTTP client and the websocket both use it (see [`crate::Core::open_with_config`] and
//! [`crate::relay_link`]), so they trust exactly the same relays. Whether plain `http://` may be
//! used at all is decided by [`crate::relay_link::RelayClient::new`], not here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

/// Errors building the console's TLS configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The CA file could not be read.
    #[error("cannot read the relay CA file {path}: {source}")]
    Unreadable {
        /// The CA file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The CA file holds no PEM certificate.
    #[error(
        "the relay CA file {path} holds no PEM certificate (a block starting with \
         -----BEGIN CERTIFICATE-----)"
    )]
    NoCertificate {
        /// The CA file.
        path: PathBuf,
    },
    /// A certificate in the CA file is malformed.
    #[error("the relay CA file {path} holds a bad certificate: {reason}")]
    BadCertificate {
        /// The CA file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// rustls refused the configuration (a build problem, not a setting).
    #[error("the tls configuration failed: {0}")]
    Config(#[source] rustls::Error),
}

/// The console's client configuration: the system's roots, plus the certificates in `ca_file`.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    // The CA file first: a wrong setting is reported before anything else happens.
    if let Some(path) = ca_file {
        for cert in ca_certificates(path)? {
            roots.add(cert).map_err(|e| TlsError::BadCertificate {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        }
    }
    let native = rustls_native_certs::load_native_certs();
    for e in &native.errors {
        tracing::warn!(error = %e, "could not load a system root certificate");
    }
    // A system without roots still reaches a relay whose CA is in the CA file.
    let (added, ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(added, ignored, "system root certificates");
    // Both the ring and aws-lc-rs providers are compiled into this workspace, so rustls has no
    // process default to pick (`ClientConfig::builder()` would panic); name one.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Every certificate in a PEM file.
fn ca_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = std::fs::read(path).map_err(|source| TlsError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadCertificate {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::{client_config, TlsError};

    #[test]
    fn a_ca_file_without_certificates_is_refused_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "this is not a certificate\n").expect("write");
        let err = client_config(Some(&path)).expect_err("garbage is refused");
        assert!(
            matches!(err, TlsError::NoCertificate { .. }),
            "no certificate found: {err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&path.display().to_string()),
            "the message names the file: {message}"
        );
    }

    #[test]
    fn a_malformed_certificate_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ca.pem");
        // Valid PEM framing and base64 ("garbage"), but not a certificate.
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let err = client_config(Some(&path)).expect_err("a bad certificate is refused");
        assert!(
            matches!(err, TlsError::BadCertificate { .. }),
            "a bad certificate: {err:?}"
        );
        assert!(
            err.to_string().contains("ca.pem"),
            "the message names the file: {err}"
        );
    }

    #[test]
    fn a_missing_ca_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("missing.pem");
        let err = client_config(Some(&path)).expect_err("a missing file is refused");
        assert!(
            matches!(err, TlsError::Unreadable { .. }),
            "unreadable: {err:?}"
        );
    }

    #[test]
    fn without_a_ca_file_the_system_roots_are_enough() {
        assert!(
            client_config(None).is_ok(),
            "the system's roots alone make a configuration"
        );
    }
}
