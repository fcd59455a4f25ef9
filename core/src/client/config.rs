//! Client configuration: from code, from settings (every binding's options and the YAML config
//! file, with `${VAR}` interpolation: one reader), or from `AUTHSEC_*` environment variables.

use super::retry::RetryPolicy;
pub use super::workload_identity::SpiffeSettings;
use crate::config::{interpolate_value, parse_yaml, ConfigEnv};
use crate::jose::alg::Alg;
use crate::options::{OptionName, Options};
use crate::scope::split_scopes;
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
    /// Mutual TLS with a certificate from a CA the server trusts (RFC 8705 §2.1).
    TlsClientAuth,
    /// Mutual TLS with a self-signed certificate the server has registered (RFC 8705 §2.2).
    SelfSignedTlsClientAuth,
    /// The workload's JWT-SVID from the SPIFFE Workload API as the client assertion
    /// (draft-ietf-oauth-spiffe-client-auth), or as a JWT-bearer grant: no secret at all.
    SpiffeJwt,
    /// The workload's X.509-SVID from the SPIFFE Workload API as the TLS client certificate
    /// (`tls_client_auth` on the wire, the SPIFFE ID as client_id), rotated without a restart.
    SpiffeX509,
}

impl AuthMethod {
    pub fn parse(s: &str) -> Result<AuthMethod> {
        match s.trim() {
            "client_secret_basic" | "basic" => Ok(AuthMethod::ClientSecretBasic),
            "client_secret_post" | "post" => Ok(AuthMethod::ClientSecretPost),
            "private_key_jwt" => Ok(AuthMethod::PrivateKeyJwt),
            "tls_client_auth" => Ok(AuthMethod::TlsClientAuth),
            "self_signed_tls_client_auth" => Ok(AuthMethod::SelfSignedTlsClientAuth),
            "spiffe_jwt" => Ok(AuthMethod::SpiffeJwt),
            "spiffe_x509" => Ok(AuthMethod::SpiffeX509),
            o => Err(Error::config(format!(
                "auth_method {o:?} is not supported; use client_secret_basic, client_secret_post, private_key_jwt, tls_client_auth, self_signed_tls_client_auth, spiffe_jwt or spiffe_x509"
            ))),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::TlsClientAuth => "tls_client_auth",
            AuthMethod::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
            AuthMethod::SpiffeJwt => "spiffe_jwt",
            AuthMethod::SpiffeX509 => "spiffe_x509",
        }
    }

    /// Whether the method authenticates with the TLS client certificate.
    pub fn is_mtls(self) -> bool {
        matches!(
            self,
            AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth | AuthMethod::SpiffeX509
        )
    }

    /// Whether the workload's SPIFFE identity (from the Workload API) authenticates it.
    pub fn is_spiffe(self) -> bool {
        matches!(self, AuthMethod::SpiffeJwt | AuthMethod::SpiffeX509)
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
    /// Retries of a failing token request (network errors, 5xx, 429).
    pub retry: RetryPolicy,
    /// Ask for DPoP-bound tokens (RFC 9449) and prove possession of the key with every request.
    pub dpop: bool,
    /// The DPoP key (PEM or private JWK); a fresh in-memory key when absent.
    pub dpop_key: Option<Secret>,
    /// The algorithm of a generated DPoP key (ES256 by default), or of a given RSA key (PS256).
    pub dpop_alg: Option<Alg>,
    /// The TLS client certificate (PEM, the chain leaf first) for mutual TLS (RFC 8705): the
    /// transport presents it; the `tls_client_auth` methods authenticate with it, and servers
    /// bind tokens to it.
    pub tls_client_cert: Option<String>,
    /// Its private key (PEM).
    pub tls_client_key: Option<Secret>,
    /// CA certificates (PEM) to trust for the servers' TLS besides the system's (a private CA).
    pub tls_ca_cert: Option<String>,
    /// Where `spiffe_jwt` gets its JWT-SVIDs and how it presents them.
    pub spiffe: SpiffeSettings,
    /// The file `client_secret` was read from (`client_secret_file`, `AUTHSEC_CLIENT_SECRET_FILE`),
    /// read again when the token endpoint answers `invalid_client` (the secret was rotated).
    pub client_secret_file: Option<String>,
    /// The file `private_key` was read from (`private_key_file`, `AUTHSEC_PRIVATE_KEY_FILE`),
    /// read again like `client_secret_file`.
    pub private_key_file: Option<String>,
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
            retry: RetryPolicy::default(),
            dpop: false,
            dpop_key: None,
            dpop_alg: None,
            tls_client_cert: None,
            tls_client_key: None,
            tls_ca_cert: None,
            spiffe: SpiffeSettings::default(),
            client_secret_file: None,
            private_key_file: None,
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
    pub const DPOP: &str = "AUTHSEC_DPOP";
    pub const DPOP_KEY: &str = "AUTHSEC_DPOP_KEY";
    pub const DPOP_KEY_FILE: &str = "AUTHSEC_DPOP_KEY_FILE";
    pub const DPOP_ALG: &str = "AUTHSEC_DPOP_ALG";
    pub const TLS_CLIENT_CERT_FILE: &str = "AUTHSEC_TLS_CLIENT_CERT_FILE";
    pub const TLS_CLIENT_KEY_FILE: &str = "AUTHSEC_TLS_CLIENT_KEY_FILE";
    pub const TLS_CA_FILE: &str = "AUTHSEC_TLS_CA_FILE";
    pub const SPIFFE_ENDPOINT_SOCKET: &str = "AUTHSEC_SPIFFE_ENDPOINT_SOCKET";
    pub const SPIFFE_ID: &str = "AUTHSEC_SPIFFE_ID";
    pub const SPIFFE_AUDIENCE: &str = "AUTHSEC_SPIFFE_AUDIENCE";
    pub const SPIFFE_REUSE_SVID: &str = "AUTHSEC_SPIFFE_REUSE_SVID";
    pub const SPIFFE_GRANT: &str = "AUTHSEC_SPIFFE_GRANT";
    pub const CONFIG: &str = "AUTHSEC_CONFIG";
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

pub fn parse_bool(name: &str, v: &str) -> Result<bool> {
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

/// A secret given in a file (`*_file` settings): its text without the trailing newline.
pub(crate) fn read_file(env: &(impl ConfigEnv + ?Sized), name: &str, path: &str) -> Result<String> {
    env.read_file(path)
        .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
        .map_err(|e| Error::config(format!("cannot read {name} file {path:?}: {e}")))
}

/// Every setting: its name and its JavaScript spelling.
const SETTINGS: [OptionName; 34] = [
    ("client_id", "clientId"),
    ("client_secret", "clientSecret"),
    ("client_secret_file", "clientSecretFile"),
    ("token_url", "tokenUrl"),
    ("domain", "domain"),
    ("issuer", "issuer"),
    ("scopes", "scopes"),
    ("scope", "scope"),
    ("audience", "audience"),
    ("resource", "resource"),
    ("auth_method", "authMethod"),
    ("private_key", "privateKey"),
    ("private_key_file", "privateKeyFile"),
    ("private_key_alg", "privateKeyAlg"),
    ("private_key_id", "privateKeyId"),
    ("refresh_buffer", "refreshBuffer"),
    ("allow_insecure_http", "allowInsecureHttp"),
    ("max_attempts", "maxAttempts"),
    ("jwks_uri", "jwksUri"),
    ("dpop", "dpop"),
    ("dpop_key", "dpopKey"),
    ("dpop_key_file", "dpopKeyFile"),
    ("dpop_alg", "dpopAlg"),
    ("tls_client_cert", "tlsClientCert"),
    ("tls_client_cert_file", "tlsClientCertFile"),
    ("tls_client_key", "tlsClientKey"),
    ("tls_client_key_file", "tlsClientKeyFile"),
    ("tls_ca_cert", "tlsCaCert"),
    ("tls_ca_file", "tlsCaFile"),
    ("spiffe_endpoint_socket", "spiffeEndpointSocket"),
    ("spiffe_id", "spiffeId"),
    ("spiffe_audience", "spiffeAudience"),
    ("spiffe_reuse_svid", "spiffeReuseSvid"),
    ("spiffe_grant", "spiffeGrant"),
];

/// The token endpoint the product docs give for a tenant's `domain`: `https://{domain}/oauth/token`
/// (a `domain` with a scheme, such as `http://127.0.0.1:8080`, is used as the base as it is).
pub fn token_url_for_domain(domain: &str) -> Result<String> {
    let domain = domain.trim();
    if domain.is_empty() {
        return Err(Error::config(
            "domain is empty; give your tenant's domain (e.g. \"auth.authsec.ai\") or token_url",
        ));
    }
    let base = if domain.contains("://") {
        domain.to_string()
    } else {
        format!("https://{domain}")
    };
    Ok(format!("{}/oauth/token", base.trim_end_matches('/')))
}

impl ClientConfig {
    /// From `AUTHSEC_*` variables read through `env` (the process environment in the native
    /// crate; a closure in tests). `*_FILE` variables name files read through `env` too.
    pub fn from_env_with(env: impl ConfigEnv) -> Result<ClientConfig> {
        let env = &env;
        let get = |k: &str| non_empty(env.var(k));
        let mut c = ClientConfig {
            client_id: get(env::CLIENT_ID).unwrap_or_default(),
            token_url: get(env::TOKEN_URL),
            issuer: get(env::ISSUER),
            scopes: get(env::SCOPES).map(|s| split_scopes(&s)).unwrap_or_default(),
            audience: get(env::AUDIENCE),
            resource: get(env::RESOURCE)
                .map(|s| s.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            ..Default::default()
        };
        c.client_secret = match (get(env::CLIENT_SECRET), get(env::CLIENT_SECRET_FILE)) {
            (Some(s), _) => Some(Secret::new(s)),
            (None, Some(p)) => {
                let secret = read_file(env, env::CLIENT_SECRET_FILE, &p)?;
                c.client_secret_file = Some(p);
                Some(Secret::new(secret))
            }
            _ => None,
        };
        c.private_key = match (get(env::PRIVATE_KEY), get(env::PRIVATE_KEY_FILE)) {
            (Some(s), _) => Some(Secret::new(s)),
            (None, Some(p)) => {
                let key = read_file(env, env::PRIVATE_KEY_FILE, &p)?;
                c.private_key_file = Some(p);
                Some(Secret::new(key))
            }
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
        c.dpop_key = match (get(env::DPOP_KEY), get(env::DPOP_KEY_FILE)) {
            (Some(s), _) => Some(Secret::new(s)),
            (None, Some(p)) => Some(Secret::new(read_file(env, env::DPOP_KEY_FILE, &p)?)),
            _ => None,
        };
        c.dpop = match get(env::DPOP) {
            Some(b) => parse_bool(env::DPOP, &b)?,
            None => c.dpop_key.is_some(),
        };
        if let Some(a) = get(env::DPOP_ALG) {
            c.dpop_alg =
                Some(Alg::parse(&a).map_err(|e| Error::config(format!("{}: {}", env::DPOP_ALG, e.message())))?);
        }
        if let Some(p) = get(env::TLS_CLIENT_CERT_FILE) {
            c.tls_client_cert = Some(read_file(env, env::TLS_CLIENT_CERT_FILE, &p)?);
        }
        if let Some(p) = get(env::TLS_CLIENT_KEY_FILE) {
            c.tls_client_key = Some(Secret::new(read_file(env, env::TLS_CLIENT_KEY_FILE, &p)?));
        }
        if let Some(p) = get(env::TLS_CA_FILE) {
            c.tls_ca_cert = Some(read_file(env, env::TLS_CA_FILE, &p)?);
        }
        c.spiffe = SpiffeSettings::read(&|name| Ok(get(&format!("AUTHSEC_{}", name.to_ascii_uppercase()))))?;
        if c.client_id.is_empty() && !c.auth_method.is_spiffe() {
            return Err(Error::config(format!(
                "{} is not set; set it to your client's id",
                env::CLIENT_ID
            )));
        }
        c.validate()?;
        Ok(c)
    }

    /// From YAML text shaped like the product docs' (an `authsec:` mapping, or the settings at the
    /// top level), with `${VAR}` resolved through `env`. Interpolation happens after parsing,
    /// inside string values only, so a secret containing YAML syntax cannot change the structure.
    pub fn from_yaml_str(text: &str, env: impl ConfigEnv) -> Result<ClientConfig> {
        let doc = parse_yaml(text, "config file")?;
        let section = match doc.get("authsec") {
            Some(s) => s.clone(),
            None => doc,
        };
        let section = interpolate_value(section, &env)?;
        Self::from_value(&section, env)
    }

    /// From settings as every binding passes them (and as the config file has them): snake_case
    /// names or their camelCase spelling, strings or (for lists) lists or space-separated
    /// strings. Files named by `*_file` settings are read through `env`.
    pub fn from_value(v: &Value, env: impl ConfigEnv) -> Result<ClientConfig> {
        let c = Self::read_value(v, env)?;
        c.validate()?;
        Ok(c)
    }

    /// [`Self::from_value`] without [`Self::validate`], for a reader that completes the
    /// configuration first (the MCP client, which may find its token endpoint by discovery from
    /// the MCP server).
    pub fn read_value(v: &Value, env: impl ConfigEnv) -> Result<ClientConfig> {
        let env = &env;
        if !v.is_object() {
            return Err(Error::config("the authsec config must be a mapping of settings"));
        }
        let o = Options::read("client options", v, &SETTINGS)?;
        let s = |k: &str| -> Result<Option<String>> { Ok(non_empty(o.text(k)?)) };
        let list = |k: &str| -> Result<Vec<String>> { Ok(o.space_separated(k)?.unwrap_or_default()) };
        let token_url = match (s("token_url")?, s("domain")?) {
            (Some(u), _) => Some(u),
            (None, Some(d)) => Some(token_url_for_domain(&d)?),
            (None, None) => None,
        };
        let mut c = ClientConfig {
            client_id: s("client_id")?.unwrap_or_default(),
            token_url,
            issuer: s("issuer")?,
            audience: s("audience")?,
            resource: o.one_or_many("resource")?.unwrap_or_default(),
            ..Default::default()
        };
        c.scopes = list("scopes")?;
        c.scopes.extend(list("scope")?);
        c.client_secret = match (s("client_secret")?, s("client_secret_file")?) {
            (Some(x), _) => Some(Secret::new(x)),
            (None, Some(p)) => {
                let secret = read_file(env, "client_secret_file", &p)?;
                c.client_secret_file = Some(p);
                Some(Secret::new(secret))
            }
            _ => None,
        };
        // A private JWK may be given as an object (a binding's dict or a YAML mapping): its JSON
        // text is read like a JWK string.
        let private_key = match o.value("private_key") {
            Some(jwk @ Value::Object(_)) => Some(jwk.to_string()),
            _ => s("private_key")?,
        };
        c.private_key = match (private_key, s("private_key_file")?) {
            (Some(x), _) => Some(Secret::new(x)),
            (None, Some(p)) => {
                let key = read_file(env, "private_key_file", &p)?;
                c.private_key_file = Some(p);
                Some(Secret::new(key))
            }
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
        c.refresh_buffer = match o.value("refresh_buffer") {
            // A number of seconds, fractions allowed (a binding's float or timedelta).
            Some(Value::Number(n)) => n
                .as_f64()
                .and_then(|f| Duration::try_from_secs_f64(f).ok())
                .ok_or_else(|| {
                    o.bad(
                        "refresh_buffer",
                        "a non-negative number of seconds or a duration such as \"5m\"",
                    )
                })?,
            _ => match s("refresh_buffer")? {
                Some(b) => parse_duration("refresh_buffer", &b)?,
                None => c.refresh_buffer,
            },
        };
        if let Some(b) = s("allow_insecure_http")? {
            c.allow_insecure_http = parse_bool("allow_insecure_http", &b)?;
        }
        if let Some(n) = o.count("max_attempts")? {
            c.retry.max_attempts = u32::try_from(n).unwrap_or(u32::MAX).max(1);
        }
        let dpop_key = match o.value("dpop_key") {
            Some(jwk @ Value::Object(_)) => Some(jwk.to_string()),
            _ => s("dpop_key")?,
        };
        c.dpop_key = match (dpop_key, s("dpop_key_file")?) {
            (Some(x), _) => Some(Secret::new(x)),
            (None, Some(p)) => Some(Secret::new(read_file(env, "dpop_key_file", &p)?)),
            _ => None,
        };
        c.dpop = match s("dpop")? {
            Some(b) => parse_bool("dpop", &b)?,
            None => c.dpop_key.is_some(),
        };
        if let Some(a) = s("dpop_alg")? {
            c.dpop_alg = Some(Alg::parse(&a).map_err(|e| Error::config(format!("dpop_alg: {}", e.message())))?);
        }
        c.tls_client_cert = match (s("tls_client_cert")?, s("tls_client_cert_file")?) {
            (Some(x), _) => Some(x),
            (None, Some(p)) => Some(read_file(env, "tls_client_cert_file", &p)?),
            _ => None,
        };
        c.tls_client_key = match (s("tls_client_key")?, s("tls_client_key_file")?) {
            (Some(x), _) => Some(Secret::new(x)),
            (None, Some(p)) => Some(Secret::new(read_file(env, "tls_client_key_file", &p)?)),
            _ => None,
        };
        c.tls_ca_cert = match (s("tls_ca_cert")?, s("tls_ca_file")?) {
            (Some(x), _) => Some(x),
            (None, Some(p)) => Some(read_file(env, "tls_ca_file", &p)?),
            _ => None,
        };
        c.spiffe = SpiffeSettings::read(&s)?;
        if c.client_id.is_empty() && !c.auth_method.is_spiffe() {
            return Err(Error::config("the config has no client_id"));
        }
        Ok(c)
    }

    /// Check that the settings fit together; errors name the setting to fix.
    pub fn validate(&self) -> Result<()> {
        // A workload with a SPIFFE identity may leave client_id out: its SPIFFE ID is its id.
        if self.client_id.trim().is_empty() && !self.auth_method.is_spiffe() {
            return Err(Error::config("client_id is empty"));
        }
        if self.spiffe.is_set() && !self.auth_method.is_spiffe() {
            return Err(Error::config(
                "spiffe_* settings are set but auth_method is not spiffe_jwt or spiffe_x509; set auth_method: spiffe_jwt (AUTHSEC_AUTH_METHOD=spiffe_jwt)",
            ));
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
            AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth => {
                if self.tls_client_cert.is_none() || self.tls_client_key.is_none() {
                    return Err(Error::config(format!(
                        "{} needs a TLS client certificate and key; set tls_client_cert_file and tls_client_key_file (or {} / {})",
                        self.auth_method.as_str(),
                        env::TLS_CLIENT_CERT_FILE,
                        env::TLS_CLIENT_KEY_FILE
                    )));
                }
            }
            AuthMethod::SpiffeJwt | AuthMethod::SpiffeX509 => {
                if self.client_secret.is_some() || self.private_key.is_some() || self.tls_client_cert.is_some() {
                    return Err(Error::config(format!(
                        "{} authenticates with the workload's SVID from the Workload API; drop client_secret, private_key and tls_client_cert",
                        self.auth_method.as_str()
                    )));
                }
            }
        }
        if self.tls_client_cert.is_some() != self.tls_client_key.is_some() {
            return Err(Error::config(
                "a TLS client certificate needs its key and the other way round; set both tls_client_cert_file and tls_client_key_file",
            ));
        }
        if self.dpop_key.is_some() && !self.dpop {
            return Err(Error::config(
                "dpop_key is set but dpop is false; drop the key or turn DPoP on",
            ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::vars;
    use crate::ErrorCode;

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
    fn settings_values_a_binding_passes() {
        let jwk = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": "x", "d": "d"});
        let c = ClientConfig::from_value(
            &serde_json::json!({"client_id": "a", "token_url": "https://x/t", "private_key": jwk, "refresh_buffer": 1.5}),
            vars(&[]),
        )
        .unwrap();
        assert_eq!(c.auth_method, AuthMethod::PrivateKeyJwt);
        assert_eq!(
            serde_json::from_str::<Value>(c.private_key.as_ref().unwrap().expose()).unwrap(),
            jwk
        );
        assert_eq!(c.refresh_buffer, Duration::from_millis(1500));
        for (buffer, expect) in [(serde_json::json!(60), 60_000), (serde_json::json!("2m"), 120_000)] {
            let v = serde_json::json!({"client_id": "a", "client_secret": "s", "token_url": "https://x/t", "refresh_buffer": buffer});
            assert_eq!(
                ClientConfig::from_value(&v, vars(&[])).unwrap().refresh_buffer,
                Duration::from_millis(expect)
            );
        }
        let v = serde_json::json!({"client_id": "a", "client_secret": "s", "token_url": "https://x/t", "refresh_buffer": -1});
        let e = ClientConfig::from_value(&v, vars(&[])).unwrap_err();
        assert!(
            e.code() == ErrorCode::ConfigError && e.message().contains("refresh_buffer"),
            "{e}"
        );
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
