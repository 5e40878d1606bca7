//! `linedesk-protocol`: what consoles and the relay say to each other. No I/O.
//!
//! - HTTP: [`LoginRequest`] → [`LoginResponse`] at `POST /api/login`; media at
//!   `GET /api/media/{channel}/{message_id}` with `Authorization: Bearer {session token}`.
//! - Websocket at `GET /api/ws`: JSON text frames, [`ClientFrame`] up, [`ServerFrame`] down.
//!   The console says [`ClientFrame::Hello`] with its session token and the last sequence it
//!   holds; the relay answers [`ServerFrame::Welcome`], then streams every later event in log
//!   order ([`ServerFrame::Event`]), says [`ServerFrame::CaughtUp`] once the backlog is sent, and
//!   keeps streaming live events. The console acknowledges with [`ClientFrame::Ack`]; a
//!   reconnect resumes after its cursor, so nothing is missed and nothing doubled.
//!
//! A change here breaks both sides in one commit; bump [`PROTOCOL_VERSION`] when it does.
#![deny(missing_docs)]

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub mod api;
pub mod identity;
pub mod replies;
pub mod reports;
pub mod routing;
pub mod setup;

/// Version of the frames below. The relay refuses a Hello with another major version.
pub const PROTOCOL_VERSION: u32 = 2;

/// Path of the console websocket.
pub const WS_PATH: &str = "/api/ws";
/// Path of the login call.
pub const LOGIN_PATH: &str = "/api/login";

/// Who a user is to the relay.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Answers chats.
    Rep,
    /// Watches queues, links profiles.
    Supervisor,
    /// Sets up channels, users and routing.
    Admin,
}

impl Role {
    /// The lowercase name used on the command line and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Rep => "rep",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    /// Parses `rep`, `supervisor` or `admin`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "rep" | "representative" => Some(Role::Rep),
            "supervisor" => Some(Role::Supervisor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// `POST /api/login` body. `Debug` leaves the password out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// User name.
    pub user: String,
    /// Password (sent over TLS only; never stored by the console).
    pub password: String,
    /// A name for this console (shown to admins), e.g. the host name.
    #[serde(default)]
    pub device: Option<String>,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("device", &self.device)
            .finish()
    }
}

/// `POST /api/login` answer. `Debug` leaves the session token out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// Session token for `Authorization: Bearer` and [`ClientFrame::Hello`]; keep it in the OS keyring.
    pub token: String,
    /// When the session ends, UTC milliseconds.
    pub expires_at: i64,
    /// The user's name.
    pub user: String,
    /// The user's role.
    pub role: Role,
}

impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("user", &self.user)
            .field("role", &self.role)
            .finish()
    }
}

/// An error answer of the relay's HTTP API: a stable code the UI branches on, and a safe message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// Human-readable, safe to show (English; the console words `invalid` itself).
    pub message: String,
    /// For refused entries: which fields and why, for the console to say under each field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid: Vec<Invalid>,
}

/// A refused entry or request: the field it concerns and why.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invalid {
    /// The field as a path into the request body: `capacityUnits`, `rules[0].queue`,
    /// `hours.weekly[2].from`; empty when the reason concerns the request as a whole (a
    /// conversation taken by someone else).
    pub field: String,
    /// Why, with its parameters.
    pub reason: Reason,
}

impl Invalid {
    /// The refusal of `field` for `reason`.
    pub fn new(field: impl Into<String>, reason: Reason) -> Self {
        Self {
            field: field.into(),
            reason,
        }
    }

    /// A refusal of the request as a whole, for `reason`.
    pub fn whole(reason: Reason) -> Self {
        Self::new("", reason)
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "{}: {}", self.field, self.reason)
        }
    }
}

/// Why an entry was refused. The console turns each into words in the user's language; the
/// relay's English is [`Reason`]'s `Display`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Reason {
    /// Must not be empty.
    Required,
    /// A whole number within `min..=max`.
    Range {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// A duration within `min_ms..=max_ms`.
    #[serde(rename_all = "camelCase")]
    Duration {
        /// Shortest allowed, milliseconds.
        min_ms: i64,
        /// Longest allowed, milliseconds.
        max_ms: i64,
    },
    /// A text of `min..=max` characters.
    Length {
        /// Fewest characters.
        min: u32,
        /// Most characters.
        max: u32,
    },
    /// A list of `min..=max` items.
    Count {
        /// Fewest items.
        min: u32,
        /// Most items.
        max: u32,
    },
    /// No queue has this ID.
    NoSuchQueue,
    /// No user has this name.
    NoSuchUser,
    /// Not a regular expression the relay can run.
    Regex {
        /// The parser's words.
        detail: String,
    },
    /// Not an IANA time zone (`Asia/Tokyo`).
    TimeZone,
    /// Not a time of day as `HH:MM`.
    TimeOfDay,
    /// Not a day of the week (`mon` … `sun`).
    Weekday,
    /// Not a date as `YYYY-MM-DD`.
    Date,
    /// The slot closes before it opens.
    ClosesBeforeOpens,
    /// Must be an `https://` link.
    HttpsUrl,
    /// Only letters, digits, `-` and `_`, 1 to 64 of them.
    Identifier,
    /// Cannot change once saved.
    Fixed,
    /// Already taken by another.
    Taken,
    /// Appears twice.
    Duplicate,
    /// At least `min` characters.
    TooShort {
        /// Fewest characters.
        min: u32,
    },
    /// Not a phone number: digits, spaces and `+ - ( ) . #`.
    Phone,
    /// Not an email address.
    Email,
    /// Not a LINE user ID.
    LineUser,
    /// Not a LINE channel ID (the number on the Basic settings tab).
    ChannelId,
    /// Not a channel secret or access token as LINE's console shows it (no spaces).
    Credential,
    /// The access token belongs to another channel.
    TokenOfOtherChannel {
        /// The channel it belongs to.
        channel: String,
    },
    /// LINE does not accept this access token.
    TokenRefused {
        /// What LINE said.
        detail: String,
    },
    /// LINE says this secret is not the channel's.
    SecretRefused,
    /// The channel is set up already.
    AlreadySetUp,
    /// An admin cannot take away her own admin role.
    OwnRole,
    /// A contact cannot be merged into itself.
    SameContact,
    /// Must be one of these values.
    OneOf {
        /// The values allowed.
        values: Vec<String>,
    },
    /// The shares must add up to 100 %.
    Percentages,
    /// A queue cannot overflow into itself.
    SameQueue,
    /// Not a value of the kind this field holds (a number left empty, text in a number).
    Malformed,
    /// No conversation has this ID.
    NoSuchConversation,
    /// No contact has this ID.
    NoSuchContact,
    /// No customer with this LINE profile has written in.
    UnknownProfile,
    /// The request is no longer offered to the caller (taken, expired or withdrawn).
    NotOffered,
    /// The conversation is someone else's.
    OwnedByOther {
        /// Who has it, when someone does.
        owner: Option<String>,
    },
    /// Only members of the queue may take from it.
    NotQueueMember,
    /// Only a supervisor or an admin may do this.
    SupervisorOnly,
    /// Not possible while the conversation is in this state.
    NotInState {
        /// The conversation's state (`open`, `active`, `waiting`, `wrap_up`, `closed`).
        state: String,
    },
    /// The representative is offline.
    Offline {
        /// Who.
        user: String,
    },
    /// The owner cannot consult themselves.
    ConsultSelf,
    /// Only a colleague who was consulted can join.
    ConsultFirst,
    /// Still has open conversations: transfer or close them first.
    OpenConversations,
    /// Set by the relay, not chosen (Inactive).
    NotChoosable,
    /// No conversation of the caller's is open with this customer.
    NoOpenConversation,
    /// Consulting read-only: the owner has not let the caller write.
    ReadOnlyConsult,
    /// The workstream does not let representatives send files.
    AttachmentsOff,
    /// Larger than the relay takes for this kind of file.
    TooLarge {
        /// The most it takes, in bytes.
        #[serde(rename = "maxBytes")]
        max_bytes: u64,
    },
    /// Not allowed on one's own account.
    Yourself,
    /// LINE has no webhook URL for the channel yet.
    NoWebhookYet,
    /// The last day must be on or after the first, and the range at most this many days.
    DayRange {
        /// Most days a range covers.
        #[serde(rename = "maxDays")]
        max_days: i64,
    },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = |ms: i64| {
            if ms % 3_600_000 == 0 {
                format!("{} h", ms / 3_600_000)
            } else if ms % 60_000 == 0 {
                format!("{} min", ms / 60_000)
            } else {
                format!("{} s", ms / 1_000)
            }
        };
        match self {
            Self::Required => write!(f, "required"),
            Self::Range { min, max } => write!(f, "must be {min} to {max}"),
            Self::Duration { min_ms, max_ms } => {
                write!(f, "must be {} to {}", secs(*min_ms), secs(*max_ms))
            }
            Self::Length { min, max } => write!(f, "must be {min} to {max} characters"),
            Self::Count { min, max } => write!(f, "needs {min} to {max} items"),
            Self::NoSuchQueue => write!(f, "no such queue"),
            Self::NoSuchUser => write!(f, "no such user"),
            Self::Regex { detail } => write!(f, "invalid regular expression: {detail}"),
            Self::TimeZone => write!(f, "unknown time zone (use a name like Asia/Tokyo)"),
            Self::TimeOfDay => write!(f, "use HH:MM"),
            Self::Weekday => write!(f, "use mon, tue, wed, thu, fri, sat or sun"),
            Self::Date => write!(f, "use YYYY-MM-DD"),
            Self::ClosesBeforeOpens => write!(f, "closes before it opens"),
            Self::HttpsUrl => write!(f, "must be an https:// link"),
            Self::Identifier => write!(f, "use 1 to 64 letters, digits, - or _"),
            Self::Fixed => write!(f, "cannot change once saved"),
            Self::Taken => write!(f, "already taken"),
            Self::Duplicate => write!(f, "appears twice"),
            Self::TooShort { min } => write!(f, "at least {min} characters"),
            Self::Phone => write!(f, "digits, spaces and + - ( ) only"),
            Self::Email => write!(f, "is not an email address"),
            Self::LineUser => write!(f, "not a LINE user ID"),
            Self::ChannelId => write!(f, "the channel ID is the number on the Basic settings tab"),
            Self::Credential => write!(f, "paste it from the LINE Developers console, without spaces"),
            Self::TokenOfOtherChannel { channel } => {
                write!(f, "this access token belongs to channel {channel}")
            }
            Self::TokenRefused { detail } => write!(
                f,
                "LINE does not accept this access token ({detail}); issue a long-lived token on the Messaging API tab"
            ),
            Self::SecretRefused => write!(
                f,
                "LINE says this channel secret does not belong to this channel"
            ),
            Self::AlreadySetUp => write!(
                f,
                "this channel is already set up; replace its secret or token instead"
            ),
            Self::OwnRole => write!(f, "you cannot take away your own admin role"),
            Self::SameContact => write!(f, "a contact cannot be merged into itself"),
            Self::OneOf { values } => write!(f, "must be one of {}", values.join(", ")),
            Self::Percentages => write!(f, "the shares must add up to 100 %"),
            Self::SameQueue => write!(f, "a queue cannot overflow into itself"),
            Self::Malformed => write!(f, "not a valid value for this field"),
            Self::NoSuchConversation => write!(f, "no such conversation"),
            Self::NoSuchContact => write!(f, "no such contact"),
            Self::UnknownProfile => {
                write!(f, "no customer with this LINE profile has written in")
            }
            Self::NotOffered => write!(f, "this request is no longer offered to you"),
            Self::OwnedByOther { owner: Some(o) } => write!(f, "{o} has this conversation"),
            Self::OwnedByOther { owner: None } => {
                write!(f, "this conversation belongs to someone else")
            }
            Self::NotQueueMember => write!(f, "you are not a member of this queue"),
            Self::SupervisorOnly => write!(f, "only a supervisor may do this"),
            Self::NotInState { state } => {
                write!(f, "not possible while the conversation is {state}")
            }
            Self::Offline { user } => write!(f, "{user} is offline"),
            Self::ConsultSelf => write!(f, "the owner cannot consult themselves"),
            Self::ConsultFirst => write!(f, "consult them first"),
            Self::OpenConversations => write!(
                f,
                "still has open conversations; transfer or close them first"
            ),
            Self::NotChoosable => write!(f, "set by the relay, not chosen"),
            Self::NoOpenConversation => write!(
                f,
                "you may not write to this customer: no conversation of yours is open"
            ),
            Self::ReadOnlyConsult => write!(
                f,
                "you are consulting read-only; the owner has not let you write"
            ),
            Self::AttachmentsOff => write!(
                f,
                "this workstream does not let representatives send files"
            ),
            Self::TooLarge { max_bytes } => {
                write!(f, "too large: at most {} MB", max_bytes / 1_048_576)
            }
            Self::Yourself => write!(f, "not on your own account"),
            Self::DayRange { max_days } => write!(
                f,
                "the last day must be on or after the first, at most {max_days} days in all"
            ),
            Self::NoWebhookYet => write!(
                f,
                "LINE has no webhook URL for this channel yet; press “Set webhook in LINE” first"
            ),
        }
    }
}

/// Error codes of the relay API and websocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Missing, unknown or expired session, or wrong user/password.
    Unauthenticated,
    /// Authenticated, but the role may not do this.
    Forbidden,
    /// The thing asked for does not exist.
    NotFound,
    /// The request is malformed.
    BadRequest,
    /// The console speaks another protocol version.
    VersionMismatch,
    /// The request lost a race or no longer applies (taken by someone else, offer expired).
    Conflict,
    /// The relay failed; try again.
    Internal,
    /// A reply may or may not have reached the customer (the relay stopped, or LINE did not
    /// answer); it is never re-sent by itself.
    DeliveryUnknown,
    /// LINE refused the message (its reason is in the message); nothing was sent.
    LineRefused,
    /// Too many requests; try again later.
    RateLimited,
}

/// `POST /api/uploads?channel=…&name=…` answer: a file a representative sends, hosted by the
/// relay at a long-lived, unguessable URL that LINE fetches.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Uploaded {
    /// `image`, `video`, `audio` or `file` (send as a link).
    pub kind: String,
    /// Where LINE (or the customer, for a document) fetches it.
    pub url: String,
    /// The preview image (image and video).
    pub preview_url: Option<String>,
    /// Served content type.
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// File name.
    pub file_name: String,
}

/// How a message went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// Reply API: free, within the reply token's life.
    Reply,
    /// Push API: metered.
    Push,
}

impl Via {
    /// `reply` or `push`.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Reply => "reply",
            Via::Push => "push",
        }
    }
}

/// Path of the send call.
pub const SEND_PATH: &str = "/api/send";

/// `POST /api/send` body: a message a representative wrote, sent by the relay on her behalf.
///
/// The relay checks that she may write in this conversation now, uses the reply token it holds
/// while it is fresh (free) or pushes with `X-Line-Retry-Key` = `outbox_id` (metered), writes
/// the message into the log from LINE's answer, and answers [`SendAnswer`]. Idempotent per
/// `outbox_id`: a retry gets the first answer, never a second send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    /// The console's outbox id: a UUID (also LINE's retry key).
    pub outbox_id: String,
    /// LINE channel ID.
    pub channel_id: String,
    /// The chat (user, group or room ID).
    pub chat_id: String,
    /// The message objects (1 to 5), as LINE's send APIs take them.
    pub messages: Vec<serde_json::Value>,
}

/// `POST /api/send` answer: the message is in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendAnswer {
    /// The outbox id.
    pub outbox_id: String,
    /// Reply (free) or push (metered).
    pub via: Via,
    /// LINE's `sentMessages`.
    pub sent_messages: Vec<serde_json::Value>,
    /// When LINE accepted it, UTC milliseconds.
    pub sent_at: i64,
    /// The log event that carries it to every console that may see it.
    pub seq: u64,
}

/// Frames from console to relay. `Debug` leaves Hello's session token out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// First frame: authenticate and say where to resume.
    Hello {
        /// [`PROTOCOL_VERSION`] of the console.
        version: u32,
        /// Session token from login.
        token: String,
        /// Last sequence the console holds; `None` resumes after the last one it acknowledged.
        #[serde(default)]
        since: Option<u64>,
    },
    /// The console has stored everything up to and including `seq`.
    Ack {
        /// Highest stored sequence.
        seq: u64,
    },
    /// Keep-alive; answered with [`ServerFrame::Pong`].
    Ping {
        /// Echoed back.
        nonce: u64,
    },
}

impl std::fmt::Debug for ClientFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientFrame::Hello { version, since, .. } => f
                .debug_struct("Hello")
                .field("version", version)
                .field("token", &"<redacted>")
                .field("since", since)
                .finish(),
            ClientFrame::Ack { seq } => f.debug_struct("Ack").field("seq", seq).finish(),
            ClientFrame::Ping { nonce } => f.debug_struct("Ping").field("nonce", nonce).finish(),
        }
    }
}

/// Frames from relay to console, as `{"type": …, "data": …}`.
///
/// Adjacent tagging (tag first, then data) lets the event's raw JSON pass through without
/// being buffered and re-parsed: an internally tagged enum cannot carry a `RawValue`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ServerFrame {
    /// Hello accepted.
    Welcome {
        /// [`PROTOCOL_VERSION`] of the relay.
        version: u32,
        /// The signed-in user.
        user: String,
        /// Their role.
        role: Role,
        /// Events will follow from `resume_after + 1`.
        resume_after: u64,
        /// Highest sequence in the log right now.
        head: u64,
    },
    /// One event from the durable log.
    Event(EventFrame),
    /// The backlog up to `head` has been sent; live events follow.
    CaughtUp {
        /// Last sequence sent.
        head: u64,
    },
    /// An earlier event of a chat the user may now see (offered, assigned, consulted): store
    /// it like [`ServerFrame::Event`], without moving the cursor (its sequence is below it).
    Backfill(EventFrame),
    /// Sent once after [`ServerFrame::Welcome`]: the chats this user may see now. The console
    /// forgets every cached chat outside it (access that ended while it was away).
    Scope(Scope),
    /// The user may no longer see this chat (transferred away): forget its messages.
    Forget {
        /// LINE channel ID.
        channel_id: String,
        /// [`identity::chat_hash`] of the chat, so the frame itself names nobody.
        chat_hash: String,
    },
    /// Answer to [`ClientFrame::Ping`].
    Pong {
        /// The ping's nonce.
        nonce: u64,
    },
    /// The relay refuses or ends the session; the socket closes after this.
    Error {
        /// Stable code.
        code: ErrorCode,
        /// Safe message.
        message: String,
    },
}

/// What a console may hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// Every chat (admins).
    All,
    /// Only these chats, as `(channel ID, chat hash)` pairs.
    Chats {
        /// The chats.
        chats: Vec<(String, String)>,
    },
}

/// A webhook event as the relay logged it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventFrame {
    /// Position in the relay's log; strictly increasing, no gaps within a channel's view.
    pub seq: u64,
    /// LINE channel ID the event came in on.
    pub channel_id: String,
    /// LINE's `webhookEventId`, when present.
    #[serde(default)]
    pub webhook_event_id: Option<String>,
    /// When the relay made it durable, UTC milliseconds.
    pub received_at: i64,
    /// The event object exactly as LINE sent it (parse with `linedesk_line::webhook::Event`).
    pub event: Box<RawValue>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_as_tagged_json() {
        let hello = ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            token: "t".into(),
            since: Some(7),
        };
        let text = serde_json::to_string(&hello).expect("serializes");
        assert_eq!(
            text,
            r#"{"type":"hello","version":2,"token":"t","since":7}"#
        );
        let back: ClientFrame = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, hello);
    }

    #[test]
    fn debug_never_prints_a_password_or_a_token() {
        let shown = format!(
            "{:?} {:?} {:?}",
            LoginRequest {
                user: "rita".into(),
                password: "correct horse".into(),
                device: None
            },
            LoginResponse {
                token: "tok-123".into(),
                expires_at: 1,
                user: "rita".into(),
                role: Role::Rep
            },
            ClientFrame::Hello {
                version: PROTOCOL_VERSION,
                token: "tok-456".into(),
                since: None
            }
        );
        for secret in ["correct horse", "tok-123", "tok-456"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("rita"), "the rest is still there: {shown}");
    }

    #[test]
    fn event_frame_keeps_raw_event_bytes() {
        let text = r#"{"type":"event","data":{"seq":3,"channel_id":"c","webhook_event_id":"E","received_at":1,"event":{"type":"message","x":[1, 2]}}}"#;
        let frame: ServerFrame = serde_json::from_str(text).expect("parses");
        let ServerFrame::Event(ev) = frame else {
            panic!("expected event")
        };
        assert_eq!(
            ev.event.get(),
            r#"{"type":"message","x":[1, 2]}"#,
            "raw bytes kept"
        );
    }
}
