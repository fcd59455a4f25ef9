//! Parsing token-endpoint answers: success (RFC 6749 §5.1) and errors (§5.2) into typed errors.

use crate::http::HttpResponse;
use crate::scope::split_scopes;
use crate::{Error, ErrorCode, Result, Secret};
use serde_json::Value;

/// Lifetime assumed when a response has no `expires_in` and the token is not a JWT with `exp`.
pub const DEFAULT_LIFETIME_SECS: i64 = 300;
/// Longest lifetime believed, from `expires_in` or a JWT's `exp` (ten years).
pub const MAX_LIFETIME_SECS: i64 = 10 * 365 * 86_400;

/// An access token. `Debug` never shows the token itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub access_token: Secret,
    pub token_type: String,
    /// When the client received it (Unix ms).
    pub issued_at_ms: i64,
    /// When it expires (Unix ms).
    pub expires_at_ms: i64,
    /// Granted scopes: the response's `scope`, or the requested scopes when it has none.
    pub scopes: Vec<String>,
    /// The response's `issued_token_type` (RFC 8693 §2.2.1), when it has one (a string): required
    /// and checked for a token exchange, informational otherwise.
    pub issued_token_type: Option<String>,
}

impl Token {
    pub fn expires_at(&self) -> i64 {
        self.expires_at_ms.div_euclid(1000)
    }
    pub fn lifetime_ms(&self) -> i64 {
        self.expires_at_ms.saturating_sub(self.issued_at_ms).max(0)
    }
    /// `Authorization` header value.
    pub fn authorization(&self) -> String {
        format!(
            "{} {}",
            if self.token_type.eq_ignore_ascii_case("dpop") {
                "DPoP"
            } else {
                "Bearer"
            },
            self.access_token.expose()
        )
    }
}

fn describe_body(resp: &HttpResponse) -> String {
    let ct = resp.content_type();
    let kind = if ct.is_empty() {
        "no content type".to_string()
    } else {
        format!("content type {}", crate::util::quoted(ct))
    };
    format!("a {}-byte body with {kind}", resp.body.len())
}

/// Parse a token-endpoint response received at `now_ms`. `requested_scopes` fill in `scope` when
/// the server omits it; `secrets` are scrubbed from any server text put in an error.
pub fn parse_token_response(
    resp: &HttpResponse,
    now_ms: i64,
    requested_scopes: &[String],
    secrets: &[&str],
) -> Result<Token> {
    parse_token_response_for("client_credentials", resp, now_ms, requested_scopes, secrets)
}

/// [`parse_token_response`] for a request of the grant `grant_type` (named in the hints of errors).
pub fn parse_token_response_for(
    grant_type: &str,
    resp: &HttpResponse,
    now_ms: i64,
    requested_scopes: &[String],
    secrets: &[&str],
) -> Result<Token> {
    let status = resp.status;
    let json: Option<Value> = serde_json::from_slice(&resp.body).ok().filter(Value::is_object);
    if status == 200 {
        let Some(v) = json else {
            return Err(Error::new(
                ErrorCode::InvalidResponse,
                format!("the token endpoint answered HTTP 200 with {}, not a JSON object; check that token_url is the OAuth token endpoint", describe_body(resp)),
            )
            .with_status(status));
        };
        return parse_success(&v, now_ms, requested_scopes).map_err(|e| e.with_status(status));
    }
    let retry_after = resp.retry_after(now_ms);
    if status == 429 {
        return Err(Error::new(
            ErrorCode::RateLimited,
            "the token endpoint is rate limiting this client (HTTP 429); retry later",
        )
        .with_status(status)
        .with_retry_after(retry_after));
    }
    if status >= 500 {
        return Err(Error::new(
            ErrorCode::ServerError,
            format!("the token endpoint failed with HTTP {status}; this is usually temporary"),
        )
        .with_status(status)
        .with_retry_after(retry_after));
    }
    if let Some(err) = json.as_ref().and_then(|v| v.get("error")).and_then(Value::as_str) {
        let desc = json
            .as_ref()
            .and_then(|v| v.get("error_description"))
            .and_then(Value::as_str)
            .map(|d| crate::error::sanitize_server_text(d, 300, secrets));
        let code = ErrorCode::from_oauth_error(err);
        let exchange = grant_type == super::token_exchange::GRANT_TYPE;
        let grant_name = if exchange { "token exchange" } else { grant_type };
        let hint = match code {
            Some(ErrorCode::InvalidClient) => "check client_id and the client secret or key".to_string(),
            Some(ErrorCode::InvalidScope) => "request only scopes the client is allowed".to_string(),
            Some(ErrorCode::InvalidTarget) => "check audience/resource".to_string(),
            Some(ErrorCode::InvalidGrant) if exchange => {
                "the subject or actor token was refused (expired, revoked or not meant for this client); get a fresh one".to_string()
            }
            Some(ErrorCode::UnauthorizedClient) => format!("enable the {grant_name} grant for this client"),
            Some(ErrorCode::UnsupportedGrantType) => {
                format!("the server does not support {grant_name} at this endpoint")
            }
            _ => "see the server's description".to_string(),
        };
        let safe_err = crate::error::sanitize_server_text(err, 60, secrets);
        let message = match &desc {
            Some(d) => format!("the token endpoint refused the request ({safe_err}: {d}); {hint}"),
            None => format!("the token endpoint refused the request ({safe_err}); {hint}"),
        };
        return Err(Error::new(code.unwrap_or(ErrorCode::OauthError), message)
            .with_status(status)
            .with_retry_after(retry_after)
            .with_oauth_error(safe_err));
    }
    Err(Error::new(
        if status == 401 { ErrorCode::InvalidClient } else { ErrorCode::InvalidResponse },
        format!("the token endpoint answered HTTP {status} with {} and no OAuth error; check token_url and the client credentials", describe_body(resp)),
    )
    .with_status(status))
}

fn parse_success(v: &Value, now_ms: i64, requested_scopes: &[String]) -> Result<Token> {
    let bad = |m: &str| Error::new(ErrorCode::InvalidResponse, format!("the token response {m}"));
    let access_token = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("has no access_token"))?;
    if access_token.len() > 64 * 1024 {
        return Err(bad("has an access_token over 64 KiB"));
    }
    let token_type = v
        .get("token_type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("has no token_type"))?;
    if !token_type.eq_ignore_ascii_case("bearer") && !token_type.eq_ignore_ascii_case("dpop") {
        return Err(bad(&format!(
            "has token_type {}; only Bearer and DPoP are supported",
            crate::util::quoted(token_type)
        )));
    }
    let expires_in: Option<i64> = match v.get("expires_in") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .ok_or_else(|| bad("has a negative expires_in"))? as i64,
        ),
        // Some servers send a string.
        Some(Value::String(s)) => Some(
            s.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| bad("has a non-numeric expires_in"))?,
        ),
        Some(_) => return Err(bad("has a non-numeric expires_in")),
    };
    let expires_at_ms = match expires_in {
        Some(s) => now_ms.saturating_add(s.min(MAX_LIFETIME_SECS) * 1000),
        // An unverified `exp` gets the same bounds (it was 1e300 → i64::MAX: never refreshed).
        None => jwt_exp_ms(access_token).map_or(now_ms.saturating_add(DEFAULT_LIFETIME_SECS * 1000), |exp| {
            exp.clamp(
                now_ms.saturating_sub(MAX_LIFETIME_SECS * 1000),
                now_ms.saturating_add(MAX_LIFETIME_SECS * 1000),
            )
        }),
    };
    let scopes = match v.get("scope") {
        Some(Value::String(s)) => split_scopes(s),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => requested_scopes.to_vec(),
    };
    Ok(Token {
        access_token: Secret::new(access_token),
        token_type: if token_type.eq_ignore_ascii_case("dpop") {
            "DPoP".into()
        } else {
            "Bearer".into()
        },
        issued_at_ms: now_ms,
        expires_at_ms,
        scopes,
        issued_token_type: v.get("issued_token_type").and_then(Value::as_str).map(str::to_string),
    })
}

/// `exp` of a JWT (in ms), read without verification: only ever used to refresh sooner or to
/// cache for less long, never to trust anything. `None` for an opaque or unreadable token.
pub(crate) fn jwt_exp_ms(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let v: Value = serde_json::from_slice(&crate::util::b64url_decode(payload)?).ok()?;
    v.get("exp")?.as_f64().map(|f| (f * 1000.0) as i64)
}
