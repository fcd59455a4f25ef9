//! A JWKS whose URL comes from the issuer's metadata (RFC 8414 `jwks_uri`, with the OpenID Connect
//! fallback): discovered on first use, then a [`JwksCache`] like any other.

use super::jwks_cache::{JwksCache, JwksPolicy, JwksStore};
use super::{KeyProvider, KeySnapshot, KeySourceInfo};
use crate::discovery::MetadataCache;
use crate::http::{check_url, Transport};
use crate::runtime::{BoxFut, Clock};
use crate::util::quoted;
use crate::{Error, ErrorCode, Result};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

/// How long a failed discovery is answered before it is tried again.
const DISCOVERY_RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Keys from the JWKS the issuer's metadata names.
#[derive(Clone)]
pub struct DiscoveredJwks {
    inner: Arc<Inner>,
}

struct Inner {
    metadata: MetadataCache,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    policy: JwksPolicy,
    store: Option<Arc<dyn JwksStore>>,
    jwks: Mutex<Option<JwksCache>>,
}

impl DiscoveredJwks {
    pub fn new(
        issuer: &str,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        policy: JwksPolicy,
        store: Option<Arc<dyn JwksStore>>,
    ) -> Result<DiscoveredJwks> {
        check_url(issuer, policy.allow_insecure_http, "issuer")?;
        let metadata = MetadataCache::new(
            issuer,
            policy.allow_insecure_http,
            transport.clone(),
            clock.clone(),
            DISCOVERY_RETRY_PAUSE,
        );
        Ok(DiscoveredJwks {
            inner: Arc::new(Inner {
                metadata,
                transport,
                clock,
                policy,
                store,
                jwks: Mutex::new(None),
            }),
        })
    }

    /// The JWKS cache, once the metadata is known.
    pub fn jwks(&self) -> Option<JwksCache> {
        self.inner.jwks.lock().clone()
    }

    /// The JWKS cache, discovering its URL first when needed.
    pub async fn discover(&self) -> Result<JwksCache> {
        if let Some(j) = self.jwks() {
            return Ok(j);
        }
        let issuer = self.inner.metadata.issuer();
        let meta = self.inner.metadata.get().await.map_err(|e| {
            Error::new(
                ErrorCode::JwksUnavailable,
                format!("the metadata of issuer {} could not be fetched ({e})", quoted(issuer)),
            )
        })?;
        let uri = meta.jwks_uri.as_deref().ok_or_else(|| {
            Error::config(format!(
                "the metadata of issuer {} has no jwks_uri; give the verifier jwks_uri or jwks",
                quoted(issuer)
            ))
        })?;
        let mut slot = self.inner.jwks.lock();
        if let Some(j) = &*slot {
            return Ok(j.clone());
        }
        let j = JwksCache::with_store(
            uri,
            self.inner.transport.clone(),
            self.inner.clock.clone(),
            self.inner.policy.clone(),
            self.inner.store.clone(),
        )?;
        *slot = Some(j.clone());
        Ok(j)
    }
}

impl KeyProvider for DiscoveredJwks {
    fn is_fresh(&self, now_ms: i64) -> bool {
        self.jwks().is_some_and(|j| j.is_fresh(now_ms))
    }
    fn generation(&self) -> Option<u64> {
        Some(self.jwks().map_or(0, |j| j.generation()))
    }
    fn keys_now(&self, now_ms: i64) -> Option<KeySnapshot> {
        KeyProvider::keys_now(&self.jwks()?, now_ms)
    }
    fn refetches_unknown_kid(&self) -> bool {
        true
    }
    fn keys(&self) -> BoxFut<'_, Result<KeySnapshot>> {
        Box::pin(async move {
            let j = self.discover().await?;
            KeyProvider::keys(&j).await
        })
    }
    fn refresh_for_unknown_kid(&self) -> BoxFut<'_, Option<KeySnapshot>> {
        Box::pin(async move {
            let j = self.jwks()?;
            KeyProvider::refresh_for_unknown_kid(&j).await
        })
    }
    fn describe(&self) -> KeySourceInfo {
        KeySourceInfo::Discovered {
            issuer: self.inner.metadata.issuer().to_string(),
            jwks_uri: self.jwks().map(|j| j.uri().to_string()),
        }
    }
    fn fetch_count(&self) -> u64 {
        self.jwks().map_or(0, |j| j.fetch_count())
    }
}
