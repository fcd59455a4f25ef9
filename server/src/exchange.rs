//! RFC 8693 token exchange (`grant_type=urn:ietf:params:oauth:grant-type:token-exchange`): the
//! authenticated client is the actor; it trades a subject token issued by this server for a
//! token that acts on the subject's behalf with at most the subject's rights.
//!
//! - `scope` = requested ∩ the subject token's scope ∩ the actor's effective allowed scopes; a
//!   requested scope outside that is `invalid_scope`, never dropped silently.
//! - `aud` ⊆ the subject token's `aud` ∩ the actor's effective audiences (`invalid_target`).
//! - `exp` = min(now + the actor's token lifetime, the subject token's `exp`).
//! - `sub` is the subject's; `client_id` the actor's; `act` names the actor with the subject
//!   token's own `act` nested inside (RFC 8693 §4.1), so the whole chain stays visible. There are
//!   no impersonation tokens: every exchanged token carries `act`, so a delegated token can never
//!   be exchanged into one without it.
//! - A subject token's `may_act` must name the actor; the chain may be at most
//!   `token_exchange.max_delegation_depth` deep and may not name an actor twice.
//! - The issued token is bound to the DPoP key of the exchange request's proof, if any (and to
//!   the actor's client certificate when it asks for certificate binding); the subject token's
//!   own binding does not carry over.
//! - Every exchange is recorded (new `jti` → subject `jti`), so revoking a token deactivates
//!   every token exchanged from it.

use crate::app::{is_active, verify_own_token, AppState};
use crate::client_auth::{Authenticated, Refusal};
use crate::clients::Client;
use crate::dpop::Binding;
use crate::oauth::{Form, OAuthError, TOKEN_TYPES, TOKEN_TYPE_ACCESS_TOKEN};
use crate::token::{names, requested_scopes, sign_access_token, token_response, NewToken};
use authsec_core::util::quoted;
use authsec_core::{Actor, Claims};
use axum::response::Response;
use serde_json::{json, Value};

fn invalid_grant(d: impl Into<String>) -> OAuthError {
    OAuthError::new(400, "invalid_grant", d)
}

/// The nested `act` claim for a chain (current actor first; the core's [`Actor`]s): each level
/// holds the actor's identity claims only, never `exp`, `aud`, `nbf` or `iat`.
pub fn act_claim(chain: &[Actor]) -> Option<Value> {
    chain.iter().rev().fold(None, |inner, a| {
        let mut v = a.to_value();
        if let Some(i) = inner {
            v["act"] = i;
        }
        Some(v)
    })
}

/// Whether a `may_act` claim names `client_id` in its `sub` (a string or an array).
fn may_act_names(may_act: &Value, client_id: &str) -> bool {
    match may_act.get("sub") {
        Some(Value::String(s)) => s == client_id,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(client_id)),
        _ => false,
    }
}

/// A token type parameter: absent (`Ok(None)`), or one of the supported URNs.
fn token_type(form: &Form, name: &str) -> Result<Option<&'static str>, OAuthError> {
    match form.get(name) {
        None => Ok(None),
        Some(t) => TOKEN_TYPES.iter().find(|x| **x == t).copied().map(Some).ok_or_else(|| {
            OAuthError::invalid_request(format!(
                "{name} is not supported; use {} or {}",
                TOKEN_TYPES[0], TOKEN_TYPES[1]
            ))
        }),
    }
}

pub fn exchange(
    st: &AppState,
    authn: &Authenticated,
    form: &Form,
    binding: &Binding,
    spiffe_id: Option<&str>,
) -> Result<Response, Refusal> {
    let actor: &Client = &authn.client;
    let refuse = |e: OAuthError| (e, Some(actor.client_id.clone()));
    // Parameters (RFC 8693 §2.1).
    let subject_token = form.get("subject_token").filter(|t| !t.is_empty()).ok_or_else(|| {
        refuse(OAuthError::invalid_request(
            "subject_token is missing; send the token to exchange as subject_token",
        ))
    })?;
    if token_type(form, "subject_token_type").map_err(refuse)?.is_none() {
        return Err(refuse(OAuthError::invalid_request(format!(
            "subject_token_type is missing; use {} or {}",
            TOKEN_TYPES[0], TOKEN_TYPES[1]
        ))));
    }
    let actor_token = form.get("actor_token");
    match (actor_token, token_type(form, "actor_token_type").map_err(refuse)?) {
        (Some(_), None) => {
            return Err(refuse(OAuthError::invalid_request(
                "actor_token_type is missing; it is required with actor_token",
            )))
        }
        (None, Some(_)) => {
            return Err(refuse(OAuthError::invalid_request(
                "actor_token_type was sent without actor_token; send both or neither",
            )))
        }
        _ => {}
    }
    let issued_type = token_type(form, "requested_token_type")
        .map_err(refuse)?
        .unwrap_or(TOKEN_TYPE_ACCESS_TOKEN);

    // The subject token: ours, valid now, active.
    let subject = verify_own_token(st, subject_token).map_err(|e| {
        refuse(invalid_grant(format!(
            "the subject_token was rejected ({}); send an unexpired access token issued by this server",
            e.code()
        )))
    })?;
    let subject_jti = subject.jti().unwrap_or_default().to_string();
    // A management token stays with its client: it is never exchanged, and no exchange yields one.
    let admin = crate::management_auth::audience(&st.issuer);
    if subject.audience().iter().any(|a| same_audience(&admin, a)) {
        return Err(refuse(OAuthError::new(
            400,
            "invalid_target",
            format!("the subject_token is a token for the management API ({admin}); such a token cannot be exchanged"),
        )));
    }
    if let Some(a) = form
        .all("audience")
        .into_iter()
        .chain(form.all("resource"))
        .find(|a| same_audience(&admin, a))
    {
        return Err(refuse(OAuthError::new(
            400,
            "invalid_target",
            format!(
                "{} is the management API; its tokens come from client credentials only, never from an exchange",
                quoted(a)
            ),
        )));
    }
    if !is_active(st, &subject) {
        return Err(refuse(invalid_grant(
            "the subject_token is not active: it, or a token it was exchanged from, was revoked",
        )));
    }
    let Some(subject_sub) = subject.subject().map(str::to_string) else {
        return Err(refuse(invalid_grant("the subject_token has no sub claim")));
    };

    // The actor: the authenticated client, named by its actor_token's `sub` when it sends one.
    let actor_sub = match actor_token {
        None => actor.client_id.clone(),
        Some(t) => {
            let c = verify_own_token(st, t)
                .ok()
                .filter(|c| is_active(st, c))
                .ok_or_else(|| {
                    refuse(OAuthError::invalid_request(
                        "the actor_token is not an active, unexpired token issued by this server",
                    ))
                })?;
            if c.client_id() != Some(actor.client_id.as_str()) {
                return Err(refuse(OAuthError::invalid_request(
                    "the actor_token was not issued to the requesting client; send one of your own tokens",
                )));
            }
            c.subject().unwrap_or(actor.client_id.as_str()).to_string()
        }
    };
    let me = Actor {
        sub: Some(actor_sub),
        client_id: Some(actor.client_id.clone()),
        iss: None,
    };

    // Who may act: the subject's `may_act`, the chain's depth, no actor twice.
    if let Some(m) = subject.get("may_act") {
        if !may_act_names(m, &actor.client_id) {
            return Err(refuse(invalid_grant(format!(
                "the subject token's may_act does not name {}; only the clients it names may exchange it",
                quoted(&actor.client_id)
            ))));
        }
    }
    // The subject's chain as the core read it when it verified the token (a malformed `act`
    // already failed verification).
    let limit = st.max_delegation_depth;
    let previous = subject.delegation().to_vec();
    if previous
        .iter()
        .any(|a| a.client_id == me.client_id || (a.sub.is_some() && a.sub == me.sub))
    {
        return Err(refuse(invalid_grant(format!(
            "{} already acts in the subject token's delegation chain; an actor may appear in it only once",
            quoted(&actor.client_id)
        ))));
    }
    if previous.len() + 1 > limit {
        return Err(refuse(invalid_grant(format!(
            "the exchanged token would be delegated {} levels deep; this server allows at most {limit} (token_exchange.max_delegation_depth)",
            previous.len() + 1
        ))));
    }

    let perms = st.permissions(actor);
    let scopes = exchange_scopes(&subject, &perms.scopes, form).map_err(refuse)?;
    let mut allowed_aud = perms.audiences;
    if allowed_aud.is_empty() {
        allowed_aud.push(st.default_audience());
    }
    let aud = exchange_audiences(&subject, &allowed_aud, form).map_err(refuse)?;

    let now = st.now();
    let exp = (now + actor.token_lifetime as i64).min(subject.expires_at());
    if exp <= now {
        return Err(refuse(invalid_grant("the subject_token has expired")));
    }
    let mut chain = vec![me];
    chain.extend(previous);
    let signed = sign_access_token(
        st,
        NewToken {
            sub: &subject_sub,
            holder: actor,
            aud: &aud,
            scopes: &scopes,
            iat: now,
            exp,
            act: act_claim(&chain),
            cnf: binding.cnf(),
        },
    )
    .map_err(refuse)?;
    st.store
        .record_exchange(&signed.jti, &subject_jti, exp)
        .map_err(|e| refuse(e.into()))?;
    st.audit(
        "token_exchange",
        json!({"outcome": "issued", "client_id": actor.client_id, "auth_method": authn.method.as_str(),
               "secret_id": authn.secret_id, "sub": subject_sub,
               "chain": chain.iter().map(Actor::id).collect::<Vec<_>>(), "jti": signed.jti, "subject_jti": subject_jti,
               "kid": signed.kid, "scope": scopes.join(" "), "aud": aud, "expires_in": exp - now,
               "issued_token_type": issued_type, "token_type": binding.token_type(), "cnf": binding.cnf(),
               "spiffe_id": spiffe_id}),
    );
    Ok(token_response(
        &signed.token,
        binding.token_type(),
        exp - now,
        &scopes,
        Some(issued_type),
    ))
}

/// requested ∩ subject's scope ∩ the actor's allowed scopes; without a request, subject ∩ allowed.
fn exchange_scopes(subject: &Claims, allowed: &[String], form: &Form) -> Result<Vec<String>, OAuthError> {
    let held = subject.scopes();
    let grantable = |s: &str| held.contains(&s) && allowed.iter().any(|a| a == s);
    match requested_scopes(form) {
        Some(req) => {
            let outside_subject: Vec<&str> = req.iter().map(String::as_str).filter(|s| !held.contains(s)).collect();
            let outside_actor: Vec<&str> = req
                .iter()
                .map(String::as_str)
                .filter(|s| held.contains(s) && !grantable(s))
                .collect();
            if outside_subject.is_empty() && outside_actor.is_empty() {
                return Ok(req);
            }
            let mut why = Vec::new();
            if !outside_subject.is_empty() {
                why.push(format!("{} not in the subject token's scope", names(&outside_subject)));
            }
            if !outside_actor.is_empty() {
                why.push(format!("{} not allowed for this client", names(&outside_actor)));
            }
            Err(OAuthError::new(
                400,
                "invalid_scope",
                format!(
                    "scope(s) cannot be granted by exchange: {}; request scopes the subject token holds and this client may get",
                    why.join("; ")
                ),
            ))
        }
        None => {
            let out: Vec<String> = held.iter().filter(|s| grantable(s)).map(|s| s.to_string()).collect();
            if out.is_empty() {
                return Err(OAuthError::new(
                    400,
                    "invalid_scope",
                    "no scope of the subject token is allowed for this client, so there is nothing to grant",
                ));
            }
            Ok(out)
        }
    }
}

/// requested (`audience`, `resource`) ⊆ subject's aud ∩ the actor's audiences; without a
/// request, that intersection.
use crate::roles::{canonical, same_audience};

fn exchange_audiences(subject: &Claims, allowed: &[String], form: &Form) -> Result<Vec<String>, OAuthError> {
    let held = subject.audience();
    let holds = |a: &str| held.iter().any(|h| same_audience(h, a));
    let ok = |a: &str| holds(a) && allowed.iter().any(|x| same_audience(x, a));
    let mut requested: Vec<String> = Vec::new();
    for a in form.all("audience").into_iter().chain(form.all("resource")) {
        if !ok(a) {
            let why = if holds(a) {
                "is not an audience this client may get"
            } else {
                "is not an audience of the subject token"
            };
            return Err(OAuthError::new(
                400,
                "invalid_target",
                format!(
                    "audience/resource {} {why}; an exchanged token can only narrow the subject token's audience",
                    quoted(a)
                ),
            ));
        }
        let a = canonical(a);
        if !requested.contains(&a) {
            requested.push(a);
        }
    }
    if !requested.is_empty() {
        return Ok(requested);
    }
    let out: Vec<String> = held.iter().filter(|a| ok(a)).map(|a| a.to_string()).collect();
    if out.is_empty() {
        return Err(OAuthError::new(
            400,
            "invalid_target",
            "none of the subject token's audiences is one this client may get, so there is no audience to grant",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn act_claims_nest_the_chain_as_the_core_reads_it() {
        let a = |s: &str| Actor {
            sub: Some(s.into()),
            client_id: Some(s.into()),
            iss: None,
        };
        let chain = vec![a("tool"), a("sub"), a("agent")];
        let act = act_claim(&chain).unwrap();
        assert_eq!(act["act"]["act"]["client_id"], "agent");
        assert!(act["act"]["act"].get("act").is_none());
        let claims = json!({"act": act});
        let read = authsec_core::access_token::delegation::read_chain(claims.as_object().unwrap()).unwrap();
        assert_eq!(read, chain);
        assert!(act_claim(&[]).is_none());
    }

    #[test]
    fn may_act_is_a_string_or_an_array() {
        assert!(may_act_names(&json!({"sub": "a"}), "a"));
        assert!(!may_act_names(&json!({"sub": "a"}), "b"));
        assert!(may_act_names(&json!({"sub": ["b", "a"]}), "a"));
        assert!(!may_act_names(&json!({"client_id": "a"}), "a"));
    }
}
