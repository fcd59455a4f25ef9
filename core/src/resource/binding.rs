//! Sender-constrained tokens on the resource side: a token's `cnf` against how it was presented.
//!
//! - `cnf.jkt` (DPoP, RFC 9449 §6, §7): the token must come with the DPoP scheme and a proof by
//!   the key with that thumbprint ([`crate::dpop::verify_proof`], `ath` included). Sent as Bearer it
//!   is refused (§7.2): that is exactly what a thief who copied it from a log would do.
//! - `cnf["x5t#S256"]` (RFC 8705 §3): the request's client certificate must have that thumbprint.
//! - The DPoP scheme with a token bound to no key is refused too: the proof would prove nothing.
//!
//! Sans-IO: the caller has verified the token and passes its claims and `now`; what needs a store
//! (the replay cache, nonces) is done with what [`Binding`] returns.

use super::credential::{Credential, Scheme};
use crate::access_token::Claims;
use crate::dpop::proof::{check_proof, ProofCheck};
use crate::dpop::{DpopPolicy, ProofRequest, VerifiedProof};
use crate::jose::alg::Alg;
use crate::util::quoted;
use crate::{Error, ErrorCode, Result};
use serde_json::Value;

/// Which DPoP-bound tokens a resource takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DpopMode {
    /// Bearer and DPoP tokens (the default): each presented with its own scheme.
    #[default]
    Allowed,
    /// Only DPoP-bound tokens, with proofs.
    Required,
    /// No DPoP: the `DPoP` scheme is refused, bound tokens with it.
    Disabled,
}

impl DpopMode {
    pub fn parse(s: &str) -> Result<DpopMode> {
        match s {
            "allowed" => Ok(DpopMode::Allowed),
            "required" => Ok(DpopMode::Required),
            "disabled" => Ok(DpopMode::Disabled),
            other => Err(Error::config(format!(
                "dpop {} is not one of allowed, required, disabled",
                quoted(other)
            ))),
        }
    }

    /// The schemes a challenge offers: Bearer first when both are, for clients that read only
    /// the first challenge (some MCP clients look for `resource_metadata` there).
    pub fn schemes(self) -> &'static [Scheme] {
        match self {
            DpopMode::Allowed => &[Scheme::Bearer, Scheme::Dpop],
            DpopMode::Required => &[Scheme::Dpop],
            DpopMode::Disabled => &[Scheme::Bearer],
        }
    }
}

/// How a resource checks sender-constrained tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindingPolicy {
    pub dpop: DpopMode,
    pub proof: DpopPolicy,
    /// Refuse tokens that are not certificate-bound.
    pub require_certificate: bool,
}

impl BindingPolicy {
    /// The proof algorithms a challenge's `algs` lists: the policy's, or every asymmetric one.
    pub fn dpop_algorithms(&self) -> Vec<Alg> {
        if self.proof.algorithms.is_empty() {
            Alg::ALL.to_vec()
        } else {
            self.proof.algorithms.clone()
        }
    }
}

/// What a presented token is bound to, once checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Binding {
    /// The proof, for the DPoP scheme: its replay key and nonce still need the server's state.
    pub proof: Option<VerifiedProof>,
    /// The certificate thumbprint the token is bound to (and the request presented).
    pub certificate: Option<String>,
}

fn refused(why: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidClaim, why.into())
}

/// The request facts a binding is checked against.
#[derive(Clone, Copy, Debug, Default)]
pub struct Presented<'a> {
    pub method: &'a str,
    /// The absolute target URI ([`super::origin::OriginPolicy::target_uri`]).
    pub uri: &'a str,
    /// The `x5t#S256` of the client certificate, if one came with the request.
    pub certificate: Option<&'a str>,
}

/// What [`check_binding`] leaves: the proof's signature ([`BindingCheck::proof`]), checked by the
/// build's backend or the runtime's own crypto, then [`BindingCheck::finish`].
#[derive(Clone, Debug)]
pub struct BindingCheck {
    proof: Option<ProofCheck>,
    certificate: Option<String>,
}

impl BindingCheck {
    /// The proof whose signature is still to be checked (DPoP scheme only).
    pub fn proof(&self) -> Option<&ProofCheck> {
        self.proof.as_ref()
    }
    /// The binding, once the proof's signature is known to be `valid` (ignored without a proof).
    pub fn finish(self, valid: bool) -> Result<Binding> {
        Ok(Binding {
            proof: self.proof.map(|p| p.finish(valid)).transpose()?,
            certificate: self.certificate,
        })
    }
}

/// Check `claims`' `cnf` against the credential and the request (see the module documentation),
/// all but the proof's signature. Errors are `invalid_dpop_proof` for a bad proof, `invalid_claim`
/// (an `invalid_token`) for a binding that does not hold.
pub fn check_binding(
    policy: &BindingPolicy,
    credential: &Credential<'_>,
    claims: &Claims,
    request: &Presented<'_>,
    now_ms: i64,
) -> Result<BindingCheck> {
    let cnf = match claims.get("cnf") {
        None => None,
        Some(Value::Object(o)) => Some(o),
        Some(_) => return Err(refused("the token's cnf claim is not an object")),
    };
    let member = |name: &str| -> Result<Option<&str>> {
        match cnf.and_then(|c| c.get(name)) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
            Some(_) => Err(refused(format!("the token's cnf.{name} is not a non-empty string"))),
        }
    };
    let jkt = member("jkt")?;
    let x5t = member("x5t#S256")?;
    let mut binding = BindingCheck {
        proof: None,
        certificate: None,
    };
    match credential.scheme {
        Scheme::Dpop if policy.dpop == DpopMode::Disabled => {
            return Err(refused("this resource does not accept DPoP; send the token as Bearer"));
        }
        Scheme::Dpop => {
            let Some(jkt) = jkt else {
                return Err(refused(
                    "the token is not DPoP-bound (it has no cnf.jkt); send it as Bearer",
                ));
            };
            let proof = credential.proof.unwrap_or("");
            let req = ProofRequest {
                method: request.method,
                uri: request.uri,
                access_token: Some(credential.token),
                jkt: Some(jkt),
            };
            binding.proof = Some(check_proof(proof, &req, &policy.proof, now_ms)?);
        }
        Scheme::Bearer if jkt.is_some() => {
            return Err(refused(
                "the token is DPoP-bound (cnf.jkt) but was sent as Bearer; send it with the DPoP scheme and a proof",
            ));
        }
        Scheme::Bearer if policy.dpop == DpopMode::Required => {
            return Err(refused(
                "this resource accepts only DPoP-bound tokens, sent with the DPoP scheme",
            ));
        }
        Scheme::Bearer => {}
    }
    match (x5t, request.certificate) {
        (Some(bound), Some(presented)) if bound == presented => binding.certificate = Some(bound.to_string()),
        (Some(_), Some(_)) => {
            return Err(refused(
                "the token is bound to another client certificate (cnf.x5t#S256) than the one presented",
            ))
        }
        (Some(_), None) => {
            return Err(refused(
                "the token is certificate-bound (cnf.x5t#S256) but the request presented no client certificate",
            ))
        }
        (None, _) if policy.require_certificate => {
            return Err(refused(
                "this resource accepts only certificate-bound tokens (cnf.x5t#S256)",
            ))
        }
        (None, _) => {}
    }
    Ok(binding)
}
