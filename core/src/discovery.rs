//! RFC 8414 authorization-server metadata (with the OpenID Connect fallback): where to find it,
//! how to read it, and [`MetadataCache`], which discovers it once for the token client (its
//! `token_endpoint`) and for verifiers (its `jwks_uri`).

use crate::http::{HttpResponse, Transport};
use crate::refresh::{Fresh, RefreshCell, Step};
use crate::runtime::Clock;
use crate::{Error, ErrorCode, Result};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// The endpoints a client or verifier needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerMetadata {
    pub issuer: String,
    pub token_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub introspection_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// RFC 8705 §5: the token endpoint a client presenting a TLS certificate uses instead.
    pub mtls_token_endpoint: Option<String>,
    /// RFC 9449 §5.1: the DPoP proof algorithms the server accepts (empty: not said).
    pub dpop_signing_alg_values_supported: Vec<String>,
}

/// Metadata URLs to try, in order: RFC 8414 §3.1 (well-known inserted between host and path),
/// then OpenID Connect Discovery (appended to the issuer).
pub fn discovery_urls(issuer: &str) -> Result<Vec<String>> {
    let (origin, path) = origin_and_path(issuer)?;
    let path = path.trim_end_matches('/');
    Ok(vec![
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!("{origin}{path}/.well-known/openid-configuration"),
    ])
}

const QUERY_OR_FRAGMENT: &str = "the issuer URL must not have a query or fragment (RFC 8414 §2)";

/// The issuer's origin (`https://host[:port]`) and path, with the `url` crate natively.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn origin_and_path(issuer: &str) -> Result<(String, String)> {
    let u = url::Url::parse(issuer).map_err(|e| Error::config(format!("issuer {issuer:?} is not a URL ({e})")))?;
    if u.query().is_some() || u.fragment().is_some() {
        return Err(Error::config(QUERY_OR_FRAGMENT));
    }
    Ok((u.origin().ascii_serialization(), u.path().to_string()))
}

/// wasm builds: as for `check_url`, the `url` crate would be a fifth of the module; an issuer that
/// passed `check_url` (http(s), no credentials) only needs its origin and path split off. Kept in
/// step with the `url` crate by `light_origin_and_path_agrees_with_the_url_crate`.
#[cfg(target_arch = "wasm32")]
pub(crate) fn origin_and_path(issuer: &str) -> Result<(String, String)> {
    origin_and_path_light(issuer)
}

#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
fn origin_and_path_light(issuer: &str) -> Result<(String, String)> {
    let not_url = || Error::config(format!("issuer {} is not an http(s) URL", crate::util::quoted(issuer)));
    let (scheme, rest) = issuer.trim().split_once("://").ok_or_else(not_url)?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return Err(not_url()),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if tail.contains(['?', '#']) {
        return Err(Error::config(QUERY_OR_FRAGMENT));
    }
    if authority.is_empty() || authority.contains('@') {
        return Err(not_url());
    }
    let host = authority.to_ascii_lowercase();
    let host = host.strip_suffix(default_port).unwrap_or(&host);
    let path = if tail.is_empty() { "/" } else { tail };
    Ok((format!("{scheme}://{host}"), path.to_string()))
}

/// Parse a metadata document; its `issuer` must equal the configured issuer (RFC 8414 §3.3).
pub fn parse_metadata(resp: &HttpResponse, expected_issuer: &str) -> Result<ServerMetadata> {
    if resp.status != 200 {
        return Err(Error::new(
            ErrorCode::InvalidResponse,
            format!("the metadata endpoint answered HTTP {}", resp.status),
        )
        .with_status(resp.status));
    }
    let v: Value = serde_json::from_slice(&resp.body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidResponse,
                "the authorization-server metadata is not a JSON object",
            )
        })?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let issuer = s("issuer").ok_or_else(|| Error::new(ErrorCode::InvalidResponse, "the metadata has no issuer"))?;
    if issuer.trim_end_matches('/') != expected_issuer.trim_end_matches('/') {
        return Err(Error::new(
            ErrorCode::InvalidResponse,
            format!(
                "the metadata names issuer {}, not the configured {} (RFC 8414 §3.3)",
                crate::util::quoted(&issuer),
                crate::util::quoted(expected_issuer)
            ),
        ));
    }
    let strings = |name: &str| -> Vec<String> {
        v.get(name)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default()
    };
    Ok(ServerMetadata {
        issuer,
        token_endpoint: s("token_endpoint"),
        jwks_uri: s("jwks_uri"),
        introspection_endpoint: s("introspection_endpoint"),
        revocation_endpoint: s("revocation_endpoint"),
        token_endpoint_auth_methods_supported: strings("token_endpoint_auth_methods_supported"),
        mtls_token_endpoint: v
            .get("mtls_endpoint_aliases")
            .and_then(|a| a.get("token_endpoint"))
            .and_then(Value::as_str)
            .map(str::to_string),
        dpop_signing_alg_values_supported: strings("dpop_signing_alg_values_supported"),
    })
}

/// Fetch metadata through a transport, trying each discovery URL in turn.
pub async fn discover(
    transport: &dyn crate::http::Transport,
    issuer: &str,
    allow_insecure: bool,
) -> Result<ServerMetadata> {
    crate::http::check_url(issuer, allow_insecure, "issuer")?;
    discover_at(transport, &discovery_urls(issuer)?, issuer).await
}

/// The first metadata document at `urls`, tried in order (a 404 or a failed request tries the
/// next); its `issuer` must equal `issuer`. For orders other than [`discovery_urls`]' (the MCP
/// client's).
pub async fn discover_at(
    transport: &dyn crate::http::Transport,
    urls: &[String],
    issuer: &str,
) -> Result<ServerMetadata> {
    let mut last = None;
    for url in urls.iter().cloned() {
        match transport.send(crate::http::HttpRequest::get(url)).await {
            Ok(resp) if resp.status == 404 => {
                last =
                    Some(Error::new(ErrorCode::InvalidResponse, "no metadata at the well-known URLs").with_status(404))
            }
            Ok(resp) => return parse_metadata(&resp, issuer),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::internal("no discovery URL")))
}

/// An issuer's metadata, discovered on first use and kept: one request in flight however many
/// callers wait. After a failure the error is given to callers for `failure_pause` before
/// discovery is tried again (zero: every caller tries again).
#[derive(Clone)]
pub struct MetadataCache {
    issuer: String,
    allow_insecure_http: bool,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    cell: RefreshCell<ServerMetadata>,
}

impl MetadataCache {
    pub fn new(
        issuer: &str,
        allow_insecure_http: bool,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        failure_pause: Duration,
    ) -> MetadataCache {
        MetadataCache {
            issuer: issuer.to_string(),
            allow_insecure_http,
            transport,
            cell: RefreshCell::new(clock.clone(), false, move |_, _| failure_pause),
            clock,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The metadata, if it was discovered already.
    pub fn known(&self) -> Option<Arc<ServerMetadata>> {
        self.cell.current()
    }

    /// The metadata, discovered first if needed.
    pub async fn get(&self) -> Result<Arc<ServerMetadata>> {
        let start = || -> crate::runtime::BoxFut<'static, Result<Fresh<ServerMetadata>>> {
            let (issuer, insecure, transport) = (self.issuer.clone(), self.allow_insecure_http, self.transport.clone());
            Box::pin(async move {
                let meta = discover(&*transport, &issuer, insecure).await?;
                Ok(Fresh {
                    value: Arc::new(meta),
                    refresh_at_ms: i64::MAX,
                    usable_until_ms: i64::MAX,
                })
            })
        };
        match self.cell.step(self.clock.now_ms(), &start) {
            Step::Ready(m) => Ok(m),
            Step::Failed(e) => Err(e),
            Step::Wait(f) | Step::Refreshing(f, _, _) => f.await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn urls() {
        assert_eq!(
            discovery_urls("https://auth.example.com").unwrap(),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            discovery_urls("https://auth.example.com/tenant1/").unwrap(),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration"
            ]
        );
    }
    #[test]
    fn light_origin_and_path_agrees_with_the_url_crate() {
        for issuer in [
            "https://auth.example.com",
            "https://auth.example.com/",
            "https://Auth.Example.COM:443/tenant1/",
            "https://auth.example.com:8443/t/x",
            "http://127.0.0.1:8080",
            "http://localhost:80/realms/a",
            "HTTPS://auth.example.com/a/b/",
        ] {
            assert_eq!(
                origin_and_path_light(issuer).unwrap(),
                origin_and_path(issuer).unwrap(),
                "{issuer}"
            );
        }
        for bad in ["https://auth.example.com/?x=1", "https://auth.example.com/#f"] {
            assert!(
                origin_and_path_light(bad).is_err() && origin_and_path(bad).is_err(),
                "{bad}"
            );
        }
        assert!(origin_and_path_light("ftp://x").is_err());
    }

    #[test]
    fn issuer_must_match() {
        let r = HttpResponse::json(
            200,
            &serde_json::json!({"issuer": "https://evil", "token_endpoint": "https://evil/t"}),
        );
        assert!(parse_metadata(&r, "https://good").is_err());
        let r = HttpResponse::json(
            200,
            &serde_json::json!({"issuer": "https://good", "token_endpoint": "https://good/t", "jwks_uri": "https://good/j"}),
        );
        let m = parse_metadata(&r, "https://good").unwrap();
        assert_eq!(m.jwks_uri.as_deref(), Some("https://good/j"));
    }
}
