//! Client authentication at the token endpoint over real sockets: `client_secret_basic` (with
//! secrets that need form-encoding), `client_secret_post`, `private_key_jwt` (audience, replay,
//! wrong key, expiry), exactly one method per request, and unknown clients.
mod common;

use authsec_native::*;
use authsec_server::ClientSpec;
use common::*;
use serde_json::{json, Map, Value};

const AWKWARD_SECRET: &str = "p:ss%20w+rd/é€😀 =&?#";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_basic_with_awkward_secret_through_the_core_client() {
    let ts = TestServer::start(config(vec![secret_client("svc:a b", AWKWARD_SECRET, &["read:data"])])).await;
    // The core client: discovery from the issuer, then Basic with form-encoded id and secret.
    let client = ts.client(ClientConfig {
        client_id: "svc:a b".into(),
        client_secret: Some(Secret::new(AWKWARD_SECRET)),
        issuer: Some(ts.issuer().to_string()),
        ..Default::default()
    });
    let t = client.get_token().await.expect("Basic with an awkward secret");
    let (_, claims) = decode_jwt(t.access_token.expose());
    assert_eq!(claims["client_id"], "svc:a b");
    assert_eq!(claims["sub"], "svc:a b");
    // Independently encoded Basic header (this crate's own form encoder) works too.
    let raw = ts.token("svc:a b", AWKWARD_SECRET, &[]).await;
    assert_eq!(decode_jwt(&raw).1["client_id"], "svc:a b");
    // The secret NOT form-encoded (raw `:`/`%`/`+` inside base64) is a different secret: refused.
    let unencoded = format!(
        "Basic {}",
        authsec_core::util::b64_std_encode(format!("svc:a b:{AWKWARD_SECRET}").as_bytes())
    );
    let r = send(authsec_native::http::HttpRequest {
        method: authsec_native::http::Method::Post,
        url: ts.token_url(),
        headers: vec![
            ("content-type".into(), "application/x-www-form-urlencoded".into()),
            ("authorization".into(), unencoded),
        ],
        body: b"grant_type=client_credentials".to_vec(),
    })
    .await;
    r.assert_oauth_error(401, "invalid_client");
    // Wrong secret: 401 with a Basic challenge.
    let r = ts
        .token_request(Some(("svc:a b", "wrong")), &[("grant_type", "client_credentials")])
        .await;
    r.assert_oauth_error(401, "invalid_client");
    assert!(
        r.header("www-authenticate").is_some_and(|v| v.starts_with("Basic")),
        "{r:?}"
    );
    // Issuance and the failure were audited with the method used, and never the secret.
    let issued = ts.audit_events("token");
    assert!(
        issued.iter().any(
            |l| (l["outcome"] == "success" && l["result"] == "issued") && l["auth_method"] == "client_secret_basic"
        ),
        "{issued:?}"
    );
    assert!(
        issued
            .iter()
            .any(|l| l["outcome"] == "failure" && l["error"] == "invalid_client"),
        "{issued:?}"
    );
    assert_audit_clean(&ts, &[AWKWARD_SECRET, "p:ss%20w", t.access_token.expose(), &raw]);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_post_through_the_core_client_and_raw() {
    let ts = TestServer::start(config(vec![secret_client("poster", AWKWARD_SECRET, &["a", "b"])])).await;
    let client = ts.client(ClientConfig {
        client_id: "poster".into(),
        client_secret: Some(Secret::new(AWKWARD_SECRET)),
        auth_method: AuthMethod::ClientSecretPost,
        scopes: vec!["b".into()],
        ..Default::default()
    });
    let t = client.get_token().await.expect("client_secret_post");
    assert_eq!(t.scopes, ["b"]);
    let r = ts
        .token_request(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "poster"),
                ("client_secret", AWKWARD_SECRET),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    // Wrong secret in the body: 401 invalid_client, and no Basic challenge (Basic was not used).
    let r = ts
        .token_request(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "poster"),
                ("client_secret", "nope"),
            ],
        )
        .await;
    r.assert_oauth_error(401, "invalid_client");
    assert!(r.header("www-authenticate").is_none(), "{r:?}");
    // No credentials at all: 401 with a Basic challenge.
    let r = ts
        .token_request(None, &[("grant_type", "client_credentials"), ("client_id", "poster")])
        .await;
    r.assert_oauth_error(401, "invalid_client");
    assert!(r.header("www-authenticate").is_some_and(|v| v.starts_with("Basic")));
    let lines = ts.audit_events("token");
    assert!(
        lines.iter().any(|l| l["auth_method"] == "client_secret_post"),
        "{lines:?}"
    );
    assert_audit_clean(&ts, &[AWKWARD_SECRET, t.access_token.expose()]);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_one_method_is_invalid_request() {
    let key = SigningKey::generate(Alg::ES256, None).unwrap();
    let ts = TestServer::start(config(vec![ClientSpec {
        client_id: Some("both".into()),
        client_secret: Some("s3cret-both".into()),
        jwks: Some(jwks_of(&key)),
        ..Default::default()
    }]))
    .await;
    let assertion = assertion(&key, "both", &ts.token_url(), ts.now_s(), None);
    type Case<'a> = (Option<(&'a str, &'a str)>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            Some(("both", "s3cret-both")),
            vec![("client_id", "both"), ("client_secret", "s3cret-both")],
        ),
        (
            Some(("both", "s3cret-both")),
            vec![
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &assertion),
            ],
        ),
        (
            None,
            vec![
                ("client_id", "both"),
                ("client_secret", "s3cret-both"),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &assertion),
            ],
        ),
    ];
    for (basic, extra) in cases {
        let mut pairs = vec![("grant_type", "client_credentials")];
        pairs.extend(extra);
        let r = ts.token_request(basic, &pairs).await;
        r.assert_oauth_error(400, "invalid_request");
        assert!(r.description().contains("exactly one"), "{r:?}");
    }
    // Basic plus a *matching* client_id in the body is one method, not two.
    let r = ts
        .token_request(
            Some(("both", "s3cret-both")),
            &[("grant_type", "client_credentials"), ("client_id", "both")],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    // ... but a different client_id in the body is refused.
    let r = ts
        .token_request(
            Some(("both", "s3cret-both")),
            &[("grant_type", "client_credentials"), ("client_id", "other")],
        )
        .await;
    r.assert_oauth_error(400, "invalid_request");
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_client_is_401_with_basic_challenge() {
    let ts = TestServer::start(config(vec![secret_client("known", "known-secret", &[])])).await;
    let r = ts
        .token_request(Some(("nobody", "whatever")), &[("grant_type", "client_credentials")])
        .await;
    r.assert_oauth_error(401, "invalid_client");
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"authsec\""));
    // The core client maps it to invalid_client.
    let client = ts.client(ClientConfig {
        client_id: "nobody".into(),
        client_secret: Some(Secret::new("whatever")),
        ..Default::default()
    });
    assert_eq!(client.get_token().await.unwrap_err().code(), ErrorCode::InvalidClient);
    let fails: Vec<Value> = ts
        .audit_events("token")
        .into_iter()
        .filter(|l| l["outcome"] == "failure")
        .collect();
    assert!(
        fails
            .iter()
            .all(|l| l["client_id"] == "nobody" && l["reason"].as_str().is_some_and(|r| !r.is_empty())),
        "{fails:?}"
    );
    assert_audit_clean(&ts, &["whatever"]);
    ts.shutdown().await;
}

/// Sign a client assertion with these claims (`aud`, `iat`/`exp` around `now`, a fresh `jti`).
fn assertion(key: &SigningKey, client_id: &str, aud: &str, now: i64, overrides: Option<Value>) -> String {
    let mut claims = json!({
        "iss": client_id, "sub": client_id, "aud": aud,
        "jti": authsec_core::random::random_id(12).unwrap(),
        "iat": now, "exp": now + 60,
    });
    if let Some(Value::Object(o)) = overrides {
        for (k, v) in o {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(&k);
            } else {
                claims[k] = v;
            }
        }
    }
    key.sign(None, &Map::new(), &claims).unwrap()
}

async fn with_assertion(ts: &TestServer, client_id: Option<&str>, a: &str) -> Resp {
    let mut pairs = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", a),
    ];
    if let Some(id) = client_id {
        pairs.push(("client_id", id));
    }
    ts.token_request(None, &pairs).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_through_the_core_client_for_each_alg() {
    for alg in [Alg::ES256, Alg::RS256, Alg::EdDSA] {
        let key = SigningKey::generate(alg, None).unwrap();
        let ts = TestServer::start(config(vec![ClientSpec {
            client_id: Some("keyed".into()),
            jwks: Some(jwks_of(&key)),
            allowed_scopes: vec!["x".into()],
            ..Default::default()
        }]))
        .await;
        let client = ts.client(ClientConfig {
            client_id: "keyed".into(),
            auth_method: AuthMethod::PrivateKeyJwt,
            private_key: Some(key.to_pem().clone()),
            private_key_alg: Some(alg),
            private_key_id: Some(key.kid().to_string()),
            issuer: Some(ts.issuer().to_string()),
            ..Default::default()
        });
        let t = client.get_token().await.unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(decode_jwt(t.access_token.expose()).1["client_id"], "keyed");
        let issued = ts.audit_events("token");
        assert!(
            issued.iter().any(|l| l["auth_method"] == "private_key_jwt"),
            "{issued:?}"
        );
        // A key-only client cannot use a secret.
        let r = ts
            .token_request(Some(("keyed", "guess")), &[("grant_type", "client_credentials")])
            .await;
        r.assert_oauth_error(401, "invalid_client");
        ts.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_assertion_rules() {
    let key = SigningKey::generate(Alg::ES256, None).unwrap();
    let clock = manual_clock();
    let ts = TestServer::start_with_clock(
        config(vec![
            ClientSpec {
                client_id: Some("keyed".into()),
                jwks: Some(jwks_of(&key)),
                ..Default::default()
            },
            secret_client("other", "other-secret", &[]),
        ]),
        clock.clone(),
    )
    .await;
    let now = ts.now_s();
    let token_url = format!("{}/oauth/token", ts.issuer());

    // aud = the token endpoint, or the issuer: accepted (client_id given or taken from sub).
    let r = with_assertion(&ts, Some("keyed"), &assertion(&key, "keyed", &token_url, now, None)).await;
    assert_eq!(r.status, 200, "aud=token endpoint: {r:?}");
    let r = with_assertion(&ts, None, &assertion(&key, "keyed", ts.issuer(), now, None)).await;
    assert_eq!(r.status, 200, "aud=issuer: {r:?}");
    let r = with_assertion(
        &ts,
        Some("keyed"),
        &assertion(
            &key,
            "keyed",
            "x",
            now,
            Some(json!({"aud": ["https://elsewhere", token_url]})),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "aud array with the token endpoint: {r:?}");

    // Other audiences: rejected.
    for aud in ["https://other.example/oauth/token", "", &format!("{token_url}/")] {
        let r = with_assertion(&ts, Some("keyed"), &assertion(&key, "keyed", aud, now, None)).await;
        r.assert_oauth_error(401, "invalid_client");
        assert!(
            r.description().contains("audience") || r.description().contains("aud"),
            "aud {aud:?}: {r:?}"
        );
    }

    // jti replay: the same assertion twice.
    let a = assertion(&key, "keyed", &token_url, now, None);
    assert_eq!(with_assertion(&ts, Some("keyed"), &a).await.status, 200);
    let r = with_assertion(&ts, Some("keyed"), &a).await;
    r.assert_oauth_error(401, "invalid_client");
    assert!(r.description().contains("replay"), "{r:?}");

    // Signed by another key, with the registered kid or with its own: rejected.
    let impostor_same_kid = SigningKey::generate(Alg::ES256, Some(key.kid().to_string())).unwrap();
    let impostor = SigningKey::generate(Alg::ES256, None).unwrap();
    for k in [&impostor_same_kid, &impostor] {
        let r = with_assertion(&ts, Some("keyed"), &assertion(k, "keyed", &token_url, now, None)).await;
        r.assert_oauth_error(401, "invalid_client");
    }

    // Expired (beyond the 30 s leeway): rejected. Just inside the leeway: accepted.
    let r = with_assertion(
        &ts,
        Some("keyed"),
        &assertion(
            &key,
            "keyed",
            &token_url,
            now,
            Some(json!({"iat": now - 300, "exp": now - 31})),
        ),
    )
    .await;
    r.assert_oauth_error(401, "invalid_client");
    assert!(r.description().contains("expired"), "{r:?}");
    let r = with_assertion(
        &ts,
        Some("keyed"),
        &assertion(
            &key,
            "keyed",
            &token_url,
            now,
            Some(json!({"iat": now - 300, "exp": now - 10})),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");

    // Missing jti, missing exp, long-lived, iss/sub of another client, claimed id mismatch.
    let bad: Vec<(Option<&str>, Value)> = vec![
        (Some("keyed"), json!({"jti": null})),
        (Some("keyed"), json!({"exp": null})),
        (Some("keyed"), json!({"exp": now + 7200})),
        (Some("keyed"), json!({"iss": "other", "sub": "other"})),
        (Some("keyed"), json!({"sub": "other"})),
        (Some("other"), json!({})),
    ];
    for (id, o) in bad {
        let r = with_assertion(&ts, id, &assertion(&key, "keyed", &token_url, now, Some(o))).await;
        r.assert_oauth_error(401, "invalid_client");
    }
    // Not a JWT, wrong assertion type, missing assertion.
    let r = with_assertion(&ts, None, "not-a-jwt").await;
    r.assert_oauth_error(401, "invalid_client");
    let r = ts
        .token_request(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "keyed"),
                ("client_assertion_type", "urn:x"),
                ("client_assertion", &a),
            ],
        )
        .await;
    r.assert_oauth_error(400, "invalid_request");
    let r = ts
        .token_request(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "keyed"),
                ("client_assertion_type", ASSERTION_TYPE),
            ],
        )
        .await;
    r.assert_oauth_error(400, "invalid_request");

    // Failures are audited with a reason; assertions never appear in the log.
    let fails: Vec<Value> = ts
        .audit_events("token")
        .into_iter()
        .filter(|l| l["outcome"] == "failure")
        .collect();
    assert!(fails.len() >= 12, "{fails:?}");
    assert!(fails
        .iter()
        .any(|l| l["reason"].as_str().is_some_and(|r| r.contains("replay"))));
    assert_audit_clean(&ts, &[&a, a.rsplit('.').next().unwrap()]);
    ts.shutdown().await;
}
