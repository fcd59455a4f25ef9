//! Plain-data HTTP requests and responses, and the [`Transport`] trait the edges implement
//! (reqwest natively, `fetch` in wasm). The core never opens a socket.

use crate::runtime::{BoxFut, MaybeSend};
use crate::{Error, ErrorCode, Result};
use std::time::Duration;

/// Largest response body the core accepts (token responses, metadata, JWKS).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// An HTTP request as data. `Debug` redacts the `Authorization` header and the body, which may
/// carry credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn get(url: impl Into<String>) -> Self {
        HttpRequest {
            method: Method::Get,
            url: url.into(),
            headers: vec![("accept".into(), "application/json".into())],
            body: Vec::new(),
        }
    }
    /// The first header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                if k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("dpop") {
                    (k.as_str(), "***")
                } else {
                    (k.as_str(), v.as_str())
                }
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

/// An HTTP response as data.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn new(status: u16, headers: Vec<(String, String)>, body: impl Into<Vec<u8>>) -> Self {
        HttpResponse {
            status,
            headers,
            body: body.into(),
        }
    }
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        HttpResponse::new(
            status,
            vec![("content-type".into(), "application/json".into())],
            body.to_string(),
        )
    }
    /// The first header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// `Retry-After` as a duration (delta-seconds; an HTTP-date is converted against `now_ms`).
    pub fn retry_after(&self, now_ms: i64) -> Option<Duration> {
        parse_retry_after(self.header("retry-after")?, now_ms)
    }
    /// `Cache-Control: max-age`, unless `no-store`/`no-cache` (then zero).
    pub fn max_age(&self) -> Option<Duration> {
        parse_max_age(self.header("cache-control")?)
    }
    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }
}

/// Sends requests. Implementations enforce timeouts and size limits and map failures to
/// `network_error` / `timeout`; they never include request bodies in errors.
pub trait Transport: MaybeSend {
    fn send(&self, request: HttpRequest) -> BoxFut<'static, Result<HttpResponse>>;
}

/// Parse `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an IMF-fixdate.
pub fn parse_retry_after(v: &str, now_ms: i64) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(86_400)));
    }
    let at = parse_http_date(v)?;
    let delta = at * 1000 - now_ms;
    Some(Duration::from_millis(delta.clamp(0, 86_400_000) as u64))
}

/// Parse an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) into Unix seconds.
pub fn parse_http_date(v: &str) -> Option<i64> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" {
        return None;
    }
    let day: i64 = parts[1].parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[2])? as i64
        + 1;
    let year: i64 = parts[3].parse().ok()?;
    let hms: Vec<i64> = parts[4].split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    if hms.len() != 3 || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2])
}

/// `Cache-Control` → max-age. `no-store`/`no-cache` → zero.
pub fn parse_max_age(v: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in v.split(',') {
        let d = directive.trim().to_ascii_lowercase();
        if d == "no-store" || d == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(n) = d.strip_prefix("max-age=") {
            max_age = n.trim_matches('"').parse::<u64>().ok().map(Duration::from_secs);
        }
    }
    max_age
}

/// Refuse plain `http://` except to loopback hosts, unless `allow_insecure` is set.
/// Only `http` and `https` schemes are accepted.
pub fn check_url(raw: &str, allow_insecure: bool, what: &str) -> Result<url::Url> {
    let u = url::Url::parse(raw).map_err(|e| Error::config(format!("{what} {raw:?} is not a valid URL ({e})")))?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err(Error::config(format!(
            "{what} must not contain credentials; pass them as client_id/client_secret"
        )));
    }
    match u.scheme() {
        "https" => Ok(u),
        "http" if allow_insecure || is_loopback(&u) => Ok(u),
        "http" => Err(Error::new(
            ErrorCode::InsecureTransport,
            format!("{what} {raw} uses plain http to a non-loopback host; use https, or opt in with allow_insecure_http for a trusted network"),
        )),
        s => Err(Error::config(format!("{what} has unsupported scheme {s:?}; use https"))),
    }
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7", 0), Some(Duration::from_secs(7)));
        // 1994-11-06T08:49:37Z = 784111777
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", 784_111_777_000),
            Some(Duration::from_secs(10))
        );
        assert_eq!(parse_retry_after("soon", 0), None);
    }

    #[test]
    fn max_age_forms() {
        assert_eq!(parse_max_age("public, max-age=600"), Some(Duration::from_secs(600)));
        assert_eq!(parse_max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(parse_max_age("public"), None);
    }

    #[test]
    fn url_policy() {
        assert!(check_url("https://auth.example.com/oauth/token", false, "token_url").is_ok());
        assert!(check_url("http://127.0.0.1:8080/oauth/token", false, "token_url").is_ok());
        assert!(check_url("http://localhost:1/x", false, "token_url").is_ok());
        assert!(check_url("http://[::1]:1/x", false, "token_url").is_ok());
        let e = check_url("http://auth.example.com/oauth/token", false, "token_url").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InsecureTransport);
        assert!(check_url("http://auth.example.com/oauth/token", true, "token_url").is_ok());
        assert_eq!(
            check_url("ftp://x/", true, "token_url").unwrap_err().code(),
            ErrorCode::ConfigError
        );
        assert_eq!(
            check_url("https://u:p@x/", true, "token_url").unwrap_err().code(),
            ErrorCode::ConfigError
        );
        assert!(check_url("http://localhost.evil.com/x", false, "t").is_err());
    }

    #[test]
    fn request_debug_redacts() {
        let r = HttpRequest {
            method: Method::Post,
            url: "https://x/".into(),
            headers: vec![("Authorization".into(), "Basic c2VjcmV0".into())],
            body: b"client_secret=hunter2".to_vec(),
        };
        let s = format!("{r:?}");
        assert!(!s.contains("c2VjcmV0") && !s.contains("hunter2"), "{s}");
    }
}
