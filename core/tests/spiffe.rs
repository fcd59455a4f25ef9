//! SPIFFE in the core: JWT-SVID verification over each bundle source (static, pushed, a bundle
//! endpoint with refresh hints, sequences and a last good bundle), and secretless token requests
//! with a JWT-SVID from a fake source (client assertion and JWT-bearer grant, reuse and per
//! request). A manual clock and an in-memory transport: no sockets, no sleeping.

mod support;

use authsec_core::client::workload_identity::{JWT_BEARER_GRANT_TYPE, JWT_SPIFFE_ASSERTION_TYPE};
use authsec_core::spiffe::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::*;

const TD: &str = "example.org";
const AGENT: &str = "spiffe://example.org/agents/ml-training";

fn key(kid: &str) -> SigningKey {
    SigningKey::generate(Alg::ES256, Some(kid.into())).unwrap()
}

fn bundle_doc(keys: &[&SigningKey], extra: Value) -> Value {
    let mut doc = json!({"keys": keys.iter().map(|k| {
        let mut jwk = k.public_jwk();
        jwk.as_object_mut().unwrap().insert("use".into(), json!("jwt-svid"));
        jwk.as_object_mut().unwrap().remove("alg");
        jwk
    }).collect::<Vec<_>>()});
    if let (Some(d), Some(e)) = (doc.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    doc
}

fn bundles(keys: &[&SigningKey]) -> BundleSet {
    let td = TrustDomain::parse(TD).unwrap();
    let mut set = BundleSet::new();
    set.insert(JwtBundle::from_value(td, &bundle_doc(keys, json!({}))).unwrap())
        .unwrap();
    set
}

fn svid(k: &SigningKey, sub: &str, aud: Value, exp_s: i64) -> String {
    k.sign(
        Some("JWT"),
        &Map::new(),
        &json!({"sub": sub, "aud": aud, "exp": exp_s, "iat": T0 / 1000}),
    )
    .unwrap()
}

fn policy() -> JwtSvidPolicy {
    JwtSvidPolicy::new(vec!["https://auth.test".into()])
}

#[test]
fn a_jwt_svid_verifies_and_names_its_workload() {
    let k = key("k1");
    let set = bundles(&[&k]);
    let t = svid(&k, AGENT, json!(["https://auth.test"]), T0 / 1000 + 300);
    let v = verify_jwt_svid(&t, &set, &policy(), T0).unwrap();
    assert_eq!(v.spiffe_id.as_str(), AGENT);
    assert_eq!(v.audience, ["https://auth.test"]);
    assert_eq!(v.expires_at, T0 / 1000 + 300);

    // Another trust domain's SVID, a wrong audience, an expired SVID.
    let other = svid(
        &k,
        "spiffe://partner.test/a",
        json!("https://auth.test"),
        T0 / 1000 + 300,
    );
    assert_eq!(
        verify_jwt_svid(&other, &set, &policy(), T0).unwrap_err().code(),
        ErrorCode::UnknownTrustDomain
    );
    let wrong_aud = svid(&k, AGENT, json!(["https://elsewhere"]), T0 / 1000 + 300);
    assert_eq!(
        verify_jwt_svid(&wrong_aud, &set, &policy(), T0).unwrap_err().code(),
        ErrorCode::InvalidAudience
    );
    assert_eq!(
        verify_jwt_svid(&t, &set, &policy(), T0 + 331_000).unwrap_err().code(),
        ErrorCode::TokenExpired
    );
    // A key of the bundle, but not the one that signed.
    let k2 = key("k1");
    let forged = svid(&k2, AGENT, json!("https://auth.test"), T0 / 1000 + 300);
    assert_eq!(
        verify_jwt_svid(&forged, &set, &policy(), T0).unwrap_err().code(),
        ErrorCode::InvalidSignature
    );
}

#[test]
fn allowed_ids_and_a_sole_audience() {
    let k = key("k1");
    let set = bundles(&[&k]);
    let mut p = policy();
    p.allowed_ids = SpiffeIdMatcher::parse(&["spiffe://example.org/billing/*"]).unwrap();
    let t = svid(&k, AGENT, json!("https://auth.test"), T0 / 1000 + 300);
    assert_eq!(
        verify_jwt_svid(&t, &set, &p, T0).unwrap_err().code(),
        ErrorCode::SpiffeIdNotAllowed
    );
    p.allowed_ids = SpiffeIdMatcher::parse(&["spiffe://example.org/agents/*"]).unwrap();
    verify_jwt_svid(&t, &set, &p, T0).unwrap();
    p.sole_audience = true;
    let two = svid(
        &k,
        AGENT,
        json!(["https://auth.test", "https://api.test"]),
        T0 / 1000 + 300,
    );
    assert_eq!(
        verify_jwt_svid(&two, &set, &p, T0).unwrap_err().code(),
        ErrorCode::InvalidAudience
    );
}

#[tokio::test]
async fn pushed_bundles_take_effect_at_once() {
    let (k1, k2) = (key("k1"), key("k2"));
    let shared = SharedBundles::new("a test watch");
    let clock = Arc::new(ManualClock::new(T0));
    let v = JwtSvidVerifier::new(policy(), Arc::new(shared.clone()), clock).unwrap();
    let t2 = svid(&k2, AGENT, json!("https://auth.test"), T0 / 1000 + 300);
    assert_eq!(v.verify(&t2).await.unwrap_err().code(), ErrorCode::UnknownTrustDomain);
    shared.replace(bundles(&[&k1]));
    assert_eq!(v.verify(&t2).await.unwrap_err().code(), ErrorCode::KeyNotFound);
    shared.replace(bundles(&[&k1, &k2]));
    assert_eq!(v.verify_now(&t2).unwrap().unwrap().spiffe_id.as_str(), AGENT);
    assert_eq!(shared.updates(), 2);
}

#[tokio::test]
async fn a_bundle_endpoint_honours_its_refresh_hint_sequence_and_last_good_bundle() {
    let clock = ManualClock::new(T0);
    let (k1, k2) = (key("k1"), key("k2"));
    let docs = Arc::new(Mutex::new(vec![bundle_doc(
        &[&k1],
        json!({"spiffe_sequence": 5, "spiffe_refresh_hint": 60}),
    )]));
    let served = docs.clone();
    let fake = Fake::new(&clock, move |_, n| {
        let d = served.lock();
        match d.get(n.min(d.len() - 1)) {
            Some(Value::Null) => Ok(status(503)),
            Some(doc) => Ok(HttpResponse::json(200, doc)),
            None => Ok(status(503)),
        }
    });
    let endpoint = BundleEndpoint::new(
        "https://bundles.test/example.org",
        TrustDomain::parse(TD).unwrap(),
        fake.clone(),
        Arc::new(clock.clone()),
        BundleEndpointPolicy::default(),
    )
    .unwrap();
    let v = JwtSvidVerifier::new(policy(), Arc::new(endpoint.clone()), Arc::new(clock.clone())).unwrap();
    let t1 = svid(&k1, AGENT, json!("https://auth.test"), T0 / 1000 + 3600);
    v.verify(&t1).await.unwrap();
    v.verify(&t1).await.unwrap();
    assert_eq!(endpoint.fetch_count(), 1, "fresh for the refresh hint");

    // After the hint: a rotation (sequence 6) is fetched.
    docs.lock().push(bundle_doc(
        &[&k1, &k2],
        json!({"spiffe_sequence": 6, "spiffe_refresh_hint": 60}),
    ));
    clock.advance(secs(61));
    let t2 = svid(&k2, AGENT, json!("https://auth.test"), T0 / 1000 + 3600);
    v.verify(&t2).await.unwrap();
    assert_eq!(endpoint.fetch_count(), 2);

    // An older sequence does not replace the newer bundle.
    docs.lock().push(bundle_doc(
        &[&k1],
        json!({"spiffe_sequence": 4, "spiffe_refresh_hint": 60}),
    ));
    clock.advance(secs(61));
    v.verify(&t2).await.unwrap();
    assert_eq!(endpoint.fetch_count(), 3);

    // The endpoint fails: the last good bundle is kept.
    docs.lock().push(Value::Null);
    clock.advance(secs(61));
    v.verify(&t2).await.unwrap();
    assert_eq!(endpoint.fetch_count(), 4);
    assert!(
        v.verify_now(&t2).is_some(),
        "served from the last good bundle while paused"
    );
}

/// A fake Workload API: SVIDs signed by `key` for `AGENT`, counted.
struct FakeSource {
    key: SigningKey,
    lifetime_s: i64,
    clock: ManualClock,
    fetches: AtomicUsize,
}

impl JwtSvidSource for FakeSource {
    fn fetch_jwt_svid<'a>(&'a self, audience: &'a str, _id: Option<&'a SpiffeId>) -> BoxFut<'a, Result<FetchedSvid>> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst);
        let now = self.clock.now_ms() / 1000;
        let token = self
            .key
            .sign(
                Some("JWT"),
                &Map::new(),
                &json!({"sub": AGENT, "aud": [audience], "exp": now + self.lifetime_s, "iat": now, "n": n}),
            )
            .unwrap();
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

fn spiffe_cfg(extra: Value) -> ClientConfig {
    let mut v = json!({"auth_method": "spiffe_jwt", "token_url": TOKEN_URL, "issuer": ISS, "scopes": "read:data"});
    v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    ClientConfig::from_value(&v, |_: &str| None).unwrap()
}

fn form(req: &HttpRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(&req.body).into_owned().collect()
}

fn field<'a>(f: &'a [(String, String)], name: &str) -> Option<&'a str> {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn spiffe_jwt_sends_the_svid_as_client_assertion_and_reuses_it_while_fresh() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(60));
    let source = Arc::new(FakeSource {
        key: key("k1"),
        lifetime_s: 300,
        clock: clock.clone(),
        fetches: AtomicUsize::new(0),
    });
    let c = TokenClient::new(
        spiffe_cfg(json!({})),
        fake.clone(),
        Arc::new(clock.clone()),
        Arc::new(clock.clone()),
    )
    .unwrap()
    .with_workload_identity(source.clone())
    .unwrap();
    c.get_token().await.unwrap();
    let f = form(&fake.request(0));
    assert_eq!(field(&f, "grant_type"), Some("client_credentials"));
    assert_eq!(field(&f, "client_assertion_type"), Some(JWT_SPIFFE_ASSERTION_TYPE));
    assert_eq!(
        field(&f, "client_id"),
        Some(AGENT),
        "no client_id configured: the SPIFFE ID"
    );
    assert!(field(&f, "client_secret").is_none());
    // The assertion verifies as an SVID for the issuer, alone.
    let mut p = policy();
    p.sole_audience = true;
    let set = bundles(&[&source.key]);
    verify_jwt_svid(field(&f, "client_assertion").unwrap(), &set, &p, T0).unwrap();

    // Tokens live 60 s; the SVID 300 s, renewed after half of it.
    clock.advance(secs(61));
    c.get_token().await.unwrap();
    assert_eq!(
        source.fetches.load(Ordering::SeqCst),
        1,
        "reused while it has more than half its life"
    );
    clock.advance(secs(100));
    c.get_token().await.unwrap();
    assert_eq!(source.fetches.load(Ordering::SeqCst), 2, "renewed past half its life");
    assert_ne!(
        field(&form(&fake.request(2)), "client_assertion"),
        field(&f, "client_assertion")
    );
}

#[tokio::test]
async fn per_request_svids_and_the_jwt_bearer_grant() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(60));
    let source = Arc::new(FakeSource {
        key: key("k1"),
        lifetime_s: 300,
        clock: clock.clone(),
        fetches: AtomicUsize::new(0),
    });
    let cfg = spiffe_cfg(json!({"spiffe_grant": "jwt_bearer", "spiffe_reuse_svid": "false", "client_id": "ml-agent"}));
    let c = TokenClient::new(cfg, fake.clone(), Arc::new(clock.clone()), Arc::new(clock.clone()))
        .unwrap()
        .with_workload_identity(source.clone())
        .unwrap();
    c.get_token().await.unwrap();
    clock.advance(secs(61));
    c.get_token().await.unwrap();
    assert_eq!(source.fetches.load(Ordering::SeqCst), 2, "one SVID per request");
    let f = form(&fake.request(1));
    assert_eq!(field(&f, "grant_type"), Some(JWT_BEARER_GRANT_TYPE));
    assert_eq!(field(&f, "client_id"), Some("ml-agent"));
    assert!(field(&f, "assertion").is_some());
    assert!(field(&f, "client_assertion").is_none());
    // Per-call options keep the grant.
    let params = c.params_from(&json!({"scopes": ["write:logs"]})).unwrap().unwrap();
    c.get_token_for(params).await.unwrap();
    assert_eq!(
        field(&form(&fake.request(2)), "grant_type"),
        Some(JWT_BEARER_GRANT_TYPE)
    );
}

#[tokio::test]
async fn spiffe_jwt_without_a_source_says_what_to_do() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(60));
    let c = TokenClient::new(
        spiffe_cfg(json!({})),
        fake.clone(),
        Arc::new(clock.clone()),
        Arc::new(clock.clone()),
    )
    .unwrap();
    let e = c.get_token().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::ConfigError);
    assert!(e.message().contains("Workload API"), "{e}");
    assert_eq!(fake.count(), 0);
    // Secrets and spiffe_jwt do not mix; spiffe settings need the method.
    let e = ClientConfig::from_value(
        &json!({"auth_method": "spiffe_jwt", "client_secret": "x", "token_url": TOKEN_URL}),
        |_: &str| None,
    )
    .unwrap_err();
    assert!(e.message().contains("drop client_secret"), "{e}");
    let e = ClientConfig::from_value(
        &json!({"client_id": "a", "client_secret": "x", "token_url": TOKEN_URL, "spiffe_grant": "jwt_bearer"}),
        |_: &str| None,
    )
    .unwrap_err();
    assert!(e.message().contains("spiffe_jwt"), "{e}");
}
