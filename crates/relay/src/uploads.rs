//! Files representatives send. LINE bots cannot upload media: a message names an HTTPS URL
//! that LINE fetches, possibly much later. So the console uploads the file here
//! (`POST /api/uploads?channel=…&name=…`), the relay stores it by hash and answers a
//! long-lived, unguessable URL (`/o/{token}`, 256 random bits) that serves it to anyone
//! holding the link, with its true content type and `nosniff`.
//!
//! Images must be JPEG or PNG at most 10 MB with a preview of at most 1 MB: other image
//! formats are transcoded to JPEG and large previews are made smaller. Video must be mp4,
//! audio m4a or mp3 (at most 200 MB). Anything else is a document, which goes out as a link.
//! The workstream's "representatives can send attachments" switch is enforced here too.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use linedesk_protocol::{Reason, Uploaded};
use rand::RngCore as _;
use serde::Deserialize;

use crate::policy::{AnyUser, Refusal};
use crate::store::uploads;
use crate::Relay;

/// Largest upload (LINE's limit for video and audio).
pub const MAX_UPLOAD: usize = 200 * 1024 * 1024;
/// Largest image LINE accepts.
const MAX_IMAGE: usize = 10 * 1024 * 1024;
/// Largest preview LINE accepts.
const MAX_PREVIEW: usize = 1024 * 1024;
/// Largest image file looked at (one that big can only pass by being converted smaller).
const MAX_IMAGE_INPUT: u64 = 50 * 1024 * 1024;
/// Most pixels an image may have (LINE's app shows far fewer); checked before decoding.
const MAX_PIXELS: u64 = 50_000_000;
/// Most memory one image's decoding may take.
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;
/// Longest side of a generated preview.
const PREVIEW_SIDE: u32 = 480;

/// `POST /api/uploads` query.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    /// The channel it will be sent on (for the workstream's permission, checked again when it
    /// is sent). None for a quick reply's picture, which may go out on any channel.
    #[serde(default)]
    pub channel: Option<String>,
    /// The file's name as the representative chose it.
    pub name: String,
}

/// What the bytes are, by their first bytes (never by the name or the declared type).
pub fn sniff(bytes: &[u8]) -> (&'static str, &'static str) {
    let at = |i: usize, m: &[u8]| bytes.get(i..i + m.len()) == Some(m);
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        ("image", "image/jpeg")
    } else if at(0, b"\x89PNG\r\n\x1a\n") {
        ("image", "image/png")
    } else if at(0, b"GIF8") || (at(0, b"RIFF") && at(8, b"WEBP")) {
        ("image", "transcode")
    } else if at(4, b"ftyp") {
        if at(8, b"M4A ") || at(8, b"M4B ") {
            ("audio", "audio/mp4")
        } else {
            ("video", "video/mp4")
        }
    } else if at(0, b"ID3") || (bytes.len() > 1 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
        ("audio", "audio/mpeg")
    } else if at(0, b"%PDF") {
        ("file", "application/pdf")
    } else {
        ("file", "application/octet-stream")
    }
}

/// A JPEG of at most `PREVIEW_SIDE` px and 1 MB.
fn preview_of(img: &image::DynamicImage) -> Result<Vec<u8>, image::ImageError> {
    let small = img.thumbnail(PREVIEW_SIDE, PREVIEW_SIDE).to_rgb8();
    let mut out = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&small)?;
    Ok(out.into_inner())
}

/// A neutral 16:9 JPEG with a play mark, for video (no decoder on the relay).
fn video_preview() -> Vec<u8> {
    let (w, h) = (480u32, 270u32);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let (cx, cy) = (x as i32 - w as i32 / 2, y as i32 - h as i32 / 2);
        // A right-pointing triangle in the middle.
        if (-30..30).contains(&cx) && cy.abs() * 2 < (30 - cx) {
            image::Rgb([255, 255, 255])
        } else {
            image::Rgb([40, 44, 52])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    let _ = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&img);
    out.into_inner()
}

fn public_base(relay: &Relay, headers: &HeaderMap) -> String {
    // Without a configured public URL (tests, demo), the address the console used.
    crate::request_base(relay, headers)
}

fn token() -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// `POST /api/uploads?channel=…&name=…` with the file as the body, streamed to disk.
pub async fn upload(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    headers: HeaderMap,
    Query(q): Query<UploadQuery>,
    body: axum::body::Body,
) -> Result<impl IntoResponse, Refusal> {
    if q.channel
        .as_deref()
        .is_some_and(|c| relay.registry().get(c).is_none())
    {
        return Err(Refusal::not_found("no such channel"));
    }
    let name: String = q
        .name
        .chars()
        .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
        .take(200)
        .collect();
    if name.trim().is_empty() {
        return Err(Refusal::bad_request("a file needs a name and some bytes"));
    }
    if let Some(channel) = q.channel.clone() {
        let allowed = relay
            .read(move |c| crate::routing::engine::load_workstream(c, &channel))
            .await?
            .attachments
            .representatives_can_send;
        if !allowed {
            return Err(Refusal::forbidden_because(Reason::AttachmentsOff));
        }
    }
    let staged = relay
        .media()
        .stage(body.into_data_stream(), MAX_UPLOAD as u64)
        .await
        .map_err(stage_refusal)?;
    if staged.size == 0 {
        return Err(Refusal::bad_request("a file needs a name and some bytes"));
    }
    let (kind, sniffed) = sniff(&staged.head);
    // Without a channel it is a quick reply's picture: nothing else is kept.
    if q.channel.is_none() && kind != "image" {
        return Err(Refusal::field("file", Reason::Malformed));
    }
    let stored = match kind {
        "image" => {
            if staged.size > MAX_IMAGE_INPUT {
                return Err(Refusal::field(
                    "file",
                    Reason::TooLarge {
                        max_bytes: MAX_IMAGE_INPUT,
                    },
                ));
            }
            let bytes = tokio::fs::read(staged.path())
                .await
                .map_err(store_refusal)?;
            drop(staged);
            let prepared = tokio::task::spawn_blocking(move || prepare_image(sniffed, &bytes))
                .await
                .map_err(Refusal::internal)?
                .map_err(|message| Refusal::bad_request(&message))?;
            let sha = relay
                .media()
                .put(&prepared.bytes)
                .await
                .map_err(store_refusal)?;
            let preview = match &prepared.preview {
                Some(p) => relay.media().put(p).await.map_err(store_refusal)?,
                None => sha.clone(),
            };
            Stored {
                sha,
                size: prepared.bytes.len() as u64,
                content_type: prepared.content_type,
                preview: Some(preview),
            }
        }
        _ => {
            let size = staged.size;
            let sha = relay.media().keep(staged).await.map_err(store_refusal)?;
            let preview = if kind == "video" {
                Some(
                    relay
                        .media()
                        .put(&video_preview())
                        .await
                        .map_err(store_refusal)?,
                )
            } else {
                None
            };
            Stored {
                sha,
                size,
                content_type: sniffed.to_owned(),
                preview,
            }
        }
    };
    // Every relay serves uploads (LINE may fetch from any of them).
    for sha in std::iter::once(&stored.sha).chain(stored.preview.as_ref()) {
        crate::media::share(&relay, sha)
            .await
            .map_err(|e| Refusal::internal(e.to_string()))?;
    }
    let token = token();
    let now = crate::store::now_ms();
    let row = (
        token.clone(),
        kind.to_owned(),
        stored.sha,
        stored.content_type.clone(),
        stored.size as i64,
        name.clone(),
        stored.preview.clone(),
        q.channel.clone().unwrap_or_default(),
        caller.session.user.name.clone(),
    );
    relay
        .writer()
        .run(move |c| {
            uploads::insert(
                c,
                &uploads::NewUpload {
                    token: &row.0,
                    kind: &row.1,
                    sha256: &row.2,
                    content_type: &row.3,
                    size: row.4,
                    file_name: &row.5,
                    preview_sha256: row.6.as_deref(),
                    channel_id: &row.7,
                    uploaded_by: &row.8,
                    created_at: now,
                },
            )
        })
        .await
        .map_err(Refusal::internal)?;
    let base = public_base(&relay, &headers);
    Ok(Json(Uploaded {
        kind: kind.into(),
        url: format!("{base}/o/{token}"),
        preview_url: stored.preview.map(|_| format!("{base}/o/{token}/preview")),
        content_type: stored.content_type,
        size: stored.size,
        file_name: name,
    }))
}

/// An upload in the media store.
struct Stored {
    sha: String,
    size: u64,
    content_type: String,
    preview: Option<String>,
}

fn stage_refusal(e: crate::media::StageError) -> Refusal {
    match e {
        crate::media::StageError::TooLarge { .. } => Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            linedesk_protocol::ErrorCode::BadRequest,
            "files can be at most 200 MB",
        ),
        crate::media::StageError::Body(why) => {
            Refusal::bad_request(&format!("the upload did not arrive whole: {why}"))
        }
        crate::media::StageError::Io(e) => store_refusal(e),
    }
}

/// A full disk is the relay's passing problem (503, try again); anything else is internal.
fn store_refusal(e: std::io::Error) -> Refusal {
    if crate::media::is_disk_full(&e) {
        Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            linedesk_protocol::ErrorCode::Internal,
            "the relay's disk is full; try again later",
        )
    } else {
        Refusal::internal(e)
    }
}

/// An image ready to be stored and sent.
pub struct Prepared {
    /// What it is now (a transcoded image is JPEG).
    pub content_type: String,
    /// Its bytes, without metadata.
    pub bytes: Vec<u8>,
    /// A smaller preview, when the image itself is too big to be one.
    pub preview: Option<Vec<u8>>,
}

/// Checks an image's size before decoding it, decodes it within memory limits, drops its
/// metadata (EXIF with GPS, XMP, IPTC), transcodes what LINE cannot show, makes a preview.
pub fn prepare_image(sniffed: &'static str, body: &[u8]) -> Result<Prepared, String> {
    let unreadable = |_| "this image could not be read".to_owned();
    let reader = || image::ImageReader::new(std::io::Cursor::new(body)).with_guessed_format();
    // The header alone says how big the decoded image would be.
    let (width, height) = reader()
        .map_err(|_| "this image could not be read".to_owned())?
        .into_dimensions()
        .map_err(unreadable)?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(format!(
            "this image is {width} × {height} pixels; at most {} megapixels can be sent",
            MAX_PIXELS / 1_000_000
        ));
    }
    let mut reader = reader().map_err(|_| "this image could not be read".to_owned())?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = image::ImageDecoder::orientation(&mut decoder)
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    let upright = orientation == image::metadata::Orientation::NoTransforms;
    img.apply_orientation(orientation);
    // Losslessly without its metadata when that gives a clean image of the same size; else
    // re-encoded from the pixels, which writes no metadata (and stores a turned photo the
    // right way up).
    let stripped = (sniffed != "transcode" && upright)
        .then(|| without_metadata(sniffed, body).ok())
        .flatten()
        .filter(|out| is_clean(out, (width, height)));
    let (bytes, content_type) = match stripped {
        Some(out) => (out, sniffed.to_owned()),
        None => {
            let mut out = std::io::Cursor::new(Vec::new());
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
                .encode_image(&img.to_rgb8())
                .map_err(|e| format!("could not convert the image to JPEG: {e}"))?;
            (out.into_inner(), "image/jpeg".to_owned())
        }
    };
    if bytes.len() > MAX_IMAGE {
        return Err("LINE accepts images up to 10 MB".into());
    }
    let preview = if bytes.len() <= MAX_PREVIEW {
        None
    } else {
        Some(preview_of(&img).map_err(|e| format!("could not make a preview: {e}"))?)
    };
    Ok(Prepared {
        content_type,
        bytes,
        preview,
    })
}

/// Whether a stripped image still reads as `size` and carries no metadata anywhere (a second
/// picture appended after the first, as multi-picture photos have, keeps its own).
fn is_clean(out: &[u8], size: (u32, u32)) -> bool {
    let readable = image::ImageReader::new(std::io::Cursor::new(out))
        .with_guessed_format()
        .ok()
        .and_then(|r| r.into_dimensions().ok())
        == Some(size);
    let contains = |needle: &[u8]| out.windows(needle.len()).any(|w| w == needle);
    // In a JPEG, 0xFF 0xE1 (EXIF, XMP) or 0xFF 0xED (IPTC) anywhere is such a segment (entropy
    // data stuffs every 0xFF); a false alarm only costs a re-encode.
    let jpeg_metadata = out.starts_with(&[0xFF, 0xD8])
        && out
            .windows(2)
            .any(|w| w[0] == 0xFF && (w[1] == 0xE1 || w[1] == 0xED));
    readable && !jpeg_metadata && !contains(b"Exif\0\0") && !contains(b"http://ns.adobe.com/xap/")
}

/// The same JPEG or PNG without the parts that carry metadata, pixels untouched.
fn without_metadata(sniffed: &str, body: &[u8]) -> Result<Vec<u8>, img_parts::Error> {
    let bytes = bytes::Bytes::copy_from_slice(body);
    let out = if sniffed == "image/jpeg" {
        let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(bytes)?;
        // APP1: EXIF (GPS, camera, time) and XMP; APP13: Photoshop's IPTC.
        jpeg.segments_mut().retain(|s| {
            !matches!(
                s.marker(),
                img_parts::jpeg::markers::APP1 | img_parts::jpeg::markers::APP13
            )
        });
        jpeg.encoder().bytes()
    } else {
        let mut png = img_parts::png::Png::from_bytes(bytes)?;
        png.chunks_mut()
            .retain(|c| !matches!(&c.kind(), b"eXIf" | b"tEXt" | b"iTXt" | b"zTXt"));
        png.encoder().bytes()
    };
    Ok(out.to_vec())
}

/// The token of an `/o/…` path and whether its preview was asked for; `None` for anything
/// that is not one of ours (43 URL-safe base64 characters: 256 random bits).
pub fn parse_object_path(path: &str) -> Option<(&str, bool)> {
    let (token, preview) = match path.strip_suffix("/preview") {
        Some(t) => (t, true),
        None => (path, false),
    };
    let ours = token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ours.then_some((token, preview))
}

/// `GET /o/{token}` and `/o/{token}/preview`: public (LINE fetches them), unguessable.
pub async fn serve(
    State(relay): State<Relay>,
    Path(path): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, Refusal> {
    let Some((token, preview)) = parse_object_path(&path) else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let token = token.to_owned();
    let row: anyhow::Result<Option<uploads::Upload>> =
        relay.read(move |c| uploads::get(c, &token)).await;
    let Some(uploads::Upload {
        sha256: sha,
        content_type,
        file_name,
        preview_sha256: preview_sha,
    }) = row?
    else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let (sha, content_type) = if preview {
        match preview_sha {
            Some(p) if p == sha => (p, content_type),
            Some(p) => (p, "image/jpeg".to_owned()),
            None => return Ok(StatusCode::NOT_FOUND.into_response()),
        }
    } else {
        (sha, content_type)
    };
    if !crate::media::ensure_local(&relay, &sha).await {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    let mut resp = relay.media().serve_file(&sha, &content_type, request).await;
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &str| {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(
        h,
        header::CACHE_CONTROL,
        "public, max-age=31536000, immutable",
    );
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "sandbox; default-src 'none'",
    );
    if content_type == "application/octet-stream" || content_type == "application/pdf" {
        let encoded: String = file_name
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        set(
            h,
            header::CONTENT_DISPOSITION,
            &format!("attachment; filename*=UTF-8''{encoded}"),
        );
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_bytes_not_the_name() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), ("image", "image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), ("image", "image/png"));
        assert_eq!(sniff(b"\0\0\0\x20ftypisom"), ("video", "video/mp4"));
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A "), ("audio", "audio/mp4"));
        assert_eq!(sniff(b"ID3\x04"), ("audio", "audio/mpeg"));
        assert_eq!(
            sniff(b"<html><script>"),
            ("file", "application/octet-stream")
        );
        assert_eq!(video_preview()[..3], [0xFF, 0xD8, 0xFF]);
    }
}
