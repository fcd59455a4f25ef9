//! Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3):
//! `client_secret_basic`, `client_secret_post`, `private_key_jwt` (RFC 7523 §3) with replay
//! protection of assertion ids, and RFC 8705 mutual TLS: `tls_client_auth` (a certificate that
//! chains to `tls.client_ca_file` and names the registered subject DN or SAN) and
//! `self_signed_tls_client_auth` (one of the registered certificates). A client registered with
//! `token_endpoint_auth_method` may use that method only; the TLS methods are used only by
//! clients registered with them, with `client_id` in the body and no other credentials. A JWT-SVID
//! as the client assertion (`spiffe_jwt`) is handled in [`crate::spiffe`], with the SVID verified
//! beforehand (a [`PresentedSvids`]), and so are the keys of a client registered with a
//! `jwks_uri` ([`prefetch`]).

use crate::app::AppState;
use crate::clients::{Client, SELF_SIGNED_TLS_CLIENT_AUTH, SPIFFE_JWT, TLS_CLIENT_AUTH};
use crate::oauth::{form_decode, Form, OAuthError};
use crate::spiffe::PresentedSvids;
use crate::tls::PeerCert;
use authsec_core::access_token::rules::{parse_token, verify_parsed};
use authsec_core::util::b64_std_decode;
use authsec_core::{KeySet, VerifierConfig};
use axum::http::{header, HeaderMap};
use serde_json::Value;
use std::sync::Arc;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A refused request: the error to answer and, when known, the client it claimed to be.
pub type Refusal = (OAuthError, Option<String>);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AuthMethod {
    Basic,
    Post,
    PrivateKeyJwt,
    TlsClientAuth,
    SelfSignedTlsClientAuth,
    SpiffeJwt,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Basic => "client_secret_basic",
            AuthMethod::Post => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::TlsClientAuth => TLS_CLIENT_AUTH,
            AuthMethod::SelfSignedTlsClientAuth => SELF_SIGNED_TLS_CLIENT_AUTH,
            AuthMethod::SpiffeJwt => SPIFFE_JWT,
        }
    }
}

/// An authenticated client: how, and with which of its secrets when a secret did it.
pub struct Authenticated {
    pub client: Client,
    pub method: AuthMethod,
    pub secret_id: Option<String>,
}

/// What a request's client authentication needs fetched or verified before the synchronous
/// part: its JWT-SVIDs, and the keys of a `jwks_uri` client sending a `private_key_jwt`
/// assertion (from the cache; fetched when stale, and once more when the assertion's `kid` is
/// not among them).
pub async fn prefetch(st: &AppState, form: &Form) -> PresentedSvids {
    let mut out = crate::spiffe::verify_presented(st, form).await;
    out.remote_keys = remote_keys(st, form).await;
    out
}

async fn remote_keys(st: &AppState, form: &Form) -> Option<authsec_core::Result<Arc<KeySet>>> {
    if form.get("client_assertion_type") != Some(ASSERTION_TYPE) {
        return None;
    }
    let assertion = form.get("client_assertion")?;
    let (header, claims) = authsec_core::jose::compact::decode_unverified(assertion).ok()?;
    let claimed = match form.get("client_id") {
        Some(id) => id.to_string(),
        None => claims.get("sub")?.as_str()?.to_string(),
    };
    let uri = st.clients.read().get(&claimed)?.jwks_uri.clone()?;
    let cache = match st.remote_jwks(&uri) {
        Ok(c) => c,
        Err(e) => return Some(Err(e)),
    };
    let (mut keys, _) = match cache.keys().await {
        Ok(k) => k,
        Err(e) => return Some(Err(e)),
    };
    if let Some(kid) = header.get("kid").and_then(Value::as_str) {
        if !keys.kids().any(|k| k == kid) {
            if let Some((fresh, _)) = cache.refresh_for_unknown_kid().await {
                keys = fresh;
            }
        }
    }
    Some(Ok(keys))
}

/// Authenticate the calling client with exactly one method (RFC 6749 §2.3), one the client may
/// use. `peer` is the connection's TLS client certificate; `svids` the request's JWT-SVIDs,
/// verified (and a `jwks_uri` client's keys, fetched: see [`prefetch`]).
pub fn authenticate(
    st: &AppState,
    headers: &HeaderMap,
    form: &Form,
    peer: Option<&PeerCert>,
    svids: &PresentedSvids,
) -> Result<Authenticated, Refusal> {
    let (client, method, secret_id) = authenticate_any(st, headers, form, peer, svids)?;
    if !client.accepts_auth_method(method.as_str()) {
        let mut e = OAuthError::invalid_client(format!(
            "this client authenticates with {}, not {}",
            client
                .token_endpoint_auth_method
                .as_deref()
                .unwrap_or("a client secret or private_key_jwt"),
            method.as_str()
        ));
        e.basic_challenge = method == AuthMethod::Basic;
        return Err((e, Some(client.client_id)));
    }
    if let Some(id) = &secret_id {
        st.secret_used(id);
    }
    Ok(Authenticated {
        client,
        method,
        secret_id,
    })
}

type Found = (Client, AuthMethod, Option<String>);

fn authenticate_any(
    st: &AppState,
    headers: &HeaderMap,
    form: &Form,
    peer: Option<&PeerCert>,
    svids: &PresentedSvids,
) -> Result<Found, Refusal> {
    let now = st.now();
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The auth scheme is case-insensitive (RFC 9110 §11.1).
        .and_then(|v| v.get(..6).filter(|p| p.eq_ignore_ascii_case("basic ")).map(|_| &v[6..]));
    let has_secret = form.get("client_secret").is_some();
    let has_assertion = form.get("client_assertion").is_some() || form.get("client_assertion_type").is_some();
    let methods = basic.is_some() as u8 + has_secret as u8 + has_assertion as u8;
    let fail = |e: OAuthError, id: Option<&str>| (e, id.map(str::to_string));
    if methods > 1 {
        return Err(fail(
            OAuthError::invalid_request("use exactly one client authentication method"),
            form.get("client_id"),
        ));
    }
    let find = |id: &str| st.clients.read().get(id).cloned();
    if let Some(b64) = basic {
        let decoded = b64_std_decode(b64.trim()).and_then(|b| String::from_utf8(b).ok());
        let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            let mut e = OAuthError::invalid_client("the Basic credentials are not base64(client_id:client_secret)");
            e.basic_challenge = true;
            return Err(fail(e, None));
        };
        let (Some(id), Some(secret)) = (form_decode(id), form_decode(secret)) else {
            let mut e =
                OAuthError::invalid_client("the Basic credentials are not form-encoded as RFC 6749 §2.3.1 requires");
            e.basic_challenge = true;
            return Err(fail(e, None));
        };
        if form.get("client_id").is_some_and(|f| f != id) {
            return Err(fail(
                OAuthError::invalid_request("client_id in the body differs from the Basic credentials"),
                Some(&id),
            ));
        }
        let found = find(&id).and_then(|c| {
            let sid = c.matching_secret(&secret, now)?.id.clone();
            Some((c, sid))
        });
        return match found {
            Some((c, sid)) => Ok((c, AuthMethod::Basic, Some(sid))),
            _ => {
                let mut e = OAuthError::invalid_client("client authentication failed (unknown client or wrong secret)");
                e.basic_challenge = true;
                Err(fail(e, Some(&id)))
            }
        };
    }
    if has_secret {
        let id = form.get("client_id").unwrap_or_default();
        let given = form.get("client_secret").unwrap_or_default();
        let found = find(id).and_then(|c| {
            let sid = c.matching_secret(given, now)?.id.clone();
            Some((c, sid))
        });
        return match found {
            Some((c, sid)) => Ok((c, AuthMethod::Post, Some(sid))),
            _ => Err(fail(
                OAuthError::invalid_client("client authentication failed (unknown client or wrong secret)"),
                Some(id),
            )),
        };
    }
    if has_assertion && form.get("client_assertion_type") == Some(crate::spiffe::JWT_SPIFFE_ASSERTION_TYPE) {
        return crate::spiffe::authenticate_assertion(st, form, svids).map(|c| (c, AuthMethod::SpiffeJwt, None));
    }
    if has_assertion {
        return authenticate_assertion(st, form, now, svids).map(|c| (c, AuthMethod::PrivateKeyJwt, None));
    }
    if let Some(c) = form.get("client_id").and_then(find) {
        if crate::clients::is_tls_method(c.token_endpoint_auth_method.as_deref()) {
            return authenticate_tls(st, c, peer).map(|(c, m)| (c, m, None));
        }
        if c.is_public() {
            return Err(fail(
                OAuthError::invalid_client(
                    "this is a public client (token_endpoint_auth_method none): it cannot authenticate, and \
                     this endpoint serves confidential clients only",
                ),
                Some(&c.client_id),
            ));
        }
    }
    let mut e = OAuthError::invalid_client(
        "no client authentication; use HTTP Basic, client_secret in the body, a private_key_jwt client_assertion, \
         a JWT-SVID client_assertion (jwt-spiffe), or (for a client registered with it) mutual TLS with client_id \
         in the body",
    );
    e.basic_challenge = true;
    Err(fail(e, form.get("client_id")))
}

/// RFC 7523 §3: verify a client assertion with the client's registered public keys.
fn authenticate_assertion(st: &AppState, form: &Form, now: i64, svids: &PresentedSvids) -> Result<Client, Refusal> {
    let bad = |d: String, id: Option<&str>| (OAuthError::invalid_client(d), id.map(str::to_string));
    if form.get("client_assertion_type") != Some(ASSERTION_TYPE) {
        return Err((
            OAuthError::invalid_request(format!("client_assertion_type must be {ASSERTION_TYPE}")),
            None,
        ));
    }
    let assertion = form
        .get("client_assertion")
        .ok_or_else(|| (OAuthError::invalid_request("client_assertion is missing"), None))?;
    // Who claims to be calling: `client_id` parameter, else the assertion's (unverified) `sub`.
    let claimed = match form.get("client_id") {
        Some(id) => id.to_string(),
        None => authsec_core::jose::compact::decode_unverified(assertion)
            .ok()
            .and_then(|(_, c)| c.get("sub").and_then(Value::as_str).map(str::to_string))
            .ok_or_else(|| bad("the client assertion is not a JWT with a sub claim".into(), None))?,
    };
    let client = st
        .clients
        .read()
        .get(&claimed)
        .cloned()
        .ok_or_else(|| bad("client authentication failed (unknown client)".into(), Some(&claimed)))?;
    let keys: Arc<KeySet> = match (&client.jwks, &client.jwks_uri, &svids.remote_keys) {
        (Some(jwks), _, _) => Arc::new(KeySet::from_jwks_value(jwks).map_err(|e| {
            bad(
                format!("the client's registered JWKS is unusable ({})", e.code()),
                Some(&claimed),
            )
        })?),
        (None, Some(_), Some(Ok(keys))) => keys.clone(),
        (None, Some(uri), Some(Err(e))) => {
            let mut o = OAuthError::new(
                503,
                "temporarily_unavailable",
                format!(
                    "the client's jwks_uri {} could not be fetched ({}); retry shortly",
                    authsec_core::util::quoted(uri),
                    e.code()
                ),
            );
            o.retry_after = Some(5);
            return Err((o, Some(claimed)));
        }
        _ => {
            return Err(bad(
                "this client has no registered keys for private_key_jwt".into(),
                Some(&claimed),
            ))
        }
    };
    let cfg = VerifierConfig {
        issuer: Some(claimed.clone()),
        audiences: vec![st.token_endpoint(), st.issuer.clone()],
        required_claims: vec!["sub".into(), "jti".into()],
        leeway: std::time::Duration::from_secs(30),
        verified_cache_size: 0,
        ..Default::default()
    };
    let claims = parse_token(assertion, &cfg)
        .and_then(|p| verify_parsed(&p, &keys, &cfg, now * 1000))
        .map_err(|e| bad(format!("the client assertion was rejected: {}", e), Some(&claimed)))?;
    if claims.subject() != Some(claimed.as_str()) {
        return Err(bad(
            "the client assertion's sub must equal its iss (the client_id)".into(),
            Some(&claimed),
        ));
    }
    if claims.expires_at() > now + 3600 {
        return Err(bad(
            "the client assertion expires more than an hour from now; use a short-lived assertion".into(),
            Some(&claimed),
        ));
    }
    let jti = claims.jti().unwrap_or_default();
    let fresh = st
        .store
        .use_assertion(&format!("{claimed}:{jti}"), claims.expires_at())
        .map_err(|e| (OAuthError::from(e), Some(claimed.clone())))?;
    if !fresh {
        return Err(bad(
            "the client assertion was already used (jti replay)".into(),
            Some(&claimed),
        ));
    }
    Ok(client)
}

/// RFC 8705 §2: the connection's client certificate authenticates `client`.
fn authenticate_tls(st: &AppState, client: Client, peer: Option<&PeerCert>) -> Result<(Client, AuthMethod), Refusal> {
    let method = client.token_endpoint_auth_method.clone().unwrap_or_default();
    let bad = |d: String| (OAuthError::invalid_client(d), Some(client.client_id.clone()));
    let Some(peer) = peer else {
        return Err(bad(format!(
            "this client authenticates with {method}: connect over HTTPS and present its client certificate"
        )));
    };
    if method == SELF_SIGNED_TLS_CLIENT_AUTH {
        let registered = crate::tls::registered_certificates(client.jwks.as_ref()).unwrap_or_default();
        let thumb = peer.x5t_s256();
        let known = registered.iter().any(|der| der.as_slice() == peer.der.as_slice())
            || client.tls_client_certificate_sha256.as_deref() == Some(thumb.as_str());
        if !known {
            return Err(bad(format!(
                "the TLS client certificate (x5t#S256 {thumb}) is not one registered for this client"
            )));
        }
        return Ok((client, AuthMethod::SelfSignedTlsClientAuth));
    }
    if st.cfg.tls.as_ref().and_then(|t| t.client_ca_file.as_ref()).is_none() {
        return Err(bad(
            "tls_client_auth needs the server's tls.client_ca_file, and none is configured".into(),
        ));
    }
    if !peer.ca_verified {
        return Err(bad(
            "the TLS client certificate does not chain to the server's tls.client_ca_file (or is expired or not for client authentication)".into(),
        ));
    }
    let (dns, uris) = peer.sans();
    let matched = if let Some(dn) = &client.tls_client_auth_subject_dn {
        peer.subject_dn().is_some_and(|s| crate::tls::same_dn(dn, &s))
    } else if let Some(d) = &client.tls_client_auth_san_dns {
        dns.iter().any(|x| x.eq_ignore_ascii_case(d))
    } else if let Some(u) = &client.tls_client_auth_san_uri {
        uris.iter().any(|x| x == u)
    } else {
        false
    };
    if !matched {
        return Err(bad(
            "the TLS client certificate does not name this client's registered subject DN or SAN".into(),
        ));
    }
    Ok((client, AuthMethod::TlsClientAuth))
}
