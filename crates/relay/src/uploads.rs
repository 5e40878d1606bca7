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
use linedesk_protocol::Uploaded;
use rand::RngCore as _;
use rusqlite::{params, OptionalExtension};
use serde::Deserialize;

use crate::policy::{AnyUser, Refusal};
use crate::Relay;

/// Largest upload (LINE's limit for video and audio).
pub const MAX_UPLOAD: usize = 200 * 1024 * 1024;
/// Largest image LINE accepts.
const MAX_IMAGE: usize = 10 * 1024 * 1024;
/// Largest preview LINE accepts.
const MAX_PREVIEW: usize = 1024 * 1024;
/// Longest side of a generated preview.
const PREVIEW_SIDE: u32 = 480;

/// `POST /api/uploads` query.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    /// The channel it will be sent on (for the workstream's permission).
    pub channel: String,
    /// The file's name as the representative chose it.
    pub name: String,
}

/// What the bytes are, by their first bytes (never by the name or the declared type).
fn sniff(bytes: &[u8]) -> (&'static str, &'static str) {
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

/// `POST /api/uploads?channel=…&name=…` with the file as the body.
pub async fn upload(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    headers: HeaderMap,
    Query(q): Query<UploadQuery>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Refusal> {
    if relay.registry().get(&q.channel).is_none() {
        return Err(Refusal::not_found("no such channel"));
    }
    let name: String = q
        .name
        .chars()
        .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
        .take(200)
        .collect();
    if name.trim().is_empty() || body.is_empty() {
        return Err(Refusal::bad_request("a file needs a name and some bytes"));
    }
    let channel = q.channel.clone();
    let allowed = relay
        .read(move |c| crate::routing::engine::load_workstream(c, &channel))
        .await?
        .attachments
        .representatives_can_send;
    if !allowed {
        return Err(Refusal::forbidden(
            "this workstream does not let representatives send attachments",
        ));
    }
    let (kind, sniffed) = sniff(&body);
    let work = {
        let body = body.clone();
        tokio::task::spawn_blocking(move || prepare(kind, sniffed, body))
    };
    let prepared = work
        .await
        .map_err(Refusal::internal)?
        .map_err(|message| Refusal::bad_request(&message))?;
    let sha = relay
        .media()
        .put(&prepared.bytes)
        .await
        .map_err(Refusal::internal)?;
    let preview_sha = match &prepared.preview {
        Some(p) if p.as_slice() == prepared.bytes.as_slice() => Some(sha.clone()),
        Some(p) => Some(relay.media().put(p).await.map_err(Refusal::internal)?),
        None => None,
    };
    let token = token();
    let now = crate::store::now_ms();
    let row = (
        token.clone(),
        prepared.kind.to_owned(),
        sha,
        prepared.content_type.clone(),
        prepared.bytes.len() as i64,
        name.clone(),
        preview_sha.clone(),
        q.channel.clone(),
        caller.session.user.name.clone(),
    );
    relay
        .writer()
        .run(move |c| {
            c.execute(
                "INSERT INTO uploads (token, kind, sha256, content_type, size, file_name, preview_sha256, channel_id,
                     uploaded_by, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, now],
            )
            .map(drop)
        })
        .await
        .map_err(Refusal::internal)?;
    let base = public_base(&relay, &headers);
    Ok(Json(Uploaded {
        kind: prepared.kind.into(),
        url: format!("{base}/o/{token}"),
        preview_url: preview_sha.map(|_| format!("{base}/o/{token}/preview")),
        content_type: prepared.content_type,
        size: prepared.bytes.len() as u64,
        file_name: name,
    }))
}

struct Prepared {
    kind: &'static str,
    content_type: String,
    bytes: Vec<u8>,
    preview: Option<Vec<u8>>,
}

/// Checks limits, transcodes images LINE cannot show, makes previews.
fn prepare(
    kind: &'static str,
    sniffed: &'static str,
    body: bytes::Bytes,
) -> Result<Prepared, String> {
    match kind {
        "image" => {
            let img = image::load_from_memory(&body)
                .map_err(|_| "this image could not be read".to_owned())?;
            let (bytes, content_type) = if sniffed == "transcode" {
                let mut out = std::io::Cursor::new(Vec::new());
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
                    .encode_image(&img.to_rgb8())
                    .map_err(|e| format!("could not convert the image to JPEG: {e}"))?;
                (out.into_inner(), "image/jpeg".to_owned())
            } else {
                (body.to_vec(), sniffed.to_owned())
            };
            if bytes.len() > MAX_IMAGE {
                return Err("LINE accepts images up to 10 MB".into());
            }
            let preview = if bytes.len() <= MAX_PREVIEW {
                bytes.clone()
            } else {
                preview_of(&img).map_err(|e| format!("could not make a preview: {e}"))?
            };
            Ok(Prepared {
                kind,
                content_type,
                bytes,
                preview: Some(preview),
            })
        }
        "video" => Ok(Prepared {
            kind,
            content_type: sniffed.into(),
            bytes: body.to_vec(),
            preview: Some(video_preview()),
        }),
        _ => Ok(Prepared {
            kind,
            content_type: sniffed.into(),
            bytes: body.to_vec(),
            preview: None,
        }),
    }
}

/// `GET /o/{token}` and `/o/{token}/preview`: public (LINE fetches them), unguessable.
pub async fn serve(
    State(relay): State<Relay>,
    Path(path): Path<String>,
) -> Result<Response, Refusal> {
    let (token, preview) = match path.strip_suffix("/preview") {
        Some(t) => (t.to_owned(), true),
        None => (path, false),
    };
    if token.len() != 43
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    type Row = (String, String, String, Option<String>);
    let row: anyhow::Result<Option<Row>> = relay
        .read(move |c| {
            c.query_row(
                "SELECT sha256, content_type, file_name, preview_sha256 FROM uploads WHERE token = ?1",
                [&token],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
        })
        .await;
    let Some((sha, content_type, file_name, preview_sha)) = row? else {
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
    let bytes = tokio::fs::read(relay.media().path_of(&sha))
        .await
        .map_err(Refusal::internal)?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &str| {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    };
    set(h, header::CONTENT_TYPE, &content_type);
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
