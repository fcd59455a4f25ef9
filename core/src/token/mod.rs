//! Getting tokens: OAuth 2.0 client credentials (RFC 6749 §4.4) with a cache.
pub mod client;
pub mod discovery;
pub mod request;
pub mod response;
