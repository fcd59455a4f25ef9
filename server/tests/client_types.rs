//! Client types and fields: each of the five types created through the API (and a token for each
//! type that can get one), every invalid combination refused with `invalid_client_metadata`
//! naming the field, PATCH of the mutable fields, and a `jwks_uri` client doing
//! `private_key_jwt` against a JWKS served on 127.0.0.1 (cached per its `Cache-Control`,
//! fetched again for an unknown `kid`).
mod common;

use authsec_native::*;
use authsec_server::ServerConfig;
use common::*;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const ADMIN: &str = "bootstrap-0123456789";

fn admin_config() -> ServerConfig {
    ServerConfig {
        admin_token: Some(ADMIN.into()),
        ..config(vec![])
    }
}

async fn create(ts: &TestServer, body: Value) -> Resp {
    ts.admin("POST", "/admin/clients", Some(ADMIN), Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_type_is_created_and_each_confidential_one_gets_a_token() {
    let ts = TestServer::start(admin_config()).await;
    let bodies = [
        json!({"client_id": "svc", "type": "m2m", "allowed_scopes": ["read"]}),
        json!({"client_id": "agent", "type": "ai_agent", "allowed_scopes": ["read"],
               "rate_limits": {"requests_per_minute": 100, "tokens_per_day": 1000}}),
        json!({"client_id": "mcp", "type": "mcp_server", "resource": "https://mcp.example.com/mcp", "allowed_scopes": ["read"]}),
        json!({"client_id": "webapp", "type": "web", "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
               "callbacks": ["https://app.example.com/callback", "http://127.0.0.1:3000/cb"],
               "web_origins": ["https://app.example.com"], "logo": "https://cdn.example.com/logo.png",
               "website": "https://app.example.com", "allowed_scopes": ["read"]}),
        json!({"client_id": "phone", "type": "mobile", "callbacks": ["com.example.app:/oauth2redirect"],
               "web_origins": ["http://localhost:8100"], "allowed_scopes": ["read"]}),
    ];
    let mut secrets = Vec::new();
    for b in bodies {
        let r = create(&ts, b.clone()).await;
        assert_eq!(r.status, 201, "{r:?}");
        assert_eq!(r.json["type"], b["type"]);
        assert!(r.json["created_at"].is_i64() && r.json["updated_at"] == r.json["created_at"]);
        for field in ["callbacks", "web_origins", "logo", "website", "rate_limits", "resource"] {
            if let Some(v) = b.get(field) {
                assert_eq!(&r.json[field], v, "{field} is shown as set");
            }
        }
        secrets.push(r.json["client_secret"].as_str().map(str::to_string));
    }
    // The mobile app is public: method none, no secret, no auth method; its grants by default.
    let phone = ts.admin("GET", "/admin/clients/phone", Some(ADMIN), None).await;
    assert_eq!(phone.json["token_endpoint_auth_method"], "none");
    assert_eq!(phone.json["auth_methods"], json!(["none"]));
    assert_eq!(
        phone.json["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(phone.json["secrets"], json!([]));
    assert!(secrets[4].is_none());

    for (id, secret) in ["svc", "agent", "mcp", "webapp"].iter().zip(&secrets) {
        let secret = secret
            .as_deref()
            .expect("a confidential client gets a generated secret");
        let t = ts.token(id, secret, &[]).await;
        assert_eq!(decode_jwt(&t).1["client_id"], *id);
    }
    // A public client cannot authenticate, and the user-facing grants are not served yet.
    let r = ts
        .token_request(None, &[("grant_type", "client_credentials"), ("client_id", "phone")])
        .await;
    r.assert_oauth_error(401, "invalid_client");
    assert!(r.description().contains("public client"), "{r:?}");
    let r = ts
        .token_request(
            None,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "phone"),
                ("code", "x"),
            ],
        )
        .await;
    r.assert_oauth_error(400, "unsupported_grant_type");

    // The type filter and the page of clients.
    let r = ts.admin("GET", "/admin/clients?type=mobile", Some(ADMIN), None).await;
    assert_eq!(r.json["clients"].as_array().unwrap().len(), 1);
    assert_eq!(r.json["clients"][0]["client_id"], "phone");
    assert_eq!(r.json["next_cursor"], Value::Null);
    ts.admin("GET", "/admin/clients?type=robot", Some(ADMIN), None)
        .await
        .assert_oauth_error(400, "invalid_request");
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_combinations_are_refused_naming_the_field() {
    let ts = TestServer::start(admin_config()).await;
    let long = format!("https://cdn.example.com/{}", "x".repeat(2048));
    let cases = [
        (
            json!({"type": "mobile", "client_secret": "a-secret-1234"}),
            "client_secret",
        ),
        (
            json!({"type": "mobile", "jwks_uri": "https://keys.example.com/jwks"}),
            "jwks_uri",
        ),
        (
            json!({"type": "mobile", "callbacks": ["com.example.app:/cb"], "token_endpoint_auth_method": "client_secret_basic"}),
            "token_endpoint_auth_method",
        ),
        (
            json!({"type": "m2m", "token_endpoint_auth_method": "none"}),
            "token_endpoint_auth_method",
        ),
        (
            json!({"type": "ai_agent", "token_endpoint_auth_method": "none"}),
            "token_endpoint_auth_method",
        ),
        (
            json!({"type": "web", "token_endpoint_auth_method": "none", "callbacks": ["https://a.example/cb"],
                "grant_types": ["authorization_code", "client_credentials"]}),
            "grant_types",
        ),
        (
            json!({"type": "web", "token_endpoint_auth_method": "none", "client_secret": "a-secret-1234",
                "callbacks": ["https://a.example/cb"]}),
            "client_secret",
        ),
        (json!({"type": "web"}), "callbacks"),
        (
            json!({"type": "m2m", "callbacks": ["https://a.example/cb"]}),
            "callbacks",
        ),
        (
            json!({"type": "web", "callbacks": ["http://a.example/cb"]}),
            "callbacks",
        ),
        (
            json!({"type": "web", "callbacks": ["https://a.example/cb#frag"]}),
            "callbacks",
        ),
        (json!({"type": "web", "callbacks": ["/relative/cb"]}), "callbacks"),
        (json!({"type": "mobile", "callbacks": ["myapp:/cb"]}), "callbacks"),
        (
            json!({"type": "web", "callbacks": ["com.example.app:/cb"]}),
            "callbacks",
        ),
        (
            json!({"type": "m2m", "web_origins": ["https://a.example"]}),
            "web_origins",
        ),
        (
            json!({"type": "web", "callbacks": ["https://a.example/cb"], "web_origins": ["https://a.example/path"]}),
            "web_origins",
        ),
        (json!({"logo": "http://cdn.example.com/l.png"}), "logo"),
        (json!({"logo": long}), "logo"),
        (json!({"website": "not a url"}), "website"),
        (
            json!({"type": "m2m", "rate_limits": {"requests_per_minute": 10}}),
            "rate_limits",
        ),
        (
            json!({"type": "ai_agent", "rate_limits": {"tokens_per_day": 0}}),
            "rate_limits",
        ),
        (json!({"type": "ai_agent", "rate_limits": {"per_hour": 5}}), "per_hour"),
        (
            json!({"type": "m2m", "resource": "https://mcp.example.com"}),
            "resource",
        ),
        (
            json!({"jwks": {"keys": []}, "jwks_uri": "https://keys.example.com/jwks"}),
            "jwks",
        ),
        (json!({"jwks_uri": "http://keys.example.com/jwks"}), "jwks_uri"),
        (json!({"token_endpoint_auth_method": "private_key_jwt"}), "jwks"),
        (json!({"token_lifetime": 0}), "token_lifetime"),
        (json!({"token_lifetime": 86_401}), "token_lifetime"),
        (json!({"name": "n".repeat(201)}), "name"),
        (json!({"description": "d".repeat(2001)}), "description"),
        (json!({"type": "robot"}), "type"),
        (json!({"grant_types": ["password"]}), "grant_types"),
        (json!({"frobnicate": true}), "frobnicate"),
        (json!({"jwks_file": "/etc/passwd"}), "jwks_file"),
    ];
    for (body, field) in cases {
        let r = create(&ts, body.clone()).await;
        r.assert_oauth_error(400, "invalid_client_metadata");
        assert!(r.description().contains(field), "{body} → {r:?} should name {field}");
    }
    // Nothing was created.
    let r = ts.admin("GET", "/admin/clients", Some(ADMIN), None).await;
    assert_eq!(r.json["clients"], json!([]));
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_changes_every_mutable_field_and_refuses_the_others() {
    let ts = TestServer::start_with_clock(admin_config(), manual_clock()).await;
    let r = create(
        &ts,
        json!({"client_id": "webapp", "type": "web", "callbacks": ["https://a.example/cb"], "allowed_scopes": ["read"]}),
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    let created = r.json["created_at"].as_i64().unwrap();
    ts.advance(5);
    let change = json!({
        "name": "Web app", "description": "the shop", "logo": "https://cdn.example.com/l.png",
        "website": "https://a.example", "web_origins": ["https://a.example"],
        "callbacks": ["https://a.example/cb2", "http://localhost:5173/cb"],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "allowed_scopes": ["read", "write"], "default_scopes": ["read"], "audiences": ["https://api.example.com"],
        "token_lifetime": 600, "rate_limit": 30, "may_act": ["other"], "dpop_bound_access_tokens": false,
    });
    let r = ts
        .admin("PATCH", "/admin/clients/webapp", Some(ADMIN), Some(change.clone()))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    for (k, v) in change.as_object().unwrap() {
        if k != "dpop_bound_access_tokens" {
            assert_eq!(&r.json[k], v, "{k}");
        }
    }
    assert_eq!(r.json["created_at"].as_i64().unwrap(), created);
    assert_eq!(r.json["updated_at"].as_i64().unwrap(), created + 5);
    // null unsets.
    let r = ts
        .admin(
            "PATCH",
            "/admin/clients/webapp",
            Some(ADMIN),
            Some(json!({"logo": null, "default_scopes": null})),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        r.json.get("logo").is_none() && r.json.get("default_scopes").is_none(),
        "{r:?}"
    );
    assert_eq!(r.json["website"], "https://a.example", "untouched fields stay");
    // What cannot change, and what is invalid after the change, is refused naming the field.
    for (body, field) in [
        (json!({"client_id": "other"}), "client_id"),
        (json!({"type": "m2m"}), "type"),
        (json!({"client_secret": "new-secret-1234"}), "client_secret"),
        (json!({"grant_types": ["client_credentials"]}), "callbacks"),
        (json!({"callbacks": ["https://a.example/cb#x"]}), "callbacks"),
        (json!({"unknown_field": 1}), "unknown_field"),
    ] {
        let r = ts
            .admin("PATCH", "/admin/clients/webapp", Some(ADMIN), Some(body.clone()))
            .await;
        r.assert_oauth_error(400, "invalid_client_metadata");
        assert!(r.description().contains(field), "{body} → {r:?}");
    }
    // Repeating the id and the type unchanged is fine.
    let r = ts
        .admin(
            "PATCH",
            "/admin/clients/webapp",
            Some(ADMIN),
            Some(json!({"client_id": "webapp", "type": "web"})),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    ts.shutdown().await;
}

/// A JWKS server on 127.0.0.1 that counts its requests.
struct JwksServer {
    addr: std::net::SocketAddr,
    keys: Arc<Mutex<Value>>,
    hits: Arc<AtomicUsize>,
    stop: tokio::sync::oneshot::Sender<()>,
}

async fn jwks_server(jwks: Value) -> JwksServer {
    let keys = Arc::new(Mutex::new(jwks));
    let hits = Arc::new(AtomicUsize::new(0));
    let (k, h) = (keys.clone(), hits.clone());
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let (k, h) = (k.clone(), h.clone());
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                let body = k.lock().to_string();
                (
                    [("cache-control", "max-age=60"), ("content-type", "application/json")],
                    body,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    JwksServer { addr, keys, hits, stop }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_uri_client_does_private_key_jwt() {
    let key1 = SigningKey::generate(Alg::ES256, Some("k1".into())).unwrap();
    let js = jwks_server(jwks_of(&key1)).await;
    let ts = TestServer::start_with_clock(admin_config(), manual_clock()).await;
    let uri = format!("http://{}/jwks", js.addr);
    let r = create(
        &ts,
        json!({"client_id": "remote", "jwks_uri": uri, "allowed_scopes": ["read"]}),
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json["auth_methods"], json!(["private_key_jwt"]));
    assert_eq!(r.json["jwks_uri"], uri.as_str());
    assert!(r.json.get("client_secret").is_none());
    let client_for = |key: &SigningKey| {
        ts.client(ClientConfig {
            client_id: "remote".into(),
            auth_method: AuthMethod::PrivateKeyJwt,
            private_key: Some(key.to_pem().clone()),
            private_key_id: Some(key.kid().into()),
            ..Default::default()
        })
    };
    client_for(&key1)
        .get_token()
        .await
        .expect("private_key_jwt with the jwks_uri's key");
    assert_eq!(js.hits.load(Ordering::SeqCst), 1);
    // Cached per Cache-Control (60 s): no fetch for the next assertion.
    ts.advance(10);
    client_for(&key1).get_token().await.unwrap();
    assert_eq!(js.hits.load(Ordering::SeqCst), 1, "served from the cache");

    // The client rotates its key: an assertion with the unknown kid makes one refetch.
    let key2 = SigningKey::generate(Alg::ES256, Some("k2".into())).unwrap();
    *js.keys.lock() = jwks_of(&key2);
    ts.advance(30);
    client_for(&key2)
        .get_token()
        .await
        .expect("the new key after one refetch");
    assert_eq!(js.hits.load(Ordering::SeqCst), 2);
    // The old key is gone from the JWKS: refused, with no further fetch within the cooldown.
    let r = client_for(&key1).get_token().await.unwrap_err();
    assert_eq!(r.code(), ErrorCode::InvalidClient, "{r}");
    assert_eq!(js.hits.load(Ordering::SeqCst), 2);
    // A key it never published: refused.
    let stranger = SigningKey::generate(Alg::ES256, Some("k2".into())).unwrap();
    assert!(client_for(&stranger).get_token().await.is_err());
    let _ = js.stop.send(());
    ts.shutdown().await;
}
