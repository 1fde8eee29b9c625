//! `MessageChannel` and `MessagePort`: the Python classes over the core's ports. Receiving
//! goes through the port's [`Receiver`]; sending, closing and the port's state through the
//! core port itself.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use webmessaging_core as core;
use webmessaging_python_macros::catch_panics;

use crate::aio::{Mode, Receive};
use crate::convert;
use crate::errors::{self, IntoPyResult};
use crate::event::MessageEvent;
use crate::receiver::{Kind, Receiver};
use crate::transfer::{after_transfer, transfer_list};

/// One end of a `MessageChannel`; it can be posted to, received from and transferred.
#[pyclass(module = "webmessaging", frozen, weakref)]
pub(crate) struct MessagePort {
    pub(crate) shared: Arc<Receiver>,
    pub(crate) port: core::MessagePort,
}

impl MessagePort {
    pub(crate) fn wrap(port: core::MessagePort) -> Self {
        MessagePort {
            shared: Receiver::new(Arc::new(port.clone()), Kind::Messages),
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
        self.shared.get_onmessage(py)
    }

    #[setter]
    pub(crate) fn set_onmessage(&self, py: Python<'_>, handler: Option<Py<PyAny>>) -> PyResult<()> {
        self.shared.set_onmessage(py, handler)
    }

    #[getter]
    fn get_onmessageerror(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.shared.get_onmessageerror(py)
    }

    #[setter]
    fn set_onmessageerror(&self, py: Python<'_>, handler: Option<Py<PyAny>>) {
        self.shared.set_onmessageerror(py, handler)
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
