//! The resource server's HTTP side of bearer tokens (RFC 6750): the `Authorization` header and
//! the status of a refused request (its challenge: [`super::challenge`]).

use crate::{Error, ErrorCategory, ErrorCode, Result};

/// The HTTP status for an error answered by a protected resource (RFC 6750 §3.1):
/// 403 for `insufficient_scope`, 401 for token errors, 400 for malformed requests,
/// 503 when keys are unavailable or a store is full, 500 otherwise.
pub fn http_status(err: &Error) -> u16 {
    match err.code() {
        ErrorCode::InsufficientScope | ErrorCode::SpiffeIdNotAllowed => 403,
        ErrorCode::InvalidRequest => 400,
        ErrorCode::JwksUnavailable
        | ErrorCode::WorkloadApiUnavailable
        | ErrorCode::NetworkError
        | ErrorCode::Timeout
        | ErrorCode::RateLimited => 503,
        c if c.category() == ErrorCategory::InvalidToken => 401,
        _ => 500,
    }
}

/// The bearer token of an `Authorization` header value (RFC 6750 §2.1), for middleware in every
/// binding. `Ok(None)` when there is no bearer credential at all (no header, a blank one, or another
/// scheme such as `Basic`): answer 401 with a challenge and no error code (§3.1). `Err` with
/// `invalid_request` (400) when the scheme is `Bearer` but no token follows.
pub fn bearer_token(authorization: Option<&str>) -> Result<Option<&str>> {
    let Some(value) = authorization.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let (scheme, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = rest.trim();
    if token.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidRequest,
            "the Authorization header says Bearer but carries no token",
        ));
    }
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header() {
        assert_eq!(bearer_token(None).unwrap(), None);
        assert_eq!(bearer_token(Some("  ")).unwrap(), None);
        assert_eq!(bearer_token(Some("Basic YTpi")).unwrap(), None);
        assert_eq!(bearer_token(Some("Bearer a.b.c")).unwrap(), Some("a.b.c"));
        assert_eq!(bearer_token(Some("bearer   a.b.c ")).unwrap(), Some("a.b.c"));
        let e = bearer_token(Some("Bearer")).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidRequest);
        assert_eq!(http_status(&e), 400);
        assert!(bearer_token(Some("Bearer  ")).is_err());
    }
}
