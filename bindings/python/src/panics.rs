//! The panic boundary: a Rust panic reaches Python as `webmessaging.InternalError`.
//!
//! pyo3 would raise `PanicException`, a `BaseException` that `except Exception` misses. Every
//! entry point (`#[catch_panics]` on each `#[pymethods]` block and `#[pyfunction]`) runs inside
//! [`guard`] instead. A panic is still a bug: the default panic hook has already printed where it
//! happened, and the error says to report it.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;

/// Runs one entry point's body; a panic becomes `InternalError`.
pub(crate) fn guard<T>(body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    // The body's state is not reused after a panic: the error is returned at once.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(payload) => Err(internal_error(payload.as_ref())),
    }
}

/// The panic message, as the panic hook prints it.
fn message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "a panic without a message"
    }
}

fn internal_error(payload: &(dyn Any + Send)) -> PyErr {
    let text = format!(
        "internal error in webmessaging (a bug, please report it): {}",
        message(payload)
    );
    // Entry points run attached to the interpreter, so this nests and never blocks.
    Python::attach(|py| crate::errors::internal(py, text))
}
