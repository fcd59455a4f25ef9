//! The token client: a cache with proactive refresh, exactly one refresh in flight per cache key
//! however many callers wait (a [`RefreshCell`] per key), retries with exponential backoff and full
//! jitter, and the cached token served through a failing refresh while it is still valid.
//!
//! Runtime-agnostic: time, sleeping and HTTP are injected ([`Clock`], [`Sleeper`],
//! [`Transport`]), so the same code runs under tokio, in wasm, and in tests with a manual clock.
//! What is requested is a [`Grant`](super::grant::Grant) in the [`TokenParams`]; how the client
//! authenticates is a [`ClientAuth`]. A token exchange ([`TokenClient::exchange_token`],
//! [`TokenClient::downstream_token`]) is one more grant through the same cache: its token is never
//! handed out past the subject token's expiry.
//!
//! With DPoP ([`ClientConfig::dpop`]) every token request carries a proof by the client's key
//! ([`super::dpop`]); a `use_dpop_nonce` answer is retried once with the server's nonce (the
//! request, a `private_key_jwt` assertion included, is built anew); a token that is not
//! `token_type: DPoP` is refused (a downgrade); and the key's thumbprint is part of the cache key.
//!
//! The cache holds at most [`MAX_CACHE_KEYS`] parameter sets besides the default token (with one
//! per inbound token, a busy service's exchanges would fill any bound): when it is full, entries
//! with nothing left to hand out go first, then the least recently used.

use super::client_auth::{self, ClientAuth};
use super::config::{AuthMethod, ClientConfig};
use super::dpop::{token_endpoint_wants_nonce, DpopClient};
use super::grant::GrantRef;
use super::request::{token_request, TokenParams};
use super::response::{parse_token_response_for, Token};
use super::retry::RetryPolicy;
use super::secret_files::FileBackedAuth;
use super::token_exchange::{Downstream, ExchangeRequest};
use super::workload_identity::{self, SvidPresentation};
use crate::discovery::MetadataCache;
use crate::http::Transport;
use crate::random::random_unit;
use crate::refresh::{Failure, Fresh, RefreshCell, Step};
use crate::runtime::{BoxFut, Clock, Sleeper, Spawner};
use crate::spiffe::svid_source::JwtSvidSource;
use crate::{Error, ErrorCode, Result, Secret};
use futures::future::FutureExt;
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Refresh timing for a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// From here on a refresh is started (the cached token is still handed out meanwhile).
    pub refresh_at_ms: i64,
    /// From here on the token is never handed out.
    pub usable_until_ms: i64,
}

/// Longest safety margin before expiry within which a token is no longer handed out.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(5);

/// Refresh at `expires_at - min(buffer, lifetime / 2)`; stop handing the token out at
/// `expires_at - min(5 s, lifetime / 4)`.
pub fn schedule(token: &Token, buffer: Duration) -> Schedule {
    let lifetime = token.lifetime_ms();
    // `as i64` would wrap a huge buffer (Duration::MAX) to a negative one.
    let buffer = i64::try_from(buffer.as_millis()).unwrap_or(i64::MAX).min(lifetime / 2);
    let margin = (EXPIRY_MARGIN.as_millis() as i64).min(lifetime / 4);
    Schedule {
        refresh_at_ms: token.expires_at_ms - buffer,
        usable_until_ms: token.expires_at_ms - margin,
    }
}

/// [`schedule`] for a token whose grant bounds it at `not_after_ms` (a token exchange's subject
/// expiry; the token's expiry is already capped at it). When the token lives to within
/// [`EXPIRY_MARGIN`] of that bound, no refresh could get a longer-lived one, so there is no early
/// refresh: the token is handed out until its usable end, and the next call exchanges anew.
pub fn schedule_within(token: &Token, buffer: Duration, not_after_ms: Option<i64>) -> Schedule {
    let mut s = schedule(token, buffer);
    let margin = EXPIRY_MARGIN.as_millis() as i64;
    if not_after_ms.is_some_and(|n| token.expires_at_ms >= n.saturating_sub(margin)) {
        s.refresh_at_ms = s.usable_until_ms;
    }
    s
}

/// Pause before the next refresh after a failure: what the server asked for, else a backoff that
/// grows with consecutive failures (a minute at most) while a usable token covers us, and a short
/// pause otherwise so a failing server is not hammered.
fn pause_after(e: &Error, f: Failure) -> Duration {
    match e.retry_after() {
        Some(r) => r,
        None if f.still_usable => Duration::from_secs((1u64 << f.consecutive.min(6)).min(60)),
        None => Duration::from_millis(if e.is_retryable() { 500 } else { 0 }),
    }
}

/// One cache key: its parameters and its cell.
struct Slot {
    params: TokenParams,
    cell: RefreshCell<Token>,
    /// When it was last asked for (a tick of `Inner::uses`), for evicting the least recently used.
    last_used: AtomicU64,
}

impl Slot {
    fn new(params: TokenParams, clock: Arc<dyn Clock>, tick: u64) -> Slot {
        Slot {
            params,
            cell: RefreshCell::new(clock, true, pause_after),
            last_used: AtomicU64::new(tick),
        }
    }

    /// Whether it still has something to hand out at `now_ms`, or a refresh others wait for.
    fn is_live(&self, now_ms: i64) -> bool {
        self.cell.is_refreshing()
            || (self.cell.usable(now_ms).is_some()
                && self.params.grant.grant().not_after_ms().is_none_or(|n| now_ms < n))
    }
}

struct Inner {
    cfg: ClientConfig,
    auth: Arc<dyn ClientAuth>,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    spawner: Option<Arc<dyn Spawner>>,
    retry: RetryPolicy,
    /// The issuer's metadata, when the token endpoint is discovered rather than configured.
    metadata: Option<MetadataCache>,
    /// The DPoP key and nonces, when the client uses DPoP.
    dpop: Option<Arc<DpopClient>>,
    /// The client authentication, when its secret or key is read from a file (and read again
    /// after `invalid_client`).
    files: Option<Arc<FileBackedAuth>>,
    default_slot: Arc<Slot>,
    /// The grant of the default token and of per-call parameters (client credentials, unless a
    /// workload identity presents its SVIDs as a JWT-bearer grant).
    default_grant: GrantRef,
    slots: Mutex<HashMap<TokenParams, Arc<Slot>>>,
    /// Ticks for `Slot::last_used`.
    uses: AtomicU64,
    requests: AtomicU64,
}

/// Most distinct (grant, scopes, audience, resource) combinations cached per client, besides the
/// default token. When full, a new one replaces expired entries, else the least recently used.
pub const MAX_CACHE_KEYS: usize = 256;

/// OAuth 2.0 token client with a token cache. Cheap to clone; safe to share.
#[derive(Clone)]
pub struct TokenClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenClient")
            .field("config", &self.inner.cfg)
            .finish_non_exhaustive()
    }
}

impl TokenClient {
    pub fn new(
        cfg: ClientConfig,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        sleeper: Arc<dyn Sleeper>,
    ) -> Result<TokenClient> {
        cfg.validate()?;
        let auth = client_auth::from_config(&cfg)?;
        let metadata = match (&cfg.token_url, &cfg.issuer) {
            (None, Some(issuer)) => Some(MetadataCache::new(
                issuer,
                cfg.allow_insecure_http,
                transport.clone(),
                clock.clone(),
                Duration::ZERO,
            )),
            _ => None,
        };
        let dpop = dpop_client(&cfg)?.map(Arc::new);
        let mut default_params = TokenParams::from_config(&cfg).normalized();
        default_params.dpop_jkt = dpop.as_ref().map(|d| d.key().thumbprint().to_string());
        let default_slot = Arc::new(Slot::new(default_params, clock.clone(), 0));
        Ok(TokenClient {
            inner: Arc::new(Inner {
                auth,
                transport,
                clock,
                sleeper,
                spawner: None,
                retry: cfg.retry.clone(),
                metadata,
                dpop,
                files: None,
                default_slot,
                default_grant: GrantRef::default(),
                slots: Mutex::new(HashMap::new()),
                uses: AtomicU64::new(0),
                requests: AtomicU64::new(0),
                cfg,
            }),
        })
    }

    /// Rebuild the client (before first use, while it is not shared) with `f` applied to its parts.
    fn rebuild(self, what: &str, f: impl FnOnce(&mut Inner)) -> Result<TokenClient> {
        let mut inner = Arc::try_unwrap(self.inner)
            .map_err(|_| Error::internal(format!("{what} must be called before the client is shared")))?;
        f(&mut inner);
        Ok(TokenClient { inner: Arc::new(inner) })
    }

    /// Replace the retry policy (before first use).
    pub fn with_retry(self, retry: RetryPolicy) -> Result<TokenClient> {
        self.rebuild("with_retry", |i| i.retry = retry)
    }

    /// Authenticate with another method than the configuration's (before first use).
    pub fn with_client_auth(self, auth: Arc<dyn ClientAuth>) -> Result<TokenClient> {
        self.rebuild("with_client_auth", |i| {
            i.auth = auth;
            i.files = None;
        })
    }

    /// Read the secret or key file of the configuration (`client_secret_file`, `private_key_file`)
    /// again through `reader` when the token endpoint answers `invalid_client`, and if it changed,
    /// send the request once more with the new one (before first use). Nothing changes for a
    /// configuration whose credentials did not come from a file.
    pub fn with_file_reader(self, reader: Arc<dyn crate::config::FileReader>) -> Result<TokenClient> {
        let Some(files) = FileBackedAuth::new(&self.inner.cfg, reader)? else {
            return Ok(self);
        };
        let files = Arc::new(files);
        self.rebuild("with_file_reader", |i| {
            i.auth = files.clone();
            i.files = Some(files);
        })
    }

    /// Authenticate with the workload's JWT-SVIDs from `source` (the SPIFFE Workload API), as
    /// the configuration's `spiffe_*` settings say: as the client assertion, or as a JWT-bearer
    /// grant, which then is the default grant (before first use).
    pub fn with_workload_identity(self, source: Arc<dyn JwtSvidSource>) -> Result<TokenClient> {
        let cfg = &self.inner.cfg;
        if cfg.auth_method != AuthMethod::SpiffeJwt {
            return Err(Error::config("with_workload_identity needs auth_method: spiffe_jwt"));
        }
        let svids = workload_identity::svid_cache(cfg, source)?;
        let client_id = cfg.client_id.clone();
        match cfg.spiffe.presentation {
            SvidPresentation::ClientAssertion => {
                self.with_client_auth(Arc::new(workload_identity::SpiffeJwtAuth { client_id, svids }))
            }
            SvidPresentation::JwtBearer => {
                let grant = GrantRef::new(Arc::new(workload_identity::JwtBearerSvid { svids: svids.clone() }));
                let auth = Arc::new(workload_identity::SvidGrantClient { client_id, svids });
                self.rebuild("with_workload_identity", |i| {
                    let mut params = i.default_slot.params.clone();
                    params.grant = grant.clone();
                    i.default_slot = Arc::new(Slot::new(params, i.clock.clone(), 0));
                    i.default_grant = grant;
                    i.auth = auth;
                })
            }
        }
    }

    /// Run proactive refreshes in the background: the caller that enters the refresh window gets
    /// the still-valid cached token at once instead of waiting for the refresh (before first use).
    pub fn with_spawner(self, spawner: Arc<dyn Spawner>) -> Result<TokenClient> {
        self.rebuild("with_spawner", |i| i.spawner = Some(spawner))
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }
    /// How the client authenticates.
    pub fn client_auth(&self) -> &dyn ClientAuth {
        &*self.inner.auth
    }
    /// Token requests sent so far (each retry attempt counts).
    pub fn request_count(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// The parameters of the default token (the configuration's).
    pub fn default_params(&self) -> &TokenParams {
        &self.inner.default_slot.params
    }

    /// Per-call options as bindings pass them (`{scopes, audience, resource}`) over the
    /// configured ones; `None` for the default token.
    pub fn params_from(&self, options: &Value) -> Result<Option<TokenParams>> {
        let mut base = TokenParams::from_config(&self.inner.cfg);
        base.grant = self.inner.default_grant.clone();
        base.overridden_by(options)
    }

    /// The DPoP key and nonces, when the client uses DPoP.
    pub fn dpop(&self) -> Option<&Arc<DpopClient>> {
        self.inner.dpop.as_ref()
    }

    pub(crate) fn clock_now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    fn slot(&self, params: Option<TokenParams>) -> Arc<Slot> {
        let Some(mut p) = params.map(TokenParams::normalized) else {
            return self.inner.default_slot.clone();
        };
        p.dpop_jkt = self.inner.dpop.as_ref().map(|d| d.key().thumbprint().to_string());
        if p == self.inner.default_slot.params {
            return self.inner.default_slot.clone();
        }
        let tick = self.inner.uses.fetch_add(1, Ordering::Relaxed) + 1;
        let mut slots = self.inner.slots.lock();
        if let Some(s) = slots.get(&p) {
            s.last_used.store(tick, Ordering::Relaxed);
            return s.clone();
        }
        if slots.len() >= MAX_CACHE_KEYS {
            make_room(&mut slots, self.inner.clock.now_ms());
        }
        let slot = Arc::new(Slot::new(p.clone(), self.inner.clock.clone(), tick));
        slots.insert(p, slot.clone());
        slot
    }

    /// How many parameter sets are cached besides the default token (at most [`MAX_CACHE_KEYS`]).
    pub fn cached_keys(&self) -> usize {
        self.inner.slots.lock().len()
    }

    /// The cached token if it can be handed out without any waiting (fresh, or in its refresh
    /// window while a refresh is already under way or paused after a failure). The fast path.
    pub fn try_get_now(&self) -> Option<Arc<Token>> {
        self.inner.default_slot.cell.ready_now(self.inner.clock.now_ms())
    }

    /// [`TokenClient::try_get_now`] for other parameters (`None`: the default token).
    pub fn try_get_now_for(&self, params: impl Into<Option<TokenParams>>) -> Option<Arc<Token>> {
        self.slot(params.into()).cell.ready_now(self.inner.clock.now_ms())
    }

    /// A token for the configured scopes/audience/resource.
    pub async fn get_token(&self) -> Result<Arc<Token>> {
        if let Some(t) = self.try_get_now() {
            return Ok(t);
        }
        self.get_from(self.inner.default_slot.clone()).await
    }

    /// A token for other parameters (cached separately; `None`: the default token).
    pub async fn get_token_for(&self, params: impl Into<Option<TokenParams>>) -> Result<Arc<Token>> {
        self.get_from(self.slot(params.into())).await
    }

    /// A token from an RFC 8693 token exchange, through the cache like any other: one entry per
    /// (subject, actor, token types, scopes, audience, resource), single flight, retries, and the
    /// token never handed out past the subject token's expiry. An expired (JWT) subject is an
    /// `invalid_grant` before anything is sent. Scopes, audience and resource are the request's
    /// only (not the configuration's).
    pub async fn exchange_token(&self, request: ExchangeRequest) -> Result<Arc<Token>> {
        request.grant.check_unexpired(self.inner.clock.now_ms())?;
        let params = request.into_params()?;
        self.get_from(self.slot(Some(params))).await
    }

    /// "I received `inbound_token`; get me one for the downstream API": the exchange of the inbound
    /// access token for one for `target` (which must name an audience or a resource). Never
    /// forward the inbound token itself.
    pub async fn downstream_token(&self, inbound_token: impl Into<Secret>, target: Downstream) -> Result<Arc<Token>> {
        self.exchange_token(ExchangeRequest::downstream(inbound_token, target)?)
            .await
    }

    async fn get_from(&self, slot: Arc<Slot>) -> Result<Arc<Token>> {
        let now = self.inner.clock.now_ms();
        let step = slot.cell.step(now, &|| self.fetch(slot.params.clone()));
        match step {
            Step::Ready(t) => Ok(t),
            Step::Failed(e) => Err(e),
            Step::Wait(f) => f.await,
            Step::Refreshing(f, old, _) if self.inner.spawner.is_some() => {
                if let Some(sp) = &self.inner.spawner {
                    sp.spawn(Box::pin(f.map(|_| ())));
                }
                Ok(old)
            }
            Step::Refreshing(f, old, old_usable_until) => match f.await {
                Ok(t) => Ok(t),
                Err(e) => {
                    let now = self.inner.clock.now_ms();
                    match slot.cell.usable(now) {
                        Some(t) => Ok(t),
                        None if now < old_usable_until => Ok(old),
                        None => Err(e),
                    }
                }
            },
        }
    }

    /// The refresh of one cache key: a token request with retries, scheduled for refresh.
    fn fetch(&self, params: TokenParams) -> BoxFut<'static, Result<Fresh<Token>>> {
        let client = self.clone();
        Box::pin(async move {
            let token = client.fetch_with_retry(&params).await?;
            let s = schedule_within(
                &token,
                client.inner.cfg.refresh_buffer,
                params.grant.grant().not_after_ms(),
            );
            Ok(Fresh {
                value: Arc::new(token),
                refresh_at_ms: s.refresh_at_ms,
                usable_until_ms: s.usable_until_ms,
            })
        })
    }

    async fn token_url(&self) -> Result<String> {
        if let Some(u) = &self.inner.cfg.token_url {
            return Ok(u.clone());
        }
        let metadata = self
            .inner
            .metadata
            .as_ref()
            .ok_or_else(|| Error::config("no token_url and no issuer to discover it from"))?;
        let meta = metadata.get().await?;
        // RFC 8705 §5: with a client certificate, the server's mTLS alias when it names one.
        let alias = meta.mtls_token_endpoint.clone().filter(|_| {
            self.inner.cfg.tls_client_cert.is_some() || self.inner.cfg.auth_method == AuthMethod::SpiffeX509
        });
        let url = alias.or_else(|| meta.token_endpoint.clone()).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidResponse,
                "the authorization-server metadata has no token_endpoint",
            )
        })?;
        crate::http::check_url(&url, self.inner.cfg.allow_insecure_http, "token_endpoint")?;
        Ok(url)
    }

    /// Send the token request; with DPoP, a proof on it, the nonce remembered, and one more try
    /// when the server asks for a nonce it has just given.
    async fn send_token_request(&self, url: &str, params: &TokenParams) -> Result<crate::http::HttpResponse> {
        let mut nonce_retried = false;
        loop {
            let now = self.inner.clock.now_ms();
            params.grant.grant().prepare(now).await?;
            self.inner.auth.prepare(now).await?;
            let now = self.inner.clock.now_ms();
            let mut req = token_request(url, params, &*self.inner.auth, self.inner.cfg.allow_insecure_http, now)?;
            if let Some(d) = &self.inner.dpop {
                req.headers.push(("dpop".into(), d.proof("POST", url, None, now)?));
            }
            self.inner.requests.fetch_add(1, Ordering::Relaxed);
            let resp = self.inner.transport.send(req).await?;
            let Some(d) = &self.inner.dpop else { return Ok(resp) };
            let fresh = d.remember_nonce(url, resp.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            if nonce_retried || !fresh || !token_endpoint_wants_nonce(&resp) {
                return Ok(resp);
            }
            nonce_retried = true;
        }
    }

    async fn fetch_once(&self, params: &TokenParams) -> Result<Token> {
        let url = self.token_url().await?;
        let resp = self.send_token_request(&url, params).await?;
        let now = self.inner.clock.now_ms();
        let grant = params.grant.grant();
        let mut secrets = grant.secrets();
        secrets.push(self.inner.cfg.client_secret.as_ref().map(|s| s.expose()).unwrap_or(""));
        let from_file = self.inner.files.as_ref().and_then(|f| f.current_secret());
        secrets.push(from_file.as_ref().map(|s| s.expose()).unwrap_or(""));
        let mut token = parse_token_response_for(grant.grant_type(), &resp, now, &params.scopes, &secrets)?;
        check_token_type(&token, self.inner.dpop.is_some())?;
        grant.check_token(&token)?;
        if let Some(not_after) = grant.not_after_ms() {
            if now >= not_after {
                return Err(Error::new(
                    ErrorCode::InvalidGrant,
                    "the subject (or actor) token expired while the token was requested; get a fresh one",
                ));
            }
            token.expires_at_ms = token.expires_at_ms.min(not_after);
        }
        if now >= schedule(&token, self.inner.cfg.refresh_buffer).usable_until_ms {
            return Err(Error::new(
                ErrorCode::InvalidResponse,
                "the token endpoint returned a token that is already expired (expires_in 0 or an exp in the past); check the server's clock and token lifetime",
            ));
        }
        Ok(token)
    }

    /// [`Self::fetch_once`], sent once more after `invalid_client` when the secret or key file
    /// holds new credentials (see [`super::secret_files`]).
    async fn fetch_once_rereading(&self, params: &TokenParams) -> Result<Token> {
        let generation = self.inner.files.as_ref().map(|f| f.generation());
        match self.fetch_once(params).await {
            Err(e) if e.code() == ErrorCode::InvalidClient => match (&self.inner.files, generation) {
                (Some(files), Some(g)) if files.reread(g) => self.fetch_once(params).await,
                _ => Err(e),
            },
            other => other,
        }
    }

    async fn fetch_with_retry(&self, params: &TokenParams) -> Result<Token> {
        let policy = &self.inner.retry;
        let start = self.inner.clock.now_ms();
        let budget = policy.max_elapsed.as_millis() as i64;
        let mut attempt = 0u32;
        loop {
            let err = match self.fetch_once_rereading(params).await {
                Ok(t) => return Ok(t),
                Err(e) => e,
            };
            attempt += 1;
            if !err.is_retryable() || attempt >= policy.max_attempts.max(1) {
                return Err(err);
            }
            let jitter = policy.backoff(attempt - 1, random_unit());
            let delay = match err.retry_after() {
                Some(ra) => ra.max(jitter),
                None => jitter,
            };
            let elapsed = self.inner.clock.now_ms() - start;
            if elapsed + delay.as_millis() as i64 > budget {
                return Err(err);
            }
            self.inner.sleeper.sleep(delay).await;
        }
    }

    fn for_each_slot(&self, f: impl Fn(&Slot)) {
        f(&self.inner.default_slot);
        for s in self.inner.slots.lock().values() {
            f(s);
        }
    }

    /// Drop every cached token (e.g. after a resource answered 401). The next call fetches anew.
    pub fn invalidate(&self) {
        self.for_each_slot(|s| s.cell.invalidate());
    }

    /// Drop the cached token only if it is `access_token` (so that a 401 for an old token does not
    /// throw away a newer one another caller already fetched).
    pub fn invalidate_token(&self, access_token: &str) {
        self.for_each_slot(|s| {
            s.cell.invalidate_value(|t| {
                crate::secret::constant_time_eq(t.access_token.expose().as_bytes(), access_token.as_bytes())
            })
        });
    }
}

/// The DPoP key the configuration asks for: its `dpop_key`, else a fresh one.
fn dpop_client(cfg: &ClientConfig) -> Result<Option<DpopClient>> {
    if !cfg.dpop {
        return Ok(None);
    }
    let key = match &cfg.dpop_key {
        Some(k) => crate::dpop::ProofKey::from_pem_or_jwk(k.expose(), cfg.dpop_alg)?,
        #[cfg(feature = "aws_lc_rs")]
        None => crate::dpop::ProofKey::generate(cfg.dpop_alg)?,
        #[cfg(not(feature = "aws_lc_rs"))]
        None => return Err(Error::config("this build cannot generate a DPoP key; give dpop_key")),
    };
    Ok(Some(DpopClient::new(key)))
}

/// RFC 9449 §5: a client that asked for a DPoP-bound token must not use another kind (a server
/// that ignored the proof, or an attacker downgrading it, would otherwise get it sent as Bearer).
/// A DPoP token without a key to prove it with would be useless.
fn check_token_type(token: &Token, dpop: bool) -> Result<()> {
    let is_dpop = token.token_type.eq_ignore_ascii_case("dpop");
    match (dpop, is_dpop) {
        (true, false) => Err(Error::new(
            ErrorCode::InvalidResponse,
            format!(
                "the token endpoint answered a DPoP request with token_type {}, not DPoP: it does not bind tokens to the key (a downgrade); use a server that supports DPoP (RFC 9449) or turn dpop off",
                crate::util::quoted(&token.token_type)
            ),
        )),
        (false, true) => Err(Error::new(
            ErrorCode::InvalidResponse,
            "the token endpoint issued a DPoP-bound token to a client without a DPoP key; turn dpop on",
        )),
        _ => Ok(()),
    }
}

/// Make room for one more entry in a full cache: drop the entries with nothing left to hand out
/// (their token, or the subject token it was exchanged for, has expired; unless a refresh is under
/// way), then, while still full, the least recently used (one being refreshed last: its callers
/// keep their refresh either way).
fn make_room(slots: &mut HashMap<TokenParams, Arc<Slot>>, now_ms: i64) {
    slots.retain(|_, s| s.is_live(now_ms));
    while slots.len() >= MAX_CACHE_KEYS {
        let lru = slots
            .iter()
            .min_by_key(|(_, s)| (s.cell.is_refreshing(), s.last_used.load(Ordering::Relaxed)))
            .map(|(p, _)| p.clone());
        match lru {
            Some(p) => slots.remove(&p),
            None => break,
        };
    }
}
