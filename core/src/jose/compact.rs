//! The JWS compact serialization (RFC 7515 §7.1): splitting a token into its segments, reading its
//! protected header, checking a signature with this build's crypto backend, and decoding without
//! verifying (for inspection). Which headers and algorithms a particular kind of token may carry is
//! decided by its policy ([`crate::access_token`] for access tokens).

use super::alg::{provider, Alg};
use super::keys::VerifyKey;
use crate::util::{b64url_decode, truncate};
use crate::{Error, ErrorCode, Result};
use serde::Deserialize;
use serde_json::Value;

/// A compact JWS split into its segments with its header decoded; nothing is verified yet.
pub struct CompactJws<'a> {
    pub header: JoseHeader,
    /// `BASE64URL(header) '.' BASE64URL(payload)`, the input of the signature.
    pub signing_input: &'a str,
    pub payload_b64: &'a str,
    pub signature_b64: &'a str,
}

impl<'a> CompactJws<'a> {
    /// Split `token` into three segments and decode its header, which must be a UTF-8 JSON
    /// object with a string `alg` (each member at most once).
    pub fn split(token: &'a str) -> Result<CompactJws<'a>> {
        let mut parts = token.splitn(4, '.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            let n = token.split('.').count();
            return Err(Error::malformed(if n == 5 {
                "the token is a JWE (5 segments); only signed JWTs (JWS compact form, 3 segments) are accepted"
                    .to_string()
            } else {
                format!("a JWT has 3 dot-separated segments; this token has {n}")
            }));
        };
        let header_bytes = b64url_decode(h).ok_or_else(|| Error::malformed("the JWT header is not valid base64url"))?;
        // serde's derived struct would also accept a JSON array (`["RS256"]`), and it skips unknown
        // members without checking their UTF-8; a JOSE header is a UTF-8 JSON object (RFC 7515 §5.2).
        let is_object = std::str::from_utf8(&header_bytes).is_ok()
            && header_bytes.iter().find(|b| !b" \t\r\n".contains(b)) == Some(&b'{');
        let header: JoseHeader = serde_json::from_slice(&header_bytes)
            .ok()
            .filter(|_| is_object)
            .ok_or_else(|| Error::malformed("the JWT header is not a JSON object with a string \"alg\""))?;
        Ok(CompactJws {
            header,
            signing_input: &token[..h.len() + 1 + p.len()],
            payload_b64: p,
            signature_b64: s,
        })
    }

    /// The decoded signature; an empty one is malformed.
    pub fn signature(&self) -> Result<Vec<u8>> {
        let signature = b64url_decode(self.signature_b64)
            .ok_or_else(|| Error::malformed("the JWT signature is not valid base64url"))?;
        if signature.is_empty() {
            return Err(Error::malformed("the JWT has an empty signature"));
        }
        Ok(signature)
    }
}

/// RFC 7515 §4.1.11: a header extension marked critical must be understood, and authsec implements
/// none, so any `crit` is refused (a malformed one as malformed).
pub fn check_crit(crit: Option<&Value>) -> Result<()> {
    let Some(crit) = crit else { return Ok(()) };
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
    Err(Error::new(
        ErrorCode::UnsupportedCriticalHeader,
        format!(
            "the token marks header extension(s) {} as critical; they are not supported",
            names.join(", ")
        ),
    ))
}

/// The JOSE header members authsec reads. Each may appear once (RFC 7515 §4: a duplicate
/// name is rejected, never resolved either way); `null` counts as absent.
pub struct JoseHeader {
    /// `alg` as written (not yet parsed: [`Alg::parse`] says why a name is refused).
    pub alg: String,
    pub typ: Option<String>,
    pub kid: Option<String>,
    /// `crit`, if present and not `null` (see [`check_crit`]).
    pub crit: Option<Value>,
    /// The names of the other members, in order (the first [`MAX_OTHER_MEMBERS_NAMED`]), for
    /// token kinds that allow no others (JWT-SVIDs).
    pub others: Vec<String>,
}

/// How many names of other header members [`JoseHeader::others`] keeps.
pub const MAX_OTHER_MEMBERS_NAMED: usize = 8;

/// Read by hand through `deserialize_any` only: serde's typed deserializers would also do, but
/// their type-error messages pull float formatting into the wasm module for nothing (the message
/// is replaced by ours anyway).
impl<'de> Deserialize<'de> for JoseHeader {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(HeaderVisitor)
    }
}

struct HeaderVisitor;

macro_rules! not_an_object {
    ($($method:ident($t:ty)),*) => {$(
        fn $method<E: serde::de::Error>(self, _: $t) -> std::result::Result<JoseHeader, E> {
            Err(E::custom("not a JSON object"))
        }
    )*};
}

impl<'de> serde::de::Visitor<'de> for HeaderVisitor {
    type Value = JoseHeader;
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
    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<JoseHeader, E> {
        Err(E::custom("not a JSON object"))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> std::result::Result<JoseHeader, A::Error> {
        Err(serde::de::Error::custom("not a JSON object"))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> std::result::Result<JoseHeader, A::Error> {
        use serde::de::Error as _;
        let (mut alg, mut typ, mut kid, mut crit) = (None, None, None, None);
        let mut others = Vec::new();
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
                    if others.len() < MAX_OTHER_MEMBERS_NAMED {
                        others.push(key);
                    }
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
        Ok(JoseHeader {
            alg: string(alg)?.ok_or_else(|| A::Error::custom("no alg"))?,
            typ: string(typ)?,
            kid: string(kid)?,
            crit: crit.filter(|v| !v.is_null()),
            others,
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

/// The signature check with this build's backend: `Ok(())`, `invalid_signature`, or
/// `algorithm_mismatch` when the key cannot take `alg`.
pub fn check_signature(alg: Alg, key: &VerifyKey, message: &[u8], signature: &Vec<u8>) -> Result<()> {
    // Native builds: the key parsed once for this algorithm (see parsed_key.rs).
    #[cfg(feature = "aws_lc_rs")]
    if key.family == alg.family() {
        if let Some(parsed) = key.parsed.for_alg(alg, key.public_key()) {
            return parsed.verify_sig(message, signature).map_err(|_| bad_signature());
        }
    }
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

pub(crate) fn bad_signature() -> Error {
    Error::new(
        ErrorCode::InvalidSignature,
        "the token's signature does not verify with the issuer's key",
    )
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
