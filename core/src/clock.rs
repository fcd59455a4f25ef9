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

    /// On Linux, `CLOCK_REALTIME_COARSE` (the time at the last tick, read without the cycle
    /// counter, a fraction of `CLOCK_REALTIME`'s cost on a VM) plus its resolution, so it is
    /// never behind the precise clock.
    #[cfg(target_os = "linux")]
    fn cache_now_ms(&self) -> i64 {
        coarse::now_upper_bound_ms().unwrap_or_else(|| self.now_ms())
    }
}

#[cfg(target_os = "linux")]
mod coarse {
    use rustix::time::{clock_getres, clock_gettime, ClockId, Timespec};
    use std::sync::OnceLock;

    fn ns(t: Timespec) -> i64 {
        t.tv_sec.saturating_mul(1_000_000_000).saturating_add(t.tv_nsec)
    }

    /// The coarse clock's reading plus its resolution rounded up to a millisecond, plus one for
    /// the millisecond truncation (`None` when its resolution is above 10 ms).
    pub(super) fn now_upper_bound_ms() -> Option<i64> {
        static SLACK_MS: OnceLock<Option<i64>> = OnceLock::new();
        let slack = (*SLACK_MS.get_or_init(|| {
            let res = ns(clock_getres(ClockId::RealtimeCoarse));
            (0..=10_000_000).contains(&res).then(|| (res + 999_999) / 1_000_000 + 1)
        }))?;
        Some(ns(clock_gettime(ClockId::RealtimeCoarse)) / 1_000_000 + slack)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn the_cache_reading_is_never_behind_the_clock_and_at_most_a_few_ms_ahead() {
        let clock = SystemClock;
        for _ in 0..2000 {
            let before = clock.now_ms();
            let cache = clock.cache_now_ms();
            let after = clock.now_ms();
            assert!(cache >= before, "cache reading {cache} behind the clock {before}");
            assert!(cache <= after + 11, "cache reading {cache} too far ahead of {after}");
        }
    }

    #[test]
    fn a_manual_clock_reads_the_same_for_caches() {
        let clock = ManualClock::new(1_000);
        assert_eq!(clock.cache_now_ms(), 1_000);
        clock.advance(Duration::from_millis(5));
        assert_eq!(clock.cache_now_ms(), clock.now_ms());
    }
}
