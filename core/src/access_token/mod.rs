//! Access-token verification (RFC 9068 JWTs): the configuration and its options reader, the rules
//! (header policy, then claims, then the delegation chain), the claims of a verified token, the verified-token cache, and the
//! [`Verifier`] that applies them with keys from a [`crate::key_provider::KeyProvider`].

pub mod cache;
pub mod claims;
pub mod config;
pub mod delegation;
pub mod options;
pub mod rules;
pub mod verifier;

pub use claims::Claims;
pub use config::{TypPolicy, VerifierConfig};
pub use delegation::{Actor, DelegationPolicy};
pub use options::{KeySpec, VerifierOptions};
pub use verifier::{Prepared, SignatureCheck, Verifier};
