//! `/admin/scopes`: the scope registry, the scopes an operator has described. It documents and
//! does not gate: a client may still name an unregistered scope. Registered scopes are listed in
//! the RFC 8414 metadata's `scopes_supported`.

use super::{conflict, invalid, page, Answer, ListQuery};
use crate::app::{read_json, AppState};
use crate::management_auth::{is_management_scope, Actor};
use crate::oauth::{json_no_store, OAuthError};
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Extension;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// The clients and roles that use scope `name` (each sorted).
fn users(st: &AppState, name: &str) -> (Vec<String>, Vec<String>) {
    let mut roles: Vec<String> = st
        .roles
        .read()
        .values()
        .filter(|r| r.scopes.iter().any(|s| s == name))
        .map(|r| r.name.clone())
        .collect();
    let mut clients: Vec<String> = st
        .clients
        .read()
        .values()
        .filter(|c| {
            c.allowed_scopes
                .iter()
                .chain(c.default_scopes.iter().flatten())
                .any(|s| s == name)
        })
        .map(|c| c.client_id.clone())
        .collect();
    roles.sort();
    clients.sort();
    (clients, roles)
}

fn scope_view(st: &AppState, name: &str, description: &str) -> Value {
    let (clients, roles) = users(st, name);
    json!({"name": name, "description": description, "clients": clients, "roles": roles})
}

pub async fn list(State(st): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Answer {
    let q = ListQuery::parse(raw.as_deref(), &[])?;
    let rows = st.store.list_scopes(q.after.as_deref(), q.limit + 1)?;
    let (rows, next) = page(rows, q.limit, |(n, _)| n.as_str());
    let list: Vec<Value> = rows.iter().map(|(n, d)| scope_view(&st, n, d)).collect();
    Ok(json_no_store(200, json!({"scopes": list, "next_cursor": next})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeBody {
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn create(
    State(st): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let v = read_json(&headers, body).await?;
    let b: ScopeBody =
        serde_json::from_value(v).map_err(|e| OAuthError::invalid_request(format!("invalid scope: {e}")))?;
    crate::roles::check_scope("scope", &b.name).map_err(invalid)?;
    if b.name.len() > 200 || b.description.chars().count() > 2000 {
        return Err(OAuthError::invalid_request(
            "a scope name is at most 200 characters and its description at most 2000",
        ));
    }
    if is_management_scope(&b.name) {
        return Err(OAuthError::invalid_request(format!(
            "{} is a management scope; those are built in and cannot be registered",
            b.name
        )));
    }
    if !st.store.add_scope(&b.name, &b.description, st.now())? {
        return Err(conflict(format!("scope {:?} is registered already", b.name)));
    }
    st.audit("scope_created", json!({"scope": b.name, "actor": actor.as_str()}));
    Ok(json_no_store(201, scope_view(&st, &b.name, &b.description)))
}

/// Unregister a scope no client or role uses (409 naming them otherwise).
pub async fn delete(
    State(st): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path(name): Path<String>,
) -> Answer {
    if !st.store.scope_names()?.contains(&name) {
        return Err(OAuthError::new(404, "not_found", "no such scope"));
    }
    let (clients, roles) = users(&st, &name);
    if !clients.is_empty() || !roles.is_empty() {
        let mut who = Vec::new();
        if !clients.is_empty() {
            who.push(format!("clients {}", clients.join(", ")));
        }
        if !roles.is_empty() {
            who.push(format!("roles {}", roles.join(", ")));
        }
        return Err(conflict(format!(
            "scope {name:?} is still used by {}; remove it from them first",
            who.join(" and ")
        )));
    }
    st.store.delete_scope(&name)?;
    st.audit("scope_deleted", json!({"scope": name, "actor": actor.as_str()}));
    Ok(StatusCode::NO_CONTENT.into_response())
}
