//! Delegation (RFC 8693 §4.1): the `act` chain of a verified token and the rules a verifier
//! applies to it.
//!
//! A token issued by token exchange names its subject in `sub` and the party acting for it in
//! `act`; when that party was itself acting for another, the earlier actor is nested inside
//! (`act.act`), so the outermost `act` is the current actor and the deepest the first. RFC 8693
//! §4.1: access decisions use the token's top-level claims and the current actor only; the nested
//! actors are for audit.
//!
//! Every verifier rejects a malformed chain ([`ErrorCode::InvalidDelegation`]): an `act` that is
//! not an object, a link without a string `sub` or `client_id`, a link carrying claims that only
//! mean something at the top level (`exp`, `aud`, `scope`, ...), the same actor twice (a cycle), or
//! nesting deeper than [`MAX_ACT_NESTING`]. A [`DelegationPolicy`] adds what one resource accepts
//! ([`ErrorCode::DelegationNotAllowed`]): no delegation at all, a maximum depth, or a list of
//! actors allowed to act.

use crate::util::{quoted, quoted_list};
use crate::{Error, ErrorCode, Result};
use serde_json::{json, Map, Value};

/// The deepest `act` nesting read at all; deeper is malformed whatever the policy.
pub const MAX_ACT_NESTING: usize = 16;

/// Claims that mean nothing inside `act` (RFC 8693 §4.1: "non-identity claims ... are not
/// meaningful") and would mislead a reader who took them for the token's own.
const TOP_LEVEL_ONLY: [&str; 7] = ["exp", "nbf", "iat", "aud", "scope", "scp", "jti"];

/// One link of a delegation chain: who acted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub sub: Option<String>,
    pub client_id: Option<String>,
    pub iss: Option<String>,
}

impl Actor {
    /// The actor's identifier as policies match it: `client_id`, else `sub`.
    pub fn id(&self) -> &str {
        self.client_id.as_deref().or(self.sub.as_deref()).unwrap_or_default()
    }

    /// `{"sub", "client_id", "iss"}`, absent members left out.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        for (k, v) in [("sub", &self.sub), ("client_id", &self.client_id), ("iss", &self.iss)] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        Value::Object(m)
    }
}

fn invalid(msg: String) -> Error {
    Error::new(ErrorCode::InvalidDelegation, msg)
}

fn string_member(link: &Map<String, Value>, name: &str, depth: usize) -> Result<Option<String>> {
    match link.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("act link {depth}: \"{name}\" must be a string"))),
    }
}

/// Read the `act` chain of a token's claims, current actor first; empty when the token carries
/// no `act`. Errors with [`ErrorCode::InvalidDelegation`] for a malformed chain.
pub fn read_chain(claims: &Map<String, Value>) -> Result<Vec<Actor>> {
    let mut chain: Vec<Actor> = Vec::new();
    let mut next = claims.get("act");
    while let Some(v) = next {
        let depth = chain.len() + 1;
        if depth > MAX_ACT_NESTING {
            return Err(invalid(format!(
                "the act chain is nested more than {MAX_ACT_NESTING} deep; no issuer delegates that far"
            )));
        }
        let Value::Object(link) = v else {
            return Err(invalid(format!(
                "act link {depth} is not a JSON object (RFC 8693 §4.1)"
            )));
        };
        if let Some(bad) = TOP_LEVEL_ONLY.iter().find(|c| link.contains_key(**c)) {
            return Err(invalid(format!(
                "act link {depth} carries \"{bad}\", a claim that only means something at the top level of a token"
            )));
        }
        let actor = Actor {
            sub: string_member(link, "sub", depth)?,
            client_id: string_member(link, "client_id", depth)?,
            iss: string_member(link, "iss", depth)?,
        };
        if actor.id().is_empty() {
            return Err(invalid(format!(
                "act link {depth} names no actor (no string \"sub\" or \"client_id\")"
            )));
        }
        if chain.iter().any(|a| a.id() == actor.id() && a.iss == actor.iss) {
            return Err(invalid(format!(
                "the act chain names {} twice (a cycle)",
                quoted(actor.id())
            )));
        }
        chain.push(actor);
        next = link.get("act");
    }
    Ok(chain)
}

/// What a resource accepts of delegated tokens. The default accepts any well-formed chain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DelegationPolicy {
    /// Refuse every token that carries `act`.
    pub forbid: bool,
    /// The most actors a chain may hold (`None`: up to [`MAX_ACT_NESTING`]).
    pub max_depth: Option<usize>,
    /// When set, the current actor's id ([`Actor::id`]) must be one of these. Tokens without
    /// `act` are not affected: nobody acts for their subject.
    pub allowed_actors: Option<Vec<String>>,
}

impl DelegationPolicy {
    /// Whether this policy refuses anything at all.
    pub fn is_open(&self) -> bool {
        *self == DelegationPolicy::default()
    }

    /// Apply the policy to a chain read by [`read_chain`] (current actor first).
    pub fn check(&self, chain: &[Actor]) -> Result<()> {
        let Some(current) = chain.first() else {
            return Ok(());
        };
        let refuse = |msg: String| Err(Error::new(ErrorCode::DelegationNotAllowed, msg));
        if self.forbid {
            return refuse(format!(
                "this resource accepts no delegated tokens, and {} is acting for the subject; call it with a token of your own",
                quoted(current.id())
            ));
        }
        if let Some(max) = self.max_depth.filter(|m| chain.len() > *m) {
            return refuse(format!(
                "the token's delegation chain has {} actors; this resource accepts at most {max} (max_delegation_depth)",
                chain.len()
            ));
        }
        if let Some(allowed) = &self.allowed_actors {
            if !allowed.iter().any(|a| a == current.id()) {
                return refuse(format!(
                    "the acting party {} is not one of the allowed actors {}",
                    quoted(current.id()),
                    quoted_list(allowed)
                ));
            }
        }
        Ok(())
    }
}

/// The error for an actor refused by a caller's own check (a binding's `allowed_actors`
/// callback), worded like the core's own refusals.
pub fn actor_refused(actor_id: &str) -> Error {
    Error::new(
        ErrorCode::DelegationNotAllowed,
        format!("the acting party {} is not allowed by this resource", quoted(actor_id)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain_of(act: Value) -> Result<Vec<Actor>> {
        let Value::Object(m) = json!({"sub": "user", "act": act}) else {
            unreachable!()
        };
        read_chain(&m)
    }

    fn ids(chain: &[Actor]) -> Vec<&str> {
        chain.iter().map(Actor::id).collect()
    }

    #[test]
    fn reads_the_chain_current_actor_first() {
        let c = chain_of(json!({"sub": "tool", "client_id": "tool-app", "act": {"sub": "agent"}})).unwrap();
        assert_eq!(ids(&c), ["tool-app", "agent"]);
        assert_eq!(c[0].to_value(), json!({"sub": "tool", "client_id": "tool-app"}));
        assert!(read_chain(&Map::new()).unwrap().is_empty());
    }

    #[test]
    fn malformed_chains_are_invalid_delegation() {
        let mut deep = json!({"sub": "a0"});
        for i in 1..=MAX_ACT_NESTING {
            deep = json!({"sub": format!("a{i}"), "act": deep});
        }
        for (act, says) in [
            (json!("agent"), "not a JSON object"),
            (json!(["agent"]), "not a JSON object"),
            (json!({"sub": "a", "act": 5}), "act link 2 is not"),
            (json!({"sub": "a", "exp": 1}), "\"exp\""),
            (json!({"sub": "a", "act": {"sub": "b", "aud": "x"}}), "\"aud\""),
            (json!({"sub": "a", "scope": "admin"}), "\"scope\""),
            (json!({"iss": "x"}), "names no actor"),
            (json!({"sub": 7}), "must be a string"),
            (json!({"sub": "a", "act": {"sub": "b", "act": {"sub": "a"}}}), "twice"),
            (deep, "more than 16"),
        ] {
            let e = chain_of(act.clone()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidDelegation, "{act}");
            assert!(e.message().contains(says), "{act}: {}", e.message());
        }
        // The same id under two issuers is two parties, not a cycle.
        let c = chain_of(json!({"sub": "a", "iss": "x", "act": {"sub": "a", "iss": "y"}})).unwrap();
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn policy_uses_the_current_actor_and_the_depth() {
        let c = chain_of(json!({"client_id": "tool", "act": {"client_id": "agent"}})).unwrap();
        assert!(DelegationPolicy::default().check(&c).is_ok());
        let forbid = DelegationPolicy {
            forbid: true,
            ..Default::default()
        };
        assert_eq!(forbid.check(&c).unwrap_err().code(), ErrorCode::DelegationNotAllowed);
        assert!(forbid.check(&[]).is_ok(), "an undelegated token passes");
        let shallow = DelegationPolicy {
            max_depth: Some(1),
            ..Default::default()
        };
        assert!(shallow.check(&c).unwrap_err().message().contains("has 2 actors"));
        let listed = |ids: &[&str]| DelegationPolicy {
            allowed_actors: Some(ids.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        };
        assert!(listed(&["tool"]).check(&c).is_ok());
        // A prior actor is for audit only: listing it does not admit the current one.
        let e = listed(&["agent"]).check(&c).unwrap_err();
        assert_eq!(e.code(), ErrorCode::DelegationNotAllowed);
        assert!(e.message().contains("\"tool\""), "{}", e.message());
    }
}
