//! `ai_agent` rate limits: `requests_per_minute` (the token bucket; it wins over the legacy
//! `rate_limit`) and `tokens_per_day` (counted per client per UTC day; 429 `slow_down` with
//! `Retry-After` = the seconds to the next UTC midnight; reset after midnight), with the manual
//! clock.
mod common;

use authsec_native::ManualClock;
use authsec_server::{ClientSpec, RateLimits};
use common::*;

/// 2024-01-01T23:59:00Z in milliseconds.
const LATE_EVENING_MS: i64 = 1_704_153_540_000;

fn agent(id: &str, limits: RateLimits) -> ClientSpec {
    ClientSpec {
        client_type: Some("ai_agent".into()),
        rate_limits: Some(limits),
        rate_limit: Some(1000),
        ..secret_client(id, "agent-secret-123", &["read", "write"])
    }
}

async fn grant(ts: &TestServer, id: &str, extra: &[(&str, &str)]) -> Resp {
    let mut pairs = vec![("grant_type", "client_credentials")];
    pairs.extend_from_slice(extra);
    ts.token_request(Some((id, "agent-secret-123")), &pairs).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_per_minute_answers_429_with_retry_after() {
    let limits = RateLimits {
        requests_per_minute: Some(3),
        tokens_per_day: None,
    };
    let ts = TestServer::start_with_clock(config(vec![agent("agent", limits)]), manual_clock()).await;
    for _ in 0..3 {
        assert_eq!(grant(&ts, "agent", &[]).await.status, 200);
    }
    let r = grant(&ts, "agent", &[]).await;
    r.assert_oauth_error(429, "slow_down");
    assert_eq!(r.header("retry-after"), Some("20"), "one request every 20 s: {r:?}");
    ts.advance(20);
    assert_eq!(grant(&ts, "agent", &[]).await.status, 200);
    grant(&ts, "agent", &[]).await.assert_oauth_error(429, "slow_down");
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_per_day_ends_at_utc_midnight() {
    let limits = RateLimits {
        requests_per_minute: None,
        tokens_per_day: Some(2),
    };
    let clock = ManualClock::new(LATE_EVENING_MS);
    let ts = TestServer::start_with_clock(config(vec![agent("agent", limits), agent("other", limits)]), clock).await;
    // A refused request (no token issued) does not count.
    grant(&ts, "agent", &[("scope", "admin")])
        .await
        .assert_oauth_error(400, "invalid_scope");
    assert_eq!(grant(&ts, "agent", &[]).await.status, 200);
    assert_eq!(grant(&ts, "agent", &[("scope", "read")]).await.status, 200);
    let r = grant(&ts, "agent", &[]).await;
    r.assert_oauth_error(429, "slow_down");
    assert_eq!(r.header("retry-after"), Some("60"), "a minute to midnight UTC: {r:?}");
    assert!(r.description().contains("tokens_per_day"), "{r:?}");
    // Per client.
    assert_eq!(grant(&ts, "other", &[]).await.status, 200);
    ts.advance(30);
    let r = grant(&ts, "agent", &[]).await;
    r.assert_oauth_error(429, "slow_down");
    assert_eq!(r.header("retry-after"), Some("30"));
    // Midnight: a new day, a new count.
    ts.advance(30);
    assert_eq!(grant(&ts, "agent", &[]).await.status, 200);
    assert_eq!(grant(&ts, "agent", &[]).await.status, 200);
    let r = grant(&ts, "agent", &[]).await;
    r.assert_oauth_error(429, "slow_down");
    assert_eq!(r.header("retry-after"), Some("86400"));
    let refusals = ts
        .audit_events("token")
        .into_iter()
        .filter(|l| l["outcome"] == "failure" && l["error"] == "slow_down")
        .count();
    assert_eq!(refusals, 3);
    ts.shutdown().await;
}
