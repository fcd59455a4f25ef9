//! Token client, retry policy, response parsing and JWKS cache, driven with a `ManualClock` (as
//! both clock and sleeper) and an in-memory transport that logs and scripts every request.
//! No sockets and no real sleeping.

use authsec_core::client::token_client::schedule;
use authsec_core::http::{HttpRequest, HttpResponse, Transport};
use authsec_core::runtime::BoxFut;
use authsec_core::*;
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// 2023-11-14T22:13:20Z, in ms.
const T0: i64 = 1_700_000_000_000;
const TOKEN_URL: &str = "https://auth.test/oauth/token";
const JWKS_URL: &str = "https://auth.test/jwks.json";
const SECRET: &str = "s3cr3t-Value:%+ ü";
const ISS: &str = "https://auth.test";
const AUD: &str = "https://api.test";

// ---------------------------------------------------------------------------------------------
// The fake transport
// ---------------------------------------------------------------------------------------------

type Handler = Box<dyn Fn(&HttpRequest, usize) -> Result<HttpResponse> + Send + Sync>;

/// Logs every request with the (manual) time it was sent, answers through `handler` (which gets
/// the 0-based index of the request), and optionally holds every answer behind a gate.
struct Fake {
    clock: ManualClock,
    handler: Mutex<Handler>,
    log: Mutex<Vec<(i64, HttpRequest)>>,
    gate: Mutex<Option<watch::Receiver<bool>>>,
}

impl Fake {
    fn new(
        clock: &ManualClock,
        handler: impl Fn(&HttpRequest, usize) -> Result<HttpResponse> + Send + Sync + 'static,
    ) -> Arc<Fake> {
        Arc::new(Fake {
            clock: clock.clone(),
            handler: Mutex::new(Box::new(handler)),
            log: Mutex::new(Vec::new()),
            gate: Mutex::new(None),
        })
    }
    fn set_handler(&self, handler: impl Fn(&HttpRequest, usize) -> Result<HttpResponse> + Send + Sync + 'static) {
        *self.handler.lock() = Box::new(handler);
    }
    /// Hold answers until the returned sender sends `true`.
    fn close_gate(&self) -> watch::Sender<bool> {
        let (tx, rx) = watch::channel(false);
        *self.gate.lock() = Some(rx);
        tx
    }
    fn count(&self) -> usize {
        self.log.lock().len()
    }
    fn times(&self) -> Vec<i64> {
        self.log.lock().iter().map(|(t, _)| *t).collect()
    }
    fn request(&self, i: usize) -> HttpRequest {
        self.log.lock()[i].1.clone()
    }
}

impl Transport for Fake {
    fn send(&self, request: HttpRequest) -> BoxFut<'static, Result<HttpResponse>> {
        let n = {
            let mut log = self.log.lock();
            log.push((self.clock.now_ms(), request.clone()));
            log.len() - 1
        };
        let answer = (self.handler.lock())(&request, n);
        let gate = self.gate.lock().clone();
        Box::pin(async move {
            if let Some(mut g) = gate {
                let _ = g.wait_for(|open| *open).await;
            }
            answer
        })
    }
}

fn token_json(tok: &str, expires_in: i64) -> HttpResponse {
    HttpResponse::json(
        200,
        &json!({"access_token": tok, "token_type": "Bearer", "expires_in": expires_in}),
    )
}

/// Answers `tok-<n>` valid for `expires_in` seconds.
fn numbered_tokens(expires_in: i64) -> impl Fn(&HttpRequest, usize) -> Result<HttpResponse> + Send + Sync + 'static {
    move |_, n| Ok(token_json(&format!("tok-{n}"), expires_in))
}

fn status(code: u16) -> HttpResponse {
    HttpResponse::new(code, vec![("content-type".into(), "text/plain".into())], "unavailable")
}

fn oauth_error(code: u16, error: &str, desc: &str) -> HttpResponse {
    HttpResponse::json(code, &json!({"error": error, "error_description": desc}))
}

fn cfg() -> ClientConfig {
    ClientConfig {
        client_id: "agent-1".into(),
        client_secret: Some(Secret::new(SECRET)),
        token_url: Some(TOKEN_URL.into()),
        scopes: vec!["read:data".into()],
        ..Default::default()
    }
}

fn client_with(cfg: ClientConfig, fake: &Arc<Fake>, retry: RetryPolicy) -> TokenClient {
    let clock = Arc::new(fake.clock.clone());
    TokenClient::new(cfg, fake.clone(), clock.clone(), clock)
        .unwrap()
        .with_retry(retry)
        .unwrap()
}

fn client(fake: &Arc<Fake>) -> TokenClient {
    client_with(cfg(), fake, RetryPolicy::default())
}

fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_elapsed: Duration::from_secs(60),
    }
}

fn tok(t: &Arc<Token>) -> &str {
    t.access_token.expose()
}

fn secs(s: i64) -> Duration {
    Duration::from_secs(s as u64)
}

// ---------------------------------------------------------------------------------------------
// 1. One request for many concurrent callers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn two_hundred_callers_at_expiry_cause_exactly_one_request() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(3600));
    let c = client(&fake);
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-0");
    assert_eq!(fake.count(), 1);

    // The token has expired; the next answer is held until every caller is waiting.
    clock.advance(secs(3600));
    assert!(c.try_get_now().is_none(), "an expired token is never handed out");
    let open = fake.close_gate();
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.get_token().await })
        })
        .collect();
    // Current-thread runtime: yielding lets every spawned task run up to its first await.
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    assert_eq!(fake.count(), 2, "200 waiting callers started exactly one request");
    open.send(true).unwrap();
    for t in tasks {
        assert_eq!(tok(&t.await.unwrap().unwrap()), "tok-1");
    }
    assert_eq!(fake.count(), 2);
    assert_eq!(c.request_count(), 2);
}

#[test]
fn two_hundred_callers_on_a_multi_thread_runtime_cause_one_request() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let clock = ManualClock::new(T0);
        let fake = Fake::new(&clock, numbered_tokens(3600));
        let c = client(&fake);
        c.get_token().await.unwrap();
        clock.advance(secs(4000));
        let open = fake.close_gate();
        let barrier = Arc::new(tokio::sync::Barrier::new(200));
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let (c, b) = (c.clone(), barrier.clone());
                tokio::spawn(async move {
                    b.wait().await;
                    c.get_token().await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        open.send(true).unwrap();
        for t in tasks {
            assert_eq!(tok(&t.await.unwrap().unwrap()), "tok-1");
        }
        assert_eq!(fake.count(), 2);
    });
}

#[tokio::test]
async fn two_hundred_callers_in_the_refresh_window_cause_one_request_and_all_get_a_usable_token() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(3600));
    let c = client(&fake);
    c.get_token().await.unwrap();
    clock.advance(secs(3300)); // refresh window: [expiry - 300 s, expiry - 5 s)
    let open = fake.close_gate();
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.get_token().await })
        })
        .collect();
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    assert_eq!(fake.count(), 2);
    open.send(true).unwrap();
    let mut fresh = 0;
    for t in tasks {
        let t = t.await.unwrap().unwrap();
        assert!(
            t.expires_at_ms > clock.now_ms() + 5_000,
            "only usable tokens are handed out"
        );
        fresh += usize::from(tok(&t) == "tok-1");
    }
    assert!(fresh >= 1, "the caller that refreshed got the new token");
    assert_eq!(fake.count(), 2);
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-1");
}

#[tokio::test]
async fn concurrent_first_calls_with_discovery_share_one_discovery_and_one_token_request() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |req, _| {
        Ok(if req.url.ends_with("/.well-known/oauth-authorization-server") {
            HttpResponse::json(200, &json!({"issuer": ISS, "token_endpoint": TOKEN_URL}))
        } else {
            token_json("tok", 600)
        })
    });
    let c = client_with(
        ClientConfig {
            token_url: None,
            issuer: Some(ISS.into()),
            ..cfg()
        },
        &fake,
        RetryPolicy::default(),
    );
    let all = futures::future::join_all((0..50).map(|_| c.get_token())).await;
    assert!(all.iter().all(|r| r.as_ref().map(|t| tok(t) == "tok").unwrap_or(false)));
    assert_eq!(fake.count(), 2);
    assert_eq!(
        fake.request(0).url,
        "https://auth.test/.well-known/oauth-authorization-server"
    );
    assert_eq!(fake.request(1).url, TOKEN_URL);
}

// ---------------------------------------------------------------------------------------------
// 2. Retry and backoff
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn five_oh_three_twice_then_success_takes_three_requests() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, n| {
        Ok(if n < 2 { status(503) } else { token_json("ok", 600) })
    });
    let c = client(&fake);
    assert_eq!(tok(&c.get_token().await.unwrap()), "ok");
    assert_eq!(fake.count(), 3);
    assert_eq!(c.request_count(), 3);
}

#[tokio::test]
async fn network_errors_and_timeouts_are_retried() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, n| match n {
        0 => Err(Error::network("connection refused")),
        1 => Err(Error::timeout("read timed out")),
        _ => Ok(token_json("ok", 600)),
    });
    let c = client(&fake);
    assert_eq!(tok(&c.get_token().await.unwrap()), "ok");
    assert_eq!(fake.count(), 3);
}

#[tokio::test]
async fn retry_after_on_429_and_503_is_honoured() {
    for (code, ra, min_ms) in [(429u16, "1", 1000i64), (503, "3", 3000)] {
        let clock = ManualClock::new(T0);
        let fake = Fake::new(&clock, move |_, n| {
            Ok(if n == 0 {
                HttpResponse::new(code, vec![("Retry-After".into(), ra.into())], "")
            } else {
                token_json("ok", 600)
            })
        });
        let c = client(&fake);
        assert_eq!(tok(&c.get_token().await.unwrap()), "ok");
        let t = fake.times();
        assert_eq!(t.len(), 2, "HTTP {code}");
        assert!(t[1] - t[0] >= min_ms, "HTTP {code}: waited only {} ms", t[1] - t[0]);
        assert!(
            t[1] - t[0] <= min_ms + 200,
            "HTTP {code}: the wait is the server's, not a long backoff"
        );
    }
}

#[tokio::test]
async fn a_429_that_persists_surfaces_as_rate_limited_with_retry_after() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, _| {
        Ok(HttpResponse::new(429, vec![("retry-after".into(), "2".into())], ""))
    });
    let c = client_with(cfg(), &fake, fast_retry(2));
    let e = c.get_token().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::RateLimited);
    assert_eq!(e.status(), Some(429));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    assert_eq!(fake.count(), 2);
}

#[tokio::test]
async fn oauth_errors_are_never_retried() {
    for (code, error, expected) in [
        (401u16, "invalid_client", ErrorCode::InvalidClient),
        (400, "invalid_scope", ErrorCode::InvalidScope),
        (400, "invalid_request", ErrorCode::InvalidRequest),
        (400, "invalid_grant", ErrorCode::InvalidGrant),
        (400, "unauthorized_client", ErrorCode::UnauthorizedClient),
        (400, "unsupported_grant_type", ErrorCode::UnsupportedGrantType),
        (400, "invalid_target", ErrorCode::InvalidTarget),
        (400, "access_denied", ErrorCode::OauthError),
    ] {
        let clock = ManualClock::new(T0);
        let fake = Fake::new(&clock, move |_, _| Ok(oauth_error(code, error, "nope")));
        let c = client(&fake);
        let e = c.get_token().await.unwrap_err();
        assert_eq!(e.code(), expected, "{error}: {e}");
        assert_eq!(e.status(), Some(code));
        assert_eq!(e.oauth_error(), Some(error));
        assert!(!e.is_retryable());
        assert_eq!(fake.count(), 1, "{error} must not be retried");
        assert_eq!(clock.now_ms(), T0, "{error}: no backoff sleep");
    }
}

#[tokio::test]
async fn attempts_are_bounded_by_max_attempts() {
    for max in [1u32, 2, 3, 5] {
        let clock = ManualClock::new(T0);
        let fake = Fake::new(&clock, |_, _| Ok(status(503)));
        let c = client_with(cfg(), &fake, fast_retry(max));
        let e = c.get_token().await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::ServerError);
        assert_eq!(e.status(), Some(503));
        assert_eq!(fake.count(), max as usize);
    }
    // Zero means one attempt, not none.
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, _| Ok(status(503)));
    let c = client_with(
        cfg(),
        &fake,
        RetryPolicy {
            max_attempts: 0,
            ..fast_retry(0)
        },
    );
    assert!(c.get_token().await.is_err());
    assert_eq!(fake.count(), 1);
    // RetryPolicy::none(): one attempt.
    let fake = Fake::new(&clock, |_, _| Err(Error::network("down")));
    let c = client_with(cfg(), &fake, RetryPolicy::none());
    assert_eq!(c.get_token().await.unwrap_err().code(), ErrorCode::NetworkError);
    assert_eq!(fake.count(), 1);
}

#[tokio::test]
async fn attempts_are_bounded_by_max_elapsed() {
    // Deterministic: every answer asks for 10 s; the budget is 25 s. Attempts at 0 s, 10 s, 20 s;
    // a fourth would start at 30 s > 25 s, so the client gives up without sleeping again.
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, _| {
        Ok(HttpResponse::new(503, vec![("retry-after".into(), "10".into())], ""))
    });
    let policy = RetryPolicy {
        max_attempts: 100,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
        max_elapsed: secs(25),
    };
    let c = client_with(cfg(), &fake, policy);
    let e = c.get_token().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::ServerError);
    assert_eq!(fake.times(), vec![T0, T0 + 10_000, T0 + 20_000]);
    assert_eq!(clock.now_ms(), T0 + 20_000);

    // With jitter: never past the budget, however many attempts are allowed.
    for _ in 0..20 {
        let clock = ManualClock::new(T0);
        let fake = Fake::new(&clock, |_, _| Ok(status(502)));
        let policy = RetryPolicy {
            max_attempts: 10_000,
            base_delay: secs(1),
            max_delay: secs(2),
            max_elapsed: secs(5),
        };
        let c = client_with(cfg(), &fake, policy);
        c.get_token().await.unwrap_err();
        let t = fake.times();
        assert!(
            t.len() >= 3,
            "a 5 s budget with delays below 2 s allows several attempts ({})",
            t.len()
        );
        assert!(t.last().unwrap() - T0 <= 5_000, "attempt after the budget: {t:?}");
        assert!(clock.now_ms() - T0 <= 5_000);
    }
}

#[test]
fn backoff_is_full_jitter_below_a_doubling_capped_ceiling() {
    let p = RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(200),
        max_delay: secs(10),
        max_elapsed: secs(30),
    };
    for attempt in 0..30u32 {
        let ceiling = Duration::from_millis(200)
            .saturating_mul(1u32 << attempt.min(20))
            .min(secs(10));
        assert_eq!(p.backoff(attempt, 0.0), Duration::ZERO);
        assert_eq!(p.backoff(attempt, 0.5), ceiling / 2, "attempt {attempt}");
        let hi = p.backoff(attempt, 0.999_999);
        assert!(
            hi < ceiling && hi >= ceiling.mul_f64(0.999),
            "attempt {attempt}: {hi:?} vs {ceiling:?}"
        );
        // Out-of-range units are clamped: never above the ceiling, never negative.
        assert!(p.backoff(attempt, 7.0) <= ceiling);
        assert_eq!(p.backoff(attempt, -1.0), Duration::ZERO);
    }
    assert_eq!(p.backoff(0, 0.5), Duration::from_millis(100));
    assert_eq!(p.backoff(1, 0.5), Duration::from_millis(200));
    assert_eq!(p.backoff(2, 0.5), Duration::from_millis(400));
    assert_eq!(p.backoff(10, 0.5), secs(5), "capped at max_delay");
    assert_eq!(
        p.backoff(u32::MAX, 0.5),
        secs(5),
        "huge attempt numbers do not overflow"
    );
}

#[tokio::test]
async fn observed_retry_delays_stay_below_the_jitter_ceiling() {
    for _ in 0..20 {
        let clock = ManualClock::new(T0);
        let fake = Fake::new(&clock, |_, n| {
            Ok(if n < 4 { status(500) } else { token_json("ok", 600) })
        });
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            max_elapsed: secs(60),
        };
        let c = client_with(cfg(), &fake, policy);
        c.get_token().await.unwrap();
        let t = fake.times();
        assert_eq!(t.len(), 5);
        for (i, ceiling) in [100i64, 200, 300, 300].into_iter().enumerate() {
            let d = t[i + 1] - t[i];
            assert!((0..ceiling).contains(&d), "delay {i} was {d} ms, ceiling {ceiling} ms");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Proactive refresh, fallbacks, invalidation, cache keys
// ---------------------------------------------------------------------------------------------

#[test]
fn schedule_caps_the_buffer_at_half_the_lifetime() {
    let t = |lifetime_s: i64| Token {
        access_token: Secret::new("x"),
        token_type: "Bearer".into(),
        issued_at_ms: T0,
        expires_at_ms: T0 + lifetime_s * 1000,
        scopes: vec![],
    };
    let buf = client::config::DEFAULT_REFRESH_BUFFER;
    assert_eq!(buf, secs(300));
    let s = schedule(&t(60), buf);
    assert_eq!(s.refresh_at_ms, T0 + 30_000);
    assert_eq!(s.usable_until_ms, T0 + 55_000);
    let s = schedule(&t(3600), buf);
    assert_eq!(s.refresh_at_ms, T0 + 3_300_000);
    assert_eq!(s.usable_until_ms, T0 + 3_595_000);
    let s = schedule(&t(8), buf);
    assert_eq!((s.refresh_at_ms, s.usable_until_ms), (T0 + 4_000, T0 + 6_000));
}

#[tokio::test]
async fn a_sixty_second_token_is_refreshed_at_thirty_seconds_not_on_every_call() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(60));
    let c = client(&fake);
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-0");
    for s in 0..30 {
        clock.set_ms(T0 + s * 1000);
        for _ in 0..10 {
            assert_eq!(tok(&c.get_token().await.unwrap()), "tok-0");
        }
        assert!(c.try_get_now().is_some());
        clock.set_ms(T0 + s * 1000 + 999);
        assert_eq!(tok(&c.get_token().await.unwrap()), "tok-0");
    }
    assert_eq!(fake.count(), 1, "no request before the refresh point");
    clock.set_ms(T0 + 30_000);
    assert!(c.try_get_now().is_none(), "the fast path does not skip a due refresh");
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-1");
    assert_eq!(fake.count(), 2);
    for _ in 0..50 {
        assert_eq!(tok(&c.get_token().await.unwrap()), "tok-1");
    }
    assert_eq!(fake.count(), 2);
    // The new token (issued at 30 s, 60 s lifetime) is refreshed at 60 s.
    clock.set_ms(T0 + 59_999);
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-1");
    clock.set_ms(T0 + 60_000);
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-2");
    assert_eq!(fake.count(), 3);
}

#[tokio::test]
async fn a_custom_refresh_buffer_is_used_when_below_half_the_lifetime() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(3600));
    let c = client_with(
        ClientConfig {
            refresh_buffer: secs(60),
            ..cfg()
        },
        &fake,
        RetryPolicy::default(),
    );
    c.get_token().await.unwrap();
    clock.set_ms(T0 + 3_539_999);
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-0");
    clock.set_ms(T0 + 3_540_000);
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-1");
}

#[tokio::test]
async fn the_cached_token_is_served_through_a_failing_refresh_and_the_refresh_is_retried_later() {
    let clock = ManualClock::new(T0);
    // First answer succeeds, the next two fail, then success again.
    let fake = Fake::new(&clock, |_, n| {
        Ok(if n == 0 || n >= 3 {
            token_json(&format!("tok-{n}"), 3600)
        } else {
            status(503)
        })
    });
    let c = client_with(cfg(), &fake, RetryPolicy::none());
    c.get_token().await.unwrap();

    clock.set_ms(T0 + 3_300_000); // in the refresh window
    assert_eq!(
        tok(&c.get_token().await.unwrap()),
        "tok-0",
        "refresh failed: the still-valid token is served"
    );
    assert_eq!(fake.count(), 2);
    // While paused after the failure, callers get the cached token without new requests.
    for _ in 0..20 {
        assert_eq!(tok(&c.get_token().await.unwrap()), "tok-0");
        assert!(c.try_get_now().is_some());
    }
    assert_eq!(fake.count(), 2, "a failing refresh is not retried on every call");

    clock.advance(secs(60));
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-0", "second refresh fails too");
    assert_eq!(fake.count(), 3);
    clock.advance(secs(60));
    assert_eq!(
        tok(&c.get_token().await.unwrap()),
        "tok-3",
        "the refresh is retried later and succeeds"
    );
    assert_eq!(fake.count(), 4);
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-3");
    assert_eq!(fake.count(), 4);
}

#[tokio::test]
async fn an_expired_token_is_never_handed_out() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, n| {
        Ok(if n == 0 { token_json("tok-0", 3600) } else { status(503) })
    });
    let c = client_with(cfg(), &fake, RetryPolicy::none());
    c.get_token().await.unwrap();
    let usable_until = T0 + 3_595_000;

    clock.set_ms(usable_until - 1);
    assert_eq!(
        tok(&c.get_token().await.unwrap()),
        "tok-0",
        "still usable: served through the failure"
    );
    assert!(c.try_get_now().is_some());

    clock.set_ms(usable_until);
    assert!(c.try_get_now().is_none());
    let e = c.get_token().await.unwrap_err();
    assert_eq!(
        e.code(),
        ErrorCode::ServerError,
        "past usable_until the error surfaces, not the old token"
    );
    for at in [usable_until + 1, T0 + 3_599_999, T0 + 3_600_000, T0 + 7_200_000] {
        clock.set_ms(at);
        assert!(c.try_get_now().is_none());
        assert!(c.get_token().await.is_err(), "at +{} ms", at - T0);
    }
}

#[tokio::test]
async fn a_refresh_whose_retries_outlast_the_token_returns_the_error_not_the_expired_token() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, n| {
        Ok(if n == 0 {
            token_json("tok-0", 3600)
        } else {
            HttpResponse::new(503, vec![("retry-after".into(), "1".into())], "")
        })
    });
    let c = client_with(
        cfg(),
        &fake,
        RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        },
    );
    c.get_token().await.unwrap();
    // Refresh starts 500 ms before usable_until; its retry waits 1 s (Retry-After), so by the
    // time it has failed the old token is no longer usable.
    clock.set_ms(T0 + 3_594_500);
    let e = c.get_token().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::ServerError);
    assert_eq!(fake.count(), 3);
    assert!(clock.now_ms() >= T0 + 3_595_000);
}

#[tokio::test]
async fn invalidate_drops_every_cached_token() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(3600));
    let c = client(&fake);
    let other = TokenParams {
        scopes: vec!["write:logs".into()],
        ..Default::default()
    };
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-0");
    assert_eq!(tok(&c.get_token_for(other.clone()).await.unwrap()), "tok-1");
    c.invalidate();
    assert!(c.try_get_now().is_none());
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-2");
    assert_eq!(tok(&c.get_token_for(other).await.unwrap()), "tok-3");
    assert_eq!(fake.count(), 4);
}

#[tokio::test]
async fn invalidate_token_only_drops_the_matching_token() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(3600));
    let c = client(&fake);
    let first = c.get_token().await.unwrap();
    c.invalidate_token("not-the-cached-token");
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-0");
    assert_eq!(fake.count(), 1);
    c.invalidate_token(tok(&first));
    let second = c.get_token().await.unwrap();
    assert_eq!(tok(&second), "tok-1");
    // A late 401 for the old token must not throw away the newer one.
    c.invalidate_token(tok(&first));
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-1");
    assert_eq!(fake.count(), 2);
    // It also clears a failure pause: after invalidation the next call fetches immediately.
    fake.set_handler(|_, _| Ok(status(503)));
    c.invalidate_token("tok-1");
    assert!(c.get_token().await.is_err());
    let n = fake.count();
    assert!(c.get_token().await.is_err());
    assert_eq!(fake.count(), n, "paused after a failure with nothing cached");
    fake.set_handler(numbered_tokens(3600));
    c.invalidate();
    assert!(c.get_token().await.is_ok());
}

fn form(req: &HttpRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(&req.body).into_owned().collect()
}

fn values(req: &HttpRequest, key: &str) -> Vec<String> {
    form(req)
        .into_iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v)
        .collect()
}

#[tokio::test]
async fn each_scopes_audience_resource_combination_has_its_own_cache_entry() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(3600));
    let c = client_with(
        ClientConfig {
            scopes: vec!["b".into(), "a".into()],
            ..cfg()
        },
        &fake,
        RetryPolicy::default(),
    );
    let p = |scopes: &[&str], aud: Option<&str>, res: &[&str]| TokenParams {
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        audience: aud.map(str::to_string),
        resource: res.iter().map(|s| s.to_string()).collect(),
        ..TokenParams::default()
    };
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-0");
    // Same as the defaults (in another order): the default entry.
    assert_eq!(
        tok(&c.get_token_for(p(&["a", "b", "a"], None, &[])).await.unwrap()),
        "tok-0"
    );
    let combos = [
        p(&["a"], None, &[]),
        p(&["a", "b"], Some("https://api-1"), &[]),
        p(&["a", "b"], Some("https://api-2"), &[]),
        p(&["a", "b"], None, &["https://r1", "https://r2"]),
        p(&["a", "b"], None, &["https://r1"]),
    ];
    for (i, params) in combos.iter().enumerate() {
        assert_eq!(
            tok(&c.get_token_for(params.clone()).await.unwrap()),
            format!("tok-{}", i + 1)
        );
    }
    assert_eq!(fake.count(), 6);
    // Cached separately: asking again sends nothing, and resources in another order hit the same entry.
    for (i, params) in combos.iter().enumerate() {
        assert_eq!(
            tok(&c.get_token_for(params.clone()).await.unwrap()),
            format!("tok-{}", i + 1)
        );
    }
    assert_eq!(
        tok(&c
            .get_token_for(p(&["b", "a"], None, &["https://r2", "https://r1"]))
            .await
            .unwrap()),
        "tok-4"
    );
    assert_eq!(fake.count(), 6);
    // What was sent.
    assert_eq!(values(&fake.request(0), "scope"), ["a b"]);
    assert_eq!(values(&fake.request(1), "scope"), ["a"]);
    assert_eq!(values(&fake.request(2), "audience"), ["https://api-1"]);
    assert_eq!(values(&fake.request(3), "audience"), ["https://api-2"]);
    assert_eq!(values(&fake.request(4), "resource"), ["https://r1", "https://r2"]);
    assert!(values(&fake.request(4), "audience").is_empty());
    assert_eq!(values(&fake.request(5), "resource"), ["https://r1"]);
}

// ---------------------------------------------------------------------------------------------
// 4. Client authentication as sent (the native tests check it at a real server)
// ---------------------------------------------------------------------------------------------

fn form_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned()
}

#[tokio::test]
async fn client_secret_basic_form_encodes_then_base64_encodes() {
    let id = "id:with%odd+chars é";
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(600));
    let c = client_with(
        ClientConfig {
            client_id: id.into(),
            ..cfg()
        },
        &fake,
        RetryPolicy::default(),
    );
    c.get_token().await.unwrap();
    let req = fake.request(0);
    let auth = req.header("authorization").unwrap();
    let b64 = auth.strip_prefix("Basic ").unwrap();
    let decoded = String::from_utf8(util::b64_std_decode(b64).unwrap()).unwrap();
    let (i, s) = decoded.split_once(':').unwrap();
    assert_eq!(form_decode(i), id);
    assert_eq!(form_decode(s), SECRET);
    assert!(
        values(&req, "client_secret").is_empty(),
        "basic auth does not put the secret in the body"
    );
    assert_eq!(values(&req, "grant_type"), ["client_credentials"]);
    assert!(
        !format!("{req:?}").contains(b64),
        "request Debug redacts the Authorization header"
    );
}

#[tokio::test]
async fn private_key_jwt_assertions_verify_with_the_public_jwk() {
    let key = SigningKey::generate(Alg::ES256, Some("k1".into())).unwrap();
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(600));
    let cfg = ClientConfig {
        client_secret: None,
        auth_method: AuthMethod::PrivateKeyJwt,
        private_key: Some(key.to_pem().clone()),
        private_key_id: Some("k1".into()),
        ..cfg()
    };
    let c = client_with(cfg, &fake, RetryPolicy::default());
    c.get_token().await.unwrap();
    c.invalidate();
    c.get_token().await.unwrap();
    let keys = KeySet::from_jwks_value(&json!({"keys": [key.public_jwk()]})).unwrap();
    let vcfg = VerifierConfig::new("agent-1", TOKEN_URL);
    let mut jtis = Vec::new();
    for i in 0..2 {
        let req = fake.request(i);
        assert!(req.header("authorization").is_none());
        assert_eq!(values(&req, "client_id"), ["agent-1"]);
        assert_eq!(
            values(&req, "client_assertion_type"),
            ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
        );
        let a = values(&req, "client_assertion").pop().unwrap();
        let parsed = access_token::rules::parse_token(&a, &vcfg).unwrap();
        assert_eq!(parsed.kid.as_deref(), Some("k1"));
        let claims = access_token::rules::verify_parsed(&parsed, &keys, &vcfg, clock.now_ms()).unwrap();
        assert_eq!(claims.subject(), Some("agent-1"));
        assert_eq!(claims.issued_at_ms(), Some(T0));
        assert_eq!(claims.expires_at_ms() - claims.issued_at_ms().unwrap(), 60_000);
        jtis.push(claims.jti().unwrap().to_string());
    }
    assert_ne!(jtis[0], jtis[1], "every assertion has a fresh jti");
}

// ---------------------------------------------------------------------------------------------
// 5. Response parsing
// ---------------------------------------------------------------------------------------------

async fn one_answer(resp: HttpResponse) -> (Result<Arc<Token>>, usize) {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, move |_, _| Ok(resp.clone()));
    let c = client_with(cfg(), &fake, fast_retry(2));
    let r = c.get_token().await;
    (r, fake.count())
}

#[tokio::test]
async fn an_html_page_with_200_is_invalid_response_without_the_body() {
    let html = "<html><body><h1>Welcome to the SSO portal</h1><form>login</form></body></html>";
    let (r, n) = one_answer(HttpResponse::new(
        200,
        vec![("content-type".into(), "text/html; charset=utf-8".into())],
        html,
    ))
    .await;
    let e = r.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidResponse);
    assert_eq!(e.status(), Some(200));
    assert_eq!(n, 1, "not retried");
    for shown in [e.to_string(), format!("{e:?}")] {
        assert!(!shown.contains("Welcome") && !shown.contains("<html"), "{shown}");
        assert!(shown.contains("text/html"), "names the content type: {shown}");
    }
}

#[tokio::test]
async fn server_errors_map_to_server_error_and_other_statuses_are_typed() {
    for code in [500u16, 502, 503, 504] {
        let (r, n) = one_answer(status(code)).await;
        let e = r.unwrap_err();
        assert_eq!((e.code(), e.status(), n), (ErrorCode::ServerError, Some(code), 2));
    }
    let (r, n) = one_answer(HttpResponse::new(401, vec![], "")).await;
    assert_eq!((r.unwrap_err().code(), n), (ErrorCode::InvalidClient, 1));
    let (r, n) = one_answer(HttpResponse::new(
        404,
        vec![("content-type".into(), "text/html".into())],
        "<h1>no</h1>",
    ))
    .await;
    assert_eq!((r.unwrap_err().code(), n), (ErrorCode::InvalidResponse, 1));
}

#[tokio::test]
async fn malformed_success_bodies_are_invalid_response() {
    for body in [
        json!({"token_type": "Bearer", "expires_in": 60}),
        json!({"access_token": "", "token_type": "Bearer"}),
        json!({"access_token": "x"}),
        json!({"access_token": "x", "token_type": "mac"}),
        json!({"access_token": "x", "token_type": "Bearer", "expires_in": -5}),
        json!({"access_token": "x", "token_type": "Bearer", "expires_in": "soon"}),
        json!({"access_token": "x", "token_type": "Bearer", "expires_in": [1]}),
        json!(["access_token"]),
    ] {
        let (r, n) = one_answer(HttpResponse::json(200, &body)).await;
        assert_eq!(r.unwrap_err().code(), ErrorCode::InvalidResponse, "{body}");
        assert_eq!(n, 1);
    }
}

#[tokio::test]
async fn expires_in_may_be_a_string_and_scope_defaults_to_the_request() {
    let (r, _) = one_answer(HttpResponse::json(
        200,
        &json!({"access_token": "x", "token_type": "bearer", "expires_in": "120"}),
    ))
    .await;
    let t = r.unwrap();
    assert_eq!(t.expires_at_ms, T0 + 120_000);
    assert_eq!(t.token_type, "Bearer");
    assert_eq!(t.scopes, ["read:data"]);
    assert_eq!(t.authorization(), "Bearer x");
    let (r, _) = one_answer(HttpResponse::json(
        200,
        &json!({"access_token": "x", "token_type": "Bearer", "expires_in": 90, "scope": "a b"}),
    ))
    .await;
    let t = r.unwrap();
    assert_eq!(t.expires_at_ms, T0 + 90_000);
    assert_eq!(t.scopes, ["a", "b"]);
}

#[tokio::test]
async fn missing_expires_in_uses_the_jwt_exp_or_a_default() {
    let key = SigningKey::generate(Alg::ES256, Some("k1".into())).unwrap();
    let at = key
        .sign(
            Some("at+jwt"),
            &Map::new(),
            &json!({"exp": T0 / 1000 + 1234, "sub": "agent"}),
        )
        .unwrap();
    let (r, _) = one_answer(HttpResponse::json(
        200,
        &json!({"access_token": at, "token_type": "Bearer"}),
    ))
    .await;
    assert_eq!(r.unwrap().expires_at_ms, T0 + 1_234_000);
    let (r, _) = one_answer(HttpResponse::json(
        200,
        &json!({"access_token": "opaque", "token_type": "Bearer"}),
    ))
    .await;
    assert_eq!(
        r.unwrap().expires_at_ms,
        T0 + client::response::DEFAULT_LIFETIME_SECS * 1000
    );
}

#[tokio::test]
async fn the_client_secret_never_appears_in_errors_or_debug_output() {
    let long_prefix = "x".repeat(290);
    let echoes = [
        json!({"error": "invalid_client", "error_description": format!("bad secret {SECRET} for agent-1")}),
        json!({"error": format!("invalid_client {SECRET}")}),
        json!({"error": "invalid_client", "error_description": format!("{long_prefix}{SECRET}")}),
        json!({"error": format!("{}{SECRET}", "e".repeat(50))}),
        json!({"error": "invalid_request", "error_description": format!("{SECRET}\n{SECRET}\r\n")}),
    ];
    let secret_parts: Vec<String> = {
        // Any 6-character piece of the secret counts as a leak.
        let chars: Vec<char> = SECRET.chars().collect();
        chars.windows(6).map(|w| w.iter().collect()).collect()
    };
    for body in echoes {
        for code in [400u16, 401] {
            let clock = ManualClock::new(T0);
            let resp = HttpResponse::json(code, &body);
            let fake = Fake::new(&clock, move |_, _| Ok(resp.clone()));
            let c = client(&fake);
            let e = c.get_token().await.unwrap_err();
            let shown = [
                e.to_string(),
                format!("{e:?}"),
                e.message().to_string(),
                e.oauth_error().unwrap_or("").to_string(),
                format!("{c:?}"),
            ];
            for s in &shown {
                for part in &secret_parts {
                    assert!(!s.contains(part.as_str()), "secret piece {part:?} leaked in {s:?}");
                }
            }
        }
    }
    // Debug of a config, a client and a token never shows the secret or the token.
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, _| Ok(token_json("the-access-token-value", 600)));
    let c = client(&fake);
    let t = c.get_token().await.unwrap();
    for s in [format!("{c:?}"), format!("{:?}", c.config()), format!("{t:?}")] {
        assert!(!s.contains(SECRET) && !s.contains("the-access-token-value"), "{s}");
    }
}

// ---------------------------------------------------------------------------------------------
// 6. JWKS cache
// ---------------------------------------------------------------------------------------------

struct Issuer {
    clock: ManualClock,
    keys: Vec<SigningKey>,
    /// Indices of the keys the JWKS currently publishes.
    published: Arc<Mutex<Vec<usize>>>,
    fail: Arc<Mutex<Option<u16>>>,
    cache_control: Arc<Mutex<Option<String>>>,
    fake: Arc<Fake>,
    jti: std::sync::atomic::AtomicU64,
}

impl Issuer {
    fn new(n_keys: usize) -> Issuer {
        let clock = ManualClock::new(T0);
        let keys: Vec<SigningKey> = (0..n_keys)
            .map(|i| SigningKey::generate(Alg::ES256, Some(format!("k{}", i + 1))).unwrap())
            .collect();
        let jwks: Vec<Value> = keys.iter().map(SigningKey::public_jwk).collect();
        let published = Arc::new(Mutex::new(vec![0]));
        let fail = Arc::new(Mutex::new(None::<u16>));
        let cache_control = Arc::new(Mutex::new(None::<String>));
        let (p, f, cc) = (published.clone(), fail.clone(), cache_control.clone());
        let fake = Fake::new(&clock, move |req, _| {
            assert_eq!(req.url, JWKS_URL);
            if let Some(code) = *f.lock() {
                return Ok(HttpResponse::new(code, vec![], "oops"));
            }
            let body = json!({"keys": p.lock().iter().map(|i| jwks[*i].clone()).collect::<Vec<_>>()});
            let mut resp = HttpResponse::json(200, &body);
            if let Some(cc) = &*cc.lock() {
                resp.headers.push(("cache-control".into(), cc.clone()));
            }
            Ok(resp)
        });
        Issuer {
            clock,
            keys,
            published,
            fail,
            cache_control,
            fake,
            jti: Default::default(),
        }
    }
    fn publish(&self, idx: &[usize]) {
        *self.published.lock() = idx.to_vec();
    }
    fn verifier(&self, policy: JwksPolicy) -> (Verifier, JwksCache) {
        let clock: Arc<dyn Clock> = Arc::new(self.clock.clone());
        let jwks = JwksCache::new(JWKS_URL, self.fake.clone(), clock.clone(), policy).unwrap();
        (
            Verifier::new(VerifierConfig::new(ISS, AUD), Arc::new(jwks.clone()), clock).unwrap(),
            jwks,
        )
    }
    /// A fresh (never seen) token signed by key `i`, with `kid` overridden when given.
    fn token(&self, i: usize, kid: Option<&str>) -> String {
        let now = self.clock.now_ms() / 1000;
        let jti = self.jti.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let claims =
            json!({"iss": ISS, "aud": AUD, "sub": "agent", "iat": now, "exp": now + 3600, "jti": jti.to_string()});
        let mut h = Map::new();
        if let Some(k) = kid {
            h.insert("kid".into(), json!(k));
        }
        self.keys[i].sign(Some("at+jwt"), &h, &claims).unwrap()
    }
    fn fetches(&self) -> usize {
        self.fake.count()
    }
}

#[tokio::test]
async fn key_rotation_triggers_exactly_one_refetch_and_the_new_key_verifies() {
    let iss = Issuer::new(2);
    let (v, jwks) = iss.verifier(JwksPolicy::default());
    v.verify(&iss.token(0, None)).await.unwrap();
    assert_eq!(iss.fetches(), 1);
    // The issuer rotates: k2 is published; the cached set (fresh for 600 s) only has k1.
    iss.publish(&[0, 1]);
    iss.clock.advance(secs(31));
    let t2 = iss.token(1, None);
    assert!(v.try_verify_now(&t2).is_none(), "an unknown kid needs a fetch");
    let c = v.verify(&t2).await.unwrap();
    assert_eq!(c.subject(), Some("agent"));
    assert_eq!(iss.fetches(), 2);
    assert_eq!(jwks.fetch_count(), 2);
    for _ in 0..10 {
        v.verify(&iss.token(1, None)).await.unwrap();
        v.verify(&iss.token(0, None)).await.unwrap();
    }
    assert_eq!(iss.fetches(), 2, "the new key is cached");
}

#[tokio::test]
async fn a_thousand_unknown_kids_cause_at_most_one_fetch_per_cooldown() {
    let iss = Issuer::new(2);
    let (v, _) = iss.verifier(JwksPolicy::default()); // cooldown 30 s, max-age 600 s
    v.verify(&iss.token(0, None)).await.unwrap();
    assert_eq!(iss.fetches(), 1);
    let flood = |round: usize| {
        let v = v.clone();
        let tokens: Vec<String> = (0..1000)
            .map(|i| iss.token(1, Some(&format!("unknown-{round}-{i}"))))
            .collect();
        async move {
            // Half sequential, half concurrent.
            for t in &tokens[..500] {
                assert_eq!(v.verify(t).await.unwrap_err().code(), ErrorCode::KeyNotFound);
            }
            let rs = futures::future::join_all(tokens[500..].iter().map(|t| v.verify(t))).await;
            assert!(rs
                .iter()
                .all(|r| r.as_ref().unwrap_err().code() == ErrorCode::KeyNotFound));
        }
    };
    // Within the cooldown of the first fetch: no fetch at all.
    flood(0).await;
    assert_eq!(iss.fetches(), 1);
    iss.clock.advance(secs(29));
    flood(1).await;
    assert_eq!(iss.fetches(), 1);
    // Past the cooldown: exactly one more.
    iss.clock.advance(secs(2));
    flood(2).await;
    assert_eq!(iss.fetches(), 2);
    iss.clock.advance(secs(10));
    flood(3).await;
    assert_eq!(iss.fetches(), 2);
    iss.clock.advance(secs(25));
    flood(4).await;
    assert_eq!(iss.fetches(), 3);
    // Known keys still verify without fetching.
    v.verify(&iss.token(0, None)).await.unwrap();
    assert_eq!(iss.fetches(), 3);
}

#[tokio::test]
async fn the_last_good_key_set_is_kept_when_a_refresh_fails() {
    for failure in [Some(500u16), Some(503), Some(404), None] {
        let iss = Issuer::new(1);
        let (v, _) = iss.verifier(JwksPolicy::default());
        v.verify(&iss.token(0, None)).await.unwrap();
        // The JWKS becomes unavailable (an HTTP error, or a body that is not a JWKS).
        match failure {
            Some(code) => *iss.fail.lock() = Some(code),
            None => iss
                .fake
                .set_handler(|_, _| Ok(HttpResponse::new(200, vec![], "<html>maintenance</html>"))),
        }
        iss.clock.advance(secs(601));
        for _ in 0..5 {
            v.verify(&iss.token(0, None))
                .await
                .unwrap_or_else(|e| panic!("{failure:?}: {e}"));
        }
        assert_eq!(iss.fetches(), 2, "{failure:?}: one failed refresh, then the backoff");
        iss.clock.advance(secs(6)); // past failure_backoff (5 s)
        v.verify(&iss.token(0, None)).await.unwrap();
        assert_eq!(iss.fetches(), 3, "{failure:?}: tried again after the backoff");
    }
}

#[tokio::test]
async fn with_no_key_set_at_all_the_error_is_jwks_unavailable() {
    let iss = Issuer::new(1);
    *iss.fail.lock() = Some(503);
    let (v, _) = iss.verifier(JwksPolicy::default());
    let t = iss.token(0, None);
    assert_eq!(v.verify(&t).await.unwrap_err().code(), ErrorCode::JwksUnavailable);
    assert_eq!(v.verify(&t).await.unwrap_err().code(), ErrorCode::JwksUnavailable);
    assert_eq!(iss.fetches(), 1, "failures with no keys are not retried on every call");
    *iss.fail.lock() = None;
    iss.clock.advance(secs(2));
    v.verify(&t).await.unwrap();
    assert_eq!(iss.fetches(), 2);
}

#[tokio::test]
async fn cache_control_max_age_is_honoured_within_bounds() {
    // (header, expected freshness in s) with the default bounds [30 s, 86400 s] and default 600 s.
    for (cc, fresh_s) in [
        (Some("public, max-age=120"), 120i64),
        (Some("max-age=1"), 30),
        (Some("max-age=999999999"), 86_400),
        (Some("no-store"), 30),
        (Some("no-cache, max-age=600"), 30),
        (Some("public"), 600),
        (None, 600),
    ] {
        let iss = Issuer::new(1);
        *iss.cache_control.lock() = cc.map(str::to_string);
        let (v, _) = iss.verifier(JwksPolicy::default());
        v.verify(&iss.token(0, None)).await.unwrap();
        iss.clock.set_ms(T0 + fresh_s * 1000 - 1);
        v.verify(&iss.token(0, None)).await.unwrap();
        assert_eq!(iss.fetches(), 1, "{cc:?}: still fresh at {fresh_s} s - 1 ms");
        iss.clock.set_ms(T0 + fresh_s * 1000);
        v.verify(&iss.token(0, None)).await.unwrap();
        assert_eq!(iss.fetches(), 2, "{cc:?}: stale at {fresh_s} s");
    }
    // Custom bounds apply too.
    let iss = Issuer::new(1);
    *iss.cache_control.lock() = Some("max-age=5".into());
    let (v, _) = iss.verifier(JwksPolicy {
        min_max_age: secs(1),
        max_max_age: secs(60),
        ..Default::default()
    });
    v.verify(&iss.token(0, None)).await.unwrap();
    iss.clock.set_ms(T0 + 4_999);
    v.verify(&iss.token(0, None)).await.unwrap();
    assert_eq!(iss.fetches(), 1);
    iss.clock.set_ms(T0 + 5_000);
    v.verify(&iss.token(0, None)).await.unwrap();
    assert_eq!(iss.fetches(), 2);
}

#[tokio::test]
async fn concurrent_first_verifications_share_one_fetch() {
    let iss = Issuer::new(1);
    let (v, jwks) = iss.verifier(JwksPolicy::default());
    let open = iss.fake.close_gate();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (v, t) = (v.clone(), iss.token(0, None));
            tokio::spawn(async move { v.verify(&t).await.map(|c| c.subject().map(str::to_string)) })
        })
        .collect();
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    assert_eq!(iss.fetches(), 1);
    open.send(true).unwrap();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().as_deref(), Some("agent"));
    }
    assert_eq!(iss.fetches(), 1);
    assert_eq!(jwks.fetch_count(), 1);
}

#[tokio::test]
async fn removing_a_kid_on_refresh_clears_the_verified_token_cache() {
    let iss = Issuer::new(2);
    iss.publish(&[0, 1]);
    let (v, jwks) = iss.verifier(JwksPolicy::default());
    let old = iss.token(0, None);
    v.verify(&old).await.unwrap();
    assert!(v.try_verify_now(&old).unwrap().is_ok(), "cached");
    assert!(v.cached_tokens() >= 1);
    // k1 is withdrawn (e.g. compromised). A refresh (the cache went stale) learns it.
    iss.publish(&[1]);
    iss.clock.advance(secs(601));
    v.verify(&iss.token(1, None)).await.unwrap();
    assert_eq!(iss.fetches(), 2);
    assert_eq!(jwks.generation(), 1);
    let e = v.verify(&old).await.unwrap_err();
    assert_eq!(
        e.code(),
        ErrorCode::KeyNotFound,
        "a token signed by a removed key is rejected, even if it was verified before"
    );
    assert!(v.try_verify_now(&old).is_none_or(|r| r.is_err()));
    // Adding a key does not bump the generation.
    iss.publish(&[0, 1]);
    iss.clock.advance(secs(601));
    v.verify(&iss.token(1, None)).await.unwrap();
    assert_eq!(jwks.generation(), 1);
}

#[test]
fn jwks_cache_refuses_plain_http_to_other_hosts() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, _| Ok(status(200)));
    let e = JwksCache::new(
        "http://auth.example.com/jwks",
        fake.clone(),
        Arc::new(clock.clone()),
        JwksPolicy::default(),
    )
    .err()
    .unwrap();
    assert_eq!(e.code(), ErrorCode::InsecureTransport);
    assert!(JwksCache::new(
        "http://127.0.0.1:9/jwks",
        fake.clone(),
        Arc::new(clock),
        JwksPolicy::default()
    )
    .is_ok());
    assert_eq!(fake.count(), 0);
}

#[tokio::test]
async fn a_discovered_plain_http_token_endpoint_is_refused_before_any_token_request() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, _| {
        Ok(HttpResponse::json(
            200,
            &json!({"issuer": ISS, "token_endpoint": "http://auth.example.com/token"}),
        ))
    });
    let c = client_with(
        ClientConfig {
            token_url: None,
            issuer: Some(ISS.into()),
            ..cfg()
        },
        &fake,
        RetryPolicy::default(),
    );
    let e = c.get_token().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InsecureTransport);
    assert_eq!(fake.count(), 1, "only the metadata request was sent");
    assert_eq!(c.request_count(), 0);
}

/// A verified-cache hit is not served from a stale key set: once the JWKS max-age passes, the
/// next verification refetches, and a token signed by a withdrawn key is rejected even though it
/// was cached.
#[tokio::test]
async fn a_cached_token_signed_by_a_withdrawn_key_is_rejected_once_the_key_set_is_stale() {
    let iss = Issuer::new(1);
    let (v, _) = iss.verifier(JwksPolicy::default());
    let old = iss.token(0, None);
    v.verify(&old).await.unwrap();
    assert!(v.try_cached(&old).is_some());
    iss.publish(&[]);
    // The cached key set is stale; k1 is no longer published. The bindings' fast path (the
    // cache alone) does not answer from a stale key set either.
    iss.clock.advance(secs(601));
    assert!(
        v.try_cached(&old).is_none(),
        "try_cached served a token from a stale key set"
    );
    let r = v.verify(&old).await;
    assert_eq!(
        iss.fetches(),
        2,
        "a stale key set is refreshed before a cached result is trusted"
    );
    assert_eq!(r.unwrap_err().code(), ErrorCode::KeyNotFound);
}

/// A JWKS store standing in for an edge KV: remembers what it was given.
#[derive(Default)]
struct MemStore {
    entries: Mutex<std::collections::HashMap<String, StoredJwks>>,
    loads: std::sync::atomic::AtomicUsize,
}

impl JwksStore for MemStore {
    fn load(&self, uri: &str) -> BoxFut<'static, Option<StoredJwks>> {
        self.loads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let v = self.entries.lock().get(uri).cloned();
        Box::pin(async move { v })
    }
    fn save(&self, uri: &str, jwks: StoredJwks) -> BoxFut<'static, ()> {
        self.entries.lock().insert(uri.to_string(), jwks);
        Box::pin(async {})
    }
}

/// Edge isolates lose memory: a new verifier (a cold isolate) takes the JWKS a previous one saved
/// while it is fresh, fetches once it is stale, and an unknown kid still goes to the network.
#[tokio::test]
async fn jwks_store_survives_a_cold_start_and_respects_freshness() {
    let iss = Issuer::new(2);
    let store = Arc::new(MemStore::default());
    let cold_verifier = || {
        let clock: Arc<dyn Clock> = Arc::new(iss.clock.clone());
        let jwks = JwksCache::with_store(
            JWKS_URL,
            iss.fake.clone(),
            clock.clone(),
            JwksPolicy::default(),
            Some(store.clone()),
        )
        .unwrap();
        Verifier::new(VerifierConfig::new(ISS, AUD), Arc::new(jwks), clock).unwrap()
    };
    // First isolate: the store is empty, one fetch, and the document is saved with its freshness.
    cold_verifier().verify(&iss.token(0, None)).await.unwrap();
    assert_eq!(iss.fetches(), 1);
    let saved = store.entries.lock().get(JWKS_URL).cloned().expect("saved");
    assert_eq!(saved.fresh_until_ms, T0 + 600_000, "default max-age: 600 s");
    // Second isolate, a minute later: no fetch at all.
    iss.clock.advance(Duration::from_secs(60));
    cold_verifier().verify(&iss.token(0, None)).await.unwrap();
    assert_eq!(iss.fetches(), 1, "the stored JWKS was used");
    // A kid the stored set lacks goes to the network (and the new set is saved).
    iss.publish(&[0, 1]);
    let v = cold_verifier();
    v.verify(&iss.token(1, None)).await.unwrap();
    assert_eq!(iss.fetches(), 2, "an unknown kid refetches even with a stored set");
    assert!(store.entries.lock()[JWKS_URL].jwks.contains("k2"));
    // Past its freshness the stored document is not used.
    iss.clock.advance(Duration::from_secs(601));
    cold_verifier().verify(&iss.token(0, None)).await.unwrap();
    assert_eq!(iss.fetches(), 3, "a stale stored JWKS is refetched");
    // A stored document that is not a JWKS is ignored, not trusted.
    store.entries.lock().insert(
        JWKS_URL.to_string(),
        StoredJwks {
            jwks: "not json".into(),
            fresh_until_ms: i64::MAX,
        },
    );
    cold_verifier().verify(&iss.token(0, None)).await.unwrap();
    assert_eq!(iss.fetches(), 4);
}
