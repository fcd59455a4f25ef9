//! The HTTP application: shared state, the router, request body reading, and the endpoints that
//! are not the token endpoint or the admin API: JWKS, RFC 8414 metadata, RFC 7662
//! introspection (which reports `act`, `may_act` and `cnf`), RFC 7009 revocation.
//!
//! The other endpoints live in [`crate::token`] (client credentials) and [`crate::exchange`]
//! (RFC 8693 token exchange), behind one `POST /oauth/token`, and [`crate::admin`]; client
//! authentication in [`crate::client_auth`], roles in [`crate::roles`].

use crate::audit::Audit;
use crate::clients::Client;
use crate::config::ServerConfig;
use crate::keys::KeyRing;
use crate::oauth::{
    json_no_store, Form, OAuthError, GRANT_CLIENT_CREDENTIALS, GRANT_TOKEN_EXCHANGE, MAX_FORM_BYTES, TOKEN_TYPES,
};
use crate::ratelimit::RateLimiter;
use crate::roles::{Permissions, Roles};
use crate::store::Store;
use crate::tls::PeerCert;
use authsec_core::access_token::rules::{parse_token, verify_parsed};
use authsec_core::{Alg, Claims, Clock, Secret, VerifierConfig};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use parking_lot::{Mutex, RwLock};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The server's state. Lock order: `roles` before `clients` when both are held.
pub struct AppState {
    pub cfg: ServerConfig,
    pub alg: Alg,
    pub issuer: String,
    pub store: Store,
    pub clients: RwLock<HashMap<String, Client>>,
    pub roles: RwLock<Roles>,
    pub keys: Mutex<KeyRing>,
    pub audit: Arc<Audit>,
    pub limiter: RateLimiter,
    pub clock: Arc<dyn Clock>,
    pub admin_token: Option<Secret>,
    /// `token_exchange.max_delegation_depth`, checked.
    pub max_delegation_depth: usize,
    /// DPoP replay cache and nonces.
    pub dpop: crate::dpop::Dpop,
    /// The trusted SPIFFE trust domains, when the config has a `spiffe` section.
    pub spiffe: Option<crate::spiffe::Spiffe>,
    /// When each secret (by id) last authenticated its client; in memory only.
    pub secret_last_used: Mutex<HashMap<String, i64>>,
    /// Tokens issued per client per UTC day (`rate_limits.tokens_per_day`).
    pub daily: crate::ratelimit::DailyCounter,
    /// The cached JWKS of clients registered with a `jwks_uri`, by URI.
    pub remote_jwks: Mutex<HashMap<String, authsec_core::JwksCache>>,
    /// Dynamic client registration, when the config has a `dynamic_registration` section.
    pub registration: Option<crate::registration::Registration>,
}

impl AppState {
    pub fn now(&self) -> i64 {
        self.clock.now_ms().div_euclid(1000)
    }
    pub fn token_endpoint(&self) -> String {
        format!("{}/oauth/token", self.issuer)
    }
    /// Record an audit event: stored in the database (for `GET /admin/logs`) and written to the
    /// configured sink.
    pub(crate) fn audit(&self, event: &str, fields: Value) {
        let mut e = Audit::event(self.clock.now_ms(), event, fields);
        if let Ok(data) = serde_json::to_string(&e) {
            let ts = e.get("ts").and_then(Value::as_f64).unwrap_or_default();
            let outcome = e.get("outcome").and_then(Value::as_str).unwrap_or("success");
            let client = e.get("client_id").and_then(Value::as_str);
            if let Ok(id) = self.store.insert_audit(ts, event, outcome, client, &data) {
                e.insert("id".into(), json!(id));
            }
        }
        self.audit.write(&e);
    }

    /// Forget what has expired: revocations, exchanges and assertion ids of expired tokens, and
    /// audit events older than `audit_retention`.
    pub fn purge(&self) -> authsec_core::Result<()> {
        let now_ms = self.clock.now_ms();
        self.store.purge(now_ms.div_euclid(1000))?;
        self.store
            .purge_audit(now_ms as f64 / 1000.0 - self.cfg.audit_retention as f64)?;
        Ok(())
    }

    /// Note that secret `id` authenticated its client now.
    pub(crate) fn secret_used(&self, id: &str) {
        let now = self.now();
        let mut m = self.secret_last_used.lock();
        if m.len() > 100_000 {
            m.clear();
        }
        m.insert(id.to_string(), now);
    }

    /// When secret `id` last authenticated its client (since the server started).
    pub fn secret_last_used_at(&self, id: &str) -> Option<i64> {
        self.secret_last_used.lock().get(id).copied()
    }

    /// The admin API's view of a client.
    pub fn client_view(&self, c: &Client, roles: &Roles) -> Value {
        c.public_view(roles, &|id| self.secret_last_used_at(id))
    }

    /// The JWKS cache of a `jwks_uri` (one per URI, created on first use).
    pub(crate) fn remote_jwks(&self, uri: &str) -> authsec_core::Result<authsec_core::JwksCache> {
        let mut m = self.remote_jwks.lock();
        if let Some(c) = m.get(uri) {
            return Ok(c.clone());
        }
        if m.len() > 10_000 {
            m.clear();
        }
        let c = authsec_core::JwksCache::new(
            uri,
            authsec_native::HttpTransport::shared(),
            self.clock.clone(),
            authsec_core::JwksPolicy::default(),
        )?;
        m.insert(uri.to_string(), c.clone());
        Ok(c)
    }
    pub(crate) fn max_lifetime(&self) -> i64 {
        let clients = self.clients.read();
        clients
            .values()
            .map(|c| c.token_lifetime)
            .max()
            .unwrap_or(0)
            .max(self.cfg.token_lifetime) as i64
    }
    /// What `client` may get now (its own scopes and audiences plus its roles'). An audience
    /// that names an `mcp_server` client stands for that server's resource URL.
    pub fn permissions(&self, client: &Client) -> Permissions {
        let mut p = Permissions::of(client, &self.roles.read());
        let clients = self.clients.read();
        for a in &mut p.audiences {
            if let Some(r) = clients.get(a.as_str()).and_then(|c| c.resource.clone()) {
                *a = r;
            }
        }
        p
    }
    /// The audience a client without configured audiences gets.
    pub fn default_audience(&self) -> String {
        self.cfg.default_audience.clone().unwrap_or_else(|| self.issuer.clone())
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    use crate::registration as reg;
    Router::new()
        .route("/oauth/token", post(crate::token::token))
        .route("/oauth/introspect", post(introspect))
        .route("/oauth/revoke", post(revoke))
        .route("/oauth/register", post(reg::register))
        .route(
            "/oauth/register/{id}",
            get(reg::read).put(reg::update).delete(reg::delete),
        )
        .route("/.well-known/jwks.json", get(jwks))
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route(
            "/.well-known/oauth-protected-resource/admin",
            get(crate::management_auth::metadata),
        )
        .merge(crate::admin::router(state.clone()))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(|| async {
            OAuthError::new(
                404,
                "not_found",
                "no such endpoint; see /.well-known/oauth-authorization-server",
            )
        })
        .method_not_allowed_fallback(|| async {
            OAuthError::new(405, "invalid_request", "method not allowed for this endpoint")
        })
        .with_state(state)
}

/// Answer 408 and close the connection when a request is not answered within `limit`. hyper's
/// header timeout ends at the request head; this bounds the rest, so a client that sends a
/// head and then part of its body cannot hold a connection open.
pub async fn answer_within(limit: Duration, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            let mut resp = OAuthError::new(
                408,
                "invalid_request",
                format!("the request did not arrive in full within {limit:?}; send the whole body at once"),
            )
            .into_response();
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            resp
        }
    }
}

/// Read a body of at most `limit` bytes. Only an oversized body is a 413; one that cannot be
/// read (a malformed chunk, a truncated body) is a 400.
pub(crate) async fn read_limited(headers: &HeaderMap, body: Body, limit: usize) -> Result<Vec<u8>, OAuthError> {
    use futures::StreamExt;
    let too_large = || {
        OAuthError::new(
            413,
            "invalid_request",
            format!("the request body is over {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|_| OAuthError::invalid_request("the request body could not be read (malformed or truncated)"))?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

pub(crate) async fn read_form(headers: &HeaderMap, body: Body) -> Result<Form, OAuthError> {
    let bytes = read_limited(headers, body, MAX_FORM_BYTES).await?;
    Form::parse(headers, &bytes)
}

pub(crate) async fn read_json(headers: &HeaderMap, body: Body) -> Result<Value, OAuthError> {
    let bytes = read_limited(headers, body, 256 * 1024).await?;
    if bytes.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&bytes).map_err(|e| OAuthError::invalid_request(format!("the body is not JSON: {e}")))
}

pub(crate) fn audit_failure(st: &AppState, event: &str, e: &OAuthError, client_id: Option<&str>) {
    st.audit(
        event,
        json!({"outcome": "failure", "client_id": client_id, "error": e.error, "reason": e.description}),
    );
}

/// Verify one of our own tokens (any audience, no leeway).
pub(crate) fn verify_own_token(st: &AppState, token: &str) -> authsec_core::Result<Claims> {
    let now = st.now();
    let keys = st.keys.lock().keyset(&st.store, now)?;
    let cfg = VerifierConfig {
        issuer: Some(st.issuer.clone()),
        skip_audience_check: true,
        verified_cache_size: 0,
        leeway: std::time::Duration::ZERO,
        ..Default::default()
    };
    let parsed = parse_token(token, &cfg)?;
    verify_parsed(&parsed, &keys, &cfg, now * 1000)
}

/// Verify one of our own tokens; `None` when it is not valid now.
pub(crate) fn check_own_token(st: &AppState, token: &str) -> Option<Claims> {
    verify_own_token(st, token).ok()
}

/// Whether a valid token of ours is active: neither it nor any token it was exchanged from is
/// revoked. The walk up the exchanges is bounded by the delegation depth limit; a longer one
/// (possible only if the limit was lowered since) counts as inactive.
pub(crate) fn is_active(st: &AppState, claims: &Claims) -> bool {
    let Some(mut jti) = claims.jti().map(str::to_string) else {
        return false;
    };
    for _ in 0..=st.max_delegation_depth {
        match st.store.is_revoked(&jti) {
            Ok(false) => {}
            _ => return false,
        }
        match st.store.exchanged_from(&jti) {
            Ok(None) => return true,
            Ok(Some(parent)) => jti = parent,
            Err(_) => return false,
        }
    }
    false
}

/// Introspection and revocation both start alike: a form, an authenticated client, a `token`.
async fn authenticated_token_request(
    st: &AppState,
    headers: &HeaderMap,
    peer: Option<Extension<PeerCert>>,
    body: Body,
    event: &str,
) -> Result<(crate::client_auth::Authenticated, String), Response> {
    let form = read_form(headers, body).await.map_err(IntoResponse::into_response)?;
    let peer = peer.as_ref().map(|p| &p.0);
    let svids = crate::client_auth::prefetch(st, &form).await;
    let authn = crate::client_auth::authenticate(st, headers, &form, peer, &svids).map_err(|(e, id)| {
        audit_failure(st, event, &e, id.as_deref());
        e.into_response()
    })?;
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("the token parameter is missing").into_response())?;
    Ok((authn, token.to_string()))
}

async fn introspect(
    State(st): State<Arc<AppState>>,
    peer: Option<Extension<PeerCert>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (authn, token) = match authenticated_token_request(&st, &headers, peer, body, "introspect").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let client = &authn.client;
    let token = token.as_str();
    let active = check_own_token(&st, token).filter(|c| is_active(&st, c));
    st.audit(
        "introspect",
        json!({"client_id": client.client_id, "auth_method": authn.method.as_str(), "secret_id": authn.secret_id,
               "active": active.is_some(), "jti": active.as_ref().and_then(|c| c.jti().map(str::to_string))}),
    );
    let Some(c) = active else {
        return json_no_store(200, json!({"active": false}));
    };
    let mut out = json!({"active": true, "token_type": "Bearer"});
    // `act` (the whole delegation chain) and `may_act` as the token carries them (RFC 8693 §4).
    for k in [
        "scope",
        "client_id",
        "sub",
        "aud",
        "iss",
        "exp",
        "iat",
        "jti",
        "act",
        "may_act",
        "cnf",
    ] {
        if let Some(v) = c.get(k) {
            out[k] = v.clone();
        }
    }
    // RFC 9449 §6.2: a DPoP-bound token is introspected as token_type DPoP.
    if c.get("cnf").and_then(|cnf| cnf.get("jkt")).is_some() {
        out["token_type"] = json!("DPoP");
    }
    json_no_store(200, out)
}

async fn revoke(
    State(st): State<Arc<AppState>>,
    peer: Option<Extension<PeerCert>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (authn, token) = match authenticated_token_request(&st, &headers, peer, body, "revoke").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let client = &authn.client;
    let (method, secret_id) = (authn.method.as_str(), authn.secret_id.as_deref());
    let token = token.as_str();
    // RFC 7009 §2.2: invalid or expired tokens are answered 200 as well.
    if let Some(c) = check_own_token(&st, token) {
        if c.client_id() != Some(client.client_id.as_str()) {
            let e = OAuthError::new(
                400,
                "unauthorized_client",
                "a client may revoke only tokens issued to it",
            );
            audit_failure(&st, "revoke", &e, Some(&client.client_id));
            return e.into_response();
        }
        let jti = c.jti().unwrap_or_default().to_string();
        if let Err(e) = st.store.revoke(&jti, c.expires_at()) {
            return OAuthError::from(e).into_response();
        }
        st.audit(
            "revoke",
            json!({"client_id": client.client_id, "auth_method": method, "secret_id": secret_id, "jti": jti, "outcome": "revoked"}),
        );
    } else {
        st.audit(
            "revoke",
            json!({"client_id": client.client_id, "auth_method": method, "secret_id": secret_id, "outcome": "ignored_invalid_token"}),
        );
    }
    (StatusCode::OK, crate::oauth::no_store_headers()).into_response()
}

async fn jwks(State(st): State<Arc<AppState>>) -> Response {
    let now = st.now();
    match st.keys.lock().jwks(&st.store, now) {
        Ok(v) => (
            [
                (
                    header::CACHE_CONTROL,
                    format!("public, max-age={}", st.cfg.jwks_max_age),
                ),
                (header::CONTENT_TYPE, "application/jwk-set+json".into()),
            ],
            v.to_string(),
        )
            .into_response(),
        Err(e) => OAuthError::from(e).into_response(),
    }
}

/// RFC 8414 metadata. Token exchange is advertised once some client may use it; `spiffe_jwt` and
/// the JWT-bearer grant when the server trusts SPIFFE workloads.
async fn metadata(State(st): State<Arc<AppState>>) -> Response {
    let i = &st.issuer;
    let (mut scopes, exchange): (Vec<String>, bool) = {
        let clients = st.clients.read();
        (
            clients.values().flat_map(|c| c.allowed_scopes.clone()).collect(),
            clients.values().any(|c| c.may_use_grant(GRANT_TOKEN_EXCHANGE)),
        )
    };
    scopes.extend(st.roles.read().values().flat_map(|r| r.scopes.clone()));
    scopes.extend(st.store.scope_names().unwrap_or_default());
    scopes.sort();
    scopes.dedup();
    let tls = st.cfg.tls.is_some();
    let mut methods = vec!["client_secret_basic", "client_secret_post", "private_key_jwt"];
    if tls {
        methods.extend([
            crate::clients::TLS_CLIENT_AUTH,
            crate::clients::SELF_SIGNED_TLS_CLIENT_AUTH,
        ]);
    }
    if st.spiffe.is_some() {
        methods.push(crate::clients::SPIFFE_JWT);
    }
    let algs: Vec<&str> = Alg::ALL.iter().map(|a| a.as_str()).collect();
    let mut grants = vec![GRANT_CLIENT_CREDENTIALS];
    if exchange {
        grants.push(GRANT_TOKEN_EXCHANGE);
    }
    if st.spiffe.is_some() {
        grants.push(crate::oauth::GRANT_JWT_BEARER);
    }
    let mut m = json!({
        "issuer": i,
        "token_endpoint": format!("{i}/oauth/token"),
        "jwks_uri": format!("{i}/.well-known/jwks.json"),
        "introspection_endpoint": format!("{i}/oauth/introspect"),
        "revocation_endpoint": format!("{i}/oauth/revoke"),
        "grant_types_supported": grants,
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": methods,
        "token_endpoint_auth_signing_alg_values_supported": algs,
        "introspection_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_methods_supported": methods,
        "scopes_supported": scopes,
        "access_token_signing_alg_values_supported": st.keys.lock().published_algs(),
        "dpop_signing_alg_values_supported": crate::dpop::signing_algs(),
        "management_api": crate::management_auth::audience(i),
    });
    if st.registration.is_some() {
        m["registration_endpoint"] = json!(format!("{i}/oauth/register"));
    }
    if tls {
        // RFC 8705 §3.3 and §5: one listener serves both, so the aliases are the endpoints.
        m["tls_client_certificate_bound_access_tokens"] = json!(true);
        m["mtls_endpoint_aliases"] = json!({
            "token_endpoint": format!("{i}/oauth/token"),
            "introspection_endpoint": format!("{i}/oauth/introspect"),
            "revocation_endpoint": format!("{i}/oauth/revoke"),
        });
    }
    if exchange {
        // Not registered RFC 8414 metadata names (RFC 8693 registers none); they follow the
        // pattern of the registered ones so that clients can discover what the server accepts.
        m["token_exchange_subject_token_types_supported"] = json!(TOKEN_TYPES);
        m["token_exchange_requested_token_types_supported"] = json!(TOKEN_TYPES);
        m["token_exchange_max_delegation_depth"] = json!(st.max_delegation_depth);
    }
    axum::Json(m).into_response()
}
