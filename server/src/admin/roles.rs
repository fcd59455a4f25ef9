//! `/admin/roles`: create, list, get, replace, delete.

use super::{conflict, invalid, Answer};
use crate::app::{read_json, AppState};
use crate::management_auth::Actor;
use crate::oauth::{json_no_store, OAuthError};
use crate::roles::{clients_listing, Role};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Extension;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

fn no_role() -> OAuthError {
    OAuthError::new(404, "not_found", "no such role")
}

/// A role as shown, with the clients that list it.
fn role_view(r: &Role, st: &AppState) -> Value {
    json!({"name": r.name, "scopes": r.scopes, "audiences": r.audiences,
           "clients": clients_listing(&r.name, st.clients.read().values())})
}

/// The body of `POST /admin/roles` (with `name`) and `PUT /admin/roles/{name}` (`name`
/// optional, equal to the path's when given).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    audiences: Vec<String>,
}

async fn read_role(headers: &HeaderMap, body: Body) -> Result<RoleBody, OAuthError> {
    let v = read_json(headers, body).await?;
    serde_json::from_value(v).map_err(|e| OAuthError::invalid_request(format!("invalid role: {e}")))
}

fn audit_role(st: &AppState, actor: &Actor, event: &str, r: &Role) {
    st.audit(
        event,
        json!({"role": r.name, "actor": actor.as_str(), "scopes": r.scopes, "audiences": r.audiences}),
    );
}

pub async fn list(State(st): State<Arc<AppState>>) -> Answer {
    let list: Vec<Value> = st.roles.read().values().map(|r| role_view(r, &st)).collect();
    Ok(json_no_store(200, json!({ "roles": list, "next_cursor": null })))
}

pub async fn get(State(st): State<Arc<AppState>>, Path(name): Path<String>) -> Answer {
    let roles = st.roles.read();
    let r = roles.get(&name).ok_or_else(no_role)?;
    Ok(json_no_store(200, role_view(r, &st)))
}

pub async fn create(
    State(st): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let b = read_role(&headers, body).await?;
    let name = b
        .name
        .ok_or_else(|| OAuthError::invalid_request("the role needs a name"))?;
    let role = Role::new(&name, &b.scopes, &b.audiences).map_err(invalid)?;
    let mut roles = st.roles.write();
    if roles.contains_key(&name) {
        return Err(conflict(
            "a role with this name exists; change it with PUT /admin/roles/{name}",
        ));
    }
    st.store.put_role(&role)?;
    audit_role(&st, &actor, "role_created", &role);
    roles.insert(name, role.clone());
    Ok(json_no_store(201, role_view(&role, &st)))
}

/// Replace a role's scopes and audiences (or create it); its clients get the new ones from their
/// next token request.
pub async fn put(
    State(st): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let b = read_role(&headers, body).await?;
    if b.name.as_ref().is_some_and(|n| *n != name) {
        return Err(OAuthError::invalid_request(
            "the body's name differs from the path's; a role cannot be renamed",
        ));
    }
    let role = Role::new(&name, &b.scopes, &b.audiences).map_err(invalid)?;
    let mut roles = st.roles.write();
    st.store.put_role(&role)?;
    let existed = roles.insert(name, role.clone()).is_some();
    audit_role(
        &st,
        &actor,
        if existed { "role_updated" } else { "role_created" },
        &role,
    );
    Ok(json_no_store(if existed { 200 } else { 201 }, role_view(&role, &st)))
}

/// Delete a role that no client lists (409 naming the clients otherwise).
pub async fn delete(
    State(st): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path(name): Path<String>,
) -> Answer {
    let mut roles = st.roles.write();
    if !roles.contains_key(&name) {
        return Err(no_role());
    }
    let users = clients_listing(&name, st.clients.read().values());
    if !users.is_empty() {
        return Err(conflict(format!(
            "clients still list this role: {}; remove it from them (PATCH /admin/clients/{{id}}) first",
            users.join(", ")
        )));
    }
    st.store.delete_role(&name)?;
    roles.remove(&name);
    st.audit("role_deleted", json!({"role": name, "actor": actor.as_str()}));
    Ok(StatusCode::NO_CONTENT.into_response())
}
