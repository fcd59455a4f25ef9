//! SPIFFE IDs and trust domains (the SPIFFE ID standard, `standards/SPIFFE-ID.md`):
//! `spiffe://<trust domain>[/<segment>...]`, trust-domain names of `[a-z0-9._-]`, path segments of
//! `[A-Za-z0-9._-]` that are neither empty, `.` nor `..`, no query, fragment, port or user info, at
//! most 2048 bytes. Parsing is strict (no normalisation): an ID either is canonical or is refused.

use crate::util::quoted;
use crate::{Error, ErrorCode, Result};
use std::fmt;

/// Longest SPIFFE ID accepted, in bytes (the standard's URI limit).
pub const MAX_SPIFFE_ID_BYTES: usize = 2048;
/// Longest trust-domain name accepted (a DNS name's limit).
pub const MAX_TRUST_DOMAIN_BYTES: usize = 255;

const SCHEME: &str = "spiffe://";

/// A trust domain's name, such as `example.org`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrustDomain(String);

impl TrustDomain {
    /// A trust-domain name (`example.org`) or its SPIFFE ID (`spiffe://example.org`).
    pub fn parse(s: &str) -> Result<TrustDomain> {
        let name = s.strip_prefix(SCHEME).unwrap_or(s);
        check_trust_domain(name).map_err(|why| invalid(s, &why))?;
        Ok(TrustDomain(name.to_string()))
    }
    pub fn name(&self) -> &str {
        &self.0
    }
    /// The trust domain's own SPIFFE ID, `spiffe://<name>`.
    pub fn id_string(&self) -> String {
        format!("{SCHEME}{}", self.0)
    }
}

impl fmt::Display for TrustDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A SPIFFE ID: a trust domain and a path (empty for the trust domain itself).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpiffeId {
    /// The whole ID, as parsed (it is canonical, or it would have been refused).
    id: String,
    /// Where the path starts in `id` (`id.len()` when there is none).
    path_at: usize,
}

impl SpiffeId {
    /// Parse a SPIFFE ID strictly; anything else is `invalid_spiffe_id`.
    pub fn parse(s: &str) -> Result<SpiffeId> {
        if s.len() > MAX_SPIFFE_ID_BYTES {
            return Err(Error::new(
                ErrorCode::InvalidSpiffeId,
                format!(
                    "a SPIFFE ID is at most {MAX_SPIFFE_ID_BYTES} bytes; this one is {}",
                    s.len()
                ),
            ));
        }
        let Some(rest) = s.strip_prefix(SCHEME) else {
            return Err(invalid(s, "it does not start with spiffe:// (lower case)"));
        };
        let path_at = rest.find('/').unwrap_or(rest.len());
        check_trust_domain(&rest[..path_at]).map_err(|why| invalid(s, &why))?;
        check_path(&rest[path_at..]).map_err(|why| invalid(s, &why))?;
        Ok(SpiffeId {
            id: s.to_string(),
            path_at: SCHEME.len() + path_at,
        })
    }

    /// The trust domain's name (without the scheme).
    pub fn trust_domain_name(&self) -> &str {
        &self.id[SCHEME.len()..self.path_at]
    }
    pub fn trust_domain(&self) -> TrustDomain {
        TrustDomain(self.trust_domain_name().to_string())
    }
    /// The path, `""` or `/seg[/seg...]`.
    pub fn path(&self) -> &str {
        &self.id[self.path_at..]
    }
    pub fn as_str(&self) -> &str {
        &self.id
    }
    /// Whether the ID belongs to `td`.
    pub fn is_member_of(&self, td: &TrustDomain) -> bool {
        self.trust_domain_name() == td.name()
    }
}

impl fmt::Display for SpiffeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

fn invalid(s: &str, why: &str) -> Error {
    Error::new(
        ErrorCode::InvalidSpiffeId,
        format!("{} is not a SPIFFE ID: {why}", quoted(s)),
    )
}

fn check_trust_domain(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        return Err("the trust domain is empty".into());
    }
    if name.len() > MAX_TRUST_DOMAIN_BYTES {
        return Err(format!(
            "the trust domain is longer than {MAX_TRUST_DOMAIN_BYTES} bytes"
        ));
    }
    match name
        .bytes()
        .find(|b| !matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_'))
    {
        None => Ok(()),
        Some(b':') => Err("a trust domain has no port or user info".into()),
        Some(b'?' | b'#') => Err("a SPIFFE ID has no query or fragment".into()),
        Some(b) if b.is_ascii_uppercase() => Err("the trust domain must be lower case".into()),
        Some(_) => Err("the trust domain may hold only a-z, 0-9, '.', '-' and '_'".into()),
    }
}

fn check_path(path: &str) -> std::result::Result<(), String> {
    if path.is_empty() {
        return Ok(());
    }
    for segment in path[1..].split('/') {
        match segment {
            "" => return Err("the path has an empty segment or a trailing '/'".into()),
            "." | ".." => return Err("the path has a '.' or '..' segment".into()),
            _ => {}
        }
        if let Some(b) = segment
            .bytes()
            .find(|b| !matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_'))
        {
            return Err(if b == b'?' || b == b'#' {
                "a SPIFFE ID has no query or fragment".into()
            } else {
                "a path segment may hold only letters, digits, '.', '-' and '_'".into()
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_canonical_ids() {
        let id = SpiffeId::parse("spiffe://example.org/agents/ml-training").unwrap();
        assert_eq!(id.trust_domain_name(), "example.org");
        assert_eq!(id.path(), "/agents/ml-training");
        let td = SpiffeId::parse("spiffe://example.org").unwrap();
        assert_eq!(td.path(), "");
        assert!(id.is_member_of(&td.trust_domain()));
        assert_eq!(
            TrustDomain::parse("spiffe://example.org").unwrap().name(),
            "example.org"
        );
    }

    #[test]
    fn refuses_what_the_standard_refuses() {
        for bad in [
            "",
            "spiffe://",
            "https://example.org/a",
            "SPIFFE://example.org/a",
            "spiffe://Example.org/a",
            "spiffe://example.org:8080/a",
            "spiffe://user@example.org/a",
            "spiffe://example.org/",
            "spiffe://example.org//a",
            "spiffe://example.org/a/",
            "spiffe://example.org/./a",
            "spiffe://example.org/a/..",
            "spiffe://example.org/a?b",
            "spiffe://example.org/a#b",
            "spiffe://example.org/a%20b",
            "spiffe:///a",
        ] {
            let e = SpiffeId::parse(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidSpiffeId, "{bad}");
        }
        let long = format!("spiffe://example.org/{}", "a".repeat(MAX_SPIFFE_ID_BYTES));
        assert_eq!(SpiffeId::parse(&long).unwrap_err().code(), ErrorCode::InvalidSpiffeId);
    }
}
