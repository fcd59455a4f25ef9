//! The management API under `/admin`, an OAuth-protected resource (see
//! [`crate::management_auth`]): clients (create, list, get, change, delete, rotate and revoke
//! secrets), the scope registry, roles, the audit log and signing keys. Every change is
//! persisted and audited with its actor.

pub mod clients;
pub mod keys;
pub mod logs;
pub mod roles;
pub mod scopes;

use crate::app::AppState;
use crate::management_auth::guard;
use crate::oauth::OAuthError;
use authsec_core::util::{b64url_decode, b64url_encode};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::Router;
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) type Answer = Result<Response, OAuthError>;

/// The `/admin` routes, each behind the management guard.
pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/admin/clients", get(clients::list).post(clients::create))
        .route(
            "/admin/clients/{id}",
            get(clients::get).patch(clients::patch).delete(clients::delete),
        )
        .route("/admin/clients/{id}/secrets", post(clients::rotate_secret))
        .route(
            "/admin/clients/{id}/secrets/{secret_id}",
            delete(clients::revoke_secret),
        )
        .route("/admin/scopes", get(scopes::list).post(scopes::create))
        .route("/admin/scopes/{name}", delete(scopes::delete))
        .route("/admin/roles", get(roles::list).post(roles::create))
        .route(
            "/admin/roles/{name}",
            get(roles::get).put(roles::put).delete(roles::delete),
        )
        .route("/admin/logs", get(logs::list))
        .route("/admin/keys", get(keys::list))
        .route("/admin/keys/rotate", post(keys::rotate))
        .route_layer(axum::middleware::from_fn_with_state(state, guard))
}

pub(crate) fn conflict(d: impl Into<String>) -> OAuthError {
    OAuthError::new(409, "conflict", d)
}

/// A configuration error about a client field as a 400 `invalid_client_metadata`.
pub(crate) fn metadata_error(e: authsec_core::Error) -> OAuthError {
    OAuthError::new(400, "invalid_client_metadata", e.message().to_string())
}

/// A configuration error as a 400 `invalid_request`.
pub(crate) fn invalid(e: authsec_core::Error) -> OAuthError {
    OAuthError::invalid_request(e.message().to_string())
}

/// A list endpoint's query: `limit` (1 to 200, default 50), `cursor` and the `extra` names the
/// endpoint takes; anything else is `invalid_request`.
pub(crate) struct ListQuery {
    pub limit: usize,
    /// The last key of the previous page.
    pub after: Option<String>,
    pub extra: HashMap<String, String>,
}

impl ListQuery {
    pub fn parse(raw: Option<&str>, extra: &[&str]) -> Result<ListQuery, OAuthError> {
        let mut limit = None;
        let mut after = None;
        let mut more = HashMap::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            match k.as_ref() {
                "limit" => limit = Some(v.to_string()),
                "cursor" => {
                    after = Some(
                        b64url_decode(&v)
                            .and_then(|b| String::from_utf8(b).ok())
                            .ok_or_else(|| OAuthError::invalid_request("cursor is not one this server gave"))?,
                    )
                }
                k if extra.contains(&k) => {
                    more.insert(k.to_string(), v.to_string());
                }
                other => {
                    return Err(OAuthError::invalid_request(format!(
                        "unknown query parameter {:?}; use limit, cursor{}",
                        authsec_core::util::truncate(other),
                        extra.iter().map(|e| format!(", {e}")).collect::<String>()
                    )))
                }
            }
        }
        Ok(ListQuery {
            limit: crate::audit_query::parse_limit(limit.as_deref())?,
            after,
            extra: more,
        })
    }
}

/// The opaque cursor for a page that ended at `key`.
pub(crate) fn cursor(key: &str) -> String {
    b64url_encode(key.as_bytes())
}

/// Keep a page of `items` (sorted, past the cursor) and the cursor of the next one.
pub(crate) fn page<T>(mut items: Vec<T>, limit: usize, key: impl Fn(&T) -> &str) -> (Vec<T>, Option<String>) {
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more {
        items.last().map(|i| cursor(key(i)))
    } else {
        None
    };
    (items, next)
}
