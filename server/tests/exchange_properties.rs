//! Property test of token exchange: random delegation chains (1-4 exchanges) by random clients
//! with random requested scopes and audiences (subsets, supersets, disjoint sets) and random
//! clock steps, against one in-process server. A model of the rules predicts, for every request,
//! either the exact scope and audience granted or the set of errors that apply; every issued
//! token must also hold: scope ⊆ subject's scope, aud ⊆ subject's aud, exp ≤ subject's exp,
//! sub = subject's sub, act = the actor nesting the subject's act.
mod common;

use authsec_server::{ClientSpec, ServerConfig};
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const SCOPES: [&str; 7] = ["s0", "s1", "s2", "s3", "s4", "s5", "unknown"];
const AUDS: [&str; 5] = [
    "https://a0",
    "https://a1",
    "https://a2",
    "https://a3",
    "https://unknown",
];
const MAX_DEPTH: usize = 3;
/// The runner's seed when PROPTEST_RNG_SEED is not set (see random_delegation_chains_never_widen).
const CASES_SEED: u64 = 0x0061_7574_6873_6563;

/// id, allowed scopes, audiences, may_act, lifetime. Client 0 starts every chain.
struct Agent {
    id: &'static str,
    scopes: &'static [&'static str],
    auds: &'static [&'static str],
    may_act: &'static [&'static str],
    lifetime: u64,
}

const AGENTS: [Agent; 5] = [
    Agent {
        id: "root",
        scopes: &["s0", "s1", "s2", "s3", "s4", "s5"],
        auds: &["https://a0", "https://a1", "https://a2", "https://a3"],
        may_act: &[],
        lifetime: 600,
    },
    Agent {
        id: "c1",
        scopes: &["s0", "s1", "s2", "s3"],
        auds: &["https://a0", "https://a1", "https://a2"],
        may_act: &["c2", "c3", "root"],
        lifetime: 300,
    },
    Agent {
        id: "c2",
        scopes: &["s1", "s2", "s4"],
        auds: &["https://a1", "https://a2", "https://a3"],
        may_act: &[],
        lifetime: 900,
    },
    Agent {
        id: "c3",
        scopes: &["s0", "s2", "s5"],
        auds: &["https://a0", "https://a2"],
        may_act: &["c1"],
        lifetime: 120,
    },
    // No audiences: it may only get the default audience, which no subject token holds.
    Agent {
        id: "c4",
        scopes: &["s2", "s3"],
        auds: &[],
        may_act: &[],
        lifetime: 60,
    },
];

fn secret(id: &str) -> String {
    format!("{id}-secret")
}

fn server_config() -> ServerConfig {
    let mut cfg = config(
        AGENTS
            .iter()
            .map(|a| ClientSpec {
                token_lifetime: Some(a.lifetime),
                ..exchange_client(a.id, &secret(a.id), a.scopes, a.auds, a.may_act)
            })
            .collect(),
    );
    cfg.rate_limit = 0;
    cfg.token_exchange.max_delegation_depth = MAX_DEPTH as u32;
    cfg
}

#[derive(Clone, Debug)]
struct Step {
    actor: usize,
    scopes: Vec<&'static str>,
    auds: Vec<&'static str>,
    /// Put the audiences in `resource` rather than `audience`.
    as_resource: bool,
    advance: u64,
}

#[derive(Clone, Debug)]
struct Case {
    root_scopes: Vec<&'static str>,
    root_auds: Vec<&'static str>,
    steps: Vec<Step>,
}

fn case() -> impl Strategy<Value = Case> {
    let step = (
        1..AGENTS.len(),
        // Most steps ask for nothing (the model's narrowing); the rest for 1-3 names that may be
        // a subset, a superset or disjoint.
        prop_oneof![2 => Just(vec![]), 1 => proptest::sample::subsequence(SCOPES.to_vec(), 1..=3)],
        prop_oneof![2 => Just(vec![]), 1 => proptest::sample::subsequence(AUDS.to_vec(), 1..=2)],
        any::<bool>(),
        0u64..150,
    )
        .prop_map(|(actor, scopes, auds, as_resource, advance)| Step {
            actor,
            scopes,
            auds,
            as_resource,
            advance,
        });
    (
        proptest::sample::subsequence(AGENTS[0].scopes.to_vec(), 1..=6),
        proptest::sample::subsequence(AGENTS[0].auds.to_vec(), 1..=4),
        proptest::collection::vec(step, 1..=4),
    )
        .prop_map(|(root_scopes, root_auds, steps)| Case {
            root_scopes,
            root_auds,
            steps,
        })
}

fn words(v: &Value) -> Vec<String> {
    v.as_str()
        .map(|s| s.split(' ').map(str::to_string).collect())
        .unwrap_or_default()
}

fn auds(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
        _ => vec![],
    }
}

/// The client ids of an `act` chain, outermost first.
fn chain(act: Option<&Value>) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = act;
    while let Some(a) = cur {
        out.push(a["client_id"].as_str().unwrap().to_string());
        cur = a.get("act");
    }
    out
}

/// What the rules say about `actor` exchanging a token with `subject` claims at `now`:
/// `Ok((scope, aud))` or every error code that applies.
fn predict(
    subject: &Value,
    actor: &Agent,
    step: &Step,
    now: i64,
) -> Result<(Vec<String>, Vec<String>), BTreeSet<&'static str>> {
    let mut errors = BTreeSet::new();
    if subject["exp"].as_i64().unwrap() <= now {
        errors.insert("invalid_grant");
    }
    if let Some(m) = subject.get("may_act") {
        let named = match &m["sub"] {
            Value::String(s) => s == actor.id,
            Value::Array(a) => a.iter().any(|x| x == actor.id),
            _ => false,
        };
        if !named {
            errors.insert("invalid_grant");
        }
    }
    let previous = chain(subject.get("act"));
    if previous.iter().any(|c| c == actor.id) || previous.len() + 1 > MAX_DEPTH {
        errors.insert("invalid_grant");
    }
    let held = words(&subject["scope"]);
    let grantable: Vec<String> = held
        .iter()
        .filter(|s| actor.scopes.contains(&s.as_str()))
        .cloned()
        .collect();
    let scope = if step.scopes.is_empty() {
        grantable.clone()
    } else {
        if step.scopes.iter().any(|s| !grantable.iter().any(|g| g == s)) {
            errors.insert("invalid_scope");
        }
        step.scopes.iter().map(|s| s.to_string()).collect()
    };
    if scope.is_empty() {
        errors.insert("invalid_scope");
    }
    let held_aud = auds(&subject["aud"]);
    let target: Vec<String> = held_aud
        .iter()
        .filter(|a| actor.auds.contains(&a.as_str()))
        .cloned()
        .collect();
    let aud = if step.auds.is_empty() {
        target.clone()
    } else {
        if step.auds.iter().any(|a| !target.iter().any(|t| t == a)) {
            errors.insert("invalid_target");
        }
        step.auds.iter().map(|a| a.to_string()).collect()
    };
    if aud.is_empty() {
        errors.insert("invalid_target");
    }
    if errors.is_empty() {
        Ok((scope, aud))
    } else {
        Err(errors)
    }
}

async fn run_case(ts: &TestServer, c: &Case) -> Result<(), TestCaseError> {
    let root = &AGENTS[0];
    let scope = c.root_scopes.join(" ");
    let mut pairs: Vec<(&str, &str)> = vec![("scope", &scope)];
    pairs.extend(c.root_auds.iter().map(|a| ("resource", *a)));
    let mut subject = ts.token(root.id, &secret(root.id), &pairs).await;
    for step in &c.steps {
        ts.advance(step.advance);
        let actor = &AGENTS[step.actor];
        let sc = decode_jwt(&subject).1;
        let scope = step.scopes.join(" ");
        let mut extra: Vec<(&str, &str)> = Vec::new();
        if !scope.is_empty() {
            extra.push(("scope", &scope));
        }
        let param = if step.as_resource { "resource" } else { "audience" };
        extra.extend(step.auds.iter().map(|a| (param, *a)));
        let r = ts.exchange_request(actor.id, &secret(actor.id), &subject, &extra).await;
        let now = ts.now_s();
        match predict(&sc, actor, step, now) {
            Err(codes) => {
                prop_assert_eq!(r.status, 400, "{:?} predicted {:?}: {:?}", step, codes, r);
                let code = r.json["error"].as_str().unwrap_or("");
                prop_assert!(
                    codes.contains(code),
                    "{:?}: got {}, expected one of {:?}: {:?}",
                    step,
                    code,
                    codes,
                    r
                );
                // Try the next step on the same subject.
            }
            Ok((scope, aud)) => {
                prop_assert_eq!(r.status, 200, "{:?}: {:?}", step, r);
                let token = r.json["access_token"].as_str().unwrap().to_string();
                let nc = decode_jwt(&token).1;
                // Exactly what the model predicts...
                prop_assert_eq!(words(&nc["scope"]), scope.clone());
                prop_assert_eq!(auds(&nc["aud"]), aud.clone());
                // ...and never wider than the subject.
                let held = words(&sc["scope"]);
                prop_assert!(scope.iter().all(|s| held.contains(s)));
                let held_aud = auds(&sc["aud"]);
                prop_assert!(aud.iter().all(|a| held_aud.contains(a)));
                let exp = nc["exp"].as_i64().unwrap();
                prop_assert!(exp <= sc["exp"].as_i64().unwrap());
                prop_assert_eq!(exp, (now + actor.lifetime as i64).min(sc["exp"].as_i64().unwrap()));
                prop_assert_eq!(&nc["sub"], &sc["sub"]);
                prop_assert_eq!(nc["client_id"].as_str(), Some(actor.id));
                let mut expected_act = json!({"sub": actor.id, "client_id": actor.id});
                if let Some(prev) = sc.get("act") {
                    expected_act["act"] = prev.clone();
                }
                prop_assert_eq!(&nc["act"], &expected_act);
                let mut expected_chain = vec![actor.id.to_string()];
                expected_chain.extend(chain(sc.get("act")));
                prop_assert_eq!(chain(nc.get("act")), expected_chain);
                subject = token;
            }
        }
    }
    // The last token is active exactly while unexpired.
    let expired = decode_jwt(&subject).1["exp"].as_i64().unwrap() <= ts.now_s();
    let i = ts.introspect(root.id, &secret(root.id), &subject).await;
    prop_assert_eq!(i.json["active"] == true, !expired, "{:?}", i);
    Ok(())
}

#[test]
fn random_delegation_chains_never_widen() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ts = rt.block_on(TestServer::start_with_clock(server_config(), manual_clock()));
    // A fixed seed unless PROPTEST_RNG_SEED names another: CI runs the same 48 cases every time,
    // so a failure reproduces and the coverage floor below is a property of those cases, not a
    // draw (with random seeds "issued" averaged ~31 over 30 runs and once fell to 19).
    let defaults = Config::default();
    let rng_seed = match defaults.rng_seed {
        RngSeed::Random => RngSeed::Fixed(CASES_SEED),
        seed => seed,
    };
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        max_shrink_iters: 64,
        rng_seed,
        ..defaults
    });
    let result = runner.run(&case(), |c| rt.block_on(run_case(&ts, &c)));
    let issued = ts
        .audit_events("token_exchange")
        .iter()
        .filter(|l| l["outcome"] == "success" && l["result"] == "issued")
        .count();
    let refused = ts
        .audit_events("token_exchange")
        .iter()
        .filter(|l| l["outcome"] == "failure")
        .count();
    rt.block_on(ts.shutdown());
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!("token exchanges: {issued} issued, {refused} refused");
    // The generator reaches both outcomes often enough to mean something.
    assert!(issued >= 20 && refused >= 20, "issued {issued}, refused {refused}");
}
