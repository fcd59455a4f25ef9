//! Runs the shared test vectors in `tests/vectors/verify_*.json`, `dpop_requests.json` and
//! `jwt_svid.json` (format:
//! that directory's README.md) through the core: the Rust runner. That the files are what the generator writes
//! today is checked by the tools crate (`tools/tests/vectors_drift.rs`).
//!
//! With `AUTHSEC_CONFORMANCE_OUT=<dir>` it also writes every case's outcome to `<dir>/rust.json`
//! for the cross-language comparison (`tests/conformance/README.md`).

use authsec_core::*;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The workspace root.
fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `tests/vectors/` of this workspace.
fn vectors_dir() -> PathBuf {
    root().join("tests/vectors")
}

fn load_files() -> Vec<(String, Value)> {
    let dir = vectors_dir();
    let mut files: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                (n.starts_with("verify_") && n.ends_with(".json")) || n == "dpop_requests.json" || n == "jwt_svid.json"
            })
        })
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_name().unwrap_or_default().to_string_lossy().to_string(), v)
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|s| s.as_str().expect("a string").to_string())
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
        delegation: DelegationPolicy {
            forbid: o["forbid_delegation"].as_bool().unwrap_or(false),
            max_depth: o["max_delegation_depth"].as_u64().map(|d| d as usize),
            allowed_actors: o.get("allowed_actors").map(strings),
        },
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
    if let Some(m) = o["audience_match"].as_str() {
        cfg.audience_match = authsec_core::resource::uri::AudienceMatch::parse(m)?;
    }
    Ok(cfg)
}

/// What a binding reports: `Ok({"claims", "delegation"})` or `Err((code, missing_scopes))`.
type Outcome = Result<Value, (String, Vec<String>)>;

fn failure(e: Error) -> (String, Vec<String>) {
    (e.code().as_str().to_string(), e.missing_scopes().to_vec())
}

fn outcome<T: std::ops::Deref<Target = Claims>>(r: Result<T>, req: &ScopeRequirement) -> Outcome {
    let claims = r.map_err(failure)?;
    req.check(&claims.scopes()).map_err(failure)?;
    Ok(json!({"claims": claims.as_map(), "delegation": claims.delegation_value()}))
}

/// A case's outcome, the same by every path through the core; `Err` when the case cannot be set
/// up or the paths disagree.
fn run_case(file: &Value, case: &Value, rt: &tokio::runtime::Runtime) -> std::result::Result<Outcome, String> {
    let jwks = match &case["jwks"] {
        Value::String(name) => file["jwks"]
            .get(name)
            .ok_or_else(|| format!("unknown key set {name:?}"))?,
        inline => inline,
    };
    let keys = Arc::new(KeySet::from_jwks_value(jwks).map_err(|e| format!("key set: {e}"))?);
    let o = &case["options"];
    let now = o["now"].as_i64().ok_or("the case has no options.now")?;
    let req = ScopeRequirement {
        all_of: strings(&case["required_scopes"]["all_of"]),
        any_of: strings(&case["required_scopes"]["any_of"]),
    };
    let token = case["token"].as_str().ok_or("no token")?;

    let build = || {
        config(o).and_then(|cfg| {
            Verifier::new(
                cfg,
                Arc::new(StaticKeys(keys.clone())),
                Arc::new(ManualClock::new(now * 1000)),
            )
        })
    };
    let v = match build() {
        Err(e) => return Ok(Err(failure(e))),
        Ok(v) => v,
    };
    let sync = outcome(
        v.try_verify_now(token)
            .ok_or("try_verify_now needed the network with static keys")?,
        &req,
    );
    // The async path on a fresh verifier must agree.
    let fresh = build().map_err(|e| e.to_string())?;
    let asynchronous = outcome(rt.block_on(fresh.verify(token)), &req);
    if sync != asynchronous {
        return Err(format!("try_verify_now gave {sync:?} but verify gave {asynchronous:?}"));
    }
    // The split path the wasm package takes (the core prepares, the caller checks the
    // signature, the core completes) must agree too; here the caller is this build's backend.
    let split = build().map_err(|e| e.to_string())?;
    let r = match rt.block_on(split.prepare(token)) {
        Ok(Prepared::Verified(c)) => Ok(c),
        Ok(Prepared::Check(check)) => {
            // Each key's canonical public JWK is the same key again (what WebCrypto imports).
            for key in check.keys() {
                let jwk: Value = serde_json::from_str(&key.public_key().canonical_jwk()).unwrap();
                let again = KeySet::from_jwk_value(&jwk).map_err(|e| format!("canonical JWK: {e}"))?;
                if again.keys()[0].public_key() != key.public_key() {
                    return Err("the canonical JWK does not round-trip".into());
                }
            }
            let ok = check.verify_with_backend().map_err(|e| e.to_string())?;
            split.complete(check, ok)
        }
        Err(e) => Err(e),
    };
    let prepared = outcome(r, &req);
    if sync != prepared {
        return Err(format!(
            "try_verify_now gave {sync:?} but prepare/complete gave {prepared:?}"
        ));
    }
    if prepared.is_ok() && !matches!(split.try_prepare_now(token), Some(Ok(Prepared::Verified(_)))) {
        return Err("a completed token is not served from the verified-token cache".into());
    }
    Ok(sync)
}

/// Whether `got` is the outcome the case expects.
fn check(expect: &Value, got: &Outcome) -> std::result::Result<(), String> {
    match (expect.get("claims"), expect["error"].as_str(), got) {
        (Some(want), None, Ok(verified))
            if *want == verified["claims"] && expect.get("delegation").is_none_or(|d| *d == verified["delegation"]) =>
        {
            Ok(())
        }
        (None, Some(code), Err((got_code, missing))) if code == got_code => {
            assert!(ErrorCode::parse(code).is_some(), "{code} is not a stable error code");
            match expect.get("missing_scopes") {
                Some(m) if strings(m) != *missing => Err(format!("missing_scopes: want {m}, got {missing:?}")),
                _ => Ok(()),
            }
        }
        _ => Err(format!("want {expect}, got {got:?}")),
    }
}

/// With `AUTHSEC_CONFORMANCE_OUT` set, writes the outcomes to `<dir>/rust.json` (a relative dir is
/// taken from the workspace root), in the format of `tests/conformance/README.md`.
fn write_outcomes(outcomes: Map<String, Value>) {
    let Some(dir) = std::env::var_os("AUTHSEC_CONFORMANCE_OUT").filter(|d| !d.is_empty()) else {
        return;
    };
    let dir = root().join(dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let path = dir.join("rust.json");
    let n = outcomes.len();
    let doc = json!({ "runtime": "rust", "version": env!("CARGO_PKG_VERSION"), "outcomes": outcomes });
    let text = serde_json::to_string_pretty(&doc).expect("JSON") + "\n";
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    println!("rust: {n} outcomes -> {}", path.display());
}

/// A `dpop_requests.json` case: its requests in order through one request verifier (its replay
/// cache lives for the case), the clock at each request's `now`; each request's outcome.
fn run_request_case(
    file: &Value,
    case: &Value,
    rt: &tokio::runtime::Runtime,
) -> std::result::Result<Vec<Value>, String> {
    use authsec_core::resource::request::RequestParts;
    use authsec_core::resource::request_verifier::{RequestPolicy, RequestVerifier};
    let jwks = &file["jwks"][case["jwks"].as_str().ok_or("no jwks")?];
    let keys = Arc::new(KeySet::from_jwks_value(jwks).map_err(|e| format!("key set: {e}"))?);
    let clock = ManualClock::new(0);
    let cfg = authsec_core::access_token::options::VerifierOptions::from_value(&case["verifier"])
        .and_then(|o| o.config())
        .map_err(|e| format!("verifier: {e}"))?;
    let verifier =
        Verifier::new(cfg, Arc::new(StaticKeys(keys)), Arc::new(clock.clone())).map_err(|e| e.to_string())?;
    let policy = RequestPolicy::from_value(&case["policy"]).map_err(|e| format!("policy: {e}"))?;
    let rv = RequestVerifier::new(Arc::new(verifier), policy, Arc::new(clock.clone()));
    let scopes = ScopeRequirement {
        all_of: strings(&case["required_scopes"]["all_of"]),
        any_of: strings(&case["required_scopes"]["any_of"]),
    };
    let mut out = Vec::new();
    for r in case["requests"].as_array().ok_or("no requests")? {
        clock.set_ms(r["now"].as_i64().ok_or("a request without now")? * 1000);
        let headers: Vec<(&str, &str)> = r["headers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| (h[0].as_str().unwrap_or_default(), h[1].as_str().unwrap_or_default()))
            .collect();
        let cert = r["client_certificate"]
            .as_str()
            .map(|c| authsec_core::util::b64_std_decode(c).ok_or("client_certificate is not base64"))
            .transpose()?;
        let parts = RequestParts {
            method: r["method"].as_str().unwrap_or_default(),
            target: r["target"].as_str().unwrap_or_default(),
            scheme: r["scheme"].as_str().unwrap_or_default(),
            headers,
            peer: r["peer"].as_str().and_then(|p| p.parse().ok()),
            client_certificate: cert.as_deref(),
        };
        let has_nonce = |h: &[(String, String)]| h.iter().any(|(k, _)| k.eq_ignore_ascii_case("dpop-nonce"));
        out.push(match rt.block_on(rv.verify(&parts, &scopes)) {
            Ok(a) => json!({
                "accepted": true,
                "scheme": a.scheme.as_str(),
                "jkt": a.binding.proof.as_ref().map(|p| p.jkt.clone()),
                "certificate": a.binding.certificate,
                "dpop_nonce": has_nonce(&a.headers),
            }),
            Err(refusal) => {
                let challenges: Vec<&str> = refusal
                    .headers
                    .iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
                    .map(|(_, v)| v.as_str())
                    .collect();
                let scheme = |c: &str| c.split(' ').next().unwrap_or_default().to_string();
                json!({
                    "accepted": false,
                    "status": refusal.status,
                    "error": refusal.error.as_ref().map(|e| e.code().as_str()),
                    "challenges": challenges.iter().map(|c| scheme(c)).collect::<Vec<_>>(),
                    "error_scheme": challenges.iter().find(|c| c.contains("error=\"")).map(|c| scheme(c)),
                    "dpop_nonce": has_nonce(&refusal.headers),
                })
            }
        });
    }
    Ok(out)
}

/// A `jwt_svid.json` case: the verifier from the case's options plus its bundles as
/// `trust_domains`, the clock at `now`; the outcome by the sync path and the async path, which
/// must agree.
fn run_svid_case(file: &Value, case: &Value, rt: &tokio::runtime::Runtime) -> Value {
    use authsec_core::spiffe::JwtSvidOptions;
    let mut options = case["options"].clone();
    let now = options["now"].as_i64().expect("now");
    options.as_object_mut().expect("options").remove("now");
    let bundles = &file["bundles"][case["bundles"].as_str().expect("bundles name")];
    let trust_domains: Map<String, Value> = bundles
        .as_object()
        .expect("bundles")
        .iter()
        .map(|(td, doc)| (td.clone(), json!({ "bundle": doc })))
        .collect();
    options["trust_domains"] = Value::Object(trust_domains);
    let outcome = |r: Result<authsec_core::spiffe::JwtSvid>| match r {
        Ok(s) => {
            json!({"svid": {"spiffe_id": s.spiffe_id.as_str(), "audience": s.audience, "expires_at": s.expires_at}})
        }
        Err(e) => json!({"error": e.code().as_str()}),
    };
    let clock = Arc::new(ManualClock::new(now * 1000));
    let verifier = match JwtSvidOptions::from_value(&options, &|_: &str| None)
        .and_then(|o| o.build(Arc::new(NoTransport), clock, None))
    {
        Ok(v) => v,
        Err(e) => return json!({"error": e.code().as_str()}),
    };
    let token = case["token"].as_str().expect("token");
    let sync = outcome(verifier.verify_now(token).expect("static bundles are at hand"));
    let asynchronous = outcome(rt.block_on(verifier.verify(token)));
    assert_eq!(
        sync, asynchronous,
        "{}: the sync and async paths disagree",
        case["name"]
    );
    sync
}

/// No I/O: vector cases carry their bundles.
struct NoTransport;

impl authsec_core::http::Transport for NoTransport {
    fn send(
        &self,
        _: authsec_core::http::HttpRequest,
    ) -> authsec_core::runtime::BoxFut<'static, Result<authsec_core::http::HttpResponse>> {
        Box::pin(async { Err(Error::internal("the vectors do no I/O")) })
    }
}

#[test]
fn shared_vectors() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let files = load_files();
    assert!(!files.is_empty(), "no vector files found");
    let (mut passed, mut failed) = (0, Vec::new());
    let mut outcomes = Map::new();
    for (name, file) in &files {
        assert_eq!(file["version"], 1, "{name}: unknown version");
        let cases = file["cases"].as_array().unwrap_or_else(|| panic!("{name}: no cases"));
        for case in cases {
            let case_name = case["name"].as_str().unwrap_or("?");
            let id = format!("{name}: {case_name}");
            assert!(
                case["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{id}: no description"
            );
            if case.get("bundles").is_some() {
                let got = run_svid_case(file, case, &rt);
                outcomes.insert(format!("{name}#{case_name}"), got.clone());
                if got == case["expect"] {
                    passed += 1;
                } else {
                    failed.push(format!("{id}: got {got}, expected {}", case["expect"]));
                }
                continue;
            }
            if case.get("requests").is_some() {
                let result = run_request_case(file, case, &rt).and_then(|got| {
                    outcomes.insert(format!("{name}#{case_name}"), json!({ "requests": got }));
                    let expected: Vec<&Value> = case["requests"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|r| &r["expect"])
                        .collect();
                    let got: Vec<&Value> = got.iter().collect();
                    if got == expected {
                        Ok(())
                    } else {
                        Err(format!("got {got:?}, expected {expected:?}"))
                    }
                });
                match result {
                    Ok(()) => passed += 1,
                    Err(e) => failed.push(format!("{id}: {e}")),
                }
                continue;
            }
            // A case that cannot be run is left out of the outcomes: the comparison reports it.
            let result = run_case(file, case, &rt).and_then(|got| {
                outcomes.insert(
                    format!("{name}#{case_name}"),
                    match &got {
                        Ok(verified) => verified.clone(),
                        Err((code, missing)) => json!({ "error": code, "missing_scopes": missing }),
                    },
                );
                check(&case["expect"], &got)
            });
            match result {
                Ok(()) => passed += 1,
                Err(e) => failed.push(format!("{id}: {e}")),
            }
        }
    }
    write_outcomes(outcomes);
    for f in &failed {
        eprintln!("FAILED {f}");
    }
    println!("vectors: {passed} passed, {} failed", failed.len());
    assert!(failed.is_empty(), "vectors: {passed} passed, {} failed", failed.len());
}
