//! The verifier: the core's `Verifier` (options, keys, signature, claims, verified-token cache,
//! scope checks).

use crate::clock::ManualClock;
use crate::convert::{
    freeze_value, frozen_array, new_object, null_value, object_with_hidden, set, str_value, undefined_value, Memo, Raw,
};
use crate::direct::{handle_value, tag, Handle};
use crate::errors::{js, to_js_error};
use crate::spawn::promise;
use authsec_native::core::access_token::delegation::Actor;
use authsec_native::core::scope::scopes_of;
use authsec_native::{
    verifier_from_options, Claims, Clock, Error as CoreError, ErrorCode, KeySourceInfo, ScopeRequirement, SystemClock,
    Verifier, VerifierOptions,
};
use napi::bindgen_prelude::{AsyncTask, JsValue, Object, ObjectFinalize};
use napi::{sys, Env, Result, Task};
use napi_derive::napi;
use parking_lot::Mutex;
use serde_json::Value;
use std::sync::Arc;

/// Claims objects remembered per verifier (the core's verified-token cache holds up to 10,000).
const CLAIMS_MEMO: usize = 4096;

/// What the direct calls reach a verifier by: the same core verifier and claims memo.
pub(crate) struct VerifierHandle(pub(crate) Verifier, pub(crate) Arc<Mutex<Memo<Claims>>>);

impl Handle for VerifierHandle {
    const TAG: sys::napi_type_tag = tag(0x6175_7468_7365_6302, 0x4be1_07c9_2fd3_8a65);
}

#[napi(custom_finalize)]
pub struct NativeVerifier {
    pub(crate) verifier: Verifier,
    /// The clock the verifier reads (a request verifier built on it reads the same one).
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) memo: Arc<Mutex<Memo<Claims>>>,
}

impl ObjectFinalize for NativeVerifier {
    fn finalize(self, env: Env) -> Result<()> {
        self.memo.lock().close(&env);
        Ok(())
    }
}

pub(crate) fn claims_object(env: &Env, memo: &Mutex<Memo<Claims>>, claims: &Arc<Claims>) -> Result<Raw> {
    let raw = memo
        .lock()
        .get_or_build(env, claims, |e| unsafe { claims_value(e, claims) })?;
    Ok(Raw(raw))
}

/// The claims as JavaScript sees them: the token's claims (the raw `act` among them), deeply
/// frozen, plus two non-enumerable properties from the core's reading of the `act` chain:
/// `delegation` (a frozen array of actors, current actor first) and `actor` (its first element,
/// or `null` when nobody acts for the subject). Spreads, `Object.keys` and `JSON.stringify` still
/// show exactly the token's claims.
unsafe fn claims_value(env: sys::napi_env, claims: &Claims) -> Result<sys::napi_value> {
    let actors = claims
        .delegation()
        .iter()
        .map(|a| unsafe { actor_value(env, a) })
        .collect::<Result<Vec<_>>>()?;
    let chain = unsafe { frozen_array(env, &actors, |v| Ok(*v))? };
    let current = match actors.first() {
        Some(v) => *v,
        None => unsafe { null_value(env)? },
    };
    unsafe {
        let hidden = [(c"delegation", chain), (c"actor", current)];
        freeze_value(env, object_with_hidden(env, claims.as_map(), &hidden)?)
    }
}

/// One actor: a frozen `{ sub, clientId, iss, id }` (absent members `undefined`; `id` is the core's
/// `Actor::id`, the `client_id` else the `sub`, as policies match it).
unsafe fn actor_value(env: sys::napi_env, a: &Actor) -> Result<sys::napi_value> {
    let opt = |s: &Option<String>| match s {
        Some(s) => unsafe { str_value(env, s) },
        None => unsafe { undefined_value(env) },
    };
    unsafe {
        let o = new_object(env)?;
        set(env, o, "sub", opt(&a.sub)?)?;
        set(env, o, "clientId", opt(&a.client_id)?)?;
        set(env, o, "iss", opt(&a.iss)?)?;
        set(env, o, "id", str_value(env, a.id())?)?;
        freeze_value(env, o)
    }
}

/// Check `requiredScopes` / `anyScopes` against a claims object from [`NativeVerifier::verify`]
/// (the core's `ScopeRequirement`): for the JS layer, which checks scopes after the
/// `allowedActors` callback so a refused actor is refused before a missing scope, in the core's
/// order.
#[napi]
pub fn check_scopes(env: Env, claims: Value, all: Option<Value>, any: Option<Value>) -> Result<()> {
    let req = requirement(&env, all, any)?;
    let granted = claims.as_object().map(scopes_of).unwrap_or_default();
    js(&env, req.check(&granted))
}

/// `requiredScopes` / `anyScopes` as the core reads them (each a list or a space-separated string;
/// `null` when absent, the hot path's common case).
pub(crate) fn requirement(env: &Env, all: Option<Value>, any: Option<Value>) -> Result<ScopeRequirement> {
    let (all, any) = (all.unwrap_or_default(), any.unwrap_or_default());
    js(env, ScopeRequirement::from_values(&all, &any))
}

#[napi]
impl NativeVerifier {
    /// From the options object as JavaScript passes it (the core's `VerifierOptions`).
    #[napi(constructor)]
    pub fn new(env: Env, options: Value, clock: Option<&ManualClock>) -> Result<Self> {
        let clock: Arc<dyn Clock> = match clock {
            Some(m) => Arc::new(m.inner.clone()),
            None => Arc::new(SystemClock),
        };
        let verifier =
            VerifierOptions::from_value(&options).and_then(|o| verifier_from_options(&o, Some(clock.clone())));
        Ok(NativeVerifier {
            verifier: js(&env, verifier)?,
            clock,
            memo: Arc::new(Mutex::new(Memo::new(CLAIMS_MEMO, false))),
        })
    }

    /// The handle for the direct calls `verifierVerifyNow` and `verifierVerifyCached`.
    #[napi(ts_return_type = "object")]
    pub fn handle(&self, env: Env) -> Result<Raw> {
        handle_value(&env, VerifierHandle(self.verifier.clone(), self.memo.clone()))
    }

    /// Full verification on the `authsec-io` runtime (Promise), fetching the key set first: after
    /// [`Self::verify_now`] answered `null`, so the check goes straight to the runtime.
    #[napi(ts_return_type = "Promise<object>")]
    pub fn verify_fetching<'env>(
        &self,
        env: &'env Env,
        token: String,
        all: Option<Value>,
        any: Option<Value>,
    ) -> Result<Object<'env>> {
        let req = requirement(env, all, any)?;
        fetch_and_verify(env, self.verifier.clone(), self.memo.clone(), token, req)
    }

    /// The error for [`Self::verify_now`] answering `null`, for `verifySync` (the core's
    /// `jwks_unavailable`, as the JWT-SVID verifier's `verifySync` throws).
    #[napi(ts_return_type = "Error")]
    pub fn not_at_hand(&self, env: Env) -> Result<Raw> {
        let e = CoreError::new(
            ErrorCode::JwksUnavailable,
            format!(
                "the key set is not at hand yet ({}): await verify() or warm()/Verifier.discover() first, then verifySync()",
                self.keys_description()
            ),
        );
        crate::errors::error_value(&env, &e).map(Raw)
    }

    /// Full verification (Promise): the signature and claims are checked on libuv's thread pool;
    /// when the key set must be fetched first, the fetch runs on the `authsec-io` runtime.
    #[napi(ts_return_type = "Promise<object>")]
    pub fn verify(
        &self,
        env: Env,
        token: String,
        all: Option<Value>,
        any: Option<Value>,
    ) -> Result<AsyncTask<VerifyTask>> {
        Ok(AsyncTask::new(VerifyTask {
            verifier: self.verifier.clone(),
            token,
            req: requirement(&env, all, any)?,
            memo: self.memo.clone(),
        }))
    }

    /// Fetch the keys now (Promise): for a discovered JWKS, the issuer's metadata and the key set.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn warm<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let v = self.verifier.clone();
        promise(env, async move { v.keys().keys().await.map(drop) }, |_, ()| Ok(()))
    }

    /// Tokens in the verified-token cache (internal, for tests).
    #[napi]
    pub fn cached_tokens(&self) -> u32 {
        self.verifier.cached_tokens() as u32
    }

    #[napi]
    pub fn describe(&self) -> String {
        let c = self.verifier.config();
        let issuer = c.issuer.as_deref().unwrap_or("");
        format!(
            "issuer: {issuer:?}, audience: {:?}, {}",
            c.audiences,
            self.keys_description()
        )
    }
}

impl NativeVerifier {
    fn keys_description(&self) -> String {
        match self.verifier.keys().describe() {
            KeySourceInfo::Static { keys } => format!("jwks: {keys} key(s)"),
            KeySourceInfo::Jwks { uri } => format!("jwksUri: {uri:?}"),
            KeySourceInfo::Discovered { issuer, .. } => format!("discovered from: {issuer:?}"),
        }
    }
}

/// The full verification on the `authsec-io` runtime (Promise), the key set fetched first: for a
/// check the core could not answer without the network.
fn fetch_and_verify<'env>(
    env: &'env Env,
    verifier: Verifier,
    memo: Arc<Mutex<Memo<Claims>>>,
    token: String,
    req: ScopeRequirement,
) -> Result<Object<'env>> {
    promise(
        env,
        async move { verifier.verify_with_scopes(&token, &req).await },
        move |env, claims| claims_object(env, &memo, &claims),
    )
}

/// A first-sight verification: CPU-bound work for a worker thread (like node:crypto's async
/// functions), with a hand-off to the I/O runtime when the core needs the JWKS fetched first.
pub struct VerifyTask {
    verifier: Verifier,
    token: String,
    req: ScopeRequirement,
    memo: Arc<Mutex<Memo<Claims>>>,
}

impl Task for VerifyTask {
    /// `None`: the core needs the network (a JWKS fetch); continue on the runtime.
    type Output = Option<authsec_native::Result<Arc<Claims>>>;
    type JsValue = Raw;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(self.verifier.try_verify_now_with(&self.token, &self.req))
    }

    fn resolve(&mut self, env: Env, out: Self::Output) -> Result<Raw> {
        match out {
            Some(Ok(claims)) => claims_object(&env, &self.memo, &claims),
            Some(Err(e)) => Err(to_js_error(&env, &e)),
            None => {
                let (token, req) = (std::mem::take(&mut self.token), std::mem::take(&mut self.req));
                let p = fetch_and_verify(&env, self.verifier.clone(), self.memo.clone(), token, req)?;
                Ok(Raw(p.raw()))
            }
        }
    }
}
