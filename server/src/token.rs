//! The token endpoint: the grant type is routed, the client authenticated, its grant types and
//! rate limit checked, then the client credentials grant (and the JWT-bearer grant of a SPIFFE
//! workload, which issues alike: see [`crate::spiffe`]) is served here and the token exchange
//! grant in [`crate::exchange`]. JWT-SVIDs are verified first, in the async handler. Claim building and signing are shared by both grants, and so is
//! the binding of the token to a DPoP key or a TLS client certificate ([`crate::dpop`]).

use crate::app::{audit_failure, read_form, AppState};
use crate::client_auth::{authenticate, AuthMethod, Authenticated, Refusal};
use crate::clients::Client;
use crate::dpop::Binding;
use crate::management_auth::{self, is_management_scope};
use crate::oauth::{
    json_no_store, set_dpop_nonce, Form, OAuthError, GRANT_CLIENT_CREDENTIALS, GRANT_JWT_BEARER, GRANT_TOKEN_EXCHANGE,
};
use crate::spiffe::PresentedSvids;
use crate::tls::PeerCert;
use authsec_core::random::random_id;
use authsec_core::util::{quoted, truncate};
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Map, Value};
use std::sync::Arc;

pub async fn token(
    State(st): State<Arc<AppState>>,
    peer: Option<Extension<PeerCert>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let form = match read_form(&headers, body).await {
        Ok(f) => f,
        Err(e) => {
            audit_failure(&st, "token", &e, None);
            return e.into_response();
        }
    };
    let event = if form.get("grant_type") == Some(GRANT_TOKEN_EXCHANGE) {
        "token_exchange"
    } else {
        "token"
    };
    // A bundle endpoint or a jwks_uri may need a fetch: SVIDs are verified (and a jwks_uri
    // client's keys fetched) here, before the synchronous part.
    let svids = crate::client_auth::prefetch(&st, &form).await;
    match issue(&st, &headers, &form, peer.as_ref().map(|p| &p.0), &svids) {
        Ok(r) => r,
        Err((e, client)) => {
            audit_failure(&st, event, &e, client.as_deref());
            e.into_response()
        }
    }
}

fn issue(
    st: &AppState,
    headers: &HeaderMap,
    form: &Form,
    peer: Option<&PeerCert>,
    svids: &PresentedSvids,
) -> Result<Response, Refusal> {
    let claimed = || form.get("client_id").map(str::to_string);
    let grant = match form.get("grant_type") {
        None => {
            return Err((
                OAuthError::invalid_request(format!(
                    "grant_type is missing; use grant_type={GRANT_CLIENT_CREDENTIALS} (or {GRANT_TOKEN_EXCHANGE})"
                )),
                claimed(),
            ))
        }
        Some(g) if g == GRANT_CLIENT_CREDENTIALS || g == GRANT_TOKEN_EXCHANGE => g,
        Some(g) if g == GRANT_JWT_BEARER && st.spiffe.is_some() => g,
        Some(g) => {
            return Err((
                OAuthError::new(
                    400,
                    "unsupported_grant_type",
                    format!(
                        "grant_type {} is not supported here; use {GRANT_CLIENT_CREDENTIALS} or {GRANT_TOKEN_EXCHANGE}",
                        quoted(g)
                    ),
                ),
                claimed(),
            ))
        }
    };
    let proof = crate::dpop::check_proof(st, headers).map_err(|e| (e, claimed()))?;
    let authn = if grant == GRANT_JWT_BEARER {
        crate::spiffe::jwt_bearer_client(st, headers, form, peer, svids)?
    } else {
        authenticate(st, headers, form, peer, svids)?
    };
    let (client, method) = (&authn.client, authn.method);
    let spiffe_id = (method == AuthMethod::SpiffeJwt || grant == GRANT_JWT_BEARER)
        .then(|| svids.spiffe_id().map(|i| i.to_string()))
        .flatten();
    let cid = Some(client.client_id.clone());
    if !client.may_use_grant(grant) {
        return Err((
            OAuthError::new(
                400,
                "unauthorized_client",
                format!(
                    "client {} may not use grant_type {grant}; an admin can add it to the client's grant_types",
                    quoted(&client.client_id)
                ),
            ),
            cid,
        ));
    }
    let now_ms = st.clock.now_ms();
    if let Err(wait) = st.limiter.check(
        &client.client_id,
        client.requests_per_minute().unwrap_or(st.cfg.rate_limit),
        now_ms,
    ) {
        let mut e = OAuthError::new(
            429,
            "slow_down",
            format!("too many token requests for this client; retry in {wait} s"),
        );
        e.retry_after = Some(wait);
        return Err((e, cid));
    }
    let per_day = client.rate_limits.and_then(|r| r.tokens_per_day);
    if let Some(limit) = per_day {
        if let Err(wait) = st.daily.take(&client.client_id, limit, now_ms) {
            let mut e = OAuthError::new(
                429,
                "slow_down",
                format!(
                    "this client may get {limit} tokens per day (rate_limits.tokens_per_day) and has had them; \
                     the count resets at midnight UTC, in {wait} s"
                ),
            );
            e.retry_after = Some(wait);
            return Err((e, cid));
        }
    }
    let issued = (|| {
        let binding = Binding::for_request(client, proof.as_ref(), peer).map_err(|e| (e, cid.clone()))?;
        if let Some(p) = &proof {
            crate::dpop::record_use(st, p).map_err(|e| (e, cid.clone()))?;
        }
        if grant == GRANT_TOKEN_EXCHANGE {
            crate::exchange::exchange(st, &authn, form, &binding, spiffe_id.as_deref())
        } else {
            client_credentials(st, &authn, form, &binding, spiffe_id.as_deref())
        }
    })();
    if issued.is_err() && per_day.is_some() {
        st.daily.give_back(&client.client_id, now_ms);
    }
    let mut resp = issued?;
    if let Some(n) = proof.as_ref().and_then(|p| p.renewed_nonce.as_deref()) {
        set_dpop_nonce(&mut resp, n);
    }
    Ok(resp)
}

/// The scopes of a `scope` parameter in order, each once; `None` when it is absent or blank.
pub(crate) fn requested_scopes(form: &Form) -> Option<Vec<String>> {
    let s = form.get("scope").map(str::trim).filter(|s| !s.is_empty())?;
    let mut req: Vec<String> = Vec::new();
    for x in s.split(' ').filter(|x| !x.is_empty()) {
        if !req.iter().any(|r| r == x) {
            req.push(x.to_string());
        }
    }
    Some(req)
}

/// Names for an error description: quoted and truncated.
pub(crate) fn names(items: &[&str]) -> String {
    items.iter().map(|s| quoted(s)).collect::<Vec<_>>().join(", ")
}

fn invalid_scope(d: String) -> OAuthError {
    OAuthError::new(400, "invalid_scope", d)
}

/// The scopes and audience of a management token (`resource` or `audience` =
/// `{issuer}/admin`, alone): only management scopes, requested ∩ held, or every one held.
fn management_grant(st: &AppState, client: &Client, form: &Form) -> Result<(Vec<String>, Vec<String>), OAuthError> {
    let admin = management_auth::audience(&st.issuer);
    let targets: Vec<&str> = form.get("audience").into_iter().chain(form.all("resource")).collect();
    if let Some(other) = targets.iter().find(|a| !crate::roles::same_audience(&admin, a)) {
        return Err(OAuthError::new(
            400,
            "invalid_target",
            format!(
                "the management API ({admin}) cannot be named with another resource ({}); ask for its token alone",
                quoted(other)
            ),
        ));
    }
    let held = management_auth::held_scopes(client, &st.roles.read());
    if held.is_empty() {
        return Err(OAuthError::new(
            400,
            "invalid_target",
            format!(
                "client {} is not a management client (it holds no management scope), so it gets no token for {admin}",
                quoted(&client.client_id)
            ),
        ));
    }
    let scopes = match requested_scopes(form) {
        None => held,
        Some(req) => {
            let other: Vec<&str> = req
                .iter()
                .map(String::as_str)
                .filter(|s| !is_management_scope(s))
                .collect();
            if !other.is_empty() {
                return Err(invalid_scope(format!(
                    "a token for the management API carries only management scopes; {} {} not one",
                    names(&other),
                    if other.len() == 1 { "is" } else { "are" }
                )));
            }
            let denied: Vec<&str> = req
                .iter()
                .map(String::as_str)
                .filter(|s| !held.iter().any(|h| h == s))
                .collect();
            if !denied.is_empty() {
                return Err(invalid_scope(format!(
                    "management scope(s) not allowed for this client: {}",
                    names(&denied)
                )));
            }
            req
        }
    };
    Ok((scopes, vec![admin]))
}

fn client_credentials(
    st: &AppState,
    authn: &Authenticated,
    form: &Form,
    binding: &Binding,
    spiffe_id: Option<&str>,
) -> Result<Response, Refusal> {
    let client = &authn.client;
    let cid = || Some(client.client_id.clone());
    let admin = management_auth::audience(&st.issuer);
    let wants_admin = form
        .get("audience")
        .into_iter()
        .chain(form.all("resource"))
        .any(|a| crate::roles::same_audience(&admin, a));
    let (scopes, aud) = if wants_admin {
        management_grant(st, client, form).map_err(|e| (e, cid()))?
    } else {
        api_grant(st, client, form).map_err(|e| (e, cid()))?
    };
    let now = st.now();
    let lifetime = client.token_lifetime as i64;
    let signed = sign_access_token(
        st,
        NewToken {
            sub: &client.client_id,
            holder: client,
            aud: &aud,
            scopes: &scopes,
            iat: now,
            exp: now + lifetime,
            act: None,
            cnf: binding.cnf(),
        },
    )
    .map_err(|e| (e, cid()))?;
    st.audit(
        "token",
        json!({"outcome": "issued", "client_id": client.client_id, "auth_method": authn.method.as_str(),
               "secret_id": authn.secret_id, "jti": signed.jti, "kid": signed.kid,
               "scope": scopes.join(" "), "aud": aud, "expires_in": lifetime, "token_type": binding.token_type(), "cnf": binding.cnf(),
               "grant_type": form.get("grant_type"), "spiffe_id": spiffe_id}),
    );
    Ok(token_response(
        &signed.token,
        binding.token_type(),
        lifetime,
        &scopes,
        None,
    ))
}

/// The scopes and audience of a token for an API (anything but the management API): never a
/// management scope.
fn api_grant(st: &AppState, client: &Client, form: &Form) -> Result<(Vec<String>, Vec<String>), OAuthError> {
    let perms = st.permissions(client);
    // Scopes: a subset of the allowed ones; none requested → the client's default scopes.
    let scopes: Vec<String> = match requested_scopes(form) {
        None => perms
            .default_scopes(client)
            .into_iter()
            .filter(|s| !is_management_scope(s))
            .collect(),
        Some(req) => {
            let denied: Vec<String> = req
                .iter()
                .filter(|r| !perms.scopes.contains(r))
                .map(|d| truncate(d))
                .collect();
            if !denied.is_empty() {
                return Err(invalid_scope(format!(
                    "scope(s) not allowed for this client: {}",
                    denied.join(" ")
                )));
            }
            let management: Vec<&str> = req
                .iter()
                .map(String::as_str)
                .filter(|s| is_management_scope(s))
                .collect();
            if !management.is_empty() {
                return Err(invalid_scope(format!(
                    "{} {} management scope(s): ask for them with resource={} (and nothing else)",
                    names(&management),
                    if management.len() == 1 { "is a" } else { "are" },
                    management_auth::audience(&st.issuer)
                )));
            }
            req
        }
    };
    // Audience: `audience` and RFC 8707 `resource` select it among the client's audiences.
    let mut aud: Vec<String> = Vec::new();
    for a in form.get("audience").into_iter().chain(form.all("resource")) {
        if !perms.audiences.iter().any(|x| crate::roles::same_audience(x, a)) {
            return Err(OAuthError::new(
                400,
                "invalid_target",
                format!("audience/resource {} is not allowed for this client", quoted(a)),
            ));
        }
        let a = crate::roles::canonical(a);
        if !aud.contains(&a) {
            aud.push(a);
        }
    }
    if aud.is_empty() {
        aud.push(
            perms
                .audiences
                .first()
                .cloned()
                .unwrap_or_else(|| st.default_audience()),
        );
    }
    Ok((scopes, aud))
}

/// What an access token says.
pub(crate) struct NewToken<'a> {
    pub sub: &'a str,
    /// The client the token is issued to: its `client_id` and `may_act` go into the token.
    pub holder: &'a Client,
    pub aud: &'a [String],
    pub scopes: &'a [String],
    pub iat: i64,
    pub exp: i64,
    /// RFC 8693 §4.1 `act`, for exchanged tokens.
    pub act: Option<Value>,
    /// RFC 7800 `cnf`: the key (RFC 9449 `jkt`) or certificate (RFC 8705 `x5t#S256`) the token
    /// is bound to.
    pub cnf: Option<Value>,
}

pub(crate) struct Signed {
    pub token: String,
    pub jti: String,
    pub kid: String,
}

/// The RFC 8693 §4.4 `may_act` claim for a client's configured `may_act` list (our clients'
/// `sub` is their client id): `{"sub": id}` for one, `{"sub": [ids]}` for several.
pub(crate) fn may_act_claim(ids: &[String]) -> Option<Value> {
    match ids {
        [] => None,
        [one] => Some(json!({ "sub": one })),
        many => Some(json!({ "sub": many })),
    }
}

/// Build and sign an RFC 9068 access token (`typ: at+jwt`) with a fresh `jti`.
pub(crate) fn sign_access_token(st: &AppState, t: NewToken<'_>) -> Result<Signed, OAuthError> {
    let jti = random_id(16)?;
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(st.issuer));
    claims.insert("sub".into(), json!(t.sub));
    let aud = if t.aud.len() == 1 {
        json!(t.aud[0])
    } else {
        json!(t.aud)
    };
    claims.insert("aud".into(), aud);
    claims.insert("exp".into(), json!(t.exp));
    claims.insert("iat".into(), json!(t.iat));
    claims.insert("jti".into(), json!(jti));
    claims.insert("client_id".into(), json!(t.holder.client_id));
    if !t.scopes.is_empty() {
        claims.insert("scope".into(), json!(t.scopes.join(" ")));
    }
    if let Some(act) = t.act {
        claims.insert("act".into(), act);
    }
    if let Some(may_act) = may_act_claim(&t.holder.may_act) {
        claims.insert("may_act".into(), may_act);
    }
    if let Some(cnf) = t.cnf {
        claims.insert("cnf".into(), cnf);
    }
    let key = st.keys.lock().signing_key(t.iat)?;
    let token = key.sign(Some("at+jwt"), &Map::new(), &Value::Object(claims))?;
    Ok(Signed {
        token,
        jti,
        kid: key.kid().to_string(),
    })
}

/// The token response (`token_type` `Bearer` or `DPoP`); `issued_token_type` for a token
/// exchange (RFC 8693 §2.2.1).
pub(crate) fn token_response(
    token: &str,
    token_type: &str,
    expires_in: i64,
    scopes: &[String],
    issued_token_type: Option<&str>,
) -> Response {
    let mut resp = json!({"access_token": token, "token_type": token_type, "expires_in": expires_in});
    if let Some(t) = issued_token_type {
        resp["issued_token_type"] = json!(t);
    }
    if !scopes.is_empty() {
        resp["scope"] = json!(scopes.join(" "));
    }
    json_no_store(200, resp)
}
