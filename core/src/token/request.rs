//! Building token requests (sans-IO): client credentials with `client_secret_basic`,
//! `client_secret_post` and `private_key_jwt`; `scope`, `audience` and RFC 8707 `resource`.

use crate::config::{AuthMethod, ClientConfig};
use crate::http::{HttpRequest, Method};
use crate::jwt::signing::SigningKey;
use crate::runtime::random_id;
use crate::util::{b64_std_encode, form_encode};
use crate::{Error, Result};
use serde_json::{json, Map};

/// Lifetime of a `private_key_jwt` assertion.
pub const ASSERTION_LIFETIME_SECS: i64 = 60;

/// Per-request options; the cache keys tokens by these.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TokenParams {
    pub scopes: Vec<String>,
    pub audience: Option<String>,
    pub resource: Vec<String>,
}

impl TokenParams {
    /// The config's defaults.
    pub fn from_config(cfg: &ClientConfig) -> Self {
        TokenParams {
            scopes: cfg.scopes.clone(),
            audience: cfg.audience.clone(),
            resource: cfg.resource.clone(),
        }
    }
    /// Canonical form: scopes and resources sorted and de-duplicated (the cache key).
    pub fn normalized(mut self) -> Self {
        self.scopes.sort();
        self.scopes.dedup();
        self.resource.sort();
        self.resource.dedup();
        self
    }
}

/// The `application/x-www-form-urlencoded` body from pairs.
pub fn form_body(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

/// `Authorization: Basic` per RFC 6749 §2.3.1: id and secret form-encoded, then Base64.
pub fn basic_auth_header(client_id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        b64_std_encode(format!("{}:{}", form_encode(client_id), form_encode(secret)).as_bytes())
    )
}

/// An RFC 7523 client assertion: `iss` = `sub` = client_id, `aud` = token endpoint, unique `jti`,
/// `iat` now, `exp` one minute later.
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

/// Build the client-credentials token request.
pub fn client_credentials_request(
    cfg: &ClientConfig,
    token_url: &str,
    params: &TokenParams,
    signer: Option<&SigningKey>,
    now_ms: i64,
) -> Result<HttpRequest> {
    crate::http::check_url(token_url, cfg.allow_insecure_http, "token_url")?;
    let scope = params.scopes.join(" ");
    let mut pairs: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
    if !scope.is_empty() {
        pairs.push(("scope", &scope));
    }
    if let Some(a) = &params.audience {
        pairs.push(("audience", a));
    }
    for r in &params.resource {
        pairs.push(("resource", r));
    }
    let mut headers = vec![
        (
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ),
        ("accept".to_string(), "application/json".to_string()),
    ];
    let assertion;
    let secret = || {
        cfg.client_secret
            .as_ref()
            .map(|s| s.expose())
            .ok_or_else(|| Error::config("client_secret is not set"))
    };
    match cfg.auth_method {
        AuthMethod::ClientSecretBasic => {
            headers.push((
                "authorization".to_string(),
                basic_auth_header(&cfg.client_id, secret()?),
            ));
        }
        AuthMethod::ClientSecretPost => {
            pairs.push(("client_id", &cfg.client_id));
            pairs.push(("client_secret", secret()?));
        }
        AuthMethod::PrivateKeyJwt => {
            let key = signer.ok_or_else(|| Error::config("private_key_jwt needs a private key"))?;
            assertion = client_assertion(key, &cfg.client_id, token_url, now_ms)?;
            pairs.push(("client_id", &cfg.client_id));
            pairs.push((
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ));
            pairs.push(("client_assertion", &assertion));
        }
    }
    Ok(HttpRequest {
        method: Method::Post,
        url: token_url.to_string(),
        headers,
        body: form_body(&pairs),
    })
}
