//! Helpers shared by the server's integration tests: start a server on 127.0.0.1:0 with an
//! in-memory audit log (and optionally a manual clock), send form posts through the native
//! transport (token requests and RFC 8693 token exchanges among them), send raw bytes over TCP,
//! decode JWTs, make temporary directories.
#![allow(dead_code)]

use authsec_native::http::{HttpRequest, Method, Transport};
use authsec_native::*;
use authsec_server::{start, ClientSpec, RunningServer, ServerConfig, StartOptions};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A running server plus what the tests observe: its audit lines and its clock.
pub struct TestServer {
    pub server: RunningServer,
    pub audit: Arc<Mutex<Vec<u8>>>,
    pub clock: Option<ManualClock>,
}

impl TestServer {
    /// Start with the system clock.
    pub async fn start(cfg: ServerConfig) -> TestServer {
        Self::start_with(cfg, None, StartOptions::default().request_timeout).await
    }

    /// Start with a manual clock (shared with the caller: advancing it moves the server's time).
    pub async fn start_with_clock(cfg: ServerConfig, clock: ManualClock) -> TestServer {
        Self::start_with(cfg, Some(clock), StartOptions::default().request_timeout).await
    }

    /// Start with the system clock and this bound on a request after its head.
    pub async fn start_with_request_timeout(cfg: ServerConfig, request_timeout: Duration) -> TestServer {
        Self::start_with(cfg, None, request_timeout).await
    }

    async fn start_with(cfg: ServerConfig, clock: Option<ManualClock>, request_timeout: Duration) -> TestServer {
        let (audit, buf) = authsec_server::audit::Audit::memory();
        let opts = StartOptions {
            clock: match &clock {
                Some(c) => Arc::new(c.clone()),
                None => Arc::new(SystemClock),
            },
            audit: Some(Arc::new(audit)),
            request_timeout,
            ..Default::default()
        };
        let server = start(cfg, opts).await.expect("start the server");
        assert!(server.addr().ip().is_loopback());
        TestServer {
            server,
            audit: buf,
            clock,
        }
    }

    pub fn issuer(&self) -> &str {
        self.server.issuer()
    }
    /// `http://127.0.0.1:PORT` (differs from the issuer when the config sets one).
    pub fn base(&self) -> String {
        format!("http://{}", self.server.addr())
    }
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base(), path)
    }
    pub fn token_url(&self) -> String {
        self.url("/oauth/token")
    }
    pub fn jwks_url(&self) -> String {
        self.url("/.well-known/jwks.json")
    }
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr()
    }

    /// The audit log so far, as text.
    pub fn audit_text(&self) -> String {
        String::from_utf8(self.audit.lock().clone()).expect("the audit log is UTF-8")
    }

    /// Every audit line parsed; panics when a line is not a JSON object with `ts` and `event`.
    pub fn audit_lines(&self) -> Vec<Value> {
        self.audit_text()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("audit line is not JSON ({e}): {l}"));
                assert!(
                    v.is_object() && v["event"].is_string() && v["ts"].is_number(),
                    "audit line shape: {l}"
                );
                v
            })
            .collect()
    }

    /// Audit lines of one event.
    pub fn audit_events(&self, event: &str) -> Vec<Value> {
        self.audit_lines().into_iter().filter(|v| v["event"] == event).collect()
    }

    pub fn now_s(&self) -> i64 {
        match &self.clock {
            Some(c) => c.now_ms().div_euclid(1000),
            None => SystemClock.now_ms().div_euclid(1000),
        }
    }

    pub fn advance(&self, secs: u64) {
        self.clock
            .as_ref()
            .expect("this server has a manual clock")
            .advance(Duration::from_secs(secs));
    }

    /// POST a form to the token endpoint (Basic auth when `basic` is given).
    pub async fn token_request(&self, basic: Option<(&str, &str)>, pairs: &[(&str, &str)]) -> Resp {
        let mut headers = vec![(
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        )];
        if let Some((id, secret)) = basic {
            headers.push(("authorization".into(), basic_header(id, secret)));
        }
        send(HttpRequest {
            method: Method::Post,
            url: self.token_url(),
            headers,
            body: form(pairs).into_bytes(),
        })
        .await
    }

    /// A token for `id`/`secret` with extra form pairs; panics unless the answer is 200.
    pub async fn token(&self, id: &str, secret: &str, extra: &[(&str, &str)]) -> String {
        let mut pairs = vec![("grant_type", "client_credentials")];
        pairs.extend_from_slice(extra);
        let r = self.token_request(Some((id, secret)), &pairs).await;
        assert_eq!(r.status, 200, "token request for {id}: {r:?}");
        r.json["access_token"].as_str().expect("access_token").to_string()
    }

    /// An RFC 8693 token exchange by `id`/`secret` (Basic auth) of `subject` (as an access
    /// token), with extra form pairs.
    pub async fn exchange_request(&self, id: &str, secret: &str, subject: &str, extra: &[(&str, &str)]) -> Resp {
        let mut pairs = vec![
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", subject),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
        ];
        pairs.extend_from_slice(extra);
        self.token_request(Some((id, secret)), &pairs).await
    }

    /// An exchanged token; panics unless the answer is 200.
    pub async fn exchange(&self, id: &str, secret: &str, subject: &str, extra: &[(&str, &str)]) -> String {
        let r = self.exchange_request(id, secret, subject, extra).await;
        assert_eq!(r.status, 200, "token exchange by {id}: {r:?}");
        r.json["access_token"].as_str().expect("access_token").to_string()
    }

    /// POST a form to any path with Basic auth.
    pub async fn post_form(&self, path: &str, basic: Option<(&str, &str)>, pairs: &[(&str, &str)]) -> Resp {
        let mut headers = vec![(
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        )];
        if let Some((id, secret)) = basic {
            headers.push(("authorization".into(), basic_header(id, secret)));
        }
        send(HttpRequest {
            method: Method::Post,
            url: self.url(path),
            headers,
            body: form(pairs).into_bytes(),
        })
        .await
    }

    /// RFC 7662 introspection with Basic auth.
    pub async fn introspect(&self, id: &str, secret: &str, token: &str) -> Resp {
        self.post_form("/oauth/introspect", Some((id, secret)), &[("token", token)])
            .await
    }

    /// RFC 7009 revocation with Basic auth.
    pub async fn revoke(&self, id: &str, secret: &str, token: &str) -> Resp {
        self.post_form("/oauth/revoke", Some((id, secret)), &[("token", token)])
            .await
    }

    pub async fn get(&self, path: &str) -> Resp {
        send(HttpRequest::get(self.url(path))).await
    }

    /// The published JWKS `kid`s, in order.
    pub async fn jwks_kids(&self) -> Vec<String> {
        let r = self.get("/.well-known/jwks.json").await;
        assert_eq!(r.status, 200, "{r:?}");
        r.json["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| k["kid"].as_str().expect("kid").to_string())
            .collect()
    }

    /// An admin API call (raw HTTP, so that DELETE works too).
    pub async fn admin(&self, method: &str, path: &str, admin_token: Option<&str>, body: Option<Value>) -> Resp {
        let mut headers: Vec<(String, String)> = Vec::new();
        if let Some(t) = admin_token {
            headers.push(("Authorization".into(), format!("Bearer {t}")));
        }
        let body = match body {
            Some(v) => {
                headers.push(("Content-Type".into(), "application/json".into()));
                v.to_string().into_bytes()
            }
            None => Vec::new(),
        };
        raw_request(self.addr(), method, path, &headers, &body).await
    }

    /// A core token client (no retries) on this server, with the server's manual clock when it
    /// has one, else the system clock.
    pub fn client(&self, mut cfg: ClientConfig) -> TokenClient {
        if cfg.token_url.is_none() && cfg.issuer.is_none() {
            cfg.token_url = Some(self.token_url());
        }
        let (clock, sleeper): (Arc<dyn Clock>, Arc<dyn Sleeper>) = match &self.clock {
            Some(c) => (Arc::new(c.clone()), Arc::new(c.clone())),
            None => (Arc::new(SystemClock), Arc::new(TokioSleeper)),
        };
        TokenClient::new(cfg, HttpTransport::shared(), clock, sleeper)
            .unwrap()
            .with_retry(RetryPolicy::none())
            .unwrap()
    }

    /// A core remote verifier on this server's JWKS with the server's clock.
    pub fn verifier(&self, audience: &str) -> Verifier {
        self.verifier_with(VerifierConfig::new(self.issuer(), audience), JwksPolicy::default())
    }

    pub fn verifier_with(&self, cfg: VerifierConfig, policy: JwksPolicy) -> Verifier {
        let clock: Arc<dyn Clock> = match &self.clock {
            Some(c) => Arc::new(c.clone()),
            None => Arc::new(SystemClock),
        };
        let jwks = JwksCache::new(&self.jwks_url(), HttpTransport::shared(), clock.clone(), policy).unwrap();
        Verifier::new(cfg, Arc::new(jwks), clock).unwrap()
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// JWKS fetches a remote verifier has started.
pub fn jwks_fetches(v: &Verifier) -> u64 {
    v.keys().fetch_count()
}

/// A config with the audit log off (tests pass their own in-memory sink) and these clients.
pub fn config(clients: Vec<ClientSpec>) -> ServerConfig {
    ServerConfig {
        audit_log: Some("off".into()),
        clients,
        ..Default::default()
    }
}

/// A client with a secret and allowed scopes.
pub fn secret_client(id: &str, secret: &str, scopes: &[&str]) -> ClientSpec {
    ClientSpec {
        client_id: Some(id.into()),
        client_secret: Some(secret.into()),
        allowed_scopes: scopes.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// A client with a secret, allowed scopes and audiences, that may use client credentials and
/// token exchange, and whose tokens name `may_act`.
pub fn exchange_client(id: &str, secret: &str, scopes: &[&str], audiences: &[&str], may_act: &[&str]) -> ClientSpec {
    ClientSpec {
        audiences: audiences.iter().map(|s| s.to_string()).collect(),
        grant_types: Some(vec!["client_credentials".into(), TOKEN_EXCHANGE.into()]),
        may_act: may_act.iter().map(|s| s.to_string()).collect(),
        ..secret_client(id, secret, scopes)
    }
}

/// The current wall-clock time in ms (start value for manual clocks).
pub fn now_ms() -> i64 {
    SystemClock.now_ms()
}

/// A manual clock at the current wall-clock time.
pub fn manual_clock() -> ManualClock {
    ManualClock::new(now_ms())
}

/// An HTTP response with its body parsed as JSON when it is JSON (else `Null`).
#[derive(Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub json: Value,
}

impl std::fmt::Debug for Resp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "HTTP {} {:?} {}",
            self.status,
            self.headers,
            String::from_utf8_lossy(&self.body)
        )
    }
}

impl Resp {
    fn new(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Resp {
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            json,
        }
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// Assert an RFC 6749 §5.2 error answer: this status, JSON `{"error": code,
    /// "error_description": "..."}`, `Cache-Control: no-store`.
    pub fn assert_oauth_error(&self, status: u16, code: &str) -> &Resp {
        assert_eq!(self.status, status, "status: {self:?}");
        assert_eq!(self.json["error"], code, "error code: {self:?}");
        assert!(
            self.json["error_description"].as_str().is_some_and(|d| !d.is_empty()),
            "error_description: {self:?}"
        );
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "content type: {self:?}"
        );
        assert_eq!(
            self.header("cache-control"),
            Some("no-store"),
            "cache-control: {self:?}"
        );
        self
    }
    pub fn description(&self) -> &str {
        self.json["error_description"].as_str().unwrap_or("")
    }
}

/// Send through the native (reqwest) transport.
pub async fn send(req: HttpRequest) -> Resp {
    let r = HttpTransport::shared().send(req).await.expect("HTTP request");
    Resp::new(r.status, r.headers, r.body)
}

/// `application/x-www-form-urlencoded`, written independently of the core's encoder.
pub fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `Basic base64(form(id) ":" form(secret))` per RFC 6749 §2.3.1.
pub fn basic_header(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        authsec_core::util::b64_std_encode(format!("{}:{}", form_encode(id), form_encode(secret)).as_bytes())
    )
}

/// A JWT's header and claims, decoded without verification.
pub fn decode_jwt(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has 3 segments");
    let dec = |s: &str| -> Value {
        serde_json::from_slice(&authsec_core::util::b64url_decode(s).expect("base64url")).expect("JSON")
    };
    (dec(parts[0]), dec(parts[1]))
}

pub fn kid_of(token: &str) -> String {
    decode_jwt(token).0["kid"].as_str().expect("kid").to_string()
}

/// Raw HTTP/1.1 over a fresh TCP connection with `Connection: close`; reads to EOF (5 s limit).
pub async fn raw_request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Resp {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    let raw = raw_exchange(addr, &bytes).await;
    parse_response(&raw).unwrap_or_else(|| panic!("not an HTTP response: {:?}", String::from_utf8_lossy(&raw)))
}

/// Write bytes, then read until the server closes (panics after 5 s: the server must not hang).
pub async fn raw_exchange(addr: std::net::SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    // The server may answer and close before reading everything (e.g. oversized headers).
    let _ = s.write_all(bytes).await;
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buf = [0u8; 8192];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server neither answered nor closed within 5 s; got {:?}",
        String::from_utf8_lossy(&out)
    );
    out
}

/// Parse a (possibly chunked) HTTP/1.1 response.
pub fn parse_response(raw: &[u8]) -> Option<Resp> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"))
    {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n")?;
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).ok()?.trim(), 16).ok()?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(rest.get(nl + 2..nl + 2 + n)?);
            rest = rest.get(nl + 4 + n..)?;
        }
        body = out;
    }
    Some(Resp::new(status, headers, body))
}

/// A temporary directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "authsec-server-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
    /// The bytes of every file in the directory, concatenated.
    pub fn all_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(&self.0).unwrap().flatten() {
            if let Ok(b) = std::fs::read(e.path()) {
                out.extend_from_slice(&b);
            }
        }
        out
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// A public JWKS holding one key.
pub fn jwks_of(key: &SigningKey) -> Value {
    json!({ "keys": [key.public_jwk()] })
}

/// Assert that no audit line contains any of `needles` (secrets, whole tokens, signatures).
pub fn assert_audit_clean(ts: &TestServer, needles: &[&str]) {
    let text = ts.audit_text();
    for n in needles {
        assert!(!n.is_empty());
        for line in text.lines() {
            assert!(
                !line.contains(n),
                "the audit log leaks {:?}…: {line}",
                &n[..n.len().min(12)]
            );
        }
    }
}
