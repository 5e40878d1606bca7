//! `linedesk --demo`: a relay and the LINE simulator on loopback, with simulated customers
//! writing in several languages, and the console signed in to them.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use linedesk_line::Secret;
use linedesk_relay::store::{self, channels, users};
use linedesk_relay::ServeConfig;
use linedesk_sim::{ChannelConfig, Sim};

/// A running demo.
pub struct Demo {
    /// The relay's URL.
    pub relay_url: String,
    /// Demo user name.
    pub user: String,
    /// Demo password (random per run, never written anywhere).
    pub password: String,
    /// The simulator's URL.
    pub sim_url: String,
    _data: PathBuf,
}

const CHANNEL: &str = "1650000000";

fn random_hex(bytes: usize) -> String {
    let mut out = String::new();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut x = seed as u64 ^ u64::from(std::process::id()).rotate_left(32);
    for _ in 0..bytes {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(&format!("{:02x}", x as u8));
    }
    out
}

/// Starts the relay and simulator under `root` (a fresh relay log each run).
pub async fn start(root: &Path, message_every: std::time::Duration) -> anyhow::Result<Demo> {
    let data = root.join(format!("relay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let secret = random_hex(16);
    let token = random_hex(24);
    let password = random_hex(12);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("reserving a relay port")?;
    let relay_addr = listener.local_addr()?;
    drop(listener);
    let sim = Sim::new(
        ChannelConfig {
            channel_id: CHANNEL.into(),
            channel_secret: secret.clone(),
            access_token: token.clone(),
            bot_user_id: "U8e742f61d673b39c7fff3cecb7536ef0".into(),
            bot_name: "linedesk demo".into(),
        },
        Some(format!("http://{relay_addr}/line/{CHANNEL}/webhook")),
    );
    let (sim_addr, _) = sim
        .serve("127.0.0.1:0".parse().expect("loopback address"))
        .await
        .context("starting the simulator")?;
    let sim_url = format!("http://{sim_addr}");
    {
        let conn = store::open_writer(&data)?;
        let vault = linedesk_relay::vault::Vault::load(&data)?;
        let ch = channels::Channel {
            id: CHANNEL.into(),
            name: "Support (demo)".into(),
            secret: Secret::new(secret),
            token: Secret::new(token),
            api_base: sim_url.clone(),
            api_data_base: sim_url.clone(),
            deleted_at: None,
        };
        channels::upsert(&conn, &vault, &ch, store::now_ms())?;
        users::add(
            &conn,
            "demo",
            linedesk_protocol::Role::Admin,
            &password,
            store::now_ms(),
        )?; // Two customers of the demo are already known contacts: their profiles show the
            // contact as a suggestion to link.
        for (name, company, email, tier) in [
            ("陳美玲", "美玲花藝", "meiling@example.tw", "gold"),
            ("Emily Carter", "Carter & Co", "emily@example.com", "silver"),
        ] {
            let fields = linedesk_protocol::identity::ContactFields {
                name: name.into(),
                company: Some(company.into()),
                email: Some(email.into()),
                custom: [("tier".to_owned(), tier.to_owned())].into(),
                ..Default::default()
            };
            linedesk_relay::store::identity::create(&conn, &fields, "demo", store::now_ms())?;
        }
    }
    let mut config = ServeConfig::local(data.clone());
    config.listen = relay_addr;
    config.line_api_base = Some(sim_url.clone());
    let (bound_tx, bound_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        if let Err(e) = linedesk_relay::serve(config, Some(bound_tx), std::future::pending()).await
        {
            tracing::error!(error = %e, "demo relay stopped");
        }
    });
    let bound = bound_rx.await.context("demo relay did not start")?;
    tokio::spawn(linedesk_sim::demo::run(sim, message_every));
    Ok(Demo {
        relay_url: format!("http://{bound}"),
        user: "demo".into(),
        password,
        sim_url,
        _data: data,
    })
}
