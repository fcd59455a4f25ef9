//! The management client against a fake transport on a manual clock: every operation's request,
//! the answers' mapping, the bounded retries, argument checks, and that no secret leaks.

use super::*;
use crate::http::{HttpRequest, HttpResponse, Method, Transport};
use crate::runtime::{BoxFut, Clock};
use crate::{ErrorCode, ManualClock, Result};
use futures::executor::block_on;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_700_000_000_000;
const BASE: &str = "https://auth.test";
const SECRET: &str = "mgmt-s3cr3t-value";
const ADMIN: &str = "admin-b00tstrap-token";

type Handler = Box<dyn Fn(&HttpRequest, usize) -> HttpResponse + Send + Sync>;

/// Logs every request with the time it was sent; answers through a handler given the request's
/// 0-based index.
struct Fake {
    clock: ManualClock,
    handler: Handler,
    log: Mutex<Vec<(i64, HttpRequest)>>,
}

impl Fake {
    fn new(clock: &ManualClock, h: impl Fn(&HttpRequest, usize) -> HttpResponse + Send + Sync + 'static) -> Arc<Fake> {
        Arc::new(Fake {
            clock: clock.clone(),
            handler: Box::new(h),
            log: Mutex::new(Vec::new()),
        })
    }
    fn requests(&self) -> Vec<HttpRequest> {
        self.log.lock().iter().map(|(_, r)| r.clone()).collect()
    }
    fn times(&self) -> Vec<i64> {
        self.log.lock().iter().map(|(t, _)| *t).collect()
    }
    fn count(&self) -> usize {
        self.log.lock().len()
    }
}

impl Transport for Fake {
    fn send(&self, request: HttpRequest) -> BoxFut<'static, Result<HttpResponse>> {
        let n = {
            let mut log = self.log.lock();
            log.push((self.clock.now_ms(), request.clone()));
            log.len() - 1
        };
        let answer = (self.handler)(&request, n);
        Box::pin(async move { Ok(answer) })
    }
}

fn is_token_request(r: &HttpRequest) -> bool {
    r.url == format!("{BASE}/oauth/token")
}

fn token(n: usize) -> HttpResponse {
    HttpResponse::json(
        200,
        &json!({"access_token": format!("mtok-{n}"), "token_type": "Bearer", "expires_in": 3600}),
    )
}

fn error(status: u16, err: &str, desc: &str) -> HttpResponse {
    HttpResponse::json(status, &json!({"error": err, "error_description": desc}))
}

fn env() -> impl Fn(&str) -> Option<String> {
    |_: &str| None
}

fn admin_client(fake: &Arc<Fake>, clock: &ManualClock) -> ManagementClient {
    let cfg = ManagementConfig::from_value(&json!({"base_url": BASE, "admin_token": ADMIN}), env()).unwrap();
    ManagementClient::new(cfg, fake.clone(), Arc::new(clock.clone()), Arc::new(clock.clone())).unwrap()
}

fn cc_client(fake: &Arc<Fake>, clock: &ManualClock) -> ManagementClient {
    let cfg = ManagementConfig::from_value(
        &json!({"base_url": BASE, "client_id": "ops", "client_secret": SECRET}),
        env(),
    )
    .unwrap();
    ManagementClient::new(cfg, fake.clone(), Arc::new(clock.clone()), Arc::new(clock.clone())).unwrap()
}

/// Answers every token request with a fresh token and every admin request with `admin(req, n)`,
/// `n` counting admin requests only.
fn server(
    clock: &ManualClock,
    admin: impl Fn(&HttpRequest, usize) -> HttpResponse + Send + Sync + 'static,
) -> Arc<Fake> {
    let tokens = Arc::new(Mutex::new(0usize));
    let calls = Arc::new(Mutex::new(0usize));
    Fake::new(clock, move |r, _| {
        if is_token_request(r) {
            let mut t = tokens.lock();
            *t += 1;
            token(*t - 1)
        } else {
            let mut c = calls.lock();
            *c += 1;
            admin(r, *c - 1)
        }
    })
}

fn body_json(r: &HttpRequest) -> Value {
    if r.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&r.body).unwrap()
    }
}

#[test]
fn every_operation_sends_the_contracts_request() {
    let clock = ManualClock::new(T0);
    let cases: Vec<(&str, Value, Method, &str, Value)> = vec![
        (
            "clients.create",
            json!({"name": "billing", "type": "m2m", "allowed_scopes": ["read"], "tls_client_auth_san_dns": "x.test"}),
            Method::Post,
            "/admin/clients",
            json!({"name": "billing", "type": "m2m", "allowed_scopes": ["read"], "tls_client_auth_san_dns": "x.test"}),
        ),
        ("clients.get", json!({"client_id": "a b/c"}), Method::Get, "/admin/clients/a%20b%2Fc", Value::Null),
        ("clients.list", json!({}), Method::Get, "/admin/clients", Value::Null),
        (
            "clients.list",
            json!({"limit": 10, "cursor": "c&1=", "type": "ai_agent"}),
            Method::Get,
            "/admin/clients?limit=10&cursor=c%261%3D&type=ai_agent",
            Value::Null,
        ),
        (
            "clients.update",
            json!({"client_id": "billing", "description": "pays", "token_lifetime": 600}),
            Method::Patch,
            "/admin/clients/billing",
            json!({"description": "pays", "token_lifetime": 600}),
        ),
        ("clients.delete", json!({"client_id": "billing"}), Method::Delete, "/admin/clients/billing", Value::Null),
        (
            "clients.rotate_secret",
            json!({"client_id": "billing", "overlap": 0}),
            Method::Post,
            "/admin/clients/billing/secrets",
            json!({"overlap": 0}),
        ),
        (
            "clients.rotate_secret",
            json!({"client_id": "billing"}),
            Method::Post,
            "/admin/clients/billing/secrets",
            json!({}),
        ),
        (
            "clients.revoke_secret",
            json!({"client_id": "billing", "secret_id": "sid_abc"}),
            Method::Delete,
            "/admin/clients/billing/secrets/sid_abc",
            Value::Null,
        ),
        (
            "clients.revoke_secret",
            json!({"client_id": "billing"}),
            Method::Delete,
            "/admin/clients/billing/secrets/old",
            Value::Null,
        ),
        (
            "scopes.create",
            json!({"name": "read:data", "description": "Read data"}),
            Method::Post,
            "/admin/scopes",
            json!({"name": "read:data", "description": "Read data"}),
        ),
        ("scopes.list", json!({"limit": 200}), Method::Get, "/admin/scopes?limit=200", Value::Null),
        ("scopes.delete", json!({"name": "read:data"}), Method::Delete, "/admin/scopes/read%3Adata", Value::Null),
        (
            "roles.create",
            json!({"name": "reader", "scopes": "read write", "audiences": ["https://api"]}),
            Method::Post,
            "/admin/roles",
            json!({"name": "reader", "scopes": ["read", "write"], "audiences": ["https://api"]}),
        ),
        ("roles.get", json!({"name": "reader"}), Method::Get, "/admin/roles/reader", Value::Null),
        ("roles.list", Value::Null, Method::Get, "/admin/roles", Value::Null),
        (
            "roles.update",
            json!({"name": "reader", "scopes": ["read"], "audiences": []}),
            Method::Put,
            "/admin/roles/reader",
            json!({"scopes": ["read"], "audiences": []}),
        ),
        ("roles.delete", json!({"name": "reader"}), Method::Delete, "/admin/roles/reader", Value::Null),
        (
            "logs.list",
            json!({"client_id": "billing", "event": ["token_issued", "token_refused"], "outcome": "failure", "since": 1700000000.5, "until": "2024-01-01T00:00:00Z", "limit": 5, "cursor": "x"}),
            Method::Get,
            "/admin/logs?client_id=billing&event=token_issued&event=token_refused&outcome=failure&since=1700000000.5&until=2024-01-01T00%3A00%3A00Z&limit=5&cursor=x",
            Value::Null,
        ),
        ("logs.list", json!({"event": "token_issued"}), Method::Get, "/admin/logs?event=token_issued", Value::Null),
        ("keys.list", json!({}), Method::Get, "/admin/keys", Value::Null),
        (
            "keys.rotate",
            json!({"alg": "ES256", "activate_in": 0}),
            Method::Post,
            "/admin/keys/rotate",
            json!({"alg": "ES256", "activate_in": 0}),
        ),
    ];
    let mut covered = std::collections::BTreeSet::new();
    for (op, args, method, path, body) in cases {
        let fake = Fake::new(&clock, |_, _| {
            HttpResponse::json(
                200,
                &json!({"clients": [], "scopes": [], "roles": [], "logs": [], "keys": []}),
            )
        });
        let c = admin_client(&fake, &clock);
        block_on(c.call(op, &args)).unwrap_or_else(|e| panic!("{op}: {e}"));
        let reqs = fake.requests();
        assert_eq!(reqs.len(), 1, "{op}");
        let r = &reqs[0];
        assert_eq!(r.method, method, "{op}");
        assert_eq!(r.url, format!("{BASE}{path}"), "{op}");
        assert_eq!(body_json(r), body, "{op}");
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {ADMIN}").as_str()),
            "{op}"
        );
        assert_eq!(r.header("accept"), Some("application/json"));
        assert_eq!(
            r.header("content-type").is_some(),
            matches!(method, Method::Post | Method::Put | Method::Patch),
            "{op}"
        );
        covered.insert(op);
    }
    let all: std::collections::BTreeSet<&str> = ManagementClient::operations().iter().copied().collect();
    assert_eq!(covered, all, "every operation has a request-shape case");
}

#[test]
fn client_credentials_token_for_the_admin_audience_cached_across_calls() {
    let clock = ManualClock::new(T0);
    let fake = server(&clock, |_, _| HttpResponse::json(200, &json!({"client_id": "a"})));
    let c = cc_client(&fake, &clock);
    block_on(c.call("clients.get", &json!({"client_id": "a"}))).unwrap();
    block_on(c.call("clients.get", &json!({"client_id": "b"}))).unwrap();
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3, "one token request, two calls");
    assert!(is_token_request(&reqs[0]));
    let form: Vec<(String, String)> = form_urlencoded::parse(&reqs[0].body).into_owned().collect();
    assert!(
        form.contains(&("grant_type".into(), "client_credentials".into())),
        "{form:?}"
    );
    assert!(form.contains(&("resource".into(), format!("{BASE}/admin"))), "{form:?}");
    assert!(
        !form.iter().any(|(k, _)| k == "scope"),
        "no scope: every management scope held"
    );
    assert!(reqs[0].header("authorization").unwrap().starts_with("Basic "));
    assert_eq!(reqs[1].header("authorization"), Some("Bearer mtok-0"));
    assert_eq!(reqs[2].header("authorization"), Some("Bearer mtok-0"));
    assert_eq!(c.token_client().unwrap().request_count(), 1);
}

#[test]
fn configured_scopes_are_asked_for() {
    let clock = ManualClock::new(T0);
    let fake = server(&clock, |_, _| HttpResponse::json(200, &json!({"keys": []})));
    let cfg = ManagementConfig::from_value(
        &json!({"base_url": BASE, "client_id": "ops", "client_secret": SECRET, "scopes": "keys:read clients:read"}),
        env(),
    )
    .unwrap();
    let c = ManagementClient::new(cfg, fake.clone(), Arc::new(clock.clone()), Arc::new(clock.clone())).unwrap();
    block_on(c.call("keys.list", &Value::Null)).unwrap();
    let form: Vec<(String, String)> = form_urlencoded::parse(&fake.requests()[0].body).into_owned().collect();
    assert!(
        form.contains(&("scope".into(), "clients:read keys:read".into())),
        "{form:?}"
    );
}

#[test]
fn a_401_invalid_token_gets_a_fresh_token_and_one_retry() {
    let clock = ManualClock::new(T0);
    let fake = server(&clock, |r, n| {
        if n == 0 {
            assert_eq!(r.header("authorization"), Some("Bearer mtok-0"));
            let mut resp = error(401, "invalid_token", "the token was revoked");
            resp.headers.push((
                "www-authenticate".into(),
                "Bearer error=\"invalid_token\", resource_metadata=\"x\"".into(),
            ));
            resp
        } else {
            assert_eq!(r.header("authorization"), Some("Bearer mtok-1"));
            HttpResponse::json(200, &json!({"client_id": "a"}))
        }
    });
    let c = cc_client(&fake, &clock);
    let v = block_on(c.call("clients.get", &json!({"client_id": "a"}))).unwrap();
    assert_eq!(v, json!({"client_id": "a"}));
    assert_eq!(fake.count(), 4, "token, call (401), token, call");
    assert_eq!(c.token_client().unwrap().request_count(), 2);
}

#[test]
fn a_second_401_is_access_denied_after_exactly_one_retry() {
    let clock = ManualClock::new(T0);
    let fake = server(&clock, |_, _| error(401, "invalid_token", "not a management token"));
    let c = cc_client(&fake, &clock);
    let e = block_on(c.call("clients.list", &Value::Null)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AccessDenied, "{e}");
    assert_eq!(e.code().category(), crate::ErrorCategory::Management);
    assert_eq!(e.status(), Some(401));
    assert!(e.message().contains("not a management token"), "{e}");
    let admin_calls = fake.requests().iter().filter(|r| !is_token_request(r)).count();
    assert_eq!(admin_calls, 2);
    assert_eq!(fake.count(), 4);
}

#[test]
fn the_admin_token_is_never_retried_and_never_shown() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, _| {
        error(
            401,
            "invalid_token",
            &format!("the admin token {ADMIN} is only for bootstrapping; use a management client's token"),
        )
    });
    let c = admin_client(&fake, &clock);
    let e = block_on(c.call("clients.list", &Value::Null)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AccessDenied);
    assert_eq!(fake.count(), 1);
    assert!(e.message().contains("only for bootstrapping"), "{e}");
    assert!(
        !e.to_string().contains(ADMIN) && !format!("{e:?}").contains(ADMIN),
        "{e:?}"
    );
    assert!(!format!("{c:?}").contains(ADMIN), "{c:?}");
}

#[test]
fn errors_map_to_the_contracts_codes() {
    let clock = ManualClock::new(T0);
    let www = |v: &str| ("www-authenticate".to_string(), v.to_string());
    let cases: Vec<(HttpResponse, ErrorCode, Option<&str>)> = vec![
        (
            error(404, "not_found", "no client nope"),
            ErrorCode::NotFound,
            Some("no client nope"),
        ),
        (
            error(409, "conflict", "scope read is used by billing"),
            ErrorCode::Conflict,
            Some("used by billing"),
        ),
        (
            error(400, "invalid_client_metadata", "callbacks: must be absolute"),
            ErrorCode::InvalidClientMetadata,
            Some("callbacks"),
        ),
        (
            error(400, "invalid_redirect_uri", "bad uri"),
            ErrorCode::InvalidClientMetadata,
            Some("bad uri"),
        ),
        (
            error(400, "invalid_request", "limit must be 1..=200"),
            ErrorCode::InvalidRequest,
            Some("limit"),
        ),
        (
            {
                let mut r = error(403, "insufficient_scope", "needs clients:write");
                r.headers
                    .push(www("Bearer error=\"insufficient_scope\", scope=\"clients:write\""));
                r
            },
            ErrorCode::InsufficientScope,
            Some("clients:write"),
        ),
        (error(403, "forbidden", "no"), ErrorCode::AccessDenied, None),
        (error(500, "server_error", "boom"), ErrorCode::ServerError, None),
        (
            HttpResponse::new(502, vec![], "bad gateway"),
            ErrorCode::ServerError,
            None,
        ),
        (HttpResponse::new(405, vec![], ""), ErrorCode::InvalidResponse, None),
    ];
    for (resp, code, needle) in cases {
        let status = resp.status;
        let fake = Fake::new(&clock, move |_, _| resp.clone());
        let c = admin_client(&fake, &clock);
        let e = block_on(c.call("clients.delete", &json!({"client_id": "x"}))).unwrap_err();
        assert_eq!(e.code(), code, "{status}: {e}");
        assert_eq!(e.status(), Some(status));
        assert!(e.message().starts_with("clients.delete: "), "{e}");
        if let Some(n) = needle {
            assert!(e.message().contains(n), "{e}");
        }
        if code == ErrorCode::InsufficientScope {
            assert_eq!(e.missing_scopes(), ["clients:write"]);
        }
        assert_eq!(fake.count(), 1, "{status} is not retried");
    }
}

#[test]
fn a_429_waits_for_retry_after_a_bounded_number_of_times() {
    let clock = ManualClock::new(T0);
    let slow = || {
        let mut r = error(429, "slow_down", "too many");
        r.headers.push(("retry-after".into(), "3".into()));
        r
    };
    // Rate limited twice, then served.
    let fake = Fake::new(&clock, move |_, n| {
        if n < 2 {
            slow()
        } else {
            HttpResponse::json(200, &json!({"keys": []}))
        }
    });
    let c = admin_client(&fake, &clock);
    let v = block_on(c.call("keys.list", &Value::Null)).unwrap();
    assert_eq!(v, json!({"items": [], "next_cursor": null}));
    assert_eq!(fake.times(), [T0, T0 + 3000, T0 + 6000]);

    // Always rate limited: 1 + MAX_RATE_LIMITED_RETRIES requests, then rate_limited.
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, move |_, _| slow());
    let c = admin_client(&fake, &clock);
    let e = block_on(c.call("keys.list", &Value::Null)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::RateLimited);
    assert_eq!(fake.count(), 1 + client::MAX_RATE_LIMITED_RETRIES as usize);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));

    // A wait longer than MAX_RETRY_AFTER is not waited for.
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, _| {
        let mut r = error(429, "slow_down", "too many");
        r.headers.push(("retry-after".into(), "60".into()));
        r
    });
    let c = admin_client(&fake, &clock);
    let e = block_on(c.call("keys.list", &Value::Null)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(60)));
    assert_eq!(fake.count(), 1);
    assert_eq!(clock.now_ms(), T0, "no waiting");
}

#[test]
fn lists_are_normalised_and_deletions_are_null() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |r, _| {
        if r.method == Method::Delete {
            HttpResponse::new(204, vec![], "")
        } else {
            HttpResponse::json(200, &json!({"clients": [{"client_id": "a"}], "next_cursor": "abc"}))
        }
    });
    let c = admin_client(&fake, &clock);
    let v = block_on(c.call("clients.list", &json!({"limit": 1}))).unwrap();
    assert_eq!(v, json!({"items": [{"client_id": "a"}], "next_cursor": "abc"}));
    assert_eq!(
        block_on(c.call("clients.delete", &json!({"client_id": "a"}))).unwrap(),
        Value::Null
    );

    let fake = Fake::new(&clock, |_, _| HttpResponse::json(200, &json!({"items": []})));
    let c = admin_client(&fake, &clock);
    let e = block_on(c.call("scopes.list", &Value::Null)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidResponse);
    assert!(e.message().contains("`scopes`"), "{e}");
    let fake = Fake::new(&clock, |_, _| HttpResponse::new(200, vec![], "<html>"));
    let c = admin_client(&fake, &clock);
    let e = block_on(c.call("clients.get", &json!({"client_id": "a"}))).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidResponse);
}

#[test]
fn revoke_secret_answers_its_body() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, _| {
        HttpResponse::json(200, &json!({"client_id": "a", "secrets": []}))
    });
    let c = admin_client(&fake, &clock);
    let v = block_on(c.call("clients.revoke_secret", &json!({"client_id": "a"}))).unwrap();
    assert_eq!(v, json!({"client_id": "a", "secrets": []}));
}

#[test]
fn roles_update_keeps_the_fields_it_does_not_name() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |r, _| match r.method {
        Method::Get => HttpResponse::json(
            200,
            &json!({"name": "reader", "scopes": ["read"], "audiences": ["https://api"]}),
        ),
        _ => HttpResponse::json(200, &body_json(r)),
    });
    let c = admin_client(&fake, &clock);
    block_on(c.call("roles.update", &json!({"name": "reader", "scopes": ["read", "write"]}))).unwrap();
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        (reqs[0].method, reqs[0].url.as_str()),
        (Method::Get, "https://auth.test/admin/roles/reader")
    );
    assert_eq!(reqs[1].method, Method::Put);
    assert_eq!(
        body_json(&reqs[1]),
        json!({"scopes": ["read", "write"], "audiences": ["https://api"]})
    );
    // A role that does not exist: not_found from the GET, nothing replaced.
    let fake = Fake::new(&clock, |_, _| error(404, "not_found", "no role reader"));
    let c = admin_client(&fake, &clock);
    let e = block_on(c.call("roles.update", &json!({"name": "reader", "scopes": []}))).unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound);
    assert_eq!(fake.count(), 1);
}

#[test]
fn arguments_are_checked_before_anything_is_sent() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, _| panic!("nothing is sent"));
    let c = admin_client(&fake, &clock);
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "clients.frobnicate",
            json!({}),
            "unknown management operation \"clients.frobnicate\"",
        ),
        ("clients.get", json!({}), "clients.get: missing argument `client_id`"),
        (
            "clients.get",
            json!({"client_id": null}),
            "missing argument `client_id`",
        ),
        (
            "clients.get",
            json!({"client_id": "a", "clientid": "b"}),
            "unknown argument `clientid` (expected client_id)",
        ),
        (
            "clients.get",
            json!({"client_id": 7}),
            "`client_id` must be a non-empty string",
        ),
        (
            "clients.get",
            json!({"client_id": ""}),
            "`client_id` must be a non-empty string",
        ),
        (
            "clients.get",
            json!({"client_id": ".."}),
            "`client_id` must be a name other than",
        ),
        (
            "clients.create",
            json!({"name": "x", "secret": "y"}),
            "unknown argument `secret`",
        ),
        (
            "clients.list",
            json!({"limit": 0}),
            "`limit` must be a whole number from 1 to 200",
        ),
        (
            "clients.list",
            json!({"limit": 201}),
            "`limit` must be a whole number from 1 to 200",
        ),
        ("clients.list", json!({"limit": "5"}), "`limit` must be a whole number"),
        (
            "clients.rotate_secret",
            json!({"client_id": "a", "overlap": -1}),
            "`overlap` must be a whole number",
        ),
        (
            "clients.rotate_secret",
            json!({"client_id": "a", "overlap": 2592001}),
            "`overlap` must be a whole number from 0 to 2592000",
        ),
        (
            "logs.list",
            json!({"outcome": "ok"}),
            "`outcome` must be \"success\" or \"failure\"",
        ),
        ("logs.list", json!({"since": -5}), "`since` must be a time"),
        (
            "logs.list",
            json!({"event": [1]}),
            "`event` must be a string or a list of strings",
        ),
        (
            "roles.create",
            json!({"name": "r", "scopes": [1]}),
            "`scopes` must be a list of strings",
        ),
        (
            "keys.list",
            json!({"limit": 1}),
            "unknown argument `limit` (it takes none)",
        ),
        ("keys.list", json!([1]), "keys.list: the arguments must be an object"),
    ];
    for (op, args, needle) in cases {
        let e = block_on(c.call(op, &args)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ConfigError, "{op} {args}");
        assert!(e.message().contains(needle), "{op} {args}: {e}");
    }
    assert_eq!(fake.count(), 0);
}

#[test]
fn no_secret_in_errors_or_debug() {
    let clock = ManualClock::new(T0);
    // The token endpoint refuses the client and echoes its secret back.
    let fake = Fake::new(&clock, |_, _| {
        error(401, "invalid_client", &format!("bad secret {SECRET}"))
    });
    let c = cc_client(&fake, &clock);
    let e = block_on(c.call("clients.list", &Value::Null)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClient, "{e}");
    assert!(
        !e.to_string().contains(SECRET) && !format!("{e:?}").contains(SECRET),
        "{e:?}"
    );
    assert!(!format!("{c:?}").contains(SECRET), "{c:?}");

    // The management API echoes the token and a secret given to clients.create.
    let fake = server(&clock, |_, _| {
        error(
            400,
            "invalid_client_metadata",
            "client_secret: n3w-client-s3cret is too short; token mtok-0",
        )
    });
    let c = cc_client(&fake, &clock);
    let e = block_on(c.call(
        "clients.create",
        &json!({"name": "x", "client_secret": "n3w-client-s3cret"}),
    ))
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClientMetadata);
    let shown = format!("{e} {e:?}");
    assert!(
        !shown.contains("n3w-client-s3cret") && !shown.contains("mtok-0"),
        "{shown}"
    );
    assert!(shown.contains("client_secret: *** is too short"), "{shown}");

    // The settings' Debug.
    let cfg = ManagementConfig::from_value(&json!({"base_url": BASE, "admin_token": ADMIN}), env()).unwrap();
    assert!(!format!("{cfg:?}").contains(ADMIN));
    let cfg = ManagementConfig::from_value(
        &json!({"base_url": BASE, "client_id": "a", "client_secret": SECRET}),
        env(),
    )
    .unwrap();
    assert!(!format!("{cfg:?}").contains(SECRET));
    // A request's Debug shows neither the bearer nor the body.
    let p = request::prepare(
        operations::find("clients.create").unwrap(),
        "https://x/admin",
        &json!({"client_secret": SECRET}),
    )
    .unwrap();
    assert!(!format!("{p:?}").contains(SECRET));
}

#[test]
fn settings() {
    let read = |v: Value| ManagementConfig::from_value(&v, env());
    let c = read(json!({"domain": "auth.example.com", "clientId": "a", "clientSecret": "s"})).unwrap();
    assert_eq!(c.base_url, "https://auth.example.com");
    assert_eq!(c.admin_url(), "https://auth.example.com/admin");
    let Credentials::Client(cc) = &c.credentials else {
        panic!()
    };
    assert_eq!(cc.token_url.as_deref(), Some("https://auth.example.com/oauth/token"));
    assert_eq!(cc.resource, ["https://auth.example.com/admin"]);
    let c = read(json!({"base_url": "http://127.0.0.1:8080/", "admin_token": "t", "timeout": 5})).unwrap();
    assert_eq!(c.base_url, "http://127.0.0.1:8080");
    assert_eq!(c.timeout, Some(Duration::from_secs(5)));
    let c = read(json!({"base_url": BASE, "client_id": "a", "client_secret": "s", "token_url": "https://idp.test/t", "key_id": "k", "timeout": "2m"})).unwrap();
    let Credentials::Client(cc) = &c.credentials else {
        panic!()
    };
    assert_eq!(cc.token_url.as_deref(), Some("https://idp.test/t"));
    assert_eq!(c.timeout, Some(Duration::from_secs(120)));

    let e = read(json!({"base_url": "http://auth.example.com", "admin_token": "t"})).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InsecureTransport);
    assert!(
        read(json!({"base_url": "http://auth.example.com", "admin_token": "t", "allow_insecure_http": true})).is_ok()
    );
    for (v, needle) in [
        (json!({"admin_token": "t"}), "needs base_url"),
        (json!({"base_url": BASE, "domain": "x", "admin_token": "t"}), "not both"),
        (json!({"base_url": BASE}), "needs client_id"),
        (
            json!({"base_url": BASE, "client_id": "a"}),
            "client_id needs client_secret",
        ),
        (
            json!({"base_url": BASE, "client_id": "a", "admin_token": "t"}),
            "drop client_id or admin_token",
        ),
        (
            json!({"base_url": BASE, "admin_token": "t", "audience": "x"}),
            "unknown option `audience`",
        ),
        (
            json!({"base_url": BASE, "admin_token": "t", "timeout": -1}),
            "`timeout` must be",
        ),
        (json!({"base_url": "https://x/?a=1", "admin_token": "t"}), "query"),
        (json!([]), "must be a mapping"),
    ] {
        let e = read(v.clone()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ConfigError, "{v}");
        assert!(e.message().contains(needle), "{v}: {e}");
    }

    // Files through the environment; a missing one names the setting, not its content.
    struct Files;
    impl crate::ConfigEnv for Files {
        fn var(&self, _: &str) -> Option<String> {
            None
        }
        fn read_file(&self, path: &str) -> std::result::Result<String, String> {
            match path {
                "/run/secret" => Ok(format!("{SECRET}\n")),
                "/run/admin" => Ok(format!("{ADMIN}\n")),
                _ => Err("no such file".into()),
            }
        }
    }
    let c = ManagementConfig::from_value(
        &json!({"base_url": BASE, "client_id": "a", "client_secret_file": "/run/secret"}),
        Files,
    )
    .unwrap();
    let Credentials::Client(cc) = &c.credentials else {
        panic!()
    };
    assert_eq!(cc.client_secret.as_ref().unwrap().expose(), SECRET);
    let c = ManagementConfig::from_value(&json!({"base_url": BASE, "admin_token_file": "/run/admin"}), Files).unwrap();
    let Credentials::AdminToken(t) = &c.credentials else {
        panic!()
    };
    assert_eq!(t.expose(), ADMIN);
    let e = ManagementConfig::from_value(&json!({"base_url": BASE, "admin_token_file": "/nope"}), Files).unwrap_err();
    assert!(
        e.message().contains("admin_token_file") && e.message().contains("no such file"),
        "{e}"
    );
}

#[test]
fn operations_are_the_contracts() {
    assert_eq!(
        ManagementClient::operations(),
        [
            "clients.create",
            "clients.get",
            "clients.list",
            "clients.update",
            "clients.delete",
            "clients.rotate_secret",
            "clients.revoke_secret",
            "scopes.create",
            "scopes.list",
            "scopes.delete",
            "roles.create",
            "roles.get",
            "roles.list",
            "roles.update",
            "roles.delete",
            "logs.list",
            "keys.list",
            "keys.rotate",
        ]
    );
}
