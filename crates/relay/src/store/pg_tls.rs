//! How the relay reaches PostgreSQL: in plain text only on this machine, over TLS otherwise.
//!
//! Customers' messages travel to the database, so the house rule (traffic off loopback is
//! TLS) holds here too. The database URL is libpq's, and the relay reads its TLS options
//! itself, since tokio-postgres knows only part of them:
//!
//! - a host off this machine is reached over TLS, and the server's certificate must chain to
//!   `sslrootcert` (a PEM file, for a private CA) or else to the system's roots, for the host
//!   name in the URL: libpq's `verify-full`, whatever `sslmode` says short of `disable`;
//! - `sslmode=disable`, `allow` or `prefer` with such a host is refused (they would let the
//!   connection fall back to plain text);
//! - on loopback or a Unix socket, TLS is used when `sslmode` is `require`, `verify-ca` or
//!   `verify-full` (then verified the same way), and not otherwise.

use std::str::FromStr as _;
use std::sync::Arc;

use super::StoreError;

/// A database URL read for connecting: tokio-postgres's settings, and TLS when used.
pub struct Target {
    config: postgres::Config,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// The URL without its password, for errors.
    masked: String,
}

/// What the URL asks for, before any file is read.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// Plain text, on this machine.
    Plain,
    /// TLS, verified against these roots (`None`: the system's).
    Tls {
        /// `sslrootcert`, when given.
        roots: Option<String>,
    },
}

/// Reads `url` without connecting or reading files: the settings for tokio-postgres (the
/// options the relay handles itself taken out) and the plan.
pub fn plan(url: &str) -> Result<(postgres::Config, Plan), StoreError> {
    let masked = super::mask_password(url);
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut mode: Option<String> = None;
    let mut roots: Option<String> = None;
    let mut rest = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*key {
            "sslmode" => mode = Some(value.into_owned()),
            "sslrootcert" => roots = Some(value.into_owned()),
            _ => {
                rest.append_pair(&key, &value);
            }
        }
    }
    let rest = rest.finish();
    let stripped = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{rest}")
    };
    let mut config = postgres::Config::from_str(&stripped)
        .map_err(|e| StoreError::Other(format!("database URL {masked}: {e}")))?;
    let local = config.get_hosts().iter().all(|host| match host {
        postgres::config::Host::Unix(_) => true,
        postgres::config::Host::Tcp(name) => is_loopback(name),
    }) && config.get_hostaddrs().iter().all(|a| a.is_loopback());
    let tls = match mode.as_deref() {
        None if local => false,
        None => true,
        Some("disable" | "allow" | "prefer") if local => false,
        Some("disable" | "allow" | "prefer") => {
            return Err(StoreError::Other(format!(
                "database URL {masked}: the host is off this machine, so the relay reaches it \
                 only over TLS; leave sslmode out or set it to verify-full (with \
                 sslrootcert=FILE for a private CA)"
            )))
        }
        Some("require" | "verify-ca" | "verify-full") => true,
        Some(other) => {
            return Err(StoreError::Other(format!(
                "database URL {masked}: unknown sslmode {other:?} (disable, prefer, require, \
                 verify-ca or verify-full)"
            )))
        }
    };
    if tls {
        config.ssl_mode(postgres::config::SslMode::Require);
        Ok((config, Plan::Tls { roots }))
    } else {
        config.ssl_mode(postgres::config::SslMode::Disable);
        Ok((config, Plan::Plain))
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Target {
    /// Reads `url` and, for TLS, its roots (a missing or empty `sslrootcert` is an error).
    pub fn of(url: &str) -> Result<Self, StoreError> {
        let (config, plan) = plan(url)?;
        let tls = match plan {
            Plan::Plain => None,
            Plan::Tls { roots } => Some(Arc::new(client_config(roots.as_deref())?)),
        };
        Ok(Self {
            config,
            tls,
            masked: super::mask_password(url),
        })
    }

    /// Connects (blocking: call off the async runtime, see `sql::off_runtime`).
    pub fn connect(&self) -> Result<postgres::Client, StoreError> {
        let connected = match &self.tls {
            None => self.config.connect(postgres::NoTls),
            Some(tls) => self
                .config
                .connect(tokio_postgres_rustls::MakeRustlsConnect::new(
                    (**tls).clone(),
                )),
        };
        connected.map_err(|e| {
            // With its causes: a TLS handshake fails because of the certificate.
            StoreError::Other(format!(
                "connecting to {}: {:#}",
                self.masked,
                anyhow::Error::from(e)
            ))
        })
    }
}

/// Connects to `url` as this module's rules say (blocking).
pub fn connect(url: &str) -> Result<postgres::Client, StoreError> {
    Target::of(url)?.connect()
}

fn client_config(roots: Option<&str>) -> Result<rustls::ClientConfig, StoreError> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::CertificateDer;
    let mut store = rustls::RootCertStore::empty();
    match roots {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| StoreError::Other(format!("sslrootcert {path}: {e}")))?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(StoreError::Other(format!(
                    "sslrootcert {path} holds no certificate"
                )));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(StoreError::Other(
                    "no system root certificates to check the database's certificate; give \
                     sslrootcert=FILE in the database URL"
                        .into(),
                ));
            }
        }
    }
    // The ring provider by name: both ring and aws-lc-rs are compiled in (Cargo.toml).
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Other(format!("TLS settings: {e}")))?
        .with_root_certificates(store)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_only_on_this_machine() {
        for (url, want) in [
            ("postgres://u@127.0.0.1:5432/relay", Plan::Plain),
            ("postgres://u@localhost/relay?sslmode=prefer", Plan::Plain),
            ("postgres://u@[::1]:5433/relay", Plan::Plain),
            ("postgres://u@/relay?host=/run/postgresql", Plan::Plain),
            (
                "postgres://u@localhost/relay?sslmode=require&sslrootcert=/etc/ca.pem",
                Plan::Tls {
                    roots: Some("/etc/ca.pem".into()),
                },
            ),
            (
                "postgres://u:secret@db.example.com/relay",
                Plan::Tls { roots: None },
            ),
            (
                "postgres://u@10.0.0.5:5432/relay?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=relay",
                Plan::Tls {
                    roots: Some("/etc/ca.pem".into()),
                },
            ),
        ] {
            let (_, plan) = plan(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(plan, want, "{url}");
        }
        for (url, says) in [
            (
                "postgres://u:secret@db.example.com/relay?sslmode=disable",
                "only over TLS",
            ),
            (
                "postgres://u:secret@10.0.0.5/relay?sslmode=prefer",
                "only over TLS",
            ),
            (
                "postgres://u:secret@localhost/relay?sslmode=sometimes",
                "unknown sslmode",
            ),
        ] {
            let refused = plan(url).expect_err(url).to_string();
            assert!(refused.contains(says), "{url}: {refused}");
            assert!(!refused.contains("secret"), "no password in {refused}");
        }
    }

    #[test]
    fn a_missing_or_empty_root_file_is_an_error_before_connecting() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").expect("write");
        for roots in [dir.path().join("missing.pem"), empty] {
            let url = format!(
                "postgres://u@db.example.com/relay?sslrootcert={}",
                roots.display()
            );
            let refused = Target::of(&url).err().expect("refused").to_string();
            assert!(refused.contains("sslrootcert"), "{refused}");
        }
    }
}
