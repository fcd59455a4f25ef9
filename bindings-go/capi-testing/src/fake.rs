//! The fake SPIFFE Workload API (`authsec_native::workload_api::fake`, feature
//! `fake-workload-api`) for the Go module's tests: `authsec_testing_fake_workload_api_*`.

use crate::panic::ffi_boundary;
use crate::to_c;
use authsec_core::Error as CoreError;
use authsec_native::workload_api::fake::FakeWorkloadApi;
use serde_json::json;
use std::ffi::{c_char, CStr};

/// A running fake Workload API. Opaque.
pub struct AuthsecTestingFakeWorkloadApi(FakeWorkloadApi);

unsafe fn text<'a>(p: *const c_char) -> Option<&'a str> {
    p.as_ref().and_then(|_| CStr::from_ptr(p).to_str().ok())
}

/// Serve a fake Workload API on `path` (a directory, where the socket is `agent.sock`, or the
/// socket's path) as the authority of `trust_domain` (NULL: `example.org`); the SPIFFE ID served
/// is `spiffe://<trust_domain>/workload`. Returns 0, or 1 with `{"name", "message"}` in
/// `*error_json`. Stop and free with `authsec_testing_fake_workload_api_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_testing_fake_workload_api_start(
    path: *const c_char,
    trust_domain: *const c_char,
    out: *mut *mut AuthsecTestingFakeWorkloadApi,
    error_json: *mut *mut c_char,
) -> u32 {
    ffi_boundary! { errors: error_json;
        let out = out.as_mut().ok_or_else(|| CoreError::config("out must not be NULL"))?;
        let path = text(path).ok_or_else(|| CoreError::config("path must be UTF-8"))?;
        let fake = FakeWorkloadApi::start_for(path, text(trust_domain).unwrap_or("example.org"))?;
        *out = Box::into_raw(Box::new(AuthsecTestingFakeWorkloadApi(fake)));
        Ok(())
    }
}

/// Stop a fake Workload API (its socket is removed) and free it. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_testing_fake_workload_api_free(fake: *mut AuthsecTestingFakeWorkloadApi) {
    ffi_boundary! {
        if !fake.is_null() {
            drop(Box::from_raw(fake));
        }
    }
}

/// The fake's state as JSON: `{"endpoint", "trust_domain", "spiffe_id", "jwt_kid", "jwt_bundle"
/// (the JWKS it serves), "calls", "denials_left"}` (free with `authsec_testing_string_free`;
/// NULL for NULL).
#[no_mangle]
pub unsafe extern "C" fn authsec_testing_fake_workload_api_info(
    fake: *const AuthsecTestingFakeWorkloadApi,
) -> *mut c_char {
    ffi_boundary! {
        let Some(f) = fake.as_ref().map(|f| &f.0) else { return std::ptr::null_mut() };
        let bundle: serde_json::Value = serde_json::from_str(&f.jwt_bundle_json()).unwrap_or_default();
        to_c(json!({
            "endpoint": f.endpoint(), "trust_domain": f.trust_domain(), "spiffe_id": f.spiffe_id(),
            "jwt_kid": f.jwt_kid(), "jwt_bundle": bundle, "calls": f.calls(), "denials_left": f.denials_left(),
        }))
    }
}

/// Change the fake: `action` is `set_spiffe_id` (`arg`: the ID), `rotate_jwt_key`, `rotate_x509`,
/// `deny_next` / `refuse_next` (`arg`: how many calls answer `PermissionDenied` /
/// `InvalidArgument`) or `stop`. Returns 0, or 1 with `{"name", "message"}` in `*error_json`.
#[no_mangle]
pub unsafe extern "C" fn authsec_testing_fake_workload_api_control(
    fake: *const AuthsecTestingFakeWorkloadApi,
    action: *const c_char,
    arg: *const c_char,
    error_json: *mut *mut c_char,
) -> u32 {
    ffi_boundary! { errors: error_json;
        let f = &fake.as_ref().ok_or_else(|| CoreError::config("fake must not be NULL"))?.0;
        let arg = text(arg).unwrap_or_default();
        let count = || arg.parse::<u32>().map_err(|_| CoreError::config(format!("not a count: {arg:?}")));
        match text(action).unwrap_or_default() {
            "set_spiffe_id" => f.set_spiffe_id(arg),
            "rotate_jwt_key" => f.rotate_jwt_key(),
            "rotate_x509" => f.rotate_x509(),
            "deny_next" => Ok(f.deny_next(count()?)),
            "refuse_next" => Ok(f.refuse_next(count()?)),
            "stop" => Ok(f.stop()),
            other => Err(CoreError::config(format!("unknown action {other:?}"))),
        }
    }
}
