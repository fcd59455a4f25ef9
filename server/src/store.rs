//! Persistence in an embedded SQLite file (or in memory): clients (with secret hashes), roles,
//! the scope registry, signing keys, revocations, token exchanges (which token each exchanged
//! token came from, for revocation to cascade), used assertion ids and the audit log survive a
//! restart.

use crate::clients::Client;
use crate::roles::Role;
use authsec_core::{Error, Result};
use parking_lot::Mutex;
use rusqlite::{params, Connection, OptionalExtension};

fn db_err(e: rusqlite::Error) -> Error {
    Error::internal(format!("database error: {e}"))
}

/// A signing key as stored.
#[derive(Clone, Debug)]
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    pub pem: String,
    pub created_at: i64,
    pub active_from: i64,
    pub retired_at: Option<i64>,
    pub remove_after: Option<i64>,
}

pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Open (and create) the database; `None` or `:memory:` for an in-memory store.
    pub fn open(path: Option<&str>) -> Result<Store> {
        let conn = match path {
            None | Some(":memory:") | Some("") => Connection::open_in_memory(),
            Some(p) => Connection::open(p),
        }
        .map_err(|e| Error::config(format!("cannot open the database: {e}")))?;
        #[cfg(unix)]
        if let Some(p) = path.filter(|p| !p.is_empty() && *p != ":memory:") {
            use std::os::unix::fs::PermissionsExt;
            // The file holds private signing keys.
            let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600));
        }
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA busy_timeout=5000;
             CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, data TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS signing_keys (kid TEXT PRIMARY KEY, alg TEXT NOT NULL, pem TEXT NOT NULL,
                 created_at INTEGER NOT NULL, active_from INTEGER NOT NULL, retired_at INTEGER, remove_after INTEGER);
             CREATE TABLE IF NOT EXISTS revoked (jti TEXT PRIMARY KEY, exp INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS used_assertions (jti TEXT PRIMARY KEY, exp INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS roles (name TEXT PRIMARY KEY, data TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS exchanges (jti TEXT PRIMARY KEY, parent_jti TEXT NOT NULL, exp INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS scopes (name TEXT PRIMARY KEY, description TEXT NOT NULL, created_at INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL,
                 event TEXT NOT NULL, outcome TEXT NOT NULL, client_id TEXT, data TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS audit_log_ts ON audit_log (ts);
             CREATE INDEX IF NOT EXISTS audit_log_event ON audit_log (event, id);
             CREATE INDEX IF NOT EXISTS audit_log_outcome ON audit_log (outcome, id);
             CREATE INDEX IF NOT EXISTS audit_log_client ON audit_log (client_id, id);",
        )
        .map_err(db_err)?;
        Ok(Store { conn: Mutex::new(conn) })
    }

    pub fn load_clients(&self) -> Result<Vec<Client>> {
        let conn = self.conn.lock();
        let mut stmt = conn
            .prepare("SELECT data FROM clients ORDER BY client_id")
            .map_err(db_err)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(db_err)?;
        let mut out = Vec::new();
        for r in rows {
            let data = r.map_err(db_err)?;
            out.push(serde_json::from_str(&data).map_err(|e| Error::internal(format!("corrupt client record: {e}")))?);
        }
        Ok(out)
    }

    /// Every client, with ids given (and saved) to secrets stored before secrets had ids.
    pub fn load_clients_with_secret_ids(&self) -> Result<Vec<Client>> {
        let mut clients = self.load_clients()?;
        for c in &mut clients {
            if c.assign_secret_ids()? {
                self.put_client(c)?;
            }
        }
        Ok(clients)
    }

    pub fn put_client(&self, c: &Client) -> Result<()> {
        let data = serde_json::to_string(c).map_err(|e| Error::internal(e.to_string()))?;
        self.conn
            .lock()
            .execute("INSERT INTO clients (client_id, data) VALUES (?1, ?2) ON CONFLICT(client_id) DO UPDATE SET data = excluded.data", params![c.client_id, data])
            .map_err(db_err)?;
        Ok(())
    }

    pub fn delete_client(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn
            .lock()
            .execute("DELETE FROM clients WHERE client_id = ?1", params![id])
            .map_err(db_err)?
            > 0)
    }

    pub fn load_roles(&self) -> Result<Vec<Role>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare("SELECT data FROM roles ORDER BY name").map_err(db_err)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(db_err)?;
        let mut out = Vec::new();
        for r in rows {
            let data = r.map_err(db_err)?;
            out.push(serde_json::from_str(&data).map_err(|e| Error::internal(format!("corrupt role record: {e}")))?);
        }
        Ok(out)
    }

    pub fn put_role(&self, r: &Role) -> Result<()> {
        let data = serde_json::to_string(r).map_err(|e| Error::internal(e.to_string()))?;
        self.conn
            .lock()
            .execute(
                "INSERT INTO roles (name, data) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET data = excluded.data",
                params![r.name, data],
            )
            .map_err(db_err)?;
        Ok(())
    }

    pub fn delete_role(&self, name: &str) -> Result<bool> {
        Ok(self
            .conn
            .lock()
            .execute("DELETE FROM roles WHERE name = ?1", params![name])
            .map_err(db_err)?
            > 0)
    }

    /// Record that token `jti` (expiring at `exp`) was issued in exchange for `parent_jti`.
    pub fn record_exchange(&self, jti: &str, parent_jti: &str, exp: i64) -> Result<()> {
        self.conn
            .lock()
            .execute(
                "INSERT OR IGNORE INTO exchanges (jti, parent_jti, exp) VALUES (?1, ?2, ?3)",
                params![jti, parent_jti, exp],
            )
            .map_err(db_err)?;
        Ok(())
    }

    /// The token that `jti` was exchanged from, if it came from an exchange.
    pub fn exchanged_from(&self, jti: &str) -> Result<Option<String>> {
        self.conn
            .lock()
            .query_row("SELECT parent_jti FROM exchanges WHERE jti = ?1", params![jti], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db_err)
    }

    pub fn load_keys(&self) -> Result<Vec<StoredKey>> {
        let conn = self.conn.lock();
        let mut stmt = conn
            .prepare("SELECT kid, alg, pem, created_at, active_from, retired_at, remove_after FROM signing_keys ORDER BY active_from, created_at")
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(StoredKey {
                    kid: r.get(0)?,
                    alg: r.get(1)?,
                    pem: r.get(2)?,
                    created_at: r.get(3)?,
                    active_from: r.get(4)?,
                    retired_at: r.get(5)?,
                    remove_after: r.get(6)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
    }

    pub fn put_key(&self, k: &StoredKey) -> Result<()> {
        self.conn
            .lock()
            .execute(
                "INSERT INTO signing_keys (kid, alg, pem, created_at, active_from, retired_at, remove_after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(kid) DO UPDATE SET active_from = excluded.active_from, retired_at = excluded.retired_at, remove_after = excluded.remove_after",
                params![k.kid, k.alg, k.pem, k.created_at, k.active_from, k.retired_at, k.remove_after],
            )
            .map_err(db_err)?;
        Ok(())
    }

    pub fn delete_key(&self, kid: &str) -> Result<()> {
        self.conn
            .lock()
            .execute("DELETE FROM signing_keys WHERE kid = ?1", params![kid])
            .map_err(db_err)?;
        Ok(())
    }

    pub fn revoke(&self, jti: &str, exp: i64) -> Result<()> {
        self.conn
            .lock()
            .execute(
                "INSERT OR IGNORE INTO revoked (jti, exp) VALUES (?1, ?2)",
                params![jti, exp],
            )
            .map_err(db_err)?;
        Ok(())
    }

    pub fn is_revoked(&self, jti: &str) -> Result<bool> {
        Ok(self
            .conn
            .lock()
            .query_row("SELECT 1 FROM revoked WHERE jti = ?1", params![jti], |_| Ok(()))
            .optional()
            .map_err(db_err)?
            .is_some())
    }

    /// Record an assertion `jti`; `false` when it was already used (a replay).
    pub fn use_assertion(&self, jti: &str, exp: i64) -> Result<bool> {
        Ok(self
            .conn
            .lock()
            .prepare_cached("INSERT OR IGNORE INTO used_assertions (jti, exp) VALUES (?1, ?2)")
            .and_then(|mut stmt| stmt.execute(params![jti, exp]))
            .map_err(db_err)?
            == 1)
    }

    /// The registered scopes `(name, description)` after `after` (by name), at most `limit`.
    pub fn list_scopes(&self, after: Option<&str>, limit: usize) -> Result<Vec<(String, String)>> {
        let conn = self.conn.lock();
        let mut stmt = conn
            .prepare("SELECT name, description FROM scopes WHERE name > ?1 ORDER BY name LIMIT ?2")
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![after.unwrap_or(""), limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
    }

    /// Every registered scope name.
    pub fn scope_names(&self) -> Result<Vec<String>> {
        Ok(self
            .list_scopes(None, i64::MAX as usize)?
            .into_iter()
            .map(|(n, _)| n)
            .collect())
    }

    /// Register a scope; `false` when it is registered already.
    pub fn add_scope(&self, name: &str, description: &str, now: i64) -> Result<bool> {
        Ok(self
            .conn
            .lock()
            .execute(
                "INSERT OR IGNORE INTO scopes (name, description, created_at) VALUES (?1, ?2, ?3)",
                params![name, description, now],
            )
            .map_err(db_err)?
            == 1)
    }

    pub fn delete_scope(&self, name: &str) -> Result<bool> {
        Ok(self
            .conn
            .lock()
            .execute("DELETE FROM scopes WHERE name = ?1", params![name])
            .map_err(db_err)?
            > 0)
    }

    /// Store one audit event (its JSON, with the indexed columns beside it); its id.
    pub fn insert_audit(
        &self,
        ts: f64,
        event: &str,
        outcome: &str,
        client_id: Option<&str>,
        data: &str,
    ) -> Result<i64> {
        let conn = self.conn.lock();
        // Once per token request: the statement is prepared once and cached (parsing and planning
        // the INSERT cost more than running it).
        conn.prepare_cached("INSERT INTO audit_log (ts, event, outcome, client_id, data) VALUES (?1, ?2, ?3, ?4, ?5)")
            .and_then(|mut stmt| stmt.insert(params![ts, event, outcome, client_id, data]))
            .map_err(db_err)
    }

    /// Run `f` on the connection (the audit log query builds its own SQL).
    pub(crate) fn with_conn<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        f(&self.conn.lock())
    }

    /// Delete audit events older than `before` (Unix seconds); how many.
    pub fn purge_audit(&self, before: f64) -> Result<usize> {
        self.conn
            .lock()
            .execute("DELETE FROM audit_log WHERE ts < ?1", params![before])
            .map_err(db_err)
    }

    /// Forget revocations, exchanges and assertion ids whose tokens have expired (a token
    /// exchanged from another never outlives it, so a revocation outlives the tokens it covers).
    pub fn purge(&self, now: i64) -> Result<()> {
        let conn = self.conn.lock();
        conn.execute("DELETE FROM exchanges WHERE exp < ?1", params![now])
            .map_err(db_err)?;
        conn.execute("DELETE FROM revoked WHERE exp < ?1", params![now])
            .map_err(db_err)?;
        conn.execute("DELETE FROM used_assertions WHERE exp < ?1", params![now])
            .map_err(db_err)?;
        Ok(())
    }
}
