//! The admin API with the bootstrap admin token (no management client exists): authentication
//! (Bearer admin_token; 401 on a wrong one; 404 when no token is configured), client
//! create/get/list/delete, the secret shown once and stored only as a hash, and secret rotation
//! with a grace period for the old secret.
mod common;

use authsec_native::*;
use authsec_server::ServerConfig;
use common::*;
use serde_json::json;

const ADMIN: &str = "adm-0123456789";

fn admin_config() -> ServerConfig {
    ServerConfig {
        admin_token: Some(ADMIN.into()),
        ..config(vec![secret_client("from-config", "config-secret-xyz", &["a"])])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_is_off_without_an_admin_token() {
    for token in [None, Some("")] {
        let cfg = ServerConfig {
            admin_token: token.map(str::to_string),
            ..config(vec![])
        };
        let ts = TestServer::start(cfg).await;
        for (method, path) in [
            ("GET", "/admin/clients"),
            ("POST", "/admin/clients"),
            ("GET", "/admin/clients/x"),
            ("DELETE", "/admin/clients/x"),
            ("POST", "/admin/clients/x/secrets"),
            ("GET", "/admin/keys"),
            ("POST", "/admin/keys/rotate"),
        ] {
            for bearer in [None, Some(""), Some("anything")] {
                let r = ts.admin(method, path, bearer, Some(json!({}))).await;
                r.assert_oauth_error(404, "not_found");
            }
        }
        ts.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_needs_the_admin_token() {
    let ts = TestServer::start(admin_config()).await;
    let before = ts.jwks_kids().await;
    for (method, path) in [
        ("GET", "/admin/clients"),
        ("POST", "/admin/clients"),
        ("GET", "/admin/clients/from-config"),
        ("DELETE", "/admin/clients/from-config"),
        ("POST", "/admin/clients/from-config/secrets"),
        ("GET", "/admin/keys"),
        ("POST", "/admin/keys/rotate"),
    ] {
        for bearer in [
            None,
            Some("wrong"),
            Some(&ADMIN[..ADMIN.len() - 1]),
            Some("adm-01234567890"),
        ] {
            let r = ts
                .admin(method, path, bearer, Some(json!({"client_id": "sneaky"})))
                .await;
            r.assert_oauth_error(401, "invalid_token");
        }
        // The token endpoint's credentials are not admin credentials either.
        let r = raw_request(
            ts.addr(),
            method,
            path,
            &[("Authorization".into(), basic_header("from-config", "config-secret-xyz"))],
            b"",
        )
        .await;
        r.assert_oauth_error(401, "invalid_token");
    }
    // Nothing happened.
    assert_eq!(
        ts.token_request(
            Some(("from-config", "config-secret-xyz")),
            &[("grant_type", "client_credentials")]
        )
        .await
        .status,
        200
    );
    assert_eq!(ts.jwks_kids().await, before);
    let r = ts.admin("GET", "/admin/clients/sneaky", Some(ADMIN), None).await;
    r.assert_oauth_error(404, "not_found");
    assert!(ts.audit_events("client_created").is_empty() && ts.audit_events("key_rotated").is_empty());
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_get_list_delete_clients() {
    let ts = TestServer::start(admin_config()).await;
    // Create with a generated secret: shown once, in the create answer only.
    let r = ts
        .admin(
            "POST",
            "/admin/clients",
            Some(ADMIN),
            Some(json!({"client_id": "new-agent", "name": "New agent", "type": "ai_agent", "allowed_scopes": ["read:data", "write:logs"], "token_lifetime": 120})),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let secret = r.json["client_secret"]
        .as_str()
        .expect("the generated secret is returned once")
        .to_string();
    assert!(secret.len() >= 40, "a long random secret: {secret}");
    assert_eq!(r.json["name"], "New agent");
    assert_eq!(r.json["type"], "ai_agent");
    assert_eq!(
        r.json["auth_methods"],
        json!(["client_secret_basic", "client_secret_post"])
    );

    // It works, with its own lifetime.
    let t = ts.token("new-agent", &secret, &[("scope", "write:logs")]).await;
    let (_, c) = decode_jwt(&t);
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 120);

    // GET and list never show the secret or its hash.
    let r = ts.admin("GET", "/admin/clients/new-agent", Some(ADMIN), None).await;
    assert_eq!(r.status, 200);
    assert!(r.json.get("client_secret").is_none(), "{r:?}");
    let text = r.text();
    assert!(
        !text.contains(&secret) && !text.contains("hash") && !text.contains("salt"),
        "{text}"
    );
    assert_eq!(r.json["secrets"].as_array().unwrap().len(), 1);
    let r = ts.admin("GET", "/admin/clients", Some(ADMIN), None).await;
    let ids: Vec<&str> = r.json["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["from-config", "new-agent"]);
    assert!(!r.text().contains(&secret) && !r.text().contains("hash"));

    // A client id is unique; unknown fields, bad scopes and bad types are refused.
    ts.admin(
        "POST",
        "/admin/clients",
        Some(ADMIN),
        Some(json!({"client_id": "new-agent"})),
    )
    .await
    .assert_oauth_error(409, "conflict");
    ts.admin(
        "POST",
        "/admin/clients",
        Some(ADMIN),
        Some(json!({"client_id": "x", "secret": "y"})),
    )
    .await
    .assert_oauth_error(400, "invalid_client_metadata");
    ts.admin(
        "POST",
        "/admin/clients",
        Some(ADMIN),
        Some(json!({"client_id": "x", "allowed_scopes": ["a b"]})),
    )
    .await
    .assert_oauth_error(400, "invalid_client_metadata");
    ts.admin(
        "POST",
        "/admin/clients",
        Some(ADMIN),
        Some(json!({"client_id": "x", "type": "robot"})),
    )
    .await
    .assert_oauth_error(400, "invalid_client_metadata");
    ts.admin(
        "POST",
        "/admin/clients",
        Some(ADMIN),
        Some(json!({"client_id": "x", "allowed_scopes": ["a"], "default_scopes": ["b"]})),
    )
    .await
    .assert_oauth_error(400, "invalid_client_metadata");
    ts.admin("POST", "/admin/clients", Some(ADMIN), Some(json!({"client_id": ""})))
        .await
        .assert_oauth_error(400, "invalid_client_metadata");
    let r = raw_request(
        ts.addr(),
        "POST",
        "/admin/clients",
        &[("Authorization".into(), format!("Bearer {ADMIN}"))],
        b"{not json",
    )
    .await;
    r.assert_oauth_error(400, "invalid_request");

    // Without a client_id one is generated; with an explicit secret none is echoed back.
    let r = ts
        .admin("POST", "/admin/clients", Some(ADMIN), Some(json!({"name": "anon"})))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let anon = r.json["client_id"].as_str().unwrap().to_string();
    assert!(r.json["client_secret"].is_string());
    let r = ts
        .admin(
            "POST",
            "/admin/clients",
            Some(ADMIN),
            Some(json!({"client_id": "mine", "client_secret": "my-own-secret-123"})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(r.json.get("client_secret").is_none(), "{r:?}");
    ts.token("mine", "my-own-secret-123", &[]).await;
    // A key-only client created through the API.
    let key = SigningKey::generate(Alg::EdDSA, None).unwrap();
    let r = ts
        .admin(
            "POST",
            "/admin/clients",
            Some(ADMIN),
            Some(json!({"client_id": "keyed", "jwks": jwks_of(&key)})),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json["auth_methods"], json!(["private_key_jwt"]));
    assert!(r.json.get("client_secret").is_none());
    let client = ts.client(ClientConfig {
        client_id: "keyed".into(),
        auth_method: AuthMethod::PrivateKeyJwt,
        private_key: Some(key.to_pem().clone()),
        private_key_id: Some(key.kid().into()),
        ..Default::default()
    });
    client
        .get_token()
        .await
        .expect("private_key_jwt for an API-created client");

    // Delete: 204, then the client is gone everywhere.
    let r = ts.admin("DELETE", "/admin/clients/new-agent", Some(ADMIN), None).await;
    assert_eq!(r.status, 204, "{r:?}");
    ts.token_request(Some(("new-agent", &secret)), &[("grant_type", "client_credentials")])
        .await
        .assert_oauth_error(401, "invalid_client");
    ts.admin("GET", "/admin/clients/new-agent", Some(ADMIN), None)
        .await
        .assert_oauth_error(404, "not_found");
    ts.admin("DELETE", "/admin/clients/new-agent", Some(ADMIN), None)
        .await
        .assert_oauth_error(404, "not_found");
    ts.admin("POST", "/admin/clients/new-agent/secrets", Some(ADMIN), None)
        .await
        .assert_oauth_error(404, "not_found");
    // Introspection with the deleted client's credentials is refused too.
    ts.introspect("new-agent", &secret, &t)
        .await
        .assert_oauth_error(401, "invalid_client");
    // The same id can be created again, with a new secret.
    let r = ts
        .admin(
            "POST",
            "/admin/clients",
            Some(ADMIN),
            Some(json!({"client_id": "new-agent"})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_ne!(r.json["client_secret"].as_str().unwrap(), secret);

    // Audit: create and delete are logged; no secret in any line.
    assert_eq!(ts.audit_events("client_created").len(), 5);
    assert_eq!(ts.audit_events("client_deleted").len(), 1);
    assert_audit_clean(&ts, &[&secret, "my-own-secret-123", ADMIN, &t]);
    let _ = anon;
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_secret_keeps_the_old_one_for_the_grace_period() {
    let ts = TestServer::start_with_clock(admin_config(), manual_clock()).await;
    let r = ts
        .admin("POST", "/admin/clients", Some(ADMIN), Some(json!({"client_id": "rot"})))
        .await;
    let s1 = r.json["client_secret"].as_str().unwrap().to_string();

    // keep_old_for 60: both secrets work for 60 s, then only the new one.
    let r = ts
        .admin(
            "POST",
            "/admin/clients/rot/secrets",
            Some(ADMIN),
            Some(json!({"keep_old_for": 60})),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let s2 = r.json["client_secret"].as_str().unwrap().to_string();
    assert_ne!(s1, s2);
    assert_eq!(r.json["old_secrets_expire_at"].as_i64().unwrap(), ts.now_s() + 60);
    ts.token("rot", &s1, &[]).await;
    ts.token("rot", &s2, &[]).await;
    ts.advance(59);
    ts.token("rot", &s1, &[]).await;
    ts.advance(1);
    ts.token_request(Some(("rot", &s1)), &[("grant_type", "client_credentials")])
        .await
        .assert_oauth_error(401, "invalid_client");
    ts.token("rot", &s2, &[]).await;

    // overlap 0: the old secret stops at once; the admin view shows both hashes' dates, never
    // the secrets.
    let r = ts
        .admin(
            "POST",
            "/admin/clients/rot/secrets",
            Some(ADMIN),
            Some(json!({"overlap": 0})),
        )
        .await;
    let s3 = r.json["client_secret"].as_str().unwrap().to_string();
    ts.token_request(Some(("rot", &s2)), &[("grant_type", "client_credentials")])
        .await
        .assert_oauth_error(401, "invalid_client");
    ts.token("rot", &s3, &[]).await;
    let view = ts.admin("GET", "/admin/clients/rot", Some(ADMIN), None).await;
    assert!(!view.text().contains(&s3) && !view.text().contains(&s2));

    // A rotation during a grace period shortens (never extends) the older secrets' lifetime.
    let r = ts
        .admin(
            "POST",
            "/admin/clients/rot/secrets",
            Some(ADMIN),
            Some(json!({"keep_old_for": 3600})),
        )
        .await;
    let s4 = r.json["client_secret"].as_str().unwrap().to_string();
    let r = ts
        .admin(
            "POST",
            "/admin/clients/rot/secrets",
            Some(ADMIN),
            Some(json!({"keep_old_for": 10})),
        )
        .await;
    let s5 = r.json["client_secret"].as_str().unwrap().to_string();
    ts.token("rot", &s3, &[]).await;
    ts.token("rot", &s4, &[]).await;
    ts.advance(10);
    for old in [&s3, &s4] {
        ts.token_request(Some(("rot", old)), &[("grant_type", "client_credentials")])
            .await
            .assert_oauth_error(401, "invalid_client");
    }
    ts.token("rot", &s5, &[]).await;
    // The new secret works with client_secret_post and through the core client as well.
    let c = ts.client(ClientConfig {
        client_id: "rot".into(),
        client_secret: Some(Secret::new(s5.clone())),
        auth_method: AuthMethod::ClientSecretPost,
        ..Default::default()
    });
    c.get_token().await.unwrap();

    let rotated = ts.audit_events("secret_rotated");
    assert_eq!(rotated.len(), 4);
    assert_audit_clean(&ts, &[&s1, &s2, &s3, &s4, &s5]);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_stored_only_as_hashes() {
    let dir = TempDir::new("hashes");
    let cfg = ServerConfig {
        database: Some(dir.path("authsec.db")),
        ..admin_config()
    };
    let ts = TestServer::start(cfg).await;
    let r = ts
        .admin(
            "POST",
            "/admin/clients",
            Some(ADMIN),
            Some(json!({"client_id": "generated"})),
        )
        .await;
    let generated = r.json["client_secret"].as_str().unwrap().to_string();
    let r = ts
        .admin(
            "POST",
            "/admin/clients",
            Some(ADMIN),
            Some(json!({"client_id": "explicit", "client_secret": "explicit-secret-42"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = ts
        .admin(
            "POST",
            "/admin/clients/generated/secrets",
            Some(ADMIN),
            Some(json!({"keep_old_for": 600})),
        )
        .await;
    let rotated = r.json["client_secret"].as_str().unwrap().to_string();
    ts.token("generated", &generated, &[]).await;
    ts.token("generated", &rotated, &[]).await;
    ts.token("from-config", "config-secret-xyz", &[]).await;
    ts.token("explicit", "explicit-secret-42", &[]).await;

    // The database files (main file and WAL) hold none of the secrets, in any common encoding.
    let bytes = dir.all_bytes();
    assert!(contains(&bytes, b"generated"), "the scan does see the client records");
    for s in [
        generated.as_str(),
        rotated.as_str(),
        "config-secret-xyz",
        "explicit-secret-42",
        ADMIN,
    ] {
        assert!(!contains(&bytes, s.as_bytes()), "the database holds a plain secret");
        assert!(!contains(
            &bytes,
            authsec_core::util::b64url_encode(s.as_bytes()).as_bytes()
        ));
        assert!(!contains(
            &bytes,
            authsec_core::util::b64_std_encode(s.as_bytes()).as_bytes()
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path("authsec.db")).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the database holds private keys: owner-only ({mode:o})"
        );
    }
    ts.shutdown().await;
}
