//! The protected resource's HTTP side: its identifier ([`uri`]) and RFC 9728 metadata
//! ([`metadata`]); a request as data ([`request`]), its target URI behind proxies ([`origin`]), its
//! credential ([`credential`], [`bearer`]) and client certificate ([`client_cert`]); the token's
//! binding to a DPoP key or a certificate ([`binding`]); the whole check of a request
//! ([`request_verifier`]); and answering a refused one ([`challenge`]).

pub mod bearer;
pub mod binding;
pub mod challenge;
pub mod client_cert;
pub mod credential;
pub mod metadata;
pub mod origin;
pub mod request;
pub mod request_verifier;
pub mod uri;
