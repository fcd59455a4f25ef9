//! Running core futures on the shared runtime and settling a JavaScript Promise with the result.

use crate::errors::to_js_error;
use authsec_native::Result as CoreResult;
use napi::bindgen_prelude::{Object, ToNapiValue};
use napi::{Env, Result};
use std::future::Future;

/// Spawn `fut` on the `authsec-io` runtime and return a Promise. `convert` builds the JavaScript
/// value on the JavaScript thread once the future is done; a core error rejects the Promise with
/// a JavaScript `Error` carrying the stable `code` (see [`to_js_error`]).
pub fn promise<'env, T, V, F, C>(env: &'env Env, fut: F, convert: C) -> Result<Object<'env>>
where
    T: Send + 'static,
    V: ToNapiValue + 'static,
    F: Future<Output = CoreResult<T>> + Send + 'static,
    C: FnOnce(&Env, T) -> Result<V> + Send + 'static,
{
    let (deferred, promise) = env.create_deferred()?;
    authsec_native::runtime().spawn(async move {
        let out = fut.await;
        deferred.resolve(move |env: Env| match out {
            Ok(v) => convert(&env, v),
            Err(e) => Err(to_js_error(&env, &e)),
        });
    });
    Ok(promise)
}
