//! `authsec error-codes`: the stable error-code list, for docs and binding drift checks.

use crate::common::{exit_code, print_stdout};
use authsec_native::{ErrorCode, Result};
use clap::Args;

const AFTER_HELP: &str = "\
One code per line: the code, then a short description. The codes are stable: bindings expose
them as exception classes / error codes, and check their own lists against this one, e.g.
  authsec error-codes --codes-only | diff - my-binding-codes.txt";

#[derive(Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct ErrorCodesArgs {
    /// Print only the codes (no descriptions).
    #[arg(long)]
    pub codes_only: bool,
    /// Add the CLI exit code each error leads to.
    #[arg(long, conflicts_with = "codes_only")]
    pub exit_codes: bool,
}

/// A short description of a code.
pub fn describe(code: ErrorCode) -> &'static str {
    use ErrorCode::*;
    match code {
        InvalidRequest => "the token request was malformed (OAuth invalid_request)",
        InvalidClient => "client authentication failed: wrong client_id, secret or assertion",
        InvalidGrant => "the grant or assertion was rejected",
        UnauthorizedClient => "the client may not use the client_credentials grant",
        UnsupportedGrantType => "the server does not support the grant type",
        InvalidScope => "a requested scope is unknown or not allowed for the client",
        InvalidTarget => "the requested audience/resource is not acceptable (RFC 8707)",
        OauthError => "another OAuth error code returned by the server",
        RateLimited => "HTTP 429: the server asked the client to slow down",
        ServerError => "HTTP 5xx from the server",
        InvalidResponse => "the server's answer could not be understood",
        NetworkError => "connection, DNS or TLS failure",
        Timeout => "a connect or read timeout, or the retry budget ran out",
        InsecureTransport => "plain http:// to a non-loopback host without an explicit opt-in",
        ConfigError => "missing or invalid configuration",
        InvalidKey => "a signing or verification key could not be used",
        InvalidJwks => "a JWKS document could not be parsed",
        JwksUnavailable => "no key set could be fetched and none is cached",
        MalformedToken => "not a well-formed compact JWS (segments, base64url, JSON)",
        TokenTooLarge => "the token exceeds the size limit",
        UnsupportedAlgorithm => "alg is none, HMAC, or not in the allow-list",
        AlgorithmMismatch => "the token's alg does not fit the key",
        KeyNotFound => "no key in the key set matches the token's kid",
        InvalidSignature => "the signature does not verify",
        TokenExpired => "exp is in the past (beyond the leeway)",
        TokenNotYetValid => "nbf or iat is in the future (beyond the leeway)",
        InvalidIssuer => "iss does not match the expected issuer",
        InvalidAudience => "aud does not contain an expected audience",
        InvalidTokenType => "the typ header is not acceptable for an access token",
        UnsupportedCriticalHeader => "the crit header names an unsupported extension",
        InvalidClaim => "a required claim is missing or has the wrong type",
        InsufficientScope => "the token is valid but lacks a required scope",
        InternalError => "a bug or an impossible state; please report it",
        _ => "(no description)",
    }
}

pub fn run(a: ErrorCodesArgs) -> Result<()> {
    let width = ErrorCode::ALL.iter().map(|c| c.as_str().len()).max().unwrap_or(0);
    let lines: Vec<String> = ErrorCode::ALL
        .iter()
        .map(|&c| {
            if a.codes_only {
                c.as_str().to_string()
            } else if a.exit_codes {
                format!("{:<width$}  {}  {}", c.as_str(), exit_code(c), describe(c))
            } else {
                format!("{:<width$}  {}", c.as_str(), describe(c))
            }
        })
        .collect();
    print_stdout(&lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_description() {
        for &c in ErrorCode::ALL {
            assert_ne!(describe(c), "(no description)", "{c} needs a description in cmd_error_codes.rs");
        }
    }
}
