//! A closed conversation exported as a printable, self-contained HTML transcript, from the
//! console's cache and the relay's media, against a real relay and the simulator.

use super::*;
use base64::Engine as _;
use linedesk_core::transcript::{Fact, TranscriptText};

fn png(rgb: [u8; 3], w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb(rgb));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

fn words(customer: &str) -> TranscriptText {
    let mut t = TranscriptText::english(&format!("Transcript {customer}"), customer);
    t.facts.push(Fact {
        label: "Customer".into(),
        value: customer.into(),
    });
    t.footer = "Exported by rita".into();
    t
}

/// The average colour of every thumbnail in the file, in order.
fn thumbnails(html: &str) -> Vec<[u8; 3]> {
    html.split("src=\"data:image/jpeg;base64,")
        .skip(1)
        .map(|rest| {
            let b64 = &rest[..rest.find('"').expect("end of the URI")];
            let jpeg = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("base64");
            let img = image::load_from_memory(&jpeg).expect("a JPEG").to_rgb8();
            assert!(img.width() <= 320 && img.height() <= 320, "a thumbnail");
            let p = img.get_pixel(img.width() / 2, img.height() / 2);
            [p[0], p[1], p[2]]
        })
        .collect()
}

fn close_to(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) < 24)
}

#[tokio::test]
async fn a_closed_conversation_exports_as_a_self_contained_printable_transcript() {
    let w = world().await;
    let core = w.console(Arc::default()).await;
    core.sign_in(&w.relay_url(), "rita", PASSWORD)
        .await
        .expect("sign in");
    online(&core).await;
    let user = w.customer("Ann <Lee>", "en").await;
    w.say(
        &user,
        json!({"type": "text", "text": "Where is my order? <script>alert(1)</script>"}),
    )
    .await;
    let red = png([220, 30, 30], 1200, 800);
    let photo = w
        .say(
            &user,
            json!({"type": "image",
                   "contentBase64": base64::engine::general_purpose::STANDARD.encode(&red)}),
        )
        .await["messageId"]
        .as_str()
        .expect("id")
        .to_owned();
    let conv = eventually("both cached", async || {
        let c = core
            .conversations(10)
            .await
            .ok()?
            .into_iter()
            .find(|c| c.chat_id == user)?;
        (c.unread >= 2).then_some(c)
    })
    .await;
    accept(&core, conv.id).await;
    core.send_text(conv.id, "Let me check that for you.")
        .await
        .expect("queued");
    let blue = png([30, 60, 220], 640, 640);
    core.send_attachment(conv.id, "parcel.png", blue.into(), None)
        .await
        .expect("the picture is sent");
    eventually("both sends confirmed", async || {
        let m = core.messages(conv.id, None, 100).await.ok()?;
        let out: Vec<_> = m.iter().filter(|m| m.direction == "out").collect();
        (out.len() == 2 && out.iter().all(|m| m.status.as_deref() == Some("sent"))).then_some(())
    })
    .await;
    let episode = core
        .conversations(10)
        .await
        .expect("list")
        .into_iter()
        .find(|c| c.id == conv.id)
        .and_then(|c| c.routing)
        .expect("routed")
        .id;
    core.act(
        &episode,
        "note",
        json!({"text": "Asked twice; be quick <b>please</b>"}),
    )
    .await
    .expect("a note");
    core.act(&episode, "close", json!({}))
        .await
        .expect("closed");
    eventually("closed, its goodbye and the note cached", async || {
        let m = core.messages(conv.id, None, 100).await.ok()?;
        let goodbye = m.iter().any(|m| m.automated.as_deref() == Some("closed"));
        let note = m.iter().any(|m| m.kind == "note");
        let c = core.episodes(conv.id).await.ok()?;
        (goodbye && note && c.iter().any(|e| e.id == episode && e.closed_at.is_some()))
            .then_some(())
    })
    .await;
    // The customer's photo is in the relay's store (downloaded from LINE) before the export.
    eventually("the photo is on the relay", async || {
        let r = core.media(&conv.channel_id, &photo).await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
    // A later conversation with the same customer is not part of this one's transcript.
    w.say(
        &user,
        json!({"type": "text", "text": "A new question, days later"}),
    )
    .await;
    let later = eventually("a second conversation", async || {
        let e = core.episodes(conv.id).await.ok()?;
        (e.len() == 2).then(|| e[0].id.clone())
    })
    .await;

    let t = core
        .transcript(conv.id, &episode, words("Ann <Lee>"), "Asia/Tokyo")
        .await
        .expect("a transcript");
    let html = &t.html;
    assert!(
        t.file_name.starts_with("Transcript Ann <Lee> 20"),
        "{}",
        t.file_name
    );
    assert!(t.file_name.ends_with(".html"));
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Customer text as text, never as markup; nothing but itself is referenced.
    assert!(html.contains("Where is my order? &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    assert!(html.contains("default-src 'none'; img-src data:"));
    // Who and when: the customer, the representative with how it went out, the relay.
    assert!(html.contains("Ann &lt;Lee&gt; · "));
    assert!(html.contains("rita · "));
    assert!(html.contains("Let me check that for you."));
    assert!(html.contains("Sent · free (reply)") && html.contains("Sent · push (metered)"));
    assert!(
        html.contains("class=\"msg out automated\""),
        "the goodbye is marked"
    );
    assert!(html.contains("Automatic message · "));
    // The note, marked internal.
    assert!(html.contains("class=\"note note\""));
    assert!(html.contains("Note from rita"));
    assert!(html.contains("(internal, not sent to LINE)"));
    assert!(html.contains("Asked twice; be quick &lt;b&gt;please&lt;/b&gt;"));
    // Both pictures, as thumbnails inside the file: the customer's red, the team's blue.
    let thumbs = thumbnails(html);
    assert_eq!(thumbs.len(), 2, "{thumbs:?}");
    assert!(close_to(thumbs[0], [220, 30, 30]), "{thumbs:?}");
    assert!(close_to(thumbs[1], [30, 60, 220]), "{thumbs:?}");
    assert!(
        !html.contains("A new question"),
        "the next conversation is not in it"
    );

    // The later one is still open: no transcript until it closes.
    let open = core
        .transcript(conv.id, &later, words("Ann <Lee>"), "UTC")
        .await;
    assert!(
        matches!(open, Err(linedesk_core::CoreError::Transcript(ref why)) if why.contains("not closed")),
        "{open:?}"
    );
    accept(&core, conv.id).await;
    core.act(&later, "close", json!({})).await.expect("closed");
    eventually("the later one closed", async || {
        let e = core.episodes(conv.id).await.ok()?;
        e.iter()
            .any(|e| e.id == later && e.closed_at.is_some())
            .then_some(())
    })
    .await;
    let next = core
        .transcript(conv.id, &later, words("Ann <Lee>"), "UTC")
        .await
        .expect("the later one's transcript");
    assert!(next.html.contains("A new question, days later"));
    assert!(!next.html.contains("Where is my order"));
    assert!(!next.html.contains("Asked twice"));

    // Wrong requests are refused and write nothing.
    let refused = core
        .transcript(conv.id, "no-such-id", words("Ann"), "UTC")
        .await;
    assert!(matches!(
        refused,
        Err(linedesk_core::CoreError::Transcript(_))
    ));
    let refused = core
        .transcript(conv.id, &episode, words("Ann"), "Mars/Olympus")
        .await;
    assert!(matches!(
        refused,
        Err(linedesk_core::CoreError::Transcript(_))
    ));
    let mut long = words("Ann");
    long.footer = "x".repeat(501);
    assert!(matches!(
        core.transcript(conv.id, &episode, long, "UTC").await,
        Err(linedesk_core::CoreError::Transcript(_))
    ));
    core.shutdown().await;
}
