//! The `jwks_parse` target's properties: KeySet::from_jwks_json / from_jwk_value / select, and signature soundness.

#[allow(unused_imports)]
use super::*;

/// What identifies a parsed key from the outside.
type KeySummary = (Option<String>, String, Option<Alg>);

fn summaries(set: &KeySet) -> Vec<KeySummary> {
    set.keys()
        .iter()
        .map(|k| (k.kid.clone(), format!("{:?}", k.family), k.alg))
        .collect()
}

fn strip_zeros(b: Vec<u8>) -> Vec<u8> {
    let i = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    b[i..].to_vec()
}

/// The public key material of a JWK, normalised (RSA integers without leading zeros).
fn key_material(jwk: &Value) -> Option<(String, Vec<u8>, Vec<u8>)> {
    let field = |n: &str| jwk.get(n).and_then(Value::as_str).and_then(b64url_decode);
    let kty = jwk.get("kty")?.as_str()?;
    let crv = jwk.get("crv").and_then(Value::as_str).unwrap_or("");
    Some(match kty {
        "RSA" => ("RSA".into(), strip_zeros(field("n")?), strip_zeros(field("e")?)),
        "EC" => (format!("EC {crv}"), field("x")?, field("y")?),
        "OKP" => (format!("OKP {crv}"), field("x")?, Vec::new()),
        _ => return None,
    })
}

/// The rules a JWK the core accepted must satisfy (RFC 7517 §4, RFC 8725 §3.1).
fn check_accepted_jwk(jwk: &Value, summary: &KeySummary) {
    let s = |n: &str| jwk.get(n).and_then(Value::as_str);
    let (kid, family, alg) = summary;
    assert_eq!(kid.as_deref(), s("kid"), "kid taken from the JWK");
    assert!(jwk.get("kid").is_none_or(Value::is_string));
    assert!(
        jwk.get("use").is_none_or(|u| u == "sig"),
        "a key with use {:?} was accepted",
        jwk.get("use")
    );
    if let Some(ops) = jwk.get("key_ops") {
        let verify = ops.as_array().is_some_and(|a| a.iter().any(|o| o == "verify"));
        assert!(verify, "a key whose key_ops lack verify was accepted");
    }
    let expected_family = match (s("kty"), s("crv")) {
        (Some("RSA"), _) => "Rsa",
        (Some("EC"), Some("P-256")) => "EcP256",
        (Some("EC"), Some("P-384")) => "EcP384",
        (Some("OKP"), Some("Ed25519")) => "Ed25519",
        other => panic!("a key of type {other:?} was accepted"),
    };
    assert_eq!(family, expected_family);
    if let Some(a) = alg {
        assert_eq!(format!("{:?}", a.family()), *family, "the key's alg must fit its type");
        assert_eq!(s("alg").map(Alg::parse).and_then(Result::ok), Some(*a));
    }
    let (_, x, y) = key_material(jwk).expect("an accepted key has its material");
    match expected_family {
        "Rsa" => {
            let bits = x.len() * 8 - x.first().map_or(8, |b| b.leading_zeros() as usize);
            assert!(bits >= 2048, "an RSA key of {bits} bits was accepted");
            assert!(
                !y.is_empty() && y.len() <= 8,
                "an RSA exponent of {} bytes was accepted",
                y.len()
            );
        }
        "EcP256" => assert!(x.len() == 32 && y.len() == 32),
        "EcP384" => assert!(x.len() == 48 && y.len() == 48),
        _ => assert_eq!(x.len(), 32),
    }
}

/// `jwks_parse`: parse a JWKS document.
pub fn check_jwks(data: &[u8]) {
    let result = KeySet::from_jwks_json(data);
    // Oracle: a document is refused exactly when it is too large, not JSON, or has no keys array.
    let doc: Option<Value> = (data.len() <= MAX_JWKS_BYTES)
        .then(|| serde_json::from_slice(data).ok())
        .flatten();
    let entries = doc.as_ref().and_then(|d| d.get("keys")).and_then(Value::as_array);
    let (set, entries) = match (result, entries) {
        (Err(e), None) => {
            assert_eq!(e.code(), ErrorCode::InvalidJwks, "{e:?}");
            return;
        }
        (Ok(set), Some(entries)) => (set, entries),
        (r, _) => panic!(
            "from_jwks_json gave {r:?} for a document with keys array: {}",
            entries.is_some()
        ),
    };
    check_key_set(&set, entries);
}

/// The properties of a key set parsed from `entries`.
pub fn check_key_set(set: &KeySet, entries: &[Value]) {
    // 1. The set holds exactly the entries that parse on their own, in order, at most
    //    MAX_JWKS_KEYS of them; every other entry is listed in `skipped`.
    let mut accepted: Vec<(&Value, KeySummary)> = Vec::new();
    let mut rejected = 0;
    let mut truncated = false;
    for entry in entries {
        if accepted.len() >= MAX_JWKS_KEYS {
            truncated = true;
            break;
        }
        match KeySet::from_jwk_value(entry) {
            Ok(one) => {
                assert_eq!(one.keys().len(), 1);
                accepted.push((entry, summaries(&one).remove(0)));
            }
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::InvalidKey, "{e:?}");
                rejected += 1;
            }
        }
    }
    let expected: Vec<KeySummary> = accepted.iter().map(|(_, s)| s.clone()).collect();
    assert_eq!(
        summaries(set),
        expected,
        "the set differs from its entries parsed one by one"
    );
    assert_eq!(
        set.skipped.len(),
        rejected + usize::from(truncated),
        "skipped: {:?}",
        set.skipped
    );
    assert_eq!(set.is_empty(), expected.is_empty());
    assert_eq!(
        set.kids().collect::<Vec<_>>(),
        expected.iter().filter_map(|s| s.0.as_deref()).collect::<Vec<_>>()
    );
    for (entry, summary) in &accepted {
        check_accepted_jwk(entry, summary);
    }

    // 2. Round trip: a JWKS of only the accepted entries parses to the same keys, none skipped.
    let kept = serde_json::json!({ "keys": accepted.iter().map(|(e, _)| (*e).clone()).collect::<Vec<_>>() });
    let again = KeySet::from_jwks_json(kept.to_string().as_bytes()).expect("the accepted keys parse again");
    assert_eq!(summaries(&again), expected);
    assert!(again.skipped.is_empty(), "{:?}", again.skipped);

    // 3. Key selection answers with every key that has the kid and fits the alg (the only key
    //    that fits, without a kid), or a key error.
    for alg in Alg::ALL {
        for kid in [None, Some("rsa-a"), Some("p256-a"), Some("ed25519-a"), Some("")] {
            match set.candidates(kid, alg) {
                Ok(keys) => {
                    assert!(keys.iter().all(|k| k.fits(alg)));
                    let expected = set
                        .keys()
                        .iter()
                        .filter(|k| k.fits(alg) && (kid.is_none() || k.kid.as_deref() == kid));
                    assert_eq!(keys.len(), expected.count());
                    if kid.is_none() {
                        assert_eq!(keys.len(), 1);
                    }
                }
                Err(e) => assert!(matches!(
                    e.code(),
                    ErrorCode::KeyNotFound | ErrorCode::AlgorithmMismatch
                )),
            }
        }
    }

    // 4. Soundness: a genuine token verifies with this set only if the set holds the key that
    //    signed it (same material), whatever else the set contains.
    let f = fixtures();
    let cfg = VerifierConfig::new(ISSUER, AUDIENCE);
    let main = f.main_jwks["keys"].as_array().expect("main keys");
    for (token, kid) in &f.valid_tokens {
        let parsed = parse_token(token, &cfg).expect("a valid vector parses");
        match verify_parsed(&parsed, set, &cfg, NOW_MS) {
            Ok(_) => {
                let real = main.iter().find(|k| k["kid"] == kid.as_str()).and_then(key_material);
                let has_it = accepted.iter().any(|(e, _)| key_material(e) == real);
                assert!(
                    has_it,
                    "a token signed by {kid} verified with a key set that lacks that key"
                );
            }
            Err(e) => assert!((e.code().category() == ErrorCategory::InvalidToken), "{e:?}"),
        }
    }
}
