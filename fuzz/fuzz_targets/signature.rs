//! `signature`: LINE's `x-line-signature` check (`linedesk_line::signature`), with the signing
//! the simulator uses.
//!
//! Input: `secret \n signature \n body`, split at the first two newlines (missing parts are
//! empty), so seeds stay readable. The secret and the signature go through lossy UTF-8 for
//! `verify`; the header path gets the signature's raw bytes.
//!
//! What must hold, besides never panicking:
//! - `sign` gives 44 characters of standard Base64 for 32 bytes, and what it gives verifies;
//! - `verify` accepts exactly the canonical signature (surrounding whitespace aside): the
//!   engine refuses non-canonical Base64, so no second spelling of the same MAC passes;
//! - `Malformed` exactly when the value is not Base64 for 32 bytes, `Mismatch` otherwise;
//! - any other 32 bytes, or the same signature over another body, are refused;
//! - the header lookup agrees with `verify` and answers `Missing` without the header.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use linedesk_line::signature::{sign, verify, verify_headers, SignatureError, SIGNATURE_HEADER};

fn split(data: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let secret = parts.next().unwrap_or_default();
    let signature = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    (secret, signature, body)
}

fuzz_target!(|data: &[u8]| {
    let (secret, raw_signature, body) = split(data);
    let secret = String::from_utf8_lossy(secret);
    let signature = String::from_utf8_lossy(raw_signature);

    let expected = sign(&secret, body);
    assert_eq!(expected, sign(&secret, body), "signing is deterministic");
    assert_eq!(expected.len(), 44, "Base64 of 32 bytes is 44 characters");
    let mac = STANDARD
        .decode(&expected)
        .expect("sign gives standard Base64");
    assert_eq!(mac.len(), 32, "HMAC-SHA256 is 32 bytes");
    assert_eq!(
        verify(&secret, body, &expected),
        Ok(()),
        "what sign gives verifies"
    );
    assert_eq!(
        verify(&secret, body, &format!(" {expected}\t")),
        Ok(()),
        "whitespace around the header value is ignored"
    );

    // Any other 32 bytes are a mismatch, as is the signature over another body.
    let mut flipped = mac.clone();
    let bit = body.len() % 256;
    flipped[bit / 8] ^= 1 << (bit % 8);
    assert_eq!(
        verify(&secret, body, &STANDARD.encode(&flipped)),
        Err(SignatureError::Mismatch),
        "a signature one bit off is refused"
    );
    let mut longer = body.to_vec();
    longer.push(b'\n');
    assert_eq!(
        verify(&secret, &longer, &expected),
        Err(SignatureError::Mismatch),
        "the signature covers every byte of the body"
    );

    // The value from the input: accepted exactly when it is the canonical signature.
    let given = verify(&secret, body, &signature);
    assert_eq!(
        given.is_ok(),
        signature.trim() == expected,
        "only the canonical signature verifies: {signature:?}"
    );
    let decodes_to_32 = STANDARD
        .decode(signature.trim())
        .is_ok_and(|b| b.len() == 32);
    match &given {
        Ok(()) => {}
        Err(SignatureError::Malformed) => {
            assert!(!decodes_to_32, "a well-formed value was called malformed")
        }
        Err(SignatureError::Mismatch) => {
            assert!(decodes_to_32, "a malformed value was called a mismatch")
        }
        Err(SignatureError::Missing) => panic!("verify has no header to miss"),
        Err(other) => panic!("an error this target does not know: {other:?}"),
    }

    // The header path: any case of the name, the raw bytes of the value.
    assert_eq!(
        verify_headers(&secret, body, &HeaderMap::new()),
        Err(SignatureError::Missing),
        "no header, no entry"
    );
    if let Ok(value) = HeaderValue::from_bytes(raw_signature) {
        for name in [SIGNATURE_HEADER, "X-Line-Signature", "X-LINE-SIGNATURE"] {
            let mut headers = HeaderMap::new();
            headers.insert(
                HeaderName::from_bytes(name.as_bytes()).expect("a valid header name"),
                value.clone(),
            );
            let by_header = verify_headers(&secret, body, &headers);
            if raw_signature.is_ascii() {
                assert_eq!(by_header, given, "the header path agrees with verify");
            } else {
                assert_eq!(
                    by_header,
                    Err(SignatureError::Malformed),
                    "a header value outside visible ASCII is malformed"
                );
            }
        }
    }
});
