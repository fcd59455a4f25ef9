//! `authsec demo`: the whole machine-to-machine flow on one machine, offline, printed step by step.
//!
//! A local authorization server starts in-process on an ephemeral port; the docs' example client
//! `ml-training-agent` is registered; the agent gets a token with the core's token client; a small
//! protected API verifies it with the core's verifier and checks a scope; a second call reuses the
//! cached token; a call needing a scope the token lacks is refused with `WWW-Authenticate`.

use authsec_native::http::{HttpRequest, HttpResponse, Transport};
use authsec_native::jose::compact::decode_unverified;
use authsec_native::*;
use authsec_server::{ClientSpec, ServerConfig, StartOptions};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use clap::Args;
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Print less: only the step headlines and statuses.
    #[arg(long)]
    quiet: bool,
}

const API_AUDIENCE: &str = "https://api.example.com";
const REALM: &str = "demo-api";

struct Api {
    verifier: Verifier,
}

/// The protected API: `GET /data` needs `read:data`, `GET /admin` needs `admin`.
async fn protected(api: &Api, headers: &HeaderMap, scope: &str, body: serde_json::Value) -> Response {
    let params = ChallengeParams {
        realm: Some(REALM.into()),
        scopes: vec![scope.to_string()],
        ..ChallengeParams::default()
    };
    let required = &params.scopes;
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Some(token) = auth.and_then(|v| v.strip_prefix("Bearer ")) else {
        let h = www_authenticate(&params, None);
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, h)],
            "a bearer token is required\n",
        )
            .into_response();
    };
    let result = match api.verifier.verify(token).await {
        Ok(claims) => ScopeRequirement::all(required).check(&claims.scopes()).map(|_| claims),
        Err(e) => Err(e),
    };
    match result {
        Ok(claims) => {
            let mut b = body;
            b["caller"] = serde_json::json!(claims.client_id());
            axum::Json(b).into_response()
        }
        Err(e) => {
            let status = StatusCode::from_u16(http_status(&e)).unwrap_or(StatusCode::UNAUTHORIZED);
            let h = www_authenticate(&params, Some(&e));
            (status, [(header::WWW_AUTHENTICATE, h)], format!("{}\n", e.code())).into_response()
        }
    }
}

async fn data(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    protected(&api, &headers, "read:data", serde_json::json!({"rows": [1, 2, 3]})).await
}

async fn admin(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    protected(&api, &headers, "admin", serde_json::json!({"admin": true})).await
}

struct Out {
    quiet: bool,
}

impl Out {
    fn step(&self, n: u32, text: &str) {
        println!("\n[{n}] {text}");
    }
    fn kv(&self, k: &str, v: &str) {
        if !self.quiet {
            println!("    {k:<16} {v}");
        }
    }
}

async fn call(url: &str, token: Option<&str>) -> Result<HttpResponse> {
    let mut req = HttpRequest::get(url);
    if let Some(t) = token {
        req.headers.push(("authorization".into(), format!("Bearer {t}")));
    }
    HttpTransport::shared().send(req).await
}

fn expect(cond: bool, what: &str) -> Result<()> {
    if cond {
        Ok(())
    } else {
        Err(Error::internal(format!("demo check failed: {what}")))
    }
}

pub fn run(a: DemoArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::internal(e.to_string()))?;
    rt.block_on(demo(Out { quiet: a.quiet }))
}

async fn demo(out: Out) -> Result<()> {
    println!("authsec demo: an agent gets a token, a service verifies it (offline, on 127.0.0.1)");

    // 1. The local authorization server, with the docs' example client.
    let secret = format!("sec_{}", random::random_id(24)?);
    let cfg = ServerConfig {
        audit_log: Some("off".into()),
        clients: vec![ClientSpec {
            client_id: Some("ml-training-agent".into()),
            name: Some("ML training agent".into()),
            client_type: Some("ai_agent".into()),
            client_secret: Some(secret.clone()),
            allowed_scopes: vec!["read:data".into(), "write:logs".into()],
            audiences: vec![API_AUDIENCE.into()],
            token_lifetime: Some(3600),
            ..Default::default()
        }],
        ..Default::default()
    };
    let server = authsec_server::start(cfg, StartOptions::default()).await?;
    out.step(1, "Local authorization server started");
    out.kv("issuer", server.issuer());
    out.kv("token endpoint", &server.token_endpoint());
    out.kv("jwks_uri", &server.jwks_uri());
    out.step(2, "Registered client ml-training-agent (type ai_agent)");
    out.kv("allowed scopes", "read:data write:logs");
    out.kv("audience", API_AUDIENCE);

    // 2. The protected API, verifying with the core's verifier against the server's JWKS.
    let verifier = remote_verifier(
        VerifierConfig::new(server.issuer(), API_AUDIENCE),
        &server.jwks_uri(),
        JwksPolicy::default(),
    )?;
    let app = axum::Router::new()
        .route("/data", axum::routing::get(data))
        .route("/admin", axum::routing::get(admin))
        .with_state(Arc::new(Api { verifier }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
    let api_url = format!(
        "http://{}",
        listener.local_addr().map_err(|e| Error::internal(e.to_string()))?
    );
    let api_task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    out.step(3, &format!("Protected API listening at {api_url}"));
    out.kv("GET /data", "requires scope read:data");
    out.kv("GET /admin", "requires scope admin");

    // 3. The agent gets a token through the core's token client (cached, refreshed proactively).
    let client = token_client(ClientConfig {
        client_id: "ml-training-agent".into(),
        client_secret: Some(Secret::new(secret)),
        token_url: Some(server.token_endpoint()),
        scopes: vec!["read:data".into(), "write:logs".into()],
        audience: Some(API_AUDIENCE.into()),
        ..Default::default()
    })?;
    let token = client.get_token().await?;
    let (header, claims) = decode_unverified(token.access_token.expose())?;
    out.step(4, "The agent got a token (client_credentials, client_secret_basic)");
    out.kv("POST", &format!("{} -> 200", server.token_endpoint()));
    out.kv("access_token", token.access_token.expose());
    out.kv("header", &header.to_string());
    out.kv("claims", &claims.to_string());
    out.kv(
        "expires_in",
        &format!("{} s", (token.expires_at_ms - token.issued_at_ms) / 1000),
    );
    expect(client.request_count() == 1, "one token request")?;

    // 4. Call the API with it.
    let r = call(&format!("{api_url}/data"), Some(token.access_token.expose())).await?;
    out.step(5, &format!("GET /data with the token -> {}", r.status));
    out.kv("body", String::from_utf8_lossy(&r.body).trim());
    expect(r.status == 200, "GET /data is 200")?;

    // 5. Again: the cache hands out the same token; no new token request.
    let again = client.get_token().await?;
    let r = call(&format!("{api_url}/data"), Some(again.access_token.expose())).await?;
    out.step(6, &format!("GET /data again with the cached token -> {}", r.status));
    out.kv("same token", &(again.access_token == token.access_token).to_string());
    out.kv("token requests", &client.request_count().to_string());
    expect(
        r.status == 200 && again.access_token == token.access_token && client.request_count() == 1,
        "cached token reused",
    )?;

    // 6. A call that needs a scope the token lacks.
    let r = call(&format!("{api_url}/admin"), Some(again.access_token.expose())).await?;
    out.step(7, &format!("GET /admin (needs scope admin) -> {}", r.status));
    out.kv("WWW-Authenticate", r.header("www-authenticate").unwrap_or(""));
    expect(
        r.status == 403
            && r.header("www-authenticate")
                .is_some_and(|h| h.contains("insufficient_scope")),
        "GET /admin is 403 insufficient_scope",
    )?;

    // 7. And one with no token at all.
    let r = call(&format!("{api_url}/data"), None).await?;
    out.step(8, &format!("GET /data without a token -> {}", r.status));
    out.kv("WWW-Authenticate", r.header("www-authenticate").unwrap_or(""));
    expect(r.status == 401, "GET /data without a token is 401")?;

    println!("\nDone: 1 token request served 2 API calls; the refusals carry RFC 6750 WWW-Authenticate answers.");
    api_task.abort();
    server.shutdown().await;
    Ok(())
}
