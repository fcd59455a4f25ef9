//! The core's own native time on the shared benchmark corpus (`scripts/bench-corpus.sh`): the
//! reference every binding's first-sight verify is compared with ("within 1.3× of the core").
//! Prints the `RESULT lang=rust ...` lines `scripts/bench-report.py` reads, and a table.
//!
//! ```text
//! cargo run --release -p authsec-tools --bin bench-core -- target/bench/corpus.json [--quick]
//! ```

use authsec_core::{KeySet, ScopeRequirement, StaticKeys, SystemClock, Verifier, VerifierOptions};
use serde_json::{json, Value};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let Some(path) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: bench-core <corpus.json> [--quick]");
        std::process::exit(2);
    };
    let corpus: Value = serde_json::from_slice(&std::fs::read(path).expect("reading the corpus")).expect("corpus JSON");
    let rounds = if quick { 2 } else { 5 };
    let required = ScopeRequirement::from_values(&json!(["read:data"]), &Value::Null).expect("scope requirement");
    println!("| alg | first sight | 2 threads (per token) | repeated |");
    println!("|---|---|---|---|");
    for alg in ["RS256", "ES256", "EdDSA"] {
        let case = &corpus["algs"][alg];
        let tokens: Vec<&str> = case["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let tokens = if quick {
            &tokens[..tokens.len().min(500)]
        } else {
            &tokens[..]
        };
        let verifier = || {
            let options = VerifierOptions::from_value(&json!({
                "issuer": corpus["issuer"], "audience": corpus["audience"], "algorithms": [alg],
            }))
            .expect("options");
            let keys = KeySet::from_jwks_json(corpus["jwks"].to_string().as_bytes()).expect("JWKS");
            Verifier::new(
                options.config().expect("config"),
                Arc::new(StaticKeys(Arc::new(keys))),
                Arc::new(SystemClock),
            )
            .expect("verifier")
        };
        let check = |v: &Verifier, t: &str| {
            let claims = v
                .try_verify_now_with(t, &required)
                .expect("keys at hand")
                .expect("valid token");
            black_box(claims);
        };
        // First sight: a fresh verifier per round, so every token is new to it.
        let first = best_of(rounds, || {
            let v = verifier();
            let t0 = Instant::now();
            for t in tokens {
                check(&v, t);
            }
            t0.elapsed().as_secs_f64() * 1e6 / tokens.len() as f64
        });
        let concurrent = best_of(rounds, || {
            let v = verifier();
            let t0 = Instant::now();
            std::thread::scope(|s| {
                for half in tokens.chunks(tokens.len().div_ceil(2)) {
                    let v = &v;
                    s.spawn(move || half.iter().for_each(|t| check(v, t)));
                }
            });
            t0.elapsed().as_secs_f64() * 1e6 / tokens.len() as f64
        });
        let repeated_token = case["repeated"].as_str().expect("repeated token");
        let v = verifier();
        check(&v, repeated_token);
        let n = if quick { 100_000 } else { 1_000_000 };
        let repeated = best_of(rounds, || {
            let t0 = Instant::now();
            for _ in 0..n {
                check(&v, repeated_token);
            }
            t0.elapsed().as_secs_f64() * 1e6 / n as f64
        });
        println!(
            "| {alg} | {first:.1} µs | {concurrent:.1} µs | {:.0} ns |",
            repeated * 1e3
        );
        for (regime, value) in [
            ("first", first),
            ("first_concurrent", concurrent),
            ("repeated", repeated),
        ] {
            println!("RESULT lang=rust lib=authsec regime={regime} alg={alg} value={value:.4} unit=us");
        }
    }
}

fn best_of(rounds: usize, mut run: impl FnMut() -> f64) -> f64 {
    (0..rounds).map(|_| run()).fold(f64::INFINITY, f64::min)
}
