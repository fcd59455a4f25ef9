//! Signing per algorithm: `SigningKey::sign` (what the local server does per token, and what
//! `private_key_jwt` assertions and DPoP proofs do per request) beside jsonwebtoken's own
//! `encode` with the same key (it builds a signer, and for RSA re-parses the key, per call).
//!
//! Run: `cargo bench -p authsec-core --bench sign`

use authsec_core::jose::alg::Alg;
use authsec_core::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use serde_json::{json, Map};
use std::hint::black_box;
use std::time::Duration;

fn jwt_alg(alg: Alg) -> jsonwebtoken::Algorithm {
    alg.as_str().parse().expect("a JOSE algorithm name")
}

fn encoding_key(alg: Alg, pem: &str) -> jsonwebtoken::EncodingKey {
    let b = pem.as_bytes();
    match alg {
        Alg::ES256 | Alg::ES384 => jsonwebtoken::EncodingKey::from_ec_pem(b),
        Alg::EdDSA => jsonwebtoken::EncodingKey::from_ed_pem(b),
        _ => jsonwebtoken::EncodingKey::from_rsa_pem(b),
    }
    .unwrap()
}

fn sign(c: &mut Criterion) {
    let claims = json!({
        "iss": "https://issuer.test", "aud": "https://api.test", "sub": "ml-training-agent",
        "client_id": "ml-training-agent", "scope": "read:data write:logs",
        "iat": 1_765_000_000, "exp": 1_765_003_600, "jti": "0123456789abcdef",
    });
    let mut g = c.benchmark_group("sign");
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_millis(500));
    for alg in [Alg::RS256, Alg::PS256, Alg::ES256, Alg::ES384, Alg::EdDSA] {
        let key = SigningKey::generate(alg, Some(format!("k-{alg}"))).unwrap();
        g.bench_with_input(BenchmarkId::new("authsec", alg.as_str()), &key, |b, key| {
            b.iter(|| black_box(key.sign(Some("at+jwt"), &Map::new(), black_box(&claims)).unwrap()))
        });
        let ek = encoding_key(alg, key.to_pem().expose());
        let mut header = jsonwebtoken::Header::new(jwt_alg(alg));
        header.typ = Some("at+jwt".into());
        header.kid = Some(key.kid().to_string());
        g.bench_with_input(BenchmarkId::new("jsonwebtoken_encode", alg.as_str()), &ek, |b, ek| {
            b.iter(|| black_box(jsonwebtoken::encode(&header, black_box(&claims), ek).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, sign);
criterion_main!(benches);
