//! Endpoints: token (client credentials), JWKS, RFC 8414 metadata, RFC 7662 introspection,
//! RFC 7009 revocation, and the admin API.

use crate::audit::Audit;
use crate::clients::{Client, SecretHash};
use crate::config::{ClientSpec, ServerConfig};
use crate::keys::KeyRing;
use crate::oauth::{form_decode, json_no_store, Form, OAuthError, MAX_FORM_BYTES};
use crate::ratelimit::RateLimiter;
use crate::store::Store;
use authsec_core::access_token::rules::{parse_token, verify_parsed};
use authsec_core::random::random_id;
use authsec_core::util::b64_std_decode;
use authsec_core::{Alg, Clock, KeySet, Secret, VerifierConfig};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use parking_lot::{Mutex, RwLock};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub struct AppState {
    pub cfg: ServerConfig,
    pub alg: Alg,
    pub issuer: String,
    pub store: Store,
    pub clients: RwLock<HashMap<String, Client>>,
    pub keys: Mutex<KeyRing>,
    pub audit: Arc<Audit>,
    pub limiter: RateLimiter,
    pub clock: Arc<dyn Clock>,
    pub admin_token: Option<Secret>,
}

impl AppState {
    pub fn now(&self) -> i64 {
        self.clock.now_ms().div_euclid(1000)
    }
    pub fn token_endpoint(&self) -> String {
        format!("{}/oauth/token", self.issuer)
    }
    fn audit(&self, event: &str, fields: Value) {
        self.audit.log(self.clock.now_ms(), event, fields);
    }
    fn max_lifetime(&self) -> i64 {
        let clients = self.clients.read();
        clients
            .values()
            .map(|c| c.token_lifetime)
            .max()
            .unwrap_or(0)
            .max(self.cfg.token_lifetime) as i64
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/oauth/token", post(token))
        .route("/oauth/introspect", post(introspect))
        .route("/oauth/revoke", post(revoke))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route("/admin/clients", get(admin_list_clients).post(admin_create_client))
        .route("/admin/clients/{id}", get(admin_get_client).delete(admin_delete_client))
        .route("/admin/clients/{id}/secrets", post(admin_rotate_secret))
        .route("/admin/keys", get(admin_list_keys))
        .route("/admin/keys/rotate", post(admin_rotate_key))
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
async fn read_limited(headers: &HeaderMap, body: Body, limit: usize) -> Result<Vec<u8>, OAuthError> {
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

async fn read_form(headers: &HeaderMap, body: Body) -> Result<Form, OAuthError> {
    let bytes = read_limited(headers, body, MAX_FORM_BYTES).await?;
    Form::parse(headers, &bytes)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum AuthMethod {
    Basic,
    Post,
    PrivateKeyJwt,
}

impl AuthMethod {
    fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Basic => "client_secret_basic",
            AuthMethod::Post => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// Authenticate the calling client with exactly one method (RFC 6749 §2.3).
fn authenticate(
    st: &AppState,
    headers: &HeaderMap,
    form: &Form,
) -> Result<(Client, AuthMethod), (OAuthError, Option<String>)> {
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
        return match find(&id) {
            Some(c) if c.secret_matches(&secret, now) => Ok((c, AuthMethod::Basic)),
            _ => {
                let mut e = OAuthError::invalid_client("client authentication failed (unknown client or wrong secret)");
                e.basic_challenge = true;
                Err(fail(e, Some(&id)))
            }
        };
    }
    if has_secret {
        let id = form.get("client_id").unwrap_or_default();
        return match find(id) {
            Some(c) if c.secret_matches(form.get("client_secret").unwrap_or_default(), now) => {
                Ok((c, AuthMethod::Post))
            }
            _ => Err(fail(
                OAuthError::invalid_client("client authentication failed (unknown client or wrong secret)"),
                Some(id),
            )),
        };
    }
    if has_assertion {
        return authenticate_assertion(st, form, now).map(|c| (c, AuthMethod::PrivateKeyJwt));
    }
    let mut e = OAuthError::invalid_client(
        "no client authentication; use HTTP Basic, client_secret in the body, or a private_key_jwt client_assertion",
    );
    e.basic_challenge = true;
    Err(fail(e, form.get("client_id")))
}

/// RFC 7523 §3: verify a client assertion with the client's registered public keys.
fn authenticate_assertion(st: &AppState, form: &Form, now: i64) -> Result<Client, (OAuthError, Option<String>)> {
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
    let jwks = client.jwks.as_ref().ok_or_else(|| {
        bad(
            "this client has no registered keys for private_key_jwt".into(),
            Some(&claimed),
        )
    })?;
    let keys = KeySet::from_jwks_value(jwks).map_err(|e| {
        bad(
            format!("the client's registered JWKS is unusable ({})", e.code()),
            Some(&claimed),
        )
    })?;
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

fn audit_failure(st: &AppState, event: &str, e: &OAuthError, client_id: Option<&str>) {
    st.audit(
        event,
        json!({"outcome": "failure", "client_id": client_id, "error": e.error, "reason": e.description}),
    );
}

async fn token(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    match issue(&st, &headers, body).await {
        Ok(r) => r,
        Err((e, client)) => {
            audit_failure(&st, "token", &e, client.as_deref());
            e.into_response()
        }
    }
}

async fn issue(st: &AppState, headers: &HeaderMap, body: Body) -> Result<Response, (OAuthError, Option<String>)> {
    let form = read_form(headers, body).await.map_err(|e| (e, None))?;
    match form.get("grant_type") {
        None => {
            return Err((
                OAuthError::invalid_request("grant_type is missing; use grant_type=client_credentials"),
                form.get("client_id").map(str::to_string),
            ))
        }
        Some("client_credentials") => {}
        Some(g) => {
            return Err((
                OAuthError::new(
                    400,
                    "unsupported_grant_type",
                    format!(
                        "grant_type {} is not supported here; use client_credentials",
                        authsec_core::util::quoted(g)
                    ),
                ),
                form.get("client_id").map(str::to_string),
            ))
        }
    }
    let (client, method) = authenticate(st, headers, &form)?;
    let cid = Some(client.client_id.clone());
    let now_ms = st.clock.now_ms();
    if let Err(wait) = st.limiter.check(
        &client.client_id,
        client.rate_limit.unwrap_or(st.cfg.rate_limit),
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
    // Scopes: a subset of the allowed ones; none requested → the client's default scopes.
    let scopes: Vec<String> = match form.get("scope").map(str::trim).filter(|s| !s.is_empty()) {
        None => client.default_scopes.clone(),
        Some(s) => {
            let mut req: Vec<String> = Vec::new();
            for x in s.split(' ').filter(|x| !x.is_empty()) {
                if !req.iter().any(|r| r == x) {
                    req.push(x.to_string());
                }
            }
            let denied: Vec<&str> = req
                .iter()
                .filter(|r| !client.allowed_scopes.contains(r))
                .map(String::as_str)
                .collect();
            if !denied.is_empty() {
                let names: Vec<String> = denied.iter().map(|d| authsec_core::util::truncate(d)).collect();
                return Err((
                    OAuthError::new(
                        400,
                        "invalid_scope",
                        format!("scope(s) not allowed for this client: {}", names.join(" ")),
                    ),
                    cid,
                ));
            }
            req
        }
    };
    // Audience: `audience` and RFC 8707 `resource` select it among the client's audiences.
    let mut aud: Vec<String> = Vec::new();
    for a in form.get("audience").into_iter().chain(form.all("resource")) {
        if !client.audiences.iter().any(|x| x == a) {
            return Err((
                OAuthError::new(
                    400,
                    "invalid_target",
                    format!(
                        "audience/resource {} is not allowed for this client",
                        authsec_core::util::quoted(a)
                    ),
                ),
                cid,
            ));
        }
        if !aud.iter().any(|x| x == a) {
            aud.push(a.to_string());
        }
    }
    if aud.is_empty() {
        aud.push(
            client
                .audiences
                .first()
                .cloned()
                .or_else(|| st.cfg.default_audience.clone())
                .unwrap_or_else(|| st.issuer.clone()),
        );
    }
    let now = now_ms.div_euclid(1000);
    let lifetime = client.token_lifetime as i64;
    let jti = random_id(16).map_err(|e| (OAuthError::from(e), cid.clone()))?;
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(st.issuer));
    claims.insert("sub".into(), json!(client.client_id));
    claims.insert("aud".into(), if aud.len() == 1 { json!(aud[0]) } else { json!(aud) });
    claims.insert("exp".into(), json!(now + lifetime));
    claims.insert("iat".into(), json!(now));
    claims.insert("jti".into(), json!(jti));
    claims.insert("client_id".into(), json!(client.client_id));
    if !scopes.is_empty() {
        claims.insert("scope".into(), json!(scopes.join(" ")));
    }
    let key = st
        .keys
        .lock()
        .signing_key(now)
        .map_err(|e| (OAuthError::from(e), cid.clone()))?;
    let token = key
        .sign(Some("at+jwt"), &Map::new(), &Value::Object(claims))
        .map_err(|e| (OAuthError::from(e), cid.clone()))?;
    st.audit(
        "token",
        json!({"outcome": "issued", "client_id": client.client_id, "auth_method": method.as_str(), "jti": jti, "kid": key.kid(),
               "scope": scopes.join(" "), "aud": aud, "expires_in": lifetime}),
    );
    let mut resp = json!({"access_token": token, "token_type": "Bearer", "expires_in": lifetime});
    if !scopes.is_empty() {
        resp["scope"] = json!(scopes.join(" "));
    }
    Ok(json_no_store(200, resp))
}

/// Verify one of our own tokens (any audience, no leeway); `None` when it is not valid now.
fn check_own_token(st: &AppState, token: &str) -> Option<authsec_core::Claims> {
    let now = st.now();
    let keys = st.keys.lock().keyset(&st.store, now).ok()?;
    let cfg = VerifierConfig {
        issuer: Some(st.issuer.clone()),
        skip_audience_check: true,
        verified_cache_size: 0,
        leeway: std::time::Duration::ZERO,
        ..Default::default()
    };
    let parsed = parse_token(token, &cfg).ok()?;
    verify_parsed(&parsed, &keys, &cfg, now * 1000).ok()
}

/// Introspection and revocation both start alike: a form, an authenticated client, a `token`.
async fn authenticated_token_request(
    st: &AppState,
    headers: &HeaderMap,
    body: Body,
    event: &str,
) -> Result<(Client, String), Response> {
    let form = read_form(headers, body).await.map_err(IntoResponse::into_response)?;
    let (client, _) = authenticate(st, headers, &form).map_err(|(e, id)| {
        audit_failure(st, event, &e, id.as_deref());
        e.into_response()
    })?;
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("the token parameter is missing").into_response())?;
    Ok((client, token.to_string()))
}

async fn introspect(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let (client, token) = match authenticated_token_request(&st, &headers, body, "introspect").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let token = token.as_str();
    let active =
        check_own_token(&st, token).filter(|c| !st.store.is_revoked(c.jti().unwrap_or_default()).unwrap_or(true));
    st.audit(
        "introspect",
        json!({"client_id": client.client_id, "active": active.is_some(), "jti": active.as_ref().and_then(|c| c.jti().map(str::to_string))}),
    );
    let Some(c) = active else {
        return json_no_store(200, json!({"active": false}));
    };
    let mut out = json!({"active": true, "token_type": "Bearer"});
    for k in ["scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti"] {
        if let Some(v) = c.get(k) {
            out[k] = v.clone();
        }
    }
    json_no_store(200, out)
}

async fn revoke(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let (client, token) = match authenticated_token_request(&st, &headers, body, "revoke").await {
        Ok(x) => x,
        Err(r) => return r,
    };
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
            json!({"client_id": client.client_id, "jti": jti, "outcome": "revoked"}),
        );
    } else {
        st.audit(
            "revoke",
            json!({"client_id": client.client_id, "outcome": "ignored_invalid_token"}),
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

async fn metadata(State(st): State<Arc<AppState>>) -> Response {
    let i = &st.issuer;
    let mut scopes: Vec<String> = st
        .clients
        .read()
        .values()
        .flat_map(|c| c.allowed_scopes.clone())
        .collect();
    scopes.sort();
    scopes.dedup();
    let methods = ["client_secret_basic", "client_secret_post", "private_key_jwt"];
    let algs: Vec<&str> = Alg::ALL.iter().map(|a| a.as_str()).collect();
    axum::Json(json!({
        "issuer": i,
        "token_endpoint": format!("{i}/oauth/token"),
        "jwks_uri": format!("{i}/.well-known/jwks.json"),
        "introspection_endpoint": format!("{i}/oauth/introspect"),
        "revocation_endpoint": format!("{i}/oauth/revoke"),
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": methods,
        "token_endpoint_auth_signing_alg_values_supported": algs,
        "introspection_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_methods_supported": methods,
        "scopes_supported": scopes,
        "access_token_signing_alg_values_supported": st.keys.lock().published_algs(),
    }))
    .into_response()
}

// ---------------------------------------------------------------- admin API

fn admin_auth(st: &AppState, headers: &HeaderMap) -> Result<(), OAuthError> {
    let Some(expected) = &st.admin_token else {
        return Err(OAuthError::new(
            404,
            "not_found",
            "the admin API is off; set admin_token in the server config",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if authsec_core::secret::constant_time_eq(given.as_bytes(), expected.expose().as_bytes()) {
        Ok(())
    } else {
        Err(OAuthError::new(
            401,
            "invalid_token",
            "the admin API needs Authorization: Bearer <admin_token>",
        ))
    }
}

async fn read_json(headers: &HeaderMap, body: Body) -> Result<Value, OAuthError> {
    let bytes = read_limited(headers, body, 256 * 1024).await?;
    if bytes.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&bytes).map_err(|e| OAuthError::invalid_request(format!("the body is not JSON: {e}")))
}

async fn admin_list_clients(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(e) = admin_auth(&st, &headers) {
        return e.into_response();
    }
    let mut list: Vec<Value> = st.clients.read().values().map(Client::public_view).collect();
    list.sort_by(|a, b| a["client_id"].as_str().cmp(&b["client_id"].as_str()));
    json_no_store(200, json!({ "clients": list }))
}

async fn admin_get_client(State(st): State<Arc<AppState>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(e) = admin_auth(&st, &headers) {
        return e.into_response();
    }
    match st.clients.read().get(&id) {
        Some(c) => json_no_store(200, c.public_view()),
        None => OAuthError::new(404, "not_found", "no such client").into_response(),
    }
}

async fn admin_create_client(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    if let Err(e) = admin_auth(&st, &headers) {
        return e.into_response();
    }
    let v = match read_json(&headers, body).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let spec: ClientSpec = match serde_json::from_value(v) {
        Ok(s) => s,
        Err(e) => return OAuthError::invalid_request(format!("invalid client: {e}")).into_response(),
    };
    let (client, generated) = match Client::from_spec(&spec, st.cfg.token_lifetime, st.now()) {
        Ok(x) => x,
        Err(e) => return OAuthError::invalid_request(e.message().to_string()).into_response(),
    };
    if st.clients.read().contains_key(&client.client_id) {
        return OAuthError::new(409, "invalid_request", "a client with this client_id exists").into_response();
    }
    if let Err(e) = st.store.put_client(&client) {
        return OAuthError::from(e).into_response();
    }
    st.audit(
        "client_created",
        json!({"client_id": client.client_id, "type": client.client_type}),
    );
    let mut out = client.public_view();
    if let Some(s) = generated {
        out["client_secret"] = json!(s);
    }
    st.clients.write().insert(client.client_id.clone(), client);
    json_no_store(201, out)
}

async fn admin_delete_client(State(st): State<Arc<AppState>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(e) = admin_auth(&st, &headers) {
        return e.into_response();
    }
    if st.clients.write().remove(&id).is_none() {
        return OAuthError::new(404, "not_found", "no such client").into_response();
    }
    if let Err(e) = st.store.delete_client(&id) {
        return OAuthError::from(e).into_response();
    }
    st.audit("client_deleted", json!({"client_id": id}));
    StatusCode::NO_CONTENT.into_response()
}

/// New secret; old secrets keep working for `keep_old_for` seconds (default 0: revoked now).
async fn admin_rotate_secret(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    if let Err(e) = admin_auth(&st, &headers) {
        return e.into_response();
    }
    let v = match read_json(&headers, body).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let keep = v
        .get("keep_old_for")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        .clamp(0, 30 * 86_400);
    let now = st.now();
    let secret = match random_id(32) {
        Ok(s) => format!("sec_{s}"),
        Err(e) => return OAuthError::from(e).into_response(),
    };
    let mut clients = st.clients.write();
    let Some(c) = clients.get_mut(&id) else {
        return OAuthError::new(404, "not_found", "no such client").into_response();
    };
    c.secrets.retain(|s| s.expires_at.is_none_or(|t| now < t));
    for s in c.secrets.iter_mut() {
        s.expires_at = Some(s.expires_at.unwrap_or(i64::MAX).min(now + keep));
    }
    match SecretHash::new(&secret, now) {
        Ok(h) => c.secrets.push(h),
        Err(e) => return OAuthError::from(e).into_response(),
    }
    if let Err(e) = st.store.put_client(c) {
        return OAuthError::from(e).into_response();
    }
    st.audit(
        "secret_rotated",
        json!({"client_id": id, "old_secrets_expire_in": keep}),
    );
    json_no_store(
        200,
        json!({"client_id": id, "client_secret": secret, "old_secrets_expire_at": now + keep}),
    )
}

async fn admin_list_keys(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(e) = admin_auth(&st, &headers) {
        return e.into_response();
    }
    let now = st.now();
    json_no_store(200, json!({"keys": st.keys.lock().describe(now)}))
}

/// Rotate the signing key: `{"alg": "ES256", "activate_in": seconds}` (both optional; the new key is
/// published at once and signs after `activate_in`, by default the JWKS max-age).
async fn admin_rotate_key(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    if let Err(e) = admin_auth(&st, &headers) {
        return e.into_response();
    }
    let v = match read_json(&headers, body).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let alg = match v.get("alg").and_then(Value::as_str) {
        None => st.alg,
        Some(a) => match Alg::parse(a) {
            Ok(a @ (Alg::ES256 | Alg::RS256 | Alg::EdDSA)) => a,
            _ => return OAuthError::invalid_request("alg must be ES256, RS256 or EdDSA").into_response(),
        },
    };
    // Default: publish now, sign once verifiers that honour the JWKS `Cache-Control` have seen it.
    let activate_in = v
        .get("activate_in")
        .and_then(Value::as_i64)
        .unwrap_or(st.cfg.jwks_max_age as i64)
        .clamp(0, 86_400);
    let now = st.now();
    let max_lifetime = st.max_lifetime();
    match st.keys.lock().rotate(&st.store, alg, activate_in, max_lifetime, now) {
        Ok(out) => {
            st.audit(
                "key_rotated",
                json!({"kid": out["kid"], "alg": alg.as_str(), "active_from": out["active_from"]}),
            );
            json_no_store(200, out)
        }
        Err(e) => OAuthError::from(e).into_response(),
    }
}
