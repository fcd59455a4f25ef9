//! What a protected resource answers when it refuses a request: the status, the RFC 6750 error
//! code, and one `WWW-Authenticate: Bearer` challenge (RFC 6750 §3, RFC 9728 §5.1), built once for
//! the middleware of every binding and the MCP adapters.
//!
//! - No credentials (`err` is `None`): 401 and a challenge without `error` (RFC 6750 §3.1: "SHOULD
//!   NOT include an error code"), with `resource_metadata` and `scope` so a client can start.
//! - A bad token: 401 `invalid_token`; a malformed request: 400 `invalid_request`.
//! - Too few scopes: 403 `insufficient_scope` whose `scope` is every scope the operation needs,
//!   the ones the token lacks included, in one challenge (MCP's SEP-2350: a client that asks for
//!   exactly that set gets in on its next try).
//! - Keys unavailable or a bug: 5xx, no error code and no challenge.

use super::bearer::http_status;
use crate::{Error, ErrorCode, Result};

/// What goes into a resource's challenges besides the error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChallengeParams {
    /// RFC 6750 `realm`.
    pub realm: Option<String>,
    /// RFC 9728 §5.1 `resource_metadata`: the URL of the resource's metadata document
    /// ([`super::metadata::ResourceMetadata::metadata_url`]).
    pub resource_metadata: Option<String>,
    /// The scopes the refused operation needs, all of them.
    pub scopes: Vec<String>,
}

/// RFC 6750 §3: `error_description` and `scope` use a restricted charset; anything outside it is
/// dropped (so a quote or backslash from a message cannot end the parameter early).
fn quote(s: &str) -> String {
    s.chars()
        .filter(|c| matches!(*c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e'))
        .collect()
}

/// The RFC 6750 §3.1 error code for an error answered by a protected resource.
pub fn bearer_error_code(err: &Error) -> &'static str {
    match err.code() {
        ErrorCode::InsufficientScope => "insufficient_scope",
        ErrorCode::InvalidRequest => "invalid_request",
        _ => "invalid_token",
    }
}

/// The challenge's scopes: the operation's, then any the error names that they do not include.
fn challenge_scopes<'a>(params: &'a ChallengeParams, err: Option<&'a Error>) -> Vec<&'a str> {
    let mut v: Vec<&str> = Vec::new();
    let missing = err.map(Error::missing_scopes).unwrap_or_default();
    for s in params.scopes.iter().chain(missing) {
        if !v.contains(&s.as_str()) {
            v.push(s);
        }
    }
    v
}

/// A `WWW-Authenticate: Bearer ...` value (RFC 6750 §3) for `err` (`None`: no credentials were sent,
/// so no `error`), whatever status it is answered with.
pub fn www_authenticate(params: &ChallengeParams, err: Option<&Error>) -> String {
    let mut out: Vec<String> = Vec::new();
    if let Some(r) = &params.realm {
        out.push(format!("realm=\"{}\"", quote(r)));
    }
    if let Some(e) = err {
        out.push(format!("error=\"{}\"", bearer_error_code(e)));
        out.push(format!("error_description=\"{}\"", quote(e.message())));
    }
    let scopes = challenge_scopes(params, err);
    if !scopes.is_empty() {
        out.push(format!("scope=\"{}\"", quote(&scopes.join(" "))));
    }
    if let Some(m) = &params.resource_metadata {
        out.push(format!("resource_metadata=\"{}\"", quote(m)));
    }
    if out.is_empty() {
        "Bearer".to_string()
    } else {
        format!("Bearer {}", out.join(", "))
    }
}

/// What a protected resource answers when it refuses a request (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub status: u16,
    /// `invalid_token`, `insufficient_scope` or `invalid_request`; `None` when no token was sent
    /// and for 5xx answers.
    pub error: Option<&'static str>,
    /// `None` for 5xx answers.
    pub www_authenticate: Option<String>,
}

/// The answer to a refused request; `err` `None` means no credentials were sent.
pub fn challenge(params: &ChallengeParams, err: Option<&Error>) -> Challenge {
    let status = err.map_or(401, http_status);
    Challenge {
        status,
        error: err.filter(|_| status < 500).map(bearer_error_code),
        www_authenticate: (status < 500).then(|| www_authenticate(params, err)),
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
pub fn challenge_for(params: &ChallengeParams, err: Option<&ErrorParts<'_>>) -> Result<Challenge> {
    let err = err.map(ErrorParts::to_error).transpose()?;
    Ok(challenge(params, err.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::ScopeRequirement;

    fn params(realm: Option<&str>, metadata: Option<&str>, scopes: &[&str]) -> ChallengeParams {
        ChallengeParams {
            realm: realm.map(str::to_string),
            resource_metadata: metadata.map(str::to_string),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    const PRM: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";

    #[test]
    fn no_credentials_no_error_code() {
        let c = challenge(&params(None, Some(PRM), &["files:read"]), None);
        assert_eq!((c.status, c.error), (401, None));
        assert_eq!(
            c.www_authenticate.as_deref(),
            Some(format!("Bearer scope=\"files:read\", resource_metadata=\"{PRM}\"").as_str())
        );
        assert_eq!(
            challenge(&ChallengeParams::default(), None).www_authenticate.as_deref(),
            Some("Bearer")
        );
        let c = challenge(&params(Some("api"), None, &["read:data"]), None);
        assert_eq!(
            c.www_authenticate.as_deref(),
            Some("Bearer realm=\"api\", scope=\"read:data\"")
        );
    }

    #[test]
    fn insufficient_scope_names_every_scope_the_operation_needs() {
        // The token holds files:read; the tool needs files:read and files:write.
        let e = ScopeRequirement::all(&["files:read", "files:write"])
            .check(&["files:read"])
            .unwrap_err();
        let c = challenge(&params(None, Some(PRM), &["files:read", "files:write"]), Some(&e));
        assert_eq!((c.status, c.error), (403, Some("insufficient_scope")));
        let h = c.www_authenticate.unwrap();
        assert!(
            h.starts_with("Bearer error=\"insufficient_scope\", error_description=\""),
            "{h}"
        );
        assert!(
            h.ends_with(&format!(
                "scope=\"files:read files:write\", resource_metadata=\"{PRM}\""
            )),
            "{h}"
        );
        // Missing scopes the caller did not list are added, once.
        let c = challenge(&params(Some("api"), None, &["read"]), Some(&e));
        assert!(c.www_authenticate.unwrap().contains("scope=\"read files:write\""));
    }

    #[test]
    fn token_errors_and_outages() {
        let e = Error::new(ErrorCode::TokenExpired, "the token \"expired\"\\");
        let c = challenge(&params(None, Some(PRM), &[]), Some(&e));
        assert_eq!((c.status, c.error), (401, Some("invalid_token")));
        assert_eq!(
            c.www_authenticate.as_deref(),
            Some(format!("Bearer error=\"invalid_token\", error_description=\"the token expired\", resource_metadata=\"{PRM}\"").as_str())
        );
        let e = Error::new(ErrorCode::InvalidRequest, "two tokens");
        assert_eq!(challenge(&ChallengeParams::default(), Some(&e)).status, 400);
        let e = Error::new(ErrorCode::JwksUnavailable, "down");
        let c = challenge(&params(None, Some(PRM), &["x"]), Some(&e));
        assert_eq!((c.status, c.error, c.www_authenticate), (503, None, None));
    }

    #[test]
    fn challenges_from_error_parts() {
        let parts = ErrorParts {
            code: "insufficient_scope",
            message: "lacks admin",
            missing_scopes: vec!["admin".into()],
        };
        let c = challenge_for(&params(Some("api"), None, &["read"]), Some(&parts)).unwrap();
        assert_eq!((c.status, c.error), (403, Some("insufficient_scope")));
        assert!(c.www_authenticate.unwrap().ends_with("scope=\"read admin\""));
        assert_eq!(challenge_for(&ChallengeParams::default(), None).unwrap().status, 401);
        let bad = ErrorParts {
            code: "nope",
            ..Default::default()
        };
        assert_eq!(
            challenge_for(&ChallengeParams::default(), Some(&bad))
                .unwrap_err()
                .code(),
            ErrorCode::ConfigError
        );
    }
}
