//! Clocks: the system clock, and a manual clock for tests in every language.

use crate::runtime::{BoxFut, Clock, Sleeper};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The system clock (not available on wasm32-unknown-unknown, whose binding supplies `Date.now()`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

#[cfg(not(target_arch = "wasm32"))]
impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => d.as_millis() as i64,
            Err(_) => 0,
        }
    }
}

/// A clock that only moves when told to; its [`Sleeper`] advances the clock instead of waiting.
/// Used by tests in every language (the bindings expose it for their own tests).
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(start_ms: i64) -> Self {
        ManualClock(Arc::new(AtomicI64::new(start_ms)))
    }
    pub fn set_ms(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst)
    }
    pub fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_millis() as i64, Ordering::SeqCst);
    }
    /// The clock's shared state (Unix milliseconds): another native module of the same build
    /// (a binding's testing module) can share this clock through it.
    pub fn state(&self) -> &Arc<AtomicI64> {
        &self.0
    }
    /// A clock on a state shared with another (see [`ManualClock::state`]).
    pub fn from_state(state: Arc<AtomicI64>) -> Self {
        ManualClock(state)
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl Sleeper for ManualClock {
    fn sleep(&self, d: Duration) -> BoxFut<'static, ()> {
        self.advance(d);
        Box::pin(YieldOnce(false))
    }
}

/// A future that yields to the executor once, so that "sleeping" tasks interleave.
struct YieldOnce(bool);
impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}
