//! Verified claims.

use super::delegation::Actor;
use serde_json::{Map, Value};

/// The claims of a verified token, with typed accessors. The full JSON object is kept.
#[derive(Clone, Debug, PartialEq)]
pub struct Claims {
    map: Map<String, Value>,
    pub(crate) exp_ms: i64,
    pub(crate) nbf_ms: Option<i64>,
    pub(crate) iat_ms: Option<i64>,
    /// The `act` chain, current actor first (checked when the token was verified).
    actors: Vec<Actor>,
    /// Granted scopes, read once when the token is verified: a cached token's scope check (every
    /// repeated verify) then compares strings without splitting `scope` again.
    scopes: Vec<String>,
}

impl Claims {
    pub(crate) fn new(
        map: Map<String, Value>,
        exp_ms: i64,
        nbf_ms: Option<i64>,
        iat_ms: Option<i64>,
        actors: Vec<Actor>,
    ) -> Self {
        let scopes = crate::scope::scopes_of(&map).into_iter().map(str::to_string).collect();
        Claims {
            map,
            exp_ms,
            nbf_ms,
            iat_ms,
            actors,
            scopes,
        }
    }
    /// All claims as a JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name)
    }
    fn str_claim(&self, name: &str) -> Option<&str> {
        self.map.get(name).and_then(Value::as_str)
    }
    pub fn issuer(&self) -> Option<&str> {
        self.str_claim("iss")
    }
    pub fn subject(&self) -> Option<&str> {
        self.str_claim("sub")
    }
    pub fn client_id(&self) -> Option<&str> {
        self.str_claim("client_id").or_else(|| self.str_claim("azp"))
    }
    pub fn jti(&self) -> Option<&str> {
        self.str_claim("jti")
    }
    /// `aud` as a list (a string becomes a one-element list).
    pub fn audience(&self) -> Vec<&str> {
        match self.map.get("aud") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }
    /// `exp` in Unix seconds.
    pub fn expires_at(&self) -> i64 {
        self.exp_ms.div_euclid(1000)
    }
    /// `exp` in Unix milliseconds.
    pub fn expires_at_ms(&self) -> i64 {
        self.exp_ms
    }
    pub fn not_before_ms(&self) -> Option<i64> {
        self.nbf_ms
    }
    pub fn issued_at_ms(&self) -> Option<i64> {
        self.iat_ms
    }
    /// Granted scopes, from `scope` (space-delimited, RFC 8693 / RFC 9068) or `scp` (array or string).
    pub fn scopes(&self) -> Vec<&str> {
        self.scopes.iter().map(String::as_str).collect()
    }
    /// [`Claims::scopes`] without a new list.
    pub fn granted_scopes(&self) -> &[String] {
        &self.scopes
    }
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
    /// The delegation chain (RFC 8693 `act`), current actor first; empty when nobody acts for
    /// the subject. Decide access on the top-level claims and [`Claims::actor`] only: the
    /// earlier actors are for audit (RFC 8693 §4.1).
    pub fn delegation(&self) -> &[Actor] {
        &self.actors
    }
    /// The party acting for the subject now (the outermost `act`), if the token is delegated.
    pub fn actor(&self) -> Option<&Actor> {
        self.actors.first()
    }
    /// [`Claims::delegation`] as a JSON array of `{sub, client_id, iss}` objects.
    pub fn delegation_value(&self) -> Value {
        Value::Array(self.actors.iter().map(Actor::to_value).collect())
    }
    /// The claims as a JSON string.
    pub fn to_json(&self) -> String {
        crate::util::json_text(&self.map)
    }
}
