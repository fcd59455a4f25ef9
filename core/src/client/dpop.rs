//! The client side of DPoP (RFC 9449), shared by the token requests and every HTTP integration's
//! resource requests: the proof key, the nonces servers hand out (per origin, from `DPoP-Nonce`
//! on every response, 2xx included: §8.2), and how a server asks for one (a token endpoint's 400
//! `use_dpop_nonce`, §8; a resource's 401 `DPoP error="use_dpop_nonce"`, §9).

use super::unauthorized::parse_challenges;
use crate::dpop::ProofKey;
use crate::http::HttpResponse;
use crate::resource::uri::ResourceUri;
use parking_lot::Mutex;
use std::collections::HashMap;

/// Origins whose nonce is remembered, at most (the least recently given goes first).
pub const MAX_NONCE_ORIGINS: usize = 100;
/// The longest nonce kept.
const MAX_NONCE_CHARS: usize = 512;

/// A DPoP key and the nonces of the servers it talks to.
#[derive(Debug)]
pub struct DpopClient {
    key: ProofKey,
    nonces: Mutex<Nonces>,
}

/// origin -> (nonce, the tick it was given at), and the tick.
type Nonces = (HashMap<String, (String, u64)>, u64);

fn origin(url: &str) -> Option<String> {
    ResourceUri::parse(url).ok().map(|u| u.origin())
}

/// RFC 9449 §8.1: `nonce = 1*NQCHAR`, NQCHAR = %x21 / %x23-5B / %x5D-7E.
fn valid_nonce(n: &str) -> bool {
    !n.is_empty() && n.len() <= MAX_NONCE_CHARS && n.bytes().all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
}

impl DpopClient {
    pub fn new(key: ProofKey) -> DpopClient {
        DpopClient {
            key,
            nonces: Mutex::new((HashMap::new(), 0)),
        }
    }

    pub fn key(&self) -> &ProofKey {
        &self.key
    }

    /// The nonce `url`'s server gave last.
    pub fn nonce_for(&self, url: &str) -> Option<String> {
        let origin = origin(url)?;
        self.nonces.lock().0.get(&origin).map(|(n, _)| n.clone())
    }

    /// Remember the `DPoP-Nonce` of a response from `url`, if it has a valid one. Returns whether
    /// it brought a nonce other than the one remembered.
    pub fn remember_nonce<'a>(&self, url: &str, headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
        let Some(nonce) = headers
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("dpop-nonce"))
            .map(|(_, v)| v.trim())
            .filter(|n| valid_nonce(n))
        else {
            return false;
        };
        let Some(origin) = origin(url) else { return false };
        let mut guard = self.nonces.lock();
        let (map, tick) = &mut *guard;
        *tick += 1;
        let changed = map.get(&origin).is_none_or(|(n, _)| n != nonce);
        if !map.contains_key(&origin) && map.len() >= MAX_NONCE_ORIGINS {
            if let Some(oldest) = map.iter().min_by_key(|(_, (_, t))| *t).map(|(o, _)| o.clone()) {
                map.remove(&oldest);
            }
        }
        map.insert(origin, (nonce.to_string(), *tick));
        changed
    }

    /// A proof for a request (`access_token` for resource requests), with the origin's nonce.
    pub fn proof(&self, method: &str, url: &str, access_token: Option<&str>, now_ms: i64) -> crate::Result<String> {
        let nonce = self.nonce_for(url);
        self.key.proof(method, url, access_token, nonce.as_deref(), now_ms)
    }
}

/// Whether a token endpoint's answer asks for a nonce: 400 with `"error": "use_dpop_nonce"` (§8).
pub fn token_endpoint_wants_nonce(resp: &HttpResponse) -> bool {
    resp.status == 400
        && serde_json::from_slice::<serde_json::Value>(&resp.body)
            .ok()
            .is_some_and(|v| v.get("error").and_then(|e| e.as_str()) == Some("use_dpop_nonce"))
}

/// Whether a resource's `WWW-Authenticate` asks for a nonce: a `DPoP` challenge with
/// `error="use_dpop_nonce"` (§9).
pub fn resource_wants_nonce(www_authenticate: &str) -> bool {
    parse_challenges(www_authenticate)
        .iter()
        .any(|c| c.scheme.eq_ignore_ascii_case("dpop") && c.param("error") == Some("use_dpop_nonce"))
}

#[cfg(all(test, feature = "aws_lc_rs"))]
mod tests {
    use super::*;

    #[test]
    fn nonces_per_origin_bounded() {
        let d = DpopClient::new(ProofKey::generate(None).unwrap());
        assert!(d.remember_nonce("https://AS.example:443/token", [("DPoP-Nonce", "n1")]));
        assert!(!d.remember_nonce("https://as.example/other", [("dpop-nonce", "n1")]));
        assert_eq!(d.nonce_for("https://as.example/x?y").as_deref(), Some("n1"));
        assert_eq!(d.nonce_for("https://rs.example/"), None);
        // Invalid nonces are not kept.
        for bad in ["", "a b", "q\"uote", "back\\slash", &"n".repeat(600)] {
            assert!(!d.remember_nonce("https://rs.example/", [("DPoP-Nonce", bad)]), "{bad}");
        }
        assert!(!d.remember_nonce("https://rs.example/", [("Other", "x")]));
        for i in 0..MAX_NONCE_ORIGINS {
            d.remember_nonce(&format!("https://h{i}.example/"), [("DPoP-Nonce", "n")]);
        }
        assert_eq!(
            d.nonce_for("https://as.example/"),
            None,
            "the oldest origin was dropped"
        );
        assert_eq!(d.nonce_for("https://h99.example/").as_deref(), Some("n"));
    }

    #[test]
    fn how_servers_ask_for_a_nonce() {
        let r = |status, body: &str| HttpResponse::new(status, vec![], body.as_bytes().to_vec());
        assert!(token_endpoint_wants_nonce(&r(400, r#"{"error":"use_dpop_nonce"}"#)));
        assert!(!token_endpoint_wants_nonce(&r(
            400,
            r#"{"error":"invalid_dpop_proof"}"#
        )));
        assert!(!token_endpoint_wants_nonce(&r(401, r#"{"error":"use_dpop_nonce"}"#)));
        assert!(resource_wants_nonce(
            r#"DPoP error="use_dpop_nonce", error_description="x", algs="ES256""#
        ));
        assert!(resource_wants_nonce(
            r#"Bearer realm="a", DPoP algs="ES256", error="use_dpop_nonce""#
        ));
        assert!(!resource_wants_nonce(r#"Bearer error="use_dpop_nonce""#));
        assert!(!resource_wants_nonce(r#"DPoP error="invalid_token""#));
    }
}
