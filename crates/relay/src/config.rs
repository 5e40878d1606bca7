//! `serve` settings: command-line flags, `LINEDESK_*` environment variables, or a TOML file
//! (`--config`), in that order of precedence.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Settings of a running relay.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Address to listen on, e.g. `127.0.0.1:8080`. LINE needs HTTPS: set `tls_cert` and
    /// `tls_key`, or put a TLS proxy in front.
    pub listen: SocketAddr,
    /// Data directory: database (unless `database` names one), relay key (unless in the
    /// environment), media store.
    pub data: PathBuf,
    /// A `postgres://` URL to keep the records in PostgreSQL instead of SQLite in `data`.
    #[serde(default)]
    pub database: Option<String>,
    /// The public HTTPS base URL LINE and consoles reach this relay at.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Console session lifetime.
    #[serde(default = "default_ttl")]
    pub session_ttl_hours: i64,
    /// Messaging API base for channels admins add from the console (default LINE's).
    #[serde(default)]
    pub line_api_base: Option<String>,
    /// Where stickers and LINE emoji are fetched by id (default LINE's sticker CDN, or
    /// `line_api_base` when that is set: the simulator serves both).
    #[serde(default)]
    pub sticker_base: Option<String>,
    /// PEM certificate chain to serve HTTPS with (with `tls_key`); a renewed file is picked up
    /// within seconds.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `tls_cert`.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// A console that says nothing for this long (it pings every 20 s) is taken as gone: its
    /// websocket closes and routing stops offering it work.
    #[serde(default = "default_idle")]
    pub console_idle_seconds: u64,
    /// Open connections at most, websockets included; more clients wait in the kernel's
    /// backlog. Also bounded by the process's file-descriptor limit.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, and how long a keep-alive
    /// connection may sit idle.
    #[serde(default = "default_header_timeout")]
    pub header_timeout_seconds: u64,
    /// The time zone reports count days in (an IANA name such as `Asia/Bangkok`).
    #[serde(default = "default_report_time_zone")]
    pub report_time_zone: String,
}

fn default_report_time_zone() -> String {
    "UTC".into()
}

fn default_max_connections() -> usize {
    crate::edge::Limits::default().max_connections
}

fn default_header_timeout() -> u64 {
    crate::edge::Limits::default().header_timeout.as_secs()
}

/// Two missed pings (every 20 s) and a little more: a frozen or vanished console is let go
/// within 45 s of its last word.
fn default_idle() -> u64 {
    45
}

fn default_ttl() -> i64 {
    12
}

impl ServeConfig {
    /// A config for tests and the demo.
    pub fn local(data: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data,
            database: None,
            public_url: None,
            session_ttl_hours: default_ttl(),
            line_api_base: None,
            sticker_base: None,
            tls_cert: None,
            tls_key: None,
            console_idle_seconds: default_idle(),
            max_connections: default_max_connections(),
            header_timeout_seconds: default_header_timeout(),
            report_time_zone: default_report_time_zone(),
        }
    }

    /// [`ServeConfig::local`], with the records in PostgreSQL when `LINEDESK_TEST_DATABASE` is
    /// `postgres`: a database of the cluster at `LINEDESK_TEST_POSTGRES` named after `data`,
    /// created on first use, so a relay restarted on the same directory finds its records.
    /// The test command runs the relay's suites on both engines this way.
    pub fn local_for_tests(data: PathBuf) -> anyhow::Result<Self> {
        let mut config = Self::local(data);
        if std::env::var("LINEDESK_TEST_DATABASE").as_deref() == Ok("postgres") {
            use anyhow::Context as _;
            let cluster = std::env::var("LINEDESK_TEST_POSTGRES")
                .context("LINEDESK_TEST_DATABASE=postgres needs LINEDESK_TEST_POSTGRES")?;
            config.database = Some(crate::store::pg::database_for(&cluster, &config.data)?);
        }
        Ok(config)
    }

    /// Opens (creating and migrating) the database these settings name, as the writer does.
    pub fn open_database(&self) -> Result<crate::store::sql::Conn, crate::store::StoreError> {
        crate::store::Database::of(self).open_writer()
    }

    /// The certificate and key files to serve HTTPS with, or `None` for plain HTTP. Both or
    /// neither: one alone is a mistake, not a reason to fall back to plain HTTP.
    pub fn tls_files(&self) -> anyhow::Result<Option<(&Path, &Path)>> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some((cert.as_path(), key.as_path()))),
            (None, None) => Ok(None),
            (Some(_), None) => anyhow::bail!(
                "a TLS certificate without its key: set --tls-key (LINEDESK_TLS_KEY, or \
                 tls_key in the config file) too, or neither"
            ),
            (None, Some(_)) => anyhow::bail!(
                "a TLS key without its certificate: set --tls-cert (LINEDESK_TLS_CERT, or \
                 tls_cert in the config file) too, or neither"
            ),
        }
    }

    /// What one client may hold and for how long, within what the process may open.
    pub fn limits(&self) -> crate::edge::Limits {
        crate::edge::Limits {
            max_connections: self.max_connections.max(1),
            header_timeout: std::time::Duration::from_secs(self.header_timeout_seconds.max(1)),
            ..crate::edge::Limits::default()
        }
    }

    /// Reads a TOML config file.
    pub fn from_file(path: &std::path::Path) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Messaging and content API bases for channels added from the console.
    pub fn line_endpoints(&self) -> linedesk_line::api::Endpoints {
        match &self.line_api_base {
            Some(base) => linedesk_line::api::Endpoints::single(base.trim_end_matches('/')),
            None => linedesk_line::api::Endpoints {
                api_base: linedesk_line::api::API_BASE.into(),
                data_base: linedesk_line::api::DATA_BASE.into(),
            },
        }
    }

    /// Where pictures come from: stickers and emoji from `sticker_base` (or `line_api_base`,
    /// or LINE's CDN); profile pictures from LINE's CDN or either configured base.
    pub fn pictures(&self) -> anyhow::Result<crate::pictures::Pictures> {
        let base = self
            .sticker_base
            .as_deref()
            .or(self.line_api_base.as_deref())
            .unwrap_or(crate::pictures::LINE_STICKER_BASE);
        let trusted = [&self.sticker_base, &self.line_api_base]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        crate::pictures::Pictures::new(base, trusted)
    }

    /// The HTTP client used for LINE calls (rustls, pooled). Calls with small answers carry
    /// their own deadline; content downloads only the per-read one.
    pub fn line_http_client(&self) -> anyhow::Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .read_timeout(linedesk_line::api::READ_TIMEOUT)
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()?)
    }
}
