//! `verify_attacks.json`: the RFC 8725 attacks. This module: alg none, HMAC keyed with public key
//! material, alg names and the allow-list, alg/key confusion, crit; `keys`: kid games, keys in the
//! header, JWKS key rules.

mod keys;

use super::case::{case, claims, hdr, seg, File};
use super::json::canon;
use super::signing::{hmac_token, Gen, OCT_SECRET};
use authsec_core::Alg;
use serde_json::json;

pub(crate) fn file(g: &mut Gen) -> File {
    let mut f = File::new("verify_attacks.json", "RFC 8725 attacks: alg none, HMAC with a public key, algorithm/key confusion, kid games, embedded keys, crit, JWKS key rules.");
    algorithms(g, &mut f);
    keys::selection(g, &mut f);
    crit(g, &mut f);
    keys::jwks_rules(g, &mut f);
    f
}

/// alg none, HMAC keyed with public key material, alg names and the allow-list, alg/key confusion.
fn algorithms(g: &mut Gen, f: &mut File) {
    // ----- alg none -----
    for (suffix, alg) in [
        ("lowercase", "none"),
        ("capitalized", "None"),
        ("uppercase", "NONE"),
        ("mixed_case", "nOnE"),
    ] {
        let name = format!("alg_none_{suffix}");
        let c = claims(&name);
        let t = format!("{}.{}.", seg(&hdr(alg, None, Some("at+jwt"))), seg(&c));
        f.push(
            case(
                &name,
                &format!("An unsigned token with alg {alg:?} and an empty signature is rejected."),
                t,
            )
            .err("unsupported_algorithm"),
        );
    }
    {
        let name = "alg_none_with_kid_and_signature";
        let c = claims(name);
        let t = g.jws(
            name,
            "rsa-a",
            Alg::RS256,
            &hdr("none", Some("rsa-a"), Some("at+jwt")),
            &c,
        );
        f.push(case(name, "alg none with the issuer's kid and a real RS256 signature is still rejected: none is never an accepted alg.", t).err("unsupported_algorithm"));
    }
    // ----- HMAC keyed with public key material -----
    let rsa_jwk_text = canon(&g.jwk("rsa-a", &[]));
    let rsa_pem = g.key("rsa-a").public_pem.clone();
    let ec_pem = g.key("p256-a").public_pem.clone();
    // (name, alg, kid, HMAC key, description)
    type HmacRow<'a> = (&'a str, &'a str, Option<&'a str>, &'a [u8], &'a str);
    let hmac_cases: [HmacRow; 6] = [
        ("hs256_key_is_rsa_public_jwk", "HS256", Some("rsa-a"), rsa_jwk_text.as_bytes(), "HS256 with the issuer's RSA kid, HMAC-keyed with the bytes of that key's public JWK (as in the JWKS, compact), is rejected."),
        ("hs256_key_is_rsa_public_pem", "HS256", Some("rsa-a"), rsa_pem.as_bytes(), "HS256 with the issuer's RSA kid, HMAC-keyed with that key's SubjectPublicKeyInfo PEM text, is rejected."),
        ("hs256_no_kid_key_is_rsa_public_pem", "HS256", None, rsa_pem.as_bytes(), "HS256 without kid, HMAC-keyed with the issuer's RSA public PEM, is rejected."),
        ("hs256_key_is_ec_public_pem", "HS256", Some("p256-a"), ec_pem.as_bytes(), "HS256 with the issuer's EC kid, HMAC-keyed with that key's public PEM, is rejected."),
        ("hs384_key_is_rsa_public_pem", "HS384", Some("rsa-a"), rsa_pem.as_bytes(), "HS384 HMAC-keyed with the issuer's RSA public PEM is rejected."),
        ("hs512_key_is_rsa_public_jwk", "HS512", Some("rsa-a"), rsa_jwk_text.as_bytes(), "HS512 HMAC-keyed with the issuer's RSA public JWK bytes is rejected."),
    ];
    for (name, alg, kid, key, desc) in hmac_cases {
        let t = hmac_token(&hdr(alg, kid, Some("at+jwt")), &claims(name), key);
        f.push(case(name, desc, t).err("unsupported_algorithm"));
    }
    {
        let name = "hs256_with_oct_key_in_jwks";
        let t = hmac_token(
            &hdr("HS256", Some("hmac-1"), Some("at+jwt")),
            &claims(name),
            OCT_SECRET.as_bytes(),
        );
        f.push(case(name, "HS256 correctly keyed with a symmetric (oct) key that the JWKS itself publishes is rejected: HMAC is never accepted.", t).jwks("with-oct").err("unsupported_algorithm"));
    }
    {
        let name = "with_oct_jwks_es256_still_verifies";
        let c = claims(name);
        let t = g.std_token(name, Alg::ES256, &c);
        f.push(
            case(
                name,
                "An oct key in the JWKS is skipped without spoiling the set: the ES256 key next to it still verifies.",
                t,
            )
            .jwks("with-oct")
            .ok(&c),
        );
    }
    // ----- alg names and the allow-list -----
    {
        let name = "alg_lowercase_rs256";
        let c = claims(name);
        let t = g.jws(
            name,
            "rsa-a",
            Alg::RS256,
            &hdr("rs256", Some("rsa-a"), Some("at+jwt")),
            &c,
        );
        f.push(case(name, "alg names are case-sensitive: \"rs256\" is not RS256.", t).err("unsupported_algorithm"));
    }
    {
        let name = "alg_es512_unsupported";
        let c = claims(name);
        let t = g.jws(
            name,
            "p256-a",
            Alg::ES256,
            &hdr("ES512", Some("p256-a"), Some("at+jwt")),
            &c,
        );
        f.push(case(name, "ES512 is not a supported algorithm.", t).err("unsupported_algorithm"));
    }
    {
        let name = "alg_missing";
        let c = claims(name);
        let h = json!({"kid": "rsa-a", "typ": "at+jwt"});
        let t = g.jws(name, "rsa-a", Alg::RS256, &h, &c);
        f.push(case(name, "A header without alg is malformed.", t).err("malformed_token"));
    }
    {
        let name = "alg_not_a_string";
        let c = claims(name);
        let h = json!({"alg": 256, "kid": "rsa-a", "typ": "at+jwt"});
        let t = g.jws(name, "rsa-a", Alg::RS256, &h, &c);
        f.push(case(name, "A non-string alg is malformed.", t).err("malformed_token"));
    }
    {
        let name = "alg_not_in_allow_list";
        let c = claims(name);
        let t = g.std_token(name, Alg::ES256, &c);
        f.push(
            case(
                name,
                "A valid ES256 token is rejected by a verifier that only allows RS256.",
                t,
            )
            .opt("algorithms", json!(["RS256"]))
            .err("unsupported_algorithm"),
        );
    }
    {
        let name = "alg_allow_list_same_key_type";
        let c = claims(name);
        let t = g.std_token(name, Alg::RS256, &c);
        f.push(
            case(
                name,
                "A valid RS256 token is rejected by a verifier that only allows PS256, although the key type fits.",
                t,
            )
            .opt("algorithms", json!(["PS256"]))
            .err("unsupported_algorithm"),
        );
    }
    {
        let name = "alg_in_allow_list";
        let c = claims(name);
        let t = g.std_token(name, Alg::ES256, &c);
        f.push(
            case(
                name,
                "A valid ES256 token passes a verifier that allows RS256 and ES256.",
                t,
            )
            .opt("algorithms", json!(["RS256", "ES256"]))
            .ok(&c),
        );
    }
    // ----- alg / key confusion -----
    let mismatches: [(&str, &str, &str, &str, Alg, &str); 6] = [
        (
            "mismatch_es256_header_rsa_kid",
            "ES256",
            "rsa-a",
            "p256-a",
            Alg::ES256,
            "An ES256 token naming the issuer's RSA key is rejected before any signature check.",
        ),
        (
            "mismatch_rs256_header_ec_kid",
            "RS256",
            "p256-a",
            "attacker-rsa",
            Alg::RS256,
            "An RS256 token naming the issuer's P-256 key is rejected.",
        ),
        (
            "mismatch_es384_header_p256_kid",
            "ES384",
            "p256-a",
            "p384-a",
            Alg::ES384,
            "An ES384 token naming a P-256 key is rejected: the curve is part of alg.",
        ),
        (
            "mismatch_es256_header_p384_kid",
            "ES256",
            "p384-a",
            "p256-a",
            Alg::ES256,
            "An ES256 token naming a P-384 key is rejected.",
        ),
        (
            "mismatch_eddsa_header_rsa_kid",
            "EdDSA",
            "rsa-a",
            "ed25519-a",
            Alg::EdDSA,
            "An EdDSA token naming an RSA key is rejected.",
        ),
        (
            "mismatch_ps256_header_ed25519_kid",
            "PS256",
            "ed25519-a",
            "rsa-a",
            Alg::PS256,
            "A PS256 token naming the Ed25519 key is rejected.",
        ),
    ];
    for (name, alg, kid, signer, salg, desc) in mismatches {
        let t = g.jws(name, signer, salg, &hdr(alg, Some(kid), Some("at+jwt")), &claims(name));
        f.push(case(name, desc, t).err("algorithm_mismatch"));
    }
}

fn crit(g: &mut Gen, f: &mut File) {
    // ----- crit -----
    for (name, extra, code, desc) in [
        (
            "crit_unknown_extension",
            json!({"crit": ["https://example.com/ext"], "https://example.com/ext": true}),
            "unsupported_critical_header",
            "A crit header naming an extension the verifier does not implement is rejected (RFC 7515 §4.1.11).",
        ),
        (
            "crit_b64",
            json!({"crit": ["b64"], "b64": true}),
            "unsupported_critical_header",
            "crit [\"b64\"] (RFC 7797) is not supported and is rejected.",
        ),
        (
            "crit_empty_array",
            json!({"crit": []}),
            "malformed_token",
            "An empty crit array is malformed.",
        ),
        (
            "crit_not_an_array",
            json!({"crit": "exp"}),
            "malformed_token",
            "A crit that is not an array is malformed.",
        ),
    ] {
        let mut h = hdr("RS256", Some("rsa-a"), Some("at+jwt"));
        for (k, v) in extra.as_object().into_iter().flatten() {
            h[k] = v.clone();
        }
        let t = g.jws(name, "rsa-a", Alg::RS256, &h, &claims(name));
        f.push(case(name, desc, t).err(code));
    }
}
