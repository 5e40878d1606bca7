//! `path_params`: the relay's checks of identifiers that arrive in paths and forms.
//!
//! - `/o/{*path}`: the upload token and `/preview` (`uploads::parse_object_path`);
//! - `/api/channels/{id}`: the channel ID shape, with name, secret and token
//!   (`admin::channels::check_shape`);
//! - `/api/queues/{id}` (`routing::config::valid_queue_id`);
//! - `/api/contacts/{id}/link`: the profile's channel and LINE user ID (`identity::check_link`);
//! - `?state=` and stored names: `Role`, `ConversationState` and `Presence` from
//!   `linedesk-protocol`, which must agree with their JSON spelling;
//! - `chat_hash`, the name of a chat in `Forget` frames and erasure events.
//!
//! Contact IDs (`Path<i64>`), message, user and conversation IDs (`Path<String>`) have no check
//! of the relay's own: axum decodes them and they only ever reach SQL as bound parameters.
//!
//! Input: one path parameter as axum hands it over (percent-decoded UTF-8). Where two are
//! needed, the input is split at its first `/`.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use libfuzzer_sys::{fuzz_target, Corpus};
use linedesk_protocol::identity::{chat_hash, LinkRequest};
use linedesk_protocol::routing::{ConversationState, Presence};
use linedesk_protocol::{ErrorCode, Role};
use linedesk_relay::admin::channels::check_shape;
use linedesk_relay::identity::check_link;
use linedesk_relay::routing::config::valid_queue_id;
use linedesk_relay::uploads::parse_object_path;

/// Characters a path segment carries without percent-encoding (RFC 3986 unreserved, less `.`
/// and `~`, so `.` and `..` cannot be formed).
fn is_url_safe(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The first 32 bytes of the input, repeated to fill, as a token's random bits.
fn raw32(data: &[u8]) -> [u8; 32] {
    let mut raw = [0u8; 32];
    for (i, b) in raw.iter_mut().enumerate() {
        *b = data.get(i % data.len().max(1)).copied().unwrap_or(0);
    }
    raw
}

fn check_object_path(text: &str, data: &[u8]) {
    if let Some((token, preview)) = parse_object_path(text) {
        assert_eq!(token.len(), 43, "a token is 256 bits in Base64: {text:?}");
        assert!(is_url_safe(token), "a token is URL-safe: {text:?}");
        let whole = if preview {
            format!("{token}/preview")
        } else {
            token.to_owned()
        };
        assert_eq!(whole, text, "the token and the preview flag are the whole path");
    }
    // Every token the relay hands out (`uploads::token`: 32 random bytes) is served.
    let token = URL_SAFE_NO_PAD.encode(raw32(data));
    assert_eq!(
        parse_object_path(&token),
        Some((token.as_str(), false)),
        "a handed-out URL is served"
    );
    let preview = format!("{token}/preview");
    assert_eq!(
        parse_object_path(&preview),
        Some((token.as_str(), true)),
        "its preview URL is served"
    );
}

fn link_ok(channel: &str, user: &str, reason: Option<&str>) -> bool {
    let req = LinkRequest {
        channel_id: channel.to_owned(),
        user_id: user.to_owned(),
        reason: reason.map(str::to_owned),
    };
    match check_link(&req) {
        Ok(()) => true,
        Err(refusal) => {
            assert_eq!(refusal.status.as_u16(), 400, "a bad link is a bad request");
            assert_eq!(refusal.code, ErrorCode::BadRequest);
            assert!(
                ["channelId: ", "userId: ", "reason: "]
                    .iter()
                    .any(|f| refusal.message.starts_with(f)),
                "the refusal names its field: {}",
                refusal.message
            );
            false
        }
    }
}

fn check_channel_id(text: &str) {
    let fields = check_shape(text, None, None, None);
    assert!(
        fields.iter().all(|f| f.field == "id"),
        "only the ID is judged when nothing else is given: {fields:?}"
    );
    let id_ok = fields.is_empty();
    if id_ok {
        assert!(
            !text.is_empty() && text.len() <= 32 && is_url_safe(text),
            "a channel ID is 1 to 32 URL-safe characters: {text:?}"
        );
        // A channel that can be added can have its customers' profiles linked.
        assert!(
            link_ok(text, "U4af4980629a1b2c3d4e5f60718293a4b", None),
            "a profile of an accepted channel can be linked: {text:?}"
        );
    }
    // Field reasons never echo what was typed (a secret may be in it): they are the same
    // whatever the input.
    let all = check_shape(text, Some(text), Some(text), Some(text));
    let reference = check_shape("", Some(""), Some(""), Some(""));
    for refused in &all {
        let field = &refused.field;
        let fixed = reference
            .iter()
            .find(|f| &f.field == field)
            .unwrap_or_else(|| panic!("an unexpected field: {field}"));
        assert_eq!(
            refused.reason, fixed.reason,
            "the {field} reason does not depend on the input"
        );
    }
    assert_eq!(
        all.iter().any(|f| f.field == "id"),
        !id_ok,
        "the ID is judged the same with or without other fields"
    );
}

fn check_queue_id(text: &str) {
    if valid_queue_id(text) {
        assert!(
            !text.is_empty() && text.len() <= 64 && is_url_safe(text),
            "a queue ID is 1 to 64 URL-safe characters: {text:?}"
        );
    }
}

fn check_link_ids(text: &str, data: &[u8]) {
    let (channel, user) = text.split_once('/').unwrap_or((text, text));
    if link_ok(channel, user, Some(text)) {
        assert!(
            is_url_safe(channel) && is_url_safe(user) && !channel.is_empty() && !user.is_empty(),
            "linked IDs are URL-safe and not empty: {text:?}"
        );
        assert!(text.chars().count() <= 500, "a reason is at most 500 characters");
    }
    // Every ID LINE gives (`U`, `C` or `R` and 32 hex digits) is linkable.
    let hex: String = raw32(data)[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for prefix in ['U', 'C', 'R'] {
        let id = format!("{prefix}{hex}");
        assert!(link_ok("1650000000", &id, None), "LINE's ID {id} is linkable");
    }
    // The chat hash: 64 lowercase hex digits, the same every time.
    let hash = chat_hash(channel, user);
    assert_eq!(hash.len(), 64);
    assert!(hash
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!(hash, chat_hash(channel, user), "the chat hash is deterministic");
}

fn check_names(text: &str) {
    let json = serde_json::Value::String(text.to_owned());
    if let Some(role) = Role::parse(text) {
        assert!(
            role.as_str() == text || (role == Role::Rep && text == "representative"),
            "a role parses from its own name: {text:?}"
        );
    }
    if let Ok(role) = serde_json::from_value::<Role>(json.clone()) {
        assert_eq!(Role::parse(text), Some(role), "the JSON role parses the same");
    }
    let state = ConversationState::parse(text);
    if let Some(s) = state {
        assert_eq!(s.as_str(), text, "a state parses from its own name");
    }
    assert_eq!(
        serde_json::from_value::<ConversationState>(json.clone()).ok(),
        state,
        "`?state=` and JSON agree on {text:?}"
    );
    let presence = Presence::parse(text);
    if let Some(p) = presence {
        assert_eq!(p.as_str(), text, "a presence parses from its own name");
    }
    assert_eq!(
        serde_json::from_value::<Presence>(json).ok(),
        presence,
        "stored and JSON presence agree on {text:?}"
    );
}

fuzz_target!(|data: &[u8]| -> Corpus {
    // axum percent-decodes path parameters and refuses what is not UTF-8.
    let Ok(text) = std::str::from_utf8(data) else {
        return Corpus::Reject;
    };
    check_object_path(text, data);
    check_channel_id(text);
    check_queue_id(text);
    check_link_ids(text, data);
    check_names(text);
    Corpus::Keep
});
