//! The resource server's HTTP side of bearer tokens (RFC 6750): the `Authorization` header, the
//! status and `WWW-Authenticate` challenge of a refused request.

use crate::{Error, ErrorCategory, ErrorCode, Result};

/// The HTTP status for an error answered by a protected resource (RFC 6750 §3.1):
/// 403 for `insufficient_scope`, 401 for token errors, 400 for malformed requests,
/// 503 when keys are unavailable, 500 otherwise.
pub fn http_status(err: &Error) -> u16 {
    match err.code() {
        ErrorCode::InsufficientScope => 403,
        ErrorCode::InvalidRequest => 400,
        ErrorCode::JwksUnavailable | ErrorCode::NetworkError | ErrorCode::Timeout => 503,
        c if c.category() == ErrorCategory::InvalidToken => 401,
        _ => 500,
    }
}

fn quote(s: &str) -> String {
    // RFC 6750 §3: error_description and scope use a restricted charset; drop anything outside it.
    s.chars()
        .filter(|c| matches!(*c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e'))
        .collect()
}

/// Build a `WWW-Authenticate: Bearer ...` value (RFC 6750 §3). With `err` `None` (no token was
/// sent) only the realm and scope are given, as the RFC asks.
pub fn www_authenticate(realm: Option<&str>, err: Option<&Error>, required_scopes: &[String]) -> String {
    let mut params: Vec<String> = Vec::new();
    if let Some(r) = realm {
        params.push(format!("realm=\"{}\"", quote(r)));
    }
    if let Some(e) = err {
        let code = match e.code() {
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::InvalidRequest => "invalid_request",
            _ => "invalid_token",
        };
        params.push(format!("error=\"{code}\""));
        params.push(format!("error_description=\"{}\"", quote(e.message())));
    }
    let scopes: Vec<&str> = if let Some(e) = err.filter(|e| !e.missing_scopes().is_empty()) {
        let mut v: Vec<&str> = required_scopes.iter().map(String::as_str).collect();
        for m in e.missing_scopes() {
            if !v.contains(&m.as_str()) {
                v.push(m);
            }
        }
        v
    } else {
        required_scopes.iter().map(String::as_str).collect()
    };
    if !scopes.is_empty() {
        params.push(format!("scope=\"{}\"", quote(&scopes.join(" "))));
    }
    if params.is_empty() {
        "Bearer".to_string()
    } else {
        format!("Bearer {}", params.join(", "))
    }
}

/// What a protected resource answers when it refuses a request (RFC 6750 §3): the status, the
/// RFC 6750 error code for the body, and the `WWW-Authenticate` challenge. With `err` `None` (no
/// bearer token was sent): 401 with a challenge and no error code (§3.1). The error code and the
/// challenge are given for 400/401/403 only; a 5xx (keys unavailable, a bug) carries neither.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub status: u16,
    /// `invalid_token`, `insufficient_scope` or `invalid_request`; `None` when no token was sent.
    pub error: Option<&'static str>,
    pub www_authenticate: Option<String>,
}

/// The RFC 6750 §3.1 error code for an error answered by a protected resource.
pub fn bearer_error_code(err: &Error) -> &'static str {
    match err.code() {
        ErrorCode::InsufficientScope => "insufficient_scope",
        ErrorCode::InvalidRequest => "invalid_request",
        _ => "invalid_token",
    }
}

/// The answer to a refused request, for middleware in every binding (see [`Challenge`]).
pub fn challenge(realm: Option<&str>, err: Option<&Error>, required_scopes: &[String]) -> Challenge {
    let status = err.map_or(401, http_status);
    Challenge {
        status,
        error: err.filter(|_| status < 500).map(bearer_error_code),
        www_authenticate: (status < 500).then(|| www_authenticate(realm, err, required_scopes)),
    }
}

/// An error as a binding's error object carries it: the stable code string, the message and the
/// missing scopes. Bindings pass this to [`challenge_for`] to answer a refused request.
#[derive(Clone, Debug, Default)]
pub struct ErrorParts<'a> {
    pub code: &'a str,
    pub message: &'a str,
    pub missing_scopes: Vec<String>,
}

impl ErrorParts<'_> {
    /// The core error these parts describe; an unknown code is refused.
    pub fn to_error(&self) -> Result<Error> {
        let code = ErrorCode::parse(self.code)
            .ok_or_else(|| Error::config(format!("unknown authsec error code {}", crate::util::quoted(self.code))))?;
        Ok(Error::new(code, self.message).with_missing_scopes(self.missing_scopes.clone()))
    }
}

/// [`challenge`] for an error given as its parts (`None`: no token was sent).
pub fn challenge_for(
    realm: Option<&str>,
    err: Option<&ErrorParts<'_>>,
    required_scopes: &[String],
) -> Result<Challenge> {
    let err = err.map(ErrorParts::to_error).transpose()?;
    Ok(challenge(realm, err.as_ref(), required_scopes))
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
    use crate::scope::ScopeRequirement;

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

    #[test]
    fn challenges() {
        let c = challenge(Some("api"), None, &["read:data".into()]);
        assert_eq!(c.status, 401);
        assert_eq!(c.error, None);
        assert_eq!(
            c.www_authenticate.as_deref(),
            Some("Bearer realm=\"api\", scope=\"read:data\"")
        );
        let e = ScopeRequirement::all(&["admin"]).check(&[]).unwrap_err();
        let c = challenge(None, Some(&e), &[]);
        assert_eq!((c.status, c.error), (403, Some("insufficient_scope")));
        let e = Error::new(ErrorCode::TokenExpired, "expired");
        assert_eq!(challenge(None, Some(&e), &[]).error, Some("invalid_token"));
        let e = Error::new(ErrorCode::JwksUnavailable, "down");
        let c = challenge(None, Some(&e), &[]);
        assert_eq!((c.status, c.error, c.www_authenticate), (503, None, None));
    }

    #[test]
    fn challenges_from_error_parts() {
        let parts = ErrorParts {
            code: "insufficient_scope",
            message: "lacks admin",
            missing_scopes: vec!["admin".into()],
        };
        let c = challenge_for(Some("api"), Some(&parts), &["read".into()]).unwrap();
        assert_eq!((c.status, c.error), (403, Some("insufficient_scope")));
        assert!(c.www_authenticate.unwrap().ends_with("scope=\"read admin\""));
        assert_eq!(challenge_for(None, None, &[]).unwrap().status, 401);
        let bad = ErrorParts {
            code: "nope",
            ..Default::default()
        };
        assert_eq!(
            challenge_for(None, Some(&bad), &[]).unwrap_err().code(),
            ErrorCode::ConfigError
        );
    }

    #[test]
    fn www_authenticate_forms() {
        assert_eq!(www_authenticate(Some("api"), None, &[]), "Bearer realm=\"api\"");
        let e = ScopeRequirement::all(&["admin"]).check(&[]).unwrap_err();
        let h = www_authenticate(Some("api"), Some(&e), &["read:data".into()]);
        assert!(
            h.starts_with("Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\""),
            "{h}"
        );
        assert!(h.ends_with("scope=\"read:data admin\""), "{h}");
        assert_eq!(http_status(&e), 403);
        let e = Error::new(ErrorCode::TokenExpired, "the token \"expired\"\\");
        let h = www_authenticate(None, Some(&e), &[]);
        assert_eq!(
            h,
            "Bearer error=\"invalid_token\", error_description=\"the token expired\""
        );
        assert_eq!(http_status(&e), 401);
    }
}
