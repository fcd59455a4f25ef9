//! A cached value that one task at a time refreshes: the single flight behind the token cache and
//! the JWKS cache (and the discovered metadata). Callers that arrive while a refresh runs join it;
//! after a failure the cell pauses before the next attempt (how long is the owner's policy) and
//! keeps handing out a value that is still usable.
//!
//! A value has two instants: from `refresh_at` a refresh is due, from `usable_until` the value is
//! never handed out. In between, the value is handed out while the cell is paused after a failure,
//! and, for owners that allow it ([`RefreshCell::new`]'s `serve_while_refreshing`), while a refresh
//! runs. The cell does no I/O: the owner supplies the refresh as a future.

use crate::runtime::{BoxFut, Clock};
use crate::{Error, Result};
use futures::future::{FutureExt, Shared};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A value from a refresh, with its schedule (Unix milliseconds).
pub struct Fresh<T> {
    pub value: Arc<T>,
    /// From here on a refresh is due.
    pub refresh_at_ms: i64,
    /// From here on the value is never handed out.
    pub usable_until_ms: i64,
}

impl<T> Clone for Fresh<T> {
    fn clone(&self) -> Self {
        Fresh {
            value: self.value.clone(),
            refresh_at_ms: self.refresh_at_ms,
            usable_until_ms: self.usable_until_ms,
        }
    }
}

/// A refresh under way; clones of it all resolve to its one outcome.
pub type Refresh<T> = Shared<BoxFut<'static, Result<Arc<T>>>>;

/// What a failed refresh leaves for the pause policy to weigh.
#[derive(Clone, Copy, Debug)]
pub struct Failure {
    /// Failures in a row, this one included.
    pub consecutive: u32,
    /// Whether the cell still holds a usable value.
    pub still_usable: bool,
}

/// What a caller should do, from [`RefreshCell::step`].
pub enum Step<T> {
    /// Hand this value out.
    Ready(Arc<T>),
    /// Nothing usable, and the cell is paused after this failure.
    Failed(Error),
    /// Wait for this refresh.
    Wait(Refresh<T>),
    /// A refresh was just started while this value (usable until the given instant) is still
    /// usable: wait for the refresh, or let it run in the background and hand the value out.
    /// Only for cells that serve while refreshing.
    Refreshing(Refresh<T>, Arc<T>, i64),
}

type PausePolicy = Box<dyn Fn(&Error, Failure) -> Duration + Send + Sync>;
type StoredHook<T> = Box<dyn Fn(Option<&T>, &T) + Send + Sync>;

struct State<T> {
    current: Option<Fresh<T>>,
    inflight: Option<Refresh<T>>,
    /// After a failure, no new refresh starts before this instant.
    quiet_until_ms: i64,
    last_error: Option<Error>,
    failures: u32,
}

struct Inner<T> {
    state: Mutex<State<T>>,
    clock: Arc<dyn Clock>,
    serve_while_refreshing: bool,
    pause: PausePolicy,
    on_stored: Option<StoredHook<T>>,
    /// Until this instant a value is handed out without taking the lock (see `ready_until`).
    ready_until: AtomicI64,
}

/// The cell. Cheap to clone (shared state).
pub struct RefreshCell<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for RefreshCell<T> {
    fn clone(&self) -> Self {
        RefreshCell {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Send + Sync + 'static> RefreshCell<T> {
    /// An empty cell. `pause` says how long to wait before the next refresh after a failure;
    /// with `serve_while_refreshing`, a value past its refresh time is handed out while the
    /// refresh runs (otherwise callers wait for the refresh).
    pub fn new(
        clock: Arc<dyn Clock>,
        serve_while_refreshing: bool,
        pause: impl Fn(&Error, Failure) -> Duration + Send + Sync + 'static,
    ) -> Self {
        Self::build(clock, serve_while_refreshing, Box::new(pause), None)
    }

    /// Like [`RefreshCell::new`], calling `on_stored(previous, new)` under the cell's lock right
    /// after each refreshed value is stored (so a change it publishes is never seen before the
    /// value).
    pub fn with_hook(
        clock: Arc<dyn Clock>,
        serve_while_refreshing: bool,
        pause: impl Fn(&Error, Failure) -> Duration + Send + Sync + 'static,
        on_stored: impl Fn(Option<&T>, &T) + Send + Sync + 'static,
    ) -> Self {
        Self::build(
            clock,
            serve_while_refreshing,
            Box::new(pause),
            Some(Box::new(on_stored)),
        )
    }

    fn build(
        clock: Arc<dyn Clock>,
        serve_while_refreshing: bool,
        pause: PausePolicy,
        on_stored: Option<StoredHook<T>>,
    ) -> Self {
        RefreshCell {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    current: None,
                    inflight: None,
                    quiet_until_ms: i64::MIN,
                    last_error: None,
                    failures: 0,
                }),
                clock,
                serve_while_refreshing,
                pause,
                on_stored,
                ready_until: AtomicI64::new(i64::MIN),
            }),
        }
    }

    /// Whether a value is at hand without waiting, by a lock-free check: before its refresh time,
    /// or paused after a failure while it is usable. (A cell that serves while refreshing has
    /// more cases; [`RefreshCell::ready_now`] decides them all.)
    pub fn is_ready(&self, now_ms: i64) -> bool {
        now_ms < self.inner.ready_until.load(Ordering::Acquire)
    }

    /// The value, if it can be handed out now without waiting.
    pub fn ready_now(&self, now_ms: i64) -> Option<Arc<T>> {
        let st = self.inner.state.lock();
        let c = st.current.as_ref()?;
        let ready = now_ms < c.refresh_at_ms
            || (now_ms < c.usable_until_ms
                && ((st.inflight.is_some() && self.inner.serve_while_refreshing) || now_ms < st.quiet_until_ms));
        ready.then(|| c.value.clone())
    }

    /// The value if it is still usable at `now_ms`, fresh or not.
    pub fn usable(&self, now_ms: i64) -> Option<Arc<T>> {
        let st = self.inner.state.lock();
        st.current
            .as_ref()
            .filter(|c| now_ms < c.usable_until_ms)
            .map(|c| c.value.clone())
    }

    /// The last value stored, however old.
    pub fn current(&self) -> Option<Arc<T>> {
        self.inner.state.lock().current.as_ref().map(|c| c.value.clone())
    }

    /// Whether a refresh is under way.
    pub fn is_refreshing(&self) -> bool {
        self.inner.state.lock().inflight.is_some()
    }

    /// Decide what a caller gets at `now_ms`, starting the refresh `start` when one is due and
    /// none is under way or paused.
    pub fn step(&self, now_ms: i64, start: &dyn Fn() -> BoxFut<'static, Result<Fresh<T>>>) -> Step<T> {
        let mut st = self.inner.state.lock();
        if let Some(c) = &st.current {
            if now_ms < c.refresh_at_ms {
                return Step::Ready(c.value.clone());
            }
            if now_ms < c.usable_until_ms {
                let (value, until) = (c.value.clone(), c.usable_until_ms);
                if let Some(f) = &st.inflight {
                    return if self.inner.serve_while_refreshing {
                        Step::Ready(value)
                    } else {
                        Step::Wait(f.clone())
                    };
                }
                if now_ms < st.quiet_until_ms {
                    return Step::Ready(value);
                }
                let f = self.start_locked(&mut st, start);
                return if self.inner.serve_while_refreshing {
                    Step::Refreshing(f, value, until)
                } else {
                    Step::Wait(f)
                };
            }
        }
        match (&st.inflight, &st.last_error) {
            (Some(f), _) => Step::Wait(f.clone()),
            (None, Some(e)) if now_ms < st.quiet_until_ms => Step::Failed(e.clone()),
            _ => Step::Wait(self.start_locked(&mut st, start)),
        }
    }

    /// A refresh now, whatever the schedule: the one under way, or a new one unless `may_start`
    /// says no (`None` then). For "the value is known to be wrong" (a key set without the `kid` a
    /// token names).
    pub fn force(
        &self,
        may_start: impl FnOnce() -> bool,
        start: &dyn Fn() -> BoxFut<'static, Result<Fresh<T>>>,
    ) -> Option<Refresh<T>> {
        let mut st = self.inner.state.lock();
        if let Some(f) = &st.inflight {
            return Some(f.clone());
        }
        if !may_start() {
            return None;
        }
        Some(self.start_locked(&mut st, start))
    }

    /// Forget the value and any pause after a failure; the next caller refreshes.
    pub fn invalidate(&self) {
        self.invalidate_if(|_| true, true)
    }

    /// Forget the value (and any pause) when it is there and `matches` says so.
    pub fn invalidate_value(&self, matches: impl FnOnce(&T) -> bool) {
        self.invalidate_if(matches, false)
    }

    fn invalidate_if(&self, matches: impl FnOnce(&T) -> bool, even_without_value: bool) {
        let mut st = self.inner.state.lock();
        let hit = match &st.current {
            Some(c) => matches(&c.value),
            None => even_without_value,
        };
        if hit {
            st.current = None;
            st.quiet_until_ms = i64::MIN;
            st.last_error = None;
            self.inner.ready_until.store(i64::MIN, Ordering::Release);
        }
    }

    fn start_locked(&self, st: &mut State<T>, start: impl FnOnce() -> BoxFut<'static, Result<Fresh<T>>>) -> Refresh<T> {
        let refresh = start();
        let inner = self.inner.clone();
        let fut: BoxFut<'static, Result<Arc<T>>> = Box::pin(async move {
            let res = refresh.await;
            let now = inner.clock.now_ms();
            inner.complete(res, now)
        });
        let shared = fut.shared();
        st.inflight = Some(shared.clone());
        shared
    }
}

impl<T> Inner<T> {
    fn complete(&self, res: Result<Fresh<T>>, now: i64) -> Result<Arc<T>> {
        let mut st = self.state.lock();
        st.inflight = None;
        match res {
            Ok(fresh) => {
                let value = fresh.value.clone();
                let previous = st.current.replace(fresh);
                st.failures = 0;
                st.last_error = None;
                st.quiet_until_ms = i64::MIN;
                self.publish(&st);
                if let Some(hook) = &self.on_stored {
                    hook(previous.as_ref().map(|p| &*p.value), &value);
                }
                Ok(value)
            }
            Err(e) => {
                st.failures = st.failures.saturating_add(1);
                let usable_until = st.current.as_ref().map(|c| c.usable_until_ms).filter(|u| now < *u);
                let failure = Failure {
                    consecutive: st.failures,
                    still_usable: usable_until.is_some(),
                };
                let pause = i64::try_from((self.pause)(&e, failure).as_millis()).unwrap_or(i64::MAX);
                st.quiet_until_ms = now.saturating_add(pause);
                if let Some(u) = usable_until {
                    st.quiet_until_ms = st.quiet_until_ms.min(u);
                }
                st.last_error = Some(e.clone());
                self.publish(&st);
                Err(e)
            }
        }
    }

    /// Mirror "ready without waiting" for the lock-free check.
    fn publish(&self, st: &State<T>) {
        let until = st.current.as_ref().map_or(i64::MIN, |c| {
            c.refresh_at_ms.max(st.quiet_until_ms.min(c.usable_until_ms))
        });
        self.ready_until.store(until, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::ErrorCode;
    use futures::executor::block_on;
    use std::sync::atomic::AtomicU32;

    fn cell(serve: bool) -> (RefreshCell<u32>, ManualClock) {
        let clock = ManualClock::new(0);
        let c = RefreshCell::new(Arc::new(clock.clone()), serve, |_, f| {
            Duration::from_millis(if f.still_usable { 5_000 } else { 1_000 })
        });
        (c, clock)
    }

    fn ok(v: u32, refresh_at: i64, until: i64) -> impl Fn() -> BoxFut<'static, Result<Fresh<u32>>> {
        move || {
            Box::pin(async move {
                Ok(Fresh {
                    value: Arc::new(v),
                    refresh_at_ms: refresh_at,
                    usable_until_ms: until,
                })
            })
        }
    }

    fn fail() -> impl Fn() -> BoxFut<'static, Result<Fresh<u32>>> {
        || Box::pin(async { Err(Error::new(ErrorCode::ServerError, "down")) })
    }

    fn run(step: Step<u32>) -> Result<Arc<u32>> {
        match step {
            Step::Ready(v) => Ok(v),
            Step::Failed(e) => Err(e),
            Step::Wait(f) | Step::Refreshing(f, _, _) => block_on(f),
        }
    }

    #[test]
    fn one_refresh_however_many_callers_join() {
        let (c, _) = cell(false);
        let starts = Arc::new(AtomicU32::new(0));
        let start = |n: &Arc<AtomicU32>| {
            let n = n.clone();
            move || -> BoxFut<'static, Result<Fresh<u32>>> {
                n.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move {
                    Ok(Fresh {
                        value: Arc::new(7),
                        refresh_at_ms: 100,
                        usable_until_ms: 200,
                    })
                })
            }
        };
        let a = c.step(0, &start(&starts));
        let b = c.step(0, &start(&starts));
        assert!(matches!((&a, &b), (Step::Wait(_), Step::Wait(_))));
        assert_eq!(*run(a).unwrap(), 7);
        assert_eq!(*run(b).unwrap(), 7);
        assert_eq!(starts.load(Ordering::SeqCst), 1);
        assert!(c.is_ready(99) && !c.is_ready(100));
        assert_eq!(c.ready_now(50).as_deref(), Some(&7));
    }

    #[test]
    fn a_stale_value_waits_unless_the_cell_serves_while_refreshing() {
        for serve in [false, true] {
            let (c, _) = cell(serve);
            run(c.step(0, &ok(1, 100, 200))).unwrap();
            let s = c.step(150, &ok(2, 300, 400));
            match (serve, &s) {
                (true, Step::Refreshing(_, old, 200)) => assert_eq!(**old, 1),
                (false, Step::Wait(_)) => {}
                _ => panic!("serve={serve}"),
            }
            // While the refresh is under way.
            assert_eq!(c.ready_now(150).is_some(), serve);
            assert_eq!(*run(s).unwrap(), 2);
        }
    }

    #[test]
    fn a_failure_pauses_and_keeps_a_usable_value() {
        let (c, clock) = cell(false);
        // Nothing stored: the failure is answered for the pause, then a new refresh starts.
        assert!(run(c.step(0, &fail())).is_err());
        assert!(matches!(c.step(999, &ok(1, 100, 200)), Step::Failed(_)));
        assert_eq!(*run(c.step(1_000, &ok(1, 2_000, 9_000))).unwrap(), 1);
        // Stale and the refresh fails (at 2 s by the clock): the value is served during the pause
        // of 5 s, capped at usable_until.
        clock.set_ms(2_000);
        assert!(run(c.step(2_000, &fail())).is_err());
        assert!(c.is_ready(6_999) && !c.is_ready(7_000));
        assert!(matches!(c.step(6_999, &fail()), Step::Ready(_)));
        assert_eq!(c.usable(8_999).as_deref(), Some(&1));
        assert_eq!(c.usable(9_000), None);
        c.invalidate_value(|v| *v == 2);
        assert!(c.current().is_some());
        c.invalidate_value(|v| *v == 1);
        assert!(c.current().is_none() && !c.is_ready(0));
        // Without a value, invalidate() still ends a pause after a failure.
        clock.set_ms(8_000);
        assert!(run(c.step(8_000, &fail())).is_err());
        assert!(matches!(c.step(8_000, &ok(3, 10_000, 20_000)), Step::Failed(_)));
        c.invalidate();
        assert_eq!(*run(c.step(8_000, &ok(3, 10_000, 20_000))).unwrap(), 3);
    }

    #[test]
    fn force_joins_or_asks_before_starting() {
        let (c, _) = cell(false);
        assert!(c.force(|| false, &ok(1, 10, 20)).is_none());
        let f = c.force(|| true, &ok(1, 10, 20)).unwrap();
        assert!(c.force(|| panic!("joins instead"), &ok(2, 10, 20)).is_some());
        assert_eq!(*block_on(f).unwrap(), 1);
    }

    #[test]
    fn the_hook_sees_the_previous_and_new_value() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let c = RefreshCell::with_hook(
            Arc::new(ManualClock::new(0)),
            false,
            |_, _| Duration::ZERO,
            move |old: Option<&u32>, new: &u32| s2.lock().push((old.copied(), *new)),
        );
        run(c.step(0, &ok(1, 10, 20))).unwrap();
        run(c.step(10, &ok(2, 30, 40))).unwrap();
        assert_eq!(*seen.lock(), vec![(None, 1), (Some(1), 2)]);
    }
}
