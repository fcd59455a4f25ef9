//! Signing-key rotation through `POST /admin/keys/rotate`, on a manual clock: the new key is
//! published at once, signs from `activate_in`, and the old key stays in the JWKS until every
//! token it signed has expired; a verifier holding the old JWKS picks up the new key with one
//! refetch on the unknown `kid`.
mod common;

use authsec_native::*;
use authsec_server::{ClientSpec, ServerConfig};
use common::*;
use serde_json::{json, Value};

const ADMIN: &str = "adm-keys";
const API: &str = "https://api.example.com";

fn cfg(lifetime: u64) -> ServerConfig {
    ServerConfig {
        admin_token: Some(ADMIN.into()),
        token_lifetime: lifetime,
        rate_limit: 0,
        ..config(vec![ClientSpec {
            audiences: vec![API.into()],
            token_lifetime: Some(lifetime),
            ..secret_client("svc", "svc-secret", &["read"])
        }])
    }
}

async fn rotate(ts: &TestServer, body: Value) -> Value {
    let r = ts.admin("POST", "/admin/keys/rotate", Some(ADMIN), Some(body)).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.json
}

fn status_of(keys: &Value, kid: &str) -> String {
    keys.as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .map(|k| k["status"].as_str().unwrap().to_string())
        .unwrap_or_else(|| "absent".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immediate_rotation_and_a_verifier_holding_the_old_jwks() {
    let ts = TestServer::start_with_clock(cfg(600), manual_clock()).await;
    let client = ts.client(ClientConfig {
        client_id: "svc".into(),
        client_secret: Some(Secret::new("svc-secret")),
        ..Default::default()
    });
    let verifier = ts.verifier(API);

    let old_token = client.get_token().await.unwrap();
    let k1 = kid_of(old_token.access_token.expose());
    assert_eq!(ts.jwks_kids().await, [k1.as_str()]);
    verifier.verify(old_token.access_token.expose()).await.unwrap();
    assert_eq!(
        jwks_fetches(&verifier),
        1,
        "the verifier now holds the JWKS with only the old key"
    );

    // Rotate now. The answer names the new key; the JWKS publishes both.
    let out = rotate(&ts, json!({"activate_in": 0})).await;
    let k2 = out["kid"].as_str().unwrap().to_string();
    assert_ne!(k1, k2);
    assert_eq!(out["alg"], "ES256");
    assert_eq!(out["active_from"].as_i64().unwrap(), ts.now_s());
    assert_eq!(ts.jwks_kids().await, [k1.clone(), k2.clone()]);
    assert_eq!(ts.audit_events("key_rotated").len(), 1);

    // After the unknown-kid cooldown (30 s) but well within the cached JWKS's max-age (300 s), a
    // token signed with the new key arrives: the verifier refetches once and accepts it.
    ts.advance(31);
    let new_token = ts.token("svc", "svc-secret", &[]).await;
    assert_eq!(kid_of(&new_token), k2, "the new key signs at once");
    let claims = verifier.verify(&new_token).await.expect("accepted after one refetch");
    assert_eq!(claims.client_id(), Some("svc"));
    assert_eq!(jwks_fetches(&verifier), 2, "exactly one refetch");
    // The old token still verifies (its key is still published), without another fetch.
    verifier.verify(old_token.access_token.expose()).await.unwrap();
    ts.verifier(API)
        .verify(old_token.access_token.expose())
        .await
        .expect("a fresh verifier too");
    let other = ts.token("svc", "svc-secret", &[]).await;
    verifier.verify(&other).await.unwrap();
    assert_eq!(jwks_fetches(&verifier), 2);
    // Both tokens introspect active.
    assert_eq!(
        ts.introspect("svc", "svc-secret", old_token.access_token.expose())
            .await
            .json["active"],
        true
    );
    assert_eq!(
        ts.introspect("svc", "svc-secret", &new_token).await.json["active"],
        true
    );
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_activation_publishes_first_and_switches_later() {
    let ts = TestServer::start_with_clock(cfg(600), manual_clock()).await;
    let verifier = ts.verifier(API);
    let t0 = ts.token("svc", "svc-secret", &[]).await;
    let k1 = kid_of(&t0);
    verifier.verify(&t0).await.unwrap();

    let out = rotate(&ts, json!({"activate_in": 120})).await;
    let k2 = out["kid"].as_str().unwrap().to_string();
    assert_eq!(out["active_from"].as_i64().unwrap(), ts.now_s() + 120);
    assert_eq!(status_of(&out["keys"], &k2), "published");
    assert_eq!(status_of(&out["keys"], &k1), "active");
    // Published now, but the old key still signs.
    assert_eq!(ts.jwks_kids().await, [k1.clone(), k2.clone()]);
    assert_eq!(kid_of(&ts.token("svc", "svc-secret", &[]).await), k1);
    ts.advance(119);
    assert_eq!(kid_of(&ts.token("svc", "svc-secret", &[]).await), k1);
    let keys = ts.admin("GET", "/admin/keys", Some(ADMIN), None).await.json["keys"].clone();
    assert_eq!(status_of(&keys, &k1), "active");
    assert_eq!(status_of(&keys, &k2), "published");
    ts.advance(1);
    let t1 = ts.token("svc", "svc-secret", &[]).await;
    assert_eq!(kid_of(&t1), k2, "the new key signs from active_from");
    let keys = ts.admin("GET", "/admin/keys", Some(ADMIN), None).await.json["keys"].clone();
    assert_eq!(status_of(&keys, &k1), "retired");
    assert_eq!(status_of(&keys, &k2), "active");
    // The verifier's cached JWKS (fetched before the rotation, 120 s ago) lacks k2: one refetch.
    assert_eq!(jwks_fetches(&verifier), 1);
    verifier.verify(&t1).await.expect("new kid after one refetch");
    assert_eq!(jwks_fetches(&verifier), 2);
    verifier.verify(&t0).await.expect("the old token still verifies");
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_key_stays_published_until_its_tokens_expire() {
    let lifetime = 600;
    let ts = TestServer::start_with_clock(cfg(lifetime), manual_clock()).await;
    let old = ts.token("svc", "svc-secret", &[]).await;
    let k1 = kid_of(&old);
    // The last token of the old key is issued just before the switch.
    ts.advance(100);
    let last_old = ts.token("svc", "svc-secret", &[]).await;
    assert_eq!(kid_of(&last_old), k1);
    let out = rotate(&ts, json!({"activate_in": 0})).await;
    let k2 = out["kid"].as_str().unwrap().to_string();
    let switch = ts.now_s();
    let retired = out["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == k1.as_str())
        .unwrap()
        .clone();
    assert_eq!(retired["retired_at"].as_i64(), Some(switch));
    assert!(
        retired["remove_after"].as_i64().unwrap() >= switch + lifetime as i64,
        "{retired}"
    );

    // Just before `last_old` expires: k1 published, the token verifies and introspects active.
    ts.advance(lifetime - 1);
    assert_eq!(ts.jwks_kids().await, [k1.clone(), k2.clone()]);
    ts.verifier(API).verify(&last_old).await.expect("valid until its exp");
    assert_eq!(ts.introspect("svc", "svc-secret", &last_old).await.json["active"], true);
    // It expires; k1 stays (a minute of leeway) and then leaves the JWKS.
    ts.advance(1);
    assert_eq!(
        ts.introspect("svc", "svc-secret", &last_old).await.json["active"],
        false
    );
    ts.advance(59);
    assert_eq!(ts.jwks_kids().await, [k1.clone(), k2.clone()]);
    assert_eq!(
        ts.verifier(API).verify(&last_old).await.unwrap_err().code(),
        ErrorCode::TokenExpired
    );
    ts.advance(1);
    assert_eq!(
        ts.jwks_kids().await,
        [k2.as_str()],
        "k1 removed once every token it signed has expired"
    );
    let keys = ts.admin("GET", "/admin/keys", Some(ADMIN), None).await.json["keys"].clone();
    assert_eq!(status_of(&keys, &k1), "absent");
    // New tokens keep working.
    let fresh = ts.token("svc", "svc-secret", &[]).await;
    ts.verifier(API).verify(&fresh).await.unwrap();
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_to_another_alg_and_bad_rotation_requests() {
    let ts = TestServer::start_with_clock(cfg(300), manual_clock()).await;
    let verifier = ts.verifier(API);
    let t_es = ts.token("svc", "svc-secret", &[]).await;
    verifier.verify(&t_es).await.unwrap();
    for (alg, kty) in [("EdDSA", "OKP"), ("RS256", "RSA"), ("ES256", "EC")] {
        let out = rotate(&ts, json!({"alg": alg, "activate_in": 0})).await;
        assert_eq!(out["alg"], alg);
        let jwks = ts.get("/.well-known/jwks.json").await.json;
        let new = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == out["kid"])
            .expect("published")
            .clone();
        assert_eq!(new["kty"], kty);
        ts.advance(31);
        let t = ts.token("svc", "svc-secret", &[]).await;
        assert_eq!(decode_jwt(&t).0["alg"], alg);
        verifier.verify(&t).await.unwrap_or_else(|e| panic!("{alg}: {e}"));
    }
    verifier.verify(&t_es).await.expect("the first key is still published");
    for body in [json!({"alg": "HS256"}), json!({"alg": "none"}), json!({"alg": "ES384"})] {
        ts.admin("POST", "/admin/keys/rotate", Some(ADMIN), Some(body))
            .await
            .assert_oauth_error(400, "invalid_request");
    }
    let r = raw_request(
        ts.addr(),
        "POST",
        "/admin/keys/rotate",
        &[("Authorization".into(), format!("Bearer {ADMIN}"))],
        b"[1,",
    )
    .await;
    r.assert_oauth_error(400, "invalid_request");
    assert_eq!(ts.audit_events("key_rotated").len(), 3);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_a_rotated_key_is_published_first_and_signs_after_the_jwks_max_age() {
    let ts = TestServer::start_with_clock(cfg(300), manual_clock()).await;
    let t1 = ts.token("svc", "svc-secret", &[]).await;
    let k1 = decode_jwt(&t1).0["kid"].as_str().unwrap().to_string();
    let out = rotate(&ts, json!({})).await;
    let k2 = out["kid"].as_str().unwrap().to_string();
    // The server's JWKS max-age is 300 s by default.
    assert_eq!(out["active_from"].as_i64().unwrap(), ts.now_s() + 300);
    assert_eq!(ts.jwks_kids().await, [k1.clone(), k2.clone()], "published at once");
    assert_eq!(
        decode_jwt(&ts.token("svc", "svc-secret", &[]).await).0["kid"],
        k1.as_str(),
        "the old key still signs"
    );
    ts.advance(300);
    assert_eq!(
        decode_jwt(&ts.token("svc", "svc-secret", &[]).await).0["kid"],
        k2.as_str(),
        "the new key signs after max-age"
    );
    ts.shutdown().await;
}
