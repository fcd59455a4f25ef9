//! # authsec-server
//!
//! A local OAuth 2.0 authorization server for development and tests: client credentials with
//! `client_secret_basic`, `client_secret_post`, `private_key_jwt` and (over HTTPS) RFC 8705
//! `tls_client_auth` / `self_signed_tls_client_auth`; DPoP-bound (RFC 9449) and
//! certificate-bound (RFC 8705) access tokens; RFC 8693 token exchange
//! for delegation chains (agent → sub-agent → tool) that never widen; RFC 9068 JWT access tokens
//! signed with keys that rotate; JWKS; RFC 8414 metadata; RFC 7662 introspection; RFC 7009
//! revocation (cascading to exchanged tokens); roles; a management API that is itself an
//! OAuth-protected resource (`{issuer}/admin`, management scopes); an audit log kept in the
//! database and queryable; per-client rate limits; RFC 7591/7592 dynamic registration; SQLite
//! persistence; secretless SPIFFE workloads (a JWT-SVID as the client assertion, `spiffe_jwt`,
//! or as a JWT-bearer grant).
//!
//! It shares its signing, JWKS and claim code with the authsec verifier (the core crate). It is
//! not built to scale out: production traffic belongs to a real identity provider.
//!
//! ```no_run
//! # async fn demo() -> authsec_core::Result<()> {
//! let server = authsec_server::start(authsec_server::ServerConfig::default(), Default::default()).await?;
//! println!("issuer: {}", server.issuer());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

pub mod admin;
pub mod app;
pub mod audit;
pub mod audit_query;
pub mod client_auth;
pub mod clients;
pub mod config;
pub mod dpop;
pub mod exchange;
pub mod keys;
pub mod management_auth;
pub mod oauth;
pub mod ratelimit;
pub mod registration;
pub mod roles;
pub mod spiffe;
pub mod store;
pub mod tls;
pub mod token;

pub use config::{
    ClientSpec, DpopConfig, DynamicRegistrationConfig, RateLimits, RoleSpec, ServerConfig, SpiffeConfig, TlsConfig,
    TokenExchangeConfig, TrustDomainBundle,
};

use app::AppState;
use authsec_core::{Clock, Error, Result, Secret, SystemClock};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Where and how to run.
#[derive(Clone)]
pub struct StartOptions {
    /// Bind address; loopback by default.
    pub host: String,
    /// 0 picks a free port.
    pub port: u16,
    /// Time source (tests inject a manual clock).
    pub clock: Arc<dyn Clock>,
    /// Override the audit sink (tests collect lines in memory).
    pub audit: Option<Arc<audit::Audit>>,
    /// The longest a request may take once its head has arrived, reading its body included: a
    /// client that stops sending mid-body is answered 408 and its connection closed. The head
    /// itself must arrive within 10 s.
    pub request_timeout: Duration,
}

impl Default for StartOptions {
    fn default() -> Self {
        StartOptions {
            host: "127.0.0.1".into(),
            port: 0,
            clock: Arc::new(SystemClock),
            audit: None,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// A server that is listening. Dropping it does not stop it; call [`RunningServer::shutdown`].
pub struct RunningServer {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    /// Closed (`recv()` gives `None`) once every connection task has ended.
    connections: tokio::sync::mpsc::Receiver<()>,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn issuer(&self) -> &str {
        &self.state.issuer
    }
    pub fn token_endpoint(&self) -> String {
        self.state.token_endpoint()
    }
    pub fn jwks_uri(&self) -> String {
        format!("{}/.well-known/jwks.json", self.state.issuer)
    }
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }
    /// Stop accepting connections, close the open ones (in-flight requests are answered first;
    /// idle keep-alive connections are closed at once) and wait, at most 5 s, for them to end.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.connections.recv()).await;
    }
}

/// Build the state: open the store, merge the configured roles and clients into it, load the
/// key ring.
pub fn build_state(
    cfg: ServerConfig,
    issuer: String,
    clock: Arc<dyn Clock>,
    audit: Arc<audit::Audit>,
) -> Result<AppState> {
    let alg = cfg.signing_alg()?;
    let max_delegation_depth = cfg.max_delegation_depth()?;
    let dpop = dpop::Dpop::new(&cfg)?;
    let store = store::Store::open(cfg.database.as_deref())?;
    let spiffe = cfg
        .spiffe
        .as_ref()
        .map(|s| spiffe::Spiffe::new(s, &issuer, clock.clone()))
        .transpose()?;
    let now = clock.now_ms().div_euclid(1000);
    let mut roles: roles::Roles = store.load_roles()?.into_iter().map(|r| (r.name.clone(), r)).collect();
    for (name, spec) in &cfg.roles {
        let role = roles::Role::from_spec(name, spec)?;
        store.put_role(&role)?;
        roles.insert(name.clone(), role);
    }
    let mut clients: HashMap<String, clients::Client> = store
        .load_clients_with_secret_ids()?
        .into_iter()
        .map(|c| (c.client_id.clone(), c))
        .collect();
    let registration = cfg
        .dynamic_registration
        .as_ref()
        .map(registration::Registration::from_config)
        .transpose()?;
    for spec in &cfg.clients {
        let (mut client, generated) = clients::Client::from_spec(spec, cfg.token_lifetime, &roles, now)?;
        if generated.is_some() {
            // Nobody would ever see a secret generated for a config client.
            return Err(Error::config(format!(
                "client {:?} in the config has neither client_secret nor jwks; set client_secret: ${{SOME_VAR}}, jwks_file \
                 or jwks_uri (or token_endpoint_auth_method: tls_client_auth or none, or a spiffe_id)",
                spec.client_id.as_deref().unwrap_or("?")
            )));
        }
        spiffe::check_client(&client, spiffe.is_some())?;
        if let Some(existing) = clients.get(&client.client_id) {
            // Keep rotated secrets when the configured secret is still one of them.
            if spec
                .client_secret
                .as_deref()
                .is_some_and(|s| existing.secret_matches(s, now))
            {
                client.secrets = existing.secrets.clone();
                client.created_at = existing.created_at;
            }
        }
        store.put_client(&client)?;
        clients.insert(client.client_id.clone(), client);
    }
    let max_lifetime = clients
        .values()
        .map(|c| c.token_lifetime)
        .max()
        .unwrap_or(0)
        .max(cfg.token_lifetime) as i64;
    let keys = keys::KeyRing::load(&store, alg, max_lifetime, now)?;
    let admin_token = cfg.admin_token.clone().filter(|t| !t.is_empty()).map(Secret::new);
    store.purge(now)?;
    store.purge_audit(clock.now_ms() as f64 / 1000.0 - cfg.audit_retention as f64)?;
    Ok(AppState {
        alg,
        issuer,
        store,
        clients: RwLock::new(clients),
        roles: RwLock::new(roles),
        keys: Mutex::new(keys),
        audit,
        limiter: ratelimit::RateLimiter::default(),
        clock,
        admin_token,
        max_delegation_depth,
        dpop,
        spiffe,
        secret_last_used: Mutex::new(HashMap::new()),
        daily: ratelimit::DailyCounter::default(),
        remote_jwks: Mutex::new(HashMap::new()),
        registration,
        cfg,
    })
}

/// Start listening (on the current tokio runtime) and serve in the background: HTTPS when the
/// config has `tls`, else plain HTTP.
pub async fn start(cfg: ServerConfig, opts: StartOptions) -> Result<RunningServer> {
    let tls = cfg.tls.as_ref().map(tls::Tls::load).transpose()?.map(Arc::new);
    let listener = tokio::net::TcpListener::bind((opts.host.as_str(), opts.port))
        .await
        .map_err(|e| Error::config(format!("cannot listen on {}:{}: {e}", opts.host, opts.port)))?;
    let addr = listener.local_addr().map_err(|e| Error::internal(e.to_string()))?;
    let issuer = match &cfg.issuer {
        Some(i) => i.trim_end_matches('/').to_string(),
        None if tls.is_some() => format!("https://{}", addr),
        None => format!("http://{}", addr),
    };
    let audit = match opts.audit {
        Some(a) => a,
        None => Arc::new(audit::Audit::open(cfg.audit_log.as_deref())?),
    };
    let state = Arc::new(build_state(cfg, issuer, opts.clock, audit)?);
    let request_timeout = opts.request_timeout;
    let router = app::router(state.clone()).layer(axum::middleware::from_fn(move |req, next| {
        app::answer_within(request_timeout, req, next)
    }));
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    // Connection tasks watch `closing` (it changes once, when the server stops) to shut down
    // gracefully, and each holds a clone of `alive` so that `shutdown` can wait for the last one.
    let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
    let (alive, connections) = tokio::sync::mpsc::channel::<()>(1);
    let clock = state.clock.clone();
    let purging = state.clone();
    let task = tokio::spawn(async move {
        // Expired revocations, exchanges and assertion ids, and audit events past
        // `audit_retention`, are purged once a minute.
        let mut purge = tokio::time::interval(Duration::from_secs(60));
        purge.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stop_rx => {
                    let _ = closing_tx.send(true);
                    break;
                }
                _ = purge.tick() => {
                    let _ = purging.purge();
                }
                accepted = listener.accept() => {
                    let Ok((stream, _peer)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let router = router.clone();
                    let closing = closing_rx.clone();
                    let alive = alive.clone();
                    let tls = tls.clone();
                    let clock = clock.clone();
                    tokio::spawn(async move {
                        let _alive = alive;
                        let Some(tls) = tls else {
                            return serve_connection(stream, router, None, closing).await;
                        };
                        // The handshake, like a request head, must complete within 10 s, and
                        // stops when the server does.
                        let handshake = tokio::time::timeout(Duration::from_secs(10), tls.acceptor.accept(stream));
                        let mut stopping = closing.clone();
                        let stream = tokio::select! {
                            done = handshake => match done {
                                Ok(Ok(s)) => s,
                                _ => return,
                            },
                            _ = stopping.changed() => return,
                        };
                        let peer = tls.peer(stream.get_ref().1, clock.now_ms());
                        serve_connection(stream, router, peer, closing).await
                    });
                }
            }
        }
    });
    Ok(RunningServer {
        addr,
        state,
        stop: Some(stop_tx),
        task,
        connections,
    })
}

/// Serve HTTP/1.1 on one connection until it ends or the server closes; `peer` (the TLS client
/// certificate) goes into every request's extensions.
async fn serve_connection<I>(
    io: I,
    router: axum::Router,
    peer: Option<tls::PeerCert>,
    mut closing: tokio::sync::watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use tower::Service;
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        if let Some(p) = &peer {
            req.extensions_mut().insert(p.clone());
        }
        // The router is always ready (axum documents `poll_ready` as a no-op).
        let mut router = router.clone();
        async move { router.call(req).await }
    });
    let mut b = hyper::server::conn::http1::Builder::new();
    b.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .max_headers(64)
        // max_buf_size alone lets a request head grow past it (up to the
        // last read's size); cap the head itself.
        .max_header_size(64 * 1024)
        .max_buf_size(64 * 1024);
    let conn = b.serve_connection(hyper_util::rt::TokioIo::new(io), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = closing.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
