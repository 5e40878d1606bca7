//! Files representatives send: checked before decoding, stripped of metadata, served in ranges.

use axum::body::Body;
use http::{Request, StatusCode};
use tower::ServiceExt as _;

use crate::common::*;

/// Uploads `bytes` as rita; answers the status and the JSON answer (or refusal).
async fn upload(t: &TestRelay, name: &str, bytes: Vec<u8>) -> (StatusCode, serde_json::Value) {
    let token = t.login("rita").await;
    let resp = t
        .app()
        .oneshot(
            Request::post(format!("/api/uploads?channel={CHANNEL}&name={name}"))
                .header("authorization", format!("Bearer {token}"))
                .body(Body::from(bytes))
                .expect("request"),
        )
        .await
        .expect("served");
    let status = resp.status();
    let text = body_text(resp).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// The path part of an upload's URL (`/o/…`).
fn path_of(answer: &serde_json::Value) -> String {
    let url = answer["url"].as_str().expect("url");
    url[url.find("/o/").expect("an /o/ URL")..].to_owned()
}

async fn fetch(
    t: &TestRelay,
    path: &str,
    range: Option<&str>,
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let mut req = Request::get(path);
    if let Some(range) = range {
        req = req.header("range", range);
    }
    let resp = t
        .app()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("served");
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    (parts.status, parts.headers, bytes.to_vec())
}

/// CRC-32 (ISO-HDLC) as PNG chunks need it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut typed = kind.to_vec();
    typed.extend_from_slice(data);
    out.extend_from_slice(&typed);
    out.extend_from_slice(&crc32(&typed).to_be_bytes());
}

/// A few hundred bytes that claim a `width` × `height` RGB image (a decompression bomb's shape).
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    // The start of a zlib stream of zeros; never reached.
    png_chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9C, 0xED, 0xC1, 0x01, 0x0D, 0x00, 0x00],
    );
    png_chunk(&mut out, b"IEND", &[]);
    out
}

#[tokio::test]
async fn a_20000_by_20000_png_is_refused_from_its_header_before_decoding() {
    let t = TestRelay::start().await;
    let (status, answer) = upload(&t, "bomb.png", png_claiming(20_000, 20_000)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = answer["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("20000 × 20000"),
        "the refusal names the size it read from the header: {answer}"
    );
    // Nothing was kept: no upload row, no media file beyond the store's staging folder.
    let kept = walk(&t.dir.path().join("media"))
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains(".incoming"))
        .count();
    assert_eq!(kept, 0);
}

/// A small JPEG with an EXIF segment carrying a GPS position, and an XMP one.
fn photo_with_location() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
    let mut plain = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90)
        .encode_image(&img)
        .expect("jpeg");
    let plain = plain.into_inner();
    let segment = |payload: &[u8]| {
        let mut s = vec![0xFF, 0xE1];
        s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(payload);
        s
    };
    // A TIFF header (little-endian, no IFD entries) is enough to be EXIF; the marker text
    // stands in for the GPS tags a phone writes.
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0\0\0".to_vec();
    exif.extend_from_slice(b"GPSLatitude 35.6812 GPSLongitude 139.7671");
    let mut xmp = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    xmp.extend_from_slice(b"<x:xmpmeta>exif:GPSLatitude=35,40.87N</x:xmpmeta>");
    let mut out = plain[..2].to_vec();
    out.extend(segment(&exif));
    out.extend(segment(&xmp));
    out.extend_from_slice(&plain[2..]);
    out
}

#[tokio::test]
async fn a_photo_goes_out_without_its_location_and_with_its_pixels() {
    let t = TestRelay::start().await;
    let photo = photo_with_location();
    assert!(
        image::load_from_memory(&photo).is_ok(),
        "the test photo is a JPEG"
    );
    let (status, answer) = upload(&t, "photo.jpg", photo).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, headers, served) = fetch(&t, &path_of(&answer), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/jpeg");
    let text = String::from_utf8_lossy(&served);
    assert!(!text.contains("GPS"), "location metadata left in the photo");
    assert!(!text.contains("Exif"), "EXIF left in the photo");
    let img = image::load_from_memory(&served).expect("still a JPEG");
    assert_eq!((img.width(), img.height()), (64, 48));
}

#[tokio::test]
async fn a_video_is_served_in_ranges_so_it_can_seek() {
    let t = TestRelay::start().await;
    let mut video = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    video.extend((0..1_000_000u32).map(|i| (i % 251) as u8));
    let (status, answer) = upload(&t, "clip.mp4", video.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["kind"], "video");
    let path = path_of(&answer);
    let (status, headers, part) = fetch(&t, &path, Some("bytes=500000-500099")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        headers["content-range"],
        format!("bytes 500000-500099/{}", video.len()).as_str()
    );
    assert_eq!(part, video[500_000..500_100]);
    assert_eq!(headers["content-type"], "video/mp4");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let (status, _, whole) = fetch(&t, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(whole, video);
    let (status, _, _) = fetch(&t, &path, Some("bytes=99999999-")).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
}
