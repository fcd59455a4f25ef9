//! Signing the vectors' tokens, reusing a signature already on disk while it still verifies (so
//! randomized ECDSA/PSS signatures do not churn), the named key sets, and HMAC tokens for the
//! attacks.

use super::case::{b64, hdr, seg, with};
use super::keys::{Kind, TestKey};
use super::weak_rsa;
use authsec_core::util::{b64url_decode, b64url_encode};
use authsec_core::{Alg, SigningKey};
use serde_json::{json, Value};
use sha2::Digest;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

pub(crate) struct Gen {
    pub(crate) keys: BTreeMap<String, TestKey>,
    signers: HashMap<(String, Alg), SigningKey>,
    /// Signing input (`header.payload`) → signatures seen in the existing files (and made this run).
    by_input: HashMap<String, Vec<String>>,
    /// Case name → its existing token.
    by_case: HashMap<String, String>,
    pub(crate) resigned: Vec<String>,
}

impl Gen {
    pub(crate) fn new(keys: BTreeMap<String, TestKey>) -> Gen {
        Gen {
            keys,
            signers: HashMap::new(),
            by_input: HashMap::new(),
            by_case: HashMap::new(),
            resigned: Vec::new(),
        }
    }

    pub(crate) fn load_existing(&mut self, dir: &Path) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for p in paths {
            let Some(v) = std::fs::read_to_string(&p)
                .ok()
                .and_then(|s| serde_json::from_str::<Value>(&s).ok())
            else {
                continue;
            };
            for c in v["cases"].as_array().into_iter().flatten() {
                // dpop_requests.json: the tokens and proofs in the requests' headers.
                for r in c["requests"].as_array().into_iter().flatten() {
                    for h in r["headers"].as_array().into_iter().flatten() {
                        let value = h[1].as_str().unwrap_or_default();
                        let jws = value.rsplit(' ').next().unwrap_or_default();
                        let parts: Vec<&str> = jws.split('.').collect();
                        if parts.len() == 3 {
                            self.by_input
                                .entry(format!("{}.{}", parts[0], parts[1]))
                                .or_default()
                                .push(parts[2].to_string());
                        }
                    }
                }
                let (Some(name), Some(token)) = (c["name"].as_str(), c["token"].as_str()) else {
                    continue;
                };
                self.by_case.insert(name.to_string(), token.to_string());
                let parts: Vec<&str> = token.split('.').collect();
                if parts.len() == 3 {
                    self.by_input
                        .entry(format!("{}.{}", parts[0], parts[1]))
                        .or_default()
                        .push(parts[2].to_string());
                }
            }
        }
    }

    pub(crate) fn key(&self, name: &str) -> &TestKey {
        &self.keys[name]
    }

    /// Signature (base64url) by `key` with `alg` over `h.p`: an existing one that still verifies,
    /// else a new one.
    pub(crate) fn sig(&mut self, case: &str, key: &str, alg: Alg, h: &str, p: &str) -> String {
        let input = format!("{h}.{p}");
        let mut candidates: Vec<String> = Vec::new();
        if let Some(s) = self.by_case.get(case).and_then(|t| t.split('.').nth(2)) {
            candidates.push(s.to_string());
            // Cases that damage a signature on purpose (padding, newline, standard alphabet).
            candidates.push(s.trim_end_matches(['=', '\n']).replace('+', "-").replace('/', "_"));
        }
        candidates.extend(self.by_input.get(&input).cloned().unwrap_or_default());
        for s in candidates {
            if self.verify_sig(key, alg, &input, &s) {
                return s;
            }
        }
        let s = self.sign_fresh(key, alg, &input);
        assert!(
            self.verify_sig(key, alg, &input, &s),
            "fresh {alg} signature by {key} does not verify"
        );
        self.resigned.push(case.to_string());
        self.by_input.entry(input).or_default().insert(0, s.clone());
        s
    }

    fn sign_fresh(&mut self, key: &str, alg: Alg, input: &str) -> String {
        if let Some((n, _, d)) = &self.key(key).weak {
            return b64url_encode(&weak_rsa::sign(n, d, input.as_bytes()));
        }
        let pem = self.key(key).private_pem.clone();
        let signer = self
            .signers
            .entry((key.to_string(), alg))
            .or_insert_with(|| SigningKey::from_pem(&pem, Some(alg), Some(key.to_string())).expect("test key loads"));
        let (h, p) = input.split_once('.').expect("signing input has a dot");
        let token = signer.sign_segments(h, p).expect("signing works");
        token.rsplit('.').next().unwrap_or_default().to_string()
    }

    fn verify_sig(&self, key: &str, alg: Alg, input: &str, sig: &str) -> bool {
        let k = self.key(key);
        if let Some((n, e, _)) = &k.weak {
            let Some(s) = b64url_decode(sig) else {
                return false;
            };
            return weak_rsa::verify(n, e, input.as_bytes(), &s);
        }
        let j = &k.public_jwk;
        let s = |f: &str| j[f].as_str().unwrap_or_default().to_string();
        let dk = match k.kind {
            Kind::Rsa | Kind::WeakRsa => jsonwebtoken::DecodingKey::from_rsa_components(&s("n"), &s("e")),
            Kind::P256 | Kind::P384 => jsonwebtoken::DecodingKey::from_ec_components(&s("x"), &s("y")),
            Kind::Ed25519 => jsonwebtoken::DecodingKey::from_ed_components(&s("x")),
        };
        let (Ok(dk), Ok(a)) = (dk, alg.as_str().parse::<jsonwebtoken::Algorithm>()) else {
            return false;
        };
        jsonwebtoken::crypto::verify(sig, input.as_bytes(), &dk, a).unwrap_or(false)
    }

    /// A compact JWS over exactly these (canonically serialized) header and claims.
    pub(crate) fn jws(&mut self, case: &str, key: &str, alg: Alg, header: &Value, claims: &Value) -> String {
        let (h, p) = (seg(header), seg(claims));
        self.jws_seg(case, key, alg, &h, &p)
    }

    /// A compact JWS over already-encoded segments.
    pub(crate) fn jws_seg(&mut self, case: &str, key: &str, alg: Alg, h: &str, p: &str) -> String {
        let s = self.sig(case, key, alg, h, p);
        format!("{h}.{p}.{s}")
    }

    /// The issuer's usual token: `{alg, kid, typ: at+jwt}` by the issuer's key for `alg`.
    pub(crate) fn std_token(&mut self, case: &str, alg: Alg, claims: &Value) -> String {
        let key = issuer_key(alg);
        self.jws(case, key, alg, &hdr(alg.as_str(), Some(key), Some("at+jwt")), claims)
    }

    /// A key as it appears in a JWKS: the public JWK plus `use: sig`, then `changes` (`del()` removes).
    pub(crate) fn jwk(&self, key: &str, changes: &[(&str, Value)]) -> Value {
        with(&with(&self.key(key).public_jwk, &[("use", json!("sig"))]), changes)
    }

    /// The named key sets the vector files refer to.
    pub(crate) fn key_set(&self, name: &str) -> Result<Value, String> {
        Ok(match name {
            "main" => {
                json!({"keys": [self.jwk("rsa-a", &[]), self.jwk("p256-a", &[]), self.jwk("p384-a", &[]), self.jwk("ed25519-a", &[])]})
            }
            "rotation" => json!({"keys": [self.jwk("rsa-a", &[]), self.jwk("rsa-b", &[])]}),
            "alg-pinned" => {
                json!({"keys": [self.jwk("rsa-a", &[("alg", json!("RS256"))]), self.jwk("p256-a", &[("alg", json!("ES256"))])]})
            }
            "weak-rsa" => json!({"keys": [self.jwk("rsa-1024-weak", &[])]}),
            "with-oct" => json!({"keys": [
                {"kty": "oct", "kid": "hmac-1", "k": b64url_encode(OCT_SECRET.as_bytes()), "alg": "HS256", "use": "sig"},
                self.jwk("p256-a", &[]),
            ]}),
            "junk-and-good" => json!({"keys": [
                {"kty": "FOO", "kid": "junk-1"},
                {"kty": "EC", "kid": "junk-2", "crv": "P-521", "x": "AA", "y": "AA"},
                {"kty": "RSA", "kid": "junk-3", "n": "not base64url!", "e": "AQAB"},
                {"kty": "RSA", "kid": "junk-4", "e": "AQAB"},
                {"kty": "OKP", "kid": "junk-5", "crv": "Ed448", "x": "AA"},
                "not an object",
                self.jwk("p256-a", &[]),
            ]}),
            "empty" => json!({"keys": []}),
            other => return Err(format!("unknown key set {other:?}")),
        })
    }
}

pub(crate) const OCT_SECRET: &str = "shared-secret-that-must-never-verify-an-access-token";

pub(crate) fn issuer_key(alg: Alg) -> &'static str {
    match alg {
        Alg::ES256 => "p256-a",
        Alg::ES384 => "p384-a",
        Alg::EdDSA => "ed25519-a",
        _ => "rsa-a",
    }
}

pub(crate) fn hmac_token(header: &Value, claims: &Value, key: &[u8]) -> String {
    let (h, p) = (seg(header), seg(claims));
    let input = format!("{h}.{p}");
    let mac = match header["alg"].as_str() {
        Some("HS384") => hmac::<sha2::Sha384>(128, key, input.as_bytes()),
        Some("HS512") => hmac::<sha2::Sha512>(128, key, input.as_bytes()),
        _ => hmac::<sha2::Sha256>(64, key, input.as_bytes()),
    };
    format!("{input}.{}", b64(&mac))
}

/// HMAC (RFC 2104).
fn hmac<D: Digest>(block: usize, key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = if key.len() > block {
        D::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(block, 0);
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = D::new().chain_update(&ipad).chain_update(msg).finalize();
    D::new().chain_update(&opad).chain_update(inner).finalize().to_vec()
}
