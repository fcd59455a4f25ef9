//! Verifier options as the bindings receive them (a JSON object from Go, JavaScript or a config
//! file): one reader, so every language accepts the same names, defaults and errors.

use super::alg::Alg;
use super::jwks::{JwksCache, JwksPolicy};
use super::keys::KeySet;
use super::verify::{KeySource, TypPolicy, VerifierConfig};
use crate::http::Transport;
use crate::runtime::Clock;
use crate::{Error, Result};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// A string or a list of strings (`audience: "a"` or `audience: ["a", "b"]`).
#[derive(Deserialize, Clone, Debug)]
#[serde(untagged)]
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
/// `requiredClaims`, ...) are accepted too. An unknown option is an error naming it.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct VerifierOptions {
    pub issuer: Option<String>,
    pub audience: Option<OneOrMany>,
    #[serde(alias = "jwksUri")]
    pub jwks_uri: Option<String>,
    /// A JWKS document: an object, or its JSON text.
    pub jwks: Option<Value>,
    pub algorithms: Option<Vec<String>>,
    /// Seconds of clock-skew leeway (default 5, at most 300).
    pub leeway: Option<f64>,
    /// `"default"` or `"strict"` (require `typ: at+jwt`).
    pub typ: Option<String>,
    #[serde(alias = "requiredClaims")]
    pub required_claims: Option<Vec<String>>,
    #[serde(alias = "maxTokenBytes")]
    pub max_token_bytes: Option<usize>,
    #[serde(alias = "skipIssuerCheck")]
    pub skip_issuer_check: Option<bool>,
    #[serde(alias = "skipAudienceCheck")]
    pub skip_audience_check: Option<bool>,
    #[serde(alias = "verifiedCacheSize")]
    pub verified_cache_size: Option<usize>,
    #[serde(alias = "allowInsecureHttp")]
    pub allow_insecure_http: Option<bool>,
}

/// Where the keys come from, before a transport is attached.
#[derive(Clone, Debug)]
pub enum KeySpec {
    Static(Arc<KeySet>),
    Remote { uri: String, policy: JwksPolicy },
}

impl KeySpec {
    /// The verifier's key source: static keys as they are, or a JWKS cache over `transport`.
    pub fn into_source(self, transport: Arc<dyn Transport>, clock: Arc<dyn Clock>) -> Result<KeySource> {
        Ok(match self {
            KeySpec::Static(k) => KeySource::Static(k),
            KeySpec::Remote { uri, policy } => KeySource::Remote(JwksCache::new(&uri, transport, clock, policy)?),
        })
    }
}

impl VerifierOptions {
    /// Read options from a JSON value (an object).
    pub fn from_value(v: &Value) -> Result<VerifierOptions> {
        if v.is_null() {
            return Ok(VerifierOptions::default());
        }
        VerifierOptions::deserialize(v).map_err(|e| Error::config(format!("verifier options: {e}")))
    }

    /// Read options from JSON text.
    pub fn from_json(text: &str) -> Result<VerifierOptions> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| Error::config(format!("verifier options are not JSON ({e})")))?;
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
        assert!(e.message().contains("jwks_url"), "{}", e.message());
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
        let neg = VerifierOptions::from_value(&json!({"leeway": -1})).unwrap();
        assert_eq!(neg.config().unwrap_err().code(), ErrorCode::ConfigError);
    }
}
