//! Against a real SPIRE server and agent (tests/spire/run.sh starts them and sets
//! AUTHSEC_SPIRE_DIR, SPIFFE_ENDPOINT_SOCKET, AUTHSEC_SPIRE_SPIFFE_ID, AUTHSEC_SPIRE_BUNDLE_FILE):
//! fetch JWT-SVIDs and the X.509-SVID, verify SVIDs with the Workload API's bundles and with the
//! bundle file, get tokens from the local server with no secret (the JWT-SVID as client assertion,
//! and the X.509-SVID as the TLS client certificate), verify them as a protected API would, then
//! rotate SPIRE's JWT signing key and keep working. Skipped without SPIRE; failing when
//! AUTHSEC_REQUIRE_SPIRE=1 says SPIRE must be there.
#![cfg(unix)]
mod common;
#[path = "common/pki.rs"]
mod pki;

use authsec_native::core::spiffe::JwtSvidSource;
use authsec_native::spiffe::{jwt_svid_verifier, workload_api, WorkloadSvidSource};
use authsec_native::{block_on, token_client, ClientConfig, ErrorCode, ProcessEnv};
use authsec_server::ClientSpec;
use common::*;
use pki::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// SPIRE's environment, or `None` (skip) when the test runs without it.
fn spire() -> Option<(String, String)> {
    match (
        std::env::var("AUTHSEC_SPIRE_DIR"),
        std::env::var("AUTHSEC_SPIRE_SPIFFE_ID"),
    ) {
        (Ok(_), Ok(id)) => Some((
            id,
            std::env::var("AUTHSEC_SPIRE_BUNDLE_FILE").expect("AUTHSEC_SPIRE_BUNDLE_FILE"),
        )),
        _ => {
            assert!(
                std::env::var("AUTHSEC_REQUIRE_SPIRE").as_deref() != Ok("1"),
                "AUTHSEC_REQUIRE_SPIRE=1 but no SPIRE: run under tests/spire/run.sh"
            );
            eprintln!("skipped: no SPIRE (run under tests/spire/run.sh)");
            None
        }
    }
}

fn ctl(op: &str) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/spire/ctl.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .arg(op)
        .output()
        .expect("run ctl.sh");
    assert!(
        out.status.success(),
        "ctl.sh {op}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn kid(token: &str) -> String {
    decode_jwt(token).0["kid"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spire_jwt_svids_verified_exchanged_for_tokens_and_rotated() {
    let Some((id, bundle_file)) = spire() else { return };
    let api = workload_api(None).unwrap();
    let source = WorkloadSvidSource(api.clone());

    // Fetch and verify, with the Workload API's bundles and with the bundle file.
    let svid = block_on(source.fetch_jwt_svid("https://spire.test/api", None)).unwrap();
    assert_eq!(svid.spiffe_id.as_str(), id);
    let watched = block_on(jwt_svid_verifier(
        &json!({"audience": "https://spire.test/api", "workload_api": true, "allowed_ids": ["spiffe://example.org/agents/*"]}),
        &ProcessEnv,
        None,
    ))
    .unwrap();
    assert_eq!(
        block_on(watched.verify(svid.token.expose()))
            .unwrap()
            .spiffe_id
            .as_str(),
        id
    );
    let from_file = block_on(jwt_svid_verifier(
        &json!({"audience": "https://spire.test/api", "trust_domains": {"example.org": {"bundle_file": bundle_file}}}),
        &ProcessEnv,
        None,
    ))
    .unwrap();
    assert_eq!(
        block_on(from_file.verify(svid.token.expose()))
            .unwrap()
            .spiffe_id
            .as_str(),
        id
    );

    // The local server beside the agent: a client for the agents' path, no secret anywhere.
    let mut cfg = config(vec![ClientSpec {
        client_id: Some("ml-training".into()),
        spiffe_id: Some("spiffe://example.org/agents/*".into()),
        allowed_scopes: vec!["read:data".into()],
        ..Default::default()
    }]);
    cfg.spiffe = Some(serde_json::from_value(json!({"workload_api": true})).unwrap());
    let ts = TestServer::start(cfg).await;
    let new_client = |ts: &TestServer| {
        let cfg = ClientConfig::from_value(
            &json!({"auth_method": "spiffe_jwt", "issuer": ts.issuer(), "token_url": ts.token_url(), "scopes": "read:data", "max_attempts": 1}),
            ProcessEnv,
        )
        .unwrap();
        token_client(cfg).unwrap()
    };
    let get = |c: authsec_native::TokenClient| tokio::task::spawn_blocking(move || block_on(c.get_token()));
    let token = get(new_client(&ts)).await.unwrap().unwrap();
    let api_verifier = ts.verifier(ts.issuer());
    let claims = api_verifier.verify(token.access_token.expose()).await.unwrap();
    assert_eq!(claims.subject(), Some("ml-training"));
    let audit = ts.audit_text();
    assert!(audit.contains("spiffe_jwt") && audit.contains(&id), "{audit}");

    // Rotate SPIRE's JWT key, and taint the old one so that the agent re-signs its cached SVIDs.
    let before = kid(block_on(source.fetch_jwt_svid(ts.issuer(), None))
        .unwrap()
        .token
        .expose());
    let new_kid = ctl("rotate");
    ctl("taint");
    let after = block_on(source.fetch_jwt_svid(ts.issuer(), None)).unwrap();
    assert_ne!(kid(after.token.expose()), before);
    assert!(new_kid.contains(&kid(after.token.expose())), "ctl said {new_kid}");
    // The verifier on the watched bundles and the server, neither restarted, keep working.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match block_on(
            watched.verify(
                block_on(source.fetch_jwt_svid("https://spire.test/api", None))
                    .unwrap()
                    .token
                    .expose(),
            ),
        ) {
            Ok(_) => break,
            Err(e) if e.code() == ErrorCode::KeyNotFound && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("the rotated key never reached the verifier: {e}"),
        }
    }
    let token = get(new_client(&ts)).await.unwrap().unwrap();
    api_verifier.verify(token.access_token.expose()).await.unwrap();
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spire_x509_svid_is_the_mtls_client_certificate() {
    let Some((id, _)) = spire() else { return };
    let api = workload_api(None).unwrap();
    let ctx = block_on(api.fetch_x509_context()).unwrap();
    let svid = &ctx.svids[0];
    assert_eq!(svid.spiffe_id, id);
    let pki = Pki::new();
    let dir = TempDir::new("spire-x509");
    std::fs::write(dir.path("spire-bundle.pem"), svid.bundle_pem()).unwrap();
    let mut cfg = config(vec![ClientSpec {
        client_id: Some(id.clone()),
        token_endpoint_auth_method: Some("tls_client_auth".into()),
        tls_client_auth_san_uri: Some(id.clone()),
        tls_client_certificate_bound_access_tokens: true,
        allowed_scopes: vec!["read".into()],
        ..Default::default()
    }]);
    let mut tls = pki.tls(false);
    tls.client_ca_file = Some(dir.path("spire-bundle.pem"));
    cfg.tls = Some(tls);
    let ts = TestServer::start(cfg).await;
    let client_cfg = ClientConfig::from_value(
        &json!({"auth_method": "spiffe_x509", "token_url": ts.server.token_endpoint(), "tls_ca_cert": pki.ca.pem, "max_attempts": 1}),
        ProcessEnv,
    )
    .unwrap();
    let c = tokio::task::spawn_blocking(move || token_client(client_cfg))
        .await
        .unwrap()
        .unwrap();
    let t = tokio::task::spawn_blocking(move || block_on(c.get_token()))
        .await
        .unwrap()
        .unwrap();
    let (_, payload) = decode_jwt(t.access_token.expose());
    use sha2::Digest;
    let leaf = &svid.cert_chain_der[0];
    assert_eq!(
        payload["cnf"]["x5t#S256"],
        authsec_native::util::b64url_encode(&sha2::Sha256::digest(leaf))
    );
    assert_eq!(payload["client_id"], id.as_str());
    ts.shutdown().await;
}
