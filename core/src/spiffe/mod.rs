//! SPIFFE workload identity: SPIFFE IDs ([`id`]) and authorisation on them ([`id_matcher`]), trust
//! bundles ([`bundle`]) and where they come from ([`bundle_source`]: a file, a bundle endpoint, the
//! Workload API's pushes), the JWT-SVID rules ([`jwt_svid`], sans-IO) and the verifier over a
//! bundle source ([`verifier`]), and the workload's own SVIDs for secretless token requests
//! ([`svid_source`]; the client side is [`crate::client::workload_identity`]).
//!
//! The Workload API itself (gRPC over a Unix socket) is I/O, so it lives in the native layer,
//! which implements [`svid_source::JwtSvidSource`] and feeds [`bundle_source::SharedBundles`].

pub mod bundle;
pub mod bundle_source;
pub mod id;
pub mod id_matcher;
pub mod jwt_svid;
pub mod svid_source;
pub mod verifier;

pub use bundle::{BundleSet, JwtBundle};
pub use bundle_source::{BundleEndpoint, BundleEndpointPolicy, BundleSource, SharedBundles, StaticBundles};
pub use id::{SpiffeId, TrustDomain};
pub use id_matcher::{IdPattern, SpiffeIdMatcher};
pub use jwt_svid::{verify_jwt_svid, JwtSvid, JwtSvidPolicy};
pub use svid_source::{FetchedSvid, JwtSvidSource, SvidCache};
pub use verifier::{JwtSvidOptions, JwtSvidVerifier};
