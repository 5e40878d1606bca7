//! The routing state machine. Every function here runs on the writer thread inside one
//! transaction, so a decision, the rows it changes and the log events that tell consoles
//! about it become durable together or not at all.
//!
//! Inputs: customer events from the log ([`on_event`]), representatives' commands
//! ([`command`]), presence changes, and the clock ([`tick`]). Outputs: rows in the routing
//! tables, `linedeskConversation` / `linedeskAgent` snapshots in the log, and automated
//! messages queued for [`super::automated`].

use std::collections::HashMap;

use linedesk_line::send::Message;
use linedesk_protocol::identity::ConsentSettings;
use linedesk_protocol::routing::{
    AgentSnapshot, Consultant, ConversationSnapshot, ConversationState, DistributionMode, Offer,
    Presence, SurveyAnswer, AGENT_EVENT, CONVERSATION_EVENT,
};
use linedesk_protocol::Role;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

use super::config::{Queue, Survey, Trigger, Workstream, WrapUpBlocks, DEFAULT_QUEUE};
use super::hours::{self, Status};
use super::rules::{self, Facts};
use crate::store::events::{self, NewEvent, StoredEvent};

/// A short disconnect (relay restart, network blip) keeps the representative's presence.
pub const GRACE_MS: i64 = 60_000;
/// A reply token is used only while younger than this (LINE's limit is about a minute).
pub const REPLY_TOKEN_FRESH_MS: i64 = 50_000;
/// After a rating, the customer's next text within this window is the survey comment.
pub const COMMENT_WINDOW_MS: i64 = 30 * 60_000;
/// Postback data prefix of survey buttons: `linedesk-survey:{conversation}:{rating}`.
pub const SURVEY_PREFIX: &str = "linedesk-survey:";
/// Postback data of the consent buttons: `linedesk-consent:granted` or `…:declined`.
pub const CONSENT_PREFIX: &str = "linedesk-consent:";

/// Why a command was refused.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No such conversation, queue or user.
    #[error("{0}")]
    NotFound(String),
    /// Lost a race or no longer applies.
    #[error("{0}")]
    Conflict(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Malformed request.
    #[error("{0}")]
    BadRequest(String),
    /// SQLite failed.
    #[error(transparent)]
    Db(#[from] rusqlite::Error),
    /// The write did not become durable.
    #[error(transparent)]
    Write(#[from] crate::log::WriteError),
}

/// Turns a database failure into the writer task's error (so the task's savepoint rolls
/// back); refusals stay in the answer.
pub fn rollback_on_db<T>(
    r: Result<T, EngineError>,
) -> Result<Result<T, EngineError>, rusqlite::Error> {
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
    /// Close.
    Close,
    /// Hand to a representative.
    TransferToUser(String),
    /// Put back in a queue.
    TransferToQueue(String),
    /// Ask someone to look (read-only).
    Consult(String),
    /// Let a consultant write.
    Join(String),
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
}

/// Settings read once per transaction.
#[derive(Default)]
pub struct Settings {
    workstreams: HashMap<String, Workstream>,
    queues: HashMap<String, Queue>,
}

impl Settings {
    /// The workstream of a channel (defaults until an admin saves one).
    pub fn workstream(
        &mut self,
        conn: &Connection,
        channel: &str,
    ) -> Result<&Workstream, rusqlite::Error> {
        if !self.workstreams.contains_key(channel) {
            let ws = load_workstream(conn, channel)?;
            self.workstreams.insert(channel.to_owned(), ws);
        }
        Ok(&self.workstreams[channel])
    }

    /// A queue (the default queue exists even before an admin saves it).
    pub fn queue(&mut self, conn: &Connection, id: &str) -> Result<&Queue, rusqlite::Error> {
        if !self.queues.contains_key(id) {
            let q = load_queue(conn, id)?.unwrap_or_else(|| Queue {
                name: if id == DEFAULT_QUEUE {
                    "General".into()
                } else {
                    id.into()
                },
                ..Queue::default()
            });
            self.queues.insert(id.to_owned(), q);
        }
        Ok(&self.queues[id])
    }
}

/// The stored workstream of a channel, or the default.
pub fn load_workstream(conn: &Connection, channel: &str) -> Result<Workstream, rusqlite::Error> {
    let text: Option<String> = conn
        .prepare_cached("SELECT config FROM workstreams WHERE channel_id = ?1")?
        .query_row([channel], |r| r.get(0))
        .optional()?;
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default())
}

/// A stored queue.
pub fn load_queue(conn: &Connection, id: &str) -> Result<Option<Queue>, rusqlite::Error> {
    let text: Option<String> = conn
        .prepare_cached("SELECT config FROM queues WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

/// Whether a queue ID names a queue (the default one always exists).
pub fn queue_exists(conn: &Connection, id: &str) -> Result<bool, rusqlite::Error> {
    Ok(id == DEFAULT_QUEUE || load_queue(conn, id)?.is_some())
}

/// One transaction's worth of routing work.
pub struct Tx<'a> {
    conn: &'a Connection,
    now: i64,
    settings: Settings,
    /// Automated messages were queued: wake the sender after commit.
    pub queued_automated: bool,
    /// Live conversation of each chat seen in this transaction (routing events only change it
    /// through this `Tx`, so the map stays true).
    live: HashMap<(String, String), Option<(String, ConversationState)>>,
    /// Activity and reply tokens of busy conversations, written once per transaction.
    touches: HashMap<String, Touch>,
}

/// What customer events change on a conversation that is already routed.
#[derive(Default)]
struct Touch {
    last_customer_at: Option<i64>,
    reply_token: Option<(String, i64)>,
}

struct Conv {
    id: String,
    channel_id: String,
    chat_id: String,
    state: ConversationState,
    queue_id: String,
    owner: Option<String>,
    offered_to: Option<String>,
    language: Option<String>,
    reply_token: Option<String>,
    reply_token_at: Option<i64>,
    last_trigger: Option<String>,
    units: u32,
}

const CONV_COLUMNS: &str = "id, channel_id, chat_id, state, queue_id, owner, offered_to, language, reply_token, reply_token_at, last_trigger, units";

fn conv_from_row(r: &rusqlite::Row<'_>) -> Result<Conv, rusqlite::Error> {
    let state: String = r.get(3)?;
    Ok(Conv {
        id: r.get(0)?,
        channel_id: r.get(1)?,
        chat_id: r.get(2)?,
        state: ConversationState::parse(&state).unwrap_or(ConversationState::Closed),
        queue_id: r.get(4)?,
        owner: r.get(5)?,
        offered_to: r.get(6)?,
        language: r.get(7)?,
        reply_token: r.get(8)?,
        reply_token_at: r.get(9)?,
        last_trigger: r.get(10)?,
        units: r.get(11)?,
    })
}

/// The chat a LINE event belongs to: user, group or room.
pub fn chat_of(body: &Value) -> Option<&str> {
    let s = body.get("source")?;
    s.get("groupId")
        .or_else(|| s.get("roomId"))
        .or_else(|| s.get("userId"))?
        .as_str()
}

impl<'a> Tx<'a> {
    /// The writer's connection (inside the transaction).
    pub fn conn(&self) -> &'a Connection {
        self.conn
    }

    /// The decision's time, UTC ms.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Starts routing work on the writer's connection.
    pub fn new(conn: &'a Connection, now: i64) -> Self {
        Self {
            conn,
            now,
            settings: Settings::default(),
            queued_automated: false,
            live: HashMap::new(),
            touches: HashMap::new(),
        }
    }

    fn conv(&self, id: &str) -> Result<Option<Conv>, rusqlite::Error> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {CONV_COLUMNS} FROM conversations WHERE id = ?1"
            ))?
            .query_row([id], conv_from_row)
            .optional()
    }

    fn live_conv(&self, channel: &str, chat: &str) -> Result<Option<Conv>, rusqlite::Error> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {CONV_COLUMNS} FROM conversations WHERE channel_id = ?1 AND chat_id = ?2 AND state != 'closed'"
            ))?
            .query_row([channel, chat], conv_from_row)
            .optional()
    }

    // ----- customer events -------------------------------------------------------------

    /// Routes one logged event. Our own `linedesk*` events only feed activity and reply
    /// token bookkeeping.
    pub fn on_event(&mut self, ev: &StoredEvent) -> Result<(), rusqlite::Error> {
        if ev.event_type == CONVERSATION_EVENT
            || ev.event_type == AGENT_EVENT
            || ev.event_type == "linedeskBlocked"
        {
            return Ok(());
        }
        if ev.event_type == "linedeskProfile" {
            return self.on_profile(ev);
        }
        let Ok(body) = serde_json::from_str::<Value>(&ev.body) else {
            return Ok(());
        };
        if body["mode"].as_str() == Some("standby") {
            return Ok(());
        }
        let Some(chat) = chat_of(&body).map(str::to_owned) else {
            return Ok(());
        };
        let channel = ev.channel_id.as_str();
        match ev.event_type.as_str() {
            "linedeskSent" => {
                // A representative (or we) wrote: activity; a reply spent the token (write
                // pending tokens first so a spent one is not brought back).
                self.flush_touches()?;
                let spent_reply = body["via"].as_str() == Some("reply");
                self.conn.execute(
                    "UPDATE conversations SET last_activity_at = MAX(last_activity_at, ?3),
                         reply_token = CASE WHEN ?4 THEN NULL ELSE reply_token END
                     WHERE channel_id = ?1 AND chat_id = ?2 AND state != 'closed'",
                    params![channel, chat, self.now, spent_reply],
                )?;
                Ok(())
            }
            "follow" | "unfollow" => {
                self.conn.execute(
                    "INSERT INTO customers (channel_id, chat_id, following) VALUES (?1, ?2, ?3)
                     ON CONFLICT (channel_id, chat_id) DO UPDATE SET following = ?3",
                    params![channel, chat, ev.event_type == "follow"],
                )?;
                self.touch_activity(channel, &chat)
            }
            "message" => self.on_message(ev, &body, &chat),
            "postback" => {
                let data = body["postback"]["data"].as_str().unwrap_or_default();
                if let Some(rest) = data.strip_prefix(SURVEY_PREFIX) {
                    return self.on_survey_rating(channel, &chat, rest);
                }
                if let Some(answer) = data.strip_prefix(CONSENT_PREFIX) {
                    return self.on_consent(channel, &chat, answer);
                }
                self.on_message(ev, &body, &chat)
            }
            _ => self.touch_activity(channel, &chat),
        }
    }

    /// A profile fetched after the conversation opened gives it its language.
    fn on_profile(&mut self, ev: &StoredEvent) -> Result<(), rusqlite::Error> {
        let Ok(body) = serde_json::from_str::<Value>(&ev.body) else {
            return Ok(());
        };
        let (Some(chat), Some(language)) = (chat_of(&body), body["profile"]["language"].as_str())
        else {
            return Ok(());
        };
        let chat = chat.to_owned();
        if let Some((id, _)) = self.live_state(&ev.channel_id, &chat)? {
            let n = self.conn.execute(
                "UPDATE conversations SET language = ?2 WHERE id = ?1 AND language IS NULL",
                params![id, language],
            )?;
            if n > 0 {
                self.emit(&id)?;
            }
        }
        Ok(())
    }

    fn touch_activity(&mut self, channel: &str, chat: &str) -> Result<(), rusqlite::Error> {
        if let Some((id, _)) = self.live_state(channel, chat)? {
            self.touches.entry(id).or_default();
        }
        Ok(())
    }

    /// The live conversation of a chat: its id and state.
    fn live_state(
        &mut self,
        channel: &str,
        chat: &str,
    ) -> Result<Option<(String, ConversationState)>, rusqlite::Error> {
        let key = (channel.to_owned(), chat.to_owned());
        if let Some(v) = self.live.get(&key) {
            return Ok(v.clone());
        }
        let v = self.live_conv(channel, chat)?.map(|c| (c.id, c.state));
        self.live.insert(key, v.clone());
        Ok(v)
    }

    /// Writes the activity the batch's events left on busy conversations.
    pub fn flush_touches(&mut self) -> Result<(), rusqlite::Error> {
        let mut stmt = self.conn.prepare_cached(
            "UPDATE conversations SET last_activity_at = ?2,
                 last_customer_at = MAX(last_customer_at, COALESCE(?3, last_customer_at)),
                 reply_token = COALESCE(?4, reply_token),
                 reply_token_at = CASE WHEN ?4 IS NULL THEN reply_token_at ELSE ?5 END
             WHERE id = ?1",
        )?;
        for (id, t) in self.touches.drain() {
            let (token, token_at) = match t.reply_token {
                Some((token, at)) => (Some(token), Some(at)),
                None => (None, None),
            };
            stmt.execute(params![id, self.now, t.last_customer_at, token, token_at])?;
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        ev: &StoredEvent,
        body: &Value,
        chat: &str,
    ) -> Result<(), rusqlite::Error> {
        let channel = ev.channel_id.as_str();
        let kind = body["message"]["type"].as_str().unwrap_or("postback");
        let text = body["message"]["text"]
            .as_str()
            .or_else(|| body["postback"]["data"].as_str())
            .map(str::to_owned);
        let reply_token = body["replyToken"].as_str().map(str::to_owned);
        // LINE's timestamp orders a burst; never let a late redelivery move time backwards.
        let at = ev.event_ts.min(self.now);

        if kind == "text" && self.maybe_survey_comment(channel, chat, text.as_deref())? {
            return Ok(());
        }
        let attachment = matches!(kind, "image" | "video" | "audio" | "file");
        let blocked = attachment
            && !self
                .settings
                .workstream(self.conn, channel)?
                .attachments
                .customers_can_send;
        let token = reply_token.map(|t| (t, self.now));

        let conv_id = match self.live_state(channel, chat)? {
            None => {
                // New conversations know their reply token before any automated message.
                let ws = self.settings.workstream(self.conn, channel)?.clone();
                let id = self.open_conversation(channel, chat, &ws, text.as_deref(), at, token)?;
                self.live.insert(
                    (channel.to_owned(), chat.to_owned()),
                    Some((id.clone(), ConversationState::Open)),
                );
                id
            }
            Some((id, ConversationState::Waiting)) => {
                let owner: Option<String> = self.conn.query_row(
                    "SELECT owner FROM conversations WHERE id = ?1",
                    [&id],
                    |r| r.get(0),
                )?;
                self.conn.execute(
                    "UPDATE conversations SET state = 'open', affinity_to = owner, owner = NULL,
                         last_customer_at = ?2, last_activity_at = ?3,
                         reply_token = COALESCE(?4, reply_token), reply_token_at = COALESCE(?5, reply_token_at)
                     WHERE id = ?1",
                    params![id, at, self.now, token.as_ref().map(|t| &t.0), token.as_ref().map(|t| t.1)],
                )?;
                self.live.insert(
                    (channel.to_owned(), chat.to_owned()),
                    Some((id.clone(), ConversationState::Open)),
                );
                self.emit(&id)?;
                if let Some(owner) = owner {
                    self.refresh_agent(&owner)?;
                }
                id
            }
            Some((id, _)) => {
                let touch = self.touches.entry(id.clone()).or_default();
                touch.last_customer_at = Some(touch.last_customer_at.map_or(at, |t| t.max(at)));
                if token.is_some() {
                    touch.reply_token = token;
                }
                id
            }
        };
        if blocked {
            // Kept in the log (nothing acknowledged is lost), hidden from representatives.
            let message_id = body["message"]["id"].as_str().unwrap_or_default();
            let event = json!({
                "type": "linedeskBlocked", "timestamp": self.now, "mode": "active",
                "source": body["source"], "webhookEventId": format!("blocked:{message_id}"),
                "messageId": message_id, "reason": "workstream_forbids_customer_attachments",
            });
            self.append(
                channel,
                "linedeskBlocked",
                Some(format!("blocked:{message_id}")),
                event,
            )?;
            self.flush_touches()?;
            self.automated(&conv_id, &[Trigger::AttachmentBlocked], Vec::new())?;
        }
        Ok(())
    }

    fn open_conversation(
        &mut self,
        channel: &str,
        chat: &str,
        ws: &Workstream,
        text: Option<&str>,
        at: i64,
        token: Option<(String, i64)>,
    ) -> Result<String, rusqlite::Error> {
        let (language, _name) = self.profile(channel, chat)?;
        let (following, last_owner, last_closed_at): (Option<bool>, Option<String>, Option<i64>) = self
            .conn
            .prepare_cached(
                "SELECT following, last_owner, last_closed_at FROM customers WHERE channel_id = ?1 AND chat_id = ?2",
            )?
            .query_row([channel, chat], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?
            .unwrap_or((None, None, None));
        let contact = crate::identity::store::rule_facts(self.conn, channel, chat)?;
        let facts = Facts {
            channel_id: channel,
            language: language.as_deref(),
            text,
            following,
            now_ms: self.now,
            contact: contact.as_ref(),
        };
        let mut queue_id = rules::choose(&ws.rules, &facts)
            .unwrap_or(&ws.fallback_queue)
            .to_owned();
        if !queue_exists(self.conn, &queue_id)? {
            queue_id = DEFAULT_QUEUE.into();
        }
        let affinity_to = match (ws.affinity, last_owner, last_closed_at) {
            (true, Some(owner), Some(closed)) if self.now - closed <= ws.affinity_window_ms => {
                Some(owner)
            }
            _ => None,
        };
        let priority = self.settings.queue(self.conn, &queue_id)?.priority;
        let id = ulid::Ulid::new().to_string();
        let first_text: Option<String> = text.map(|t| t.chars().take(200).collect());
        self.conn.execute(
            "INSERT INTO conversations (id, channel_id, chat_id, state, queue_id, affinity_to, first_text, language,
                 opened_at, last_customer_at, last_activity_at, units, reply_token, reply_token_at, priority)
             VALUES (?1, ?2, ?3, 'open', ?4, ?5, ?6, ?7, ?8, ?9, ?8, ?10, ?11, ?12, ?13)",
            params![id, channel, chat, queue_id, affinity_to, first_text, language, self.now, at, ws.capacity_units,
                token.as_ref().map(|t| &t.0), token.as_ref().map(|t| t.1), priority],
        )?;
        let consent = self.ask_consent(channel, chat, language.as_deref())?;
        self.emit(&id)?;

        let mut triggers = vec![Trigger::Greeting];
        let queue = self.settings.queue(self.conn, &queue_id)?.clone();
        match queue.hours.as_ref().map(|h| hours::status(h, self.now)) {
            Some(Status::Closed) => triggers.push(Trigger::OutOfHours),
            Some(Status::Holiday) => triggers.push(Trigger::Holiday),
            _ => {
                if ws.mode == DistributionMode::Push && !self.anyone_available(&queue)? {
                    triggers.push(Trigger::NoAgent);
                }
            }
        }
        self.automated(&id, &triggers, consent.into_iter().collect())?;
        Ok(id)
    }

    /// The channel's consent question for a profile never asked before (recorded as asked).
    fn ask_consent(
        &mut self,
        channel: &str,
        chat: &str,
        language: Option<&str>,
    ) -> Result<Option<Message>, rusqlite::Error> {
        let settings: Option<String> = self
            .conn
            .prepare_cached("SELECT consent FROM channels WHERE id = ?1")?
            .query_row([channel], |r| r.get(0))
            .optional()?
            .flatten();
        let Some(settings) =
            settings.and_then(|t| serde_json::from_str::<ConsentSettings>(&t).ok())
        else {
            return Ok(None);
        };
        let asked = self.conn.execute(
            "INSERT OR IGNORE INTO consents (channel_id, user_id, state, asked_at) VALUES (?1, ?2, 'asked', ?3)",
            params![channel, chat, self.now],
        )?;
        if asked == 0 {
            return Ok(None);
        }
        let Some(text) = pick_language(&settings.message, language, "*") else {
            return Ok(None);
        };
        let button = |label: &str, answer: &str| {
            json!({"type": "action", "action": {
                "type": "postback", "label": label.chars().take(20).collect::<String>(),
                "data": format!("{CONSENT_PREFIX}{answer}"), "displayText": label,
            }})
        };
        let mut m = Message::text(text);
        m.quick_reply = Some(json!({"items": [
            button(&settings.agree, "granted"),
            button(&settings.decline, "declined"),
        ]}));
        Ok(Some(m))
    }

    /// The customer answered the consent question: recorded with the time, and the live
    /// conversation told (the representative's banner goes away).
    fn on_consent(
        &mut self,
        channel: &str,
        chat: &str,
        answer: &str,
    ) -> Result<(), rusqlite::Error> {
        let state = match answer {
            "granted" => "granted",
            "declined" => "declined",
            _ => return Ok(()),
        };
        self.conn.execute(
            "INSERT INTO consents (channel_id, user_id, state, asked_at, answered_at) VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT (channel_id, user_id) DO UPDATE SET state = ?3, answered_at = ?4",
            params![channel, chat, state, self.now],
        )?;
        self.profile_changed(channel, chat)
    }

    /// An admin deleted the channel: every conversation still open is closed with the reason
    /// `channel_deleted` (no survey), and `message`, when given, goes to its customer.
    pub fn close_channel(
        &mut self,
        channel: &str,
        message: Option<&str>,
    ) -> Result<usize, rusqlite::Error> {
        self.flush_touches()?;
        let ids: Vec<String> = self
            .conn
            .prepare("SELECT id FROM conversations WHERE channel_id = ?1 AND state != 'closed'")?
            .query_map([channel], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in &ids {
            let Some(conv) = self.conv(id)? else { continue };
            self.conn.execute(
                "UPDATE conversations SET state = 'closed', closed_at = ?2, close_reason = 'channel_deleted',
                     offered_to = NULL, offered_at = NULL, offer_expires_at = NULL
                 WHERE id = ?1",
                params![id, self.now],
            )?;
            self.live
                .remove(&(conv.channel_id.clone(), conv.chat_id.clone()));
            self.emit(id)?;
            self.refresh_owner(&conv)?;
            if let Some(offered) = &conv.offered_to {
                self.refresh_agent(offered)?;
            }
            if let Some(text) = message.map(str::trim).filter(|t| !t.is_empty()) {
                self.queue_messages(&conv, "channel_deleted", vec![Message::text(text)])?;
            }
        }
        Ok(ids.len())
    }

    /// Something about the profile changed (contact link, consent): every conversation of it
    /// that consoles still show is logged again.
    pub fn profile_changed(&mut self, channel: &str, chat: &str) -> Result<(), rusqlite::Error> {
        self.flush_touches()?;
        let ids: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT id FROM conversations WHERE channel_id = ?1 AND chat_id = ?2
                 AND (state != 'closed' OR id = (SELECT id FROM conversations WHERE channel_id = ?1 AND chat_id = ?2
                      ORDER BY opened_at DESC LIMIT 1))",
            )?
            .query_map([channel, chat], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in ids {
            self.emit(&id)?;
        }
        Ok(())
    }

    fn profile(
        &self,
        channel: &str,
        chat: &str,
    ) -> Result<(Option<String>, Option<String>), rusqlite::Error> {
        Ok(self
            .conn
            .prepare_cached("SELECT language, display_name FROM profiles WHERE channel_id = ?1 AND user_id = ?2")?
            .query_row([channel, chat], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .unwrap_or((None, None)))
    }

    fn maybe_survey_comment(
        &mut self,
        channel: &str,
        chat: &str,
        text: Option<&str>,
    ) -> Result<bool, rusqlite::Error> {
        let Some(text) = text else { return Ok(false) };
        if self.live_state(channel, chat)?.is_some() {
            return Ok(false);
        }
        let rated: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT id FROM conversations WHERE channel_id = ?1 AND chat_id = ?2 AND state = 'closed'
                     AND survey_state = 'rated' AND closed_at >= ?3
                 ORDER BY closed_at DESC LIMIT 1",
            )?
            .query_row(params![channel, chat, self.now - COMMENT_WINDOW_MS], |r| r.get(0))
            .optional()?;
        let Some(id) = rated else { return Ok(false) };
        let comment: String = text.chars().take(2000).collect();
        self.conn.execute(
            "UPDATE survey_answers SET comment = ?2, answered_at = ?3 WHERE conversation_id = ?1",
            params![id, comment, self.now],
        )?;
        self.conn.execute(
            "UPDATE conversations SET survey_state = 'done' WHERE id = ?1",
            [&id],
        )?;
        self.emit(&id)?;
        self.automated(&id, &[Trigger::SurveyThanks], Vec::new())?;
        Ok(true)
    }

    fn on_survey_rating(
        &mut self,
        channel: &str,
        chat: &str,
        rest: &str,
    ) -> Result<(), rusqlite::Error> {
        let Some((id, rating)) = rest.rsplit_once(':') else {
            return Ok(());
        };
        let Ok(rating) = rating.parse::<u8>() else {
            return Ok(());
        };
        let row: Option<(Option<String>, Option<String>)> = self
            .conn
            .prepare_cached(
                "SELECT owner, survey_state FROM conversations WHERE id = ?1 AND channel_id = ?2 AND chat_id = ?3",
            )?
            .query_row(params![id, channel, chat], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        // Only the survey we asked, once: a second tap does not overwrite the first.
        let Some((owner, Some(state))) = row else {
            return Ok(());
        };
        if state != "asked" {
            return Ok(());
        }
        self.conn.execute(
            "INSERT INTO survey_answers (conversation_id, owner, rating, answered_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (conversation_id) DO NOTHING",
            params![id, owner, rating, self.now],
        )?;
        let ws = self.settings.workstream(self.conn, channel)?.clone();
        let asks_comment = matches!(&ws.survey, Survey::Buttons { comment_prompt, .. } if !comment_prompt.is_empty());
        self.conn.execute(
            "UPDATE conversations SET survey_state = ?2 WHERE id = ?1",
            params![id, if asks_comment { "rated" } else { "done" }],
        )?;
        self.emit(id)?;
        if let Survey::Buttons { comment_prompt, .. } = &ws.survey {
            if comment_prompt.is_empty() {
                self.automated(id, &[Trigger::SurveyThanks], Vec::new())?;
            } else if let Some(conv) = self.conv(id)? {
                if let Some(text) =
                    pick_language(comment_prompt, conv.language.as_deref(), &ws.language)
                {
                    self.queue_messages(&conv, "survey_comment", vec![Message::text(text)])?;
                }
            }
        }
        Ok(())
    }

    // ----- commands ---------------------------------------------------------------------

    /// Runs a representative's command; answers the conversation afterwards and a warning.
    pub fn command(
        &mut self,
        actor: &Actor,
        id: &str,
        cmd: Command,
    ) -> Result<(ConversationSnapshot, Option<String>), EngineError> {
        let conv = self
            .conv(id)?
            .ok_or_else(|| EngineError::NotFound("no such conversation".into()))?;
        let owns = conv.owner.as_deref() == Some(actor.user.as_str());
        let mut warning = None;
        use ConversationState as S;
        match cmd {
            Command::Accept => {
                let ws = self
                    .settings
                    .workstream(self.conn, &conv.channel_id)?
                    .clone();
                let ok = match conv.state {
                    S::Open if conv.offered_to.as_deref() == Some(actor.user.as_str()) => true,
                    S::Open if ws.mode == DistributionMode::Pick => {
                        let queue = self.settings.queue(self.conn, &conv.queue_id)?.clone();
                        if !self.is_member(&queue, &actor.user)? {
                            return Err(EngineError::Forbidden(
                                "you are not a member of this queue".into(),
                            ));
                        }
                        true
                    }
                    S::Waiting if owns => true,
                    S::Open => {
                        return Err(EngineError::Conflict(
                            "this request is no longer offered to you".into(),
                        ))
                    }
                    _ => {
                        return Err(EngineError::Conflict(
                            "someone else has this conversation".into(),
                        ))
                    }
                };
                debug_assert!(ok);
                self.conn.execute(
                    "UPDATE conversations SET state = 'active', owner = ?2, accepted_at = COALESCE(accepted_at, ?3),
                         offered_to = NULL, offered_at = NULL, offer_expires_at = NULL, affinity_to = NULL
                     WHERE id = ?1",
                    params![id, actor.user, self.now],
                )?;
                self.remember_owner(&conv, &actor.user)?;
                self.emit(id)?;
                self.refresh_agent(&actor.user)?;
                if conv.state == S::Open {
                    self.automated(id, &[Trigger::Assigned], Vec::new())?;
                }
            }
            Command::Reject => {
                if conv.state != S::Open || conv.offered_to.as_deref() != Some(actor.user.as_str())
                {
                    return Err(EngineError::Conflict(
                        "this request is no longer offered to you".into(),
                    ));
                }
                self.decline(&conv, &actor.user)?;
            }
            Command::Wait => {
                self.require_owner(&conv, actor, &[S::Active])?;
                self.conn.execute(
                    "UPDATE conversations SET state = 'waiting' WHERE id = ?1",
                    [id],
                )?;
                self.emit(id)?;
                self.refresh_owner(&conv)?;
            }
            Command::End => {
                self.require_owner(&conv, actor, &[S::Active, S::Waiting])?;
                let ws = self
                    .settings
                    .workstream(self.conn, &conv.channel_id)?
                    .clone();
                let until = match ws.wrap_up_blocks {
                    WrapUpBlocks::Always => None,
                    WrapUpBlocks::Never => Some(self.now),
                    WrapUpBlocks::Duration { ms } => Some(self.now + ms),
                };
                self.conn.execute(
                    "UPDATE conversations SET state = 'wrap_up', ended_at = ?2, wrapup_until = ?3 WHERE id = ?1",
                    params![id, self.now, until],
                )?;
                self.emit(id)?;
                self.refresh_owner(&conv)?;
                self.automated(id, &[Trigger::Ended], Vec::new())?;
            }
            Command::Close => {
                if conv.state == S::Open && !actor.supervises() {
                    return Err(EngineError::Forbidden(
                        "only a supervisor may close a queued conversation".into(),
                    ));
                }
                self.require_owner(&conv, actor, &[S::Open, S::Active, S::Waiting, S::WrapUp])?;
                self.close(&conv, "agent")?;
            }
            Command::TransferToQueue(queue_id) => {
                self.require_owner(&conv, actor, &[S::Open, S::Active, S::Waiting])?;
                if !queue_exists(self.conn, &queue_id)? {
                    return Err(EngineError::NotFound("no such queue".into()));
                }
                let priority = self.settings.queue(self.conn, &queue_id)?.priority;
                self.conn.execute(
                    "UPDATE conversations SET state = 'open', queue_id = ?2, priority = ?3, owner = NULL, transferred_from = COALESCE(owner, transferred_from),
                         offered_to = NULL, offered_at = NULL, offer_expires_at = NULL, affinity_to = NULL
                     WHERE id = ?1",
                    params![id, queue_id, priority],
                )?;
                self.conn
                    .execute("DELETE FROM declines WHERE conversation_id = ?1", [id])?;
                self.emit(id)?;
                self.refresh_owner(&conv)?;
                if let Some(offered) = &conv.offered_to {
                    self.refresh_agent(offered)?;
                }
                let queue = self.settings.queue(self.conn, &queue_id)?.clone();
                if !self.anyone_available(&queue)? {
                    warning = Some(format!(
                        "nobody in {} is available now; the conversation waits in the queue",
                        queue.name
                    ));
                }
            }
            Command::TransferToUser(target) => {
                self.require_owner(&conv, actor, &[S::Open, S::Active, S::Waiting])?;
                let agent = self
                    .agent(&target)?
                    .ok_or_else(|| EngineError::NotFound("no such representative".into()))?;
                if matches!(agent.presence, Presence::Offline | Presence::Inactive) {
                    return Err(EngineError::Conflict(format!("{target} is offline")));
                }
                if agent.used + conv.units > agent.capacity {
                    warning = Some(format!("{target} is over capacity with this conversation"));
                }
                self.conn.execute(
                    "UPDATE conversations SET state = 'active', owner = ?2, transferred_from = COALESCE(owner, offered_to, transferred_from),
                         accepted_at = COALESCE(accepted_at, ?3), offered_to = NULL, offered_at = NULL, offer_expires_at = NULL,
                         affinity_to = NULL
                     WHERE id = ?1",
                    params![id, target, self.now],
                )?;
                self.conn.execute(
                    "DELETE FROM consultants WHERE conversation_id = ?1 AND user = ?2",
                    params![id, target],
                )?;
                self.remember_owner(&conv, &target)?;
                self.emit(id)?;
                self.refresh_owner(&conv)?;
                if let Some(offered) = &conv.offered_to {
                    self.refresh_agent(offered)?;
                }
                self.refresh_agent(&target)?;
            }
            Command::Consult(user) => {
                self.require_owner(&conv, actor, &[S::Active, S::Waiting, S::WrapUp])?;
                if Some(user.as_str()) == conv.owner.as_deref() {
                    return Err(EngineError::BadRequest(
                        "the owner cannot consult themselves".into(),
                    ));
                }
                if !self.user_exists(&user)? {
                    return Err(EngineError::NotFound("no such user".into()));
                }
                self.conn.execute(
                    "INSERT OR IGNORE INTO consultants (conversation_id, user, joined) VALUES (?1, ?2, 0)",
                    params![id, user],
                )?;
                self.emit(id)?;
            }
            Command::Join(user) => {
                self.require_owner(&conv, actor, &[S::Active, S::Waiting, S::WrapUp])?;
                let n = self.conn.execute(
                    "UPDATE consultants SET joined = 1 WHERE conversation_id = ?1 AND user = ?2",
                    params![id, user],
                )?;
                if n == 0 {
                    return Err(EngineError::NotFound("consult them first".into()));
                }
                self.emit(id)?;
            }
        }
        let snap = snapshot(self.conn, id)?
            .ok_or_else(|| EngineError::NotFound("no such conversation".into()))?;
        Ok((snap, warning))
    }

    fn require_owner(
        &self,
        conv: &Conv,
        actor: &Actor,
        states: &[ConversationState],
    ) -> Result<(), EngineError> {
        if !states.contains(&conv.state) {
            return Err(EngineError::Conflict(format!(
                "not possible while the conversation is {}",
                conv.state.as_str()
            )));
        }
        if conv.owner.as_deref() != Some(actor.user.as_str()) && !actor.supervises() {
            return Err(EngineError::Forbidden(
                "this conversation belongs to someone else".into(),
            ));
        }
        Ok(())
    }

    fn remember_owner(&self, conv: &Conv, owner: &str) -> Result<(), rusqlite::Error> {
        self.conn.execute(
            "INSERT INTO customers (channel_id, chat_id, last_owner) VALUES (?1, ?2, ?3)
             ON CONFLICT (channel_id, chat_id) DO UPDATE SET last_owner = ?3",
            params![conv.channel_id, conv.chat_id, owner],
        )?;
        Ok(())
    }

    fn refresh_owner(&mut self, conv: &Conv) -> Result<(), rusqlite::Error> {
        if let Some(owner) = &conv.owner {
            self.refresh_agent(owner)?;
        }
        Ok(())
    }

    fn decline(&mut self, conv: &Conv, user: &str) -> Result<(), rusqlite::Error> {
        self.conn.execute(
            "INSERT INTO declines (conversation_id, user, count) VALUES (?1, ?2, 1)
             ON CONFLICT (conversation_id, user) DO UPDATE SET count = count + 1",
            params![conv.id, user],
        )?;
        self.conn.execute(
            "UPDATE conversations SET offered_to = NULL, offered_at = NULL, offer_expires_at = NULL,
                 affinity_to = CASE WHEN affinity_to = ?2 THEN NULL ELSE affinity_to END
             WHERE id = ?1",
            params![conv.id, user],
        )?;
        self.emit(&conv.id)?;
        self.refresh_agent(user)
    }

    /// Closes a conversation: frees capacity, remembers affinity, says goodbye, asks the survey.
    fn close(&mut self, conv: &Conv, reason: &str) -> Result<(), rusqlite::Error> {
        let ws = self
            .settings
            .workstream(self.conn, &conv.channel_id)?
            .clone();
        let mut survey_state = None;
        let mut extra = Vec::new();
        // Surveys go to customers someone actually talked to.
        if conv.owner.is_some() {
            let lang = conv.language.as_deref();
            match &ws.survey {
                Survey::Off => {}
                Survey::Buttons {
                    question, scale, ..
                } => {
                    if let Some(q) = pick_language(question, lang, &ws.language) {
                        let items: Vec<Value> = scale
                            .iter()
                            .enumerate()
                            .map(|(i, label)| {
                                json!({"type": "action", "action": {
                                    "type": "postback", "label": label,
                                    "data": format!("{SURVEY_PREFIX}{}:{}", conv.id, i + 1),
                                    "displayText": label,
                                }})
                            })
                            .collect();
                        let mut m = Message::text(q);
                        m.quick_reply = Some(json!({ "items": items }));
                        extra.push(m);
                        survey_state = Some("asked");
                    }
                }
                Survey::Link { text, url } => {
                    if let Some(t) = pick_language(text, lang, &ws.language) {
                        extra.push(Message::text(t.replace("{Url}", url)));
                        survey_state = Some("done");
                    }
                }
            }
        }
        self.conn.execute(
            "UPDATE conversations SET state = 'closed', closed_at = ?2, close_reason = ?3, survey_state = ?4,
                 offered_to = NULL, offered_at = NULL, offer_expires_at = NULL
             WHERE id = ?1",
            params![conv.id, self.now, reason, survey_state],
        )?;
        if let Some(owner) = &conv.owner {
            self.conn.execute(
                "INSERT INTO customers (channel_id, chat_id, last_owner, last_closed_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (channel_id, chat_id) DO UPDATE SET last_owner = ?3, last_closed_at = ?4",
                params![conv.channel_id, conv.chat_id, owner, self.now],
            )?;
        }
        self.emit(&conv.id)?;
        self.refresh_owner(conv)?;
        if let Some(offered) = &conv.offered_to {
            self.refresh_agent(offered)?;
        }
        self.automated(&conv.id, &[Trigger::Closed], extra)
    }

    // ----- presence ----------------------------------------------------------------------

    /// The representative chooses a presence.
    pub fn set_presence(
        &mut self,
        user: &str,
        chosen: Presence,
    ) -> Result<AgentSnapshot, EngineError> {
        if matches!(chosen, Presence::Inactive) {
            return Err(EngineError::BadRequest(
                "inactive is set by the relay, not chosen".into(),
            ));
        }
        self.ensure_agent(user)?;
        self.conn.execute(
            "UPDATE agents SET chosen = ?2, updated_at = ?3 WHERE user = ?1",
            params![user, chosen.as_str(), self.now],
        )?;
        if !matches!(chosen, Presence::Available | Presence::Busy) {
            self.withdraw_offers(user)?;
        }
        self.refresh_agent(user)?;
        self.agent(user)?
            .ok_or_else(|| EngineError::NotFound("no such user".into()))
    }

    /// A console of `user` connected (`true`) or its last one went away (`false`).
    pub fn connection(&mut self, user: &str, connected: bool) -> Result<(), rusqlite::Error> {
        self.ensure_agent(user)?;
        // Worth a snapshot (supervisors watch who is reachable) when it changes for someone
        // who takes work; an admin's console coming and going is not news.
        let (was_connected, takes_part): (bool, bool) = self.conn.query_row(
            "SELECT disconnected_at IS NULL, chosen != 'offline' FROM agents WHERE user = ?1",
            [user],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if connected {
            self.conn.execute(
                "UPDATE agents SET disconnected_at = NULL, gone = 0 WHERE user = ?1",
                [user],
            )?;
        } else {
            self.conn.execute(
                "UPDATE agents SET disconnected_at = ?2 WHERE user = ?1",
                params![user, self.now],
            )?;
            self.withdraw_offers(user)?;
        }
        self.refresh_agent_noting(user, takes_part && was_connected != connected)
    }

    /// Takes back the offer of a representative who can no longer answer it (chose away or
    /// offline, or their console went away): the customer goes back to the queue at once
    /// instead of waiting out the countdown. Not counted as a decline.
    fn withdraw_offers(&mut self, user: &str) -> Result<(), rusqlite::Error> {
        let offered: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT id FROM conversations INDEXED BY conversations_by_offer
                 WHERE offered_to = ?1 AND offered_to IS NOT NULL AND state = 'open'",
            )?
            .query_map([user], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in offered {
            self.conn.execute(
                "UPDATE conversations SET offered_to = NULL, offered_at = NULL, offer_expires_at = NULL
                 WHERE id = ?1",
                [&id],
            )?;
            self.emit(&id)?;
        }
        Ok(())
    }

    /// Sets a representative's capacity in units.
    pub fn set_capacity(
        &mut self,
        user: &str,
        capacity: u32,
    ) -> Result<AgentSnapshot, EngineError> {
        if !self.user_exists(user)? {
            return Err(EngineError::NotFound("no such user".into()));
        }
        self.ensure_agent(user)?;
        self.conn.execute(
            "UPDATE agents SET capacity = ?2 WHERE user = ?1",
            params![user, capacity],
        )?;
        self.refresh_agent(user)?;
        self.agent(user)?
            .ok_or_else(|| EngineError::NotFound("no such user".into()))
    }

    fn user_exists(&self, user: &str) -> Result<bool, rusqlite::Error> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM users WHERE name = ?1")?
            .query_row([user], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn ensure_agent(&self, user: &str) -> Result<(), rusqlite::Error> {
        self.conn.execute(
            "INSERT OR IGNORE INTO agents (user, updated_at) VALUES (?1, ?2)",
            params![user, self.now],
        )?;
        Ok(())
    }

    fn agent(&self, user: &str) -> Result<Option<AgentSnapshot>, rusqlite::Error> {
        self.conn
            .prepare_cached("SELECT user, presence, chosen, capacity, disconnected_at IS NULL FROM agents WHERE user = ?1")?
            .query_row([user], |r| {
                Ok(AgentSnapshot {
                    user: r.get(0)?,
                    presence: Presence::parse(&r.get::<_, String>(1)?).unwrap_or(Presence::Offline),
                    chosen: Presence::parse(&r.get::<_, String>(2)?).unwrap_or(Presence::Offline),
                    capacity: r.get(3)?,
                    used: 0,
                    connected: r.get(4)?,
                })
            })
            .optional()?
            .map(|mut a| {
                a.used = self.used(user)?;
                Ok(a)
            })
            .transpose()
    }

    fn used(&self, user: &str) -> Result<u32, rusqlite::Error> {
        // Two indexed lookups (an OR would make SQLite scan by state).
        self.conn
            .prepare_cached(
                "SELECT (SELECT COALESCE(SUM(units), 0) FROM conversations INDEXED BY conversations_by_owner
                         WHERE owner = ?1 AND state != 'closed'
                           AND (state = 'active' OR (state = 'wrap_up' AND (wrapup_until IS NULL OR wrapup_until > ?2))))
                      + (SELECT COALESCE(SUM(units), 0) FROM conversations INDEXED BY conversations_by_offer
                         WHERE offered_to = ?1 AND offered_to IS NOT NULL AND state = 'open')",
            )?
            .query_row(params![user, self.now], |r| r.get(0))
    }

    fn holds_work(&self, user: &str) -> Result<bool, rusqlite::Error> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM conversations WHERE owner = ?1 AND state IN ('active', 'waiting', 'wrap_up') LIMIT 1")?
            .query_row([user], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Recomputes a representative's effective presence from choice, load and connection;
    /// logs a snapshot when it changed.
    fn refresh_agent(&mut self, user: &str) -> Result<(), rusqlite::Error> {
        self.refresh_agent_noting(user, false)
    }

    /// [`Tx::refresh_agent`]; `connection_changed` logs a snapshot even when presence and load
    /// stayed the same.
    fn refresh_agent_noting(
        &mut self,
        user: &str,
        connection_changed: bool,
    ) -> Result<(), rusqlite::Error> {
        type Row = (String, String, u32, bool, u32, bool);
        let row: Option<Row> = self
            .conn
            .prepare_cached(
                "SELECT presence, chosen, capacity, gone, used, disconnected_at IS NULL
                 FROM agents WHERE user = ?1",
            )?
            .query_row([user], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .optional()?;
        let Some((old, chosen, capacity, gone, old_used, connected)) = row else {
            return Ok(());
        };
        let chosen = Presence::parse(&chosen).unwrap_or(Presence::Offline);
        let used = self.used(user)?;
        let presence = if gone {
            if self.holds_work(user)? {
                Presence::Inactive
            } else {
                Presence::Offline
            }
        } else {
            match chosen {
                Presence::Available if used >= capacity => Presence::DoNotDisturb,
                Presence::Available if used > 0 => Presence::Busy,
                Presence::Busy if used >= capacity => Presence::DoNotDisturb,
                other => other,
            }
        };
        if presence.as_str() == old && used == old_used && !connection_changed {
            return Ok(());
        }
        self.conn.execute(
            "UPDATE agents SET presence = ?2, used = ?3, updated_at = ?4 WHERE user = ?1",
            params![user, presence.as_str(), used, self.now],
        )?;
        let snap = AgentSnapshot {
            user: user.to_owned(),
            presence,
            chosen,
            capacity,
            used,
            connected,
        };
        let id = format!("agent:{user}:{}", uuid::Uuid::new_v4());
        let event = json!({
            "type": AGENT_EVENT, "timestamp": self.now, "mode": "active",
            "webhookEventId": id, "agent": snap,
        });
        self.append("", AGENT_EVENT, Some(id), event)
    }

    fn anyone_available(&self, queue: &Queue) -> Result<bool, rusqlite::Error> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.user FROM agents a JOIN users u ON u.name = a.user
             WHERE a.presence IN ('available', 'busy')",
        )?;
        let users: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(users
            .iter()
            .any(|u| queue.members.is_empty() || queue.members.contains(u)))
    }

    fn is_member(&self, queue: &Queue, user: &str) -> Result<bool, rusqlite::Error> {
        if !queue.members.is_empty() {
            return Ok(queue.members.iter().any(|m| m == user));
        }
        let role: Option<String> = self
            .conn
            .prepare_cached("SELECT role FROM users WHERE name = ?1")?
            .query_row([user], |r| r.get(0))
            .optional()?;
        // Everyone who has an account may take work: presence is the opt-in.
        Ok(role.is_some())
    }

    // ----- time --------------------------------------------------------------------------

    /// Lapsed offers become declines, short disconnects that lasted become Offline,
    /// blocking wrap-ups end, idle conversations auto-close; then work is handed out.
    pub fn tick(&mut self) -> Result<usize, rusqlite::Error> {
        let lapsed: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT id FROM conversations WHERE state = 'open' AND offer_expires_at <= ?1",
            )?
            .query_map([self.now], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in lapsed {
            if let Some(conv) = self.conv(&id)? {
                if let Some(user) = conv.offered_to.clone() {
                    self.decline(&conv, &user)?;
                }
            }
        }
        let gone: Vec<String> = self
            .conn
            .prepare_cached("SELECT user FROM agents WHERE gone = 0 AND disconnected_at IS NOT NULL AND disconnected_at <= ?1")?
            .query_map([self.now - GRACE_MS], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for user in &gone {
            self.conn
                .execute("UPDATE agents SET gone = 1 WHERE user = ?1", [user])?;
        }
        // Recompute everyone who takes part: wrap-up durations end with time alone.
        let agents: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT user FROM agents WHERE chosen != 'offline' OR presence != 'offline'",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for user in agents {
            self.refresh_agent(&user)?;
        }
        self.auto_close()?;
        self.distribute()
    }

    fn auto_close(&mut self) -> Result<(), rusqlite::Error> {
        let channels: Vec<String> = self
            .conn
            .prepare_cached("SELECT DISTINCT channel_id FROM conversations WHERE state IN ('active', 'waiting', 'wrap_up')")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for channel in channels {
            let Some(after) = self
                .settings
                .workstream(self.conn, &channel)?
                .auto_close_after_ms
            else {
                continue;
            };
            let idle: Vec<Conv> = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {CONV_COLUMNS} FROM conversations WHERE channel_id = ?1
                         AND state IN ('active', 'waiting', 'wrap_up') AND last_activity_at <= ?2"
                ))?
                .query_map(params![channel, self.now - after], conv_from_row)?
                .collect::<Result<_, _>>()?;
            for conv in idle {
                self.close(&conv, "auto_close")?;
            }
        }
        Ok(())
    }

    /// Hands Open conversations of push workstreams to representatives: affinity items
    /// first, then higher-priority queues, then longest waiting (by last customer message).
    /// One offer per representative at a time, and none to a representative whose console
    /// went away (through the grace they keep their presence and work, but get nothing new).
    /// Returns how many offers were made.
    pub fn distribute(&mut self) -> Result<usize, rusqlite::Error> {
        let mut pool: HashMap<String, PoolAgent> = HashMap::new();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT a.user, a.capacity, a.last_offer_at, u.role,
                     EXISTS (SELECT 1 FROM conversations c INDEXED BY conversations_by_offer
                             WHERE c.offered_to = a.user AND c.offered_to IS NOT NULL AND c.state = 'open')
                 FROM agents a JOIN users u ON u.name = a.user
                 WHERE a.presence IN ('available', 'busy') AND a.disconnected_at IS NULL",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, u32>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, bool>(4)?,
                ))
            })?;
            for row in rows {
                let (user, capacity, last_offer_at, role, offering) = row?;
                if offering {
                    continue;
                }
                let used = self.used(&user)?;
                if used < capacity {
                    pool.insert(
                        user,
                        PoolAgent {
                            role_ok: !role.is_empty(),
                            free: capacity - used,
                            last_offer_at,
                        },
                    );
                }
            }
        }
        pool.retain(|_, a| a.role_ok);
        if pool.is_empty() {
            return Ok(0);
        }
        struct Item {
            id: String,
            channel: String,
            queue: String,
            affinity_to: Option<String>,
            units: u32,
        }
        // Walk the queue in its order (affinity items, then queue priority, then longest
        // waiting by last customer message) from the index, a page at a time, and stop as
        // soon as nobody is left to offer to. Offered items leave the set; skipped ones stay,
        // so the next page starts after the skipped ones.
        const PAGE: i64 = 512;
        let mut skipped: i64 = 0;
        let mut open_queues: HashMap<String, bool> = HashMap::new();
        let mut made = 0;
        'pages: loop {
            let page: Vec<Item> = self
                .conn
                .prepare_cached(
                    "SELECT id, channel_id, queue_id, affinity_to, units
                     FROM conversations INDEXED BY conversations_queue_order
                     WHERE state = 'open' AND offered_to IS NULL
                     ORDER BY (affinity_to IS NOT NULL) DESC, priority DESC, last_customer_at, id
                     LIMIT ?1 OFFSET ?2",
                )?
                .query_map(params![PAGE, skipped], |r| {
                    Ok(Item {
                        id: r.get(0)?,
                        channel: r.get(1)?,
                        queue: r.get(2)?,
                        affinity_to: r.get(3)?,
                        units: r.get(4)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            let full_page = page.len() as i64 == PAGE;
            for item in page {
                if pool.is_empty() {
                    break 'pages;
                }
                if self.offer_one(
                    &mut pool,
                    &mut open_queues,
                    &item.id,
                    &item.channel,
                    &item.queue,
                    item.affinity_to.as_deref(),
                    item.units,
                )? {
                    made += 1;
                } else {
                    skipped += 1;
                }
            }
            if !full_page {
                break;
            }
        }
        Ok(made)
    }

    /// Offers one queued item to the best eligible representative in `pool`, if any.
    #[allow(clippy::too_many_arguments)]
    fn offer_one(
        &mut self,
        pool: &mut HashMap<String, PoolAgent>,
        open_queues: &mut HashMap<String, bool>,
        id: &str,
        channel: &str,
        queue_id: &str,
        affinity_to: Option<&str>,
        units: u32,
    ) -> Result<bool, rusqlite::Error> {
        if !open_queues.contains_key(queue_id) {
            let q = self.settings.queue(self.conn, queue_id)?;
            let open = q
                .hours
                .as_ref()
                .is_none_or(|h| hours::status(h, self.now) == Status::Open);
            open_queues.insert(queue_id.to_owned(), open);
        }
        if !open_queues[queue_id] {
            return Ok(false); // outside operating hours: offered when they start
        }
        let item_units = units;
        {
            let ws = self.settings.workstream(self.conn, channel)?.clone();
            if ws.mode != DistributionMode::Push {
                return Ok(false);
            }
            let queue = self.settings.queue(self.conn, queue_id)?.clone();
            let declined: HashMap<String, u32> = self
                .conn
                .prepare_cached("SELECT user, count FROM declines WHERE conversation_id = ?1")?
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let eligible = |user: &str, a: &PoolAgent| {
                a.free >= item_units
                    && declined.get(user).copied().unwrap_or(0) < ws.decline_limit
                    && (queue.members.is_empty() || queue.members.iter().any(|m| m == user))
            };
            let chosen = affinity_to
                .filter(|u| pool.get(*u).is_some_and(|a| eligible(u, a)))
                .map(str::to_owned)
                .or_else(|| {
                    pool.iter()
                        .filter(|(u, a)| eligible(u, a))
                        .max_by(|(ua, a), (ub, b)| {
                            a.free
                                .cmp(&b.free)
                                .then(b.last_offer_at.cmp(&a.last_offer_at))
                                .then(ub.cmp(ua))
                        })
                        .map(|(u, _)| u.clone())
                });
            let Some(user) = chosen else { return Ok(false) };
            pool.remove(&user);
            self.conn.execute(
                "UPDATE conversations SET offered_to = ?2, offered_at = ?3, offer_expires_at = ?4 WHERE id = ?1",
                params![id, user, self.now, self.now + ws.offer_timeout_ms],
            )?;
            self.conn.execute(
                "UPDATE agents SET last_offer_at = ?2 WHERE user = ?1",
                params![user, self.now],
            )?;
            self.emit(id)?;
            self.refresh_agent(&user)?;
        }
        Ok(true)
    }

    // ----- output ------------------------------------------------------------------------

    fn append(
        &self,
        channel: &str,
        kind: &str,
        id: Option<String>,
        body: Value,
    ) -> Result<(), rusqlite::Error> {
        events::append(
            self.conn,
            channel,
            &[NewEvent {
                webhook_event_id: id,
                event_type: kind.into(),
                event_ts: self.now,
                body: body.to_string(),
            }],
            self.now,
        )?;
        Ok(())
    }

    /// Bumps the version and logs the conversation's snapshot.
    fn emit(&mut self, id: &str) -> Result<(), rusqlite::Error> {
        self.conn.execute(
            "UPDATE conversations SET version = version + 1 WHERE id = ?1",
            [id],
        )?;
        let Some(snap) = snapshot(self.conn, id)? else {
            return Ok(());
        };
        let event_id = format!("conv:{}:{}", snap.id, snap.version);
        let source = if snap.chat_id.starts_with('C') {
            json!({"type": "group", "groupId": snap.chat_id})
        } else if snap.chat_id.starts_with('R') {
            json!({"type": "room", "roomId": snap.chat_id})
        } else {
            json!({"type": "user", "userId": snap.chat_id})
        };
        let event = json!({
            "type": CONVERSATION_EVENT, "timestamp": self.now, "mode": "active",
            "source": source, "webhookEventId": event_id, "conversation": snap,
        });
        let channel = snap.channel_id.clone();
        self.append(&channel, CONVERSATION_EVENT, Some(event_id), event)
    }

    /// Queues the automated messages for `triggers` (each skipped when it was also the last
    /// one sent in this conversation, or has no text), plus `extra`, in one send.
    fn automated(
        &mut self,
        id: &str,
        triggers: &[Trigger],
        extra: Vec<Message>,
    ) -> Result<(), rusqlite::Error> {
        let Some(conv) = self.conv(id)? else {
            return Ok(());
        };
        let ws = self
            .settings
            .workstream(self.conn, &conv.channel_id)?
            .clone();
        let queue_name = self.settings.queue(self.conn, &conv.queue_id)?.name.clone();
        let (_, customer_name) = self.profile(&conv.channel_id, &conv.chat_id)?;
        let mut messages = Vec::new();
        let mut last = conv.last_trigger.clone();
        for trigger in triggers {
            let name = trigger_name(*trigger);
            if last.as_deref() == Some(name) {
                continue;
            }
            let Some(texts) = ws.messages.get(trigger) else {
                continue;
            };
            let Some(text) = pick_language(texts, conv.language.as_deref(), &ws.language) else {
                continue;
            };
            let text = text
                .replace("{AgentName}", conv.owner.as_deref().unwrap_or(""))
                .replace("{QueueName}", &queue_name)
                .replace("{CustomerName}", customer_name.as_deref().unwrap_or(""));
            messages.push(Message::text(text));
            last = Some(name.to_owned());
        }
        if last != conv.last_trigger {
            self.conn.execute(
                "UPDATE conversations SET last_trigger = ?2 WHERE id = ?1",
                params![id, last],
            )?;
        }
        messages.extend(extra);
        if messages.is_empty() {
            return Ok(());
        }
        let label = triggers
            .first()
            .map(|t| trigger_name(*t))
            .unwrap_or("automated");
        self.queue_messages(&conv, label, messages)
    }

    fn queue_messages(
        &mut self,
        conv: &Conv,
        trigger: &str,
        mut messages: Vec<Message>,
    ) -> Result<(), rusqlite::Error> {
        messages.truncate(linedesk_line::send::MESSAGES_PER_REQUEST);
        let token = match (&conv.reply_token, conv.reply_token_at) {
            (Some(t), Some(at)) if self.now - at < REPLY_TOKEN_FRESH_MS => Some((t.clone(), at)),
            _ => None,
        };
        if token.is_some() {
            // Spent by this send; a representative's reply must push.
            self.conn.execute(
                "UPDATE conversations SET reply_token = NULL WHERE id = ?1",
                [&conv.id],
            )?;
        }
        self.conn.execute(
            "INSERT INTO automated (id, conversation_id, channel_id, chat_id, trigger, messages, reply_token, reply_token_at,
                 state, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9)",
            params![
                uuid::Uuid::new_v4().to_string(),
                conv.id,
                conv.channel_id,
                conv.chat_id,
                trigger,
                serde_json::to_string(&messages).unwrap_or_else(|_| "[]".into()),
                token.as_ref().map(|t| &t.0),
                token.as_ref().map(|t| t.1),
                self.now
            ],
        )?;
        self.queued_automated = true;
        Ok(())
    }
}

/// A representative who may receive an offer in this distribution pass.
pub struct PoolAgent {
    role_ok: bool,
    free: u32,
    last_offer_at: i64,
}

/// The stored name of a trigger.
pub fn trigger_name(t: Trigger) -> &'static str {
    match t {
        Trigger::Greeting => "greeting",
        Trigger::Assigned => "assigned",
        Trigger::NoAgent => "no_agent",
        Trigger::Ended => "ended",
        Trigger::OutOfHours => "out_of_hours",
        Trigger::Holiday => "holiday",
        Trigger::Closed => "closed",
        Trigger::AttachmentBlocked => "attachment_blocked",
        Trigger::SurveyThanks => "survey_thanks",
    }
}

/// The text for a language: exact, then same base language, then the workstream's, then
/// English, then any.
pub fn pick_language<'t>(
    texts: &'t std::collections::BTreeMap<String, String>,
    lang: Option<&str>,
    fallback: &str,
) -> Option<&'t str> {
    let base = |l: &str| l.split('-').next().unwrap_or(l).to_ascii_lowercase();
    let find = |want: &str| {
        texts.get(want).or_else(|| {
            texts
                .iter()
                .find(|(k, _)| base(k) == base(want))
                .map(|(_, v)| v)
        })
    };
    lang.and_then(find)
        .or_else(|| find(fallback))
        .or_else(|| find("en"))
        .or_else(|| texts.values().next())
        .map(String::as_str)
        .filter(|t| !t.trim().is_empty())
}

/// The snapshot of one conversation as it is now.
pub fn snapshot(
    conn: &Connection,
    id: &str,
) -> Result<Option<ConversationSnapshot>, rusqlite::Error> {
    let row = conn
        .prepare_cached(
            "SELECT c.id, c.version, c.channel_id, c.chat_id, c.state, c.queue_id, c.owner, c.offered_to, c.offered_at,
                 c.offer_expires_at, c.first_text, c.language, c.opened_at, c.last_customer_at, c.accepted_at,
                 c.ended_at, c.closed_at, c.close_reason, c.transferred_from, s.rating, s.comment, w.config, q.config
             FROM conversations c
             LEFT JOIN survey_answers s ON s.conversation_id = c.id
             LEFT JOIN workstreams w ON w.channel_id = c.channel_id
             LEFT JOIN queues q ON q.id = c.queue_id
             WHERE c.id = ?1",
        )?
        .query_row([id], |r| {
            let offered_to: Option<String> = r.get(7)?;
            let offer = match (offered_to, r.get::<_, Option<i64>>(8)?, r.get::<_, Option<i64>>(9)?) {
                (Some(to), Some(offered_at), Some(expires_at)) => Some(Offer { to, offered_at, expires_at }),
                _ => None,
            };
            let rating: Option<u8> = r.get(19)?;
            let comment: Option<String> = r.get(20)?;
            let ws: Workstream = r
                .get::<_, Option<String>>(21)?
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default();
            let queue_id: String = r.get(5)?;
            let queue_name = r
                .get::<_, Option<String>>(22)?
                .and_then(|t| serde_json::from_str::<Queue>(&t).ok())
                .map(|q| q.name)
                .unwrap_or_else(|| if queue_id == DEFAULT_QUEUE { "General".into() } else { queue_id.clone() });
            Ok(ConversationSnapshot {
                id: r.get(0)?,
                version: r.get::<_, i64>(1)? as u64,
                channel_id: r.get(2)?,
                chat_id: r.get(3)?,
                state: ConversationState::parse(&r.get::<_, String>(4)?).unwrap_or(ConversationState::Closed),
                queue_id,
                queue_name,
                mode: ws.mode,
                owner: r.get(6)?,
                offer,
                first_text: r.get(10)?,
                language: r.get(11)?,
                opened_at: r.get(12)?,
                last_customer_at: r.get(13)?,
                accepted_at: r.get(14)?,
                ended_at: r.get(15)?,
                closed_at: r.get(16)?,
                close_reason: r.get(17)?,
                transferred_from: r.get(18)?,
                consultants: Vec::new(),
                survey: (rating.is_some() || comment.is_some()).then_some(SurveyAnswer { rating, comment }),
                contact: None,
                flag: None,
                consent: None,
            })
        })
        .optional()?;
    let Some(mut snap) = row else { return Ok(None) };
    (snap.contact, snap.flag) =
        crate::identity::store::brief(conn, &snap.channel_id, &snap.chat_id)?;
    snap.consent = crate::identity::store::consent(conn, &snap.channel_id, &snap.chat_id)?;
    snap.consultants = conn
        .prepare_cached(
            "SELECT user, joined FROM consultants WHERE conversation_id = ?1 ORDER BY user",
        )?
        .query_map([id], |r| {
            Ok(Consultant {
                user: r.get(0)?,
                joined: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(snap))
}

/// Every representative's snapshot.
pub fn agents(conn: &Connection, now: i64) -> Result<Vec<AgentSnapshot>, rusqlite::Error> {
    let tx = Tx::new(conn, now);
    let users: Vec<String> = conn
        .prepare_cached("SELECT user FROM agents ORDER BY user")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    users
        .iter()
        .filter_map(|u| tx.agent(u).transpose())
        .collect()
}
