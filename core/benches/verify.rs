//! Verify per algorithm (first sight and repeated) beside the raw aws-lc-rs signature check of
//! the same key and message (the floor), and a cache-hit `get_token`.
//!
//! Run: `cargo bench -p authsec-core --bench verify`

use authsec_core::http::{HttpRequest, HttpResponse, Transport};
use authsec_core::jose::alg::Alg;
use authsec_core::runtime::BoxFut;
use authsec_core::util::b64url_decode;
use authsec_core::*;
use aws_lc_rs::signature::{self as sig, ParsedPublicKey};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use serde_json::{json, Map, Value};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

struct Case {
    alg: Alg,
    token: String,
    jwk: Value,
}

fn case(alg: Alg) -> Case {
    let key = SigningKey::generate(alg, Some(format!("k-{alg}"))).unwrap();
    let claims = json!({
        "iss": "https://issuer.test", "aud": "https://api.test", "sub": "ml-training-agent",
        "client_id": "ml-training-agent", "scope": "read:data write:logs",
        "iat": now(), "exp": now() + 3600, "jti": "0123456789abcdef",
    });
    let token = key.sign(Some("at+jwt"), &Map::new(), &claims).unwrap();
    Case {
        alg,
        token,
        jwk: key.public_jwk(),
    }
}

/// The raw signature check with aws-lc-rs, the key parsed once outside the loop (as the core
/// keeps it, `jose/parsed_key.rs`): the floor a verify can't go under.
fn raw_check(c: &Case) -> impl Fn() -> bool {
    let (msg, sig_b64) = c.token.rsplit_once('.').unwrap();
    let msg = msg.as_bytes().to_vec();
    let signature = b64url_decode(sig_b64).unwrap();
    let b = |k: &str| b64url_decode(c.jwk[k].as_str().unwrap()).unwrap();
    let rsa = |params: &'static sig::RsaParameters| {
        sig::RsaPublicKeyComponents { n: b("n"), e: b("e") }
            .to_parsed_public_key(params)
            .unwrap()
    };
    let ec = |a: &'static sig::EcdsaVerificationAlgorithm| {
        let mut p = vec![4u8];
        p.extend(b("x"));
        p.extend(b("y"));
        ParsedPublicKey::new(a, p).unwrap()
    };
    let key = match c.alg {
        Alg::RS256 => rsa(&sig::RSA_PKCS1_2048_8192_SHA256),
        Alg::RS384 => rsa(&sig::RSA_PKCS1_2048_8192_SHA384),
        Alg::RS512 => rsa(&sig::RSA_PKCS1_2048_8192_SHA512),
        Alg::PS256 => rsa(&sig::RSA_PSS_2048_8192_SHA256),
        Alg::PS384 => rsa(&sig::RSA_PSS_2048_8192_SHA384),
        Alg::PS512 => rsa(&sig::RSA_PSS_2048_8192_SHA512),
        Alg::ES256 => ec(&sig::ECDSA_P256_SHA256_FIXED),
        Alg::ES384 => ec(&sig::ECDSA_P384_SHA384_FIXED),
        Alg::EdDSA => ParsedPublicKey::new(&sig::ED25519, b("x")).unwrap(),
    };
    move || key.verify_sig(&msg, &signature).is_ok()
}

fn verifier(c: &Case, cache: usize) -> Verifier {
    let keys = KeySet::from_jwks_value(&json!({"keys": [c.jwk.clone()]})).unwrap();
    let cfg = VerifierConfig {
        verified_cache_size: cache,
        ..VerifierConfig::new("https://issuer.test", "https://api.test")
    };
    Verifier::new(cfg, Arc::new(StaticKeys(Arc::new(keys))), Arc::new(SystemClock)).unwrap()
}

fn bench_verify(cr: &mut Criterion) {
    let mut g = cr.benchmark_group("verify");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(30);
    for alg in Alg::ALL {
        let c = case(alg);
        let raw = raw_check(&c);
        assert!(raw());
        g.bench_function(BenchmarkId::new("raw_aws_lc", alg), |b| b.iter(|| black_box(raw())));
        let first = verifier(&c, 0);
        g.bench_function(BenchmarkId::new("first_sight", alg), |b| {
            b.iter(|| black_box(first.try_verify_now(black_box(&c.token)).unwrap().unwrap()))
        });
        let repeated = verifier(&c, 10_000);
        repeated.try_verify_now(&c.token).unwrap().unwrap();
        g.bench_function(BenchmarkId::new("repeated", alg), |b| {
            b.iter(|| black_box(repeated.try_verify_now(black_box(&c.token)).unwrap().unwrap()))
        });
    }
    g.finish();
}

struct CannedTransport;
impl Transport for CannedTransport {
    fn send(&self, _r: HttpRequest) -> BoxFut<'static, Result<HttpResponse>> {
        Box::pin(async {
            Ok(HttpResponse::json(
                200,
                &json!({"access_token": "tok", "token_type": "Bearer", "expires_in": 3600}),
            ))
        })
    }
}

fn bench_get_token(cr: &mut Criterion) {
    let cfg = ClientConfig {
        client_id: "ml-training-agent".into(),
        client_secret: Some(Secret::new("s")),
        token_url: Some("https://auth.test/oauth/token".into()),
        scopes: vec!["read:data".into(), "write:logs".into()],
        ..Default::default()
    };
    let clock = Arc::new(SystemClock);
    let client = TokenClient::new(cfg, Arc::new(CannedTransport), clock, Arc::new(ManualClock::new(0))).unwrap();
    futures::executor::block_on(client.get_token()).unwrap();
    let mut g = cr.benchmark_group("get_token");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    g.bench_function("cache_hit_sync", |b| {
        b.iter(|| black_box(client.try_get_now().unwrap()))
    });
    g.bench_function("cache_hit_async", |b| {
        b.iter(|| black_box(futures::executor::block_on(client.get_token()).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench_verify, bench_get_token);
criterion_main!(benches);
