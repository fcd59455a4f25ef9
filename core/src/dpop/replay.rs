//! The DPoP replay cache (RFC 9449 §11.1): a proof is accepted once. Keys are
//! [`VerifiedProof::replay_key`](super::VerifiedProof::replay_key) (thumbprint, method,
//! normalised URI, `jti`, hashed), kept until the proof would be refused as too old anyway. The
//! store is an interface so instances can share one (Redis, later); the in-memory one is bounded
//! and fails closed: when it is full of live entries it refuses new proofs rather than forgetting
//! old ones.

use crate::runtime::{BoxFut, MaybeSend};
use crate::{Error, ErrorCode, Result};
use parking_lot::Mutex;
use std::collections::{BTreeSet, HashMap};

/// Where used proofs are remembered.
pub trait ReplayStore: MaybeSend {
    /// Remember `key` until `expires_at_ms`. `Ok(true)` when it was not already remembered (the
    /// proof's first use), `Ok(false)` for a replay; an error when the store cannot answer (the
    /// proof is then refused: fail closed).
    fn first_use(&self, key: [u8; 32], expires_at_ms: i64, now_ms: i64) -> BoxFut<'static, Result<bool>>;
}

/// The default store: this process's memory, at most `capacity` live entries.
pub struct MemoryReplayStore {
    capacity: usize,
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_key: HashMap<[u8; 32], i64>,
    by_expiry: BTreeSet<(i64, [u8; 32])>,
}

impl Entries {
    fn evict_expired(&mut self, now_ms: i64) {
        while let Some(&(expiry, key)) = self.by_expiry.first() {
            if expiry > now_ms {
                break;
            }
            self.by_expiry.pop_first();
            self.by_key.remove(&key);
        }
    }
}

/// The default capacity: 100 000 proofs in the acceptance window (about 330 a second over the
/// default 305 s), a few MiB.
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

impl Default for MemoryReplayStore {
    fn default() -> Self {
        MemoryReplayStore::new(DEFAULT_REPLAY_CAPACITY)
    }
}

impl MemoryReplayStore {
    pub fn new(capacity: usize) -> MemoryReplayStore {
        MemoryReplayStore {
            capacity: capacity.max(1),
            inner: Mutex::new(Entries::default()),
        }
    }

    /// Live entries (after dropping the expired ones at `now_ms`).
    pub fn len(&self, now_ms: i64) -> usize {
        let mut e = self.inner.lock();
        e.evict_expired(now_ms);
        e.by_key.len()
    }

    /// The synchronous check behind [`ReplayStore::first_use`].
    pub fn first_use_now(&self, key: [u8; 32], expires_at_ms: i64, now_ms: i64) -> Result<bool> {
        let mut e = self.inner.lock();
        e.evict_expired(now_ms);
        if e.by_key.contains_key(&key) {
            return Ok(false);
        }
        if e.by_key.len() >= self.capacity {
            return Err(Error::new(
                ErrorCode::RateLimited,
                format!(
                    "the DPoP replay cache holds {} unexpired proofs, its capacity; retry shortly, or give the \
                     resource a larger or shared replay store",
                    self.capacity
                ),
            ));
        }
        e.by_key.insert(key, expires_at_ms);
        e.by_expiry.insert((expires_at_ms, key));
        Ok(true)
    }
}

impl ReplayStore for MemoryReplayStore {
    fn first_use(&self, key: [u8; 32], expires_at_ms: i64, now_ms: i64) -> BoxFut<'static, Result<bool>> {
        let answer = self.first_use_now(key, expires_at_ms, now_ms);
        Box::pin(async move { answer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_accepted_once_until_it_expires() {
        let s = MemoryReplayStore::new(10);
        assert!(s.first_use_now([1; 32], 1_000, 0).unwrap());
        assert!(!s.first_use_now([1; 32], 1_000, 999).unwrap());
        assert!(s.first_use_now([2; 32], 1_000, 999).unwrap());
        assert_eq!(s.len(999), 2);
        // Expired entries are dropped: by then the proof's iat is refused anyway.
        assert_eq!(s.len(1_000), 0);
        assert!(s.first_use_now([1; 32], 2_000, 1_000).unwrap());
    }

    #[test]
    fn a_full_store_fails_closed_until_entries_expire() {
        let s = MemoryReplayStore::new(3);
        for i in 0..3u8 {
            assert!(s.first_use_now([i; 32], 100 + i as i64, 0).unwrap());
        }
        let e = s.first_use_now([9; 32], 500, 50).unwrap_err();
        assert_eq!(e.code(), ErrorCode::RateLimited);
        // The replays are still caught while full.
        assert!(!s.first_use_now([0; 32], 500, 50).unwrap());
        // One expired: room for one.
        assert!(s.first_use_now([9; 32], 500, 100).unwrap());
        assert!(s.first_use_now([8; 32], 500, 100).is_err());
        assert_eq!(s.len(100), 3);
    }

    #[test]
    fn the_async_interface_answers_the_same() {
        let s = MemoryReplayStore::new(3);
        let store: &dyn ReplayStore = &s;
        assert!(futures::executor::block_on(store.first_use([4; 32], 10, 0)).unwrap());
        assert!(!futures::executor::block_on(store.first_use([4; 32], 10, 0)).unwrap());
    }
}
