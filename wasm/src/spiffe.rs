//! SPIFFE JWT-SVIDs in WebAssembly: the core's JWT-SVID rules with WebCrypto for the signature,
//! against bundles given in the options (`trustDomains: {td: {bundle}}`; a browser or an edge
//! worker has no Workload API), and the SPIFFE ID patterns.

use crate::{js_error, js_result, json_of, signed_by_any, to_js, JsClock};
use authsec_core::spiffe::jwt_svid::{finish, parse_jwt_svid, signing_keys, unknown_trust_domain};
use authsec_core::spiffe::{BundleSet, JwtSvid, JwtSvidOptions, JwtSvidPolicy, SpiffeId, SpiffeIdMatcher};
use authsec_core::{Clock, ManualClock, Result};
use js_sys::Promise;
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// Verifies JWT-SVIDs against the trust bundles it was given.
#[wasm_bindgen]
pub struct JwtSvidVerifier {
    policy: Arc<JwtSvidPolicy>,
    bundles: Arc<BundleSet>,
    clock: Arc<dyn Clock>,
}

#[wasm_bindgen]
impl JwtSvidVerifier {
    /// `{ audience, trustDomains: {td: {bundle}}, allowedIds, soleAudience, algorithms, leeway,
    /// maxTokenBytes }` (the core's options). `now_ms` (tests only): a clock fixed at this time.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, now_ms: Option<f64>) -> std::result::Result<JwtSvidVerifier, JsValue> {
        js_result((|| {
            let value = json_of(&options, "JwtSvidVerifier options")?;
            let no_files = |_: &str| None;
            let o = JwtSvidOptions::from_value(&value, &no_files)?;
            let clock: Arc<dyn Clock> = match now_ms {
                Some(ms) => Arc::new(ManualClock::new(ms as i64)),
                None => Arc::new(JsClock),
            };
            Ok(JwtSvidVerifier {
                bundles: Arc::new(o.static_bundles()?),
                policy: Arc::new(o.policy),
                clock,
            })
        })())
    }

    /// Resolves to `{ spiffeId, trustDomain, audience, expiresAt, issuedAt, alg, kid, claims }`, or
    /// rejects with an `AuthsecError`.
    pub fn verify(&self, token: String) -> Promise {
        let (policy, bundles, now) = (self.policy.clone(), self.bundles.clone(), self.clock.now_ms());
        future_to_promise(async move {
            match verify(&token, &policy, &bundles, now).await {
                Ok(svid) => to_js(&svid_json(&svid)),
                Err(e) => Err(js_error(&e)),
            }
        })
    }
}

async fn verify(token: &str, policy: &JwtSvidPolicy, bundles: &BundleSet, now_ms: i64) -> Result<JwtSvid> {
    let parsed = parse_jwt_svid(token, policy)?;
    let bundle = bundles
        .get(&parsed.spiffe_id.trust_domain())
        .cloned()
        .ok_or_else(|| unknown_trust_domain(&parsed.spiffe_id))?;
    let keys = signing_keys(&parsed, &bundle)?;
    let valid = signed_by_any(parsed.alg, &keys, parsed.signing_input(), parsed.signature()).await?;
    finish(parsed, valid, policy, now_ms)
}

/// The SVID with JavaScript's member names.
fn svid_json(s: &JwtSvid) -> String {
    serde_json::json!({
        "spiffeId": s.spiffe_id.as_str(),
        "trustDomain": s.spiffe_id.trust_domain_name(),
        "audience": s.audience,
        "expiresAt": s.expires_at,
        "issuedAt": s.issued_at,
        "alg": s.alg.as_str(),
        "kid": s.kid,
        "claims": s.claims,
    })
    .to_string()
}

/// Whether `spiffe_id` matches one of `patterns` (exact, `spiffe://td`, `spiffe://td/path/*`).
#[wasm_bindgen(js_name = spiffeIdMatches)]
pub fn spiffe_id_matches(spiffe_id: &str, patterns: Vec<String>) -> std::result::Result<bool, JsValue> {
    js_result((|| {
        let matcher = SpiffeIdMatcher::parse(&patterns)?;
        Ok(SpiffeId::parse(spiffe_id).is_ok_and(|id| matcher.matches(&id)))
    })())
}
