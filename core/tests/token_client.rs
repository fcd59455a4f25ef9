//! Token client, retry policy and response parsing, driven with a `ManualClock` (as both clock
//! and sleeper) and an in-memory transport that logs and scripts every request. No sockets and no
//! real sleeping. (The JWKS cache's tests are in jwks_cache.rs.)

mod support;

use support::*;

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
        issued_token_type: None,
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

#[tokio::test]
async fn private_key_jwt_assertions_name_the_issuer_when_it_is_known() {
    // RFC 7523bis: aud is the issuer identifier, not an endpoint URL, when the client knows it.
    let key = SigningKey::generate(Alg::ES256, Some("k1".into())).unwrap();
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(600));
    let cfg = ClientConfig {
        client_secret: None,
        auth_method: AuthMethod::PrivateKeyJwt,
        private_key: Some(key.to_pem().clone()),
        issuer: Some(ISS.into()),
        ..cfg()
    };
    client_with(cfg, &fake, RetryPolicy::default())
        .get_token()
        .await
        .unwrap();
    let req = fake.request(0);
    assert_eq!(req.url, TOKEN_URL);
    let a = values(&req, "client_assertion").pop().unwrap();
    let payload = a.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&util::b64url_decode(payload).unwrap()).unwrap();
    assert_eq!(claims["aud"], ISS);
    assert_eq!(claims["iss"], "agent-1");
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

// ---------------------------------------------------------------------------------------------
// 7. The seams: grants, client authentication, the 401 decision, options as bindings pass them
// ---------------------------------------------------------------------------------------------

/// A grant the core does not ship (as JWT bearer would be): its own grant_type and parameters,
/// and a cache key of its own.
#[derive(Debug)]
struct TestGrant(&'static str);

impl client::Grant for TestGrant {
    fn grant_type(&self) -> &str {
        "urn:example:test-grant"
    }
    fn parameters(&self, _now_ms: i64) -> Result<Vec<(String, String)>> {
        Ok(vec![("subject".into(), self.0.into())])
    }
    fn cache_key(&self) -> String {
        format!("test-grant:{}", self.0)
    }
}

#[tokio::test]
async fn a_new_grant_is_a_grant_implementation_and_part_of_the_cache_key() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(3600));
    let c = client(&fake);
    let params = |subject| TokenParams {
        grant: client::grant::GrantRef::new(Arc::new(TestGrant(subject))),
        ..c.default_params().clone()
    };
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-0");
    assert_eq!(tok(&c.get_token_for(params("alice")).await.unwrap()), "tok-1");
    assert_eq!(tok(&c.get_token_for(params("bob")).await.unwrap()), "tok-2");
    // Cached per grant: the same grant again is a hit, the default token is untouched.
    assert_eq!(tok(&c.get_token_for(params("alice")).await.unwrap()), "tok-1");
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-0");
    assert_eq!(fake.count(), 3);
    let f = form(&fake.request(1));
    assert_eq!(f[0], ("grant_type".to_string(), "urn:example:test-grant".to_string()));
    assert!(f.contains(&("subject".to_string(), "alice".to_string())), "{f:?}");
    assert!(f.contains(&("scope".to_string(), "read:data".to_string())), "{f:?}");
}

/// A client-authentication method the core does not ship (as mTLS will be).
#[derive(Debug)]
struct HeaderAuth;

impl client::ClientAuth for HeaderAuth {
    fn method(&self) -> &str {
        "test_header"
    }
    fn authenticate(&self, parts: &mut client::request::TokenRequestParts, _now_ms: i64) -> Result<()> {
        parts.header("x-test-client", format!("agent-1 to {}", parts.url));
        Ok(())
    }
}

#[tokio::test]
async fn a_new_client_authentication_is_a_client_auth_implementation() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(3600));
    let c = client_with(cfg(), &fake, RetryPolicy::default())
        .with_client_auth(Arc::new(HeaderAuth))
        .unwrap();
    assert_eq!(c.client_auth().method(), "test_header");
    c.get_token().await.unwrap();
    let req = fake.request(0);
    assert_eq!(
        req.header("x-test-client"),
        Some(format!("agent-1 to {TOKEN_URL}").as_str())
    );
    assert_eq!(
        req.header("authorization"),
        None,
        "the configured basic auth is replaced"
    );
    assert!(!values(&req, "client_secret").iter().any(|_| true));
}

#[tokio::test]
async fn on_unauthorized_retries_once_with_a_fresh_token_unless_scopes_are_missing() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(3600));
    let c = client(&fake);
    let first = c.get_token().await.unwrap();
    let challenge = Some(r#"Bearer realm="api", error="invalid_token""#);
    assert_eq!(c.on_unauthorized(tok(&first), challenge, 0), Unauthorized::Retry);
    let second = c.get_token().await.unwrap();
    assert_eq!(tok(&second), "tok-1", "the 401'd token was dropped");
    // The retry also failed: give up, and keep the (new) token.
    assert_eq!(c.on_unauthorized(tok(&second), challenge, 1), Unauthorized::GiveUp);
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-1");
    // A late 401 for the old token does not drop the newer one.
    assert_eq!(c.on_unauthorized(tok(&first), None, 0), Unauthorized::Retry);
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-1");
    // A fresh token for the same scopes cannot fix missing scopes.
    let scope = Some(r#"Bearer error="insufficient_scope", scope="admin""#);
    assert_eq!(c.on_unauthorized(tok(&second), scope, 0), Unauthorized::GiveUp);
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-1");
    assert_eq!(fake.count(), 2);
}

#[tokio::test]
async fn bindings_options_are_read_by_the_core_in_both_spellings() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(3600));
    let env = |_: &str| None;
    let cfg = ClientConfig::from_value(
        &json!({"clientId": "agent-1", "clientSecret": SECRET, "domain": "auth.test", "scopes": "read:data write:data", "maxAttempts": 2}),
        env,
    )
    .unwrap();
    assert_eq!(cfg.token_url.as_deref(), Some(TOKEN_URL));
    assert_eq!(cfg.scopes, ["read:data", "write:data"]);
    assert_eq!(cfg.retry.max_attempts, 2);
    let e =
        ClientConfig::from_value(&json!({"clientId": "a", "clientSecret": "s", "tokenUrl": ["x"]}), env).unwrap_err();
    assert!(e.message().contains("`token_url` must be a string"), "{e}");
    let c = client_with(cfg, &fake, RetryPolicy::default());
    // Per-call parameters: absent means the default token.
    assert!(c.params_from(&Value::Null).unwrap().is_none());
    assert!(c.params_from(&json!({})).unwrap().is_none());
    let p = c
        .params_from(&json!({"scopes": "admin", "resource": "https://r"}))
        .unwrap()
        .unwrap();
    assert_eq!(
        (p.scopes.clone(), p.resource.clone()),
        (vec!["admin".to_string()], vec!["https://r".to_string()])
    );
    let e = c.params_from(&json!({"scope": "admin"})).unwrap_err();
    assert!(e.message().contains("unknown option `scope`"), "{e}");
    c.get_token_for(p).await.unwrap();
    assert_eq!(values(&fake.request(0), "scope"), ["admin"]);
}
