//! Admin and identity: channels with their health, users, contacts linked to LINE profiles,
//! the audit of links, and privacy consent. Bodies and answers of the relay's admin API
//! (`/api/channels…`, `/api/users…`, `/api/contacts…`, `/api/profiles…`).
//!
//! Validation errors name the field: the message is one `field: reason` line per field, so a
//! form can put each reason under its input.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::routing::ConversationSnapshot;
use crate::Role;

/// Type of the log event that tells consoles to forget an erased customer. It names the chat
/// only by [`chat_hash`], so the event itself holds nothing of the person.
pub const ERASED_EVENT: &str = "linedeskErased";

/// SHA-256 (hex) of `{channel}/{chat}`: how the erasure event names a chat.
pub fn chat_hash(channel: &str, chat: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(format!("{channel}/{chat}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `POST /api/channels`: a LINE channel to serve, checked with LINE before it is saved.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewChannel {
    /// LINE channel ID (Basic settings tab).
    pub id: String,
    /// Name shown in the console.
    pub name: String,
    /// Channel secret.
    pub secret: String,
    /// Long-lived channel access token.
    pub token: String,
}

impl std::fmt::Debug for NewChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewChannel")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// `PUT /api/channels/{id}`: rename, or replace the secret or token (checked with LINE first).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelUpdate {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New channel secret.
    #[serde(default)]
    pub secret: Option<String>,
    /// New long-lived access token.
    #[serde(default)]
    pub token: Option<String>,
    /// Consent message settings; `Some(None)` is not expressible, so `consentOff` turns it off.
    #[serde(default)]
    pub consent: Option<ConsentSettings>,
    /// Turns the consent message off.
    #[serde(default)]
    pub consent_off: bool,
}

impl std::fmt::Debug for ChannelUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelUpdate")
            .field("name", &self.name)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// `POST /api/channels/{id}/delete` body.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteChannel {
    /// Send this text to customers whose conversation is closed (none when empty).
    #[serde(default)]
    pub message: Option<String>,
}

/// The consent message a channel sends on a customer's first contact.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentSettings {
    /// The question, by language tag (`en`, `zh-TW`, …); `*` is the fallback.
    pub message: BTreeMap<String, String>,
    /// Label of the agree button.
    pub agree: String,
    /// Label of the decline button.
    pub decline: String,
}

/// Where a profile's consent stands.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// Asked, no answer yet.
    Asked,
    /// Agreed.
    Granted,
    /// Declined.
    Declined,
}

/// The result of LINE's webhook test.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookTest {
    /// The relay answered 2xx.
    pub success: bool,
    /// What the relay answered LINE (0 or less: no answer).
    pub status_code: i32,
    /// LINE's reason code.
    pub reason: String,
    /// What it means, in plain words.
    pub detail: String,
    /// When, UTC ms.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: i64,
}

/// A channel's messages this month against its monthly limit, as LINE last reported them
/// (the reply-window bar shows it to representatives).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelQuota {
    /// Messages counted this month (push; replies are free), when known.
    pub used: Option<i64>,
    /// The monthly limit; `None` when the plan has none or it is not known.
    pub limit: Option<i64>,
}

/// A channel as admins see it: health figures, credentials masked.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelHealth {
    /// LINE channel ID.
    pub id: String,
    /// Name.
    pub name: String,
    /// The webhook URL to give LINE.
    pub callback_url: String,
    /// The secret's last four characters, the rest masked.
    pub secret_hint: String,
    /// The token's last four characters, the rest masked.
    pub token_hint: String,
    /// The bot's name at LINE.
    pub bot_name: Option<String>,
    /// Events received in all.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub events_received: i64,
    /// Events received today (UTC).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub events_today: i64,
    /// When the last one arrived.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_event_at: Option<i64>,
    /// Webhooks refused for a missing or wrong signature.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub signature_failures: i64,
    /// Media downloads that failed (an admin's retry puts them back in line and clears this).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub media_failures: i64,
    /// The saved secret or token does not open with this relay's key (sealed under another
    /// key): the channel is set aside until an admin enters them again.
    #[serde(default)]
    pub credentials_unreadable: bool,
    /// Whether LINE accepted the token when last checked (`None`: never checked).
    pub token_valid: Option<bool>,
    /// When it was checked.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub token_checked_at: Option<i64>,
    /// What LINE said when it refused the token.
    pub token_error: Option<String>,
    /// LINE's webhook URL for the channel, as last read.
    pub webhook_endpoint: Option<String>,
    /// LINE's "Use webhook" switch.
    pub webhook_active: Option<bool>,
    /// Whether LINE's webhook points at this relay (`false`: another tool owns it).
    pub webhook_ours: Option<bool>,
    /// Monthly message limit (`None`: unlimited or unknown).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub quota_limit: Option<i64>,
    /// Messages counted against it this month.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub quota_used: Option<i64>,
    /// The last webhook test.
    pub last_test: Option<WebhookTest>,
    /// The consent message, when on.
    pub consent: Option<ConsentSettings>,
    /// Deleted, UTC ms.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub deleted_at: Option<i64>,
}

/// A user as admins see it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// Login name.
    pub name: String,
    /// Role.
    #[cfg_attr(feature = "ts", ts(type = "\"rep\" | \"supervisor\" | \"admin\""))]
    pub role: Role,
    /// Capacity units.
    pub capacity: u32,
    /// Queues the user is a member of.
    pub queues: Vec<String>,
    /// Skills (free labels).
    pub skills: Vec<String>,
}

/// `POST /api/users` body.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// First password (at least 8 characters).
    pub password: String,
    /// Capacity units (default 3).
    #[serde(default)]
    pub capacity: Option<u32>,
    /// Queues to join.
    #[serde(default)]
    pub queues: Option<Vec<String>>,
    /// Skills.
    #[serde(default)]
    pub skills: Option<Vec<String>>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// `PUT /api/users/{name}` body: what changes.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserUpdate {
    /// New role.
    #[serde(default)]
    pub role: Option<Role>,
    /// New password (a reset; the user's sessions end).
    #[serde(default)]
    pub password: Option<String>,
    /// Capacity units.
    #[serde(default)]
    pub capacity: Option<u32>,
    /// Queues (replaces the membership).
    #[serde(default)]
    pub queues: Option<Vec<String>>,
    /// Skills.
    #[serde(default)]
    pub skills: Option<Vec<String>>,
}

impl std::fmt::Debug for UserUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserUpdate")
            .field("role", &self.role)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// The editable fields of a contact (`POST /api/contacts`, `PUT /api/contacts/{id}`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactFields {
    /// Name.
    pub name: String,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Company.
    #[serde(default)]
    pub company: Option<String>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// Custom fields.
    #[serde(default)]
    pub custom: BTreeMap<String, String>,
}

/// A LINE profile linked to a contact.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileLink {
    /// Channel.
    pub channel_id: String,
    /// LINE user ID.
    pub user_id: String,
    /// The LINE display name, when known.
    pub display_name: Option<String>,
    /// Who linked it.
    pub linked_by: String,
    /// When.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub linked_at: i64,
}

/// A contact record.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    /// Row id.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub id: i64,
    /// Fields.
    #[serde(flatten)]
    pub fields: ContactFields,
    /// Linked LINE profiles.
    pub links: Vec<ProfileLink>,
    /// Created, UTC ms.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created_at: i64,
    /// Last edited, UTC ms.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub updated_at: i64,
}

/// A contact named on a conversation.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactBrief {
    /// Row id.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub id: i64,
    /// Name.
    pub name: String,
    /// Company.
    pub company: Option<String>,
}

/// `POST /api/contacts/{id}/link` and `/unlink` body.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkRequest {
    /// Channel of the profile.
    pub channel_id: String,
    /// LINE user ID.
    pub user_id: String,
    /// Why (kept in the audit).
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /api/contacts` body: the fields, and optionally the profile to link at once.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewContact {
    /// The contact.
    #[serde(flatten)]
    pub fields: ContactFields,
    /// Link this profile to it.
    #[serde(default)]
    pub link: Option<LinkRequest>,
}

/// `POST /api/contacts/{id}/erase` answer: what was erased.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Erased {
    /// The contact's ID.
    pub erased: i64,
    /// Messages removed from the log.
    pub messages: u64,
    /// Media files removed.
    pub files: u64,
}

/// `POST /api/contacts/{id}/merge` body: fold `other` into this contact.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct MergeRequest {
    /// The contact that disappears; its links, notes and custom fields move over.
    pub other: i64,
}

/// One audited change.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// When, UTC ms.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: i64,
    /// Who.
    pub actor: String,
    /// `create`, `edit`, `merge`, `link`, `unlink`, `export`, `erase`.
    pub action: String,
    /// The contact.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub contact_id: Option<i64>,
    /// The profile's channel.
    pub channel_id: Option<String>,
    /// The profile.
    pub user_id: Option<String>,
    /// Why, or what changed.
    pub detail: Option<String>,
}

/// `GET /api/contacts/{id}`: the customer summary.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactSummary {
    /// The contact.
    pub contact: Contact,
    /// Its conversations across channels, newest first.
    pub conversations: Vec<ConversationSnapshot>,
    /// The audit of its links and edits, newest first.
    pub audit: Vec<AuditEntry>,
}

/// `GET /api/profiles/{channel}/{user}`: who a LINE profile is.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileIdentity {
    /// Channel.
    pub channel_id: String,
    /// LINE user ID.
    pub user_id: String,
    /// LINE display name.
    pub display_name: Option<String>,
    /// Linked contacts (two or more: ambiguous, for a supervisor).
    pub contacts: Vec<Contact>,
    /// Unlinked contacts whose name matches the display name.
    pub suggestions: Vec<Contact>,
    /// Consent.
    pub consent: Option<ConsentState>,
}
