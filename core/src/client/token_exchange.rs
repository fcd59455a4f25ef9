//! Token exchange (RFC 8693): trade a token the client holds, the *subject* (typically the access
//! token a service received from its caller), for one the token endpoint issues for another
//! audience, resource or scope. What a service does to call a downstream API on behalf of its
//! caller, instead of forwarding the caller's token.
//!
//! - [`TokenExchange`]: the grant (§2.1): the subject token and its type, an optional actor token
//!   and its type, the requested token type. The tokens are [`Secret`]s (redacted in `Debug`,
//!   zeroized); the cache key holds a keyed hash of them, never the tokens. A JWT subject's (or
//!   actor's) `exp`, read without verification, bounds the exchanged token: the token client never
//!   hands it out past that instant, and refuses an exchange of an expired subject before sending
//!   anything. The response must say it issued the requested type (`issued_token_type`, §2.2.1).
//! - [`ExchangeRequest`]: the grant and what the exchange asks for (scopes, audience, resource),
//!   with the options reader the bindings use ([`ExchangeRequest::from_value`]).
//! - [`Downstream`] and [`ExchangeRequest::downstream`]: "I received this token; get me one for the
//!   downstream API": an exchange of the inbound access token that must name its target.
//! - [`TokenClient::exchange_token`](super::TokenClient::exchange_token) and
//!   [`TokenClient::downstream_token`](super::TokenClient::downstream_token): the exchange through
//!   the token client's cache (single flight, retries, refresh), one entry per (subject, actor,
//!   token types, scopes, audience, resource).
//!
//! The scopes, audience and resource of an exchange do not default to the client configuration's:
//! an exchange asks for what it names, and what it leaves out the server decides from the subject
//! token (RFC 8693 §2.1: it may narrow the token to the subject's audience and scopes).

use super::grant::{Grant, GrantRef};
use super::request::TokenParams;
use super::response::{jwt_exp_ms, Token};
use crate::options::{OptionName, Options};
use crate::random::random_id;
use crate::util::{b64url_encode, quoted};
use crate::{Error, ErrorCode, Result, Secret};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};

/// The token-exchange `grant_type`.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// The namespace of token-type identifiers (RFC 8693 §3).
pub const TOKEN_TYPE_PREFIX: &str = "urn:ietf:params:oauth:token-type:";
/// The access-token type: the default subject, actor and requested type.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The token types that may be given by their short names.
const SHORT_NAMES: [&str; 4] = ["access_token", "jwt", "id_token", "refresh_token"];

/// A token type as sent: `access_token`, `jwt`, `id_token` or `refresh_token` become their
/// `urn:ietf:params:oauth:token-type:` URNs; such a URN is kept; anything else is a `config_error`
/// that names `option` and the value.
pub fn token_type_urn(option: &str, name: &str) -> Result<String> {
    if SHORT_NAMES.contains(&name) {
        return Ok(format!("{TOKEN_TYPE_PREFIX}{name}"));
    }
    if name.strip_prefix(TOKEN_TYPE_PREFIX).is_some_and(is_type_name) {
        return Ok(name.to_string());
    }
    Err(Error::config(format!(
        "`{option}` {} is not a token type: use access_token, jwt, id_token, refresh_token or a {TOKEN_TYPE_PREFIX}* URN",
        quoted(name)
    )))
}

fn is_type_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

/// A token type for a message: whole when it is a well-formed type URN, else [`quoted`].
fn show_type(t: &str) -> String {
    if t.strip_prefix(TOKEN_TYPE_PREFIX).is_some_and(is_type_name) {
        format!("\"{t}\"")
    } else {
        quoted(t)
    }
}

/// The key of the cache-key hashes: random, one per process, never leaves it.
fn process_key() -> Result<&'static str> {
    static KEY: OnceLock<String> = OnceLock::new();
    if let Some(k) = KEY.get() {
        return Ok(k);
    }
    let k = random_id(32)?;
    Ok(KEY.get_or_init(|| k))
}

/// SHA-256 over the process key, what the token is, and the token: tells tokens apart in the
/// cache without keeping anything a dump of the key could be matched against.
fn keyed_hash(role: &str, token: &Secret) -> Result<String> {
    let mut h = Sha256::new();
    h.update(process_key()?.as_bytes());
    h.update([0]);
    h.update(role.as_bytes());
    h.update([0]);
    h.update(token.expose().as_bytes());
    Ok(b64url_encode(&h.finalize()))
}

/// The token-exchange grant (RFC 8693 §2.1). `Debug` never shows the tokens.
#[derive(Clone, Debug)]
pub struct TokenExchange {
    subject_token: Secret,
    subject_token_type: String,
    /// The subject's `exp` (ms), when it is a JWT that has one.
    subject_exp_ms: Option<i64>,
    actor: Option<Actor>,
    requested_token_type: String,
    /// What tells this grant apart in the cache (hashes, types: no secret).
    key: String,
}

#[derive(Clone, Debug)]
struct Actor {
    token: Secret,
    token_type: String,
    exp_ms: Option<i64>,
}

impl TokenExchange {
    /// Exchange `subject_token` of type `subject_token_type` (a short name or a URN) for an access
    /// token. A `config_error` for an empty token or an unknown type.
    pub fn new(subject_token: impl Into<Secret>, subject_token_type: &str) -> Result<TokenExchange> {
        let subject_token = subject_token.into();
        if subject_token.is_empty() {
            return Err(Error::config("the token exchange's `subject_token` is empty"));
        }
        let mut g = TokenExchange {
            subject_exp_ms: jwt_exp_ms(subject_token.expose()),
            subject_token_type: token_type_urn("subject_token_type", subject_token_type)?,
            subject_token,
            actor: None,
            requested_token_type: ACCESS_TOKEN_TYPE.to_string(),
            key: String::new(),
        };
        g.rekey()?;
        Ok(g)
    }

    /// The same exchange with an actor: the party acting for the subject (§1.1, delegation).
    pub fn with_actor(mut self, actor_token: impl Into<Secret>, actor_token_type: &str) -> Result<TokenExchange> {
        let token = actor_token.into();
        if token.is_empty() {
            return Err(Error::config("the token exchange's `actor_token` is empty"));
        }
        self.actor = Some(Actor {
            exp_ms: jwt_exp_ms(token.expose()),
            token_type: token_type_urn("actor_token_type", actor_token_type)?,
            token,
        });
        self.rekey()?;
        Ok(self)
    }

    /// The same exchange asking for another token type than an access token.
    pub fn with_requested_token_type(mut self, requested_token_type: &str) -> Result<TokenExchange> {
        self.requested_token_type = token_type_urn("requested_token_type", requested_token_type)?;
        self.rekey()?;
        Ok(self)
    }

    fn rekey(&mut self) -> Result<()> {
        let mut key = format!(
            "token-exchange subject={} {} requested={}",
            self.subject_token_type,
            keyed_hash("subject", &self.subject_token)?,
            self.requested_token_type
        );
        if let Some(a) = &self.actor {
            key.push_str(&format!(" actor={} {}", a.token_type, keyed_hash("actor", &a.token)?));
        }
        self.key = key;
        Ok(())
    }

    /// The subject token's type (a URN).
    pub fn subject_token_type(&self) -> &str {
        &self.subject_token_type
    }
    /// The actor token's type (a URN), when there is an actor.
    pub fn actor_token_type(&self) -> Option<&str> {
        self.actor.as_ref().map(|a| a.token_type.as_str())
    }
    /// The requested token type (a URN); the response's `issued_token_type` must be it.
    pub fn requested_token_type(&self) -> &str {
        &self.requested_token_type
    }

    /// A `invalid_grant` error, before anything is sent, when the subject (or actor) token is a
    /// JWT whose `exp` has passed at `now_ms`: the server would refuse it.
    pub fn check_unexpired(&self, now_ms: i64) -> Result<()> {
        let expired = |exp: Option<i64>| exp.filter(|e| now_ms >= *e);
        let (which, exp) = match (
            expired(self.subject_exp_ms),
            self.actor.as_ref().and_then(|a| expired(a.exp_ms)),
        ) {
            (Some(e), _) => ("subject", e),
            (None, Some(e)) => ("actor", e),
            (None, None) => return Ok(()),
        };
        Err(Error::new(
            ErrorCode::InvalidGrant,
            format!(
                "the {which} token expired {} s ago (its exp); a token exchange cannot use an expired token: get a fresh {which} token",
                (now_ms - exp) / 1000
            ),
        ))
    }
}

impl Grant for TokenExchange {
    fn grant_type(&self) -> &str {
        GRANT_TYPE
    }
    fn parameters(&self, now_ms: i64) -> Result<Vec<(String, String)>> {
        self.check_unexpired(now_ms)?;
        let mut p = vec![
            ("subject_token".to_string(), self.subject_token.expose().to_string()),
            ("subject_token_type".to_string(), self.subject_token_type.clone()),
        ];
        if let Some(a) = &self.actor {
            p.push(("actor_token".to_string(), a.token.expose().to_string()));
            p.push(("actor_token_type".to_string(), a.token_type.clone()));
        }
        p.push(("requested_token_type".to_string(), self.requested_token_type.clone()));
        Ok(p)
    }
    fn cache_key(&self) -> String {
        self.key.clone()
    }
    /// The earlier `exp` of a JWT subject and a JWT actor token; `None` when neither has one.
    fn not_after_ms(&self) -> Option<i64> {
        let actor = self.actor.as_ref().and_then(|a| a.exp_ms);
        match (self.subject_exp_ms, actor) {
            (Some(s), Some(a)) => Some(s.min(a)),
            (s, a) => s.or(a),
        }
    }
    /// `issued_token_type` is required (§2.2.1) and must be the requested type.
    fn check_token(&self, token: &Token) -> Result<()> {
        let bad = |m: String| Err(Error::new(ErrorCode::InvalidResponse, m));
        match token.issued_token_type.as_deref() {
            Some(t) if t == self.requested_token_type => Ok(()),
            Some(t) => bad(format!(
                "the token-exchange response has issued_token_type {}, not the requested {}",
                show_type(t),
                show_type(&self.requested_token_type)
            )),
            None => bad(format!(
                "the token-exchange response has no issued_token_type (RFC 8693 §2.2.1 requires it; {} was requested)",
                show_type(&self.requested_token_type)
            )),
        }
    }
    fn secrets(&self) -> Vec<&str> {
        let mut s = vec![self.subject_token.expose()];
        if let Some(a) = &self.actor {
            s.push(a.token.expose());
        }
        s
    }
}

/// A token exchange to run: the grant and what it asks for. Unset scopes, audience and resource
/// are not sent (they do not default to the client configuration's). `Debug` never shows the
/// tokens.
#[derive(Clone, Debug)]
pub struct ExchangeRequest {
    pub grant: TokenExchange,
    pub scopes: Vec<String>,
    pub audience: Option<String>,
    pub resource: Vec<String>,
}

/// The options of a token exchange, and their JavaScript spellings.
const EXCHANGE_OPTIONS: [OptionName; 8] = [
    ("subject_token", "subjectToken"),
    ("subject_token_type", "subjectTokenType"),
    ("actor_token", "actorToken"),
    ("actor_token_type", "actorTokenType"),
    ("requested_token_type", "requestedTokenType"),
    ("scopes", "scopes"),
    ("audience", "audience"),
    ("resource", "resource"),
];

/// The options of a downstream token, and their JavaScript spellings.
const DOWNSTREAM_OPTIONS: [OptionName; 4] = [
    ("inbound_token", "inboundToken"),
    ("audience", "audience"),
    ("resource", "resource"),
    ("scopes", "scopes"),
];

impl ExchangeRequest {
    /// An exchange of `grant` that names no scopes, audience or resource.
    pub fn new(grant: TokenExchange) -> ExchangeRequest {
        ExchangeRequest {
            grant,
            scopes: Vec::new(),
            audience: None,
            resource: Vec::new(),
        }
    }

    /// The options as bindings pass them, one object: `subject_token` (required),
    /// `subject_token_type` (default access_token), `actor_token`, `actor_token_type` (default
    /// access_token when there is an actor token), `requested_token_type` (default access_token),
    /// `scopes` (a list or a space-separated string), `audience` (a string), `resource` (a string
    /// or a list). camelCase spellings too; `null` is absent; an unknown option is a
    /// `config_error` that names it.
    pub fn from_value(v: &Value) -> Result<ExchangeRequest> {
        let o = Options::read("token exchange options", v, &EXCHANGE_OPTIONS)?;
        let subject = o
            .string("subject_token")?
            .ok_or_else(|| Error::config("token exchange options: `subject_token` is required"))?;
        let type_of = |name: &str| -> Result<String> { Ok(o.string(name)?.unwrap_or_else(|| "access_token".into())) };
        let mut grant = TokenExchange::new(subject, &type_of("subject_token_type")?)?;
        match o.string("actor_token")? {
            Some(actor) => grant = grant.with_actor(actor, &type_of("actor_token_type")?)?,
            None if o.is_given("actor_token_type") => {
                return Err(Error::config(
                    "token exchange options: `actor_token_type` is given without `actor_token`",
                ))
            }
            None => {}
        }
        if let Some(t) = o.string("requested_token_type")? {
            grant = grant.with_requested_token_type(&t)?;
        }
        let req = ExchangeRequest {
            grant,
            scopes: o.space_separated("scopes")?.unwrap_or_default(),
            audience: o.string("audience")?,
            resource: o.one_or_many("resource")?.unwrap_or_default(),
        };
        req.check_target()?;
        Ok(req)
    }

    /// The downstream-token pattern: exchange `inbound_token`, an access token this service
    /// received, for an access token for the API `target` names (never forward the inbound
    /// token). A `config_error` when the target names neither an audience nor a resource.
    pub fn downstream(inbound_token: impl Into<Secret>, target: Downstream) -> Result<ExchangeRequest> {
        if target.audience.is_none() && target.resource.is_empty() {
            return Err(Error::config(
                "a downstream token must name the API it is for: give `audience` or `resource` (without one the server would issue a token for the inbound token's own audience)",
            ));
        }
        let req = ExchangeRequest {
            grant: TokenExchange::new(inbound_token, "access_token")?,
            scopes: target.scopes,
            audience: target.audience,
            resource: target.resource,
        };
        req.check_target()?;
        Ok(req)
    }

    /// [`ExchangeRequest::downstream`] from the options as bindings pass them: `inbound_token`
    /// (required), `audience`, `resource` (a string or a list), `scopes` (a list or a
    /// space-separated string); camelCase spellings too.
    pub fn downstream_from_value(v: &Value) -> Result<ExchangeRequest> {
        let o = Options::read("downstream token options", v, &DOWNSTREAM_OPTIONS)?;
        let inbound = o
            .string("inbound_token")?
            .ok_or_else(|| Error::config("downstream token options: `inbound_token` is required"))?;
        ExchangeRequest::downstream(
            inbound,
            Downstream {
                audience: o.string("audience")?,
                resource: o.one_or_many("resource")?.unwrap_or_default(),
                scopes: o.space_separated("scopes")?.unwrap_or_default(),
            },
        )
    }

    /// An empty audience or resource names nothing.
    fn check_target(&self) -> Result<()> {
        if self.audience.as_deref() == Some("") || self.resource.iter().any(String::is_empty) {
            return Err(Error::config(
                "a token exchange's `audience` and `resource` must not be empty",
            ));
        }
        Ok(())
    }

    /// The token parameters (the cache key) of this exchange.
    pub fn into_params(self) -> Result<TokenParams> {
        self.check_target()?;
        Ok(TokenParams {
            grant: GrantRef::new(Arc::new(self.grant)),
            scopes: self.scopes,
            audience: self.audience,
            resource: self.resource,
            dpop_jkt: None,
        }
        .normalized())
    }
}

/// What a downstream token is for: the API, by `audience` and/or `resource` (at least one), and
/// the scopes wanted there (none: what the server grants for that API).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Downstream {
    pub audience: Option<String>,
    pub resource: Vec<String>,
    pub scopes: Vec<String>,
}

impl Downstream {
    /// The API named by its audience.
    pub fn audience(audience: impl Into<String>) -> Downstream {
        Downstream {
            audience: Some(audience.into()),
            ..Downstream::default()
        }
    }
    /// The API named by its resource URI (RFC 8707).
    pub fn resource(resource: impl Into<String>) -> Downstream {
        Downstream {
            resource: vec![resource.into()],
            ..Downstream::default()
        }
    }
    /// The same target, asking for `scopes`.
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Downstream {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!("e30.{}.c2ln", b64url_encode(payload.as_bytes()))
    }

    #[test]
    fn token_types_short_names_and_urns() {
        assert_eq!(
            token_type_urn("t", "jwt").unwrap(),
            "urn:ietf:params:oauth:token-type:jwt"
        );
        assert_eq!(token_type_urn("t", ACCESS_TOKEN_TYPE).unwrap(), ACCESS_TOKEN_TYPE);
        assert_eq!(
            token_type_urn("t", "urn:ietf:params:oauth:token-type:saml2").unwrap(),
            "urn:ietf:params:oauth:token-type:saml2"
        );
        for bad in [
            "saml2",
            "Access_Token",
            "",
            "urn:ietf:params:oauth:token-type:",
            "urn:x:jwt",
        ] {
            let e = token_type_urn("subject_token_type", bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ConfigError, "{bad}");
            assert!(e.message().contains("`subject_token_type`"), "{e}");
        }
    }

    #[test]
    fn the_cache_key_hashes_the_tokens_and_tells_them_apart() {
        let a = TokenExchange::new("subject-A", "access_token").unwrap();
        let a2 = TokenExchange::new("subject-A", "access_token").unwrap();
        let b = TokenExchange::new("subject-B", "access_token").unwrap();
        assert_eq!(a.cache_key(), a2.cache_key());
        assert_ne!(a.cache_key(), b.cache_key());
        assert!(!a.cache_key().contains("subject-A"));
        let j = TokenExchange::new("subject-A", "jwt").unwrap();
        assert_ne!(a.cache_key(), j.cache_key());
        let act = a.clone().with_actor("actor-X", "jwt").unwrap();
        assert_ne!(act.cache_key(), a.cache_key());
        assert!(!act.cache_key().contains("actor-X"));
        // The subject and the actor are told apart: swapping them is another key.
        let swapped = TokenExchange::new("actor-X", "jwt")
            .unwrap()
            .with_actor("subject-A", "access_token");
        assert_ne!(swapped.unwrap().cache_key(), act.cache_key());
        let r = a.clone().with_requested_token_type("jwt").unwrap();
        assert_ne!(r.cache_key(), a.cache_key());
    }

    #[test]
    fn not_after_is_the_earlier_jwt_exp_and_none_for_opaque_tokens() {
        let s = jwt(r#"{"exp":1700000100}"#);
        let g = TokenExchange::new(s.as_str(), "access_token").unwrap();
        assert_eq!(g.not_after_ms(), Some(1_700_000_100_000));
        let g2 = g.clone().with_actor(jwt(r#"{"exp":1700000050}"#), "jwt").unwrap();
        assert_eq!(g2.not_after_ms(), Some(1_700_000_050_000));
        let g3 = g.clone().with_actor("opaque-actor", "access_token").unwrap();
        assert_eq!(g3.not_after_ms(), Some(1_700_000_100_000));
        for opaque in [
            "opaque",
            "a.b.c",
            "e30.bm90IGpzb24.x",
            &jwt(r#"{"sub":"x"}"#),
            &jwt(r#"{"exp":"soon"}"#),
        ] {
            assert_eq!(
                TokenExchange::new(opaque, "access_token").unwrap().not_after_ms(),
                None,
                "{opaque}"
            );
        }
        let actor_only = TokenExchange::new("opaque", "access_token")
            .unwrap()
            .with_actor(jwt(r#"{"exp":1700000050}"#), "jwt")
            .unwrap();
        assert_eq!(actor_only.not_after_ms(), Some(1_700_000_050_000));
        assert!(actor_only.check_unexpired(1_700_000_049_999).is_ok());
        let e = actor_only.check_unexpired(1_700_000_050_000).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidGrant);
        assert!(e.message().contains("actor token expired"), "{e}");
    }
}
