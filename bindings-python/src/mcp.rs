//! MCP authorization: `McpServerAuth` (an MCP server as an OAuth protected resource, the core's
//! sans-IO decision) and `McpClient` (the agent side: discovery, tokens for the server's
//! `resource`, step-up). `authsec.mcp` (authsec/mcp.py) subclasses both with the SDK adapters; the
//! rules are the core's (`authsec_core::mcp`).

use crate::aio;
use crate::clock::ManualClock;
use crate::convert::{to_json, Scopes};
use crate::errors::IntoPyResult;
use authsec_native::core::mcp::client::{Attempt, McpClient as CoreClient, Next};
use authsec_native::core::mcp::operation::Operation;
use authsec_native::core::mcp::server::{McpServerAuth as CoreAuth, Response, Step};
use authsec_native::core::resource::challenge::ErrorParts;
use authsec_native::{mcp_client_from_value, Clock, ProcessEnv};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pythonize::pythonize;
use std::sync::Arc;

/// A response to send as it is: `(status, headers, body)`.
type Reply = (u16, Vec<(String, String)>, String);
/// What an allowed request does: `(method, target)` per JSON-RPC request.
type Operations = Vec<(String, Option<String>)>;

fn reply(r: Response) -> Reply {
    (r.status, r.headers, r.body)
}

fn strs(s: &Scopes) -> Vec<&str> {
    s.0.iter().map(String::as_str).collect()
}

/// An MCP server as an OAuth protected resource, from its options (the core reads them).
#[pyclass(frozen, subclass, name = "McpServerAuth", module = "authsec._native")]
pub struct McpServerAuth(CoreAuth);

#[pymethods]
impl McpServerAuth {
    #[new]
    #[pyo3(signature = (**options))]
    fn new(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        CoreAuth::from_value(&to_json(options.map(|d| d.as_any()))?)
            .py(py)
            .map(McpServerAuth)
    }

    /// The first step for a request: `(token, None)` to verify, or `(None, reply)` to answer with.
    #[pyo3(signature = (method, path, authorization))]
    fn begin(&self, method: &str, path: &str, authorization: Option<&str>) -> (Option<String>, Option<Reply>) {
        match self.0.begin(method, path, authorization) {
            Step::Verify(token) => (Some(token.to_string()), None),
            Step::Respond(r) => (None, Some(reply(r))),
        }
    }

    /// The second step: `verified` is the granted scopes or the verifier's `AuthsecError`; `body`
    /// the request body (`None`: none). `(operations, None)` when allowed, else `(None, reply)`.
    #[pyo3(signature = (verified, body))]
    fn decide(
        &self,
        verified: &Bound<'_, PyAny>,
        body: Option<&[u8]>,
    ) -> PyResult<(Option<Operations>, Option<Reply>)> {
        let outcome = if verified.is_instance_of::<pyo3::exceptions::PyBaseException>() {
            let code: String = verified.getattr("code")?.extract()?;
            let message: String = verified.getattr("message")?.extract()?;
            let missing_scopes: Vec<String> = verified.getattr("missing_scopes")?.extract()?;
            let parts = ErrorParts {
                code: &code,
                message: &message,
                missing_scopes,
            };
            self.0.decide(Err(&parts.to_error().py(verified.py())?), body)
        } else {
            let granted: Scopes = verified.extract()?;
            self.0.decide(Ok(&strs(&granted)), body)
        };
        Ok(match outcome {
            Ok(a) => (
                Some(a.operations.into_iter().map(|o| (o.method, o.target)).collect()),
                None,
            ),
            Err(r) => (None, Some(reply(r))),
        })
    }

    /// A list result (a dict) cut to what a token with `granted` may use: `(result, removed)`.
    fn filter_list<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        result: &Bound<'py, PyAny>,
        granted: Scopes,
    ) -> PyResult<(Bound<'py, PyAny>, usize)> {
        let mut value = to_json(Some(result))?;
        let removed = self.0.filter_list(method, &mut value, &strs(&granted));
        Ok((pythonize(py, &value)?, removed))
    }

    /// Whether a token with `granted` may do `method` on `target` (for typed lists).
    #[pyo3(signature = (method, target, granted))]
    fn allows(&self, method: &str, target: Option<&str>, granted: Scopes) -> bool {
        self.0.allows(&Operation::new(method, target), &strs(&granted))
    }

    /// The configuration as the core read it (for `authsec.mcp.McpServerAuth`'s properties).
    #[getter]
    fn _settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (a, m) = (&self.0, self.0.metadata());
        let d = PyDict::new(py);
        d.set_item("resource", m.resource())?;
        d.set_item("metadata_url", m.metadata_url())?;
        d.set_item("well_known_paths", m.well_known_paths())?;
        d.set_item("authorization_servers", m.authorization_servers())?;
        d.set_item("scopes_supported", m.scopes_supported())?;
        d.set_item("required_scopes", a.operation_scopes().base())?;
        d.set_item("metadata", m.to_json())?;
        d.set_item("verifier", pythonize(py, a.verifier_options())?)?;
        Ok(d)
    }
}

/// The agent side of MCP authorization for one MCP server, with the agent's client credentials.
#[pyclass(frozen, subclass, name = "McpClient", module = "authsec._native")]
pub struct McpClient(Arc<CoreClient>);

#[pymethods]
impl McpClient {
    /// `server_url`: the MCP endpoint; the settings are `ClientCredentials`' (`issuer` required).
    #[new]
    #[pyo3(signature = (server_url, *, _clock=None, **settings))]
    fn new(
        py: Python<'_>,
        server_url: &str,
        _clock: Option<PyRef<'_, ManualClock>>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let settings = to_json(settings.map(|d| d.as_any()))?;
        let clock = _clock.map(|c| Arc::new(c.0.clone()) as Arc<dyn Clock>);
        Ok(McpClient(Arc::new(
            mcp_client_from_value(server_url, &settings, ProcessEnv, clock).py(py)?,
        )))
    }

    /// `await`: the `Authorization` header for the next request (`None` before discovery).
    fn authorization<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.0.clone();
        aio::spawn(py, async move { c.authorization().await }, |py, r| {
            Ok(r.py(py)?.into_pyobject(py)?.into_any())
        })
    }

    /// `await`: after a response, `(retry, attempt)`: send again when `retry`, with `attempt`.
    #[pyo3(signature = (status, www_authenticate, sent_token, attempt))]
    fn on_response<'py>(
        &self,
        py: Python<'py>,
        status: u16,
        www_authenticate: Option<String>,
        sent_token: Option<String>,
        attempt: u8,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.0.clone();
        let work = async move {
            let mut a = Attempt::from_bits(attempt);
            let next = c.on_response(status, www_authenticate.as_deref(), sent_token.as_deref(), &mut a);
            next.await.map(|n| (n == Next::Retry, a.to_bits()))
        };
        aio::spawn(py, work, |py, r| Ok(r.py(py)?.into_pyobject(py)?.into_any()))
    }

    /// `await`: discover the server now (its well-known metadata), without waiting for a 401.
    fn discover<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.0.clone();
        aio::spawn(py, async move { c.discover().await }, |py, r| {
            r.py(py)?;
            Ok(py.None().into_bound(py))
        })
    }

    #[getter]
    fn server_url(&self) -> &str {
        self.0.server_url()
    }
    /// The `resource` tokens are asked for, once discovered.
    #[getter]
    fn resource(&self) -> Option<String> {
        self.0.resource()
    }
    /// The scopes asked for, once discovered.
    #[getter]
    fn scopes(&self) -> Vec<String> {
        self.0.scopes()
    }
}
