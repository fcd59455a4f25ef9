//! `authsec token`: one client-credentials token request.
//!
//! Settings are layered, each one taken from the highest source that has it:
//! flags > the config file (`--config`, else `AUTHSEC_CONFIG`) > `AUTHSEC_*` variables.
//! The merged settings go through `ClientConfig::from_value`, so the file's rules (known keys,
//! `${VAR}` interpolation, validation) are the core's own.

use crate::common::{ordered_object, print_stdout};
use authsec_native::client::config::env;
use authsec_native::config::interpolate_value;
use authsec_native::{ClientConfig, Error, Result};
use clap::Args;
use serde_json::{Map, Value};

const AFTER_HELP: &str = "\
Where settings come from (highest first):
  1. the flags above
  2. the config file: --config FILE, else the file named by AUTHSEC_CONFIG
  3. environment variables: AUTHSEC_CLIENT_ID, AUTHSEC_CLIENT_SECRET, AUTHSEC_CLIENT_SECRET_FILE,
     AUTHSEC_TOKEN_URL, AUTHSEC_ISSUER, AUTHSEC_SCOPES, AUTHSEC_AUDIENCE, AUTHSEC_RESOURCE,
     AUTHSEC_AUTH_METHOD, AUTHSEC_PRIVATE_KEY, AUTHSEC_PRIVATE_KEY_FILE, AUTHSEC_PRIVATE_KEY_ALG,
     AUTHSEC_PRIVATE_KEY_ID, AUTHSEC_ALLOW_INSECURE_HTTP

The client secret: there is deliberately no --client-secret flag, because command-line arguments
are visible to every user of the machine (`ps`). Give it in AUTHSEC_CLIENT_SECRET, in a file
(--client-secret-file, AUTHSEC_CLIENT_SECRET_FILE), or in the config file as `${VAR}`.

Config file (YAML):
  authsec:
    client_id: my-agent
    client_secret: ${AUTHSEC_CLIENT_SECRET}
    token_url: https://auth.example.com/oauth/token
    scopes: [read:data, write:logs]

Output: {\"access_token\", \"token_type\", \"expires_in\", \"expires_at\", \"scope\"} as JSON,
or only the access token with --raw. The token is a credential: do not log it.

Exit codes: 0 success, 1 the server refused the request (e.g. invalid_client, invalid_scope),
2 usage or configuration error, 3 network error or the server is unavailable.

Examples:
  AUTHSEC_CLIENT_SECRET=... authsec token --client-id my-agent \\
      --token-url https://auth.example.com/oauth/token --scope read:data
  authsec token --config authsec.yaml --raw
  curl -H \"Authorization: Bearer $(authsec token --raw)\" https://api.example.com/data";

#[derive(Args, Debug, Default)]
#[command(after_help = AFTER_HELP)]
pub struct TokenArgs {
    /// YAML config file (overrides AUTHSEC_CONFIG); `${VAR}` is read from the environment.
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,
    /// The client's id.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Read the client secret from this file (the secret is never taken from the command line).
    #[arg(long, value_name = "PATH")]
    pub client_secret_file: Option<String>,
    /// The token endpoint.
    #[arg(long, value_name = "URL")]
    pub token_url: Option<String>,
    /// The issuer, to discover the token endpoint (RFC 8414) when --token-url is not given.
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// A scope to request; repeat the flag or separate scopes with spaces.
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// The audience (API identifier) to request the token for.
    #[arg(long, value_name = "AUD")]
    pub audience: Option<String>,
    /// An RFC 8707 resource indicator; repeatable.
    #[arg(long, value_name = "URI")]
    pub resource: Vec<String>,
    /// How to authenticate to the token endpoint [default: client_secret_basic, or
    /// private_key_jwt when only a private key is configured].
    #[arg(long, value_name = "METHOD", value_parser = ["client_secret_basic", "client_secret_post", "private_key_jwt"])]
    pub auth_method: Option<String>,
    /// Private key (PEM or private JWK) for private_key_jwt.
    #[arg(long, value_name = "PATH")]
    pub private_key_file: Option<String>,
    /// Signing algorithm for private_key_jwt (inferred from the key when absent), e.g. ES256.
    #[arg(long, value_name = "ALG")]
    pub private_key_alg: Option<String>,
    /// Allow plain http:// to non-loopback hosts (never needed for localhost).
    #[arg(long)]
    pub allow_insecure_http: bool,
    /// Print only the access token (no JSON, one line).
    #[arg(long)]
    pub raw: bool,
    /// Not supported (argv is visible in `ps`); accepted only to explain that with a clear error.
    #[arg(long, hide = true, value_name = "SECRET")]
    pub client_secret: Option<String>,
}

/// `AUTHSEC_*` variable → config setting.
const ENV_SETTINGS: &[(&str, &str)] = &[
    (env::CLIENT_ID, "client_id"),
    (env::CLIENT_SECRET, "client_secret"),
    (env::CLIENT_SECRET_FILE, "client_secret_file"),
    (env::TOKEN_URL, "token_url"),
    (env::ISSUER, "issuer"),
    (env::SCOPES, "scopes"),
    (env::AUDIENCE, "audience"),
    (env::RESOURCE, "resource"),
    (env::AUTH_METHOD, "auth_method"),
    (env::PRIVATE_KEY, "private_key"),
    (env::PRIVATE_KEY_FILE, "private_key_file"),
    (env::PRIVATE_KEY_ALG, "private_key_alg"),
    (env::PRIVATE_KEY_ID, "private_key_id"),
    (env::REFRESH_BUFFER, "refresh_buffer"),
    (env::ALLOW_INSECURE_HTTP, "allow_insecure_http"),
];

/// Settings that are alternatives to each other: a higher layer setting one of them replaces all
/// of them (e.g. `--client-secret-file` beats a `client_secret` from the config file).
const GROUPS: &[&[&str]] = &[
    &["client_secret", "client_secret_file"],
    &["private_key", "private_key_file"],
    &["scopes", "scope"],
];

/// Lay `upper` over `base`.
fn overlay(base: &mut Map<String, Value>, upper: Map<String, Value>) {
    for (k, v) in upper {
        if let Some(group) = GROUPS.iter().find(|g| g.contains(&k.as_str())) {
            for other in group.iter() {
                base.remove(*other);
            }
        }
        base.insert(k, v);
    }
}

fn env_layer(get: &impl Fn(&str) -> Option<String>) -> Map<String, Value> {
    let mut m = Map::new();
    for (var, key) in ENV_SETTINGS {
        if let Some(v) = get(var).filter(|v| !v.trim().is_empty()) {
            m.insert((*key).to_string(), Value::String(v));
        }
    }
    m
}

/// The `authsec:` section of a YAML config file, `${VAR}` interpolated.
fn file_layer(path: &str, get: &impl Fn(&str) -> Option<String>) -> Result<Map<String, Value>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::config(format!("cannot read config file {path:?}: {e}")))?;
    let doc: Value = serde_yaml_ng::from_str(&text)
        .map_err(|e| Error::config(format!("the config file {path:?} is not valid YAML: {e}")))?;
    let section = match doc {
        Value::Object(mut m) if m.contains_key("authsec") => m.remove("authsec").unwrap_or(Value::Null),
        other => other,
    };
    match interpolate_value(section, get)? {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        _ => Err(Error::config(format!(
            "the config file {path:?} must hold a mapping of settings (under `authsec:`)"
        ))),
    }
}

fn flag_layer(a: &TokenArgs) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<&String>| {
        if let Some(v) = v {
            m.insert(k.to_string(), Value::String(v.clone()));
        }
    };
    put("client_id", a.client_id.as_ref());
    put("client_secret_file", a.client_secret_file.as_ref());
    put("token_url", a.token_url.as_ref());
    put("issuer", a.issuer.as_ref());
    put("audience", a.audience.as_ref());
    put("auth_method", a.auth_method.as_ref());
    put("private_key_file", a.private_key_file.as_ref());
    put("private_key_alg", a.private_key_alg.as_ref());
    if !a.scopes.is_empty() {
        let scopes = a
            .scopes
            .iter()
            .flat_map(|s| s.split_whitespace())
            .map(|s| Value::String(s.into()))
            .collect();
        m.insert("scopes".into(), Value::Array(scopes));
    }
    if !a.resource.is_empty() {
        m.insert(
            "resource".into(),
            Value::Array(a.resource.iter().cloned().map(Value::String).collect()),
        );
    }
    if a.allow_insecure_http {
        m.insert("allow_insecure_http".into(), Value::Bool(true));
    }
    m
}

/// The client configuration from flags, the config file and the environment (read through `get`).
pub fn build_config(a: &TokenArgs, get: impl Fn(&str) -> Option<String>) -> Result<ClientConfig> {
    let mut merged = env_layer(&get);
    let file = a
        .config
        .clone()
        .or_else(|| get(env::CONFIG).filter(|p| !p.trim().is_empty()));
    if let Some(path) = file {
        overlay(&mut merged, file_layer(&path, &get)?);
    }
    overlay(&mut merged, flag_layer(a));
    if merged
        .get("client_id")
        .is_none_or(|v| v.as_str().is_some_and(|s| s.trim().is_empty()))
    {
        return Err(Error::config(format!(
            "no client id: pass --client-id, set client_id in the config file, or set {}",
            env::CLIENT_ID
        )));
    }
    ClientConfig::from_value(&Value::Object(merged), authsec_native::ProcessEnv)
}

pub fn run(a: TokenArgs) -> Result<()> {
    if a.client_secret.is_some() {
        return Err(Error::config(format!(
            "there is no --client-secret flag: command-line arguments are visible to other users (`ps`); \
             set {} or use --client-secret-file PATH (and consider rotating the secret just passed)",
            env::CLIENT_SECRET
        )));
    }
    let cfg = build_config(&a, |k| std::env::var(k).ok())?;
    let client = authsec_native::token_client(cfg)?;
    let token = authsec_native::block_on(client.get_token())?;
    if a.raw {
        return print_stdout(token.access_token.expose());
    }
    let expires_in = (token.expires_at_ms - token.issued_at_ms).max(0) / 1000;
    print_stdout(&ordered_object(&[
        ("access_token", Value::String(token.access_token.expose().to_string())),
        ("token_type", Value::String(token.token_type.clone())),
        ("expires_in", Value::from(expires_in)),
        ("expires_at", Value::from(token.expires_at())),
        ("scope", Value::String(token.scopes.join(" "))),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use authsec_native::{AuthMethod, ErrorCode};
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn env_only() {
        let c = build_config(
            &TokenArgs::default(),
            vars(&[
                ("AUTHSEC_CLIENT_ID", "a"),
                ("AUTHSEC_CLIENT_SECRET", "s"),
                ("AUTHSEC_TOKEN_URL", "https://x/t"),
                ("AUTHSEC_SCOPES", "r w"),
            ]),
        )
        .unwrap();
        assert_eq!(c.client_id, "a");
        assert_eq!(c.scopes, ["r", "w"]);
    }

    #[test]
    fn flags_beat_env_and_groups_replace() {
        let dir = std::env::temp_dir().join(format!("authsec-cli-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let secret_file = dir.join("secret");
        std::fs::write(&secret_file, "from-file\n").unwrap();
        let a = TokenArgs {
            client_id: Some("flag-id".into()),
            client_secret_file: Some(secret_file.to_string_lossy().into()),
            scopes: vec!["a b".into(), "c".into()],
            ..Default::default()
        };
        let c = build_config(
            &a,
            vars(&[
                ("AUTHSEC_CLIENT_ID", "env-id"),
                ("AUTHSEC_CLIENT_SECRET", "env-secret"),
                ("AUTHSEC_TOKEN_URL", "https://x/t"),
            ]),
        )
        .unwrap();
        assert_eq!(c.client_id, "flag-id");
        assert_eq!(c.client_secret.unwrap().expose(), "from-file");
        assert_eq!(c.scopes, ["a", "b", "c"]);
        assert_eq!(c.auth_method, AuthMethod::ClientSecretBasic);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_client_id_names_every_source() {
        let e = build_config(&TokenArgs::default(), vars(&[])).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ConfigError);
        assert!(
            e.message().contains("--client-id") && e.message().contains("AUTHSEC_CLIENT_ID"),
            "{e}"
        );
    }
}
