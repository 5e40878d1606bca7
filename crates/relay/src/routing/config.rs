//! What an admin sets up: a workstream per channel, queues, routing rules, operating hours,
//! automated messages and the survey. Stored as JSON and checked by [`Workstream::validate`]
//! and [`Queue::validate`] before anything is saved.

use std::collections::BTreeMap;

use linedesk_protocol::routing::DistributionMode;
use serde::{Deserialize, Serialize};

/// The queue every channel starts with.
pub const DEFAULT_QUEUE: &str = "general";

/// How long a wrap-up keeps using the representative's capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum WrapUpBlocks {
    /// Until the representative closes it.
    Always,
    /// Not at all.
    Never,
    /// For this long after the end.
    #[serde(rename_all = "camelCase")]
    Duration {
        /// Milliseconds.
        ms: i64,
    },
}

/// Attachment permissions, enforced on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Attachments {
    /// Customers' images, video, audio and files reach representatives.
    pub customers_can_send: bool,
    /// Representatives may attach files.
    pub representatives_can_send: bool,
}

impl Default for Attachments {
    fn default() -> Self {
        Self {
            customers_can_send: true,
            representatives_can_send: true,
        }
    }
}

/// The events that send an automated message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A new conversation opened.
    Greeting,
    /// A representative accepted.
    Assigned,
    /// Nobody could be assigned (no member available).
    NoAgent,
    /// The representative ended the conversation.
    Ended,
    /// The queue is outside its operating hours.
    OutOfHours,
    /// Today is a holiday of the queue.
    Holiday,
    /// The conversation closed.
    Closed,
    /// A customer attachment was not let through.
    AttachmentBlocked,
    /// The survey comment was received.
    SurveyThanks,
}

/// The survey sent when a conversation closes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Survey {
    /// No survey.
    Off,
    /// Quick-reply rating buttons, then an optional comment.
    #[serde(rename_all = "camelCase")]
    Buttons {
        /// The question, per language.
        question: BTreeMap<String, String>,
        /// Button labels, lowest rating first (1..=n); at most 13 (LINE's quick-reply limit).
        scale: Vec<String>,
        /// Ask for a comment after the rating, per language; empty: no comment.
        #[serde(default)]
        comment_prompt: BTreeMap<String, String>,
    },
    /// A link to an outside survey.
    #[serde(rename_all = "camelCase")]
    Link {
        /// The text, per language, with `{Url}` where the link goes.
        text: BTreeMap<String, String>,
        /// The survey URL.
        url: String,
    },
}

impl Default for Survey {
    fn default() -> Self {
        Survey::Buttons {
            question: BTreeMap::from([
                ("en".into(), "How did we do? Tap a rating.".into()),
                ("zh-TW".into(), "請為這次的服務評分。".into()),
                (
                    "ja".into(),
                    "今回の対応はいかがでしたか？評価をタップしてください。".into(),
                ),
                ("th".into(), "โปรดให้คะแนนการบริการครั้งนี้".into()),
            ]),
            scale: ["1", "2", "3", "4", "5"].map(String::from).to_vec(),
            comment_prompt: BTreeMap::from([
                (
                    "en".into(),
                    "Thank you! Anything you would like to add? Just write it here.".into(),
                ),
                (
                    "zh-TW".into(),
                    "謝謝！還有什麼想告訴我們的嗎？請直接輸入。".into(),
                ),
                (
                    "ja".into(),
                    "ありがとうございます。ご意見があればそのまま送信してください。".into(),
                ),
                ("th".into(), "ขอบคุณค่ะ มีอะไรอยากบอกเพิ่มเติม พิมพ์ได้เลย".into()),
            ]),
        }
    }
}

/// A condition of a routing rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "field")]
pub enum Condition {
    /// The customer's LINE language is one of these (prefix match: `zh` matches `zh-TW`).
    Language {
        /// Languages.
        #[serde(rename = "in")]
        any_of: Vec<String>,
    },
    /// The first message contains one of these words (case-insensitive).
    #[serde(rename_all = "camelCase")]
    Keywords {
        /// Words.
        any_of: Vec<String>,
    },
    /// The first message matches this regular expression.
    Regex {
        /// The pattern (Rust `regex` syntax).
        pattern: String,
    },
    /// The conversation came in on one of these channels.
    Channel {
        /// Channel IDs.
        #[serde(rename = "in")]
        any_of: Vec<String>,
    },
    /// The customer follows the account (or has blocked it).
    Following {
        /// Wanted state.
        value: bool,
    },
    /// Local time of day is within `[from, to)` in `time_zone` (`HH:MM`).
    #[serde(rename_all = "camelCase")]
    TimeOfDay {
        /// IANA time zone.
        time_zone: String,
        /// Start, `HH:MM`.
        from: String,
        /// End, `HH:MM` (exclusive); may be earlier than `from` to span midnight.
        to: String,
    },
    /// The customer's LINE profile is linked to one contact (`true`) or to none (`false`;
    /// a profile linked to two contacts counts as none until a supervisor decides).
    KnownContact {
        /// Wanted state.
        value: bool,
    },
    /// A field of the linked contact is one of these values (case-insensitive): `name`,
    /// `company`, `email`, `phone`, or a custom field's name.
    ContactField {
        /// The contact field's name.
        name: String,
        /// Values.
        #[serde(rename = "in")]
        any_of: Vec<String>,
    },
}

/// An ordered routing rule: all conditions match → this queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Shown to admins.
    pub name: String,
    /// All must hold.
    pub conditions: Vec<Condition>,
    /// The queue chosen.
    pub queue: String,
}

/// A channel's workstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Workstream {
    /// Push or pick; fixed once the workstream exists.
    pub mode: DistributionMode,
    /// Where a conversation goes when no rule matches.
    pub fallback_queue: String,
    /// Capacity units one conversation uses.
    pub capacity_units: u32,
    /// Whether wrap-up keeps using capacity.
    pub wrap_up_blocks: WrapUpBlocks,
    /// Close Active, Waiting and Wrap-up conversations after this long without activity.
    pub auto_close_after_ms: Option<i64>,
    /// Offer a returning customer to their last representative first.
    pub affinity: bool,
    /// How long after a close affinity holds.
    pub affinity_window_ms: i64,
    /// The workstream's language, for automated messages when the customer's is unknown.
    pub language: String,
    /// Attachment permissions.
    pub attachments: Attachments,
    /// Push offer countdown.
    pub offer_timeout_ms: i64,
    /// Declines (reject or timeout) after which a representative is skipped for the item.
    pub decline_limit: u32,
    /// Routing rules, first match wins.
    pub rules: Vec<Rule>,
    /// Automated messages: trigger → language → text (slugs `{AgentName}`, `{QueueName}`,
    /// `{CustomerName}`). A trigger without text sends nothing.
    pub messages: BTreeMap<Trigger, BTreeMap<String, String>>,
    /// The post-conversation survey.
    pub survey: Survey,
}

impl Default for Workstream {
    fn default() -> Self {
        let m = |pairs: [(&str, &str); 4]| -> BTreeMap<String, String> {
            pairs
                .into_iter()
                .map(|(l, t)| (l.into(), t.into()))
                .collect()
        };
        Self {
            mode: DistributionMode::Push,
            fallback_queue: DEFAULT_QUEUE.into(),
            capacity_units: 1,
            wrap_up_blocks: WrapUpBlocks::Duration { ms: 60_000 },
            auto_close_after_ms: Some(24 * 3_600_000),
            affinity: true,
            affinity_window_ms: 7 * 24 * 3_600_000,
            language: "en".into(),
            attachments: Attachments::default(),
            offer_timeout_ms: 120_000,
            decline_limit: 3,
            rules: Vec::new(),
            // Greeting and "assigned" are off by default: they would spend the free reply
            // token that the representative's first answer can use.
            messages: BTreeMap::from([
                (Trigger::OutOfHours, m([
                    ("en", "Thanks for your message. We are closed now and will answer when {QueueName} opens."),
                    ("zh-TW", "感謝您的訊息。目前非服務時間，{QueueName} 開始服務後會盡快回覆您。"),
                    ("ja", "メッセージありがとうございます。ただいま営業時間外です。{QueueName}の営業開始後にご返信します。"),
                    ("th", "ขอบคุณสำหรับข้อความ ขณะนี้อยู่นอกเวลาทำการ เราจะตอบกลับเมื่อ {QueueName} เปิดทำการ"),
                ])),
                (Trigger::Holiday, m([
                    ("en", "Thanks for your message. We are closed for a holiday today and will answer on our next working day."),
                    ("zh-TW", "感謝您的訊息。今天是休假日，我們將於下一個工作日回覆您。"),
                    ("ja", "メッセージありがとうございます。本日は休業日のため、次の営業日にご返信します。"),
                    ("th", "ขอบคุณสำหรับข้อความ วันนี้เป็นวันหยุด เราจะตอบกลับในวันทำการถัดไป"),
                ])),
                (Trigger::NoAgent, m([
                    ("en", "All our representatives are busy. You are in the queue and we will answer as soon as we can."),
                    ("zh-TW", "目前客服人員皆忙碌中，您已在排隊中，我們會盡快回覆。"),
                    ("ja", "ただいま担当者が全員対応中です。順番にご返信しますので、少々お待ちください。"),
                    ("th", "ขณะนี้เจ้าหน้าที่ทุกคนไม่ว่าง คุณอยู่ในคิวแล้ว เราจะตอบกลับโดยเร็วที่สุด"),
                ])),
                (Trigger::AttachmentBlocked, m([
                    ("en", "Sorry, we cannot receive files here. Please describe your request in a message."),
                    ("zh-TW", "抱歉，此處無法接收檔案，請以文字說明您的需求。"),
                    ("ja", "申し訳ありません。こちらではファイルを受け取れません。メッセージでご用件をお知らせください。"),
                    ("th", "ขออภัย ช่องทางนี้ไม่สามารถรับไฟล์ได้ กรุณาพิมพ์ข้อความแจ้งเรื่องของคุณ"),
                ])),
                (Trigger::SurveyThanks, m([
                    ("en", "Thank you for your feedback."),
                    ("zh-TW", "感謝您的寶貴意見。"),
                    ("ja", "ご意見ありがとうございました。"),
                    ("th", "ขอบคุณสำหรับความคิดเห็น"),
                ])),
            ]),
            survey: Survey::default(),
        }
    }
}

/// Why a configuration was refused; says which field and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConfigError {
    /// The field, as a JSON path.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: message.into(),
    }
}

impl Workstream {
    /// Checks everything a running relay relies on. `queue_exists` answers for queue IDs.
    pub fn validate(&self, queue_exists: &dyn Fn(&str) -> bool) -> Result<(), ConfigError> {
        if !queue_exists(&self.fallback_queue) {
            return Err(bad("fallbackQueue", "no such queue"));
        }
        if self.capacity_units == 0 || self.capacity_units > 100 {
            return Err(bad("capacityUnits", "must be 1 to 100"));
        }
        if !(10_000..=3_600_000).contains(&self.offer_timeout_ms) {
            return Err(bad("offerTimeoutMs", "must be 10 seconds to 1 hour"));
        }
        if self.decline_limit == 0 {
            return Err(bad("declineLimit", "must be at least 1"));
        }
        if let WrapUpBlocks::Duration { ms } = self.wrap_up_blocks {
            if ms < 0 {
                return Err(bad("wrapUpBlocks.ms", "must not be negative"));
            }
        }
        if self.auto_close_after_ms.is_some_and(|ms| ms < 60_000) {
            return Err(bad("autoCloseAfterMs", "must be at least a minute"));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            if !queue_exists(&rule.queue) {
                return Err(bad(format!("rules[{i}].queue"), "no such queue"));
            }
            for (j, c) in rule.conditions.iter().enumerate() {
                let field = format!("rules[{i}].conditions[{j}]");
                match c {
                    Condition::Regex { pattern } => {
                        regex::RegexBuilder::new(pattern)
                            .size_limit(1 << 20)
                            .build()
                            .map_err(|e| bad(&field, format!("invalid regular expression: {e}")))?;
                    }
                    Condition::TimeOfDay {
                        time_zone,
                        from,
                        to,
                    } => {
                        super::hours::zone(time_zone).map_err(|m| bad(&field, m))?;
                        super::hours::parse_hhmm(from).map_err(|m| bad(&field, m))?;
                        super::hours::parse_hhmm(to).map_err(|m| bad(&field, m))?;
                    }
                    Condition::ContactField { name, any_of } => {
                        if name.trim().is_empty() {
                            return Err(bad(
                                &field,
                                "name the contact field (company, or a custom field)",
                            ));
                        }
                        if any_of.is_empty() {
                            return Err(bad(&field, "list at least one value"));
                        }
                    }
                    _ => {}
                }
            }
        }
        match &self.survey {
            Survey::Buttons { scale, .. } if scale.is_empty() || scale.len() > 13 => {
                return Err(bad("survey.scale", "needs 1 to 13 buttons"));
            }
            Survey::Buttons { scale, .. }
                if scale.iter().any(|l| l.is_empty() || l.chars().count() > 20) =>
            {
                return Err(bad("survey.scale", "labels must be 1 to 20 characters"));
            }
            Survey::Link { url, .. } if !url.starts_with("https://") => {
                return Err(bad("survey.url", "must be an https:// link"));
            }
            _ => {}
        }
        for (trigger, texts) in &self.messages {
            for (lang, text) in texts {
                if linedesk_line::send::utf16_len(text) > linedesk_line::send::TEXT_MAX_UTF16 {
                    return Err(bad(
                        format!(
                            "messages.{}.{lang}",
                            serde_json::to_value(trigger)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default()
                        ),
                        "longer than LINE's 5,000 characters",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A slot of operating hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slot {
    /// Days: `mon` … `sun`.
    pub days: Vec<String>,
    /// Opens, `HH:MM`.
    pub from: String,
    /// Closes, `HH:MM` (exclusive).
    pub to: String,
}

/// A day the queue is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holiday {
    /// `YYYY-MM-DD` in the queue's time zone.
    pub date: String,
    /// Shown to admins.
    #[serde(default)]
    pub name: String,
}

/// When a queue is staffed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hours {
    /// IANA time zone, e.g. `Asia/Taipei`.
    pub time_zone: String,
    /// Open slots; the queue is closed outside them.
    pub weekly: Vec<Slot>,
    /// Closed all day.
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}

/// A queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Queue {
    /// Display name.
    pub name: String,
    /// Higher first.
    pub priority: i32,
    /// User names; empty means everyone who sets themselves available (any role).
    pub members: Vec<String>,
    /// Supervisors who watch this queue: they see its conversations (see `access`).
    #[serde(default)]
    pub supervisors: Vec<String>,
    /// Operating hours; `None` is always open.
    pub hours: Option<Hours>,
}

impl Default for Queue {
    fn default() -> Self {
        Self {
            name: "General".into(),
            priority: 0,
            members: Vec::new(),
            supervisors: Vec::new(),
            hours: None,
        }
    }
}

impl Queue {
    /// Checks names, time zone and hours.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.name.trim().is_empty() || self.name.chars().count() > 80 {
            return Err(bad("name", "must be 1 to 80 characters"));
        }
        if let Some(h) = &self.hours {
            super::hours::zone(&h.time_zone).map_err(|m| bad("hours.timeZone", m))?;
            for (i, slot) in h.weekly.iter().enumerate() {
                for d in &slot.days {
                    super::hours::weekday(d)
                        .map_err(|m| bad(format!("hours.weekly[{i}].days"), m))?;
                }
                let from = super::hours::parse_hhmm(&slot.from)
                    .map_err(|m| bad(format!("hours.weekly[{i}].from"), m))?;
                let to = super::hours::parse_hhmm(&slot.to)
                    .map_err(|m| bad(format!("hours.weekly[{i}].to"), m))?;
                if to <= from {
                    return Err(bad(format!("hours.weekly[{i}]"), "closes before it opens"));
                }
            }
            for (i, hday) in h.holidays.iter().enumerate() {
                hday.date
                    .parse::<jiff::civil::Date>()
                    .map_err(|_| bad(format!("hours.holidays[{i}].date"), "use YYYY-MM-DD"))?;
            }
        }
        Ok(())
    }
}

/// Valid queue IDs: short, URL-safe.
pub fn valid_queue_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
