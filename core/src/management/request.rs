//! Building a management request from an operation and its arguments: the arguments checked
//! (unknown, missing or of the wrong type: a `config_error` naming it), path segments
//! percent-encoded, the query string, and the JSON body.

use super::operations::{is_client_field, Kind, Operation, Place};
use crate::http::Method;
use crate::util::{quoted, truncate};
use crate::{Error, Result};
use serde_json::{Map, Value};

/// A request ready to send but for its `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Prepared {
    pub method: Method,
    pub url: String,
    /// The JSON body (POST, PUT and PATCH always have one, `{}` at least).
    pub body: Option<Map<String, Value>>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A body may hold a client secret (clients.create): never shown.
        f.debug_struct("Prepared")
            .field("method", &self.method)
            .field("url", &self.url)
            .field(
                "body",
                &self.body.as_ref().map(|b| b.keys().cloned().collect::<Vec<_>>()),
            )
            .finish()
    }
}

/// Percent-encode one path segment: everything but RFC 3986's unreserved characters.
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn bad(op: &Operation, name: &str, expected: &str) -> Error {
    Error::config(format!("{}: argument `{name}` must be {expected}", op.name))
}

/// Check one argument's value against its kind; the value as it is sent (a space-separated
/// string becomes a list).
fn check(op: &Operation, name: &str, kind: Kind, v: &Value) -> Result<Value> {
    let strings = |v: &Value| -> Option<Vec<String>> {
        v.as_array()?
            .iter()
            .map(|x| x.as_str().filter(|s| !s.is_empty()).map(str::to_string))
            .collect()
    };
    Ok(match kind {
        Kind::Any => v.clone(),
        Kind::Id => match v.as_str() {
            Some("." | "..") => return Err(bad(op, name, "a name other than \".\" or \"..\"")),
            Some(s) if !s.is_empty() => v.clone(),
            _ => return Err(bad(op, name, "a non-empty string")),
        },
        Kind::Text => match v {
            Value::String(_) => v.clone(),
            _ => return Err(bad(op, name, "a string")),
        },
        Kind::Count { min, max } => match v.as_u64() {
            Some(n) if (min..=max).contains(&n) => v.clone(),
            _ => return Err(bad(op, name, &format!("a whole number from {min} to {max}"))),
        },
        Kind::Time => match v {
            Value::Number(n) if n.as_f64().is_some_and(|f| f.is_finite() && f >= 0.0) => v.clone(),
            Value::String(s) if !s.trim().is_empty() => v.clone(),
            _ => return Err(bad(op, name, "a time: Unix seconds, or an RFC 3339 string")),
        },
        Kind::Strings => match v {
            Value::String(s) => Value::from(s.split_whitespace().collect::<Vec<_>>()),
            _ => Value::from(strings(v).ok_or_else(|| bad(op, name, "a list of strings"))?),
        },
        Kind::OneOrMany => match v {
            Value::String(s) if !s.is_empty() => v.clone(),
            _ => Value::from(strings(v).ok_or_else(|| bad(op, name, "a string or a list of strings"))?),
        },
        Kind::Outcome => match v.as_str() {
            Some("success" | "failure") => v.clone(),
            _ => return Err(bad(op, name, "\"success\" or \"failure\"")),
        },
    })
}

/// A query parameter's text.
fn query_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The request for `op` with `args` (an object, or `null` for none) under `admin_url`
/// (`{base_url}/admin`).
pub fn prepare(op: &Operation, admin_url: &str, args: &Value) -> Result<Prepared> {
    let given = match args {
        Value::Null => Map::new(),
        Value::Object(m) => m.clone(),
        _ => return Err(Error::config(format!("{}: the arguments must be an object", op.name))),
    };
    // Unknown arguments first, so a misspelt one is named rather than reported missing.
    for key in given.keys() {
        let known = op.args.iter().any(|a| a.name == key) || (op.client_fields && is_client_field(key));
        if !known {
            let mut expected: Vec<&str> = op.args.iter().map(|a| a.name).collect();
            if op.client_fields {
                expected.push("a client field");
            }
            let expected = if expected.is_empty() {
                "it takes none".to_string()
            } else {
                format!("expected {}", expected.join(", "))
            };
            return Err(Error::config(format!(
                "{}: unknown argument `{}` ({expected})",
                op.name,
                truncate(key)
            )));
        }
    }
    let present = |name: &str| given.get(name).filter(|v| !v.is_null());
    let mut path = op.path.to_string();
    let mut query = form_urlencoded::Serializer::new(String::new());
    let mut has_query = false;
    let mut body = Map::new();
    for a in op.args {
        let Some(v) = present(a.name) else {
            if a.required {
                return Err(Error::config(format!("{}: missing argument `{}`", op.name, a.name)));
            }
            if let Some(d) = a.default {
                path = path.replace(&format!("{{{}}}", a.name), d);
            }
            continue;
        };
        let v = check(op, a.name, a.kind, v)?;
        match a.place {
            Place::Path => {
                let text = v.as_str().unwrap_or_default();
                path = path.replace(&format!("{{{}}}", a.name), &encode_segment(text));
            }
            Place::Query => {
                has_query = true;
                match &v {
                    Value::Array(items) => {
                        for x in items {
                            query.append_pair(a.name, &query_text(x));
                        }
                    }
                    _ => {
                        query.append_pair(a.name, &query_text(&v));
                    }
                }
            }
            Place::Body => {
                body.insert(a.name.to_string(), v);
            }
        }
    }
    if op.client_fields {
        for (k, v) in &given {
            // A path argument (clients.update's client_id) is not repeated in the body.
            if v.is_null() || op.args.iter().any(|a| a.name == k) {
                continue;
            }
            body.insert(k.clone(), v.clone());
        }
    }
    let mut url = format!("{admin_url}{path}");
    let query = query.finish();
    if has_query && !query.is_empty() {
        url.push('?');
        url.push_str(&query);
    }
    let body = matches!(op.method, Method::Post | Method::Put | Method::Patch).then_some(body);
    Ok(Prepared {
        method: op.method,
        url,
        body,
    })
}

/// The message for an unknown operation, listing the known ones.
pub fn unknown_operation(name: &str) -> Error {
    Error::config(format!(
        "unknown management operation {} (expected one of {})",
        quoted(name),
        super::operations::OPERATION_NAMES.join(", ")
    ))
}
