//! # authsec-wasm
//!
//! The WebAssembly package `@authsec/wasm`: JWT access-token verification for browsers, edge
//! workers and Node, on the authsec core. The core parses the token, applies the header rules,
//! picks the key, decides the claims and scopes, and keeps the JWKS and verified-token caches;
//! this crate hands the one signature check the core asks for to WebCrypto (`crypto.subtle`,
//! through `js/glue.js`), falling back to Rust (ed25519-dalek, in a separate module loaded on
//! first use) only for Ed25519 where the runtime's WebCrypto lacks it, and fetches the JWKS with
//! `fetch`.
//!
//! The helpers marked `#[doc(hidden)] pub` are for the `@authsec/wasm/requests` module
//! (`requests/`), which links this crate and adds whole-request checks (DPoP, mTLS).

use authsec_core::access_token::delegation;
use authsec_core::http::{HttpRequest, HttpResponse, Transport};
use authsec_core::resource::bearer as scopes;
use authsec_core::resource::challenge::{self, ChallengeParams};
use authsec_core::runtime::BoxFut;
use authsec_core::scope;
use authsec_core::util::{json_error_at, json_text, quoted};
use authsec_core::{
    Clock, Error, ErrorClass, ErrorCode, JwksStore, Prepared, PublicKey, Result, ScopeRequirement, SignatureCheck,
    StoredJwks, VerifierOptions,
};
use js_sys::{Array, Promise, Reflect, Uint8Array};
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

pub mod spiffe;

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    /// `Promise<boolean | null | "unusable">`: the WebCrypto verdict, null when the runtime's
    /// WebCrypto cannot check `alg`, "unusable" when it refuses the key's data (an EC point off
    /// its curve, which the native builds skip when the JWKS is read).
    #[wasm_bindgen(js_name = webcryptoVerify)]
    fn webcrypto_verify(alg: &str, jwk: &str, message: &[u8], signature: &[u8]) -> Promise;
    /// `Promise<boolean>`: Ed25519 with the separate fallback module (loaded on first use).
    #[wasm_bindgen(js_name = fallbackEd25519)]
    fn fallback_ed25519(public_key: &[u8], message: &[u8], signature: &[u8]) -> Promise;
    /// `Promise<{status, headers: [name, value][], body: Uint8Array}>` (GET, no redirects).
    #[wasm_bindgen(js_name = httpGet)]
    fn http_get(url: &str, headers: Array) -> Promise;
    /// The `AuthsecError` subclass the core names for `code` (glue.js reads the class, category,
    /// retryable flag and resource status from [`error_codes`]).
    #[wasm_bindgen(js_name = makeError)]
    fn make_error(code: &str, message: &str, missing_scopes: Array) -> JsValue;
    /// The claims object with its delegation chain attached (`delegation`, `actor`; glue.js).
    #[wasm_bindgen(js_name = withDelegation)]
    fn with_delegation(claims: JsValue, chain: JsValue) -> JsValue;
}

pub fn js_error(e: &Error) -> JsValue {
    let missing: Array = e.missing_scopes().iter().map(|s| JsValue::from_str(s)).collect();
    make_error(e.code().as_str(), e.message(), missing)
}

pub fn js_result<T>(r: Result<T>) -> std::result::Result<T, JsValue> {
    r.map_err(|e| js_error(&e))
}

fn text_of(v: &JsValue) -> String {
    v.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| v.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

/// `JSON.stringify` of a JS value, read by serde (undefined fields disappear, as JS users expect).
pub fn json_of(v: &JsValue, what: &str) -> Result<serde_json::Value> {
    if v.is_undefined() || v.is_null() {
        return Ok(serde_json::Value::Null);
    }
    let s = js_sys::JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| Error::config(format!("{what} must be a plain object")))?;
    serde_json::from_str(&s).map_err(|e| Error::config(format!("{what}: {}", json_error_at(&e))))
}

pub(crate) fn to_js(v: &str) -> std::result::Result<JsValue, JsValue> {
    js_sys::JSON::parse(v)
}

/// Verified claims for JavaScript: the payload as a fresh plain object, with the chain the core
/// read from `act` (current actor first) as `[{ sub, clientId, iss, id }]`, members absent from
/// the token left out; `id` is the core's (`client_id`, else `sub`).
pub fn claims_js(claims: &authsec_core::Claims) -> std::result::Result<JsValue, JsValue> {
    let mut chain = String::from("[");
    for (i, a) in claims.delegation().iter().enumerate() {
        if i > 0 {
            chain.push(',');
        }
        chain.push_str("{\"id\":");
        chain.push_str(&json_text(a.id()));
        for (k, v) in [
            (",\"sub\":", &a.sub),
            (",\"clientId\":", &a.client_id),
            (",\"iss\":", &a.iss),
        ] {
            if let Some(v) = v {
                chain.push_str(k);
                chain.push_str(&json_text(v));
            }
        }
        chain.push('}');
    }
    chain.push(']');
    Ok(with_delegation(to_js(&claims.to_json())?, to_js(&chain)?))
}

// ----------------------------------------------------------------------------------------------
// Environment: clock and transport.

pub(crate) struct JsClock;
impl Clock for JsClock {
    fn now_ms(&self) -> i64 {
        js_sys::Date::now() as i64
    }
}

/// `fetch` through the glue (redirects refused, 30 s timeout, 1 MiB body limit).
struct FetchTransport;
impl Transport for FetchTransport {
    fn send(&self, request: HttpRequest) -> BoxFut<'static, Result<HttpResponse>> {
        Box::pin(async move {
            let headers: Array = request
                .headers
                .iter()
                .map(|(k, v)| -> JsValue { Array::of2(&k.into(), &v.into()).into() })
                .collect();
            let url = request.url.clone();
            let got = JsFuture::from(http_get(&url, headers)).await.map_err(|e| {
                let code = match Reflect::get(&e, &"name".into())
                    .ok()
                    .and_then(|n| n.as_string())
                    .as_deref()
                {
                    Some("TimeoutError") => ErrorCode::Timeout,
                    _ => ErrorCode::NetworkError,
                };
                Error::new(code, format!("GET {url} failed: {}", text_of(&e)))
            })?;
            let field = |name: &str| Reflect::get(&got, &name.into()).unwrap_or(JsValue::UNDEFINED);
            let status = field("status").as_f64().unwrap_or(0.0) as u16;
            let headers = Array::from(&field("headers"))
                .iter()
                .filter_map(|pair| {
                    let pair = Array::from(&pair);
                    Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
                })
                .collect();
            let body = field("body")
                .dyn_into::<Uint8Array>()
                .map(|b| b.to_vec())
                .unwrap_or_default();
            Ok(HttpResponse { status, headers, body })
        })
    }
}

/// A JWKS store in JavaScript (`{ get(key), set(key, value, ttlSeconds) }`, sync or async, e.g.
/// over Workers KV). Values are opaque strings; a failing store is ignored by the core.
struct JsStore {
    store: JsValue,
}

impl JsStore {
    fn call(&self, method: &str, args: &Array) -> Option<Promise> {
        let f = Reflect::get(&self.store, &method.into())
            .ok()?
            .dyn_into::<js_sys::Function>()
            .ok()?;
        let v = f.apply(&self.store, args).ok()?;
        Some(Promise::resolve(&v))
    }
}

fn store_key(uri: &str) -> String {
    format!("authsec:jwks:{uri}")
}

impl JwksStore for JsStore {
    fn load(&self, uri: &str) -> BoxFut<'static, Option<StoredJwks>> {
        let p = self.call("get", &Array::of1(&store_key(uri).into()));
        Box::pin(async move {
            let v = JsFuture::from(p?).await.ok()?.as_string()?;
            let v: serde_json::Value = serde_json::from_str(&v).ok()?;
            Some(StoredJwks {
                jwks: v.get("jwks")?.as_str()?.to_string(),
                fresh_until_ms: v.get("fresh_until_ms")?.as_i64()?,
            })
        })
    }
    fn save(&self, uri: &str, jwks: StoredJwks) -> BoxFut<'static, ()> {
        let ttl = ((jwks.fresh_until_ms - js_sys::Date::now() as i64) / 1000).max(1);
        let value = format!(
            "{{\"jwks\":{},\"fresh_until_ms\":{}}}",
            json_text(&jwks.jwks),
            jwks.fresh_until_ms
        );
        let p = self.call(
            "set",
            &Array::of3(&store_key(uri).into(), &value.into(), &(ttl as f64).into()),
        );
        Box::pin(async move {
            if let Some(p) = p {
                let _ = JsFuture::from(p).await;
            }
        })
    }
}

// ----------------------------------------------------------------------------------------------
// Signature checks.

/// Check the core's signature request with WebCrypto, or Rust for Ed25519 where WebCrypto has
/// no Ed25519: valid when one of the core's candidate keys verifies it. A key WebCrypto refuses
/// to import is passed over as if the JWKS had not listed it (the native builds skip an EC point
/// off its curve when they read the set; this module does not carry the curve arithmetic, 19 KB):
/// when no candidate is left, the token has no key.
async fn signature_ok(check: &SignatureCheck) -> Result<bool> {
    signed_by_any(check.alg(), check.keys(), check.message(), check.signature()).await
}

/// Whether one of `keys` verifies `signature` over `message` under `alg` (see [`signature_ok`]).
pub async fn signed_by_any(
    alg: authsec_core::Alg,
    keys: &[authsec_core::VerifyKey],
    message: &[u8],
    signature: &[u8],
) -> Result<bool> {
    let mut unusable = 0;
    for key in keys {
        let key = key.public_key();
        let verdict = JsFuture::from(webcrypto_verify(alg.as_str(), &key.canonical_jwk(), message, signature))
            .await
            .map_err(|e| Error::internal(format!("WebCrypto failed: {}", text_of(&e))))?;
        if verdict.as_string().is_some() {
            unusable += 1;
            continue;
        }
        let ok = match (verdict.as_bool(), key) {
            (Some(ok), _) => ok,
            (None, PublicKey::Ed25519 { x }) => JsFuture::from(fallback_ed25519(x, message, signature))
                .await
                .map_err(|e| Error::internal(format!("the Ed25519 fallback failed: {}", text_of(&e))))?
                .as_bool()
                .ok_or_else(|| Error::internal("the Ed25519 fallback gave no verdict"))?,
            (None, _) => {
                return Err(Error::new(
                    ErrorCode::UnsupportedAlgorithm,
                    format!("this runtime's WebCrypto cannot check {alg} signatures; use a runtime with crypto.subtle"),
                ))
            }
        };
        if ok {
            return Ok(true);
        }
    }
    if unusable == keys.len() {
        return Err(Error::new(
            ErrorCode::KeyNotFound,
            "the key set has no usable key for this token (WebCrypto refused the key's data: an EC point off its curve)",
        ));
    }
    Ok(false)
}

/// Verify `token`, then check `req` unless `defer_scopes` (the JS layer's `allowedActors` callback
/// decides on the actor first, then checks the scopes: the core's order).
async fn verify_core(
    v: authsec_core::Verifier,
    token: String,
    req: ScopeRequirement,
    defer_scopes: bool,
) -> Result<Arc<authsec_core::Claims>> {
    let claims = match v.prepare(&token).await? {
        Prepared::Verified(c) => c,
        Prepared::Check(check) => {
            let ok = signature_ok(&check).await?;
            v.complete(check, ok)?
        }
    };
    if !defer_scopes {
        req.check_claims(&claims)?;
    }
    Ok(claims)
}

// ----------------------------------------------------------------------------------------------
// The API.

pub fn requirement(v: &JsValue) -> Result<ScopeRequirement> {
    let o = json_of(v, "verify options")?;
    if let Some(m) = o.as_object() {
        if let Some(k) = m.keys().find(|k| *k != "requiredScopes" && *k != "anyScopes") {
            return Err(Error::config(format!(
                "unknown verify option {} (expected requiredScopes, anyScopes)",
                quoted(k)
            )));
        }
    }
    ScopeRequirement::from_values(&o["requiredScopes"], &o["anyScopes"])
}

/// A JWT access-token verifier (RFC 9068): signature (WebCrypto), algorithm allow-list, `typ`,
/// `iss`, `aud`, `exp`, `nbf`, leeway, then scopes; with a cached JWKS and a verified-token cache.
#[wasm_bindgen]
pub struct Verifier {
    inner: authsec_core::Verifier,
    clock: Arc<dyn Clock>,
    /// The testing clock, when `now_ms` was given.
    manual: Option<authsec_core::ManualClock>,
}

#[wasm_bindgen]
impl Verifier {
    /// `{ issuer, audience, jwks | jwksUri, algorithms, leeway, typ, requiredClaims,
    /// maxTokenBytes, verifiedCacheSize, allowInsecureHttp, ... }` (the core's options), plus
    /// `jwksCache`: a store for the fetched JWKS (`{ get(key), set(key, value, ttlSeconds) }`).
    /// `now_ms` (tests only): a clock fixed at this Unix time in milliseconds.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, now_ms: Option<f64>) -> std::result::Result<Verifier, JsValue> {
        js_result((|| {
            let mut value = json_of(&options, "Verifier options")?;
            let store = if options.is_object() {
                Reflect::get(&options, &"jwksCache".into()).unwrap_or(JsValue::UNDEFINED)
            } else {
                JsValue::UNDEFINED
            };
            if let Some(m) = value.as_object_mut() {
                m.remove("jwksCache");
            }
            let store: Option<Arc<dyn JwksStore>> = if store.is_undefined() || store.is_null() {
                None
            } else if ["get", "set"]
                .iter()
                .all(|m| Reflect::get(&store, &(*m).into()).is_ok_and(|f| f.is_function()))
            {
                Some(Arc::new(JsStore { store }))
            } else {
                return Err(Error::config(
                    "jwksCache must have get(key) and set(key, value, ttlSeconds) methods",
                ));
            };
            let o = VerifierOptions::from_value(&value)?;
            let manual = now_ms.map(|ms| authsec_core::ManualClock::new(ms as i64));
            let clock: Arc<dyn Clock> = match &manual {
                Some(m) => Arc::new(m.clone()),
                None => Arc::new(JsClock),
            };
            let keys = o
                .keys()?
                .into_provider(Arc::new(FetchTransport), clock.clone(), store)?;
            Ok(Verifier {
                inner: authsec_core::Verifier::new(o.config()?, keys, clock.clone())?,
                clock,
                manual,
            })
        })())
    }

    /// Resolves to the claims (a fresh plain object, with `delegation` and `actor`), or rejects
    /// with an `AuthsecError`. `options`: `{ requiredScopes, anyScopes }` (a space-separated
    /// string or an array each), read first; checked after the token verified unless
    /// `deferScopes` (the caller checks them with `requireScopes`).
    pub fn verify(&self, token: String, options: JsValue, defer_scopes: Option<bool>) -> Promise {
        let v = self.inner.clone();
        let req = requirement(&options);
        let defer = defer_scopes == Some(true);
        future_to_promise(async move {
            let claims = js_result(verify_core(v, token, js_result(req)?, defer).await)?;
            claims_js(&claims)
        })
    }

    /// The claims of a token verified before and still valid (the verified-token cache, then
    /// the scope check unless `deferScopes`), synchronously; `undefined` when it needs a full
    /// `verify`.
    #[wasm_bindgen(js_name = verifyCached)]
    pub fn verify_cached(
        &self,
        token: &str,
        options: JsValue,
        defer_scopes: Option<bool>,
    ) -> std::result::Result<JsValue, JsValue> {
        let req = js_result(requirement(&options))?;
        let req = if defer_scopes == Some(true) {
            ScopeRequirement::default()
        } else {
            req
        };
        match self.inner.try_cached_with(token, &req) {
            None => Ok(JsValue::UNDEFINED),
            Some(c) => claims_js(&*js_result(c)?),
        }
    }

    /// Tests only: move the testing clock (a Verifier built with `now_ms`) to `now_ms`.
    #[wasm_bindgen(js_name = setNowMs)]
    pub fn set_now_ms(&self, now_ms: f64) -> std::result::Result<(), JsValue> {
        match &self.manual {
            Some(m) => {
                m.set_ms(now_ms as i64);
                Ok(())
            }
            None => Err(js_error(&Error::config(
                "this Verifier has no testing clock (testing.nowMs)",
            ))),
        }
    }

    /// Tokens in the verified-token cache.
    #[wasm_bindgen(getter, js_name = cachedTokens)]
    pub fn cached_tokens(&self) -> usize {
        self.inner.cached_tokens()
    }
}

/// For the `@authsec/wasm/requests` module (not exported to JavaScript).
impl Verifier {
    #[doc(hidden)]
    pub fn core(&self) -> &authsec_core::Verifier {
        &self.inner
    }
    #[doc(hidden)]
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }
}

/// Decode a token without verifying anything (inspection only): `{ header, payload }`.
#[wasm_bindgen]
pub fn decode(token: &str) -> std::result::Result<JsValue, JsValue> {
    let (header, payload) = js_result(authsec_core::jose::compact::decode_unverified(token))?;
    to_js(&format!(
        "{{\"header\":{},\"payload\":{}}}",
        json_text(&header),
        json_text(&payload)
    ))
}

/// The scopes a claims object grants (`scope` string and/or `scp` array).
#[wasm_bindgen(js_name = scopesOf)]
pub fn scopes_of(claims: JsValue) -> std::result::Result<Vec<String>, JsValue> {
    let v = js_result(json_of(&claims, "claims"))?;
    let map = v.as_object().cloned().unwrap_or_default();
    Ok(scope::scopes_of(&map).into_iter().map(str::to_string).collect())
}

/// Throw `insufficient_scope` unless `claims` grant every scope of `required` (and, if given, at
/// least one of `any`).
#[wasm_bindgen(js_name = requireScopes)]
pub fn require_scopes(claims: JsValue, required: JsValue, any: JsValue) -> std::result::Result<(), JsValue> {
    let granted = scopes_of(claims)?;
    let granted: Vec<&str> = granted.iter().map(String::as_str).collect();
    let req = js_result(ScopeRequirement::from_values(
        &js_result(json_of(&required, "required scopes"))?,
        &js_result(json_of(&any, "any scopes"))?,
    ))?;
    js_result(req.check(&granted))
}

/// Whether `claims` grant every scope of `required`.
#[wasm_bindgen(js_name = hasScopes)]
pub fn has_scopes(claims: JsValue, required: JsValue) -> std::result::Result<bool, JsValue> {
    Ok(require_scopes(claims, required, JsValue::UNDEFINED).is_ok())
}

/// The bearer token of an `Authorization` header value (`undefined` when absent; throws for a
/// malformed header).
#[wasm_bindgen(js_name = bearerToken)]
pub fn bearer_token(authorization: Option<String>) -> std::result::Result<Option<String>, JsValue> {
    Ok(js_result(scopes::bearer_token(authorization.as_deref()))?.map(str::to_string))
}

/// The RFC 6750 answer for an error (`code` as thrown by `verify`, or undefined for a missing
/// token): `{ status, error, wwwAuthenticate }` (no challenge for a 5xx). `resource_metadata`: the
/// URL of the resource's RFC 9728 metadata, named in the challenge.
#[wasm_bindgen]
pub fn challenge(
    code: Option<String>,
    message: Option<String>,
    missing_scopes: Option<Vec<String>>,
    realm: Option<String>,
    required_scopes: JsValue,
    resource_metadata: Option<String>,
) -> std::result::Result<JsValue, JsValue> {
    let required = js_result(ScopeRequirement::from_values(
        &js_result(json_of(&required_scopes, "required scopes"))?,
        &serde_json::Value::Null,
    ))?
    .all_of;
    let err = match code.as_deref() {
        None => None,
        Some(c) => Some(
            Error::new(
                ErrorCode::parse(c)
                    .ok_or_else(|| js_error(&Error::config(format!("unknown error code {}", quoted(c)))))?,
                message.unwrap_or_default(),
            )
            .with_missing_scopes(missing_scopes.unwrap_or_default()),
        ),
    };
    let params = ChallengeParams {
        realm,
        resource_metadata,
        scopes: required,
    };
    let c = challenge::challenge(&params, err.as_ref());
    let mut props = vec![("status", c.status.into())];
    if let Some(e) = c.error {
        props.push(("error", e.into()));
    }
    if let Some(h) = c.www_authenticate {
        props.push(("wwwAuthenticate", h.into()));
    }
    Ok(js_object(&props))
}

/// The error for an actor the `allowedActors` callback refused (the core's, `delegation_not_allowed`).
#[wasm_bindgen(js_name = actorRefused)]
pub fn actor_refused(actor_id: &str) -> JsValue {
    js_error(&delegation::actor_refused(actor_id))
}

/// The core's error codes: `[{ code, description, category, class, retryable, httpStatus }]`
/// (`httpStatus`: what a protected resource answers for the code).
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> std::result::Result<JsValue, JsValue> {
    Ok(ErrorCode::ALL
        .iter()
        .map(|c| {
            js_object(&[
                ("code", c.as_str().into()),
                ("description", c.description().into()),
                ("category", c.category().as_str().into()),
                ("class", c.class().name().into()),
                ("retryable", c.is_retryable().into()),
                ("httpStatus", scopes::http_status(&Error::new(*c, "")).into()),
            ])
        })
        .collect::<Array>()
        .into())
}

/// The core's error class tree: `[{ name, parent }]` (parent `AuthsecError` for a category's class).
#[wasm_bindgen(js_name = errorClasses)]
pub fn error_classes() -> std::result::Result<JsValue, JsValue> {
    Ok(ErrorClass::ALL
        .iter()
        .map(|c| {
            js_object(&[
                ("name", c.name().into()),
                ("parent", c.parent().map_or("AuthsecError", |p| p.name()).into()),
            ])
        })
        .collect::<Array>()
        .into())
}

/// A plain JS object with these properties (built directly; `json!` would format a can't-happen
/// serialization error into the module).
pub fn js_object(props: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in props {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

/// Talc instead of dlmalloc: 5 KB of the module's 100 KB budget, and faster.
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
