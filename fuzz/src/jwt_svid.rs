//! `jwt_svid`: SPIFFE workload identity on untrusted input — SPIFFE IDs and ID patterns, JWT
//! bundles, and JWT-SVIDs.
//!
//! Byte 0: bits 0-1 the mode, bits 2-4 the JWT-SVID policy (modes 2 and 3, [`svid_sel`]). The rest:
//! - 0: a SPIFFE ID. `SpiffeId::parse` accepts exactly the standard's canonical IDs (an
//!   independent reading of the grammar), and an accepted ID prints and reparses as itself;
//!   `TrustDomain::parse`, `IdPattern::parse` and `SpiffeIdMatcher::parse` never panic, refuse with
//!   their own codes, and an accepted pattern prints as the input and reparses to itself. With a
//!   `\n`, the text before it is also a pattern and the text after it an ID, and the pattern
//!   matches the ID exactly when a string-level reading of the pattern rules says so.
//! - 1: a bundle document. `JwtBundle::parse`, `BundleSet::from_json` (with and without a default
//!   trust domain) and `JwtSvidOptions::from_value` (the document as a trust domain's bundle, and
//!   as the options themselves) never panic and refuse only with `invalid_jwks`, `config_error` or
//!   `invalid_spiffe_id`; a bundle holds at most `MAX_JWKS_KEYS` keys, each from an entry whose
//!   `use` is absent, `jwt-svid` or `sig`, and counts the `x509-svid` entries.
//! - 2: a JWT-SVID, verified against a fixed bundle ([`SVID_TRUST_DOMAIN`]: the test key `p256-a`)
//!   at the vectors' `now` for [`SVID_AUDIENCE`].
//! - 3: `header JSON \0 payload JSON`, base64url-encoded as they are and signed by `p256-a`
//!   (ES256); without a NUL the whole text is the payload, signed under [`SVID_HEADER`].
//!
//! Modes 2 and 3: `verify_jwt_svid` never panics and agrees with `JwtSvidVerifier::verify_now`; an
//! accepted SVID names an ID of `example.org` (its `sub`), has the policy's audience (alone under
//! `sole_audience`), has not expired, came with a header of only `alg`/`kid`/`typ`, and passes
//! `allowed_ids`; a refusal is an invalid-token code (or `spiffe_id_not_allowed` when `allowed_ids`
//! is set). Mode 3, when the header is one the rules accept and `sub` an `example.org` ID: the
//! outcome equals an independent implementation of the claim rules (`exp`, `nbf`, `iat`, `aud`,
//! `sole_audience`, `allowed_ids`).

use super::{split_once, NOW_MS};
use authsec_core::jose::keys::MAX_JWKS_KEYS;
use authsec_core::spiffe::bundle::MAX_TRUST_DOMAINS;
use authsec_core::spiffe::id::{MAX_SPIFFE_ID_BYTES, MAX_TRUST_DOMAIN_BYTES};
use authsec_core::spiffe::{
    verify_jwt_svid, BundleSet, IdPattern, JwtBundle, JwtSvid, JwtSvidOptions, JwtSvidPolicy, JwtSvidVerifier,
    SpiffeId, SpiffeIdMatcher, TrustDomain,
};
use authsec_core::util::{b64url_decode, b64url_encode};
use authsec_core::{Alg, ErrorCategory, ErrorCode, ManualClock, SigningKey};
use serde_json::{json, Map, Value};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The audience the fixed policy answers to (the JWT-SVID vectors').
pub const SVID_AUDIENCE: &str = "https://auth.example";
/// The one trust domain with a bundle.
pub const SVID_TRUST_DOMAIN: &str = "example.org";
/// The header mode 3 signs a payload under when the input has no NUL.
pub const SVID_HEADER: &str = r#"{"alg":"ES256","kid":"p256-a","typ":"JWT"}"#;
/// The patterns `allowed_ids` holds when [`svid_sel::ALLOWED_IDS`] is set.
pub const SVID_ALLOWED_IDS: [&str; 2] = ["spiffe://example.org/agents/*", "spiffe://example.org/billing"];

/// Byte 0 of a `jwt_svid` input.
pub mod svid_sel {
    /// Bits 0-1: 0 an ID, 1 a bundle, 2 a token, 3 a signed `header \0 payload`.
    pub const MODE_MASK: u8 = 0b11;
    pub const ID: u8 = 0;
    pub const BUNDLE: u8 = 1;
    pub const TOKEN: u8 = 2;
    pub const SIGNED: u8 = 3;
    pub const SOLE_AUDIENCE: u8 = 1 << 2;
    /// `allowed_ids` = [`super::SVID_ALLOWED_IDS`].
    pub const ALLOWED_IDS: u8 = 1 << 3;
    pub const LEEWAY_0: u8 = 1 << 4;
}

struct SvidFixtures {
    bundles: BundleSet,
    /// `p256-a`'s private key (TEST ONLY; published in tests/vectors/keys.json).
    signer: SigningKey,
}

fn svid_fixtures() -> &'static SvidFixtures {
    static F: OnceLock<SvidFixtures> = OnceLock::new();
    F.get_or_init(|| {
        let keys: Value =
            serde_json::from_str(include_str!("../../tests/vectors/keys.json")).expect("keys.json is JSON");
        let p256 = &keys["keys"]["p256-a"];
        let mut jwk = p256["public_jwk"].clone();
        jwk["kid"] = json!("p256-a");
        jwk["use"] = json!("jwt-svid");
        let doc = json!({"keys": [jwk]}).to_string();
        let bundles = BundleSet::from_documents([(SVID_TRUST_DOMAIN, doc.as_bytes())]).expect("the fixed bundle");
        assert_eq!(bundles.bundles().next().map(|b| b.keys.keys().len()), Some(1));
        let pem = p256["private_pem"].as_str().expect("p256-a's PEM");
        let signer = SigningKey::from_pem(pem, Some(Alg::ES256), Some("p256-a".into())).expect("p256-a loads");
        SvidFixtures { bundles, signer }
    })
}

pub fn check_jwt_svid(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    match sel & svid_sel::MODE_MASK {
        svid_sel::ID => check_spiffe_id_input(&String::from_utf8_lossy(rest)),
        svid_sel::BUNDLE => check_bundle_document(rest),
        svid_sel::TOKEN => check_svid(sel, &String::from_utf8_lossy(rest), None),
        _ => {
            let (header, payload) = match split_once(rest, 0) {
                (header, Some(payload)) => (header, payload),
                (payload, None) => (SVID_HEADER.as_bytes(), payload),
            };
            check_svid(sel, &sign_svid(header, payload), Some((header, payload)));
        }
    }
}

/// The fixed bundles: `example.org` with `p256-a`.
pub fn svid_bundles() -> &'static BundleSet {
    &svid_fixtures().bundles
}

/// Sign `header` and `payload` (any bytes) with `p256-a`, base64url-encoding them as they are.
pub fn sign_svid(header: &[u8], payload: &[u8]) -> String {
    svid_fixtures()
        .signer
        .sign_segments(&b64url_encode(header), &b64url_encode(payload))
        .expect("p256-a signs")
}

// ---------------------------------------------------------------------------------------------
// Mode 0: SPIFFE IDs and patterns
// ---------------------------------------------------------------------------------------------

fn trust_domain_ok(td: &str) -> bool {
    !td.is_empty()
        && td.len() <= MAX_TRUST_DOMAIN_BYTES
        && td
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_'))
}

/// The SPIFFE ID standard's grammar, read independently: `spiffe://`, a trust domain of
/// `[a-z0-9._-]`, segments of `[A-Za-z0-9._-]` that are neither empty, `.` nor `..`, at most
/// 2048 bytes in all.
pub fn is_canonical_spiffe_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("spiffe://") else {
        return false;
    };
    let (td, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    s.len() <= MAX_SPIFFE_ID_BYTES
        && trust_domain_ok(td)
        && (path.is_empty()
            || path[1..].split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            }))
}

fn check_spiffe_id_input(text: &str) {
    check_spiffe_id(text);
    if let Some((pattern, id)) = text.split_once('\n') {
        check_spiffe_id(pattern);
        check_spiffe_id(id);
        check_match(pattern, id);
    }
}

fn check_spiffe_id(s: &str) {
    match SpiffeId::parse(s) {
        Ok(id) => {
            assert!(is_canonical_spiffe_id(s), "accepted a non-canonical SPIFFE ID: {s:?}");
            assert_eq!(id.to_string(), s);
            assert_eq!(id.as_str(), s);
            assert_eq!(format!("spiffe://{}{}", id.trust_domain_name(), id.path()), s, "{id:?}");
            assert!(id.path().is_empty() || id.path().starts_with('/'), "{id:?}");
            assert_eq!(
                SpiffeId::parse(&id.to_string()).ok().as_ref(),
                Some(&id),
                "reparse of {s:?}"
            );
            let td = id.trust_domain();
            assert_eq!(td.name(), id.trust_domain_name());
            assert!(trust_domain_ok(td.name()), "{td:?}");
            assert_eq!(TrustDomain::parse(td.name()).ok().as_ref(), Some(&td));
            assert_eq!(TrustDomain::parse(&td.id_string()).ok().as_ref(), Some(&td));
            assert!(id.is_member_of(&td));
        }
        Err(e) => {
            assert!(
                !is_canonical_spiffe_id(s),
                "refused a canonical SPIFFE ID: {s:?}: {e:?}"
            );
            assert_eq!(e.code(), ErrorCode::InvalidSpiffeId, "{e:?}");
        }
    }
    match TrustDomain::parse(s) {
        Ok(td) => {
            assert_eq!(td.name(), s.strip_prefix("spiffe://").unwrap_or(s));
            assert!(trust_domain_ok(td.name()), "{td:?}");
        }
        Err(e) => assert_eq!(e.code(), ErrorCode::InvalidSpiffeId, "{e:?}"),
    }
    let pattern = IdPattern::parse(s);
    let expect_pattern = is_canonical_spiffe_id(s) || s.strip_suffix("/*").is_some_and(is_canonical_spiffe_id);
    match &pattern {
        Ok(p) => {
            assert!(expect_pattern, "accepted the pattern {s:?}: {p:?}");
            assert_eq!(p.to_string(), s, "{p:?}");
            assert_eq!(IdPattern::parse(&p.to_string()).ok().as_ref(), Some(p));
            match p {
                IdPattern::Exact(id) => assert!(p.matches(id)),
                IdPattern::TrustDomain(td) => {
                    let id = SpiffeId::parse(&td.id_string()).expect("a trust domain's ID");
                    assert!(p.matches(&id), "{p:?}");
                }
                IdPattern::PathPrefix(_, prefix) => {
                    assert!(prefix.ends_with('/'), "{p:?}");
                    let base = SpiffeId::parse(&s[..s.len() - 2]).expect("the base is an ID");
                    assert!(!p.matches(&base), "{p:?} matched its own base");
                    if let Ok(below) = SpiffeId::parse(&format!("{base}/x")) {
                        assert!(p.matches(&below), "{p:?}");
                    }
                }
            }
        }
        Err(e) => {
            assert!(!expect_pattern, "refused the pattern {s:?}: {e:?}");
            assert_eq!(e.code(), ErrorCode::ConfigError, "{e:?}");
        }
    }
    match SpiffeIdMatcher::parse(&[s]) {
        Ok(m) => assert_eq!(Some(m.patterns()), pattern.as_ref().ok().map(std::slice::from_ref)),
        Err(e) => assert_eq!(Some(e.code()), pattern.err().map(|e| e.code())),
    }
}

/// Whether the pattern `p` admits the ID `id`, read on the strings (both already valid).
fn pattern_admits(p: &str, id: &str) -> bool {
    if let Some(base) = p.strip_suffix('*') {
        // `spiffe://td/path/*`: whole segments below the path.
        id.starts_with(base)
    } else if p["spiffe://".len()..].contains('/') {
        id == p
    } else {
        id == p || id.strip_prefix(p).is_some_and(|rest| rest.starts_with('/'))
    }
}

fn check_match(pattern: &str, id: &str) {
    let (Ok(p), Ok(parsed)) = (IdPattern::parse(pattern), SpiffeId::parse(id)) else {
        return;
    };
    let expected = pattern_admits(pattern, id);
    assert_eq!(p.matches(&parsed), expected, "{pattern:?} vs {id:?}");
    let m = SpiffeIdMatcher::parse(&[pattern]).expect("a pattern");
    match m.check(&parsed) {
        Ok(()) => assert!(expected),
        Err(e) => {
            assert!(!expected);
            assert_eq!(e.code(), ErrorCode::SpiffeIdNotAllowed, "{e:?}");
            assert_eq!(e.code().category(), ErrorCategory::InsufficientScope);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Mode 1: bundle documents
// ---------------------------------------------------------------------------------------------

fn is_bundle_code(c: ErrorCode) -> bool {
    matches!(
        c,
        ErrorCode::InvalidJwks | ErrorCode::ConfigError | ErrorCode::InvalidSpiffeId
    )
}

/// A parsed bundle against the JSON it came from.
fn check_bundle(b: &JwtBundle, doc: &Value) {
    let keys = b.keys.keys();
    assert!(keys.len() <= MAX_JWKS_KEYS, "{} keys", keys.len());
    let entries = doc["keys"].as_array().expect("an accepted bundle has a keys array");
    let use_of = |e: &Value| e.get("use").cloned();
    let x509 = entries.iter().filter(|e| use_of(e) == Some(json!("x509-svid"))).count();
    assert_eq!(b.x509_authorities, x509);
    assert!(keys.len() + x509 <= entries.len());
    for kid in b.keys.kids() {
        assert!(
            entries.iter().any(|e| e.get("kid") == Some(&json!(kid))
                && [None, Some(json!("jwt-svid")), Some(json!("sig"))].contains(&use_of(e))),
            "the key {kid:?} is no JWT-SVID authority of {doc}"
        );
    }
    let whole = |name: &str| doc.get(name).filter(|v| !v.is_null()).map(|v| v.as_u64());
    match whole("spiffe_sequence") {
        None => assert_eq!(b.sequence, None),
        Some(s) => assert_eq!(b.sequence, Some(s.expect("an accepted sequence is a whole number"))),
    }
    match whole("spiffe_refresh_hint") {
        None => assert_eq!(b.refresh_hint, None),
        Some(s) => assert_eq!(
            b.refresh_hint,
            Some(Duration::from_secs(s.expect("an accepted hint is a whole number")))
        ),
    }
}

/// The bundle of `td` in a parsed trust domain -> bundle map (the last entry naming it wins).
fn bundle_in<'a>(map: &'a Map<String, Value>, td: &TrustDomain) -> &'a Value {
    map.iter()
        .filter(|(k, _)| TrustDomain::parse(k).ok().as_ref() == Some(td))
        .last()
        .map(|(_, v)| v)
        .expect("an accepted trust domain is in the document")
}

fn kids(b: &JwtBundle) -> Vec<Option<String>> {
    b.keys.keys().iter().map(|k| k.kid.clone()).collect()
}

fn check_bundle_document(bytes: &[u8]) {
    let td = TrustDomain::parse(SVID_TRUST_DOMAIN).expect("a trust domain");
    let parsed = JwtBundle::parse(td.clone(), bytes);
    let doc: Option<Value> = serde_json::from_slice(bytes).ok();
    match &parsed {
        Ok(b) => {
            assert_eq!(b.trust_domain, td);
            check_bundle(b, doc.as_ref().expect("an accepted bundle is JSON"));
        }
        Err(e) => assert_eq!(e.code(), ErrorCode::InvalidJwks, "{e:?}"),
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    for default in [Some(&td), None] {
        match BundleSet::from_json(text, default) {
            Ok(set) => {
                assert!(set.len() <= MAX_TRUST_DOMAINS);
                let doc = doc.as_ref().expect("an accepted bundle file is JSON");
                let map = doc.as_object().expect("an accepted bundle file is an object");
                if let (Some(td), true) = (default, map.contains_key("keys")) {
                    // One bundle for the default trust domain: what JwtBundle::parse reads.
                    assert_eq!(set.len(), 1);
                    let b = set.get(td).expect("the default trust domain's bundle");
                    let one = parsed.as_ref().expect("JwtBundle::parse agrees");
                    assert_eq!(kids(b), kids(one));
                    check_bundle(b, doc);
                } else {
                    assert!(!map.contains_key("keys") && set.len() <= map.len(), "{set:?}");
                    for b in set.bundles() {
                        check_bundle(b, bundle_in(map, &b.trust_domain));
                    }
                }
            }
            Err(e) => {
                assert!(is_bundle_code(e.code()), "{e:?}");
                if let (Some(_), Err(p)) = (default, &parsed) {
                    if doc.as_ref().is_some_and(|d| d.get("keys").is_some()) {
                        assert_eq!(e.code(), p.code(), "{e:?} vs {p:?}");
                    }
                }
            }
        }
    }
    let no_files = |_: &str| None::<String>;
    let options = doc.map(|doc| {
        let with_bundle = json!({
            "audience": SVID_AUDIENCE,
            "trust_domains": {SVID_TRUST_DOMAIN: {"bundle": doc.clone()}},
        });
        [with_bundle, doc]
    });
    for opts in options.into_iter().flatten() {
        match JwtSvidOptions::from_value(&opts, &no_files) {
            Ok(o) => {
                assert!(o.policy.validate().is_ok(), "{o:?}");
                match o.static_bundles() {
                    Ok(set) => assert!(set.len() <= MAX_TRUST_DOMAINS),
                    Err(e) => assert!(is_bundle_code(e.code()), "{e:?}"),
                }
            }
            Err(e) => assert!(is_bundle_code(e.code()), "{e:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Modes 2 and 3: JWT-SVIDs
// ---------------------------------------------------------------------------------------------

/// The policy byte 0 selects.
pub fn svid_policy(sel: u8) -> JwtSvidPolicy {
    let mut p = JwtSvidPolicy::new(vec![SVID_AUDIENCE.into()]);
    p.sole_audience = sel & svid_sel::SOLE_AUDIENCE != 0;
    if sel & svid_sel::ALLOWED_IDS != 0 {
        p.allowed_ids = SpiffeIdMatcher::parse(&SVID_ALLOWED_IDS).expect("the patterns");
    }
    if sel & svid_sel::LEEWAY_0 != 0 {
        p.leeway = Duration::ZERO;
    }
    p
}

fn allowed_by_policy(sel: u8, id: &str) -> bool {
    sel & svid_sel::ALLOWED_IDS == 0 || SVID_ALLOWED_IDS.iter().any(|p| pattern_admits(p, id))
}

/// A JOSE header the JWT-SVID rules accept for the fixed bundle: a JSON object of only `alg`
/// (ES256), `kid` (absent or `p256-a`) and `typ` (absent, `JWT` or `JOSE`), all strings. Only
/// headers without escapes are judged (`None` otherwise), so that counting the member names in
/// the text finds duplicates.
fn header_acceptable(header: &[u8]) -> Option<bool> {
    if header.contains(&b'\\') {
        return None;
    }
    let Ok(Value::Object(h)) = serde_json::from_slice::<Value>(header) else {
        return Some(false);
    };
    let text = std::str::from_utf8(header).ok()?;
    let once = |name: &str| text.matches(&format!("\"{name}\"")).count() <= 1;
    Some(
        h.iter().all(|(k, v)| match (k.as_str(), v.as_str()) {
            ("alg", Some(a)) => a == "ES256",
            ("kid", Some(k)) => k == "p256-a",
            ("typ", Some(t)) => t == "JWT" || t == "JOSE",
            _ => false,
        }) && h.contains_key("alg")
            && ["alg", "kid", "typ"].into_iter().all(once),
    )
}

/// Whole seconds of a NumericDate claim (the JWT-SVID rules read seconds, rounded down).
fn seconds(c: &Map<String, Value>, name: &str) -> Result<Option<i128>, ErrorCode> {
    match c.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|f| f.is_finite())
            .map(|f| Some(i128::from(f.floor() as i64)))
            .ok_or(ErrorCode::InvalidClaim),
    }
}

/// What verifying a correctly signed SVID of `id` with these claims must give: the JWT-SVID
/// standard's claim rules in the core's documented order, written out independently.
pub fn svid_claims_oracle(c: &Map<String, Value>, sel: u8, id: &str) -> Result<(), ErrorCode> {
    let policy = svid_policy(sel);
    let now = NOW_MS as i128;
    let leeway = policy.leeway.as_millis() as i128;
    let exp = seconds(c, "exp")?.ok_or(ErrorCode::InvalidClaim)?;
    if now >= exp * 1000 + leeway {
        return Err(ErrorCode::TokenExpired);
    }
    if let Some(nbf) = seconds(c, "nbf")? {
        if now + leeway < nbf * 1000 {
            return Err(ErrorCode::TokenNotYetValid);
        }
    }
    seconds(c, "iat")?;
    let aud: Vec<&str> = match c.get("aud") {
        None => return Err(ErrorCode::InvalidAudience),
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_string) => {
            a.iter().filter_map(Value::as_str).collect()
        }
        Some(_) => return Err(ErrorCode::InvalidClaim),
    };
    if !aud.contains(&SVID_AUDIENCE) || (policy.sole_audience && aud.len() != 1) {
        return Err(ErrorCode::InvalidAudience);
    }
    if !allowed_by_policy(sel, id) {
        return Err(ErrorCode::SpiffeIdNotAllowed);
    }
    Ok(())
}

fn check_svid(sel: u8, token: &str, signed: Option<(&[u8], &[u8])>) {
    let f = svid_fixtures();
    let policy = svid_policy(sel);
    let result = verify_jwt_svid(token, &f.bundles, &policy, NOW_MS);
    let verifier = JwtSvidVerifier::with_bundles(policy.clone(), f.bundles.clone(), Arc::new(ManualClock::new(NOW_MS)))
        .expect("the fixed policy is valid");
    match (&result, verifier.verify_now(token).expect("static bundles are at hand")) {
        (Ok(a), Ok(b)) => assert_eq!(a.to_value(), b.to_value()),
        (Err(a), Err(b)) => assert_eq!(a.code(), b.code(), "{a:?} vs {b:?}"),
        (a, b) => panic!("verify_jwt_svid and JwtSvidVerifier disagree: {a:?} vs {b:?}"),
    }
    match &result {
        Ok(svid) => check_accepted(sel, token, svid, &policy),
        Err(e) => {
            let c = e.code();
            assert!(
                c.category() == ErrorCategory::InvalidToken
                    || (c == ErrorCode::SpiffeIdNotAllowed && sel & svid_sel::ALLOWED_IDS != 0),
                "{e:?}"
            );
        }
    }
    // A correctly signed SVID with an acceptable header and an example.org sub: the claim rules
    // alone decide.
    let Some((header, payload)) = signed else {
        return;
    };
    if header_acceptable(header) != Some(true) {
        return;
    }
    let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(payload) else {
        return;
    };
    let Some(sub) = claims.get("sub").and_then(Value::as_str) else {
        return;
    };
    if !is_canonical_spiffe_id(sub)
        || !sub
            .strip_prefix("spiffe://example.org")
            .is_some_and(|r| r.is_empty() || r.starts_with('/'))
    {
        return;
    }
    let expected = svid_claims_oracle(&claims, sel, sub);
    assert_eq!(
        result.as_ref().map(|_| ()).map_err(|e| e.code()),
        expected,
        "{result:?} for {}",
        String::from_utf8_lossy(payload)
    );
}

fn check_accepted(sel: u8, token: &str, svid: &JwtSvid, policy: &JwtSvidPolicy) {
    let id = svid.spiffe_id.as_str();
    assert_eq!(svid.spiffe_id.trust_domain_name(), SVID_TRUST_DOMAIN, "{svid:?}");
    assert!(is_canonical_spiffe_id(id), "{svid:?}");
    assert_eq!(svid.claims.get("sub"), Some(&json!(id)));
    assert!(svid.audience.iter().any(|a| a == SVID_AUDIENCE), "{svid:?}");
    if policy.sole_audience {
        assert_eq!(svid.audience, [SVID_AUDIENCE]);
    }
    match svid.claims.get("aud") {
        Some(Value::String(a)) => assert_eq!(svid.audience, [a.as_str()]),
        other => assert_eq!(other, Some(&json!(svid.audience))),
    }
    let leeway = policy.leeway.as_millis() as i128;
    assert!(
        i128::from(svid.expires_at) * 1000 + leeway > NOW_MS as i128,
        "an expired SVID was accepted: {svid:?}"
    );
    assert_eq!(seconds(&svid.claims, "exp"), Ok(Some(i128::from(svid.expires_at))));
    if let Some(nbf) = seconds(&svid.claims, "nbf").expect("nbf is a number") {
        assert!(nbf * 1000 <= NOW_MS as i128 + leeway, "{svid:?}");
    }
    assert_eq!(seconds(&svid.claims, "iat"), Ok(svid.issued_at.map(i128::from)));
    assert!(allowed_by_policy(sel, id), "{id:?} is not allowed");
    // The only key is p256-a.
    assert_eq!(svid.alg, Alg::ES256);
    assert!(svid.kid.is_none() || svid.kid.as_deref() == Some("p256-a"), "{svid:?}");
    let header = token
        .split('.')
        .next()
        .and_then(b64url_decode)
        .expect("the header segment");
    let Ok(Value::Object(h)) = serde_json::from_slice::<Value>(&header) else {
        panic!(
            "an accepted SVID's header is a JSON object: {:?}",
            String::from_utf8_lossy(&header)
        );
    };
    assert!(
        h.keys().all(|k| ["alg", "kid", "typ"].contains(&k.as_str())),
        "an accepted SVID's header: {h:?}"
    );
    assert_eq!(h.get("alg"), Some(&json!("ES256")));
    assert!(
        matches!(h.get("typ"), None | Some(Value::Null)) || [json!("JWT"), json!("JOSE")].contains(&h["typ"]),
        "{h:?}"
    );
    assert_eq!(h.get("kid").and_then(Value::as_str), svid.kid.as_deref());
    assert_eq!(Value::Object(svid.claims.clone()), {
        let payload = token.split('.').nth(1).and_then(b64url_decode).expect("the payload");
        serde_json::from_slice::<Value>(&payload).expect("JSON")
    });
}
