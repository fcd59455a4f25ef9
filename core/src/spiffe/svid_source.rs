//! Where a workload gets its own JWT-SVIDs: a [`JwtSvidSource`] (the native layer's Workload API
//! client; a fake in tests), and [`SvidCache`], which reuses an SVID while it has more than half
//! its lifetime left (as SPIRE's agent rotates them) or fetches one per request.

use super::id::SpiffeId;
use super::jwt_svid::unverified_expiry;
use crate::runtime::{BoxFut, MaybeSend};
use crate::{Error, ErrorCode, Result, Secret};
use parking_lot::Mutex;
use std::sync::Arc;

/// An SVID the source handed out.
#[derive(Clone, Debug)]
pub struct FetchedSvid {
    pub token: Secret,
    pub spiffe_id: SpiffeId,
}

/// A source of this workload's JWT-SVIDs.
pub trait JwtSvidSource: MaybeSend {
    /// A JWT-SVID for `audience`; for `spiffe_id` when the workload has several identities.
    fn fetch_jwt_svid<'a>(
        &'a self,
        audience: &'a str,
        spiffe_id: Option<&'a SpiffeId>,
    ) -> BoxFut<'a, Result<FetchedSvid>>;
    /// What the source is, for messages.
    fn describe(&self) -> String;
}

struct Held {
    svid: FetchedSvid,
    /// Fetch a new one from here on.
    renew_at_ms: i64,
    /// Never hand it out from here on.
    expires_at_ms: i64,
}

/// JWT-SVIDs for one audience, reused while fresh (`reuse`) or fetched for each request.
pub struct SvidCache {
    source: Arc<dyn JwtSvidSource>,
    audience: String,
    spiffe_id: Option<SpiffeId>,
    reuse: bool,
    held: Mutex<Option<Held>>,
}

impl SvidCache {
    pub fn new(
        source: Arc<dyn JwtSvidSource>,
        audience: String,
        spiffe_id: Option<SpiffeId>,
        reuse: bool,
    ) -> SvidCache {
        SvidCache {
            source,
            audience,
            spiffe_id,
            reuse,
            held: Mutex::new(None),
        }
    }
    pub fn audience(&self) -> &str {
        &self.audience
    }
    pub fn spiffe_id(&self) -> Option<&SpiffeId> {
        self.spiffe_id.as_ref()
    }

    /// Make sure an SVID usable at `now_ms` is held: the one at hand while it is fresh and reuse is
    /// on, else a new one from the source.
    pub async fn prepare(&self, now_ms: i64) -> Result<()> {
        if self.reuse && self.held.lock().as_ref().is_some_and(|h| now_ms < h.renew_at_ms) {
            return Ok(());
        }
        let svid = self
            .source
            .fetch_jwt_svid(&self.audience, self.spiffe_id.as_ref())
            .await?;
        if let Some(want) = &self.spiffe_id {
            if *want != svid.spiffe_id {
                return Err(Error::new(
                    ErrorCode::WorkloadApiUnavailable,
                    format!(
                        "{} handed out an SVID for {} instead of {want}",
                        self.source.describe(),
                        svid.spiffe_id
                    ),
                ));
            }
        }
        let exp_ms = unverified_expiry(svid.token.expose())
            .map(|s| s.saturating_mul(1000))
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::WorkloadApiUnavailable,
                    format!(
                        "{} handed out a JWT-SVID without a readable exp",
                        self.source.describe()
                    ),
                )
            })?;
        if exp_ms <= now_ms {
            return Err(Error::new(
                ErrorCode::WorkloadApiUnavailable,
                format!(
                    "{} handed out an expired JWT-SVID; check the clocks of this host and of the SPIRE agent",
                    self.source.describe()
                ),
            ));
        }
        // Renew at half the time left (SPIRE's agent rotates at half the lifetime too), so an SVID
        // presented is never close to its expiry.
        let renew_at_ms = now_ms + (exp_ms - now_ms) / 2;
        *self.held.lock() = Some(Held {
            svid,
            renew_at_ms,
            expires_at_ms: exp_ms,
        });
        Ok(())
    }

    /// The SVID held, if it is usable at `now_ms` (call [`SvidCache::prepare`] first).
    pub fn current(&self, now_ms: i64) -> Result<FetchedSvid> {
        match self.held.lock().as_ref() {
            Some(h) if now_ms < h.expires_at_ms => Ok(h.svid.clone()),
            _ => Err(Error::new(
                ErrorCode::WorkloadApiUnavailable,
                format!(
                    "no JWT-SVID for {} is at hand from {}",
                    self.audience,
                    self.source.describe()
                ),
            )),
        }
    }
}
