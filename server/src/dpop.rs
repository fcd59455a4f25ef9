//! DPoP (RFC 9449) and certificate binding (RFC 8705 §3) at the token endpoint.
//!
//! A token request may carry one `DPoP` proof for `POST` to the token endpoint as the metadata
//! names it. The proof's stateless checks (the core's [`verify_proof`]) and the server's nonce
//! (when `dpop.nonce` is on) come before client authentication, so that the nonce dance does not
//! use up a `private_key_jwt` assertion; the replay check comes after authentication and the rate
//! limit, so that unauthenticated callers cannot fill the replay cache. A token issued with a
//! proof carries `cnf.jkt` and is answered as `token_type: DPoP`; a client registered with
//! `dpop_bound_access_tokens` must send one. A client registered with
//! `tls_client_certificate_bound_access_tokens` gets `cnf.x5t#S256` of the certificate it
//! presented; with both, `cnf` holds both members.

use crate::app::AppState;
use crate::clients::Client;
use crate::config::ServerConfig;
use crate::oauth::OAuthError;
use crate::tls::PeerCert;
use authsec_core::dpop::{verify_proof, DpopPolicy, MemoryReplayStore, NonceCheck, NonceIssuer, ProofRequest};
use authsec_core::{Alg, ErrorCode, Result};
use axum::http::HeaderMap;
use serde_json::{json, Map, Value};

/// The server's DPoP state: its replay cache and, when configured, its nonce issuer.
pub struct Dpop {
    policy: DpopPolicy,
    replay: MemoryReplayStore,
    nonces: Option<NonceIssuer>,
}

impl Dpop {
    pub fn new(cfg: &ServerConfig) -> Result<Dpop> {
        let nonces = match cfg.dpop.nonce {
            true => Some(NonceIssuer::random(cfg.dpop_nonce_lifetime()?)?),
            false => None,
        };
        Ok(Dpop {
            policy: DpopPolicy::default(),
            replay: MemoryReplayStore::default(),
            nonces,
        })
    }
}

/// The algorithms proofs may use: every asymmetric one the core verifies.
pub fn signing_algs() -> Vec<&'static str> {
    Alg::ALL.iter().map(|a| a.as_str()).collect()
}

pub fn invalid_proof(d: impl Into<String>) -> OAuthError {
    OAuthError::new(400, "invalid_dpop_proof", d)
}

/// A proof that passed the stateless checks and the nonce.
pub struct Proof {
    pub verified: authsec_core::dpop::VerifiedProof,
    /// A fresh nonce to send in `DPoP-Nonce` with the answer (§8.2).
    pub renewed_nonce: Option<String>,
}

/// Check the request's `DPoP` header, if any (see the module documentation).
pub fn check_proof(st: &AppState, headers: &HeaderMap) -> std::result::Result<Option<Proof>, OAuthError> {
    let mut values = headers.get_all("dpop").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(invalid_proof("send one DPoP header, not several (RFC 9449 §4.3)"));
    }
    let proof = value
        .to_str()
        .map_err(|_| invalid_proof("the DPoP header is not a compact JWS"))?;
    let now_ms = st.clock.now_ms();
    let uri = st.token_endpoint();
    let req = ProofRequest {
        method: "POST",
        uri: &uri,
        access_token: None,
        jkt: None,
    };
    let verified = verify_proof(proof, &req, &st.dpop.policy, now_ms).map_err(|e| match e.code() {
        ErrorCode::InvalidDpopProof => invalid_proof(e.message()),
        _ => invalid_proof(format!("the DPoP proof was refused: {}", e.message())),
    })?;
    let renewed_nonce = match &st.dpop.nonces {
        None => None,
        Some(n) => match n.check(verified.nonce.as_deref(), now_ms) {
            NonceCheck::Fresh => None,
            NonceCheck::Renew(new) => Some(new),
            NonceCheck::Refused(new) => {
                let why = match verified.nonce {
                    None => "this server requires a nonce in DPoP proofs; retry with the DPoP-Nonce it sent",
                    Some(_) => "the DPoP proof's nonce is not one of this server's current nonces; retry with the DPoP-Nonce it sent",
                };
                let mut e = OAuthError::new(400, "use_dpop_nonce", why);
                e.dpop_nonce = Some(new.into());
                return Err(e);
            }
        },
    };
    Ok(Some(Proof {
        verified,
        renewed_nonce,
    }))
}

/// Record the proof's first use (RFC 9449 §11.1); a replay is `invalid_dpop_proof`.
pub fn record_use(st: &AppState, proof: &Proof) -> std::result::Result<(), OAuthError> {
    let v = &proof.verified;
    let expires_at_ms = st.dpop.policy.replay_until_ms(v.iat);
    match st
        .dpop
        .replay
        .first_use_now(v.replay_key("POST"), expires_at_ms, st.clock.now_ms())
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(invalid_proof(
            "the DPoP proof was already used (jti replay); make a new proof for every request",
        )),
        Err(e) => {
            let mut err = OAuthError::new(503, "temporarily_unavailable", e.message().to_string());
            err.retry_after = Some(1);
            Err(err)
        }
    }
}

/// What an issued token is bound to.
#[derive(Default)]
pub struct Binding {
    /// RFC 7638 thumbprint of the DPoP proof's key.
    pub jkt: Option<String>,
    /// RFC 8705 `x5t#S256` of the client certificate.
    pub x5t_s256: Option<String>,
}

impl Binding {
    /// The binding for `client`'s token request (after authentication): DPoP when a proof came or
    /// the client must send one, the certificate when the client asked for certificate binding.
    pub fn for_request(
        client: &Client,
        proof: Option<&Proof>,
        peer: Option<&PeerCert>,
    ) -> std::result::Result<Binding, OAuthError> {
        if client.dpop_bound_access_tokens && proof.is_none() {
            return Err(invalid_proof(
                "this client must send a DPoP proof (it is registered with dpop_bound_access_tokens)",
            ));
        }
        let x5t_s256 = match (client.tls_client_certificate_bound_access_tokens, peer) {
            (false, _) => None,
            (true, Some(p)) => Some(p.x5t_s256()),
            (true, None) => {
                return Err(OAuthError::invalid_request(
                    "this client's tokens are bound to its TLS client certificate \
                     (tls_client_certificate_bound_access_tokens); connect over HTTPS with that certificate",
                ))
            }
        };
        Ok(Binding {
            jkt: proof.map(|p| p.verified.jkt.clone()),
            x5t_s256,
        })
    }

    /// The `cnf` claim, when the token is bound.
    pub fn cnf(&self) -> Option<Value> {
        let mut cnf = Map::new();
        if let Some(j) = &self.jkt {
            cnf.insert("jkt".into(), json!(j));
        }
        if let Some(x) = &self.x5t_s256 {
            cnf.insert("x5t#S256".into(), json!(x));
        }
        (!cnf.is_empty()).then_some(Value::Object(cnf))
    }

    /// `DPoP` for a DPoP-bound token (RFC 9449 §5), else `Bearer` (a certificate-bound token is
    /// still presented as a bearer token, RFC 8705 §3).
    pub fn token_type(&self) -> &'static str {
        if self.jkt.is_some() {
            "DPoP"
        } else {
            "Bearer"
        }
    }
}
