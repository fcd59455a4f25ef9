//! `authsec._native`: the Python extension module.
//!
//! Thin over the core: it converts types (Python arguments become one JSON value that the core's
//! option readers take), maps errors to the Python exception classes of `authsec.errors`, releases
//! the interpreter lock around network calls and signature checks, and hands async work to the
//! shared tokio runtime. Every rule about tokens, scopes, expiry, claims and retries lives in
//! `authsec-core`. The local authorization server is not linked here: it is the separate
//! `authsec_testing` extension (`bindings-python/testing`).

use pyo3::prelude::*;

mod aio;
mod client;
mod clock;
mod convert;
mod delegation;
mod errors;
mod management;
mod mcp;
mod request;
mod spiffe;
mod verifier;

use authsec_native::core::resource::bearer::bearer_token as core_bearer_token;
use authsec_native::core::resource::challenge::{challenge_for, ChallengeParams, ErrorParts};
use authsec_native::{ErrorClass, ErrorCode};
use errors::IntoPyResult;

/// Every stable error code of the core, in declaration order:
/// `(code, category, class name, description, retryable)`.
#[pyfunction]
fn error_codes() -> Vec<(&'static str, &'static str, &'static str, &'static str, bool)> {
    let info = |c: &ErrorCode| {
        (
            c.as_str(),
            c.category().as_str(),
            c.class().name(),
            c.description(),
            c.is_retryable(),
        )
    };
    ErrorCode::ALL.iter().map(info).collect()
}

/// The core's error class tree, parents first: `(class name, parent name)`; the parent of a
/// category's class is the root, `AuthsecError`.
#[pyfunction]
fn error_classes() -> Vec<(&'static str, &'static str)> {
    ErrorClass::ALL
        .iter()
        .map(|c| (c.name(), c.parent().map_or("AuthsecError", ErrorClass::name)))
        .collect()
}

/// What a protected resource answers when it refuses a request (RFC 6750 §3):
/// `(status, error, www_authenticate)`; `code=None` when no bearer token was sent. The error and
/// the challenge are `None` for 5xx answers. Scopes: a list or one space-separated string;
/// `resource_metadata`: the URL of the resource's RFC 9728 metadata.
#[pyfunction]
#[pyo3(signature = (realm=None, code=None, message="", missing_scopes=None, required_scopes=None, resource_metadata=None))]
fn challenge(
    py: Python<'_>,
    realm: Option<String>,
    code: Option<&str>,
    message: &str,
    missing_scopes: Option<convert::Scopes>,
    required_scopes: Option<convert::Scopes>,
    resource_metadata: Option<String>,
) -> PyResult<(u16, Option<&'static str>, Option<String>)> {
    let missing_scopes = missing_scopes.map(|s| s.0).unwrap_or_default();
    let parts = code.map(|code| ErrorParts {
        code,
        message,
        missing_scopes,
    });
    let params = ChallengeParams {
        realm,
        resource_metadata,
        scopes: required_scopes.map(|s| s.0).unwrap_or_default(),
    };
    let c = challenge_for(&params, parts.as_ref()).py(py)?;
    Ok((c.status, c.error, c.www_authenticate))
}

/// The bearer token of an `Authorization` header value: `None` when there is no bearer
/// credential; raises `TokenRequestError` (`invalid_request`) for `Bearer` without a token.
#[pyfunction]
#[pyo3(signature = (authorization))]
fn bearer_token(py: Python<'_>, authorization: Option<&str>) -> PyResult<Option<String>> {
    core_bearer_token(authorization).map(|t| t.map(str::to_string)).py(py)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<client::ClientCredentials>()?;
    m.add_class::<verifier::Verifier>()?;
    m.add_class::<verifier::Claims>()?;
    m.add_class::<request::RequestVerifier>()?;
    m.add_class::<clock::ManualClock>()?;
    m.add_class::<management::Management>()?;
    m.add_class::<mcp::McpServerAuth>()?;
    m.add_class::<mcp::McpClient>()?;
    m.add_class::<spiffe::JwtSvidVerifier>()?;
    m.add_class::<spiffe::WorkloadApiClient>()?;
    m.add(
        "MCP_MAX_BODY_BYTES",
        authsec_native::core::mcp::operation::MAX_BODY_BYTES,
    )?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(error_classes, m)?)?;
    m.add_function(wrap_pyfunction!(bearer_token, m)?)?;
    m.add_function(wrap_pyfunction!(challenge, m)?)?;
    m.add_function(wrap_pyfunction!(delegation::actor_id, m)?)?;
    m.add_function(wrap_pyfunction!(delegation::actor_refused, m)?)?;
    m.add_function(wrap_pyfunction!(verifier::check_scopes, m)?)?;
    m.add_function(wrap_pyfunction!(spiffe::spiffe_id_matches, m)?)?;
    m.add_function(wrap_pyfunction!(aio::_shutdown, m)?)?;
    Ok(())
}
