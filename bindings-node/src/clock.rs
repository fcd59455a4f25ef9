//! The core's manual clock, for tests (exported from `@authsec/sdk/testing`).

use authsec_native::{Clock, SystemClock};
use napi::bindgen_prelude::BigInt;
use napi_derive::napi;
use std::sync::Arc;
use std::time::Duration;

/// A clock that only moves when told to; as a sleeper it advances instead of waiting. Clients,
/// verifiers and local servers built with it share its time.
#[napi]
pub struct ManualClock {
    pub(crate) inner: authsec_native::ManualClock,
}

#[napi]
impl ManualClock {
    /// Start at `startMs` (Unix milliseconds), or now.
    #[napi(constructor)]
    pub fn new(start_ms: Option<f64>) -> Self {
        let start = start_ms.map_or_else(|| SystemClock.now_ms(), |m| m as i64);
        ManualClock {
            inner: authsec_native::ManualClock::new(start),
        }
    }

    /// The current time in Unix milliseconds.
    #[napi]
    pub fn now(&self) -> f64 {
        self.inner.now_ms() as f64
    }

    #[napi]
    pub fn set(&self, ms: f64) {
        self.inner.set_ms(ms as i64)
    }

    /// Move forward by `ms` milliseconds.
    #[napi]
    pub fn advance(&self, ms: f64) {
        self.inner.advance(Duration::from_millis(ms.max(0.0) as u64))
    }

    /// INTERNAL: hand the clock's state to the testing addon (`authsec-testing`, another native
    /// module with its own copy of the core), so the local server shares this clock.
    ///
    /// The state crosses as `Arc::into_raw` of a new strong reference (a BigInt address): the
    /// testing addon takes that one reference over with `Arc::from_raw`, so the allocation lives
    /// as long as the server uses it, whatever happens to this object. Sound because both modules
    /// are built from this workspace by the same toolchain (the same `ArcInner<AtomicI64>` layout)
    /// and both use the default global allocator (the system `malloc`/`free`); the JS layer
    /// (`lib/server.js`) calls this once per server and passes the value straight on, so each
    /// reference is taken over exactly once. An address never taken over leaks 24 bytes.
    #[napi(js_name = "_shareState")]
    pub fn share_state(&self) -> BigInt {
        BigInt::from(Arc::into_raw(self.inner.state().clone()) as usize as u64)
    }
}
