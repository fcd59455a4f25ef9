//! # authsec-node
//!
//! The private native module behind `@authsec/sdk`: napi-rs (v3) classes and functions over
//! [`authsec_native`] (the core plus its rustls transport and tokio runtime). Everything here
//! converts types, maps errors and fits Node's threading model; the decisions (caching, expiry,
//! claims, scopes, challenges) are the core's.
//!
//! Threading: a call that the core can answer from its caches (`try_get_now`, `try_cached`)
//! answers on the JavaScript thread in well under a microsecond of core time. Everything else
//! (token requests, JWKS fetches, first-sight signature checks) runs on the shared `authsec-io`
//! tokio runtime and settles a Promise, so the event loop is never blocked.

mod client;
mod clock;
mod convert;
mod errors;
mod server;
mod spawn;
mod verifier;

pub use client::NativeClient;
pub use clock::ManualClock;
pub use server::LocalServer;
pub use verifier::NativeVerifier;
