//! The token client: a cache with proactive refresh, exactly one refresh in flight per cache key
//! however many callers wait, retries with exponential backoff and full jitter, and the cached
//! token served through a failing refresh while it is still valid.
//!
//! Runtime-agnostic: time, sleeping and HTTP are injected ([`Clock`], [`Sleeper`],
//! [`Transport`]), so the same code runs under tokio, in wasm, and in tests with a manual clock.

use super::discovery::discover;
use super::request::{client_credentials_request, TokenParams};
use super::response::{parse_token_response, Token};
use crate::config::{AuthMethod, ClientConfig};
use crate::http::Transport;
use crate::jwt::signing::SigningKey;
use crate::runtime::{random_unit, BoxFut, Clock, Sleeper, Spawner};
use crate::{Error, ErrorCode, Result};
use futures::future::{FutureExt, Shared};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Retry policy for token requests: network errors, 5xx and 429 are retried; OAuth errors
/// (`invalid_client`, `invalid_scope`, ...) never are.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// First backoff ceiling; doubles per attempt (full jitter picks uniformly below it).
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Give up once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Default::default()
        }
    }

    /// Delay before attempt `attempt + 1` (0-based `attempt` just failed), full jitter:
    /// uniform in `[0, min(max_delay, base * 2^attempt))`, using `unit` in `[0, 1)`.
    pub fn backoff(&self, attempt: u32, unit: f64) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << attempt.min(20))
            .min(self.max_delay);
        ceiling.mul_f64(unit.clamp(0.0, 1.0))
    }
}

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

type Fetch = Shared<BoxFut<'static, Result<Arc<Token>>>>;

struct Cached {
    token: Arc<Token>,
    schedule: Schedule,
}

#[derive(Default)]
struct SlotState {
    cached: Option<Cached>,
    inflight: Option<Fetch>,
    /// No new fetch before this instant (after a failure).
    quiet_until_ms: i64,
    last_error: Option<Error>,
    failures: u32,
}

struct Slot {
    params: TokenParams,
    state: Mutex<SlotState>,
}

struct Inner {
    cfg: ClientConfig,
    signer: Option<SigningKey>,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    spawner: Option<Arc<dyn Spawner>>,
    retry: RetryPolicy,
    token_url: Mutex<Option<String>>,
    default_slot: Arc<Slot>,
    slots: Mutex<HashMap<TokenParams, Arc<Slot>>>,
    requests: AtomicU64,
}

/// Most distinct (scopes, audience, resource) combinations cached per client.
pub const MAX_CACHE_KEYS: usize = 256;

/// OAuth 2.0 client-credentials client with a token cache. Cheap to clone; safe to share.
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

enum Step {
    Ready(Arc<Token>),
    Fail(Error),
    /// Refresh in the refresh window: on failure, fall back to this still-usable token.
    Refresh(Fetch, Arc<Token>),
    Wait(Fetch),
}

impl TokenClient {
    pub fn new(
        cfg: ClientConfig,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        sleeper: Arc<dyn Sleeper>,
    ) -> Result<TokenClient> {
        cfg.validate()?;
        let signer = match cfg.auth_method {
            AuthMethod::PrivateKeyJwt => {
                let pem = cfg
                    .private_key
                    .as_ref()
                    .ok_or_else(|| Error::config("private_key_jwt needs a private key"))?;
                Some(SigningKey::from_pem_or_jwk(
                    pem.expose(),
                    cfg.private_key_alg,
                    cfg.private_key_id.clone(),
                )?)
            }
            _ => None,
        };
        let default_params = TokenParams::from_config(&cfg).normalized();
        let token_url = cfg.token_url.clone();
        Ok(TokenClient {
            inner: Arc::new(Inner {
                signer,
                transport,
                clock,
                sleeper,
                spawner: None,
                retry: RetryPolicy::default(),
                token_url: Mutex::new(token_url),
                default_slot: Arc::new(Slot {
                    params: default_params,
                    state: Mutex::new(SlotState::default()),
                }),
                slots: Mutex::new(HashMap::new()),
                requests: AtomicU64::new(0),
                cfg,
            }),
        })
    }

    /// Replace the retry policy (before first use; the client is rebuilt around shared state).
    pub fn with_retry(self, retry: RetryPolicy) -> Result<TokenClient> {
        let inner = Arc::try_unwrap(self.inner)
            .map_err(|_| Error::internal("with_retry must be called before the client is shared"))?;
        Ok(TokenClient {
            inner: Arc::new(Inner { retry, ..inner }),
        })
    }

    /// Run proactive refreshes in the background: the caller that enters the refresh window gets
    /// the still-valid cached token at once instead of waiting for the refresh (before first use).
    pub fn with_spawner(self, spawner: Arc<dyn Spawner>) -> Result<TokenClient> {
        let inner = Arc::try_unwrap(self.inner)
            .map_err(|_| Error::internal("with_spawner must be called before the client is shared"))?;
        Ok(TokenClient {
            inner: Arc::new(Inner {
                spawner: Some(spawner),
                ..inner
            }),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }
    /// Token requests sent so far (each retry attempt counts).
    pub fn request_count(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    fn slot(&self, params: Option<TokenParams>) -> Arc<Slot> {
        let Some(p) = params.map(TokenParams::normalized) else {
            return self.inner.default_slot.clone();
        };
        if p == self.inner.default_slot.params {
            return self.inner.default_slot.clone();
        }
        let mut slots = self.inner.slots.lock();
        if slots.len() >= MAX_CACHE_KEYS && !slots.contains_key(&p) {
            slots.retain(|_, s| s.state.lock().inflight.is_some());
        }
        slots
            .entry(p.clone())
            .or_insert_with(|| {
                Arc::new(Slot {
                    params: p,
                    state: Mutex::new(SlotState::default()),
                })
            })
            .clone()
    }

    /// The cached token if it can be handed out without any waiting (fresh, or in its refresh
    /// window while a refresh is already under way or paused after a failure). The fast path.
    pub fn try_get_now(&self) -> Option<Arc<Token>> {
        self.ready_now(&self.inner.default_slot)
    }

    fn ready_now(&self, slot: &Slot) -> Option<Arc<Token>> {
        let now = self.inner.clock.now_ms();
        let st = slot.state.lock();
        let c = st.cached.as_ref()?;
        if now < c.schedule.refresh_at_ms
            || (now < c.schedule.usable_until_ms && (st.inflight.is_some() || now < st.quiet_until_ms))
        {
            Some(c.token.clone())
        } else {
            None
        }
    }

    /// [`TokenClient::try_get_now`] for other scopes/audience/resource (the fast path of
    /// [`TokenClient::get_token_for`]).
    pub fn try_get_now_for(&self, params: TokenParams) -> Option<Arc<Token>> {
        self.ready_now(&self.slot(Some(params)))
    }

    /// A token for the configured scopes/audience/resource.
    pub async fn get_token(&self) -> Result<Arc<Token>> {
        if let Some(t) = self.try_get_now() {
            return Ok(t);
        }
        self.get_from(self.inner.default_slot.clone()).await
    }

    /// A token for other scopes/audience/resource (cached separately).
    pub async fn get_token_for(&self, params: TokenParams) -> Result<Arc<Token>> {
        self.get_from(self.slot(Some(params))).await
    }

    async fn get_from(&self, slot: Arc<Slot>) -> Result<Arc<Token>> {
        let now = self.inner.clock.now_ms();
        let step = {
            let mut st = slot.state.lock();
            match &st.cached {
                Some(c) if now < c.schedule.refresh_at_ms => Step::Ready(c.token.clone()),
                Some(c) if now < c.schedule.usable_until_ms => {
                    let t = c.token.clone();
                    if st.inflight.is_some() || now < st.quiet_until_ms {
                        Step::Ready(t)
                    } else {
                        Step::Refresh(self.start_fetch(&slot, &mut st), t)
                    }
                }
                _ => match (&st.inflight, &st.last_error) {
                    (Some(f), _) => Step::Wait(f.clone()),
                    (None, Some(e)) if now < st.quiet_until_ms => Step::Fail(e.clone()),
                    _ => Step::Wait(self.start_fetch(&slot, &mut st)),
                },
            }
        };
        match step {
            Step::Ready(t) => Ok(t),
            Step::Fail(e) => Err(e),
            Step::Wait(f) => f.await,
            Step::Refresh(f, old) if self.inner.spawner.is_some() => {
                if let Some(sp) = &self.inner.spawner {
                    sp.spawn(Box::pin(f.map(|_| ())));
                }
                Ok(old)
            }
            Step::Refresh(f, old) => match f.await {
                Ok(t) => Ok(t),
                Err(e) => {
                    let now = self.inner.clock.now_ms();
                    let st = slot.state.lock();
                    match &st.cached {
                        Some(c) if now < c.schedule.usable_until_ms => Ok(c.token.clone()),
                        _ if now < schedule(&old, self.inner.cfg.refresh_buffer).usable_until_ms => Ok(old),
                        _ => Err(e),
                    }
                }
            },
        }
    }

    /// Start the one fetch for this slot. Called with the slot locked.
    fn start_fetch(&self, slot: &Arc<Slot>, st: &mut SlotState) -> Fetch {
        let client = self.clone();
        let slot2 = slot.clone();
        let fut: BoxFut<'static, Result<Arc<Token>>> = Box::pin(async move {
            let res = client.fetch_with_retry(&slot2.params).await;
            let now = client.inner.clock.now_ms();
            let mut st = slot2.state.lock();
            st.inflight = None;
            match res {
                Ok(token) => {
                    let token = Arc::new(token);
                    st.cached = Some(Cached {
                        schedule: schedule(&token, client.inner.cfg.refresh_buffer),
                        token: token.clone(),
                    });
                    st.failures = 0;
                    st.last_error = None;
                    st.quiet_until_ms = i64::MIN;
                    Ok(token)
                }
                Err(e) => {
                    st.failures = st.failures.saturating_add(1);
                    let still_usable = st.cached.as_ref().is_some_and(|c| now < c.schedule.usable_until_ms);
                    // Pause before the next attempt: what the server asked for, else a backoff
                    // that grows with consecutive failures (a minute at most) while a usable token
                    // covers us, and a short pause otherwise so a failing server is not hammered.
                    let pause = match e.retry_after() {
                        Some(r) => r,
                        None if still_usable => Duration::from_secs((1u64 << st.failures.min(6)).min(60)),
                        None => Duration::from_millis(if e.is_retryable() { 500 } else { 0 }),
                    };
                    st.quiet_until_ms = now + pause.as_millis() as i64;
                    if let (true, Some(c)) = (still_usable, &st.cached) {
                        st.quiet_until_ms = st.quiet_until_ms.min(c.schedule.usable_until_ms);
                    }
                    st.last_error = Some(e.clone());
                    Err(e)
                }
            }
        });
        let shared = fut.shared();
        st.inflight = Some(shared.clone());
        shared
    }

    async fn token_url(&self) -> Result<String> {
        if let Some(u) = self.inner.token_url.lock().clone() {
            return Ok(u);
        }
        let issuer = self
            .inner
            .cfg
            .issuer
            .clone()
            .ok_or_else(|| Error::config("no token_url and no issuer to discover it from"))?;
        let meta = discover(&*self.inner.transport, &issuer, self.inner.cfg.allow_insecure_http).await?;
        let url = meta.token_endpoint.ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidResponse,
                "the authorization-server metadata has no token_endpoint",
            )
        })?;
        crate::http::check_url(&url, self.inner.cfg.allow_insecure_http, "token_endpoint")?;
        *self.inner.token_url.lock() = Some(url.clone());
        Ok(url)
    }

    async fn fetch_once(&self, params: &TokenParams) -> Result<Token> {
        let url = self.token_url().await?;
        let now = self.inner.clock.now_ms();
        let req = client_credentials_request(&self.inner.cfg, &url, params, self.inner.signer.as_ref(), now)?;
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let resp = self.inner.transport.send(req).await?;
        let now = self.inner.clock.now_ms();
        let secret = self.inner.cfg.client_secret.as_ref().map(|s| s.expose()).unwrap_or("");
        let token = parse_token_response(&resp, now, &params.scopes, &[secret])?;
        if now >= schedule(&token, self.inner.cfg.refresh_buffer).usable_until_ms {
            return Err(Error::new(
                ErrorCode::InvalidResponse,
                "the token endpoint returned a token that is already expired (expires_in 0 or an exp in the past); check the server's clock and token lifetime",
            ));
        }
        Ok(token)
    }

    async fn fetch_with_retry(&self, params: &TokenParams) -> Result<Token> {
        let policy = &self.inner.retry;
        let start = self.inner.clock.now_ms();
        let budget = policy.max_elapsed.as_millis() as i64;
        let mut attempt = 0u32;
        loop {
            let err = match self.fetch_once(params).await {
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

    /// Drop every cached token (e.g. after a resource answered 401). The next call fetches anew.
    pub fn invalidate(&self) {
        let clear = |s: &Slot| {
            let mut st = s.state.lock();
            st.cached = None;
            st.quiet_until_ms = i64::MIN;
            st.last_error = None;
        };
        clear(&self.inner.default_slot);
        for s in self.inner.slots.lock().values() {
            clear(s);
        }
    }

    /// Drop the cached token only if it is `access_token` (so that a 401 for an old token does not
    /// throw away a newer one another caller already fetched).
    pub fn invalidate_token(&self, access_token: &str) {
        let clear = |s: &Slot| {
            let mut st = s.state.lock();
            if st.cached.as_ref().is_some_and(|c| {
                crate::secret::constant_time_eq(c.token.access_token.expose().as_bytes(), access_token.as_bytes())
            }) {
                st.cached = None;
                st.quiet_until_ms = i64::MIN;
                st.last_error = None;
            }
        };
        clear(&self.inner.default_slot);
        for s in self.inner.slots.lock().values() {
            clear(s);
        }
    }
}
