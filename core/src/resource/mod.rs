//! The protected resource's HTTP side: reading the credential from a request and answering a
//! refused one (RFC 6750 bearer tokens; the DPoP scheme joins here).

pub mod bearer;
