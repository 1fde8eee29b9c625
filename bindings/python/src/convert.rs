//! Python values to and from the wire format.
//!
//! TEMPORARY: until the core codec (`webmessaging_core::clone`) lands, payloads are carried as
//! pickles so the port machinery can be built and tested. This is replaced by a walk over the
//! core's value graph; nothing outside this file depends on the representation.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyTuple};
use webmessaging_core::{MessagePort, Payload};

fn pickle<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE
        .get_or_try_init(py, || Ok::<_, PyErr>(py.import("pickle")?.unbind()))?
        .bind(py)
        .getattr(name)
}

/// Serializes `value` for a message that transfers `transfer`.
pub(crate) fn encode(
    py: Python<'_>,
    value: &Bound<'_, PyAny>,
    _transfer: &[MessagePort],
) -> PyResult<Payload> {
    let bytes = pickle(py, "dumps")?.call1((value, 5))?;
    Ok(Payload {
        data: bytes.cast_into::<PyBytes>()?.as_bytes().to_vec(),
        array_buffers: Vec::new(),
    })
}

/// Rebuilds the value of a received message; `ports` are the transferred ports, in order.
pub(crate) fn decode(
    py: Python<'_>,
    data: &[u8],
    _array_buffers: Vec<Vec<u8>>,
    _ports: &Bound<'_, PyTuple>,
) -> PyResult<Py<PyAny>> {
    Ok(pickle(py, "loads")?
        .call1((PyBytes::new(py, data),))?
        .unbind())
}
