//! The reader: V8 ValueSerializer versions 13–16 with every defence of docs/wire-format.md (limits and strictness).
//!
//! It is iterative (an explicit stack of open containers), so the depth limit is a policy, not a
//! guard against stack overflow. Every length is checked against the remaining input before any
//! allocation; counts that the input cannot bound (sparse length, `maxByteLength`, end counts)
//! are never used to preallocate.
//!
//! This file holds the options, the entry points and the reader's state; `leaves` reads the
//! values that hold no others, `containers` drives the stack of open ones, and `dedup` finds
//! repeated keys and SameValueZero-equal Map/Set entries.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use super::bigint::JsBigInt;
use super::error::{DecodeError, DecodeErrorKind as Kind};
use super::number::{canonical, number_to_string, parse_array_index, time_clip, MAX_ARRAY_INDEX};
use super::string::{JsString, INLINE};
use super::value::{
    Array, ArrayBuffer, ArrayBufferView, Elements, ErrorName, ErrorObject, Graph, Object, ObjectId,
    Properties, RegExp, RegExpFlags, Value, ViewKind,
};
use super::wire::*;
use crate::{ArrayBufferContents, MessagePort};

mod containers;
mod dedup;
mod leaves;

use leaves::Key;

pub(crate) const DEFAULT_MAX_DEPTH: usize = 10_000;

/// Budgets of one decode. Exceeding one is a [`DecodeError`] of kind
/// [`LimitExceeded`](super::DecodeErrorKind::LimitExceeded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of containers (objects, arrays, maps, sets, error causes).
    /// Default 10,000 (Node 20 gives up with a RangeError somewhere below 200,000).
    pub max_depth: usize,
    /// Most objects one decode may create. Default 4,194,304 (2^22).
    pub max_objects: usize,
    /// Most ArrayBuffer bytes one decode may materialise (copied or transferred). Default 1 GiB.
    pub max_bytes: usize,
    /// Most string code units one decode may materialise, keys included. Default 2^28 (256 Mi).
    pub max_string_units: usize,
    /// Largest BigInt magnitude, in bytes. Default 1 MiB (V8's own maximum is 128 MiB).
    pub max_bigint_bytes: usize,
    /// Sparse-array slots one decode may claim for free, beyond what the input pays for (see
    /// [`sparse_length_per_byte`](Self::sparse_length_per_byte)). Default 1,048,576 (2^20).
    pub sparse_length_base: usize,
    /// Sparse-array slots each input byte buys. A sparse array's length costs at most five
    /// bytes whatever its value, so without a bound a 13-byte message claims 16 M elements, and
    /// a binding that materialises arrays (a Python list, JSON) allocates them all. The lengths
    /// of all sparse arrays of one decode together may not exceed
    /// `sparse_length_base + sparse_length_per_byte × input bytes`, so what a reader materialises
    /// stays linear in what it read. Default 16 (with the base: a 1 KiB message may hold sparse
    /// arrays of 1,064,960 elements in all). Dense arrays need no such bound: each element, hole
    /// or not, takes an input byte.
    pub sparse_length_per_byte: usize,
}

impl Limits {
    /// How many sparse-array slots an input of `input_len` bytes may claim (see
    /// [`sparse_length_per_byte`](Self::sparse_length_per_byte)).
    pub fn sparse_budget(&self, input_len: usize) -> usize {
        self.sparse_length_base
            .saturating_add(self.sparse_length_per_byte.saturating_mul(input_len))
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: DEFAULT_MAX_DEPTH,
            max_objects: 1 << 22,
            max_bytes: 1 << 30,
            max_string_units: 1 << 28,
            max_bigint_bytes: 1 << 20,
            sparse_length_base: 1 << 20,
            sparse_length_per_byte: 16,
        }
    }
}

/// What a host object (`\`) means. The two meanings are mutually exclusive, so the choice is made
/// out of band. New dialects may be added: match with a wildcard arm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostObjects {
    /// Ours (and Deno's): `\` + varint index into the message's port table.
    #[default]
    Ports,
    /// Node's `v8.serialize()` dialect: typed arrays, DataViews and Buffers as
    /// `\` + type index (0–12) + byte length + bytes. Use it to read `v8.serialize` output.
    NodeSerialize,
}

/// Reader options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeOptions {
    /// The budgets.
    pub limits: Limits,
    /// Strict (default): anything but padding after the root value is an error, and Map/Set
    /// entries that are SameValueZero-equal are an error. Lenient: trailing bytes are ignored
    /// (as V8 does; Node's worker messages may carry some) and duplicate Map/Set entries merge
    /// as `Map.prototype.set` would.
    pub strict: bool,
    /// What `\` host objects mean.
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

impl DecodeOptions {
    /// Options for reading the bytes of Node's `v8.serialize()`: Node host objects, lenient.
    pub fn node_serialize() -> Self {
        DecodeOptions {
            strict: false,
            host_objects: HostObjects::NodeSerialize,
            ..Self::default()
        }
    }
}

/// Decodes bytes with the default options and no transfer table (a `\` or `t` is an error).
pub fn decode(bytes: &[u8]) -> Result<Graph, DecodeError> {
    decode_with(bytes, &DecodeOptions::default())
}

/// Decodes bytes with `options` and no transfer table.
pub fn decode_with(bytes: &[u8], options: &DecodeOptions) -> Result<Graph, DecodeError> {
    decode_transfer(bytes, options, &[], Vec::new())
}

/// Decodes bytes with a transfer table: `\ i` becomes a node holding (a handle on) `ports[i]`,
/// `t i` the ArrayBuffer that took ownership of `array_buffers[i]` (moved, not copied). Each
/// entry may be mentioned once; a second mention must be a back-reference.
///
/// The transferred buffers are the first objects of the result, in order: `ObjectId(i)` is
/// `array_buffers[i]`, whether or not the value mentions it (R-TR-10).
pub fn decode_transfer(
    bytes: &[u8],
    options: &DecodeOptions,
    ports: &[MessagePort],
    array_buffers: Vec<ArrayBufferContents>,
) -> Result<Graph, DecodeError> {
    let table = Table {
        ports: ports
            .iter()
            .map(|p| Some(Object::MessagePort(p.clone())))
            .collect(),
        buffer_lens: array_buffers.iter().map(|b| b.len()).collect(),
        buffers: array_buffers,
    };
    read(bytes, options, table).map_err(|e| *e)
}

/// Checks that bytes would decode under `options`, for a sender holding bytes it did not write
/// itself (a foreign encoder such as Node's `v8.Serializer`): the message will carry `ports`
/// ports and transferred ArrayBuffers of `array_buffer_lens` bytes, whose contents the check
/// does not need. It runs the reader itself, so it accepts exactly what
/// [`decode_transfer`] with the same options and table accepts (every limit included) and
/// costs about a decode, minus copying the transferred buffers. Posting the bytes after it
/// passed cannot end in a [`DecodeError`] at a receiver using the same options.
pub fn validate(
    bytes: &[u8],
    options: &DecodeOptions,
    ports: usize,
    array_buffer_lens: &[usize],
) -> Result<(), DecodeError> {
    let table = Table {
        // A stand-in object: the graph is thrown away, only the reader's checks matter.
        ports: (0..ports)
            .map(|_| Some(Object::Object(Vec::new())))
            .collect(),
        buffer_lens: array_buffer_lens.to_vec(),
        buffers: (0..array_buffer_lens.len())
            .map(|_| Vec::new().into())
            .collect(),
    };
    read(bytes, options, table).map(drop).map_err(|e| *e)
}

/// What a message carries beside its bytes.
struct Table {
    /// The object each `\ i` becomes (taken at its first mention).
    ports: Vec<Option<Object>>,
    /// Transferred buffers' contents (empty when only validating) and their true lengths.
    buffers: Vec<ArrayBufferContents>,
    buffer_lens: Vec<usize>,
}

fn read(bytes: &[u8], options: &DecodeOptions, table: Table) -> R<Graph> {
    let Table {
        ports,
        buffers,
        buffer_lens,
    } = table;
    let mut r = Reader {
        input: bytes,
        pos: 0,
        version: 0,
        opts: options,
        // Every object takes at least two bytes; most take far more.
        objects: Vec::with_capacity((bytes.len() / 16).min(options.limits.max_objects)),
        id_map: Vec::new(),
        same_ids: true,
        bytes_used: 0,
        units_left: options.limits.max_string_units,
        // Below u32::MAX: every id fits an `ObjectId` and none is mistaken for `NOT_YET`.
        max_objects: options.limits.max_objects.min(NOT_YET as usize),
        reservable: bytes.len(),
        sparse_left: options.limits.sparse_budget(bytes.len()),
        ports,
        buffer_lens: Vec::new(),
        buffer_used: vec![false; buffers.len()],
        key_cache: std::array::from_fn(|_| None),
        props: Vec::new(),
        prop_keys: HashSet::new(),
    };
    for (data, &len) in buffers.into_iter().zip(&buffer_lens) {
        r.charge_bytes(len)?;
        r.alloc(Object::ArrayBuffer(ArrayBuffer::new(data.into_vec())))?;
    }
    r.buffer_lens = buffer_lens;
    r.header()?;
    let root = r.run()?;
    if r.opts.strict {
        while r.pos < r.input.len() && r.input[r.pos] == PADDING {
            r.pos += 1;
        }
        if r.pos < r.input.len() {
            return Err(r.err(
                Kind::TrailingBytes,
                format!("{} bytes after the root value", r.input.len() - r.pos),
            ));
        }
    }
    let mut graph = Graph::from_root(root);
    *graph.objects_mut() = r.objects;
    Ok(graph)
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    version: u32,
    opts: &'a DecodeOptions,
    objects: Vec<Object>,
    /// Wire object id → arena index; `NOT_YET` while reserved but not yet referable (four
    /// bytes a slot, not eight: one per object of the message).
    id_map: Vec<u32>,
    /// True while every wire id is its arena id (no transfer table, Error or Node host object
    /// yet, the usual case): `id_map` stays empty and costs nothing. See `explicit_ids`.
    same_ids: bool,
    bytes_used: usize,
    /// String code units this decode may still materialise.
    units_left: usize,
    /// Most objects (the limit, below `NOT_YET`).
    max_objects: usize,
    /// Element slots dense arrays may still reserve up front (see `reserve_elements`).
    reservable: usize,
    /// Sparse-array slots still allowed (see [`Limits::sparse_length_per_byte`]).
    sparse_left: usize,
    ports: Vec<Option<Object>>,
    /// The true length of each transferred buffer (its contents are absent when validating).
    buffer_lens: Vec<usize>,
    /// Whether each transferred buffer (arena ids `0..n`) was mentioned yet.
    buffer_used: Vec<bool>,
    /// Recently seen one-byte keys too long to be inline: records repeat their keys, and one
    /// shared copy each saves an allocation per property.
    key_cache: [Option<JsString>; KEY_CACHE],
    /// The properties of every open object and array, innermost last: a container's own are
    /// moved out, into one exactly sized vector, when it ends (the wire gives their count only
    /// after them), so a growing object reallocates nothing of its own.
    props: Properties,
    /// The keys of open containers with many properties, for duplicate detection; each
    /// container's are removed when it ends, so the set is reused, not reallocated.
    prop_keys: HashSet<(ObjectId, JsString)>,
}

/// Boxed inside the reader: keeps every `Result` on the hot path as small as the value it holds.
type R<T> = Result<T, Box<DecodeError>>;

/// What an open container's arena slot holds until it ends (an error drops the whole arena, so
/// no finished graph shows it): a variant that owns no heap block, so creating it allocates
/// nothing and replacing it frees nothing.
const OPEN: Object = Object::BooleanObject(false);

/// An `id_map` slot reserved but not yet referable (an Error before its cause).
const NOT_YET: u32 = u32::MAX;

const KEY_CACHE: usize = 64;
const KEY_CACHE_MAX_LEN: usize = 64;

fn show(tag: u8) -> String {
    if tag.is_ascii_graphic() {
        format!("'{}' ({tag:#04x})", tag as char)
    } else {
        format!("{tag:#04x}")
    }
}

#[cfg(test)]
mod tests;
