//! `verify_delegation.json`: the RFC 8693 `act` chain: reading it (current actor first), the
//! malformed chains every verifier refuses, and the policy options `forbid_delegation`,
//! `max_delegation_depth` and `allowed_actors`.

use super::case::{case, claims, with, File, NOW};
use super::signing::Gen;
use authsec_core::Alg;
use serde_json::{json, Value};

/// `{"sub": id, "client_id": id}`, with `inner` nested as its `act`.
fn link(id: &str, inner: Option<Value>) -> Value {
    let mut v = json!({"sub": id, "client_id": id});
    if let Some(i) = inner {
        v["act"] = i;
    }
    v
}

/// A chain of `ids`, current actor first.
fn chain(ids: &[&str]) -> Value {
    ids.iter().rev().fold(Value::Null, |inner, id| {
        link(id, if inner.is_null() { None } else { Some(inner) })
    })
}

/// What a runner reports for a chain built by [`chain`]: `[{sub, client_id}]`, current first.
fn reported(ids: &[&str]) -> Value {
    Value::Array(ids.iter().map(|id| json!({"sub": id, "client_id": id})).collect())
}

pub(crate) fn file(g: &mut Gen) -> File {
    let mut f = File::new(
        "verify_delegation.json",
        "Delegation (RFC 8693 act): the chain, current actor first; malformed chains (invalid_delegation); forbid_delegation, max_delegation_depth and allowed_actors (delegation_not_allowed).",
    );
    let deep = |n: usize| -> Vec<String> { (1..=n).map(|i| format!("actor-{i}")).collect() };
    let deep16 = deep(16);
    let deep17 = deep(17);
    let ids16: Vec<&str> = deep16.iter().map(String::as_str).collect();
    let ids17: Vec<&str> = deep17.iter().map(String::as_str).collect();
    // (name, act claim (None: no act), options, Ok(delegation) or Err(code), description)
    type Row<'a> = (
        &'static str,
        Option<Value>,
        Vec<(&'static str, Value)>,
        Result<Value, &'static str>,
        &'static str,
    );
    let rows: Vec<Row> = vec![
        (
            "act_absent",
            None,
            vec![],
            Ok(json!([])),
            "A token without act is not delegated: its chain is empty.",
        ),
        (
            "act_one_actor",
            Some(chain(&["sub-agent"])),
            vec![],
            Ok(reported(&["sub-agent"])),
            "One actor: the chain names it.",
        ),
        (
            "act_chain_of_three",
            Some(chain(&["tool", "sub-agent", "orchestrator"])),
            vec![],
            Ok(reported(&["tool", "sub-agent", "orchestrator"])),
            "A nested chain is reported current actor first (the outermost act), the first actor last.",
        ),
        (
            "act_sub_and_iss_only",
            Some(json!({"sub": "agent@example", "iss": "https://other-issuer.example"})),
            vec![],
            Ok(json!([{"sub": "agent@example", "iss": "https://other-issuer.example"}])),
            "An actor named by sub and iss (RFC 8693's example shape) is read as such.",
        ),
        (
            "act_same_id_two_issuers",
            Some(
                json!({"sub": "agent", "iss": "https://a.example", "act": {"sub": "agent", "iss": "https://b.example"}}),
            ),
            vec![],
            Ok(json!([{"sub": "agent", "iss": "https://a.example"}, {"sub": "agent", "iss": "https://b.example"}])),
            "The same sub under two issuers names two parties: not a cycle.",
        ),
        (
            "act_depth_16",
            Some(chain(&ids16)),
            vec![],
            Ok(reported(&ids16)),
            "Sixteen nested actors, the most any verifier reads, are accepted by default.",
        ),
        // malformed: every verifier refuses these
        (
            "act_string",
            Some(json!("sub-agent")),
            vec![],
            Err("invalid_delegation"),
            "act must be a JSON object, not a string.",
        ),
        (
            "act_array",
            Some(json!([{"sub": "sub-agent"}])),
            vec![],
            Err("invalid_delegation"),
            "act must be a JSON object, not an array of actors.",
        ),
        (
            "act_null",
            Some(json!(null)),
            vec![],
            Err("invalid_delegation"),
            "act: null is not an object.",
        ),
        (
            "act_nested_not_object",
            Some(json!({"sub": "tool", "act": true})),
            vec![],
            Err("invalid_delegation"),
            "A nested act must be an object too.",
        ),
        (
            "act_exp_inside",
            Some(json!({"sub": "tool", "exp": NOW + 86_400})),
            vec![],
            Err("invalid_delegation"),
            "exp inside act means nothing (RFC 8693 §4.1) and could be mistaken for the token's own: refused.",
        ),
        (
            "act_aud_inside_nested",
            Some(json!({"sub": "tool", "act": {"sub": "agent", "aud": "https://api.example"}})),
            vec![],
            Err("invalid_delegation"),
            "aud inside a nested act is refused like at the first level.",
        ),
        (
            "act_scope_inside",
            Some(json!({"sub": "tool", "scope": "admin"})),
            vec![],
            Err("invalid_delegation"),
            "scope inside act could be read as a grant: refused.",
        ),
        (
            "act_no_identity",
            Some(json!({"iss": "https://issuer.example"})),
            vec![],
            Err("invalid_delegation"),
            "A link with neither a string sub nor a client_id names nobody.",
        ),
        (
            "act_sub_number",
            Some(json!({"sub": 42})),
            vec![],
            Err("invalid_delegation"),
            "sub inside act must be a string.",
        ),
        (
            "act_cycle",
            Some(chain(&["tool", "agent", "tool"])),
            vec![],
            Err("invalid_delegation"),
            "The same actor twice in one chain is a cycle.",
        ),
        (
            "act_depth_17",
            Some(chain(&ids17)),
            vec![],
            Err("invalid_delegation"),
            "Seventeen nested actors exceed the hard limit of sixteen, whatever the options.",
        ),
        // policy
        (
            "act_forbidden",
            Some(chain(&["sub-agent"])),
            vec![("forbid_delegation", json!(true))],
            Err("delegation_not_allowed"),
            "forbid_delegation refuses any token that carries act.",
        ),
        (
            "act_forbidden_plain_token",
            None,
            vec![("forbid_delegation", json!(true))],
            Ok(json!([])),
            "forbid_delegation accepts a token nobody acts for.",
        ),
        (
            "act_max_depth_exceeded",
            Some(chain(&["tool", "sub-agent", "orchestrator"])),
            vec![("max_delegation_depth", json!(2))],
            Err("delegation_not_allowed"),
            "Three actors against max_delegation_depth 2 is refused.",
        ),
        (
            "act_max_depth_reached",
            Some(chain(&["sub-agent", "orchestrator"])),
            vec![("max_delegation_depth", json!(2))],
            Ok(reported(&["sub-agent", "orchestrator"])),
            "Two actors against max_delegation_depth 2 is accepted.",
        ),
        (
            "act_max_depth_zero",
            Some(chain(&["sub-agent"])),
            vec![("max_delegation_depth", json!(0))],
            Err("delegation_not_allowed"),
            "max_delegation_depth 0 accepts no actor.",
        ),
        (
            "act_allowed_actor",
            Some(chain(&["tool", "sub-agent"])),
            vec![("allowed_actors", json!(["tool", "other-tool"]))],
            Ok(reported(&["tool", "sub-agent"])),
            "The current actor is in allowed_actors.",
        ),
        (
            "act_allowed_prior_actor_only",
            Some(chain(&["tool", "sub-agent"])),
            vec![("allowed_actors", json!(["sub-agent"]))],
            Err("delegation_not_allowed"),
            "Only the current actor counts (RFC 8693 §4.1): listing a prior actor does not admit the token.",
        ),
        (
            "act_allowed_actor_by_sub",
            Some(json!({"sub": "tool"})),
            vec![("allowed_actors", json!(["tool"]))],
            Ok(json!([{"sub": "tool"}])),
            "An actor without client_id is matched by its sub.",
        ),
        (
            "act_allowed_actor_client_id_wins",
            Some(json!({"sub": "tool", "client_id": "tool-app"})),
            vec![("allowed_actors", json!(["tool"]))],
            Err("delegation_not_allowed"),
            "An actor with a client_id is matched by its client_id, not its sub.",
        ),
        (
            "act_allowed_actors_plain_token",
            None,
            vec![("allowed_actors", json!(["tool"]))],
            Ok(json!([])),
            "allowed_actors does not apply to a token nobody acts for.",
        ),
        (
            "act_malformed_beats_policy",
            Some(json!({"sub": "tool", "exp": NOW + 60})),
            vec![("allowed_actors", json!(["other"]))],
            Err("invalid_delegation"),
            "A malformed chain is reported as such before any policy is applied.",
        ),
        (
            "act_max_depth_over_limit",
            Some(chain(&["tool"])),
            vec![("max_delegation_depth", json!(17))],
            Err("config_error"),
            "max_delegation_depth above the hard limit of 16 is refused when the verifier is built.",
        ),
    ];
    for (name, act, opts, expect, desc) in rows {
        let mut c = claims(name);
        if let Some(a) = act {
            c = with(&c, &[("act", a)]);
        }
        let t = g.std_token(name, Alg::EdDSA, &c);
        let mut k = case(name, desc, t);
        for (o, v) in opts {
            k = k.opt(o, v);
        }
        f.push(match expect {
            Ok(d) => k.ok_delegated(&c, d),
            Err(e) => k.err(e),
        });
    }
    // Which check wins, and the scope check after the chain.
    {
        let name = "act_malformed_and_expired";
        let c = with(
            &claims(name),
            &[
                ("exp", json!(NOW - 3600)),
                ("iat", json!(NOW - 7200)),
                ("act", json!("x")),
            ],
        );
        let t = g.std_token(name, Alg::EdDSA, &c);
        f.push(case(name, "Expired with a malformed act: exp is checked first.", t).err("token_expired"));
    }
    {
        let name = "act_malformed_and_wrong_audience";
        let c = with(
            &claims(name),
            &[("aud", json!("https://other-api.example")), ("act", json!([]))],
        );
        let t = g.std_token(name, Alg::EdDSA, &c);
        f.push(
            case(
                name,
                "For another audience with a malformed act: aud is checked before act.",
                t,
            )
            .err("invalid_audience"),
        );
    }
    {
        let name = "act_delegated_missing_scope";
        let c = with(&claims(name), &[("act", chain(&["sub-agent"]))]);
        let t = g.std_token(name, Alg::EdDSA, &c);
        f.push(
            case(
                name,
                "A well-delegated token still needs the required scopes; the scope check comes after the chain.",
                t,
            )
            .all_of(&["admin"])
            .missing(&["admin"]),
        );
    }
    f
}
