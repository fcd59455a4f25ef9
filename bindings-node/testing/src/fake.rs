//! The native layer's fake SPIFFE Workload API (`workload_api::fake`, feature
//! `fake-workload-api`) for Node.js tests: a gRPC server on a Unix socket that is its own SPIFFE
//! authority (an ES256 JWT key, an X.509 CA). The JS layer (`lib/fake-workload-api.js`) makes the
//! temporary directory and removes it.

use authsec_native::workload_api::fake::FakeWorkloadApi;
use authsec_native::Error as CoreError;
use napi::{Env, Result};
use napi_derive::napi;
use parking_lot::Mutex;

fn stopped() -> CoreError {
    CoreError::config("the fake Workload API was stopped")
}

#[napi(js_name = "FakeWorkloadApi")]
pub struct NativeFakeWorkloadApi {
    fake: Mutex<Option<FakeWorkloadApi>>,
    endpoint: String,
    socket_path: String,
    trust_domain: String,
}

#[napi]
impl NativeFakeWorkloadApi {
    /// Serve on `path` (a directory: the socket is `agent.sock` in it; or the socket's path) as
    /// the authority of `trustDomain` (default `example.org`).
    #[napi(constructor)]
    pub fn new(env: Env, path: String, trust_domain: Option<String>) -> Result<Self> {
        let td = trust_domain.unwrap_or_else(|| "example.org".into());
        let fake = FakeWorkloadApi::start_for(&path, &td).map_err(|e| crate::js_error(&env, &e))?;
        Ok(NativeFakeWorkloadApi {
            endpoint: fake.endpoint(),
            socket_path: fake.socket_path().display().to_string(),
            trust_domain: fake.trust_domain().to_string(),
            fake: Mutex::new(Some(fake)),
        })
    }

    fn with<T>(&self, env: &Env, f: impl FnOnce(&FakeWorkloadApi) -> authsec_native::Result<T>) -> Result<T> {
        let g = self.fake.lock();
        let r = match g.as_ref() {
            Some(fake) => f(fake),
            None => Err(stopped()),
        };
        r.map_err(|e| crate::js_error(env, &e))
    }

    /// `unix:///path/to/agent.sock`, for `SPIFFE_ENDPOINT_SOCKET`.
    #[napi(getter)]
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }
    #[napi(getter)]
    pub fn socket_path(&self) -> String {
        self.socket_path.clone()
    }
    #[napi(getter)]
    pub fn trust_domain(&self) -> String {
        self.trust_domain.clone()
    }

    /// The SPIFFE ID served now.
    #[napi]
    pub fn spiffe_id(&self, env: Env) -> Result<String> {
        self.with(&env, |f| Ok(f.spiffe_id()))
    }
    #[napi]
    pub fn set_spiffe_id(&self, env: Env, id: String) -> Result<()> {
        self.with(&env, |f| f.set_spiffe_id(&id))
    }
    /// A new JWT signing key signs from now on (the bundle keeps the old one too).
    #[napi]
    pub fn rotate_jwt_key(&self, env: Env) -> Result<()> {
        self.with(&env, |f| f.rotate_jwt_key())
    }
    #[napi]
    pub fn jwt_kid(&self, env: Env) -> Result<String> {
        self.with(&env, |f| Ok(f.jwt_kid()))
    }
    #[napi]
    pub fn rotate_x509(&self, env: Env) -> Result<()> {
        self.with(&env, |f| f.rotate_x509())
    }
    /// The JWT bundle served now (JWKS JSON text).
    #[napi]
    pub fn jwt_bundle_json(&self, env: Env) -> Result<String> {
        self.with(&env, |f| Ok(f.jwt_bundle_json()))
    }
    /// Answer the next `n` calls with `PermissionDenied` (no identity issued yet).
    #[napi]
    pub fn deny_next(&self, env: Env, n: u32) -> Result<()> {
        self.with(&env, |f| {
            f.deny_next(n);
            Ok(())
        })
    }
    /// Answer the next `n` calls with `InvalidArgument`.
    #[napi]
    pub fn refuse_next(&self, env: Env, n: u32) -> Result<()> {
        self.with(&env, |f| {
            f.refuse_next(n);
            Ok(())
        })
    }
    /// Calls made so far (refused ones included).
    #[napi]
    pub fn calls(&self, env: Env) -> Result<f64> {
        self.with(&env, |f| Ok(f.calls() as f64))
    }
    /// Stop serving (idempotent): the streams end, the socket is removed.
    #[napi]
    pub fn stop(&self) {
        drop(self.fake.lock().take());
    }
}
