//! Subcommands of `linedesk-relay`.

mod watch;

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::{Args, Parser, Subcommand};
use linedesk_line::Secret;
use linedesk_protocol::Role;
use linedesk_relay::store::{self, channels, events, users};
use linedesk_relay::vault::Vault;
use linedesk_relay::ServeConfig;

/// The version and the commit it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("LINEDESK_COMMIT"),
    ")"
);

/// linedesk's relay: terminates LINE's webhook, keeps a durable event log and feeds consoles.
#[derive(Debug, Parser)]
#[command(name = "linedesk-relay", version = VERSION, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the relay: webhook endpoint, console websocket, media store.
    Serve(ServeArgs),
    /// Add, list or remove LINE channels.
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Add, list or remove console users.
    #[command(subcommand)]
    User(UserCommand),
    /// Print the durable event log as JSON lines (works while `serve` runs).
    Events {
        /// Data directory of the relay.
        #[arg(long, env = "LINEDESK_DATA")]
        data: PathBuf,
        /// The relay's PostgreSQL database, when it runs on one (postgres:// URL).
        #[arg(long, env = "LINEDESK_DATABASE", hide_env_values = true, value_parser = parse_database)]
        database: Option<String>,
        /// Print only events after this sequence number.
        #[arg(long, default_value_t = 0)]
        since: u64,
    },
    /// Sign in to a running relay and print events as a console receives them.
    Watch(watch::WatchArgs),
    /// Move a stopped relay's data (records and media) from its SQLite data directory into an
    /// empty PostgreSQL database, verifying every table's count and every file's hash.
    Migrate {
        /// Data directory of the relay to move (it keeps its relay key: start the relay on
        /// PostgreSQL with this directory, or a copy of its relay.key).
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL database to move it into (postgres:// URL).
        #[arg(long, value_parser = parse_database)]
        to: String,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// TOML file with `listen`, `data`, `public_url`, `session_ttl_hours`, `tls_cert`,
    /// `tls_key`; flags override it.
    #[arg(long, env = "LINEDESK_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (HTTPS with --tls-cert and --tls-key, else plain HTTP behind an
    /// HTTPS proxy: LINE calls only HTTPS URLs).
    #[arg(long, env = "LINEDESK_LISTEN")]
    listen: Option<SocketAddr>,
    /// Data directory: database (unless --database), relay key (unless LINEDESK_RELAY_KEY is
    /// set), media.
    #[arg(long, env = "LINEDESK_DATA")]
    data: Option<PathBuf>,
    /// Keep the records in PostgreSQL: a postgres:// URL (default: SQLite in --data).
    #[arg(long, env = "LINEDESK_DATABASE", hide_env_values = true, value_parser = parse_database)]
    database: Option<String>,
    /// Public HTTPS base URL of this relay (shown as the webhook URL to paste into LINE).
    #[arg(long, env = "LINEDESK_PUBLIC_URL")]
    public_url: Option<String>,
    /// Console session lifetime in hours.
    #[arg(long, env = "LINEDESK_SESSION_TTL_HOURS")]
    session_ttl_hours: Option<i64>,
    /// Messaging API base for channels added from the console (tests: the simulator).
    #[arg(long, env = "LINEDESK_LINE_API_BASE")]
    line_api_base: Option<String>,
    /// Where stickers and LINE emoji pictures are fetched by id (default: --line-api-base when
    /// set, else LINE's sticker CDN).
    #[arg(long, env = "LINEDESK_STICKER_BASE")]
    sticker_base: Option<String>,
    /// PEM certificate chain: serve HTTPS (with --tls-key). A renewed file is picked up within
    /// seconds, without a restart.
    #[arg(long, env = "LINEDESK_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "LINEDESK_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// The time zone reports count days in, an IANA name (default UTC).
    #[arg(long, env = "LINEDESK_REPORT_TIME_ZONE")]
    report_time_zone: Option<String>,
}

#[derive(Debug, Subcommand)]
enum ChannelCommand {
    /// Add a LINE channel (or replace its credentials). Secret and token are sealed at rest.
    Add {
        /// Data directory of the relay.
        #[arg(long, env = "LINEDESK_DATA")]
        data: PathBuf,
        /// The relay's PostgreSQL database, when it runs on one (postgres:// URL).
        #[arg(long, env = "LINEDESK_DATABASE", hide_env_values = true, value_parser = parse_database)]
        database: Option<String>,
        /// LINE channel ID (Basic settings tab); also the webhook path segment.
        #[arg(long)]
        id: String,
        /// Channel secret (Basic settings tab).
        #[arg(long, env = "LINEDESK_CHANNEL_SECRET", hide_env_values = true)]
        secret: String,
        /// Long-lived channel access token (Messaging API tab).
        #[arg(long, env = "LINEDESK_CHANNEL_TOKEN", hide_env_values = true)]
        token: String,
        /// Display name; defaults to the ID.
        #[arg(long)]
        name: Option<String>,
        /// Messaging API base URL (the simulator's, in tests and the demo).
        #[arg(long, default_value = linedesk_line::api::API_BASE)]
        api_base: String,
        /// Content API base URL; defaults to --api-base when that is not LINE's.
        #[arg(long)]
        api_data_base: Option<String>,
        /// Public URL of the relay, to print the webhook URL to paste into the LINE console.
        #[arg(long, env = "LINEDESK_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// List channels with their health figures (no credentials).
    List {
        /// Data directory of the relay.
        #[arg(long, env = "LINEDESK_DATA")]
        data: PathBuf,
        /// The relay's PostgreSQL database, when it runs on one (postgres:// URL).
        #[arg(long, env = "LINEDESK_DATABASE", hide_env_values = true, value_parser = parse_database)]
        database: Option<String>,
    },
    /// Remove a channel; its logged events stay, later webhooks get 404.
    Remove {
        /// Data directory of the relay.
        #[arg(long, env = "LINEDESK_DATA")]
        data: PathBuf,
        /// The relay's PostgreSQL database, when it runs on one (postgres:// URL).
        #[arg(long, env = "LINEDESK_DATABASE", hide_env_values = true, value_parser = parse_database)]
        database: Option<String>,
        /// LINE channel ID.
        #[arg(long)]
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        /// Data directory of the relay.
        #[arg(long, env = "LINEDESK_DATA")]
        data: PathBuf,
        /// The relay's PostgreSQL database, when it runs on one (postgres:// URL).
        #[arg(long, env = "LINEDESK_DATABASE", hide_env_values = true, value_parser = parse_database)]
        database: Option<String>,
        /// Login name.
        #[arg(long)]
        name: String,
        /// rep, supervisor or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from standard input (required: never pass it as a flag).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List users.
    List {
        /// Data directory of the relay.
        #[arg(long, env = "LINEDESK_DATA")]
        data: PathBuf,
        /// The relay's PostgreSQL database, when it runs on one (postgres:// URL).
        #[arg(long, env = "LINEDESK_DATABASE", hide_env_values = true, value_parser = parse_database)]
        database: Option<String>,
    },
    /// Remove a user and end their sessions.
    Remove {
        /// Data directory of the relay.
        #[arg(long, env = "LINEDESK_DATA")]
        data: PathBuf,
        /// The relay's PostgreSQL database, when it runs on one (postgres:// URL).
        #[arg(long, env = "LINEDESK_DATABASE", hide_env_values = true, value_parser = parse_database)]
        database: Option<String>,
        /// Login name.
        #[arg(long)]
        name: String,
    },
}

fn parse_database(s: &str) -> Result<String, String> {
    store::Database::check_url(s)?;
    Ok(s.to_owned())
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("unknown role {s:?}: use rep, supervisor or admin"))
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Channel(cmd) => channel(cmd),
        Command::User(cmd) => user(cmd),
        Command::Events {
            data,
            database,
            since,
        } => print_events(&data, database.as_deref(), since),
        Command::Watch(args) => watch::run(args).await,
        Command::Migrate { from, to } => migrate(&from, &to),
    }
}

fn migrate(from: &Path, to: &str) -> anyhow::Result<()> {
    if !from.join(store::DB_FILE).exists() {
        bail!("no relay database in {}", from.display());
    }
    let target = store::Database::Postgres(to.to_owned());
    eprintln!("moving {} into {target}", from.display());
    let moved = store::migrate::sqlite_to_postgres(from, to, |line| eprintln!("  {line}"))?;
    let rows: i64 = moved.tables.iter().map(|(_, n)| n).sum();
    println!(
        "moved {} tables ({rows} rows) and {} media files ({} bytes); counts verified",
        moved.tables.len(),
        moved.media_files,
        moved.media_bytes
    );
    println!(
        "start the relay with --database {} and the relay key of {} (relay.key)",
        store::mask_password(to),
        from.display()
    );
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = match &args.config {
        Some(path) => ServeConfig::from_file(path)?,
        None => {
            let data = args
                .data
                .clone()
                .context("--data (or LINEDESK_DATA, or a --config file) is required")?;
            ServeConfig::local(data)
        }
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    } else if args.config.is_none() {
        config.listen = SocketAddr::from(([127, 0, 0, 1], 8080));
    }
    if let Some(data) = args.data {
        config.data = data;
    }
    if let Some(url) = args.database {
        config.database = Some(url);
    }
    if let Some(url) = &config.database {
        store::Database::check_url(url).map_err(anyhow::Error::msg)?;
    }
    if let Some(url) = args.public_url {
        config.public_url = Some(url);
    }
    if let Some(ttl) = args.session_ttl_hours {
        config.session_ttl_hours = ttl;
    }
    if let Some(base) = args.line_api_base {
        config.line_api_base = Some(base);
    }
    if let Some(base) = args.sticker_base {
        config.sticker_base = Some(base);
    }
    if let Some(cert) = args.tls_cert {
        config.tls_cert = Some(cert);
    }
    if let Some(key) = args.tls_key {
        config.tls_key = Some(key);
    }
    if let Some(zone) = args.report_time_zone {
        config.report_time_zone = zone;
    }
    // Checked here too, so the mistake is reported before the relay opens its data.
    config.tls_files()?;
    let scheme = if config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let public_url = config.public_url.clone();
    let server = tokio::spawn(linedesk_relay::serve(config, Some(tx), shutdown_signal()));
    if let Ok(addr) = rx.await {
        // Scripts (the demo, tests) read this line to learn the port.
        println!("listening on {scheme}://{addr}");
        if let Some(url) = public_url {
            println!(
                "webhook URL for channel C: {}/line/C/webhook",
                url.trim_end_matches('/')
            );
        }
    }
    server.await.context("relay task")?
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn channel(cmd: ChannelCommand) -> anyhow::Result<()> {
    match cmd {
        ChannelCommand::Add {
            data,
            database,
            id,
            secret,
            token,
            name,
            api_base,
            api_data_base,
            public_url,
        } => {
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                bail!(
                    "channel id must be letters, digits, '-' or '_' (LINE channel IDs are digits)"
                );
            }
            if secret.trim().is_empty() || token.trim().is_empty() {
                bail!("--secret and --token must not be empty");
            }
            let api_base = api_base.trim_end_matches('/').to_owned();
            let api_data_base = match api_data_base {
                Some(b) => b.trim_end_matches('/').to_owned(),
                None if api_base == linedesk_line::api::API_BASE => {
                    linedesk_line::api::DATA_BASE.into()
                }
                None => api_base.clone(),
            };
            let conn = store::Database::choose(database.as_deref(), &data).open_writer()?;
            let vault = Vault::load(&data)?;
            let ch = channels::Channel {
                name: name.unwrap_or_else(|| id.clone()),
                id: id.clone(),
                secret: Secret::new(secret),
                token: Secret::new(token),
                api_base,
                api_data_base,
                deleted_at: None,
            };
            channels::upsert(&conn, &vault, &ch, store::now_ms())?;
            println!("channel {id} saved");
            match public_url {
                Some(url) => println!(
                    "webhook URL to paste into the LINE console: {}/line/{id}/webhook",
                    url.trim_end_matches('/')
                ),
                None => println!("webhook path: /line/{id}/webhook (behind your public HTTPS URL)"),
            }
            Ok(())
        }
        ChannelCommand::List { data, database } => {
            let conn = store::Database::choose(database.as_deref(), &data).open_writer()?;
            for s in channels::stats(&conn)? {
                println!("{}", serde_json::to_string(&s)?);
            }
            Ok(())
        }
        ChannelCommand::Remove { data, database, id } => {
            let conn = store::Database::choose(database.as_deref(), &data).open_writer()?;
            if !channels::remove(&conn, &id)? {
                bail!("no channel {id}");
            }
            println!("channel {id} removed; its logged events stay");
            Ok(())
        }
    }
}

fn user(cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            data,
            database,
            name,
            role,
            password_stdin: _,
        } => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\n', '\r']);
            let conn = store::Database::choose(database.as_deref(), &data).open_writer()?;
            let user = users::add(&conn, &name, role, password, store::now_ms())?;
            println!("user {} added as {}", user.name, user.role.as_str());
            Ok(())
        }
        UserCommand::List { data, database } => {
            let conn = store::Database::choose(database.as_deref(), &data).open_writer()?;
            for u in users::list(&conn)? {
                println!("{}", serde_json::to_string(&u)?);
            }
            Ok(())
        }
        UserCommand::Remove {
            data,
            database,
            name,
        } => {
            let conn = store::Database::choose(database.as_deref(), &data).open_writer()?;
            if !users::remove(&conn, &name)? {
                bail!("no user {name}");
            }
            println!("user {name} removed");
            Ok(())
        }
    }
}

fn print_events(data: &Path, database: Option<&str>, since: u64) -> anyhow::Result<()> {
    if database.is_none() && !data.join(store::DB_FILE).exists() {
        bail!("no relay database in {}", data.display());
    }
    let conn = store::Database::choose(database, data).open_reader()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut cursor = since;
    loop {
        let batch = events::read_after(&conn, cursor, 5000)?;
        let Some(last) = batch.last() else { break };
        cursor = last.seq;
        for ev in &batch {
            let raw: serde_json::Value = serde_json::from_str(&ev.body)?;
            let line = serde_json::json!({
                "seq": ev.seq,
                "channel": ev.channel_id,
                "webhookEventId": ev.webhook_event_id,
                "receivedAt": ev.received_at,
                "event": raw,
            });
            use std::io::Write as _;
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}
