//! The sleeper works from threads that are not tokio's (bindings call it from Python/Node threads).

use authsec_native::{block_on, Sleeper, TokioSleeper};
use std::time::{Duration, Instant};

#[test]
fn tokio_sleeper_outside_a_runtime() {
    let start = Instant::now();
    block_on(TokioSleeper.sleep(Duration::from_millis(20)));
    assert!(start.elapsed() >= Duration::from_millis(20));
}
