//! Core errors as JavaScript errors, the core's code and class lists (the JS layer derives its
//! code→class map from them), and the RFC 6750 helpers the Express middleware uses.

use crate::convert::Raw;
use authsec_native::core::access_token::delegation;
use authsec_native::core::resource::bearer;
use authsec_native::core::resource::challenge::{self, ChallengeParams, ErrorParts};
use authsec_native::core::scope::{self, scope_list};
use authsec_native::{Error as CoreError, ErrorClass, ErrorCode};
use napi::bindgen_prelude::{JsObjectValue, JsValue, Unknown};
use napi::{Env, Result};
use napi_derive::napi;
use serde_json::Value;

/// A JavaScript `Error` for a core error: `message` is the core's message, `code` the stable
/// code, and `status`, `retryAfter` (seconds), `missingScopes`, `oauthError` are set when the
/// core has them. The JS layer re-throws it as the class the core names for the code.
pub fn to_js_error(env: &Env, e: &CoreError) -> napi::Error {
    build(env, e).map_or_else(|x| x, napi::Error::from)
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

/// A core error as a JavaScript `Error` value (returned, not thrown: a refusal's error).
pub fn error_value(env: &Env, e: &CoreError) -> Result<napi::sys::napi_value> {
    Ok(build(env, e)?.raw())
}

/// The error for an actor the host's `allowedActors` callback refused (the core's
/// `delegation::actor_refused`: `delegation_not_allowed`), returned (not thrown) for the JS layer
/// to throw as its class.
#[napi(ts_return_type = "Error")]
pub fn actor_refused(env: Env, actor_id: String) -> Result<Raw> {
    Ok(Raw(build(&env, &delegation::actor_refused(&actor_id))?.raw()))
}

/// Shorthand for a core result on the JavaScript thread.
pub fn js<T>(env: &Env, r: authsec_native::Result<T>) -> Result<T> {
    r.map_err(|e| to_js_error(env, &e))
}

#[napi(object)]
pub struct ErrorCodeInfo {
    pub code: String,
    pub category: String,
    /// The name of the class the code is raised as (`InvalidClientError`).
    pub class: String,
    pub description: String,
    /// A token request failing with this code may succeed when retried.
    pub retryable: bool,
}

/// Every stable error code of the core, in declaration order.
#[napi]
pub fn error_codes() -> Vec<ErrorCodeInfo> {
    let info = |c: &ErrorCode| ErrorCodeInfo {
        code: c.as_str().into(),
        category: c.category().as_str().into(),
        class: c.class().name().into(),
        description: c.description().into(),
        retryable: c.is_retryable(),
    };
    ErrorCode::ALL.iter().map(info).collect()
}

#[napi(object)]
pub struct ErrorClassInfo {
    pub name: String,
    /// `null` for a category's class (its parent is the root `AuthsecError`).
    pub parent: Option<String>,
}

/// The core's error class tree, parents before their children.
#[napi]
pub fn error_classes() -> Vec<ErrorClassInfo> {
    let info = |c: &ErrorClass| ErrorClassInfo {
        name: c.name().into(),
        parent: c.parent().map(|p| p.name().into()),
    };
    ErrorClass::ALL.iter().map(info).collect()
}

/// The parts of an `AuthsecError` the RFC 6750 helpers need.
#[napi(object)]
pub struct ErrorLike {
    pub code: String,
    pub message: String,
    pub missing_scopes: Option<Vec<String>>,
}

impl ErrorLike {
    pub(crate) fn parts(&self) -> ErrorParts<'_> {
        ErrorParts {
            code: &self.code,
            message: &self.message,
            missing_scopes: self.missing_scopes.clone().unwrap_or_default(),
        }
    }
}

#[napi(object)]
pub struct ChallengeInfo {
    pub status: u32,
    pub error: Option<String>,
    pub www_authenticate: Option<String>,
}

/// What a protected resource answers when it refuses a request (the core's `challenge_for`);
/// `error` absent means no bearer token was sent. Scopes: a list or a space-separated string;
/// `resourceMetadata`: the URL of the resource's RFC 9728 metadata.
#[napi]
pub fn challenge(
    env: Env,
    realm: Option<String>,
    error: Option<ErrorLike>,
    scopes: Value,
    resource_metadata: Option<String>,
) -> Result<ChallengeInfo> {
    let params = ChallengeParams {
        realm,
        resource_metadata,
        scopes: scope_list(&scopes).unwrap_or_default(),
    };
    let parts = error.as_ref().map(ErrorLike::parts);
    let c = js(&env, challenge::challenge_for(&params, parts.as_ref()))?;
    Ok(ChallengeInfo {
        status: c.status.into(),
        error: c.error.map(str::to_string),
        www_authenticate: c.www_authenticate,
    })
}

/// An RFC 6750 `WWW-Authenticate` value for an error, whatever status it is answered with (the
/// core's `www_authenticate`).
#[napi]
pub fn www_authenticate(env: Env, realm: Option<String>, error: ErrorLike, scopes: Value) -> Result<String> {
    let e = js(&env, error.parts().to_error())?;
    let params = ChallengeParams {
        realm,
        scopes: scope_list(&scopes).unwrap_or_default(),
        ..ChallengeParams::default()
    };
    Ok(challenge::www_authenticate(&params, Some(&e)))
}

/// The bearer token of an `Authorization` header: `null` when there is none, an
/// `invalid_request` error for `Bearer` without a token (the core's `bearer_token`).
#[napi]
pub fn bearer_token(env: Env, authorization: Option<String>) -> Result<Option<String>> {
    js(
        &env,
        bearer::bearer_token(authorization.as_deref()).map(|t| t.map(str::to_string)),
    )
}

/// The scopes a claims object grants (`scope`, space-separated, and/or `scp`), as the core reads
/// them for scope checks.
#[napi]
pub fn scopes_of(claims: Value) -> Vec<String> {
    claims.as_object().map_or_else(Vec::new, |m| {
        scope::scopes_of(m).into_iter().map(str::to_string).collect()
    })
}
