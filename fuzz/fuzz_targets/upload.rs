//! `upload`: what the relay makes of a file a representative uploads: the kind and content type
//! from its first bytes (`linedesk_relay::uploads::sniff`), and for images the size checks,
//! metadata stripping, transcoding and preview (`linedesk_relay::uploads::prepare_image`).
//! Other kinds go out byte for byte as sniffed, so there is nothing more of theirs to feed.
//!
//! Input: the file's bytes (capped by `-max_len`, see scripts/fuzz.sh).
//!
//! What must hold, besides never panicking:
//! - the kind comes from the first `media::SNIFF_LEN` bytes only (all a staged upload keeps),
//!   and the content type belongs to the kind;
//! - an image that passes has at most 50 megapixels (checked before decoding), goes out as
//!   JPEG or PNG that sniffs as the type it is served with and still decodes, at its own size
//!   (turned upright at most), at most 10 MB; it is its own preview up to 1 MB, else it gets a
//!   JPEG preview of at most 1 MB (LINE's limits for image messages);
//! - what goes out carries no EXIF, XMP or IPTC: no APP1 or APP13 segment in a JPEG's header,
//!   no `eXIf`, `tEXt`, `iTXt` or `zTXt` chunk in a PNG;
//! - a PNG keeps its pixels exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linedesk_relay::media::SNIFF_LEN;
use linedesk_relay::uploads::{prepare_image, sniff};

/// LINE's limit for an image message's original.
const LINE_MAX_IMAGE: usize = 10 * 1024 * 1024;
/// LINE's limit for an image message's preview.
const LINE_MAX_PREVIEW: usize = 1024 * 1024;
/// The relay's limit on pixels (`uploads::MAX_PIXELS`), its guard against decompression bombs.
const MAX_PIXELS: u64 = 50_000_000;
/// Pixels are compared only below this, to keep each run short.
const COMPARE_PIXELS: u64 = 1_000_000;
/// Images between this and `MAX_PIXELS` are not prepared: the work grows with the pixels, and
/// the test command's brief run builds without optimisation, where a 257 × 58,113 GIF (a 1 × 1
/// frame on a 15-megapixel screen, 43 bytes) took 82 s, past libFuzzer's timeout. The same code
/// runs for smaller images; larger ones are still fed (refused before decoding).
const PREPARE_PIXELS: u64 = 2_000_000;

/// Known gap: `img_parts` keeps everything after a JPEG's first scan as it is, so images
/// appended to the primary one (MPF: second views, Ultra HDR gain maps) keep their own APP1
/// (EXIF, XMP). Set to `false` to also require that no APP1 or APP13 segment follows the scan.
const KNOWN_METADATA_AFTER_FIRST_SCAN_KEPT: bool = false;

/// Every (kind, content type) `sniff` may answer; `transcode` marks images LINE cannot show.
const SNIFFED: [(&str, &str); 8] = [
    ("image", "image/jpeg"),
    ("image", "image/png"),
    ("image", "transcode"),
    ("video", "video/mp4"),
    ("audio", "audio/mp4"),
    ("audio", "audio/mpeg"),
    ("file", "application/pdf"),
    ("file", "application/octet-stream"),
];

/// Markers of the JPEG segments that carry EXIF and XMP (APP1) or IPTC (APP13).
const METADATA_MARKERS: [u8; 2] = [0xE1, 0xED];

fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()
}

fn rgba(bytes: &[u8]) -> Option<image::RgbaImage> {
    image::load_from_memory(bytes).ok().map(|i| i.to_rgba8())
}

/// A JPEG's segment markers up to its first scan, walked by their lengths, and where that
/// scan's entropy-coded data starts.
fn jpeg_header(bytes: &[u8]) -> (Vec<u8>, Option<usize>) {
    let mut markers = Vec::new();
    let mut at = 2; // after SOI
    while at + 1 < bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        match marker {
            0xFF => at += 1, // fill byte
            0x01 | 0xD0..=0xD8 => at += 2,
            0xD9 => break,
            _ => {
                markers.push(marker);
                let Some(len) = bytes.get(at + 2..at + 4) else {
                    break;
                };
                at += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
                if marker == 0xDA {
                    return (markers, Some(at));
                }
            }
        }
    }
    (markers, None)
}

/// Whether an APP1 or APP13 marker follows the first scan's start. Entropy-coded data stuffs
/// every `FF` with `00`, so there such bytes can only be markers (of something appended).
fn metadata_after_first_scan(bytes: &[u8], scan: usize) -> bool {
    bytes
        .get(scan..)
        .unwrap_or_default()
        .windows(2)
        .any(|w| w[0] == 0xFF && METADATA_MARKERS.contains(&w[1]))
}

/// The kinds of a PNG's chunks up to `IEND`, walked by their lengths.
fn png_chunk_kinds(bytes: &[u8]) -> Vec<[u8; 4]> {
    let mut kinds = Vec::new();
    let mut at: usize = 8; // after the signature
    while let Some(head) = at.checked_add(8).and_then(|end| bytes.get(at..end)) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = [head[4], head[5], head[6], head[7]];
        kinds.push(kind);
        if &kind == b"IEND" {
            break;
        }
        at = at.saturating_add(12).saturating_add(len);
    }
    kinds
}

fn check_image(sniffed: &'static str, data: &[u8]) {
    if let Some((width, height)) = dimensions(data) {
        let pixels = u64::from(width) * u64::from(height);
        if pixels > PREPARE_PIXELS && pixels <= MAX_PIXELS {
            return;
        }
    }
    let prepared = match prepare_image(sniffed, data) {
        Ok(p) => p,
        Err(message) => {
            assert!(!message.is_empty(), "a refusal says why");
            return;
        }
    };
    let (width, height) = dimensions(data).expect("prepare_image read the header, so can we");
    assert!(
        u64::from(width) * u64::from(height) <= MAX_PIXELS,
        "a {width} × {height} image passed the pixel limit"
    );
    let content_type = prepared.content_type.as_str();
    assert!(
        content_type == "image/jpeg" || content_type == "image/png",
        "images go out as JPEG or PNG, not {content_type}"
    );
    assert_eq!(
        sniff(&prepared.bytes),
        ("image", content_type),
        "the bytes are what they are served as"
    );
    assert!(
        prepared.bytes.len() <= LINE_MAX_IMAGE,
        "LINE takes images up to 10 MB"
    );
    let out = dimensions(&prepared.bytes).expect("what goes out is an image");
    match &prepared.preview {
        None => assert!(
            prepared.bytes.len() <= LINE_MAX_PREVIEW,
            "an image over 1 MB needs a smaller preview"
        ),
        Some(preview) => {
            assert!(
                preview.len() <= LINE_MAX_PREVIEW,
                "LINE takes previews up to 1 MB, got {}",
                preview.len()
            );
            assert_eq!(
                sniff(preview),
                ("image", "image/jpeg"),
                "a preview is a JPEG"
            );
        }
    }
    if content_type == "image/png" {
        // Only an upright PNG stays a PNG: it must be the same picture, less its metadata.
        assert_eq!(sniffed, "image/png", "only a PNG goes out as a PNG");
        assert_eq!(out, (width, height), "a PNG keeps its size");
        for kind in png_chunk_kinds(&prepared.bytes) {
            assert!(
                ![b"eXIf", b"tEXt", b"iTXt", b"zTXt"].contains(&&kind),
                "a {} chunk went out",
                String::from_utf8_lossy(&kind)
            );
        }
        if u64::from(width) * u64::from(height) <= COMPARE_PIXELS {
            if let (Some(before), Some(after)) = (rgba(data), rgba(&prepared.bytes)) {
                assert!(
                    before.dimensions() == after.dimensions() && before.as_raw() == after.as_raw(),
                    "stripping a PNG's metadata changed its pixels"
                );
            }
        }
    } else {
        assert!(
            out == (width, height) || out == (height, width),
            "{width} × {height} went out as {} × {}",
            out.0,
            out.1
        );
        let (markers, scan) = jpeg_header(&prepared.bytes);
        for marker in markers {
            assert!(
                !METADATA_MARKERS.contains(&marker),
                "a JPEG went out with an APP{} segment",
                marker - 0xE0
            );
        }
        if let (false, Some(scan)) = (KNOWN_METADATA_AFTER_FIRST_SCAN_KEPT, scan) {
            assert!(
                !metadata_after_first_scan(&prepared.bytes, scan),
                "metadata after the first scan went out"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (kind, sniffed) = sniff(data);
    assert_eq!(sniff(data), (kind, sniffed), "sniffing is deterministic");
    assert!(
        SNIFFED.contains(&(kind, sniffed)),
        "an unknown answer: ({kind}, {sniffed})"
    );
    assert_eq!(
        sniff(&data[..data.len().min(SNIFF_LEN)]),
        (kind, sniffed),
        "the kind comes from the first {SNIFF_LEN} bytes"
    );
    if kind == "image" {
        check_image(sniffed, data);
    }
});
