//! # authsec-native
//!
//! The core ([`authsec_core`], re-exported) with its native edges: an HTTP [`Transport`] on
//! reqwest + rustls (system root certificates, `HTTPS_PROXY`/`NO_PROXY`, connect and read
//! timeouts, bounded bodies, no redirects), tokio timers, and the system clock.
//!
//! All I/O runs on one shared tokio runtime ([`runtime`]). Futures returned here can be awaited
//! from any executor (tokio, a binding's own runtime, or [`block_on`] on a plain thread) because
//! the transport and the sleeper hand their work to that runtime and only await a join handle.

pub mod workload_api;

pub use authsec_core as core;
pub use authsec_core::management::{ManagementClient, ManagementConfig};
pub use authsec_core::*;

pub mod spiffe;

use authsec_core::http::{HttpRequest, HttpResponse, Method, Transport, MAX_RESPONSE_BYTES};
use authsec_core::runtime::BoxFut;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The shared I/O runtime (two worker threads, named `authsec-io`).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("authsec-io")
            .on_thread_start(block_sigpipe)
            .enable_all()
            .build()
            .expect("authsec: cannot start the I/O runtime")
    })
}

/// Block SIGPIPE on the calling thread (each I/O thread): a write to a peer that went away (the
/// Workload API's Unix socket, whose writes are plain `write`s) then fails with `EPIPE` instead of
/// raising a signal, which a host process (Go, for threads it did not start) would die of.
fn block_sigpipe() {
    #[cfg(unix)]
    // SAFETY: a signal set initialised by sigemptyset/sigaddset, changed for this thread only.
    #[allow(unsafe_code)]
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Run a future to completion on the current thread. Do not call it from inside an async task.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

/// Transport settings.
#[derive(Clone, Debug)]
pub struct TransportOptions {
    pub connect_timeout: Duration,
    /// Whole-request timeout (connect, send, and read the body).
    pub timeout: Duration,
    pub max_response_bytes: usize,
    pub user_agent: String,
    /// The TLS client certificate chain and its key (PEM each), for mutual TLS (RFC 8705).
    pub client_identity: Option<(String, Secret)>,
    /// CA certificates (PEM) trusted besides the system's.
    pub extra_roots: Option<String>,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_response_bytes: MAX_RESPONSE_BYTES,
            user_agent: concat!("authsec/", env!("CARGO_PKG_VERSION")).to_string(),
            client_identity: None,
            extra_roots: None,
        }
    }
}

/// HTTP on reqwest + rustls.
#[derive(Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    max_body: usize,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport").finish_non_exhaustive()
    }
}

impl HttpTransport {
    pub fn new(opts: &TransportOptions) -> Result<HttpTransport> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.timeout)
            .user_agent(opts.user_agent.clone())
            // A token request carries credentials: never follow a redirect with them.
            .redirect(reqwest::redirect::Policy::none());
        if let Some((cert, key)) = &opts.client_identity {
            let pem = zeroize::Zeroizing::new(format!("{}\n{}\n", cert.trim_end(), key.expose().trim_end()));
            let identity = reqwest::Identity::from_pem(pem.as_bytes()).map_err(|e| {
                Error::new(
                    ErrorCode::InvalidKey,
                    format!("the TLS client certificate or its key cannot be used ({e}); give PEM files (the certificate chain, and a PKCS#8, PKCS#1 or SEC1 key)"),
                )
            })?;
            builder = builder.identity(identity);
        }
        if let Some(roots) = &opts.extra_roots {
            let certs = reqwest::Certificate::from_pem_bundle(roots.as_bytes()).map_err(|e| {
                Error::config(format!(
                    "the CA certificates (tls_ca_file) are not PEM certificates ({e})"
                ))
            })?;
            if certs.is_empty() {
                return Err(Error::config("the CA file (tls_ca_file) holds no PEM certificate"));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let client = builder
            .build()
            .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpTransport {
            client,
            max_body: opts.max_response_bytes,
        })
    }

    /// A shared transport with default options.
    pub fn shared() -> Arc<HttpTransport> {
        static T: OnceLock<Arc<HttpTransport>> = OnceLock::new();
        T.get_or_init(|| Arc::new(HttpTransport::new(&TransportOptions::default()).expect("default HTTP client")))
            .clone()
    }

    async fn send_inner(client: reqwest::Client, max_body: usize, req: HttpRequest) -> Result<HttpResponse> {
        let url = req.url.clone();
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut rb = client.request(method, &req.url);
        for (k, v) in &req.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        if !req.body.is_empty() {
            rb = rb.body(req.body);
        }
        let mut resp = rb.send().await.map_err(|e| map_err(e, &url))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string())))
            .collect();
        if resp.content_length().is_some_and(|n| n > max_body as u64) {
            return Err(Error::new(
                ErrorCode::InvalidResponse,
                format!("{} answered with a body over {max_body} bytes", host_of(&url)),
            )
            .with_status(status));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| map_err(e, &url))? {
            if body.len() + chunk.len() > max_body {
                return Err(Error::new(
                    ErrorCode::InvalidResponse,
                    format!("{} answered with a body over {max_body} bytes", host_of(&url)),
                )
                .with_status(status));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse { status, headers, body })
    }
}

fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "the server".into())
}

/// Map a reqwest error without its request details (URLs with query strings, bodies).
fn map_err(e: reqwest::Error, url: &str) -> Error {
    let host = host_of(url);
    if e.is_timeout() {
        Error::timeout(format!("the request to {host} timed out"))
    } else if e.is_connect() {
        let mut cause = String::new();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            cause = s.to_string();
            src = s.source();
        }
        Error::network(format!(
            "cannot connect to {host} ({cause}); check the URL, the network and any HTTPS_PROXY"
        ))
    } else {
        // The innermost cause says what went wrong (a TLS alert, a certificate the server refused).
        let mut cause = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            cause = s.to_string();
            src = s.source();
        }
        Error::network(format!(
            "the request to {host} failed ({})",
            crate::core::util::truncate(&cause)
        ))
    }
}

impl Transport for HttpTransport {
    fn send(&self, request: HttpRequest) -> BoxFut<'static, Result<HttpResponse>> {
        let client = self.client.clone();
        let max = self.max_body;
        let handle = runtime().spawn(Self::send_inner(client, max, request));
        Box::pin(async move {
            handle
                .await
                .map_err(|e| Error::internal(format!("the HTTP task failed: {e}")))?
        })
    }
}

/// Sleeps on the shared runtime's timer.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, d: Duration) -> BoxFut<'static, ()> {
        // Create the timer inside the runtime: `tokio::time::sleep` panics on a thread without a
        // tokio context (a Python or Node thread, a plain `block_on`).
        let handle = runtime().spawn(async move { tokio::time::sleep(d).await });
        Box::pin(async move {
            let _ = handle.await;
        })
    }
}

/// Runs background work on the shared runtime.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSpawner;

impl runtime::Spawner for TokioSpawner {
    fn spawn(&self, fut: BoxFut<'static, ()>) {
        runtime().spawn(fut);
    }
}

/// The shared transport, or one of its own for a client with a TLS client certificate or its own
/// CA certificates.
pub fn transport_for(cfg: &ClientConfig) -> Result<Arc<HttpTransport>> {
    if cfg.tls_client_cert.is_none() && cfg.tls_ca_cert.is_none() {
        return Ok(HttpTransport::shared());
    }
    let opts = TransportOptions {
        client_identity: cfg.tls_client_cert.clone().zip(cfg.tls_client_key.clone()),
        extra_roots: cfg.tls_ca_cert.clone(),
        ..TransportOptions::default()
    };
    Ok(Arc::new(HttpTransport::new(&opts)?))
}

/// A token client on the native transport and the system clock; proactive refreshes run in the
/// background on the shared runtime.
pub fn token_client(cfg: ClientConfig) -> Result<TokenClient> {
    token_client_with_clock(cfg, None)
}

/// [`token_client`] at the time of `clock` (the system clock when `None`): a binding's test clock,
/// as [`verifier_from_options`] takes it.
pub fn token_client_with_clock(mut cfg: ClientConfig, clock: Option<Arc<dyn Clock>>) -> Result<TokenClient> {
    // A workload with a SPIFFE identity takes its SVIDs from the Workload API: JWT-SVIDs as
    // assertions, or its X.509-SVID as the TLS client certificate (rotated by a watch).
    let mut svids = None;
    let transport: Arc<dyn Transport> = match cfg.auth_method {
        AuthMethod::SpiffeJwt => {
            svids = Some(spiffe::WorkloadSvidSource(spiffe::workload_api(
                cfg.spiffe.endpoint_socket.as_deref(),
            )?));
            transport_for(&cfg)?
        }
        AuthMethod::SpiffeX509 => {
            let api = spiffe::workload_api(cfg.spiffe.endpoint_socket.as_deref())?;
            let t = block_on(spiffe::X509SvidTransport::start(
                &api,
                cfg.spiffe.spiffe_id.clone(),
                cfg.tls_ca_cert.clone(),
            ))?;
            if cfg.client_id.is_empty() {
                cfg.client_id = t.identity().spiffe_id;
            }
            Arc::new(t)
        }
        _ => transport_for(&cfg)?,
    };
    let client = TokenClient::new(
        cfg,
        transport,
        clock.unwrap_or_else(|| Arc::new(SystemClock)),
        Arc::new(TokioSleeper),
    )?;
    let client = match svids {
        Some(source) => client.with_workload_identity(Arc::new(source))?,
        None => client,
    };
    // A secret or key from a file is read again after invalid_client (it may have been rotated).
    client
        .with_file_reader(Arc::new(ProcessEnv))?
        .with_spawner(Arc::new(TokioSpawner))
}

/// A management client (the `/admin` API of an authsec server) from settings as the bindings pass
/// them ([`ManagementConfig::from_value`]'s), with `*_file` settings read from the file system, on
/// the native transport and the system clock.
pub fn management_client(settings: &serde_json::Value) -> Result<ManagementClient> {
    management_client_with_clock(settings, ProcessEnv, None)
}

/// [`management_client`] with the variables and files of `env` (`*_file` settings) at the time of
/// `clock` (the system clock when `None`). Its token client reads `client_secret_file` /
/// `private_key_file` again after `invalid_client`; token refreshes run in the background.
pub fn management_client_with_clock(
    settings: &serde_json::Value,
    env: impl ConfigEnv,
    clock: Option<Arc<dyn Clock>>,
) -> Result<ManagementClient> {
    let cfg = ManagementConfig::from_value(settings, env)?;
    let transport: Arc<dyn Transport> = match cfg.timeout {
        None => HttpTransport::shared(),
        Some(timeout) => Arc::new(HttpTransport::new(&TransportOptions {
            timeout,
            connect_timeout: timeout.min(TransportOptions::default().connect_timeout),
            ..TransportOptions::default()
        })?),
    };
    ManagementClient::new(
        cfg,
        transport,
        clock.unwrap_or_else(|| Arc::new(SystemClock)),
        Arc::new(TokioSleeper),
    )?
    .map_token_client(|t| t.with_file_reader(Arc::new(ProcessEnv)))?
    .with_spawner(Arc::new(TokioSpawner))
}

/// An MCP client (the agent side of MCP authorization) for the server at `server_url`, with the
/// agent's client credentials, on the native transport at the time of `clock` (the system clock
/// when `None`); token refreshes run in the background on the shared runtime.
pub fn mcp_client(
    server_url: &str,
    cfg: ClientConfig,
    clock: Option<Arc<dyn Clock>>,
) -> Result<core::mcp::client::McpClient> {
    mcp_client_with(server_url, cfg, core::mcp::client::IssuerPolicy::Configured, clock)
}

/// [`mcp_client`] under an issuer policy (`FirstInMetadata`: no `issuer` configured; the first
/// authorization server the MCP server's metadata names is pinned).
pub fn mcp_client_with(
    server_url: &str,
    cfg: ClientConfig,
    policy: core::mcp::client::IssuerPolicy,
    clock: Option<Arc<dyn Clock>>,
) -> Result<core::mcp::client::McpClient> {
    Ok(core::mcp::client::McpClient::with_policy(
        server_url,
        cfg,
        policy,
        HttpTransport::shared(),
        clock.unwrap_or_else(|| Arc::new(SystemClock)),
        Arc::new(TokioSleeper),
    )?
    .with_spawner(Arc::new(TokioSpawner)))
}

/// [`mcp_client_with`] from settings as the bindings pass them: the client settings plus
/// `issuer_policy` (see `IssuerPolicy::split_settings`), with `*_file` settings read through `env`.
pub fn mcp_client_from_value(
    server_url: &str,
    settings: &serde_json::Value,
    env: impl ConfigEnv,
    clock: Option<Arc<dyn Clock>>,
) -> Result<core::mcp::client::McpClient> {
    let (settings, policy) = core::mcp::client::IssuerPolicy::split_settings(settings)?;
    // Read without validating: McpClient::with_policy checks the configuration the way it will
    // use it (no issuer under FirstInMetadata).
    mcp_client_with(server_url, ClientConfig::read_value(&settings, env)?, policy, clock)
}

/// A verifier with keys from a static JWKS document.
pub fn static_verifier(cfg: VerifierConfig, jwks_json: &str) -> Result<Verifier> {
    let keys = KeySet::from_jwks_json(jwks_json.as_bytes())?;
    Verifier::new(cfg, Arc::new(StaticKeys(Arc::new(keys))), Arc::new(SystemClock))
}

/// A verifier with keys from a `jwks_uri`, cached under `policy`.
pub fn remote_verifier(cfg: VerifierConfig, jwks_uri: &str, policy: JwksPolicy) -> Result<Verifier> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let jwks = JwksCache::new(jwks_uri, HttpTransport::shared(), clock.clone(), policy)?;
    Verifier::new(cfg, Arc::new(jwks), clock)
}

/// A verifier from the bindings' options ([`VerifierOptions`]) on the native transport, at the
/// time of `clock` (the system clock when `None`).
pub fn verifier_from_options(options: &VerifierOptions, clock: Option<Arc<dyn Clock>>) -> Result<Verifier> {
    options.build(
        HttpTransport::shared(),
        clock.unwrap_or_else(|| Arc::new(SystemClock)),
        None,
    )
}

/// RFC 8414 discovery over the native transport.
pub async fn discover(issuer: &str, allow_insecure_http: bool) -> Result<core::discovery::ServerMetadata> {
    core::discovery::discover(&*HttpTransport::shared(), issuer, allow_insecure_http).await
}

/// The process's environment variables and files, for configuration (`${VAR}`, `*_FILE`).
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl ConfigEnv for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    fn read_file(&self, path: &str) -> std::result::Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| e.to_string())
    }
}

impl core::config::FileReader for ProcessEnv {
    fn read_file(&self, path: &str) -> std::result::Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| e.to_string())
    }
}

/// Variables from a map (a binding's copy of its host's environment), files from the file system.
#[derive(Clone, Debug, Default)]
pub struct VarsEnv(pub std::collections::HashMap<String, String>);

impl ConfigEnv for VarsEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
    fn read_file(&self, path: &str) -> std::result::Result<String, String> {
        ProcessEnv.read_file(path)
    }
}

/// Client configuration from the process: its `AUTHSEC_*` variables, or a YAML file.
pub trait ClientConfigFromProcess: Sized {
    /// From `AUTHSEC_*` variables of the process environment.
    fn from_env() -> Result<Self>;
    /// From a YAML file shaped like the product docs' (`authsec:` mapping), with `${VAR}`
    /// interpolation from the process environment.
    fn from_yaml_file(path: &str) -> Result<Self>;
}

impl ClientConfigFromProcess for ClientConfig {
    fn from_env() -> Result<ClientConfig> {
        ClientConfig::from_env_with(ProcessEnv)
    }
    fn from_yaml_file(path: &str) -> Result<ClientConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("cannot read config file {path:?}: {e}")))?;
        ClientConfig::from_yaml_str(&text, ProcessEnv)
    }
}
