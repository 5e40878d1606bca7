//! Smoke test of the shell on Tauri's mock runtime: real IPC deserialisation and ACL, no window.

use std::sync::Arc;

use linedesk_core::credentials::MemoryStore;
use linedesk_core::Core;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindowBuilder};

fn request(cmd: &str, body: serde_json::Value) -> InvokeRequest {
    InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        // On Linux the app's own origin is tauri://localhost (TAURI-LINUX.md pitfall 7).
        url: "tauri://localhost".parse().expect("url"),
        body: InvokeBody::Json(body),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    }
}

#[test]
fn commands_answer_through_the_real_ipc_and_acl() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = linedesk_app::builder(mock_builder())
        .build(tauri::generate_context!("../tauri.conf.json"))
        .expect("app builds");
    let core = Core::open(dir.path(), Arc::new(MemoryStore::default()), "test").expect("core");
    app.manage(linedesk_app::AppState {
        core,
        http: reqwest::Client::new(),
        demo: None,
        attention: Default::default(),
        words: Default::default(),
    });
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window");

    let info = get_ipc_response(&webview, request("app_info", serde_json::json!({})))
        .expect("app_info allowed");
    let info: serde_json::Value = info.deserialize().expect("json");
    assert_eq!(info["demo"], false);
    assert_eq!(
        info["user"],
        serde_json::Value::Null,
        "nobody signed in yet"
    );

    let state: serde_json::Value =
        get_ipc_response(&webview, request("link_state", serde_json::json!({})))
            .expect("link_state allowed")
            .deserialize()
            .expect("json");
    assert_eq!(state["state"], "signed_out");

    // Sending while signed out is refused with a code the UI branches on.
    let err = get_ipc_response(
        &webview,
        request(
            "send_text",
            serde_json::json!({"conversationId": 1, "text": "hi"}),
        ),
    )
    .expect_err("not signed in");
    assert_eq!(err["code"], "signed_out", "{err}");

    // A bad relay URL is a field error, not a crash.
    let err = get_ipc_response(
        &webview,
        request(
            "sign_in",
            serde_json::json!({"relayUrl": "ftp://x", "user": "a", "password": "b"}),
        ),
    )
    .expect_err("bad url");
    assert_eq!(err["code"], "invalid", "{err}");

    // Coordinates are checked before anything is opened.
    let err = get_ipc_response(
        &webview,
        request(
            "open_map",
            serde_json::json!({"latitude": 200.0, "longitude": 0.0}),
        ),
    )
    .expect_err("out of range");
    assert_eq!(err["code"], "invalid", "{err}");

    // The shell's words follow the console's language, and outlive a restart.
    let ja = serde_json::json!({
        "open": "開く", "accept": "受け付ける", "reject": "断る", "show": "linedesk を表示",
        "quit": "linedesk を終了", "waiting": "{count} 件待機中",
        "breach": "目標 {seconds} 秒を超えて待機中 · {queue}"
    });
    get_ipc_response(
        &webview,
        request("set_shell_words", serde_json::json!({"words": ja})),
    )
    .expect("set_shell_words allowed");
    let words = app.state::<linedesk_app::AppState>().words.get();
    assert_eq!(words.accept, "受け付ける");
    let kept = linedesk_app::words::Words::load(app.state::<linedesk_app::AppState>().core.cache());
    assert_eq!(kept.get(), words, "kept in the cache");
    let mut empty = ja.clone();
    empty["reject"] = serde_json::json!("");
    let err = get_ipc_response(
        &webview,
        request("set_shell_words", serde_json::json!({"words": empty})),
    )
    .expect_err("an empty word");
    assert_eq!(err["code"], "invalid", "{err}");
    assert_eq!(
        app.state::<linedesk_app::AppState>().words.get().reject,
        "断る",
        "a refused set changes nothing"
    );

    // A window no capability names gets no IPC at all.
    let popup = WebviewWindowBuilder::new(&app, "popup", Default::default())
        .build()
        .expect("window");
    assert!(
        get_ipc_response(&popup, request("app_info", serde_json::json!({}))).is_err(),
        "popup denied"
    );
}
