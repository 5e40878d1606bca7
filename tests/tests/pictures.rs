//! Stickers, LINE emoji and profile pictures: the relay fetches each once from LINE's CDN (the
//! simulator here) when an event or a profile names it, keeps it, and serves it to consoles;
//! a profile picture only to whoever may see that customer.

use std::time::Duration;

use linedesk_protocol::Role;
use linedesk_tests::{Loopback, PASSWORD};
use serde_json::json;

/// `GET path` as `token`: the status, and the picture's centre pixel when it is one.
async fn picture(w: &Loopback, path: &str, token: &str) -> (u16, Option<[u8; 3]>) {
    let resp = w
        .http
        .get(format!("{}{path}", w.relay_url))
        .bearer_auth(token)
        .send()
        .await
        .expect("relay answers");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.expect("body");
    if status != 200 {
        return (status, None);
    }
    let img = image::load_from_memory(&bytes)
        .expect("a picture")
        .to_rgb8();
    let p = img.get_pixel(img.width() / 2, img.height() / 2);
    (status, Some(p.0))
}

/// Waits until `path` is no longer being fetched (202); its final answer.
async fn settled(w: &Loopback, path: &str, token: &str) -> (u16, Option<[u8; 3]>) {
    for _ in 0..400 {
        match picture(w, path, token).await {
            // 404 before the event was read: not named yet.
            (202 | 404, _) => tokio::time::sleep(Duration::from_millis(25)).await,
            done => return done,
        }
    }
    picture(w, path, token).await
}

fn colour(key: &str) -> Option<[u8; 3]> {
    Some(linedesk_sim::pictures::colour_of(key))
}

#[tokio::test]
async fn stickers_emoji_and_faces_are_fetched_once_and_served_to_who_may_see() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Loopback::start(&dir.path().join("relay")).await;
    w.add_user("nora", Role::Rep, PASSWORD);
    w.add_user("ada", Role::Admin, PASSWORD);
    let rita = w.login("rita", PASSWORD).await;
    let nora = w.login("nora", PASSWORD).await;
    let ada = w.login("ada", PASSWORD).await;
    let (status, _) = w
        .api(
            reqwest::Method::POST,
            "/api/presence",
            &rita,
            Some(json!({"presence": "available"})),
        )
        .await;
    assert_eq!(status, 200);
    // The CDN has lost one sticker.
    w.sim(
        "/sim/faults",
        json!({"path": "/stickershop/v1/sticker/52002740/", "status": 404, "count": 100}),
    )
    .await;

    let ann = w.customer("Ann", "en").await;
    let product = "5ac1bfd5040ab15980c9b435";
    for message in [
        json!({"type": "sticker", "packageId": "11537", "stickerId": "52002734",
               "stickerResourceType": "ANIMATION"}),
        json!({"type": "text", "text": "$ thanks $", "emojis": [
            {"index": 0, "length": 1, "productId": product, "emojiId": "001"},
            {"index": 9, "length": 1, "productId": product, "emojiId": "002"}]}),
        json!({"type": "sticker", "packageId": "11537", "stickerId": "52002740"}),
    ] {
        w.sim(&format!("/sim/customers/{ann}/messages"), message)
            .await;
    }
    w.offered(&rita, &ann).await;

    // Each is drawn by the CDN in a colour of its own: the relay serves LINE's bytes.
    assert_eq!(
        settled(&w, "/api/stickers/52002734", &rita).await,
        (200, colour("sticker:52002734"))
    );
    assert_eq!(
        settled(&w, "/api/stickers/52002734?animation=true", &nora).await,
        (200, colour("animation:52002734")),
        "an animated sticker has its animation too; stickers are for anyone signed in"
    );
    for id in ["001", "002"] {
        assert_eq!(
            settled(&w, &format!("/api/emoji/{product}/{id}"), &rita).await,
            (200, colour(&format!("emoji:{product}:{id}")))
        );
    }
    // The lost one ends as "none" (the console shows its tile); a static sticker has no
    // animation; an id that is not one is refused.
    let mut lost = (0, None);
    for _ in 0..400 {
        lost = picture(&w, "/api/stickers/52002740", &rita).await;
        let row = w
            .relay()
            .read(|c| linedesk_relay::store::pictures::get(c, "sticker:52002740"))
            .await
            .expect("read");
        if row.is_some_and(|r| r.status == "failed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        picture(&w, "/api/stickers/52002740", &rita).await,
        (410, None),
        "{lost:?}"
    );
    assert_eq!(
        picture(&w, "/api/stickers/52002734?animation=false", &rita)
            .await
            .0,
        200
    );
    assert_eq!(
        picture(&w, "/api/stickers/52002740?animation=true", &rita).await,
        (404, None)
    );
    let (status, body) = w
        .api(reqwest::Method::GET, "/api/stickers/..%2Fx", &rita, None)
        .await;
    assert_eq!(status, 400, "{body}");

    // Ann's face: for Rita, to whom she is offered, and the admin; Nora is answered as if
    // there were none; nobody signed out gets anything.
    let face = format!("/api/avatars/{}/{ann}", linedesk_tests::CHANNEL);
    assert_eq!(
        settled(&w, &face, &rita).await,
        (200, colour(&format!("avatar:{ann}")))
    );
    assert_eq!(picture(&w, &face, &ada).await.0, 200);
    assert_eq!(picture(&w, &face, &nora).await, (404, None));
    assert_eq!(picture(&w, &face, "not-a-session").await.0, 401);

    // The palette: a sticker LINE lets bots send is fetched when first asked for; a made-up
    // one is not fetched, and nothing of it is kept.
    assert_eq!(
        settled(&w, "/api/stickers/52002745", &nora).await,
        (200, colour("sticker:52002745"))
    );
    assert_eq!(
        picture(&w, "/api/stickers/99999999", &rita).await,
        (404, None)
    );
    let made_up = w
        .relay()
        .read(|c| linedesk_relay::store::pictures::get(c, "sticker:99999999"))
        .await
        .expect("read");
    assert!(made_up.is_none());

    // Rita accepts and sends a sticker; one LINE does not let bots send is refused by the
    // relay, and LINE hears nothing of it.
    let id = w.offered(&rita, &ann).await;
    let (status, _) = w
        .api(
            reqwest::Method::POST,
            &format!("/api/conversations/{id}/accept"),
            &rita,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200);
    let send = |outbox: &str, sticker: &str| {
        json!({"outboxId": outbox, "channelId": linedesk_tests::CHANNEL, "chatId": ann,
               "messages": [{"type": "sticker", "packageId": "11537", "stickerId": sticker}]})
    };
    let (status, body) = w
        .api(
            reqwest::Method::POST,
            "/api/send",
            &rita,
            Some(send("00000000-0000-4000-8000-000000000001", "99999999")),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("not one LINE lets bots send"),
        "{body}"
    );
    let (status, body) = w
        .api(
            reqwest::Method::POST,
            "/api/send",
            &rita,
            Some(send("00000000-0000-4000-8000-000000000002", "52002745")),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let received = w
        .sim(
            &format!("/sim/customers/{ann}/received"),
            serde_json::Value::Null,
        )
        .await;
    let stickers: Vec<_> = received
        .as_array()
        .expect("list")
        .iter()
        .filter(|m| m["message"]["type"] == "sticker")
        .map(|m| m["message"]["stickerId"].clone())
        .collect();
    assert_eq!(stickers, [json!("52002745")]);

    // Fetched once each, however many times served.
    let keys = [
        "sticker:52002734".to_owned(),
        "sticker:52002734:animation".to_owned(),
        format!("emoji:{product}:001"),
        format!("emoji:{product}:002"),
        format!("avatar:{}:{ann}", linedesk_tests::CHANNEL),
        "sticker:52002745".to_owned(),
    ];
    for key in keys {
        let row = w
            .relay()
            .read({
                let key = key.clone();
                move |c| linedesk_relay::store::pictures::get(c, &key)
            })
            .await
            .expect("read")
            .expect("a row");
        assert_eq!((row.status.as_str(), row.attempts), ("ready", 1), "{key}");
    }
}
