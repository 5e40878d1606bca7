//! Parses every webhook fixture and checks every signature vector: the project's own
//! (`tests/fixtures/line/`, always) and those of LINE's SDKs (`shared/line-api/fixtures/` beside
//! the repository, or where `LINEDESK_SHARED` points; reported as skipped when absent). The
//! tests walk the folders, so a new fixture is covered without code changes.

use std::path::{Path, PathBuf};

use linedesk_line::signature::{self, SignatureError};
use linedesk_line::webhook::{CallbackRequest, EventBody, MessageContent};
use serde_json::Value;

/// LINE's published files, when they are beside the repository; `None` (and one line saying
/// what was skipped) when not.
fn shared_dir(what: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("LINEDESK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.join("line-api/fixtures").is_dir() {
        return Some(dir);
    }
    println!(
        "skipped: {what}: LINE's SDK fixtures are not at {} (put shared/line-api beside the \
         repository or set LINEDESK_SHARED)",
        dir.display()
    );
    None
}

/// The project's own fixtures.
fn own_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/line")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("fixture dir readable") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

#[test]
fn every_webhook_fixture_of_ours_parses_and_keeps_every_event() {
    let bodies = check_webhook_bodies(&own_dir().join("webhook"));
    assert!(
        bodies >= 30,
        "expected our fixtures, found {bodies} webhook bodies"
    );
}

#[test]
fn every_webhook_fixture_of_lines_sdks_parses_and_keeps_every_event() {
    let Some(shared) = shared_dir("LINE's SDK webhook fixtures") else {
        return;
    };
    let bodies = check_webhook_bodies(&shared.join("line-api/fixtures"));
    assert!(
        bodies >= 20,
        "expected the SDK fixtures, found {bodies} webhook bodies"
    );
}

/// Parses every webhook body under `root`; answers how many there were.
fn check_webhook_bodies(root: &Path) -> usize {
    let mut files = Vec::new();
    json_files(root, &mut files);
    let mut bodies = 0;
    for path in files {
        let bytes = std::fs::read(&path).expect("fixture readable");
        let raw: Value = serde_json::from_slice(&bytes).expect("fixture is JSON");
        // Only webhook bodies: signatures.json and `{}` are other formats.
        let Some(raw_events) = raw.get("events").and_then(Value::as_array) else {
            continue;
        };
        bodies += 1;
        let parsed = CallbackRequest::parse(&bytes)
            .unwrap_or_else(|e| panic!("{} must parse: {e}", path.display()));
        assert_eq!(
            parsed.events.len(),
            raw_events.len(),
            "{}: no event may be dropped",
            path.display()
        );
        for (event, raw_event) in parsed.events.iter().zip(raw_events) {
            assert_eq!(
                event.type_name(),
                raw_event["type"].as_str().unwrap_or(""),
                "{}: event type kept",
                path.display()
            );
            let known = [
                "message",
                "messageEdited",
                "unsend",
                "follow",
                "unfollow",
                "join",
                "leave",
                "memberJoined",
                "memberLeft",
                "postback",
                "videoPlayComplete",
                "beacon",
                "accountLink",
                "membership",
                "module",
                "activated",
                "deactivated",
                "botSuspended",
                "botResumed",
                "delivery",
            ];
            let is_known = known.contains(&event.type_name());
            assert_eq!(
                !matches!(event.body, EventBody::Unknown(_)),
                is_known,
                "{}: {} should parse to its typed variant",
                path.display(),
                event.type_name()
            );
            if let EventBody::Message { message } | EventBody::MessageEdited { message } =
                &event.body
            {
                let msg_type = raw_event["message"]["type"].as_str().unwrap_or("");
                let typed = !matches!(message, MessageContent::Unknown(_));
                let known_msg = [
                    "text", "image", "video", "audio", "file", "location", "sticker",
                ];
                assert_eq!(
                    typed,
                    known_msg.contains(&msg_type),
                    "{}: message type {msg_type}",
                    path.display()
                );
                assert_eq!(
                    message.id(),
                    raw_event["message"]["id"].as_str(),
                    "message id kept"
                );
            }
        }
    }
    bodies
}

#[test]
fn python_fixture_covers_the_event_zoo() {
    let Some(shared) = shared_dir("the Python SDK's event zoo") else {
        return;
    };
    let bytes =
        std::fs::read(shared.join("line-api/fixtures/sdk-python/webhook.json")).expect("readable");
    let req = CallbackRequest::parse(&bytes).expect("parses");
    let types: Vec<&str> = req.events.iter().map(|e| e.type_name()).collect();
    for t in [
        "message",
        "follow",
        "unfollow",
        "postback",
        "unsend",
        "messageEdited",
        "videoPlayComplete",
        "undefined",
    ] {
        assert!(types.contains(&t), "fixture should contain {t}");
    }
    assert!(req.events[25].is_redelivery(), "event 25 is a redelivery");
    let file = req.events.iter().find_map(|e| match &e.body {
        EventBody::Message {
            message:
                MessageContent::File {
                    file_name,
                    file_size,
                    ..
                },
        } => Some((file_name.clone(), *file_size)),
        _ => None,
    });
    assert!(file.is_some(), "file message parsed with name and size");
}

#[test]
fn every_signature_vector_of_ours_holds() {
    assert!(
        check_signatures(&own_dir(), false) >= 10,
        "all our vectors present"
    );
}

#[test]
fn every_signature_vector_of_lines_sdks_holds() {
    let Some(shared) = shared_dir("LINE's SDK signature vectors") else {
        return;
    };
    assert!(
        check_signatures(&shared.join("line-api/fixtures"), true) >= 10,
        "all vectors present"
    );
}

/// Checks `signatures.json` under `root`; answers how many vectors it held. LINE's vectors are
/// all well-formed signatures, so each refusal is a mismatch; ours say which are.
fn check_signatures(root: &Path, every_refusal_is_a_mismatch: bool) -> usize {
    let doc: Value =
        serde_json::from_slice(&std::fs::read(root.join("signatures.json")).expect("readable"))
            .expect("signatures.json is JSON");
    let vectors = doc["vectors"].as_array().expect("vectors array");
    for v in vectors {
        let id = v["id"].as_str().expect("id");
        let body = std::fs::read(root.join(v["body_file"].as_str().expect("body_file")))
            .expect("body readable");
        assert_eq!(
            body.len() as u64,
            v["body_len"].as_u64().expect("len"),
            "{id}: body bytes intact"
        );
        let secret = v["channel_secret"].as_str().expect("secret");
        let sig = v["x_line_signature"].as_str().expect("signature");
        let result = signature::verify(secret, &body, sig);
        if v["valid"].as_bool().expect("valid flag") {
            assert_eq!(result, Ok(()), "{id} must verify");
            assert_eq!(
                signature::sign(secret, &body),
                sig,
                "{id}: signing reproduces it"
            );
        } else if every_refusal_is_a_mismatch || v["refused_as"] == "mismatch" {
            assert_eq!(
                result,
                Err(SignatureError::Mismatch),
                "{id} must be refused"
            );
        } else {
            assert!(result.is_err(), "{id} must be refused");
        }
    }
    vectors.len()
}
