//! The core's manual clock, for tests (internal: exported from `@authsec/sdk/testing`).

use authsec_native::{Clock, SystemClock};
use napi_derive::napi;
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
        let start = start_ms.map(|m| m as i64).unwrap_or_else(|| SystemClock.now_ms());
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
}
