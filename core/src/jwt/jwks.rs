//! A remote JWKS, cached: one shared in-flight fetch, a max-age from `Cache-Control` within
//! bounds, a refetch on an unknown `kid` at most once per cooldown, and the last good key set
//! kept when a refresh fails.

use super::keys::KeySet;
use crate::http::{check_url, HttpRequest, Transport};
use crate::runtime::{BoxFut, Clock, MaybeSend};
use crate::{Error, ErrorCode, Result};
use futures::future::{FutureExt, Shared};
use parking_lot::Mutex;
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

type FetchFuture = Shared<BoxFut<'static, Result<Arc<KeySet>>>>;

struct State {
    keys: Option<Arc<KeySet>>,
    /// The cached set is fresh until this instant.
    fresh_until_ms: i64,
    /// When the last fetch started (for the unknown-kid cooldown).
    last_fetch_started_ms: Option<i64>,
    /// After a failure with no keys at all, no new fetch before this instant.
    no_fetch_before_ms: i64,
    last_error: Option<Error>,
    inflight: Option<FetchFuture>,
    fetches: u64,
}

struct Inner {
    uri: String,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    policy: JwksPolicy,
    store: Option<Arc<dyn JwksStore>>,
    state: Mutex<State>,
    /// Bumped whenever a refresh removes a kid that the previous set had.
    generation: AtomicU64,
    /// Mirror of `State::fresh_until_ms`, readable without the lock (the verifier's hot path).
    fresh_until: AtomicI64,
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
        Ok(JwksCache {
            inner: Arc::new(Inner {
                uri: uri.to_string(),
                transport,
                clock,
                policy,
                store,
                state: Mutex::new(State {
                    keys: None,
                    fresh_until_ms: i64::MIN,
                    last_fetch_started_ms: None,
                    no_fetch_before_ms: i64::MIN,
                    last_error: None,
                    inflight: None,
                    fetches: 0,
                }),
                generation: AtomicU64::new(0),
                fresh_until: AtomicI64::new(i64::MIN),
            }),
        })
    }

    pub fn uri(&self) -> &str {
        &self.inner.uri
    }
    /// How many fetches have been started (for tests and metrics).
    pub fn fetch_count(&self) -> u64 {
        self.inner.state.lock().fetches
    }
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    /// Whether the cached set is fresh, without taking the lock.
    pub fn is_fresh(&self, now_ms: i64) -> bool {
        now_ms < self.inner.fresh_until.load(Ordering::Acquire)
    }

    /// The cached set if it is still fresh.
    pub fn fresh_keys(&self, now_ms: i64) -> Option<(Arc<KeySet>, u64)> {
        let st = self.inner.state.lock();
        if now_ms < st.fresh_until_ms {
            st.keys.clone().map(|k| (k, self.generation()))
        } else {
            None
        }
    }

    /// Fresh keys, fetching if the cache is stale. A failed refresh falls back to the last good
    /// set; with none, the error is `jwks_unavailable`.
    pub async fn keys(&self) -> Result<(Arc<KeySet>, u64)> {
        let now = self.inner.clock.now_ms();
        let fut = {
            let mut st = self.inner.state.lock();
            if now < st.fresh_until_ms {
                if let Some(k) = &st.keys {
                    return Ok((k.clone(), self.generation()));
                }
            }
            if st.inflight.is_none() && st.keys.is_none() && now < st.no_fetch_before_ms {
                let cause = st.last_error.as_ref().map(|e| e.to_string()).unwrap_or_default();
                return Err(Error::new(
                    ErrorCode::JwksUnavailable,
                    format!(
                        "the JWKS at {} could not be fetched recently ({cause}); retrying shortly",
                        self.inner.uri
                    ),
                ));
            }
            let use_store = st.keys.is_none();
            self.start_fetch(&mut st, now, use_store)
        };
        let res = fut.await;
        match res {
            Ok(k) => Ok((k, self.generation())),
            Err(e) => {
                let st = self.inner.state.lock();
                match &st.keys {
                    Some(k) => Ok((k.clone(), self.generation())),
                    None => Err(Error::new(
                        ErrorCode::JwksUnavailable,
                        format!("no key set is available from {} ({e})", self.inner.uri),
                    )),
                }
            }
        }
    }

    /// A token named a `kid` we do not have: refetch unless one was started within the cooldown
    /// (joining an in-flight fetch if there is one). `None` when the cooldown forbids a fetch.
    pub async fn refresh_for_unknown_kid(&self) -> Option<(Arc<KeySet>, u64)> {
        let now = self.inner.clock.now_ms();
        let fut = {
            let mut st = self.inner.state.lock();
            if st.inflight.is_none() {
                let cooldown = self.inner.policy.unknown_kid_cooldown.as_millis() as i64;
                if st.last_fetch_started_ms.is_some_and(|t| now - t < cooldown) {
                    return None;
                }
            }
            self.start_fetch(&mut st, now, false)
        };
        let res = fut.await;
        match res {
            Ok(k) => Some((k, self.generation())),
            Err(_) => self.inner.state.lock().keys.clone().map(|k| (k, self.generation())),
        }
    }

    /// Join the in-flight fetch, or start one. Called with the state locked.
    fn start_fetch(&self, st: &mut State, now: i64, use_store: bool) -> FetchFuture {
        if let Some(f) = &st.inflight {
            return f.clone();
        }
        let use_store = use_store && self.inner.store.is_some();
        if !use_store {
            st.last_fetch_started_ms = Some(now);
            st.fetches += 1;
        }
        let inner = self.inner.clone();
        let fut: BoxFut<'static, Result<Arc<KeySet>>> = Box::pin(async move {
            let stored = if use_store { from_store(&inner).await } else { None };
            let res = match stored {
                Some(found) => Ok(found),
                None => {
                    if use_store {
                        // The store had nothing fresh: this is a network fetch after all.
                        let mut st = inner.state.lock();
                        st.last_fetch_started_ms = Some(inner.clock.now_ms());
                        st.fetches += 1;
                    }
                    fetch(&inner).await
                }
            };
            let now = inner.clock.now_ms();
            let mut st = inner.state.lock();
            st.inflight = None;
            match res {
                Ok((set, max_age)) => {
                    let set = Arc::new(set);
                    if let Some(old) = &st.keys {
                        let removed = old.kids().any(|k| !set.kids().any(|n| n == k));
                        if removed {
                            inner.generation.fetch_add(1, Ordering::AcqRel);
                        }
                    }
                    st.keys = Some(set.clone());
                    st.fresh_until_ms = now + max_age.as_millis() as i64;
                    inner.fresh_until.store(st.fresh_until_ms, Ordering::Release);
                    st.last_error = None;
                    Ok(set)
                }
                Err(e) => {
                    let backoff = inner.policy.failure_backoff.as_millis() as i64;
                    if st.keys.is_some() {
                        // Keep serving the last good set; try again after the backoff.
                        st.fresh_until_ms = now + backoff;
                        inner.fresh_until.store(st.fresh_until_ms, Ordering::Release);
                    } else {
                        st.no_fetch_before_ms = now + backoff.min(1000);
                    }
                    st.last_error = Some(e.clone());
                    Err(e)
                }
            }
        });
        let shared = fut.shared();
        st.inflight = Some(shared.clone());
        shared
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
