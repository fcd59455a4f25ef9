//! DPoP (RFC 9449): proof of possession of a key with every request, on both sides.
//!
//! - [`htu`]: the target-URI comparison both sides share (RFC 3986 normalisation, query ignored).
//! - [`proof`]: the stateless checks of a proof (§4.3), returning what the stateful ones need.
//! - [`replay`]: the replay cache over (thumbprint, method, URI, `jti`) behind a store interface.
//! - [`nonce`]: the server's stateless nonces (§8, §9), time-boxed and authenticated with a key.
//! - [`proof_key`]: the client's key and the proofs it signs (§4.2).

pub mod htu;
pub mod nonce;
pub mod proof;
pub mod proof_key;
pub mod replay;

pub use htu::{htu_matches, normalize_htu};
pub use nonce::{NonceCheck, NonceIssuer};
pub use proof::{access_token_hash, verify_proof, DpopPolicy, ProofRequest, VerifiedProof};
pub use proof_key::ProofKey;
pub use replay::{MemoryReplayStore, ReplayStore};
