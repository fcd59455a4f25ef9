//! OAuth names (grant and token types), error answers and form parsing shared by the
//! endpoints.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

pub const GRANT_CLIENT_CREDENTIALS: &str = "client_credentials";
/// RFC 8693 §2.1.
pub const GRANT_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 7523 §2.1, with a JWT-SVID as the assertion (see [`crate::spiffe`]).
pub const GRANT_JWT_BEARER: &str = authsec_core::client::workload_identity::JWT_BEARER_GRANT_TYPE;
/// RFC 8693 §3: the token types this server accepts and issues in a token exchange.
pub const TOKEN_TYPE_ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const TOKEN_TYPE_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
pub const TOKEN_TYPES: [&str; 2] = [TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT];

/// An RFC 6749 §5.2 error answer.
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    pub basic_challenge: bool,
    pub retry_after: Option<u64>,
    /// A nonce for the client's next DPoP proof (`DPoP-Nonce`, RFC 9449 §8).
    pub dpop_nonce: Option<Box<str>>,
    /// A `WWW-Authenticate` challenge (RFC 6750 §3) other than Basic's.
    pub challenge: Option<Box<str>>,
}

impl OAuthError {
    pub fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            error,
            description: description.into(),
            basic_challenge: false,
            retry_after: None,
            dpop_nonce: None,
            challenge: None,
        }
    }
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", d)
    }
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(401, "invalid_client", d)
    }
    pub fn server_error(d: impl Into<String>) -> Self {
        Self::new(500, "server_error", d)
    }
}

impl From<authsec_core::Error> for OAuthError {
    fn from(e: authsec_core::Error) -> Self {
        OAuthError::server_error(format!("internal error ({})", e.code()))
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "error_description": self.description});
        let mut resp = (self.status, no_store_headers(), axum::Json(body)).into_response();
        if self.basic_challenge {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"authsec\""),
            );
        }
        if let Some(c) = self.challenge.as_deref().and_then(|c| HeaderValue::from_str(c).ok()) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, c);
        }
        if let Some(s) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if let Some(n) = &self.dpop_nonce {
            set_dpop_nonce(&mut resp, n);
        }
        resp
    }
}

/// Send `nonce` in `DPoP-Nonce` (RFC 9449 §8).
pub fn set_dpop_nonce(resp: &mut Response, nonce: &str) {
    if let Ok(v) = HeaderValue::from_str(nonce) {
        resp.headers_mut().insert("dpop-nonce", v);
    }
}

pub fn no_store_headers() -> [(header::HeaderName, &'static str); 2] {
    [(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")]
}

pub fn json_no_store(status: u16, v: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        no_store_headers(),
        axum::Json(v),
    )
        .into_response()
}

/// Largest form body accepted.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// A parsed `application/x-www-form-urlencoded` body. Parameters other than `resource` may
/// appear only once (RFC 6749 §3.2), and `audience` may repeat in a token exchange request
/// (RFC 8693 §2.1).
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Form, OAuthError> {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = ct.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(OAuthError::invalid_request(format!(
                "the request body must be application/x-www-form-urlencoded (got {:?})",
                authsec_core::util::truncate(if ct.is_empty() { "nothing" } else { ct })
            )));
        }
        if std::str::from_utf8(body).is_err() {
            return Err(OAuthError::invalid_request("the form body is not UTF-8"));
        }
        let pairs: Vec<(String, String)> = form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if pairs.len() > 64 {
            return Err(OAuthError::invalid_request("too many form parameters"));
        }
        let exchange = pairs
            .iter()
            .find(|(k, _)| k == "grant_type")
            .is_some_and(|(_, v)| v == GRANT_TOKEN_EXCHANGE);
        let mut seen = std::collections::HashSet::new();
        for (k, _) in &pairs {
            let may_repeat = k == "resource" || (exchange && k == "audience");
            if !may_repeat && !seen.insert(k.as_str()) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {:?} appears more than once",
                    authsec_core::util::truncate(k)
                )));
            }
        }
        Ok(Form { pairs })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Decode one `application/x-www-form-urlencoded` component (`+` is a space).
pub fn form_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn decode() {
        assert_eq!(form_decode("a%3Ab+c%25%E2%82%AC").as_deref(), Some("a:b c%€"));
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%4"), None);
    }
}
