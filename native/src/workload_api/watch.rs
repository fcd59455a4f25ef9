//! A watch: one background task on the shared runtime that keeps a Workload API stream open and
//! hands every message (each one the full state, never a delta) to a callback. When the stream
//! ends or fails it reconnects after a delay that starts at the client's initial backoff (1 s),
//! doubles up to its maximum (30 s) and is drawn from the upper half of that range (jitter); a
//! message resets it. `PermissionDenied` (no identity issued yet) is retried like any failure;
//! `InvalidArgument` (the server refuses the request itself, e.g. without the security metadata)
//! is not: the watch reports it and ends. Dropping the [`Watch`] (or [`Watch::stop`]) aborts the
//! task, and with it the stream.

use super::WorkloadApiClient;
use crate::runtime;
use authsec_core::{Error, ErrorCode, Result};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::Code;

#[derive(Clone, Debug)]
enum State {
    /// No update yet.
    Waiting,
    /// At least one update was delivered.
    Ready,
    /// Ended before any update, with this error.
    Failed(Error),
    /// Stopped before any update.
    Stopped,
}

struct Shared {
    endpoint: Arc<str>,
    call: &'static str,
    updates: AtomicU64,
    last_error: Mutex<Option<Error>>,
    state: tokio::sync::watch::Sender<State>,
}

impl Shared {
    fn set_error(&self, e: Option<Error>) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = e;
    }
    /// Leave `Waiting` for `to` (later transitions are ignored: `Ready` stays `Ready`).
    fn settle(&self, to: State) {
        self.state.send_if_modified(|s| {
            if matches!(s, State::Waiting) {
                *s = to;
                true
            } else {
                false
            }
        });
    }
}

/// A running watch (see [`WorkloadApiClient::watch_jwt_bundles`]). Dropping it stops it.
pub struct Watch {
    shared: Arc<Shared>,
    task: tokio::task::AbortHandle,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("endpoint", &self.shared.endpoint)
            .field("call", &self.shared.call)
            .field("updates", &self.updates())
            .finish_non_exhaustive()
    }
}

impl Watch {
    /// Wait until the first update was delivered (its callback has returned). Fails with the
    /// error that ended the watch, or `timeout` (naming the last error) after `timeout`.
    pub async fn wait_first(&self, timeout: Duration) -> Result<()> {
        let mut rx = self.shared.state.subscribe();
        let shared = self.shared.clone();
        runtime()
            .spawn(async move {
                let state = tokio::time::timeout(timeout, rx.wait_for(|s| !matches!(s, State::Waiting)))
                    .await
                    .map(|r| r.map(|s| s.clone()));
                match state {
                    Ok(Ok(State::Ready)) => Ok(()),
                    Ok(Ok(State::Failed(e))) => Err(e),
                    Ok(Ok(State::Stopped | State::Waiting)) | Ok(Err(_)) => Err(Error::new(
                        ErrorCode::WorkloadApiUnavailable,
                        format!(
                            "the watch of {} at {} was stopped before its first update",
                            shared.call, shared.endpoint
                        ),
                    )),
                    Err(_) => {
                        let last = shared.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone();
                        let why = last.map_or(String::new(), |e| format!(" (last error: {e})"));
                        Err(Error::timeout(format!(
                            "no {} update from the SPIFFE Workload API at {} within {timeout:?}{why}",
                            shared.call, shared.endpoint
                        )))
                    }
                }
            })
            .await
            .map_err(|e| Error::internal(format!("the Workload API task failed: {e}")))?
    }

    /// The error since the last update (none once an update arrives), or the one that ended it.
    pub fn last_error(&self) -> Option<Error> {
        self.shared.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// How many updates were delivered.
    pub fn updates(&self) -> u64 {
        self.shared.updates.load(Ordering::SeqCst)
    }

    /// Stop the watch (idempotent): the task is aborted, the stream closed.
    pub fn stop(&self) {
        self.task.abort();
        self.shared.settle(State::Stopped);
    }

    /// Whether the task has ended (stopped, or ended by an error that is not retried).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(super) fn start<Req, Resp, T>(
    client: WorkloadApiClient,
    call: &'static str,
    path: &'static str,
    req: Req,
    convert: fn(Resp) -> std::result::Result<T, String>,
    on_update: Arc<dyn Fn(T) + Send + Sync>,
) -> Watch
where
    Req: prost::Message + Clone + Send + Sync + 'static,
    Resp: prost::Message + Default + Send + Sync + 'static,
    T: Send + 'static,
{
    let (state, _) = tokio::sync::watch::channel(State::Waiting);
    let shared = Arc::new(Shared {
        endpoint: client.endpoint.clone(),
        call,
        updates: AtomicU64::new(0),
        last_error: Mutex::new(None),
        state,
    });
    let s = shared.clone();
    let task = runtime().spawn(async move {
        let (initial, max) = client.backoff;
        let mut delay = initial;
        loop {
            let failure = match client.stream::<Req, Resp>(path, req.clone()).await {
                Err(status) => Failure::Status(status),
                Ok(mut stream) => loop {
                    match stream.message().await {
                        Err(status) => break Failure::Status(status),
                        Ok(None) => break Failure::Ended,
                        Ok(Some(msg)) => match convert(msg) {
                            Err(why) => break Failure::Invalid(client.invalid_response(call, &why)),
                            Ok(value) => {
                                delay = initial;
                                deliver(&s, &on_update, value);
                            }
                        },
                    }
                },
            };
            let error = match failure {
                Failure::Status(status) if status.code() == Code::InvalidArgument => {
                    let e = client.status_error(call, &status);
                    s.set_error(Some(e.clone()));
                    s.settle(State::Failed(e));
                    return;
                }
                Failure::Status(status) => client.status_error(call, &status),
                Failure::Invalid(e) => e,
                Failure::Ended => Error::new(
                    ErrorCode::WorkloadApiUnavailable,
                    format!(
                        "the SPIFFE Workload API at {} ended the {call} stream; reconnecting",
                        client.endpoint
                    ),
                ),
            };
            s.set_error(Some(error));
            tokio::time::sleep(jitter(delay)).await;
            delay = (delay * 2).min(max);
        }
    });
    Watch {
        shared,
        task: task.abort_handle(),
    }
}

enum Failure {
    Status(tonic::Status),
    Invalid(Error),
    Ended,
}

fn deliver<T>(s: &Shared, on_update: &Arc<dyn Fn(T) + Send + Sync>, value: T) {
    // A panicking callback must not end the watch (nor poison anything): it is reported.
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| on_update(value)));
    s.set_error(
        outcome
            .err()
            .map(|_| Error::internal(format!("the {} watch's callback panicked", s.call))),
    );
    s.updates.fetch_add(1, Ordering::SeqCst);
    s.settle(State::Ready);
}

/// A delay drawn uniformly from `[d/2, d]`.
pub(super) fn jitter(d: Duration) -> Duration {
    let mut b = [0u8; 4];
    let r = if getrandom::fill(&mut b).is_ok() {
        u32::from_le_bytes(b) as f64 / u32::MAX as f64
    } else {
        1.0
    };
    d.mul_f64(0.5 + 0.5 * r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_the_upper_half() {
        for _ in 0..1000 {
            let j = jitter(Duration::from_secs(30));
            assert!(j >= Duration::from_secs(15) && j <= Duration::from_secs(30), "{j:?}");
        }
        let mut d = Duration::from_secs(1);
        let mut seen = vec![];
        for _ in 0..8 {
            seen.push(d.as_secs());
            d = (d * 2).min(Duration::from_secs(30));
        }
        assert_eq!(seen, [1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
