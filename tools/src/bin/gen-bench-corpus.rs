//! Writes the shared benchmark corpus: one key per algorithm (RS256, ES256, EdDSA), its JWKS,
//! and 2,000 distinct first-sight access tokens per algorithm plus one token for the repeated
//! regime. Every benchmark in every language verifies these same tokens (`scripts/bench-corpus.sh`
//! runs this; the format is in `scripts/bench-corpus.sh`'s header).
//!
//! ```text
//! cargo run --release -p authsec-tools --bin gen-bench-corpus -- target/bench/corpus.json [--count 2000]
//! ```

use authsec_core::jose::signing::pem_armor;
use authsec_core::util::b64url_decode;
use authsec_core::{Alg, SigningKey};
use serde_json::{json, Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};

const ISSUER: &str = "https://issuer.bench.example";
const AUDIENCE: &str = "https://api.bench.example";
const ALGS: [Alg; 3] = [Alg::RS256, Alg::ES256, Alg::EdDSA];

fn main() {
    let mut args = std::env::args().skip(1);
    let mut out = None;
    let mut count = 2000usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--count" => count = args.next().and_then(|n| n.parse().ok()).unwrap_or_else(|| usage()),
            _ if out.is_none() => out = Some(a),
            _ => usage(),
        }
    }
    let out = out.unwrap_or_else(|| usage());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock before 1970")
        .as_secs() as i64;

    let mut jwks = Vec::new();
    let mut algs = Map::new();
    for alg in ALGS {
        let kid = format!("bench-{alg}");
        let key = SigningKey::generate(alg, Some(kid.clone())).expect("key generation");
        jwks.push(key.public_jwk());
        let token = |i: usize| {
            let claims = json!({
                "iss": ISSUER, "aud": AUDIENCE, "sub": "bench-agent", "client_id": "bench-agent",
                "scope": "read:data write:logs", "iat": now - 60, "exp": now + 86_400,
                "jti": format!("{alg}-{i:05}"),
            });
            key.sign(Some("at+jwt"), &Map::new(), &claims).expect("signing")
        };
        let tokens: Vec<Value> = (0..count).map(|i| Value::String(token(i))).collect();
        algs.insert(
            alg.as_str().to_string(),
            json!({
                "kid": kid,
                "public_pem": public_pem(&key),
                "private_pem": key.to_pem().expose(),
                "tokens": tokens,
                "repeated": token(count),
            }),
        );
    }
    let corpus = json!({
        "issuer": ISSUER, "audience": AUDIENCE, "generated_at": now,
        "jwks": {"keys": jwks}, "algs": algs,
    });
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir).expect("creating the corpus folder");
    }
    let tmp = format!("{out}.tmp");
    std::fs::write(&tmp, serde_json::to_vec(&corpus).expect("json")).expect("writing the corpus");
    std::fs::rename(&tmp, &out).expect("renaming the corpus into place");
    eprintln!(
        "gen-bench-corpus: {count} tokens per algorithm ({}) in {out}",
        ALGS.map(|a| a.as_str()).join(", ")
    );
}

/// The public key as SPKI PEM (for libraries that take PEM: fast-jwt, jsonwebtoken, PyJWT).
fn public_pem(key: &SigningKey) -> String {
    use aws_lc_rs::encoding::AsDer;
    let jwk = key.public_jwk();
    let b = |name: &str| b64url_decode(jwk[name].as_str().expect("JWK member")).expect("base64url");
    let der: Vec<u8> = match key.alg() {
        Alg::RS256 => aws_lc_rs::rsa::PublicKeyComponents { n: b("n"), e: b("e") }
            .as_der()
            .expect("RSA SPKI")
            .as_ref()
            .to_vec(),
        // SubjectPublicKeyInfo prefixes of id-ecPublicKey/prime256v1 and id-Ed25519 (RFC 5480, RFC 8410).
        Alg::ES256 => [
            hex("3059301306072a8648ce3d020106082a8648ce3d030107034200"),
            vec![4],
            b("x"),
            b("y"),
        ]
        .concat(),
        Alg::EdDSA => [hex("302a300506032b6570032100"), b("x")].concat(),
        other => unreachable!("no corpus key for {other}"),
    };
    pem_armor("PUBLIC KEY", &der)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn usage() -> ! {
    eprintln!("usage: gen-bench-corpus <out.json> [--count N]");
    std::process::exit(2)
}
