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

/// Stop attaching from the background thread (the interpreter is finalizing).
pub fn shutdown() {
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

/// `fut.set_result(value)` unless the future is already done (cancelled).
#[pyfunction]
fn _resolve(fut: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if !fut.call_method0(pyo3::intern!(fut.py(), "done"))?.is_truthy()? {
        fut.call_method1(pyo3::intern!(fut.py(), "set_result"), (value,))?;
    }
    Ok(())
}

/// `fut.set_exception(exc)` unless the future is already done (cancelled).
#[pyfunction]
fn _reject(fut: &Bound<'_, PyAny>, exc: &Bound<'_, PyAny>) -> PyResult<()> {
    if !fut.call_method0(pyo3::intern!(fut.py(), "done"))?.is_truthy()? {
        fut.call_method1(pyo3::intern!(fut.py(), "set_exception"), (exc,))?;
    }
    Ok(())
}

static RESOLVE: PyOnceLock<Py<PyCFunction>> = PyOnceLock::new();
static REJECT: PyOnceLock<Py<PyCFunction>> = PyOnceLock::new();
static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    GET_RUNNING_LOOP.import(py, "asyncio", "get_running_loop")?.call0()
}

/// An `asyncio.Future` of the running loop that is already resolved.
pub fn ready<'py>(py: Python<'py>, value: PyResult<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
    let fut = running_loop(py)?.call_method0(pyo3::intern!(py, "create_future"))?;
    match value {
        Ok(v) => fut.call_method1(pyo3::intern!(py, "set_result"), (v,))?,
        Err(e) => fut.call_method1(pyo3::intern!(py, "set_exception"), (e.into_value(py),))?,
    };
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
    let resolve = RESOLVE
        .get_or_try_init(py, || wrap_pyfunction!(_resolve, py).map(Bound::unbind))?
        .clone_ref(py);
    let reject = REJECT
        .get_or_try_init(py, || wrap_pyfunction!(_reject, py).map(Bound::unbind))?
        .clone_ref(py);
    let (event_loop, target) = (event_loop.unbind(), fut.clone().unbind());
    let tx = jobs().clone();
    runtime().spawn(async move {
        let out = work.await;
        let job: Job = Box::new(move |py| {
            let (callback, arg) = match complete(py, out) {
                Ok(v) => (resolve, v.unbind()),
                Err(e) => (reject, e.into_value(py).into_any()),
            };
            // Fails only when the loop is closed: nobody is waiting any more.
            let _ = event_loop
                .bind(py)
                .call_method1(pyo3::intern!(py, "call_soon_threadsafe"), (callback, target, arg));
        });
        if let Err(std::sync::mpsc::SendError(job)) = tx.send(job) {
            std::mem::forget(job);
        }
    });
    Ok(fut)
}
