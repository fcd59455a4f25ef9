//! Per-client rate limits (`rate_limit` token requests per minute): 429 `slow_down` with
//! `Retry-After`, the core client's `rate_limited`, refill over (manual) time, isolation between
//! clients, and the server-wide default.
mod common;

use authsec_native::*;
use authsec_server::{ClientSpec, ServerConfig};
use common::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_client_limit_answers_429_slow_down_with_retry_after() {
    let clock = manual_clock();
    let cfg = config(vec![
        ClientSpec {
            rate_limit: Some(3),
            ..secret_client("limited", "lim-secret", &[])
        },
        ClientSpec {
            rate_limit: Some(0),
            ..secret_client("unlimited", "unl-secret", &[])
        },
        secret_client("default", "def-secret", &[]),
    ]);
    let ts = TestServer::start_with_clock(ServerConfig { rate_limit: 5, ..cfg }, clock.clone()).await;
    for _ in 0..3 {
        ts.token("limited", "lim-secret", &[]).await;
    }
    let r = ts
        .token_request(Some(("limited", "lim-secret")), &[("grant_type", "client_credentials")])
        .await;
    r.assert_oauth_error(429, "slow_down");
    // 3 per minute: one more in 20 s.
    assert_eq!(r.header("retry-after"), Some("20"), "{r:?}");

    // The core client (no retries) surfaces rate_limited with the server's Retry-After.
    let client = ts.client(ClientConfig {
        client_id: "limited".into(),
        client_secret: Some(Secret::new("lim-secret")),
        ..Default::default()
    });
    let e = client.get_token().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::RateLimited, "{e}");
    assert_eq!(e.status(), Some(429));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(20)));

    // Other clients are not affected; rate_limit 0 is unlimited; the server default applies.
    for _ in 0..20 {
        ts.token("unlimited", "unl-secret", &[]).await;
    }
    for _ in 0..5 {
        ts.token("default", "def-secret", &[]).await;
    }
    ts.token_request(Some(("default", "def-secret")), &[("grant_type", "client_credentials")])
        .await
        .assert_oauth_error(429, "slow_down");

    // Refill: after 19 s still limited (Retry-After counts down), after 20 s one request passes.
    clock.advance(Duration::from_secs(19));
    let r = ts
        .token_request(Some(("limited", "lim-secret")), &[("grant_type", "client_credentials")])
        .await;
    r.assert_oauth_error(429, "slow_down");
    assert_eq!(r.header("retry-after"), Some("1"));
    clock.advance(Duration::from_secs(1));
    ts.token("limited", "lim-secret", &[]).await;
    ts.token_request(Some(("limited", "lim-secret")), &[("grant_type", "client_credentials")])
        .await
        .assert_oauth_error(429, "slow_down");
    // A full minute refills the whole bucket (and no more).
    clock.advance(Duration::from_secs(600));
    for _ in 0..3 {
        ts.token("limited", "lim-secret", &[]).await;
    }
    ts.token_request(Some(("limited", "lim-secret")), &[("grant_type", "client_credentials")])
        .await
        .assert_oauth_error(429, "slow_down");

    // Failed authentication does not consume the victim's budget (the limit applies after auth).
    clock.advance(Duration::from_secs(60));
    for _ in 0..10 {
        ts.token_request(Some(("limited", "wrong")), &[("grant_type", "client_credentials")])
            .await
            .assert_oauth_error(401, "invalid_client");
    }
    ts.token("limited", "lim-secret", &[]).await;

    let limited: Vec<_> = ts
        .audit_events("token")
        .into_iter()
        .filter(|l| l["error"] == "slow_down")
        .collect();
    assert_eq!(limited.len(), 6, "{limited:?}");
    assert!(limited
        .iter()
        .all(|l| l["outcome"] == "failure" && l["reason"].is_string()));
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_burst_is_capped_exactly() {
    let ts = TestServer::start_with_clock(
        config(vec![ClientSpec {
            rate_limit: Some(10),
            ..secret_client("burst", "b-secret", &[])
        }]),
        manual_clock(),
    )
    .await;
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let url = ts.token_url();
        tasks.push(tokio::spawn(async move {
            send(authsec_native::http::HttpRequest {
                method: authsec_native::http::Method::Post,
                url,
                headers: vec![
                    ("content-type".into(), "application/x-www-form-urlencoded".into()),
                    ("authorization".into(), basic_header("burst", "b-secret")),
                ],
                body: b"grant_type=client_credentials".to_vec(),
            })
            .await
            .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 20, "{statuses:?}");
    ts.shutdown().await;
}
