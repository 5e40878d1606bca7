//! Several relays on one PostgreSQL database.
//!
//! Any number of relay processes share one database; each accepts webhooks and consoles.
//!
//! - **One log order.** An append, on any relay, numbers its events under the `log_head` row
//!   lock, held until its commit, so sequences are handed out in commit order: a reader that
//!   follows the log by sequence never meets a gap that a slower transaction fills later (the
//!   trap of out-of-order commits). Routing takes the same lock first thing, so routing
//!   decisions of all relays happen one at a time, each seeing the last one's writes. Group
//!   commit keeps this cheap.
//! - **Who has written what.** After each commit a relay sends `NOTIFY linedesk` with its new
//!   head; every relay `LISTEN`s on its own connection and moves its [`Cluster::head`] (the
//!   console tail, routing and media follow that, not their own writer's head). A relay whose
//!   listening connection drops reads the head again when it is back.
//! - **One arbiter.** Routing, the media pipeline, the automated-message sender, channel
//!   health and the session purge follow the log or the clock on one relay only: the holder
//!   of the `arbiter` lease, renewed every [`BEAT`] for [`LEASE`]. When it dies another relay
//!   takes the lease within `LEASE + BEAT` and resumes from the durable cursors; routing
//!   checks the lease and its cursor inside its own transaction, so nothing is routed twice.
//! - **Consoles.** `relay_consoles` says which relay holds which representative's consoles.
//!   The arbiter forgets a dead relay's consoles, starting their presence grace, unless the
//!   representative is connected to another relay meanwhile.
//! - **Sessions** ended on one relay are announced to every relay, whose websockets close.
//! - **LINE's rate limit** per channel is shared: each relay takes an equal part of it for
//!   the relays alive.
//! - **Media** bytes live in the database (`media_blobs`), with a file copy in each relay's
//!   data directory as a cache: see [`crate::media`].
//!
//! On SQLite a relay is alone: it always arbitrates, and its head is its writer's.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::store::cluster as store;
use crate::Relay;

/// How long the arbiter lease lasts without renewal, and how long a silent relay counts as
/// alive.
pub const LEASE: Duration = Duration::from_millis(2_500);
/// How often every relay says it is alive and the arbiter renews its lease.
pub const BEAT: Duration = Duration::from_millis(500);

/// This relay's place among the others; part of [`Relay`].
pub struct Cluster {
    id: String,
    head: Arc<watch::Sender<u64>>,
    arbiter: watch::Sender<bool>,
    live: AtomicU32,
    outbox: mpsc::UnboundedSender<String>,
    outbox_rx: Mutex<Option<mpsc::UnboundedReceiver<String>>>,
}

impl Cluster {
    /// A relay `id` whose known head is `head` (which its writer moves too); on SQLite
    /// (`alone`) it arbitrates from the start.
    pub fn new(id: String, head: Arc<watch::Sender<u64>>, alone: bool) -> Self {
        let (outbox, rx) = mpsc::unbounded_channel();
        Self {
            id,
            head,
            arbiter: watch::channel(alone).0,
            live: AtomicU32::new(1),
            outbox,
            outbox_rx: Mutex::new(Some(rx)),
        }
    }

    /// This relay's id (kept in its data directory, so a restart is the same relay).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The highest log sequence committed by any relay that this one knows of.
    pub fn head(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    /// Whether this relay is the arbiter now.
    pub fn is_arbiter(&self) -> bool {
        *self.arbiter.borrow()
    }

    /// Relays alive, this one included (1 on SQLite).
    pub fn live(&self) -> u32 {
        self.live.load(Ordering::Relaxed).max(1)
    }

    fn saw_head(&self, seq: u64) {
        self.head.send_if_modified(|h| {
            let moved = seq > *h;
            *h = (*h).max(seq);
            moved
        });
    }

    /// Where notifications to the other relays are queued (`kind rest`).
    pub fn notifier(&self) -> mpsc::UnboundedSender<String> {
        self.outbox.clone()
    }
}

/// The id of the relay whose data directory is `dir`, made on its first start.
pub fn relay_id(dir: &std::path::Path) -> std::io::Result<String> {
    let path = dir.join("relay-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
        _ => {
            let id = format!("relay-{}", uuid::Uuid::new_v4().simple());
            std::fs::create_dir_all(dir)?;
            std::fs::write(&path, &id)?;
            Ok(id)
        }
    }
}

/// Starts following the other relays: the head, the heartbeat and lease, notifications.
pub fn start(relay: &Relay) {
    tokio::spawn(follow_writer(relay.clone()));
    if !relay.database().is_postgres() {
        return;
    }
    let rx = relay
        .cluster()
        .outbox_rx
        .lock()
        .expect("outbox lock")
        .take();
    if let Some(rx) = rx {
        tokio::spawn(send_notifications(relay.clone(), rx));
    }
    relay.sessions().tell_peers(relay.cluster().notifier());
    tokio::spawn(heartbeat(relay.clone()));
    listen(relay);
}

/// Runs `work` while this relay is the arbiter: started when it takes the lease, dropped
/// when it loses it, until shutdown.
pub async fn while_arbiter<F, Fut>(relay: Relay, name: &'static str, work: F)
where
    F: Fn(Relay) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut arbiter = relay.cluster().arbiter.subscribe();
    let mut stop = relay.shutdown_signal();
    loop {
        tokio::select! {
            held = arbiter.wait_for(|a| *a) => if held.is_err() { return },
            _ = stop.changed() => return,
        }
        tracing::debug!(work = name, "arbiter: starting");
        tokio::select! {
            () = work(relay.clone()) => return,
            _ = arbiter.wait_for(|a| !*a) => {
                tracing::info!(work = name, "no longer the arbiter: stopped");
            }
        }
    }
}

/// Tells the others of this relay's own commits (the writer moves the known head itself).
async fn follow_writer(relay: Relay) {
    let mut head = relay.writer().head();
    let postgres = relay.database().is_postgres();
    loop {
        let seq = *head.borrow_and_update();
        // Alone on the database nobody needs to hear it (a relay that starts meanwhile reads
        // the head itself, and polls it until this one's next beat counts it).
        if postgres && relay.cluster().live() > 1 {
            let _ = relay.cluster().outbox.send(format!("h {seq}"));
        }
        if head.changed().await.is_err() {
            return;
        }
    }
}

/// Sends queued notifications on a reader connection (outside any transaction: at once).
/// Heads are coalesced: only the newest of those waiting goes out.
async fn send_notifications(relay: Relay, mut rx: mpsc::UnboundedReceiver<String>) {
    let id = relay.cluster().id().to_owned();
    while let Some(first) = rx.recv().await {
        let mut pending = vec![first];
        while let Ok(more) = rx.try_recv() {
            pending.push(more);
        }
        let newest_head = pending.iter().rposition(|p| p.starts_with("h "));
        let payloads: Vec<String> = pending
            .into_iter()
            .enumerate()
            .filter(|(i, p)| !p.starts_with("h ") || Some(*i) == newest_head)
            .map(|(_, p)| format!("{id} {p}"))
            .collect();
        let sent = relay
            .read(move |c| {
                for p in &payloads {
                    store::notify(c, p)?;
                }
                Ok(())
            })
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "could not notify the other relays");
        }
    }
}

/// Says this relay is alive, takes or keeps the arbiter lease, and as the arbiter forgets
/// dead relays' consoles. On shutdown it gives the lease up for the next relay.
async fn heartbeat(relay: Relay) {
    let mut stop = relay.shutdown_signal();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + BEAT, BEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => {
                let id = relay.cluster().id().to_owned();
                let _ = relay.writer().run(move |c| store::release(c, &id)).await;
                relay.cluster().arbiter.send_replace(false);
                return;
            }
        }
        beat(&relay).await;
    }
}

/// One heartbeat. [`crate::Relay::start`] runs the first before the relay serves anyone, so
/// a relay alone on its database arbitrates from its first request.
pub async fn beat(relay: &Relay) {
    if !relay.database().is_postgres() {
        return;
    }
    let lease_ms = LEASE.as_millis() as i64;
    let id = relay.cluster().id().to_owned();
    let now = relay.clock().now_ms();
    let beat = relay
        .writer()
        .run(move |c| {
            let beat = store::heartbeat(c, &id, lease_ms)?;
            if beat.arbiter {
                // As when a relay restarts: its representatives keep their presence and
                // work through the grace, unless they reconnect elsewhere.
                for dead in store::dead_relays(c, lease_ms)? {
                    let gone = store::forget_relay(c, &dead)?;
                    crate::store::setup::mark_consoles_of_gone(c, &gone, now)?;
                    tracing::info!(relay = %dead, "a relay stopped: its consoles are gone");
                }
            }
            Ok(beat)
        })
        .await;
    match beat {
        Ok(beat) => {
            relay.cluster().live.store(beat.live, Ordering::Relaxed);
            let was = relay.cluster().arbiter.send_replace(beat.arbiter);
            if beat.arbiter && !was {
                tracing::info!(relay = relay.cluster().id(), "this relay is the arbiter");
            }
        }
        Err(e) => {
            // Without a beat the lease lapses: stop arbitrating before another takes it.
            tracing::warn!(error = %e, "heartbeat failed");
            relay.cluster().arbiter.send_replace(false);
        }
    }
}

/// Listens for the other relays' notifications on a connection of its own, on a thread of
/// its own (the blocking client), reconnecting after a loss.
fn listen(relay: &Relay) {
    let crate::store::Database::Postgres(url) = relay.database().clone() else {
        return;
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Heard>();
    let stop = relay.shutdown_signal();
    let spawned = std::thread::Builder::new()
        .name("relay-listen".into())
        .spawn(move || listen_thread(&url, &tx, &stop));
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start listening to the other relays");
        return;
    }
    let relay = relay.clone();
    tokio::spawn(async move {
        while let Some(heard) = rx.recv().await {
            match heard {
                Heard::Connected => {
                    // Whatever was committed while nobody listened.
                    match relay.read(|c| crate::store::events::head(c)).await {
                        Ok(head) => relay.cluster().saw_head(head),
                        Err(e) => tracing::warn!(error = %e, "could not read the log head"),
                    }
                }
                Heard::Note(payload) => dispatch(&relay, &payload),
            }
        }
    });
}

enum Heard {
    /// (Re)connected, or quiet for a while: read the head.
    Connected,
    Note(String),
}

fn listen_thread(url: &str, tx: &mpsc::UnboundedSender<Heard>, stop: &watch::Receiver<bool>) {
    while !*stop.borrow() {
        let connected = crate::store::pg_tls::connect(url).and_then(|mut client| {
            client.batch_execute(&format!("LISTEN {}", store::CHANNEL))?;
            Ok(client)
        });
        let mut client = match connected {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "could not listen to the other relays; retrying");
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        if tx.send(Heard::Connected).is_err() {
            return;
        }
        loop {
            use postgres::fallible_iterator::FallibleIterator as _;
            // A new wait each time: the client's timeout is not rearmed after it fires, so
            // one iterator would answer "nothing" at once forever after (a busy loop).
            // Notifications wait in the client's buffer meanwhile.
            let next = client
                .notifications()
                .timeout_iter(Duration::from_millis(500))
                .next();
            match next {
                Ok(Some(n)) => {
                    if tx.send(Heard::Note(n.payload().to_owned())).is_err() {
                        return;
                    }
                }
                // Timed out: look at the stop flag, and at the head (a relay that thinks it
                // is alone does not notify until its next beat counts this one).
                Ok(None) if *stop.borrow() => return,
                Ok(None) => {
                    if tx.send(Heard::Connected).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "lost the connection that listens to the other relays");
                    break;
                }
            }
        }
    }
}

/// Acts on another relay's notification.
fn dispatch(relay: &Relay, payload: &str) {
    let mut parts = payload.splitn(3, ' ');
    let (Some(from), Some(kind), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    if from == relay.cluster().id() {
        return;
    }
    match kind {
        "h" => {
            if let Ok(seq) = rest.parse() {
                relay.cluster().saw_head(seq);
            }
        }
        "u" => {
            if let Some((reason, name)) = rest.split_once('\u{1f}') {
                relay
                    .sessions()
                    .end_user_here(name, crate::sessions::reason_of(reason));
            }
        }
        "s" => {
            if let Some(hash) = unhex(rest) {
                relay.sessions().end_session_here(hash);
            }
        }
        // Media erased on another relay: drop this relay's copy.
        "x" if rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_hexdigit()) => {
            let (relay, sha) = (relay.clone(), rest.to_owned());
            tokio::spawn(async move { crate::media::forget_here(&relay, &sha).await });
        }
        _ => tracing::debug!(kind, "unknown notification from another relay"),
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn token_hashes_cross_relays_intact() {
        let hash: Vec<u8> = (0..32).map(|i| i * 7).collect();
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(super::unhex(&hex), Some(hash));
        assert_eq!(super::unhex("abc"), None);
        assert_eq!(super::unhex("zz"), None);
    }
}
