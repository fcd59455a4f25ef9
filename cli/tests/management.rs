//! `authsec clients` and `authsec logs` against the real local server (started here, in-process,
//! on 127.0.0.1), and the `*_FILE` reread: a token client whose secret file is rewritten after a
//! rotation gets its next token without being rebuilt. Written against the contract of issue 18
//! (the management API of the server half).

use authsec_native::*;
use authsec_server::{ServerConfig, StartOptions};
use serde_json::{json, Value};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN: &str = "adm-mgmt-cli-test-token";
/// No CLI run may take longer than this; the child is killed after it.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

/// The local server on 127.0.0.1 (a free port), run on its own tokio runtime for the test.
struct Server {
    rt: tokio::runtime::Runtime,
    server: Option<authsec_server::RunningServer>,
    url: String,
}

impl Server {
    fn start() -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let cfg = ServerConfig::from_yaml_str(&format!("admin_token: {ADMIN}\n"), |_: &str| None).unwrap();
        let opts = StartOptions {
            host: "127.0.0.1".into(),
            port: 0,
            ..StartOptions::default()
        };
        let server = rt.block_on(authsec_server::start(cfg, opts)).unwrap();
        let url = server.issuer().to_string();
        Server {
            rt,
            server: Some(server),
            url,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            self.rt.block_on(s.shutdown());
        }
    }
}

/// A directory removed on drop.
struct TempDir(std::path::PathBuf);
impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("authsec-mgmt-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

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

/// Run `authsec args...` with only PATH and `envs`, killed after RUN_DEADLINE.
fn run(args: &[&str], envs: &[(&str, &str)]) -> Out {
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
    let mut child = cmd.spawn().expect("run the authsec binary");
    let mut sout = child.stdout.take().unwrap();
    let mut serr = child.stderr.take().unwrap();
    let o = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = sout.read_to_string(&mut s);
        s
    });
    let e = std::thread::spawn(move || {
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
            panic!("authsec {args:?} ran longer than {RUN_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Out {
        code: status.code().unwrap_or(-1),
        stdout: o.join().unwrap(),
        stderr: e.join().unwrap(),
    }
}

fn ok(out: &Out) -> Value {
    assert_eq!(out.code, 0, "{out:?}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {out:?}"))
}

/// A client-credentials token for `id` with `secret` (the server's own token endpoint).
fn token_client_for(url: &str, id: &str, secret: &str) -> TokenClient {
    token_client(ClientConfig {
        client_id: id.into(),
        client_secret: Some(Secret::new(secret)),
        token_url: Some(format!("{url}/oauth/token")),
        scopes: vec!["read:data".into()],
        retry: RetryPolicy::none(),
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn bootstrap_then_manage_clients_and_read_the_log() {
    let server = Server::start();
    let dir = TempDir::new("cli");
    let admin_file = dir.write("admin-token", &format!("{ADMIN}\n"));
    let admin = [
        ("AUTHSEC_MANAGEMENT_URL", server.url.as_str()),
        ("AUTHSEC_ADMIN_TOKEN_FILE", admin_file.as_str()),
    ];

    // Bootstrap: the admin token creates the first management client; its secret is printed
    // once, on stdout, and nowhere on stderr.
    let out = run(
        &[
            "clients",
            "create",
            "--client-id",
            "ops",
            "--name",
            "Operations",
            "--scope",
            "clients:read clients:write",
            "--scope",
            "logs:read",
        ],
        &admin,
    );
    let ops = ok(&out);
    let ops_secret = ops["client_secret"].as_str().expect("a generated secret").to_string();
    assert_eq!(ops["client_id"], "ops");
    assert!(!out.stderr.contains(&ops_secret), "{out:?}");
    assert!(out.stderr.contains("shown this once"), "{out:?}");

    // From now on the management client: its secret from a file.
    let ops_file = dir.write("ops-secret", &format!("{ops_secret}\n"));
    let ops_env = [
        ("AUTHSEC_MANAGEMENT_URL", server.url.as_str()),
        ("AUTHSEC_CLIENT_ID", "ops"),
        ("AUTHSEC_CLIENT_SECRET_FILE", ops_file.as_str()),
    ];
    let billing = ok(&run(
        &[
            "clients",
            "create",
            "--client-id",
            "billing",
            "--scope",
            "read:data",
            "--json",
        ],
        &ops_env,
    ));
    let first_secret = billing["client_secret"].as_str().unwrap().to_string();
    assert!(
        billing["secret_id"].as_str().is_some_and(|s| s.starts_with("sid_")),
        "{billing}"
    );

    // The admin token is refused once a management client exists: access_denied, exit 1.
    let out = run(&["clients", "list"], &admin);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.starts_with("error: access_denied: "), "{out:?}");
    assert!(!out.stderr.contains(ADMIN), "{out:?}");

    // list: a table, and JSON lines.
    let out = run(&["clients", "list"], &ops_env);
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("CLIENT_ID") && lines[0].contains("SCOPES"),
        "{out:?}"
    );
    assert!(lines.iter().any(|l| l.starts_with("billing ")), "{out:?}");
    let out = run(&["clients", "list", "--json"], &ops_env);
    assert_eq!(out.code, 0, "{out:?}");
    let ids: Vec<String> = out
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["client_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["billing", "ops"], "ordered by client_id");
    let out = run(&["clients", "list", "--json", "--limit", "1"], &ops_env);
    assert_eq!(out.stdout.lines().count(), 1, "{out:?}");

    // get; a client that does not exist is not_found, exit 1.
    let got = ok(&run(&["clients", "get", "billing"], &ops_env));
    assert_eq!(got["client_id"], "billing");
    assert!(
        got.get("client_secret").is_none(),
        "a secret is never shown again: {got}"
    );
    let out = run(&["clients", "get", "nope"], &ops_env);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.starts_with("error: not_found: "), "{out:?}");

    // rotate-secret with no overlap: the new secret works, the old one no longer.
    let out = run(&["clients", "rotate-secret", "billing", "--overlap", "0"], &ops_env);
    let rotated = ok(&out);
    let new_secret = rotated["client_secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, first_secret);
    assert!(!out.stderr.contains(&new_secret), "{out:?}");
    let e = block_on(token_client_for(&server.url, "billing", &first_secret).get_token()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClient, "{e}");
    block_on(token_client_for(&server.url, "billing", &new_secret).get_token()).unwrap();

    // rotate with overlap, then revoke every secret but the newest.
    let again = ok(&run(
        &["clients", "rotate-secret", "billing", "--overlap", "1h"],
        &ops_env,
    ));
    assert_eq!(again["secrets"].as_array().unwrap().len(), 2, "{again}");
    let revoked = ok(&run(&["clients", "revoke-secret", "billing"], &ops_env));
    assert_eq!(revoked["secrets"].as_array().unwrap().len(), 1, "{revoked}");
    let e = block_on(token_client_for(&server.url, "billing", &new_secret).get_token()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClient, "{e}");

    // The log: token issuance and the management calls, newest first, as JSON lines and a table.
    let out = run(&["logs", "--client", "billing", "--since", "1h", "--json"], &ops_env);
    assert_eq!(out.code, 0, "{out:?}");
    let events: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!events.is_empty(), "{out:?}");
    assert!(events.iter().all(|e| e["client_id"] == "billing"), "{out:?}");
    let ts: Vec<f64> = events.iter().map(|e| e["ts"].as_f64().unwrap()).collect();
    assert!(ts.windows(2).all(|w| w[0] >= w[1]), "newest first: {ts:?}");
    let out = run(&["logs", "--outcome", "failure", "--json"], &ops_env);
    assert!(
        out.stdout.lines().all(|l| l.contains("\"outcome\":\"failure\"")),
        "{out:?}"
    );
    assert!(
        !out.stdout.contains(&first_secret) && !out.stdout.contains(&new_secret),
        "{out:?}"
    );
    let out = run(&["logs", "--limit", "3"], &ops_env);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("TIME"), "{out:?}");
    assert!(out.stdout.lines().count() <= 4, "{out:?}");

    // delete.
    let out = run(&["clients", "delete", "billing"], &ops_env);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(run(&["clients", "get", "billing"], &ops_env).code, 1);
}

#[test]
fn usage_errors_exit_2_and_never_take_a_secret_on_argv() {
    let out = run(&["clients", "list"], &[("AUTHSEC_ADMIN_TOKEN", ADMIN)]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--url"), "{out:?}");
    let out = run(&["clients", "list", "--url", "http://127.0.0.1:9"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("no credentials"), "{out:?}");
    let out = run(
        &[
            "clients",
            "create",
            "--url",
            "http://127.0.0.1:9",
            "--set",
            "client_secret=hunter2-secret",
        ],
        &[("AUTHSEC_ADMIN_TOKEN", ADMIN)],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(!out.stderr.contains("hunter2-secret"), "{out:?}");
    let out = run(&["clients", "create", "--client-secret", "x"], &[]);
    assert_eq!(out.code, 2, "clap refuses the unknown flag: {out:?}");
    let out = run(
        &["logs", "--url", "http://127.0.0.1:9", "--since", "yesterday"],
        &[("AUTHSEC_ADMIN_TOKEN", ADMIN)],
    );
    assert_eq!(out.code, 2, "{out:?}");
    // Nothing listens on port 9 of loopback: unavailable, exit 3.
    let out = run(
        &["clients", "list", "--url", "http://127.0.0.1:9"],
        &[("AUTHSEC_ADMIN_TOKEN", ADMIN)],
    );
    assert_eq!(out.code, 3, "{out:?}");
}

/// Contract §3 end to end: a client whose secret comes from a file keeps working across a
/// rotation once the file is rewritten, without a new client.
#[test]
fn a_rewritten_secret_file_is_picked_up_after_a_rotation() {
    let server = Server::start();
    let dir = TempDir::new("reread");
    let mgmt = management_client(&json!({"base_url": server.url, "admin_token": ADMIN})).unwrap();
    let created = block_on(mgmt.call(
        "clients.create",
        &json!({"client_id": "worker", "allowed_scopes": ["read:data"]}),
    ))
    .unwrap();
    let secret_file = dir.write(
        "worker-secret",
        &format!("{}\n", created["client_secret"].as_str().unwrap()),
    );
    let worker = token_client_with_clock(
        ClientConfig::from_value(
            &json!({"client_id": "worker", "client_secret_file": secret_file, "token_url": format!("{}/oauth/token", server.url)}),
            ProcessEnv,
        )
        .unwrap(),
        None,
    )
    .unwrap();
    block_on(worker.get_token()).unwrap();
    assert_eq!(worker.request_count(), 1);

    // Rotate with no overlap; the token client still holds the old secret.
    let rotated = block_on(mgmt.call("clients.rotate_secret", &json!({"client_id": "worker", "overlap": 0}))).unwrap();
    let new_secret = rotated["client_secret"].as_str().unwrap().to_string();
    worker.invalidate();
    // The file not rewritten yet: invalid_client after one request (the file read, unchanged).
    let e = block_on(worker.get_token()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClient, "{e}");
    assert_eq!(worker.request_count(), 2);

    // Rewritten: the refused request is sent once more with the new secret, and succeeds.
    std::fs::write(&secret_file, format!("{new_secret}\n")).unwrap();
    let t = block_on(worker.get_token()).unwrap();
    assert!(!t.access_token.expose().is_empty());
    assert_eq!(
        worker.request_count(),
        4,
        "refused once, then sent again with the new secret"
    );
    worker.invalidate();
    block_on(worker.get_token()).unwrap();
    assert_eq!(
        worker.request_count(),
        5,
        "the new secret is used from the first request on"
    );
}
