//! Conversions at the boundary: C strings and byte ranges in, heap strings and numbers out, JSON
//! arguments, and blocking on a future with a timeout.

use crate::CoreResult;
use authsec_native::{Error as CoreError, Sleeper, TokioSleeper};
use serde_json::Value;
use std::ffi::{c_char, CStr, CString};
use std::time::Duration;

/// A heap C string for the caller (freed with `authsec_string_free`; interior NULs, which JSON
/// text cannot have, are stripped defensively).
pub(crate) fn to_c(s: String) -> *mut c_char {
    CString::new(s)
        .unwrap_or_else(|e| {
            let mut v = e.into_vec();
            v.retain(|b| *b != 0);
            CString::new(v).expect("no NUL left")
        })
        .into_raw()
}

/// A NUL-terminated UTF-8 argument (`None` for NULL).
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> CoreResult<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    CStr::from_ptr(p)
        .to_str()
        .map(Some)
        .map_err(|_| CoreError::config(format!("{what} is not valid UTF-8")))
}

/// A UTF-8 byte range argument (not NUL-terminated; NULL or 0 bytes is "").
pub(crate) unsafe fn bytes_arg<'a>(p: *const c_char, len: usize, what: &str) -> CoreResult<&'a str> {
    if p.is_null() || len == 0 {
        return Ok("");
    }
    std::str::from_utf8(std::slice::from_raw_parts(p as *const u8, len))
        .map_err(|_| CoreError::config(format!("{what} is not valid UTF-8")))
}

/// A JSON argument: `null` when absent or blank.
pub(crate) fn json_arg(what: &str, s: Option<&str>) -> CoreResult<Value> {
    match s.map(str::trim) {
        None | Some("") => Ok(Value::Null),
        Some(s) => serde_json::from_str(s).map_err(|e| CoreError::config(format!("{what}: {e}"))),
    }
}

/// Store `v` in `*out` unless `out` is NULL.
pub(crate) unsafe fn set_u64(out: *mut u64, v: u64) {
    if !out.is_null() {
        *out = v;
    }
}

/// Store a heap string (or NULL) in `*out` unless `out` is NULL.
pub(crate) unsafe fn set_out(out: *mut *mut c_char, s: Option<String>) {
    if !out.is_null() {
        *out = s.map_or(std::ptr::null_mut(), to_c);
    }
}

/// Store a new handle in `*out`.
pub(crate) unsafe fn put<T>(out: *mut *mut T, v: T) -> CoreResult<()> {
    let out = out.as_mut().ok_or_else(|| CoreError::config("out must not be NULL"))?;
    *out = Box::into_raw(Box::new(v));
    Ok(())
}

/// Free a handle made by `put` (NULL is fine).
pub(crate) unsafe fn free<T>(p: *mut T) {
    if !p.is_null() {
        drop(Box::from_raw(p));
    }
}

/// The object behind a handle argument.
pub(crate) unsafe fn obj<'a, T>(p: *const T, what: &str) -> CoreResult<&'a T> {
    p.as_ref()
        .ok_or_else(|| CoreError::config(format!("{what} must not be NULL")))
}

/// Run `fut` to completion on this thread, bounded by `timeout_ms` (0 = no limit).
pub(crate) fn wait<T>(fut: impl std::future::Future<Output = CoreResult<T>>, timeout_ms: u64) -> CoreResult<T> {
    if timeout_ms == 0 {
        return authsec_native::block_on(fut);
    }
    let sleep = TokioSleeper.sleep(Duration::from_millis(timeout_ms));
    let fut = std::pin::pin!(fut);
    match authsec_native::block_on(futures::future::select(fut, sleep)) {
        futures::future::Either::Left((r, _)) => r,
        futures::future::Either::Right(_) => Err(CoreError::timeout(format!(
            "the operation did not finish within {timeout_ms} ms"
        ))),
    }
}
