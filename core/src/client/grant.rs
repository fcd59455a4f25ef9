//! Grants: what the client presents to the token endpoint to get a token (RFC 6749 §4). Client
//! credentials (§4.4) is here; token exchange (RFC 8693) is
//! [`TokenExchange`](super::token_exchange::TokenExchange), and JWT bearer (RFC 7523) with a JWT-SVID
//! is [`JwtBearerSvid`](super::workload_identity::JwtBearerSvid): the token client does not change
//! for them. A grant is part
//! of the cache key: tokens from different grants are never handed out for one another.

use super::response::Token;
use crate::runtime::{BoxFut, MaybeSend};
use crate::Result;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A grant type and its parameters.
pub trait Grant: MaybeSend + fmt::Debug {
    /// The `grant_type` form value.
    fn grant_type(&self) -> &str;
    /// Get ready for a request sent at `now_ms` (for an assertion fetched from elsewhere, such
    /// as a JWT-SVID); called before every request.
    fn prepare(&self, _now_ms: i64) -> BoxFut<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    /// The grant's own form parameters (besides `grant_type`, the requested scopes, audience and
    /// resources, and the client's authentication), for a request sent at `now_ms`.
    fn parameters(&self, now_ms: i64) -> Result<Vec<(String, String)>>;
    /// What tells this grant's tokens apart in the cache: grants with equal keys share tokens.
    /// Never a secret itself (a subject token would be represented by a keyed hash of it).
    fn cache_key(&self) -> String;
    /// The instant (Unix ms) after which this grant's tokens must not be used, whatever lifetime
    /// the server gives them: a token exchange's subject token expiry. The token client caps a
    /// received token's expiry at it. `None`: no such bound.
    fn not_after_ms(&self) -> Option<i64> {
        None
    }
    /// Check a token the server issued for this grant (beyond what every token response must
    /// have), e.g. a token exchange's `issued_token_type`.
    fn check_token(&self, _token: &Token) -> Result<()> {
        Ok(())
    }
    /// Secret values this grant sends (a subject token): scrubbed from any server text put in an
    /// error, like the client secret.
    fn secrets(&self) -> Vec<&str> {
        Vec::new()
    }
}

/// The client-credentials grant (RFC 6749 §4.4): the client's own authority, nothing else.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientCredentials;

impl Grant for ClientCredentials {
    fn grant_type(&self) -> &str {
        "client_credentials"
    }
    fn parameters(&self, _now_ms: i64) -> Result<Vec<(String, String)>> {
        Ok(Vec::new())
    }
    fn cache_key(&self) -> String {
        "client_credentials".to_string()
    }
}

/// A shared grant with its cache key, comparable and hashable by that key.
#[derive(Clone)]
pub struct GrantRef {
    grant: Arc<dyn Grant>,
    key: Arc<str>,
}

impl GrantRef {
    pub fn new(grant: Arc<dyn Grant>) -> GrantRef {
        let key = grant.cache_key().into();
        GrantRef { grant, key }
    }
    pub fn grant(&self) -> &dyn Grant {
        &*self.grant
    }
}

impl Default for GrantRef {
    fn default() -> Self {
        GrantRef::new(Arc::new(ClientCredentials))
    }
}

impl fmt::Debug for GrantRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.grant.fmt(f)
    }
}

impl PartialEq for GrantRef {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for GrantRef {}

impl Hash for GrantRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state)
    }
}
