//! Conversations, messages, sending, search and media.

use base64::Engine as _;
use linedesk_core::cache::{Conversation, Draft, Message, OutboxRow, SearchHit};
use serde::Serialize;
use tauri::State;

use crate::ipc_error::{ErrorCode, IpcError};
use crate::AppState;

#[tauri::command]
pub async fn list_conversations(state: State<'_, AppState>) -> Result<Vec<Conversation>, IpcError> {
    // Live conversations come first, then recent history; older ones are found by search.
    state.core.conversations(200).await.map_err(IpcError::from)
}

#[tauri::command]
pub async fn get_messages(
    state: State<'_, AppState>,
    conversation_id: i64,
    before: Option<i64>,
) -> Result<Vec<Message>, IpcError> {
    state
        .core
        .messages(conversation_id, before, 200)
        .await
        .map_err(IpcError::from)
}

#[tauri::command]
pub async fn mark_read<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    conversation_id: i64,
) -> Result<(), IpcError> {
    let was_unread = state
        .core
        .cache()
        .mark_read(conversation_id)
        .map_err(IpcError::internal)?;
    if was_unread {
        crate::update_waiting(&app, &state.core);
    }
    Ok(())
}

#[tauri::command]
pub async fn send_text(
    state: State<'_, AppState>,
    conversation_id: i64,
    text: String,
    quote_token: Option<String>,
) -> Result<OutboxRow, IpcError> {
    state
        .core
        .send_text_quoting(conversation_id, &text, quote_token.as_deref())
        .await
        .map_err(IpcError::from)
}

/// One package of the stickers LINE lets bots send.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct StickerPackage {
    /// Package ID.
    pub package_id: String,
    /// Its stickers, in LINE's order.
    pub sticker_ids: Vec<String>,
}

/// The stickers representatives may send (the palette).
#[tauri::command]
pub fn sendable_stickers() -> Vec<StickerPackage> {
    linedesk_line::send::SENDABLE_STICKERS
        .iter()
        .map(|&(package, first, last)| StickerPackage {
            package_id: package.to_string(),
            sticker_ids: (first..=last).map(|id| id.to_string()).collect(),
        })
        .collect()
}

/// Sends a sticker of LINE's sendable list.
#[tauri::command]
pub async fn send_sticker(
    state: State<'_, AppState>,
    conversation_id: i64,
    package_id: String,
    sticker_id: String,
) -> Result<OutboxRow, IpcError> {
    state
        .core
        .send_sticker(conversation_id, &package_id, &sticker_id)
        .await
        .map_err(IpcError::from)
}

/// Past answers of the team to questions like the customer's newest one.
#[tauri::command]
pub async fn suggest_answers(
    state: State<'_, AppState>,
    conversation_id: i64,
) -> Result<Vec<linedesk_core::cache::suggest::Suggestion>, IpcError> {
    state
        .core
        .suggest(conversation_id)
        .await
        .map_err(IpcError::from)
}

/// The team's quick replies and this user's own (the cached list while offline).
#[tauri::command]
pub async fn list_quick_replies(
    state: State<'_, AppState>,
) -> Result<Vec<linedesk_protocol::replies::QuickReply>, IpcError> {
    state.core.quick_replies().await.map_err(IpcError::from)
}

/// Every unsent draft (the composer's text per conversation, kept across restarts).
#[tauri::command]
pub async fn list_drafts(state: State<'_, AppState>) -> Result<Vec<Draft>, IpcError> {
    state.core.drafts().await.map_err(IpcError::from)
}

/// Keeps the composer's text of a conversation (empty: forgets it).
#[tauri::command]
pub async fn save_draft(
    state: State<'_, AppState>,
    conversation_id: i64,
    text: String,
) -> Result<(), IpcError> {
    state
        .core
        .save_draft(conversation_id, &text)
        .await
        .map(drop)
        .map_err(IpcError::from)
}

#[tauri::command]
pub async fn retry_send(state: State<'_, AppState>, outbox_id: String) -> Result<bool, IpcError> {
    state.core.retry(&outbox_id).await.map_err(IpcError::from)
}

#[tauri::command]
pub async fn search_messages(
    state: State<'_, AppState>,
    query: String,
) -> Result<Vec<SearchHit>, IpcError> {
    if query.chars().count() > 200 {
        return Err(IpcError {
            code: ErrorCode::Invalid,
            message: "search text is too long".into(),
            invalid: Vec::new(),
        });
    }
    state.core.search(&query, 50).await.map_err(IpcError::from)
}

/// Asks the relay for a customer's media (ids checked first, the session's bearer token).
async fn relay_media(
    state: &AppState,
    channel_id: &str,
    message_id: &str,
) -> Result<reqwest::Response, IpcError> {
    state
        .core
        .media(channel_id, message_id)
        .await
        .map_err(IpcError::from)
}

/// Media bytes for the UI (shown through a `blob:` URL, never a remote URL).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Media {
    /// `ready`, `pending` (still downloading from LINE), `gone` (unsent) or `failed`.
    pub status: String,
    /// Content type, when ready.
    pub content_type: Option<String>,
    /// Bytes, base64, when ready.
    pub data_base64: Option<String>,
}

#[tauri::command]
pub async fn fetch_media(
    state: State<'_, AppState>,
    channel_id: String,
    message_id: String,
) -> Result<Media, IpcError> {
    media_answer(relay_media(&state, &channel_id, &message_id).await?, 410).await
}

/// A sticker's, LINE emoji's or customer's picture, kept by the relay: `gone` when the relay
/// could not fetch it for good (the UI shows the sticker's tile, the emoji's placeholder or the
/// initials), `failed` when the relay has not heard of it yet (asked again).
#[tauri::command]
pub async fn fetch_picture(
    state: State<'_, AppState>,
    picture: linedesk_core::relay_link::Picture,
) -> Result<Media, IpcError> {
    let resp = state.core.picture(&picture).await.map_err(IpcError::from)?;
    media_answer(resp, 410).await
}

/// The relay's answer for a file as [`Media`]; `gone_status` is the status that means there
/// is nothing to fetch, ever.
async fn media_answer(resp: reqwest::Response, gone_status: u16) -> Result<Media, IpcError> {
    let status = match resp.status().as_u16() {
        200 => "ready",
        202 => "pending",
        s if s == gone_status => "gone",
        401 => {
            return Err(IpcError {
                code: ErrorCode::Unauthenticated,
                message: "session ended".into(),
                invalid: Vec::new(),
            })
        }
        _ => "failed",
    };
    if status != "ready" {
        return Ok(Media {
            status: status.into(),
            content_type: None,
            data_base64: None,
        });
    }
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = resp.bytes().await.map_err(IpcError::internal)?;
    Ok(Media {
        status: status.into(),
        content_type,
        data_base64: Some(base64::engine::general_purpose::STANDARD.encode(&bytes)),
    })
}

/// Opens a customer's shared location on OpenStreetMap in the OS browser (never inside the
/// app's webview). Only coordinates cross the boundary; the URL is built here.
#[tauri::command]
pub fn open_map(latitude: f64, longitude: f64) -> Result<(), IpcError> {
    if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
        return Err(IpcError {
            code: ErrorCode::Invalid,
            message: "coordinates out of range".into(),
            invalid: Vec::new(),
        });
    }
    let url = format!(
        "https://www.openstreetmap.org/?mlat={latitude:.6}&mlon={longitude:.6}#map=17/{latitude:.6}/{longitude:.6}"
    );
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(&url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(drop)
        .map_err(IpcError::internal)
}

fn header<'a>(request: &'a tauri::ipc::Request<'_>, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Sends a file the representative picked. The bytes come as the raw IPC body; the
/// conversation, the file name (URI-encoded) and an audio's duration as headers.
#[tauri::command]
pub async fn send_attachment(
    state: State<'_, AppState>,
    request: tauri::ipc::Request<'_>,
) -> Result<OutboxRow, IpcError> {
    let invalid = |message: &str| IpcError {
        code: ErrorCode::Invalid,
        message: message.into(),
        invalid: Vec::new(),
    };
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(invalid("send the file as raw bytes"));
    };
    let conversation_id: i64 = header(&request, "x-conversation")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| invalid("which conversation?"))?;
    let name = header(&request, "x-file-name")
        .and_then(percent_decode)
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| invalid("the file needs a name"))?;
    let duration = header(&request, "x-duration").and_then(|v| v.parse().ok());
    if bytes.is_empty() {
        return Err(invalid("the file is empty"));
    }
    state
        .core
        .send_attachment(
            conversation_id,
            &name,
            bytes::Bytes::copy_from_slice(bytes),
            duration,
        )
        .await
        .map_err(IpcError::from)
}

/// Uploads a quick reply's picture (Settings → Quick replies). The bytes come as the raw IPC
/// body, the file name (URI-encoded) as a header.
#[tauri::command]
pub async fn upload_reply_picture(
    state: State<'_, AppState>,
    request: tauri::ipc::Request<'_>,
) -> Result<linedesk_protocol::Uploaded, IpcError> {
    let invalid = |message: &str| IpcError {
        code: ErrorCode::Invalid,
        message: message.into(),
        invalid: Vec::new(),
    };
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(invalid("send the picture as raw bytes"));
    };
    let name = header(&request, "x-file-name")
        .and_then(percent_decode)
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| invalid("the picture needs a name"))?;
    if bytes.is_empty() {
        return Err(invalid("the picture is empty"));
    }
    state
        .core
        .upload_reply_picture(&name, bytes::Bytes::copy_from_slice(bytes))
        .await
        .map_err(IpcError::from)
}

/// Sends quick reply `reply_id`'s picture in a conversation (after its text).
#[tauri::command]
pub async fn send_reply_picture(
    state: State<'_, AppState>,
    conversation_id: i64,
    reply_id: i64,
) -> Result<OutboxRow, IpcError> {
    state
        .core
        .send_reply_picture(conversation_id, reply_id)
        .await
        .map_err(IpcError::from)
}

/// Decodes `encodeURIComponent` output; `None` when malformed.
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// What this console sent (a preview of an image or video it uploaded), as a `blob:` source.
#[tauri::command]
pub async fn fetch_upload(state: State<'_, AppState>, url: String) -> Result<Media, IpcError> {
    match state.core.fetch_upload(&url, true).await {
        Ok((content_type, bytes)) => Ok(Media {
            status: "ready".into(),
            content_type: Some(content_type),
            data_base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
        }),
        Err(linedesk_core::CoreError::Link(linedesk_core::relay_link::LinkError::BadUrl(_))) => {
            Err(IpcError {
                code: ErrorCode::Invalid,
                message: "not an upload of this relay".into(),
                invalid: Vec::new(),
            })
        }
        Err(_) => Ok(Media {
            status: "failed".into(),
            content_type: None,
            data_base64: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_survive_uri_encoding() {
        assert_eq!(
            super::percent_decode("%E8%A8%82%E5%96%AE%20v2.pdf").as_deref(),
            Some("訂單 v2.pdf")
        );
        assert_eq!(super::percent_decode("bad%2"), None);
    }

    #[test]
    fn file_names_are_safe_and_short_in_bytes_and_keep_their_extension() {
        assert_eq!(super::safe_file_name("../a:b<c>?.pdf"), "_a_b_c__.pdf");
        assert_eq!(super::safe_file_name("  .hidden "), "hidden");
        let long = format!("Transcript {} 2026-12-01.html", "สมชาย".repeat(40));
        let safe = super::safe_file_name(&long);
        assert!(safe.len() <= 200, "{} bytes", safe.len());
        assert!(safe.starts_with("Transcript สมชาย"));
        assert!(safe.ends_with(".html"), "{safe}");
    }
}

/// Creates `name` in `dir` (made safe), never overwriting: `name (2).pdf`, `name (3).pdf`, …
pub(crate) async fn create_unique(
    dir: &std::path::Path,
    name: &str,
) -> Result<(std::path::PathBuf, tokio::fs::File), IpcError> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(IpcError::internal)?;
    let name = safe_file_name(name);
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
        _ => (name.clone(), String::new()),
    };
    let mut n = 1;
    loop {
        let candidate = if n == 1 {
            dir.join(&name)
        } else {
            dir.join(format!("{stem} ({n}){ext}"))
        };
        // Owner-only: downloads and contact exports hold customers' data.
        match tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&candidate)
            .await
        {
            Ok(f) => return Ok((candidate, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(e) => return Err(IpcError::internal(e)),
        }
    }
}

/// Writes `bytes` as a new file `name` in Downloads (never overwriting), durably; answers
/// the path.
pub(crate) async fn save_download<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    name: &str,
    bytes: &[u8],
) -> Result<String, IpcError> {
    use tokio::io::AsyncWriteExt as _;
    let dir = download_dir(app).ok_or_else(|| IpcError::internal("no download folder"))?;
    let (path, mut file) = create_unique(&dir, name).await?;
    file.write_all(bytes).await.map_err(IpcError::internal)?;
    file.sync_all().await.map_err(IpcError::internal)?;
    Ok(path.display().to_string())
}

/// Where downloads go: `LINEDESK_DOWNLOAD_DIR`, else the user's Downloads folder.
pub(crate) fn download_dir<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
) -> Option<std::path::PathBuf> {
    use tauri::Manager as _;
    std::env::var_os("LINEDESK_DOWNLOAD_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| app.path().download_dir().ok())
}

/// A file name safe to create: no separators, control or reserved characters, never hidden,
/// at most 200 bytes (names are limited in bytes: a Thai or CJK name is three a character),
/// the extension kept when it must be shortened.
fn safe_file_name(name: &str) -> String {
    const MAX_BYTES: usize = 200;
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '<' | '>' | '"' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        return "file".into();
    }
    if cleaned.len() <= MAX_BYTES {
        return cleaned;
    }
    let ext = match cleaned.rsplit_once('.') {
        Some((stem, e)) if !stem.is_empty() && e.len() <= 16 => format!(".{e}"),
        _ => String::new(),
    };
    let mut stem = String::new();
    for c in cleaned[..cleaned.len() - ext.len()].chars() {
        if stem.len() + c.len_utf8() + ext.len() > MAX_BYTES {
            break;
        }
        stem.push(c);
    }
    format!("{}{ext}", stem.trim_end())
}

/// Saves a customer's file into Downloads, streaming it from the relay with
/// `download-progress` events; answers the saved path. Never overwrites: `name (2).pdf`.
#[tauri::command]
pub async fn download_media<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    channel_id: String,
    message_id: String,
    file_name: String,
) -> Result<String, IpcError> {
    use tauri::Emitter as _;
    use tokio::io::AsyncWriteExt as _;
    let dir = download_dir(&app).ok_or_else(|| IpcError::internal("no download folder"))?;
    let mut resp = relay_media(&state, &channel_id, &message_id).await?;
    if !resp.status().is_success() {
        return Err(IpcError {
            code: ErrorCode::Invalid,
            message: format!("the relay answered {}", resp.status()),
            invalid: Vec::new(),
        });
    }
    let total = resp.content_length().unwrap_or(0);
    let (path, mut file) = create_unique(&dir, &file_name).await?;
    let mut received = 0u64;
    while let Some(chunk) = resp.chunk().await.map_err(IpcError::internal)? {
        file.write_all(&chunk).await.map_err(IpcError::internal)?;
        received += chunk.len() as u64;
        let _ = app.emit(
            "download-progress",
            serde_json::json!({"messageId": message_id, "received": received, "total": total}),
        );
    }
    file.sync_all().await.map_err(IpcError::internal)?;
    Ok(path.display().to_string())
}

/// Saves relay conversation `episode_id` of chat `conversation_id` as a printable HTML
/// transcript into Downloads (never overwriting); answers the saved path.
#[tauri::command]
pub async fn export_transcript<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    conversation_id: i64,
    episode_id: String,
    text: linedesk_core::transcript::TranscriptText,
    time_zone: String,
) -> Result<String, IpcError> {
    let transcript = state
        .core
        .transcript(conversation_id, &episode_id, text, &time_zone)
        .await
        .map_err(IpcError::from)?;
    save_download(&app, &transcript.file_name, transcript.html.as_bytes()).await
}
