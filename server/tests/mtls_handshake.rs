//! RFC 8705 at the TLS layer: a client that presents a registered certificate without its key
//! fails the handshake (the server checks the handshake signature even though it accepts
//! self-signed certificates), and a client registered with one `token_endpoint_auth_method` may
//! use no other.
mod common;
#[path = "common/pki.rs"]
mod pki;

use authsec_server::ClientSpec;
use common::*;
use pki::*;

/// Presents `cert` but signs the TLS handshake with `key` (a client that has someone's
/// certificate and not its key).
#[derive(Debug)]
struct Presents(std::sync::Arc<rustls::sign::CertifiedKey>);

impl rustls::client::ResolvesClientCert for Presents {
    fn resolve(
        &self,
        _hints: &[&[u8]],
        _schemes: &[rustls::SignatureScheme],
    ) -> Option<std::sync::Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
    fn has_certs(&self) -> bool {
        true
    }
}

/// A token request by `self-client` over a raw rustls connection presenting `cert` with `key`;
/// the raw answer (empty when the server ended the connection).
async fn present(ts: &TestServer, pki: &Pki, cert: &Cert, key: &Cert) -> String {
    use rustls::pki_types::pem::PemObject;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let signing_key = provider
        .key_provider
        .load_private_key(rustls::pki_types::PrivateKeyDer::from_pem_slice(key.key_pem.as_bytes()).unwrap())
        .unwrap();
    let certified = rustls::sign::CertifiedKey::new(vec![cert.der.clone().into()], signing_key);
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(pki.ca.pem.as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_cert_resolver(Arc::new(Presents(Arc::new(certified))));
    let tcp = tokio::net::TcpStream::connect(ts.addr()).await.unwrap();
    let name = rustls::pki_types::ServerName::IpAddress(ts.addr().ip().into());
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let body = "grant_type=client_credentials&client_id=self-client";
    let request = format!(
        "POST /oauth/token HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        ts.addr(),
        body.len()
    );
    let exchange = async {
        let mut tls = connector.connect(name, tcp).await?;
        tls.write_all(request.as_bytes()).await?;
        let mut out = Vec::new();
        tls.read_to_end(&mut out).await?;
        Ok::<_, std::io::Error>(out)
    };
    match tokio::time::timeout(std::time::Duration::from_secs(5), exchange).await {
        Ok(Ok(out)) => String::from_utf8_lossy(&out).into_owned(),
        Ok(Err(_)) => String::new(),
        Err(_) => panic!("the server neither answered nor closed within 5 s"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handshake_signature_proves_the_certificates_key() {
    let pki = Pki::new();
    let ts = TestServer::start(pki.config()).await;
    let registered = &pki.registered_self_signed;
    // The harness works: certificate and key together authenticate the client.
    let ok = present(&ts, &pki, registered, registered).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    // The registered certificate with another key: the handshake fails, no answer at all.
    let thief = self_signed("thief");
    let refused = present(&ts, &pki, registered, &thief).await;
    assert!(!refused.contains("HTTP/1.1"), "{refused}");
    assert_eq!(
        ts.audit_events("token").len(),
        1,
        "only the first request reached the endpoint"
    );
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_auth_method_is_the_only_one() {
    let pki = Pki::new();
    let mut cfg = pki.config();
    cfg.tls = None;
    cfg.clients.push(ClientSpec {
        token_endpoint_auth_method: Some("client_secret_post".into()),
        ..secret_client("post-only", "po-secret", &["read"])
    });
    let ts = TestServer::start(cfg).await;
    let r = ts
        .token_request(
            Some(("post-only", "po-secret")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    r.assert_oauth_error(401, "invalid_client");
    assert!(r.description().contains("client_secret_post"), "{r:?}");
    let r = ts
        .token_request(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "post-only"),
                ("client_secret", "po-secret"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    ts.shutdown().await;
}
