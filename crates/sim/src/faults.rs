//! Middleware around the LINE API: `x-line-request-id` on every answer, injected faults, and
//! recording of answers (for validating them against LINE's OpenAPI files).

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::{Fault, Recorded};
use crate::Sim;

/// LINE's error body.
pub fn line_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({"message": message}))).into_response()
}

fn default_message(status: u16) -> &'static str {
    match status {
        429 => "The API rate limit has been exceeded. Try again later.",
        500 => "Internal server error",
        502 => "Bad gateway",
        503 => "Service unavailable",
        401 => "Authentication failed. Confirm that the access token in the authorization header is valid.",
        _ => "Failed",
    }
}

fn take_fault(sim: &Sim, path: &str) -> Option<Fault> {
    let mut st = sim.state();
    let idx = st
        .faults
        .iter()
        .position(|f| path.starts_with(&f.path) && f.count > 0)?;
    let fault = st.faults[idx].clone();
    st.faults[idx].count -= 1;
    if st.faults[idx].count == 0 {
        st.faults.remove(idx);
    }
    Some(fault)
}

fn fault_response(fault: &Fault) -> Option<Response> {
    let status = StatusCode::from_u16(fault.status?).ok()?;
    Some(line_error(
        status,
        fault
            .message
            .as_deref()
            .unwrap_or(default_message(status.as_u16())),
    ))
}

/// The same answer, its body sent in tenths of a second's worth at `rate` bytes per second.
async fn throttled(resp: Response, rate: u64) -> Response {
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let piece = usize::try_from(rate / 10).unwrap_or(usize::MAX).max(1);
    let pieces = futures_util::stream::unfold(bytes, move |mut rest| async move {
        if rest.is_empty() {
            return None;
        }
        let chunk = rest.split_to(piece.min(rest.len()));
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((Ok::<_, std::convert::Infallible>(chunk), rest))
    });
    Response::from_parts(parts, Body::from_stream(pieces))
}

/// The middleware.
pub async fn layer(State(sim): State<Sim>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let fault = take_fault(&sim, &path);
    let mut resp = match &fault {
        Some(f) if !f.after => {
            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
            match fault_response(f) {
                Some(r) => r,
                None => next.run(req).await,
            }
        }
        Some(f) => {
            // The request takes effect; then the answer is slow or replaced (lost ack).
            let real = next.run(req).await;
            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
            fault_response(f).unwrap_or(real)
        }
        None => next.run(req).await,
    };
    if let Some(rate) = fault.as_ref().and_then(|f| f.bytes_per_second) {
        resp = throttled(resp, rate).await;
    }
    if !resp.headers().contains_key("x-line-request-id") {
        let id = uuid::Uuid::new_v4().to_string();
        resp.headers_mut().insert(
            "x-line-request-id",
            HeaderValue::from_str(&id).expect("uuid is a header value"),
        );
    }
    let recording = sim.state().recorded.is_some();
    if !recording {
        return resp;
    }
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    if let Some(rec) = sim.state().recorded.as_mut() {
        rec.push(Recorded {
            method,
            path,
            status: parts.status.as_u16(),
            body: if content_type.starts_with("application/json") {
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                String::new()
            },
            content_type,
        });
    }
    Response::from_parts(parts, Body::from(bytes))
}
