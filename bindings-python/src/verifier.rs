//! `Verifier` (the core's verifier with its JWKS and verified-token caches) and `Claims`.
//! `authsec.Verifier` (authsec/verifier.py) subclasses it with the presentation: properties,
//! `repr()`, the `discover()` constructor, and the `allowed_actors` callable (the caller's own
//! check of a delegated token's current actor), asked between `verify()` without scopes and the
//! core's scope check (`check_scopes`).

use crate::aio;
use crate::clock::ManualClock;
use crate::convert::{to_json, Scopes};
use crate::delegation::actor;
use crate::errors::IntoPyResult;
use authsec_native::{
    block_on, verifier_from_options, Clock, KeySourceInfo, ScopeRequirement, SystemClock, Verifier as CoreVerifier,
    VerifierOptions,
};
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyDict, PyList, PyTuple};
use pythonize::pythonize;
use std::sync::Arc;

type CoreClaims = authsec_native::Claims;

/// The claims of a verified token: a read-only mapping (`claims["sub"]`, `claims.get("scope")`,
/// `dict(claims)`) with typed helpers (`subject`, `scopes`, ...).
#[pyclass(frozen, mapping, name = "Claims", module = "authsec._native")]
pub struct Claims {
    pub(crate) claims: Arc<CoreClaims>,
}

#[pymethods]
impl Claims {
    fn __getitem__<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        let value = self
            .claims
            .get(key)
            .ok_or_else(|| PyKeyError::new_err(key.to_string()))?;
        Ok(pythonize(py, value)?)
    }
    fn __len__(&self) -> usize {
        self.claims.as_map().len()
    }
    fn __contains__(&self, key: &Bound<'_, PyAny>) -> bool {
        key.extract::<PyBackedStr>()
            .is_ok_and(|k| self.claims.as_map().contains_key(&*k))
    }
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyList::new(py, self.claims.as_map().keys())?.try_iter()?.into_any())
    }
    #[pyo3(signature = (key, default=None))]
    fn get<'py>(&self, py: Python<'py>, key: &str, default: Option<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        match self.claims.get(key) {
            Some(v) => Ok(pythonize(py, v)?),
            None => Ok(default.unwrap_or_else(|| py.None().into_bound(py))),
        }
    }
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.to_dict(py)?.call_method0("keys")
    }
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.to_dict(py)?.call_method0("values")
    }
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.to_dict(py)?.call_method0("items")
    }
    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        if let Ok(o) = other.cast::<Claims>() {
            return Ok(o.get().claims.as_map() == self.claims.as_map());
        }
        if other.is_instance_of::<PyDict>() {
            return self.to_dict(py)?.eq(other);
        }
        Ok(false)
    }
    /// A new `dict` of all claims.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        Ok(pythonize(py, self.claims.as_map())?.cast_into()?)
    }
    /// The claims as JSON text.
    fn to_json(&self) -> String {
        self.claims.to_json()
    }
    /// `sub`.
    #[getter]
    fn subject(&self) -> Option<&str> {
        self.claims.subject()
    }
    /// `iss`.
    #[getter]
    fn issuer(&self) -> Option<&str> {
        self.claims.issuer()
    }
    /// `client_id` (or `azp`).
    #[getter]
    fn client_id(&self) -> Option<&str> {
        self.claims.client_id()
    }
    /// `jti`.
    #[getter]
    fn jti(&self) -> Option<&str> {
        self.claims.jti()
    }
    /// `aud` as a list.
    #[getter]
    fn audience(&self) -> Vec<&str> {
        self.claims.audience()
    }
    /// Granted scopes, from `scope` (space-separated) and `scp`.
    #[getter]
    fn scopes(&self) -> Vec<&str> {
        self.claims.scopes()
    }
    /// `exp` in Unix seconds (whole seconds; `claims["exp"]` has the exact value).
    #[getter]
    fn expires_at(&self) -> i64 {
        self.claims.expires_at()
    }
    /// `iat` in Unix seconds.
    #[getter]
    fn issued_at(&self) -> Option<i64> {
        self.claims.issued_at_ms().map(|ms| ms.div_euclid(1000))
    }
    /// `nbf` in Unix seconds.
    #[getter]
    fn not_before(&self) -> Option<i64> {
        self.claims.not_before_ms().map(|ms| ms.div_euclid(1000))
    }
    fn has_scope(&self, scope: &str) -> bool {
        self.claims.has_scope(scope)
    }
    /// The delegation chain (RFC 8693 `act`), current actor first: a tuple of `authsec.Actor`,
    /// empty when nobody acts for the subject. Decide on the top-level claims and `actor` only;
    /// the earlier actors are for audit (RFC 8693 §4.1).
    #[getter]
    fn delegation<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let chain = self.claims.delegation().iter().map(|a| actor(py, a));
        PyTuple::new(py, chain.collect::<PyResult<Vec<_>>>()?)
    }
    /// The party acting for the subject now (the outermost `act`), or `None`.
    #[getter]
    fn actor(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.claims.actor().map(|a| actor(py, a)).transpose()
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Claims({})", self.to_dict(py)?.repr()?))
    }
}

/// Verifies JWT access tokens (RFC 9068) against a JWKS: a `jwks_uri` (cached, refreshed), a
/// static `jwks`, or the one the issuer's metadata names (`discover=True`). Verified tokens are
/// cached until they expire. Safe to share across threads.
#[pyclass(frozen, subclass, name = "Verifier", module = "authsec._native")]
pub struct Verifier {
    pub(crate) verifier: CoreVerifier,
    /// The verifier's clock, for a `RequestVerifier` built on it.
    pub(crate) clock: Arc<dyn Clock>,
}

/// The outcome of a verification as Python sees it.
fn done(py: Python<'_>, r: authsec_native::Result<Arc<CoreClaims>>) -> PyResult<Bound<'_, PyAny>> {
    Ok(Bound::new(py, Claims { claims: r.py(py)? })?.into_any())
}

/// What a protected resource requires: every scope of `required`, one of `any`.
pub fn requirement(required: Option<Scopes>, any: Option<Scopes>) -> ScopeRequirement {
    ScopeRequirement::from_lists(required.map(|s| s.0), any.map(|s| s.0))
}

/// The core's scope check of verified claims (`InsufficientScopeError`): for `authsec.Verifier`,
/// after its `allowed_actors` callable.
#[pyfunction]
#[pyo3(signature = (claims, required_scopes=None, any_scopes=None))]
pub fn check_scopes(
    py: Python<'_>,
    claims: PyRef<'_, Claims>,
    required_scopes: Option<Scopes>,
    any_scopes: Option<Scopes>,
) -> PyResult<()> {
    requirement(required_scopes, any_scopes)
        .check_claims(&claims.claims)
        .py(py)
}

#[pymethods]
impl Verifier {
    /// Options as keyword arguments, read by the core: `issuer`, `audience`, one of `jwks_uri`,
    /// `jwks` and `discover=True`, `algorithms`, `leeway`, `typ`, `required_claims`,
    /// `max_token_bytes`, `skip_issuer_check`, `skip_audience_check`, `verified_cache_size`,
    /// `allow_insecure_http`, `forbid_delegation`, `max_delegation_depth`, `allowed_actors` (a list
    /// of ids; a callable stays in `authsec.Verifier`).
    /// `authsec.Verifier` (authsec/verifier.py) is its public face.
    #[new]
    #[pyo3(signature = (*, _clock=None, **options))]
    fn new(
        py: Python<'_>,
        _clock: Option<PyRef<'_, ManualClock>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let options = VerifierOptions::from_value(&to_json(options.map(|d| d.as_any()))?).py(py)?;
        let clock = _clock.map_or_else(|| Arc::new(SystemClock) as Arc<dyn Clock>, |c| Arc::new(c.0.clone()));
        let verifier = verifier_from_options(&options, Some(clock.clone())).py(py)?;
        Ok(Verifier { verifier, clock })
    }

    /// Verify `token` (signature, algorithm, `typ`, `exp`/`nbf`/`iat`, `iss`, `aud`) and require
    /// every scope in `required_scopes` and at least one of `any_scopes` (each a list or one
    /// space-separated string). Returns the claims.
    #[pyo3(signature = (token, required_scopes=None, *, any_scopes=None))]
    fn verify(
        &self,
        py: Python<'_>,
        token: PyBackedStr,
        required_scopes: Option<Scopes>,
        any_scopes: Option<Scopes>,
    ) -> PyResult<Claims> {
        let req = requirement(required_scopes, any_scopes);
        // A token verified before: no signature check, so no reason to release the interpreter.
        let result = match self.verifier.try_cached_with(&token, &req) {
            Some(r) => r,
            None => py.detach(|| {
                let v = &self.verifier;
                v.try_verify_now_with(&token, &req)
                    .unwrap_or_else(|| block_on(v.verify_with_scopes(&token, &req)))
            }),
        };
        result.map(|claims| Claims { claims }).py(py)
    }

    /// `await verifier.verify_async(token, ...)`: like `verify()`, without blocking the event loop
    /// (signature checks and JWKS fetches run on a background thread). Returns an `asyncio.Future`.
    #[pyo3(signature = (token, required_scopes=None, *, any_scopes=None))]
    fn verify_async<'py>(
        &self,
        py: Python<'py>,
        token: PyBackedStr,
        required_scopes: Option<Scopes>,
        any_scopes: Option<Scopes>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = requirement(required_scopes, any_scopes);
        if let Some(r) = self.verifier.try_cached_with(&token, &req) {
            return aio::ready(py, done(py, r));
        }
        let v = self.verifier.clone();
        aio::spawn(py, async move { v.verify_with_scopes(&token, &req).await }, done)
    }

    /// What the verifier checks and where its keys come from (for `authsec.Verifier`'s
    /// properties and repr).
    #[getter]
    fn _settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = self.verifier.config();
        let d = PyDict::new(py);
        d.set_item("issuer", &c.issuer)?;
        d.set_item("audience", &c.audiences)?;
        d.set_item(
            "algorithms",
            c.algorithms.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        )?;
        let keys = match self.verifier.keys().describe() {
            KeySourceInfo::Static { keys } => ("jwks", keys.into_pyobject(py)?.into_any()),
            KeySourceInfo::Jwks { uri } => ("jwks_uri", uri.into_pyobject(py)?.into_any()),
            KeySourceInfo::Discovered { issuer, .. } => ("discover", issuer.into_pyobject(py)?.into_any()),
        };
        d.set_item("keys", keys)?;
        Ok(d)
    }
    /// Test hook: tokens in the verified-token cache.
    #[getter]
    fn _cached_tokens(&self) -> usize {
        self.verifier.cached_tokens()
    }
}
