//! Per-client limits: a token bucket of `limit` token requests per minute, and (for `ai_agent`
//! clients with `rate_limits.tokens_per_day`) a count of tokens issued per UTC day; both are
//! answered with 429 and `Retry-After` when exhausted.

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

const DAY_MS: i64 = 86_400_000;

/// Tokens issued per client per UTC day, in memory.
#[derive(Default)]
pub struct DailyCounter {
    counts: Mutex<HashMap<String, (i64, u64)>>,
}

impl DailyCounter {
    /// Count one token for `client` if fewer than `limit` were issued today (UTC); else
    /// `Err(seconds to the next UTC midnight)`.
    pub fn take(&self, client: &str, limit: u64, now_ms: i64) -> Result<(), u64> {
        let day = now_ms.div_euclid(DAY_MS);
        let mut map = self.counts.lock();
        if map.len() > 10_000 {
            map.retain(|_, (d, _)| *d == day);
        }
        let e = map.entry(client.to_string()).or_insert((day, 0));
        if e.0 != day {
            *e = (day, 0);
        }
        if e.1 >= limit {
            let left_ms = (day + 1) * DAY_MS - now_ms;
            return Err(((left_ms + 999) / 1000).max(1) as u64);
        }
        e.1 += 1;
        Ok(())
    }

    /// Give back a token counted by [`DailyCounter::take`] that was not issued after all.
    pub fn give_back(&self, client: &str, now_ms: i64) {
        let day = now_ms.div_euclid(DAY_MS);
        if let Some(e) = self.counts.lock().get_mut(client) {
            if e.0 == day && e.1 > 0 {
                e.1 -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_counts_reset_at_utc_midnight() {
        let d = DailyCounter::default();
        let noon = 20_000 * DAY_MS + DAY_MS / 2;
        assert!(d.take("a", 2, noon).is_ok());
        assert!(d.take("a", 2, noon).is_ok());
        assert_eq!(d.take("a", 2, noon), Err(43_200));
        assert_eq!(d.take("a", 2, noon + 500), Err(43_200), "rounded up");
        d.give_back("a", noon);
        assert!(d.take("a", 2, noon).is_ok());
        assert!(d.take("b", 2, noon).is_ok());
        assert!(d.take("a", 2, 20_001 * DAY_MS).is_ok(), "a new day");
    }
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
