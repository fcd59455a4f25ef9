//! Secrets from files, read again after a refusal: when the client's secret or key came from a
//! file (`client_secret_file`, `private_key_file`, or the `AUTHSEC_*_FILE` variables) and the
//! token endpoint answers `invalid_client`, the file is read again through the injected
//! [`FileReader`]; if its content changed (the secret was rotated and the file rewritten), the
//! client authentication is rebuilt and the request sent once more. Never more than once per
//! request, and a secret read from a file never appears in an error.

use super::client_auth::{self, ClientAuth};
use super::config::{AuthMethod, ClientConfig};
use super::request::TokenRequestParts;
use crate::config::FileReader;
use crate::runtime::BoxFut;
use crate::secret::constant_time_eq;
use crate::{Result, Secret};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Which credential a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    Secret,
    Key,
}

/// A [`ClientAuth`] over the configuration's, rebuilt when its file changes.
pub struct FileBackedAuth {
    /// The configuration as last read (its secret or key the file's content then).
    cfg: Mutex<ClientConfig>,
    path: String,
    held: Held,
    reader: Arc<dyn FileReader>,
    current: Mutex<Arc<dyn ClientAuth>>,
    /// Bumped at every rebuild: a request refused under an older generation is retried with the
    /// newer credentials without reading the file again.
    generation: AtomicU64,
}

impl std::fmt::Debug for FileBackedAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileBackedAuth")
            .field("method", &self.method_name())
            .field("file", &self.path)
            .finish_non_exhaustive()
    }
}

impl FileBackedAuth {
    /// For a configuration whose secret (`client_secret_basic`/`_post`) or key (`private_key_jwt`)
    /// came from a file; `None` otherwise.
    pub fn new(cfg: &ClientConfig, reader: Arc<dyn FileReader>) -> Result<Option<FileBackedAuth>> {
        let (path, held) = match cfg.auth_method {
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => match &cfg.client_secret_file {
                Some(p) => (p.clone(), Held::Secret),
                None => return Ok(None),
            },
            AuthMethod::PrivateKeyJwt => match &cfg.private_key_file {
                Some(p) => (p.clone(), Held::Key),
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        Ok(Some(FileBackedAuth {
            current: Mutex::new(client_auth::from_config(cfg)?),
            cfg: Mutex::new(cfg.clone()),
            path,
            held,
            reader,
            generation: AtomicU64::new(0),
        }))
    }

    fn method_name(&self) -> &'static str {
        self.cfg.lock().auth_method.as_str()
    }

    /// How many times the credentials were rebuilt.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The client secret now in use (to scrub from server text), if the file holds one.
    pub fn current_secret(&self) -> Option<Secret> {
        match self.held {
            Held::Secret => self.cfg.lock().client_secret.clone(),
            Held::Key => None,
        }
    }

    /// After `invalid_client` for a request sent under `sent_generation`: whether to send it once
    /// more. True when the credentials were rebuilt since, or when the file now holds something
    /// else (then they are rebuilt from it). False when the file is unchanged, cannot be read, or
    /// holds a key that cannot be used: the refusal stands.
    pub fn reread(&self, sent_generation: u64) -> bool {
        let mut cfg = self.cfg.lock();
        if self.generation() != sent_generation {
            return true;
        }
        let Ok(text) = self.reader.read_file(&self.path) else {
            return false;
        };
        let text = text.trim_end_matches(['\n', '\r']);
        let held = match self.held {
            Held::Secret => &cfg.client_secret,
            Held::Key => &cfg.private_key,
        };
        if text.is_empty()
            || held
                .as_ref()
                .is_some_and(|h| constant_time_eq(h.expose().as_bytes(), text.as_bytes()))
        {
            return false;
        }
        let mut next = cfg.clone();
        match self.held {
            Held::Secret => next.client_secret = Some(Secret::new(text)),
            Held::Key => next.private_key = Some(Secret::new(text)),
        }
        let Ok(auth) = client_auth::from_config(&next) else {
            return false;
        };
        *self.current.lock() = auth;
        *cfg = next;
        self.generation.fetch_add(1, Ordering::SeqCst);
        true
    }
}

impl ClientAuth for FileBackedAuth {
    fn method(&self) -> &str {
        self.method_name()
    }
    fn prepare(&self, now_ms: i64) -> BoxFut<'_, Result<()>> {
        let current = self.current.lock().clone();
        Box::pin(async move { current.prepare(now_ms).await })
    }
    fn authenticate(&self, parts: &mut TokenRequestParts, now_ms: i64) -> Result<()> {
        let current = self.current.lock().clone();
        current.authenticate(parts, now_ms)
    }
}
