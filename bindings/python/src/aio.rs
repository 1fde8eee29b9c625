//! asyncio: `await receiver.recv_async(timeout)` and `async for event in receiver`.
//!
//! `recv_async()` returns a [`Receive`], a coroutine (registered as a
//! `collections.abc.Coroutine`, so `asyncio.create_task` takes it) that does nothing until it is
//! first awaited. Then, on the running loop, it takes a waiting message at once, or creates a
//! future and registers it as a waiter of the receiver on the loop's hub. When the receiver
//! becomes readable, the hub (on the loop's thread) takes one message per waiting future and
//! resolves it. A future that was cancelled or timed out is skipped, so cancelling an await loses
//! no message: a message is taken from the queue only for the future that returns it.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use pyo3::exceptions::{PyStopAsyncIteration, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use webmessaging_python_macros::catch_panics;

use crate::errors;
use crate::receiver::{Receiver, Step};

/// What the end of the receiver becomes for the awaiting code.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `recv_async()`: `PortClosedError`.
    Recv,
    /// `__anext__()`: `StopAsyncIteration`, which ends `async for`.
    Next,
    /// A listener's `accept_async()`: the event's port, `PortClosedError` once closed.
    Accept,
    /// A listener's `__anext__()`: the event's port, `StopAsyncIteration` once closed.
    AcceptNext,
}

impl Mode {
    fn ends_iteration(self) -> bool {
        matches!(self, Mode::Next | Mode::AcceptNext)
    }

    fn yields_port(self) -> bool {
        matches!(self, Mode::Accept | Mode::AcceptNext)
    }
}

/// Tries to complete `future` from `shared`; `Ok(false)` when nothing is waiting.
pub(crate) fn resolve(
    py: Python<'_>,
    shared: &Receiver,
    future: &Bound<'_, PyAny>,
    mode: Mode,
) -> PyResult<bool> {
    let error = match shared.take(py) {
        Step::Empty => return Ok(false),
        Step::Event(event) => {
            if mode.yields_port() {
                let port = event.bind(py).getattr("ports")?.get_item(0)?;
                future.call_method1("set_result", (port,))?;
            } else {
                future.call_method1("set_result", (event,))?;
            }
            return Ok(true);
        }
        Step::Bad(err, _) | Step::Fail(err) => err,
        Step::End(end) => end_error(py, shared.end_error(py, end), mode)?,
    };
    future.call_method1("set_exception", (error.value(py),))?;
    Ok(true)
}

/// The error that ends a receiver: `StopAsyncIteration` instead of `PortClosedError` for
/// `async for`.
fn end_error(py: Python<'_>, err: PyErr, mode: Mode) -> PyResult<PyErr> {
    if mode.ends_iteration() && err.is_instance(py, errors::port_closed_error_type(py)?.as_any()) {
        Ok(PyStopAsyncIteration::new_err(()))
    } else {
        Ok(err)
    }
}

/// The awaitable returned by `recv_async()` and `__anext__()` (see the module docs).
#[pyclass(module = "webmessaging._native", name = "recv_async", frozen)]
pub(crate) struct Receive {
    shared: Arc<Receiver>,
    timeout: Option<f64>,
    mode: Mode,
    /// The future and its `__await__` iterator, once started.
    inner: Mutex<Option<(Py<PyAny>, Py<PyAny>)>>,
}

impl Receive {
    pub(crate) fn new(shared: Arc<Receiver>, timeout: Option<f64>, mode: Mode) -> PyResult<Self> {
        if timeout.is_some_and(|t| t.is_nan() || t < 0.0) {
            return Err(PyValueError::new_err(
                "timeout must be a non-negative number",
            ));
        }
        Ok(Receive {
            shared,
            timeout,
            mode,
            inner: Mutex::new(None),
        })
    }

    /// The future's iterator, starting the receive on the running loop at the first step.
    fn inner<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some((_, inner)) = &*self.inner.lock().unwrap_or_else(PoisonError::into_inner) {
            return Ok(inner.bind(py).clone());
        }
        let future = self.start(py)?;
        let inner = future.call_method0("__await__")?;
        *self.inner.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((future.unbind(), inner.clone().unbind()));
        Ok(inner)
    }

    /// Forgets a receive that will not be awaited to the end: its waiter goes (so no message is
    /// taken for it) and its future is cancelled.
    fn abandon(&self, py: Python<'_>) -> PyResult<()> {
        let started = self
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some((future, inner)) = started {
            let future = future.bind(py);
            self.shared.remove_waiter(py, future);
            inner.bind(py).call_method0("close")?;
            future.call_method0("cancel")?;
        }
        Ok(())
    }

    fn start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
        let future = event_loop.call_method0("create_future")?;
        if resolve(py, &self.shared, &future, self.mode)? {
            return Ok(future);
        }
        let timer = match self.timeout {
            Some(t) => Some(
                event_loop
                    .call_method1("call_later", (t, Bound::new(py, TimeOut)?, &future))?
                    .unbind(),
            ),
            None => None,
        };
        let done = WaiterDone {
            shared: Arc::downgrade(&self.shared),
            timer,
        };
        future.call_method1("add_done_callback", (Bound::new(py, done)?,))?;
        let hub = crate::dispatch::loop_hub(&event_loop)?;
        self.shared
            .add_waiter(&hub.get().core, future.clone().unbind(), self.mode);
        // A message that arrived after the first look fired the notifier before this waiter
        // existed: look once more (if this takes it, the done callback drops the waiter).
        resolve(py, &self.shared, &future, self.mode)?;
        Ok(future)
    }
}

#[catch_panics]
#[pymethods]
impl Receive {
    fn __await__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.inner(py)?.call_method0("__next__")
    }

    fn send<'py>(&self, py: Python<'py>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.inner(py)?.call_method1("send", (value,))
    }

    #[pyo3(signature = (*args))]
    fn throw<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.inner(py)?.call_method1("throw", args)
    }

    /// Abandons the receive: its waiter is removed and its future cancelled; nothing is taken.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.abandon(py)
    }
}

impl Drop for Receive {
    /// A receive dropped mid-way (never awaited to the end) must not take a message later.
    fn drop(&mut self) {
        let started = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        if started.is_some() {
            // Dropped by the interpreter (it is a Python object), so attaching only nests; at
            // shutdown nothing is left to protect and nothing is done. A
            // deallocation may happen while an exception is propagating (the StopAsyncIteration
            // that ends `async for`): set it aside while calling Python, as CPython's own
            // finalizers do, and put it back.
            Python::try_attach(|py| {
                let propagating = PyErr::take(py);
                if let Err(e) = self.abandon(py) {
                    // The loop may be closed already; the waiter is gone either way.
                    drop(e);
                }
                if let Some(e) = propagating {
                    e.restore(py);
                }
            });
        }
    }
}

/// The `call_later` callback of a receive with a timeout.
#[pyclass(module = "webmessaging._native", frozen)]
struct TimeOut;

#[catch_panics]
#[pymethods]
impl TimeOut {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if !future.call_method0("done")?.is_truthy()? {
            let err = PyTimeoutError::new_err("no message arrived before the timeout");
            future.call_method1("set_exception", (err.value(future.py()),))?;
        }
        Ok(())
    }
}

/// The future's done callback: forgets the waiter and the timer, however the future ended.
#[pyclass(module = "webmessaging._native", frozen)]
struct WaiterDone {
    shared: Weak<Receiver>,
    timer: Option<Py<PyAny>>,
}

#[catch_panics]
#[pymethods]
impl WaiterDone {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if let Some(timer) = &self.timer {
            timer.bind(future.py()).call_method0("cancel")?;
        }
        if let Some(shared) = self.shared.upgrade() {
            shared.remove_waiter(future.py(), future);
        }
        Ok(())
    }
}

/// Makes [`Receive`] a `collections.abc.Coroutine` (what `asyncio.create_task` checks for).
pub(crate) fn register(py: Python<'_>) -> PyResult<()> {
    py.import("collections.abc")?
        .getattr("Coroutine")?
        .call_method1("register", (py.get_type::<Receive>(),))?;
    Ok(())
}
