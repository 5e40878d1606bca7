//! The routing tables as the routing engine sees them, one writer transaction at a time:
//! `conversations`, `customers`, `agents`, `declines`, `consultants`, `survey_answers`,
//! the routing side of `consents`, `automated` (queueing), and the settings the engine reads
//! (`workstreams`, `queues`, a channel's consent question).
//!
//! [`RoutingStore`] is the whole of what the engine asks of a database. Rows are read whole,
//! changed in Rust by the engine's rules and written back whole, so the rules live in one
//! place ([`crate::routing::engine`]) and not half in SQL. [`SqlRouting`] runs on the
//! writer's connection (SQLite or PostgreSQL) inside its transaction; [`super::memory::MemoryRouting`] keeps the
//! same tables in maps for the engine's unit tests.

use std::collections::{BTreeMap, HashMap};

use super::events::{self, NewEvent};
use super::sql::{Db, Row, ToValue};
use super::StoreError;
use crate::args;
use crate::routing::config::{Queue, SkillMatch, Workstream};
use linedesk_protocol::identity::{ConsentSettings, ConsentState, ContactBrief};
use linedesk_protocol::routing::{Consultant, ConversationState, Presence, SurveyAnswer};

/// What a routing store answers.
pub type Result<T> = std::result::Result<T, StoreError>;

/// One conversation row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// ULID.
    pub id: String,
    /// Bumped on every change that consoles are told about.
    pub version: i64,
    /// Channel.
    pub channel_id: String,
    /// User, group or room ID.
    pub chat_id: String,
    /// Lifecycle state.
    pub state: ConversationState,
    /// Queue it waits in (or came from).
    pub queue_id: String,
    /// Priority copied from the queue (the queue order index holds it).
    pub priority: i64,
    /// Representative who has it.
    pub owner: Option<String>,
    /// Offered to this representative first.
    pub affinity_to: Option<String>,
    /// The representative it is offered to now.
    pub offered_to: Option<String>,
    /// When the offer was made.
    pub offered_at: Option<i64>,
    /// When the offer lapses.
    pub offer_expires_at: Option<i64>,
    /// The first message's text (200 characters at most).
    pub first_text: Option<String>,
    /// The customer's language.
    pub language: Option<String>,
    /// Opened, UTC ms.
    pub opened_at: i64,
    /// The customer's last message.
    pub last_customer_at: i64,
    /// Last activity of anyone (auto-close counts from it).
    pub last_activity_at: i64,
    /// First accepted.
    pub accepted_at: Option<i64>,
    /// Ended (into wrap-up).
    pub ended_at: Option<i64>,
    /// Wrap-up blocks capacity until then (`None`: always).
    pub wrapup_until: Option<i64>,
    /// Closed.
    pub closed_at: Option<i64>,
    /// Why it closed.
    pub close_reason: Option<String>,
    /// Who had it before a transfer.
    pub transferred_from: Option<String>,
    /// The latest customer event's reply token, while unused.
    pub reply_token: Option<String>,
    /// When that token arrived.
    pub reply_token_at: Option<i64>,
    /// The last automated message's trigger (never the same twice in a row).
    pub last_trigger: Option<String>,
    /// `asked`, `rated` or `done`.
    pub survey_state: Option<String>,
    /// Capacity units it takes.
    pub units: u32,
    /// Skills a representative needs for it (from the rule that chose its queue).
    pub required_skills: Vec<String>,
    /// How strictly those skills must match.
    pub skill_match: SkillMatch,
    /// When overflow moved it to another queue (it moves once).
    pub overflowed_at: Option<i64>,
    /// The overflow rules of its queue that have fired on it, a bit each.
    pub overflow_done: i64,
}

/// What the relay knows of a customer across conversations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Customer {
    /// Whether they follow the account (`None`: unknown).
    pub following: Option<bool>,
    /// Who last had them (affinity).
    pub last_owner: Option<String>,
    /// When their last owned conversation closed.
    pub last_closed_at: Option<i64>,
}

/// A representative as routing sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// User name.
    pub user: String,
    /// What the representative chose.
    pub chosen: Presence,
    /// Effective presence after load and connection, as last logged.
    pub presence: Presence,
    /// Capacity in units.
    pub capacity: u32,
    /// Units in use, as last logged.
    pub used: u32,
    /// When the last console went away (`None` while connected or never seen).
    pub disconnected_at: Option<i64>,
    /// Away longer than the grace period.
    pub gone: bool,
    /// When the last offer went to them (fairness).
    pub last_offer_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// Since when the effective presence is what it is.
    pub presence_since: i64,
}

impl Agent {
    /// A representative routing has not seen before.
    pub fn new(user: &str, now: i64) -> Self {
        Self {
            user: user.to_owned(),
            chosen: Presence::Offline,
            presence: Presence::Offline,
            capacity: 3,
            used: 0,
            disconnected_at: None,
            gone: false,
            last_offer_at: 0,
            updated_at: now,
            presence_since: now,
        }
    }
}

/// An Open conversation nobody holds an offer for, in queue order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// Conversation.
    pub id: String,
    /// Channel.
    pub channel_id: String,
    /// Queue.
    pub queue_id: String,
    /// Offered to this representative first.
    pub affinity_to: Option<String>,
    /// Capacity units it takes.
    pub units: u32,
    /// Skills a representative needs for it.
    pub required_skills: Vec<String>,
    /// How strictly those skills must match.
    pub skill_match: SkillMatch,
    /// The customer's last message (how long they have waited).
    pub last_customer_at: i64,
    /// When overflow moved it, if it did.
    pub overflowed_at: Option<i64>,
    /// The overflow rules of its queue that have fired on it, a bit each.
    pub overflow_done: i64,
}

/// An automated message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAutomated {
    /// Retry key.
    pub id: String,
    /// Conversation.
    pub conversation_id: String,
    /// Channel.
    pub channel_id: String,
    /// Chat.
    pub chat_id: String,
    /// What triggered it.
    pub trigger: String,
    /// JSON array of message objects.
    pub messages: String,
    /// Reply token to use, if still fresh.
    pub reply_token: Option<(String, i64)>,
    /// Queued at.
    pub created_at: i64,
}

/// Everything the routing engine reads and writes, inside one writer transaction.
pub trait RoutingStore {
    /// The workstream of a channel (defaults until an admin saves one).
    fn workstream(&self, channel: &str) -> Result<Workstream>;
    /// A saved queue.
    fn queue(&self, id: &str) -> Result<Option<Queue>>;
    /// The channel's consent question, if it asks one.
    fn consent_settings(&self, channel: &str) -> Result<Option<ConsentSettings>>;

    /// A conversation.
    fn conversation(&self, id: &str) -> Result<Option<Conversation>>;
    /// The chat's conversation that is not closed.
    fn live_conversation(&self, channel: &str, chat: &str) -> Result<Option<Conversation>>;
    /// Stores a new conversation.
    fn insert_conversation(&mut self, c: &Conversation) -> Result<()>;
    /// Writes a conversation back.
    fn save_conversation(&mut self, c: &Conversation) -> Result<()>;
    /// IDs of a channel's conversations that are not closed.
    fn live_in_channel(&self, channel: &str) -> Result<Vec<String>>;
    /// IDs of a chat's conversations that consoles show: those not closed and the latest.
    fn shown_of_chat(&self, channel: &str, chat: &str) -> Result<Vec<String>>;
    /// The chat's latest conversation closed at or after `since` whose survey was rated and
    /// waits for a comment.
    fn rated_since(&self, channel: &str, chat: &str, since: i64) -> Result<Option<String>>;
    /// IDs of Open conversations offered to `user`.
    fn offered_to(&self, user: &str) -> Result<Vec<String>>;
    /// IDs of Open conversations whose offer lapsed by `now`.
    fn lapsed_offers(&self, now: i64) -> Result<Vec<String>>;
    /// Channels with conversations someone holds (active, waiting, wrap-up).
    fn channels_with_held(&self) -> Result<Vec<String>>;
    /// IDs of a channel's held conversations with no activity since `before`.
    fn idle_held(&self, channel: &str, before: i64) -> Result<Vec<String>>;
    /// A page of the queue in distribution order: affinity items first, then queue
    /// priority, then longest waiting by the customer's last message.
    fn waiting_page(&self, limit: usize, offset: usize) -> Result<Vec<Waiting>>;
    /// Units `user` holds at `now`: active conversations, blocking wrap-ups and offers.
    fn units_held(&self, user: &str, now: i64) -> Result<u32>;
    /// Whether `user` owns a conversation that is active, waiting or in wrap-up.
    fn holds_work(&self, user: &str) -> Result<bool>;
    /// The Open conversations of one queue that nobody holds an offer for, longest waiting
    /// (by the customer's last message) first.
    fn waiting_in(&self, queue: &str) -> Result<Vec<Waiting>>;
    /// Channels with Open conversations.
    fn channels_with_open(&self) -> Result<Vec<String>>;
    /// IDs of a channel's Open conversations with no activity since `before`.
    fn idle_open(&self, channel: &str, before: i64) -> Result<Vec<String>>;
    /// Every saved queue, by ID.
    fn queues(&self) -> Result<Vec<(String, Queue)>>;
    /// IDs of the queue's Open conversations opened at or before `before` that have not
    /// breached its service-level target yet.
    fn unbreached_open(&self, queue: &str, before: i64) -> Result<Vec<String>>;
    /// Notes that the conversation breached its target at `at`.
    fn mark_breached(&mut self, id: &str, at: i64) -> Result<()>;
    /// A user's skills.
    fn user_skills(&self, user: &str) -> Result<Vec<String>>;

    /// A customer (empty when never seen).
    fn customer(&self, channel: &str, chat: &str) -> Result<Customer>;
    /// Writes a customer back.
    fn save_customer(&mut self, channel: &str, chat: &str, c: &Customer) -> Result<()>;
    /// A LINE profile's language and display name.
    fn profile(&self, channel: &str, chat: &str) -> Result<(Option<String>, Option<String>)>;
    /// The fields of the one contact a profile is linked to, for routing rules.
    fn contact_facts(&self, channel: &str, chat: &str) -> Result<Option<BTreeMap<String, String>>>;
    /// The linked contact in brief, and the profile's flag.
    fn contact_brief(
        &self,
        channel: &str,
        chat: &str,
    ) -> Result<(Option<ContactBrief>, Option<String>)>;
    /// The profile's consent.
    fn consent(&self, channel: &str, chat: &str) -> Result<Option<ConsentState>>;
    /// Records the consent question as asked; `false` when it was asked before.
    fn mark_consent_asked(&mut self, channel: &str, chat: &str, now: i64) -> Result<bool>;
    /// Records the customer's answer.
    fn answer_consent(
        &mut self,
        channel: &str,
        chat: &str,
        state: ConsentState,
        now: i64,
    ) -> Result<()>;

    /// A user's role name, when the account exists.
    fn user_role(&self, user: &str) -> Result<Option<String>>;
    /// A representative's routing row.
    fn agent(&self, user: &str) -> Result<Option<Agent>>;
    /// Every representative's routing row, by name.
    fn agents(&self) -> Result<Vec<Agent>>;
    /// Representatives with an account whose effective presence takes work.
    fn available_agents(&self) -> Result<Vec<Agent>>;
    /// Stores a new routing row unless one exists.
    fn ensure_agent(&mut self, agent: &Agent) -> Result<()>;
    /// Writes a routing row back.
    fn save_agent(&mut self, agent: &Agent) -> Result<()>;

    /// Counts a decline (reject or lapsed offer).
    fn add_decline(&mut self, conversation: &str, user: &str) -> Result<()>;
    /// Declines per representative.
    fn declines(&self, conversation: &str) -> Result<HashMap<String, u32>>;
    /// Forgets a conversation's declines (a transfer starts afresh).
    fn clear_declines(&mut self, conversation: &str) -> Result<()>;
    /// Consultants by name.
    fn consultants(&self, conversation: &str) -> Result<Vec<Consultant>>;
    /// Adds a consultant (read-only) unless present.
    fn add_consultant(&mut self, conversation: &str, user: &str) -> Result<()>;
    /// Lets a consultant write; `false` when they were not consulted.
    fn join_consultant(&mut self, conversation: &str, user: &str) -> Result<bool>;
    /// Removes a consultant.
    fn remove_consultant(&mut self, conversation: &str, user: &str) -> Result<()>;
    /// Whether `user` consults in the conversation (joined or not).
    fn consults(&self, conversation: &str, user: &str) -> Result<bool> {
        Ok(self
            .consultants(conversation)?
            .iter()
            .any(|c| c.user == user))
    }
    /// Records what a supervisor did to a conversation.
    fn audit(
        &mut self,
        at: i64,
        actor: &str,
        action: &str,
        conversation: &str,
        detail: Option<&str>,
    ) -> Result<()>;
    /// The survey answer.
    fn survey_answer(&self, conversation: &str) -> Result<Option<SurveyAnswer>>;
    /// Records the first rating (later ones are ignored).
    fn record_rating(
        &mut self,
        conversation: &str,
        owner: Option<&str>,
        rating: u8,
        now: i64,
    ) -> Result<()>;
    /// Records the comment after a rating.
    fn record_comment(&mut self, conversation: &str, comment: &str, now: i64) -> Result<()>;

    /// Queues an automated message.
    fn queue_automated(&mut self, message: &NewAutomated) -> Result<()>;
    /// Appends one of the relay's own events to the log.
    fn append_event(&mut self, channel: &str, event: NewEvent, now: i64) -> Result<()>;
}

/// [`RoutingStore`] on the writer's connection, of either engine.
pub struct SqlRouting<'a> {
    db: Db<'a>,
}

/// The earlier name of [`SqlRouting`], from when it ran on SQLite only.
pub type SqliteRouting<'a> = SqlRouting<'a>;

impl<'a> SqlRouting<'a> {
    /// The routing tables on `db` (inside the writer's transaction when it writes).
    pub fn new(db: impl Into<Db<'a>>) -> Self {
        Self { db: db.into() }
    }

    /// The connection.
    pub fn db(&self) -> Db<'a> {
        self.db
    }

    /// Runs `sql` (an insert or an update) with the conversation's 32 columns as ?1…?32, in
    /// [`CONVERSATION_COLUMNS`]' order.
    fn write_conversation(&self, sql: &str, c: &Conversation) -> Result<()> {
        self.db.execute(
            sql,
            args![
                c.id,
                c.version,
                c.channel_id,
                c.chat_id,
                c.state.as_str(),
                c.queue_id,
                c.priority,
                c.owner,
                c.affinity_to,
                c.offered_to,
                c.offered_at,
                c.offer_expires_at,
                c.first_text,
                c.language,
                c.opened_at,
                c.last_customer_at,
                c.last_activity_at,
                c.accepted_at,
                c.ended_at,
                c.wrapup_until,
                c.closed_at,
                c.close_reason,
                c.transferred_from,
                c.reply_token,
                c.reply_token_at,
                c.last_trigger,
                c.survey_state,
                c.units,
                serde_json::to_string(&c.required_skills).unwrap_or_else(|_| "[]".into()),
                skill_match_name(c.skill_match),
                c.overflowed_at,
                c.overflow_done
            ],
        )?;
        Ok(())
    }
}

/// The stored workstream of a channel, or the default.
pub fn load_workstream<'a>(db: impl Into<Db<'a>>, channel: &str) -> Result<Workstream> {
    let db = db.into();
    let text: Option<String> = db.query_opt(
        "SELECT config FROM workstreams WHERE channel_id = ?1",
        args![channel],
        |r| r.get(0),
    )?;
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default())
}

/// A stored queue.
pub fn load_queue<'a>(db: impl Into<Db<'a>>, id: &str) -> Result<Option<Queue>> {
    let db = db.into();
    let text: Option<String> =
        db.query_opt("SELECT config FROM queues WHERE id = ?1", args![id], |r| {
            r.get(0)
        })?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

const CONVERSATION_COLUMNS: &str = "id, version, channel_id, chat_id, state, queue_id, priority, owner, affinity_to,
    offered_to, offered_at, offer_expires_at, first_text, language, opened_at, last_customer_at, last_activity_at,
    accepted_at, ended_at, wrapup_until, closed_at, close_reason, transferred_from, reply_token, reply_token_at,
    last_trigger, survey_state, units, required_skills, skill_match, overflowed_at, overflow_done";

fn skill_match_name(m: SkillMatch) -> &'static str {
    match m {
        SkillMatch::Exact => "exact",
        SkillMatch::Closest => "closest",
    }
}

fn skill_match_of(name: &str) -> SkillMatch {
    if name == "closest" {
        SkillMatch::Closest
    } else {
        SkillMatch::Exact
    }
}

fn skills_of(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

fn conversation_row(r: &Row<'_>) -> Result<Conversation> {
    let state: String = r.get(4)?;
    Ok(Conversation {
        id: r.get(0)?,
        version: r.get(1)?,
        channel_id: r.get(2)?,
        chat_id: r.get(3)?,
        state: ConversationState::parse(&state).unwrap_or(ConversationState::Closed),
        queue_id: r.get(5)?,
        priority: r.get(6)?,
        owner: r.get(7)?,
        affinity_to: r.get(8)?,
        offered_to: r.get(9)?,
        offered_at: r.get(10)?,
        offer_expires_at: r.get(11)?,
        first_text: r.get(12)?,
        language: r.get(13)?,
        opened_at: r.get(14)?,
        last_customer_at: r.get(15)?,
        last_activity_at: r.get(16)?,
        accepted_at: r.get(17)?,
        ended_at: r.get(18)?,
        wrapup_until: r.get(19)?,
        closed_at: r.get(20)?,
        close_reason: r.get(21)?,
        transferred_from: r.get(22)?,
        reply_token: r.get(23)?,
        reply_token_at: r.get(24)?,
        last_trigger: r.get(25)?,
        survey_state: r.get(26)?,
        units: r.get(27)?,
        required_skills: skills_of(&r.get::<String>(28)?),
        skill_match: skill_match_of(&r.get::<String>(29)?),
        overflowed_at: r.get(30)?,
        overflow_done: r.get(31)?,
    })
}

const AGENT_COLUMNS: &str = r#"a."user", a.chosen, a.presence, a.capacity, a.used, a.disconnected_at, a.gone, a.last_offer_at, a.updated_at, a.presence_since"#;

fn agent_row(r: &Row<'_>) -> Result<Agent> {
    let presence = |s: String| Presence::parse(&s).unwrap_or(Presence::Offline);
    Ok(Agent {
        user: r.get(0)?,
        chosen: presence(r.get(1)?),
        presence: presence(r.get(2)?),
        capacity: r.get(3)?,
        used: r.get(4)?,
        disconnected_at: r.get(5)?,
        gone: r.get(6)?,
        last_offer_at: r.get(7)?,
        updated_at: r.get(8)?,
        presence_since: r.get(9)?,
    })
}

const WAITING_COLUMNS: &str =
    "id, channel_id, queue_id, affinity_to, units, required_skills, skill_match,
    last_customer_at, overflowed_at, overflow_done";

fn waiting_row(r: &Row<'_>) -> Result<Waiting> {
    Ok(Waiting {
        id: r.get(0)?,
        channel_id: r.get(1)?,
        queue_id: r.get(2)?,
        affinity_to: r.get(3)?,
        units: r.get(4)?,
        required_skills: skills_of(&r.get::<String>(5)?),
        skill_match: skill_match_of(&r.get::<String>(6)?),
        last_customer_at: r.get(7)?,
        overflowed_at: r.get(8)?,
        overflow_done: r.get(9)?,
    })
}

fn strings(db: Db<'_>, sql: &str, params: &[&dyn ToValue]) -> Result<Vec<String>> {
    db.query(sql, params, |r| r.get(0))
}

impl RoutingStore for SqlRouting<'_> {
    fn workstream(&self, channel: &str) -> Result<Workstream> {
        load_workstream(self.db, channel)
    }

    fn queue(&self, id: &str) -> Result<Option<Queue>> {
        load_queue(self.db, id)
    }

    fn consent_settings(&self, channel: &str) -> Result<Option<ConsentSettings>> {
        let text: Option<String> = self
            .db
            .query_opt(
                "SELECT consent FROM channels WHERE id = ?1",
                args![channel],
                |r| r.get::<Option<String>>(0),
            )?
            .flatten();
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    fn conversation(&self, id: &str) -> Result<Option<Conversation>> {
        self.db.query_opt(
            &format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?1"),
            args![id],
            conversation_row,
        )
    }

    fn live_conversation(&self, channel: &str, chat: &str) -> Result<Option<Conversation>> {
        self.db.query_opt(
            &format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations
                 WHERE channel_id = ?1 AND chat_id = ?2 AND state != 'closed'"
            ),
            args![channel, chat],
            conversation_row,
        )
    }

    fn insert_conversation(&mut self, c: &Conversation) -> Result<()> {
        self.write_conversation(
            &format!(
                "INSERT INTO conversations ({CONVERSATION_COLUMNS}) VALUES
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
                  ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32)"
            ),
            c,
        )
    }

    fn save_conversation(&mut self, c: &Conversation) -> Result<()> {
        self.write_conversation(
            "UPDATE conversations SET version = ?2, channel_id = ?3, chat_id = ?4, state = ?5, queue_id = ?6,
                 priority = ?7, owner = ?8, affinity_to = ?9, offered_to = ?10, offered_at = ?11,
                 offer_expires_at = ?12, first_text = ?13, language = ?14, opened_at = ?15,
                 last_customer_at = ?16, last_activity_at = ?17, accepted_at = ?18, ended_at = ?19,
                 wrapup_until = ?20, closed_at = ?21, close_reason = ?22, transferred_from = ?23,
                 reply_token = ?24, reply_token_at = ?25, last_trigger = ?26, survey_state = ?27, units = ?28,
                 required_skills = ?29, skill_match = ?30, overflowed_at = ?31, overflow_done = ?32
             WHERE id = ?1",
            c,
        )
    }

    fn live_in_channel(&self, channel: &str) -> Result<Vec<String>> {
        strings(
            self.db,
            "SELECT id FROM conversations WHERE channel_id = ?1 AND state != 'closed'",
            args![channel],
        )
    }

    fn shown_of_chat(&self, channel: &str, chat: &str) -> Result<Vec<String>> {
        strings(
            self.db,
            "SELECT id FROM conversations WHERE channel_id = ?1 AND chat_id = ?2
             AND (state != 'closed' OR id = (SELECT id FROM conversations WHERE channel_id = ?1 AND chat_id = ?2
                  ORDER BY opened_at DESC LIMIT 1))",
            args![channel, chat],
        )
    }

    fn rated_since(&self, channel: &str, chat: &str, since: i64) -> Result<Option<String>> {
        self.db.query_opt(
            "SELECT id FROM conversations WHERE channel_id = ?1 AND chat_id = ?2 AND state = 'closed'
                 AND survey_state = 'rated' AND closed_at >= ?3
             ORDER BY closed_at DESC LIMIT 1",
            args![channel, chat, since],
            |r| r.get(0),
        )
    }

    fn offered_to(&self, user: &str) -> Result<Vec<String>> {
        strings(
            self.db,
            "SELECT id FROM conversations INDEXED BY conversations_by_offer
             WHERE offered_to = ?1 AND offered_to IS NOT NULL AND state = 'open'",
            args![user],
        )
    }

    fn lapsed_offers(&self, now: i64) -> Result<Vec<String>> {
        strings(
            self.db,
            "SELECT id FROM conversations WHERE state = 'open' AND offer_expires_at <= ?1",
            args![now],
        )
    }

    fn channels_with_held(&self) -> Result<Vec<String>> {
        strings(
            self.db,
            "SELECT DISTINCT channel_id FROM conversations WHERE state IN ('active', 'waiting', 'wrap_up')",
            args![],
        )
    }

    fn idle_held(&self, channel: &str, before: i64) -> Result<Vec<String>> {
        strings(
            self.db,
            "SELECT id FROM conversations WHERE channel_id = ?1
                 AND state IN ('active', 'waiting', 'wrap_up') AND last_activity_at <= ?2",
            args![channel, before],
        )
    }

    fn waiting_page(&self, limit: usize, offset: usize) -> Result<Vec<Waiting>> {
        self.db.query(
            &format!(
                "SELECT {WAITING_COLUMNS}
                 FROM conversations INDEXED BY conversations_queue_order
                 WHERE state = 'open' AND offered_to IS NULL
                 ORDER BY (affinity_to IS NOT NULL) DESC, priority DESC, last_customer_at, id
                 LIMIT ?1 OFFSET ?2"
            ),
            args![limit as i64, offset as i64],
            waiting_row,
        )
    }

    fn units_held(&self, user: &str, now: i64) -> Result<u32> {
        // Two indexed lookups (an OR would make SQLite scan by state).
        Ok(self
            .db
            .query_opt(
                "SELECT (SELECT CAST(COALESCE(SUM(units), 0) AS BIGINT) FROM conversations INDEXED BY conversations_by_owner
                         WHERE owner = ?1 AND state != 'closed'
                           AND (state = 'active' OR (state = 'wrap_up' AND (wrapup_until IS NULL OR wrapup_until > ?2))))
                      + (SELECT CAST(COALESCE(SUM(units), 0) AS BIGINT) FROM conversations INDEXED BY conversations_by_offer
                         WHERE offered_to = ?1 AND offered_to IS NOT NULL AND state = 'open')",
                args![user, now],
                |r| r.get::<u32>(0),
            )?
            .unwrap_or(0))
    }

    fn holds_work(&self, user: &str) -> Result<bool> {
        Ok(self
            .db
            .query_opt(
                "SELECT 1 FROM conversations WHERE owner = ?1 AND state IN ('active', 'waiting', 'wrap_up') LIMIT 1",
                args![user],
                |_| Ok(()),
            )?
            .is_some())
    }

    fn waiting_in(&self, queue: &str) -> Result<Vec<Waiting>> {
        self.db.query(
            &format!(
                "SELECT {WAITING_COLUMNS} FROM conversations INDEXED BY conversations_by_queue
                 WHERE queue_id = ?1 AND state = 'open' AND offered_to IS NULL
                 ORDER BY last_customer_at, id"
            ),
            args![queue],
            waiting_row,
        )
    }

    fn channels_with_open(&self) -> Result<Vec<String>> {
        strings(
            self.db,
            "SELECT DISTINCT channel_id FROM conversations WHERE state = 'open'",
            args![],
        )
    }

    fn unbreached_open(&self, queue: &str, before: i64) -> Result<Vec<String>> {
        strings(
            self.db,
            "SELECT id FROM conversations WHERE queue_id = ?1 AND state = 'open'
                 AND opened_at <= ?2 AND breached_at IS NULL ORDER BY opened_at, id",
            args![queue, before],
        )
    }

    fn mark_breached(&mut self, id: &str, at: i64) -> Result<()> {
        self.db.execute(
            "UPDATE conversations SET breached_at = ?2 WHERE id = ?1",
            args![id, at],
        )?;
        Ok(())
    }

    fn idle_open(&self, channel: &str, before: i64) -> Result<Vec<String>> {
        strings(
            self.db,
            "SELECT id FROM conversations WHERE channel_id = ?1 AND state = 'open'
                 AND last_activity_at <= ?2",
            args![channel, before],
        )
    }

    fn queues(&self) -> Result<Vec<(String, Queue)>> {
        let rows: Vec<(String, String)> =
            self.db
                .query("SELECT id, config FROM queues ORDER BY id", args![], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, c)| Some((id, serde_json::from_str(&c).ok()?)))
            .collect())
    }

    fn user_skills(&self, user: &str) -> Result<Vec<String>> {
        let skills: Option<String> = self.db.query_opt(
            "SELECT skills FROM users WHERE name = ?1",
            args![user],
            |r| r.get(0),
        )?;
        Ok(skills.map(|s| skills_of(&s)).unwrap_or_default())
    }

    fn customer(&self, channel: &str, chat: &str) -> Result<Customer> {
        Ok(self
            .db
            .query_opt(
                "SELECT following, last_owner, last_closed_at FROM customers WHERE channel_id = ?1 AND chat_id = ?2",
                args![channel, chat],
                |r| {
                    Ok(Customer {
                        following: r.get(0)?,
                        last_owner: r.get(1)?,
                        last_closed_at: r.get(2)?,
                    })
                },
            )?
            .unwrap_or_default())
    }

    fn save_customer(&mut self, channel: &str, chat: &str, c: &Customer) -> Result<()> {
        self.db.execute(
            "INSERT INTO customers (channel_id, chat_id, following, last_owner, last_closed_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (channel_id, chat_id) DO UPDATE SET following = ?3, last_owner = ?4, last_closed_at = ?5",
            args![channel, chat, c.following, c.last_owner, c.last_closed_at],
        )?;
        Ok(())
    }

    fn profile(&self, channel: &str, chat: &str) -> Result<(Option<String>, Option<String>)> {
        Ok(self
            .db
            .query_opt(
                "SELECT language, display_name FROM profiles WHERE channel_id = ?1 AND user_id = ?2",
                args![channel, chat],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .unwrap_or((None, None)))
    }

    fn contact_facts(&self, channel: &str, chat: &str) -> Result<Option<BTreeMap<String, String>>> {
        super::identity::rule_facts(self.db, channel, chat)
    }

    fn contact_brief(
        &self,
        channel: &str,
        chat: &str,
    ) -> Result<(Option<ContactBrief>, Option<String>)> {
        super::identity::brief(self.db, channel, chat)
    }

    fn consent(&self, channel: &str, chat: &str) -> Result<Option<ConsentState>> {
        super::identity::consent(self.db, channel, chat)
    }

    fn mark_consent_asked(&mut self, channel: &str, chat: &str, now: i64) -> Result<bool> {
        Ok(self.db.execute(
            "INSERT INTO consents (channel_id, user_id, state, asked_at) VALUES (?1, ?2, 'asked', ?3)
             ON CONFLICT DO NOTHING",
            args![channel, chat, now],
        )? > 0)
    }

    fn answer_consent(
        &mut self,
        channel: &str,
        chat: &str,
        state: ConsentState,
        now: i64,
    ) -> Result<()> {
        self.db.execute(
            "INSERT INTO consents (channel_id, user_id, state, asked_at, answered_at) VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT (channel_id, user_id) DO UPDATE SET state = ?3, answered_at = ?4",
            args![channel, chat, consent_name(state), now],
        )?;
        Ok(())
    }

    fn user_role(&self, user: &str) -> Result<Option<String>> {
        self.db
            .query_opt("SELECT role FROM users WHERE name = ?1", args![user], |r| {
                r.get(0)
            })
    }

    fn agent(&self, user: &str) -> Result<Option<Agent>> {
        self.db.query_opt(
            &format!(r#"SELECT {AGENT_COLUMNS} FROM agents a WHERE a."user" = ?1"#),
            args![user],
            agent_row,
        )
    }

    fn agents(&self) -> Result<Vec<Agent>> {
        self.db.query(
            &format!(r#"SELECT {AGENT_COLUMNS} FROM agents a ORDER BY a."user""#),
            args![],
            agent_row,
        )
    }

    fn available_agents(&self) -> Result<Vec<Agent>> {
        self.db.query(
            &format!(
                r#"SELECT {AGENT_COLUMNS} FROM agents a JOIN users u ON u.name = a."user"
                 WHERE a.presence IN ('available', 'busy') AND u.role != '' ORDER BY a."user""#
            ),
            args![],
            agent_row,
        )
    }

    fn ensure_agent(&mut self, a: &Agent) -> Result<()> {
        self.db.execute(
            r#"INSERT INTO agents ("user", chosen, presence, capacity, used, disconnected_at, gone,
                 last_offer_at, updated_at, presence_since)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING"#,
            args![
                a.user,
                a.chosen.as_str(),
                a.presence.as_str(),
                a.capacity,
                a.used,
                a.disconnected_at,
                a.gone,
                a.last_offer_at,
                a.updated_at,
                a.presence_since
            ],
        )?;
        Ok(())
    }

    fn save_agent(&mut self, a: &Agent) -> Result<()> {
        self.db.execute(
            r#"UPDATE agents SET chosen = ?2, presence = ?3, capacity = ?4, used = ?5, disconnected_at = ?6,
                 gone = ?7, last_offer_at = ?8, updated_at = ?9, presence_since = ?10
             WHERE "user" = ?1"#,
            args![
                a.user,
                a.chosen.as_str(),
                a.presence.as_str(),
                a.capacity,
                a.used,
                a.disconnected_at,
                a.gone,
                a.last_offer_at,
                a.updated_at,
                a.presence_since
            ],
        )?;
        Ok(())
    }

    fn add_decline(&mut self, conversation: &str, user: &str) -> Result<()> {
        self.db.execute(
            r#"INSERT INTO declines (conversation_id, "user", count) VALUES (?1, ?2, 1)
             ON CONFLICT (conversation_id, "user") DO UPDATE SET count = declines.count + 1"#,
            args![conversation, user],
        )?;
        Ok(())
    }

    fn declines(&self, conversation: &str) -> Result<HashMap<String, u32>> {
        Ok(self
            .db
            .query(
                r#"SELECT "user", count FROM declines WHERE conversation_id = ?1"#,
                args![conversation],
                |r| Ok((r.get::<String>(0)?, r.get::<u32>(1)?)),
            )?
            .into_iter()
            .collect())
    }

    fn clear_declines(&mut self, conversation: &str) -> Result<()> {
        self.db.execute(
            "DELETE FROM declines WHERE conversation_id = ?1",
            args![conversation],
        )?;
        Ok(())
    }

    fn consultants(&self, conversation: &str) -> Result<Vec<Consultant>> {
        self.db.query(
            r#"SELECT "user", joined FROM consultants WHERE conversation_id = ?1 ORDER BY "user""#,
            args![conversation],
            |r| {
                Ok(Consultant {
                    user: r.get(0)?,
                    joined: r.get(1)?,
                })
            },
        )
    }

    fn add_consultant(&mut self, conversation: &str, user: &str) -> Result<()> {
        self.db.execute(
            r#"INSERT INTO consultants (conversation_id, "user", joined) VALUES (?1, ?2, 0)
             ON CONFLICT DO NOTHING"#,
            args![conversation, user],
        )?;
        Ok(())
    }

    fn join_consultant(&mut self, conversation: &str, user: &str) -> Result<bool> {
        Ok(self.db.execute(
            r#"UPDATE consultants SET joined = 1 WHERE conversation_id = ?1 AND "user" = ?2"#,
            args![conversation, user],
        )? > 0)
    }

    fn audit(
        &mut self,
        at: i64,
        actor: &str,
        action: &str,
        conversation: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        self.db.execute(
            "INSERT INTO supervision_audit (at, actor, action, conversation_id, detail)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            args![at, actor, action, conversation, detail],
        )?;
        Ok(())
    }

    fn remove_consultant(&mut self, conversation: &str, user: &str) -> Result<()> {
        self.db.execute(
            r#"DELETE FROM consultants WHERE conversation_id = ?1 AND "user" = ?2"#,
            args![conversation, user],
        )?;
        Ok(())
    }

    fn survey_answer(&self, conversation: &str) -> Result<Option<SurveyAnswer>> {
        Ok(self
            .db
            .query_opt(
                "SELECT rating, comment FROM survey_answers WHERE conversation_id = ?1",
                args![conversation],
                |r| {
                    Ok(SurveyAnswer {
                        rating: r.get(0)?,
                        comment: r.get(1)?,
                    })
                },
            )?
            .filter(|s| s.rating.is_some() || s.comment.is_some()))
    }

    fn record_rating(
        &mut self,
        conversation: &str,
        owner: Option<&str>,
        rating: u8,
        now: i64,
    ) -> Result<()> {
        self.db.execute(
            "INSERT INTO survey_answers (conversation_id, owner, rating, answered_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (conversation_id) DO NOTHING",
            args![conversation, owner, rating, now],
        )?;
        Ok(())
    }

    fn record_comment(&mut self, conversation: &str, comment: &str, now: i64) -> Result<()> {
        self.db.execute(
            "UPDATE survey_answers SET comment = ?2, answered_at = ?3 WHERE conversation_id = ?1",
            args![conversation, comment, now],
        )?;
        Ok(())
    }

    fn queue_automated(&mut self, m: &NewAutomated) -> Result<()> {
        self.db.execute(
            "INSERT INTO automated (id, conversation_id, channel_id, chat_id, trigger, messages, reply_token,
                 reply_token_at, state, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9)",
            args![
                m.id,
                m.conversation_id,
                m.channel_id,
                m.chat_id,
                m.trigger,
                m.messages,
                m.reply_token.as_ref().map(|t| &t.0),
                m.reply_token.as_ref().map(|t| t.1),
                m.created_at
            ],
        )?;
        Ok(())
    }

    fn append_event(&mut self, channel: &str, event: NewEvent, now: i64) -> Result<()> {
        events::append(self.db, channel, &[event], now)?;
        Ok(())
    }
}

/// The stored name of a consent state.
pub fn consent_name(state: ConsentState) -> &'static str {
    match state {
        ConsentState::Asked => "asked",
        ConsentState::Granted => "granted",
        ConsentState::Declined => "declined",
    }
}

/// What supervisors did to a conversation, oldest first: (actor, action, detail).
pub fn supervision_audit<'a>(
    db: impl Into<Db<'a>>,
    conversation: &str,
) -> Result<Vec<(String, String, Option<String>)>> {
    let db = db.into();
    db.query(
        "SELECT actor, action, detail FROM supervision_audit WHERE conversation_id = ?1
         ORDER BY at, id",
        args![conversation],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}
