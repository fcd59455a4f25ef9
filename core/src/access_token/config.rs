//! What a verifier checks ([`VerifierConfig`]) and its defaults.

use super::delegation::{DelegationPolicy, MAX_ACT_NESTING};
use crate::jose::alg::Alg;
use crate::resource::uri::AudienceMatch;
use crate::util::quoted;
use crate::{Error, Result};
use std::time::Duration;

/// Default token size limit, checked before any decoding.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Default clock-skew leeway.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(5);
/// Default number of verified tokens remembered.
pub const DEFAULT_VERIFIED_CACHE: usize = 10_000;

/// RFC 9068 `typ` policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TypPolicy {
    /// Accept `at+jwt`, `application/at+jwt`, `JWT`, or no `typ` at all; reject any other type
    /// (e.g. `dpop+jwt`, `id_token+jwt`) so that other kinds of JWT cannot be replayed as tokens.
    #[default]
    Default,
    /// Require `at+jwt` (or `application/at+jwt`), as RFC 9068 §4 asks of resource servers.
    Strict,
}

impl TypPolicy {
    pub fn parse(s: &str) -> Result<TypPolicy> {
        match s {
            "default" | "" => Ok(TypPolicy::Default),
            "strict" | "at+jwt" => Ok(TypPolicy::Strict),
            o => Err(Error::config(format!(
                "unknown typ policy {}; use \"default\" or \"strict\"",
                quoted(o)
            ))),
        }
    }
}

/// What a verifier checks.
#[derive(Clone, Debug)]
pub struct VerifierConfig {
    /// Expected `iss`. Required: set it, or explicitly opt out with `skip_issuer_check`.
    pub issuer: Option<String>,
    pub skip_issuer_check: bool,
    /// Accepted audiences: `aud` must contain at least one. Required unless `skip_audience_check`.
    pub audiences: Vec<String>,
    /// How `aud` values are matched against `audiences` (default: exactly).
    pub audience_match: AudienceMatch,
    pub skip_audience_check: bool,
    /// Allowed algorithms; empty means every supported asymmetric algorithm.
    pub algorithms: Vec<Alg>,
    pub leeway: Duration,
    pub typ: TypPolicy,
    pub max_token_bytes: usize,
    /// Claims that must be present (e.g. RFC 9068's `sub`, `client_id`, `iat`, `jti`).
    pub required_claims: Vec<String>,
    /// Verified tokens remembered (0 disables the cache).
    pub verified_cache_size: usize,
    /// What this resource accepts of delegated tokens (`act`); a malformed chain is always refused.
    pub delegation: DelegationPolicy,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        VerifierConfig {
            issuer: None,
            skip_issuer_check: false,
            audiences: Vec::new(),
            audience_match: AudienceMatch::Exact,
            skip_audience_check: false,
            algorithms: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            typ: TypPolicy::Default,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            required_claims: Vec::new(),
            verified_cache_size: DEFAULT_VERIFIED_CACHE,
            delegation: DelegationPolicy::default(),
        }
    }
}

impl VerifierConfig {
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        VerifierConfig {
            issuer: Some(issuer.into()),
            audiences: vec![audience.into()],
            ..Default::default()
        }
    }

    /// Reject configurations that would silently accept too much.
    pub fn validate(&self) -> Result<()> {
        if self.issuer.as_deref().is_none_or(str::is_empty) && !self.skip_issuer_check {
            return Err(Error::config("the verifier needs an issuer (the `iss` your tokens carry); set skip_issuer_check only if you check it yourself"));
        }
        if self.audiences.iter().all(|a| a.is_empty()) && !self.skip_audience_check {
            return Err(Error::config("the verifier needs an audience (your API's identifier); set skip_audience_check only if tokens are audience-less by design"));
        }
        if self.max_token_bytes == 0 {
            return Err(Error::config("max_token_bytes must be positive"));
        }
        if self.leeway > Duration::from_secs(300) {
            return Err(Error::config(
                "leeway above 300 s is not allowed; fix the clocks instead",
            ));
        }
        if self.delegation.max_depth.is_some_and(|d| d > MAX_ACT_NESTING) {
            return Err(Error::config(format!(
                "max_delegation_depth above {MAX_ACT_NESTING} is not allowed (deeper act chains are refused as malformed)"
            )));
        }
        Ok(())
    }

    pub(crate) fn alg_allowed(&self, alg: Alg) -> bool {
        self.algorithms.is_empty() || self.algorithms.contains(&alg)
    }
}
