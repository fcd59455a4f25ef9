//! The test keys behind the vectors (`tests/vectors/keys.json`): which keys there are, loading
//! them (or generating them on the first run), their public forms (JWK, SubjectPublicKeyInfo PEM)
//! and the keys file.

use super::der;
use super::json::pretty;
use super::weak_rsa::Big;
// The one module path of the core this crate needs (not re-exported at the crate root).
use authsec_core::jose::signing::pem_armor;
use authsec_core::util::{b64_std_decode, b64url_decode, b64url_encode};
use authsec_core::{Alg, SigningKey};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Rsa,
    P256,
    P384,
    Ed25519,
    /// 1024-bit RSA: below the minimum, signed by the small RSA implementation below.
    WeakRsa,
}

const KEY_SPECS: &[(&str, Kind, &str)] = &[
    (
        "rsa-a",
        Kind::Rsa,
        "RSA 2048: the issuer's main RSA key (RS256/384/512 and PS256/384/512)",
    ),
    (
        "rsa-b",
        Kind::Rsa,
        "RSA 2048: the issuer's second RSA key (key rotation)",
    ),
    ("p256-a", Kind::P256, "EC P-256: the issuer's ES256 key"),
    ("p384-a", Kind::P384, "EC P-384: the issuer's ES384 key"),
    ("ed25519-a", Kind::Ed25519, "Ed25519: the issuer's EdDSA key"),
    (
        "attacker-rsa",
        Kind::Rsa,
        "RSA 2048: an attacker's key; never in an issuer key set",
    ),
    (
        "attacker-p256",
        Kind::P256,
        "EC P-256: an attacker's key; never in an issuer key set",
    ),
    (
        "dpop-p256",
        Kind::P256,
        "EC P-256: a client's DPoP proof key (ES256); never in an issuer key set",
    ),
    (
        "dpop-ed25519",
        Kind::Ed25519,
        "Ed25519: a client's DPoP proof key (EdDSA); never in an issuer key set",
    ),
    (
        "dpop-rsa",
        Kind::Rsa,
        "RSA 2048: a client's DPoP proof key (PS256); never in an issuer key set",
    ),
    (
        "rsa-1024-weak",
        Kind::WeakRsa,
        "RSA 1024: below the 2048-bit minimum; verifiers must skip it",
    ),
];

/// TEST ONLY. A 1024-bit RSA key (openssl genrsa -traditional 1024); aws-lc cannot make one.
const WEAK_RSA_PEM: &str = "-----BEGIN RSA PRIVATE KEY-----
MIICXAIBAAKBgQCp6HMlvXXtNOPHrL1wjkOaDYZE+BKLODZeygk4NvQ7+BJdvHH2
mRtrEM3LQODF5bbPTOpmnUbPQxEshbOBXp0ngQfV0wUsB8omP+q8SIHESypFusBs
zDWxnwW/7HzdNn9hhFjybgFylA75I5J193zQVcjAFvM2wqsSSzZYqTvebwIDAQAB
AoGAPf+OFNVfdKD6BOBpd+rRjCMnPX9v9NEcNdZvKs4SrNdGjGG5DAyuTpEhJuuT
mWLLJDWiyrLVJcgJOj/HUouduDYVGbbOPhamou9xhqOzFP8PUDLpGugcAIetfH5i
Vg0Ld0Jn7tjl28ZLCenABl5cWti2r4tOftQnciAzH97af1ECQQDcMh18g+W+siRm
aEQ31AY6fmnDDKKIX2xIPHo71e/zMas1k0MY14C6nZL2PH55cPP8iMaXLoW7g2gN
bw+KvAijAkEAxYkNh45Nv4FI7h9h5INB6B4MB9/VINfeqOo962nsxvAPsjAO2v2T
be8zz+ymQi0TgspYUwVZMmv1x5/Y+ThzxQJAcYGn74KyUI3V87A10i2KlGaLsE74
DaJa2BXM0MFkcpGc9v4VbV3RbuFBW4stiv5t1zTOYipKJ7ICVkJ02Yg6TwJBALMp
UFUfk5LbPvuDCTXKew99mSnXMSZdxLzt4AVSCIiTGZljD0Y+ceZm61Zt7Ine+nBI
+H0sP6+EzeImMBQyyIUCQDRRzrpu/nUQRrVq+K/z4uAVM/2eZi9kTkOyvdYPYLpG
9/vWzLyLTVjRv4TUXiy+u6lktKsrdfc20+PiAqjZILM=
-----END RSA PRIVATE KEY-----
";

pub(crate) struct TestKey {
    pub(crate) kind: Kind,
    pub(crate) description: String,
    pub(crate) private_pem: String,
    /// kty + key parameters + `kid` (= the key's name).
    pub(crate) public_jwk: Value,
    /// SubjectPublicKeyInfo PEM.
    pub(crate) public_pem: String,
    /// For the weak key: (n, e, d).
    pub(crate) weak: Option<(Big, Big, Big)>,
}

fn default_alg(kind: Kind) -> Alg {
    match kind {
        Kind::Rsa | Kind::WeakRsa => Alg::RS256,
        Kind::P256 => Alg::ES256,
        Kind::P384 => Alg::ES384,
        Kind::Ed25519 => Alg::EdDSA,
    }
}

pub(crate) fn load_or_create_keys(dir: &Path, allow_new: bool) -> Result<BTreeMap<String, TestKey>, String> {
    let existing: Value = std::fs::read_to_string(dir.join("keys.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    let mut out = BTreeMap::new();
    for (name, kind, description) in KEY_SPECS {
        let pem = match existing["keys"][*name]["private_pem"].as_str() {
            Some(p) => p.to_string(),
            None if !allow_new => {
                return Err(format!(
                    "keys.json has no key {name:?}; run the generator without --check"
                ))
            }
            None if *kind == Kind::WeakRsa => WEAK_RSA_PEM.to_string(),
            None => generate_key(default_alg(*kind), name)?,
        };
        out.insert(name.to_string(), test_key(name, *kind, description, pem)?);
    }
    Ok(out)
}

fn generate_key(alg: Alg, name: &str) -> Result<String, String> {
    let key = SigningKey::generate(alg, Some(name.to_string())).map_err(|e| format!("cannot generate {name}: {e}"))?;
    Ok(key.to_pem().expose().to_string())
}

fn test_key(name: &str, kind: Kind, description: &str, pem: String) -> Result<TestKey, String> {
    let pick = |jwk: &Value, fields: &[&str]| -> Value {
        let mut m = Map::new();
        for f in fields {
            m.insert(f.to_string(), jwk[*f].clone());
        }
        m.insert("kid".into(), json!(name));
        Value::Object(m)
    };
    let (public_jwk, spki, weak) = if kind == Kind::WeakRsa {
        let ints = der::pkcs1_private_key(&pem_body(&pem)?).ok_or("the weak RSA PEM is not PKCS#1")?;
        let (n, e, d) = (&ints[1], &ints[2], &ints[3]);
        let jwk =
            json!({"kty": "RSA", "n": b64url_encode(der::strip(n)), "e": b64url_encode(der::strip(e)), "kid": name});
        let weak = (Big::from_be(n), Big::from_be(e), Big::from_be(d));
        (jwk, der::rsa_spki(n, e), Some(weak))
    } else {
        let sk = SigningKey::from_pem(&pem, Some(default_alg(kind)), Some(name.to_string()))
            .map_err(|e| format!("key {name}: {e}"))?;
        let full = sk.public_jwk();
        let b = |f: &str| b64url_decode(full[f].as_str().unwrap_or_default()).unwrap_or_default();
        match kind {
            Kind::Rsa => (pick(&full, &["kty", "n", "e"]), der::rsa_spki(&b("n"), &b("e")), None),
            Kind::P256 | Kind::P384 => (
                pick(&full, &["kty", "crv", "x", "y"]),
                der::ec_spki(kind == Kind::P384, &b("x"), &b("y")),
                None,
            ),
            Kind::Ed25519 => (pick(&full, &["kty", "crv", "x"]), der::ed25519_spki(&b("x")), None),
            Kind::WeakRsa => unreachable!(),
        }
    };
    Ok(TestKey {
        kind,
        description: description.to_string(),
        private_pem: pem,
        public_jwk,
        public_pem: pem_armor("PUBLIC KEY", &spki),
        weak,
    })
}

pub(crate) fn pem_body(pem: &str) -> Result<Vec<u8>, String> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
    b64_std_decode(&b64).ok_or_else(|| "bad PEM".to_string())
}

pub(crate) fn keys_file(keys: &BTreeMap<String, TestKey>) -> String {
    let mut m = Map::new();
    for (name, k) in keys {
        m.insert(
            name.clone(),
            json!({
                "description": k.description,
                "private_pem": k.private_pem,
                "public_pem": k.public_pem,
                "public_jwk": k.public_jwk,
            }),
        );
    }
    let v = json!({
        "version": 1,
        "description": "Keys behind the authsec test vectors. The generator reuses them, so regeneration is stable.",
        "warning": "TEST ONLY. These private keys are published on purpose; never use them for anything but tests.",
        "keys": m,
    });
    pretty(&v)
}
