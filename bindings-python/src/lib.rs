//! `authsec._native`: the Python extension module.
//!
//! Thin over the core: it converts types, maps errors to the Python exception classes of
//! `authsec.errors`, releases the interpreter lock around network calls and signature checks, and
//! hands async work to the shared tokio runtime. Every rule about tokens, scopes, expiry and claims
//! lives in `authsec-core`.

use pyo3::prelude::*;

mod aio;
mod client;
mod clock;
mod convert;
mod errors;
mod server;
mod verifier;

use authsec_native::core::resource::bearer::{bearer_token as core_bearer_token, challenge as core_challenge};
use authsec_native::{http_status as core_http_status, www_authenticate as core_www_authenticate, Error, ErrorCode};

/// Every stable error code of the core, in declaration order:
/// `(code, description, is_token_error, is_retryable)`.
#[pyfunction]
fn error_codes() -> Vec<(&'static str, &'static str, bool, bool)> {
    ErrorCode::ALL
        .iter()
        .map(|c| {
            (
                c.as_str(),
                c.description(),
                c.category() == authsec_native::ErrorCategory::InvalidToken,
                c.is_retryable(),
            )
        })
        .collect()
}

fn parse_code(code: &str) -> PyResult<ErrorCode> {
    ErrorCode::parse(code)
        .ok_or_else(|| pyo3::exceptions::PyValueError::new_err(format!("unknown authsec error code {code:?}")))
}

/// A core error from the fields a Python `AuthsecError` carries.
fn rebuild(code: Option<&str>, message: &str, missing_scopes: Option<convert::Scopes>) -> PyResult<Option<Error>> {
    Ok(match code {
        Some(c) => Some(
            Error::new(parse_code(c)?, message).with_missing_scopes(missing_scopes.map(|s| s.0).unwrap_or_default()),
        ),
        None => None,
    })
}

/// The HTTP status a protected resource answers for an error with this code (RFC 6750 §3.1).
#[pyfunction]
fn http_status(code: &str) -> PyResult<u16> {
    Ok(core_http_status(&Error::new(parse_code(code)?, "")))
}

/// A `WWW-Authenticate: Bearer ...` value (RFC 6750 §3); `code=None` when no token was sent.
#[pyfunction]
#[pyo3(signature = (realm=None, code=None, message="", missing_scopes=None, required_scopes=None))]
fn www_authenticate(
    realm: Option<&str>,
    code: Option<&str>,
    message: &str,
    missing_scopes: Option<convert::Scopes>,
    required_scopes: Option<convert::Scopes>,
) -> PyResult<String> {
    let err = rebuild(code, message, missing_scopes)?;
    Ok(core_www_authenticate(
        realm,
        err.as_ref(),
        &required_scopes.map(|s| s.0).unwrap_or_default(),
    ))
}

/// What a protected resource answers when it refuses a request (RFC 6750 §3):
/// `(status, error, www_authenticate)`; `code=None` when no bearer token was sent. The challenge is
/// `None` for 5xx answers.
#[pyfunction]
#[pyo3(signature = (realm=None, code=None, message="", missing_scopes=None, required_scopes=None))]
fn challenge(
    realm: Option<&str>,
    code: Option<&str>,
    message: &str,
    missing_scopes: Option<convert::Scopes>,
    required_scopes: Option<convert::Scopes>,
) -> PyResult<(u16, Option<&'static str>, Option<String>)> {
    let err = rebuild(code, message, missing_scopes)?;
    let c = core_challenge(realm, err.as_ref(), &required_scopes.map(|s| s.0).unwrap_or_default());
    Ok((c.status, c.error, c.www_authenticate))
}

/// The bearer token of an `Authorization` header value: `None` when there is no bearer
/// credential; raises `AuthsecError` (`invalid_request`) for `Bearer` without a token.
#[pyfunction]
#[pyo3(signature = (authorization))]
fn bearer_token(py: Python<'_>, authorization: Option<&str>) -> PyResult<Option<String>> {
    core_bearer_token(authorization)
        .map(|t| t.map(str::to_string))
        .map_err(|e| errors::to_py(py, &e))
}

/// Called from `atexit`: stop completing asyncio futures from the background thread.
#[pyfunction]
fn _shutdown() {
    aio::shutdown();
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<client::ClientCredentials>()?;
    m.add_class::<client::Token>()?;
    m.add_class::<verifier::Verifier>()?;
    m.add_class::<verifier::Claims>()?;
    m.add_class::<server::LocalServer>()?;
    m.add_class::<clock::ManualClock>()?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(http_status, m)?)?;
    m.add_function(wrap_pyfunction!(www_authenticate, m)?)?;
    m.add_function(wrap_pyfunction!(bearer_token, m)?)?;
    m.add_function(wrap_pyfunction!(challenge, m)?)?;
    m.add_function(wrap_pyfunction!(_shutdown, m)?)?;
    Ok(())
}
