//! Whole requests to a protected resource (DPoP and certificate-bound tokens): the core's
//! `RequestVerifier` over a verifier, `authsec_request_verifier_*`.

use crate::challenge::ChallengeArg;
use crate::error::{error_value, AuthsecCode};
use crate::ffi::{bytes_arg, free, json_arg, obj, put, set_out, str_arg, wait};
use crate::panic::ffi_boundary;
use crate::verifier::{claims_out, scope_requirement, AuthsecVerifier};
use authsec_native::core::resource::challenge::bearer_error_code;
use authsec_native::core::resource::credential::Scheme;
use authsec_native::core::resource::request::RequestParts;
use authsec_native::core::resource::request_verifier::{Refusal, RequestPolicy, RequestVerifier};
use authsec_native::{Clock, Error as CoreError};
use futures::FutureExt;
use serde::Deserialize;
use serde_json::{json, Value};
use std::ffi::c_char;
use std::sync::Arc;

/// A request verifier: a verifier, the request policy and a replay cache. Opaque.
pub struct AuthsecRequestVerifier {
    rv: RequestVerifier,
    /// The verifier's clock (the request verifier's).
    clock: Arc<dyn Clock>,
}

/// Create a request verifier over `verifier` (which it keeps: free them in any order), with its
/// clock, from options as JSON read by the core (`RequestPolicy::from_value`: `dpop`,
/// `dpop_algorithms`, `dpop_max_age`, `dpop_leeway`, `dpop_nonce`, `dpop_nonce_key`,
/// `dpop_nonce_lifetime`, `replay_capacity`, `public_url`, `trust_forwarded`, `trusted_proxies`,
/// `client_cert_header`, `client_cert_header_format`, `require_certificate_binding`, `realm`,
/// `resource_metadata`). Free with `authsec_request_verifier_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_request_verifier_new(
    verifier: *const AuthsecVerifier,
    options_json: *const c_char,
    out: *mut *mut AuthsecRequestVerifier,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        let av = obj(verifier, "verifier")?;
        let policy = RequestPolicy::from_value(&json_arg("request options", str_arg(options_json, "options_json")?)?)?;
        let rv = RequestVerifier::new(Arc::new(av.verifier.clone()), policy, av.clock.clone());
        put(out, AuthsecRequestVerifier { rv, clock: av.clock.clone() })
    }
}

/// Free a request verifier. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_request_verifier_free(rv: *mut AuthsecRequestVerifier) {
    ffi_boundary! {
        free(rv)
    }
}

/// A request as JSON (the core's `RequestParts`).
#[derive(Deserialize)]
struct Request {
    method: String,
    target: String,
    scheme: String,
    /// `[name, value]` pairs, repeated headers repeated.
    headers: Vec<(String, String)>,
    /// The peer's IP address ("" or absent: unknown).
    #[serde(default)]
    peer: String,
}

fn headers_value(h: &[(String, String)]) -> Value {
    Value::Array(h.iter().map(|(n, v)| json!([n, v])).collect())
}

fn refusal_value(r: &Refusal) -> Value {
    json!({"refused": {
        "status": r.status,
        "error": r.error.as_ref().map(error_value),
        "oauth_error": r.error.as_ref().map(bearer_error_code),
        "headers": headers_value(&r.headers),
    }})
}

/// Check a request (the core's `RequestVerifier::verify`): `request_json` (a byte range) is
/// `{"method", "target" (path and query as received), "scheme" ("http"/"https" of the accepted
/// connection), "headers": [[name, value], ...] (all, Host included), "peer" (IP address)}`;
/// `certificate` the DER of the TLS client certificate (NULL/0: none); `scopes_json` (NULL/0,
/// or `{"all_of", "any_of"}`) the scopes the request needs. When the key set must be fetched first
/// and `block` is false it returns `AUTHSEC_CODE_OK` with `*out_json` NULL (nothing was recorded);
/// `timeout_ms` bounds a blocking call (0 = none).
///
/// `*out_json` is `{"accepted": {"claims": {as authsec_verifier_verify_pinned gives them},
/// "token": the access token as presented, "scheme": "Bearer"|"DPoP", "jkt": the DPoP key's thumbprint or null, "certificate": the bound
/// certificate's x5t#S256 or null, "headers": [[name, value], ...] to add to the response}}` or
/// `{"refused": {"status", "error": the error object or null (no credential), "oauth_error": its
/// RFC 6750 code, "headers": [[name, value], ...] to answer with (one WWW-Authenticate per scheme,
/// DPoP-Nonce)}}`. A failing code is an unreadable argument.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn authsec_request_verifier_verify(
    rv: *const AuthsecRequestVerifier,
    request_json: *const c_char,
    request_len: usize,
    certificate: *const u8,
    certificate_len: usize,
    scopes_json: *const c_char,
    scopes_len: usize,
    block: bool,
    timeout_ms: u64,
    out_json: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(out_json, None);
        let rv = &obj(rv, "request verifier")?.rv;
        let r: Request = serde_json::from_str(bytes_arg(request_json, request_len, "request_json")?)
            .map_err(|e| CoreError::config(format!("request_json: {e}")))?;
        let scopes = scope_requirement(bytes_arg(scopes_json, scopes_len, "scopes_json")?)?;
        let peer = match r.peer.as_str() {
            "" => None,
            p => Some(p.parse().map_err(|_| CoreError::config(format!("peer {p:?} is not an IP address")))?),
        };
        let cert = (!certificate.is_null() && certificate_len > 0)
            .then(|| std::slice::from_raw_parts(certificate, certificate_len));
        let req = RequestParts {
            method: &r.method,
            target: &r.target,
            scheme: &r.scheme,
            headers: r.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect(),
            peer,
            client_certificate: cert,
        };
        // Only the key set's fetch can be pending, before anything is recorded: polling once and
        // dropping the future leaves no trace (the fetch is the JWKS cache's shared one).
        let fut = rv.verify(&req, &scopes);
        let outcome = if block {
            wait(fut.map(Ok), timeout_ms)?
        } else {
            match fut.now_or_never() {
                Some(o) => o,
                None => return Ok(()),
            }
        };
        let out = match outcome {
            Ok(a) => json!({"accepted": {
                "claims": serde_json::from_str::<Value>(&claims_out(&a.claims)?).map_err(|e| CoreError::internal(e.to_string()))?,
                "token": a.token,
                "scheme": a.scheme.as_str(),
                "jkt": a.binding.proof.as_ref().map(|p| &p.jkt),
                "certificate": a.binding.certificate,
                "headers": headers_value(&a.headers),
            }}),
            Err(r) => refusal_value(&r),
        };
        set_out(out_json, Some(out.to_string()));
        Ok(())
    }
}

/// The refusal the request verifier answers for an error found after it accepted the request (the
/// Go `VerifierConfig.AllowActor` callback refused the current actor, then the scopes; the core's
/// order): `error_in` is `{"code" (its name), "message", "missing_scopes"}`, `scheme` the accepted
/// scheme (`Bearer`/`DPoP`), `scopes_json` (NULL or `{"all_of", "any_of"}`) the scopes the request
/// needs. `*out_json` is `{"refused": {...}}` as `authsec_request_verifier_verify` gives it.
#[no_mangle]
pub unsafe extern "C" fn authsec_request_verifier_refusal(
    rv: *const AuthsecRequestVerifier,
    error_in: *const c_char,
    scheme: *const c_char,
    scopes_json: *const c_char,
    out_json: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(out_json, None);
        let arv = obj(rv, "request verifier")?;
        let arg = ChallengeArg::read(error_in, "error_in")?;
        let err = arg.parts().map(|p| p.to_error()).transpose()?;
        let used = str_arg(scheme, "scheme")?.and_then(Scheme::parse).unwrap_or(Scheme::Bearer);
        let scopes = scope_requirement(str_arg(scopes_json, "scopes_json")?.unwrap_or(""))?;
        let refusal = arv.rv.policy().refusal(err, Some(used), &scopes, arv.clock.now_ms());
        set_out(out_json, Some(refusal_value(&refusal).to_string()));
        Ok(())
    }
}
