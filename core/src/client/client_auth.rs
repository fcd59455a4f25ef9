//! Client authentication: how the client proves who it is to the token endpoint (RFC 6749 §2.3).
//! `client_secret_basic`, `client_secret_post`, `private_key_jwt` (RFC 7523) and the two mutual-TLS
//! methods (RFC 8705, where the transport presents the certificate and the request names the
//! client) are here; other methods are further implementations of [`ClientAuth`], and the token
//! client does not change for them.

use super::config::{AuthMethod, ClientConfig};
use super::request::TokenRequestParts;
use crate::jose::signing::SigningKey;
use crate::random::random_id;
use crate::runtime::{BoxFut, MaybeSend};
use crate::util::{b64_std_encode, form_encode};
use crate::{Error, Result, Secret};
use serde_json::{json, Map};
use std::fmt;
use std::sync::Arc;

/// Lifetime of a `private_key_jwt` assertion.
pub const ASSERTION_LIFETIME_SECS: i64 = 60;

/// A client-authentication method.
pub trait ClientAuth: MaybeSend + fmt::Debug {
    /// Its `token_endpoint_auth_method` name (RFC 8414).
    fn method(&self) -> &str;
    /// Get ready to authenticate a request sent at `now_ms` (for credentials fetched from
    /// elsewhere, such as a JWT-SVID from the Workload API); called before every request.
    fn prepare(&self, _now_ms: i64) -> BoxFut<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    /// Add the client's credentials to a token request for `parts.url`, sent at `now_ms`.
    fn authenticate(&self, parts: &mut TokenRequestParts, now_ms: i64) -> Result<()>;
}

/// `Authorization: Basic` with the form-encoded id and secret (RFC 6749 §2.3.1).
#[derive(Debug)]
pub struct ClientSecretBasic {
    pub client_id: String,
    pub secret: Secret,
}

/// `client_id` and `client_secret` in the form body (RFC 6749 §2.3.1).
#[derive(Debug)]
pub struct ClientSecretPost {
    pub client_id: String,
    pub secret: Secret,
}

/// A JWT assertion signed with the client's private key (RFC 7523 §2.2).
#[derive(Debug)]
pub struct PrivateKeyJwt {
    pub client_id: String,
    pub key: SigningKey,
    /// The assertion's `aud`: the authorization server's issuer identifier when the
    /// configuration names one, else (`None`) the token endpoint's URL.
    pub audience: Option<String>,
}

impl ClientAuth for ClientSecretBasic {
    fn method(&self) -> &str {
        AuthMethod::ClientSecretBasic.as_str()
    }
    fn authenticate(&self, parts: &mut TokenRequestParts, _now_ms: i64) -> Result<()> {
        parts.header(
            "authorization",
            basic_auth_header(&self.client_id, self.secret.expose()),
        );
        Ok(())
    }
}

impl ClientAuth for ClientSecretPost {
    fn method(&self) -> &str {
        AuthMethod::ClientSecretPost.as_str()
    }
    fn authenticate(&self, parts: &mut TokenRequestParts, _now_ms: i64) -> Result<()> {
        parts.param("client_id", &self.client_id);
        parts.param("client_secret", self.secret.expose());
        Ok(())
    }
}

impl ClientAuth for PrivateKeyJwt {
    fn method(&self) -> &str {
        AuthMethod::PrivateKeyJwt.as_str()
    }
    fn authenticate(&self, parts: &mut TokenRequestParts, now_ms: i64) -> Result<()> {
        let audience = self.audience.as_deref().unwrap_or(&parts.url);
        let assertion = client_assertion(&self.key, &self.client_id, audience, now_ms)?;
        parts.param("client_id", &self.client_id);
        parts.param(
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        );
        parts.param("client_assertion", &assertion);
        Ok(())
    }
}

/// The method a configuration asks for, with its credentials (the private key loaded and checked
/// now, so a bad key fails at construction).
/// `tls_client_auth` and `self_signed_tls_client_auth` (RFC 8705 §2): the TLS connection carries
/// the proof (the transport presents [`ClientConfig::tls_client_cert`]); the body names the client.
#[derive(Debug)]
pub struct TlsClientAuth {
    pub client_id: String,
    pub method: AuthMethod,
}

impl ClientAuth for TlsClientAuth {
    fn method(&self) -> &str {
        self.method.as_str()
    }
    fn authenticate(&self, parts: &mut TokenRequestParts, _now_ms: i64) -> Result<()> {
        parts.param("client_id", &self.client_id);
        Ok(())
    }
}

pub fn from_config(cfg: &ClientConfig) -> Result<Arc<dyn ClientAuth>> {
    let secret = || {
        cfg.client_secret
            .clone()
            .ok_or_else(|| Error::config("client_secret is not set"))
    };
    let client_id = cfg.client_id.clone();
    Ok(match cfg.auth_method {
        AuthMethod::ClientSecretBasic => Arc::new(ClientSecretBasic {
            client_id,
            secret: secret()?,
        }),
        AuthMethod::ClientSecretPost => Arc::new(ClientSecretPost {
            client_id,
            secret: secret()?,
        }),
        AuthMethod::PrivateKeyJwt => {
            let pem = cfg
                .private_key
                .as_ref()
                .ok_or_else(|| Error::config("private_key_jwt needs a private key"))?;
            let key = SigningKey::from_pem_or_jwk(pem.expose(), cfg.private_key_alg, cfg.private_key_id.clone())?;
            // RFC 7523bis (after the 2025 audience-injection findings): the issuer identifier, one
            // value the server cannot mistake for another endpoint's; without an issuer, the
            // token endpoint, which RFC 7523 also allows.
            let audience = cfg.issuer.clone();
            Arc::new(PrivateKeyJwt {
                client_id,
                key,
                audience,
            })
        }
        method @ (AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth) => {
            Arc::new(TlsClientAuth { client_id, method })
        }
        // The JWT-SVIDs come from a source attached later (TokenClient::with_workload_identity).
        AuthMethod::SpiffeJwt => Arc::new(super::workload_identity::AwaitingWorkloadApi),
        // The transport presents the X.509-SVID (the native layer's rotating transport); the
        // request names the client, its SPIFFE ID unless a client_id is configured.
        AuthMethod::SpiffeX509 => {
            if client_id.is_empty() {
                return Err(Error::config(
                    "spiffe_x509 needs the workload's SPIFFE ID as client_id; the native token client fills it in from the X.509-SVID",
                ));
            }
            Arc::new(TlsClientAuth {
                client_id,
                method: AuthMethod::TlsClientAuth,
            })
        }
    })
}

/// `Authorization: Basic` per RFC 6749 §2.3.1: id and secret form-encoded, then Base64.
pub fn basic_auth_header(client_id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        b64_std_encode(format!("{}:{}", form_encode(client_id), form_encode(secret)).as_bytes())
    )
}

/// An RFC 7523 client assertion: `iss` = `sub` = client_id, `aud` = `audience` (the issuer, else
/// the token endpoint), unique `jti`, `iat` now, `exp` one minute later.
pub fn client_assertion(key: &SigningKey, client_id: &str, audience: &str, now_ms: i64) -> Result<String> {
    let now = now_ms.div_euclid(1000);
    let claims = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": random_id(16)?,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_SECS,
    });
    key.sign(None, &Map::new(), &claims)
}
