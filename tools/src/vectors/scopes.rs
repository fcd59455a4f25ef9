//! `verify_scopes.json`: scope and scp, all_of and any_of.

use super::case::{case, claims, del, hdr, seg, with, File, NOW};
use super::signing::Gen;
use authsec_core::Alg;
use serde_json::{json, Value};

pub(crate) fn file(g: &mut Gen) -> File {
    let mut f = File::new(
        "verify_scopes.json",
        "Scope rules after a successful verification: scope (string), scp (array or string), all_of and any_of.",
    );
    // (name, scope claims, all_of, any_of, missing (None = success), description)
    type Row = (
        &'static str,
        Vec<(&'static str, Value)>,
        Vec<&'static str>,
        Vec<&'static str>,
        Option<Vec<&'static str>>,
        &'static str,
    );
    let rows: Vec<Row> = vec![
        (
            "scope_all_of_granted",
            vec![],
            vec!["read:data"],
            vec![],
            None,
            "all_of [read:data] is met by scope \"read:data write:logs\".",
        ),
        (
            "scope_all_of_both_granted",
            vec![],
            vec!["read:data", "write:logs"],
            vec![],
            None,
            "all_of with both granted scopes is met.",
        ),
        (
            "scope_all_of_missing",
            vec![],
            vec!["read:data", "admin", "delete:all"],
            vec![],
            Some(vec!["admin", "delete:all"]),
            "all_of fails with insufficient_scope listing exactly the missing scopes, in requirement order.",
        ),
        (
            "scope_any_of_one_granted",
            vec![],
            vec![],
            vec!["admin", "write:logs"],
            None,
            "any_of is met when one of its scopes is granted.",
        ),
        (
            "scope_any_of_none_granted",
            vec![],
            vec![],
            vec!["admin", "root"],
            Some(vec!["admin", "root"]),
            "any_of fails when none is granted; missing_scopes lists the whole any_of set.",
        ),
        (
            "scope_all_and_any_met",
            vec![],
            vec!["read:data"],
            vec!["admin", "write:logs"],
            None,
            "all_of and any_of together are met.",
        ),
        (
            "scope_all_met_any_not",
            vec![],
            vec!["read:data"],
            vec!["admin", "root"],
            Some(vec!["admin", "root"]),
            "all_of met but any_of not: missing_scopes lists the any_of set.",
        ),
        (
            "scope_all_not_any_met",
            vec![],
            vec!["read:data", "admin"],
            vec!["write:logs"],
            Some(vec!["admin"]),
            "all_of not met (any_of met): missing_scopes lists the missing all_of scopes.",
        ),
        (
            "scope_no_requirement_no_claim",
            vec![("scope", del())],
            vec![],
            vec![],
            None,
            "Without a scope requirement, a token without any scope claim verifies.",
        ),
        (
            "scope_claim_missing",
            vec![("scope", del())],
            vec!["read:data"],
            vec![],
            Some(vec!["read:data"]),
            "A token without scope or scp lacks every required scope.",
        ),
        (
            "scope_case_sensitive",
            vec![("scope", json!("Read:Data"))],
            vec!["read:data"],
            vec![],
            Some(vec!["read:data"]),
            "Scopes are case-sensitive: Read:Data does not grant read:data.",
        ),
        (
            "scope_extra_spaces",
            vec![("scope", json!("  read:data   write:logs "))],
            vec!["read:data", "write:logs"],
            vec![],
            None,
            "Repeated, leading and trailing spaces in scope are ignored.",
        ),
        (
            "scope_tab_is_not_a_separator",
            vec![("scope", json!("read:data\twrite:logs"))],
            vec!["read:data"],
            vec![],
            Some(vec!["read:data"]),
            "Only the space separates scopes (RFC 6749 §3.3): a tab does not split \"read:data\\twrite:logs\".",
        ),
        (
            "scope_not_a_string",
            vec![("scope", json!(["read:data"]))],
            vec!["read:data"],
            vec![],
            Some(vec!["read:data"]),
            "A scope claim that is an array is ignored (scope must be a string; use scp for arrays).",
        ),
        (
            "scope_prefix_does_not_match",
            vec![],
            vec!["read"],
            vec![],
            Some(vec!["read"]),
            "Scopes match exactly: read:data does not grant read.",
        ),
        (
            "scp_array_granted",
            vec![("scope", del()), ("scp", json!(["read:data", "write:logs"]))],
            vec!["read:data", "write:logs"],
            vec![],
            None,
            "scp as an array of strings grants its scopes.",
        ),
        (
            "scp_array_missing",
            vec![("scope", del()), ("scp", json!(["read:data"]))],
            vec!["read:data", "write:logs"],
            vec![],
            Some(vec!["write:logs"]),
            "scp as an array: a scope it lacks is reported missing.",
        ),
        (
            "scp_string_granted",
            vec![("scope", del()), ("scp", json!("read:data write:logs"))],
            vec!["write:logs"],
            vec![],
            None,
            "scp as a space-delimited string grants its scopes.",
        ),
        (
            "scope_and_scp_combined",
            vec![("scope", json!("read:data")), ("scp", json!(["write:logs"]))],
            vec!["read:data", "write:logs"],
            vec![],
            None,
            "Scopes from scope and scp are combined.",
        ),
    ];
    for (name, changes, all, any, missing, desc) in rows {
        let c = with(&claims(name), &changes);
        let t = g.std_token(name, Alg::EdDSA, &c);
        let k = case(name, desc, t);
        let k = if all.is_empty() && any.is_empty() {
            k
        } else {
            k.scopes_req(&all, &any)
        };
        f.push(match missing {
            None => k.ok(&c),
            Some(m) => k.missing(&m),
        });
    }
    {
        let name = "scope_checked_after_expiry";
        let c = with(
            &claims(name),
            &[
                ("exp", json!(NOW - 3600)),
                ("iat", json!(NOW - 7200)),
                ("scope", json!("read:data")),
            ],
        );
        let t = g.std_token(name, Alg::EdDSA, &c);
        f.push(case(name, "An expired token lacking a required scope is reported as expired: scopes are checked only on a verified token.", t).all_of(&["admin"]).err("token_expired"));
    }
    {
        let name = "scope_checked_after_signature";
        let key = "ed25519-a";
        let h = seg(&hdr("EdDSA", Some(key), Some("at+jwt")));
        let s = g.sig(name, key, Alg::EdDSA, &h, &seg(&claims("scope_all_of_granted")));
        let forged = with(
            &claims("scope_all_of_granted"),
            &[("scope", json!("read:data write:logs admin"))],
        );
        f.push(
            case(
                name,
                "A token whose scope was tampered with to add admin fails on its signature, not on scopes.",
                format!("{h}.{}.{s}", seg(&forged)),
            )
            .any_of(&["admin"])
            .err("invalid_signature"),
        );
    }
    f
}
