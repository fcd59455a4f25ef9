//! Proof of possession end to end in Rust: an agent on the native token client gets DPoP-bound
//! and certificate-bound tokens from the real local server (the nonce dance included) and calls
//! an API that checks requests with the core's `RequestVerifier`; a replayed proof, a stolen token
//! without the key and a DPoP token sent as Bearer are refused.
mod common;
#[path = "common/pki.rs"]
mod pki;

use authsec_core::resource::request::RequestParts;
use authsec_core::resource::request_verifier::{Refusal, RequestPolicy, RequestVerifier};
use authsec_native::*;
use authsec_server::{ClientSpec, DpopConfig};
use common::*;
use pki::*;
use serde_json::{json, Value};
use std::sync::Arc;

const API: &str = "https://api.example/mcp";

/// The API's request verifier on the server's keys (fetched once, as a JWKS document).
async fn api(ts: &TestServer, https: Option<&reqwest::Client>, audience: &str, policy: Value) -> RequestVerifier {
    let jwks: Value = match https {
        Some(c) => {
            let url = format!("{}/.well-known/jwks.json", ts.issuer());
            serde_json::from_slice(&c.get(url).send().await.unwrap().bytes().await.unwrap()).unwrap()
        }
        None => serde_json::from_slice(&ts.get("/.well-known/jwks.json").await.body).unwrap(),
    };
    let keys = Arc::new(KeySet::from_jwks_value(&jwks).unwrap());
    let cfg = VerifierConfig::new(ts.issuer(), audience);
    let verifier = Verifier::new(cfg, Arc::new(StaticKeys(keys)), Arc::new(SystemClock)).unwrap();
    RequestVerifier::new(
        Arc::new(verifier),
        RequestPolicy::from_value(&policy).unwrap(),
        Arc::new(SystemClock),
    )
}

/// A request to the API as its server saw it.
async fn call(
    api: &RequestVerifier,
    headers: &[(String, String)],
    cert: Option<&[u8]>,
    peer: &str,
) -> Result<Vec<(String, String)>, Refusal> {
    let mut all: Vec<(&str, &str)> = vec![("Host", "api.example")];
    all.extend(headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let req = RequestParts {
        method: "POST",
        target: "/mcp",
        scheme: "https",
        headers: all,
        peer: peer.parse().ok(),
        client_certificate: cert,
    };
    api.verify(&req, &ScopeRequirement::default()).await.map(|a| a.headers)
}

fn code(r: &Refusal) -> Option<ErrorCode> {
    r.error.as_ref().map(Error::code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpop_bound_tokens_with_nonces_on_both_sides() {
    let mut cfg = config(vec![ClientSpec {
        dpop_bound_access_tokens: true,
        audiences: vec!["https://api.example".into()],
        ..secret_client("agent", "agent-secret", &["read"])
    }]);
    cfg.dpop = DpopConfig {
        nonce: true,
        ..Default::default()
    };
    let ts = TestServer::start(cfg).await;
    let agent = token_client(ClientConfig {
        client_id: "agent".into(),
        client_secret: Some(Secret::new("agent-secret")),
        token_url: Some(ts.token_url()),
        dpop: true,
        ..Default::default()
    })
    .unwrap();
    // The server asks for its nonce; the client retries once with it and gets a DPoP token.
    let token = agent.get_token().await.unwrap();
    assert_eq!(token.token_type, "DPoP");
    let jkt = agent.dpop().unwrap().key().thumbprint().to_string();
    let claims = decode_jwt(token.access_token.expose()).1;
    assert_eq!(claims["cnf"], json!({"jkt": jkt}));
    // Two token requests: the first answered 400 use_dpop_nonce.
    assert!(ts.audit_text().contains("use_dpop_nonce"), "{}", ts.audit_text());

    // The API wants its own nonce too: 401 use_dpop_nonce, one retry with the same token.
    let api = api(&ts, None, "https://api.example", json!({"dpop_nonce": true})).await;
    let first = agent.authorize(&token, "POST", API).unwrap();
    let r = call(&api, &first, None, "127.0.0.1").await.unwrap_err();
    assert_eq!((r.status, code(&r)), (401, Some(ErrorCode::UseDpopNonce)));
    let answer: Vec<(&str, &str)> = r.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let tok = token.access_token.expose();
    assert_eq!(
        agent.on_resource_response(API, tok, r.status, &answer, 0),
        Unauthorized::Retry
    );
    let second = agent.authorize(&token, "POST", API).unwrap();
    assert!(call(&api, &second, None, "127.0.0.1").await.is_ok());

    // The same headers again: a replay.
    let r = call(&api, &second, None, "127.0.0.1").await.unwrap_err();
    assert_eq!(code(&r), Some(ErrorCode::InvalidDpopProof));
    // The token alone, as Bearer: refused (RFC 9449 section 7.2).
    let bearer = vec![("Authorization".to_string(), format!("Bearer {tok}"))];
    assert_eq!(
        code(&call(&api, &bearer, None, "127.0.0.1").await.unwrap_err()),
        Some(ErrorCode::InvalidClaim)
    );
    // The token with a thief's own key and proof: refused.
    let thief = authsec_core::dpop::ProofKey::generate(None).unwrap();
    let nonce = agent.dpop().unwrap().nonce_for(API);
    let stolen = vec![
        ("Authorization".to_string(), format!("DPoP {tok}")),
        (
            "DPoP".to_string(),
            thief
                .proof("POST", API, Some(tok), nonce.as_deref(), SystemClock.now_ms())
                .unwrap(),
        ),
    ];
    assert_eq!(
        code(&call(&api, &stolen, None, "127.0.0.1").await.unwrap_err()),
        Some(ErrorCode::InvalidDpopProof)
    );
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_bound_tokens_over_mutual_tls() {
    let pki = Pki::new();
    let ts = TestServer::start(pki.config()).await;
    let cert = pki.ca.client("dn-client", vec![]);
    // The agent: tls_client_auth with its certificate, trusting the test CA.
    let agent = token_client(ClientConfig {
        client_id: "dn-client".into(),
        token_url: Some(ts.server.token_endpoint()),
        auth_method: AuthMethod::TlsClientAuth,
        tls_client_cert: Some(cert.pem.clone()),
        tls_client_key: Some(Secret::new(cert.key_pem.clone())),
        tls_ca_cert: Some(pki.ca.pem.clone()),
        ..Default::default()
    })
    .unwrap();
    let token = agent.get_token().await.unwrap();
    assert_eq!(token.token_type, "Bearer");
    assert_eq!(
        decode_jwt(token.access_token.expose()).1["cnf"],
        json!({"x5t#S256": cert.x5t()})
    );
    let headers = agent.authorize(&token, "POST", API).unwrap();
    // The server's default audience (this client registers none).
    let aud = decode_jwt(token.access_token.expose()).1["aud"].clone();
    let aud = aud.as_str().or_else(|| aud[0].as_str()).unwrap().to_string();

    // The API terminates TLS itself: the connection's certificate must be the bound one.
    let https = https(&pki, None);
    let direct = api(&ts, Some(&https), &aud, json!({})).await;
    let ok = call(&direct, &headers, Some(&cert.der), "127.0.0.1").await;
    assert!(ok.is_ok(), "{:?}", ok.err().map(|r| r.error));
    let other = pki.ca.client("someone-else", vec![]);
    assert_eq!(
        code(
            &call(&direct, &headers, Some(&other.der), "127.0.0.1")
                .await
                .unwrap_err()
        ),
        Some(ErrorCode::InvalidClaim)
    );
    assert_eq!(
        code(&call(&direct, &headers, None, "127.0.0.1").await.unwrap_err()),
        Some(ErrorCode::InvalidClaim)
    );

    // Behind Envoy: the certificate in x-forwarded-client-cert (URL-encoded PEM), from the proxy only.
    let policy = json!({"client_cert_header": "x-forwarded-client-cert", "trusted_proxies": ["10.0.0.0/8"]});
    let proxied = api(&ts, Some(&https), &aud, policy).await;
    let encoded: String = cert
        .pem
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let mut with_xfcc = headers.clone();
    with_xfcc.push((
        "x-forwarded-client-cert".into(),
        format!("By=spiffe://mesh/api;Cert=\"{encoded}\";Subject=\"CN=dn-client\""),
    ));
    assert!(call(&proxied, &with_xfcc, None, "10.2.3.4").await.is_ok());
    assert_eq!(
        code(&call(&proxied, &with_xfcc, None, "192.168.9.9").await.unwrap_err()),
        Some(ErrorCode::InvalidClaim)
    );
    ts.shutdown().await;
}
