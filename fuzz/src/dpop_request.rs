//! `dpop_request`: the resource side of DPoP on untrusted input.
//!
//! Byte 0 selects the mode (low two bits); the rest is the input:
//! - 0: a `DPoP` proof, checked against a fixed request. The check never panics, refuses only with
//!   `invalid_dpop_proof`, agrees with `check_proof` + the backend's signature check, and a proof
//!   it accepts is for that request (its normalised `htu`).
//! - 1: a URI. `normalize_htu` is idempotent, a URI matches its own normal form, and matching
//!   ignores a query added to either side.
//! - 2: request headers, one `name: value` a line. `read_credential` never panics; a credential
//!   has a non-empty token, and the DPoP scheme a non-empty proof.
//! - 3: a request target (then `\n`, then a `Host` value). A target URI the origin policy
//!   resolves is always one `normalize_htu` reads (else the request is `invalid_request`).

use super::NOW_MS;
use authsec_core::dpop::proof::check_proof;
use authsec_core::dpop::{htu_matches, normalize_htu, verify_proof, DpopPolicy, ProofRequest};
use authsec_core::resource::credential::{read_credential, Scheme};
use authsec_core::resource::origin::OriginPolicy;
use authsec_core::resource::request::RequestParts;
use authsec_core::ErrorCode;

const URI: &str = "https://api.example/mcp";
const TOKEN: &str = "fuzz-access-token";

pub fn check_dpop_request(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match mode & 3 {
        0 => check_dpop_proof(&text),
        1 => check_htu(&text),
        2 => check_credential(&text),
        _ => check_target(&text),
    }
}

fn check_dpop_proof(proof: &str) {
    let req = ProofRequest {
        method: "POST",
        uri: URI,
        access_token: Some(TOKEN),
        jkt: None,
    };
    let policy = DpopPolicy::default();
    let verified = verify_proof(proof, &req, &policy, NOW_MS);
    let split = check_proof(proof, &req, &policy, NOW_MS).and_then(|c| {
        let valid = c.verify_with_backend()?;
        c.finish(valid)
    });
    match (&verified, &split) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b);
            assert_eq!(a.htu, normalize_htu(URI).expect("the fixed URI"));
            assert!(!a.jti.is_empty() && a.jti.chars().count() <= 256);
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.code(), ErrorCode::InvalidDpopProof, "{a:?}");
            assert_eq!(b.code(), ErrorCode::InvalidDpopProof, "{b:?}");
        }
        _ => panic!("verify_proof and check_proof disagree: {verified:?} vs {split:?}"),
    }
}

fn check_htu(uri: &str) {
    let Ok(normal) = normalize_htu(uri) else {
        assert!(!htu_matches(uri, uri), "an unreadable URI matched itself: {uri:?}");
        return;
    };
    assert_eq!(
        normalize_htu(&normal).as_deref(),
        Ok(normal.as_str()),
        "not idempotent: {uri:?}"
    );
    assert!(
        htu_matches(uri, &normal) && htu_matches(&normal, uri),
        "{uri:?} vs {normal:?}"
    );
    if !uri.contains(['?', '#']) {
        let with_query = format!("{uri}?q=1");
        assert!(
            htu_matches(&with_query, uri) && htu_matches(uri, &with_query),
            "{uri:?}"
        );
    }
}

fn check_credential(headers: &str) {
    let (mut auth, mut dpop) = (Vec::new(), Vec::new());
    for line in headers.lines() {
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("authorization") {
                auth.push(value);
            } else if name.trim().eq_ignore_ascii_case("dpop") {
                dpop.push(value);
            }
        }
    }
    match read_credential(&auth, &dpop) {
        Ok(Some(c)) => {
            assert!(!c.token.is_empty() && c.token == c.token.trim(), "{c:?}");
            if c.scheme == Scheme::Dpop {
                assert!(c.proof.is_some_and(|p| !p.is_empty()), "{c:?}");
            }
        }
        Ok(None) => {}
        Err(e) => assert!(
            matches!(e.code(), ErrorCode::InvalidRequest | ErrorCode::InvalidDpopProof),
            "{e:?}"
        ),
    }
}

fn check_target(input: &str) {
    let (target, host) = input.split_once('\n').unwrap_or((input, "api.example"));
    let req = RequestParts {
        method: "GET",
        target,
        scheme: "https",
        headers: vec![("Host", host)],
        ..Default::default()
    };
    match OriginPolicy::default().target_uri(&req) {
        Ok(uri) => assert!(normalize_htu(&uri).is_ok(), "{uri:?} from {input:?}"),
        Err(e) => assert_eq!(e.code(), ErrorCode::InvalidRequest, "{e:?}"),
    }
}
