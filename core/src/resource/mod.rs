//! The protected resource's HTTP side: its identifier ([`uri`]) and RFC 9728 metadata
//! ([`metadata`]), reading the credential from a request ([`bearer`]; the DPoP scheme joins here)
//! and answering a refused one ([`challenge`]).

pub mod bearer;
pub mod challenge;
pub mod metadata;
pub mod uri;
