//! SPIFFE: `JwtSvidVerifier` (the core's JWT-SVID verifier; with `workload_api`, on bundles the
//! Workload API streams), `WorkloadApiClient` (SVIDs and bundles from the Workload API) and
//! `spiffe_id_matches` (the core's `SpiffeIdMatcher`). `authsec.spiffe` (authsec/spiffe.py) is
//! their Python face: the typed signatures and the result classes (`JwtSvid`, `WorkloadJwtSvid`,
//! `X509Svid`), which are built here from the core's values.

use crate::aio;
use crate::clock::ManualClock;
use crate::convert::to_json;
use crate::errors::IntoPyResult;
use authsec_native::core::spiffe::{JwtSvid as CoreSvid, JwtSvidVerifier as CoreVerifier, SpiffeId, SpiffeIdMatcher};
use authsec_native::spiffe::{jwt_svid_verifier, workload_api};
use authsec_native::workload_api::{JwtBundles, JwtSvidEntry, WorkloadApiClient as CoreClient, X509Context};
use authsec_native::{block_on, Clock, Error, ErrorCode, ProcessEnv};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString};
use pythonize::pythonize;
use std::sync::Arc;

/// An instance of `authsec.spiffe.<class>` from keyword arguments.
fn make<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    class: &str,
    fields: Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyAny>> {
    cell.import(py, "authsec.spiffe", class)?.call((), Some(&fields))
}

/// A verified SVID as an `authsec.spiffe.JwtSvid`.
fn svid(py: Python<'_>, r: authsec_native::Result<CoreSvid>) -> PyResult<Bound<'_, PyAny>> {
    static CLASS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let fields = pythonize(py, &r.py(py)?.to_value())?.cast_into::<PyDict>()?;
    make(py, &CLASS, "JwtSvid", fields)
}

/// Verifies JWT-SVIDs (the SPIFFE JWT-SVID standard) against trust bundles: given, read from
/// files, fetched from bundle endpoints, or streamed by the Workload API. Safe to share.
#[pyclass(frozen, subclass, name = "JwtSvidVerifier", module = "authsec._native")]
pub struct JwtSvidVerifier {
    verifier: Arc<CoreVerifier>,
}

#[pymethods]
impl JwtSvidVerifier {
    /// Options as keyword arguments, read by the core (`JwtSvidOptions`): `audience`,
    /// `trust_domains`, `workload_api`, `allowed_ids`, `sole_audience`, `algorithms`, `leeway`,
    /// `max_token_bytes`, `allow_insecure_http`. With `workload_api`, waits (the interpreter
    /// released) for the first bundles.
    #[new]
    #[pyo3(signature = (*, _clock=None, **options))]
    fn new(
        py: Python<'_>,
        _clock: Option<PyRef<'_, ManualClock>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let options = to_json(options.map(|d| d.as_any()))?;
        let clock = _clock.map(|c| Arc::new(c.0.clone()) as Arc<dyn Clock>);
        let verifier = py.detach(|| block_on(jwt_svid_verifier(&options, &ProcessEnv, clock)));
        Ok(JwtSvidVerifier {
            verifier: Arc::new(verifier.py(py)?),
        })
    }

    /// Verify `token` (signature with its trust domain's bundle, `alg`, `typ`, `exp`, `aud`,
    /// `sub` as a SPIFFE ID, `allowed_ids`). Returns an `authsec.JwtSvid`.
    fn verify<'py>(&self, py: Python<'py>, token: PyBackedStr) -> PyResult<Bound<'py, PyAny>> {
        let result = match self.verifier.verify_now(&token) {
            Some(r) => r,
            // The bundle must be fetched first: wait without the interpreter.
            None => py.detach(|| block_on(self.verifier.verify(&token))),
        };
        svid(py, result)
    }

    /// `await verifier.verify_async(token)`: like `verify()`, without blocking the event loop.
    fn verify_async<'py>(&self, py: Python<'py>, token: PyBackedStr) -> PyResult<Bound<'py, PyAny>> {
        if let Some(r) = self.verifier.verify_now(&token) {
            return aio::ready(py, svid(py, r));
        }
        let v = self.verifier.clone();
        aio::spawn(py, async move { v.verify(&token).await }, svid)
    }

    /// The audiences accepted.
    #[getter]
    fn audience(&self) -> Vec<String> {
        self.verifier.policy().audiences.clone()
    }
}

/// `audience` given as one string or a list.
pub struct Audience(Vec<String>);

impl<'a, 'py> FromPyObject<'a, 'py> for Audience {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        match obj.cast::<PyString>() {
            Ok(s) => Ok(Audience(vec![s.to_cow()?.into_owned()])),
            Err(_) => Ok(Audience(obj.extract()?)),
        }
    }
}

fn jwt_svid(py: Python<'_>, r: authsec_native::Result<Vec<JwtSvidEntry>>) -> PyResult<Bound<'_, PyAny>> {
    static CLASS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    // The first is the workload's default identity (the Workload API's order; never empty).
    let first = r.py(py)?.into_iter().next();
    let e = first
        .ok_or_else(|| Error::new(ErrorCode::WorkloadApiUnavailable, "no JWT-SVID"))
        .py(py)?;
    let fields = PyDict::new(py);
    fields.set_item("spiffe_id", e.spiffe_id)?;
    fields.set_item("token", e.svid.expose())?;
    fields.set_item("hint", e.hint)?;
    make(py, &CLASS, "WorkloadJwtSvid", fields)
}

fn bundles(py: Python<'_>, r: authsec_native::Result<JwtBundles>) -> PyResult<Bound<'_, PyAny>> {
    let out = PyDict::new(py);
    for (td, doc) in r.py(py)?.bundles {
        let doc: serde_json::Value = serde_json::from_slice(&doc)
            .map_err(|e| {
                Error::new(
                    ErrorCode::InvalidJwks,
                    format!("the JWT bundle of {td} is not JSON: {e}"),
                )
            })
            .py(py)?;
        out.set_item(td, pythonize(py, &doc)?)?;
    }
    Ok(out.into_any())
}

fn x509_svid(py: Python<'_>, r: authsec_native::Result<X509Context>) -> PyResult<Bound<'_, PyAny>> {
    static CLASS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let first = r.py(py)?.svids.into_iter().next();
    let s = first
        .ok_or_else(|| Error::new(ErrorCode::WorkloadApiUnavailable, "no X.509-SVID"))
        .py(py)?;
    let fields = PyDict::new(py);
    fields.set_item("spiffe_id", &s.spiffe_id)?;
    fields.set_item("cert_chain_pem", s.cert_chain_pem())?;
    fields.set_item("private_key_pem", s.private_key_pem().expose())?;
    fields.set_item("bundle_pem", s.bundle_pem())?;
    fields.set_item("hint", &s.hint)?;
    make(py, &CLASS, "X509Svid", fields)
}

/// A client of the SPIFFE Workload API (a SPIRE agent's socket): `endpoint` is `unix:///path` or
/// `tcp://IP:PORT`, else `SPIFFE_ENDPOINT_SOCKET`'s. Nothing is connected until the first call.
#[pyclass(frozen, name = "WorkloadApiClient", module = "authsec._native")]
pub struct WorkloadApiClient {
    client: CoreClient,
}

#[pymethods]
impl WorkloadApiClient {
    #[new]
    #[pyo3(signature = (endpoint=None))]
    fn new(py: Python<'_>, endpoint: Option<&str>) -> PyResult<Self> {
        let client = py.detach(|| workload_api(endpoint)).py(py)?;
        Ok(WorkloadApiClient { client })
    }

    /// The endpoint, as given.
    #[getter]
    fn endpoint(&self) -> &str {
        self.client.endpoint()
    }

    fn __repr__(&self) -> String {
        format!("WorkloadApiClient(endpoint={:?})", self.client.endpoint())
    }

    /// The workload's JWT-SVID for `audience` (one or a list): its default identity's, or
    /// `spiffe_id`'s. An `authsec.WorkloadJwtSvid`.
    #[pyo3(signature = (audience, *, spiffe_id=None))]
    fn fetch_jwt_svid<'py>(
        &self,
        py: Python<'py>,
        audience: Audience,
        spiffe_id: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let r = py.detach(|| block_on(self.client.fetch_jwt_svids(&audience.0, spiffe_id.as_deref())));
        jwt_svid(py, r)
    }

    #[pyo3(signature = (audience, *, spiffe_id=None))]
    fn fetch_jwt_svid_async<'py>(
        &self,
        py: Python<'py>,
        audience: Audience,
        spiffe_id: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        aio::spawn(
            py,
            async move { c.fetch_jwt_svids(&audience.0, spiffe_id.as_deref()).await },
            jwt_svid,
        )
    }

    /// The JWT bundles: trust domain name -> its JWKS document.
    fn fetch_jwt_bundles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let r = py.detach(|| block_on(self.client.fetch_jwt_bundles()));
        bundles(py, r)
    }

    fn fetch_jwt_bundles_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        aio::spawn(py, async move { c.fetch_jwt_bundles().await }, bundles)
    }

    /// The workload's default X.509-SVID with its key and trust bundle (PEM). An `authsec.X509Svid`.
    fn fetch_x509_svid<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let r = py.detach(|| block_on(self.client.fetch_x509_context()));
        x509_svid(py, r)
    }

    fn fetch_x509_svid_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        aio::spawn(py, async move { c.fetch_x509_context().await }, x509_svid)
    }
}

/// Whether `spiffe_id` matches one of `patterns` (`spiffe://td/path` exactly, `spiffe://td` any
/// ID of the trust domain, `spiffe://td/path/*` below the path). A bad pattern is a `ConfigError`,
/// a bad ID an `InvalidTokenError` (`invalid_spiffe_id`).
#[pyfunction]
pub fn spiffe_id_matches(py: Python<'_>, spiffe_id: &str, patterns: Vec<String>) -> PyResult<bool> {
    let matcher = SpiffeIdMatcher::parse(&patterns).py(py)?;
    Ok(matcher.matches(&SpiffeId::parse(spiffe_id).py(py)?))
}
