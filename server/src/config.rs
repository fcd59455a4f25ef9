//! Server configuration: a YAML file (with `${VAR}` interpolation) listing clients (with the
//! product docs' field names), roles, and the token exchange settings.

use crate::clients::ClientType;
use authsec_core::{Alg, ConfigEnv, Error, Result};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One client as written in the config file or sent to the admin API.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(rename = "type", default)]
    pub client_type: Option<String>,
    /// Plain secret: hashed when loaded, never stored.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Public keys for `private_key_jwt`: a JWKS object, or a path in `jwks_file`.
    #[serde(default)]
    pub jwks: Option<Value>,
    #[serde(default)]
    pub jwks_file: Option<String>,
    #[serde(default)]
    pub allowed_scopes: Vec<String>,
    /// Scopes granted when a request names none (default: all allowed scopes).
    #[serde(default)]
    pub default_scopes: Option<Vec<String>>,
    /// Audiences the client may request; the first is the default.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Seconds.
    #[serde(default)]
    pub token_lifetime: Option<u64>,
    /// Token requests per minute.
    #[serde(default)]
    pub rate_limit: Option<u32>,
    /// Role names: the client may also get each role's scopes and audiences (resolved at every
    /// token request, so a role change applies to the next token).
    #[serde(default)]
    pub roles: Vec<String>,
    /// `client_credentials` (the default) and/or
    /// `urn:ietf:params:oauth:grant-type:token-exchange`.
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    /// Client ids that may exchange tokens issued to this client (RFC 8693 §4.4 `may_act`).
    #[serde(default)]
    pub may_act: Vec<String>,
    /// For an `mcp_server` client: the MCP server's URL, the audience of tokens issued for it.
    /// Other clients' `audiences` (and roles') may name the client id in its place.
    #[serde(default)]
    pub resource: Option<String>,
    /// RFC 9449 §5.2: every token request of this client must carry a DPoP proof, and its tokens
    /// are DPoP-bound.
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
    /// RFC 8705 §3.4: this client's tokens are bound to the TLS client certificate it presents
    /// (`cnf.x5t#S256`); a token request without one is refused. A certificate alone binds
    /// nothing: the client asks for binding with this field.
    #[serde(default)]
    pub tls_client_certificate_bound_access_tokens: bool,
    /// The one client authentication method this client may use (RFC 7591 names):
    /// `client_secret_basic`, `client_secret_post`, `private_key_jwt`, `tls_client_auth`,
    /// `self_signed_tls_client_auth`. Unset: any method the client has credentials for
    /// (secrets, `jwks`), as before; the two TLS methods are used only when named here.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    /// RFC 8705 §2.1.2, for `tls_client_auth` (exactly one of the three): the certificate's
    /// subject DN (RFC 4514), a dNSName SAN, or a uniformResourceIdentifier SAN.
    #[serde(default)]
    pub tls_client_auth_subject_dn: Option<String>,
    #[serde(default)]
    pub tls_client_auth_san_dns: Option<String>,
    #[serde(default)]
    pub tls_client_auth_san_uri: Option<String>,
    /// For `self_signed_tls_client_auth` (besides certificates in `jwks` `x5c`): the base64url
    /// SHA-256 of the client certificate's DER (its `x5t#S256`).
    #[serde(default)]
    pub tls_client_certificate_sha256: Option<String>,
    /// The SPIFFE workload (or workloads) this client is: an exact SPIFFE ID
    /// (`spiffe://example.org/agents/ml`), a trust domain (`spiffe://example.org`) or a path
    /// prefix (`spiffe://example.org/agents/*`). Such a client authenticates with a JWT-SVID
    /// (`spiffe_jwt`) and needs no secret or keys; the server needs a `spiffe` section.
    #[serde(default)]
    pub spiffe_id: Option<String>,
    /// A URL serving the client's public keys (a JWK Set) for `private_key_jwt`, instead of
    /// `jwks`: https, or http to loopback only. Fetched when the client authenticates, cached as
    /// its `Cache-Control` says, fetched again (once) for an unknown `kid`.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Redirect URIs (for `authorization_code`).
    #[serde(default)]
    pub callbacks: Option<Vec<String>>,
    /// Origins (`scheme://host[:port]`) a `web` or `mobile` client's pages call from.
    #[serde(default)]
    pub web_origins: Option<Vec<String>>,
    /// The client's logo and home page (https URLs).
    #[serde(default)]
    pub logo: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    /// `ai_agent` only: request and issuance limits.
    #[serde(default)]
    pub rate_limits: Option<RateLimits>,
    /// RFC 7591 `software_id` / `software_version` (set by dynamic registration).
    #[serde(default)]
    pub software_id: Option<String>,
    #[serde(default)]
    pub software_version: Option<String>,
}

/// An `ai_agent` client's limits: token requests per minute (the token bucket) and tokens issued
/// per UTC day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_day: Option<u64>,
}

/// RFC 7591 / RFC 7592 dynamic client registration (`POST /oauth/register`); off without this
/// section.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicRegistrationConfig {
    /// The bearer token a registration request must carry (or a file holding it).
    #[serde(default)]
    pub initial_access_token: Option<String>,
    #[serde(default)]
    pub initial_access_token_file: Option<String>,
    /// The scopes a registered client may ask for (default none).
    #[serde(default)]
    pub allowed_scopes: Vec<String>,
    /// The client types that may register (default all five).
    #[serde(default)]
    pub allowed_types: Option<Vec<String>>,
    /// The type of a registration that names none (default m2m).
    #[serde(default)]
    pub default_type: Option<String>,
}

/// A role as written in the config file: scopes and audiences a client gets by listing it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub audiences: Vec<String>,
}

/// Token exchange (RFC 8693) settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenExchangeConfig {
    /// The most nested `act` objects an issued token may hold (1 to 10; default 3: e.g.
    /// orchestrator → agent → sub-agent → tool).
    #[serde(default = "default_max_delegation_depth")]
    pub max_delegation_depth: u32,
}

impl Default for TokenExchangeConfig {
    fn default() -> Self {
        TokenExchangeConfig {
            max_delegation_depth: default_max_delegation_depth(),
        }
    }
}

fn default_max_delegation_depth() -> u32 {
    3
}

/// DPoP (RFC 9449) at the token endpoint. Proofs are always accepted; `nonce` makes the server
/// demand its own nonces in them (§8).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpopConfig {
    /// Refuse proofs without a nonce from this server (`use_dpop_nonce`); default off.
    #[serde(default)]
    pub nonce: bool,
    /// Seconds a nonce is accepted (1 to 3600; default 60). Past half of it the server sends a
    /// fresh one in `DPoP-Nonce` with a successful answer.
    #[serde(default = "default_nonce_lifetime")]
    pub nonce_lifetime: u64,
}

impl Default for DpopConfig {
    fn default() -> Self {
        DpopConfig {
            nonce: false,
            nonce_lifetime: default_nonce_lifetime(),
        }
    }
}

fn default_nonce_lifetime() -> u64 {
    60
}

/// HTTPS (and with it RFC 8705 mutual TLS): PEM files. The server then asks every client for a
/// certificate without requiring one.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The server's certificate chain (leaf first).
    pub cert_file: String,
    /// The server's private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: String,
    /// CA certificates that `tls_client_auth` client certificates must chain to.
    #[serde(default)]
    pub client_ca_file: Option<String>,
}

/// SPIFFE workload identity (`spiffe:`): the trust domains whose JWT-SVIDs authenticate clients
/// registered with a `spiffe_id`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpiffeConfig {
    /// Trust domain name (`example.org`) -> where its JWT bundle comes from.
    #[serde(default)]
    pub trust_domains: BTreeMap<String, TrustDomainBundle>,
    /// The server runs beside a SPIRE agent: `true` (the agent at `SPIFFE_ENDPOINT_SOCKET`) or
    /// its endpoint (`unix:///path/agent.sock`). The JWT bundles the Workload API streams (the
    /// server's own trust domain and its federated ones) then serve every trust domain not named in
    /// `trust_domains`, rotations included.
    #[serde(default)]
    pub workload_api: Option<Value>,
}

/// Where one trust domain's JWT bundle comes from: exactly one of the three.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustDomainBundle {
    /// The bundle itself: a SPIFFE bundle (a JWK Set, `spiffe_sequence` and
    /// `spiffe_refresh_hint` optional) as an object or as JSON text.
    #[serde(default)]
    pub bundle: Option<Value>,
    /// A file holding the bundle (`spire-server bundle show -format spiffe`); read again when its
    /// modification time or size changes (looked at once a second at most), so a rotated bundle
    /// written there takes effect without a restart.
    #[serde(default)]
    pub bundle_file: Option<String>,
    /// A SPIFFE bundle endpoint (`https_web`; plain http only to loopback), fetched again as its
    /// `spiffe_refresh_hint` says.
    #[serde(default)]
    pub bundle_endpoint: Option<String>,
}

/// The whole server configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The issuer URL; default `http://127.0.0.1:<port>`.
    #[serde(default)]
    pub issuer: Option<String>,
    /// ES256 (default), RS256 or EdDSA.
    #[serde(default = "default_alg")]
    pub signing_alg: String,
    /// SQLite file; absent or `:memory:` keeps everything in memory.
    #[serde(default)]
    pub database: Option<String>,
    /// Default token lifetime in seconds.
    #[serde(default = "default_lifetime")]
    pub token_lifetime: u64,
    /// `aud` for clients without audiences (default: the issuer).
    #[serde(default)]
    pub default_audience: Option<String>,
    /// Bearer token for the admin API; without one the admin API is off.
    #[serde(default)]
    pub admin_token: Option<String>,
    /// `stderr` (default), `stdout`, `off`, or a file path (appended).
    #[serde(default)]
    pub audit_log: Option<String>,
    /// Default token requests per minute per client (0 = unlimited).
    #[serde(default = "default_rate")]
    pub rate_limit: u32,
    /// `Cache-Control: max-age` of the JWKS, seconds.
    #[serde(default = "default_jwks_max_age")]
    pub jwks_max_age: u64,
    #[serde(default)]
    pub clients: Vec<ClientSpec>,
    /// Roles by name.
    #[serde(default)]
    pub roles: BTreeMap<String, RoleSpec>,
    #[serde(default)]
    pub token_exchange: TokenExchangeConfig,
    #[serde(default)]
    pub dpop: DpopConfig,
    /// Serve HTTPS (the issuer is then `https://127.0.0.1:<port>`); absent: plain HTTP.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// Trust SPIFFE workloads: clients with a `spiffe_id` authenticate with JWT-SVIDs issued for
    /// this server's issuer.
    #[serde(default)]
    pub spiffe: Option<SpiffeConfig>,
    /// Seconds audit events are kept in the database for `GET /admin/logs` (default 30 days).
    #[serde(default = "default_audit_retention")]
    pub audit_retention: u64,
    /// RFC 7591 dynamic client registration; off without it.
    #[serde(default)]
    pub dynamic_registration: Option<DynamicRegistrationConfig>,
}

fn default_audit_retention() -> u64 {
    2_592_000
}

fn default_alg() -> String {
    "ES256".into()
}
fn default_lifetime() -> u64 {
    3600
}
fn default_rate() -> u32 {
    600
}
fn default_jwks_max_age() -> u64 {
    300
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            issuer: None,
            signing_alg: default_alg(),
            database: None,
            token_lifetime: default_lifetime(),
            default_audience: None,
            admin_token: None,
            audit_log: None,
            rate_limit: default_rate(),
            jwks_max_age: default_jwks_max_age(),
            clients: Vec::new(),
            roles: BTreeMap::new(),
            token_exchange: TokenExchangeConfig::default(),
            dpop: DpopConfig::default(),
            tls: None,
            spiffe: None,
            audit_retention: default_audit_retention(),
            dynamic_registration: None,
        }
    }
}

impl ServerConfig {
    /// Parse YAML (a top-level `server:` mapping is accepted too), resolving `${VAR}` in strings.
    pub fn from_yaml_str(text: &str, env: impl ConfigEnv) -> Result<ServerConfig> {
        let doc: Value = serde_yaml_ng::from_str(text)
            .map_err(|e| Error::config(format!("the server config is not valid YAML: {e}")))?;
        let doc = if doc.is_null() {
            Value::Object(Default::default())
        } else {
            doc
        };
        let section = doc.get("server").cloned().unwrap_or(doc);
        let section = authsec_core::config::interpolate_value(section, &env)?;
        let cfg: ServerConfig =
            serde_json::from_value(section).map_err(|e| Error::config(format!("server config: {e}")))?;
        cfg.check()?;
        Ok(cfg)
    }

    /// The checks every way of building a configuration runs.
    pub fn check(&self) -> Result<()> {
        self.signing_alg()?;
        self.max_delegation_depth()?;
        self.dpop_nonce_lifetime()?;
        if let Some(s) = &self.spiffe {
            crate::spiffe::check_config(s)?;
        }
        if let Some(d) = &self.dynamic_registration {
            crate::registration::check_config(d)?;
        }
        Ok(())
    }

    /// `dpop.nonce_lifetime`, checked to be 1 to 3600 s.
    pub fn dpop_nonce_lifetime(&self) -> Result<std::time::Duration> {
        match self.dpop.nonce_lifetime {
            s @ 1..=3600 => Ok(std::time::Duration::from_secs(s)),
            s => Err(Error::config(format!(
                "dpop.nonce_lifetime {s} is out of range (1 to 3600 seconds)"
            ))),
        }
    }

    pub fn from_yaml_file(path: &str) -> Result<ServerConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("cannot read server config {path:?}: {e}")))?;
        Self::from_yaml_str(&text, |k: &str| std::env::var(k).ok())
    }

    /// The configuration of a server embedded in a process (the bindings' `startLocalServer` and
    /// their tests): from a JSON value with the server's field names, or from YAML text (`${VAR}`
    /// resolved through `env`), or the defaults; the audit log is off unless the configuration
    /// names one (an in-process server's audit lines would mix with the host's output).
    pub fn embedded(config: Option<&Value>, yaml: Option<&str>, env: impl ConfigEnv) -> Result<ServerConfig> {
        let mut cfg = match (config, yaml) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "give the local server a config object or YAML text, not both",
                ))
            }
            (None, Some(text)) => Self::from_yaml_str(text, env)?,
            (Some(v), None) => {
                let cfg: ServerConfig = serde_json::from_value(v.clone())
                    .map_err(|e| Error::config(format!("local server config: {e}")))?;
                cfg.check()?;
                cfg
            }
            (None, None) => ServerConfig::default(),
        };
        if cfg.audit_log.is_none() {
            cfg.audit_log = Some("off".into());
        }
        Ok(cfg)
    }

    pub fn signing_alg(&self) -> Result<Alg> {
        match Alg::parse(&self.signing_alg)? {
            a @ (Alg::ES256 | Alg::RS256 | Alg::EdDSA) => Ok(a),
            a => Err(Error::config(format!(
                "signing_alg {a} is not offered; use ES256, RS256 or EdDSA"
            ))),
        }
    }

    /// `token_exchange.max_delegation_depth`, checked to be 1 to 10.
    pub fn max_delegation_depth(&self) -> Result<usize> {
        match self.token_exchange.max_delegation_depth {
            d @ 1..=10 => Ok(d as usize),
            d => Err(Error::config(format!(
                "token_exchange.max_delegation_depth {d} is out of range (1 to 10)"
            ))),
        }
    }

    /// Parse a client type name as the docs write it.
    pub fn parse_client_type(s: Option<&str>) -> Result<ClientType> {
        ClientType::parse(s.unwrap_or("m2m"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bindings' local servers pass their configuration through `embedded`: the delegation
    /// fields arrive unchanged from JSON and from YAML.
    #[test]
    fn embedded_configs_carry_roles_grant_types_may_act_and_token_exchange() {
        let json = serde_json::json!({
            "roles": {"reader": {"scopes": ["read"], "audiences": ["https://api"]}},
            "token_exchange": {"max_delegation_depth": 2},
            "clients": [{"client_id": "a", "client_secret": "s", "roles": ["reader"],
                         "grant_types": ["urn:ietf:params:oauth:grant-type:token-exchange"], "may_act": ["b"]}],
        });
        let yaml = "roles:\n  reader:\n    scopes: [read]\n    audiences: [https://api]\ntoken_exchange:\n  max_delegation_depth: 2\nclients:\n  - client_id: a\n    client_secret: s\n    roles: [reader]\n    grant_types: [urn:ietf:params:oauth:grant-type:token-exchange]\n    may_act: [b]\n";
        let none = |_: &str| None;
        for cfg in [
            ServerConfig::embedded(Some(&json), None, none).unwrap(),
            ServerConfig::embedded(None, Some(yaml), none).unwrap(),
        ] {
            assert_eq!(cfg.roles["reader"].scopes, ["read"]);
            assert_eq!(cfg.roles["reader"].audiences, ["https://api"]);
            assert_eq!(cfg.token_exchange.max_delegation_depth, 2);
            let c = &cfg.clients[0];
            assert_eq!(c.roles, ["reader"]);
            assert_eq!(c.may_act, ["b"]);
            assert_eq!(
                c.grant_types.as_deref(),
                Some(&["urn:ietf:params:oauth:grant-type:token-exchange".to_string()][..])
            );
        }
        let deep = serde_json::json!({"token_exchange": {"max_delegation_depth": 0}});
        assert!(ServerConfig::embedded(Some(&deep), None, none).is_err());
    }
}
