//! RFC 8705 over the server's HTTPS: `tls_client_auth` (a certificate from `client_ca_file`
//! naming the registered subject DN, DNS SAN or URI SAN), `self_signed_tls_client_auth` (a
//! registered certificate, in `jwks` `x5c` or as a thumbprint), certificate-bound tokens
//! (`cnf.x5t#S256` for clients that ask, also with DPoP), and the metadata. The test makes its own
//! CA, server certificate (SAN 127.0.0.1) and client certificates with rcgen, and talks to the
//! server with reqwest over rustls, presenting a client certificate or none.
mod common;
#[path = "common/pki.rs"]
mod pki;

use authsec_native::{Alg, SigningKey};
use authsec_server::{ClientSpec, ServerConfig};
use common::*;
use pki::*;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_client_auth_with_a_ca_issued_certificate() {
    let pki = Pki::new();
    let ts = TestServer::start(pki.config()).await;
    assert!(ts.issuer().starts_with("https://127.0.0.1:"), "{}", ts.issuer());
    let dn_cert = pki.ca.client("dn-client", vec![]);

    // The subject DN matches: a token bound to that certificate.
    let with_dn = https(&pki, Some(&dn_cert));
    let r = mtls_token(&ts, &with_dn, "dn-client").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["token_type"], "Bearer");
    assert_eq!(cnf(&r), json!({"x5t#S256": dn_cert.x5t()}));
    let events = ts.audit_events("token");
    assert_eq!(events.last().unwrap()["auth_method"], "tls_client_auth");
    // Introspection authenticates the same way and shows the binding.
    let token = r.json["access_token"].as_str().unwrap().to_string();
    let i = post(
        &with_dn,
        &format!("{}/oauth/introspect", ts.issuer()),
        &[("token", &token), ("client_id", "dn-client")],
        None,
        None,
    )
    .await;
    assert_eq!(i.status, 200, "{i:?}");
    assert_eq!(i.json["cnf"]["x5t#S256"], dn_cert.x5t());
    assert_eq!(i.json["token_type"], "Bearer");

    // Another subject from the same CA, the right subject from another CA, no certificate.
    let other_subject = pki.ca.client("someone-else", vec![]);
    let rogue = Ca::new("Rogue CA").client("dn-client", vec![]);
    for (why, cert) in [
        (
            "does not name this client's registered subject DN",
            Some(&other_subject),
        ),
        ("does not chain to the server's tls.client_ca_file", Some(&rogue)),
        ("present its client certificate", None),
    ] {
        let r = mtls_token(&ts, &https(&pki, cert), "dn-client").await;
        r.assert_oauth_error(401, "invalid_client");
        assert!(r.description().contains(why), "{why}: {r:?}");
    }

    // SAN matches: DNS and URI; a certificate without the SAN is refused.
    let dns_cert = pki.ca.client("agent", vec![dns("agent.example.test")]);
    let r = mtls_token(&ts, &https(&pki, Some(&dns_cert)), "dns-client").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(cnf(&r).is_null(), "no binding unless the client asks for it: {r:?}");
    let uri_cert = pki
        .ca
        .client("agent", vec![dns("x.example.test"), uri("spiffe://example.test/agent")]);
    assert_eq!(
        mtls_token(&ts, &https(&pki, Some(&uri_cert)), "uri-client")
            .await
            .status,
        200
    );
    let r = mtls_token(&ts, &https(&pki, Some(&uri_cert)), "dns-client").await;
    r.assert_oauth_error(401, "invalid_client");
    assert!(r.description().contains("SAN"), "{r:?}");
    // A tls_client_auth client cannot use another method, and client_id alone is no
    // authentication for a secret client.
    post(
        &with_dn,
        &ts.server.token_endpoint(),
        &[("grant_type", "client_credentials")],
        Some(("dn-client", "guess")),
        None,
    )
    .await
    .assert_oauth_error(401, "invalid_client");
    // The right certificate, but a secret as well: the client's only method is tls_client_auth.
    let r = post(
        &with_dn,
        &ts.server.token_endpoint(),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "dn-client"),
            ("client_secret", "x"),
        ],
        None,
        None,
    )
    .await;
    r.assert_oauth_error(401, "invalid_client");
    mtls_token(&ts, &with_dn, "secret-plain")
        .await
        .assert_oauth_error(401, "invalid_client");
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_tls_client_auth_with_a_registered_certificate() {
    let pki = Pki::new();
    let ts = TestServer::start(pki.config()).await;
    let r = mtls_token(&ts, &https(&pki, Some(&pki.registered_self_signed)), "self-client").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        ts.audit_events("token").last().unwrap()["auth_method"],
        "self_signed_tls_client_auth"
    );
    let r = mtls_token(&ts, &https(&pki, Some(&pki.thumbprint_self_signed)), "thumb-client").await;
    assert_eq!(r.status, 200, "{r:?}");

    // Another self-signed certificate, a CA-issued one, none, another client's registered one.
    let stranger = self_signed("self-client");
    let issued = pki.ca.client("self-client", vec![]);
    let unregistered = "is not one registered for this client";
    for (what, cert, id, why) in [
        ("another self-signed", Some(&stranger), "self-client", unregistered),
        ("CA-issued", Some(&issued), "self-client", unregistered),
        ("none", None, "self-client", "present its client certificate"),
        (
            "another client's",
            Some(&pki.registered_self_signed),
            "thumb-client",
            unregistered,
        ),
    ] {
        let r = mtls_token(&ts, &https(&pki, cert), id).await;
        r.assert_oauth_error(401, "invalid_client");
        assert!(r.description().contains(why), "{what}: {r:?}");
    }
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_binding_is_asked_for_and_combines_with_dpop() {
    let pki = Pki::new();
    let ts = TestServer::start(pki.config()).await;
    let cert = pki.ca.client("any", vec![]);
    let with_cert = https(&pki, Some(&cert));
    let cc = [("grant_type", "client_credentials")];
    let url = ts.server.token_endpoint();

    // A secret client that asked for binding: the certificate it presents, whatever its issuer.
    let r = post(&with_cert, &url, &cc, Some(("secret-bound", "sb-secret")), None).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(cnf(&r), json!({"x5t#S256": cert.x5t()}));
    let stranger = self_signed("stranger");
    let r = post(
        &https(&pki, Some(&stranger)),
        &url,
        &cc,
        Some(("secret-bound", "sb-secret")),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(cnf(&r), json!({"x5t#S256": stranger.x5t()}));
    // Without a certificate it cannot get a bound token.
    post(&https(&pki, None), &url, &cc, Some(("secret-bound", "sb-secret")), None)
        .await
        .assert_oauth_error(400, "invalid_request");
    // A client that did not ask gets an unbound token even with a certificate.
    let r = post(&with_cert, &url, &cc, Some(("secret-plain", "sp-secret")), None).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(cnf(&r).is_null());

    // DPoP and the certificate: both members; the proof's htu is the https token endpoint.
    let key = SigningKey::generate(Alg::ES256, None).unwrap();
    let proof = key
        .sign_raw(
            &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.public_jwk()}),
            &json!({"jti": "mtls-and-dpop", "htm": "POST", "htu": url, "iat": ts.now_s()}),
        )
        .unwrap();
    let r = post(&with_cert, &url, &cc, Some(("secret-bound", "sb-secret")), Some(&proof)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["token_type"], "DPoP");
    let jkt = authsec_native::KeySet::from_jwk_value(&key.public_jwk())
        .unwrap()
        .keys()[0]
        .public_key()
        .thumbprint();
    assert_eq!(cnf(&r), json!({"jkt": jkt, "x5t#S256": cert.x5t()}));
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_over_https_names_the_rfc_8705_features() {
    let pki = Pki::new();
    let ts = TestServer::start(pki.config()).await;
    let body = https(&pki, None)
        .get(format!("{}/.well-known/oauth-authorization-server", ts.issuer()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let m: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(m["issuer"], ts.issuer());
    assert_eq!(m["token_endpoint"], ts.server.token_endpoint());
    assert_eq!(m["tls_client_certificate_bound_access_tokens"], true);
    assert_eq!(m["mtls_endpoint_aliases"]["token_endpoint"], m["token_endpoint"]);
    for field in [
        "token_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
    ] {
        let methods = m[field].as_array().unwrap();
        for name in ["tls_client_auth", "self_signed_tls_client_auth", "client_secret_basic"] {
            assert!(methods.contains(&json!(name)), "{field}: {name} in {methods:?}");
        }
    }
    assert!(m["dpop_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("ES256")));
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_client_auth_needs_https_and_a_client_ca() {
    let pki = Pki::new();
    let cert = pki.ca.client("dn-client", vec![]);
    // Over plain HTTP there is no certificate: refused.
    let mut cfg = pki.config();
    cfg.tls = None;
    let ts = TestServer::start(cfg).await;
    ts.token_request(
        None,
        &[("grant_type", "client_credentials"), ("client_id", "dn-client")],
    )
    .await
    .assert_oauth_error(401, "invalid_client");
    ts.shutdown().await;
    // HTTPS without client_ca_file: tls_client_auth cannot verify the chain; self-signed works.
    let mut cfg = pki.config();
    cfg.tls = Some(pki.tls(false));
    let ts = TestServer::start(cfg).await;
    let r = mtls_token(&ts, &https(&pki, Some(&cert)), "dn-client").await;
    r.assert_oauth_error(401, "invalid_client");
    assert!(r.description().contains("client_ca_file"), "{r:?}");
    assert_eq!(
        mtls_token(&ts, &https(&pki, Some(&pki.registered_self_signed)), "self-client")
            .await
            .status,
        200
    );
    ts.shutdown().await;
}

#[test]
fn rfc_8705_settings_are_checked() {
    let none = |_: &str| None;
    let cfg = ServerConfig::from_yaml_str(
        "tls:\n  cert_file: s.pem\n  key_file: s.key\n  client_ca_file: ca.pem\nclients:\n  - client_id: a\n    token_endpoint_auth_method: tls_client_auth\n    tls_client_auth_san_dns: a.example\n    tls_client_certificate_bound_access_tokens: true\n",
        none,
    )
    .unwrap();
    let tls = cfg.tls.as_ref().unwrap();
    assert_eq!(
        (tls.cert_file.as_str(), tls.client_ca_file.as_deref()),
        ("s.pem", Some("ca.pem"))
    );
    let roles = Default::default();
    let build = |spec: ClientSpec| authsec_server::clients::Client::from_spec(&spec, 60, &roles, 0).map(|(c, _)| c);
    let c = build(cfg.clients[0].clone()).unwrap();
    assert!(c.secrets.is_empty(), "no secret is generated for a TLS client");
    assert_eq!(c.auth_methods(), ["tls_client_auth"]);
    let spec = |m: &str| ClientSpec {
        client_id: Some("c".into()),
        token_endpoint_auth_method: Some(m.into()),
        ..Default::default()
    };
    for (what, bad) in [
        ("no name", spec("tls_client_auth")),
        (
            "two names",
            ClientSpec {
                tls_client_auth_san_dns: Some("a".into()),
                tls_client_auth_san_uri: Some("b".into()),
                ..spec("tls_client_auth")
            },
        ),
        (
            "bad DN",
            ClientSpec {
                tls_client_auth_subject_dn: Some("not a dn".into()),
                ..spec("tls_client_auth")
            },
        ),
        ("no certificate", spec("self_signed_tls_client_auth")),
        (
            "bad thumbprint",
            ClientSpec {
                tls_client_certificate_sha256: Some("abc".into()),
                ..spec("self_signed_tls_client_auth")
            },
        ),
        (
            "name without the method",
            ClientSpec {
                tls_client_auth_san_dns: Some("a".into()),
                client_secret: Some("s".into()),
                ..Default::default()
            },
        ),
        ("unknown method", spec("magic")),
    ] {
        assert!(build(bad).is_err(), "{what}");
    }
}
