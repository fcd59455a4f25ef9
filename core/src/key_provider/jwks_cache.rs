//! A remote JWKS, cached: one shared in-flight fetch (the [`RefreshCell`]), a max-age from
//! `Cache-Control` within bounds, a refetch on an unknown `kid` at most once per cooldown, and the
//! last good key set kept when a refresh fails.

use super::{KeyProvider, KeySnapshot, KeySourceInfo};
use crate::http::{check_url, HttpRequest, Transport};
use crate::jose::keys::KeySet;
use crate::refresh::{Failure, Fresh, RefreshCell, Step};
use crate::runtime::{BoxFut, Clock, MaybeSend};
use crate::{Error, ErrorCode, Result};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// JWKS cache timing.
#[derive(Clone, Debug)]
pub struct JwksPolicy {
    /// Used when the response has no `Cache-Control: max-age`.
    pub default_max_age: Duration,
    /// `max-age` is clamped to `[min_max_age, max_max_age]`.
    pub min_max_age: Duration,
    pub max_max_age: Duration,
    /// At most one refetch per cooldown for tokens with an unknown `kid`.
    pub unknown_kid_cooldown: Duration,
    /// After a failed refresh with a last good key set, wait this long before trying again.
    pub failure_backoff: Duration,
    pub allow_insecure_http: bool,
}

impl Default for JwksPolicy {
    fn default() -> Self {
        JwksPolicy {
            default_max_age: Duration::from_secs(600),
            min_max_age: Duration::from_secs(30),
            max_max_age: Duration::from_secs(86_400),
            unknown_kid_cooldown: Duration::from_secs(30),
            failure_backoff: Duration::from_secs(5),
            allow_insecure_http: false,
        }
    }
}

/// A JWKS kept outside the process, with the instant it stops being fresh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredJwks {
    /// The JWKS document as fetched.
    pub jwks: String,
    /// Unix milliseconds; after this the document is not used.
    pub fresh_until_ms: i64,
}

/// Somewhere to keep the fetched JWKS across process (or isolate) lifetimes: edge runtimes lose
/// memory between requests, and a KV store saves a fetch per cold start. The cache consults the
/// store only when it holds no keys at all, uses a stored document only while it is fresh (and
/// still parses it with every rule), and saves each document it fetches; a store that fails is
/// ignored. Refetches for an unknown `kid` always go to the network.
pub trait JwksStore: MaybeSend {
    fn load(&self, uri: &str) -> BoxFut<'static, Option<StoredJwks>>;
    fn save(&self, uri: &str, jwks: StoredJwks) -> BoxFut<'static, ()>;
}

/// A key set and its generation, as the cell stores them (read together, never apart).
struct Generational {
    keys: Arc<KeySet>,
    generation: u64,
}

struct Inner {
    uri: String,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    policy: JwksPolicy,
    store: Option<Arc<dyn JwksStore>>,
    cell: RefreshCell<Generational>,
    /// The stored set's generation, readable without the lock (the verifier's hot path); written
    /// by the cell right after it stores a set.
    generation: Arc<AtomicU64>,
    /// Network fetches started (the store's answers do not count).
    fetches: AtomicU64,
    /// When the last network fetch started (for the unknown-kid cooldown); `i64::MIN`: never.
    last_fetch_started_ms: AtomicI64,
}

/// A cached remote JWKS. Cheap to clone (shared state).
#[derive(Clone)]
pub struct JwksCache {
    inner: Arc<Inner>,
}

impl JwksCache {
    pub fn new(
        uri: &str,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        policy: JwksPolicy,
    ) -> Result<JwksCache> {
        Self::with_store(uri, transport, clock, policy, None)
    }

    /// A cache that also keeps its documents in `store` (see [`JwksStore`]).
    pub fn with_store(
        uri: &str,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        policy: JwksPolicy,
        store: Option<Arc<dyn JwksStore>>,
    ) -> Result<JwksCache> {
        check_url(uri, policy.allow_insecure_http, "jwks_uri")?;
        let generation = Arc::new(AtomicU64::new(0));
        let published = generation.clone();
        let backoff = policy.failure_backoff;
        // After a failure: with a key set, keep serving it and try again after the backoff;
        // without one, refuse callers for a moment (at most a second) so a dead server is not
        // hammered.
        let pause = move |_: &Error, f: Failure| {
            if f.still_usable {
                backoff
            } else {
                backoff.min(Duration::from_secs(1))
            }
        };
        let on_stored = move |_: Option<&Generational>, new: &Generational| {
            published.store(new.generation, Ordering::Release);
        };
        Ok(JwksCache {
            inner: Arc::new(Inner {
                uri: uri.to_string(),
                transport,
                cell: RefreshCell::with_hook(clock.clone(), false, pause, on_stored),
                clock,
                policy,
                store,
                generation,
                fetches: AtomicU64::new(0),
                last_fetch_started_ms: AtomicI64::new(i64::MIN),
            }),
        })
    }

    pub fn uri(&self) -> &str {
        &self.inner.uri
    }
    /// How many fetches have been started (for tests and metrics).
    pub fn fetch_count(&self) -> u64 {
        self.inner.fetches.load(Ordering::Acquire)
    }
    /// The key set's generation: bumped whenever a refresh removes a kid the previous set had.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    /// Whether the cached set is fresh, without taking the lock.
    pub fn is_fresh(&self, now_ms: i64) -> bool {
        self.inner.cell.is_ready(now_ms)
    }

    /// The cached set if it is still fresh.
    pub fn fresh_keys(&self, now_ms: i64) -> Option<(Arc<KeySet>, u64)> {
        self.inner
            .cell
            .ready_now(now_ms)
            .map(|g| (g.keys.clone(), g.generation))
    }

    /// Fresh keys, fetching if the cache is stale. A failed refresh falls back to the last good
    /// set; with none, the error is `jwks_unavailable`.
    pub async fn keys(&self) -> Result<(Arc<KeySet>, u64)> {
        let now = self.inner.clock.now_ms();
        let use_store = self.inner.cell.current().is_none();
        let refresh = match self.inner.cell.step(now, &|| self.fetch(use_store)) {
            Step::Ready(g) => return Ok((g.keys.clone(), g.generation)),
            Step::Failed(e) => {
                return Err(Error::new(
                    ErrorCode::JwksUnavailable,
                    format!(
                        "the JWKS at {} could not be fetched recently ({e}); retrying shortly",
                        self.inner.uri
                    ),
                ))
            }
            Step::Wait(f) | Step::Refreshing(f, _, _) => f,
        };
        match refresh.await {
            Ok(g) => Ok((g.keys.clone(), g.generation)),
            Err(e) => match self.inner.cell.current() {
                Some(g) => Ok((g.keys.clone(), g.generation)),
                None => Err(Error::new(
                    ErrorCode::JwksUnavailable,
                    format!("no key set is available from {} ({e})", self.inner.uri),
                )),
            },
        }
    }

    /// A token named a `kid` we do not have: refetch unless one was started within the cooldown
    /// (joining an in-flight fetch if there is one). `None` when the cooldown forbids a fetch.
    pub async fn refresh_for_unknown_kid(&self) -> Option<(Arc<KeySet>, u64)> {
        let now = self.inner.clock.now_ms();
        let cooldown = self.inner.policy.unknown_kid_cooldown.as_millis() as i64;
        let last = self.inner.last_fetch_started_ms.load(Ordering::Acquire);
        let may_start = || last == i64::MIN || now.saturating_sub(last) >= cooldown;
        let refresh = self.inner.cell.force(may_start, &|| self.fetch(false))?;
        let g = match refresh.await {
            Ok(g) => g,
            Err(_) => self.inner.cell.current()?,
        };
        Some((g.keys.clone(), g.generation))
    }

    /// The refresh: the store's document when `use_store` and it has a fresh one, else a fetch.
    fn fetch(&self, use_store: bool) -> BoxFut<'static, Result<Fresh<Generational>>> {
        let inner = self.inner.clone();
        let use_store = use_store && inner.store.is_some();
        if !use_store {
            inner.count_fetch();
        }
        Box::pin(async move {
            let stored = if use_store { from_store(&inner).await } else { None };
            let (set, max_age) = match stored {
                Some(found) => found,
                None => {
                    if use_store {
                        // The store had nothing fresh: this is a network fetch after all.
                        inner.count_fetch();
                    }
                    fetch(&inner).await?
                }
            };
            let now = inner.clock.now_ms();
            let generation = match inner.cell.current() {
                Some(old) if old.keys.kids().any(|k| !set.kids().any(|n| n == k)) => old.generation + 1,
                Some(old) => old.generation,
                None => 0,
            };
            Ok(Fresh {
                value: Arc::new(Generational {
                    keys: Arc::new(set),
                    generation,
                }),
                refresh_at_ms: now.saturating_add(max_age.as_millis() as i64),
                // The last good set is kept however old: a failed refresh falls back to it.
                usable_until_ms: i64::MAX,
            })
        })
    }
}

impl Inner {
    fn count_fetch(&self) {
        self.last_fetch_started_ms.store(self.clock.now_ms(), Ordering::Release);
        self.fetches.fetch_add(1, Ordering::AcqRel);
    }
}

impl KeyProvider for JwksCache {
    fn is_fresh(&self, now_ms: i64) -> bool {
        JwksCache::is_fresh(self, now_ms)
    }
    fn generation(&self) -> Option<u64> {
        Some(JwksCache::generation(self))
    }
    fn keys_now(&self, now_ms: i64) -> Option<KeySnapshot> {
        self.fresh_keys(now_ms).map(snapshot)
    }
    fn refetches_unknown_kid(&self) -> bool {
        true
    }
    fn keys(&self) -> BoxFut<'_, Result<KeySnapshot>> {
        Box::pin(async move { JwksCache::keys(self).await.map(snapshot) })
    }
    fn refresh_for_unknown_kid(&self) -> BoxFut<'_, Option<KeySnapshot>> {
        Box::pin(async move { JwksCache::refresh_for_unknown_kid(self).await.map(snapshot) })
    }
    fn describe(&self) -> KeySourceInfo {
        KeySourceInfo::Jwks {
            uri: self.inner.uri.clone(),
        }
    }
    fn fetch_count(&self) -> u64 {
        JwksCache::fetch_count(self)
    }
}

fn snapshot((keys, generation): (Arc<KeySet>, u64)) -> KeySnapshot {
    KeySnapshot {
        keys,
        generation: Some(generation),
    }
}

/// A fresh document from the store, parsed with every rule (`None` on a miss, a stale or
/// unparsable document, or a failing store).
async fn from_store(inner: &Inner) -> Option<(KeySet, Duration)> {
    let store = inner.store.as_ref()?;
    let stored = store.load(&inner.uri).await?;
    let left = stored.fresh_until_ms.checked_sub(inner.clock.now_ms())?;
    if left <= 0 {
        return None;
    }
    let set = KeySet::from_jwks_json(stored.jwks.as_bytes()).ok()?;
    let left = Duration::from_millis(left as u64).min(inner.policy.max_max_age);
    Some((set, left))
}

async fn fetch(inner: &Inner) -> Result<(KeySet, Duration)> {
    let resp = inner.transport.send(HttpRequest::get(inner.uri.clone())).await?;
    if resp.status != 200 {
        let code = if resp.status >= 500 || resp.status == 429 {
            ErrorCode::ServerError
        } else {
            ErrorCode::InvalidResponse
        };
        return Err(
            Error::new(code, format!("GET {} answered HTTP {}", inner.uri, resp.status)).with_status(resp.status),
        );
    }
    let set = KeySet::from_jwks_json(&resp.body)?;
    let p = &inner.policy;
    let max_age = resp
        .max_age()
        .unwrap_or(p.default_max_age)
        .clamp(p.min_max_age, p.max_max_age);
    if let (Some(store), Ok(text)) = (&inner.store, std::str::from_utf8(&resp.body)) {
        let stored = StoredJwks {
            jwks: text.to_string(),
            fresh_until_ms: inner.clock.now_ms().saturating_add(max_age.as_millis() as i64),
        };
        store.save(&inner.uri, stored).await;
    }
    Ok((set, max_age))
}
