//! The JWKS cache behind remote verifiers: one fetch however many verifications wait, a refetch
//! for an unknown kid at most once per cooldown, the last good key set kept through a failing
//! refresh, Cache-Control within bounds, a store for cold starts, and the verified-token cache
//! cleared when a key goes.

mod support;

use support::*;

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

/// `discover: true`: the verifier finds the JWKS URL in the issuer's metadata (RFC 8414) on first
/// use, once however many verifications wait, and then behaves like a `jwks_uri` verifier.
#[tokio::test]
async fn a_discovered_jwks_is_found_once_through_the_metadata() {
    let clock = ManualClock::new(T0);
    let key = SigningKey::generate(Alg::ES256, Some("k1".into())).unwrap();
    let jwk = key.public_jwk();
    let with_jwks_uri = Arc::new(Mutex::new(true));
    let w = with_jwks_uri.clone();
    let fake = Fake::new(&clock, move |req, _| {
        Ok(match req.url.as_str() {
            "https://auth.test/.well-known/oauth-authorization-server" if *w.lock() => {
                HttpResponse::json(200, &json!({"issuer": ISS, "jwks_uri": JWKS_URL}))
            }
            "https://auth.test/.well-known/oauth-authorization-server" => {
                HttpResponse::json(200, &json!({"issuer": ISS}))
            }
            JWKS_URL => HttpResponse::json(200, &json!({"keys": [jwk.clone()]})),
            other => panic!("unexpected request to {other}"),
        })
    });
    let options = VerifierOptions::from_value(&json!({"issuer": ISS, "audience": AUD, "discover": true})).unwrap();
    let verifier = |fake: &Arc<Fake>| {
        let clock: Arc<dyn Clock> = Arc::new(clock.clone());
        options.build(fake.clone(), clock, None).unwrap()
    };
    let v = verifier(&fake);
    assert_eq!(
        v.keys().describe(),
        KeySourceInfo::Discovered {
            issuer: ISS.into(),
            jwks_uri: None
        }
    );
    let now = T0 / 1000;
    let token = key
        .sign(
            Some("at+jwt"),
            &Map::new(),
            &json!({"iss": ISS, "aud": AUD, "sub": "agent", "iat": now, "exp": now + 600}),
        )
        .unwrap();
    assert!(v.try_verify_now(&token).is_none(), "the keys are not known yet");
    let all = futures::future::join_all((0..20).map(|_| v.verify(&token))).await;
    assert!(all
        .iter()
        .all(|r| r.as_ref().is_ok_and(|c| c.subject() == Some("agent"))));
    assert_eq!(
        fake.count(),
        2,
        "one metadata request and one JWKS fetch for 20 verifications"
    );
    assert_eq!(
        v.keys().describe(),
        KeySourceInfo::Discovered {
            issuer: ISS.into(),
            jwks_uri: Some(JWKS_URL.into())
        }
    );
    assert_eq!(v.keys().fetch_count(), 1);
    // Metadata without a jwks_uri: a configuration error that says what to give instead.
    *with_jwks_uri.lock() = false;
    let e = verifier(&fake).verify(&token).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::ConfigError);
    assert!(e.message().contains("no jwks_uri"), "{e}");
}
