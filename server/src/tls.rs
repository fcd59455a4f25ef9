//! HTTPS and RFC 8705 mutual TLS: the rustls configuration (aws-lc-rs), the client certificate a
//! connection presented ([`PeerCert`], handed to the handlers as a request extension), and the
//! certificate facts client authentication and binding use (subject DN, SANs, `x5t#S256`).
//!
//! The server *asks* every client for a certificate and requires none. At the TLS layer any
//! well-formed certificate is accepted as long as the client proves it holds the key (the
//! handshake signature is always checked), so that `self_signed_tls_client_auth` clients can
//! connect; whether the certificate also chains to `client_ca_file` (what `tls_client_auth` needs)
//! is checked once per connection with rustls's WebPKI verifier and recorded in
//! [`PeerCert::ca_verified`].

use crate::config::TlsConfig;
use authsec_core::util::{b64_std_decode, b64url_encode};
use authsec_core::{Error, Result};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::str::FromStr;
use std::sync::Arc;
use x509_cert::der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::name::RdnSequence;
use x509_cert::Certificate;

/// What the server needs to serve HTTPS.
pub struct Tls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// Checks a presented chain against `client_ca_file` (absent without one).
    ca: Option<Arc<dyn ClientCertVerifier>>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn read_certs(what: &str, path: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| Error::config(format!("tls.{what} {path:?}: cannot read PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(Error::config(format!("tls.{what} {path:?} holds no certificate")));
    }
    Ok(certs)
}

impl Tls {
    /// Read the PEM files and build the rustls configuration (HTTP/1.1 over TLS 1.2 and 1.3).
    pub fn load(cfg: &TlsConfig) -> Result<Tls> {
        let provider = provider();
        let chain = read_certs("cert_file", &cfg.cert_file)?;
        let key = PrivateKeyDer::from_pem_file(&cfg.key_file).map_err(|e| {
            Error::config(format!(
                "tls.key_file {:?}: cannot read a PEM private key: {e}",
                cfg.key_file
            ))
        })?;
        let ca = match &cfg.client_ca_file {
            None => None,
            Some(path) => {
                let mut roots = RootCertStore::empty();
                for c in read_certs("client_ca_file", path)? {
                    roots
                        .add(c)
                        .map_err(|e| Error::config(format!("tls.client_ca_file {path:?}: {e}")))?;
                }
                let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .allow_unauthenticated()
                    .build()
                    .map_err(|e| Error::config(format!("tls.client_ca_file {path:?}: {e}")))?;
                Some(v)
            }
        };
        let verifier = Arc::new(AnyClientCert {
            provider: provider.clone(),
        });
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::config(format!("TLS: {e}")))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(|e| Error::config(format!("tls.cert_file/key_file: {e}")))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            ca,
        })
    }

    /// The client certificate of an established connection, if it sent one.
    pub fn peer(&self, conn: &rustls::ServerConnection, now_ms: i64) -> Option<PeerCert> {
        let chain = conn.peer_certificates()?;
        let (leaf, intermediates) = chain.split_first()?;
        let now = UnixTime::since_unix_epoch(std::time::Duration::from_millis(now_ms.max(0) as u64));
        let ca_verified = self
            .ca
            .as_ref()
            .is_some_and(|v| v.verify_client_cert(leaf, intermediates, now).is_ok());
        Some(PeerCert {
            der: Arc::new(leaf.to_vec()),
            ca_verified,
        })
    }
}

/// Accepts any well-formed client certificate whose key signed the handshake; see the module
/// documentation for where the chain is checked.
#[derive(Debug)]
struct AnyClientCert {
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for AnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }
    fn client_auth_mandatory(&self) -> bool {
        false
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> std::result::Result<ClientCertVerified, rustls::Error> {
        Certificate::from_der(end_entity)
            .map(|_| ClientCertVerified::assertion())
            .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding))
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// The client certificate of the request's TLS connection (a request extension; absent over
/// plain HTTP or when the client sent none).
#[derive(Clone, Debug)]
pub struct PeerCert {
    /// The leaf certificate's DER.
    pub der: Arc<Vec<u8>>,
    /// Whether the chain verified against `client_ca_file` (for client authentication).
    pub ca_verified: bool,
}

impl PeerCert {
    /// RFC 8705 §3.1 `x5t#S256`: base64url SHA-256 of the DER.
    pub fn x5t_s256(&self) -> String {
        x5t_s256(&self.der)
    }

    fn parsed(&self) -> Option<Certificate> {
        Certificate::from_der(&self.der).ok()
    }

    /// The subject DN as RFC 4514 writes it.
    pub fn subject_dn(&self) -> Option<String> {
        self.parsed().map(|c| c.tbs_certificate.subject.to_string())
    }

    /// The subject alternative names: (dNSName, uniformResourceIdentifier) values.
    pub fn sans(&self) -> (Vec<String>, Vec<String>) {
        let mut dns = Vec::new();
        let mut uris = Vec::new();
        let san = self
            .parsed()
            .and_then(|c| c.tbs_certificate.get::<SubjectAltName>().ok().flatten());
        for name in san.map(|(_, s)| s.0).unwrap_or_default() {
            match name {
                GeneralName::DnsName(n) => dns.push(n.to_string()),
                GeneralName::UniformResourceIdentifier(u) => uris.push(u.to_string()),
                _ => {}
            }
        }
        (dns, uris)
    }
}

pub fn x5t_s256(der: &[u8]) -> String {
    b64url_encode(&Sha256::digest(der))
}

/// A DN in one RFC 4514 spelling (attribute names upper-case and short, no spaces around
/// separators), to compare a registered `tls_client_auth_subject_dn` with a certificate's.
pub fn normalize_dn(dn: &str) -> Result<String> {
    RdnSequence::from_str(&tidy_dn(dn))
        .map(|n| n.to_string())
        .map_err(|e| Error::config(format!("tls_client_auth_subject_dn {dn:?} is not an RFC 4514 DN: {e}")))
}

/// What x509-cert's RFC 4514 parser needs and people write otherwise: no spaces around `=`, `,`
/// and `+` (escaped ones kept), attribute names as the OID database spells them (`cn` → `CN`).
fn tidy_dn(dn: &str) -> String {
    use x509_cert::der::oid::db::DB;
    let mut out = String::with_capacity(dn.len());
    let mut key = String::new();
    let mut in_key = true;
    // The length of `out` up to its last character that is not an unescaped space.
    let mut kept = 0;
    let mut value_start = false;
    let mut chars = dn.chars();
    while let Some(c) = chars.next() {
        if in_key {
            if c != '=' {
                key.push(c);
                continue;
            }
            let k = key.trim();
            let upper = k.to_ascii_uppercase();
            out.push_str(if DB.by_name(&upper).is_some() { &upper } else { k });
            out.push('=');
            kept = out.len();
            key.clear();
            in_key = false;
            value_start = true;
            continue;
        }
        let was_start = std::mem::replace(&mut value_start, false);
        match c {
            ' ' if was_start => value_start = true, // leading spaces of a value
            '\\' => {
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
                kept = out.len();
            }
            ',' | '+' => {
                out.truncate(kept);
                out.push(c);
                in_key = true;
            }
            ' ' => out.push(c),
            _ => {
                out.push(c);
                kept = out.len();
            }
        }
    }
    if in_key {
        out.push_str(&key);
    } else {
        out.truncate(kept);
    }
    out
}

/// Whether a registered DN names a certificate's subject (`presented`, as [`PeerCert::subject_dn`]
/// writes it): the registered one normalised, compared without regard to ASCII case (the usual
/// attributes match case-insensitively, RFC 4517 caseIgnoreMatch).
pub fn same_dn(registered: &str, presented: &str) -> bool {
    normalize_dn(registered).is_ok_and(|r| r.eq_ignore_ascii_case(presented))
}

/// The certificates a client registered in its JWKS: the first `x5c` entry of each key (the
/// key's own certificate), DER. An `x5c` that is not base64 DER certificates is an error.
pub fn registered_certificates(jwks: Option<&Value>) -> Result<Vec<Vec<u8>>> {
    let keys = jwks.and_then(|j| j.get("keys")).and_then(Value::as_array);
    let mut out = Vec::new();
    for k in keys.into_iter().flatten() {
        let Some(x5c) = k.get("x5c") else { continue };
        let first = x5c.as_array().and_then(|a| a.first()).and_then(Value::as_str);
        let der = first
            .and_then(b64_std_decode)
            .filter(|d| Certificate::from_der(d).is_ok())
            .ok_or_else(|| Error::config("a jwks x5c is not a list of base64 DER certificates"))?;
        out.push(der);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_compare_in_one_spelling() {
        assert_eq!(normalize_dn("cn=svc, O=Example").unwrap(), "CN=svc,O=Example");
        assert!(same_dn("cn=SVC, o=example", "CN=svc,O=Example"));
        assert!(!same_dn("CN=svc,O=Example", "O=Example,CN=svc"));
        assert!(!same_dn("CN=svc", "CN=svc2"));
        assert!(normalize_dn("no equals sign").is_err());
        assert_eq!(
            normalize_dn(" CN = a\\, b\\  , ou=x + 2.5.4.5=7").unwrap(),
            normalize_dn("CN=a\\, b\\ ,OU=x+serialNumber=7").unwrap()
        );
    }
}
