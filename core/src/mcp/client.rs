//! An agent's side of MCP authorization, machine to machine (the MCP client-credentials
//! extension): given only the MCP server's URL and the agent's client credentials, find where to
//! get a token and get one, as an HTTP wrapper in each binding drives it.
//!
//! On a 401 from the server: read `resource_metadata` from the challenge (else the path-aware,
//! then the root well-known URL), fetch the RFC 9728 metadata, check that its `resource` names
//! this server, check that it lists the authorization server the credentials belong to (the
//! client's `issuer`: credentials and tokens never go anywhere else, as SEP-2352 requires),
//! discover that server's token endpoint (RFC 8414 then OpenID Connect, in the MCP spec's
//! path-aware order), and get a client-credentials token for the metadata's `resource` (RFC 8707)
//! with the core's token client and its cache. On a 403 `insufficient_scope`: ask once for the
//! union of the scopes held and those the challenge names. Each request is retried a bounded
//! number of times ([`Attempt`]).

use crate::client::config::ClientConfig;
use crate::client::request::TokenParams;
use crate::client::token_client::TokenClient;
use crate::client::unauthorized::{parse_challenges, Challenge};
use crate::discovery::discover_at;
use crate::http::{check_url, HttpRequest, Transport};
use crate::resource::metadata::well_known_paths;
use crate::resource::uri::{AudienceMatch, ResourceUri};
use crate::runtime::{Clock, Sleeper, Spawner};
use crate::util::quoted;
use crate::{Error, ErrorCode, Result};
use parking_lot::Mutex;
use serde_json::Value;
use std::sync::Arc;

/// What the HTTP wrapper does after a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Send the request again, with [`McpClient::authorization`]'s header.
    Retry,
    /// Hand the response to the caller.
    Done,
}

/// What one request has used of its retries: at most one discovery, one fresh token after a 401,
/// and one step-up after a 403, so a request is sent at most three times whatever the server says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attempt {
    discovered: bool,
    refreshed: bool,
    stepped_up: bool,
}

impl Attempt {
    /// The attempt as a small integer, for bindings that keep it between calls across an FFI.
    pub fn to_bits(self) -> u8 {
        u8::from(self.discovered) | u8::from(self.refreshed) << 1 | u8::from(self.stepped_up) << 2
    }

    /// The attempt [`Self::to_bits`] gave (other bits ignored; 0 is a new request).
    pub fn from_bits(bits: u8) -> Attempt {
        Attempt {
            discovered: bits & 1 != 0,
            refreshed: bits & 2 != 0,
            stepped_up: bits & 4 != 0,
        }
    }
}

/// Which authorization server the client's credentials go to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IssuerPolicy {
    /// The configuration's `issuer` (required): the MCP server's metadata must list it. The
    /// default, and the one for credentials registered with a known authorization server.
    #[default]
    Configured,
    /// With no `issuer` configured: the first authorization server the MCP server's metadata
    /// lists, pinned for the client's lifetime (trust on first use: the MCP server URL itself
    /// must be trusted). For clients whose server is known but not its authorization server.
    FirstInMetadata,
}

impl IssuerPolicy {
    /// The policy a setting names: `"configured"` or `"first_in_metadata"`.
    pub fn parse(name: &str) -> Result<IssuerPolicy> {
        match name {
            "configured" => Ok(IssuerPolicy::Configured),
            "first_in_metadata" => Ok(IssuerPolicy::FirstInMetadata),
            other => Err(Error::config(format!(
                "issuer_policy {} is not \"configured\" or \"first_in_metadata\"",
                quoted(other)
            ))),
        }
    }

    /// An MCP client's settings as the bindings pass them: the client settings
    /// ([`ClientConfig::from_value`]'s) plus `issuer_policy` (or `issuerPolicy`; default
    /// `configured`). Returns the client settings without it, and the policy.
    pub fn split_settings(settings: &Value) -> Result<(Value, IssuerPolicy)> {
        let mut v = settings.clone();
        let mut policy = IssuerPolicy::Configured;
        if let Some(o) = v.as_object_mut() {
            for key in ["issuer_policy", "issuerPolicy"] {
                match o.remove(key) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(name)) => policy = IssuerPolicy::parse(&name)?,
                    Some(_) => return Err(Error::config("issuer_policy must be a string")),
                }
            }
        }
        Ok((v, policy))
    }
}

/// Where tokens for the server come from, once discovered.
struct Session {
    /// The metadata's `resource`: the `resource` of every token request.
    resource: String,
    tokens: TokenClient,
    /// The scopes asked for: the configured ones, then those the server's challenges named.
    scopes: Mutex<Vec<String>>,
}

impl Session {
    fn params(&self) -> TokenParams {
        self.params_for(self.scopes.lock().clone())
    }

    fn params_for(&self, scopes: Vec<String>) -> TokenParams {
        TokenParams {
            scopes,
            resource: vec![self.resource.clone()],
            ..self.tokens.default_params().clone()
        }
        .normalized()
    }

    /// The scopes held plus `more`; `None` when `more` adds nothing.
    fn widened(&self, more: &[String]) -> Option<Vec<String>> {
        let mut s = self.scopes.lock().clone();
        let before = s.len();
        for m in more {
            if !s.contains(m) {
                s.push(m.clone());
            }
        }
        (s.len() > before).then_some(s)
    }

    /// Add scopes (after the authorization server granted them).
    fn widen(&self, more: &[String]) {
        if let Some(w) = self.widened(more) {
            *self.scopes.lock() = w;
        }
    }
}

/// The MCP client side (see the module documentation). One per MCP server; share it between the
/// requests to that server.
pub struct McpClient {
    server: ResourceUri,
    server_url: String,
    cfg: ClientConfig,
    /// The configured issuer; `None` under [`IssuerPolicy::FirstInMetadata`] without one.
    issuer: Option<String>,
    policy: IssuerPolicy,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    spawner: Option<Arc<dyn Spawner>>,
    session: Mutex<Option<Arc<Session>>>,
}

impl std::fmt::Debug for McpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpClient")
            .field("server_url", &self.server_url)
            .field("issuer", &self.issuer)
            .field("policy", &self.policy)
            .field("client_id", &self.cfg.client_id)
            .finish_non_exhaustive()
    }
}

/// The authorization-server metadata URLs to try for `issuer`, in the MCP spec's order: with a
/// path, RFC 8414's and OpenID Connect's well-known inserted after the host, then OpenID
/// Connect's appended; without one, RFC 8414's then OpenID Connect's.
pub fn authorization_server_metadata_urls(issuer: &str) -> Result<Vec<String>> {
    let (origin, path) = crate::discovery::origin_and_path(issuer)?;
    let path = path.trim_end_matches('/');
    Ok(if path.is_empty() {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server"),
            format!("{origin}/.well-known/openid-configuration"),
        ]
    } else {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{origin}/.well-known/openid-configuration{path}"),
            format!("{origin}{path}/.well-known/openid-configuration"),
        ]
    })
}

/// The protected-resource metadata URLs to try for a server: the challenge's `resource_metadata`
/// first, then the path-aware well-known URL, then the root one (MCP authorization, "Protected
/// Resource Metadata Discovery").
pub fn resource_metadata_urls(server: &ResourceUri, hint: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = hint.map(str::to_string).into_iter().collect();
    let origin = server.origin();
    for path in well_known_paths(server) {
        let url = format!("{origin}{path}");
        if !out.contains(&url) {
            out.push(url);
        }
    }
    out
}

/// The `Bearer` challenge of a `WWW-Authenticate` value, if there is one.
fn bearer_challenge(www_authenticate: Option<&str>) -> Option<Challenge> {
    parse_challenges(www_authenticate?)
        .into_iter()
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
}

fn scopes_of(c: Option<&Challenge>) -> Vec<String> {
    c.and_then(|c| c.param("scope"))
        .map(crate::scope::split_scopes)
        .unwrap_or_default()
}

fn invalid(msg: String) -> Error {
    Error::new(ErrorCode::InvalidResponse, msg)
}

fn same_issuer(a: &str, b: &str) -> bool {
    AudienceMatch::TrailingSlash.matches(a, b)
}

impl McpClient {
    /// `server_url`: the MCP endpoint. `cfg`: the agent's client credentials; its `issuer` is
    /// required (the authorization server they belong to), its `token_url` optional (discovered
    /// from the issuer when absent), its `scopes` asked for from the start.
    pub fn new(
        server_url: &str,
        cfg: ClientConfig,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        sleeper: Arc<dyn Sleeper>,
    ) -> Result<McpClient> {
        Self::with_policy(server_url, cfg, IssuerPolicy::Configured, transport, clock, sleeper)
    }

    /// [`Self::new`] under an [`IssuerPolicy`]. With `FirstInMetadata` an `issuer` may still be
    /// configured, and then it is the one used (as with `Configured`).
    pub fn with_policy(
        server_url: &str,
        cfg: ClientConfig,
        policy: IssuerPolicy,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        sleeper: Arc<dyn Sleeper>,
    ) -> Result<McpClient> {
        check_url(server_url, cfg.allow_insecure_http, "the MCP server URL")?;
        let server = ResourceUri::parse(server_url)?;
        let issuer = cfg.issuer.clone();
        match &issuer {
            Some(i) => check_url(i, cfg.allow_insecure_http, "issuer")?,
            None if policy == IssuerPolicy::FirstInMetadata => {}
            None => {
                return Err(Error::config(
                    "an MCP client needs issuer: the authorization server its credentials belong to (tokens are asked for there only)",
                ))
            }
        }
        if issuer.is_none() && cfg.token_url.is_some() {
            return Err(Error::config(
                "an MCP client with token_url needs issuer too: the metadata is checked against it",
            ));
        }
        // The token client's own checks (credentials, auth method), now rather than at first use.
        ClientConfig {
            token_url: Some(
                cfg.token_url
                    .clone()
                    .or_else(|| issuer.clone())
                    .unwrap_or_else(|| server.canonical()),
            ),
            ..cfg.clone()
        }
        .validate()?;
        Ok(McpClient {
            server_url: server.canonical(),
            server,
            cfg,
            issuer,
            policy,
            transport,
            clock,
            sleeper,
            spawner: None,
            session: Mutex::new(None),
        })
    }

    /// Refresh tokens in the background on `spawner` (before first use).
    pub fn with_spawner(mut self, spawner: Arc<dyn Spawner>) -> McpClient {
        self.spawner = Some(spawner);
        self
    }

    /// The MCP server's URL, canonical.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// The `resource` tokens are asked for, once discovered.
    pub fn resource(&self) -> Option<String> {
        self.session.lock().as_ref().map(|s| s.resource.clone())
    }

    /// The scopes asked for, once discovered.
    pub fn scopes(&self) -> Vec<String> {
        self.session
            .lock()
            .as_ref()
            .map(|s| s.scopes.lock().clone())
            .unwrap_or_default()
    }

    /// The `Authorization` header for the next request to the server: `None` until the server
    /// has been discovered (the first request goes without, and its 401 starts discovery).
    pub async fn authorization(&self) -> Result<Option<String>> {
        let Some(session) = self.session.lock().clone() else {
            return Ok(None);
        };
        let token = session.tokens.get_token_for(session.params()).await?;
        Ok(Some(format!("Bearer {}", token.access_token.expose())))
    }

    /// Discover the server now, without waiting for a 401 (the well-known URLs only).
    pub async fn discover(&self) -> Result<()> {
        self.start_session(None, &[]).await.map(|_| ())
    }

    /// After a response from the server: `status`, its `WWW-Authenticate`, the access token the
    /// request carried (if any), and what this request has used of its retries.
    pub async fn on_response(
        &self,
        status: u16,
        www_authenticate: Option<&str>,
        sent_token: Option<&str>,
        attempt: &mut Attempt,
    ) -> Result<Next> {
        let challenge = bearer_challenge(www_authenticate);
        let asked = scopes_of(challenge.as_ref());
        let current = self.session.lock().clone();
        match (status, current) {
            (401, None) if !attempt.discovered => {
                attempt.discovered = true;
                let hint = challenge.as_ref().and_then(|c| c.param("resource_metadata"));
                self.start_session(hint, &asked).await?;
                Ok(Next::Retry)
            }
            (401, Some(session)) if !attempt.refreshed => {
                attempt.refreshed = true;
                if let Some(t) = sent_token {
                    session.tokens.invalidate_token(t);
                }
                session.widen(&asked);
                Ok(Next::Retry)
            }
            (403, Some(session)) if !attempt.stepped_up => {
                let insufficient = challenge.as_ref().and_then(|c| c.param("error")) == Some("insufficient_scope");
                let Some(wider) = session.widened(&asked).filter(|_| insufficient) else {
                    return Ok(Next::Done);
                };
                attempt.stepped_up = true;
                // Ask for the wider token now: if the authorization server refuses the scopes
                // (invalid_scope), the caller gets that error and the session keeps the scopes it
                // had, so later requests still work.
                session.tokens.get_token_for(session.params_for(wider.clone())).await?;
                session.widen(&wider);
                Ok(Next::Retry)
            }
            _ => Ok(Next::Done),
        }
    }

    async fn start_session(&self, hint: Option<&str>, asked: &[String]) -> Result<Arc<Session>> {
        let (resource, metadata_scopes, issuer) = self.resource_metadata(hint).await?;
        let token_url = match &self.cfg.token_url {
            Some(u) => u.clone(),
            None => self.token_endpoint(&issuer).await?,
        };
        let mut scopes = self.cfg.scopes.clone();
        for s in asked {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        // The spec's fallback: with no scopes configured or challenged, those the metadata lists.
        if scopes.is_empty() {
            scopes = metadata_scopes;
        }
        let cfg = ClientConfig {
            token_url: Some(token_url),
            issuer: Some(issuer),
            resource: vec![resource.clone()],
            scopes: scopes.clone(),
            ..self.cfg.clone()
        };
        let mut tokens = TokenClient::new(cfg, self.transport.clone(), self.clock.clone(), self.sleeper.clone())?;
        if let Some(s) = &self.spawner {
            tokens = tokens.with_spawner(s.clone())?;
        }
        let session = Arc::new(Session {
            resource,
            tokens,
            scopes: Mutex::new(scopes),
        });
        // Two requests discovering at once: the first session installed is kept.
        let mut slot = self.session.lock();
        Ok(slot.get_or_insert(session).clone())
    }

    /// Fetch and check the server's protected-resource metadata: its `resource`, its scopes, and
    /// the issuer to use.
    async fn resource_metadata(&self, hint: Option<&str>) -> Result<(String, Vec<String>, String)> {
        let hint = match hint {
            Some(h) => {
                check_url(h, self.cfg.allow_insecure_http, "the challenge's resource_metadata")?;
                Some(h)
            }
            None => None,
        };
        let mut last: Option<Error> = None;
        for url in resource_metadata_urls(&self.server, hint) {
            let resp = match self.transport.send(HttpRequest::get(url.clone())).await {
                Ok(r) => r,
                Err(e) => {
                    last = Some(e);
                    continue;
                }
            };
            if resp.status != 200 {
                last = Some(
                    invalid(format!(
                        "the protected-resource metadata at {} answered HTTP {}",
                        quoted(&url),
                        resp.status
                    ))
                    .with_status(resp.status),
                );
                continue;
            }
            let doc: Value = serde_json::from_slice(&resp.body)
                .ok()
                .filter(Value::is_object)
                .ok_or_else(|| {
                    invalid(format!(
                        "the protected-resource metadata at {} is not a JSON object",
                        quoted(&url)
                    ))
                })?;
            return self.check_resource_metadata(&doc);
        }
        Err(last.unwrap_or_else(|| Error::internal("no metadata URL")))
    }

    fn check_resource_metadata(&self, doc: &Value) -> Result<(String, Vec<String>, String)> {
        let resource = doc
            .get("resource")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("the protected-resource metadata has no resource (RFC 9728 §2)".into()))?;
        // RFC 9728 §3.3 asks for the URL the client used; MCP servers commonly name the server's
        // base URL above the endpoint, so a resource on the same origin at or above it is accepted.
        if !AudienceMatch::PathPrefix.matches(&self.server_url, resource) {
            return Err(invalid(format!(
                "the protected-resource metadata is for {}, not this MCP server {} (RFC 9728 §3.3)",
                quoted(resource),
                quoted(&self.server_url)
            )));
        }
        let servers = doc
            .get("authorization_servers")
            .and_then(crate::options::string_list)
            .unwrap_or_default();
        let issuer = match &self.issuer {
            Some(i) if servers.iter().any(|s| same_issuer(s, i)) => i.clone(),
            Some(i) => {
                return Err(invalid(format!(
                    "the MCP server {} names the authorization servers {}, not {}, the issuer this client's credentials belong to; no token is requested elsewhere",
                    quoted(&self.server_url),
                    crate::util::quoted_list(&servers),
                    quoted(i)
                )))
            }
            None => {
                debug_assert_eq!(self.policy, IssuerPolicy::FirstInMetadata);
                let first = servers.first().ok_or_else(|| {
                    invalid("the protected-resource metadata names no authorization server (RFC 9728 §2)".into())
                })?;
                check_url(first, self.cfg.allow_insecure_http, "the metadata's authorization server")?;
                first.clone()
            }
        };
        let scopes = doc
            .get("scopes_supported")
            .and_then(crate::options::string_list)
            .unwrap_or_default();
        Ok((resource.to_string(), scopes, issuer))
    }

    /// The issuer's token endpoint, from its metadata (the MCP order of well-known URLs).
    async fn token_endpoint(&self, issuer: &str) -> Result<String> {
        let urls = authorization_server_metadata_urls(issuer)?;
        let meta = discover_at(&*self.transport, &urls, issuer).await?;
        let endpoint = meta
            .token_endpoint
            .ok_or_else(|| invalid(format!("the metadata of {} names no token_endpoint", quoted(issuer))))?;
        check_url(&endpoint, self.cfg.allow_insecure_http, "token_endpoint")?;
        let method = self.cfg.auth_method.as_str();
        let methods = &meta.token_endpoint_auth_methods_supported;
        if !methods.is_empty() && !methods.iter().any(|m| m == method) {
            return Err(Error::config(format!(
                "the authorization server {} does not take {method} (it lists {}); set auth_method to one it takes",
                quoted(issuer),
                crate::util::quoted_list(methods)
            )));
        }
        Ok(endpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_urls_in_the_spec_order() {
        assert_eq!(
            authorization_server_metadata_urls("https://auth.example.com/tenant1").unwrap(),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            authorization_server_metadata_urls("https://auth.example.com/").unwrap(),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration",
            ]
        );
        let server = ResourceUri::parse("https://mcp.example.com/public/mcp").unwrap();
        assert_eq!(
            resource_metadata_urls(&server, Some("https://mcp.example.com/prm")),
            [
                "https://mcp.example.com/prm",
                "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp",
                "https://mcp.example.com/.well-known/oauth-protected-resource",
            ]
        );
        let (rest, p) =
            IssuerPolicy::split_settings(&serde_json::json!({"client_id": "a", "issuerPolicy": "first_in_metadata"}))
                .unwrap();
        assert_eq!(
            (rest, p),
            (serde_json::json!({"client_id": "a"}), IssuerPolicy::FirstInMetadata)
        );
        let (_, p) = IssuerPolicy::split_settings(&serde_json::json!({"client_id": "a"})).unwrap();
        assert_eq!(p, IssuerPolicy::Configured);
        assert!(IssuerPolicy::split_settings(&serde_json::json!({"issuer_policy": "tofu"})).is_err());
        assert!(IssuerPolicy::split_settings(&serde_json::json!({"issuer_policy": 1})).is_err());
        for bits in 0..8 {
            assert_eq!(Attempt::from_bits(bits).to_bits(), bits);
        }
        assert_eq!(Attempt::from_bits(0), Attempt::default());
        // The same paths the server side serves its metadata at (RFC 9728 §3.1: the query too).
        let with_query = ResourceUri::parse("https://mcp.example.com/mcp?tenant=a").unwrap();
        assert_eq!(
            resource_metadata_urls(&with_query, None),
            [
                "https://mcp.example.com/.well-known/oauth-protected-resource/mcp?tenant=a",
                "https://mcp.example.com/.well-known/oauth-protected-resource",
            ]
        );
        let root = ResourceUri::parse("https://mcp.example.com").unwrap();
        assert_eq!(
            resource_metadata_urls(&root, None),
            ["https://mcp.example.com/.well-known/oauth-protected-resource"]
        );
    }
}
