//! The transport honours HTTP(S)_PROXY and NO_PROXY from the environment (read when the
//! transport is built). Its own test binary: it sets process environment variables.
use authsec_native::http::{HttpRequest, Transport};
use authsec_native::{block_on, HttpTransport, TransportOptions};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A one-request-per-connection "proxy" that records request lines and answers 200.
fn fake_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", l.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    std::thread::spawn(move || {
        for stream in l.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = r.read_line(&mut line);
            s2.lock().unwrap().push(line.trim().to_string());
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"via\":\"p\"}");
        }
    });
    (addr, seen)
}

#[test]
fn http_proxy_and_no_proxy_are_honoured() {
    let (proxy, seen) = fake_proxy();
    // Port 9 (discard) on loopback: nothing listens; only the proxy can answer.
    let target = "http://127.0.0.1:9/.well-known/jwks.json";
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");
    std::env::set_var("HTTP_PROXY", &proxy);
    let t = HttpTransport::new(&TransportOptions::default()).unwrap();
    let resp = block_on(t.send(HttpRequest::get(target))).unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"{\"via\":\"p\"}");
    assert_eq!(seen.lock().unwrap().as_slice(), [format!("GET {target} HTTP/1.1")]);

    // NO_PROXY exempts the host: the request goes direct (and fails, nothing listens there).
    std::env::set_var("NO_PROXY", "127.0.0.1");
    let t = HttpTransport::new(&TransportOptions::default()).unwrap();
    let e = block_on(t.send(HttpRequest::get(target))).unwrap_err();
    assert_eq!(e.code(), authsec_native::ErrorCode::NetworkError, "{e}");
    assert_eq!(seen.lock().unwrap().len(), 1, "the proxy saw nothing more");
}
