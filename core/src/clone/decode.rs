//! The reader (placeholder while the real one lands).

use super::error::{DecodeError, DecodeErrorKind};
use super::value::Graph;
use crate::MessagePort;

pub(crate) const DEFAULT_MAX_DEPTH: usize = 10_000;

/// Budgets of one decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of containers.
    pub max_depth: usize,
    /// Most objects created.
    pub max_objects: usize,
    /// Most ArrayBuffer bytes.
    pub max_bytes: usize,
    /// Most string code units, all strings together.
    pub max_string_units: usize,
    /// Longest BigInt magnitude in bytes.
    pub max_bigint_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: DEFAULT_MAX_DEPTH,
            max_objects: 1 << 22,
            max_bytes: 1 << 30,
            max_string_units: 1 << 28,
            max_bigint_bytes: 1 << 20,
        }
    }
}

/// What a host object (`\`) means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HostObjects {
    /// `\` + index into the message's port table.
    #[default]
    Ports,
    /// Node's `v8.serialize()` typed arrays.
    NodeSerialize,
}

/// Reader options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Budgets.
    pub limits: Limits,
    /// Reject bytes after the root value.
    pub strict: bool,
    /// Host-object dialect.
    pub host_objects: HostObjects,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            limits: Limits::default(),
            strict: true,
            host_objects: HostObjects::Ports,
        }
    }
}

/// Decodes with default options.
pub fn decode(bytes: &[u8]) -> Result<Graph, DecodeError> {
    decode_with(bytes, &DecodeOptions::default())
}

/// Decodes with options.
pub fn decode_with(bytes: &[u8], options: &DecodeOptions) -> Result<Graph, DecodeError> {
    decode_transfer(bytes, options, Vec::new(), Vec::new())
}

/// Decodes with a transfer table.
pub fn decode_transfer(
    _bytes: &[u8],
    _options: &DecodeOptions,
    _ports: Vec<MessagePort>,
    _array_buffers: Vec<Vec<u8>>,
) -> Result<Graph, DecodeError> {
    Err(DecodeError::new(
        DecodeErrorKind::Unsupported,
        0,
        "decoder not written yet",
    ))
}
