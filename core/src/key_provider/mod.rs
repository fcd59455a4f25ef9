//! Where a verifier gets its keys: a [`KeyProvider`]. Static keys ([`StaticKeys`]), a cached
//! remote JWKS ([`JwksCache`]) and a JWKS found through the issuer's metadata
//! ([`DiscoveredJwks`]) are here; other key sources (SPIFFE trust bundles, shared stores) are
//! further implementations of the trait, and the verifier does not change for them.

pub mod discovered;
pub mod jwks_cache;

pub use discovered::DiscoveredJwks;
pub use jwks_cache::{JwksCache, JwksPolicy, JwksStore, StoredJwks};

use crate::jose::keys::KeySet;
use crate::runtime::{BoxFut, MaybeSend};
use crate::Result;
use std::sync::Arc;

/// A key set as the verifier saw it, with its generation (see [`KeyProvider::generation`]).
#[derive(Clone, Debug)]
pub struct KeySnapshot {
    pub keys: Arc<KeySet>,
    pub generation: Option<u64>,
}

/// What a key provider is, for messages and `repr()`s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySourceInfo {
    /// Keys given up front (`jwks`), this many.
    Static { keys: usize },
    /// A JWKS fetched from this URL (`jwks_uri`).
    Jwks { uri: String },
    /// A JWKS whose URL comes from this issuer's metadata, once known.
    Discovered { issuer: String, jwks_uri: Option<String> },
}

/// A source of verification keys.
pub trait KeyProvider: MaybeSend {
    /// Whether the keys at hand may be used at `now_ms` without a fetch first. A verifier accepts
    /// nothing, cached tokens included, while this is false.
    fn is_fresh(&self, now_ms: i64) -> bool;
    /// A number that changes whenever the keys lose a key, so that the verifier forgets the
    /// tokens it verified; `None` for keys that never change.
    fn generation(&self) -> Option<u64>;
    /// The keys, if they can be used at `now_ms` without waiting.
    fn keys_now(&self, now_ms: i64) -> Option<KeySnapshot>;
    /// Whether a `kid` missing from the keys may appear after a refetch (then the verifier waits
    /// for [`KeyProvider::refresh_for_unknown_kid`] instead of refusing the token at once).
    fn refetches_unknown_kid(&self) -> bool;
    /// The keys, fetched when needed.
    fn keys(&self) -> BoxFut<'_, Result<KeySnapshot>>;
    /// A token named a `kid` the keys lack: fetch them again if the provider allows it now, and
    /// give the keys then at hand; `None` when no fetch was allowed.
    fn refresh_for_unknown_kid(&self) -> BoxFut<'_, Option<KeySnapshot>>;
    /// What the provider is.
    fn describe(&self) -> KeySourceInfo;
    /// Key-set fetches started so far (for tests and metrics; 0 for keys that are never fetched).
    fn fetch_count(&self) -> u64 {
        0
    }
}

/// Keys given up front.
pub struct StaticKeys(pub Arc<KeySet>);

impl StaticKeys {
    fn snapshot(&self) -> KeySnapshot {
        KeySnapshot {
            keys: self.0.clone(),
            generation: None,
        }
    }
}

impl KeyProvider for StaticKeys {
    fn is_fresh(&self, _now_ms: i64) -> bool {
        true
    }
    fn generation(&self) -> Option<u64> {
        None
    }
    fn keys_now(&self, _now_ms: i64) -> Option<KeySnapshot> {
        Some(self.snapshot())
    }
    fn refetches_unknown_kid(&self) -> bool {
        false
    }
    fn keys(&self) -> BoxFut<'_, Result<KeySnapshot>> {
        let s = self.snapshot();
        Box::pin(async move { Ok(s) })
    }
    fn refresh_for_unknown_kid(&self) -> BoxFut<'_, Option<KeySnapshot>> {
        Box::pin(async { None })
    }
    fn describe(&self) -> KeySourceInfo {
        KeySourceInfo::Static {
            keys: self.0.keys().len(),
        }
    }
}
