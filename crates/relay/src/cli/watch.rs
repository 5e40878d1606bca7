//! `linedesk-relay watch`: a minimal console: sign in, subscribe, print events, acknowledge.
//! Used by the demo to show events flowing, and handy for checking a production relay.

use std::io::Read as _;

use anyhow::{bail, Context as _};
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use linedesk_protocol::{ClientFrame, LoginRequest, LoginResponse, ServerFrame, PROTOCOL_VERSION};
use tokio_tungstenite::tungstenite::Message;

/// Arguments of `watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Relay base URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "LINEDESK_RELAY_URL")]
    url: String,
    /// User name.
    #[arg(long)]
    user: String,
    /// Read the password from standard input.
    #[arg(long, required = true)]
    password_stdin: bool,
    /// Resume after this sequence (default: after the last acknowledged one).
    #[arg(long)]
    since: Option<u64>,
    /// Stop after this many events.
    #[arg(long)]
    limit: Option<u64>,
}

/// Runs `watch`.
pub async fn run(args: WatchArgs) -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password from stdin")?;
    let base = args.url.trim_end_matches('/');
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{base}{}", linedesk_protocol::LOGIN_PATH))
        .json(&LoginRequest {
            user: args.user.clone(),
            password: password.trim_end().into(),
            device: Some("watch".into()),
        })
        .send()
        .await
        .with_context(|| format!("reaching the relay at {base}"))?;
    if !resp.status().is_success() {
        bail!("sign-in refused: {}", resp.text().await.unwrap_or_default());
    }
    let login: LoginResponse = resp.json().await?;
    let ws_url = format!(
        "{}{}",
        base.replacen("http", "ws", 1),
        linedesk_protocol::WS_PATH
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url.as_str())
        .await
        .context("opening the websocket")?;
    let hello = ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        token: login.token,
        since: args.since,
    };
    socket
        .send(Message::text(serde_json::to_string(&hello)?))
        .await?;
    let mut seen = 0u64;
    while let Some(msg) = socket.next().await {
        let Message::Text(text) = msg? else { continue };
        match serde_json::from_str::<ServerFrame>(text.as_str())? {
            ServerFrame::Welcome {
                user,
                role,
                resume_after,
                head,
                ..
            } => {
                eprintln!(
                    "signed in as {user} ({}); resuming after {resume_after}, log head {head}",
                    role.as_str()
                );
            }
            ServerFrame::Event(ev) => {
                println!(
                    "{}",
                    serde_json::json!({"seq": ev.seq, "channel": ev.channel_id, "event": ev.event})
                );
                socket
                    .send(Message::text(serde_json::to_string(&ClientFrame::Ack {
                        seq: ev.seq,
                    })?))
                    .await?;
                seen += 1;
                if args.limit.is_some_and(|l| seen >= l) {
                    break;
                }
            }
            ServerFrame::CaughtUp { head } => {
                eprintln!("caught up at {head}; waiting for new events")
            }
            ServerFrame::Backfill(ev) => {
                println!(
                    "{}",
                    serde_json::json!({"seq": ev.seq, "channel": ev.channel_id, "event": ev.event, "backfill": true})
                );
            }
            ServerFrame::Forget {
                channel_id,
                chat_hash,
            } => eprintln!("no longer yours: chat {chat_hash} on channel {channel_id}"),
            ServerFrame::Scope(_) | ServerFrame::Pong { .. } => {}
            ServerFrame::Error { code, message } => bail!("relay refused: {code:?}: {message}"),
        }
    }
    Ok(())
}
