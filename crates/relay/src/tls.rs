//! TLS termination, so a small team needs no proxy: `serve --tls-cert FILE --tls-key FILE`.
//!
//! - [`ServerTls::load`] reads the PEM pair (the key as PKCS#8, PKCS#1 or SEC1) into a rustls
//!   server configuration whose certificate comes from [`CurrentCert`], which can be swapped
//!   while the server runs.
//! - A watcher looks at both files' modification times (and sizes) every 2 s and loads a
//!   changed pair: a renewed certificate is served from the next handshake on, without a
//!   restart; a broken new pair (half written, or a key that does not match) is logged and the
//!   old one kept until the files change again.
//! - [`TlsListener`] is an `axum::serve::Listener`: it accepts TCP, runs each handshake in its
//!   own task with a 10 s limit (a slow or silent client never holds up the others) and hands
//!   finished streams to axum, so the router and graceful shutdown are the same as for plain
//!   HTTP.
//!
//! ALPN offers only `http/1.1`: the consoles' websocket upgrade is an HTTP/1.1 mechanism.
//! Without `--tls-cert` the relay speaks plain HTTP, for a TLS proxy in front of it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A handshake that takes longer is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the watcher looks at the certificate files.
const RELOAD_EVERY: Duration = Duration::from_secs(2);
/// Finished handshakes waiting for axum to take them.
const ACCEPTED_BACKLOG: usize = 64;

/// Errors loading a certificate and its key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The certificate file holds no PEM certificate.
    #[error("no PEM certificate in {path}")]
    NoCertificate {
        /// The certificate file.
        path: PathBuf,
    },
    /// The certificate file holds a malformed certificate.
    #[error("bad certificate in {path}: {reason}")]
    BadCertificate {
        /// The certificate file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The key file holds no private key.
    #[error("no PEM private key (PKCS#8, PKCS#1 or SEC1) in {path}")]
    NoKey {
        /// The key file.
        path: PathBuf,
    },
    /// The key is malformed or of a kind rustls cannot sign with.
    #[error("bad private key in {path}: {reason}")]
    BadKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The key does not belong to the certificate.
    #[error("the key in {key} does not match the certificate in {cert}")]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// rustls refused the configuration (a build problem, not a setting).
    #[error("the tls configuration failed: {0}")]
    Config(#[source] rustls::Error),
}

/// The certificate served now; the watcher swaps it.
#[derive(Debug)]
pub struct CurrentCert(RwLock<Arc<CertifiedKey>>);

impl CurrentCert {
    fn get(&self) -> Arc<CertifiedKey> {
        // Only a plain assignment happens under the write lock, so a poisoned lock still
        // holds a whole value.
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, pair: CertifiedKey) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(pair);
    }
}

impl ResolvesServerCert for CurrentCert {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.get())
    }
}

/// The server's TLS settings and what keeps its certificate fresh.
pub struct ServerTls {
    config: Arc<ServerConfig>,
    watcher: Watcher,
}

impl ServerTls {
    /// Loads the certificate chain in `cert` and the key in `key`.
    pub fn load(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        // Both the ring and aws-lc-rs providers are compiled into this workspace, so rustls
        // has no process default to pick; name one.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let files = Files {
            cert: cert.to_owned(),
            key: key.to_owned(),
        };
        // Taken before reading, so a change during the read is seen at the next look.
        let seen = files.stamp();
        let current = Arc::new(CurrentCert(RwLock::new(Arc::new(load_pair(
            &files, &provider,
        )?))));
        let mut config = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
            watcher: Watcher {
                files,
                provider,
                current,
                seen,
            },
        })
    }
}

/// The pair of files the certificate comes from.
#[derive(Debug, Clone)]
struct Files {
    cert: PathBuf,
    key: PathBuf,
}

/// What the watcher compares: each file's modification time and size (`None`: unreadable).
type Stamp = [Option<(SystemTime, u64)>; 2];

impl Files {
    fn stamp(&self) -> Stamp {
        let of = |path: &Path| {
            let meta = std::fs::metadata(path).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        };
        [of(self.cert.as_path()), of(self.key.as_path())]
    }
}

/// Reloads the pair when the files change.
struct Watcher {
    files: Files,
    provider: Arc<CryptoProvider>,
    current: Arc<CurrentCert>,
    /// The stamp of the files last loaded or tried.
    seen: Stamp,
}

impl Watcher {
    /// Loads the pair if either file changed since the last look; a broken pair is logged and
    /// the served one kept. Answers whether a new certificate is served.
    fn check(&mut self) -> bool {
        let stamp = self.files.stamp();
        if stamp == self.seen {
            return false;
        }
        // Remembered even when loading fails: the same broken pair is reported once, and the
        // next write to either file (the rest of a renewal) is tried again.
        self.seen = stamp;
        match load_pair(&self.files, &self.provider) {
            Ok(pair) => {
                self.current.set(pair);
                tracing::info!(cert = %self.files.cert.display(), "tls certificate reloaded");
                true
            }
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    "new tls certificate files unusable; still serving the previous certificate"
                );
                false
            }
        }
    }

    /// Looks every [`RELOAD_EVERY`] until `stop` resolves.
    async fn run(mut self, stop: impl std::future::Future<Output = ()>) {
        let mut tick = tokio::time::interval(RELOAD_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = tick.tick() => {}
            }
            // File reads stay off the async workers.
            self = match tokio::task::spawn_blocking(move || {
                self.check();
                self
            })
            .await
            {
                Ok(watcher) => watcher,
                Err(e) => {
                    tracing::error!(error = %e, "tls certificate watcher failed; no more reloads");
                    return;
                }
            };
        }
    }
}

/// Reads and checks a certificate chain and its key.
fn load_pair(files: &Files, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Unreadable {
            path: path.to_owned(),
            source,
        })
    };
    let cert_pem = read(files.cert.as_path())?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadCertificate {
            path: files.cert.clone(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: files.cert.clone(),
        });
    }
    let key_pem = read(files.key.as_path())?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoKey {
            path: files.key.clone(),
        },
        other => TlsError::BadKey {
            path: files.key.clone(),
            reason: other.to_string(),
        },
    })?;
    let signing_key =
        provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| TlsError::BadKey {
                path: files.key.clone(),
                reason: e.to_string(),
            })?;
    let pair = CertifiedKey::new(chain, signing_key);
    match pair.keys_match() {
        // `Unknown`: the key cannot say its public half; rustls itself accepts that.
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            Ok(pair)
        }
        Err(rustls::Error::InconsistentKeys(_)) => Err(TlsError::Mismatch {
            cert: files.cert.clone(),
            key: files.key.clone(),
        }),
        Err(e) => Err(TlsError::BadCertificate {
            path: files.cert.clone(),
            reason: e.to_string(),
        }),
    }
}

/// A listener that hands axum TLS streams whose handshake is done.
pub struct TlsListener {
    accepted: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
}

impl TlsListener {
    /// Starts accepting on `listener` with `tls`, and watching the certificate files. Both stop
    /// when the returned listener is dropped (axum drops it when the server ends).
    pub fn new(listener: TcpListener, tls: ServerTls) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (tx, accepted) = mpsc::channel(ACCEPTED_BACKLOG);
        let stop = tx.clone();
        tokio::spawn(tls.watcher.run(async move { stop.closed().await }));
        tokio::spawn(accept_loop(listener, TlsAcceptor::from(tls.config), tx));
        Ok(Self { accepted, addr })
    }
}

/// Accepts connections and runs each handshake in its own task, until the listener is dropped.
async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let accepted = tokio::select! {
            _ = tx.closed() => return,
            r = listener.accept() => r,
        };
        let (tcp, peer) = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                // As axum does: a failed connection is the client's problem; anything else
                // (out of file descriptors) gets a pause instead of a busy loop.
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionRefused
                        | std::io::ErrorKind::ConnectionAborted
                        | std::io::ErrorKind::ConnectionReset
                ) {
                    tracing::error!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                continue;
            }
        };
        // Without TCP_NODELAY, small websocket frames wait for the peer's delayed ACK (~40 ms).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let (acceptor, tx) = (acceptor.clone(), tx.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    // Fails only when the server is gone; the connection closes with it.
                    let _ = tx.send((stream, peer)).await;
                }
                // Scanners and clients that do not trust the certificate end here: not news.
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "tls handshake failed"),
                Err(_) => tracing::debug!(%peer, "tls handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(conn) => conn,
            None => {
                // The accept loop ends only when this listener is dropped; should it die
                // anyway, serve nothing new rather than spin.
                tracing::error!("the tls accept loop ended; no new connections are accepted");
                std::future::pending().await
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::{load_pair, CurrentCert, Files, TlsError, Watcher};
    use std::path::Path;
    use std::sync::{Arc, RwLock};

    /// A self-signed certificate for localhost; answers (certificate PEM, key PEM, DER).
    fn self_signed() -> (String, String, Vec<u8>) {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .expect("params")
            .self_signed(&key)
            .expect("certificate");
        (cert.pem(), key.serialize_pem(), cert.der().to_vec())
    }

    fn files(dir: &Path) -> Files {
        Files {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }

    fn write(files: &Files, cert: &str, key: &str) {
        std::fs::write(&files.cert, cert).expect("write certificate");
        std::fs::write(&files.key, key).expect("write key");
    }

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = files(dir.path());
        let (cert, _, _) = self_signed();
        let (_, other_key, _) = self_signed();
        write(&f, &cert, &other_key);
        let err = load_pair(&f, &provider()).expect_err("mismatched pair");
        assert!(
            matches!(err, TlsError::Mismatch { .. }),
            "mismatch: {err:?}"
        );
    }

    #[test]
    fn files_without_pem_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = files(dir.path());
        let (cert, key, _) = self_signed();
        write(&f, "not a certificate", &key);
        let err = load_pair(&f, &provider()).expect_err("no certificate");
        assert!(
            matches!(err, TlsError::NoCertificate { .. }),
            "no certificate: {err:?}"
        );
        assert!(
            err.to_string().contains("cert.pem"),
            "names the file: {err}"
        );
        write(&f, &cert, "not a key");
        let err = load_pair(&f, &provider()).expect_err("no key");
        assert!(matches!(err, TlsError::NoKey { .. }), "no key: {err:?}");
        assert!(err.to_string().contains("key.pem"), "names the file: {err}");
    }

    #[test]
    fn a_broken_renewal_keeps_the_old_certificate_until_a_good_one_arrives() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = files(dir.path());
        let (cert, key, first) = self_signed();
        write(&f, &cert, &key);
        let seen = f.stamp();
        let provider = provider();
        let current = Arc::new(CurrentCert(RwLock::new(Arc::new(
            load_pair(&f, &provider).expect("first pair"),
        ))));
        let mut watcher = Watcher {
            files: f.clone(),
            provider,
            current: current.clone(),
            seen,
        };
        let served = || current.get().cert[0].to_vec();
        assert!(!watcher.check(), "nothing changed");

        // Half a renewal: the new certificate is there, its key not yet (the garbage key also
        // differs in size, so the change is seen whatever the clock's resolution).
        let (new_cert, new_key, second) = self_signed();
        write(&f, &new_cert, "half written");
        assert!(!watcher.check(), "a broken pair is not served");
        assert_eq!(served(), first, "the old certificate is still served");

        write(&f, &new_cert, &new_key);
        assert!(watcher.check(), "the complete pair is loaded");
        assert_eq!(served(), second, "the renewed certificate is served");
    }
}
