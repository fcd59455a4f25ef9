//! An MCP server as an OAuth protected resource (MCP authorization, 2025-06-18 and later), as one
//! sans-IO decision every binding's adapter drives:
//!
//! 1. [`McpServerAuth::begin`] with the request's method, path and `Authorization` header: serve
//!    the RFC 9728 metadata, refuse at once (no credentials, a malformed header), or verify a token.
//! 2. The adapter verifies the token with its verifier, built from [`McpServerAuth::verifier_options`]
//!    (audience = this resource, issuer = its authorization server), and hands the result and the
//!    request body to [`McpServerAuth::decide`]: allowed, or refused with the status, challenge
//!    and body to answer.
//!
//! The adapter does the IO and converts types; every rule is here.

use super::operation::{operations, Operation};
use super::scopes::OperationScopes;
use crate::access_token::claims::Claims;
use crate::options::{OptionName, Options};
use crate::resource::bearer::bearer_token;
use crate::resource::challenge::{challenge, ChallengeParams};
use crate::resource::metadata::ResourceMetadata;
use crate::{Error, Result};
use serde_json::{json, Map, Value};

/// Every option: its name and its JavaScript spelling.
const OPTIONS: [OptionName; 9] = [
    ("resource", "resource"),
    ("authorization_servers", "authorizationServers"),
    ("metadata", "metadata"),
    ("verifier", "verifier"),
    ("required_scopes", "requiredScopes"),
    ("operation_scopes", "operationScopes"),
    ("filter_lists", "filterLists"),
    ("realm", "realm"),
    ("allow_insecure_http", "allowInsecureHttp"),
];

/// The configuration of an MCP server's authorization. Options (snake_case or camelCase):
/// - `resource`: the server's URL as clients reach it (`https://mcp.example.com/mcp`); tokens must
///   be issued for it (their `aud`). Required.
/// - `authorization_servers`: issuer URLs (at least one). Tokens from the first are accepted unless
///   `verifier.issuer` says otherwise.
/// - `metadata`: more RFC 9728 fields for the metadata document (`scopes_supported`,
///   `resource_name`, ...).
/// - `verifier`: verifier options; `issuer` defaults to the sole authorization server, `audience`
///   to `resource`, and the keys to the issuer's discovered `jwks_uri`.
/// - `required_scopes`: scopes every request needs; `operation_scopes`: per-operation scopes
///   (see [`OperationScopes`]); `filter_lists`: cut `tools/list` & co. to what the token may use
///   (default true).
/// - `realm`, `allow_insecure_http` (plain http to hosts other than this machine).
#[derive(Clone, Debug)]
pub struct McpServerAuth {
    metadata: ResourceMetadata,
    verifier: Value,
    scopes: OperationScopes,
    filter_lists: bool,
    params: ChallengeParams,
}

/// What to do with a request before any token is verified.
#[derive(Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// Answer with this response (the metadata document, a CORS preflight, or a refusal).
    Respond(Response),
    /// Verify this bearer token, then call [`McpServerAuth::decide`].
    Verify(&'a str),
}

/// A response the adapter sends as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A request allowed through: what it does, for the adapter's records and list filtering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowed {
    pub operations: Vec<Operation>,
}

impl McpServerAuth {
    pub fn from_value(v: &Value) -> Result<McpServerAuth> {
        let o = Options::read("MCP server auth options", v, &OPTIONS)?;
        let insecure = o.bool("allow_insecure_http")?.unwrap_or(false);
        let mut meta = match o.value("metadata") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(o.bad("metadata", "an object of RFC 9728 fields")),
        };
        for key in ["resource", "authorization_servers", "authorizationServers"] {
            if meta.contains_key(key) {
                return Err(Error::config(format!(
                    "MCP server auth options: give {key} at the top level, not in metadata"
                )));
            }
        }
        meta.insert("resource".into(), o.value("resource").cloned().unwrap_or(Value::Null));
        meta.insert(
            "authorization_servers".into(),
            o.value("authorization_servers").cloned().unwrap_or(Value::Null),
        );
        if insecure {
            meta.insert("allow_insecure_http".into(), true.into());
        }
        let metadata = ResourceMetadata::from_value(&Value::Object(meta))?;

        let mut verifier = match o.value("verifier") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(o.bad("verifier", "an object of verifier options")),
        };
        let given =
            |m: &Map<String, Value>, names: &[&str]| names.iter().any(|n| m.get(*n).is_some_and(|v| !v.is_null()));
        if !given(&verifier, &["issuer", "skip_issuer_check", "skipIssuerCheck"]) {
            let servers = metadata.authorization_servers();
            if servers.len() != 1 {
                return Err(Error::config(
                    "MCP server auth options: with more than one authorization server, say which issuer's tokens to accept (verifier.issuer)",
                ));
            }
            verifier.insert("issuer".into(), servers[0].clone().into());
        }
        if given(&verifier, &["skip_audience_check", "skipAudienceCheck"]) {
            return Err(Error::config(
                "MCP server auth options: the audience check cannot be skipped (MCP servers must refuse tokens issued for another resource)",
            ));
        }
        if !given(&verifier, &["audience"]) {
            verifier.insert("audience".into(), metadata.resource().into());
        }
        if !given(&verifier, &["jwks_uri", "jwksUri", "jwks", "discover"]) {
            verifier.insert("discover".into(), true.into());
        }
        if insecure && !given(&verifier, &["allow_insecure_http", "allowInsecureHttp"]) {
            verifier.insert("allow_insecure_http".into(), true.into());
        }
        // Checked now, so a mistake is reported when the server starts, not at its first request.
        crate::access_token::options::VerifierOptions::from_value(&Value::Object(verifier.clone()))?.config()?;

        let base = o.space_separated("required_scopes")?.unwrap_or_default();
        let scopes = OperationScopes::new(base, o.value("operation_scopes").unwrap_or(&Value::Null))?;
        let params = ChallengeParams {
            realm: o.string("realm")?,
            resource_metadata: Some(metadata.metadata_url()),
            scopes: Vec::new(),
        };
        Ok(McpServerAuth {
            metadata,
            verifier: Value::Object(verifier),
            scopes,
            filter_lists: o.bool("filter_lists")?.unwrap_or(true),
            params,
        })
    }

    /// Read the options from JSON text.
    pub fn from_json(text: &str) -> Result<McpServerAuth> {
        Self::from_value(&crate::options::parse_json("MCP server auth options", text)?)
    }

    pub fn metadata(&self) -> &ResourceMetadata {
        &self.metadata
    }

    /// The options of the verifier the adapter builds (a JSON object of verifier options).
    pub fn verifier_options(&self) -> &Value {
        &self.verifier
    }

    pub fn operation_scopes(&self) -> &OperationScopes {
        &self.scopes
    }

    /// Whether list results are cut to what the token may use (`filter_lists`, default true).
    pub fn filter_lists(&self) -> bool {
        self.filter_lists
    }

    /// The first step for a request (see the module documentation). `path` is the request target's
    /// path, without query.
    pub fn begin<'a>(&self, method: &str, path: &str, authorization: Option<&'a str>) -> Step<'a> {
        if self.metadata.serves(path) {
            return Step::Respond(self.metadata_response(method));
        }
        match bearer_token(authorization) {
            Ok(Some(token)) => Step::Verify(token),
            Ok(None) => Step::Respond(self.refusal(None, &[])),
            Err(e) => Step::Respond(self.refusal(Some(&e), &[])),
        }
    }

    /// The second step: the verifier's answer for the token (the scopes it grants, or why it was
    /// refused) and the request body (`None` for a request without one, such as the GET that
    /// opens an event stream).
    pub fn decide(
        &self,
        verified: std::result::Result<&[&str], &Error>,
        body: Option<&[u8]>,
    ) -> std::result::Result<Allowed, Response> {
        let granted = verified.map_err(|e| self.refusal(Some(e), &[]))?;
        let ops = match body {
            Some(b) => operations(b).map_err(|e| self.refusal(Some(&e), &[]))?,
            None => Vec::new(),
        };
        self.scopes
            .check(&ops, granted)
            .map_err(|e| self.refusal(Some(&e), &ops))?;
        Ok(Allowed { operations: ops })
    }

    /// [`Self::decide`] for verified claims.
    pub fn decide_claims(
        &self,
        verified: Result<&Claims>,
        body: Option<&[u8]>,
    ) -> std::result::Result<Allowed, Response> {
        match verified {
            Ok(c) => self.decide(Ok(&c.scopes()), body),
            Err(e) => self.decide(Err(&e), body),
        }
    }

    /// Cut a list result (`tools/list`, `prompts/list`, `resources/list`) to what a token with
    /// these scopes may use, unless `filter_lists` is off; the number of items removed.
    pub fn filter_list(&self, method: &str, result: &mut Value, granted: &[&str]) -> usize {
        if !self.filter_lists {
            return 0;
        }
        self.scopes.filter_list(method, result, granted)
    }

    /// Whether a token with these scopes may do `op` (for adapters that filter typed lists).
    pub fn allows(&self, op: &Operation, granted: &[&str]) -> bool {
        !self.filter_lists || self.scopes.allows(op, granted)
    }

    /// The answer to a request refused for `err` (`None`: no credentials), naming every scope
    /// `ops` need: the status, `WWW-Authenticate` (with `resource_metadata`), and a JSON body
    /// `{"error", "error_description"}` (no `error` when no credentials were sent).
    pub fn refusal(&self, err: Option<&Error>, ops: &[Operation]) -> Response {
        let params = ChallengeParams {
            scopes: self.scopes.required_all(ops),
            ..self.params.clone()
        };
        let c = challenge(&params, err);
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(h) = c.www_authenticate {
            headers.push(("www-authenticate".into(), h));
        }
        let body = match (c.error, err) {
            (Some(code), Some(e)) => json!({"error": code, "error_description": e.message()}),
            (None, Some(e)) if c.status == 503 => {
                json!({"error": "temporarily_unavailable", "error_description": e.message()})
            }
            (None, Some(e)) => json!({"error": "server_error", "error_description": e.message()}),
            // No credentials: no error code in the challenge (RFC 6750 §3.1), none in the body.
            _ => json!({"error_description": "this MCP server needs a bearer token; see WWW-Authenticate"}),
        };
        Response {
            status: c.status,
            headers,
            body: crate::util::json_text(&body),
        }
    }

    fn metadata_response(&self, method: &str) -> Response {
        let mut headers: Vec<(String, String)> = ResourceMetadata::response_headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match method.to_ascii_uppercase().as_str() {
            "GET" | "HEAD" => Response {
                status: 200,
                headers,
                body: self.metadata.to_json(),
            },
            "OPTIONS" => {
                headers.retain(|(k, _)| k.starts_with("access-control"));
                headers.push(("access-control-allow-methods".into(), "GET, HEAD, OPTIONS".into()));
                Response {
                    status: 204,
                    headers,
                    body: String::new(),
                }
            }
            _ => Response {
                status: 405,
                headers: vec![("allow".into(), "GET, HEAD, OPTIONS".into())],
                body: String::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    const RESOURCE: &str = "https://mcp.example.com/mcp";
    const PRM: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";

    fn auth() -> McpServerAuth {
        McpServerAuth::from_value(&json!({
            "resource": "HTTPS://MCP.example.com/mcp",
            "authorizationServers": ["https://as.example.com"],
            "metadata": {"scopes_supported": ["mcp", "files:read", "files:write"], "resource_name": "Files"},
            "required_scopes": "mcp",
            "operation_scopes": {"tools/call:write_file": "files:write", "tools/call:read_file": ["files:read"]},
        }))
        .unwrap()
    }

    fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
        r.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn call(tool: &str) -> Vec<u8> {
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": {}}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn defaults_follow_the_resource() {
        let a = auth();
        assert_eq!(a.metadata().resource(), RESOURCE);
        let v = a.verifier_options();
        assert_eq!(v["issuer"], "https://as.example.com");
        assert_eq!(v["audience"], RESOURCE);
        assert_eq!(v["discover"], true);
        let refusals = [
            (
                json!({"resource": RESOURCE, "authorization_servers": ["https://a", "https://b"]}),
                "verifier.issuer",
            ),
            (
                json!({"resource": RESOURCE, "authorization_servers": ["https://a"], "verifier": {"skip_audience_check": true}}),
                "cannot be skipped",
            ),
            (
                json!({"resource": RESOURCE, "authorization_servers": ["https://a"], "metadata": {"resource": "https://x"}}),
                "top level",
            ),
            (
                json!({"resource": RESOURCE, "authorization_servers": ["https://a"], "verifier": {"audience_match": "loose"}}),
                "audience_match",
            ),
            (json!({"resource": RESOURCE}), "authorization_servers"),
        ];
        for (opts, says) in refusals {
            let e = McpServerAuth::from_value(&opts).unwrap_err();
            assert!(e.message().contains(says), "{opts}: {e:?}");
        }
    }

    #[test]
    fn serves_its_metadata() {
        let a = auth();
        for path in [
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource",
        ] {
            let Step::Respond(r) = a.begin("GET", path, None) else {
                panic!("{path}")
            };
            assert_eq!(r.status, 200);
            assert_eq!(header(&r, "access-control-allow-origin"), Some("*"));
            let doc: Value = serde_json::from_str(&r.body).unwrap();
            assert_eq!(doc["resource"], RESOURCE);
            assert_eq!(doc["authorization_servers"], json!(["https://as.example.com"]));
            assert_eq!(doc["resource_name"], "Files");
        }
        let Step::Respond(r) = a.begin("OPTIONS", "/.well-known/oauth-protected-resource", None) else {
            panic!()
        };
        assert_eq!(r.status, 204);
        let Step::Respond(r) = a.begin("POST", "/.well-known/oauth-protected-resource", None) else {
            panic!()
        };
        assert_eq!(r.status, 405);
    }

    #[test]
    fn no_token_is_a_401_without_an_error_code() {
        let a = auth();
        for authz in [None, Some("Basic YTpi"), Some("")] {
            let Step::Respond(r) = a.begin("POST", "/mcp", authz) else {
                panic!()
            };
            assert_eq!(r.status, 401);
            assert_eq!(
                header(&r, "www-authenticate"),
                Some(format!("Bearer scope=\"mcp\", resource_metadata=\"{PRM}\"").as_str())
            );
            assert!(!r.body.contains("\"error\""), "{}", r.body);
        }
        let Step::Respond(r) = a.begin("POST", "/mcp", Some("Bearer")) else {
            panic!()
        };
        assert_eq!(r.status, 400);
        assert_eq!(a.begin("POST", "/mcp", Some("Bearer abc")), Step::Verify("abc"));
    }

    #[test]
    fn refused_tokens_and_scopes() {
        let a = auth();
        let e = Error::new(ErrorCode::InvalidAudience, "the token is for another audience");
        let r = a.decide(Err(&e), Some(&call("read_file"))).unwrap_err();
        assert_eq!(r.status, 401);
        let h = header(&r, "www-authenticate").unwrap();
        assert!(h.starts_with("Bearer error=\"invalid_token\""), "{h}");
        assert!(h.ends_with(&format!("resource_metadata=\"{PRM}\"")), "{h}");
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["error"], "invalid_token");

        // A tool outside the token's scopes: 403 naming every scope the call needs.
        let r = a
            .decide(Ok(&["mcp", "files:read"]), Some(&call("write_file")))
            .unwrap_err();
        assert_eq!(r.status, 403);
        let h = header(&r, "www-authenticate").unwrap();
        assert!(h.starts_with("Bearer error=\"insufficient_scope\""), "{h}");
        assert!(h.contains("scope=\"mcp files:write\""), "{h}");
        // The base scope is needed for everything, a GET without a body included.
        let r = a.decide(Ok(&["files:read"]), None).unwrap_err();
        assert_eq!(r.status, 403);
        assert!(header(&r, "www-authenticate").unwrap().contains("scope=\"mcp\""));

        let ok = a.decide(Ok(&["mcp", "files:read"]), Some(&call("read_file"))).unwrap();
        assert_eq!(ok.operations, [Operation::new("tools/call", Some("read_file"))]);
        assert!(a.decide(Ok(&["mcp"]), Some(&call("echo"))).is_ok());
        // An unreadable body is a 400, not a pass.
        assert_eq!(a.decide(Ok(&["mcp"]), Some(b"{}}")).unwrap_err().status, 400);
        let e = Error::new(ErrorCode::JwksUnavailable, "down");
        let r = a.decide(Err(&e), None).unwrap_err();
        assert_eq!((r.status, header(&r, "www-authenticate")), (503, None));
    }

    #[test]
    fn lists_follow_the_token() {
        let a = auth();
        let mut r = json!({"tools": [{"name": "read_file"}, {"name": "write_file"}, {"name": "echo"}]});
        assert_eq!(a.filter_list("tools/list", &mut r, &["mcp", "files:read"]), 1);
        assert_eq!(r["tools"].as_array().unwrap().len(), 2);
        let off = McpServerAuth::from_value(&json!({
            "resource": RESOURCE, "authorization_servers": ["https://as.example.com"],
            "operation_scopes": {"tools/call:write_file": "w"}, "filter_lists": false,
        }))
        .unwrap();
        let mut r = json!({"tools": [{"name": "write_file"}]});
        assert_eq!(off.filter_list("tools/list", &mut r, &[]), 0);
        assert!(off.allows(&Operation::new("tools/call", Some("write_file")), &[]));
        assert!(a.filter_lists() && !off.filter_lists());
    }
}
