//! Building cases: the vector-file and case builders, the issuer's usual claims and header, and
//! the small JSON helpers the case modules share.

use super::json::{canon, pretty};
use super::signing::Gen;
use authsec_core::util::b64url_encode;
use authsec_core::Alg;
use serde_json::{json, Map, Value};

/// The fixed "current time" of every case (2023-11-14T22:13:20Z).
pub(crate) const NOW: i64 = 1_700_000_000;
pub(crate) const ISS: &str = "https://issuer.example";
pub(crate) const AUD: &str = "https://api.example";
const SUB: &str = "svc-reporting";

pub(crate) struct File {
    pub(crate) file: &'static str,
    description: &'static str,
    pub(crate) cases: Vec<Value>,
}

impl File {
    pub(crate) fn new(file: &'static str, description: &'static str) -> File {
        File {
            file,
            description,
            cases: Vec::new(),
        }
    }
    pub(crate) fn push(&mut self, c: Case) {
        let mut m = Map::new();
        m.insert("name".into(), json!(c.name));
        m.insert("description".into(), json!(c.description));
        m.insert("token".into(), json!(c.token));
        m.insert("jwks".into(), c.jwks);
        m.insert("options".into(), Value::Object(c.options));
        if let Some(s) = c.scopes {
            m.insert("required_scopes".into(), s);
        }
        m.insert("expect".into(), c.expect.expect("every case has an expectation"));
        self.cases.push(Value::Object(m));
    }
    pub(crate) fn render(&self, g: &Gen) -> Result<String, String> {
        let mut sets = Map::new();
        for c in &self.cases {
            if let Some(n) = c["jwks"].as_str() {
                sets.insert(n.to_string(), g.key_set(n)?);
            }
        }
        Ok(pretty(&json!({
            "version": 1,
            "description": self.description,
            "jwks": sets,
            "cases": self.cases,
        })))
    }
}

pub(crate) struct Case {
    name: String,
    description: String,
    token: String,
    jwks: Value,
    options: Map<String, Value>,
    scopes: Option<Value>,
    expect: Option<Value>,
}

pub(crate) fn case(name: &str, description: &str, token: impl Into<String>) -> Case {
    let mut options = Map::new();
    options.insert("issuer".into(), json!(ISS));
    options.insert("audience".into(), json!([AUD]));
    options.insert("now".into(), json!(NOW));
    Case {
        name: name.into(),
        description: description.into(),
        token: token.into(),
        jwks: json!("main"),
        options,
        scopes: None,
        expect: None,
    }
}

impl Case {
    pub(crate) fn jwks(mut self, set: &str) -> Self {
        self.jwks = json!(set);
        self
    }
    pub(crate) fn inline_jwks(mut self, v: Value) -> Self {
        self.jwks = v;
        self
    }
    /// Set an option (`del()` removes it).
    pub(crate) fn opt(mut self, k: &str, v: Value) -> Self {
        if is_del(&v) {
            self.options.remove(k);
        } else {
            self.options.insert(k.into(), v);
        }
        self
    }
    pub(crate) fn all_of(self, s: &[&str]) -> Self {
        self.scopes_req(s, &[])
    }
    pub(crate) fn any_of(self, s: &[&str]) -> Self {
        self.scopes_req(&[], s)
    }
    pub(crate) fn scopes_req(mut self, all: &[&str], any: &[&str]) -> Self {
        let mut m = Map::new();
        if !all.is_empty() {
            m.insert("all_of".into(), json!(all));
        }
        if !any.is_empty() {
            m.insert("any_of".into(), json!(any));
        }
        self.scopes = Some(Value::Object(m));
        self
    }
    pub(crate) fn ok(mut self, claims: &Value) -> Self {
        self.expect = Some(json!({"claims": claims}));
        self
    }
    /// Success, with the delegation chain the runner must report (`[{sub, client_id, iss}]`,
    /// current actor first).
    pub(crate) fn ok_delegated(mut self, claims: &Value, delegation: Value) -> Self {
        self.expect = Some(json!({"claims": claims, "delegation": delegation}));
        self
    }
    pub(crate) fn err(mut self, code: &str) -> Self {
        self.expect = Some(json!({"error": code}));
        self
    }
    pub(crate) fn missing(mut self, scopes: &[&str]) -> Self {
        self.expect = Some(json!({"error": "insufficient_scope", "missing_scopes": scopes}));
        self
    }
}

/// The issuer's usual claims; `jti` is the case name so every token is distinct.
pub(crate) fn claims(jti: &str) -> Value {
    json!({
        "iss": ISS,
        "aud": AUD,
        "sub": SUB,
        "client_id": SUB,
        "iat": NOW - 60,
        "exp": NOW + 600,
        "jti": jti,
        "scope": "read:data write:logs",
    })
}

/// Marks a field to remove (in `with`, `Case::opt`, `Gen::jwk`); JSON null stays a value.
pub(crate) fn del() -> Value {
    json!({"$delete": true})
}

fn is_del(v: &Value) -> bool {
    v.get("$delete").is_some()
}

/// `v` with `changes` applied (`del()` removes the field).
pub(crate) fn with(v: &Value, changes: &[(&str, Value)]) -> Value {
    let mut m = v.as_object().cloned().unwrap_or_default();
    for (k, val) in changes {
        if is_del(val) {
            m.remove(*k);
        } else {
            m.insert(k.to_string(), val.clone());
        }
    }
    Value::Object(m)
}

pub(crate) fn hdr(alg: &str, kid: Option<&str>, typ: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("alg".into(), json!(alg));
    if let Some(k) = kid {
        m.insert("kid".into(), json!(k));
    }
    if let Some(t) = typ {
        m.insert("typ".into(), json!(t));
    }
    Value::Object(m)
}

/// base64url(canonical JSON).
pub(crate) fn seg(v: &Value) -> String {
    b64url_encode(canon(v).as_bytes())
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    b64url_encode(bytes)
}

pub(crate) fn lower(alg: Alg) -> String {
    alg.as_str().to_ascii_lowercase()
}
