//! `ClientCredentials` (the core's `TokenClient`) and its tokens. `authsec.ClientCredentials`
//! (authsec/client.py) subclasses it with the presentation: properties, `repr()`, `auth()`.
//!
//! Token exchange (RFC 8693): `exchange_token` and `downstream_token` (authsec/client.py) gather
//! their arguments in one dict for the core's readers (`ExchangeRequest::from_value`,
//! `ExchangeRequest::downstream_from_value`) and run the exchange through the core's cache.

use crate::aio;
use crate::clock::ManualClock;
use crate::convert::to_json;
use crate::errors::IntoPyResult;
use authsec_native::core::client::ExchangeRequest;
use authsec_native::{
    block_on, token_client_with_clock, ClientConfig, ClientConfigFromProcess, Clock, ProcessEnv, TokenClient,
    TokenParams, Unauthorized,
};
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use std::sync::Arc;

type CoreToken = authsec_native::Token;

/// A token as Python sees it: an `authsec.client.Token` (it never shows the token).
fn token(py: Python<'_>, t: &CoreToken) -> PyResult<Py<PyAny>> {
    static TOKEN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let fields = (
        t.access_token.expose(),
        &t.token_type,
        t.expires_at(),
        t.issued_at_ms.div_euclid(1000),
        &t.scopes,
        t.authorization(),
        &t.issued_token_type,
    );
    Ok(TOKEN.import(py, "authsec.client", "Token")?.call1(fields)?.unbind())
}

/// An exchange's options, read by the core: `ExchangeRequest::from_value`, or
/// `ExchangeRequest::downstream_from_value` for `downstream_token`.
fn exchange_request(options: &Bound<'_, PyDict>, downstream: bool) -> PyResult<ExchangeRequest> {
    let (py, options) = (options.py(), to_json(Some(options.as_any()))?);
    let request = match downstream {
        false => ExchangeRequest::from_value(&options),
        true => ExchangeRequest::downstream_from_value(&options),
    };
    request.py(py)
}

/// OAuth 2.0 client credentials with the core's token cache: one request in flight however many
/// threads or tasks ask, refreshed before expiry. Safe to share across threads.
#[pyclass(frozen, subclass, name = "ClientCredentials", module = "authsec._native")]
pub struct ClientCredentials {
    client: TokenClient,
    /// The Python object for the default token last handed out, so a cache hit allocates nothing.
    last: Mutex<Option<(Arc<CoreToken>, Py<PyAny>)>>,
}

impl ClientCredentials {
    /// Per-call options for the core (`None`: the default token).
    fn params(&self, py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Option<TokenParams>> {
        match options {
            None => Ok(None),
            Some(o) => self.client.params_from(&to_json(Some(o.as_any()))?).py(py),
        }
    }

    /// The cached token without waiting, if there is one.
    fn ready(&self, params: &Option<TokenParams>) -> Option<Arc<CoreToken>> {
        match params {
            None => self.client.try_get_now(),
            Some(p) => self.client.try_get_now_for(p.clone()),
        }
    }

    /// The Python `Token` for `t`; for the default token (`default`), the last one when it is the same.
    fn wrap(&self, py: Python<'_>, t: Arc<CoreToken>, default: bool) -> PyResult<Py<PyAny>> {
        if let Some((a, p)) = &*self.last.lock() {
            if default && Arc::ptr_eq(a, &t) {
                return Ok(p.clone_ref(py));
            }
        }
        // Allocate without holding the lock (allocation may run arbitrary Python code via the GC).
        let p = token(py, &t)?;
        if default {
            *self.last.lock() = Some((t, p.clone_ref(py)));
        }
        Ok(p)
    }
}

#[pymethods]
impl ClientCredentials {
    /// The settings, read by the core: keyword arguments (the config file's names), or the
    /// `AUTHSEC_*` environment variables (`_env=True`), or a YAML file (`_file=path`).
    /// `authsec.ClientCredentials` (authsec/client.py) is the public face of this class.
    #[new]
    #[pyo3(signature = (*, _clock=None, _env=false, _file=None, **settings))]
    fn new(
        py: Python<'_>,
        _clock: Option<PyRef<'_, ManualClock>>,
        _env: bool,
        _file: Option<std::path::PathBuf>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let cfg = match (_env, _file) {
            (true, _) => ClientConfig::from_env(),
            (false, Some(path)) => ClientConfig::from_yaml_file(&path.to_string_lossy()),
            (false, None) => ClientConfig::from_value(&to_json(settings.map(|d| d.as_any()))?, ProcessEnv),
        };
        let clock = _clock.map(|c| Arc::new(c.0.clone()) as Arc<dyn Clock>);
        let client = token_client_with_clock(cfg.py(py)?, clock).py(py)?;
        Ok(ClientCredentials {
            client,
            last: Mutex::new(None),
        })
    }

    /// A token from the cache, fetched (once, however many threads ask) when there is none or
    /// it is due for refresh. Other `scopes` / `audience` / `resource` are cached separately.
    #[pyo3(signature = (**options))]
    fn get_token(&self, py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyAny>> {
        let params = self.params(py, options)?;
        let default = params.is_none();
        if let Some(t) = self.ready(&params) {
            return self.wrap(py, t, default);
        }
        let client = self.client.clone();
        let got = py.detach(move || block_on(client.get_token_for(params)));
        self.wrap(py, got.py(py)?, default)
    }

    /// `await client.get_token_async()`: like `get_token()`, without blocking the event loop.
    /// Returns an `asyncio.Future`.
    #[pyo3(signature = (**options))]
    fn get_token_async<'py>(
        slf: &Bound<'py, Self>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (py, me) = (slf.py(), slf.get());
        let params = me.params(py, options)?;
        let default = params.is_none();
        if let Some(t) = me.ready(&params) {
            return aio::ready(py, me.wrap(py, t, default).map(|p| p.into_bound(py).into_any()));
        }
        let client = me.client.clone();
        let owner = slf.clone().unbind();
        aio::spawn(py, async move { client.get_token_for(params).await }, move |py, r| {
            Ok(owner.get().wrap(py, r.py(py)?, default)?.into_bound(py).into_any())
        })
    }

    /// RFC 8693 token exchange through the core's cache (the interpreter released meanwhile),
    /// with the options `authsec.ClientCredentials.exchange_token` (or, `downstream`,
    /// `downstream_token`) gathers in one dict (authsec/client.py).
    fn _exchange(&self, py: Python<'_>, options: &Bound<'_, PyDict>, downstream: bool) -> PyResult<Py<PyAny>> {
        let request = exchange_request(options, downstream)?;
        let client = self.client.clone();
        let got = py.detach(move || block_on(client.exchange_token(request)));
        self.wrap(py, got.py(py)?, false)
    }

    /// The same on the shared runtime, as an `asyncio.Future`.
    fn _exchange_async<'py>(
        slf: &Bound<'py, Self>,
        options: &Bound<'py, PyDict>,
        downstream: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = exchange_request(options, downstream)?;
        let client = slf.get().client.clone();
        let owner = slf.clone().unbind();
        aio::spawn(
            slf.py(),
            async move { client.exchange_token(request).await },
            move |py, r| Ok(owner.get().wrap(py, r.py(py)?, false)?.into_bound(py).into_any()),
        )
    }

    /// Drop every cached token (the next call fetches a new one).
    fn invalidate(&self) {
        self.client.invalidate();
    }

    /// Drop the cached token only if it is `access_token` (after a 401 for it), so a newer token
    /// another caller already fetched is kept. (`authsec.ClientCredentials` also takes a `Token`.)
    fn invalidate_token(&self, access_token: &str) {
        self.client.invalidate_token(access_token);
    }

    /// A resource answered 401 to a request that carried `access_token`, with this
    /// `WWW-Authenticate` value, after `retries` retries of the request: `True` to get a token
    /// again and resend it (the rejected token is already dropped), `False` to give up.
    /// (`authsec.ClientCredentials` also takes a `Token`.)
    #[pyo3(signature = (access_token, www_authenticate=None, retries=0))]
    fn on_unauthorized(&self, access_token: &str, www_authenticate: Option<&str>, retries: u32) -> bool {
        self.client.on_unauthorized(access_token, www_authenticate, retries) == Unauthorized::Retry
    }

    /// The headers that authorize a request with the token (`access_token`, `token_type`) to
    /// `method url`: `Authorization` with the token's scheme and, for a DPoP token, a fresh proof.
    fn _authorize(
        &self,
        py: Python<'_>,
        access_token: &str,
        token_type: &str,
        method: &str,
        url: &str,
    ) -> PyResult<Vec<(String, String)>> {
        let token = CoreToken {
            access_token: access_token.into(),
            token_type: token_type.into(),
            issued_at_ms: 0,
            expires_at_ms: 0,
            scopes: vec![],
            issued_token_type: None,
        };
        self.client.authorize(&token, method, url).py(py)
    }

    /// A resource at `url` answered a request that carried `access_token` with `status` and
    /// `headers`, after `retries` retries: `True` to resend (with fresh `authorize` headers).
    #[pyo3(signature = (url, access_token, status, headers, retries=0))]
    fn on_resource_response(
        &self,
        url: &str,
        access_token: &str,
        status: u16,
        headers: Vec<(String, String)>,
        retries: u32,
    ) -> bool {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.client
            .on_resource_response(url, access_token, status, &headers, retries)
            == Unauthorized::Retry
    }

    /// The RFC 7638 thumbprint of the client's DPoP key (`cnf.jkt` of its tokens); `None` without DPoP.
    #[getter]
    fn dpop_thumbprint(&self) -> Option<&str> {
        self.client.dpop().map(|d| d.key().thumbprint())
    }

    /// The settings as the core read them (for `authsec.ClientCredentials`' properties and repr).
    #[getter]
    fn _settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = self.client.config();
        let d = PyDict::new(py);
        d.set_item("client_id", &c.client_id)?;
        d.set_item("token_url", &c.token_url)?;
        d.set_item("issuer", &c.issuer)?;
        d.set_item("scopes", &c.scopes)?;
        d.set_item("audience", &c.audience)?;
        d.set_item("resource", &c.resource)?;
        d.set_item("auth_method", c.auth_method.as_str())?;
        d.set_item("refresh_buffer", c.refresh_buffer.as_secs_f64())?;
        d.set_item("dpop", c.dpop)?;
        d.set_item("spiffe_id", &c.spiffe.spiffe_id)?;
        Ok(d)
    }
    /// Test hook: token requests sent so far (every retry counts).
    #[getter]
    fn _request_count(&self) -> u64 {
        self.client.request_count()
    }
}
