//! MCP authorization: the core's `McpServerAuth` (an MCP server as a protected resource: its
//! metadata, the decision before the SDK runs, list filtering) and `McpClient` (an agent's side:
//! discovery from a 401, tokens for the server's resource, step-up), for `lib/mcp.js`. Conversion
//! only; every rule is the core's.

use crate::clock::ManualClock;
use crate::errors::{js, ErrorLike};
use crate::spawn::promise;
use authsec_native::core::mcp::client::{Attempt, McpClient, Next};
use authsec_native::core::mcp::operation::{operations, Operation, MAX_BODY_BYTES};
use authsec_native::core::mcp::server::{McpServerAuth, Response, Step};
use authsec_native::{ClientConfig, Clock, ProcessEnv, Result as CoreResult, VarsEnv};
use napi::bindgen_prelude::{Buffer, Either, Object};
use napi::{Env, Result};
use napi_derive::napi;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The largest request body the core reads; a bigger one is refused (400), so the adapter stops
/// reading one byte past it.
#[napi]
pub const MCP_MAX_BODY_BYTES: u32 = MAX_BODY_BYTES as u32;

/// A response to send as it is: status, headers (`[name, value]` pairs) and body.
#[napi(object)]
pub struct McpResponse {
    pub status: u32,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl From<Response> for McpResponse {
    fn from(r: Response) -> Self {
        let (status, headers, body) = (r.status.into(), r.headers, r.body);
        McpResponse { status, headers, body }
    }
}

/// The RFC 9728 document: the canonical `resource`, the document's URL (the challenges'
/// `resource_metadata`), its JSON text, and the paths it is served at (path-aware, then root).
#[napi(object)]
pub struct McpMetadata {
    pub resource: String,
    pub url: String,
    pub json: String,
    pub paths: Vec<String>,
}

fn granted(scopes: &[String]) -> Vec<&str> {
    scopes.iter().map(String::as_str).collect()
}

#[napi]
pub struct NativeMcpServerAuth {
    inner: McpServerAuth,
}

#[napi]
impl NativeMcpServerAuth {
    /// From the options object (the core's `McpServerAuth::from_value`).
    #[napi(constructor)]
    pub fn new(env: Env, options: Value) -> Result<Self> {
        let inner = js(&env, McpServerAuth::from_value(&options))?;
        Ok(NativeMcpServerAuth { inner })
    }

    /// The options of the verifier to build (issuer, audience = the resource, discovery, ...).
    #[napi]
    pub fn verifier_options(&self) -> Value {
        self.inner.verifier_options().clone()
    }

    #[napi]
    pub fn metadata(&self) -> McpMetadata {
        let m = self.inner.metadata();
        let (resource, url, json, paths) = (
            m.resource(),
            m.metadata_url(),
            m.to_json(),
            m.well_known_paths().to_vec(),
        );
        McpMetadata {
            resource,
            url,
            json,
            paths,
        }
    }

    /// The first step for a request: the bearer token to verify, or a response to send.
    #[napi]
    pub fn begin(&self, method: String, path: String, authorization: Option<String>) -> Either<String, McpResponse> {
        match self.inner.begin(&method, &path, authorization.as_deref()) {
            Step::Verify(token) => Either::A(token.to_string()),
            Step::Respond(r) => Either::B(r.into()),
        }
    }

    /// The verifier's answer (the granted scopes, or the error it threw) and the request body
    /// (`null` for a request without one): `null` when allowed, else the refusal to send.
    #[napi]
    pub fn decide(
        &self,
        env: Env,
        scopes: Option<Vec<String>>,
        error: Option<ErrorLike>,
        body: Option<Buffer>,
    ) -> Result<Option<McpResponse>> {
        let body = body.as_deref();
        let refused = match error {
            Some(e) => self.inner.decide(Err(&js(&env, e.parts().to_error())?), body),
            None => self.inner.decide(Ok(&granted(&scopes.unwrap_or_default())), body),
        };
        Ok(refused.err().map(McpResponse::from))
    }

    /// A list result (`tools/list`, `prompts/list`, `resources/list`) as JSON text, cut to what a
    /// token with `scopes` may use.
    #[napi]
    pub fn filter_list(&self, method: String, result: String, scopes: Vec<String>) -> Result<String> {
        let mut v: Value = serde_json::from_str(&result).map_err(|e| napi::Error::from_reason(e.to_string()))?;
        self.inner.filter_list(&method, &mut v, &granted(&scopes));
        Ok(v.to_string())
    }

    /// Whether a token with `scopes` may do `method` on `target` (for typed lists).
    #[napi]
    pub fn allows(&self, method: String, target: Option<String>, scopes: Vec<String>) -> bool {
        self.inner
            .allows(&Operation::new(method, target.as_deref()), &granted(&scopes))
    }

    /// For SDKs that ask per request (the v2 SDK's `scopeChallenge`): `null` when a token with
    /// `scopes` may send this JSON-RPC message, else every scope it needs.
    #[napi]
    pub fn scope_challenge(&self, env: Env, message: Buffer, scopes: Vec<String>) -> Result<Option<Vec<String>>> {
        let ops = js(&env, operations(&message))?;
        let s = self.inner.operation_scopes();
        Ok(s.check(&ops, &granted(&scopes)).err().map(|_| s.required_all(&ops)))
    }
}

/// What the HTTP wrapper does after a response: send again (with a fresh `authorization()`) or
/// not, and the request's retry state to pass next time.
#[napi(object)]
pub struct McpNext {
    pub retry: bool,
    pub attempt: u32,
}

#[napi]
pub struct NativeMcpClient {
    inner: Arc<McpClient>,
}

/// An MCP client for `server_url` from `cfg`, at the time of `clock` (the system clock when none).
fn client(env: &Env, url: &str, cfg: CoreResult<ClientConfig>, clock: Option<&ManualClock>) -> Result<NativeMcpClient> {
    let clock = clock.map(|m| Arc::new(m.inner.clone()) as Arc<dyn Clock>);
    let c = cfg.and_then(|cfg| authsec_native::mcp_client(url, cfg, clock));
    js(env, c).map(|c| NativeMcpClient { inner: Arc::new(c) })
}

#[napi]
impl NativeMcpClient {
    /// For the MCP server at `server_url`, with the agent's client options (`issuer` required).
    #[napi(constructor)]
    pub fn new(env: Env, server_url: String, options: Value, clock: Option<&ManualClock>) -> Result<Self> {
        let clock = clock.map(|m| Arc::new(m.inner.clone()) as Arc<dyn Clock>);
        let c = authsec_native::mcp_client_from_value(&server_url, &options, ProcessEnv, clock);
        js(&env, c).map(|c| NativeMcpClient { inner: Arc::new(c) })
    }

    /// With the client options from `AUTHSEC_*` variables (the JS layer passes them).
    #[napi(factory)]
    pub fn from_env(
        env: Env,
        server_url: String,
        vars: HashMap<String, String>,
        clock: Option<&ManualClock>,
    ) -> Result<Self> {
        client(&env, &server_url, ClientConfig::from_env_with(VarsEnv(vars)), clock)
    }

    /// The `Authorization` header for the next request (Promise; `null` before discovery).
    #[napi(ts_return_type = "Promise<string | null>")]
    pub fn authorization<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let c = self.inner.clone();
        promise(env, async move { c.authorization().await }, |_, h| Ok(h))
    }

    /// After a response (Promise of `{ retry, attempt }`); `attempt` is 0 for a new request.
    #[napi(ts_return_type = "Promise<McpNext>")]
    pub fn on_response<'env>(
        &self,
        env: &'env Env,
        status: u32,
        www_authenticate: Option<String>,
        sent_token: Option<String>,
        attempt: u32,
    ) -> Result<Object<'env>> {
        let (c, mut a) = (self.inner.clone(), Attempt::from_bits(attempt as u8));
        let next = async move {
            let n = c.on_response(
                status as u16,
                www_authenticate.as_deref(),
                sent_token.as_deref(),
                &mut a,
            );
            let retry = n.await? == Next::Retry;
            Ok(McpNext {
                retry,
                attempt: a.to_bits().into(),
            })
        };
        promise(env, next, |_, n| Ok(n))
    }

    /// Discover the server now (Promise), without waiting for a 401.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn discover<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let c = self.inner.clone();
        promise(env, async move { c.discover().await }, |_, ()| Ok(()))
    }

    /// The `resource` tokens are asked for, once discovered.
    #[napi]
    pub fn resource(&self) -> Option<String> {
        self.inner.resource()
    }

    /// The scopes asked for, once discovered.
    #[napi]
    pub fn scopes(&self) -> Vec<String> {
        self.inner.scopes()
    }
}
