//! The verifier: the core's `Verifier` (options, keys, signature, claims, verified-token cache,
//! scope checks).

use crate::clock::ManualClock;
use crate::convert::{frozen_object, Memo, Raw};
use crate::errors::{js, to_js_error};
use crate::spawn::promise;
use authsec_native::{
    verifier_from_options, Claims, Clock, KeySourceInfo, ScopeRequirement, Verifier, VerifierOptions,
};
use napi::bindgen_prelude::{AsyncTask, JsValue, Object, ObjectFinalize};
use napi::{Env, Result, Task};
use napi_derive::napi;
use parking_lot::Mutex;
use serde_json::Value;
use std::sync::Arc;

/// Claims objects remembered per verifier (the core's verified-token cache holds up to 10,000).
const CLAIMS_MEMO: usize = 4096;

#[napi(custom_finalize)]
pub struct NativeVerifier {
    verifier: Verifier,
    memo: Arc<Mutex<Memo<Claims>>>,
}

impl ObjectFinalize for NativeVerifier {
    fn finalize(self, env: Env) -> Result<()> {
        self.memo.lock().close(&env);
        Ok(())
    }
}

fn claims_object(env: &Env, memo: &Mutex<Memo<Claims>>, claims: &Arc<Claims>) -> Result<Raw> {
    let raw = memo
        .lock()
        .get_or_build(env, claims, |e| unsafe { frozen_object(e, claims.as_map()) })?;
    Ok(Raw(raw))
}

/// `requiredScopes` / `anyScopes` as the core reads them (each a list or a space-separated string;
/// `null` when absent, the hot path's common case).
fn requirement(env: &Env, all: Option<Value>, any: Option<Value>) -> Result<ScopeRequirement> {
    let (all, any) = (all.unwrap_or_default(), any.unwrap_or_default());
    js(env, ScopeRequirement::from_values(&all, &any))
}

#[napi]
impl NativeVerifier {
    /// From the options object as JavaScript passes it (the core's `VerifierOptions`).
    #[napi(constructor)]
    pub fn new(env: Env, options: Value, clock: Option<&ManualClock>) -> Result<Self> {
        let clock = clock.map(|m| Arc::new(m.inner.clone()) as Arc<dyn Clock>);
        let verifier = VerifierOptions::from_value(&options).and_then(|o| verifier_from_options(&o, clock));
        Ok(NativeVerifier {
            verifier: js(&env, verifier)?,
            memo: Arc::new(Mutex::new(Memo::new(CLAIMS_MEMO, false))),
        })
    }

    /// The claims of a token that verified before and is still valid, after the scope check;
    /// `null` when the token needs a full verification ([`Self::verify`]).
    #[napi(ts_return_type = "object | null")]
    pub fn verify_cached(
        &self,
        env: Env,
        token: String,
        all: Option<Value>,
        any: Option<Value>,
    ) -> Result<Option<Raw>> {
        let req = requirement(&env, all, any)?;
        match self.verifier.try_cached_with(&token, &req) {
            None => Ok(None),
            Some(r) => claims_object(&env, &self.memo, &js(&env, r)?).map(Some),
        }
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
        let keys = match self.verifier.keys().describe() {
            KeySourceInfo::Static { keys } => format!("jwks: {keys} key(s)"),
            KeySourceInfo::Jwks { uri } => format!("jwksUri: {uri:?}"),
            KeySourceInfo::Discovered { issuer, .. } => format!("discovered from: {issuer:?}"),
        };
        let issuer = c.issuer.as_deref().unwrap_or("");
        format!("issuer: {issuer:?}, audience: {:?}, {keys}", c.audiences)
    }
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
                let (verifier, memo) = (self.verifier.clone(), self.memo.clone());
                let (token, req) = (std::mem::take(&mut self.token), std::mem::take(&mut self.req));
                let p = promise(
                    &env,
                    async move { verifier.verify_with_scopes(&token, &req).await },
                    move |env, claims| claims_object(env, &memo, &claims),
                )?;
                Ok(Raw(p.raw()))
            }
        }
    }
}
