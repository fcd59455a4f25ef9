//! OAuth 2.0 protected-resource metadata (RFC 9728): the document a resource serves so that a
//! client finds its authorization servers, and where it is served.
//!
//! Every field of RFC 9728 §2 is here, read from one options object (snake_case, or JavaScript's
//! camelCase) so every language accepts the same names and errors; `resource` is put in canonical
//! form ([`ResourceUri`]) and the document is served at the path-aware well-known URI and at the
//! root one (§3.1; the MCP authorization spec has clients try both, in that order).

use super::uri::ResourceUri;
use crate::http::check_url;
use crate::jose::alg::Alg;
use crate::options::{OptionName, Options};
use crate::util::quoted;
use crate::{Error, Result};
use serde_json::{Map, Value};

/// The well-known path segment of RFC 9728 §3.
pub const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// A validated protected-resource metadata document. Build it with [`ResourceMetadata::from_value`].
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceMetadata {
    resource: ResourceUri,
    document: Map<String, Value>,
    /// [`well_known_paths`] of `resource`, computed once (every request is matched against them).
    paths: Vec<String>,
}

/// The request paths at which a resource's metadata is served (RFC 9728 §3.1): the path-aware one
/// first (`/.well-known/oauth-protected-resource/mcp` for `https://host/mcp`), then the root one,
/// which MCP clients try next; one path when the resource has no path. A terminating slash right
/// after the host is dropped; the rest of the path and the query are kept.
pub fn well_known_paths(resource: &ResourceUri) -> Vec<String> {
    let path = resource.path();
    let path = if path == "/" { "" } else { path };
    let query = resource.query().map(|q| format!("?{q}")).unwrap_or_default();
    let aware = format!("{WELL_KNOWN}{path}{query}");
    if aware == WELL_KNOWN {
        vec![aware]
    } else {
        vec![aware, WELL_KNOWN.to_string()]
    }
}

/// Every option: its name and its JavaScript spelling. The document's members have the same names.
const OPTIONS: [OptionName; 16] = [
    ("resource", "resource"),
    ("authorization_servers", "authorizationServers"),
    ("jwks_uri", "jwksUri"),
    ("scopes_supported", "scopesSupported"),
    ("bearer_methods_supported", "bearerMethodsSupported"),
    (
        "resource_signing_alg_values_supported",
        "resourceSigningAlgValuesSupported",
    ),
    ("resource_name", "resourceName"),
    ("resource_documentation", "resourceDocumentation"),
    ("resource_policy_uri", "resourcePolicyUri"),
    ("resource_tos_uri", "resourceTosUri"),
    (
        "tls_client_certificate_bound_access_tokens",
        "tlsClientCertificateBoundAccessTokens",
    ),
    (
        "authorization_details_types_supported",
        "authorizationDetailsTypesSupported",
    ),
    ("dpop_signing_alg_values_supported", "dpopSigningAlgValuesSupported"),
    ("dpop_bound_access_tokens_required", "dpopBoundAccessTokensRequired"),
    ("signed_metadata", "signedMetadata"),
    ("allow_insecure_http", "allowInsecureHttp"),
];

impl ResourceMetadata {
    /// Read and check the options; see the module documentation. `resource` and at least one
    /// authorization server are required (the MCP authorization spec requires one; a resource
    /// without one leaves clients nowhere to go). `bearer_methods_supported` defaults to
    /// `["header"]` and may only say so: authsec's middleware reads the `Authorization` header
    /// alone (RFC 9700 §2.6 and the MCP spec rule out tokens in query strings).
    pub fn from_value(v: &Value) -> Result<ResourceMetadata> {
        let o = Options::read("resource metadata", v, &OPTIONS)?;
        let insecure = o.bool("allow_insecure_http")?.unwrap_or(false);
        let raw = o.string("resource")?.ok_or_else(|| {
            Error::config("resource metadata needs \"resource\": the URL clients use to reach this resource")
        })?;
        check_url(&raw, insecure, "resource")?;
        let resource = ResourceUri::parse(&raw)?;
        let mut d = Map::new();
        d.insert("resource".into(), resource.canonical().into());

        let servers = o.one_or_many("authorization_servers")?.unwrap_or_default();
        if servers.is_empty() {
            return Err(Error::config(
                "resource metadata needs \"authorization_servers\": the issuer URL of at least one authorization server",
            ));
        }
        for s in &servers {
            check_url(s, insecure, "authorization_servers")?;
        }
        d.insert("authorization_servers".into(), servers.into());

        let url = |name: &'static str, d: &mut Map<String, Value>| -> Result<()> {
            if let Some(u) = o.string(name)? {
                check_url(&u, insecure, name)?;
                d.insert(name.into(), u.into());
            }
            Ok(())
        };
        url("jwks_uri", &mut d)?;

        if let Some(scopes) = o.strings("scopes_supported")? {
            if let Some(bad) = scopes.iter().find(|s| s.is_empty() || s.contains([' ', '"', '\\'])) {
                return Err(Error::config(format!(
                    "scopes_supported: {} is not a scope (RFC 6749 §3.3: no spaces, quotes or backslashes)",
                    quoted(bad)
                )));
            }
            d.insert("scopes_supported".into(), scopes.into());
        }

        let methods = o
            .strings("bearer_methods_supported")?
            .unwrap_or_else(|| vec!["header".into()]);
        if let Some(bad) = methods.iter().find(|m| *m != "header") {
            return Err(Error::config(format!(
                "bearer_methods_supported: {} is not offered; authsec reads tokens from the Authorization header only (\"header\")",
                quoted(bad)
            )));
        }
        d.insert("bearer_methods_supported".into(), methods.into());

        for name in [
            "resource_signing_alg_values_supported",
            "dpop_signing_alg_values_supported",
        ] {
            if let Some(algs) = o.strings(name)? {
                for a in &algs {
                    // `none` and the HMAC algorithms are refused: neither proves anything to a client.
                    Alg::parse(a).map_err(|e| Error::config(format!("{name}: {}", e.message())))?;
                }
                d.insert(name.into(), algs.into());
            }
        }
        if let Some(n) = o.string("resource_name")? {
            d.insert("resource_name".into(), n.into());
        }
        url("resource_documentation", &mut d)?;
        url("resource_policy_uri", &mut d)?;
        url("resource_tos_uri", &mut d)?;
        for name in [
            "tls_client_certificate_bound_access_tokens",
            "dpop_bound_access_tokens_required",
        ] {
            if let Some(b) = o.bool(name)? {
                d.insert(name.into(), b.into());
            }
        }
        if let Some(types) = o.strings("authorization_details_types_supported")? {
            d.insert("authorization_details_types_supported".into(), types.into());
        }
        if let Some(jwt) = o.string("signed_metadata")? {
            if jwt.split('.').count() != 3 {
                return Err(Error::config("signed_metadata must be a signed JWT (RFC 9728 §2.2)"));
            }
            d.insert("signed_metadata".into(), jwt.into());
        }
        Ok(ResourceMetadata {
            paths: well_known_paths(&resource),
            resource,
            document: d,
        })
    }

    /// Read the options from JSON text.
    pub fn from_json(text: &str) -> Result<ResourceMetadata> {
        Self::from_value(&crate::options::parse_json("resource metadata options", text)?)
    }

    /// The canonical resource URL (the document's `resource`, the audience tokens must carry).
    pub fn resource(&self) -> String {
        self.resource.canonical()
    }

    /// The authorization servers' issuer URLs.
    pub fn authorization_servers(&self) -> Vec<String> {
        crate::options::string_list(&self.document["authorization_servers"]).unwrap_or_default()
    }

    /// The scopes the document lists (empty when it lists none).
    pub fn scopes_supported(&self) -> Vec<String> {
        self.document
            .get("scopes_supported")
            .and_then(crate::options::string_list)
            .unwrap_or_default()
    }

    /// The document, as a JSON object.
    pub fn document(&self) -> &Map<String, Value> {
        &self.document
    }

    /// The document as JSON text, the body to serve.
    pub fn to_json(&self) -> String {
        crate::util::json_text(&self.document)
    }

    /// The URL of the document at the path-aware well-known location (RFC 9728 §3.1): the value of
    /// `resource_metadata` in this resource's challenges.
    pub fn metadata_url(&self) -> String {
        format!("{}{}", self.resource.origin(), self.paths[0])
    }

    /// The request paths at which to serve the document (see [`well_known_paths`]).
    pub fn well_known_paths(&self) -> &[String] {
        &self.paths
    }

    /// Whether a request for `path` (the request target's path, without query) is for this
    /// document.
    pub fn serves(&self, path: &str) -> bool {
        self.paths
            .iter()
            .any(|p| p.split_once('?').map_or(p.as_str(), |(p, _)| p) == path)
    }

    /// The response headers to serve the document with: JSON, cacheable for an hour, and readable
    /// from any origin (browser-based MCP clients fetch it cross-origin; it holds nothing private).
    pub fn response_headers() -> [(&'static str, &'static str); 3] {
        [
            ("content-type", "application/json"),
            ("cache-control", "public, max-age=3600"),
            ("access-control-allow-origin", "*"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(v: Value) -> Result<ResourceMetadata> {
        ResourceMetadata::from_value(&v)
    }

    #[test]
    fn every_rfc_9728_field() {
        let m = meta(json!({
            "resource": "HTTPS://MCP.Example.com:443/mcp#x",
            "authorizationServers": "https://as.example",
            "jwks_uri": "https://mcp.example.com/jwks",
            "scopes_supported": ["files:read", "files:write"],
            "resource_signing_alg_values_supported": ["ES256"],
            "resource_name": "Files",
            "resource_documentation": "https://docs.example/files",
            "resource_policy_uri": "https://docs.example/policy",
            "resource_tos_uri": "https://docs.example/tos",
            "tls_client_certificate_bound_access_tokens": false,
            "authorization_details_types_supported": ["file_access"],
            "dpop_signing_alg_values_supported": ["ES256", "EdDSA"],
            "dpop_bound_access_tokens_required": false,
            "signed_metadata": "a.b.c",
        }))
        .unwrap();
        assert_eq!(m.resource(), "https://mcp.example.com/mcp");
        let d = Value::Object(m.document().clone());
        assert_eq!(d["resource"], "https://mcp.example.com/mcp");
        assert_eq!(d["authorization_servers"], json!(["https://as.example"]));
        assert_eq!(d["bearer_methods_supported"], json!(["header"]));
        assert_eq!(d.as_object().unwrap().len(), 15);
        assert_eq!(
            m.metadata_url(),
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            m.well_known_paths(),
            [
                "/.well-known/oauth-protected-resource/mcp",
                "/.well-known/oauth-protected-resource"
            ]
        );
        assert!(m.serves("/.well-known/oauth-protected-resource"));
        assert!(!m.serves("/.well-known/oauth-protected-resource/other"));
        let back: Value = serde_json::from_str(&m.to_json()).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn well_known_paths_follow_rfc_9728_section_3_1() {
        for (resource, paths) in [
            ("https://x.example", vec!["/.well-known/oauth-protected-resource"]),
            ("https://x.example/", vec!["/.well-known/oauth-protected-resource"]),
            (
                "https://x.example/public/mcp/",
                vec!["/.well-known/oauth-protected-resource/public/mcp/", WELL_KNOWN],
            ),
            (
                "https://x.example/r?t=1",
                vec!["/.well-known/oauth-protected-resource/r?t=1", WELL_KNOWN],
            ),
        ] {
            let m = meta(json!({"resource": resource, "authorization_servers": ["https://as"]})).unwrap();
            assert_eq!(m.well_known_paths(), paths, "{resource}");
        }
    }

    #[test]
    fn refusals() {
        let base = || json!({"resource": "https://x.example/mcp", "authorization_servers": ["https://as.example"]});
        let with = |k: &str, v: Value| {
            let mut o = base();
            o[k] = v;
            meta(o).unwrap_err().message().to_string()
        };
        assert!(meta(json!({"authorization_servers": ["https://as"]}))
            .unwrap_err()
            .message()
            .contains("\"resource\""));
        assert!(with("authorization_servers", json!([])).contains("at least one"));
        assert!(with("resource", json!("http://x.example/mcp")).contains("plain http"));
        assert!(with("resource", json!("ftp://x")).contains("scheme"));
        assert!(with("bearer_methods_supported", json!(["query"])).contains("Authorization header only"));
        assert!(with("scopes_supported", json!(["a b"])).contains("not a scope"));
        assert!(with("resource_signing_alg_values_supported", json!(["none"]))
            .contains("resource_signing_alg_values_supported"));
        assert!(with("dpop_signing_alg_values_supported", json!(["HS256"])).contains("dpop_signing"));
        assert!(with("signed_metadata", json!("x")).contains("JWT"));
        assert!(with("jwks_uri", json!("http://x.example/jwks")).contains("plain http"));
        assert!(with("resourceNam", json!("x")).contains("resourceNam"));
        // Loopback http is fine for development; elsewhere only with allow_insecure_http.
        let m =
            meta(json!({"resource": "http://127.0.0.1:3000/mcp", "authorization_servers": ["http://localhost:9000"]}));
        assert!(m.is_ok());
        let m = meta(
            json!({"resource": "http://mcp.internal/mcp", "authorization_servers": ["http://as.internal"], "allow_insecure_http": true}),
        );
        assert_eq!(m.unwrap().resource(), "http://mcp.internal/mcp");
    }
}
