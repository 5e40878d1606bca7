//! `linedesk-relay`: the team server.
//!
//! - [`webhook`]: `POST /line/{channel}/webhook`: signature over raw bytes, durable append, 200.
//! - [`log`]: the writer thread; group commit; publishes the log head.
//! - [`hub`]: the console websocket: authenticate, resume from a cursor, stream in order.
//! - [`tail`]: the newest events, read once and serialized once for every console.
//! - [`throttle`]: sign-in attempts per account and address, and how many hash at once.
//! - [`auth`]: login, sessions, the bearer-token extractor.
//! - [`media`]: downloads customer media at ingest and serves it to consoles.
//! - [`profiles`]: fetches customers' LINE profiles and publishes them in the log.
//! - [`uploads`]: files representatives send, hosted at unguessable URLs LINE fetches.
//! - [`sends`]: `POST /api/send`: consoles send through the relay; the transcript from LINE's answers.
//! - [`access`]: who may see which chat and write in which conversation, for every path.
//! - [`policy`]: role extractors for handlers and the one refusal type.
//! - [`sessions`]: ending sessions everywhere at once (open websockets close within a second).
//! - [`routing`]: workstreams, queues, presence, offers, lifecycle, automated messages, survey.
//! - [`registry`]: the channels the relay serves, credentials opened, kept fresh.
//! - [`admin`]: channels (add with LINE's checks, webhook, health, delete) and users.
//! - [`identity`]: contacts, profile links with their audit, consent, export and erasure.
//! - [`store`]: SQLite schema and one module per table. [`vault`]: secrets sealed at rest.
//! - [`config`]: `serve` settings from flags, environment and a config file.
//! - [`tls`]: HTTPS without a proxy; a renewed certificate is picked up without a restart.
//!
//! [`app`] builds the router over a [`Relay`]; [`Relay::start`] opens the data directory and
//! starts the background work. The binary (`main.rs`) is the command line over both.

pub mod access;
pub mod admin;
pub mod auth;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod edge;
pub mod followers;
pub mod glance;
pub mod hub;
pub mod identity;
pub mod later;
pub mod log;
pub mod media;
pub mod pictures;
pub mod policy;
pub mod profiles;
pub mod registry;
pub mod reminders;
pub mod replies;
pub mod reports;
pub mod routing;
pub mod sends;
pub mod sessions;
pub mod signals;
pub mod store;
pub mod tail;
pub mod throttle;
pub mod tls;
pub mod uploads;
pub mod vault;
pub mod viewers;
pub mod webhook;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::watch;
use tower_http::limit::RequestBodyLimitLayer;

pub use config::ServeConfig;

/// Largest webhook body accepted (LINE's own limit on what it sends is far below this).
pub const MAX_WEBHOOK_BODY: usize = 1024 * 1024;

/// Largest body of any other API call (JSON settings, contacts, sends). A body over a route's
/// limit is refused with 413 from its `Content-Length`, before it is read.
pub const MAX_API_BODY: usize = 1024 * 1024;

/// Most database connections the relay reads on at once.
pub const MAX_READERS: usize = 32;

/// Shared state of a running relay; cheap to clone.
#[derive(Clone)]
pub struct Relay {
    inner: Arc<Inner>,
}

struct Inner {
    data_dir: PathBuf,
    writer: log::Writer,
    registry: registry::Registry,
    readers: Mutex<Vec<store::sql::Conn>>,
    /// Reads at once, so a burst (500 consoles signing in) never opens more database
    /// connections than this (PostgreSQL refuses past its `max_connections`).
    read_slots: tokio::sync::Semaphore,
    database: store::Database,
    media: media::MediaStore,
    pictures: pictures::Pictures,
    session_ttl_ms: i64,
    console_idle: std::time::Duration,
    shutdown: watch::Sender<bool>,
    checkpoint_stop: Arc<std::sync::atomic::AtomicBool>,
    sends: sends::Sends,
    sessions: sessions::SessionBus,
    tail: tail::Tail,
    throttle: throttle::Throttle,
    signals: signals::Signals,
    forgeries: webhook::Forgeries,
    clock: Arc<dyn clock::Clock>,
    cluster: cluster::Cluster,
    routing: routing::Routing,
    reports: reports::Reports,
    public_url: Option<String>,
    line_endpoints: linedesk_line::api::Endpoints,
    erasures: Arc<identity::RecentErasures>,
}

impl Relay {
    /// Opens (creating) the data directory, migrates the database, loads channels and starts
    /// the writer thread, the media pipeline and the channel refresher.
    pub async fn start(config: &ServeConfig) -> anyhow::Result<Self> {
        Self::start_with_clock(config, Arc::new(clock::SystemClock)).await
    }

    /// Like [`Relay::start`], with routing's time from `clock` (tests use a manual one).
    pub async fn start_with_clock(
        config: &ServeConfig,
        clock: Arc<dyn clock::Clock>,
    ) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let data_dir = config.data.clone();
        let database = store::Database::of(config);
        if let store::Database::Postgres(url) = &database {
            store::Database::check_url(url).map_err(anyhow::Error::msg)?;
        }
        let writer_conn = database
            .open_writer()
            .with_context(|| format!("opening the relay database ({database})"))?;
        let vault = vault::Vault::load(&data_dir).context("loading the relay key")?;
        let known_head = Arc::new(watch::channel(0).0);
        let writer = log::Writer::start_into(writer_conn, Some(known_head.clone()))
            .context("starting the writer")?;
        let head = *writer.head().borrow();
        let checkpoint_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        if let store::Database::Sqlite(dir) = &database {
            let (dir, stop, restarts) =
                (dir.clone(), checkpoint_stop.clone(), writer.wal_restarts());
            std::thread::Builder::new()
                .name("relay-checkpoint".into())
                .spawn(move || store::checkpoint_loop(&dir, stop, || restarts.ask()))
                .context("starting the checkpointer")?;
        }
        let registry = registry::Registry::new(vault, config.line_http_client()?);
        let relay_id = cluster::relay_id(&data_dir).context("reading the relay's id")?;
        let alone = !database.is_postgres();
        let (shutdown, _) = watch::channel(false);
        let relay = Relay {
            inner: Arc::new(Inner {
                media: media::MediaStore::new(data_dir.join("media")),
                pictures: config.pictures()?,
                data_dir,
                writer,
                registry,
                readers: Mutex::new(Vec::new()),
                read_slots: tokio::sync::Semaphore::new(MAX_READERS),
                database,
                session_ttl_ms: config.session_ttl_hours * 3_600_000,
                console_idle: std::time::Duration::from_secs(config.console_idle_seconds.max(1)),
                shutdown,
                checkpoint_stop,
                sends: sends::Sends::default(),
                sessions: sessions::SessionBus::default(),
                tail: tail::Tail::new(head),
                throttle: throttle::Throttle::default(),
                signals: signals::Signals::default(),
                forgeries: webhook::Forgeries::default(),
                clock,
                cluster: cluster::Cluster::new(relay_id, known_head, alone),
                routing: routing::Routing::new(0),
                reports: reports::Reports::new(&config.report_time_zone)
                    .context("reading report_time_zone")?,
                public_url: config.public_url.clone(),
                line_endpoints: config.line_endpoints(),
                erasures: Arc::default(),
            }),
        };
        relay.reload_channels().await.context("loading channels")?;
        routing::Routing::consoles_gone_at_start(&relay)
            .await
            .context("marking the consoles of the last run gone")?;
        cluster::beat(&relay).await;
        followers::start_all(&relay);
        Ok(relay)
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// The writer handle.
    pub fn writer(&self) -> &log::Writer {
        &self.inner.writer
    }

    /// The channel registry.
    pub fn registry(&self) -> &registry::Registry {
        &self.inner.registry
    }

    /// The media store.
    pub fn media(&self) -> &media::MediaStore {
        &self.inner.media
    }

    /// Stickers, LINE emoji and profile pictures.
    pub fn pictures(&self) -> &pictures::Pictures {
        &self.inner.pictures
    }

    /// Sends in flight for consoles.
    pub fn sends(&self) -> &sends::Sends {
        &self.inner.sends
    }

    /// Signature failures counted but not yet written.
    pub fn forgeries(&self) -> &webhook::Forgeries {
        &self.inner.forgeries
    }

    /// Sign-in throttling.
    pub fn throttle(&self) -> &throttle::Throttle {
        &self.inner.throttle
    }

    /// Typing and read signals to customers.
    pub fn signals(&self) -> &signals::Signals {
        &self.inner.signals
    }

    /// The newest events, shared by every console session.
    pub fn tail(&self) -> &tail::Tail {
        &self.inner.tail
    }

    /// Where ended sessions are announced to open websockets.
    pub fn sessions(&self) -> &sessions::SessionBus {
        &self.inner.sessions
    }

    /// The public base URL, when configured.
    pub fn public_url(&self) -> Option<&str> {
        self.inner.public_url.as_deref()
    }

    /// Where channels added from the console talk to LINE.
    pub fn line_endpoints(&self) -> &linedesk_line::api::Endpoints {
        &self.inner.line_endpoints
    }

    /// Reports: the follower's progress and the report time zone.
    pub fn reports(&self) -> &reports::Reports {
        &self.inner.reports
    }

    /// Routing's clock.
    pub fn clock(&self) -> &dyn clock::Clock {
        self.inner.clock.as_ref()
    }

    /// Chats erased a moment ago (late profile fetches must not bring them back).
    pub fn erasures(&self) -> &Arc<identity::RecentErasures> {
        &self.inner.erasures
    }

    /// This relay among the others on the same database.
    pub fn cluster(&self) -> &cluster::Cluster {
        &self.inner.cluster
    }

    /// The highest log sequence committed by this relay or any other on the same database;
    /// what the log's followers follow.
    pub fn log_head(&self) -> watch::Receiver<u64> {
        self.inner.cluster.head()
    }

    /// Routing's state.
    pub fn routing(&self) -> &routing::Routing {
        &self.inner.routing
    }

    /// How long a console may say nothing before it is taken as gone.
    pub fn console_idle(&self) -> std::time::Duration {
        self.inner.console_idle
    }

    /// Session lifetime in milliseconds.
    pub fn session_ttl_ms(&self) -> i64 {
        self.inner.session_ttl_ms
    }

    /// Stops background tasks and open websockets.
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        self.inner
            .checkpoint_stop
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Resolves when [`Relay::shutdown`] was called.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    /// Re-reads the channel table.
    pub async fn reload_channels(&self) -> anyhow::Result<()> {
        let vault = self.inner.registry.vault().clone();
        let (channels, deleted, bots) = self
            .read(move |c| {
                Ok((
                    store::channels::all(c, &vault),
                    store::channels::deleted_ids(c)?,
                    store::channels::bot_ids(c)?,
                ))
            })
            .await?;
        let readable = channels?;
        self.inner.registry.set_bots(bots);
        self.inner.registry.set_unreadable(readable.unreadable);
        self.inner.registry.replace(readable.channels);
        self.inner.registry.set_deleted(deleted);
        Ok(())
    }

    /// Runs a read on a pooled read-only connection, off the async runtime.
    pub async fn read<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(store::sql::Db<'_>) -> Result<T, store::StoreError> + Send + 'static,
    {
        let _slot = self.inner.read_slots.acquire().await?;
        let relay = self.clone();
        tokio::task::spawn_blocking(move || {
            let conn = match relay.inner.readers.lock().expect("reader pool lock").pop() {
                Some(c) => c,
                None => relay.inner.database.open_reader()?,
            };
            let out = f(conn.db());
            relay
                .inner
                .readers
                .lock()
                .expect("reader pool lock")
                .push(conn);
            Ok(out?)
        })
        .await?
    }

    /// The database the relay runs on.
    pub fn database(&self) -> &store::Database {
        &self.inner.database
    }
}

/// A request header the relay itself sets on what arrived over its own TLS listener (and
/// strips from anything else), so URLs it hands out keep the scheme the caller used.
const SCHEME_MARK: &str = "x-linedesk-tls";

/// The base URL a request reached this relay at: the configured public URL, else its `Host`
/// with the scheme it came in on.
pub fn request_base(relay: &Relay, headers: &axum::http::HeaderMap) -> String {
    if let Some(url) = relay.public_url() {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let scheme = if headers.contains_key(SCHEME_MARK) {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// [`app`] for the relay's own TLS listener.
pub fn app_tls(relay: Relay) -> Router {
    routes(relay).layer(axum::middleware::map_request(
        |mut req: axum::extract::Request| async move {
            req.headers_mut()
                .insert(SCHEME_MARK, axum::http::HeaderValue::from_static("1"));
            req
        },
    ))
}

/// The relay's HTTP surface (plain HTTP, or behind a TLS proxy).
pub fn app(relay: Relay) -> Router {
    routes(relay).layer(axum::middleware::map_request(
        |mut req: axum::extract::Request| async move {
            req.headers_mut().remove(SCHEME_MARK);
            req
        },
    ))
}

fn routes(relay: Relay) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route(linedesk_protocol::LOGIN_PATH, post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route(linedesk_protocol::WS_PATH, get(hub::upgrade))
        .route("/api/media/{channel_id}/{message_id}", get(media::serve))
        .route("/api/stickers/{sticker_id}", get(pictures::sticker))
        .route("/api/emoji/{product_id}/{emoji_id}", get(pictures::emoji))
        .route("/api/avatars/{channel_id}/{user_id}", get(pictures::avatar))
        .route(
            "/api/channels",
            get(admin::channels::list).post(admin::channels::add),
        )
        .route(
            "/api/channels/{channel_id}",
            axum::routing::put(admin::channels::update),
        )
        .route(
            "/api/channels/{channel_id}/{action}",
            post(admin::channels::act).get(admin::channels::quota),
        )
        .route(
            "/api/users",
            get(admin::users::list).post(admin::users::add),
        )
        .route(
            "/api/users/{name}",
            axum::routing::put(admin::users::update).delete(admin::users::remove),
        )
        .route(
            "/api/contacts",
            get(identity::search).post(identity::create),
        )
        .route(
            "/api/contacts/{id}",
            get(identity::get).put(identity::update),
        )
        .route("/api/contacts/{id}/export", get(identity::erase::export))
        .route("/api/contacts/{id}/{action}", post(identity::link))
        .route(
            "/api/profiles/{channel_id}/{user_id}",
            get(identity::profile),
        )
        .route(linedesk_protocol::SEND_PATH, post(sends::send))
        .route("/o/{*path}", get(uploads::serve))
        .route("/api/presence", post(routing::http::presence))
        .route("/api/agents", get(routing::http::agents))
        .route(
            "/api/agents/{user}",
            axum::routing::put(routing::http::set_agent),
        )
        .route("/api/conversations", get(routing::http::conversations))
        .route("/api/conversations/{id}", get(routing::http::conversation))
        .route("/api/conversations/{id}/{action}", post(routing::http::act))
        // Static beats a parameter: GET of the messages waiting; POSTs still go to `act`.
        .route(
            "/api/conversations/{id}/later",
            get(later::waiting).post(routing::http::act_later),
        )
        .route(
            "/api/workstreams/{channel_id}",
            get(routing::http::workstream).put(routing::http::put_workstream),
        )
        .route(
            "/api/workstreams/{channel_id}/test",
            post(routing::http::test_rule),
        )
        .route("/api/queues", get(routing::http::queues))
        .route("/api/reminders", get(reminders::list))
        .route(
            "/api/reminders/{id}",
            axum::routing::delete(reminders::cancel),
        )
        .route("/api/reports", get(reports::http::report))
        .route("/api/quick-replies", get(replies::list).post(replies::add))
        .route(
            "/api/quick-replies/{id}",
            axum::routing::put(replies::update).delete(replies::remove),
        )
        .route(
            "/api/queues/{id}",
            axum::routing::put(routing::http::put_queue),
        )
        // Everything above takes small JSON bodies, or none.
        .layer(RequestBodyLimitLayer::new(MAX_API_BODY))
        .route(
            "/line/{channel_id}/webhook",
            post(webhook::receive).layer((
                DefaultBodyLimit::max(MAX_WEBHOOK_BODY),
                RequestBodyLimitLayer::new(MAX_WEBHOOK_BODY),
            )),
        )
        .route(
            "/api/uploads",
            post(uploads::upload).layer((
                DefaultBodyLimit::max(uploads::MAX_UPLOAD),
                RequestBodyLimitLayer::new(uploads::MAX_UPLOAD),
            )),
        )
        .with_state(relay)
}

async fn healthz(
    axum::extract::State(relay): axum::extract::State<Relay>,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    if !relay.writer().is_alive() {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "unhealthy", "reason": "the writer stopped; nothing can be stored"})),
        )
            .into_response();
    }
    let head = *relay.log_head().borrow();
    let unreadable: Vec<String> = relay
        .registry()
        .unreadable()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    axum::Json(serde_json::json!({
        "status": "ok", "head": head, "channels": relay.registry().len(),
        "relay": relay.cluster().id(), "arbiter": relay.cluster().is_arbiter(),
        "unreadableChannels": unreadable,
    }))
    .into_response()
}

/// Serves until `shutdown` resolves; returns the bound address through `bound` first.
pub async fn serve(
    config: ServeConfig,
    bound: Option<tokio::sync::oneshot::Sender<std::net::SocketAddr>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    // A missing or broken certificate stops the relay before it opens its data.
    let https = match config.tls_files()? {
        Some((cert, key)) => {
            Some(tls::ServerTls::load(cert, key).context("loading the TLS certificate")?)
        }
        None => None,
    };
    let relay = Relay::start(&config).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let data = config.data.display();
    tracing::info!(%addr, %data, tls = https.is_some(), "relay listening");
    if let Some(tx) = bound {
        let _ = tx.send(addr);
    }
    let stopper = relay.clone();
    let watched = relay.clone();
    let stop = async move {
        // A writer that died cannot store anything again: end the process so the service
        // manager restarts it, instead of answering 503 to LINE forever.
        let writer_died = async move {
            while watched.writer().is_alive() {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        };
        tokio::select! {
            _ = shutdown => {}
            _ = writer_died => {
                tracing::error!("the writer stopped; the relay exits so it can be restarted");
                stopper.shutdown();
                std::process::exit(70);
            }
        }
        stopper.shutdown();
    };
    let limits = edge::within_descriptors(config.limits());
    match https {
        // The TLS listener sets TCP_NODELAY itself, before the handshake.
        Some(server_tls) => {
            let listener = tls::TlsListener::new(listener, server_tls)?;
            edge::serve(listener, app_tls(relay), limits, stop).await;
        }
        None => {
            // Without TCP_NODELAY, small websocket frames wait for the peer's delayed ACK (~40 ms).
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "could not set TCP_NODELAY");
                }
            });
            edge::serve(listener, app(relay), limits, stop).await;
        }
    }
    Ok(())
}
