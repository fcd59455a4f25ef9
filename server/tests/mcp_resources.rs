//! `mcp_server` clients as resources: the MCP server's URL (canonical) is the audience of tokens
//! issued for it; other clients list the server's client id (or the URL) among their audiences
//! and ask with RFC 8707 `resource`, written in any case or with the default port.
mod common;

use authsec_server::{ClientSpec, RoleSpec, ServerConfig};
use common::*;
use serde_json::{json, Value};

const ADMIN: &str = "adm-mcp-0123";
const FILES: &str = "http://127.0.0.1:8123/mcp";

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn mcp_config() -> ServerConfig {
    ServerConfig {
        admin_token: Some(ADMIN.into()),
        roles: [(
            "files-reader".to_string(),
            RoleSpec {
                scopes: strings(&["files:read"]),
                audiences: strings(&["files-mcp"]),
            },
        )]
        .into_iter()
        .collect(),
        ..config(vec![
            ClientSpec {
                client_type: Some("mcp_server".into()),
                resource: Some("HTTP://127.0.0.1:8123/mcp".into()),
                ..secret_client("files-mcp", "files-secret", &[])
            },
            ClientSpec {
                client_type: Some("ai_agent".into()),
                audiences: strings(&["files-mcp"]),
                ..secret_client("agent", "agent-secret", &["files:read", "files:write"])
            },
            ClientSpec {
                client_type: Some("ai_agent".into()),
                roles: strings(&["files-reader"]),
                ..secret_client("reader", "reader-secret", &[])
            },
            secret_client("other", "other-secret", &["files:read"]),
        ])
    }
}

fn aud(token: &str) -> Value {
    decode_jwt(token).1["aud"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_for_a_registered_mcp_server_carry_its_canonical_url() {
    let ts = TestServer::start(mcp_config()).await;
    for asked in [
        FILES,
        "HTTP://127.0.0.1:80/x",
        "http://127.0.0.1:8123/mcp",
        "HTTP://127.0.0.1:8123/mcp",
    ] {
        let r = ts
            .token_request(
                Some(("agent", "agent-secret")),
                &[("grant_type", "client_credentials"), ("resource", asked)],
            )
            .await;
        if asked.ends_with("/x") {
            assert_eq!(r.status, 400, "{r:?}");
            assert_eq!(r.json["error"], "invalid_target");
            continue;
        }
        assert_eq!(r.status, 200, "{asked}: {r:?}");
        assert_eq!(aud(r.json["access_token"].as_str().unwrap()), json!(FILES), "{asked}");
    }
    // No resource asked: the first audience, the server's URL too.
    assert_eq!(aud(&ts.token("agent", "agent-secret", &[]).await), json!(FILES));
    // Through a role that lists the MCP server's client id.
    let t = ts.token("reader", "reader-secret", &[("resource", FILES)]).await;
    assert_eq!(aud(&t), json!(FILES));
    // A client that does not list it is refused.
    let r = ts
        .token_request(
            Some(("other", "other-secret")),
            &[("grant_type", "client_credentials"), ("resource", FILES)],
        )
        .await;
    assert_eq!((r.status, r.json["error"].as_str()), (400, Some("invalid_target")));
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_mcp_server_clients_name_a_resource_and_it_is_a_url() {
    let ts = TestServer::start(mcp_config()).await;
    let r = ts
        .admin(
            "POST",
            "/admin/clients",
            Some(ADMIN),
            Some(json!({"client_id": "svc", "client_secret": "s", "resource": "https://x.example/mcp"})),
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(
        r.json["error_description"]
            .as_str()
            .unwrap()
            .contains("only mcp_server clients"),
        "{r:?}"
    );
    let r = ts
        .admin(
            "POST",
            "/admin/clients",
            Some(ADMIN),
            Some(json!({"client_id": "m2", "type": "mcp_server", "client_secret": "s", "resource": "ftp://x"})),
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    // PATCH moves the server: tokens follow at the next request.
    let r = ts
        .admin(
            "PATCH",
            "/admin/clients/files-mcp",
            Some(ADMIN),
            Some(json!({"resource": "https://Files.example/mcp"})),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["resource"], "https://files.example/mcp");
    assert_eq!(
        aud(&ts.token("agent", "agent-secret", &[]).await),
        json!("https://files.example/mcp")
    );
    ts.shutdown().await;
}
