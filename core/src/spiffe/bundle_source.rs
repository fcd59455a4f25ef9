//! Where a JWT-SVID verifier gets its bundles: a [`BundleSource`]. Bundles given up front
//! ([`StaticBundles`]: a bundle file, inline JWKS), bundles pushed by a watcher
//! ([`SharedBundles`]: the native layer's Workload API watch hands it every full-state update),
//! a SPIFFE bundle endpoint polled as its `spiffe_refresh_hint` says ([`BundleEndpoint`]), and a
//! router that picks a source per trust domain ([`TrustDomainSources`]).

use super::bundle::{BundleSet, JwtBundle};
use super::id::TrustDomain;
use crate::http::{check_url, HttpRequest, Transport};
use crate::refresh::{Failure, Fresh, RefreshCell, Step};
use crate::runtime::{BoxFut, Clock, MaybeSend};
use crate::{Error, ErrorCode, Result};
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A source of trust bundles.
pub trait BundleSource: MaybeSend {
    /// The bundle of `td` if it can be had now without waiting (`None`: call [`BundleSource::bundle`]).
    fn bundle_now(&self, td: &TrustDomain, now_ms: i64) -> Option<Option<Arc<JwtBundle>>>;
    /// The bundle of `td` (`Ok(None)`: this source does not know the trust domain), fetched when
    /// needed.
    fn bundle<'a>(&'a self, td: &'a TrustDomain) -> BoxFut<'a, Result<Option<Arc<JwtBundle>>>>;
    /// What the source is, for messages.
    fn describe(&self) -> String;
}

/// Bundles given up front.
pub struct StaticBundles(pub BundleSet);

impl BundleSource for StaticBundles {
    fn bundle_now(&self, td: &TrustDomain, _now_ms: i64) -> Option<Option<Arc<JwtBundle>>> {
        Some(self.0.get(td).cloned())
    }
    fn bundle<'a>(&'a self, td: &'a TrustDomain) -> BoxFut<'a, Result<Option<Arc<JwtBundle>>>> {
        let b = self.0.get(td).cloned();
        Box::pin(async move { Ok(b) })
    }
    fn describe(&self) -> String {
        let tds: Vec<&str> = self.0.trust_domains().map(|t| t.name()).collect();
        format!("static bundles ({})", tds.join(", "))
    }
}

/// Bundles replaced wholesale by whoever watches them (each update is the full state, as the
/// Workload API streams it: a trust domain missing from an update is no longer trusted).
#[derive(Clone, Default)]
pub struct SharedBundles {
    inner: Arc<SharedInner>,
}

#[derive(Default)]
struct SharedInner {
    set: RwLock<Arc<BundleSet>>,
    updates: AtomicU64,
    label: RwLock<String>,
}

impl SharedBundles {
    /// Empty, described as `label` (for instance the Workload API endpoint).
    pub fn new(label: impl Into<String>) -> SharedBundles {
        let s = SharedBundles::default();
        *s.inner.label.write() = label.into();
        s
    }
    /// Replace every bundle.
    pub fn replace(&self, set: BundleSet) {
        *self.inner.set.write() = Arc::new(set);
        self.inner.updates.fetch_add(1, Ordering::AcqRel);
    }
    pub fn current(&self) -> Arc<BundleSet> {
        self.inner.set.read().clone()
    }
    /// Updates received so far.
    pub fn updates(&self) -> u64 {
        self.inner.updates.load(Ordering::Acquire)
    }
}

impl BundleSource for SharedBundles {
    fn bundle_now(&self, td: &TrustDomain, _now_ms: i64) -> Option<Option<Arc<JwtBundle>>> {
        Some(self.inner.set.read().get(td).cloned())
    }
    fn bundle<'a>(&'a self, td: &'a TrustDomain) -> BoxFut<'a, Result<Option<Arc<JwtBundle>>>> {
        let b = self.inner.set.read().get(td).cloned();
        Box::pin(async move { Ok(b) })
    }
    fn describe(&self) -> String {
        format!("bundles from {}", self.inner.label.read())
    }
}

/// Bundle-endpoint timing.
#[derive(Clone, Debug)]
pub struct BundleEndpointPolicy {
    /// When the bundle has no `spiffe_refresh_hint` (the standard suggests about five minutes).
    pub default_refresh: Duration,
    /// The hint is clamped to `[min_refresh, max_refresh]`.
    pub min_refresh: Duration,
    pub max_refresh: Duration,
    /// After a failed refresh with a last good bundle, wait this long before trying again.
    pub failure_backoff: Duration,
    pub allow_insecure_http: bool,
}

impl Default for BundleEndpointPolicy {
    fn default() -> Self {
        BundleEndpointPolicy {
            default_refresh: Duration::from_secs(300),
            min_refresh: Duration::from_secs(5),
            max_refresh: Duration::from_secs(86_400),
            failure_backoff: Duration::from_secs(10),
            allow_insecure_http: false,
        }
    }
}

/// A SPIFFE bundle endpoint (`https_web` profile: the server is authenticated by Web PKI, or the
/// transport's own CA): one trust domain's bundle, refetched when its refresh hint says, the last
/// good one kept when a refresh fails, and an older `spiffe_sequence` never replacing a newer one.
#[derive(Clone)]
pub struct BundleEndpoint {
    inner: Arc<EndpointInner>,
}

struct EndpointInner {
    url: String,
    trust_domain: TrustDomain,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    policy: BundleEndpointPolicy,
    cell: RefreshCell<JwtBundle>,
    fetches: AtomicU64,
}

impl BundleEndpoint {
    pub fn new(
        url: &str,
        trust_domain: TrustDomain,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        policy: BundleEndpointPolicy,
    ) -> Result<BundleEndpoint> {
        check_url(url, policy.allow_insecure_http, "bundle_endpoint")?;
        let backoff = policy.failure_backoff;
        let pause = move |_: &Error, f: Failure| {
            if f.still_usable {
                backoff
            } else {
                backoff.min(Duration::from_secs(1))
            }
        };
        Ok(BundleEndpoint {
            inner: Arc::new(EndpointInner {
                url: url.to_string(),
                trust_domain,
                transport,
                cell: RefreshCell::new(clock.clone(), false, pause),
                clock,
                policy,
                fetches: AtomicU64::new(0),
            }),
        })
    }

    pub fn url(&self) -> &str {
        &self.inner.url
    }
    pub fn fetch_count(&self) -> u64 {
        self.inner.fetches.load(Ordering::Acquire)
    }

    /// The bundle, fetched when its refresh time has come; a failed refresh falls back to the last
    /// good bundle, and with none the error is `jwks_unavailable`.
    pub async fn current(&self) -> Result<Arc<JwtBundle>> {
        let inner = &self.inner;
        let refresh = match inner.cell.step(inner.clock.now_ms(), &|| self.fetch()) {
            Step::Ready(b) => return Ok(b),
            Step::Failed(e) => return Err(unavailable(&inner.url, &e)),
            Step::Wait(f) | Step::Refreshing(f, _, _) => f,
        };
        match refresh.await {
            Ok(b) => Ok(b),
            Err(e) => inner.cell.current().ok_or_else(|| unavailable(&inner.url, &e)),
        }
    }

    fn fetch(&self) -> BoxFut<'static, Result<Fresh<JwtBundle>>> {
        let inner = self.inner.clone();
        inner.fetches.fetch_add(1, Ordering::AcqRel);
        Box::pin(async move {
            let resp = inner.transport.send(HttpRequest::get(inner.url.clone())).await?;
            if resp.status != 200 {
                let code = if resp.status >= 500 || resp.status == 429 {
                    ErrorCode::ServerError
                } else {
                    ErrorCode::InvalidResponse
                };
                return Err(
                    Error::new(code, format!("GET {} answered HTTP {}", inner.url, resp.status))
                        .with_status(resp.status),
                );
            }
            let fetched = JwtBundle::parse(inner.trust_domain.clone(), &resp.body)?;
            let p = &inner.policy;
            let refresh = fetched
                .refresh_hint
                .unwrap_or(p.default_refresh)
                .clamp(p.min_refresh, p.max_refresh);
            // A bundle older than the one at hand (a lower sequence: a stale replica or a replay)
            // does not replace it; it is asked again at the next refresh.
            let value = match inner.cell.current() {
                Some(old) if matches!((old.sequence, fetched.sequence), (Some(o), Some(n)) if n < o) => old,
                _ => Arc::new(fetched),
            };
            Ok(Fresh {
                value,
                refresh_at_ms: inner.clock.now_ms().saturating_add(refresh.as_millis() as i64),
                usable_until_ms: i64::MAX,
            })
        })
    }
}

fn unavailable(url: &str, e: &Error) -> Error {
    Error::new(
        ErrorCode::JwksUnavailable,
        format!("no trust bundle is available from {url} ({e}); retrying shortly"),
    )
}

impl BundleSource for BundleEndpoint {
    fn bundle_now(&self, td: &TrustDomain, now_ms: i64) -> Option<Option<Arc<JwtBundle>>> {
        if *td != self.inner.trust_domain {
            return Some(None);
        }
        self.inner.cell.ready_now(now_ms).map(Some)
    }
    fn bundle<'a>(&'a self, td: &'a TrustDomain) -> BoxFut<'a, Result<Option<Arc<JwtBundle>>>> {
        Box::pin(async move {
            if *td != self.inner.trust_domain {
                return Ok(None);
            }
            self.current().await.map(Some)
        })
    }
    fn describe(&self) -> String {
        format!("the bundle endpoint {} ({})", self.inner.url, self.inner.trust_domain)
    }
}

/// A source per trust domain, and one for every other trust domain (the Workload API's bundles,
/// which hold the workload's own trust domain and its federated ones).
#[derive(Default)]
pub struct TrustDomainSources {
    by_domain: BTreeMap<TrustDomain, Arc<dyn BundleSource>>,
    fallback: Option<Arc<dyn BundleSource>>,
}

impl TrustDomainSources {
    pub fn new() -> TrustDomainSources {
        TrustDomainSources::default()
    }
    pub fn insert(&mut self, td: TrustDomain, source: Arc<dyn BundleSource>) {
        self.by_domain.insert(td, source);
    }
    pub fn set_fallback(&mut self, source: Arc<dyn BundleSource>) {
        self.fallback = Some(source);
    }
    pub fn is_empty(&self) -> bool {
        self.by_domain.is_empty() && self.fallback.is_none()
    }
    fn source(&self, td: &TrustDomain) -> Option<&Arc<dyn BundleSource>> {
        self.by_domain.get(td).or(self.fallback.as_ref())
    }
}

impl BundleSource for TrustDomainSources {
    fn bundle_now(&self, td: &TrustDomain, now_ms: i64) -> Option<Option<Arc<JwtBundle>>> {
        match self.source(td) {
            Some(s) => s.bundle_now(td, now_ms),
            None => Some(None),
        }
    }
    fn bundle<'a>(&'a self, td: &'a TrustDomain) -> BoxFut<'a, Result<Option<Arc<JwtBundle>>>> {
        match self.source(td) {
            Some(s) => s.bundle(td),
            None => Box::pin(async { Ok(None) }),
        }
    }
    fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .by_domain
            .iter()
            .map(|(td, s)| format!("{td}: {}", s.describe()))
            .collect();
        if let Some(f) = &self.fallback {
            parts.push(format!("others: {}", f.describe()));
        }
        parts.join("; ")
    }
}
