//! The local server and a native token client beside a (fake) SPIRE agent: the server trusts the
//! JWT bundles the Workload API streams (`spiffe.workload_api`) and follows a key rotation without
//! a restart; a `spiffe_x509` client presents its X.509-SVID as the TLS client certificate and,
//! after a rotation, the next token is bound to the new certificate.
#![cfg(unix)]
mod common;
#[path = "common/pki.rs"]
mod pki;

use authsec_native::workload_api::fake::FakeWorkloadApi;
use authsec_native::{block_on, token_client, ClientConfig, ProcessEnv};
use authsec_server::ClientSpec;
use common::*;
use pki::*;
use serde_json::json;
use std::time::{Duration, Instant};

fn agent(dir: &TempDir) -> FakeWorkloadApi {
    FakeWorkloadApi::start(dir.path("agent.sock")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_trusts_the_workload_api_bundles_and_follows_a_rotation() {
    let dir = TempDir::new("spiffe-wl");
    let agent = agent(&dir);
    let mut cfg = config(vec![ClientSpec {
        client_id: Some("ml-agent".into()),
        spiffe_id: Some("spiffe://example.org/*".into()),
        allowed_scopes: vec!["read:data".into()],
        ..Default::default()
    }]);
    cfg.spiffe = Some(serde_json::from_value(json!({"workload_api": agent.endpoint()})).unwrap());
    let ts = TestServer::start(cfg).await;
    let client_cfg = |ts: &TestServer| {
        ClientConfig::from_value(
            &json!({"auth_method": "spiffe_jwt", "issuer": ts.issuer(), "token_url": ts.token_url(),
                "spiffe_endpoint_socket": agent.endpoint(), "scopes": "read:data", "max_attempts": 1}),
            ProcessEnv,
        )
        .unwrap()
    };
    let c = token_client(client_cfg(&ts)).unwrap();
    let t = tokio::task::spawn_blocking(move || block_on(c.get_token()))
        .await
        .unwrap()
        .unwrap();
    let (_, payload) = decode_jwt(t.access_token.expose());
    assert_eq!(payload["client_id"], "ml-agent");
    let aud = payload["aud"].as_str().unwrap_or(ts.issuer()).to_string();
    let claims = ts.verifier(&aud).verify(t.access_token.expose()).await.unwrap();
    assert_eq!(claims.subject(), Some("ml-agent"));

    // The agent rotates its JWT key; a new client's SVID carries the new kid, and the server,
    // which never restarted, accepts it once the Workload API pushed the new bundle.
    agent.rotate_jwt_key().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let c = token_client(client_cfg(&ts)).unwrap();
        match tokio::task::spawn_blocking(move || block_on(c.get_token()))
            .await
            .unwrap()
        {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                assert_eq!(e.code(), authsec_native::ErrorCode::InvalidClient, "{e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the server never learnt the rotated key: {e}"),
        }
    }
    ts.shutdown().await;
}

fn sha256_b64url(der: &[u8]) -> String {
    use sha2::Digest;
    authsec_native::util::b64url_encode(&sha2::Sha256::digest(der))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spiffe_x509_client_presents_its_svid_and_rotates_it_without_a_restart() {
    let dir = TempDir::new("spiffe-x509");
    let agent = agent(&dir);
    let pki = Pki::new();
    let ca_pem = authsec_native::core::jose::signing::pem_armor("CERTIFICATE", &agent.ca_der());
    std::fs::write(dir.path("spiffe-ca.pem"), &ca_pem).unwrap();
    let id = agent.spiffe_id();
    let mut cfg = config(vec![ClientSpec {
        client_id: Some(id.clone()),
        token_endpoint_auth_method: Some("tls_client_auth".into()),
        tls_client_auth_san_uri: Some(id.clone()),
        tls_client_certificate_bound_access_tokens: true,
        allowed_scopes: vec!["read".into(), "write".into()],
        ..Default::default()
    }]);
    let mut tls = pki.tls(false);
    tls.client_ca_file = Some(dir.path("spiffe-ca.pem"));
    cfg.tls = Some(tls);
    let ts = TestServer::start(cfg).await;
    let client_cfg = ClientConfig::from_value(
        &json!({"auth_method": "spiffe_x509", "token_url": ts.server.token_endpoint(),
            "spiffe_endpoint_socket": agent.endpoint(), "tls_ca_cert": pki.ca.pem, "max_attempts": 1}),
        ProcessEnv,
    )
    .unwrap();
    let c = tokio::task::spawn_blocking(move || token_client(client_cfg))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.config().client_id, id, "the SPIFFE ID is the client id");
    let leaf = |agent: &FakeWorkloadApi| {
        let api = authsec_native::spiffe::workload_api(Some(&agent.endpoint())).unwrap();
        block_on(api.fetch_x509_context()).unwrap().svids[0].cert_chain_der[0].clone()
    };
    let first_leaf = leaf(&agent);
    let c1 = c.clone();
    let t = tokio::task::spawn_blocking(move || block_on(c1.get_token()))
        .await
        .unwrap()
        .unwrap();
    let (_, payload) = decode_jwt(t.access_token.expose());
    assert_eq!(payload["cnf"]["x5t#S256"], sha256_b64url(&first_leaf));

    agent.rotate_x509().unwrap();
    let second_leaf = leaf(&agent);
    assert_ne!(first_leaf, second_leaf);
    // The cached token is dropped, so the next one is a new request: over a connection that
    // presents the new SVID once the watch rebuilt the transport.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        c.invalidate();
        let c2 = c.clone();
        let t = tokio::task::spawn_blocking(move || block_on(c2.get_token()))
            .await
            .unwrap();
        let bound = t
            .ok()
            .map(|t| decode_jwt(t.access_token.expose()).1["cnf"]["x5t#S256"].clone());
        if bound == Some(json!(sha256_b64url(&second_leaf))) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the client never presented the rotated SVID (last: {bound:?})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ts.shutdown().await;
}
