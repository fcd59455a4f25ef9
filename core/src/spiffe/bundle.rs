//! SPIFFE trust bundles for JWT-SVIDs (`standards/SPIFFE_Trust_Domain_and_Bundle.md`): a JWK Set
//! per trust domain, with `spiffe_sequence` and `spiffe_refresh_hint` at the top.
//!
//! Which keys verify JWT-SVIDs: those with `use: jwt-svid`; those with no `use` at all (SPIRE's
//! Workload API serves its JWT bundles so, while bundle endpoints mark every key); and `use: sig`
//! (a plain JWKS, such as SPIRE's OIDC discovery provider serves). `x509-svid` keys are X.509
//! authorities, not JWT keys; any other `use` is ignored, as the standard says.

use super::id::TrustDomain;
use crate::jose::keys::{KeySet, MAX_JWKS_BYTES};
use crate::util::quoted;
use crate::{Error, ErrorCode, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Most trust domains one bundle set holds.
pub const MAX_TRUST_DOMAINS: usize = 100;

/// One trust domain's JWT authorities.
#[derive(Clone, Debug)]
pub struct JwtBundle {
    pub trust_domain: TrustDomain,
    pub keys: Arc<KeySet>,
    /// `spiffe_sequence`, when the bundle has one.
    pub sequence: Option<u64>,
    /// `spiffe_refresh_hint`, when the bundle has one.
    pub refresh_hint: Option<Duration>,
    /// How many X.509 authorities (`use: x509-svid`) the document also held.
    pub x509_authorities: usize,
}

impl JwtBundle {
    /// Parse a SPIFFE bundle (or a plain JWKS) for `trust_domain`.
    pub fn parse(trust_domain: TrustDomain, bytes: &[u8]) -> Result<JwtBundle> {
        if bytes.len() > MAX_JWKS_BYTES {
            return Err(Error::new(
                ErrorCode::InvalidJwks,
                format!(
                    "the bundle for {trust_domain} is {} bytes; the limit is {MAX_JWKS_BYTES}",
                    bytes.len()
                ),
            ));
        }
        let v: Value = serde_json::from_slice(bytes).map_err(|e| {
            Error::new(
                ErrorCode::InvalidJwks,
                format!(
                    "the bundle for {trust_domain} is not valid JSON ({})",
                    crate::util::json_error_at(&e)
                ),
            )
        })?;
        Self::from_value(trust_domain, &v)
    }

    pub fn from_value(trust_domain: TrustDomain, v: &Value) -> Result<JwtBundle> {
        let bad = |why: &str| Error::new(ErrorCode::InvalidJwks, format!("the bundle for {trust_domain} {why}"));
        let obj = v.as_object().ok_or_else(|| bad("is not a JSON object"))?;
        let keys = obj
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("has no \"keys\" array"))?;
        let sequence = match obj.get("spiffe_sequence") {
            None | Some(Value::Null) => None,
            Some(s) => Some(
                s.as_u64()
                    .ok_or_else(|| bad("has a spiffe_sequence that is not a whole number"))?,
            ),
        };
        let refresh_hint = match obj.get("spiffe_refresh_hint") {
            None | Some(Value::Null) => None,
            Some(s) => Some(Duration::from_secs(s.as_u64().ok_or_else(|| {
                bad("has a spiffe_refresh_hint that is not a whole number of seconds")
            })?)),
        };
        let mut jwt_keys = Vec::new();
        let mut x509_authorities = 0;
        let mut skipped = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            match key.get("use").map(|u| u.as_str()) {
                None | Some(Some("jwt-svid")) | Some(Some("sig")) => {
                    let mut k: Map<String, Value> = key.as_object().cloned().unwrap_or_default();
                    // The key set's own reader takes `sig` only; the bundle's `use` is read here.
                    k.remove("use");
                    jwt_keys.push(Value::Object(k));
                }
                Some(Some("x509-svid")) => x509_authorities += 1,
                Some(other) => skipped.push(format!(
                    "key #{i}: use {} is not jwt-svid",
                    other.map_or("(not a string)".to_string(), quoted)
                )),
            }
        }
        let mut set = KeySet::from_jwks_value(&Value::Object(Map::from_iter([(
            "keys".to_string(),
            Value::Array(jwt_keys),
        )])))?;
        set.skipped.extend(skipped);
        Ok(JwtBundle {
            trust_domain,
            keys: Arc::new(set),
            sequence,
            refresh_hint,
            x509_authorities,
        })
    }
}

/// Bundles by trust domain.
#[derive(Clone, Debug, Default)]
pub struct BundleSet {
    bundles: BTreeMap<TrustDomain, Arc<JwtBundle>>,
}

impl BundleSet {
    pub fn new() -> BundleSet {
        BundleSet::default()
    }

    /// Add (or replace) a trust domain's bundle.
    pub fn insert(&mut self, bundle: JwtBundle) -> Result<()> {
        self.insert_shared(Arc::new(bundle))
    }

    pub fn insert_shared(&mut self, bundle: Arc<JwtBundle>) -> Result<()> {
        if self.bundles.len() >= MAX_TRUST_DOMAINS && !self.bundles.contains_key(&bundle.trust_domain) {
            return Err(Error::config(format!("at most {MAX_TRUST_DOMAINS} trust domains")));
        }
        self.bundles.insert(bundle.trust_domain.clone(), bundle);
        Ok(())
    }

    pub fn bundles(&self) -> impl Iterator<Item = &Arc<JwtBundle>> {
        self.bundles.values()
    }

    pub fn get(&self, td: &TrustDomain) -> Option<&Arc<JwtBundle>> {
        self.bundles.get(td)
    }
    pub fn trust_domains(&self) -> impl Iterator<Item = &TrustDomain> {
        self.bundles.keys()
    }
    pub fn len(&self) -> usize {
        self.bundles.len()
    }
    pub fn is_empty(&self) -> bool {
        self.bundles.is_empty()
    }

    /// The Workload API's shape: trust-domain name -> JWKS document bytes.
    pub fn from_documents<'a>(documents: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Result<BundleSet> {
        let mut set = BundleSet::new();
        for (td, bytes) in documents {
            set.insert(JwtBundle::parse(TrustDomain::parse(td)?, bytes)?)?;
        }
        Ok(set)
    }

    /// A JSON document: either one bundle (a JWKS with `keys`) for `default_td`, or an object
    /// mapping trust-domain names (or `spiffe://` IDs) to bundles.
    pub fn from_json(text: &str, default_td: Option<&TrustDomain>) -> Result<BundleSet> {
        let v: Value = serde_json::from_str(text).map_err(|e| {
            Error::new(
                ErrorCode::InvalidJwks,
                format!("the bundle file is not valid JSON ({})", crate::util::json_error_at(&e)),
            )
        })?;
        let mut set = BundleSet::new();
        match (&v, default_td) {
            (Value::Object(o), Some(td)) if o.contains_key("keys") => {
                set.insert(JwtBundle::from_value(td.clone(), &v)?)?;
            }
            (Value::Object(o), None) if o.contains_key("keys") => {
                return Err(Error::config(
                    "a single SPIFFE bundle needs the trust domain it belongs to (trust_domain)",
                ))
            }
            (Value::Object(o), _) => {
                for (td, bundle) in o {
                    set.insert(JwtBundle::from_value(TrustDomain::parse(td)?, bundle)?)?;
                }
            }
            _ => {
                return Err(Error::new(
                    ErrorCode::InvalidJwks,
                    "a bundle document is a JWKS object or an object of trust domain -> JWKS",
                ))
            }
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC: &str = r#""kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0""#;

    #[test]
    fn reads_spiffe_bundles_and_workload_api_bundles() {
        let doc = format!(
            r#"{{"keys":[{{{EC},"kid":"a","use":"jwt-svid"}},{{"kty":"EC","use":"x509-svid","x5c":["AA"]}},{{{EC},"kid":"b"}},{{{EC},"kid":"c","use":"wit-svid"}}],"spiffe_sequence":7,"spiffe_refresh_hint":60}}"#
        );
        let td = TrustDomain::parse("example.org").unwrap();
        let b = JwtBundle::parse(td, doc.as_bytes()).unwrap();
        assert_eq!(b.keys.kids().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(b.x509_authorities, 1);
        assert_eq!(b.sequence, Some(7));
        assert_eq!(b.refresh_hint, Some(Duration::from_secs(60)));
        assert_eq!(b.keys.skipped.len(), 1);
    }

    #[test]
    fn bundle_files_single_or_map() {
        let one = format!(r#"{{"keys":[{{{EC},"kid":"a"}}]}}"#);
        let td = TrustDomain::parse("example.org").unwrap();
        let set = BundleSet::from_json(&one, Some(&td)).unwrap();
        assert!(set.get(&td).is_some());
        assert_eq!(
            BundleSet::from_json(&one, None).unwrap_err().code(),
            ErrorCode::ConfigError
        );
        let map = format!(r#"{{"spiffe://example.org":{one},"partner.test":{{"keys":[]}}}}"#);
        let set = BundleSet::from_json(&map, None).unwrap();
        assert_eq!(set.len(), 2);
        assert!(set
            .get(&TrustDomain::parse("partner.test").unwrap())
            .unwrap()
            .keys
            .is_empty());
        assert_eq!(
            BundleSet::from_json(r#"{"Bad TD":{"keys":[]}}"#, None)
                .unwrap_err()
                .code(),
            ErrorCode::InvalidSpiffeId
        );
    }
}
