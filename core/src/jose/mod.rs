//! JOSE primitives: asymmetric algorithms, public keys and key sets (JWK, JWKS), private signing
//! keys, and the JWS compact serialization. Nothing here knows what a token is for: that is the
//! policy of [`crate::access_token`] (and of the proofs to come).

pub mod alg;
pub mod compact;
pub mod keys;
#[cfg(feature = "aws_lc_rs")]
mod parsed_key;
pub mod signing;
