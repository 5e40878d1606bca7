//! The relay's background work, in one place: what follows the log, what each one owns, where
//! its cursor lives, and what it must check after an erasure (which deletes a customer's
//! events, conversations, profile and media while these keep running).
//!
//! The writer thread is the only writer; every follower reads the log after commits and
//! writes through the writer, so a follower that dies or a relay that restarts resumes from
//! its durable cursor and loses nothing that was acknowledged.
//!
//! Among several relays on one PostgreSQL database ([`crate::cluster`]), those marked "on the
//! arbiter" run on one relay at a time, the holder of the arbiter lease; the others run on
//! every relay.

use crate::Relay;

/// One piece of background work.
pub struct Follower {
    /// Its name in logs.
    pub name: &'static str,
    /// What it owns: the rows or state only it changes.
    pub owns: &'static str,
    /// Where its position is kept.
    pub cursor: &'static str,
    /// What it must check after an erasure.
    pub after_erasure: &'static str,
    /// Spawns it on the relay's runtime.
    start: fn(&Relay),
}

/// Every follower and loop the relay runs, in start order.
pub const FOLLOWERS: &[Follower] = &[
    Follower {
        name: "cluster",
        owns: "the known log head (this relay's commits and the others' notifications), the heartbeat and arbiter lease, relay_consoles of dead relays (on the arbiter)",
        cursor: "none durable: the head is read again whenever the listening connection (re)connects",
        after_erasure: "nothing: it carries sequences and names, not customer data",
        start: crate::cluster::start,
    },
    Follower {
        name: "tail",
        owns: "the in-memory ring of the newest log events, serialized once for every console",
        cursor: "none durable: it starts at the log head; consoles keep their own cursors (sessions.acked_seq) and read older events from the log",
        after_erasure: "`Tail::forget_chat` drops the erased chats' events from the ring, and `Fresh::forget_chat` from the writer's hand-over, so no session is handed them from memory",
        start: |r| {
            tokio::spawn(crate::tail::follow(r.clone()));
        },
    },
    Follower {
        name: "routing (on the arbiter)",
        owns: "conversations, agents, customers, declines, consultants, survey answers, automated (queueing)",
        cursor: "meta.routing_cursor, moved in the same transaction as the routing it did",
        after_erasure: "nothing to undo: erasure refuses while a conversation of the contact is open, and deletes closed ones with their declines, consultants and survey answers in one writer transaction",
        start: |r| crate::routing::Routing::start(r),
    },
    Follower {
        name: "reports (on the arbiter)",
        owns: "report_conversations (what each conversation has counted) and report_daily (the sums by day, channel, queue and representative)",
        cursor: "meta.reports_cursor, moved in the same transaction as the sums it wrote",
        after_erasure: "erasure deletes the chat's report_conversations rows; the daily sums hold no customer data and stay",
        start: crate::reports::Reports::start,
    },
    Follower {
        name: "media (on the arbiter)",
        owns: "media rows and files of customer media (downloaded at ingest, retried with backoff; the bytes also in media_blobs on PostgreSQL)",
        cursor: "meta (media pipeline cursor): events up to it have their media row; pending rows survive a crash",
        after_erasure: "a download that finishes after its customer was erased deletes the file unless another record uses it (`store::erasure::file_in_use`)",
        start: |r| {
            tokio::spawn(crate::cluster::while_arbiter(
                r.clone(),
                "media",
                crate::media::pipeline,
            ));
        },
    },
    Follower {
        name: "profiles",
        owns: "profiles rows and linedeskProfile events (fetched for new customers routing sees)",
        cursor: "none: driven by routing's batches; a stale or missing row is fetched again",
        after_erasure: "an erasure ticket taken before the fetch: a profile of a customer erased meanwhile is not written back (`RecentErasures::since`)",
        start: |_| {},
    },
    Follower {
        name: "registry",
        owns: "the in-memory channel list and LINE clients (credentials opened from the vault)",
        cursor: "none: reloads the channels table every 2 s and after admin changes",
        after_erasure: "nothing: channels are not customer data",
        start: |r| {
            tokio::spawn(crate::registry::refresh_loop(r.clone()));
        },
    },
    Follower {
        name: "channel health (on the arbiter)",
        owns: "channel_stats (token checks, quota, webhook endpoint)",
        cursor: "none: checks every live channel every 15 minutes",
        after_erasure: "nothing: no customer data",
        start: |r| {
            tokio::spawn(crate::cluster::while_arbiter(
                r.clone(),
                "channel health",
                crate::admin::channels::health_loop,
            ));
        },
    },
    Follower {
        name: "sessions (on the arbiter)",
        owns: "purging expired sessions",
        cursor: "none: periodic",
        after_erasure: "nothing: no customer data",
        start: |r| {
            tokio::spawn(crate::cluster::while_arbiter(
                r.clone(),
                "session purge",
                crate::sessions::purge_loop,
            ));
        },
    },
    Follower {
        name: "forgeries",
        owns: "the count of refused webhook signatures, written to the log at most once a period",
        cursor: "none: in memory until flushed",
        after_erasure: "nothing: no customer data",
        start: |r| {
            tokio::spawn(crate::webhook::flush_forgeries(r.clone()));
        },
    },
];

/// Starts every follower.
pub fn start_all(relay: &Relay) {
    for f in FOLLOWERS {
        tracing::debug!(follower = f.name, cursor = f.cursor, "starting");
        (f.start)(relay);
    }
}
