//! The value model: a graph of JavaScript values in an arena, so shared references and cycles
//! survive a clone.
//!
//! Primitives ([`Value`]) are held by value; objects live in the [`Graph`]'s arena and are
//! referred to by [`ObjectId`]. Two references to one `ObjectId` are one object on the other side
//! too (R-SC-36).

use std::fmt;

use super::bigint::JsBigInt;
use super::string::JsString;
use crate::MessagePort;

/// The index of an object in a [`Graph`]'s arena.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ObjectId(pub u32);

impl ObjectId {
    /// The arena index as a `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A JavaScript value: a primitive, or a reference to an object in the graph.
///
/// Equality is JavaScript's SameValue: `NaN` equals `NaN`, `+0` does not equal `-0`, objects are
/// equal when they are the same `ObjectId`.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// `undefined`.
    #[default]
    Undefined,
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A Number (any f64: -0, NaN and ±Infinity included).
    Number(f64),
    /// A BigInt.
    BigInt(JsBigInt),
    /// A string (UTF-16 code units).
    String(JsString),
    /// A reference to an object in the graph.
    Object(ObjectId),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Undefined, Value::Undefined) | (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => same_value(*a, *b),
            (Value::BigInt(a), Value::BigInt(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Object(a), Value::Object(b)) => a == b,
            _ => false,
        }
    }
}

/// SameValue on Numbers: NaN equals NaN, +0 and -0 differ.
pub(crate) fn same_value(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

impl Value {
    /// This value with an object reference moved by `offset` (see [`Graph::append`]);
    /// primitives unchanged.
    pub fn shifted(&self, offset: u32) -> Value {
        match self {
            Value::Object(id) => Value::Object(ObjectId(id.0 + offset)),
            other => other.clone(),
        }
    }

    /// The object this value refers to, if it is an object reference.
    pub fn as_object(&self) -> Option<ObjectId> {
        match self {
            Value::Object(id) => Some(*id),
            _ => None,
        }
    }

    /// The string, if this value is a string.
    pub fn as_string(&self) -> Option<&JsString> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this value is a Number.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Number(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Number(f64::from(v))
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Number(f64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.into())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v.into())
    }
}
impl From<JsString> for Value {
    fn from(v: JsString) -> Self {
        Value::String(v)
    }
}
impl From<JsBigInt> for Value {
    fn from(v: JsBigInt) -> Self {
        Value::BigInt(v)
    }
}
impl From<ObjectId> for Value {
    fn from(v: ObjectId) -> Self {
        Value::Object(v)
    }
}

/// Own enumerable string-keyed properties in order. Array-index keys ("0", "7") are written as
/// numbers on the wire and first, ascending, as JavaScript orders them (R-SC-31).
pub type Properties = Vec<(JsString, Value)>;

/// An object in the graph.
#[derive(Clone, Debug)]
pub enum Object {
    /// An ordinary object (R-SC-31, R-SC-34, R-SC-35).
    Object(Properties),
    /// An Array (R-SC-30).
    Array(Array),
    /// `new Boolean(b)` (R-SC-5).
    BooleanObject(bool),
    /// `new Number(n)`.
    NumberObject(f64),
    /// `Object(n)` for a BigInt `n`.
    BigIntObject(JsBigInt),
    /// `new String(s)`.
    StringObject(JsString),
    /// A Date: its time value in ms since the epoch, NaN for an invalid Date (R-SC-6).
    Date(f64),
    /// A RegExp (R-SC-7).
    RegExp(RegExp),
    /// An ArrayBuffer, plain or resizable (R-SC-8, R-SC-9).
    ArrayBuffer(ArrayBuffer),
    /// A typed array or DataView over an ArrayBuffer of this graph (R-SC-11..15).
    View(ArrayBufferView),
    /// A Map, entries in insertion order (R-SC-20).
    Map(Vec<(Value, Value)>),
    /// A Set, in insertion order (R-SC-21).
    Set(Vec<Value>),
    /// An Error (R-SC-23..27). Boxed: errors are rare, and every object is as large as the
    /// largest variant (64 bytes instead of 80 per object of a decoded graph).
    Error(Box<ErrorObject>),
    /// A MessagePort. It is transferable, not serializable: it must be in the transfer list
    /// (R-CH-15, R-SC-41).
    MessagePort(MessagePort),
}

impl Object {
    /// Calls `f` on every object reference this object holds: property, element, entry and
    /// cause values, and a view's buffer. Exhaustive over the kinds, so a new kind that holds
    /// references cannot be skipped silently.
    pub fn for_each_reference_mut(&mut self, mut f: impl FnMut(&mut ObjectId)) {
        let mut value = |v: &mut Value| {
            if let Value::Object(id) = v {
                f(id)
            }
        };
        match self {
            Object::Object(props) => props.iter_mut().for_each(|(_, v)| value(v)),
            Object::Array(a) => {
                match &mut a.elements {
                    Elements::Dense(items) => items.iter_mut().for_each(&mut value),
                    Elements::Sparse { entries, .. } => {
                        entries.iter_mut().for_each(|(_, v)| value(v))
                    }
                }
                a.properties.iter_mut().for_each(|(_, v)| value(v));
            }
            Object::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                value(k);
                value(v)
            }),
            Object::Set(items) => items.iter_mut().for_each(&mut value),
            Object::View(view) => f(&mut view.buffer),
            Object::Error(e) => {
                if let Some(c) = &mut e.cause {
                    value(c)
                }
            }
            Object::BooleanObject(_)
            | Object::NumberObject(_)
            | Object::BigIntObject(_)
            | Object::StringObject(_)
            | Object::Date(_)
            | Object::RegExp(_)
            | Object::ArrayBuffer(_)
            | Object::MessagePort(_) => {}
        }
    }

    /// An ordinary object from `(key, value)` pairs.
    #[allow(clippy::self_named_constructors)] // `Object::object` mirrors `Object::array`
    pub fn object<K: Into<JsString>, V: Into<Value>>(
        props: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Object::Object(
            props
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// A dense array (no holes) from its elements.
    pub fn array<V: Into<Value>>(elements: impl IntoIterator<Item = V>) -> Self {
        Object::Array(Array::dense(elements.into_iter().map(Into::into).collect()))
    }

    /// The JavaScript-ish kind name, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Object::Object(_) => "Object",
            Object::Array(_) => "Array",
            Object::BooleanObject(_) => "Boolean",
            Object::NumberObject(_) => "Number",
            Object::BigIntObject(_) => "BigInt",
            Object::StringObject(_) => "String",
            Object::Date(_) => "Date",
            Object::RegExp(_) => "RegExp",
            Object::ArrayBuffer(_) => "ArrayBuffer",
            Object::View(v) => v.kind.name(),
            Object::Map(_) => "Map",
            Object::Set(_) => "Set",
            Object::Error(_) => "Error",
            Object::MessagePort(_) => "MessagePort",
        }
    }
}

/// An Array: its index elements plus extra non-index properties (R-SC-30).
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// The index elements.
    pub elements: Elements,
    /// Extra own properties whose keys are *not* array indices (`a.foo = 1`), in order.
    pub properties: Properties,
}

/// How an Array's elements are held; this also picks the wire form (`A` dense, `a` sparse), as V8
/// picks it from the array's elements kind. A dense wire array with `-` holes reads as `Sparse`.
#[derive(Clone, Debug, PartialEq)]
pub enum Elements {
    /// Every index `0..len` is present; `length` is `len`.
    Dense(Vec<Value>),
    /// An array with holes: `length`, and the present elements by ascending index (each
    /// index < `length`).
    Sparse {
        /// The array's `length` (up to 2^32 − 1; never preallocated).
        length: u32,
        /// The present elements, ascending by index.
        entries: Vec<(u32, Value)>,
    },
}

impl Array {
    /// A dense array.
    pub fn dense(elements: Vec<Value>) -> Self {
        Array {
            elements: Elements::Dense(elements),
            properties: Vec::new(),
        }
    }

    /// An array of the given `length` with no elements at all (all holes).
    pub fn sparse(length: u32) -> Self {
        Array {
            elements: Elements::Sparse {
                length,
                entries: Vec::new(),
            },
            properties: Vec::new(),
        }
    }

    /// The array's `length`.
    pub fn length(&self) -> u64 {
        match &self.elements {
            Elements::Dense(v) => v.len() as u64,
            Elements::Sparse { length, .. } => u64::from(*length),
        }
    }

    /// The element at `index`, `None` for a hole or out of range.
    pub fn get(&self, index: u32) -> Option<&Value> {
        match &self.elements {
            Elements::Dense(v) => v.get(index as usize),
            Elements::Sparse { entries, .. } => entries
                .binary_search_by_key(&index, |(i, _)| *i)
                .ok()
                .map(|p| &entries[p].1),
        }
    }
}

/// A RegExp's source and flags (R-SC-7). The pattern is opaque: it is not compiled here.
#[derive(Clone, Debug, PartialEq)]
pub struct RegExp {
    /// The pattern text (`source`).
    pub source: JsString,
    /// The flags.
    pub flags: RegExpFlags,
}

/// RegExp flags as V8's bit set: g=1, i=2, m=4, y=8, u=16, s=32, d=128, v=256.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct RegExpFlags(pub u32);

impl RegExpFlags {
    /// The flag letters with their bits, in the order JavaScript's `flags` getter prints them.
    const LETTERS: [(char, u32); 8] = [
        ('d', 128),
        ('g', 1),
        ('i', 2),
        ('m', 4),
        ('s', 32),
        ('u', 16),
        ('v', 256),
        ('y', 8),
    ];
    /// Every bit the codec accepts (bit 6, V8's `l` linear flag, is refused).
    pub const VALID: u32 = 1 | 2 | 4 | 8 | 16 | 32 | 128 | 256;

    /// Parses flag letters (`"gi"`); `None` on an unknown or repeated letter, or `u` with `v`.
    pub fn parse(letters: &str) -> Option<Self> {
        let mut bits = 0;
        for c in letters.chars() {
            let (_, bit) = Self::LETTERS.iter().find(|(l, _)| *l == c)?;
            if bits & bit != 0 {
                return None;
            }
            bits |= bit;
        }
        let f = RegExpFlags(bits);
        f.is_valid().then_some(f)
    }

    /// True when only known bits are set and not both `u` and `v`.
    pub fn is_valid(self) -> bool {
        self.0 & !Self::VALID == 0 && self.0 & (16 | 256) != (16 | 256)
    }
}

impl fmt::Display for RegExpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (c, bit) in Self::LETTERS {
            if self.0 & bit != 0 {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// An ArrayBuffer's bytes (R-SC-8). A transferred buffer is moved out, leaving it detached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArrayBuffer {
    /// The contents; `byteLength` is `data.len()`.
    pub data: Vec<u8>,
    /// `Some(maxByteLength)` for a resizable buffer (R-SC-9), `None` for a fixed one.
    pub max_byte_length: Option<u32>,
    /// True once the buffer was transferred away: it can be neither cloned nor transferred
    /// again (R-SC-10, R-TR-8).
    pub detached: bool,
}

impl ArrayBuffer {
    /// A fixed-length buffer holding `data`.
    pub fn new(data: Vec<u8>) -> Self {
        ArrayBuffer {
            data,
            max_byte_length: None,
            detached: false,
        }
    }
}

/// The kind of an ArrayBufferView (R-SC-11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ViewKind {
    /// Int8Array.
    Int8,
    /// Uint8Array.
    Uint8,
    /// Uint8ClampedArray.
    Uint8Clamped,
    /// Int16Array.
    Int16,
    /// Uint16Array.
    Uint16,
    /// Int32Array.
    Int32,
    /// Uint32Array.
    Uint32,
    /// Float16Array.
    Float16,
    /// Float32Array.
    Float32,
    /// Float64Array.
    Float64,
    /// BigInt64Array.
    BigInt64,
    /// BigUint64Array.
    BigUint64,
    /// DataView.
    DataView,
}

impl ViewKind {
    /// Every kind.
    pub const ALL: [ViewKind; 13] = [
        ViewKind::Int8,
        ViewKind::Uint8,
        ViewKind::Uint8Clamped,
        ViewKind::Int16,
        ViewKind::Uint16,
        ViewKind::Int32,
        ViewKind::Uint32,
        ViewKind::Float16,
        ViewKind::Float32,
        ViewKind::Float64,
        ViewKind::BigInt64,
        ViewKind::BigUint64,
        ViewKind::DataView,
    ];

    /// Bytes per element (1 for DataView).
    pub fn element_size(self) -> usize {
        match self {
            ViewKind::Int8 | ViewKind::Uint8 | ViewKind::Uint8Clamped | ViewKind::DataView => 1,
            ViewKind::Int16 | ViewKind::Uint16 | ViewKind::Float16 => 2,
            ViewKind::Int32 | ViewKind::Uint32 | ViewKind::Float32 => 4,
            ViewKind::Float64 | ViewKind::BigInt64 | ViewKind::BigUint64 => 8,
        }
    }

    /// The constructor name (`"Uint8Array"`, `"DataView"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ViewKind::Int8 => "Int8Array",
            ViewKind::Uint8 => "Uint8Array",
            ViewKind::Uint8Clamped => "Uint8ClampedArray",
            ViewKind::Int16 => "Int16Array",
            ViewKind::Uint16 => "Uint16Array",
            ViewKind::Int32 => "Int32Array",
            ViewKind::Uint32 => "Uint32Array",
            ViewKind::Float16 => "Float16Array",
            ViewKind::Float32 => "Float32Array",
            ViewKind::Float64 => "Float64Array",
            ViewKind::BigInt64 => "BigInt64Array",
            ViewKind::BigUint64 => "BigUint64Array",
            ViewKind::DataView => "DataView",
        }
    }

    /// The kind with this constructor name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The V8 `V` sub-tag.
    pub(crate) fn wire_tag(self) -> u8 {
        match self {
            ViewKind::Int8 => b'b',
            ViewKind::Uint8 => b'B',
            ViewKind::Uint8Clamped => b'C',
            ViewKind::Int16 => b'w',
            ViewKind::Uint16 => b'W',
            ViewKind::Int32 => b'd',
            ViewKind::Uint32 => b'D',
            ViewKind::Float16 => b'h',
            ViewKind::Float32 => b'f',
            ViewKind::Float64 => b'F',
            ViewKind::BigInt64 => b'q',
            ViewKind::BigUint64 => b'Q',
            ViewKind::DataView => b'?',
        }
    }

    pub(crate) fn from_wire_tag(tag: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.wire_tag() == tag)
    }
}

/// A typed array or DataView: a window on an ArrayBuffer of the same graph, so several views
/// share one buffer after a clone (R-SC-12, R-SC-13).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArrayBufferView {
    /// Which view.
    pub kind: ViewKind,
    /// The viewed buffer: must be an [`Object::ArrayBuffer`] of the same graph.
    pub buffer: ObjectId,
    /// Offset into the buffer, in bytes.
    pub byte_offset: u32,
    /// Length in bytes (0 for a length-tracking view, whose length follows the buffer).
    pub byte_length: u32,
    /// A length-tracking view over a resizable buffer (R-SC-15).
    pub length_tracking: bool,
}

/// The seven Error names that survive a clone (R-SC-23).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ErrorName {
    /// `Error` (also what any other name becomes).
    #[default]
    Error,
    /// `EvalError`.
    EvalError,
    /// `RangeError`.
    RangeError,
    /// `ReferenceError`.
    ReferenceError,
    /// `SyntaxError`.
    SyntaxError,
    /// `TypeError`.
    TypeError,
    /// `URIError`.
    UriError,
}

impl ErrorName {
    /// The JavaScript name (`"TypeError"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorName::Error => "Error",
            ErrorName::EvalError => "EvalError",
            ErrorName::RangeError => "RangeError",
            ErrorName::ReferenceError => "ReferenceError",
            ErrorName::SyntaxError => "SyntaxError",
            ErrorName::TypeError => "TypeError",
            ErrorName::UriError => "URIError",
        }
    }

    /// The name for `String(err.name)`: one of the seven, anything else is `Error` (R-SC-23).
    pub fn from_name(name: &str) -> Self {
        match name {
            "EvalError" => ErrorName::EvalError,
            "RangeError" => ErrorName::RangeError,
            "ReferenceError" => ErrorName::ReferenceError,
            "SyntaxError" => ErrorName::SyntaxError,
            "TypeError" => ErrorName::TypeError,
            "URIError" => ErrorName::UriError,
            _ => ErrorName::Error,
        }
    }

    pub(crate) fn wire_tag(self) -> Option<u8> {
        match self {
            ErrorName::Error => None,
            ErrorName::EvalError => Some(b'E'),
            ErrorName::RangeError => Some(b'R'),
            ErrorName::ReferenceError => Some(b'F'),
            ErrorName::SyntaxError => Some(b'S'),
            ErrorName::TypeError => Some(b'T'),
            ErrorName::UriError => Some(b'U'),
        }
    }

    pub(crate) fn from_wire_tag(tag: u8) -> Option<Self> {
        Some(match tag {
            b'E' => ErrorName::EvalError,
            b'R' => ErrorName::RangeError,
            b'F' => ErrorName::ReferenceError,
            b'S' => ErrorName::SyntaxError,
            b'T' => ErrorName::TypeError,
            b'U' => ErrorName::UriError,
            _ => return None,
        })
    }
}

/// An Error object (R-SC-23..27). V8 also carries `cause`, which the standard drops (R-SC-26);
/// we keep it because Node does.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorObject {
    /// The prototype, chosen by name.
    pub name: ErrorName,
    /// `message`, if it was an own data property.
    pub message: Option<JsString>,
    /// `stack`, if it was a string.
    pub stack: Option<JsString>,
    /// `cause`, if it was an own data property (may refer back to this error).
    pub cause: Option<Value>,
}

/// A graph of values: an arena of objects plus the root value.
///
/// Build one with [`Graph::add`] and set [`root`](Graph::root); read one by following
/// [`Value::Object`] ids with [`Graph::get`].
///
/// ```
/// use webmessaging_core::clone::{Graph, Object, Value};
///
/// let mut g = Graph::new();
/// let tags = g.add(Object::array([1, 2, 3]));
/// let rec = g.add(Object::object([("id", Value::from(7)), ("name", "x".into()), ("tags", tags.into())]));
/// g.root = rec.into();
/// let bytes = webmessaging_core::clone::encode(&g)?;
/// assert_eq!(webmessaging_core::clone::decode(&bytes)?, g);
/// # Ok::<(), webmessaging_core::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// The value the graph stands for.
    pub root: Value,
    objects: Vec<Object>,
}

impl Graph {
    /// An empty graph whose root is `undefined`.
    pub fn new() -> Self {
        Self::default()
    }

    /// A graph of one primitive (or of an object added later).
    pub fn from_root(root: Value) -> Self {
        Graph {
            root,
            objects: Vec::new(),
        }
    }

    /// Adds an object and returns its id.
    ///
    /// # Panics
    /// If the arena already holds 2^32 objects.
    pub fn add(&mut self, object: Object) -> ObjectId {
        let id = ObjectId(
            u32::try_from(self.objects.len()).unwrap_or_else(|_| panic!("graph arena is full")),
        );
        self.objects.push(object);
        id
    }

    /// The object with this id.
    pub fn get(&self, id: ObjectId) -> Option<&Object> {
        self.objects.get(id.index())
    }

    /// The object with this id, mutably.
    pub fn get_mut(&mut self, id: ObjectId) -> Option<&mut Object> {
        self.objects.get_mut(id.index())
    }

    /// The number of objects in the arena.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// True when the arena holds no object.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Every object with its id, in arena order.
    pub fn iter(&self) -> impl Iterator<Item = (ObjectId, &Object)> {
        self.objects
            .iter()
            .enumerate()
            .map(|(i, o)| (ObjectId(i as u32), o))
    }

    /// Appends a copy of every object of `other` (ports are new handles to the same ports),
    /// renumbering their references, and returns the offset to add to an id of `other` to find
    /// its copy here (see [`Value::shifted`]). `other.root` is not touched. This is how a value
    /// of one graph is linked into a container of another.
    pub fn append(&mut self, other: &Graph) -> u32 {
        let offset = self.objects.len() as u32;
        self.objects.reserve(other.objects.len());
        for object in &other.objects {
            let mut object = object.clone();
            object.for_each_reference_mut(|id| id.0 += offset);
            self.add(object);
        }
        offset
    }

    pub(crate) fn objects_mut(&mut self) -> &mut Vec<Object> {
        &mut self.objects
    }
}
