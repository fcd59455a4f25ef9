//! `LocalServer`: the local authorization server (`authsec-server`) in-process, for tests.

use crate::clock::ManualClock;
use crate::convert::json_to_py;
use crate::errors::IntoPyResult;
use authsec_native::{runtime, Clock, SystemClock};
use authsec_server::{audit::Audit, RunningServer, ServerConfig, StartOptions};
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::sync::Arc;

/// The local OAuth authorization server, running on the shared runtime until `stop()`.
#[pyclass(frozen, name = "LocalServer", module = "authsec._native")]
pub struct LocalServer {
    server: Mutex<Option<RunningServer>>,
    audit: Option<Arc<parking_lot::Mutex<Vec<u8>>>>,
    issuer: String,
    token_url: String,
    jwks_uri: String,
    host: String,
    port: u16,
}

#[pymethods]
impl LocalServer {
    /// Start listening. `config` is the server's YAML (or JSON) configuration, `${VAR}` taken from
    /// the environment. With `capture_audit`, audit lines are kept for `audit_events()` instead of
    /// going to the configured `audit_log`.
    #[new]
    #[pyo3(signature = (config=None, *, host="127.0.0.1", port=0, capture_audit=false, _clock=None))]
    fn new(
        py: Python<'_>,
        config: Option<&str>,
        host: &str,
        port: u16,
        capture_audit: bool,
        _clock: Option<PyRef<'_, ManualClock>>,
    ) -> PyResult<Self> {
        let cfg = ServerConfig::from_yaml_str(config.unwrap_or(""), authsec_native::ProcessEnv).py(py)?;
        let clock: Arc<dyn Clock> = match &_clock {
            Some(c) => Arc::new(c.inner.clone()),
            None => Arc::new(SystemClock),
        };
        let (audit, buf) = if capture_audit {
            let (a, b) = Audit::memory();
            (Some(Arc::new(a)), Some(b))
        } else {
            (None, None)
        };
        let opts = StartOptions {
            host: host.to_string(),
            port,
            clock,
            audit,
        };
        let server = py
            .detach(|| runtime().block_on(authsec_server::start(cfg, opts)))
            .py(py)?;
        Ok(LocalServer {
            issuer: server.issuer().to_string(),
            token_url: server.token_endpoint(),
            jwks_uri: server.jwks_uri(),
            host: server.addr().ip().to_string(),
            port: server.addr().port(),
            server: Mutex::new(Some(server)),
            audit: buf,
        })
    }

    /// Stop accepting connections (idempotent).
    fn stop(&self, py: Python<'_>) {
        let server = self.server.lock().take();
        if let Some(s) = server {
            py.detach(|| runtime().block_on(s.shutdown()));
        }
    }

    /// Whether the server is still listening.
    #[getter]
    fn running(&self) -> bool {
        self.server.lock().is_some()
    }
    #[getter]
    fn issuer(&self) -> &str {
        &self.issuer
    }
    #[getter]
    fn token_url(&self) -> &str {
        &self.token_url
    }
    #[getter]
    fn jwks_uri(&self) -> &str {
        &self.jwks_uri
    }
    #[getter]
    fn host(&self) -> &str {
        &self.host
    }
    #[getter]
    fn port(&self) -> u16 {
        self.port
    }

    /// The audit events so far (with `capture_audit=True`), as dicts.
    fn audit_events<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let text = match &self.audit {
            Some(b) => String::from_utf8_lossy(&b.lock()).into_owned(),
            None => String::new(),
        };
        let mut out = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("bad audit line: {e}")))?;
            out.push(json_to_py(py, &v)?);
        }
        PyList::new(py, out)
    }

    fn __repr__(&self) -> String {
        let running = if self.running() { "True" } else { "False" };
        format!(
            "LocalServer(issuer={}, running={running})",
            crate::convert::repr_str(&self.issuer)
        )
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Some(s) = self.server.get_mut().take() {
            runtime().spawn(s.shutdown());
        }
    }
}
