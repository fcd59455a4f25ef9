//! Reading options as the bindings receive them: a JSON object (from Go, JavaScript, Python keyword
//! arguments or a config file). One reader for every option set, so every language accepts the same
//! names (snake_case, and JavaScript's camelCase), defaults and errors: an unknown option, one
//! given twice or one of the wrong type is an error that names it; `null` is the same as leaving
//! it out.

use crate::util::truncate;
use crate::{Error, Result};
use serde_json::{Map, Value};

/// An option's name and its JavaScript spelling.
pub type OptionName = (&'static str, &'static str);

/// The options given, by canonical (snake_case) name.
pub struct Options {
    /// What the options are for, in messages ("verifier options").
    what: &'static str,
    given: Map<String, Value>,
}

impl Options {
    /// Read `v` (an object; `null` means none given) against the known `names`.
    pub fn read(what: &'static str, v: &Value, names: &[OptionName]) -> Result<Options> {
        let map = match v {
            Value::Null => {
                return Ok(Options {
                    what,
                    given: Map::new(),
                })
            }
            Value::Object(m) => m,
            _ => return Err(Error::config(format!("{what} must be an object"))),
        };
        let mut given = Map::new();
        let mut seen: Vec<&str> = Vec::new();
        for (key, value) in map {
            let Some((name, _)) = names.iter().find(|(n, js)| key == n || key == js) else {
                let known: Vec<String> = names
                    .iter()
                    .map(|(n, js)| if n == js { n.to_string() } else { format!("{n} ({js})") })
                    .collect();
                return Err(Error::config(format!(
                    "{what}: unknown option `{}` (expected one of {})",
                    truncate(key),
                    known.join(", ")
                )));
            };
            if seen.contains(name) {
                return Err(Error::config(format!("{what}: `{name}` is given twice")));
            }
            seen.push(name);
            if !value.is_null() {
                given.insert(name.to_string(), value.clone());
            }
        }
        Ok(Options { what, given })
    }

    /// The error for an option of the wrong type.
    pub fn bad(&self, name: &str, expected: &str) -> Error {
        Error::config(format!("{}: `{name}` must be {expected}", self.what))
    }

    /// The raw value, if given.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.given.get(name)
    }

    pub fn is_given(&self, name: &str) -> bool {
        self.given.contains_key(name)
    }

    pub fn string(&self, name: &str) -> Result<Option<String>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.bad(name, "a string")),
        }
    }

    /// A string, also from a number or a boolean (YAML reads `client_id: 1234` as a number).
    pub fn text(&self, name: &str) -> Result<Option<String>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(self.bad(name, "a string")),
        }
    }

    /// A list of strings.
    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => string_list(v)
                .ok_or_else(|| self.bad(name, "a list of strings"))
                .map(Some),
        }
    }

    /// A string or a list of strings; a string is one item (`audience: "a"`).
    pub fn one_or_many(&self, name: &str) -> Result<Option<Vec<String>>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
            Some(v) => string_list(v)
                .ok_or_else(|| self.bad(name, "a string or a list of strings"))
                .map(Some),
        }
    }

    /// A list of strings, or one space-separated string (`scopes: "read write"`).
    pub fn space_separated(&self, name: &str) -> Result<Option<Vec<String>>> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => crate::scope::scope_list(v)
                .ok_or_else(|| self.bad(name, "a list of strings or a space-separated string"))
                .map(Some),
        }
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.bad(name, "true or false")),
        }
    }

    /// A whole number, 0 or more.
    pub fn count(&self, name: &str) -> Result<Option<usize>> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| self.bad(name, "a whole number, 0 or more")),
        }
    }

    /// A number.
    pub fn number(&self, name: &str, expected: &str) -> Result<Option<f64>> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or_else(|| self.bad(name, expected)),
        }
    }
}

/// Options given as JSON text: the value, or a `config_error` saying where the text is not JSON.
pub fn parse_json(what: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text)
        .map_err(|e| Error::config(format!("{what} are not JSON ({})", crate::util::json_error_at(&e))))
}

/// A JSON array of strings as a list (`None` for anything else).
pub fn string_list(v: &Value) -> Option<Vec<String>> {
    v.as_array()?.iter().map(|x| x.as_str().map(str::to_string)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use serde_json::json;

    const NAMES: [OptionName; 4] = [
        ("jwks_uri", "jwksUri"),
        ("audience", "audience"),
        ("scopes", "scopes"),
        ("leeway", "leeway"),
    ];

    #[test]
    fn both_spellings_nulls_and_errors_that_name_the_option() {
        let o = Options::read("test options", &json!({"jwksUri": "u", "audience": null}), &NAMES).unwrap();
        assert_eq!(o.string("jwks_uri").unwrap().as_deref(), Some("u"));
        assert!(!o.is_given("audience"));
        let e = Options::read("test options", &json!({"jwks_url": 1}), &NAMES)
            .err()
            .unwrap();
        assert_eq!(e.code(), ErrorCode::ConfigError);
        assert!(
            e.message().contains("`jwks_url`") && e.message().contains("jwks_uri (jwksUri)"),
            "{e}"
        );
        let e = Options::read("test options", &json!({"jwks_uri": "a", "jwksUri": "b"}), &NAMES)
            .err()
            .unwrap();
        assert!(e.message().contains("`jwks_uri` is given twice"), "{e}");
        assert!(Options::read("test options", &json!([]), &NAMES).is_err());
        let o = Options::read("t", &json!({"audience": "a", "scopes": "x  y", "leeway": "5"}), &NAMES).unwrap();
        assert_eq!(o.one_or_many("audience").unwrap(), Some(vec!["a".to_string()]));
        assert_eq!(
            o.space_separated("scopes").unwrap(),
            Some(vec!["x".to_string(), "y".to_string()])
        );
        assert!(o
            .number("leeway", "a number of seconds")
            .unwrap_err()
            .message()
            .contains("`leeway` must be a number of seconds"));
        assert!(o.strings("audience").is_err());
    }
}
