//! [`JwtSvidVerifier`]: the JWT-SVID rules ([`super::jwt_svid`]) with bundles from a
//! [`BundleSource`], and [`JwtSvidOptions`], the options every binding passes as one JSON object.

use super::bundle::{BundleSet, JwtBundle};
use super::bundle_source::{BundleEndpoint, BundleEndpointPolicy, BundleSource, StaticBundles, TrustDomainSources};
use super::id::TrustDomain;
use super::id_matcher::SpiffeIdMatcher;
use super::jwt_svid::{parse_jwt_svid, unknown_trust_domain, verify_parsed, JwtSvid, JwtSvidPolicy};
use crate::config::ConfigEnv;
use crate::http::Transport;
use crate::jose::alg::Alg;
use crate::options::{OptionName, Options};
use crate::runtime::Clock;
use crate::util::quoted;
use crate::{Error, Result};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Verifies JWT-SVIDs. Cheap to share (`Arc`); every method takes `&self`.
pub struct JwtSvidVerifier {
    policy: JwtSvidPolicy,
    source: Arc<dyn BundleSource>,
    clock: Arc<dyn Clock>,
}

impl JwtSvidVerifier {
    pub fn new(policy: JwtSvidPolicy, source: Arc<dyn BundleSource>, clock: Arc<dyn Clock>) -> Result<JwtSvidVerifier> {
        policy.validate()?;
        Ok(JwtSvidVerifier { policy, source, clock })
    }

    /// A verifier over bundles given up front.
    pub fn with_bundles(policy: JwtSvidPolicy, bundles: BundleSet, clock: Arc<dyn Clock>) -> Result<JwtSvidVerifier> {
        Self::new(policy, Arc::new(StaticBundles(bundles)), clock)
    }

    pub fn policy(&self) -> &JwtSvidPolicy {
        &self.policy
    }
    pub fn source(&self) -> &dyn BundleSource {
        &*self.source
    }

    /// Verify without waiting, when the bundle is at hand (`None`: call [`JwtSvidVerifier::verify`]).
    pub fn verify_now(&self, token: &str) -> Option<Result<JwtSvid>> {
        let parsed = match parse_jwt_svid(token, &self.policy) {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let now = self.clock.now_ms();
        let bundle = self.source.bundle_now(&parsed.spiffe_id.trust_domain(), now)?;
        Some(self.finish(parsed, bundle, now))
    }

    /// Verify, fetching the trust domain's bundle first when needed.
    pub async fn verify(&self, token: &str) -> Result<JwtSvid> {
        let parsed = parse_jwt_svid(token, &self.policy)?;
        let td = parsed.spiffe_id.trust_domain();
        let bundle = self.source.bundle(&td).await?;
        self.finish(parsed, bundle, self.clock.now_ms())
    }

    fn finish(
        &self,
        parsed: super::jwt_svid::ParsedSvid<'_>,
        bundle: Option<Arc<JwtBundle>>,
        now_ms: i64,
    ) -> Result<JwtSvid> {
        let bundle = bundle.ok_or_else(|| unknown_trust_domain(&parsed.spiffe_id))?;
        verify_parsed(parsed, &bundle, &self.policy, now_ms)
    }
}

/// Every option: its name and its JavaScript spelling.
pub const OPTION_NAMES: [OptionName; 9] = [
    ("audience", "audience"),
    ("sole_audience", "soleAudience"),
    ("allowed_ids", "allowedIds"),
    ("algorithms", "algorithms"),
    ("leeway", "leeway"),
    ("max_token_bytes", "maxTokenBytes"),
    ("trust_domains", "trustDomains"),
    ("workload_api", "workloadApi"),
    ("allow_insecure_http", "allowInsecureHttp"),
];

const TRUST_DOMAIN_OPTIONS: [OptionName; 3] = [
    ("bundle", "bundle"),
    ("bundle_file", "bundleFile"),
    ("bundle_endpoint", "bundleEndpoint"),
];

/// Where one trust domain's bundle comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum BundleSpec {
    /// A bundle document (read from the options or from a file).
    Document(String),
    /// A SPIFFE bundle endpoint's URL.
    Endpoint(String),
}

/// A JWT-SVID verifier's options, as the bindings pass them.
#[derive(Clone, Debug)]
pub struct JwtSvidOptions {
    pub policy: JwtSvidPolicy,
    pub trust_domains: Vec<(TrustDomain, BundleSpec)>,
    /// Bundles from the Workload API (for every trust domain not named in `trust_domains`):
    /// `Some(None)` at the endpoint `SPIFFE_ENDPOINT_SOCKET` names, `Some(Some(e))` at `e`.
    /// Only the native layer can open it.
    pub workload_api: Option<Option<String>>,
    pub allow_insecure_http: bool,
}

impl JwtSvidOptions {
    /// Read options from a JSON object; `bundle_file`s are read through `env`.
    pub fn from_value(v: &Value, env: &dyn ConfigEnv) -> Result<JwtSvidOptions> {
        let o = Options::read("JWT-SVID verifier options", v, &OPTION_NAMES)?;
        let mut policy = JwtSvidPolicy::new(o.one_or_many("audience")?.unwrap_or_default());
        policy.sole_audience = o.bool("sole_audience")?.unwrap_or(false);
        if let Some(ids) = o.strings("allowed_ids")? {
            policy.allowed_ids = SpiffeIdMatcher::parse(&ids)?;
        }
        if let Some(algs) = o.strings("algorithms")? {
            policy.algorithms = algs
                .iter()
                .map(|a| Alg::parse(a).map_err(|e| Error::config(format!("algorithms: {}", e.message()))))
                .collect::<Result<_>>()?;
        }
        if let Some(l) = o.number("leeway", "a number of seconds")? {
            policy.leeway = Duration::try_from_secs_f64(l)
                .map_err(|_| Error::config("leeway must be a finite, non-negative number of seconds"))?;
        }
        if let Some(m) = o.count("max_token_bytes")? {
            policy.max_token_bytes = m;
        }
        policy.validate()?;
        let mut trust_domains = Vec::new();
        if let Some(map) = o.value("trust_domains").filter(|v| !v.is_null()) {
            let map = map.as_object().ok_or_else(|| {
                o.bad(
                    "trust_domains",
                    "an object of trust domain -> { bundle | bundle_file | bundle_endpoint }",
                )
            })?;
            for (name, spec) in map {
                let td =
                    TrustDomain::parse(name).map_err(|e| Error::config(format!("trust_domains: {}", e.message())))?;
                trust_domains.push((td, read_bundle_spec(name, spec, env)?));
            }
        }
        let workload_api = match o.value("workload_api") {
            None | Some(Value::Null) | Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(_) => return Err(o.bad("workload_api", "true, or the endpoint (unix:///path/to/agent.sock)")),
        };
        if trust_domains.is_empty() && workload_api.is_none() {
            return Err(Error::config(
                "a JWT-SVID verifier needs trust bundles: trust_domains (bundle, bundle_file or bundle_endpoint per trust domain) or workload_api",
            ));
        }
        Ok(JwtSvidOptions {
            policy,
            trust_domains,
            workload_api,
            allow_insecure_http: o.bool("allow_insecure_http")?.unwrap_or(false),
        })
    }

    /// The bundles given as documents, for a runtime that fetches nothing (wasm): a
    /// `bundle_endpoint` or `workload_api` is a configuration error there.
    pub fn static_bundles(&self) -> Result<BundleSet> {
        if self.workload_api.is_some() {
            return Err(Error::config(
                "workload_api is not available here; pass each trust domain's bundle",
            ));
        }
        let mut set = BundleSet::new();
        for (td, spec) in &self.trust_domains {
            match spec {
                BundleSpec::Document(text) => {
                    for b in BundleSet::from_json(text, Some(td))?.bundles() {
                        set.insert_shared(b.clone())?;
                    }
                }
                BundleSpec::Endpoint(_) => {
                    return Err(Error::config(format!(
                        "trust_domains.{}: bundle_endpoint is not available here; pass the bundle",
                        quoted(td.name())
                    )))
                }
            }
        }
        Ok(set)
    }

    /// The verifier, with `workload_bundles` as the source for trust domains not configured one by
    /// one (required when `workload_api` is set).
    pub fn build(
        &self,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        workload_bundles: Option<Arc<dyn BundleSource>>,
    ) -> Result<JwtSvidVerifier> {
        let mut sources = TrustDomainSources::new();
        let mut documents = BundleSet::new();
        for (td, spec) in &self.trust_domains {
            match spec {
                BundleSpec::Document(text) => {
                    for b in BundleSet::from_json(text, Some(td))?.bundles() {
                        documents.insert_shared(b.clone())?;
                    }
                }
                BundleSpec::Endpoint(url) => {
                    let policy = BundleEndpointPolicy {
                        allow_insecure_http: self.allow_insecure_http,
                        ..BundleEndpointPolicy::default()
                    };
                    let endpoint = BundleEndpoint::new(url, td.clone(), transport.clone(), clock.clone(), policy)?;
                    sources.insert(td.clone(), Arc::new(endpoint));
                }
            }
        }
        let documents = Arc::new(StaticBundles(documents));
        for td in documents.0.trust_domains() {
            sources.insert(td.clone(), documents.clone());
        }
        match (&self.workload_api, workload_bundles) {
            (Some(_), Some(w)) => sources.set_fallback(w),
            (Some(_), None) => {
                return Err(Error::config(
                    "workload_api needs the native layer (Python, Node.js, Go); pass trust_domains here",
                ))
            }
            (None, _) => {}
        }
        JwtSvidVerifier::new(self.policy.clone(), Arc::new(sources), clock)
    }
}

fn read_bundle_spec(td: &str, spec: &Value, env: &dyn ConfigEnv) -> Result<BundleSpec> {
    let o = Options::read("a trust domain's bundle", spec, &TRUST_DOMAIN_OPTIONS)?;
    let given = ["bundle", "bundle_file", "bundle_endpoint"]
        .iter()
        .filter(|n| o.is_given(n))
        .count();
    if given != 1 {
        return Err(Error::config(format!(
            "trust_domains.{}: give exactly one of bundle, bundle_file and bundle_endpoint",
            quoted(td)
        )));
    }
    if let Some(url) = o.string("bundle_endpoint")? {
        return Ok(BundleSpec::Endpoint(url));
    }
    if let Some(path) = o.string("bundle_file")? {
        let text = env
            .read_file(&path)
            .map_err(|e| Error::config(format!("cannot read the bundle file {path:?} of {td}: {e}")))?;
        return Ok(BundleSpec::Document(text));
    }
    Ok(BundleSpec::Document(match o.value("bundle") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => unreachable!("counted above"),
    }))
}
