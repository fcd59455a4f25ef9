//! `ClientCredentials` (the core's `TokenClient`) and `Token`.

use crate::aio;
use crate::clock::ManualClock;
use crate::convert::{json_text, repr_list, repr_str, Scopes, Seconds, StrList};
use crate::errors::{self, IntoPyResult};
use authsec_native::{
    block_on, token_client, AuthMethod, ClientConfig, ClientConfigFromProcess, HttpTransport, TokenClient, TokenParams,
    TokioSleeper, TokioSpawner,
};
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyString;
use serde_json::{Map, Value};
use std::sync::Arc;

type CoreToken = authsec_native::Token;

/// An access token from the cache. `repr()` and `str()` never show the token itself.
#[pyclass(frozen, name = "Token", module = "authsec._native")]
pub struct Token {
    token: Arc<CoreToken>,
    access_token: PyOnceLock<Py<PyString>>,
}

impl Token {
    fn new(token: Arc<CoreToken>) -> Self {
        Token {
            token,
            access_token: PyOnceLock::new(),
        }
    }
}

#[pymethods]
impl Token {
    /// The access token (send it as `Authorization: Bearer <access_token>`).
    #[getter]
    fn access_token<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        self.access_token
            .get_or_init(py, || PyString::new(py, self.token.access_token.expose()).unbind())
            .bind(py)
            .clone()
    }
    /// `Bearer` (or `DPoP`).
    #[getter]
    fn token_type(&self) -> &str {
        &self.token.token_type
    }
    /// When the token expires, in Unix seconds.
    #[getter]
    fn expires_at(&self) -> i64 {
        self.token.expires_at()
    }
    /// When the client received the token, in Unix seconds.
    #[getter]
    fn issued_at(&self) -> i64 {
        self.token.issued_at_ms.div_euclid(1000)
    }
    /// The granted scopes.
    #[getter]
    fn scopes(&self) -> Vec<String> {
        self.token.scopes.clone()
    }
    /// The `Authorization` header value: `Bearer <access_token>`.
    #[getter]
    fn authorization(&self) -> String {
        self.token.authorization()
    }
    fn __repr__(&self) -> String {
        format!(
            "Token(token_type={}, access_token='***', expires_at={}, scopes={})",
            repr_str(&self.token.token_type),
            self.token.expires_at(),
            repr_list(&self.token.scopes)
        )
    }
    fn __str__(&self) -> String {
        self.__repr__()
    }
}

/// OAuth 2.0 client credentials with the core's token cache: one request in flight however many
/// threads or tasks ask, refreshed before expiry. Safe to share across threads.
#[pyclass(frozen, name = "ClientCredentials", module = "authsec._native")]
pub struct ClientCredentials {
    client: TokenClient,
    /// The Python object for the token last handed out, so a cache hit allocates nothing.
    last: Mutex<Option<(Arc<CoreToken>, Py<Token>)>>,
}

impl ClientCredentials {
    fn build(py: Python<'_>, cfg: ClientConfig, clock: Option<&ManualClock>) -> PyResult<Self> {
        let client = match clock {
            None => token_client(cfg),
            Some(c) => TokenClient::new(
                cfg,
                HttpTransport::shared(),
                Arc::new(c.inner.clone()),
                Arc::new(TokioSleeper),
            )
            .and_then(|t| t.with_spawner(Arc::new(TokioSpawner))),
        }
        .py(py)?;
        Ok(ClientCredentials {
            client,
            last: Mutex::new(None),
        })
    }

    /// A Python `Token` for `t` from another cache slot (other scopes/audience/resource).
    fn wrap_other(py: Python<'_>, t: Arc<CoreToken>) -> PyResult<Py<Token>> {
        Py::new(py, Token::new(t))
    }

    /// The Python `Token` for the default slot's `t`, reusing the last one when it is the same.
    fn wrap(&self, py: Python<'_>, t: Arc<CoreToken>) -> PyResult<Py<Token>> {
        if let Some((a, p)) = &*self.last.lock() {
            if Arc::ptr_eq(a, &t) {
                return Ok(p.clone_ref(py));
            }
        }
        // Allocate without holding the lock (allocation may run arbitrary Python code via the GC).
        let p = Py::new(py, Token::new(t.clone()))?;
        *self.last.lock() = Some((t, p.clone_ref(py)));
        Ok(p)
    }

    fn params(
        &self,
        scopes: Option<Scopes>,
        audience: Option<String>,
        resource: Option<StrList>,
    ) -> Option<TokenParams> {
        if scopes.is_none() && audience.is_none() && resource.is_none() {
            return None;
        }
        let mut p = TokenParams::from_config(self.client.config());
        if let Some(s) = scopes {
            p.scopes = s.0;
        }
        if let Some(a) = audience {
            p.audience = Some(a);
        }
        if let Some(r) = resource {
            p.resource = r.0;
        }
        Some(p)
    }
}

#[pymethods]
impl ClientCredentials {
    #[new]
    #[pyo3(signature = (
        *, client_id, client_secret=None, token_url=None, scopes=None, audience=None, resource=None,
        auth_method=None, private_key=None, refresh_buffer=None, issuer=None, private_key_alg=None,
        private_key_id=None, allow_insecure_http=false, _clock=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        client_id: String,
        client_secret: Option<String>,
        token_url: Option<String>,
        scopes: Option<Scopes>,
        audience: Option<String>,
        resource: Option<StrList>,
        auth_method: Option<String>,
        private_key: Option<&Bound<'_, PyAny>>,
        refresh_buffer: Option<Seconds>,
        issuer: Option<String>,
        private_key_alg: Option<String>,
        private_key_id: Option<String>,
        allow_insecure_http: bool,
        _clock: Option<PyRef<'_, ManualClock>>,
    ) -> PyResult<Self> {
        // The core's own settings parser (the config file's field names), so defaults, inference
        // (a private key and no secret means private_key_jwt) and validation are the core's.
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_string(), v);
        };
        put("client_id", Value::String(client_id));
        let strings = [
            ("client_secret", client_secret),
            ("token_url", token_url),
            ("issuer", issuer),
            ("audience", audience),
            ("auth_method", auth_method),
            ("private_key", private_key.map(json_text).transpose()?),
            ("private_key_alg", private_key_alg),
            ("private_key_id", private_key_id),
        ];
        for (k, v) in strings {
            if let Some(v) = v {
                put(k, Value::String(v));
            }
        }
        if let Some(s) = scopes {
            put("scopes", Value::Array(s.0.into_iter().map(Value::String).collect()));
        }
        if let Some(r) = resource {
            put("resource", Value::Array(r.0.into_iter().map(Value::String).collect()));
        }
        put("allow_insecure_http", Value::Bool(allow_insecure_http));
        let mut cfg = ClientConfig::from_value(&Value::Object(m), authsec_native::ProcessEnv).py(py)?;
        if let Some(b) = refresh_buffer {
            cfg.refresh_buffer = b.0;
        }
        Self::build(py, cfg, _clock.as_deref())
    }

    /// Settings from the `AUTHSEC_*` environment variables.
    #[staticmethod]
    #[pyo3(signature = (*, _clock=None))]
    fn from_env(py: Python<'_>, _clock: Option<PyRef<'_, ManualClock>>) -> PyResult<Self> {
        let cfg = ClientConfig::from_env().py(py)?;
        Self::build(py, cfg, _clock.as_deref())
    }

    /// Settings from a YAML file (an `authsec:` mapping; `${VAR}` taken from the environment).
    #[staticmethod]
    #[pyo3(signature = (path, *, _clock=None))]
    fn from_config(py: Python<'_>, path: std::path::PathBuf, _clock: Option<PyRef<'_, ManualClock>>) -> PyResult<Self> {
        let cfg = ClientConfig::from_yaml_file(&path.to_string_lossy()).py(py)?;
        Self::build(py, cfg, _clock.as_deref())
    }

    /// A token from the cache, fetched (once, however many threads ask) when there is none or
    /// it is due for refresh. Other `scopes` / `audience` / `resource` are cached separately.
    #[pyo3(signature = (*, scopes=None, audience=None, resource=None))]
    fn get_token(
        &self,
        py: Python<'_>,
        scopes: Option<Scopes>,
        audience: Option<String>,
        resource: Option<StrList>,
    ) -> PyResult<Py<Token>> {
        let params = self.params(scopes, audience, resource);
        match &params {
            None => {
                if let Some(t) = self.client.try_get_now() {
                    return self.wrap(py, t);
                }
            }
            Some(p) => {
                if let Some(t) = self.client.try_get_now_for(p.clone()) {
                    return Self::wrap_other(py, t);
                }
            }
        }
        let client = self.client.clone();
        let default = params.is_none();
        let got = py.detach(move || match params {
            None => block_on(client.get_token()),
            Some(p) => block_on(client.get_token_for(p)),
        });
        match got {
            Ok(t) if default => self.wrap(py, t),
            Ok(t) => Self::wrap_other(py, t),
            Err(e) => Err(errors::to_py(py, &e)),
        }
    }

    /// `await client.get_token_async()`: like `get_token()`, without blocking the event loop.
    /// Returns an `asyncio.Future`.
    #[pyo3(signature = (*, scopes=None, audience=None, resource=None))]
    fn get_token_async<'py>(
        slf: &Bound<'py, Self>,
        scopes: Option<Scopes>,
        audience: Option<String>,
        resource: Option<StrList>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let me = slf.get();
        let params = me.params(scopes, audience, resource);
        let ready = match &params {
            None => me.client.try_get_now().map(|t| me.wrap(py, t)),
            Some(p) => me.client.try_get_now_for(p.clone()).map(|t| Self::wrap_other(py, t)),
        };
        if let Some(t) = ready {
            return aio::ready(py, t.map(|p| p.into_bound(py).into_any()));
        }
        let client = me.client.clone();
        let owner = slf.clone().unbind();
        let default = params.is_none();
        aio::spawn(
            py,
            async move {
                match params {
                    None => client.get_token().await,
                    Some(p) => client.get_token_for(p).await,
                }
            },
            move |py, r| match r {
                Ok(t) if default => owner.get().wrap(py, t).map(|p| p.into_bound(py).into_any()),
                Ok(t) => Self::wrap_other(py, t).map(|p| p.into_bound(py).into_any()),
                Err(e) => Err(errors::to_py(py, &e)),
            },
        )
    }

    /// Drop every cached token (the next call fetches a new one).
    fn invalidate(&self) {
        self.client.invalidate();
    }

    /// Drop the cached token only if it is `access_token` (after a 401 for it), so a newer token
    /// another caller already fetched is kept.
    fn invalidate_token(&self, access_token: &Bound<'_, PyAny>) -> PyResult<()> {
        let s: String = match access_token.cast::<Token>() {
            Ok(t) => t.get().token.access_token.expose().to_string(),
            Err(_) => access_token.extract()?,
        };
        self.client.invalidate_token(&s);
        Ok(())
    }

    /// An auth object for `requests` and `httpx` (sync and async) that sends the cached token and,
    /// on a 401, retries once with a fresh one: `requests.get(url, auth=client.auth())`.
    fn auth<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        static BEARER_AUTH: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        BEARER_AUTH
            .import(slf.py(), "authsec.auth", "BearerAuth")?
            .call1((slf,))
    }

    #[getter]
    fn client_id(&self) -> &str {
        &self.client.config().client_id
    }
    #[getter]
    fn token_url(&self) -> Option<&str> {
        self.client.config().token_url.as_deref()
    }
    #[getter]
    fn issuer(&self) -> Option<&str> {
        self.client.config().issuer.as_deref()
    }
    #[getter]
    fn scopes(&self) -> Vec<String> {
        self.client.config().scopes.clone()
    }
    #[getter]
    fn audience(&self) -> Option<&str> {
        self.client.config().audience.as_deref()
    }
    #[getter]
    fn resource(&self) -> Vec<String> {
        self.client.config().resource.clone()
    }
    #[getter]
    fn auth_method(&self) -> &'static str {
        self.client.config().auth_method.as_str()
    }
    /// Seconds before expiry at which the token is refreshed (capped at half its lifetime).
    #[getter]
    fn refresh_buffer(&self) -> f64 {
        self.client.config().refresh_buffer.as_secs_f64()
    }
    /// Test hook: token requests sent so far (every retry counts).
    #[getter]
    fn _request_count(&self) -> u64 {
        self.client.request_count()
    }

    fn __repr__(&self) -> String {
        let c = self.client.config();
        let endpoint = match (&c.token_url, &c.issuer) {
            (Some(u), _) => format!("token_url={}", repr_str(u)),
            (None, Some(i)) => format!("issuer={}", repr_str(i)),
            (None, None) => "token_url=None".to_string(),
        };
        let credential = if c.auth_method == AuthMethod::PrivateKeyJwt {
            "private_key='***'"
        } else {
            "client_secret='***'"
        };
        format!(
            "ClientCredentials(client_id={}, {endpoint}, scopes={}, auth_method={}, {credential})",
            repr_str(&c.client_id),
            repr_list(&c.scopes),
            repr_str(c.auth_method.as_str())
        )
    }
    fn __str__(&self) -> String {
        self.__repr__()
    }
}
