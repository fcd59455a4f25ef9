//! Plain-data HTTP requests and responses, and the [`Transport`] trait the edges implement
//! (reqwest natively, `fetch` in wasm). The core never opens a socket.

use crate::runtime::{BoxFut, MaybeSend};
use crate::util::quoted;
use crate::{Error, ErrorCode, Result};
use std::time::Duration;

/// Largest response body the core accepts (token responses, metadata, JWKS).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    /// The management API's methods (RFC 9110 §9.3.4, §9.3.5; RFC 5789).
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
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
    let delta = (at * 1000).saturating_sub(now_ms);
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
    // Bounded fields also keep the arithmetic below from overflowing (a year of 10^17 did).
    if hms.len() != 3
        || !(1..=31).contains(&day)
        || !(0..=9999).contains(&year)
        || !(0..24).contains(&hms[0])
        || !(0..60).contains(&hms[1])
        || !(0..=60).contains(&hms[2])
    {
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
pub fn check_url(raw: &str, allow_insecure: bool, what: &str) -> Result<()> {
    let u = parse_url(raw).map_err(|e| {
        // A URL with a user-info part may carry a password: not echoed.
        let shown = if raw.contains('@') {
            "(not shown: it has an @)".to_string()
        } else {
            quoted(raw)
        };
        Error::config(format!("{what} {shown} is not a valid URL ({e})"))
    })?;
    if u.credentials {
        return Err(Error::config(format!(
            "{what} must not contain credentials; pass them as client_id/client_secret"
        )));
    }
    match u.scheme.as_str() {
        "https" => Ok(()),
        "http" if allow_insecure || u.loopback => Ok(()),
        "http" => Err(Error::new(
            ErrorCode::InsecureTransport,
            format!("{what} {raw} uses plain http to a non-loopback host; use https, or opt in with allow_insecure_http for a trusted network"),
        )),
        s => Err(Error::config(format!("{what} has unsupported scheme {}; use https", quoted(s)))),
    }
}

/// What `check_url` needs of a URL.
#[derive(Debug, PartialEq, Eq)]
struct UrlFacts {
    scheme: String,
    credentials: bool,
    loopback: bool,
}

/// Native builds parse with the `url` crate (WHATWG URL parsing).
#[cfg(not(target_arch = "wasm32"))]
fn parse_url(raw: &str) -> std::result::Result<UrlFacts, String> {
    let u = url::Url::parse(raw).map_err(|e| e.to_string())?;
    let loopback = match u.host() {
        Some(url::Host::Domain(d)) => is_loopback_name(d),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    Ok(UrlFacts {
        scheme: u.scheme().to_string(),
        credentials: !u.username().is_empty() || u.password().is_some(),
        loopback,
    })
}

/// wasm builds: the `url` crate (with its IDNA tables) would be a fifth of the module, and only
/// the scheme, credentials and host matter here; `fetch` parses the URL for real. Kept in step
/// with the `url` crate by `light_url_parser_agrees_with_the_url_crate`.
#[cfg(target_arch = "wasm32")]
fn parse_url(raw: &str) -> std::result::Result<UrlFacts, String> {
    parse_url_light(raw)
}

#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
fn parse_url_light(raw: &str) -> std::result::Result<UrlFacts, String> {
    let raw = raw.trim_matches(|c: char| c <= ' ');
    let (scheme, rest) = raw.split_once(':').ok_or("relative URL without a base")?;
    if scheme.is_empty()
        || !scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return Err("relative URL without a base".into());
    }
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Ok(UrlFacts {
            scheme,
            credentials: false,
            loopback: false,
        });
    }
    let rest = rest.trim_start_matches(['/', '\\']);
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or("");
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let host = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("invalid IPv6 address")?;
        let ip: std::net::Ipv6Addr = h.parse().map_err(|_| "invalid IPv6 address")?;
        if !(after.is_empty() || after.starts_with(':')) {
            return Err("invalid IPv6 address".into());
        }
        check_port(after.strip_prefix(':'))?;
        return Ok(UrlFacts {
            scheme,
            credentials: userinfo.is_some_and(|u| !u.is_empty() && u != ":"),
            loopback: ip.is_loopback(),
        });
    } else {
        let (h, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        };
        check_port(port)?;
        h
    };
    if host.is_empty() {
        return Err("empty host".into());
    }
    if host.chars().any(|c| c.is_control() || " #%/:<>?@[\\]^|".contains(c)) {
        return Err("invalid domain character".into());
    }
    if !host.is_ascii() {
        return Err("non-ASCII host names are not supported here; use the punycode (xn--) form".into());
    }
    let host = host.to_ascii_lowercase();
    let loopback = match host.parse::<std::net::Ipv4Addr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => is_loopback_name(&host),
    };
    Ok(UrlFacts {
        scheme,
        credentials: userinfo.is_some_and(|u| !u.is_empty() && u != ":"),
        loopback,
    })
}

#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
fn check_port(port: Option<&str>) -> std::result::Result<(), String> {
    match port {
        None | Some("") => Ok(()),
        Some(p)
            if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u32>().is_ok_and(|n| n < 65536) =>
        {
            Ok(())
        }
        Some(_) => Err("invalid port number".into()),
    }
}

fn is_loopback_name(d: &str) -> bool {
    d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A URL that fails to parse is quoted in the message, unless it has an `@` (user info may
    /// hold a password): then it is not shown at all.
    #[test]
    fn invalid_url_messages_never_echo_user_info() {
        let e = check_url("https://user:hunter2@exa mple.com/token", false, "token_url").unwrap_err();
        assert!(!e.message().contains("hunter2"), "{}", e.message());
        assert!(e.message().contains("not shown"), "{}", e.message());
        let e = check_url("https://exa mple.com/\u{202e}x", false, "token_url").unwrap_err();
        assert!(
            e.message()
                .starts_with("token_url \"https://exa mple.com/\\u{202e}x\" is not a valid URL"),
            "{}",
            e.message()
        );
        let e = check_url("ftp://example.com/", false, "jwks_uri").unwrap_err();
        assert_eq!(e.message(), "jwks_uri has unsupported scheme \"ftp\"; use https");
    }

    /// The wasm build's light parser decides scheme, credentials and loopback like the `url`
    /// crate for every URL here (including the awkward ones); it may refuse a few odd forms the
    /// url crate accepts (IPv4 shorthands, non-ASCII hosts), never the other way round.
    #[test]
    fn light_url_parser_agrees_with_the_url_crate() {
        let same = [
            "https://auth.example.com/oauth/token",
            "HTTPS://Auth.Example.COM:443/x?y#z",
            "http://127.0.0.1:8080/oauth/token",
            "http://127.255.0.9/",
            "http://localhost:1/x",
            "http://LOCALHOST./x",
            "http://api.localhost/x",
            "http://localhost.evil.com/x",
            "http://[::1]:1/x",
            "http://[::2]/x",
            "http://[0:0:0:0:0:0:0:1]/",
            "https://u:p@x/",
            "https://u@x/",
            "https://:p@x/",
            "https://@x/",
            "http://user@127.0.0.1/",
            "ftp://x/",
            "file:///etc/passwd",
            "mailto:a@b",
            "https://x:99999/",
            "https://x:12a/",
            "https://",
            "https:///x",
            "not a url",
            "/relative",
            "http://a b/",
            "https://x.example/#@127.0.0.1",
            "https://x.example?@127.0.0.1",
            "http://127.0.0.1.evil.com/",
            "http://10.0.0.1/",
            " https://padded.example/ ",
        ];
        for raw in same {
            let full = parse_url(raw);
            let light = parse_url_light(raw);
            match (&full, &light) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{raw}"),
                (Err(_), Err(_)) => {}
                _ => panic!("{raw}: url crate {full:?}, light {light:?}"),
            }
            for insecure in [false, true] {
                let a = check_url(raw, insecure, "u").map_err(|e| e.code());
                let b = parse_url_light(raw).map_err(|_| ErrorCode::ConfigError).and_then(|u| {
                    match (u.credentials, u.scheme.as_str()) {
                        (true, _) => Err(ErrorCode::ConfigError),
                        (_, "https") => Ok(()),
                        (_, "http") if insecure || u.loopback => Ok(()),
                        (_, "http") => Err(ErrorCode::InsecureTransport),
                        _ => Err(ErrorCode::ConfigError),
                    }
                });
                assert_eq!(a, b, "{raw} insecure={insecure}");
            }
        }
        // Where they differ, the light parser is stricter (an error, or not loopback), never looser.
        for raw in ["http://127.1/", "http://0x7f000001/", "https://bücher.example/"] {
            let full = parse_url(raw).unwrap();
            match parse_url_light(raw) {
                Err(_) => {}
                Ok(light) => assert!(full.loopback && !light.loopback, "{raw}: {full:?} vs {light:?}"),
            }
        }
    }

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
        // Out-of-range fields are not a date (and must not overflow: found by fuzzing).
        assert_eq!(parse_http_date("Sun, 06 Nov 99999999999999999 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 9223372036854775807:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 24:00:00 GMT"), None);
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 9999 23:59:60 GMT", i64::MIN),
            Some(Duration::from_secs(86_400))
        );
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
