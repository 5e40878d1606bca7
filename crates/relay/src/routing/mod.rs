//! Routing and work distribution: workstreams, queues, presence, capacity, push offers and
//! pick queues, the conversation lifecycle, automated messages and the survey.
//!
//! The relay is the one arbiter. [`engine`] holds the state machine; every decision runs on
//! the writer thread in one transaction with the log events (`linedeskConversation`,
//! `linedeskAgent`) that tell consoles about it, so a restart loses no conversation, offer or
//! queue position. [`Routing::run`] follows the log (customer events) with a durable cursor
//! and ticks the clock (offer countdowns, wrap-up, auto-close, operating hours);
//! [`automated`] sends what the engine queued; [`http`] is the console's and admin's API.
//!
//! - [`config`]: what admins set up; [`rules`]: routing rules; [`hours`]: operating hours.

pub mod automated;
pub mod config;
pub mod engine;
pub mod hours;
pub mod http;
pub mod rules;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use linedesk_protocol::routing::{AgentSnapshot, ConversationSnapshot, Presence};
use tokio::sync::{watch, Notify};

use crate::Relay;
use engine::{Actor, Command, EngineError, Tx};

/// Events routed per transaction.
const BATCH: usize = 256;
/// How often the clock is looked at.
pub const TICK: Duration = Duration::from_millis(500);

/// Handle on routing; part of [`Relay`].
pub struct Routing {
    /// Wakes the automated-message sender.
    wake: Arc<Notify>,
    /// Log sequence routed so far.
    routed: watch::Sender<u64>,
    /// Open websockets per user (presence follows connection).
    sockets: Mutex<HashMap<String, usize>>,
    /// One sender at a time: two would both use a row's reply token.
    pub(crate) sending: tokio::sync::Mutex<()>,
}

impl Routing {
    /// A handle; [`Routing::start`] spawns its tasks.
    pub fn new(routed: u64) -> Self {
        Self {
            wake: Arc::new(Notify::new()),
            routed: watch::channel(routed).0,
            sockets: Mutex::new(HashMap::new()),
            sending: tokio::sync::Mutex::new(()),
        }
    }

    /// A relay (re)starting: every console it had is gone until it reconnects; their presence
    /// holds through the grace. Done before the relay serves anyone, so a console that
    /// connects at once is never marked gone afterwards. Alone on SQLite, every console was
    /// this relay's; among several on PostgreSQL, only those it held (its id is kept in its
    /// data directory), unless the representative is connected to another relay.
    pub async fn consoles_gone_at_start(relay: &Relay) -> anyhow::Result<()> {
        let now = relay.clock().now_ms();
        let id = relay.cluster().id().to_owned();
        relay
            .writer()
            .run(move |c| {
                if !c.is_postgres() {
                    return crate::store::setup::mark_consoles_gone(c, now);
                }
                let gone = crate::store::cluster::consoles_gone(c, &id)?;
                crate::store::setup::mark_consoles_of_gone(c, &gone, now)
            })
            .await?;
        Ok(())
    }

    /// Spawns the log follower, the clock and the automated-message sender, on the arbiter.
    pub fn start(relay: &Relay) {
        tokio::spawn(crate::cluster::while_arbiter(
            relay.clone(),
            "routing",
            |relay| async move {
                let wake = relay.routing().wake.clone();
                tokio::join!(follow(relay.clone()), automated::run(relay, wake));
            },
        ));
    }

    /// Resolves once every event logged so far has been routed.
    pub async fn settled(relay: &Relay) {
        let head = *relay.log_head().borrow();
        let mut rx = relay.routing().routed.subscribe();
        let _ = rx.wait_for(|r| *r >= head).await;
    }

    /// Runs the clock once now (tests move a [`crate::clock::ManualClock`], then call this).
    pub async fn tick(relay: &Relay) -> anyhow::Result<usize> {
        let now = relay.clock().now_ms();
        let id = relay.cluster().id().to_owned();
        let (made, wake) = relay
            .writer()
            .run(move |c| {
                // Only the arbiter runs the clock (checked in the transaction: fenced).
                if !crate::store::cluster::holds_lease(c, &id)? {
                    return Ok((0, false));
                }
                let mut tx = Tx::new(c, now);
                let made = tx.tick()?;
                let queued = tx.queued_automated;
                crate::reminders::fire_due(c, now)?;
                Ok((made, queued))
            })
            .await?;
        if wake {
            relay.routing().wake.notify_one();
        }
        Ok(made)
    }

    /// Sends due automated messages now (tests; the sender also runs on its own).
    pub async fn flush_automated(relay: &Relay) -> anyhow::Result<usize> {
        automated::send_due(relay).await
    }

    /// A representative's command on a conversation, then distribution.
    pub async fn command(
        relay: &Relay,
        actor: Actor,
        id: String,
        cmd: Command,
    ) -> Result<
        (
            ConversationSnapshot,
            Option<linedesk_protocol::routing::Warning>,
        ),
        EngineError,
    > {
        Self::decide(relay, move |tx| tx.command(&actor, &id, cmd)).await
    }

    /// The representative sets a presence.
    pub async fn set_presence(
        relay: &Relay,
        user: String,
        presence: Presence,
    ) -> Result<AgentSnapshot, EngineError> {
        Self::decide(relay, move |tx| tx.set_presence(&user, presence)).await
    }

    /// An admin sets a capacity.
    pub async fn set_capacity(
        relay: &Relay,
        user: String,
        capacity: u32,
    ) -> Result<AgentSnapshot, EngineError> {
        Self::decide(relay, move |tx| tx.set_capacity(&user, capacity)).await
    }

    /// Runs one routing decision in a writer transaction, then hands out whatever it freed;
    /// wakes the automated-message sender if the decision queued something.
    pub(crate) async fn decide<T: Send + 'static>(
        relay: &Relay,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<T, EngineError> {
        let now = relay.clock().now_ms();
        let (result, wake) = relay
            .writer()
            .run(move |c| {
                let mut tx = Tx::new(c, now);
                let result = engine::rollback_on_db(f(&mut tx))?;
                if result.is_ok() {
                    tx.distribute()?;
                }
                Ok((result, tx.queued_automated))
            })
            .await?;
        if wake {
            relay.routing().wake.notify_one();
        }
        result
    }

    /// A console of `user` connected.
    pub fn connected(relay: &Relay, user: &str) {
        let first = {
            let mut sockets = relay.routing().sockets.lock().expect("sockets lock");
            let n = sockets.entry(user.to_owned()).or_default();
            *n += 1;
            *n == 1
        };
        if first {
            Self::connection(relay, user, true);
        }
    }

    /// A console of `user` went away.
    pub fn disconnected(relay: &Relay, user: &str) {
        let last = {
            let mut sockets = relay.routing().sockets.lock().expect("sockets lock");
            let n = sockets.entry(user.to_owned()).or_default();
            *n = n.saturating_sub(1);
            *n == 0
        };
        if last {
            Self::connection(relay, user, false);
        }
    }

    fn connection(relay: &Relay, user: &str, up: bool) {
        let (relay, user) = (relay.clone(), user.to_owned());
        tokio::spawn(async move {
            let now = relay.clock().now_ms();
            let id = relay.cluster().id().to_owned();
            let done = relay
                .writer()
                .run(move |c| {
                    use crate::store::cluster::{console_down, console_up};
                    let mut tx = Tx::new(c, now);
                    // Representatives may have consoles on several relays: gone only when
                    // the last one is.
                    if up {
                        console_up(c, &id, &user)?;
                        tx.connection(&user, true)?;
                    } else if !console_down(c, &id, &user)? {
                        tx.connection(&user, false)?;
                    }
                    tx.distribute()
                })
                .await;
            if let Err(e) = done {
                tracing::warn!(error = %e, "could not record a console connection");
            }
        });
    }
}

/// Longest routing waits for the profiles of a batch's new customers.
const PROFILE_WAIT: Duration = Duration::from_millis(300);

/// Follows the log and routes customer events; ticks the clock.
async fn follow(relay: Relay) {
    // The shared tail's head: it moves once the events are in memory (`tail::events_after`).
    let mut head = relay.tail().head();
    let mut stop = relay.shutdown_signal();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut profiled: HashSet<(String, String)> = HashSet::new();
    loop {
        match route_batch(&relay, &mut profiled).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "routing failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        tokio::select! {
            r = head.changed() => if r.is_err() { return },
            _ = tick.tick() => {
                if let Err(e) = Routing::tick(&relay).await {
                    tracing::warn!(error = %e, "routing tick failed");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Routes the next batch; `Ok(true)` when there may be more.
async fn route_batch(
    relay: &Relay,
    profiled: &mut HashSet<(String, String)>,
) -> anyhow::Result<bool> {
    let cursor = *relay.routing().routed.borrow();
    // Routing's own cursor, once read: among several relays, an arbiter that routed
    // meanwhile moved the database's, which the fence below sees (it then reads it again).
    let cursor = if cursor == 0 {
        relay
            .read(|c| crate::store::meta::get(c, crate::store::meta::ROUTING_CURSOR))
            .await?
            .unwrap_or(0) as u64
    } else {
        cursor
    };
    let batch = crate::tail::events_after(relay, cursor, BATCH).await?;
    let Some(last) = batch.last().map(|e| e.seq) else {
        relay.routing().routed.send_replace(cursor);
        return Ok(false);
    };
    // Rules on the customer's language, and the consent question (asked in the customer's
    // language when the conversation opens), want the profile before routing. The batch's
    // new customers are fetched at once, and routing waits for them at most PROFILE_WAIT: a
    // slow LINE must not hold up everybody else. A profile that arrives later still gives
    // its conversation a language (`on_profile`); its rules and consent use the default.
    let needs_language = relay
        .read(|c| crate::store::setup::any_rule_needs_language(c))
        .await?;
    let mut fetches = tokio::task::JoinSet::new();
    for ev in batch.iter().filter(|_| needs_language) {
        if ev.event_type != "message" && ev.event_type != "postback" {
            continue;
        }
        let Some(user) = crate::profiles::source_user(&ev.body) else {
            continue;
        };
        let key = (ev.channel_id.clone(), user);
        if !profiled.insert(key.clone()) {
            continue;
        }
        let relay = relay.clone();
        fetches.spawn(async move {
            if crate::profiles::is_stale(&relay, &key.0, &key.1)
                .await
                .unwrap_or(true)
            {
                crate::profiles::refresh(&relay, &key.0, &key.1).await;
            }
        });
    }
    if !fetches.is_empty() {
        let all = async { while fetches.join_next().await.is_some() {} };
        if tokio::time::timeout(PROFILE_WAIT, all).await.is_err() {
            tracing::debug!("routing went ahead without profiles LINE was slow to give");
        }
        // Those still running finish on their own and log their profile event.
        fetches.detach_all();
    }
    let now = relay.clock().now_ms();
    let more = batch.len() == BATCH;
    let id = relay.cluster().id().to_owned();
    let wake = relay
        .writer()
        .run(move |c| {
            // Fenced: only the lease holder routes, and only from where routing stands in
            // the database, so no event is routed twice across a change of arbiter.
            let stands = crate::store::meta::get(c, crate::store::meta::ROUTING_CURSOR)?;
            if !crate::store::cluster::holds_lease(c, &id)? || stands.unwrap_or(0) as u64 != cursor
            {
                return Ok(None);
            }
            let mut tx = Tx::new(c, now);
            for ev in &batch {
                tx.on_event(ev)?;
            }
            tx.flush_touches()?;
            crate::store::meta::set(c, crate::store::meta::ROUTING_CURSOR, last as i64)?;
            tx.distribute()?;
            Ok(Some(tx.queued_automated))
        })
        .await?;
    let Some(wake) = wake else {
        tracing::info!("routing moved on elsewhere; reading its cursor again");
        relay.routing().routed.send_replace(0);
        return Ok(false);
    };
    if wake {
        relay.routing().wake.notify_one();
    }
    relay.routing().routed.send_replace(last);
    Ok(more)
}
