//! Reading the management API's answers: a success as JSON (lists normalised to
//! `{"items", "next_cursor"}`, deletions to `null`), and an error answer as an [`Error`] with the
//! code the contract gives its status and OAuth `error`.

use super::operations::Operation;
use crate::client::unauthorized::parse_challenges;
use crate::error::sanitize_server_text;
use crate::http::HttpResponse;
use crate::{Error, ErrorCode, Result};
use serde_json::{json, Value};

/// The answer's OAuth error body: `(error, error_description)`, each sanitised.
fn oauth_error(resp: &HttpResponse, secrets: &[&str]) -> (Option<String>, Option<String>) {
    let json: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let field = |k: &str, max: usize| {
        json.as_ref()
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(|s| sanitize_server_text(s, max, secrets))
    };
    (field("error", 60), field("error_description", 300))
}

/// The `Bearer` challenge's parameter `name`, if the answer has one.
fn challenge_param(resp: &HttpResponse, name: &str) -> Option<String> {
    parse_challenges(resp.header("www-authenticate")?)
        .into_iter()
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))?
        .param(name)
        .map(str::to_string)
}

/// Whether a 401 says the token is invalid (expired, revoked, not for this API): worth one more
/// try with a fresh token.
pub fn is_invalid_token(resp: &HttpResponse) -> bool {
    resp.status == 401
        && (challenge_param(resp, "error").as_deref() == Some("invalid_token")
            || oauth_error(resp, &[]).0.as_deref() == Some("invalid_token"))
}

/// The error for an answer that is not a success. `secrets` are scrubbed from the server's text.
pub fn error_for(op: &Operation, resp: &HttpResponse, now_ms: i64, secrets: &[&str]) -> Error {
    let status = resp.status;
    let (err, desc) = oauth_error(resp, secrets);
    let said = match (&err, &desc) {
        (Some(e), Some(d)) => format!(", {e}: {d}"),
        (Some(e), None) => format!(", {e}"),
        (None, Some(d)) => format!(", {d}"),
        (None, None) => String::new(),
    };
    let name = op.name;
    let (code, message) = match status {
        401 => (
            ErrorCode::AccessDenied,
            format!("{name}: the management API refused the credentials (HTTP 401{said}); check that the client is a management client of this server, or that the admin token is the server's and no management client exists yet"),
        ),
        403 if err.as_deref() == Some("insufficient_scope")
            || challenge_param(resp, "error").as_deref() == Some("insufficient_scope") =>
        {
            let scopes: Vec<String> = challenge_param(resp, "scope")
                .map(|s| crate::scope::split_scopes(&s))
                .unwrap_or_default();
            let needs = if scopes.is_empty() {
                String::new()
            } else {
                format!("; give the management client {}", scopes.join(" "))
            };
            return Error::new(
                ErrorCode::InsufficientScope,
                format!("{name}: the management token lacks a scope (HTTP 403{said}){needs}"),
            )
            .with_status(status)
            .with_missing_scopes(scopes)
            .with_oauth_error(err.unwrap_or_else(|| "insufficient_scope".into()));
        }
        403 => (
            ErrorCode::AccessDenied,
            format!("{name}: the management API refused the request (HTTP 403{said})"),
        ),
        404 => (
            ErrorCode::NotFound,
            format!("{name}: not found (HTTP 404{said})"),
        ),
        409 => (ErrorCode::Conflict, format!("{name}: conflict (HTTP 409{said})")),
        400 | 422 => match err.as_deref() {
            Some("invalid_client_metadata" | "invalid_redirect_uri") => (
                ErrorCode::InvalidClientMetadata,
                format!("{name}: the server refused the client's metadata (HTTP {status}{said})"),
            ),
            _ => (
                ErrorCode::InvalidRequest,
                format!("{name}: the server refused the request (HTTP {status}{said})"),
            ),
        },
        429 => (
            ErrorCode::RateLimited,
            format!("{name}: the management API is rate limiting this client (HTTP 429{said}); retry later"),
        ),
        500..=599 => (
            ErrorCode::ServerError,
            format!("{name}: the management API failed (HTTP {status}{said}); this is usually temporary"),
        ),
        _ => (
            ErrorCode::InvalidResponse,
            format!("{name}: the management API answered HTTP {status}{said}; check base_url"),
        ),
    };
    let mut e = Error::new(code, message)
        .with_status(status)
        .with_retry_after(resp.retry_after(now_ms));
    if let Some(x) = err {
        e = e.with_oauth_error(x);
    }
    e
}

/// The result of a successful answer (2xx).
pub fn parse_success(op: &Operation, resp: &HttpResponse) -> Result<Value> {
    if op.returns_nothing() || resp.status == 204 || resp.body.is_empty() {
        return Ok(Value::Null);
    }
    let invalid = |what: &str| {
        Error::new(
            ErrorCode::InvalidResponse,
            format!(
                "{}: the management API answered HTTP {} with {what}; check base_url",
                op.name, resp.status
            ),
        )
        .with_status(resp.status)
    };
    let v: Value = serde_json::from_slice(&resp.body).map_err(|_| invalid("a body that is not JSON"))?;
    let Some(key) = op.list_key else {
        return Ok(v);
    };
    let items = v
        .get(key)
        .filter(|x| x.is_array())
        .cloned()
        .ok_or_else(|| invalid(&format!("no `{key}` list")))?;
    let next_cursor = match v.get("next_cursor") {
        Some(c @ Value::String(s)) if !s.is_empty() => c.clone(),
        _ => Value::Null,
    };
    Ok(json!({"items": items, "next_cursor": next_cursor}))
}
