//! Errors, named after the DOMExceptions the standard throws, plus the library's own.

use crate::close::CloseNotice;

/// Every error the core returns.
///
/// The first three variants carry the standard's DOMException names so bindings can surface them
/// unchanged (`e.name === "DataCloneError"` in Node, `webmessaging.DataCloneError` in Python,
/// `WM_ERR_DATA_CLONE` in C). The rest are the library's additions beyond the standard.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value or transfer list cannot be cloned or transferred (the `DataCloneError` DOMException).
    #[error("DataCloneError: {0}")]
    DataCloneError(String),
    /// The object is in the wrong state for the call (the `InvalidStateError` DOMException).
    #[error("InvalidStateError: {0}")]
    InvalidStateError(String),
    /// A string did not parse (the `SyntaxError` DOMException), e.g. a bad target origin.
    #[error("SyntaxError: {0}")]
    SyntaxError(String),
    /// A blocking call's timeout ran out.
    #[error("Timeout: the operation timed out")]
    Timeout,
    /// The receiving port's queue is at its configured capacity.
    #[error("Full: the receiving queue is at capacity")]
    Full,
    /// The port's queue has reached its close record: nothing more will ever arrive.
    #[error("Closed: {0}")]
    Closed(CloseNotice),
    /// Serialized bytes are malformed or exceed the decoder's limits.
    #[error("DecodeError: {0}")]
    DecodeError(#[from] crate::clone::DecodeError),
}

impl Error {
    /// The DOMException-style name of this error (`"DataCloneError"`, `"Timeout"`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Error::DataCloneError(_) => "DataCloneError",
            Error::InvalidStateError(_) => "InvalidStateError",
            Error::SyntaxError(_) => "SyntaxError",
            Error::Timeout => "Timeout",
            Error::Full => "Full",
            Error::Closed(_) => "Closed",
            Error::DecodeError(_) => "DecodeError",
        }
    }

    pub(crate) fn data_clone(msg: impl Into<String>) -> Self {
        Error::DataCloneError(msg.into())
    }

    pub(crate) fn invalid_state(msg: impl Into<String>) -> Self {
        Error::InvalidStateError(msg.into())
    }
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
