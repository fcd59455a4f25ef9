//! Configuration sources shared by the client and the local server: `${VAR}` interpolation in
//! YAML settings, and [`ConfigEnv`], the environment variables and files a configuration may refer
//! to. The core reads neither itself: the caller injects the environment (the native crate's is
//! the process's own), so the core stays free of I/O.

use crate::{Error, Result};
use serde_json::Value;

/// Where configuration reads environment variables and files from.
pub trait ConfigEnv {
    /// An environment variable, `None` when unset.
    fn var(&self, name: &str) -> Option<String>;
    /// A file's text (`Err` says why it cannot be read).
    fn read_file(&self, path: &str) -> std::result::Result<String, String>;
}

/// Reads files for a client while it runs: the secret and key files of its configuration, read
/// again when the token endpoint refuses the client (`invalid_client`), in case they were rotated.
/// The native crate gives the file system; the core reads nothing itself.
pub trait FileReader: crate::runtime::MaybeSend {
    /// A file's text (`Err` says why it cannot be read).
    fn read_file(&self, path: &str) -> std::result::Result<String, String>;
}

/// Variables from a function, and no files: for tests, and for callers with no file system.
impl<F: Fn(&str) -> Option<String>> ConfigEnv for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
    fn read_file(&self, _path: &str) -> std::result::Result<String, String> {
        Err("this environment has no files".to_string())
    }
}

/// Parse YAML text (a JSON document is YAML too) into a JSON value.
pub fn parse_yaml(text: &str, what: &str) -> Result<Value> {
    serde_yaml_ng::from_str(text).map_err(|e| Error::config(format!("the {what} is not valid YAML: {e}")))
}

/// Replace `${VAR}` (and `${VAR:-default}`) in every string of a JSON value; `$$` is a literal `$`.
pub fn interpolate_value(v: Value, get: &(impl ConfigEnv + ?Sized)) -> Result<Value> {
    Ok(match v {
        Value::String(s) => Value::String(interpolate(&s, get)?),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|x| interpolate_value(x, get))
                .collect::<Result<_>>()?,
        ),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| Ok((k, interpolate_value(x, get)?)))
                .collect::<Result<_>>()?,
        ),
        other => other,
    })
}

/// Replace `${VAR}` and `${VAR:-default}` in `s`. A variable that is unset (and has no default)
/// is an error that names it; `$$` stands for `$`.
pub fn interpolate(s: &str, get: &(impl ConfigEnv + ?Sized)) -> Result<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(body) = after.strip_prefix('{') {
            // The value may be a secret: never echo it.
            let end = body
                .find('}')
                .ok_or_else(|| Error::config("a config value has an unterminated ${...}; write $$ for a literal $"))?;
            let expr = &body[..end];
            let (name, default) = match expr.find(":-") {
                Some(j) => (&expr[..j], Some(&expr[j + 2..])),
                None => (expr, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(Error::config(format!("invalid variable name {name:?} in ${{...}}")));
            }
            match (get.var(name).filter(|v| !v.is_empty()), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err(Error::config(format!(
                        "the config refers to ${{{name}}}, but the environment variable {name} is not set"
                    )))
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// An environment of fixed variables, for the core's unit tests.
#[cfg(test)]
pub(crate) fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let m: std::collections::HashMap<String, String> =
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k| m.get(k).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn interpolation() {
        let g = vars(&[("A", "x"), ("B", "y:z")]);
        assert_eq!(interpolate("${A}-${B}", &g).unwrap(), "x-y:z");
        assert_eq!(interpolate("$${A} $5", &g).unwrap(), "${A} $5");
        assert_eq!(interpolate("${C:-def}", &g).unwrap(), "def");
        let e = interpolate("${MISSING_VAR}", &g).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ConfigError);
        assert!(e.message().contains("MISSING_VAR"), "{e}");
        assert!(interpolate("${A", &g).is_err());
        assert!(interpolate("${A B}", &g).is_err());
    }
}
