//! A fake SPIFFE Workload API for tests (feature `fake-workload-api`; never in production builds).
//!
//! It serves gRPC on a Unix socket (a tonic server on the shared runtime) and is its own small
//! SPIFFE authority for one trust domain (`example.org` by default): an ES256 JWT signing key with
//! a kid, and an X.509 CA (rcgen). It answers `FetchJWTSVID` (claims `{sub, aud: [..], exp:
//! now+300, iat}`, header `{alg: ES256, typ: JWT, kid}`), `FetchJWTBundles` (the trust domain's
//! JWKS, keyed `spiffe://<td>`, keys without `use` or `alg` as SPIRE's agent sends them) and
//! `FetchX509SVID` (a leaf with the SPIFFE ID as URI SAN, its PKCS#8 key, the CA as bundle);
//! `ValidateJWTSVID` and the X.509 bundles call answer `Unimplemented`. Like SPIRE it refuses a
//! call without the `workload.spiffe.io: true` metadata with `InvalidArgument`. Streams send the
//! full state first and again after every change ([`FakeWorkloadApi::rotate_jwt_key`],
//! [`FakeWorkloadApi::rotate_x509`], [`FakeWorkloadApi::set_spiffe_id`]). It stops when dropped.

use super::proto;
use crate::runtime;
use authsec_core::jose::alg::Alg;
use authsec_core::jose::signing::SigningKey;
use authsec_core::{Error, Result};
use futures::{Stream, StreamExt};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use tokio::sync::watch;
use tonic::body::Body;
use tonic::{Request, Response, Status};

/// The SPIFFE ID served unless [`FakeWorkloadApi::set_spiffe_id`] says otherwise.
pub const DEFAULT_SPIFFE_ID: &str = "spiffe://example.org/workload";

struct X509State {
    ca: rcgen::Issuer<'static, rcgen::KeyPair>,
    ca_der: Vec<u8>,
    leaf_der: Vec<u8>,
    leaf_key_der: Vec<u8>,
}

struct Authority {
    spiffe_id: String,
    /// Every published key; the last one signs.
    jwt_keys: Vec<SigningKey>,
    x509: X509State,
}

struct Inner {
    trust_domain: String,
    authority: Mutex<Authority>,
    /// Bumped on every change: the streams send the new state.
    changes: watch::Sender<u64>,
    stopped: watch::Sender<bool>,
    deny: AtomicU32,
    invalid: AtomicU32,
    calls: AtomicU64,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Authority> {
        self.authority.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn changed(&self) {
        self.changes.send_modify(|v| *v += 1);
    }
}

/// A running fake Workload API. See the module documentation.
pub struct FakeWorkloadApi {
    inner: Arc<Inner>,
    socket: PathBuf,
}

impl std::fmt::Debug for FakeWorkloadApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeWorkloadApi")
            .field("socket", &self.socket)
            .finish_non_exhaustive()
    }
}

fn fail(what: &str, e: impl std::fmt::Display) -> Error {
    Error::internal(format!("the fake Workload API cannot {what}: {e}"))
}

impl FakeWorkloadApi {
    /// Serve on `path`: a directory (the socket is `agent.sock` in it) or the socket's path.
    /// Trust domain `example.org`.
    pub fn start(path: impl AsRef<Path>) -> Result<FakeWorkloadApi> {
        Self::start_for(path, "example.org")
    }

    /// Serve on `path` as the authority of `trust_domain`; the SPIFFE ID is
    /// `spiffe://<trust_domain>/workload`.
    pub fn start_for(path: impl AsRef<Path>, trust_domain: &str) -> Result<FakeWorkloadApi> {
        let path = path.as_ref();
        let socket = if path.is_dir() {
            path.join("agent.sock")
        } else {
            path.to_path_buf()
        };
        if socket.exists() {
            std::fs::remove_file(&socket).map_err(|e| fail("remove the old socket", e))?;
        }
        let std_listener = std::os::unix::net::UnixListener::bind(&socket)
            .map_err(|e| fail(&format!("bind {}", socket.display()), e))?;
        std_listener
            .set_nonblocking(true)
            .map_err(|e| fail("configure the socket", e))?;
        let listener = {
            let _guard = runtime().enter();
            tokio::net::UnixListener::from_std(std_listener).map_err(|e| fail("listen", e))?
        };
        let x509 = new_x509(trust_domain, &format!("spiffe://{trust_domain}/workload"))?;
        let inner = Arc::new(Inner {
            trust_domain: trust_domain.to_string(),
            authority: Mutex::new(Authority {
                spiffe_id: format!("spiffe://{trust_domain}/workload"),
                jwt_keys: vec![new_jwt_key()?],
                x509,
            }),
            changes: watch::channel(0).0,
            stopped: watch::channel(false).0,
            deny: AtomicU32::new(0),
            invalid: AtomicU32::new(0),
            calls: AtomicU64::new(0),
        });
        let incoming = futures::stream::unfold(listener, |l| async move {
            let conn = l.accept().await.map(|(s, _)| s);
            Some((conn, l))
        });
        let mut stopped = inner.stopped.subscribe();
        let svc = FakeService(inner.clone());
        runtime().spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            let _ = tonic::transport::Server::builder()
                .serve_with_incoming_shutdown(svc, incoming, shutdown)
                .await;
        });
        Ok(FakeWorkloadApi { inner, socket })
    }

    /// The socket's path.
    pub fn socket_path(&self) -> &Path {
        &self.socket
    }

    /// The endpoint for `SPIFFE_ENDPOINT_SOCKET`: `unix:///path/to/agent.sock`.
    pub fn endpoint(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The trust domain served.
    pub fn trust_domain(&self) -> &str {
        &self.inner.trust_domain
    }

    /// The SPIFFE ID served now.
    pub fn spiffe_id(&self) -> String {
        self.inner.lock().spiffe_id.clone()
    }

    /// Serve another SPIFFE ID (a new X.509-SVID is issued for it; the streams send it).
    pub fn set_spiffe_id(&self, id: &str) -> Result<()> {
        {
            let mut a = self.inner.lock();
            let (der, key) = new_leaf(&a.x509.ca, id)?;
            a.spiffe_id = id.to_string();
            a.x509.leaf_der = der;
            a.x509.leaf_key_der = key;
        }
        self.inner.changed();
        Ok(())
    }

    /// A new JWT signing key (and kid) signs from now on; the bundle holds the old and the new.
    pub fn rotate_jwt_key(&self) -> Result<()> {
        let key = new_jwt_key()?;
        self.inner.lock().jwt_keys.push(key);
        self.inner.changed();
        Ok(())
    }

    /// The kid of the key that signs now.
    pub fn jwt_kid(&self) -> String {
        self.inner
            .lock()
            .jwt_keys
            .last()
            .map(|k| k.kid().to_string())
            .unwrap_or_default()
    }

    /// A new X.509-SVID (new key, same CA).
    pub fn rotate_x509(&self) -> Result<()> {
        {
            let mut a = self.inner.lock();
            let (der, key) = new_leaf(&a.x509.ca, &a.spiffe_id)?;
            a.x509.leaf_der = der;
            a.x509.leaf_key_der = key;
        }
        self.inner.changed();
        Ok(())
    }

    /// The CA certificate (DER).
    pub fn ca_der(&self) -> Vec<u8> {
        self.inner.lock().x509.ca_der.clone()
    }

    /// Answer the next `n` calls with `PermissionDenied` ("no identity issued"), as an agent does
    /// before the workload is attested and registered.
    pub fn deny_next(&self, n: u32) {
        self.inner.deny.store(n, Ordering::SeqCst);
    }

    /// Answer the next `n` calls with `InvalidArgument`, as SPIRE answers a request it refuses.
    pub fn refuse_next(&self, n: u32) {
        self.inner.invalid.store(n, Ordering::SeqCst);
    }

    /// How many of the denials asked for are still to come.
    pub fn denials_left(&self) -> u32 {
        self.inner.deny.load(Ordering::SeqCst)
    }

    /// How many calls were made (refused ones included).
    pub fn calls(&self) -> u64 {
        self.inner.calls.load(Ordering::SeqCst)
    }

    /// The JWT bundle served now (a JWKS document).
    pub fn jwt_bundle_json(&self) -> String {
        jwks(&self.inner.lock()).to_string()
    }

    /// Stop serving (idempotent): the streams end, the socket is removed.
    pub fn stop(&self) {
        self.inner.stopped.send_replace(true);
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Drop for FakeWorkloadApi {
    fn drop(&mut self) {
        self.stop();
    }
}

fn new_jwt_key() -> Result<SigningKey> {
    let mut b = [0u8; 9];
    getrandom::fill(&mut b).map_err(|e| fail("draw a kid", e))?;
    SigningKey::generate(Alg::ES256, Some(authsec_core::util::b64url_encode(&b)))
}

fn jwks(a: &Authority) -> Value {
    let keys: Vec<Value> = a
        .jwt_keys
        .iter()
        .map(|k| {
            let mut jwk = k.public_jwk();
            if let Some(o) = jwk.as_object_mut() {
                o.remove("use");
                o.remove("alg");
            }
            jwk
        })
        .collect();
    json!({ "keys": keys })
}

fn new_x509(trust_domain: &str, spiffe_id: &str) -> Result<X509State> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};
    let key = KeyPair::generate().map_err(|e| fail("generate the CA key", e))?;
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::OrganizationName, "Fake SPIFFE");
    p.distinguished_name
        .push(DnType::CommonName, format!("{trust_domain} CA"));
    let td_uri = format!("spiffe://{trust_domain}");
    p.subject_alt_names = vec![SanType::URI(
        td_uri.as_str().try_into().map_err(|e| fail("name the CA", e))?,
    )];
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = p.self_signed(&key).map_err(|e| fail("sign the CA", e))?;
    let ca = rcgen::Issuer::new(p, key);
    let (leaf_der, leaf_key_der) = new_leaf(&ca, spiffe_id)?;
    Ok(X509State {
        ca,
        ca_der: cert.der().to_vec(),
        leaf_der,
        leaf_key_der,
    })
}

/// A leaf X.509-SVID for `spiffe_id`: its DER and its PKCS#8 key.
fn new_leaf(ca: &rcgen::Issuer<'static, rcgen::KeyPair>, spiffe_id: &str) -> Result<(Vec<u8>, Vec<u8>)> {
    use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose, SanType};
    let key = KeyPair::generate().map_err(|e| fail("generate a key", e))?;
    let mut p = CertificateParams::default();
    p.subject_alt_names = vec![SanType::URI(
        spiffe_id.try_into().map_err(|e| fail("name the SVID", e))?,
    )];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyAgreement];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    let cert = p.signed_by(&key, ca).map_err(|e| fail("sign the SVID", e))?;
    Ok((cert.der().to_vec(), key.serialize_der()))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

// ----- the gRPC service -----

type BoxStream<T> = Pin<Box<dyn Stream<Item = std::result::Result<T, Status>> + Send>>;
type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

#[derive(Clone)]
struct FakeService(Arc<Inner>);

impl tower::Service<http::Request<Body>> for FakeService {
    type Response = http::Response<Body>;
    type Error = std::convert::Infallible;
    type Future = BoxFuture<std::result::Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::result::Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let inner = self.0.clone();
        Box::pin(async move { Ok(dispatch(inner, req).await) })
    }
}

async fn dispatch(inner: Arc<Inner>, req: http::Request<Body>) -> http::Response<Body> {
    use tonic::server::Grpc;
    use tonic_prost::ProstCodec;
    inner.calls.fetch_add(1, Ordering::SeqCst);
    if *inner.stopped.borrow() {
        return Status::unavailable("the fake Workload API is stopping").into_http();
    }
    let has_header = req
        .headers()
        .get(proto::SECURITY_HEADER)
        .is_some_and(|v| v.as_bytes() == b"true");
    if !has_header {
        // SPIRE's words.
        return Status::invalid_argument("security header missing from request").into_http();
    }
    let denied = inner
        .deny
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if denied {
        return Status::permission_denied("no identity issued").into_http();
    }
    let refused = inner
        .invalid
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if refused {
        return Status::invalid_argument("the fake Workload API refuses this request").into_http();
    }
    match req.uri().path() {
        proto::FETCH_JWT_SVID => {
            let mut grpc = Grpc::new(ProstCodec::<proto::JwtSvidResponse, proto::JwtSvidRequest>::default());
            let svc = tower::service_fn(move |r: Request<proto::JwtSvidRequest>| {
                let inner = inner.clone();
                async move { jwt_svid(&inner, r.into_inner()).map(Response::new) }
            });
            grpc.unary(svc, req).await
        }
        proto::FETCH_JWT_BUNDLES => {
            let mut grpc = Grpc::new(ProstCodec::<proto::JwtBundlesResponse, proto::JwtBundlesRequest>::default());
            let svc = tower::service_fn(move |_: Request<proto::JwtBundlesRequest>| {
                let stream = full_states(inner.clone(), |inner| {
                    let bundle = jwks(&inner.lock()).to_string().into_bytes();
                    proto::JwtBundlesResponse {
                        bundles: [(format!("spiffe://{}", inner.trust_domain), bundle)].into(),
                    }
                });
                async move { Ok::<_, Status>(Response::new(stream)) }
            });
            grpc.server_streaming(svc, req).await
        }
        proto::FETCH_X509_SVID => {
            let mut grpc = Grpc::new(ProstCodec::<proto::X509SvidResponse, proto::X509SvidRequest>::default());
            let svc = tower::service_fn(move |_: Request<proto::X509SvidRequest>| {
                let stream = full_states(inner.clone(), |inner| {
                    let a = inner.lock();
                    proto::X509SvidResponse {
                        svids: vec![proto::X509Svid {
                            spiffe_id: a.spiffe_id.clone(),
                            x509_svid: a.x509.leaf_der.clone(),
                            x509_svid_key: a.x509.leaf_key_der.clone(),
                            bundle: a.x509.ca_der.clone(),
                            hint: String::new(),
                        }],
                        crl: vec![],
                        federated_bundles: Default::default(),
                    }
                });
                async move { Ok::<_, Status>(Response::new(stream)) }
            });
            grpc.server_streaming(svc, req).await
        }
        other => Status::unimplemented(format!("the fake Workload API does not serve {other}")).into_http(),
    }
}

fn jwt_svid(inner: &Inner, req: proto::JwtSvidRequest) -> std::result::Result<proto::JwtSvidResponse, Status> {
    if req.audience.is_empty() {
        return Err(Status::invalid_argument("audience must be specified"));
    }
    let a = inner.lock();
    if !req.spiffe_id.is_empty() && req.spiffe_id != a.spiffe_id {
        return Err(Status::permission_denied("no identity issued"));
    }
    let key = a.jwt_keys.last().ok_or_else(|| Status::internal("no signing key"))?;
    let iat = now();
    let claims = json!({"sub": a.spiffe_id, "aud": req.audience, "exp": iat + 300, "iat": iat});
    let svid = key
        .sign(Some("JWT"), &serde_json::Map::new(), &claims)
        .map_err(|e| Status::internal(format!("signing failed: {e}")))?;
    Ok(proto::JwtSvidResponse {
        svids: vec![proto::JwtSvid {
            spiffe_id: a.spiffe_id.clone(),
            svid,
            hint: String::new(),
        }],
    })
}

/// The full state now, then again after each change, until the fake stops.
fn full_states<T: Send + 'static>(inner: Arc<Inner>, state: fn(&Inner) -> T) -> BoxStream<T> {
    let changes = inner.changes.subscribe();
    let stopped = inner.stopped.subscribe();
    futures::stream::unfold(
        (inner, changes, stopped, true),
        move |(inner, mut changes, mut stopped, first)| async move {
            if !first {
                tokio::select! {
                    r = changes.changed() => r.ok()?,
                    _ = wait_stopped(&mut stopped) => return None,
                }
            }
            changes.borrow_and_update();
            if *stopped.borrow() {
                return None;
            }
            let item = state(&inner);
            Some((Ok(item), (inner, changes, stopped, false)))
        },
    )
    .boxed()
}

async fn wait_stopped(rx: &mut watch::Receiver<bool>) {
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}
