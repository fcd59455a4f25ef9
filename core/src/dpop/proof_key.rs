//! The client's DPoP key: it signs a proof for each request (RFC 9449 §4.2) with `typ: dpop+jwt`,
//! the public key in `jwk`, and the claims `jti` (128 random bits), `htm`, `htu` (the target URI
//! without query and fragment, normalised as the resource side compares it), `iat`, `ath` (with an
//! access token) and `nonce` (once a server gave one). ES256 by default; any asymmetric algorithm
//! the core signs with (EdDSA, PS256, ...) is accepted. Its thumbprint names it in `cnf.jkt` and
//! in the token cache's key.

use super::htu::normalize_htu;
use super::proof::access_token_hash;
use crate::jose::alg::Alg;
use crate::jose::keys::KeySet;
use crate::jose::signing::SigningKey;
use crate::random::random_id;
use crate::util::b64url_encode;
use crate::{Error, ErrorCode, Result};
use serde_json::{json, Map, Value};
use std::fmt;

/// A DPoP proof key (see the module documentation). Cloning shares nothing mutable.
#[derive(Clone)]
pub struct ProofKey {
    key: SigningKey,
    /// The encoded protected header, the same for every proof.
    header_b64: String,
    jwk: Value,
    thumbprint: String,
}

impl fmt::Debug for ProofKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProofKey")
            .field("alg", &self.key.alg())
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

/// The members of a public JWK a proof carries (RFC 7638's, so the thumbprint is over what is sent).
const PUBLIC_MEMBERS: [&str; 6] = ["kty", "crv", "x", "y", "n", "e"];

impl ProofKey {
    /// A proof key from a signing key.
    pub fn new(key: SigningKey) -> Result<ProofKey> {
        let full = key.public_jwk();
        let jwk: Map<String, Value> = PUBLIC_MEMBERS
            .iter()
            .filter_map(|m| full.get(*m).map(|v| (m.to_string(), v.clone())))
            .collect();
        let jwk = Value::Object(jwk);
        let keys = KeySet::from_jwk_value(&jwk)?;
        let thumbprint = keys.keys()[0].public_key().thumbprint();
        let header = json!({"typ": "dpop+jwt", "alg": key.alg().as_str(), "jwk": jwk});
        let header_b64 = b64url_encode(&serde_json::to_vec(&header).map_err(|e| Error::internal(e.to_string()))?);
        Ok(ProofKey {
            key,
            header_b64,
            jwk,
            thumbprint,
        })
    }

    /// A fresh key held in memory only (`alg` ES256 unless said otherwise).
    #[cfg(feature = "aws_lc_rs")]
    pub fn generate(alg: Option<Alg>) -> Result<ProofKey> {
        ProofKey::new(SigningKey::generate(alg.unwrap_or(Alg::ES256), None)?)
    }

    /// A key from a PEM (PKCS#8) or private JWK text; `alg` when the key alone does not say
    /// (an RSA key signs PS256 unless told otherwise: RS256 is not in FAPI 2's list).
    pub fn from_pem_or_jwk(text: &str, alg: Option<Alg>) -> Result<ProofKey> {
        let key = SigningKey::from_pem_or_jwk(text, alg, None)?;
        let key = match (key.alg(), alg) {
            (Alg::RS256, None) => SigningKey::from_pem_or_jwk(text, Some(Alg::PS256), None)?,
            _ => key,
        };
        ProofKey::new(key)
    }

    pub fn alg(&self) -> Alg {
        self.key.alg()
    }

    /// The RFC 7638 thumbprint (`cnf.jkt`, `dpop_jkt`).
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The public JWK the proofs carry.
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// The private key as PEM, to save it. Treat as a secret.
    pub fn to_pem(&self) -> &crate::Secret {
        self.key.to_pem()
    }

    /// A proof for a request with `method` to `uri` at `now_ms`, carrying `ath` of `access_token`
    /// (resource requests) and the server's `nonce`.
    pub fn proof(
        &self,
        method: &str,
        uri: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
        now_ms: i64,
    ) -> Result<String> {
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(Error::new(
                ErrorCode::ConfigError,
                format!("{} is not an HTTP method", crate::util::quoted(method)),
            ));
        }
        let mut claims = Map::new();
        claims.insert("jti".into(), json!(random_id(16)?));
        claims.insert("htm".into(), json!(method));
        claims.insert("htu".into(), json!(normalize_htu(uri)?));
        claims.insert("iat".into(), json!(now_ms.div_euclid(1000)));
        if let Some(token) = access_token {
            claims.insert("ath".into(), json!(access_token_hash(token)));
        }
        if let Some(n) = nonce {
            claims.insert("nonce".into(), json!(n));
        }
        let payload = serde_json::to_vec(&claims).map_err(|e| Error::internal(e.to_string()))?;
        self.key.sign_segments(&self.header_b64, &b64url_encode(&payload))
    }
}

#[cfg(all(test, feature = "aws_lc_rs"))]
mod tests {
    use super::*;
    use crate::dpop::{verify_proof, DpopPolicy, ProofRequest};

    const NOW_MS: i64 = 1_700_000_000_000;

    #[test]
    fn proofs_verify_for_every_algorithm_and_differ_each_time() {
        for alg in [Alg::ES256, Alg::ES384, Alg::EdDSA, Alg::PS256] {
            let k = ProofKey::generate(Some(alg)).unwrap();
            let p = k
                .proof(
                    "POST",
                    "HTTPS://api.example:443/mcp?x=1#f",
                    Some("at"),
                    Some("n-1"),
                    NOW_MS,
                )
                .unwrap();
            let req = ProofRequest {
                method: "POST",
                uri: "https://api.example/mcp",
                access_token: Some("at"),
                jkt: Some(k.thumbprint()),
            };
            let got = verify_proof(&p, &req, &DpopPolicy::default(), NOW_MS).unwrap();
            assert_eq!(
                (got.jkt.as_str(), got.nonce.as_deref()),
                (k.thumbprint(), Some("n-1")),
                "{alg}"
            );
            assert_eq!(got.htu, "https://api.example/mcp");
            let again = k
                .proof("POST", "https://api.example/mcp", Some("at"), None, NOW_MS)
                .unwrap();
            let again = verify_proof(&again, &req, &DpopPolicy::default(), NOW_MS).unwrap();
            assert_ne!(got.jti, again.jti);
            assert!(got.jti.len() >= 16);
        }
        assert_eq!(ProofKey::generate(None).unwrap().alg(), Alg::ES256);
    }

    #[test]
    fn the_proof_carries_only_the_public_key_and_reloads_from_pem() {
        let k = ProofKey::generate(None).unwrap();
        let members: Vec<&String> = k.public_jwk().as_object().unwrap().keys().collect();
        assert_eq!(members, ["crv", "kty", "x", "y"]);
        let again = ProofKey::from_pem_or_jwk(k.to_pem().expose(), None).unwrap();
        assert_eq!(again.thumbprint(), k.thumbprint());
        let rsa = SigningKey::generate(Alg::RS256, None).unwrap();
        assert_eq!(
            ProofKey::from_pem_or_jwk(rsa.to_pem().expose(), None).unwrap().alg(),
            Alg::PS256
        );
        assert!(!format!("{k:?}").contains("PRIVATE"));
        assert!(k.proof("", "https://a/", None, None, NOW_MS).is_err());
        assert!(k.proof("GET", "/relative", None, None, NOW_MS).is_err());
    }
}
