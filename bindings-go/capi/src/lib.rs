//! # authsec-capi
//!
//! The C ABI over `authsec-core` (via `authsec-native`) behind the Go module: it converts and maps
//! errors; every decision about tokens, keys, claims, scopes and retries is the core's. One module
//! per object, as rustls-ffi lays out its C API; the conventions are stated in `authsec.h`. The
//! local server for tests is the separate shared library `libauthsec_capi_testing` (`capi-testing/`).
#![allow(clippy::missing_safety_doc)]

pub mod challenge;
pub mod client;
pub mod clock;
pub mod error;
mod ffi;
pub mod management;
pub mod mcp;
mod panic;
pub mod request;
pub mod spiffe;
pub mod verifier;

pub(crate) use error::result_code;

pub(crate) type CoreResult<T> = authsec_native::Result<T>;
