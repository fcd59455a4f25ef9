//! The stateless checks of a DPoP proof (RFC 9449 §4.3): one proof, `typ`, the algorithm policy,
//! the embedded public `jwk` (a private one refused), the signature, `jti`, `htm`, `htu`, the
//! `iat` window, `ath`, and the key's thumbprint against the token's `cnf.jkt`. What needs state
//! (the replay cache, the server's nonces) is checked by the caller with what
//! [`VerifiedProof`] returns: [`super::replay`], [`super::nonce`].

use super::htu::normalize_htu;
use crate::jose::alg::Alg;
use crate::jose::compact::{check_signature, CompactJws};
use crate::jose::keys::{KeySet, VerifyKey};
use crate::util::{b64url_decode, b64url_encode, quoted};
use crate::{Error, ErrorCode, Result};
use serde_json::{Map, Value};
use std::time::Duration;

/// The largest proof read (a proof is a header with one public key and five short claims).
pub const MAX_PROOF_BYTES: usize = 8 * 1024;
/// The longest `jti` accepted (RFC 9449 §11.1: "reject huge jti").
pub const MAX_JTI_CHARS: usize = 256;

/// What a resource accepts of DPoP proofs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpopPolicy {
    /// Allowed proof algorithms; empty means every supported asymmetric one.
    pub algorithms: Vec<Alg>,
    /// How old a proof's `iat` may be (default 300 s, as express-oauth2-jwt-bearer and
    /// go-jwt-middleware).
    pub max_age: Duration,
    /// Clock-skew leeway on both sides of the window (default 5 s, the verifier's).
    pub leeway: Duration,
}

impl DpopPolicy {
    /// Until when a proof issued at `iat` (seconds) could still be accepted, in ms: how long the
    /// replay cache must remember it (RFC 9449 §11.1).
    pub fn replay_until_ms(&self, iat: i64) -> i64 {
        let window = (self.max_age + self.leeway).as_millis() as i64;
        iat.saturating_mul(1000).saturating_add(window)
    }
}

impl Default for DpopPolicy {
    fn default() -> Self {
        DpopPolicy {
            algorithms: Vec::new(),
            max_age: Duration::from_secs(300),
            leeway: Duration::from_secs(5),
        }
    }
}

/// The request a proof must match.
#[derive(Clone, Debug, Default)]
pub struct ProofRequest<'a> {
    /// The HTTP method, as sent (`POST`).
    pub method: &'a str,
    /// The request's target URI, absolute (as the resource's public origin names it).
    pub uri: &'a str,
    /// The access token sent with the proof (resource requests): `ath` must be its hash.
    pub access_token: Option<&'a str>,
    /// The token's `cnf.jkt`: the proof's key must have this thumbprint.
    pub jkt: Option<&'a str>,
}

/// A proof that passed [`verify_proof`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The RFC 7638 thumbprint of the proof's key.
    pub jkt: String,
    pub jti: String,
    /// Seconds since the epoch.
    pub iat: i64,
    /// The proof's `nonce`, for the server that issues them to check ([`super::nonce`]).
    pub nonce: Option<String>,
    /// The request's target URI as compared (normalised), for the replay key.
    pub htu: String,
}

impl VerifiedProof {
    /// The replay-cache key of RFC 9449 §11.1, "in the context of the target URI": the SHA-256 of
    /// the key's thumbprint, the method, the normalised target URI and the `jti`, so a `jti` one
    /// key used never blocks another key's, and the stored value is short whatever the `jti`.
    pub fn replay_key(&self, method: &str) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for part in [self.jkt.as_str(), method, self.htu.as_str(), self.jti.as_str()] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        h.finalize().into()
    }
}

fn invalid(why: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::InvalidDpopProof, format!("the DPoP proof {why}"))
}

/// Members of a private JWK (RFC 7517, 7518): a proof carrying one leaks the key.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// `ath`: the base64url SHA-256 of the access token's ASCII (RFC 9449 §4.2).
pub fn access_token_hash(token: &str) -> String {
    use sha2::Digest;
    b64url_encode(&sha2::Sha256::digest(token.as_bytes()))
}

/// Check a DPoP proof against the request at `now_ms` (see the module documentation). Errors are
/// `invalid_dpop_proof`.
pub fn verify_proof(proof: &str, req: &ProofRequest<'_>, policy: &DpopPolicy, now_ms: i64) -> Result<VerifiedProof> {
    let check = check_proof(proof, req, policy, now_ms)?;
    let valid = check.verify_with_backend()?;
    check.finish(valid)
}

/// What [`check_proof`] leaves to the caller: the signature, as data, for runtimes that check
/// signatures with their own crypto (WebAssembly with WebCrypto), as [`crate::SignatureCheck`]
/// does for tokens. Hand the outcome to [`ProofCheck::finish`].
#[derive(Clone, Debug)]
pub struct ProofCheck {
    alg: Alg,
    key: VerifyKey,
    signing_input_len: usize,
    proof: String,
    signature: Vec<u8>,
    verified: VerifiedProof,
}

impl ProofCheck {
    pub fn alg(&self) -> Alg {
        self.alg
    }
    /// The proof's embedded public key.
    pub fn key(&self) -> &VerifyKey {
        &self.key
    }
    /// The JWS signing input.
    pub fn message(&self) -> &[u8] {
        &self.proof.as_bytes()[..self.signing_input_len]
    }
    /// The decoded signature (raw `r || s` for ECDSA).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
    /// Check the signature with this build's backend.
    pub fn verify_with_backend(&self) -> Result<bool> {
        match check_signature(self.alg, &self.key, self.message(), &self.signature) {
            Ok(()) => Ok(true),
            Err(e) if e.code() == ErrorCode::InvalidSignature => Ok(false),
            Err(e) => Err(invalid(e.message())),
        }
    }
    /// The proof, once its signature is known to be `valid` (or `invalid_dpop_proof`).
    pub fn finish(self, valid: bool) -> Result<VerifiedProof> {
        if valid {
            Ok(self.verified)
        } else {
            Err(invalid("signature does not verify with its jwk"))
        }
    }
}

/// Every check of [`verify_proof`] but the signature's.
pub fn check_proof(proof: &str, req: &ProofRequest<'_>, policy: &DpopPolicy, now_ms: i64) -> Result<ProofCheck> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(invalid(format_args!("is longer than {MAX_PROOF_BYTES} bytes")));
    }
    let jws = CompactJws::split(proof).map_err(|e| invalid(format_args!("is not a compact JWS ({})", e.message())))?;
    let header: Map<String, Value> = b64url_decode(jws.signing_input.split('.').next().unwrap_or(""))
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("header is not a JSON object"))?;
    if !jws
        .header
        .typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("dpop+jwt"))
    {
        return Err(invalid("has no typ \"dpop+jwt\""));
    }
    crate::jose::compact::check_crit(jws.header.crit.as_ref()).map_err(|e| invalid(e.message()))?;
    let alg = Alg::parse(&jws.header.alg).map_err(|e| invalid(e.message()))?;
    if !policy.algorithms.is_empty() && !policy.algorithms.contains(&alg) {
        return Err(invalid(format_args!("uses {alg}, which this resource does not accept")));
    }
    let jwk = match header.get("jwk") {
        Some(Value::Object(o)) => o,
        _ => return Err(invalid("header has no jwk object")),
    };
    if let Some(m) = PRIVATE_MEMBERS.iter().find(|m| jwk.contains_key(**m)) {
        return Err(invalid(format_args!(
            "jwk is a private key (it has \"{m}\"); send the public key only"
        )));
    }
    let keys = KeySet::from_jwk_value(&Value::Object(jwk.clone())).map_err(|e| invalid(e.message()))?;
    let key = keys.keys()[0].clone();
    if !key.fits(alg) {
        return Err(invalid(format_args!("jwk does not fit alg {alg}")));
    }
    let signature = jws.signature().map_err(|e| invalid(e.message()))?;
    let signing_input_len = jws.signing_input.len();

    let claims: Map<String, Value> = b64url_decode(jws.payload_b64)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("payload is not a JSON object"))?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let jti = text("jti")
        .filter(|j| !j.is_empty())
        .ok_or_else(|| invalid("has no jti"))?;
    if jti.chars().count() > MAX_JTI_CHARS {
        return Err(invalid(format_args!("jti is longer than {MAX_JTI_CHARS} characters")));
    }
    if text("htm") != Some(req.method) {
        return Err(invalid(format_args!(
            "is for another method (htm), not {}",
            quoted(req.method)
        )));
    }
    let target = normalize_htu(req.uri)?;
    match text("htu").map(normalize_htu) {
        Some(Ok(htu)) if htu == target => {}
        _ => {
            return Err(invalid(format_args!(
                "is for another URI (htu), not {}",
                quoted(req.uri)
            )))
        }
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| invalid("has no integer iat"))?;
    let now = now_ms.div_euclid(1000);
    let leeway = policy.leeway.as_secs() as i64;
    if iat > now + leeway {
        return Err(invalid("was issued in the future (iat)"));
    }
    if iat < now - policy.max_age.as_secs() as i64 - leeway {
        return Err(invalid(format_args!(
            "is older than {} s (iat)",
            policy.max_age.as_secs()
        )));
    }
    if let Some(token) = req.access_token {
        if text("ath") != Some(access_token_hash(token).as_str()) {
            return Err(invalid("is not for this access token (ath)"));
        }
    }
    let jkt = key.public_key().thumbprint();
    if req.jkt.is_some_and(|bound| bound != jkt) {
        return Err(invalid(
            "is signed by another key than the one the token is bound to (cnf.jkt)",
        ));
    }
    let verified = VerifiedProof {
        jkt,
        jti: jti.to_string(),
        iat,
        nonce: text("nonce").map(str::to_string),
        htu: target,
    };
    Ok(ProofCheck {
        alg,
        key,
        signing_input_len,
        proof: proof.to_string(),
        signature,
        verified,
    })
}

#[cfg(all(test, feature = "aws_lc_rs"))]
mod proof_tests {
    use super::*;
    use crate::jose::signing::SigningKey;
    use serde_json::json;

    const NOW_MS: i64 = 1_700_000_000_000;
    const NOW: i64 = NOW_MS / 1000;
    const URI: &str = "https://api.example/mcp";
    const TOKEN: &str = "an-access-token";

    fn key() -> SigningKey {
        SigningKey::generate(Alg::ES256, None).unwrap()
    }

    fn claims() -> Value {
        json!({"jti": "j-1", "htm": "POST", "htu": URI, "iat": NOW, "ath": access_token_hash(TOKEN)})
    }

    /// A proof by `k` with the header `{typ: dpop+jwt, alg, jwk}` changed by `header`, of `claims`.
    fn proof(k: &SigningKey, header: Value, claims: Value) -> String {
        let mut h = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": k.public_jwk()});
        for (name, v) in header.as_object().unwrap() {
            if v.is_null() {
                h.as_object_mut().unwrap().remove(name);
            } else {
                h[name] = v.clone();
            }
        }
        k.sign_raw(&h, &claims).unwrap()
    }

    fn with(name: &str, v: Value) -> Value {
        let mut c = claims();
        if v.is_null() {
            c.as_object_mut().unwrap().remove(name);
        } else {
            c[name] = v;
        }
        c
    }

    fn request() -> ProofRequest<'static> {
        ProofRequest {
            method: "POST",
            uri: URI,
            access_token: Some(TOKEN),
            ..Default::default()
        }
    }

    fn check(p: &str, req: &ProofRequest<'_>) -> Result<VerifiedProof> {
        verify_proof(p, req, &DpopPolicy::default(), NOW_MS)
    }

    #[test]
    fn a_good_proof_names_its_key() {
        let k = key();
        let thumb = k.public_jwk();
        let got = check(&proof(&k, json!({}), claims()), &request()).unwrap();
        let expected = KeySet::from_jwk_value(&thumb).unwrap().keys()[0]
            .public_key()
            .thumbprint();
        assert_eq!(
            (got.jkt.as_str(), got.jti.as_str(), got.iat),
            (expected.as_str(), "j-1", NOW)
        );
        // Bound to that key; a query on either side does not matter; htu case and port normalised.
        let bound = ProofRequest {
            jkt: Some(&expected),
            uri: "https://API.example:443/mcp?x=1",
            ..request()
        };
        assert!(check(
            &proof(&k, json!({}), with("htu", json!("https://api.example/mcp?y"))),
            &bound
        )
        .is_ok());
        // A token request carries no access token: no ath needed.
        let token_request = ProofRequest {
            access_token: None,
            ..request()
        };
        assert!(check(&proof(&k, json!({}), with("ath", Value::Null)), &token_request).is_ok());
    }

    #[test]
    fn every_step_of_rfc_9449_section_4_3() {
        let k = key();
        let other = key();
        let mut private = k.public_jwk();
        private["d"] = json!("AAAA");
        let cases: Vec<(&str, String)> = vec![
            ("no typ", proof(&k, json!({"typ": null}), claims())),
            ("typ JWT", proof(&k, json!({"typ": "JWT"}), claims())),
            ("no jwk", proof(&k, json!({"jwk": null}), claims())),
            ("private jwk", proof(&k, json!({"jwk": private}), claims())),
            (
                "another key's jwk",
                proof(&k, json!({"jwk": other.public_jwk()}), claims()),
            ),
            ("alg none", proof(&k, json!({"alg": "none"}), claims())),
            ("alg HS256", proof(&k, json!({"alg": "HS256"}), claims())),
            ("alg not fitting", proof(&k, json!({"alg": "RS256"}), claims())),
            ("no jti", proof(&k, json!({}), with("jti", Value::Null))),
            ("huge jti", proof(&k, json!({}), with("jti", json!("j".repeat(300))))),
            ("wrong htm", proof(&k, json!({}), with("htm", json!("GET")))),
            ("lower-case htm", proof(&k, json!({}), with("htm", json!("post")))),
            (
                "other htu",
                proof(&k, json!({}), with("htu", json!("https://api.example/other"))),
            ),
            (
                "htu of another origin",
                proof(&k, json!({}), with("htu", json!("https://evil.example/mcp"))),
            ),
            ("no iat", proof(&k, json!({}), with("iat", Value::Null))),
            (
                "iat an hour ahead",
                proof(&k, json!({}), with("iat", json!(NOW + 3600))),
            ),
            ("iat an hour old", proof(&k, json!({}), with("iat", json!(NOW - 3600)))),
            ("no ath", proof(&k, json!({}), with("ath", Value::Null))),
            (
                "wrong ath",
                proof(&k, json!({}), with("ath", json!(access_token_hash("another")))),
            ),
            ("not a JWS", "a.b".to_string()),
            ("too long", "a".repeat(MAX_PROOF_BYTES + 1)),
        ];
        for (what, p) in cases {
            let e = check(&p, &request()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidDpopProof, "{what}: {e:?}");
        }
        // A bad signature.
        let good = proof(&k, json!({}), claims());
        let (signed, _) = good.rsplit_once('.').unwrap();
        let forged = format!(
            "{signed}.{}",
            proof(&other, json!({}), claims()).rsplit_once('.').unwrap().1
        );
        assert_eq!(
            check(&forged, &request()).unwrap_err().code(),
            ErrorCode::InvalidDpopProof
        );
        // The token is bound to another key.
        let bound = ProofRequest {
            jkt: Some("not-this-key"),
            ..request()
        };
        assert!(check(&good, &bound).unwrap_err().message().contains("cnf.jkt"));
        // The policy's algorithms.
        let ps_only = DpopPolicy {
            algorithms: vec![Alg::PS256],
            ..DpopPolicy::default()
        };
        assert!(verify_proof(&good, &request(), &ps_only, NOW_MS).is_err());
        // Within the window edges (300 s old, leeway 5 s) it passes.
        assert!(check(&proof(&k, json!({}), with("iat", json!(NOW - 305))), &request()).is_ok());
        assert!(check(&proof(&k, json!({}), with("iat", json!(NOW + 5))), &request()).is_ok());
        assert!(check(&proof(&k, json!({}), with("iat", json!(NOW - 306))), &request()).is_err());
        // Unknown claims are ignored.
        assert!(check(&proof(&k, json!({}), with("extra", json!({"x": 1}))), &request()).is_ok());
    }

    #[test]
    fn the_nonce_is_returned_for_the_server_to_check() {
        let k = key();
        assert_eq!(check(&proof(&k, json!({}), claims()), &request()).unwrap().nonce, None);
        let got = check(&proof(&k, json!({}), with("nonce", json!("n-1"))), &request()).unwrap();
        assert_eq!(got.nonce.as_deref(), Some("n-1"));
    }

    #[test]
    fn replay_keys_differ_by_key_method_uri_and_jti() {
        let k = key();
        let a = check(&proof(&k, json!({}), claims()), &request()).unwrap();
        let same_uri_other_query = check(
            &proof(&k, json!({}), with("htu", json!("https://API.example/mcp?x"))),
            &request(),
        )
        .unwrap();
        assert_eq!(a.replay_key("POST"), same_uri_other_query.replay_key("POST"));
        assert_ne!(a.replay_key("POST"), a.replay_key("GET"));
        let other_key = check(&proof(&key(), json!({}), claims()), &request()).unwrap();
        assert_ne!(a.replay_key("POST"), other_key.replay_key("POST"));
        let other_jti = check(&proof(&k, json!({}), with("jti", json!("j-2"))), &request()).unwrap();
        assert_ne!(a.replay_key("POST"), other_jti.replay_key("POST"));
    }
}
