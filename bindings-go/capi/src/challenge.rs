//! RFC 6750 for middleware: the bearer token of a request and the answer to a refused one
//! (`authsec_bearer_token`, `authsec_challenge`).

use crate::error::AuthsecCode;
use crate::ffi::{json_arg, set_out, str_arg};
use crate::panic::ffi_boundary;
use crate::CoreResult;
use authsec_native::core::resource::bearer::bearer_token;
use authsec_native::core::resource::challenge::{challenge_for, ChallengeParams, ErrorParts};
use authsec_native::Error as CoreError;
use serde::Deserialize;
use serde_json::json;
use std::ffi::c_char;

/// The bearer token of an `Authorization` header value (the core's `bearer_token`): on success
/// `*token_out` is the token, or NULL when there is no bearer credential at all; `Bearer` without
/// a token fails with `AUTHSEC_CODE_INVALID_REQUEST`.
#[no_mangle]
pub unsafe extern "C" fn authsec_bearer_token(
    authorization: *const c_char,
    token_out: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(token_out, None);
        let t = bearer_token(str_arg(authorization, "authorization")?)?;
        set_out(token_out, t.map(str::to_string));
        Ok(())
    }
}

/// An error as the binding's error object carries it, and the challenge's other parameters (also
/// the `refusal_json` of `authsec_mcp_server_decide`).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ChallengeArg {
    realm: Option<String>,
    /// The URL of the resource's RFC 9728 metadata.
    resource_metadata: Option<String>,
    /// The error's code name (`token_expired`), absent when no token was sent.
    code: Option<String>,
    message: String,
    missing_scopes: Vec<String>,
    required_scopes: Vec<String>,
}

impl ChallengeArg {
    pub(crate) unsafe fn read(p: *const c_char, what: &str) -> CoreResult<ChallengeArg> {
        serde_json::from_value(json_arg(what, str_arg(p, what)?)?)
            .map_err(|e| CoreError::config(format!("{what}: {e}")))
    }

    /// The error, `None` when no token was sent.
    pub(crate) fn parts(&self) -> Option<ErrorParts<'_>> {
        self.code.as_deref().map(|code| ErrorParts {
            code,
            message: &self.message,
            missing_scopes: self.missing_scopes.clone(),
        })
    }
}

/// What a protected resource answers when it refuses a request (the core's `challenge_for`).
/// In: `{"realm", "resource_metadata", "code", "message", "missing_scopes", "required_scopes"}`
/// (`code` is the error's name, e.g. `"insufficient_scope"`, absent when no token was sent). Out:
/// `{"status", "error", "www_authenticate"}`.
#[no_mangle]
pub unsafe extern "C" fn authsec_challenge(
    input_json: *const c_char,
    out_json: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(out_json, None);
        let a = ChallengeArg::read(input_json, "challenge")?;
        let parts = a.parts();
        let params = ChallengeParams {
            realm: a.realm.clone(),
            resource_metadata: a.resource_metadata.clone(),
            scopes: a.required_scopes.clone(),
        };
        let c = challenge_for(&params, parts.as_ref())?;
        let out = json!({"status": c.status, "error": c.error, "www_authenticate": c.www_authenticate});
        set_out(out_json, Some(out.to_string()));
        Ok(())
    }
}
