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
//!
//! A resource that takes DPoP (RFC 9449 §7.1) offers one challenge per scheme,
//! `DPoP algs="ES256 ..."` and `Bearer` ([`challenges`]); the error goes on the scheme the client
//! used, with the DPoP codes `invalid_dpop_proof` and `use_dpop_nonce` beside RFC 6750's.

use super::bearer::http_status;
use super::credential::Scheme;
use crate::jose::alg::Alg;
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
        // RFC 6750 has one code for a valid credential that is not enough (403).
        ErrorCode::InsufficientScope | ErrorCode::SpiffeIdNotAllowed => "insufficient_scope",
        ErrorCode::InvalidRequest => "invalid_request",
        ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
        ErrorCode::UseDpopNonce => "use_dpop_nonce",
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
    scheme_challenge(Scheme::Bearer, &[], params, err)
}

/// One scheme's challenge: `algs` first for DPoP, then RFC 6750's parameters.
fn scheme_challenge(scheme: Scheme, algs: &[Alg], params: &ChallengeParams, err: Option<&Error>) -> String {
    let mut out: Vec<String> = Vec::new();
    if scheme == Scheme::Dpop {
        let algs: Vec<&str> = algs.iter().map(|a| a.as_str()).collect();
        out.push(format!("algs=\"{}\"", algs.join(" ")));
    }
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
        scheme.as_str().to_string()
    } else {
        format!("{} {}", scheme.as_str(), out.join(", "))
    }
}

/// What a protected resource answers when it refuses a request (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub status: u16,
    /// `invalid_token`, `insufficient_scope` or `invalid_request`; `None` when no token was sent
    /// and for 5xx answers.
    pub error: Option<&'static str>,
    /// `None` for 5xx answers. With more than one scheme, every challenge, comma-separated (RFC 9110
    /// §11.6.1); [`Challenge::challenges`] has them apart, one header line each.
    pub www_authenticate: Option<String>,
    /// One `WWW-Authenticate` value per scheme offered (empty for 5xx answers).
    pub challenges: Vec<String>,
}

/// The answer to a refused request; `err` `None` means no credentials were sent.
pub fn challenge(params: &ChallengeParams, err: Option<&Error>) -> Challenge {
    challenges(params, err, &Offer::default())
}

/// The schemes a resource offers in its challenges, and the one the refused request used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer<'a> {
    /// In order; `[Bearer]` for a resource without DPoP.
    pub schemes: &'a [Scheme],
    /// The DPoP proof algorithms (`algs`).
    pub dpop_algorithms: &'a [Alg],
    /// The scheme of the refused credential (its challenge carries the error); `None` when none came.
    pub used: Option<Scheme>,
}

impl Default for Offer<'_> {
    fn default() -> Self {
        Offer {
            schemes: &[Scheme::Bearer],
            dpop_algorithms: &[],
            used: None,
        }
    }
}

/// The answer to a refused request, with a challenge per offered scheme; the error goes on the one
/// the request used (or the first offered, when it used one this resource does not offer).
pub fn challenges(params: &ChallengeParams, err: Option<&Error>, offer: &Offer<'_>) -> Challenge {
    let status = err.map_or(401, http_status);
    if status >= 500 {
        return Challenge {
            status,
            error: None,
            www_authenticate: None,
            challenges: Vec::new(),
        };
    }
    let carrier = offer
        .used
        .filter(|u| offer.schemes.contains(u))
        .or_else(|| offer.schemes.first().copied());
    let list: Vec<String> = offer
        .schemes
        .iter()
        .map(|&s| {
            let e = err.filter(|_| Some(s) == carrier);
            scheme_challenge(s, offer.dpop_algorithms, params, e)
        })
        .collect();
    Challenge {
        status,
        error: err.map(bearer_error_code),
        www_authenticate: Some(list.join(", ")),
        challenges: list,
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
    fn dpop_challenges_carry_algs_and_the_error_on_the_scheme_used() {
        let offer = |used| Offer {
            schemes: &[Scheme::Dpop, Scheme::Bearer],
            dpop_algorithms: &[Alg::ES256, Alg::PS256],
            used,
        };
        let p = params(Some("api"), None, &[]);
        let c = challenges(&p, None, &offer(None));
        assert_eq!(c.status, 401);
        assert_eq!(
            c.challenges,
            ["DPoP algs=\"ES256 PS256\", realm=\"api\"", "Bearer realm=\"api\""]
        );
        assert_eq!(
            c.www_authenticate.as_deref(),
            Some("DPoP algs=\"ES256 PS256\", realm=\"api\", Bearer realm=\"api\"")
        );
        let e = Error::new(ErrorCode::UseDpopNonce, "send the nonce");
        let c = challenges(&p, Some(&e), &offer(Some(Scheme::Dpop)));
        assert_eq!((c.status, c.error), (401, Some("use_dpop_nonce")));
        assert_eq!(
            c.challenges,
            [
                "DPoP algs=\"ES256 PS256\", realm=\"api\", error=\"use_dpop_nonce\", error_description=\"send the nonce\"",
                "Bearer realm=\"api\""
            ]
        );
        let e = Error::new(ErrorCode::InvalidClaim, "bound token as Bearer");
        let c = challenges(&p, Some(&e), &offer(Some(Scheme::Bearer)));
        assert!(
            c.challenges[1].starts_with("Bearer realm=\"api\", error=\"invalid_token\""),
            "{c:?}"
        );
        assert!(!c.challenges[0].contains("error"));
        // DPoP only: a Bearer attempt gets its error on the DPoP challenge.
        let only = Offer {
            schemes: &[Scheme::Dpop],
            ..offer(Some(Scheme::Bearer))
        };
        let c = challenges(&p, Some(&e), &only);
        assert_eq!(c.challenges.len(), 1);
        assert!(c.challenges[0].contains("error=\"invalid_token\""));
        let e = Error::new(ErrorCode::InvalidDpopProof, "bad htu");
        assert_eq!(
            challenges(&p, Some(&e), &offer(Some(Scheme::Dpop))).error,
            Some("invalid_dpop_proof")
        );
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
