//! Public keys for verification: JWKS parsing with strict rules.

use super::alg::{Alg, KeyFamily};
use crate::util::{b64url_decode, b64url_encode};
use crate::{Error, ErrorCode, Result};
use jsonwebtoken::DecodingKey;
use serde_json::Value;
use std::sync::Arc;

/// Largest JWKS document accepted.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Most keys kept from one JWKS.
pub const MAX_JWKS_KEYS: usize = 100;
/// Smallest RSA modulus accepted, in bits (RFC 7518 §3.3).
pub const MIN_RSA_BITS: usize = 2048;

/// One verification key.
#[derive(Clone)]
pub struct VerifyKey {
    pub kid: Option<String>,
    pub family: KeyFamily,
    /// The key's own `alg`, if the JWK names one: then only that algorithm may use it.
    pub alg: Option<Alg>,
    pub(crate) key: DecodingKey,
    public: Arc<PublicKey>,
    /// The key parsed once per algorithm for aws-lc-rs (shared by clones).
    #[cfg(feature = "aws_lc_rs")]
    pub(crate) parsed: Arc<super::parsed_key::ParsedKeys>,
}

/// A verification key's public material, as the JWK gave it (RSA modulus without leading zeros).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// `crv` is `P-256` or `P-384`; `x` and `y` have the curve's length.
    Ec {
        crv: &'static str,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    Ed25519 {
        x: [u8; 32],
    },
}

impl PublicKey {
    /// The key's required JWK members in RFC 7638 canonical form (lexicographic order, no
    /// whitespace): a public JWK for importing the key elsewhere (WebCrypto), and the input of
    /// its thumbprint.
    pub fn canonical_jwk(&self) -> String {
        match self {
            PublicKey::Rsa { n, e } => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                b64url_encode(e),
                b64url_encode(n)
            ),
            PublicKey::Ec { crv, x, y } => format!(
                r#"{{"crv":"{crv}","kty":"EC","x":"{}","y":"{}"}}"#,
                b64url_encode(x),
                b64url_encode(y)
            ),
            PublicKey::Ed25519 { x } => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64url_encode(x)),
        }
    }

    /// The RFC 7638 SHA-256 thumbprint (base64url): a stable identity for the key material.
    pub fn thumbprint(&self) -> String {
        use sha2::Digest;
        b64url_encode(&sha2::Sha256::digest(self.canonical_jwk().as_bytes()))
    }
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("kid", &self.kid)
            .field("family", &self.family)
            .field("alg", &self.alg)
            .finish()
    }
}

impl VerifyKey {
    /// The key's public material.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Whether the key may verify `alg` (family match, and the key's own `alg` if it has one).
    pub fn fits(&self, alg: Alg) -> bool {
        self.family == alg.family() && self.alg.is_none_or(|a| a == alg)
    }
}

/// A parsed key set.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Vec<VerifyKey>,
    /// Why keys were skipped (unsupported type, `use: enc`, weak RSA...), for diagnostics.
    pub skipped: Vec<String>,
}

impl KeySet {
    pub fn keys(&self) -> &[VerifyKey] {
        &self.keys
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(|k| k.kid.as_deref())
    }

    /// Parse a JWKS (`{"keys":[...]}`) document. Keys this library cannot or must not use are
    /// skipped (listed in `skipped`); a document that is not a JWKS is an `invalid_jwks` error.
    pub fn from_jwks_json(bytes: &[u8]) -> Result<KeySet> {
        if bytes.len() > MAX_JWKS_BYTES {
            return Err(Error::new(
                ErrorCode::InvalidJwks,
                format!("the JWKS is {} bytes; the limit is {MAX_JWKS_BYTES}", bytes.len()),
            ));
        }
        let v: Value = serde_json::from_slice(bytes).map_err(|e| {
            Error::new(
                ErrorCode::InvalidJwks,
                format!("the JWKS is not valid JSON ({})", crate::util::json_error_at(&e)),
            )
        })?;
        Self::from_jwks_value(&v)
    }

    pub fn from_jwks_value(v: &Value) -> Result<KeySet> {
        let keys = v
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::new(ErrorCode::InvalidJwks, "the JWKS has no \"keys\" array"))?;
        let mut set = KeySet::default();
        for (i, k) in keys.iter().enumerate() {
            if set.keys.len() >= MAX_JWKS_KEYS {
                set.skipped
                    .push(format!("keys after the first {MAX_JWKS_KEYS} were ignored"));
                break;
            }
            match parse_jwk(k) {
                Ok(key) => set.keys.push(key),
                Err(why) => set.skipped.push(format!("key #{i}: {why}")),
            }
        }
        Ok(set)
    }

    /// A key set with one key given as a JWK.
    pub fn from_jwk_value(v: &Value) -> Result<KeySet> {
        let key = parse_jwk(v).map_err(|why| Error::new(ErrorCode::InvalidKey, why))?;
        Ok(KeySet {
            keys: vec![key],
            skipped: Vec::new(),
        })
    }

    /// The keys that may have signed a token: with a `kid`, every key with that `kid` that fits
    /// `alg`, in key-set order (a careless rotation can publish two keys under one `kid`; the
    /// signature is valid when any of them verifies it, as in jose); without one, the only key
    /// that fits. Never empty.
    pub fn candidates(&self, kid: Option<&str>, alg: Alg) -> Result<Vec<VerifyKey>> {
        let fitting: Vec<VerifyKey> = self
            .keys
            .iter()
            .filter(|k| k.fits(alg) && (kid.is_none() || k.kid.as_deref() == kid))
            .cloned()
            .collect();
        let (code, message) = match (kid, fitting.len()) {
            (Some(_), 1..) | (None, 1) => return Ok(fitting),
            (Some(kid), _) if self.kids().any(|k| k == kid) => (
                ErrorCode::AlgorithmMismatch,
                format!("the key {} cannot be used with alg {alg}", crate::util::quoted(kid)),
            ),
            (Some(kid), _) => (
                ErrorCode::KeyNotFound,
                format!(
                    "no key with kid {} in the key set; if the issuer rotated keys, the JWKS will be refetched",
                    crate::util::quoted(kid)
                ),
            ),
            (None, 0) => (
                ErrorCode::KeyNotFound,
                format!("the token has no kid and no key in the key set fits alg {alg}"),
            ),
            (None, n) => (
                ErrorCode::KeyNotFound,
                format!("the token has no kid and {n} keys fit alg {alg}; the issuer must set kid"),
            ),
        };
        Err(Error::new(code, message))
    }
}

fn str_field<'a>(k: &'a Value, name: &str) -> std::result::Result<&'a str, String> {
    k.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing or non-string \"{name}\""))
}

fn b64_field(k: &Value, name: &str) -> std::result::Result<Vec<u8>, String> {
    b64url_decode(str_field(k, name)?).ok_or_else(|| format!("\"{name}\" is not base64url"))
}

/// Whether an uncompressed SEC1 point (`04 || x || y`) lies on the family's curve. A key off its
/// curve verifies nothing and is what invalid-curve attacks are made of: it is skipped when the
/// set is read, like a short RSA modulus, rather than failing at the signature check.
#[cfg(feature = "aws_lc_rs")]
fn on_curve(family: KeyFamily, point: &[u8]) -> bool {
    use aws_lc_rs::signature::{ParsedPublicKey, ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED};
    let alg = match family {
        KeyFamily::EcP384 => &ECDSA_P384_SHA384_FIXED,
        _ => &ECDSA_P256_SHA256_FIXED,
    };
    ParsedPublicKey::new(alg, point).is_ok()
}

#[cfg(all(feature = "ec_points", not(feature = "aws_lc_rs")))]
fn on_curve(family: KeyFamily, point: &[u8]) -> bool {
    match family {
        KeyFamily::EcP384 => p384::PublicKey::from_sec1_bytes(point).is_ok(),
        _ => p256::PublicKey::from_sec1_bytes(point).is_ok(),
    }
}

/// Without a backend nothing verifies anyway (see `jose::alg`).
#[cfg(not(any(feature = "aws_lc_rs", feature = "ec_points")))]
fn on_curve(_: KeyFamily, _: &[u8]) -> bool {
    true
}

fn parse_jwk(k: &Value) -> std::result::Result<VerifyKey, String> {
    if !k.is_object() {
        return Err("not a JSON object".into());
    }
    let kty = str_field(k, "kty")?;
    if let Some(u) = k.get("use") {
        if u.as_str() != Some("sig") {
            let shown = u
                .as_str()
                .map_or_else(|| "not a string".to_string(), crate::util::quoted);
            return Err(format!("\"use\" is {shown}, not \"sig\""));
        }
    }
    if let Some(ops) = k.get("key_ops") {
        let ok = ops
            .as_array()
            .is_some_and(|a| a.iter().any(|o| o.as_str() == Some("verify")));
        if !ok {
            return Err("\"key_ops\" does not include \"verify\"".into());
        }
    }
    let alg = match k.get("alg") {
        None => None,
        Some(a) => Some(Alg::parse(a.as_str().ok_or("\"alg\" is not a string")?).map_err(|e| e.message().to_string())?),
    };
    let kid = match k.get("kid") {
        None => None,
        Some(v) => Some(v.as_str().ok_or("\"kid\" is not a string")?.to_string()),
    };
    let (family, key, public) = match kty {
        "RSA" => {
            let n = b64_field(k, "n")?;
            let e = b64_field(k, "e")?;
            let n_trim = strip_leading_zeros(&n);
            // An empty (or all-zero) modulus is 0 bits; `len * 8 - 8` underflowed (found by fuzzing).
            let bits = n_trim
                .first()
                .map_or(0, |b| n_trim.len() * 8 - b.leading_zeros() as usize);
            if bits < MIN_RSA_BITS {
                return Err(format!(
                    "RSA key of {bits} bits is below the {MIN_RSA_BITS}-bit minimum"
                ));
            }
            // Range-check the exponent without its leading zeros: `"e":"AA"` (zero) was accepted.
            let e = strip_leading_zeros(&e);
            if e.len() > 8 {
                return Err("RSA exponent is out of range".into());
            }
            // RFC 8017 §3.1: an odd exponent of at least 3 (so zero is refused here too). With
            // e = 1 a "signature" is the padded message itself, so anyone could make one; skip the
            // key when the set is read rather than fail later at the signature check.
            let exponent = e.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
            if exponent < 3 || exponent % 2 == 0 {
                return Err(format!(
                    "RSA exponent {exponent} is not an odd number of at least 3 (RFC 8017)"
                ));
            }
            (
                KeyFamily::Rsa,
                DecodingKey::from_rsa_raw_components(n_trim, e),
                PublicKey::Rsa {
                    n: n_trim.to_vec(),
                    e: e.to_vec(),
                },
            )
        }
        "EC" => {
            let crv = str_field(k, "crv")?;
            let (family, len, crv) = match crv {
                "P-256" => (KeyFamily::EcP256, 32, "P-256"),
                "P-384" => (KeyFamily::EcP384, 48, "P-384"),
                other => return Err(format!("EC curve {} is not supported", crate::util::quoted(other))),
            };
            let x = b64_field(k, "x")?;
            let y = b64_field(k, "y")?;
            if x.len() != len || y.len() != len {
                return Err(format!("EC coordinates have the wrong length for {crv}"));
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            if !on_curve(family, &point) {
                return Err(format!("the EC point is not on {crv}"));
            }
            (family, DecodingKey::from_ec_der(&point), PublicKey::Ec { crv, x, y })
        }
        "OKP" => {
            let crv = str_field(k, "crv")?;
            if crv != "Ed25519" {
                return Err(format!("OKP curve {} is not supported", crate::util::quoted(crv)));
            }
            let x = b64_field(k, "x")?;
            let x: [u8; 32] = x
                .try_into()
                .map_err(|_| "Ed25519 public key must be 32 bytes".to_string())?;
            (
                KeyFamily::Ed25519,
                DecodingKey::from_ed_der(&x),
                PublicKey::Ed25519 { x },
            )
        }
        "oct" => return Err("symmetric (\"oct\") keys are never used for verification".into()),
        other => return Err(format!("key type {} is not supported", crate::util::quoted(other))),
    };
    if let Some(a) = alg {
        if a.family() != family {
            return Err(format!("\"alg\" {a} does not fit the key type"));
        }
    }
    Ok(VerifyKey {
        kid,
        family,
        alg,
        key,
        public: Arc::new(public),
        #[cfg(feature = "aws_lc_rs")]
        parsed: Arc::default(),
    })
}

fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[i..]
}
