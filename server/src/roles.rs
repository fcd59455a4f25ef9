//! Roles: named sets of scopes and audiences that clients list, and a client's effective
//! permissions (its own scopes and audiences plus its roles'). Permissions are resolved at each
//! token request from the current roles, so changing a role, or removing it from a client,
//! applies to the client's next token.

use crate::clients::Client;
use crate::config::RoleSpec;
use authsec_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A role as stored and as shown by the admin API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub audiences: Vec<String>,
}

/// Every role, by name.
pub type Roles = BTreeMap<String, Role>;

impl Role {
    /// A checked role: a name of 1-100 characters from `A-Z a-z 0-9 . _ : -`, scopes with the
    /// characters RFC 6749 §3.3 allows, non-empty audiences; duplicates dropped.
    pub fn new(name: &str, scopes: &[String], audiences: &[String]) -> Result<Role> {
        check_role_name(name)?;
        let owner = format!("role {name:?}");
        for s in scopes {
            check_scope(&owner, s)?;
        }
        for a in audiences {
            check_audience(&owner, a)?;
        }
        Ok(Role {
            name: name.to_string(),
            scopes: dedup(scopes.iter()),
            audiences: dedup(audiences.iter()),
        })
    }

    pub fn from_spec(name: &str, spec: &RoleSpec) -> Result<Role> {
        Role::new(name, &spec.scopes, &spec.audiences)
    }
}

pub fn check_role_name(name: &str) -> Result<()> {
    let ok = (1..=100).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::config(format!(
            "role name {:?} is not 1-100 characters from A-Z a-z 0-9 . _ : -",
            authsec_core::util::truncate(name)
        )))
    }
}

/// A scope token as RFC 6749 §3.3 allows (no space, `"`, `\` or control characters).
pub fn check_scope(owner: &str, s: &str) -> Result<()> {
    if s.is_empty() || s.chars().any(|c| c == ' ' || c == '"' || c == '\\' || c.is_control()) {
        return Err(Error::config(format!(
            "{owner}: scope {s:?} has characters RFC 6749 §3.3 does not allow"
        )));
    }
    Ok(())
}

fn check_audience(owner: &str, a: &str) -> Result<()> {
    if a.is_empty() || a.len() > 2000 || a.chars().any(char::is_control) {
        return Err(Error::config(format!(
            "{owner}: audience {:?} must be 1-2000 printable characters",
            authsec_core::util::truncate(a)
        )));
    }
    Ok(())
}

/// The strings in order, each once.
pub fn dedup<'a>(items: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in items {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

/// Whether an audience a client asked for (`audience`, or an RFC 8707 `resource`) is `allowed`:
/// equal, or the same URL in canonical form (scheme and host case, default port).
pub fn same_audience(allowed: &str, asked: &str) -> bool {
    allowed == asked || canonical(allowed) == canonical(asked)
}

/// An audience as tokens carry it: a URL in canonical form, anything else as given.
pub fn canonical(a: &str) -> String {
    authsec_core::resource::uri::canonical_resource(a).unwrap_or_else(|_| a.to_string())
}

/// What a client may get now: its own scopes and audiences, then its roles' (in the order the
/// client lists them), each once. A role name that no longer exists adds nothing (the admin API
/// refuses to delete a role that a client lists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permissions {
    pub scopes: Vec<String>,
    pub audiences: Vec<String>,
}

impl Permissions {
    pub fn of(client: &Client, roles: &Roles) -> Permissions {
        let listed: Vec<&Role> = client.roles.iter().filter_map(|r| roles.get(r)).collect();
        Permissions {
            scopes: dedup(
                client
                    .allowed_scopes
                    .iter()
                    .chain(listed.iter().flat_map(|r| r.scopes.iter())),
            ),
            audiences: dedup(
                client
                    .audiences
                    .iter()
                    .chain(listed.iter().flat_map(|r| r.audiences.iter())),
            ),
        }
    }

    /// The scopes granted when a request names none: the client's `default_scopes` that are
    /// still allowed, or, when it has none configured, every allowed scope.
    pub fn default_scopes(&self, client: &Client) -> Vec<String> {
        match &client.default_scopes {
            None => self.scopes.clone(),
            Some(d) => d.iter().filter(|s| self.scopes.contains(s)).cloned().collect(),
        }
    }
}

/// The clients that list role `name`, sorted.
pub fn clients_listing<'a>(name: &str, clients: impl IntoIterator<Item = &'a Client>) -> Vec<String> {
    let mut ids: Vec<String> = clients
        .into_iter()
        .filter(|c| c.roles.iter().any(|r| r == name))
        .map(|c| c.client_id.clone())
        .collect();
    ids.sort();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClientSpec;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn permissions_are_the_union_of_the_client_and_its_roles() {
        let mut roles = Roles::new();
        roles.insert(
            "reader".into(),
            Role::new("reader", &strings(&["read", "list"]), &strings(&["https://a"])).unwrap(),
        );
        roles.insert(
            "writer".into(),
            Role::new("writer", &strings(&["write", "read"]), &[]).unwrap(),
        );
        let spec = ClientSpec {
            client_id: Some("c".into()),
            client_secret: Some("s".into()),
            allowed_scopes: strings(&["own"]),
            audiences: strings(&["https://own"]),
            roles: strings(&["writer", "reader"]),
            ..Default::default()
        };
        let (c, _) = Client::from_spec(&spec, 60, &roles, 0).unwrap();
        let p = Permissions::of(&c, &roles);
        assert_eq!(p.scopes, strings(&["own", "write", "read", "list"]));
        assert_eq!(p.audiences, strings(&["https://own", "https://a"]));
        assert_eq!(p.default_scopes(&c), p.scopes, "no default_scopes: every allowed scope");
        roles.remove("reader");
        let p = Permissions::of(&c, &roles);
        assert_eq!(p.scopes, strings(&["own", "write", "read"]));
        assert_eq!(p.audiences, strings(&["https://own"]));
    }

    #[test]
    fn role_names_and_scopes_are_checked() {
        for bad in ["", "a b", "a/b", &"r".repeat(101)] {
            assert!(Role::new(bad, &[], &[]).is_err(), "{bad:?}");
        }
        assert!(Role::new("ok", &strings(&["a b"]), &[]).is_err());
        assert!(Role::new("ok", &[], &strings(&[""])).is_err());
        let r = Role::new("agent:tools-1.x_y", &strings(&["a", "a"]), &[]).unwrap();
        assert_eq!(r.scopes, strings(&["a"]));
    }
}
