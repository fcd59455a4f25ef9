//! # authsec-capi
//!
//! The C ABI over `authsec-core` (via `authsec-native`). It converts and maps errors; every
//! decision about tokens, keys, claims and scopes is the core's.
//!
//! Conventions (also in the generated `authsec.h`):
//! - Every export is prefixed `authsec_` and runs inside a panic boundary: a panic becomes
//!   `AUTHSEC_CODE_INTERNAL_ERROR`, never an abort across the FFI boundary.
//! - Functions that can fail return an [`AuthsecCode`] (`AUTHSEC_CODE_OK` = 0) and, on failure,
//!   store a heap UTF-8 JSON error in `*error_json` (`{"code", "name", "message", "status",
//!   "retry_after_ms", "missing_scopes", "oauth_error"}`) when `error_json` is not NULL.
//! - Structured data crosses as UTF-8 JSON strings (config in; token, claims, server info out).
//!   Every `char*` handed out is freed with [`authsec_string_free`].
//! - Objects are opaque handles with explicit create/free pairs (`authsec_client_new` /
//!   `authsec_client_free`, `authsec_verifier_new` / `authsec_verifier_free`,
//!   `authsec_server_start` / `authsec_server_free`). Handles are safe to use from many threads
//!   at once; free a handle exactly once, after every call on it has returned.
//! - Blocking calls take `timeout_ms` (0 = no limit); on expiry they fail with
//!   `AUTHSEC_CODE_TIMEOUT`. Callers run them on their own threads (Go: goroutines).
#![allow(clippy::missing_safety_doc)]

use authsec_native::core::resource::bearer as scopes;
use authsec_native::core::scope::split_scopes;
use authsec_native::core::VerifierOptions;
use authsec_native::{
    Claims, ClientConfig, ClientConfigFromProcess, Clock, Error as CoreError, ErrorCode, HttpTransport, ManualClock,
    ScopeRequirement, Sleeper, SystemClock, Token, TokenClient, TokioSleeper, Verifier,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

type CoreResult<T> = authsec_native::Result<T>;

/// Stable error codes (`AUTHSEC_CODE_OK` = 0 is success). Values are explicit and never reused;
/// new codes get new values. `authsec_error_code_name` gives the core's snake_case string.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthsecCode {
    Ok = 0,
    InvalidRequest = 1,
    InvalidClient = 2,
    InvalidGrant = 3,
    UnauthorizedClient = 4,
    UnsupportedGrantType = 5,
    InvalidScope = 6,
    InvalidTarget = 7,
    OauthError = 8,
    RateLimited = 9,
    ServerError = 10,
    InvalidResponse = 11,
    NetworkError = 12,
    Timeout = 13,
    InsecureTransport = 14,
    ConfigError = 15,
    InvalidKey = 16,
    InvalidJwks = 17,
    JwksUnavailable = 18,
    MalformedToken = 19,
    TokenTooLarge = 20,
    UnsupportedAlgorithm = 21,
    AlgorithmMismatch = 22,
    KeyNotFound = 23,
    InvalidSignature = 24,
    TokenExpired = 25,
    TokenNotYetValid = 26,
    InvalidIssuer = 27,
    InvalidAudience = 28,
    InvalidTokenType = 29,
    UnsupportedCriticalHeader = 30,
    InvalidClaim = 31,
    InsufficientScope = 32,
    InternalError = 33,
}

macro_rules! codes {
    ($( $variant:ident ),+ $(,)?) => {
        const ALL_CODES: &[AuthsecCode] = &[ $( AuthsecCode::$variant, )+ ];

        fn from_core(c: ErrorCode) -> AuthsecCode {
            #[allow(unreachable_patterns)]
            match c {
                $( ErrorCode::$variant => AuthsecCode::$variant, )+
                _ => AuthsecCode::InternalError,
            }
        }

        fn to_core(c: AuthsecCode) -> Option<ErrorCode> {
            match c {
                AuthsecCode::Ok => None,
                $( AuthsecCode::$variant => Some(ErrorCode::$variant), )+
            }
        }
    };
}

codes! {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    InvalidTarget,
    OauthError,
    RateLimited,
    ServerError,
    InvalidResponse,
    NetworkError,
    Timeout,
    InsecureTransport,
    ConfigError,
    InvalidKey,
    InvalidJwks,
    JwksUnavailable,
    MalformedToken,
    TokenTooLarge,
    UnsupportedAlgorithm,
    AlgorithmMismatch,
    KeyNotFound,
    InvalidSignature,
    TokenExpired,
    TokenNotYetValid,
    InvalidIssuer,
    InvalidAudience,
    InvalidTokenType,
    UnsupportedCriticalHeader,
    InvalidClaim,
    InsufficientScope,
    InternalError,
}

fn code_from_u32(v: u32) -> Option<AuthsecCode> {
    ALL_CODES.iter().copied().find(|c| *c as u32 == v)
}

// ----------------------------------------------------------------------------------------------
// Plumbing: strings, errors, the panic boundary.

fn to_c(s: String) -> *mut c_char {
    // Interior NULs cannot occur in JSON text produced by serde_json; strip them defensively.
    CString::new(s)
        .unwrap_or_else(|e| {
            let mut v = e.into_vec();
            v.retain(|b| *b != 0);
            CString::new(v).expect("no NUL left")
        })
        .into_raw()
}

unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> CoreResult<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    CStr::from_ptr(p)
        .to_str()
        .map(Some)
        .map_err(|_| CoreError::config(format!("{what} is not valid UTF-8")))
}

/// Store `v` in `*out` unless `out` is NULL.
unsafe fn set_u64(out: *mut u64, v: u64) {
    if !out.is_null() {
        *out = v;
    }
}

unsafe fn set_out(out: *mut *mut c_char, s: Option<String>) {
    if !out.is_null() {
        *out = s.map_or(std::ptr::null_mut(), to_c);
    }
}

fn error_json(e: &CoreError) -> String {
    json!({
        "code": from_core(e.code()) as u32,
        "name": e.code().as_str(),
        "message": e.message(),
        "status": e.status(),
        "retry_after_ms": e.retry_after().map(|d| d.as_millis() as u64),
        "missing_scopes": e.missing_scopes(),
        "oauth_error": e.oauth_error(),
    })
    .to_string()
}

/// Run `f` inside the panic boundary; map its error to a code and `*err`.
unsafe fn guard(err: *mut *mut c_char, f: impl FnOnce() -> CoreResult<()>) -> AuthsecCode {
    if !err.is_null() {
        *err = std::ptr::null_mut();
    }
    let e = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return AuthsecCode::Ok,
        Ok(Err(e)) => e,
        Err(_) => CoreError::internal("a panic inside authsec was caught at the C boundary; please report it"),
    };
    set_out(err, Some(error_json(&e)));
    from_core(e.code())
}

/// Run `fut` to completion on this thread, bounded by `timeout_ms` (0 = no limit).
fn wait<T>(fut: impl std::future::Future<Output = CoreResult<T>>, timeout_ms: u64) -> CoreResult<T> {
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

fn parse_json<T: serde::de::DeserializeOwned + Default>(what: &str, s: Option<&str>) -> CoreResult<T> {
    match s.map(str::trim) {
        None | Some("") | Some("null") => Ok(T::default()),
        Some(s) => serde_json::from_str(s).map_err(|e| CoreError::config(format!("{what}: {e}"))),
    }
}

// ----------------------------------------------------------------------------------------------
// Strings and codes.

/// Free a string handed out by this library. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_string_free(s: *mut c_char) {
    if !s.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(CString::from_raw(s))));
    }
}

fn static_strings(f: fn(ErrorCode) -> &'static str) -> Vec<CString> {
    ALL_CODES
        .iter()
        .map(|c| CString::new(to_core(*c).map_or("", f)).expect("no NUL"))
        .collect()
}

fn lookup(table: &'static OnceLock<Vec<CString>>, f: fn(ErrorCode) -> &'static str, code: u32) -> *const c_char {
    catch_unwind(|| {
        let t = table.get_or_init(|| static_strings(f));
        ALL_CODES
            .iter()
            .position(|c| *c as u32 == code)
            .map_or(std::ptr::null(), |i| t[i].as_ptr())
    })
    .unwrap_or(std::ptr::null())
}

/// The core's stable snake_case name of a code (static; do not free). NULL for an unknown code
/// and for `AUTHSEC_CODE_OK`.
#[no_mangle]
pub extern "C" fn authsec_error_code_name(code: u32) -> *const c_char {
    static T: OnceLock<Vec<CString>> = OnceLock::new();
    lookup(&T, ErrorCode::as_str, code)
}

/// A one-line description of a code (static; do not free). NULL for an unknown code.
#[no_mangle]
pub extern "C" fn authsec_error_message(code: u32) -> *const c_char {
    static T: OnceLock<Vec<CString>> = OnceLock::new();
    lookup(&T, ErrorCode::description, code)
}

/// Every error code as a JSON array `[{"code": 1, "name": "...", "description": "...",
/// "token_error": bool, "retryable": bool}, ...]` in the core's order. Free with
/// `authsec_string_free`.
#[no_mangle]
pub extern "C" fn authsec_error_codes_json() -> *mut c_char {
    catch_unwind(|| {
        let v: Vec<Value> = ErrorCode::ALL
            .iter()
            .map(|c| {
                json!({
                    "code": from_core(*c) as u32,
                    "name": c.as_str(),
                    "description": c.description(),
                    "token_error": c.category() == authsec_native::ErrorCategory::InvalidToken,
                    "retryable": c.is_retryable(),
                })
            })
            .collect();
        to_c(Value::Array(v).to_string())
    })
    .unwrap_or(std::ptr::null_mut())
}

// ----------------------------------------------------------------------------------------------
// Token client.

/// An OAuth client-credentials client with the core's token cache. Opaque.
pub struct AuthsecClient {
    client: TokenClient,
    /// The token last handed out as JSON and its sequence number, so a caller that still holds
    /// that token's decoded form gets just the number back (no JSON across the boundary for the
    /// common case of a cached token). Holding the `Arc` keeps its address unique.
    last: Mutex<(Option<Arc<Token>>, u64)>,
}

impl AuthsecClient {
    /// Hand out `t`: `*seq_out` is its sequence number; `*token_json_out` is its JSON unless the
    /// caller's `known_seq` already names this very token.
    unsafe fn hand_out(&self, t: Arc<Token>, known_seq: u64, token_json_out: *mut *mut c_char, seq_out: *mut u64) {
        let (seq, send) = {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            match &last.0 {
                Some(prev) if Arc::ptr_eq(prev, &t) => (last.1, last.1 != known_seq),
                _ => {
                    last.1 += 1;
                    last.0 = Some(t.clone());
                    (last.1, true)
                }
            }
        };
        if send {
            set_out(token_json_out, Some(token_json(&t)));
        }
        set_u64(seq_out, seq);
    }
}

fn token_json(t: &Token) -> String {
    json!({
        "access_token": t.access_token.expose(),
        "token_type": t.token_type,
        "issued_at_ms": t.issued_at_ms,
        "expires_at_ms": t.expires_at_ms,
        "scopes": t.scopes,
        "authorization": t.authorization(),
    })
    .to_string()
}

unsafe fn put_client(out: *mut *mut AuthsecClient, cfg: ClientConfig) -> CoreResult<()> {
    if out.is_null() {
        return Err(CoreError::config("out must not be NULL"));
    }
    let client = authsec_native::token_client(cfg)?;
    *out = Box::into_raw(Box::new(AuthsecClient {
        client,
        last: Mutex::new((None, 0)),
    }));
    Ok(())
}

/// Create a client from a JSON config using the core's field names (`token_url`, `issuer`,
/// `client_id`, `client_secret`, `scopes`, `audience`, `resource`, `auth_method`, `private_key`,
/// `private_key_alg`, `private_key_id`, `refresh_buffer`, `allow_insecure_http`, ...).
/// Free with `authsec_client_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_client_new(
    config_json: *const c_char,
    out: *mut *mut AuthsecClient,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    guard(error_json, || {
        let v: Value = parse_json("client config", str_arg(config_json, "config_json")?)?;
        put_client(out, ClientConfig::from_value(&v, authsec_native::ProcessEnv)?)
    })
}

/// Create a client from the `AUTHSEC_*` environment variables (the core's reader).
#[no_mangle]
pub unsafe extern "C" fn authsec_client_new_from_env(
    out: *mut *mut AuthsecClient,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    guard(error_json, || put_client(out, ClientConfig::from_env()?))
}

/// Create a client from a YAML config file with `${VAR}` / `${VAR:-default}` interpolation (the
/// core's reader: the same file the Python and Node packages load).
#[no_mangle]
pub unsafe extern "C" fn authsec_client_new_from_config_file(
    path: *const c_char,
    out: *mut *mut AuthsecClient,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    guard(error_json, || {
        let path = str_arg(path, "path")?.ok_or_else(|| CoreError::config("path must not be NULL"))?;
        put_client(out, ClientConfig::from_yaml_file(path)?)
    })
}

/// Free a client. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_client_free(client: *mut AuthsecClient) {
    if !client.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(client))));
    }
}

unsafe fn client_ref<'a>(p: *const AuthsecClient) -> CoreResult<&'a AuthsecClient> {
    p.as_ref().ok_or_else(|| CoreError::config("client must not be NULL"))
}

/// A token from the cache or the token endpoint; blocks. Concurrent callers share one request
/// per cache key (the core's single flight).
///
/// On `AUTHSEC_CODE_OK`, `*seq_out` is the token's sequence number (never 0) and
/// `*token_json_out` is the token as JSON (`access_token`, `token_type`, `issued_at_ms`,
/// `expires_at_ms`, `scopes`, `authorization`) — unless `known_seq` is the sequence number of
/// the very token being handed out (the caller kept its decoded form), in which case
/// `*token_json_out` is NULL. Pass `known_seq` = 0 to always get the JSON.
#[no_mangle]
pub unsafe extern "C" fn authsec_client_token(
    client: *const AuthsecClient,
    timeout_ms: u64,
    known_seq: u64,
    seq_out: *mut u64,
    token_json_out: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    set_out(token_json_out, None);
    set_u64(seq_out, 0);
    guard(error_json, || {
        let ac = client_ref(client)?;
        let t = match ac.client.try_get_now() {
            Some(t) => t,
            None => wait(ac.client.get_token(), timeout_ms)?,
        };
        ac.hand_out(t, known_seq, token_json_out, seq_out);
        Ok(())
    })
}

/// Like `authsec_client_token` when the core can hand out a cached token without waiting; never
/// blocks. When a request is needed, `*seq_out` is 0 and `*token_json_out` NULL (then call
/// `authsec_client_token`).
#[no_mangle]
pub unsafe extern "C" fn authsec_client_token_now(
    client: *const AuthsecClient,
    known_seq: u64,
    seq_out: *mut u64,
    token_json_out: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    set_out(token_json_out, None);
    set_u64(seq_out, 0);
    guard(error_json, || {
        let ac = client_ref(client)?;
        if let Some(t) = ac.client.try_get_now() {
            ac.hand_out(t, known_seq, token_json_out, seq_out);
        }
        Ok(())
    })
}

/// Drop the cached token if it is `access_token` (after a resource server answered 401 for it).
#[no_mangle]
pub unsafe extern "C" fn authsec_client_invalidate_token(client: *const AuthsecClient, access_token: *const c_char) {
    let _ = guard(std::ptr::null_mut(), || {
        if let Some(t) = str_arg(access_token, "access_token")? {
            client_ref(client)?.client.invalidate_token(t);
        }
        Ok(())
    });
}

/// Token requests sent so far, retries included (for tests).
#[no_mangle]
pub unsafe extern "C" fn authsec_client_request_count(client: *const AuthsecClient) -> u64 {
    catch_unwind(AssertUnwindSafe(|| {
        client.as_ref().map_or(0, |c| c.client.request_count())
    }))
    .unwrap_or(0)
}

/// What may be shown of a client (JSON without any secret). Free with `authsec_string_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_client_info_json(client: *const AuthsecClient) -> *mut c_char {
    catch_unwind(AssertUnwindSafe(|| {
        client.as_ref().map_or(std::ptr::null_mut(), |c| {
            let c = c.client.config();
            to_c(
                json!({
                    "client_id": c.client_id,
                    "token_url": c.token_url,
                    "issuer": c.issuer,
                    "auth_method": c.auth_method.as_str(),
                    "scopes": c.scopes,
                    "audience": c.audience,
                    "resource": c.resource,
                })
                .to_string(),
            )
        })
    }))
    .unwrap_or(std::ptr::null_mut())
}

// ----------------------------------------------------------------------------------------------
// Verifier.

/// A JWT access-token verifier. Opaque.
pub struct AuthsecVerifier {
    verifier: Verifier,
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

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    fn into_vec(self) -> Vec<String> {
        match self {
            StringOrList::One(s) => split_scopes(&s),
            StringOrList::Many(v) => v,
        }
    }
}

/// A verifier from the core's options reader, plus `now` (tests only: a fixed clock at this Unix
/// time in seconds).
fn build_verifier(mut v: Value) -> CoreResult<Verifier> {
    let now = match v.as_object_mut().and_then(|m| m.remove("now")) {
        None | Some(Value::Null) => None,
        Some(n) => Some(n.as_i64().ok_or_else(|| CoreError::config("now must be an integer"))?),
    };
    let o = VerifierOptions::from_value(&v)?;
    let clock: Arc<dyn Clock> = match now {
        Some(s) => Arc::new(ManualClock::new(s.saturating_mul(1000))),
        None => Arc::new(SystemClock),
    };
    let keys = o.keys()?.into_provider(HttpTransport::shared(), clock.clone(), None)?;
    Verifier::new(o.config()?, keys, clock)
}

/// Create a verifier from a JSON config: `issuer`, `audience` (string or list), `jwks_uri` or
/// `jwks` (object or JSON text), `algorithms`, `leeway` (seconds), `typ`, `required_claims`,
/// `max_token_bytes`, `skip_issuer_check`, `skip_audience_check`, `verified_cache_size`,
/// `allow_insecure_http`, and for tests `now` (fixed Unix seconds). Free with
/// `authsec_verifier_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_verifier_new(
    config_json: *const c_char,
    out: *mut *mut AuthsecVerifier,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    guard(error_json, || {
        if out.is_null() {
            return Err(CoreError::config("out must not be NULL"));
        }
        let v: Value = parse_json("verifier config", str_arg(config_json, "config_json")?)?;
        let verifier = build_verifier(v)?;
        *out = Box::into_raw(Box::new(AuthsecVerifier {
            verifier,
            pins: Mutex::default(),
        }));
        Ok(())
    })
}

/// Free a verifier. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_verifier_free(verifier: *mut AuthsecVerifier) {
    if !verifier.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(verifier))));
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ScopesArg {
    all_of: Option<StringOrList>,
    any_of: Option<StringOrList>,
}

fn requirement(a: ScopesArg) -> ScopeRequirement {
    ScopeRequirement {
        all_of: a.all_of.map(StringOrList::into_vec).unwrap_or_default(),
        any_of: a.any_of.map(StringOrList::into_vec).unwrap_or_default(),
    }
}

fn check(claims: Arc<Claims>, req: &ScopeRequirement) -> CoreResult<Arc<Claims>> {
    if !req.is_empty() {
        req.check(&claims.scopes())?;
    }
    Ok(claims)
}

fn claims_out(claims: &Claims) -> CoreResult<String> {
    let scopes = serde_json::to_string(&claims.scopes()).map_err(|e| CoreError::internal(e.to_string()))?;
    Ok(format!(r#"{{"claims":{},"scopes":{scopes}}}"#, claims.to_json()))
}

unsafe fn verify_impl(
    verifier: *const AuthsecVerifier,
    token: *const c_char,
    scopes_json: *const c_char,
    timeout_ms: Option<u64>,
    claims_json: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    set_out(claims_json, None);
    guard(error_json, || {
        let v = &verifier
            .as_ref()
            .ok_or_else(|| CoreError::config("verifier must not be NULL"))?
            .verifier;
        let token = str_arg(token, "token")?.unwrap_or("");
        let req = requirement(parse_json("scopes", str_arg(scopes_json, "scopes_json")?)?);
        let claims = match (v.try_verify_now(token), timeout_ms) {
            (Some(r), _) => r?,
            (None, Some(ms)) => wait(v.verify(token), ms)?,
            (None, None) => return Ok(()),
        };
        let claims = check(claims, &req)?;
        set_out(claims_json, Some(claims_out(&claims)?));
        Ok(())
    })
}

/// Verify `token` (exactly as given); on success store `{"claims": {...}, "scopes": [...]}` (the
/// claims and the core's reading of `scope`/`scp`) in `*claims_json`. `scopes_json` is NULL or
/// `{"all_of": [...], "any_of": [...]}`. Blocks only when the key set must be fetched first.
#[no_mangle]
pub unsafe extern "C" fn authsec_verifier_verify(
    verifier: *const AuthsecVerifier,
    token: *const c_char,
    scopes_json: *const c_char,
    timeout_ms: u64,
    claims_json: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    verify_impl(verifier, token, scopes_json, Some(timeout_ms), claims_json, error_json)
}

/// `authsec_verifier_verify` without blocking: when the key set must be fetched first it returns
/// `AUTHSEC_CODE_OK` with `*claims_json` NULL (then call `authsec_verifier_verify`).
#[no_mangle]
pub unsafe extern "C" fn authsec_verifier_verify_now(
    verifier: *const AuthsecVerifier,
    token: *const c_char,
    scopes_json: *const c_char,
    claims_json: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    verify_impl(verifier, token, scopes_json, None, claims_json, error_json)
}

unsafe fn bytes_arg<'a>(p: *const c_char, len: usize, what: &str) -> CoreResult<&'a str> {
    if p.is_null() || len == 0 {
        return Ok("");
    }
    std::str::from_utf8(std::slice::from_raw_parts(p as *const u8, len))
        .map_err(|_| CoreError::config(format!("{what} is not valid UTF-8")))
}

/// `authsec_verifier_verify` / `_verify_now` for callers that memoize the decoding of claims.
/// `token` and `scopes_json` are byte ranges (not NUL-terminated; `scopes_json` may be NULL/0).
/// `block` = false never blocks: when the key set must be fetched first it returns
/// `AUTHSEC_CODE_OK` with `*claims_seq` 0 and `*claims_json` NULL.
///
/// On success the verified claims object (the core's cached, immutable `Arc<Claims>`) is pinned
/// in the verifier and identified by `*claims_id` and `*claims_seq` (> 0; a sequence number never
/// handed out twice by this verifier). `*claims_json` (`{"claims": ..., "scopes": [...]}`) is set
/// only when this call pinned the object, or when `want_json` is true; every answer carrying it
/// hands the caller one reference to the pin, released with `authsec_verifier_unpin` (the pin
/// goes when its last reference does; all pins are freed with the verifier). With the verified-token cache
/// disabled nothing is pinned: `*claims_seq` is 0 and `*claims_json` is always set. Validity,
/// expiry and scopes are decided here on every call, as in `authsec_verifier_verify`.
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
    want_json: bool,
    claims_id: *mut u64,
    claims_seq: *mut u64,
    claims_json: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    set_out(claims_json, None);
    set_u64(claims_id, 0);
    set_u64(claims_seq, 0);
    guard(error_json, || {
        let av = verifier
            .as_ref()
            .ok_or_else(|| CoreError::config("verifier must not be NULL"))?;
        let v = &av.verifier;
        let token = bytes_arg(token, token_len, "token")?;
        let scopes = bytes_arg(scopes_json, scopes_len, "scopes_json")?;
        let req = if scopes.is_empty() {
            ScopeRequirement::default()
        } else {
            requirement(parse_json("scopes", Some(scopes))?)
        };
        let claims = match (v.try_verify_now(token), block) {
            (Some(r), _) => r?,
            (None, true) => wait(v.verify(token), timeout_ms)?,
            (None, false) => return Ok(()),
        };
        let claims = check(claims, &req)?;
        if v.config().verified_cache_size == 0 {
            set_out(claims_json, Some(claims_out(&claims)?));
            return Ok(());
        }
        let id = Arc::as_ptr(&claims) as usize;
        let (seq, send) = {
            let mut p = av.pins.lock().unwrap_or_else(|e| e.into_inner());
            match p.map.get_mut(&id) {
                // The pin keeps the object at this address alive, so it is this very object.
                Some(pin) => {
                    if want_json {
                        pin.refs += 1;
                    }
                    (pin.seq, want_json)
                }
                None => {
                    p.next += 1;
                    let seq = p.next;
                    p.map.insert(
                        id,
                        Pin {
                            _claims: claims.clone(),
                            seq,
                            refs: 1,
                        },
                    );
                    (seq, true)
                }
            }
        };
        if send {
            match claims_out(&claims) {
                Ok(json) => set_out(claims_json, Some(json)),
                Err(e) => {
                    unpin(av, id as u64, seq);
                    return Err(e);
                }
            }
        }
        set_u64(claims_id, id as u64);
        set_u64(claims_seq, seq);
        Ok(())
    })
}

/// Release one reference to a pin taken by `authsec_verifier_verify_pinned` (no-op when the pin
/// is already gone).
#[no_mangle]
pub unsafe extern "C" fn authsec_verifier_unpin(verifier: *const AuthsecVerifier, claims_id: u64, claims_seq: u64) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if let Some(av) = verifier.as_ref() {
            unpin(av, claims_id, claims_seq);
        }
    }));
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
    catch_unwind(AssertUnwindSafe(|| {
        verifier.as_ref().map_or(0, |av| {
            av.pins.lock().unwrap_or_else(|e| e.into_inner()).map.len() as u64
        })
    }))
    .unwrap_or(0)
}

// ----------------------------------------------------------------------------------------------
// RFC 6750 helpers for middleware.

/// The bearer token of an `Authorization` header value (the core's `bearer_token`): on success
/// `*token_out` is the token, or NULL when there is no bearer credential at all; `Bearer` without
/// a token fails with `AUTHSEC_CODE_INVALID_REQUEST`.
#[no_mangle]
pub unsafe extern "C" fn authsec_bearer_token(
    authorization: *const c_char,
    token_out: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    set_out(token_out, None);
    guard(error_json, || {
        let t = scopes::bearer_token(str_arg(authorization, "authorization")?)?;
        set_out(token_out, t.map(str::to_string));
        Ok(())
    })
}

#[derive(Deserialize, Default)]
struct ChallengeArg {
    realm: Option<String>,
    /// The error code (`AuthsecCode`), absent when no token was sent.
    code: Option<u32>,
    message: Option<String>,
    missing_scopes: Option<Vec<String>>,
    required_scopes: Option<Vec<String>>,
}

/// What a protected resource answers when it refuses a request (the core's `challenge`).
/// In: `{"realm", "code", "message", "missing_scopes", "required_scopes"}` (`code` absent = no
/// token was sent). Out: `{"status", "error", "www_authenticate"}`.
#[no_mangle]
pub unsafe extern "C" fn authsec_challenge(
    input_json: *const c_char,
    out_json: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    set_out(out_json, None);
    guard(error_json, || {
        let a: ChallengeArg = parse_json("challenge", str_arg(input_json, "input_json")?)?;
        let err = a.code.map(|c| {
            let code = code_from_u32(c).and_then(to_core).unwrap_or(ErrorCode::InternalError);
            CoreError::new(code, a.message.clone().unwrap_or_default())
                .with_missing_scopes(a.missing_scopes.clone().unwrap_or_default())
        });
        let c = scopes::challenge(a.realm.as_deref(), err.as_ref(), &a.required_scopes.unwrap_or_default());
        set_out(
            out_json,
            Some(json!({"status": c.status, "error": c.error, "www_authenticate": c.www_authenticate}).to_string()),
        );
        Ok(())
    })
}

// ----------------------------------------------------------------------------------------------
// Local authorization server (tests and offline development).

/// A running local authorization server. Opaque.
pub struct AuthsecServer {
    running: Option<authsec_server::RunningServer>,
}

/// Start the local authorization server on 127.0.0.1 and a free port. `config_json` uses the
/// server's field names (`clients: [{client_id, client_secret, allowed_scopes, ...}]`,
/// `signing_alg`, `token_lifetime`, ...); NULL = defaults. `*info_json` receives
/// `{"issuer", "token_endpoint", "jwks_uri", "port"}`. Stop and free with `authsec_server_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_server_start(
    config_json: *const c_char,
    out: *mut *mut AuthsecServer,
    info_json: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    set_out(info_json, None);
    guard(error_json, || {
        if out.is_null() {
            return Err(CoreError::config("out must not be NULL"));
        }
        let mut cfg: authsec_server::ServerConfig = match str_arg(config_json, "config_json")? {
            None => authsec_server::ServerConfig::default(),
            Some(s) => serde_json::from_str(s).map_err(|e| CoreError::config(format!("local server config: {e}")))?,
        };
        cfg.signing_alg()?;
        if cfg.audit_log.is_none() {
            cfg.audit_log = Some("off".into());
        }
        let s =
            authsec_native::runtime().block_on(authsec_server::start(cfg, authsec_server::StartOptions::default()))?;
        set_out(
            info_json,
            Some(
                json!({
                    "issuer": s.issuer(),
                    "token_endpoint": s.token_endpoint(),
                    "jwks_uri": s.jwks_uri(),
                    "port": s.addr().port(),
                })
                .to_string(),
            ),
        );
        *out = Box::into_raw(Box::new(AuthsecServer { running: Some(s) }));
        Ok(())
    })
}

/// Stop a local server and free it. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_server_free(server: *mut AuthsecServer) {
    if !server.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            let mut s = Box::from_raw(server);
            if let Some(r) = s.running.take() {
                authsec_native::runtime().block_on(r.shutdown());
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_code_has_a_distinct_c_code_with_the_same_name() {
        assert_eq!(ErrorCode::ALL.len(), ALL_CODES.len());
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            let v = from_core(*c) as u32;
            assert!(v != 0 && seen.insert(v), "{c} maps to a reused value");
            let name = unsafe { CStr::from_ptr(authsec_error_code_name(v)) };
            assert_eq!(name.to_str().unwrap(), c.as_str());
        }
    }

    #[test]
    fn a_panic_becomes_internal_error() {
        let mut err = std::ptr::null_mut();
        let code = unsafe { guard(&mut err, || panic!("boom")) };
        assert_eq!(code, AuthsecCode::InternalError);
        assert!(!err.is_null());
        unsafe { authsec_string_free(err) };
    }
}
