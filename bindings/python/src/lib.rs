//! `webmessaging._native`: the compiled half of the `webmessaging` Python package.
//!
//! The public API lives in `python/webmessaging/__init__.py`, which re-exports these classes;
//! this module is private (like `pydantic_core._pydantic_core`). All semantics come from
//! `webmessaging-core`; this crate only maps them to Python objects, threads and event loops.

mod convert;
mod errors;
mod hub;
mod port;

use pyo3::prelude::*;

/// Serializes `value` to the wire format (V8 ValueSerializer v15 profile).
#[pyfunction]
#[pyo3(signature = (value, transfer = None))]
fn serialize<'py>(
    py: Python<'py>,
    value: &Bound<'py, PyAny>,
    transfer: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
    let (ports, _) = match transfer {
        Some(t) => port::transfer_list(py, t)?,
        None => (Vec::new(), Vec::new()),
    };
    if !ports.is_empty() {
        return Err(errors::data_clone(
            py,
            "serialize() cannot transfer ports; post them instead",
        ));
    }
    let payload = convert::encode(py, value, &ports)?;
    Ok(pyo3::types::PyBytes::new(py, &payload.data))
}

/// Reads a value from wire-format bytes (e.g. written by Node's `v8.Serializer`).
#[pyfunction]
fn deserialize(py: Python<'_>, data: &[u8]) -> PyResult<Py<PyAny>> {
    convert::decode(py, data, Vec::new(), &pyo3::types::PyTuple::empty(py))
}

/// A structured clone of `value` (serialize then deserialize, keeping shared references).
#[pyfunction]
fn structured_clone(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let payload = convert::encode(py, value, &[])?;
    convert::decode(
        py,
        &payload.data,
        payload.array_buffers,
        &pyo3::types::PyTuple::empty(py),
    )
}

/// Number of live port mailboxes in the process (diagnostics; tests use it to check for leaks).
#[pyfunction]
fn _live_mailboxes() -> usize {
    webmessaging_core::live_mailboxes()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<port::MessageChannel>()?;
    m.add_class::<port::MessagePort>()?;
    m.add_class::<port::MessageEvent>()?;
    m.add_class::<hub::Hub>()?;
    m.add_function(wrap_pyfunction!(serialize, m)?)?;
    m.add_function(wrap_pyfunction!(deserialize, m)?)?;
    m.add_function(wrap_pyfunction!(structured_clone, m)?)?;
    m.add_function(wrap_pyfunction!(_live_mailboxes, m)?)?;
    Ok(())
}
