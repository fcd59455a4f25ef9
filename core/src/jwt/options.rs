//! Verifier options as the bindings receive them (a JSON object from Go, JavaScript or a config
//! file): one reader, so every language accepts the same names, defaults and errors.

use super::alg::Alg;
use super::jwks::{JwksCache, JwksPolicy, JwksStore};
use super::keys::KeySet;
use super::verify::{KeySource, TypPolicy, VerifierConfig};
use crate::http::Transport;
use crate::runtime::Clock;
use crate::{Error, Result};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// A string or a list of strings (`audience: "a"` or `audience: ["a", "b"]`).
#[derive(Clone, Debug)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// Verifier options. Field names are snake_case; JavaScript's camelCase spellings (`jwksUri`,
/// `requiredClaims`, ...) are accepted too. An unknown option is an error naming it; `null` is the
/// same as leaving an option out.
#[derive(Default, Clone, Debug)]
pub struct VerifierOptions {
    pub issuer: Option<String>,
    pub audience: Option<OneOrMany>,
    pub jwks_uri: Option<String>,
    /// A JWKS document: an object, or its JSON text.
    pub jwks: Option<Value>,
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
}

/// Where the keys come from, before a transport is attached.
#[derive(Clone, Debug)]
pub enum KeySpec {
    Static(Arc<KeySet>),
    Remote { uri: String, policy: JwksPolicy },
}

impl KeySpec {
    /// The verifier's key source: static keys as they are, or a JWKS cache over `transport`,
    /// keeping its documents in `store` when one is given (only with a `jwks_uri`).
    pub fn into_source(
        self,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        store: Option<Arc<dyn JwksStore>>,
    ) -> Result<KeySource> {
        Ok(match self {
            KeySpec::Static(_) if store.is_some() => {
                return Err(Error::config(
                    "a JWKS store (jwksCache) only applies with jwks_uri (jwksUri)",
                ))
            }
            KeySpec::Static(k) => KeySource::Static(k),
            KeySpec::Remote { uri, policy } => {
                KeySource::Remote(JwksCache::with_store(&uri, transport, clock, policy, store)?)
            }
        })
    }
}

/// Every option: its name and its JavaScript spelling.
const OPTIONS: [(&str, &str); 13] = [
    ("issuer", "issuer"),
    ("audience", "audience"),
    ("jwks_uri", "jwksUri"),
    ("jwks", "jwks"),
    ("algorithms", "algorithms"),
    ("leeway", "leeway"),
    ("typ", "typ"),
    ("required_claims", "requiredClaims"),
    ("max_token_bytes", "maxTokenBytes"),
    ("skip_issuer_check", "skipIssuerCheck"),
    ("skip_audience_check", "skipAudienceCheck"),
    ("verified_cache_size", "verifiedCacheSize"),
    ("allow_insecure_http", "allowInsecureHttp"),
];

fn bad(name: &str, what: &str) -> Error {
    Error::config(format!("verifier options: `{name}` must be {what}"))
}

fn opt_string(name: &str, v: &Value) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(bad(name, "a string")),
    }
}

fn opt_strings(name: &str, v: &Value) -> Result<Option<Vec<String>>> {
    match v {
        Value::Null => Ok(None),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad(name, "a list of strings"))
            })
            .collect::<Result<_>>()
            .map(Some),
        _ => Err(bad(name, "a list of strings")),
    }
}

fn opt_bool(name: &str, v: &Value) -> Result<Option<bool>> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        _ => Err(bad(name, "true or false")),
    }
}

fn opt_count(name: &str, v: &Value) -> Result<Option<usize>> {
    match v {
        Value::Null => Ok(None),
        _ => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| bad(name, "a whole number, 0 or more")),
    }
}

impl VerifierOptions {
    /// Read options from a JSON value (an object; `null` gives the defaults).
    pub fn from_value(v: &Value) -> Result<VerifierOptions> {
        let map = match v {
            Value::Null => return Ok(VerifierOptions::default()),
            Value::Object(m) => m,
            _ => return Err(Error::config("verifier options must be an object")),
        };
        let mut given: Map<String, Value> = Map::new();
        for (key, value) in map {
            let Some((name, _)) = OPTIONS.iter().find(|(n, js)| key == n || key == js) else {
                let known: Vec<String> = OPTIONS
                    .iter()
                    .map(|(n, js)| if n == js { n.to_string() } else { format!("{n} ({js})") })
                    .collect();
                return Err(Error::config(format!(
                    "verifier options: unknown option `{}` (expected one of {})",
                    crate::util::truncate(key),
                    known.join(", ")
                )));
            };
            if given.insert(name.to_string(), value.clone()).is_some() {
                return Err(Error::config(format!("verifier options: `{name}` is given twice")));
            }
        }
        let get = |name: &str| given.get(name).unwrap_or(&Value::Null);
        Ok(VerifierOptions {
            issuer: opt_string("issuer", get("issuer"))?,
            audience: match get("audience") {
                Value::Null => None,
                Value::String(s) => Some(OneOrMany::One(s.clone())),
                v => Some(OneOrMany::Many(
                    opt_strings("audience", v)
                        .map_err(|_| bad("audience", "a string or a list of strings"))?
                        .unwrap_or_default(),
                )),
            },
            jwks_uri: opt_string("jwks_uri", get("jwks_uri"))?,
            jwks: Some(get("jwks").clone()).filter(|v| !v.is_null()),
            algorithms: opt_strings("algorithms", get("algorithms"))?,
            leeway: match get("leeway") {
                Value::Null => None,
                v => Some(v.as_f64().ok_or_else(|| bad("leeway", "a number of seconds"))?),
            },
            typ: opt_string("typ", get("typ"))?,
            required_claims: opt_strings("required_claims", get("required_claims"))?,
            max_token_bytes: opt_count("max_token_bytes", get("max_token_bytes"))?,
            skip_issuer_check: opt_bool("skip_issuer_check", get("skip_issuer_check"))?,
            skip_audience_check: opt_bool("skip_audience_check", get("skip_audience_check"))?,
            verified_cache_size: opt_count("verified_cache_size", get("verified_cache_size"))?,
            allow_insecure_http: opt_bool("allow_insecure_http", get("allow_insecure_http"))?,
        })
    }

    /// Read options from JSON text.
    pub fn from_json(text: &str) -> Result<VerifierOptions> {
        let v: Value = serde_json::from_str(text).map_err(|e| {
            Error::config(format!(
                "verifier options are not JSON ({})",
                crate::util::json_error_at(&e)
            ))
        })?;
        Self::from_value(&v)
    }

    /// The verifier configuration (validated when the verifier is built).
    pub fn config(&self) -> Result<VerifierConfig> {
        let mut cfg = VerifierConfig {
            issuer: self.issuer.clone(),
            audiences: self.audience.clone().map(OneOrMany::into_vec).unwrap_or_default(),
            skip_issuer_check: self.skip_issuer_check.unwrap_or(false),
            skip_audience_check: self.skip_audience_check.unwrap_or(false),
            algorithms: self
                .algorithms
                .iter()
                .flatten()
                .map(|a| Alg::parse(a))
                .collect::<Result<_>>()?,
            required_claims: self.required_claims.clone().unwrap_or_default(),
            ..VerifierConfig::default()
        };
        if let Some(l) = self.leeway {
            cfg.leeway = Duration::try_from_secs_f64(l)
                .map_err(|_| Error::config("leeway must be a finite, non-negative number of seconds"))?;
        }
        if let Some(t) = &self.typ {
            cfg.typ = TypPolicy::parse(t)?;
        }
        if let Some(m) = self.max_token_bytes {
            cfg.max_token_bytes = m;
        }
        if let Some(n) = self.verified_cache_size {
            cfg.verified_cache_size = n;
        }
        Ok(cfg)
    }

    /// The key source: exactly one of `jwks_uri` and `jwks`.
    pub fn keys(&self) -> Result<KeySpec> {
        match (&self.jwks_uri, &self.jwks) {
            (Some(uri), None) => Ok(KeySpec::Remote {
                uri: uri.clone(),
                policy: JwksPolicy {
                    allow_insecure_http: self.allow_insecure_http.unwrap_or(false),
                    ..JwksPolicy::default()
                },
            }),
            (None, Some(Value::String(text))) => {
                Ok(KeySpec::Static(Arc::new(KeySet::from_jwks_json(text.as_bytes())?)))
            }
            (None, Some(v)) => Ok(KeySpec::Static(Arc::new(KeySet::from_jwks_value(v)?))),
            (Some(_), Some(_)) => Err(Error::config("give the verifier jwks_uri (jwksUri) or jwks, not both")),
            (None, None) => Err(Error::config(
                "give the verifier either jwks_uri (jwksUri: the issuer's JWKS URL) or jwks (a JWKS document)",
            )),
        }
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
            fn load(&self, _: &str) -> crate::runtime::BoxFut<'static, Option<super::super::jwks::StoredJwks>> {
                Box::pin(async { None })
            }
            fn save(&self, _: &str, _: super::super::jwks::StoredJwks) -> crate::runtime::BoxFut<'static, ()> {
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
        let clock: Arc<dyn Clock> = Arc::new(crate::runtime::ManualClock::new(0));
        let store = || Some(Arc::new(NoStore) as Arc<dyn JwksStore>);
        let e = text
            .keys()
            .unwrap()
            .into_source(Arc::new(NoTransport), clock.clone(), store())
            .err()
            .unwrap();
        assert_eq!(e.code(), ErrorCode::ConfigError);
        let remote = VerifierOptions::from_value(&json!({"jwks_uri": "https://i/jwks"})).unwrap();
        assert!(remote
            .keys()
            .unwrap()
            .into_source(Arc::new(NoTransport), clock, store())
            .is_ok());
        let neg = VerifierOptions::from_value(&json!({"leeway": -1})).unwrap();
        assert_eq!(neg.config().unwrap_err().code(), ErrorCode::ConfigError);
    }
}
