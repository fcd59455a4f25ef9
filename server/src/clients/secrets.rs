//! Client secrets: salted SHA-256 hashes (compared in constant time), each with an id
//! (`sid_...`) so that rotation, revocation and the audit log can name it without showing it.

use super::Client;
use authsec_core::random::random_id;
use authsec_core::secret::constant_time_eq;
use authsec_core::util::{b64url_decode, b64url_encode};
use authsec_core::Result;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A salted SHA-256 of a client secret. Secrets generated here are 256-bit random values, for
/// which a fast hash is sound; the server never stores or logs a plain secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SecretHash {
    /// `sid_` + 12 base64url characters. Records stored before ids existed get one on load.
    #[serde(default)]
    pub id: String,
    pub salt: String,
    pub hash: String,
    pub created_at: i64,
    /// After a rotation, the old secret keeps working until this instant (Unix seconds).
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// A new secret id.
pub fn new_secret_id() -> Result<String> {
    Ok(format!("sid_{}", random_id(9)?))
}

/// A new random client secret (256 bits).
pub fn new_secret() -> Result<String> {
    Ok(format!("sec_{}", random_id(32)?))
}

impl SecretHash {
    pub fn new(secret: &str, now: i64) -> Result<SecretHash> {
        let salt = random_id(16)?;
        Ok(SecretHash {
            id: new_secret_id()?,
            hash: digest(&salt, secret),
            salt,
            created_at: now,
            expires_at: None,
        })
    }

    /// Whether this secret may still be used at `now`.
    pub fn usable(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|t| now < t)
    }

    pub fn matches(&self, secret: &str, now: i64) -> bool {
        if !self.usable(now) {
            return false;
        }
        let given = digest(&self.salt, secret);
        match (b64url_decode(&given), b64url_decode(&self.hash)) {
            (Some(a), Some(b)) => constant_time_eq(&a, &b),
            _ => false,
        }
    }
}

fn digest(salt: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0u8]);
    h.update(secret.as_bytes());
    b64url_encode(&h.finalize())
}

impl Client {
    pub fn secret_matches(&self, secret: &str, now: i64) -> bool {
        self.matching_secret(secret, now).is_some()
    }

    /// The secret `secret` is, when it is one of this client's usable secrets. Every stored
    /// hash is checked (no early exit) so that timing does not reveal which one matched.
    pub fn matching_secret(&self, secret: &str, now: i64) -> Option<&SecretHash> {
        self.secrets
            .iter()
            .fold(None, |found, h| if h.matches(secret, now) { Some(h) } else { found })
    }

    /// Give every secret stored without an id one; `true` when something changed.
    pub fn assign_secret_ids(&mut self) -> Result<bool> {
        let mut changed = false;
        for s in self.secrets.iter_mut().filter(|s| s.id.is_empty()) {
            s.id = new_secret_id()?;
            changed = true;
        }
        Ok(changed)
    }

    /// Whether the client authenticates with a secret and nothing else: losing its last usable
    /// secret would lock it out.
    pub fn needs_a_secret(&self) -> bool {
        match self.token_endpoint_auth_method.as_deref() {
            Some("client_secret_basic" | "client_secret_post") => true,
            Some(_) => false,
            None => self.jwks.is_none() && self.jwks_uri.is_none() && self.spiffe_id.is_none(),
        }
    }

    /// Whether the client may hold a secret at all (rotation adds one).
    pub fn may_hold_a_secret(&self) -> bool {
        match self.token_endpoint_auth_method.as_deref() {
            None | Some("client_secret_basic" | "client_secret_post") => !self.is_public(),
            Some(_) => false,
        }
    }

    /// Rotate: a new secret; every other secret still usable keeps working for `overlap`
    /// seconds (or less, when it was to expire sooner); expired ones are dropped. Returns the
    /// new secret and its id.
    pub fn rotate_secret(&mut self, overlap: i64, now: i64) -> Result<(String, String)> {
        let secret = new_secret()?;
        self.secrets.retain(|s| s.usable(now));
        for s in self.secrets.iter_mut() {
            s.expires_at = Some(s.expires_at.unwrap_or(i64::MAX).min(now + overlap));
        }
        let h = SecretHash::new(&secret, now)?;
        let id = h.id.clone();
        self.secrets.push(h);
        Ok((secret, id))
    }
}
