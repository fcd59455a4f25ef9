//! # authsec-node-testing
//!
//! The testing addon behind `@authsec/sdk/testing`: the local authorization server
//! (`authsec-server`: axum, SQLite) in-process on 127.0.0.1, for tests and offline development.
//! It is a native module of its own (`native/authsec-testing.<platform>.node`) so that the
//! production addon does not link the server; the main entry of the package never loads it.
//!
//! It has its own copy of the core and of the I/O runtime. The one thing it shares with the main
//! addon is a `ManualClock`'s state (see `ManualClock::_shareState` in `src/clock.rs` for how it
//! crosses and why that is sound).

#[cfg(unix)]
mod fake;

use authsec_native::{runtime, Clock, Error as CoreError, ManualClock, ProcessEnv, SystemClock};
use authsec_server::{RunningServer, ServerConfig, StartOptions};
use napi::bindgen_prelude::{BigInt, JsObjectValue, JsValue, Object, ToNapiValue};
use napi::{Env, Result};
use napi_derive::napi;
use parking_lot::Mutex;
use serde_json::Value;
use std::future::Future;
use std::sync::atomic::AtomicI64;
use std::sync::Arc;

/// A JavaScript `Error` with the core's `code` (the JS layer re-throws it as its class).
fn js_error(env: &Env, e: &CoreError) -> napi::Error {
    let obj = env
        .create_error(napi::Error::from_reason(e.message()))
        .and_then(|mut o| {
            o.set_named_property("code", e.code().as_str())?;
            Ok(o.to_unknown())
        });
    obj.map_or_else(|x| x, napi::Error::from)
}

/// Run `fut` on the runtime and settle a Promise with `convert` of its value.
fn promise<'env, T: Send + 'static, V: ToNapiValue + 'static>(
    env: &'env Env,
    fut: impl Future<Output = authsec_native::Result<T>> + Send + 'static,
    convert: impl FnOnce(T) -> V + Send + 'static,
) -> Result<Object<'env>> {
    let (deferred, promise) = env.create_deferred()?;
    runtime().spawn(async move {
        let out = fut.await;
        deferred.resolve(move |env: Env| out.map(convert).map_err(|e| js_error(&env, &e)));
    });
    Ok(promise)
}

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
        let stop = async move {
            if let Some(s) = running {
                s.shutdown().await;
            }
            Ok(())
        };
        promise(env, stop, |()| ())
    }
}

/// Start a local authorization server (Promise of a `LocalServer`): `config` with the server's
/// field names, or the YAML text; `clock` is what `ManualClock._shareState()` of the main addon
/// returned for this call (taken over here, once).
#[napi(ts_return_type = "Promise<LocalServer>")]
pub fn start_local_server<'env>(
    env: &'env Env,
    config: Option<Value>,
    yaml: Option<String>,
    clock: Option<BigInt>,
    port: Option<u32>,
) -> Result<Object<'env>> {
    let clock: Arc<dyn Clock> = match clock {
        // SAFETY: the address is `Arc::into_raw` of a strong reference made for this call by the
        // main addon (same toolchain, same allocator), and it is taken over exactly once.
        Some(state) => Arc::new(ManualClock::from_state(unsafe {
            Arc::from_raw(state.get_u64().1 as usize as *const AtomicI64)
        })),
        None => Arc::new(SystemClock),
    };
    let cfg = ServerConfig::embedded(config.as_ref(), yaml.as_deref(), ProcessEnv).map_err(|e| js_error(env, &e))?;
    let opts = StartOptions {
        port: port.unwrap_or(0) as u16,
        clock,
        ..StartOptions::default()
    };
    promise(env, authsec_server::start(cfg, opts), |s| LocalServer {
        issuer: s.issuer().to_string(),
        token_endpoint: s.token_endpoint(),
        jwks_uri: s.jwks_uri(),
        port: s.addr().port().into(),
        running: Arc::new(Mutex::new(Some(s))),
    })
}
