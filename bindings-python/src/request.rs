//! `RequestVerifier`: the core's whole check of a request to a protected resource (the credential,
//! the token, its DPoP or certificate binding, the nonce, the replay cache, the scopes) and its
//! answer. `authsec.RequestVerifier` (authsec/resource.py) is its public face, and the engine of
//! `authsec.fastapi`; the outcomes are `authsec.resource.Accepted` / `Refusal`.

use crate::aio;
use crate::convert::{to_json, Scopes};
use crate::errors::{to_py, IntoPyResult};
use crate::verifier::{requirement, Claims, Verifier};
use authsec_native::core::access_token::delegation::actor_refused;
use authsec_native::core::resource::credential::Scheme;
use authsec_native::core::resource::request::RequestParts;
use authsec_native::core::resource::request_verifier::{Accepted, Refusal, RequestPolicy, RequestVerifier as Core};
use authsec_native::{block_on, Clock, ScopeRequirement};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use std::sync::Arc;

/// Checks whole requests to a protected resource with a `Verifier`: Bearer and DPoP tokens,
/// certificate-bound tokens, DPoP nonces and replays, scopes. Safe to share across threads.
#[pyclass(frozen, subclass, name = "RequestVerifier", module = "authsec._native")]
pub struct RequestVerifier {
    inner: Arc<Core>,
    clock: Arc<dyn Clock>,
}

/// A request as the core reads it, owned (for the runtime's threads).
struct Request {
    method: String,
    target: String,
    scheme: String,
    headers: Vec<(String, String)>,
    peer: Option<String>,
    certificate: Option<Vec<u8>>,
    scopes: ScopeRequirement,
}

impl Request {
    /// The arguments of `verify` and `verify_async`, as the core's runtime holds them.
    #[allow(clippy::too_many_arguments)]
    fn new(
        method: String,
        target: String,
        scheme: String,
        headers: Vec<(String, String)>,
        peer: Option<String>,
        client_certificate: Option<PyBackedBytes>,
        required_scopes: Option<Scopes>,
        any_scopes: Option<Scopes>,
    ) -> Request {
        Request {
            method,
            target,
            scheme,
            headers,
            peer,
            certificate: client_certificate.map(|c| c.to_vec()),
            scopes: requirement(required_scopes, any_scopes),
        }
    }

    async fn verify(&self, rv: &Core) -> Result<Accepted, Refusal> {
        let parts = RequestParts {
            method: &self.method,
            target: &self.target,
            scheme: &self.scheme,
            headers: self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
            peer: self.peer.as_deref().and_then(|p| p.parse().ok()),
            client_certificate: self.certificate.as_deref(),
        };
        rv.verify(&parts, &self.scopes).await
    }
}

/// The outcome as Python sees it: an `authsec.resource.Accepted` or `Refusal`.
fn outcome(py: Python<'_>, r: Result<Accepted, Refusal>) -> PyResult<Bound<'_, PyAny>> {
    static ACCEPTED: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    match r {
        Ok(a) => ACCEPTED.import(py, "authsec.resource", "Accepted")?.call1((
            Claims { claims: a.claims },
            a.scheme.as_str(),
            a.binding.proof.map(|p| p.jkt),
            a.binding.certificate,
            a.headers,
        )),
        Err(r) => refusal(py, r),
    }
}

fn refusal(py: Python<'_>, r: Refusal) -> PyResult<Bound<'_, PyAny>> {
    static REFUSAL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let error = r.error.map(|e| to_py(py, &e).into_value(py));
    REFUSAL
        .import(py, "authsec.resource", "Refusal")?
        .call1((r.status, error, r.headers))
}

#[pymethods]
impl RequestVerifier {
    /// `verifier` (its clock too) and the request options, read by the core (`dpop`,
    /// `dpop_nonce`, `public_url`, `client_cert_header`, `resource_metadata`, ...).
    #[new]
    #[pyo3(signature = (verifier, **options))]
    fn new(py: Python<'_>, verifier: PyRef<'_, Verifier>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let policy = RequestPolicy::from_value(&to_json(options.map(|d| d.as_any()))?).py(py)?;
        let (core, clock) = (Arc::new(verifier.verifier.clone()), verifier.clock.clone());
        Ok(RequestVerifier {
            inner: Arc::new(Core::new(core, policy, clock.clone())),
            clock,
        })
    }

    /// Check a request: `Accepted` or `Refusal` (see `authsec.RequestVerifier.verify`).
    #[pyo3(signature = (method, target, scheme, headers, peer=None, client_certificate=None, required_scopes=None, any_scopes=None))]
    #[allow(clippy::too_many_arguments)]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        method: String,
        target: String,
        scheme: String,
        headers: Vec<(String, String)>,
        peer: Option<String>,
        client_certificate: Option<PyBackedBytes>,
        required_scopes: Option<Scopes>,
        any_scopes: Option<Scopes>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = Request::new(
            method,
            target,
            scheme,
            headers,
            peer,
            client_certificate,
            required_scopes,
            any_scopes,
        );
        let rv = &self.inner;
        outcome(py, py.detach(|| block_on(req.verify(rv))))
    }

    /// The same without blocking the event loop: an `asyncio.Future`.
    #[pyo3(signature = (method, target, scheme, headers, peer=None, client_certificate=None, required_scopes=None, any_scopes=None))]
    #[allow(clippy::too_many_arguments)]
    fn verify_async<'py>(
        &self,
        py: Python<'py>,
        method: String,
        target: String,
        scheme: String,
        headers: Vec<(String, String)>,
        peer: Option<String>,
        client_certificate: Option<PyBackedBytes>,
        required_scopes: Option<Scopes>,
        any_scopes: Option<Scopes>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = Request::new(
            method,
            target,
            scheme,
            headers,
            peer,
            client_certificate,
            required_scopes,
            any_scopes,
        );
        let rv = self.inner.clone();
        aio::spawn(py, async move { req.verify(&rv).await }, outcome)
    }

    /// The core's refusal of an accepted request whose current actor `actor` the verifier's
    /// `allowed_actors` callable refused (`scheme`: how the token came).
    #[pyo3(signature = (actor, scheme, required_scopes=None, any_scopes=None))]
    fn _refuse_actor<'py>(
        &self,
        py: Python<'py>,
        actor: &str,
        scheme: &str,
        required_scopes: Option<Scopes>,
        any_scopes: Option<Scopes>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let scopes = requirement(required_scopes, any_scopes);
        let used = Scheme::parse(scheme).unwrap_or(Scheme::Bearer);
        let r = self
            .inner
            .policy()
            .refusal(Some(actor_refused(actor)), Some(used), &scopes, self.clock.now_ms());
        refusal(py, r)
    }
}
