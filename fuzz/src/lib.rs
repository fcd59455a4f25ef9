//! The properties the fuzz targets check, one `check_*` function per target. Each takes the raw
//! fuzz input, drives one of the core's parsers with it and panics (an `assert!`) when a property
//! does not hold, so a property violation is a crash for libFuzzer and a failure for proptest.
//!
//! This file is the library of the cargo-fuzz crate (`fuzz/fuzz_targets/*.rs` call it), and the
//! stable property tests (`core/tests/fuzz_props.rs`) include it with `#[path]`, so both run the
//! very same checks. It therefore uses nothing but `authsec_core`, `serde_json` and
//! `serde_yaml_ng`, and refers to its own items without `crate::`.
//!
//! Input formats (also in fuzz/README.md):
//! - `jwt_parse`: byte 0 selects the verifier options and the mode (bits below); the rest is the
//!   token (modes 0 and 1), or `header JSON \0 payload JSON` signed with the test key `ed25519-a`
//!   (mode 2), or only the payload JSON, signed under a valid header (mode 3).
//! - `jwks_parse`: the JWKS document itself.
//! - `token_response`: byte 0 selects the HTTP status, byte 1 the extras (a `Retry-After` line, a
//!   client-secret line, `Content-Type`, requested scopes); then those lines; then the body.
//! - `config_interpolate`: byte 0 selects the mode; the rest is split at NUL bytes into the text
//!   and the values of the variables `A`, `B`, `C`, `AUTHSEC_CLIENT_ID`, `AUTHSEC_CLIENT_SECRET`.

use authsec_core::access_token::rules::{parse_token, verify_parsed};
use authsec_core::client::response::parse_token_response;
use authsec_core::client::token_client::schedule;
use authsec_core::config::{interpolate, interpolate_value};
use authsec_core::http::HttpResponse;
use authsec_core::jose::compact::decode_unverified;
use authsec_core::jose::keys::{KeySet, MAX_JWKS_BYTES, MAX_JWKS_KEYS};
use authsec_core::util::{b64url_decode, b64url_encode};
use authsec_core::{
    Alg, ClientConfig, ErrorCategory, ErrorCode, ManualClock, Secret, SigningKey, StaticKeys, TypPolicy, Verifier,
    VerifierConfig,
};
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The instant every case is checked at: the shared vectors' `now` (2023-11-14T22:13:20Z).
pub const NOW_MS: i64 = 1_700_000_000_000;
pub const ISSUER: &str = "https://issuer.example";
pub const AUDIENCE: &str = "https://api.example";
/// The client secret `token_response` scrubs by default (the dictionary knows it).
pub const CLIENT_SECRET: &str = "fuzz-client-secret-9f3a";

// ---------------------------------------------------------------------------------------------
// Fixtures from the shared test vectors (tests/vectors/).
// ---------------------------------------------------------------------------------------------

struct Fixtures {
    /// The `main` key set of the vectors (RSA `rsa-a`, P-256 `p256-a`, P-384 `p384-a`, Ed25519
    /// `ed25519-a`), as JSON and parsed.
    main_jwks: Value,
    main_keys: Arc<KeySet>,
    /// Tokens that verify with `main_keys` at `NOW_MS` for `ISSUER` / `AUDIENCE`, with the kid
    /// of the key that signed each.
    valid_tokens: Vec<(String, String)>,
    /// `ed25519-a`'s private key (TEST ONLY; published in tests/vectors/keys.json).
    signer: SigningKey,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let algs: Value = serde_json::from_str(include_str!("../../tests/vectors/verify_algorithms.json"))
            .expect("verify_algorithms.json is JSON");
        let keys: Value =
            serde_json::from_str(include_str!("../../tests/vectors/keys.json")).expect("keys.json is JSON");
        let main_jwks = algs["jwks"]["main"].clone();
        let main_keys = Arc::new(KeySet::from_jwks_value(&main_jwks).expect("the main key set parses"));
        assert_eq!(main_keys.keys().len(), 4, "the main key set has four usable keys");
        let valid_tokens = [
            "rs256_valid",
            "ps256_valid",
            "es256_valid",
            "es384_valid",
            "eddsa_valid",
        ]
        .iter()
        .map(|name| {
            let case = algs["cases"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["name"] == *name))
                .unwrap_or_else(|| panic!("vector {name} exists"));
            let token = case["token"].as_str().expect("a token").to_string();
            let (header, _) = decode_unverified(&token).expect("a valid vector decodes");
            let kid = header["kid"].as_str().expect("valid vectors carry a kid").to_string();
            (token, kid)
        })
        .collect();
        let pem = keys["keys"]["ed25519-a"]["private_pem"]
            .as_str()
            .expect("ed25519-a's PEM");
        let signer = SigningKey::from_pem(pem, Some(Alg::EdDSA), Some("ed25519-a".into())).expect("ed25519-a loads");
        Fixtures {
            main_jwks,
            main_keys,
            valid_tokens,
            signer,
        }
    })
}

/// Split at the first `sep`; without one, everything is the head.
fn split_once(data: &[u8], sep: u8) -> (&[u8], Option<&[u8]>) {
    match data.iter().position(|b| *b == sep) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

// ---------------------------------------------------------------------------------------------
// jwt_parse: parse_token, Verifier::try_verify_now, decode_unverified
// ---------------------------------------------------------------------------------------------

/// Byte 0 of a `jwt_parse` input.
pub mod jwt_sel {
    /// Bits 0-1: 0 or 1 raw token, 2 signed `header \0 payload`, 3 signed payload.
    pub const MODE_MASK: u8 = 0b11;
    pub const SIGNED_HEADER_AND_PAYLOAD: u8 = 2;
    pub const SIGNED_PAYLOAD: u8 = 3;
    pub const TYP_STRICT: u8 = 1 << 2;
    /// Allow-list `[EdDSA, ES256]`.
    pub const ALLOW_LIST: u8 = 1 << 3;
    /// `max_token_bytes` 512.
    pub const SMALL_LIMIT: u8 = 1 << 4;
    pub const SKIP_AUDIENCE: u8 = 1 << 5;
    pub const LEEWAY_0: u8 = 1 << 6;
    /// `required_claims` `[sub, jti]`.
    pub const REQUIRE_SUB_JTI: u8 = 1 << 7;
}

/// The verifier options byte 0 of a `jwt_parse` input selects.
pub fn jwt_config(sel: u8) -> VerifierConfig {
    use jwt_sel::*;
    let mut cfg = VerifierConfig::new(ISSUER, AUDIENCE);
    if sel & TYP_STRICT != 0 {
        cfg.typ = TypPolicy::Strict;
    }
    if sel & ALLOW_LIST != 0 {
        cfg.algorithms = vec![Alg::EdDSA, Alg::ES256];
    }
    if sel & SMALL_LIMIT != 0 {
        cfg.max_token_bytes = 512;
    }
    if sel & SKIP_AUDIENCE != 0 {
        cfg.skip_audience_check = true;
    }
    if sel & LEEWAY_0 != 0 {
        cfg.leeway = Duration::ZERO;
    }
    if sel & REQUIRE_SUB_JTI != 0 {
        cfg.required_claims = vec!["sub".into(), "jti".into()];
    }
    cfg
}

/// The header mode 3 signs payloads under.
pub const SIGNED_PAYLOAD_HEADER: &str = r#"{"alg":"EdDSA","kid":"ed25519-a","typ":"at+jwt"}"#;

/// Sign `header` and `payload` (any bytes) with `ed25519-a`, base64url-encoding them as they are.
pub fn sign_test_token(header: &[u8], payload: &[u8]) -> String {
    fixtures()
        .signer
        .sign_segments(&b64url_encode(header), &b64url_encode(payload))
        .expect("ed25519-a signs")
}

/// The token a `jwt_parse` input stands for: `(options byte, token, signed by ed25519-a)`.
pub fn jwt_input(data: &[u8]) -> Option<(u8, String, bool)> {
    let (&sel, rest) = data.split_first()?;
    Some(match sel & jwt_sel::MODE_MASK {
        jwt_sel::SIGNED_HEADER_AND_PAYLOAD => {
            let (header, payload) = split_once(rest, 0);
            (sel, sign_test_token(header, payload.unwrap_or_default()), true)
        }
        jwt_sel::SIGNED_PAYLOAD => (sel, sign_test_token(SIGNED_PAYLOAD_HEADER.as_bytes(), rest), true),
        _ => (sel, String::from_utf8_lossy(rest).into_owned(), false),
    })
}

/// Codes `parse_token` may return.
fn is_parse_code(c: ErrorCode) -> bool {
    matches!(
        c,
        ErrorCode::TokenTooLarge
            | ErrorCode::MalformedToken
            | ErrorCode::UnsupportedAlgorithm
            | ErrorCode::InvalidTokenType
            | ErrorCode::UnsupportedCriticalHeader
    )
}

/// Codes of the key-selection and signature stage.
fn is_key_or_signature_code(c: ErrorCode) -> bool {
    matches!(
        c,
        ErrorCode::KeyNotFound | ErrorCode::AlgorithmMismatch | ErrorCode::InvalidSignature
    )
}

/// RFC 9068 `typ` rules, written out independently of the core.
fn typ_acceptable(typ: Option<&str>, policy: TypPolicy) -> bool {
    let Some(t) = typ else {
        return policy == TypPolicy::Default;
    };
    let t = t.to_ascii_lowercase();
    let t = t.strip_prefix("application/").unwrap_or(&t);
    t == "at+jwt" || (t == "jwt" && policy == TypPolicy::Default)
}

/// NumericDate → Unix ms, like RFC 7519 §2 (fractions allowed), kept in range in i128.
fn oracle_date(map: &Map<String, Value>, name: &str) -> Result<Option<i128>, ErrorCode> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            let f = n.as_f64().filter(|f| f.is_finite()).ok_or(ErrorCode::InvalidClaim)?;
            Ok(Some((f * 1000.0).floor().clamp(-1e30, 1e30) as i128))
        }
        Some(_) => Err(ErrorCode::InvalidClaim),
    }
}

/// What verifying a correctly signed token with this payload must give: the claim rules of
/// RFC 7519 §4.1 / RFC 9068 §4 in the core's documented order, written out independently.
pub fn claims_oracle(payload_b64: &str, cfg: &VerifierConfig, now_ms: i64) -> Result<Map<String, Value>, ErrorCode> {
    let bytes = b64url_decode(payload_b64).ok_or(ErrorCode::MalformedToken)?;
    let map: Map<String, Value> = serde_json::from_slice(&bytes).map_err(|_| ErrorCode::MalformedToken)?;
    let now = now_ms as i128;
    let leeway = cfg.leeway.as_millis() as i128;
    let exp = oracle_date(&map, "exp")?.ok_or(ErrorCode::InvalidClaim)?;
    if now >= exp + leeway {
        return Err(ErrorCode::TokenExpired);
    }
    if let Some(nbf) = oracle_date(&map, "nbf")? {
        if now + leeway < nbf {
            return Err(ErrorCode::TokenNotYetValid);
        }
    }
    if let Some(iat) = oracle_date(&map, "iat")? {
        if iat > now + leeway {
            return Err(ErrorCode::TokenNotYetValid);
        }
    }
    if !cfg.skip_issuer_check && map.get("iss").and_then(Value::as_str) != cfg.issuer.as_deref() {
        return Err(ErrorCode::InvalidIssuer);
    }
    if !cfg.skip_audience_check {
        let accepted = |a: &str| cfg.audiences.iter().any(|x| x == a);
        let ok = match map.get("aud") {
            Some(Value::String(a)) => accepted(a),
            Some(Value::Array(list)) if list.iter().all(Value::is_string) => {
                list.iter().filter_map(Value::as_str).any(accepted)
            }
            _ => false,
        };
        if !ok {
            return Err(ErrorCode::InvalidAudience);
        }
    }
    if cfg.required_claims.iter().any(|c| !map.contains_key(c)) {
        return Err(ErrorCode::InvalidClaim);
    }
    Ok(map)
}

/// JSON equality, with numbers equal to within a few ulps.
fn json_close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || {
                let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
                (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
            }
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_close(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((k, x), (l, y))| k == l && json_close(x, y))
        }
        _ => a == b,
    }
}

/// Base64url as the core decodes it is canonical: whatever decodes re-encodes to itself, so no
/// two spellings of one segment are accepted (RFC 7515 §2).
fn check_b64_canonical(segment: &str) {
    if let Some(bytes) = b64url_decode(segment) {
        assert_eq!(b64url_encode(&bytes), segment, "base64url decoding is not canonical");
    }
}

/// `jwt_parse`: parse and verify a token with the vectors' `main` key set.
pub fn check_jwt(data: &[u8]) {
    let Some((sel, token, signed)) = jwt_input(data) else {
        return;
    };
    check_token(sel, &token, signed);
}

/// The properties for one token under the options `sel` selects.
pub fn check_token(sel: u8, token: &str, signed_by_ed25519_a: bool) {
    let f = fixtures();
    let cfg = jwt_config(sel);
    let parsed = parse_token(token, &cfg);

    // 1. Parsing fails only with a parse-stage code, and the size limit is exact.
    if let Err(e) = &parsed {
        assert!(is_parse_code(e.code()), "parse_token returned {e:?}");
        assert!(!e.message().is_empty());
    }
    let too_large = parsed.as_ref().err().map(|e| e.code()) == Some(ErrorCode::TokenTooLarge);
    assert_eq!(
        too_large,
        token.len() > cfg.max_token_bytes,
        "the size limit is checked first and exactly"
    );

    // 2. A parsed token is what its header says, and obeys the allow-list and typ policy.
    if let Ok(p) = &parsed {
        let segments: Vec<&str> = token.split('.').collect();
        assert_eq!(segments.len(), 3, "a parsed token has three segments");
        for s in &segments {
            check_b64_canonical(s);
        }
        assert!(
            cfg.algorithms.is_empty() || cfg.algorithms.contains(&p.alg),
            "alg outside the allow-list"
        );
        assert!(typ_acceptable(p.typ.as_deref(), cfg.typ), "typ {:?} accepted", p.typ);
        assert_eq!(Alg::parse(p.alg.as_str()).ok(), Some(p.alg));
        let header = b64url_decode(segments[0]).expect("a parsed header decodes");
        let header: Map<String, Value> = serde_json::from_slice(&header).expect("a parsed header is a JSON object");
        assert_eq!(
            header
                .get("alg")
                .and_then(Value::as_str)
                .map(Alg::parse)
                .and_then(Result::ok),
            Some(p.alg)
        );
        assert_eq!(header.get("kid").and_then(Value::as_str), p.kid.as_deref());
        assert_eq!(header.get("typ").and_then(Value::as_str), p.typ.as_deref());
        assert!(!header.contains_key("crit"), "a crit header was accepted");
        assert!(!segments[2].is_empty(), "an empty signature was accepted");
        if let Ok((h, _)) = decode_unverified(token) {
            assert_eq!(h, Value::Object(header));
        }
    }

    // 3. Verification fails only with a token-verification code, agrees with parse_token on the
    //    parse stage, and is deterministic (the second answer comes from the verified cache).
    let clock = Arc::new(ManualClock::new(NOW_MS));
    let verifier =
        Verifier::new(cfg.clone(), Arc::new(StaticKeys(f.main_keys.clone())), clock).expect("the config is valid");
    let first = verifier
        .try_verify_now(token)
        .expect("static keys verify synchronously");
    let second = verifier
        .try_verify_now(token)
        .expect("static keys verify synchronously");
    match (&first, &second) {
        (Ok(a), Ok(b)) => assert_eq!(**a, **b),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("verifying twice gave {first:?} then {second:?}"),
    }
    assert_eq!(
        verifier.try_cached(token).is_some(),
        first.is_ok(),
        "only verified tokens are cached"
    );
    if let Err(e) = &first {
        assert!(
            (e.code().category() == ErrorCategory::InvalidToken),
            "verify returned {e:?}"
        );
    }
    if let Err(pe) = &parsed {
        assert_eq!(
            first.as_ref().err(),
            Some(pe),
            "verify must fail exactly like parse_token"
        );
        return;
    }
    let Ok(p) = &parsed else { unreachable!() };

    // 4. The pure path gives the same answer as the Verifier.
    let pure = verify_parsed(p, &f.main_keys, &cfg, NOW_MS);
    assert_eq!(
        pure.as_ref().map_err(|e| e.code()),
        first.as_ref().map(|c| &**c).map_err(|e| e.code())
    );

    // 5. A token ed25519-a signed under a header naming that key (or no kid) passes the signature
    //    stage: a correct signature is never refused.
    if signed_by_ed25519_a && p.alg == Alg::EdDSA && p.kid.as_deref().is_none_or(|k| k == "ed25519-a") {
        if let Err(e) = &first {
            assert!(
                !is_key_or_signature_code(e.code()),
                "a correctly signed token was refused: {e:?}"
            );
        }
    }

    // 6. Past the signature stage, the outcome is exactly what the claim rules say.
    if first.as_ref().err().is_none_or(|e| !is_key_or_signature_code(e.code())) {
        let payload_b64 = token.split('.').nth(1).expect("three segments");
        let expected = claims_oracle(payload_b64, &cfg, NOW_MS);
        match (&first, &expected) {
            (Ok(claims), Ok(map)) => {
                assert_eq!(claims.as_map(), map, "the claims are the payload");
                let exp_ms = (map["exp"].as_f64().expect("exp is a number") * 1000.0).floor();
                assert!(claims.expires_at_ms() > NOW_MS - cfg.leeway.as_millis() as i64);
                if exp_ms.abs() < 9e15 {
                    assert_eq!(claims.expires_at_ms(), exp_ms as i64, "exp in ms");
                }
                // serde_json parses floats to within an ulp or so, not always exactly back (its
                // `float_roundtrip` feature is off), so numbers are compared with a tolerance.
                let again: Value = serde_json::from_str(&claims.to_json()).expect("to_json is JSON");
                assert!(
                    json_close(&again, &Value::Object(map.clone())),
                    "claims round-trip through to_json"
                );
            }
            (Err(e), Err(code)) => assert_eq!(e.code(), *code, "{e}"),
            _ => panic!("verify gave {first:?}, the claim rules say {expected:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// jwks_parse: KeySet::from_jwks_json / from_jwk_value / select, and signature soundness
// ---------------------------------------------------------------------------------------------

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

    // 3. Key selection answers with a key that has the kid and fits the alg, or a key error.
    for alg in Alg::ALL {
        for kid in [None, Some("rsa-a"), Some("p256-a"), Some("ed25519-a"), Some("")] {
            match set.select(kid, alg) {
                Ok(k) => {
                    assert!(k.fits(alg));
                    if kid.is_some() {
                        assert_eq!(k.kid.as_deref(), kid);
                    } else {
                        assert_eq!(set.keys().iter().filter(|k| k.fits(alg)).count(), 1);
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

// ---------------------------------------------------------------------------------------------
// token_response: parse_token_response, Token, schedule
// ---------------------------------------------------------------------------------------------

/// Statuses byte 0 of a `token_response` input selects (index `byte % 16`).
pub const STATUSES: [u16; 16] = [
    200, 200, 200, 200, 400, 401, 403, 429, 500, 502, 503, 302, 404, 200, 0, 599,
];

/// Byte 1 of a `token_response` input.
pub mod resp_sel {
    /// The next line is a `Retry-After` header.
    pub const RETRY_AFTER: u8 = 1;
    /// The next line is the client secret to scrub (else `CLIENT_SECRET`).
    pub const SECRET_LINE: u8 = 2;
    pub const CONTENT_TYPE_JSON: u8 = 4;
    /// Requested scopes `read:data write:logs`.
    pub const REQUESTED_SCOPES: u8 = 8;
}

/// The HTTP response, requested scopes and client secret a `token_response` input stands for.
pub fn response_input(data: &[u8]) -> Option<(HttpResponse, Vec<String>, String)> {
    let (&status_sel, rest) = data.split_first()?;
    let (&extras, mut rest) = rest.split_first()?;
    let line = |rest: &mut &[u8]| -> String {
        let (l, r) = split_once(rest, b'\n');
        *rest = r.unwrap_or_default();
        String::from_utf8_lossy(l).into_owned()
    };
    let mut headers = Vec::new();
    if extras & resp_sel::RETRY_AFTER != 0 {
        headers.push(("Retry-After".to_string(), line(&mut rest)));
    }
    let secret = if extras & resp_sel::SECRET_LINE != 0 {
        line(&mut rest)
    } else {
        CLIENT_SECRET.to_string()
    };
    if extras & resp_sel::CONTENT_TYPE_JSON != 0 {
        headers.push(("Content-Type".to_string(), "application/json".to_string()));
    }
    let scopes = if extras & resp_sel::REQUESTED_SCOPES != 0 {
        vec!["read:data".to_string(), "write:logs".to_string()]
    } else {
        Vec::new()
    };
    let status = STATUSES[usize::from(status_sel % 16)];
    Some((HttpResponse::new(status, headers, rest.to_vec()), scopes, secret))
}

/// `token_response`: parse a token-endpoint answer.
pub fn check_token_response(data: &[u8]) {
    if let Some((resp, scopes, secret)) = response_input(data) {
        check_response(&resp, &scopes, &secret);
    }
}

/// The properties of parsing one token-endpoint answer.
pub fn check_response(resp: &HttpResponse, requested: &[String], secret: &str) {
    let result = parse_token_response(resp, NOW_MS, requested, &[secret]);
    let again = parse_token_response(resp, NOW_MS, requested, &[secret]);
    assert_eq!(result, again, "parsing is deterministic");
    let body: Option<Value> = serde_json::from_slice(&resp.body).ok().filter(Value::is_object);
    let status = resp.status;
    match &result {
        Err(e) => {
            // 1. The code follows the status; the status and Retry-After are kept.
            assert_eq!(e.status(), Some(status));
            let code = e.code();
            match status {
                200 => assert_eq!(code, ErrorCode::InvalidResponse, "{e:?}"),
                429 => assert_eq!(code, ErrorCode::RateLimited),
                500.. => assert_eq!(code, ErrorCode::ServerError),
                _ => assert!(
                    matches!(
                        code,
                        ErrorCode::InvalidRequest
                            | ErrorCode::InvalidClient
                            | ErrorCode::InvalidGrant
                            | ErrorCode::UnauthorizedClient
                            | ErrorCode::UnsupportedGrantType
                            | ErrorCode::InvalidScope
                            | ErrorCode::InvalidTarget
                            | ErrorCode::OauthError
                            | ErrorCode::InvalidResponse
                    ),
                    "{e:?}"
                ),
            }
            if status == 429 || status >= 500 {
                assert_eq!(e.retry_after(), resp.retry_after(NOW_MS));
            }
            if let Some(d) = e.retry_after() {
                assert!(d <= Duration::from_secs(86_400), "Retry-After is capped at a day");
            }
            // 2. An OAuth error code is the server's `error`, and only one of the codes RFC 6749
            //    §5.2 / RFC 8707 define for a token request.
            let server_error = body.as_ref().and_then(|b| b.get("error")).and_then(Value::as_str);
            if status != 200 && status != 429 && status < 500 {
                match server_error {
                    Some(err) => {
                        let oauth = ErrorCode::parse(err).filter(|c| {
                            matches!(
                                c,
                                ErrorCode::InvalidRequest
                                    | ErrorCode::InvalidClient
                                    | ErrorCode::InvalidGrant
                                    | ErrorCode::UnauthorizedClient
                                    | ErrorCode::UnsupportedGrantType
                                    | ErrorCode::InvalidScope
                                    | ErrorCode::InvalidTarget
                            )
                        });
                        assert_eq!(code, oauth.unwrap_or(ErrorCode::OauthError), "{err:?}");
                        assert!(e.oauth_error().is_some());
                    }
                    None => {
                        let expected = if status == 401 {
                            ErrorCode::InvalidClient
                        } else {
                            ErrorCode::InvalidResponse
                        };
                        assert_eq!(code, expected);
                        assert!(e.oauth_error().is_none());
                    }
                }
            }
            // 3. Server text is shortened, cannot inject lines into logs, and is scrubbed of the
            //    client secret: the `error` as kept (`oauth_error`) and the `error_description` as
            //    shown in the message (between "(error: " and the final "); hint").
            assert!(!has_control(e.message()), "control characters in {e:?}");
            // The secret, and the secret as it reads with control characters shown as spaces.
            let spaced: String = secret.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            let leaks = |t: &str| secret.len() >= 4 && (t.contains(secret) || t.contains(spaced.as_str()));
            if let Some(o) = e.oauth_error() {
                assert!(!has_control(o) && o.chars().count() <= 61, "{o:?}");
                assert!(!leaks(o), "the client secret leaked into oauth_error: {e:?}");
                let prefix = format!("the token endpoint refused the request ({o}: ");
                if let Some(desc) = e.message().strip_prefix(&prefix).and_then(|m| m.rsplit_once("); ")) {
                    assert!(desc.0.chars().count() <= 301, "{e:?}");
                    assert!(!leaks(desc.0), "the client secret leaked into the message: {e:?}");
                }
            }
        }
        Ok(token) => {
            // 4. Only a 200 with a JSON object is a token, and it is what the object says.
            assert_eq!(status, 200);
            let body = body.expect("a token comes from a JSON object");
            let access = body["access_token"].as_str().expect("access_token is a string");
            assert!(!access.is_empty() && access.len() <= 64 * 1024);
            assert_eq!(token.access_token.expose(), access);
            let typ = body["token_type"].as_str().expect("token_type is a string");
            assert!(token.token_type == "Bearer" || token.token_type == "DPoP");
            assert!(token.token_type.eq_ignore_ascii_case(typ));
            assert_eq!(token.authorization(), format!("{} {access}", token.token_type));
            assert_eq!(token.issued_at_ms, NOW_MS);
            let scopes: Vec<String> = match body.get("scope") {
                Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
                _ => requested.to_vec(),
            };
            assert_eq!(token.scopes, scopes);
            match body.get("expires_in") {
                Some(Value::Number(n)) => {
                    let secs = n.as_f64().expect("a number") as i64;
                    assert_eq!(token.expires_at_ms, NOW_MS + secs.min(10 * 365 * 86_400) * 1000);
                }
                Some(Value::String(s)) => {
                    let secs: i64 = s.trim().parse().expect("a numeric string");
                    assert_eq!(token.expires_at_ms, NOW_MS + secs.min(10 * 365 * 86_400) * 1000);
                }
                _ => {}
            }
            // 5. Nothing is scheduled beyond ten years, and the refresh schedule is the documented
            //    one, computed without overflow: refresh at `expires_at - min(buffer, lifetime/2)`,
            //    hand out until `expires_at - min(5 s, lifetime/4)`.
            assert!(token.expires_at_ms <= NOW_MS + 10 * 365 * 86_400 * 1000, "{token:?}");
            let lifetime = token.lifetime_ms();
            let exact = (i128::from(token.expires_at_ms) - i128::from(token.issued_at_ms)).max(0);
            assert_eq!(i128::from(lifetime), exact);
            for buffer in [
                Duration::ZERO,
                Duration::from_secs(300),
                Duration::from_secs(u32::MAX.into()),
                Duration::MAX,
            ] {
                let s = schedule(token, buffer);
                let exp = i128::from(token.expires_at_ms);
                assert_eq!(
                    i128::from(s.refresh_at_ms),
                    exp - (buffer.as_millis() as i128).min(exact / 2)
                );
                assert_eq!(i128::from(s.usable_until_ms), exp - 5000.min(exact / 4));
            }
            // 6. Debug never shows the token.
            let debug = format!("{token:?}");
            assert!(debug.contains("access_token: ***"), "{debug}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// config_interpolate: interpolate, interpolate_value, ClientConfig::from_yaml_str
// ---------------------------------------------------------------------------------------------

/// The variables a `config_interpolate` input sets, in the order of its NUL-separated values.
pub const VAR_NAMES: [&str; 5] = ["A", "B", "C", "AUTHSEC_CLIENT_ID", "AUTHSEC_CLIENT_SECRET"];

/// Byte 0 of a `config_interpolate` input (`byte % 4`).
pub mod config_mode {
    /// `interpolate(text)`.
    pub const TEXT: u8 = 0;
    /// `interpolate_value` of the text parsed as JSON.
    pub const JSON: u8 = 1;
    /// `ClientConfig::from_yaml_str(text)`.
    pub const YAML: u8 = 2;
    /// The docs' YAML with the text as the value of `AUTHSEC_CLIENT_SECRET`.
    pub const SECRET_VALUE: u8 = 3;
}

/// An environment: variable name → value.
pub type Vars = Vec<(String, String)>;

fn lookup(vars: &Vars) -> impl Fn(&str) -> Option<String> + '_ {
    move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

/// `(mode, text, variables)` of a `config_interpolate` input.
pub fn config_input(data: &[u8]) -> Option<(u8, String, Vars)> {
    let (&sel, rest) = data.split_first()?;
    let mut parts = rest.split(|b| *b == 0);
    let text = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let vars = VAR_NAMES
        .iter()
        .zip(parts)
        .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v).into_owned()))
        .collect();
    Some((sel % 4, text, vars))
}

/// The same variables with every non-empty value replaced by a different non-empty one.
fn other_values(vars: &Vars) -> Vars {
    vars.iter()
        .map(|(n, v)| {
            let o = if v.is_empty() {
                String::new()
            } else {
                let mut o = format!("<other value of {n}, {} bytes>", v.len());
                if o == *v {
                    o.push('!');
                }
                o
            };
            (n.clone(), o)
        })
        .collect()
}

/// `config_interpolate`: `${VAR}` interpolation and YAML configuration.
pub fn check_config(data: &[u8]) {
    let Some((mode, text, vars)) = config_input(data) else {
        return;
    };
    match mode {
        config_mode::TEXT => check_interpolate(&text, &vars),
        config_mode::JSON => {
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                check_interpolate_value(&v, &vars);
            }
        }
        config_mode::YAML => check_yaml(&text, &vars),
        _ => check_secret_value(&text),
    }
}

/// The properties of `interpolate(text)`.
pub fn check_interpolate(text: &str, vars: &Vars) {
    let get = lookup(vars);
    let out = interpolate(text, &get);

    // 1. Errors are config errors and do not depend on the variables' values (so they cannot leak
    //    them): the same text with other values fails identically.
    let others = other_values(vars);
    let out2 = interpolate(text, &lookup(&others));
    match (&out, &out2) {
        (Err(a), Err(b)) => {
            assert_eq!(a.code(), ErrorCode::ConfigError);
            assert_eq!(a, b, "the error depends on a variable's value");
        }
        (Ok(_), Ok(_)) => {}
        _ => panic!("interpolating {text:?}: {out:?} with the values, {out2:?} with others"),
    }

    // 2. Text without `${` is unchanged but for `$$` → `$`; text without `$` is unchanged.
    if !text.contains("${") {
        assert_eq!(out.as_deref().ok(), Some(text.replace("$$", "$").as_str()));
    }
    if !text.contains('$') {
        assert_eq!(out.as_deref().ok(), Some(text));
    }

    // 3. Escaping every `$` as `$$` round-trips any text.
    assert_eq!(interpolate(&text.replace('$', "$$"), &get).as_deref().ok(), Some(text));

    // 4. A value is inserted as it is, never interpolated again (a value with `${` in it cannot
    //    pull in another variable), and an empty value counts as unset.
    for (name, v) in vars {
        let r = interpolate(&format!("<${{{name}}}>"), &get);
        if v.is_empty() {
            assert_eq!(r.map_err(|e| e.code()), Err(ErrorCode::ConfigError));
        } else {
            assert_eq!(r.ok(), Some(format!("<{v}>")));
        }
        let r = interpolate(&format!("${{{name}:-fallback}}"), &get).ok();
        assert_eq!(r.as_deref(), Some(if v.is_empty() { "fallback" } else { v.as_str() }));
    }

    // 5. A default is used as it is for an unset variable.
    if !text.contains('}') {
        let r = interpolate(&format!("${{FUZZ_UNSET_VARIABLE:-{text}}}"), &get);
        assert_eq!(r.as_deref().ok(), Some(text));
    }

    // 6. Interpolation is compositional: text + suffix gives result + the suffix's result (the
    //    suffix starts with a plain character, so a `$` ending the text stays literal).
    if let Ok(o) = &out {
        let suffix = "-tail ${A:-a} $$";
        let tail = interpolate(suffix, &get).expect("the suffix interpolates");
        assert_eq!(
            interpolate(&format!("{text}{suffix}"), &get).ok(),
            Some(format!("{o}{tail}"))
        );
    }
}

/// The properties of `interpolate_value(v)`.
pub fn check_interpolate_value(v: &Value, vars: &Vars) {
    let get = lookup(vars);
    let out = interpolate_value(v.clone(), &get);
    // The shape is kept: keys, array lengths and non-string leaves; each string is interpolated.
    fn same_shape(a: &Value, b: &Value, get: &dyn Fn(&str) -> Option<String>) {
        match (a, b) {
            (Value::String(x), Value::String(y)) => assert_eq!(interpolate(x, &get).ok().as_ref(), Some(y)),
            (Value::Array(x), Value::Array(y)) => {
                assert_eq!(x.len(), y.len());
                x.iter().zip(y).for_each(|(x, y)| same_shape(x, y, get));
            }
            (Value::Object(x), Value::Object(y)) => {
                assert!(x.keys().eq(y.keys()), "keys are never interpolated");
                x.values().zip(y.values()).for_each(|(x, y)| same_shape(x, y, get));
            }
            (x, y) => assert_eq!(x, y),
        }
    }
    match &out {
        Ok(o) => same_shape(v, o, &get),
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::ConfigError);
            let again = interpolate_value(v.clone(), &lookup(&other_values(vars)));
            assert_eq!(again.as_ref().err(), Some(e), "the error depends on a variable's value");
        }
    }
}

/// The settings mapping of a YAML configuration, as `from_yaml_str` sees it before interpolation.
fn yaml_settings(text: &str) -> Option<Value> {
    let doc: Value = serde_yaml_ng::from_str(text).ok()?;
    Some(doc.get("authsec").cloned().unwrap_or(doc))
}

fn strings_mention(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s.contains(needle),
        Value::Array(a) => a.iter().any(|x| strings_mention(x, needle)),
        Value::Object(o) => o.values().any(|x| strings_mention(x, needle)),
        _ => false,
    }
}

/// Two same-length secrets of the same character classes, for noninterference checks.
const SECRET_1: &str = "Zq7xSecretAlpha42";
const SECRET_2: &str = "Zq7xSecretBravo42";

/// The properties of `ClientConfig::from_yaml_str(text)`.
pub fn check_yaml(text: &str, vars: &Vars) {
    let settings = yaml_settings(text);
    // Fuzzing must not open arbitrary paths (such as /dev/zero): skip configs naming a file.
    let names_a_file = |o: &Map<String, Value>| o.keys().any(|k| k.ends_with("_file"));
    if settings.as_ref().and_then(Value::as_object).is_some_and(names_a_file) {
        return;
    }
    // Whether ${AUTHSEC_CLIENT_SECRET} is used only as (part of) client_secret or private_key, the
    // settings that hold secrets; elsewhere (say token_url) an error may rightly quote the value.
    let secret_only_in_secret_settings = settings.as_ref().and_then(Value::as_object).is_none_or(|o| {
        o.iter()
            .filter(|(k, _)| *k != "client_secret" && *k != "private_key")
            .all(|(_, v)| !strings_mention(v, "AUTHSEC_CLIENT_SECRET"))
    });
    let mentions_sentinel = |t: &str| t.contains(SECRET_1) || t.contains(SECRET_2);
    let clean = secret_only_in_secret_settings
        && !mentions_sentinel(text)
        && !vars
            .iter()
            .any(|(n, v)| n != "AUTHSEC_CLIENT_SECRET" && mentions_sentinel(v));
    let with = |secret: &str| -> Vars {
        let mut v: Vars = vars
            .iter()
            .filter(|(n, _)| n != "AUTHSEC_CLIENT_SECRET")
            .cloned()
            .collect();
        v.push(("AUTHSEC_CLIENT_SECRET".into(), secret.into()));
        v
    };
    let (vars1, vars2) = (with(SECRET_1), with(SECRET_2));
    let r1 = ClientConfig::from_yaml_str(text, lookup(&vars1));
    let r2 = ClientConfig::from_yaml_str(text, lookup(&vars2));
    // 1. Errors are configuration errors, and the secret's value does not change the outcome (the
    //    YAML's structure is fixed before interpolation).
    match (&r1, &r2) {
        (Err(a), Err(b)) => {
            assert!(
                matches!(a.code(), ErrorCode::ConfigError | ErrorCode::InsecureTransport),
                "{a:?}"
            );
            assert_eq!(
                a.code(),
                b.code(),
                "the secret's value changed the error: {a:?} / {b:?}"
            );
            // 2. ... nor, when only secret settings use it, the message, which never shows it.
            if clean {
                assert_eq!(a, b, "the error depends on the secret");
                assert!(!a.message().contains(SECRET_1), "the secret leaked into {a:?}");
            }
        }
        (Ok(a), Ok(b)) => {
            // 3. Debug never shows the secret settings.
            for c in [a, b] {
                let debug = format!("{c:?}");
                assert!(debug.contains("client_secret: None") || debug.contains("client_secret: Some(***)"));
                assert!(debug.contains("private_key: None") || debug.contains("private_key: Some(***)"));
                if clean {
                    assert!(!debug.contains(SECRET_1) && !debug.contains(SECRET_2), "{debug}");
                }
                assert!(c.validate().is_ok(), "a loaded config validates");
            }
        }
        _ => panic!("the secret's value changed the outcome: {r1:?} / {r2:?}"),
    }
}

/// The docs' configuration file (README), with the secret from the environment.
pub const DOCS_YAML: &str = "authsec:\n  client_id: ${AUTHSEC_CLIENT_ID}\n  client_secret: ${AUTHSEC_CLIENT_SECRET}\n  token_url: https://auth.authsec.ai/oauth/token\n  scopes: [read:data, write:logs]\n";

/// Any secret value goes into `client_secret` exactly as it is: YAML syntax in it changes nothing.
pub fn check_secret_value(secret: &str) {
    let vars: Vars = vec![
        ("AUTHSEC_CLIENT_ID".into(), "agent".into()),
        ("AUTHSEC_CLIENT_SECRET".into(), secret.into()),
    ];
    let r = ClientConfig::from_yaml_str(DOCS_YAML, lookup(&vars));
    if secret.trim().is_empty() {
        let e = r.expect_err("an empty secret is refused");
        assert_eq!(e.code(), ErrorCode::ConfigError);
        assert!(e.message().to_lowercase().contains("secret"), "{e}");
        return;
    }
    let c = r.unwrap_or_else(|e| panic!("the docs' config with secret {secret:?} failed: {e}"));
    assert_eq!(c.client_secret.as_ref().map(Secret::expose), Some(secret));
    assert_eq!(c.client_id, "agent");
    assert_eq!(c.token_url.as_deref(), Some("https://auth.authsec.ai/oauth/token"));
    assert_eq!(c.scopes, ["read:data", "write:logs"]);
    let debug = format!("{c:?}");
    let without = ClientConfig {
        client_secret: Some(Secret::new("x")),
        ..c.clone()
    };
    assert_eq!(debug, format!("{without:?}"), "Debug depends on the secret");
}
