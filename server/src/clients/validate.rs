//! The rules a client must satisfy, at creation, at every change, and when loaded from the
//! config file. Every error names the field it is about.

use super::{
    check_client_id, Client, ClientType, AUTH_METHODS, CONFIDENTIAL_GRANTS, GRANT_AUTHORIZATION_CODE,
    GRANT_DEVICE_CODE, GRANT_REFRESH_TOKEN, NONE, SELF_SIGNED_TLS_CLIENT_AUTH, SPIFFE_JWT, TLS_CLIENT_AUTH,
};
use crate::oauth::{GRANT_CLIENT_CREDENTIALS, GRANT_JWT_BEARER, GRANT_TOKEN_EXCHANGE};
use crate::roles::{check_scope, Permissions, Roles};
use authsec_core::util::{b64url_decode, truncate};
use authsec_core::{Error, Result};

/// Every grant type a client may be registered with.
pub const GRANT_TYPES: [&str; 6] = [
    GRANT_CLIENT_CREDENTIALS,
    GRANT_TOKEN_EXCHANGE,
    GRANT_JWT_BEARER,
    GRANT_AUTHORIZATION_CODE,
    GRANT_REFRESH_TOKEN,
    GRANT_DEVICE_CODE,
];

/// Whether `host` (from a parsed URL) is the loopback interface.
fn loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn parse_url(field: &str, raw: &str) -> Result<url::Url> {
    if raw.len() > 2048 {
        return Err(Error::config(format!("{field}: the URL is over 2048 characters")));
    }
    url::Url::parse(raw)
        .map_err(|e| Error::config(format!("{field}: {:?} is not an absolute URL ({e})", truncate(raw))))
}

/// An https URL (http only to loopback), without credentials, at most 2048 characters.
pub fn check_web_url(field: &str, raw: &str) -> Result<()> {
    let u = parse_url(field, raw)?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err(Error::config(format!("{field}: the URL must not carry credentials")));
    }
    match u.scheme() {
        "https" if u.host().is_some() => Ok(()),
        "http" if loopback(&u) => Ok(()),
        _ => Err(Error::config(format!(
            "{field}: {:?} must be an https URL (http only to loopback)",
            truncate(raw)
        ))),
    }
}

/// A redirect URI: absolute, no fragment; https, http to loopback, or (for a mobile app) a
/// private-use scheme with a dot, such as `com.example.app:/callback` (RFC 8252 §7.1).
pub fn check_callback(raw: &str, client_type: ClientType) -> Result<()> {
    let u = parse_url("callbacks", raw)?;
    if u.fragment().is_some() {
        return Err(Error::config(format!(
            "callbacks: {:?} has a fragment; a redirect URI may not (RFC 6749 §3.1.2)",
            truncate(raw)
        )));
    }
    let ok = match u.scheme() {
        "https" => u.host().is_some(),
        "http" => loopback(&u),
        s => client_type == ClientType::Mobile && s.contains('.'),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::config(format!(
            "callbacks: {:?} must be https, http to loopback{}",
            truncate(raw),
            if client_type == ClientType::Mobile {
                ", or a private-use scheme with a dot (com.example.app:/callback)"
            } else {
                ""
            }
        )))
    }
}

/// An origin: `scheme://host[:port]` and nothing else.
pub fn check_origin(raw: &str) -> Result<()> {
    let bad = || {
        Error::config(format!(
            "web_origins: {:?} is not an origin (scheme://host[:port])",
            truncate(raw)
        ))
    };
    let u = url::Url::parse(raw).map_err(|_| bad())?;
    let origin = u.origin();
    if !origin.is_tuple()
        || !matches!(u.scheme(), "http" | "https")
        || origin.ascii_serialization() != raw.to_ascii_lowercase()
    {
        return Err(bad());
    }
    Ok(())
}

impl Client {
    /// Check every field (at creation and on every change).
    pub fn validate(&self, roles: &Roles) -> Result<()> {
        let id = &self.client_id;
        let owner = format!("client {id}");
        if self.name.chars().count() > 200 {
            return Err(Error::config(format!("client {id}: name is over 200 characters")));
        }
        if self.description.chars().count() > 2000 {
            return Err(Error::config(format!(
                "client {id}: description is over 2000 characters"
            )));
        }
        for s in self.allowed_scopes.iter().chain(self.default_scopes.iter().flatten()) {
            check_scope(&owner, s)?;
        }
        if let Some(unknown) = self.roles.iter().find(|r| !roles.contains_key(*r)) {
            return Err(Error::config(format!(
                "client {id}: roles: role {unknown:?} is not defined; define it under roles: (or with POST /admin/roles)"
            )));
        }
        let allowed = Permissions::of(self, roles).scopes;
        if let Some(bad) = self.default_scopes.iter().flatten().find(|s| !allowed.contains(s)) {
            return Err(Error::config(format!(
                "client {id}: default_scopes: {bad:?} is not in allowed_scopes or the client's roles' scopes"
            )));
        }
        if self.resource.is_some() && self.client_type != ClientType::McpServer {
            return Err(Error::config(format!(
                "client {id}: resource: only mcp_server clients name a resource (the MCP server's URL)"
            )));
        }
        self.validate_grant_types()?;
        if let Some(p) = &self.spiffe_id {
            authsec_core::spiffe::IdPattern::parse(p)
                .map_err(|e| Error::config(format!("client {id}: spiffe_id: {}", e.message())))?;
        }
        for m in &self.may_act {
            check_client_id(m).map_err(|_| {
                Error::config(format!(
                    "client {id}: may_act entry {:?} is not a client_id (1-200 printable characters)",
                    truncate(m)
                ))
            })?;
        }
        self.validate_auth_method()?;
        self.validate_urls()?;
        if let Some(r) = &self.rate_limits {
            if self.client_type != ClientType::AiAgent {
                return Err(Error::config(format!(
                    "client {id}: rate_limits are for ai_agent clients; use rate_limit (requests per minute)"
                )));
            }
            if r.requests_per_minute == Some(0) || r.tokens_per_day == Some(0) {
                return Err(Error::config(format!(
                    "client {id}: rate_limits: requests_per_minute and tokens_per_day must be above 0 (or absent)"
                )));
            }
        }
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

    fn validate_grant_types(&self) -> Result<()> {
        let id = &self.client_id;
        if self.grant_types.is_empty() {
            return Err(Error::config(format!(
                "client {id}: grant_types is empty; list {GRANT_CLIENT_CREDENTIALS} and/or {GRANT_TOKEN_EXCHANGE}"
            )));
        }
        if let Some(bad) = self.grant_types.iter().find(|g| !GRANT_TYPES.contains(&g.as_str())) {
            return Err(Error::config(format!(
                "client {id}: grant_types: {:?} is not offered; use {}",
                truncate(bad),
                GRANT_TYPES.join(", ")
            )));
        }
        if self.spiffe_id.is_none() && self.may_use_grant(GRANT_JWT_BEARER) {
            return Err(Error::config(format!(
                "client {id}: the grant type {GRANT_JWT_BEARER} (in grant_types) takes a JWT-SVID; it needs the client's spiffe_id"
            )));
        }
        if self.is_public() {
            if let Some(g) = CONFIDENTIAL_GRANTS.iter().find(|g| self.may_use_grant(g)) {
                return Err(Error::config(format!(
                    "client {id}: grant_types: {g} needs a confidential client; a public client \
                     (token_endpoint_auth_method none) cannot use it"
                )));
            }
        }
        let code = self.may_use_grant(GRANT_AUTHORIZATION_CODE);
        if code && self.callbacks.is_empty() {
            return Err(Error::config(format!(
                "client {id}: callbacks: the authorization_code grant needs at least one callback (redirect URI)"
            )));
        }
        if !code && !self.callbacks.is_empty() {
            return Err(Error::config(format!(
                "client {id}: callbacks are used only with the authorization_code grant; add it to grant_types or drop callbacks"
            )));
        }
        Ok(())
    }

    fn validate_urls(&self) -> Result<()> {
        let id = &self.client_id;
        let named = |e: Error| Error::config(format!("client {id}: {}", e.message()));
        for c in &self.callbacks {
            check_callback(c, self.client_type).map_err(named)?;
        }
        if !self.web_origins.is_empty() && !matches!(self.client_type, ClientType::Web | ClientType::Mobile) {
            return Err(Error::config(format!(
                "client {id}: web_origins are for web and mobile clients"
            )));
        }
        for o in &self.web_origins {
            check_origin(o).map_err(named)?;
        }
        if let Some(l) = &self.logo {
            check_web_url("logo", l).map_err(named)?;
        }
        if let Some(w) = &self.website {
            check_web_url("website", w).map_err(named)?;
        }
        if let Some(u) = &self.jwks_uri {
            if self.jwks.is_some() {
                return Err(Error::config(format!(
                    "client {id}: jwks_uri: give jwks or jwks_uri, not both"
                )));
            }
            check_web_url("jwks_uri", u).map_err(named)?;
        }
        Ok(())
    }

    /// `token_endpoint_auth_method` and the fields that go with it.
    fn validate_auth_method(&self) -> Result<()> {
        let id = &self.client_id;
        let method = self.token_endpoint_auth_method.as_deref();
        if let Some(m) = method.filter(|m| !AUTH_METHODS.contains(m)) {
            return Err(Error::config(format!(
                "client {id}: token_endpoint_auth_method {:?} is not offered; use one of {}",
                truncate(m),
                AUTH_METHODS.join(", ")
            )));
        }
        if self.client_type == ClientType::Mobile && method != Some(NONE) {
            return Err(Error::config(format!(
                "client {id}: token_endpoint_auth_method: a mobile app cannot keep a secret; it is a public client (none)"
            )));
        }
        if method == Some(NONE) {
            if !matches!(self.client_type, ClientType::Web | ClientType::Mobile) {
                return Err(Error::config(format!(
                    "client {id}: token_endpoint_auth_method: none (a public client) is only for web and mobile clients; \
                     {} clients are confidential",
                    self.client_type.as_str()
                )));
            }
            let held = [
                (!self.secrets.is_empty(), "client_secret"),
                (self.jwks.is_some(), "jwks"),
                (self.jwks_uri.is_some(), "jwks_uri"),
                (self.spiffe_id.is_some(), "spiffe_id"),
            ];
            if let Some((_, field)) = held.iter().find(|(has, _)| *has) {
                return Err(Error::config(format!(
                    "client {id}: {field}: a public client (token_endpoint_auth_method none) holds no credentials"
                )));
            }
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
            Some("private_key_jwt") if self.jwks.is_none() && self.jwks_uri.is_none() => "jwks or jwks_uri",
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_origins_and_urls() {
        for ok in [
            "https://app.example.com/cb",
            "http://127.0.0.1:8080/cb",
            "http://localhost/cb",
            "http://[::1]/cb",
        ] {
            check_callback(ok, ClientType::Web).unwrap();
        }
        check_callback("com.example.app:/oauth2redirect", ClientType::Mobile).unwrap();
        for bad in [
            "http://app.example.com/cb",
            "https://a.example/cb#x",
            "/relative",
            "myapp:/cb",
        ] {
            assert!(check_callback(bad, ClientType::Mobile).is_err(), "{bad}");
        }
        assert!(check_callback("com.example.app:/cb", ClientType::Web).is_err());
        for ok in [
            "https://app.example.com",
            "http://localhost:3000",
            "https://a.example:8443",
        ] {
            check_origin(ok).unwrap();
        }
        for bad in [
            "https://app.example.com/",
            "https://a.example/path",
            "ftp://a.example",
            "a.example",
            "https://a.example?q",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
        check_web_url("logo", "https://cdn.example.com/l.png").unwrap();
        let e = check_web_url("logo", "http://cdn.example.com/l.png").unwrap_err();
        assert!(e.message().contains("logo"), "{e}");
        assert!(check_web_url("website", &format!("https://a.example/{}", "x".repeat(2048))).is_err());
    }
}
