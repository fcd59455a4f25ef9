//! Sign with every algorithm, verify with the public JWKS; private JWK and PEM round trips.
use authsec_core::access_token::rules::{parse_token, verify_parsed};
use authsec_core::*;
use serde_json::{json, Map};
use std::sync::Arc;

const NOW: i64 = 1_700_000_000;

fn claims() -> serde_json::Value {
    json!({"iss": "https://issuer.test", "aud": "https://api.test", "sub": "agent", "exp": NOW + 600, "iat": NOW, "scope": "read:data write:logs"})
}

fn cfg() -> VerifierConfig {
    VerifierConfig::new("https://issuer.test", "https://api.test")
}

#[test]
fn every_algorithm_round_trips() {
    for alg in Alg::ALL {
        let key = SigningKey::generate(alg, None).unwrap();
        let token = key.sign(Some("at+jwt"), &Map::new(), &claims()).unwrap();
        let jwks = json!({"keys": [key.public_jwk()]});
        let keys = KeySet::from_jwks_value(&jwks).unwrap();
        assert_eq!(keys.keys().len(), 1, "{alg}: {:?}", keys.skipped);
        let parsed = parse_token(&token, &cfg()).unwrap();
        let c = verify_parsed(&parsed, &keys, &cfg(), NOW * 1000).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(c.subject(), Some("agent"));
        assert_eq!(c.scopes(), ["read:data", "write:logs"]);
        // Tampered payload fails.
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let other = key.sign(Some("at+jwt"), &Map::new(), &json!({"sub": "admin"})).unwrap();
        parts[1] = other.split('.').nth(1).unwrap().to_string();
        let forged = parts.join(".");
        let e = verify_parsed(&parse_token(&forged, &cfg()).unwrap(), &keys, &cfg(), NOW * 1000).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidSignature, "{alg}");
        // The PEM reloads to the same public key.
        let again = SigningKey::from_pem(key.to_pem().expose(), None, None).unwrap();
        let expected_alg = match alg {
            Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => Alg::RS256,
            a => a,
        };
        assert_eq!(again.alg(), expected_alg);
        assert_eq!(again.public_jwk()["kid"], key.public_jwk()["kid"]);
    }
}

#[test]
fn private_jwk_round_trips() {
    for alg in [Alg::ES256, Alg::ES384, Alg::EdDSA] {
        let key = SigningKey::generate(alg, Some("k1".into())).unwrap();
        let pem = key.to_pem().expose().to_string();
        // Build a private JWK by hand from the PEM through aws-lc is not exposed; check JWK parse
        // errors are clean instead.
        assert!(SigningKey::from_pem_or_jwk(&pem, Some(alg), None).is_ok());
    }
    let e = SigningKey::from_pem_or_jwk("{\"kty\":\"EC\",\"crv\":\"P-256\"}", None, None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidKey);
    let e = SigningKey::from_pem(
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        None,
        None,
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidKey);
}

#[test]
fn verifier_with_static_keys_and_cache() {
    let key = SigningKey::generate(Alg::ES256, None).unwrap();
    let keys = Arc::new(KeySet::from_jwks_value(&json!({"keys": [key.public_jwk()]})).unwrap());
    let clock = ManualClock::new(NOW * 1000);
    let v = Verifier::new(cfg(), Arc::new(StaticKeys(keys)), Arc::new(clock.clone())).unwrap();
    let token = key.sign(Some("at+jwt"), &Map::new(), &claims()).unwrap();
    let a = v.try_verify_now(&token).unwrap().unwrap();
    assert_eq!(v.cached_tokens(), 1);
    let b = v.try_verify_now(&token).unwrap().unwrap();
    assert!(Arc::ptr_eq(&a, &b), "second verify is a cache hit");
    // The cache never outlives exp (+ leeway).
    clock.set_ms((NOW + 600 + 5) * 1000);
    assert_eq!(
        v.try_verify_now(&token).unwrap().unwrap_err().code(),
        ErrorCode::TokenExpired
    );
}

/// The split verification (prepare, the caller's signature check, complete): a failed check is
/// `invalid_signature` and caches nothing; the thumbprint matches the signer's RFC 7638 kid; a
/// good check completes with the claim rules and fills the verified-token cache.
#[test]
fn prepare_and_complete() {
    let key = SigningKey::generate(Alg::ES256, None).unwrap();
    let token = key.sign(Some("at+jwt"), &Map::new(), &claims()).unwrap();
    let keys = Arc::new(KeySet::from_jwks_value(&json!({"keys": [key.public_jwk()]})).unwrap());
    let v = Verifier::new(
        cfg(),
        Arc::new(StaticKeys(keys)),
        Arc::new(ManualClock::new(NOW * 1000)),
    )
    .unwrap();
    let Some(Ok(Prepared::Check(check))) = v.try_prepare_now(&token) else {
        panic!("static keys prepare synchronously")
    };
    assert_eq!(check.alg(), Alg::ES256);
    assert_eq!(check.keys().len(), 1);
    assert_eq!(
        check.keys()[0].public_key().thumbprint(),
        key.public_jwk()["kid"].as_str().unwrap()
    );
    assert_eq!(check.signature().len(), 64, "ES256 signatures are raw r || s");
    assert!(token.as_bytes().starts_with(check.message()));
    let e = v.complete(check, false).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidSignature);
    assert_eq!(v.cached_tokens(), 0);

    let Some(Ok(Prepared::Check(check))) = v.try_prepare_now(&token) else {
        panic!()
    };
    assert!(check.verify_with_backend().unwrap());
    let claims = v.complete(check, true).unwrap();
    assert_eq!(claims.subject(), Some("agent"));
    assert_eq!(v.cached_tokens(), 1);
    assert!(matches!(v.try_prepare_now(&token), Some(Ok(Prepared::Verified(_)))));

    // Expired by the time the check comes back: the claim rules run at completion.
    let clock = Arc::new(ManualClock::new(NOW * 1000));
    let keys = Arc::new(KeySet::from_jwks_value(&json!({"keys": [key.public_jwk()]})).unwrap());
    let v = Verifier::new(cfg(), Arc::new(StaticKeys(keys)), clock.clone()).unwrap();
    let Some(Ok(Prepared::Check(check))) = v.try_prepare_now(&token) else {
        panic!()
    };
    clock.advance(std::time::Duration::from_secs(3600));
    assert_eq!(v.complete(check, true).unwrap_err().code(), ErrorCode::TokenExpired);
}

/// The key is parsed once at load and kept: a signature from it verifies with jsonwebtoken's own
/// verifier (not ours) for every algorithm, every time, also from a clone of the key.
#[test]
fn the_parsed_key_signs_for_every_algorithm() {
    for alg in Alg::ALL {
        let key = SigningKey::generate(alg, Some("k".into())).unwrap();
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.public_jwk()).unwrap();
        let dk = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let jalg: jsonwebtoken::Algorithm = alg.as_str().parse().unwrap();
        let clone = key.clone();
        let mut sigs = Vec::new();
        for k in [&key, &clone, &key] {
            let token = k.sign(Some("at+jwt"), &Map::new(), &claims()).unwrap();
            let (msg, sig) = token.rsplit_once('.').unwrap();
            assert!(
                jsonwebtoken::crypto::verify(sig, msg.as_bytes(), &dk, jalg).unwrap(),
                "{alg}: the signature verifies"
            );
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.alg, jalg);
            sigs.push(sig.to_string());
        }
        // Randomized schemes (PS*, ES*) sign differently each time; PKCS#1 v1.5 and EdDSA do not.
        let deterministic = matches!(alg, Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::EdDSA);
        assert_eq!(sigs[0] == sigs[1], deterministic, "{alg}");
    }
}
