//! DPoP (RFC 9449) at the token endpoint: a proof binds the token to its key (`cnf.jkt`,
//! `token_type: DPoP`, in the token, the response and introspection); a client registered with
//! `dpop_bound_access_tokens` must send one; bad and replayed proofs are `invalid_dpop_proof`;
//! server nonces (`use_dpop_nonce`, `DPoP-Nonce`, renewal, expiry on the server's clock); the
//! metadata's algorithms; token exchange binds to the exchange request's key only.
mod common;

use authsec_native::http::{HttpRequest, Method};
use authsec_native::*;
use authsec_server::{ClientSpec, ServerConfig};
use common::*;
use serde_json::{json, Value};

/// A DPoP key with the proofs it makes.
struct Prover {
    key: SigningKey,
    jti: std::cell::Cell<u32>,
}

impl Prover {
    fn new() -> Prover {
        Prover {
            key: SigningKey::generate(Alg::ES256, None).unwrap(),
            jti: std::cell::Cell::new(0),
        }
    }

    fn thumbprint(&self) -> String {
        KeySet::from_jwk_value(&self.key.public_jwk()).unwrap().keys()[0]
            .public_key()
            .thumbprint()
    }

    /// A proof for POST `htu` at `iat`, with a fresh jti, `nonce` if given, and `change` applied
    /// to the claims (`null` removes one).
    fn proof_with(&self, htu: &str, iat: i64, nonce: Option<&str>, change: Value) -> String {
        self.jti.set(self.jti.get() + 1);
        let mut claims =
            json!({"jti": format!("proof-{}-{}", iat, self.jti.get()), "htm": "POST", "htu": htu, "iat": iat});
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.public_jwk()});
        self.key.sign_raw(&header, &claims).unwrap()
    }

    fn proof(&self, ts: &TestServer, nonce: Option<&str>) -> String {
        self.proof_with(&ts.server.token_endpoint(), ts.now_s(), nonce, json!({}))
    }
}

/// A token request with Basic auth and these DPoP headers.
async fn dpop_request(ts: &TestServer, id: &str, secret: &str, proofs: &[&str], pairs: &[(&str, &str)]) -> Resp {
    let mut headers = vec![
        (
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ),
        ("authorization".to_string(), basic_header(id, secret)),
    ];
    for p in proofs {
        headers.push(("DPoP".to_string(), p.to_string()));
    }
    let body = form(pairs);
    if proofs.len() > 1 {
        // Raw HTTP, so that both headers surely go out.
        return raw_request(ts.addr(), "POST", "/oauth/token", &headers, body.as_bytes()).await;
    }
    send(HttpRequest {
        method: Method::Post,
        url: ts.token_url(),
        headers,
        body: body.into_bytes(),
    })
    .await
}

async fn cc(ts: &TestServer, id: &str, secret: &str, proofs: &[&str]) -> Resp {
    dpop_request(ts, id, secret, proofs, &[("grant_type", "client_credentials")]).await
}

fn claims(token: &Value) -> Value {
    decode_jwt(token.as_str().expect("access_token")).1
}

fn dpop_config(clients: Vec<ClientSpec>) -> ServerConfig {
    config(clients)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_binds_the_token_to_its_key_and_introspection_shows_it() {
    let ts = TestServer::start(dpop_config(vec![secret_client("svc", "svc-secret", &["read"])])).await;
    let prover = Prover::new();

    let r = cc(&ts, "svc", "svc-secret", &[&prover.proof(&ts, None)]).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["token_type"], "DPoP");
    let c = claims(&r.json["access_token"]);
    assert_eq!(c["cnf"], json!({"jkt": prover.thumbprint()}));
    let events = ts.audit_events("token");
    assert_eq!(events.last().unwrap()["token_type"], "DPoP", "{events:?}");

    let i = ts
        .introspect("svc", "svc-secret", r.json["access_token"].as_str().unwrap())
        .await;
    assert_eq!(i.status, 200, "{i:?}");
    assert_eq!(i.json["active"], true);
    assert_eq!(i.json["token_type"], "DPoP");
    assert_eq!(i.json["cnf"]["jkt"], prover.thumbprint());

    // Without a proof: a bearer token, as before, with no cnf.
    let r = cc(&ts, "svc", "svc-secret", &[]).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["token_type"], "Bearer");
    assert!(claims(&r.json["access_token"]).get("cnf").is_none());
    let i = ts
        .introspect("svc", "svc-secret", r.json["access_token"].as_str().unwrap())
        .await;
    assert_eq!(i.json["token_type"], "Bearer");
    assert!(i.json.get("cnf").is_none(), "{i:?}");

    // The htu may carry a query (ignored) and differ in case and default port.
    let loud = ts.server.token_endpoint().replace("http://", "HTTP://") + "?x=1";
    let p = prover.proof_with(&loud, ts.now_s(), None, json!({}));
    assert_eq!(cc(&ts, "svc", "svc-secret", &[&p]).await.status, 200);

    // The metadata lists every asymmetric algorithm the core verifies, and no HMAC.
    let m = ts.get("/.well-known/oauth-authorization-server").await;
    let algs: Vec<&str> = m.json["dpop_signing_alg_values_supported"]
        .as_array()
        .expect("dpop_signing_alg_values_supported")
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for a in ["ES256", "ES384", "PS256", "RS256", "EdDSA"] {
        assert!(algs.contains(&a), "{a} in {algs:?}");
    }
    assert!(!algs.iter().any(|a| a.starts_with("HS") || *a == "none"), "{algs:?}");
    // Without TLS the server offers no RFC 8705 features.
    assert!(m.json.get("mtls_endpoint_aliases").is_none());
    assert!(m.json.get("tls_client_certificate_bound_access_tokens").is_none());
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dpop_bound_client_must_send_a_proof() {
    let cfg = ServerConfig {
        admin_token: Some("adm".into()),
        ..dpop_config(vec![ClientSpec {
            dpop_bound_access_tokens: true,
            ..secret_client("bound", "bound-secret", &["read"])
        }])
    };
    let ts = TestServer::start(cfg).await;
    let prover = Prover::new();
    let r = cc(&ts, "bound", "bound-secret", &[]).await;
    r.assert_oauth_error(400, "invalid_dpop_proof");
    assert!(r.description().contains("must send a DPoP proof"), "{r:?}");
    let r = cc(&ts, "bound", "bound-secret", &[&prover.proof(&ts, None)]).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["token_type"], "DPoP");

    // The admin API creates such clients too, shows the field, and persists it.
    let created = ts
        .admin(
            "POST",
            "/admin/clients",
            Some("adm"),
            Some(json!({"client_id": "made", "client_secret": "made-secret", "dpop_bound_access_tokens": true})),
        )
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.json["dpop_bound_access_tokens"], true);
    cc(&ts, "made", "made-secret", &[])
        .await
        .assert_oauth_error(400, "invalid_dpop_proof");
    assert_eq!(
        cc(&ts, "made", "made-secret", &[&prover.proof(&ts, None)]).await.status,
        200
    );
    let stored = ts.server.state().store.load_clients().unwrap();
    assert!(stored
        .iter()
        .any(|c| c.client_id == "made" && c.dpop_bound_access_tokens));
    // And PATCH turns it off again.
    let patched = ts
        .admin(
            "PATCH",
            "/admin/clients/made",
            Some("adm"),
            Some(json!({"dpop_bound_access_tokens": false})),
        )
        .await;
    assert_eq!(patched.status, 200, "{patched:?}");
    assert_eq!(patched.json["dpop_bound_access_tokens"], false);
    let r = cc(&ts, "made", "made-secret", &[]).await;
    assert_eq!(
        (r.status, r.json["token_type"].as_str()),
        (200, Some("Bearer")),
        "{r:?}"
    );
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_and_replayed_proofs_are_invalid_dpop_proof() {
    let ts = TestServer::start(dpop_config(vec![secret_client("svc", "svc-secret", &["read"])])).await;
    let prover = Prover::new();
    let htu = ts.server.token_endpoint();
    let now = ts.now_s();
    let mut private = prover.key.public_jwk();
    private["d"] = json!("AAAA");
    let private_proof = prover
        .key
        .sign_raw(
            &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": private}),
            &json!({"jti": "p", "htm": "POST", "htu": htu, "iat": now}),
        )
        .unwrap();
    let cases: Vec<(&str, String)> = vec![
        ("wrong htm", prover.proof_with(&htu, now, None, json!({"htm": "GET"}))),
        (
            "other htu",
            prover.proof_with(&ts.url("/oauth/introspect"), now, None, json!({})),
        ),
        (
            "htu of another origin",
            prover.proof_with("https://as.example/oauth/token", now, None, json!({})),
        ),
        ("old iat", prover.proof_with(&htu, now - 600, None, json!({}))),
        ("future iat", prover.proof_with(&htu, now + 600, None, json!({}))),
        ("no jti", prover.proof_with(&htu, now, None, json!({"jti": null}))),
        ("private jwk", private_proof),
        ("not a JWS", "not-a-proof".into()),
    ];
    for (what, p) in &cases {
        let r = cc(&ts, "svc", "svc-secret", &[p]).await;
        r.assert_oauth_error(400, "invalid_dpop_proof");
        assert!(!r.description().is_empty(), "{what}: {r:?}");
    }
    // Two DPoP headers, even two good proofs.
    let (a, b) = (prover.proof(&ts, None), prover.proof(&ts, None));
    cc(&ts, "svc", "svc-secret", &[&a, &b])
        .await
        .assert_oauth_error(400, "invalid_dpop_proof");
    // A proof is accepted once.
    let once = prover.proof(&ts, None);
    assert_eq!(cc(&ts, "svc", "svc-secret", &[&once]).await.status, 200);
    let r = cc(&ts, "svc", "svc-secret", &[&once]).await;
    r.assert_oauth_error(400, "invalid_dpop_proof");
    assert!(r.description().contains("already used"), "{r:?}");
    // Every refusal was audited, none issued a token.
    let failures = ts
        .audit_events("token")
        .into_iter()
        .filter(|e| e["error"] == "invalid_dpop_proof")
        .count();
    assert_eq!(failures, cases.len() + 2);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nonce_dance_on_the_servers_clock() {
    let mut cfg = dpop_config(vec![secret_client("svc", "svc-secret", &["read"])]);
    cfg.dpop.nonce = true;
    cfg.dpop.nonce_lifetime = 60;
    let ts = TestServer::start_with_clock(cfg, manual_clock()).await;
    let prover = Prover::new();
    let nonce_of = |r: &Resp| r.header("dpop-nonce").map(str::to_string);

    // No nonce: refused, with one to use.
    let r = cc(&ts, "svc", "svc-secret", &[&prover.proof(&ts, None)]).await;
    r.assert_oauth_error(400, "use_dpop_nonce");
    let first = nonce_of(&r).expect("DPoP-Nonce on use_dpop_nonce");
    // With it: a DPoP token, and no new nonce while it is fresh.
    let r = cc(&ts, "svc", "svc-secret", &[&prover.proof(&ts, Some(&first))]).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["token_type"], "DPoP");
    assert_eq!(nonce_of(&r), None);
    // A nonce that is not the server's: refused with a new one.
    let r = cc(&ts, "svc", "svc-secret", &[&prover.proof(&ts, Some("made-up"))]).await;
    r.assert_oauth_error(400, "use_dpop_nonce");
    assert!(nonce_of(&r).is_some());

    // Past half its lifetime the nonce still works and a fresh one comes with the answer.
    ts.advance(35);
    let r = cc(&ts, "svc", "svc-secret", &[&prover.proof(&ts, Some(&first))]).await;
    assert_eq!(r.status, 200, "{r:?}");
    let renewed = nonce_of(&r).expect("a renewed DPoP-Nonce on the 200");
    assert_ne!(renewed, first);

    // Past its lifetime the first nonce is stale: refused again, with a new nonce that works.
    ts.advance(30);
    let r = cc(&ts, "svc", "svc-secret", &[&prover.proof(&ts, Some(&first))]).await;
    r.assert_oauth_error(400, "use_dpop_nonce");
    let fresh = nonce_of(&r).expect("a new DPoP-Nonce");
    assert_ne!(fresh, first);
    let r = cc(&ts, "svc", "svc-secret", &[&prover.proof(&ts, Some(&fresh))]).await;
    assert_eq!(r.status, 200, "{r:?}");
    // The renewed one is still within its own lifetime.
    let r = cc(&ts, "svc", "svc-secret", &[&prover.proof(&ts, Some(&renewed))]).await;
    assert_eq!(r.status, 200, "{r:?}");
    ts.shutdown().await;
}

#[test]
fn the_dpop_settings_read_from_yaml() {
    let none = |_: &str| None;
    let cfg = ServerConfig::from_yaml_str("dpop:\n  nonce: true\n  nonce_lifetime: 30\n", none).unwrap();
    assert!(cfg.dpop.nonce);
    assert_eq!(cfg.dpop.nonce_lifetime, 30);
    let cfg = ServerConfig::from_yaml_str("issuer: https://x\n", none).unwrap();
    assert!(!cfg.dpop.nonce);
    assert_eq!(cfg.dpop.nonce_lifetime, 60);
    assert!(ServerConfig::from_yaml_str("dpop:\n  nonce_lifetime: 0\n", none).is_err());
    assert!(ServerConfig::from_yaml_str("dpop:\n  nonces: true\n", none).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_exchange_binds_to_the_exchange_requests_key() {
    const API: &str = "https://api.example";
    let ts = TestServer::start(dpop_config(vec![
        exchange_client("orchestrator", "orch-secret", &["a"], &[API], &["agent"]),
        exchange_client("agent", "agent-secret", &["a"], &[API], &[]),
    ]))
    .await;
    let orchestrator_key = Prover::new();
    let agent_key = Prover::new();
    let r = cc(
        &ts,
        "orchestrator",
        "orch-secret",
        &[&orchestrator_key.proof(&ts, None)],
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let subject = r.json["access_token"].as_str().unwrap().to_string();
    let exchange_pairs = [
        ("grant_type", TOKEN_EXCHANGE),
        ("subject_token", subject.as_str()),
        ("subject_token_type", ACCESS_TOKEN_TYPE),
    ];

    // The exchange request's proof binds the new token to the agent's key.
    let r = dpop_request(
        &ts,
        "agent",
        "agent-secret",
        &[&agent_key.proof(&ts, None)],
        &exchange_pairs,
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["token_type"], "DPoP");
    assert_eq!(r.json["issued_token_type"], ACCESS_TOKEN_TYPE);
    let c = claims(&r.json["access_token"]);
    assert_eq!(c["cnf"], json!({"jkt": agent_key.thumbprint()}));
    assert_eq!(c["act"]["client_id"], "agent", "the act chain is as without DPoP");
    assert_eq!(c["sub"], "orchestrator");

    // Without a proof the subject's binding does not carry over: a bearer token.
    let r = dpop_request(&ts, "agent", "agent-secret", &[], &exchange_pairs).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["token_type"], "Bearer");
    assert!(claims(&r.json["access_token"]).get("cnf").is_none());

    // A bad proof on an exchange is refused like on client credentials.
    let stale = agent_key.proof_with(&ts.server.token_endpoint(), ts.now_s() - 900, None, json!({}));
    dpop_request(&ts, "agent", "agent-secret", &[&stale], &exchange_pairs)
        .await
        .assert_oauth_error(400, "invalid_dpop_proof");
    ts.shutdown().await;
}
