//! `/admin/clients`: create, list (paged, by `client_id`, optionally of one `type`), get,
//! change (PATCH any mutable field), delete; rotate secrets with an overlap; revoke one secret
//! or every old one.

use super::{conflict, metadata_error, page, Answer, ListQuery};
use crate::app::{read_json, AppState};
use crate::clients::view::secret_view;
use crate::clients::{Client, ClientType};
use crate::config::ClientSpec;
use crate::management_auth::Actor;
use crate::oauth::{json_no_store, OAuthError};
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Extension;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;

fn no_client() -> OAuthError {
    OAuthError::new(404, "not_found", "no such client")
}

fn field_error(field: &str, why: &str) -> OAuthError {
    OAuthError::new(400, "invalid_client_metadata", format!("{field}: {why}"))
}

/// The body of a create or change as an object.
fn object(v: Value) -> Result<Map<String, Value>, OAuthError> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(OAuthError::invalid_request(
            "the body must be a JSON object of client fields",
        )),
    }
}

/// Client fields as a spec. An unknown field is `invalid_client_metadata` naming it (serde's
/// message does); `jwks_file` is for the config file only (the API does not read the server's
/// files).
pub(crate) fn spec_from(m: Map<String, Value>) -> Result<ClientSpec, OAuthError> {
    if m.contains_key("jwks_file") {
        return Err(field_error(
            "jwks_file",
            "is for the config file only; send jwks (the key set) or jwks_uri",
        ));
    }
    serde_json::from_value(Value::Object(m))
        .map_err(|e| OAuthError::new(400, "invalid_client_metadata", format!("invalid client: {e}")))
}

fn secrets_view(st: &AppState, c: &Client) -> Vec<Value> {
    c.secrets
        .iter()
        .map(|s| secret_view(s, st.secret_last_used_at(&s.id)))
        .collect()
}

pub async fn list(State(st): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Answer {
    let q = ListQuery::parse(raw.as_deref(), &["type"])?;
    let only = match q.extra.get("type") {
        Some(t) => Some(ClientType::parse(t).map_err(super::invalid)?),
        None => None,
    };
    let roles = st.roles.read();
    let clients = st.clients.read();
    let mut chosen: Vec<&Client> = clients
        .values()
        .filter(|c| only.is_none_or(|t| c.client_type == t))
        .filter(|c| q.after.as_deref().is_none_or(|a| c.client_id.as_str() > a))
        .collect();
    chosen.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    chosen.truncate(q.limit + 1);
    let (chosen, next) = page(chosen, q.limit, |c| c.client_id.as_str());
    let list: Vec<Value> = chosen.iter().map(|c| st.client_view(c, &roles)).collect();
    Ok(json_no_store(200, json!({"clients": list, "next_cursor": next})))
}

pub async fn get(State(st): State<Arc<AppState>>, Path(id): Path<String>) -> Answer {
    let roles = st.roles.read();
    let clients = st.clients.read();
    let c = clients.get(&id).ok_or_else(no_client)?;
    Ok(json_no_store(200, st.client_view(c, &roles)))
}

pub async fn create(
    State(st): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let spec = spec_from(object(read_json(&headers, body).await?)?)?;
    create_from_spec(&st, &actor, &spec).map(|(v, _)| json_no_store(201, v))
}

/// Create a client (the admin API and dynamic registration); its view (with `client_secret` when
/// one was generated, and `secret_id`) and the client.
pub(crate) fn create_from_spec(st: &AppState, actor: &Actor, spec: &ClientSpec) -> Result<(Value, Client), OAuthError> {
    // Held until the client is in place, so that its roles cannot be deleted meanwhile.
    let roles = st.roles.read();
    let (client, generated) =
        Client::from_spec(spec, st.cfg.token_lifetime, &roles, st.now()).map_err(metadata_error)?;
    crate::spiffe::check_client(&client, st.spiffe.is_some()).map_err(metadata_error)?;
    let mut clients = st.clients.write();
    if clients.contains_key(&client.client_id) {
        return Err(conflict("a client with this client_id exists"));
    }
    st.store.put_client(&client)?;
    st.audit(
        "client_created",
        json!({"client_id": client.client_id, "actor": actor.as_str(), "type": client.client_type,
               "roles": client.roles, "grant_types": client.grant_types,
               "secret_id": client.secrets.first().map(|s| s.id.clone())}),
    );
    let mut out = st.client_view(&client, &roles);
    if let Some(s) = generated {
        out["client_secret"] = json!(s);
    }
    if let Some(s) = client.secrets.first() {
        out["secret_id"] = json!(s.id);
    }
    clients.insert(client.client_id.clone(), client.clone());
    Ok((out, client))
}

/// Merge `change` into a client's fields: a present field replaces, `null` unsets. `client_id`
/// and `type` may be repeated unchanged; `client_secret` never.
pub(crate) fn merged_spec(current: &Client, change: Map<String, Value>) -> Result<ClientSpec, OAuthError> {
    let mut merged = match current.to_spec_value() {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for (k, v) in change {
        match k.as_str() {
            "client_id" if v.as_str() == Some(current.client_id.as_str()) => {}
            "client_id" => return Err(field_error("client_id", "cannot change")),
            "type" if v.as_str().and_then(|t| ClientType::parse(t).ok()) == Some(current.client_type) => {}
            "type" => return Err(field_error("type", "cannot change; create a client of the other type")),
            "client_secret" => {
                return Err(field_error(
                    "client_secret",
                    "cannot change; rotate it with POST /admin/clients/{id}/secrets",
                ))
            }
            _ if v.is_null() => {
                merged.remove(&k);
            }
            _ => {
                merged.insert(k, v);
            }
        }
    }
    spec_from(merged)
}

pub async fn patch(
    State(st): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let change = object(read_json(&headers, body).await?)?;
    let changed: Vec<String> = change.keys().cloned().collect();
    let roles = st.roles.read();
    let mut clients = st.clients.write();
    let current = clients.get(&id).ok_or_else(no_client)?;
    let spec = merged_spec(current, change)?;
    let (c, _) =
        Client::build(&spec, st.cfg.token_lifetime, &roles, st.now(), Some(current)).map_err(metadata_error)?;
    crate::spiffe::check_client(&c, st.spiffe.is_some()).map_err(metadata_error)?;
    st.store.put_client(&c)?;
    st.audit(
        "client_updated",
        json!({"client_id": id, "actor": actor.as_str(), "changed": changed, "roles": c.roles, "allowed_scopes": c.allowed_scopes,
               "default_scopes": c.default_scopes, "audiences": c.audiences, "grant_types": c.grant_types, "may_act": c.may_act,
               "resource": c.resource}),
    );
    let out = st.client_view(&c, &roles);
    clients.insert(id, c);
    Ok(json_no_store(200, out))
}

pub async fn delete(
    State(st): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Answer {
    st.clients.write().remove(&id).ok_or_else(no_client)?;
    st.store.delete_client(&id)?;
    st.audit("client_deleted", json!({"client_id": id, "actor": actor.as_str()}));
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The body of a rotation: `overlap` (or its old name `keep_old_for`), seconds.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Rotation {
    #[serde(default, alias = "keep_old_for")]
    overlap: Option<i64>,
}

/// The longest overlap: 30 days.
const MAX_OVERLAP: i64 = 30 * 86_400;

/// A new secret; the old ones keep working for `overlap` seconds (default a day; 0: they stop now).
pub async fn rotate_secret(
    State(st): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let v = read_json(&headers, body).await?;
    let r: Rotation =
        serde_json::from_value(v).map_err(|e| OAuthError::invalid_request(format!("invalid rotation: {e}")))?;
    let overlap = r.overlap.unwrap_or(86_400);
    if !(0..=MAX_OVERLAP).contains(&overlap) {
        return Err(OAuthError::invalid_request(format!(
            "overlap must be 0 to {MAX_OVERLAP} seconds (30 days)"
        )));
    }
    let now = st.now();
    let mut clients = st.clients.write();
    let c = clients.get_mut(&id).ok_or_else(no_client)?;
    if !c.may_hold_a_secret() {
        return Err(OAuthError::invalid_request(format!(
            "client {id} authenticates with {}; it has no secret to rotate",
            c.token_endpoint_auth_method.as_deref().unwrap_or("its keys")
        )));
    }
    let mut next = c.clone();
    let (secret, secret_id) = next.rotate_secret(overlap, now)?;
    next.updated_at = now;
    st.store.put_client(&next)?;
    *c = next;
    st.audit(
        "secret_rotated",
        json!({"client_id": id, "actor": actor.as_str(), "secret_id": secret_id, "overlap": overlap}),
    );
    Ok(json_no_store(
        200,
        json!({"client_id": id, "client_secret": secret, "secret_id": secret_id,
               "old_secrets_expire_at": now + overlap, "secrets": secrets_view(&st, c)}),
    ))
}

/// Revoke one secret now, or (`old`) every secret but the newest. A client that authenticates
/// with a secret keeps at least one usable secret (409 otherwise: rotate first).
pub async fn revoke_secret(
    State(st): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path((id, secret_id)): Path<(String, String)>,
) -> Answer {
    let now = st.now();
    let mut clients = st.clients.write();
    let c = clients.get_mut(&id).ok_or_else(no_client)?;
    let mut next = c.clone();
    let revoked: Vec<String> = if secret_id == "old" {
        let keep = next.secrets.len().saturating_sub(1);
        next.secrets.drain(..keep).map(|s| s.id).collect()
    } else {
        let i = next
            .secrets
            .iter()
            .position(|s| s.id == secret_id)
            .ok_or_else(|| OAuthError::new(404, "not_found", "this client has no secret with this id"))?;
        vec![next.secrets.remove(i).id]
    };
    if next.needs_a_secret() && !next.secrets.iter().any(|s| s.usable(now)) {
        return Err(conflict(format!(
            "client {id} authenticates with a secret and this would leave it none; rotate first \
             (POST /admin/clients/{{id}}/secrets), then revoke the old one"
        )));
    }
    next.updated_at = now;
    st.store.put_client(&next)?;
    *c = next;
    st.audit(
        "secret_revoked",
        json!({"client_id": id, "actor": actor.as_str(), "secret_ids": revoked}),
    );
    Ok(json_no_store(
        200,
        json!({"client_id": id, "secrets": secrets_view(&st, c)}),
    ))
}
