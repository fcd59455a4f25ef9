//! Secret rotation with an overlap (the old and new secrets both work until the overlap ends),
//! revoking one secret or every old one, the 409 on revoking the last usable secret, the secret
//! id in the audit events, and a rotation under load that loses no request.
mod common;

use authsec_server::ServerConfig;
use common::*;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ADMIN: &str = "bootstrap-0123456789";

fn admin_config() -> ServerConfig {
    ServerConfig {
        admin_token: Some(ADMIN.into()),
        ..config(vec![])
    }
}

/// Create client `id`; its generated secret and the secret's id.
async fn create(ts: &TestServer, id: &str) -> (String, String) {
    let r = ts
        .admin("POST", "/admin/clients", Some(ADMIN), Some(json!({"client_id": id})))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let sid = r.json["secret_id"].as_str().unwrap().to_string();
    assert_eq!(r.json["secrets"][0]["id"], sid.as_str());
    (r.json["client_secret"].as_str().unwrap().to_string(), sid)
}

/// Rotate; the answer.
async fn rotate(ts: &TestServer, id: &str, body: Option<Value>) -> Resp {
    let r = ts
        .admin("POST", &format!("/admin/clients/{id}/secrets"), Some(ADMIN), body)
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    r
}

async fn refused(ts: &TestServer, id: &str, secret: &str) {
    ts.token_request(Some((id, secret)), &[("grant_type", "client_credentials")])
        .await
        .assert_oauth_error(401, "invalid_client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_secrets_work_during_the_overlap_then_only_the_new_one() {
    let ts = TestServer::start_with_clock(admin_config(), manual_clock()).await;
    let (s1, sid1) = create(&ts, "rot").await;
    assert!(sid1.starts_with("sid_") && sid1.len() == 16, "{sid1}");
    // The default overlap is a day.
    let r = rotate(&ts, "rot", None).await;
    let s2 = r.json["client_secret"].as_str().unwrap().to_string();
    let sid2 = r.json["secret_id"].as_str().unwrap().to_string();
    assert_ne!(sid1, sid2);
    let expire = ts.now_s() + 86_400;
    assert_eq!(r.json["old_secrets_expire_at"], expire);
    assert_eq!(
        r.json["secrets"],
        json!([
            {"id": sid1, "created_at": expire - 86_400, "expires_at": expire, "last_used_at": null},
            {"id": sid2, "created_at": expire - 86_400, "expires_at": null, "last_used_at": null},
        ])
    );
    ts.token("rot", &s1, &[]).await;
    ts.token("rot", &s2, &[]).await;
    ts.advance(86_399);
    ts.token("rot", &s1, &[]).await;
    ts.advance(1);
    refused(&ts, "rot", &s1).await;
    ts.token("rot", &s2, &[]).await;
    // An explicit overlap, and its old name; out of range is refused.
    let r = rotate(&ts, "rot", Some(json!({"overlap": 30}))).await;
    let s3 = r.json["client_secret"].as_str().unwrap().to_string();
    assert_eq!(
        r.json["secrets"].as_array().unwrap().len(),
        2,
        "the expired secret is dropped: {r:?}"
    );
    ts.advance(29);
    ts.token("rot", &s2, &[]).await;
    ts.advance(1);
    refused(&ts, "rot", &s2).await;
    let r = rotate(&ts, "rot", Some(json!({"keep_old_for": 0}))).await;
    let s4 = r.json["client_secret"].as_str().unwrap().to_string();
    refused(&ts, "rot", &s3).await;
    ts.token("rot", &s4, &[]).await;
    for bad in [
        json!({"overlap": -1}),
        json!({"overlap": 2_592_001}),
        json!({"overlap": 1, "x": 2}),
    ] {
        ts.admin("POST", "/admin/clients/rot/secrets", Some(ADMIN), Some(bad))
            .await
            .assert_oauth_error(400, "invalid_request");
    }
    assert_audit_clean(&ts, &[&s1, &s2, &s3, &s4]);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_old_or_one_secret_but_never_the_last() {
    let ts = TestServer::start_with_clock(admin_config(), manual_clock()).await;
    let (s1, sid1) = create(&ts, "rev").await;
    // The only secret cannot go.
    let r = ts
        .admin(
            "DELETE",
            &format!("/admin/clients/rev/secrets/{sid1}"),
            Some(ADMIN),
            None,
        )
        .await;
    r.assert_oauth_error(409, "conflict");
    assert!(r.description().contains("rotate first"), "{r:?}");
    ts.token("rev", &s1, &[]).await;

    // Rotate, then revoke `old`: the old secret stops at once.
    let s2 = rotate(&ts, "rev", None).await.json["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    let r = ts
        .admin("DELETE", "/admin/clients/rev/secrets/old", Some(ADMIN), None)
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["client_id"], "rev");
    assert_eq!(r.json["secrets"].as_array().unwrap().len(), 1);
    refused(&ts, "rev", &s1).await;
    ts.token("rev", &s2, &[]).await;

    // Rotate, then revoke the new one by id: the old one (still in its overlap) carries on.
    let r = rotate(&ts, "rev", None).await;
    let (s3, sid3) = (
        r.json["client_secret"].as_str().unwrap().to_string(),
        r.json["secret_id"].as_str().unwrap().to_string(),
    );
    let sid2 = r.json["secrets"][0]["id"].as_str().unwrap().to_string();
    let r = ts
        .admin(
            "DELETE",
            &format!("/admin/clients/rev/secrets/{sid3}"),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["secrets"][0]["id"], sid2.as_str());
    refused(&ts, "rev", &s3).await;
    ts.token("rev", &s2, &[]).await;
    // That one is now the last usable secret.
    ts.admin(
        "DELETE",
        &format!("/admin/clients/rev/secrets/{sid2}"),
        Some(ADMIN),
        None,
    )
    .await
    .assert_oauth_error(409, "conflict");
    // And once its overlap is over there is none usable: revoking `old` (nothing) is fine,
    // revoking it is a conflict still.
    ts.advance(86_400);
    refused(&ts, "rev", &s2).await;
    ts.admin(
        "DELETE",
        &format!("/admin/clients/rev/secrets/{sid2}"),
        Some(ADMIN),
        None,
    )
    .await
    .assert_oauth_error(409, "conflict");
    ts.admin(
        "DELETE",
        "/admin/clients/rev/secrets/sid_nosuchsecret",
        Some(ADMIN),
        None,
    )
    .await
    .assert_oauth_error(404, "not_found");
    ts.admin("DELETE", "/admin/clients/nosuch/secrets/old", Some(ADMIN), None)
        .await
        .assert_oauth_error(404, "not_found");
    // A key-only client never needed a secret: it has none to rotate.
    let key = authsec_native::SigningKey::generate(authsec_native::Alg::ES256, None).unwrap();
    let r = ts
        .admin(
            "POST",
            "/admin/clients",
            Some(ADMIN),
            Some(json!({"client_id": "keyed", "token_endpoint_auth_method": "private_key_jwt", "jwks": jwks_of(&key)})),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    ts.admin("POST", "/admin/clients/keyed/secrets", Some(ADMIN), None)
        .await
        .assert_oauth_error(400, "invalid_request");
    let revoked = ts.audit_events("secret_revoked");
    assert_eq!(revoked.len(), 2);
    assert_eq!(revoked[1]["secret_ids"], json!([sid3]));
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_introspect_and_revoke_events_name_the_secret() {
    let ts = TestServer::start_with_clock(admin_config(), manual_clock()).await;
    let (s1, sid1) = create(&ts, "aud").await;
    let t1 = ts.token("aud", &s1, &[]).await;
    let r = rotate(&ts, "aud", None).await;
    let (s2, sid2) = (
        r.json["client_secret"].as_str().unwrap().to_string(),
        r.json["secret_id"].as_str().unwrap().to_string(),
    );
    ts.advance(5);
    // client_secret_post with the new secret.
    let r = ts
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "aud"),
                ("client_secret", &s2),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(ts.introspect("aud", &s1, &t1).await.json["active"], true);
    assert_eq!(ts.revoke("aud", &s2, &t1).await.status, 200);

    let tokens = ts.audit_events("token");
    assert_eq!(tokens.len(), 2);
    assert_eq!(
        (tokens[0]["secret_id"].as_str(), tokens[0]["auth_method"].as_str()),
        (Some(sid1.as_str()), Some("client_secret_basic"))
    );
    assert_eq!(
        (tokens[1]["secret_id"].as_str(), tokens[1]["auth_method"].as_str()),
        (Some(sid2.as_str()), Some("client_secret_post"))
    );
    assert_eq!(ts.audit_events("introspect")[0]["secret_id"], sid1.as_str());
    assert_eq!(ts.audit_events("revoke")[0]["secret_id"], sid2.as_str());
    // When each secret was last used shows in the client view.
    let view = ts.admin("GET", "/admin/clients/aud", Some(ADMIN), None).await;
    let used: Vec<(String, Value)> = view.json["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_string(), s["last_used_at"].clone()))
        .collect();
    let now = ts.now_s();
    assert_eq!(used, [(sid1, json!(now)), (sid2, json!(now))]);
    assert_audit_clean(&ts, &[&s1, &s2, &t1]);
    ts.shutdown().await;
}

/// 100 requests per second for about 3 s from 4 tasks, with the old secret, switching to the new
/// one after a rotation at about 1.5 s: every request gets a token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_under_load_loses_no_request() {
    let cfg = ServerConfig {
        rate_limit: 0,
        ..admin_config()
    };
    let ts = Arc::new(TestServer::start(cfg).await);
    let (s1, sid1) = create(&ts, "busy").await;
    let current = Arc::new(Mutex::new(s1.clone()));
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(Mutex::new(Vec::<String>::new()));
    const TASKS: usize = 4;
    const PER_TASK: usize = 75; // 25 a second each, for 3 s
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (ts, current, ok, failed) = (ts.clone(), current.clone(), ok.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(40));
            for _ in 0..PER_TASK {
                tick.tick().await;
                let secret = current.lock().clone();
                let r = ts
                    .token_request(Some(("busy", &secret)), &[("grant_type", "client_credentials")])
                    .await;
                if r.status == 200 {
                    ok.fetch_add(1, Ordering::SeqCst);
                } else {
                    failed.lock().push(format!("{r:?}"));
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = ok.load(Ordering::SeqCst);
    let r = rotate(&ts, "busy", None).await;
    let sid2 = r.json["secret_id"].as_str().unwrap().to_string();
    *current.lock() = r.json["client_secret"].as_str().unwrap().to_string();
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(30), t)
            .await
            .expect("the load finishes")
            .unwrap();
    }
    let elapsed = started.elapsed();
    assert!(failed.lock().is_empty(), "lost requests: {:?}", failed.lock());
    assert_eq!(ok.load(Ordering::SeqCst), TASKS * PER_TASK);
    assert!(
        before > 0 && before < TASKS * PER_TASK,
        "the rotation happened mid-load ({before})"
    );
    assert!(elapsed >= Duration::from_millis(2900), "{elapsed:?}");
    // Both secrets served tokens, as the audit log shows.
    let by_secret = |sid: &str| {
        ts.audit_events("token")
            .iter()
            .filter(|l| l["outcome"] == "success" && l["secret_id"] == sid)
            .count()
    };
    let (old, new) = (by_secret(&sid1), by_secret(&sid2));
    assert!(old >= before && new > 0, "old {old}, new {new}");
    assert_eq!(old + new, TASKS * PER_TASK);
    match Arc::try_unwrap(ts) {
        Ok(ts) => ts.shutdown().await,
        Err(_) => panic!("the tasks are done"),
    }
}
