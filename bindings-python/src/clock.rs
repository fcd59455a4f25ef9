//! `ManualClock` (public as `authsec.testing.ManualClock`): the core's manual clock, so that
//! expiry can be simulated without sleeping. Clients and verifiers take it as `_clock=`; the local
//! server of the separate `authsec_testing` module shares it through `_state_address()`.

use authsec_native::{Clock, ManualClock as CoreManualClock, SystemClock};
use pyo3::prelude::*;
use std::sync::Arc;
use std::time::Duration;

/// A clock that moves only when told to. Test-only; pass it as `_clock=` to the constructors.
#[pyclass(frozen, name = "ManualClock", module = "authsec._native")]
pub struct ManualClock(pub CoreManualClock);

#[pymethods]
impl ManualClock {
    /// Start at `now` (Unix seconds; the current time when omitted).
    #[new]
    #[pyo3(signature = (now=None))]
    fn new(now: Option<f64>) -> Self {
        let ms = now.map_or_else(|| SystemClock.now_ms(), |s| (s * 1000.0) as i64);
        ManualClock(CoreManualClock::new(ms))
    }

    /// The clock's time in Unix seconds.
    fn now(&self) -> f64 {
        self.0.now_ms() as f64 / 1000.0
    }

    /// Jump to `now` (Unix seconds).
    fn set(&self, now: f64) {
        self.0.set_ms((now * 1000.0) as i64);
    }

    /// Move forward by `seconds`.
    fn advance(&self, seconds: f64) -> PyResult<()> {
        let d = Duration::try_from_secs_f64(seconds).map_err(|_| {
            pyo3::exceptions::PyValueError::new_err(
                "advance() takes a non-negative number of seconds; use set() to go back",
            )
        })?;
        self.0.advance(d);
        Ok(())
    }

    /// The address of the clock's state (an `AtomicI64` of Unix milliseconds, alive as long as
    /// this object), for the `authsec_testing` server: see `SharedClock` in testing/src/lib.rs.
    fn _state_address(&self) -> usize {
        Arc::as_ptr(self.0.state()) as usize
    }

    fn __repr__(&self) -> String {
        format!("ManualClock(now={})", self.now())
    }
}
