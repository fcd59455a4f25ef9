//! A protected resource's identifier (RFC 8707 §2, RFC 9728 §1.2): its canonical form, and the
//! three ways a token's `aud` may be matched against it ([`AudienceMatch`]).
//!
//! Parsed without the `url` crate (a fifth of the wasm module): an http(s) URL split into scheme,
//! authority, path and query, which is all the comparisons need.

use crate::util::quoted;
use crate::{Error, Result};

/// An http(s) resource URL in canonical form: scheme and host lower-case, the default port dropped,
/// no fragment. The path and query are kept as written (a trailing slash can be significant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceUri {
    scheme: String,
    authority: String,
    path: String,
    query: Option<String>,
}

impl ResourceUri {
    /// Parse an http(s) URL. Refused: another scheme, no host, credentials (`user@host`), a space
    /// or control character. A fragment is dropped (RFC 9728 §2: the resource has none).
    pub fn parse(raw: &str) -> Result<ResourceUri> {
        // A URL with a user-info part may carry a password: not echoed.
        let shown = if raw.contains('@') {
            "(not shown: it has an @)".to_string()
        } else {
            quoted(raw)
        };
        let not_url = |why: &str| Error::config(format!("resource {shown} is not an http(s) URL: {why}"));
        if raw.chars().any(|c| c.is_control() || c == ' ') {
            return Err(not_url("it contains a space or control character"));
        }
        let (scheme, rest) = raw.split_once("://").ok_or_else(|| not_url("no scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => ":443",
            "http" => ":80",
            _ => return Err(not_url("the scheme is not http or https")),
        };
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.is_empty() {
            return Err(not_url("no host"));
        }
        if authority.contains('@') {
            return Err(not_url("it carries credentials"));
        }
        let authority = authority.to_ascii_lowercase();
        let authority = authority.strip_suffix(default_port).unwrap_or(&authority).to_string();
        let (path, query) = match tail.split_once('?') {
            Some((p, q)) => (p, Some(q.to_string())),
            None => (tail, None),
        };
        Ok(ResourceUri {
            scheme,
            authority,
            path: path.to_string(),
            query,
        })
    }

    /// `https://host[:port]`.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }

    /// The path as written (`""` when there is none).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query, without its `?` (`None` when there is none).
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// Whether the host is this machine (`localhost`, `127.0.0.1`, `[::1]`), where plain http is
    /// allowed for development.
    pub fn is_loopback(&self) -> bool {
        let host = self
            .authority
            .rsplit_once(':')
            .filter(|(h, p)| !h.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        let host = host.map_or(self.authority.as_str(), |(h, _)| h);
        matches!(host, "localhost" | "127.0.0.1" | "[::1]")
    }

    /// Whether the scheme is https.
    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    /// The canonical text: `scheme://authority path [?query]`.
    pub fn canonical(&self) -> String {
        match &self.query {
            Some(q) => format!("{}{}?{q}", self.origin(), self.path),
            None => format!("{}{}", self.origin(), self.path),
        }
    }

    /// The same resource, a trailing slash on the path aside (`https://x/mcp` and `https://x/mcp/`;
    /// `https://x` and `https://x/`).
    fn same_ignoring_trailing_slash(&self, other: &ResourceUri) -> bool {
        self.origin() == other.origin()
            && self.query == other.query
            && self.path.strip_suffix('/').unwrap_or(&self.path) == other.path.strip_suffix('/').unwrap_or(&other.path)
    }

    /// Whether `self` names `other` or a resource above it: the same origin and a path that is a
    /// prefix of `other`'s at a `/` boundary (`https://x/` and `https://x/api` cover `https://x/api/mcp`;
    /// `https://x/ap` does not). A URL with a query covers only itself.
    fn covers(&self, other: &ResourceUri) -> bool {
        if self.origin() != other.origin() {
            return false;
        }
        if self.query.is_some() || other.query.is_some() {
            return self.query == other.query && self.path == other.path;
        }
        let base = self.path.strip_suffix('/').unwrap_or(&self.path);
        match other.path.strip_prefix(base) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }
}

/// The canonical form of a resource URL (see [`ResourceUri`]).
pub fn canonical_resource(raw: &str) -> Result<String> {
    Ok(ResourceUri::parse(raw)?.canonical())
}

/// How a token's `aud` values are matched against the resource's configured audiences. Chosen
/// explicitly: the specs and the SDKs disagree, and a silent choice would surprise either side. A
/// token without `aud` is refused under every policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AudienceMatch {
    /// Byte-for-byte equal (RFC 9728 §3.3, RFC 9068 §4). The default.
    #[default]
    Exact,
    /// The same URL after canonicalisation (scheme and host case, default port), a trailing slash
    /// aside: authorization servers differ in whether they keep one (the Go MCP SDK's rule).
    /// Audiences that are not http(s) URLs must be equal.
    TrailingSlash,
    /// The token's audience is the configured URL or a URL above it on the same origin, at a `/`
    /// boundary: a token for `https://api.example/` is accepted by `https://api.example/mcp`
    /// (the Python MCP SDK's `check_resource_allowed`). Audiences that are not http(s) URLs must
    /// be equal. Each policy accepts everything the one before it does.
    PathPrefix,
}

impl AudienceMatch {
    /// Every policy's name, as the options spell it.
    pub const NAMES: [&'static str; 3] = ["exact", "trailing_slash", "path_prefix"];

    /// The policy an option names.
    pub fn parse(name: &str) -> Result<AudienceMatch> {
        match name {
            "exact" => Ok(AudienceMatch::Exact),
            "trailing_slash" => Ok(AudienceMatch::TrailingSlash),
            "path_prefix" => Ok(AudienceMatch::PathPrefix),
            other => Err(Error::config(format!(
                "audience_match {} is not one of \"exact\", \"trailing_slash\", \"path_prefix\"",
                quoted(other)
            ))),
        }
    }

    /// The option's name of this policy.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Whether the token audience `aud` is accepted for the configured audience `expected`.
    pub fn matches(self, expected: &str, aud: &str) -> bool {
        if expected == aud {
            return true;
        }
        let urls = || Some((ResourceUri::parse(expected).ok()?, ResourceUri::parse(aud).ok()?));
        match self {
            AudienceMatch::Exact => false,
            AudienceMatch::TrailingSlash => urls().is_some_and(|(e, a)| e.same_ignoring_trailing_slash(&a)),
            AudienceMatch::PathPrefix => urls().is_some_and(|(e, a)| a.covers(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        for (raw, canonical) in [
            ("HTTPS://MCP.Example.COM/MCP", "https://mcp.example.com/MCP"),
            ("https://mcp.example.com:443/mcp#frag", "https://mcp.example.com/mcp"),
            ("http://127.0.0.1:80", "http://127.0.0.1"),
            ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/"),
            ("https://x.example/a?b=c#d", "https://x.example/a?b=c"),
            ("https://[::1]:8443/mcp", "https://[::1]:8443/mcp"),
        ] {
            assert_eq!(canonical_resource(raw).unwrap(), canonical, "{raw}");
        }
        for bad in [
            "mcp.example.com",
            "ftp://x",
            "https://",
            "https://u:p@x/",
            "https://x/a b",
            "https://x/\n",
        ] {
            assert!(canonical_resource(bad).is_err(), "{bad}");
        }
        let e = canonical_resource("https://user:hunter2@x/").unwrap_err();
        assert!(
            e.message().contains("credentials") && !e.message().contains("hunter2"),
            "{e:?}"
        );
        assert!(ResourceUri::parse("http://localhost:3000/mcp").unwrap().is_loopback());
        assert!(ResourceUri::parse("http://[::1]/").unwrap().is_loopback());
        assert!(!ResourceUri::parse("http://localhost.evil/").unwrap().is_loopback());
    }

    #[test]
    fn audience_policies() {
        use AudienceMatch::*;
        let cases: [(&str, &str, [bool; 3]); 12] = [
            // expected, aud, [exact, trailing_slash, path_prefix]
            ("https://x/mcp", "https://x/mcp", [true, true, true]),
            ("https://x/mcp", "https://x/mcp/", [false, true, true]),
            ("https://x/mcp/", "https://x/mcp", [false, true, true]),
            ("https://x/mcp", "HTTPS://X:443/mcp", [false, true, true]),
            ("https://x", "https://x/", [false, true, true]),
            ("https://x/api/mcp", "https://x/", [false, false, true]),
            ("https://x/api/mcp", "https://x/api", [false, false, true]),
            ("https://x/api/mcp", "https://x/ap", [false, false, false]),
            ("https://x/api", "https://x/api/mcp", [false, false, false]),
            ("https://x/mcp", "https://y/mcp", [false, false, false]),
            ("https://x/mcp", "http://x/mcp", [false, false, false]),
            ("api://orders", "api://orders/", [false, false, false]),
        ];
        for (expected, aud, want) in cases {
            for (policy, want) in [Exact, TrailingSlash, PathPrefix].into_iter().zip(want) {
                assert_eq!(policy.matches(expected, aud), want, "{policy:?} {expected} {aud}");
            }
        }
        assert!(PathPrefix.matches("https://x/a?q=1", "https://x/a?q=1"));
        assert!(!PathPrefix.matches("https://x/a/b?q=1", "https://x/a"));
        for name in AudienceMatch::NAMES {
            assert_eq!(AudienceMatch::parse(name).unwrap().name(), name);
        }
        assert!(AudienceMatch::parse("prefix").is_err());
    }
}
