//! `shutdown` stops serving: idle keep-alive connections are closed too, so a client's pooled
//! connection cannot keep talking to a stopped server (the Python `LocalAuthServer` relies on it).

use authsec_server::{start, ServerConfig, StartOptions};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn shutdown_closes_keep_alive_connections() {
    let cfg = ServerConfig {
        audit_log: Some("off".into()),
        ..Default::default()
    };
    let server = start(cfg, StartOptions::default()).await.expect("start");
    let addr = server.addr();
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = conn.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));

    tokio::time::timeout(Duration::from_secs(10), server.shutdown())
        .await
        .expect("shutdown in time");
    // The kept-alive connection is closed (EOF or reset), and new connections are refused.
    let read = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(matches!(read, Ok(0) | Err(_)), "the connection is still open: {read:?}");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
