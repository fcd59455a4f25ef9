//! [`ManagementClient`]: one generic entry point, [`ManagementClient::call`], for every management
//! operation. It checks the arguments, builds the request, attaches a token for the management
//! API (from the core's [`TokenClient`]: cached and single-flight like every token) or the
//! bootstrap admin token, sends it through the injected [`Transport`], and reads the answer.
//!
//! Retries are few and bounded: after a 401 `invalid_token` the token is dropped and the request
//! sent once more with a fresh one; after a 429 the request is sent again after `Retry-After`
//! (at most [`MAX_RATE_LIMITED_RETRIES`] times, each wait at most [`MAX_RETRY_AFTER`]). So a call
//! sends a request at most `2 + MAX_RATE_LIMITED_RETRIES` times (once more for the GET before a
//! `roles.update` that names only some fields).

use super::config::{Credentials, ManagementConfig};
use super::operations::{find, Operation, OPERATION_NAMES};
use super::request::{prepare, unknown_operation, Prepared};
use super::response::{error_for, is_invalid_token, parse_success};
use crate::client::token_client::TokenClient;
use crate::http::{HttpRequest, HttpResponse, Method, Transport};
use crate::runtime::{Clock, Sleeper, Spawner};
use crate::{Result, Secret};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Times a rate-limited (429) request is sent again.
pub const MAX_RATE_LIMITED_RETRIES: u32 = 2;
/// The longest `Retry-After` waited for; a longer one ends the call with `rate_limited` (and the
/// error's `retry_after`).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// The wait after a 429 without `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Where the bearer comes from.
enum Bearer {
    Tokens(TokenClient),
    AdminToken(Secret),
}

/// The management client (see the module documentation). Cheap to share; `Debug` shows no secret.
pub struct ManagementClient {
    admin_url: String,
    bearer: Bearer,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    /// The configured client secret or admin token, scrubbed from the server's text in errors.
    scrub: Vec<Secret>,
}

impl std::fmt::Debug for ManagementClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("ManagementClient");
        d.field("admin_url", &self.admin_url);
        match &self.bearer {
            Bearer::Tokens(t) => d.field("client_id", &t.config().client_id),
            Bearer::AdminToken(_) => d.field("credentials", &"admin_token"),
        };
        d.finish_non_exhaustive()
    }
}

impl ManagementClient {
    pub fn new(
        config: ManagementConfig,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        sleeper: Arc<dyn Sleeper>,
    ) -> Result<ManagementClient> {
        let admin_url = config.admin_url();
        let mut scrub = Vec::new();
        let bearer = match config.credentials {
            Credentials::AdminToken(t) => {
                scrub.push(t.clone());
                Bearer::AdminToken(t)
            }
            Credentials::Client(cfg) => {
                scrub.extend(cfg.client_secret.clone());
                scrub.extend(cfg.private_key.clone());
                Bearer::Tokens(TokenClient::new(
                    *cfg,
                    transport.clone(),
                    clock.clone(),
                    sleeper.clone(),
                )?)
            }
        };
        Ok(ManagementClient {
            admin_url,
            bearer,
            transport,
            clock,
            sleeper,
            scrub,
        })
    }

    /// Refresh management tokens in the background on `spawner` (before first use).
    pub fn with_spawner(mut self, spawner: Arc<dyn Spawner>) -> Result<ManagementClient> {
        self.bearer = match self.bearer {
            Bearer::Tokens(t) => Bearer::Tokens(t.with_spawner(spawner)?),
            other => other,
        };
        Ok(self)
    }

    /// Change the token client before first use (to give it a file reader, a retry policy...).
    pub fn map_token_client(mut self, f: impl FnOnce(TokenClient) -> Result<TokenClient>) -> Result<ManagementClient> {
        self.bearer = match self.bearer {
            Bearer::Tokens(t) => Bearer::Tokens(f(t)?),
            other => other,
        };
        Ok(self)
    }

    /// Every operation's name (bindings check that they wrap each one).
    pub fn operations() -> &'static [&'static str] {
        &OPERATION_NAMES
    }

    /// The management API's URL, `{base_url}/admin` (the audience of its tokens).
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The token client, unless the admin token is the bearer.
    pub fn token_client(&self) -> Option<&TokenClient> {
        match &self.bearer {
            Bearer::Tokens(t) => Some(t),
            Bearer::AdminToken(_) => None,
        }
    }

    /// Run `operation` with `args` (an object of named arguments, `null` for none). Lists answer
    /// `{"items": [...], "next_cursor": "..." | null}`; deletions `null`.
    pub async fn call(&self, operation: &str, args: &Value) -> Result<Value> {
        let op = find(operation).ok_or_else(|| unknown_operation(operation))?;
        let mut prepared = prepare(op, &self.admin_url, args)?;
        if op.merge_from_get {
            self.merge_current(op, &mut prepared).await?;
        }
        let resp = self.send(op, &prepared).await?;
        parse_success(op, &resp)
    }

    /// For a PUT that replaces the object: fill the body arguments left out from the object as
    /// it is now.
    async fn merge_current(&self, op: &Operation, prepared: &mut Prepared) -> Result<()> {
        let Some(body) = prepared.body.as_mut() else {
            return Ok(());
        };
        let missing: Vec<&str> = op
            .args
            .iter()
            .filter(|a| a.place == super::operations::Place::Body && !body.contains_key(a.name))
            .map(|a| a.name)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let get = Prepared {
            method: Method::Get,
            url: prepared.url.clone(),
            body: None,
        };
        let current = self.send(op, &get).await?;
        let current: Value = serde_json::from_slice(&current.body).unwrap_or(Value::Null);
        for name in missing {
            if let Some(v) = current.get(name).filter(|v| !v.is_null()) {
                body.insert(name.to_string(), v.clone());
            }
        }
        Ok(())
    }

    /// The `Authorization` value, and the access token in it (to drop it after a 401).
    async fn authorization(&self) -> Result<(String, Option<Secret>)> {
        match &self.bearer {
            Bearer::AdminToken(t) => Ok((format!("Bearer {}", t.expose()), None)),
            Bearer::Tokens(c) => {
                let token = c.get_token().await?;
                Ok((
                    format!("Bearer {}", token.access_token.expose()),
                    Some(token.access_token.clone()),
                ))
            }
        }
    }

    fn http_request(prepared: &Prepared, authorization: String) -> HttpRequest {
        let mut headers = vec![
            ("accept".to_string(), "application/json".to_string()),
            ("authorization".to_string(), authorization),
        ];
        let body = match &prepared.body {
            Some(b) => {
                headers.push(("content-type".into(), "application/json".into()));
                serde_json::to_vec(b).unwrap_or_default()
            }
            None => Vec::new(),
        };
        HttpRequest {
            method: prepared.method,
            url: prepared.url.clone(),
            headers,
            body,
        }
    }

    /// Send with the bounded retries (see the module documentation); a success, or the error.
    async fn send(&self, op: &Operation, prepared: &Prepared) -> Result<HttpResponse> {
        let mut refreshed = false;
        let mut rate_limited = 0u32;
        loop {
            let (authorization, sent) = self.authorization().await?;
            let resp = self.transport.send(Self::http_request(prepared, authorization)).await?;
            if (200..300).contains(&resp.status) {
                return Ok(resp);
            }
            if !refreshed && is_invalid_token(&resp) {
                if let (Bearer::Tokens(c), Some(sent)) = (&self.bearer, &sent) {
                    c.invalidate_token(sent.expose());
                    refreshed = true;
                    continue;
                }
            }
            let now = self.clock.now_ms();
            if resp.status == 429 && rate_limited < MAX_RATE_LIMITED_RETRIES {
                let wait = resp.retry_after(now).unwrap_or(DEFAULT_RETRY_AFTER);
                if wait <= MAX_RETRY_AFTER {
                    rate_limited += 1;
                    self.sleeper.sleep(wait).await;
                    continue;
                }
            }
            let mut secrets: Vec<&str> = self.scrub.iter().map(Secret::expose).collect();
            if let Some(s) = &sent {
                secrets.push(s.expose());
            }
            if let Some(Value::String(s)) = prepared.body.as_ref().and_then(|b| b.get("client_secret")) {
                secrets.push(s);
            }
            return Err(error_for(op, &resp, now, &secrets));
        }
    }
}
