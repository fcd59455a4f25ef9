//! Conversions between Python values and the core's types.

use authsec_native::core::scope::split_scopes;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyList, PyString};
use serde_json::Value;
use std::time::Duration;

/// Scopes given as a list of strings or one space-separated string.
pub struct Scopes(pub Vec<String>);

impl<'a, 'py> FromPyObject<'a, 'py> for Scopes {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(Scopes(split_scopes(&s.to_cow()?)));
        }
        let mut out = Vec::new();
        for item in obj.try_iter()? {
            out.push(item?.extract::<String>()?);
        }
        Ok(Scopes(out))
    }
}

/// One string or a list of strings (audiences, resources).
pub struct StrList(pub Vec<String>);

impl<'a, 'py> FromPyObject<'a, 'py> for StrList {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(StrList(vec![s.to_cow()?.into_owned()]));
        }
        let mut out = Vec::new();
        for item in obj.try_iter()? {
            out.push(item?.extract::<String>()?);
        }
        Ok(StrList(out))
    }
}

/// A duration in seconds (int or float) or a `datetime.timedelta`.
pub struct Seconds(pub Duration);

impl<'a, 'py> FromPyObject<'a, 'py> for Seconds {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let secs: f64 = if obj.hasattr(pyo3::intern!(obj.py(), "total_seconds"))? {
            obj.call_method0(pyo3::intern!(obj.py(), "total_seconds"))?.extract()?
        } else {
            obj.extract()?
        };
        if !secs.is_finite() || secs < 0.0 {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "a duration must be a non-negative number of seconds, not {secs}"
            )));
        }
        Ok(Seconds(Duration::from_secs_f64(secs)))
    }
}

/// JSON text from a `str`, `bytes`, or any value `json.dumps` accepts (a dict, for a JWKS or a JWK).
pub fn json_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return String::from_utf8(b.as_bytes().to_vec())
            .map_err(|_| pyo3::exceptions::PyValueError::new_err("expected UTF-8 JSON text"));
    }
    static DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    DUMPS.import(obj.py(), "json", "dumps")?.call1((obj,))?.extract()
}

/// A JSON value as a Python object (`dict`, `list`, `str`, `int`, `float`, `bool`, `None`).
pub fn json_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let items = a.iter().map(|x| json_to_py(py, x)).collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, x) in m {
                d.set_item(k, json_to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

/// Unix milliseconds as float seconds.
pub fn ms_to_secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// A string as Python's `repr()` writes it (single quotes unless the text has one and no `"`).
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A list of strings as Python's `repr()` writes it.
pub fn repr_list<S: AsRef<str>>(items: &[S]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| repr_str(s.as_ref()))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// An optional string as Python's `repr()` writes it.
pub fn repr_opt(s: Option<&str>) -> String {
    s.map(repr_str).unwrap_or_else(|| "None".to_string())
}
