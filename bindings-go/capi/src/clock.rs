//! A test clock (the core's `ManualClock`) for clients, verifiers and the testing library's server.
//! Sharing it with the testing library (a separate shared library with its own Rust runtime, which
//! cannot own this library's `Arc`): `authsec_clock_share` hands out `Arc::into_raw` of a clone of
//! the state (an `AtomicI64`, laid out as an `i64`); the receiver only reads the atomic through
//! the pointer and gives its strong reference back with `authsec_clock_release`, so this library
//! drops what it allocated. The state lives while any clock, client, verifier or share holds it.

use crate::ffi::free;
use crate::panic::ffi_boundary;
use authsec_native::{Clock, ManualClock};
use std::ffi::c_void;
use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::Duration;

/// A clock that moves only when told to. Opaque.
pub struct AuthsecClock(ManualClock);

impl AuthsecClock {
    pub(crate) fn shared(&self) -> Arc<dyn Clock> {
        Arc::new(self.0.clone())
    }
}

/// A new test clock at `start_ms` (Unix milliseconds). Free with `authsec_clock_free`.
#[no_mangle]
pub extern "C" fn authsec_clock_new(start_ms: i64) -> *mut AuthsecClock {
    ffi_boundary! {
        Box::into_raw(Box::new(AuthsecClock(ManualClock::new(start_ms))))
    }
}

/// Free a clock (its clients and verifiers keep its time). NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_clock_free(clock: *mut AuthsecClock) {
    ffi_boundary! {
        free(clock)
    }
}

/// The clock's time in Unix milliseconds (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn authsec_clock_now_ms(clock: *const AuthsecClock) -> i64 {
    ffi_boundary! {
        clock.as_ref().map_or(0, |c| c.0.now_ms())
    }
}

/// Set the clock to `ms` (Unix milliseconds; it may go back).
#[no_mangle]
pub unsafe extern "C" fn authsec_clock_set_ms(clock: *const AuthsecClock, ms: i64) {
    ffi_boundary! {
        if let Some(c) = clock.as_ref() {
            c.0.set_ms(ms);
        }
    }
}

/// Move the clock forward by `ms` milliseconds.
#[no_mangle]
pub unsafe extern "C" fn authsec_clock_advance_ms(clock: *const AuthsecClock, ms: u64) {
    ffi_boundary! {
        if let Some(c) = clock.as_ref() {
            c.0.advance(Duration::from_millis(ms));
        }
    }
}

/// The clock's state for another library (see the module docs): an `int64_t` of Unix milliseconds
/// to read atomically, owning a reference that `authsec_clock_release` gives back.
#[no_mangle]
pub unsafe extern "C" fn authsec_clock_share(clock: *const AuthsecClock) -> *const c_void {
    ffi_boundary! {
        clock.as_ref().map_or(std::ptr::null(), |c| Arc::into_raw(c.0.state().clone()).cast())
    }
}

/// Give back a reference from `authsec_clock_share` (exactly once). NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_clock_release(state: *const c_void) {
    ffi_boundary! {
        if !state.is_null() {
            drop(Arc::from_raw(state.cast::<AtomicI64>()));
        }
    }
}
