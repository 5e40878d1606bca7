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
    use linedesk_core::cache::{Conversation, Message, OutboxRow, SearchHit};
    use linedesk_core::relay_link::LinkState;
    use linedesk_protocol::identity as id;
    use linedesk_protocol::routing as r;
    // Timestamps and ids are well inside 2^53: plain numbers in the UI.
    let cfg = Config::new().with_large_int("number");
    let parts = [
        decl::<crate::ipc_error::ErrorCode>(&cfg),
        decl::<crate::ipc_error::IpcError>(&cfg),
        decl::<crate::commands::session::AppInfo>(&cfg),
        decl::<LinkState>(&cfg),
        decl::<Conversation>(&cfg),
        decl::<Message>(&cfg),
        decl::<SearchHit>(&cfg),
        decl::<OutboxRow>(&cfg),
        decl::<crate::commands::conversations::Media>(&cfg),
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
    ];
    format!(
        "// Generated from the Rust types by src-tauri/src/bindings.rs (ts-rs). Do not edit:\n\
         // UPDATE_BINDINGS=1 cargo test -p linedesk --test bindings\n\n{}",
        parts.join("\n")
    )
}
