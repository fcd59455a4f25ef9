//! The scope registry (`/admin/scopes`) and paged lists: register, list with the clients and
//! roles using each scope, 409 on a duplicate and on deleting a scope still in use (naming the
//! users), management scope names refused, registered scopes in `scopes_supported`; clients and
//! scopes read page by page without gaps or repeats.
mod common;

use authsec_server::{RoleSpec, ServerConfig};
use common::*;
use serde_json::{json, Value};

fn cfg() -> ServerConfig {
    let mut cfg = config(vec![
        secret_client(
            "ops",
            "ops-secret-123",
            &["scopes:read", "scopes:write", "clients:read", "clients:write"],
        ),
        secret_client("reader", "reader-secret-123", &["read:data"]),
    ]);
    cfg.roles.insert(
        "analyst".into(),
        RoleSpec {
            scopes: vec!["read:data".into(), "report:run".into()],
            audiences: vec![],
        },
    );
    cfg
}

async fn ops_token(ts: &TestServer) -> String {
    let resource = format!("{}/admin", ts.issuer());
    ts.token("ops", "ops-secret-123", &[("resource", &resource)]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_are_registered_listed_and_deleted_only_when_unused() {
    let ts = TestServer::start(cfg()).await;
    let t = ops_token(&ts).await;
    let r = ts
        .admin(
            "POST",
            "/admin/scopes",
            Some(&t),
            Some(json!({"name": "read:data", "description": "Read the data API"})),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(
        r.json,
        json!({"name": "read:data", "description": "Read the data API", "clients": ["reader"], "roles": ["analyst"]})
    );
    let r = ts
        .admin("POST", "/admin/scopes", Some(&t), Some(json!({"name": "unused:scope"})))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json["description"], "");
    ts.admin("POST", "/admin/scopes", Some(&t), Some(json!({"name": "read:data"})))
        .await
        .assert_oauth_error(409, "conflict");
    for bad in [
        json!({"name": "clients:write"}),
        json!({"name": "a b"}),
        json!({"description": "no name"}),
        json!({"name": "x", "colour": "red"}),
    ] {
        ts.admin("POST", "/admin/scopes", Some(&t), Some(bad))
            .await
            .assert_oauth_error(400, "invalid_request");
    }
    // Registered scopes are advertised (an unregistered one still works for its client).
    let m = ts.get("/.well-known/oauth-authorization-server").await;
    let supported = m.json["scopes_supported"].as_array().unwrap();
    assert!(supported.contains(&json!("unused:scope")) && supported.contains(&json!("read:data")));

    // In use: 409 naming the client and the role.
    let r = ts.admin("DELETE", "/admin/scopes/read:data", Some(&t), None).await;
    r.assert_oauth_error(409, "conflict");
    assert!(
        r.description().contains("reader") && r.description().contains("analyst"),
        "{r:?}"
    );
    let r = ts.admin("DELETE", "/admin/scopes/unused:scope", Some(&t), None).await;
    assert_eq!(r.status, 204, "{r:?}");
    ts.admin("DELETE", "/admin/scopes/unused:scope", Some(&t), None)
        .await
        .assert_oauth_error(404, "not_found");
    let r = ts.admin("GET", "/admin/scopes", Some(&t), None).await;
    assert_eq!(r.json["scopes"].as_array().unwrap().len(), 1);
    assert_eq!(r.json["next_cursor"], Value::Null);
    let actors: Vec<Value> = ts
        .audit_events("scope_created")
        .iter()
        .map(|l| l["actor"].clone())
        .collect();
    assert_eq!(actors, [json!("ops"), json!("ops")]);
    ts.shutdown().await;
}

/// Every page of a list endpoint, following `next_cursor` (at most 20 pages).
async fn all_pages(ts: &TestServer, t: &str, path: &str, key: &str, limit: usize) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let url = match &cursor {
            None => format!("{path}?limit={limit}"),
            Some(c) => format!("{path}?limit={limit}&cursor={}", form_encode(c)),
        };
        let r = ts.admin("GET", &url, Some(t), None).await;
        assert_eq!(r.status, 200, "{r:?}");
        let names = r.json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                v[if key == "clients" { "client_id" } else { "name" }]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        pages.push(names);
        match r.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return pages,
        }
    }
    panic!("more than 20 pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_and_scopes_are_paged() {
    let ts = TestServer::start(cfg()).await;
    let t = ops_token(&ts).await;
    for i in 0..9 {
        let r = ts
            .admin(
                "POST",
                "/admin/clients",
                Some(&t),
                Some(json!({"client_id": format!("c{i}")})),
            )
            .await;
        assert_eq!(r.status, 201, "{r:?}");
        let r = ts
            .admin(
                "POST",
                "/admin/scopes",
                Some(&t),
                Some(json!({"name": format!("s{i}")})),
            )
            .await;
        assert_eq!(r.status, 201, "{r:?}");
    }
    // 11 clients (ops and reader too) in pages of 4; 9 scopes in pages of 4.
    let pages = all_pages(&ts, &t, "/admin/clients", "clients", 4).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 3]);
    let flat: Vec<String> = pages.concat();
    let mut sorted = flat.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(flat, sorted, "ordered by client_id, each once");
    assert_eq!(flat.len(), 11);
    let pages = all_pages(&ts, &t, "/admin/scopes", "scopes", 4).await;
    assert_eq!(pages.concat(), (0..9).map(|i| format!("s{i}")).collect::<Vec<_>>());
    // A cursor stays valid when items are added before it.
    let r = ts.admin("GET", "/admin/clients?limit=2", Some(&t), None).await;
    let cursor = r.json["next_cursor"].as_str().unwrap().to_string();
    ts.admin(
        "POST",
        "/admin/clients",
        Some(&t),
        Some(json!({"client_id": "a-first"})),
    )
    .await;
    let r = ts
        .admin(
            "GET",
            &format!("/admin/clients?limit=2&cursor={}", form_encode(&cursor)),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.json["clients"][0]["client_id"], "c2");
    for bad in ["limit=0", "limit=201", "limit=two", "cursor=%25%25", "sort=name"] {
        ts.admin("GET", &format!("/admin/clients?{bad}"), Some(&t), None)
            .await
            .assert_oauth_error(400, "invalid_request");
    }
    ts.shutdown().await;
}
