//! # authsec-wasm-requests
//!
//! The `@authsec/wasm/requests` module: everything `@authsec/wasm` exports (this crate links it)
//! plus whole requests to a protected resource (the core's `RequestVerifier`): Bearer and DPoP
//! credentials, DPoP proofs with the replay cache and nonces, certificate-bound tokens, and the
//! answer to a refused request. Both signatures (the token's and the proof's) go to WebCrypto. A
//! module of its own: it costs about 40 KB gzipped, which bearer-only users do not load.

use authsec_core::dpop::proof::ProofCheck;
use authsec_core::resource::request::RequestParts;
use authsec_core::resource::request_verifier::{self as core_rv, RequestPolicy, SignatureChecks};
use authsec_core::runtime::BoxFut;
use authsec_core::{Error, ErrorCode, Result, SignatureCheck};
use authsec_wasm::{claims_js, js_error, js_object, js_result, json_of, requirement, signed_by_any, Verifier};
use js_sys::{Array, Promise, Reflect, Uint8Array};
use std::rc::Rc;
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// WebCrypto (and the Ed25519 fallback) for the core's two signature checks.
struct WebCrypto;

impl SignatureChecks for WebCrypto {
    fn token<'a>(&'a self, check: &'a SignatureCheck) -> BoxFut<'a, Result<bool>> {
        Box::pin(signed_by_any(
            check.alg(),
            check.keys(),
            check.message(),
            check.signature(),
        ))
    }
    fn proof<'a>(&'a self, check: &'a ProofCheck) -> BoxFut<'a, Result<bool>> {
        Box::pin(async move {
            signed_by_any(
                check.alg(),
                std::slice::from_ref(check.key()),
                check.message(),
                check.signature(),
            )
            .await
            // WebCrypto refusing the proof's key (an EC point off its curve) is the proof's fault.
            .map_err(|e| match e.code() {
                ErrorCode::KeyNotFound => {
                    Error::new(ErrorCode::InvalidDpopProof, "the DPoP proof's jwk is not a usable key")
                }
                _ => e,
            })
        })
    }
}

/// A request as JavaScript gives it, owned.
struct OwnedRequest {
    method: String,
    target: String,
    scheme: String,
    headers: Vec<(String, String)>,
    peer: Option<std::net::IpAddr>,
    certificate: Option<Vec<u8>>,
}

fn field(o: &JsValue, name: &str) -> JsValue {
    Reflect::get(o, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

fn text(o: &JsValue, name: &str) -> Result<Option<String>> {
    let v = field(o, name);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| Error::config(format!("request.{name} must be a string")))
}

/// `{ method, url }` (an absolute URL: the target, scheme and Host follow from it) or
/// `{ method, target, scheme }`, with `headers` (a `Headers`, an array of `[name, value]` or a
/// plain object), `peer` and `clientCertificate` (DER bytes) optional. A fetch `Request` fits.
fn read_request(r: &JsValue) -> Result<OwnedRequest> {
    if !r.is_object() {
        return Err(Error::config(
            "the request must be an object ({ method, url, headers } or a Request)",
        ));
    }
    let method = text(r, "method")?.unwrap_or_else(|| "GET".into());
    let mut headers: Vec<(String, String)> = Vec::new();
    let h = field(r, "headers");
    if !h.is_undefined() && !h.is_null() {
        let pairs = if Array::is_array(&h) {
            Array::from(&h)
        } else if let Ok(entries) = Reflect::get(&h, &"entries".into()).and_then(|f| f.dyn_into::<js_sys::Function>()) {
            Array::from(
                &entries
                    .call0(&h)
                    .map_err(|_| Error::config("request.headers.entries() failed"))?,
            )
        } else {
            js_sys::Object::entries(h.unchecked_ref())
        };
        for pair in pairs.iter() {
            let pair = Array::from(&pair);
            let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) else {
                return Err(Error::config("request.headers must hold string names and values"));
            };
            headers.push((k, v));
        }
    }
    let (target, scheme) = match text(r, "url")? {
        Some(url) => {
            let (scheme, rest) = url
                .split_once("://")
                .ok_or_else(|| Error::config("request.url must be an absolute URL"))?;
            let end = rest.find(['/', '?']).unwrap_or(rest.len());
            let (host, tail) = rest.split_at(end);
            let tail = tail.split('#').next().unwrap_or("");
            if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
                headers.push(("host".into(), host.to_string()));
            }
            let target = if tail.starts_with('/') {
                tail.to_string()
            } else {
                format!("/{tail}")
            };
            (target, scheme.to_ascii_lowercase())
        }
        None => (
            text(r, "target")?.ok_or_else(|| Error::config("the request needs url, or target and scheme"))?,
            text(r, "scheme")?.unwrap_or_else(|| "https".into()),
        ),
    };
    let peer = match text(r, "peer")? {
        Some(p) => Some(
            p.parse()
                .map_err(|_| Error::config("request.peer must be an IP address"))?,
        ),
        None => None,
    };
    let cert = field(r, "clientCertificate");
    let certificate = if cert.is_undefined() || cert.is_null() {
        None
    } else {
        Some(
            cert.dyn_into::<Uint8Array>()
                .map_err(|_| Error::config("request.clientCertificate must be a Uint8Array (DER)"))?
                .to_vec(),
        )
    };
    Ok(OwnedRequest {
        method,
        target,
        scheme: scheme.trim_end_matches(':').to_string(),
        headers,
        peer,
        certificate,
    })
}

fn headers_js(headers: &[(String, String)]) -> JsValue {
    headers
        .iter()
        .map(|(k, v)| -> JsValue { Array::of2(&k.into(), &v.into()).into() })
        .collect::<Array>()
        .into()
}

/// Checks whole requests: a `Verifier` plus the request options (`dpop`: "allowed" | "required" |
/// "disabled", `dpopAlgorithms`, `dpopNonce`, `dpopNonceKey`, `dpopNonceLifetime`, `publicUrl`,
/// `trustForwarded`, `trustedProxies`, `clientCertHeader`, `clientCertHeaderFormat`,
/// `requireCertificateBinding`, `realm`, `replayCapacity`), with an in-memory replay cache.
#[wasm_bindgen]
pub struct RequestVerifier {
    inner: Rc<core_rv::RequestVerifier>,
}

#[wasm_bindgen]
impl RequestVerifier {
    #[wasm_bindgen(constructor)]
    pub fn new(verifier: &Verifier, options: JsValue) -> std::result::Result<RequestVerifier, JsValue> {
        let policy = js_result(json_of(&options, "request options").and_then(|v| RequestPolicy::from_value(&v)))?;
        Ok(RequestVerifier {
            inner: Rc::new(core_rv::RequestVerifier::new(
                Arc::new(verifier.core().clone()),
                policy,
                verifier.clock(),
            )),
        })
    }

    /// Resolves to `{ accepted: true, claims, scheme, jkt, certificate, headers }` or
    /// `{ accepted: false, status, error, headers }` (`error`: an AuthsecError, or null when no
    /// credential was sent); `headers` are `[name, value]` pairs to send with the answer.
    /// `options`: `{ requiredScopes, anyScopes }`.
    pub fn verify(&self, request: JsValue, options: JsValue) -> Promise {
        let rv = self.inner.clone();
        let read = read_request(&request).and_then(|r| Ok((r, requirement(&options)?)));
        future_to_promise(async move {
            let (r, scopes) = js_result(read)?;
            let parts = RequestParts {
                method: &r.method,
                target: &r.target,
                scheme: &r.scheme,
                headers: r.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
                peer: r.peer,
                client_certificate: r.certificate.as_deref(),
            };
            Ok(match rv.verify_with(&parts, &scopes, &WebCrypto).await {
                Ok(a) => js_object(&[
                    ("accepted", true.into()),
                    ("claims", claims_js(&a.claims)?),
                    ("scheme", a.scheme.as_str().into()),
                    (
                        "jkt",
                        a.binding
                            .proof
                            .as_ref()
                            .map_or(JsValue::NULL, |p| p.jkt.as_str().into()),
                    ),
                    (
                        "certificate",
                        a.binding.certificate.as_deref().map_or(JsValue::NULL, JsValue::from),
                    ),
                    ("headers", headers_js(&a.headers)),
                ]),
                Err(refusal) => js_object(&[
                    ("accepted", false.into()),
                    ("status", refusal.status.into()),
                    ("error", refusal.error.as_ref().map_or(JsValue::NULL, js_error)),
                    ("headers", headers_js(&refusal.headers)),
                ]),
            })
        })
    }
}
