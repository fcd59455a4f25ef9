//! The JWT-SVID rules (`standards/JWT-SVID.md`), pure and synchronous: the caller supplies the
//! bundles and `now`.
//!
//! Order of checks: size -> structure -> header (`alg` among RS/PS/ES, `typ` absent, `JWT` or
//! `JOSE`, no member besides `alg`, `kid` and `typ`) -> `sub` is a SPIFFE ID, whose trust domain
//! selects the bundle (the standard's own rule: nothing else in the unverified token chooses a key)
//! -> key (`kid`, or the bundle's only key when the token has none) -> signature -> `exp`
//! (required), `nbf` -> `aud` (required; one of the expected audiences, or only it under
//! `sole_audience`) -> the allowed SPIFFE IDs.

use super::bundle::{BundleSet, JwtBundle};
use super::id::SpiffeId;
use super::id_matcher::SpiffeIdMatcher;
use crate::jose::alg::Alg;
use crate::jose::compact::{check_signature, CompactJws};
use crate::jose::keys::VerifyKey;
use crate::util::{b64url_decode, quoted, quoted_list, truncate};
use crate::{Error, ErrorCode, Result};
use serde_json::{Map, Value};
use std::time::Duration;

/// The algorithms a JWT-SVID may use (RS, PS and ES; P-521 is not supported by this build).
pub const SVID_ALGORITHMS: [Alg; 8] = [
    Alg::RS256,
    Alg::RS384,
    Alg::RS512,
    Alg::PS256,
    Alg::PS384,
    Alg::PS512,
    Alg::ES256,
    Alg::ES384,
];
/// Default clock-skew leeway for `exp` and `nbf`.
pub const DEFAULT_SVID_LEEWAY: Duration = Duration::from_secs(30);
/// Default largest JWT-SVID accepted.
pub const DEFAULT_MAX_SVID_BYTES: usize = 16 * 1024;

/// What a JWT-SVID must satisfy.
#[derive(Clone, Debug)]
pub struct JwtSvidPolicy {
    /// The audiences this service answers to: the token's `aud` must hold one of them.
    pub audiences: Vec<String>,
    /// Require `aud` to be exactly one value (an authorization server checking a client
    /// assertion: draft-ietf-oauth-spiffe-client-auth, RFC 7523bis).
    pub sole_audience: bool,
    /// A subset of [`SVID_ALGORITHMS`].
    pub algorithms: Vec<Alg>,
    pub leeway: Duration,
    pub max_token_bytes: usize,
    /// The SPIFFE IDs accepted; empty: any ID of a trusted trust domain.
    pub allowed_ids: SpiffeIdMatcher,
}

impl JwtSvidPolicy {
    pub fn new(audiences: Vec<String>) -> JwtSvidPolicy {
        JwtSvidPolicy {
            audiences,
            sole_audience: false,
            algorithms: SVID_ALGORITHMS.to_vec(),
            leeway: DEFAULT_SVID_LEEWAY,
            max_token_bytes: DEFAULT_MAX_SVID_BYTES,
            allowed_ids: SpiffeIdMatcher::default(),
        }
    }

    /// Check the policy itself (at construction, so a bad one fails early).
    pub fn validate(&self) -> Result<()> {
        if self.audiences.is_empty() || self.audiences.iter().any(|a| a.is_empty()) {
            return Err(Error::config(
                "a JWT-SVID verifier needs the audience(s) this service answers to (audience)",
            ));
        }
        if let Some(a) = self.algorithms.iter().find(|a| !SVID_ALGORITHMS.contains(a)) {
            return Err(Error::config(format!(
                "{a} is not a JWT-SVID algorithm (RS256..512, PS256..512, ES256, ES384)"
            )));
        }
        if self.algorithms.is_empty() {
            return Err(Error::config("the JWT-SVID algorithm list is empty"));
        }
        if self.leeway > Duration::from_secs(300) {
            return Err(Error::config(
                "leeway above 300 s is not allowed; fix the clocks instead",
            ));
        }
        Ok(())
    }
}

/// A verified JWT-SVID.
#[derive(Clone, Debug)]
pub struct JwtSvid {
    pub spiffe_id: SpiffeId,
    pub audience: Vec<String>,
    /// `exp`, Unix seconds.
    pub expires_at: i64,
    /// `iat`, Unix seconds, when present.
    pub issued_at: Option<i64>,
    pub alg: Alg,
    pub kid: Option<String>,
    /// Every claim, as sent.
    pub claims: Map<String, Value>,
}

impl JwtSvid {
    /// As the bindings hand it out: `{spiffe_id, trust_domain, audience, expires_at, issued_at,
    /// alg, kid, claims}`.
    pub fn to_value(&self) -> Value {
        serde_json::json!({
            "spiffe_id": self.spiffe_id.as_str(),
            "trust_domain": self.spiffe_id.trust_domain_name(),
            "audience": self.audience,
            "expires_at": self.expires_at,
            "issued_at": self.issued_at,
            "alg": self.alg.as_str(),
            "kid": self.kid,
            "claims": self.claims,
        })
    }
}

/// A JWT-SVID split, its header checked and its claims decoded; the signature is not yet checked.
pub struct ParsedSvid<'a> {
    pub alg: Alg,
    pub kid: Option<String>,
    /// The unverified `sub`: it names the trust domain whose bundle must verify the signature.
    pub spiffe_id: SpiffeId,
    signing_input: &'a str,
    signature: Vec<u8>,
    claims: Map<String, Value>,
}

/// Size, structure, header and `sub` (see the module's order of checks).
pub fn parse_jwt_svid<'a>(token: &'a str, policy: &JwtSvidPolicy) -> Result<ParsedSvid<'a>> {
    if token.len() > policy.max_token_bytes {
        return Err(Error::new(
            ErrorCode::TokenTooLarge,
            format!(
                "the JWT-SVID is {} bytes; the limit is {}",
                token.len(),
                policy.max_token_bytes
            ),
        ));
    }
    let jws = CompactJws::split(token)?;
    let header = &jws.header;
    let alg = Alg::parse(&header.alg)?;
    if !policy.algorithms.contains(&alg) {
        return Err(Error::new(
            ErrorCode::UnsupportedAlgorithm,
            format!(
                "alg {alg} is not allowed for JWT-SVIDs here ({})",
                policy
                    .algorithms
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if let Some(typ) = header.typ.as_deref().filter(|t| *t != "JWT" && *t != "JOSE") {
        return Err(Error::new(
            ErrorCode::InvalidTokenType,
            format!(
                "a JWT-SVID's typ is JWT or JOSE, or absent; this one is {}",
                quoted(typ)
            ),
        ));
    }
    let extra: Vec<String> = header
        .crit
        .as_ref()
        .map(|_| "crit".to_string())
        .into_iter()
        .chain(header.others.iter().map(|n| truncate(n)))
        .collect();
    if !extra.is_empty() {
        return Err(Error::malformed(format!(
            "a JWT-SVID's header holds only alg, kid and typ; this one also has {}",
            quoted_list(&extra)
        )));
    }
    let signature = jws.signature()?;
    let payload =
        b64url_decode(jws.payload_b64).ok_or_else(|| Error::malformed("the JWT payload is not valid base64url"))?;
    let claims = match serde_json::from_slice::<Value>(&payload) {
        Ok(Value::Object(m)) => m,
        _ => return Err(Error::malformed("the JWT payload is not a JSON object")),
    };
    let sub = claims.get("sub").and_then(Value::as_str).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidClaim,
            "a JWT-SVID has a sub claim, the workload's SPIFFE ID; this token has none",
        )
    })?;
    let spiffe_id = SpiffeId::parse(sub)?;
    Ok(ParsedSvid {
        alg,
        kid: jws.header.kid,
        spiffe_id,
        signing_input: jws.signing_input,
        signature,
        claims,
    })
}

impl ParsedSvid<'_> {
    /// The signature's input, `BASE64URL(header) '.' BASE64URL(payload)`.
    pub fn signing_input(&self) -> &[u8] {
        self.signing_input.as_bytes()
    }
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}

/// The keys of `bundle` (the bundle of the SVID's trust domain) that may have signed the SVID: the
/// ones with its `kid`, or, for a kid-less SVID, the bundle's only key. For callers that check
/// signatures elsewhere (WebCrypto), then call [`finish`].
pub fn signing_keys(parsed: &ParsedSvid<'_>, bundle: &JwtBundle) -> Result<Vec<VerifyKey>> {
    if !parsed.spiffe_id.is_member_of(&bundle.trust_domain) {
        return Err(Error::internal(format!(
            "the bundle of {} was used for an SVID of {}",
            bundle.trust_domain,
            parsed.spiffe_id.trust_domain_name()
        )));
    }
    let keys = bundle.keys.keys();
    match parsed.kid.as_deref() {
        Some(kid) => bundle.keys.candidates(Some(kid), parsed.alg),
        // The standard makes kid optional; without one, only a bundle of exactly one key says
        // which key it must be.
        None if keys.len() == 1 => bundle.keys.candidates(None, parsed.alg),
        None => Err(Error::new(
            ErrorCode::KeyNotFound,
            format!(
                "the JWT-SVID has no kid and the bundle of {} holds {} keys; the issuer must set kid",
                bundle.trust_domain,
                keys.len()
            ),
        )),
    }
}

/// The signature with `bundle` (the bundle of the SVID's trust domain), then the claims.
pub fn verify_parsed(
    parsed: ParsedSvid<'_>,
    bundle: &JwtBundle,
    policy: &JwtSvidPolicy,
    now_ms: i64,
) -> Result<JwtSvid> {
    let candidates = signing_keys(&parsed, bundle)?;
    let mut outcome = Err(crate::jose::compact::bad_signature());
    for key in &candidates {
        outcome = check_signature(parsed.alg, key, parsed.signing_input.as_bytes(), &parsed.signature);
        if outcome.is_ok() {
            break;
        }
    }
    outcome?;
    finish(parsed, true, policy, now_ms)
}

/// The rest of the rules once the signature was checked with one of [`signing_keys`]
/// (`signature_valid` false: `invalid_signature`).
pub fn finish(parsed: ParsedSvid<'_>, signature_valid: bool, policy: &JwtSvidPolicy, now_ms: i64) -> Result<JwtSvid> {
    if !signature_valid {
        return Err(crate::jose::compact::bad_signature());
    }
    check_claims(parsed, policy, now_ms)
}

fn check_claims(parsed: ParsedSvid<'_>, policy: &JwtSvidPolicy, now_ms: i64) -> Result<JwtSvid> {
    let claims = parsed.claims;
    let leeway = policy.leeway.as_millis() as i64;
    let seconds = |name: &str| -> Result<Option<i64>> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|f| f.is_finite())
                .map(|f| Some(f.floor() as i64))
                .ok_or_else(|| Error::new(ErrorCode::InvalidClaim, format!("{name} is not a number"))),
        }
    };
    let exp = seconds("exp")?.ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidClaim,
            "a JWT-SVID has an exp claim; this token has none",
        )
    })?;
    if now_ms >= exp.saturating_mul(1000).saturating_add(leeway) {
        return Err(Error::new(ErrorCode::TokenExpired, "the JWT-SVID has expired"));
    }
    if let Some(nbf) = seconds("nbf")? {
        if now_ms.saturating_add(leeway) < nbf.saturating_mul(1000) {
            return Err(Error::new(
                ErrorCode::TokenNotYetValid,
                "the JWT-SVID is not valid yet (nbf)",
            ));
        }
    }
    let issued_at = seconds("iat")?;
    let audience: Vec<String> = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_string) => {
            a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()
        }
        None => {
            return Err(Error::new(
                ErrorCode::InvalidAudience,
                "a JWT-SVID has an aud claim; this token has none",
            ))
        }
        Some(_) => {
            return Err(Error::new(
                ErrorCode::InvalidClaim,
                "aud is not a string or an array of strings",
            ))
        }
    };
    if !audience.iter().any(|a| policy.audiences.contains(a)) {
        return Err(Error::new(
            ErrorCode::InvalidAudience,
            format!(
                "the JWT-SVID's aud {} holds none of {}",
                quoted_list(&audience.iter().take(5).map(|a| truncate(a)).collect::<Vec<_>>()),
                quoted_list(&policy.audiences)
            ),
        ));
    }
    if policy.sole_audience && audience.len() != 1 {
        return Err(Error::new(
            ErrorCode::InvalidAudience,
            format!(
                "the JWT-SVID's aud has {} values; here it must be {} alone",
                audience.len(),
                quoted_list(&policy.audiences)
            ),
        ));
    }
    if !policy.allowed_ids.is_empty() {
        policy.allowed_ids.check(&parsed.spiffe_id)?;
    }
    Ok(JwtSvid {
        spiffe_id: parsed.spiffe_id,
        audience,
        expires_at: exp,
        issued_at,
        alg: parsed.alg,
        kid: parsed.kid,
        claims,
    })
}

/// Every rule, with the bundles at hand.
pub fn verify_jwt_svid(token: &str, bundles: &BundleSet, policy: &JwtSvidPolicy, now_ms: i64) -> Result<JwtSvid> {
    let parsed = parse_jwt_svid(token, policy)?;
    let td = parsed.spiffe_id.trust_domain();
    let bundle = bundles
        .get(&td)
        .ok_or_else(|| unknown_trust_domain(&parsed.spiffe_id))?;
    verify_parsed(parsed, bundle, policy, now_ms)
}

/// `unknown_trust_domain` for `id`.
pub fn unknown_trust_domain(id: &SpiffeId) -> Error {
    Error::new(
        ErrorCode::UnknownTrustDomain,
        format!(
            "no trust bundle for the trust domain {} (of {}); configure it to accept its workloads",
            quoted(id.trust_domain_name()),
            quoted(id.as_str())
        ),
    )
}

/// The unverified `exp` (Unix seconds) of a JWT-SVID this process was handed by its Workload API,
/// to know how long to reuse it; `None` when it cannot be read.
pub fn unverified_expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&b64url_decode(payload)?).ok()?;
    claims.get("exp")?.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)
}
