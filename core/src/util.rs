//! Small shared helpers.
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

pub fn b64url_encode(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Strict base64url without padding (RFC 7515 §2): `=` and non-canonical trailing bits are errors.
pub fn b64url_decode(data: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(data).ok()
}

pub fn b64_std_encode(data: &[u8]) -> String {
    STANDARD.encode(data)
}

pub fn b64_std_decode(data: &str) -> Option<Vec<u8>> {
    STANDARD.decode(data).ok()
}

/// application/x-www-form-urlencoded encoding of one value (RFC 6749 Appendix B).
pub fn form_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
