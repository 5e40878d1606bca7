//! What a bot sends, and what LINE answers to a send.
//!
//! Message objects follow `SPEC:messaging-api.yml#Message` (REFERENCE.md §7). There is no
//! `file` type: bots cannot send files, so documents go out as links (Traps 9). Text limits
//! count UTF-16 code units (Traps 13), see [`utf16_len`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest text message LINE accepts, in UTF-16 code units.
pub const TEXT_MAX_UTF16: usize = 5000;
/// Most message objects in one reply or push.
pub const MESSAGES_PER_REQUEST: usize = 5;

/// Length as LINE counts it (UTF-16 code units), not bytes.
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// One message object to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// The type-specific part.
    #[serde(flatten)]
    pub kind: MessageKind,
    /// Quick-reply buttons (only the last message of a batch shows them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quick_reply: Option<Value>,
    /// Per-message sender name and icon (e.g. the representative's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<Sender>,
}

impl Message {
    /// A plain text message.
    pub fn text(text: impl Into<String>) -> Self {
        MessageKind::Text {
            text: text.into(),
            quote_token: None,
        }
        .into()
    }

    /// An image by HTTPS URL (JPEG or PNG), with its preview.
    pub fn image(original: impl Into<String>, preview: impl Into<String>) -> Self {
        MessageKind::Image {
            original_content_url: original.into(),
            preview_image_url: preview.into(),
        }
        .into()
    }
}

impl From<MessageKind> for Message {
    fn from(kind: MessageKind) -> Self {
        Self {
            kind,
            quick_reply: None,
            sender: None,
        }
    }
}

/// The stickers a bot may send, by package: `(package, first sticker, last sticker)`, each
/// package's IDs consecutive. LINE refuses any other sticker (REFERENCE.md §"sticker"; LINE's
/// "List of available stickers", developers.line.biz/en/docs/messaging-api/sticker-list/).
pub const SENDABLE_STICKERS: &[(u32, u64, u64)] = &[
    (446, 1988, 2027),
    (789, 10855, 10894),
    (1070, 17839, 17878),
    (6136, 10551376, 10551399),
    (6325, 10979904, 10979927),
    (6359, 11069848, 11069871),
    (6362, 11087920, 11087943),
    (6370, 11088016, 11088039),
    (6632, 11825374, 11825397),
    (8515, 16581242, 16581265),
    (8522, 16581266, 16581289),
    (8525, 16581290, 16581313),
    (11537, 52002734, 52002773),
    (11538, 51626494, 51626533),
    (11539, 52114110, 52114149),
];

/// Whether a bot may send this sticker.
pub fn is_sendable_sticker(package_id: &str, sticker_id: &str) -> bool {
    let (Ok(package), Ok(sticker)) = (package_id.parse::<u32>(), sticker_id.parse::<u64>()) else {
        return false;
    };
    // No leading zeros or signs: LINE's IDs are written plainly.
    if package.to_string() != package_id || sticker.to_string() != sticker_id {
        return false;
    }
    SENDABLE_STICKERS
        .iter()
        .any(|&(p, first, last)| p == package && (first..=last).contains(&sticker))
}

/// The package of a sendable sticker.
pub fn sendable_sticker_package(sticker_id: &str) -> Option<u32> {
    let sticker = sticker_id.parse::<u64>().ok()?;
    SENDABLE_STICKERS
        .iter()
        .find(|&&(_, first, last)| (first..=last).contains(&sticker))
        .map(|&(p, ..)| p)
        .filter(|p| is_sendable_sticker(&p.to_string(), sticker_id))
}

/// Sendable message types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum MessageKind {
    /// Text, up to 5,000 UTF-16 units.
    #[serde(rename_all = "camelCase")]
    Text {
        /// The text.
        text: String,
        /// Quote a message of this chat.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quote_token: Option<String>,
    },
    /// A sticker from LINE's sendable list.
    #[serde(rename_all = "camelCase")]
    Sticker {
        /// Package ID.
        package_id: String,
        /// Sticker ID.
        sticker_id: String,
        /// Quote a message of this chat.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quote_token: Option<String>,
    },
    /// An image by URL.
    #[serde(rename_all = "camelCase")]
    Image {
        /// JPEG or PNG, at most 10 MB, HTTPS.
        original_content_url: String,
        /// JPEG or PNG, at most 1 MB, HTTPS.
        preview_image_url: String,
    },
    /// A video by URL.
    #[serde(rename_all = "camelCase")]
    Video {
        /// mp4, at most 200 MB, HTTPS.
        original_content_url: String,
        /// Preview image, HTTPS.
        preview_image_url: String,
        /// Triggers a `videoPlayComplete` event (1:1 only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tracking_id: Option<String>,
    },
    /// Audio by URL.
    #[serde(rename_all = "camelCase")]
    Audio {
        /// mp3 or m4a, HTTPS.
        original_content_url: String,
        /// Milliseconds.
        duration: i64,
    },
    /// A location.
    Location {
        /// At most 100 characters.
        title: String,
        /// At most 100 characters.
        address: String,
        /// Latitude.
        latitude: f64,
        /// Longitude.
        longitude: f64,
    },
    /// Any other message object (template, flex, imagemap…), sent as given.
    #[serde(untagged)]
    Raw(Value),
}

/// `sender` on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sender {
    /// At most 20 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// HTTPS PNG icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
}

/// One entry of `sentMessages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    /// LINE's message ID.
    pub id: String,
    /// Token to quote it later (not for every type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_token: Option<String>,
}

/// The 200 answer to reply and push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendResponse {
    /// One per message sent, in order.
    #[serde(default)]
    pub sent_messages: Vec<SentMessage>,
}

/// Body of `POST /v2/bot/message/reply`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyRequest {
    /// The event's reply token.
    pub reply_token: String,
    /// 1 to 5 messages.
    pub messages: Vec<Message>,
    /// Deliver silently.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notification_disabled: bool,
}

/// Body of `POST /v2/bot/message/push`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushRequest {
    /// User, group or room ID.
    pub to: String,
    /// 1 to 5 messages.
    pub messages: Vec<Message>,
    /// Deliver silently.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notification_disabled: bool,
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_the_listed_stickers_are_sendable() {
        assert!(is_sendable_sticker("446", "1988"));
        assert!(is_sendable_sticker("11537", "52002773"));
        assert!(
            !is_sendable_sticker("11537", "52002774"),
            "past the package's end"
        );
        assert!(
            !is_sendable_sticker("446", "52002734"),
            "another package's sticker"
        );
        assert!(!is_sendable_sticker("0446", "1988"), "written otherwise");
        assert!(!is_sendable_sticker("446", "+1988"));
        assert!(!is_sendable_sticker("x", "1988"));
        assert_eq!(sendable_sticker_package("52002740"), Some(11537));
        assert_eq!(sendable_sticker_package("052002740"), None);
        assert_eq!(sendable_sticker_package("1"), None);
        let total: u64 = SENDABLE_STICKERS.iter().map(|&(_, a, b)| b - a + 1).sum();
        assert_eq!(total, 40 * 6 + 24 * 9);
    }

    use super::*;

    #[test]
    fn text_serializes_as_line_expects() {
        let json = serde_json::to_value(Message::text("hi")).expect("serializes");
        assert_eq!(json, serde_json::json!({"type":"text","text":"hi"}));
    }

    #[test]
    fn utf16_counts_surrogate_pairs_twice() {
        assert_eq!(utf16_len("a😄"), 3, "an emoji outside the BMP is two units");
        assert_eq!(utf16_len("中文"), 2);
    }
}
