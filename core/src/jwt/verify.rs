//! JWT access-token verification (RFC 7519, RFC 8725 best practices, RFC 9068 profile).
//!
//! Order of checks: size → structure → header (`alg` allow-list, `typ`, `crit`) → key selection
//! (`kid`, `alg` fits `kty`/`crv`) → signature → claims (`exp`, `nbf`, `iat`, `iss`, `aud`,
//! required claims) → scopes. Nothing from an unverified token reaches an error message beyond
//! short, truncated header values.

use super::alg::{provider, Alg};
use super::claims::Claims;
use super::jwks::JwksCache;
use super::keys::{KeySet, VerifyKey};
use super::scopes::ScopeRequirement;
use crate::runtime::Clock;
use crate::util::b64url_decode;
use crate::util::{quoted, quoted_list, truncate};
use crate::{Error, ErrorCode, Result};
use parking_lot::RwLock;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;

/// Default token size limit, checked before any decoding.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Default clock-skew leeway.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(5);
/// Default number of verified tokens remembered.
pub const DEFAULT_VERIFIED_CACHE: usize = 10_000;

/// RFC 9068 `typ` policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TypPolicy {
    /// Accept `at+jwt`, `application/at+jwt`, `JWT`, or no `typ` at all; reject any other type
    /// (e.g. `dpop+jwt`, `id_token+jwt`) so that other kinds of JWT cannot be replayed as tokens.
    #[default]
    Default,
    /// Require `at+jwt` (or `application/at+jwt`), as RFC 9068 §4 asks of resource servers.
    Strict,
}

impl TypPolicy {
    pub fn parse(s: &str) -> Result<TypPolicy> {
        match s {
            "default" | "" => Ok(TypPolicy::Default),
            "strict" | "at+jwt" => Ok(TypPolicy::Strict),
            o => Err(Error::config(format!(
                "unknown typ policy {}; use \"default\" or \"strict\"",
                quoted(o)
            ))),
        }
    }
}

/// What a verifier checks.
#[derive(Clone, Debug)]
pub struct VerifierConfig {
    /// Expected `iss`. Required: set it, or explicitly opt out with `skip_issuer_check`.
    pub issuer: Option<String>,
    pub skip_issuer_check: bool,
    /// Accepted audiences: `aud` must contain at least one. Required unless `skip_audience_check`.
    pub audiences: Vec<String>,
    pub skip_audience_check: bool,
    /// Allowed algorithms; empty means every supported asymmetric algorithm.
    pub algorithms: Vec<Alg>,
    pub leeway: Duration,
    pub typ: TypPolicy,
    pub max_token_bytes: usize,
    /// Claims that must be present (e.g. RFC 9068's `sub`, `client_id`, `iat`, `jti`).
    pub required_claims: Vec<String>,
    /// Verified tokens remembered (0 disables the cache).
    pub verified_cache_size: usize,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        VerifierConfig {
            issuer: None,
            skip_issuer_check: false,
            audiences: Vec::new(),
            skip_audience_check: false,
            algorithms: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            typ: TypPolicy::Default,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            required_claims: Vec::new(),
            verified_cache_size: DEFAULT_VERIFIED_CACHE,
        }
    }
}

impl VerifierConfig {
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        VerifierConfig {
            issuer: Some(issuer.into()),
            audiences: vec![audience.into()],
            ..Default::default()
        }
    }

    /// Reject configurations that would silently accept too much.
    pub fn validate(&self) -> Result<()> {
        if self.issuer.as_deref().is_none_or(str::is_empty) && !self.skip_issuer_check {
            return Err(Error::config("the verifier needs an issuer (the `iss` your tokens carry); set skip_issuer_check only if you check it yourself"));
        }
        if self.audiences.iter().all(|a| a.is_empty()) && !self.skip_audience_check {
            return Err(Error::config("the verifier needs an audience (your API's identifier); set skip_audience_check only if tokens are audience-less by design"));
        }
        if self.max_token_bytes == 0 {
            return Err(Error::config("max_token_bytes must be positive"));
        }
        if self.leeway > Duration::from_secs(300) {
            return Err(Error::config(
                "leeway above 300 s is not allowed; fix the clocks instead",
            ));
        }
        Ok(())
    }

    fn alg_allowed(&self, alg: Alg) -> bool {
        self.algorithms.is_empty() || self.algorithms.contains(&alg)
    }
}

/// The JOSE header members the verifier reads. Each may appear once (RFC 7515 §4: a duplicate
/// name is rejected, never resolved either way); `null` counts as absent.
struct RawHeader {
    alg: String,
    typ: Option<String>,
    kid: Option<String>,
    crit: Option<Value>,
}

/// Read by hand through `deserialize_any` only: serde's typed deserializers would also do, but
/// their type-error messages pull float formatting into the wasm module for nothing (the message
/// is replaced by ours anyway).
impl<'de> Deserialize<'de> for RawHeader {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(HeaderVisitor)
    }
}

struct HeaderVisitor;

macro_rules! not_an_object {
    ($($method:ident($t:ty)),*) => {$(
        fn $method<E: serde::de::Error>(self, _: $t) -> std::result::Result<RawHeader, E> {
            Err(E::custom("not a JSON object"))
        }
    )*};
}

impl<'de> serde::de::Visitor<'de> for HeaderVisitor {
    type Value = RawHeader;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JOSE header object")
    }
    not_an_object!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64),
        visit_str(&str)
    );
    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<RawHeader, E> {
        Err(E::custom("not a JSON object"))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> std::result::Result<RawHeader, A::Error> {
        Err(serde::de::Error::custom("not a JSON object"))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> std::result::Result<RawHeader, A::Error> {
        use serde::de::Error as _;
        let (mut alg, mut typ, mut kid, mut crit) = (None, None, None, None);
        while let Some(HeaderKey(key)) = m.next_key()? {
            let slot = match key.as_str() {
                "alg" => &mut alg,
                "typ" => &mut typ,
                "kid" => &mut kid,
                "crit" => &mut crit,
                _ => {
                    // Read, not skipped (IgnoredAny): skipping lets through what no JSON reader
                    // can hold, such as a number out of range, which `decode` would then refuse.
                    m.next_value::<Value>()?;
                    continue;
                }
            };
            if slot.is_some() {
                return Err(A::Error::custom("duplicate header member"));
            }
            *slot = Some(m.next_value::<Value>()?);
        }
        let string = |v: Option<Value>| match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(A::Error::custom("a header member is not a string")),
        };
        Ok(RawHeader {
            alg: string(alg)?.ok_or_else(|| A::Error::custom("no alg"))?,
            typ: string(typ)?,
            kid: string(kid)?,
            crit: crit.filter(|v| !v.is_null()),
        })
    }
}

/// A header member's name (JSON object keys are strings).
struct HeaderKey(String);

impl<'de> Deserialize<'de> for HeaderKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = HeaderKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<HeaderKey, E> {
                Ok(HeaderKey(v.to_string()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

/// A token split and its header decoded; the signature is not yet checked.
pub struct ParsedToken<'a> {
    pub alg: Alg,
    pub kid: Option<String>,
    pub typ: Option<String>,
    signing_input: &'a str,
    payload_b64: &'a str,
    signature: Vec<u8>,
}

/// Split and decode the header; enforce size, `alg`, `typ` and `crit` rules.
pub fn parse_token<'a>(token: &'a str, cfg: &VerifierConfig) -> Result<ParsedToken<'a>> {
    if token.len() > cfg.max_token_bytes {
        return Err(Error::new(
            ErrorCode::TokenTooLarge,
            format!(
                "the token is {} bytes; the limit is {} (max_token_bytes)",
                token.len(),
                cfg.max_token_bytes
            ),
        ));
    }
    let mut parts = token.splitn(4, '.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        let n = token.split('.').count();
        return Err(Error::malformed(if n == 5 {
            "the token is a JWE (5 segments); only signed JWTs (JWS compact form, 3 segments) are accepted".to_string()
        } else {
            format!("a JWT has 3 dot-separated segments; this token has {n}")
        }));
    };
    let header_bytes = b64url_decode(h).ok_or_else(|| Error::malformed("the JWT header is not valid base64url"))?;
    // serde's derived struct would also accept a JSON array (`["RS256"]`), and it skips unknown
    // members without checking their UTF-8; a JOSE header is a UTF-8 JSON object (RFC 7515 §5.2).
    let is_object = std::str::from_utf8(&header_bytes).is_ok()
        && header_bytes.iter().find(|b| !b" \t\r\n".contains(b)) == Some(&b'{');
    let header: RawHeader = serde_json::from_slice(&header_bytes)
        .ok()
        .filter(|_| is_object)
        .ok_or_else(|| Error::malformed("the JWT header is not a JSON object with a string \"alg\""))?;
    let alg = Alg::parse(&header.alg)?;
    if !cfg.alg_allowed(alg) {
        return Err(Error::new(
            ErrorCode::UnsupportedAlgorithm,
            format!(
                "alg {alg} is not in this verifier's allow-list ({})",
                cfg.algorithms.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    check_typ(header.typ.as_deref(), cfg.typ)?;
    if let Some(crit) = &header.crit {
        // RFC 7515 §4.1.11: unknown critical extensions must be rejected. We implement none.
        let names: Vec<String> = match crit {
            Value::Array(a) if !a.is_empty() => a
                .iter()
                .map(|v| v.as_str().map(truncate).unwrap_or_else(|| "?".into()))
                .collect(),
            _ => {
                return Err(Error::malformed(
                    "the \"crit\" header must be a non-empty array of names",
                ))
            }
        };
        return Err(Error::new(
            ErrorCode::UnsupportedCriticalHeader,
            format!(
                "the token marks header extension(s) {} as critical; they are not supported",
                names.join(", ")
            ),
        ));
    }
    let signature = b64url_decode(s).ok_or_else(|| Error::malformed("the JWT signature is not valid base64url"))?;
    if signature.is_empty() {
        return Err(Error::malformed("the JWT has an empty signature"));
    }
    Ok(ParsedToken {
        alg,
        kid: header.kid,
        typ: header.typ,
        signing_input: &token[..h.len() + 1 + p.len()],
        payload_b64: p,
        signature,
    })
}

fn check_typ(typ: Option<&str>, policy: TypPolicy) -> Result<()> {
    let norm = typ.map(|t| {
        let t = t.to_ascii_lowercase();
        t.strip_prefix("application/").map(str::to_string).unwrap_or(t)
    });
    let ok = matches!(
        (norm.as_deref(), policy),
        (Some("at+jwt"), _) | (Some("jwt") | None, TypPolicy::Default)
    );
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::InvalidTokenType,
            match typ {
                Some(t) => format!(
                    "typ {} is not an access-token type (expected at+jwt{})",
                    quoted(t),
                    if policy == TypPolicy::Default { " or JWT" } else { "" }
                ),
                None => "the token has no typ header; this verifier requires at+jwt (RFC 9068)".to_string(),
            },
        ))
    }
}

fn numeric_date_ms(map: &Map<String, Value>, name: &str) -> Result<Option<i64>> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            let f = n
                .as_f64()
                .filter(|f| f.is_finite())
                .ok_or_else(|| Error::new(ErrorCode::InvalidClaim, format!("\"{name}\" is not a finite number")))?;
            Ok(Some(
                (f * 1000.0).floor().clamp(i64::MIN as f64 / 2.0, i64::MAX as f64 / 2.0) as i64,
            ))
        }
        Some(_) => Err(Error::new(
            ErrorCode::InvalidClaim,
            format!("\"{name}\" must be a NumericDate (seconds since the epoch)"),
        )),
    }
}

/// Check the signature with `keys`, then the claims at `now_ms`. Pure and synchronous.
pub fn verify_parsed(parsed: &ParsedToken<'_>, keys: &KeySet, cfg: &VerifierConfig, now_ms: i64) -> Result<Claims> {
    let key = keys.select(parsed.kid.as_deref(), parsed.alg)?;
    check_signature(parsed.alg, key, parsed.signing_input.as_bytes(), &parsed.signature)?;
    decode_claims(parsed.payload_b64, cfg, now_ms)
}

/// The signature check with this build's backend: `Ok(())`, `invalid_signature`, or
/// `algorithm_mismatch` when the key cannot take `alg`.
fn check_signature(alg: Alg, key: &VerifyKey, message: &[u8], signature: &Vec<u8>) -> Result<()> {
    let verifier = (provider()?.verifier_factory)(&alg.to_jwt(), &key.key).map_err(|_| {
        Error::new(
            ErrorCode::AlgorithmMismatch,
            format!("the key cannot be used with alg {alg}"),
        )
    })?;
    if verifier.verify(message, signature).is_err() {
        return Err(bad_signature());
    }
    Ok(())
}

fn bad_signature() -> Error {
    Error::new(
        ErrorCode::InvalidSignature,
        "the token's signature does not verify with the issuer's key",
    )
}

/// Decode the payload segment and apply the claim rules.
fn decode_claims(payload_b64: &str, cfg: &VerifierConfig, now_ms: i64) -> Result<Claims> {
    let payload =
        b64url_decode(payload_b64).ok_or_else(|| Error::malformed("the JWT payload is not valid base64url"))?;
    // Read as a `Value` and matched here: serde_json's typed `Map` reader formats a type error
    // (with float formatting, 14 KB of the wasm module) that we would replace anyway.
    let Ok(Value::Object(map)) = serde_json::from_slice(&payload) else {
        return Err(Error::malformed("the JWT payload is not a JSON object"));
    };
    check_claims(map, cfg, now_ms)
}

/// What [`Verifier::prepare`] leaves to the caller: a signature to check, as data.
///
/// Runtimes with their own crypto (WebAssembly with WebCrypto) check [`SignatureCheck::message`]
/// against [`SignatureCheck::signature`] with [`SignatureCheck::key`] under
/// [`SignatureCheck::alg`], then hand the outcome to [`Verifier::complete`], which decodes the
/// claims, applies every claim rule and fills the verified-token cache. Parsing, the `alg`
/// allow-list, `typ`, `crit` and key selection have already been decided by the core.
pub struct SignatureCheck {
    token: Box<str>,
    signing_input_len: usize,
    signature: Vec<u8>,
    alg: Alg,
    key: VerifyKey,
    /// The key-set generation the key came from (None for static keys).
    generation: Option<u64>,
}

impl SignatureCheck {
    pub fn alg(&self) -> Alg {
        self.alg
    }
    /// The key the core selected (by `kid`, fitting `alg`).
    pub fn key(&self) -> &VerifyKey {
        &self.key
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
        match check_signature(self.alg, &self.key, self.message(), &self.signature) {
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
            .field("key", &self.key)
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

/// Claim rules (RFC 7519 §4.1, RFC 9068 §4).
pub fn check_claims(map: Map<String, Value>, cfg: &VerifierConfig, now_ms: i64) -> Result<Claims> {
    let leeway = cfg.leeway.as_millis() as i64;
    let exp = numeric_date_ms(&map, "exp")?.ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidClaim,
            "the token has no \"exp\" claim; access tokens must expire",
        )
    })?;
    if now_ms >= exp.saturating_add(leeway) {
        return Err(Error::new(
            ErrorCode::TokenExpired,
            format!("the token expired {} s ago; get a new token", (now_ms - exp) / 1000),
        ));
    }
    let nbf = numeric_date_ms(&map, "nbf")?;
    if let Some(nbf) = nbf {
        if now_ms.saturating_add(leeway) < nbf {
            return Err(Error::new(
                ErrorCode::TokenNotYetValid,
                format!(
                    "the token is not valid for another {} s (nbf); check clock skew",
                    (nbf - now_ms + 999) / 1000
                ),
            ));
        }
    }
    let iat = numeric_date_ms(&map, "iat")?;
    if let Some(iat) = iat {
        if iat > now_ms.saturating_add(leeway) {
            return Err(Error::new(
                ErrorCode::TokenNotYetValid,
                format!(
                    "the token was issued {} s in the future (iat); check clock skew",
                    (iat - now_ms + 999) / 1000
                ),
            ));
        }
    }
    if !cfg.skip_issuer_check {
        let expected = cfg.issuer.as_deref().unwrap_or_default();
        match map.get("iss") {
            Some(Value::String(iss)) if iss == expected => {}
            Some(Value::String(iss)) => {
                return Err(Error::new(
                    ErrorCode::InvalidIssuer,
                    format!("iss {} is not the expected issuer {}", quoted(iss), quoted(expected)),
                ))
            }
            _ => {
                return Err(Error::new(
                    ErrorCode::InvalidIssuer,
                    format!("the token has no string \"iss\"; expected {}", quoted(expected)),
                ))
            }
        }
    }
    if !cfg.skip_audience_check {
        let ok = match map.get("aud") {
            Some(Value::String(a)) => cfg.audiences.iter().any(|x| x == a),
            Some(Value::Array(arr)) => {
                if !arr.iter().all(Value::is_string) {
                    return Err(Error::new(
                        ErrorCode::InvalidAudience,
                        "\"aud\" must be a string or an array of strings",
                    ));
                }
                arr.iter()
                    .any(|a| cfg.audiences.iter().any(|x| Some(x.as_str()) == a.as_str()))
            }
            None => {
                return Err(Error::new(
                    ErrorCode::InvalidAudience,
                    format!("the token has no \"aud\"; expected {}", quoted_list(&cfg.audiences)),
                ))
            }
            Some(_) => {
                return Err(Error::new(
                    ErrorCode::InvalidAudience,
                    "\"aud\" must be a string or an array of strings",
                ))
            }
        };
        if !ok {
            return Err(Error::new(
                ErrorCode::InvalidAudience,
                format!(
                    "the token is for another audience; expected one of {}",
                    quoted_list(&cfg.audiences)
                ),
            ));
        }
    }
    for c in &cfg.required_claims {
        if !map.contains_key(c) {
            return Err(Error::new(
                ErrorCode::InvalidClaim,
                format!("the required claim \"{}\" is missing", truncate(c)),
            ));
        }
    }
    Ok(Claims::new(map, exp, nbf, iat))
}

/// What the synchronous look-up found.
enum Lookup<'t> {
    Cached(Arc<Claims>),
    Keys(ParsedToken<'t>, Arc<KeySet>, Option<u64>),
}

/// Where a verifier gets its keys.
#[derive(Clone)]
pub enum KeySource {
    Static(Arc<KeySet>),
    Remote(JwksCache),
}

struct CacheEntry {
    token: Box<str>,
    claims: Arc<Claims>,
    /// Not usable at or after this instant (exp + leeway).
    until_ms: i64,
}

/// Verified tokens, keyed by a keyed hash of the token; the whole token is compared on a hit, so a
/// hash collision can never return another token's claims. Entries never outlive `exp`.
struct VerifiedCache {
    cap: usize,
    hasher: foldhash::fast::RandomState,
    map: RwLock<HashMap<u64, CacheEntry, std::hash::BuildHasherDefault<IdHasher>>>,
}

#[derive(Default)]
struct IdHasher(u64);
impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n
    }
}

impl VerifiedCache {
    fn new(cap: usize) -> Self {
        VerifiedCache {
            cap,
            hasher: foldhash::fast::RandomState::default(),
            map: RwLock::new(HashMap::default()),
        }
    }
    fn get(&self, token: &str, now_ms: i64) -> Option<Arc<Claims>> {
        if self.cap == 0 {
            return None;
        }
        let h = self.hasher.hash_one(token);
        let map = self.map.read();
        let e = map.get(&h)?;
        (now_ms < e.until_ms && *e.token == *token).then(|| e.claims.clone())
    }
    fn insert(&self, token: &str, claims: Arc<Claims>, until_ms: i64, now_ms: i64) {
        if self.cap == 0 {
            return;
        }
        let h = self.hasher.hash_one(token);
        let mut map = self.map.write();
        if map.len() >= self.cap && !map.contains_key(&h) {
            map.retain(|_, e| e.until_ms > now_ms);
            if map.len() >= self.cap {
                // Still full of live entries: drop an arbitrary eighth (cheap, bounded, no LRU bookkeeping on the hot path).
                let drop: Vec<u64> = map.keys().take(self.cap / 8 + 1).copied().collect();
                for k in drop {
                    map.remove(&k);
                }
            }
        }
        map.insert(
            h,
            CacheEntry {
                token: token.into(),
                claims,
                until_ms,
            },
        );
    }
    fn clear(&self) {
        self.map.write().clear();
    }
    fn len(&self) -> usize {
        self.map.read().len()
    }
}

/// A token verifier: configuration, a key source, a clock, and a verified-token cache.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<VerifierInner>,
}

struct VerifierInner {
    cfg: VerifierConfig,
    keys: KeySource,
    clock: Arc<dyn Clock>,
    cache: VerifiedCache,
    /// The key-set generation the cache was filled under (cleared when a refresh drops a kid).
    keys_generation: std::sync::atomic::AtomicU64,
}

impl Verifier {
    pub fn new(cfg: VerifierConfig, keys: KeySource, clock: Arc<dyn Clock>) -> Result<Verifier> {
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
    pub fn key_source(&self) -> &KeySource {
        &self.inner.keys
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
        let (keys, generation) = self.remote_keys(&parsed).await?;
        Self::signature_check(token, &parsed, &keys, Some(generation)).map(Prepared::Check)
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
        let current = match &inner.keys {
            KeySource::Remote(j) => Some(j.generation()),
            KeySource::Static(_) => None,
        };
        if current == check.generation {
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
        let key = keys.select(parsed.kid.as_deref(), parsed.alg)?.clone();
        Ok(SignatureCheck {
            token: token.into(),
            signing_input_len: parsed.signing_input.len(),
            signature: parsed.signature.clone(),
            alg: parsed.alg,
            key,
            generation,
        })
    }

    /// The synchronous part shared by `try_verify_now` and `try_prepare_now`: `None` when the
    /// JWKS must be fetched first.
    fn lookup_now<'t>(&self, token: &'t str, now: i64) -> Option<Result<Lookup<'t>>> {
        let inner = &*self.inner;
        let mut generation = None;
        if let KeySource::Remote(j) = &inner.keys {
            // A stale key set must be refetched before anything is accepted, cached tokens
            // included: otherwise a withdrawn key would go unnoticed while every token is a hit.
            if !j.is_fresh(now) {
                return None;
            }
            let g = j.generation();
            self.sync_generation(g);
            generation = Some(g);
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
        let keys = match &inner.keys {
            KeySource::Static(k) => k.clone(),
            KeySource::Remote(j) => {
                let (keys, g) = j.fresh_keys(now)?;
                let usable = match parsed.kid.as_deref() {
                    Some(kid) => keys.kids().any(|k| k == kid),
                    None => true,
                };
                if !usable {
                    return None;
                }
                generation = Some(g);
                keys
            }
        };
        Some(Ok(Lookup::Keys(parsed, keys, generation)))
    }

    /// Keys from the JWKS cache (fetching, and refetching once for an unknown `kid`).
    async fn remote_keys(&self, parsed: &ParsedToken<'_>) -> Result<(Arc<KeySet>, u64)> {
        let KeySource::Remote(jwks) = &self.inner.keys else {
            return Err(Error::internal("static keys always verify synchronously"));
        };
        let (mut keys, mut generation) = jwks.keys().await?;
        if let Some(kid) = parsed.kid.as_deref() {
            if !keys.kids().any(|k| k == kid) {
                if let Some((k, g)) = jwks.refresh_for_unknown_kid().await {
                    keys = k;
                    generation = g;
                }
            }
        }
        self.sync_generation(generation);
        Ok((keys, generation))
    }

    /// Only the verified-token cache: `Some` for a token that verified before and is still within
    /// its `exp` (plus leeway). No parsing and no signature check, so bindings can call it before
    /// releasing their interpreter lock and do the real work ([`Verifier::verify`]) without it.
    pub fn try_cached(&self, token: &str) -> Option<Arc<Claims>> {
        let inner = &*self.inner;
        if let KeySource::Remote(j) = &inner.keys {
            // As in `try_verify_now`: a stale key set is refetched before a cached result counts.
            if !j.is_fresh(inner.clock.now_ms()) {
                return None;
            }
            self.sync_generation(j.generation());
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
        let (keys, _) = self.remote_keys(&parsed).await?;
        let now = self.inner.clock.now_ms();
        self.finish(token, &parsed, &keys, now)
    }

    /// Verify, then require scopes.
    pub async fn verify_with_scopes(&self, token: &str, required: &ScopeRequirement) -> Result<Arc<Claims>> {
        let claims = self.verify(token).await?;
        required.check(&claims.scopes())?;
        Ok(claims)
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

/// Decode a token without verifying anything (for inspection only: `authsec decode`).
pub fn decode_unverified(token: &str) -> Result<(Value, Value)> {
    if token.len() > 1024 * 1024 {
        return Err(Error::new(
            ErrorCode::TokenTooLarge,
            "refusing to decode a token over 1 MiB",
        ));
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(Error::malformed(format!(
            "a JWT has 3 dot-separated segments; this token has {}",
            parts.len()
        )));
    }
    let dec = |s: &str, what: &str| -> Result<Value> {
        let b = b64url_decode(s).ok_or_else(|| Error::malformed(format!("the JWT {what} is not valid base64url")))?;
        serde_json::from_slice(&b).map_err(|_| Error::malformed(format!("the JWT {what} is not JSON")))
    };
    Ok((dec(parts[0], "header")?, dec(parts[1], "payload")?))
}
