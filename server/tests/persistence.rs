//! Restart persistence: with `database`, API-created clients, rotated secrets, revocations,
//! used assertion ids and signing keys (with their rotation schedule) survive a restart; without
//! it everything is in memory.
mod common;

use authsec_native::*;
use authsec_server::{ClientSpec, ServerConfig};
use common::*;
use serde_json::json;

const ADMIN: &str = "adm-persist";
/// A fixed issuer, so that tokens from before a restart (on another port) keep their `iss`.
const ISSUER: &str = "https://auth.persist.test";
const API: &str = "https://api.example.com";

fn cfg(database: Option<String>, key: &SigningKey) -> ServerConfig {
    ServerConfig {
        issuer: Some(ISSUER.into()),
        database,
        admin_token: Some(ADMIN.into()),
        token_lifetime: 600,
        ..config(vec![
            ClientSpec {
                audiences: vec![API.into()],
                ..secret_client("from-config", "config-secret", &["read"])
            },
            ClientSpec {
                client_id: Some("keyed".into()),
                jwks: Some(jwks_of(key)),
                audiences: vec![API.into()],
                ..Default::default()
            },
        ])
    }
}

fn verifier(ts: &TestServer) -> Verifier {
    let mut vc = VerifierConfig::new(ISSUER, API);
    vc.verified_cache_size = 0;
    ts.verifier_with(vc, JwksPolicy::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_secrets_revocations_and_keys_survive_a_restart() {
    let dir = TempDir::new("restart");
    let db = dir.path("authsec.db");
    let key = SigningKey::generate(Alg::ES256, None).unwrap();
    let clock = manual_clock();

    // ---- first run
    let ts = TestServer::start_with_clock(cfg(Some(db.clone()), &key), clock.clone()).await;
    assert_eq!(ts.issuer(), ISSUER);
    let r = ts
        .admin(
            "POST",
            "/admin/clients",
            Some(ADMIN),
            Some(json!({"client_id": "api-made", "allowed_scopes": ["x", "y"], "audiences": [API], "rate_limit": 100})),
        )
        .await;
    assert_eq!(r.status, 201);
    let s1 = r.json["client_secret"].as_str().unwrap().to_string();
    let r = ts
        .admin(
            "POST",
            "/admin/clients",
            Some(ADMIN),
            Some(json!({"client_id": "to-delete"})),
        )
        .await;
    let del_secret = r.json["client_secret"].as_str().unwrap().to_string();
    assert_eq!(
        ts.admin("DELETE", "/admin/clients/to-delete", Some(ADMIN), None)
            .await
            .status,
        204
    );
    // Rotate api-made's secret twice: s1 now dead, s2 in its grace period, s3 current.
    let s2 = ts
        .admin(
            "POST",
            "/admin/clients/api-made/secrets",
            Some(ADMIN),
            Some(json!({"overlap": 0})),
        )
        .await
        .json["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    let s3 = ts
        .admin(
            "POST",
            "/admin/clients/api-made/secrets",
            Some(ADMIN),
            Some(json!({"keep_old_for": 300})),
        )
        .await
        .json["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    // Tokens signed by the first key; one revoked.
    let kept = ts.token("api-made", &s3, &[("scope", "x")]).await;
    let revoked = ts.token("from-config", "config-secret", &[]).await;
    assert_eq!(ts.revoke("from-config", "config-secret", &revoked).await.status, 200);
    let k1 = kid_of(&kept);
    // A used client assertion.
    let assertion = authsec_core::client::client_auth::client_assertion(
        &key,
        "keyed",
        &format!("{ISSUER}/oauth/token"),
        clock.now_ms(),
    )
    .unwrap();
    let pkj = |ts: &TestServer, a: String| {
        let url = ts.token_url();
        async move {
            send(authsec_native::http::HttpRequest {
                method: authsec_native::http::Method::Post,
                url,
                headers: vec![("content-type".into(), "application/x-www-form-urlencoded".into())],
                body: form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", "keyed"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &a),
                ])
                .into_bytes(),
            })
            .await
        }
    };
    assert_eq!(pkj(&ts, assertion.clone()).await.status, 200);
    // Rotate the signing key with a delayed switch, then one token with the current key.
    let rot = ts
        .admin(
            "POST",
            "/admin/keys/rotate",
            Some(ADMIN),
            Some(json!({"activate_in": 60})),
        )
        .await;
    let k2 = rot.json["kid"].as_str().unwrap().to_string();
    assert_eq!(kid_of(&ts.token("from-config", "config-secret", &[]).await), k1);
    let jwks_before = ts.get("/.well-known/jwks.json").await.json;
    let keys_before = ts.admin("GET", "/admin/keys", Some(ADMIN), None).await.json;
    ts.shutdown().await;

    // ---- second run: same database, new port
    clock.advance(std::time::Duration::from_secs(10));
    let ts = TestServer::start_with_clock(cfg(Some(db.clone()), &key), clock.clone()).await;
    assert_eq!(
        ts.get("/.well-known/jwks.json").await.json,
        jwks_before,
        "the same keys are published"
    );
    assert_eq!(
        ts.admin("GET", "/admin/keys", Some(ADMIN), None).await.json,
        keys_before,
        "with the same schedule"
    );
    // Tokens from before the restart verify against the new process's JWKS.
    let v = verifier(&ts);
    let claims = v
        .verify(&kept)
        .await
        .expect("a pre-restart token verifies after the restart");
    assert_eq!(claims.client_id(), Some("api-made"));
    v.verify(&revoked)
        .await
        .expect("revoked, but the signature is still valid");
    // Revocation survived; the other token is still active.
    assert_eq!(
        ts.introspect("from-config", "config-secret", &revoked).await.json,
        json!({"active": false})
    );
    let r = ts.introspect("from-config", "config-secret", &kept).await;
    assert_eq!(r.json["active"], true, "{r:?}");
    assert_eq!(r.json["scope"], "x");
    // The API-made client with its rotated secrets: s1 dead, s2 in grace, s3 current.
    ts.token_request(Some(("api-made", &s1)), &[("grant_type", "client_credentials")])
        .await
        .assert_oauth_error(401, "invalid_client");
    ts.token("api-made", &s2, &[]).await;
    ts.token("api-made", &s3, &[]).await;
    let view = ts.admin("GET", "/admin/clients/api-made", Some(ADMIN), None).await;
    assert_eq!(view.json["allowed_scopes"], json!(["x", "y"]));
    assert_eq!(view.json["rate_limit"], 100);
    // The deleted client stays deleted.
    ts.token_request(
        Some(("to-delete", &del_secret)),
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_oauth_error(401, "invalid_client");
    ts.admin("GET", "/admin/clients/to-delete", Some(ADMIN), None)
        .await
        .assert_oauth_error(404, "not_found");
    // The used assertion is still a replay.
    let r = pkj(&ts, assertion.clone()).await;
    r.assert_oauth_error(401, "invalid_client");
    assert!(r.description().contains("replay"), "{r:?}");
    // The key schedule carries on: k1 signs until the switch, then k2.
    assert_eq!(kid_of(&ts.token("from-config", "config-secret", &[]).await), k1);
    clock.advance(std::time::Duration::from_secs(50));
    let after = ts.token("from-config", "config-secret", &[]).await;
    assert_eq!(kid_of(&after), k2);
    v.verify(&after).await.unwrap();
    // The grace period of s2 runs out on time across the restart.
    clock.advance(std::time::Duration::from_secs(240));
    ts.token_request(Some(("api-made", &s2)), &[("grant_type", "client_credentials")])
        .await
        .assert_oauth_error(401, "invalid_client");
    ts.token("api-made", &s3, &[]).await;
    // The config client is still there (merged from the config on every start).
    ts.token("from-config", "config-secret", &[]).await;
    ts.shutdown().await;

    // ---- third run: the configured secret changed → the config wins for that client.
    let mut changed = cfg(Some(db.clone()), &key);
    changed.clients[0].client_secret = Some("config-secret-v2".into());
    let ts = TestServer::start_with_clock(changed, clock.clone()).await;
    ts.token_request(
        Some(("from-config", "config-secret")),
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_oauth_error(401, "invalid_client");
    ts.token("from-config", "config-secret-v2", &[]).await;
    ts.token("api-made", &s3, &[]).await;
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_database_everything_is_in_memory() {
    let key = SigningKey::generate(Alg::ES256, None).unwrap();
    let ts = TestServer::start(cfg(None, &key)).await;
    let r = ts
        .admin(
            "POST",
            "/admin/clients",
            Some(ADMIN),
            Some(json!({"client_id": "ephemeral"})),
        )
        .await;
    let secret = r.json["client_secret"].as_str().unwrap().to_string();
    let t = ts.token("ephemeral", &secret, &[]).await;
    let k1 = kid_of(&t);
    ts.shutdown().await;

    let ts = TestServer::start(cfg(None, &key)).await;
    ts.token_request(Some(("ephemeral", &secret)), &[("grant_type", "client_credentials")])
        .await
        .assert_oauth_error(401, "invalid_client");
    let kids = ts.jwks_kids().await;
    assert_eq!(kids.len(), 1);
    assert_ne!(kids[0], k1, "a new signing key");
    assert_eq!(
        verifier(&ts).verify(&t).await.unwrap_err().code(),
        ErrorCode::KeyNotFound
    );
    ts.token("from-config", "config-secret", &[]).await;
    // ":memory:" is in-memory too, and leaves no file behind.
    let ts2 = TestServer::start(cfg(Some(":memory:".into()), &key)).await;
    ts2.token("from-config", "config-secret", &[]).await;
    assert!(!std::path::Path::new(":memory:").exists());
    ts2.shutdown().await;
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_signing_alg_with_a_persisted_database_rotates_to_it() {
    let dir = TempDir::new("alg-change");
    let db = dir.path("authsec.db");
    let key = SigningKey::generate(Alg::ES256, None).unwrap();
    let mut cfg = cfg(Some(db), &key);
    let ts = TestServer::start(cfg.clone()).await;
    let t1 = ts.token("from-config", "config-secret", &[]).await;
    assert_eq!(decode_jwt(&t1).0["alg"], "ES256");
    ts.shutdown().await;
    cfg.signing_alg = "EdDSA".into();
    let ts = TestServer::start(cfg).await;
    let t2 = ts.token("from-config", "config-secret", &[]).await;
    assert_eq!(
        decode_jwt(&t2).0["alg"],
        "EdDSA",
        "the configured alg signs after the restart"
    );
    let meta = ts.get("/.well-known/oauth-authorization-server").await.json;
    assert_eq!(
        meta["access_token_signing_alg_values_supported"],
        json!(["ES256", "EdDSA"]),
        "both keys are published"
    );
    ts.shutdown().await;
}
