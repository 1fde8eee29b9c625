//! `Window` (origin-checked `post_message`) and `BroadcastChannel`.
//!
//! Both receive through the same [`Receiver`] machinery as ports: `onmessage` on the running
//! asyncio loop or the dispatcher thread, blocking `recv` without the GIL, `recv_async`.

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple, PyWeakrefReference};
use webmessaging_core as core;
use webmessaging_python_macros::catch_panics;

use crate::aio::{Mode, Receive};
use crate::convert;
use crate::errors::{self, IntoPyResult};
use crate::event::MessageEvent;
use crate::receiver::{Kind, Receiver};
use crate::transfer::{after_transfer, transfer_list};

/// Windows that have posted, so an event's `source` is the very `Window` object that posted.
static SOURCES: Mutex<Vec<(core::WindowProxy, Py<PyWeakrefReference>)>> = Mutex::new(Vec::new());

fn register(window: &Bound<'_, Window>) -> PyResult<()> {
    let py = window.py();
    let proxy = window.get().window.proxy();
    let alive = |w: &Py<PyWeakrefReference>| w.bind(py).upgrade().is_some();
    {
        let list = SOURCES.lock().unwrap_or_else(|e| e.into_inner());
        if list.iter().any(|(p, w)| *p == proxy && alive(w)) {
            return Ok(());
        }
    }
    // Allocate before locking: an allocation may run the garbage collector, and with it
    // arbitrary Python code that could post from a window and re-enter here.
    let weak = PyWeakrefReference::new(window.as_any())?.unbind();
    let dead = {
        let mut list = SOURCES.lock().unwrap_or_else(|e| e.into_inner());
        let (keep, dead): (Vec<_>, Vec<_>) = std::mem::take(&mut *list)
            .into_iter()
            .partition(|(p, w)| !p.is_closed() && alive(w));
        *list = keep;
        list.push((proxy, weak));
        dead
    };
    drop(dead);
    Ok(())
}

/// The Python `Window` for an event's source: the object that posted, or a new handle on the
/// same window if that object is gone. `None` once the window itself is gone.
pub(crate) fn python_window(py: Python<'_>, proxy: &core::WindowProxy) -> Option<Py<PyAny>> {
    {
        let list = SOURCES.lock().unwrap_or_else(|e| e.into_inner());
        for (p, w) in list.iter() {
            if p == proxy {
                if let Some(obj) = w.bind(py).upgrade() {
                    return Some(obj.unbind());
                }
            }
        }
    }
    let window = proxy.window()?;
    let obj = Bound::new(py, Window::wrap(window)).ok()?;
    register(&obj).ok()?;
    Some(obj.into_any().unbind())
}

fn parse_origin(py: Python<'_>, origin: Option<&str>) -> PyResult<core::Origin> {
    match origin {
        None => Ok(core::Origin::opaque()),
        Some(text) => core::Origin::parse(text).py_err(py),
    }
}

/// A stand-in for a browsing context: an origin (which `navigate` changes) and an event queue.
/// `target.post_message(data, target_origin, transfer, source=sender)` checks the target
/// origin when the message is delivered.
#[pyclass(module = "webmessaging", frozen, weakref)]
pub(crate) struct Window {
    shared: Arc<Receiver>,
    window: core::Window,
}

impl Window {
    fn wrap(window: core::Window) -> Self {
        Window {
            shared: Receiver::new(Arc::new(window.clone()), Kind::Window),
            window,
        }
    }
}

#[catch_panics]
#[pymethods]
impl Window {
    /// `Window(origin)`: `origin` is a URL whose origin the window's document has
    /// (`"https://app.test"`), or `None` for an opaque origin.
    #[new]
    #[pyo3(signature = (origin = None))]
    fn new(py: Python<'_>, origin: Option<&str>) -> PyResult<Self> {
        Ok(Window::wrap(core::Window::new(parse_origin(py, origin)?)))
    }

    /// The serialized origin of the window's current document (`"null"` if opaque).
    #[getter]
    fn origin(&self) -> String {
        self.window.origin().ascii_serialization()
    }

    /// Navigates the window to a document of `origin` (`None`: opaque). Queued messages are
    /// checked against the new origin.
    #[pyo3(signature = (origin = None))]
    fn navigate(&self, py: Python<'_>, origin: Option<&str>) -> PyResult<()> {
        self.window.navigate(parse_origin(py, origin)?);
        Ok(())
    }

    /// `window.postMessage`: posts `data` to this window from `source`. `target_origin` is
    /// `"/"` (the source's origin, the default), `"*"` (any), or a URL whose origin must match
    /// this window's origin at delivery; an unparseable one raises `DOMSyntaxError` before
    /// anything is serialized. `default`: the conversion hook (see `set_default`).
    #[pyo3(signature = (data, target_origin = "/", transfer = None, *, source, default = None))]
    fn post_message<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        target_origin: &str,
        transfer: Option<&Bound<'py, PyAny>>,
        source: &Bound<'py, Window>,
        default: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<()> {
        let target =
            core::TargetOrigin::parse(target_origin, &source.get().window.origin()).py_err(py)?;
        let transfer = transfer_list(py, transfer)?;
        let (payload, ports) = convert::encode(py, data, &transfer, default)?;
        register(source)?;
        self.window
            .post_message_to(payload, &target, &ports, &source.get().window)
            .py_err(py)?;
        after_transfer(&transfer);
        Ok(())
    }

    /// Waits for the next event (GIL released); `TimeoutError` after `timeout` seconds.
    #[pyo3(signature = (timeout = None))]
    fn recv(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<MessageEvent>> {
        self.shared.recv_blocking(py, timeout)
    }

    /// The next event, or `None`.
    fn try_recv(&self, py: Python<'_>) -> PyResult<Option<Py<MessageEvent>>> {
        self.shared.try_recv(py)
    }

    /// Awaits the next event on the running asyncio loop.
    #[pyo3(signature = (timeout = None))]
    fn recv_async(&self, timeout: Option<f64>) -> PyResult<Receive> {
        Receive::new(self.shared.clone(), timeout, Mode::Recv)
    }

    fn __aiter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __anext__(&self) -> PyResult<Receive> {
        Receive::new(self.shared.clone(), None, Mode::Next)
    }

    #[getter]
    fn get_onmessage(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.shared.get_onmessage(py)
    }

    #[setter]
    fn set_onmessage(&self, py: Python<'_>, handler: Option<Py<PyAny>>) -> PyResult<()> {
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

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Window>()
            .is_ok_and(|o| o.get().window == self.window)
    }

    fn __hash__(&self) -> u64 {
        Arc::as_ptr(&self.shared) as u64
    }

    fn __repr__(&self) -> String {
        format!("<webmessaging.Window origin={:?}>", self.origin())
    }
}

fn utf16_units(s: &Bound<'_, PyString>) -> PyResult<Vec<u16>> {
    let bytes = s.call_method1("encode", ("utf-16-le", "surrogatepass"))?;
    let bytes = bytes.cast::<PyBytes>()?.as_bytes();
    Ok(bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect())
}

/// `BroadcastChannel(name, origin=None)`: every other open channel with the same name and
/// origin receives each message. `origin` is a URL, a `Window` (its origin), or `None` for the
/// process's default origin.
#[pyclass(module = "webmessaging", frozen, weakref)]
pub(crate) struct BroadcastChannel {
    shared: Arc<Receiver>,
    channel: core::BroadcastChannel,
}

#[catch_panics]
#[pymethods]
impl BroadcastChannel {
    #[new]
    #[pyo3(signature = (name, origin = None))]
    fn new(
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        origin: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let name = name.str()?;
        let origin = match origin {
            None => None,
            Some(o) if o.is_none() => None,
            Some(o) => match o.cast::<Window>() {
                Ok(w) => Some(w.get().window.origin()),
                Err(_) => Some(core::Origin::parse(&o.extract::<String>()?).py_err(py)?),
            },
        };
        let channel = core::BroadcastChannel::new_utf16(&utf16_units(&name)?, origin);
        Ok(BroadcastChannel {
            shared: Receiver::new(Arc::new(channel.clone()), Kind::Messages),
            channel,
        })
    }

    /// The channel name, exactly as given.
    #[getter]
    fn name<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let bytes: Vec<u8> = self
            .channel
            .name_utf16()
            .iter()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        PyBytes::new(py, &bytes).call_method1("decode", ("utf-16-le", "surrogatepass"))
    }

    /// The serialized origin the channel belongs to.
    #[getter]
    fn origin(&self) -> String {
        self.channel.origin().ascii_serialization()
    }

    /// Sends `data` to every other open channel of this name and origin. `InvalidStateError`
    /// after `close()`; `DataCloneError` for values that cannot be cloned (ports included).
    /// `default`: the conversion hook (see `set_default`).
    #[pyo3(signature = (data, *, default = None))]
    fn post_message<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        default: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<()> {
        if self.channel.is_closed() {
            return Err(errors::invalid_state(py, "the BroadcastChannel is closed"));
        }
        let bytes = convert::serialize(py, data, default)?;
        self.channel.post_message(bytes).py_err(py)
    }

    /// Closes the channel: it receives nothing more (idempotent).
    fn close(&self) {
        self.channel.close();
        self.shared.on_closed();
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.channel.is_closed()
    }

    /// Waits for the next message (GIL released); `TimeoutError` after `timeout` seconds,
    /// `PortClosedError` once closed.
    #[pyo3(signature = (timeout = None))]
    fn recv(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<MessageEvent>> {
        self.shared.recv_blocking(py, timeout)
    }

    /// The next message; `None` while none is waiting; `PortClosedError` once closed.
    fn try_recv(&self, py: Python<'_>) -> PyResult<Option<Py<MessageEvent>>> {
        self.shared.try_recv(py)
    }

    /// Awaits the next message on the running asyncio loop.
    #[pyo3(signature = (timeout = None))]
    fn recv_async(&self, timeout: Option<f64>) -> PyResult<Receive> {
        Receive::new(self.shared.clone(), timeout, Mode::Recv)
    }

    fn __aiter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __anext__(&self) -> PyResult<Receive> {
        Receive::new(self.shared.clone(), None, Mode::Next)
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

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        self.channel.close();
        self.shared.on_closed();
        false
    }

    #[getter]
    fn get_onmessage(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.shared.get_onmessage(py)
    }

    #[setter]
    fn set_onmessage(&self, py: Python<'_>, handler: Option<Py<PyAny>>) -> PyResult<()> {
        if self.channel.is_closed() {
            return self.shared.set_onmessage(py, None);
        }
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

    fn __repr__(&self) -> String {
        format!(
            "<webmessaging.BroadcastChannel name={:?} origin={:?}{}>",
            self.channel.name(),
            self.origin(),
            if self.channel.is_closed() {
                " closed"
            } else {
                ""
            }
        )
    }
}
