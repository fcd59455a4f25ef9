//! SPIFFE on native targets: the core's SPIFFE pieces wired to the Workload API client
//! ([`crate::workload_api`]): JWT-SVIDs for secretless token requests
//! ([`WorkloadSvidSource`]), JWT bundles kept current by a watch ([`WatchedBundles`]), and
//! JWT-SVID verifiers from the bindings' options ([`jwt_svid_verifier`]).

use crate::workload_api::{JwtBundles, Watch, WorkloadApiClient};
use authsec_core::runtime::BoxFut;
use authsec_core::spiffe::bundle_source::BundleSource;
use authsec_core::spiffe::{
    BundleSet, FetchedSvid, JwtBundle, JwtSvidOptions, JwtSvidSource, JwtSvidVerifier, SharedBundles, SpiffeId,
    TrustDomain,
};
use authsec_core::{Clock, ConfigEnv, Error, ErrorCode, Result, SystemClock};
use std::sync::Arc;
use std::time::Duration;

/// How long a new watch may take to deliver its first bundles before construction fails.
pub const FIRST_UPDATE_TIMEOUT: Duration = Duration::from_secs(15);

/// The Workload API at `endpoint`, or at the one `SPIFFE_ENDPOINT_SOCKET` names.
pub fn workload_api(endpoint: Option<&str>) -> Result<WorkloadApiClient> {
    match endpoint {
        Some(e) => WorkloadApiClient::new(e),
        None => WorkloadApiClient::from_env(),
    }
}

/// JWT-SVIDs from the Workload API.
#[derive(Clone)]
pub struct WorkloadSvidSource(pub WorkloadApiClient);

impl JwtSvidSource for WorkloadSvidSource {
    fn fetch_jwt_svid<'a>(
        &'a self,
        audience: &'a str,
        spiffe_id: Option<&'a SpiffeId>,
    ) -> BoxFut<'a, Result<FetchedSvid>> {
        Box::pin(async move {
            let svids = self
                .0
                .fetch_jwt_svids(&[audience.to_string()], spiffe_id.map(|i| i.as_str()))
                .await?;
            // The first SVID is the workload's default identity (the Workload API's order).
            let first = svids
                .into_iter()
                .find(|s| spiffe_id.is_none_or(|want| want.as_str() == s.spiffe_id))
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::WorkloadApiUnavailable,
                        format!(
                            "the Workload API at {} issued no JWT-SVID{}",
                            self.0.endpoint(),
                            spiffe_id.map(|i| format!(" for {i}")).unwrap_or_default()
                        ),
                    )
                })?;
            Ok(FetchedSvid {
                spiffe_id: SpiffeId::parse(&first.spiffe_id)?,
                token: first.svid,
            })
        })
    }
    fn describe(&self) -> String {
        format!("the Workload API at {}", self.0.endpoint())
    }
}

/// The Workload API's JWT bundles as a [`BundleSet`]; a trust domain whose document does not parse
/// is left out (and said why in the returned list), so one bad federated bundle does not stop the
/// others.
pub fn bundle_set(update: &JwtBundles) -> (BundleSet, Vec<String>) {
    let mut set = BundleSet::new();
    let mut problems = Vec::new();
    for (td, doc) in &update.bundles {
        match TrustDomain::parse(td).and_then(|t| JwtBundle::parse(t, doc)) {
            Ok(b) => {
                if let Err(e) = set.insert(b) {
                    problems.push(format!("{td}: {e}"));
                }
            }
            Err(e) => problems.push(format!("{td}: {e}")),
        }
    }
    (set, problems)
}

/// JWT bundles the Workload API streams, each update replacing the last; the watch runs as long as
/// this value lives.
pub struct WatchedBundles {
    bundles: SharedBundles,
    watch: Watch,
}

impl WatchedBundles {
    /// Start watching and wait (at most [`FIRST_UPDATE_TIMEOUT`]) for the first bundles.
    pub async fn start(client: &WorkloadApiClient) -> Result<WatchedBundles> {
        let bundles = SharedBundles::new(format!("the Workload API at {}", client.endpoint()));
        let target = bundles.clone();
        let watch = client.watch_jwt_bundles(Arc::new(move |update: JwtBundles| {
            target.replace(bundle_set(&update).0);
        }));
        watch.wait_first(FIRST_UPDATE_TIMEOUT).await?;
        Ok(WatchedBundles { bundles, watch })
    }
    pub fn bundles(&self) -> &SharedBundles {
        &self.bundles
    }
    pub fn watch(&self) -> &Watch {
        &self.watch
    }
}

impl BundleSource for WatchedBundles {
    fn bundle_now(&self, td: &TrustDomain, now_ms: i64) -> Option<Option<Arc<JwtBundle>>> {
        self.bundles.bundle_now(td, now_ms)
    }
    fn bundle<'a>(&'a self, td: &'a TrustDomain) -> BoxFut<'a, Result<Option<Arc<JwtBundle>>>> {
        self.bundles.bundle(td)
    }
    fn describe(&self) -> String {
        self.bundles.describe()
    }
}

/// A JWT-SVID verifier from the bindings' options ([`JwtSvidOptions`]; `bundle_file`s read through
/// `env`) on the native transport at the time of `clock` (the system clock when `None`). With
/// `workload_api`, waits for the first bundles from the Workload API.
pub async fn jwt_svid_verifier(
    options: &serde_json::Value,
    env: &dyn ConfigEnv,
    clock: Option<Arc<dyn Clock>>,
) -> Result<JwtSvidVerifier> {
    jwt_svid_verifier_from(JwtSvidOptions::from_value(options, env)?, clock).await
}

/// [`jwt_svid_verifier`] from options already read (a future that is `Send`: no `ConfigEnv` held).
pub async fn jwt_svid_verifier_from(o: JwtSvidOptions, clock: Option<Arc<dyn Clock>>) -> Result<JwtSvidVerifier> {
    let watched: Option<Arc<dyn BundleSource>> = match &o.workload_api {
        Some(endpoint) => Some(Arc::new(
            WatchedBundles::start(&workload_api(endpoint.as_deref())?).await?,
        )),
        None => None,
    };
    o.build(
        crate::HttpTransport::shared(),
        clock.unwrap_or_else(|| Arc::new(SystemClock)),
        watched,
    )
}

/// HTTP whose TLS client certificate is the workload's X.509-SVID, kept current by a watch: each
/// update from the Workload API (a rotation) builds the transport anew, so connections made after
/// it present the new certificate; no restart.
#[derive(Clone)]
pub struct X509SvidTransport {
    inner: Arc<X509Inner>,
}

struct X509Inner {
    current: parking_lot::RwLock<(Arc<crate::HttpTransport>, X509Identity)>,
    rebuilds: std::sync::atomic::AtomicU64,
    last_error: parking_lot::Mutex<Option<Error>>,
    /// Stops the watch when the last clone goes.
    _watch: parking_lot::Mutex<Option<Watch>>,
}

/// Which X.509-SVID the transport presents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct X509Identity {
    pub spiffe_id: String,
    /// The leaf certificate's DER, for comparing identities.
    pub leaf_der: Vec<u8>,
}

impl X509SvidTransport {
    /// Watch the X.509-SVIDs of `client` and present the one for `spiffe_id` (the first, the
    /// workload's default, when `None`), trusting `extra_roots` (PEM) besides the system's for the
    /// servers' certificates. Waits (at most [`FIRST_UPDATE_TIMEOUT`]) for the first SVID.
    pub async fn start(
        client: &WorkloadApiClient,
        spiffe_id: Option<String>,
        extra_roots: Option<String>,
    ) -> Result<X509SvidTransport> {
        let first = client.fetch_x509_context().await?;
        let (transport, identity) = build_x509(&first, spiffe_id.as_deref(), extra_roots.as_deref())?;
        let inner = Arc::new(X509Inner {
            current: parking_lot::RwLock::new((transport, identity)),
            rebuilds: std::sync::atomic::AtomicU64::new(0),
            last_error: parking_lot::Mutex::new(None),
            _watch: parking_lot::Mutex::new(None),
        });
        let weak = Arc::downgrade(&inner);
        let watch = client.watch_x509_context(Arc::new(move |ctx: crate::workload_api::X509Context| {
            let Some(inner) = weak.upgrade() else { return };
            match build_x509(&ctx, spiffe_id.as_deref(), extra_roots.as_deref()) {
                Ok((t, id)) => {
                    let mut cur = inner.current.write();
                    if cur.1 != id {
                        *cur = (t, id);
                        inner.rebuilds.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                    }
                }
                // Keep presenting the last good SVID; say why the update was not taken.
                Err(e) => *inner.last_error.lock() = Some(e),
            }
        }));
        *inner._watch.lock() = Some(watch);
        Ok(X509SvidTransport { inner })
    }

    /// The identity presented now.
    pub fn identity(&self) -> X509Identity {
        self.inner.current.read().1.clone()
    }
    /// How many times a new SVID replaced the presented one.
    pub fn rotations(&self) -> u64 {
        self.inner.rebuilds.load(std::sync::atomic::Ordering::Acquire)
    }
    /// Why the last update could not be used, if one could not.
    pub fn last_error(&self) -> Option<Error> {
        self.inner.last_error.lock().clone()
    }
}

fn build_x509(
    ctx: &crate::workload_api::X509Context,
    spiffe_id: Option<&str>,
    extra_roots: Option<&str>,
) -> Result<(Arc<crate::HttpTransport>, X509Identity)> {
    let svid = ctx
        .svids
        .iter()
        .find(|s| spiffe_id.is_none_or(|want| want == s.spiffe_id))
        .ok_or_else(|| {
            Error::new(
                ErrorCode::WorkloadApiUnavailable,
                format!(
                    "the Workload API issued no X.509-SVID{}",
                    spiffe_id.map(|i| format!(" for {i}")).unwrap_or_default()
                ),
            )
        })?;
    let opts = crate::TransportOptions {
        client_identity: Some((svid.cert_chain_pem(), svid.private_key_pem())),
        extra_roots: extra_roots.map(str::to_string),
        ..crate::TransportOptions::default()
    };
    let identity = X509Identity {
        spiffe_id: svid.spiffe_id.clone(),
        leaf_der: svid.cert_chain_der.first().cloned().unwrap_or_default(),
    };
    Ok((Arc::new(crate::HttpTransport::new(&opts)?), identity))
}

impl authsec_core::http::Transport for X509SvidTransport {
    fn send(
        &self,
        request: authsec_core::http::HttpRequest,
    ) -> BoxFut<'static, Result<authsec_core::http::HttpResponse>> {
        let transport = self.inner.current.read().0.clone();
        transport.send(request)
    }
}
