//! Registered clients: hashed secrets (compared in constant time), public JWKS for
//! `private_key_jwt`, SPIFFE ID patterns for `spiffe_jwt`, scopes, audiences, roles, grant types, `may_act`, lifetimes.

use crate::config::ClientSpec;
use crate::oauth::{GRANT_CLIENT_CREDENTIALS, GRANT_JWT_BEARER, GRANT_TOKEN_EXCHANGE};
use crate::roles::{check_scope, dedup, Permissions, Roles};
use authsec_core::random::random_id;
use authsec_core::secret::constant_time_eq;
use authsec_core::util::{b64url_decode, b64url_encode};
use authsec_core::{Error, KeySet, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The client types of the product docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    #[default]
    M2m,
    AiAgent,
    McpServer,
}

impl ClientType {
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
            _ => Err(Error::config(format!(
                "client type {s:?} is not one of m2m, ai_agent, mcp_server"
            ))),
        }
    }
}

/// A salted SHA-256 of a client secret. Secrets generated here are 256-bit random values, for
/// which a fast hash is sound; the server never stores or logs a plain secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SecretHash {
    pub salt: String,
    pub hash: String,
    pub created_at: i64,
    /// After a rotation, the old secret keeps working until this instant (Unix seconds).
    #[serde(default)]
    pub expires_at: Option<i64>,
}

impl SecretHash {
    pub fn new(secret: &str, now: i64) -> Result<SecretHash> {
        let salt = random_id(16)?;
        Ok(SecretHash {
            hash: digest(&salt, secret),
            salt,
            created_at: now,
            expires_at: None,
        })
    }
    pub fn matches(&self, secret: &str, now: i64) -> bool {
        if self.expires_at.is_some_and(|t| now >= t) {
            return false;
        }
        let given = digest(&self.salt, secret);
        match (b64url_decode(&given), b64url_decode(&self.hash)) {
            (Some(a), Some(b)) => constant_time_eq(&a, &b),
            _ => false,
        }
    }
}

fn digest(salt: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0u8]);
    h.update(secret.as_bytes());
    b64url_encode(&h.finalize())
}

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
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Client authentication methods (RFC 7591 §2, RFC 8705 §2, and a JWT-SVID as the client
/// assertion, draft-ietf-oauth-spiffe-client-auth).
pub const AUTH_METHODS: [&str; 6] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    TLS_CLIENT_AUTH,
    SELF_SIGNED_TLS_CLIENT_AUTH,
    SPIFFE_JWT,
];
pub const SPIFFE_JWT: &str = "spiffe_jwt";
pub const TLS_CLIENT_AUTH: &str = "tls_client_auth";
pub const SELF_SIGNED_TLS_CLIENT_AUTH: &str = "self_signed_tls_client_auth";

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

impl Client {
    /// Build from a spec; returns the client and the plain secret when one was generated.
    /// `roles` are the roles defined now: every role the spec lists must be one of them.
    pub fn from_spec(
        spec: &ClientSpec,
        default_lifetime: u64,
        roles: &Roles,
        now: i64,
    ) -> Result<(Client, Option<String>)> {
        let client_id = match &spec.client_id {
            Some(id) => id.clone(),
            None => format!("client_{}", random_id(9)?),
        };
        check_client_id(&client_id)?;
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
            let ks = KeySet::from_jwks_value(j)?;
            if ks.is_empty() {
                return Err(Error::config(format!(
                    "client {client_id}: the JWKS has no usable signature key ({})",
                    ks.skipped.join("; ")
                )));
            }
        }
        let mut generated = None;
        let mut secrets = Vec::new();
        match &spec.client_secret {
            Some(s) if s.is_empty() => {
                return Err(Error::config(format!("client {client_id}: client_secret is empty")))
            }
            Some(s) => secrets.push(SecretHash::new(s, now)?),
            None if jwks.is_none()
                && spec.spiffe_id.is_none()
                && !is_tls_method(spec.token_endpoint_auth_method.as_deref())
                && spec.token_endpoint_auth_method.as_deref() != Some(SPIFFE_JWT) =>
            {
                let s = format!("sec_{}", random_id(32)?);
                secrets.push(SecretHash::new(&s, now)?);
                generated = Some(s);
            }
            None => {}
        }
        let token_lifetime = spec.token_lifetime.unwrap_or(default_lifetime);
        let client = Client {
            name: spec.name.clone().unwrap_or_else(|| client_id.clone()),
            client_id,
            description: spec.description.clone().unwrap_or_default(),
            client_type: crate::config::ServerConfig::parse_client_type(spec.client_type.as_deref())?,
            secrets,
            jwks,
            allowed_scopes: spec.allowed_scopes.clone(),
            default_scopes: spec.default_scopes.clone(),
            audiences: spec.audiences.clone(),
            token_lifetime,
            rate_limit: spec.rate_limit,
            created_at: now,
            roles: dedup(&spec.roles),
            grant_types: spec.grant_types.as_ref().map(dedup).unwrap_or_else(default_grant_types),
            may_act: dedup(&spec.may_act),
            resource: spec
                .resource
                .as_deref()
                .map(authsec_core::resource::uri::canonical_resource)
                .transpose()?,
            dpop_bound_access_tokens: spec.dpop_bound_access_tokens,
            tls_client_certificate_bound_access_tokens: spec.tls_client_certificate_bound_access_tokens,
            token_endpoint_auth_method: spec.token_endpoint_auth_method.clone(),
            tls_client_auth_subject_dn: spec.tls_client_auth_subject_dn.clone(),
            tls_client_auth_san_dns: spec.tls_client_auth_san_dns.clone(),
            tls_client_auth_san_uri: spec.tls_client_auth_san_uri.clone(),
            tls_client_certificate_sha256: spec.tls_client_certificate_sha256.clone(),
            spiffe_id: spec.spiffe_id.clone(),
        };
        client.validate(roles)?;
        Ok((client, generated))
    }

    /// Check the fields that the admin API may change (at creation and on every change).
    pub fn validate(&self, roles: &Roles) -> Result<()> {
        let id = &self.client_id;
        let owner = format!("client {id}");
        for s in self.allowed_scopes.iter().chain(self.default_scopes.iter().flatten()) {
            check_scope(&owner, s)?;
        }
        if let Some(unknown) = self.roles.iter().find(|r| !roles.contains_key(*r)) {
            return Err(Error::config(format!(
                "client {id}: role {unknown:?} is not defined; define it under roles: (or with POST /admin/roles)"
            )));
        }
        let allowed = Permissions::of(self, roles).scopes;
        if let Some(bad) = self.default_scopes.iter().flatten().find(|s| !allowed.contains(s)) {
            return Err(Error::config(format!(
                "client {id}: default scope {bad:?} is not in allowed_scopes or the client's roles' scopes"
            )));
        }
        if self.resource.is_some() && self.client_type != ClientType::McpServer {
            return Err(Error::config(format!(
                "client {id}: only mcp_server clients name a resource (the MCP server's URL)"
            )));
        }
        if self.grant_types.is_empty() {
            return Err(Error::config(format!(
                "client {id}: grant_types is empty; list {GRANT_CLIENT_CREDENTIALS} and/or {GRANT_TOKEN_EXCHANGE}"
            )));
        }
        if let Some(bad) = self
            .grant_types
            .iter()
            .find(|g| ![GRANT_CLIENT_CREDENTIALS, GRANT_TOKEN_EXCHANGE, GRANT_JWT_BEARER].contains(&g.as_str()))
        {
            return Err(Error::config(format!(
                "client {id}: grant type {:?} is not offered; use {GRANT_CLIENT_CREDENTIALS}, {GRANT_TOKEN_EXCHANGE} \
                 and/or (for a client with a spiffe_id) {GRANT_JWT_BEARER}",
                authsec_core::util::truncate(bad)
            )));
        }
        if let Some(p) = &self.spiffe_id {
            authsec_core::spiffe::IdPattern::parse(p)
                .map_err(|e| Error::config(format!("client {id}: spiffe_id: {}", e.message())))?;
        }
        if self.spiffe_id.is_none() && self.may_use_grant(GRANT_JWT_BEARER) {
            return Err(Error::config(format!(
                "client {id}: the grant type {GRANT_JWT_BEARER} takes a JWT-SVID; it needs the client's spiffe_id"
            )));
        }
        for m in &self.may_act {
            check_client_id(m).map_err(|_| {
                Error::config(format!(
                    "client {id}: may_act entry {:?} is not a client_id (1-200 printable characters)",
                    authsec_core::util::truncate(m)
                ))
            })?;
        }
        self.validate_auth_method()?;
        // 1 s to 24 h; out of range is an error rather than a silent clamp, so a test asking for
        // short-lived tokens gets what it asked for or is told why not.
        if !(1..=86_400).contains(&self.token_lifetime) {
            return Err(Error::config(format!(
                "client {id}: token_lifetime {} is out of range (1 to 86400 seconds)",
                self.token_lifetime
            )));
        }
        Ok(())
    }

    /// `token_endpoint_auth_method` and the RFC 8705 fields that go with it.
    fn validate_auth_method(&self) -> Result<()> {
        let id = &self.client_id;
        let method = self.token_endpoint_auth_method.as_deref();
        if let Some(m) = method.filter(|m| !AUTH_METHODS.contains(m)) {
            return Err(Error::config(format!(
                "client {id}: token_endpoint_auth_method {:?} is not offered; use one of {}",
                authsec_core::util::truncate(m),
                AUTH_METHODS.join(", ")
            )));
        }
        let names = [
            &self.tls_client_auth_subject_dn,
            &self.tls_client_auth_san_dns,
            &self.tls_client_auth_san_uri,
        ];
        let named = names.iter().filter(|n| n.is_some()).count();
        match method {
            Some(TLS_CLIENT_AUTH) if named != 1 => {
                return Err(Error::config(format!(
                    "client {id}: tls_client_auth needs exactly one of tls_client_auth_subject_dn, \
                     tls_client_auth_san_dns, tls_client_auth_san_uri (RFC 8705 §2.1.2)"
                )))
            }
            Some(TLS_CLIENT_AUTH) => {}
            _ if named > 0 => {
                return Err(Error::config(format!(
                    "client {id}: tls_client_auth_* are used only with token_endpoint_auth_method: tls_client_auth"
                )))
            }
            _ => {}
        }
        if let Some(dn) = &self.tls_client_auth_subject_dn {
            crate::tls::normalize_dn(dn).map_err(|e| Error::config(format!("client {id}: {}", e.message())))?;
        }
        let certs = crate::tls::registered_certificates(self.jwks.as_ref())
            .map_err(|e| Error::config(format!("client {id}: {}", e.message())))?;
        if let Some(t) = &self.tls_client_certificate_sha256 {
            if method != Some(SELF_SIGNED_TLS_CLIENT_AUTH) {
                return Err(Error::config(format!(
                    "client {id}: tls_client_certificate_sha256 is used only with token_endpoint_auth_method: \
                     self_signed_tls_client_auth"
                )));
            }
            if b64url_decode(t).is_none_or(|d| d.len() != 32) {
                return Err(Error::config(format!(
                    "client {id}: tls_client_certificate_sha256 is not the base64url SHA-256 of a certificate"
                )));
            }
        }
        let missing = match method {
            Some(SELF_SIGNED_TLS_CLIENT_AUTH) if certs.is_empty() && self.tls_client_certificate_sha256.is_none() => {
                "a certificate in jwks (x5c) or tls_client_certificate_sha256"
            }
            Some("client_secret_basic" | "client_secret_post") if self.secrets.is_empty() => "a client_secret",
            Some("private_key_jwt") if self.jwks.is_none() => "jwks",
            Some(SPIFFE_JWT) if self.spiffe_id.is_none() => "spiffe_id (the SPIFFE ID or pattern of its workloads)",
            _ => "",
        };
        if !missing.is_empty() {
            return Err(Error::config(format!(
                "client {id}: token_endpoint_auth_method {} needs {missing}",
                method.unwrap_or_default()
            )));
        }
        Ok(())
    }

    /// Whether this client may authenticate with `method` (an [`AUTH_METHODS`] name).
    pub fn accepts_auth_method(&self, method: &str) -> bool {
        match self.token_endpoint_auth_method.as_deref() {
            Some(m) => m == method,
            None if method == SPIFFE_JWT => self.spiffe_id.is_some(),
            None => !is_tls_method(Some(method)),
        }
    }

    pub fn may_use_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    pub fn secret_matches(&self, secret: &str, now: i64) -> bool {
        // Check every stored hash (no early exit) so timing does not reveal which one matched.
        self.secrets.iter().fold(false, |acc, h| h.matches(secret, now) | acc)
    }

    /// The client as shown by the admin API: no hashes. `default_scopes` is `null` when unset
    /// (every effective allowed scope).
    pub fn public_view(&self) -> Value {
        serde_json::json!({
            "client_id": self.client_id,
            "name": self.name,
            "description": self.description,
            "type": self.client_type,
            "allowed_scopes": self.allowed_scopes,
            "default_scopes": self.default_scopes,
            "audiences": self.audiences,
            "token_lifetime": self.token_lifetime,
            "rate_limit": self.rate_limit,
            "roles": self.roles,
            "grant_types": self.grant_types,
            "may_act": self.may_act,
            "resource": self.resource,
            "auth_methods": self.auth_methods(),
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
            "tls_client_auth_subject_dn": self.tls_client_auth_subject_dn,
            "tls_client_auth_san_dns": self.tls_client_auth_san_dns,
            "tls_client_auth_san_uri": self.tls_client_auth_san_uri,
            "tls_client_certificate_sha256": self.tls_client_certificate_sha256,
            "spiffe_id": self.spiffe_id,
            "dpop_bound_access_tokens": self.dpop_bound_access_tokens,
            "tls_client_certificate_bound_access_tokens": self.tls_client_certificate_bound_access_tokens,
            "secrets": self.secrets.iter().map(|s| serde_json::json!({"created_at": s.created_at, "expires_at": s.expires_at})).collect::<Vec<_>>(),
            "created_at": self.created_at,
        })
    }

    pub fn auth_methods(&self) -> Vec<&'static str> {
        if let Some(only) = &self.token_endpoint_auth_method {
            return AUTH_METHODS.iter().filter(|m| *m == only).copied().collect();
        }
        let mut m = Vec::new();
        if !self.secrets.is_empty() {
            m.extend(["client_secret_basic", "client_secret_post"]);
        }
        if self.jwks.is_some() {
            m.push("private_key_jwt");
        }
        if self.spiffe_id.is_some() {
            m.push(SPIFFE_JWT);
        }
        m
    }
}

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
        let old = r#"{"client_id":"svc","name":"svc","type":"m2m","secrets":[],"allowed_scopes":["a"],
                      "default_scopes":["a"],"audiences":[],"token_lifetime":60,"created_at":0}"#;
        let c: Client = serde_json::from_str(old).unwrap();
        assert_eq!(c.default_scopes, Some(vec!["a".to_string()]));
        assert!(c.roles.is_empty() && c.may_act.is_empty());
        assert_eq!(c.grant_types, vec!["client_credentials".to_string()]);
        c.validate(&Roles::new()).unwrap();
    }
}
