//! A quick reply's picture: uploaded once from Settings, kept with the reply by the relay, and
//! sent after the reply's text; only a picture, and only a reply's own.

use super::*;
use linedesk_protocol::api::AddQuickReply;
use linedesk_protocol::replies::{QuickReplyImage, QuickReplyInput};

#[tokio::test]
async fn a_quick_replys_picture_goes_after_its_text() {
    let w = world().await;
    let core = w.console(Arc::default()).await;
    core.sign_in(&w.relay_url(), "rita", PASSWORD)
        .await
        .expect("sign in");
    online(&core).await;

    let mut png = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(64, 48, image::Rgb([30, 140, 200]))
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    let picture = core
        .upload_reply_picture("map.png", png.into_inner().into())
        .await
        .expect("uploaded");
    assert!(
        core.upload_reply_picture("terms.txt", bytes::Bytes::from_static(b"terms"))
            .await
            .is_err(),
        "only a picture"
    );
    let preview = picture.preview_url.clone().expect("a preview");
    let reply = core
        .call(&AddQuickReply {
            reply: QuickReplyInput {
                team: false,
                title: "Where we are".into(),
                texts: [("en".to_owned(), "Here is the way to our shop.".to_owned())].into(),
                image: Some(QuickReplyImage {
                    url: picture.url.clone(),
                    preview_url: preview.clone(),
                }),
            },
        })
        .await
        .expect("kept by the relay");

    let user = w.customer("Ann", "en").await;
    w.say(
        &user,
        json!({"type": "text", "text": "Where is your shop?"}),
    )
    .await;
    let id = eventually("Ann's question cached", async || {
        core.conversations(50)
            .await
            .ok()?
            .into_iter()
            .find(|c| c.chat_id == user)
            .map(|c| c.id)
    })
    .await;
    accept(&core, id).await;
    core.send_text(id, "Here is the way to our shop.")
        .await
        .expect("text queued");
    core.send_reply_picture(id, reply.id)
        .await
        .expect("picture queued");
    assert!(matches!(
        core.send_reply_picture(id, reply.id + 1000).await,
        Err(linedesk_core::CoreError::NotAPicture)
    ));
    let got = eventually("both reached LINE", async || {
        let got = w.received(&user).await;
        (got.len() >= 2).then_some(got)
    })
    .await;
    let kinds: Vec<_> = got.iter().map(|m| m["message"]["type"].clone()).collect();
    assert_eq!(kinds, [json!("text"), json!("image")], "{got:?}");
    assert_eq!(
        got[1]["message"]["originalContentUrl"],
        picture.url.as_str()
    );
    assert_eq!(got[1]["message"]["previewImageUrl"], preview.as_str());
}
