//! Delegation (RFC 8693 `act`): `Actor`, one link of a verified token's chain as the core reads it
//! (`Claims::delegation`), and the `allowed_actors` callable a `Verifier` may be given instead of
//! a list: the only decision taken outside the core, and it is the user's own.

use crate::errors::to_py;
use authsec_native::core::access_token::delegation::actor_refused;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pythonize::pythonize;
use std::hash::{Hash, Hasher};

type CoreActor = authsec_native::Actor;

/// One party of a delegation chain: who acted for the token's subject. `id` is how policies
/// name it (`client_id`, else `sub`); members the token does not carry are `None`.
#[pyclass(frozen, name = "Actor", module = "authsec._native")]
pub struct Actor(pub CoreActor);

#[pymethods]
impl Actor {
    /// An actor as a token's `act` would name it (for tests of an `allowed_actors` callable).
    #[new]
    #[pyo3(signature = (*, sub=None, client_id=None, iss=None))]
    fn new(sub: Option<String>, client_id: Option<String>, iss: Option<String>) -> Self {
        Actor(CoreActor { sub, client_id, iss })
    }
    /// `sub`.
    #[getter]
    fn sub(&self) -> Option<&str> {
        self.0.sub.as_deref()
    }
    /// `client_id`.
    #[getter]
    fn client_id(&self) -> Option<&str> {
        self.0.client_id.as_deref()
    }
    /// `iss`: the issuer that named this actor, when the link says.
    #[getter]
    fn iss(&self) -> Option<&str> {
        self.0.iss.as_deref()
    }
    /// The actor's identifier as `allowed_actors` matches it: `client_id`, else `sub`.
    #[getter]
    fn id(&self) -> &str {
        self.0.id()
    }
    /// `{"sub", "client_id", "iss"}`, absent members left out.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        Ok(pythonize(py, &self.0.to_value())?.cast_into()?)
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Actor>().is_ok_and(|o| o.get().0 == self.0)
    }
    fn __hash__(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&self.0.sub, &self.0.client_id, &self.0.iss).hash(&mut h);
        h.finish()
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let show = |v: &Option<String>| -> PyResult<String> { Ok(v.into_pyobject(py)?.repr()?.to_string()) };
        Ok(format!(
            "Actor(sub={}, client_id={}, iss={})",
            show(&self.0.sub)?,
            show(&self.0.client_id)?,
            show(&self.0.iss)?
        ))
    }
}

/// `allowed_actors` when it is a callable: taken out of the options (the core reads a list of
/// ids; a callable is the caller's own check). `None` when it is absent or not callable.
pub fn take_actor_check(options: Option<&Bound<'_, PyDict>>) -> PyResult<Option<Py<PyAny>>> {
    let Some(options) = options else { return Ok(None) };
    match options.get_item("allowed_actors")? {
        Some(check) if check.is_callable() => {
            options.del_item("allowed_actors")?;
            Ok(Some(check.unbind()))
        }
        _ => Ok(None),
    }
}

/// Ask the caller's `allowed_actors` callable about the current actor of a verified token (never
/// for an undelegated one); a falsy answer is the core's `delegation_not_allowed` refusal
/// (`DelegationError`), and an exception it raises propagates as it is.
pub fn admit(py: Python<'_>, check: &Py<PyAny>, actor: Option<&CoreActor>) -> PyResult<()> {
    let Some(actor) = actor else { return Ok(()) };
    if check.bind(py).call1((Actor(actor.clone()),))?.is_truthy()? {
        Ok(())
    } else {
        Err(to_py(py, &actor_refused(actor.id())))
    }
}
