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
py_error_type!(protocol_error_type, "ProtocolError");

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
            (notice.to_string(), notice.reason.name(), notice.by_peer),
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

/// A `PortClosedError` with `message` (e.g. for a closed listener).
pub(crate) fn port_closed(
    py: Python<'_>,
    message: &str,
    reason: CloseReason,
    by_peer: bool,
) -> PyErr {
    make(
        port_closed_error_type(py),
        (message, reason.name(), by_peer),
    )
}

/// `(errno, strerror)` for an `OSError`: the system's text for the number, then the step.
fn os_args(py: Python<'_>, errno: i32, step: &str) -> (i32, String) {
    let text = py
        .import("os")
        .and_then(|os| os.call_method1("strerror", (errno,)))
        .and_then(|s| s.extract::<String>())
        .unwrap_or_else(|_| format!("error {errno}"));
    (errno, format!("{text} ({step})"))
}

/// Converts a cross-process error to the matching Python exception: the `OSError` subclass a
/// Python programmer expects for the socket call that failed (errno and filename set where there
/// is one), `ProtocolError` for a broken peer, `DataCloneError` for a port that cannot be exported.
pub(crate) fn ipc_to_py(py: Python<'_>, err: webmessaging_ipc::Error) -> PyErr {
    use pyo3::exceptions::{
        PyConnectionRefusedError, PyFileExistsError, PyFileNotFoundError, PyOSError,
        PyPermissionError,
    };
    use webmessaging_ipc::{Error as IpcError, ErrorKind};

    let kind = err.kind();
    if kind == ErrorKind::Port {
        return data_clone(py, err.to_string());
    }
    if kind == ErrorKind::Protocol {
        let message = match &err {
            IpcError::Protocol(m) => m.clone(),
            other => other.to_string(),
        };
        return make(
            protocol_error_type(py),
            (errno_named(py, "EPROTO"), message),
        );
    }
    let (errno, step, path) = match &err {
        IpcError::Io { op, path, source } => (source.raw_os_error(), *op, path.clone()),
        _ => (None, "", None),
    };
    let args = match errno {
        Some(n) => os_args(py, n, step),
        None => (
            match kind {
                ErrorKind::Refused => errno_named(py, "ECONNREFUSED"),
                _ => 0,
            },
            err.to_string(),
        ),
    };
    let filename = path.map(|p| p.to_string_lossy().into_owned());
    macro_rules! os_error {
        ($ty:ty) => {
            match filename {
                Some(f) => <$ty>::new_err((args.0, args.1, f)),
                None if args.0 == 0 => <$ty>::new_err(args.1),
                None => <$ty>::new_err(args),
            }
        };
    }
    match kind {
        ErrorKind::AddressInUse => os_error!(PyFileExistsError),
        ErrorKind::PermissionDenied => os_error!(PyPermissionError),
        ErrorKind::NotFound => os_error!(PyFileNotFoundError),
        ErrorKind::Refused => os_error!(PyConnectionRefusedError),
        // OSError(EMFILE, ...) stays a plain OSError: Python has no subclass for it.
        _ => os_error!(PyOSError),
    }
}

/// The platform's number for an errno name (`errno.EPROTO`), 0 if it has none.
fn errno_named(py: Python<'_>, name: &str) -> i32 {
    py.import("errno")
        .and_then(|m| m.getattr(name))
        .and_then(|n| n.extract())
        .unwrap_or(0)
}

/// Whether an error of a wait with a timeout only says that the time ran out (`would_block`:
/// count `EAGAIN` as that too, for a listener's accept).
pub(crate) fn ipc_timed_out(err: &webmessaging_ipc::Error, would_block: bool) -> bool {
    match err {
        webmessaging_ipc::Error::Io { source, .. } => match source.kind() {
            std::io::ErrorKind::TimedOut => true,
            std::io::ErrorKind::WouldBlock => would_block,
            _ => false,
        },
        _ => false,
    }
}
