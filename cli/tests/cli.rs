//! End-to-end tests of the `authsec` binary: each test runs it as a child process with a clean
//! environment (only PATH plus what the test sets), against tokens signed here and a tiny HTTP
//! token endpoint on 127.0.0.1.

use authsec_core::{Alg, SigningKey};
use serde_json::{json, Map, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ISSUER: &str = "https://issuer.test";
const AUDIENCE: &str = "api://orders";
/// No test run may take longer than this; the child is killed after it.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// helpers

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Run `authsec args...` with only PATH and `envs` in its environment, `stdin` piped in.
fn run(args: &[&str], envs: &[(&str, &str)], stdin: Option<&str>) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authsec"));
    cmd.args(args)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = std::env::var_os("PATH") {
        cmd.env("PATH", p);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run the authsec binary");
    let mut sin = child.stdin.take().unwrap();
    let input = stdin.unwrap_or("").to_string();
    let writer = std::thread::spawn(move || {
        let _ = sin.write_all(input.as_bytes());
    });
    let mut sout = child.stdout.take().unwrap();
    let mut serr = child.stderr.take().unwrap();
    let r1 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = sout.read_to_string(&mut s);
        s
    });
    let r2 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = serr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > RUN_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("authsec {args:?} did not finish within {RUN_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = writer.join();
    Out {
        code: status.code().unwrap_or(-1),
        stdout: r1.join().unwrap(),
        stderr: r2.join().unwrap(),
    }
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let p = std::env::temp_dir().join(format!(
            "authsec-cli-test-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn file(&self, name: &str, content: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A signing key, its JWKS in a temp file, and a way to mint tokens.
struct Issuer {
    key: SigningKey,
    dir: TempDir,
    jwks_path: String,
}

impl Issuer {
    fn new() -> Issuer {
        let key = SigningKey::generate(Alg::ES256, Some("k1".into())).unwrap();
        let dir = TempDir::new();
        let jwks_path = dir.file("jwks.json", &json!({"keys": [key.public_jwk()]}).to_string());
        Issuer { key, dir, jwks_path }
    }
    fn claims(&self) -> Value {
        let t = now();
        json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": "svc-reporting", "client_id": "svc-reporting",
            "scope": "read:data write:logs", "iat": t, "exp": t + 600, "jti": "j-1"
        })
    }
    fn sign(&self, claims: &Value) -> String {
        self.key.sign(Some("at+jwt"), &Map::new(), claims).unwrap()
    }
    fn token(&self) -> String {
        self.sign(&self.claims())
    }
    /// `authsec verify` args with the issuer, audience and JWKS file, plus `extra`.
    fn verify_args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec![
            "verify",
            "--issuer",
            ISSUER,
            "--audience",
            AUDIENCE,
            "--jwks",
            self.jwks_path.as_str(),
        ];
        v.extend_from_slice(extra);
        v
    }
}

type Route = Arc<dyn Fn(&str) -> (u16, String) + Send + Sync>;

/// An HTTP server on 127.0.0.1 answering each request from `route(path)` (one request per
/// connection), recording the requests. It polls a stop flag, so it ends when dropped.
struct TestServer {
    base: String,
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// A token endpoint at `/oauth/token` answering every request with one canned response.
    fn start(status: u16, body: Value) -> TestServer {
        let body = body.to_string();
        Self::with_routes(Arc::new(move |_path: &str| (status, body.clone())))
    }

    fn with_routes(route: Route) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (reqs, stop2) = (requests.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            let deadline = Instant::now() + RUN_DEADLINE * 2;
            while !stop2.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        if let Some(req) = serve_one(stream, &*route) {
                            reqs.lock().unwrap().push(req);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(_) => break,
                }
            }
        });
        TestServer {
            url: format!("{base}/oauth/token"),
            base,
            requests,
            stop,
            handle: Some(handle),
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Read one HTTP/1.1 request (headers + Content-Length body), answer, close.
fn serve_one(mut s: TcpStream, route: &(dyn Fn(&str) -> (u16, String) + Send + Sync)) -> Option<String> {
    s.set_nonblocking(false).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let len = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .map(|(_, v)| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < header_end + len {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (status, body) = route(&path);
    let reason = if status == 200 { "OK" } else { "Error" };
    let resp = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(resp.as_bytes()).ok()?;
    let _ = s.flush();
    Some(String::from_utf8_lossy(&buf).to_string())
}

fn token_response() -> Value {
    json!({"access_token": "at-123.abc.def", "token_type": "Bearer", "expires_in": 3600, "scope": "read:data write:logs"})
}

const SECRET: &str = "s3cr3t-Value-9f8e7d";

// ---------------------------------------------------------------------------------------------
// decode

#[test]
fn decode_labels_the_output_unverified() {
    let iss = Issuer::new();
    let token = iss.token();
    let out = run(&["decode", &token], &[], None);
    assert_eq!(out.code, 0, "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["warning"], "UNVERIFIED: signature and claims were not checked");
    assert_eq!(v["header"]["alg"], "ES256");
    assert_eq!(v["header"]["kid"], "k1");
    assert_eq!(v["header"]["typ"], "at+jwt");
    assert_eq!(v["claims"]["sub"], "svc-reporting");
    assert!(
        out.stdout.trim_start().starts_with("{\n  \"warning\""),
        "the warning comes first:\n{}",
        out.stdout
    );

    // From stdin too, and a broken token is an error without echoing it.
    let out = run(&["decode"], &[], Some(&format!("{token}\n")));
    assert_eq!(out.code, 0, "{out:?}");
    let out = run(&["decode", "not-a-jwt-SENTINEL"], &[], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.starts_with("error: malformed_token: "), "{out:?}");
    assert!(!out.stderr.contains("SENTINEL"), "{out:?}");
}

// ---------------------------------------------------------------------------------------------
// verify

#[test]
fn verify_valid_token_prints_claims() {
    let iss = Issuer::new();
    let token = iss.token();
    let out = run(&iss.verify_args(&["--require-scope", "read:data", &token]), &[], None);
    assert_eq!(out.code, 0, "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).expect("claims JSON");
    assert_eq!(v["sub"], "svc-reporting");
    assert_eq!(v["iss"], ISSUER);
    assert!(out.stderr.is_empty(), "{out:?}");
}

#[test]
fn verify_reads_the_token_from_stdin() {
    let iss = Issuer::new();
    let token = iss.token();
    for extra in [&[][..], &["-"][..]] {
        let out = run(&iss.verify_args(extra), &[], Some(&format!("  {token}\n\n")));
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(serde_json::from_str::<Value>(&out.stdout).unwrap()["jti"], "j-1");
    }
    // Size-bounded: a huge stdin is refused, not buffered without limit.
    let big = "a".repeat(2 * 1024 * 1024);
    let out = run(&iss.verify_args(&[]), &[], Some(&big));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("token_too_large"), "{out:?}");
}

#[test]
fn verify_applies_the_delegation_flags() {
    let iss = Issuer::new();
    let mut c = iss.claims();
    c["act"] = json!({"sub": "tool", "client_id": "tool", "act": {"sub": "agent", "client_id": "agent"}});
    let token = iss.sign(&c);
    let out = run(&iss.verify_args(&["--allowed-actor", "tool", &token]), &[], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&out.stdout).unwrap()["act"]["act"]["sub"],
        "agent"
    );
    for (flags, says) in [
        (&["--forbid-delegation"][..], "accepts no delegated tokens"),
        (&["--max-delegation-depth", "1"][..], "has 2 actors"),
        (&["--allowed-actor", "agent"][..], "not one of the allowed actors"),
    ] {
        let mut args = flags.to_vec();
        args.push(&token);
        let out = run(&iss.verify_args(&args), &[], None);
        assert_eq!(out.code, 1, "{flags:?}: {out:?}");
        assert!(out.stderr.starts_with("error: delegation_not_allowed: "), "{out:?}");
        assert!(out.stderr.contains(says), "{out:?}");
    }
    c["act"] = json!({"sub": "tool", "exp": now() + 60});
    let out = run(&iss.verify_args(&[&iss.sign(&c)]), &[], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.starts_with("error: invalid_delegation: "), "{out:?}");
}

#[test]
fn verify_expired_token_exits_1() {
    let iss = Issuer::new();
    let mut c = iss.claims();
    c["iat"] = json!(now() - 7200);
    c["exp"] = json!(now() - 3600);
    let token = iss.sign(&c);
    let out = run(&iss.verify_args(&[&token]), &[], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.starts_with("error: token_expired: "), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(!out.stderr.contains(&token), "the token is never echoed");
}

#[test]
fn verify_wrong_audience_exits_1() {
    let iss = Issuer::new();
    let mut c = iss.claims();
    c["aud"] = json!("api://someone-else");
    let out = run(&iss.verify_args(&[&iss.sign(&c)]), &[], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("invalid_audience"), "{out:?}");

    // The opt-out accepts it.
    let out = run(
        &[
            "verify",
            "--issuer",
            ISSUER,
            "--no-audience-check",
            "--jwks",
            &iss.jwks_path,
            &iss.sign(&c),
        ],
        &[],
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn verify_applies_the_audience_match_policy() {
    let iss = Issuer::new();
    let mut c = iss.claims();
    c["aud"] = json!("https://mcp.example.com/");
    let token = iss.sign(&c);
    let args = |policy: &'static str| {
        vec![
            "verify",
            "--issuer",
            ISSUER,
            "--audience",
            "https://mcp.example.com/mcp",
            "--audience-match",
            policy,
            "--jwks",
            &iss.jwks_path,
            &token,
        ]
    };
    // A token for the origin: refused exactly and slash-tolerantly, accepted by path prefix.
    for (policy, code) in [("exact", 1), ("trailing_slash", 1), ("path_prefix", 0)] {
        let out = run(&args(policy), &[], None);
        assert_eq!(out.code, code, "{policy}: {out:?}");
    }
    let out = run(&args("loose"), &[], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--audience-match"), "{out:?}");
}

#[test]
fn verify_missing_scope_exits_1() {
    let iss = Issuer::new();
    let token = iss.token();
    let out = run(
        &iss.verify_args(&["--require-scope", "read:data", "--require-scope", "admin", &token]),
        &[],
        None,
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.starts_with("error: insufficient_scope: "), "{out:?}");
    assert!(out.stderr.contains("admin"), "{out:?}");
    assert!(out.stdout.is_empty());

    let out = run(
        &iss.verify_args(&["--any-scope", "admin", "--any-scope", "write:logs", &token]),
        &[],
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn verify_rejects_a_bad_signature_and_an_unlisted_alg() {
    let iss = Issuer::new();
    let other = Issuer::new(); // same kid "k1", different key
    let out = run(&iss.verify_args(&[&other.token()]), &[], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("invalid_signature"), "{out:?}");

    let out = run(&iss.verify_args(&["--algorithm", "RS256", &iss.token()]), &[], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("unsupported_algorithm"), "{out:?}");

    let out = run(&iss.verify_args(&["--algorithm", "HS256", &iss.token()]), &[], None);
    assert_eq!(out.code, 2, "an impossible allow-list is a usage error: {out:?}");
}

#[test]
fn verify_usage_errors_exit_2() {
    let iss = Issuer::new();
    let token = iss.token();
    // No --issuer: a helpful message, and stdin is not even read.
    let out = run(
        &["verify", "--audience", AUDIENCE, "--jwks", &iss.jwks_path, &token],
        &[],
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with("error: config_error: --issuer is required"),
        "{out:?}"
    );
    assert!(out.stderr.contains("e.g. --issuer https://"), "{out:?}");

    // No --audience and no explicit opt-out.
    let out = run(
        &["verify", "--issuer", ISSUER, "--jwks", &iss.jwks_path, &token],
        &[],
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--no-audience-check"), "{out:?}");

    // An unreadable JWKS file.
    let out = run(
        &[
            "verify",
            "--issuer",
            ISSUER,
            "--audience",
            AUDIENCE,
            "--jwks",
            "/nonexistent/jwks.json",
            &token,
        ],
        &[],
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("/nonexistent/jwks.json"), "{out:?}");

    // Both key sources.
    let out = run(
        &iss.verify_args(&["--jwks-uri", "https://issuer.test/jwks", &token]),
        &[],
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");

    // Plain http JWKS to a non-loopback host needs the opt-in.
    let out = run(
        &[
            "verify",
            "--issuer",
            ISSUER,
            "--audience",
            AUDIENCE,
            "--jwks-uri",
            "http://issuer.test/jwks",
            &token,
        ],
        &[],
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("insecure_transport"), "{out:?}");

    // Leeway over the cap.
    let out = run(&iss.verify_args(&["--leeway", "3600", &token]), &[], None);
    assert_eq!(out.code, 2, "{out:?}");
}

#[test]
fn verify_jwks_unavailable_exits_3() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let iss = Issuer::new();
    let uri = format!("http://127.0.0.1:{port}/jwks");
    let out = run(
        &[
            "verify",
            "--issuer",
            ISSUER,
            "--audience",
            AUDIENCE,
            "--jwks-uri",
            &uri,
            &iss.token(),
        ],
        &[],
        None,
    );
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("jwks_unavailable"), "{out:?}");
}

#[test]
fn verify_accepts_a_single_jwk_file() {
    let iss = Issuer::new();
    let jwk = iss.dir.file("key.json", &iss.key.public_jwk().to_string());
    let out = run(
        &[
            "verify",
            "--issuer",
            ISSUER,
            "--audience",
            AUDIENCE,
            "--jwks",
            &jwk,
            "--typ",
            "strict",
            &iss.token(),
        ],
        &[],
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn verify_discovers_the_jwks_from_the_issuer() {
    let iss = Issuer::new();
    let jwks = json!({"keys": [iss.key.public_jwk()]}).to_string();
    let base = Arc::new(Mutex::new(String::new()));
    let b2 = base.clone();
    let srv = TestServer::with_routes(Arc::new(move |path: &str| {
        let base = b2.lock().unwrap().clone();
        match path {
            "/.well-known/oauth-authorization-server" => {
                (200, json!({"issuer": base, "token_endpoint": format!("{base}/oauth/token"), "jwks_uri": format!("{base}/jwks")}).to_string())
            }
            "/jwks" => (200, jwks.clone()),
            _ => (404, "{}".into()),
        }
    }));
    *base.lock().unwrap() = srv.base.clone();
    let mut c = iss.claims();
    c["iss"] = json!(srv.base);
    let out = run(
        &["verify", "--issuer", &srv.base, "--audience", AUDIENCE, &iss.sign(&c)],
        &[],
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&out.stdout).unwrap()["iss"],
        json!(srv.base)
    );
    let paths: Vec<String> = srv
        .requests()
        .iter()
        .map(|r| r.split_whitespace().nth(1).unwrap().to_string())
        .collect();
    assert_eq!(paths, ["/.well-known/oauth-authorization-server", "/jwks"]);

    // The same keys by --jwks-uri, no discovery.
    let out = run(
        &[
            "verify",
            "--issuer",
            &srv.base,
            "--audience",
            AUDIENCE,
            "--jwks-uri",
            &format!("{}/jwks", srv.base),
            &iss.sign(&c),
        ],
        &[],
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(srv.requests().len(), 3);
}

// ---------------------------------------------------------------------------------------------
// token

fn token_env(url: &str) -> Vec<(&str, &str)> {
    vec![
        ("AUTHSEC_CLIENT_ID", "svc-reporting"),
        ("AUTHSEC_CLIENT_SECRET", SECRET),
        ("AUTHSEC_TOKEN_URL", url),
        ("AUTHSEC_SCOPES", "read:data write:logs"),
    ]
}

#[test]
fn token_from_env_prints_json() {
    let srv = TestServer::start(200, token_response());
    let out = run(&["token"], &token_env(&srv.url), None);
    assert_eq!(out.code, 0, "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["access_token"], "at-123.abc.def");
    assert_eq!(v["token_type"], "Bearer");
    let expires_in = v["expires_in"].as_i64().unwrap();
    assert!((3590..=3600).contains(&expires_in), "{v}");
    assert!((v["expires_at"].as_i64().unwrap() - (now() + 3600)).abs() <= 10, "{v}");
    assert_eq!(v["scope"], "read:data write:logs");
    let keys: Vec<&str> = ["access_token", "token_type", "expires_in", "expires_at", "scope"].to_vec();
    let pos: Vec<usize> = keys
        .iter()
        .map(|k| out.stdout.find(&format!("\"{k}\"")).unwrap())
        .collect();
    assert!(
        pos.windows(2).all(|w| w[0] < w[1]),
        "fields in the documented order:\n{}",
        out.stdout
    );

    let reqs = srv.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let r = &reqs[0];
    assert!(r.starts_with("POST /oauth/token HTTP/1.1\r\n"), "{r}");
    assert!(
        r.to_ascii_lowercase().contains("\r\nauthorization: basic "),
        "client_secret_basic by default: {r}"
    );
    assert!(r.contains("grant_type=client_credentials"), "{r}");
    assert!(
        r.contains("scope=read%3Adata+write%3Alogs") || r.contains("scope=read%3Adata%20write%3Alogs"),
        "{r}"
    );
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET));
}

#[test]
fn token_raw_prints_only_the_token() {
    let srv = TestServer::start(200, token_response());
    let out = run(&["token", "--raw"], &token_env(&srv.url), None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "at-123.abc.def\n");
}

#[test]
fn token_flags_override_env() {
    let srv = TestServer::start(
        200,
        json!({"access_token": "t", "token_type": "Bearer", "expires_in": 60}),
    );
    let dir = TempDir::new();
    let secret_file = dir.file("secret", "file-secret-value\n");
    let out = run(
        &[
            "token",
            "--client-id",
            "flag-client",
            "--auth-method",
            "client_secret_post",
            "--client-secret-file",
            &secret_file,
            "--scope",
            "a b",
            "--scope",
            "c",
        ],
        &token_env(&srv.url),
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
    let r = &srv.requests()[0];
    assert!(r.contains("client_id=flag-client"), "{r}");
    assert!(
        r.contains("client_secret=file-secret-value"),
        "the secret file beats AUTHSEC_CLIENT_SECRET: {r}"
    );
    assert!(r.contains("scope=a+b+c") || r.contains("scope=a%20b%20c"), "{r}");
    // No scope in the response: the requested ones are reported.
    assert_eq!(serde_json::from_str::<Value>(&out.stdout).unwrap()["scope"], "a b c");
}

#[test]
fn token_from_yaml_config_with_variables() {
    let srv = TestServer::start(200, token_response());
    let dir = TempDir::new();
    let yaml = format!(
        "authsec:\n  client_id: ${{MY_CLIENT_ID}}\n  client_secret: ${{MY_CLIENT_SECRET}}\n  token_url: {}\n  auth_method: client_secret_post\n  scopes: [read:data, write:logs]\n",
        srv.url
    );
    let cfg = dir.file("authsec.yaml", &yaml);
    let env = [("MY_CLIENT_ID", "yaml-client"), ("MY_CLIENT_SECRET", SECRET)];
    let out = run(&["token", "--config", &cfg, "--raw"], &env, None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.trim(), "at-123.abc.def");
    let r = &srv.requests()[0];
    assert!(r.contains("client_id=yaml-client"), "{r}");
    assert!(r.contains("scope=read%3Adata"), "{r}");

    // AUTHSEC_CONFIG names the file too; a flag beats the file; the file beats AUTHSEC_*.
    let env = [
        ("AUTHSEC_CONFIG", cfg.as_str()),
        ("MY_CLIENT_ID", "yaml-client"),
        ("MY_CLIENT_SECRET", SECRET),
        ("AUTHSEC_CLIENT_ID", "env-client"),
    ];
    let out = run(&["token", "--scope", "admin"], &env, None);
    assert_eq!(out.code, 0, "{out:?}");
    let r = &srv.requests()[1];
    assert!(r.contains("client_id=yaml-client"), "{r}");
    assert!(r.contains("scope=admin") && !r.contains("read%3Adata"), "{r}");

    // A variable the file refers to is unset: the error names it, and no request is sent.
    let out = run(&["token", "--config", &cfg], &[("MY_CLIENT_ID", "yaml-client")], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.starts_with("error: config_error: "), "{out:?}");
    assert!(out.stderr.contains("MY_CLIENT_SECRET"), "{out:?}");
    assert_eq!(srv.requests().len(), 2);

    // A typo in the file is named.
    let bad = dir.file("bad.yaml", "authsec:\n  client_id: a\n  clientsecret: b\n");
    let out = run(&["token", "--config", &bad], &[], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("clientsecret"), "{out:?}");
}

#[test]
fn token_never_prints_the_secret() {
    let srv = TestServer::start(
        401,
        json!({"error": "invalid_client", "error_description": format!("client authentication failed for secret {SECRET}")}),
    );
    let out = run(&["token"], &token_env(&srv.url), None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.starts_with("error: invalid_client: "), "{out:?}");
    assert!(
        !out.stderr.contains(SECRET) && !out.stdout.contains(SECRET),
        "the secret leaked: {out:?}"
    );
    assert_eq!(srv.requests().len(), 1, "invalid_client is not retried");

    // Same with the secret from a file and client_secret_post.
    let dir = TempDir::new();
    let f = dir.file("s", SECRET);
    let out = run(
        &[
            "token",
            "--client-id",
            "x",
            "--token-url",
            &srv.url,
            "--client-secret-file",
            &f,
            "--auth-method",
            "client_secret_post",
        ],
        &[],
        None,
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        !out.stderr.contains(SECRET) && !out.stdout.contains(SECRET),
        "the secret leaked: {out:?}"
    );
}

#[test]
fn token_config_errors_exit_2() {
    // Nothing configured.
    let out = run(&["token"], &[], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--client-id") && out.stderr.contains("AUTHSEC_CLIENT_ID"),
        "{out:?}"
    );

    // No secret.
    let out = run(
        &["token"],
        &[
            ("AUTHSEC_CLIENT_ID", "a"),
            ("AUTHSEC_TOKEN_URL", "https://auth.example.com/t"),
        ],
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("AUTHSEC_CLIENT_SECRET"), "{out:?}");

    // --client-secret does not exist; the error explains why and does not echo the value.
    let out = run(
        &["token", "--client-secret", SECRET],
        &[("AUTHSEC_CLIENT_ID", "a")],
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("ps"), "{out:?}");
    assert!(!out.stderr.contains(SECRET) && !out.stdout.contains(SECRET), "{out:?}");

    // Plain http to a non-loopback host.
    let out = run(
        &["token"],
        &[
            ("AUTHSEC_CLIENT_ID", "a"),
            ("AUTHSEC_CLIENT_SECRET", "s"),
            ("AUTHSEC_TOKEN_URL", "http://auth.example.com/t"),
        ],
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("insecure_transport"), "{out:?}");
}

// ---------------------------------------------------------------------------------------------
// help and error codes

#[test]
fn help_is_useful() {
    let out = run(&["--help"], &[], None);
    assert_eq!(out.code, 0, "{out:?}");
    for s in ["token", "verify", "decode", "error-codes", "Exit codes"] {
        assert!(out.stdout.contains(s), "--help mentions {s}:\n{}", out.stdout);
    }
    let out = run(&["token", "--help"], &[], None);
    assert!(
        out.stdout.contains("no --client-secret flag") && out.stdout.contains("ps"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Examples:"), "{}", out.stdout);
    let out = run(&["verify", "--help"], &[], None);
    for s in [
        "Exit codes",
        "insufficient_scope",
        "jwks_unavailable",
        "Examples:",
        "--require-scope",
    ] {
        assert!(out.stdout.contains(s), "verify --help mentions {s}:\n{}", out.stdout);
    }
    let out = run(&["decode", "--help"], &[], None);
    assert!(
        out.stdout.contains("UNVERIFIED") && out.stdout.contains("Examples:"),
        "{}",
        out.stdout
    );
}

#[test]
fn error_codes_lists_every_code() {
    let out = run(&["error-codes"], &[], None);
    assert_eq!(out.code, 0, "{out:?}");
    let codes: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let expected: Vec<&str> = authsec_core::ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(codes, expected);
    assert!(
        out.stdout.lines().all(|l| l.split_whitespace().count() > 1),
        "every code has a description"
    );
    let out = run(&["error-codes", "--codes-only"], &[], None);
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), expected);
    // --json: the core's category and class per code, and an exit code that follows the category.
    let out = run(&["error-codes", "--json"], &[], None);
    assert_eq!(out.code, 0, "{out:?}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(rows.len(), expected.len());
    for (row, c) in rows.iter().zip(authsec_core::ErrorCode::ALL) {
        assert_eq!(row["code"], c.as_str());
        assert_eq!(row["category"], c.category().as_str());
        assert_eq!(row["class"], c.class().name());
        assert_eq!(row["retryable"], c.is_retryable());
        let exit = match c.category().as_str() {
            "unavailable" => 3,
            "config" | "internal" => 2,
            _ => 1,
        };
        assert_eq!(row["exit_code"], exit, "{c}");
    }
}
