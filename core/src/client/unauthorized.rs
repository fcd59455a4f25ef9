//! What a client does when a protected resource answers 401 to a request that carried one of its
//! tokens: retry once with a fresh token, or give up. The HTTP wrappers of every binding (Python's
//! `requests`/`httpx` auth, Node's `fetch` wrapper, Go's `RoundTripper`) ask
//! [`TokenClient::on_unauthorized`] instead of deciding themselves, so a new reason to retry (a
//! DPoP nonce) is written once.

use super::dpop::resource_wants_nonce;
use super::response::Token;
use super::token_client::TokenClient;
use crate::{Error, ErrorCode, Result};

/// What to do about a 401.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unauthorized {
    /// The token was dropped from the cache: get a token again and resend the request once.
    Retry,
    /// Hand the 401 to the caller.
    GiveUp,
}

/// Retries of one request after a 401, at most.
pub const MAX_UNAUTHORIZED_RETRIES: u32 = 1;

impl TokenClient {
    /// A resource answered 401 to a request that carried `access_token`, with this
    /// `WWW-Authenticate` value (if any), after `retries` retries of the same request.
    ///
    /// Retry (once) unless the resource says the token is fine but lacks scopes
    /// (`error="insufficient_scope"`, which a fresh token for the same scopes cannot fix). On
    /// `Retry` the token has been dropped from the cache, only that token, so a newer one another
    /// caller fetched meanwhile is kept.
    pub fn on_unauthorized(&self, access_token: &str, www_authenticate: Option<&str>, retries: u32) -> Unauthorized {
        if retries >= MAX_UNAUTHORIZED_RETRIES {
            return Unauthorized::GiveUp;
        }
        let challenges = www_authenticate.map(parse_challenges).unwrap_or_default();
        if challenges
            .iter()
            .any(|c| c.param("error") == Some("insufficient_scope"))
        {
            return Unauthorized::GiveUp;
        }
        self.invalidate_token(access_token);
        Unauthorized::Retry
    }

    /// The headers that authorize a request with `token` to `url`: `Authorization` with the
    /// token's scheme, and for a DPoP token a fresh proof for this method and URL (with `ath` and
    /// the origin's nonce). Build them anew for every request, retries included (RFC 9449 §7.3).
    pub fn authorize(&self, token: &Token, method: &str, url: &str) -> Result<Vec<(String, String)>> {
        let mut headers = vec![("Authorization".to_string(), token.authorization())];
        if token.token_type.eq_ignore_ascii_case("dpop") {
            let dpop = self.dpop().ok_or_else(|| {
                Error::new(
                    ErrorCode::ConfigError,
                    "a DPoP token needs the client's DPoP key; turn dpop on",
                )
            })?;
            let now = self.clock_now_ms();
            headers.push((
                "DPoP".to_string(),
                dpop.proof(method, url, Some(token.access_token.expose()), now)?,
            ));
        }
        Ok(headers)
    }

    /// A resource at `url` answered a request that carried `access_token` with `status` and
    /// `headers`, after `retries` retries of that request. Every answer's `DPoP-Nonce` is kept for
    /// the origin. A 401 is retried once: with the same token when the resource asks for a DPoP
    /// nonce it has just given (`use_dpop_nonce`), else as [`TokenClient::on_unauthorized`] says.
    pub fn on_resource_response<'a>(
        &self,
        url: &str,
        access_token: &str,
        status: u16,
        headers: &[(&'a str, &'a str)],
        retries: u32,
    ) -> Unauthorized {
        let fresh_nonce = self
            .dpop()
            .is_some_and(|d| d.remember_nonce(url, headers.iter().copied()));
        if status != 401 {
            return Unauthorized::GiveUp;
        }
        let challenges: Vec<&str> = headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
            .map(|(_, v)| *v)
            .collect();
        let joined = challenges.join(", ");
        if fresh_nonce && resource_wants_nonce(&joined) {
            return if retries >= MAX_UNAUTHORIZED_RETRIES {
                Unauthorized::GiveUp
            } else {
                Unauthorized::Retry
            };
        }
        self.on_unauthorized(access_token, (!joined.is_empty()).then_some(joined.as_str()), retries)
    }
}

/// One challenge of a `WWW-Authenticate` value (RFC 9110 §11.6.1): its scheme and its parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    /// Parameter names lowercased, values unquoted.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// A parameter's value (name matched case-insensitively).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Longest `WWW-Authenticate` value read; the rest is ignored.
const MAX_CHALLENGE_BYTES: usize = 8 * 1024;

/// The challenges of a `WWW-Authenticate` value: `Bearer realm="api", error="invalid_token",
/// DPoP algs="ES256"`. Lenient (a malformed part ends the reading; what was read is kept) and
/// bounded in length.
pub fn parse_challenges(value: &str) -> Vec<Challenge> {
    let mut s = value;
    if s.len() > MAX_CHALLENGE_BYTES {
        let mut end = MAX_CHALLENGE_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s = &s[..end];
    }
    let mut out: Vec<Challenge> = Vec::new();
    let mut rest = s.trim_start_matches([' ', '\t', ',']);
    while !rest.is_empty() {
        let (word, after) = token(rest);
        if word.is_empty() {
            break;
        }
        let after_ws = after.trim_start_matches([' ', '\t']);
        if let (Some(current), Some(value_part)) = (out.last_mut(), after_ws.strip_prefix('=')) {
            // `name = value`: a parameter of the current challenge.
            let (value, tail) = param_value(value_part.trim_start_matches([' ', '\t']));
            let Some(value) = value else { break };
            current.params.push((word.to_ascii_lowercase(), value));
            rest = tail.trim_start_matches([' ', '\t', ',']);
            continue;
        }
        // A new challenge (token68 credentials, `Basic abc==`, are skipped).
        out.push(Challenge {
            scheme: word.to_string(),
            params: Vec::new(),
        });
        let after = after_ws;
        if !after.is_empty() && !after.starts_with(',') {
            let (maybe_param, tail) = token(after);
            let tail_ws = tail.trim_start_matches([' ', '\t']);
            if !maybe_param.is_empty() && tail_ws.starts_with('=') && !tail_ws.starts_with("==") {
                rest = after;
                continue;
            }
            // token68: up to the next comma.
            rest = after.split_once(',').map_or("", |(_, t)| t);
        } else {
            rest = after;
        }
        rest = rest.trim_start_matches([' ', '\t', ',']);
    }
    out
}

/// An RFC 9110 token (`tchar`s) at the start of `s`, and what follows.
fn token(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)))
        .unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// A parameter value (a token or a quoted string) and what follows; `None` when malformed.
fn param_value(s: &str) -> (Option<String>, &str) {
    if let Some(q) = s.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = q.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return (Some(out), &q[i + 1..]),
                '\\' => match chars.next() {
                    Some((_, e)) => out.push(e),
                    None => return (None, ""),
                },
                c => out.push(c),
            }
        }
        return (None, "");
    }
    let (t, rest) = token(s);
    if t.is_empty() {
        (None, rest)
    } else {
        (Some(t.to_string()), rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_challenges_and_their_parameters() {
        let c = parse_challenges(
            r#"Bearer realm="api", error="invalid_token", error_description="the \"token\" expired", DPoP algs="ES256 RS256", error=use_dpop_nonce"#,
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, "Bearer");
        assert_eq!(c[0].param("realm"), Some("api"));
        assert_eq!(c[0].param("ERROR"), Some("invalid_token"));
        assert_eq!(c[0].param("error_description"), Some(r#"the "token" expired"#));
        assert_eq!(c[1].scheme, "DPoP");
        assert_eq!(c[1].param("algs"), Some("ES256 RS256"));
        assert_eq!(c[1].param("error"), Some("use_dpop_nonce"));
        assert_eq!(
            parse_challenges("Bearer"),
            vec![Challenge {
                scheme: "Bearer".into(),
                params: vec![]
            }]
        );
        let basic = parse_challenges("Basic YWxhZGRpbjpvcGVu==, Bearer scope=\"a b\"");
        assert_eq!(basic.len(), 2);
        assert_eq!(basic[1].param("scope"), Some("a b"));
        // Malformed or hostile input: bounded, no panic.
        assert!(parse_challenges("").is_empty());
        assert_eq!(parse_challenges("Bearer error=\"unterminated").len(), 1);
        let long = format!("Bearer realm=\"{}\"", "é".repeat(10_000));
        assert_eq!(parse_challenges(&long).len(), 1);
    }
}
