//! Ed25519 verification for runtimes whose WebCrypto has no Ed25519: a second, standalone wasm
//! module (no wasm-bindgen) that `js/glue.js` loads the first time it is needed, so the main
//! module does not carry curve25519 for the runtimes that never need it.
//!
//! Protocol: the caller gets a buffer of `32 + 64 + message_len` bytes from `alloc`, writes the
//! public key, the signature and the message into it, and calls `verify`, which frees it and
//! answers 1 (valid), 0 (invalid) or -1 (a bad call). Strict verification (`verify_strict`).

use ed25519_dalek::{Signature, VerifyingKey};

/// Largest message accepted (the core's token size limit is far below this).
const MAX_MESSAGE: usize = 1 << 20;

/// A buffer for `verify`: 32 key bytes, 64 signature bytes, then the message. Null when too big.
#[no_mangle]
pub extern "C" fn alloc(message_len: usize) -> *mut u8 {
    if message_len > MAX_MESSAGE {
        return std::ptr::null_mut();
    }
    let mut buf = vec![0u8; 96 + message_len].into_boxed_slice();
    let p = buf.as_mut_ptr();
    std::mem::forget(buf);
    p
}

/// Verify and free a buffer from `alloc(message_len)`.
///
/// # Safety
/// `buf` must come from `alloc(message_len)` with the same `message_len`, and not be used again.
#[no_mangle]
pub unsafe extern "C" fn verify(buf: *mut u8, message_len: usize) -> i32 {
    if buf.is_null() || message_len > MAX_MESSAGE {
        return -1;
    }
    // SAFETY: per the contract, `buf` is the boxed slice of this length that `alloc` leaked.
    let buf = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(buf, 96 + message_len)) };
    let key: [u8; 32] = buf[..32].try_into().expect("32 bytes");
    let sig: [u8; 64] = buf[32..96].try_into().expect("64 bytes");
    let Ok(key) = VerifyingKey::from_bytes(&key) else {
        return 0;
    };
    i32::from(key.verify_strict(&buf[96..], &Signature::from_bytes(&sig)).is_ok())
}
