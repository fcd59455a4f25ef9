//! The Workload API client against the fake Workload API, over real Unix sockets. Every wait is
//! bounded; the watches use short backoffs (the defaults, 1 s -> 30 s, are unit-tested in the
//! module).
#![cfg(unix)]

use authsec_native::block_on;
use authsec_native::jose::alg::Alg;
use authsec_native::jose::compact::{check_signature, CompactJws};
use authsec_native::jose::keys::KeySet;
use authsec_native::workload_api::fake::FakeWorkloadApi;
use authsec_native::workload_api::{proto, JwtBundles, WorkloadApiClient, X509Context};
use authsec_native::{ErrorCategory, ErrorCode};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

/// A fresh directory under the system's temp dir (short: a socket path is at most ~100 bytes).
struct Dir(PathBuf);
impl Dir {
    fn new() -> Dir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "aswl-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fake() -> (Dir, FakeWorkloadApi, WorkloadApiClient) {
    let dir = Dir::new();
    let fake = FakeWorkloadApi::start(&dir.0).unwrap();
    let client = WorkloadApiClient::new(&fake.endpoint())
        .unwrap()
        .with_timeout(WAIT)
        .with_backoff(Duration::from_millis(100), Duration::from_millis(400));
    (dir, fake, client)
}

/// Poll `f` every 10 ms until it holds, at most `WAIT`.
fn eventually(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn segment(token: &str, i: usize) -> Value {
    let seg = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&authsec_native::util::b64url_decode(seg).unwrap()).unwrap()
}

fn kids(bundles: &JwtBundles) -> Vec<String> {
    let jwks: Value = serde_json::from_slice(&bundles.bundles["example.org"]).unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

/// The signature of `token` checks with the key of its kid in `jwks`.
fn signature_checks(token: &str, jwks: &[u8]) -> bool {
    let jws = CompactJws::split(token).unwrap();
    let keys = KeySet::from_jwks_json(jwks).unwrap();
    let kid = segment(token, 0)["kid"].as_str().unwrap().to_string();
    let cands = keys.candidates(Some(&kid), Alg::ES256).unwrap();
    !cands.is_empty()
        && cands
            .iter()
            .any(|k| check_signature(Alg::ES256, k, jws.signing_input.as_bytes(), &jws.signature().unwrap()).is_ok())
}

#[test]
fn endpoint_parsing() {
    for ok in [
        "unix:///tmp/agent.sock",
        "unix:/tmp/agent.sock",
        "tcp://127.0.0.1:8081",
        "tcp://[::1]:8081",
    ] {
        let c = WorkloadApiClient::new(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        assert_eq!(c.endpoint(), ok);
    }
    for bad in [
        "",
        "/tmp/agent.sock",
        "tmp/agent.sock",
        "unix://host/tmp/agent.sock",
        "unix://user@/tmp/agent.sock",
        "unix:relative/agent.sock",
        "unix://",
        "unix:///tmp/agent.sock?x=1",
        "unix:///tmp/agent.sock#frag",
        "tcp://localhost:8081",
        "tcp://127.0.0.1",
        "tcp://127.0.0.1:0",
        "tcp://127.0.0.1:99999",
        "tcp://127.0.0.1:8081/path",
        "tcp://user@127.0.0.1:8081",
        "tcp:127.0.0.1:8081",
        "http://127.0.0.1:8081",
    ] {
        let e = WorkloadApiClient::new(bad)
            .err()
            .unwrap_or_else(|| panic!("{bad} was accepted"));
        assert_eq!(e.code(), ErrorCode::ConfigError, "{bad}: {e}");
        assert!(
            e.message().contains("unix:///"),
            "{bad}: the message says what to give: {e}"
        );
    }
}

#[test]
fn fetches_a_jwt_svid_signed_by_the_bundle_key() {
    let (_dir, fake, client) = fake();
    let aud = vec!["https://api.example".to_string(), "other".to_string()];
    let svids = block_on(client.fetch_jwt_svids(&aud, None)).unwrap();
    assert_eq!(svids.len(), 1);
    let s = &svids[0];
    assert_eq!(s.spiffe_id, "spiffe://example.org/workload");
    assert_eq!(format!("{:?}", s.svid), "***", "the SVID is a Secret");
    let token = s.svid.expose();
    let header = segment(token, 0);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], fake.jwt_kid().as_str());
    let claims = segment(token, 1);
    assert_eq!(claims["sub"], "spiffe://example.org/workload");
    assert_eq!(claims["aud"], serde_json::json!(aud));
    let (iat, exp) = (claims["iat"].as_u64().unwrap(), claims["exp"].as_u64().unwrap());
    assert_eq!(exp, iat + 300);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(iat.abs_diff(now) < 60);

    // The bundle: keyed by trust domain, a JWKS without `use`, whose key checks the signature.
    let bundles = block_on(client.fetch_jwt_bundles()).unwrap();
    assert_eq!(bundles.bundles.keys().collect::<Vec<_>>(), ["example.org"]);
    let jwks: Value = serde_json::from_slice(&bundles.bundles["example.org"]).unwrap();
    assert!(jwks["keys"][0].get("use").is_none(), "{jwks}");
    assert_eq!(fake.jwt_bundle_json().as_bytes(), &bundles.bundles["example.org"][..]);
    assert!(signature_checks(token, &bundles.bundles["example.org"]));

    // Asking for the served SPIFFE ID works; for another one is "no identity" (retryable).
    let by_id = block_on(client.fetch_jwt_svids(&aud, Some("spiffe://example.org/workload"))).unwrap();
    assert_eq!(by_id[0].spiffe_id, "spiffe://example.org/workload");
    let e = block_on(client.fetch_jwt_svids(&aud, Some("spiffe://example.org/other"))).unwrap_err();
    assert_eq!(e.code(), ErrorCode::WorkloadApiUnavailable, "{e}");
    assert!(e.is_retryable());
    // No audience is refused before any call.
    let calls = fake.calls();
    let e = block_on(client.fetch_jwt_svids(&[], None)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ConfigError);
    assert_eq!(fake.calls(), calls);

    // set_spiffe_id: the SVIDs follow.
    fake.set_spiffe_id("spiffe://example.org/renamed").unwrap();
    let s = block_on(client.fetch_jwt_svids(&aud, None)).unwrap();
    assert_eq!(segment(s[0].svid.expose(), 1)["sub"], "spiffe://example.org/renamed");
}

#[test]
fn a_call_without_the_security_header_is_refused() {
    let (_dir, fake, _client) = fake();
    let socket = fake.socket_path().to_path_buf();
    let status = authsec_native::runtime().block_on(async move {
        let channel = tonic::transport::Endpoint::from_static("http://localhost")
            .connect_with_connector(tower::service_fn(move |_: http::Uri| {
                let socket = socket.clone();
                async move {
                    let s = tokio::net::UnixStream::connect(socket).await?;
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(s))
                }
            }))
            .await
            .unwrap();
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready().await.unwrap();
        let req = proto::JwtSvidRequest {
            audience: vec!["x".into()],
            spiffe_id: String::new(),
        };
        let codec = tonic_prost::ProstCodec::<proto::JwtSvidRequest, proto::JwtSvidResponse>::default();
        grpc.unary(
            tonic::Request::new(req),
            http::uri::PathAndQuery::from_static(proto::FETCH_JWT_SVID),
            codec,
        )
        .await
        .unwrap_err()
    });
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(status.message(), "security header missing from request");
}

#[test]
fn a_bundles_watch_sees_a_rotation() {
    let (_dir, fake, client) = fake();
    let seen: Arc<Mutex<Vec<JwtBundles>>> = Arc::default();
    let s = seen.clone();
    let watch = client.watch_jwt_bundles(Arc::new(move |b| s.lock().unwrap().push(b)));
    block_on(watch.wait_first(WAIT)).unwrap();
    assert_eq!(watch.updates(), 1);
    let old = fake.jwt_kid();
    assert_eq!(kids(&seen.lock().unwrap()[0]), std::slice::from_ref(&old));

    fake.rotate_jwt_key().unwrap();
    eventually("the rotated bundle", || watch.updates() >= 2);
    let new = fake.jwt_kid();
    assert_ne!(old, new);
    let latest = seen.lock().unwrap().last().unwrap().clone();
    assert_eq!(
        kids(&latest),
        [old, new.clone()],
        "the bundle holds the old key and the new one"
    );
    assert!(watch.last_error().is_none());

    // A JWT-SVID signed now carries the new kid and checks against the watched bundle.
    let svid = block_on(client.fetch_jwt_svids(&["a".into()], None)).unwrap().remove(0);
    assert_eq!(segment(svid.svid.expose(), 0)["kid"], new.as_str());
    assert!(signature_checks(svid.svid.expose(), &latest.bundles["example.org"]));
}

#[test]
fn permission_denied_backs_off_then_succeeds() {
    let (_dir, fake, client) = fake();
    // A single fetch: no identity yet is workload_api_unavailable, retryable, and says so.
    fake.deny_next(1);
    let e = block_on(client.fetch_x509_context()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::WorkloadApiUnavailable, "{e}");
    assert_eq!(e.code().category(), ErrorCategory::Unavailable);
    assert!(e.is_retryable());
    assert!(
        e.message().contains(&fake.endpoint()) && e.message().contains("no identity"),
        "{e}"
    );

    // A watch retries after 100 ms then 200 ms (jitter: at least half of each) and then succeeds.
    fake.deny_next(2);
    let calls = fake.calls();
    let start = Instant::now();
    let watch = client.watch_x509_context(Arc::new(|_| {}));
    block_on(watch.wait_first(WAIT)).unwrap();
    let took = start.elapsed();
    assert_eq!(fake.denials_left(), 0);
    assert_eq!(fake.calls() - calls, 3, "two refused calls, then the stream");
    assert!(took >= Duration::from_millis(150), "backed off only {took:?}");
    assert_eq!(watch.updates(), 1);
    assert!(watch.last_error().is_none(), "an update clears the error");
}

#[test]
fn the_x509_context_parses_and_follows_rotations() {
    let (_dir, fake, client) = fake();
    let ctx = block_on(client.fetch_x509_context()).unwrap();
    assert_eq!(ctx.svids.len(), 1);
    assert!(ctx.federated_bundles.is_empty());
    let svid = &ctx.svids[0];
    assert_eq!(svid.spiffe_id, "spiffe://example.org/workload");
    assert_eq!(svid.cert_chain_der.len(), 1);
    assert_eq!(svid.bundle_der, [fake.ca_der()]);

    let (_, leaf) = x509_parser::parse_x509_certificate(&svid.cert_chain_der[0]).unwrap();
    let uris: Vec<String> = leaf
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names
        .iter()
        .filter_map(|n| match n {
            x509_parser::extensions::GeneralName::URI(u) => Some(u.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        uris,
        std::slice::from_ref(&svid.spiffe_id),
        "the URI SAN is the SPIFFE ID"
    );
    let (_, ca) = x509_parser::parse_x509_certificate(&svid.bundle_der[0]).unwrap();
    assert_eq!(leaf.issuer(), ca.subject());
    assert!(ca.is_ca() && !leaf.is_ca());
    // The key is the leaf's: PKCS#8, with the certificate's public key.
    let key = rcgen::KeyPair::try_from(&svid.private_key_pkcs8_der[..]).unwrap();
    assert_eq!(key.public_key_raw(), &leaf.public_key().subject_public_key.data[..]);

    // PEM forms, and a Debug that shows no key.
    assert!(svid.cert_chain_pem().starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(svid.bundle_pem().ends_with("-----END CERTIFICATE-----\n"));
    let pem = svid.private_key_pem();
    assert!(pem.expose().starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert_eq!(
        rcgen::KeyPair::from_pem(pem.expose()).unwrap().public_key_raw(),
        key.public_key_raw()
    );
    let debug = format!("{svid:?}");
    assert!(debug.contains("***") && !debug.contains(&format!("{:?}", &svid.private_key_pkcs8_der[..8])));

    // A watch hands over the rotated SVID (full state: a new key and certificate).
    let seen: Arc<Mutex<Vec<X509Context>>> = Arc::default();
    let s = seen.clone();
    let watch = client.watch_x509_context(Arc::new(move |c| s.lock().unwrap().push(c)));
    block_on(watch.wait_first(WAIT)).unwrap();
    fake.rotate_x509().unwrap();
    eventually("the rotated SVID", || watch.updates() >= 2);
    let seen = seen.lock().unwrap();
    let (a, b) = (&seen[0].svids[0], &seen.last().unwrap().svids[0]);
    assert_ne!(a.cert_chain_der, b.cert_chain_der);
    assert_ne!(a.private_key_pkcs8_der, b.private_key_pkcs8_der);
    assert_eq!(a.bundle_der, b.bundle_der, "the same CA");
}

#[test]
fn a_watch_stops_when_dropped_or_stopped() {
    let (_dir, fake, client) = fake();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let watch = client.watch_x509_context(Arc::new(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
    }));
    block_on(watch.wait_first(WAIT)).unwrap();
    drop(watch);
    fake.rotate_x509().unwrap();
    fake.rotate_x509().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(count.load(Ordering::SeqCst), 1, "a dropped watch delivers nothing more");

    // stop(): the task ends; a wait for a first update that never came says it was stopped.
    fake.deny_next(1000);
    let watch = client.watch_jwt_bundles(Arc::new(|_| {}));
    watch.stop();
    eventually("the task to end", || watch.is_finished());
    let e = block_on(watch.wait_first(WAIT)).unwrap_err();
    assert!(e.message().contains("stopped"), "{e}");
}

#[test]
fn invalid_argument_ends_a_watch() {
    let (_dir, fake, client) = fake();
    fake.refuse_next(1);
    let watch = client.watch_jwt_bundles(Arc::new(|_| {}));
    let e = block_on(watch.wait_first(WAIT)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ConfigError, "{e}");
    assert_eq!(watch.last_error().unwrap().code(), ErrorCode::ConfigError);
    eventually("the task to end", || watch.is_finished());
    let calls = fake.calls();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(fake.calls(), calls, "not retried");
    assert_eq!(watch.updates(), 0);
}

#[test]
fn an_unreachable_endpoint_and_a_restarted_agent() {
    let dir = Dir::new();
    let socket = dir.0.join("agent.sock");
    let client = WorkloadApiClient::new(&format!("unix://{}", socket.display()))
        .unwrap()
        .with_timeout(WAIT)
        .with_backoff(Duration::from_millis(50), Duration::from_millis(200));
    let e = block_on(client.fetch_jwt_bundles()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::WorkloadApiUnavailable, "{e}");
    assert!(e.message().contains(&socket.display().to_string()), "{e}");
    assert!(e.message().contains("is the SPIRE agent running?"), "{e}");

    // The same over TCP (a port nothing listens on).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tcp = WorkloadApiClient::new(&format!("tcp://127.0.0.1:{port}")).unwrap();
    let e = block_on(tcp.fetch_x509_context()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::WorkloadApiUnavailable, "{e}");
    assert!(e.message().contains(&format!("tcp://127.0.0.1:{port}")), "{e}");

    // A watch started before the agent: a bounded wait names the last error...
    let seen: Arc<Mutex<Vec<JwtBundles>>> = Arc::default();
    let s = seen.clone();
    let watch = client.watch_jwt_bundles(Arc::new(move |b| s.lock().unwrap().push(b)));
    let e = block_on(watch.wait_first(Duration::from_millis(300))).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Timeout, "{e}");
    assert!(e.message().contains("workload_api_unavailable"), "{e}");
    // ...then it connects once the agent is up, and again after the agent restarts.
    let first = FakeWorkloadApi::start(&socket).unwrap();
    block_on(watch.wait_first(WAIT)).unwrap();
    let kid1 = first.jwt_kid();
    drop(first);
    let second = FakeWorkloadApi::start(&socket).unwrap();
    let kid2 = second.jwt_kid();
    eventually("the restarted agent's bundle", || {
        seen.lock().unwrap().last().is_some_and(|b| kids(b) == [kid2.clone()])
    });
    assert_eq!(kids(&seen.lock().unwrap()[0]), [kid1]);
}
