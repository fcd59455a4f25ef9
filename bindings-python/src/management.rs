//! `Management`: the core's management client (the server's `/admin` API) behind one entry point,
//! `call(operation, args)`. `authsec.Management` and `authsec.AsyncManagement`
//! (authsec/management.py) wrap each operation in a method and its answer in a typed result;
//! arguments, tokens, retries and the shape of every answer are the core's.

use crate::aio;
use crate::convert::to_json;
use crate::errors::IntoPyResult;
use authsec_native::{block_on, management_client, ManagementClient};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pythonize::pythonize;
use serde_json::Value;
use std::sync::Arc;

/// A management client: settings as `authsec.Management` takes them (read by the core).
#[pyclass(frozen, name = "Management", module = "authsec._native")]
pub struct Management {
    client: Arc<ManagementClient>,
}

/// The call's arguments (a dict, or `None` for none) as the core takes them.
fn args_of(args: Option<&Bound<'_, PyDict>>) -> PyResult<Value> {
    to_json(args.map(|d| d.as_any()))
}

#[pymethods]
impl Management {
    #[new]
    #[pyo3(signature = (**settings))]
    fn new(py: Python<'_>, settings: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let settings = match settings {
            Some(d) => to_json(Some(d.as_any()))?,
            None => Value::Object(Default::default()),
        };
        let client = management_client(&settings).py(py)?;
        Ok(Management {
            client: Arc::new(client),
        })
    }

    /// Run `operation` (`clients.create`, ...) with `args`, the interpreter released; its answer
    /// as Python values (lists: `{"items": [...], "next_cursor": ...}`; deletions: `None`).
    #[pyo3(signature = (operation, args=None))]
    fn call(&self, py: Python<'_>, operation: &str, args: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyAny>> {
        let (client, args, op) = (self.client.clone(), args_of(args)?, operation.to_string());
        let got = py.detach(move || block_on(async move { client.call(&op, &args).await }));
        Ok(pythonize(py, &got.py(py)?)?.unbind())
    }

    /// The same on the shared runtime, as an `asyncio.Future`.
    #[pyo3(signature = (operation, args=None))]
    fn call_async<'py>(
        &self,
        py: Python<'py>,
        operation: &str,
        args: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (client, args, op) = (self.client.clone(), args_of(args)?, operation.to_string());
        aio::spawn(py, async move { client.call(&op, &args).await }, |py, r| {
            Ok(pythonize(py, &r.py(py)?)?)
        })
    }

    /// Every operation's name.
    #[staticmethod]
    fn operations() -> Vec<&'static str> {
        ManagementClient::operations().to_vec()
    }

    /// The management API's URL, `{base_url}/admin`.
    #[getter]
    fn admin_url(&self) -> &str {
        self.client.admin_url()
    }
}
