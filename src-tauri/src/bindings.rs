//! The TypeScript side of the IPC: every type a command answers or an event carries, written
//! into one file, `ui/src/lib/ipc/bindings.ts`, from the Rust types (ts-rs). Never edit that
//! file by hand: `UPDATE_BINDINGS=1 cargo test -p linedesk --test bindings` rewrites it, and
//! the same test fails while it is stale.

use serde::Serialize;
use ts_rs::{Config, TS};

/// `upload-progress` event payload.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UploadProgress {
    /// Conversation the file goes to.
    pub conversation_id: i64,
    /// File name.
    pub file_name: String,
    /// Bytes sent.
    pub sent: u64,
    /// Bytes in all.
    pub total: u64,
}

/// `download-progress` event payload.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DownloadProgress {
    /// LINE message ID of the file.
    pub message_id: String,
    /// Bytes received.
    pub received: u64,
    /// Bytes in all (0 when the relay did not say).
    pub total: u64,
}

fn decl<T: TS>(cfg: &Config) -> String {
    format!("export {}\n", T::decl(cfg))
}

/// The whole generated file.
pub fn typescript() -> String {
    use linedesk_core::cache::{Conversation, Draft, Message, OutboxRow, SearchHit};
    use linedesk_core::relay_link::LinkState;
    use linedesk_protocol::identity as id;
    use linedesk_protocol::reports as rp;
    use linedesk_protocol::routing as r;
    use linedesk_protocol::{api, setup as s};
    // Timestamps and ids are well inside 2^53: plain numbers in the UI.
    let cfg = Config::new().with_large_int("number");
    let parts = [
        decl::<crate::ipc_error::ErrorCode>(&cfg),
        decl::<crate::ipc_error::IpcError>(&cfg),
        decl::<linedesk_protocol::Invalid>(&cfg),
        decl::<linedesk_protocol::Reason>(&cfg),
        decl::<linedesk_protocol::Role>(&cfg),
        decl::<crate::commands::session::AppInfo>(&cfg),
        decl::<LinkState>(&cfg),
        decl::<Conversation>(&cfg),
        decl::<linedesk_core::notify::Breach>(&cfg),
        decl::<Message>(&cfg),
        decl::<SearchHit>(&cfg),
        decl::<Draft>(&cfg),
        decl::<linedesk_core::cache::suggest::Suggestion>(&cfg),
        decl::<crate::words::ShellWords>(&cfg),
        decl::<linedesk_core::transcript::Fact>(&cfg),
        decl::<linedesk_core::transcript::TranscriptText>(&cfg),
        decl::<OutboxRow>(&cfg),
        decl::<crate::commands::conversations::Media>(&cfg),
        decl::<linedesk_core::relay_link::Picture>(&cfg),
        decl::<crate::commands::conversations::StickerPackage>(&cfg),
        decl::<UploadProgress>(&cfg),
        decl::<DownloadProgress>(&cfg),
        decl::<r::ConversationState>(&cfg),
        decl::<r::Presence>(&cfg),
        decl::<r::DistributionMode>(&cfg),
        decl::<r::Offer>(&cfg),
        decl::<r::Consultant>(&cfg),
        decl::<r::SurveyAnswer>(&cfg),
        decl::<r::ConversationSnapshot>(&cfg),
        decl::<r::AgentSnapshot>(&cfg),
        decl::<r::CommandAnswer>(&cfg),
        decl::<r::LaterMessage>(&cfg),
        decl::<r::Warning>(&cfg),
        decl::<id::ContactBrief>(&cfg),
        decl::<id::ConsentState>(&cfg),
        decl::<id::ConsentSettings>(&cfg),
        decl::<id::WebhookTest>(&cfg),
        decl::<id::ChannelHealth>(&cfg),
        decl::<id::UserInfo>(&cfg),
        decl::<id::ContactFields>(&cfg),
        decl::<id::ProfileLink>(&cfg),
        decl::<id::Contact>(&cfg),
        decl::<id::AuditEntry>(&cfg),
        decl::<id::ContactSummary>(&cfg),
        decl::<id::ProfileIdentity>(&cfg),
        decl::<id::NewChannel>(&cfg),
        decl::<id::ChannelUpdate>(&cfg),
        decl::<id::DeleteChannel>(&cfg),
        decl::<id::NewUser>(&cfg),
        decl::<id::UserUpdate>(&cfg),
        decl::<id::LinkRequest>(&cfg),
        decl::<id::MergeRequest>(&cfg),
        decl::<id::NewContact>(&cfg),
        decl::<id::Erased>(&cfg),
        decl::<s::WrapUpBlocks>(&cfg),
        decl::<s::Attachments>(&cfg),
        decl::<s::Trigger>(&cfg),
        decl::<s::Survey>(&cfg),
        decl::<s::Condition>(&cfg),
        decl::<s::Rule>(&cfg),
        decl::<s::Workstream>(&cfg),
        decl::<s::Slot>(&cfg),
        decl::<s::Holiday>(&cfg),
        decl::<s::Hours>(&cfg),
        decl::<s::Queue>(&cfg),
        decl::<s::QueueEntry>(&cfg),
        decl::<s::AgentSettings>(&cfg),
        decl::<s::Share>(&cfg),
        decl::<s::SkillMatch>(&cfg),
        decl::<s::PresenceRules>(&cfg),
        decl::<s::ServiceLevel>(&cfg),
        decl::<s::Overflow>(&cfg),
        decl::<s::OverflowWhen>(&cfg),
        decl::<s::OverflowAction>(&cfg),
        decl::<s::RuleTest>(&cfg),
        decl::<s::RuleTestAnswer>(&cfg),
        decl::<api::ChannelCheck>(&cfg),
        decl::<api::ListChannels>(&cfg),
        decl::<api::AddChannel>(&cfg),
        decl::<api::UpdateChannel>(&cfg),
        decl::<api::CheckChannel>(&cfg),
        decl::<api::RemoveChannel>(&cfg),
        decl::<api::ListUsers>(&cfg),
        decl::<api::AddUser>(&cfg),
        decl::<api::UpdateUser>(&cfg),
        decl::<api::RemoveUser>(&cfg),
        decl::<api::ListQueues>(&cfg),
        decl::<api::PutQueue>(&cfg),
        decl::<api::GetWorkstream>(&cfg),
        decl::<api::PutWorkstream>(&cfg),
        decl::<api::TestRule>(&cfg),
        decl::<api::SetCapacity>(&cfg),
        decl::<api::SearchContacts>(&cfg),
        decl::<api::GetContact>(&cfg),
        decl::<api::CreateContact>(&cfg),
        decl::<api::UpdateContact>(&cfg),
        decl::<api::LinkProfile>(&cfg),
        decl::<api::UnlinkProfile>(&cfg),
        decl::<api::MergeContacts>(&cfg),
        decl::<api::EraseContact>(&cfg),
        decl::<api::GetProfile>(&cfg),
        decl::<api::GetReport>(&cfg),
        decl::<linedesk_protocol::replies::QuickReply>(&cfg),
        decl::<linedesk_protocol::replies::QuickReplyInput>(&cfg),
        decl::<linedesk_protocol::replies::QuickReplyImage>(&cfg),
        decl::<linedesk_protocol::Uploaded>(&cfg),
        decl::<api::AddQuickReply>(&cfg),
        decl::<api::UpdateQuickReply>(&cfg),
        decl::<api::RemoveQuickReply>(&cfg),
        decl::<linedesk_protocol::routing::ReminderRequest>(&cfg),
        decl::<linedesk_protocol::routing::Reminder>(&cfg),
        decl::<api::SetReminder>(&cfg),
        decl::<api::ListReminders>(&cfg),
        decl::<api::CancelReminder>(&cfg),
        decl::<linedesk_protocol::routing::ViewingRequest>(&cfg),
        decl::<linedesk_protocol::routing::Viewer>(&cfg),
        decl::<api::Viewing>(&cfg),
        decl::<linedesk_protocol::identity::ChannelQuota>(&cfg),
        decl::<api::GetChannelQuota>(&cfg),
        decl::<rp::ReportGroup>(&cfg),
        decl::<rp::ReportRow>(&cfg),
        decl::<rp::Report>(&cfg),
        crate::commands::admin::typescript(&cfg),
    ];
    format!(
        "// Generated from the Rust types by src-tauri/src/bindings.rs (ts-rs). Do not edit:\n\
         // UPDATE_BINDINGS=1 cargo test -p linedesk --test bindings\n\n{}",
        parts.join("\n")
    )
}
