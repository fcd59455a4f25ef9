//! The admin API, behind `Authorization: Bearer <admin_token>` (off, answering 404, without
//! one): clients (create, list, get, change, delete, rotate secrets), roles (create, list, get,
//! replace, delete) and signing keys (list, rotate). Every change is persisted and audited.

use crate::app::{read_json, AppState};
use crate::clients::{Client, SecretHash};
use crate::config::ClientSpec;
use crate::oauth::{json_no_store, OAuthError};
use crate::roles::{clients_listing, Permissions, Role, Roles};
use authsec_core::random::random_id;
use authsec_core::Alg;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use std::sync::Arc;

type Answer = Result<Response, OAuthError>;

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

fn no_client() -> OAuthError {
    OAuthError::new(404, "not_found", "no such client")
}

fn no_role() -> OAuthError {
    OAuthError::new(404, "not_found", "no such role")
}

/// A configuration error as a 400 answer.
fn invalid(e: authsec_core::Error) -> OAuthError {
    OAuthError::invalid_request(e.message().to_string())
}

/// The client as the admin API shows it, with what it may get now through its roles.
fn client_view(c: &Client, roles: &Roles) -> Value {
    let p = Permissions::of(c, roles);
    let mut v = c.public_view();
    v["effective_scopes"] = json!(p.scopes);
    v["effective_audiences"] = json!(p.audiences);
    v
}

// ---------------------------------------------------------------- clients

pub async fn list_clients(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Answer {
    admin_auth(&st, &headers)?;
    let roles = st.roles.read();
    let mut list: Vec<Value> = st.clients.read().values().map(|c| client_view(c, &roles)).collect();
    list.sort_by(|a, b| a["client_id"].as_str().cmp(&b["client_id"].as_str()));
    Ok(json_no_store(200, json!({ "clients": list })))
}

pub async fn get_client(State(st): State<Arc<AppState>>, headers: HeaderMap, Path(id): Path<String>) -> Answer {
    admin_auth(&st, &headers)?;
    let roles = st.roles.read();
    let clients = st.clients.read();
    let c = clients.get(&id).ok_or_else(no_client)?;
    Ok(json_no_store(200, client_view(c, &roles)))
}

pub async fn create_client(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Answer {
    admin_auth(&st, &headers)?;
    let v = read_json(&headers, body).await?;
    let spec: ClientSpec =
        serde_json::from_value(v).map_err(|e| OAuthError::invalid_request(format!("invalid client: {e}")))?;
    // Held until the client is in place, so that its roles cannot be deleted meanwhile.
    let roles = st.roles.read();
    let (client, generated) = Client::from_spec(&spec, st.cfg.token_lifetime, &roles, st.now()).map_err(invalid)?;
    crate::spiffe::check_client(&client, st.spiffe.is_some()).map_err(invalid)?;
    let mut clients = st.clients.write();
    if clients.contains_key(&client.client_id) {
        return Err(OAuthError::new(
            409,
            "invalid_request",
            "a client with this client_id exists",
        ));
    }
    st.store.put_client(&client)?;
    st.audit(
        "client_created",
        json!({"client_id": client.client_id, "type": client.client_type, "roles": client.roles, "grant_types": client.grant_types}),
    );
    let mut out = client_view(&client, &roles);
    if let Some(s) = generated {
        out["client_secret"] = json!(s);
    }
    clients.insert(client.client_id.clone(), client);
    Ok(json_no_store(201, out))
}

/// Deserialize a present field, `null` included, as `Some`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The fields `PATCH /admin/clients/{id}` may change (the token binding flags among them);
/// `"default_scopes": null` unsets them (every effective allowed scope).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientPatch {
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    allowed_scopes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    default_scopes: Option<Value>,
    #[serde(default)]
    audiences: Option<Vec<String>>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    may_act: Option<Vec<String>>,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    dpop_bound_access_tokens: Option<bool>,
    #[serde(default)]
    tls_client_certificate_bound_access_tokens: Option<bool>,
}

pub async fn patch_client(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Answer {
    admin_auth(&st, &headers)?;
    let v = read_json(&headers, body).await?;
    let patch: ClientPatch =
        serde_json::from_value(v).map_err(|e| OAuthError::invalid_request(format!("invalid client change: {e}")))?;
    let roles = st.roles.read();
    let mut clients = st.clients.write();
    let mut c = clients.get(&id).ok_or_else(no_client)?.clone();
    let mut changed: Vec<&str> = Vec::new();
    let dedup = |v: Vec<String>| crate::roles::dedup(&v);
    if let Some(r) = patch.roles {
        c.roles = dedup(r);
        changed.push("roles");
    }
    if let Some(s) = patch.allowed_scopes {
        c.allowed_scopes = s;
        changed.push("allowed_scopes");
    }
    if let Some(d) = patch.default_scopes {
        c.default_scopes = serde_json::from_value(d).map_err(|e| {
            OAuthError::invalid_request(format!("default_scopes must be a list of scopes or null: {e}"))
        })?;
        changed.push("default_scopes");
    }
    if let Some(a) = patch.audiences {
        c.audiences = a;
        changed.push("audiences");
    }
    if let Some(g) = patch.grant_types {
        c.grant_types = dedup(g);
        changed.push("grant_types");
    }
    if let Some(m) = patch.may_act {
        c.may_act = dedup(m);
        changed.push("may_act");
    }
    if let Some(r) = patch.resource {
        c.resource = Some(authsec_core::resource::uri::canonical_resource(&r).map_err(invalid)?);
        changed.push("resource");
    }
    if let Some(b) = patch.dpop_bound_access_tokens {
        c.dpop_bound_access_tokens = b;
        changed.push("dpop_bound_access_tokens");
    }
    if let Some(b) = patch.tls_client_certificate_bound_access_tokens {
        c.tls_client_certificate_bound_access_tokens = b;
        changed.push("tls_client_certificate_bound_access_tokens");
    }
    c.validate(&roles).map_err(invalid)?;
    st.store.put_client(&c)?;
    st.audit(
        "client_updated",
        json!({"client_id": id, "changed": changed, "roles": c.roles, "allowed_scopes": c.allowed_scopes,
               "default_scopes": c.default_scopes, "audiences": c.audiences, "grant_types": c.grant_types, "may_act": c.may_act, "resource": c.resource}),
    );
    let out = client_view(&c, &roles);
    clients.insert(id, c);
    Ok(json_no_store(200, out))
}

pub async fn delete_client(State(st): State<Arc<AppState>>, headers: HeaderMap, Path(id): Path<String>) -> Answer {
    admin_auth(&st, &headers)?;
    st.clients.write().remove(&id).ok_or_else(no_client)?;
    st.store.delete_client(&id)?;
    st.audit("client_deleted", json!({"client_id": id}));
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// New secret; old secrets keep working for `keep_old_for` seconds (default 0: revoked now).
pub async fn rotate_secret(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Answer {
    admin_auth(&st, &headers)?;
    let v = read_json(&headers, body).await?;
    let keep = v
        .get("keep_old_for")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        .clamp(0, 30 * 86_400);
    let now = st.now();
    let secret = format!("sec_{}", random_id(32)?);
    let mut clients = st.clients.write();
    let c = clients.get_mut(&id).ok_or_else(no_client)?;
    c.secrets.retain(|s| s.expires_at.is_none_or(|t| now < t));
    for s in c.secrets.iter_mut() {
        s.expires_at = Some(s.expires_at.unwrap_or(i64::MAX).min(now + keep));
    }
    c.secrets.push(SecretHash::new(&secret, now)?);
    st.store.put_client(c)?;
    st.audit(
        "secret_rotated",
        json!({"client_id": id, "old_secrets_expire_in": keep}),
    );
    Ok(json_no_store(
        200,
        json!({"client_id": id, "client_secret": secret, "old_secrets_expire_at": now + keep}),
    ))
}

// ---------------------------------------------------------------- roles

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

fn audit_role(st: &AppState, event: &str, r: &Role) {
    st.audit(
        event,
        json!({"role": r.name, "scopes": r.scopes, "audiences": r.audiences}),
    );
}

pub async fn list_roles(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Answer {
    admin_auth(&st, &headers)?;
    let list: Vec<Value> = st.roles.read().values().map(|r| role_view(r, &st)).collect();
    Ok(json_no_store(200, json!({ "roles": list })))
}

pub async fn get_role(State(st): State<Arc<AppState>>, headers: HeaderMap, Path(name): Path<String>) -> Answer {
    admin_auth(&st, &headers)?;
    let roles = st.roles.read();
    let r = roles.get(&name).ok_or_else(no_role)?;
    Ok(json_no_store(200, role_view(r, &st)))
}

pub async fn create_role(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Answer {
    admin_auth(&st, &headers)?;
    let b = read_role(&headers, body).await?;
    let name = b
        .name
        .ok_or_else(|| OAuthError::invalid_request("the role needs a name"))?;
    let role = Role::new(&name, &b.scopes, &b.audiences).map_err(invalid)?;
    let mut roles = st.roles.write();
    if roles.contains_key(&name) {
        return Err(OAuthError::new(
            409,
            "invalid_request",
            "a role with this name exists; change it with PUT /admin/roles/{name}",
        ));
    }
    st.store.put_role(&role)?;
    audit_role(&st, "role_created", &role);
    roles.insert(name, role.clone());
    Ok(json_no_store(201, role_view(&role, &st)))
}

/// Replace a role's scopes and audiences (or create it); its clients get the new ones from their
/// next token request.
pub async fn put_role(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Body,
) -> Answer {
    admin_auth(&st, &headers)?;
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
    audit_role(&st, if existed { "role_updated" } else { "role_created" }, &role);
    Ok(json_no_store(if existed { 200 } else { 201 }, role_view(&role, &st)))
}

/// Delete a role that no client lists (409 naming the clients otherwise).
pub async fn delete_role(State(st): State<Arc<AppState>>, headers: HeaderMap, Path(name): Path<String>) -> Answer {
    admin_auth(&st, &headers)?;
    let mut roles = st.roles.write();
    if !roles.contains_key(&name) {
        return Err(no_role());
    }
    let users = clients_listing(&name, st.clients.read().values());
    if !users.is_empty() {
        return Err(OAuthError::new(
            409,
            "invalid_request",
            format!(
                "clients still list this role: {}; remove it from them (PATCH /admin/clients/{{id}}) first",
                users.join(", ")
            ),
        ));
    }
    st.store.delete_role(&name)?;
    roles.remove(&name);
    st.audit("role_deleted", json!({"role": name}));
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------- keys

pub async fn list_keys(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Answer {
    admin_auth(&st, &headers)?;
    let now = st.now();
    Ok(json_no_store(200, json!({"keys": st.keys.lock().describe(now)})))
}

/// Rotate the signing key: `{"alg": "ES256", "activate_in": seconds}` (both optional; the new key is
/// published at once and signs after `activate_in`, by default the JWKS max-age).
pub async fn rotate_key(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Answer {
    admin_auth(&st, &headers)?;
    let v = read_json(&headers, body).await?;
    let alg = match v.get("alg").and_then(Value::as_str) {
        None => st.alg,
        Some(a) => match Alg::parse(a) {
            Ok(a @ (Alg::ES256 | Alg::RS256 | Alg::EdDSA)) => a,
            _ => return Err(OAuthError::invalid_request("alg must be ES256, RS256 or EdDSA")),
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
    let out = st.keys.lock().rotate(&st.store, alg, activate_in, max_lifetime, now)?;
    st.audit(
        "key_rotated",
        json!({"kid": out["kid"], "alg": alg.as_str(), "active_from": out["active_from"]}),
    );
    Ok(json_no_store(200, out))
}
