//! `authsec server` as a separate process: it prints its issuer on the first stdout line, serves
//! the core client and verifier, `authsec server rotate-key` rotates its key through the admin
//! API (a verifier holding the old JWKS picks up the new key with one refetch), it stops on
//! SIGTERM, and with `--db` its state survives a restart. Every child is killed on drop.

use authsec_native::http::{HttpRequest, Method, Transport};
use authsec_native::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const ADMIN: &str = "adm-cli-process-test";
const SECRET: &str = "agent:secret%+é";
const API: &str = "https://api.example.com";

/// A running `authsec server` child: killed (and reaped) on drop, even when a test fails.
struct ServerProc {
    child: Child,
    issuer: String,
    stderr: Arc<Mutex<String>>,
}

impl ServerProc {
    fn start(args: &[&str], envs: &[(&str, &str)]) -> ServerProc {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_authsec"));
        cmd.arg("server")
            .args(args)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(p) = std::env::var_os("PATH") {
            cmd.env("PATH", p);
        }
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn authsec server");
        // stderr (banner + audit lines) is drained continuously so the pipe never fills.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(out).lines();
            let _ = tx.send(lines.next());
            for _ in lines {}
        });
        let mut proc = ServerProc {
            child,
            issuer: String::new(),
            stderr,
        };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(Ok(line))) => proc.issuer = line.trim().to_string(),
            other => panic!(
                "no issuer line from authsec server ({other:?}); stderr: {}",
                proc.stderr()
            ),
        }
        assert!(proc.issuer.starts_with("http://127.0.0.1:"), "issuer {:?}", proc.issuer);
        proc
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn port(&self) -> u16 {
        self.issuer.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// SIGTERM, then wait (10 s at most) for a clean exit.
    #[cfg(unix)]
    fn terminate(&mut self) -> std::process::ExitStatus {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(st.success());
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "authsec server ignored SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "authsec-cli-server-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn file(&self, name: &str, content: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p.to_string_lossy().into_owned()
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const CONFIG: &str = r#"
admin_token: ${AUTHSEC_ADMIN_TOKEN}
clients:
  - client_id: ml-training-agent
    name: ML training agent
    type: ai_agent
    client_secret: ${ML_AGENT_SECRET}
    allowed_scopes: [read:data, write:logs]
    audiences: [https://api.example.com]
    token_lifetime: 900
"#;

fn envs() -> Vec<(&'static str, &'static str)> {
    vec![("AUTHSEC_ADMIN_TOKEN", ADMIN), ("ML_AGENT_SECRET", SECRET)]
}

/// Run `authsec args...` to completion (30 s at most): (exit code, stdout, stderr).
fn run(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authsec"));
    cmd.args(args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = std::env::var_os("PATH") {
        cmd.env("PATH", p);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("authsec {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A transport of its own (no pooled connections shared with other tests or server runs).
fn transport() -> Arc<HttpTransport> {
    Arc::new(HttpTransport::new(&TransportOptions::default()).unwrap())
}

fn client(t: &Arc<HttpTransport>, issuer: &str, id: &str, secret: &str) -> TokenClient {
    let cfg = ClientConfig {
        client_id: id.into(),
        client_secret: Some(Secret::new(secret)),
        issuer: Some(issuer.into()),
        ..Default::default()
    };
    TokenClient::new(cfg, t.clone(), Arc::new(SystemClock), Arc::new(TokioSleeper))
        .unwrap()
        .with_retry(RetryPolicy::none())
        .unwrap()
}

/// A verifier on a manual clock (set to now) so the test can step past the unknown-kid cooldown.
fn verifier(t: &Arc<HttpTransport>, issuer: &str, clock: &ManualClock) -> Verifier {
    let jwks = JwksCache::new(
        &format!("{issuer}/.well-known/jwks.json"),
        t.clone(),
        Arc::new(clock.clone()),
        JwksPolicy::default(),
    )
    .unwrap();
    Verifier::new(
        VerifierConfig::new(issuer, API),
        Arc::new(jwks),
        Arc::new(clock.clone()),
    )
    .unwrap()
}

fn fetches(v: &Verifier) -> u64 {
    v.keys().fetch_count()
}

fn kid_of(token: &str) -> String {
    let (h, _) = authsec_core::jose::compact::decode_unverified(token).unwrap();
    h["kid"].as_str().unwrap().to_string()
}

async fn jwks_kids(t: &Arc<HttpTransport>, issuer: &str) -> Vec<String> {
    let r = t
        .send(HttpRequest::get(format!("{issuer}/.well-known/jwks.json")))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

/// `authsec server rotate-key` is a blocking child process: run it off the async workers.
async fn rotate_key(args: Vec<String>, envs: Vec<(&'static str, String)>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let e: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run(&a, &e)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_process_serves_the_core_client_and_rotate_key_works() {
    let dir = TempDir::new();
    let config = dir.file("server.yaml", CONFIG);
    let mut server = ServerProc::start(&["--port", "0", "--config", &config], &envs());
    let issuer = server.issuer.clone();
    let t = transport();

    // The core client (discovery from the issuer, Basic with an awkward secret) and verifier.
    let agent = client(&t, &issuer, "ml-training-agent", SECRET);
    let old = agent.get_token().await.expect("token from the server process");
    let clock = ManualClock::new(SystemClock.now_ms());
    let v = verifier(&t, &issuer, &clock);
    let claims = v
        .verify(old.access_token.expose())
        .await
        .expect("verified against the served JWKS");
    assert_eq!(claims.client_id(), Some("ml-training-agent"));
    assert_eq!(claims.expires_at() - claims.issued_at_ms().unwrap() / 1000, 900);
    assert_eq!(fetches(&v), 1);
    let k1 = kid_of(old.access_token.expose());
    assert_eq!(jwks_kids(&t, &issuer).await, [k1.as_str()]);

    // rotate-key without the admin token: a usage error; with a wrong one: refused (401).
    let (code, _, err) = rotate_key(
        vec!["server".into(), "rotate-key".into(), "--url".into(), issuer.clone()],
        vec![],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("AUTHSEC_ADMIN_TOKEN"), "{err}");
    let (code, _, err) = rotate_key(
        vec!["server".into(), "rotate-key".into(), "--url".into(), issuer.clone()],
        vec![("AUTHSEC_ADMIN_TOKEN", "wrong".into())],
    )
    .await;
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("401"), "{err}");
    assert!(!err.contains(ADMIN) && !err.contains("wrong\n"), "{err}");
    assert_eq!(jwks_kids(&t, &issuer).await, [k1.as_str()], "nothing rotated");

    // rotate-key with the admin token: prints the new key, the JWKS publishes both.
    let (code, out, err) = rotate_key(
        vec![
            "server".into(),
            "rotate-key".into(),
            "--url".into(),
            issuer.clone(),
            "--activate-in".into(),
            "0".into(),
        ],
        vec![("AUTHSEC_ADMIN_TOKEN", ADMIN.into())],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let rotated: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let k2 = rotated["kid"].as_str().unwrap().to_string();
    assert_ne!(k1, k2);
    assert_eq!(jwks_kids(&t, &issuer).await, [k1.clone(), k2.clone()]);

    // A new token carries k2; the verifier still holds the old JWKS (fresh for 300 s) and, past
    // the 30 s unknown-kid cooldown, accepts it after exactly one refetch.
    agent.invalidate();
    let new = agent.get_token().await.unwrap();
    assert_eq!(kid_of(new.access_token.expose()), k2);
    clock.advance(Duration::from_secs(31));
    v.verify(new.access_token.expose())
        .await
        .expect("the new kid after one refetch");
    assert_eq!(fetches(&v), 2);
    v.verify(old.access_token.expose())
        .await
        .expect("the old key is still published");
    assert_eq!(fetches(&v), 2);

    // Delayed activation with another alg: published now, k2 still signs.
    let (code, out, err) = rotate_key(
        [
            "server",
            "rotate-key",
            "--url",
            &issuer,
            "--alg",
            "EdDSA",
            "--activate-in",
            "600",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        vec![("AUTHSEC_ADMIN_TOKEN", ADMIN.into())],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let r3: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r3["alg"], "EdDSA");
    let k3 = r3["kid"].as_str().unwrap().to_string();
    assert_eq!(jwks_kids(&t, &issuer).await, [k1.clone(), k2.clone(), k3]);
    agent.invalidate();
    assert_eq!(kid_of(agent.get_token().await.unwrap().access_token.expose()), k2);

    // Audit lines on stderr: issuances and rotations, never the secret, admin token or a token.
    // (Read by a thread as the server writes them, which may be just after it answered: wait
    // for them, 10 s at most.)
    let audit = |log: &str| -> (usize, usize) {
        let lines: Vec<Value> = log
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let count = |f: &dyn Fn(&Value) -> bool| lines.iter().filter(|l| f(l)).count();
        (
            count(&|l| l["event"] == "key_rotated"),
            count(&|l| l["event"] == "token" && l["outcome"] == "success" && l["result"] == "issued"),
        )
    };
    let start = Instant::now();
    let mut log = server.stderr();
    while matches!(audit(&log), (r, i) if r < 2 || i < 3) && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        log = server.stderr();
    }
    let (rotations, issued) = audit(&log);
    assert_eq!(rotations, 2, "{log}");
    assert!(issued >= 3, "{log}");
    for needle in [SECRET, ADMIN, old.access_token.expose(), new.access_token.expose()] {
        assert!(!log.contains(needle), "stderr leaks a secret or token");
    }

    // SIGTERM stops it cleanly.
    #[cfg(unix)]
    {
        let st = server.terminate();
        assert!(st.success(), "exit status {st:?}; stderr: {}", server.stderr());
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_process_restart_with_db_keeps_clients_keys_and_revocations() {
    let dir = TempDir::new();
    let config = dir.file("server.yaml", CONFIG);
    let db = dir.path("authsec.db");
    let mut first = ServerProc::start(
        &["--port", "0", "--config", &config, "--db", &db, "--audit-log", "off"],
        &envs(),
    );
    let issuer = first.issuer.clone();
    let port = first.port().to_string();
    let t = transport();

    // A client created through the admin API; a token for it; a revoked token.
    let r = t
        .send(HttpRequest {
            method: Method::Post,
            url: format!("{issuer}/admin/clients"),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("authorization".into(), format!("Bearer {ADMIN}")),
            ],
            body: json!({"client_id": "made-at-runtime", "audiences": [API], "allowed_scopes": ["x"]})
                .to_string()
                .into_bytes(),
        })
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let created: Value = serde_json::from_slice(&r.body).unwrap();
    let runtime_secret = created["client_secret"].as_str().unwrap().to_string();
    let kept = client(&t, &issuer, "made-at-runtime", &runtime_secret)
        .get_token()
        .await
        .unwrap();
    let revoked = client(&t, &issuer, "ml-training-agent", SECRET)
        .get_token()
        .await
        .unwrap();
    let basic = format!(
        "Basic {}",
        authsec_core::util::b64_std_encode(format!("made-at-runtime:{runtime_secret}").as_bytes())
    );
    let form_post = |path: &str, auth: String, body: String| HttpRequest {
        method: Method::Post,
        url: format!("{issuer}{path}"),
        headers: vec![
            ("content-type".into(), "application/x-www-form-urlencoded".into()),
            ("authorization".into(), auth),
        ],
        body: body.into_bytes(),
    };
    let agent_basic = format!(
        "Basic {}",
        authsec_core::util::b64_std_encode(
            format!("ml-training-agent:{}", authsec_core::util::form_encode(SECRET)).as_bytes()
        )
    );
    let r = t
        .send(form_post(
            "/oauth/revoke",
            agent_basic,
            format!("token={}", revoked.access_token.expose()),
        ))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let kids_before = jwks_kids(&t, &issuer).await;
    let st = first.terminate();
    assert!(st.success());
    drop(first);

    // Same port, same database: a restart.
    let _second = ServerProc::start(
        &["--port", &port, "--config", &config, "--db", &db, "--audit-log", "off"],
        &envs(),
    );
    assert_eq!(_second.issuer, issuer);
    let t = transport();
    assert_eq!(jwks_kids(&t, &issuer).await, kids_before, "the signing key survived");
    let clock = ManualClock::new(SystemClock.now_ms());
    let v = verifier(&t, &issuer, &clock);
    v.verify(kept.access_token.expose())
        .await
        .expect("a pre-restart token verifies after the restart");
    let again = client(&t, &issuer, "made-at-runtime", &runtime_secret)
        .get_token()
        .await
        .expect("the API-made client survived");
    v.verify(again.access_token.expose()).await.unwrap();
    let introspect = |tok: &str| form_post("/oauth/introspect", basic.clone(), format!("token={tok}"));
    let r = t.send(introspect(revoked.access_token.expose())).await.unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&r.body).unwrap(),
        json!({"active": false}),
        "the revocation survived"
    );
    let r = t.send(introspect(kept.access_token.expose())).await.unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&r.body).unwrap()["active"], true);
}
