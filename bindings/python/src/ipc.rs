//! Cross-process ports: `export_fd` / `import_fd`, `parent_port` and `connect` (the listener
//! that `listen` returns is in [`crate::listener`]).
//!
//! A port from another process is an ordinary core port, so it gets the ordinary Python
//! `MessagePort`. `spawn` is written in Python (`webmessaging/_process.py`) with
//! `subprocess.Popen`, on top of `export_fd`. Every call that may block releases the
//! interpreter.

use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use pyo3::exceptions::{PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use webmessaging_ipc as ipc;
use webmessaging_python_macros::catch_panics;

use crate::errors;
use crate::port::MessagePort;
use crate::receiver::deadline_of;

/// The process that first used the transport through this module (0: none yet).
static TRANSPORT_PID: AtomicU32 = AtomicU32::new(0);

/// Refuses the transport in a child forked (without `exec`) from a process that had started it:
/// the transport's thread did not survive the fork, so ports made here would never move a
/// message (a silent hang). Python's `multiprocessing` forks by default on Linux.
pub(crate) fn transport_usable(py: Python<'_>) -> PyResult<()> {
    let me = std::process::id();
    match TRANSPORT_PID.compare_exchange(0, me, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => Ok(()),
        Err(pid) if pid == me => Ok(()),
        Err(pid) => Err(errors::invalid_state(
            py,
            format!(
                "cross-process ports were used in process {pid} and this process is a fork of \
                 it (without exec), where they cannot work: start the process with \
                 webmessaging.spawn, or use multiprocessing's 'spawn' or 'forkserver' start method"
            ),
        )),
    }
}

/// Connects to the `Listener` at `path` and returns this client's port, waiting up to `timeout`
/// seconds for its answer (`None`: no limit) with the GIL released. Raises `FileNotFoundError`
/// (nothing at the path), `ConnectionRefusedError` (nothing listening, or another user's
/// listener refused this one), `TimeoutError`, `ProtocolError` (not a webmessaging listener).
#[catch_panics]
#[pyfunction]
#[pyo3(signature = (path, timeout = None))]
fn connect(py: Python<'_>, path: PathBuf, timeout: Option<f64>) -> PyResult<MessagePort> {
    transport_usable(py)?;
    deadline_of(timeout)?; // validates it
                           // A timeout too large to represent waits without limit.
    let timeout = timeout.and_then(|t| Duration::try_from_secs_f64(t).ok());
    match py.detach(|| ipc::connect(&path, timeout)) {
        Ok(port) => Ok(MessagePort::wrap(port)),
        Err(e) if errors::ipc_timed_out(&e, false) => Err(PyTimeoutError::new_err(format!(
            "no answer from the listener at {} before the timeout",
            path.display()
        ))),
        Err(e) => Err(errors::ipc_to_py(py, e)),
    }
}

/// The port its parent process gave this one (see `spawn`), or `None`. Only the first call
/// returns it: the `WEBMESSAGING_PORT_FD` variable is removed (from `os.environ` too, so
/// children started later do not inherit a stale number).
#[catch_panics]
#[pyfunction]
fn parent_port(py: Python<'_>) -> PyResult<Option<MessagePort>> {
    transport_usable(py)?;
    let got = py.detach(ipc::parent_port);
    py.import("os")?
        .getattr("environ")?
        .call_method1("pop", (ipc::PORT_FD_ENV, py.None()))?;
    match got {
        Ok(port) => Ok(port.map(MessagePort::wrap)),
        Err(e) => Err(errors::ipc_to_py(py, e)),
    }
}

/// Exports `port` as a connected socket descriptor, which the caller then owns (pass it to
/// another process or another copy of the library, which calls `import_fd`). The port is
/// detached here, as by a transfer; messages queued for it go along. Raises `DataCloneError`
/// for a closed or already transferred port.
#[catch_panics]
#[pyfunction]
fn export_fd(py: Python<'_>, port: &Bound<'_, MessagePort>) -> PyResult<i32> {
    transport_usable(py)?;
    let port = port.get();
    let core_port = port.port.clone();
    let fd = py
        .detach(move || ipc::export_fd(&core_port))
        .map_err(|e| errors::ipc_to_py(py, e))?;
    port.shared.forget_listeners();
    Ok(fd.into_raw_fd())
}

/// Imports a descriptor made by `export_fd` (in this process or another) as a port. The
/// descriptor belongs to the library from then on (it is closed on failure too): pass a number
/// nothing else will close (`socket.detach()`, not `socket.fileno()`). Raises `OSError` (EBADF)
/// without taking it if the number is not an open descriptor.
#[catch_panics]
#[pyfunction]
fn import_fd(py: Python<'_>, fd: i32) -> PyResult<MessagePort> {
    transport_usable(py)?;
    if fd < 0 {
        return Err(PyValueError::new_err(format!(
            "{fd} is not a file descriptor"
        )));
    }
    // Fails with EBADF (and takes nothing) if no such descriptor is open.
    py.import("os")?.call_method1("fstat", (fd,))?;
    // SAFETY: `fd` is open (checked just above) and the caller hands its ownership over, as
    // documented; nothing in this process closes it but the OwnedFd.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let port = py
        .detach(move || ipc::import_fd(owned))
        .map_err(|e| errors::ipc_to_py(py, e))?;
    Ok(MessagePort::wrap(port))
}

/// Waits until every message posted to a cross-process port before this call was written to
/// its socket (or its peer is gone), up to `timeout` seconds (`None`: no limit), with the GIL
/// released; returns whether that happened. The library does this at exit on its own (up to
/// 5 seconds), so a program that posts and exits loses nothing; call it to bound the wait, or
/// before a step that may end the process abruptly.
#[catch_panics]
#[pyfunction]
#[pyo3(signature = (timeout = None))]
fn flush(py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
    deadline_of(timeout)?; // validates it
    let timeout = timeout.and_then(|t| Duration::try_from_secs_f64(t).ok());
    Ok(py.detach(|| ipc::flush(timeout)))
}

/// Adds this module's functions and classes to `webmessaging._native`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    crate::listener::register(m)?;
    m.add_function(wrap_pyfunction!(connect, m)?)?;
    m.add_function(wrap_pyfunction!(parent_port, m)?)?;
    m.add_function(wrap_pyfunction!(export_fd, m)?)?;
    m.add_function(wrap_pyfunction!(import_fd, m)?)?;
    m.add_function(wrap_pyfunction!(flush, m)?)?;
    m.add("PORT_FD_ENV", ipc::PORT_FD_ENV)?;
    Ok(())
}
