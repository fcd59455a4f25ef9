//! The access-token rules (RFC 7519 §4.1, RFC 8725, RFC 9068): which compact JWS may be an access
//! token (size, `alg` allow-list, `typ`, `crit`), then the claims (`exp`, `nbf`, `iat`, `iss`,
//! `aud`, required claims, the `act` chain). Pure and synchronous: the caller supplies the keys and `now`.
//!
//! Order of checks: size → structure → header (`alg` allow-list, `typ`, `crit`) → key selection
//! (`kid`, `alg` fits `kty`/`crv`) → signature → claims. Nothing from an unverified token reaches an
//! error message beyond short, truncated header values.

use super::claims::Claims;
use super::config::{TypPolicy, VerifierConfig};
use super::delegation::read_chain;
use crate::jose::alg::Alg;
use crate::jose::compact::{check_crit, check_signature, CompactJws};
use crate::jose::keys::{KeySet, VerifyKey};
use crate::util::{b64url_decode, quoted, quoted_list, truncate};
use crate::{Error, ErrorCode, Result};
use serde_json::{Map, Value};

/// A token split and its header decoded; the signature is not yet checked.
pub struct ParsedToken<'a> {
    pub alg: Alg,
    pub kid: Option<String>,
    pub typ: Option<String>,
    pub(crate) signing_input: &'a str,
    pub(crate) payload_b64: &'a str,
    pub(crate) signature: Vec<u8>,
}

/// Split and decode the header; enforce the access-token rules for size, `alg`, `typ` and `crit`
/// (in this order: the first rule broken is the error).
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
    let jws = CompactJws::split(token)?;
    let header = &jws.header;
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
    check_crit(header.crit.as_ref())?;
    let signature = jws.signature()?;
    Ok(ParsedToken {
        alg,
        kid: jws.header.kid,
        typ: jws.header.typ,
        signing_input: jws.signing_input,
        payload_b64: jws.payload_b64,
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
    let candidates = keys.candidates(parsed.kid.as_deref(), parsed.alg)?;
    signed_by_any(
        parsed.alg,
        &candidates,
        parsed.signing_input.as_bytes(),
        &parsed.signature,
    )?;
    decode_claims(parsed.payload_b64, cfg, now_ms)
}

/// `Ok` when one of `keys` verifies the signature; else the last key's error.
pub(crate) fn signed_by_any(alg: Alg, keys: &[VerifyKey], message: &[u8], signature: &Vec<u8>) -> Result<()> {
    let mut outcome = Err(crate::jose::compact::bad_signature());
    for key in keys {
        outcome = check_signature(alg, key, message, signature);
        if outcome.is_ok() {
            break;
        }
    }
    outcome
}

/// Decode the payload segment and apply the claim rules.
pub(crate) fn decode_claims(payload_b64: &str, cfg: &VerifierConfig, now_ms: i64) -> Result<Claims> {
    let payload =
        b64url_decode(payload_b64).ok_or_else(|| Error::malformed("the JWT payload is not valid base64url"))?;
    // Read as a `Value` and matched here: serde_json's typed `Map` reader formats a type error
    // (with float formatting, 14 KB of the wasm module) that we would replace anyway.
    let Ok(Value::Object(map)) = serde_json::from_slice(&payload) else {
        return Err(Error::malformed("the JWT payload is not a JSON object"));
    };
    check_claims(map, cfg, now_ms)
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
            Some(Value::String(a)) => cfg.audiences.iter().any(|x| cfg.audience_match.matches(x, a)),
            Some(Value::Array(arr)) => {
                if !arr.iter().all(Value::is_string) {
                    return Err(Error::new(
                        ErrorCode::InvalidAudience,
                        "\"aud\" must be a string or an array of strings",
                    ));
                }
                arr.iter()
                    .filter_map(Value::as_str)
                    .any(|a| cfg.audiences.iter().any(|x| cfg.audience_match.matches(x, a)))
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
    let actors = read_chain(&map)?;
    cfg.delegation.check(&actors)?;
    Ok(Claims::new(map, exp, nbf, iat, actors))
}
