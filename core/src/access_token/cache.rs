//! The verified-token cache: a token that verified once is answered from here until its `exp`.

use super::claims::Claims;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

struct CacheEntry {
    token: Box<str>,
    claims: Arc<Claims>,
    /// Not usable at or after this instant (exp + leeway).
    until_ms: i64,
}

/// Verified tokens, keyed by a keyed hash of the token; the whole token is compared on a hit, so a
/// hash collision can never return another token's claims. Entries never outlive `exp`.
pub(crate) struct VerifiedCache {
    cap: usize,
    hasher: foldhash::fast::RandomState,
    map: RwLock<HashMap<u64, CacheEntry, std::hash::BuildHasherDefault<IdHasher>>>,
}

#[derive(Default)]
struct IdHasher(u64);
impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n
    }
}

impl VerifiedCache {
    pub(crate) fn new(cap: usize) -> Self {
        VerifiedCache {
            cap,
            hasher: foldhash::fast::RandomState::default(),
            map: RwLock::new(HashMap::default()),
        }
    }
    pub(crate) fn get(&self, token: &str, now_ms: i64) -> Option<Arc<Claims>> {
        if self.cap == 0 {
            return None;
        }
        let h = self.hasher.hash_one(token);
        let map = self.map.read();
        let e = map.get(&h)?;
        (now_ms < e.until_ms && *e.token == *token).then(|| e.claims.clone())
    }
    pub(crate) fn insert(&self, token: &str, claims: Arc<Claims>, until_ms: i64, now_ms: i64) {
        if self.cap == 0 {
            return;
        }
        let h = self.hasher.hash_one(token);
        let mut map = self.map.write();
        if map.len() >= self.cap && !map.contains_key(&h) {
            map.retain(|_, e| e.until_ms > now_ms);
            if map.len() >= self.cap {
                // Still full of live entries: drop an arbitrary eighth (cheap, bounded, no LRU bookkeeping on the hot path).
                let drop: Vec<u64> = map.keys().take(self.cap / 8 + 1).copied().collect();
                for k in drop {
                    map.remove(&k);
                }
            }
        }
        map.insert(
            h,
            CacheEntry {
                token: token.into(),
                claims,
                until_ms,
            },
        );
    }
    pub(crate) fn clear(&self) {
        self.map.write().clear();
    }
    pub(crate) fn len(&self) -> usize {
        self.map.read().len()
    }
}
