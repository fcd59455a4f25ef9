//! From the Workload API's messages to this module's plain types, with their bounds. An error is
//! the reason, for a message that names the endpoint and the call.

use super::{proto, JwtBundles, JwtSvidEntry, X509Context, X509Svid, MAX_BUNDLES, MAX_CERTS, MAX_SVIDS};
use authsec_core::Secret;
use std::collections::BTreeMap;
use zeroize::Zeroizing;

type Why = String;

pub(super) fn jwt_svids(resp: proto::JwtSvidResponse) -> Result<Vec<JwtSvidEntry>, Why> {
    if resp.svids.is_empty() {
        return Err("no JWT-SVID in the answer".into());
    }
    if resp.svids.len() > MAX_SVIDS {
        return Err(format!(
            "{} JWT-SVIDs (at most {MAX_SVIDS} are accepted)",
            resp.svids.len()
        ));
    }
    resp.svids
        .into_iter()
        .map(|s| {
            spiffe_id(&s.spiffe_id)?;
            let svid = Secret::new(s.svid);
            if svid.expose().split('.').count() != 3 {
                return Err(format!("the JWT-SVID for {} is not a compact JWS", s.spiffe_id));
            }
            Ok(JwtSvidEntry {
                spiffe_id: s.spiffe_id,
                svid,
                hint: s.hint,
            })
        })
        .collect()
}

pub(super) fn jwt_bundles(resp: proto::JwtBundlesResponse) -> Result<JwtBundles, Why> {
    if resp.bundles.len() > MAX_BUNDLES {
        return Err(format!(
            "{} bundles (at most {MAX_BUNDLES} are accepted)",
            resp.bundles.len()
        ));
    }
    let mut bundles = BTreeMap::new();
    for (key, jwks) in resp.bundles {
        let td = trust_domain(&key)?;
        let doc: serde_json::Value =
            serde_json::from_slice(&jwks).map_err(|_| format!("the bundle of {td} is not JSON"))?;
        if !doc.get("keys").is_some_and(|k| k.is_array()) {
            return Err(format!("the bundle of {td} is not a JWKS (no \"keys\" array)"));
        }
        if bundles.insert(td.clone(), jwks).is_some() {
            return Err(format!("two bundles for {td}"));
        }
    }
    Ok(JwtBundles { bundles })
}

pub(super) fn x509_context(resp: proto::X509SvidResponse) -> Result<X509Context, Why> {
    if resp.svids.is_empty() {
        return Err("no X.509-SVID in the answer".into());
    }
    if resp.svids.len() > MAX_SVIDS {
        return Err(format!(
            "{} X.509-SVIDs (at most {MAX_SVIDS} are accepted)",
            resp.svids.len()
        ));
    }
    if resp.federated_bundles.len() > MAX_BUNDLES {
        return Err(format!(
            "{} federated bundles (at most {MAX_BUNDLES} are accepted)",
            resp.federated_bundles.len()
        ));
    }
    let mut svids = Vec::with_capacity(resp.svids.len());
    for mut s in resp.svids {
        // The key first, so that it is zeroized whatever happens next.
        let key = Zeroizing::new(std::mem::take(&mut s.x509_svid_key));
        spiffe_id(&s.spiffe_id)?;
        let id = &s.spiffe_id;
        let chain = split_der(&s.x509_svid).map_err(|w| format!("the certificate chain of {id}: {w}"))?;
        if chain.is_empty() {
            return Err(format!("no certificate for {id}"));
        }
        if key.is_empty() {
            return Err(format!("no private key for {id}"));
        }
        let bundle = split_der(&s.bundle).map_err(|w| format!("the bundle of {id}: {w}"))?;
        if bundle.is_empty() {
            return Err(format!("no bundle for {id}"));
        }
        svids.push(X509Svid {
            spiffe_id: s.spiffe_id,
            cert_chain_der: chain,
            private_key_pkcs8_der: key,
            bundle_der: bundle,
            hint: s.hint,
        });
    }
    let mut federated_bundles = BTreeMap::new();
    for (key, der) in resp.federated_bundles {
        let td = trust_domain(&key)?;
        split_der(&der).map_err(|w| format!("the federated bundle of {td}: {w}"))?;
        if federated_bundles.insert(td.clone(), der).is_some() {
            return Err(format!("two federated bundles for {td}"));
        }
    }
    Ok(X509Context {
        svids,
        federated_bundles,
    })
}

/// A trust domain name from a bundle's key: `spiffe://example.org` (as SPIRE sends it) or
/// `example.org`.
pub(super) fn trust_domain(key: &str) -> Result<String, Why> {
    let name = key.strip_prefix("spiffe://").unwrap_or(key);
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(name.to_string())
    } else {
        Err(format!(
            "\"{}\" is not a trust domain",
            authsec_core::util::truncate(key)
        ))
    }
}

/// A SPIFFE ID's shape: `spiffe://` and a trust domain, then an optional path.
fn spiffe_id(id: &str) -> Result<(), Why> {
    let bad = || format!("\"{}\" is not a SPIFFE ID", authsec_core::util::truncate(id));
    let rest = id.strip_prefix("spiffe://").ok_or_else(bad)?;
    let td = rest.split('/').next().unwrap_or_default();
    trust_domain(td).map_err(|_| bad())?;
    if id.len() > 2048 || id.chars().any(|c| c.is_control() || c == '?' || c == '#') {
        return Err(bad());
    }
    Ok(())
}

/// Split concatenated DER values (certificates) at their outer SEQUENCE boundaries.
pub(crate) fn split_der(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, Why> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if out.len() >= MAX_CERTS {
            return Err(format!("more than {MAX_CERTS} certificates"));
        }
        if bytes[0] != 0x30 || bytes.len() < 2 {
            return Err("not DER certificates".into());
        }
        let (len, header) = match bytes[1] {
            n if n < 0x80 => (n as usize, 2),
            0x81..=0x84 => {
                let k = (bytes[1] & 0x7f) as usize;
                if bytes.len() < 2 + k {
                    return Err("a truncated DER length".into());
                }
                let len = bytes[2..2 + k].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
                (len, 2 + k)
            }
            _ => return Err("an unsupported DER length".into()),
        };
        let end = header
            .checked_add(len)
            .filter(|e| *e <= bytes.len())
            .ok_or_else(|| "a truncated DER value".to_string())?;
        out.push(bytes[..end].to_vec());
        bytes = &bytes[end..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_der_and_refuses_garbage() {
        let a = [0x30, 0x03, 1, 2, 3];
        let mut b = vec![0x30, 0x81, 0x80];
        b.extend(std::iter::repeat_n(7u8, 0x80));
        let joined: Vec<u8> = a.iter().chain(b.iter()).copied().collect();
        assert_eq!(split_der(&joined).unwrap(), vec![a.to_vec(), b.clone()]);
        assert!(split_der(&[0x30, 0x05, 1]).is_err());
        assert!(split_der(&[0x04, 0x00]).is_err());
        assert!(split_der(&[0x30]).is_err());
        assert!(split_der(&[0x30, 0x85, 0, 0, 0, 0, 1]).is_err());
        assert_eq!(split_der(&[]).unwrap(), Vec::<Vec<u8>>::new());
    }

    #[test]
    fn trust_domains_and_ids() {
        assert_eq!(trust_domain("spiffe://example.org").unwrap(), "example.org");
        assert_eq!(trust_domain("example.org").unwrap(), "example.org");
        assert!(trust_domain("spiffe://Example.org").is_err());
        assert!(trust_domain("").is_err());
        assert!(spiffe_id("spiffe://example.org/workload").is_ok());
        assert!(spiffe_id("https://example.org/workload").is_err());
        assert!(spiffe_id("spiffe:///workload").is_err());
    }
}
