//! `/admin/keys`: list the signing keys, rotate.

use super::Answer;
use crate::app::{read_json, AppState};
use crate::management_auth::Actor;
use crate::oauth::{json_no_store, OAuthError};
use authsec_core::Alg;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Extension;
use serde_json::{json, Value};
use std::sync::Arc;

pub async fn list(State(st): State<Arc<AppState>>) -> Answer {
    let now = st.now();
    Ok(json_no_store(
        200,
        json!({"keys": st.keys.lock().describe(now), "next_cursor": null}),
    ))
}

/// Rotate the signing key: `{"alg": "ES256", "activate_in": seconds}` (both optional; the new key is
/// published at once and signs after `activate_in`, by default the JWKS max-age).
pub async fn rotate(
    State(st): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
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
        json!({"kid": out["kid"], "actor": actor.as_str(), "alg": alg.as_str(), "active_from": out["active_from"]}),
    );
    Ok(json_no_store(200, out))
}
