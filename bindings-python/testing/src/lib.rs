//! `authsec_testing`: the local authorization server (`authsec-server`) in-process, for the tests
//! of code that uses authsec (`authsec.testing.LocalAuthServer`). A separate extension module and
//! distribution (`authsec-testing`), so that the `authsec` wheel does not link the server (axum,
//! rusqlite, SQLite). Errors become `authsec.errors` exceptions, as in `authsec._native`.

use authsec_native::workload_api::fake::FakeWorkloadApi as CoreFake;
use authsec_native::{runtime, Clock, Error, ProcessEnv, SigningKey, SystemClock};
use authsec_server::{audit::Audit, RunningServer, ServerConfig, StartOptions};
use parking_lot::Mutex;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// The exception of `authsec.errors` for a core error.
fn to_py(py: Python<'_>, e: Error) -> PyErr {
    let exc = py
        .import("authsec.errors")
        .and_then(|m| m.getattr("_from_native")?.call1((e.code().as_str(), e.message())));
    exc.map_or_else(|x| x, PyErr::from_value)
}

/// The time of an `authsec._native.ManualClock` (`authsec.testing.ManualClock`), which the
/// clients and verifiers of the test share with the server. The clock lives in the other
/// extension module, so what crosses is the address of its state, an `AtomicI64` of Unix
/// milliseconds (a type whose layout is that of an `i64` in every build, unlike an `Arc`'s), plus
/// a reference to the Python object that owns it: the `ManualClock` holds the `Arc` of its state
/// for its whole life and never replaces it, so the state outlives this reference.
struct SharedClock {
    _owner: Py<PyAny>,
    state: usize,
}

impl Clock for SharedClock {
    fn now_ms(&self) -> i64 {
        // SAFETY: the address of an `AtomicI64` that is alive while `_owner` is (see above).
        unsafe { &*(self.state as *const AtomicI64) }.load(Ordering::SeqCst)
    }
}

impl SharedClock {
    fn of(clock: &Bound<'_, PyAny>) -> PyResult<SharedClock> {
        // Only a real ManualClock (a final class whose methods cannot be replaced) gives an address.
        if !clock.is_instance(&clock.py().import("authsec._native")?.getattr("ManualClock")?)? {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "_clock must be an authsec.testing.ManualClock",
            ));
        }
        let state = clock.call_method0("_state_address")?.extract()?;
        Ok(SharedClock {
            _owner: clock.clone().unbind(),
            state,
        })
    }
}

/// The local OAuth authorization server, running on the shared runtime until `stop()`.
#[pyclass(frozen, name = "LocalServer", module = "authsec_testing")]
pub struct LocalServer {
    server: Mutex<Option<RunningServer>>,
    audit: Option<Arc<Mutex<Vec<u8>>>>,
    #[pyo3(get)]
    issuer: String,
    #[pyo3(get)]
    token_endpoint: String,
    #[pyo3(get)]
    jwks_uri: String,
    #[pyo3(get)]
    port: u16,
}

#[pymethods]
impl LocalServer {
    /// Start listening. `config` is the server's YAML (or JSON) configuration, `${VAR}` taken from
    /// the environment. With `capture_audit`, audit lines are kept for `audit_log()` instead of
    /// going to the configured `audit_log`.
    #[new]
    #[pyo3(signature = (config=None, *, host="127.0.0.1", port=0, capture_audit=false, _clock=None))]
    fn new(
        py: Python<'_>,
        config: Option<&str>,
        host: &str,
        port: u16,
        capture_audit: bool,
        _clock: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let cfg = ServerConfig::embedded(None, config, ProcessEnv).map_err(|e| to_py(py, e))?;
        let clock: Arc<dyn Clock> = match _clock {
            Some(c) => Arc::new(SharedClock::of(c)?),
            None => Arc::new(SystemClock),
        };
        let (audit, lines) = if capture_audit {
            let (a, lines) = Audit::memory();
            (Some(Arc::new(a)), Some(lines))
        } else {
            (None, None)
        };
        let opts = StartOptions {
            host: host.to_string(),
            port,
            clock,
            audit,
            ..StartOptions::default()
        };
        let server = py
            .detach(|| runtime().block_on(authsec_server::start(cfg, opts)))
            .map_err(|e| to_py(py, e))?;
        Ok(LocalServer {
            issuer: server.issuer().to_string(),
            token_endpoint: server.token_endpoint(),
            jwks_uri: server.jwks_uri(),
            port: server.addr().port(),
            server: Mutex::new(Some(server)),
            audit: lines,
        })
    }

    /// Stop accepting connections (idempotent).
    fn stop(&self, py: Python<'_>) {
        if let Some(s) = self.server.lock().take() {
            py.detach(|| runtime().block_on(s.shutdown()));
        }
    }

    /// Whether the server is still listening.
    #[getter]
    fn running(&self) -> bool {
        self.server.lock().is_some()
    }

    /// The audit log so far (one JSON event per line), with `capture_audit=True`.
    fn audit_log(&self) -> String {
        let log = self
            .audit
            .as_ref()
            .map(|b| String::from_utf8_lossy(&b.lock()).into_owned());
        log.unwrap_or_default()
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Some(s) = self.server.get_mut().take() {
            runtime().spawn(s.shutdown());
        }
    }
}

/// `header.payload.signature`: the base64url `header` and `payload` segments signed with `key` (a
/// private PEM or JWK; the header's `alg` must be the key's): tokens the local server does not
/// issue, for tests.
#[pyfunction]
fn sign_segments(py: Python<'_>, key: &str, header: &str, payload: &str) -> PyResult<String> {
    let key = SigningKey::from_pem_or_jwk(key, None, None).map_err(|e| to_py(py, e))?;
    key.sign_segments(header, payload).map_err(|e| to_py(py, e))
}

/// A fake SPIFFE Workload API on a Unix socket (the `authsec-native` test double): its own
/// authority for one trust domain, issuing JWT-SVIDs and X.509-SVIDs. `authsec.testing.FakeWorkloadApi`
/// is its Python face.
#[pyclass(frozen, name = "FakeWorkloadApi", module = "authsec_testing")]
pub struct FakeWorkloadApi(CoreFake);

#[pymethods]
impl FakeWorkloadApi {
    /// Serve on `path` (a directory: `agent.sock` in it; or the socket's path) for `trust_domain`.
    #[new]
    #[pyo3(signature = (path, trust_domain="example.org"))]
    fn new(py: Python<'_>, path: std::path::PathBuf, trust_domain: &str) -> PyResult<Self> {
        let fake = py.detach(|| CoreFake::start_for(&path, trust_domain));
        Ok(FakeWorkloadApi(fake.map_err(|e| to_py(py, e))?))
    }
    #[getter]
    fn endpoint(&self) -> String {
        self.0.endpoint()
    }
    #[getter]
    fn trust_domain(&self) -> &str {
        self.0.trust_domain()
    }
    #[getter]
    fn spiffe_id(&self) -> String {
        self.0.spiffe_id()
    }
    fn set_spiffe_id(&self, py: Python<'_>, spiffe_id: &str) -> PyResult<()> {
        self.0.set_spiffe_id(spiffe_id).map_err(|e| to_py(py, e))
    }
    fn rotate_jwt_key(&self, py: Python<'_>) -> PyResult<()> {
        self.0.rotate_jwt_key().map_err(|e| to_py(py, e))
    }
    #[getter]
    fn jwt_kid(&self) -> String {
        self.0.jwt_kid()
    }
    fn rotate_x509(&self, py: Python<'_>) -> PyResult<()> {
        self.0.rotate_x509().map_err(|e| to_py(py, e))
    }
    fn deny_next(&self, n: u32) {
        self.0.deny_next(n)
    }
    fn refuse_next(&self, n: u32) {
        self.0.refuse_next(n)
    }
    #[getter]
    fn calls(&self) -> u64 {
        self.0.calls()
    }
    fn jwt_bundle_json(&self) -> String {
        self.0.jwt_bundle_json()
    }
    fn stop(&self) {
        self.0.stop()
    }
}

#[pymodule]
fn authsec_testing(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(sign_segments, m)?)?;
    m.add_class::<FakeWorkloadApi>()?;
    m.add_class::<LocalServer>()
}
