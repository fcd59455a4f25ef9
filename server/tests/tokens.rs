//! What the token endpoint issues: clients from a YAML file with the docs' field names, scope
//! rules, audience/resource selection, the RFC 9068 token shape, and each signing algorithm,
//! checked by the core verifier against the served JWKS.
mod common;

use authsec_native::*;
use authsec_server::{ClientSpec, ServerConfig};
use common::*;
use serde_json::Value;

const YAML: &str = r#"
server:
  admin_token: ${ADMIN}
  token_lifetime: 1200
  clients:
    - client_id: ml-training-agent
      name: ML training agent
      type: ai_agent
      client_secret: ${ML_AGENT_SECRET}
      allowed_scopes: [read:data, write:logs]
      audiences: [https://api.example.com]
      token_lifetime: 900
      rate_limit: 60
    - client_id: mcp-tools
      name: MCP tool server
      type: mcp_server
      client_secret: "${MCP_SECRET}"
      allowed_scopes: [tools:call]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_from_yaml_with_the_docs_field_names() {
    let env = |k: &str| match k {
        "ADMIN" => Some("adm-yaml".to_string()),
        "ML_AGENT_SECRET" => Some("ml: secret # not a comment".to_string()),
        "MCP_SECRET" => Some("mcp-s3cret".to_string()),
        _ => None,
    };
    let mut cfg = ServerConfig::from_yaml_str(YAML, env).expect("the docs' YAML parses");
    cfg.audit_log = Some("off".into());
    let ts = TestServer::start(cfg).await;

    let t = ts.token("ml-training-agent", "ml: secret # not a comment", &[]).await;
    let (_, c) = decode_jwt(&t);
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        900,
        "the client's token_lifetime"
    );
    assert_eq!(c["aud"], "https://api.example.com");
    assert_eq!(c["scope"], "read:data write:logs");
    let t = ts.token("mcp-tools", "mcp-s3cret", &[]).await;
    let (_, c) = decode_jwt(&t);
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        1200,
        "the server's token_lifetime"
    );
    assert_eq!(c["aud"], ts.issuer(), "no audiences: the issuer");

    // name and type as the admin API shows them; no hashes in the view.
    let r = ts
        .admin("GET", "/admin/clients/ml-training-agent", Some("adm-yaml"), None)
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["name"], "ML training agent");
    assert_eq!(r.json["type"], "ai_agent");
    assert_eq!(r.json["rate_limit"], 60);
    assert_eq!(r.json["token_lifetime"], 900);
    assert!(!r.text().contains("hash") && !r.text().contains("salt"), "{r:?}");
    let r = ts
        .admin("GET", "/admin/clients/mcp-tools", Some("adm-yaml"), None)
        .await;
    assert_eq!(r.json["type"], "mcp_server");
    ts.shutdown().await;

    // Config mistakes are refused at load time.
    assert!(
        ServerConfig::from_yaml_str("clients:\n  - client_id: x\n    secret: y\n", |_: &str| None).is_err(),
        "unknown field"
    );
    assert!(
        ServerConfig::from_yaml_str("signing_alg: HS256\n", |_: &str| None).is_err(),
        "HMAC signing"
    );
    assert!(
        ServerConfig::from_yaml_str(
            "clients:\n  - client_id: x\n    client_secret: ${UNSET}\n",
            |_: &str| None
        )
        .is_err(),
        "unset var"
    );
    let no_secret = ServerConfig {
        clients: vec![ClientSpec {
            client_id: Some("x".into()),
            ..Default::default()
        }],
        ..config(vec![])
    };
    assert!(
        authsec_server::start(no_secret, Default::default()).await.is_err(),
        "a config client needs a secret or keys"
    );
    let bad_type = config(vec![ClientSpec {
        client_type: Some("robot".into()),
        ..secret_client("x", "y", &[])
    }]);
    assert!(
        authsec_server::start(bad_type, Default::default()).await.is_err(),
        "unknown client type"
    );
}

fn scoped_server_config() -> ServerConfig {
    config(vec![
        ClientSpec {
            default_scopes: Some(vec!["read:data".into()]),
            audiences: vec!["https://api.example.com".into(), "https://logs.example.com".into()],
            ..secret_client("agent", "agent-secret", &["read:data", "write:logs", "admin:all"])
        },
        secret_client("all-default", "s2", &["a", "b"]),
        secret_client("no-scopes", "s3", &[]),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_must_be_a_subset_and_default_to_the_clients_defaults() {
    let ts = TestServer::start(scoped_server_config()).await;
    let scope_of = |t: &str| decode_jwt(t).1.get("scope").cloned();

    // No scope → the client's default scopes (default_scopes, else all allowed; none → no claim).
    let r = ts
        .token_request(Some(("agent", "agent-secret")), &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(r.json["scope"], "read:data", "{r:?}");
    assert_eq!(
        scope_of(r.json["access_token"].as_str().unwrap()),
        Some("read:data".into())
    );
    assert_eq!(scope_of(&ts.token("all-default", "s2", &[]).await).unwrap(), "a b");
    let r = ts
        .token_request(Some(("no-scopes", "s3")), &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.json.get("scope").is_none() && scope_of(r.json["access_token"].as_str().unwrap()).is_none(),
        "{r:?}"
    );
    // Empty / blank scope parameter counts as none.
    assert_eq!(
        scope_of(&ts.token("agent", "agent-secret", &[("scope", "  ")]).await).unwrap(),
        "read:data"
    );

    // A subset, in the requested order, duplicates and extra spaces dropped.
    let t = ts
        .token(
            "agent",
            "agent-secret",
            &[("scope", " write:logs  read:data write:logs ")],
        )
        .await;
    assert_eq!(scope_of(&t).unwrap(), "write:logs read:data");
    assert_eq!(
        scope_of(&ts.token("agent", "agent-secret", &[("scope", "admin:all")]).await).unwrap(),
        "admin:all"
    );

    // Not a subset → invalid_scope naming exactly the refused scopes.
    let r = ts
        .token_request(
            Some(("agent", "agent-secret")),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "read:data delete:all root"),
            ],
        )
        .await;
    r.assert_oauth_error(400, "invalid_scope");
    assert!(r.description().contains("delete:all root"), "{r:?}");
    assert!(
        !r.description().contains("read:data"),
        "only the refused scopes are named: {r:?}"
    );
    let r = ts
        .token_request(
            Some(("no-scopes", "s3")),
            &[("grant_type", "client_credentials"), ("scope", "a")],
        )
        .await;
    r.assert_oauth_error(400, "invalid_scope");
    // Scope names are matched exactly (no case folding, no prefixes).
    let r = ts
        .token_request(
            Some(("agent", "agent-secret")),
            &[("grant_type", "client_credentials"), ("scope", "READ:DATA")],
        )
        .await;
    r.assert_oauth_error(400, "invalid_scope");
    let r = ts
        .token_request(
            Some(("agent", "agent-secret")),
            &[("grant_type", "client_credentials"), ("scope", "read")],
        )
        .await;
    r.assert_oauth_error(400, "invalid_scope");

    // The core client surfaces invalid_scope.
    let client = ts.client(ClientConfig {
        client_id: "agent".into(),
        client_secret: Some(Secret::new("agent-secret")),
        scopes: vec!["read:data".into(), "nope".into()],
        ..Default::default()
    });
    let e = client.get_token().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidScope, "{e}");
    assert!(e.message().contains("nope"), "{e}");
    let fails: Vec<Value> = ts
        .audit_events("token")
        .into_iter()
        .filter(|l| l["error"] == "invalid_scope")
        .collect();
    assert!(
        fails
            .iter()
            .all(|l| l["client_id"].is_string() && l["reason"].is_string()),
        "{fails:?}"
    );
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audience_and_resource_select_aud() {
    let ts = TestServer::start(scoped_server_config()).await;
    let aud_of = |t: &str| decode_jwt(t).1["aud"].clone();
    let api = "https://api.example.com";
    let logs = "https://logs.example.com";

    assert_eq!(
        aud_of(&ts.token("agent", "agent-secret", &[]).await),
        api,
        "the first audience is the default"
    );
    assert_eq!(
        aud_of(&ts.token("agent", "agent-secret", &[("audience", logs)]).await),
        logs
    );
    assert_eq!(
        aud_of(&ts.token("agent", "agent-secret", &[("resource", logs)]).await),
        logs
    );
    let both = aud_of(
        &ts.token(
            "agent",
            "agent-secret",
            &[("resource", api), ("resource", logs), ("resource", api)],
        )
        .await,
    );
    assert_eq!(
        both,
        serde_json::json!([api, logs]),
        "several resources: an array, de-duplicated"
    );
    let both = aud_of(
        &ts.token("agent", "agent-secret", &[("audience", logs), ("resource", api)])
            .await,
    );
    assert_eq!(both, serde_json::json!([logs, api]));

    for extra in [
        vec![("audience", "https://evil.example.com")],
        vec![("resource", api), ("resource", "https://evil.example.com")],
        vec![("audience", "")],
    ] {
        let mut pairs = vec![("grant_type", "client_credentials")];
        pairs.extend(extra);
        ts.token_request(Some(("agent", "agent-secret")), &pairs)
            .await
            .assert_oauth_error(400, "invalid_target");
    }
    // A client without audiences gets the issuer and may not pick one.
    assert_eq!(aud_of(&ts.token("all-default", "s2", &[]).await), ts.issuer());
    let r = ts
        .token_request(
            Some(("all-default", "s2")),
            &[("grant_type", "client_credentials"), ("audience", ts.issuer())],
        )
        .await;
    r.assert_oauth_error(400, "invalid_target");

    // Through the core client and verifier: audience selects who accepts the token.
    let client = ts.client(ClientConfig {
        client_id: "agent".into(),
        client_secret: Some(Secret::new("agent-secret")),
        audience: Some(logs.into()),
        ..Default::default()
    });
    let t = client.get_token().await.unwrap();
    let for_logs = ts.verifier(logs);
    for_logs
        .verify(t.access_token.expose())
        .await
        .expect("the logs API accepts it");
    let e = ts.verifier(api).verify(t.access_token.expose()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidAudience);
    let bad = ts.client(ClientConfig {
        client_id: "agent".into(),
        client_secret: Some(Secret::new("agent-secret")),
        resource: vec!["https://evil.example.com".into()],
        ..Default::default()
    });
    assert_eq!(bad.get_token().await.unwrap_err().code(), ErrorCode::InvalidTarget);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9068_token_shape_for_each_signing_alg() {
    for (alg, kty) in [("ES256", "EC"), ("RS256", "RSA"), ("EdDSA", "OKP")] {
        let cfg = ServerConfig {
            signing_alg: alg.into(),
            ..scoped_server_config()
        };
        let ts = TestServer::start(cfg).await;
        let r = ts
            .token_request(
                Some(("agent", "agent-secret")),
                &[("grant_type", "client_credentials"), ("scope", "read:data write:logs")],
            )
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(r.json["token_type"], "Bearer");
        assert_eq!(r.json["expires_in"], 3600);
        assert_eq!(r.json["scope"], "read:data write:logs");
        let token = r.json["access_token"].as_str().unwrap();
        let (h, c) = decode_jwt(token);
        assert_eq!(h["typ"], "at+jwt", "{alg}");
        assert_eq!(h["alg"], alg);
        let jwks = ts.get("/.well-known/jwks.json").await;
        assert!(
            jwks.header("cache-control").is_some_and(|v| v.contains("max-age=300")),
            "{jwks:?}"
        );
        let keys = jwks.json["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0]["kid"], h["kid"], "{alg}: header kid is the published key");
        assert_eq!(keys[0]["kty"], kty);
        assert!(
            keys[0].get("d").is_none() && keys[0].get("p").is_none(),
            "no private parts in the JWKS"
        );
        for claim in ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"] {
            assert!(c.get(claim).is_some(), "{alg}: claim {claim} missing in {c}");
        }
        assert_eq!(c["iss"], ts.issuer());
        assert_eq!(c["sub"], "agent");
        assert_eq!(c["client_id"], "agent");
        assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 3600);
        assert!((c["iat"].as_i64().unwrap() - ts.now_s()).abs() <= 5);
        // jti is unique per token.
        let other = ts.token("agent", "agent-secret", &[]).await;
        assert_ne!(decode_jwt(&other).1["jti"], c["jti"]);

        // The core verifier, restricted to this alg and strict about typ, accepts it.
        let mut vc = VerifierConfig::new(ts.issuer(), "https://api.example.com");
        vc.algorithms = vec![Alg::parse(alg).unwrap()];
        vc.typ = TypPolicy::Strict;
        vc.required_claims = ["sub", "client_id", "iat", "jti"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let v = ts.verifier_with(vc, JwksPolicy::default());
        let claims = v
            .verify_with_scopes(token, &ScopeRequirement::all(&["write:logs"]))
            .await
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(claims.client_id(), Some("agent"));
        // Tampering is caught.
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        parts[1] = authsec_core::util::b64url_encode(c.to_string().replace("read:data", "admin:all").as_bytes());
        let e = v.verify(&parts.join(".")).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidSignature, "{alg}");

        // Metadata (RFC 8414) names the endpoints and this alg.
        let m = ts.get("/.well-known/oauth-authorization-server").await;
        assert_eq!(m.json["issuer"], ts.issuer());
        assert_eq!(m.json["token_endpoint"], ts.token_url());
        assert_eq!(m.json["jwks_uri"], ts.jwks_url());
        assert_eq!(
            m.json["access_token_signing_alg_values_supported"],
            serde_json::json!([alg])
        );
        assert_eq!(
            m.json["grant_types_supported"],
            serde_json::json!(["client_credentials"])
        );
        ts.shutdown().await;
    }
    let bad = ServerConfig {
        signing_alg: "HS256".into(),
        ..config(vec![])
    };
    assert!(authsec_server::start(bad, Default::default()).await.is_err());
}
