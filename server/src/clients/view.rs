//! A client as the admin API shows it: every field that is set, its secrets by id (never a
//! hash), the authentication methods it may use, and what it may get through its roles.

use super::{is_tls_method, Client, SecretHash, AUTH_METHODS, SPIFFE_JWT};
use crate::roles::{Permissions, Roles};
use serde_json::{json, Value};

/// A secret as shown: `{"id", "created_at", "expires_at", "last_used_at"}`.
pub fn secret_view(s: &SecretHash, last_used_at: Option<i64>) -> Value {
    json!({"id": s.id, "created_at": s.created_at, "expires_at": s.expires_at, "last_used_at": last_used_at})
}

impl Client {
    /// The client as shown by the admin API, with its secrets' last use from `last_used`.
    pub fn public_view(&self, roles: &Roles, last_used: &dyn Fn(&str) -> Option<i64>) -> Value {
        let p = Permissions::of(self, roles);
        let mut v = self.to_spec_value();
        v["client_id"] = json!(self.client_id);
        v["type"] = json!(self.client_type);
        v["auth_methods"] = json!(self.auth_methods());
        v["secrets"] = self.secrets.iter().map(|s| secret_view(s, last_used(&s.id))).collect();
        v["effective_scopes"] = json!(p.scopes);
        v["effective_audiences"] = json!(p.audiences);
        v["created_at"] = json!(self.created_at);
        v["updated_at"] = json!(if self.updated_at == 0 {
            self.created_at
        } else {
            self.updated_at
        });
        v
    }

    /// The methods this client may authenticate with now.
    pub fn auth_methods(&self) -> Vec<&'static str> {
        if let Some(only) = &self.token_endpoint_auth_method {
            return AUTH_METHODS.iter().filter(|m| *m == only).copied().collect();
        }
        let mut m = Vec::new();
        if !self.secrets.is_empty() {
            m.extend(["client_secret_basic", "client_secret_post"]);
        }
        if self.jwks.is_some() || self.jwks_uri.is_some() {
            m.push("private_key_jwt");
        }
        if self.spiffe_id.is_some() {
            m.push(SPIFFE_JWT);
        }
        debug_assert!(m.iter().all(|x| !is_tls_method(Some(x))));
        m
    }
}
