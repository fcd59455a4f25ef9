//! The whole flow once: the core client gets a token from this server, the core verifier
//! checks it against the served JWKS.
use authsec_native::*;
use authsec_server::{start, ClientSpec, ServerConfig, StartOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_gets_token_and_verifier_accepts_it() {
    let cfg = ServerConfig {
        audit_log: Some("off".into()),
        clients: vec![ClientSpec {
            client_id: Some("ml-training-agent".into()),
            client_secret: Some("s3cret:%+é".into()),
            allowed_scopes: vec!["read:data".into(), "write:logs".into()],
            audiences: vec!["https://api.example.com".into()],
            ..Default::default()
        }],
        ..Default::default()
    };
    let server = start(cfg, StartOptions::default()).await.unwrap();
    let client = token_client(ClientConfig {
        client_id: "ml-training-agent".into(),
        client_secret: Some(Secret::new("s3cret:%+é")),
        issuer: Some(server.issuer().to_string()),
        scopes: vec!["read:data".into()],
        ..Default::default()
    })
    .unwrap();
    let token = client.get_token().await.unwrap();
    assert_eq!(token.scopes, ["read:data"]);
    let verifier = remote_verifier(
        VerifierConfig::new(server.issuer(), "https://api.example.com"),
        &server.jwks_uri(),
        JwksPolicy::default(),
    )
    .unwrap();
    let claims = verifier.verify(token.access_token.expose()).await.unwrap();
    assert_eq!(claims.client_id(), Some("ml-training-agent"));
    assert_eq!(claims.scopes(), ["read:data"]);
    server.shutdown().await;
}
