//! Delegation (RFC 8693 `act`): a verified token's chain as the core reads it
//! (`Claims::delegation`), handed to `authsec.Actor` (authsec/delegation.py) with the core's id of
//! each actor; and the `allowed_actors` callable a `Verifier` may be given instead of a list: the
//! only decision taken outside the core, and it is the user's own.

use crate::errors::to_py;
use authsec_native::core::access_token::delegation::actor_refused as refused;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

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
pub fn admit(py: Python<'_>, check: &Py<PyAny>, a: Option<&CoreActor>) -> PyResult<()> {
    let Some(a) = a else { return Ok(()) };
    if check.bind(py).call1((actor(py, a)?,))?.is_truthy()? {
        Ok(())
    } else {
        Err(to_py(py, &refused(a.id())))
    }
}
