//! Who may call the management API (`/admin`): it is an OAuth-protected resource whose
//! identifier is `{issuer}/admin`. A management client (one whose effective scopes hold a
//! management scope) gets a token for it with `grant_type=client_credentials` and
//! `resource={issuer}/admin`; every `/admin` request carries such a token as a bearer token and
//! needs the scope of what it does. The static `admin_token` of the config is accepted only
//! while no management client exists (to create the first one). Every call is audited with its
//! actor. RFC 9728 metadata describes the resource.

use crate::app::{is_active, verify_own_token, AppState};
use crate::clients::Client;
use crate::oauth::OAuthError;
use crate::roles::{Permissions, Roles};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

/// The management scopes.
pub const MANAGEMENT_SCOPES: [&str; 9] = [
    "clients:read",
    "clients:write",
    "scopes:read",
    "scopes:write",
    "roles:read",
    "roles:write",
    "logs:read",
    "keys:read",
    "keys:write",
];

pub fn is_management_scope(s: &str) -> bool {
    MANAGEMENT_SCOPES.contains(&s)
}

/// The management API's resource identifier: `{issuer}/admin`.
pub fn audience(issuer: &str) -> String {
    format!("{issuer}/admin")
}

/// Where its RFC 9728 metadata is.
pub fn metadata_url(issuer: &str) -> String {
    format!("{issuer}/.well-known/oauth-protected-resource/admin")
}

/// The management scopes a client holds (its own and its roles').
pub fn held_scopes(client: &Client, roles: &Roles) -> Vec<String> {
    Permissions::of(client, roles)
        .scopes
        .into_iter()
        .filter(|s| is_management_scope(s))
        .collect()
}

/// Who made a management call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A management client, by id.
    Client(String),
    /// The bootstrap admin token.
    AdminToken,
    /// RFC 7591 dynamic registration (with the initial access token).
    Registration,
}

impl Actor {
    pub fn as_str(&self) -> &str {
        match self {
            Actor::Client(id) => id,
            Actor::AdminToken => "admin_token",
            Actor::Registration => "dynamic_registration",
        }
    }
}

impl AppState {
    /// Whether some client (from the config or the API) holds a management scope.
    pub fn has_management_client(&self) -> bool {
        let roles = self.roles.read();
        let clients = self.clients.read();
        clients.values().any(|c| !held_scopes(c, &roles).is_empty())
    }
}

/// The scope a management request needs.
pub fn required_scope(method: &Method, path: &str) -> &'static str {
    let read = method == Method::GET || method == Method::HEAD;
    let resource = path.trim_start_matches("/admin/").split('/').next().unwrap_or("");
    match (resource, read) {
        ("clients", true) => "clients:read",
        ("scopes", true) => "scopes:read",
        ("scopes", false) => "scopes:write",
        ("roles", true) => "roles:read",
        ("roles", false) => "roles:write",
        ("logs", _) => "logs:read",
        ("keys", true) => "keys:read",
        ("keys", false) => "keys:write",
        _ => "clients:write",
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    // The auth scheme is case-insensitive (RFC 9110 §11.1).
    v.get(..7)
        .filter(|p| p.eq_ignore_ascii_case("bearer "))
        .map(|_| v[7..].trim())
}

fn invalid_token(st: &AppState, d: impl Into<String>) -> OAuthError {
    let mut e = OAuthError::new(401, "invalid_token", d);
    e.challenge = Some(
        format!(
            "Bearer error=\"invalid_token\", resource_metadata=\"{}\"",
            metadata_url(&st.issuer)
        )
        .into(),
    );
    e
}

fn insufficient_scope(st: &AppState, scope: &str, d: String) -> OAuthError {
    let mut e = OAuthError::new(403, "insufficient_scope", d);
    e.challenge = Some(
        format!(
            "Bearer error=\"insufficient_scope\", scope=\"{scope}\", resource_metadata=\"{}\"",
            metadata_url(&st.issuer)
        )
        .into(),
    );
    e
}

/// Authenticate a management request needing `scope`: its actor, or the refusal (with the
/// client it named, when known).
pub fn authorize(st: &AppState, headers: &HeaderMap, scope: &str) -> Result<Actor, (OAuthError, Option<String>)> {
    let given = bearer(headers).unwrap_or("");
    let is_admin_token = st.admin_token.as_ref().is_some_and(|t| {
        !given.is_empty() && authsec_core::secret::constant_time_eq(given.as_bytes(), t.expose().as_bytes())
    });
    if !st.has_management_client() {
        return match (&st.admin_token, is_admin_token) {
            (None, _) => Err((
                OAuthError::new(
                    404,
                    "not_found",
                    "the admin API is off; set admin_token in the server config to bootstrap it, \
                     or give a client a management scope (clients:write, ...)",
                ),
                None,
            )),
            (Some(_), true) => Ok(Actor::AdminToken),
            (Some(_), false) => Err((
                invalid_token(
                    st,
                    "the admin API needs Authorization: Bearer <admin_token> until a management client exists",
                ),
                None,
            )),
        };
    }
    if is_admin_token {
        return Err((
            invalid_token(
                st,
                format!(
                    "the admin token is only for bootstrapping, and a management client exists now; use a management \
                     client's token (grant_type=client_credentials, resource={})",
                    audience(&st.issuer)
                ),
            ),
            None,
        ));
    }
    let want = audience(&st.issuer);
    let claims = verify_own_token(st, given).map_err(|e| {
        (
            invalid_token(st, format!("the bearer token was rejected ({})", e.code())),
            None,
        )
    })?;
    let client_id = claims.client_id().unwrap_or_default().to_string();
    let named = || Some(client_id.clone());
    if !claims.audience().iter().any(|a| *a == want) {
        return Err((
            invalid_token(
                st,
                format!("the bearer token is not for the management API; get one with resource={want}"),
            ),
            named(),
        ));
    }
    if !is_active(st, &claims) {
        return Err((invalid_token(st, "the bearer token was revoked"), named()));
    }
    if claims.get("cnf").is_some() {
        return Err((
            invalid_token(
                st,
                "the bearer token is bound to a key or certificate; the management API takes bearer tokens only",
            ),
            named(),
        ));
    }
    let held = {
        let roles = st.roles.read();
        let clients = st.clients.read();
        clients.get(&client_id).map(|c| held_scopes(c, &roles))
    };
    let Some(held) = held else {
        return Err((invalid_token(st, "the token's client no longer exists"), named()));
    };
    if !claims.scopes().contains(&scope) || !held.iter().any(|s| s == scope) {
        return Err((
            insufficient_scope(st, scope, format!("this management request needs {scope}")),
            named(),
        ));
    }
    Ok(Actor::Client(client_id))
}

/// The middleware in front of every `/admin` route: authorize, run the handler, audit the call.
pub async fn guard(State(st): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let scope = required_scope(&method, &path);
    match authorize(&st, req.headers(), scope) {
        Ok(actor) => {
            req.extensions_mut().insert(actor.clone());
            let resp = next.run(req).await;
            let status = resp.status().as_u16();
            st.audit(
                "admin_request",
                json!({"actor": actor.as_str(), "method": method.as_str(), "path": path, "status": status,
                       "scope": scope, "outcome": if status < 400 { "success" } else { "failure" }}),
            );
            resp
        }
        Err((e, named)) => {
            st.audit(
                "admin_request",
                json!({"actor": named, "method": method.as_str(), "path": path, "status": e.status.as_u16(),
                       "scope": scope, "outcome": "failure", "error": e.error, "reason": e.description}),
            );
            e.into_response()
        }
    }
}

/// RFC 9728 protected resource metadata of the management API.
pub async fn metadata(State(st): State<Arc<AppState>>) -> Response {
    axum::Json(json!({
        "resource": audience(&st.issuer),
        "authorization_servers": [st.issuer],
        "scopes_supported": MANAGEMENT_SCOPES,
        "bearer_methods_supported": ["header"],
    }))
    .into_response()
}
