//! SPIFFE workloads at the local server: secretless tokens with a JWT-SVID as the client assertion
//! (`spiffe_jwt`) or as a JWT-bearer grant, clients selected by their `spiffe_id` pattern, the
//! refusals (audience, expiry, trust domain, key, pattern, ambiguity, double method, grant), bundles
//! from a file and from a bundle endpoint that rotate, and the core's TokenClient end to end. The
//! test plays the SPIRE authority with its own signing keys.
mod common;

use authsec_core::runtime::BoxFut;
use authsec_core::spiffe::{FetchedSvid, JwtSvidSource, SpiffeId};
use authsec_native::*;
use authsec_server::{ClientSpec, ServerConfig};
use common::*;
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use std::sync::Arc;

const AGENT: &str = "spiffe://example.org/agents/ml-training";
const JWT_SPIFFE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn key(kid: &str) -> SigningKey {
    SigningKey::generate(Alg::ES256, Some(kid.into())).unwrap()
}

/// A SPIFFE bundle of these keys (`use: jwt-svid`), with extra top-level members.
fn bundle_doc(keys: &[&SigningKey], extra: Value) -> Value {
    let mut doc = json!({"keys": keys.iter().map(|k| {
        let mut jwk = k.public_jwk();
        let o = jwk.as_object_mut().unwrap();
        o.insert("use".into(), json!("jwt-svid"));
        o.remove("alg");
        jwk
    }).collect::<Vec<_>>()});
    doc.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    doc
}

/// A JWT-SVID for `sub`, signed by `k`.
fn svid(k: &SigningKey, sub: &str, aud: Value, exp: i64) -> String {
    k.sign(Some("JWT"), &Map::new(), &json!({"sub": sub, "aud": aud, "exp": exp}))
        .unwrap()
}

fn spiffe_client(id: &str, pattern: &str, grants: &[&str]) -> ClientSpec {
    ClientSpec {
        client_id: Some(id.into()),
        spiffe_id: Some(pattern.into()),
        allowed_scopes: vec!["read:data".into()],
        audiences: vec!["https://api.example.com".into()],
        grant_types: (!grants.is_empty()).then(|| grants.iter().map(|g| g.to_string()).collect()),
        ..Default::default()
    }
}

fn clients() -> Vec<ClientSpec> {
    vec![
        spiffe_client("ml-agent", AGENT, &["client_credentials", JWT_BEARER]),
        ClientSpec {
            token_endpoint_auth_method: Some("spiffe_jwt".into()),
            ..spiffe_client("agents", "spiffe://example.org/agents/*", &[])
        },
        spiffe_client("billing-a", "spiffe://example.org/billing", &[]),
        spiffe_client("billing-b", "spiffe://example.org/billing", &[]),
        spiffe_client("cc-only", "spiffe://example.org/ops/cc", &[]),
        secret_client("secret-svc", "svc-secret", &["read:data"]),
    ]
}

/// A server trusting example.org through `bundle` (a trust domain's spec), with a manual clock.
async fn server_with(td: Value) -> TestServer {
    let mut cfg: ServerConfig = serde_json::from_value(json!({
        "audit_log": "off", "admin_token": "adm",
        "spiffe": {"trust_domains": {"example.org": td}},
    }))
    .unwrap();
    cfg.clients = clients();
    TestServer::start_with_clock(cfg, manual_clock()).await
}

async fn server(k: &SigningKey) -> TestServer {
    server_with(json!({"bundle": bundle_doc(&[k], json!({}))})).await
}

/// An SVID for the server's issuer alone, valid for five minutes.
fn good_svid(ts: &TestServer, k: &SigningKey, sub: &str) -> String {
    svid(k, sub, json!(ts.issuer()), ts.now_s() + 300)
}

/// A client-credentials request with `svid` as the jwt-spiffe client assertion.
async fn assertion_request(ts: &TestServer, svid: &str, client_id: Option<&str>) -> Resp {
    let mut pairs = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_SPIFFE),
        ("client_assertion", svid),
    ];
    if let Some(id) = client_id {
        pairs.push(("client_id", id));
    }
    ts.token_request(None, &pairs).await
}

/// The `client_id` claim of the token an answer carries (it must be a 200).
fn issued_to(r: &Resp) -> String {
    assert_eq!(r.status, 200, "{r:?}");
    let (_, claims) = decode_jwt(r.json["access_token"].as_str().unwrap());
    claims["client_id"].as_str().unwrap().to_string()
}

/// Assert a refusal whose description names `reason` and never holds the SVID.
fn refused(r: &Resp, status: u16, error: &str, reason: &str, svid: &str) {
    r.assert_oauth_error(status, error);
    assert!(r.description().contains(reason), "{reason}: {r:?}");
    assert!(!r.text().contains(svid), "the answer echoes the SVID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_gets_a_token_with_its_jwt_svid_and_no_secret() {
    let k = key("k1");
    let ts = server(&k).await;
    let meta = ts.get("/.well-known/oauth-authorization-server").await;
    assert!(meta.json["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("spiffe_jwt")));
    assert!(meta.json["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!(JWT_BEARER)));

    // No client_id: the exact pattern beats the agents/* prefix.
    let t = good_svid(&ts, &k, AGENT);
    assert_eq!(issued_to(&assertion_request(&ts, &t, None).await), "ml-agent");
    // The same SVID again: SVIDs are reusable (no jti replay check).
    assert_eq!(issued_to(&assertion_request(&ts, &t, None).await), "ml-agent");
    // client_id names the client; the SPIFFE ID as client_id (the core's default) selects.
    assert_eq!(issued_to(&assertion_request(&ts, &t, Some("agents")).await), "agents");
    assert_eq!(issued_to(&assertion_request(&ts, &t, Some(AGENT)).await), "ml-agent");
    // A prefix client: any workload under agents/.
    let other = good_svid(&ts, &k, "spiffe://example.org/agents/summarizer/v2");
    let r = assertion_request(&ts, &other, None).await;
    assert_eq!(issued_to(&r), "agents");
    let (_, claims) = decode_jwt(r.json["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "agents");
    assert_eq!(claims["aud"], "https://api.example.com");
    assert_eq!(r.json["scope"], "read:data");

    let issued = ts.audit_events("token");
    let last = issued.last().unwrap();
    assert_eq!(last["auth_method"], "spiffe_jwt");
    assert_eq!(last["spiffe_id"], "spiffe://example.org/agents/summarizer/v2");
    assert_audit_clean(&ts, &[&t, &other]);

    // The admin view shows the pattern, and no secret was generated.
    let v = ts.admin("GET", "/admin/clients/agents", Some("adm"), None).await;
    assert_eq!(v.json["spiffe_id"], "spiffe://example.org/agents/*");
    assert_eq!(v.json["auth_methods"], json!(["spiffe_jwt"]));
    assert_eq!(v.json["secrets"], json!([]));
    let v = ts.admin("GET", "/admin/clients/ml-agent", Some("adm"), None).await;
    assert_eq!(v.json["auth_methods"], json!(["spiffe_jwt"]));
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwt_bearer_grant_issues_like_client_credentials() {
    let k = key("k1");
    let ts = server(&k).await;
    let t = good_svid(&ts, &k, AGENT);
    let r = ts
        .token_request(
            None,
            &[
                ("grant_type", JWT_BEARER),
                ("assertion", &t),
                ("client_id", "ml-agent"),
                ("scope", "read:data"),
            ],
        )
        .await;
    assert_eq!(issued_to(&r), "ml-agent");
    assert_eq!(r.json["token_type"], "Bearer");
    let last = ts.audit_events("token").pop().unwrap();
    assert_eq!(
        (last["auth_method"].as_str(), last["spiffe_id"].as_str()),
        (Some("spiffe_jwt"), Some(AGENT))
    );
    assert_eq!(last["grant_type"], JWT_BEARER);
    // DPoP binds a JWT-bearer token as it binds any other.
    let dpop = key("dpop");
    let proof = dpop
        .sign_raw(
            &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": dpop.public_jwk()}),
            &json!({"jti": "p1", "htm": "POST", "htu": ts.server.token_endpoint(), "iat": ts.now_s()}),
        )
        .unwrap();
    let r = send(authsec_native::http::HttpRequest {
        method: authsec_native::http::Method::Post,
        url: ts.token_url(),
        headers: vec![
            ("content-type".into(), "application/x-www-form-urlencoded".into()),
            ("DPoP".into(), proof),
        ],
        body: form(&[("grant_type", JWT_BEARER), ("assertion", &t)]).into_bytes(),
    })
    .await;
    assert_eq!(issued_to(&r), "ml-agent");
    assert_eq!(r.json["token_type"], "DPoP");
    assert!(decode_jwt(r.json["access_token"].as_str().unwrap()).1["cnf"]["jkt"].is_string());
    // Without client_id the SVID selects the client too.
    let r = ts
        .token_request(None, &[("grant_type", JWT_BEARER), ("assertion", &t)])
        .await;
    assert_eq!(issued_to(&r), "ml-agent");

    // A client that does not list the grant.
    let cc = good_svid(&ts, &k, "spiffe://example.org/ops/cc");
    let r = ts
        .token_request(None, &[("grant_type", JWT_BEARER), ("assertion", &cc)])
        .await;
    refused(&r, 400, "unauthorized_client", JWT_BEARER, &cc);
    // A bad SVID in the grant is invalid_grant.
    let expired = svid(&k, AGENT, json!(ts.issuer()), ts.now_s() - 120);
    let r = ts
        .token_request(None, &[("grant_type", JWT_BEARER), ("assertion", &expired)])
        .await;
    refused(&r, 400, "invalid_grant", "token_expired", &expired);
    let r = ts.token_request(None, &[("grant_type", JWT_BEARER)]).await;
    r.assert_oauth_error(400, "invalid_request");
    // A secret client's credentials with an SVID its (absent) spiffe_id does not admit.
    let r = ts
        .token_request(
            Some(("secret-svc", "svc-secret")),
            &[("grant_type", JWT_BEARER), ("assertion", &t)],
        )
        .await;
    refused(&r, 400, "invalid_grant", "spiffe_id admits", &t);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn svids_that_do_not_verify_or_fit_are_refused_with_the_reason() {
    let k = key("k1");
    let ts = server(&k).await;
    let now = ts.now_s();
    let iss = ts.issuer().to_string();
    let cases = [
        // The token endpoint is not the audience the draft asks for: the issuer is.
        (svid(&k, AGENT, json!(ts.token_url()), now + 300), "invalid_audience"),
        (
            svid(&k, AGENT, json!([iss, "https://api.example.com"]), now + 300),
            "invalid_audience",
        ),
        (svid(&k, AGENT, json!(iss), now - 120), "token_expired"),
        (
            svid(&k, "spiffe://partner.test/agents/x", json!(iss), now + 300),
            "unknown_trust_domain",
        ),
        // Signed by a key the bundle does not hold: same kid, and another kid.
        (svid(&key("k1"), AGENT, json!(iss), now + 300), "invalid_signature"),
        (svid(&key("k9"), AGENT, json!(iss), now + 300), "key_not_found"),
        ("not-a-jwt".to_string(), "malformed_token"),
    ];
    for (t, reason) in &cases {
        let r = assertion_request(&ts, t, None).await;
        refused(&r, 401, "invalid_client", reason, t);
    }

    let t = good_svid(&ts, &k, AGENT);
    // client_id names a client whose pattern does not admit the SVID, or one without a pattern.
    let r = assertion_request(&ts, &t, Some("billing-a")).await;
    refused(&r, 401, "invalid_client", "does not match", &t);
    let r = assertion_request(&ts, &t, Some("secret-svc")).await;
    refused(&r, 401, "invalid_client", "no spiffe_id", &t);
    let r = assertion_request(&ts, &t, Some("nobody")).await;
    refused(&r, 401, "invalid_client", "unknown client", &t);
    // Two equally specific patterns.
    let b = good_svid(&ts, &k, "spiffe://example.org/billing");
    let r = assertion_request(&ts, &b, None).await;
    refused(&r, 401, "invalid_client", "ambiguous", &b);
    assert!(r.description().contains("billing-a") && r.description().contains("billing-b"));
    assert_eq!(
        issued_to(&assertion_request(&ts, &b, Some("billing-b")).await),
        "billing-b"
    );
    // No pattern admits it.
    let n = good_svid(&ts, &k, "spiffe://example.org/nobody");
    refused(
        &assertion_request(&ts, &n, None).await,
        401,
        "invalid_client",
        "no client",
        &n,
    );
    // A secret and an SVID assertion: one method only.
    let r = ts
        .token_request(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "ml-agent"),
                ("client_secret", "x"),
                ("client_assertion_type", JWT_SPIFFE),
                ("client_assertion", &t),
            ],
        )
        .await;
    r.assert_oauth_error(400, "invalid_request");
    // A secret client cannot use spiffe_jwt with someone's SVID, nor a spiffe client a secret.
    let r = ts
        .token_request(Some(("ml-agent", "guess")), &[("grant_type", "client_credentials")])
        .await;
    r.assert_oauth_error(401, "invalid_client");
    assert_audit_clean(&ts, &[&t, &b]);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spiffe_client_made_through_the_admin_api_is_persisted() {
    let k = key("k1");
    let dir = TempDir::new("spiffe-db");
    let mut cfg: ServerConfig = serde_json::from_value(json!({
        "audit_log": "off", "admin_token": "adm", "database": dir.path("server.db"),
        "spiffe": {"trust_domains": {"example.org": {"bundle": bundle_doc(&[&k], json!({}))}}},
    }))
    .unwrap();
    let clock = manual_clock();
    let ts = TestServer::start_with_clock(cfg.clone(), clock.clone()).await;
    let spec =
        json!({"client_id": "late-agent", "spiffe_id": "spiffe://example.org/late", "allowed_scopes": ["read:data"]});
    let r = ts.admin("POST", "/admin/clients", Some("adm"), Some(spec)).await;
    assert_eq!(r.status, 201, "{r:?}");
    assert!(r.json.get("client_secret").is_none(), "no secret is generated: {r:?}");
    assert_eq!(r.json["spiffe_id"], "spiffe://example.org/late");
    let bad = json!({"client_id": "x", "spiffe_id": "spiffe://example.org/a*"});
    let r = ts.admin("POST", "/admin/clients", Some("adm"), Some(bad)).await;
    r.assert_oauth_error(400, "invalid_client_metadata");
    assert!(r.description().contains("client x: spiffe_id"), "{r:?}");
    ts.shutdown().await;

    let ts = TestServer::start_with_clock(cfg.clone(), clock.clone()).await;
    let v = ts.admin("GET", "/admin/clients/late-agent", Some("adm"), None).await;
    assert_eq!(v.json["spiffe_id"], "spiffe://example.org/late");
    let t = good_svid(&ts, &k, "spiffe://example.org/late");
    assert_eq!(issued_to(&assertion_request(&ts, &t, None).await), "late-agent");
    ts.shutdown().await;

    // Without the spiffe section, such a client cannot be made.
    cfg.spiffe = None;
    cfg.database = None;
    let ts = TestServer::start(cfg).await;
    let spec = json!({"client_id": "y", "spiffe_id": "spiffe://example.org/y"});
    let r = ts.admin("POST", "/admin/clients", Some("adm"), Some(spec)).await;
    r.assert_oauth_error(400, "invalid_client_metadata");
    assert!(r.description().contains("spiffe section"), "{r:?}");
    let meta = ts.get("/.well-known/oauth-authorization-server").await;
    assert!(!meta.text().contains("spiffe_jwt") && !meta.text().contains(JWT_BEARER));
    let r = ts
        .token_request(None, &[("grant_type", JWT_BEARER), ("assertion", &t)])
        .await;
    r.assert_oauth_error(400, "unsupported_grant_type");
    let r = assertion_request(&ts, &t, None).await;
    refused(&r, 401, "invalid_client", "no spiffe section", &t);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_names_what_is_wrong() {
    let start = |v: Value| async move {
        let cfg = ServerConfig::embedded(Some(&v), None, |_: &str| None)?;
        authsec_server::start(cfg, Default::default()).await.map(|_| ())
    };
    let bundle = json!({"trust_domains": {"example.org": {"bundle": bundle_doc(&[&key("k1")], json!({}))}}});
    let cases = [
        (
            json!({"clients": [{"client_id": "a", "spiffe_id": AGENT}]}),
            "client a: spiffe_id and spiffe_jwt need",
        ),
        (
            json!({"spiffe": bundle, "clients": [{"client_id": "a", "token_endpoint_auth_method": "spiffe_jwt"}]}),
            "client a: token_endpoint_auth_method spiffe_jwt needs spiffe_id",
        ),
        (
            json!({"spiffe": bundle, "clients": [{"client_id": "a", "spiffe_id": "example.org/x"}]}),
            "client a: spiffe_id:",
        ),
        (
            json!({"spiffe": bundle, "clients": [{"client_id": "a", "client_secret": "s", "grant_types": [JWT_BEARER]}]}),
            "client a: the grant type",
        ),
        (
            json!({"spiffe": {"trust_domains": {"example.org": {"bundel": {}}}}}),
            "bundel",
        ),
        (
            json!({"spiffe": {"trust_domains": {"example.org": {}}}}),
            "give exactly one",
        ),
        (
            json!({"spiffe": {"trust_domains": {"example.org": {"bundle_file": "/nonexistent/bundle.json"}}}}),
            "spiffe.trust_domains.\"example.org\": cannot read the bundle file",
        ),
        (
            json!({"spiffe": {"trust_domains": {"example.org": {"bundle_endpoint": "http://bundles.example.org/b"}}}}),
            "plain http",
        ),
    ];
    for (cfg, want) in cases {
        let e = start(cfg.clone()).await.unwrap_err();
        assert!(e.message().contains(want), "{cfg}: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_file_is_read_again_when_it_changes() {
    let (k1, k2) = (key("k1"), key("k2"));
    let dir = TempDir::new("spiffe-bundle");
    let path = dir.path("bundle.json");
    std::fs::write(&path, bundle_doc(&[&k1], json!({"spiffe_sequence": 1})).to_string()).unwrap();
    let ts = server_with(json!({"bundle_file": path})).await;
    assert_eq!(
        issued_to(&assertion_request(&ts, &good_svid(&ts, &k1, AGENT), None).await),
        "ml-agent"
    );
    let t2 = good_svid(&ts, &k2, AGENT);
    refused(
        &assertion_request(&ts, &t2, None).await,
        401,
        "invalid_client",
        "key_not_found",
        &t2,
    );
    // SPIRE rotates: the new bundle is written (a different size, so whatever the mtime
    // granularity); looked at again a second later.
    std::fs::write(
        &path,
        bundle_doc(&[&k1, &k2], json!({"spiffe_sequence": 2})).to_string(),
    )
    .unwrap();
    ts.advance(2);
    assert_eq!(issued_to(&assertion_request(&ts, &t2, None).await), "ml-agent");
    // A broken write keeps the last good bundle.
    std::fs::write(&path, "{not json").unwrap();
    ts.advance(2);
    assert_eq!(issued_to(&assertion_request(&ts, &t2, None).await), "ml-agent");
    ts.shutdown().await;
}

/// A SPIFFE bundle endpoint on loopback serving whatever `doc` holds, counting requests.
async fn bundle_endpoint(doc: Arc<Mutex<Value>>, hits: Arc<Mutex<u32>>) -> String {
    let app = axum::Router::new().route(
        "/bundle",
        axum::routing::get(move || {
            let (doc, hits) = (doc.clone(), hits.clone());
            async move {
                *hits.lock() += 1;
                axum::Json(doc.lock().clone())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/bundle")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_endpoint_rotation_is_picked_up_after_its_refresh_hint() {
    let (k1, k2) = (key("k1"), key("k2"));
    let hint = json!({"spiffe_sequence": 1, "spiffe_refresh_hint": 10});
    let doc = Arc::new(Mutex::new(bundle_doc(&[&k1], hint)));
    let hits = Arc::new(Mutex::new(0));
    let url = bundle_endpoint(doc.clone(), hits.clone()).await;
    let ts = server_with(json!({"bundle_endpoint": url})).await;
    assert_eq!(*hits.lock(), 0, "fetched at the first SVID, not at startup");
    let t1 = good_svid(&ts, &k1, AGENT);
    assert_eq!(issued_to(&assertion_request(&ts, &t1, None).await), "ml-agent");
    assert_eq!(issued_to(&assertion_request(&ts, &t1, None).await), "ml-agent");
    assert_eq!(*hits.lock(), 1, "fresh for its refresh hint");

    // The authority adds a key; before the hint the server still has the old bundle.
    *doc.lock() = bundle_doc(&[&k1, &k2], json!({"spiffe_sequence": 2, "spiffe_refresh_hint": 10}));
    let t2 = good_svid(&ts, &k2, AGENT);
    refused(
        &assertion_request(&ts, &t2, None).await,
        401,
        "invalid_client",
        "key_not_found",
        &t2,
    );
    ts.advance(11);
    let t2 = good_svid(&ts, &k2, AGENT);
    assert_eq!(issued_to(&assertion_request(&ts, &t2, None).await), "ml-agent");
    assert_eq!(*hits.lock(), 2);
    ts.shutdown().await;

    // An endpoint that cannot be reached, with no bundle at hand: the server's trouble, not the
    // client's.
    let ts = server_with(json!({"bundle_endpoint": "http://127.0.0.1:1/bundle"})).await;
    let t = good_svid(&ts, &k1, AGENT);
    let r = assertion_request(&ts, &t, None).await;
    refused(&r, 503, "temporarily_unavailable", "jwks_unavailable", &t);
    ts.shutdown().await;
}

/// A Workload API stand-in: SVIDs for `AGENT` signed by the test authority, on the server's clock.
struct FakeSource {
    key: SigningKey,
    clock: ManualClock,
    fetches: Mutex<u32>,
}

impl JwtSvidSource for FakeSource {
    fn fetch_jwt_svid<'a>(&'a self, audience: &'a str, _id: Option<&'a SpiffeId>) -> BoxFut<'a, Result<FetchedSvid>> {
        *self.fetches.lock() += 1;
        let now = self.clock.now_ms() / 1000;
        let token = svid(&self.key, AGENT, json!([audience]), now + 300);
        Box::pin(async move {
            Ok(FetchedSvid {
                token: Secret::new(token),
                spiffe_id: SpiffeId::parse(AGENT).unwrap(),
            })
        })
    }
    fn describe(&self) -> String {
        "a fake Workload API".into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_token_client_gets_verifiable_tokens_with_its_workload_identity() {
    let k = key("k1");
    let ts = server(&k).await;
    let source = Arc::new(FakeSource {
        key: k,
        clock: ts.clock.clone().unwrap(),
        fetches: Mutex::new(0),
    });
    let verifier = ts.verifier("https://api.example.com");
    for extra in [
        json!({}),
        json!({"spiffe_grant": "jwt_bearer", "client_id": "ml-agent"}),
    ] {
        let mut v = json!({"auth_method": "spiffe_jwt", "token_url": ts.token_url(), "issuer": ts.issuer(),
                           "scopes": "read:data"});
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let cfg = ClientConfig::from_value(&v, |_: &str| None).unwrap();
        let client = ts.client(cfg).with_workload_identity(source.clone()).unwrap();
        let token = client.get_token().await.unwrap();
        let claims = verifier.verify(token.access_token.expose()).await.unwrap();
        assert_eq!(claims.client_id(), Some("ml-agent"), "{extra}");
        assert!(claims.has_scope("read:data"));
    }
    assert_eq!(*source.fetches.lock(), 2);
    let grants: Vec<Value> = ts
        .audit_events("token")
        .iter()
        .map(|l| l["grant_type"].clone())
        .collect();
    assert_eq!(grants, [json!("client_credentials"), json!(JWT_BEARER)]);
    ts.shutdown().await;
}
