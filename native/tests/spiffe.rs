//! SPIFFE through the native layer against the fake Workload API over a Unix socket: a token
//! client with `auth_method: spiffe_jwt` sends the Workload API's JWT-SVIDs as client assertions
//! (to a test token endpoint that verifies them with the Workload API's bundle), and a JWT-SVID
//! verifier on the Workload API's bundles follows a key rotation without a restart. Every wait is
//! bounded.
#![cfg(unix)]

mod support;

use authsec_native::core::spiffe::{verify_jwt_svid, BundleSet, JwtSvidPolicy, JwtSvidSource};
use authsec_native::spiffe::{jwt_svid_verifier, workload_api, WorkloadSvidSource};
use authsec_native::workload_api::fake::FakeWorkloadApi;
use authsec_native::{block_on, token_client, ClientConfig, ErrorCode, ProcessEnv};
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{Reply, TestServer};

const AUD: &str = "https://auth.test";

struct Dir(PathBuf);
impl Dir {
    fn new() -> Dir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "assp-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fake(dir: &Dir) -> FakeWorkloadApi {
    FakeWorkloadApi::start(dir.0.join("agent.sock")).unwrap()
}

#[test]
fn a_verifier_on_the_workload_api_bundles_follows_a_rotation() {
    let dir = Dir::new();
    let agent = fake(&dir);
    let options = json!({"audience": AUD, "workload_api": agent.endpoint(), "allowed_ids": ["spiffe://example.org/*"]});
    let verifier = block_on(jwt_svid_verifier(&options, &ProcessEnv, None)).unwrap();
    let source = WorkloadSvidSource(workload_api(Some(&agent.endpoint())).unwrap());
    let first = block_on(source.fetch_jwt_svid(AUD, None)).unwrap();
    assert_eq!(first.spiffe_id.as_str(), agent.spiffe_id());
    let svid = block_on(verifier.verify(first.token.expose())).unwrap();
    assert_eq!(svid.spiffe_id.as_str(), agent.spiffe_id());
    assert_eq!(svid.audience, [AUD]);

    // A new signing key: the next SVID carries its kid, and the watched bundle learns it.
    let old_kid = agent.jwt_kid();
    agent.rotate_jwt_key().unwrap();
    assert_ne!(agent.jwt_kid(), old_kid);
    let second = block_on(source.fetch_jwt_svid(AUD, None)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let verified = loop {
        match block_on(verifier.verify(second.token.expose())) {
            Ok(v) => break v,
            Err(e) if e.code() == ErrorCode::KeyNotFound && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(e) => panic!("the rotated key never reached the verifier: {e}"),
        }
    };
    assert_eq!(verified.kid.as_deref(), Some(agent.jwt_kid().as_str()));
    // The old SVID still verifies: the bundle keeps the old key during the rotation.
    block_on(verifier.verify(first.token.expose())).unwrap();

    // Another audience, and an ID the verifier does not allow.
    let other = block_on(source.fetch_jwt_svid("https://elsewhere.test", None)).unwrap();
    assert_eq!(
        block_on(verifier.verify(other.token.expose())).unwrap_err().code(),
        ErrorCode::InvalidAudience
    );
    agent.set_spiffe_id("spiffe://example.org/agents/ml-training").unwrap();
    let strict =
        json!({"audience": AUD, "workload_api": agent.endpoint(), "allowed_ids": ["spiffe://example.org/billing/*"]});
    let strict = block_on(jwt_svid_verifier(&strict, &ProcessEnv, None)).unwrap();
    let agent_svid = block_on(source.fetch_jwt_svid(AUD, None)).unwrap();
    assert_eq!(agent_svid.spiffe_id.as_str(), "spiffe://example.org/agents/ml-training");
    assert_eq!(
        block_on(strict.verify(agent_svid.token.expose())).unwrap_err().code(),
        ErrorCode::SpiffeIdNotAllowed
    );
}

#[test]
fn a_spiffe_jwt_token_client_sends_workload_api_svids_and_no_secret() {
    let dir = Dir::new();
    let agent = fake(&dir);
    let bundle = agent.jwt_bundle_json();
    let td = agent.trust_domain().to_string();
    // The token endpoint checks each assertion as an authorization server would: a JWT-SVID for
    // its issuer alone, by the trust domain's bundle.
    let server = TestServer::start(move |req, n| {
        let form = req.form();
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let set = BundleSet::from_documents([(td.as_str(), bundle.as_bytes())]).unwrap();
        let mut policy = JwtSvidPolicy::new(vec![AUD.to_string()]);
        policy.sole_audience = true;
        let ok = get("client_assertion_type").as_deref()
            == Some("urn:ietf:params:oauth:client-assertion-type:jwt-spiffe")
            && get("client_secret").is_none()
            && get("client_assertion").is_some_and(|a| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis() as i64;
                verify_jwt_svid(&a, &set, &policy, now).is_ok_and(|s| Some(s.spiffe_id.to_string()) == get("client_id"))
            });
        if ok {
            Reply::token(&format!("tok-{n}"), 3600)
        } else {
            Reply::json(401, &json!({"error": "invalid_client"}))
        }
    });
    let cfg = ClientConfig::from_value(
        &json!({
            "auth_method": "spiffe_jwt",
            "token_url": server.url("/oauth/token"),
            "issuer": AUD,
            "spiffe_endpoint_socket": agent.endpoint(),
            "scopes": "read:data",
        }),
        ProcessEnv,
    )
    .unwrap();
    let client = token_client(cfg).unwrap();
    let token = block_on(client.get_token()).unwrap();
    assert_eq!(token.access_token.expose(), "tok-0");
    assert!(agent.calls() >= 1);

    // No agent: the error says so, and is retryable.
    agent.stop();
    let cfg = ClientConfig::from_value(
        &json!({"auth_method": "spiffe_jwt", "token_url": server.url("/oauth/token"), "issuer": AUD,
            "spiffe_endpoint_socket": format!("unix://{}", dir.0.join("nobody.sock").display()), "max_attempts": 1}),
        ProcessEnv,
    )
    .unwrap();
    let e = block_on(token_client(cfg).unwrap().get_token()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::WorkloadApiUnavailable, "{e}");
    assert!(e.is_retryable());
}
