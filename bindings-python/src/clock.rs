//! A manual clock for tests (`authsec._native._ManualClock`): the core's `ManualClock`, so that
//! expiry can be simulated without sleeping.

use crate::convert::ms_to_secs;
use authsec_native::{Clock, ManualClock as CoreManualClock, SystemClock};
use pyo3::prelude::*;
use std::time::Duration;

/// A clock that moves only when told to. Test-only; pass it as `_clock=` to the constructors.
#[pyclass(frozen, name = "_ManualClock", module = "authsec._native")]
pub struct ManualClock {
    pub inner: CoreManualClock,
}

#[pymethods]
impl ManualClock {
    /// Start at `now` (Unix seconds; the current time when omitted).
    #[new]
    #[pyo3(signature = (now=None))]
    fn new(now: Option<f64>) -> Self {
        let ms = now.map(|s| (s * 1000.0) as i64).unwrap_or_else(|| SystemClock.now_ms());
        ManualClock {
            inner: CoreManualClock::new(ms),
        }
    }

    /// The clock's time in Unix seconds.
    fn now(&self) -> f64 {
        ms_to_secs(self.inner.now_ms())
    }

    /// Jump to `now` (Unix seconds).
    fn set(&self, now: f64) {
        self.inner.set_ms((now * 1000.0) as i64);
    }

    /// Move forward by `seconds`.
    fn advance(&self, seconds: f64) -> PyResult<()> {
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "advance() takes a non-negative number of seconds; use set() to go back",
            ));
        }
        self.inner.advance(Duration::from_secs_f64(seconds));
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("_ManualClock(now={})", self.now())
    }
}
