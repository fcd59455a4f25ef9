//! Randomness from the operating system (the JS crypto API on wasm32).

/// Uniform random number in `[0, 1)` from the OS RNG (used for backoff jitter).
pub fn random_unit() -> f64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// `n` random bytes, base64url-encoded (for `jti` values).
pub fn random_id(n: usize) -> crate::Result<String> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b)
        .map_err(|e| crate::Error::internal(format!("the OS random number generator failed: {e}")))?;
    Ok(crate::util::b64url_encode(&b))
}
