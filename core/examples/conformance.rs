//! The Rust runner of the cross-language conformance check (`conformance/run.sh`): verifies every
//! case of `tests/vectors/verify_*.json` through the core's public API and writes one JSON file of
//! outcomes, the format every runtime's runner writes (`conformance/README.md`).
//!
//! ```text
//! cargo run -q --example conformance -- <out.json> [<vectors dir>]
//! ```
//!
//! (Run from the workspace root without `-p authsec-core`, it reuses the build `cargo test` made:
//! with `-p`, cargo resolves the core's features alone and builds it again.)
//!
//! Like `core/tests/vectors.rs`: a static key set from the case's JWKS, a verifier built from the
//! case's options with a `ManualClock` at `now`, `Verifier::verify`, then the required scopes. It
//! only reports outcomes; `conformance/compare.py` compares them with the vectors and the other
//! runtimes.

use authsec_core::*;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// The verifier configuration a case asks for; absent options keep the library defaults. An
/// option the core refuses to parse is an outcome (`config_error`), as in the other bindings.
fn config(o: &Value) -> Result<VerifierConfig> {
    let algorithms = strings(&o["algorithms"])
        .iter()
        .map(|a| Alg::parse(a))
        .collect::<Result<Vec<_>>>()?;
    let mut cfg = VerifierConfig {
        issuer: o["issuer"].as_str().map(str::to_string),
        audiences: strings(&o["audience"]),
        skip_issuer_check: o["skip_issuer_check"].as_bool().unwrap_or(false),
        skip_audience_check: o["skip_audience_check"].as_bool().unwrap_or(false),
        algorithms,
        required_claims: strings(&o["required_claims"]),
        ..VerifierConfig::default()
    };
    if let Some(l) = o["leeway"].as_u64() {
        cfg.leeway = Duration::from_secs(l);
    }
    if let Some(t) = o["typ"].as_str() {
        cfg.typ = TypPolicy::parse(t)?;
    }
    if let Some(m) = o["max_token_bytes"].as_u64() {
        cfg.max_token_bytes = m as usize;
    }
    Ok(cfg)
}

fn error_outcome(e: &Error) -> Value {
    json!({ "error": e.code().as_str(), "missing_scopes": e.missing_scopes() })
}

/// One case's outcome: `{"claims": {...}}` or `{"error": code, "missing_scopes": [...]}`.
fn run_case(file: &Value, case: &Value) -> std::result::Result<Value, String> {
    let jwks = match &case["jwks"] {
        Value::String(name) => file["jwks"]
            .get(name)
            .ok_or_else(|| format!("unknown key set {name:?}"))?,
        inline => inline,
    };
    let keys = Arc::new(KeySet::from_jwks_value(jwks).map_err(|e| format!("key set: {e}"))?);
    let o = &case["options"];
    let now = o["now"].as_i64().ok_or("the case has no options.now")?;
    let token = case["token"].as_str().ok_or("the case has no token")?;
    let req = ScopeRequirement {
        all_of: strings(&case["required_scopes"]["all_of"]),
        any_of: strings(&case["required_scopes"]["any_of"]),
    };
    let clock = Arc::new(ManualClock::new(now * 1000));
    let verifier = match config(o).and_then(|cfg| Verifier::new(cfg, Arc::new(StaticKeys(keys)), clock)) {
        Ok(v) => v,
        Err(e) => return Ok(error_outcome(&e)),
    };
    // Static keys: the future never waits on I/O.
    let verified = futures::executor::block_on(verifier.verify(token));
    Ok(match verified.and_then(|c| req.check(&c.scopes()).map(|()| c)) {
        Ok(claims) => json!({ "claims": Value::Object(claims.as_map().clone()) }),
        Err(e) => error_outcome(&e),
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: conformance <out.json> [<vectors dir>]");
        std::process::exit(2);
    };
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors")));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("verify_") && n.ends_with(".json"))
        .collect();
    names.sort();
    let mut outcomes = Map::new();
    let mut problems = 0;
    for name in &names {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for case in file["cases"].as_array().into_iter().flatten() {
            let id = format!("{name}#{}", case["name"].as_str().unwrap_or("?"));
            match run_case(&file, case) {
                Ok(o) => {
                    outcomes.insert(id, o);
                }
                // A case this runner cannot even set up is left out: the comparator reports it.
                Err(e) => {
                    eprintln!("conformance (rust): {id}: {e}");
                    problems += 1;
                }
            }
        }
    }
    let n = outcomes.len();
    let doc = json!({ "runtime": "rust", "version": env!("CARGO_PKG_VERSION"), "outcomes": outcomes });
    let text = serde_json::to_string_pretty(&doc).expect("JSON") + "\n";
    std::fs::write(&out, text).unwrap_or_else(|e| panic!("{out}: {e}"));
    println!("rust: {n} outcomes -> {out}");
    if problems > 0 {
        std::process::exit(1);
    }
}
