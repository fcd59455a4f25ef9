//! What the core needs from its environment, injected so that tests neither sleep nor open sockets:
//! a [`Clock`], a [`Sleeper`], and a [`Transport`](crate::http::Transport).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Boxed future: `Send` on native targets, not on wasm32 (where JS futures are `!Send`).
#[cfg(not(target_arch = "wasm32"))]
pub type BoxFut<'a, T> = futures::future::BoxFuture<'a, T>;
/// Boxed future: `Send` on native targets, not on wasm32 (where JS futures are `!Send`).
#[cfg(target_arch = "wasm32")]
pub type BoxFut<'a, T> = futures::future::LocalBoxFuture<'a, T>;

/// `Send + Sync` on native targets, nothing on wasm32.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send + Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + Sync + ?Sized> MaybeSend for T {}
/// `Send + Sync` on native targets, nothing on wasm32.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSend for T {}

/// Wall-clock time in milliseconds since the Unix epoch.
pub trait Clock: MaybeSend {
    fn now_ms(&self) -> i64;
}

/// Waits without blocking a thread.
pub trait Sleeper: MaybeSend {
    fn sleep(&self, d: Duration) -> BoxFut<'static, ()>;
}

/// Runs a future in the background (tokio natively). Optional: without one, work that could run
/// in the background is awaited by the caller that started it.
pub trait Spawner: MaybeSend {
    fn spawn(&self, fut: BoxFut<'static, ()>);
}

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

/// Uniform random number in `[0, 1)` from the OS RNG (used for backoff jitter).
pub fn random_unit() -> f64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// `n` random bytes, base64url-encoded (for `jti` values).
pub fn random_id(n: usize) -> crate::Result<String> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b)
        .map_err(|e| crate::Error::internal(format!("the OS random number generator failed: {e}")))?;
    Ok(crate::util::b64url_encode(&b))
}
