//! RFC 8693 token exchange through the token client: the form as sent with each client
//! authentication, the cache (per subject and parameters, single flight, never past the subject's
//! expiry), the response's issued_token_type, errors, redaction, the downstream helper, the
//! options readers and the cache bound. Same fake transport and manual clock as token_client.rs.

mod support;

use authsec_core::client::token_client::MAX_CACHE_KEYS;
use support::*;

const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const SUBJECT: &str = "inbound-subject-token-9f8e7d";
const ACTOR: &str = "actor-token-1a2b3c";

/// A token-exchange answer: `tok` of `issued_token_type` access_token, valid `expires_in` s.
fn exchanged(tok: &str, expires_in: i64) -> HttpResponse {
    HttpResponse::json(
        200,
        &json!({"access_token": tok, "token_type": "Bearer", "expires_in": expires_in, "issued_token_type": ACCESS}),
    )
}

/// Answers `xtok-<n>` valid for `expires_in` seconds.
fn numbered(expires_in: i64) -> impl Fn(&HttpRequest, usize) -> Result<HttpResponse> + Send + Sync + 'static {
    move |_, n| Ok(exchanged(&format!("xtok-{n}"), expires_in))
}

/// A JWT-shaped token whose payload has this `exp` (seconds); the signature is never checked.
fn jwt_with_exp(exp_s: i64, id: &str) -> String {
    let payload = json!({"exp": exp_s, "sub": id}).to_string();
    format!("eyJhbGciOiJFUzI1NiJ9.{}.c2ln", util::b64url_encode(payload.as_bytes()))
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

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn exchange(subject: &str) -> ExchangeRequest {
    ExchangeRequest::new(TokenExchange::new(subject, "access_token").unwrap())
}

fn with_scopes(mut r: ExchangeRequest, scopes: &[&str]) -> ExchangeRequest {
    r.scopes = scopes.iter().map(|s| s.to_string()).collect();
    r
}

// ---------------------------------------------------------------------------------------------
// The request as sent
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_form_is_exactly_the_exchange_with_each_client_authentication() {
    let key = SigningKey::generate(Alg::ES256, Some("k1".into())).unwrap();
    let configs = [
        ("client_secret_basic", cfg()),
        (
            "client_secret_post",
            ClientConfig {
                auth_method: AuthMethod::ClientSecretPost,
                ..cfg()
            },
        ),
        (
            "private_key_jwt",
            ClientConfig {
                client_secret: None,
                auth_method: AuthMethod::PrivateKeyJwt,
                private_key: Some(key.to_pem().clone()),
                private_key_id: Some("k1".into()),
                ..cfg()
            },
        ),
    ];
    for (method, config) in configs {
        let clock = ManualClock::new(T0);
        // Answers with the type asked for.
        let fake = Fake::new(&clock, |req, n| {
            let issued = values(req, "requested_token_type").pop();
            Ok(HttpResponse::json(
                200,
                &json!({"access_token": format!("xtok-{n}"), "token_type": "Bearer", "expires_in": 600, "issued_token_type": issued}),
            ))
        });
        let c = client_with(config, &fake, RetryPolicy::default());
        let grant = TokenExchange::new(SUBJECT, "access_token")
            .unwrap()
            .with_actor(ACTOR, "jwt")
            .unwrap()
            .with_requested_token_type("jwt")
            .unwrap();
        let req = ExchangeRequest {
            scopes: vec!["write:b".into(), "read:a".into()],
            audience: Some("https://downstream.test".into()),
            resource: vec!["https://r2.test".into(), "https://r1.test".into()],
            ..ExchangeRequest::new(grant)
        };
        assert_eq!(tok(&c.exchange_token(req).await.unwrap()), "xtok-0");
        let sent = fake.request(0);
        assert_eq!(sent.url, TOKEN_URL);
        let mut expected = pairs(&[
            ("grant_type", EXCHANGE),
            ("subject_token", SUBJECT),
            ("subject_token_type", ACCESS),
            ("actor_token", ACTOR),
            ("actor_token_type", JWT),
            ("requested_token_type", JWT),
            ("scope", "read:a write:b"),
            ("audience", "https://downstream.test"),
            ("resource", "https://r1.test"),
            ("resource", "https://r2.test"),
        ]);
        let mut got = form(&sent);
        match method {
            "client_secret_basic" => {
                assert!(sent.header("authorization").unwrap().starts_with("Basic "), "{method}");
            }
            "client_secret_post" => {
                assert_eq!(sent.header("authorization"), None, "{method}");
                expected.extend(pairs(&[("client_id", "agent-1"), ("client_secret", SECRET)]));
            }
            _ => {
                assert_eq!(sent.header("authorization"), None, "{method}");
                let assertion = values(&sent, "client_assertion").pop().unwrap();
                let keys = KeySet::from_jwks_value(&json!({"keys": [key.public_jwk()]})).unwrap();
                let vcfg = VerifierConfig::new("agent-1", TOKEN_URL);
                let parsed = access_token::rules::parse_token(&assertion, &vcfg).unwrap();
                access_token::rules::verify_parsed(&parsed, &keys, &vcfg, T0).unwrap();
                got.retain(|(k, _)| k != "client_assertion");
                expected.extend(pairs(&[
                    ("client_id", "agent-1"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                ]));
            }
        }
        assert_eq!(got, expected, "{method}");

        // Nothing named: no scope, audience or resource is sent (the configuration's read:data is
        // not an exchange's default), and no actor.
        c.exchange_token(exchange("other-subject")).await.unwrap();
        let bare = form(&fake.request(1));
        for absent in ["scope", "audience", "resource", "actor_token", "actor_token_type"] {
            assert!(!bare.iter().any(|(k, _)| k == absent), "{method}: {absent} in {bare:?}");
        }
        assert_eq!(values(&fake.request(1), "requested_token_type"), [ACCESS]);
    }
}

// ---------------------------------------------------------------------------------------------
// The cache
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn one_request_per_subject_and_parameters() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, move |req, n| {
        Ok(if values(req, "grant_type") == ["client_credentials"] {
            token_json(&format!("cc-{n}"), 3600)
        } else {
            exchanged(&format!("xtok-{n}"), 3600)
        })
    });
    let c = client(&fake);
    let a = || with_scopes(exchange("subject-A"), &["x", "y"]);
    assert_eq!(tok(&c.exchange_token(a()).await.unwrap()), "xtok-0");
    // The same subject and parameters (scopes in another order): cached.
    assert_eq!(tok(&c.exchange_token(a()).await.unwrap()), "xtok-0");
    assert_eq!(
        tok(&c
            .exchange_token(with_scopes(exchange("subject-A"), &["y", "x", "x"]))
            .await
            .unwrap()),
        "xtok-0"
    );
    assert_eq!(fake.count(), 1);
    // Another subject, other scopes, an audience, an actor, another subject type: each its own.
    let others = [
        with_scopes(exchange("subject-B"), &["x", "y"]),
        with_scopes(exchange("subject-A"), &["x"]),
        ExchangeRequest {
            audience: Some("https://api.test".into()),
            ..a()
        },
        ExchangeRequest {
            grant: a().grant.with_actor(ACTOR, "access_token").unwrap(),
            ..a()
        },
        ExchangeRequest {
            grant: TokenExchange::new("subject-A", "jwt").unwrap(),
            ..a()
        },
    ];
    for (i, r) in others.iter().enumerate() {
        assert_eq!(
            tok(&c.exchange_token(r.clone()).await.unwrap()),
            format!("xtok-{}", i + 1)
        );
    }
    assert_eq!(fake.count(), 6);
    for (i, r) in others.iter().enumerate() {
        assert_eq!(
            tok(&c.exchange_token(r.clone()).await.unwrap()),
            format!("xtok-{}", i + 1)
        );
    }
    assert_eq!(tok(&c.exchange_token(a()).await.unwrap()), "xtok-0");
    assert_eq!(fake.count(), 6, "every one of them cached");
    // The client-credentials token is another entry, untouched by the exchanges.
    assert_eq!(tok(&c.get_token().await.unwrap()), "cc-6");
    assert_eq!(values(&fake.request(6), "grant_type"), ["client_credentials"]);
    assert_eq!(c.cached_keys(), 6);
}

#[tokio::test]
async fn concurrent_exchanges_of_one_subject_send_one_request() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered(3600));
    let c = client(&fake);
    let open = fake.close_gate();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.exchange_token(exchange(SUBJECT)).await })
        })
        .collect();
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    assert_eq!(fake.count(), 1, "100 waiting callers started exactly one exchange");
    open.send(true).unwrap();
    for t in tasks {
        assert_eq!(tok(&t.await.unwrap().unwrap()), "xtok-0");
    }
    assert_eq!(fake.count(), 1);
    assert_eq!(c.request_count(), 1);
}

#[tokio::test]
async fn the_exchanged_token_is_never_handed_out_past_the_subject_expiry() {
    let clock = ManualClock::new(T0);
    // The server's tokens live an hour; the subject expires in ten minutes.
    let fake = Fake::new(&clock, numbered(3600));
    let c = client(&fake);
    let subject_exp = T0 + 600_000;
    let subject = jwt_with_exp(subject_exp / 1000, "user-1");
    let req = || exchange(&subject);
    let t = c.exchange_token(req()).await.unwrap();
    assert_eq!(tok(&t), "xtok-0");
    assert_eq!(
        t.expires_at_ms, subject_exp,
        "capped at the subject's exp, not the server's hour"
    );
    // No refresh could outlive the subject: the token is served until its usable end (5 s before).
    clock.set_ms(subject_exp - 5_001);
    assert_eq!(tok(&c.exchange_token(req()).await.unwrap()), "xtok-0");
    assert_eq!(fake.count(), 1);
    // From there it is not handed out; a new exchange is sent while the subject is still valid.
    clock.set_ms(subject_exp - 5_000);
    let params = req().into_params().unwrap();
    assert!(c.try_get_now_for(params.clone()).is_none());
    let t = c.exchange_token(req()).await.unwrap();
    assert_eq!(tok(&t), "xtok-1");
    assert_eq!(fake.times(), [T0, subject_exp - 5_000]);
    assert_eq!(t.expires_at_ms, subject_exp);
    // At the subject's exp: nothing handed out, nothing sent.
    clock.set_ms(subject_exp);
    assert!(c.try_get_now_for(params).is_none());
    let e = c.exchange_token(req()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidGrant);
    assert_eq!(fake.count(), 2);

    // A server lifetime shorter than the subject's: the usual proactive refresh, with the
    // subject's bound unused.
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered(600));
    let c = client(&fake);
    let subject = jwt_with_exp((T0 + 3_600_000) / 1000, "user-1");
    assert_eq!(
        c.exchange_token(exchange(&subject)).await.unwrap().expires_at_ms,
        T0 + 600_000
    );
    clock.set_ms(T0 + 299_999);
    assert_eq!(tok(&c.exchange_token(exchange(&subject)).await.unwrap()), "xtok-0");
    clock.set_ms(T0 + 300_000); // refresh window: expiry - 300 s
    c.exchange_token(exchange(&subject)).await.unwrap();
    assert_eq!(fake.count(), 2);
}

#[tokio::test]
async fn an_expired_subject_or_actor_is_invalid_grant_before_anything_is_sent() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |req, _| {
        Ok(if req.url.ends_with("/.well-known/oauth-authorization-server") {
            HttpResponse::json(200, &json!({"issuer": ISS, "token_endpoint": TOKEN_URL}))
        } else {
            exchanged("xtok", 600)
        })
    });
    // With discovery: not even the metadata is fetched.
    let c = client_with(
        ClientConfig {
            token_url: None,
            issuer: Some(ISS.into()),
            ..cfg()
        },
        &fake,
        RetryPolicy::default(),
    );
    let expired = jwt_with_exp(T0 / 1000, "user-1"); // exp == now
    let e = c.exchange_token(exchange(&expired)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidGrant);
    assert!(
        e.message().contains("subject token expired") && e.message().contains("get a fresh subject token"),
        "{e}"
    );
    let e = c
        .downstream_token(expired.as_str(), Downstream::audience("https://api.test"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidGrant);
    let with_expired_actor = ExchangeRequest::new(
        TokenExchange::new("opaque-subject", "access_token")
            .unwrap()
            .with_actor(jwt_with_exp(T0 / 1000 - 60, "agent"), "jwt")
            .unwrap(),
    );
    let e = c.exchange_token(with_expired_actor).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidGrant);
    assert!(e.message().contains("actor token expired 60 s ago"), "{e}");
    assert_eq!(fake.count(), 0);
    assert_eq!(c.request_count(), 0);
    // A subject valid one more second is exchanged.
    let valid = jwt_with_exp(T0 / 1000 + 1, "user-1");
    assert_eq!(tok(&c.exchange_token(exchange(&valid)).await.unwrap()), "xtok");
    assert_eq!(fake.count(), 2);
}

#[tokio::test]
async fn a_subject_that_expires_during_retries_or_the_request_is_invalid_grant() {
    let subject = jwt_with_exp(T0 / 1000 + 1, "user-1");
    // A 503 asking for a 2 s pause: the retry would come after the subject's exp, and is not sent.
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, _| {
        Ok(HttpResponse::new(503, vec![("retry-after".into(), "2".into())], ""))
    });
    let c = client(&fake);
    let e = c.exchange_token(exchange(&subject)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidGrant, "{e}");
    assert!(e.message().contains("subject token expired"), "{e}");
    assert_eq!(fake.times(), [T0]);
    // The same through get_token_for with the exchange's parameters (no up-front check there).
    let c = client(&fake);
    let params = exchange(&subject).into_params().unwrap();
    clock.set_ms(T0 + 1_000);
    assert_eq!(
        c.get_token_for(params).await.unwrap_err().code(),
        ErrorCode::InvalidGrant
    );
    assert_eq!(fake.count(), 1);
    // The answer arrives after the subject's exp: not cached, not handed out.
    let clock = ManualClock::new(T0);
    let later = clock.clone();
    let fake = Fake::new(&clock, move |_, _| {
        later.advance(Duration::from_secs(2));
        Ok(exchanged("late", 3600))
    });
    let c = client(&fake);
    let e = c.exchange_token(exchange(&subject)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidGrant);
    assert!(e.message().contains("expired while the token was requested"), "{e}");
    assert_eq!(fake.count(), 1);
}

// ---------------------------------------------------------------------------------------------
// The response
// ---------------------------------------------------------------------------------------------

async fn exchange_answered(resp: HttpResponse, req: ExchangeRequest) -> (Result<Arc<Token>>, usize) {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, move |_, _| Ok(resp.clone()));
    let c = client_with(cfg(), &fake, fast_retry(2));
    let r = c.exchange_token(req).await;
    (r, fake.count())
}

#[tokio::test]
async fn issued_token_type_must_be_present_and_the_requested_type() {
    let body = |issued: Value| {
        HttpResponse::json(
            200,
            &json!({"access_token": "xtok", "token_type": "Bearer", "expires_in": 600, "issued_token_type": issued}),
        )
    };
    let (r, n) = exchange_answered(body(Value::Null), exchange(SUBJECT)).await;
    let e = r.unwrap_err();
    assert_eq!((e.code(), n), (ErrorCode::InvalidResponse, 1));
    assert!(e.message().contains("no issued_token_type"), "{e}");
    let (r, n) = exchange_answered(
        body(json!("urn:ietf:params:oauth:token-type:id_token")),
        exchange(SUBJECT),
    )
    .await;
    let e = r.unwrap_err();
    assert_eq!((e.code(), n), (ErrorCode::InvalidResponse, 1));
    assert!(
        e.message().contains("\"urn:ietf:params:oauth:token-type:id_token\"") && e.message().contains(ACCESS),
        "names what came back and what was asked: {e}"
    );
    // The requested type, as a URN: accepted and kept on the token.
    let (r, _) = exchange_answered(body(json!(ACCESS)), exchange(SUBJECT)).await;
    assert_eq!(r.unwrap().issued_token_type.as_deref(), Some(ACCESS));
    let jwt_req = ExchangeRequest::new(
        TokenExchange::new(SUBJECT, "access_token")
            .unwrap()
            .with_requested_token_type("jwt")
            .unwrap(),
    );
    let (r, _) = exchange_answered(body(json!(ACCESS)), jwt_req.clone()).await;
    assert_eq!(r.unwrap_err().code(), ErrorCode::InvalidResponse);
    let (r, _) = exchange_answered(body(json!(JWT)), jwt_req).await;
    assert!(r.is_ok());
    // Client credentials do not require it (and keep it when present).
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, _| Ok(token_json("cc", 600)));
    assert!(client(&fake).get_token().await.unwrap().issued_token_type.is_none());
    let fake = Fake::new(&clock, |_, _| Ok(exchanged("cc", 600)));
    assert_eq!(
        client(&fake).get_token().await.unwrap().issued_token_type.as_deref(),
        Some(ACCESS)
    );
}

#[tokio::test]
async fn server_errors_map_as_for_client_credentials_without_echoing_the_subject() {
    for (error, code) in [
        ("invalid_scope", ErrorCode::InvalidScope),
        ("invalid_target", ErrorCode::InvalidTarget),
        ("invalid_grant", ErrorCode::InvalidGrant),
        ("invalid_request", ErrorCode::InvalidRequest),
        ("unauthorized_client", ErrorCode::UnauthorizedClient),
    ] {
        let resp = oauth_error(400, error, &format!("cannot exchange {SUBJECT} / {ACTOR}"));
        let req = ExchangeRequest::new(
            TokenExchange::new(SUBJECT, "access_token")
                .unwrap()
                .with_actor(ACTOR, "access_token")
                .unwrap(),
        );
        let (r, n) = exchange_answered(resp, req).await;
        let e = r.unwrap_err();
        assert_eq!(
            (e.code(), e.status(), e.oauth_error(), n),
            (code, Some(400), Some(error), 1)
        );
        for shown in [e.to_string(), format!("{e:?}")] {
            assert!(!shown.contains(SUBJECT) && !shown.contains(ACTOR), "{shown}");
            assert!(
                !shown.contains("client_credentials"),
                "the hint names the exchange: {shown}"
            );
        }
    }
    let (r, n) = exchange_answered(status(503), exchange(SUBJECT)).await;
    assert_eq!((r.unwrap_err().code(), n), (ErrorCode::ServerError, 2), "retried");
}

#[tokio::test]
async fn debug_output_never_shows_the_subject_or_actor_token() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, _| Ok(exchanged("xtok", 600)));
    let c = client(&fake);
    let grant = TokenExchange::new(SUBJECT, "access_token")
        .unwrap()
        .with_actor(ACTOR, "jwt")
        .unwrap();
    let req = ExchangeRequest::new(grant.clone());
    let params = req.clone().into_params().unwrap();
    c.exchange_token(req.clone()).await.unwrap();
    let from_options = ExchangeRequest::from_value(&json!({"subject_token": SUBJECT, "actor_token": ACTOR})).unwrap();
    let downstream = ExchangeRequest::downstream(SUBJECT, Downstream::audience("https://api.test")).unwrap();
    let shown = [
        format!("{grant:?}"),
        format!("{req:?}"),
        format!("{params:?}"),
        format!("{c:?}"),
        format!("{from_options:?}"),
        format!("{downstream:?}"),
        client::Grant::cache_key(&grant),
    ];
    for s in &shown {
        assert!(!s.contains(SUBJECT) && !s.contains(ACTOR), "{s}");
        assert!(!s.contains("subject-token") && !s.contains("actor-token"), "{s}");
    }
    assert!(shown[0].contains("***"), "{}", shown[0]);
}

// ---------------------------------------------------------------------------------------------
// The downstream helper
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_downstream_token_must_name_its_target_and_exchanges_the_inbound_token() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered(600));
    let c = client(&fake);
    for target in [Downstream::default(), Downstream::default().with_scopes(["read"])] {
        let e = c.downstream_token(SUBJECT, target).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::ConfigError);
        assert!(e.message().contains("must name the API it is for"), "{e}");
    }
    assert_eq!(fake.count(), 0);
    let t = c
        .downstream_token(
            SUBJECT,
            Downstream::audience("https://orders.test").with_scopes(["orders:read"]),
        )
        .await
        .unwrap();
    assert_eq!(tok(&t), "xtok-0");
    let t = c
        .downstream_token(SUBJECT, Downstream::resource("https://billing.test/api"))
        .await
        .unwrap();
    assert_eq!(tok(&t), "xtok-1");
    assert_eq!(
        form(&fake.request(0)),
        pairs(&[
            ("grant_type", EXCHANGE),
            ("subject_token", SUBJECT),
            ("subject_token_type", ACCESS),
            ("requested_token_type", ACCESS),
            ("scope", "orders:read"),
            ("audience", "https://orders.test"),
        ])
    );
    assert_eq!(
        form(&fake.request(1)),
        pairs(&[
            ("grant_type", EXCHANGE),
            ("subject_token", SUBJECT),
            ("subject_token_type", ACCESS),
            ("requested_token_type", ACCESS),
            ("resource", "https://billing.test/api"),
        ])
    );
    // Cached per inbound token and target.
    c.downstream_token(
        SUBJECT,
        Downstream::audience("https://orders.test").with_scopes(["orders:read"]),
    )
    .await
    .unwrap();
    assert_eq!(fake.count(), 2);
}

// ---------------------------------------------------------------------------------------------
// The options readers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_options_readers_take_both_spellings_and_name_what_is_wrong() {
    let snake = ExchangeRequest::from_value(&json!({
        "subject_token": SUBJECT, "subject_token_type": "jwt", "actor_token": ACTOR,
        "actor_token_type": JWT, "requested_token_type": "access_token",
        "scopes": "b a", "audience": "https://api.test", "resource": "https://r.test",
    }))
    .unwrap();
    let camel = ExchangeRequest::from_value(&json!({
        "subjectToken": SUBJECT, "subjectTokenType": JWT, "actorToken": ACTOR,
        "actorTokenType": "jwt", "requestedTokenType": ACCESS,
        "scopes": ["a", "b"], "audience": "https://api.test", "resource": ["https://r.test"],
    }))
    .unwrap();
    assert_eq!(
        snake.clone().into_params().unwrap(),
        camel.clone().into_params().unwrap()
    );
    assert_eq!(snake.grant.subject_token_type(), JWT);
    assert_eq!(snake.grant.actor_token_type(), Some(JWT));
    assert_eq!(
        (snake.scopes.len(), snake.resource.as_slice()),
        (2, &["https://r.test".to_string()][..])
    );
    // Defaults: access_token throughout, nothing else named; null is absent.
    let d =
        ExchangeRequest::from_value(&json!({"subjectToken": SUBJECT, "actorToken": ACTOR, "audience": null})).unwrap();
    assert_eq!(
        (
            d.grant.subject_token_type(),
            d.grant.actor_token_type(),
            d.grant.requested_token_type()
        ),
        (ACCESS, Some(ACCESS), ACCESS)
    );
    assert!(d.scopes.is_empty() && d.audience.is_none() && d.resource.is_empty());
    // What it sends: the snake_case request, through a client.
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered(600));
    let c = client(&fake);
    c.exchange_token(camel).await.unwrap();
    c.exchange_token(snake).await.unwrap();
    assert_eq!(fake.count(), 1, "both spellings are one cache entry");
    assert_eq!(values(&fake.request(0), "subject_token_type"), [JWT]);
    assert_eq!(values(&fake.request(0), "scope"), ["a b"]);

    let err = |v: Value| ExchangeRequest::from_value(&v).unwrap_err();
    for (v, says) in [
        (
            json!({"subject_token": SUBJECT, "subject_type": "jwt"}),
            "unknown option `subject_type`",
        ),
        (
            json!({"subject_token": SUBJECT, "scope": "a"}),
            "unknown option `scope`",
        ),
        (json!({"subjectTokenType": "jwt"}), "`subject_token` is required"),
        (json!({"subject_token": ""}), "`subject_token` is empty"),
        (
            json!({"subject_token": SUBJECT, "subject_token_type": "saml"}),
            "`subject_token_type` \"saml\" is not a token type",
        ),
        (
            json!({"subject_token": SUBJECT, "requestedTokenType": "urn:x:jwt"}),
            "`requested_token_type` \"urn:x:jwt\" is not a token type",
        ),
        (
            json!({"subject_token": SUBJECT, "actor_token": ACTOR, "actor_token_type": "bearer"}),
            "`actor_token_type` \"bearer\" is not a token type",
        ),
        (
            json!({"subject_token": SUBJECT, "actor_token_type": "jwt"}),
            "`actor_token_type` is given without `actor_token`",
        ),
        (json!({"subject_token": SUBJECT, "resource": 5}), "`resource` must be"),
        (json!({"subject_token": SUBJECT, "audience": ""}), "must not be empty"),
        (json!({"subject_token": 7}), "`subject_token` must be a string"),
        (json!("token"), "must be an object"),
    ] {
        let e = err(v.clone());
        assert_eq!(e.code(), ErrorCode::ConfigError, "{v}");
        assert!(e.message().contains(says), "{v}: {e}");
        assert!(!e.message().contains(SUBJECT), "{e}");
    }

    // The downstream reader.
    let a = ExchangeRequest::downstream_from_value(
        &json!({"inbound_token": SUBJECT, "audience": "https://api.test", "scopes": "x"}),
    )
    .unwrap();
    let b = ExchangeRequest::downstream_from_value(
        &json!({"inboundToken": SUBJECT, "audience": "https://api.test", "scopes": ["x"]}),
    )
    .unwrap();
    assert_eq!(a.clone().into_params().unwrap(), b.into_params().unwrap());
    assert_eq!(
        a.into_params().unwrap(),
        ExchangeRequest::downstream(SUBJECT, Downstream::audience("https://api.test").with_scopes(["x"]))
            .unwrap()
            .into_params()
            .unwrap()
    );
    let r = ExchangeRequest::downstream_from_value(
        &json!({"inboundToken": SUBJECT, "resource": ["https://r1", "https://r2"]}),
    )
    .unwrap();
    assert_eq!(r.resource, ["https://r1", "https://r2"]);
    for (v, says) in [
        (json!({"inbound_token": SUBJECT}), "must name the API it is for"),
        (
            json!({"inbound_token": SUBJECT, "audience": null, "resource": []}),
            "must name the API it is for",
        ),
        (json!({"audience": "https://api.test"}), "`inbound_token` is required"),
        (
            json!({"inbound_token": SUBJECT, "audience": "a", "subject_token": "x"}),
            "unknown option `subject_token`",
        ),
    ] {
        let e = ExchangeRequest::downstream_from_value(&v).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ConfigError, "{v}");
        assert!(e.message().contains(says), "{v}: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// The cache bound
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_full_cache_evicts_the_least_recently_used_and_never_fails() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered(3600));
    let c = client(&fake);
    let subject = |i: usize| format!("subject-{i}");
    for i in 0..MAX_CACHE_KEYS {
        c.exchange_token(exchange(&subject(i))).await.unwrap();
    }
    assert_eq!((c.cached_keys(), fake.count()), (MAX_CACHE_KEYS, MAX_CACHE_KEYS));
    // subject-0 is used again: subject-1 becomes the least recently used.
    assert_eq!(tok(&c.exchange_token(exchange(&subject(0))).await.unwrap()), "xtok-0");
    // One more key: one entry goes (not all of them), and it is subject-1.
    c.exchange_token(exchange(&subject(MAX_CACHE_KEYS))).await.unwrap();
    assert_eq!(c.cached_keys(), MAX_CACHE_KEYS);
    let sent = fake.count();
    assert_eq!(tok(&c.exchange_token(exchange(&subject(0))).await.unwrap()), "xtok-0");
    assert_eq!(tok(&c.exchange_token(exchange(&subject(2))).await.unwrap()), "xtok-2");
    assert_eq!(
        tok(&c.exchange_token(exchange(&subject(MAX_CACHE_KEYS - 1))).await.unwrap()),
        format!("xtok-{}", MAX_CACHE_KEYS - 1)
    );
    assert_eq!(fake.count(), sent, "the others are still cached");
    c.exchange_token(exchange(&subject(1))).await.unwrap();
    assert_eq!(fake.count(), sent + 1, "subject-1 was evicted");
    // Many more keys than fit: every one is served, the cache stays bounded.
    for i in 1000..1000 + 2 * MAX_CACHE_KEYS {
        c.exchange_token(exchange(&subject(i))).await.unwrap();
    }
    assert_eq!(c.cached_keys(), MAX_CACHE_KEYS);
    // The default token is not one of the bounded entries.
    c.get_token().await.unwrap();
    assert_eq!(c.cached_keys(), MAX_CACHE_KEYS);
}

#[tokio::test]
async fn a_full_cache_drops_expired_entries_before_the_least_recently_used() {
    let clock = ManualClock::new(T0);
    // Tokens for "short-*" subjects live 10 minutes, the others an hour.
    let fake = Fake::new(&clock, |req, n| {
        let short = values(req, "subject_token")[0].starts_with("short-");
        Ok(exchanged(&format!("xtok-{n}"), if short { 600 } else { 3600 }))
    });
    let c = client(&fake);
    let quarter = MAX_CACHE_KEYS / 4;
    let subject_exp_s = (T0 + 600_000) / 1000;
    let mut subjects: Vec<String> = (0..2 * quarter).map(|i| format!("long-{i}")).collect();
    // Expiring entries, used after the long ones (so plain LRU would evict the long ones first):
    // tokens that expire, and JWT subjects that expire (capping their tokens).
    subjects.extend((0..quarter).map(|i| format!("short-{i}")));
    subjects.extend((0..quarter).map(|i| jwt_with_exp(subject_exp_s, &format!("user-{i}"))));
    for s in &subjects {
        c.exchange_token(exchange(s)).await.unwrap();
    }
    assert_eq!(c.cached_keys(), MAX_CACHE_KEYS);
    clock.set_ms(T0 + 700_000);
    // Each new key finds the cache full; the expired half makes room and the long-lived half stays.
    for i in 0..2 * quarter {
        c.exchange_token(exchange(&format!("new-{i}"))).await.unwrap();
    }
    assert_eq!(c.cached_keys(), MAX_CACHE_KEYS);
    let sent = fake.count();
    for s in &subjects[..2 * quarter] {
        c.exchange_token(exchange(s)).await.unwrap();
    }
    assert_eq!(fake.count(), sent, "no long-lived entry was evicted");
}
