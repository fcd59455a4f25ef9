//! Delegation (RFC 8693 `act`): a verified token's chain as the core reads it
//! (`Claims::delegation`), handed to `authsec.Actor` (authsec/delegation.py) with the core's id of
//! each actor; and the core's refusal that `authsec.Verifier` raises when its `allowed_actors`
//! callable (the caller's own check, the only decision taken outside the core) says no.

use crate::errors::to_py;
use authsec_native::core::access_token::delegation::actor_refused as refused;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

type CoreActor = authsec_native::Actor;

/// An actor as Python sees it: an `authsec.Actor`, with the core's `id`.
pub fn actor(py: Python<'_>, a: &CoreActor) -> PyResult<Py<PyAny>> {
    static ACTOR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let fields = (&a.sub, &a.client_id, &a.iss, a.id());
    let from_native = ACTOR.import(py, "authsec.delegation", "_from_native")?;
    Ok(from_native.call1(fields)?.unbind())
}

/// The core's id of an actor (`client_id`, else `sub`), for `authsec.Actor(sub=..., ...)`.
#[pyfunction]
#[pyo3(signature = (sub=None, client_id=None, iss=None))]
pub fn actor_id(sub: Option<String>, client_id: Option<String>, iss: Option<String>) -> String {
    CoreActor { sub, client_id, iss }.id().to_string()
}

/// The core's refusal of the current actor `id` (`delegation_not_allowed`): the exception
/// `authsec.Verifier` raises when its `allowed_actors` callable answers no.
#[pyfunction]
pub fn actor_refused(py: Python<'_>, id: &str) -> Py<PyAny> {
    to_py(py, &refused(id)).into_value(py).into_any()
}
