//! The JWKS cache over real sockets: fetches are counted at the server.

mod support;

use authsec_native::*;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Reply, TestServer};

const ISS: &str = "https://issuer.test";
const AUD: &str = "https://api.test";

/// An issuer: signing keys, and a JWKS endpoint at `/jwks` whose content and health tests control.
struct Issuer {
    keys: Vec<SigningKey>,
    published: Arc<Mutex<Vec<usize>>>,
    fail: Arc<Mutex<Option<u16>>>,
    cache_control: Arc<Mutex<Option<String>>>,
    server: TestServer,
    jti: AtomicU64,
}

impl Issuer {
    fn new(n_keys: usize, delay: Duration) -> Issuer {
        let keys: Vec<SigningKey> = (0..n_keys)
            .map(|i| SigningKey::generate(Alg::ES256, Some(format!("k{}", i + 1))).unwrap())
            .collect();
        let jwks: Vec<Value> = keys.iter().map(SigningKey::public_jwk).collect();
        let published = Arc::new(Mutex::new(vec![0]));
        let fail = Arc::new(Mutex::new(None::<u16>));
        let cache_control = Arc::new(Mutex::new(None::<String>));
        let (p, f, cc) = (published.clone(), fail.clone(), cache_control.clone());
        let server = TestServer::start(move |req, _| {
            assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/jwks"));
            if let Some(code) = *f.lock().unwrap() {
                return Reply::new(code, "text/plain", "down");
            }
            let body = json!({"keys": p.lock().unwrap().iter().map(|i| jwks[*i].clone()).collect::<Vec<_>>()});
            let mut r = Reply::json(200, &body).delayed(delay);
            if let Some(cc) = &*cc.lock().unwrap() {
                r = r.header("Cache-Control", cc);
            }
            r
        });
        Issuer {
            keys,
            published,
            fail,
            cache_control,
            server,
            jti: AtomicU64::new(0),
        }
    }
    fn publish(&self, idx: &[usize]) {
        *self.published.lock().unwrap() = idx.to_vec();
    }
    fn uri(&self) -> String {
        self.server.url("/jwks")
    }
    fn fetches(&self) -> usize {
        self.server.hits("/jwks")
    }
    /// Real transport, manual clock.
    fn manual_verifier(&self, clock: &ManualClock, policy: JwksPolicy) -> (Verifier, JwksCache) {
        let clock: Arc<dyn Clock> = Arc::new(clock.clone());
        let jwks = JwksCache::new(&self.uri(), HttpTransport::shared(), clock.clone(), policy).unwrap();
        (
            Verifier::new(VerifierConfig::new(ISS, AUD), Arc::new(jwks.clone()), clock).unwrap(),
            jwks,
        )
    }
    /// Everything real.
    fn verifier(&self, policy: JwksPolicy) -> Verifier {
        remote_verifier(VerifierConfig::new(ISS, AUD), &self.uri(), policy).unwrap()
    }
    /// A never-seen token signed by key `i` at `now_ms`; `kid` overrides the header kid.
    fn token_at(&self, now_ms: i64, i: usize, kid: Option<&str>) -> String {
        let now = now_ms / 1000;
        let jti = self.jti.fetch_add(1, Ordering::Relaxed);
        let claims =
            json!({"iss": ISS, "aud": AUD, "sub": "agent", "iat": now, "exp": now + 7200, "jti": jti.to_string()});
        let mut h = Map::new();
        if let Some(k) = kid {
            h.insert("kid".into(), json!(k));
        }
        self.keys[i].sign(Some("at+jwt"), &h, &claims).unwrap()
    }
    fn token(&self, i: usize, kid: Option<&str>) -> String {
        self.token_at(SystemClock.now_ms(), i, kid)
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[tokio::test]
async fn key_rotation_triggers_exactly_one_refetch_and_the_new_key_verifies() {
    let iss = Issuer::new(2, Duration::ZERO);
    let clock = ManualClock::new(SystemClock.now_ms());
    let (v, jwks) = iss.manual_verifier(&clock, JwksPolicy::default());
    v.verify(&iss.token_at(clock.now_ms(), 0, None)).await.unwrap();
    assert_eq!(iss.fetches(), 1);
    iss.publish(&[0, 1]);
    clock.advance(secs(31)); // past the unknown-kid cooldown, well within max-age
    let claims = v.verify(&iss.token_at(clock.now_ms(), 1, None)).await.unwrap();
    assert_eq!(claims.subject(), Some("agent"));
    assert_eq!(iss.fetches(), 2);
    for _ in 0..20 {
        v.verify(&iss.token_at(clock.now_ms(), 1, None)).await.unwrap();
        v.verify(&iss.token_at(clock.now_ms(), 0, None)).await.unwrap();
    }
    assert_eq!(iss.fetches(), 2);
    assert_eq!(jwks.fetch_count(), 2);
}

#[tokio::test]
async fn key_rotation_with_the_system_clock() {
    let iss = Issuer::new(2, Duration::ZERO);
    let v = iss.verifier(JwksPolicy {
        unknown_kid_cooldown: Duration::from_millis(100),
        ..Default::default()
    });
    v.verify(&iss.token(0, None)).await.unwrap();
    iss.publish(&[1]);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let rs = futures::future::join_all((0..50).map(|_| {
        let (v, t) = (v.clone(), iss.token(1, None));
        async move { v.verify(&t).await }
    }))
    .await;
    assert!(rs.iter().all(Result::is_ok), "{:?}", rs.iter().find(|r| r.is_err()));
    assert_eq!(iss.fetches(), 2, "50 concurrent tokens with the new kid: one refetch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_tokens_with_unknown_kids_cause_at_most_one_fetch_per_cooldown() {
    // Everything real, default policy (cooldown 30 s).
    let iss = Issuer::new(2, Duration::from_millis(20));
    let v = iss.verifier(JwksPolicy::default());
    // Cold cache: the first 1000 tokens all carry unknown kids.
    let flood = |tag: &str| {
        let tokens: Vec<String> = (0..1000).map(|i| iss.token(1, Some(&format!("{tag}-{i}")))).collect();
        let v = v.clone();
        async move {
            let tasks: Vec<_> = tokens
                .into_iter()
                .map(|t| {
                    let v = v.clone();
                    tokio::spawn(async move { v.verify(&t).await.unwrap_err().code() })
                })
                .collect();
            for t in tasks {
                assert_eq!(t.await.unwrap(), ErrorCode::KeyNotFound);
            }
        }
    };
    flood("cold").await;
    assert_eq!(iss.fetches(), 1);
    v.verify(&iss.token(0, None)).await.unwrap();
    flood("warm").await;
    assert_eq!(iss.fetches(), 1, "within the cooldown: no fetch");

    // With a manual clock: one more fetch per elapsed cooldown, however many tokens.
    let iss = Issuer::new(2, Duration::ZERO);
    let clock = ManualClock::new(SystemClock.now_ms());
    let (v, _) = iss.manual_verifier(&clock, JwksPolicy::default());
    v.verify(&iss.token_at(clock.now_ms(), 0, None)).await.unwrap();
    for (advance, expected) in [(0u64, 1usize), (29, 1), (2, 2), (10, 2), (19, 2), (2, 3)] {
        clock.advance(secs(advance));
        for i in 0..1000 {
            let t = iss.token_at(clock.now_ms(), 1, Some(&format!("u{expected}-{i}")));
            assert_eq!(v.verify(&t).await.unwrap_err().code(), ErrorCode::KeyNotFound);
        }
        assert_eq!(iss.fetches(), expected, "after advancing {advance} s");
    }
}

#[tokio::test]
async fn the_last_good_key_set_is_kept_when_a_refresh_fails() {
    let iss = Issuer::new(1, Duration::ZERO);
    let clock = ManualClock::new(SystemClock.now_ms());
    let (v, _) = iss.manual_verifier(&clock, JwksPolicy::default());
    v.verify(&iss.token_at(clock.now_ms(), 0, None)).await.unwrap();
    *iss.fail.lock().unwrap() = Some(500);
    clock.advance(secs(601)); // stale
    for _ in 0..10 {
        v.verify(&iss.token_at(clock.now_ms(), 0, None)).await.unwrap();
    }
    assert_eq!(iss.fetches(), 2, "one failed refresh, then the failure backoff");
    clock.advance(secs(6));
    v.verify(&iss.token_at(clock.now_ms(), 0, None)).await.unwrap();
    assert_eq!(iss.fetches(), 3);
    // Recovery: the next refresh after the backoff succeeds and the set is fresh again.
    *iss.fail.lock().unwrap() = None;
    clock.advance(secs(6));
    v.verify(&iss.token_at(clock.now_ms(), 0, None)).await.unwrap();
    assert_eq!(iss.fetches(), 4);
    clock.advance(secs(500));
    v.verify(&iss.token_at(clock.now_ms(), 0, None)).await.unwrap();
    assert_eq!(iss.fetches(), 4);
}

#[tokio::test]
async fn cache_control_max_age_is_honoured_within_bounds() {
    for (cc, fresh_s) in [
        ("public, max-age=120", 120u64),
        ("max-age=3", 30),
        ("max-age=99999999", 86_400),
        ("no-store", 30),
    ] {
        let iss = Issuer::new(1, Duration::ZERO);
        *iss.cache_control.lock().unwrap() = Some(cc.into());
        let start = SystemClock.now_ms();
        let clock = ManualClock::new(start);
        let (v, _) = iss.manual_verifier(&clock, JwksPolicy::default());
        v.verify(&iss.token_at(clock.now_ms(), 0, None)).await.unwrap();
        clock.set_ms(start + fresh_s as i64 * 1000 - 1);
        v.verify(&iss.token_at(clock.now_ms(), 0, None)).await.unwrap();
        assert_eq!(iss.fetches(), 1, "{cc}");
        clock.set_ms(start + fresh_s as i64 * 1000);
        v.verify(&iss.token_at(clock.now_ms(), 0, None)).await.unwrap();
        assert_eq!(iss.fetches(), 2, "{cc}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_verifications_share_one_fetch() {
    let iss = Issuer::new(1, Duration::from_millis(200));
    let v = iss.verifier(JwksPolicy::default());
    let barrier = Arc::new(tokio::sync::Barrier::new(200));
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let (v, b, t) = (v.clone(), barrier.clone(), iss.token(0, None));
            tokio::spawn(async move {
                b.wait().await;
                v.verify(&t).await.map(|c| c.subject().map(str::to_string))
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().as_deref(), Some("agent"));
    }
    assert_eq!(iss.fetches(), 1);
}

#[test]
fn concurrent_first_verifications_from_os_threads_share_one_fetch() {
    let iss = Issuer::new(1, Duration::from_millis(200));
    let v = iss.verifier(JwksPolicy::default());
    let barrier = Arc::new(std::sync::Barrier::new(100));
    let threads: Vec<_> = (0..100)
        .map(|_| {
            let (v, b, t) = (v.clone(), barrier.clone(), iss.token(0, None));
            std::thread::spawn(move || {
                b.wait();
                block_on(v.verify(&t)).map(|c| c.subject().map(str::to_string))
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().unwrap().as_deref(), Some("agent"));
    }
    assert_eq!(iss.fetches(), 1);
}

#[tokio::test]
async fn removing_a_kid_on_refresh_clears_the_verified_token_cache() {
    let iss = Issuer::new(2, Duration::ZERO);
    iss.publish(&[0, 1]);
    let clock = ManualClock::new(SystemClock.now_ms());
    let (v, _) = iss.manual_verifier(&clock, JwksPolicy::default());
    let old = iss.token_at(clock.now_ms(), 0, None);
    v.verify(&old).await.unwrap();
    assert!(matches!(v.try_verify_now(&old), Some(Ok(_))), "verified and cached");
    iss.publish(&[1]); // k1 withdrawn
    clock.advance(secs(601));
    v.verify(&iss.token_at(clock.now_ms(), 1, None)).await.unwrap();
    assert_eq!(iss.fetches(), 2);
    assert_eq!(v.verify(&old).await.unwrap_err().code(), ErrorCode::KeyNotFound);
    assert_eq!(iss.fetches(), 2, "the unknown-kid refetch is still in its cooldown");
}
