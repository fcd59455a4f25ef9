//! The MCP client side over the fake transport: discovery from a 401 (the challenge's
//! resource_metadata, else the well-known URLs), the checks that keep credentials at the
//! configured issuer and tokens for this server, the resource indicator, step-up on 403 and the
//! bound on retries.

mod support;

use authsec_core::mcp::client::{Attempt, McpClient, Next};
use support::*;

const SERVER: &str = "https://mcp.test/mcp";
const PRM_HINT: &str = "https://mcp.test/prm";
const PRM_AWARE: &str = "https://mcp.test/.well-known/oauth-protected-resource/mcp";
const AS_META: &str = "https://auth.test/.well-known/oauth-authorization-server";

fn prm(resource: &str, servers: &[&str]) -> HttpResponse {
    HttpResponse::json(
        200,
        &json!({"resource": resource, "authorization_servers": servers, "scopes_supported": ["files:read", "files:write"]}),
    )
}

fn as_meta() -> HttpResponse {
    HttpResponse::json(
        200,
        &json!({"issuer": ISS, "token_endpoint": TOKEN_URL, "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"]}),
    )
}

/// A server whose metadata is at the hint and the path-aware URL, and a token endpoint that
/// answers `tok-<n>`.
fn routes(prm_doc: HttpResponse) -> impl Fn(&HttpRequest, usize) -> Result<HttpResponse> + Send + Sync + 'static {
    move |req, n| {
        Ok(match req.url.as_str() {
            PRM_HINT | PRM_AWARE => prm_doc.clone(),
            AS_META => as_meta(),
            TOKEN_URL => token_json(&format!("tok-{n}"), 3600),
            _ => status(404),
        })
    }
}

fn mcp_cfg() -> ClientConfig {
    ClientConfig {
        token_url: None,
        issuer: Some(ISS.into()),
        scopes: vec![],
        ..cfg()
    }
}

fn client(fake: &Arc<Fake>, cfg: ClientConfig) -> McpClient {
    let clock = Arc::new(ManualClock::new(T0));
    McpClient::new(SERVER, cfg, fake.clone(), clock.clone(), clock).unwrap()
}

fn form(req: &HttpRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(&req.body).into_owned().collect()
}

fn param(req: &HttpRequest, key: &str) -> Option<String> {
    form(req).into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn urls(fake: &Fake) -> Vec<String> {
    (0..fake.count()).map(|i| fake.request(i).url).collect()
}

const CHALLENGE: &str = "Bearer resource_metadata=\"https://mcp.test/prm\", scope=\"files:read\"";

/// A client that has discovered the server from a first 401 (its `Attempt`) and holds a token
/// (its `Authorization` value).
async fn discovered() -> (Arc<Fake>, McpClient, Attempt, String) {
    let fake = Fake::new(&ManualClock::new(T0), routes(prm(SERVER, &[ISS])));
    let mcp = client(&fake, mcp_cfg());
    let mut attempt = Attempt::default();
    mcp.on_response(401, Some(CHALLENGE), None, &mut attempt).await.unwrap();
    let first = mcp.authorization().await.unwrap().unwrap();
    (fake, mcp, attempt, first)
}

#[tokio::test]
async fn a_401_leads_to_a_token_for_this_server() {
    let fake = Fake::new(&ManualClock::new(T0), routes(prm(SERVER, &[ISS])));
    let mcp = client(&fake, mcp_cfg());
    assert_eq!(mcp.authorization().await.unwrap(), None, "no token before discovery");
    let mut attempt = Attempt::default();
    assert_eq!(
        mcp.on_response(401, Some(CHALLENGE), None, &mut attempt).await.unwrap(),
        Next::Retry
    );
    assert_eq!(urls(&fake), [PRM_HINT, AS_META]);
    assert_eq!(mcp.authorization().await.unwrap().as_deref(), Some("Bearer tok-2"));
    let req = fake.request(2);
    assert_eq!(req.url, TOKEN_URL);
    assert_eq!(param(&req, "grant_type").as_deref(), Some("client_credentials"));
    assert_eq!(param(&req, "resource").as_deref(), Some(SERVER));
    assert_eq!(param(&req, "scope").as_deref(), Some("files:read"));
    // Cached: no second token request.
    assert_eq!(mcp.authorization().await.unwrap().as_deref(), Some("Bearer tok-2"));
    assert_eq!(fake.count(), 3);
    assert_eq!(mcp.resource().as_deref(), Some(SERVER));
}

#[tokio::test]
async fn without_a_hint_the_well_known_urls_in_order() {
    let fake = Fake::new(&ManualClock::new(T0), routes(prm(SERVER, &[ISS])));
    let mcp = client(&fake, mcp_cfg());
    let mut attempt = Attempt::default();
    assert_eq!(
        mcp.on_response(401, Some("Bearer"), None, &mut attempt).await.unwrap(),
        Next::Retry
    );
    assert_eq!(urls(&fake), [PRM_AWARE, AS_META]);
    // No scope challenged or configured: the metadata's scopes_supported (the spec's fallback).
    assert_eq!(mcp.scopes(), ["files:read", "files:write"]);
    // A hint that is not found: the well-known URLs next.
    let fake = Fake::new(&ManualClock::new(T0), move |req, _| {
        Ok(match req.url.as_str() {
            PRM_AWARE => prm("https://mcp.test/", &[ISS]),
            AS_META => as_meta(),
            _ => status(404),
        })
    });
    let mcp = client(
        &fake,
        ClientConfig {
            token_url: Some(TOKEN_URL.into()),
            ..mcp_cfg()
        },
    );
    let mut attempt = Attempt::default();
    mcp.on_response(401, Some(CHALLENGE), None, &mut attempt).await.unwrap();
    // A resource above the endpoint on the same origin is accepted; token_url given: no AS metadata.
    assert_eq!(urls(&fake), [PRM_HINT, PRM_AWARE]);
    assert_eq!(mcp.resource().as_deref(), Some("https://mcp.test/"));
}

#[tokio::test]
async fn credentials_never_leave_for_another_issuer_and_tokens_are_for_this_server() {
    for (doc, says) in [
        (prm(SERVER, &["https://evil.test"]), "not \"https://auth.test\""),
        (prm("https://other.test/mcp", &[ISS]), "not this MCP server"),
        (prm("https://mcp.test/mcp2", &[ISS]), "not this MCP server"),
        (
            HttpResponse::json(200, &json!({"authorization_servers": [ISS]})),
            "no resource",
        ),
        (HttpResponse::json(200, &json!([1])), "not a JSON object"),
    ] {
        let fake = Fake::new(&ManualClock::new(T0), routes(doc));
        let mcp = client(&fake, mcp_cfg());
        let e = mcp
            .on_response(401, Some(CHALLENGE), None, &mut Attempt::default())
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidResponse);
        assert!(e.message().contains(says), "{e:?}");
        assert!(
            !urls(&fake).iter().any(|u| u.as_str() == TOKEN_URL),
            "a token was requested"
        );
        assert_eq!(mcp.authorization().await.unwrap(), None);
    }
    // Metadata naming another issuer than the configured one.
    let fake = Fake::new(&ManualClock::new(T0), |req, _| {
        Ok(match req.url.as_str() {
            PRM_HINT => prm(SERVER, &[ISS]),
            AS_META => HttpResponse::json(
                200,
                &json!({"issuer": "https://evil.test", "token_endpoint": "https://evil.test/token"}),
            ),
            _ => status(404),
        })
    });
    let e = client(&fake, mcp_cfg())
        .on_response(401, Some(CHALLENGE), None, &mut Attempt::default())
        .await
        .unwrap_err();
    assert!(e.message().contains("RFC 8414"), "{e:?}");
    // No issuer configured: refused up front.
    let fake = Fake::new(&ManualClock::new(T0), routes(prm(SERVER, &[ISS])));
    let clock = Arc::new(ManualClock::new(T0));
    let e = McpClient::new(
        SERVER,
        ClientConfig {
            issuer: None,
            ..mcp_cfg()
        },
        fake,
        clock.clone(),
        clock,
    )
    .unwrap_err();
    assert!(e.message().contains("needs issuer"), "{e:?}");
}

#[tokio::test]
async fn step_up_once_on_insufficient_scope() {
    let (fake, mcp, mut attempt, first) = discovered().await;
    let sent = first.strip_prefix("Bearer ").unwrap().to_string();
    let more = "Bearer error=\"insufficient_scope\", scope=\"files:read files:write\", resource_metadata=\"https://mcp.test/prm\"";
    assert_eq!(
        mcp.on_response(403, Some(more), Some(&sent), &mut attempt)
            .await
            .unwrap(),
        Next::Retry
    );
    let second = mcp.authorization().await.unwrap().unwrap();
    assert_ne!(first, second);
    let req = fake.request(fake.count() - 1);
    assert_eq!(param(&req, "scope").as_deref(), Some("files:read files:write"));
    // Once per request.
    assert_eq!(
        mcp.on_response(403, Some(more), Some(&sent), &mut attempt)
            .await
            .unwrap(),
        Next::Done
    );
    // A new request whose challenge asks for nothing new: no loop.
    let mut attempt = Attempt::default();
    assert_eq!(
        mcp.on_response(403, Some(more), Some(&sent), &mut attempt)
            .await
            .unwrap(),
        Next::Done
    );
    // A 403 that is not insufficient_scope is the caller's.
    let mut attempt = Attempt::default();
    assert_eq!(
        mcp.on_response(403, Some("Bearer error=\"invalid_token\""), None, &mut attempt)
            .await
            .unwrap(),
        Next::Done
    );
}

#[tokio::test]
async fn a_refused_token_is_replaced_once() {
    let (_fake, mcp, mut attempt, first) = discovered().await;
    let sent = first.strip_prefix("Bearer ").unwrap().to_string();
    let expired = "Bearer error=\"invalid_token\", resource_metadata=\"https://mcp.test/prm\"";
    assert_eq!(
        mcp.on_response(401, Some(expired), Some(&sent), &mut attempt)
            .await
            .unwrap(),
        Next::Retry
    );
    assert_ne!(mcp.authorization().await.unwrap().unwrap(), first);
    assert_eq!(
        mcp.on_response(401, Some(expired), Some(&sent), &mut attempt)
            .await
            .unwrap(),
        Next::Done
    );
    assert_eq!(
        mcp.on_response(200, None, Some(&sent), &mut Attempt::default())
            .await
            .unwrap(),
        Next::Done
    );
}

#[tokio::test]
async fn first_in_metadata_pins_the_first_authorization_server() {
    use authsec_core::mcp::client::IssuerPolicy;
    let fake = Fake::new(
        &ManualClock::new(T0),
        routes(prm(SERVER, &[ISS, "https://second.test"])),
    );
    let clock = Arc::new(ManualClock::new(T0));
    let cfg = ClientConfig {
        issuer: None,
        ..mcp_cfg()
    };
    let mcp = McpClient::with_policy(
        SERVER,
        cfg.clone(),
        IssuerPolicy::FirstInMetadata,
        fake.clone(),
        clock.clone(),
        clock.clone(),
    )
    .unwrap();
    assert_eq!(
        mcp.on_response(401, Some(CHALLENGE), None, &mut Attempt::default())
            .await
            .unwrap(),
        Next::Retry
    );
    assert_eq!(urls(&fake), [PRM_HINT, AS_META]);
    assert_eq!(mcp.authorization().await.unwrap().as_deref(), Some("Bearer tok-2"));
    // Without the policy the same configuration is refused; with token_url it needs an issuer.
    assert!(McpClient::new(SERVER, cfg.clone(), fake.clone(), clock.clone(), clock.clone()).is_err());
    let e = McpClient::with_policy(
        SERVER,
        ClientConfig {
            token_url: Some(TOKEN_URL.into()),
            ..cfg
        },
        IssuerPolicy::FirstInMetadata,
        fake,
        clock.clone(),
        clock,
    )
    .unwrap_err();
    assert!(e.message().contains("token_url needs issuer"), "{e:?}");
}

#[tokio::test]
async fn a_refused_step_up_leaves_the_scopes_as_they_were() {
    let fake = Fake::new(&ManualClock::new(T0), move |req, n| {
        Ok(match req.url.as_str() {
            PRM_HINT => prm(SERVER, &[ISS]),
            AS_META => as_meta(),
            TOKEN_URL if form(req).iter().any(|(k, v)| k == "scope" && v.contains("files:write")) => {
                oauth_error(400, "invalid_scope", "files:write is not allowed for this client")
            }
            TOKEN_URL => token_json(&format!("tok-{n}"), 3600),
            _ => status(404),
        })
    });
    let mcp = client(&fake, mcp_cfg());
    let mut attempt = Attempt::default();
    mcp.on_response(401, Some(CHALLENGE), None, &mut attempt).await.unwrap();
    let first = mcp.authorization().await.unwrap().unwrap();
    let more = "Bearer error=\"insufficient_scope\", scope=\"files:read files:write\"";
    let e = mcp.on_response(403, Some(more), None, &mut attempt).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidScope);
    assert_eq!(mcp.scopes(), ["files:read"]);
    // The next request goes on with the token it had.
    assert_eq!(mcp.authorization().await.unwrap().unwrap(), first);
}
