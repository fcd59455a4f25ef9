//! SPIFFE: the JWT-SVID verifier (`authsec_jwt_svid_verifier_*`), the Workload API client
//! (`authsec_workload_api_*`) and SPIFFE ID patterns (`authsec_spiffe_id_matches`). Options go in
//! as JSON and are read by the core (`JwtSvidOptions`); SVIDs come out as the core's JSON.

use crate::clock::AuthsecClock;
use crate::error::AuthsecCode;
use crate::ffi::{bytes_arg, free, json_arg, obj, put, set_out, str_arg, wait};
use crate::panic::ffi_boundary;
use authsec_native::core::spiffe::{JwtSvidVerifier, SpiffeId, SpiffeIdMatcher};
use authsec_native::workload_api::WorkloadApiClient;
use authsec_native::{Error as CoreError, ErrorCode};
use serde_json::json;
use std::ffi::c_char;

/// A JWT-SVID verifier (with a Workload API bundle watch when its options ask for one, stopped
/// when it is freed). Opaque.
pub struct AuthsecJwtSvidVerifier(JwtSvidVerifier);

/// Create a JWT-SVID verifier from options as JSON, read by the core (`JwtSvidOptions`:
/// `audience`, `sole_audience`, `allowed_ids`, `algorithms`, `leeway`, `max_token_bytes`,
/// `trust_domains: {"<td>": {"bundle" | "bundle_file" | "bundle_endpoint"}}`, `workload_api`:
/// true or `"unix:///path"`, `allow_insecure_http`). With `workload_api` it blocks until the
/// first bundles arrive (at most `timeout_ms`, 0 = the native layer's own bound). `clock`: NULL
/// for the system clock, or a test clock. Free with `authsec_jwt_svid_verifier_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_jwt_svid_verifier_new(
    options_json: *const c_char,
    clock: *const AuthsecClock,
    timeout_ms: u64,
    out: *mut *mut AuthsecJwtSvidVerifier,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        let o = json_arg("JWT-SVID verifier options", str_arg(options_json, "options_json")?)?;
        let clock = clock.as_ref().map(AuthsecClock::shared);
        let v = wait(authsec_native::spiffe::jwt_svid_verifier(&o, &authsec_native::ProcessEnv, clock), timeout_ms)?;
        put(out, AuthsecJwtSvidVerifier(v))
    }
}

/// Free a JWT-SVID verifier (its bundle watch stops). NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_jwt_svid_verifier_free(verifier: *mut AuthsecJwtSvidVerifier) {
    ffi_boundary! {
        free(verifier)
    }
}

/// Verify the JWT-SVID `token` (a byte range, taken exactly as given). When the trust domain's
/// bundle must be fetched first and `block` is false it returns `AUTHSEC_CODE_OK` with
/// `*svid_json` NULL; `timeout_ms` bounds a blocking call (0 = none). On success `*svid_json` is
/// `{"spiffe_id", "trust_domain", "audience", "expires_at", "issued_at", "alg", "kid", "claims"}`
/// (the core's `JwtSvid::to_value`; times in Unix seconds).
#[no_mangle]
pub unsafe extern "C" fn authsec_jwt_svid_verifier_verify(
    verifier: *const AuthsecJwtSvidVerifier,
    token: *const c_char,
    token_len: usize,
    block: bool,
    timeout_ms: u64,
    svid_json: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(svid_json, None);
        let v = &obj(verifier, "verifier")?.0;
        let token = bytes_arg(token, token_len, "token")?;
        let svid = match (v.verify_now(token), block) {
            (Some(r), _) => r?,
            (None, true) => wait(v.verify(token), timeout_ms)?,
            (None, false) => return Ok(()),
        };
        set_out(svid_json, Some(svid.to_value().to_string()));
        Ok(())
    }
}

/// Whether the SPIFFE ID `id` matches one of `patterns_json` (a JSON list: exact IDs,
/// `spiffe://td` for a whole trust domain, `spiffe://td/path/*` for a prefix). An invalid ID is
/// `AUTHSEC_CODE_INVALID_SPIFFE_ID`, an invalid pattern `AUTHSEC_CODE_CONFIG_ERROR`.
#[no_mangle]
pub unsafe extern "C" fn authsec_spiffe_id_matches(
    id: *const c_char,
    patterns_json: *const c_char,
    matches: *mut bool,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        let id = SpiffeId::parse(str_arg(id, "id")?.unwrap_or_default())?;
        let patterns = json_arg("patterns_json", str_arg(patterns_json, "patterns_json")?)?;
        let patterns: Vec<String> = serde_json::from_value(patterns)
            .map_err(|_| CoreError::config("patterns must be a list of strings"))?;
        let m = SpiffeIdMatcher::parse(&patterns)?.matches(&id);
        if let Some(out) = matches.as_mut() {
            *out = m;
        }
        Ok(())
    }
}

/// A SPIFFE Workload API client. Opaque.
pub struct AuthsecWorkloadApi(WorkloadApiClient);

/// A Workload API client for `endpoint` (`unix:///path` or `tcp://IP:PORT`; NULL or "" for the one
/// `SPIFFE_ENDPOINT_SOCKET` names). Nothing is connected yet. Free with `authsec_workload_api_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_workload_api_new(
    endpoint: *const c_char,
    out: *mut *mut AuthsecWorkloadApi,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        let endpoint = str_arg(endpoint, "endpoint")?.filter(|e| !e.trim().is_empty());
        put(out, AuthsecWorkloadApi(authsec_native::spiffe::workload_api(endpoint)?))
    }
}

/// Free a Workload API client. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_workload_api_free(client: *mut AuthsecWorkloadApi) {
    ffi_boundary! {
        free(client)
    }
}

/// A JWT-SVID for `audience` (required): the default identity's, or `spiffe_id`'s (NULL/"" for the
/// default). Blocks, at most `timeout_ms` (0 = the client's own 30 s). `*svid_json` is
/// `{"spiffe_id", "token", "hint"}`.
#[no_mangle]
pub unsafe extern "C" fn authsec_workload_api_fetch_jwt_svid(
    client: *const AuthsecWorkloadApi,
    audience: *const c_char,
    spiffe_id: *const c_char,
    timeout_ms: u64,
    svid_json: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(svid_json, None);
        let c = &obj(client, "client")?.0;
        let audience = vec![str_arg(audience, "audience")?.unwrap_or_default().to_string()];
        let id = str_arg(spiffe_id, "spiffe_id")?.filter(|s| !s.is_empty());
        let svids = wait(c.fetch_jwt_svids(&audience, id), timeout_ms)?;
        let first = svids.into_iter().find(|s| id.is_none_or(|want| want == s.spiffe_id)).ok_or_else(|| {
            CoreError::new(ErrorCode::WorkloadApiUnavailable, format!("the Workload API at {} issued no JWT-SVID", c.endpoint()))
        })?;
        let v = json!({"spiffe_id": first.spiffe_id, "token": first.svid.expose(), "hint": first.hint});
        set_out(svid_json, Some(v.to_string()));
        Ok(())
    }
}

/// The JWT bundles: `*bundles_json` is `{"<trust domain>": <its JWKS document>, ...}` (a document
/// that is not JSON is given as a string).
#[no_mangle]
pub unsafe extern "C" fn authsec_workload_api_fetch_jwt_bundles(
    client: *const AuthsecWorkloadApi,
    timeout_ms: u64,
    bundles_json: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(bundles_json, None);
        let c = &obj(client, "client")?.0;
        let b = wait(c.fetch_jwt_bundles(), timeout_ms)?;
        let m: serde_json::Map<String, serde_json::Value> = b
            .bundles
            .iter()
            .map(|(td, doc)| {
                let v = serde_json::from_slice(doc).unwrap_or_else(|_| String::from_utf8_lossy(doc).into_owned().into());
                (td.clone(), v)
            })
            .collect();
        set_out(bundles_json, Some(serde_json::Value::Object(m).to_string()));
        Ok(())
    }
}

/// The default X.509-SVID: `*svid_json` is `{"spiffe_id", "cert_chain_pem" (leaf first),
/// "private_key_pem" (PKCS#8), "bundle_pem" (the trust domain's CAs), "hint"}`.
#[no_mangle]
pub unsafe extern "C" fn authsec_workload_api_fetch_x509_svid(
    client: *const AuthsecWorkloadApi,
    timeout_ms: u64,
    svid_json: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(svid_json, None);
        let c = &obj(client, "client")?.0;
        let ctx = wait(c.fetch_x509_context(), timeout_ms)?;
        let s = ctx.svids.first().ok_or_else(|| {
            CoreError::new(ErrorCode::WorkloadApiUnavailable, format!("the Workload API at {} issued no X.509-SVID", c.endpoint()))
        })?;
        let v = json!({
            "spiffe_id": s.spiffe_id,
            "cert_chain_pem": s.cert_chain_pem(),
            "private_key_pem": s.private_key_pem().expose(),
            "bundle_pem": s.bundle_pem(),
            "hint": s.hint,
        });
        set_out(svid_json, Some(v.to_string()));
        Ok(())
    }
}
