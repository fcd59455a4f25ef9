//! JWTs: algorithms, keys, signing, verification, claims, scopes.
pub mod alg;
pub mod claims;
pub mod jwks;
pub mod keys;
pub mod options;
pub mod scopes;
pub mod signing;
pub mod verify;
