//! The credential a request presents: `Authorization: Bearer <token>` (RFC 6750 §2.1) or
//! `Authorization: DPoP <token>` with one `DPoP` proof header (RFC 9449 §7.1), read from the
//! request's headers for every binding's middleware.

use crate::{Error, ErrorCode, Result};

/// The authorization scheme a token arrived with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Bearer,
    Dpop,
}

impl Scheme {
    /// The scheme named `name` (case-insensitive, as RFC 9110 §11.1 says).
    pub fn parse(name: &str) -> Option<Scheme> {
        if name.eq_ignore_ascii_case("bearer") {
            Some(Scheme::Bearer)
        } else if name.eq_ignore_ascii_case("dpop") {
            Some(Scheme::Dpop)
        } else {
            None
        }
    }

    /// The scheme of an `Authorization` header value, if it is one of these.
    pub fn of_authorization(value: &str) -> Option<Scheme> {
        Scheme::parse(value.trim().split([' ', '\t']).next().unwrap_or(""))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Bearer => "Bearer",
            Scheme::Dpop => "DPoP",
        }
    }
}

/// A token and how it was presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credential<'a> {
    pub scheme: Scheme,
    pub token: &'a str,
    /// The `DPoP` header: always present for [`Scheme::Dpop`]; for Bearer, whatever was sent
    /// (ignored unless the token is bound).
    pub proof: Option<&'a str>,
}

/// Read the credential from every `Authorization` header value and every `DPoP` header value of a
/// request (names compared case-insensitively by the caller). `Ok(None)` when there is no credential
/// of either scheme (no header, a blank one, `Basic`): answer 401 with a challenge and no error.
/// Errors: two `Authorization` headers or a scheme with no token (`invalid_request`, 400); the
/// DPoP scheme without exactly one proof (`invalid_dpop_proof`).
pub fn read_credential<'a>(authorization: &[&'a str], dpop: &[&'a str]) -> Result<Option<Credential<'a>>> {
    let values: Vec<&str> = authorization
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    let value = match values.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        _ => {
            return Err(Error::new(
                ErrorCode::InvalidRequest,
                "the request has more than one Authorization header; send one",
            ))
        }
    };
    let (name, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    let Some(scheme) = Scheme::parse(name) else {
        return Ok(None);
    };
    let token = rest.trim();
    if token.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidRequest,
            format!("the Authorization header says {} but carries no token", scheme.as_str()),
        ));
    }
    let proof = match dpop {
        [] => None,
        [one] if !one.contains(',') => Some(one.trim()),
        _ => {
            return Err(Error::new(
                ErrorCode::InvalidDpopProof,
                "the request carries more than one DPoP proof; send exactly one DPoP header",
            ))
        }
    };
    if scheme == Scheme::Dpop && proof.is_none_or(str::is_empty) {
        return Err(Error::new(
            ErrorCode::InvalidDpopProof,
            "the Authorization header says DPoP but the request has no DPoP proof header",
        ));
    }
    Ok(Some(Credential { scheme, token, proof }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schemes_and_their_mistakes() {
        assert_eq!(read_credential(&[], &[]).unwrap(), None);
        assert_eq!(read_credential(&["  "], &[]).unwrap(), None);
        assert_eq!(read_credential(&["Basic YTpi"], &["p"]).unwrap(), None);
        let c = read_credential(&["bearer  a.b.c "], &[]).unwrap().unwrap();
        assert_eq!((c.scheme, c.token, c.proof), (Scheme::Bearer, "a.b.c", None));
        let c = read_credential(&["DPoP a.b.c"], &["x.y.z"]).unwrap().unwrap();
        assert_eq!((c.scheme, c.token, c.proof), (Scheme::Dpop, "a.b.c", Some("x.y.z")));
        let c = read_credential(&["dpop a.b.c"], &[" x.y.z "]).unwrap().unwrap();
        assert_eq!(c.proof, Some("x.y.z"));
        for (auth, dpop, code) in [
            (&["Bearer a", "Bearer b"][..], &[][..], ErrorCode::InvalidRequest),
            (&["Bearer"], &[], ErrorCode::InvalidRequest),
            (&["DPoP  "], &["x"], ErrorCode::InvalidRequest),
            (&["DPoP a.b.c"], &[], ErrorCode::InvalidDpopProof),
            (&["DPoP a.b.c"], &[""], ErrorCode::InvalidDpopProof),
            (&["DPoP a.b.c"], &["x", "y"], ErrorCode::InvalidDpopProof),
            (&["DPoP a.b.c"], &["x, y"], ErrorCode::InvalidDpopProof),
            (&["Bearer a.b.c"], &["x", "y"], ErrorCode::InvalidDpopProof),
        ] {
            assert_eq!(
                read_credential(auth, dpop).unwrap_err().code(),
                code,
                "{auth:?} {dpop:?}"
            );
        }
    }
}
