//! The core's own native time on the shared benchmark corpus (`scripts/bench-corpus.sh`): the
//! reference every binding's first-sight verify is compared with ("within 1.3× of the core").
//! Prints the `RESULT lang=rust ...` lines `scripts/bench-report.py` reads, and a table.
//!
//! ```text
//! cargo run --release -p authsec-tools --bin bench-core -- target/bench/corpus.json [--quick]
//! bench-core target/bench/corpus.json --round RS256 [--tokens 2000]
//! ```
//!
//! `--round ALG` times one first-sight round (a fresh verifier, after a warm-up pass with another)
//! and prints only its µs per token: a binding's benchmark runs it between its own rounds, so the
//! binding ÷ core ratio compares timings taken in the same minute, whatever the machine's speed
//! does between minutes.

use authsec_core::{KeySet, ScopeRequirement, StaticKeys, SystemClock, Verifier, VerifierOptions};
use serde_json::{json, Value};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    // The corpus is the first argument that is neither a flag nor a flag's value.
    let takes_value = |a: &str| a == "--round" || a == "--tokens";
    let positional = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with("--") && (*i == 0 || !takes_value(&args[i - 1])));
    let Some((_, path)) = positional else {
        eprintln!("usage: bench-core <corpus.json> [--quick | --round ALG [--tokens N]]");
        std::process::exit(2);
    };
    let corpus: Value = serde_json::from_slice(&std::fs::read(path).expect("reading the corpus")).expect("corpus JSON");
    let rounds = if quick { 2 } else { 5 };
    let required = ScopeRequirement::from_values(&json!(["read:data"]), &Value::Null).expect("scope requirement");
    let flag = |name: &str| {
        args.iter().position(|a| a == name).map(|i| {
            args.get(i + 1)
                .unwrap_or_else(|| panic!("{name} needs a value"))
                .as_str()
        })
    };
    if let Some(alg) = flag("--round") {
        let count = flag("--tokens").map_or(usize::MAX, |n| n.parse().expect("--tokens N"));
        let tokens = corpus_tokens(&corpus, alg);
        let tokens = &tokens[..tokens.len().min(count)];
        let verifier = || corpus_verifier(&corpus, alg);
        let warm = verifier();
        tokens.iter().take(200).for_each(|t| check(&warm, t, &required));
        let v = verifier();
        let t0 = Instant::now();
        tokens.iter().for_each(|t| check(&v, t, &required));
        println!("{:.4}", t0.elapsed().as_secs_f64() * 1e6 / tokens.len() as f64);
        return;
    }
    println!("| alg | first sight | 2 threads (per token) | repeated |");
    println!("|---|---|---|---|");
    for alg in ["RS256", "ES256", "EdDSA"] {
        let case = &corpus["algs"][alg];
        let tokens = corpus_tokens(&corpus, alg);
        let tokens = if quick {
            &tokens[..tokens.len().min(500)]
        } else {
            &tokens[..]
        };
        let verifier = || corpus_verifier(&corpus, alg);
        let check = |v: &Verifier, t: &str| check(v, t, &required);
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

fn corpus_tokens<'c>(corpus: &'c Value, alg: &str) -> Vec<&'c str> {
    corpus["algs"][alg]["tokens"]
        .as_array()
        .unwrap_or_else(|| panic!("no {alg} tokens in the corpus"))
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

fn corpus_verifier(corpus: &Value, alg: &str) -> Verifier {
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
}

fn check(v: &Verifier, token: &str, required: &ScopeRequirement) {
    let claims = v
        .try_verify_now_with(token, required)
        .expect("keys at hand")
        .expect("valid token");
    black_box(claims);
}

fn best_of(rounds: usize, mut run: impl FnMut() -> f64) -> f64 {
    (0..rounds).map(|_| run()).fold(f64::INFINITY, f64::min)
}
