//! Where `onmessage` handlers and `recv_async` futures run.
//!
//! * Set inside a running asyncio loop: on that loop. The loop watches the read end of a hub's
//!   socket pair (`loop.add_reader`), which the notifier writes one byte to per batch.
//! * Otherwise: on one library dispatcher thread, a daemon `threading.Thread` named
//!   `webmessaging-dispatcher` that waits with the interpreter released.
//!
//! Either way the handlers of one port run one at a time, in message order.
//!
//! After `os.fork()` the child has no dispatcher thread (fork copies only the calling thread):
//! [`after_fork_in_child`] (registered with `os.register_at_fork`) starts a new one on the same
//! hub, so `onmessage` handlers set before the fork keep running in the child. Handlers set inside
//! an asyncio loop are not carried over: asyncio loops are not fork-safe, and the child must run
//! its own loop and set its handlers there.
//!
//! Only the standard library is called from here (`asyncio`, `threading`, `weakref`, `os`): the
//! package's Python modules sit above this native module, never below it.

use std::sync::Arc;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use webmessaging_python_macros::catch_panics;

use crate::hub::{Hub, HubCore};

/// The dispatcher thread's hub, created (and its thread started) on first use.
static THREAD_HUB: PyOnceLock<Py<Hub>> = PyOnceLock::new();
/// `weakref.WeakKeyDictionary` from an asyncio loop to its hub.
static LOOP_HUBS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn start_dispatcher(hub: &Bound<'_, Hub>) -> PyResult<()> {
    let py = hub.py();
    let kwargs = PyDict::new(py);
    kwargs.set_item("target", hub.getattr("_serve")?)?;
    kwargs.set_item("name", "webmessaging-dispatcher")?;
    kwargs.set_item("daemon", true)?;
    let thread = py
        .import("threading")?
        .getattr("Thread")?
        .call((), Some(&kwargs))?;
    thread.call_method0("start")?;
    Ok(())
}

/// The library dispatcher thread's hub (the thread is started on first use).
fn thread_hub(py: Python<'_>) -> PyResult<&Bound<'_, Hub>> {
    THREAD_HUB
        .get_or_try_init(py, || {
            let hub = Bound::new(py, Hub::new(false)?)?;
            start_dispatcher(&hub)?;
            Ok::<_, PyErr>(hub.unbind())
        })
        .map(|hub| hub.bind(py))
}

/// The hub of an asyncio event loop (registered with `loop.add_reader` on first use).
pub(crate) fn loop_hub<'py>(event_loop: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Hub>> {
    let py = event_loop.py();
    let hubs = LOOP_HUBS
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(
                py.import("weakref")?
                    .getattr("WeakKeyDictionary")?
                    .call0()?
                    .unbind(),
            )
        })?
        .bind(py);
    let existing = hubs.call_method1("get", (event_loop,))?;
    if !existing.is_none() {
        return Ok(existing.cast_into::<Hub>()?);
    }
    let hub = Bound::new(py, Hub::new(true)?)?;
    let fd = hub
        .get()
        .fileno()
        .ok_or_else(|| PyRuntimeError::new_err("a loop hub has a socket"))?;
    event_loop.call_method1("add_reader", (fd, hub.getattr("run")?))?;
    hubs.set_item(event_loop, &hub)?;
    py.import("weakref")?
        .getattr("finalize")?
        .call1((event_loop, hub.getattr("close")?))?;
    Ok(hub)
}

/// The running asyncio loop of this thread, if any (asyncio is not imported just to ask).
pub(crate) fn running_loop(py: Python<'_>) -> PyResult<Option<Bound<'_, PyAny>>> {
    let modules = py.import("sys")?.getattr("modules")?;
    let asyncio = modules.call_method1("get", ("asyncio",))?;
    if asyncio.is_none() {
        return Ok(None);
    }
    let running = asyncio.call_method0("_get_running_loop")?;
    Ok((!running.is_none()).then_some(running))
}

/// The running loop's hub when called inside one, else the dispatcher thread's.
pub(crate) fn current_hub(py: Python<'_>) -> PyResult<Arc<HubCore>> {
    Ok(match running_loop(py)? {
        Some(event_loop) => loop_hub(&event_loop)?.get().core.clone(),
        None => thread_hub(py)?.get().core.clone(),
    })
}

/// `os.register_at_fork(after_in_child=...)`: the dispatcher thread did not survive the fork;
/// serve the same hub (its ready list and every port's handler were copied with the process)
/// from a new one.
#[catch_panics]
#[pyfunction]
pub(crate) fn _after_fork_in_child(py: Python<'_>) -> PyResult<()> {
    if let Some(hub) = THREAD_HUB.get(py) {
        let hub = hub.bind(py);
        hub.get().after_fork_in_child();
        start_dispatcher(hub)?;
    }
    Ok(())
}

/// Registers [`_after_fork_in_child`] (where the platform has `os.register_at_fork`).
pub(crate) fn register_at_fork(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let os = module.py().import("os")?;
    if os.hasattr("register_at_fork")? {
        let kwargs = PyDict::new(module.py());
        kwargs.set_item("after_in_child", module.getattr("_after_fork_in_child")?)?;
        os.getattr("register_at_fork")?.call((), Some(&kwargs))?;
    }
    Ok(())
}
