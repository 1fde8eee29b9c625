//! Decode errors: what was wrong and at which byte.

use std::fmt;

/// The class of a [`DecodeError`]. New classes may be added: match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended in the middle of a value.
    Truncated,
    /// The bytes are not a valid encoding (bad tag, count mismatch, bad reference, ...).
    Malformed,
    /// Valid V8 data that this codec deliberately does not read (SharedArrayBuffer, wasm,
    /// legacy versions, ...).
    Unsupported,
    /// A configured [`Limits`](super::Limits) budget would be exceeded.
    LimitExceeded,
    /// Bytes after the root value (strict mode only).
    TrailingBytes,
}

/// Why serialized bytes could not be read: what was wrong and at which byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset in the input where the problem was found.
    pub offset: usize,
    /// The class of problem.
    pub kind: DecodeErrorKind,
    /// What was wrong, in words.
    pub message: String,
}

impl DecodeError {
    pub(crate) fn new(kind: DecodeErrorKind, offset: usize, message: impl Into<String>) -> Self {
        DecodeError {
            offset,
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

impl std::error::Error for DecodeError {}
