//! What the followers read of an event body (the sender, the message's kind, its sticker and
//! LINE emoji), parsed once per event and borrowed from the body: the media scanner used to
//! read each body three times as a whole `serde_json::Value`.
//!
//! A body with odd types where LINE writes strings (a number for `stickerId`) is read again
//! loosely, keeping what is a string and leaving out the rest, so one odd field never hides
//! the others.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

/// The parts of an event body the followers use.
#[derive(Debug, Default, Deserialize)]
pub struct Glance<'a> {
    #[serde(default, borrow)]
    source: Option<SourceGlance<'a>>,
    #[serde(default, borrow)]
    message: Option<MessageGlance<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct SourceGlance<'a> {
    #[serde(rename = "userId", default, borrow, deserialize_with = "text")]
    user_id: Option<Cow<'a, str>>,
}

/// A message event's `message`, in part.
#[derive(Debug, Default, Deserialize)]
pub struct MessageGlance<'a> {
    /// `type`: text, image, sticker...
    #[serde(rename = "type", default, borrow, deserialize_with = "text")]
    pub kind: Option<Cow<'a, str>>,
    /// A sticker's `stickerId`.
    #[serde(rename = "stickerId", default, borrow, deserialize_with = "text")]
    pub sticker_id: Option<Cow<'a, str>>,
    /// A sticker's `stickerResourceType`.
    #[serde(
        rename = "stickerResourceType",
        default,
        borrow,
        deserialize_with = "text"
    )]
    pub sticker_resource_type: Option<Cow<'a, str>>,
    /// A text's LINE emoji.
    #[serde(default, borrow)]
    pub emojis: Vec<EmojiGlance<'a>>,
}

/// One LINE emoji of a text.
#[derive(Debug, Default, Deserialize)]
pub struct EmojiGlance<'a> {
    /// `productId`.
    #[serde(rename = "productId", default, borrow, deserialize_with = "text")]
    pub product_id: Option<Cow<'a, str>>,
    /// `emojiId`.
    #[serde(rename = "emojiId", default, borrow, deserialize_with = "text")]
    pub emoji_id: Option<Cow<'a, str>>,
}

/// A string, borrowed from the body unless it holds escapes (serde borrows a `Cow` field, not
/// one inside an `Option`).
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Text<'de>>::deserialize(d)?.map(|t| t.0))
}

impl<'a> Glance<'a> {
    /// Reads `body`; what is not JSON gives an empty glance.
    pub fn of(body: &'a str) -> Self {
        serde_json::from_str(body).unwrap_or_else(|_| Self::loosely(body))
    }

    /// [`Glance::of`] for a body whose fields do not all have LINE's types.
    fn loosely(body: &str) -> Self {
        let Ok(v) = serde_json::from_str::<Value>(body) else {
            return Self::default();
        };
        let text = |v: &Value| v.as_str().map(|s| Cow::Owned(s.to_owned()));
        let m = &v["message"];
        Self {
            source: Some(SourceGlance {
                user_id: v.get("source").and_then(|s| s.get("userId")).and_then(text),
            }),
            message: m.is_object().then(|| MessageGlance {
                kind: text(&m["type"]),
                sticker_id: text(&m["stickerId"]),
                sticker_resource_type: text(&m["stickerResourceType"]),
                emojis: m["emojis"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| EmojiGlance {
                        product_id: text(&e["productId"]),
                        emoji_id: text(&e["emojiId"]),
                    })
                    .collect(),
            }),
        }
    }

    /// `source.userId`.
    pub fn user(&self) -> Option<&str> {
        self.source.as_ref()?.user_id.as_deref()
    }

    /// `message`, on message events.
    pub fn message(&self) -> Option<&MessageGlance<'a>> {
        self.message.as_ref()
    }

    /// Whether the message is of a kind LINE may hold content for (image, video, audio, file):
    /// only those are worth reading in full for [`crate::media::downloadable`].
    pub fn may_have_content(&self) -> bool {
        self.message()
            .and_then(|m| m.kind.as_deref())
            .is_some_and(|k| matches!(k, "image" | "video" | "audio" | "file"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_sender_and_the_message_borrowing_the_body() {
        let body = r#"{"type":"message","source":{"type":"user","userId":"U1"},
            "message":{"type":"sticker","id":"1","stickerId":"52002734","stickerResourceType":"ANIMATION"}}"#;
        let g = Glance::of(body);
        assert_eq!(g.user(), Some("U1"));
        let m = g.message().expect("message");
        assert_eq!(m.kind.as_deref(), Some("sticker"));
        assert!(matches!(m.sticker_id, Some(Cow::Borrowed("52002734"))));
        assert!(!g.may_have_content());
    }

    #[test]
    fn an_odd_field_does_not_hide_the_others() {
        let body = r#"{"source":{"userId":"U2"},"message":{"type":"sticker","stickerId":5,
            "emojis":[{"productId":"p","emojiId":7}]}}"#;
        let g = Glance::of(body);
        assert_eq!(g.user(), Some("U2"));
        let m = g.message().expect("message");
        assert_eq!(m.kind.as_deref(), Some("sticker"));
        assert_eq!(m.sticker_id, None);
        assert_eq!(m.emojis[0].product_id.as_deref(), Some("p"));
        assert_eq!(m.emojis[0].emoji_id, None);
        for odd in ["", "42", "[1]", r#"{"source":7,"message":"x"}"#] {
            let g = Glance::of(odd);
            assert_eq!(g.user(), None, "{odd}");
            assert!(g.message().is_none(), "{odd}");
        }
    }

    #[test]
    fn content_is_looked_for_on_media_kinds_only() {
        for (kind, media) in [("image", true), ("file", true), ("text", false)] {
            let body = format!(r#"{{"message":{{"type":"{kind}"}}}}"#);
            assert_eq!(Glance::of(&body).may_have_content(), media, "{kind}");
        }
    }
}
