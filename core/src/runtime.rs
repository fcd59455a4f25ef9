//! What the core needs from its environment, injected so that tests neither sleep nor open sockets:
//! a [`Clock`], a [`Sleeper`], a [`Spawner`], and a [`Transport`](crate::http::Transport).
//! Implementations live elsewhere: [`crate::clock`] (the system clock and the manual test clock),
//! the native crate (tokio), and the wasm package (`Date.now()`, `fetch`).

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
