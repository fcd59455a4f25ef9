//! A test PKI for the RFC 8705 tests (rcgen): a CA, the server's certificate (SAN 127.0.0.1) and
//! key as PEM files, client certificates CA-issued or self-signed, the server configuration with
//! one client per authentication method, and an HTTPS client (reqwest over rustls) that trusts the
//! CA and presents a client certificate or none. Included with `#[path]` by the tests that use it.
#![allow(dead_code)]

use super::common::*;
use authsec_server::{ClientSpec, ServerConfig, TlsConfig};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    SanType,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A PEM certificate, its key and its DER.
pub struct Cert {
    pub pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
    pub key: KeyPair,
}

impl Cert {
    pub fn x5t(&self) -> String {
        authsec_core::util::b64url_encode(&Sha256::digest(&self.der))
    }
    /// A JWK of the certificate's P-256 key with the certificate in `x5c`.
    pub fn jwk(&self) -> Value {
        let raw = self.key.public_key_raw();
        assert_eq!((raw.len(), raw[0]), (65, 4), "an uncompressed P-256 point");
        json!({"kty": "EC", "crv": "P-256", "x": authsec_core::util::b64url_encode(&raw[1..33]),
               "y": authsec_core::util::b64url_encode(&raw[33..]),
               "x5c": [authsec_core::util::b64_std_encode(&self.der)]})
    }
}

pub fn params(cn: &str, sans: Vec<SanType>, eku: ExtendedKeyUsagePurpose) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Authsec Test");
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.subject_alt_names = sans;
    p.extended_key_usages = vec![eku];
    p
}

pub struct Ca {
    pub issuer: Issuer<'static, KeyPair>,
    pub pem: String,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut p = params(name, vec![], ExtendedKeyUsagePurpose::Any);
        p.extended_key_usages = vec![];
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = p.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            issuer: Issuer::new(p, key),
        }
    }

    pub fn issue(&self, cn: &str, sans: Vec<SanType>, eku: ExtendedKeyUsagePurpose) -> Cert {
        let key = KeyPair::generate().unwrap();
        let cert = params(cn, sans, eku).signed_by(&key, &self.issuer).unwrap();
        Cert {
            pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
            key,
        }
    }

    pub fn client(&self, cn: &str, sans: Vec<SanType>) -> Cert {
        self.issue(cn, sans, ExtendedKeyUsagePurpose::ClientAuth)
    }
}

pub fn self_signed(cn: &str) -> Cert {
    let key = KeyPair::generate().unwrap();
    let cert = params(cn, vec![], ExtendedKeyUsagePurpose::ClientAuth)
        .self_signed(&key)
        .unwrap();
    Cert {
        pem: cert.pem(),
        key_pem: key.serialize_pem(),
        der: cert.der().to_vec(),
        key,
    }
}

pub fn dns(s: &str) -> SanType {
    SanType::DnsName(s.try_into().unwrap())
}
pub fn uri(s: &str) -> SanType {
    SanType::URI(s.try_into().unwrap())
}

/// The CA, the PEM files the server reads, and the certificates the clients registered.
pub struct Pki {
    pub ca: Ca,
    pub dir: TempDir,
    pub registered_self_signed: Cert,
    pub thumbprint_self_signed: Cert,
}

impl Pki {
    pub fn new() -> Pki {
        let ca = Ca::new("Authsec Test CA");
        let server = ca.issue(
            "127.0.0.1",
            vec![SanType::IpAddress("127.0.0.1".parse().unwrap())],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let dir = TempDir::new("mtls");
        std::fs::write(dir.path("server.pem"), &server.pem).unwrap();
        std::fs::write(dir.path("server.key"), &server.key_pem).unwrap();
        std::fs::write(dir.path("ca.pem"), &ca.pem).unwrap();
        Pki {
            ca,
            dir,
            registered_self_signed: self_signed("self-client"),
            thumbprint_self_signed: self_signed("thumb-client"),
        }
    }

    pub fn tls(&self, with_ca: bool) -> TlsConfig {
        TlsConfig {
            cert_file: self.dir.path("server.pem"),
            key_file: self.dir.path("server.key"),
            client_ca_file: with_ca.then(|| self.dir.path("ca.pem")),
        }
    }

    pub fn config(&self) -> ServerConfig {
        let mtls = |id: &str, method: &str| ClientSpec {
            client_id: Some(id.into()),
            allowed_scopes: vec!["read".into()],
            token_endpoint_auth_method: Some(method.into()),
            ..Default::default()
        };
        ServerConfig {
            tls: Some(self.tls(true)),
            ..config(vec![
                ClientSpec {
                    tls_client_auth_subject_dn: Some("CN=dn-client, O=Authsec Test".into()),
                    tls_client_certificate_bound_access_tokens: true,
                    ..mtls("dn-client", "tls_client_auth")
                },
                ClientSpec {
                    tls_client_auth_san_dns: Some("agent.example.test".into()),
                    ..mtls("dns-client", "tls_client_auth")
                },
                ClientSpec {
                    tls_client_auth_san_uri: Some("spiffe://example.test/agent".into()),
                    ..mtls("uri-client", "tls_client_auth")
                },
                ClientSpec {
                    jwks: Some(json!({"keys": [self.registered_self_signed.jwk()]})),
                    ..mtls("self-client", "self_signed_tls_client_auth")
                },
                ClientSpec {
                    tls_client_certificate_sha256: Some(self.thumbprint_self_signed.x5t()),
                    ..mtls("thumb-client", "self_signed_tls_client_auth")
                },
                ClientSpec {
                    tls_client_certificate_bound_access_tokens: true,
                    ..secret_client("secret-bound", "sb-secret", &["read"])
                },
                secret_client("secret-plain", "sp-secret", &["read"]),
            ])
        }
    }
}

/// An HTTPS client that trusts the test CA and presents `identity`, if any.
pub fn https(pki: &Pki, identity: Option<&Cert>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(pki.ca.pem.as_bytes()).unwrap()]);
    if let Some(c) = identity {
        let pem = format!("{}{}", c.pem, c.key_pem);
        b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    b.build().unwrap()
}

pub async fn post(
    client: &reqwest::Client,
    url: &str,
    pairs: &[(&str, &str)],
    basic: Option<(&str, &str)>,
    dpop: Option<&str>,
) -> Resp {
    let mut req = client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs));
    if let Some((id, secret)) = basic {
        req = req.header("authorization", basic_header(id, secret));
    }
    if let Some(p) = dpop {
        req = req.header("DPoP", p);
    }
    let r = req.send().await.expect("HTTPS request");
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = r.bytes().await.unwrap().to_vec();
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        json,
    }
}

/// A client credentials request by `client_id` alone (mutual TLS authenticates it).
pub async fn mtls_token(ts: &TestServer, client: &reqwest::Client, id: &str) -> Resp {
    post(
        client,
        &ts.server.token_endpoint(),
        &[("grant_type", "client_credentials"), ("client_id", id)],
        None,
        None,
    )
    .await
}

pub fn cnf(r: &Resp) -> Value {
    decode_jwt(r.json["access_token"].as_str().expect("access_token")).1["cnf"].clone()
}
