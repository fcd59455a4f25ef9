//! RFC 7662 introspection and RFC 7009 revocation over real sockets, and the audit log they
//! (and issuance) write: one JSON line per event, never a secret or a whole token.
mod common;

use authsec_native::*;
use authsec_server::ServerConfig;
use common::*;
use serde_json::{json, Map, Value};

const A_SECRET: &str = "alpha-secret:%+é";
const B_SECRET: &str = "beta-secret-7";

fn two_clients() -> ServerConfig {
    ServerConfig {
        token_lifetime: 300,
        ..config(vec![
            secret_client("alpha", A_SECRET, &["read", "write"]),
            secret_client("beta", B_SECRET, &["read"]),
        ])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_needs_client_auth_and_reports_only_valid_tokens() {
    let clock = manual_clock();
    let ts = TestServer::start_with_clock(two_clients(), clock.clone()).await;
    let token = ts.token("alpha", A_SECRET, &[("scope", "write")]).await;
    let (_, claims) = decode_jwt(&token);

    // Client auth is required (any of the three methods), with the token endpoint's rules.
    let r = ts.post_form("/oauth/introspect", None, &[("token", &token)]).await;
    r.assert_oauth_error(401, "invalid_client");
    assert!(r.header("www-authenticate").is_some());
    ts.introspect("alpha", "wrong", &token)
        .await
        .assert_oauth_error(401, "invalid_client");
    ts.introspect("nobody", A_SECRET, &token)
        .await
        .assert_oauth_error(401, "invalid_client");
    let r = ts
        .post_form(
            "/oauth/introspect",
            Some(("alpha", A_SECRET)),
            &[("token", &token), ("client_secret", A_SECRET), ("client_id", "alpha")],
        )
        .await;
    r.assert_oauth_error(400, "invalid_request");
    ts.post_form("/oauth/introspect", Some(("alpha", A_SECRET)), &[])
        .await
        .assert_oauth_error(400, "invalid_request");

    // Active: the claims, for the owner and for another authenticated client.
    for (id, secret) in [("alpha", A_SECRET), ("beta", B_SECRET)] {
        let r = ts.introspect(id, secret, &token).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.header("cache-control"), Some("no-store"));
        let j = &r.json;
        assert_eq!(j["active"], true);
        assert_eq!(j["token_type"], "Bearer");
        for k in ["scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti"] {
            assert_eq!(j[k], claims[k], "{k}");
        }
    }
    let r = ts
        .post_form(
            "/oauth/introspect",
            None,
            &[
                ("token", &token),
                ("client_id", "beta"),
                ("client_secret", B_SECRET),
                ("token_type_hint", "access_token"),
            ],
        )
        .await;
    assert_eq!(
        r.json["active"], true,
        "client_secret_post and a token_type_hint: {r:?}"
    );

    // Inactive, always as exactly {"active": false}: garbage, foreign, forged, tampered, expired.
    let other_issuer = TestServer::start(two_clients()).await;
    let foreign_other_iss = other_issuer.token("alpha", A_SECRET, &[]).await;
    let same_iss = TestServer::start(ServerConfig {
        issuer: Some(ts.issuer().to_string()),
        ..two_clients()
    })
    .await;
    let foreign_same_iss = same_iss.token("alpha", A_SECRET, &[]).await;
    assert_eq!(decode_jwt(&foreign_same_iss).1["iss"], claims["iss"]);
    let forger = SigningKey::generate(Alg::ES256, Some(kid_of(&token))).unwrap();
    let forged = forger.sign(Some("at+jwt"), &Map::new(), &claims).unwrap();
    let mut parts: Vec<&str> = token.split('.').collect();
    let tampered_payload =
        authsec_core::util::b64url_encode(claims.to_string().replace("\"write\"", "\"read write\"").as_bytes());
    parts[1] = &tampered_payload;
    let tampered = parts.join(".");
    let unsigned = format!(
        "{}.{}.",
        authsec_core::util::b64url_encode(br#"{"alg":"none"}"#),
        token.split('.').nth(1).unwrap()
    );
    let huge = "a".repeat(15_000);
    for bad in [
        "",
        "garbage",
        "a.b.c",
        &huge,
        &foreign_other_iss,
        &foreign_same_iss,
        &forged,
        &tampered,
        &unsigned,
    ] {
        let r = ts.introspect("alpha", A_SECRET, bad).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.json, json!({"active": false}), "{}", &bad[..bad.len().min(40)]);
    }
    clock.advance(std::time::Duration::from_secs(299));
    assert_eq!(ts.introspect("alpha", A_SECRET, &token).await.json["active"], true);
    clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(
        ts.introspect("alpha", A_SECRET, &token).await.json,
        json!({"active": false}),
        "expired (no leeway)"
    );

    let lines = ts.audit_events("introspect");
    assert!(
        lines
            .iter()
            .any(|l| l["active"] == true && l["jti"] == claims["jti"] && l["client_id"] == "beta"),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l["active"] == false && l.get("jti").is_none()));
    assert!(lines
        .iter()
        .any(|l| l["outcome"] == "failure" && l["error"] == "invalid_client"));
    assert_audit_clean(
        &ts,
        &[
            A_SECRET,
            B_SECRET,
            &token,
            &forged,
            &tampered,
            &foreign_same_iss,
            token.rsplit('.').next().unwrap(),
        ],
    );
    other_issuer.shutdown().await;
    same_iss.shutdown().await;
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_rules() {
    let ts = TestServer::start(two_clients()).await;
    let a1 = ts.token("alpha", A_SECRET, &[]).await;
    let a2 = ts.token("alpha", A_SECRET, &[]).await;
    let b1 = ts.token("beta", B_SECRET, &[]).await;

    // Auth required.
    ts.post_form("/oauth/revoke", None, &[("token", &a1)])
        .await
        .assert_oauth_error(401, "invalid_client");
    ts.revoke("alpha", "wrong", &a1)
        .await
        .assert_oauth_error(401, "invalid_client");
    ts.post_form("/oauth/revoke", Some(("alpha", A_SECRET)), &[])
        .await
        .assert_oauth_error(400, "invalid_request");
    assert_eq!(ts.introspect("alpha", A_SECRET, &a1).await.json["active"], true);

    // Unknown / invalid tokens: 200 (RFC 7009 §2.2), nothing revoked.
    for junk in ["", "junk", "a.b.c"] {
        let r = ts.revoke("alpha", A_SECRET, junk).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
    // Another client cannot revoke alpha's token.
    let r = ts.revoke("beta", B_SECRET, &a1).await;
    r.assert_oauth_error(400, "unauthorized_client");
    assert_eq!(
        ts.introspect("alpha", A_SECRET, &a1).await.json["active"],
        true,
        "still active"
    );

    // The owner can; only that token is affected; revoking twice is fine.
    assert_eq!(ts.revoke("alpha", A_SECRET, &a1).await.status, 200);
    assert_eq!(
        ts.introspect("alpha", A_SECRET, &a1).await.json,
        json!({"active": false})
    );
    assert_eq!(
        ts.introspect("beta", B_SECRET, &a1).await.json,
        json!({"active": false})
    );
    assert_eq!(ts.introspect("alpha", A_SECRET, &a2).await.json["active"], true);
    assert_eq!(ts.introspect("alpha", A_SECRET, &b1).await.json["active"], true);
    assert_eq!(ts.revoke("alpha", A_SECRET, &a1).await.status, 200);
    // client_secret_post works for revocation too, with a token_type_hint.
    let r = ts
        .post_form(
            "/oauth/revoke",
            None,
            &[
                ("token", &b1),
                ("token_type_hint", "access_token"),
                ("client_id", "beta"),
                ("client_secret", B_SECRET),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(ts.introspect("alpha", A_SECRET, &b1).await.json["active"], false);

    // A revoked JWT still verifies offline (self-contained): revocation is for introspecting RSs.
    let mut vc = VerifierConfig::new(ts.issuer(), ts.issuer());
    vc.verified_cache_size = 0;
    ts.verifier_with(vc, JwksPolicy::default())
        .verify(&a1)
        .await
        .expect("signature and claims are still fine");

    let lines = ts.audit_events("revoke");
    let jti = decode_jwt(&a1).1["jti"].clone();
    assert!(
        lines
            .iter()
            .any(|l| (l["outcome"] == "success" && l["result"] == "revoked")
                && l["jti"] == jti
                && l["client_id"] == "alpha"),
        "{lines:?}"
    );
    assert!(lines
        .iter()
        .any(|l| l["outcome"] == "success" && l["result"] == "ignored_invalid_token"));
    assert!(lines
        .iter()
        .any(|l| l["outcome"] == "failure" && l["error"] == "unauthorized_client" && l["client_id"] == "beta"));
    assert_audit_clean(&ts, &[A_SECRET, B_SECRET, &a1, &a2, &b1]);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_has_one_json_line_per_event_and_no_secrets_or_tokens() {
    let dir = TempDir::new("audit");
    let path = dir.path("audit.jsonl");
    let key = SigningKey::generate(Alg::ES256, None).unwrap();
    let mut clients = two_clients().clients;
    clients.push(authsec_server::ClientSpec {
        client_id: Some("keyed".into()),
        jwks: Some(jwks_of(&key)),
        ..Default::default()
    });
    // A file sink this time (the sink the config names), appended to.
    let cfg = ServerConfig {
        audit_log: Some(path.clone()),
        admin_token: Some("adm-audit".into()),
        clients,
        ..two_clients()
    };
    let server = authsec_server::start(cfg, Default::default()).await.unwrap();
    let base = format!("http://{}", server.addr());
    let tok_url = format!("{base}/oauth/token");
    let post = |path: &str, basic: Option<(&str, &str)>, pairs: Vec<(&str, &str)>| {
        let mut headers = vec![(
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        )];
        if let Some((i, s)) = basic {
            headers.push(("authorization".into(), basic_header(i, s)));
        }
        send(authsec_native::http::HttpRequest {
            method: authsec_native::http::Method::Post,
            url: format!("{base}{path}"),
            headers,
            body: form(&pairs).into_bytes(),
        })
    };
    let cc = ("grant_type", "client_credentials");
    let t1 = post("/oauth/token", Some(("alpha", A_SECRET)), vec![cc]).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let t2 = post(
        "/oauth/token",
        None,
        vec![cc, ("client_id", "beta"), ("client_secret", B_SECRET)],
    )
    .await
    .json["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let assertion = authsec_core::client::client_auth::client_assertion(&key, "keyed", &tok_url, now_ms()).unwrap();
    let r = post(
        "/oauth/token",
        None,
        vec![
            cc,
            ("client_id", "keyed"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion),
        ],
    )
    .await;
    let t3 = r.json["access_token"].as_str().unwrap().to_string();
    // Failures: wrong secret (the wrong secret must not be logged either), bad scope, replay.
    let wrong_secret = "wrong-secret-that-must-not-be-logged";
    assert_eq!(
        post("/oauth/token", Some(("alpha", wrong_secret)), vec![cc])
            .await
            .status,
        401
    );
    assert_eq!(
        post(
            "/oauth/token",
            None,
            vec![cc, ("client_id", "alpha"), ("client_secret", wrong_secret)]
        )
        .await
        .status,
        401
    );
    assert_eq!(
        post("/oauth/token", Some(("alpha", A_SECRET)), vec![cc, ("scope", "admin")])
            .await
            .status,
        400
    );
    let r = post(
        "/oauth/token",
        None,
        vec![
            cc,
            ("client_id", "keyed"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion),
        ],
    )
    .await;
    assert_eq!(r.status, 401);
    // Introspection and revocation.
    assert_eq!(
        post("/oauth/introspect", Some(("beta", B_SECRET)), vec![("token", &t1)])
            .await
            .json["active"],
        true
    );
    assert_eq!(
        post("/oauth/revoke", Some(("alpha", A_SECRET)), vec![("token", &t1)])
            .await
            .status,
        200
    );
    assert_eq!(
        post("/oauth/introspect", Some(("beta", B_SECRET)), vec![("token", &t1)])
            .await
            .json["active"],
        false
    );
    server.shutdown().await;

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(text.ends_with('\n'));
    let count = |ev: &str, outcome: Option<&str>| {
        lines
            .iter()
            .filter(|l| {
                l["event"] == ev
                    && outcome.is_none_or(|o| l["outcome"] == o || (l["outcome"] == "success" && l["result"] == o))
            })
            .count()
    };
    assert_eq!(count("token", Some("issued")), 3, "{text}");
    assert_eq!(count("token", Some("failure")), 4, "{text}");
    assert_eq!(count("introspect", None), 2, "{text}");
    assert_eq!(count("revoke", Some("revoked")), 1, "{text}");
    for l in &lines {
        assert!(l["ts"].as_f64().unwrap() > 1.6e9, "{l}");
        if l["outcome"] == "failure" {
            assert!(
                l["reason"].as_str().is_some_and(|r| !r.is_empty()) && l["error"].is_string(),
                "failures carry a reason: {l}"
            );
        }
        if l["outcome"] == "success" && l["result"] == "issued" {
            for k in ["client_id", "auth_method", "jti", "kid", "expires_in"] {
                assert!(l.get(k).is_some(), "{k} in {l}");
            }
        }
    }
    let methods: Vec<&str> = lines
        .iter()
        .filter(|l| l["outcome"] == "success" && l["result"] == "issued")
        .map(|l| l["auth_method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        ["client_secret_basic", "client_secret_post", "private_key_jwt"]
    );
    assert!(lines
        .iter()
        .any(|l| l["reason"].as_str().is_some_and(|r| r.contains("replay"))));
    assert!(lines
        .iter()
        .any(|l| l["error"] == "invalid_scope" && l["reason"].as_str().unwrap().contains("admin")));
    // Never a secret, a whole token, a signature or an assertion.
    for needle in [A_SECRET, B_SECRET, wrong_secret, "adm-audit", &t1, &t2, &t3, &assertion] {
        assert!(!text.contains(needle), "the audit log leaks {}…", &needle[..8]);
        let sig = needle.rsplit('.').next().unwrap();
        assert!(!text.contains(sig), "the audit log leaks a signature");
    }
    for needle in [
        form_encode(A_SECRET),
        authsec_core::util::b64_std_encode(format!("alpha:{}", form_encode(A_SECRET)).as_bytes()),
    ] {
        assert!(!text.contains(&needle), "the audit log leaks an encoded secret");
    }
}
