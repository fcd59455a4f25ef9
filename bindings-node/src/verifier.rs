//! The verifier: the core's `Verifier` (signature, claims, verified-token cache) with a static
//! JWKS or a cached `jwks_uri`.

use crate::client::{strings, Strings};
use crate::clock::ManualClock;
use crate::convert::{frozen_object, Memo, Raw};
use crate::errors::{js, to_js_error};
use crate::spawn::promise;
use authsec_native::core::VerifierOptions;
use authsec_native::{Claims, Clock, HttpTransport, KeySourceInfo, ScopeRequirement, SystemClock, Verifier};
use napi::bindgen_prelude::{AsyncTask, JsValue, Object, ObjectFinalize};
use napi::Task;
use napi::{Env, Result};
use napi_derive::napi;
use parking_lot::Mutex;
use serde_json::Value;
use std::sync::Arc;

fn requirement(required: Option<Strings>, any: Option<Strings>) -> Option<ScopeRequirement> {
    let r = ScopeRequirement {
        all_of: required.map(strings).unwrap_or_default(),
        any_of: any.map(strings).unwrap_or_default(),
    };
    (!r.is_empty()).then_some(r)
}

/// A verifier from the core's options reader (camelCase names; an unknown option is an error).
fn build(o: &VerifierOptions, clock: Option<&ManualClock>) -> authsec_native::Result<Verifier> {
    let clock: Arc<dyn Clock> = match clock {
        Some(m) => Arc::new(m.inner.clone()),
        None => Arc::new(SystemClock),
    };
    let keys = o.keys()?.into_provider(HttpTransport::shared(), clock.clone(), None)?;
    Verifier::new(o.config()?, keys, clock)
}

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

#[napi]
impl NativeVerifier {
    #[napi(constructor)]
    pub fn new(env: Env, options: Option<Value>, clock: Option<&ManualClock>) -> Result<Self> {
        let options = js(&env, VerifierOptions::from_value(&options.unwrap_or(Value::Null)))?;
        Ok(NativeVerifier {
            verifier: js(&env, build(&options, clock))?,
            memo: Arc::new(Mutex::new(Memo::new(CLAIMS_MEMO, false))),
        })
    }

    /// The claims of a token that verified before and is still valid (the verified-token cache,
    /// then the scope check); `null` when the token needs a full verification ([`Self::verify`]).
    #[napi(ts_return_type = "Readonly<Record<string, unknown>> | null")]
    pub fn verify_cached(
        &self,
        env: Env,
        token: String,
        required_scopes: Option<Strings>,
        any_scopes: Option<Strings>,
    ) -> Result<Option<Raw>> {
        let Some(claims) = self.verifier.try_cached(&token) else {
            return Ok(None);
        };
        if let Some(req) = requirement(required_scopes, any_scopes) {
            js(&env, req.check(&claims.scopes()))?;
        }
        claims_object(&env, &self.memo, &claims).map(Some)
    }

    /// Full verification (Promise): the signature and claims are checked on libuv's thread pool;
    /// when the key set must be fetched first, the fetch runs on the `authsec-io` runtime.
    #[napi(ts_return_type = "Promise<Readonly<Record<string, unknown>>>")]
    pub fn verify(
        &self,
        token: String,
        required_scopes: Option<Strings>,
        any_scopes: Option<Strings>,
    ) -> AsyncTask<VerifyTask> {
        AsyncTask::new(VerifyTask {
            verifier: self.verifier.clone(),
            token,
            req: requirement(required_scopes, any_scopes),
            memo: self.memo.clone(),
        })
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
        format!(
            "issuer: {:?}, audience: {:?}, {keys}",
            c.issuer.as_deref().unwrap_or(""),
            c.audiences
        )
    }
}

/// A first-sight verification: CPU-bound work for a worker thread (like node:crypto's async
/// functions), with a hand-off to the I/O runtime when the core needs the JWKS fetched first.
pub struct VerifyTask {
    verifier: Verifier,
    token: String,
    req: Option<ScopeRequirement>,
    memo: Arc<Mutex<Memo<Claims>>>,
}

pub enum VerifyOutcome {
    Done(authsec_native::Result<Arc<Claims>>),
    /// The core needs the network (a JWKS fetch): continue on the runtime.
    NeedsIo,
}

fn check(claims: Arc<Claims>, req: Option<&ScopeRequirement>) -> authsec_native::Result<Arc<Claims>> {
    if let Some(req) = req {
        req.check(&claims.scopes())?;
    }
    Ok(claims)
}

impl Task for VerifyTask {
    type Output = VerifyOutcome;
    type JsValue = Raw;

    fn compute(&mut self) -> Result<VerifyOutcome> {
        Ok(match self.verifier.try_verify_now(&self.token) {
            Some(r) => VerifyOutcome::Done(r.and_then(|c| check(c, self.req.as_ref()))),
            None => VerifyOutcome::NeedsIo,
        })
    }

    fn resolve(&mut self, env: Env, out: VerifyOutcome) -> Result<Raw> {
        match out {
            VerifyOutcome::Done(Ok(claims)) => claims_object(&env, &self.memo, &claims),
            VerifyOutcome::Done(Err(e)) => Err(to_js_error(&env, &e)),
            VerifyOutcome::NeedsIo => {
                let verifier = self.verifier.clone();
                let token = std::mem::take(&mut self.token);
                let req = self.req.take();
                let memo = self.memo.clone();
                let p = promise(
                    &env,
                    async move { check(verifier.verify(&token).await?, req.as_ref()) },
                    move |env, claims| claims_object(env, &memo, &claims),
                )?;
                Ok(Raw(p.raw()))
            }
        }
    }
}

/// RFC 8414 discovery (with the OpenID fallback): the issuer's `jwks_uri` and `token_endpoint`.
#[napi(object)]
pub struct ServerMetadataInfo {
    pub issuer: String,
    pub token_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
}

#[napi(ts_return_type = "Promise<ServerMetadataInfo>")]
pub fn discover<'env>(env: &'env Env, issuer: String, allow_insecure_http: Option<bool>) -> Result<Object<'env>> {
    promise(
        env,
        async move { authsec_native::discover(&issuer, allow_insecure_http.unwrap_or(false)).await },
        |_, m| {
            Ok(ServerMetadataInfo {
                issuer: m.issuer,
                token_endpoint: m.token_endpoint,
                jwks_uri: m.jwks_uri,
            })
        },
    )
}
