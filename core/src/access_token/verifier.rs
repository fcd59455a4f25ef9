//! The access-token verifier: the rules ([`super::rules`]) applied with keys from a
//! [`KeyProvider`] at the time of an injected [`Clock`], and the verified-token cache. Callers
//! that check signatures themselves (WebCrypto) use [`Verifier::prepare`] and
//! [`Verifier::complete`].

use super::cache::VerifiedCache;
use super::claims::Claims;
use super::config::VerifierConfig;
use super::rules::{decode_claims, parse_token, signed_by_any, verify_parsed, ParsedToken};
use crate::jose::alg::Alg;
use crate::jose::compact::bad_signature;
use crate::jose::keys::{KeySet, VerifyKey};
use crate::key_provider::{KeyProvider, KeySnapshot};
use crate::runtime::Clock;
use crate::scope::ScopeRequirement;
use crate::{Error, ErrorCode, Result};
use std::sync::Arc;

/// What [`Verifier::prepare`] leaves to the caller: a signature to check, as data.
///
/// Runtimes with their own crypto (WebAssembly with WebCrypto) check [`SignatureCheck::message`]
/// against [`SignatureCheck::signature`] with each of [`SignatureCheck::keys`] under
/// [`SignatureCheck::alg`] until one verifies, then hand the outcome to [`Verifier::complete`], which decodes the
/// claims, applies every claim rule and fills the verified-token cache. Parsing, the `alg`
/// allow-list, `typ`, `crit` and key selection have already been decided by the core.
pub struct SignatureCheck {
    token: Box<str>,
    signing_input_len: usize,
    signature: Vec<u8>,
    alg: Alg,
    keys: Vec<VerifyKey>,
    /// The key-set generation the key came from (None for static keys).
    generation: Option<u64>,
}

impl SignatureCheck {
    pub fn alg(&self) -> Alg {
        self.alg
    }
    /// The keys the core selected (by `kid`, fitting `alg`), in key-set order; never empty. The
    /// signature is valid when any of them verifies it (two keys can share a `kid`).
    pub fn keys(&self) -> &[VerifyKey] {
        &self.keys
    }
    /// The JWS signing input: `BASE64URL(header) '.' BASE64URL(payload)`.
    pub fn message(&self) -> &[u8] {
        &self.token.as_bytes()[..self.signing_input_len]
    }
    /// The decoded signature (for ES256/ES384 the raw `r || s` form, as WebCrypto takes it).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
    /// The token this check belongs to.
    pub fn token(&self) -> &str {
        &self.token
    }
    /// Check the signature with this build's own backend (`Ok(false)` for a bad signature; an
    /// error when the build has no backend).
    pub fn verify_with_backend(&self) -> Result<bool> {
        match signed_by_any(self.alg, &self.keys, self.message(), &self.signature) {
            Ok(()) => Ok(true),
            Err(e) if e.code() == ErrorCode::InvalidSignature => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl std::fmt::Debug for SignatureCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureCheck")
            .field("alg", &self.alg)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// The outcome of [`Verifier::prepare`].
#[derive(Debug)]
pub enum Prepared {
    /// Verified before (the verified-token cache): nothing left to do.
    Verified(Arc<Claims>),
    /// A signature to check, then [`Verifier::complete`].
    Check(SignatureCheck),
}

/// What the synchronous look-up found.
enum Lookup<'t> {
    Cached(Arc<Claims>),
    Keys(ParsedToken<'t>, Arc<KeySet>, Option<u64>),
}

/// A token verifier: configuration, a key source, a clock, and a verified-token cache.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<VerifierInner>,
}

struct VerifierInner {
    cfg: VerifierConfig,
    keys: Arc<dyn KeyProvider>,
    clock: Arc<dyn Clock>,
    cache: VerifiedCache,
    /// The key-set generation the cache was filled under (cleared when a refresh drops a kid).
    keys_generation: std::sync::atomic::AtomicU64,
}

impl Verifier {
    pub fn new(cfg: VerifierConfig, keys: Arc<dyn KeyProvider>, clock: Arc<dyn Clock>) -> Result<Verifier> {
        cfg.validate()?;
        let cache = VerifiedCache::new(cfg.verified_cache_size);
        Ok(Verifier {
            inner: Arc::new(VerifierInner {
                cfg,
                keys,
                clock,
                cache,
                keys_generation: std::sync::atomic::AtomicU64::new(0),
            }),
        })
    }

    pub fn config(&self) -> &VerifierConfig {
        &self.inner.cfg
    }
    /// Where the keys come from.
    pub fn keys(&self) -> &dyn KeyProvider {
        &*self.inner.keys
    }
    /// Number of tokens in the verified-token cache.
    pub fn cached_tokens(&self) -> usize {
        self.inner.cache.len()
    }

    /// Verify without waiting for the network: `Some` when the token is in the verified cache or
    /// the keys needed are at hand (static keys, or a fresh cached JWKS that has the `kid`);
    /// `None` when a JWKS fetch is needed (call [`Verifier::verify`]).
    pub fn try_verify_now(&self, token: &str) -> Option<Result<Arc<Claims>>> {
        let now = self.inner.clock.now_ms();
        Some(match self.lookup_now(token, now)? {
            Ok(Lookup::Cached(c)) => Ok(c),
            Ok(Lookup::Keys(parsed, keys, _)) => self.finish(token, &parsed, &keys, now),
            Err(e) => Err(e),
        })
    }

    /// [`Verifier::prepare`] without waiting for the network: `None` when a JWKS fetch is needed.
    pub fn try_prepare_now(&self, token: &str) -> Option<Result<Prepared>> {
        let now = self.inner.clock.now_ms();
        Some(match self.lookup_now(token, now)? {
            Ok(Lookup::Cached(c)) => Ok(Prepared::Verified(c)),
            Ok(Lookup::Keys(parsed, keys, generation)) => {
                Self::signature_check(token, &parsed, &keys, generation).map(Prepared::Check)
            }
            Err(e) => Err(e),
        })
    }

    /// Everything but the signature check: the verified-token cache, parsing and header rules,
    /// keys (fetching the JWKS when needed) and key selection. A [`Prepared::Check`] goes to the
    /// caller's crypto and then to [`Verifier::complete`]. For runtimes whose signature checks
    /// are asynchronous or live outside Rust (WebCrypto).
    pub async fn prepare(&self, token: &str) -> Result<Prepared> {
        if let Some(r) = self.try_prepare_now(token) {
            return r;
        }
        let parsed = parse_token(token, &self.inner.cfg)?;
        let snap = self.fetched_keys(&parsed).await?;
        Self::signature_check(token, &parsed, &snap.keys, snap.generation).map(Prepared::Check)
    }

    /// Finish a [`Prepared::Check`] with the outcome of its signature check: on a good signature,
    /// the claim rules at the current time, then the verified-token cache.
    pub fn complete(&self, check: SignatureCheck, signature_valid: bool) -> Result<Arc<Claims>> {
        if !signature_valid {
            return Err(bad_signature());
        }
        let inner = &*self.inner;
        let now = inner.clock.now_ms();
        let payload_b64 = check.token[..check.signing_input_len]
            .split_once('.')
            .map(|(_, p)| p)
            .ok_or_else(|| Error::internal("a signature check without a payload"))?;
        let claims = Arc::new(decode_claims(payload_b64, &inner.cfg, now)?);
        // Keys removed while the check was out: the answer stands, but it is not cached.
        if inner.keys.generation() == check.generation {
            let until = claims.exp_ms.saturating_add(inner.cfg.leeway.as_millis() as i64);
            inner.cache.insert(&check.token, claims.clone(), until, now);
        }
        Ok(claims)
    }

    fn signature_check(
        token: &str,
        parsed: &ParsedToken<'_>,
        keys: &KeySet,
        generation: Option<u64>,
    ) -> Result<SignatureCheck> {
        let keys = keys.candidates(parsed.kid.as_deref(), parsed.alg)?;
        Ok(SignatureCheck {
            token: token.into(),
            signing_input_len: parsed.signing_input.len(),
            signature: parsed.signature.clone(),
            alg: parsed.alg,
            keys,
            generation,
        })
    }

    /// The synchronous part shared by `try_verify_now` and `try_prepare_now`: `None` when the
    /// keys must be fetched first.
    fn lookup_now<'t>(&self, token: &'t str, now: i64) -> Option<Result<Lookup<'t>>> {
        let inner = &*self.inner;
        // A stale key set must be refetched before anything is accepted, cached tokens
        // included: otherwise a withdrawn key would go unnoticed while every token is a hit.
        if !inner.keys.is_fresh(now) {
            return None;
        }
        if let Some(g) = inner.keys.generation() {
            self.sync_generation(g);
        }
        if token.len() <= inner.cfg.max_token_bytes {
            if let Some(c) = inner.cache.get(token, now) {
                return Some(Ok(Lookup::Cached(c)));
            }
        }
        let parsed = match parse_token(token, &inner.cfg) {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let snap = inner.keys.keys_now(now)?;
        if inner.keys.refetches_unknown_kid() {
            if let Some(kid) = parsed.kid.as_deref() {
                if !snap.keys.kids().any(|k| k == kid) {
                    return None;
                }
            }
        }
        Some(Ok(Lookup::Keys(parsed, snap.keys, snap.generation)))
    }

    /// The keys from the provider (fetching, and refetching once for an unknown `kid`).
    async fn fetched_keys(&self, parsed: &ParsedToken<'_>) -> Result<KeySnapshot> {
        let provider = &*self.inner.keys;
        let mut snap = provider.keys().await?;
        if let Some(kid) = parsed.kid.as_deref() {
            if !snap.keys.kids().any(|k| k == kid) {
                if let Some(s) = provider.refresh_for_unknown_kid().await {
                    snap = s;
                }
            }
        }
        if let Some(g) = snap.generation {
            self.sync_generation(g);
        }
        Ok(snap)
    }

    /// Only the verified-token cache: `Some` for a token that verified before and is still within
    /// its `exp` (plus leeway). No parsing and no signature check, so bindings can call it before
    /// releasing their interpreter lock and do the real work ([`Verifier::verify`]) without it.
    pub fn try_cached(&self, token: &str) -> Option<Arc<Claims>> {
        let inner = &*self.inner;
        // As in `try_verify_now`: a stale key set is refetched before a cached result counts.
        if !inner.keys.is_fresh(inner.clock.now_ms()) {
            return None;
        }
        if let Some(g) = inner.keys.generation() {
            self.sync_generation(g);
        }
        if token.len() > inner.cfg.max_token_bytes {
            return None;
        }
        inner.cache.get(token, inner.clock.now_ms())
    }

    /// Verify a token: signature, algorithm, `typ`, claims. Fetches the JWKS when needed
    /// (once per max-age, and on an unknown `kid` at most once per cooldown).
    pub async fn verify(&self, token: &str) -> Result<Arc<Claims>> {
        if let Some(r) = self.try_verify_now(token) {
            return r;
        }
        let parsed = parse_token(token, &self.inner.cfg)?;
        let snap = self.fetched_keys(&parsed).await?;
        let now = self.inner.clock.now_ms();
        self.finish(token, &parsed, &snap.keys, now)
    }

    /// Verify, then require scopes.
    pub async fn verify_with_scopes(&self, token: &str, required: &ScopeRequirement) -> Result<Arc<Claims>> {
        let claims = self.verify(token).await?;
        required.check_claims(&claims)?;
        Ok(claims)
    }

    /// [`Verifier::try_cached`], then the scope check: for bindings' fast path.
    pub fn try_cached_with(&self, token: &str, required: &ScopeRequirement) -> Option<Result<Arc<Claims>>> {
        self.try_cached(token).map(|c| required.check_claims(&c).map(|()| c))
    }

    /// [`Verifier::try_verify_now`], then the scope check.
    pub fn try_verify_now_with(&self, token: &str, required: &ScopeRequirement) -> Option<Result<Arc<Claims>>> {
        self.try_verify_now(token)
            .map(|r| r.and_then(|c| required.check_claims(&c).map(|()| c)))
    }

    fn finish(&self, token: &str, parsed: &ParsedToken<'_>, keys: &KeySet, now: i64) -> Result<Arc<Claims>> {
        let claims = Arc::new(verify_parsed(parsed, keys, &self.inner.cfg, now)?);
        let until = claims.exp_ms.saturating_add(self.inner.cfg.leeway.as_millis() as i64);
        self.inner.cache.insert(token, claims.clone(), until, now);
        Ok(claims)
    }

    /// When the JWKS cache reports that keys were removed, forget every verified token.
    fn sync_generation(&self, generation: u64) {
        use std::sync::atomic::Ordering;
        if self.inner.keys_generation.load(Ordering::Acquire) != generation
            && self.inner.keys_generation.swap(generation, Ordering::AcqRel) != generation
        {
            self.inner.cache.clear();
        }
    }
}
