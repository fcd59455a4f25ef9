//! Per-client token bucket: `limit` token requests per minute, answered with 429 and
//! `Retry-After` when exhausted.

use parking_lot::Mutex;
use std::collections::HashMap;

struct Bucket {
    tokens: f64,
    updated_ms: i64,
}

#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// Take one request from `client`'s bucket. `Err(seconds)` to wait when it is empty.
    pub fn check(&self, client: &str, per_minute: u32, now_ms: i64) -> Result<(), u64> {
        if per_minute == 0 {
            return Ok(());
        }
        let cap = per_minute as f64;
        let rate = cap / 60_000.0;
        let mut map = self.buckets.lock();
        if map.len() > 10_000 {
            map.retain(|_, b| now_ms - b.updated_ms < 60_000);
        }
        let b = map.entry(client.to_string()).or_insert(Bucket {
            tokens: cap,
            updated_ms: now_ms,
        });
        b.tokens = (b.tokens + (now_ms - b.updated_ms).max(0) as f64 * rate).min(cap);
        b.updated_ms = now_ms;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - b.tokens) / rate) / 1000.0).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn bucket() {
        let r = RateLimiter::default();
        for _ in 0..3 {
            assert!(r.check("a", 3, 0).is_ok());
        }
        assert_eq!(r.check("a", 3, 0), Err(20));
        assert!(r.check("b", 3, 0).is_ok());
        assert!(r.check("a", 3, 20_000).is_ok());
        assert!(r.check("a", 0, 0).is_ok());
    }
}
