//! The writer: the canonical subset of V8 v15 (docs/wire-format.md), byte-identical to Node's
//! `new v8.Serializer()` for the same value. Iterative, so a deep graph cannot overflow the stack.

use std::collections::HashMap;

use super::bigint::JsBigInt;
use super::decode::Limits;
use super::number::{canonical, time_clip};
use super::string::{JsString, INLINE};
use super::transferable::Transferable;
use super::value::{
    Array, ArrayBuffer, ArrayBufferView, Elements, ErrorObject, Graph, Object, ObjectId, Value,
};
use super::wire::*;
use crate::{Error, MessagePort, Result};

/// Writer options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodeOptions {
    /// The deepest nesting of containers written; deeper graphs are a `DataCloneError`.
    /// Default 10,000 (the reader's default too, so what we write we can read).
    pub max_depth: usize,
    /// The receiving reader's budgets: a value that a reader with these [`Limits`] would refuse
    /// (too many objects, string code units, ArrayBuffer bytes, too large a BigInt, too long
    /// sparse arrays for the bytes written, nesting deeper than `limits.max_depth`) is a
    /// `DataCloneError` here, at the sender, instead of a `DecodeError` at the receiver.
    /// Default [`Limits::default()`], what the reader uses by default.
    pub limits: Limits,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            max_depth: super::decode::DEFAULT_MAX_DEPTH,
            limits: Limits::default(),
        }
    }
}

/// Serializes `graph` (no transfer list): header `FF 0F` + the root value.
///
/// Errors with `DataCloneError` when the graph cannot be written: a MessagePort (ports must be
/// transferred, R-CH-15), a detached ArrayBuffer (R-SC-10), an out-of-bounds or misaligned view
/// (R-SC-14), a dangling [`ObjectId`], duplicate or misplaced keys, or nesting deeper than
/// [`EncodeOptions::max_depth`], or a value the default reader [`Limits`] would refuse.
pub fn encode(graph: &Graph) -> Result<Vec<u8>> {
    encode_with(graph, &EncodeOptions::default(), &[])
}

/// Serializes `graph` with options and a transfer list: listed ports are written as host objects
/// `\` + their index among the list's ports, listed ArrayBuffers as `t` + their index among the
/// list's buffers (their bytes travel out of band). Nothing is detached here; see
/// [`serialize_with_transfer`](super::serialize_with_transfer) for the full transfer steps.
/// A port or buffer listed twice is a `DataCloneError` (R-TR-4).
// A port hashes by identity (its handle's address), not by its mutable state.
#[allow(clippy::mutable_key_type)]
pub fn encode_with(
    graph: &Graph,
    options: &EncodeOptions,
    transfer: &[Transferable],
) -> Result<Vec<u8>> {
    // Index among the list's ports / buffers.
    let mut ports: HashMap<&MessagePort, u32> = HashMap::new();
    let mut buffers: HashMap<ObjectId, u32> = HashMap::new();
    let mut budget = Budget::default();
    for t in transfer {
        match t {
            Transferable::Port(p) => {
                let n = ports.len() as u32;
                if ports.insert(p, n).is_some() {
                    return Err(dce("the transfer list holds a port twice"));
                }
            }
            Transferable::ArrayBuffer(id) => {
                let n = buffers.len() as u32;
                if buffers.insert(*id, n).is_some() {
                    return Err(dce("the transfer list holds an ArrayBuffer twice"));
                }
                // The reader makes (and charges) every listed buffer, mentioned or not.
                budget.objects += 1;
                if let Some(Object::ArrayBuffer(b)) = graph.get(*id) {
                    budget.bytes += b.data.len();
                }
            }
        }
    }
    let mut w = Writer {
        graph,
        buf: Vec::with_capacity(64 + graph.len().min(1 << 16) * 16),
        ids: vec![UNSEEN; graph.len()],
        next_id: 0,
        ports: &ports,
        buffers: &buffers,
        max_depth: options.max_depth.min(options.limits.max_depth),
        max_bigint_bytes: options.limits.max_bigint_bytes,
        depth: 0,
        budget,
    };
    w.buf.extend_from_slice(&[VERSION, LATEST_VERSION as u8]);
    w.run(&graph.root)?;
    w.budget.check(&options.limits, w.buf.len())?;
    Ok(w.buf)
}

/// What the reader will charge against its [`Limits`] for the bytes being written, counted as
/// the reader counts (see `decode.rs`): the whole value is bounded by the graph, so the sums
/// are checked once, at the end.
#[derive(Default)]
struct Budget {
    /// Arena objects: every new object written, plus each listed transferred buffer.
    objects: usize,
    /// String code units, keys included.
    units: usize,
    /// ArrayBuffer bytes, inline and transferred.
    bytes: usize,
    /// Sum of sparse-array lengths.
    sparse: usize,
}

impl Budget {
    fn check(&self, limits: &Limits, written: usize) -> Result<()> {
        let over = |what: &str, n: usize, limit: usize, field: &str| {
            dce(format!(
                "the value has {n} {what}, more than the receiver reads \
                 (limit {limit}, Limits::{field})"
            ))
        };
        if self.objects > limits.max_objects {
            return Err(over(
                "objects",
                self.objects,
                limits.max_objects,
                "max_objects",
            ));
        }
        if self.units > limits.max_string_units {
            let field = "max_string_units";
            return Err(over(
                "string code units",
                self.units,
                limits.max_string_units,
                field,
            ));
        }
        if self.bytes > limits.max_bytes {
            return Err(over(
                "ArrayBuffer bytes",
                self.bytes,
                limits.max_bytes,
                "max_bytes",
            ));
        }
        let sparse = limits.sparse_budget(written);
        if self.sparse > sparse {
            let field = "sparse_length_per_byte";
            return Err(over("sparse-array slots", self.sparse, sparse, field));
        }
        Ok(())
    }
}

const UNSEEN: u32 = u32::MAX;

/// A step of the iterative writer.
enum Task<'g> {
    Value(&'g Value),
    Key(&'g JsString),
    Index(u32),
    /// A literal tag byte.
    Tag(u8),
    /// Leaves a container.
    Leave,
    /// The rest of a container's properties, none with an index key: each key and value in
    /// order, primitives written in place (one task per container, not two per property).
    Props(&'g [(JsString, Value)]),
    /// The rest of a container's values (dense elements, Set members), in order.
    Values(&'g [Value]),
    /// A container's end: its tag, its count(s), and leaving its level.
    End(u8, u32, Option<u32>),
}

// A port hashes by identity (its handle's address), not by its mutable state.
#[allow(clippy::mutable_key_type)]
struct Writer<'g> {
    graph: &'g Graph,
    buf: Vec<u8>,
    /// Wire id of each arena object already written, `UNSEEN` otherwise.
    ids: Vec<u32>,
    next_id: u32,
    ports: &'g HashMap<&'g MessagePort, u32>,
    buffers: &'g HashMap<ObjectId, u32>,
    max_depth: usize,
    max_bigint_bytes: usize,
    depth: usize,
    budget: Budget,
}

fn dce(msg: impl Into<String>) -> Error {
    Error::data_clone(msg)
}

impl<'g> Writer<'g> {
    fn run(&mut self, root: &'g Value) -> Result<()> {
        let mut stack: Vec<Task<'g>> = vec![Task::Value(root)];
        while let Some(task) = stack.pop() {
            match task {
                Task::Value(v) => self.value(v, &mut stack)?,
                Task::Key(k) => match k.array_index() {
                    Some(i) => self.index_key(i),
                    None => self.string(k),
                },
                Task::Index(i) => self.index_key(i),
                Task::Tag(t) => self.buf.push(t),
                Task::Leave => self.depth -= 1,
                Task::Props(mut props) => {
                    while let Some(((k, v), rest)) = props.split_first() {
                        props = rest;
                        self.string(k);
                        if let Value::Object(id) = v {
                            // Resume after this object, which goes on top.
                            if !rest.is_empty() {
                                stack.push(Task::Props(rest));
                            }
                            self.object(*id, &mut stack)?;
                            break;
                        }
                        self.value(v, &mut stack)?;
                    }
                }
                Task::Values(mut values) => {
                    while let Some((v, rest)) = values.split_first() {
                        values = rest;
                        if let Value::Object(id) = v {
                            if !rest.is_empty() {
                                stack.push(Task::Values(rest));
                            }
                            self.object(*id, &mut stack)?;
                            break;
                        }
                        self.value(v, &mut stack)?;
                    }
                }
                Task::End(tag, a, b) => {
                    write_end(&mut self.buf, tag, a, b);
                    self.depth -= 1;
                }
            }
        }
        Ok(())
    }

    fn varint(&mut self, n: u32) {
        write_varint(&mut self.buf, n);
    }

    fn double(&mut self, x: f64) {
        self.buf.extend_from_slice(&canonical(x).to_le_bytes());
    }

    #[inline]
    fn number(&mut self, x: f64) {
        write_number(&mut self.buf, x);
    }

    fn index_key(&mut self, i: u32) {
        self.number(f64::from(i));
    }

    #[inline]
    fn string(&mut self, s: &JsString) {
        self.budget.units += s.len();
        if let Some((bytes, len)) = s.inline_latin1() {
            // Tag, length (one varint byte: INLINE < 0x80) and the inline block in one copy.
            let mut out = [0u8; 2 + INLINE];
            out[0] = ONE_BYTE_STRING;
            out[1] = len as u8;
            out[2..].copy_from_slice(bytes);
            extend_fixed(&mut self.buf, &out, 2 + len);
            return;
        }
        match s.as_latin1() {
            Some(bytes) => {
                self.buf.reserve(6 + bytes.len());
                write_tag_varint(&mut self.buf, ONE_BYTE_STRING, bytes.len() as u32);
                self.buf.extend_from_slice(bytes);
            }
            None => {
                let units = s.to_utf16();
                let byte_len = (units.len() * 2) as u32;
                // V8 keeps the UTF-16 payload at an even offset from the buffer start.
                if (self.buf.len() + 1 + varint_len(byte_len)) % 2 == 1 {
                    self.buf.push(PADDING);
                }
                self.buf.push(TWO_BYTE_STRING);
                self.varint(byte_len);
                self.buf.reserve(units.len() * 2);
                for u in units.iter() {
                    self.buf.extend_from_slice(&u.to_le_bytes());
                }
            }
        }
    }

    fn bigint(&mut self, b: &JsBigInt) -> Result<()> {
        let mag = b.magnitude_le();
        // 64-bit V8 writes whole 8-byte digits.
        let byte_len = mag.len().div_ceil(8) * 8;
        if byte_len > (1 << 27) {
            return Err(dce("BigInt is larger than V8's maximum (2^30 bits)"));
        }
        if byte_len > self.max_bigint_bytes {
            return Err(dce(format!(
                "BigInt of {byte_len} bytes is larger than the receiver reads \
                 (limit {}, Limits::max_bigint_bytes)",
                self.max_bigint_bytes
            )));
        }
        write_bigint_digits(&mut self.buf, b.is_negative(), mag);
        Ok(())
    }

    fn len_u32(len: usize, what: &str) -> Result<u32> {
        u32::try_from(len)
            .map_err(|_| dce(format!("{what} is too long for the wire format (≥ 2^32)")))
    }

    #[inline]
    fn value(&mut self, v: &'g Value, stack: &mut Vec<Task<'g>>) -> Result<()> {
        match v {
            Value::Undefined => self.buf.push(UNDEFINED),
            Value::Null => self.buf.push(NULL),
            Value::Bool(true) => self.buf.push(TRUE),
            Value::Bool(false) => self.buf.push(FALSE),
            Value::Number(x) => self.number(*x),
            Value::BigInt(b) => {
                self.buf.push(BIGINT);
                self.bigint(b)?;
            }
            Value::String(s) => self.string(s),
            Value::Object(id) => self.object(*id, stack)?,
        }
        Ok(())
    }

    fn get(&self, id: ObjectId) -> Result<&'g Object> {
        self.graph
            .get(id)
            .ok_or_else(|| dce(format!("the graph has no object {}", id.0)))
    }

    /// Writes `^ id` if the object was written before; otherwise assigns it the next id.
    #[inline]
    fn reference_or_assign(&mut self, id: ObjectId) -> bool {
        let slot = &mut self.ids[id.index()];
        if *slot != UNSEEN {
            let wire = *slot;
            self.buf.push(OBJECT_REFERENCE);
            self.varint(wire);
            return true;
        }
        *slot = self.next_id;
        self.next_id += 1;
        // A transferred buffer was counted with the transfer list.
        if self.buffers.is_empty() || !self.buffers.contains_key(&id) {
            self.budget.objects += 1;
        }
        false
    }

    fn enter(&mut self, stack: &mut Vec<Task<'g>>) -> Result<()> {
        self.deeper()?;
        stack.push(Task::Leave);
        Ok(())
    }

    /// Opens a level; the container's `Task::End` (or `Task::Leave`) closes it.
    #[inline]
    fn deeper(&mut self) -> Result<()> {
        if self.depth >= self.max_depth {
            return Err(dce(format!(
                "the value is nested deeper than {} levels",
                self.max_depth
            )));
        }
        self.depth += 1;
        Ok(())
    }

    fn object(&mut self, id: ObjectId, stack: &mut Vec<Task<'g>>) -> Result<()> {
        let obj = self.get(id)?;
        // A view writes its buffer first, before it takes its own id (as V8 does).
        if let Object::View(view) = obj {
            if self.ids[id.index()] == UNSEEN {
                self.view_buffer(view)?;
            }
        }
        if self.reference_or_assign(id) {
            return Ok(());
        }
        match obj {
            Object::Object(props) => {
                self.buf.push(BEGIN_JS_OBJECT);
                self.deeper()?;
                let n = Self::len_u32(props.len(), "object")?;
                stack.push(Task::End(END_JS_OBJECT, n, None));
                push_properties(props, stack)?;
            }
            Object::Array(a) => self.array(a, stack)?,
            Object::BooleanObject(true) => self.buf.push(TRUE_OBJECT),
            Object::BooleanObject(false) => self.buf.push(FALSE_OBJECT),
            Object::NumberObject(x) => {
                self.buf.push(NUMBER_OBJECT);
                self.double(*x);
            }
            Object::BigIntObject(b) => {
                self.buf.push(BIGINT_OBJECT);
                self.bigint(b)?;
            }
            Object::StringObject(s) => {
                self.buf.push(STRING_OBJECT);
                self.string(s);
            }
            Object::Date(t) => {
                self.buf.push(DATE);
                self.double(time_clip(*t));
            }
            Object::RegExp(r) => {
                if !r.flags.is_valid() {
                    return Err(dce(format!("RegExp flags {:#x} are not valid", r.flags.0)));
                }
                self.buf.push(REGEXP);
                self.string(&r.source);
                self.varint(r.flags.0);
            }
            Object::ArrayBuffer(b) => self.array_buffer(id, b)?,
            Object::View(v) => self.view(v)?,
            Object::Map(entries) => {
                self.buf.push(BEGIN_JS_MAP);
                self.deeper()?;
                let n = Self::len_u32(entries.len(), "Map")?;
                let n = n.checked_mul(2).ok_or_else(|| dce("Map is too large"))?;
                stack.push(Task::End(END_JS_MAP, n, None));
                for (k, v) in entries.iter().rev() {
                    stack.push(Task::Value(v));
                    stack.push(Task::Value(k));
                }
            }
            Object::Set(values) => {
                self.buf.push(BEGIN_JS_SET);
                self.deeper()?;
                let n = Self::len_u32(values.len(), "Set")?;
                stack.push(Task::End(END_JS_SET, n, None));
                if !values.is_empty() {
                    stack.push(Task::Values(values));
                }
            }
            Object::Error(e) => self.error(e, stack)?,
            Object::MessagePort(p) => match self.ports.get(p) {
                Some(&i) => {
                    self.buf.push(HOST_OBJECT);
                    self.varint(i);
                }
                None => {
                    return Err(dce("a MessagePort in the value is not in the transfer list (ports are transferable, not serializable)"))
                }
            },
        }
        Ok(())
    }

    fn array(&mut self, a: &'g Array, stack: &mut Vec<Task<'g>>) -> Result<()> {
        if a.properties.iter().any(|(k, _)| k.array_index().is_some()) {
            return Err(dce(
                "an array index key belongs in the array's elements, not its properties",
            ));
        }
        match &a.elements {
            Elements::Dense(elements) => {
                // Any u32 is a valid length (up to 2^32 - 1).
                let len = Self::len_u32(elements.len(), "array")?;
                write_tag_varint(&mut self.buf, BEGIN_DENSE_JS_ARRAY, len);
                self.deeper()?;
                let n = Self::len_u32(a.properties.len(), "array")?;
                stack.push(Task::End(END_DENSE_JS_ARRAY, n, Some(len)));
                push_properties(&a.properties, stack)?;
                if !elements.is_empty() {
                    stack.push(Task::Values(elements));
                }
            }
            Elements::Sparse { length, entries } => {
                let mut prev: Option<u32> = None;
                for (i, _) in entries {
                    if *i >= *length || prev.is_some_and(|p| p >= *i) {
                        return Err(dce(
                            "sparse array entries must be ascending and below the length",
                        ));
                    }
                    prev = Some(*i);
                }
                self.budget.sparse += *length as usize;
                self.buf.push(BEGIN_SPARSE_JS_ARRAY);
                self.varint(*length);
                self.deeper()?;
                let n = Self::len_u32(entries.len() + a.properties.len(), "array")?;
                stack.push(Task::End(END_SPARSE_JS_ARRAY, n, Some(*length)));
                push_properties(&a.properties, stack)?;
                for (i, v) in entries.iter().rev() {
                    stack.push(Task::Value(v));
                    stack.push(Task::Index(*i));
                }
            }
        }
        Ok(())
    }

    fn array_buffer(&mut self, id: ObjectId, b: &ArrayBuffer) -> Result<()> {
        if let Some(&i) = self.buffers.get(&id) {
            self.buf.push(ARRAY_BUFFER_TRANSFER);
            self.varint(i);
            return Ok(());
        }
        if b.detached {
            return Err(dce("a detached ArrayBuffer cannot be cloned"));
        }
        let len = Self::len_u32(b.data.len(), "ArrayBuffer")?;
        self.budget.bytes += b.data.len();
        match b.max_byte_length {
            Some(max) => {
                if len > max {
                    return Err(dce(
                        "resizable ArrayBuffer is longer than its maxByteLength",
                    ));
                }
                self.buf.push(RESIZABLE_ARRAY_BUFFER);
                self.varint(len);
                self.varint(max);
            }
            None => {
                self.buf.push(ARRAY_BUFFER);
                self.varint(len);
            }
        }
        self.buf.extend_from_slice(&b.data);
        Ok(())
    }

    /// Writes a view's buffer (or a reference to it) before the view itself.
    fn view_buffer(&mut self, v: &ArrayBufferView) -> Result<()> {
        match self.get(v.buffer)? {
            Object::ArrayBuffer(b) => self.array_buffer_or_ref(v.buffer, b),
            other => Err(dce(format!(
                "a {} views a {}, not an ArrayBuffer",
                v.kind.name(),
                other.kind_name()
            ))),
        }
    }

    fn array_buffer_or_ref(&mut self, id: ObjectId, b: &ArrayBuffer) -> Result<()> {
        if !self.reference_or_assign(id) {
            self.array_buffer(id, b)?;
        }
        Ok(())
    }

    fn view(&mut self, v: &ArrayBufferView) -> Result<()> {
        let Object::ArrayBuffer(b) = self.get(v.buffer)? else {
            return Err(dce("a view's buffer is not an ArrayBuffer"));
        };
        // A transferred buffer still has its bytes at this point.
        let buffer_len = b.data.len() as u64;
        let size = v.kind.element_size() as u64;
        let (offset, len) = (u64::from(v.byte_offset), u64::from(v.byte_length));
        // Before the bounds: a detached buffer has no bytes, and "detached" is the true cause
        // (also for one in the transfer list, which is not detached until serialization ends).
        if b.detached {
            return Err(dce("the view's ArrayBuffer is detached"));
        }
        if offset > buffer_len || (!v.length_tracking && len > buffer_len - offset) {
            return Err(dce(format!(
                "{} is out of bounds of its buffer",
                v.kind.name()
            )));
        }
        if offset % size != 0 || (!v.length_tracking && len % size != 0) {
            return Err(dce(format!(
                "{} offset and length must be multiples of {size}",
                v.kind.name()
            )));
        }
        let mut flags = 0;
        if b.max_byte_length.is_some() {
            flags |= VIEW_BACKED_BY_RAB;
        }
        if v.length_tracking {
            if b.max_byte_length.is_none() {
                return Err(dce("a length-tracking view needs a resizable buffer"));
            }
            flags |= VIEW_LENGTH_TRACKING;
        }
        self.buf.push(ARRAY_BUFFER_VIEW);
        self.buf.push(v.kind.wire_tag());
        self.varint(v.byte_offset);
        self.varint(if v.length_tracking { 0 } else { v.byte_length });
        self.varint(flags);
        Ok(())
    }

    fn error(&mut self, e: &'g ErrorObject, stack: &mut Vec<Task<'g>>) -> Result<()> {
        // The reader opens a level for every Error, cause or not.
        self.enter(stack)?;
        self.buf.push(ERROR);
        if let Some(t) = e.name.wire_tag() {
            self.buf.push(t);
        }
        if let Some(m) = &e.message {
            self.buf.push(ERROR_MESSAGE);
            self.string(m);
        }
        if let Some(s) = &e.stack {
            self.buf.push(ERROR_STACK);
            self.string(s);
        }
        match &e.cause {
            Some(c) => {
                self.buf.push(ERROR_CAUSE);
                stack.push(Task::Tag(ERROR_END));
                stack.push(Task::Value(c));
            }
            None => self.buf.push(ERROR_END),
        }
        Ok(())
    }
}

/// Pushes an object's properties in JavaScript own-key order (array indices ascending first, then
/// the other keys in insertion order), rejecting duplicate keys (V8's reader would).
fn push_properties<'g>(props: &'g [(JsString, Value)], stack: &mut Vec<Task<'g>>) -> Result<()> {
    if props.is_empty() {
        return Ok(());
    }
    check_unique(props)?;
    let has_index = props.iter().any(|(k, _)| k.array_index().is_some());
    if !has_index {
        if !props.is_empty() {
            stack.push(Task::Props(props));
        }
        return Ok(());
    }
    let mut indexed: Vec<(u32, &Value)> = props
        .iter()
        .filter_map(|(k, v)| k.array_index().map(|i| (i, v)))
        .collect();
    indexed.sort_by_key(|(i, _)| *i);
    for (k, v) in props
        .iter()
        .rev()
        .filter(|(k, _)| k.array_index().is_none())
    {
        stack.push(Task::Value(v));
        stack.push(Task::Key(k));
    }
    for (i, v) in indexed.into_iter().rev() {
        stack.push(Task::Value(v));
        stack.push(Task::Index(i));
    }
    Ok(())
}

fn check_unique(props: &[(JsString, Value)]) -> Result<()> {
    let dup = if props.len() <= 16 {
        props
            .iter()
            .enumerate()
            .any(|(i, (k, _))| props[..i].iter().any(|(j, _)| j == k))
    } else {
        let mut seen = std::collections::HashSet::with_capacity(props.len());
        props.iter().any(|(k, _)| !seen.insert(k))
    };
    if dup {
        return Err(dce("an object has the same key twice"));
    }
    Ok(())
}
