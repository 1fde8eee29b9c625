//! The receiver behind every Python object that receives: a `MessagePort`, `Window`,
//! `BroadcastChannel` or `Listener` is one [`Receiver`] over the core's
//! [`MessageEventTarget`], so taking, waiting and draining have one path for all of them
//! ([`Receiver::take`]). What differs per kind and only matters to Python (what its events
//! become, what keeps it alive) is its [`Kind`]. Delivery to handlers and `recv_async` futures
//! lives in [`delivery`].
//!
//! Locking rules (docs/architecture.md): no core lock is ever held while Python runs (the core
//! guarantees it for its own locks), and `Receiver::state` is only held for plain field
//! updates — never while calling Python or dropping a Python object, and never while waiting
//! for the interpreter.

mod delivery;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pyo3::exceptions::PyTimeoutError;
use pyo3::prelude::*;
use webmessaging_core as core;
use webmessaging_core::{Error, MessageEventTarget};

use crate::errors;
use crate::event::{message_step, MessageEvent};
use crate::listener::Accepting;
use delivery::PyState;

/// A blocking `recv` wakes this often to let Ctrl-C (signal handlers) through.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// The Python-specific part of a kind of receiver: what its events become and what keeps it
/// alive. Taking, waiting and draining go through the core's [`MessageEventTarget`] for every
/// kind alike.
pub(crate) enum Kind {
    /// A port or broadcast channel: `message` events; a handler keeps it alive until its stream
    /// ends (R-CH-33, R-BC-20).
    Messages,
    /// A window: `message` events; it lives as long as its host keeps it, handler or not.
    Window,
    /// A cross-process listener: `connect` events, one per client (see [`Accepting`]).
    Listener(Arc<Accepting>),
}

/// One step of taking from a receiver.
pub(crate) enum Step {
    /// An event to hand over.
    Event(Py<MessageEvent>),
    /// Nothing is queued now; the notifier fires when that changes.
    Empty,
    /// The end of the stream (a port's close record, a closed broadcast channel or listener),
    /// or a port transferred away: the error to raise from pull calls.
    End(Error),
    /// A message that could not be deserialized: the error and the `messageerror` event.
    Bad(PyErr, Py<MessageEvent>),
    /// A listener could not set up one client (e.g. out of descriptors; that client is lost,
    /// the listener goes on): pull calls raise it, dispatch reports it and carries on.
    Fail(PyErr),
}

/// The state behind one Python `MessagePort`, `Window`, `BroadcastChannel` or `Listener`:
/// what it receives from, its kind, and (in [`PyState`]) its handlers, the hub they run on and
/// its `recv_async` waiters.
pub(crate) struct Receiver {
    /// What it receives from: a core port, window or broadcast channel, or a listener.
    target: Arc<dyn MessageEventTarget>,
    kind: Kind,
    state: Mutex<PyState>,
    notifier_installed: AtomicBool,
    /// A hub's consumer is dispatching to the handler now (see `delivery`).
    dispatching: AtomicBool,
    /// Another consumer came while `dispatching`: notify again when done.
    again: AtomicBool,
    me: Weak<Receiver>,
}

impl Receiver {
    /// A receiver over `target`, with no handler and no waiter yet.
    pub(crate) fn new(target: Arc<dyn MessageEventTarget>, kind: Kind) -> Arc<Self> {
        Arc::new_cyclic(|me| Receiver {
            target,
            kind,
            state: Mutex::new(PyState::default()),
            notifier_installed: AtomicBool::new(false),
            dispatching: AtomicBool::new(false),
            again: AtomicBool::new(false),
            me: me.clone(),
        })
    }

    /// Installs the core notifier once. It holds only a weak reference, so an unlistened port
    /// can still be dropped (and closed) by the garbage collector.
    pub(crate) fn ensure_notifier(&self) {
        if !self.notifier_installed.swap(true, Ordering::AcqRel) {
            let me = self.me.clone();
            let notifier: core::Notifier = Arc::new(move || {
                if let Some(shared) = me.upgrade() {
                    shared.notify();
                }
            });
            self.target.set_notifier(Some(notifier));
        }
    }

    /// Enables delivery (a port's `start()`; other receivers deliver from the start).
    pub(crate) fn start(&self) {
        self.target.start();
    }

    /// Takes the next event, if any: the one drain every pull call, `recv_async` and dispatch
    /// go through.
    pub(crate) fn take(&self, py: Python<'_>) -> Step {
        match self.target.try_next_event() {
            Ok(Some(event)) => self.step(py, event),
            Ok(None) => Step::Empty,
            Err(e) => Step::End(e),
        }
    }

    /// A core event as this kind's Python event.
    fn step(&self, py: Python<'_>, event: core::MessageEvent) -> Step {
        match &self.kind {
            Kind::Listener(accepting) => accepting.connect_step(py, event),
            Kind::Messages | Kind::Window => message_step(py, event),
        }
    }

    /// The Python exception for the end of the stream (or a port transferred away).
    pub(crate) fn end_error(&self, py: Python<'_>, err: Error) -> PyErr {
        match (&self.kind, err) {
            (Kind::Listener(_), Error::Closed(_)) => Accepting::closed_error(py),
            (_, err) => errors::to_py(py, err),
        }
    }

    /// What a pull call returns for a step: the event, `None`, or the exception to raise.
    fn pulled(&self, py: Python<'_>, step: Step) -> PyResult<Option<Py<MessageEvent>>> {
        match step {
            Step::Event(event) => Ok(Some(event)),
            Step::Empty => Ok(None),
            Step::End(e) => Err(self.end_error(py, e)),
            Step::Bad(err, _) | Step::Fail(err) => Err(err),
        }
    }

    /// Waits for the next event with the interpreter released, in slices so signals (Ctrl-C)
    /// are handled. Raises the built-in `TimeoutError` when `timeout` seconds pass.
    pub(crate) fn recv_blocking(
        &self,
        py: Python<'_>,
        timeout: Option<f64>,
    ) -> PyResult<Py<MessageEvent>> {
        deadline_of(timeout)?; // a bad timeout is refused even when an event is waiting
        loop {
            if let Some(event) = self.pulled(py, self.take(py))? {
                return Ok(event);
            }
            let event = self.wait(py, timeout)?;
            if let Some(event) = self.pulled(py, self.step(py, event))? {
                return Ok(event);
            }
        }
    }

    /// The waiting part of [`recv_blocking`](Self::recv_blocking).
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<core::MessageEvent> {
        let deadline = deadline_of(timeout)?;
        loop {
            let slice = next_slice(deadline);
            match py.detach(|| self.target.next_event(Some(slice))) {
                Ok(event) => return Ok(event),
                Err(Error::Timeout) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Err(PyTimeoutError::new_err(match self.kind {
                            Kind::Listener(_) => "no client connected before the timeout",
                            Kind::Messages | Kind::Window => {
                                "no message arrived before the timeout"
                            }
                        }));
                    }
                    py.check_signals()?;
                }
                Err(e) => return Err(self.end_error(py, e)),
            }
        }
    }

    /// `try_recv()` for Python: an event, `None`, or the end error.
    pub(crate) fn try_recv(&self, py: Python<'_>) -> PyResult<Option<Py<MessageEvent>>> {
        self.pulled(py, self.take(py))
    }
}

/// The instant a `timeout` in seconds ends (`None`: never; a timeout too large to represent is
/// never too). Raises `ValueError` for NaN or a negative timeout.
pub(crate) fn deadline_of(timeout: Option<f64>) -> PyResult<Option<Instant>> {
    match timeout {
        Some(t) if t.is_nan() || t < 0.0 => Err(pyo3::exceptions::PyValueError::new_err(
            "timeout must be a non-negative number",
        )),
        Some(t) => Ok(Duration::try_from_secs_f64(t)
            .ok()
            .and_then(|d| Instant::now().checked_add(d))),
        None => Ok(None),
    }
}

/// How long the next slice of a wait lasts: at most [`SIGNAL_CHECK`], so signals get through.
fn next_slice(deadline: Option<Instant>) -> Duration {
    match deadline {
        Some(d) => d
            .saturating_duration_since(Instant::now())
            .min(SIGNAL_CHECK),
        None => SIGNAL_CHECK,
    }
}
