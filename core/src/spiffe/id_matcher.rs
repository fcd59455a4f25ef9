//! Authorisation on SPIFFE IDs: which workloads a service accepts. A matcher is a list of patterns,
//! any of which may match:
//! - `spiffe://example.org/agents/ml-training`: exactly this ID;
//! - `spiffe://example.org`: any ID in the trust domain;
//! - `spiffe://example.org/agents/*`: any ID below `/agents/` (whole segments: `/agents-x/y` is
//!   not below `/agents/`, nor is `/agents` itself).

use super::id::{SpiffeId, TrustDomain};
use crate::util::quoted;
use crate::{Error, ErrorCode, Result};
use std::fmt;

/// Most patterns one matcher holds.
pub const MAX_PATTERNS: usize = 1000;

/// One pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdPattern {
    Exact(SpiffeId),
    TrustDomain(TrustDomain),
    /// The trust domain and a path prefix that ends with `/`.
    PathPrefix(TrustDomain, String),
}

impl IdPattern {
    pub fn parse(s: &str) -> Result<IdPattern> {
        if let Some(base) = s.strip_suffix("/*") {
            let id = SpiffeId::parse(base).map_err(|e| pattern_error(s, &e))?;
            return Ok(IdPattern::PathPrefix(id.trust_domain(), format!("{}/", id.path())));
        }
        let id = SpiffeId::parse(s).map_err(|e| pattern_error(s, &e))?;
        Ok(if id.path().is_empty() {
            IdPattern::TrustDomain(id.trust_domain())
        } else {
            IdPattern::Exact(id)
        })
    }

    pub fn matches(&self, id: &SpiffeId) -> bool {
        match self {
            IdPattern::Exact(want) => want == id,
            IdPattern::TrustDomain(td) => id.is_member_of(td),
            IdPattern::PathPrefix(td, prefix) => id.is_member_of(td) && id.path().starts_with(prefix.as_str()),
        }
    }
}

impl fmt::Display for IdPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdPattern::Exact(id) => write!(f, "{id}"),
            IdPattern::TrustDomain(td) => write!(f, "spiffe://{td}"),
            IdPattern::PathPrefix(td, prefix) => write!(f, "spiffe://{td}{prefix}*"),
        }
    }
}

fn pattern_error(s: &str, e: &Error) -> Error {
    Error::config(format!(
        "{} is not a SPIFFE ID pattern (an ID, a trust domain spiffe://td, or a prefix spiffe://td/path/*): {}",
        quoted(s),
        e.message()
    ))
}

/// Patterns any of which admits an ID.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpiffeIdMatcher {
    patterns: Vec<IdPattern>,
}

impl SpiffeIdMatcher {
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<SpiffeIdMatcher> {
        if patterns.len() > MAX_PATTERNS {
            return Err(Error::config(format!("at most {MAX_PATTERNS} SPIFFE ID patterns")));
        }
        Ok(SpiffeIdMatcher {
            patterns: patterns
                .iter()
                .map(|p| IdPattern::parse(p.as_ref()))
                .collect::<Result<_>>()?,
        })
    }
    pub fn patterns(&self) -> &[IdPattern] {
        &self.patterns
    }
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
    pub fn matches(&self, id: &SpiffeId) -> bool {
        self.patterns.iter().any(|p| p.matches(id))
    }
    /// `Ok` when a pattern admits `id`, else `spiffe_id_not_allowed` naming it.
    pub fn check(&self, id: &SpiffeId) -> Result<()> {
        if self.matches(id) {
            return Ok(());
        }
        Err(Error::new(
            ErrorCode::SpiffeIdNotAllowed,
            format!(
                "the SPIFFE ID {} is not allowed here (allowed: {})",
                quoted(id.as_str()),
                self.patterns
                    .iter()
                    .take(5)
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> SpiffeId {
        SpiffeId::parse(s).unwrap()
    }

    #[test]
    fn exact_trust_domain_and_prefix() {
        let m = SpiffeIdMatcher::parse(&[
            "spiffe://example.org/agents/*",
            "spiffe://partner.test",
            "spiffe://example.org/billing",
        ])
        .unwrap();
        assert!(m.matches(&id("spiffe://example.org/agents/ml-training")));
        assert!(m.matches(&id("spiffe://example.org/agents/a/b")));
        assert!(!m.matches(&id("spiffe://example.org/agents")));
        assert!(!m.matches(&id("spiffe://example.org/agents-x/y")));
        assert!(m.matches(&id("spiffe://partner.test/anything")));
        assert!(m.matches(&id("spiffe://example.org/billing")));
        assert!(!m.matches(&id("spiffe://example.org/billing/x")));
        assert!(!m.matches(&id("spiffe://example.org.evil/agents/a")));
        let e = m.check(&id("spiffe://other.test/a")).unwrap_err();
        assert_eq!(e.code(), ErrorCode::SpiffeIdNotAllowed);
        assert!(e.message().contains("spiffe://example.org/agents/*"), "{}", e.message());
    }

    #[test]
    fn bad_patterns_are_config_errors() {
        for bad in [
            "example.org",
            "spiffe://example.org/*/x",
            "spiffe://example.org/a*",
            "spiffe://EX.org",
        ] {
            assert_eq!(
                SpiffeIdMatcher::parse(&[bad]).unwrap_err().code(),
                ErrorCode::ConfigError,
                "{bad}"
            );
        }
    }
}
