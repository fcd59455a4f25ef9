//! RFC 8693 token exchange: an orchestrator's token is exchanged by a sub-agent, whose token is
//! exchanged by a tool. Every claim of the chain is checked (sub, client_id, nested act, scope,
//! aud, exp, may_act), and every attempt to widen is refused with the right OAuth error: scope
//! or audience outside the subject's or the actor's, may_act skipped, depth exceeded, a cycle,
//! a revoked ancestor, an expired subject, bad token types, someone else's actor_token. The
//! audit log carries the chain and never a token.
mod common;

use authsec_native::*;
use authsec_server::{ClientSpec, ServerConfig};
use common::*;
use serde_json::{json, Value};

const SUB_API: &str = "https://sub-agent.api";
const TOOL_API: &str = "https://tool.api";
const OTHER_API: &str = "https://other.api";

fn chain_config(max_depth: u32) -> ServerConfig {
    let mut cfg = config(vec![
        ClientSpec {
            token_lifetime: Some(600),
            ..exchange_client(
                "orchestrator",
                "orch-secret",
                &["a", "b", "c"],
                &[SUB_API, TOOL_API],
                &["sub-agent"],
            )
        },
        ClientSpec {
            token_lifetime: Some(300),
            grant_types: Some(vec![TOKEN_EXCHANGE.into()]),
            ..exchange_client(
                "sub-agent",
                "sub-secret",
                &["a", "b"],
                &[SUB_API, TOOL_API],
                &["tool", "orchestrator"],
            )
        },
        ClientSpec {
            token_lifetime: Some(3600),
            ..exchange_client("tool", "tool-secret", &["a"], &[TOOL_API], &[])
        },
        exchange_client("outsider", "out-secret", &["a", "b", "c"], &[SUB_API, TOOL_API], &[]),
        exchange_client("auditor", "aud-secret", &["a"], &[TOOL_API], &[]),
        exchange_client("no-scope-overlap", "nso-secret", &["z"], &[TOOL_API], &[]),
        exchange_client("no-aud-overlap", "nao-secret", &["a"], &[OTHER_API], &[]),
        secret_client("cc-only", "cc-secret", &["a"]),
    ]);
    cfg.token_exchange.max_delegation_depth = max_depth;
    cfg
}

fn claims(token: &str) -> Value {
    decode_jwt(token).1
}

/// The orchestrator's token for both APIs with scopes a b c.
async fn orchestrator_token(ts: &TestServer) -> String {
    ts.token(
        "orchestrator",
        "orch-secret",
        &[("resource", SUB_API), ("resource", TOOL_API)],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegation_chain_narrows_at_every_step_and_keeps_every_actor() {
    let ts = TestServer::start_with_clock(chain_config(3), manual_clock()).await;
    let t0 = orchestrator_token(&ts).await;
    let c0 = claims(&t0);
    assert_eq!(c0["scope"], "a b c");
    assert_eq!(c0["aud"], json!([SUB_API, TOOL_API]));
    assert_eq!(c0["may_act"], json!({"sub": "sub-agent"}));
    assert!(c0.get("act").is_none());

    // The sub-agent exchanges it for fewer scopes and one audience.
    ts.advance(10);
    let r = ts
        .exchange_request(
            "sub-agent",
            "sub-secret",
            &t0,
            &[("scope", "a b"), ("audience", TOOL_API)],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["issued_token_type"], ACCESS_TOKEN_TYPE);
    assert_eq!(r.json["token_type"], "Bearer");
    assert_eq!(r.json["scope"], "a b");
    assert_eq!(r.json["expires_in"], 300);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let t1 = r.json["access_token"].as_str().unwrap().to_string();
    let (h1, c1) = decode_jwt(&t1);
    assert_eq!(h1["typ"], "at+jwt");
    assert_eq!(c1["sub"], "orchestrator");
    assert_eq!(c1["client_id"], "sub-agent");
    assert_eq!(c1["act"], json!({"sub": "sub-agent", "client_id": "sub-agent"}));
    assert_eq!(c1["scope"], "a b");
    assert_eq!(c1["aud"], TOOL_API);
    assert_eq!(c1["iat"].as_i64().unwrap(), ts.now_s());
    assert_eq!(c1["exp"].as_i64().unwrap(), ts.now_s() + 300);
    assert!(c1["exp"].as_i64() <= c0["exp"].as_i64());
    assert_eq!(c1["may_act"], json!({"sub": ["tool", "orchestrator"]}));
    assert_eq!(c1["iss"], c0["iss"]);
    assert_ne!(c1["jti"], c0["jti"]);

    // The tool exchanges that, asking for nothing: what both allow. Its lifetime (1 h) is longer
    // than the subject's remaining one, so the subject's exp is kept.
    ts.advance(20);
    let r = ts.exchange_request("tool", "tool-secret", &t1, &[]).await;
    assert_eq!(r.status, 200, "{r:?}");
    let t2 = r.json["access_token"].as_str().unwrap().to_string();
    let c2 = claims(&t2);
    assert_eq!(c2["sub"], "orchestrator");
    assert_eq!(c2["client_id"], "tool");
    assert_eq!(
        c2["act"],
        json!({"sub": "tool", "client_id": "tool", "act": {"sub": "sub-agent", "client_id": "sub-agent"}})
    );
    assert_eq!(c2["scope"], "a");
    assert_eq!(c2["aud"], TOOL_API);
    assert_eq!(c2["exp"], c1["exp"], "exp is capped at the subject's");
    assert_eq!(
        r.json["expires_in"].as_i64().unwrap(),
        c1["exp"].as_i64().unwrap() - ts.now_s()
    );
    assert!(c2.get("may_act").is_none(), "the tool names no may_act");

    // A verifier for the tool API accepts it; introspection shows the chain.
    let v = ts.verifier(TOOL_API);
    let verified = v.verify(&t2).await.expect("the tool API accepts the delegated token");
    assert_eq!(verified.subject(), Some("orchestrator"));
    let i = ts.introspect("tool", "tool-secret", &t2).await;
    assert_eq!(i.json["active"], true, "{i:?}");
    assert_eq!(i.json["act"], c2["act"]);
    assert_eq!(i.json["client_id"], "tool");
    let i = ts.introspect("tool", "tool-secret", &t1).await;
    assert_eq!(i.json["may_act"], c1["may_act"]);
    assert_eq!(i.json["act"], c1["act"]);

    // A JWT may be requested; the answer says what was issued.
    let r = ts
        .exchange_request(
            "sub-agent",
            "sub-secret",
            &t0,
            &[
                ("requested_token_type", JWT_TOKEN_TYPE),
                ("subject_token_type", ACCESS_TOKEN_TYPE),
            ],
        )
        .await;
    r.assert_oauth_error(400, "invalid_request"); // subject_token_type twice
    let r = ts
        .token_request(
            Some(("sub-agent", "sub-secret")),
            &[
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", &t0),
                ("subject_token_type", JWT_TOKEN_TYPE),
                ("requested_token_type", JWT_TOKEN_TYPE),
                ("audience", SUB_API),
                ("audience", TOOL_API),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["issued_token_type"], JWT_TOKEN_TYPE);
    let c = claims(r.json["access_token"].as_str().unwrap());
    assert_eq!(
        c["aud"],
        json!([SUB_API, TOOL_API]),
        "audience may repeat in an exchange"
    );
    assert_eq!(
        c["scope"], "a b",
        "no scope asked: the subject's that the actor may get"
    );

    // Provenance, not request shape: exchanging a delegated token, even by its own subject
    // client, keeps and extends the chain; nothing ever drops act.
    let r = ts.exchange_request("orchestrator", "orch-secret", &t1, &[]).await;
    assert_eq!(r.status, 200, "{r:?}");
    let c = claims(r.json["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], "orchestrator");
    assert_eq!(c["client_id"], "orchestrator");
    assert_eq!(
        c["act"],
        json!({"sub": "orchestrator", "client_id": "orchestrator", "act": {"sub": "sub-agent", "client_id": "sub-agent"}})
    );
    assert_eq!(c["may_act"], json!({"sub": "sub-agent"}));

    // An actor_token of the requesting client names the actor by its sub.
    let own = ts.token("orchestrator", "orch-secret", &[]).await;
    let r = ts
        .exchange_request(
            "orchestrator",
            "orch-secret",
            &t1,
            &[("actor_token", &own), ("actor_token_type", ACCESS_TOKEN_TYPE)],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        claims(r.json["access_token"].as_str().unwrap())["act"]["sub"],
        "orchestrator"
    );

    // The audit log: one line per exchange with the chain (current actor first), ids only.
    let lines = ts.audit_events("token_exchange");
    let tool_line = lines
        .iter()
        .find(|l| l["client_id"] == "tool")
        .expect("the tool's exchange");
    assert_eq!(tool_line["outcome"], "success");
    assert_eq!(tool_line["result"], "issued");
    assert_eq!(tool_line["sub"], "orchestrator");
    assert_eq!(tool_line["chain"], json!(["tool", "sub-agent"]));
    assert_eq!(tool_line["jti"], c2["jti"]);
    assert_eq!(tool_line["subject_jti"], c1["jti"]);
    assert_eq!(tool_line["scope"], "a");
    assert_eq!(tool_line["aud"], json!([TOOL_API]));
    assert!(tool_line["expires_in"].as_i64().unwrap() > 0);
    let mut needles: Vec<String> = Vec::new();
    for t in [&t0, &t1, &t2, &own] {
        needles.push(t.clone());
        needles.push(t.rsplit('.').next().unwrap().to_string());
    }
    assert_audit_clean(&ts, &needles.iter().map(String::as_str).collect::<Vec<_>>());
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_widening_is_refused_with_the_right_error() {
    let ts = TestServer::start_with_clock(chain_config(3), manual_clock()).await;
    let t0 = orchestrator_token(&ts).await;
    let t1 = ts
        .exchange(
            "sub-agent",
            "sub-secret",
            &t0,
            &[("scope", "a b"), ("audience", TOOL_API)],
        )
        .await;

    // Scope: outside the subject's, or outside the actor's: invalid_scope naming it.
    let r = ts
        .exchange_request("sub-agent", "sub-secret", &t0, &[("scope", "a d")])
        .await;
    r.assert_oauth_error(400, "invalid_scope");
    assert!(
        r.description().contains("\"d\"") && r.description().contains("subject"),
        "{r:?}"
    );
    let r = ts
        .exchange_request("sub-agent", "sub-secret", &t0, &[("scope", "a c")])
        .await;
    r.assert_oauth_error(400, "invalid_scope");
    assert!(
        r.description().contains("\"c\"") && r.description().contains("client"),
        "{r:?}"
    );
    let r = ts.exchange_request("tool", "tool-secret", &t1, &[("scope", "b")]).await;
    r.assert_oauth_error(400, "invalid_scope");
    assert!(r.description().contains("\"b\""), "{r:?}");
    // A subject token without may_act, that anyone may exchange.
    let o0 = ts.token("outsider", "out-secret", &[]).await;
    let r = ts.exchange_request("no-scope-overlap", "nso-secret", &o0, &[]).await;
    r.assert_oauth_error(400, "invalid_scope");
    assert!(r.description().contains("nothing to grant"), "{r:?}");

    // Audience: outside the subject's or the actor's: invalid_target naming it.
    for (param, value) in [("audience", OTHER_API), ("resource", OTHER_API)] {
        let r = ts
            .exchange_request("sub-agent", "sub-secret", &t0, &[(param, value)])
            .await;
        r.assert_oauth_error(400, "invalid_target");
        assert!(r.description().contains(OTHER_API), "{r:?}");
    }
    let r = ts
        .exchange_request("tool", "tool-secret", &t1, &[("audience", SUB_API)])
        .await;
    r.assert_oauth_error(400, "invalid_target");
    assert!(r.description().contains("subject token"), "{r:?}");
    let r = ts.exchange_request("tool", "tool-secret", &t0, &[]).await;
    r.assert_oauth_error(400, "invalid_grant"); // t0's may_act names only the sub-agent
    let r = ts.exchange_request("no-aud-overlap", "nao-secret", &o0, &[]).await;
    r.assert_oauth_error(400, "invalid_target");
    assert!(r.description().contains("no audience to grant"), "{r:?}");

    // may_act skipped: a client the subject token does not name.
    let r = ts.exchange_request("outsider", "out-secret", &t0, &[]).await;
    r.assert_oauth_error(400, "invalid_grant");
    assert!(r.description().contains("may_act does not name \"outsider\""), "{r:?}");

    // A cycle: an actor already in the chain.
    let t2 = ts.exchange("tool", "tool-secret", &t1, &[]).await;
    let r = ts.exchange_request("sub-agent", "sub-secret", &t2, &[]).await;
    r.assert_oauth_error(400, "invalid_grant");
    assert!(r.description().contains("\"sub-agent\" already acts"), "{r:?}");

    // Parameters.
    let bad_params: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
        ],
        vec![("grant_type", TOKEN_EXCHANGE), ("subject_token", &t0)],
        vec![
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", &t0),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:id_token"),
        ],
        vec![
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", &t0),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token"),
        ],
        vec![
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", &t0),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("actor_token", &t1),
        ],
        vec![
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", &t0),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("actor_token_type", ACCESS_TOKEN_TYPE),
        ],
    ];
    for pairs in &bad_params {
        let r = ts.token_request(Some(("sub-agent", "sub-secret")), pairs).await;
        r.assert_oauth_error(400, "invalid_request");
    }
    let r = ts
        .exchange_request("sub-agent", "sub-secret", &t0, &[("requested_token_type", "x")])
        .await;
    r.assert_oauth_error(400, "invalid_request");
    assert!(
        r.description().contains(ACCESS_TOKEN_TYPE) && r.description().contains(JWT_TOKEN_TYPE),
        "{r:?}"
    );
    // Someone else's actor_token.
    let r = ts
        .exchange_request(
            "sub-agent",
            "sub-secret",
            &t0,
            &[("actor_token", &t0), ("actor_token_type", ACCESS_TOKEN_TYPE)],
        )
        .await;
    r.assert_oauth_error(400, "invalid_request");
    assert!(r.description().contains("not issued to the requesting client"), "{r:?}");
    let r = ts
        .exchange_request(
            "sub-agent",
            "sub-secret",
            &t0,
            &[("actor_token", "not-a-token"), ("actor_token_type", ACCESS_TOKEN_TYPE)],
        )
        .await;
    r.assert_oauth_error(400, "invalid_request");

    // Subject tokens that are not ours, or not tokens: invalid_grant, never echoed.
    let foreign = SigningKey::generate(Alg::ES256, None)
        .unwrap()
        .sign(
            Some("at+jwt"),
            &Default::default(),
            &json!({"iss": ts.issuer(), "sub": "orchestrator", "aud": TOOL_API, "exp": ts.now_s() + 60, "scope": "a"}),
        )
        .unwrap();
    for subject in ["garbage", foreign.as_str()] {
        let r = ts.exchange_request("sub-agent", "sub-secret", subject, &[]).await;
        r.assert_oauth_error(400, "invalid_grant");
        assert!(!r.text().contains(subject), "{r:?}");
    }
    // A client-credentials-only client.
    ts.exchange_request("cc-only", "cc-secret", &t0, &[])
        .await
        .assert_oauth_error(400, "unauthorized_client");

    // Failures are audited with error and reason, and no token.
    let failures: Vec<Value> = ts
        .audit_events("token_exchange")
        .into_iter()
        .filter(|l| l["outcome"] == "failure")
        .collect();
    assert!(failures.len() >= 20, "{failures:?}");
    assert!(failures
        .iter()
        .all(|l| l["error"].is_string() && l["reason"].is_string()));
    assert!(failures
        .iter()
        .any(|l| l["error"] == "invalid_target" && l["client_id"] == "tool"));
    assert_audit_clean(&ts, &[&t0, &t1, &t2, &o0, &foreign]);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delegation_depth_is_limited() {
    let ts = TestServer::start(chain_config(2)).await;
    let t0 = orchestrator_token(&ts).await;
    let t1 = ts
        .exchange("sub-agent", "sub-secret", &t0, &[("audience", TOOL_API)])
        .await;
    let t2 = ts.exchange("tool", "tool-secret", &t1, &[]).await;
    assert_eq!(
        claims(&t2)["act"]["act"]["client_id"],
        "sub-agent",
        "depth 2 is allowed"
    );
    let r = ts.exchange_request("auditor", "aud-secret", &t2, &[]).await;
    r.assert_oauth_error(400, "invalid_grant");
    assert!(r.description().contains("at most 2"), "{r:?}");
    let m = ts.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(m.json["token_exchange_max_delegation_depth"], 2);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_token_deactivates_every_token_exchanged_from_it() {
    let ts = TestServer::start(chain_config(3)).await;
    let t0 = orchestrator_token(&ts).await;
    let t1 = ts
        .exchange("sub-agent", "sub-secret", &t0, &[("audience", TOOL_API)])
        .await;
    let t2 = ts.exchange("tool", "tool-secret", &t1, &[]).await;
    let active = |t: String| {
        let ts = &ts;
        async move { ts.introspect("auditor", "aud-secret", &t).await.json["active"] == true }
    };
    assert!(active(t2.clone()).await);

    // A client revokes only tokens issued to it.
    ts.revoke("sub-agent", "sub-secret", &t0)
        .await
        .assert_oauth_error(400, "unauthorized_client");
    // The sub-agent revokes its token: the tool's goes with it, the orchestrator's stays.
    assert_eq!(ts.revoke("sub-agent", "sub-secret", &t1).await.status, 200);
    assert!(!active(t1.clone()).await);
    assert!(!active(t2.clone()).await);
    assert!(active(t0.clone()).await);
    let r = ts.exchange_request("tool", "tool-secret", &t1, &[]).await;
    r.assert_oauth_error(400, "invalid_grant");
    assert!(r.description().contains("not active"), "{r:?}");
    let r = ts.exchange_request("auditor", "aud-secret", &t2, &[]).await;
    r.assert_oauth_error(400, "invalid_grant");

    // Revoking the root deactivates a fresh chain from it.
    let u1 = ts
        .exchange("sub-agent", "sub-secret", &t0, &[("audience", TOOL_API)])
        .await;
    let u2 = ts.exchange("tool", "tool-secret", &u1, &[]).await;
    assert!(active(u2.clone()).await);
    assert_eq!(ts.revoke("orchestrator", "orch-secret", &t0).await.status, 200);
    for t in [&t0, &u1, &u2] {
        assert!(!active(t.clone()).await);
    }
    ts.exchange_request("tool", "tool-secret", &u1, &[])
        .await
        .assert_oauth_error(400, "invalid_grant");
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_subject_token_cannot_be_exchanged() {
    let ts = TestServer::start_with_clock(chain_config(3), manual_clock()).await;
    let t0 = orchestrator_token(&ts).await;
    let t1 = ts
        .exchange("sub-agent", "sub-secret", &t0, &[("audience", TOOL_API)])
        .await;
    // The tool's 1 h lifetime is capped at t1's 300 s.
    ts.advance(299);
    let t2 = ts.exchange("tool", "tool-secret", &t1, &[]).await;
    assert_eq!(claims(&t2)["exp"], claims(&t1)["exp"]);
    ts.advance(1);
    let r = ts.exchange_request("tool", "tool-secret", &t1, &[]).await;
    r.assert_oauth_error(400, "invalid_grant");
    assert!(r.description().contains("expired"), "{r:?}");
    assert_eq!(ts.introspect("tool", "tool-secret", &t2).await.json["active"], false);
    // The orchestrator's token (600 s) is still good.
    assert!(ts.exchange_request("sub-agent", "sub-secret", &t0, &[]).await.status == 200);
    ts.shutdown().await;
}
