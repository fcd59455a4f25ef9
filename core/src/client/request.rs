//! Building token requests (sans-IO): a [`Grant`], the requested `scope`, `audience` and RFC 8707
//! `resource`, and the client's authentication ([`ClientAuth`]), as an [`HttpRequest`].

use super::client_auth::ClientAuth;
use super::grant::{Grant, GrantRef};
use crate::http::{HttpRequest, Method};
use crate::options::{OptionName, Options};
use crate::Result;
use serde_json::Value;

/// Per-request options; the cache keys tokens by these.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TokenParams {
    /// The grant (client credentials unless set).
    pub grant: GrantRef,
    pub scopes: Vec<String>,
    pub audience: Option<String>,
    pub resource: Vec<String>,
    /// The thumbprint of the DPoP key the token is bound to (set by the token client, so a
    /// token is never handed to a key it is not bound to, even from a shared cache).
    pub dpop_jkt: Option<String>,
}

/// The per-call options of a token request, and their JavaScript spellings.
const PARAMS: [OptionName; 3] = [("scopes", "scopes"), ("audience", "audience"), ("resource", "resource")];

impl TokenParams {
    /// The config's defaults (client credentials).
    pub fn from_config(cfg: &super::config::ClientConfig) -> Self {
        TokenParams {
            grant: GrantRef::default(),
            scopes: cfg.scopes.clone(),
            audience: cfg.audience.clone(),
            resource: cfg.resource.clone(),
            dpop_jkt: None,
        }
    }

    /// These parameters with what a caller overrides; `None` keeps a value as it is.
    pub fn with_overrides(
        mut self,
        scopes: Option<Vec<String>>,
        audience: Option<String>,
        resource: Option<Vec<String>>,
    ) -> Self {
        if let Some(s) = scopes {
            self.scopes = s;
        }
        if let Some(a) = audience {
            self.audience = Some(a);
        }
        if let Some(r) = resource {
            self.resource = r;
        }
        self
    }

    /// Per-call options as bindings pass them (`{scopes, audience, resource}`: scopes a list or a
    /// space-separated string, resource a string or a list) over these defaults. `None` when no
    /// option is given: the caller asks for the default token.
    pub fn overridden_by(&self, options: &Value) -> Result<Option<TokenParams>> {
        let o = Options::read("token options", options, &PARAMS)?;
        if !["scopes", "audience", "resource"].iter().any(|n| o.is_given(n)) {
            return Ok(None);
        }
        Ok(Some(self.clone().with_overrides(
            o.space_separated("scopes")?,
            o.string("audience")?,
            o.one_or_many("resource")?,
        )))
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

/// A token request being built: the endpoint, its form parameters and headers. Grants and client
/// authentication methods add to it.
#[derive(Debug)]
pub struct TokenRequestParts {
    pub url: String,
    pub form: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
}

impl TokenRequestParts {
    pub fn param(&mut self, name: &str, value: &str) {
        self.form.push((name.to_string(), value.to_string()));
    }
    pub fn header(&mut self, name: &str, value: String) {
        self.headers.push((name.to_string(), value));
    }
}

/// The `application/x-www-form-urlencoded` body from pairs.
pub fn form_body<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Vec<u8> {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k.as_ref(), v.as_ref());
    }
    s.finish().into_bytes()
}

/// The token request for `params` (its grant, scopes, audience, resources) to `token_url`,
/// authenticated by `auth`, sent at `now_ms`.
pub fn token_request(
    token_url: &str,
    params: &TokenParams,
    auth: &dyn ClientAuth,
    allow_insecure_http: bool,
    now_ms: i64,
) -> Result<HttpRequest> {
    crate::http::check_url(token_url, allow_insecure_http, "token_url")?;
    let grant: &dyn Grant = params.grant.grant();
    let mut parts = TokenRequestParts {
        url: token_url.to_string(),
        form: vec![("grant_type".to_string(), grant.grant_type().to_string())],
        headers: vec![
            (
                "content-type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            ),
            ("accept".to_string(), "application/json".to_string()),
        ],
    };
    parts.form.extend(grant.parameters(now_ms)?);
    let scope = params.scopes.join(" ");
    if !scope.is_empty() {
        parts.param("scope", &scope);
    }
    if let Some(a) = &params.audience {
        parts.param("audience", a);
    }
    for r in &params.resource {
        parts.param("resource", r);
    }
    auth.authenticate(&mut parts, now_ms)?;
    Ok(HttpRequest {
        method: Method::Post,
        url: parts.url,
        headers: parts.headers,
        body: form_body(&parts.form),
    })
}
