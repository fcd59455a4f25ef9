//! The token client: the core's `TokenClient` (cache, single-flight refresh, retries) on the
//! native transport.

use crate::clock::ManualClock;
use crate::convert::{f64_value, freeze_value, frozen_strings, new_object, set, str_value, Memo, Raw};
use crate::errors::js;
use crate::spawn::promise;
use authsec_native::core::scope::split_scopes;
use authsec_native::{
    ClientConfig, ClientConfigFromProcess, Clock, HttpTransport, RetryPolicy, Sleeper, SystemClock, Token, TokenClient,
    TokenParams, TokioSleeper, TokioSpawner,
};
use napi::bindgen_prelude::{Either, Object, ObjectFinalize};
use napi::{Env, Result};
use napi_derive::napi;
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub type Strings = Either<String, Vec<String>>;

/// A space-separated string or a list, as a list (the core's scope splitting).
pub fn strings(s: Strings) -> Vec<String> {
    match s {
        Either::A(s) => split_scopes(&s),
        Either::B(v) => v,
    }
}

/// Client options as JavaScript passes them (camelCase; an unknown option is an error that names
/// it). They become the core's config mapping (`ClientConfig::from_value`), so parsing, defaults
/// and validation are the core's.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientOptions {
    client_id: Option<String>,
    client_secret: Option<String>,
    client_secret_file: Option<String>,
    token_url: Option<String>,
    issuer: Option<String>,
    scopes: Option<StringOrList>,
    audience: Option<String>,
    resource: Option<StringOrList>,
    auth_method: Option<String>,
    private_key: Option<String>,
    private_key_file: Option<String>,
    private_key_alg: Option<String>,
    private_key_id: Option<String>,
    /// Seconds, or a string such as `"5m"`.
    refresh_buffer: Option<Value>,
    allow_insecure_http: Option<bool>,
    /// Attempts per token request, the first included (default 4).
    max_attempts: Option<u32>,
}

/// A space-separated string or a list of strings.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
pub enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    /// As a list (a string is split at whitespace, as the core splits scopes).
    pub fn into_vec(self) -> Vec<String> {
        match self {
            StringOrList::One(s) => split_scopes(&s),
            StringOrList::Many(v) => v,
        }
    }
    fn to_value(&self) -> Value {
        match self {
            StringOrList::One(s) => Value::String(s.clone()),
            StringOrList::Many(l) => Value::Array(l.iter().cloned().map(Value::String).collect()),
        }
    }
}

/// Options from JavaScript (`null` and `undefined` mean "not set").
pub fn parse_options<T: serde::de::DeserializeOwned + Default>(
    what: &str,
    v: Option<Value>,
) -> authsec_native::Result<T> {
    match v {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => {
            let v = match v {
                Value::Object(m) => Value::Object(m.into_iter().filter(|(_, x)| !x.is_null()).collect()),
                other => other,
            };
            serde_json::from_value(v).map_err(|e| authsec_native::Error::config(format!("{what}: {e}")))
        }
    }
}

fn config_value(o: &ClientOptions) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    let s = |v: &Option<String>| v.clone().map(Value::String);
    put("client_id", s(&o.client_id));
    put("client_secret", s(&o.client_secret));
    put("client_secret_file", s(&o.client_secret_file));
    put("token_url", s(&o.token_url));
    put("issuer", s(&o.issuer));
    put("scopes", o.scopes.as_ref().map(StringOrList::to_value));
    put("audience", s(&o.audience));
    put("resource", o.resource.as_ref().map(StringOrList::to_value));
    put("auth_method", s(&o.auth_method));
    put("private_key", s(&o.private_key));
    put("private_key_file", s(&o.private_key_file));
    put("private_key_alg", s(&o.private_key_alg));
    put("private_key_id", s(&o.private_key_id));
    put("refresh_buffer", o.refresh_buffer.clone());
    put("allow_insecure_http", o.allow_insecure_http.map(Value::Bool));
    Value::Object(m)
}

/// Per-call token parameters; absent fields keep the client's configured values.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenRequestOptions {
    scopes: Option<StringOrList>,
    audience: Option<String>,
    resource: Option<StringOrList>,
}

/// Token objects remembered per client (one per cache key in use, plus the ones just replaced).
const TOKEN_MEMO: usize = 64;

/// A token as JavaScript sees it: a frozen `{ accessToken, tokenType, expiresAt (Unix seconds),
/// scopes, authorization }` (the JS layer wraps it so `util.inspect` hides the token).
fn token_object(env: &Env, memo: &Mutex<Memo<Token>>, t: &Arc<Token>) -> Result<Raw> {
    let raw = memo.lock().get_or_build(env, t, |e| unsafe {
        let o = new_object(e)?;
        set(e, o, "accessToken", str_value(e, t.access_token.expose())?)?;
        set(e, o, "tokenType", str_value(e, &t.token_type)?)?;
        set(e, o, "expiresAt", f64_value(e, t.expires_at_ms as f64 / 1000.0)?)?;
        set(e, o, "scopes", frozen_strings(e, &t.scopes)?)?;
        set(e, o, "authorization", str_value(e, &t.authorization())?)?;
        freeze_value(e, o)
    })?;
    Ok(Raw(raw))
}

/// The shape of a token object (for the generated type declarations).
#[napi(object)]
#[allow(dead_code)]
pub struct TokenObject {
    pub access_token: String,
    pub token_type: String,
    pub expires_at: f64,
    pub scopes: Vec<String>,
    pub authorization: String,
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

impl NativeClient {
    fn wrap(client: TokenClient) -> Self {
        NativeClient {
            client,
            memo: Arc::new(Mutex::new(Memo::new(TOKEN_MEMO, true))),
        }
    }
}

fn build(
    cfg: ClientConfig,
    clock: Option<&ManualClock>,
    max_attempts: Option<u32>,
) -> authsec_native::Result<TokenClient> {
    let (c, s): (Arc<dyn Clock>, Arc<dyn Sleeper>) = match clock {
        Some(m) => (Arc::new(m.inner.clone()), Arc::new(m.inner.clone())),
        None => (Arc::new(SystemClock), Arc::new(TokioSleeper)),
    };
    let mut client = TokenClient::new(cfg, HttpTransport::shared(), c, s)?;
    if let Some(n) = max_attempts {
        client = client.with_retry(RetryPolicy {
            max_attempts: n.max(1),
            ..RetryPolicy::default()
        })?;
    }
    client.with_spawner(Arc::new(TokioSpawner))
}

#[napi]
impl NativeClient {
    #[napi(constructor)]
    pub fn new(env: Env, options: Option<Value>, clock: Option<&ManualClock>) -> Result<Self> {
        let options: ClientOptions = js(&env, parse_options("ClientCredentials options", options))?;
        let cfg = js(
            &env,
            ClientConfig::from_value(&config_value(&options), authsec_native::ProcessEnv),
        )?;
        Ok(NativeClient::wrap(js(&env, build(cfg, clock, options.max_attempts))?))
    }

    /// From `AUTHSEC_*` variables (the JS layer passes them from `process.env`).
    #[napi(factory)]
    pub fn from_env(env: Env, vars: HashMap<String, String>, clock: Option<&ManualClock>) -> Result<Self> {
        let cfg = js(&env, ClientConfig::from_env_with(authsec_native::VarsEnv(vars)))?;
        Ok(NativeClient::wrap(js(&env, build(cfg, clock, None))?))
    }

    /// From a YAML config file like the product docs' (`authsec:` mapping, `${VAR}` interpolation).
    #[napi(factory)]
    pub fn from_config_file(env: Env, path: String, clock: Option<&ManualClock>) -> Result<Self> {
        let cfg = js(&env, ClientConfig::from_yaml_file(&path))?;
        Ok(NativeClient::wrap(js(&env, build(cfg, clock, None))?))
    }

    fn params(&self, p: TokenRequestOptions) -> TokenParams {
        let mut params = TokenParams::from_config(self.client.config());
        if let Some(s) = p.scopes {
            params.scopes = s.into_vec();
        }
        if let Some(a) = p.audience {
            params.audience = Some(a);
        }
        if let Some(r) = p.resource {
            params.resource = r.into_vec();
        }
        params
    }

    fn parse_params(&self, env: &Env, p: Option<Value>) -> Result<Option<TokenParams>> {
        match p {
            None | Some(Value::Null) => Ok(None),
            p => Ok(Some(self.params(js(env, parse_options("getToken options", p))?))),
        }
    }

    /// The cached token when the core can hand it out without waiting; `null` otherwise.
    #[napi(ts_return_type = "TokenObject | null")]
    pub fn try_get_now(&self, env: Env, params: Option<Value>) -> Result<Option<Raw>> {
        let t = match self.parse_params(&env, params)? {
            None => self.client.try_get_now(),
            Some(p) => self.client.try_get_now_for(p),
        };
        t.map(|t| token_object(&env, &self.memo, &t)).transpose()
    }

    /// A token (Promise), from the cache or the token endpoint; one request in flight per cache key.
    #[napi(ts_return_type = "Promise<TokenObject>")]
    pub fn get_token<'env>(&self, env: &'env Env, params: Option<Value>) -> Result<Object<'env>> {
        let client = self.client.clone();
        let memo = self.memo.clone();
        let params = self.parse_params(env, params)?;
        promise(
            env,
            async move {
                match params {
                    None => client.get_token().await,
                    Some(p) => client.get_token_for(p).await,
                }
            },
            move |env, t| token_object(env, &memo, &t),
        )
    }

    /// Drop every cached token.
    #[napi]
    pub fn invalidate(&self) {
        self.client.invalidate()
    }

    /// Drop the cached token only if it is `accessToken` (after a 401 for it).
    #[napi]
    pub fn invalidate_token(&self, access_token: String) {
        self.client.invalidate_token(&access_token)
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
