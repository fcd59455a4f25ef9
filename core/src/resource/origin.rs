//! The request's target URI as the client named it, which DPoP proofs sign (`htu`) and which a
//! server behind a proxy does not see: the proxy may terminate TLS, change the host, or strip a
//! path prefix. This is the most reported DPoP failure (keycloak #39332, okta SDKs, bluesky pds
//! #163), so the public origin is configuration, never guessed from headers a client can set:
//!
//! - `public_url` (`https://api.example.com/v1`): the target URI is its origin and path prefix
//!   followed by the path the server received. Forwarded headers are ignored.
//! - `trust_forwarded`: the scheme, host and prefix come from `Forwarded` (RFC 7239) or
//!   `X-Forwarded-Proto` / `-Host` / `-Prefix`, the first (client-facing) value of each, and only
//!   from peers in `trusted_proxies` (which the request options require with it). Turn it on only
//!   behind a proxy that overwrites those headers.
//! - Neither: the scheme of the accepted connection and the `Host` header.

use super::request::RequestParts;
use crate::util::quoted;
use crate::{Error, ErrorCode, Result};
use std::net::IpAddr;

/// An IP address or a CIDR range (`10.0.0.0/8`, `::1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpRange {
    base: IpAddr,
    bits: u8,
}

impl IpRange {
    pub fn parse(s: &str) -> Result<IpRange> {
        let bad = || {
            Error::config(format!(
                "trusted proxy {} is not an IP address or CIDR range",
                quoted(s)
            ))
        };
        let (addr, bits) = match s.trim().split_once('/') {
            Some((a, b)) => (a, Some(b.parse::<u8>().map_err(|_| bad())?)),
            None => (s.trim(), None),
        };
        let base: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max);
        if bits > max {
            return Err(bad());
        }
        Ok(IpRange { base, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let prefix = |a: u128, b: u128, width: u32| {
            let shift = width - self.bits as u32;
            shift >= width || (a >> shift) == (b >> shift)
        };
        match (self.base, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => prefix(u32::from(a) as u128, u32::from(b) as u128, 32),
            (IpAddr::V6(a), IpAddr::V6(b)) => prefix(u128::from(a), u128::from(b), 128),
            (IpAddr::V4(a), IpAddr::V6(b)) => b
                .to_ipv4_mapped()
                .is_some_and(|b| prefix(u32::from(a) as u128, u32::from(b) as u128, 32)),
            _ => false,
        }
    }
}

/// How the target URI of a request is found (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OriginPolicy {
    /// `scheme://host[:port]` and a path prefix without a trailing slash.
    public_url: Option<(String, String)>,
    pub trust_forwarded: bool,
    pub trusted_proxies: Vec<IpRange>,
}

fn invalid_request(why: String) -> Error {
    Error::new(ErrorCode::InvalidRequest, why)
}

/// A host as a header may carry it: a name, IPv4 or bracketed IPv6, an optional port.
fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_'))
}

fn valid_prefix(p: &str) -> bool {
    p.is_empty() || (p.starts_with('/') && !p.contains(['?', '#']) && !p.chars().any(|c| c.is_control() || c == ' '))
}

impl OriginPolicy {
    /// A policy with the resource's public URL (see the module documentation).
    pub fn with_public_url(mut self, url: &str) -> Result<OriginPolicy> {
        let u = super::uri::ResourceUri::parse(url)?;
        if u.query().is_some() {
            return Err(Error::config(format!(
                "public_url {} has a query; give scheme, host and path prefix",
                quoted(url)
            )));
        }
        self.public_url = Some((u.origin(), u.path().trim_end_matches('/').to_string()));
        Ok(self)
    }

    /// The public URL's origin and prefix, if configured.
    pub fn public_url(&self) -> Option<String> {
        self.public_url.as_ref().map(|(o, p)| format!("{o}{p}"))
    }

    /// Whether this peer may set the headers a proxy sets: always when no `trusted_proxies` are
    /// listed, else only when it is one of them.
    pub fn peer_trusted(&self, peer: Option<IpAddr>) -> bool {
        self.trusted_proxies.is_empty() || peer.is_some_and(|p| self.trusted_proxies.iter().any(|r| r.contains(p)))
    }

    /// Whether forwarded headers from this peer are believed.
    pub fn trusts(&self, peer: Option<IpAddr>) -> bool {
        self.trust_forwarded && self.peer_trusted(peer)
    }

    /// The absolute target URI of `req` (query included; the DPoP comparison drops it).
    pub fn target_uri(&self, req: &RequestParts<'_>) -> Result<String> {
        let target = req.target;
        // Absolute-form (a forward proxy's): keep only the path and query.
        let path = if let Some(rest) = target.split_once("://").map(|(_, r)| r) {
            rest.find('/').map_or("/", |i| &rest[i..])
        } else {
            target
        };
        if !path.starts_with('/') && path != "*" {
            return Err(invalid_request(format!(
                "the request target {} is not a path",
                quoted(target)
            )));
        }
        if let Some((origin, prefix)) = &self.public_url {
            return Ok(format!("{origin}{prefix}{path}"));
        }
        let first = |name: &str| {
            req.header(name)
                .map(|v| v.split(',').next().unwrap_or("").trim())
                .filter(|v| !v.is_empty())
        };
        let (mut scheme, mut host, mut prefix) = (req.scheme.to_ascii_lowercase(), None, "");
        if self.trusts(req.peer) {
            let forwarded = req.header("forwarded").map(|v| v.split(',').next().unwrap_or(""));
            let param = |name: &str| {
                forwarded.and_then(|f| {
                    f.split(';').find_map(|kv| {
                        let (k, v) = kv.trim().split_once('=')?;
                        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().trim_matches('"'))
                    })
                })
            };
            if let Some(p) = param("proto").or_else(|| first("x-forwarded-proto")) {
                scheme = p.to_ascii_lowercase();
            }
            host = param("host").or_else(|| first("x-forwarded-host"));
            prefix = first("x-forwarded-prefix").unwrap_or("").trim_end_matches('/');
        }
        if scheme != "http" && scheme != "https" {
            return Err(invalid_request(format!(
                "the request's scheme {} is not http or https",
                quoted(&scheme)
            )));
        }
        let host = host
            .or_else(|| first("host"))
            .or_else(|| first(":authority"))
            .ok_or_else(|| invalid_request("the request has no Host header".into()))?;
        if !valid_host(host) {
            return Err(invalid_request(format!(
                "the request's host {} is not a host name",
                quoted(host)
            )));
        }
        if !valid_prefix(prefix) {
            return Err(invalid_request(format!(
                "the forwarded path prefix {} is not a path",
                quoted(prefix)
            )));
        }
        Ok(format!("{scheme}://{}{prefix}{path}", host.to_ascii_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(target: &'a str, scheme: &'a str, headers: &[(&'a str, &'a str)], peer: &str) -> RequestParts<'a> {
        RequestParts {
            method: "GET",
            target,
            scheme,
            headers: headers.to_vec(),
            peer: peer.parse().ok(),
            client_certificate: None,
        }
    }

    #[test]
    fn without_configuration_the_connection_and_host_decide() {
        let p = OriginPolicy::default();
        let r = req(
            "/mcp?x=1",
            "http",
            &[("Host", "API.example:8080"), ("X-Forwarded-Proto", "https")],
            "10.0.0.1",
        );
        assert_eq!(p.target_uri(&r).unwrap(), "http://api.example:8080/mcp?x=1");
        let r = req("https://ignored/mcp", "https", &[("host", "api.example")], "");
        assert_eq!(p.target_uri(&r).unwrap(), "https://api.example/mcp");
        for bad in [
            req("/mcp", "http", &[], ""),
            req("/mcp", "http", &[("Host", "a b")], ""),
            req("/mcp", "http", &[("Host", "evil\"/x")], ""),
            req("mcp", "http", &[("Host", "a")], ""),
            req("/mcp", "gopher", &[("Host", "a")], ""),
        ] {
            assert_eq!(
                p.target_uri(&bad).unwrap_err().code(),
                ErrorCode::InvalidRequest,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_public_url_wins_over_every_header() {
        let p = OriginPolicy::default()
            .with_public_url("HTTPS://api.example.com:443/v1/")
            .unwrap();
        let r = req(
            "/mcp?x",
            "http",
            &[("Host", "internal:8080"), ("X-Forwarded-Host", "evil")],
            "",
        );
        assert_eq!(p.target_uri(&r).unwrap(), "https://api.example.com/v1/mcp?x");
        assert_eq!(p.public_url().as_deref(), Some("https://api.example.com/v1"));
        assert!(OriginPolicy::default().with_public_url("https://a/?q").is_err());
        assert!(OriginPolicy::default().with_public_url("ftp://a/").is_err());
    }

    #[test]
    fn forwarded_headers_only_from_trusted_proxies() {
        let headers = [
            ("Host", "internal:8080"),
            ("X-Forwarded-Proto", "https, http"),
            ("X-Forwarded-Host", "api.example.com, internal"),
            ("X-Forwarded-Prefix", "/v1/"),
        ];
        let mut p = OriginPolicy {
            trust_forwarded: true,
            ..Default::default()
        };
        assert_eq!(
            p.target_uri(&req("/mcp", "http", &headers, "10.1.2.3")).unwrap(),
            "https://api.example.com/v1/mcp"
        );
        p.trusted_proxies = vec![IpRange::parse("10.0.0.0/8").unwrap(), IpRange::parse("::1").unwrap()];
        assert_eq!(
            p.target_uri(&req("/mcp", "http", &headers, "10.1.2.3")).unwrap(),
            "https://api.example.com/v1/mcp"
        );
        assert_eq!(
            p.target_uri(&req("/mcp", "http", &headers, "::1")).unwrap(),
            "https://api.example.com/v1/mcp"
        );
        // Another peer: its headers are not believed.
        assert_eq!(
            p.target_uri(&req("/mcp", "http", &headers, "192.168.0.1")).unwrap(),
            "http://internal:8080/mcp"
        );
        assert_eq!(
            p.target_uri(&req("/mcp", "http", &headers, "")).unwrap(),
            "http://internal:8080/mcp"
        );
        // RFC 7239 Forwarded wins over the X- headers.
        let rfc = [
            ("Host", "internal"),
            (
                "Forwarded",
                "for=1.2.3.4;proto=https;host=\"api.example.com\", for=10.0.0.2",
            ),
            ("X-Forwarded-Host", "other"),
        ];
        assert_eq!(
            p.target_uri(&req("/a", "http", &rfc, "10.0.0.2")).unwrap(),
            "https://api.example.com/a"
        );
        let bad_prefix = [("Host", "a"), ("X-Forwarded-Prefix", "v1?x")];
        assert!(p.target_uri(&req("/a", "http", &bad_prefix, "10.0.0.2")).is_err());
    }

    #[test]
    fn ip_ranges() {
        let r = IpRange::parse("192.168.0.0/16").unwrap();
        assert!(r.contains("192.168.255.1".parse().unwrap()));
        assert!(!r.contains("192.169.0.1".parse().unwrap()));
        assert!(r.contains("::ffff:192.168.1.1".parse().unwrap()));
        assert!(IpRange::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(IpRange::parse("fd00::/8").unwrap().contains("fd12::1".parse().unwrap()));
        for bad in ["10.0.0.0/33", "x", "10.0.0.0/", "::1/129"] {
            assert!(IpRange::parse(bad).is_err(), "{bad}");
        }
    }
}
