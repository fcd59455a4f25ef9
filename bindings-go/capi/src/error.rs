//! Error codes: the C codes (generated from the core's list), the JSON error every fallible
//! export hands out, and what C callers may ask about a code.

use crate::ffi::{set_out, to_c};
use crate::panic::ffi_boundary;
use crate::CoreResult;
use authsec_native::{Error as CoreError, ErrorCode};
use serde_json::{json, Value};
use std::ffi::{c_char, CString};
use std::sync::OnceLock;

// codes:begin (generated from the core's `ErrorCode::ALL` by the `codes_are_generated` test; a new
// core code fails it until `AUTHSEC_WRITE_CODES=1 cargo test -p authsec-capi codes_are_generated`
// adds it with the next free value: values are kept, never reused)
/// Stable error codes (`AUTHSEC_CODE_OK` = 0 is success); `authsec_error_codes_json` describes them.
pub type AuthsecCode = u32;
pub const AUTHSEC_CODE_OK: AuthsecCode = 0;
pub const AUTHSEC_CODE_INVALID_REQUEST: AuthsecCode = 1;
pub const AUTHSEC_CODE_INVALID_CLIENT: AuthsecCode = 2;
pub const AUTHSEC_CODE_INVALID_GRANT: AuthsecCode = 3;
pub const AUTHSEC_CODE_UNAUTHORIZED_CLIENT: AuthsecCode = 4;
pub const AUTHSEC_CODE_UNSUPPORTED_GRANT_TYPE: AuthsecCode = 5;
pub const AUTHSEC_CODE_INVALID_SCOPE: AuthsecCode = 6;
pub const AUTHSEC_CODE_INVALID_TARGET: AuthsecCode = 7;
pub const AUTHSEC_CODE_OAUTH_ERROR: AuthsecCode = 8;
pub const AUTHSEC_CODE_RATE_LIMITED: AuthsecCode = 9;
pub const AUTHSEC_CODE_SERVER_ERROR: AuthsecCode = 10;
pub const AUTHSEC_CODE_INVALID_RESPONSE: AuthsecCode = 11;
pub const AUTHSEC_CODE_NETWORK_ERROR: AuthsecCode = 12;
pub const AUTHSEC_CODE_TIMEOUT: AuthsecCode = 13;
pub const AUTHSEC_CODE_INSECURE_TRANSPORT: AuthsecCode = 14;
pub const AUTHSEC_CODE_CONFIG_ERROR: AuthsecCode = 15;
pub const AUTHSEC_CODE_INVALID_KEY: AuthsecCode = 16;
pub const AUTHSEC_CODE_INVALID_JWKS: AuthsecCode = 17;
pub const AUTHSEC_CODE_JWKS_UNAVAILABLE: AuthsecCode = 18;
pub const AUTHSEC_CODE_WORKLOAD_API_UNAVAILABLE: AuthsecCode = 38;
pub const AUTHSEC_CODE_MALFORMED_TOKEN: AuthsecCode = 19;
pub const AUTHSEC_CODE_TOKEN_TOO_LARGE: AuthsecCode = 20;
pub const AUTHSEC_CODE_UNSUPPORTED_ALGORITHM: AuthsecCode = 21;
pub const AUTHSEC_CODE_ALGORITHM_MISMATCH: AuthsecCode = 22;
pub const AUTHSEC_CODE_KEY_NOT_FOUND: AuthsecCode = 23;
pub const AUTHSEC_CODE_INVALID_SIGNATURE: AuthsecCode = 24;
pub const AUTHSEC_CODE_TOKEN_EXPIRED: AuthsecCode = 25;
pub const AUTHSEC_CODE_TOKEN_NOT_YET_VALID: AuthsecCode = 26;
pub const AUTHSEC_CODE_INVALID_ISSUER: AuthsecCode = 27;
pub const AUTHSEC_CODE_INVALID_AUDIENCE: AuthsecCode = 28;
pub const AUTHSEC_CODE_INVALID_TOKEN_TYPE: AuthsecCode = 29;
pub const AUTHSEC_CODE_UNSUPPORTED_CRITICAL_HEADER: AuthsecCode = 30;
pub const AUTHSEC_CODE_INVALID_CLAIM: AuthsecCode = 31;
pub const AUTHSEC_CODE_INVALID_DELEGATION: AuthsecCode = 34;
pub const AUTHSEC_CODE_DELEGATION_NOT_ALLOWED: AuthsecCode = 35;
pub const AUTHSEC_CODE_INVALID_DPOP_PROOF: AuthsecCode = 36;
pub const AUTHSEC_CODE_USE_DPOP_NONCE: AuthsecCode = 37;
pub const AUTHSEC_CODE_INVALID_SPIFFE_ID: AuthsecCode = 39;
pub const AUTHSEC_CODE_UNKNOWN_TRUST_DOMAIN: AuthsecCode = 40;
pub const AUTHSEC_CODE_INSUFFICIENT_SCOPE: AuthsecCode = 32;
pub const AUTHSEC_CODE_SPIFFE_ID_NOT_ALLOWED: AuthsecCode = 41;
pub const AUTHSEC_CODE_INTERNAL_ERROR: AuthsecCode = 33;
pub const AUTHSEC_CODE_NOT_FOUND: AuthsecCode = 42;
pub const AUTHSEC_CODE_CONFLICT: AuthsecCode = 43;
pub const AUTHSEC_CODE_INVALID_CLIENT_METADATA: AuthsecCode = 44;
pub const AUTHSEC_CODE_ACCESS_DENIED: AuthsecCode = 45;
/// The code of each core code, in the core's order.
#[rustfmt::skip]
const VALUES: [AuthsecCode; 45] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 38, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 34, 35, 36, 37, 39, 40, 32, 41, 33, 42, 43, 44, 45];
// codes:end

/// The C code of a core code (`internal_error` for a code the generated table does not have yet:
/// never an index out of bounds, which would abort outside the panic boundary).
pub(crate) fn from_core(c: ErrorCode) -> AuthsecCode {
    let i = ErrorCode::ALL.iter().position(|x| *x == c);
    i.and_then(|i| VALUES.get(i).copied())
        .unwrap_or(AUTHSEC_CODE_INTERNAL_ERROR)
}

/// An error as the JSON object every fallible export hands out.
pub(crate) fn error_value(e: &CoreError) -> Value {
    json!({
        "code": from_core(e.code()),
        "name": e.code().as_str(),
        "message": e.message(),
        "status": e.status(),
        "retry_after_ms": e.retry_after().map(|d| d.as_millis() as u64),
        "missing_scopes": e.missing_scopes(),
        "oauth_error": e.oauth_error(),
    })
}

fn error_json(e: &CoreError) -> String {
    error_value(e).to_string()
}

/// The end of a fallible export (see `ffi_boundary!`): its code, and its error in `*err`.
pub(crate) unsafe fn result_code(err: *mut *mut c_char, r: std::thread::Result<CoreResult<()>>) -> AuthsecCode {
    let e = match r {
        Ok(Ok(())) => {
            set_out(err, None);
            return AUTHSEC_CODE_OK;
        }
        Ok(Err(e)) => e,
        Err(_) => CoreError::internal("a panic inside authsec was caught at the C boundary; please report it"),
    };
    set_out(err, Some(error_json(&e)));
    from_core(e.code())
}

/// The category of a code, the core's (static; do not free): `token_request`, `unavailable`,
/// `config`, `invalid_token`, `insufficient_scope` or `internal`. NULL for an unknown code.
#[no_mangle]
pub extern "C" fn authsec_error_code_category(code: u32) -> *const c_char {
    ffi_boundary! {
        static T: OnceLock<Vec<CString>> = OnceLock::new();
        let t = T.get_or_init(|| ErrorCode::ALL.iter().map(|c| CString::new(c.category().as_str()).expect("no NUL")).collect());
        VALUES.iter().position(|v| *v == code).map_or(std::ptr::null(), |i| t[i].as_ptr())
    }
}

/// Free a string handed out by this library. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_string_free(s: *mut c_char) {
    ffi_boundary! {
        if !s.is_null() {
            drop(CString::from_raw(s));
        }
    }
}

/// Every error code as a JSON array `[{"code": 1, "name": "...", "description": "...",
/// "category": "...", "class": "...", "retryable": bool}, ...]` in the core's order. Free with
/// `authsec_string_free`.
#[no_mangle]
pub extern "C" fn authsec_error_codes_json() -> *mut c_char {
    ffi_boundary! {
        let v: Vec<Value> = ErrorCode::ALL
            .iter()
            .map(|c| {
                json!({
                    "code": from_core(*c),
                    "name": c.as_str(),
                    "description": c.description(),
                    "category": c.category().as_str(),
                    "class": c.class().name(),
                    "retryable": c.is_retryable(),
                })
            })
            .collect();
        to_c(Value::Array(v).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    /// The block between the markers, as the core's list generates it (values of the codes already
    /// there are kept; a new code gets the next free value).
    fn generated(current: &str) -> String {
        let mut values: Vec<(String, u32)> = current
            .lines()
            .filter_map(|l| {
                l.strip_prefix("pub const AUTHSEC_CODE_")?
                    .strip_suffix(';')?
                    .split_once(": AuthsecCode = ")
            })
            .filter_map(|(n, v)| Some((n.to_string(), v.parse().ok()?)))
            .collect();
        let mut next = values.iter().map(|(_, v)| v + 1).max().unwrap_or(1);
        let mut consts = String::new();
        let mut list = Vec::new();
        for c in ErrorCode::ALL {
            let name = c.as_str().to_ascii_uppercase();
            let v = match values.iter().find(|(n, _)| *n == name) {
                Some((_, v)) => *v,
                None => {
                    values.push((name.clone(), next));
                    next += 1;
                    next - 1
                }
            };
            consts += &format!("pub const AUTHSEC_CODE_{name}: AuthsecCode = {v};\n");
            list.push(v.to_string());
        }
        let (head, _) = current.split_once("pub const AUTHSEC_CODE_OK").unwrap();
        let n = list.len();
        format!(
            "{head}pub const AUTHSEC_CODE_OK: AuthsecCode = 0;\n{consts}/// The code of each core code, in the core's order.\n#[rustfmt::skip]\nconst VALUES: [AuthsecCode; {n}] = [{}];\n",
            list.join(", ")
        )
    }

    #[test]
    fn codes_are_generated() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/error.rs");
        let text = std::fs::read_to_string(path).unwrap();
        let (before, rest) = text.split_once("// codes:begin").unwrap();
        let (block, after) = rest.split_once("// codes:end").unwrap();
        let want = generated(block);
        if std::env::var_os("AUTHSEC_WRITE_CODES").is_some() {
            std::fs::write(path, format!("{before}// codes:begin{want}// codes:end{after}")).unwrap();
        } else {
            assert_eq!(
                block, want,
                "src/error.rs's codes drifted from the core's list: rerun with AUTHSEC_WRITE_CODES=1"
            );
        }
    }

    #[test]
    fn every_core_code_has_a_distinct_c_code_with_its_name_and_category() {
        let mut seen = std::collections::HashSet::new();
        let p = authsec_error_codes_json();
        let list: Vec<Value> = serde_json::from_str(unsafe { CStr::from_ptr(p) }.to_str().unwrap()).unwrap();
        unsafe { authsec_string_free(p) };
        assert_eq!(list.len(), ErrorCode::ALL.len());
        for (c, j) in ErrorCode::ALL.iter().zip(&list) {
            let v = from_core(*c);
            assert!(v != 0 && seen.insert(v), "{c} maps to a reused value");
            assert_eq!(
                (j["code"].as_u64(), j["name"].as_str()),
                (Some(u64::from(v)), Some(c.as_str()))
            );
            let cat = unsafe { CStr::from_ptr(authsec_error_code_category(v)) };
            assert_eq!(cat.to_str().unwrap(), c.category().as_str());
            assert_eq!(j["category"].as_str(), Some(c.category().as_str()));
        }
        assert!(authsec_error_code_category(0).is_null() && authsec_error_code_category(9999).is_null());
    }

    #[test]
    fn a_panic_becomes_internal_error() {
        let mut err = std::ptr::null_mut();
        let code = unsafe { result_code(&mut err, std::panic::catch_unwind(|| panic!("boom"))) };
        assert_eq!(code, AUTHSEC_CODE_INTERNAL_ERROR);
        assert!(!err.is_null());
        unsafe { authsec_string_free(err) };
    }
}
