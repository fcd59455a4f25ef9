//! The local authorization server (`authsec-server`), in-process on 127.0.0.1 and an ephemeral
//! port, for tests and offline development.

use crate::clock::ManualClock;
use crate::errors::js;
use crate::spawn::promise;
use authsec_native::{Clock, Error as CoreError, SystemClock};
use authsec_server::{RunningServer, ServerConfig, StartOptions};
use napi::bindgen_prelude::Object;
use napi::{Env, Result};
use napi_derive::napi;
use parking_lot::Mutex;
use serde_json::Value;
use std::sync::Arc;

#[napi]
pub struct LocalServer {
    issuer: String,
    token_endpoint: String,
    jwks_uri: String,
    port: u32,
    running: Arc<Mutex<Option<RunningServer>>>,
}

#[napi]
impl LocalServer {
    #[napi(getter)]
    pub fn issuer(&self) -> String {
        self.issuer.clone()
    }
    #[napi(getter)]
    pub fn token_endpoint(&self) -> String {
        self.token_endpoint.clone()
    }
    #[napi(getter)]
    pub fn jwks_uri(&self) -> String {
        self.jwks_uri.clone()
    }
    #[napi(getter)]
    pub fn port(&self) -> u32 {
        self.port
    }

    /// Stop listening (Promise). Closing twice is fine.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let running = self.running.lock().take();
        promise(
            env,
            async move {
                if let Some(s) = running {
                    s.shutdown().await;
                }
                Ok(())
            },
            |_, ()| Ok(()),
        )
    }
}

fn server_config(config: Option<Value>, yaml: Option<String>) -> authsec_native::Result<ServerConfig> {
    let mut cfg = match (config, yaml) {
        (Some(_), Some(_)) => {
            return Err(CoreError::config(
                "give the local server a config object or YAML text, not both",
            ))
        }
        (None, Some(text)) => ServerConfig::from_yaml_str(&text, authsec_native::ProcessEnv)?,
        (Some(v), None) => {
            let cfg: ServerConfig =
                serde_json::from_value(v).map_err(|e| CoreError::config(format!("local server config: {e}")))?;
            cfg.signing_alg()?;
            cfg
        }
        (None, None) => ServerConfig::default(),
    };
    // An in-process server's audit lines would interleave with the host's output.
    if cfg.audit_log.is_none() {
        cfg.audit_log = Some("off".into());
    }
    Ok(cfg)
}

/// Start a local authorization server (Promise of a `LocalServer`). `config` uses the server's
/// YAML field names (`clients: [{client_id, client_secret, allowed_scopes, ...}]`, `signing_alg`,
/// `token_lifetime`, ...); or pass the YAML text itself.
#[napi(ts_return_type = "Promise<LocalServer>")]
pub fn start_local_server<'env>(
    env: &'env Env,
    config: Option<Value>,
    yaml: Option<String>,
    clock: Option<&ManualClock>,
    port: Option<u32>,
) -> Result<Object<'env>> {
    let cfg = js(env, server_config(config, yaml))?;
    let clock: Arc<dyn Clock> = match clock {
        Some(m) => Arc::new(m.inner.clone()),
        None => Arc::new(SystemClock),
    };
    let opts = StartOptions {
        port: port.unwrap_or(0) as u16,
        clock,
        ..StartOptions::default()
    };
    promise(env, authsec_server::start(cfg, opts), |_, s| {
        Ok(LocalServer {
            issuer: s.issuer().to_string(),
            token_endpoint: s.token_endpoint(),
            jwks_uri: s.jwks_uri(),
            port: s.addr().port() as u32,
            running: Arc::new(Mutex::new(Some(s))),
        })
    })
}
