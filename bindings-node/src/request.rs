//! The resource side of a whole request: the core's `RequestVerifier` (the credential, the target
//! URI behind proxies, the client certificate, the token, its DPoP proof or certificate binding,
//! the server's nonce, the replay cache, the scopes and the answer to a refusal). This file moves
//! the request in and the outcome out; every decision is the core's.

use crate::convert::{f64_value, freeze_value, frozen_array, new_object, null_value, set, str_value, Memo, Raw};
use crate::direct::{handle_value, tag, Handle};
use crate::errors::{error_value, js, ErrorLike};
use crate::spawn::promise;
use crate::verifier::{claims_object, requirement, NativeVerifier};
use authsec_native::core::resource::challenge::{challenge, ChallengeParams};
use authsec_native::core::resource::credential::Scheme;
use authsec_native::core::resource::request::RequestParts;
use authsec_native::core::resource::request_verifier::{
    Accepted, Refusal, RequestPolicy, RequestVerifier, OPTION_NAMES,
};
use authsec_native::{Claims, Clock};
use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::{sys, Env, Result, Task};
use napi_derive::napi;
use parking_lot::Mutex;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// A request as the JS layer reads it from `node:http` (or as a caller gives it).
#[napi(object)]
pub struct RequestInput {
    pub method: String,
    /// The request target as received (`req.originalUrl ?? req.url`).
    pub target: String,
    /// `https` when the connection is TLS, else `http`.
    pub scheme: String,
    /// Every header as name, value, name, value, ... (Node's `rawHeaders`: repeated ones repeated).
    pub headers: Vec<String>,
    /// The peer's address (`req.socket.remoteAddress`).
    pub peer: Option<String>,
    /// The DER of the TLS client certificate.
    pub client_certificate: Option<Buffer>,
}

/// What a check ends with.
pub type Checked = std::result::Result<Accepted, Refusal>;

type CheckFuture = Pin<Box<dyn Future<Output = Checked> + Send>>;

/// The request options the core reads (`RequestPolicy`), both spellings: the JS layer gives them to
/// the request verifier and the rest of a middleware's options to the `Verifier`.
#[napi]
pub fn request_option_names() -> Vec<&'static str> {
    OPTION_NAMES
        .iter()
        .flat_map(|(snake, camel)| [*snake, *camel])
        .collect()
}

#[napi]
pub struct NativeRequestVerifier {
    rv: Arc<RequestVerifier>,
    clock: Arc<dyn Clock>,
    memo: Arc<Mutex<Memo<Claims>>>,
}

#[napi]
impl NativeRequestVerifier {
    /// On `verifier` (its keys, caches and clock) with the request options the core reads
    /// (`RequestPolicy::from_value`); `resourceMetadata` is named in every challenge.
    #[napi(constructor)]
    pub fn new(env: Env, verifier: &NativeVerifier, options: Value, resource_metadata: Option<String>) -> Result<Self> {
        let mut policy = js(&env, RequestPolicy::from_value(&options))?;
        policy.challenge.resource_metadata = resource_metadata;
        let rv = RequestVerifier::new(Arc::new(verifier.verifier.clone()), policy, verifier.clock.clone());
        Ok(NativeRequestVerifier {
            rv: Arc::new(rv),
            clock: verifier.clock.clone(),
            memo: verifier.memo.clone(),
        })
    }

    /// Check a request and the scopes it needs (Promise of the outcome, never rejected for a
    /// refusal). It runs on libuv's thread pool (signature checks are CPU work) and continues on
    /// the `authsec-io` runtime when the core must fetch keys first.
    #[napi(ts_return_type = "Promise<object>")]
    pub fn verify(
        &self,
        env: Env,
        request: RequestInput,
        all: Option<Value>,
        any: Option<Value>,
    ) -> Result<AsyncTask<RequestTask>> {
        Ok(AsyncTask::new(RequestTask {
            fut: Some(check(&env, &self.rv, request, [all, any])?),
            memo: self.memo.clone(),
        }))
    }

    /// The handle for the direct call `requestVerifyNow` (see `direct.rs`).
    #[napi(ts_return_type = "object")]
    pub fn handle(&self, env: Env) -> Result<Raw> {
        handle_value(&env, RequestVerifierHandle(self.rv.clone(), self.memo.clone()))
    }

    /// The answer to a request refused after the core accepted it (a scope check or the host's
    /// `allowedActors` callback): `error` `null` for none, `scheme` the one the request used, the
    /// scopes to name (`requiredScopes` / `anyScopes`), `realm` to override the configured one.
    #[napi(ts_return_type = "object")]
    pub fn refusal(
        &self,
        env: Env,
        error: Option<ErrorLike>,
        scheme: Option<String>,
        all: Option<Value>,
        any: Option<Value>,
        realm: Option<String>,
    ) -> Result<Raw> {
        let err = error.map(|e| js(&env, e.parts().to_error())).transpose()?;
        let used = scheme.map(|s| Scheme::parse(&s).unwrap_or(Scheme::Bearer));
        let scopes = requirement(&env, all, any)?;
        let now = self.clock.now_ms();
        let r = match realm {
            None => self.rv.policy().refusal(err, used, &scopes, now),
            Some(realm) => {
                let mut policy = self.rv.policy().clone();
                policy.challenge.realm = Some(realm);
                policy.refusal(err, used, &scopes, now)
            }
        };
        unsafe { refusal_value(env.raw(), &r) }.map(Raw)
    }
}

/// What the direct call reaches a request verifier by: the same core verifier and claims memo.
pub(crate) struct RequestVerifierHandle(Arc<RequestVerifier>, Arc<Mutex<Memo<Claims>>>);

impl Handle for RequestVerifierHandle {
    const TAG: sys::napi_type_tag = tag(0x6175_7468_7365_6303, 0x71d6_e38b_05ca_f492);
}

/// `verify` on the calling (JavaScript) thread: the outcome when the check needs no I/O (keys at
/// hand, the in-memory replay store), else a Promise of it, the check going on where it stopped
/// on the `authsec-io` runtime (a key fetch).
pub(crate) fn verify_now(
    env: &Env,
    h: &RequestVerifierHandle,
    request: RequestInput,
    scopes: [Option<Value>; 2],
) -> Result<Raw> {
    let mut fut = check(env, &h.0, request, scopes)?;
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(c) => outcome_value(env, &h.1, c),
        Poll::Pending => continue_on_runtime(env, fut, h.1.clone()),
    }
}

/// The core's check of `request` as a future that owns its inputs.
fn check(
    env: &Env,
    rv: &Arc<RequestVerifier>,
    request: RequestInput,
    [all, any]: [Option<Value>; 2],
) -> Result<CheckFuture> {
    let scopes = requirement(env, all, any)?;
    let rv = rv.clone();
    let cert = request.client_certificate.as_ref().map(|b| b.to_vec());
    let RequestInput {
        method,
        target,
        scheme,
        headers,
        peer,
        ..
    } = request;
    Ok(Box::pin(async move {
        let parts = RequestParts {
            method: &method,
            target: &target,
            scheme: &scheme,
            headers: headers
                .chunks_exact(2)
                .map(|p| (p[0].as_str(), p[1].as_str()))
                .collect(),
            peer: peer.as_deref().and_then(|p| p.parse().ok()),
            client_certificate: cert.as_deref(),
        };
        rv.verify(&parts, &scopes).await
    }))
}

/// A check that waits for I/O, polled again by the runtime with its own waker (a future
/// re-registers on every poll): a Promise of its outcome.
fn continue_on_runtime(env: &Env, fut: CheckFuture, memo: Arc<Mutex<Memo<Claims>>>) -> Result<Raw> {
    let p = promise(env, async move { Ok(fut.await) }, move |env, c| {
        outcome_value(env, &memo, c)
    })?;
    Ok(Raw(napi::bindgen_prelude::JsValue::raw(&p)))
}

/// A check: polled once on a pool thread; when it waits for the network, handed to the runtime.
pub struct RequestTask {
    fut: Option<CheckFuture>,
    memo: Arc<Mutex<Memo<Claims>>>,
}

impl Task for RequestTask {
    /// `None`: the check waits for I/O (a key fetch); it goes on on the runtime.
    type Output = Option<Checked>;
    type JsValue = Raw;

    fn compute(&mut self) -> Result<Self::Output> {
        let fut = self.fut.as_mut().expect("polled once");
        Ok(match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(c) => Some(c),
            Poll::Pending => None,
        })
    }

    fn resolve(&mut self, env: Env, out: Self::Output) -> Result<Raw> {
        match out {
            Some(c) => outcome_value(&env, &self.memo, c),
            None => continue_on_runtime(&env, self.fut.take().expect("polled once"), self.memo.clone()),
        }
    }
}

/// `{ accepted: true, claims, token, scheme, dpopJkt, certificateThumbprint, headers }` or the
/// refusal's object.
fn outcome_value(env: &Env, memo: &Mutex<Memo<Claims>>, c: Checked) -> Result<Raw> {
    let a = match c {
        Ok(a) => a,
        Err(r) => return unsafe { refusal_value(env.raw(), &r) }.map(Raw),
    };
    let claims = claims_object(env, memo, &a.claims)?;
    let e = env.raw();
    let opt = |s: Option<&str>| match s {
        Some(s) => unsafe { str_value(e, s) },
        None => unsafe { null_value(e) },
    };
    unsafe {
        let o = new_object(e)?;
        set(e, o, "accepted", bool_value(e, true)?)?;
        set(e, o, "claims", claims.0)?;
        set(e, o, "token", str_value(e, &a.token)?)?;
        set(e, o, "scheme", str_value(e, a.scheme.as_str())?)?;
        set(e, o, "dpopJkt", opt(a.binding.proof.as_ref().map(|p| p.jkt.as_str()))?)?;
        set(e, o, "certificateThumbprint", opt(a.binding.certificate.as_deref())?)?;
        set(e, o, "headers", headers_value(e, &a.headers)?)?;
        Ok(Raw(freeze_value(e, o)?))
    }
}

/// `{ accepted: false, status, error (the core error, or null), oauthError, headers }`.
unsafe fn refusal_value(e: sys::napi_env, r: &Refusal) -> Result<sys::napi_value> {
    let env = Env::from_raw(e);
    unsafe {
        let o = new_object(e)?;
        set(e, o, "accepted", bool_value(e, false)?)?;
        set(e, o, "status", f64_value(e, r.status as f64)?)?;
        let (error, oauth) = match &r.error {
            Some(err) => (
                error_value(&env, err)?,
                // The RFC 6750 (or RFC 9449) error code of the challenge, for the response body.
                challenge(&ChallengeParams::default(), Some(err)).error,
            ),
            None => (null_value(e)?, None),
        };
        set(e, o, "error", error)?;
        let oauth = oauth.map_or_else(|| null_value(e), |s| str_value(e, s))?;
        set(e, o, "oauthError", oauth)?;
        set(e, o, "headers", headers_value(e, &r.headers)?)?;
        freeze_value(e, o)
    }
}

/// Response headers as a frozen array of frozen `[name, value]` pairs, in order.
unsafe fn headers_value(e: sys::napi_env, headers: &[(String, String)]) -> Result<sys::napi_value> {
    unsafe {
        frozen_array(e, headers, |(k, v)| {
            let pair = [str_value(e, k)?, str_value(e, v)?];
            frozen_array(e, &pair, |x| Ok(*x))
        })
    }
}

unsafe fn bool_value(e: sys::napi_env, b: bool) -> Result<sys::napi_value> {
    unsafe { <bool as napi::bindgen_prelude::ToNapiValue>::to_napi_value(e, b) }
}
