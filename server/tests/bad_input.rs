//! Bad input over raw sockets: every malformed request gets the right status and, wherever the
//! application answers, an RFC 6749 error JSON; nothing panics or hangs; and afterwards the
//! server still issues a valid token.
mod common;

use authsec_native::*;
use authsec_server::ServerConfig;
use common::*;
use std::net::SocketAddr;

const SECRET: &str = "good-secret";

async fn server() -> TestServer {
    TestServer::start(ServerConfig {
        admin_token: Some("adm".into()),
        rate_limit: 0,
        ..config(vec![secret_client("good", SECRET, &["read"])])
    })
    .await
}

fn h(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

fn form_ct() -> (String, String) {
    h("Content-Type", "application/x-www-form-urlencoded")
}

fn good_basic() -> (String, String) {
    h("Authorization", &basic_header("good", SECRET))
}

async fn post(addr: SocketAddr, path: &str, headers: &[(String, String)], body: &[u8]) -> Resp {
    raw_request(addr, "POST", path, headers, body).await
}

/// The server still issues a token that the core verifier accepts.
async fn still_healthy(ts: &TestServer) {
    let r = post(
        ts.addr(),
        "/oauth/token",
        &[form_ct(), good_basic()],
        b"grant_type=client_credentials",
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let c = ts.client(ClientConfig {
        client_id: "good".into(),
        client_secret: Some(Secret::new(SECRET)),
        ..Default::default()
    });
    let t = c.get_token().await.expect("a token after the abuse");
    ts.verifier(ts.issuer())
        .verify(t.access_token.expose())
        .await
        .expect("and it verifies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_type_and_form_body_errors() {
    let ts = server().await;
    let a = ts.addr();
    let good = b"grant_type=client_credentials";
    // The raw client itself is fine.
    assert_eq!(
        post(a, "/oauth/token", &[form_ct(), good_basic()], good).await.status,
        200
    );
    // With a charset parameter and odd casing: still a form.
    let r = post(
        a,
        "/oauth/token",
        &[
            h("Content-Type", "Application/X-WWW-Form-URLEncoded; charset=UTF-8"),
            good_basic(),
        ],
        good,
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");

    // Wrong or missing content type.
    for ct in [
        Some("application/json"),
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
        Some(""),
        None,
    ] {
        let mut headers = vec![good_basic()];
        if let Some(ct) = ct {
            headers.push(h("Content-Type", ct));
        }
        let body: &[u8] = if ct == Some("application/json") {
            br#"{"grant_type":"client_credentials"}"#
        } else {
            good
        };
        for path in ["/oauth/token", "/oauth/introspect", "/oauth/revoke"] {
            post(a, path, &headers, body)
                .await
                .assert_oauth_error(400, "invalid_request");
        }
    }
    // Not UTF-8.
    let r = post(
        a,
        "/oauth/token",
        &[form_ct(), good_basic()],
        b"grant_type=client_credentials&scope=\xff\xfe",
    )
    .await;
    r.assert_oauth_error(400, "invalid_request");
    // Malformed forms.
    for body in [
        &b""[..],
        b"&&&",
        b"=&=",
        b"%%%%",
        b"grant_type",
        b"grant_type=",
        b"=client_credentials",
        b"grant%5Ftype%3Dclient_credentials",
    ] {
        let r = post(a, "/oauth/token", &[form_ct(), good_basic()], body).await;
        assert_eq!(r.status, 400, "{:?}: {r:?}", String::from_utf8_lossy(body));
        assert!(
            ["invalid_request", "unsupported_grant_type"].contains(&r.json["error"].as_str().unwrap_or("")),
            "{r:?}"
        );
        r.assert_oauth_error(400, r.json["error"].as_str().unwrap());
    }
    // Too many parameters.
    let many: String = (0..70).map(|i| format!("p{i}=v")).collect::<Vec<_>>().join("&");
    let r = post(
        a,
        "/oauth/token",
        &[form_ct(), good_basic()],
        format!("grant_type=client_credentials&{many}").as_bytes(),
    )
    .await;
    r.assert_oauth_error(400, "invalid_request");
    // Percent-garbage inside a value is just an odd value (here: an unknown scope).
    let r = post(
        a,
        "/oauth/token",
        &[form_ct(), good_basic()],
        b"grant_type=client_credentials&scope=%ZZ%",
    )
    .await;
    r.assert_oauth_error(400, "invalid_scope");
    still_healthy(&ts).await;
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_413_with_oauth_json() {
    let ts = server().await;
    let a = ts.addr();
    // Just under the limit: parsed (and refused for its content, not its size).
    let pad = "x".repeat(16 * 1024 - "grant_type=client_credentials&pad=".len());
    let r = post(
        a,
        "/oauth/token",
        &[form_ct(), good_basic()],
        format!("grant_type=client_credentials&pad={pad}").as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "exactly 16 KiB is accepted: {r:?}");
    // Over it, by a byte, by a lot; on every form endpoint.
    for size in [16 * 1024 + 1, 64 * 1024, 1024 * 1024] {
        let body = format!("grant_type=client_credentials&pad={}", "x".repeat(size - 34));
        assert_eq!(body.len(), size);
        for path in ["/oauth/token", "/oauth/introspect", "/oauth/revoke"] {
            let r = post(a, path, &[form_ct(), good_basic()], body.as_bytes()).await;
            r.assert_oauth_error(413, "invalid_request");
        }
    }
    // A chunked body over the limit (no Content-Length to reject early).
    let mut req = b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..20 {
        req.extend_from_slice(format!("{:x}\r\n{}\r\n", 1024, "y".repeat(1024)).as_bytes());
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let r = parse_response(&raw_exchange(a, &req).await).expect("an HTTP answer");
    r.assert_oauth_error(413, "invalid_request");
    // A malformed chunked body is a bad request, not an oversized one.
    for chunks in [
        &b"zz\r\nabc\r\n0\r\n\r\n"[..],
        b"3\r\nabcdef\r\n0\r\n\r\n",
        b"ffffffffffffffffff\r\n",
    ] {
        let mut req = b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        req.extend_from_slice(chunks);
        let out = raw_exchange(a, &req).await;
        let r = parse_response(&out).expect("an HTTP answer");
        r.assert_oauth_error(400, "invalid_request");
    }
    // Admin JSON has its own (larger) limit.
    let big = format!("{{\"client_id\":\"x\",\"name\":\"{}\"}}", "n".repeat(300 * 1024));
    let r = post(
        a,
        "/admin/clients",
        &[h("Authorization", "Bearer adm"), h("Content-Type", "application/json")],
        big.as_bytes(),
    )
    .await;
    r.assert_oauth_error(413, "invalid_request");
    let mut req = b"POST /admin/clients HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer adm\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec();
    req.extend_from_slice(b"{}\r\n0\r\n\r\n");
    let r = parse_response(&raw_exchange(a, &req).await).expect("an HTTP answer");
    r.assert_oauth_error(400, "invalid_request");
    still_healthy(&ts).await;
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_type_duplicates_and_basic_credentials() {
    let ts = server().await;
    let a = ts.addr();
    // Missing grant_type: invalid_request (RFC 6749 §5.2: a required parameter is missing).
    let r = post(a, "/oauth/token", &[form_ct(), good_basic()], b"scope=read").await;
    r.assert_oauth_error(400, "invalid_request");
    assert!(r.description().contains("grant_type"), "{r:?}");
    // Unsupported grant types, authenticated or not.
    let long = format!("grant_type={}", "g".repeat(5000));
    for body in [
        "grant_type=password&username=u&password=p",
        "grant_type=authorization_code&code=x",
        "grant_type=refresh_token&refresh_token=x",
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer",
        "grant_type=CLIENT_CREDENTIALS",
        &long,
    ] {
        for headers in [vec![form_ct(), good_basic()], vec![form_ct()]] {
            let r = post(a, "/oauth/token", &headers, body.as_bytes()).await;
            r.assert_oauth_error(400, "unsupported_grant_type");
            assert!(r.description().len() < 300, "the echoed grant_type is truncated: {r:?}");
        }
    }
    // Duplicate parameters (resource may repeat).
    for body in [
        "grant_type=client_credentials&grant_type=client_credentials",
        "grant_type=client_credentials&scope=read&scope=read",
        "grant_type=client_credentials&audience=a&audience=b",
        "grant_type=client_credentials&client_id=good&client_id=good",
    ] {
        let r = post(a, "/oauth/token", &[form_ct(), good_basic()], body.as_bytes()).await;
        r.assert_oauth_error(400, "invalid_request");
        assert!(r.description().contains("more than once"), "{r:?}");
    }
    let r = post(a, "/oauth/introspect", &[form_ct(), good_basic()], b"token=a&token=b").await;
    r.assert_oauth_error(400, "invalid_request");
    let r = post(
        a,
        "/oauth/token",
        &[form_ct()],
        b"grant_type=client_credentials&client_id=good&client_secret=x&client_secret=good-secret",
    )
    .await;
    r.assert_oauth_error(400, "invalid_request");

    // Unknown client / broken Basic credentials: 401 invalid_client with a Basic challenge.
    let b64 = |s: &[u8]| authsec_core::util::b64_std_encode(s);
    let basics = [
        basic_header("unknown", SECRET),
        "Basic !!!not-base64!!!".to_string(),
        "Basic ".to_string(),
        "Basic ====".to_string(),
        format!("Basic {}", b64(b"no-colon-here")),
        format!("Basic {}", b64(b"good:good-secret").trim_end_matches('=')),
        format!("Basic {}", b64(b"\xff\xfe:\xff")),
        format!("Basic {}", b64(b"%zz:good-secret")),
        format!("Basic {}", b64(b"good:%E2%82")),
        format!("Basic {}", b64(b":")),
        format!("Basic {}", b64(&vec![b'a'; 10_000])),
    ];
    for v in &basics {
        let r = post(
            a,
            "/oauth/token",
            &[form_ct(), h("Authorization", v)],
            b"grant_type=client_credentials",
        )
        .await;
        r.assert_oauth_error(401, "invalid_client");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Basic realm=\"authsec\""),
            "{v}: {r:?}"
        );
    }
    // The scheme name is case-insensitive.
    for scheme in ["basic", "BASIC", "bAsIc"] {
        let v = basic_header("good", SECRET).replacen("Basic", scheme, 1);
        let r = post(
            a,
            "/oauth/token",
            &[form_ct(), h("Authorization", &v)],
            b"grant_type=client_credentials",
        )
        .await;
        assert_eq!(r.status, 200, "{scheme}: {r:?}");
    }
    // Other schemes are not Basic: no credentials at all.
    for v in ["Bearer abc", "Digest x", "Basicabc"] {
        let r = post(
            a,
            "/oauth/token",
            &[form_ct(), h("Authorization", v)],
            b"grant_type=client_credentials",
        )
        .await;
        r.assert_oauth_error(401, "invalid_client");
    }
    still_healthy(&ts).await;
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_and_wrong_methods() {
    let ts = server().await;
    let a = ts.addr();
    for (method, path) in [
        ("GET", "/nope"),
        ("POST", "/oauth/token/extra"),
        ("GET", "/oauth"),
        ("GET", "/../../etc/passwd"),
        ("GET", "/%00"),
        ("POST", "/OAUTH/TOKEN"),
        ("GET", "/admin"),
    ] {
        let r = raw_request(a, method, path, &[], b"").await;
        r.assert_oauth_error(404, "not_found");
    }
    for (method, path) in [
        ("GET", "/oauth/token"),
        ("PUT", "/oauth/token"),
        ("DELETE", "/oauth/token"),
        ("GET", "/oauth/introspect"),
        ("GET", "/oauth/revoke"),
        ("POST", "/.well-known/jwks.json"),
        ("DELETE", "/.well-known/oauth-authorization-server"),
        ("PATCH", "/admin/clients"),
        ("PUT", "/admin/keys/rotate"),
    ] {
        let r = raw_request(a, method, path, &[form_ct()], b"grant_type=client_credentials").await;
        r.assert_oauth_error(405, "invalid_request");
    }
    // HEAD on a GET endpoint is fine; OPTIONS is a 405 with a JSON body.
    assert_eq!(
        raw_request(a, "HEAD", "/.well-known/jwks.json", &[], b"").await.status,
        200
    );
    raw_request(a, "OPTIONS", "/oauth/token", &[], b"")
        .await
        .assert_oauth_error(405, "invalid_request");
    assert_eq!(raw_request(a, "GET", "/healthz", &[], b"").await.status, 200);
    still_healthy(&ts).await;
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_floods_and_raw_garbage_never_hang_or_crash() {
    let ts = server().await;
    let a = ts.addr();
    // 100+ headers: 431.
    let headers: Vec<(String, String)> = (0..120)
        .map(|i| h(&format!("X-Flood-{i}"), "v"))
        .chain([form_ct(), good_basic()])
        .collect();
    let r = post(a, "/oauth/token", &headers, b"grant_type=client_credentials").await;
    assert_eq!(r.status, 431, "{r:?}");
    // One huge header (over the 64 KiB read buffer): 431 as well.
    let r = post(
        a,
        "/oauth/token",
        &[form_ct(), good_basic(), h("X-Big", &"b".repeat(80 * 1024))],
        b"grant_type=client_credentials",
    )
    .await;
    assert_eq!(r.status, 431, "{r:?}");

    // Raw garbage over TCP: a 4xx answer (or a close), promptly.
    let mut rnd = vec![0u8; 4096];
    getrandom_fill(&mut rnd);
    let cases: Vec<Vec<u8>> = vec![
        b"\x00\x01\x02\xff\xfe garbage\r\n\r\n".to_vec(),
        b"GET\r\n\r\n".to_vec(),
        b"POST /oauth/token HTTP/9.9\r\n\r\n".to_vec(),
        b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".to_vec(),
        b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcde".to_vec(),
        b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n".to_vec(),
        b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n".to_vec(),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
        [rnd.clone(), b"\r\n\r\n".to_vec()].concat(),
        [b"GET /".to_vec(), vec![b'a'; 70 * 1024], b" HTTP/1.1\r\n\r\n".to_vec()].concat(),
    ];
    for bytes in &cases {
        let out = raw_exchange(a, bytes).await;
        if !out.is_empty() {
            let r = parse_response(&out).unwrap_or_else(|| panic!("not HTTP: {:?}", String::from_utf8_lossy(&out)));
            assert!(
                (400..500).contains(&r.status),
                "{:?} → {r:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(60)])
            );
        }
    }
    // A request whose body never fully arrives (client half-closes): the server gives up at once.
    let mut s = tokio::net::TcpStream::connect(a).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    s.write_all(b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=").await.unwrap();
    s.shutdown().await.unwrap();
    let mut out = Vec::new();
    let done = tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut out)).await;
    assert!(done.is_ok(), "the server kept a half-closed, truncated request open");
    if !out.is_empty() {
        let r = parse_response(&out).expect("HTTP");
        assert!((400..500).contains(&r.status), "{r:?}");
    }
    // Many connections that send nothing and go away.
    for _ in 0..50 {
        drop(tokio::net::TcpStream::connect(a).await.unwrap());
    }
    still_healthy(&ts).await;
    ts.shutdown().await;
}

/// Clients that send a complete head and then part of the body, and stall: each is answered 408
/// and its connection closed once the request bound passes (before, all 20 were still open after
/// 14 s). A slow body that completes within the bound is still served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stalls_is_answered_408_and_closed() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let bound = Duration::from_millis(800);
    let ts = TestServer::start_with_request_timeout(
        ServerConfig {
            rate_limit: 0,
            ..config(vec![secret_client("good", SECRET, &["read"])])
        },
        bound,
    )
    .await;
    let a = ts.addr();
    let head = "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n";
    let started = Instant::now();
    let mut stalled = Vec::new();
    for _ in 0..20 {
        let mut s = tokio::net::TcpStream::connect(a).await.unwrap();
        s.write_all(format!("{head}Content-Length: 100\r\n\r\ngrant_type=cl").as_bytes())
            .await
            .unwrap();
        stalled.push(s);
    }
    for mut s in stalled {
        let mut out = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
        assert!(read.is_ok(), "a stalled request was still open after 10 s");
        let r = parse_response(&out).unwrap_or_else(|| panic!("not HTTP: {:?}", String::from_utf8_lossy(&out)));
        assert_eq!(r.status, 408, "{r:?}");
        assert_eq!(r.json["error"], "invalid_request", "{r:?}");
    }
    let waited = started.elapsed();
    assert!(waited >= bound, "answered before the bound: {waited:?}");
    // A body sent in two parts, the second well within the bound, is served as usual.
    let body = format!("grant_type=client_credentials&client_id=good&client_secret={SECRET}");
    let mut s = tokio::net::TcpStream::connect(a).await.unwrap();
    let (first, rest) = body.split_at(10);
    s.write_all(
        format!(
            "{head}Content-Length: {}\r\nConnection: close\r\n\r\n{first}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    tokio::time::sleep(bound / 4).await;
    s.write_all(rest.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("the server answers")
        .unwrap();
    let r = parse_response(&out).expect("HTTP");
    assert_eq!(r.status, 200, "{r:?}");
    still_healthy(&ts).await;
    ts.shutdown().await;
}

fn getrandom_fill(buf: &mut [u8]) {
    // Random-looking bytes without another dependency: a few base64url-decoded random ids.
    let mut filled = 0;
    while filled < buf.len() {
        let id = authsec_core::random::random_id(48).unwrap();
        let bytes = authsec_core::util::b64url_decode(&id).unwrap();
        let n = bytes.len().min(buf.len() - filled);
        buf[filled..filled + n].copy_from_slice(&bytes[..n]);
        filled += n;
    }
}
