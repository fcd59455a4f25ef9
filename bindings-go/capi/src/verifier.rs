//! The JWT access-token verifier: `authsec_verifier_*`.

use crate::clock::AuthsecClock;
use crate::error::AuthsecCode;
use crate::ffi::{bytes_arg, free, json_arg, obj, put, set_u64, str_arg, wait};
use crate::panic::ffi_boundary;
use crate::CoreResult;
use authsec_native::core::access_token::delegation;
use authsec_native::core::VerifierOptions;
use authsec_native::{Claims, Clock, Error as CoreError, ScopeRequirement, SystemClock, Verifier};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_char;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

/// A JWT access-token verifier. Opaque.
pub struct AuthsecVerifier {
    pub(crate) verifier: Verifier,
    /// The verifier's clock, for the request verifiers made from it.
    pub(crate) clock: Arc<dyn Clock>,
    pins: Mutex<Pins>,
}

/// Claims objects pinned for a caller that memoizes their decoding (see
/// `authsec_verifier_verify_pinned`): keyed by the `Arc`'s address, which cannot be reused while
/// the pin keeps the object alive; `seq` is a per-verifier sequence number never handed out twice;
/// `refs` counts the references handed out (one per answer carrying the claims JSON).
#[derive(Default)]
struct Pins {
    next: u64,
    map: HashMap<usize, Pin>,
}

struct Pin {
    _claims: Arc<Claims>,
    seq: u64,
    refs: u64,
}

/// Create a verifier from options as JSON, read by the core (`VerifierOptions`: `issuer`,
/// `audience`, one of `jwks_uri`, `jwks` and `discover`, `algorithms`, `leeway`, ...). `clock`:
/// NULL for the system clock, or a test clock. Free with `authsec_verifier_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_verifier_new(
    config_json: *const c_char,
    clock: *const AuthsecClock,
    out: *mut *mut AuthsecVerifier,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        let o = VerifierOptions::from_value(&json_arg("verifier config", str_arg(config_json, "config_json")?)?)?;
        let clock = clock.as_ref().map_or_else(|| Arc::new(SystemClock) as Arc<dyn Clock>, AuthsecClock::shared);
        let verifier = authsec_native::verifier_from_options(&o, Some(clock.clone()))?;
        put(out, AuthsecVerifier { verifier, clock, pins: Mutex::default() })
    }
}

/// Free a verifier. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_verifier_free(verifier: *mut AuthsecVerifier) {
    ffi_boundary! {
        free(verifier)
    }
}

/// A scope requirement as JSON (`""`: none).
pub(crate) fn scope_requirement(scopes: &str) -> CoreResult<ScopeRequirement> {
    match scopes {
        "" => Ok(ScopeRequirement::default()),
        s => {
            let s = json_arg("scopes_json", Some(s))?;
            ScopeRequirement::from_values(&s["all_of"], &s["any_of"])
        }
    }
}

thread_local! {
    /// The scope requirement last read on this thread and its text: callers repeat the same few
    /// (a Go program passes the same `RequireScopes` on every request), and reading it is a JSON
    /// parse. A requirement is a pure function of its text, so any verifier may reuse it.
    static LAST_SCOPES: RefCell<Option<(Box<str>, Rc<ScopeRequirement>)>> = const { RefCell::new(None) };
}

/// [`scope_requirement`], reusing the last one read on this thread when `scopes` is the same text.
fn scope_requirement_reused(scopes: &str) -> CoreResult<Rc<ScopeRequirement>> {
    LAST_SCOPES.with(|last| {
        if let Some((text, req)) = &*last.borrow() {
            if **text == *scopes {
                return Ok(req.clone());
            }
        }
        let req = Rc::new(scope_requirement(scopes)?);
        *last.borrow_mut() = Some((scopes.into(), req.clone()));
        Ok(req)
    })
}

/// The core's verification with scopes: `None` when it would block and `block` is false.
fn verify(v: &Verifier, token: &str, scopes: &str, block: bool, timeout_ms: u64) -> CoreResult<Option<Arc<Claims>>> {
    static NONE: ScopeRequirement = ScopeRequirement {
        all_of: Vec::new(),
        any_of: Vec::new(),
    };
    let reused;
    let req = match scopes {
        "" => &NONE,
        s => {
            reused = scope_requirement_reused(s)?;
            &*reused
        }
    };
    match (v.try_verify_now_with(token, req), block) {
        (Some(r), _) => r.map(Some),
        (None, true) => wait(v.verify_with_scopes(token, req), timeout_ms).map(Some),
        (None, false) => Ok(None),
    }
}

pub(crate) fn claims_out(claims: &Claims) -> CoreResult<String> {
    let scopes = serde_json::to_string(claims.granted_scopes()).map_err(|e| CoreError::internal(e.to_string()))?;
    let delegation = claims.delegation_value();
    Ok(format!(
        r#"{{"claims":{},"scopes":{scopes},"delegation":{delegation}}}"#,
        claims.to_json()
    ))
}

/// The claims as `authsec_verifier_verify_pinned` hands them out: a sequence of items, each a
/// little-endian u32 byte length then that many bytes (UTF-8), or a little-endian u32 count:
/// the claims object as JSON text; `iss`, `sub` and `client_id` (each the claim when it is a
/// string, else empty); the count of granted scopes (the core's reading of scope/scp), then each
/// scope; the count of actors in the delegation chain (the core's act chain, current actor first),
/// then each actor's `sub`, `client_id` and `iss` (empty when absent).
pub(crate) fn claims_wire(claims: &Claims, out: &mut Vec<u8>) -> CoreResult<()> {
    fn len(n: usize) -> CoreResult<[u8; 4]> {
        u32::try_from(n)
            .map(u32::to_le_bytes)
            .map_err(|_| CoreError::internal("the claims are too large to hand out"))
    }
    fn item(out: &mut Vec<u8>, s: &str) -> CoreResult<()> {
        out.extend_from_slice(&len(s.len())?);
        out.extend_from_slice(s.as_bytes());
        Ok(())
    }
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    serde_json::to_writer(&mut *out, claims.as_map()).map_err(|e| CoreError::internal(e.to_string()))?;
    let json_len = len(out.len() - start - 4)?;
    out[start..start + 4].copy_from_slice(&json_len);
    let text = |name: &str| claims.get(name).and_then(serde_json::Value::as_str).unwrap_or("");
    for name in ["iss", "sub", "client_id"] {
        item(out, text(name))?;
    }
    let scopes = claims.granted_scopes();
    out.extend_from_slice(&len(scopes.len())?);
    for s in scopes {
        item(out, s)?;
    }
    let actors = claims.delegation();
    out.extend_from_slice(&len(actors.len())?);
    for a in actors {
        for m in [&a.sub, &a.client_id, &a.iss] {
            item(out, m.as_deref().unwrap_or(""))?;
        }
    }
    Ok(())
}

/// Hand `claims` out as [`claims_wire`] encodes them: into `buf` when they fit in `cap` bytes,
/// else into a new heap buffer in `*heap` (freed with `authsec_bytes_free`); `*len` is their length.
unsafe fn put_claims(claims: &Claims, buf: *mut u8, cap: usize, len: *mut usize, heap: *mut *mut u8) -> CoreResult<()> {
    if len.is_null() || heap.is_null() {
        return Err(CoreError::config("claims_len and claims_heap must not be NULL"));
    }
    let mut v = Vec::with_capacity(512);
    claims_wire(claims, &mut v)?;
    *len = v.len();
    if !buf.is_null() && v.len() <= cap {
        std::ptr::copy_nonoverlapping(v.as_ptr(), buf, v.len());
    } else {
        *heap = Box::into_raw(v.into_boxed_slice()) as *mut u8;
    }
    Ok(())
}

/// Free a byte buffer handed out by this library (`claims_heap` of
/// `authsec_verifier_verify_pinned`) with its length. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_bytes_free(p: *mut u8, len: usize) {
    ffi_boundary! {
        if !p.is_null() {
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, len)));
        }
    }
}

/// Verify `token` (exactly as given) and the scopes `scopes_json` requires (NULL/0, or
/// `{"all_of": [...], "any_of": [...]}`, each a list or a space-separated string); both are byte
/// ranges (not NUL-terminated). When the key set must be fetched first and `block` is false it
/// returns `AUTHSEC_CODE_OK` with `*claims_seq` 0 and `*claims_len` 0; `timeout_ms` bounds a
/// blocking call (0 = none).
///
/// On success the verified claims object (the core's cached, immutable `Arc<Claims>`) is pinned
/// in the verifier and identified by `*claims_id` and `*claims_seq` (> 0; a sequence number never
/// handed out twice by this verifier). The claims (the claims JSON, `iss`, `sub`, `client_id`, the
/// core's reading of scope/scp and of the act chain, in the binary layout of the C API's
/// `claims_wire`) are handed out only when this call pinned the object, or when `want_claims` is
/// true: `*claims_len` is then their length (> 0, else 0) and they are written to `claims_buf`
/// when they fit in `claims_cap` bytes, else to a new buffer in `*claims_heap` (freed with
/// `authsec_bytes_free`; NULL otherwise). Every answer carrying claims hands the caller one
/// reference to the pin, released with `authsec_verifier_unpin` (the pin goes when its last
/// reference does; all pins are freed with the verifier). With the verified-token cache disabled
/// nothing is pinned: `*claims_seq` is 0 and the claims are always handed out. Validity, expiry
/// and scopes are decided by the core on every call. The C side keeps none of the pointers.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn authsec_verifier_verify_pinned(
    verifier: *const AuthsecVerifier,
    token: *const c_char,
    token_len: usize,
    scopes_json: *const c_char,
    scopes_len: usize,
    block: bool,
    timeout_ms: u64,
    want_claims: bool,
    claims_id: *mut u64,
    claims_seq: *mut u64,
    claims_buf: *mut u8,
    claims_cap: usize,
    claims_len: *mut usize,
    claims_heap: *mut *mut u8,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_u64(claims_id, 0);
        set_u64(claims_seq, 0);
        if !claims_len.is_null() {
            *claims_len = 0;
        }
        if !claims_heap.is_null() {
            *claims_heap = std::ptr::null_mut();
        }
        let av = obj(verifier, "verifier")?;
        let token = bytes_arg(token, token_len, "token")?;
        let scopes = bytes_arg(scopes_json, scopes_len, "scopes_json")?;
        let Some(claims) = verify(&av.verifier, token, scopes, block, timeout_ms)? else {
            return Ok(());
        };
        if av.verifier.config().verified_cache_size == 0 {
            return put_claims(&claims, claims_buf, claims_cap, claims_len, claims_heap);
        }
        let id = Arc::as_ptr(&claims) as usize;
        let (seq, send) = {
            let mut p = av.pins.lock().unwrap_or_else(|e| e.into_inner());
            match p.map.get_mut(&id) {
                // The pin keeps the object at this address alive, so it is this very object.
                Some(pin) => {
                    pin.refs += u64::from(want_claims);
                    (pin.seq, want_claims)
                }
                None => {
                    p.next += 1;
                    let seq = p.next;
                    p.map.insert(id, Pin { _claims: claims.clone(), seq, refs: 1 });
                    (seq, true)
                }
            }
        };
        if send {
            if let Err(e) = put_claims(&claims, claims_buf, claims_cap, claims_len, claims_heap) {
                unpin(av, id as u64, seq);
                return Err(e);
            }
        }
        set_u64(claims_id, id as u64);
        set_u64(claims_seq, seq);
        Ok(())
    }
}

/// The error for an actor refused by the caller's own check (the Go `VerifierConfig.AllowActor`
/// callback, run after a delegated token verified): always returns
/// `AUTHSEC_CODE_DELEGATION_NOT_ALLOWED` with the core's error (worded like its own refusals,
/// naming `actor_id`) in `*error_json`.
#[no_mangle]
pub unsafe extern "C" fn authsec_actor_refused(actor_id: *const c_char, error_json: *mut *mut c_char) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        let id = str_arg(actor_id, "actor_id")?.unwrap_or_default();
        Err(delegation::actor_refused(id))
    }
}

/// Release one reference to a pin taken by `authsec_verifier_verify_pinned` (no-op when the pin
/// is already gone).
#[no_mangle]
pub unsafe extern "C" fn authsec_verifier_unpin(verifier: *const AuthsecVerifier, claims_id: u64, claims_seq: u64) {
    ffi_boundary! {
        if let Some(av) = verifier.as_ref() {
            unpin(av, claims_id, claims_seq);
        }
    }
}

fn unpin(av: &AuthsecVerifier, claims_id: u64, claims_seq: u64) {
    let mut p = av.pins.lock().unwrap_or_else(|e| e.into_inner());
    let id = claims_id as usize;
    if let Some(pin) = p.map.get_mut(&id).filter(|pin| pin.seq == claims_seq) {
        pin.refs -= 1;
        if pin.refs == 0 {
            p.map.remove(&id);
        }
    }
}

/// Claims objects currently pinned (for tests).
#[no_mangle]
pub unsafe extern "C" fn authsec_verifier_pinned_count(verifier: *const AuthsecVerifier) -> u64 {
    ffi_boundary! {
        verifier.as_ref().map_or(0, |av| av.pins.lock().unwrap_or_else(|e| e.into_inner()).map.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{authsec_string_free, AUTHSEC_CODE_DELEGATION_NOT_ALLOWED};
    use std::ffi::{CStr, CString};

    #[test]
    fn actor_refused_is_the_cores_delegation_not_allowed() {
        let id = CString::new("tool").unwrap();
        let mut err = std::ptr::null_mut();
        let code = unsafe { authsec_actor_refused(id.as_ptr(), &mut err) };
        assert_eq!(code, AUTHSEC_CODE_DELEGATION_NOT_ALLOWED);
        let e: serde_json::Value = serde_json::from_str(unsafe { CStr::from_ptr(err) }.to_str().unwrap()).unwrap();
        unsafe { authsec_string_free(err) };
        assert_eq!(e["name"], "delegation_not_allowed");
        assert_eq!(e["message"].as_str(), Some(delegation::actor_refused("tool").message()));
    }
}
