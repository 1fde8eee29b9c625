//! `MessageEvent`, the Python event every receiver delivers, and how the core's event becomes
//! one: the payload decoded, the source found as its Python `Window`, or a `messageerror`.

use std::borrow::Cow;

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use webmessaging_core as core;
use webmessaging_core::Message;
use webmessaging_python_macros::catch_panics;

use crate::convert;
use crate::errors;
use crate::port::MessagePort;
use crate::receiver::Step;

/// Builds the step for a decoded message: an event, or a `messageerror` event plus the error.
fn event_step(
    py: Python<'_>,
    decoded: PyResult<(Bound<'_, PyAny>, Bound<'_, PyTuple>)>,
    origin: String,
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
        origin,
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
pub(crate) fn message_step(py: Python<'_>, event: core::MessageEvent) -> Step {
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
        return event_step(py, Err(err), origin, source);
    }
    let decoded = convert::decode_message(
        py,
        Message {
            data,
            array_buffers,
            ports,
        },
    );
    event_step(py, decoded, origin, source)
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
