//! The reader: V8 ValueSerializer versions 13–16 with every defence of the wire-format doc §7.3.
//!
//! It is iterative (an explicit stack of open containers), so the depth limit is a policy, not a
//! guard against stack overflow. Every length is checked against the remaining input before any
//! allocation; counts that the input cannot bound (sparse length, `maxByteLength`, end counts)
//! are never used to preallocate.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use super::bigint::JsBigInt;
use super::error::{DecodeError, DecodeErrorKind as Kind};
use super::number::{canonical, number_to_string, parse_array_index, time_clip, MAX_ARRAY_INDEX};
use super::string::JsString;
use super::value::{
    Array, ArrayBuffer, ArrayBufferView, Elements, ErrorName, ErrorObject, Graph, Object, ObjectId,
    Properties, RegExp, RegExpFlags, Value, ViewKind,
};
use super::wire::*;
use crate::MessagePort;

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
    /// [`sparse_length_per_byte`](Self::sparse_length_per_byte)). Default 65,536.
    pub sparse_length_base: usize,
    /// Sparse-array slots each input byte buys. A sparse array's length costs at most five
    /// bytes whatever its value, so without a bound a 13-byte message claims 16 M elements, and
    /// a binding that materialises arrays (a Python list, JSON) allocates them all. The lengths
    /// of all sparse arrays of one decode together may not exceed
    /// `sparse_length_base + sparse_length_per_byte × input bytes`, so what a reader materialises
    /// stays linear in what it read. Default 16 (with the base: a 1 KiB message may hold sparse
    /// arrays of 81,920 elements in all). Dense arrays need no such bound: each element, hole
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
            sparse_length_base: 1 << 16,
            sparse_length_per_byte: 16,
        }
    }
}

/// What a host object (`\`) means. The two meanings are mutually exclusive, so the choice is made
/// out of band.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
    array_buffers: Vec<Vec<u8>>,
) -> Result<Graph, DecodeError> {
    let table = Table {
        ports: ports
            .iter()
            .map(|p| Some(Object::MessagePort(p.clone())))
            .collect(),
        buffer_lens: array_buffers.iter().map(Vec::len).collect(),
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
        buffers: vec![Vec::new(); array_buffer_lens.len()],
    };
    read(bytes, options, table).map(drop).map_err(|e| *e)
}

/// What a message carries beside its bytes.
struct Table {
    /// The object each `\ i` becomes (taken at its first mention).
    ports: Vec<Option<Object>>,
    /// Transferred buffers' contents (empty when only validating) and their true lengths.
    buffers: Vec<Vec<u8>>,
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
        id_map: Vec::with_capacity((bytes.len() / 16).min(options.limits.max_objects)),
        bytes_used: 0,
        units_used: 0,
        reservable: bytes.len(),
        sparse_left: options.limits.sparse_budget(bytes.len()),
        ports,
        buffer_lens: Vec::new(),
        buffer_used: vec![false; buffers.len()],
        key_cache: std::array::from_fn(|_| None),
    };
    for (data, &len) in buffers.into_iter().zip(&buffer_lens) {
        r.charge_bytes(len)?;
        r.alloc(Object::ArrayBuffer(ArrayBuffer::new(data)))?;
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

/// A property key read from the wire, canonicalised.
enum Key {
    Index(u32),
    Name(JsString),
}

impl Key {
    fn into_name(self) -> JsString {
        match self {
            Key::Index(i) => JsString::from_latin1(i.to_string().into_bytes()),
            Key::Name(n) => n,
        }
    }
}

/// Duplicate detection: a linear scan while small, a hash set beyond.
// Boxed so open frames stay small (they are moved on every push and pop); rare anyway.
#[allow(clippy::box_collection)]
struct Seen<T: Hash + Eq>(Option<Box<HashSet<T>>>);

impl<T: Hash + Eq + Clone> Seen<T> {
    fn new() -> Self {
        Seen(None)
    }
    /// True if `key` was new. `existing` are the keys so far, for the linear phase.
    fn insert<'k>(&mut self, key: &T, existing: impl ExactSizeIterator<Item = &'k T>) -> bool
    where
        T: 'k,
    {
        if let Some(set) = &mut self.0 {
            return set.insert(key.clone());
        }
        if existing.len() < 16 {
            let mut existing = existing;
            return !existing.any(|k| k == key);
        }
        let mut set: HashSet<T> = existing.cloned().collect();
        let fresh = set.insert(key.clone());
        self.0 = Some(Box::new(set));
        fresh
    }
}

/// SameValueZero identity of a Map key or Set value.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Svz {
    Undefined,
    Null,
    Bool(bool),
    Number(u64),
    BigInt(JsBigInt),
    String(JsString),
    Object(ObjectId),
}

fn svz(v: &Value) -> Svz {
    match v {
        Value::Undefined => Svz::Undefined,
        Value::Null => Svz::Null,
        Value::Bool(b) => Svz::Bool(*b),
        Value::Number(n) => Svz::Number(if *n == 0.0 {
            0
        } else {
            canonical(*n).to_bits()
        }),
        Value::BigInt(b) => Svz::BigInt(b.clone()),
        Value::String(s) => Svz::String(s.clone()),
        Value::Object(id) => Svz::Object(*id),
    }
}

/// SameValueZero duplicate detection for Map keys and Set values: a scan while small, a hash
/// map (built once) beyond. Returns the position of the earlier equal entry, if any; otherwise
/// records `v` as the entry at position `existing.len()`.
#[allow(clippy::box_collection)]
fn earlier<'v>(
    seen: &mut Option<Box<HashMap<Svz, usize>>>,
    existing: impl ExactSizeIterator<Item = &'v Value>,
    v: &Value,
) -> Option<usize> {
    let n = existing.len();
    if let Some(map) = seen {
        return match map.entry(svz(v)) {
            Entry::Occupied(e) => Some(*e.get()),
            Entry::Vacant(e) => {
                e.insert(n);
                None
            }
        };
    }
    let key = svz(v);
    if n < 16 {
        let mut existing = existing;
        return existing.position(|x| svz(x) == key);
    }
    let mut map: HashMap<Svz, usize> = existing.enumerate().map(|(i, x)| (svz(x), i)).collect();
    let found = map.get(&key).copied();
    if found.is_none() {
        map.insert(key, n);
    }
    *seen = Some(Box::new(map));
    found
}

/// An open container.
#[allow(clippy::box_collection)]
enum Frame {
    Object {
        id: ObjectId,
        props: Properties,
        key: Option<JsString>,
        seen: Seen<JsString>,
    },
    Dense {
        id: ObjectId,
        len: u32,
        elements: Vec<Value>,
        /// Indices of `-` holes (rare).
        holes: Vec<u32>,
        props: Properties,
        key: Option<JsString>,
        seen: Seen<JsString>,
    },
    Sparse {
        id: ObjectId,
        length: u32,
        entries: Vec<(u32, Value)>,
        props: Properties,
        key: Option<Key>,
        seen: Seen<JsString>,
        seen_index: Seen<u32>,
    },
    Map {
        id: ObjectId,
        /// Entries on the wire (duplicates merged in lenient mode still count).
        wire: usize,
        entries: Vec<(Value, Value)>,
        key: Option<Value>,
        seen: Option<Box<HashMap<Svz, usize>>>,
    },
    Set {
        id: ObjectId,
        wire: usize,
        values: Vec<Value>,
        seen: Option<Box<HashMap<Svz, usize>>>,
    },
    Error {
        id: ObjectId,
        wire_id: usize,
        error: ErrorObject,
        awaiting_cause: bool,
        started: bool,
    },
}

/// What the open container wants next.
enum Step {
    /// Read a value and hand it to the container.
    Value,
    /// The container ended: build it.
    End,
    /// Something was consumed (a key, a hole); ask again.
    Again,
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    version: u32,
    opts: &'a DecodeOptions,
    objects: Vec<Object>,
    /// Wire object id → arena id; `None` while reserved but not yet referable.
    id_map: Vec<Option<ObjectId>>,
    bytes_used: usize,
    units_used: usize,
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
}

/// Boxed inside the reader: keeps every `Result` on the hot path as small as the value it holds.
type R<T> = Result<T, Box<DecodeError>>;

const KEY_CACHE: usize = 64;
const KEY_CACHE_MAX_LEN: usize = 64;

impl<'a> Reader<'a> {
    #[cold]
    fn err(&self, kind: Kind, msg: impl Into<String>) -> Box<DecodeError> {
        Box::new(DecodeError::new(kind, self.pos, msg))
    }

    #[cold]
    fn err_at(&self, at: usize, kind: Kind, msg: impl Into<String>) -> Box<DecodeError> {
        Box::new(DecodeError::new(kind, at, msg))
    }

    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    fn byte(&mut self) -> R<u8> {
        match self.input.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.err(Kind::Truncated, "input ended")),
        }
    }

    /// Skips padding and returns the next tag without consuming it.
    fn peek_tag(&mut self) -> R<u8> {
        while self.input.get(self.pos) == Some(&PADDING) {
            self.pos += 1;
        }
        match self.input.get(self.pos) {
            Some(&b) => Ok(b),
            None => Err(self.err(Kind::Truncated, "input ended where a tag was expected")),
        }
    }

    fn tag(&mut self) -> R<u8> {
        let t = self.peek_tag()?;
        self.pos += 1;
        Ok(t)
    }

    /// A base-128 varint of at most 5 bytes whose value fits in 32 bits, minimally encoded.
    fn varint(&mut self) -> R<u32> {
        let start = self.pos;
        let mut value: u32 = 0;
        for i in 0..5 {
            let b = self.byte()?;
            if i == 4 && b > 0x0F {
                return Err(self.err_at(start, Kind::Malformed, "varint exceeds 32 bits"));
            }
            value |= u32::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                if b == 0 && i > 0 {
                    return Err(self.err_at(
                        start,
                        Kind::Malformed,
                        "varint is not minimally encoded",
                    ));
                }
                return Ok(value);
            }
        }
        Err(self.err_at(start, Kind::Malformed, "varint exceeds 32 bits"))
    }

    /// A buffer length or offset: 32-bit before version 16, 64-bit (but < 2^32 here) from 16 on.
    fn size_varint(&mut self) -> R<u32> {
        if self.version < 16 {
            return self.varint();
        }
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..10 {
            let b = self.byte()?;
            if i == 9 && b > 1 {
                return Err(self.err_at(start, Kind::Malformed, "varint exceeds 64 bits"));
            }
            value |= u64::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                if b == 0 && i > 0 {
                    return Err(self.err_at(
                        start,
                        Kind::Malformed,
                        "varint is not minimally encoded",
                    ));
                }
                return u32::try_from(value).map_err(|_| {
                    self.err_at(
                        start,
                        Kind::Unsupported,
                        "a buffer length or offset of 2^32 or more",
                    )
                });
            }
        }
        Err(self.err_at(start, Kind::Malformed, "varint exceeds 64 bits"))
    }

    fn zigzag(&mut self) -> R<i32> {
        let n = self.varint()?;
        Ok(((n >> 1) as i32) ^ -((n & 1) as i32))
    }

    fn take(&mut self, n: usize, what: &str) -> R<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.err(
                Kind::Truncated,
                format!("{what} of {n} bytes runs past the end of the input"),
            ));
        }
        let s = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn double(&mut self) -> R<f64> {
        let b = self.take(8, "double")?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(canonical(f64::from_le_bytes(a)))
    }

    fn header(&mut self) -> R<()> {
        if self.byte()? != VERSION {
            return Err(self.err_at(
                0,
                Kind::Unsupported,
                "missing version header (0xFF); legacy data is not read",
            ));
        }
        let v = self.varint()?;
        if !(MIN_READ_VERSION..=MAX_READ_VERSION).contains(&v) {
            return Err(self.err_at(
                1,
                Kind::Unsupported,
                format!("unsupported format version {v} (13 to 16 are read)"),
            ));
        }
        self.version = v;
        Ok(())
    }

    // ---- budgets and ids ----

    fn charge_units(&mut self, n: usize) -> R<()> {
        self.units_used = self.units_used.saturating_add(n);
        if self.units_used > self.opts.limits.max_string_units {
            return Err(self.err(Kind::LimitExceeded, "string code units exceed the limit"));
        }
        Ok(())
    }

    fn charge_bytes(&mut self, n: usize) -> R<()> {
        self.bytes_used = self.bytes_used.saturating_add(n);
        if self.bytes_used > self.opts.limits.max_bytes {
            return Err(self.err(Kind::LimitExceeded, "ArrayBuffer bytes exceed the limit"));
        }
        Ok(())
    }

    fn charge_sparse(&mut self, at: usize, length: u32) -> R<()> {
        match self.sparse_left.checked_sub(length as usize) {
            Some(left) => {
                self.sparse_left = left;
                Ok(())
            }
            None => Err(self.err_at(
                at,
                Kind::LimitExceeded,
                format!(
                    "sparse array length {length} exceeds the limit for {} input bytes \
                     (Limits::sparse_length_per_byte)",
                    self.input.len()
                ),
            )),
        }
    }

    /// How many element slots a dense array may reserve up front. Each element takes at least
    /// one input byte, so all open arrays together never reserve more slots than the input has
    /// bytes (nested arrays each claiming the rest of the input cannot multiply it).
    fn reserve_elements(&mut self, len: usize) -> usize {
        let n = len.min(self.reservable);
        self.reservable -= n;
        n
    }

    /// Adds an arena object (not referable from the wire).
    fn alloc(&mut self, obj: Object) -> R<ObjectId> {
        if self.objects.len() >= self.opts.limits.max_objects {
            return Err(self.err(Kind::LimitExceeded, "object count exceeds the limit"));
        }
        let id = ObjectId(self.objects.len() as u32);
        self.objects.push(obj);
        Ok(id)
    }

    /// Adds an object that takes the next wire id and is referable at once.
    fn alloc_wire(&mut self, obj: Object) -> R<ObjectId> {
        let id = self.alloc(obj)?;
        self.id_map.push(Some(id));
        Ok(id)
    }

    fn set(&mut self, id: ObjectId, obj: Object) {
        if let Some(slot) = self.objects.get_mut(id.index()) {
            *slot = obj;
        }
    }

    /// A one-byte key; a longer key is shared with its previous occurrence.
    fn interned(&mut self, bytes: &[u8]) -> JsString {
        // Short keys are stored inline anyway; very long ones are rarely repeated.
        if bytes.len() <= 22 || bytes.len() > KEY_CACHE_MAX_LEN {
            return JsString::from_latin1_slice(bytes);
        }
        // FNV-1a: cheap for short keys; collisions just replace the slot.
        let h = bytes.iter().fold(0x811c_9dc5u32, |h, &b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        let slot = &mut self.key_cache[(h as usize) % KEY_CACHE];
        match slot {
            Some(s) if s.as_latin1() == Some(bytes) => s.clone(),
            _ => {
                let s = JsString::from_latin1_slice(bytes);
                *slot = Some(s.clone());
                s
            }
        }
    }

    // ---- leaves ----

    fn string_body(&mut self, tag: u8) -> R<JsString> {
        let len = self.varint()? as usize;
        match tag {
            ONE_BYTE_STRING => {
                let b = self.take(len, "string")?;
                self.charge_units(len)?;
                Ok(JsString::from_latin1_slice(b))
            }
            TWO_BYTE_STRING => {
                if len % 2 != 0 {
                    return Err(self.err(Kind::Malformed, "two-byte string has an odd byte length"));
                }
                let b = self.take(len, "string")?;
                self.charge_units(len / 2)?;
                Ok(JsString::from_utf16(
                    b.chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]]))
                        .collect::<Vec<_>>(),
                ))
            }
            _ => {
                let at = self.pos;
                let b = self.take(len, "string")?;
                let s = std::str::from_utf8(b).map_err(|_| {
                    self.err_at(at, Kind::Malformed, "UTF-8 string is not valid UTF-8")
                })?;
                self.charge_units(len)?;
                Ok(JsString::from(s))
            }
        }
    }

    /// A value that must be a string (RegExp source, String object, Error message and stack).
    fn tagged_string(&mut self, what: &str) -> R<JsString> {
        let at = self.pos;
        match self.tag()? {
            t @ (ONE_BYTE_STRING | TWO_BYTE_STRING | UTF8_STRING) => self.string_body(t),
            t => Err(self.err_at(
                at,
                Kind::Malformed,
                format!("{what} must be a string, found tag {}", show(t)),
            )),
        }
    }

    fn bigint(&mut self) -> R<JsBigInt> {
        let at = self.pos;
        let bitfield = self.varint()?;
        let len = (bitfield >> 1) as usize;
        if len > self.opts.limits.max_bigint_bytes {
            return Err(self.err_at(
                at,
                Kind::LimitExceeded,
                format!("BigInt of {len} bytes exceeds the limit"),
            ));
        }
        let digits = self.take(len, "BigInt digits")?;
        let negative = bitfield & 1 == 1;
        let b = JsBigInt::from_sign_magnitude(negative, digits);
        if negative && b.is_zero() {
            return Err(self.err_at(at, Kind::Malformed, "BigInt -0 does not exist"));
        }
        Ok(b)
    }

    /// A property key: a number or string tag, canonicalised (`I 1` and `"1"` are one key).
    fn key(&mut self) -> R<Key> {
        let at = self.pos;
        let tag = self.tag()?;
        let number = match tag {
            INT32 => f64::from(self.zigzag()?),
            UINT32 => f64::from(self.varint()?),
            DOUBLE => self.double()?,
            ONE_BYTE_STRING => {
                let len = self.varint()? as usize;
                let bytes = self.take(len, "string")?;
                self.charge_units(len)?;
                if let Some(i) = parse_array_index(bytes) {
                    return Ok(Key::Index(i));
                }
                return Ok(Key::Name(self.interned(bytes)));
            }
            TWO_BYTE_STRING | UTF8_STRING => {
                let s = self.string_body(tag)?;
                return Ok(match s.array_index() {
                    Some(i) => Key::Index(i),
                    None => Key::Name(s),
                });
            }
            t => {
                return Err(self.err_at(
                    at,
                    Kind::Malformed,
                    format!(
                        "a property key must be a number or string, found tag {}",
                        show(t)
                    ),
                ))
            }
        };
        if number >= 0.0 && number <= f64::from(MAX_ARRAY_INDEX) && number.fract() == 0.0 {
            return Ok(Key::Index(number as u32));
        }
        let name = number_to_string(number);
        self.charge_units(name.len())?;
        Ok(match parse_array_index(name.as_bytes()) {
            Some(i) => Key::Index(i),
            None => Key::Name(JsString::from(name)),
        })
    }

    fn array_buffer(&mut self, resizable: bool) -> R<Value> {
        let at = self.pos;
        let len = self.size_varint()?;
        let max = if resizable {
            let max = self.size_varint()?;
            if len > max {
                return Err(self.err_at(
                    at,
                    Kind::Malformed,
                    "resizable ArrayBuffer is longer than its maxByteLength",
                ));
            }
            Some(max)
        } else {
            None
        };
        let data = self.take(len as usize, "ArrayBuffer")?;
        self.charge_bytes(data.len())?;
        let buffer = ArrayBuffer {
            data: data.to_vec(),
            max_byte_length: max,
            detached: false,
        };
        Ok(Value::Object(self.alloc_wire(Object::ArrayBuffer(buffer))?))
    }

    fn transferred_buffer(&mut self) -> R<Value> {
        let at = self.pos;
        let i = self.varint()? as usize;
        match self.buffer_used.get_mut(i) {
            None => Err(self.err_at(
                at,
                Kind::Malformed,
                format!("transferred ArrayBuffer {i} is not in the transfer table"),
            )),
            Some(true) => Err(self.err_at(
                at,
                Kind::Malformed,
                format!(
                    "transferred ArrayBuffer {i} appears twice (the second must be a reference)"
                ),
            )),
            Some(used) => {
                *used = true;
                let id = ObjectId(i as u32);
                self.id_map.push(Some(id));
                Ok(Value::Object(id))
            }
        }
    }

    /// `V` after a buffer value.
    fn view(&mut self, buffer: ObjectId) -> R<Value> {
        let at = self.pos;
        let sub = self.byte()?;
        let kind = ViewKind::from_wire_tag(sub).ok_or_else(|| {
            self.err_at(
                at,
                Kind::Malformed,
                format!("unknown view sub-tag {}", show(sub)),
            )
        })?;
        let offset = self.size_varint()?;
        let length = self.size_varint()?;
        let flags = if self.version >= 14 {
            self.varint()?
        } else {
            0
        };
        if flags & !(VIEW_LENGTH_TRACKING | VIEW_BACKED_BY_RAB) != 0 {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                format!("unknown view flags {flags:#x}"),
            ));
        }
        let Some(Object::ArrayBuffer(b)) = self.objects.get(buffer.index()) else {
            return Err(self.err_at(at, Kind::Malformed, "a view must follow an ArrayBuffer"));
        };
        let buf_len = match self.buffer_lens.get(buffer.index()) {
            Some(&len) => len as u64, // a transferred buffer
            None => b.data.len() as u64,
        };
        let resizable = b.max_byte_length.is_some();
        let tracking = flags & VIEW_LENGTH_TRACKING != 0;
        if resizable != (flags & VIEW_BACKED_BY_RAB != 0) || (tracking && !resizable) {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                "view flags do not match the buffer's resizability",
            ));
        }
        if tracking && length != 0 {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                "a length-tracking view must have byteLength 0",
            ));
        }
        let (o, l) = (u64::from(offset), u64::from(length));
        if o > buf_len || l > buf_len - o {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                format!("{} is out of its buffer's bounds", kind.name()),
            ));
        }
        let size = kind.element_size() as u64;
        if o % size != 0 || l % size != 0 {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                format!(
                    "{} offset and length must be multiples of {size}",
                    kind.name()
                ),
            ));
        }
        let view = ArrayBufferView {
            kind,
            buffer,
            byte_offset: offset,
            byte_length: length,
            length_tracking: tracking,
        };
        Ok(Value::Object(self.alloc_wire(Object::View(view))?))
    }

    fn host_object(&mut self) -> R<Value> {
        let at = self.pos;
        match self.opts.host_objects {
            HostObjects::Ports => {
                let i = self.varint()? as usize;
                let port = match self.ports.get_mut(i) {
                    None => {
                        return Err(self.err_at(
                            at,
                            Kind::Malformed,
                            format!("host object {i} is not in the port table"),
                        ))
                    }
                    Some(slot) => slot.take(),
                };
                let Some(port) = port else {
                    return Err(self.err_at(
                        at,
                        Kind::Malformed,
                        format!("port {i} appears twice (the second must be a reference)"),
                    ));
                };
                Ok(Value::Object(self.alloc_wire(port)?))
            }
            HostObjects::NodeSerialize => {
                const KINDS: [ViewKind; 13] = [
                    ViewKind::Int8,
                    ViewKind::Uint8,
                    ViewKind::Uint8Clamped,
                    ViewKind::Int16,
                    ViewKind::Uint16,
                    ViewKind::Int32,
                    ViewKind::Uint32,
                    ViewKind::Float32,
                    ViewKind::Float64,
                    ViewKind::DataView,
                    ViewKind::Uint8, // Buffer
                    ViewKind::BigInt64,
                    ViewKind::BigUint64,
                ];
                let index = self.varint()? as usize;
                let kind = *KINDS.get(index).ok_or_else(|| {
                    self.err_at(
                        at,
                        Kind::Malformed,
                        format!("unknown Node host object type {index}"),
                    )
                })?;
                let len = self.varint()?;
                if len as usize % kind.element_size() != 0 {
                    return Err(self.err_at(
                        at,
                        Kind::Malformed,
                        format!(
                            "{} byte length {len} is not a multiple of its element size",
                            kind.name()
                        ),
                    ));
                }
                let data = self.take(len as usize, "host object")?;
                self.charge_bytes(data.len())?;
                let buffer = self.alloc(Object::ArrayBuffer(ArrayBuffer::new(data.to_vec())))?;
                let view = ArrayBufferView {
                    kind,
                    buffer,
                    byte_offset: 0,
                    byte_length: len,
                    length_tracking: false,
                };
                Ok(Value::Object(self.alloc_wire(Object::View(view))?))
            }
        }
    }

    fn regexp(&mut self) -> R<Value> {
        let source = self.tagged_string("RegExp source")?;
        let at = self.pos;
        let flags = RegExpFlags(self.varint()?);
        if !flags.is_valid() {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                format!("RegExp flags {:#x} are not valid", flags.0),
            ));
        }
        Ok(Value::Object(
            self.alloc_wire(Object::RegExp(RegExp { source, flags }))?,
        ))
    }

    // ---- the driver ----

    fn push(&mut self, stack: &mut Vec<Frame>, frame: Frame) -> R<()> {
        if stack.len() >= self.opts.limits.max_depth {
            return Err(self.err(
                Kind::LimitExceeded,
                format!("nesting deeper than {} levels", self.opts.limits.max_depth),
            ));
        }
        stack.push(frame);
        Ok(())
    }

    /// Reads the next value if it is a primitive (the common case inside containers); leaves
    /// anything else for [`start_value`](Self::start_value).
    #[inline]
    fn primitive(&mut self) -> R<Option<Value>> {
        let tag = self.peek_tag()?;
        let v = match tag {
            UNDEFINED => Value::Undefined,
            NULL => Value::Null,
            TRUE => Value::Bool(true),
            FALSE => Value::Bool(false),
            INT32 => {
                self.pos += 1;
                return Ok(Some(Value::Number(f64::from(self.zigzag()?))));
            }
            DOUBLE => {
                self.pos += 1;
                return Ok(Some(Value::Number(self.double()?)));
            }
            ONE_BYTE_STRING | TWO_BYTE_STRING => {
                self.pos += 1;
                return Ok(Some(Value::String(self.string_body(tag)?)));
            }
            _ => return Ok(None),
        };
        self.pos += 1;
        Ok(Some(v))
    }

    /// Reads a value (a view right after a buffer included). `None` if it opened a container.
    fn start_value(&mut self, stack: &mut Vec<Frame>) -> R<Option<Value>> {
        let v = self.start_value_inner(stack)?;
        if let Some(Value::Object(id)) = v {
            if matches!(self.objects.get(id.index()), Some(Object::ArrayBuffer(_)))
                && self.input.get(self.pos..).is_some_and(|rest| {
                    rest.iter().find(|&&b| b != PADDING) == Some(&ARRAY_BUFFER_VIEW)
                })
            {
                self.peek_tag()?;
                self.pos += 1;
                return self.view(id).map(Some);
            }
        }
        Ok(v)
    }

    fn start_value_inner(&mut self, stack: &mut Vec<Frame>) -> R<Option<Value>> {
        let at = self.pos;
        let mut tag = self.tag()?;
        while tag == VERIFY_OBJECT_COUNT {
            self.varint()?;
            tag = self.tag()?;
        }
        let v = match tag {
            UNDEFINED => Value::Undefined,
            NULL => Value::Null,
            TRUE => Value::Bool(true),
            FALSE => Value::Bool(false),
            INT32 => Value::Number(f64::from(self.zigzag()?)),
            UINT32 => Value::Number(f64::from(self.varint()?)),
            DOUBLE => Value::Number(self.double()?),
            BIGINT => Value::BigInt(self.bigint()?),
            ONE_BYTE_STRING | TWO_BYTE_STRING | UTF8_STRING => {
                Value::String(self.string_body(tag)?)
            }
            OBJECT_REFERENCE => {
                let wire = self.varint()? as usize;
                match self.id_map.get(wire) {
                    Some(Some(id)) => Value::Object(*id),
                    Some(None) => {
                        return Err(self.err_at(
                            at,
                            Kind::Malformed,
                            format!("reference to object {wire} before it can be referenced"),
                        ))
                    }
                    None => {
                        return Err(self.err_at(
                            at,
                            Kind::Malformed,
                            format!("reference to unknown object {wire}"),
                        ))
                    }
                }
            }
            BEGIN_JS_OBJECT => {
                let id = self.alloc_wire(Object::Object(Vec::new()))?;
                let frame = Frame::Object {
                    id,
                    props: Vec::new(),
                    key: None,
                    seen: Seen::new(),
                };
                self.push(stack, frame)?;
                return Ok(None);
            }
            BEGIN_DENSE_JS_ARRAY => {
                let len = self.varint()?;
                // Every element takes at least one byte.
                if len as usize > self.remaining() {
                    return Err(self.err_at(
                        at,
                        Kind::Truncated,
                        format!("dense array of {len} elements is longer than the input"),
                    ));
                }
                let id = self.alloc_wire(Object::Array(Array::dense(Vec::new())))?;
                let frame = Frame::Dense {
                    id,
                    len,
                    elements: Vec::with_capacity(self.reserve_elements(len as usize)),
                    holes: Vec::new(),
                    props: Vec::new(),
                    key: None,
                    seen: Seen::new(),
                };
                self.push(stack, frame)?;
                return Ok(None);
            }
            BEGIN_SPARSE_JS_ARRAY => {
                let length = self.varint()?;
                self.charge_sparse(at, length)?;
                let id = self.alloc_wire(Object::Array(Array::sparse(length)))?;
                let frame = Frame::Sparse {
                    id,
                    length,
                    entries: Vec::new(),
                    props: Vec::new(),
                    key: None,
                    seen: Seen::new(),
                    seen_index: Seen::new(),
                };
                self.push(stack, frame)?;
                return Ok(None);
            }
            BEGIN_JS_MAP => {
                let id = self.alloc_wire(Object::Map(Vec::new()))?;
                self.push(
                    stack,
                    Frame::Map {
                        id,
                        wire: 0,
                        entries: Vec::new(),
                        key: None,
                        seen: None,
                    },
                )?;
                return Ok(None);
            }
            BEGIN_JS_SET => {
                let id = self.alloc_wire(Object::Set(Vec::new()))?;
                self.push(
                    stack,
                    Frame::Set {
                        id,
                        wire: 0,
                        values: Vec::new(),
                        seen: None,
                    },
                )?;
                return Ok(None);
            }
            DATE => {
                let t = time_clip(self.double()?);
                Value::Object(self.alloc_wire(Object::Date(t))?)
            }
            TRUE_OBJECT => Value::Object(self.alloc_wire(Object::BooleanObject(true))?),
            FALSE_OBJECT => Value::Object(self.alloc_wire(Object::BooleanObject(false))?),
            NUMBER_OBJECT => {
                let n = self.double()?;
                Value::Object(self.alloc_wire(Object::NumberObject(n))?)
            }
            BIGINT_OBJECT => {
                let b = self.bigint()?;
                Value::Object(self.alloc_wire(Object::BigIntObject(b))?)
            }
            STRING_OBJECT => {
                let s = self.tagged_string("String object")?;
                Value::Object(self.alloc_wire(Object::StringObject(s))?)
            }
            REGEXP => self.regexp()?,
            ARRAY_BUFFER => self.array_buffer(false)?,
            RESIZABLE_ARRAY_BUFFER => self.array_buffer(true)?,
            ARRAY_BUFFER_TRANSFER => self.transferred_buffer()?,
            HOST_OBJECT => self.host_object()?,
            ERROR => {
                // The id is taken now but the error is referable only once its cause starts.
                let id = self.alloc(Object::Error(ErrorObject::default()))?;
                let wire_id = self.id_map.len();
                self.id_map.push(None);
                let frame = Frame::Error {
                    id,
                    wire_id,
                    error: ErrorObject::default(),
                    awaiting_cause: false,
                    started: false,
                };
                self.push(stack, frame)?;
                return Ok(None);
            }
            ARRAY_BUFFER_VIEW => {
                return Err(self.err_at(at, Kind::Malformed, "a view must follow an ArrayBuffer"))
            }
            THE_HOLE => {
                return Err(self.err_at(at, Kind::Malformed, "a hole outside a dense array"))
            }
            SHARED_ARRAY_BUFFER | SHARED_OBJECT | WASM_MODULE_TRANSFER | WASM_MEMORY_TRANSFER => {
                return Err(self.err_at(
                    at,
                    Kind::Unsupported,
                    format!(
                        "tag {} (shared memory or WebAssembly) is not supported",
                        show(tag)
                    ),
                ))
            }
            t => {
                return Err(self.err_at(at, Kind::Malformed, format!("unexpected tag {}", show(t))))
            }
        };
        Ok(Some(v))
    }

    fn run(&mut self) -> R<Value> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut done = self.start_value(&mut stack)?;
        loop {
            if let Some(v) = done.take() {
                match stack.last_mut() {
                    None => return Ok(v),
                    Some(frame) => self.deliver(frame, v)?,
                }
            }
            let Some(frame) = stack.last_mut() else {
                return Err(self.err(Kind::Malformed, "reader lost its place"));
            };
            match self.next_step(frame)? {
                Step::Value => done = self.start_value(&mut stack)?,
                Step::Again => {}
                Step::End => {
                    let Some(frame) = stack.pop() else {
                        return Err(self.err(Kind::Malformed, "reader lost its place"));
                    };
                    done = Some(self.finish(frame)?);
                }
            }
        }
    }

    /// Reads the key of the next property, or the end tag. Returns `None` at the end tag.
    fn key_or_end(&mut self, end: u8) -> R<Option<Key>> {
        if self.peek_tag()? == end {
            self.pos += 1;
            return Ok(None);
        }
        self.key().map(Some)
    }

    fn check_count(&mut self, expected: usize, what: &str) -> R<()> {
        let at = self.pos;
        let n = self.varint()? as usize;
        if n != expected {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                format!("{what}: end count {n} but {expected} read"),
            ));
        }
        Ok(())
    }

    fn add_prop(
        &self,
        props: &Properties,
        seen: &mut Seen<JsString>,
        name: &JsString,
        at: usize,
    ) -> R<()> {
        if !seen.insert(name, props.iter().map(|(k, _)| k)) {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                format!("duplicate property key {name:?}"),
            ));
        }
        Ok(())
    }

    fn next_step(&mut self, frame: &mut Frame) -> R<Step> {
        let at = self.pos;
        match frame {
            Frame::Object {
                props, key, seen, ..
            } => {
                if key.is_some() {
                    return Ok(Step::Value);
                }
                match self.key_or_end(END_JS_OBJECT)? {
                    None => {
                        self.check_count(props.len(), "object")?;
                        Ok(Step::End)
                    }
                    Some(k) => {
                        let name = k.into_name();
                        self.add_prop(props, seen, &name, at)?;
                        // Fast path: a primitive value needs no trip through the driver.
                        if let Some(v) = self.primitive()? {
                            props.push((name, v));
                            return Ok(Step::Again);
                        }
                        *key = Some(name);
                        Ok(Step::Value)
                    }
                }
            }
            Frame::Dense {
                len,
                elements,
                holes,
                props,
                key,
                seen,
                ..
            } => {
                while elements.len() < *len as usize {
                    if self.peek_tag()? == THE_HOLE {
                        self.pos += 1;
                        holes.push(elements.len() as u32);
                        elements.push(Value::Undefined);
                        continue;
                    }
                    match self.primitive()? {
                        Some(v) => elements.push(v),
                        None => return Ok(Step::Value),
                    }
                }
                if key.is_some() {
                    return Ok(Step::Value);
                }
                match self.key_or_end(END_DENSE_JS_ARRAY)? {
                    None => {
                        self.check_count(props.len(), "dense array properties")?;
                        self.check_count(*len as usize, "dense array length")?;
                        Ok(Step::End)
                    }
                    Some(Key::Index(i)) => Err(self.err_at(
                        at,
                        Kind::Malformed,
                        format!("index key {i} among a dense array's properties"),
                    )),
                    Some(Key::Name(name)) => {
                        self.add_prop(props, seen, &name, at)?;
                        *key = Some(name);
                        Ok(Step::Value)
                    }
                }
            }
            Frame::Sparse {
                length,
                entries,
                props,
                key,
                seen,
                seen_index,
                ..
            } => {
                if key.is_some() {
                    return Ok(Step::Value);
                }
                match self.key_or_end(END_SPARSE_JS_ARRAY)? {
                    None => {
                        self.check_count(entries.len() + props.len(), "sparse array properties")?;
                        self.check_count(*length as usize, "sparse array length")?;
                        Ok(Step::End)
                    }
                    Some(Key::Index(i)) => {
                        if i >= *length {
                            return Err(self.err_at(
                                at,
                                Kind::Malformed,
                                format!("index {i} beyond the sparse array's length {length}"),
                            ));
                        }
                        if !seen_index.insert(&i, entries.iter().map(|(j, _)| j)) {
                            return Err(self.err_at(
                                at,
                                Kind::Malformed,
                                format!("duplicate array index {i}"),
                            ));
                        }
                        *key = Some(Key::Index(i));
                        Ok(Step::Value)
                    }
                    Some(Key::Name(name)) => {
                        self.add_prop(props, seen, &name, at)?;
                        *key = Some(Key::Name(name));
                        Ok(Step::Value)
                    }
                }
            }
            Frame::Map { wire, key, .. } => {
                if key.is_none() && self.peek_tag()? == END_JS_MAP {
                    self.pos += 1;
                    self.check_count(*wire * 2, "Map")?;
                    return Ok(Step::End);
                }
                Ok(Step::Value)
            }
            Frame::Set { wire, .. } => {
                if self.peek_tag()? == END_JS_SET {
                    self.pos += 1;
                    self.check_count(*wire, "Set")?;
                    return Ok(Step::End);
                }
                Ok(Step::Value)
            }
            Frame::Error {
                id,
                wire_id,
                error,
                awaiting_cause,
                started,
            } => {
                if *awaiting_cause {
                    return Ok(Step::Value);
                }
                self.error_fields(*id, *wire_id, error, awaiting_cause, started)
            }
        }
    }

    /// Error sub-tags (read as raw bytes, not tags) up to the cause or the end.
    fn error_fields(
        &mut self,
        id: ObjectId,
        wire_id: usize,
        error: &mut ErrorObject,
        awaiting_cause: &mut bool,
        started: &mut bool,
    ) -> R<Step> {
        loop {
            let at = self.pos;
            let first = !*started;
            *started = true;
            let sub = self.byte()?;
            match sub {
                ERROR_MESSAGE if error.message.is_none() => {
                    error.message = Some(self.tagged_string("Error message")?)
                }
                ERROR_STACK if error.stack.is_none() => {
                    error.stack = Some(self.tagged_string("Error stack")?)
                }
                ERROR_CAUSE if error.cause.is_none() => {
                    // Newer V8 lets the cause refer to the error itself.
                    if let Some(slot) = self.id_map.get_mut(wire_id) {
                        *slot = Some(id);
                    }
                    *awaiting_cause = true;
                    return Ok(Step::Value);
                }
                ERROR_END => return Ok(Step::End),
                t if first && ErrorName::from_wire_tag(t).is_some() => {
                    error.name = ErrorName::from_wire_tag(t).unwrap_or_default();
                }
                t => {
                    return Err(self.err_at(
                        at,
                        Kind::Malformed,
                        format!("unexpected or repeated Error field {}", show(t)),
                    ))
                }
            }
        }
    }

    fn deliver(&mut self, frame: &mut Frame, v: Value) -> R<()> {
        let at = self.pos;
        match frame {
            Frame::Object { props, key, .. } | Frame::Dense { props, key, .. } if key.is_some() => {
                if let Some(k) = key.take() {
                    props.push((k, v));
                }
            }
            Frame::Dense { elements, .. } => elements.push(v),
            Frame::Object { .. } => return Err(self.err(Kind::Malformed, "value without a key")),
            Frame::Sparse {
                entries,
                props,
                key,
                ..
            } => match key.take() {
                Some(Key::Index(i)) => entries.push((i, v)),
                Some(Key::Name(n)) => props.push((n, v)),
                None => return Err(self.err(Kind::Malformed, "value without a key")),
            },
            Frame::Map {
                wire,
                entries,
                key,
                seen,
                ..
            } => match key.take() {
                None => *key = Some(v),
                Some(k) => {
                    *wire += 1;
                    match earlier(seen, entries.iter().map(|(x, _)| x), &k) {
                        None => entries.push((k, v)),
                        Some(_) if self.opts.strict => {
                            return Err(self.err_at(at, Kind::Malformed, "duplicate Map key"))
                        }
                        // Map.prototype.set on an existing key replaces its value in place.
                        Some(i) => {
                            if let Some(e) = entries.get_mut(i) {
                                e.1 = v;
                            }
                        }
                    }
                }
            },
            Frame::Set {
                wire, values, seen, ..
            } => {
                *wire += 1;
                if earlier(seen, values.iter(), &v).is_none() {
                    values.push(v);
                } else if self.opts.strict {
                    return Err(self.err_at(at, Kind::Malformed, "duplicate Set value"));
                }
            }
            Frame::Error {
                error,
                awaiting_cause,
                ..
            } => {
                error.cause = Some(v);
                *awaiting_cause = false;
            }
        }
        Ok(())
    }

    fn finish(&mut self, frame: Frame) -> R<Value> {
        let (id, obj) = match frame {
            Frame::Object { id, props, .. } => (id, Object::Object(js_key_order(props))),
            Frame::Dense {
                id,
                len,
                elements,
                holes,
                props,
                ..
            } => {
                let elements = if holes.is_empty() {
                    Elements::Dense(elements)
                } else {
                    let mut holes = holes.into_iter().peekable();
                    let entries = elements
                        .into_iter()
                        .enumerate()
                        .filter_map(|(i, v)| {
                            if holes.peek() == Some(&(i as u32)) {
                                holes.next();
                                None
                            } else {
                                Some((i as u32, v))
                            }
                        })
                        .collect();
                    Elements::Sparse {
                        length: len,
                        entries,
                    }
                };
                (
                    id,
                    Object::Array(Array {
                        elements,
                        properties: props,
                    }),
                )
            }
            Frame::Sparse {
                id,
                length,
                mut entries,
                props,
                ..
            } => {
                entries.sort_by_key(|(i, _)| *i);
                (
                    id,
                    Object::Array(Array {
                        elements: Elements::Sparse { length, entries },
                        properties: props,
                    }),
                )
            }
            Frame::Map { id, entries, .. } => (id, Object::Map(entries)),
            Frame::Set { id, values, .. } => (id, Object::Set(values)),
            Frame::Error {
                id, wire_id, error, ..
            } => {
                if let Some(slot) = self.id_map.get_mut(wire_id) {
                    *slot = Some(id);
                }
                (id, Object::Error(error))
            }
        };
        self.set(id, obj);
        Ok(Value::Object(id))
    }
}

/// JavaScript's own-key order: array indices ascending first, then the other keys in the order
/// they were added. V8 writes keys in that order; other writers may not, and the graph must
/// show what a JavaScript reader would see.
fn js_key_order(props: Properties) -> Properties {
    let mut prev: Option<u32> = None;
    let mut seen_name = false;
    let ordered = props.iter().all(|(k, _)| match k.array_index() {
        Some(i) => {
            let ok = !seen_name && prev.is_none_or(|p| p < i);
            prev = Some(i);
            ok
        }
        None => {
            seen_name = true;
            true
        }
    });
    if ordered {
        return props;
    }
    let (mut indexed, names): (Vec<_>, Vec<_>) = props
        .into_iter()
        .partition(|(k, _)| k.array_index().is_some());
    indexed.sort_by_key(|(k, _)| k.array_index());
    indexed.extend(names);
    indexed
}

fn show(tag: u8) -> String {
    if tag.is_ascii_graphic() {
        format!("'{}' ({tag:#04x})", tag as char)
    } else {
        format!("{tag:#04x}")
    }
}
