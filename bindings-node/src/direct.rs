//! The calls made once per request (a cached token, a verification on the JavaScript thread) as
//! plain Node-API callbacks. napi-rs 3 wraps each `#[napi]` call in borrow bookkeeping (a scope in
//! thread-local storage; for a method, `this` registered in a global `Mutex<HashMap>`): measured
//! ~650 ns per method call here, most of a cached `getToken()`. These read each argument with one
//! Node-API call and reach their object through a type-tagged external [`Handle`], which the JS
//! layer gets once from the `handle()` of `NativeClient`, `NativeVerifier` and
//! `NativeRequestVerifier`. They make the same core calls and conversions as the methods they
//! replace.

use crate::client::{token_object, token_params, ClientHandle};
use crate::convert::{null_value, Raw};
use crate::errors::js;
use crate::request::{verify_now, RequestInput};
use crate::verifier::{claims_object, requirement, VerifierHandle};
use authsec_native::{Claims, ScopeRequirement, Verifier};
use napi::bindgen_prelude::{panic_to_error, FromNapiValue, JsValue, Object};
use napi::{check_status, sys, Env, Error, JsError, Result, Status};
use napi_derive::napi;
use serde_json::Value;
use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

/// A Rust value JavaScript holds as an opaque handle: an external with a type tag, so that any
/// other value passed in its place is refused instead of misread.
pub(crate) trait Handle: Sized + Send + 'static {
    /// This type's tag (random, fixed: handles only live in one process).
    const TAG: sys::napi_type_tag;
}

/// A [`Handle::TAG`] from its two halves.
pub(crate) const fn tag(lower: u64, upper: u64) -> sys::napi_type_tag {
    sys::napi_type_tag { lower, upper }
}

/// `value` as a new handle (freed when JavaScript drops the handle).
pub(crate) fn handle_value<T: Handle>(env: &Env, value: T) -> Result<Raw> {
    let env = env.raw();
    unsafe extern "C" fn finalize<T>(_env: sys::napi_env, data: *mut std::ffi::c_void, _hint: *mut std::ffi::c_void) {
        drop(unsafe { Box::from_raw(data.cast::<T>()) });
    }
    let data = Box::into_raw(Box::new(value));
    let mut out = ptr::null_mut();
    let status = unsafe { sys::napi_create_external(env, data.cast(), Some(finalize::<T>), ptr::null_mut(), &mut out) };
    if status != sys::Status::napi_ok {
        drop(unsafe { Box::from_raw(data) });
        return Err(Error::new(Status::GenericFailure, "cannot create a native handle"));
    }
    check_status!(unsafe { sys::napi_type_tag_object(env, out, &T::TAG) })?;
    Ok(Raw(out))
}

/// The value behind a handle made by [`handle_value`] for `T`.
unsafe fn handle_ref<'a, T: Handle>(env: sys::napi_env, v: sys::napi_value) -> Result<&'a T> {
    let (mut kind, mut tagged) = (0, false);
    check_status!(unsafe { sys::napi_typeof(env, v, &mut kind) })?;
    if kind == sys::ValueType::napi_external {
        check_status!(unsafe { sys::napi_check_object_type_tag(env, v, &T::TAG, &mut tagged) })?;
    }
    if !tagged {
        return Err(Error::new(Status::InvalidArg, "not a handle of this kind (internal)"));
    }
    let mut data = ptr::null_mut();
    check_status!(unsafe { sys::napi_get_value_external(env, v, &mut data) })?;
    // SAFETY: the tag says `data` is the `Box<T>` of `handle_value::<T>`, alive as long as the
    // handle, which the call's arguments keep alive.
    Ok(unsafe { &*data.cast::<T>() })
}

/// Run one call: its first `N` arguments (missing ones `undefined`) to `f`; an error is thrown
/// and a panic becomes a thrown error, as napi-rs does for its own functions.
unsafe fn entry<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    f: impl FnOnce(&Env, [sys::napi_value; N]) -> Result<sys::napi_value>,
) -> sys::napi_value {
    let (mut argc, mut argv, this) = (N, [ptr::null_mut(); N], ptr::null_mut());
    let result = match unsafe { sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), this, ptr::null_mut()) }
    {
        sys::Status::napi_ok => catch_unwind(AssertUnwindSafe(|| f(&Env::from_raw(env), argv)))
            .unwrap_or_else(|panic| Err(panic_to_error(panic))),
        _ => Err(Error::new(Status::GenericFailure, "cannot read the call's arguments")),
    };
    match result {
        Ok(v) => v,
        Err(e) => {
            unsafe { JsError::from(e).throw_into(env) };
            ptr::null_mut()
        }
    }
}

/// An optional JSON argument (`null` and `undefined` are `None`), as napi-rs reads `Option<Value>`.
unsafe fn optional_json(env: sys::napi_env, v: sys::napi_value) -> Result<Option<Value>> {
    let mut t = 0;
    check_status!(unsafe { sys::napi_typeof(env, v, &mut t) })?;
    match t {
        sys::ValueType::napi_null | sys::ValueType::napi_undefined => Ok(None),
        _ => unsafe { Value::from_napi_value(env, v) }.map(Some),
    }
}

/// Tokens up to this many bytes are read into a buffer on the stack.
const STACK_STRING: usize = 8192;

/// `f` on a string argument's UTF-8 (exactly as JavaScript holds it: lone surrogates become
/// U+FFFD, as with napi-rs's `String`), read with one Node-API call when it fits on the stack.
unsafe fn with_str<R>(
    env: sys::napi_env,
    v: sys::napi_value,
    name: &str,
    f: impl FnOnce(&str) -> Result<R>,
) -> Result<R> {
    let mut buf = [const { MaybeUninit::<u8>::uninit() }; STACK_STRING];
    let mut len = 0;
    let status = unsafe { sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr().cast(), buf.len(), &mut len) };
    if status == sys::Status::napi_string_expected {
        return Err(Error::new(Status::StringExpected, format!("{name} must be a string")));
    }
    check_status!(status)?;
    // Node-API copies whole characters only and always ends with a NUL: with more than 4 bytes
    // left over, nothing was cut off.
    if len + 4 < buf.len() {
        // SAFETY: Node-API wrote `len` bytes of UTF-8.
        let bytes = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), len) };
        return f(
            std::str::from_utf8(bytes).map_err(|_| Error::new(Status::InvalidArg, format!("{name} is not UTF-8")))?
        );
    }
    check_status!(unsafe { sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len) })?;
    let mut heap = vec![0u8; len + 1];
    check_status!(unsafe { sys::napi_get_value_string_utf8(env, v, heap.as_mut_ptr().cast(), heap.len(), &mut len) })?;
    heap.truncate(len);
    f(&String::from_utf8(heap).map_err(|_| Error::new(Status::InvalidArg, format!("{name} is not UTF-8")))?)
}

/// `clientTryGetNow(handle, params)`: the cached token when the core can hand it out without
/// waiting, else `null` (`NativeClient`'s `getToken` then asks the token endpoint).
unsafe extern "C" fn client_try_get_now(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    unsafe {
        entry(env, info, |e, [handle, params]: [_; 2]| {
            let ClientHandle(client, memo) = handle_ref(env, handle)?;
            let t = match token_params(e, client, optional_json(env, params)?)? {
                None => client.try_get_now(),
                p => client.try_get_now_for(p),
            };
            t.map_or_else(|| null_value(env), |t| Ok(token_object(e, memo, &t)?.0))
        })
    }
}

type Check = fn(&Verifier, &str, &ScopeRequirement) -> Option<authsec_native::Result<Arc<Claims>>>;

/// `(handle, token, all, any)`: the claims `check` answers with, its error thrown, or `null`.
unsafe fn verify_here(env: sys::napi_env, info: sys::napi_callback_info, check: Check) -> sys::napi_value {
    unsafe {
        entry(env, info, |e, [handle, token, all, any]: [_; 4]| {
            let VerifierHandle(verifier, memo) = handle_ref(env, handle)?;
            let req = requirement(e, optional_json(env, all)?, optional_json(env, any)?)?;
            match with_str(env, token, "the token", |t| Ok(check(verifier, t, &req)))? {
                None => null_value(env),
                Some(r) => Ok(claims_object(e, memo, &js(e, r)?)?.0),
            }
        })
    }
}

/// `verifierVerifyNow(handle, token, all, any)`: full verification on the JavaScript thread when
/// the keys are at hand; `null` when the key set must be fetched first (`verifyFetching`).
unsafe extern "C" fn verifier_verify_now(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    unsafe { verify_here(env, info, Verifier::try_verify_now_with) }
}

/// `verifierVerifyCached(handle, token, all, any)`: the claims of a token that verified before and
/// is still valid; `null` when the token needs a full verification.
unsafe extern "C" fn verifier_verify_cached(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    unsafe { verify_here(env, info, Verifier::try_cached_with) }
}

/// `requestVerifyNow(handle, request, all, any)`: a request checked on the JavaScript thread: the
/// outcome, or a Promise of it when the check waits for I/O (a key fetch).
unsafe extern "C" fn request_verify_now(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    unsafe {
        entry(env, info, |e, [handle, request, all, any]: [_; 4]| {
            let (h, request) = (handle_ref(env, handle)?, RequestInput::from_napi_value(env, request)?);
            Ok(verify_now(e, h, request, [optional_json(env, all)?, optional_json(env, any)?])?.0)
        })
    }
}

type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

const DIRECT_CALLS: [(&CStr, Callback); 4] = [
    (c"clientTryGetNow", client_try_get_now),
    (c"requestVerifyNow", request_verify_now),
    (c"verifierVerifyNow", verifier_verify_now),
    (c"verifierVerifyCached", verifier_verify_cached),
];

/// Put the direct calls on the module's exports.
#[napi(module_exports)]
pub fn export_direct_calls(exports: Object, env: Env) -> Result<()> {
    for (name, callback) in DIRECT_CALLS {
        let (e, mut f, len) = (env.raw(), ptr::null_mut(), name.count_bytes() as isize);
        check_status!(unsafe {
            sys::napi_create_function(e, name.as_ptr(), len, Some(callback), ptr::null_mut(), &mut f)
        })?;
        check_status!(unsafe { sys::napi_set_named_property(e, exports.raw(), name.as_ptr(), f) })?;
    }
    Ok(())
}
