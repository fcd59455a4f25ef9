//! Core errors as JavaScript errors, the stable code list, and the RFC 6750 helpers the Express
//! middleware uses (all decided by the core).

use crate::client::{strings, Strings};
use authsec_native::core::{resource::bearer as scopes, scope};
use authsec_native::{Error as CoreError, ErrorCode};
use napi::bindgen_prelude::{JsObjectValue, JsValue, Unknown};
use napi::{Env, Result};
use napi_derive::napi;

/// A JavaScript `Error` for a core error: `message` is the core's message, `code` the stable
/// code, and `status`, `retryAfter` (seconds), `missingScopes`, `oauthError` are set when the
/// core has them. The JS layer re-throws it as the matching `AuthsecError` subclass.
pub fn to_js_error(env: &Env, e: &CoreError) -> napi::Error {
    match build(env, e) {
        Ok(v) => napi::Error::from(v),
        Err(x) => x,
    }
}

fn build<'e>(env: &'e Env, e: &CoreError) -> Result<Unknown<'e>> {
    let mut obj = env.create_error(napi::Error::from_reason(e.message()))?;
    obj.set_named_property("code", e.code().as_str())?;
    if let Some(s) = e.status() {
        obj.set_named_property("status", s as u32)?;
    }
    if let Some(r) = e.retry_after() {
        obj.set_named_property("retryAfter", r.as_secs_f64())?;
    }
    if !e.missing_scopes().is_empty() {
        obj.set_named_property("missingScopes", e.missing_scopes().to_vec())?;
    }
    if let Some(o) = e.oauth_error() {
        obj.set_named_property("oauthError", o)?;
    }
    Ok(obj.to_unknown())
}

/// Shorthand for a core result on the JavaScript thread.
pub fn js<T>(env: &Env, r: authsec_native::Result<T>) -> Result<T> {
    r.map_err(|e| to_js_error(env, &e))
}

#[napi(object)]
pub struct ErrorCodeInfo {
    pub code: String,
    pub description: String,
    /// RFC 6750 `invalid_token` family (a verification failure).
    pub token_error: bool,
    /// A token request failing with this code may succeed when retried.
    pub retryable: bool,
}

/// Every stable error code of the core, in declaration order.
#[napi]
pub fn error_codes() -> Vec<ErrorCodeInfo> {
    ErrorCode::ALL
        .iter()
        .map(|c| ErrorCodeInfo {
            code: c.as_str().to_string(),
            description: c.description().to_string(),
            token_error: c.category() == authsec_native::ErrorCategory::InvalidToken,
            retryable: c.is_retryable(),
        })
        .collect()
}

/// The parts of an `AuthsecError` the RFC 6750 helpers need.
#[napi(object)]
pub struct ErrorLike {
    pub code: String,
    pub message: String,
    pub missing_scopes: Option<Vec<String>>,
}

fn core_error(e: ErrorLike) -> CoreError {
    let code = ErrorCode::parse(&e.code).unwrap_or(ErrorCode::InternalError);
    CoreError::new(code, e.message).with_missing_scopes(e.missing_scopes.unwrap_or_default())
}

#[napi(object)]
pub struct ChallengeInfo {
    pub status: u32,
    pub error: Option<String>,
    pub www_authenticate: Option<String>,
}

/// What a protected resource answers when it refuses a request: the core's
/// [`scopes::challenge`]. `error` absent means no bearer token was sent.
#[napi]
pub fn challenge(realm: Option<String>, error: Option<ErrorLike>, required_scopes: Option<Strings>) -> ChallengeInfo {
    let err = error.map(core_error);
    let c = scopes::challenge(
        realm.as_deref(),
        err.as_ref(),
        &required_scopes.map(strings).unwrap_or_default(),
    );
    ChallengeInfo {
        status: c.status as u32,
        error: c.error.map(str::to_string),
        www_authenticate: c.www_authenticate,
    }
}

/// The HTTP status for an error answered by a protected resource (the core's `http_status`).
#[napi]
pub fn http_status(error: ErrorLike) -> u32 {
    authsec_native::http_status(&core_error(error)) as u32
}

/// An RFC 6750 `WWW-Authenticate` value (the core's `www_authenticate`).
#[napi]
pub fn www_authenticate(realm: Option<String>, error: Option<ErrorLike>, required_scopes: Option<Strings>) -> String {
    let err = error.map(core_error);
    authsec_native::www_authenticate(
        realm.as_deref(),
        err.as_ref(),
        &required_scopes.map(strings).unwrap_or_default(),
    )
}

/// The bearer token of an `Authorization` header: `null` when there is none, an
/// `invalid_request` error for `Bearer` without a token (the core's `bearer_token`).
#[napi]
pub fn bearer_token(env: Env, authorization: Option<String>) -> Result<Option<String>> {
    js(
        &env,
        scopes::bearer_token(authorization.as_deref()).map(|t| t.map(str::to_string)),
    )
}

/// The scopes a claims object grants (`scope`, space-separated, and/or `scp`), as the core reads
/// them for scope checks.
#[napi]
pub fn scopes_of(claims: serde_json::Value) -> Vec<String> {
    match claims.as_object() {
        Some(m) => scope::scopes_of(m).into_iter().map(str::to_string).collect(),
        None => Vec::new(),
    }
}
