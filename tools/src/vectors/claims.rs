//! `verify_claims.json`: exp, nbf, iat with leeway edges, iss, aud, required claims, precedence.

use super::case::{case, claims, del, hdr, seg, with, File, AUD, ISS, NOW};
use super::signing::Gen;
use authsec_core::Alg;
use serde_json::{json, Value};

pub(crate) fn file(g: &mut Gen) -> File {
    let mut f = File::new("verify_claims.json", "Claim rules: exp, nbf, iat with leeway edges, iss, aud, required claims, and which error wins when several apply.");
    // (name, changes to the usual claims, extra options, expected error or None for success, description)
    type Row = (
        &'static str,
        Vec<(&'static str, Value)>,
        Vec<(&'static str, Value)>,
        Option<&'static str>,
        &'static str,
    );
    let rows: Vec<Row> =
        vec![
        (
            "claims_valid",
            vec![],
            vec![],
            None,
            "The issuer's usual EdDSA token verifies and yields all its claims.",
        ),
        // exp
        (
            "exp_past",
            vec![("iat", json!(NOW - 7200)), ("exp", json!(NOW - 3600))],
            vec![],
            Some("token_expired"),
            "A token that expired an hour ago is rejected.",
        ),
        (
            "exp_missing",
            vec![("exp", del())],
            vec![],
            Some("invalid_claim"),
            "A token without exp is rejected: access tokens must expire.",
        ),
        (
            "exp_string",
            vec![("exp", json!((NOW + 600).to_string()))],
            vec![],
            Some("invalid_claim"),
            "An exp given as a string of digits is not a NumericDate.",
        ),
        (
            "exp_null",
            vec![("exp", json!(null))],
            vec![],
            Some("invalid_claim"),
            "A null exp is not a NumericDate.",
        ),
        (
            "exp_boolean",
            vec![("exp", json!(true))],
            vec![],
            Some("invalid_claim"),
            "A boolean exp is not a NumericDate.",
        ),
        (
            "exp_fractional",
            vec![("exp", json!(NOW as f64 + 600.5))],
            vec![],
            None,
            "A fractional exp (NumericDate may be non-integer) is accepted.",
        ),
        // leeway edges around exp
        (
            "exp_exactly_now_leeway_0",
            vec![("exp", json!(NOW))],
            vec![("leeway", json!(0))],
            Some("token_expired"),
            "With leeway 0, a token is expired at exactly exp (now must be before exp).",
        ),
        (
            "exp_one_second_ahead_leeway_0",
            vec![("exp", json!(NOW + 1))],
            vec![("leeway", json!(0))],
            None,
            "With leeway 0, a token is valid one second before exp.",
        ),
        (
            "exp_within_default_leeway",
            vec![("exp", json!(NOW - 4))],
            vec![],
            None,
            "A token that expired 4 s ago is accepted with the default 5 s leeway.",
        ),
        (
            "exp_at_default_leeway_edge",
            vec![("exp", json!(NOW - 5))],
            vec![],
            Some("token_expired"),
            "A token that expired exactly 5 s ago is rejected with the default 5 s leeway (exp + leeway is exclusive).",
        ),
        (
            "exp_beyond_default_leeway",
            vec![("exp", json!(NOW - 6))],
            vec![],
            Some("token_expired"),
            "A token that expired 6 s ago is rejected with the default 5 s leeway.",
        ),
        (
            "exp_within_leeway_60",
            vec![("exp", json!(NOW - 59))],
            vec![("leeway", json!(60))],
            None,
            "A token that expired 59 s ago is accepted with a 60 s leeway.",
        ),
        (
            "exp_beyond_leeway_60",
            vec![("exp", json!(NOW - 61))],
            vec![("leeway", json!(60))],
            Some("token_expired"),
            "A token that expired 61 s ago is rejected with a 60 s leeway.",
        ),
        // nbf
        (
            "nbf_future",
            vec![("nbf", json!(NOW + 3600))],
            vec![],
            Some("token_not_yet_valid"),
            "A token valid only from an hour from now is rejected.",
        ),
        (
            "nbf_past",
            vec![("nbf", json!(NOW - 60))],
            vec![],
            None,
            "A token with nbf in the past verifies.",
        ),
        (
            "nbf_exactly_now_leeway_0",
            vec![("nbf", json!(NOW))],
            vec![("leeway", json!(0))],
            None,
            "With leeway 0, a token is valid at exactly nbf.",
        ),
        (
            "nbf_one_second_ahead_leeway_0",
            vec![("nbf", json!(NOW + 1))],
            vec![("leeway", json!(0))],
            Some("token_not_yet_valid"),
            "With leeway 0, a token is not valid one second before nbf.",
        ),
        (
            "nbf_within_default_leeway",
            vec![("nbf", json!(NOW + 5))],
            vec![],
            None,
            "nbf 5 s ahead is accepted with the default 5 s leeway.",
        ),
        (
            "nbf_beyond_default_leeway",
            vec![("nbf", json!(NOW + 6))],
            vec![],
            Some("token_not_yet_valid"),
            "nbf 6 s ahead is rejected with the default 5 s leeway.",
        ),
        (
            "nbf_string",
            vec![("nbf", json!(NOW.to_string()))],
            vec![],
            Some("invalid_claim"),
            "A string nbf is not a NumericDate.",
        ),
        // iat
        (
            "iat_future",
            vec![("iat", json!(NOW + 3600))],
            vec![],
            Some("token_not_yet_valid"),
            "A token issued an hour in the future is rejected.",
        ),
        (
            "iat_within_default_leeway",
            vec![("iat", json!(NOW + 5))],
            vec![],
            None,
            "iat 5 s ahead is accepted with the default 5 s leeway.",
        ),
        (
            "iat_beyond_default_leeway",
            vec![("iat", json!(NOW + 6))],
            vec![],
            Some("token_not_yet_valid"),
            "iat 6 s ahead is rejected with the default 5 s leeway.",
        ),
        (
            "iat_missing",
            vec![("iat", del())],
            vec![],
            None,
            "iat is optional unless listed in required_claims.",
        ),
        (
            "iat_string",
            vec![("iat", json!((NOW - 60).to_string()))],
            vec![],
            Some("invalid_claim"),
            "A string iat is not a NumericDate.",
        ),
        // iss
        (
            "iss_wrong",
            vec![("iss", json!("https://evil.example"))],
            vec![],
            Some("invalid_issuer"),
            "A token from another issuer is rejected.",
        ),
        (
            "iss_missing",
            vec![("iss", del())],
            vec![],
            Some("invalid_issuer"),
            "A token without iss is rejected when an issuer is configured.",
        ),
        (
            "iss_trailing_slash",
            vec![("iss", json!(format!("{ISS}/")))],
            vec![],
            Some("invalid_issuer"),
            "iss is compared exactly: a trailing slash makes it another issuer.",
        ),
        (
            "iss_different_case",
            vec![("iss", json!("https://ISSUER.example"))],
            vec![],
            Some("invalid_issuer"),
            "iss is compared exactly: a different case makes it another issuer.",
        ),
        (
            "iss_not_a_string",
            vec![("iss", json!([ISS]))],
            vec![],
            Some("invalid_issuer"),
            "An iss that is an array (even holding the right issuer) is rejected.",
        ),
        (
            "iss_check_skipped_wrong_iss",
            vec![("iss", json!("https://evil.example"))],
            vec![("issuer", del()), ("skip_issuer_check", json!(true))],
            None,
            "With skip_issuer_check and no issuer, any iss is accepted.",
        ),
        (
            "iss_check_skipped_missing_iss",
            vec![("iss", del())],
            vec![("issuer", del()), ("skip_issuer_check", json!(true))],
            None,
            "With skip_issuer_check and no issuer, a token without iss is accepted.",
        ),
        // aud
        (
            "aud_wrong",
            vec![("aud", json!("https://other-api.example"))],
            vec![],
            Some("invalid_audience"),
            "A token for another audience is rejected.",
        ),
        (
            "aud_array_contains_expected",
            vec![("aud", json!(["https://other-api.example", AUD]))],
            vec![],
            None,
            "An aud array that contains the expected audience is accepted.",
        ),
        (
            "aud_array_without_expected",
            vec![("aud", json!(["https://other-api.example", "https://third-api.example"]))],
            vec![],
            Some("invalid_audience"),
            "An aud array without the expected audience is rejected.",
        ),
        (
            "aud_missing",
            vec![("aud", del())],
            vec![],
            Some("invalid_audience"),
            "A token without aud is rejected when an audience is configured.",
        ),
        (
            "aud_empty_array",
            vec![("aud", json!([]))],
            vec![],
            Some("invalid_audience"),
            "An empty aud array is rejected.",
        ),
        (
            "aud_array_with_non_string",
            vec![("aud", json!([AUD, 5]))],
            vec![],
            Some("invalid_audience"),
            "An aud array holding a non-string is rejected, even next to the expected audience.",
        ),
        (
            "aud_number",
            vec![("aud", json!(5))],
            vec![],
            Some("invalid_audience"),
            "A numeric aud is rejected.",
        ),
        (
            "aud_prefix_of_expected",
            vec![("aud", json!(format!("{AUD}/v1")))],
            vec![],
            Some("invalid_audience"),
            "aud is compared exactly: a longer URL is another audience.",
        ),
        // aud with an explicit audience_match policy (exact is the default)
        (
            "aud_trailing_slash_exact_by_default",
            vec![("aud", json!(format!("{AUD}/")))],
            vec![],
            Some("invalid_audience"),
            "By default aud is compared exactly: a trailing slash makes another audience.",
        ),
        (
            "aud_match_trailing_slash_accepts_a_slash",
            vec![("aud", json!(format!("{AUD}/")))],
            vec![("audience_match", json!("trailing_slash"))],
            None,
            "audience_match trailing_slash: the same URL with a trailing slash is accepted.",
        ),
        (
            "aud_match_trailing_slash_accepts_case_and_port",
            vec![("aud", json!("HTTPS://API.EXAMPLE:443"))],
            vec![("audience_match", json!("trailing_slash"))],
            None,
            "audience_match trailing_slash compares canonical URLs: scheme and host case, the default port.",
        ),
        (
            "aud_match_trailing_slash_rejects_a_longer_path",
            vec![("aud", json!(format!("{AUD}/v1")))],
            vec![("audience_match", json!("trailing_slash"))],
            Some("invalid_audience"),
            "audience_match trailing_slash: another path is another audience.",
        ),
        (
            "aud_match_path_prefix_accepts_a_parent",
            vec![("aud", json!(AUD))],
            vec![("audience", json!([format!("{AUD}/mcp")])), ("audience_match", json!("path_prefix"))],
            None,
            "audience_match path_prefix: a token for the origin is accepted by a resource below it.",
        ),
        (
            "aud_match_path_prefix_rejects_a_child",
            vec![("aud", json!(format!("{AUD}/mcp")))],
            vec![("audience_match", json!("path_prefix"))],
            Some("invalid_audience"),
            "audience_match path_prefix: a token for a resource below is not accepted above it.",
        ),
        (
            "aud_match_path_prefix_rejects_a_partial_segment",
            vec![("aud", json!(format!("{AUD}/mc")))],
            vec![("audience", json!([format!("{AUD}/mcp")])), ("audience_match", json!("path_prefix"))],
            Some("invalid_audience"),
            "audience_match path_prefix matches whole path segments: /mc does not cover /mcp.",
        ),
        (
            "aud_match_path_prefix_rejects_another_origin",
            vec![("aud", json!("https://api.example.evil"))],
            vec![("audience", json!([format!("{AUD}/mcp")])), ("audience_match", json!("path_prefix"))],
            Some("invalid_audience"),
            "audience_match path_prefix: another host is another audience.",
        ),
        (
            "aud_match_path_prefix_missing_aud",
            vec![("aud", del())],
            vec![("audience_match", json!("path_prefix"))],
            Some("invalid_audience"),
            "A token without aud is refused under every audience_match policy.",
        ),
        (
            "aud_match_non_url_audiences_are_exact",
            vec![("aud", json!("orders-api/"))],
            vec![("audience", json!(["orders-api"])), ("audience_match", json!("trailing_slash"))],
            Some("invalid_audience"),
            "audience_match relaxes http(s) URLs only: other audiences are compared exactly.",
        ),
        (
            "aud_second_configured_audience",
            vec![("aud", json!("https://api2.example"))],
            vec![("audience", json!([AUD, "https://api2.example"]))],
            None,
            "With two configured audiences, a token for the second one is accepted.",
        ),
        (
            "aud_check_skipped_missing_aud",
            vec![("aud", del())],
            vec![("audience", json!([])), ("skip_audience_check", json!(true))],
            None,
            "With skip_audience_check, a token without aud is accepted.",
        ),
        (
            "aud_check_skipped_wrong_aud",
            vec![("aud", json!("https://other-api.example"))],
            vec![("audience", json!([])), ("skip_audience_check", json!(true))],
            None,
            "With skip_audience_check, a token for another audience is accepted.",
        ),
        // required claims
        (
            "required_claims_present",
            vec![],
            vec![("required_claims", json!(["sub", "client_id", "iat", "jti"]))],
            None,
            "The RFC 9068 claims sub, client_id, iat and jti are required and present.",
        ),
        (
            "required_claim_missing",
            vec![("jti", del())],
            vec![("required_claims", json!(["sub", "client_id", "iat", "jti"]))],
            Some("invalid_claim"),
            "A required claim (jti) that is missing is rejected.",
        ),
        (
            "required_iat_missing",
            vec![("iat", del())],
            vec![("required_claims", json!(["iat"]))],
            Some("invalid_claim"),
            "iat listed in required_claims and missing is rejected.",
        ),
        // which check wins
        (
            "order_expired_and_wrong_issuer",
            vec![
                ("exp", json!(NOW - 3600)),
                ("iat", json!(NOW - 7200)),
                ("iss", json!("https://evil.example")),
            ],
            vec![],
            Some("token_expired"),
            "Expired and from the wrong issuer: exp is checked first.",
        ),
        (
            "order_not_yet_valid_and_wrong_audience",
            vec![("nbf", json!(NOW + 3600)), ("aud", json!("https://other-api.example"))],
            vec![],
            Some("token_not_yet_valid"),
            "Not yet valid and for the wrong audience: nbf is checked first.",
        ),
        (
            "order_wrong_issuer_and_wrong_audience",
            vec![
                ("iss", json!("https://evil.example")),
                ("aud", json!("https://other-api.example")),
            ],
            vec![],
            Some("invalid_issuer"),
            "Wrong issuer and wrong audience: iss is checked before aud.",
        ),
        (
            "order_wrong_audience_and_missing_required",
            vec![("aud", json!("https://other-api.example")), ("jti", del())],
            vec![("required_claims", json!(["jti"]))],
            Some("invalid_audience"),
            "Wrong audience and a missing required claim: aud is checked first.",
        ),
    ];
    for (name, changes, opts, expect, desc) in rows {
        let c = with(&claims(name), &changes);
        let t = g.std_token(name, Alg::EdDSA, &c);
        let mut k = case(name, desc, t);
        for (o, v) in opts {
            k = k.opt(o, v);
        }
        f.push(match expect {
            None => k.ok(&c),
            Some(e) => k.err(e),
        });
    }
    {
        let name = "order_bad_signature_and_expired";
        let key = "ed25519-a";
        let h = seg(&hdr("EdDSA", Some(key), Some("at+jwt")));
        let s = g.sig(name, key, Alg::EdDSA, &h, &seg(&claims("claims_valid")));
        let expired = with(&claims(name), &[("exp", json!(NOW - 3600)), ("iat", json!(NOW - 7200))]);
        f.push(case(name, "A tampered, expired token is reported as a bad signature: nothing in an unverified payload is trusted.", format!("{h}.{}.{s}", seg(&expired))).err("invalid_signature"));
    }
    f
}
