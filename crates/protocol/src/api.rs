//! Every call the console makes on the relay's set-up, contact and profile API, as a typed
//! value: its method, path, body and answer in one place ([`Call`]). The core sends any
//! [`Call`] and reads its [`Call::Answer`]; the shell exposes each as one command; the UI gets
//! their TypeScript from ts-rs. Nobody else writes these paths.
//!
//! A refusal answers an [`crate::ApiErrorBody`]; one about an entry names its field and a
//! [`crate::Reason`].

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::identity::{
    ChannelHealth, ChannelUpdate, Contact, ContactFields, ContactSummary, DeleteChannel, Erased,
    LinkRequest, MergeRequest, NewChannel, NewContact, NewUser, ProfileIdentity, UserInfo,
    UserUpdate,
};
use crate::replies::{QuickReply, QuickReplyInput};
use crate::reports::{Report, ReportGroup};
use crate::routing::{AgentSnapshot, Reminder, ReminderRequest, Viewer, ViewingRequest};
use crate::setup::{AgentSettings, Queue, QueueEntry, RuleTest, RuleTestAnswer, Workstream};

/// An HTTP method of the relay API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Reads.
    Get,
    /// Adds or acts.
    Post,
    /// Replaces.
    Put,
    /// Removes.
    Delete,
}

/// One relay call: where it goes and what it answers.
pub trait Call {
    /// The HTTP method.
    const METHOD: Method;
    /// The JSON body (`()` for none).
    type Body: Serialize;
    /// What the relay answers (`()` for 204 No Content).
    type Answer: DeserializeOwned;
    /// The path and query, each variable part percent-encoded.
    fn path(&self) -> String;
    /// The body, if the call has one.
    fn body(&self) -> Option<&Self::Body>;
}

/// Everything but unreserved characters is encoded, `.` included, so that no variable part
/// can be read as `.` or `..` or end its segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');

/// One variable path segment or query value, percent-encoded.
pub fn segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// Whether a path holds a segment that URL parsers read as `.` or `..` (`%2E%2E` included, as
/// the URL standard says): such a call is refused before it leaves the console.
pub fn has_dot_segment(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    path.split('/').any(|s| {
        let s = s.to_ascii_lowercase().replace("%2e", ".");
        s == "." || s == ".."
    })
}

macro_rules! call {
    ($t:ty, $m:ident, $answer:ty, |$c:ident| $path:expr) => {
        impl Call for $t {
            const METHOD: Method = Method::$m;
            type Body = ();
            type Answer = $answer;
            fn path(&self) -> String {
                let $c = self;
                $path
            }
            fn body(&self) -> Option<&()> {
                None
            }
        }
    };
    ($t:ty, $m:ident, $answer:ty, |$c:ident| $path:expr, body $field:ident: $body:ty) => {
        impl Call for $t {
            const METHOD: Method = Method::$m;
            type Body = $body;
            type Answer = $answer;
            fn path(&self) -> String {
                let $c = self;
                $path
            }
            fn body(&self) -> Option<&$body> {
                Some(&self.$field)
            }
        }
    };
}

/// `GET /api/channels` (supervisors, admins): every channel with its health.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListChannels {}
call!(ListChannels, Get, Vec<ChannelHealth>, |_c| "/api/channels"
    .into());

/// `POST /api/channels` (admins): a LINE channel to serve, checked with LINE first.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddChannel {
    /// The channel's credentials and name.
    pub channel: NewChannel,
}
call!(AddChannel, Post, ChannelHealth, |_c| "/api/channels".into(), body channel: NewChannel);

/// `PUT /api/channels/{id}` (admins): rename, new credentials, consent message.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateChannel {
    /// LINE channel ID.
    pub channel_id: String,
    /// What changes.
    pub update: ChannelUpdate,
}
call!(UpdateChannel, Put, ChannelHealth,
    |c| format!("/api/channels/{}", segment(&c.channel_id)), body update: ChannelUpdate);

/// What an admin asks LINE about a channel.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelCheck {
    /// Check the credentials again.
    Check,
    /// Set the channel's webhook URL to this relay.
    Webhook,
    /// Ask LINE to send a test webhook.
    Test,
    /// Fetch the media that could not be fetched again.
    RetryMedia,
}

/// `POST /api/channels/{id}/{check|webhook|test}` (admins).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckChannel {
    /// LINE channel ID.
    pub channel_id: String,
    /// What to do.
    pub check: ChannelCheck,
}
call!(CheckChannel, Post, ChannelHealth, |c| {
    let action = match c.check {
        ChannelCheck::Check => "check",
        ChannelCheck::Webhook => "webhook",
        ChannelCheck::Test => "test",
        ChannelCheck::RetryMedia => "retry-media",
    };
    format!("/api/channels/{}/{action}", segment(&c.channel_id))
});

/// `POST /api/channels/{id}/delete` (admins): closes its conversations and forgets its
/// credentials; the transcript stays.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveChannel {
    /// LINE channel ID.
    pub channel_id: String,
    /// The farewell to customers, if any.
    pub farewell: DeleteChannel,
}
call!(RemoveChannel, Post, ChannelHealth,
    |c| format!("/api/channels/{}/delete", segment(&c.channel_id)), body farewell: DeleteChannel);

/// `GET /api/users` (admins).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListUsers {}
call!(ListUsers, Get, Vec<UserInfo>, |_c| "/api/users".into());

/// `POST /api/users` (admins).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddUser {
    /// The new user.
    pub user: NewUser,
}
call!(AddUser, Post, UserInfo, |_c| "/api/users".into(), body user: NewUser);

/// `PUT /api/users/{name}` (admins).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateUser {
    /// Login name.
    pub name: String,
    /// What changes.
    pub update: UserUpdate,
}
call!(UpdateUser, Put, UserInfo,
    |c| format!("/api/users/{}", segment(&c.name)), body update: UserUpdate);

/// `DELETE /api/users/{name}` (admins): the user's sessions end.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveUser {
    /// Login name.
    pub name: String,
}
call!(RemoveUser, Delete, (), |c| format!(
    "/api/users/{}",
    segment(&c.name)
));

/// `GET /api/queues` (anyone signed in): every queue, `general` first when not set up.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQueues {}
call!(ListQueues, Get, Vec<QueueEntry>, |_c| "/api/queues".into());

/// `PUT /api/queues/{id}` (admins): adds or replaces a queue.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutQueue {
    /// The queue's ID: 1 to 64 letters, digits, `-` or `_`.
    pub id: String,
    /// Its set-up.
    pub queue: Queue,
}
call!(PutQueue, Put, Queue, |c| format!("/api/queues/{}", segment(&c.id)), body queue: Queue);

/// `GET /api/workstreams/{channel}` (anyone signed in): the channel's workstream.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetWorkstream {
    /// LINE channel ID.
    pub channel_id: String,
}
call!(GetWorkstream, Get, Workstream, |c| format!(
    "/api/workstreams/{}",
    segment(&c.channel_id)
));

/// `PUT /api/workstreams/{channel}` (admins): the whole workstream.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutWorkstream {
    /// LINE channel ID.
    pub channel_id: String,
    /// The workstream.
    pub workstream: Workstream,
}
call!(PutWorkstream, Put, Workstream,
    |c| format!("/api/workstreams/{}", segment(&c.channel_id)), body workstream: Workstream);

/// `POST /api/workstreams/{channel}/test` (admins): which queue a sample message and customer
/// would reach under the given rules.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestRule {
    /// LINE channel ID.
    pub channel_id: String,
    /// The sample.
    pub test: RuleTest,
}
call!(TestRule, Post, RuleTestAnswer,
    |c| format!("/api/workstreams/{}/test", segment(&c.channel_id)), body test: RuleTest);

/// `PUT /api/agents/{user}` (admins): a representative's capacity.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetCapacity {
    /// Login name.
    pub user: String,
    /// The capacity.
    pub settings: AgentSettings,
}
call!(SetCapacity, Put, AgentSnapshot,
    |c| format!("/api/agents/{}", segment(&c.user)), body settings: AgentSettings);

/// `GET /api/contacts?q=` (anyone signed in): up to 50 contacts by name, email or phone.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchContacts {
    /// Part of a name, email or phone; empty lists the first ones.
    pub query: String,
}
call!(SearchContacts, Get, Vec<Contact>, |c| format!(
    "/api/contacts?q={}",
    segment(c.query.trim())
));

/// `GET /api/contacts/{id}`: a contact with its links and audit.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetContact {
    /// Contact ID.
    pub id: i64,
}
call!(GetContact, Get, ContactSummary, |c| format!(
    "/api/contacts/{}",
    c.id
));

/// `POST /api/contacts`: a new contact, optionally linked to a profile at once.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateContact {
    /// The contact.
    pub contact: NewContact,
}
call!(CreateContact, Post, ContactSummary, |_c| "/api/contacts".into(), body contact: NewContact);

/// `PUT /api/contacts/{id}`: replaces the editable fields.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateContact {
    /// Contact ID.
    pub id: i64,
    /// The fields.
    pub fields: ContactFields,
}
call!(UpdateContact, Put, ContactSummary,
    |c| format!("/api/contacts/{}", c.id), body fields: ContactFields);

/// `POST /api/contacts/{id}/link`: links a LINE profile to the contact (audited).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkProfile {
    /// Contact ID.
    pub id: i64,
    /// The profile and why.
    pub link: LinkRequest,
}
call!(LinkProfile, Post, ContactSummary,
    |c| format!("/api/contacts/{}/link", c.id), body link: LinkRequest);

/// `POST /api/contacts/{id}/unlink`: removes a profile's link (audited).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlinkProfile {
    /// Contact ID.
    pub id: i64,
    /// The profile and why.
    pub link: LinkRequest,
}
call!(UnlinkProfile, Post, ContactSummary,
    |c| format!("/api/contacts/{}/unlink", c.id), body link: LinkRequest);

/// `POST /api/contacts/{id}/merge`: folds another contact into this one.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeContacts {
    /// The contact that stays.
    pub id: i64,
    /// The one that disappears.
    pub merge: MergeRequest,
}
call!(MergeContacts, Post, ContactSummary,
    |c| format!("/api/contacts/{}/merge", c.id), body merge: MergeRequest);

/// `POST /api/contacts/{id}/erase` (supervisors, admins): erases the contact and everything
/// its customers said, media included.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EraseContact {
    /// Contact ID.
    pub id: i64,
}
call!(EraseContact, Post, Erased, |c| format!(
    "/api/contacts/{}/erase",
    c.id
));

/// `GET /api/contacts/{id}/export` (supervisors, admins): the contact's whole record as JSON,
/// media in Base64. Saved to a file as the relay wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportContact {
    /// Contact ID.
    pub id: i64,
}
call!(ExportContact, Get, serde_json::Value, |c| format!(
    "/api/contacts/{}/export",
    c.id
));

/// `GET /api/profiles/{channel}/{user}`: a customer's LINE profile and the contacts linked.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetProfile {
    /// LINE channel ID.
    pub channel_id: String,
    /// LINE user ID.
    pub user_id: String,
}
call!(GetProfile, Get, ProfileIdentity, |c| format!(
    "/api/profiles/{}/{}",
    segment(&c.channel_id),
    segment(&c.user_id)
));

/// `GET /api/reports?from=&to=&by=` (supervisors: the queues they supervise; admins: all):
/// the figures of a date range, grouped.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetReport {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`, inclusive.
    pub to: String,
    /// How to group the rows.
    pub by: ReportGroup,
}
call!(GetReport, Get, Report, |c| format!(
    "/api/reports?from={}&to={}&by={}",
    segment(&c.from),
    segment(&c.to),
    c.by.as_str()
));

/// `GET /api/quick-replies` (anyone signed in): the team's quick replies and the caller's own.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuickReplies {}
call!(ListQuickReplies, Get, Vec<QuickReply>, |_c| {
    "/api/quick-replies".into()
});

/// `POST /api/quick-replies`: a new quick reply (the team's: supervisors and admins).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddQuickReply {
    /// The reply.
    pub reply: QuickReplyInput,
}
call!(AddQuickReply, Post, QuickReply, |_c| "/api/quick-replies".into(), body reply: QuickReplyInput);

/// `PUT /api/quick-replies/{id}`: a quick reply changed (the team's: supervisors and admins;
/// one's own: its owner).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateQuickReply {
    /// Which.
    pub id: i64,
    /// What it says now.
    pub reply: QuickReplyInput,
}
call!(UpdateQuickReply, Put, QuickReply, |c| format!("/api/quick-replies/{}", c.id), body reply: QuickReplyInput);

/// `DELETE /api/quick-replies/{id}`: a quick reply removed (same rules as changing it).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveQuickReply {
    /// Which.
    pub id: i64,
}
call!(RemoveQuickReply, Delete, (), |c| format!(
    "/api/quick-replies/{}",
    c.id
));

/// `POST /api/conversations/{id}/remind` (its owner): sets the conversation aside and reminds
/// its owner at the time; a reminder already set on it is replaced.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetReminder {
    /// The relay conversation.
    pub conversation_id: String,
    /// When, and what for.
    pub reminder: ReminderRequest,
}
call!(SetReminder, Post, Reminder, |c| format!(
    "/api/conversations/{}/remind",
    segment(&c.conversation_id)
), body reminder: ReminderRequest);

/// `GET /api/reminders`: the caller's reminders still to come.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListReminders {}
call!(ListReminders, Get, Vec<Reminder>, |_c| "/api/reminders"
    .into());

/// `DELETE /api/reminders/{id}`: one of the caller's reminders called off.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelReminder {
    /// Which.
    pub id: String,
}
call!(CancelReminder, Delete, (), |c| format!(
    "/api/reminders/{}",
    segment(&c.id)
));

/// `POST /api/conversations/{id}/viewing` (whoever may see it): "I have it open (and am
/// typing)"; answers everyone else who has it open now.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Viewing {
    /// The relay conversation.
    pub conversation_id: String,
    /// Typing or not.
    pub viewing: ViewingRequest,
}
call!(Viewing, Post, Vec<Viewer>, |c| format!(
    "/api/conversations/{}/viewing",
    segment(&c.conversation_id)
), body viewing: ViewingRequest);

/// `GET /api/channels/{id}/quota` (anyone signed in): the channel's messages this month
/// against its monthly limit, as LINE last reported them.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetChannelQuota {
    /// The channel.
    pub channel_id: String,
}
call!(
    GetChannelQuota,
    Get,
    crate::identity::ChannelQuota,
    |c| format!("/api/channels/{}/quota", segment(&c.channel_id))
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_parts_cannot_leave_their_segment() {
        assert_eq!(segment("王小明"), "%E7%8E%8B%E5%B0%8F%E6%98%8E");
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment("a/b?c#d"), "a%2Fb%3Fc%23d");
        assert_eq!(segment("ok-1_x~"), "ok-1_x~");
        let call = RemoveUser {
            name: "../../channels".into(),
        };
        assert_eq!(call.path(), "/api/users/%2E%2E%2F%2E%2E%2Fchannels");
        assert!(!has_dot_segment(&call.path()));
        assert!(has_dot_segment(&RemoveUser { name: "..".into() }.path()));
        assert!(has_dot_segment(&RemoveUser { name: ".".into() }.path()));
        let search = SearchContacts {
            query: " a&b=c ".into(),
        };
        assert_eq!(search.path(), "/api/contacts?q=a%26b%3Dc");
    }

    #[test]
    fn bodies_are_what_the_relay_reads() {
        let call = CheckChannel {
            channel_id: "1650000000".into(),
            check: ChannelCheck::Webhook,
        };
        assert_eq!(call.path(), "/api/channels/1650000000/webhook");
        assert!(call.body().is_none());
        let put = SetCapacity {
            user: "rita".into(),
            settings: AgentSettings { capacity: 4 },
        };
        assert_eq!(
            serde_json::to_value(put.body()).expect("json"),
            serde_json::json!({"capacity": 4})
        );
        assert_eq!(SetCapacity::METHOD, Method::Put);
    }
}
