//! Stickers, LINE emoji and profile pictures, as LINE's CDN serves them (the relay's
//! `sticker_base` points here in tests and the demo):
//!
//! | Path | Picture |
//! |---|---|
//! | `GET /stickershop/v1/sticker/{id}/android/sticker.png` | a sticker |
//! | `GET /stickershop/v1/sticker/{id}/iPhone/sticker_animation@2x.png` | its animation |
//! | `GET /sticonshop/v1/sticon/{product}/android/{id}.png` | a LINE emoji |
//! | `GET /sim/pictures/{userId}.png` | a customer's profile picture (the profile's `pictureUrl`) |
//!
//! Each is a PNG drawn from its id (a disc in a colour of its own), so a test can tell two
//! pictures apart by their pixels. No token is needed, as on the CDN. A fault on the path
//! (`POST /sim/faults`) makes one missing.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::Sim;

/// The CDN routes.
pub fn router(sim: Sim) -> Router {
    Router::new()
        .route(
            "/stickershop/v1/sticker/{id}/android/sticker.png",
            get(|Path(id): Path<String>| async move { png(&format!("sticker:{id}"), 120) }),
        )
        .route(
            "/stickershop/v1/sticker/{id}/iPhone/sticker_animation@2x.png",
            get(|Path(id): Path<String>| async move { png(&format!("animation:{id}"), 120) }),
        )
        .route(
            "/sticonshop/v1/sticon/{product}/android/{file}",
            get(|Path((product, file)): Path<(String, String)>| async move {
                match file.strip_suffix(".png") {
                    Some(id) => png(&format!("emoji:{product}:{id}"), 40),
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }),
        )
        .route(
            "/sim/pictures/{file}",
            get(|Path(file): Path<String>| async move {
                match file.strip_suffix(".png") {
                    Some(user) => png(&format!("avatar:{user}"), 96),
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }),
        )
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            crate::faults::layer,
        ))
        .with_state(sim)
}

/// The colour the simulator draws the picture `key` in (tests read it back from pixels).
pub fn colour_of(key: &str) -> [u8; 3] {
    // FNV-1a: stable across runs and platforms.
    let mut h: u32 = 0x811c_9dc5;
    for b in key.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    let [a, b, c, _] = h.to_le_bytes();
    // Away from white and black, so a picture never looks like the page behind it.
    [40 + a % 176, 40 + b % 176, 40 + c % 176]
}

/// A `size`×`size` PNG: a disc of [`colour_of`] on transparency.
fn png(key: &str, size: u32) -> Response {
    let [r, g, b] = colour_of(key);
    let centre = size as f32 / 2.0;
    let img = image::RgbaImage::from_fn(size, size, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - centre, y as f32 + 0.5 - centre);
        if dx * dx + dy * dy <= centre * centre {
            image::Rgba([r, g, b, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    if img.write_to(&mut out, image::ImageFormat::Png).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([("content-type", "image/png")], out.into_inner()).into_response()
}
