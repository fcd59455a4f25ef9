//! RFC 7591 dynamic registration and RFC 7592 client configuration: off (404) without the config
//! section; the initial access token; a registered client gets tokens; scopes outside
//! `allowed_scopes` (and management scopes) are `invalid_client_metadata`; read, replace and
//! delete with the registration access token, and 401 with a wrong one.
mod common;

use authsec_server::{DynamicRegistrationConfig, ServerConfig};
use common::*;
use serde_json::{json, Value};

const INITIAL: &str = "initial-access-0123456789";

fn cfg() -> ServerConfig {
    ServerConfig {
        dynamic_registration: Some(DynamicRegistrationConfig {
            initial_access_token: Some(INITIAL.into()),
            allowed_scopes: vec!["read:data".into(), "write:data".into()],
            allowed_types: Some(vec!["m2m".into(), "ai_agent".into(), "web".into()]),
            ..Default::default()
        }),
        ..config(vec![])
    }
}

async fn call(ts: &TestServer, method: &str, path: &str, bearer: Option<&str>, body: Option<Value>) -> Resp {
    ts.admin(method, path, bearer, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_is_off_without_its_section() {
    let ts = TestServer::start(config(vec![])).await;
    call(
        &ts,
        "POST",
        "/oauth/register",
        Some(INITIAL),
        Some(json!({"client_name": "x"})),
    )
    .await
    .assert_oauth_error(404, "not_found");
    call(&ts, "GET", "/oauth/register/x", Some("t"), None)
        .await
        .assert_oauth_error(404, "not_found");
    let m = ts.get("/.well-known/oauth-authorization-server").await;
    assert!(m.json.get("registration_endpoint").is_none());
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_get_a_token_then_read_update_delete() {
    let ts = TestServer::start(cfg()).await;
    let m = ts.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(
        m.json["registration_endpoint"],
        format!("{}/oauth/register", ts.issuer())
    );
    let meta = json!({"client_name": "Research agent", "client_type": "ai_agent", "scope": "read:data",
                      "grant_types": ["client_credentials"], "software_id": "research", "software_version": "1.2",
                      "client_uri": "https://agents.example.com", "contacts": ["ops@example.com"]});
    // The initial access token is needed.
    for bearer in [None, Some("wrong"), Some(&INITIAL[1..])] {
        let r = call(&ts, "POST", "/oauth/register", bearer, Some(meta.clone())).await;
        r.assert_oauth_error(401, "invalid_token");
        assert!(r.header("www-authenticate").is_some_and(|c| c.starts_with("Bearer")));
    }
    let r = call(&ts, "POST", "/oauth/register", Some(INITIAL), Some(meta.clone())).await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let id = r.json["client_id"].as_str().unwrap().to_string();
    let secret = r.json["client_secret"].as_str().unwrap().to_string();
    let reg_token = r.json["registration_access_token"].as_str().unwrap().to_string();
    let uri = format!("{}/oauth/register/{id}", ts.issuer());
    assert_eq!(r.json["registration_client_uri"], uri.as_str());
    assert_eq!(r.json["client_secret_expires_at"], 0);
    assert!(r.json["client_id_issued_at"].is_i64());
    assert_eq!(r.json["client_name"], "Research agent");
    assert_eq!(r.json["client_type"], "ai_agent");
    assert_eq!(r.json["scope"], "read:data");
    assert_eq!(r.json["software_version"], "1.2");
    assert_eq!(r.json["token_endpoint_auth_method"], "client_secret_basic");
    assert!(r.json.get("contacts").is_none(), "unknown metadata is ignored");

    // The registered client gets tokens.
    let t = ts.token(&id, &secret, &[("scope", "read:data")]).await;
    assert_eq!(decode_jwt(&t).1["client_id"], id.as_str());

    // RFC 7592 read, with the registration access token only.
    let path = format!("/oauth/register/{id}");
    let r = call(&ts, "GET", &path, Some(&reg_token), None).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["client_id"], id.as_str());
    assert!(r.json.get("client_secret").is_none() && r.json.get("registration_access_token").is_none());
    for wrong in [None, Some(INITIAL), Some(secret.as_str()), Some(&reg_token[1..])] {
        call(&ts, "GET", &path, wrong, None)
            .await
            .assert_oauth_error(401, "invalid_token");
        call(&ts, "PUT", &path, wrong, Some(json!({"client_id": id})))
            .await
            .assert_oauth_error(401, "invalid_token");
        call(&ts, "DELETE", &path, wrong, None)
            .await
            .assert_oauth_error(401, "invalid_token");
    }
    call(&ts, "GET", "/oauth/register/nosuch", Some(&reg_token), None)
        .await
        .assert_oauth_error(401, "invalid_token");

    // Replace: the secret may be echoed, not changed; the type stays.
    let mut new_meta = json!({"client_id": id, "client_secret": secret, "client_name": "Research agent 2",
                              "client_type": "ai_agent", "scope": "read:data write:data"});
    let r = call(&ts, "PUT", &path, Some(&reg_token), Some(new_meta.clone())).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["client_name"], "Research agent 2");
    assert_eq!(r.json["scope"], "read:data write:data");
    assert!(r.json.get("software_id").is_none(), "a full replacement");
    ts.token(&id, &secret, &[("scope", "write:data")]).await;
    new_meta["client_secret"] = json!("a-new-secret-123");
    call(&ts, "PUT", &path, Some(&reg_token), Some(new_meta.clone()))
        .await
        .assert_oauth_error(400, "invalid_client_metadata");
    new_meta["client_secret"] = json!(secret);
    new_meta["client_type"] = json!("m2m");
    call(&ts, "PUT", &path, Some(&reg_token), Some(new_meta.clone()))
        .await
        .assert_oauth_error(400, "invalid_client_metadata");
    new_meta["client_type"] = json!("ai_agent");
    new_meta["scope"] = json!("clients:write");
    call(&ts, "PUT", &path, Some(&reg_token), Some(new_meta))
        .await
        .assert_oauth_error(400, "invalid_client_metadata");

    // Delete: the client is gone.
    let r = call(&ts, "DELETE", &path, Some(&reg_token), None).await;
    assert_eq!(r.status, 204, "{r:?}");
    ts.token_request(Some((&id, &secret)), &[("grant_type", "client_credentials")])
        .await
        .assert_oauth_error(401, "invalid_client");
    call(&ts, "GET", &path, Some(&reg_token), None)
        .await
        .assert_oauth_error(401, "invalid_token");
    assert_audit_clean(&ts, &[INITIAL, &secret, &reg_token, &t]);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_outside_the_policy_are_refused() {
    let ts = TestServer::start(cfg()).await;
    for (meta, code) in [
        (json!({"scope": "read:data admin"}), "invalid_client_metadata"),
        (json!({"scope": "clients:write"}), "invalid_client_metadata"),
        (json!({"scope": "logs:read"}), "invalid_client_metadata"),
        (
            json!({"client_type": "mobile", "redirect_uris": ["com.example.app:/cb"]}),
            "invalid_client_metadata",
        ),
        (json!({"client_type": "robot"}), "invalid_client_metadata"),
        (
            json!({"client_type": "web", "redirect_uris": ["http://app.example.com/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"client_type": "web", "redirect_uris": ["https://app.example.com/cb#f"]}),
            "invalid_redirect_uri",
        ),
        (json!({"client_type": "web"}), "invalid_client_metadata"),
        (json!({"grant_types": ["password"]}), "invalid_client_metadata"),
        (json!({"client_name": 5}), "invalid_client_metadata"),
        (
            json!({"logo_uri": "http://cdn.example.com/l.png"}),
            "invalid_client_metadata",
        ),
    ] {
        let r = call(&ts, "POST", "/oauth/register", Some(INITIAL), Some(meta.clone())).await;
        r.assert_oauth_error(400, code);
    }
    // A web app with a callback registers (public, with none, gets no secret).
    let r = call(
        &ts,
        "POST",
        "/oauth/register",
        Some(INITIAL),
        Some(json!({"client_type": "web", "token_endpoint_auth_method": "none",
                    "redirect_uris": ["https://app.example.com/cb"], "scope": "read:data"})),
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert!(r.json.get("client_secret").is_none() && r.json.get("client_secret_expires_at").is_none());
    assert_eq!(r.json["redirect_uris"], json!(["https://app.example.com/cb"]));
    assert_eq!(r.json["grant_types"], json!(["authorization_code", "refresh_token"]));
    // Nothing registered by the refusals.
    assert_eq!(ts.server.state().clients.read().len(), 1);
    ts.shutdown().await;
}
