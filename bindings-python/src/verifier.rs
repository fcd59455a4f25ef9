//! `Verifier` (the core's verifier with its JWKS and verified-token caches) and `Claims`.

use crate::aio;
use crate::clock::ManualClock;
use crate::convert::{json_text, json_to_py, repr_list, repr_opt, repr_str, Scopes, Seconds, StrList};
use crate::errors::{self, IntoPyResult};
use authsec_native::{
    block_on, Alg, Clock, HttpTransport, JwksCache, JwksPolicy, KeySet, KeySourceInfo, ScopeRequirement, StaticKeys,
    SystemClock, TypPolicy, Verifier as CoreVerifier, VerifierConfig,
};
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyDict, PyList};
use std::sync::Arc;

type CoreClaims = authsec_native::Claims;

/// The claims of a verified token: a read-only mapping (`claims["sub"]`, `claims.get("scope")`,
/// `dict(claims)`) with typed helpers (`subject`, `scopes`, ...).
#[pyclass(frozen, mapping, name = "Claims", module = "authsec._native")]
pub struct Claims {
    claims: Arc<CoreClaims>,
}

#[pymethods]
impl Claims {
    fn __getitem__<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        match self.claims.get(key) {
            Some(v) => json_to_py(py, v),
            None => Err(PyKeyError::new_err(key.to_string())),
        }
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
            Some(v) => json_to_py(py, v),
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
        let d = PyDict::new(py);
        for (k, v) in self.claims.as_map() {
            d.set_item(k, json_to_py(py, v)?)?;
        }
        Ok(d)
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
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Claims({})", self.to_dict(py)?.repr()?.to_cow()?))
    }
}

/// Verifies JWT access tokens (RFC 9068) against a JWKS: a `jwks_uri` (cached, refreshed) or a
/// static `jwks`. Verified tokens are cached until they expire. Safe to share across threads.
#[pyclass(frozen, name = "Verifier", module = "authsec._native")]
pub struct Verifier {
    verifier: CoreVerifier,
}

fn requirement(required_scopes: Option<Scopes>, any_scopes: Option<Scopes>) -> Option<ScopeRequirement> {
    let r = ScopeRequirement {
        all_of: required_scopes.map(|s| s.0).unwrap_or_default(),
        any_of: any_scopes.map(|s| s.0).unwrap_or_default(),
    };
    (!r.is_empty()).then_some(r)
}

fn check(claims: Arc<CoreClaims>, req: Option<&ScopeRequirement>) -> authsec_native::Result<Arc<CoreClaims>> {
    if let Some(r) = req {
        r.check(&claims.scopes())?;
    }
    Ok(claims)
}

#[pymethods]
impl Verifier {
    #[new]
    #[pyo3(signature = (
        issuer=None, audience=None, *, jwks_uri=None, jwks=None, algorithms=None, leeway=None, typ=None,
        required_claims=None, max_token_bytes=None, skip_issuer_check=false, skip_audience_check=false,
        cache_size=None, allow_insecure_http=false, _clock=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        issuer: Option<String>,
        audience: Option<StrList>,
        jwks_uri: Option<String>,
        jwks: Option<&Bound<'_, PyAny>>,
        algorithms: Option<StrList>,
        leeway: Option<Seconds>,
        typ: Option<&str>,
        required_claims: Option<StrList>,
        max_token_bytes: Option<usize>,
        skip_issuer_check: bool,
        skip_audience_check: bool,
        cache_size: Option<usize>,
        allow_insecure_http: bool,
        _clock: Option<PyRef<'_, ManualClock>>,
    ) -> PyResult<Self> {
        let defaults = VerifierConfig::default();
        let cfg = VerifierConfig {
            issuer,
            skip_issuer_check,
            audiences: audience.map(|a| a.0).unwrap_or_default(),
            skip_audience_check,
            algorithms: algorithms
                .map(|a| a.0)
                .unwrap_or_default()
                .iter()
                .map(|a| {
                    Alg::parse(a).map_err(|e| authsec_native::Error::config(format!("algorithms: {}", e.message())))
                })
                .collect::<Result<_, _>>()
                .py(py)?,
            leeway: leeway.map(|l| l.0).unwrap_or(defaults.leeway),
            typ: typ.map(TypPolicy::parse).transpose().py(py)?.unwrap_or_default(),
            max_token_bytes: max_token_bytes.unwrap_or(defaults.max_token_bytes),
            required_claims: required_claims.map(|r| r.0).unwrap_or_default(),
            verified_cache_size: cache_size.unwrap_or(defaults.verified_cache_size),
        };
        let clock: Arc<dyn Clock> = match &_clock {
            Some(c) => Arc::new(c.inner.clone()),
            None => Arc::new(SystemClock),
        };
        let keys = match (jwks_uri, jwks) {
            (Some(uri), None) => {
                let policy = JwksPolicy {
                    allow_insecure_http,
                    ..Default::default()
                };
                Arc::new(JwksCache::new(&uri, HttpTransport::shared(), clock.clone(), policy).py(py)?)
                    as Arc<dyn authsec_native::KeyProvider>
            }
            (None, Some(doc)) => Arc::new(StaticKeys(Arc::new(
                KeySet::from_jwks_json(json_text(doc)?.as_bytes()).py(py)?,
            ))),
            _ => {
                return Err(errors::config(
                    py,
                    "give the verifier either jwks_uri (the issuer's JWKS URL) or jwks (a JWKS document), not both",
                ))
            }
        };
        Ok(Verifier {
            verifier: CoreVerifier::new(cfg, keys, clock).py(py)?,
        })
    }

    /// Verify `token` (signature, algorithm, `typ`, `exp`/`nbf`/`iat`, `iss`, `aud`) and require
    /// every scope in `required_scopes` and at least one of `any_scopes`. Returns the claims.
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
        let result = match self.verifier.try_cached(&token) {
            Some(c) => check(c, req.as_ref()),
            None => {
                let v = &self.verifier;
                py.detach(|| {
                    let claims = match v.try_verify_now(&token) {
                        Some(r) => r,
                        None => block_on(v.verify(&token)),
                    };
                    claims.and_then(|c| check(c, req.as_ref()))
                })
            }
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
        if let Some(c) = self.verifier.try_cached(&token) {
            let r = check(c, req.as_ref())
                .map_err(|e| errors::to_py(py, &e))
                .and_then(|claims| Ok(Bound::new(py, Claims { claims })?.into_any()));
            return aio::ready(py, r);
        }
        let v = self.verifier.clone();
        aio::spawn(
            py,
            async move { v.verify(&token).await.and_then(|c| check(c, req.as_ref())) },
            |py, r| match r {
                Ok(claims) => Ok(Bound::new(py, Claims { claims })?.into_any()),
                Err(e) => Err(errors::to_py(py, &e)),
            },
        )
    }

    /// The expected issuer.
    #[getter]
    fn issuer(&self) -> Option<&str> {
        self.verifier.config().issuer.as_deref()
    }
    /// The accepted audiences.
    #[getter]
    fn audience(&self) -> Vec<String> {
        self.verifier.config().audiences.clone()
    }
    /// The allowed algorithms (empty: every supported asymmetric algorithm).
    #[getter]
    fn algorithms(&self) -> Vec<&'static str> {
        self.verifier.config().algorithms.iter().map(|a| a.as_str()).collect()
    }
    /// Test hook: tokens in the verified-token cache.
    #[getter]
    fn _cached_tokens(&self) -> usize {
        self.verifier.cached_tokens()
    }

    fn __repr__(&self) -> String {
        let c = self.verifier.config();
        let keys = match self.verifier.keys().describe() {
            KeySourceInfo::Static { keys } => format!("jwks=<{keys} keys>"),
            KeySourceInfo::Jwks { uri } => format!("jwks_uri={}", repr_str(&uri)),
            KeySourceInfo::Discovered { issuer, .. } => format!("discovered from {}", repr_str(&issuer)),
        };
        format!(
            "Verifier(issuer={}, audience={}, {keys})",
            repr_opt(c.issuer.as_deref()),
            repr_list(&c.audiences)
        )
    }
}
