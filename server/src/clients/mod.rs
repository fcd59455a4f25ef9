//! Registered clients: their types (`m2m`, `ai_agent`, `mcp_server`, `web`, `mobile`), hashed
//! secrets ([`secrets`]), public keys for `private_key_jwt` (`jwks` or a `jwks_uri`), SPIFFE ID
//! patterns for `spiffe_jwt`, scopes, audiences, roles, grant types, `may_act`, lifetimes,
//! callbacks, origins and limits. The rules are in [`validate`], the admin API's view in
//! [`view`].

pub mod secrets;
pub mod validate;
pub mod view;

pub use secrets::SecretHash;

use crate::config::{ClientSpec, RateLimits};
use crate::oauth::{GRANT_CLIENT_CREDENTIALS, GRANT_TOKEN_EXCHANGE};
use crate::roles::{dedup, Roles};
use authsec_core::random::random_id;
use authsec_core::{Error, KeySet, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The client types of the product docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    #[default]
    M2m,
    AiAgent,
    McpServer,
    /// A web application: confidential by default, public with `token_endpoint_auth_method: none`.
    Web,
    /// A mobile or desktop app: always public.
    Mobile,
}

impl ClientType {
    pub const ALL: [ClientType; 5] = [
        ClientType::M2m,
        ClientType::AiAgent,
        ClientType::McpServer,
        ClientType::Web,
        ClientType::Mobile,
    ];

    pub fn parse(s: &str) -> Result<ClientType> {
        let n: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        match n.as_str() {
            "m2m" | "machinetomachine" | "service" => Ok(ClientType::M2m),
            "aiagent" | "agent" => Ok(ClientType::AiAgent),
            "mcpserver" | "mcp" => Ok(ClientType::McpServer),
            "web" | "webapp" => Ok(ClientType::Web),
            "mobile" | "native" => Ok(ClientType::Mobile),
            _ => Err(Error::config(format!(
                "type {:?} is not one of m2m, ai_agent, mcp_server, web, mobile",
                authsec_core::util::truncate(s)
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::M2m => "m2m",
            ClientType::AiAgent => "ai_agent",
            ClientType::McpServer => "mcp_server",
            ClientType::Web => "web",
            ClientType::Mobile => "mobile",
        }
    }

    /// The grant types a client of this type gets when it names none.
    pub fn default_grant_types(self) -> Vec<String> {
        match self {
            ClientType::Web | ClientType::Mobile => vec![GRANT_AUTHORIZATION_CODE.into(), GRANT_REFRESH_TOKEN.into()],
            _ => default_grant_types(),
        }
    }
}

/// Grant types a client may be registered with although the token endpoint does not serve them
/// yet (it answers `unsupported_grant_type`).
pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
pub const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A registered client.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "type")]
    pub client_type: ClientType,
    #[serde(default)]
    pub secrets: Vec<SecretHash>,
    #[serde(default)]
    pub jwks: Option<Value>,
    pub allowed_scopes: Vec<String>,
    /// `None`: every effective allowed scope, resolved at request time.
    #[serde(default)]
    pub default_scopes: Option<Vec<String>>,
    #[serde(default)]
    pub audiences: Vec<String>,
    pub token_lifetime: u64,
    #[serde(default)]
    pub rate_limit: Option<u32>,
    pub created_at: i64,
    /// The last change (creation, PATCH, rotation); 0 in records stored before it existed.
    #[serde(default)]
    pub updated_at: i64,
    /// Role names (see [`crate::roles`]).
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
    /// Client ids written into this client's tokens as the RFC 8693 §4.4 `may_act` claim.
    #[serde(default)]
    pub may_act: Vec<String>,
    /// An `mcp_server` client's resource URL, canonical (see [`ClientSpec::resource`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// See [`ClientSpec::dpop_bound_access_tokens`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub dpop_bound_access_tokens: bool,
    /// See [`ClientSpec::tls_client_certificate_bound_access_tokens`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub tls_client_certificate_bound_access_tokens: bool,
    /// See [`ClientSpec::token_endpoint_auth_method`]; checked to be one of [`AUTH_METHODS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_subject_dn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_dns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_certificate_sha256: Option<String>,
    /// See [`ClientSpec::spiffe_id`]; checked to be a SPIFFE ID pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spiffe_id: Option<String>,
    /// See [`ClientSpec::jwks_uri`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub callbacks: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub web_origins: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<RateLimits>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    /// RFC 7592: the hash of the registration access token of a dynamically registered client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_token: Option<SecretHash>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Client authentication methods (RFC 7591 §2, RFC 8705 §2, a JWT-SVID as the client
/// assertion (draft-ietf-oauth-spiffe-client-auth), and `none` for a public client).
pub const AUTH_METHODS: [&str; 7] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    TLS_CLIENT_AUTH,
    SELF_SIGNED_TLS_CLIENT_AUTH,
    SPIFFE_JWT,
    NONE,
];
pub const SPIFFE_JWT: &str = "spiffe_jwt";
pub const TLS_CLIENT_AUTH: &str = "tls_client_auth";
pub const SELF_SIGNED_TLS_CLIENT_AUTH: &str = "self_signed_tls_client_auth";
/// RFC 7591 §2: a public client, which cannot keep a secret.
pub const NONE: &str = "none";

/// Whether a `token_endpoint_auth_method` is one of RFC 8705's (no secret or keys needed).
pub fn is_tls_method(method: Option<&str>) -> bool {
    matches!(method, Some(TLS_CLIENT_AUTH | SELF_SIGNED_TLS_CLIENT_AUTH))
}

fn default_grant_types() -> Vec<String> {
    vec![GRANT_CLIENT_CREDENTIALS.to_string()]
}

/// A client id as the server accepts it: 1-200 printable characters.
pub fn check_client_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 200 || id.chars().any(|c| c.is_control()) {
        return Err(Error::config("client_id must be 1-200 printable characters"));
    }
    Ok(())
}

/// Read `jwks` (or, from the config file only, `jwks_file`) and check it has a usable key.
fn read_jwks(spec: &ClientSpec, client_id: &str) -> Result<Option<Value>> {
    let jwks = match (&spec.jwks, &spec.jwks_file) {
        (Some(j), _) => Some(j.clone()),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::config(format!("cannot read jwks_file {path:?}: {e}")))?;
            Some(
                serde_json::from_str(&text)
                    .map_err(|e| Error::config(format!("jwks_file {path:?} is not JSON: {e}")))?,
            )
        }
        _ => None,
    };
    if let Some(j) = &jwks {
        let ks = KeySet::from_jwks_value(j)
            .map_err(|e| Error::config(format!("client {client_id}: jwks: {}", e.message())))?;
        if ks.is_empty() {
            return Err(Error::config(format!(
                "client {client_id}: jwks has no usable signature key ({})",
                ks.skipped.join("; ")
            )));
        }
    }
    Ok(jwks)
}

impl Client {
    /// Build from a spec; returns the client and the plain secret when one was generated.
    /// `roles` are the roles defined now: every role the spec lists must be one of them.
    pub fn from_spec(
        spec: &ClientSpec,
        default_lifetime: u64,
        roles: &Roles,
        now: i64,
    ) -> Result<(Client, Option<String>)> {
        Self::build(spec, default_lifetime, roles, now, None)
    }

    /// Build from a spec, as a new client or (with `existing`) as the new state of an existing
    /// one: its id, type, secrets, creation time and registration token are kept.
    pub fn build(
        spec: &ClientSpec,
        default_lifetime: u64,
        roles: &Roles,
        now: i64,
        existing: Option<&Client>,
    ) -> Result<(Client, Option<String>)> {
        let client_id = match (existing, &spec.client_id) {
            (Some(e), _) => e.client_id.clone(),
            (None, Some(id)) => id.clone(),
            (None, None) => format!("client_{}", random_id(9)?),
        };
        check_client_id(&client_id)?;
        let client_type = match existing {
            Some(e) => e.client_type,
            None => crate::config::ServerConfig::parse_client_type(spec.client_type.as_deref())?,
        };
        let jwks = read_jwks(spec, &client_id)?;
        let mut method = spec.token_endpoint_auth_method.clone();
        if client_type == ClientType::Mobile {
            if spec.client_secret.is_some() || jwks.is_some() || spec.jwks_uri.is_some() {
                return Err(Error::config(format!(
                    "client {client_id}: client_secret/jwks/jwks_uri: a mobile app cannot keep a secret (it is a \
                     public client, token_endpoint_auth_method none)"
                )));
            }
            method.get_or_insert_with(|| NONE.to_string());
        }
        let public = method.as_deref() == Some(NONE);
        let mut generated = None;
        let secrets = match (existing, &spec.client_secret) {
            (Some(_), Some(_)) => {
                return Err(Error::config(format!(
                    "client {client_id}: client_secret cannot change; rotate it with POST /admin/clients/{{id}}/secrets"
                )))
            }
            (Some(e), None) => e.secrets.clone(),
            (None, Some(s)) if s.is_empty() => {
                return Err(Error::config(format!("client {client_id}: client_secret is empty")))
            }
            (None, Some(_)) if public => {
                return Err(Error::config(format!(
                    "client {client_id}: client_secret: a public client (token_endpoint_auth_method none) has no secret"
                )))
            }
            (None, Some(s)) => vec![SecretHash::new(s, now)?],
            (None, None)
                if !public
                    && jwks.is_none()
                    && spec.jwks_uri.is_none()
                    && spec.spiffe_id.is_none()
                    && !is_tls_method(method.as_deref())
                    && !matches!(method.as_deref(), Some(SPIFFE_JWT | "private_key_jwt")) =>
            {
                let s = secrets::new_secret()?;
                let h = SecretHash::new(&s, now)?;
                generated = Some(s);
                vec![h]
            }
            (None, None) => Vec::new(),
        };
        let token_lifetime = spec.token_lifetime.unwrap_or(default_lifetime);
        let client = Client {
            name: spec.name.clone().unwrap_or_else(|| client_id.clone()),
            description: spec.description.clone().unwrap_or_default(),
            client_type,
            secrets,
            jwks,
            allowed_scopes: spec.allowed_scopes.clone(),
            default_scopes: spec.default_scopes.clone(),
            audiences: spec.audiences.clone(),
            token_lifetime,
            rate_limit: spec.rate_limit,
            created_at: existing.map_or(now, |e| e.created_at),
            updated_at: now,
            roles: dedup(&spec.roles),
            grant_types: spec
                .grant_types
                .as_ref()
                .map(dedup)
                .unwrap_or_else(|| client_type.default_grant_types()),
            may_act: dedup(&spec.may_act),
            resource: spec
                .resource
                .as_deref()
                .map(|r| {
                    authsec_core::resource::uri::canonical_resource(r)
                        .map_err(|e| Error::config(format!("client {client_id}: resource: {}", e.message())))
                })
                .transpose()?,
            dpop_bound_access_tokens: spec.dpop_bound_access_tokens,
            tls_client_certificate_bound_access_tokens: spec.tls_client_certificate_bound_access_tokens,
            token_endpoint_auth_method: method,
            tls_client_auth_subject_dn: spec.tls_client_auth_subject_dn.clone(),
            tls_client_auth_san_dns: spec.tls_client_auth_san_dns.clone(),
            tls_client_auth_san_uri: spec.tls_client_auth_san_uri.clone(),
            tls_client_certificate_sha256: spec.tls_client_certificate_sha256.clone(),
            spiffe_id: spec.spiffe_id.clone(),
            jwks_uri: spec.jwks_uri.clone(),
            callbacks: spec.callbacks.as_ref().map(dedup).unwrap_or_default(),
            web_origins: spec.web_origins.as_ref().map(dedup).unwrap_or_default(),
            logo: spec.logo.clone(),
            website: spec.website.clone(),
            rate_limits: spec.rate_limits,
            software_id: spec.software_id.clone(),
            software_version: spec.software_version.clone(),
            registration_token: existing.and_then(|e| e.registration_token.clone()),
            client_id,
        };
        client.validate(roles)?;
        Ok((client, generated))
    }

    /// A public client (`token_endpoint_auth_method: none`): it cannot authenticate.
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method.as_deref() == Some(NONE)
    }

    /// Whether this client may authenticate with `method` (an [`AUTH_METHODS`] name).
    pub fn accepts_auth_method(&self, method: &str) -> bool {
        match self.token_endpoint_auth_method.as_deref() {
            Some(NONE) => false,
            Some(m) => m == method,
            None if method == SPIFFE_JWT => self.spiffe_id.is_some(),
            None => !is_tls_method(Some(method)),
        }
    }

    pub fn may_use_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    /// Token requests per minute: `rate_limits.requests_per_minute`, else `rate_limit`.
    pub fn requests_per_minute(&self) -> Option<u32> {
        self.rate_limits.and_then(|r| r.requests_per_minute).or(self.rate_limit)
    }

    /// The client's mutable fields as a spec (`ClientSpec` names), for PATCH and RFC 7592 to
    /// merge changes into: the client as it would be written.
    pub fn to_spec_value(&self) -> Value {
        let mut v = serde_json::json!({
            "name": self.name,
            "description": self.description,
            "grant_types": self.grant_types,
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
            "allowed_scopes": self.allowed_scopes,
            "default_scopes": self.default_scopes,
            "roles": self.roles,
            "audiences": self.audiences,
            "may_act": self.may_act,
            "token_lifetime": self.token_lifetime,
            "rate_limit": self.rate_limit,
            "rate_limits": self.rate_limits,
            "jwks": self.jwks,
            "jwks_uri": self.jwks_uri,
            "callbacks": self.callbacks,
            "web_origins": self.web_origins,
            "logo": self.logo,
            "website": self.website,
            "resource": self.resource,
            "dpop_bound_access_tokens": self.dpop_bound_access_tokens,
            "tls_client_certificate_bound_access_tokens": self.tls_client_certificate_bound_access_tokens,
            "tls_client_auth_subject_dn": self.tls_client_auth_subject_dn,
            "tls_client_auth_san_dns": self.tls_client_auth_san_dns,
            "tls_client_auth_san_uri": self.tls_client_auth_san_uri,
            "tls_client_certificate_sha256": self.tls_client_certificate_sha256,
            "spiffe_id": self.spiffe_id,
            "software_id": self.software_id,
            "software_version": self.software_version,
        });
        if let Value::Object(m) = &mut v {
            m.retain(|_, x| !x.is_null());
        }
        v
    }
}

/// The token exchange grant is also what the "never public" rule covers.
pub(crate) const CONFIDENTIAL_GRANTS: [&str; 2] = [GRANT_CLIENT_CREDENTIALS, GRANT_TOKEN_EXCHANGE];

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(lifetime: Option<u64>) -> ClientSpec {
        ClientSpec {
            client_id: Some("svc".into()),
            client_secret: Some("a-long-enough-secret".into()),
            allowed_scopes: vec!["read:data".into()],
            token_lifetime: lifetime,
            ..ClientSpec::default()
        }
    }

    #[test]
    fn token_lifetime_is_taken_as_given_or_refused() {
        let roles = Roles::new();
        let (c, _) = Client::from_spec(&spec(Some(2)), 3600, &roles, 0).unwrap();
        assert_eq!(c.token_lifetime, 2, "short lifetimes for tests are kept, not raised");
        let (c, _) = Client::from_spec(&spec(None), 900, &roles, 0).unwrap();
        assert_eq!(c.token_lifetime, 900);
        for bad in [0, 86_401] {
            let e = Client::from_spec(&spec(Some(bad)), 3600, &roles, 0).unwrap_err();
            assert!(e.to_string().contains("token_lifetime"), "{e}");
        }
    }

    #[test]
    fn records_stored_before_roles_and_grant_types_still_load() {
        let old = r#"{"client_id":"svc","name":"svc","type":"m2m","secrets":[{"salt":"s","hash":"h","created_at":0}],
                      "allowed_scopes":["a"],"default_scopes":["a"],"audiences":[],"token_lifetime":60,"created_at":0}"#;
        let mut c: Client = serde_json::from_str(old).unwrap();
        assert_eq!(c.default_scopes, Some(vec!["a".to_string()]));
        assert!(c.roles.is_empty() && c.may_act.is_empty());
        assert_eq!(c.grant_types, vec!["client_credentials".to_string()]);
        assert_eq!(c.updated_at, 0);
        c.validate(&Roles::new()).unwrap();
        assert!(c.secrets[0].id.is_empty());
        assert!(c.assign_secret_ids().unwrap());
        assert!(c.secrets[0].id.starts_with("sid_") && c.secrets[0].id.len() == 16);
        assert!(!c.assign_secret_ids().unwrap(), "ids are assigned once");
    }

    #[test]
    fn a_spec_value_rebuilds_the_same_client() {
        let roles = Roles::new();
        let (c, _) = Client::from_spec(&spec(Some(60)), 3600, &roles, 5).unwrap();
        let again: ClientSpec = serde_json::from_value(c.to_spec_value()).unwrap();
        let (d, generated) = Client::build(&again, 3600, &roles, 9, Some(&c)).unwrap();
        assert!(generated.is_none());
        assert_eq!(d.to_spec_value(), c.to_spec_value());
        assert_eq!((d.created_at, d.updated_at), (5, 9));
        assert_eq!(d.secrets[0].id, c.secrets[0].id);
    }
}
