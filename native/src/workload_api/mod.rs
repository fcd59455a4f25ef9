//! A client for the SPIFFE Workload API: gRPC (HTTP/2) over the Unix socket (or loopback TCP
//! port) named by `SPIFFE_ENDPOINT_SOCKET`, usually the SPIRE agent's.
//!
//! It fetches JWT-SVIDs for audiences, the JWT bundles (one JWKS per trust domain), and the
//! X.509 context (the workload's X.509-SVIDs with their keys and bundles, and the federated
//! bundles), once or as a [`Watch`] that follows the server's stream. Every call carries the
//! metadata `workload.spiffe.io: true`, as the Workload API requires. What comes back is plain
//! data: the raw JWT-SVID (a [`Secret`]), the raw JWKS bytes, DER certificates and the PKCS#8 key
//! (zeroized on drop). Nothing here verifies an SVID: that is the core's job (a JWT-SVID is a JWT
//! checked against the bundle's JWKS like any other token), so the rules live in one place.
//!
//! # Why hand-written messages instead of the `spiffe` crate
//!
//! `spiffe` 0.19 (the maintained Rust client) was considered first. It does not fit here: its
//! generated protobuf module is private, and its client returns its own parsed types only: JWT
//! bundles become `jsonwebtoken` keys (the JWKS bytes are gone, and keys it cannot parse fail the
//! whole set), JWT-SVIDs are parsed and checked as it sees fit before we get them, certificates go
//! through `x509-parser`. It also declares rust-version 1.88 (this workspace: 1.85) and pulls
//! `x509-parser`, `time` and a second JWT stack. So the three messages we use are written by hand
//! as `prost` structs ([`proto`], the field numbers of SPIFFE's `workload.proto`) and sent with
//! tonic's generic client (`tonic::client::Grpc` + `tonic_prost::ProstCodec`): no `protoc` and no
//! build script, the same wire format as generated code.
//!
//! # Errors and bounds
//!
//! An unreachable socket, a broken stream, or `PermissionDenied` (the agent has issued no
//! identity to this workload yet) are `workload_api_unavailable` (class `Unavailable`,
//! retryable); `InvalidArgument` (a request the server refuses, e.g. without the metadata) and
//! `Unimplemented` are `config_error`; an answer that cannot be used is `invalid_response`; a
//! call slower than the client's timeout (30 s by default) is `timeout`. Messages name the
//! endpoint and what to check, never an SVID or a key. Messages are at most
//! [`MAX_MESSAGE_BYTES`]; at most [`MAX_SVIDS`] SVIDs, [`MAX_BUNDLES`] bundles and
//! [`MAX_CERTS`] certificates per chain or bundle are accepted.

mod convert;
mod endpoint;
#[cfg(all(unix, feature = "fake-workload-api"))]
pub mod fake;
pub mod proto;
mod watch;

pub use endpoint::ENV_VAR;
pub use watch::Watch;

use crate::runtime;
use authsec_core::{Error, ErrorCode, Result, Secret};
use endpoint::Target;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tonic::transport::Channel;
use tonic::{Code, Status};
use zeroize::Zeroizing;

/// The largest gRPC message accepted.
pub const MAX_MESSAGE_BYTES: usize = 4 << 20;
/// The most SVIDs accepted in one answer.
pub const MAX_SVIDS: usize = 64;
/// The most bundles (trust domains) accepted in one answer.
pub const MAX_BUNDLES: usize = 256;
/// The most certificates accepted in one chain or one bundle.
pub const MAX_CERTS: usize = 256;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const BACKOFF_INITIAL: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// One JWT-SVID.
#[derive(Clone, Debug)]
pub struct JwtSvidEntry {
    pub spiffe_id: String,
    /// The JWT-SVID (JWS compact serialization).
    pub svid: Secret,
    /// The operator's hint for choosing among several SVIDs (often empty).
    pub hint: String,
}

/// The JWT bundles: each trust domain's JWKS, as the server sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JwtBundles {
    /// Trust domain name (`example.org`, without `spiffe://`) -> the JWKS document's bytes.
    pub bundles: BTreeMap<String, Vec<u8>>,
}

/// The X.509 context: the workload's X.509-SVIDs and the bundles of federated trust domains.
#[derive(Clone, Debug, Default)]
pub struct X509Context {
    /// The first is the default SVID.
    pub svids: Vec<X509Svid>,
    /// Trust domain name -> its CA certificates, DER concatenated.
    pub federated_bundles: BTreeMap<String, Vec<u8>>,
}

/// One X.509-SVID with its key and its trust domain's bundle.
#[derive(Clone)]
pub struct X509Svid {
    pub spiffe_id: String,
    /// DER certificates, the leaf first.
    pub cert_chain_der: Vec<Vec<u8>>,
    /// The PKCS#8 private key (DER).
    pub private_key_pkcs8_der: Zeroizing<Vec<u8>>,
    /// The trust domain's CA certificates (DER).
    pub bundle_der: Vec<Vec<u8>>,
    pub hint: String,
}

impl std::fmt::Debug for X509Svid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X509Svid")
            .field("spiffe_id", &self.spiffe_id)
            .field(
                "cert_chain_der",
                &format_args!("[{} certificates]", self.cert_chain_der.len()),
            )
            .field("private_key_pkcs8_der", &"***")
            .field("bundle_der", &format_args!("[{} certificates]", self.bundle_der.len()))
            .field("hint", &self.hint)
            .finish()
    }
}

impl X509Svid {
    /// The certificate chain as PEM, the leaf first.
    pub fn cert_chain_pem(&self) -> String {
        self.cert_chain_der.iter().map(|c| pem("CERTIFICATE", c)).collect()
    }
    /// The private key as PEM (`PRIVATE KEY`, PKCS#8).
    pub fn private_key_pem(&self) -> Secret {
        Secret::new(pem("PRIVATE KEY", &self.private_key_pkcs8_der))
    }
    /// The trust domain's CA certificates as PEM.
    pub fn bundle_pem(&self) -> String {
        self.bundle_der.iter().map(|c| pem("CERTIFICATE", c)).collect()
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = Zeroizing::new(authsec_core::util::b64_std_encode(der));
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str(&format!("-----BEGIN {label}-----\n"));
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A Workload API client. Cheap to clone (clones share one connection, made on first use and
/// remade after a failure).
#[derive(Clone)]
pub struct WorkloadApiClient {
    endpoint: Arc<str>,
    channel: Channel,
    timeout: Duration,
    backoff: (Duration, Duration),
}

impl std::fmt::Debug for WorkloadApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkloadApiClient")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl WorkloadApiClient {
    /// The client for the endpoint in `SPIFFE_ENDPOINT_SOCKET`.
    pub fn from_env() -> Result<Self> {
        match std::env::var(ENV_VAR) {
            Ok(v) if !v.trim().is_empty() => Self::new(&v),
            Ok(_) | Err(std::env::VarError::NotPresent) => Err(Error::config(format!(
                "{ENV_VAR} is not set: set it to the SPIFFE Workload API socket (the SPIRE agent's, \
                 e.g. unix:///run/spire/sockets/agent.sock)"
            ))),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::config(format!("{ENV_VAR} is not valid UTF-8"))),
        }
    }

    /// The client for `unix:///path` or `tcp://IP:PORT`. Nothing is connected yet.
    pub fn new(endpoint: &str) -> Result<Self> {
        let target = endpoint::parse(endpoint)?;
        let channel = connect_lazy(&target)?;
        Ok(WorkloadApiClient {
            endpoint: endpoint.trim().into(),
            channel,
            timeout: DEFAULT_TIMEOUT,
            backoff: (BACKOFF_INITIAL, BACKOFF_MAX),
        })
    }

    /// The endpoint, as given.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// How long a fetch may take (connecting included); 30 s by default.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A watch's reconnection delays: the first, doubled after each failure up to `max`, each
    /// drawn with jitter from its upper half. 1 s and 30 s by default; tests shorten them.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        let initial = initial.max(Duration::from_millis(1));
        self.backoff = (initial, max.max(initial));
        self
    }

    /// The JWT-SVIDs for `audience` (at least one): every identity's, or `spiffe_id`'s only.
    pub async fn fetch_jwt_svids(&self, audience: &[String], spiffe_id: Option<&str>) -> Result<Vec<JwtSvidEntry>> {
        if audience.is_empty() || audience.iter().any(|a| a.trim().is_empty()) {
            return Err(Error::config(
                "a JWT-SVID needs at least one audience, and no empty one: name the service it is for",
            ));
        }
        let req = proto::JwtSvidRequest {
            audience: audience.to_vec(),
            spiffe_id: spiffe_id.unwrap_or_default().to_string(),
        };
        let this = self.clone();
        on_runtime(async move {
            let call = "FetchJWTSVID";
            let resp = this.bounded(call, this.unary(proto::FETCH_JWT_SVID, req)).await?;
            convert::jwt_svids(resp).map_err(|why| this.invalid_response(call, &why))
        })
        .await
    }

    /// The JWT bundles (the first message of `FetchJWTBundles`).
    pub async fn fetch_jwt_bundles(&self) -> Result<JwtBundles> {
        let this = self.clone();
        on_runtime(async move {
            let call = "FetchJWTBundles";
            let resp = this
                .bounded(call, this.first(proto::FETCH_JWT_BUNDLES, proto::JwtBundlesRequest {}))
                .await?;
            convert::jwt_bundles(resp).map_err(|why| this.invalid_response(call, &why))
        })
        .await
    }

    /// The X.509 context (the first message of `FetchX509SVID`).
    pub async fn fetch_x509_context(&self) -> Result<X509Context> {
        let this = self.clone();
        on_runtime(async move {
            let call = "FetchX509SVID";
            let resp = this
                .bounded(call, this.first(proto::FETCH_X509_SVID, proto::X509SvidRequest {}))
                .await?;
            convert::x509_context(resp).map_err(|why| this.invalid_response(call, &why))
        })
        .await
    }

    /// Follow the JWT bundles: `on_update` gets each new full set (on the I/O runtime; keep it
    /// short). Reconnects with backoff; stops when the [`Watch`] is dropped or stopped.
    pub fn watch_jwt_bundles(&self, on_update: Arc<dyn Fn(JwtBundles) + Send + Sync>) -> Watch {
        watch::start(
            self.clone(),
            "FetchJWTBundles",
            proto::FETCH_JWT_BUNDLES,
            proto::JwtBundlesRequest {},
            convert::jwt_bundles,
            on_update,
        )
    }

    /// Follow the X.509 context, as [`watch_jwt_bundles`](Self::watch_jwt_bundles).
    pub fn watch_x509_context(&self, on_update: Arc<dyn Fn(X509Context) + Send + Sync>) -> Watch {
        watch::start(
            self.clone(),
            "FetchX509SVID",
            proto::FETCH_X509_SVID,
            proto::X509SvidRequest {},
            convert::x509_context,
            on_update,
        )
    }

    // ----- the gRPC calls -----

    fn grpc(&self) -> tonic::client::Grpc<Channel> {
        tonic::client::Grpc::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES)
    }

    async fn unary<Req, Resp>(&self, path: &'static str, msg: Req) -> std::result::Result<Resp, Status>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let mut grpc = self.grpc();
        grpc.ready().await.map_err(|e| Status::from_error(Box::new(e)))?;
        let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
        let path = http::uri::PathAndQuery::from_static(path);
        Ok(grpc.unary(request(msg), path, codec).await?.into_inner())
    }

    async fn stream<Req, Resp>(
        &self,
        path: &'static str,
        msg: Req,
    ) -> std::result::Result<tonic::Streaming<Resp>, Status>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let mut grpc = self.grpc();
        grpc.ready().await.map_err(|e| Status::from_error(Box::new(e)))?;
        let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
        let path = http::uri::PathAndQuery::from_static(path);
        Ok(grpc.server_streaming(request(msg), path, codec).await?.into_inner())
    }

    async fn first<Req, Resp>(&self, path: &'static str, msg: Req) -> std::result::Result<Resp, Status>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let mut stream = self.stream(path, msg).await?;
        stream
            .message()
            .await?
            .ok_or_else(|| Status::unavailable("the stream ended before its first message"))
    }

    async fn bounded<T>(
        &self,
        call: &str,
        fut: impl std::future::Future<Output = std::result::Result<T, Status>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(r) => r.map_err(|s| self.status_error(call, &s)),
            Err(_) => Err(Error::timeout(format!(
                "the SPIFFE Workload API at {} did not answer {call} within {:?}: is the SPIRE agent running and healthy?",
                self.endpoint, self.timeout
            ))),
        }
    }

    // ----- errors -----

    fn status_error(&self, call: &str, s: &Status) -> Error {
        let ep = &self.endpoint;
        let detail = status_detail(s);
        match s.code() {
            Code::PermissionDenied => Error::new(
                ErrorCode::WorkloadApiUnavailable,
                format!(
                    "the SPIFFE Workload API at {ep} has no identity for this workload (yet) ({call}: {detail}): \
                     is the workload registered with the SPIRE server? retry later"
                ),
            ),
            Code::InvalidArgument => Error::config(format!(
                "the SPIFFE Workload API at {ep} refused {call} as invalid ({detail})"
            )),
            Code::Unimplemented => Error::config(format!(
                "{ep} does not serve the SPIFFE Workload API's {call} ({detail}): is {ENV_VAR} the SPIRE agent's socket?"
            )),
            Code::DeadlineExceeded => Error::timeout(format!(
                "the SPIFFE Workload API at {ep} timed out on {call} ({detail}): is the SPIRE agent healthy?"
            )),
            _ => Error::new(
                ErrorCode::WorkloadApiUnavailable,
                format!(
                    "the SPIFFE Workload API at {ep} is unavailable ({call}: {detail}): is the SPIRE agent running? \
                     is {ENV_VAR} right?"
                ),
            ),
        }
    }

    fn invalid_response(&self, call: &str, why: &str) -> Error {
        Error::new(
            ErrorCode::InvalidResponse,
            format!(
                "the SPIFFE Workload API at {} sent an unusable {call} answer: {why}",
                self.endpoint
            ),
        )
    }
}

/// A status's code and message, with the innermost cause (an I/O error names the socket's
/// problem: "No such file or directory", "Permission denied", "Connection refused").
fn status_detail(s: &Status) -> String {
    let mut cause: Option<String> = None;
    let mut src = std::error::Error::source(s);
    let mut depth = 0;
    while let Some(e) = src {
        cause = Some(e.to_string());
        src = e.source();
        depth += 1;
        if depth > 16 {
            break;
        }
    }
    let msg = authsec_core::util::truncate(s.message());
    let code = format!("{:?}", s.code());
    match cause.map(|c| authsec_core::util::truncate(&c)) {
        Some(c) if !msg.contains(&c) && !msg.is_empty() => format!("{code}: {msg}: {c}"),
        Some(c) => format!("{code}: {c}"),
        None if msg.is_empty() => code,
        None => format!("{code}: {msg}"),
    }
}

fn request<T>(msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    req.metadata_mut().insert(
        proto::SECURITY_HEADER,
        tonic::metadata::MetadataValue::from_static("true"),
    );
    req
}

/// Run on the shared runtime, so the future can be awaited from any executor.
async fn on_runtime<T: Send + 'static>(
    fut: impl std::future::Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    runtime()
        .spawn(fut)
        .await
        .map_err(|e| Error::internal(format!("the Workload API task failed: {e}")))?
}

fn connect_lazy(target: &Target) -> Result<Channel> {
    // The channel's worker task is spawned where it is made: on the shared runtime.
    let _guard = runtime().enter();
    let endpoint = tonic::transport::Endpoint::from_static("http://localhost").connect_timeout(CONNECT_TIMEOUT);
    Ok(match target.clone() {
        #[cfg(not(unix))]
        Target::Unix(_) => {
            return Err(Error::config(
                "this platform has no Unix domain sockets: give the Workload API as tcp://IP:PORT",
            ))
        }
        #[cfg(unix)]
        Target::Unix(path) => {
            let path = Arc::new(path);
            endpoint.connect_with_connector_lazy(tower::service_fn(move |_: http::Uri| {
                let path = path.clone();
                async move {
                    let s = tokio::net::UnixStream::connect(&*path).await?;
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(s))
                }
            }))
        }
        Target::Tcp(addr) => endpoint.connect_with_connector_lazy(tower::service_fn(move |_: http::Uri| async move {
            let s = tokio::net::TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(s))
        })),
    })
}
