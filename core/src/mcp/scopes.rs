//! Per-operation scopes for an MCP server: which scopes `tools/call:<name>`,
//! `resources/read:<uri>`, `prompts/get:<name>` (or any method) need, checked before the SDK runs
//! the handler, and the lists (`tools/list`, `prompts/list`, `resources/list`) cut down to what
//! the token may use.
//!
//! The map's keys are a method (`tools/call`: every tool) or a method and its target
//! (`tools/call:delete_file`), whose target may end in `*` (`resources/read:file:///public/*`).
//! An operation needs the server's base scopes, plus its method's, plus those of its target's
//! most specific key (an exact key, else the longest `*` pattern): the sets add up, so a more
//! specific key never needs less. An operation no key names needs the base scopes alone.

use super::operation::Operation;
use crate::scope::scope_list;
use crate::util::quoted;
use crate::{Error, ErrorCode, Result};
use serde_json::Value;
use std::collections::BTreeMap;

/// The list methods and the call whose scopes decide which of their items a token sees.
const LISTS: [(&str, &str, &str, &str); 3] = [
    ("tools/list", "tools", "name", "tools/call"),
    ("prompts/list", "prompts", "name", "prompts/get"),
    ("resources/list", "resources", "uri", "resources/read"),
];

/// The scopes each MCP operation needs (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperationScopes {
    base: Vec<String>,
    /// Keys without `*`: a method, or `method:target`.
    exact: BTreeMap<String, Vec<String>>,
    /// `method:prefix*` patterns (the `*` removed), longest first.
    patterns: Vec<(String, Vec<String>)>,
}

fn push_new(out: &mut Vec<String>, scopes: &[String]) {
    for s in scopes {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
}

impl OperationScopes {
    /// `base`: the scopes every request needs. `map`: an object from keys to scopes (a list, or one
    /// space-separated string); `null` for none.
    pub fn new(base: Vec<String>, map: &Value) -> Result<OperationScopes> {
        let mut out = OperationScopes {
            base,
            ..Default::default()
        };
        let entries = match map {
            Value::Null => return Ok(out),
            Value::Object(o) => o,
            _ => {
                return Err(Error::config(
                    "the operation scope map must be an object from operations to scopes",
                ))
            }
        };
        for (key, scopes) in entries {
            let scopes = scope_list(scopes).ok_or_else(|| {
                Error::config(format!(
                    "operation scopes for {}: give a list of scopes or a space-separated string",
                    quoted(key)
                ))
            })?;
            let (method, target) = match key.split_once(':') {
                Some((m, t)) => (m, Some(t)),
                None => (key.as_str(), None),
            };
            if method.is_empty() || method.contains(|c: char| c.is_whitespace() || c == '*') {
                return Err(Error::config(format!(
                    "operation scopes: {} is not a key; write a method (\"tools/call\") or a method and a target (\"tools/call:search\")",
                    quoted(key)
                )));
            }
            if target.is_some_and(|t| t.is_empty() || t.strip_suffix('*').unwrap_or(t).contains('*')) {
                return Err(Error::config(format!(
                    "operation scopes: {} names no target, or has a * before its end",
                    quoted(key)
                )));
            }
            match key.strip_suffix('*') {
                Some(prefix) if target.is_some() => out.patterns.push((prefix.to_string(), scopes)),
                _ => {
                    out.exact.insert(key.clone(), scopes);
                }
            }
        }
        out.patterns
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Ok(out)
    }

    /// The scopes every request needs.
    pub fn base(&self) -> &[String] {
        &self.base
    }

    /// Every scope `op` needs: the base scopes, its method's, its target's.
    pub fn required(&self, op: &Operation) -> Vec<String> {
        let mut out = self.base.clone();
        if let Some(s) = self.exact.get(&op.method) {
            push_new(&mut out, s);
        }
        if op.target.is_some() {
            let key = op.key();
            let specific = self.exact.get(&key).or_else(|| {
                self.patterns
                    .iter()
                    .find(|(prefix, _)| key.starts_with(prefix.as_str()))
                    .map(|(_, s)| s)
            });
            if let Some(s) = specific {
                push_new(&mut out, s);
            }
        }
        out
    }

    /// Check the operations of one request against the token's scopes. `Ok` carries every scope
    /// they need (for the record); the error is `insufficient_scope` naming the missing scopes,
    /// and its challenge should name all the scopes [`Self::required_all`] gives.
    pub fn check(&self, ops: &[Operation], granted: &[&str]) -> Result<Vec<String>> {
        let mut needed = self.base.clone();
        let mut missing: Vec<String> = self
            .base
            .iter()
            .filter(|s| !granted.contains(&s.as_str()))
            .cloned()
            .collect();
        let mut refused: Vec<String> = Vec::new();
        if !missing.is_empty() && ops.is_empty() {
            refused.push("this request".into());
        }
        for op in ops {
            let req = self.required(op);
            let lacks: Vec<String> = req.iter().filter(|s| !granted.contains(&s.as_str())).cloned().collect();
            if !lacks.is_empty() {
                refused.push(op.to_string());
                push_new(&mut missing, &lacks);
            }
            push_new(&mut needed, &req);
        }
        if missing.is_empty() {
            return Ok(needed);
        }
        Err(Error::new(
            ErrorCode::InsufficientScope,
            format!(
                "{} needs the scope(s) {}, which the token lacks; get a token with them",
                refused.join(", "),
                missing.join(" ")
            ),
        )
        .with_missing_scopes(missing))
    }

    /// Every scope the operations need together: the `scope` of their challenge.
    pub fn required_all(&self, ops: &[Operation]) -> Vec<String> {
        let mut out = self.base.clone();
        for op in ops {
            push_new(&mut out, &self.required(op));
        }
        out
    }

    /// Whether a token with these scopes may do `method` on `target`.
    pub fn allows(&self, op: &Operation, granted: &[&str]) -> bool {
        self.required(op).iter().all(|s| granted.contains(&s.as_str()))
    }

    /// Cut the result of a list method (`tools/list`, `prompts/list`, `resources/list`) down to the
    /// items the token may use; the number removed. Other methods' results are left alone, and so
    /// is an item without a string `name` (`uri`), which the SDK would not have produced.
    pub fn filter_list(&self, method: &str, result: &mut Value, granted: &[&str]) -> usize {
        let Some((_, field, id, call)) = LISTS.iter().find(|l| l.0 == method) else {
            return 0;
        };
        let Some(items) = result.get_mut(*field).and_then(Value::as_array_mut) else {
            return 0;
        };
        let before = items.len();
        items.retain(|item| match item.get(*id).and_then(Value::as_str) {
            Some(target) => self.allows(&Operation::new(*call, Some(target)), granted),
            None => true,
        });
        before - items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map() -> OperationScopes {
        OperationScopes::new(
            vec!["mcp".into()],
            &json!({
                "tools/call": "tools",
                "tools/call:delete_file": ["files:write", "files:admin"],
                "tools/call:read_*": "files:read",
                "tools/call:read_secret*": "secrets",
                "resources/read:file:///private/*": "private",
                "prompts/get:review": "review",
            }),
        )
        .unwrap()
    }

    fn call(name: &str) -> Operation {
        Operation::new("tools/call", Some(name))
    }

    #[test]
    fn required_scopes_add_up_from_base_to_method_to_target() {
        let m = map();
        assert_eq!(m.required(&call("echo")), ["mcp", "tools"]);
        assert_eq!(
            m.required(&call("delete_file")),
            ["mcp", "tools", "files:write", "files:admin"]
        );
        assert_eq!(m.required(&call("read_file")), ["mcp", "tools", "files:read"]);
        // The longest pattern wins over a shorter one.
        assert_eq!(m.required(&call("read_secrets")), ["mcp", "tools", "secrets"]);
        assert_eq!(
            m.required(&Operation::new("resources/read", Some("file:///private/key"))),
            ["mcp", "private"]
        );
        assert_eq!(
            m.required(&Operation::new("resources/read", Some("file:///public/a"))),
            ["mcp"]
        );
        assert_eq!(m.required(&Operation::new("tools/list", None)), ["mcp"]);
        assert_eq!(
            m.required(&Operation::new("prompts/get", Some("review"))),
            ["mcp", "review"]
        );
    }

    #[test]
    fn check_names_what_is_missing() {
        let m = map();
        assert_eq!(m.check(&[call("echo")], &["mcp", "tools"]).unwrap(), ["mcp", "tools"]);
        let e = m
            .check(&[call("delete_file")], &["mcp", "tools", "files:write"])
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InsufficientScope);
        assert_eq!(e.missing_scopes(), ["files:admin"]);
        assert!(
            e.message()
                .starts_with("tools/call \"delete_file\" needs the scope(s) files:admin"),
            "{e:?}"
        );
        assert_eq!(
            m.required_all(&[call("delete_file"), call("read_x")]),
            ["mcp", "tools", "files:write", "files:admin", "files:read"]
        );
        let e = m.check(&[call("read_x"), call("echo")], &["tools"]).unwrap_err();
        assert_eq!(e.missing_scopes(), ["mcp", "files:read"]);
        assert!(
            e.message()
                .starts_with("tools/call \"read_x\", tools/call \"echo\" needs"),
            "{e:?}"
        );
        // The base scopes are needed by every request, one without operations included.
        let e = m.check(&[], &["tools"]).unwrap_err();
        assert_eq!(e.missing_scopes(), ["mcp"]);
        assert!(e.message().starts_with("this request needs the scope(s) mcp"), "{e:?}");
        assert_eq!(m.check(&[], &["mcp"]).unwrap(), ["mcp"]);
    }

    #[test]
    fn lists_are_cut_to_what_the_token_may_use() {
        let m = map();
        let mut r = json!({"tools": [{"name": "echo"}, {"name": "delete_file"}, {"name": "read_file"}, {"x": 1}], "nextCursor": "c"});
        assert_eq!(m.filter_list("tools/list", &mut r, &["mcp", "tools", "files:read"]), 1);
        assert_eq!(
            r,
            json!({"tools": [{"name": "echo"}, {"name": "read_file"}, {"x": 1}], "nextCursor": "c"})
        );
        let mut r = json!({"resources": [{"uri": "file:///private/a"}, {"uri": "file:///b"}]});
        assert_eq!(m.filter_list("resources/list", &mut r, &["mcp"]), 1);
        assert_eq!(r["resources"], json!([{"uri": "file:///b"}]));
        let mut r = json!({"prompts": [{"name": "review"}]});
        assert_eq!(m.filter_list("prompts/list", &mut r, &["mcp"]), 1);
        let mut r = json!({"tools": [{"name": "delete_file"}]});
        assert_eq!(m.filter_list("tools/call", &mut r, &[]), 0);
    }

    #[test]
    fn bad_maps_are_config_errors() {
        for bad in [
            json!([]),
            json!({"": "a"}),
            json!({"tools/call:": "a"}),
            json!({"tools/*": "a"}),
            json!({"tools/call:a*b": "a"}),
            json!({"tools/call:a": 5}),
            json!({"tools call": "a"}),
        ] {
            let e = OperationScopes::new(vec![], &bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ConfigError, "{bad}");
        }
        assert_eq!(
            OperationScopes::new(vec!["a".into()], &Value::Null).unwrap().base(),
            ["a"]
        );
    }
}
