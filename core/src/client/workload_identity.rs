//! Secretless token requests with the workload's SPIFFE identity: the JWT-SVID as the client
//! assertion (`spiffe_jwt`, draft-ietf-oauth-spiffe-client-auth: `client_assertion_type`
//! `urn:ietf:params:oauth:client-assertion-type:jwt-spiffe`), or as the assertion of the RFC 7523
//! JWT-bearer grant (the MCP workload-identity-federation profile). The SVID's audience is the
//! authorization server's issuer (its token endpoint when no issuer is configured); SVIDs come
//! from a [`JwtSvidSource`] the native layer supplies (the Workload API).

use super::client_auth::ClientAuth;
use super::config::{AuthMethod, ClientConfig};
use super::grant::Grant;
use super::request::TokenRequestParts;
use crate::runtime::BoxFut;
use crate::spiffe::id::SpiffeId;
use crate::spiffe::svid_source::{JwtSvidSource, SvidCache};
use crate::{Error, Result};
use std::fmt;
use std::sync::Arc;

/// `client_assertion_type` of a JWT-SVID client assertion.
pub const JWT_SPIFFE_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";
/// `grant_type` of the RFC 7523 JWT-bearer grant.
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How the JWT-SVID is presented.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SvidPresentation {
    /// As the client assertion of a client-credentials request (the default).
    #[default]
    ClientAssertion,
    /// As the `assertion` of a JWT-bearer grant.
    JwtBearer,
}

impl SvidPresentation {
    pub fn parse(s: &str) -> Result<SvidPresentation> {
        match s.trim() {
            "client_assertion" => Ok(SvidPresentation::ClientAssertion),
            "jwt_bearer" => Ok(SvidPresentation::JwtBearer),
            o => Err(Error::config(format!(
                "spiffe_grant {o:?} is not supported; use client_assertion or jwt_bearer"
            ))),
        }
    }
}

/// The SPIFFE settings of a client configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpiffeSettings {
    /// The Workload API endpoint (`unix:///path`, `tcp://ip:port`); `SPIFFE_ENDPOINT_SOCKET` when
    /// absent.
    pub endpoint_socket: Option<String>,
    /// Which of the workload's SPIFFE IDs to use, when it has several.
    pub spiffe_id: Option<String>,
    /// The SVID's audience: the issuer (else the token endpoint) when absent.
    pub audience: Option<String>,
    /// Reuse an SVID while it has more than half its lifetime left (else fetch one per request).
    pub reuse_svid: bool,
    pub presentation: SvidPresentation,
}

impl Default for SpiffeSettings {
    fn default() -> Self {
        SpiffeSettings {
            endpoint_socket: None,
            spiffe_id: None,
            audience: None,
            reuse_svid: true,
            presentation: SvidPresentation::ClientAssertion,
        }
    }
}

impl SpiffeSettings {
    /// Read from settings by name (`spiffe_endpoint_socket`, `spiffe_id`, `spiffe_audience`,
    /// `spiffe_reuse_svid`, `spiffe_grant`), each through `get`.
    pub fn read(get: &dyn Fn(&str) -> Result<Option<String>>) -> Result<SpiffeSettings> {
        let mut s = SpiffeSettings {
            endpoint_socket: get("spiffe_endpoint_socket")?,
            spiffe_id: get("spiffe_id")?,
            audience: get("spiffe_audience")?,
            ..SpiffeSettings::default()
        };
        if let Some(b) = get("spiffe_reuse_svid")? {
            s.reuse_svid = super::config::parse_bool("spiffe_reuse_svid", &b)?;
        }
        if let Some(g) = get("spiffe_grant")? {
            s.presentation = SvidPresentation::parse(&g)?;
        }
        if let Some(id) = &s.spiffe_id {
            SpiffeId::parse(id).map_err(|e| Error::config(format!("spiffe_id: {}", e.message())))?;
        }
        Ok(s)
    }

    /// Whether any SPIFFE setting is given (they need `auth_method: spiffe_jwt`).
    pub fn is_set(&self) -> bool {
        *self != SpiffeSettings::default()
    }
}

/// The SVID cache for a configuration: its audience and identity, from `source`.
pub fn svid_cache(cfg: &ClientConfig, source: Arc<dyn JwtSvidSource>) -> Result<Arc<SvidCache>> {
    let s = &cfg.spiffe;
    let audience = s
        .audience
        .clone()
        .or_else(|| cfg.issuer.clone())
        .or_else(|| cfg.token_url.clone())
        .ok_or_else(|| Error::config("spiffe_jwt needs the SVID's audience: issuer, token_url or spiffe_audience"))?;
    let spiffe_id = s.spiffe_id.as_deref().map(SpiffeId::parse).transpose()?;
    Ok(Arc::new(SvidCache::new(source, audience, spiffe_id, s.reuse_svid)))
}

/// `client_id` when configured, else the SVID's SPIFFE ID (the draft's client identifier).
fn client_id_or(cfg_id: &str, svid_id: &SpiffeId) -> String {
    if cfg_id.is_empty() {
        svid_id.to_string()
    } else {
        cfg_id.to_string()
    }
}

/// `spiffe_jwt`: the JWT-SVID as the client assertion.
pub struct SpiffeJwtAuth {
    pub client_id: String,
    pub svids: Arc<SvidCache>,
}

impl fmt::Debug for SpiffeJwtAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpiffeJwtAuth")
            .field("client_id", &self.client_id)
            .field("audience", &self.svids.audience())
            .finish_non_exhaustive()
    }
}

impl ClientAuth for SpiffeJwtAuth {
    fn method(&self) -> &str {
        AuthMethod::SpiffeJwt.as_str()
    }
    fn prepare(&self, now_ms: i64) -> BoxFut<'_, Result<()>> {
        Box::pin(self.svids.prepare(now_ms))
    }
    fn authenticate(&self, parts: &mut TokenRequestParts, now_ms: i64) -> Result<()> {
        let svid = self.svids.current(now_ms)?;
        parts.param("client_id", &client_id_or(&self.client_id, &svid.spiffe_id));
        parts.param("client_assertion_type", JWT_SPIFFE_ASSERTION_TYPE);
        parts.param("client_assertion", svid.token.expose());
        Ok(())
    }
}

/// The JWT-bearer grant's client: it names itself (the SVID in the grant is the proof).
pub struct SvidGrantClient {
    pub client_id: String,
    pub svids: Arc<SvidCache>,
}

impl fmt::Debug for SvidGrantClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SvidGrantClient")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl ClientAuth for SvidGrantClient {
    fn method(&self) -> &str {
        "none"
    }
    fn authenticate(&self, parts: &mut TokenRequestParts, now_ms: i64) -> Result<()> {
        let svid = self.svids.current(now_ms)?;
        parts.param("client_id", &client_id_or(&self.client_id, &svid.spiffe_id));
        Ok(())
    }
}

/// The RFC 7523 JWT-bearer grant with the JWT-SVID as its assertion.
pub struct JwtBearerSvid {
    pub svids: Arc<SvidCache>,
}

impl fmt::Debug for JwtBearerSvid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtBearerSvid")
            .field("audience", &self.svids.audience())
            .finish_non_exhaustive()
    }
}

impl Grant for JwtBearerSvid {
    fn grant_type(&self) -> &str {
        JWT_BEARER_GRANT_TYPE
    }
    fn prepare(&self, now_ms: i64) -> BoxFut<'_, Result<()>> {
        Box::pin(self.svids.prepare(now_ms))
    }
    fn parameters(&self, now_ms: i64) -> Result<Vec<(String, String)>> {
        let svid = self.svids.current(now_ms)?;
        Ok(vec![("assertion".to_string(), svid.token.expose().to_string())])
    }
    fn cache_key(&self) -> String {
        // The workload's identity, not the SVID: SVIDs rotate, the tokens they earn are one
        // client's.
        format!(
            "jwt_bearer spiffe {} {}",
            self.svids.audience(),
            self.svids.spiffe_id().map_or("", |i| i.as_str())
        )
    }
}

/// The client authentication a `spiffe_jwt` configuration needs before a [`JwtSvidSource`] is
/// attached: every request fails with a message saying so.
#[derive(Debug)]
pub struct AwaitingWorkloadApi;

impl ClientAuth for AwaitingWorkloadApi {
    fn method(&self) -> &str {
        AuthMethod::SpiffeJwt.as_str()
    }
    fn prepare(&self, _now_ms: i64) -> BoxFut<'_, Result<()>> {
        Box::pin(async { Err(no_workload_api()) })
    }
    fn authenticate(&self, _parts: &mut TokenRequestParts, _now_ms: i64) -> Result<()> {
        Err(no_workload_api())
    }
}

fn no_workload_api() -> Error {
    Error::config(
        "spiffe_jwt takes its JWT-SVIDs from the SPIFFE Workload API, which only the native packages (Python, Node.js, Go) reach; attach a source with TokenClient::with_workload_identity",
    )
}
