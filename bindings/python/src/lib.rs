//! `webmessaging._native`: the compiled half of the `webmessaging` Python package.
//!
//! The public API lives in `python/webmessaging/__init__.py`, which re-exports these classes;
//! this module is private (like `pydantic_core._pydantic_core`). All semantics come from
//! `webmessaging-core`; this crate only maps them to Python objects, threads and event loops.

mod aio;
mod codec;
mod convert;
mod dispatch;
mod errors;
mod event;
mod hub;
mod ipc;
mod listener;
mod panics;
mod port;
mod receiver;
mod transfer;
mod window;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use webmessaging_core::clone;
use webmessaging_python_macros::catch_panics;

/// Serializes `value` to the wire format (V8 ValueSerializer v15 profile): the bytes Node's
/// `v8.Deserializer` reads. `transfer` must be empty: ports cannot travel inside bare bytes
/// (post them on a port or window instead). `default`: the conversion hook (see `set_default`).
#[catch_panics]
#[pyfunction]
#[pyo3(signature = (value, transfer = None, *, default = None))]
fn serialize<'py>(
    py: Python<'py>,
    value: &Bound<'py, PyAny>,
    transfer: Option<&Bound<'py, PyAny>>,
    default: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    if !transfer::transfer_list(py, transfer)?.is_empty() {
        return Err(errors::data_clone(
            py,
            "serialize() cannot transfer ports: bytes have no transfer table; post the value instead",
        ));
    }
    let bytes = convert::serialize(py, value, default)?;
    Ok(PyBytes::new(py, &bytes))
}

/// Reads a value from wire-format bytes (e.g. written by Node's `new v8.Serializer()`); with
/// `node=True`, Node's `v8.serialize()` dialect (typed arrays as host objects).
#[catch_panics]
#[pyfunction]
#[pyo3(signature = (data, *, node = false))]
fn deserialize<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    node: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let owned;
    let data = match data.cast::<PyBytes>() {
        Ok(b) => b,
        Err(_) => {
            owned = py
                .get_type::<PyBytes>()
                .call1((data,))?
                .cast_into::<PyBytes>()?;
            &owned
        }
    };
    convert::deserialize(py, data.as_bytes(), node)
}

/// A structured clone of `value` (serialize then deserialize, keeping shared references and
/// cycles); ports in `transfer` are transferred into the clone. `default`: the conversion hook.
#[catch_panics]
#[pyfunction]
#[pyo3(signature = (value, transfer = None, *, default = None))]
fn structured_clone<'py>(
    py: Python<'py>,
    value: &Bound<'py, PyAny>,
    transfer: Option<&Bound<'py, PyAny>>,
    default: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let transfer = transfer::transfer_list(py, transfer)?;
    let (mut graph, list) = convert::graph_with_transfer(py, value, &transfer, false, default)?;
    let cloned = clone::structured_clone(&mut graph, &list).map_err(|e| errors::to_py(py, e))?;
    convert::detach_buffers(py, &transfer)?;
    transfer::after_transfer(&transfer);
    let mut pairs = Vec::new();
    for (_, object) in cloned.iter() {
        if let clone::Object::MessagePort(p) = object {
            if !pairs
                .iter()
                .any(|(q, _): &(webmessaging_core::MessagePort, Bound<'py, PyAny>)| q == p)
            {
                pairs.push((
                    p.clone(),
                    Bound::new(py, port::MessagePort::wrap(p.clone()))?.into_any(),
                ));
            }
        }
    }
    // The holes come from a Python list that already had them: no expansion to bound.
    convert::from_graph(py, &cloned, &pairs, usize::MAX)
}

/// Number of live port mailboxes in the process (diagnostics; tests use it to check for leaks).
#[catch_panics]
#[pyfunction]
fn _live_mailboxes() -> usize {
    webmessaging_core::live_mailboxes()
}

/// Testing only: panics with `message`, so the test suite can check that a panic inside the
/// binding reaches Python as `InternalError` (a `RuntimeError`) and not as pyo3's
/// `PanicException`. Never called by the library itself.
#[catch_panics]
#[pyfunction]
fn _panic_for_testing(message: &str) {
    panic!("{message}");
}

#[catch_panics]
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<port::MessageChannel>()?;
    m.add_class::<port::MessagePort>()?;
    m.add_class::<event::MessageEvent>()?;
    m.add_class::<window::Window>()?;
    m.add_class::<window::BroadcastChannel>()?;
    m.add_class::<hub::Hub>()?;
    m.add_function(wrap_pyfunction!(serialize, m)?)?;
    m.add_function(wrap_pyfunction!(deserialize, m)?)?;
    m.add_function(wrap_pyfunction!(structured_clone, m)?)?;
    m.add_function(wrap_pyfunction!(convert::set_default, m)?)?;
    m.add_function(wrap_pyfunction!(_live_mailboxes, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_testing, m)?)?;
    m.add_function(wrap_pyfunction!(dispatch::_after_fork_in_child, m)?)?;
    ipc::register(m)?;
    dispatch::register_at_fork(m)?;
    aio::register(m.py())?;
    Ok(())
}
