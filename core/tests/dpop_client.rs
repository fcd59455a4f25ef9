//! The client side of DPoP: proofs on token requests, the token endpoint's nonce and its one
//! retry, the downgrade refusal, the thumbprint in the cache key, and resource requests
//! (`authorize`, `on_resource_response`) against the core's own resource-side checks.
#![cfg(feature = "aws_lc_rs")]

mod support;
use authsec_core::dpop::{verify_proof, DpopPolicy, NonceCheck, NonceIssuer, ProofRequest};
use support::*;

fn dpop_cfg() -> ClientConfig {
    ClientConfig { dpop: true, ..cfg() }
}

fn dpop_token(tok: &str) -> HttpResponse {
    HttpResponse::json(
        200,
        &json!({"access_token": tok, "token_type": "DPoP", "expires_in": 600}),
    )
}

/// The token request's proof, checked as the server checks it.
fn token_proof(req: &HttpRequest, now_ms: i64) -> authsec_core::dpop::VerifiedProof {
    let proof = req.header("dpop").expect("a DPoP header");
    let check = ProofRequest {
        method: "POST",
        uri: TOKEN_URL,
        access_token: None,
        jkt: None,
    };
    verify_proof(proof, &check, &DpopPolicy::default(), now_ms).unwrap()
}

#[tokio::test]
async fn token_requests_carry_a_proof_and_the_token_must_be_dpop() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, n| Ok(dpop_token(&format!("tok-{n}"))));
    let client = client_with(dpop_cfg(), &fake, RetryPolicy::default());
    let jkt = client.dpop().unwrap().key().thumbprint().to_string();
    let t = client.get_token().await.unwrap();
    assert_eq!((tok(&t), t.token_type.as_str()), ("tok-0", "DPoP"));
    let proof = token_proof(&fake.request(0), T0);
    assert_eq!(proof.jkt, jkt);
    assert_eq!(proof.nonce, None);
    // The thumbprint is part of every cache key.
    assert_eq!(client.default_params().dpop_jkt.as_deref(), Some(jkt.as_str()));

    // A server that ignores the proof and answers Bearer: refused, not used as Bearer.
    fake.set_handler(|_, _| Ok(token_json("bearer-tok", 600)));
    let client = client_with(dpop_cfg(), &fake, RetryPolicy::default());
    let e = client.get_token().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidResponse);
    assert!(e.message().contains("downgrade"), "{e}");
    // And a DPoP token for a client without a key.
    fake.set_handler(|_, _| Ok(dpop_token("dpop-tok")));
    let e = client_with(cfg(), &fake, RetryPolicy::default())
        .get_token()
        .await
        .unwrap_err();
    assert!(e.message().contains("without a DPoP key"), "{e}");
}

#[tokio::test]
async fn the_token_endpoints_nonce_is_used_after_exactly_one_retry() {
    let clock = ManualClock::new(T0);
    let issuer = Arc::new(NonceIssuer::new(&[1u8; 32], Duration::from_secs(60)).unwrap());
    let (i, c) = (issuer.clone(), clock.clone());
    let fake = Fake::new(&clock, move |req, _| {
        let proof = token_proof(req, c.now_ms());
        Ok(match i.check(proof.nonce.as_deref(), c.now_ms()) {
            NonceCheck::Refused(new) => HttpResponse::new(
                400,
                vec![
                    ("content-type".into(), "application/json".into()),
                    ("DPoP-Nonce".into(), new),
                ],
                r#"{"error":"use_dpop_nonce","error_description":"send the nonce"}"#,
            ),
            _ => dpop_token("tok"),
        })
    });
    // private_key_jwt: the assertion is built anew for the retry.
    let key = SigningKey::generate(Alg::ES256, None).unwrap();
    let cfg = ClientConfig {
        auth_method: AuthMethod::PrivateKeyJwt,
        client_secret: None,
        private_key: Some(Secret::new(key.to_pem().expose())),
        ..dpop_cfg()
    };
    let client = client_with(cfg, &fake, RetryPolicy::default());
    assert_eq!(tok(&client.get_token().await.unwrap()), "tok");
    assert_eq!(fake.count(), 2);
    let assertion = |i: usize| {
        let body = String::from_utf8(fake.request(i).body).unwrap();
        body.split('&')
            .find(|p| p.starts_with("client_assertion="))
            .unwrap()
            .to_string()
    };
    assert_ne!(assertion(0), assertion(1));
    assert_eq!(client.client_auth().method(), "private_key_jwt");
    // The next token request sends the nonce at once.
    client.invalidate();
    client.get_token().await.unwrap();
    assert_eq!(fake.count(), 3);

    // A server that asks again and again gets one retry, then the error.
    fake.set_handler(|_, n| {
        Ok(HttpResponse::new(
            400,
            vec![("DPoP-Nonce".into(), format!("nonce-{n}"))],
            r#"{"error":"use_dpop_nonce"}"#,
        ))
    });
    let client = client_with(dpop_cfg(), &fake, RetryPolicy::default());
    let e = client.get_token().await.unwrap_err();
    assert_eq!(e.oauth_error(), Some("use_dpop_nonce"));
    assert_eq!(fake.count(), 5);
    // Without a new nonce, no retry at all.
    fake.set_handler(|_, _| Ok(HttpResponse::new(400, vec![], r#"{"error":"use_dpop_nonce"}"#)));
    let client = client_with(dpop_cfg(), &fake, RetryPolicy::default());
    assert!(client.get_token().await.is_err());
    assert_eq!(fake.count(), 6);
}

#[tokio::test]
async fn resource_requests_prove_the_key_and_follow_the_resources_nonce() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, |_, _| Ok(dpop_token("tok")));
    let client = client_with(dpop_cfg(), &fake, RetryPolicy::default());
    let token = client.get_token().await.unwrap();
    let url = "https://api.test/mcp?session=1";
    let headers = client.authorize(&token, "POST", url).unwrap();
    assert_eq!(headers[0], ("Authorization".to_string(), "DPoP tok".to_string()));
    let jkt = client.dpop().unwrap().key().thumbprint().to_string();
    let check = ProofRequest {
        method: "POST",
        uri: url,
        access_token: Some("tok"),
        jkt: Some(&jkt),
    };
    let p = verify_proof(&headers[1].1, &check, &DpopPolicy::default(), T0).unwrap();
    assert_eq!((p.nonce, p.htu.as_str()), (None, "https://api.test/mcp"));

    // 401 use_dpop_nonce with a nonce: retry once with the same token (not dropped from the cache).
    let challenge = r#"DPoP error="use_dpop_nonce", error_description="nonce", algs="ES256""#;
    let answer = [("WWW-Authenticate", challenge), ("DPoP-Nonce", "rs-1")];
    assert_eq!(
        client.on_resource_response(url, "tok", 401, &answer, 0),
        Unauthorized::Retry
    );
    assert_eq!(
        client.on_resource_response(
            url,
            "tok",
            401,
            &[("WWW-Authenticate", challenge), ("DPoP-Nonce", "rs-2")],
            1
        ),
        Unauthorized::GiveUp
    );
    assert_eq!(fake.count(), 1);
    assert!(client.try_get_now().is_some(), "the token is kept");
    let headers = client.authorize(&token, "POST", url).unwrap();
    let p = verify_proof(&headers[1].1, &check, &DpopPolicy::default(), T0).unwrap();
    assert_eq!(p.nonce.as_deref(), Some("rs-2"));
    // A nonce on a 200 is used from then on; the token server's nonce is another origin's.
    assert_eq!(
        client.on_resource_response(url, "tok", 200, &[("DPoP-Nonce", "rs-3")], 0),
        Unauthorized::GiveUp
    );
    assert_eq!(
        client.dpop().unwrap().nonce_for("https://api.test/other").as_deref(),
        Some("rs-3")
    );
    assert_eq!(client.dpop().unwrap().nonce_for(TOKEN_URL), None);
    // Any other 401: the usual one retry with a fresh token.
    let other = [("WWW-Authenticate", r#"DPoP error="invalid_token""#)];
    assert_eq!(
        client.on_resource_response(url, "tok", 401, &other, 0),
        Unauthorized::Retry
    );
    assert!(client.try_get_now().is_none(), "the token was dropped");
    // use_dpop_nonce without a new nonce cannot be fixed by retrying with the same token.
    let stale = [("WWW-Authenticate", challenge), ("DPoP-Nonce", "rs-3")];
    assert_eq!(
        client.on_resource_response(url, "tok", 401, &stale, 0),
        Unauthorized::Retry
    );

    // A Bearer client's resource headers carry no proof.
    let fake = Fake::new(&clock, numbered_tokens(600));
    let bearer = client_with(cfg(), &fake, RetryPolicy::default());
    let t = bearer.get_token().await.unwrap();
    assert_eq!(
        bearer.authorize(&t, "GET", url).unwrap(),
        [("Authorization".to_string(), "Bearer tok-0".to_string())]
    );
}

#[test]
fn dpop_and_mtls_settings() {
    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }
    let key = SigningKey::generate(Alg::EdDSA, None).unwrap();
    let c = ClientConfig::from_value(
        &json!({"client_id": "a", "client_secret": "s", "token_url": "https://x/t", "dpopKey": key.to_pem().expose()}),
        vars(&[]),
    )
    .unwrap();
    assert!(c.dpop);
    let fake = Fake::new(&ManualClock::new(T0), numbered_tokens(60));
    let client = client_with(c, &fake, RetryPolicy::default());
    assert_eq!(client.dpop().unwrap().key().alg(), Alg::EdDSA);
    let c = ClientConfig::from_env_with(vars(&[
        ("AUTHSEC_CLIENT_ID", "a"),
        ("AUTHSEC_TOKEN_URL", "https://x/t"),
        ("AUTHSEC_AUTH_METHOD", "tls_client_auth"),
        ("AUTHSEC_TLS_CLIENT_CERT_FILE", "/c.pem"),
        ("AUTHSEC_TLS_CLIENT_KEY_FILE", "/k.pem"),
        ("AUTHSEC_DPOP", "true"),
        ("AUTHSEC_DPOP_ALG", "PS256"),
    ]))
    .unwrap_err();
    // The files are read through the environment reader, which has none here.
    assert!(
        c.message().contains("tls_client") || c.message().contains("TLS_CLIENT"),
        "{c}"
    );
    for bad in [
        json!({"client_id": "a", "token_url": "https://x/t", "auth_method": "tls_client_auth"}),
        json!({"client_id": "a", "client_secret": "s", "token_url": "https://x/t", "tls_client_cert": "PEM"}),
        json!({"client_id": "a", "client_secret": "s", "token_url": "https://x/t", "dpop": false, "dpop_key": "PEM"}),
        json!({"client_id": "a", "client_secret": "s", "token_url": "https://x/t", "dpop_alg": "HS256"}),
    ] {
        assert_eq!(
            ClientConfig::from_value(&bad, vars(&[])).unwrap_err().code(),
            ErrorCode::ConfigError,
            "{bad}"
        );
    }
    let c = ClientConfig::from_value(
        &json!({"client_id": "a", "token_url": "https://x/t", "auth_method": "self_signed_tls_client_auth",
            "tls_client_cert": "CERT PEM", "tls_client_key": "KEY PEM"}),
        vars(&[]),
    )
    .unwrap();
    let fake = Fake::new(&ManualClock::new(T0), numbered_tokens(60));
    let client = client_with(c, &fake, RetryPolicy::default());
    assert_eq!(client.client_auth().method(), "self_signed_tls_client_auth");
}

#[tokio::test]
async fn mtls_client_auth_names_the_client_in_the_body() {
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, numbered_tokens(600));
    let cfg = ClientConfig {
        auth_method: AuthMethod::TlsClientAuth,
        client_secret: None,
        tls_client_cert: Some("CERT".into()),
        tls_client_key: Some(Secret::new("KEY")),
        ..cfg()
    };
    let client = client_with(cfg, &fake, RetryPolicy::default());
    client.get_token().await.unwrap();
    let req = fake.request(0);
    let body = String::from_utf8(req.body.clone()).unwrap();
    assert!(body.contains("client_id=agent-1"), "{body}");
    assert!(req.header("authorization").is_none());
    assert!(!body.contains("client_secret"));
}
