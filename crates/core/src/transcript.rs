//! One relay conversation as a printable, self-contained HTML file: the customer's and the
//! team's messages with who wrote each and when, pictures as thumbnails inside the file,
//! automated messages and internal notes marked as such.
//!
//! The file has no script and refers to nothing outside itself (its content security policy
//! allows only its own styles and `data:` pictures), so it opens the same offline, years later,
//! in any browser, and prints on paper. Customer text is untrusted: `maud` escapes everything
//! that is not markup of ours.
//!
//! The console words it: [`TranscriptText`] carries the sentences in the user's language;
//! times are written in the user's time zone, which the footer names.

use std::collections::{BTreeMap, HashMap};

use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;
use serde_json::Value;

use crate::cache::Message;
use linedesk_protocol::routing::ConversationSnapshot;

/// How long before a relay conversation opened its first message may be stamped: the customer's
/// message carries LINE's time, the conversation the relay's, a moment later.
pub const OPENING_GRACE_MS: i64 = 60_000;
/// At most this many pictures are put in one file (a thumbnail is about 20 KB).
pub const MAX_PICTURES: usize = 300;
/// A picture larger than this is not fetched for a thumbnail.
pub const MAX_PICTURE_BYTES: u64 = 20 * 1024 * 1024;
/// Longest side of a thumbnail, px.
pub const THUMBNAIL_SIDE: u32 = 320;
/// Longest sentence the console may pass.
const MAX_TEXT_CHARS: usize = 500;
/// Most header facts or map entries the console may pass.
const MAX_ENTRIES: usize = 40;

/// One line of the header: a label and its value, both worded by the console.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fact {
    /// "Queue", "Representative", "Opened" …
    pub label: String,
    /// Its value.
    pub value: String,
}

/// The sentences of a transcript in the user's language. `{who}`, `{name}`, `{type}`,
/// `{keywords}` and `{reason}` are filled in here.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptText {
    /// BCP-47 language of these sentences (the page's `lang`).
    pub lang: String,
    /// The heading and the file's name, e.g. "Transcript 王小明".
    pub title: String,
    /// The header's facts: customer, channel, queue, representative, opened, closed, rating …
    pub facts: Vec<Fact>,
    /// The footer: who exported it, when, and the time zone of the times.
    pub footer: String,
    /// Who the customer is in the timeline (their display name).
    pub customer: String,
    /// The team, for a message sent with no representative's name.
    pub team: String,
    /// Marks a message the relay sent by itself.
    pub automated: String,
    /// A note's heading: "Note from {who}".
    pub note: String,
    /// A whisper's heading: "Whisper from {who} to the owner".
    pub whisper: String,
    /// Says a note was never sent to the customer.
    pub internal: String,
    /// What happened to a message the team sent, by status: `queued`, `sending`, `reply`,
    /// `push`, `failed` (with `{reason}`), `unknown`.
    pub status: BTreeMap<String, String>,
    /// Timeline events by LINE type: `follow`, `unblocked`, `blocked`, `unsend`, `edited`,
    /// `attachment_blocked`.
    pub events: BTreeMap<String, String>,
    /// Any other event: "LINE event: {type}".
    pub event: String,
    /// Names of message kinds: `image`, `video`, `audio`, `file`, `sticker`, `location`.
    pub kinds: BTreeMap<String, String>,
    /// A sticker with its keywords: "Sticker: {keywords}".
    pub sticker_keywords: String,
    /// Stands in for a picture that could not be put in the file.
    pub no_picture: String,
    /// Said when the conversation has no messages.
    pub empty: String,
}

impl TranscriptText {
    /// English words with no facts, titled `title`: the console passes its own, in the user's
    /// language; this serves tools and tests.
    pub fn english(title: &str, customer: &str) -> Self {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        TranscriptText {
            lang: "en".into(),
            title: title.into(),
            facts: Vec::new(),
            footer: String::new(),
            customer: customer.into(),
            team: "Team".into(),
            automated: "Automatic message".into(),
            note: "Note from {who}".into(),
            whisper: "Whisper from {who} to the owner".into(),
            internal: "internal, not sent to LINE".into(),
            status: map(&[
                ("queued", "Waiting to send"),
                ("sending", "Sending…"),
                ("reply", "Sent · free (reply)"),
                ("push", "Sent · push (metered)"),
                ("failed", "Not sent: {reason}"),
                ("unknown", "Delivery unknown"),
            ]),
            events: map(&[
                ("follow", "Added the account as a friend"),
                ("unblocked", "Unblocked the account"),
                ("blocked", "Blocked the account"),
                ("unsend", "The customer unsent a message"),
                ("edited", "Edited a message"),
                (
                    "attachment_blocked",
                    "Sent an attachment this workstream does not accept",
                ),
            ]),
            event: "LINE event: {type}".into(),
            kinds: map(&[
                ("image", "Photo"),
                ("video", "Video"),
                ("audio", "Voice message"),
                ("file", "File"),
                ("sticker", "Sticker"),
                ("location", "Location"),
            ]),
            sticker_keywords: "Sticker: {keywords}".into(),
            no_picture: "picture not included".into(),
            empty: "No messages.".into(),
        }
    }
}

/// What is wrong with a [`TranscriptText`], `None` when it is fine.
pub fn check_text(text: &TranscriptText) -> Option<String> {
    let long = |s: &str| s.chars().count() > MAX_TEXT_CHARS;
    let sentences = [
        &text.lang,
        &text.title,
        &text.footer,
        &text.customer,
        &text.team,
        &text.automated,
        &text.note,
        &text.whisper,
        &text.internal,
        &text.event,
        &text.sticker_keywords,
        &text.no_picture,
        &text.empty,
    ];
    if sentences.iter().any(|s| long(s)) {
        return Some(format!(
            "a sentence is longer than {MAX_TEXT_CHARS} characters"
        ));
    }
    if text.title.trim().is_empty() {
        return Some("the transcript needs a title".into());
    }
    let maps = [&text.status, &text.events, &text.kinds];
    if text.facts.len() > MAX_ENTRIES || maps.iter().any(|m| m.len() > MAX_ENTRIES) {
        return Some(format!("at most {MAX_ENTRIES} facts or words of one kind"));
    }
    let entries = text
        .facts
        .iter()
        .flat_map(|f| [&f.label, &f.value])
        .chain(maps.iter().flat_map(|m| m.iter().flat_map(|(k, v)| [k, v])));
    for s in entries {
        if long(s) {
            return Some(format!(
                "a sentence is longer than {MAX_TEXT_CHARS} characters"
            ));
        }
    }
    None
}

/// The part of a chat's messages that belongs to relay conversation `id`, as a time range
/// `[from, to)` in UTC ms (`to` `None`: to the end). `episodes` may come in any order;
/// `first_inbound(a, b)` answers when the chat's first customer message in `[a, b]` was stamped.
///
/// A conversation starts with the customer message that opened it. That message carries LINE's
/// time and the conversation the relay's, a moment later, so the opener is the first customer
/// message (or button press) from [`OPENING_GRACE_MS`] before the opening, but not before the
/// previous conversation closed. The first conversation the cache knows starts that minute
/// before it opened (the customer adding the account). Everything up to the next
/// conversation's opener belongs to this one: its closing message, the survey answer (unless
/// the customer wrote again within the minute: then the next one starts with it).
pub fn span(
    episodes: &[ConversationSnapshot],
    id: &str,
    first_inbound: impl Fn(i64, i64) -> Option<i64>,
) -> Option<(i64, Option<i64>)> {
    let mut sorted: Vec<&ConversationSnapshot> = episodes.iter().collect();
    sorted.sort_by(|a, b| (a.opened_at, &a.id).cmp(&(b.opened_at, &b.id)));
    let at = sorted.iter().position(|e| e.id == id)?;
    let start = |i: usize| -> i64 {
        let this = sorted[i];
        let Some(prev) = i.checked_sub(1).map(|p| sorted[p]) else {
            // The first the cache knows: the customer adding the account just before it opened
            // belongs to it, what came earlier does not.
            return this.opened_at - OPENING_GRACE_MS;
        };
        let prev_end = prev.closed_at.unwrap_or(prev.opened_at);
        let from = (this.opened_at - OPENING_GRACE_MS).max(prev_end);
        first_inbound(from, this.opened_at)
            .unwrap_or(this.opened_at)
            .min(this.opened_at)
    };
    let to = (at + 1 < sorted.len()).then(|| start(at + 1));
    Some((start(at), to))
}

/// Which picture a message shows, if any: a customer's photo (by LINE message id) or the
/// preview of a picture or video the team sent (by upload URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PictureSource {
    /// A customer's photo, from the relay's media.
    Customer {
        /// LINE channel.
        channel_id: String,
        /// LINE message id.
        message_id: String,
    },
    /// The preview of what the team sent, from the relay's uploads.
    Sent {
        /// The preview's URL.
        url: String,
    },
}

/// The picture message `m` shows in a transcript, if any.
pub fn picture_of(m: &Message, channel_id: &str) -> Option<PictureSource> {
    if m.hidden {
        return None;
    }
    match (m.direction.as_str(), m.kind.as_str()) {
        ("in", "image") => Some(PictureSource::Customer {
            channel_id: channel_id.to_owned(),
            message_id: m.line_message_id.clone()?,
        }),
        ("out", "image" | "video") => {
            let body: Value = serde_json::from_str(&m.body).ok()?;
            let url = body.get("previewImageUrl")?.as_str()?;
            Some(PictureSource::Sent {
                url: url.to_owned(),
            })
        }
        _ => None,
    }
}

/// A JPEG thumbnail of an image, as a `data:` URI; `None` when it cannot be read.
/// The image is untrusted: its size is checked before decoding and decoding is bounded.
pub fn thumbnail(bytes: &[u8]) -> Option<String> {
    use base64::Engine as _;
    let reader = || {
        image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .ok()
    };
    let (w, h) = reader()?.into_dimensions().ok()?;
    if u64::from(w) * u64::from(h) > 40_000_000 {
        return None;
    }
    let mut reader = reader()?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().ok()?;
    let small = img.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE).to_rgb8();
    let mut out = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 75)
        .encode_image(&small)
        .ok()?;
    Some(format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(out.into_inner())
    ))
}

/// Everything a transcript shows.
pub struct Document<'a> {
    /// The sentences.
    pub text: &'a TranscriptText,
    /// The time zone times are written in.
    pub zone: &'a jiff::tz::TimeZone,
    /// The messages, oldest first.
    pub messages: &'a [Message],
    /// Thumbnails (`data:` URIs) by message id.
    pub pictures: &'a HashMap<i64, String>,
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --ink: #1d2126; --ink-2: #5b636d; --bg: #ffffff; --bg-2: #f1f3f5;
  --mine: #d8f5e0; --note: #fff6d6; --note-edge: #b28a00; --line: #d5d9de; --bad: #b3261e; }
@media screen and (prefers-color-scheme: dark) {
  :root { --ink: #e6e8eb; --ink-2: #a3abb5; --bg: #16191d; --bg-2: #252a30; --mine: #1f4a2c;
    --note: #3b3218; --note-edge: #d9b23a; --line: #3a4048; --bad: #ff8a80; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 820px; padding: 24px; font: 14px/1.45 system-ui, "Noto Sans",
  "Noto Sans CJK TC", "Noto Sans CJK JP", "Noto Sans Thai", sans-serif; color: var(--ink); background: var(--bg); }
h1 { font-size: 20px; margin: 0 0 12px; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 20px;
  padding-bottom: 12px; border-bottom: 1px solid var(--line); }
dl.facts dt { color: var(--ink-2); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ol.timeline { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 8px; }
.day { align-self: center; font-size: 12px; color: var(--ink-2); border-bottom: 1px solid var(--line); padding: 8px 0 2px; }
.msg { max-width: 75%; display: grid; gap: 2px; break-inside: avoid; }
.msg.in { align-self: flex-start; }
.msg.out { align-self: flex-end; justify-items: end; }
.msg.automated { align-self: center; justify-items: center; }
.who { font-size: 12px; color: var(--ink-2); }
.bubble { background: var(--bg-2); border-radius: 8px; padding: 6px 10px; white-space: pre-wrap; overflow-wrap: anywhere; }
.out .bubble { background: var(--mine); }
.automated .bubble { background: var(--bg-2); color: var(--ink-2); border: 1px dashed var(--line); }
.bubble img { display: block; max-width: 100%; height: auto; border-radius: 4px; }
.tag { font-size: 11px; color: var(--ink-2); }
.note { align-self: stretch; margin: 0 8%; border: 1px dashed var(--note-edge); background: var(--note);
  border-radius: 8px; padding: 6px 10px; break-inside: avoid; }
.note.whisper { border-style: solid; }
.note .who { color: var(--ink); font-weight: 600; }
.note p { margin: 2px 0 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.event { align-self: center; font-size: 12px; color: var(--ink-2); }
.status-failed, .status-unknown, .status-queued, .status-sending { color: var(--bad); }
footer { margin-top: 24px; padding-top: 8px; border-top: 1px solid var(--line); font-size: 12px; color: var(--ink-2); }
@media print { body { max-width: none; padding: 0; } .bubble, .note { border: 1px solid var(--line); } }
"#;

/// The data of a postback event.
fn postback_data(m: &Message) -> Option<String> {
    let body: Value = serde_json::from_str(&m.body).ok()?;
    Some(body.get("postback")?.get("data")?.as_str()?.to_owned())
}

/// Fills `{name}` in a sentence.
fn fill(template: &str, name: &str, value: &str) -> String {
    template.replace(&format!("{{{name}}}"), value)
}

fn kind_word<'a>(text: &'a TranscriptText, kind: &'a str) -> &'a str {
    text.kinds.get(kind).map(String::as_str).unwrap_or(kind)
}

/// `m:ss` of a duration in ms.
fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// A file size in kB or MB.
fn size(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} kB", (bytes + 1023) / 1024)
    }
}

/// The content of a message's bubble.
fn content(doc: &Document<'_>, m: &Message) -> Markup {
    let text = doc.text;
    let body: Value = serde_json::from_str(&m.body).unwrap_or(Value::Null);
    let s = |key: &str| body.get(key).and_then(Value::as_str);
    let n = |key: &str| body.get(key).and_then(Value::as_i64);
    let picture = doc.pictures.get(&m.id);
    match m.kind.as_str() {
        "text" => html! { (m.text.as_deref().unwrap_or_default()) },
        "image" | "video" => {
            let word = kind_word(text, &m.kind);
            html! {
                @if let Some(src) = picture {
                    img src=(src) alt=(word);
                    @if m.kind == "video" { span.tag { (word) @if let Some(d) = n("duration") { " " (duration(d)) } } }
                } @else if m.kind == "video" && m.direction == "in" {
                    // LINE gives no still of a customer's video: its length says what it was.
                    span.tag { (word) @if let Some(d) = n("duration") { " " (duration(d)) } }
                } @else {
                    span.tag { (word) @if let Some(d) = n("duration") { " " (duration(d)) } " · " (text.no_picture) }
                }
            }
        }
        "audio" => html! {
            (kind_word(text, "audio")) @if let Some(d) = n("duration") { " " (duration(d)) }
        },
        "file" => html! {
            (kind_word(text, "file")) ": " (s("fileName").unwrap_or_default())
            @if let Some(b) = n("fileSize") { " (" (size(b)) ")" }
        },
        "location" => html! {
            (s("title").unwrap_or_else(|| kind_word(text, "location")))
            @if let Some(a) = s("address") { "\n" (a) }
            @if let (Some(lat), Some(lon)) = (body.get("latitude").and_then(Value::as_f64), body.get("longitude").and_then(Value::as_f64)) {
                "\n" (format!("{lat:.5}, {lon:.5}"))
            }
        },
        "sticker" => {
            let keywords: Vec<&str> = body
                .get("keywords")
                .and_then(Value::as_array)
                .map(|k| k.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            html! {
                @if keywords.is_empty() { (kind_word(text, "sticker")) }
                @else { (fill(&text.sticker_keywords, "keywords", &keywords.join(", "))) }
                @if let Some(t) = s("text") { "\n" (t) }
            }
        }
        // Buttons, carousels, flex (the survey's question, for one): their alternative text.
        other => html! {
            (m.text.clone()
                .or_else(|| s("altText").map(str::to_owned))
                .unwrap_or_else(|| fill(&text.event, "type", other)))
        },
    }
}

/// The status line of a message the team sent.
fn status(text: &TranscriptText, m: &Message) -> Option<(String, String)> {
    let key = match m.status.as_deref()? {
        "sent" => m.via.as_deref().unwrap_or("push"),
        other => other,
    };
    let words = text.status.get(key)?;
    Some((
        format!(
            "status-{}",
            if m.status.as_deref() == Some("sent") {
                "sent"
            } else {
                key
            }
        ),
        fill(words, "reason", m.error.as_deref().unwrap_or_default()),
    ))
}

fn item(doc: &Document<'_>, m: &Message, time: &str) -> Markup {
    let text = doc.text;
    match (m.direction.as_str(), m.kind.as_str()) {
        ("event", "note" | "whisper") => {
            let template = if m.kind == "whisper" {
                &text.whisper
            } else {
                &text.note
            };
            html! {
                li class=(format!("note {}", m.kind)) {
                    span.who { (fill(template, "who", m.sent_by.as_deref().unwrap_or_default())) }
                    " " span.tag { "(" (text.internal) ") · " (time) }
                    p { (m.text.as_deref().unwrap_or_default()) }
                }
            }
        }
        ("event", kind) => {
            let words = text
                .events
                .get(kind)
                .cloned()
                .unwrap_or_else(|| fill(&text.event, "type", kind));
            html! { li.event { (words) " · " (time) } }
        }
        (direction, _) => {
            let automated = m.automated.is_some();
            let who = match (direction, automated, m.sent_by.as_deref()) {
                ("in", _, _) => text.customer.clone(),
                (_, true, _) => text.automated.clone(),
                (_, false, Some(name)) => name.to_owned(),
                _ => text.team.clone(),
            };
            let class = format!(
                "msg {direction}{}",
                if automated { " automated" } else { "" }
            );
            let status = (direction == "out").then(|| status(text, m)).flatten();
            html! {
                li class=(class) data-kind=(m.kind) {
                    span.who { (who) " · " (time) }
                    div.bubble { (content(doc, m)) }
                    @if let Some((class, words)) = status { span class=(format!("tag {class}")) { (words) } }
                }
            }
        }
    }
}

/// The whole file.
pub fn render(doc: &Document<'_>) -> String {
    let text = doc.text;
    let local = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.to_zoned(doc.zone.clone()))
            .ok()
    };
    let mut day = String::new();
    let mut items = Vec::with_capacity(doc.messages.len());
    // Unsent messages are left out (the "unsent" event marks the place), and so are the
    // survey's and consent's button presses (the answer's text is in the timeline).
    let linedesk_postback = |m: &Message| {
        m.kind == "postback" && postback_data(m).is_some_and(|d| d.starts_with("linedesk-"))
    };
    let shown = |m: &&Message| !m.hidden && !linedesk_postback(m);
    for m in doc.messages.iter().filter(shown) {
        let (this_day, time) = match local(m.created_at) {
            Some(z) => (
                z.strftime("%Y-%m-%d").to_string(),
                z.strftime("%H:%M").to_string(),
            ),
            None => (String::new(), String::new()),
        };
        if this_day != day {
            items.push(html! { li.day { (this_day) } });
            day = this_day;
        }
        items.push(item(doc, m, &time));
    }
    let csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";
    let page = html! {
        (DOCTYPE)
        html lang=(text.lang) {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(csp);
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content="linedesk";
                title { (text.title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { (text.title) }
                    dl.facts {
                        @for f in &text.facts { dt { (f.label) } dd { (f.value) } }
                    }
                }
                main {
                    @if items.is_empty() { p { (text.empty) } }
                    @else { ol.timeline { @for i in &items { (i) } } }
                }
                footer { (text.footer) }
            }
        }
    };
    page.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text() -> TranscriptText {
        let mut t = TranscriptText::english("Transcript Ann", "Ann");
        t.facts.push(Fact {
            label: "Queue".into(),
            value: "Support <TW>".into(),
        });
        t
    }

    fn message(id: i64, direction: &str, kind: &str, text: Option<&str>, body: Value) -> Message {
        Message {
            id,
            conversation_id: 1,
            seq: Some(id),
            line_message_id: Some(format!("m{id}")),
            outbox_id: None,
            direction: direction.into(),
            kind: kind.into(),
            text: text.map(str::to_owned),
            body: body.to_string(),
            // 2026-12-01 09:00 UTC + id minutes
            created_at: 1_796_115_600_000 + id * 60_000,
            status: None,
            via: None,
            error: None,
            sent_by: None,
            hidden: false,
            automated: None,
        }
    }

    #[test]
    fn customer_text_is_escaped_and_nothing_outside_the_file_is_referenced() {
        let hostile = r#"<img src="https://evil.example/x.png" onerror=alert(1)></li><script>alert(2)</script>"#;
        let msgs = [message(1, "in", "text", Some(hostile), json_text(hostile))];
        let t = text();
        let zone = jiff::tz::TimeZone::get("Asia/Taipei").expect("zone");
        let html = render(&Document {
            text: &t,
            zone: &zone,
            messages: &msgs,
            pictures: &HashMap::new(),
        });
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img src=\"https"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(2)&lt;/script&gt;"));
        assert!(html.contains("Support &lt;TW&gt;"), "facts are escaped too");
        assert!(html.contains("default-src 'none'; img-src data:"));
        // 09:01 UTC is 17:01 in Taipei.
        assert!(html.contains("Ann · 17:01"), "{html}");
        assert!(html.contains("<li class=\"day\">2026-12-01</li>"));
    }

    fn json_text(t: &str) -> Value {
        serde_json::json!({"type": "text", "text": t})
    }

    #[test]
    fn a_conversation_runs_from_its_opener_to_the_next_ones_opener() {
        let ep = |id: &str, opened_at: i64, closed_at: i64| {
            let mut s: ConversationSnapshot = serde_json::from_value(serde_json::json!({
                "id": id, "version": 1, "channelId": "c", "chatId": "U1", "state": "closed",
                "queueId": "q", "queueName": "Q", "mode": "push", "owner": null, "offer": null,
                "firstText": null, "language": null, "openedAt": 0, "lastCustomerAt": 0,
                "acceptedAt": null, "endedAt": null, "closedAt": null, "closeReason": null,
                "transferredFrom": null, "consultants": [], "survey": null
            }))
            .expect("snapshot");
            s.opened_at = opened_at;
            s.closed_at = Some(closed_at);
            s
        };
        // Customer messages (LINE's time): a's opener at 99 s, a survey answer at 480 s, b's
        // opener at 498 s (b opened at 500 s), a message at 800 s, more than a minute before c
        // opened at 900 s: c starts when it opened.
        let inbound = [99_000, 480_000, 498_000, 800_000];
        let first = |a: i64, b: i64| inbound.iter().copied().find(|t| (a..=b).contains(t));
        let eps = [
            ep("b", 500_000, 700_000),
            ep("a", 100_000, 470_000),
            ep("c", 900_000, 950_000),
        ];
        assert_eq!(span(&eps, "a", first), Some((40_000, Some(480_000))));
        // The survey answer at 480 s falls within the minute before b opened: b takes it.
        assert_eq!(span(&eps, "b", first), Some((480_000, Some(900_000))));
        assert_eq!(span(&eps, "c", first), Some((900_000, None)));
        assert_eq!(span(&eps, "z", first), None);
    }

    #[test]
    fn thumbnails_are_small_jpegs_and_garbage_is_none() {
        let img = image::RgbImage::from_pixel(1600, 900, image::Rgb([10, 200, 30]));
        let mut png = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut png, image::ImageFormat::Png)
            .expect("png");
        let uri = thumbnail(png.get_ref()).expect("a thumbnail");
        let b64 = uri
            .strip_prefix("data:image/jpeg;base64,")
            .expect("jpeg uri");
        use base64::Engine as _;
        let jpeg = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64");
        let small = image::load_from_memory(&jpeg).expect("decodes");
        assert_eq!((small.width(), small.height()), (320, 180));
        assert_eq!(thumbnail(b"not an image"), None);
    }
}
