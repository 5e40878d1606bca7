//! Webhook signature: `x-line-signature` = Base64(HMAC-SHA256(channel secret, raw body)).
//!
//! Verification runs over the bytes exactly as they arrived, before any parsing: re-serialised
//! JSON (escaped emoji, spacing) has a different signature (REFERENCE.md, Traps 1). The comparison
//! is constant time (`hmac::Mac::verify_slice`). Header names are matched case-insensitively
//! (Traps 17); `http::HeaderMap` already does that.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header LINE puts the signature in (any case).
pub const SIGNATURE_HEADER: &str = "x-line-signature";

type HmacSha256 = Hmac<Sha256>;

/// Why a webhook signature was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The request had no `x-line-signature` header.
    #[error("missing x-line-signature header")]
    Missing,
    /// The header was not 44 characters of standard Base64 for 32 bytes.
    #[error("x-line-signature is not a base64 HMAC-SHA256 value")]
    Malformed,
    /// The HMAC did not match the body under this channel's secret.
    #[error("x-line-signature does not match the body")]
    Mismatch,
}

/// Computes the signature LINE would send for `body` under `channel_secret`.
pub fn sign(channel_secret: &str, body: &[u8]) -> String {
    let mut mac = mac_for(channel_secret);
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks `signature` (the header value) against `body` in constant time.
pub fn verify(channel_secret: &str, body: &[u8], signature: &str) -> Result<(), SignatureError> {
    let given = STANDARD
        .decode(signature.trim())
        .map_err(|_| SignatureError::Malformed)?;
    if given.len() != 32 {
        return Err(SignatureError::Malformed);
    }
    let mut mac = mac_for(channel_secret);
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

/// Looks the header up (case-insensitively) and verifies it.
pub fn verify_headers(
    channel_secret: &str,
    body: &[u8],
    headers: &http::HeaderMap,
) -> Result<(), SignatureError> {
    let value = headers
        .get(SIGNATURE_HEADER)
        .ok_or(SignatureError::Missing)?
        .to_str()
        .map_err(|_| SignatureError::Malformed)?;
    verify(channel_secret, body, value)
}

fn mac_for(channel_secret: &str) -> HmacSha256 {
    HmacSha256::new_from_slice(channel_secret.as_bytes()).expect("HMAC accepts keys of any length")
}

#[cfg(test)]
mod tests {
    use super::*;

    const A1_BODY: &[u8] = br#"{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}"#;
    const A1_SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";
    const A1_SIG: &str = "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs=";

    #[test]
    fn signs_lines_published_example() {
        assert_eq!(
            sign(A1_SECRET, A1_BODY),
            A1_SIG,
            "LINE docs vector A1 must hold"
        );
        assert_eq!(verify(A1_SECRET, A1_BODY, A1_SIG), Ok(()));
    }

    #[test]
    fn refuses_garbage_and_truncated_values() {
        assert_eq!(
            verify(A1_SECRET, A1_BODY, "not base64!"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(A1_SECRET, A1_BODY, "AAAA"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(A1_SECRET, b"{}", A1_SIG),
            Err(SignatureError::Mismatch),
            "another body must not verify"
        );
    }

    #[test]
    fn header_lookup_ignores_case() {
        let mut headers = http::HeaderMap::new();
        headers.insert("X-Line-Signature", A1_SIG.parse().expect("ascii"));
        assert_eq!(verify_headers(A1_SECRET, A1_BODY, &headers), Ok(()));
        assert_eq!(
            verify_headers(A1_SECRET, A1_BODY, &http::HeaderMap::new()),
            Err(SignatureError::Missing)
        );
    }
}
