//! `jwt_svid.json`: the JWT-SVID rules (SPIFFE `standards/JWT-SVID.md`): algorithms (RS, PS, ES
//! only), `typ`, the header members allowed, `sub` as a SPIFFE ID whose trust domain picks the
//! bundle (and so never a key of another trust domain), `kid` and kid-less SVIDs, `exp`, `nbf`,
//! `aud`, which bundle keys count (`use` jwt-svid, none, sig; not x509-svid or wit-svid), and the
//! allowed-ID patterns.

use super::case::{del, hdr, seg, with, NOW};
use super::json::pretty;
use super::signing::Gen;
use authsec_core::Alg;
use serde_json::{json, Value};

pub(crate) const FILE: &str = "jwt_svid.json";
const TD: &str = "example.org";
const ID: &str = "spiffe://example.org/agents/ml-training";
const AUD: &str = "https://auth.example";

struct Builder<'a> {
    g: &'a mut Gen,
    cases: Vec<Value>,
}

impl Builder<'_> {
    /// A bundle key: the public JWK with `use` set (or removed with `del()`), `alg` removed.
    fn key(&self, name: &str, use_: Value) -> Value {
        with(&self.g.jwk(name, &[("alg", del())]), &[("use", use_)])
    }

    fn bundles(&self, name: &str) -> Value {
        match name {
            // SPIRE's bundle endpoint marks every key; its Workload API leaves `use` out (p384-a).
            "main" => json!({
                TD: {"keys": [
                    self.key("p256-a", json!("jwt-svid")),
                    self.key("rsa-a", json!("jwt-svid")),
                    self.key("p384-a", del()),
                    with(&self.key("rsa-b", json!("x509-svid")), &[("x5c", json!(["MIIBAA=="]))]),
                    with(&self.key("ed25519-a", json!("wit-svid")), &[]),
                ], "spiffe_sequence": 3, "spiffe_refresh_hint": 300},
                "partner.test": {"keys": [self.key("rsa-b", json!("jwt-svid"))]},
            }),
            "single" => json!({TD: {"keys": [with(&self.key("p256-a", json!("jwt-svid")), &[("kid", del())])]}}),
            "oidc" => json!({TD: {"keys": [self.key("p256-a", json!("sig"))]}}),
            "eddsa" => json!({TD: {"keys": [self.key("ed25519-a", json!("jwt-svid"))]}}),
            other => panic!("unknown bundles {other}"),
        }
    }

    fn claims(&self, changes: &[(&str, Value)]) -> Value {
        with(
            &json!({"sub": ID, "aud": [AUD], "exp": NOW + 300, "iat": NOW - 10}),
            changes,
        )
    }

    /// A token by `key` with `alg` and exactly this header.
    fn token(&mut self, name: &str, key: &str, alg: Alg, header: &Value, claims: &Value) -> String {
        self.g.jws(name, key, alg, header, claims)
    }

    /// SPIRE's usual SVID: `{alg, kid, typ: JWT}` by `key`.
    fn svid(&mut self, name: &str, key: &str, alg: Alg, claims: &Value) -> String {
        let h = hdr(alg.as_str(), Some(key), Some("JWT"));
        self.token(name, key, alg, &h, claims)
    }

    fn push(&mut self, name: &str, description: &str, token: String, bundles: &str, options: Value, expect: Value) {
        let mut all = json!({"audience": [AUD], "now": NOW});
        if let (Some(a), Some(o)) = (all.as_object_mut(), options.as_object()) {
            a.extend(o.clone());
        }
        let options = all;
        self.cases.push(json!({
            "name": name,
            "description": description,
            "token": token,
            "bundles": bundles,
            "options": options,
            "expect": expect,
        }));
    }
}

fn ok(spiffe_id: &str, audience: &[&str], expires_at: i64) -> Value {
    json!({"svid": {"spiffe_id": spiffe_id, "audience": audience, "expires_at": expires_at}})
}

fn err(code: &str) -> Value {
    json!({"error": code})
}

pub(crate) fn file(g: &mut Gen) -> Result<String, String> {
    let mut b = Builder { g, cases: Vec::new() };
    let c = b.claims(&[]);
    let exp = NOW + 300;

    // ----- valid SVIDs, each algorithm family -----
    for (name, key, alg, what) in [
        (
            "svid_es256_valid",
            "p256-a",
            Alg::ES256,
            "ES256, as SPIRE signs by default",
        ),
        ("svid_rs256_valid", "rsa-a", Alg::RS256, "RS256"),
        ("svid_ps256_valid", "rsa-a", Alg::PS256, "PS256 with the same RSA key"),
        (
            "svid_es384_workload_api_key_without_use",
            "p384-a",
            Alg::ES384,
            "ES384 by a bundle key without use, as the Workload API serves its JWT bundles",
        ),
    ] {
        let t = b.svid(name, key, alg, &c);
        b.push(
            name,
            &format!("A JWT-SVID signed {what} verifies and names its workload."),
            t,
            "main",
            json!({}),
            ok(ID, &[AUD], exp),
        );
    }
    let name = "svid_partner_trust_domain";
    let t = b.svid(
        name,
        "rsa-b",
        Alg::RS256,
        &b.claims(&[("sub", json!("spiffe://partner.test/payments"))]),
    );
    b.push(
        name,
        "An SVID of another trusted trust domain verifies with that domain's bundle.",
        t,
        "main",
        json!({}),
        ok("spiffe://partner.test/payments", &[AUD], exp),
    );
    let name = "svid_bundle_key_use_sig";
    let t = b.svid(name, "p256-a", Alg::ES256, &c);
    b.push(
        name,
        "A plain JWKS (use: sig, as SPIRE's OIDC discovery provider serves it) is a bundle too.",
        t,
        "oidc",
        json!({}),
        ok(ID, &[AUD], exp),
    );
    let name = "svid_extra_claims_ignored";
    let t = b.svid(
        name,
        "p256-a",
        Alg::ES256,
        &b.claims(&[("iss", json!("https://oidc.example")), ("jti", json!("x"))]),
    );
    b.push(
        name,
        "Claims the standard does not name (iss, jti) are neither required nor refused.",
        t,
        "main",
        json!({}),
        ok(ID, &[AUD], exp),
    );

    // ----- typ and the header -----
    for (name, typ, expect, what) in [
        (
            "svid_typ_jose",
            Some("JOSE"),
            ok(ID, &[AUD], exp),
            "typ JOSE is allowed",
        ),
        ("svid_typ_absent", None, ok(ID, &[AUD], exp), "typ may be left out"),
        (
            "svid_typ_at_jwt",
            Some("at+jwt"),
            err("invalid_token_type"),
            "an access token's typ is not an SVID's",
        ),
        (
            "svid_typ_lowercase_jwt",
            Some("jwt"),
            err("invalid_token_type"),
            "typ is compared exactly: jwt is not JWT",
        ),
        (
            "svid_typ_wit",
            Some("wit+jwt"),
            err("invalid_token_type"),
            "a WIT-SVID (wit+jwt) is not a JWT-SVID",
        ),
    ] {
        let h = hdr("ES256", Some("p256-a"), typ);
        let t = b.token(name, "p256-a", Alg::ES256, &h, &c);
        b.push(name, &format!("{what}."), t, "main", json!({}), expect);
    }
    for (name, member, value) in [
        ("svid_header_jku", "jku", json!("https://attacker.example/jwks.json")),
        ("svid_header_jwk", "jwk", json!({"kty": "EC"})),
        ("svid_header_x5c", "x5c", json!(["MIIBAA=="])),
        ("svid_header_cty", "cty", json!("JWT")),
        ("svid_header_crit", "crit", json!(["exp"])),
    ] {
        let h = with(&hdr("ES256", Some("p256-a"), Some("JWT")), &[(member, value)]);
        let t = b.token(name, "p256-a", Alg::ES256, &h, &c);
        b.push(
            name,
            &format!("A JWT-SVID's header holds only alg, kid and typ: {member} is refused."),
            t,
            "main",
            json!({}),
            err("malformed_token"),
        );
    }

    // ----- algorithms -----
    let name = "svid_eddsa_refused";
    let t = b.svid(name, "ed25519-a", Alg::EdDSA, &c);
    b.push(
        name,
        "EdDSA is not a JWT-SVID algorithm, even with an Ed25519 key in the bundle.",
        t,
        "eddsa",
        json!({}),
        err("unsupported_algorithm"),
    );
    let name = "svid_alg_none";
    let t = format!("{}.{}.", seg(&hdr("none", None, Some("JWT"))), seg(&c));
    b.push(
        name,
        "An unsigned SVID (alg none) is refused.",
        t,
        "main",
        json!({}),
        err("unsupported_algorithm"),
    );
    let name = "svid_alg_not_in_allow_list";
    let t = b.svid(name, "p256-a", Alg::ES256, &c);
    b.push(
        name,
        "The verifier's algorithm allow-list narrows the SVID algorithms.",
        t,
        "main",
        json!({"algorithms": ["RS256"]}),
        err("unsupported_algorithm"),
    );

    // ----- sub: the SPIFFE ID, and the bundle it selects -----
    for (name, sub, code, what) in [
        ("svid_sub_missing", Value::Null, "invalid_claim", "an SVID without sub"),
        (
            "svid_sub_not_spiffe",
            json!("https://example.org/agents/a"),
            "invalid_spiffe_id",
            "a sub that is a URL but not a SPIFFE ID",
        ),
        (
            "svid_sub_uppercase_trust_domain",
            json!("spiffe://Example.org/agents/a"),
            "invalid_spiffe_id",
            "an upper-case trust domain (IDs are not normalised)",
        ),
        (
            "svid_sub_dot_segment",
            json!("spiffe://example.org/agents/../admin"),
            "invalid_spiffe_id",
            "a '..' path segment",
        ),
        (
            "svid_sub_query",
            json!("spiffe://example.org/agents/a?x=1"),
            "invalid_spiffe_id",
            "a query",
        ),
        (
            "svid_sub_trailing_slash",
            json!("spiffe://example.org/agents/"),
            "invalid_spiffe_id",
            "a trailing '/'",
        ),
        (
            "svid_sub_port",
            json!("spiffe://example.org:443/agents/a"),
            "invalid_spiffe_id",
            "a port in the trust domain",
        ),
        (
            "svid_sub_not_a_string",
            json!(["spiffe://example.org/agents/a"]),
            "invalid_claim",
            "a sub that is an array",
        ),
    ] {
        let claims = if sub.is_null() {
            b.claims(&[("sub", del())])
        } else {
            b.claims(&[("sub", sub)])
        };
        let t = b.svid(name, "p256-a", Alg::ES256, &claims);
        b.push(name, &format!("Refused: {what}."), t, "main", json!({}), err(code));
    }
    let name = "svid_unknown_trust_domain";
    let t = b.svid(
        name,
        "p256-a",
        Alg::ES256,
        &b.claims(&[("sub", json!("spiffe://elsewhere.test/a"))]),
    );
    b.push(
        name,
        "An SVID of a trust domain without a bundle is refused, whoever signed it.",
        t,
        "main",
        json!({}),
        err("unknown_trust_domain"),
    );
    let name = "svid_other_domains_key";
    let t = b.svid(
        name,
        "p256-a",
        Alg::ES256,
        &b.claims(&[("sub", json!("spiffe://partner.test/payments"))]),
    );
    b.push(name, "A partner.test SVID signed with an example.org key (kid p256-a): the sub's trust domain picks the bundle, so the key is not found.", t, "main", json!({}), err("key_not_found"));
    let name = "svid_partner_key_for_our_domain";
    let t = b.svid(name, "rsa-b", Alg::RS256, &c);
    b.push(name, "An example.org SVID signed with partner.test's key: example.org's bundle holds rsa-b only as an X.509 authority, which never verifies a JWT.", t, "main", json!({}), err("key_not_found"));

    // ----- kid -----
    let name = "svid_unknown_kid";
    let h = hdr("ES256", Some("retired-key"), Some("JWT"));
    let t = b.token(name, "p256-a", Alg::ES256, &h, &c);
    b.push(
        name,
        "A kid the bundle does not hold.",
        t,
        "main",
        json!({}),
        err("key_not_found"),
    );
    let name = "svid_wit_svid_key";
    let h = hdr("ES256", Some("ed25519-a"), Some("JWT"));
    let t = b.token(name, "p256-a", Alg::ES256, &h, &c);
    b.push(
        name,
        "A kid naming a wit-svid key: keys for other SVID types are not JWT-SVID authorities.",
        t,
        "main",
        json!({}),
        err("key_not_found"),
    );
    let name = "svid_kidless_single_key_bundle";
    let h = hdr("ES256", None, Some("JWT"));
    let t = b.token(name, "p256-a", Alg::ES256, &h, &c);
    b.push(
        name,
        "No kid, and the bundle holds exactly one JWT key: that key.",
        t,
        "single",
        json!({}),
        ok(ID, &[AUD], exp),
    );
    let name = "svid_kidless_several_keys";
    let h = hdr("ES256", None, Some("JWT"));
    let t = b.token(name, "p256-a", Alg::ES256, &h, &c);
    b.push(
        name,
        "No kid, and the bundle holds several keys: refused rather than tried one by one.",
        t,
        "main",
        json!({}),
        err("key_not_found"),
    );
    let name = "svid_kid_alg_mismatch";
    let h = hdr("RS256", Some("p256-a"), Some("JWT"));
    let t = b.token(name, "rsa-a", Alg::RS256, &h, &c);
    b.push(
        name,
        "alg RS256 with the kid of an EC key.",
        t,
        "main",
        json!({}),
        err("algorithm_mismatch"),
    );

    // ----- signature and structure -----
    let name = "svid_tampered_payload";
    let good = b.svid(name, "p256-a", Alg::ES256, &c);
    let parts: Vec<&str> = good.split('.').collect();
    let t = format!(
        "{}.{}.{}",
        parts[0],
        seg(&b.claims(&[("sub", json!("spiffe://example.org/admin"))])),
        parts[2]
    );
    b.push(
        name,
        "A payload changed after signing (the sub made admin).",
        t,
        "main",
        json!({}),
        err("invalid_signature"),
    );
    let name = "svid_jwe";
    b.push(
        name,
        "A JWE (5 segments) is not a JWT-SVID.",
        "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d".to_string(),
        "main",
        json!({}),
        err("malformed_token"),
    );
    let name = "svid_too_large";
    let t = b.svid(name, "p256-a", Alg::ES256, &c);
    b.push(
        name,
        "Larger than max_token_bytes.",
        t,
        "main",
        json!({"max_token_bytes": 100}),
        err("token_too_large"),
    );

    // ----- exp and nbf -----
    let name = "svid_exp_missing";
    let t = b.svid(name, "p256-a", Alg::ES256, &b.claims(&[("exp", del())]));
    b.push(name, "exp is required.", t, "main", json!({}), err("invalid_claim"));
    let name = "svid_expired";
    let t = b.svid(name, "p256-a", Alg::ES256, &b.claims(&[("exp", json!(NOW - 31))]));
    b.push(
        name,
        "Expired beyond the default 30 s leeway.",
        t,
        "main",
        json!({}),
        err("token_expired"),
    );
    let name = "svid_expired_within_leeway";
    let t = b.svid(name, "p256-a", Alg::ES256, &b.claims(&[("exp", json!(NOW - 29))]));
    b.push(
        name,
        "Expired 29 s ago, within the default 30 s leeway.",
        t,
        "main",
        json!({}),
        ok(ID, &[AUD], NOW - 29),
    );
    let name = "svid_expires_now_no_leeway";
    let t = b.svid(name, "p256-a", Alg::ES256, &b.claims(&[("exp", json!(NOW))]));
    b.push(
        name,
        "exp equal to now with leeway 0 is expired.",
        t,
        "main",
        json!({"leeway": 0}),
        err("token_expired"),
    );
    let name = "svid_exp_not_a_number";
    let t = b.svid(name, "p256-a", Alg::ES256, &b.claims(&[("exp", json!("tomorrow"))]));
    b.push(
        name,
        "exp that is a string.",
        t,
        "main",
        json!({}),
        err("invalid_claim"),
    );
    let name = "svid_nbf_future";
    let t = b.svid(name, "p256-a", Alg::ES256, &b.claims(&[("nbf", json!(NOW + 120))]));
    b.push(
        name,
        "nbf two minutes ahead.",
        t,
        "main",
        json!({}),
        err("token_not_yet_valid"),
    );

    // ----- aud -----
    let name = "svid_aud_string";
    let t = b.svid(name, "p256-a", Alg::ES256, &b.claims(&[("aud", json!(AUD))]));
    b.push(
        name,
        "aud as a single string.",
        t,
        "main",
        json!({}),
        ok(ID, &[AUD], exp),
    );
    let two = ["https://other.example", AUD];
    let name = "svid_aud_one_of_two";
    let t = b.svid(name, "p256-a", Alg::ES256, &b.claims(&[("aud", json!(two))]));
    b.push(
        name,
        "Two audiences, one of them ours.",
        t,
        "main",
        json!({}),
        ok(ID, &two, exp),
    );
    let name = "svid_aud_sole_audience";
    let t = b.svid(name, "p256-a", Alg::ES256, &b.claims(&[("aud", json!(two))]));
    b.push(
        name,
        "Two audiences where ours must be the only one (an authorization server reading a client assertion).",
        t,
        "main",
        json!({"sole_audience": true}),
        err("invalid_audience"),
    );
    for (name, aud, code, what) in [
        ("svid_aud_missing", Value::Null, "invalid_audience", "no aud"),
        (
            "svid_aud_wrong",
            json!(["https://other.example"]),
            "invalid_audience",
            "an aud that is not ours",
        ),
        ("svid_aud_empty_array", json!([]), "invalid_claim", "an empty aud array"),
        ("svid_aud_number", json!(42), "invalid_claim", "a number as aud"),
    ] {
        let claims = if aud.is_null() {
            b.claims(&[("aud", del())])
        } else {
            b.claims(&[("aud", aud)])
        };
        let t = b.svid(name, "p256-a", Alg::ES256, &claims);
        b.push(name, &format!("Refused: {what}."), t, "main", json!({}), err(code));
    }

    // ----- allowed IDs -----
    for (name, patterns, expect, what) in [
        ("svid_allowed_exact", json!([ID]), ok(ID, &[AUD], exp), "the exact ID"),
        (
            "svid_allowed_prefix",
            json!(["spiffe://example.org/agents/*"]),
            ok(ID, &[AUD], exp),
            "a path prefix",
        ),
        (
            "svid_allowed_trust_domain",
            json!(["spiffe://example.org"]),
            ok(ID, &[AUD], exp),
            "the trust domain",
        ),
        (
            "svid_not_allowed_prefix",
            json!(["spiffe://example.org/billing/*"]),
            err("spiffe_id_not_allowed"),
            "another prefix",
        ),
        (
            "svid_not_allowed_segment_prefix",
            json!(["spiffe://example.org/agents/ml"]),
            err("spiffe_id_not_allowed"),
            "an exact ID that is a string prefix of the SVID's, not the ID",
        ),
        (
            "svid_not_allowed_other_domain",
            json!(["spiffe://partner.test"]),
            err("spiffe_id_not_allowed"),
            "another trust domain",
        ),
    ] {
        let t = b.svid(name, "p256-a", Alg::ES256, &c);
        b.push(
            name,
            &format!("allowed_ids: {what}."),
            t,
            "main",
            json!({"allowed_ids": patterns}),
            expect,
        );
    }

    let bundles = json!({
        "main": b.bundles("main"),
        "single": b.bundles("single"),
        "oidc": b.bundles("oidc"),
        "eddsa": b.bundles("eddsa"),
    });
    let cases = b.cases;
    let mut names = std::collections::BTreeSet::new();
    for c in &cases {
        if !names.insert(c["name"].as_str().unwrap_or_default().to_string()) {
            return Err(format!("{FILE}: duplicate case {}", c["name"]));
        }
    }
    Ok(pretty(&json!({
        "version": 1,
        "description": "JWT-SVIDs (SPIFFE JWT-SVID standard) through the JWT-SVID verifier: algorithms, typ and header members, sub as a SPIFFE ID that selects its trust domain's bundle, kid, exp, nbf, aud, which bundle keys count, and allowed SPIFFE IDs.",
        "bundles": bundles,
        "cases": cases,
    })))
}
