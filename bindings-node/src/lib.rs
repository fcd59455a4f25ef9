//! # authsec-node
//!
//! The private native module behind `@authsec/sdk`: napi-rs (v3) classes and functions over
//! [`authsec_native`] (the core plus its rustls transport and tokio runtime). Everything here
//! converts types, maps errors and fits Node's threading model; the decisions (options, caching,
//! expiry, claims, scopes, challenges, retries) are the core's. The local authorization server is
//! not linked here: it is the separate testing addon (`testing/`, `@authsec/sdk/testing`).
//!
//! Threading: a call that the core can answer from its caches (`try_get_now`, `try_cached_with`)
//! answers on the JavaScript thread in well under a microsecond of core time. Everything else
//! (token requests, JWKS fetches, first-sight signature checks) runs off it and settles a Promise,
//! so the event loop is never blocked.

mod client;
mod clock;
mod convert;
mod direct;
mod errors;
mod management;
mod mcp;
mod request;
mod spawn;
mod spiffe;
mod verifier;
