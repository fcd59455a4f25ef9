//! The messages of SPIFFE's `workload.proto` (service `SpiffeWorkloadAPI`) that this crate uses,
//! written by hand as prost messages: the field numbers and types are the proto file's, so the
//! wire format is the same as generated code's, and no `protoc` is needed at build time.
//! `ValidateJWTSVID` (which needs `google.protobuf.Struct`) is left out.

use std::collections::HashMap;

/// The gRPC paths of the methods used.
pub const FETCH_X509_SVID: &str = "/SpiffeWorkloadAPI/FetchX509SVID";
pub const FETCH_JWT_SVID: &str = "/SpiffeWorkloadAPI/FetchJWTSVID";
pub const FETCH_JWT_BUNDLES: &str = "/SpiffeWorkloadAPI/FetchJWTBundles";

/// The metadata every Workload API call carries (SPIFFE Workload API §6.2.1: the server refuses a
/// call without it, a guard against server-side request forgery).
pub const SECURITY_HEADER: &str = "workload.spiffe.io";

/// `X509SVIDRequest`: no parameters.
#[derive(Clone, Copy, PartialEq, Eq, ::prost::Message)]
pub struct X509SvidRequest {}

/// `X509SVIDResponse`.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct X509SvidResponse {
    #[prost(message, repeated, tag = "1")]
    pub svids: Vec<X509Svid>,
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub crl: Vec<Vec<u8>>,
    #[prost(map = "string, bytes", tag = "3")]
    pub federated_bundles: HashMap<String, Vec<u8>>,
}

/// `X509SVID`.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct X509Svid {
    #[prost(string, tag = "1")]
    pub spiffe_id: String,
    /// The certificate chain, DER certificates concatenated, the leaf first.
    #[prost(bytes = "vec", tag = "2")]
    pub x509_svid: Vec<u8>,
    /// The PKCS#8 private key (DER, unencrypted).
    #[prost(bytes = "vec", tag = "3")]
    pub x509_svid_key: Vec<u8>,
    /// The trust domain's X.509 bundle, DER certificates concatenated.
    #[prost(bytes = "vec", tag = "4")]
    pub bundle: Vec<u8>,
    #[prost(string, tag = "5")]
    pub hint: String,
}

/// `JWTSVIDRequest`.
#[derive(Clone, PartialEq, Eq, ::prost::Message)]
pub struct JwtSvidRequest {
    #[prost(string, repeated, tag = "1")]
    pub audience: Vec<String>,
    /// Empty: every identity the workload is entitled to.
    #[prost(string, tag = "2")]
    pub spiffe_id: String,
}

/// `JWTSVIDResponse`.
#[derive(Clone, PartialEq, Eq, ::prost::Message)]
pub struct JwtSvidResponse {
    #[prost(message, repeated, tag = "1")]
    pub svids: Vec<JwtSvid>,
}

/// `JWTSVID`.
#[derive(Clone, PartialEq, Eq, ::prost::Message)]
pub struct JwtSvid {
    #[prost(string, tag = "1")]
    pub spiffe_id: String,
    /// The JWT-SVID, JWS compact serialization.
    #[prost(string, tag = "2")]
    pub svid: String,
    #[prost(string, tag = "3")]
    pub hint: String,
}

/// `JWTBundlesRequest`: no parameters.
#[derive(Clone, Copy, PartialEq, Eq, ::prost::Message)]
pub struct JwtBundlesRequest {}

/// `JWTBundlesResponse`: JWKS documents keyed by the trust domain's SPIFFE ID.
#[derive(Clone, PartialEq, Eq, ::prost::Message)]
pub struct JwtBundlesResponse {
    #[prost(map = "string, bytes", tag = "1")]
    pub bundles: HashMap<String, Vec<u8>>,
}
