//! asyncio without blocking the event loop: the core future runs on the shared tokio runtime, and
//! its result completes an `asyncio.Future` through `loop.call_soon_threadsafe`.
//!
//! Results are handed to one background thread ("authsec-asyncio") that attaches to the interpreter
//! and completes every pending future in a batch, so tokio's workers never wait for the GIL.

use authsec_native::runtime;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyCFunction;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::OnceLock;

type Job = Box<dyn FnOnce(Python<'_>) + Send>;

static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);
static JOBS: OnceLock<Sender<Job>> = OnceLock::new();

/// Called from `atexit`: stop attaching from the background thread (the interpreter is finalizing).
#[pyfunction]
pub fn _shutdown() {
    SHUTTING_DOWN.store(true, Ordering::SeqCst);
}

fn run_jobs(rx: Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        if SHUTTING_DOWN.load(Ordering::SeqCst) {
            // Never attach to a finalizing interpreter; the Python objects are simply leaked.
            std::mem::forget(first);
            continue;
        }
        Python::attach(|py| {
            first(py);
            while let Ok(job) = rx.try_recv() {
                job(py);
            }
        });
    }
}

fn jobs() -> &'static Sender<Job> {
    JOBS.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        std::thread::Builder::new()
            .name("authsec-asyncio".into())
            .spawn(move || run_jobs(rx))
            .expect("authsec: cannot start the asyncio completion thread");
        tx
    })
}

/// `fut.set_result(value)` (`fut.set_exception(value)` when not `ok`) unless the future is
/// already done (cancelled).
#[pyfunction]
fn _settle(fut: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>, ok: bool) -> PyResult<()> {
    let py = fut.py();
    if !fut.call_method0(pyo3::intern!(py, "done"))?.is_truthy()? {
        let set = if ok {
            pyo3::intern!(py, "set_result")
        } else {
            pyo3::intern!(py, "set_exception")
        };
        fut.call_method1(set, (value,))?;
    }
    Ok(())
}

static SETTLE: PyOnceLock<Py<PyCFunction>> = PyOnceLock::new();
static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    GET_RUNNING_LOOP.import(py, "asyncio", "get_running_loop")?.call0()
}

/// `value` as what settles a future: the object and whether it is a result.
fn outcome<'py>(py: Python<'py>, value: PyResult<Bound<'py, PyAny>>) -> (Bound<'py, PyAny>, bool) {
    match value {
        Ok(v) => (v, true),
        Err(e) => (e.into_value(py).into_bound(py).into_any(), false),
    }
}

/// An `asyncio.Future` of the running loop that is already resolved.
pub fn ready<'py>(py: Python<'py>, value: PyResult<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
    let fut = running_loop(py)?.call_method0(pyo3::intern!(py, "create_future"))?;
    let (value, ok) = outcome(py, value);
    _settle(&fut, &value, ok)?;
    Ok(fut)
}

/// Run `work` on the shared runtime and return an `asyncio.Future` of the running loop that
/// `complete` resolves (with the interpreter attached) once `work` is done.
pub fn spawn<'py, F, T, C>(py: Python<'py>, work: F, complete: C) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
    C: for<'a> FnOnce(Python<'a>, T) -> PyResult<Bound<'a, PyAny>> + Send + 'static,
{
    let event_loop = running_loop(py)?;
    let fut = event_loop.call_method0(pyo3::intern!(py, "create_future"))?;
    let settle = SETTLE
        .get_or_try_init(py, || wrap_pyfunction!(_settle, py).map(Bound::unbind))?
        .clone_ref(py);
    let (event_loop, target) = (event_loop.unbind(), fut.clone().unbind());
    let tx = jobs().clone();
    runtime().spawn(async move {
        let out = work.await;
        let job: Job = Box::new(move |py| {
            let (value, ok) = outcome(py, complete(py, out));
            // Fails only when the loop is closed: nobody is waiting any more.
            let _ = event_loop
                .bind(py)
                .call_method1(pyo3::intern!(py, "call_soon_threadsafe"), (settle, target, value, ok));
        });
        if let Err(std::sync::mpsc::SendError(job)) = tx.send(job) {
            std::mem::forget(job);
        }
    });
    Ok(fut)
}
