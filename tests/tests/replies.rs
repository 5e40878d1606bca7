//! Quick replies on the relay: everyone keeps their own, supervisors and admins keep the team's,
//! nobody sees or changes someone else's own; each wrong entry is named by its field.

use linedesk_protocol::Role;
use linedesk_tests::{Loopback, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

fn reply(team: bool, title: &str, texts: Value) -> Value {
    json!({"team": team, "title": title, "texts": texts})
}

#[tokio::test]
async fn quick_replies_are_kept_by_who_may_and_seen_by_who_should() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Loopback::start(&dir.path().join("relay")).await;
    w.add_user("nora", Role::Rep, PASSWORD);
    w.add_user("sam", Role::Supervisor, PASSWORD);
    let rita = w.login("rita", PASSWORD).await;
    let nora = w.login("nora", PASSWORD).await;
    let sam = w.login("sam", PASSWORD).await;

    // The team's: a supervisor adds it; a representative may not.
    let team = reply(
        true,
        "Order status",
        json!({"en": "Hello {CustomerName}, I am checking your order now.",
               "th": "สวัสดีค่ะ คุณ{CustomerName} {AgentName} กำลังตรวจสอบคำสั่งซื้อให้ค่ะ"}),
    );
    let (status, body) = w
        .api(
            Method::POST,
            "/api/quick-replies",
            &rita,
            Some(team.clone()),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["invalid"][0]["reason"]["kind"], "supervisorOnly");
    let (status, added) = w
        .api(Method::POST, "/api/quick-replies", &sam, Some(team))
        .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["team"], true);
    assert_eq!(added["owner"], Value::Null);
    let team_id = added["id"].as_i64().expect("id");

    // Rita's own, and Nora's own.
    let (status, mine) = w
        .api(
            Method::POST,
            "/api/quick-replies",
            &rita,
            Some(reply(
                false,
                "Thanks",
                json!({"en": "Thank you, {CustomerName}!"}),
            )),
        )
        .await;
    assert_eq!(status, 201, "{mine}");
    assert_eq!(mine["owner"], "rita");
    let (_, noras) = w
        .api(
            Method::POST,
            "/api/quick-replies",
            &nora,
            Some(reply(
                false,
                "Nora's",
                json!({"ja": "少々お待ちください。"}),
            )),
        )
        .await;
    let noras_id = noras["id"].as_i64().expect("id");

    // Each sees the team's and their own.
    let titles = |list: &Value| -> Vec<String> {
        list.as_array()
            .expect("a list")
            .iter()
            .map(|r| r["title"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let (_, list) = w.api(Method::GET, "/api/quick-replies", &rita, None).await;
    assert_eq!(titles(&list), ["Order status", "Thanks"]);
    let (_, list) = w.api(Method::GET, "/api/quick-replies", &nora, None).await;
    assert_eq!(titles(&list), ["Nora's", "Order status"]);
    let (_, list) = w.api(Method::GET, "/api/quick-replies", &sam, None).await;
    assert_eq!(
        titles(&list),
        ["Order status"],
        "a supervisor sees nobody's own"
    );

    // Who may change what: the table.
    let edit = reply(false, "Changed", json!({"en": "changed"}));
    let path = |id: i64| format!("/api/quick-replies/{id}");
    for (who, token, id, status) in [
        ("a rep, the team's", &rita, team_id, 403),
        ("a rep, someone else's own", &rita, noras_id, 404),
        ("a supervisor, a rep's own", &sam, noras_id, 404),
        ("a rep, no such reply", &rita, 999_999, 404),
    ] {
        let (got, body) = w
            .api(Method::PUT, &path(id), token, Some(edit.clone()))
            .await;
        assert_eq!(got, status, "PUT by {who}: {body}");
        let (got, body) = w.api(Method::DELETE, &path(id), token, None).await;
        assert_eq!(got, status, "DELETE by {who}: {body}");
    }
    let (status, changed) = w.api(Method::PUT, &path(noras_id), &nora, Some(edit)).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (&changed["title"], &changed["owner"]),
        (&json!("Changed"), &json!("nora"))
    );
    let (status, _) = w
        .api(
            Method::PUT,
            &path(team_id),
            &sam,
            Some(reply(
                true,
                "Order status (v2)",
                json!({"en": "Checking now."}),
            )),
        )
        .await;
    assert_eq!(status, 200);

    // Entries: each wrong part named, nothing stored.
    let (status, body) = w
        .api(
            Method::POST,
            "/api/quick-replies",
            &rita,
            Some(reply(
                false,
                "  ",
                json!({"english": "x", "th": " ", "ja": "あ".repeat(5001)}),
            )),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let fields: Vec<&str> = body["invalid"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|i| i["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        ["title", "texts.english", "texts.ja", "texts.th"],
        "{body}"
    );
    let (status, body) = w
        .api(
            Method::POST,
            "/api/quick-replies",
            &rita,
            Some(reply(false, "No text", json!({}))),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["invalid"][0]["field"], "texts");
    let (_, list) = w.api(Method::GET, "/api/quick-replies", &rita, None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(2), "nothing was added");

    // Removing: one's own, and the team's by a supervisor.
    let (status, _) = w.api(Method::DELETE, &path(noras_id), &nora, None).await;
    assert_eq!(status, 204);
    let (status, _) = w.api(Method::DELETE, &path(team_id), &sam, None).await;
    assert_eq!(status, 204);
    let (_, list) = w.api(Method::GET, "/api/quick-replies", &nora, None).await;
    assert_eq!(list, json!([]));
}

/// Uploads `bytes` (`query` names it, and adds a channel or not: none for a quick reply's
/// picture); the status and the answer.
async fn upload(w: &Loopback, token: &str, query: &str, bytes: Vec<u8>) -> (u16, Value) {
    let resp = w
        .http
        .post(format!("{}/api/uploads?{query}", w.relay_url))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .expect("upload");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_quick_reply_has_a_picture_of_the_relays_own_uploads_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Loopback::start(&dir.path().join("relay")).await;
    w.add_user("nora", Role::Rep, PASSWORD);
    let rita = w.login("rita", PASSWORD).await;
    let nora = w.login("nora", PASSWORD).await;
    let mut png = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(64, 48, image::Rgb([200, 40, 90]))
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    let png = png.into_inner();
    let (status, picture) = upload(&w, &rita, "name=map.png", png.clone()).await;
    assert_eq!(status, 200, "{picture}");
    assert_eq!(picture["kind"], "image");
    // Without a channel only a picture is kept.
    let (status, body) = upload(&w, &rita, "name=terms.txt", b"plain terms".to_vec()).await;
    assert_eq!(status, 400, "{body}");
    let url = picture["url"].as_str().expect("url").to_owned();
    let image = json!({"url": url, "previewUrl": format!("{url}/preview")});
    let with = |image: Value| {
        json!({"team": false, "title": "Where we are", "texts": {"en": "Here is the way to our shop."},
               "image": image})
    };
    let (status, added) = w
        .api(
            Method::POST,
            "/api/quick-replies",
            &rita,
            Some(with(image.clone())),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["image"], image);
    let (_, list) = w.api(Method::GET, "/api/quick-replies", &rita, None).await;
    assert_eq!(list[0]["image"], image, "kept: {list}");

    // Refused by field, nothing changes: not an upload of this relay; its own token at another
    // host; a preview that is not its own; someone else's picture; a picture sent on a channel
    // (a customer's erasure must be able to take it).
    let fake = format!("{url}x").replace("/o/", "/o/A");
    let elsewhere = url.replacen("127.0.0.1", "localhost", 1);
    let (_, noras) = upload(&w, &nora, "name=nora.png", png.clone()).await;
    let noras = noras["url"].as_str().expect("url").to_owned();
    let (_, sent) = upload(
        &w,
        &rita,
        &format!("channel={}&name=sent.png", linedesk_tests::CHANNEL),
        png.clone(),
    )
    .await;
    let sent = sent["url"].as_str().expect("url").to_owned();
    for bad in [
        json!({"url": "https://example.com/o/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
               "previewUrl": "https://example.com/o/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/preview"}),
        json!({"url": elsewhere, "previewUrl": format!("{elsewhere}/preview")}),
        json!({"url": url, "previewUrl": "https://example.com/x.png"}),
        json!({"url": fake, "previewUrl": format!("{fake}/preview")}),
        json!({"url": noras, "previewUrl": format!("{noras}/preview")}),
        json!({"url": sent, "previewUrl": format!("{sent}/preview")}),
    ] {
        let (status, body) = w
            .api(
                Method::POST,
                "/api/quick-replies",
                &rita,
                Some(with(bad.clone())),
            )
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["invalid"][0]["field"], "image", "{body}");
    }
    let (_, list) = w.api(Method::GET, "/api/quick-replies", &rita, None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));

    // The picture can be taken off again.
    let id = added["id"].as_i64().expect("id");
    let (status, changed) = w
        .api(
            Method::PUT,
            &format!("/api/quick-replies/{id}"),
            &rita,
            Some(with(Value::Null)),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["image"], Value::Null);
}
