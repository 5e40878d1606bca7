//! What the followers read of an event body (the chat and the sender, the message's kind,
//! text, sticker and LINE emoji, the reply token, a postback's data), parsed once per event
//! and borrowed from the body: the media scanner used to read each body three times as a
//! whole `serde_json::Value`, and routing, on the writer's thread, once more.
//!
//! A body with odd types where LINE writes strings (a number for `stickerId`) is read again
//! loosely, keeping what is a string and leaving out the rest, so one odd field never hides
//! the others. Either way a field reads as `serde_json::Value` indexing would read it (a
//! string, or nothing), which is how routing read bodies before, with one deliberate
//! difference: what the glance does not read is skipped, not checked, and a message's text
//! that is not valid Unicode (a lone surrogate escape) reads as no text. Such a body used to
//! fail `Value`'s parse whole, and routing dropped the customer's message; now it is routed.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

/// The parts of an event body the followers use.
#[derive(Debug, Default, Deserialize)]
pub struct Glance<'a> {
    #[serde(default, borrow)]
    source: Option<Obj<SourceGlance<'a>>>,
    #[serde(default, borrow)]
    message: Option<Obj<MessageGlance<'a>>>,
    /// `mode`: active, or standby when another module holds the chat.
    #[serde(default, borrow, deserialize_with = "text")]
    pub mode: Option<Cow<'a, str>>,
    /// `replyToken`.
    #[serde(rename = "replyToken", default, borrow, deserialize_with = "text")]
    pub reply_token: Option<Cow<'a, str>>,
    /// `via` of our own `linedeskSent` records: reply or push.
    #[serde(default, borrow, deserialize_with = "text")]
    pub via: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    postback: Option<Obj<PostbackGlance<'a>>>,
    #[serde(default, borrow)]
    profile: Option<Obj<ProfileGlance<'a>>>,
}

/// A JSON object read into `T`. serde's derived structs also take an array, matching its
/// items to the fields by position; `Value` indexing finds nothing in one, and neither may
/// the glance.
#[derive(Debug, Default)]
pub struct Obj<T>(T);

impl<T> std::ops::Deref for Obj<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData)).map(Obj)
    }
}

/// `source`: each id kept as present or not, since the first one present names the chat
/// even when it is not a string (it then names none, as routing always read it).
#[derive(Debug, Default, Deserialize)]
struct SourceGlance<'a> {
    #[serde(rename = "groupId", default, borrow)]
    group_id: Present<'a>,
    #[serde(rename = "roomId", default, borrow)]
    room_id: Present<'a>,
    #[serde(rename = "userId", default, borrow)]
    user_id: Present<'a>,
}

/// A field: absent, a string, or some other value (`null` included, which an `Option` would
/// take for absent).
#[derive(Debug, Default)]
enum Present<'a> {
    #[default]
    Absent,
    Text(Cow<'a, str>),
    Other,
}

impl<'a> Present<'a> {
    fn text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(t),
            Self::Absent | Self::Other => None,
        }
    }

    fn is_present(&self) -> bool {
        !matches!(self, Self::Absent)
    }

    fn of(v: Option<&Value>) -> Self {
        match v {
            None => Self::Absent,
            Some(v) => v
                .as_str()
                .map_or(Self::Other, |s| Self::Text(Cow::Owned(s.to_owned()))),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Present<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Present<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Present::Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Present::Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Present::Text(Cow::Owned(s)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Present::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Present::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Present::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Present::Other)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Present::Other)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Present::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                while a
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Present::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A postback event's `postback`, in part.
#[derive(Debug, Default, Deserialize)]
struct PostbackGlance<'a> {
    #[serde(default, borrow, deserialize_with = "text")]
    data: Option<Cow<'a, str>>,
}

/// Our own `linedeskProfile` record's `profile`, in part.
#[derive(Debug, Default, Deserialize)]
struct ProfileGlance<'a> {
    #[serde(default, borrow, deserialize_with = "text")]
    language: Option<Cow<'a, str>>,
}

/// A message event's `message`, in part.
#[derive(Debug, Default, Deserialize)]
pub struct MessageGlance<'a> {
    /// `type`: text, image, sticker...
    #[serde(rename = "type", default, borrow, deserialize_with = "text")]
    pub kind: Option<Cow<'a, str>>,
    /// `id`.
    #[serde(default, borrow, deserialize_with = "text")]
    pub id: Option<Cow<'a, str>>,
    /// A text's `text`: none when it is not a string of valid Unicode.
    #[serde(default, borrow, deserialize_with = "lenient_text")]
    pub text: Option<Cow<'a, str>>,
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
    pub emojis: Vec<Obj<EmojiGlance<'a>>>,
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

/// A string taken as the body holds it, then decoded: customers write the text, and one
/// lone surrogate in it must not make the whole body unreadable (its sender, its emoji).
fn lenient_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    let Some(raw) = Option::<&'de serde_json::value::RawValue>::deserialize(d)? else {
        return Ok(None);
    };
    let json = raw.get();
    Ok(serde_json::from_str::<&str>(json)
        .map(Cow::Borrowed)
        .or_else(|_| serde_json::from_str::<String>(json).map(Cow::Owned))
        .ok())
}

impl<'a> Glance<'a> {
    /// Reads `body`; what is not JSON gives an empty glance.
    pub fn of(body: &'a str) -> Self {
        serde_json::from_str::<Obj<Self>>(body).map_or_else(|_| Self::loosely(body), |g| g.0)
    }

    /// [`Glance::of`] for a body whose fields do not all have LINE's types.
    fn loosely(body: &str) -> Self {
        let Ok(v) = serde_json::from_str::<Value>(body) else {
            return Self::default();
        };
        let text = |v: &Value| v.as_str().map(|s| Cow::Owned(s.to_owned()));
        let m = &v["message"];
        let source = |key: &str| Present::of(v.get("source").and_then(|s| s.get(key)));
        Self {
            source: Some(Obj(SourceGlance {
                group_id: source("groupId"),
                room_id: source("roomId"),
                user_id: source("userId"),
            })),
            mode: text(&v["mode"]),
            reply_token: text(&v["replyToken"]),
            via: text(&v["via"]),
            postback: Some(Obj(PostbackGlance {
                data: text(&v["postback"]["data"]),
            })),
            profile: Some(Obj(ProfileGlance {
                language: text(&v["profile"]["language"]),
            })),
            message: m.is_object().then(|| {
                Obj(MessageGlance {
                    kind: text(&m["type"]),
                    id: text(&m["id"]),
                    text: text(&m["text"]),
                    sticker_id: text(&m["stickerId"]),
                    sticker_resource_type: text(&m["stickerResourceType"]),
                    emojis: m["emojis"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|e| {
                            Obj(EmojiGlance {
                                product_id: text(&e["productId"]),
                                emoji_id: text(&e["emojiId"]),
                            })
                        })
                        .collect(),
                })
            }),
        }
    }

    /// `source.userId`.
    pub fn user(&self) -> Option<&str> {
        self.source.as_ref()?.user_id.text()
    }

    /// The chat the event belongs to: the first of `source`'s group, room and user ids
    /// present, when it is a string.
    pub fn chat(&self) -> Option<&str> {
        let s = self.source.as_ref()?;
        [&s.group_id, &s.room_id, &s.user_id]
            .into_iter()
            .find(|id| id.is_present())?
            .text()
    }

    /// `postback.data`.
    pub fn postback_data(&self) -> Option<&str> {
        self.postback.as_ref()?.data.as_deref()
    }

    /// `profile.language`, on our own profile records.
    pub fn profile_language(&self) -> Option<&str> {
        self.profile.as_ref()?.language.as_deref()
    }

    /// `message`, on message events.
    pub fn message(&self) -> Option<&MessageGlance<'a>> {
        self.message.as_deref()
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

    /// Routing read bodies as a whole `Value`; the glance must read them the same way,
    /// odd ones included, strictly or loosely.
    #[test]
    fn routing_reads_what_a_value_would_read() {
        let value_chat = |v: &Value| -> Option<String> {
            let s = v.get("source")?;
            s.get("groupId")
                .or_else(|| s.get("roomId"))
                .or_else(|| s.get("userId"))?
                .as_str()
                .map(str::to_owned)
        };
        let str_at = |v: &Value, path: &[&str]| -> Option<String> {
            path.iter()
                .fold(v, |v, k| &v[*k])
                .as_str()
                .map(str::to_owned)
        };
        let bodies = [
            r#"{"mode":"active","source":{"type":"user","userId":"U1"},"replyToken":"r",
                "message":{"id":"1","type":"text","text":"hi \u3042"}}"#,
            r#"{"source":{"type":"group","groupId":"G1","userId":"U1"}}"#,
            r#"{"source":{"type":"room","roomId":"R1","userId":"U1"},"mode":"standby"}"#,
            r#"{"source":{"groupId":null,"userId":"U1"}}"#,
            r#"{"source":{"groupId":7,"roomId":"R1"}}"#,
            r#"{"source":{"roomId":{"x":[1,{"y":2}]},"userId":"U1"}}"#,
            r#"{"source":{"userId":"U1","userId":"U2"},"message":{"text":"a","text":"b"}}"#,
            r#"{"source":{"user\u0049d":"U9"}}"#,
            r#"{"source":7,"postback":{"data":"d"}}"#,
            r#"{"source":{"userId":"U1"},"postback":{"data":5},"via":"reply"}"#,
            r#"{"source":{"userId":"U1"},"profile":{"language":"th"},"message":"x"}"#,
            r#"{"source":{"userId":"U1"},"replyToken":3,"mode":["standby"]}"#,
            r#"[1]"#,
            "not json",
            // Arrays where LINE writes objects: nothing, as indexing a `Value` finds nothing.
            r#"{"source":["C1"],"message":["image","m7","x"],"postback":["d"],"profile":["th"]}"#,
            r#"[{"userId":"U1"}]"#,
            r#"[null,null,"standby"]"#,
            r#"{"source":{"userId":"U1"},"message":{"type":"text","emojis":[["p","e"]]}}"#,
        ];
        for body in bodies {
            let g = Glance::of(body);
            let v: Value = serde_json::from_str(body).unwrap_or_default();
            assert_eq!(g.chat().map(str::to_owned), value_chat(&v), "{body}");
            assert_eq!(
                g.mode.as_deref().map(str::to_owned),
                str_at(&v, &["mode"]),
                "{body}"
            );
            let token = g.reply_token.as_deref().map(str::to_owned);
            assert_eq!(token, str_at(&v, &["replyToken"]), "{body}");
            assert_eq!(
                g.via.as_deref().map(str::to_owned),
                str_at(&v, &["via"]),
                "{body}"
            );
            let data = g.postback_data().map(str::to_owned);
            assert_eq!(data, str_at(&v, &["postback", "data"]), "{body}");
            let language = g.profile_language().map(str::to_owned);
            assert_eq!(language, str_at(&v, &["profile", "language"]), "{body}");
            let m = g.message();
            let kind = m.and_then(|m| m.kind.as_deref()).map(str::to_owned);
            assert_eq!(kind, str_at(&v, &["message", "type"]), "{body}");
            let text = m.and_then(|m| m.text.as_deref()).map(str::to_owned);
            assert_eq!(text, str_at(&v, &["message", "text"]), "{body}");
            let id = m.and_then(|m| m.id.as_deref()).map(str::to_owned);
            assert_eq!(id, str_at(&v, &["message", "id"]), "{body}");
        }
        // The common body is read without copying its strings.
        let g = Glance::of(bodies[0]);
        assert!(matches!(g.reply_token, Some(Cow::Borrowed("r"))));
        let source = g.source.as_ref().expect("source");
        assert!(matches!(source.user_id, Present::Text(Cow::Borrowed("U1"))));
    }

    /// Where the glance reads more than a `Value` parse would: a body whose unread parts, or
    /// whose text, JSON's strict parse refuses. Its sender and emoji still count, and routing
    /// still sees the customer's message.
    #[test]
    fn what_a_value_refuses_outside_the_fields_read_leaves_the_rest_readable() {
        let lone = r#"{"source":{"userId":"U1"},"message":{"type":"text","text":"hi \ud83d",
            "emojis":[{"productId":"p1","emojiId":"001"}]}}"#;
        assert!(serde_json::from_str::<Value>(lone).is_err());
        let g = Glance::of(lone);
        assert_eq!((g.user(), g.chat()), (Some("U1"), Some("U1")));
        let m = g.message().expect("message");
        assert_eq!((m.kind.as_deref(), m.text.as_deref()), (Some("text"), None));
        assert_eq!(m.emojis[0].product_id.as_deref(), Some("p1"));
        let unread = r#"{"source":{"groupId":"C1"},"message":{"type":"file","id":"m1",
            "fileName":"\ud800.pdf","size":1e400}}"#;
        assert!(serde_json::from_str::<Value>(unread).is_err());
        let g = Glance::of(unread);
        assert_eq!(g.chat(), Some("C1"));
        assert!(g.may_have_content());
        // An escaped text is decoded; a plain one is borrowed.
        let g = Glance::of(r#"{"message":{"text":"a\u3042"}}"#);
        assert_eq!(
            g.message().and_then(|m| m.text.as_deref()),
            Some("a\u{3042}")
        );
        let g = Glance::of(r#"{"message":{"text":"plain"}}"#);
        let text = &g.message().expect("message").text;
        assert!(matches!(text, Some(Cow::Borrowed("plain"))));
    }

    #[test]
    fn content_is_looked_for_on_media_kinds_only() {
        for (kind, media) in [("image", true), ("file", true), ("text", false)] {
            let body = format!(r#"{{"message":{{"type":"{kind}"}}}}"#);
            assert_eq!(Glance::of(&body).may_have_content(), media, "{kind}");
        }
    }
}
