//! DPoP (RFC 9449) on the resource side. So far: the `htu` comparison of §4.3 step 9, "ignoring
//! any query and fragment parts" and after RFC 3986 syntax- and scheme-based normalisation, the
//! part the libraries most often get wrong (go-jwt-middleware compares with the query appended;
//! proxies rewrite case and ports).
//!
//! [`verify_proof`] does the proof checks of §4.3 that need no state: one proof, `typ`, the
//! algorithm policy, the embedded public `jwk` (a private one refused), the signature, `jti`,
//! `htm`, `htu`, the `iat` window, `nonce`, `ath`, and the key's thumbprint against the token's
//! `cnf.jkt`. To come (issue 16): the replay cache over (thumbprint, method, URI, `jti`), nonces,
//! the challenges, the bindings.

use crate::jose::alg::Alg;
use crate::jose::compact::{check_signature, CompactJws};
use crate::jose::keys::KeySet;
use crate::util::{b64url_decode, b64url_encode, quoted};
use crate::{Error, ErrorCode, Result};
use serde_json::{Map, Value};
use std::time::Duration;

/// The largest proof read (a proof is a header with one public key and five short claims).
pub const MAX_PROOF_BYTES: usize = 8 * 1024;
/// The longest `jti` accepted (RFC 9449 §11.1: "reject huge jti").
pub const MAX_JTI_CHARS: usize = 256;

/// What a resource accepts of DPoP proofs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpopPolicy {
    /// Allowed proof algorithms; empty means every supported asymmetric one.
    pub algorithms: Vec<Alg>,
    /// How old a proof's `iat` may be (default 300 s, as express-oauth2-jwt-bearer and
    /// go-jwt-middleware).
    pub max_age: Duration,
    /// Clock-skew leeway on both sides of the window (default 5 s, the verifier's).
    pub leeway: Duration,
}

impl Default for DpopPolicy {
    fn default() -> Self {
        DpopPolicy {
            algorithms: Vec::new(),
            max_age: Duration::from_secs(300),
            leeway: Duration::from_secs(5),
        }
    }
}

/// The request a proof must match.
#[derive(Clone, Debug, Default)]
pub struct ProofRequest<'a> {
    /// The HTTP method, as sent (`POST`).
    pub method: &'a str,
    /// The request's target URI, absolute (as the resource's public origin names it).
    pub uri: &'a str,
    /// The access token sent with the proof (resource requests): `ath` must be its hash.
    pub access_token: Option<&'a str>,
    /// The token's `cnf.jkt`: the proof's key must have this thumbprint.
    pub jkt: Option<&'a str>,
    /// The nonce the server expects, if it gave one.
    pub nonce: Option<&'a str>,
}

/// A proof that passed [`verify_proof`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The RFC 7638 thumbprint of the proof's key.
    pub jkt: String,
    pub jti: String,
    /// Seconds since the epoch.
    pub iat: i64,
}

fn invalid(why: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::InvalidDpopProof, format!("the DPoP proof {why}"))
}

/// Members of a private JWK (RFC 7517, 7518): a proof carrying one leaks the key.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// `ath`: the base64url SHA-256 of the access token's ASCII (RFC 9449 §4.2).
pub fn access_token_hash(token: &str) -> String {
    use sha2::Digest;
    b64url_encode(&sha2::Sha256::digest(token.as_bytes()))
}

/// Check a DPoP proof against the request at `now_ms` (see the module documentation). Errors are
/// `invalid_dpop_proof`, or `use_dpop_nonce` when the server expects a nonce the proof lacks or
/// has wrong.
pub fn verify_proof(proof: &str, req: &ProofRequest<'_>, policy: &DpopPolicy, now_ms: i64) -> Result<VerifiedProof> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(invalid(format_args!("is longer than {MAX_PROOF_BYTES} bytes")));
    }
    let jws = CompactJws::split(proof).map_err(|e| invalid(format_args!("is not a compact JWS ({})", e.message())))?;
    let header: Map<String, Value> = b64url_decode(jws.signing_input.split('.').next().unwrap_or(""))
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("header is not a JSON object"))?;
    if !jws
        .header
        .typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("dpop+jwt"))
    {
        return Err(invalid("has no typ \"dpop+jwt\""));
    }
    crate::jose::compact::check_crit(jws.header.crit.as_ref()).map_err(|e| invalid(e.message()))?;
    let alg = Alg::parse(&jws.header.alg).map_err(|e| invalid(e.message()))?;
    if !policy.algorithms.is_empty() && !policy.algorithms.contains(&alg) {
        return Err(invalid(format_args!("uses {alg}, which this resource does not accept")));
    }
    let jwk = match header.get("jwk") {
        Some(Value::Object(o)) => o,
        _ => return Err(invalid("header has no jwk object")),
    };
    if let Some(m) = PRIVATE_MEMBERS.iter().find(|m| jwk.contains_key(**m)) {
        return Err(invalid(format_args!(
            "jwk is a private key (it has \"{m}\"); send the public key only"
        )));
    }
    let keys = KeySet::from_jwk_value(&Value::Object(jwk.clone())).map_err(|e| invalid(e.message()))?;
    let key = &keys.keys()[0];
    if !key.fits(alg) {
        return Err(invalid(format_args!("jwk does not fit alg {alg}")));
    }
    let signature = jws.signature().map_err(|e| invalid(e.message()))?;
    check_signature(alg, key, jws.signing_input.as_bytes(), &signature)
        .map_err(|_| invalid("signature does not verify with its jwk"))?;

    let claims: Map<String, Value> = b64url_decode(jws.payload_b64)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("payload is not a JSON object"))?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let jti = text("jti")
        .filter(|j| !j.is_empty())
        .ok_or_else(|| invalid("has no jti"))?;
    if jti.chars().count() > MAX_JTI_CHARS {
        return Err(invalid(format_args!("jti is longer than {MAX_JTI_CHARS} characters")));
    }
    if text("htm") != Some(req.method) {
        return Err(invalid(format_args!(
            "is for another method (htm), not {}",
            quoted(req.method)
        )));
    }
    match text("htu") {
        Some(htu) if htu_matches(htu, req.uri) => {}
        _ => {
            return Err(invalid(format_args!(
                "is for another URI (htu), not {}",
                quoted(req.uri)
            )))
        }
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| invalid("has no integer iat"))?;
    let now = now_ms.div_euclid(1000);
    let leeway = policy.leeway.as_secs() as i64;
    if iat > now + leeway {
        return Err(invalid("was issued in the future (iat)"));
    }
    if iat < now - policy.max_age.as_secs() as i64 - leeway {
        return Err(invalid(format_args!(
            "is older than {} s (iat)",
            policy.max_age.as_secs()
        )));
    }
    if let Some(expected) = req.nonce {
        if text("nonce") != Some(expected) {
            return Err(Error::new(
                ErrorCode::UseDpopNonce,
                "the DPoP proof lacks the server's current nonce; send a new proof with the nonce from DPoP-Nonce",
            ));
        }
    }
    if let Some(token) = req.access_token {
        if text("ath") != Some(access_token_hash(token).as_str()) {
            return Err(invalid("is not for this access token (ath)"));
        }
    }
    let jkt = key.public_key().thumbprint();
    if req.jkt.is_some_and(|bound| bound != jkt) {
        return Err(invalid(
            "is signed by another key than the one the token is bound to (cnf.jkt)",
        ));
    }
    Ok(VerifiedProof {
        jkt,
        jti: jti.to_string(),
        iat,
    })
}

/// The canonical form of a DPoP `htu` or a request's target URI, for comparing the two: scheme
/// and host lower-case, the default port dropped, an empty path as `/`, dot segments removed
/// (RFC 3986 §5.2.4), percent-encodings of unreserved characters decoded and the rest upper-cased
/// (§6.2.2), query and fragment dropped (RFC 9449 §4.3). Refused: not an absolute http(s) URI,
/// credentials, a malformed percent-encoding, a space or control character.
pub fn normalize_htu(raw: &str) -> Result<String> {
    // A URI with a user-info part may carry a password: not echoed.
    let shown = if raw.contains('@') {
        "(not shown: it has an @)".to_string()
    } else {
        quoted(raw)
    };
    let bad = |why: &str| Error::config(format!("htu {shown} is not an absolute http(s) URI: {why}"));
    if raw.chars().any(|c| c.is_control() || c == ' ') {
        return Err(bad("it contains a space or control character"));
    }
    let (scheme, rest) = raw.split_once("://").ok_or_else(|| bad("no scheme"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return Err(bad("the scheme is not http or https")),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.is_empty() {
        return Err(bad("no host"));
    }
    if authority.contains('@') {
        return Err(bad("it carries credentials"));
    }
    let authority = authority.to_ascii_lowercase();
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    let path = tail.split(['?', '#']).next().unwrap_or("");
    let path = normalize_percent(path).ok_or_else(|| bad("a malformed percent-encoding"))?;
    let path = remove_dot_segments(if path.is_empty() { "/" } else { &path });
    Ok(format!("{scheme}://{authority}{path}"))
}

/// Whether a proof's `htu` names the request's target URI (both normalised, queries ignored).
pub fn htu_matches(htu: &str, request_uri: &str) -> bool {
    matches!((normalize_htu(htu), normalize_htu(request_uri)), (Ok(a), Ok(b)) if a == b)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Decode percent-encoded unreserved characters and upper-case the hex of the others (other
/// characters are kept as they are); `None` for a `%` not followed by two hex digits.
fn normalize_percent(path: &str) -> Option<String> {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(p) = rest.find('%') {
        out.push_str(&rest[..p]);
        let hex = rest
            .get(p + 1..p + 3)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))?;
        let value = u8::from_str_radix(hex, 16).ok()?;
        if is_unreserved(value) {
            out.push(value as char);
        } else {
            out.push('%');
            out.push_str(&hex.to_ascii_uppercase());
        }
        rest = &rest[p + 3..];
    }
    out.push_str(rest);
    Some(out)
}

/// RFC 3986 §5.2.4, for an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *seg {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_normal_forms() {
        for (raw, want) in [
            ("https://api.example.com/mcp", "https://api.example.com/mcp"),
            ("HTTPS://API.Example.COM:443/mcp?x=1#f", "https://api.example.com/mcp"),
            ("http://127.0.0.1:80", "http://127.0.0.1/"),
            ("http://127.0.0.1:8080?q", "http://127.0.0.1:8080/"),
            ("https://x/a/./b/../c", "https://x/a/c"),
            ("https://x/a/b/..", "https://x/a/"),
            ("https://x/%7euser/%2fa%2Fb/%41", "https://x/~user/%2Fa%2Fb/A"),
            ("https://x/caf%c3%a9/é", "https://x/caf%C3%A9/é"),
            ("https://[::1]:8443/p", "https://[::1]:8443/p"),
        ] {
            assert_eq!(normalize_htu(raw).unwrap(), want, "{raw}");
        }
        for bad in [
            "/mcp",
            "ftp://x/",
            "https://",
            "https://u:p@x/",
            "https://x/%zz",
            "https://x/%4",
            "https://x/a b",
        ] {
            assert!(normalize_htu(bad).is_err(), "{bad}");
        }
        let e = normalize_htu("https://user:hunter2@x/").unwrap_err();
        assert!(!e.message().contains("hunter2"), "{e:?}");
    }

    #[test]
    fn htu_matching_ignores_the_query_both_ways() {
        assert!(htu_matches(
            "https://api.example/mcp",
            "https://api.example/mcp?session=1"
        ));
        assert!(htu_matches("https://api.example/mcp?x", "https://api.example/mcp"));
        assert!(htu_matches("https://API.example:443/m%63p", "https://api.example/mcp"));
        assert!(!htu_matches("https://api.example/mcp", "https://api.example/mcp/"));
        assert!(!htu_matches("https://api.example/mcp", "http://api.example/mcp"));
        assert!(!htu_matches("https://api.example/mcp", "https://api.example:8443/mcp"));
        assert!(!htu_matches("https://api.example/mcp", "https://other.example/mcp"));
        assert!(!htu_matches("not a uri", "not a uri"));
    }
}

#[cfg(all(test, feature = "aws_lc_rs"))]
mod proof_tests {
    use super::*;
    use crate::jose::signing::SigningKey;
    use serde_json::json;

    const NOW_MS: i64 = 1_700_000_000_000;
    const NOW: i64 = NOW_MS / 1000;
    const URI: &str = "https://api.example/mcp";
    const TOKEN: &str = "an-access-token";

    fn key() -> SigningKey {
        SigningKey::generate(Alg::ES256, None).unwrap()
    }

    fn claims() -> Value {
        json!({"jti": "j-1", "htm": "POST", "htu": URI, "iat": NOW, "ath": access_token_hash(TOKEN)})
    }

    /// A proof by `k` with the header `{typ: dpop+jwt, alg, jwk}` changed by `header`, of `claims`.
    fn proof(k: &SigningKey, header: Value, claims: Value) -> String {
        let mut h = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": k.public_jwk()});
        for (name, v) in header.as_object().unwrap() {
            if v.is_null() {
                h.as_object_mut().unwrap().remove(name);
            } else {
                h[name] = v.clone();
            }
        }
        k.sign_raw(&h, &claims).unwrap()
    }

    fn with(name: &str, v: Value) -> Value {
        let mut c = claims();
        if v.is_null() {
            c.as_object_mut().unwrap().remove(name);
        } else {
            c[name] = v;
        }
        c
    }

    fn request() -> ProofRequest<'static> {
        ProofRequest {
            method: "POST",
            uri: URI,
            access_token: Some(TOKEN),
            ..Default::default()
        }
    }

    fn check(p: &str, req: &ProofRequest<'_>) -> Result<VerifiedProof> {
        verify_proof(p, req, &DpopPolicy::default(), NOW_MS)
    }

    #[test]
    fn a_good_proof_names_its_key() {
        let k = key();
        let thumb = k.public_jwk();
        let got = check(&proof(&k, json!({}), claims()), &request()).unwrap();
        let expected = KeySet::from_jwk_value(&thumb).unwrap().keys()[0]
            .public_key()
            .thumbprint();
        assert_eq!(
            (got.jkt.as_str(), got.jti.as_str(), got.iat),
            (expected.as_str(), "j-1", NOW)
        );
        // Bound to that key; a query on either side does not matter; htu case and port normalised.
        let bound = ProofRequest {
            jkt: Some(&expected),
            uri: "https://API.example:443/mcp?x=1",
            ..request()
        };
        assert!(check(
            &proof(&k, json!({}), with("htu", json!("https://api.example/mcp?y"))),
            &bound
        )
        .is_ok());
        // A token request carries no access token: no ath needed.
        let token_request = ProofRequest {
            access_token: None,
            ..request()
        };
        assert!(check(&proof(&k, json!({}), with("ath", Value::Null)), &token_request).is_ok());
    }

    #[test]
    fn every_step_of_rfc_9449_section_4_3() {
        let k = key();
        let other = key();
        let mut private = k.public_jwk();
        private["d"] = json!("AAAA");
        let cases: Vec<(&str, String)> = vec![
            ("no typ", proof(&k, json!({"typ": null}), claims())),
            ("typ JWT", proof(&k, json!({"typ": "JWT"}), claims())),
            ("no jwk", proof(&k, json!({"jwk": null}), claims())),
            ("private jwk", proof(&k, json!({"jwk": private}), claims())),
            (
                "another key's jwk",
                proof(&k, json!({"jwk": other.public_jwk()}), claims()),
            ),
            ("alg none", proof(&k, json!({"alg": "none"}), claims())),
            ("alg HS256", proof(&k, json!({"alg": "HS256"}), claims())),
            ("alg not fitting", proof(&k, json!({"alg": "RS256"}), claims())),
            ("no jti", proof(&k, json!({}), with("jti", Value::Null))),
            ("huge jti", proof(&k, json!({}), with("jti", json!("j".repeat(300))))),
            ("wrong htm", proof(&k, json!({}), with("htm", json!("GET")))),
            ("lower-case htm", proof(&k, json!({}), with("htm", json!("post")))),
            (
                "other htu",
                proof(&k, json!({}), with("htu", json!("https://api.example/other"))),
            ),
            (
                "htu of another origin",
                proof(&k, json!({}), with("htu", json!("https://evil.example/mcp"))),
            ),
            ("no iat", proof(&k, json!({}), with("iat", Value::Null))),
            (
                "iat an hour ahead",
                proof(&k, json!({}), with("iat", json!(NOW + 3600))),
            ),
            ("iat an hour old", proof(&k, json!({}), with("iat", json!(NOW - 3600)))),
            ("no ath", proof(&k, json!({}), with("ath", Value::Null))),
            (
                "wrong ath",
                proof(&k, json!({}), with("ath", json!(access_token_hash("another")))),
            ),
            ("not a JWS", "a.b".to_string()),
            ("too long", "a".repeat(MAX_PROOF_BYTES + 1)),
        ];
        for (what, p) in cases {
            let e = check(&p, &request()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidDpopProof, "{what}: {e:?}");
        }
        // A bad signature.
        let good = proof(&k, json!({}), claims());
        let (signed, _) = good.rsplit_once('.').unwrap();
        let forged = format!(
            "{signed}.{}",
            proof(&other, json!({}), claims()).rsplit_once('.').unwrap().1
        );
        assert_eq!(
            check(&forged, &request()).unwrap_err().code(),
            ErrorCode::InvalidDpopProof
        );
        // The token is bound to another key.
        let bound = ProofRequest {
            jkt: Some("not-this-key"),
            ..request()
        };
        assert!(check(&good, &bound).unwrap_err().message().contains("cnf.jkt"));
        // The policy's algorithms.
        let ps_only = DpopPolicy {
            algorithms: vec![Alg::PS256],
            ..DpopPolicy::default()
        };
        assert!(verify_proof(&good, &request(), &ps_only, NOW_MS).is_err());
        // Within the window edges (300 s old, leeway 5 s) it passes.
        assert!(check(&proof(&k, json!({}), with("iat", json!(NOW - 305))), &request()).is_ok());
        assert!(check(&proof(&k, json!({}), with("iat", json!(NOW + 5))), &request()).is_ok());
        assert!(check(&proof(&k, json!({}), with("iat", json!(NOW - 306))), &request()).is_err());
        // Unknown claims are ignored.
        assert!(check(&proof(&k, json!({}), with("extra", json!({"x": 1}))), &request()).is_ok());
    }

    #[test]
    fn nonces() {
        let k = key();
        let wants = ProofRequest {
            nonce: Some("n-1"),
            ..request()
        };
        let e = check(&proof(&k, json!({}), claims()), &wants).unwrap_err();
        assert_eq!(e.code(), ErrorCode::UseDpopNonce);
        let e = check(&proof(&k, json!({}), with("nonce", json!("n-0"))), &wants).unwrap_err();
        assert_eq!(e.code(), ErrorCode::UseDpopNonce);
        assert!(check(&proof(&k, json!({}), with("nonce", json!("n-1"))), &wants).is_ok());
    }
}
