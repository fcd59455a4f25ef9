//! The `jwt_parse` target's properties: parse_token, Verifier::try_verify_now, decode_unverified.

#[allow(unused_imports)]
use super::*;

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
    oracle_act_chain(&map)?;
    Ok(map)
}

/// RFC 8693 §4.1 as the core documents it: `act` is an object naming an actor (a string
/// `client_id`, else a string `sub`), holding none of the top-level-only claims, possibly with an
/// earlier actor nested as its `act`; no actor (id and `iss`) twice; at most 16 links.
fn oracle_act_chain(map: &Map<String, Value>) -> Result<(), ErrorCode> {
    let mut seen: Vec<(String, Option<String>)> = Vec::new();
    let mut next = map.get("act");
    while let Some(v) = next {
        let link = v.as_object().ok_or(ErrorCode::InvalidDelegation)?;
        let top_level_only = ["exp", "nbf", "iat", "aud", "scope", "scp", "jti"];
        if seen.len() == 16 || top_level_only.iter().any(|c| link.contains_key(*c)) {
            return Err(ErrorCode::InvalidDelegation);
        }
        let text = |k: &str| match link.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ErrorCode::InvalidDelegation),
        };
        let (sub, client_id, iss) = (text("sub")?, text("client_id")?, text("iss")?);
        let id = client_id.or(sub).unwrap_or_default();
        if id.is_empty() || seen.contains(&(id.clone(), iss.clone())) {
            return Err(ErrorCode::InvalidDelegation);
        }
        seen.push((id, iss));
        next = link.get("act");
    }
    Ok(())
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
