//! Private keys: load from PEM or JWK, generate, publish as JWK, sign compact JWS.
//! Used for `private_key_jwt` client assertions (RFC 7523), by the local authorization server,
//! and by the test-vector generator.

use super::alg::{provider, Alg, KeyFamily};
use crate::util::{b64_std_encode, b64url_decode, b64url_encode};
use crate::{Error, ErrorCode, Result, Secret};
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::EncodingKey;
use serde_json::{json, Map, Value};
#[cfg(feature = "aws_lc_rs")]
use std::sync::Arc;

/// A private signing key with its algorithm and key id.
#[derive(Clone)]
pub struct SigningKey {
    alg: Alg,
    kid: String,
    /// The key for jsonwebtoken's signer (the pure-Rust backend).
    #[cfg(not(feature = "aws_lc_rs"))]
    key: EncodingKey,
    /// The key parsed once for aws-lc-rs: jsonwebtoken's signer re-parses (and, for RSA,
    /// re-validates) the DER key on every signature, which costs more than the RSA signature.
    #[cfg(feature = "aws_lc_rs")]
    parsed: Arc<ParsedKey>,
    pem: Secret,
    public: Map<String, Value>,
}

/// An aws-lc-rs key pair, parsed from the [`EncodingKey`]'s DER exactly as jsonwebtoken's
/// aws-lc signers parse it (so every key that loads signs the same way), plus one random source.
#[cfg(feature = "aws_lc_rs")]
struct ParsedKey {
    pair: KeyPair,
    rng: aws_lc_rs::rand::SystemRandom,
}

#[cfg(feature = "aws_lc_rs")]
enum KeyPair {
    Rsa(aws_lc_rs::signature::RsaKeyPair),
    Ec(aws_lc_rs::signature::EcdsaKeyPair),
    Ed(aws_lc_rs::signature::Ed25519KeyPair),
}

#[cfg(feature = "aws_lc_rs")]
impl ParsedKey {
    fn parse(alg: Alg, key: &EncodingKey) -> Result<ParsedKey> {
        use aws_lc_rs::signature::{
            EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
        };
        let der = key.as_bytes();
        let pair = match alg.family() {
            // jsonwebtoken's EncodingKey holds PKCS#1 DER for RSA (from PKCS#1 or PKCS#8 PEM).
            KeyFamily::Rsa => RsaKeyPair::from_der(der)
                .map(KeyPair::Rsa)
                .map_err(|e| key_err(format!("the RSA private key is not usable ({e})")))?,
            KeyFamily::EcP256 => EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                .map(KeyPair::Ec)
                .map_err(|_| key_err("the P-256 private key is not usable"))?,
            KeyFamily::EcP384 => EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, der)
                .map(KeyPair::Ec)
                .map_err(|_| key_err("the P-384 private key is not usable"))?,
            KeyFamily::Ed25519 => Ed25519KeyPair::from_pkcs8(der)
                .map(KeyPair::Ed)
                .map_err(|_| key_err("the Ed25519 private key is not usable"))?,
        };
        Ok(ParsedKey {
            pair,
            rng: aws_lc_rs::rand::SystemRandom::new(),
        })
    }

    fn sign(&self, alg: Alg, msg: &[u8]) -> Result<Vec<u8>> {
        use aws_lc_rs::signature as s;
        let failed = |_| Error::internal("signing failed");
        match &self.pair {
            KeyPair::Rsa(kp) => {
                let padding: &'static dyn s::RsaEncoding = match alg {
                    Alg::RS256 => &s::RSA_PKCS1_SHA256,
                    Alg::RS384 => &s::RSA_PKCS1_SHA384,
                    Alg::RS512 => &s::RSA_PKCS1_SHA512,
                    Alg::PS256 => &s::RSA_PSS_SHA256,
                    Alg::PS384 => &s::RSA_PSS_SHA384,
                    Alg::PS512 => &s::RSA_PSS_SHA512,
                    _ => return Err(Error::internal("an RSA key with a non-RSA algorithm")),
                };
                let mut sig = vec![0; kp.public_modulus_len()];
                kp.sign(padding, &self.rng, msg, &mut sig).map_err(failed)?;
                Ok(sig)
            }
            KeyPair::Ec(kp) => Ok(kp.sign(&self.rng, msg).map_err(failed)?.as_ref().to_vec()),
            KeyPair::Ed(kp) => Ok(kp.sign(msg).as_ref().to_vec()),
        }
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("key", &"***")
            .finish()
    }
}

fn key_err(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidKey, msg)
}

impl SigningKey {
    /// Load a PEM private key (PKCS#8 `PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`). With `alg` `None`
    /// the algorithm is inferred: EdDSA for Ed25519, ES256/ES384 by curve, RS256 for RSA.
    /// With `kid` `None` the kid is the key's RFC 7638 thumbprint.
    pub fn from_pem(pem: &str, alg: Option<Alg>, kid: Option<String>) -> Result<SigningKey> {
        provider()?;
        let bytes = pem.as_bytes();
        let candidates: Vec<(Alg, std::result::Result<EncodingKey, _>)> = match alg {
            Some(a) => vec![(a, encoding_key_for(a, bytes))],
            None => vec![
                (Alg::EdDSA, EncodingKey::from_ed_pem(bytes)),
                (Alg::ES256, EncodingKey::from_ec_pem(bytes)),
                (Alg::ES384, EncodingKey::from_ec_pem(bytes)),
                (Alg::RS256, EncodingKey::from_rsa_pem(bytes)),
            ],
        };
        for (a, k) in candidates {
            let Ok(key) = k else { continue };
            // Deriving the public JWK proves the key parses for this algorithm (curve included).
            let Ok(jwk) = Jwk::from_encoding_key(&key, a.to_jwt()) else {
                continue;
            };
            if a.family() == KeyFamily::Rsa && rsa_bits(&jwk) < super::keys::MIN_RSA_BITS {
                return Err(key_err("RSA signing keys must be at least 2048 bits"));
            }
            return Self::finish(a, kid, key, Secret::new(pem), jwk);
        }
        Err(key_err(match alg {
            Some(a) => format!("the PEM private key is not a valid {a} key (expected PKCS#8 \"PRIVATE KEY\" or PKCS#1 \"RSA PRIVATE KEY\")"),
            None => "the PEM private key could not be read (expected an unencrypted PKCS#8 \"PRIVATE KEY\" or PKCS#1 \"RSA PRIVATE KEY\" for RSA, P-256, P-384 or Ed25519)".to_string(),
        }))
    }

    /// Load a key given as PEM or as a private JWK (text starting with `{`).
    pub fn from_pem_or_jwk(text: &str, alg: Option<Alg>, kid: Option<String>) -> Result<SigningKey> {
        if text.trim_start().starts_with('{') {
            let k = Self::from_jwk(text)?;
            if let Some(a) = alg {
                if a.family() != k.alg.family() {
                    return Err(key_err(format!("the JWK cannot be used with {a}")));
                }
                return Self::finish_from(k, Some(a), kid);
            }
            Self::finish_from(k, None, kid)
        } else {
            Self::from_pem(text, alg, kid)
        }
    }

    fn finish_from(k: SigningKey, alg: Option<Alg>, kid: Option<String>) -> Result<SigningKey> {
        let alg = alg.unwrap_or(k.alg);
        let pem = k.pem.clone();
        let kid = kid.or(Some(k.kid.clone()));
        Self::from_pem(pem.expose(), Some(alg), kid)
    }

    fn finish(alg: Alg, kid: Option<String>, key: EncodingKey, pem: Secret, jwk: Jwk) -> Result<SigningKey> {
        let kid = match kid {
            Some(k) => k,
            None => jwk
                .thumbprint(ThumbprintHash::SHA256)
                .map_err(|e| key_err(format!("could not compute the key thumbprint ({e})")))?,
        };
        let mut public = match serde_json::to_value(&jwk) {
            Ok(Value::Object(m)) => m,
            _ => return Err(Error::internal("public JWK did not serialize to an object")),
        };
        public.insert("kid".into(), Value::String(kid.clone()));
        public.insert("alg".into(), Value::String(alg.as_str().into()));
        public.insert("use".into(), Value::String("sig".into()));
        Ok(SigningKey {
            alg,
            kid,
            #[cfg(feature = "aws_lc_rs")]
            parsed: Arc::new(ParsedKey::parse(alg, &key)?),
            #[cfg(not(feature = "aws_lc_rs"))]
            key,
            pem,
            public,
        })
    }

    /// Load a private JWK (`d` present): EC P-256/P-384, OKP Ed25519, RSA.
    #[cfg(feature = "aws_lc_rs")]
    pub fn from_jwk(text: &str) -> Result<SigningKey> {
        let v: Value = serde_json::from_str(text).map_err(|_| key_err("the private JWK is not valid JSON"))?;
        let s = |n: &str| {
            v.get(n)
                .and_then(Value::as_str)
                .ok_or_else(|| key_err(format!("the private JWK has no \"{n}\"")))
        };
        let b = |n: &str| {
            s(n).and_then(|x| b64url_decode(x).ok_or_else(|| key_err(format!("JWK \"{n}\" is not base64url"))))
        };
        let alg_hint = v.get("alg").and_then(Value::as_str).map(Alg::parse).transpose()?;
        let kid = v.get("kid").and_then(Value::as_str).map(str::to_string);
        let (alg, der, label) = match s("kty")? {
            "EC" => {
                use aws_lc_rs::signature::{
                    EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
                };
                let (alg, sa) = match s("crv")? {
                    "P-256" => (Alg::ES256, &ECDSA_P256_SHA256_FIXED_SIGNING),
                    "P-384" => (Alg::ES384, &ECDSA_P384_SHA384_FIXED_SIGNING),
                    c => return Err(key_err(format!("EC curve {} is not supported", crate::util::quoted(c)))),
                };
                let mut point = vec![4u8];
                point.extend(b("x")?);
                point.extend(b("y")?);
                let kp = EcdsaKeyPair::from_private_key_and_public_key(sa, &b("d")?, &point)
                    .map_err(|_| key_err("the EC private JWK is inconsistent (d does not match x, y)"))?;
                (
                    alg,
                    kp.to_pkcs8v1()
                        .map_err(|_| key_err("EC key export failed"))?
                        .as_ref()
                        .to_vec(),
                    "PRIVATE KEY",
                )
            }
            "OKP" => {
                if s("crv")? != "Ed25519" {
                    return Err(key_err("only the Ed25519 OKP curve is supported"));
                }
                let kp = aws_lc_rs::signature::Ed25519KeyPair::from_seed_and_public_key(&b("d")?, &b("x")?)
                    .map_err(|_| key_err("the Ed25519 private JWK is inconsistent (d does not match x)"))?;
                (
                    Alg::EdDSA,
                    kp.to_pkcs8v1()
                        .map_err(|_| key_err("Ed25519 key export failed"))?
                        .as_ref()
                        .to_vec(),
                    "PRIVATE KEY",
                )
            }
            "RSA" => {
                let parts = ["n", "e", "d", "p", "q", "dp", "dq", "qi"].map(b);
                let mut ints = vec![vec![0u8]];
                for p in parts {
                    ints.push(p?);
                }
                (
                    alg_hint.unwrap_or(Alg::RS256),
                    der_sequence_of_integers(&ints),
                    "RSA PRIVATE KEY",
                )
            }
            k => {
                return Err(key_err(format!(
                    "private JWK key type {} is not supported",
                    crate::util::quoted(k)
                )))
            }
        };
        let alg = match alg_hint {
            Some(h) if h.family() == alg.family() => h,
            Some(h) => return Err(key_err(format!("the JWK's alg {h} does not fit its key type"))),
            None => alg,
        };
        Self::from_pem(&pem_armor(label, &der), Some(alg), kid)
    }

    /// Load a private JWK: needs the native (`aws_lc_rs`) backend.
    #[cfg(not(feature = "aws_lc_rs"))]
    pub fn from_jwk(_text: &str) -> Result<SigningKey> {
        Err(key_err("private JWKs need the aws_lc_rs backend; use a PEM key"))
    }

    /// Generate a fresh key (RSA keys are 2048 bits).
    #[cfg(feature = "aws_lc_rs")]
    pub fn generate(alg: Alg, kid: Option<String>) -> Result<SigningKey> {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::signature::{
            EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
        };
        let fail = |_| Error::internal("key generation failed");
        let der: Vec<u8> = match alg.family() {
            KeyFamily::EcP256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .map_err(fail)?
                .to_pkcs8v1()
                .map_err(fail)?
                .as_ref()
                .to_vec(),
            KeyFamily::EcP384 => EcdsaKeyPair::generate(&ECDSA_P384_SHA384_FIXED_SIGNING)
                .map_err(fail)?
                .to_pkcs8v1()
                .map_err(fail)?
                .as_ref()
                .to_vec(),
            KeyFamily::Ed25519 => Ed25519KeyPair::generate()
                .map_err(fail)?
                .to_pkcs8v1()
                .map_err(fail)?
                .as_ref()
                .to_vec(),
            KeyFamily::Rsa => {
                let kp = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(fail)?;
                let d: aws_lc_rs::encoding::Pkcs8V1Der = kp.as_der().map_err(fail)?;
                d.as_ref().to_vec()
            }
        };
        Self::from_pem(&pem_armor("PRIVATE KEY", &der), Some(alg), kid)
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// The private key as PEM, for persistence. Treat as a secret.
    pub fn to_pem(&self) -> &Secret {
        &self.pem
    }
    /// The public JWK (`kty`, curve/modulus fields, `kid`, `alg`, `use: sig`).
    pub fn public_jwk(&self) -> Value {
        Value::Object(self.public.clone())
    }

    /// Sign a compact JWS with header `{alg, kid, typ?}` plus `extra_header` fields.
    pub fn sign(&self, typ: Option<&str>, extra_header: &Map<String, Value>, claims: &Value) -> Result<String> {
        let mut header = Map::new();
        header.insert("alg".into(), json!(self.alg.as_str()));
        if let Some(t) = typ {
            header.insert("typ".into(), json!(t));
        }
        header.insert("kid".into(), json!(self.kid));
        for (k, v) in extra_header {
            header.insert(k.clone(), v.clone());
        }
        self.sign_raw(&Value::Object(header), claims)
    }

    /// Sign exactly this header and payload (the header is not checked; used by test vectors).
    pub fn sign_raw(&self, header: &Value, claims: &Value) -> Result<String> {
        let h = serde_json::to_vec(header).map_err(|e| Error::internal(e.to_string()))?;
        let c = serde_json::to_vec(claims).map_err(|e| Error::internal(e.to_string()))?;
        self.sign_segments(&b64url_encode(&h), &b64url_encode(&c))
    }

    /// Sign already-encoded header and payload segments.
    pub fn sign_segments(&self, header_b64: &str, payload_b64: &str) -> Result<String> {
        let mut out = String::with_capacity(header_b64.len() + payload_b64.len() + 2 + 700);
        out.push_str(header_b64);
        out.push('.');
        out.push_str(payload_b64);
        let sig = self.signature(out.as_bytes())?;
        out.push('.');
        out.push_str(&b64url_encode(&sig));
        Ok(out)
    }

    /// The signature of `msg` with the key parsed once (native builds).
    #[cfg(feature = "aws_lc_rs")]
    fn signature(&self, msg: &[u8]) -> Result<Vec<u8>> {
        self.parsed.sign(self.alg, msg)
    }

    /// The signature of `msg` through jsonwebtoken's signer (the pure-Rust backend).
    #[cfg(not(feature = "aws_lc_rs"))]
    fn signature(&self, msg: &[u8]) -> Result<Vec<u8>> {
        let signer = (provider()?.signer_factory)(&self.alg.to_jwt(), &self.key)
            .map_err(|e| key_err(format!("cannot sign with this key ({e})")))?;
        signer.try_sign(msg).map_err(|_| Error::internal("signing failed"))
    }
}

fn encoding_key_for(alg: Alg, pem: &[u8]) -> jsonwebtoken::errors::Result<EncodingKey> {
    match alg.family() {
        KeyFamily::Rsa => EncodingKey::from_rsa_pem(pem),
        KeyFamily::EcP256 | KeyFamily::EcP384 => EncodingKey::from_ec_pem(pem),
        KeyFamily::Ed25519 => EncodingKey::from_ed_pem(pem),
    }
}

fn rsa_bits(jwk: &Jwk) -> usize {
    match &jwk.algorithm {
        jsonwebtoken::jwk::AlgorithmParameters::RSA(p) => b64url_decode(&p.n).map_or(0, |n| {
            let n: Vec<u8> = n.into_iter().skip_while(|b| *b == 0).collect();
            // An empty or all-zero modulus is 0 bits (`len * 8 - 8` would underflow).
            n.first().map_or(0, |b| n.len() * 8 - b.leading_zeros() as usize)
        }),
        _ => 0,
    }
}

/// PEM armor for DER bytes.
pub fn pem_armor(label: &str, der: &[u8]) -> String {
    let b64 = b64_std_encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(feature = "aws_lc_rs")]
fn der_sequence_of_integers(ints: &[Vec<u8>]) -> Vec<u8> {
    fn len(out: &mut Vec<u8>, n: usize) {
        if n < 0x80 {
            out.push(n as u8);
        } else {
            let bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
    }
    let mut body = Vec::new();
    for i in ints {
        let mut v: Vec<u8> = i.iter().copied().skip_while(|b| *b == 0).collect();
        if v.is_empty() || v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        body.push(0x02);
        len(&mut body, v.len());
        body.extend(v);
    }
    let mut out = vec![0x30];
    len(&mut out, body.len());
    out.extend(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_bits_of_an_empty_or_zero_modulus_is_zero() {
        let jwk = |n: &str| -> Jwk {
            serde_json::from_value(serde_json::json!({"kty": "RSA", "n": n, "e": "AQAB"})).unwrap()
        };
        assert_eq!(rsa_bits(&jwk("")), 0);
        assert_eq!(rsa_bits(&jwk("AAAA")), 0);
        assert_eq!(rsa_bits(&jwk("AQ")), 1);
        assert_eq!(rsa_bits(&jwk("AIA")), 8, "leading zero bytes do not count");
    }
}
