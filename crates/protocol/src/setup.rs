//! What an admin sets up: a workstream per channel, queues, routing rules, operating hours,
//! automated messages and the survey. The relay stores them as JSON and checks them before
//! anything is saved; the console's forms edit them (`GET`/`PUT /api/workstreams/{channel}`,
//! `GET /api/queues`, `PUT /api/queues/{id}`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::routing::DistributionMode;

/// The queue every channel starts with.
pub const DEFAULT_QUEUE: &str = "general";

/// How long a wrap-up keeps using the representative's capacity.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    /// The conversation waits in its queue: its place (`{Position}`), sent when it is queued
    /// while nobody can take it at once (a new conversation, or a transfer to a queue).
    QueuePosition,
    /// Another representative accepted a transferred conversation (`{AgentName}`).
    TransferAccepted,
}

/// The survey sent when a conversation closes.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Shown to admins.
    pub name: String,
    /// All must hold.
    pub conditions: Vec<Condition>,
    /// The queue chosen (when `split` is empty).
    pub queue: String,
    /// Spread the matching conversations across queues by percentage (must add up to 100);
    /// empty sends them all to `queue`.
    #[serde(default)]
    pub split: Vec<Share>,
    /// Skills a representative needs for these conversations.
    #[serde(default)]
    pub required_skills: Vec<String>,
    /// How strictly the skills must match.
    #[serde(default)]
    pub skill_match: SkillMatch,
}

/// A rule's share of one queue.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Share {
    /// The queue.
    pub queue: String,
    /// Percent of the rule's conversations, 1 to 100.
    pub percent: u32,
}

/// How a conversation's required skills choose representatives.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkillMatch {
    /// Only representatives with every required skill.
    #[default]
    Exact,
    /// Those with the most of the required skills first; anyone when nobody has one.
    Closest,
}

/// What a representative's presence becomes after an offer goes wrong.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PresenceRules {
    /// After an offer lapsed unanswered: `inactive`, `away` or `do_not_disturb` (none:
    /// unchanged).
    pub after_missed: Option<crate::routing::Presence>,
    /// After a reject: `do_not_disturb` or `away` (none: unchanged).
    pub after_reject: Option<crate::routing::Presence>,
}

/// A channel's workstream.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    /// Presence changes after a missed or rejected offer.
    pub presence_rules: PresenceRules,
    /// Close Open conversations nobody took after this long without activity.
    pub open_auto_close_after_ms: Option<i64>,
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
            presence_rules: PresenceRules::default(),
            open_auto_close_after_ms: Some(30 * 24 * 3_600_000),
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

/// A slot of operating hours.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    /// Answered within this long counts toward the service level (for the board).
    #[serde(default)]
    pub service_level: Option<ServiceLevel>,
    /// What happens when too many wait or wait too long, checked in order.
    #[serde(default)]
    pub overflow: Vec<Overflow>,
}

/// A queue's service-level target: `percent` of conversations answered within `within_ms`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceLevel {
    /// Target share, 1 to 100.
    pub percent: u32,
    /// Answered within, milliseconds.
    pub within_ms: i64,
}

/// When a queue overflows, and what happens to a conversation it concerns. Each conversation
/// overflows at most once.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overflow {
    /// The condition.
    pub when: OverflowWhen,
    /// The action.
    pub action: OverflowAction,
}

/// An overflow condition.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum OverflowWhen {
    /// More than `count` wait: the ones beyond the first `count` overflow.
    WaitingOver {
        /// How many may wait.
        count: u32,
    },
    /// A conversation has waited longer than `ms`.
    OldestOver {
        /// Milliseconds.
        ms: i64,
    },
}

/// An overflow action.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum OverflowAction {
    /// Move it to another queue.
    MoveTo {
        /// The queue.
        queue: String,
    },
    /// Tell the customer (per language; `{QueueName}` and `{Position}` filled in); it
    /// stays in the queue.
    Message {
        /// Text per language.
        text: BTreeMap<String, String>,
    },
}

impl Default for Queue {
    fn default() -> Self {
        Self {
            name: "General".into(),
            priority: 0,
            members: Vec::new(),
            supervisors: Vec::new(),
            hours: None,
            service_level: None,
            overflow: Vec::new(),
        }
    }
}

/// One queue as `GET /api/queues` lists it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueEntry {
    /// The queue's ID (URL-safe, fixed).
    pub id: String,
    /// Its set-up.
    pub queue: Queue,
}

/// `PUT /api/agents/{user}` body: a representative's capacity.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSettings {
    /// Capacity units, 0 to 100.
    pub capacity: u32,
}

/// `POST /api/workstreams/{channel}/test` body: a sample customer and message, and the
/// workstream as the form holds it (saved or not).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RuleTest {
    /// The rules to try.
    pub workstream: Workstream,
    /// The first message.
    pub text: String,
    /// The customer's LINE language (`th`, `zh-TW`…), if known.
    pub language: Option<String>,
    /// Whether the customer follows the account.
    pub following: bool,
    /// The linked contact's fields (`company`, custom fields…); none: not linked.
    pub contact: Option<BTreeMap<String, String>>,
}

/// Where a sample conversation would go.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleTestAnswer {
    /// The first rule that matched (0-based); none: the fallback queue.
    pub rule: Option<u32>,
    /// Its name.
    pub rule_name: Option<String>,
    /// The queues and their shares (one queue at 100 % without a split).
    pub queues: Vec<Share>,
    /// Skills a representative would need.
    pub required_skills: Vec<String>,
    /// How they would match.
    pub skill_match: SkillMatch,
}
