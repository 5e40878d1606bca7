//! Admin, supervisor and contact screens: the relay's routing set-up (workstreams, queues,
//! capacities), channels, users, contacts and profile links, and a contact's export. The relay
//! checks the caller's role; the core only lets these paths through.

use linedesk_protocol::api;
use tauri::State;

use crate::ipc_error::{ErrorCode, IpcError};
use crate::AppState;

/// A refusal of the relay as the screens see it: its code, its words, and for a refused entry
/// the field and reason the UI words under that field.
fn refused(e: linedesk_core::CoreError) -> IpcError {
    use linedesk_core::relay_link::LinkError;
    use linedesk_protocol::ErrorCode as Relay;
    match e {
        linedesk_core::CoreError::Link(LinkError::Refused {
            code,
            message,
            invalid,
        }) if code != Relay::Unauthenticated => {
            let code = match code {
                Relay::BadRequest => ErrorCode::Invalid,
                Relay::Conflict | Relay::NotFound => ErrorCode::Conflict,
                Relay::Forbidden => ErrorCode::Forbidden,
                _ => ErrorCode::Internal,
            };
            IpcError {
                code,
                message,
                invalid,
            }
        }
        other => IpcError::from(other),
    }
}

/// Declares every relay call the screens make: the [`RelayCall`] the `relay_call` command
/// takes, how each runs, and their TypeScript (`RelayApi` and `relayApi` in `bindings.ts`).
macro_rules! relay_calls {
    ($($variant:ident),* $(,)?) => {
        /// One call of the relay's set-up, contact and profile API, as the UI names it:
        /// `{call: "getWorkstream", args: {channelId}}`.
        #[derive(Debug, serde::Deserialize)]
        #[serde(tag = "call", content = "args", rename_all = "camelCase")]
        pub enum RelayCall {
            $(
                #[allow(missing_docs)]
                $variant(api::$variant),
            )*
        }

        impl RelayCall {
            async fn run(self, core: &linedesk_core::Core) -> Result<serde_json::Value, IpcError> {
                match self {
                    $(Self::$variant(call) => answer(core.call(&call).await),)*
                }
            }
        }

        /// The UI's side of [`RelayCall`]: one typed method per call.
        pub fn typescript(cfg: &ts_rs::Config) -> String {
            use ts_rs::TS;
            typescript_client(&[
                $((
                    stringify!($variant),
                    <api::$variant as TS>::name(cfg),
                    <<api::$variant as api::Call>::Answer as TS>::name(cfg),
                ),)*
            ])
        }
    };
}

relay_calls![
    ListChannels,
    AddChannel,
    UpdateChannel,
    CheckChannel,
    RemoveChannel,
    ListUsers,
    AddUser,
    UpdateUser,
    RemoveUser,
    ListQueues,
    PutQueue,
    GetWorkstream,
    PutWorkstream,
    TestRule,
    SetCapacity,
    SearchContacts,
    GetContact,
    CreateContact,
    UpdateContact,
    LinkProfile,
    UnlinkProfile,
    MergeContacts,
    EraseContact,
    GetProfile,
    GetReport,
    AddQuickReply,
    UpdateQuickReply,
    RemoveQuickReply,
    SetReminder,
    ListReminders,
    CancelReminder,
    Viewing,
    GetChannelQuota,
];

fn answer<T: serde::Serialize>(
    r: Result<T, linedesk_core::CoreError>,
) -> Result<serde_json::Value, IpcError> {
    serde_json::to_value(r.map_err(refused)?).map_err(IpcError::internal)
}

/// Saves a CSV the console made (a report) into Downloads as `file_name` (made safe, always
/// ending `.csv`, never overwriting); answers the path.
#[tauri::command]
pub async fn save_csv<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    file_name: String,
    text: String,
) -> Result<String, IpcError> {
    let stem = file_name.strip_suffix(".csv").unwrap_or(&file_name);
    super::conversations::save_download(&app, &format!("{stem}.csv"), text.as_bytes()).await
}

/// `RelayApi` (a method per call, named as serde names the variant) and `relayApi`, which
/// sends each through `invoke("relay_call", …)`.
fn typescript_client(calls: &[(&str, String, String)]) -> String {
    let camel = |v: &str| {
        let mut c = v.chars();
        c.next()
            .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
            .unwrap_or_default()
    };
    let mut api = String::from(
        "/** Every relay call of the set-up, contact and profile screens (command `relay_call`). */\n\
         export interface RelayApi {\n",
    );
    let mut client = String::from(
        "/** `RelayApi` over Tauri's `invoke`. */\n\
         export function relayApi(invoke: (cmd: string, args: Record<string, unknown>) => Promise<unknown>): RelayApi {\n\
         \x20 const call = <A, R>(name: string) => (args: A) =>\n\
         \x20   invoke(\"relay_call\", { call: { call: name, args } }) as Promise<R>;\n\
         \x20 return {\n",
    );
    for (variant, args, answer) in calls {
        let method = camel(variant);
        api += &format!("  {method}(args: {args}): Promise<{answer}>;\n");
        client += &format!("    {method}: call<{args}, {answer}>(\"{method}\"),\n");
    }
    format!("{api}}}\n\n{client}  }};\n}}\n")
}

/// Runs one relay call; the relay checks the role, the answer is the call's own type.
#[tauri::command]
pub async fn relay_call(
    state: State<'_, AppState>,
    call: RelayCall,
) -> Result<serde_json::Value, IpcError> {
    call.run(&state.core).await
}

/// Saves a contact's export (JSON with messages and media) into Downloads; answers the path.
#[tauri::command]
pub async fn export_contact<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    contact_id: i64,
) -> Result<String, IpcError> {
    let doc = state
        .core
        .call(&api::ExportContact { id: contact_id })
        .await
        .map_err(refused)?;
    let bytes = serde_json::to_vec_pretty(&doc).map_err(IpcError::internal)?;
    super::conversations::save_download(&app, &format!("contact-{contact_id}.json"), &bytes).await
}
