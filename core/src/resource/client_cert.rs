//! The client certificate of a request, for certificate-bound tokens (RFC 8705 §3): its
//! `x5t#S256` thumbprint (base64url SHA-256 of the DER), taken from the TLS connection or, behind a
//! proxy that terminates TLS, from the header that proxy sets. A header is believed only when
//! configured (and only from `trusted_proxies` when listed, [`super::origin::OriginPolicy::peer_trusted`]): a client
//! can send any header, so the proxy must overwrite it.
//!
//! Header formats:
//! - [`CertHeaderFormat::Xfcc`]: Envoy/Istio `x-forwarded-client-cert`, `Hash=<hex SHA-256 of
//!   the DER>` or `Cert="<url-encoded PEM>"` of the first (client-facing) element;
//! - [`CertHeaderFormat::Rfc9440`]: `Client-Cert: :<base64 DER>:` (RFC 9440);
//! - [`CertHeaderFormat::Pem`]: a PEM certificate, URL-encoded or not (nginx
//!   `$ssl_client_escaped_cert`, AWS ALB `X-Amzn-Mtls-Clientcert`, Traefik), or bare base64 DER.

use crate::util::{b64_std_decode, b64url_encode, quoted};
use crate::{Error, Result};

/// How a proxy header carries the certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertHeaderFormat {
    Xfcc,
    Rfc9440,
    Pem,
}

/// Where the client certificate comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CertSource {
    /// The TLS connection ([`super::request::RequestParts::client_certificate`]).
    #[default]
    Tls,
    /// A header a trusted proxy sets.
    Header { name: String, format: CertHeaderFormat },
}

impl CertSource {
    /// A header source; the format is named (`xfcc`, `rfc9440`, `pem`) or, when `None`, follows from
    /// the header's name (`x-forwarded-client-cert`: xfcc, `client-cert`: rfc9440, else pem).
    pub fn header(name: &str, format: Option<&str>) -> Result<CertSource> {
        let format = match format.map(str::to_ascii_lowercase).as_deref() {
            Some("xfcc") => CertHeaderFormat::Xfcc,
            Some("rfc9440") => CertHeaderFormat::Rfc9440,
            Some("pem") => CertHeaderFormat::Pem,
            Some(other) => {
                return Err(Error::config(format!(
                    "client certificate header format {} is not one of xfcc, rfc9440, pem",
                    quoted(other)
                )))
            }
            None if name.eq_ignore_ascii_case("x-forwarded-client-cert") => CertHeaderFormat::Xfcc,
            None if name.eq_ignore_ascii_case("client-cert") => CertHeaderFormat::Rfc9440,
            None => CertHeaderFormat::Pem,
        };
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Error::config(format!("{} is not a header name", quoted(name))));
        }
        Ok(CertSource::Header {
            name: name.to_string(),
            format,
        })
    }
}

/// `x5t#S256` of a DER certificate.
pub fn cert_thumbprint(der: &[u8]) -> String {
    use sha2::Digest;
    b64url_encode(&sha2::Sha256::digest(der))
}

/// The DER of the first `CERTIFICATE` block of a PEM text, or of bare base64.
pub fn pem_to_der(text: &str) -> Option<Vec<u8>> {
    let body = match text.find("-----BEGIN CERTIFICATE-----") {
        Some(start) => {
            let rest = &text[start + "-----BEGIN CERTIFICATE-----".len()..];
            &rest[..rest.find("-----END CERTIFICATE-----")?]
        }
        None => text,
    };
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    b64_std_decode(&b64).filter(|d| !d.is_empty())
}

/// Percent-decoding (`+` kept: ALB and nginx leave it literal in base64).
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The thumbprint carried by a proxy header value; `None` when it carries none it can read.
pub fn header_thumbprint(value: &str, format: CertHeaderFormat) -> Option<String> {
    match format {
        CertHeaderFormat::Rfc9440 => {
            let inner = value.trim().strip_prefix(':')?.strip_suffix(':')?;
            b64_std_decode(inner)
                .filter(|d| !d.is_empty())
                .map(|d| cert_thumbprint(&d))
        }
        CertHeaderFormat::Pem => {
            let v = value.trim();
            let text = if v.contains('%') {
                percent_decode(v)?
            } else {
                v.to_string()
            };
            pem_to_der(&text).map(|d| cert_thumbprint(&d))
        }
        CertHeaderFormat::Xfcc => {
            let element = first_xfcc_element(value);
            let mut cert = None;
            for (k, v) in xfcc_pairs(element) {
                if k.eq_ignore_ascii_case("hash") {
                    let digest = hex_decode(&v).filter(|d| d.len() == 32)?;
                    return Some(b64url_encode(&digest));
                }
                if k.eq_ignore_ascii_case("cert") {
                    cert = Some(v);
                }
            }
            pem_to_der(&percent_decode(&cert?)?).map(|d| cert_thumbprint(&d))
        }
    }
}

/// The XFCC text up to the first comma outside quotes (one element per proxy hop).
fn first_xfcc_element(value: &str) -> &str {
    let mut quoted = false;
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => return &value[..i],
            _ => {}
        }
    }
    value
}

/// `key=value` pairs split on `;` outside quotes, quotes removed.
fn xfcc_pairs(element: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    let mut push = |part: &str| {
        if let Some((k, v)) = part.split_once('=') {
            pairs.push((k.trim().to_string(), v.trim().trim_matches('"').to_string()));
        }
    };
    for (i, c) in element.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                push(&element[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    push(&element[start..]);
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    // Not a real certificate: the thumbprint is of whatever DER bytes arrive.
    const DER: &[u8] = b"\x30\x82\x01\x0a some der bytes";

    fn pem() -> String {
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            crate::util::b64_std_encode(DER)
        )
    }

    fn url_encode(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    #[test]
    fn every_header_form_gives_the_thumbprint() {
        use sha2::Digest;
        let want = cert_thumbprint(DER);
        let hex: String = sha2::Sha256::digest(DER).iter().map(|b| format!("{b:02x}")).collect();
        let b64 = crate::util::b64_std_encode(DER);
        for (value, format) in [
            (format!(":{b64}:"), CertHeaderFormat::Rfc9440),
            (pem(), CertHeaderFormat::Pem),
            (url_encode(&pem()), CertHeaderFormat::Pem),
            (b64.clone(), CertHeaderFormat::Pem),
            (
                format!("By=spiffe://a/b;Hash={hex};Subject=\"CN=x, O=y\";URI=spiffe://c/d"),
                CertHeaderFormat::Xfcc,
            ),
            (
                format!("By=x;Cert=\"{}\";Subject=\"\"", url_encode(&pem())),
                CertHeaderFormat::Xfcc,
            ),
            (format!("Hash={hex},By=other;Hash=00"), CertHeaderFormat::Xfcc),
        ] {
            assert_eq!(
                header_thumbprint(&value, format).as_deref(),
                Some(want.as_str()),
                "{value}"
            );
        }
        for (value, format) in [
            ("", CertHeaderFormat::Rfc9440),
            (":!!:", CertHeaderFormat::Rfc9440),
            (&*b64, CertHeaderFormat::Rfc9440),
            ("By=x;Hash=zz", CertHeaderFormat::Xfcc),
            ("By=x;Hash=abcd", CertHeaderFormat::Xfcc),
            ("By=x", CertHeaderFormat::Xfcc),
            ("%zz", CertHeaderFormat::Pem),
            ("-----BEGIN CERTIFICATE-----\nAAAA", CertHeaderFormat::Pem),
        ] {
            assert_eq!(header_thumbprint(value, format), None, "{value}");
        }
    }

    #[test]
    fn sources_from_configuration() {
        assert_eq!(
            CertSource::header("X-Forwarded-Client-Cert", None).unwrap(),
            CertSource::Header {
                name: "X-Forwarded-Client-Cert".into(),
                format: CertHeaderFormat::Xfcc
            }
        );
        assert!(matches!(
            CertSource::header("Client-Cert", None).unwrap(),
            CertSource::Header {
                format: CertHeaderFormat::Rfc9440,
                ..
            }
        ));
        assert!(matches!(
            CertSource::header("x-amzn-mtls-clientcert", None).unwrap(),
            CertSource::Header {
                format: CertHeaderFormat::Pem,
                ..
            }
        ));
        assert!(matches!(
            CertSource::header("ssl-client-cert", Some("XFCC")).unwrap(),
            CertSource::Header {
                format: CertHeaderFormat::Xfcc,
                ..
            }
        ));
        assert!(CertSource::header("a b", None).is_err());
        assert!(CertSource::header("x", Some("der")).is_err());
    }
}
