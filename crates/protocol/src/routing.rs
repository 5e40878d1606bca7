//! Work distribution as consoles see it: conversation and agent snapshots the relay writes
//! into the log (`linedeskConversation`, `linedeskAgent` events), and the bodies of the
//! routing commands (`POST /api/presence`, `POST /api/conversations/{id}/{action}`).
//!
//! Every change of a conversation is logged as a whole snapshot with a higher `version`, so a
//! console only keeps the latest one and never has to replay a diff.

use serde::{Deserialize, Serialize};

/// Type of the log event carrying a [`ConversationSnapshot`] under `conversation`.
pub const CONVERSATION_EVENT: &str = "linedeskConversation";
/// Type of the log event carrying an [`AgentSnapshot`] under `agent`.
pub const AGENT_EVENT: &str = "linedeskAgent";
/// The relay answers by reply (free) only with a token younger than this (LINE's limit is
/// about a minute); consoles count the free window down from the token's arrival.
pub const REPLY_TOKEN_FRESH_MS: i64 = 50_000;

/// Where a conversation is in its life.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationState {
    /// Waiting in a queue (offered, or listed in pick mode).
    Open,
    /// A representative has it.
    Active,
    /// Set aside by its representative; capacity freed until the customer writes again.
    Waiting,
    /// Ended; the representative is finishing notes.
    WrapUp,
    /// Done. Never reopens; a new message starts a new conversation.
    Closed,
}

impl ConversationState {
    /// The snake_case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Active => "active",
            Self::Waiting => "waiting",
            Self::WrapUp => "wrap_up",
            Self::Closed => "closed",
        }
    }

    /// Parses [`ConversationState::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "open" => Self::Open,
            "active" => Self::Active,
            "waiting" => Self::Waiting,
            "wrap_up" => Self::WrapUp,
            "closed" => Self::Closed,
            _ => return None,
        })
    }
}

/// A representative's availability.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Takes offers.
    Available,
    /// Takes offers; has some work.
    Busy,
    /// Takes no offers (chosen, or capacity full).
    DoNotDisturb,
    /// Away from the desk; no offers.
    Away,
    /// Signed out or gone; no offers.
    Offline,
    /// Disconnected while holding conversations; no offers.
    Inactive,
}

impl Presence {
    /// The snake_case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Busy => "busy",
            Self::DoNotDisturb => "do_not_disturb",
            Self::Away => "away",
            Self::Offline => "offline",
            Self::Inactive => "inactive",
        }
    }

    /// Parses [`Presence::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "available" => Self::Available,
            "busy" => Self::Busy,
            "do_not_disturb" => Self::DoNotDisturb,
            "away" => Self::Away,
            "offline" => Self::Offline,
            "inactive" => Self::Inactive,
            _ => return None,
        })
    }

    /// Whether the relay may offer work to someone in this presence.
    pub fn takes_offers(self) -> bool {
        matches!(self, Self::Available | Self::Busy)
    }
}

/// How a workstream hands out work.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DistributionMode {
    /// The relay offers each item to one representative at a time.
    #[default]
    Push,
    /// Items wait in a queue list; the first representative to take one gets it.
    Pick,
}

/// A pending push offer.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    /// The representative it is offered to.
    pub to: String,
    /// When it was made, UTC ms.
    pub offered_at: i64,
    /// When it lapses (counts as a decline), UTC ms.
    pub expires_at: i64,
}

/// Someone consulted on a conversation.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Consultant {
    /// User name.
    pub user: String,
    /// Added by the owner: may write to the customer. Until then a read-only view.
    pub joined: bool,
}

/// A stored survey answer.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SurveyAnswer {
    /// The rating the customer tapped.
    pub rating: Option<u8>,
    /// Their comment, if they wrote one.
    pub comment: Option<String>,
}

/// One conversation as the relay last decided it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSnapshot {
    /// Relay-wide conversation ID.
    pub id: String,
    /// Increases with every change.
    pub version: u64,
    /// LINE channel.
    pub channel_id: String,
    /// LINE chat (user, group or room ID).
    pub chat_id: String,
    /// State.
    pub state: ConversationState,
    /// Queue it sits in (or came from).
    pub queue_id: String,
    /// Queue's display name.
    pub queue_name: String,
    /// Push or pick.
    pub mode: DistributionMode,
    /// Representative who has it (Active, Waiting, Wrap-up, Closed).
    pub owner: Option<String>,
    /// The pending offer, in push mode.
    pub offer: Option<Offer>,
    /// The customer's first text, for the request card.
    pub first_text: Option<String>,
    /// The customer's language, when LINE told it.
    pub language: Option<String>,
    /// Opened, UTC ms.
    pub opened_at: i64,
    /// Last customer message, UTC ms (queue order).
    pub last_customer_at: i64,
    /// Accepted, UTC ms.
    pub accepted_at: Option<i64>,
    /// Ended (into wrap-up), UTC ms.
    pub ended_at: Option<i64>,
    /// Closed, UTC ms.
    pub closed_at: Option<i64>,
    /// Why it closed: `agent`, `auto_close`, `channel_deleted`.
    pub close_reason: Option<String>,
    /// The previous owner, after a transfer.
    pub transferred_from: Option<String>,
    /// Consultants.
    pub consultants: Vec<Consultant>,
    /// The survey answer, once given.
    pub survey: Option<SurveyAnswer>,
    /// The survey went out when it closed (a question, or a link).
    #[serde(default)]
    pub survey_asked: bool,
    /// The contact the customer's LINE profile is linked to.
    #[serde(default)]
    pub contact: Option<crate::identity::ContactBrief>,
    /// Needs a supervisor: `ambiguous_contact` (the profile is linked to two contacts).
    #[serde(default)]
    pub flag: Option<String>,
    /// The customer's privacy consent, when the channel asks for it.
    #[serde(default)]
    pub consent: Option<crate::identity::ConsentState>,
}

/// `POST /api/conversations/{id}/later`: a text the relay sends by push at `at`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaterRequest {
    /// The text: 1 to 5,000 UTF-16 units.
    pub text: String,
    /// When to send it, UTC ms: in the future, at most [`LATER_MAX_MS`] ahead.
    pub at: i64,
}

/// How far ahead a message may be sent later: 30 days.
pub const LATER_MAX_MS: i64 = 30 * 24 * 3_600_000;

/// A "send later" message waiting for its time.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaterMessage {
    /// Its id (the push's retry key).
    pub id: String,
    /// When it goes, UTC ms.
    pub at: i64,
    /// The text.
    pub text: String,
    /// Who wrote it.
    pub sent_by: Option<String>,
}

/// `POST /api/conversations/{id}/later-cancel`: a waiting message no longer goes.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaterCancel {
    /// Which.
    pub id: String,
}

/// The answer to a typing or read signal (`POST /api/conversations/{id}/typing|read`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignalAnswer {
    /// LINE was told (false: a group chat, too soon after the last, nothing to mark, or the
    /// channel does not let a bot mark messages read).
    pub sent: bool,
}

/// A representative's presence and load.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentSnapshot {
    /// User name.
    pub user: String,
    /// Effective presence (what routing uses).
    pub presence: Presence,
    /// What the representative chose.
    pub chosen: Presence,
    /// Capacity units in all.
    pub capacity: u32,
    /// Units in use (active work, offers, blocking wrap-ups).
    pub used: u32,
    /// Whether a console of theirs is connected. Without one they keep their presence and
    /// work for a minute's grace (a network blip, a relay restart), but are offered nothing.
    #[serde(default = "connected_by_default")]
    pub connected: bool,
    /// Since when the effective presence is what it is, UTC ms (0: not known).
    #[serde(default)]
    pub since: i64,
}

fn connected_by_default() -> bool {
    true
}

/// `POST /api/presence` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceRequest {
    /// The presence the representative chooses.
    pub presence: Presence,
}

/// `POST /api/conversations/{id}/transfer` body: exactly one of the two.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferRequest {
    /// Hand it to this representative.
    #[serde(default)]
    pub to_user: Option<String>,
    /// Put it back in this queue.
    #[serde(default)]
    pub to_queue: Option<String>,
}

/// `POST /api/conversations/{id}/consult` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultRequest {
    /// Whom to consult.
    pub user: String,
}

/// `POST /api/conversations/{id}/close` body: a supervisor closing someone else's
/// conversation says why (kept in the audit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseRequest {
    /// Why, 1 to 500 characters; only for a forced close.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /api/conversations/{id}/assign` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignRequest {
    /// The representative who gets it.
    pub to_user: String,
}

/// `POST /api/conversations/{id}/note` (and `/whisper`) body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteRequest {
    /// The note, 1 to 5,000 characters; never sent to LINE.
    pub text: String,
}

/// An internal note in a conversation (log event `linedeskNote`): visible to whoever sees the
/// conversation, never sent to LINE. A whisper is a supervisor's note to the owner.
pub const NOTE_EVENT: &str = "linedeskNote";

/// A conversation waited in its queue past the queue's service-level target without being
/// accepted (log event `linedeskBreach`, once per conversation): `conversationId`, `queueId`,
/// `queueName`, `openedAt`, `targetMs`.
pub const BREACH_EVENT: &str = "linedeskBreach";

/// A reminder came due (log event `linedeskReminder`, once per reminder): `conversationId`,
/// `reminderId`, `user` (whom it reminds), `note`, `dueAt`.
pub const REMINDER_EVENT: &str = "linedeskReminder";

/// How far ahead a reminder may be set: 30 days.
pub const REMINDER_MAX_MS: i64 = 30 * 24 * 3_600_000;
/// Longest reminder note, in characters.
pub const REMINDER_NOTE_MAX: usize = 500;

/// "Remind me": a conversation set aside until a time, when the relay reminds its owner
/// (`POST /api/conversations/{id}/remind`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReminderRequest {
    /// When, UTC ms: in the future, at most [`REMINDER_MAX_MS`] ahead.
    pub at: i64,
    /// What to do then, at most [`REMINDER_NOTE_MAX`] characters (may be empty).
    #[serde(default)]
    pub note: String,
}

/// A reminder waiting for its time.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reminder {
    /// Its id.
    pub id: String,
    /// The relay conversation.
    pub conversation_id: String,
    /// The chat (the console's conversation).
    pub chat_id: String,
    /// When, UTC ms.
    pub at: i64,
    /// What to do then.
    pub note: String,
}

/// Collision: what a console says while a conversation is open
/// (`POST /api/conversations/{id}/viewing`, every few seconds, and at once when typing starts).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewingRequest {
    /// The user is typing in it (the composer or the note box).
    #[serde(default)]
    pub typing: bool,
}

/// Someone else who has the conversation open, as the relay last heard.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Viewer {
    /// Who.
    pub user: String,
    /// Typing in it now.
    pub typing: bool,
}

/// A console that has said nothing for this long no longer has the conversation open.
pub const VIEWING_FOR_MS: i64 = 30_000;
/// Typing said this long ago is over.
pub const TYPING_FOR_MS: i64 = 8_000;

/// Answer to a routing command.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandAnswer {
    /// The conversation after the command.
    pub conversation: ConversationSnapshot,
    /// Something the caller should know (e.g. the target queue has nobody available).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<Warning>,
}

/// What a routing command that worked needs to tell the caller; the console words it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Warning {
    /// Nobody in the queue is available now; the conversation waits in it.
    NobodyAvailable {
        /// The queue's name.
        queue: String,
    },
    /// The representative is over capacity with this conversation.
    OverCapacity {
        /// Who.
        user: String,
    },
}
