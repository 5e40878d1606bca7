//! Points tauri-build at the root `tauri.conf.json` (see shared/notes/TAURI-LINUX.md §2a) and
//! declares the app's commands, so each is denied unless a capability grants it.

fn main() {
    stamp_commit();
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    println!("cargo:rerun-if-changed=../ui/dist");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .config_path("../tauri.conf.json")
            .app_manifest(tauri_build::AppManifest::new().commands(&[
                "app_info",
                "sign_in",
                "sign_out",
                "link_state",
                "list_conversations",
                "get_messages",
                "mark_read",
                "send_text",
                "retry_send",
                "set_shell_words",
                "list_drafts",
                "list_quick_replies",
                "suggest_answers",
                "save_draft",
                "search_messages",
                "fetch_media",
                "fetch_picture",
                "sendable_stickers",
                "send_sticker",
                "upload_reply_picture",
                "send_reply_picture",
                "open_map",
                "send_attachment",
                "fetch_upload",
                "download_media",
                "set_presence",
                "relay_call",
                "export_contact",
                "save_csv",
                "export_transcript",
                "act_conversation",
                "signal_conversation",
                "send_later",
                "list_later",
                "cancel_later",
                "list_agents",
                "list_episodes",
            ])),
    )
    .expect("tauri-build with the root config");
}

/// Stamps the git commit into the binary for `--version` (`LINEDESK_COMMIT` wins, for builds
/// from a source tarball; "unknown" when neither is there).
fn stamp_commit() {
    println!("cargo:rerun-if-env-changed=LINEDESK_COMMIT");
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/refs/heads");
    let commit = std::env::var("LINEDESK_COMMIT").ok().or_else(|| {
        std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_owned())
    });
    println!(
        "cargo:rustc-env=LINEDESK_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
}
