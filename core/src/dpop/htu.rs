//! The `htu` comparison of RFC 9449 §4.3 step 9: "ignoring any query and fragment parts", after
//! RFC 3986 syntax- and scheme-based normalisation. It is the part libraries most often get wrong
//! (go-jwt-middleware compares with the query appended; proxies rewrite case and ports), and the
//! client builds its `htu` with the same function, so both sides agree by construction.

use crate::util::quoted;
use crate::{Error, Result};

/// The canonical form of a DPoP `htu` or a request's target URI, for comparing the two: scheme
/// and host lower-case, the default port dropped, an empty path as `/`, dot segments removed
/// (RFC 3986 §5.2.4), percent-encodings of unreserved characters decoded and the rest upper-cased
/// (§6.2.2), query and fragment dropped (RFC 9449 §4.3). Refused: not an absolute http(s) URI,
/// credentials, a malformed percent-encoding, a space or control character.
pub fn normalize_htu(raw: &str) -> Result<String> {
    // A URI with a user-info part may carry a password: not echoed.
    let shown = if raw.contains('@') {
        "(not shown: it has an @)".to_string()
    } else {
        quoted(raw)
    };
    let bad = |why: &str| Error::config(format!("htu {shown} is not an absolute http(s) URI: {why}"));
    if raw.chars().any(|c| c.is_control() || c == ' ') {
        return Err(bad("it contains a space or control character"));
    }
    let (scheme, rest) = raw.split_once("://").ok_or_else(|| bad("no scheme"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port: u16 = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return Err(bad("the scheme is not http or https")),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return Err(bad("it carries credentials"));
    }
    let authority = normalize_authority(&authority.to_ascii_lowercase(), default_port).ok_or_else(|| {
        // Found by the fuzz target `dpop_request`: a port without a host, two ports.
        bad("the authority is not host[:port]")
    })?;
    let path = tail.split(['?', '#']).next().unwrap_or("");
    let path = normalize_percent(path).ok_or_else(|| bad("a malformed percent-encoding"))?;
    let path = remove_dot_segments(if path.is_empty() { "/" } else { &path });
    Ok(format!("{scheme}://{authority}{path}"))
}

/// `host[:port]` (the host a name, an IPv4 address or a bracketed IPv6 literal; the port digits)
/// with the default port dropped and leading zeros gone; `None` when it is not that.
fn normalize_authority(authority: &str, default_port: u16) -> Option<String> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']')?;
        let (host, rest) = authority.split_at(close + 1);
        let port = match rest {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        if host.len() < 3 || host[1..host.len() - 1].contains(['[', ']']) {
            return None;
        }
        (host, port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || (!host.starts_with('[') && host.contains(['[', ']', ':'])) {
        return None;
    }
    match port {
        None => Some(host.to_string()),
        Some("") => Some(host.to_string()),
        Some(p) if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            let n: u32 = p.parse().ok()?;
            match u16::try_from(n).ok()? {
                d if d == default_port => Some(host.to_string()),
                d => Some(format!("{host}:{d}")),
            }
        }
        Some(_) => None,
    }
}

/// Whether a proof's `htu` names the request's target URI (both normalised, queries ignored).
pub fn htu_matches(htu: &str, request_uri: &str) -> bool {
    matches!((normalize_htu(htu), normalize_htu(request_uri)), (Ok(a), Ok(b)) if a == b)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Decode percent-encoded unreserved characters and upper-case the hex of the others (other
/// characters are kept as they are); `None` for a `%` not followed by two hex digits.
fn normalize_percent(path: &str) -> Option<String> {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(p) = rest.find('%') {
        out.push_str(&rest[..p]);
        let hex = rest
            .get(p + 1..p + 3)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))?;
        let value = u8::from_str_radix(hex, 16).ok()?;
        if is_unreserved(value) {
            out.push(value as char);
        } else {
            out.push('%');
            out.push_str(&hex.to_ascii_uppercase());
        }
        rest = &rest[p + 3..];
    }
    out.push_str(rest);
    Some(out)
}

/// RFC 3986 §5.2.4, for an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *seg {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_normal_forms() {
        for (raw, want) in [
            ("https://api.example.com/mcp", "https://api.example.com/mcp"),
            ("HTTPS://API.Example.COM:443/mcp?x=1#f", "https://api.example.com/mcp"),
            ("http://127.0.0.1:80", "http://127.0.0.1/"),
            ("http://127.0.0.1:8080?q", "http://127.0.0.1:8080/"),
            ("https://x/a/./b/../c", "https://x/a/c"),
            ("https://x/a/b/..", "https://x/a/"),
            ("https://x/%7euser/%2fa%2Fb/%41", "https://x/~user/%2Fa%2Fb/A"),
            ("https://x/caf%c3%a9/é", "https://x/caf%C3%A9/é"),
            ("https://[::1]:8443/p", "https://[::1]:8443/p"),
            ("https://x:0443/", "https://x/"),
            ("http://x:08080/", "http://x:8080/"),
            ("http://x:/", "http://x/"),
        ] {
            assert_eq!(normalize_htu(raw).unwrap(), want, "{raw}");
        }
        for bad in [
            "/mcp",
            "ftp://x/",
            "https://",
            "https://u:p@x/",
            "https://x/%zz",
            "https://x/%4",
            "https://x/a b",
            "http://:80/a",
            "https://:8443/",
            "http://[::1]:80:80/",
            "http://a:b/",
            "http://a:99999/",
            "http://[::1/",
            "http://[]/",
            "http://a]/",
        ] {
            assert!(normalize_htu(bad).is_err(), "{bad}");
        }
        let e = normalize_htu("https://user:hunter2@x/").unwrap_err();
        assert!(!e.message().contains("hunter2"), "{e:?}");
    }

    #[test]
    fn htu_matching_ignores_the_query_both_ways() {
        assert!(htu_matches(
            "https://api.example/mcp",
            "https://api.example/mcp?session=1"
        ));
        assert!(htu_matches("https://api.example/mcp?x", "https://api.example/mcp"));
        assert!(htu_matches("https://API.example:443/m%63p", "https://api.example/mcp"));
        assert!(!htu_matches("https://api.example/mcp", "https://api.example/mcp/"));
        assert!(!htu_matches("https://api.example/mcp", "http://api.example/mcp"));
        assert!(!htu_matches("https://api.example/mcp", "https://api.example:8443/mcp"));
        assert!(!htu_matches("https://api.example/mcp", "https://other.example/mcp"));
        assert!(!htu_matches("not a uri", "not a uri"));
    }
}
