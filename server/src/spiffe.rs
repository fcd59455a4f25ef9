//! SPIFFE workload identity at the token endpoint: clients registered with a `spiffe_id` (an
//! exact SPIFFE ID, a trust domain or a path prefix) authenticate with a JWT-SVID instead of a
//! secret, as the client assertion (`spiffe_jwt`: `client_assertion_type`
//! `urn:ietf:params:oauth:client-assertion-type:jwt-spiffe`, draft-ietf-oauth-spiffe-client-auth)
//! or as the assertion of the RFC 7523 JWT-bearer grant.
//!
//! The SVID must be for this server's issuer alone (`aud` = the issuer, one value; the token
//! endpoint's URL is refused, as the draft wants the issuer). Its trust domain's bundle comes
//! from the config's `spiffe.trust_domains`: inline, a file (read again when it changes, looked
//! at once a second at most), or a SPIFFE bundle endpoint (fetched again as its refresh hint
//! says). SVIDs are verified in the async part of a request ([`verify_presented`]), since a bundle
//! endpoint may need a fetch; the synchronous part then picks the client ([`select_client`]):
//! the one `client_id` names (its pattern must admit the SVID's ID), else the one whose pattern
//! admits it, the most specific winning (an exact ID, then the longest path prefix, then a trust
//! domain); two equally specific patterns are ambiguous. SVIDs are reusable by design, so there is
//! no `jti` replay check.

use crate::app::AppState;
use crate::client_auth::{AuthMethod, Refusal};
use crate::clients::{Client, SPIFFE_JWT};
use crate::config::{SpiffeConfig, TrustDomainBundle};
use crate::oauth::{Form, OAuthError, GRANT_JWT_BEARER};
pub use authsec_core::client::workload_identity::JWT_SPIFFE_ASSERTION_TYPE;
use authsec_core::runtime::BoxFut;
use authsec_core::spiffe::bundle_source::TrustDomainSources;
use authsec_core::spiffe::{
    BundleEndpoint, BundleEndpointPolicy, BundleSet, BundleSource, IdPattern, JwtBundle, JwtSvid, JwtSvidPolicy,
    JwtSvidVerifier, SpiffeId, StaticBundles, TrustDomain,
};
use authsec_core::util::quoted;
use authsec_core::{Clock, Error, ErrorCode, Result};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::SystemTime;

/// The server's SPIFFE trust: a JWT-SVID verifier for its issuer over the configured bundles.
pub struct Spiffe {
    verifier: JwtSvidVerifier,
}

impl Spiffe {
    /// Build once at startup: bundle files are read and inline bundles parsed now; bundle
    /// endpoints are fetched at the first SVID of their trust domain.
    pub fn new(cfg: &SpiffeConfig, issuer: &str, clock: Arc<dyn Clock>) -> Result<Spiffe> {
        check_config(cfg)?;
        let mut sources = TrustDomainSources::new();
        for (name, spec) in &cfg.trust_domains {
            let td = TrustDomain::parse(name).map_err(|e| field_error(name, e.message()))?;
            let source: Arc<dyn BundleSource> = if let Some(v) = &spec.bundle {
                let mut set = BundleSet::new();
                set.insert(inline_bundle(&td, v).map_err(|e| field_error(name, e.message()))?)?;
                Arc::new(StaticBundles(set))
            } else if let Some(path) = &spec.bundle_file {
                Arc::new(BundleFile::open(td.clone(), path, clock.clone()).map_err(|e| field_error(name, e.message()))?)
            } else if let Some(url) = &spec.bundle_endpoint {
                let endpoint = BundleEndpoint::new(
                    url,
                    td.clone(),
                    authsec_native::HttpTransport::shared(),
                    clock.clone(),
                    BundleEndpointPolicy::default(),
                )
                .map_err(|e| field_error(name, e.message()))?;
                Arc::new(endpoint)
            } else {
                unreachable!("check_config requires one of the three")
            };
            sources.insert(td, source);
        }
        if let Some(endpoint) = workload_api_endpoint(cfg)? {
            // Startup waits (bounded) for the agent's first bundles, as go-spiffe's sources do.
            let api = authsec_native::spiffe::workload_api(endpoint.as_deref())?;
            let watched = authsec_native::block_on(authsec_native::spiffe::WatchedBundles::start(&api))?;
            sources.set_fallback(Arc::new(watched));
        }
        let mut policy = JwtSvidPolicy::new(vec![issuer.to_string()]);
        policy.sole_audience = true;
        let verifier = JwtSvidVerifier::new(policy, Arc::new(sources), clock)?;
        Ok(Spiffe { verifier })
    }

    /// Verify a JWT-SVID, fetching its trust domain's bundle when needed.
    pub async fn verify(&self, token: &str) -> Result<JwtSvid> {
        match self.verifier.verify_now(token) {
            Some(r) => r,
            None => self.verifier.verify(token).await,
        }
    }
}

/// `spiffe.workload_api`: `None` when off, `Some(None)` for `SPIFFE_ENDPOINT_SOCKET`, else the
/// endpoint given.
fn workload_api_endpoint(cfg: &SpiffeConfig) -> Result<Option<Option<String>>> {
    match &cfg.workload_api {
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => Ok(None),
        Some(serde_json::Value::Bool(true)) => Ok(Some(None)),
        Some(serde_json::Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(Error::config(
            "spiffe.workload_api is true or the agent's endpoint (unix:///path/agent.sock)",
        )),
    }
}

fn field_error(td: &str, why: &str) -> Error {
    Error::config(format!("spiffe.trust_domains.{}: {why}", quoted(td)))
}

fn inline_bundle(td: &TrustDomain, v: &serde_json::Value) -> Result<JwtBundle> {
    match v {
        serde_json::Value::String(s) => JwtBundle::parse(td.clone(), s.as_bytes()),
        v => JwtBundle::from_value(td.clone(), v),
    }
}

/// The checks of the `spiffe` section that need no I/O: at least one trust domain, valid names,
/// exactly one bundle source each, inline bundles that parse.
pub fn check_config(cfg: &SpiffeConfig) -> Result<()> {
    if cfg.trust_domains.is_empty() && workload_api_endpoint(cfg)?.is_none() {
        return Err(Error::config(
            "spiffe.trust_domains is empty; name at least one trust domain and its bundle \
             (bundle, bundle_file or bundle_endpoint), or set spiffe.workload_api",
        ));
    }
    for (name, spec) in &cfg.trust_domains {
        let td = TrustDomain::parse(name).map_err(|e| field_error(name, e.message()))?;
        let TrustDomainBundle {
            bundle,
            bundle_file,
            bundle_endpoint,
        } = spec;
        let given = bundle.is_some() as u8 + bundle_file.is_some() as u8 + bundle_endpoint.is_some() as u8;
        if given != 1 {
            return Err(field_error(
                name,
                "give exactly one of bundle, bundle_file and bundle_endpoint",
            ));
        }
        if let Some(v) = bundle {
            inline_bundle(&td, v).map_err(|e| field_error(name, &format!("bundle: {}", e.message())))?;
        }
    }
    Ok(())
}

/// What a client registered with a `spiffe_id` (or `spiffe_jwt`) needs of the server: its
/// `spiffe` section.
pub fn check_client(client: &Client, configured: bool) -> Result<()> {
    let uses = client.spiffe_id.is_some() || client.token_endpoint_auth_method.as_deref() == Some(SPIFFE_JWT);
    if uses && !configured {
        return Err(Error::config(format!(
            "client {}: spiffe_id and spiffe_jwt need the server's spiffe section (spiffe: trust_domains: ...)",
            client.client_id
        )));
    }
    Ok(())
}

/// One trust domain's bundle in a file, read again when the file's modification time or size
/// changes (looked at once a second at most); a file that cannot be read or parsed then leaves
/// the last good bundle in place and is tried again a second later.
struct BundleFile {
    td: TrustDomain,
    path: String,
    clock: Arc<dyn Clock>,
    state: Mutex<FileState>,
}

struct FileState {
    checked_ms: i64,
    stamp: Option<(SystemTime, u64)>,
    bundle: Arc<JwtBundle>,
}

impl BundleFile {
    fn open(td: TrustDomain, path: &str, clock: Arc<dyn Clock>) -> Result<BundleFile> {
        let (stamp, bundle) = read_bundle_file(&td, path)?;
        Ok(BundleFile {
            state: Mutex::new(FileState {
                checked_ms: clock.now_ms(),
                stamp,
                bundle: Arc::new(bundle),
            }),
            td,
            path: path.to_string(),
            clock,
        })
    }

    fn current(&self, now_ms: i64) -> Arc<JwtBundle> {
        let mut s = self.state.lock();
        if now_ms >= s.checked_ms && now_ms - s.checked_ms < 1000 {
            return s.bundle.clone();
        }
        s.checked_ms = now_ms;
        if stamp_of(&self.path).is_some_and(|st| Some(st) != s.stamp) {
            if let Ok((stamp, bundle)) = read_bundle_file(&self.td, &self.path) {
                s.stamp = stamp;
                s.bundle = Arc::new(bundle);
            }
        }
        s.bundle.clone()
    }
}

fn stamp_of(path: &str) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

fn read_bundle_file(td: &TrustDomain, path: &str) -> Result<(Option<(SystemTime, u64)>, JwtBundle)> {
    let stamp = stamp_of(path);
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::config(format!("cannot read the bundle file {path:?}: {e}")))?;
    let set = BundleSet::from_json(&text, Some(td))?;
    let bundle = set
        .get(td)
        .ok_or_else(|| Error::config(format!("the bundle file {path:?} holds no bundle for {td}")))?;
    Ok((stamp, (**bundle).clone()))
}

impl BundleSource for BundleFile {
    fn bundle_now(&self, td: &TrustDomain, now_ms: i64) -> Option<Option<Arc<JwtBundle>>> {
        Some((*td == self.td).then(|| self.current(now_ms)))
    }
    fn bundle<'a>(&'a self, td: &'a TrustDomain) -> BoxFut<'a, Result<Option<Arc<JwtBundle>>>> {
        let b = self.bundle_now(td, self.clock.now_ms()).flatten();
        Box::pin(async move { Ok(b) })
    }
    fn describe(&self) -> String {
        format!("the bundle file {} ({})", self.path, self.td)
    }
}

/// The JWT-SVIDs a request presents, verified before its synchronous handling.
#[derive(Default)]
pub struct PresentedSvids {
    /// `client_assertion`, when `client_assertion_type` is jwt-spiffe.
    pub client_assertion: Option<Result<JwtSvid>>,
    /// `assertion` of the JWT-bearer grant.
    pub grant: Option<Result<JwtSvid>>,
    /// The keys of a client registered with a `jwks_uri` whose `private_key_jwt` assertion the
    /// request carries, fetched (see [`crate::client_auth::prefetch`]).
    pub remote_keys: Option<Result<std::sync::Arc<authsec_core::KeySet>>>,
}

impl PresentedSvids {
    /// The SPIFFE ID that authenticated the client (for the audit log), when one did.
    pub fn spiffe_id(&self) -> Option<&SpiffeId> {
        [&self.client_assertion, &self.grant]
            .into_iter()
            .find_map(|s| s.as_ref().and_then(|r| r.as_ref().ok()))
            .map(|s| &s.spiffe_id)
    }
}

/// Verify the SVIDs of a request (nothing when the server has no `spiffe` section).
pub async fn verify_presented(st: &AppState, form: &Form) -> PresentedSvids {
    let Some(sp) = &st.spiffe else {
        return PresentedSvids::default();
    };
    let mut out = PresentedSvids::default();
    if form.get("client_assertion_type") == Some(JWT_SPIFFE_ASSERTION_TYPE) {
        if let Some(t) = form.get("client_assertion") {
            out.client_assertion = Some(sp.verify(t).await);
        }
    }
    if form.get("grant_type") == Some(GRANT_JWT_BEARER) {
        if let Some(t) = form.get("assertion") {
            out.grant = Some(sp.verify(t).await);
        }
    }
    out
}

/// A refused SVID: `refuse` (invalid_client or invalid_grant) naming the core's reason, or 503
/// when the bundle could not be had.
fn svid_refusal(e: &Error, refuse: fn(String) -> OAuthError, what: &str) -> OAuthError {
    if e.code() == ErrorCode::JwksUnavailable {
        let mut o = OAuthError::new(
            503,
            "temporarily_unavailable",
            format!(
                "the trust bundle for the JWT-SVID is unavailable ({}); retry shortly",
                e.code()
            ),
        );
        o.retry_after = Some(10);
        return o;
    }
    refuse(format!(
        "the JWT-SVID {what} was rejected ({}): {}",
        e.code(),
        e.message()
    ))
}

fn invalid_grant(d: String) -> OAuthError {
    OAuthError::new(400, "invalid_grant", d)
}

fn no_spiffe() -> OAuthError {
    OAuthError::invalid_client(
        "this server trusts no SPIFFE workloads (its config has no spiffe section); JWT-SVIDs are not accepted",
    )
}

/// `client_assertion_type=jwt-spiffe`: the client the verified SVID (and `client_id`) selects.
pub fn authenticate_assertion(st: &AppState, form: &Form, svids: &PresentedSvids) -> Result<Client, Refusal> {
    let claimed = || form.get("client_id").map(str::to_string);
    if st.spiffe.is_none() {
        return Err((no_spiffe(), claimed()));
    }
    let svid = match &svids.client_assertion {
        _ if form.get("client_assertion").is_none() => {
            return Err((OAuthError::invalid_request("client_assertion is missing"), claimed()))
        }
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            return Err((
                svid_refusal(e, OAuthError::invalid_client, "client assertion"),
                claimed(),
            ))
        }
        None => return Err((OAuthError::server_error("the JWT-SVID was not verified"), claimed())),
    };
    select_client(st, form.get("client_id"), &svid.spiffe_id)
}

/// Whether a request carries client credentials of its own (Basic, a secret, an assertion).
fn has_client_credentials(headers: &axum::http::HeaderMap, form: &Form) -> bool {
    headers.contains_key(axum::http::header::AUTHORIZATION)
        || form.get("client_secret").is_some()
        || form.get("client_assertion").is_some()
        || form.get("client_assertion_type").is_some()
}

/// The JWT-bearer grant: the SVID in `assertion` is the proof. A request with client credentials
/// authenticates with them, and the SVID must then be one the client's `spiffe_id` admits;
/// without, the SVID (and `client_id`) selects the client, as with `spiffe_jwt`.
pub fn jwt_bearer_client(
    st: &AppState,
    headers: &axum::http::HeaderMap,
    form: &Form,
    peer: Option<&crate::tls::PeerCert>,
    svids: &PresentedSvids,
) -> Result<crate::client_auth::Authenticated, Refusal> {
    let claimed = || form.get("client_id").map(str::to_string);
    let svid = match &svids.grant {
        _ if form.get("assertion").is_none() => {
            return Err((
                OAuthError::invalid_request("assertion is missing: the JWT-bearer grant carries the JWT-SVID there"),
                claimed(),
            ))
        }
        Some(Ok(s)) => s,
        Some(Err(e)) => return Err((svid_refusal(e, invalid_grant, "assertion"), claimed())),
        None => return Err((OAuthError::server_error("the JWT-SVID was not verified"), claimed())),
    };
    if has_client_credentials(headers, form) {
        let authn = crate::client_auth::authenticate(st, headers, form, peer, svids)?;
        let client = &authn.client;
        let admitted = client
            .spiffe_id
            .as_deref()
            .and_then(|p| IdPattern::parse(p).ok())
            .is_some_and(|p| p.matches(&svid.spiffe_id));
        if !admitted {
            return Err((
                invalid_grant(format!(
                    "the assertion's SPIFFE ID {} is not one client {}'s spiffe_id admits",
                    quoted(svid.spiffe_id.as_str()),
                    quoted(&client.client_id)
                )),
                Some(client.client_id.clone()),
            ));
        }
        return Ok(authn);
    }
    let client = select_client(st, form.get("client_id"), &svid.spiffe_id)?;
    if !client.accepts_auth_method(SPIFFE_JWT) {
        return Err((
            OAuthError::invalid_client(format!(
                "this client authenticates with {}; send its credentials with the JWT-bearer grant",
                client
                    .token_endpoint_auth_method
                    .as_deref()
                    .unwrap_or("its credentials")
            )),
            Some(client.client_id),
        ));
    }
    Ok(crate::client_auth::Authenticated {
        client,
        method: AuthMethod::SpiffeJwt,
        secret_id: None,
    })
}

/// How specific a pattern is: an exact ID, then a path prefix (the longer the more specific),
/// then a trust domain.
fn specificity(p: &IdPattern) -> (u8, usize) {
    match p {
        IdPattern::Exact(_) => (2, 0),
        IdPattern::PathPrefix(_, prefix) => (1, prefix.len()),
        IdPattern::TrustDomain(_) => (0, 0),
    }
}

/// The client a verified SPIFFE ID authenticates: the one `client_id` names (its `spiffe_id`
/// must admit the ID; a `client_id` that is the SPIFFE ID itself and names no client selects as
/// if absent, as the draft lets clients use their SPIFFE ID as `client_id`), else the client
/// whose pattern admits it most specifically.
pub fn select_client(st: &AppState, client_id: Option<&str>, id: &SpiffeId) -> Result<Client, Refusal> {
    let clients = st.clients.read();
    let refuse = |d: String, cid: Option<&str>| Err((OAuthError::invalid_client(d), cid.map(str::to_string)));
    if let Some(cid) = client_id {
        match clients.get(cid) {
            Some(c) => {
                let Some(pattern) = c.spiffe_id.as_deref() else {
                    return refuse(
                        "this client has no spiffe_id; it cannot authenticate with a JWT-SVID".into(),
                        Some(cid),
                    );
                };
                if !IdPattern::parse(pattern).is_ok_and(|p| p.matches(id)) {
                    return refuse(
                        format!(
                            "the JWT-SVID's SPIFFE ID {} does not match this client's spiffe_id {}",
                            quoted(id.as_str()),
                            quoted(pattern)
                        ),
                        Some(cid),
                    );
                }
                return Ok(c.clone());
            }
            None if cid != id.as_str() => {
                return refuse("client authentication failed (unknown client)".into(), Some(cid));
            }
            None => {}
        }
    }
    let mut best: Vec<(&Client, (u8, usize))> = Vec::new();
    for c in clients.values() {
        let Some(p) = c.spiffe_id.as_deref().and_then(|p| IdPattern::parse(p).ok()) else {
            continue;
        };
        if !p.matches(id) {
            continue;
        }
        let s = specificity(&p);
        match best.first().map(|b| b.1) {
            Some(top) if top > s => {}
            Some(top) if top == s => best.push((c, s)),
            _ => best = vec![(c, s)],
        }
    }
    match best.as_slice() {
        [] => refuse(
            format!(
                "no client is registered for the SPIFFE ID {} (spiffe_id)",
                quoted(id.as_str())
            ),
            client_id,
        ),
        [(c, _)] => Ok((*c).clone()),
        many => {
            let mut ids: Vec<&str> = many.iter().map(|(c, _)| c.client_id.as_str()).collect();
            ids.sort();
            refuse(
                format!(
                    "the SPIFFE ID {} is ambiguous: the spiffe_id of clients {} match it equally; send client_id",
                    quoted(id.as_str()),
                    ids.iter().map(|i| quoted(i)).collect::<Vec<_>>().join(", ")
                ),
                client_id,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_rank_exact_then_longest_prefix_then_trust_domain() {
        let p = |s: &str| specificity(&IdPattern::parse(s).unwrap());
        assert!(p("spiffe://td/a/b") > p("spiffe://td/a/b/*"));
        assert!(p("spiffe://td/a/b/*") > p("spiffe://td/a/*"));
        assert!(p("spiffe://td/a/*") > p("spiffe://td"));
    }

    #[test]
    fn the_section_names_what_is_wrong() {
        let cfg = |v: serde_json::Value| -> SpiffeConfig { serde_json::from_value(v).unwrap() };
        let e = check_config(&cfg(serde_json::json!({"trust_domains": {}}))).unwrap_err();
        assert!(e.message().contains("spiffe.trust_domains is empty"), "{e}");
        let e = check_config(&cfg(serde_json::json!({"trust_domains": {"example.org": {}}}))).unwrap_err();
        assert!(e.message().contains("\"example.org\": give exactly one"), "{e}");
        let e = check_config(&cfg(
            serde_json::json!({"trust_domains": {"Example.org": {"bundle_file": "x"}}}),
        ))
        .unwrap_err();
        assert!(e.message().contains("spiffe.trust_domains.\"Example.org\""), "{e}");
        let e = check_config(&cfg(
            serde_json::json!({"trust_domains": {"example.org": {"bundle": {"nokeys": 1}}}}),
        ))
        .unwrap_err();
        assert!(e.message().contains("bundle: "), "{e}");
        let bad: std::result::Result<SpiffeConfig, _> =
            serde_json::from_value(serde_json::json!({"trust_domains": {"example.org": {"bundel": {}}}}));
        assert!(bad.unwrap_err().to_string().contains("bundel"));
    }
}
