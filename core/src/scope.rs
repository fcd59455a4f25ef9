//! Scopes, on both sides: reading what a token grants (`scope`, `scp`), splitting and listing
//! requested scopes, and what a protected resource requires.

use crate::{Error, ErrorCode, Result};
use serde_json::{Map, Value};

/// Scopes from `scope` (space-delimited string) and `scp` (array of strings, or a string).
pub fn scopes_of(map: &Map<String, Value>) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    if let Some(Value::String(s)) = map.get("scope") {
        out.extend(s.split(' ').filter(|x| !x.is_empty()));
    }
    match map.get("scp") {
        Some(Value::String(s)) => out.extend(s.split(' ').filter(|x| !x.is_empty())),
        Some(Value::Array(a)) => out.extend(a.iter().filter_map(Value::as_str)),
        _ => {}
    }
    dedup_in_order(&mut out);
    out
}

/// Drop later repeats, keeping the first of each (a scan for the usual few scopes; a hash set
/// only for long lists, where the scan's n² would show).
fn dedup_in_order(out: &mut Vec<&str>) {
    if out.len() <= 16 {
        let mut i = 0;
        while i < out.len() {
            if out[..i].contains(&out[i]) {
                out.remove(i);
            } else {
                i += 1;
            }
        }
    } else {
        let mut seen = std::collections::HashSet::new();
        out.retain(|s| seen.insert(*s));
    }
}

/// Split a space-delimited scope string.
pub fn split_scopes(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// Scopes given as a list of strings or as one space-separated string (`None` for anything else).
/// Every binding reads scope arguments through this.
pub fn scope_list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(split_scopes(s)),
        v => crate::options::string_list(v),
    }
}

/// What a protected resource requires.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeRequirement {
    /// Every one of these must be granted.
    pub all_of: Vec<String>,
    /// At least one of these must be granted (ignored when empty).
    pub any_of: Vec<String>,
}

impl ScopeRequirement {
    pub fn all<S: AsRef<str>>(scopes: &[S]) -> Self {
        ScopeRequirement {
            all_of: scopes.iter().map(|s| s.as_ref().to_string()).collect(),
            any_of: Vec::new(),
        }
    }
    pub fn any<S: AsRef<str>>(scopes: &[S]) -> Self {
        ScopeRequirement {
            all_of: Vec::new(),
            any_of: scopes.iter().map(|s| s.as_ref().to_string()).collect(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.all_of.is_empty() && self.any_of.is_empty()
    }

    /// From the two lists bindings take (`required_scopes`, `any_scopes`), each optional.
    pub fn from_lists(all_of: Option<Vec<String>>, any_of: Option<Vec<String>>) -> Self {
        ScopeRequirement {
            all_of: all_of.unwrap_or_default(),
            any_of: any_of.unwrap_or_default(),
        }
    }

    /// From two JSON values, each absent (`null`), a list of strings or a space-separated string.
    pub fn from_values(all_of: &Value, any_of: &Value) -> Result<Self> {
        let list = |v: &Value, name: &str| -> Result<Option<Vec<String>>> {
            if v.is_null() {
                return Ok(None);
            }
            scope_list(v)
                .map(Some)
                .ok_or_else(|| Error::config(format!("{name} must be a list of scopes or a space-separated string")))
        };
        Ok(Self::from_lists(
            list(all_of, "required scopes")?,
            list(any_of, "any scopes")?,
        ))
    }

    /// Check the scopes that verified claims grant.
    pub fn check_claims(&self, claims: &crate::access_token::claims::Claims) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        self.check_granted(claims.granted_scopes())
    }

    /// Check granted scopes; `insufficient_scope` names what is missing.
    pub fn check(&self, granted: &[&str]) -> Result<()> {
        self.check_granted(granted)
    }

    fn check_granted<S: AsRef<str>>(&self, granted: &[S]) -> Result<()> {
        let has = |s: &String| granted.iter().any(|g| g.as_ref() == s);
        let missing: Vec<String> = self.all_of.iter().filter(|s| !has(s)).cloned().collect();
        if !missing.is_empty() {
            return Err(Error::new(
                ErrorCode::InsufficientScope,
                format!(
                    "the token lacks the required scope(s): {}; request them when getting the token",
                    missing.join(" ")
                ),
            )
            .with_missing_scopes(missing));
        }
        if !self.any_of.is_empty() && !self.any_of.iter().any(has) {
            return Err(Error::new(
                ErrorCode::InsufficientScope,
                format!("the token needs at least one of the scopes: {}", self.any_of.join(" ")),
            )
            .with_missing_scopes(self.any_of.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn reads_scope_and_scp() {
        assert_eq!(scopes_of(&map(json!({"scope": "a b  c"}))), vec!["a", "b", "c"]);
        assert_eq!(scopes_of(&map(json!({"scp": ["a", "b"]}))), vec!["a", "b"]);
        assert_eq!(scopes_of(&map(json!({"scp": "a b"}))), vec!["a", "b"]);
        assert_eq!(
            scopes_of(&map(json!({"scope": "a", "scp": ["a", "b"]}))),
            vec!["a", "b"]
        );
        assert!(scopes_of(&map(json!({"scope": 5}))).is_empty());
    }

    #[test]
    fn repeats_are_dropped_keeping_the_first_short_lists_and_long() {
        assert_eq!(
            scopes_of(&map(json!({"scope": "b a b c a", "scp": ["c", "d"]}))),
            vec!["b", "a", "c", "d"]
        );
        let many: Vec<String> = (0..40).map(|i| format!("s{}", i % 25)).collect();
        let want: Vec<String> = (0..25).map(|i| format!("s{i}")).collect();
        assert_eq!(scopes_of(&map(json!({"scope": many.join(" ")}))), want);
    }

    #[test]
    fn all_and_any() {
        let g = ["read:data", "write:logs"];
        assert!(ScopeRequirement::all(&["read:data"]).check(&g).is_ok());
        let e = ScopeRequirement::all(&["read:data", "admin", "x"])
            .check(&g)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InsufficientScope);
        assert_eq!(e.missing_scopes(), ["admin", "x"]);
        assert!(e.message().contains("admin x"));
        assert!(ScopeRequirement::any(&["admin", "write:logs"]).check(&g).is_ok());
        assert!(ScopeRequirement::any(&["admin", "root"]).check(&g).is_err());
        assert!(ScopeRequirement::default().check(&[]).is_ok());
    }

    #[test]
    fn claims_keep_the_scopes_read_at_verification_and_checks_use_them() {
        let m = map(json!({"scope": "b a b", "scp": ["c"], "sub": "x"}));
        let claims = crate::access_token::claims::Claims::new(m, 0, None, None, Vec::new());
        assert_eq!(claims.granted_scopes(), ["b", "a", "c"]);
        assert_eq!(claims.scopes(), ["b", "a", "c"]);
        assert!(claims.has_scope("c") && !claims.has_scope("d"));
        assert!(ScopeRequirement::all(&["c", "a"]).check_claims(&claims).is_ok());
        assert!(ScopeRequirement::any(&["d", "b"]).check_claims(&claims).is_ok());
        let e = ScopeRequirement::all(&["a", "d"]).check_claims(&claims).unwrap_err();
        assert_eq!(
            (e.code(), e.missing_scopes()),
            (ErrorCode::InsufficientScope, &["d".to_string()][..])
        );
        assert!(ScopeRequirement::any(&["d"]).check_claims(&claims).is_err());
    }
}
