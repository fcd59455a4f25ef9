//! Verifier options as the bindings receive them (a JSON object from Go, JavaScript, Python or a
//! config file): one reader ([`crate::options::Options`]), so every language accepts the same
//! names, defaults and errors.

use super::config::{TypPolicy, VerifierConfig};
use super::delegation::DelegationPolicy;
use crate::http::Transport;
use crate::jose::alg::Alg;
use crate::jose::keys::KeySet;
#[cfg(not(target_arch = "wasm32"))]
use crate::key_provider::DiscoveredJwks;
use crate::key_provider::{JwksCache, JwksPolicy, JwksStore, KeyProvider, StaticKeys};
use crate::options::{OptionName, Options};
use crate::resource::uri::AudienceMatch;
use crate::runtime::Clock;
use crate::{Error, Result};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Verifier options. Field names are snake_case; JavaScript's camelCase spellings (`jwksUri`,
/// `requiredClaims`, ...) are accepted too. An unknown option is an error naming it; `null` is the
/// same as leaving an option out.
#[derive(Default, Clone, Debug)]
pub struct VerifierOptions {
    pub issuer: Option<String>,
    /// A string or a list of strings.
    pub audience: Option<Vec<String>>,
    /// `"exact"` (the default), `"trailing_slash"` or `"path_prefix"`: see [`AudienceMatch`].
    pub audience_match: Option<String>,
    pub jwks_uri: Option<String>,
    /// A JWKS document: an object, or its JSON text.
    pub jwks: Option<Value>,
    /// Find `jwks_uri` in the issuer's metadata (RFC 8414, then OpenID Connect discovery).
    pub discover: Option<bool>,
    pub algorithms: Option<Vec<String>>,
    /// Seconds of clock-skew leeway (default 5, at most 300).
    pub leeway: Option<f64>,
    /// `"default"` or `"strict"` (require `typ: at+jwt`).
    pub typ: Option<String>,
    pub required_claims: Option<Vec<String>>,
    pub max_token_bytes: Option<usize>,
    pub skip_issuer_check: Option<bool>,
    pub skip_audience_check: Option<bool>,
    pub verified_cache_size: Option<usize>,
    pub allow_insecure_http: Option<bool>,
    /// Refuse every delegated token (one carrying `act`).
    pub forbid_delegation: Option<bool>,
    /// The most actors a token's `act` chain may hold.
    pub max_delegation_depth: Option<usize>,
    /// The ids (`client_id`, else `sub`) the current actor must be one of.
    pub allowed_actors: Option<Vec<String>>,
}

/// Where the keys come from, before a transport is attached.
#[derive(Clone, Debug)]
pub enum KeySpec {
    Static(Arc<KeySet>),
    Remote {
        uri: String,
        policy: JwksPolicy,
    },
    /// The JWKS the issuer's metadata names.
    Discover {
        issuer: String,
        policy: JwksPolicy,
    },
}

impl KeySpec {
    /// The verifier's key provider: static keys as they are, or a JWKS cache over `transport`
    /// (found through discovery for [`KeySpec::Discover`]), keeping its documents in `store` when
    /// one is given (only for fetched key sets).
    pub fn into_provider(
        self,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        store: Option<Arc<dyn JwksStore>>,
    ) -> Result<Arc<dyn KeyProvider>> {
        Ok(match self {
            KeySpec::Static(_) if store.is_some() => {
                return Err(Error::config(
                    "a JWKS store (jwksCache) only applies with jwks_uri (jwksUri)",
                ))
            }
            KeySpec::Static(k) => Arc::new(StaticKeys(k)),
            KeySpec::Remote { uri, policy } => Arc::new(JwksCache::with_store(&uri, transport, clock, policy, store)?),
            #[cfg(not(target_arch = "wasm32"))]
            KeySpec::Discover { issuer, policy } => {
                Arc::new(DiscoveredJwks::new(&issuer, transport, clock, policy, store)?)
            }
            // Discovery would cost the WebAssembly module 5 KB of its 100 KB budget (metadata
            // reading and a second cache); edge code names its JWKS URL.
            #[cfg(target_arch = "wasm32")]
            KeySpec::Discover { .. } => {
                return Err(Error::config(
                    "discover is not in the WebAssembly build; give the verifier jwksUri (the issuer's JWKS URL)",
                ))
            }
        })
    }
}

/// Every option: its name and its JavaScript spelling.
const OPTIONS: [OptionName; 18] = [
    ("issuer", "issuer"),
    ("audience", "audience"),
    ("audience_match", "audienceMatch"),
    ("jwks_uri", "jwksUri"),
    ("jwks", "jwks"),
    ("discover", "discover"),
    ("algorithms", "algorithms"),
    ("leeway", "leeway"),
    ("typ", "typ"),
    ("required_claims", "requiredClaims"),
    ("max_token_bytes", "maxTokenBytes"),
    ("skip_issuer_check", "skipIssuerCheck"),
    ("skip_audience_check", "skipAudienceCheck"),
    ("verified_cache_size", "verifiedCacheSize"),
    ("allow_insecure_http", "allowInsecureHttp"),
    ("forbid_delegation", "forbidDelegation"),
    ("max_delegation_depth", "maxDelegationDepth"),
    ("allowed_actors", "allowedActors"),
];

impl VerifierOptions {
    /// Read options from a JSON value (an object; `null` gives the defaults).
    pub fn from_value(v: &Value) -> Result<VerifierOptions> {
        let o = Options::read("verifier options", v, &OPTIONS)?;
        Ok(VerifierOptions {
            issuer: o.string("issuer")?,
            audience: o.one_or_many("audience")?,
            audience_match: o.string("audience_match")?,
            jwks_uri: o.string("jwks_uri")?,
            jwks: o.value("jwks").cloned(),
            discover: o.bool("discover")?,
            algorithms: o.strings("algorithms")?,
            leeway: o.number("leeway", "a number of seconds")?,
            typ: o.string("typ")?,
            required_claims: o.strings("required_claims")?,
            max_token_bytes: o.count("max_token_bytes")?,
            skip_issuer_check: o.bool("skip_issuer_check")?,
            skip_audience_check: o.bool("skip_audience_check")?,
            verified_cache_size: o.count("verified_cache_size")?,
            allow_insecure_http: o.bool("allow_insecure_http")?,
            forbid_delegation: o.bool("forbid_delegation")?,
            max_delegation_depth: o.count("max_delegation_depth")?,
            allowed_actors: o.strings("allowed_actors")?,
        })
    }

    /// Read options from JSON text.
    pub fn from_json(text: &str) -> Result<VerifierOptions> {
        Self::from_value(&crate::options::parse_json("verifier options", text)?)
    }

    /// The verifier configuration (validated when the verifier is built).
    pub fn config(&self) -> Result<VerifierConfig> {
        let mut cfg = VerifierConfig {
            issuer: self.issuer.clone(),
            audiences: self.audience.clone().unwrap_or_default(),
            skip_issuer_check: self.skip_issuer_check.unwrap_or(false),
            skip_audience_check: self.skip_audience_check.unwrap_or(false),
            algorithms: self
                .algorithms
                .iter()
                .flatten()
                // A configuration mistake, not a token's: `HS256` here is a config_error.
                .map(|a| Alg::parse(a).map_err(|e| Error::config(format!("algorithms: {}", e.message()))))
                .collect::<Result<_>>()?,
            required_claims: self.required_claims.clone().unwrap_or_default(),
            delegation: DelegationPolicy {
                forbid: self.forbid_delegation.unwrap_or(false),
                max_depth: self.max_delegation_depth,
                allowed_actors: self.allowed_actors.clone(),
            },
            ..VerifierConfig::default()
        };
        if let Some(l) = self.leeway {
            cfg.leeway = Duration::try_from_secs_f64(l)
                .map_err(|_| Error::config("leeway must be a finite, non-negative number of seconds"))?;
        }
        if let Some(t) = &self.typ {
            cfg.typ = TypPolicy::parse(t)?;
        }
        if let Some(m) = &self.audience_match {
            cfg.audience_match = AudienceMatch::parse(m)?;
        }
        if let Some(m) = self.max_token_bytes {
            cfg.max_token_bytes = m;
        }
        if let Some(n) = self.verified_cache_size {
            cfg.verified_cache_size = n;
        }
        Ok(cfg)
    }

    /// The key source: exactly one of `jwks_uri`, `jwks` and `discover`.
    pub fn keys(&self) -> Result<KeySpec> {
        let policy = JwksPolicy {
            allow_insecure_http: self.allow_insecure_http.unwrap_or(false),
            ..JwksPolicy::default()
        };
        let discover = self.discover.unwrap_or(false);
        match (&self.jwks_uri, &self.jwks, discover) {
            (Some(uri), None, false) => Ok(KeySpec::Remote {
                uri: uri.clone(),
                policy,
            }),
            (None, Some(Value::String(text)), false) => {
                Ok(KeySpec::Static(Arc::new(KeySet::from_jwks_json(text.as_bytes())?)))
            }
            (None, Some(v), false) => Ok(KeySpec::Static(Arc::new(KeySet::from_jwks_value(v)?))),
            (None, None, true) => match self.issuer.as_deref().filter(|i| !i.is_empty()) {
                Some(issuer) => Ok(KeySpec::Discover {
                    issuer: issuer.to_string(),
                    policy,
                }),
                None => Err(Error::config("discover needs the issuer whose metadata names the JWKS")),
            },
            (None, None, false) => Err(Error::config(
                "give the verifier either jwks_uri (jwksUri: the issuer's JWKS URL) or jwks (a JWKS document), or discover: true to find the JWKS in the issuer's metadata",
            )),
            _ => Err(Error::config(
                "give the verifier only one of jwks_uri (jwksUri), jwks and discover",
            )),
        }
    }

    /// The verifier these options describe, with keys over `transport` (and `store`, for a fetched
    /// key set) at the time of `clock`.
    pub fn build(
        &self,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        store: Option<Arc<dyn JwksStore>>,
    ) -> Result<super::verifier::Verifier> {
        let keys = self.keys()?.into_provider(transport, clock.clone(), store)?;
        super::verifier::Verifier::new(self.config()?, keys, clock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use serde_json::json;

    #[test]
    fn reads_snake_and_camel_case_and_rejects_unknown_options() {
        let o = VerifierOptions::from_value(&json!({
            "issuer": "https://i", "audience": "a", "jwksUri": "https://i/jwks", "leeway": 2.5,
            "requiredClaims": ["sub"], "verified_cache_size": 0, "typ": "strict", "algorithms": ["ES256"]
        }))
        .unwrap();
        let cfg = o.config().unwrap();
        assert_eq!(cfg.audiences, vec!["a".to_string()]);
        assert_eq!(cfg.leeway, Duration::from_millis(2500));
        assert_eq!(cfg.required_claims, vec!["sub".to_string()]);
        assert_eq!(cfg.verified_cache_size, 0);
        assert_eq!(cfg.typ, TypPolicy::Strict);
        assert_eq!(cfg.algorithms, vec![Alg::ES256]);
        assert!(matches!(o.keys().unwrap(), KeySpec::Remote { uri, .. } if uri == "https://i/jwks"));

        let e = VerifierOptions::from_value(&json!({"issuer": "x", "jwks_url": "y"})).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ConfigError);
        assert!(
            e.message().contains("jwks_url") && e.message().contains("jwks_uri (jwksUri)"),
            "{}",
            e.message()
        );
        for (bad, name) in [
            (json!({"issuer": 5}), "issuer"),
            (json!({"audience": [1]}), "audience"),
            (json!({"leeway": "5"}), "leeway"),
            (json!({"maxTokenBytes": -1}), "max_token_bytes"),
            (json!({"verified_cache_size": 1.5}), "verified_cache_size"),
            (json!({"skip_issuer_check": "yes"}), "skip_issuer_check"),
            (json!({"algorithms": "ES256"}), "algorithms"),
            (json!({"jwks_uri": "a", "jwksUri": "b"}), "jwks_uri"),
        ] {
            let e = VerifierOptions::from_value(&bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ConfigError);
            assert!(e.message().contains(name), "{bad}: {}", e.message());
        }
        assert_eq!(
            VerifierOptions::from_value(&json!([])).unwrap_err().code(),
            ErrorCode::ConfigError
        );
        let nulls = VerifierOptions::from_value(&json!({"issuer": null, "jwks": null, "leeway": null})).unwrap();
        assert!(nulls.issuer.is_none() && nulls.jwks.is_none() && nulls.leeway.is_none());
    }

    #[test]
    fn key_source_rules() {
        let none = VerifierOptions::from_value(&json!({"issuer": "x"})).unwrap();
        assert_eq!(none.keys().unwrap_err().code(), ErrorCode::ConfigError);
        let both = VerifierOptions::from_value(&json!({"jwks_uri": "https://i", "jwks": {"keys": []}})).unwrap();
        assert_eq!(both.keys().unwrap_err().code(), ErrorCode::ConfigError);
        let text = VerifierOptions::from_value(&json!({"jwks": "{\"keys\": []}"})).unwrap();
        assert!(matches!(text.keys().unwrap(), KeySpec::Static(k) if k.is_empty()));
        let bad = VerifierOptions::from_value(&json!({"jwks": "not json"})).unwrap();
        assert_eq!(bad.keys().unwrap_err().code(), ErrorCode::InvalidJwks);
        // A JWKS store only makes sense for a fetched JWKS.
        struct NoStore;
        impl JwksStore for NoStore {
            fn load(&self, _: &str) -> crate::runtime::BoxFut<'static, Option<crate::key_provider::StoredJwks>> {
                Box::pin(async { None })
            }
            fn save(&self, _: &str, _: crate::key_provider::StoredJwks) -> crate::runtime::BoxFut<'static, ()> {
                Box::pin(async {})
            }
        }
        struct NoTransport;
        impl Transport for NoTransport {
            fn send(
                &self,
                _: crate::http::HttpRequest,
            ) -> crate::runtime::BoxFut<'static, Result<crate::http::HttpResponse>> {
                Box::pin(async { Err(Error::internal("no network in this test")) })
            }
        }
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::ManualClock::new(0));
        let store = || Some(Arc::new(NoStore) as Arc<dyn JwksStore>);
        let e = text
            .keys()
            .unwrap()
            .into_provider(Arc::new(NoTransport), clock.clone(), store())
            .err()
            .unwrap();
        assert_eq!(e.code(), ErrorCode::ConfigError);
        let remote = VerifierOptions::from_value(&json!({"jwks_uri": "https://i/jwks"})).unwrap();
        assert!(remote
            .keys()
            .unwrap()
            .into_provider(Arc::new(NoTransport), clock.clone(), store())
            .is_ok());
        // Discovery: from the issuer, and never together with another key source.
        let d = VerifierOptions::from_value(&json!({"issuer": "https://i", "discover": true})).unwrap();
        assert!(matches!(d.keys().unwrap(), KeySpec::Discover { issuer, .. } if issuer == "https://i"));
        let p = d
            .keys()
            .unwrap()
            .into_provider(Arc::new(NoTransport), clock.clone(), None)
            .unwrap();
        assert_eq!(
            p.describe(),
            crate::key_provider::KeySourceInfo::Discovered {
                issuer: "https://i".into(),
                jwks_uri: None
            }
        );
        assert!(!p.is_fresh(0), "nothing is accepted before the keys are known");
        for bad in [
            json!({"discover": true}),
            json!({"issuer": "https://i", "discover": true, "jwks_uri": "https://i/j"}),
        ] {
            let e = VerifierOptions::from_value(&bad).unwrap().keys().unwrap_err();
            assert_eq!(e.code(), ErrorCode::ConfigError, "{bad}");
        }
        let hmac = VerifierOptions::from_value(&json!({"algorithms": ["HS256"]})).unwrap();
        let e = hmac.config().unwrap_err();
        assert!(
            e.code() == ErrorCode::ConfigError && e.message().starts_with("algorithms: "),
            "{e}"
        );
        let neg = VerifierOptions::from_value(&json!({"leeway": -1})).unwrap();
        assert_eq!(neg.config().unwrap_err().code(), ErrorCode::ConfigError);
    }
}
