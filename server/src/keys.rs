//! The signing key ring, with rotation: a new key is published in the JWKS before (or when) it
//! starts signing, and a retired key stays published until every token it signed has expired.

use crate::store::{Store, StoredKey};
use authsec_core::{Alg, Error, KeySet, Result, SigningKey};
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Clone)]
pub struct KeyEntry {
    pub key: Arc<SigningKey>,
    pub created_at: i64,
    /// Signs tokens from this instant (Unix seconds).
    pub active_from: i64,
    /// Stopped signing at this instant.
    pub retired_at: Option<i64>,
    /// Unpublished from the JWKS after this instant.
    pub remove_after: Option<i64>,
}

impl KeyEntry {
    fn stored(&self) -> StoredKey {
        StoredKey {
            kid: self.key.kid().to_string(),
            alg: self.key.alg().as_str().to_string(),
            pem: self.key.to_pem().expose().to_string(),
            created_at: self.created_at,
            active_from: self.active_from,
            retired_at: self.retired_at,
            remove_after: self.remove_after,
        }
    }
    fn status(&self, now: i64) -> &'static str {
        match (self.retired_at, self.remove_after) {
            (_, Some(r)) if now >= r => "removed",
            (Some(t), _) if now >= t => "retired",
            _ if now < self.active_from => "published",
            _ => "active",
        }
    }
}

pub struct KeyRing {
    entries: Vec<KeyEntry>,
    /// Published key set, rebuilt on every change (the verifier side of introspection uses it).
    keyset: Arc<KeySet>,
    jwks: Value,
}

impl KeyRing {
    /// Load the ring from the store; create a first key when there is none.
    pub fn load(store: &Store, alg: Alg, max_token_lifetime: i64, now: i64) -> Result<KeyRing> {
        let mut entries = Vec::new();
        for k in store.load_keys()? {
            let alg = Alg::parse(&k.alg)?;
            let key = SigningKey::from_pem(&k.pem, Some(alg), Some(k.kid.clone()))?;
            entries.push(KeyEntry {
                key: Arc::new(key),
                created_at: k.created_at,
                active_from: k.active_from,
                retired_at: k.retired_at,
                remove_after: k.remove_after,
            });
        }
        let mut ring = KeyRing {
            entries,
            keyset: Arc::new(KeySet::default()),
            jwks: json!({"keys": []}),
        };
        // The configured algorithm changed since the keys were stored: rotate to it now.
        if let Some(current) = ring.signing_entry(now).map(|e| e.key.alg()) {
            if current != alg {
                ring.rebuild(now)?;
                ring.rotate(store, alg, 0, max_token_lifetime, now)?;
            }
        }
        if ring.signing_entry(now).is_none() {
            let e = KeyEntry {
                key: Arc::new(SigningKey::generate(alg, None)?),
                created_at: now,
                active_from: now,
                retired_at: None,
                remove_after: None,
            };
            store.put_key(&e.stored())?;
            ring.entries.push(e);
        }
        ring.rebuild(now)?;
        Ok(ring)
    }

    fn signing_entry(&self, now: i64) -> Option<&KeyEntry> {
        self.entries
            .iter()
            .filter(|e| e.active_from <= now && e.retired_at.is_none_or(|t| now < t))
            .max_by_key(|e| (e.active_from, e.created_at))
    }

    /// The key that signs tokens now.
    pub fn signing_key(&self, now: i64) -> Result<Arc<SigningKey>> {
        self.signing_entry(now)
            .map(|e| e.key.clone())
            .ok_or_else(|| Error::internal("no active signing key"))
    }

    fn rebuild(&mut self, now: i64) -> Result<()> {
        let keys: Vec<Value> = self
            .entries
            .iter()
            .filter(|e| e.remove_after.is_none_or(|r| now < r))
            .map(|e| e.key.public_jwk())
            .collect();
        self.jwks = json!({ "keys": keys });
        self.keyset = Arc::new(KeySet::from_jwks_value(&self.jwks)?);
        Ok(())
    }

    /// The published JWKS, dropping keys past their removal time.
    pub fn jwks(&mut self, store: &Store, now: i64) -> Result<Value> {
        self.expire(store, now)?;
        Ok(self.jwks.clone())
    }

    pub fn keyset(&mut self, store: &Store, now: i64) -> Result<Arc<KeySet>> {
        self.expire(store, now)?;
        Ok(self.keyset.clone())
    }

    fn expire(&mut self, store: &Store, now: i64) -> Result<()> {
        let before = self.entries.len();
        let (gone, keep): (Vec<KeyEntry>, Vec<KeyEntry>) = self
            .entries
            .drain(..)
            .partition(|e| e.remove_after.is_some_and(|r| now >= r));
        self.entries = keep;
        for g in &gone {
            store.delete_key(g.key.kid())?;
        }
        if self.entries.len() != before {
            self.rebuild(now)?;
        }
        Ok(())
    }

    /// Rotate: publish a new key now; it signs from `now + activate_in`. The current key retires
    /// then, and stays published until `max_token_lifetime` (plus a minute of leeway) later.
    pub fn rotate(
        &mut self,
        store: &Store,
        alg: Alg,
        activate_in: i64,
        max_token_lifetime: i64,
        now: i64,
    ) -> Result<Value> {
        let new = KeyEntry {
            key: Arc::new(SigningKey::generate(alg, None)?),
            created_at: now,
            active_from: now + activate_in.max(0),
            retired_at: None,
            remove_after: None,
        };
        let switch = new.active_from;
        for e in self.entries.iter_mut().filter(|e| e.retired_at.is_none()) {
            e.retired_at = Some(switch.max(e.active_from));
            e.remove_after = Some(switch + max_token_lifetime + 60);
            store.put_key(&e.stored())?;
        }
        store.put_key(&new.stored())?;
        let kid = new.key.kid().to_string();
        self.entries.push(new);
        self.rebuild(now)?;
        Ok(json!({"kid": kid, "alg": alg.as_str(), "active_from": switch, "keys": self.describe(now)}))
    }

    /// Algorithms of the published keys.
    pub fn published_algs(&self) -> Vec<&'static str> {
        let mut algs: Vec<&'static str> = self
            .keyset
            .keys()
            .iter()
            .filter_map(|k| k.alg.map(|a| a.as_str()))
            .collect();
        algs.sort_unstable();
        algs.dedup();
        algs
    }

    pub fn describe(&self, now: i64) -> Vec<Value> {
        self.entries
            .iter()
            .map(|e| {
                json!({"kid": e.key.kid(), "alg": e.key.alg().as_str(), "status": e.status(now), "created_at": e.created_at,
                       "active_from": e.active_from, "retired_at": e.retired_at, "remove_after": e.remove_after})
            })
            .collect()
    }
}
