//! SPIFFE: the core's JWT-SVID verifier (options, bundles, the JWT-SVID rules, ID patterns) and
//! the native layer's Workload API client, as JavaScript classes. The JS layer (`lib/spiffe.js`)
//! wraps them.

use crate::clock::ManualClock;
use crate::errors::{js, to_js_error};
use crate::spawn::promise;
use authsec_native::core::spiffe::{JwtSvid, JwtSvidOptions, JwtSvidVerifier, SpiffeId, SpiffeIdMatcher};
use authsec_native::spiffe::{jwt_svid_verifier_from, workload_api};
use authsec_native::workload_api::WorkloadApiClient;
use authsec_native::{Clock, Error as CoreError, ErrorCode, ProcessEnv};
use napi::bindgen_prelude::{AsyncTask, Object};
use napi::{Env, Result, Task};
use napi_derive::napi;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// A verified JWT-SVID as JavaScript sees it (the JS layer freezes it).
fn svid_value(s: &JwtSvid) -> Value {
    json!({
        "spiffeId": s.spiffe_id.as_str(),
        "trustDomain": s.spiffe_id.trust_domain_name(),
        "audience": s.audience,
        "expiresAt": s.expires_at,
        "issuedAt": s.issued_at,
        "alg": s.alg.as_str(),
        "kid": s.kid,
        "claims": s.claims,
    })
}

/// A string or a list of strings, as a list (the audience of `fetchJwtSvid`).
fn strings(v: Value, what: &str) -> authsec_native::Result<Vec<String>> {
    let bad = || CoreError::config(format!("{what} must be a string or a list of strings"));
    match v {
        Value::String(s) => Ok(vec![s]),
        Value::Array(a) => a
            .into_iter()
            .map(|x| match x {
                Value::String(s) => Ok(s),
                _ => Err(bad()),
            })
            .collect(),
        _ => Err(bad()),
    }
}

#[napi]
pub struct NativeJwtSvidVerifier {
    inner: Arc<JwtSvidVerifier>,
}

/// Build a JWT-SVID verifier from the options object (the core's `JwtSvidOptions`; Promise): with
/// `workloadApi` it resolves once the Workload API has sent the first bundles (and keeps watching).
#[napi(ts_return_type = "Promise<NativeJwtSvidVerifier>")]
pub fn create_jwt_svid_verifier<'env>(
    env: &'env Env,
    options: Value,
    clock: Option<&ManualClock>,
) -> Result<Object<'env>> {
    let clock: Option<Arc<dyn Clock>> = clock.map(|m| Arc::new(m.inner.clone()) as Arc<dyn Clock>);
    let opts = js(env, JwtSvidOptions::from_value(&options, &ProcessEnv))?;
    let fut = jwt_svid_verifier_from(opts, clock);
    promise(env, fut, |_, v| Ok(NativeJwtSvidVerifier { inner: Arc::new(v) }))
}

#[napi]
impl NativeJwtSvidVerifier {
    /// Verify on the JavaScript thread when the trust domain's bundle is at hand; `null` when it
    /// must be fetched first (a bundle endpoint not polled yet): use [`Self::verify`].
    #[napi(ts_return_type = "object | null")]
    pub fn verify_now(&self, env: Env, token: String) -> Result<Option<Value>> {
        match self.inner.verify_now(&token) {
            None => Ok(None),
            Some(r) => js(&env, r).map(|s| Some(svid_value(&s))),
        }
    }

    /// Verify (Promise): the signature check on libuv's thread pool; a bundle fetch, when
    /// needed, on the `authsec-io` runtime.
    #[napi(ts_return_type = "Promise<object>")]
    pub fn verify(&self, token: String) -> AsyncTask<SvidTask> {
        AsyncTask::new(SvidTask {
            verifier: self.inner.clone(),
            token,
        })
    }

    /// The core's error for [`Self::verify_now`] answering `null` (for `verifySync`).
    #[napi(ts_return_type = "Error")]
    pub fn not_at_hand(&self, env: Env) -> Result<crate::convert::Raw> {
        let e = CoreError::new(
            ErrorCode::JwksUnavailable,
            format!(
                "the trust bundle is not at hand yet ({}): await verify() instead of verifySync()",
                self.inner.source().describe()
            ),
        );
        crate::errors::error_value(&env, &e).map(crate::convert::Raw)
    }

    #[napi]
    pub fn describe(&self) -> String {
        let p = self.inner.policy();
        format!(
            "audience: {:?}, bundles: {}",
            p.audiences,
            self.inner.source().describe()
        )
    }
}

/// A JWT-SVID verification for a worker thread, handed to the I/O runtime when a bundle must be
/// fetched first.
pub struct SvidTask {
    verifier: Arc<JwtSvidVerifier>,
    token: String,
}

impl Task for SvidTask {
    type Output = Option<authsec_native::Result<JwtSvid>>;
    type JsValue = crate::convert::Raw;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(self.verifier.verify_now(&self.token))
    }

    fn resolve(&mut self, env: Env, out: Self::Output) -> Result<crate::convert::Raw> {
        use napi::bindgen_prelude::{JsValue, ToNapiValue};
        match out {
            Some(Ok(s)) => Ok(crate::convert::Raw(unsafe {
                Value::to_napi_value(env.raw(), svid_value(&s))?
            })),
            Some(Err(e)) => Err(to_js_error(&env, &e)),
            None => {
                let (verifier, token) = (self.verifier.clone(), std::mem::take(&mut self.token));
                let p = promise(&env, async move { verifier.verify(&token).await }, |_, s| {
                    Ok(svid_value(&s))
                })?;
                Ok(crate::convert::Raw(p.raw()))
            }
        }
    }
}

/// Whether `spiffeId` matches one of `patterns` (exact `spiffe://td/path`, a trust domain
/// `spiffe://td`, a prefix `spiffe://td/path/*`): the core's `SpiffeIdMatcher`. A bad pattern is
/// a `config_error`, a bad ID `invalid_spiffe_id`.
#[napi]
pub fn spiffe_id_matches(env: Env, spiffe_id: String, patterns: Vec<String>) -> Result<bool> {
    let m = js(&env, SpiffeIdMatcher::parse(&patterns))?;
    let id = js(&env, SpiffeId::parse(&spiffe_id))?;
    Ok(m.matches(&id))
}

/// The Workload API (usually the SPIRE agent's): JWT-SVIDs, JWT bundles, the X.509-SVID.
#[napi]
pub struct NativeWorkloadApi {
    client: WorkloadApiClient,
}

#[napi]
impl NativeWorkloadApi {
    /// `unix:///path` or `tcp://IP:PORT`; without one, `SPIFFE_ENDPOINT_SOCKET`. Connects on
    /// first use.
    #[napi(constructor)]
    pub fn new(env: Env, endpoint: Option<String>) -> Result<Self> {
        Ok(NativeWorkloadApi {
            client: js(&env, workload_api(endpoint.as_deref()))?,
        })
    }

    #[napi(getter)]
    pub fn endpoint(&self) -> String {
        self.client.endpoint().to_string()
    }

    /// The workload's JWT-SVID for `audience` (a string or a list), of `spiffeId` when given
    /// (Promise of `{ spiffeId, token, hint }`; the first the Workload API sends).
    #[napi(ts_return_type = "Promise<{ spiffeId: string; token: string; hint: string }>")]
    pub fn fetch_jwt_svid<'env>(
        &self,
        env: &'env Env,
        audience: Value,
        spiffe_id: Option<String>,
    ) -> Result<Object<'env>> {
        let audience = js(env, strings(audience, "audience"))?;
        let client = self.client.clone();
        let fut = async move {
            let svids = client.fetch_jwt_svids(&audience, spiffe_id.as_deref()).await?;
            svids.into_iter().next().ok_or_else(|| {
                CoreError::new(
                    ErrorCode::WorkloadApiUnavailable,
                    format!("the Workload API at {} issued no JWT-SVID", client.endpoint()),
                )
            })
        };
        promise(env, fut, |_, s| {
            Ok(json!({ "spiffeId": s.spiffe_id, "token": s.svid.expose(), "hint": s.hint }))
        })
    }

    /// The JWT bundles (Promise of `{ "<trust domain>": JWKS }`).
    #[napi(ts_return_type = "Promise<Record<string, object>>")]
    pub fn fetch_jwt_bundles<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let client = self.client.clone();
        let fut = async move {
            let b = client.fetch_jwt_bundles().await?;
            let mut out = Map::new();
            for (td, doc) in b.bundles {
                let v: Value = serde_json::from_slice(&doc).map_err(|e| {
                    CoreError::new(
                        ErrorCode::InvalidResponse,
                        format!("the Workload API's JWT bundle of {td} is not JSON: {e}"),
                    )
                })?;
                out.insert(td, v);
            }
            Ok(Value::Object(out))
        };
        promise(env, fut, |_, v| Ok(v))
    }

    /// The workload's default X.509-SVID (Promise of `{ spiffeId, certChainPem, privateKeyPem,
    /// bundlePem, hint }`).
    #[napi(ts_return_type = "Promise<object>")]
    pub fn fetch_x509_svid<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let client = self.client.clone();
        let fut = async move {
            let ctx = client.fetch_x509_context().await?;
            ctx.svids.into_iter().next().ok_or_else(|| {
                CoreError::new(
                    ErrorCode::WorkloadApiUnavailable,
                    format!("the Workload API at {} issued no X.509-SVID", client.endpoint()),
                )
            })
        };
        promise(env, fut, |_, s| {
            Ok(json!({
                "spiffeId": s.spiffe_id,
                "certChainPem": s.cert_chain_pem(),
                "privateKeyPem": s.private_key_pem().expose(),
                "bundlePem": s.bundle_pem(),
                "hint": s.hint,
            }))
        })
    }
}
