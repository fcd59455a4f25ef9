//! `private_key_jwt` keys given as private JWKs (EC P-256/P-384, Ed25519, RSA) sign tokens that
//! verify with the matching public key; inconsistent JWKs are refused with `invalid_key`.
use authsec_core::access_token::rules::{parse_token, verify_parsed};
use authsec_core::util::{b64_std_decode, b64url_encode};
use authsec_core::*;
use aws_lc_rs::encoding::AsBigEndian;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
};
use serde_json::{json, Map, Value};

fn verifies(private_jwk: &Value, public_jwk: &Value, alg: Alg) {
    let key = SigningKey::from_jwk(&private_jwk.to_string()).unwrap_or_else(|e| panic!("{alg}: {e}"));
    assert_eq!(key.alg(), alg);
    // The JWK's kid is kept; without one, the kid is the key's RFC 7638 thumbprint.
    match private_jwk.get("kid").and_then(Value::as_str) {
        Some(k) => assert_eq!(key.kid(), k),
        None => assert_eq!(key.kid().len(), 43, "base64url SHA-256 thumbprint"),
    }
    let mut public_jwk = public_jwk.clone();
    public_jwk["kid"] = json!(key.kid());
    public_jwk["alg"] = json!(alg.as_str());
    let claims = json!({"iss": "i", "aud": "a", "exp": 2_000_000_000, "sub": "s"});
    let token = key.sign(None, &Map::new(), &claims).unwrap();
    let cfg = VerifierConfig::new("i", "a");
    let keys = KeySet::from_jwks_value(&json!({"keys": [public_jwk]})).unwrap();
    let parsed = parse_token(&token, &cfg).unwrap();
    verify_parsed(&parsed, &keys, &cfg, 1_700_000_000_000).unwrap_or_else(|e| panic!("{alg}: {e}"));
}

#[test]
fn ec_private_jwks() {
    for (alg, sa, crv, n) in [
        (Alg::ES256, &ECDSA_P256_SHA256_FIXED_SIGNING, "P-256", 32),
        (Alg::ES384, &ECDSA_P384_SHA384_FIXED_SIGNING, "P-384", 48),
    ] {
        let kp = EcdsaKeyPair::generate(sa).unwrap();
        let d = kp.private_key().as_be_bytes().unwrap();
        let p = kp.public_key().as_ref();
        let (x, y) = (b64url_encode(&p[1..1 + n]), b64url_encode(&p[1 + n..]));
        let public = json!({"kty": "EC", "crv": crv, "x": x, "y": y, "kid": "k"});
        let mut private = public.clone();
        private["d"] = json!(b64url_encode(d.as_ref()));
        verifies(&private, &public, alg);
        // d of another key: inconsistent.
        let other = EcdsaKeyPair::generate(sa).unwrap();
        private["d"] = json!(b64url_encode(other.private_key().as_be_bytes().unwrap().as_ref()));
        assert_eq!(
            SigningKey::from_jwk(&private.to_string()).unwrap_err().code(),
            ErrorCode::InvalidKey
        );
    }
}

#[test]
fn ed25519_private_jwk() {
    let kp = Ed25519KeyPair::generate().unwrap();
    let seed = kp.seed().unwrap().as_be_bytes().unwrap();
    let public = json!({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(kp.public_key().as_ref())});
    let mut private = public.clone();
    private["d"] = json!(b64url_encode(seed.as_ref()));
    verifies(&private, &public, Alg::EdDSA);
    private["d"] = json!(b64url_encode(&[7u8; 32]));
    assert_eq!(
        SigningKey::from_jwk(&private.to_string()).unwrap_err().code(),
        ErrorCode::InvalidKey
    );
}

fn tlv(d: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = d[0];
    let (len, hdr) = if d[1] < 0x80 {
        (d[1] as usize, 2)
    } else {
        let n = (d[1] & 0x7f) as usize;
        (d[2..2 + n].iter().fold(0usize, |a, b| (a << 8) | *b as usize), 2 + n)
    };
    (tag, &d[hdr..hdr + len], &d[hdr + len..])
}

/// The PKCS#1 RSAPrivateKey DER inside a PKCS#8 PEM (test-only DER walk).
fn pkcs1_der(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = b64_std_decode(&b64).unwrap();
    // PrivateKeyInfo ::= SEQUENCE { version, algorithm, OCTET STRING privateKey }
    let (_, pki, _) = tlv(&der);
    let (_, _, rest) = tlv(pki); // version
    let (_, _, rest) = tlv(rest); // algorithm
    let (tag, octets, _) = tlv(rest);
    assert_eq!(tag, 0x04);
    octets.to_vec()
}

/// Read the nine INTEGERs of the PKCS#1 RSAPrivateKey inside a PKCS#8 PEM.
fn rsa_components(pem: &str) -> Vec<Vec<u8>> {
    let octets = pkcs1_der(pem);
    let (_, mut seq, _) = tlv(&octets);
    let mut ints = Vec::new();
    while !seq.is_empty() {
        let (tag, v, rest) = tlv(seq);
        assert_eq!(tag, 0x02);
        ints.push(v.iter().copied().skip_while(|b| *b == 0).collect::<Vec<u8>>());
        seq = rest;
    }
    ints
}

#[test]
fn rsa_private_jwk() {
    let key = SigningKey::generate(Alg::RS256, Some("r".into())).unwrap();
    let public = key.public_jwk();
    let c = rsa_components(key.to_pem().expose());
    assert_eq!(c.len(), 9, "version, n, e, d, p, q, dp, dq, qi");
    let names = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];
    let mut private = json!({"kty": "RSA", "alg": "PS256"});
    for (i, n) in names.iter().enumerate() {
        private[*n] = json!(b64url_encode(&c[i + 1]));
    }
    assert_eq!(private["n"], public["n"]);
    verifies(&private, &public, Alg::PS256);
    // The JWK's own alg must fit its key type.
    private["alg"] = json!("ES256");
    assert_eq!(
        SigningKey::from_jwk(&private.to_string()).unwrap_err().code(),
        ErrorCode::InvalidKey
    );
}

/// A PKCS#1 `RSA PRIVATE KEY` PEM loads (RS256 inferred, or the RSA alg asked for) and signs
/// tokens that verify, for PKCS#1 v1.5 and PSS alike.
#[test]
fn pkcs1_rsa_pem_signs() {
    let key = SigningKey::generate(Alg::RS256, None).unwrap();
    let pkcs1 = authsec_core::jose::signing::pem_armor("RSA PRIVATE KEY", &pkcs1_der(key.to_pem().expose()));
    assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    let public = key.public_jwk();
    for alg in [None, Some(Alg::RS256), Some(Alg::PS256), Some(Alg::RS512)] {
        let k = SigningKey::from_pem(&pkcs1, alg, None).unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        let alg = alg.unwrap_or(Alg::RS256);
        assert_eq!(k.alg(), alg);
        assert_eq!(
            k.kid(),
            public["kid"].as_str().unwrap(),
            "the same key: the same thumbprint"
        );
        let mut public = public.clone();
        public["alg"] = json!(alg.as_str());
        let claims = json!({"iss": "i", "aud": "a", "exp": 2_000_000_000, "sub": "s"});
        let token = k.sign(None, &Map::new(), &claims).unwrap();
        let cfg = VerifierConfig::new("i", "a");
        let keys = KeySet::from_jwks_value(&json!({"keys": [public]})).unwrap();
        verify_parsed(&parse_token(&token, &cfg).unwrap(), &keys, &cfg, 1_700_000_000_000)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
    }
}

#[test]
fn pem_or_jwk_detects_the_form() {
    let key = SigningKey::generate(Alg::ES256, None).unwrap();
    assert!(SigningKey::from_pem_or_jwk(key.to_pem().expose(), None, None).is_ok());
    let e = SigningKey::from_pem_or_jwk("{\"kty\":\"EC\",\"crv\":\"P-256\"}", None, None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidKey);
    assert!(!format!("{key:?}").contains("PRIVATE"), "Debug never shows the key");
}
