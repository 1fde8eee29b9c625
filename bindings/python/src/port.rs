//! `MessageChannel`, `MessagePort` and `MessageEvent`.
//!
//! Locking rules (docs/architecture.md): no core lock is ever held while Python runs (the core
//! guarantees it for its own locks), and this file's own `PortShared::state` mutex is only held
//! for plain field updates — never while calling Python or dropping a Python object, and never
//! while waiting for the interpreter.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pyo3::exceptions::PyTimeoutError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyDict, PyTuple};
use webmessaging_core as core;
use webmessaging_core::{Error, Message, MessageEventTarget};
use webmessaging_python_macros::catch_panics;

use crate::aio::{self, Mode, Receive};
use crate::convert;
use crate::errors::{self, IntoPyResult};
use crate::hub::HubCore;
use crate::ipc::Accepting;

/// How many messages one port may dispatch per hub round before yielding to other ports.
const DISPATCH_BUDGET: usize = 512;
/// A blocking `recv` wakes this often to let Ctrl-C (signal handlers) through.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

#[derive(Default)]
struct PyState {
    onmessage: Option<Py<PyAny>>,
    onmessageerror: Option<Py<PyAny>>,
    /// Where `onmessage` runs (set with it).
    hub: Option<Arc<HubCore>>,
    /// `recv_async` futures waiting for this port, with the hub of their loop.
    waiters: Vec<(Arc<HubCore>, Py<PyAny>, Mode)>,
    /// A port with an `onmessage` handler stays alive while entangled even when the program
    /// drops every handle (R-CH-33); cleared on close, on transfer and when the handler is removed.
    keepalive: Option<Arc<PortShared>>,
}

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
    Event(Py<MessageEvent>),
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

/// The state behind one Python `MessagePort`, `Window` or `BroadcastChannel` object: its
/// onmessage handler, the hub it runs on, and recv_async waiters.
pub(crate) struct PortShared {
    target: Arc<dyn MessageEventTarget>,
    kind: Kind,
    state: Mutex<PyState>,
    notifier_installed: AtomicBool,
    dispatching: AtomicBool,
    again: AtomicBool,
    me: Weak<PortShared>,
}

impl PortShared {
    pub(crate) fn new(target: Arc<dyn MessageEventTarget>, kind: Kind) -> Arc<Self> {
        Arc::new_cyclic(|me| PortShared {
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

    pub(crate) fn get_onmessage(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.state
            .lock()
            .onmessage
            .as_ref()
            .map(|h| h.clone_ref(py))
    }

    pub(crate) fn get_onmessageerror(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.state
            .lock()
            .onmessageerror
            .as_ref()
            .map(|h| h.clone_ref(py))
    }

    pub(crate) fn set_onmessageerror(&self, py: Python<'_>, handler: Option<Py<PyAny>>) {
        let handler = handler.filter(|h| !h.is_none(py));
        let old = std::mem::replace(&mut self.state.lock().onmessageerror, handler);
        drop(old);
    }

    /// Registers a `recv_async` future to be resolved on `hub` (see [`crate::aio`]); installs
    /// the notifier and starts the port.
    pub(crate) fn add_waiter(&self, hub: &Arc<HubCore>, future: Py<PyAny>, mode: Mode) {
        self.state.lock().waiters.push((hub.clone(), future, mode));
        self.ensure_notifier();
        self.start();
    }

    pub(crate) fn remove_waiter(&self, py: Python<'_>, future: &Bound<'_, PyAny>) {
        let removed: Vec<_> = {
            let mut st = self.state.lock();
            let (gone, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut st.waiters)
                .into_iter()
                .partition(|(_, f, _)| f.bind(py).is(future));
            st.waiters = keep;
            gone
        };
        drop(removed);
    }

    /// In a forked child, where no thread is dispatching: forgets the parent's in-progress mark.
    pub(crate) fn after_fork(&self) {
        self.dispatching.store(false, Ordering::Release);
        self.again.store(false, Ordering::Release);
    }

    /// Fires the notifier body by hand (a listener closed from Python: its end must be seen).
    pub(crate) fn wake(&self) {
        if let Some(me) = self.me.upgrade() {
            me.notify();
        }
    }

    /// The notifier body: runs on any thread, never touches Python.
    fn notify(self: Arc<Self>) {
        let mut hubs: Vec<Arc<HubCore>> = Vec::new();
        {
            let st = self.state.lock();
            if st.onmessage.is_some() {
                hubs.extend(st.hub.iter().cloned());
            }
            for (hub, _, _) in &st.waiters {
                if !hubs.iter().any(|h| Arc::ptr_eq(h, hub)) {
                    hubs.push(hub.clone());
                }
            }
        }
        for hub in hubs {
            hub.push(self.clone());
        }
    }

    /// Called by a hub's consumer with the interpreter attached: wakes this hub's futures and
    /// dispatches to `onmessage` if it runs on this hub.
    pub(crate) fn serve(self: Arc<Self>, py: Python<'_>, hub: &Arc<HubCore>) {
        let mine: Vec<(Arc<HubCore>, Py<PyAny>, Mode)> = {
            let mut st = self.state.lock();
            let (mine, others) = std::mem::take(&mut st.waiters)
                .into_iter()
                .partition(|(h, _, _)| Arc::ptr_eq(h, hub));
            st.waiters = others;
            mine
        };
        // One message per waiting future, in registration order; cancelled or timed-out
        // futures are skipped (their messages stay queued). Waiters left once the queue is
        // empty go back to the list, ahead of any registered meanwhile.
        let mut pending = Vec::new();
        let mut empty = false;
        for (h, fut, mode) in mine {
            let future = fut.bind(py);
            let done = future
                .call_method0("done")
                .and_then(|d| d.is_truthy())
                .unwrap_or(true);
            if done {
                continue;
            }
            if !empty {
                match aio::resolve(py, &self, future, mode) {
                    Ok(true) => continue,
                    Ok(false) => empty = true,
                    Err(e) => {
                        e.write_unraisable(py, Some(future));
                        continue;
                    }
                }
            }
            pending.push((h, fut, mode));
        }
        if !pending.is_empty() {
            let mut st = self.state.lock();
            let later = std::mem::replace(&mut st.waiters, pending);
            st.waiters.extend(later);
        }
        self.dispatch(py, hub);
    }

    fn dispatch(self: &Arc<Self>, py: Python<'_>, hub: &Arc<HubCore>) {
        if self.dispatching.swap(true, Ordering::AcqRel) {
            // Another consumer is dispatching this port (its handler moved to another hub
            // mid-batch). It notifies again when done, so order and non-concurrency are kept.
            self.again.store(true, Ordering::Release);
            return;
        }
        let exhausted = self.dispatch_batch(py, hub);
        if exhausted {
            hub.push(self.clone());
        }
        self.dispatching.store(false, Ordering::Release);
        if self.again.swap(false, Ordering::AcqRel) {
            // Hand the rest to wherever the handler runs now.
            self.clone().notify();
        }
    }

    /// Delivers up to [`DISPATCH_BUDGET`] messages; returns whether the budget ran out.
    fn dispatch_batch(&self, py: Python<'_>, hub: &Arc<HubCore>) -> bool {
        for _ in 0..DISPATCH_BUDGET {
            let callback = {
                let st = self.state.lock();
                match (&st.onmessage, &st.hub) {
                    (Some(cb), Some(h)) if Arc::ptr_eq(h, hub) => cb.clone_ref(py),
                    _ => return false,
                }
            };
            match self.take(py) {
                Step::Event(event) => {
                    if let Err(e) = callback.call1(py, (event,)) {
                        e.write_unraisable(py, Some(callback.bind(py)));
                    }
                }
                Step::Bad(err, event) => self.message_error(py, err, event),
                Step::Empty => return false,
                Step::End(Error::Closed(_)) => {
                    self.on_closed();
                    return false;
                }
                // Transferred away (its new owner dispatches now).
                Step::End(_) => return false,
                // That client is lost (the error was its queue entry); the next may be ready.
                Step::Fail(e) => e.write_unraisable(py, Some(callback.bind(py))),
            }
        }
        true
    }

    /// A message that could not be deserialized: `onmessageerror` gets a `messageerror` event
    /// with `data=None`; without a handler the error is reported as unraisable.
    fn message_error(&self, py: Python<'_>, err: PyErr, event: Py<MessageEvent>) {
        match self.get_onmessageerror(py) {
            Some(handler) => {
                if let Err(e) = handler.call1(py, (event,)) {
                    e.write_unraisable(py, Some(handler.bind(py)));
                }
            }
            None => err.write_unraisable(py, None),
        }
    }

    /// The close record was reached: nothing more will come, so stop keeping the port alive.
    pub(crate) fn on_closed(&self) {
        let keepalive = self.state.lock().keepalive.take();
        drop(keepalive);
    }

    /// After this port was transferred: its handlers and futures no longer apply here.
    pub(crate) fn forget_listeners(&self) {
        let taken = {
            let mut st = self.state.lock();
            (st.onmessage.take(), st.hub.take(), st.keepalive.take())
        };
        drop(taken);
        // Waiters are woken so their recv_async sees InvalidStateError.
        if let Some(me) = self.me.upgrade() {
            me.notify();
        }
    }

    pub(crate) fn set_onmessage(&self, py: Python<'_>, handler: Option<Py<PyAny>>) -> PyResult<()> {
        let handler = handler.filter(|h| !h.is_none(py));
        let hub = match &handler {
            Some(_) => Some(crate::dispatch::current_hub(py)?),
            None => None,
        };
        let start = handler.is_some();
        if let (Some(hub), Some(me)) = (&hub, self.me.upgrade()) {
            hub.add_listener(&me);
        }
        let old = {
            let mut st = self.state.lock();
            // Windows live as long as their host keeps them; ports and broadcast channels with
            // a handler stay alive until closed (R-CH-33, R-BC-20).
            let keepalive = match (&self.kind, start) {
                (Kind::Window, _) | (_, false) => None,
                _ => self.me.upgrade(),
            };
            (
                std::mem::replace(&mut st.onmessage, handler),
                std::mem::replace(&mut st.hub, hub),
                std::mem::replace(&mut st.keepalive, keepalive),
            )
        };
        drop(old);
        if start {
            self.ensure_notifier();
            // Starting fires the notifier if messages are already waiting.
            self.start();
            // A handler replaced on a started port: make sure a pending batch reaches the new hub.
            if let Some(me) = self.me.upgrade() {
                me.notify();
            }
        }
        Ok(())
    }
}

/// Builds the step for a decoded message: an event, or a `messageerror` event plus the error.
fn event_step(
    py: Python<'_>,
    decoded: PyResult<(Bound<'_, PyAny>, Bound<'_, PyTuple>)>,
    origin: &str,
    source: Option<Py<PyAny>>,
) -> Step {
    let (kind, data, ports, err) = match decoded {
        Ok((data, ports)) => ("message", data.unbind(), ports.unbind(), None),
        Err(e) => (
            "messageerror",
            py.None(),
            PyTuple::empty(py).unbind(),
            Some(e),
        ),
    };
    let event = MessageEvent {
        kind: Cow::Borrowed(kind),
        data,
        ports,
        origin: origin.to_owned(),
        last_event_id: String::new(),
        source,
    };
    match (Py::new(py, event), err) {
        (Ok(ev), None) => Step::Event(ev),
        (Ok(ev), Some(e)) => Step::Bad(e, ev),
        (Err(e), _) => Step::Bad(
            e,
            match Py::new(py, MessageEvent::empty(py, "messageerror")) {
                Ok(ev) => ev,
                Err(_) => return Step::Empty,
            },
        ),
    }
}

/// A `message` event of a port, window or broadcast channel: decode its payload, find the
/// Python object of its source (a port's event has none, and origin `""`).
fn message_step(py: Python<'_>, event: core::MessageEvent) -> Step {
    let core::MessageEvent {
        event_type,
        data,
        array_buffers,
        origin,
        source,
        ports,
        ..
    } = event;
    let source = source.and_then(|s| crate::window::python_window(py, &s));
    if event_type == core::MessageEventType::MessageError {
        let err = errors::decode_error(py, "the message could not be deserialized");
        return event_step(py, Err(err), &origin, source);
    }
    let decoded = convert::decode_message(
        py,
        Message {
            data,
            array_buffers,
            ports,
        },
    );
    event_step(py, decoded, &origin, source)
}

/// One item of a `transfer` argument.
pub(crate) enum TransferItem<'py> {
    /// A port: it moves to the receiver.
    Port(core::MessagePort, Arc<PortShared>),
    /// A `bytearray`, Python's stand-in for a transferable ArrayBuffer: its bytes move to the
    /// receiver and it is left empty (detached).
    Buffer(Bound<'py, PyByteArray>),
}

/// A `transfer` argument, in order.
#[derive(Default)]
pub(crate) struct Transfer<'py> {
    pub(crate) items: Vec<TransferItem<'py>>,
}

impl Transfer<'_> {
    pub(crate) fn ports(&self) -> Vec<core::MessagePort> {
        self.items
            .iter()
            .filter_map(|i| match i {
                TransferItem::Port(p, _) => Some(p.clone()),
                TransferItem::Buffer(_) => None,
            })
            .collect()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Reads a `transfer` argument: an iterable of `MessagePort`s and `bytearray`s (`None`: empty).
pub(crate) fn transfer_list<'py>(
    py: Python<'py>,
    transfer: Option<&Bound<'py, PyAny>>,
) -> PyResult<Transfer<'py>> {
    let mut out = Transfer::default();
    let Some(transfer) = transfer.filter(|t| !t.is_none()) else {
        return Ok(out);
    };
    for item in transfer.try_iter()? {
        let item = item?;
        if let Ok(p) = item.cast::<MessagePort>() {
            out.items.push(TransferItem::Port(
                p.get().port.clone(),
                p.get().shared.clone(),
            ));
        } else if let Ok(b) = item.cast::<PyByteArray>() {
            out.items.push(TransferItem::Buffer(b.clone()));
        } else {
            let name = item.get_type().qualname()?;
            return Err(errors::data_clone(
                py,
                format!("an object of type {name} cannot be transferred (MessagePort and bytearray can)"),
            ));
        }
    }
    Ok(out)
}

/// After a successful post: the transferred ports' handlers stay behind.
pub(crate) fn after_transfer(transfer: &Transfer<'_>) {
    for item in &transfer.items {
        if let TransferItem::Port(_, shared) = item {
            shared.forget_listeners();
        }
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
pub(crate) fn next_slice(deadline: Option<Instant>) -> Duration {
    match deadline {
        Some(d) => d
            .saturating_duration_since(Instant::now())
            .min(SIGNAL_CHECK),
        None => SIGNAL_CHECK,
    }
}

/// One end of a `MessageChannel`; it can be posted to, received from and transferred.
#[pyclass(module = "webmessaging", frozen, weakref)]
pub(crate) struct MessagePort {
    pub(crate) shared: Arc<PortShared>,
    pub(crate) port: core::MessagePort,
}

impl MessagePort {
    pub(crate) fn wrap(port: core::MessagePort) -> Self {
        MessagePort {
            shared: PortShared::new(Arc::new(port.clone()), Kind::Messages),
            port,
        }
    }
}

#[catch_panics]
#[pymethods]
impl MessagePort {
    /// Posts `data` (structured-cloned) to the entangled port, transferring the ports in
    /// `transfer`.
    /// `default`: the conversion hook (see `set_default`).
    #[pyo3(signature = (data, transfer = None, *, default = None))]
    fn post_message<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        transfer: Option<&Bound<'py, PyAny>>,
        default: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<()> {
        let transfer = transfer_list(py, transfer)?;
        if transfer.ports().contains(&self.port) {
            return Err(errors::data_clone(
                py,
                "the transfer list contains the source port",
            ));
        }
        let (payload, ports) = convert::encode(py, data, &transfer, default)?;
        self.port.post_message(payload, &ports).py_err(py)?;
        after_transfer(&transfer);
        Ok(())
    }

    /// Enables delivery to `onmessage` and `recv_async` (pull calls work without it).
    fn start(&self) {
        self.port.start();
    }

    /// Closes the port: the peer receives everything sent before, then a close notice.
    fn close(&self) {
        self.port.close();
    }

    /// Waits for the next message (the GIL is released while waiting). Raises `TimeoutError`
    /// after `timeout` seconds and `PortClosedError` once the queue reached its close record.
    #[pyo3(signature = (timeout = None))]
    fn recv(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<MessageEvent>> {
        self.shared.recv_blocking(py, timeout)
    }

    /// The next message; `None` while none is waiting; `PortClosedError` at the close record
    /// and on every call after (the end of a port is documented on `PortClosedError`).
    fn try_recv(&self, py: Python<'_>) -> PyResult<Option<Py<MessageEvent>>> {
        self.shared.try_recv(py)
    }

    /// Awaits the next message on the running asyncio loop (starts the port).
    #[pyo3(signature = (timeout = None))]
    fn recv_async(&self, timeout: Option<f64>) -> PyResult<Receive> {
        Receive::new(self.shared.clone(), timeout, Mode::Recv)
    }

    #[getter]
    fn get_onmessage(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.shared
            .state
            .lock()
            .onmessage
            .as_ref()
            .map(|h| h.clone_ref(py))
    }

    #[setter]
    pub(crate) fn set_onmessage(&self, py: Python<'_>, handler: Option<Py<PyAny>>) -> PyResult<()> {
        self.shared.set_onmessage(py, handler)
    }

    #[getter]
    fn get_onmessageerror(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.shared
            .state
            .lock()
            .onmessageerror
            .as_ref()
            .map(|h| h.clone_ref(py))
    }

    #[setter]
    fn set_onmessageerror(&self, py: Python<'_>, handler: Option<Py<PyAny>>) {
        let handler = handler.filter(|h| !h.is_none(py));
        let old = std::mem::replace(&mut self.shared.state.lock().onmessageerror, handler);
        drop(old);
    }

    /// Whether the port is detached: closed, or transferred away.
    #[getter]
    fn detached(&self) -> bool {
        self.port.is_detached()
    }

    /// Whether the port is still entangled with a peer.
    #[getter]
    fn entangled(&self) -> bool {
        self.port.is_entangled()
    }

    /// Whether `start()` (or setting `onmessage`) enabled delivery.
    #[getter]
    fn started(&self) -> bool {
        self.port.is_started()
    }

    /// Counters of this port's queue: depth, queued_bytes, high_water_mark, enqueued,
    /// delivered, posted, dropped.
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let m = self.port.metrics();
        let d = PyDict::new(py);
        d.set_item("depth", m.depth)?;
        d.set_item("queued_bytes", m.queued_bytes)?;
        d.set_item("high_water_mark", m.high_water_mark)?;
        d.set_item("enqueued", m.enqueued)?;
        d.set_item("delivered", m.delivered)?;
        d.set_item("posted", m.posted)?;
        d.set_item("dropped", m.dropped)?;
        Ok(d)
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<MessageEvent>>> {
        match self.shared.recv_blocking(py, None) {
            Ok(ev) => Ok(Some(ev)),
            Err(e) if e.is_instance(py, errors::port_closed_error_type(py)?.as_any()) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn __aiter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __anext__(&self) -> PyResult<Receive> {
        Receive::new(self.shared.clone(), None, Mode::Next)
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        self.port.close();
        false
    }

    fn __repr__(&self) -> String {
        let state = if self.port.is_detached() {
            "detached"
        } else if self.port.is_entangled() {
            "entangled"
        } else {
            "unentangled"
        };
        format!("<webmessaging.MessagePort {state}>")
    }
}

/// Two entangled ports (`port1`, `port2`).
#[pyclass(module = "webmessaging", frozen)]
pub(crate) struct MessageChannel {
    port1: Py<MessagePort>,
    port2: Py<MessagePort>,
}

#[catch_panics]
#[pymethods]
impl MessageChannel {
    #[new]
    fn new(py: Python<'_>) -> PyResult<Self> {
        let (a, b) = core::MessageChannel::new().into_ports();
        Ok(MessageChannel {
            port1: Py::new(py, MessagePort::wrap(a))?,
            port2: Py::new(py, MessagePort::wrap(b))?,
        })
    }

    #[getter]
    fn port1(&self, py: Python<'_>) -> Py<MessagePort> {
        self.port1.clone_ref(py)
    }

    #[getter]
    fn port2(&self, py: Python<'_>) -> Py<MessagePort> {
        self.port2.clone_ref(py)
    }

    fn __repr__(&self) -> &'static str {
        "<webmessaging.MessageChannel>"
    }
}

/// A delivered message: `data`, `ports`, `origin`, `source`, `last_event_id`.
#[pyclass(module = "webmessaging", frozen)]
pub(crate) struct MessageEvent {
    kind: Cow<'static, str>,
    data: Py<PyAny>,
    ports: Py<PyTuple>,
    origin: String,
    last_event_id: String,
    source: Option<Py<PyAny>>,
}

impl MessageEvent {
    /// A listener's `connect` event: `ports` holds the new client's port (as a `SharedWorker`'s).
    pub(crate) fn connect(py: Python<'_>, port: Py<MessagePort>) -> PyResult<Self> {
        Ok(MessageEvent {
            kind: Cow::Borrowed("connect"),
            data: py.None(),
            ports: PyTuple::new(py, [port])?.unbind(),
            origin: String::new(),
            last_event_id: String::new(),
            source: None,
        })
    }

    pub(crate) fn empty(py: Python<'_>, kind: &'static str) -> Self {
        MessageEvent {
            kind: Cow::Borrowed(kind),
            data: py.None(),
            ports: PyTuple::empty(py).unbind(),
            origin: String::new(),
            last_event_id: String::new(),
            source: None,
        }
    }
}

#[catch_panics]
#[pymethods]
impl MessageEvent {
    #[new]
    #[pyo3(signature = (r#type = "message", *, data = None, origin = "", last_event_id = "", source = None, ports = None))]
    fn new(
        py: Python<'_>,
        r#type: &str,
        data: Option<Py<PyAny>>,
        origin: &str,
        last_event_id: &str,
        source: Option<Py<PyAny>>,
        ports: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let ports = match ports {
            Some(p) => PyTuple::new(py, p.try_iter()?.collect::<PyResult<Vec<_>>>()?)?,
            None => PyTuple::empty(py),
        };
        Ok(MessageEvent {
            kind: match r#type {
                "message" => Cow::Borrowed("message"),
                other => Cow::Owned(other.to_owned()),
            },
            data: data.unwrap_or_else(|| py.None()),
            ports: ports.unbind(),
            origin: origin.to_owned(),
            last_event_id: last_event_id.to_owned(),
            source: source.filter(|s| !s.is_none(py)),
        })
    }

    /// `"message"` or `"messageerror"`.
    #[getter(r#type)]
    fn kind(&self) -> &str {
        &self.kind
    }

    /// The structured clone of the posted value.
    #[getter]
    fn data(&self, py: Python<'_>) -> Py<PyAny> {
        self.data.clone_ref(py)
    }

    /// The transferred ports, in transfer-list order.
    #[getter]
    fn ports(&self, py: Python<'_>) -> Py<PyTuple> {
        self.ports.clone_ref(py)
    }

    /// The sender's serialized origin for window and broadcast messages; `""` for ports.
    #[getter]
    fn origin(&self) -> &str {
        &self.origin
    }

    /// Always `""` (server-sent events only).
    #[getter]
    fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The sending `Window` for window messages, else `None`.
    #[getter]
    fn source(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.source.as_ref().map(|s| s.clone_ref(py))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let data = self.data.bind(py).repr()?;
        Ok(format!(
            "MessageEvent(type={:?}, data={}, ports=<{} ports>, origin={:?})",
            self.kind,
            data,
            self.ports.bind(py).len(),
            self.origin
        ))
    }
}
