//! Simulated customers and the webhook events they cause, shaped as LINE sends them
//! (`openapi/webhook.yml`): ULID `webhookEventId`s, reply tokens for events that carry one,
//! quote and mark-as-read tokens, and content stored for the content API.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::state::{Customer, StoredContent};
use crate::{now_ms, Sim};

/// A 1x1 PNG: the stand-in for customer photos and previews.
pub fn tiny_png() -> bytes::Bytes {
    bytes::Bytes::from(
        STANDARD
            .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
            .expect("constant base64"),
    )
}

/// What a test or the demo asks a customer to send.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Outgoing {
    /// Text, optionally with LINE emoji.
    Text {
        /// The text.
        text: String,
        /// LINE emoji objects (`index`, `length`, `productId`, `emojiId`).
        #[serde(default)]
        emojis: Vec<Value>,
    },
    /// A sticker.
    #[serde(rename_all = "camelCase")]
    Sticker {
        /// Package.
        #[serde(default = "default_package")]
        package_id: String,
        /// Sticker.
        #[serde(default = "default_sticker")]
        sticker_id: String,
        /// Keywords.
        #[serde(default)]
        keywords: Vec<String>,
        /// `stickerResourceType` (default `STATIC`; `ANIMATION` has an animation too).
        #[serde(default, rename = "stickerResourceType")]
        resource_type: Option<String>,
    },
    /// An image (PNG by default).
    #[serde(rename_all = "camelCase")]
    Image {
        /// Bytes, Base64; a 1x1 PNG if absent.
        #[serde(default)]
        content_base64: Option<String>,
        /// Content type.
        #[serde(default)]
        content_type: Option<String>,
    },
    /// A video (mp4).
    #[serde(rename_all = "camelCase")]
    Video {
        /// Milliseconds.
        #[serde(default = "default_duration")]
        duration: i64,
        /// Bytes, Base64.
        #[serde(default)]
        content_base64: Option<String>,
        /// Instead of bytes: a made-up video of this many bytes (for big-file tests).
        #[serde(default)]
        content_size: Option<usize>,
    },
    /// Audio (m4a).
    #[serde(rename_all = "camelCase")]
    Audio {
        /// Milliseconds.
        #[serde(default = "default_duration")]
        duration: i64,
        /// Bytes, Base64.
        #[serde(default)]
        content_base64: Option<String>,
    },
    /// A file.
    #[serde(rename_all = "camelCase")]
    File {
        /// File name.
        file_name: String,
        /// Bytes, Base64; a short text if absent.
        #[serde(default)]
        content_base64: Option<String>,
    },
    /// A location.
    Location {
        /// Place name.
        #[serde(default)]
        title: Option<String>,
        /// Address.
        #[serde(default)]
        address: Option<String>,
        /// Latitude.
        latitude: f64,
        /// Longitude.
        longitude: f64,
    },
}

fn default_package() -> String {
    "446".into()
}
fn default_sticker() -> String {
    "1988".into()
}
fn default_duration() -> i64 {
    4_000
}

/// Makes a customer with a well-formed user ID.
pub fn add_customer(
    sim: &Sim,
    display_name: &str,
    language: Option<&str>,
    picture_url: Option<&str>,
) -> Customer {
    let user_id = format!("U{}", uuid::Uuid::new_v4().simple());
    let customer = Customer {
        user_id: user_id.clone(),
        display_name: display_name.into(),
        language: language.map(str::to_owned),
        picture_url: picture_url.map(str::to_owned),
        status_message: None,
        following: false,
        blocked: false,
    };
    let mut st = sim.state();
    st.customers.insert(user_id.clone(), customer.clone());
    st.customer_order.push(user_id);
    customer
}

/// The fields every event has.
pub fn base_event(kind: &str, user_id: &str) -> Value {
    json!({
        "type": kind,
        "mode": "active",
        "timestamp": now_ms(),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": ulid::Ulid::new().to_string(),
        "deliveryContext": {"isRedelivery": false},
    })
}

fn with_reply_token(sim: &Sim, mut event: Value, user_id: &str) -> Value {
    event["replyToken"] = json!(sim.state().issue_reply_token(user_id));
    event
}

fn decode(b64: &Option<String>) -> Option<bytes::Bytes> {
    b64.as_ref()
        .and_then(|s| STANDARD.decode(s).ok())
        .map(bytes::Bytes::from)
}

fn store_content(sim: &Sim, id: &str, bytes: bytes::Bytes, content_type: &str, transcoded: bool) {
    let mut st = sim.state();
    let ready_at =
        transcoded.then(|| Instant::now() + Duration::from_millis(st.settings.transcoding_ms));
    st.content.insert(
        id.to_owned(),
        StoredContent {
            bytes,
            content_type: content_type.into(),
            created: Instant::now(),
            ready_at,
            gone: false,
        },
    );
}

/// `size` bytes that start like an mp4 and then repeat a pattern.
pub fn made_up_video(size: usize) -> bytes::Bytes {
    let mut bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let head = b"\0\0\0\x18ftypmp42simulated-video";
    let n = head.len().min(size);
    bytes[..n].copy_from_slice(&head[..n]);
    bytes.into()
}

/// A message event from a customer; stores its content. Returns `(event, message_id)`.
pub fn message_event(sim: &Sim, user_id: &str, out: &Outgoing) -> (Value, String) {
    let id = sim.state().message_id();
    let quote = format!("q{}", uuid::Uuid::new_v4().simple());
    let read = format!("mar-{id}");
    let line = json!({"type": "line"});
    let message = match out {
        Outgoing::Text { text, emojis } => {
            let mut m = json!({"id": id, "type": "text", "text": text, "quoteToken": quote, "markAsReadToken": read});
            if !emojis.is_empty() {
                m["emojis"] = json!(emojis);
            }
            m
        }
        Outgoing::Sticker {
            package_id,
            sticker_id,
            keywords,
            resource_type,
        } => {
            let kind = resource_type.as_deref().unwrap_or("STATIC");
            let mut m = json!({"id": id, "type": "sticker", "packageId": package_id, "stickerId": sticker_id,
                "stickerResourceType": kind, "quoteToken": quote, "markAsReadToken": read});
            if !keywords.is_empty() {
                m["keywords"] = json!(keywords);
            }
            m
        }
        Outgoing::Image {
            content_base64,
            content_type,
        } => {
            let bytes = decode(content_base64).unwrap_or_else(tiny_png);
            store_content(
                sim,
                &id,
                bytes,
                content_type.as_deref().unwrap_or("image/png"),
                false,
            );
            json!({"id": id, "type": "image", "contentProvider": line, "quoteToken": quote, "markAsReadToken": read})
        }
        Outgoing::Video {
            duration,
            content_base64,
            content_size,
        } => {
            let bytes = match content_size {
                Some(size) => made_up_video(*size),
                None => decode(content_base64).unwrap_or_else(|| {
                    bytes::Bytes::from_static(b"\0\0\0\x18ftypmp42simulated-video")
                }),
            };
            store_content(sim, &id, bytes, "video/mp4", true);
            json!({"id": id, "type": "video", "duration": duration, "contentProvider": line, "quoteToken": quote, "markAsReadToken": read})
        }
        Outgoing::Audio {
            duration,
            content_base64,
        } => {
            let bytes = decode(content_base64)
                .unwrap_or_else(|| bytes::Bytes::from_static(b"\0\0\0\x18ftypM4A simulated-audio"));
            store_content(sim, &id, bytes, "audio/x-m4a", true);
            json!({"id": id, "type": "audio", "duration": duration, "contentProvider": line, "markAsReadToken": read})
        }
        Outgoing::File {
            file_name,
            content_base64,
        } => {
            let bytes = decode(content_base64).unwrap_or_else(|| {
                bytes::Bytes::from(format!("A document from the LINE simulator: {file_name}\n"))
            });
            let size = bytes.len();
            store_content(sim, &id, bytes, "application/octet-stream", false);
            json!({"id": id, "type": "file", "fileName": file_name, "fileSize": size, "markAsReadToken": read})
        }
        Outgoing::Location {
            title,
            address,
            latitude,
            longitude,
        } => {
            let mut m = json!({"id": id, "type": "location", "latitude": latitude, "longitude": longitude, "markAsReadToken": read});
            if let Some(t) = title {
                m["title"] = json!(t);
            }
            if let Some(a) = address {
                m["address"] = json!(a);
            }
            m
        }
    };
    let mut event = with_reply_token(sim, base_event("message", user_id), user_id);
    event["message"] = message;
    (event, id)
}

/// A follow event (new friend, or unblock).
pub fn follow_event(sim: &Sim, user_id: &str, unblocked: bool) -> Value {
    {
        let mut st = sim.state();
        if let Some(c) = st.customers.get_mut(user_id) {
            c.following = true;
            c.blocked = false;
        }
    }
    let mut event = with_reply_token(sim, base_event("follow", user_id), user_id);
    event["follow"] = json!({"isUnblocked": unblocked});
    event
}

/// An unfollow (block) event.
pub fn unfollow_event(sim: &Sim, user_id: &str) -> Value {
    let mut st = sim.state();
    if let Some(c) = st.customers.get_mut(user_id) {
        c.following = false;
        c.blocked = true;
    }
    base_event("unfollow", user_id)
}

/// An unsend event; the content becomes 410.
pub fn unsend_event(sim: &Sim, user_id: &str, message_id: &str) -> Value {
    if let Some(c) = sim.state().content.get_mut(message_id) {
        c.gone = true;
    }
    let mut event = base_event("unsend", user_id);
    event["unsend"] = json!({"messageId": message_id});
    event
}

/// A postback event (quick reply or survey answer).
pub fn postback_event(sim: &Sim, user_id: &str, data: &str) -> Value {
    let mut event = with_reply_token(sim, base_event("postback", user_id), user_id);
    event["postback"] = json!({"data": data});
    event
}

/// UTC milliseconds as ISO-8601 (`2026-11-24T02:03:04.005Z`).
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso8601_formats_utc() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::iso8601(1_795_485_784_005),
            "2026-11-24T02:03:04.005Z"
        );
    }
}
