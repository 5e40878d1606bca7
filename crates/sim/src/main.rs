//! `linedesk-sim`: run the LINE platform simulator.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, Subcommand};
use linedesk_sim::{ChannelConfig, Sim};

/// A LINE platform simulator on loopback: Messaging API subset, signed webhooks from simulated
/// customers, fault injection. Control API under /sim/ (see the crate docs).
#[derive(Debug, Parser)]
#[command(name = "linedesk-sim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the simulated LINE API and control API.
    Serve {
        /// Address to listen on (port 0 picks one; the chosen address is printed).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// The simulated channel's ID.
        #[arg(long, default_value = "1650000000")]
        channel_id: String,
        /// The channel secret webhooks are signed with.
        #[arg(long, env = "LINEDESK_SIM_CHANNEL_SECRET", hide_env_values = true)]
        channel_secret: String,
        /// The long-lived access token the API accepts.
        #[arg(long, env = "LINEDESK_SIM_ACCESS_TOKEN", hide_env_values = true)]
        access_token: String,
        /// Where webhooks go (e.g. http://127.0.0.1:8080/line/1650000000/webhook).
        #[arg(long)]
        webhook: Option<String>,
        /// The bot's user ID (webhook `destination`).
        #[arg(long, default_value = "U8e742f61d673b39c7fff3cecb7536ef0")]
        bot_user_id: String,
        /// Start demo customers who write in every few seconds.
        #[arg(long)]
        demo: bool,
        /// Average seconds between demo messages.
        #[arg(long, default_value_t = 6.0)]
        demo_every: f64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LINEDESK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let Command::Serve {
        listen,
        channel_id,
        channel_secret,
        access_token,
        webhook,
        bot_user_id,
        demo,
        demo_every,
    } = Cli::parse().command;
    let sim = Sim::new(
        ChannelConfig {
            channel_id,
            channel_secret,
            access_token,
            bot_user_id,
            bot_name: "linedesk demo".into(),
        },
        webhook,
    );
    let (addr, server) = sim.serve(listen).await?;
    println!("listening on http://{addr}");
    if demo {
        tokio::spawn(linedesk_sim::demo::run(
            sim.clone(),
            Duration::from_secs_f64(demo_every.max(0.2)),
        ));
    }
    tokio::select! {
        r = server => r?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
