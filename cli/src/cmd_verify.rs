//! `authsec verify`: verify a JWT access token and print its claims.

use crate::common::{print_stdout, read_token};
use authsec_native::access_token::config::DEFAULT_LEEWAY;
use authsec_native::core::resource::uri::AudienceMatch;
use authsec_native::{
    Alg, DelegationPolicy, Error, ErrorCode, JwksPolicy, KeySet, Result, ScopeRequirement, StaticKeys, SystemClock,
    TypPolicy, Verifier, VerifierConfig,
};
use clap::Args;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

const AFTER_HELP: &str = "\
Keys: --jwks FILE (a JWKS document, or a single public JWK), or --jwks-uri URL; with neither,
the jwks_uri is discovered from --issuer (RFC 8414, then OpenID Connect discovery).

Checks: the signature, alg (never none or HS*), typ, exp/nbf/iat (with --leeway), iss, aud, and
the scopes asked for with --require-scope (all of them) and --any-scope (at least one).

Output: the verified claims as JSON on stdout. On failure, `error: <code>: <message>` on stderr.

Exit codes:
  0  the token is valid
  1  the token is invalid (e.g. token_expired, invalid_signature, invalid_audience) or lacks a
     required scope (insufficient_scope)
  2  usage or configuration error (e.g. no --issuer, an unreadable --jwks file)
  3  network error, or the JWKS / metadata could not be fetched (jwks_unavailable, ...)

Examples:
  authsec verify --issuer https://auth.example.com --audience https://api.example.com \"$TOKEN\"
  authsec token --raw | authsec verify --issuer https://auth.example.com \\
      --audience https://api.example.com --require-scope read:data
  authsec verify --issuer https://auth.example.com --audience api --jwks jwks.json - < token.txt";

#[derive(Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct VerifyArgs {
    /// The token; read from stdin when absent or `-` (a leading `Bearer ` is ignored).
    #[arg(value_name = "TOKEN")]
    pub token: Option<String>,
    /// The expected issuer (`iss`). Required.
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// An accepted audience (`aud` must contain one); repeatable. Required unless --no-audience-check.
    #[arg(long, value_name = "AUD")]
    pub audience: Vec<String>,
    /// Accept any audience (only for tokens that are audience-less by design).
    #[arg(long)]
    pub no_audience_check: bool,
    /// How `aud` is matched: `exact`; `trailing_slash` (the same URL, a trailing slash, case or
    /// default port aside); `path_prefix` (also a URL above the audience on the same origin).
    #[arg(long, value_name = "POLICY", default_value = "exact", value_parser = AudienceMatch::NAMES)]
    pub audience_match: String,
    /// Fetch the keys from this JWKS URL.
    #[arg(long, value_name = "URL", conflicts_with = "jwks")]
    pub jwks_uri: Option<String>,
    /// Read the keys from this file (a JWKS, or a single public JWK).
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<String>,
    /// An allowed algorithm (e.g. RS256, ES256, EdDSA); repeatable. Default: every supported
    /// asymmetric algorithm.
    #[arg(long, value_name = "ALG")]
    pub algorithm: Vec<String>,
    /// Clock-skew leeway in seconds for exp, nbf and iat (at most 300).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_LEEWAY.as_secs())]
    pub leeway: u64,
    /// The `typ` header policy: `default` accepts at+jwt, JWT or none; `strict` requires at+jwt
    /// (RFC 9068).
    #[arg(long, value_name = "POLICY", default_value = "default", value_parser = ["default", "strict"])]
    pub typ: String,
    /// A scope the token must have; repeatable (all are required).
    #[arg(long, value_name = "SCOPE")]
    pub require_scope: Vec<String>,
    /// A scope of which the token must have at least one; repeatable.
    #[arg(long, value_name = "SCOPE")]
    pub any_scope: Vec<String>,
    /// Allow plain http:// JWKS and metadata URLs on non-loopback hosts.
    #[arg(long)]
    pub allow_insecure_http: bool,
    /// Refuse delegated tokens (tokens carrying an RFC 8693 `act` claim).
    #[arg(long)]
    pub forbid_delegation: bool,
    /// The most actors a token's `act` chain may hold (0 to 16).
    #[arg(long, value_name = "N", conflicts_with = "forbid_delegation")]
    pub max_delegation_depth: Option<usize>,
    /// An id (`client_id`, else `sub`) the current actor of a delegated token must have;
    /// repeatable.
    #[arg(long, value_name = "ID", conflicts_with = "forbid_delegation")]
    pub allowed_actor: Vec<String>,
}

fn split_all(v: &[String]) -> Vec<String> {
    v.iter()
        .flat_map(|s| s.split_whitespace())
        .map(str::to_string)
        .collect()
}

/// The verifier configuration from the flags (no I/O).
pub fn verifier_config(a: &VerifyArgs) -> Result<VerifierConfig> {
    let issuer = a.issuer.as_deref().map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| {
        Error::config("--issuer is required: the `iss` your tokens carry, e.g. --issuer https://auth.example.com (`authsec decode` shows a token's iss)")
    })?;
    let audiences: Vec<String> = a
        .audience
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if audiences.is_empty() && !a.no_audience_check {
        return Err(Error::config(
            "--audience is required: your API's identifier, which the token's `aud` must contain; pass --no-audience-check only if your tokens have no audience by design",
        ));
    }
    let algorithms = a
        .algorithm
        .iter()
        .map(|s| Alg::parse(s.trim()).map_err(|e| Error::config(format!("--algorithm: {}", e.message()))))
        .collect::<Result<Vec<_>>>()?;
    Ok(VerifierConfig {
        issuer: Some(issuer.to_string()),
        audiences: if a.no_audience_check { Vec::new() } else { audiences },
        skip_audience_check: a.no_audience_check,
        audience_match: AudienceMatch::parse(&a.audience_match)?,
        algorithms,
        leeway: Duration::from_secs(a.leeway),
        typ: TypPolicy::parse(&a.typ)?,
        verified_cache_size: 0,
        delegation: DelegationPolicy {
            forbid: a.forbid_delegation,
            max_depth: a.max_delegation_depth,
            allowed_actors: (!a.allowed_actor.is_empty()).then(|| a.allowed_actor.clone()),
        },
        ..Default::default()
    })
}

/// A static key set from a file holding a JWKS or one JWK.
fn keys_from_file(path: &str) -> Result<KeySet> {
    let text = std::fs::read(path).map_err(|e| Error::config(format!("cannot read the --jwks file {path:?}: {e}")))?;
    let v: Value = serde_json::from_slice(&text).map_err(|e| {
        Error::new(
            ErrorCode::InvalidJwks,
            format!("the --jwks file {path:?} is not JSON ({e})"),
        )
    })?;
    let keys = if v.get("keys").is_some() {
        KeySet::from_jwks_json(&text)?
    } else {
        KeySet::from_jwk_value(&v)?
    };
    if keys.is_empty() {
        let why = if keys.skipped.is_empty() {
            "it has no keys".to_string()
        } else {
            keys.skipped.join("; ")
        };
        return Err(Error::new(
            ErrorCode::InvalidJwks,
            format!("the --jwks file {path:?} has no usable key ({why})"),
        ));
    }
    Ok(keys)
}

fn build_verifier(a: &VerifyArgs, cfg: VerifierConfig) -> Result<Verifier> {
    if let Some(path) = &a.jwks {
        let keys = keys_from_file(path)?;
        return Verifier::new(cfg, Arc::new(StaticKeys(Arc::new(keys))), Arc::new(SystemClock));
    }
    let uri = match &a.jwks_uri {
        Some(u) => u.clone(),
        None => {
            let issuer = cfg.issuer.as_deref().unwrap_or_default();
            let meta = authsec_native::block_on(authsec_native::discover(issuer, a.allow_insecure_http))?;
            meta.jwks_uri.ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidResponse,
                    "the issuer's metadata has no jwks_uri; pass --jwks-uri URL or --jwks FILE",
                )
            })?
        }
    };
    let policy = JwksPolicy {
        allow_insecure_http: a.allow_insecure_http,
        ..Default::default()
    };
    authsec_native::remote_verifier(cfg, &uri, policy)
}

pub fn run(a: VerifyArgs) -> Result<()> {
    // Check the flags before reading stdin, so a usage error never waits for input.
    let cfg = verifier_config(&a)?;
    let scopes = ScopeRequirement {
        all_of: split_all(&a.require_scope),
        any_of: split_all(&a.any_scope),
    };
    let token = read_token(a.token.as_deref())?;
    let verifier = build_verifier(&a, cfg)?;
    let claims = authsec_native::block_on(verifier.verify_with_scopes(&token, &scopes))?;
    let out = serde_json::to_string_pretty(&Value::Object(claims.as_map().clone()))
        .map_err(|e| Error::internal(format!("cannot print the claims: {e}")))?;
    print_stdout(&out)
}
