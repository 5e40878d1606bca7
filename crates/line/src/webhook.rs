//! The webhook request body and every event and message type LINE sends.
//!
//! Source: `shared/line-api/openapi/webhook.yml` plus `messageEdited` (2026, not yet in the
//! OpenAPI snapshot). LINE adds event types, fields and enum values without notice
//! (REFERENCE.md §15), so nothing here denies unknown fields, and every enum has a fallback
//! that keeps the raw value: an unknown event type parses to [`EventBody::Unknown`] with its
//! whole JSON, an unknown message type to [`MessageContent::Unknown`], an unknown source to
//! [`Source::Unknown`]. Parsing never drops an event.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The body LINE POSTs to the webhook URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackRequest {
    /// The bot's user ID (`U` + 32 hex digits); equals `GET /v2/bot/info`'s `userId`.
    pub destination: String,
    /// The events; `[]` for LINE's connectivity check ("Verify").
    pub events: Vec<Event>,
}

impl CallbackRequest {
    /// Parses a webhook body (call only after the signature was verified).
    pub fn parse(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

/// One webhook event: the fields every event shares, and its type-specific body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Milliseconds since the epoch when the event happened; unchanged on redelivery.
    #[serde(default)]
    pub timestamp: i64,
    /// `active`, or `standby` when a module channel owns the chat (then: no reply token).
    #[serde(default)]
    pub mode: Mode,
    /// Where the event happened; absent on a failed account link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// ULID that identifies the event; the de-duplication key. SDK fixtures omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_event_id: Option<String>,
    /// Whether this is a redelivered copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_context: Option<DeliveryContext>,
    /// Present on events that can be answered with the reply API (single use, ~1 minute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_token: Option<String>,
    /// The type-specific part, selected by `type`.
    #[serde(flatten)]
    pub body: EventBody,
}

impl Event {
    /// The event's `type` as LINE spelled it, also for unknown types.
    pub fn type_name(&self) -> &str {
        self.body.type_name()
    }

    /// Whether LINE marked this copy as a redelivery.
    pub fn is_redelivery(&self) -> bool {
        self.delivery_context
            .as_ref()
            .is_some_and(|c| c.is_redelivery)
    }
}

/// `deliveryContext`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryContext {
    /// `true` on redelivered copies.
    pub is_redelivery: bool,
}

/// The channel's state for this chat.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// The bot may answer.
    #[default]
    Active,
    /// A module channel owns the chat; the bot must stay silent.
    Standby,
    /// A value LINE added later.
    #[serde(untagged)]
    Other(String),
}

/// Where an event happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Source {
    /// A 1:1 chat.
    #[serde(rename_all = "camelCase")]
    User {
        /// The user (`U…`); missing only in odd fixtures.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_id: Option<String>,
    },
    /// A group chat.
    #[serde(rename_all = "camelCase")]
    Group {
        /// The group (`C…`).
        group_id: String,
        /// The sender, only on message events and only for consenting users.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_id: Option<String>,
    },
    /// A multi-person chat.
    #[serde(rename_all = "camelCase")]
    Room {
        /// The room (`R…`).
        room_id: String,
        /// The sender, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_id: Option<String>,
    },
    /// A source type this crate does not know, kept whole.
    #[serde(untagged)]
    Unknown(Value),
}

impl Source {
    /// The chat a reply or push goes to: the user, group or room ID.
    pub fn chat_id(&self) -> Option<&str> {
        match self {
            Source::User { user_id } => user_id.as_deref(),
            Source::Group { group_id, .. } => Some(group_id),
            Source::Room { room_id, .. } => Some(room_id),
            Source::Unknown(_) => None,
        }
    }

    /// The user who caused the event, when LINE says.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Source::User { user_id }
            | Source::Group { user_id, .. }
            | Source::Room { user_id, .. } => user_id.as_deref(),
            Source::Unknown(_) => None,
        }
    }
}

/// The type-specific part of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum EventBody {
    /// A message was sent.
    Message {
        /// The message.
        message: MessageContent,
    },
    /// A group message was edited; `message.id` is the original's.
    MessageEdited {
        /// The new content (text).
        message: MessageContent,
    },
    /// The user unsent a message; hide it everywhere.
    Unsend {
        /// Which message.
        unsend: UnsendDetail,
    },
    /// Added as a friend, or unblocked.
    Follow {
        /// Unblock or new friend (older payloads omit it).
        #[serde(default)]
        follow: FollowDetail,
    },
    /// Blocked by the user.
    Unfollow,
    /// The bot joined a group or room.
    Join,
    /// The bot left or was removed from a group or room.
    Leave,
    /// Members joined a group or room the bot is in.
    MemberJoined {
        /// Who joined.
        joined: Members,
    },
    /// Members left a group or room the bot is in.
    MemberLeft {
        /// Who left.
        left: Members,
    },
    /// A postback action was tapped (quick reply, rich menu, template).
    Postback {
        /// Its data.
        postback: PostbackContent,
    },
    /// A video with a tracking ID was watched to the end.
    #[serde(rename_all = "camelCase")]
    VideoPlayComplete {
        /// Its tracking ID.
        video_play_complete: VideoPlayComplete,
    },
    /// A LINE Beacon was seen.
    Beacon {
        /// The beacon.
        beacon: BeaconContent,
    },
    /// Account linking finished.
    AccountLink {
        /// Result and nonce.
        link: LinkContent,
    },
    /// Membership joined, left or renewed.
    Membership {
        /// Raw membership content (`type`, `membershipId`).
        membership: Value,
    },
    /// A module channel was attached or detached.
    Module {
        /// Raw module content.
        module: Value,
    },
    /// Chat control was handed to this module channel.
    #[serde(rename_all = "camelCase")]
    Activated {
        /// Raw `chatControl`.
        chat_control: Value,
    },
    /// Chat control was taken back.
    Deactivated,
    /// The bot was suspended.
    BotSuspended,
    /// The bot was resumed.
    BotResumed,
    /// A LINE notification message was delivered (partner feature).
    Delivery {
        /// Raw delivery content.
        delivery: Value,
    },
    /// An event type this crate does not know: the whole event as LINE sent it.
    #[serde(untagged)]
    Unknown(Value),
}

impl EventBody {
    /// The `type` string.
    pub fn type_name(&self) -> &str {
        match self {
            EventBody::Message { .. } => "message",
            EventBody::MessageEdited { .. } => "messageEdited",
            EventBody::Unsend { .. } => "unsend",
            EventBody::Follow { .. } => "follow",
            EventBody::Unfollow => "unfollow",
            EventBody::Join => "join",
            EventBody::Leave => "leave",
            EventBody::MemberJoined { .. } => "memberJoined",
            EventBody::MemberLeft { .. } => "memberLeft",
            EventBody::Postback { .. } => "postback",
            EventBody::VideoPlayComplete { .. } => "videoPlayComplete",
            EventBody::Beacon { .. } => "beacon",
            EventBody::AccountLink { .. } => "accountLink",
            EventBody::Membership { .. } => "membership",
            EventBody::Module { .. } => "module",
            EventBody::Activated { .. } => "activated",
            EventBody::Deactivated => "deactivated",
            EventBody::BotSuspended => "botSuspended",
            EventBody::BotResumed => "botResumed",
            EventBody::Delivery { .. } => "delivery",
            EventBody::Unknown(raw) => raw.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// `unsend`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnsendDetail {
    /// The unsent message's ID.
    pub message_id: String,
}

/// `follow`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowDetail {
    /// `true` for an unblock, `false` for a new friend (LINE: not guaranteed accurate).
    #[serde(default)]
    pub is_unblocked: bool,
}

/// `joined` / `left`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Members {
    /// The members, as user sources.
    pub members: Vec<Source>,
}

/// `postback`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostbackContent {
    /// The action's data string.
    pub data: String,
    /// Date/time picker or rich-menu switch parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<serde_json::Map<String, Value>>,
}

/// `videoPlayComplete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoPlayComplete {
    /// The tracking ID given when the video was sent.
    pub tracking_id: String,
}

/// `beacon`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeaconContent {
    /// Hardware ID.
    pub hwid: String,
    /// `enter`, `banner`, `stay`, or a later value.
    #[serde(rename = "type")]
    pub kind: String,
    /// Device message, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dm: Option<String>,
}

/// `link`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkContent {
    /// `ok` or `failed`.
    pub result: String,
    /// The nonce the account-link flow was started with.
    pub nonce: String,
}

/// The `message` of a message or messageEdited event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum MessageContent {
    /// Text, with LINE emoji placeholders and mentions.
    #[serde(rename_all = "camelCase")]
    Text {
        /// Message ID.
        id: String,
        /// The text (emoji appear as their alternative text).
        text: String,
        /// LINE emoji inside `text`, indexes in UTF-16 code units.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        emojis: Vec<Emoji>,
        /// Mentions, in group chats.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mention: Option<Mention>,
        /// Token to quote this message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quote_token: Option<String>,
        /// The message this one quotes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quoted_message_id: Option<String>,
        /// Token to mark this and earlier messages read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mark_as_read_token: Option<String>,
    },
    /// An image.
    #[serde(rename_all = "camelCase")]
    Image {
        /// Message ID (also the content ID).
        id: String,
        /// Where the bytes are.
        content_provider: ContentProvider,
        /// Several images sent at once share a set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image_set: Option<ImageSet>,
        /// Token to quote this message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quote_token: Option<String>,
        /// Token to mark this and earlier messages read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mark_as_read_token: Option<String>,
    },
    /// A video.
    #[serde(rename_all = "camelCase")]
    Video {
        /// Message ID.
        id: String,
        /// Length in milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration: Option<i64>,
        /// Where the bytes are.
        content_provider: ContentProvider,
        /// Token to quote this message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quote_token: Option<String>,
        /// Token to mark this and earlier messages read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mark_as_read_token: Option<String>,
    },
    /// An audio clip.
    #[serde(rename_all = "camelCase")]
    Audio {
        /// Message ID.
        id: String,
        /// Length in milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration: Option<i64>,
        /// Where the bytes are.
        content_provider: ContentProvider,
        /// Token to mark this and earlier messages read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mark_as_read_token: Option<String>,
    },
    /// A file.
    #[serde(rename_all = "camelCase")]
    File {
        /// Message ID.
        id: String,
        /// File name as the user sent it (untrusted).
        file_name: String,
        /// Size in bytes.
        file_size: u64,
        /// Token to mark this and earlier messages read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mark_as_read_token: Option<String>,
    },
    /// A location.
    #[serde(rename_all = "camelCase")]
    Location {
        /// Message ID.
        id: String,
        /// Place name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// Address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<String>,
        /// Latitude.
        latitude: f64,
        /// Longitude.
        longitude: f64,
        /// Token to mark this and earlier messages read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mark_as_read_token: Option<String>,
    },
    /// A sticker (its image cannot be fetched from LINE).
    #[serde(rename_all = "camelCase")]
    Sticker {
        /// Message ID.
        id: String,
        /// Package ID.
        package_id: String,
        /// Sticker ID.
        sticker_id: String,
        /// Kind of sticker (open enum).
        #[serde(default)]
        sticker_resource_type: StickerResourceType,
        /// Up to 15 keywords (experimental), shown when the image is unavailable.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        keywords: Vec<String>,
        /// Text of a message sticker.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// Token to quote this message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quote_token: Option<String>,
        /// The message this one quotes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quoted_message_id: Option<String>,
        /// Token to mark this and earlier messages read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mark_as_read_token: Option<String>,
    },
    /// A message type this crate does not know, kept whole.
    #[serde(untagged)]
    Unknown(Value),
}

impl MessageContent {
    /// The message ID, also for unknown types when present.
    pub fn id(&self) -> Option<&str> {
        match self {
            MessageContent::Text { id, .. }
            | MessageContent::Image { id, .. }
            | MessageContent::Video { id, .. }
            | MessageContent::Audio { id, .. }
            | MessageContent::File { id, .. }
            | MessageContent::Location { id, .. }
            | MessageContent::Sticker { id, .. } => Some(id),
            MessageContent::Unknown(raw) => raw.get("id").and_then(Value::as_str),
        }
    }

    /// Whether LINE holds bytes for this message that the content API can return.
    pub fn has_downloadable_content(&self) -> bool {
        match self {
            MessageContent::Image {
                content_provider, ..
            }
            | MessageContent::Video {
                content_provider, ..
            }
            | MessageContent::Audio {
                content_provider, ..
            } => content_provider.is_line(),
            MessageContent::File { .. } => true,
            _ => false,
        }
    }
}

/// A LINE emoji inside text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Emoji {
    /// Start, in UTF-16 code units.
    pub index: u32,
    /// Length, in UTF-16 code units.
    pub length: u32,
    /// Emoji set.
    pub product_id: String,
    /// Emoji within the set.
    pub emoji_id: String,
}

/// Mentions in a text message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    /// Up to 20 mentioned users or `all`.
    pub mentionees: Vec<Value>,
}

/// Where media bytes live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentProvider {
    /// `line` (content API) or `external`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Original URL for external content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_content_url: Option<String>,
    /// Preview URL for external content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_image_url: Option<String>,
}

impl ContentProvider {
    /// Whether the bytes are on LINE's content API.
    pub fn is_line(&self) -> bool {
        self.kind == "line"
    }
}

/// Images sent together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSet {
    /// Set ID.
    pub id: String,
    /// 1-based position (missing from old Android clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Number of images (missing from old Android clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u32>,
}

/// `stickerResourceType`: an open enum.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StickerResourceType {
    /// Still image.
    #[default]
    Static,
    /// Animated.
    Animation,
    /// With sound.
    Sound,
    /// Animated with sound.
    AnimationSound,
    /// Pop-up.
    Popup,
    /// Pop-up with sound.
    PopupSound,
    /// Custom text sticker.
    Custom,
    /// Message sticker.
    Message,
    /// Name text sticker.
    NameText,
    /// Per-sticker text.
    PerStickerText,
    /// A value LINE added later.
    #[serde(untagged)]
    Other(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_event_type_keeps_its_raw_json() {
        let body = br#"{"destination":"U0","events":[{"type":"greatNewFeature","timestamp":1,"mode":"active","extra":{"a":1}}]}"#;
        let req = CallbackRequest::parse(body).expect("unknown types must parse");
        let ev = &req.events[0];
        assert_eq!(ev.type_name(), "greatNewFeature");
        match &ev.body {
            EventBody::Unknown(raw) => assert_eq!(raw["extra"]["a"], 1, "raw fields kept"),
            other => panic!("expected Unknown, got {other:?}"),
        }
    }

    #[test]
    fn unknown_message_and_source_types_are_kept() {
        let body = br#"{"destination":"U0","events":[{"type":"message","timestamp":1,"mode":"active","source":{"type":"alien"},"message":{"id":"9","type":"hologram","depth":3}}]}"#;
        let req = CallbackRequest::parse(body).expect("must parse");
        let ev = &req.events[0];
        assert!(
            matches!(ev.source, Some(Source::Unknown(_))),
            "unknown source kept"
        );
        match &ev.body {
            EventBody::Message {
                message: MessageContent::Unknown(raw),
            } => {
                assert_eq!(raw["depth"], 3)
            }
            other => panic!("expected unknown message, got {other:?}"),
        }
    }

    #[test]
    fn open_enums_keep_new_values() {
        let s: StickerResourceType = serde_json::from_str("\"HOLOGRAM\"").expect("open enum");
        assert_eq!(s, StickerResourceType::Other("HOLOGRAM".into()));
        let m: Mode = serde_json::from_str("\"dormant\"").expect("open enum");
        assert_eq!(m, Mode::Other("dormant".into()));
    }
}
