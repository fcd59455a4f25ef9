//! The key-selection half of `verify_attacks.json`: kid games, no kid, keys embedded in or
//! referenced by the header, and the JWKS key rules.

use crate::vectors::case::{b64, case, claims, del, hdr, seg, File};
use crate::vectors::keys::pem_body;
use crate::vectors::signing::Gen;
use authsec_core::Alg;
use serde_json::json;

const ATTACKER_JKU: &str = "https://attacker.example/.well-known/jwks.json";

/// kid, no kid, and keys embedded in or referenced by the header.
pub(crate) fn selection(g: &mut Gen, f: &mut File) {
    // ----- kid -----
    for (name, kid, desc) in [
        (
            "kid_unknown",
            "rsa-unknown",
            "A kid that is not in the key set is key_not_found.",
        ),
        ("kid_empty_string", "", "An empty kid matches no key."),
        (
            "kid_different_case",
            "RSA-A",
            "kid matching is exact: \"RSA-A\" is not \"rsa-a\".",
        ),
    ] {
        let t = g.jws(
            name,
            "rsa-a",
            Alg::RS256,
            &hdr("RS256", Some(kid), Some("at+jwt")),
            &claims(name),
        );
        f.push(case(name, desc, t).err("key_not_found"));
    }
    {
        let name = "kid_not_a_string";
        let h = json!({"alg": "RS256", "kid": 1, "typ": "at+jwt"});
        let t = g.jws(name, "rsa-a", Alg::RS256, &h, &claims(name));
        f.push(case(name, "A non-string kid is malformed.", t).err("malformed_token"));
    }
    {
        let name = "kid_shared_by_two_key_types";
        let c = claims(name);
        let t = g.jws(
            name,
            "p256-a",
            Alg::ES256,
            &hdr("ES256", Some("shared"), Some("at+jwt")),
            &c,
        );
        let set = json!({"keys": [g.jwk("rsa-a", &[("kid", json!("shared"))]), g.jwk("p256-a", &[("kid", json!("shared"))])]});
        f.push(case(name, "When an RSA and a P-256 key share a kid, an ES256 token uses the key that fits its alg (inline key set).", t).inline_jwks(set).ok(&c));
    }
    {
        let name = "kid_victim_rs256_signed_by_attacker";
        let t = g.jws(
            name,
            "attacker-rsa",
            Alg::RS256,
            &hdr("RS256", Some("rsa-a"), Some("at+jwt")),
            &claims(name),
        );
        f.push(
            case(
                name,
                "An RS256 token naming the issuer's kid but signed by an attacker's key is rejected.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "kid_victim_es256_signed_by_attacker";
        let t = g.jws(
            name,
            "attacker-p256",
            Alg::ES256,
            &hdr("ES256", Some("p256-a"), Some("at+jwt")),
            &claims(name),
        );
        f.push(
            case(
                name,
                "An ES256 token naming the issuer's kid but signed by an attacker's key is rejected.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "kid_selects_rotated_key";
        let c = claims(name);
        let t = g.jws(
            name,
            "rsa-b",
            Alg::RS256,
            &hdr("RS256", Some("rsa-b"), Some("at+jwt")),
            &c,
        );
        f.push(
            case(
                name,
                "With two RSA keys, kid selects the second one and the token verifies.",
                t,
            )
            .jwks("rotation")
            .ok(&c),
        );
    }
    {
        let name = "kid_names_other_rotation_key";
        let t = g.jws(
            name,
            "rsa-b",
            Alg::RS256,
            &hdr("RS256", Some("rsa-a"), Some("at+jwt")),
            &claims(name),
        );
        f.push(case(name, "A token signed by rsa-b but naming rsa-a is rejected: the key is chosen by kid, other keys are not tried.", t).jwks("rotation").err("invalid_signature"));
    }
    // ----- no kid -----
    {
        let name = "no_kid_one_fitting_ec_key";
        let c = claims(name);
        let t = g.jws(name, "p256-a", Alg::ES256, &hdr("ES256", None, Some("at+jwt")), &c);
        f.push(
            case(
                name,
                "Without kid, the only P-256 key in the set is used and the token verifies.",
                t,
            )
            .ok(&c),
        );
    }
    {
        let name = "no_kid_one_fitting_rsa_key";
        let c = claims(name);
        let t = g.jws(name, "rsa-a", Alg::PS384, &hdr("PS384", None, Some("at+jwt")), &c);
        f.push(
            case(
                name,
                "Without kid, the only RSA key in the set is used for PS384 and the token verifies.",
                t,
            )
            .ok(&c),
        );
    }
    {
        let name = "no_kid_several_fitting_keys";
        let t = g.jws(
            name,
            "rsa-a",
            Alg::RS256,
            &hdr("RS256", None, Some("at+jwt")),
            &claims(name),
        );
        f.push(
            case(
                name,
                "Without kid and with two RSA keys in the set, no key is guessed: key_not_found.",
                t,
            )
            .jwks("rotation")
            .err("key_not_found"),
        );
    }
    {
        let name = "no_kid_no_fitting_key";
        let t = g.jws(
            name,
            "p384-a",
            Alg::ES384,
            &hdr("ES384", None, Some("at+jwt")),
            &claims(name),
        );
        f.push(
            case(name, "Without kid and with no P-384 key in the set: key_not_found.", t)
                .jwks("rotation")
                .err("key_not_found"),
        );
    }
    {
        let name = "no_kid_signed_by_attacker";
        let t = g.jws(
            name,
            "attacker-p256",
            Alg::ES256,
            &hdr("ES256", None, Some("at+jwt")),
            &claims(name),
        );
        f.push(
            case(
                name,
                "Without kid, the single fitting issuer key is used, so an attacker's ES256 signature fails.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    // ----- keys embedded in or referenced by the header -----
    let attacker_jwk = g.key("attacker-p256").public_jwk.clone();
    {
        let name = "header_jwk_attacker_key_victim_kid";
        let h = json!({"alg": "ES256", "kid": "p256-a", "typ": "at+jwt", "jwk": attacker_jwk});
        let t = g.jws(name, "attacker-p256", Alg::ES256, &h, &claims(name));
        f.push(case(name, "A token signed by an attacker's key and carrying that key in the jwk header (with the issuer's kid) is rejected: header keys are ignored.", t).err("invalid_signature"));
    }
    {
        let name = "header_jwk_attacker_key_no_kid";
        let h = json!({"alg": "ES256", "typ": "at+jwt", "jwk": attacker_jwk});
        let t = g.jws(name, "attacker-p256", Alg::ES256, &h, &claims(name));
        f.push(
            case(
                name,
                "A token signed by an attacker's key with the key embedded in jwk and no kid is rejected.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "header_jwk_attacker_key_attacker_kid";
        let h = json!({"alg": "ES256", "kid": "attacker-p256", "typ": "at+jwt", "jwk": attacker_jwk});
        let t = g.jws(name, "attacker-p256", Alg::ES256, &h, &claims(name));
        f.push(
            case(
                name,
                "A token with an embedded jwk and the attacker's own kid finds no issuer key.",
                t,
            )
            .err("key_not_found"),
        );
    }
    {
        let name = "header_jku_attacker";
        let h = json!({"alg": "RS256", "kid": "rsa-a", "typ": "at+jwt", "jku": ATTACKER_JKU});
        let t = g.jws(name, "attacker-rsa", Alg::RS256, &h, &claims(name));
        f.push(
            case(
                name,
                "A jku header pointing at an attacker's JWKS is ignored; the attacker's signature fails.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "header_x5u_attacker";
        let h = json!({"alg": "RS256", "kid": "rsa-a", "typ": "at+jwt", "x5u": "https://attacker.example/cert.pem"});
        let t = g.jws(name, "attacker-rsa", Alg::RS256, &h, &claims(name));
        f.push(
            case(
                name,
                "An x5u header pointing at an attacker's certificate is ignored; the attacker's signature fails.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "header_x5c_attacker";
        let spki = pem_body(&g.key("attacker-rsa").public_pem).unwrap_or_default();
        let h = json!({"alg": "RS256", "kid": "rsa-a", "typ": "at+jwt", "x5c": [authsec_core::util::b64_std_encode(&spki)]});
        let t = g.jws(name, "attacker-rsa", Alg::RS256, &h, &claims(name));
        f.push(
            case(
                name,
                "An x5c header carrying an attacker's key is ignored; the attacker's signature fails.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "header_jku_ignored_valid_signature";
        let c = claims(name);
        let h = json!({"alg": "RS256", "kid": "rsa-a", "typ": "at+jwt", "jku": ATTACKER_JKU});
        let t = g.jws(name, "rsa-a", Alg::RS256, &h, &c);
        f.push(case(name, "A jku header is neither fetched nor fatal: a token signed by the issuer's key still verifies with the configured keys.", t).ok(&c));
    }
}

/// Which JWKS entries may verify at all.
pub(crate) fn jwks_rules(g: &mut Gen, f: &mut File) {
    // ----- JWKS key rules -----
    {
        let name = "jwks_key_use_enc";
        let t = g.std_token(name, Alg::RS256, &claims(name));
        let set = json!({"keys": [g.jwk("rsa-a", &[("use", json!("enc"))])]});
        f.push(
            case(
                name,
                "A JWKS key marked use \"enc\" is never used to verify (inline key set).",
                t,
            )
            .inline_jwks(set)
            .err("key_not_found"),
        );
    }
    {
        let name = "jwks_key_ops_encrypt";
        let t = g.std_token(name, Alg::RS256, &claims(name));
        let set = json!({"keys": [g.jwk("rsa-a", &[("use", del()), ("key_ops", json!(["encrypt"]))])]});
        f.push(
            case(
                name,
                "A JWKS key whose key_ops lack \"verify\" is never used to verify (inline key set).",
                t,
            )
            .inline_jwks(set)
            .err("key_not_found"),
        );
    }
    {
        let name = "jwks_key_ops_verify";
        let c = claims(name);
        let t = g.std_token(name, Alg::RS256, &c);
        let set = json!({"keys": [g.jwk("rsa-a", &[("use", del()), ("key_ops", json!(["verify"]))])]});
        f.push(
            case(
                name,
                "A JWKS key with key_ops [\"verify\"] and no use verifies (inline key set).",
                t,
            )
            .inline_jwks(set)
            .ok(&c),
        );
    }
    {
        let name = "jwks_key_without_use";
        let c = claims(name);
        let t = g.std_token(name, Alg::RS256, &c);
        let set = json!({"keys": [g.jwk("rsa-a", &[("use", del())])]});
        f.push(
            case(
                name,
                "A JWKS key without use (optional in RFC 7517) verifies (inline key set).",
                t,
            )
            .inline_jwks(set)
            .ok(&c),
        );
    }
    {
        let name = "jwks_key_alg_differs_from_token";
        let t = g.std_token(name, Alg::PS256, &claims(name));
        f.push(
            case(
                name,
                "A PS256 token naming a key whose JWK pins alg RS256 is rejected, although the key type fits.",
                t,
            )
            .jwks("alg-pinned")
            .err("algorithm_mismatch"),
        );
    }
    {
        let name = "jwks_key_alg_matches_token";
        let c = claims(name);
        let t = g.std_token(name, Alg::RS256, &c);
        f.push(
            case(
                name,
                "An RS256 token naming a key whose JWK pins alg RS256 verifies.",
                t,
            )
            .jwks("alg-pinned")
            .ok(&c),
        );
    }
    {
        let name = "jwks_weak_rsa_1024_with_kid";
        let t = g.jws(
            name,
            "rsa-1024-weak",
            Alg::RS256,
            &hdr("RS256", Some("rsa-1024-weak"), Some("at+jwt")),
            &claims(name),
        );
        f.push(
            case(
                name,
                "A 1024-bit RSA key in the JWKS is skipped, so a token it really signed finds no key.",
                t,
            )
            .jwks("weak-rsa")
            .err("key_not_found"),
        );
    }
    {
        let name = "jwks_weak_rsa_1024_no_kid";
        let t = g.jws(
            name,
            "rsa-1024-weak",
            Alg::RS256,
            &hdr("RS256", None, Some("at+jwt")),
            &claims(name),
        );
        f.push(
            case(
                name,
                "Without kid, a skipped 1024-bit RSA key is not a candidate either.",
                t,
            )
            .jwks("weak-rsa")
            .err("key_not_found"),
        );
    }
    {
        // With e = 1 an RSA "signature" is the padded digest itself: anyone can make one. The key
        // must be skipped when the set is read, so this forgery finds no key at all.
        let name = "jwks_rsa_exponent_one_forgery";
        let jwk = g.jwk("rsa-a", &[("e", json!(b64(&[1])))]);
        let modulus_len = authsec_core::util::b64url_decode(jwk["n"].as_str().unwrap())
            .unwrap()
            .len();
        let (h, p) = (seg(&hdr("RS256", Some("rsa-a"), Some("at+jwt"))), seg(&claims(name)));
        let forged = pkcs1_v15_sha256_encoding(format!("{h}.{p}").as_bytes(), modulus_len);
        f.push(
            case(
                name,
                "An RSA key with exponent 1 is skipped when the JWKS is read (RFC 8017: e is odd and at least 3), so a token whose signature is just its padded digest finds no key.",
                format!("{h}.{p}.{}", b64(&forged)),
            )
            .inline_jwks(json!({"keys": [jwk]}))
            .err("key_not_found"),
        );
    }
    // An EC key whose point is off its curve verifies nothing (and is what invalid-curve attacks
    // are made of): skipped when the set is read, so the token finds no key.
    for (name, key, alg) in [
        ("jwks_ec_p256_point_off_curve", "p256-a", Alg::ES256),
        ("jwks_ec_p384_point_off_curve", "p384-a", Alg::ES384),
    ] {
        let genuine = g.jwk(key, &[]);
        let mut y = authsec_core::util::b64url_decode(genuine["y"].as_str().unwrap()).unwrap();
        let last = y.len() - 1;
        y[last] ^= 1;
        let jwk = g.jwk(key, &[("y", json!(b64(&y)))]);
        let c = claims(name);
        let t = g.std_token(name, alg, &c);
        f.push(
            case(
                name,
                "The key's y coordinate has one bit changed, which puts the point off its curve: the key is skipped when the JWKS is read (with the reason), so the token, genuinely signed by the original key, finds no key.",
                t,
            )
            .inline_jwks(json!({"keys": [jwk]}))
            .err("key_not_found"),
        );
    }
    {
        // A careless rotation publishes the new key under the old key's kid. Each key with the
        // kid that fits is tried (as jose does), not only the first.
        let set = json!({"keys": [g.jwk("rsa-b", &[("kid", json!("rsa-a"))]), g.jwk("rsa-a", &[])]});
        let name = "jwks_duplicate_kid_second_key_verifies";
        let c = claims(name);
        let t = g.std_token(name, Alg::RS256, &c);
        f.push(
            case(
                name,
                "Two keys share kid rsa-a; the token was signed by the second one. Every key with the kid that fits alg is tried, so it verifies.",
                t,
            )
            .inline_jwks(set.clone())
            .ok(&c),
        );
        let name = "jwks_duplicate_kid_neither_key";
        let t = g.jws(
            name,
            "rsa-1024-weak",
            Alg::RS256,
            &hdr("RS256", Some("rsa-a"), Some("at+jwt")),
            &claims(name),
        );
        f.push(
            case(
                name,
                "Two keys share kid rsa-a and neither signed the token: invalid_signature.",
                t,
            )
            .inline_jwks(set)
            .err("invalid_signature"),
        );
    }
    {
        let name = "jwks_junk_keys_skipped";
        let c = claims(name);
        let t = g.std_token(name, Alg::ES256, &c);
        f.push(case(name, "Unusable JWKS entries (unknown kty, P-521, Ed448, bad base64, missing fields, non-objects) are skipped; the good key verifies.", t).jwks("junk-and-good").ok(&c));
    }
    {
        let name = "jwks_empty";
        let t = g.std_token(name, Alg::ES256, &claims(name));
        f.push(
            case(name, "An empty key set verifies nothing: key_not_found.", t)
                .jwks("empty")
                .err("key_not_found"),
        );
    }
}

/// EMSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §9.2): what an RS256 signature decrypts to.
fn pkcs1_v15_sha256_encoding(message: &[u8], len: usize) -> Vec<u8> {
    use sha2::Digest;
    const SHA256_DIGEST_INFO: [u8; 19] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
        0x20,
    ];
    let digest = sha2::Sha256::digest(message);
    let padding = len - 3 - SHA256_DIGEST_INFO.len() - digest.len();
    let mut em = vec![0x00, 0x01];
    em.extend(std::iter::repeat_n(0xff, padding));
    em.push(0x00);
    em.extend_from_slice(&SHA256_DIGEST_INFO);
    em.extend_from_slice(&digest);
    em
}
