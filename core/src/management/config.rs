//! The management client's settings ([`ManagementConfig::from_value`]): where the management API
//! is, and how the client authenticates to it (a management client's credentials, or the server's
//! bootstrap `admin_token`).

use crate::client::config::{parse_bool, parse_duration, ClientConfig};
use crate::config::ConfigEnv;
use crate::options::{OptionName, Options};
use crate::util::quoted;
use crate::{Error, Result, Secret};
use serde_json::{json, Map, Value};
use std::time::Duration;

/// Every setting: its name and its JavaScript spelling.
const SETTINGS: [OptionName; 16] = [
    ("base_url", "baseUrl"),
    ("domain", "domain"),
    ("client_id", "clientId"),
    ("client_secret", "clientSecret"),
    ("client_secret_file", "clientSecretFile"),
    ("private_key", "privateKey"),
    ("private_key_file", "privateKeyFile"),
    ("private_key_alg", "privateKeyAlg"),
    ("key_id", "keyId"),
    ("admin_token", "adminToken"),
    ("admin_token_file", "adminTokenFile"),
    ("scopes", "scopes"),
    ("token_url", "tokenUrl"),
    ("allow_insecure_http", "allowInsecureHttp"),
    ("timeout", "timeout"),
    ("max_attempts", "maxAttempts"),
];

/// Every management scope (contract §1), the default a client asks for being those it holds.
pub const MANAGEMENT_SCOPES: [&str; 9] = [
    "clients:read",
    "clients:write",
    "scopes:read",
    "scopes:write",
    "roles:read",
    "roles:write",
    "logs:read",
    "keys:read",
    "keys:write",
];

/// How the management client authenticates.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// A management client's credentials: tokens for `{base_url}/admin` from its token endpoint
    /// (client credentials, `resource` = the management API), cached like every token.
    Client(Box<ClientConfig>),
    /// The server's static bootstrap token, sent as the bearer as it is (accepted only while no
    /// management client exists).
    AdminToken(Secret),
}

/// The management client's settings. `Debug` never shows a secret.
#[derive(Clone, Debug)]
pub struct ManagementConfig {
    /// The server's base URL (its issuer), without a trailing slash.
    pub base_url: String,
    pub credentials: Credentials,
    /// Allow plain `http://` to non-loopback hosts (loopback http is always allowed).
    pub allow_insecure_http: bool,
    /// The whole-request timeout the transport should use (the core itself does not time out).
    pub timeout: Option<Duration>,
}

/// `domain: "auth.example.com"` means `https://auth.example.com`.
fn base_for_domain(domain: &str) -> Result<String> {
    let d = domain.trim();
    if d.is_empty() {
        return Err(Error::config(
            "domain is empty; give the server's host name or base_url",
        ));
    }
    Ok(if d.contains("://") {
        d.to_string()
    } else {
        format!("https://{d}")
    })
}

/// A secret given in a file: its text without the trailing newline.
fn read_secret_file(env: &(impl ConfigEnv + ?Sized), name: &str, path: &str) -> Result<String> {
    env.read_file(path)
        .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
        .map_err(|e| Error::config(format!("cannot read {name} file {}: {e}", quoted(path))))
}

impl ManagementConfig {
    /// The management API's URL (and the audience of its tokens): `{base_url}/admin`.
    pub fn admin_url(&self) -> String {
        format!("{}/admin", self.base_url)
    }

    /// From settings as every binding passes them (snake_case, or JavaScript's camelCase). Files
    /// named by `*_file` settings are read through `env` (and `client_secret_file` /
    /// `private_key_file` remembered, to be read again when the token endpoint answers
    /// `invalid_client`).
    pub fn from_value(v: &Value, env: impl ConfigEnv) -> Result<ManagementConfig> {
        if !v.is_object() {
            return Err(Error::config("the management client settings must be a mapping"));
        }
        let o = Options::read("management client settings", v, &SETTINGS)?;
        let s = |k: &str| -> Result<Option<String>> { Ok(o.text(k)?.filter(|x| !x.trim().is_empty())) };
        let base =
            match (s("base_url")?, s("domain")?) {
                (Some(_), Some(_)) => return Err(Error::config("give base_url or domain, not both")),
                (Some(u), None) => u,
                (None, Some(d)) => base_for_domain(&d)?,
                (None, None) => return Err(Error::config(
                    "the management client needs base_url (the server's URL, e.g. https://auth.example.com) or domain",
                )),
            };
        let base_url = base.trim().trim_end_matches('/').to_string();
        let allow_insecure_http = match s("allow_insecure_http")? {
            Some(b) => parse_bool("allow_insecure_http", &b)?,
            None => false,
        };
        crate::http::check_url(&base_url, allow_insecure_http, "base_url")?;
        if base_url.contains(['?', '#']) {
            return Err(Error::config("base_url must not have a query or a fragment"));
        }
        let timeout = match o.value("timeout") {
            Some(Value::Number(n)) => Some(
                n.as_f64()
                    .filter(|f| *f > 0.0)
                    .and_then(|f| Duration::try_from_secs_f64(f).ok())
                    .ok_or_else(|| o.bad("timeout", "a positive number of seconds or a duration such as \"30s\""))?,
            ),
            _ => match s("timeout")? {
                Some(t) => Some(parse_duration("timeout", &t)?).filter(|d| !d.is_zero()),
                None => None,
            },
        };
        let admin_token = match (s("admin_token")?, s("admin_token_file")?) {
            (Some(_), Some(_)) => return Err(Error::config("give admin_token or admin_token_file, not both")),
            (Some(t), None) => Some(Secret::new(t)),
            (None, Some(p)) => Some(Secret::new(read_secret_file(&env, "admin_token_file", &p)?)),
            (None, None) => None,
        };
        let client_keys = [
            "client_id",
            "client_secret",
            "client_secret_file",
            "private_key",
            "private_key_file",
            "private_key_alg",
            "key_id",
            "scopes",
            "token_url",
            "max_attempts",
        ];
        let credentials = match admin_token {
            Some(token) => {
                if let Some(k) = client_keys.iter().find(|k| o.is_given(k)) {
                    return Err(Error::config(format!(
                        "admin_token is for bootstrapping, without client credentials; drop {k} or admin_token"
                    )));
                }
                if token.is_empty() {
                    return Err(Error::config("admin_token is empty"));
                }
                Credentials::AdminToken(token)
            }
            None => {
                if !o.is_given("client_id") {
                    return Err(Error::config(
                        "the management client needs client_id with client_secret (or client_secret_file, private_key, private_key_file), or admin_token for bootstrapping",
                    ));
                }
                // The token client's own reader does the rest (files, key algorithms, checks).
                let mut settings = Map::new();
                for k in client_keys {
                    if let Some(x) = o.value(k) {
                        let name = if k == "key_id" { "private_key_id" } else { k };
                        settings.insert(name.to_string(), x.clone());
                    }
                }
                if !settings.contains_key("client_secret")
                    && !settings.contains_key("client_secret_file")
                    && !settings.contains_key("private_key")
                    && !settings.contains_key("private_key_file")
                {
                    return Err(Error::config(
                        "client_id needs client_secret, client_secret_file, private_key or private_key_file",
                    ));
                }
                if !settings.contains_key("token_url") {
                    settings.insert("token_url".into(), json!(format!("{base_url}/oauth/token")));
                }
                settings.insert("resource".into(), json!(format!("{base_url}/admin")));
                settings.insert("allow_insecure_http".into(), json!(allow_insecure_http));
                let cfg = ClientConfig::from_value(&Value::Object(settings), env)?;
                Credentials::Client(Box::new(cfg))
            }
        };
        Ok(ManagementConfig {
            base_url,
            credentials,
            allow_insecure_http,
            timeout,
        })
    }
}
