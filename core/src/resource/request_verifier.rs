//! The whole check of a request to a protected resource, once for every binding's middleware:
//! read the credential ([`super::credential`]), find the target URI ([`super::origin`]) and the
//! client certificate ([`super::client_cert`]), verify the token, check its binding to a DPoP key
//! or certificate ([`super::binding`]), the server's nonce ([`crate::dpop::nonce`]), the replay
//! cache ([`crate::dpop::replay`]) and the scopes; answer a refusal with its status, challenges and
//! `DPoP-Nonce` ([`super::challenge`]).
//!
//! [`RequestPolicy`] holds the sans-IO steps ([`RequestPolicy::present`],
//! [`RequestPolicy::check_binding`], [`RequestPolicy::confirm_binding`], [`RequestPolicy::refusal`]);
//! [`RequestVerifier`] runs them all with a [`Verifier`], a [`ReplayStore`] and the signature checks
//! of the build's backend or the runtime's own ([`RequestVerifier::verify_with`]).

use super::binding::{check_binding, Binding, BindingCheck, BindingPolicy, DpopMode, Presented};
use super::challenge::{challenges, ChallengeParams, Offer};
use super::client_cert::{cert_thumbprint, header_thumbprint, CertSource};
use super::credential::{read_credential, Credential, Scheme};
use super::origin::{IpRange, OriginPolicy};
use super::request::RequestParts;
use crate::access_token::{Claims, Prepared, SignatureCheck, Verifier};
use crate::dpop::proof::ProofCheck;
use crate::dpop::{DpopPolicy, MemoryReplayStore, NonceCheck, NonceIssuer, ReplayStore};
use crate::jose::alg::Alg;
use crate::options::{OptionName, Options};
use crate::runtime::Clock;
use crate::runtime::{BoxFut, MaybeSend};
use crate::scope::ScopeRequirement;
use crate::util::b64url_decode;
use crate::{Error, ErrorCode, Result};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// How a resource checks requests (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct RequestPolicy {
    pub binding: BindingPolicy,
    /// Server nonces for DPoP proofs (RFC 9449 §9); `None`: none required.
    pub nonces: Option<NonceIssuer>,
    pub origin: OriginPolicy,
    pub certificate: CertSource,
    pub challenge: ChallengeParams,
    /// Live entries the in-memory replay cache holds (when no shared store is given).
    pub replay_capacity: Option<usize>,
}

/// The request options' names (snake_case, camelCase): bindings that take verifier and request
/// options in one object split them with these.
pub const OPTION_NAMES: [OptionName; 16] = [
    ("dpop", "dpop"),
    ("dpop_algorithms", "dpopAlgorithms"),
    ("dpop_max_age", "dpopMaxAge"),
    ("dpop_leeway", "dpopLeeway"),
    ("dpop_nonce", "dpopNonce"),
    ("dpop_nonce_key", "dpopNonceKey"),
    ("dpop_nonce_lifetime", "dpopNonceLifetime"),
    ("replay_capacity", "replayCapacity"),
    ("public_url", "publicUrl"),
    ("trust_forwarded", "trustForwarded"),
    ("trusted_proxies", "trustedProxies"),
    ("client_cert_header", "clientCertHeader"),
    ("client_cert_header_format", "clientCertHeaderFormat"),
    ("require_certificate_binding", "requireCertificateBinding"),
    ("realm", "realm"),
    ("resource_metadata", "resourceMetadata"),
];

/// A request's credential and what it is checked against, read from the request.
#[derive(Clone, Debug)]
pub struct Presentation<'a> {
    pub credential: Credential<'a>,
    pub method: &'a str,
    /// The absolute target URI.
    pub uri: String,
    /// The client certificate's `x5t#S256`.
    pub certificate: Option<String>,
}

/// What [`RequestPolicy::confirm_binding`] found: the binding, the replay-cache entry to record,
/// and a fresh nonce to send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Confirmed {
    pub binding: Binding,
    /// `(key, expires_at_ms)` for [`ReplayStore::first_use`].
    pub replay: Option<([u8; 32], i64)>,
    /// Send as `DPoP-Nonce` with the answer.
    pub nonce: Option<String>,
}

/// A refused request's answer.
#[derive(Clone, Debug)]
pub struct Refusal {
    pub status: u16,
    /// `None`: no credential was sent.
    pub error: Option<Error>,
    /// `WWW-Authenticate` (one per scheme) and `DPoP-Nonce`, in order.
    pub headers: Vec<(String, String)>,
}

/// An accepted request.
#[derive(Clone, Debug)]
pub struct Accepted {
    pub claims: Arc<Claims>,
    /// The access token as presented.
    pub token: String,
    pub scheme: Scheme,
    pub binding: Binding,
    /// Headers to add to the response (a renewed `DPoP-Nonce`).
    pub headers: Vec<(String, String)>,
}

impl RequestPolicy {
    /// Read the options (names as in the module's `OPTIONS`; camelCase accepted).
    pub fn from_value(v: &Value) -> Result<RequestPolicy> {
        let o = Options::read("resource request options", v, &OPTION_NAMES)?;
        let mut proof = DpopPolicy::default();
        if let Some(algs) = o.strings("dpop_algorithms")? {
            proof.algorithms = algs
                .iter()
                .map(|a| {
                    Alg::parse(a).map_err(|e| {
                        Error::config(format!("resource request options: dpop_algorithms: {}", e.message()))
                    })
                })
                .collect::<Result<_>>()?;
        }
        let seconds = |name: &str| -> Result<Option<Duration>> {
            match o.number(name, "a number of seconds")? {
                Some(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => Ok(Some(Duration::from_secs_f64(s))),
                Some(_) => Err(o.bad(name, "a number of seconds from 0 to 86400")),
                None => Ok(None),
            }
        };
        if let Some(d) = seconds("dpop_max_age")? {
            proof.max_age = d;
        }
        if let Some(d) = seconds("dpop_leeway")? {
            proof.leeway = d;
        }
        let binding = BindingPolicy {
            dpop: o
                .string("dpop")?
                .map(|m| DpopMode::parse(&m))
                .transpose()?
                .unwrap_or_default(),
            proof,
            require_certificate: o.bool("require_certificate_binding")?.unwrap_or(false),
        };
        let lifetime = seconds("dpop_nonce_lifetime")?.unwrap_or(Duration::from_secs(60));
        let nonces = match (o.bool("dpop_nonce")?.unwrap_or(false), o.string("dpop_nonce_key")?) {
            (false, Some(_)) => {
                return Err(Error::config(
                    "resource request options: dpop_nonce_key without dpop_nonce: true",
                ))
            }
            (false, None) => None,
            (true, None) => Some(NonceIssuer::random(lifetime)?),
            (true, Some(key)) => {
                let bytes =
                    zeroize::Zeroizing::new(b64url_decode(&key).ok_or_else(|| o.bad("dpop_nonce_key", "base64url"))?);
                Some(NonceIssuer::new(&bytes, lifetime)?)
            }
        };
        let mut origin = OriginPolicy::default();
        if let Some(url) = o.string("public_url")? {
            origin = origin.with_public_url(&url)?;
        }
        origin.trust_forwarded = o.bool("trust_forwarded")?.unwrap_or(false);
        origin.trusted_proxies = o
            .one_or_many("trusted_proxies")?
            .unwrap_or_default()
            .iter()
            .map(|r| IpRange::parse(r))
            .collect::<Result<_>>()?;
        // A forwarded header or a certificate header believed from any peer would let a client
        // choose the URI its proofs are checked against, or the certificate it holds: the peers
        // that may set them are listed (every peer only by saying so: 0.0.0.0/0 and ::/0).
        if origin.trusted_proxies.is_empty() && (origin.trust_forwarded || o.is_given("client_cert_header")) {
            return Err(Error::config(
                "resource request options: trust_forwarded and client_cert_header need trusted_proxies, the addresses of the proxies that set those headers (e.g. [\"10.0.0.0/8\"]; [\"0.0.0.0/0\", \"::/0\"] trusts every peer)",
            ));
        }
        let certificate = match o.string("client_cert_header")? {
            Some(name) => CertSource::header(&name, o.string("client_cert_header_format")?.as_deref())?,
            None if o.is_given("client_cert_header_format") => {
                return Err(Error::config(
                    "resource request options: client_cert_header_format without client_cert_header",
                ))
            }
            None => CertSource::Tls,
        };
        Ok(RequestPolicy {
            binding,
            nonces,
            origin,
            certificate,
            challenge: ChallengeParams {
                realm: o.string("realm")?,
                resource_metadata: o.string("resource_metadata")?,
                ..Default::default()
            },
            replay_capacity: o.count("replay_capacity")?,
        })
    }

    /// Step 1: the request's credential (`None`: it has none), target URI and client certificate.
    pub fn present<'a>(&self, req: &RequestParts<'a>) -> Result<Option<Presentation<'a>>> {
        let Some(credential) = read_credential(&req.header_values("authorization"), &req.header_values("dpop"))? else {
            return Ok(None);
        };
        let certificate = match &self.certificate {
            CertSource::Tls => req.client_certificate.map(cert_thumbprint),
            CertSource::Header { name, format } => {
                if self.origin.peer_trusted(req.peer) {
                    req.header(name).and_then(|v| header_thumbprint(v, *format))
                } else {
                    None
                }
            }
        };
        Ok(Some(Presentation {
            credential,
            method: req.method,
            uri: self.origin.target_uri(req)?,
            certificate,
        }))
    }

    /// Step 2, once the token is verified: the binding's checks but the proof's signature (the
    /// caller's [`SignatureChecks`]; then [`BindingCheck::finish`] and
    /// [`RequestPolicy::confirm_binding`]).
    pub fn check_binding(&self, p: &Presentation<'_>, claims: &Claims, now_ms: i64) -> Result<BindingCheck> {
        let presented = Presented {
            method: p.method,
            uri: &p.uri,
            certificate: p.certificate.as_deref(),
        };
        check_binding(&self.binding, &p.credential, claims, &presented, now_ms)
    }

    /// Step 3: the server's nonce, and the replay-cache entry to record, for a checked binding.
    pub fn confirm_binding(&self, p: &Presentation<'_>, binding: Binding, now_ms: i64) -> Result<Confirmed> {
        let mut confirmed = Confirmed::default();
        if let Some(proof) = &binding.proof {
            if let Some(nonces) = &self.nonces {
                match nonces.check(proof.nonce.as_deref(), now_ms) {
                    NonceCheck::Fresh => {}
                    NonceCheck::Renew(n) => confirmed.nonce = Some(n),
                    NonceCheck::Refused(_) => {
                        return Err(Error::new(
                            ErrorCode::UseDpopNonce,
                            "the DPoP proof lacks a current nonce from this resource; send a new proof with the nonce from the DPoP-Nonce header",
                        ))
                    }
                }
            }
            confirmed.replay = Some((
                proof.replay_key(p.method),
                self.binding.proof.replay_until_ms(proof.iat),
            ));
        }
        confirmed.binding = binding;
        Ok(confirmed)
    }

    /// The answer to a refused request that needed `scopes`: status, a challenge per offered scheme
    /// (the error on `used`; `scope` naming every scope of the requirement), and a fresh
    /// `DPoP-Nonce` for `use_dpop_nonce`.
    pub fn refusal(&self, err: Option<Error>, used: Option<Scheme>, scopes: &ScopeRequirement, now_ms: i64) -> Refusal {
        let algs = self.binding.dpop_algorithms();
        let offer = Offer {
            schemes: self.binding.dpop.schemes(),
            dpop_algorithms: &algs,
            used,
        };
        let params = ChallengeParams {
            scopes: scopes.all_of.iter().chain(&scopes.any_of).cloned().collect(),
            ..self.challenge.clone()
        };
        let c = challenges(&params, err.as_ref(), &offer);
        let mut headers: Vec<(String, String)> = c
            .challenges
            .into_iter()
            .map(|v| ("WWW-Authenticate".to_string(), v))
            .collect();
        if let (Some(nonces), Some(ErrorCode::UseDpopNonce)) = (&self.nonces, err.as_ref().map(Error::code)) {
            headers.push(("DPoP-Nonce".into(), nonces.issue(now_ms)));
        }
        Refusal {
            status: c.status,
            error: err,
            headers,
        }
    }
}

/// Who checks signatures for [`RequestVerifier::verify_with`]: `Ok(true)` when valid.
pub trait SignatureChecks: MaybeSend {
    /// The access token's (a [`SignatureCheck`] of the verifier).
    fn token<'a>(&'a self, check: &'a SignatureCheck) -> BoxFut<'a, Result<bool>>;
    /// The DPoP proof's.
    fn proof<'a>(&'a self, check: &'a ProofCheck) -> BoxFut<'a, Result<bool>>;
}

/// This build's own crypto backend.
pub struct BackendSignatures;

impl SignatureChecks for BackendSignatures {
    fn token<'a>(&'a self, check: &'a SignatureCheck) -> BoxFut<'a, Result<bool>> {
        let r = check.verify_with_backend();
        Box::pin(async move { r })
    }
    fn proof<'a>(&'a self, check: &'a ProofCheck) -> BoxFut<'a, Result<bool>> {
        let r = check.verify_with_backend();
        Box::pin(async move { r })
    }
}

/// A [`Verifier`] with a [`RequestPolicy`] and a replay store: checks whole requests.
pub struct RequestVerifier {
    verifier: Arc<Verifier>,
    policy: RequestPolicy,
    replay: Arc<dyn ReplayStore>,
    clock: Arc<dyn Clock>,
}

impl RequestVerifier {
    /// With the in-memory replay store (`policy.replay_capacity` entries).
    pub fn new(verifier: Arc<Verifier>, policy: RequestPolicy, clock: Arc<dyn Clock>) -> RequestVerifier {
        let store = MemoryReplayStore::new(
            policy
                .replay_capacity
                .unwrap_or(crate::dpop::replay::DEFAULT_REPLAY_CAPACITY),
        );
        RequestVerifier::with_store(verifier, policy, Arc::new(store), clock)
    }

    /// With a shared replay store.
    pub fn with_store(
        verifier: Arc<Verifier>,
        policy: RequestPolicy,
        replay: Arc<dyn ReplayStore>,
        clock: Arc<dyn Clock>,
    ) -> RequestVerifier {
        RequestVerifier {
            verifier,
            policy,
            replay,
            clock,
        }
    }

    pub fn policy(&self) -> &RequestPolicy {
        &self.policy
    }

    pub fn verifier(&self) -> &Arc<Verifier> {
        &self.verifier
    }

    /// Check a request and the scopes it needs (see the module documentation), with this build's
    /// signature checks.
    pub async fn verify(
        &self,
        req: &RequestParts<'_>,
        scopes: &ScopeRequirement,
    ) -> std::result::Result<Accepted, Refusal> {
        self.verify_with(req, scopes, &BackendSignatures).await
    }

    /// [`RequestVerifier::verify`] with the signatures (the token's and the proof's) checked by
    /// `signatures` (WebCrypto in WebAssembly).
    pub async fn verify_with(
        &self,
        req: &RequestParts<'_>,
        scopes: &ScopeRequirement,
        signatures: &dyn SignatureChecks,
    ) -> std::result::Result<Accepted, Refusal> {
        let refuse =
            |err: Option<Error>, used: Option<Scheme>| self.policy.refusal(err, used, scopes, self.clock.now_ms());
        let p = match self.policy.present(req) {
            Ok(Some(p)) => p,
            Ok(None) => return Err(refuse(None, None)),
            Err(e) => {
                let used = req.header("authorization").and_then(Scheme::of_authorization);
                return Err(refuse(Some(e), Some(used.unwrap_or(Scheme::Bearer))));
            }
        };
        let used = Some(p.credential.scheme);
        let checked = async {
            let claims = match self.verifier.prepare(p.credential.token).await? {
                Prepared::Verified(c) => c,
                Prepared::Check(check) => {
                    let valid = signatures.token(&check).await?;
                    self.verifier.complete(check, valid)?
                }
            };
            let now = self.clock.now_ms();
            let check = self.policy.check_binding(&p, &claims, now)?;
            let valid = match check.proof() {
                Some(proof) => signatures.proof(proof).await?,
                None => true,
            };
            let confirmed = self.policy.confirm_binding(&p, check.finish(valid)?, now)?;
            if let Some((key, expires)) = confirmed.replay {
                if !self.replay.first_use(key, expires, now).await? {
                    return Err(Error::new(
                        ErrorCode::InvalidDpopProof,
                        "the DPoP proof was already used (its jti was seen for this key, method and URI); send a new proof with each request",
                    ));
                }
            }
            scopes.check_claims(&claims)?;
            Ok((claims, confirmed))
        };
        match checked.await {
            Ok((claims, confirmed)) => Ok(Accepted {
                claims,
                token: p.credential.token.to_string(),
                scheme: p.credential.scheme,
                binding: confirmed.binding,
                headers: confirmed
                    .nonce
                    .into_iter()
                    .map(|n| ("DPoP-Nonce".to_string(), n))
                    .collect(),
            }),
            Err(e) => Err(refuse(Some(e), used)),
        }
    }
}
