//! # authsec-tools
//!
//! The workspace's development tools, in one crate that is never published:
//!
//! - [`vectors`]: the generator of the shared JWT-verification test vectors in `tests/vectors/`
//!   (binary `gen-vectors`; its drift check runs in this crate's tests).
#![forbid(unsafe_code)]

pub mod vectors;
