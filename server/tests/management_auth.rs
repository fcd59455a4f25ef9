//! Who may call the management API: the bootstrap admin token until a management client exists,
//! then only management tokens (`aud` = `{issuer}/admin`, management scopes only) carrying the
//! scope each route needs; the 401/403 challenges; tokens for the management API are never
//! exchanged; RFC 9728 metadata; every call audited with its actor.
mod common;

use authsec_server::{ClientSpec, RoleSpec, ServerConfig};
use common::*;
use serde_json::json;

const ADMIN: &str = "bootstrap-0123456789";

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A management token for `id`, asked for with `resource={issuer}/admin` (and `scope`).
async fn mgmt_token(ts: &TestServer, id: &str, secret: &str, scope: Option<&str>) -> String {
    let resource = format!("{}/admin", ts.issuer());
    let mut extra = vec![("resource", resource.as_str())];
    if let Some(s) = scope {
        extra.push(("scope", s));
    }
    ts.token(id, secret, &extra).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_token_bootstraps_until_a_management_client_exists() {
    let cfg = ServerConfig {
        admin_token: Some(ADMIN.into()),
        ..config(vec![secret_client("plain", "plain-secret-123", &["read:data"])])
    };
    let ts = TestServer::start(cfg).await;
    // No management client yet: the admin token works, a wrong one is 401 with the challenge.
    let r = ts.admin("GET", "/admin/clients", Some(ADMIN), None).await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = ts.admin("GET", "/admin/clients", Some("wrong"), None).await;
    r.assert_oauth_error(401, "invalid_token");
    let challenge = r.header("www-authenticate").expect("a challenge");
    assert!(challenge.starts_with("Bearer error=\"invalid_token\""), "{challenge}");
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"{}/.well-known/oauth-protected-resource/admin\"",
            ts.issuer()
        )),
        "{challenge}"
    );

    // The admin token creates the first management client.
    let r = ts
        .admin(
            "POST",
            "/admin/clients",
            Some(ADMIN),
            Some(json!({"client_id": "ops", "allowed_scopes": ["clients:read", "clients:write"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let secret = r.json["client_secret"].as_str().unwrap().to_string();

    // From now on the admin token is refused, saying why.
    for (method, path) in [
        ("GET", "/admin/clients"),
        ("GET", "/admin/keys"),
        ("POST", "/admin/keys/rotate"),
    ] {
        let r = ts.admin(method, path, Some(ADMIN), Some(json!({}))).await;
        r.assert_oauth_error(401, "invalid_token");
        assert!(r.description().contains("only for bootstrapping"), "{r:?}");
        assert!(r
            .header("www-authenticate")
            .is_some_and(|c| c.contains("resource_metadata=")));
    }
    // The management client's token is what works now.
    let token = mgmt_token(&ts, "ops", &secret, None).await;
    let r = ts.admin("GET", "/admin/clients", Some(&token), None).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["clients"].as_array().unwrap().len(), 2);
    let r = ts
        .admin(
            "POST",
            "/admin/clients",
            Some(&token),
            Some(json!({"client_id": "made-by-ops"})),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");

    // Every call is audited with its actor, failures included.
    let calls = ts.audit_events("admin_request");
    assert!(calls
        .iter()
        .any(|l| l["actor"] == "admin_token" && l["outcome"] == "success" && l["path"] == "/admin/clients"));
    assert!(calls
        .iter()
        .any(|l| l["actor"] == "ops" && l["outcome"] == "success" && l["method"] == "POST"));
    assert_eq!(
        calls
            .iter()
            .filter(|l| l["outcome"] == "failure" && l["status"] == 401)
            .count(),
        4,
        "{calls:?}"
    );
    let created = ts.audit_events("client_created");
    assert_eq!(created[0]["actor"], "admin_token");
    assert_eq!(created[1]["actor"], "ops");
    assert_audit_clean(&ts, &[ADMIN, &secret, &token]);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_management_client_turns_the_api_on_without_an_admin_token() {
    // Through a role, and with no admin_token configured at all.
    let mut cfg = config(vec![ClientSpec {
        roles: strings(&["auditor"]),
        ..secret_client("auditor-bot", "auditor-secret-123", &[])
    }]);
    cfg.roles.insert(
        "auditor".into(),
        RoleSpec {
            scopes: strings(&["logs:read"]),
            audiences: vec![],
        },
    );
    let ts = TestServer::start(cfg).await;
    let token = mgmt_token(&ts, "auditor-bot", "auditor-secret-123", None).await;
    let (_, c) = decode_jwt(&token);
    assert_eq!(c["scope"], "logs:read");
    let r = ts.admin("GET", "/admin/logs", Some(&token), None).await;
    assert_eq!(r.status, 200, "{r:?}");
    // Without a token: 401 (not 404: the API is on).
    ts.admin("GET", "/admin/logs", None, None)
        .await
        .assert_oauth_error(401, "invalid_token");
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_audience_missing_scope_revoked_or_deleted_are_refused() {
    let cfg = config(vec![
        ClientSpec {
            audiences: strings(&["https://api.example.com"]),
            ..secret_client("reader", "reader-secret-123", &["clients:read", "read:data"])
        },
        secret_client("writer", "writer-secret-123", &["clients:read", "clients:write"]),
    ]);
    let ts = TestServer::start(cfg).await;

    // A token for another audience: 401.
    let api_token = ts.token("reader", "reader-secret-123", &[]).await;
    let (_, c) = decode_jwt(&api_token);
    assert_eq!(c["aud"], "https://api.example.com");
    let r = ts.admin("GET", "/admin/clients", Some(&api_token), None).await;
    r.assert_oauth_error(401, "invalid_token");
    assert!(r.description().contains("not for the management API"), "{r:?}");
    // Not a token at all: 401.
    ts.admin("GET", "/admin/clients", Some("not-a-jwt"), None)
        .await
        .assert_oauth_error(401, "invalid_token");

    // The right audience without the scope the route needs: 403 naming it.
    let read_token = mgmt_token(&ts, "reader", "reader-secret-123", None).await;
    assert_eq!(
        ts.admin("GET", "/admin/clients", Some(&read_token), None).await.status,
        200
    );
    for (method, path, scope) in [
        ("POST", "/admin/clients", "clients:write"),
        ("DELETE", "/admin/clients/writer", "clients:write"),
        ("POST", "/admin/clients/writer/secrets", "clients:write"),
        ("GET", "/admin/roles", "roles:read"),
        ("GET", "/admin/scopes", "scopes:read"),
        ("POST", "/admin/scopes", "scopes:write"),
        ("GET", "/admin/logs", "logs:read"),
        ("GET", "/admin/keys", "keys:read"),
        ("POST", "/admin/keys/rotate", "keys:write"),
    ] {
        let r = ts
            .admin(method, path, Some(&read_token), Some(json!({"client_id": "x"})))
            .await;
        r.assert_oauth_error(403, "insufficient_scope");
        assert!(r.description().contains(&format!("needs {scope}")), "{r:?}");
        let challenge = r.header("www-authenticate").unwrap();
        assert!(
            challenge.starts_with("Bearer error=\"insufficient_scope\"")
                && challenge.contains(&format!("scope=\"{scope}\""))
                && challenge.contains("resource_metadata="),
            "{challenge}"
        );
    }
    // Nothing was changed by the refused calls.
    assert!(ts.audit_events("client_deleted").is_empty() && ts.audit_events("key_rotated").is_empty());

    // A revoked management token: 401.
    let write_token = mgmt_token(&ts, "writer", "writer-secret-123", None).await;
    assert_eq!(ts.revoke("writer", "writer-secret-123", &write_token).await.status, 200);
    ts.admin("GET", "/admin/clients", Some(&write_token), None)
        .await
        .assert_oauth_error(401, "invalid_token");

    // A deleted client's token stops working at once.
    let write_token = mgmt_token(&ts, "writer", "writer-secret-123", None).await;
    let r = ts
        .admin("DELETE", "/admin/clients/reader", Some(&write_token), None)
        .await;
    assert_eq!(r.status, 204, "{r:?}");
    ts.admin("GET", "/admin/clients", Some(&read_token), None)
        .await
        .assert_oauth_error(401, "invalid_token");
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_tokens_carry_only_management_scopes_and_only_that_audience() {
    let cfg = config(vec![
        ClientSpec {
            audiences: strings(&["https://api.example.com"]),
            ..secret_client("ops", "ops-secret-123", &["read:data", "clients:read", "logs:read"])
        },
        secret_client("plain", "plain-secret-123", &["read:data"]),
    ]);
    let ts = TestServer::start(cfg).await;
    let admin_aud = format!("{}/admin", ts.issuer());

    // No scope asked: every management scope held, and nothing else.
    let t = mgmt_token(&ts, "ops", "ops-secret-123", None).await;
    let (_, c) = decode_jwt(&t);
    assert_eq!(c["aud"], admin_aud.as_str());
    assert_eq!(c["scope"], "clients:read logs:read");
    // `audience` works like `resource`.
    let t = ts
        .token(
            "ops",
            "ops-secret-123",
            &[("audience", &admin_aud), ("scope", "logs:read")],
        )
        .await;
    assert_eq!(decode_jwt(&t).1["scope"], "logs:read");
    // An API scope with the management API, a management scope not held: invalid_scope.
    for scope in ["read:data", "logs:read read:data", "keys:write"] {
        let r = ts
            .token_request(
                Some(("ops", "ops-secret-123")),
                &[
                    ("grant_type", "client_credentials"),
                    ("resource", &admin_aud),
                    ("scope", scope),
                ],
            )
            .await;
        r.assert_oauth_error(400, "invalid_scope");
    }
    // The management API with another resource: invalid_target.
    let r = ts
        .token_request(
            Some(("ops", "ops-secret-123")),
            &[
                ("grant_type", "client_credentials"),
                ("resource", &admin_aud),
                ("resource", "https://api.example.com"),
            ],
        )
        .await;
    r.assert_oauth_error(400, "invalid_target");
    // A client with no management scope gets no management token.
    let r = ts
        .token_request(
            Some(("plain", "plain-secret-123")),
            &[("grant_type", "client_credentials"), ("resource", &admin_aud)],
        )
        .await;
    r.assert_oauth_error(400, "invalid_target");

    // Tokens for other audiences never carry a management scope: not by default, not on request.
    let t = ts.token("ops", "ops-secret-123", &[]).await;
    let (_, c) = decode_jwt(&t);
    assert_eq!(c["aud"], "https://api.example.com");
    assert_eq!(c["scope"], "read:data");
    let r = ts
        .token_request(
            Some(("ops", "ops-secret-123")),
            &[("grant_type", "client_credentials"), ("scope", "clients:read")],
        )
        .await;
    r.assert_oauth_error(400, "invalid_scope");
    assert!(r.description().contains("resource="), "{r:?}");
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_management_token_cannot_be_exchanged() {
    let cfg = config(vec![
        exchange_client(
            "ops",
            "ops-secret-123",
            &["clients:read", "read:data"],
            &["https://api.example.com"],
            &[],
        ),
        exchange_client(
            "agent",
            "agent-secret-123",
            &["clients:read", "read:data"],
            &["https://api.example.com"],
            &[],
        ),
    ]);
    let ts = TestServer::start(cfg).await;
    let admin_aud = format!("{}/admin", ts.issuer());
    let mgmt = mgmt_token(&ts, "ops", "ops-secret-123", None).await;
    for by in [("agent", "agent-secret-123"), ("ops", "ops-secret-123")] {
        let r = ts.exchange_request(by.0, by.1, &mgmt, &[]).await;
        r.assert_oauth_error(400, "invalid_target");
        assert!(r.description().contains("cannot be exchanged"), "{r:?}");
    }
    // Nor does an exchange of an ordinary token yield one.
    let api = ts.token("ops", "ops-secret-123", &[]).await;
    assert_eq!(decode_jwt(&api).1["scope"], "read:data");
    let r = ts
        .exchange_request("agent", "agent-secret-123", &api, &[("audience", &admin_aud)])
        .await;
    r.assert_oauth_error(400, "invalid_target");
    // The ordinary exchange still works.
    let t = ts.exchange("agent", "agent-secret-123", &api, &[]).await;
    assert_eq!(decode_jwt(&t).1["scope"], "read:data");
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_resource_metadata_and_discovery() {
    let ts = TestServer::start(config(vec![])).await;
    let r = ts.get("/.well-known/oauth-protected-resource/admin").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["resource"], format!("{}/admin", ts.issuer()));
    assert_eq!(r.json["authorization_servers"], json!([ts.issuer()]));
    assert_eq!(
        r.json["scopes_supported"],
        json!([
            "clients:read",
            "clients:write",
            "scopes:read",
            "scopes:write",
            "roles:read",
            "roles:write",
            "logs:read",
            "keys:read",
            "keys:write"
        ])
    );
    assert_eq!(r.json["bearer_methods_supported"], json!(["header"]));
    let m = ts.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(m.json["management_api"], format!("{}/admin", ts.issuer()));
    assert!(
        m.json.get("registration_endpoint").is_none(),
        "registration is off by default"
    );
    ts.shutdown().await;
}

/// The README's management example: its YAML parses, and its management client reads the logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_management_example_works() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let yaml = readme
        .split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.contains("ops-console") && b.contains("dynamic_registration:"))
        .expect("the README has the management YAML example");
    let env = |k: &str| match k {
        "AUTHSEC_ADMIN_TOKEN" => Some(ADMIN.to_string()),
        "OPS_CONSOLE_SECRET" => Some("ops-console-secret-123".to_string()),
        "AUTHSEC_REGISTRATION_TOKEN" => Some("registration-0123456789".to_string()),
        _ => None,
    };
    let mut cfg = ServerConfig::from_yaml_str(yaml, env).unwrap();
    cfg.audit_log = Some("off".into());
    let ts = TestServer::start(cfg).await;
    let token = mgmt_token(&ts, "ops-console", "ops-console-secret-123", None).await;
    assert_eq!(
        decode_jwt(&token).1["scope"],
        "clients:read clients:write roles:read logs:read"
    );
    let r = ts
        .admin("GET", "/admin/logs?outcome=failure&limit=20", Some(&token), None)
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    ts.admin("GET", "/admin/clients", Some(ADMIN), None)
        .await
        .assert_oauth_error(401, "invalid_token");
    let m = ts.get("/.well-known/oauth-authorization-server").await;
    assert!(m.json["registration_endpoint"].is_string());
    ts.shutdown().await;
}
