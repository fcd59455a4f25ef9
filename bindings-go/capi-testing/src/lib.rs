//! # authsec-capi-testing
//!
//! The local authorization server (`authsec-server`: axum, SQLite) for the Go module's tests: a
//! shared library (`libauthsec_capi_testing`) that the Go package `authsectest` links with an rpath, so
//! the production static library (`libauthsec_capi.a`) carries no server. Shared, because two Rust
//! static libraries cannot be linked into one Go binary (each carries the Rust runtime's symbols):
//! this one keeps its runtime private and exports only the `authsec_testing_*` functions. With the
//! (default) feature `fake-workload-api` it also serves a fake SPIFFE Workload API ([`fake`]).
#![allow(clippy::missing_safety_doc)]

#[cfg(feature = "fake-workload-api")]
mod fake;
#[path = "../../capi/src/panic.rs"]
mod panic;

use authsec_core::{Clock, Error as CoreError};
use authsec_server::{RunningServer, ServerConfig, StartOptions};
use panic::ffi_boundary;
use serde_json::json;
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

type CoreResult<T> = authsec_core::Result<T>;

/// The runtime the servers run on (this library's own).
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Runtime::new().expect("authsec testing: cannot start the runtime"))
}

/// A test clock shared by the production library (`authsec_clock_share`): its state, read
/// atomically (`AtomicI64` is laid out as an `i64` in both libraries), and the reference this
/// clock owns, given back with `release` (the production library's `authsec_clock_release`).
struct SharedClock {
    state: *const AtomicI64,
    release: unsafe extern "C" fn(*const c_void),
}

// SAFETY: the state is an atomic, kept alive by the reference this clock owns until it is dropped.
unsafe impl Send for SharedClock {}
unsafe impl Sync for SharedClock {}

impl Clock for SharedClock {
    fn now_ms(&self) -> i64 {
        // SAFETY: see the type's docs.
        unsafe { (*self.state).load(Ordering::SeqCst) }
    }
}

impl Drop for SharedClock {
    fn drop(&mut self) {
        // SAFETY: the reference handed to this clock is given back exactly once.
        unsafe { (self.release)(self.state.cast()) }
    }
}

/// A heap C string for the caller (freed with `authsec_testing_string_free`).
fn to_c(v: serde_json::Value) -> *mut c_char {
    CString::new(v.to_string()).map_or(std::ptr::null_mut(), CString::into_raw)
}

/// A running local server. Opaque.
pub struct AuthsecTestingServer(Option<RunningServer>);

/// The end of a fallible export (see `ffi_boundary!`): 0, or 1 with `{"name", "message"}` in `*err`.
unsafe fn result_code(err: *mut *mut c_char, r: std::thread::Result<CoreResult<()>>) -> u32 {
    let e = match r {
        Ok(Ok(())) => return 0,
        Ok(Err(e)) => e,
        Err(_) => CoreError::internal("a panic inside the authsec testing library was caught; please report it"),
    };
    if !err.is_null() {
        let text = json!({"name": e.code().as_str(), "message": e.message()}).to_string();
        *err = CString::new(text).map_or(std::ptr::null_mut(), CString::into_raw);
    }
    1
}

/// Start the local authorization server on 127.0.0.1 and a free port. `config_json` uses the
/// server's settings (`clients: [{client_id, client_secret, allowed_scopes, ...}]`,
/// `signing_alg`, `token_lifetime`, ...; NULL = defaults; the audit log is off unless set).
/// `clock_state`/`clock_release`: NULL, or a shared test clock from `authsec_clock_share` and
/// `authsec_clock_release`, whose reference this call takes over in every case. On success
/// (0) `*info_json` is `{"issuer", "token_endpoint", "jwks_uri", "port"}` (free it with
/// `authsec_testing_string_free`); on failure (1) `*error_json` is `{"name", "message"}`. Stop and
/// free with `authsec_testing_server_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_testing_server_start(
    config_json: *const c_char,
    clock_state: *const c_void,
    clock_release: Option<unsafe extern "C" fn(*const c_void)>,
    out: *mut *mut AuthsecTestingServer,
    info_json: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> u32 {
    ffi_boundary! { errors: error_json;
        let clock: Arc<dyn Clock> = match (clock_state.is_null(), clock_release) {
            (true, _) => Arc::new(authsec_core::SystemClock),
            (false, Some(release)) => Arc::new(SharedClock { state: clock_state.cast(), release }),
            (false, None) => return Err(CoreError::config("a shared clock needs its release function")),
        };
        let out = out.as_mut().ok_or_else(|| CoreError::config("out must not be NULL"))?;
        let config = match config_json.as_ref() {
            None => None,
            Some(_) => Some(serde_json::from_slice(CStr::from_ptr(config_json).to_bytes())
                .map_err(|e| CoreError::config(format!("local server config: {e}")))?),
        };
        let env = |name: &str| std::env::var(name).ok();
        let cfg = ServerConfig::embedded(config.as_ref(), None, env)?;
        let opts = StartOptions { clock, ..StartOptions::default() };
        let s = runtime().block_on(authsec_server::start(cfg, opts))?;
        let (issuer, port) = (s.issuer(), s.addr().port());
        let info = json!({"issuer": issuer, "token_endpoint": s.token_endpoint(), "jwks_uri": s.jwks_uri(), "port": port});
        if !info_json.is_null() {
            *info_json = CString::new(info.to_string()).map_or(std::ptr::null_mut(), CString::into_raw);
        }
        *out = Box::into_raw(Box::new(AuthsecTestingServer(Some(s))));
        Ok(())
    }
}

/// Stop a local server and free it. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_testing_server_free(server: *mut AuthsecTestingServer) {
    ffi_boundary! {
        if !server.is_null() {
            if let Some(r) = Box::from_raw(server).0.take() {
                runtime().block_on(r.shutdown());
            }
        }
    }
}

/// Free a string handed out by this library. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_testing_string_free(s: *mut c_char) {
    ffi_boundary! {
        if !s.is_null() {
            drop(CString::from_raw(s));
        }
    }
}
