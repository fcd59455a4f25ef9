//! Python values as JSON values, the form the core's option readers take.

use authsec_native::core::scope::split_scopes;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use serde_json::{Map, Value};

/// A Python argument as JSON, for the core's readers: a `dict` (keyword arguments) entry by entry,
/// what `pythonize` reads (`None`, `bool`, `int`, `float`, `str`, lists, tuples, sets, mappings),
/// else `bytes` (UTF-8 text), a `datetime.timedelta` (its seconds) or an `os.PathLike` (its
/// path). What the value means is for the core to read.
pub fn to_json(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Value> {
    let Some(obj) = obj else { return Ok(Value::Null) };
    if let Ok(d) = obj.cast::<PyDict>() {
        // Entry by entry, so that a value below may be one of the types read here.
        let entries = d.iter().map(|(k, v)| Ok((k.extract::<String>()?, to_json(Some(&v))?)));
        return Ok(Value::Object(entries.collect::<PyResult<Map<_, _>>>()?));
    }
    let err = match pythonize::depythonize::<Value>(obj) {
        Ok(v) => return Ok(v),
        Err(e) => PyErr::from(e),
    };
    let py = obj.py();
    if let Ok(b) = obj.cast::<PyBytes>() {
        let text = std::str::from_utf8(b.as_bytes()).map_err(|_| PyValueError::new_err("expected UTF-8 text"))?;
        return Ok(Value::String(text.to_string()));
    }
    for method in [pyo3::intern!(py, "total_seconds"), pyo3::intern!(py, "__fspath__")] {
        if obj.hasattr(method)? {
            return to_json(Some(&obj.call_method0(method)?));
        }
    }
    Err(err)
}

/// Scopes given as a list or one space-separated string (split by the core's `split_scopes`).
pub struct Scopes(pub Vec<String>);

impl<'a, 'py> FromPyObject<'a, 'py> for Scopes {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        match obj.cast::<PyString>() {
            Ok(s) => Ok(Scopes(split_scopes(&s.to_cow()?))),
            Err(_) => Ok(Scopes(obj.extract()?)),
        }
    }
}
