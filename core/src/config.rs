//! Client configuration: from code, from `AUTHSEC_*` environment variables, or from a YAML file
//! with `${VAR}` interpolation.

use crate::jwt::alg::Alg;
use crate::{Error, Result, Secret};
use serde_json::Value;
use std::time::Duration;

/// How the client authenticates to the token endpoint (RFC 6749 §2.3, RFC 7523).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthMethod {
    /// HTTP Basic with form-encoded id and secret (RFC 6749 §2.3.1). The default.
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A JWT assertion signed with the client's private key (RFC 7523 §2.2).
    PrivateKeyJwt,
}

impl AuthMethod {
    pub fn parse(s: &str) -> Result<AuthMethod> {
        match s.trim() {
            "client_secret_basic" | "basic" => Ok(AuthMethod::ClientSecretBasic),
            "client_secret_post" | "post" => Ok(AuthMethod::ClientSecretPost),
            "private_key_jwt" => Ok(AuthMethod::PrivateKeyJwt),
            o => Err(Error::config(format!(
                "auth_method {o:?} is not supported; use client_secret_basic, client_secret_post or private_key_jwt"
            ))),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// Default refresh buffer, as the product docs recommend.
pub const DEFAULT_REFRESH_BUFFER: Duration = Duration::from_secs(300);

/// Everything a client-credentials client needs. `Debug` never shows the secret or the key.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub client_id: String,
    pub client_secret: Option<Secret>,
    /// The token endpoint. When absent, it is discovered from `issuer` (RFC 8414).
    pub token_url: Option<String>,
    pub issuer: Option<String>,
    pub scopes: Vec<String>,
    pub audience: Option<String>,
    /// RFC 8707 resource indicators.
    pub resource: Vec<String>,
    pub auth_method: AuthMethod,
    /// PEM or private JWK, for `private_key_jwt`.
    pub private_key: Option<Secret>,
    /// Signing algorithm for `private_key_jwt` (inferred from the key when absent).
    pub private_key_alg: Option<Alg>,
    /// `kid` for the assertion header (the key's thumbprint when absent).
    pub private_key_id: Option<String>,
    /// Refresh this long before expiry (capped at half the token's lifetime).
    pub refresh_buffer: Duration,
    /// Allow plain `http://` to non-loopback hosts (never needed for localhost).
    pub allow_insecure_http: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            client_id: String::new(),
            client_secret: None,
            token_url: None,
            issuer: None,
            scopes: Vec::new(),
            audience: None,
            resource: Vec::new(),
            auth_method: AuthMethod::ClientSecretBasic,
            private_key: None,
            private_key_alg: None,
            private_key_id: None,
            refresh_buffer: DEFAULT_REFRESH_BUFFER,
            allow_insecure_http: false,
        }
    }
}

/// Environment variable names.
pub mod env {
    pub const CLIENT_ID: &str = "AUTHSEC_CLIENT_ID";
    pub const CLIENT_SECRET: &str = "AUTHSEC_CLIENT_SECRET";
    pub const CLIENT_SECRET_FILE: &str = "AUTHSEC_CLIENT_SECRET_FILE";
    pub const TOKEN_URL: &str = "AUTHSEC_TOKEN_URL";
    pub const ISSUER: &str = "AUTHSEC_ISSUER";
    pub const SCOPES: &str = "AUTHSEC_SCOPES";
    pub const AUDIENCE: &str = "AUTHSEC_AUDIENCE";
    pub const RESOURCE: &str = "AUTHSEC_RESOURCE";
    pub const AUTH_METHOD: &str = "AUTHSEC_AUTH_METHOD";
    pub const PRIVATE_KEY: &str = "AUTHSEC_PRIVATE_KEY";
    pub const PRIVATE_KEY_FILE: &str = "AUTHSEC_PRIVATE_KEY_FILE";
    pub const PRIVATE_KEY_ALG: &str = "AUTHSEC_PRIVATE_KEY_ALG";
    pub const PRIVATE_KEY_ID: &str = "AUTHSEC_PRIVATE_KEY_ID";
    pub const REFRESH_BUFFER: &str = "AUTHSEC_REFRESH_BUFFER";
    pub const ALLOW_INSECURE_HTTP: &str = "AUTHSEC_ALLOW_INSECURE_HTTP";
    pub const JWKS_URI: &str = "AUTHSEC_JWKS_URI";
    pub const CONFIG: &str = "AUTHSEC_CONFIG";
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

fn parse_bool(name: &str, v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(Error::config(format!("{name} must be true or false, not {v:?}"))),
    }
}

/// Seconds, optionally with an `s`, `m` or `h` suffix.
pub fn parse_duration(name: &str, v: &str) -> Result<Duration> {
    let v = v.trim();
    let (num, mul) = match v.char_indices().last() {
        Some((i, 's')) => (&v[..i], 1),
        Some((i, 'm')) => (&v[..i], 60),
        Some((i, 'h')) => (&v[..i], 3600),
        _ => (v, 1),
    };
    // checked: `18446744073709551615h` overflowed (found by the property tests).
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mul))
        .map(Duration::from_secs)
        .ok_or_else(|| {
            Error::config(format!(
                "{name} must be a number of seconds (e.g. 300 or 5m), not {v:?}"
            ))
        })
}

fn read_file(name: &str, path: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
        .map_err(|e| Error::config(format!("cannot read {name} file {path:?}: {e}")))
}

impl ClientConfig {
    /// From `AUTHSEC_*` variables of the process environment.
    pub fn from_env() -> Result<ClientConfig> {
        Self::from_env_with(|k| std::env::var(k).ok())
    }

    /// From `AUTHSEC_*` variables read through `get` (testable without touching the process env).
    pub fn from_env_with(get: impl Fn(&str) -> Option<String>) -> Result<ClientConfig> {
        let get = |k: &str| non_empty(get(k));
        let mut c = ClientConfig {
            client_id: get(env::CLIENT_ID)
                .ok_or_else(|| Error::config(format!("{} is not set; set it to your client's id", env::CLIENT_ID)))?,
            token_url: get(env::TOKEN_URL),
            issuer: get(env::ISSUER),
            scopes: get(env::SCOPES)
                .map(|s| crate::jwt::scopes::split_scopes(&s))
                .unwrap_or_default(),
            audience: get(env::AUDIENCE),
            resource: get(env::RESOURCE)
                .map(|s| s.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            ..Default::default()
        };
        c.client_secret = match (get(env::CLIENT_SECRET), get(env::CLIENT_SECRET_FILE)) {
            (Some(s), _) => Some(Secret::new(s)),
            (None, Some(p)) => Some(Secret::new(read_file(env::CLIENT_SECRET_FILE, &p)?)),
            _ => None,
        };
        c.private_key = match (get(env::PRIVATE_KEY), get(env::PRIVATE_KEY_FILE)) {
            (Some(s), _) => Some(Secret::new(s)),
            (None, Some(p)) => Some(Secret::new(read_file(env::PRIVATE_KEY_FILE, &p)?)),
            _ => None,
        };
        if let Some(m) = get(env::AUTH_METHOD) {
            c.auth_method = AuthMethod::parse(&m)?;
        } else if c.private_key.is_some() && c.client_secret.is_none() {
            c.auth_method = AuthMethod::PrivateKeyJwt;
        }
        if let Some(a) = get(env::PRIVATE_KEY_ALG) {
            c.private_key_alg =
                Some(Alg::parse(&a).map_err(|e| Error::config(format!("{}: {}", env::PRIVATE_KEY_ALG, e.message())))?);
        }
        c.private_key_id = get(env::PRIVATE_KEY_ID);
        if let Some(b) = get(env::REFRESH_BUFFER) {
            c.refresh_buffer = parse_duration(env::REFRESH_BUFFER, &b)?;
        }
        if let Some(b) = get(env::ALLOW_INSECURE_HTTP) {
            c.allow_insecure_http = parse_bool(env::ALLOW_INSECURE_HTTP, &b)?;
        }
        c.validate()?;
        Ok(c)
    }

    /// From a YAML file shaped like the product docs' (`authsec:` mapping), with `${VAR}`
    /// interpolation from the process environment.
    pub fn from_yaml_file(path: &str) -> Result<ClientConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("cannot read config file {path:?}: {e}")))?;
        Self::from_yaml_str(&text, |k| std::env::var(k).ok())
    }

    /// From YAML text, with `${VAR}` resolved through `get`. Interpolation happens after parsing,
    /// inside string values only, so a secret containing YAML syntax cannot change the structure.
    pub fn from_yaml_str(text: &str, get: impl Fn(&str) -> Option<String>) -> Result<ClientConfig> {
        let doc: Value = serde_yaml_ng::from_str(text)
            .map_err(|e| Error::config(format!("the config file is not valid YAML: {e}")))?;
        let section = match doc.get("authsec") {
            Some(s) => s.clone(),
            None => doc,
        };
        let section = interpolate_value(section, &get)?;
        Self::from_value(&section)
    }

    /// From a JSON/YAML mapping with the docs' field names.
    pub fn from_value(v: &Value) -> Result<ClientConfig> {
        let obj = v
            .as_object()
            .ok_or_else(|| Error::config("the authsec config must be a mapping of settings"))?;
        const KNOWN: &[&str] = &[
            "client_id",
            "client_secret",
            "client_secret_file",
            "token_url",
            "issuer",
            "scopes",
            "scope",
            "audience",
            "resource",
            "auth_method",
            "private_key",
            "private_key_file",
            "private_key_alg",
            "private_key_id",
            "refresh_buffer",
            "allow_insecure_http",
            "jwks_uri",
        ];
        if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(Error::config(format!(
                "unknown config setting {k:?}; known settings: {}",
                KNOWN.join(", ")
            )));
        }
        let s = |k: &str| -> Result<Option<String>> {
            match obj.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(non_empty(Some(s.clone()))),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(Value::Bool(b)) => Ok(Some(b.to_string())),
                Some(_) => Err(Error::config(format!("config setting {k:?} must be a string"))),
            }
        };
        let list = |k: &str| -> Result<Vec<String>> {
            match obj.get(k) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::String(s)) => Ok(s.split_whitespace().map(str::to_string).collect()),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| Error::config(format!("every item of {k:?} must be a string")))
                    })
                    .collect(),
                Some(_) => Err(Error::config(format!(
                    "config setting {k:?} must be a list or a space-separated string"
                ))),
            }
        };
        let mut c = ClientConfig {
            client_id: s("client_id")?.ok_or_else(|| Error::config("the config has no client_id"))?,
            token_url: s("token_url")?,
            issuer: s("issuer")?,
            audience: s("audience")?,
            resource: list("resource")?,
            ..Default::default()
        };
        c.scopes = list("scopes")?;
        c.scopes.extend(list("scope")?);
        c.client_secret = match (s("client_secret")?, s("client_secret_file")?) {
            (Some(x), _) => Some(Secret::new(x)),
            (None, Some(p)) => Some(Secret::new(read_file("client_secret_file", &p)?)),
            _ => None,
        };
        c.private_key = match (s("private_key")?, s("private_key_file")?) {
            (Some(x), _) => Some(Secret::new(x)),
            (None, Some(p)) => Some(Secret::new(read_file("private_key_file", &p)?)),
            _ => None,
        };
        if let Some(m) = s("auth_method")? {
            c.auth_method = AuthMethod::parse(&m)?;
        } else if c.private_key.is_some() && c.client_secret.is_none() {
            c.auth_method = AuthMethod::PrivateKeyJwt;
        }
        if let Some(a) = s("private_key_alg")? {
            c.private_key_alg =
                Some(Alg::parse(&a).map_err(|e| Error::config(format!("private_key_alg: {}", e.message())))?);
        }
        c.private_key_id = s("private_key_id")?;
        if let Some(b) = s("refresh_buffer")? {
            c.refresh_buffer = parse_duration("refresh_buffer", &b)?;
        }
        if let Some(b) = s("allow_insecure_http")? {
            c.allow_insecure_http = parse_bool("allow_insecure_http", &b)?;
        }
        c.validate()?;
        Ok(c)
    }

    /// Check that the settings fit together; errors name the setting to fix.
    pub fn validate(&self) -> Result<()> {
        if self.client_id.trim().is_empty() {
            return Err(Error::config("client_id is empty"));
        }
        if self.token_url.is_none() && self.issuer.is_none() {
            return Err(Error::config(format!(
                "neither token_url nor issuer is set; set token_url (or {}) to your token endpoint, or issuer ({}) to discover it",
                env::TOKEN_URL,
                env::ISSUER
            )));
        }
        if let Some(u) = &self.token_url {
            crate::http::check_url(u, self.allow_insecure_http, "token_url")?;
        }
        if let Some(u) = &self.issuer {
            crate::http::check_url(u, self.allow_insecure_http, "issuer")?;
        }
        match self.auth_method {
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => {
                if self.client_secret.as_ref().is_none_or(Secret::is_empty) {
                    return Err(Error::config(format!(
                        "{} needs a client secret; set client_secret (or {} / {})",
                        self.auth_method.as_str(),
                        env::CLIENT_SECRET,
                        env::CLIENT_SECRET_FILE
                    )));
                }
            }
            AuthMethod::PrivateKeyJwt => {
                if self.private_key.as_ref().is_none_or(Secret::is_empty) {
                    return Err(Error::config(format!(
                        "private_key_jwt needs a private key; set private_key (or {} / {})",
                        env::PRIVATE_KEY,
                        env::PRIVATE_KEY_FILE
                    )));
                }
            }
        }
        for s in &self.scopes {
            if s.is_empty() || s.chars().any(|c| c == ' ' || c == '"' || c == '\\' || c.is_control()) {
                return Err(Error::config(format!(
                    "scope {s:?} contains characters RFC 6749 §3.3 does not allow"
                )));
            }
        }
        Ok(())
    }
}

/// Replace `${VAR}` (and `${VAR:-default}`) in every string of a JSON value; `$$` is a literal `$`.
pub fn interpolate_value(v: Value, get: &impl Fn(&str) -> Option<String>) -> Result<Value> {
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
pub fn interpolate(s: &str, get: &impl Fn(&str) -> Option<String>) -> Result<String> {
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
            match (get(name).filter(|v| !v.is_empty()), default) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

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

    #[test]
    fn yaml_like_the_docs() {
        let yaml = "authsec:\n  client_id: ${AUTHSEC_CLIENT_ID}\n  client_secret: ${AUTHSEC_CLIENT_SECRET}\n  token_url: https://auth.authsec.ai/oauth/token\n  scopes: [read:data, write:logs]\n";
        let c = ClientConfig::from_yaml_str(
            yaml,
            vars(&[
                ("AUTHSEC_CLIENT_ID", "agent"),
                ("AUTHSEC_CLIENT_SECRET", "s3: #cr3t\nx"),
            ]),
        )
        .unwrap();
        assert_eq!(c.client_id, "agent");
        assert_eq!(c.client_secret.as_ref().unwrap().expose(), "s3: #cr3t\nx");
        assert_eq!(c.scopes, ["read:data", "write:logs"]);
        assert_eq!(c.auth_method, AuthMethod::ClientSecretBasic);
        assert!(!format!("{c:?}").contains("cr3t"));
        let e = ClientConfig::from_yaml_str(yaml, vars(&[("AUTHSEC_CLIENT_ID", "agent")])).unwrap_err();
        assert!(e.message().contains("AUTHSEC_CLIENT_SECRET"), "{e}");
        let e = ClientConfig::from_yaml_str("authsec:\n  client_id: a\n  clientsecret: b\n", vars(&[])).unwrap_err();
        assert!(e.message().contains("clientsecret"), "{e}");
    }

    #[test]
    fn env() {
        let c = ClientConfig::from_env_with(vars(&[
            ("AUTHSEC_CLIENT_ID", "a"),
            ("AUTHSEC_CLIENT_SECRET", "s"),
            ("AUTHSEC_TOKEN_URL", "https://x/oauth/token"),
            ("AUTHSEC_SCOPES", "read:data  write:logs"),
            ("AUTHSEC_AUDIENCE", "https://api"),
            ("AUTHSEC_REFRESH_BUFFER", "2m"),
        ]))
        .unwrap();
        assert_eq!(c.scopes, ["read:data", "write:logs"]);
        assert_eq!(c.audience.as_deref(), Some("https://api"));
        assert_eq!(c.refresh_buffer, Duration::from_secs(120));
        let e = ClientConfig::from_env_with(vars(&[
            ("AUTHSEC_CLIENT_ID", "a"),
            ("AUTHSEC_TOKEN_URL", "https://x/t"),
        ]))
        .unwrap_err();
        assert!(e.message().contains("AUTHSEC_CLIENT_SECRET"), "{e}");
        let e = ClientConfig::from_env_with(vars(&[])).unwrap_err();
        assert!(e.message().contains("AUTHSEC_CLIENT_ID"), "{e}");
        let e = ClientConfig::from_env_with(vars(&[
            ("AUTHSEC_CLIENT_ID", "a"),
            ("AUTHSEC_CLIENT_SECRET", "s"),
            ("AUTHSEC_TOKEN_URL", "http://auth.example.com/t"),
        ]))
        .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InsecureTransport);
    }
}
