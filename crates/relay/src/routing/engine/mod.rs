//! The routing state machine. Every function here runs inside one writer transaction, so a
//! decision, the rows it changes and the log events that tell consoles about it become
//! durable together or not at all.
//!
//! The engine holds the rules and no SQL: it reads and writes through
//! [`RoutingStore`](crate::store::routing::RoutingStore), whole rows at a time. The relay runs
//! it on the writer's SQLite connection ([`Tx`]); the unit tests run it on
//! [`MemoryRouting`](crate::store::memory::MemoryRouting).
//!
//! By concern:
//! - [`inbound`]: customer events from the log (messages, follows, profiles, consent);
//! - [`commands`]: representatives' commands on a conversation (accept, end, transfer…);
//! - [`agents`]: presence, connection and capacity;
//! - [`distribution`]: offers to representatives, in queue order;
//! - [`time`]: lapsed offers, the presence grace, wrap-up and auto-close;
//! - [`messages`]: automated messages and the survey;
//! - [`output`]: the `linedeskConversation` / `linedeskAgent` events and snapshots.

mod agents;
mod commands;
mod distribution;
mod inbound;
mod messages;
mod output;
pub use output::source_of;
#[cfg(test)]
mod tests;
mod time;

use std::collections::HashMap;

use linedesk_protocol::routing::{AgentSnapshot, ConversationSnapshot, ConversationState};
use linedesk_protocol::{Reason, Role};

use super::config::{Queue, Workstream, DEFAULT_QUEUE};
use crate::store::routing::{Conversation, Result, RoutingStore, SqlRouting};
use crate::store::sql::Db;
use crate::store::StoreError;

pub use messages::{pick_language, trigger_name};
pub use output::snapshot_of;

/// A short disconnect (relay restart, network blip) keeps the representative's presence.
pub const GRACE_MS: i64 = 60_000;
pub use linedesk_protocol::routing::REPLY_TOKEN_FRESH_MS;
/// After a rating, the customer's next text within this window is the survey comment.
pub const COMMENT_WINDOW_MS: i64 = 30 * 60_000;
/// Postback data prefix of survey buttons: `linedesk-survey:{conversation}:{rating}`.
pub const SURVEY_PREFIX: &str = "linedesk-survey:";
/// Postback data of the consent buttons: `linedesk-consent:granted` or `…:declined`.
pub const CONSENT_PREFIX: &str = "linedesk-consent:";

/// Why a command was refused.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No such conversation, queue or user: which, as a field and reason.
    #[error("{0}")]
    NotFound(linedesk_protocol::Invalid),
    /// Lost a race or no longer applies: why.
    #[error("{0}")]
    Conflict(linedesk_protocol::Invalid),
    /// The caller may not do this: why.
    #[error("{0}")]
    Forbidden(linedesk_protocol::Invalid),
    /// The relay failed in a way the caller cannot help (logged, not shown).
    #[error("{0}")]
    Internal(String),
    /// An entry the relay cannot take: its field and why.
    #[error("{0}")]
    Invalid(linedesk_protocol::Invalid),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] StoreError),
    /// The write did not become durable.
    #[error(transparent)]
    Write(#[from] crate::log::WriteError),
}

impl EngineError {
    /// 404 for the request as a whole.
    pub fn not_found(reason: Reason) -> Self {
        Self::NotFound(linedesk_protocol::Invalid::whole(reason))
    }

    /// 409 for the request as a whole.
    pub fn conflict(reason: Reason) -> Self {
        Self::Conflict(linedesk_protocol::Invalid::whole(reason))
    }

    /// 403 for the request as a whole.
    pub fn forbidden(reason: Reason) -> Self {
        Self::Forbidden(linedesk_protocol::Invalid::whole(reason))
    }
}

impl From<rusqlite::Error> for EngineError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Turns a database failure into the writer task's error (so the task's savepoint rolls
/// back); refusals stay in the answer.
pub fn rollback_on_db<T>(
    r: std::result::Result<T, EngineError>,
) -> std::result::Result<std::result::Result<T, EngineError>, StoreError> {
    match r {
        Err(EngineError::Db(e)) => Err(e),
        other => Ok(other),
    }
}

/// A representative's command on a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Accept an offer, take from a pick queue, or resume a Waiting conversation.
    Accept,
    /// Decline an offer.
    Reject,
    /// Set aside (Waiting): capacity freed until the customer writes.
    Wait,
    /// End: into wrap-up.
    End,
    /// Close; a supervisor closing someone else's conversation gives the reason.
    Close(Option<String>),
    /// Hand to a representative.
    TransferToUser(String),
    /// A supervisor hands it to a representative of her choice, busy or not, no offer.
    Assign(String),
    /// A supervisor opens it read-only (the customer is not told); audited.
    Monitor,
    /// An internal note in the conversation, never sent to LINE; a supervisor's whisper
    /// is addressed to the owner.
    Note {
        /// The note.
        text: String,
        /// A supervisor's whisper to the owner.
        whisper: bool,
    },
    /// Put back in a queue.
    TransferToQueue(String),
    /// Ask someone to look (read-only).
    Consult(String),
    /// Let a consultant write.
    Join(String),
}

/// How an offer was declined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Declined {
    /// The countdown ran out.
    Missed,
    /// The representative said no.
    Rejected,
}

/// Who asks.
#[derive(Debug, Clone)]
pub struct Actor {
    /// User name.
    pub user: String,
    /// Role.
    pub role: Role,
}

impl Actor {
    fn supervises(&self) -> bool {
        matches!(self.role, Role::Supervisor | Role::Admin)
    }

    /// An admin, or a supervisor the queue lists.
    fn supervises_queue(&self, queue: &Queue) -> bool {
        self.role == Role::Admin
            || (self.role == Role::Supervisor && queue.supervisors.contains(&self.user))
    }
}

/// The longest internal note, in characters.
pub const MAX_NOTE: usize = 5_000;
/// The longest reason for closing someone else's conversation, in characters.
pub const MAX_REASON: usize = 500;

pub use linedesk_protocol::routing::{BREACH_EVENT, NOTE_EVENT};

/// Settings read once per transaction.
#[derive(Default)]
struct Settings {
    workstreams: HashMap<String, Workstream>,
    queues: HashMap<String, Queue>,
}

impl Settings {
    /// The workstream of a channel (defaults until an admin saves one).
    fn workstream(&mut self, store: &impl RoutingStore, channel: &str) -> Result<&Workstream> {
        if !self.workstreams.contains_key(channel) {
            let ws = store.workstream(channel)?;
            self.workstreams.insert(channel.to_owned(), ws);
        }
        Ok(&self.workstreams[channel])
    }

    /// A queue (the default queue exists even before an admin saves it).
    fn queue(&mut self, store: &impl RoutingStore, id: &str) -> Result<&Queue> {
        if !self.queues.contains_key(id) {
            let q = store.queue(id)?.unwrap_or_else(|| Queue {
                name: default_queue_name(id),
                ..Queue::default()
            });
            self.queues.insert(id.to_owned(), q);
        }
        Ok(&self.queues[id])
    }
}

/// The name of a queue nobody saved: the default queue is "General".
fn default_queue_name(id: &str) -> String {
    if id == DEFAULT_QUEUE {
        "General".into()
    } else {
        id.into()
    }
}

/// The stored workstream of a channel, or the default.
pub fn load_workstream<'a>(db: impl Into<Db<'a>>, channel: &str) -> Result<Workstream> {
    crate::store::routing::load_workstream(db, channel)
}

/// A stored queue.
pub fn load_queue<'a>(db: impl Into<Db<'a>>, id: &str) -> Result<Option<Queue>> {
    crate::store::routing::load_queue(db, id)
}

/// Whether a queue ID names a queue (the default one always exists).
pub fn queue_exists<'a>(db: impl Into<Db<'a>>, id: &str) -> Result<bool> {
    Ok(id == DEFAULT_QUEUE || load_queue(db, id)?.is_some())
}

/// The snapshot of one conversation as it is now.
pub fn snapshot<'a>(db: impl Into<Db<'a>>, id: &str) -> Result<Option<ConversationSnapshot>> {
    snapshot_of(&SqlRouting::new(db), id)
}

/// Every representative's snapshot.
pub fn agents<'a>(db: impl Into<Db<'a>>, now: i64) -> Result<Vec<AgentSnapshot>> {
    output::agent_snapshots(&SqlRouting::new(db), now)
}

/// One transaction's worth of routing work on a store.
pub struct Engine<S> {
    store: S,
    now: i64,
    settings: Settings,
    /// Automated messages were queued: wake the sender after commit.
    pub queued_automated: bool,
    /// Live conversation of each chat seen in this transaction (routing events only change it
    /// through this engine, so the map stays true).
    live: HashMap<(String, String), Option<(String, ConversationState)>>,
    /// Activity and reply tokens of busy conversations, written once per transaction.
    touches: HashMap<String, Touch>,
}

/// Routing work on the writer's connection, inside its transaction.
pub type Tx<'a> = Engine<SqlRouting<'a>>;

/// What customer events change on a conversation that is already routed.
#[derive(Default)]
struct Touch {
    last_customer_at: Option<i64>,
    reply_token: Option<(String, i64)>,
}

impl<'a> Engine<SqlRouting<'a>> {
    /// Starts routing work on the writer's connection, inside the writer's transaction,
    /// which holds the log's lock from its start on PostgreSQL
    /// ([`crate::store::events::lock_log`]), so routing on several relays happens one
    /// decision at a time.
    pub fn new(db: impl Into<Db<'a>>, now: i64) -> Self {
        Self::with_store(SqlRouting::new(db.into()), now)
    }

    /// The writer's connection (inside the transaction).
    pub fn conn(&self) -> Db<'a> {
        self.store.db()
    }
}

impl<S: RoutingStore> Engine<S> {
    /// Starts routing work on `store` at `now` (UTC ms).
    pub fn with_store(store: S, now: i64) -> Self {
        Self {
            store,
            now,
            settings: Settings::default(),
            queued_automated: false,
            live: HashMap::new(),
            touches: HashMap::new(),
        }
    }

    /// The decision's time, UTC ms.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Ends the work and gives the store back (pending activity is written first).
    pub fn into_store(mut self) -> Result<S> {
        self.flush_touches()?;
        Ok(self.store)
    }

    fn conv(&self, id: &str) -> Result<Option<Conversation>> {
        self.store.conversation(id)
    }

    /// Loads a conversation, lets `change` change it and writes it back; the row as written.
    fn update(
        &mut self,
        id: &str,
        change: impl FnOnce(&mut Conversation),
    ) -> Result<Option<Conversation>> {
        let Some(mut c) = self.store.conversation(id)? else {
            return Ok(None);
        };
        change(&mut c);
        self.store.save_conversation(&c)?;
        Ok(Some(c))
    }

    fn workstream(&mut self, channel: &str) -> Result<Workstream> {
        Ok(self.settings.workstream(&self.store, channel)?.clone())
    }

    fn queue(&mut self, id: &str) -> Result<Queue> {
        Ok(self.settings.queue(&self.store, id)?.clone())
    }

    fn queue_exists(&self, id: &str) -> Result<bool> {
        Ok(id == DEFAULT_QUEUE || self.store.queue(id)?.is_some())
    }

    /// The live conversation of a chat: its id and state.
    fn live_state(
        &mut self,
        channel: &str,
        chat: &str,
    ) -> Result<Option<(String, ConversationState)>> {
        let key = (channel.to_owned(), chat.to_owned());
        if let Some(v) = self.live.get(&key) {
            return Ok(v.clone());
        }
        let v = self
            .store
            .live_conversation(channel, chat)?
            .map(|c| (c.id, c.state));
        self.live.insert(key, v.clone());
        Ok(v)
    }
}
