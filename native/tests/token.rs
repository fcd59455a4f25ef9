//! The token client over real sockets: a hand-rolled HTTP/1.1 server on 127.0.0.1 (see
//! `support/`), the reqwest transport, tokio tasks and OS threads.

mod support;

use authsec_native::http::{HttpRequest, Transport};
use authsec_native::*;
use serde_json::{json, Map};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Reply, TestServer};

const CLIENT_ID: &str = "agent-1";
const SECRET: &str = "correct-horse-battery-staple";

fn now_ms() -> i64 {
    SystemClock.now_ms()
}

fn cfg(server: &TestServer) -> ClientConfig {
    ClientConfig {
        client_id: CLIENT_ID.into(),
        client_secret: Some(Secret::new(SECRET)),
        token_url: Some(server.url("/token")),
        ..Default::default()
    }
}

/// Real transport, manual clock (as clock and sleeper): time can jump without sleeping.
fn manual_client(cfg: ClientConfig, clock: &ManualClock, retry: RetryPolicy) -> TokenClient {
    let c = Arc::new(clock.clone());
    TokenClient::new(cfg, HttpTransport::shared(), c.clone(), c)
        .unwrap()
        .with_retry(retry)
        .unwrap()
}

/// Everything real: transport, system clock, tokio sleeper.
fn real_client(cfg: ClientConfig, retry: RetryPolicy) -> TokenClient {
    token_client(cfg).unwrap().with_retry(retry).unwrap()
}

fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(10),
    }
}

fn tok(t: &Token) -> &str {
    t.access_token.expose()
}

/// `/token` answers `tok-<n>` (valid 3600 s) after `delay`.
fn slow_token_server(delay: Duration) -> TestServer {
    TestServer::start(move |req, n| {
        assert_eq!(req.path, "/token");
        Reply::token(&format!("tok-{n}"), 3600).delayed(delay)
    })
}

// ---------------------------------------------------------------------------------------------
// 1. 200 concurrent callers, one request
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_tokio_tasks_at_expiry_cause_exactly_one_request() {
    let server = slow_token_server(Duration::from_millis(200));
    let clock = ManualClock::new(now_ms());
    let c = manual_client(cfg(&server), &clock, RetryPolicy::default());
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-0");
    clock.advance(Duration::from_secs(3600)); // expired
    let barrier = Arc::new(tokio::sync::Barrier::new(200));
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let (c, b) = (c.clone(), barrier.clone());
            tokio::spawn(async move {
                b.wait().await;
                c.get_token().await.map(|t| tok(&t).to_string())
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "tok-1");
    }
    assert_eq!(
        server.hits("/token"),
        2,
        "one request for the first token, exactly one for all 200 callers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_tokio_tasks_with_a_cold_cache_and_the_system_clock_cause_one_request() {
    let server = slow_token_server(Duration::from_millis(200));
    let c = token_client(cfg(&server)).unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(200));
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let (c, b) = (c.clone(), barrier.clone());
            tokio::spawn(async move {
                b.wait().await;
                c.get_token().await.map(|t| tok(&t).to_string())
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "tok-0");
    }
    assert_eq!(server.hits("/token"), 1);
    assert_eq!(tok(&c.try_get_now().expect("cached")), "tok-0");
}

#[test]
fn two_hundred_os_threads_with_block_on_at_expiry_cause_exactly_one_request() {
    let server = slow_token_server(Duration::from_millis(300));
    let clock = ManualClock::new(now_ms());
    let c = manual_client(cfg(&server), &clock, RetryPolicy::default());
    assert_eq!(tok(&block_on(c.get_token()).unwrap()), "tok-0");
    clock.advance(Duration::from_secs(3596)); // past usable_until (expiry - 5 s)
    let barrier = Arc::new(std::sync::Barrier::new(200));
    let threads: Vec<_> = (0..200)
        .map(|_| {
            let (c, b) = (c.clone(), barrier.clone());
            std::thread::spawn(move || {
                b.wait();
                block_on(c.get_token()).map(|t| tok(&t).to_string())
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().unwrap(), "tok-1");
    }
    assert_eq!(server.hits("/token"), 2);
}

#[test]
fn token_client_with_clock_keeps_time_by_that_clock() {
    let server = slow_token_server(Duration::ZERO);
    let clock = ManualClock::new(now_ms());
    let c = token_client_with_clock(cfg(&server), Some(Arc::new(clock.clone()))).unwrap();
    assert_eq!(tok(&block_on(c.get_token()).unwrap()), "tok-0");
    assert_eq!(tok(&c.try_get_now().unwrap()), "tok-0");
    clock.advance(Duration::from_secs(3600)); // expired by the manual clock, not the system's
    assert!(c.try_get_now().is_none());
    assert_eq!(tok(&block_on(c.get_token()).unwrap()), "tok-1");
}

// ---------------------------------------------------------------------------------------------
// 2. Retries
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn five_oh_three_five_oh_three_two_hundred_succeeds_after_three_requests() {
    let server = TestServer::start(|_, n| {
        if n < 2 {
            Reply::new(503, "text/plain", "busy")
        } else {
            Reply::token("ok", 600)
        }
    });
    let c = real_client(cfg(&server), fast_retry(4));
    assert_eq!(tok(&c.get_token().await.unwrap()), "ok");
    assert_eq!(server.hits("/token"), 3);
}

#[tokio::test]
async fn a_server_closing_the_socket_is_retried() {
    let server = TestServer::start(|_, n| if n < 2 { Reply::Close } else { Reply::token("ok", 600) });
    let c = real_client(cfg(&server), fast_retry(4));
    assert_eq!(tok(&c.get_token().await.unwrap()), "ok");
    assert_eq!(server.hits("/token"), 3);

    let server = TestServer::start(|_, _| Reply::Close);
    let c = real_client(cfg(&server), fast_retry(3));
    let e = c.get_token().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NetworkError, "{e}");
    assert_eq!(server.hits("/token"), 3);
    assert!(!e.to_string().contains(SECRET));
}

#[tokio::test]
async fn connection_refused_is_a_retried_network_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }; // closed again: nothing listens there
    let c = real_client(
        ClientConfig {
            client_id: CLIENT_ID.into(),
            client_secret: Some(Secret::new(SECRET)),
            token_url: Some(format!("http://127.0.0.1:{port}/token")),
            ..Default::default()
        },
        fast_retry(3),
    );
    let e = c.get_token().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NetworkError, "{e}");
    assert_eq!(c.request_count(), 3, "each refused connection was retried");
    assert!(e.message().contains("127.0.0.1"), "names the host: {e}");
}

#[tokio::test]
async fn retry_after_one_second_on_429_is_honoured() {
    let server = TestServer::start(|_, n| {
        if n == 0 {
            Reply::new(429, "text/plain", "slow down").header("Retry-After", "1")
        } else {
            Reply::token("ok", 600)
        }
    });
    let start = now_ms();
    let clock = ManualClock::new(start);
    let c = manual_client(cfg(&server), &clock, RetryPolicy::default());
    assert_eq!(tok(&c.get_token().await.unwrap()), "ok");
    assert_eq!(server.hits("/token"), 2);
    assert!(clock.now_ms() - start >= 1000, "waited {} ms", clock.now_ms() - start);
}

#[tokio::test]
async fn invalid_client_and_invalid_scope_are_not_retried() {
    for (status, error, code) in [
        (401u16, "invalid_client", ErrorCode::InvalidClient),
        (400, "invalid_scope", ErrorCode::InvalidScope),
    ] {
        let server =
            TestServer::start(move |_, _| Reply::json(status, &json!({"error": error, "error_description": "no"})));
        let c = real_client(cfg(&server), fast_retry(5));
        let e = c.get_token().await.unwrap_err();
        assert_eq!(e.code(), code);
        assert_eq!(e.status(), Some(status));
        assert_eq!(server.hits("/token"), 1, "{error} is not retried");
    }
}

#[tokio::test]
async fn attempts_are_bounded_by_max_attempts_and_max_elapsed() {
    let server = TestServer::start(|_, _| Reply::new(503, "text/plain", "down"));
    let c = real_client(cfg(&server), fast_retry(3));
    let e = c.get_token().await.unwrap_err();
    assert_eq!((e.code(), e.status()), (ErrorCode::ServerError, Some(503)));
    assert_eq!(server.hits("/token"), 3);

    // Every answer asks for 10 s; with a 25 s budget: attempts at 0, 10 and 20 s, then give up.
    let server = TestServer::start(|_, _| Reply::new(503, "text/plain", "down").header("Retry-After", "10"));
    let clock = ManualClock::new(now_ms());
    let policy = RetryPolicy {
        max_attempts: 100,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
        max_elapsed: Duration::from_secs(25),
    };
    let c = manual_client(cfg(&server), &clock, policy);
    let start = clock.now_ms();
    assert_eq!(c.get_token().await.unwrap_err().code(), ErrorCode::ServerError);
    assert_eq!(server.hits("/token"), 3);
    assert_eq!(clock.now_ms() - start, 20_000);
}

// ---------------------------------------------------------------------------------------------
// 3. Proactive refresh, end to end
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn proactive_refresh_serves_the_cached_token_while_the_server_is_down() {
    let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let d = down.clone();
    let server = TestServer::start(move |_, n| {
        if d.load(Ordering::SeqCst) {
            Reply::new(500, "text/plain", "x")
        } else {
            Reply::token(&format!("tok-{n}"), 60)
        }
    });
    let clock = ManualClock::new(now_ms());
    let c = manual_client(cfg(&server), &clock, RetryPolicy::none());
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-0");
    clock.advance(Duration::from_secs(29));
    for _ in 0..20 {
        assert_eq!(tok(&c.get_token().await.unwrap()), "tok-0");
    }
    assert_eq!(server.hits("/token"), 1, "a 60 s token is not refreshed before 30 s");
    down.store(true, Ordering::SeqCst);
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        tok(&c.get_token().await.unwrap()),
        "tok-0",
        "refresh failed; the still-valid token is served"
    );
    assert_eq!(server.hits("/token"), 2);
    down.store(false, Ordering::SeqCst);
    clock.advance(Duration::from_secs(10));
    assert_eq!(tok(&c.get_token().await.unwrap()), "tok-2", "refresh retried later");
    // Past usable_until with the server down: an error, never the expired token.
    down.store(true, Ordering::SeqCst);
    clock.advance(Duration::from_secs(56));
    assert_eq!(c.get_token().await.unwrap_err().code(), ErrorCode::ServerError);
}

// ---------------------------------------------------------------------------------------------
// 4. Client authentication, as the server sees it
// ---------------------------------------------------------------------------------------------

/// Decode `Authorization: Basic` per RFC 6749 §2.3.1: Base64, split at the first `:`, form-decode.
fn decode_basic(h: &str) -> Option<(String, String)> {
    let b64 = h.strip_prefix("Basic ")?;
    let raw = String::from_utf8(util::b64_std_decode(b64)?).ok()?;
    let (id, secret) = raw.split_once(':')?;
    Some((support::form_decode(id), support::form_decode(secret)))
}

#[tokio::test]
async fn client_secret_basic_with_special_characters_is_decoded_by_the_server() {
    for (id, secret) in [
        ("client:with:colons", "se:cr:et"),
        ("100%client", "50% off+tax"),
        ("a+b c", "p+a s s"),
        ("clïent-ü-名前", "sécrét-🔑-ß"),
        ("id:%+ é", "s:%+ é/=&?#"),
    ] {
        let seen = Arc::new(Mutex::new(None));
        let s2 = seen.clone();
        let server = TestServer::start(move |req, _| {
            let got = req.header("authorization").and_then(decode_basic);
            *s2.lock().unwrap() = got.clone();
            match got {
                Some((i, s)) if i == id && s == secret => Reply::token("ok", 600),
                _ => Reply::json(401, &json!({"error": "invalid_client"})),
            }
        });
        let c = real_client(
            ClientConfig {
                client_id: id.into(),
                client_secret: Some(Secret::new(secret)),
                ..cfg(&server)
            },
            RetryPolicy::none(),
        );
        let r = c.get_token().await;
        assert!(
            r.is_ok(),
            "{id:?}/{secret:?}: server decoded {:?}",
            seen.lock().unwrap()
        );
        let req = &server.requests("/token")[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.header("content-type"), Some("application/x-www-form-urlencoded"));
        assert_eq!(req.form_value("grant_type").as_deref(), Some("client_credentials"));
        assert_eq!(
            req.form_value("client_secret"),
            None,
            "basic auth keeps the secret out of the body"
        );
        assert_eq!(req.form_value("client_id"), None);
    }
}

#[tokio::test]
async fn client_secret_post_sends_id_and_secret_in_the_body() {
    let (id, secret) = ("id:%+ é", "s:%+ é/=&?#");
    let server = TestServer::start(move |req, _| {
        let ok = req.header("authorization").is_none()
            && req.form_value("client_id").as_deref() == Some(id)
            && req.form_value("client_secret").as_deref() == Some(secret)
            && req.form_value("grant_type").as_deref() == Some("client_credentials");
        if ok {
            Reply::token("ok", 600)
        } else {
            Reply::json(401, &json!({"error": "invalid_client"}))
        }
    });
    let c = real_client(
        ClientConfig {
            client_id: id.into(),
            client_secret: Some(Secret::new(secret)),
            auth_method: AuthMethod::ClientSecretPost,
            ..cfg(&server)
        },
        RetryPolicy::none(),
    );
    assert_eq!(tok(&c.get_token().await.unwrap()), "ok");
}

#[tokio::test]
async fn private_key_jwt_assertions_verify_at_the_server() {
    let key = SigningKey::generate(Alg::ES256, Some("k1".into())).unwrap();
    let public = KeySet::from_jwks_value(&json!({"keys": [key.public_jwk()]})).unwrap();
    let jtis = Arc::new(Mutex::new(Vec::<String>::new()));
    let problems = Arc::new(Mutex::new(Vec::<String>::new()));
    let server_url = Arc::new(Mutex::new(String::new()));
    let (j2, p2, u2) = (jtis.clone(), problems.clone(), server_url.clone());
    let server = TestServer::start(move |req, n| {
        let token_url = u2.lock().unwrap().clone();
        let check = || -> Result<String> {
            if req.header("authorization").is_some() {
                return Err(Error::config("unexpected Authorization header"));
            }
            if req.form_value("client_id").as_deref() != Some(CLIENT_ID)
                || req.form_value("client_assertion_type").as_deref()
                    != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                || req.form_value("client_secret").is_some()
            {
                return Err(Error::config(format!("bad form {:?}", req.form())));
            }
            let assertion = req
                .form_value("client_assertion")
                .ok_or_else(|| Error::config("no assertion"))?;
            // iss = client_id and aud = token URL are checked by the verifier itself.
            let vcfg = VerifierConfig::new(CLIENT_ID, token_url.as_str());
            let parsed = access_token::rules::parse_token(&assertion, &vcfg)?;
            if parsed.kid.as_deref() != Some("k1") || parsed.alg != Alg::ES256 {
                return Err(Error::config("wrong kid/alg"));
            }
            let claims = access_token::rules::verify_parsed(&parsed, &public, &vcfg, SystemClock.now_ms())?;
            if claims.issuer() != Some(CLIENT_ID)
                || claims.subject() != Some(CLIENT_ID)
                || claims.audience() != [token_url.as_str()]
            {
                return Err(Error::config("iss/sub/aud"));
            }
            let (iat, exp) = (
                claims.issued_at_ms().ok_or_else(|| Error::config("no iat"))?,
                claims.expires_at_ms(),
            );
            if exp - iat != 60_000 {
                return Err(Error::config(format!("exp - iat = {} ms", exp - iat)));
            }
            let jti = claims.jti().ok_or_else(|| Error::config("no jti"))?.to_string();
            let mut seen = j2.lock().unwrap();
            if seen.contains(&jti) {
                return Err(Error::config("jti replayed"));
            }
            seen.push(jti);
            Ok(format!("tok-{n}"))
        };
        match check() {
            Ok(t) => Reply::token(&t, 600),
            Err(e) => {
                p2.lock().unwrap().push(e.to_string());
                Reply::json(401, &json!({"error": "invalid_client"}))
            }
        }
    });
    *server_url.lock().unwrap() = server.url("/token");
    let c = real_client(
        ClientConfig {
            client_secret: None,
            auth_method: AuthMethod::PrivateKeyJwt,
            private_key: Some(key.to_pem().clone()),
            private_key_id: Some("k1".into()),
            ..cfg(&server)
        },
        RetryPolicy::none(),
    );
    for i in 0..3 {
        let r = c.get_token().await;
        assert!(r.is_ok(), "{r:?}: {:?}", problems.lock().unwrap());
        assert_eq!(tok(&r.unwrap()), format!("tok-{i}"));
        c.invalidate();
    }
    assert_eq!(jtis.lock().unwrap().len(), 3, "three distinct jti values");
    assert!(problems.lock().unwrap().is_empty());
    // A different key is rejected by the same server check (the test itself is not vacuous).
    let other = SigningKey::generate(Alg::ES256, Some("k1".into())).unwrap();
    let c = real_client(
        ClientConfig {
            client_secret: None,
            auth_method: AuthMethod::PrivateKeyJwt,
            private_key: Some(other.to_pem().clone()),
            private_key_id: Some("k1".into()),
            ..cfg(&server)
        },
        RetryPolicy::none(),
    );
    assert_eq!(c.get_token().await.unwrap_err().code(), ErrorCode::InvalidClient);
    assert!(
        problems.lock().unwrap()[0].contains("invalid_signature"),
        "{:?}",
        problems.lock().unwrap()
    );
}

#[tokio::test]
async fn scope_audience_and_repeated_resource_reach_the_server() {
    let server = TestServer::start(|_, n| Reply::token(&format!("tok-{n}"), 600));
    let c = real_client(
        ClientConfig {
            scopes: vec!["read:data".into(), "write:logs".into()],
            audience: Some("https://api.example".into()),
            resource: vec!["https://r1.example/".into(), "https://r2.example/x?y=1&z=2".into()],
            ..cfg(&server)
        },
        RetryPolicy::none(),
    );
    c.get_token().await.unwrap();
    let t = c
        .get_token_for(TokenParams {
            scopes: vec!["admin".into()],
            audience: None,
            resource: vec![],
            ..TokenParams::default()
        })
        .await
        .unwrap();
    assert_eq!(tok(&t), "tok-1");
    let reqs = server.requests("/token");
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].form_value("scope").as_deref(), Some("read:data write:logs"));
    assert_eq!(reqs[0].form_value("audience").as_deref(), Some("https://api.example"));
    assert_eq!(
        reqs[0].form_values("resource"),
        ["https://r1.example/", "https://r2.example/x?y=1&z=2"]
    );
    assert_eq!(reqs[1].form_value("scope").as_deref(), Some("admin"));
    assert_eq!(reqs[1].form_value("audience"), None);
    assert!(reqs[1].form_values("resource").is_empty());
}

// ---------------------------------------------------------------------------------------------
// 5. Response parsing over the wire
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn responses_are_parsed_into_typed_results() {
    let key = SigningKey::generate(Alg::ES256, Some("k1".into())).unwrap();
    let exp = now_ms() / 1000 + 777;
    let jwt_at = key
        .sign(Some("at+jwt"), &Map::new(), &json!({"exp": exp, "sub": "x"}))
        .unwrap();
    let html = "<!doctype html><html><body>Please sign in to ACME SSO</body></html>";
    let jwt2 = jwt_at.clone();
    let server = TestServer::start(move |req, _| match req.query.as_str() {
        "html" => Reply::new(200, "text/html", html),
        "500" => Reply::new(500, "text/plain", "boom"),
        "scope" => Reply::json(
            400,
            &json!({"error": "invalid_scope", "error_description": "scope admin is not allowed"}),
        ),
        "unknown" => Reply::json(400, &json!({"error": "weird_error"})),
        "string" => Reply::json(
            200,
            &json!({"access_token": "s", "token_type": "Bearer", "expires_in": "90"}),
        ),
        "jwt" => Reply::json(200, &json!({"access_token": jwt2, "token_type": "Bearer"})),
        "echo" => Reply::json(
            401,
            &json!({"error": "invalid_client", "error_description": format!("secret {SECRET} is wrong")}),
        ),
        q => panic!("unexpected {q}"),
    });
    let get = |q: &str| {
        let c = real_client(
            ClientConfig {
                token_url: Some(server.url(&format!("/token?{q}"))),
                ..cfg(&server)
            },
            RetryPolicy::none(),
        );
        async move { (c.get_token().await, c) }
    };
    let (r, _) = get("html").await;
    let e = r.unwrap_err();
    assert_eq!((e.code(), e.status()), (ErrorCode::InvalidResponse, Some(200)));
    assert!(
        !format!("{e} {e:?}").contains("ACME") && !e.to_string().contains("<html"),
        "{e}"
    );
    let (r, _) = get("500").await;
    let e = r.unwrap_err();
    assert_eq!((e.code(), e.status()), (ErrorCode::ServerError, Some(500)));
    assert!(!e.to_string().contains("boom"));
    let (r, _) = get("scope").await;
    let e = r.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidScope);
    assert!(e.message().contains("scope admin is not allowed"), "{e}");
    let (r, _) = get("unknown").await;
    let e = r.unwrap_err();
    assert_eq!(
        (e.code(), e.oauth_error()),
        (ErrorCode::OauthError, Some("weird_error"))
    );
    let before = now_ms();
    let (r, _) = get("string").await;
    let t = r.unwrap();
    assert!(t.expires_at_ms >= before + 90_000 && t.expires_at_ms <= now_ms() + 90_000);
    let (r, _) = get("jwt").await;
    let t = r.unwrap();
    assert_eq!(t.expires_at_ms, exp * 1000);
    assert_eq!(tok(&t), jwt_at);
    let (r, c) = get("echo").await;
    let e = r.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClient);
    for s in [e.to_string(), format!("{e:?}"), format!("{c:?}")] {
        assert!(!s.contains(SECRET) && !s.contains("horse-battery"), "{s}");
    }
    assert!(e.message().contains("secret *** is wrong"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// 7. Transport
// ---------------------------------------------------------------------------------------------

fn transport(timeout_ms: u64, max_body: usize) -> Arc<HttpTransport> {
    Arc::new(
        HttpTransport::new(&TransportOptions {
            connect_timeout: Duration::from_millis(timeout_ms),
            timeout: Duration::from_millis(timeout_ms),
            max_response_bytes: max_body,
            ..Default::default()
        })
        .unwrap(),
    )
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = TestServer::start(|_, _| Reply::Hang);
    let t = transport(400, 1 << 20);
    let start = Instant::now();
    let e = t.send(HttpRequest::get(server.url("/jwks"))).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Timeout, "{e}");
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    assert!(e.is_retryable());

    // Through the token client: timeout, retried once, then surfaced as `timeout`.
    let clock = ManualClock::new(now_ms());
    let c = Arc::new(clock.clone());
    let client = TokenClient::new(cfg(&server), t, c.clone(), c)
        .unwrap()
        .with_retry(fast_retry(2))
        .unwrap();
    let start = Instant::now();
    let e = client.get_token().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Timeout, "{e}");
    assert_eq!(server.hits("/token"), 2);
    assert!(start.elapsed() < Duration::from_millis(2500), "{:?}", start.elapsed());
}

#[tokio::test]
async fn bodies_over_the_limit_are_invalid_responses() {
    let secret_body = "S".repeat(5000);
    let server = TestServer::start(move |req, _| match req.path.as_str() {
        "/big" => Reply::new(200, "application/json", secret_body.clone()),
        "/big-chunked" => Reply::new(200, "application/json", secret_body.clone()).chunked(),
        "/small-chunked" => Reply::new(200, "application/json", "x".repeat(1024)).chunked(),
        "/token" => Reply::json(200, &json!({"access_token": "A".repeat(3000), "token_type": "Bearer"})),
        _ => Reply::new(404, "text/plain", ""),
    });
    let t = transport(5000, 1024);
    for path in ["/big", "/big-chunked"] {
        let e = t.send(HttpRequest::get(server.url(path))).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidResponse, "{path}: {e}");
        assert!(e.message().contains("1024"), "{e}");
        assert!(!e.message().contains("SSSS"));
    }
    let ok = t.send(HttpRequest::get(server.url("/small-chunked"))).await.unwrap();
    assert_eq!(ok.body.len(), 1024, "exactly at the limit is fine");
    let clock = ManualClock::new(now_ms());
    let c = Arc::new(clock.clone());
    let client = TokenClient::new(cfg(&server), t, c.clone(), c)
        .unwrap()
        .with_retry(fast_retry(3))
        .unwrap();
    assert_eq!(client.get_token().await.unwrap_err().code(), ErrorCode::InvalidResponse);
    assert_eq!(server.hits("/token"), 1, "an oversized body is not retried");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    for status in [301u16, 302, 307, 308] {
        let server = TestServer::start(move |req, _| match req.path.as_str() {
            "/token" => Reply::new(status, "text/plain", "").header("Location", "/stolen"),
            _ => Reply::token("should-not-get-here", 600),
        });
        let c = real_client(cfg(&server), fast_retry(3));
        let e = c.get_token().await.unwrap_err();
        assert_eq!((e.code(), e.status()), (ErrorCode::InvalidResponse, Some(status)));
        assert_eq!(server.hits("/token"), 1);
        assert_eq!(
            server.hits("/stolen"),
            0,
            "HTTP {status}: the credentials were not sent on"
        );
        let resp = HttpTransport::shared()
            .send(HttpRequest::get(server.url("/token")))
            .await
            .unwrap();
        assert_eq!(resp.status, status);
        assert_eq!(resp.header("location"), Some("/stolen"));
        assert_eq!(server.hits("/stolen"), 0);
    }
}

#[tokio::test]
async fn plain_http_to_a_non_loopback_host_is_refused_before_connecting() {
    // A host that cannot resolve: had a connection been tried, the error would be network_error.
    let remote = "http://authsec-test.invalid/oauth/token";
    let cfg = ClientConfig {
        client_id: "a".into(),
        client_secret: Some(Secret::new("s")),
        token_url: Some(remote.into()),
        ..Default::default()
    };
    assert_eq!(
        token_client(cfg.clone()).unwrap_err().code(),
        ErrorCode::InsecureTransport
    );
    assert_eq!(
        token_client(ClientConfig {
            token_url: None,
            issuer: Some("http://authsec-test.invalid".into()),
            ..cfg.clone()
        })
        .unwrap_err()
        .code(),
        ErrorCode::InsecureTransport
    );
    let v = remote_verifier(
        VerifierConfig::new("i", "a"),
        "http://authsec-test.invalid/jwks",
        JwksPolicy::default(),
    );
    assert_eq!(v.err().unwrap().code(), ErrorCode::InsecureTransport);
    assert_eq!(
        discover("http://authsec-test.invalid", false).await.unwrap_err().code(),
        ErrorCode::InsecureTransport
    );
    // Loopback is fine without opting in; other hosts only with the opt-in (then it is a network error here).
    let ok = token_client(ClientConfig {
        allow_insecure_http: true,
        ..cfg
    })
    .unwrap();
    assert_eq!(
        ok.with_retry(RetryPolicy::none())
            .unwrap()
            .get_token()
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NetworkError
    );

    // Discovery that names a plain-http token endpoint elsewhere: refused, no token request sent.
    let server = TestServer::start(|req, _| {
        let base = format!("http://{}", req.header("host").unwrap());
        Reply::json(
            200,
            &json!({"issuer": base, "token_endpoint": "http://authsec-test.invalid/token"}),
        )
    });
    let c = token_client(ClientConfig {
        client_id: "a".into(),
        client_secret: Some(Secret::new("s")),
        issuer: Some(server.base()),
        ..Default::default()
    })
    .unwrap();
    let e = c.get_token().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InsecureTransport, "{e}");
    assert_eq!(server.total_hits(), 1);
    assert_eq!(c.request_count(), 0);
}

#[tokio::test]
async fn discovery_via_rfc8414_metadata() {
    let server = TestServer::start(|req, _| {
        let base = format!("http://{}", req.header("host").unwrap());
        match req.path.as_str() {
            "/.well-known/oauth-authorization-server" => Reply::json(
                200,
                &json!({"issuer": base, "token_endpoint": format!("{base}/oauth2/token"), "jwks_uri": format!("{base}/keys")}),
            ),
            "/oauth2/token" => Reply::token("discovered", 600),
            _ => Reply::new(404, "text/plain", "not here"),
        }
    });
    let issuer = server.base();
    let c = token_client(ClientConfig {
        client_id: CLIENT_ID.into(),
        client_secret: Some(Secret::new(SECRET)),
        issuer: Some(issuer.clone()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(tok(&c.get_token().await.unwrap()), "discovered");
    c.invalidate();
    assert_eq!(tok(&c.get_token().await.unwrap()), "discovered");
    assert_eq!(
        server.hits("/.well-known/oauth-authorization-server"),
        1,
        "metadata fetched once"
    );
    assert_eq!(server.hits("/.well-known/openid-configuration"), 0);
    assert_eq!(server.hits("/oauth2/token"), 2);
    assert_eq!(
        server.requests("/.well-known/oauth-authorization-server")[0].method,
        "GET"
    );
    let meta = discover(&issuer, false).await.unwrap();
    assert_eq!(meta.jwks_uri, Some(format!("{issuer}/keys")));
}

#[tokio::test]
async fn discovery_falls_back_to_openid_configuration() {
    let server = TestServer::start(|req, _| {
        let base = format!("http://{}", req.header("host").unwrap());
        match req.path.as_str() {
            "/tenant1/.well-known/openid-configuration" => Reply::json(
                200,
                &json!({"issuer": format!("{base}/tenant1"), "token_endpoint": format!("{base}/tenant1/token")}),
            ),
            "/tenant1/token" => Reply::token("via-oidc", 600),
            _ => Reply::new(404, "text/plain", "not here"),
        }
    });
    let issuer = format!("{}/tenant1", server.base());
    let c = token_client(ClientConfig {
        client_id: CLIENT_ID.into(),
        client_secret: Some(Secret::new(SECRET)),
        issuer: Some(issuer),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(tok(&c.get_token().await.unwrap()), "via-oidc");
    assert_eq!(
        server.hits("/.well-known/oauth-authorization-server/tenant1"),
        1,
        "RFC 8414 location tried first"
    );
    assert_eq!(server.hits("/tenant1/.well-known/openid-configuration"), 1);
    assert_eq!(server.hits("/tenant1/token"), 1);

    // A metadata document for another issuer is rejected (RFC 8414 §3.3).
    let server = TestServer::start(|req, _| match req.path.as_str() {
        "/.well-known/oauth-authorization-server" => Reply::json(
            200,
            &json!({"issuer": "https://evil.example", "token_endpoint": "https://evil.example/token"}),
        ),
        _ => Reply::new(404, "text/plain", ""),
    });
    let c = token_client(ClientConfig {
        client_id: CLIENT_ID.into(),
        client_secret: Some(Secret::new(SECRET)),
        issuer: Some(server.base()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        c.with_retry(RetryPolicy::none())
            .unwrap()
            .get_token()
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidResponse
    );
    assert_eq!(server.total_hits(), 1);
}

#[test]
fn request_counter_is_shared_by_clones() {
    let server = TestServer::start(|_, n| Reply::token(&format!("t{n}"), 600));
    let c = token_client(cfg(&server)).unwrap();
    let counter = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..8 {
            let c = c.clone();
            let counter = &counter;
            s.spawn(move || {
                for _ in 0..50 {
                    if block_on(c.get_token()).is_ok() {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(counter.load(Ordering::Relaxed), 400);
    assert_eq!(server.hits("/token"), 1);
    assert_eq!(c.request_count(), 1);
}
