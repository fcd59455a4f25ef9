//! Roles and the per-client fields of issue 14: a client's effective scopes and audiences are
//! its own plus its roles', resolved at each token request (role changes and PATCH apply to the
//! next token); the roles admin API; PATCH /admin/clients/{id}; `grant_types` (a grant the
//! client does not list is `unauthorized_client`); the `may_act` claim; persistence across a
//! restart.
mod common;

use authsec_server::{ClientSpec, RoleSpec, ServerConfig};
use common::*;
use serde_json::{json, Value};

const ADMIN: &str = "adm-roles-0123";
const DATA: &str = "https://data.example.com";
const OWN: &str = "https://own.example.com";

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn role(scopes: &[&str], audiences: &[&str]) -> RoleSpec {
    RoleSpec {
        scopes: strings(scopes),
        audiences: strings(audiences),
    }
}

fn roles_config() -> ServerConfig {
    ServerConfig {
        admin_token: Some(ADMIN.into()),
        roles: [
            ("reader".to_string(), role(&["read:data", "list"], &[DATA])),
            ("writer".to_string(), role(&["write:data"], &[])),
        ]
        .into_iter()
        .collect(),
        ..config(vec![
            ClientSpec {
                audiences: strings(&[OWN]),
                roles: strings(&["reader"]),
                ..secret_client("svc", "svc-secret", &["own"])
            },
            ClientSpec {
                roles: strings(&["reader", "writer"]),
                default_scopes: Some(strings(&["read:data"])),
                ..secret_client("defaults", "defaults-secret", &[])
            },
        ])
    }
}

fn claims(token: &str) -> Value {
    decode_jwt(token).1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_add_scopes_and_audiences_to_the_clients_that_list_them() {
    let ts = TestServer::start(roles_config()).await;
    // No scope requested: every effective scope (own first, then the role's); aud: own first.
    let c = claims(&ts.token("svc", "svc-secret", &[]).await);
    assert_eq!(c["scope"], "own read:data list");
    assert_eq!(c["aud"], OWN);
    // A role's scope and audience may be requested like the client's own.
    let c = claims(
        &ts.token("svc", "svc-secret", &[("scope", "list own"), ("audience", DATA)])
            .await,
    );
    assert_eq!(c["scope"], "list own");
    assert_eq!(c["aud"], DATA);
    let c = claims(
        &ts.token("svc", "svc-secret", &[("resource", DATA), ("resource", OWN)])
            .await,
    );
    assert_eq!(c["aud"], json!([DATA, OWN]));
    // Outside the union: refused, naming the scope.
    let r = ts
        .token_request(
            Some(("svc", "svc-secret")),
            &[("grant_type", "client_credentials"), ("scope", "own write:data")],
        )
        .await;
    r.assert_oauth_error(400, "invalid_scope");
    assert!(r.description().contains("write:data"), "{r:?}");
    // Explicit default scopes may come from a role.
    let c = claims(&ts.token("defaults", "defaults-secret", &[]).await);
    assert_eq!(c["scope"], "read:data");
    let c = claims(
        &ts.token("defaults", "defaults-secret", &[("scope", "write:data list")])
            .await,
    );
    assert_eq!(c["scope"], "write:data list");
    // The metadata lists role scopes.
    let m = ts.get("/.well-known/oauth-authorization-server").await;
    for s in ["own", "read:data", "list", "write:data"] {
        assert!(
            m.json["scopes_supported"].as_array().unwrap().contains(&json!(s)),
            "{s}: {m:?}"
        );
    }
    // Only client credentials is advertised while no client may exchange tokens.
    assert_eq!(m.json["grant_types_supported"], json!(["client_credentials"]));
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_is_checked_for_roles_and_grant_types() {
    let start_err = |cfg: ServerConfig| async move {
        match authsec_server::start(cfg, Default::default()).await {
            Ok(_) => panic!("the config was accepted"),
            Err(e) => e.to_string(),
        }
    };
    let mut cfg = roles_config();
    cfg.clients[0].roles.push("nosuchrole".into());
    let e = start_err(cfg).await;
    assert!(e.contains("nosuchrole") && e.contains("svc"), "{e}");
    let mut cfg = roles_config();
    cfg.clients[1].default_scopes = Some(strings(&["nope"]));
    let e = start_err(cfg).await;
    assert!(e.contains("nope"), "{e}");
    let mut cfg = roles_config();
    cfg.clients[0].grant_types = Some(strings(&["client_credentials", "password"]));
    let e = start_err(cfg).await;
    assert!(e.contains("password"), "{e}");
    let mut cfg = roles_config();
    cfg.roles.insert("bad name".into(), role(&["x"], &[]));
    let e = start_err(cfg).await;
    assert!(e.contains("bad name"), "{e}");
    let mut cfg = roles_config();
    cfg.token_exchange.max_delegation_depth = 0;
    let e = start_err(cfg).await;
    assert!(e.contains("max_delegation_depth"), "{e}");
    // The same from YAML; unknown fields in a role are refused.
    let yaml = "roles:\n  reader:\n    scopes: [a]\n    audiences: [https://x]\ntoken_exchange:\n  max_delegation_depth: 2\nclients:\n  - client_id: c\n    client_secret: s\n    roles: [reader]\n    grant_types: [client_credentials, urn:ietf:params:oauth:grant-type:token-exchange]\n    may_act: [other]\n";
    let cfg = ServerConfig::from_yaml_str(yaml, |_: &str| None).unwrap();
    assert_eq!(cfg.roles["reader"].scopes, strings(&["a"]));
    assert_eq!(cfg.token_exchange.max_delegation_depth, 2);
    assert_eq!(cfg.clients[0].may_act, strings(&["other"]));
    assert!(ServerConfig::from_yaml_str("roles:\n  r:\n    scope: [a]\n", |_: &str| None).is_err());
    assert!(ServerConfig::from_yaml_str("token_exchange:\n  max_delegation_depth: 11\n", |_: &str| None).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_manages_roles_and_changes_apply_to_the_next_token() {
    let ts = TestServer::start(roles_config()).await;
    let admin = |m: &'static str, p: String, b: Option<Value>| {
        let ts = &ts;
        async move { ts.admin(m, &p, Some(ADMIN), b).await }
    };
    // The roles endpoints need the admin token.
    for (m, p) in [
        ("GET", "/admin/roles"),
        ("POST", "/admin/roles"),
        ("GET", "/admin/roles/reader"),
        ("PUT", "/admin/roles/reader"),
        ("DELETE", "/admin/roles/reader"),
        ("PATCH", "/admin/clients/svc"),
    ] {
        ts.admin(m, p, Some("wrong"), Some(json!({})))
            .await
            .assert_oauth_error(401, "invalid_token");
    }
    let r = admin("GET", "/admin/roles".into(), None).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["roles"][0]["name"], "reader");
    assert_eq!(r.json["roles"][0]["clients"], json!(["defaults", "svc"]));

    // Create a role and a client that lists it.
    let r = admin(
        "POST",
        "/admin/roles".into(),
        Some(json!({"name": "tools", "scopes": ["tool:run", "tool:list"], "audiences": ["https://tools"]})),
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json["scopes"], json!(["tool:run", "tool:list"]));
    admin("POST", "/admin/roles".into(), Some(json!({"name": "tools"})))
        .await
        .assert_oauth_error(409, "conflict");
    for bad in [
        json!({"name": "a b"}),
        json!({"scopes": ["x"]}),
        json!({"name": "x", "scope": ["x"]}),
        json!({"name": "x", "scopes": ["a b"]}),
    ] {
        admin("POST", "/admin/roles".into(), Some(bad.clone()))
            .await
            .assert_oauth_error(400, "invalid_request");
    }
    let r = admin(
        "POST",
        "/admin/clients".into(),
        Some(json!({"client_id": "agent", "roles": ["tools"], "allowed_scopes": ["own"]})),
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json["roles"], json!(["tools"]));
    assert_eq!(r.json["grant_types"], json!(["client_credentials"]));
    assert_eq!(r.json["may_act"], json!([]));
    assert_eq!(r.json["effective_scopes"], json!(["own", "tool:run", "tool:list"]));
    let secret = r.json["client_secret"].as_str().unwrap().to_string();
    admin(
        "POST",
        "/admin/clients".into(),
        Some(json!({"client_id": "ghost", "roles": ["nosuch"]})),
    )
    .await
    .assert_oauth_error(400, "invalid_client_metadata");
    assert_eq!(
        claims(&ts.token("agent", &secret, &[]).await)["scope"],
        "own tool:run tool:list"
    );

    // Changing the role is followed by the next token (no new client record needed).
    let r = admin(
        "PUT",
        "/admin/roles/tools".into(),
        Some(json!({"scopes": ["tool:run"], "audiences": ["https://tools"]})),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["clients"], json!(["agent"]));
    assert_eq!(claims(&ts.token("agent", &secret, &[]).await)["scope"], "own tool:run");
    ts.token_request(
        Some(("agent", &secret)),
        &[("grant_type", "client_credentials"), ("scope", "tool:list")],
    )
    .await
    .assert_oauth_error(400, "invalid_scope");
    admin("PUT", "/admin/roles/tools".into(), Some(json!({"name": "other"})))
        .await
        .assert_oauth_error(400, "invalid_request");
    let r = admin("GET", "/admin/roles/tools".into(), None).await;
    assert_eq!(r.json["scopes"], json!(["tool:run"]));

    // A role still listed cannot be deleted; the answer names the clients.
    let r = admin("DELETE", "/admin/roles/tools".into(), None).await;
    r.assert_oauth_error(409, "conflict");
    assert!(r.description().contains("agent"), "{r:?}");

    // Removing the role from the client: the next token no longer gets its scope.
    let r = admin("PATCH", "/admin/clients/agent".into(), Some(json!({"roles": []}))).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["effective_scopes"], json!(["own"]));
    let r = ts
        .token_request(
            Some(("agent", &secret)),
            &[("grant_type", "client_credentials"), ("scope", "tool:run")],
        )
        .await;
    r.assert_oauth_error(400, "invalid_scope");
    assert!(r.description().contains("tool:run"), "{r:?}");
    assert_eq!(claims(&ts.token("agent", &secret, &[]).await)["scope"], "own");
    assert_eq!(admin("DELETE", "/admin/roles/tools".into(), None).await.status, 204);
    admin("GET", "/admin/roles/tools".into(), None)
        .await
        .assert_oauth_error(404, "not_found");
    admin("DELETE", "/admin/roles/tools".into(), None)
        .await
        .assert_oauth_error(404, "not_found");

    // PATCH: every listed field, validated like creation; unknown fields refused.
    let r = admin(
        "PATCH",
        "/admin/clients/agent".into(),
        Some(json!({"roles": ["reader"], "allowed_scopes": ["own", "extra"], "default_scopes": ["list"],
                    "audiences": [OWN], "grant_types": ["client_credentials", TOKEN_EXCHANGE], "may_act": ["svc", "defaults"]})),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["default_scopes"], json!(["list"]));
    assert_eq!(r.json["effective_audiences"], json!([OWN, DATA]));
    let c = claims(&ts.token("agent", &secret, &[]).await);
    assert_eq!(c["scope"], "list");
    assert_eq!(c["may_act"], json!({"sub": ["svc", "defaults"]}));
    let r = admin(
        "PATCH",
        "/admin/clients/agent".into(),
        Some(json!({"default_scopes": null, "may_act": ["svc"]})),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["default_scopes"], Value::Null);
    let c = claims(&ts.token("agent", &secret, &[]).await);
    assert_eq!(c["scope"], "own extra read:data list");
    assert_eq!(c["may_act"], json!({"sub": "svc"}), "one id: a string");
    for bad in [
        json!({"client_id": "renamed"}),
        json!({"roles": ["nosuch"]}),
        json!({"default_scopes": ["write:data"]}),
        json!({"grant_types": ["password"]}),
        json!({"grant_types": []}),
        json!({"may_act": [""]}),
        json!({"allowed_scopes": ["a b"]}),
        json!({"default_scopes": "list"}),
    ] {
        let r = admin("PATCH", "/admin/clients/agent".into(), Some(bad.clone())).await;
        r.assert_oauth_error(400, "invalid_client_metadata");
    }
    admin("PATCH", "/admin/clients/nosuch".into(), Some(json!({"roles": []})))
        .await
        .assert_oauth_error(404, "not_found");
    // Refused changes changed nothing.
    let r = admin("GET", "/admin/clients/agent".into(), None).await;
    assert_eq!(r.json["roles"], json!(["reader"]));
    assert_eq!(r.json["may_act"], json!(["svc"]));

    // Audit lines for the changes.
    let events: Vec<String> = ts
        .audit_lines()
        .iter()
        .map(|l| l["event"].as_str().unwrap().to_string())
        .filter(|e| e.starts_with("role_") || e == "client_updated")
        .collect();
    assert_eq!(
        events,
        [
            "role_created",
            "role_updated",
            "client_updated",
            "role_deleted",
            "client_updated",
            "client_updated"
        ]
    );
    let updated = ts.audit_events("client_updated");
    assert_eq!(updated[0]["changed"], json!(["roles"]));
    assert_eq!(updated[0]["roles"], json!([]));
    assert_audit_clean(&ts, &[&secret]);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_the_client_does_not_list_is_unauthorized_client() {
    let ts = TestServer::start(config(vec![
        secret_client("cc-only", "cc-secret", &["a"]),
        ClientSpec {
            grant_types: Some(vec![TOKEN_EXCHANGE.into()]),
            ..secret_client("exchange-only", "ex-secret", &["a"])
        },
    ]))
    .await;
    let subject = ts.token("cc-only", "cc-secret", &[]).await;
    let r = ts.exchange_request("cc-only", "cc-secret", &subject, &[]).await;
    r.assert_oauth_error(400, "unauthorized_client");
    assert!(r.description().contains(TOKEN_EXCHANGE), "{r:?}");
    // After authentication: a wrong secret is still invalid_client.
    ts.exchange_request("cc-only", "wrong", &subject, &[])
        .await
        .assert_oauth_error(401, "invalid_client");
    ts.token_request(
        Some(("exchange-only", "ex-secret")),
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_oauth_error(400, "unauthorized_client");
    let failures = ts.audit_events("token_exchange");
    assert_eq!(failures[0]["outcome"], "failure");
    assert_eq!(failures[0]["error"], "unauthorized_client");
    assert_eq!(failures[0]["client_id"], "cc-only");
    // Once a client may exchange, the metadata says so.
    let m = ts.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(
        m.json["grant_types_supported"],
        json!(["client_credentials", TOKEN_EXCHANGE])
    );
    assert_eq!(m.json["token_exchange_max_delegation_depth"], 3);
    assert_eq!(
        m.json["token_exchange_subject_token_types_supported"],
        json!([ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE])
    );
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_client_changes_survive_a_restart() {
    let dir = TempDir::new("roles-restart");
    let cfg = || ServerConfig {
        database: Some(dir.path("authsec.db")),
        issuer: Some("https://auth.roles.test".into()),
        ..roles_config()
    };
    let ts = TestServer::start(cfg()).await;
    let r = ts
        .admin(
            "POST",
            "/admin/roles",
            Some(ADMIN),
            Some(json!({"name": "api-made", "scopes": ["made"], "audiences": ["https://made"]})),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = ts
        .admin(
            "POST",
            "/admin/clients",
            Some(ADMIN),
            Some(json!({"client_id": "later", "roles": ["api-made"]})),
        )
        .await;
    let secret = r.json["client_secret"].as_str().unwrap().to_string();
    let r = ts
        .admin(
            "PATCH",
            "/admin/clients/later",
            Some(ADMIN),
            Some(json!({"roles": ["api-made", "writer"], "may_act": ["svc"], "grant_types": [TOKEN_EXCHANGE, "client_credentials"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    ts.shutdown().await;

    let ts = TestServer::start(cfg()).await;
    let r = ts.admin("GET", "/admin/roles/api-made", Some(ADMIN), None).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["scopes"], json!(["made"]));
    assert_eq!(r.json["clients"], json!(["later"]));
    let r = ts.admin("GET", "/admin/clients/later", Some(ADMIN), None).await;
    assert_eq!(r.json["roles"], json!(["api-made", "writer"]));
    assert_eq!(r.json["may_act"], json!(["svc"]));
    assert_eq!(r.json["grant_types"], json!([TOKEN_EXCHANGE, "client_credentials"]));
    let c = claims(&ts.token("later", &secret, &[]).await);
    assert_eq!(c["scope"], "made write:data");
    assert_eq!(c["aud"], "https://made");
    assert_eq!(c["may_act"], json!({"sub": "svc"}));
    ts.shutdown().await;
}
