//! RFC 7591 dynamic client registration and RFC 7592 client configuration, off unless the config
//! has a `dynamic_registration` section.
//!
//! `POST /oauth/register` with `Authorization: Bearer <initial access token>` and RFC 7591
//! metadata registers a client (201 with its metadata, `client_id`, `client_id_issued_at`, a
//! generated `client_secret` with `client_secret_expires_at: 0` when it is confidential, and a
//! `registration_access_token` for `registration_client_uri` = `{issuer}/oauth/register/{id}`,
//! where RFC 7592 `GET`, `PUT` (full replacement) and `DELETE` work with that token, which is
//! stored hashed). Scopes must be among `allowed_scopes` (never a management scope), types among
//! `allowed_types`. Metadata this server does not know is ignored (RFC 7591 §2).

use crate::admin::clients::create_from_spec;
use crate::app::{read_json, AppState};
use crate::clients::validate::check_callback;
use crate::clients::{Client, ClientType, SecretHash};
use crate::config::{ClientSpec, DynamicRegistrationConfig};
use crate::management_auth::{is_management_scope, Actor};
use crate::oauth::{json_no_store, OAuthError};
use authsec_core::{Error, Result, Secret};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The registration settings, checked.
pub struct Registration {
    initial_access_token: Secret,
    allowed_scopes: Vec<String>,
    allowed_types: Vec<ClientType>,
    default_type: ClientType,
}

/// The checks of the section that need no I/O.
pub fn check_config(d: &DynamicRegistrationConfig) -> Result<()> {
    match (&d.initial_access_token, &d.initial_access_token_file) {
        (Some(t), None) if !t.is_empty() => {}
        (None, Some(_)) => {}
        _ => return Err(Error::config(
            "dynamic_registration needs exactly one of initial_access_token (not empty) and initial_access_token_file",
        )),
    }
    for s in &d.allowed_scopes {
        crate::roles::check_scope("dynamic_registration.allowed_scopes", s)?;
        if is_management_scope(s) {
            return Err(Error::config(format!(
                "dynamic_registration.allowed_scopes: {s} is a management scope; a registered client may not hold one"
            )));
        }
    }
    let types = allowed_types(d)?;
    let default = ClientType::parse(d.default_type.as_deref().unwrap_or("m2m"))
        .map_err(|e| Error::config(format!("dynamic_registration.default_type: {}", e.message())))?;
    if !types.contains(&default) {
        return Err(Error::config(
            "dynamic_registration.default_type is not one of allowed_types",
        ));
    }
    Ok(())
}

fn allowed_types(d: &DynamicRegistrationConfig) -> Result<Vec<ClientType>> {
    match &d.allowed_types {
        None => Ok(ClientType::ALL.to_vec()),
        Some(list) => list
            .iter()
            .map(|t| {
                ClientType::parse(t)
                    .map_err(|e| Error::config(format!("dynamic_registration.allowed_types: {}", e.message())))
            })
            .collect(),
    }
}

impl Registration {
    pub fn from_config(d: &DynamicRegistrationConfig) -> Result<Registration> {
        check_config(d)?;
        let token = match (&d.initial_access_token, &d.initial_access_token_file) {
            (Some(t), _) => t.clone(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| {
                    Error::config(format!(
                        "cannot read dynamic_registration.initial_access_token_file {path:?}: {e}"
                    ))
                })?
                .trim()
                .to_string(),
            (None, None) => unreachable!("check_config requires one"),
        };
        if token.is_empty() {
            return Err(Error::config("dynamic_registration.initial_access_token_file is empty"));
        }
        Ok(Registration {
            initial_access_token: Secret::new(token),
            allowed_scopes: d.allowed_scopes.clone(),
            allowed_types: allowed_types(d)?,
            default_type: ClientType::parse(d.default_type.as_deref().unwrap_or("m2m"))?,
        })
    }
}

fn off() -> OAuthError {
    OAuthError::new(
        404,
        "not_found",
        "dynamic client registration is off; the server config has no dynamic_registration section",
    )
}

fn invalid_token(d: &str) -> OAuthError {
    let mut e = OAuthError::new(401, "invalid_token", d);
    e.challenge = Some("Bearer error=\"invalid_token\"".into());
    e
}

fn bad_metadata(d: impl Into<String>) -> OAuthError {
    OAuthError::new(400, "invalid_client_metadata", d)
}

fn bearer(headers: &HeaderMap) -> &str {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.get(..7)
                .filter(|p| p.eq_ignore_ascii_case("bearer "))
                .map(|_| v[7..].trim())
        })
        .unwrap_or("")
}

fn string(m: &Map<String, Value>, k: &str) -> std::result::Result<Option<String>, OAuthError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad_metadata(format!("{k} must be a string"))),
    }
}

fn strings(m: &Map<String, Value>, k: &str) -> std::result::Result<Option<Vec<String>>, OAuthError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|_| bad_metadata(format!("{k} must be a list of strings"))),
    }
}

/// RFC 7591 metadata as a client spec, checked against the registration policy.
fn to_spec(reg: &Registration, m: &Map<String, Value>) -> std::result::Result<(ClientSpec, ClientType), OAuthError> {
    let client_type = match string(m, "client_type")? {
        None => reg.default_type,
        Some(t) => ClientType::parse(&t).map_err(|e| bad_metadata(format!("client_type: {}", e.message())))?,
    };
    if !reg.allowed_types.contains(&client_type) {
        return Err(bad_metadata(format!(
            "client_type: {} clients may not register here",
            client_type.as_str()
        )));
    }
    let scopes: Vec<String> = string(m, "scope")?
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = scopes
        .iter()
        .find(|s| is_management_scope(s) || !reg.allowed_scopes.contains(s))
    {
        return Err(bad_metadata(format!(
            "scope: {:?} may not be registered here{}",
            authsec_core::util::truncate(bad),
            if is_management_scope(bad) {
                " (it is a management scope)"
            } else {
                ""
            }
        )));
    }
    let redirect_uris = strings(m, "redirect_uris")?;
    for u in redirect_uris.iter().flatten() {
        check_callback(u, client_type)
            .map_err(|e| OAuthError::new(400, "invalid_redirect_uri", e.message().to_string()))?;
    }
    let spec = ClientSpec {
        name: string(m, "client_name")?,
        client_type: Some(client_type.as_str().to_string()),
        grant_types: strings(m, "grant_types")?,
        token_endpoint_auth_method: string(m, "token_endpoint_auth_method")?,
        allowed_scopes: scopes,
        callbacks: redirect_uris,
        jwks: m.get("jwks").filter(|v| !v.is_null()).cloned(),
        jwks_uri: string(m, "jwks_uri")?,
        logo: string(m, "logo_uri")?,
        website: string(m, "client_uri")?,
        software_id: string(m, "software_id")?,
        software_version: string(m, "software_version")?,
        ..Default::default()
    };
    Ok((spec, client_type))
}

/// A registered client's metadata as RFC 7591 names it.
fn metadata_view(st: &AppState, c: &Client) -> Value {
    let method = c.token_endpoint_auth_method.clone().or_else(|| {
        if !c.secrets.is_empty() {
            Some("client_secret_basic".into())
        } else if c.jwks.is_some() || c.jwks_uri.is_some() {
            Some("private_key_jwt".into())
        } else {
            None
        }
    });
    let mut v = json!({
        "client_id": c.client_id,
        "client_id_issued_at": c.created_at,
        "client_name": c.name,
        "client_type": c.client_type,
        "grant_types": c.grant_types,
        "token_endpoint_auth_method": method,
        "scope": c.allowed_scopes.join(" "),
        "redirect_uris": c.callbacks,
        "jwks": c.jwks,
        "jwks_uri": c.jwks_uri,
        "logo_uri": c.logo,
        "client_uri": c.website,
        "software_id": c.software_id,
        "software_version": c.software_version,
        "registration_client_uri": format!("{}/oauth/register/{}", st.issuer, c.client_id),
    });
    if let Value::Object(m) = &mut v {
        m.retain(|_, x| !x.is_null());
    }
    v
}

fn refuse(st: &AppState, event: &str, e: OAuthError, client_id: Option<&str>) -> Response {
    crate::app::audit_failure(st, event, &e, client_id);
    e.into_response()
}

async fn metadata_body(headers: &HeaderMap, body: Body) -> std::result::Result<Map<String, Value>, OAuthError> {
    match read_json(headers, body).await? {
        Value::Object(m) => Ok(m),
        _ => Err(OAuthError::invalid_request(
            "the body must be a JSON object of client metadata",
        )),
    }
}

/// `POST /oauth/register`.
pub async fn register(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let Some(reg) = &st.registration else {
        return off().into_response();
    };
    let given = bearer(&headers);
    if given.is_empty()
        || !authsec_core::secret::constant_time_eq(given.as_bytes(), reg.initial_access_token.expose().as_bytes())
    {
        return refuse(
            &st,
            "client_registered",
            invalid_token("registration needs Authorization: Bearer <initial access token>"),
            None,
        );
    }
    let result = async {
        let m = metadata_body(&headers, body).await?;
        let (spec, _) = to_spec(reg, &m)?;
        let token = format!("reg_{}", authsec_core::random::random_id(32)?);
        let (mut view, mut client) = create_from_spec(&st, &Actor::Registration, &spec).map_err(|e| {
            if e.error == "invalid_client_metadata" {
                e
            } else {
                bad_metadata(e.description)
            }
        })?;
        client.registration_token = Some(SecretHash::new(&token, st.now())?);
        st.store.put_client(&client)?;
        if let Some(c) = st.clients.write().get_mut(&client.client_id) {
            c.registration_token = client.registration_token.clone();
        }
        let mut out = metadata_view(&st, &client);
        if let Some(secret) = view.get_mut("client_secret").map(Value::take) {
            out["client_secret"] = secret;
            out["client_secret_expires_at"] = json!(0);
        }
        out["registration_access_token"] = json!(token);
        Ok::<_, OAuthError>(json_no_store(201, out))
    }
    .await;
    result.unwrap_or_else(|e| refuse(&st, "client_registered", e, None))
}

/// The client a RFC 7592 request is about, when its registration access token is right.
fn configured(st: &AppState, headers: &HeaderMap, id: &str) -> std::result::Result<Client, OAuthError> {
    if st.registration.is_none() {
        return Err(off());
    }
    let given = bearer(headers);
    let now = st.now();
    st.clients
        .read()
        .get(id)
        .filter(|c| !given.is_empty() && c.registration_token.as_ref().is_some_and(|h| h.matches(given, now)))
        .cloned()
        .ok_or_else(|| invalid_token("this client's registration_access_token is needed (Authorization: Bearer)"))
}

/// RFC 7592 §2.1: read.
pub async fn read(State(st): State<Arc<AppState>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    match configured(&st, &headers, &id) {
        Ok(c) => json_no_store(200, metadata_view(&st, &c)),
        Err(e) => refuse(&st, "client_registration_read", e, Some(&id)),
    }
}

/// RFC 7592 §2.2: replace the metadata (`client_secret` may be echoed, not changed).
pub async fn update(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let result = async {
        let current = configured(&st, &headers, &id)?;
        let reg = st.registration.as_ref().ok_or_else(off)?;
        let m = metadata_body(&headers, body).await?;
        if m.get("client_id").and_then(Value::as_str) != Some(id.as_str()) {
            return Err(bad_metadata("client_id: the body must carry this client's client_id"));
        }
        if let Some(s) = string(&m, "client_secret")? {
            if !current.secret_matches(&s, st.now()) {
                return Err(bad_metadata("client_secret: may be echoed but not changed"));
            }
        }
        let (spec, client_type) = to_spec(reg, &m)?;
        if client_type != current.client_type {
            return Err(bad_metadata("client_type: cannot change"));
        }
        let roles = st.roles.read();
        let mut clients = st.clients.write();
        let existing = clients.get(&id).ok_or_else(|| invalid_token("no such client"))?;
        let (c, _) = Client::build(&spec, st.cfg.token_lifetime, &roles, st.now(), Some(existing))
            .map_err(|e| bad_metadata(e.message().to_string()))?;
        st.store.put_client(&c)?;
        st.audit("client_registration_updated", json!({"client_id": id}));
        let out = metadata_view(&st, &c);
        clients.insert(id.clone(), c);
        Ok(json_no_store(200, out))
    }
    .await;
    result.unwrap_or_else(|e| refuse(&st, "client_registration_updated", e, Some(&id)))
}

/// RFC 7592 §2.3: delete.
pub async fn delete(State(st): State<Arc<AppState>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(e) = configured(&st, &headers, &id) {
        return refuse(&st, "client_registration_deleted", e, Some(&id));
    }
    st.clients.write().remove(&id);
    if let Err(e) = st.store.delete_client(&id) {
        return OAuthError::from(e).into_response();
    }
    st.audit("client_registration_deleted", json!({"client_id": id}));
    StatusCode::NO_CONTENT.into_response()
}
