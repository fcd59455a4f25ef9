//! The token client: the core's `TokenClient` (options, cache, single-flight refresh, retries, the
//! 401 decision) on the native transport.

use crate::clock::ManualClock;
use crate::convert::{define_hidden, f64_value, freeze_value, frozen_strings, new_object, set, str_value, Memo, Raw};
use crate::direct::{handle_value, tag, Handle};
use crate::errors::js;
use crate::spawn::promise;
use authsec_native::{
    token_client_with_clock, transport_for, ClientConfig, ClientConfigFromProcess, Clock, ExchangeRequest, ProcessEnv,
    Token, TokenClient, TokenParams, TokioSpawner, Unauthorized, VarsEnv,
};
use napi::bindgen_prelude::{External, Object, ObjectFinalize, ToNapiValue};
use napi::{sys, Env, Result};
use napi_derive::napi;
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Token objects remembered per client (one per cache key in use, plus the ones just replaced).
const TOKEN_MEMO: usize = 64;

/// A token as JavaScript sees it: a frozen `{ accessToken, tokenType, expiresAt (Unix seconds),
/// scopes, authorization }`, plus `issuedTokenType` when the server said what it issued (a token
/// exchange's RFC 8693 `issued_token_type`), and a hidden `native` (the core's token, for
/// [`NativeClient::authorize`]). The JS layer wraps it so `util.inspect` hides the token.
pub(crate) fn token_object(env: &Env, memo: &Mutex<Memo<Token>>, t: &Arc<Token>) -> Result<Raw> {
    let raw = memo.lock().get_or_build(env, t, |e| unsafe {
        let o = new_object(e)?;
        set(e, o, "accessToken", str_value(e, t.access_token.expose())?)?;
        set(e, o, "tokenType", str_value(e, &t.token_type)?)?;
        set(e, o, "expiresAt", f64_value(e, t.expires_at_ms as f64 / 1000.0)?)?;
        set(e, o, "scopes", frozen_strings(e, &t.scopes)?)?;
        set(e, o, "authorization", str_value(e, &t.authorization())?)?;
        if let Some(issued) = &t.issued_token_type {
            set(e, o, "issuedTokenType", str_value(e, issued)?)?;
        }
        define_hidden(e, o, "native", External::to_napi_value(e, External::new(t.clone()))?)?;
        freeze_value(e, o)
    })?;
    Ok(Raw(raw))
}

/// What `util.inspect` may show of a client.
#[napi(object)]
pub struct ClientInfo {
    pub client_id: String,
    pub token_url: Option<String>,
    pub issuer: Option<String>,
    pub auth_method: String,
    pub scopes: Vec<String>,
    pub audience: Option<String>,
    pub resource: Vec<String>,
}

/// Per-call parameters (`{scopes, audience, resource}`, read by the core). `null` (no argument)
/// is the default token without a call: the hot path copies no configuration.
pub(crate) fn token_params(env: &Env, client: &TokenClient, params: Option<Value>) -> Result<Option<TokenParams>> {
    match params {
        None | Some(Value::Null) => Ok(None),
        Some(p) => js(env, client.params_from(&p)),
    }
}

/// What the direct calls reach a client by: the same core client and token memo.
pub(crate) struct ClientHandle(pub(crate) TokenClient, pub(crate) Arc<Mutex<Memo<Token>>>);

impl Handle for ClientHandle {
    const TAG: sys::napi_type_tag = tag(0x6175_7468_7365_6301, 0x9d2c_51f0_e7a4_3b18);
}

#[napi(custom_finalize)]
pub struct NativeClient {
    client: TokenClient,
    memo: Arc<Mutex<Memo<Token>>>,
}

impl ObjectFinalize for NativeClient {
    fn finalize(self, env: Env) -> Result<()> {
        self.memo.lock().close(&env);
        Ok(())
    }
}

/// A client for `cfg` on the native transport, at the time of `clock` (the system clock when none):
/// the native layer's `token_client_with_clock` (a SPIFFE identity, `spiffe_jwt` or `spiffe_x509`,
/// wired to the Workload API), except that a test's `ManualClock` also sleeps for the client's
/// retries when the client needs no Workload API.
fn build(env: &Env, cfg: authsec_native::Result<ClientConfig>, clock: Option<&ManualClock>) -> Result<NativeClient> {
    let client = cfg.and_then(|cfg| match clock {
        Some(m) if !cfg.auth_method.is_spiffe() => {
            // The shared transport, or one with the TLS client certificate / extra CA the config names.
            let transport = transport_for(&cfg)?;
            TokenClient::new(cfg, transport, Arc::new(m.inner.clone()), Arc::new(m.inner.clone()))?
                .with_spawner(Arc::new(TokioSpawner))
        }
        _ => token_client_with_clock(cfg, clock.map(|m| Arc::new(m.inner.clone()) as Arc<dyn Clock>)),
    });
    Ok(NativeClient {
        client: js(env, client)?,
        memo: Arc::new(Mutex::new(Memo::new(TOKEN_MEMO, true))),
    })
}

#[napi]
impl NativeClient {
    /// From the options object as JavaScript passes it (the core reads it: camelCase or
    /// snake_case names, `domain`, `maxAttempts`, ...; an unknown option is an error naming it).
    #[napi(constructor)]
    pub fn new(env: Env, options: Value, clock: Option<&ManualClock>) -> Result<Self> {
        build(&env, ClientConfig::from_value(&options, ProcessEnv), clock)
    }

    /// From `AUTHSEC_*` variables (the JS layer passes them from `process.env`).
    #[napi(factory)]
    pub fn from_env(env: Env, vars: HashMap<String, String>, clock: Option<&ManualClock>) -> Result<Self> {
        build(&env, ClientConfig::from_env_with(VarsEnv(vars)), clock)
    }

    /// From a YAML config file like the product docs' (`authsec:` mapping, `${VAR}` interpolation).
    #[napi(factory)]
    pub fn from_config_file(env: Env, path: String, clock: Option<&ManualClock>) -> Result<Self> {
        build(&env, ClientConfig::from_yaml_file(&path), clock)
    }

    /// The handle for the direct call `clientTryGetNow` (see `direct.rs`).
    #[napi(ts_return_type = "object")]
    pub fn handle(&self, env: Env) -> Result<Raw> {
        handle_value(&env, ClientHandle(self.client.clone(), self.memo.clone()))
    }

    /// A token (Promise), from the cache or the token endpoint; one request in flight per cache key.
    #[napi(ts_return_type = "Promise<object>")]
    pub fn get_token<'env>(&self, env: &'env Env, params: Option<Value>) -> Result<Object<'env>> {
        let (client, memo) = (self.client.clone(), self.memo.clone());
        let params = token_params(env, &self.client, params)?;
        promise(env, async move { client.get_token_for(params).await }, move |env, t| {
            token_object(env, &memo, &t)
        })
    }

    /// An RFC 8693 token exchange (Promise of a token): `options` is one object the core reads
    /// (`ExchangeRequest::from_value`: `subjectToken`, `subjectTokenType`, `actorToken`,
    /// `actorTokenType`, `requestedTokenType`, `scopes`, `audience`, `resource`), through the
    /// core's cache (per subject token, never past its `exp`; `issued_token_type` checked).
    #[napi(ts_return_type = "Promise<object>")]
    pub fn exchange_token<'env>(&self, env: &'env Env, options: Value) -> Result<Object<'env>> {
        let request = js(env, ExchangeRequest::from_value(&options))?;
        self.exchange(env, request)
    }

    /// The downstream-token helper (Promise of a token): `options` is `{ inboundToken, audience,
    /// resource, scopes }`, read by the core (`ExchangeRequest::downstream_from_value`: a
    /// `config_error` when neither `audience` nor `resource` names the API).
    #[napi(ts_return_type = "Promise<object>")]
    pub fn downstream_token<'env>(&self, env: &'env Env, options: Value) -> Result<Object<'env>> {
        let request = js(env, ExchangeRequest::downstream_from_value(&options))?;
        self.exchange(env, request)
    }

    fn exchange<'env>(&self, env: &'env Env, request: ExchangeRequest) -> Result<Object<'env>> {
        let (client, memo) = (self.client.clone(), self.memo.clone());
        promise(
            env,
            async move { client.exchange_token(request).await },
            move |env, t| token_object(env, &memo, &t),
        )
    }

    /// Drop every cached token.
    #[napi]
    pub fn invalidate(&self) {
        self.client.invalidate()
    }

    /// Drop the cached token only if it is `accessToken`.
    #[napi]
    pub fn invalidate_token(&self, access_token: String) {
        self.client.invalidate_token(&access_token)
    }

    /// The headers that authorize a request with `token` (a token object's hidden `native`) to
    /// `url` (the core's `authorize`): `Authorization` with the token's scheme and, for a DPoP
    /// token, a fresh `DPoP` proof. As `[name, value]` pairs; build them anew for every attempt.
    #[napi]
    pub fn authorize(
        &self,
        env: Env,
        token: &External<Arc<Token>>,
        method: String,
        url: String,
    ) -> Result<Vec<Vec<String>>> {
        let headers = js(&env, self.client.authorize(token, &method, &url))?;
        Ok(headers.into_iter().map(|(k, v)| vec![k, v]).collect())
    }

    /// A resource at `url` answered a request that carried `accessToken` (the core's
    /// `on_resource_response`, for every answer): `headers` as name, value, name, value, ...;
    /// `true` to resend once (with fresh headers from `authorize`), `false` to hand the answer on.
    #[napi]
    pub fn on_resource_response(
        &self,
        url: String,
        access_token: String,
        status: u32,
        headers: Vec<String>,
        retries: u32,
    ) -> bool {
        let pairs: Vec<(&str, &str)> = headers
            .chunks_exact(2)
            .map(|p| (p[0].as_str(), p[1].as_str()))
            .collect();
        let status = u16::try_from(status).unwrap_or(0);
        let r = self
            .client
            .on_resource_response(&url, &access_token, status, &pairs, retries);
        r == Unauthorized::Retry
    }

    /// The RFC 7638 thumbprint of the client's DPoP key (`cnf.jkt` of its tokens), or `null`
    /// when the client does not use DPoP.
    #[napi]
    pub fn dpop_thumbprint(&self) -> Option<String> {
        self.client.dpop().map(|d| d.key().thumbprint().to_string())
    }

    /// Token requests sent so far, retries included (internal, for tests).
    #[napi]
    pub fn request_count(&self) -> f64 {
        self.client.request_count() as f64
    }

    #[napi]
    pub fn info(&self) -> ClientInfo {
        let c = self.client.config();
        ClientInfo {
            client_id: c.client_id.clone(),
            token_url: c.token_url.clone(),
            issuer: c.issuer.clone(),
            auth_method: c.auth_method.as_str().to_string(),
            scopes: c.scopes.clone(),
            audience: c.audience.clone(),
            resource: c.resource.clone(),
        }
    }
}
