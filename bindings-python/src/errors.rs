//! Core errors to Python exceptions. The classes live in `authsec/errors.py`; this module only
//! hands the error's fields to that module's factory, which picks the class for the code.

use authsec_native::Error;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// The Python exception for a core error (an `authsec.AuthsecError` subclass).
pub fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let fields = (
        e.code().as_str(),
        e.message(),
        e.status(),
        e.retry_after().map(|d| d.as_secs_f64()),
        e.missing_scopes(),
        e.oauth_error(),
    );
    match FACTORY
        .import(py, "authsec.errors", "_from_native")
        .and_then(|f| f.call1(fields))
    {
        Ok(exc) => PyErr::from_value(exc),
        // Only when `authsec.errors` cannot be imported (the native module used on its own).
        Err(_) => pyo3::exceptions::PyRuntimeError::new_err(e.to_string()),
    }
}

/// `map_err` helper.
pub trait IntoPyResult<T> {
    fn py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, Error> {
    fn py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, &e))
    }
}
