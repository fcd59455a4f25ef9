//! The `config_interpolate` target's properties: interpolate, interpolate_value, ClientConfig::from_yaml_str.

#[allow(unused_imports)]
use super::*;

/// The variables a `config_interpolate` input sets, in the order of its NUL-separated values.
pub const VAR_NAMES: [&str; 5] = ["A", "B", "C", "AUTHSEC_CLIENT_ID", "AUTHSEC_CLIENT_SECRET"];

/// Byte 0 of a `config_interpolate` input (`byte % 4`).
pub mod config_mode {
    /// `interpolate(text)`.
    pub const TEXT: u8 = 0;
    /// `interpolate_value` of the text parsed as JSON.
    pub const JSON: u8 = 1;
    /// `ClientConfig::from_yaml_str(text)`.
    pub const YAML: u8 = 2;
    /// The docs' YAML with the text as the value of `AUTHSEC_CLIENT_SECRET`.
    pub const SECRET_VALUE: u8 = 3;
}

/// An environment: variable name → value.
pub type Vars = Vec<(String, String)>;

fn lookup(vars: &Vars) -> impl Fn(&str) -> Option<String> + '_ {
    move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

/// `(mode, text, variables)` of a `config_interpolate` input.
pub fn config_input(data: &[u8]) -> Option<(u8, String, Vars)> {
    let (&sel, rest) = data.split_first()?;
    let mut parts = rest.split(|b| *b == 0);
    let text = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let vars = VAR_NAMES
        .iter()
        .zip(parts)
        .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v).into_owned()))
        .collect();
    Some((sel % 4, text, vars))
}

/// The same variables with every non-empty value replaced by a different non-empty one.
fn other_values(vars: &Vars) -> Vars {
    vars.iter()
        .map(|(n, v)| {
            let o = if v.is_empty() {
                String::new()
            } else {
                let mut o = format!("<other value of {n}, {} bytes>", v.len());
                if o == *v {
                    o.push('!');
                }
                o
            };
            (n.clone(), o)
        })
        .collect()
}

/// `config_interpolate`: `${VAR}` interpolation and YAML configuration.
pub fn check_config(data: &[u8]) {
    let Some((mode, text, vars)) = config_input(data) else {
        return;
    };
    match mode {
        config_mode::TEXT => check_interpolate(&text, &vars),
        config_mode::JSON => {
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                check_interpolate_value(&v, &vars);
            }
        }
        config_mode::YAML => check_yaml(&text, &vars),
        _ => check_secret_value(&text),
    }
}

/// The properties of `interpolate(text)`.
pub fn check_interpolate(text: &str, vars: &Vars) {
    let get = lookup(vars);
    let out = interpolate(text, &get);

    // 1. Errors are config errors and do not depend on the variables' values (so they cannot leak
    //    them): the same text with other values fails identically.
    let others = other_values(vars);
    let out2 = interpolate(text, &lookup(&others));
    match (&out, &out2) {
        (Err(a), Err(b)) => {
            assert_eq!(a.code(), ErrorCode::ConfigError);
            assert_eq!(a, b, "the error depends on a variable's value");
        }
        (Ok(_), Ok(_)) => {}
        _ => panic!("interpolating {text:?}: {out:?} with the values, {out2:?} with others"),
    }

    // 2. Text without `${` is unchanged but for `$$` → `$`; text without `$` is unchanged.
    if !text.contains("${") {
        assert_eq!(out.as_deref().ok(), Some(text.replace("$$", "$").as_str()));
    }
    if !text.contains('$') {
        assert_eq!(out.as_deref().ok(), Some(text));
    }

    // 3. Escaping every `$` as `$$` round-trips any text.
    assert_eq!(interpolate(&text.replace('$', "$$"), &get).as_deref().ok(), Some(text));

    // 4. A value is inserted as it is, never interpolated again (a value with `${` in it cannot
    //    pull in another variable), and an empty value counts as unset.
    for (name, v) in vars {
        let r = interpolate(&format!("<${{{name}}}>"), &get);
        if v.is_empty() {
            assert_eq!(r.map_err(|e| e.code()), Err(ErrorCode::ConfigError));
        } else {
            assert_eq!(r.ok(), Some(format!("<{v}>")));
        }
        let r = interpolate(&format!("${{{name}:-fallback}}"), &get).ok();
        assert_eq!(r.as_deref(), Some(if v.is_empty() { "fallback" } else { v.as_str() }));
    }

    // 5. A default is used as it is for an unset variable.
    if !text.contains('}') {
        let r = interpolate(&format!("${{FUZZ_UNSET_VARIABLE:-{text}}}"), &get);
        assert_eq!(r.as_deref().ok(), Some(text));
    }

    // 6. Interpolation is compositional: text + suffix gives result + the suffix's result (the
    //    suffix starts with a plain character, so a `$` ending the text stays literal).
    if let Ok(o) = &out {
        let suffix = "-tail ${A:-a} $$";
        let tail = interpolate(suffix, &get).expect("the suffix interpolates");
        assert_eq!(
            interpolate(&format!("{text}{suffix}"), &get).ok(),
            Some(format!("{o}{tail}"))
        );
    }
}

/// The properties of `interpolate_value(v)`.
pub fn check_interpolate_value(v: &Value, vars: &Vars) {
    let get = lookup(vars);
    let out = interpolate_value(v.clone(), &get);
    // The shape is kept: keys, array lengths and non-string leaves; each string is interpolated.
    fn same_shape(a: &Value, b: &Value, get: &dyn Fn(&str) -> Option<String>) {
        match (a, b) {
            (Value::String(x), Value::String(y)) => assert_eq!(interpolate(x, &get).ok().as_ref(), Some(y)),
            (Value::Array(x), Value::Array(y)) => {
                assert_eq!(x.len(), y.len());
                x.iter().zip(y).for_each(|(x, y)| same_shape(x, y, get));
            }
            (Value::Object(x), Value::Object(y)) => {
                assert!(x.keys().eq(y.keys()), "keys are never interpolated");
                x.values().zip(y.values()).for_each(|(x, y)| same_shape(x, y, get));
            }
            (x, y) => assert_eq!(x, y),
        }
    }
    match &out {
        Ok(o) => same_shape(v, o, &get),
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::ConfigError);
            let again = interpolate_value(v.clone(), &lookup(&other_values(vars)));
            assert_eq!(again.as_ref().err(), Some(e), "the error depends on a variable's value");
        }
    }
}

/// The settings mapping of a YAML configuration, as `from_yaml_str` sees it before interpolation.
fn yaml_settings(text: &str) -> Option<Value> {
    let doc: Value = serde_yaml_ng::from_str(text).ok()?;
    Some(doc.get("authsec").cloned().unwrap_or(doc))
}

fn strings_mention(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s.contains(needle),
        Value::Array(a) => a.iter().any(|x| strings_mention(x, needle)),
        Value::Object(o) => o.values().any(|x| strings_mention(x, needle)),
        _ => false,
    }
}

/// Two same-length secrets of the same character classes, for noninterference checks.
const SECRET_1: &str = "Zq7xSecretAlpha42";
const SECRET_2: &str = "Zq7xSecretBravo42";

/// The properties of `ClientConfig::from_yaml_str(text)`.
pub fn check_yaml(text: &str, vars: &Vars) {
    let settings = yaml_settings(text);
    // Fuzzing must not open arbitrary paths (such as /dev/zero): skip configs naming a file.
    let names_a_file = |o: &Map<String, Value>| o.keys().any(|k| k.ends_with("_file"));
    if settings.as_ref().and_then(Value::as_object).is_some_and(names_a_file) {
        return;
    }
    // Whether ${AUTHSEC_CLIENT_SECRET} is used only as (part of) client_secret or private_key, the
    // settings that hold secrets; elsewhere (say token_url) an error may rightly quote the value.
    let secret_only_in_secret_settings = settings.as_ref().and_then(Value::as_object).is_none_or(|o| {
        o.iter()
            .filter(|(k, _)| *k != "client_secret" && *k != "private_key")
            .all(|(_, v)| !strings_mention(v, "AUTHSEC_CLIENT_SECRET"))
    });
    let mentions_sentinel = |t: &str| t.contains(SECRET_1) || t.contains(SECRET_2);
    let clean = secret_only_in_secret_settings
        && !mentions_sentinel(text)
        && !vars
            .iter()
            .any(|(n, v)| n != "AUTHSEC_CLIENT_SECRET" && mentions_sentinel(v));
    let with = |secret: &str| -> Vars {
        let mut v: Vars = vars
            .iter()
            .filter(|(n, _)| n != "AUTHSEC_CLIENT_SECRET")
            .cloned()
            .collect();
        v.push(("AUTHSEC_CLIENT_SECRET".into(), secret.into()));
        v
    };
    let (vars1, vars2) = (with(SECRET_1), with(SECRET_2));
    let r1 = ClientConfig::from_yaml_str(text, lookup(&vars1));
    let r2 = ClientConfig::from_yaml_str(text, lookup(&vars2));
    // 1. Errors are configuration errors, and the secret's value does not change the outcome (the
    //    YAML's structure is fixed before interpolation).
    match (&r1, &r2) {
        (Err(a), Err(b)) => {
            assert!(
                matches!(a.code(), ErrorCode::ConfigError | ErrorCode::InsecureTransport),
                "{a:?}"
            );
            assert_eq!(
                a.code(),
                b.code(),
                "the secret's value changed the error: {a:?} / {b:?}"
            );
            // 2. ... nor, when only secret settings use it, the message, which never shows it.
            if clean {
                assert_eq!(a, b, "the error depends on the secret");
                assert!(!a.message().contains(SECRET_1), "the secret leaked into {a:?}");
            }
        }
        (Ok(a), Ok(b)) => {
            // 3. Debug never shows the secret settings.
            for c in [a, b] {
                let debug = format!("{c:?}");
                assert!(debug.contains("client_secret: None") || debug.contains("client_secret: Some(***)"));
                assert!(debug.contains("private_key: None") || debug.contains("private_key: Some(***)"));
                if clean {
                    assert!(!debug.contains(SECRET_1) && !debug.contains(SECRET_2), "{debug}");
                }
                assert!(c.validate().is_ok(), "a loaded config validates");
            }
        }
        _ => panic!("the secret's value changed the outcome: {r1:?} / {r2:?}"),
    }
}

/// The docs' configuration file (README), with the secret from the environment.
pub const DOCS_YAML: &str = "authsec:\n  client_id: ${AUTHSEC_CLIENT_ID}\n  client_secret: ${AUTHSEC_CLIENT_SECRET}\n  token_url: https://auth.authsec.ai/oauth/token\n  scopes: [read:data, write:logs]\n";

/// Any secret value goes into `client_secret` exactly as it is: YAML syntax in it changes nothing.
pub fn check_secret_value(secret: &str) {
    let vars: Vars = vec![
        ("AUTHSEC_CLIENT_ID".into(), "agent".into()),
        ("AUTHSEC_CLIENT_SECRET".into(), secret.into()),
    ];
    let r = ClientConfig::from_yaml_str(DOCS_YAML, lookup(&vars));
    if secret.trim().is_empty() {
        let e = r.expect_err("an empty secret is refused");
        assert_eq!(e.code(), ErrorCode::ConfigError);
        assert!(e.message().to_lowercase().contains("secret"), "{e}");
        return;
    }
    let c = r.unwrap_or_else(|e| panic!("the docs' config with secret {secret:?} failed: {e}"));
    assert_eq!(c.client_secret.as_ref().map(Secret::expose), Some(secret));
    assert_eq!(c.client_id, "agent");
    assert_eq!(c.token_url.as_deref(), Some("https://auth.authsec.ai/oauth/token"));
    assert_eq!(c.scopes, ["read:data", "write:logs"]);
    let debug = format!("{c:?}");
    let without = ClientConfig {
        client_secret: Some(Secret::new("x")),
        ..c.clone()
    };
    assert_eq!(debug, format!("{without:?}"), "Debug depends on the secret");
}
