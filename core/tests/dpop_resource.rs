//! The resource side of sender-constrained tokens, whole requests through `RequestVerifier`:
//! Bearer and DPoP tokens, the binding rules, the replay cache, the nonce dance, certificate-bound
//! tokens from the TLS connection and from a proxy header, and the challenges.
#![cfg(feature = "aws_lc_rs")]

use authsec_core::dpop::ProofKey;
use authsec_core::resource::client_cert::cert_thumbprint;
use authsec_core::resource::request::RequestParts;
use authsec_core::resource::request_verifier::{Refusal, RequestPolicy, RequestVerifier};
use authsec_core::*;
use serde_json::{json, Map, Value};
use std::sync::Arc;

const NOW: i64 = 1_700_000_000;
const URL: &str = "https://api.test/mcp";

struct Setup {
    issuer_key: SigningKey,
    clock: ManualClock,
    rv: RequestVerifier,
}

fn setup(options: Value) -> Setup {
    let issuer_key = SigningKey::generate(Alg::ES256, None).unwrap();
    let keys = Arc::new(KeySet::from_jwks_value(&json!({"keys": [issuer_key.public_jwk()]})).unwrap());
    let clock = ManualClock::new(NOW * 1000);
    let verifier = Verifier::new(
        VerifierConfig::new("https://issuer.test", "https://api.test"),
        Arc::new(StaticKeys(keys)),
        Arc::new(clock.clone()),
    )
    .unwrap();
    let policy = RequestPolicy::from_value(&options).unwrap();
    let rv = RequestVerifier::new(Arc::new(verifier), policy, Arc::new(clock.clone()));
    Setup { issuer_key, clock, rv }
}

impl Setup {
    fn token(&self, cnf: Option<Value>) -> String {
        let mut c = json!({"iss": "https://issuer.test", "aud": "https://api.test", "sub": "agent",
            "exp": NOW + 3600, "iat": NOW, "scope": "read"});
        if let Some(cnf) = cnf {
            c["cnf"] = cnf;
        }
        self.issuer_key.sign(Some("at+jwt"), &Map::new(), &c).unwrap()
    }

    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    async fn call(&self, headers: &[(&str, &str)], cert: Option<&[u8]>) -> Result<Vec<(String, String)>, Refusal> {
        self.call_as("POST", "/mcp?session=1", headers, cert, "127.0.0.1").await
    }

    async fn call_as(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        cert: Option<&[u8]>,
        peer: &str,
    ) -> Result<Vec<(String, String)>, Refusal> {
        let mut all = vec![("Host", "api.test")];
        all.extend_from_slice(headers);
        let req = RequestParts {
            method,
            target,
            scheme: "https",
            headers: all,
            peer: peer.parse().ok(),
            client_certificate: cert,
        };
        self.rv
            .verify(&req, &ScopeRequirement::all(&["read"]))
            .await
            .map(|a| a.headers)
    }
}

fn header<'a>(r: &'a Refusal, name: &str) -> Vec<&'a str> {
    r.headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn code(r: &Refusal) -> Option<ErrorCode> {
    r.error.as_ref().map(Error::code)
}

#[tokio::test]
async fn an_agent_with_its_key_gets_in_and_a_thief_with_the_token_does_not() {
    let s = setup(json!({}));
    let key = ProofKey::generate(None).unwrap();
    let token = s.token(Some(json!({"jkt": key.thumbprint()})));
    let auth = format!("DPoP {token}");
    // The client signs the URL with its query; the resource compares without it.
    let proof = key
        .proof("POST", &format!("{URL}?session=1"), Some(&token), None, s.now_ms())
        .unwrap();
    assert!(s
        .call(&[("Authorization", &auth), ("DPoP", &proof)], None)
        .await
        .is_ok());

    // The same proof again: a replay.
    let r = s
        .call(&[("Authorization", &auth), ("DPoP", &proof)], None)
        .await
        .unwrap_err();
    assert_eq!((r.status, code(&r)), (401, Some(ErrorCode::InvalidDpopProof)));
    assert!(r.error.unwrap().message().contains("already used"));

    // The stolen token as Bearer (RFC 9449 section 7.2).
    let r = s
        .call(&[("Authorization", &format!("Bearer {token}"))], None)
        .await
        .unwrap_err();
    assert_eq!((r.status, code(&r)), (401, Some(ErrorCode::InvalidClaim)));
    let challenges = header(&r, "WWW-Authenticate");
    assert_eq!(challenges.len(), 2);
    assert!(challenges[1].starts_with("DPoP algs=\"RS256 "), "{challenges:?}");
    assert!(
        challenges[0].starts_with("Bearer error=\"invalid_token\""),
        "{challenges:?}"
    );

    // The stolen token with the thief's own key.
    let thief = ProofKey::generate(None).unwrap();
    let p = thief.proof("POST", URL, Some(&token), None, s.now_ms()).unwrap();
    let r = s
        .call(&[("Authorization", &auth), ("DPoP", &p)], None)
        .await
        .unwrap_err();
    assert_eq!(code(&r), Some(ErrorCode::InvalidDpopProof));
    assert!(r.error.unwrap().message().contains("cnf.jkt"));

    // A proof for another request, or for another token.
    for p in [
        key.proof("GET", URL, Some(&token), None, s.now_ms()).unwrap(),
        key.proof("POST", "https://api.test/other", Some(&token), None, s.now_ms())
            .unwrap(),
        key.proof("POST", URL, Some("another token"), None, s.now_ms()).unwrap(),
        key.proof("POST", URL, None, None, s.now_ms()).unwrap(),
        key.proof("POST", URL, Some(&token), None, s.now_ms() - 3_600_000)
            .unwrap(),
    ] {
        let r = s
            .call(&[("Authorization", &auth), ("DPoP", &p)], None)
            .await
            .unwrap_err();
        assert_eq!(code(&r), Some(ErrorCode::InvalidDpopProof), "{:?}", r.error);
    }
    // Two proofs; none.
    let p = key.proof("POST", URL, Some(&token), None, s.now_ms()).unwrap();
    let r = s
        .call(&[("Authorization", &auth), ("DPoP", &p), ("DPoP", &p)], None)
        .await
        .unwrap_err();
    assert_eq!(code(&r), Some(ErrorCode::InvalidDpopProof));
    let r = s.call(&[("Authorization", &auth)], None).await.unwrap_err();
    assert_eq!(code(&r), Some(ErrorCode::InvalidDpopProof));

    // A plain bearer token still works as Bearer (dpop: allowed), not as DPoP.
    let plain = s.token(None);
    assert!(s
        .call(&[("Authorization", &format!("Bearer {plain}"))], None)
        .await
        .is_ok());
    let p = key.proof("POST", URL, Some(&plain), None, s.now_ms()).unwrap();
    let r = s
        .call(&[("Authorization", &format!("DPoP {plain}")), ("DPoP", &p)], None)
        .await
        .unwrap_err();
    assert!(r.error.unwrap().message().contains("not DPoP-bound"));

    // No credential: both challenges, no error.
    let r = s.call(&[], None).await.unwrap_err();
    assert_eq!((r.status, code(&r)), (401, None));
    assert_eq!(header(&r, "WWW-Authenticate").len(), 2);
    assert!(!header(&r, "WWW-Authenticate").join(", ").contains("error"));
}

#[tokio::test]
async fn required_and_disabled_modes() {
    let s = setup(json!({"dpop": "required", "dpop_algorithms": ["ES256", "EdDSA"], "realm": "api"}));
    let r = s
        .call(&[("Authorization", &format!("Bearer {}", s.token(None)))], None)
        .await
        .unwrap_err();
    assert_eq!(code(&r), Some(ErrorCode::InvalidClaim));
    assert_eq!(
        header(&r, "WWW-Authenticate"),
        ["DPoP algs=\"ES256 EdDSA\", realm=\"api\", error=\"invalid_token\", error_description=\"this resource accepts only DPoP-bound tokens, sent with the DPoP scheme\", scope=\"read\""]
    );
    // A PS256 proof is outside the policy.
    let key = ProofKey::generate(Some(Alg::PS256)).unwrap();
    let token = s.token(Some(json!({"jkt": key.thumbprint()})));
    let p = key.proof("POST", URL, Some(&token), None, s.now_ms()).unwrap();
    let r = s
        .call(&[("Authorization", &format!("DPoP {token}")), ("DPoP", &p)], None)
        .await
        .unwrap_err();
    assert_eq!(code(&r), Some(ErrorCode::InvalidDpopProof));

    let s = setup(json!({"dpop": "disabled"}));
    let key = ProofKey::generate(None).unwrap();
    let token = s.token(Some(json!({"jkt": key.thumbprint()})));
    let p = key.proof("POST", URL, Some(&token), None, s.now_ms()).unwrap();
    let r = s
        .call(&[("Authorization", &format!("DPoP {token}")), ("DPoP", &p)], None)
        .await
        .unwrap_err();
    assert_eq!(header(&r, "WWW-Authenticate").len(), 1);
    assert!(header(&r, "WWW-Authenticate")[0].starts_with("Bearer error=\"invalid_token\""));
    // A bound token is refused as Bearer in every mode.
    let r = s
        .call(&[("Authorization", &format!("Bearer {token}"))], None)
        .await
        .unwrap_err();
    assert_eq!(code(&r), Some(ErrorCode::InvalidClaim));
}

#[tokio::test]
async fn the_nonce_dance() {
    let s = setup(json!({"dpop_nonce": true, "dpop_nonce_lifetime": 60}));
    let key = ProofKey::generate(None).unwrap();
    let token = s.token(Some(json!({"jkt": key.thumbprint()})));
    let auth = format!("DPoP {token}");
    let p = key.proof("POST", URL, Some(&token), None, s.now_ms()).unwrap();
    let r = s
        .call(&[("Authorization", &auth), ("DPoP", &p)], None)
        .await
        .unwrap_err();
    assert_eq!((r.status, code(&r)), (401, Some(ErrorCode::UseDpopNonce)));
    assert!(header(&r, "WWW-Authenticate")[1].contains("error=\"use_dpop_nonce\""));
    let nonce = header(&r, "DPoP-Nonce")[0].to_string();
    // The refused proof did not enter the replay cache; a new one with the nonce passes.
    let p = key.proof("POST", URL, Some(&token), Some(&nonce), s.now_ms()).unwrap();
    assert_eq!(
        s.call(&[("Authorization", &auth), ("DPoP", &p)], None).await.unwrap(),
        []
    );
    // Past half its life the answer carries a new one; past its life it is refused.
    s.clock.advance(std::time::Duration::from_secs(31));
    let p = key.proof("POST", URL, Some(&token), Some(&nonce), s.now_ms()).unwrap();
    let headers = s.call(&[("Authorization", &auth), ("DPoP", &p)], None).await.unwrap();
    assert_eq!(headers.len(), 1);
    assert_eq!(headers[0].0, "DPoP-Nonce");
    assert_ne!(headers[0].1, nonce);
    s.clock.advance(std::time::Duration::from_secs(30));
    let p = key.proof("POST", URL, Some(&token), Some(&nonce), s.now_ms()).unwrap();
    let r = s
        .call(&[("Authorization", &auth), ("DPoP", &p)], None)
        .await
        .unwrap_err();
    assert_eq!(code(&r), Some(ErrorCode::UseDpopNonce));
    // Bearer tokens need no nonce.
    assert!(s
        .call(&[("Authorization", &format!("Bearer {}", s.token(None)))], None)
        .await
        .is_ok());
}

#[tokio::test]
async fn certificate_bound_tokens_from_tls_and_from_a_trusted_proxy() {
    let cert: &[u8] = b"0\x82 the client certificate's DER";
    let other: &[u8] = b"0\x82 another certificate";
    let s = setup(json!({}));
    let token = s.token(Some(json!({"x5t#S256": cert_thumbprint(cert)})));
    let auth = format!("Bearer {token}");
    assert!(s.call(&[("Authorization", &auth)], Some(cert)).await.is_ok());
    for presented in [Some(other), None] {
        let r = s.call(&[("Authorization", &auth)], presented).await.unwrap_err();
        assert_eq!((r.status, code(&r)), (401, Some(ErrorCode::InvalidClaim)));
    }

    // Behind Envoy: the certificate's hash in x-forwarded-client-cert, believed from the proxy only.
    let s = setup(json!({"client_cert_header": "x-forwarded-client-cert", "trusted_proxies": ["10.0.0.0/8"]}));
    let token = s.token(Some(json!({"x5t#S256": cert_thumbprint(cert)})));
    let auth = format!("Bearer {token}");
    use sha2::Digest;
    let hex: String = sha2::Sha256::digest(cert).iter().map(|b| format!("{b:02x}")).collect();
    let xfcc = format!("By=spiffe://mesh/api;Hash={hex};Subject=\"CN=agent\"");
    let headers = [
        ("Authorization", auth.as_str()),
        ("x-forwarded-client-cert", xfcc.as_str()),
    ];
    assert!(s.call_as("GET", "/mcp", &headers, None, "10.1.1.1").await.is_ok());
    let r = s
        .call_as("GET", "/mcp", &headers, None, "192.168.1.1")
        .await
        .unwrap_err();
    assert_eq!(code(&r), Some(ErrorCode::InvalidClaim));
    // The TLS connection's certificate is not consulted when a header is configured.
    assert!(s
        .call_as("GET", "/mcp", &headers[..1], Some(cert), "10.1.1.1")
        .await
        .is_err());

    let s = setup(json!({"require_certificate_binding": true}));
    let r = s
        .call(&[("Authorization", &format!("Bearer {}", s.token(None)))], Some(cert))
        .await
        .unwrap_err();
    assert!(r.error.unwrap().message().contains("certificate-bound"));
}

#[tokio::test]
async fn behind_a_proxy_the_public_url_is_what_proofs_sign() {
    let s = setup(json!({"public_url": "https://api.test/v1"}));
    let key = ProofKey::generate(None).unwrap();
    let token = s.token(Some(json!({"jkt": key.thumbprint()})));
    let auth = format!("DPoP {token}");
    // The proxy strips /v1 and forwards to http://10.0.0.5:8080/mcp.
    let p = key
        .proof("GET", "https://api.test/v1/mcp", Some(&token), None, s.now_ms())
        .unwrap();
    let headers = [("Authorization", auth.as_str()), ("DPoP", p.as_str())];
    assert!(s.call_as("GET", "/mcp", &headers, None, "10.0.0.1").await.is_ok());
    let p = key
        .proof("GET", "http://10.0.0.5:8080/mcp", Some(&token), None, s.now_ms())
        .unwrap();
    let headers = [("Authorization", auth.as_str()), ("DPoP", p.as_str())];
    assert!(s.call_as("GET", "/mcp", &headers, None, "10.0.0.1").await.is_err());

    let s = setup(json!({"trust_forwarded": true, "trusted_proxies": ["10.0.0.0/8"]}));
    let token = s.token(Some(json!({"jkt": key.thumbprint()})));
    let auth = format!("DPoP {token}");
    let p = key
        .proof("GET", "https://public.example/api/mcp", Some(&token), None, s.now_ms())
        .unwrap();
    let headers = [
        ("Authorization", auth.as_str()),
        ("DPoP", p.as_str()),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "public.example"),
        ("X-Forwarded-Prefix", "/api"),
    ];
    assert!(s.call_as("GET", "/mcp", &headers, None, "10.0.0.1").await.is_ok());
}

#[tokio::test]
async fn scopes_and_options() {
    let s = setup(json!({}));
    let key = ProofKey::generate(None).unwrap();
    let mut c = json!({"iss": "https://issuer.test", "aud": "https://api.test", "sub": "a", "exp": NOW + 60,
        "scope": "other", "cnf": {"jkt": key.thumbprint()}});
    let token = s.issuer_key.sign(Some("at+jwt"), &Map::new(), &c).unwrap();
    let p = key.proof("POST", URL, Some(&token), None, s.now_ms()).unwrap();
    let r = s
        .call(&[("Authorization", &format!("DPoP {token}")), ("DPoP", &p)], None)
        .await
        .unwrap_err();
    assert_eq!((r.status, code(&r)), (403, Some(ErrorCode::InsufficientScope)));
    assert!(header(&r, "WWW-Authenticate")[1].contains("error=\"insufficient_scope\""));
    c["cnf"] = json!("not an object");
    let token = s.issuer_key.sign(Some("at+jwt"), &Map::new(), &c).unwrap();
    let r = s
        .call(&[("Authorization", &format!("Bearer {token}"))], None)
        .await
        .unwrap_err();
    assert_eq!(code(&r), Some(ErrorCode::InvalidClaim));

    for bad in [
        json!({"dpop": "sometimes"}),
        json!({"dpop_algorithms": ["HS256"]}),
        json!({"dpop_nonce_key": "abc"}),
        json!({"dpop_nonce": true, "dpop_nonce_key": "c2hvcnQ"}),
        json!({"public_url": "ftp://x"}),
        json!({"trusted_proxies": ["x"]}),
        json!({"client_cert_header_format": "pem"}),
        json!({"trust_forwarded": true}),
        json!({"client_cert_header": "x-forwarded-client-cert"}),
        json!({"dpop_max_age": -1}),
        json!({"no_such_option": 1}),
    ] {
        let e = RequestPolicy::from_value(&bad).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ConfigError, "{bad}: {e}");
    }
    assert!(
        RequestPolicy::from_value(&json!({"dpopNonce": true, "publicUrl": "https://a/", "trustedProxies": "::1"}))
            .is_ok()
    );
}
