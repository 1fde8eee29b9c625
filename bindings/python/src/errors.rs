//! Core errors to Python exceptions.
//!
//! The exception classes are defined in Python (`webmessaging/_errors.py`, so they are ordinary,
//! picklable, subclassable Python classes) and looked up once here.

use pyo3::exceptions::{PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use webmessaging_core::{CloseReason, Error};

macro_rules! py_error_type {
    ($fn_name:ident, $name:literal) => {
        pub(crate) fn $fn_name(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
            static CELL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
            CELL.import(py, "webmessaging._errors", $name)
        }
    };
}

py_error_type!(data_clone_error_type, "DataCloneError");
py_error_type!(invalid_state_error_type, "InvalidStateError");
py_error_type!(dom_syntax_error_type, "DOMSyntaxError");
py_error_type!(port_closed_error_type, "PortClosedError");
py_error_type!(queue_full_error_type, "QueueFullError");
py_error_type!(decode_error_type, "DecodeError");
py_error_type!(internal_error_type, "InternalError");

/// Builds an instance of one of the Python-defined error classes.
fn make<'py, A>(ty: PyResult<&Bound<'py, PyType>>, args: A) -> PyErr
where
    A: pyo3::call::PyCallArgs<'py>,
{
    match ty {
        Ok(ty) => match ty.call1(args) {
            Ok(value) => PyErr::from_value(value),
            Err(e) => e,
        },
        Err(e) => e,
    }
}

/// A `DataCloneError` with `message`.
pub(crate) fn data_clone(py: Python<'_>, message: impl Into<String>) -> PyErr {
    make(data_clone_error_type(py), (message.into(),))
}

/// An `InvalidStateError` with `message`.
pub(crate) fn invalid_state(py: Python<'_>, message: impl Into<String>) -> PyErr {
    make(invalid_state_error_type(py), (message.into(),))
}

/// The Python name of a close reason (`PortClosedError.reason`).
pub(crate) fn reason_name(reason: CloseReason) -> &'static str {
    match reason {
        CloseReason::Closed => "closed",
        CloseReason::Dropped => "dropped",
        CloseReason::Doomed => "doomed",
        CloseReason::Lost => "lost",
    }
}

/// Converts a core error to the matching Python exception.
pub(crate) fn to_py(py: Python<'_>, err: Error) -> PyErr {
    match err {
        Error::DataCloneError(m) => data_clone(py, m),
        Error::InvalidStateError(m) => invalid_state(py, m),
        Error::SyntaxError(m) => make(dom_syntax_error_type(py), (m,)),
        Error::Timeout => PyTimeoutError::new_err("the operation timed out"),
        Error::Full => make(
            queue_full_error_type(py),
            ("the receiving queue is at capacity",),
        ),
        Error::Closed(notice) => make(
            port_closed_error_type(py),
            (
                notice.to_string(),
                reason_name(notice.reason),
                notice.by_peer,
            ),
        ),
        Error::DecodeError(e) => make(decode_error_type(py), (e.to_string(),)),
        #[allow(unreachable_patterns)]
        other => PyValueError::new_err(other.to_string()),
    }
}

/// `Result<T, core::Error>` to `PyResult<T>`.
pub(crate) trait IntoPyResult<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, Error> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, e))
    }
}

/// A `DecodeError` with `message`.
pub(crate) fn decode_error(py: Python<'_>, message: impl Into<String>) -> PyErr {
    make(decode_error_type(py), (message.into(),))
}

/// An `InternalError` (a bug in the binding, e.g. a caught panic) with `message`.
pub(crate) fn internal(py: Python<'_>, message: impl Into<String>) -> PyErr {
    make(internal_error_type(py), (message.into(),))
}
