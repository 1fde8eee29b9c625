//! `listen(path)` and the `Listener` it returns: a Unix socket that receives one new port per
//! client, as a `SharedWorker` receives one per `connect` event.
//!
//! A listener is a receiver like a port: [`Accepting`] puts the socket behind the core's
//! [`MessageEventTarget`] (one event per client, its port in `ports[0]`), so the listener has a
//! [`Receiver`] whose events are `connect` events. `onconnect` runs where `onmessage` would
//! (the running asyncio loop, else the dispatcher thread), `accept`, `accept_async` and
//! iteration take through the same drain as `recv`, and a listener with a handler stays alive
//! until it is closed.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use webmessaging_core as core;
use webmessaging_core::{CloseNotice, CloseReason, MessageEventTarget, MessageEventType, Notifier};
use webmessaging_ipc as ipc;
use webmessaging_python_macros::catch_panics;

use crate::aio::{Mode, Receive};
use crate::errors;
use crate::event::MessageEvent;
use crate::ipc::transport_usable;
use crate::port::MessagePort;
use crate::receiver::{Kind, Receiver, Step};

/// What a Python `Listener` receives from: the socket, and whether `close()` was called (the end
/// of its stream of clients, whatever the socket says afterwards).
///
/// It is a [`MessageEventTarget`], so a listener is drained like every other receiver: one
/// event per accepted client, its port in `ports[0]` (origin `""`, no data), and
/// `Error::Closed` once `close()` was called. A client that could not be set up (e.g. out of
/// descriptors: that client is lost, the listener goes on) is a `messageerror` event, as a
/// message that could not be delivered is; its OS error waits in `failures` for
/// [`connect_step`](Self::connect_step) to raise.
pub(crate) struct Accepting {
    listener: ipc::Listener,
    closed: AtomicBool,
    /// The errors of clients that could not be set up, oldest first: one per `messageerror`
    /// event handed out and not yet turned into a Python exception.
    failures: Mutex<VecDeque<ipc::Error>>,
}

/// How many client failures wait for their `messageerror` events at most (more are older than
/// any event still being taken; the oldest go first).
const MAX_FAILURES: usize = 16;

impl Accepting {
    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The end of the stream of clients, as the core says it.
    fn closed() -> core::Error {
        core::Error::Closed(CloseNotice {
            reason: CloseReason::Closed,
            by_peer: false,
        })
    }

    /// The Python exception for the end of the stream of clients.
    pub(crate) fn closed_error(py: Python<'_>) -> PyErr {
        errors::port_closed(py, "the listener is closed", CloseReason::Closed, false)
    }

    /// A listener's event in the core's shape: no data, origin `""`, no source.
    fn event(event_type: MessageEventType, ports: Vec<core::MessagePort>) -> core::MessageEvent {
        core::MessageEvent {
            event_type,
            data: Vec::new(),
            array_buffers: Vec::new(),
            origin: String::new(),
            last_event_id: String::new(),
            source: None,
            ports,
        }
    }

    /// A client's `connect` event: its port in `ports[0]`.
    fn connect_event(port: core::MessagePort) -> core::MessageEvent {
        Self::event(MessageEventType::Message, vec![port])
    }

    /// A client that could not be set up: its error waits for the `messageerror` event.
    fn failed(&self, err: ipc::Error) -> core::MessageEvent {
        {
            let mut failures = self.failures.lock();
            if failures.len() >= MAX_FAILURES {
                failures.pop_front();
            }
            failures.push_back(err);
        }
        Self::event(MessageEventType::MessageError, Vec::new())
    }

    /// A listener's event as Python's: a `connect` event with the client's `MessagePort`, or
    /// the error of a client that could not be set up.
    pub(crate) fn connect_step(&self, py: Python<'_>, event: core::MessageEvent) -> Step {
        if event.is_message_error() {
            let err = self.failures.lock().pop_front();
            return Step::Fail(match err {
                Some(e) => errors::ipc_to_py(py, e),
                None => PyOSError::new_err("a client could not be set up"),
            });
        }
        let Some(port) = event.ports.into_iter().next() else {
            return Step::Fail(errors::internal(py, "a connect event without its port"));
        };
        let made = Py::new(py, MessagePort::wrap(port))
            .and_then(|port| Py::new(py, MessageEvent::connect(py, port)?));
        match made {
            Ok(event) => Step::Event(event),
            Err(e) => Step::Fail(e),
        }
    }
}

impl MessageEventTarget for Accepting {
    fn try_next_event(&self) -> core::Result<Option<core::MessageEvent>> {
        if self.is_closed() {
            return Err(Self::closed());
        }
        match self.listener.try_accept() {
            Ok(Some(port)) => Ok(Some(Self::connect_event(port))),
            Ok(None) => Ok(None),
            Err(_) if self.is_closed() => Err(Self::closed()),
            Err(e) => Ok(Some(self.failed(e))),
        }
    }

    fn next_event(&self, timeout: Option<Duration>) -> core::Result<core::MessageEvent> {
        if self.is_closed() {
            return Err(Self::closed());
        }
        match self.listener.accept(timeout) {
            Ok(port) => Ok(Self::connect_event(port)),
            Err(_) if self.is_closed() => Err(Self::closed()),
            Err(e) if errors::ipc_timed_out(&e, true) => Err(core::Error::Timeout),
            Err(e) => Ok(self.failed(e)),
        }
    }

    fn set_notifier(&self, notifier: Option<Notifier>) {
        self.listener.set_notifier(notifier);
    }
}

/// The first port of an event (a `connect` event carries exactly one).
fn first_port(py: Python<'_>, event: Py<MessageEvent>) -> PyResult<Bound<'_, PyAny>> {
    event.bind(py).getattr("ports")?.get_item(0)
}

/// A Unix socket that receives one new port per client, as a `SharedWorker` receives one per
/// `connect` event (made by `listen(path)`).
#[pyclass(module = "webmessaging", frozen, weakref)]
pub(crate) struct Listener {
    shared: Arc<Receiver>,
    accepting: Arc<Accepting>,
}

impl Listener {
    fn shut(&self, py: Python<'_>) {
        if !self.accepting.closed.swap(true, Ordering::AcqRel) {
            py.detach(|| self.accepting.listener.close());
            // Dispatch and waiting futures see the end (and the handler's keepalive goes).
            self.shared.wake();
        }
    }
}

#[catch_panics]
#[pymethods]
impl Listener {
    /// The next client's port, waiting up to `timeout` seconds (`None`: until one connects) with
    /// the GIL released. Raises `TimeoutError`, or `PortClosedError` once the listener is closed.
    #[pyo3(signature = (timeout = None))]
    fn accept<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let event = self.shared.recv_blocking(py, timeout)?;
        first_port(py, event)
    }

    /// The next client's port if one is waiting, else `None`; `PortClosedError` once closed.
    fn try_accept<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.shared.try_recv(py)? {
            Some(event) => Ok(Some(first_port(py, event)?)),
            None => Ok(None),
        }
    }

    /// Awaits the next client's port on the running asyncio loop (cancellable; a cancelled
    /// await takes no client).
    #[pyo3(signature = (timeout = None))]
    fn accept_async(&self, timeout: Option<f64>) -> PyResult<Receive> {
        Receive::new(self.shared.clone(), timeout, Mode::Accept)
    }

    /// Handler called with a `connect` event per client (`event.ports[0]` is its port). It runs
    /// on the running asyncio loop if set inside one, else on the library's dispatcher thread.
    #[getter]
    fn get_onconnect(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.shared.get_onmessage(py)
    }

    #[setter]
    fn set_onconnect(&self, py: Python<'_>, handler: Option<Py<PyAny>>) -> PyResult<()> {
        self.shared.set_onmessage(py, handler)
    }

    /// Stops listening and removes the socket path. Clients already accepted keep their ports;
    /// clients connected but not yet accepted see theirs closed. `accept` raises
    /// `PortClosedError` and iteration ends. Idempotent.
    fn close(&self, py: Python<'_>) {
        self.shut(py);
    }

    /// A descriptor for `selectors` / `select`: readable while a client waits to be accepted,
    /// and for good once the listener is closed. Never read or close it; call `try_accept()`
    /// until it returns `None`. It stays open as long as the listener object exists.
    fn fileno(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.accepting.listener.ready_fd().as_raw_fd()
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.accepting.is_closed()
    }

    /// The socket path.
    #[getter]
    fn path(&self) -> PathBuf {
        self.accepting.listener.path().to_path_buf()
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// The next client's port; the iteration ends when the listener is closed.
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.shared.recv_blocking(py, None) {
            Ok(event) => Ok(Some(first_port(py, event)?)),
            Err(e)
                if self.accepting.is_closed()
                    && e.is_instance(py, errors::port_closed_error_type(py)?.as_any()) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn __aiter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __anext__(&self) -> PyResult<Receive> {
        Receive::new(self.shared.clone(), None, Mode::AcceptNext)
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> bool {
        self.shut(py);
        false
    }

    fn __repr__(&self) -> String {
        let state = if self.accepting.is_closed() {
            "closed"
        } else {
            "listening"
        };
        format!(
            "<webmessaging.Listener {} {state}>",
            self.accepting.listener.path().display()
        )
    }
}

/// Listens on a new Unix socket at `path` and returns the `Listener`. The socket file gets
/// `mode` (default owner-only, 0o600); clients running as another user id are refused unless
/// listed in `allow_uids` or `allow_any_uid` is set (connecting also needs write permission on
/// the file). At most `pending` clients are answered before the program accepts them; more wait
/// unanswered. Raises `FileExistsError` if the path exists (it is left untouched),
/// `PermissionError` if it cannot be created there.
#[catch_panics]
#[pyfunction]
#[pyo3(signature = (path, *, mode = 0o600, allow_uids = None, allow_any_uid = false, pending = 64))]
fn listen(
    py: Python<'_>,
    path: PathBuf,
    mode: u32,
    allow_uids: Option<Vec<u32>>,
    allow_any_uid: bool,
    pending: usize,
) -> PyResult<Listener> {
    transport_usable(py)?;
    if mode & !0o777 != 0 {
        return Err(PyValueError::new_err(format!(
            "mode {mode:#o} has bits beyond 0o777"
        )));
    }
    if pending == 0 {
        return Err(PyValueError::new_err("pending must be at least 1"));
    }
    let mut options = ipc::ListenOptions::new().mode(mode).pending(pending);
    for uid in allow_uids.unwrap_or_default() {
        options = options.allow_uid(uid);
    }
    if allow_any_uid {
        options = options.allow_any_uid();
    }
    let listener = py
        .detach(|| options.listen(&path))
        .map_err(|e| errors::ipc_to_py(py, e))?;
    let accepting = Arc::new(Accepting {
        listener,
        closed: AtomicBool::new(false),
        failures: Mutex::new(VecDeque::new()),
    });
    Ok(Listener {
        shared: Receiver::new(accepting.clone(), Kind::Listener(accepting.clone())),
        accepting,
    })
}

/// Adds `Listener` and `listen` to `webmessaging._native`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Listener>()?;
    m.add_function(wrap_pyfunction!(listen, m)?)?;
    Ok(())
}
