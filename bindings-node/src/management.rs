//! The management client (the `/admin` API): the core's `ManagementClient::call` behind one async
//! method. Arguments, requests, tokens, retries and errors are the core's; the JS layer
//! (`lib/management.js`) only names the operations.

use crate::errors::js;
use crate::spawn::promise;
use authsec_native::{management_client, ManagementClient};
use napi::bindgen_prelude::Object;
use napi::{Env, Result};
use napi_derive::napi;
use serde_json::Value;
use std::sync::Arc;

#[napi]
pub struct NativeManagement(Arc<ManagementClient>);

#[napi]
impl NativeManagement {
    /// From the settings as JavaScript passes them (the core reads them: camelCase or snake_case).
    #[napi(constructor)]
    pub fn new(env: Env, settings: Value) -> Result<Self> {
        Ok(NativeManagement(Arc::new(js(&env, management_client(&settings))?)))
    }

    /// Run `operation` (`clients.create`, ...) with `args` (Promise of the answer's JSON).
    #[napi(ts_return_type = "Promise<unknown>")]
    pub fn call<'env>(&self, env: &'env Env, operation: String, args: Value) -> Result<Object<'env>> {
        let client = self.0.clone();
        promise(env, async move { client.call(&operation, &args).await }, |_, v| Ok(v))
    }

    /// Every operation's name.
    #[napi]
    pub fn operations() -> Vec<&'static str> {
        ManagementClient::operations().to_vec()
    }
}
