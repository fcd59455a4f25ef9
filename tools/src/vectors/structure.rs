//! `verify_structure.json`: segments, base64url, JSON, size limits, the typ header.

use super::case::{b64, case, claims, hdr, seg, with, File};
use super::json::canon;
use super::signing::Gen;
use authsec_core::Alg;
use serde_json::json;

pub(crate) fn file(g: &mut Gen) -> File {
    let mut f = File::new(
        "verify_structure.json",
        "Token structure: segments, base64url, JSON, size limits, the typ header.",
    );
    let h_std = seg(&hdr("RS256", Some("rsa-a"), Some("at+jwt")));
    let valid = |g: &mut Gen, name: &str| {
        let c = claims(name);
        (g.std_token(name, Alg::RS256, &c), c)
    };
    // ----- segments -----
    {
        let name = "segments_1";
        f.push(case(name, "A single segment (no dots) is malformed.", h_std.clone()).err("malformed_token"));
    }
    {
        let name = "segments_2";
        f.push(
            case(
                name,
                "Two segments (header.payload, no signature part) are malformed.",
                format!("{h_std}.{}", seg(&claims(name))),
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "segments_4";
        let (t, _) = valid(g, name);
        let sig = t.rsplit('.').next().unwrap_or_default().to_string();
        f.push(
            case(
                name,
                "Four segments (a valid token plus an extra segment) are malformed.",
                format!("{t}.{sig}"),
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "segments_5_jwe";
        let h = seg(&json!({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "rsa-a", "typ": "at+jwt"}));
        let t = format!(
            "{h}.{}.{}.{}.{}",
            b64(&[7u8; 256]),
            b64(&[1u8; 12]),
            b64(b"ciphertext of the claims"),
            b64(&[2u8; 16])
        );
        f.push(
            case(
                name,
                "A five-segment JWE (encrypted token) is not accepted; only JWS compact form is.",
                t,
            )
            .err("malformed_token"),
        );
    }
    f.push(case("empty_token", "The empty string is malformed.", "").err("malformed_token"));
    {
        let name = "empty_signature";
        f.push(
            case(
                name,
                "An RS256 token with an empty signature segment is malformed.",
                format!("{h_std}.{}.", seg(&claims(name))),
            )
            .err("malformed_token"),
        );
    }
    // ----- base64url -----
    {
        let name = "header_not_base64url";
        let c = claims(name);
        let h = format!("{}*", &h_std[..h_std.len() - 1]);
        let t = g.jws_seg(name, "rsa-a", Alg::RS256, &h, &seg(&c));
        f.push(
            case(
                name,
                "A header segment with a character outside the base64url alphabet is malformed.",
                t,
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "payload_not_base64url";
        let p = seg(&claims(name));
        let p = format!("{}$$", &p[..p.len() - 2]);
        let t = g.jws_seg(name, "rsa-a", Alg::RS256, &h_std, &p);
        f.push(
            case(
                name,
                "A correctly signed token whose payload segment is not base64url is malformed.",
                t,
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "signature_not_base64url";
        f.push(
            case(
                name,
                "A signature segment that is not base64url is malformed.",
                format!("{h_std}.{}.not!base64", seg(&claims(name))),
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "signature_standard_base64";
        // Take a valid signature containing '-' or '_' and write it in the standard alphabet.
        let (t, _) = valid(g, name);
        let (hp, s) = t.rsplit_once('.').unwrap_or_default();
        let std_sig = s.replace('-', "+").replace('_', "/");
        let desc = "A signature in the standard base64 alphabet (+ and /) instead of base64url is malformed.";
        if std_sig != s {
            f.push(case(name, desc, format!("{hp}.{std_sig}")).err("malformed_token"));
        }
    }
    {
        let name = "header_base64_padding";
        // Pad the header JSON with spaces until its base64 needs '=' padding.
        let mut json_text = canon(&hdr("RS256", Some("rsa-a"), Some("at+jwt")));
        while json_text.len() % 3 == 0 {
            json_text.push(' ');
        }
        let padded = authsec_core::util::b64_std_encode(json_text.as_bytes())
            .replace('+', "-")
            .replace('/', "_");
        let t = g.jws_seg(name, "rsa-a", Alg::RS256, &padded, &seg(&claims(name)));
        f.push(
            case(
                name,
                "A header segment with '=' padding is malformed (base64url without padding, RFC 7515 §2).",
                t,
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "payload_base64_padding";
        let mut c = claims(name);
        while canon(&c).len() % 3 == 0 {
            c["pad"] = json!(format!("{}x", c["pad"].as_str().unwrap_or_default()));
        }
        let padded = authsec_core::util::b64_std_encode(canon(&c).as_bytes())
            .replace('+', "-")
            .replace('/', "_");
        let t = g.jws_seg(name, "rsa-a", Alg::RS256, &h_std, &padded);
        f.push(
            case(
                name,
                "A correctly signed token whose payload segment has '=' padding is malformed.",
                t,
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "signature_base64_padding";
        let (t, _) = valid(g, name);
        // A 2048-bit RSA signature is 256 bytes: its base64 ends in "==".
        f.push(
            case(
                name,
                "A valid RS256 token whose signature segment carries '=' padding is malformed.",
                format!("{t}=="),
            )
            .err("malformed_token"),
        );
    }
    // ----- JSON -----
    for (name, bytes, desc) in [
        (
            "header_not_json",
            b"this is not JSON".to_vec(),
            "A header that is not JSON is malformed.",
        ),
        (
            "header_json_array",
            br#"["RS256"]"#.to_vec(),
            "A header that is a JSON array, not an object, is malformed.",
        ),
        (
            "header_invalid_utf8",
            vec![b'{', b'"', b'a', b'l', b'g', b'"', b':', b'"', 0xff, 0xfe, b'"', b'}'],
            "A header that is not valid UTF-8 is malformed.",
        ),
    ] {
        let t = g.jws_seg(name, "rsa-a", Alg::RS256, &b64(&bytes), &seg(&claims(name)));
        f.push(case(name, desc, t).err("malformed_token"));
    }
    {
        let name = "header_duplicate_alg";
        let h = br#"{"alg":"none","kid":"rsa-a","typ":"at+jwt","alg":"RS256"}"#;
        let t = g.jws_seg(name, "rsa-a", Alg::RS256, &b64(h), &seg(&claims(name)));
        f.push(
            case(
                name,
                "A header with alg twice (none, then RS256) is rejected as malformed rather than resolved either way.",
                t,
            )
            .err("malformed_token"),
        );
    }
    for (name, bytes, desc) in [
        (
            "payload_not_json",
            b"this is not JSON".to_vec(),
            "A correctly signed token whose payload is not JSON is malformed.",
        ),
        (
            "payload_json_array",
            br#"[{"iss":"https://issuer.example"}]"#.to_vec(),
            "A correctly signed token whose payload is a JSON array, not an object, is malformed.",
        ),
        (
            "payload_json_string",
            br#""https://issuer.example""#.to_vec(),
            "A correctly signed token whose payload is a JSON string is malformed.",
        ),
        (
            "payload_empty",
            Vec::new(),
            "A correctly signed token with an empty payload segment is malformed.",
        ),
    ] {
        let t = g.jws_seg(name, "rsa-a", Alg::RS256, &h_std, &b64(&bytes));
        f.push(case(name, desc, t).err("malformed_token"));
    }
    // ----- whitespace and prefixes -----
    {
        let name = "trailing_newline";
        let (t, _) = valid(g, name);
        f.push(
            case(
                name,
                "A valid token followed by a newline is malformed: the verifier does not trim.",
                format!("{t}\n"),
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "leading_space";
        let (t, _) = valid(g, name);
        f.push(case(name, "A valid token preceded by a space is malformed.", format!(" {t}")).err("malformed_token"));
    }
    {
        let name = "bearer_prefix_included";
        let (t, _) = valid(g, name);
        f.push(
            case(
                name,
                "\"Bearer <token>\" passed as the token is malformed: strip the scheme before verifying.",
                format!("Bearer {t}"),
            )
            .err("malformed_token"),
        );
    }
    // ----- size -----
    {
        let name = "size_over_limit";
        let (t, _) = valid(g, name);
        f.push(
            case(
                name,
                "A valid token larger than max_token_bytes (256) is rejected before decoding.",
                t,
            )
            .opt("max_token_bytes", json!(256))
            .err("token_too_large"),
        );
    }
    {
        let name = "size_exactly_limit";
        let (t, c) = valid(g, name);
        let n = t.len();
        f.push(
            case(name, "A valid token exactly max_token_bytes long verifies.", t)
                .opt("max_token_bytes", json!(n))
                .ok(&c),
        );
    }
    {
        let name = "size_one_byte_over_limit";
        let (t, _) = valid(g, name);
        let n = t.len() - 1;
        f.push(
            case(
                name,
                "A valid token one byte longer than max_token_bytes is rejected.",
                t,
            )
            .opt("max_token_bytes", json!(n))
            .err("token_too_large"),
        );
    }
    {
        let name = "size_over_default_limit";
        let c = with(&claims(name), &[("pad", json!("x".repeat(12_300)))]);
        let t = g.std_token(name, Alg::RS256, &c);
        assert!(t.len() > 16 * 1024);
        f.push(
            case(
                name,
                "A valid token over the default limit of 16384 bytes is rejected with default options.",
                t,
            )
            .err("token_too_large"),
        );
    }
    // ----- typ -----
    for (name, typ, strict, ok, desc) in [
        (
            "typ_at_jwt",
            Some("at+jwt"),
            false,
            true,
            "typ at+jwt (RFC 9068) is accepted.",
        ),
        (
            "typ_application_at_jwt",
            Some("application/at+jwt"),
            false,
            true,
            "typ application/at+jwt is accepted (media type prefix is optional).",
        ),
        (
            "typ_at_jwt_uppercase",
            Some("AT+JWT"),
            false,
            true,
            "typ is compared case-insensitively: AT+JWT is accepted.",
        ),
        (
            "typ_jwt",
            Some("JWT"),
            false,
            true,
            "typ JWT is accepted by the default policy.",
        ),
        (
            "typ_missing",
            None,
            false,
            true,
            "A token without typ is accepted by the default policy.",
        ),
        (
            "typ_dpop_jwt",
            Some("dpop+jwt"),
            false,
            false,
            "typ dpop+jwt (a DPoP proof, RFC 9449) is never accepted as an access token.",
        ),
        (
            "typ_secevent_jwt",
            Some("secevent+jwt"),
            false,
            false,
            "typ secevent+jwt (a security event token) is not accepted as an access token.",
        ),
        (
            "typ_strict_at_jwt",
            Some("at+jwt"),
            true,
            true,
            "The strict policy accepts typ at+jwt.",
        ),
        (
            "typ_strict_application_at_jwt",
            Some("application/at+jwt"),
            true,
            true,
            "The strict policy accepts typ application/at+jwt.",
        ),
        (
            "typ_strict_jwt",
            Some("JWT"),
            true,
            false,
            "The strict policy rejects typ JWT.",
        ),
        (
            "typ_strict_missing",
            None,
            true,
            false,
            "The strict policy rejects a token without typ.",
        ),
        (
            "typ_strict_dpop_jwt",
            Some("dpop+jwt"),
            true,
            false,
            "The strict policy rejects typ dpop+jwt.",
        ),
    ] {
        let c = claims(name);
        let t = g.jws(name, "rsa-a", Alg::RS256, &hdr("RS256", Some("rsa-a"), typ), &c);
        let mut k = case(name, desc, t);
        if strict {
            k = k.opt("typ", json!("strict"));
        }
        f.push(if ok { k.ok(&c) } else { k.err("invalid_token_type") });
    }
    {
        let name = "typ_not_a_string";
        let h = json!({"alg": "RS256", "kid": "rsa-a", "typ": 1});
        let t = g.jws(name, "rsa-a", Alg::RS256, &h, &claims(name));
        f.push(case(name, "A non-string typ is malformed.", t).err("malformed_token"));
    }
    f
}
