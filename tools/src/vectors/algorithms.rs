//! `verify_algorithms.json`: every supported algorithm, valid and tampered.

use super::case::{b64, case, claims, hdr, lower, seg, with, File};
use super::der;
use super::signing::{issuer_key, Gen};
use authsec_core::Alg;
use serde_json::json;

pub(crate) fn file(g: &mut Gen) -> File {
    let mut f = File::new(
        "verify_algorithms.json",
        "Every supported algorithm: a valid token verifies; a tampered or mis-signed one does not.",
    );
    for alg in Alg::ALL {
        let name = format!("{}_valid", lower(alg));
        let c = claims(&name);
        let t = g.std_token(&name, alg, &c);
        f.push(
            case(
                &name,
                &format!(
                    "An {alg} access token signed by the issuer's {} key verifies and yields its claims.",
                    issuer_key(alg)
                ),
                t,
            )
            .ok(&c),
        );
    }
    for alg in Alg::ALL {
        // The signature of the valid token above, on a payload that grants more.
        let valid = format!("{}_valid", lower(alg));
        let name = format!("{}_tampered_payload", lower(alg));
        let key = issuer_key(alg);
        let h = seg(&hdr(alg.as_str(), Some(key), Some("at+jwt")));
        let s = g.sig(&name, key, alg, &h, &seg(&claims(&valid)));
        let forged = with(
            &claims(&valid),
            &[("sub", json!("admin")), ("scope", json!("read:data write:logs admin"))],
        );
        f.push(
            case(
                &name,
                &format!(
                    "The {alg} signature of a valid token on a modified payload (sub and scope changed) is rejected."
                ),
                format!("{h}.{}.{s}", seg(&forged)),
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "eddsa_alg_named_ed25519";
        let c = claims(name);
        let t = g.jws(
            name,
            "ed25519-a",
            Alg::EdDSA,
            &hdr("Ed25519", Some("ed25519-a"), Some("at+jwt")),
            &c,
        );
        f.push(
            case(
                name,
                "The fully-specified algorithm name \"Ed25519\" (RFC 9864) is accepted as EdDSA with an Ed25519 key.",
                t,
            )
            .ok(&c),
        );
    }
    {
        // DER-encoded ECDSA signature instead of JWS's fixed-size r||s.
        let name = "es256_der_encoded_signature";
        let h = seg(&hdr("ES256", Some("p256-a"), Some("at+jwt")));
        let p = seg(&claims("es256_valid"));
        let raw = authsec_core::util::b64url_decode(&g.sig(name, "p256-a", Alg::ES256, &h, &p)).unwrap_or_default();
        f.push(case(name, "An ES256 signature in ASN.1 DER form (not the JWS r||s form) is rejected, even though it is the issuer's.", format!("{h}.{p}.{}", b64(&der::ecdsa_sig(&raw)))).err("invalid_signature"));
    }
    {
        let name = "rs256_signature_bit_flipped";
        let t = g.std_token("rs256_valid", Alg::RS256, &claims("rs256_valid"));
        let (hp, s) = t.rsplit_once('.').unwrap_or_default();
        let mut sig = authsec_core::util::b64url_decode(s).unwrap_or_default();
        if let Some(b) = sig.last_mut() {
            *b ^= 1;
        }
        f.push(
            case(
                name,
                "A valid RS256 token with one bit of its signature flipped is rejected.",
                format!("{hp}.{}", b64(&sig)),
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "ps256_header_rs256_signature";
        let c = claims(name);
        let t = g.jws(
            name,
            "rsa-a",
            Alg::RS256,
            &hdr("PS256", Some("rsa-a"), Some("at+jwt")),
            &c,
        );
        f.push(case(name, "A PS256 header over an RS256 (PKCS#1 v1.5) signature by the right key is rejected: the padding scheme is part of alg.", t).err("invalid_signature"));
    }
    {
        let name = "rs256_header_ps256_signature";
        let c = claims(name);
        let t = g.jws(
            name,
            "rsa-a",
            Alg::PS256,
            &hdr("RS256", Some("rsa-a"), Some("at+jwt")),
            &c,
        );
        f.push(
            case(
                name,
                "An RS256 header over a PS256 (PSS) signature by the right key is rejected.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "rs512_header_rs256_signature";
        let c = claims(name);
        let t = g.jws(
            name,
            "rsa-a",
            Alg::RS256,
            &hdr("RS512", Some("rsa-a"), Some("at+jwt")),
            &c,
        );
        f.push(
            case(
                name,
                "An RS512 header over an RS256 signature by the right key is rejected: the hash is part of alg.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    f
}
