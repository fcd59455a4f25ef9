//! Retries of a failing token request: network errors, 5xx and 429 are retried with exponential
//! backoff and full jitter, bounded in attempts and in total time; OAuth errors never are.

use std::time::Duration;

/// Retry policy for token requests: network errors, 5xx and 429 are retried; OAuth errors
/// (`invalid_client`, `invalid_scope`, ...) never are.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// First backoff ceiling; doubles per attempt (full jitter picks uniformly below it).
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Give up once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Default::default()
        }
    }

    /// Delay before attempt `attempt + 1` (0-based `attempt` just failed), full jitter:
    /// uniform in `[0, min(max_delay, base * 2^attempt))`, using `unit` in `[0, 1)`.
    pub fn backoff(&self, attempt: u32, unit: f64) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << attempt.min(20))
            .min(self.max_delay);
        ceiling.mul_f64(unit.clamp(0.0, 1.0))
    }
}
