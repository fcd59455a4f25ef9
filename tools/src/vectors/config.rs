//! `verify_config.json`: verifier options refused at build time, and the limits allowed.

use super::case::{case, claims, del, File};
use super::signing::Gen;
use authsec_core::Alg;
use serde_json::{json, Value};

pub(crate) fn file(g: &mut Gen) -> File {
    let mut f = File::new(
        "verify_config.json",
        "Verifier options that are refused when the verifier is built (config_error), and the limits that are allowed.",
    );
    // (name, option changes, builds and verifies, description)
    type Row = (&'static str, Vec<(&'static str, Value)>, bool, &'static str);
    let rows: [Row; 7] = [
        (
            "config_unknown_audience_match",
            vec![("audience_match", json!("loose"))],
            false,
            "audience_match must be exact, trailing_slash or path_prefix.",
        ),
        (
            "config_no_issuer",
            vec![("issuer", del())],
            false,
            "A verifier without an issuer and without skip_issuer_check is refused.",
        ),
        (
            "config_empty_issuer",
            vec![("issuer", json!(""))],
            false,
            "An empty issuer counts as none.",
        ),
        (
            "config_no_audience",
            vec![("audience", json!([]))],
            false,
            "A verifier without an audience and without skip_audience_check is refused.",
        ),
        (
            "config_leeway_over_300",
            vec![("leeway", json!(301))],
            false,
            "A leeway above 300 s is refused.",
        ),
        (
            "config_leeway_300",
            vec![("leeway", json!(300))],
            true,
            "A leeway of exactly 300 s is allowed.",
        ),
        (
            "config_max_token_bytes_zero",
            vec![("max_token_bytes", json!(0))],
            false,
            "max_token_bytes 0 is refused.",
        ),
    ];
    for (name, opts, ok, desc) in rows {
        let c = claims(name);
        let t = g.std_token(name, Alg::EdDSA, &c);
        let mut k = case(name, desc, t);
        for (o, v) in opts {
            k = k.opt(o, v);
        }
        f.push(if ok { k.ok(&c) } else { k.err("config_error") });
    }
    f
}
