//! The server's DPoP nonces (RFC 9449 §8 for the authorization server, §9 for a resource), kept
//! without state: a nonce is the time it was issued and an HMAC-SHA256 of that time under the
//! server's key, so any instance holding the key accepts it, nothing is stored, and a nonce's age
//! bounds a proof's age whatever the client's clock says (§11.1). A nonce is accepted for
//! `lifetime`; past half of it a fresh one is offered in `DPoP-Nonce` on the successful response
//! (§8.2), so a busy client never meets a `use_dpop_nonce` refusal after the first.

use crate::secret::constant_time_eq;
use crate::util::{b64url_decode, b64url_encode};
use crate::{Error, Result};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::time::Duration;
use zeroize::Zeroizing;

/// What the MAC covers besides the time, so these MACs never validate anything else keyed alike.
const CONTEXT: &[u8] = b"authsec dpop nonce v1";
/// Bytes of the MAC kept in a nonce (128 bits).
const MAC_BYTES: usize = 16;

/// Issues and checks stateless nonces (see the module documentation).
#[derive(Clone)]
pub struct NonceIssuer {
    key: Zeroizing<Vec<u8>>,
    lifetime: Duration,
}

impl fmt::Debug for NonceIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonceIssuer")
            .field("key", &"***")
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// What [`NonceIssuer::check`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NonceCheck {
    /// Issued by this server within the lifetime.
    Fresh,
    /// Valid, but past half its lifetime: send this new nonce in `DPoP-Nonce` with the answer.
    Renew(String),
    /// Missing, not ours, or too old: answer `use_dpop_nonce` with this new nonce.
    Refused(String),
}

impl NonceIssuer {
    /// An issuer keyed with `key` (at least 32 bytes; instances that share it accept each other's
    /// nonces). Nonces live `lifetime` (at least a second).
    pub fn new(key: &[u8], lifetime: Duration) -> Result<NonceIssuer> {
        if key.len() < 32 {
            return Err(Error::config(format!(
                "the DPoP nonce key has {} bytes; give at least 32 random bytes",
                key.len()
            )));
        }
        if lifetime < Duration::from_secs(1) {
            return Err(Error::config("the DPoP nonce lifetime must be at least 1 s"));
        }
        Ok(NonceIssuer {
            key: Zeroizing::new(key.to_vec()),
            lifetime,
        })
    }

    /// An issuer with a random key, for a single instance.
    pub fn random(lifetime: Duration) -> Result<NonceIssuer> {
        let mut key = Zeroizing::new(vec![0u8; 32]);
        getrandom::fill(&mut key)
            .map_err(|e| Error::internal(format!("the OS random number generator failed: {e}")))?;
        NonceIssuer::new(&key, lifetime)
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    fn mac(&self, issued: u64) -> [u8; MAC_BYTES] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(CONTEXT);
        mac.update(&issued.to_be_bytes());
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; MAC_BYTES];
        out.copy_from_slice(&full[..MAC_BYTES]);
        out
    }

    /// A nonce issued at `now_ms` (base64url, so within RFC 9449's `1*NQCHAR`).
    pub fn issue(&self, now_ms: i64) -> String {
        let issued = now_ms.div_euclid(1000).max(0) as u64;
        let mut bytes = issued.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.mac(issued));
        b64url_encode(&bytes)
    }

    /// Check a proof's `nonce` at `now_ms`.
    pub fn check(&self, nonce: Option<&str>, now_ms: i64) -> NonceCheck {
        let now = now_ms.div_euclid(1000);
        let issued = nonce
            .filter(|n| n.len() <= 64)
            .and_then(b64url_decode)
            .filter(|b| b.len() == 8 + MAC_BYTES)
            .and_then(|b| {
                let issued = u64::from_be_bytes(b[..8].try_into().ok()?);
                constant_time_eq(&b[8..], &self.mac(issued)).then_some(issued as i64)
            });
        let lifetime = self.lifetime.as_secs() as i64;
        match issued {
            // A nonce from the future (another instance's clock ahead) is accepted within 5 s.
            Some(t) if t <= now + 5 && now - t < lifetime => {
                if now - t >= lifetime / 2 {
                    NonceCheck::Renew(self.issue(now_ms))
                } else {
                    NonceCheck::Fresh
                }
            }
            _ => NonceCheck::Refused(self.issue(now_ms)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_700_000_000_000;

    #[test]
    fn nonces_live_their_lifetime_and_renew_past_half() {
        let n = NonceIssuer::new(&[7u8; 32], Duration::from_secs(60)).unwrap();
        let nonce = n.issue(T);
        assert!(nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(n.check(Some(&nonce), T), NonceCheck::Fresh);
        assert_eq!(n.check(Some(&nonce), T + 29_999), NonceCheck::Fresh);
        assert!(matches!(n.check(Some(&nonce), T + 30_000), NonceCheck::Renew(new) if new != nonce));
        assert!(matches!(n.check(Some(&nonce), T + 60_000), NonceCheck::Refused(_)));
        assert!(matches!(n.check(Some(&nonce), T - 6_000), NonceCheck::Refused(_)));
        assert_eq!(n.check(Some(&nonce), T - 5_000), NonceCheck::Fresh);
        // The renewed nonce is itself fresh.
        let NonceCheck::Renew(new) = n.check(Some(&nonce), T + 40_000) else {
            panic!()
        };
        assert_eq!(n.check(Some(&new), T + 40_000), NonceCheck::Fresh);
    }

    #[test]
    fn only_this_keys_nonces_pass() {
        let n = NonceIssuer::new(&[7u8; 32], Duration::from_secs(60)).unwrap();
        let shared = NonceIssuer::new(&[7u8; 32], Duration::from_secs(60)).unwrap();
        let other = NonceIssuer::new(&[8u8; 32], Duration::from_secs(60)).unwrap();
        assert_eq!(shared.check(Some(&n.issue(T)), T), NonceCheck::Fresh);
        assert!(matches!(other.check(Some(&n.issue(T)), T), NonceCheck::Refused(_)));
        let mut tampered = b64url_decode(&n.issue(T)).unwrap();
        tampered[7] ^= 1; // another time, same MAC
        assert!(matches!(
            n.check(Some(&b64url_encode(&tampered)), T),
            NonceCheck::Refused(_)
        ));
        for bad in [None, Some(""), Some("n-1"), Some("%%%"), Some(&*"A".repeat(100))] {
            assert!(matches!(n.check(bad, T), NonceCheck::Refused(_)), "{bad:?}");
        }
        assert!(NonceIssuer::new(&[7u8; 31], Duration::from_secs(60)).is_err());
        assert!(!format!("{n:?}").contains('7'));
        assert_ne!(
            NonceIssuer::random(Duration::from_secs(1)).unwrap().issue(T),
            n.issue(T)
        );
    }
}
