//! Python values to and from the core's structured-clone value graph
//! (`webmessaging_core::clone`), which owns the wire format. This file only maps objects; it
//! never reads or writes bytes itself.
//!
//! The mapping table is in `docs/readme/python.md`; the marker types live in
//! `webmessaging/_types.py`. Shared references and cycles survive both ways: every Python object
//! that becomes a graph object is memoized by identity when encoding, and every graph object
//! becomes exactly one Python object when decoding (containers are created empty, memoized,
//! then filled).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PyMemoryView, PySet,
    PyString, PyTuple,
};
use webmessaging_core::clone::{
    self, Array, ArrayBuffer, ArrayBufferView, DecodeOptions, Elements, ErrorName, ErrorObject,
    Graph, JsBigInt, JsString, Limits, Object, ObjectId, RegExp, RegExpFlags, Transferable, Value,
    ViewKind,
};
use webmessaging_core::{Message, MessagePort as CorePort, Payload};

use crate::codec;
use crate::errors::{self, IntoPyResult};
use crate::port::{MessagePort, Transfer, TransferItem};

/// Deepest nesting we walk (both ways). The walk is recursive, so this protects the stack of
/// threads with small stacks; the core decoder enforces the same depth on bytes.
pub(crate) const MAX_DEPTH: usize = 1_000;
/// ArrayBuffers at least this large ride in a message's buffer table instead of its bytes.
pub(crate) const MOVE_THRESHOLD: usize = 64 * 1024;
/// Largest JavaScript integer a Number holds exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_992.0; // 2^53
/// Most objects a message may create by copying tuples and frozensets met more than once (each
/// reference to one is a copy, so a few bytes of nested shared tuples could otherwise expand
/// exponentially).
pub(crate) const MAX_COPIED_OBJECTS: usize = 1 << 20;
/// Holes a decoded message may materialise as `HOLE` list items: this many plus
/// [`HOLES_PER_INPUT_BYTE`] for each byte of the message (a sparse array costs a few bytes
/// whatever its length, a list costs 8 bytes per slot).
const FREE_HOLES: usize = 1 << 16;
/// See [`FREE_HOLES`].
const HOLES_PER_INPUT_BYTE: usize = 64;
/// JavaScript times of `datetime.min` and `datetime.max` (UTC): the Dates Python can read back.
const MIN_DATE_MS: f64 = -62_135_596_800_000.0;
const MAX_DATE_MS: f64 = 253_402_300_799_999.0;

/// The Python classes the mapping needs, imported once.
pub(crate) struct Types {
    pub(crate) undefined: Py<PyAny>,
    hole: Py<PyAny>,
    invalid_date: Py<PyAny>,
    js_bigint: Py<PyAny>,
    js_map: Py<PyAny>,
    js_array: Py<PyAny>,
    js_boxed: Py<PyAny>,
    js_regexp: Py<PyAny>,
    enum_type: Py<PyAny>,
    js_typed_array: Py<PyAny>,
    resizable: Py<PyAny>,
    datetime: Py<PyAny>,
    pattern: Py<PyAny>,
    array: Py<PyAny>,
    date_to_ms: Py<PyAny>,
    ms_to_date: Py<PyAny>,
    regexp_to_js: Py<PyAny>,
    regexp_from_js: Py<PyAny>,
    error_to_js: Py<PyAny>,
    error_from_js: Py<PyAny>,
    set_cause: Py<PyAny>,
}

pub(crate) fn types(py: Python<'_>) -> PyResult<&Types> {
    static TYPES: PyOnceLock<Types> = PyOnceLock::new();
    TYPES.get_or_try_init(py, || {
        let t = py.import("webmessaging._types")?;
        let get = |name: &str| -> PyResult<Py<PyAny>> { Ok(t.getattr(name)?.unbind()) };
        Ok::<_, PyErr>(Types {
            undefined: get("UNDEFINED")?,
            hole: get("HOLE")?,
            invalid_date: get("INVALID_DATE")?,
            js_bigint: get("JSBigInt")?,
            js_map: get("JSMap")?,
            js_array: get("JSArray")?,
            js_boxed: get("JSBoxed")?,
            js_regexp: get("JSRegExp")?,
            enum_type: py.import("enum")?.getattr("Enum")?.unbind(),
            js_typed_array: get("JSTypedArray")?,
            resizable: get("ResizableArrayBuffer")?,
            datetime: py.import("datetime")?.getattr("datetime")?.unbind(),
            pattern: py.import("re")?.getattr("Pattern")?.unbind(),
            array: py.import("array")?.getattr("array")?.unbind(),
            date_to_ms: get("_date_to_ms")?,
            ms_to_date: get("_ms_to_date")?,
            regexp_to_js: get("_regexp_to_js")?,
            regexp_from_js: get("_regexp_from_js")?,
            error_to_js: get("_error_to_js")?,
            error_from_js: get("_error_from_js")?,
            set_cause: get("_set_cause")?,
        })
    })
}

fn isinstance(obj: &Bound<'_, PyAny>, ty: &Py<PyAny>) -> PyResult<bool> {
    obj.is_instance(ty.bind(obj.py()))
}

// ---------------------------------------------------------------------------------------------
// Python -> graph

/// Hashes object addresses (the memo's keys) with one multiplication: they are unique and
/// not attacker-chosen, so SipHash's strength is not needed on this hot path.
#[derive(Default)]
pub(crate) struct PtrHasher(u64);

impl Hasher for PtrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_right(29);
    }
}

/// Python objects already in the graph, by address. Most messages hold a handful of objects:
/// a short array is searched linearly (no allocation, no hashing) until it grows.
#[derive(Default)]
struct Memo {
    few: Vec<(usize, ObjectId)>,
    many: HashMap<usize, ObjectId, BuildHasherDefault<PtrHasher>>,
}

impl Memo {
    const FEW: usize = 16;

    fn get(&self, key: usize) -> Option<ObjectId> {
        if self.many.is_empty() {
            self.few.iter().find(|(k, _)| *k == key).map(|(_, id)| *id)
        } else {
            self.many.get(&key).copied()
        }
    }

    fn insert(&mut self, key: usize, id: ObjectId) {
        if self.many.is_empty() && self.few.len() < Self::FEW {
            self.few.push((key, id));
        } else {
            if self.many.is_empty() {
                self.many.extend(self.few.drain(..));
            }
            self.many.insert(key, id);
        }
    }
}

struct Encoder<'a, 'py> {
    py: Python<'py>,
    /// The `default` hook: turns an object the mapping does not cover into one it does.
    default: Option<Bound<'py, PyAny>>,
    t: &'a Types,
    graph: Graph,
    memo: Memo,
    /// Keeps temporaries whose identity is memoized alive for the whole walk.
    keep: Vec<Bound<'py, PyAny>>,
    depth: usize,
    /// The reader's budgets, enforced here so that what we send can be read.
    limits: Limits,
    objects: usize,
    units: usize,
    buffer_bytes: usize,
    /// Tuples and frozensets already walked once: walking one again copies it.
    immutables: HashMap<usize, (), BuildHasherDefault<PtrHasher>>,
    /// How many copies of such containers the walk is inside, and the objects they made.
    copying: usize,
    copied: usize,
}

/// Iterates a dict's items like Python's own dict iterator: a change of size during the walk
/// (user code run by the walk, or another thread while a call released the GIL) is a
/// `RuntimeError`, never a panic or a read of freed entries.
pub(crate) struct DictItems<'a, 'py> {
    dict: &'a Bound<'py, PyDict>,
    pos: pyo3::ffi::Py_ssize_t,
    len: usize,
    remaining: usize,
}

impl<'a, 'py> DictItems<'a, 'py> {
    pub(crate) fn new(dict: &'a Bound<'py, PyDict>) -> Self {
        let len = dict.len();
        DictItems {
            dict,
            pos: 0,
            len,
            remaining: len,
        }
    }

    pub(crate) fn next_item(&mut self) -> PyResult<Option<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
        if self.dict.len() != self.len {
            return Err(PyRuntimeError::new_err(
                "dictionary changed size during serialization",
            ));
        }
        let mut key: *mut pyo3::ffi::PyObject = std::ptr::null_mut();
        let mut value: *mut pyo3::ffi::PyObject = std::ptr::null_mut();
        // SAFETY: the GIL is held (we have `py`), the dict is alive for 'a, and PyDict_Next
        // returns borrowed references that we turn into owned ones before any other call.
        let found = unsafe {
            pyo3::ffi::PyDict_Next(self.dict.as_ptr(), &mut self.pos, &mut key, &mut value)
        };
        if found == 0 || key.is_null() || value.is_null() {
            if self.remaining != 0 {
                return Err(PyRuntimeError::new_err(
                    "dictionary keys changed during serialization",
                ));
            }
            return Ok(None);
        }
        if self.remaining == 0 {
            return Err(PyRuntimeError::new_err(
                "dictionary keys changed during serialization",
            ));
        }
        self.remaining -= 1;
        let py = self.dict.py();
        // SAFETY: non-null borrowed references from PyDict_Next, owned at once.
        let (k, v) = unsafe {
            (
                Bound::from_borrowed_ptr(py, key),
                Bound::from_borrowed_ptr(py, value),
            )
        };
        Ok(Some((k, v)))
    }
}

fn js_string(obj: &Bound<'_, PyAny>) -> PyResult<JsString> {
    let s = obj.cast::<PyString>()?;
    match s.to_str() {
        Ok(text) => Ok(JsString::from(text)),
        // Lone surrogates: not UTF-8, but fine as UTF-16 code units.
        Err(_) => {
            let bytes = s.call_method1("encode", ("utf-16-le", "surrogatepass"))?;
            let bytes = bytes.cast::<PyBytes>()?.as_bytes();
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            Ok(JsString::from_utf16(units))
        }
    }
}

fn kind_for_format(format: &str, itemsize: usize) -> Option<ViewKind> {
    let code = format.trim_start_matches(['@', '=', '<']);
    let signed = match code {
        "b" | "h" | "i" | "l" | "q" | "n" => true,
        "B" | "H" | "I" | "L" | "Q" | "N" => false,
        "f" if itemsize == 4 => return Some(ViewKind::Float32),
        "d" if itemsize == 8 => return Some(ViewKind::Float64),
        "e" if itemsize == 2 => return Some(ViewKind::Float16),
        _ => return None,
    };
    Some(match (signed, itemsize) {
        (true, 1) => ViewKind::Int8,
        (true, 2) => ViewKind::Int16,
        (true, 4) => ViewKind::Int32,
        (true, 8) => ViewKind::BigInt64,
        (false, 1) => ViewKind::Uint8,
        (false, 2) => ViewKind::Uint16,
        (false, 4) => ViewKind::Uint32,
        (false, 8) => ViewKind::BigUint64,
        _ => return None,
    })
}

impl<'py> Encoder<'_, 'py> {
    fn clone_error(&self, obj: &Bound<'py, PyAny>, why: &str) -> PyErr {
        let name = obj
            .get_type()
            .qualname()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        errors::data_clone(
            self.py,
            format!("cannot clone an object of type {name}{why}"),
        )
    }

    fn int(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<Value> {
        if let Ok(n) = obj.extract::<i64>() {
            if n.unsigned_abs() <= 1 << 53 {
                return Ok(Value::Number(n as f64));
            }
            return Ok(Value::BigInt(JsBigInt::from(n)));
        }
        Ok(Value::BigInt(self.big_int(obj)?))
    }

    /// Adds an object to the graph, within the reader's object limit and the copy budget.
    fn add(&mut self, object: Object) -> PyResult<ObjectId> {
        self.objects += 1;
        if self.objects > self.limits.max_objects {
            return Err(errors::data_clone(
                self.py,
                format!(
                    "the value has more than {} objects, the most a reader accepts",
                    self.limits.max_objects
                ),
            ));
        }
        if self.copying > 0 {
            self.copied += 1;
            if self.copied > MAX_COPIED_OBJECTS {
                return Err(errors::data_clone(
                    self.py,
                    format!(
                        "tuples or frozensets referenced more than once expand to more than \
                         {MAX_COPIED_OBJECTS} copied objects (each reference is a copy)"
                    ),
                ));
            }
        }
        Ok(self.graph.add(object))
    }

    fn new_object(&mut self, obj: &Bound<'py, PyAny>, object: Object) -> PyResult<ObjectId> {
        let id = self.add(object)?;
        self.memo.insert(obj.as_ptr() as usize, id);
        Ok(id)
    }

    /// A string, charged to the reader's code-unit budget (keys included, as the reader counts).
    fn string(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<JsString> {
        let s = js_string(obj)?;
        self.units = self.units.saturating_add(s.len());
        if self.units > self.limits.max_string_units {
            return Err(errors::data_clone(
                self.py,
                format!(
                    "the value's strings hold more than {} code units, the most a reader accepts",
                    self.limits.max_string_units
                ),
            ));
        }
        Ok(s)
    }

    /// ArrayBuffer bytes, charged to the reader's byte budget.
    fn charge_bytes(&mut self, n: usize) -> PyResult<()> {
        self.buffer_bytes = self.buffer_bytes.saturating_add(n);
        if self.buffer_bytes > self.limits.max_bytes {
            return Err(errors::data_clone(
                self.py,
                format!(
                    "the value's buffers hold more than {} bytes, the most a reader accepts",
                    self.limits.max_bytes
                ),
            ));
        }
        Ok(())
    }

    fn big_int(&self, obj: &Bound<'py, PyAny>) -> PyResult<JsBigInt> {
        let n = big_int(obj)?;
        if n.magnitude_le().len().div_ceil(8) * 8 > self.limits.max_bigint_bytes {
            return Err(errors::data_clone(
                self.py,
                format!(
                    "an int of {} bits is larger than a reader accepts ({} bytes of BigInt digits)",
                    n.magnitude_le().len() * 8,
                    self.limits.max_bigint_bytes
                ),
            ));
        }
        Ok(n)
    }

    /// Walks a tuple or frozenset (`obj`): the second and later times the same one is met it
    /// is copied, and its objects count against [`MAX_COPIED_OBJECTS`].
    fn immutable<R>(
        &mut self,
        obj: &Bound<'py, PyAny>,
        f: impl FnOnce(&mut Self) -> PyResult<R>,
    ) -> PyResult<R> {
        let again = self.immutables.insert(obj.as_ptr() as usize, ()).is_some();
        if again {
            self.keep.push(obj.clone());
            self.copying += 1;
        }
        let result = f(self);
        if again {
            self.copying -= 1;
        }
        result
    }

    fn set(&mut self, id: ObjectId, object: Object) {
        if let Some(slot) = self.graph.get_mut(id) {
            *slot = object;
        }
    }

    fn value(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<Value> {
        // The common exact types first, cheapest checks first.
        if obj.is_none() {
            return Ok(Value::Null);
        }
        if obj.is_exact_instance_of::<PyBool>() {
            return Ok(Value::Bool(obj.is_truthy()?));
        }
        if obj.is_exact_instance_of::<PyInt>() {
            return self.int(obj);
        }
        if obj.is_exact_instance_of::<PyFloat>() {
            return Ok(Value::Number(obj.cast::<PyFloat>()?.value()));
        }
        if obj.is_exact_instance_of::<PyString>() {
            return Ok(Value::String(self.string(obj)?));
        }
        if let Some(id) = self.memo.get(obj.as_ptr() as usize) {
            return Ok(Value::Object(id));
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(errors::data_clone(
                self.py,
                format!("the value is nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        let result = self.object(obj);
        self.depth -= 1;
        result
    }

    fn object(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<Value> {
        let t = self.t;
        if let Ok(dict) = obj.cast::<PyDict>() {
            if !obj.is_exact_instance_of::<PyDict>() && isinstance(obj, &t.js_map)? {
                return self.map(obj, dict);
            }
            if dict.iter().all(|(k, _)| k.is_instance_of::<PyString>()) {
                let id = self.new_object(obj, Object::Object(Vec::new()))?;
                let mut props = Vec::with_capacity(dict.len());
                let mut items = DictItems::new(dict);
                while let Some((k, v)) = items.next_item()? {
                    props.push((self.string(&k)?, self.value(&v)?));
                }
                self.set(id, Object::Object(props));
                return Ok(Value::Object(id));
            }
            return self.map(obj, dict);
        }
        if let Ok(list) = obj.cast::<PyList>() {
            if !obj.is_exact_instance_of::<PyList>() && isinstance(obj, &t.js_array)? {
                return self.js_array(obj, list);
            }
            let id = self.new_object(obj, Object::Array(Array::dense(Vec::new())))?;
            let mut items = Vec::with_capacity(list.len());
            for item in list.iter() {
                items.push(self.value(&item)?);
            }
            self.set(id, Object::Array(Array::dense(items)));
            return Ok(Value::Object(id));
        }
        if let Ok(tuple) = obj.cast::<PyTuple>() {
            // Not memoized: equal tuples are often one shared constant in Python, and sharing
            // them would alias the mutable lists they become. A cycle through a tuple still
            // ends at the list or dict it passes through.
            return self.immutable(obj, |enc| {
                let id = enc.add(Object::Array(Array::dense(Vec::new())))?;
                let mut items = Vec::with_capacity(tuple.len());
                for item in tuple.iter() {
                    items.push(enc.value(&item)?);
                }
                enc.set(id, Object::Array(Array::dense(items)));
                Ok(Value::Object(id))
            });
        }
        self.rare(obj)
    }

    /// Everything but dict, list and tuple: kept out of the recursive path so that deep
    /// nesting of the common containers uses little stack per level.
    #[inline(never)]
    fn rare(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<Value> {
        let t = self.t;
        if obj.is(t.undefined.bind(self.py)) {
            return Ok(Value::Undefined);
        }
        // An Enum member (IntEnum and StrEnum ones too) would arrive as a bare int or str,
        // its meaning lost: only the hook may decide that.
        if isinstance(obj, &t.enum_type)? {
            return self.hook(
                obj,
                " (an Enum member is not sent as its bare value: pass \
                 default=lambda o: o.value to do that)",
            );
        }
        if obj.is_instance_of::<PyBool>() {
            return Ok(Value::Bool(obj.is_truthy()?));
        }
        if obj.is_instance_of::<PyInt>() {
            if isinstance(obj, &t.js_bigint)? {
                return Ok(Value::BigInt(self.big_int(obj)?));
            }
            return self.int(obj);
        }
        if let Ok(f) = obj.cast::<PyFloat>() {
            return Ok(Value::Number(f.value()));
        }
        if obj.is_instance_of::<PyString>() {
            return Ok(Value::String(self.string(obj)?));
        }
        if let Ok(bytes) = obj.cast::<PyBytes>() {
            self.charge_bytes(bytes.as_bytes().len())?;
            let mut buffer = ArrayBuffer::new(bytes.as_bytes().to_vec());
            if isinstance(obj, &t.resizable)? {
                let max: u32 = obj.getattr("max_byte_length")?.extract()?;
                buffer.max_byte_length = Some(max);
            }
            let id = self.new_object(obj, Object::ArrayBuffer(buffer))?;
            return Ok(Value::Object(id));
        }
        if let Ok(bytes) = obj.cast::<PyByteArray>() {
            self.charge_bytes(bytes.len())?;
            let id = self.new_object(obj, Object::ArrayBuffer(ArrayBuffer::new(bytes.to_vec())))?;
            return Ok(Value::Object(id));
        }
        if obj.is_instance_of::<PyMemoryView>() {
            let data: Vec<u8> = obj
                .call_method0("tobytes")?
                .cast::<PyBytes>()?
                .as_bytes()
                .to_vec();
            self.charge_bytes(data.len())?;
            let id = self.new_object(obj, Object::ArrayBuffer(ArrayBuffer::new(data)))?;
            return Ok(Value::Object(id));
        }
        if obj.is_instance_of::<PySet>() || obj.is_instance_of::<PyFrozenSet>() {
            // A frozenset is immutable like a tuple: copied, not shared (see above).
            let fill = |enc: &mut Self, id: ObjectId| -> PyResult<Value> {
                let mut items = Vec::new();
                for item in obj.try_iter()? {
                    items.push(enc.value(&item?)?);
                }
                enc.set(id, Object::Set(items));
                Ok(Value::Object(id))
            };
            if obj.is_instance_of::<PyFrozenSet>() {
                return self.immutable(obj, |enc| {
                    let id = enc.add(Object::Set(Vec::new()))?;
                    fill(enc, id)
                });
            }
            let id = self.new_object(obj, Object::Set(Vec::new()))?;
            return fill(self, id);
        }
        if isinstance(obj, &t.datetime)? {
            let ms: f64 = t.date_to_ms.call1(self.py, (obj,))?.extract(self.py)?;
            // A receiver turns a Date back into a UTC datetime: refuse what it could not (e.g.
            // datetime.min with a positive UTC offset is in year 0 in UTC).
            if !(MIN_DATE_MS..=MAX_DATE_MS).contains(&ms) {
                return Err(self.clone_error(
                    obj,
                    " outside datetime's range once converted to UTC (a receiver could not read it)",
                ));
            }
            return Ok(Value::Object(self.new_object(obj, Object::Date(ms))?));
        }
        if obj.is(t.invalid_date.bind(self.py)) {
            return Ok(Value::Object(self.add(Object::Date(f64::NAN))?));
        }
        if isinstance(obj, &t.pattern)? || isinstance(obj, &t.js_regexp)? {
            let (source, flags): (Bound<'py, PyAny>, String) = t
                .regexp_to_js
                .call1(self.py, (obj,))
                .map_err(|e| self.clone_error(obj, &format!(": {}", e.value(self.py))))?
                .extract(self.py)?;
            let flags = RegExpFlags::parse(&flags).ok_or_else(|| {
                errors::data_clone(self.py, format!("invalid RegExp flags {flags:?}"))
            })?;
            let regexp = RegExp {
                source: self.string(&source)?,
                flags,
            };
            return Ok(Value::Object(self.new_object(obj, Object::RegExp(regexp))?));
        }
        if obj.is_instance_of::<pyo3::exceptions::PyBaseException>() {
            return self.error(obj);
        }
        if isinstance(obj, &t.js_boxed)? {
            let inner = obj.getattr("value")?;
            let object = match self.value(&inner)? {
                Value::Bool(b) => Object::BooleanObject(b),
                Value::Number(n) => Object::NumberObject(n),
                Value::BigInt(n) => Object::BigIntObject(n),
                Value::String(s) => Object::StringObject(s),
                _ => {
                    return Err(
                        self.clone_error(&inner, " inside JSBoxed (bool, int, float or str only)")
                    )
                }
            };
            return Ok(Value::Object(self.new_object(obj, object)?));
        }
        if isinstance(obj, &t.js_typed_array)? {
            let name: String = obj.getattr("type")?.extract()?;
            let kind = ViewKind::from_name(&name).ok_or_else(|| {
                errors::data_clone(self.py, format!("unknown typed array type {name:?}"))
            })?;
            let data: Vec<u8> = obj.getattr("data")?.extract()?;
            return self.view(obj, kind, data);
        }
        if isinstance(obj, &t.array)? {
            let code: String = obj.getattr("typecode")?.extract()?;
            let itemsize: usize = obj.getattr("itemsize")?.extract()?;
            let kind = kind_for_format(&code, itemsize)
                .ok_or_else(|| self.clone_error(obj, &format!(" with typecode {code:?}")))?;
            let data: Vec<u8> = obj
                .call_method0("tobytes")?
                .cast::<PyBytes>()?
                .as_bytes()
                .to_vec();
            return self.view(obj, kind, data);
        }
        if let Ok(port) = obj.cast::<MessagePort>() {
            let id = self.new_object(obj, Object::MessagePort(port.get().port.clone()))?;
            return Ok(Value::Object(id));
        }
        // Any other buffer-protocol object (numpy arrays, ...): a typed array by its format.
        if let Ok(view) = PyMemoryView::from(obj) {
            let format: String = view.getattr("format")?.extract()?;
            let itemsize: usize = view.getattr("itemsize")?.extract()?;
            if let Some(kind) = kind_for_format(&format, itemsize) {
                self.keep.push(obj.clone());
                let data: Vec<u8> = view
                    .call_method0("tobytes")?
                    .cast::<PyBytes>()?
                    .as_bytes()
                    .to_vec();
                return self.view(obj, kind, data);
            }
            return Err(self.clone_error(
                obj,
                &format!(" (buffer format {format:?} has no typed array)"),
            ));
        }
        self.hook(obj, "")
    }

    /// Hands `obj` to the `default` hook and clones what it returns, or refuses `obj`.
    fn hook(&mut self, obj: &Bound<'py, PyAny>, why: &str) -> PyResult<Value> {
        let Some(default) = self.default.clone() else {
            return Err(self.clone_error(obj, why));
        };
        let replacement = default.call1((obj,))?;
        if replacement.is(obj) {
            return Err(self.clone_error(obj, " (the default hook returned it unchanged)"));
        }
        // Its address may be memoized: keep it alive for the whole walk.
        self.keep.push(replacement.clone());
        self.value(&replacement)
    }

    fn view(&mut self, obj: &Bound<'py, PyAny>, kind: ViewKind, data: Vec<u8>) -> PyResult<Value> {
        let len = u32::try_from(data.len())
            .map_err(|_| errors::data_clone(self.py, "typed arrays are limited to 4 GiB"))?;
        self.charge_bytes(data.len())?;
        let buffer = self.add(Object::ArrayBuffer(ArrayBuffer::new(data)))?;
        let view = ArrayBufferView {
            kind,
            buffer,
            byte_offset: 0,
            byte_length: len,
            length_tracking: false,
        };
        Ok(Value::Object(self.new_object(obj, Object::View(view))?))
    }

    fn map(&mut self, obj: &Bound<'py, PyAny>, dict: &Bound<'py, PyDict>) -> PyResult<Value> {
        let id = self.new_object(obj, Object::Map(Vec::new()))?;
        let mut entries = Vec::with_capacity(dict.len());
        let mut items = DictItems::new(dict);
        while let Some((k, v)) = items.next_item()? {
            entries.push((self.value(&k)?, self.value(&v)?));
        }
        self.set(id, Object::Map(entries));
        Ok(Value::Object(id))
    }

    fn js_array(&mut self, obj: &Bound<'py, PyAny>, list: &Bound<'py, PyList>) -> PyResult<Value> {
        let id = self.new_object(obj, Object::Array(Array::dense(Vec::new())))?;
        let hole = self.t.hole.bind(self.py).clone();
        let len =
            u32::try_from(list.len()).map_err(|_| errors::data_clone(self.py, "array too long"))?;
        let mut dense = Vec::with_capacity(list.len());
        let mut entries = Vec::new();
        let mut holes = false;
        for (i, item) in list.iter().enumerate() {
            if item.is(&hole) {
                holes = true;
                continue;
            }
            let v = self.value(&item)?;
            entries.push((i as u32, v.clone()));
            dense.push(v);
        }
        let props_obj = obj.getattr("properties")?;
        let props_dict = props_obj.cast::<PyDict>()?;
        let mut properties = Vec::new();
        let mut items = DictItems::new(props_dict);
        while let Some((k, v)) = items.next_item()? {
            properties.push((self.string(&k)?, self.value(&v)?));
        }
        let elements = if holes {
            Elements::Sparse {
                length: len,
                entries,
            }
        } else {
            Elements::Dense(dense)
        };
        self.set(
            id,
            Object::Array(Array {
                elements,
                properties,
            }),
        );
        Ok(Value::Object(id))
    }

    fn error(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<Value> {
        let py = self.py;
        let id = self.new_object(obj, Object::Error(ErrorObject::default()))?;
        let parts = self.t.error_to_js.call1(py, (obj,))?;
        let (name, message, stack, has_cause, cause): (
            String,
            Bound<'py, PyAny>,
            Bound<'py, PyAny>,
            bool,
            Bound<'py, PyAny>,
        ) = parts.extract(py)?;
        let mut text = |v: &Bound<'py, PyAny>| -> PyResult<Option<JsString>> {
            if v.is_none() {
                Ok(None)
            } else {
                Ok(Some(self.string(v)?))
            }
        };
        let message = text(&message)?;
        let stack = text(&stack)?;
        let mut error = ErrorObject {
            name: ErrorName::from_name(&name),
            message,
            stack,
            cause: None,
        };
        if has_cause {
            self.keep.push(cause.clone());
            error.cause = Some(self.value(&cause)?);
        }
        self.set(id, Object::Error(error));
        Ok(Value::Object(id))
    }
}

/// An `int` (or `__index__` object) as a BigInt, through `int.to_bytes`: linear in its size and
/// free of `sys.int_max_str_digits` (the decimal path is neither).
fn big_int(obj: &Bound<'_, PyAny>) -> PyResult<JsBigInt> {
    if let Ok(n) = obj.extract::<i128>() {
        return Ok(JsBigInt::from(n));
    }
    let n = obj.call_method0("__index__")?;
    let negative = n.lt(0)?;
    let magnitude = if negative { n.neg()? } else { n };
    let bits: usize = magnitude.call_method0("bit_length")?.extract()?;
    let bytes = magnitude.call_method1("to_bytes", (bits.div_ceil(8), "little"))?;
    let bytes = bytes.cast::<PyBytes>()?;
    Ok(JsBigInt::from_sign_magnitude(negative, bytes.as_bytes()))
}

/// Builds the value graph of `value`.
pub(crate) fn to_graph<'py>(
    py: Python<'py>,
    value: &Bound<'py, PyAny>,
    default: Option<&Bound<'py, PyAny>>,
) -> PyResult<Graph> {
    Ok(graph_with_transfer(py, value, &Transfer::default(), false, default)?.0)
}

/// Builds the value graph of `value` and the transfer list for it, in the caller's order:
/// ports, and the ArrayBuffers of transferred `bytearray`s (added to the graph when the value
/// does not mention them, R-TR-10). With `move_large`, large buffers are appended to the list
/// so they travel beside the wire bytes, moved rather than copied into and out of them (the
/// graph holds private copies of the Python bytes, so for the sender this is still a clone).
pub(crate) fn graph_with_transfer<'py>(
    py: Python<'py>,
    value: &Bound<'py, PyAny>,
    transfer: &Transfer<'_>,
    move_large: bool,
    default: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Graph, Vec<Transferable>)> {
    let t = types(py)?;
    let mut enc = Encoder {
        py,
        default: resolve_default(py, default),
        t,
        graph: Graph::new(),
        memo: Memo::default(),
        keep: Vec::new(),
        depth: 0,
        limits: Limits::default(),
        objects: 0,
        units: 0,
        buffer_bytes: 0,
        immutables: HashMap::default(),
        copying: 0,
        copied: 0,
    };
    let root = enc.value(value)?;
    let mut list = Vec::with_capacity(transfer.items.len());
    for item in &transfer.items {
        match item {
            TransferItem::Port(p, _) => list.push(Transferable::Port(p.clone())),
            TransferItem::Buffer(b) => {
                let id = match enc.memo.get(b.as_ptr() as usize) {
                    Some(id) => id,
                    None => enc.new_object(
                        b.as_any(),
                        Object::ArrayBuffer(ArrayBuffer::new(b.to_vec())),
                    )?,
                };
                list.push(Transferable::ArrayBuffer(id));
            }
        }
    }
    let mut graph = enc.graph;
    graph.root = root;
    if move_large {
        let listed: Vec<ObjectId> = list
            .iter()
            .filter_map(|t| match t {
                Transferable::ArrayBuffer(id) => Some(*id),
                Transferable::Port(_) => None,
            })
            .collect();
        list.extend(graph.iter().filter_map(|(id, object)| match object {
            Object::ArrayBuffer(b)
                if b.max_byte_length.is_none()
                    && b.data.len() >= MOVE_THRESHOLD
                    && !listed.contains(&id) =>
            {
                Some(Transferable::ArrayBuffer(id))
            }
            _ => None,
        }));
    }
    Ok((graph, list))
}

/// The process-wide `default` hook (`set_default`), used when a call passes none.
static PROCESS_DEFAULT: parking_lot::Mutex<Option<Py<PyAny>>> = parking_lot::Mutex::new(None);

fn resolve_default<'py>(
    py: Python<'py>,
    default: Option<&Bound<'py, PyAny>>,
) -> Option<Bound<'py, PyAny>> {
    match default {
        Some(d) if !d.is_none() => Some(d.clone()),
        _ => PROCESS_DEFAULT.lock().as_ref().map(|d| d.bind(py).clone()),
    }
}

/// Sets the process-wide conversion hook: `default(obj)` is called with each object the value
/// mapping does not cover (and each Enum member) and returns a value to send in its place, or
/// raises (as `json.dumps(default=...)`). A `default=` given to a call takes precedence.
/// `None` removes it. Returns the previous hook.
#[pyfunction]
#[pyo3(signature = (default, /))]
pub(crate) fn set_default(default: Option<Bound<'_, PyAny>>) -> PyResult<Option<Py<PyAny>>> {
    let new = match default {
        Some(d) if !d.is_none() => {
            if !d.is_callable() {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "default must be callable or None",
                ));
            }
            Some(d.unbind())
        }
        _ => None,
    };
    Ok(std::mem::replace(&mut *PROCESS_DEFAULT.lock(), new))
}

/// Detaches the transferred `bytearray`s (empties them), after a successful serialization.
pub(crate) fn detach_buffers(py: Python<'_>, transfer: &Transfer<'_>) -> PyResult<()> {
    for item in &transfer.items {
        if let TransferItem::Buffer(b) = item {
            b.call_method0("clear").map_err(|e| {
                errors::data_clone(
                    py,
                    format!(
                        "a transferred bytearray cannot be detached: {}",
                        e.value(py)
                    ),
                )
            })?;
        }
    }
    Ok(())
}

/// Serializes `value` for a message that transfers `transfer` (StructuredSerializeWithTransfer),
/// then detaches the transferred buffers. Returns the payload and the ports to hand to
/// `post_message` (which detaches them).
pub(crate) fn encode<'py>(
    py: Python<'py>,
    value: &Bound<'py, PyAny>,
    transfer: &Transfer<'_>,
    default: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Payload, Vec<CorePort>)> {
    if transfer.items.is_empty() {
        if let Ok(payload) = codec::encode::write(value, true)? {
            return Ok((payload, Vec::new()));
        }
    }
    let (mut graph, list) = graph_with_transfer(py, value, transfer, true, default)?;
    let serialized = clone::serialize_with_transfer(&mut graph, &list).py_err(py)?;
    detach_buffers(py, transfer)?;
    Ok((serialized.payload, serialized.ports))
}

/// The wire bytes of `value` with no transfer list (`serialize`, `BroadcastChannel`): the
/// direct codec when it covers the value, the graph otherwise.
pub(crate) fn serialize<'py>(
    py: Python<'py>,
    value: &Bound<'py, PyAny>,
    default: Option<&Bound<'py, PyAny>>,
) -> PyResult<Vec<u8>> {
    if let Ok(payload) = codec::encode::write(value, false)? {
        return Ok(payload.data);
    }
    let graph = to_graph(py, value, default)?;
    clone::encode(&graph).map_err(|e| errors::to_py(py, e))
}

/// Reads `data` (no transfer table); `node`: Node's `v8.serialize()` dialect.
pub(crate) fn deserialize<'py>(
    py: Python<'py>,
    data: &[u8],
    node: bool,
) -> PyResult<Bound<'py, PyAny>> {
    if !node {
        if let Ok(value) = codec::decode::read(py, data, &[])? {
            return Ok(value);
        }
    }
    let graph = clone::decode_with(data, &decode_options(node))
        .map_err(|e| errors::to_py(py, webmessaging_core::Error::from(e)))?;
    from_graph(py, &graph, &[], hole_budget(data.len()))
}

// ---------------------------------------------------------------------------------------------
// graph -> Python

struct Decoder<'a, 'py> {
    py: Python<'py>,
    t: &'a Types,
    graph: &'a Graph,
    memo: Vec<Option<Bound<'py, PyAny>>>,
    ports: &'a [(CorePort, Bound<'py, PyAny>)],
    depth: usize,
    /// `HOLE` items the rest of the walk may still create (see [`hole_budget`]).
    holes: usize,
}

/// How many `HOLE` items a message of `input_len` bytes may expand to: [`FREE_HOLES`] plus
/// [`HOLES_PER_INPUT_BYTE`] per byte, so a few bytes cannot become a list of millions.
pub(crate) fn hole_budget(input_len: usize) -> usize {
    FREE_HOLES.saturating_add(input_len.saturating_mul(HOLES_PER_INPUT_BYTE))
}

fn py_string<'py>(py: Python<'py>, s: &JsString) -> PyResult<Bound<'py, PyAny>> {
    if let Some(b) = s.as_latin1() {
        if b.is_ascii() {
            let text = std::str::from_utf8(b).map_err(|e| PyValueError::new_err(e.to_string()))?;
            return Ok(PyString::new(py, text).into_any());
        }
    }
    match s.to_rust_string() {
        Some(text) => Ok(PyString::new(py, &text).into_any()),
        None => {
            let units = s.to_utf16();
            let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
            PyBytes::new(py, &bytes).call_method1("decode", ("utf-16-le", "surrogatepass"))
        }
    }
}

/// Object keys repeat from message to message: short ASCII keys are kept as interned Python
/// strings (at most [`KEY_CACHE_SIZE`]), which saves an allocation and a hash per key.
const KEY_CACHE_SIZE: usize = 4096;

type KeyCache = parking_lot::Mutex<HashMap<Box<[u8]>, Py<PyString>, BuildHasherDefault<PtrHasher>>>;

fn py_key<'py>(py: Python<'py>, s: &JsString) -> PyResult<Bound<'py, PyAny>> {
    match s.as_latin1() {
        Some(b) if b.is_ascii() => ascii_key(py, b),
        _ => py_string(py, s),
    }
}

/// An object key made of ASCII `b`: from the cache of interned keys when short.
pub(crate) fn ascii_key<'py>(py: Python<'py>, b: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    static KEYS: PyOnceLock<KeyCache> = PyOnceLock::new();
    {
        if b.len() <= 32 {
            let cache = KEYS.get_or_init(py, Default::default);
            if let Some(k) = cache.lock().get(b) {
                return Ok(k.bind(py).clone().into_any());
            }
            let text = std::str::from_utf8(b).map_err(|e| PyValueError::new_err(e.to_string()))?;
            let key = PyString::intern(py, text);
            let evicted = {
                let mut map = cache.lock();
                let evicted = if map.len() >= KEY_CACHE_SIZE {
                    std::mem::take(&mut *map)
                } else {
                    HashMap::default()
                };
                map.insert(b.into(), key.clone().unbind());
                evicted
            };
            drop(evicted);
            return Ok(key.into_any());
        }
    }
    let text = std::str::from_utf8(b).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(PyString::new(py, text).into_any())
}

/// A BigInt: a `JSBigInt` when a Number could hold it (so it stays a BigInt on the way back),
/// else a plain `int`.
pub(crate) fn bigint_value<'py>(
    py: Python<'py>,
    t: &Types,
    n: &JsBigInt,
) -> PyResult<Bound<'py, PyAny>> {
    let int = py_bigint(py, n)?;
    if n.to_i64().is_some_and(|i| i.unsigned_abs() <= 1 << 53) {
        t.js_bigint.bind(py).call1((int,))
    } else {
        Ok(int)
    }
}

fn py_bigint<'py>(py: Python<'py>, n: &JsBigInt) -> PyResult<Bound<'py, PyAny>> {
    if let Some(v) = n.to_i128() {
        return Ok(v.into_pyobject(py)?.into_any());
    }
    // Through `int.from_bytes`: linear, and free of `sys.int_max_str_digits`.
    let magnitude = py
        .get_type::<PyInt>()
        .call_method1("from_bytes", (PyBytes::new(py, n.magnitude_le()), "little"))?;
    if n.is_negative() {
        magnitude.neg()
    } else {
        Ok(magnitude)
    }
}

fn typecode(kind: ViewKind) -> Option<&'static str> {
    Some(match kind {
        ViewKind::Int8 => "b",
        ViewKind::Uint8 => "B",
        ViewKind::Int16 => "h",
        ViewKind::Uint16 => "H",
        ViewKind::Int32 => "i",
        ViewKind::Uint32 => "I",
        ViewKind::BigInt64 => "q",
        ViewKind::BigUint64 => "Q",
        ViewKind::Float32 => "f",
        ViewKind::Float64 => "d",
        ViewKind::Uint8Clamped | ViewKind::Float16 | ViewKind::DataView => return None,
    })
}

impl<'py> Decoder<'_, 'py> {
    /// Runs `f` one nesting level deeper, refusing to go past `MAX_DEPTH`: the walk recurses,
    /// so the bound keeps it within the thread's stack.
    fn nested<R>(&mut self, f: impl FnOnce(&mut Self) -> PyResult<R>) -> PyResult<R> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!(
                "the value is nested deeper than {MAX_DEPTH} levels"
            )));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    fn error(&self, message: impl Into<String>) -> PyErr {
        match errors::decode_error_type(self.py) {
            Ok(ty) => match ty.call1((message.into(),)) {
                Ok(v) => PyErr::from_value(v),
                Err(e) => e,
            },
            Err(e) => e,
        }
    }

    fn value(&mut self, v: &Value) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        Ok(match v {
            Value::Undefined => self.t.undefined.bind(py).clone(),
            Value::Null => py.None().into_bound(py),
            Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
            Value::Number(n) => number(py, *n)?,
            Value::BigInt(n) => bigint_value(py, self.t, n)?,
            Value::String(s) => py_string(py, s)?,
            Value::Object(id) => {
                if let Some(Some(done)) = self.memo.get(id.index()) {
                    return Ok(done.clone());
                }
                self.nested(|d| d.object(*id))?
            }
        })
    }

    /// A Map key or Set member: Python needs it hashable, so plain arrays become tuples and
    /// Sets become frozensets (they convert back to Array and Set).
    fn key(&mut self, v: &Value) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let Value::Object(id) = v else {
            return self.value(v);
        };
        if let Some(Some(done)) = self.memo.get(id.index()) {
            return Ok(done.clone());
        }
        match self.graph.get(*id) {
            Some(Object::Array(array)) if plain_elements(array).is_some() => {
                let items = plain_elements(array).unwrap_or_default();
                let items =
                    self.nested(|d| items.iter().map(|i| d.key(i)).collect::<PyResult<Vec<_>>>())?;
                Ok(PyTuple::new(py, items)?.into_any())
            }
            Some(Object::Set(items)) => {
                let items =
                    self.nested(|d| items.iter().map(|i| d.key(i)).collect::<PyResult<Vec<_>>>())?;
                Ok(PyFrozenSet::new(py, items.iter())?.into_any())
            }
            _ => self.value(v),
        }
    }

    fn remember(&mut self, id: ObjectId, obj: &Bound<'py, PyAny>) {
        if let Some(slot) = self.memo.get_mut(id.index()) {
            *slot = Some(obj.clone());
        }
    }

    fn object(&mut self, id: ObjectId) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let graph = self.graph;
        match graph.get(id) {
            Some(Object::Object(props)) => {
                let dict = PyDict::new(py);
                self.remember(id, dict.as_any());
                for (k, v) in props {
                    let key = py_key(py, k)?;
                    let value = self.value(v)?;
                    dict.set_item(key, value)?;
                }
                Ok(dict.into_any())
            }
            Some(Object::Array(array)) => self.array(id, array),
            _ => self.rare(id),
        }
    }

    #[inline(never)]
    fn rare(&mut self, id: ObjectId) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let t = self.t;
        let graph = self.graph;
        let object = graph
            .get(id)
            .ok_or_else(|| self.error(format!("no object {}", id.0)))?;
        let out: Bound<'py, PyAny> = match object {
            Object::Object(props) => {
                let dict = PyDict::new(py);
                self.remember(id, dict.as_any());
                for (k, v) in props {
                    let key = py_string(py, k)?;
                    let value = self.value(v)?;
                    dict.set_item(key, value)?;
                }
                return Ok(dict.into_any());
            }
            Object::Array(array) => return self.array(id, array),
            Object::BooleanObject(b) => t.js_boxed.bind(py).call1((*b,))?,
            Object::NumberObject(n) => t.js_boxed.bind(py).call1((PyFloat::new(py, *n),))?,
            Object::BigIntObject(n) => {
                let inner = self.value(&Value::BigInt(n.clone()))?;
                t.js_boxed.bind(py).call1((inner,))?
            }
            Object::StringObject(s) => t.js_boxed.bind(py).call1((py_string(py, s)?,))?,
            Object::Date(ms) => t
                .ms_to_date
                .bind(py)
                .call1((*ms,))
                .map_err(|e| self.error(e.to_string()))?,
            Object::RegExp(r) => t
                .regexp_from_js
                .bind(py)
                .call1((py_string(py, &r.source)?, r.flags.to_string()))?,
            Object::ArrayBuffer(b) => {
                let bytes = PyBytes::new(py, &b.data);
                match b.max_byte_length {
                    Some(max) => t.resizable.bind(py).call1((bytes, max))?,
                    None => bytes.into_any(),
                }
            }
            Object::View(view) => {
                let data = match graph.get(view.buffer) {
                    Some(Object::ArrayBuffer(b)) => &b.data,
                    _ => return Err(self.error("a typed array's buffer is not an ArrayBuffer")),
                };
                let start = view.byte_offset as usize;
                let end = if view.length_tracking {
                    data.len()
                } else {
                    start + view.byte_length as usize
                };
                let bytes = data
                    .get(start..end)
                    .ok_or_else(|| self.error("a typed array is out of bounds"))?;
                match typecode(view.kind) {
                    Some(code) => t.array.bind(py).call1((code, PyBytes::new(py, bytes)))?,
                    None => t
                        .js_typed_array
                        .bind(py)
                        .call1((view.kind.name(), PyBytes::new(py, bytes)))?,
                }
            }
            Object::Map(entries) => {
                let all_str = entries.iter().all(|(k, _)| matches!(k, Value::String(_)));
                let map = if all_str {
                    t.js_map.bind(py).call0()?
                } else {
                    PyDict::new(py).into_any()
                };
                self.remember(id, &map);
                let dict = map.cast::<PyDict>()?;
                for (k, v) in entries {
                    let key = self.key(k)?;
                    if key.hash().is_err() {
                        return Err(self.error(format!(
                            "a Map key of type {} cannot be a dict key",
                            key.get_type().qualname()?
                        )));
                    }
                    let value = self.value(v)?;
                    dict.set_item(key, value)?;
                }
                return Ok(map);
            }
            Object::Set(items) => {
                let set = PySet::empty(py)?;
                self.remember(id, set.as_any());
                for item in items {
                    let v = self.key(item)?;
                    set.add(&v).map_err(|_| {
                        self.error(format!(
                            "a Set member of type {} cannot be in a Python set",
                            v.get_type()
                                .qualname()
                                .map(|q| q.to_string())
                                .unwrap_or_default()
                        ))
                    })?;
                }
                return Ok(set.into_any());
            }
            Object::Error(e) => {
                let message = e.message.as_ref().map(|m| py_string(py, m)).transpose()?;
                let stack = e.stack.as_ref().map(|s| py_string(py, s)).transpose()?;
                let err = t
                    .error_from_js
                    .bind(py)
                    .call1((e.name.as_str(), message, stack))?;
                self.remember(id, &err);
                if let Some(cause) = &e.cause {
                    let cause = self.value(cause)?;
                    t.set_cause.bind(py).call1((&err, cause))?;
                }
                return Ok(err);
            }
            Object::MessagePort(port) => match self.ports.iter().find(|(p, _)| p == port) {
                Some((_, obj)) => obj.clone(),
                None => {
                    return Err(
                        self.error("a MessagePort that was not transferred with the message")
                    )
                }
            },
        };
        self.remember(id, &out);
        Ok(out)
    }

    fn array(&mut self, id: ObjectId, array: &Array) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        if let Some(items) = plain_elements(array) {
            let list = PyList::empty(py);
            self.remember(id, list.as_any());
            for item in items {
                list.append(self.value(item)?)?;
            }
            return Ok(list.into_any());
        }
        let out = self.t.js_array.bind(py).call0()?;
        self.remember(id, &out);
        let list = out.cast::<PyList>()?;
        match &array.elements {
            Elements::Dense(items) => {
                for item in items {
                    list.append(self.value(item)?)?;
                }
            }
            Elements::Sparse { length, entries } => {
                let holes = (*length as usize).saturating_sub(entries.len());
                if holes > self.holes {
                    return Err(self.error(format!(
                        "a sparse array of length {length} with {} elements is too sparse for a \
                         list (a message may expand to {FREE_HOLES} + {HOLES_PER_INPUT_BYTE} \
                         holes per byte of input)",
                        entries.len()
                    )));
                }
                self.holes -= holes;
                let hole = self.t.hole.bind(py);
                let mut next = 0u32;
                for (i, v) in entries {
                    while next < *i {
                        list.append(hole)?;
                        next += 1;
                    }
                    list.append(self.value(v)?)?;
                    next = i + 1;
                }
                while next < *length {
                    list.append(hole)?;
                    next += 1;
                }
            }
        }
        let props = out.getattr("properties")?;
        let props = props.cast::<PyDict>()?;
        for (k, v) in &array.properties {
            props.set_item(py_string(py, k)?, self.value(v)?)?;
        }
        Ok(out)
    }
}

/// The elements of an array with no holes and no extra properties (V8 writes arrays it
/// deserialized in the sparse form even when they have no holes): such an array is a `list`.
fn plain_elements(array: &Array) -> Option<Vec<&Value>> {
    if !array.properties.is_empty() {
        return None;
    }
    match &array.elements {
        Elements::Dense(items) => Some(items.iter().collect()),
        Elements::Sparse { length, entries } => {
            let complete = entries.len() as u64 == u64::from(*length)
                && entries
                    .iter()
                    .enumerate()
                    .all(|(i, (index, _))| *index as usize == i);
            complete.then(|| entries.iter().map(|(_, v)| v).collect())
        }
    }
}

/// A Number: integral values within ±2^53 come back as `int` (except -0), others as `float`.
pub(crate) fn number(py: Python<'_>, n: f64) -> PyResult<Bound<'_, PyAny>> {
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE && !(n == 0.0 && n.is_sign_negative()) {
        return Ok((n as i64).into_pyobject(py)?.into_any());
    }
    Ok(PyFloat::new(py, n).into_any())
}

/// Builds the Python value of `graph`; `ports` pairs each transferred core port with its Python
/// object.
pub(crate) fn from_graph<'py>(
    py: Python<'py>,
    graph: &Graph,
    ports: &[(CorePort, Bound<'py, PyAny>)],
    holes: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let t = types(py)?;
    let mut dec = Decoder {
        py,
        t,
        graph,
        memo: vec![None; graph.len()],
        ports,
        depth: 0,
        holes,
    };
    dec.value(&graph.root)
}

/// Reader options for messages and `deserialize`.
pub(crate) fn decode_options(node: bool) -> DecodeOptions {
    let mut options = if node {
        DecodeOptions::node_serialize()
    } else {
        DecodeOptions::default()
    };
    options.limits.max_depth = MAX_DEPTH;
    options
}

/// Deserializes a received message: the value (whose ports are the event's port objects) and
/// the tuple of transferred ports.
pub(crate) fn decode_message<'py>(
    py: Python<'py>,
    message: Message,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
    if message.ports.is_empty() {
        if let Ok(value) = codec::decode::read(py, &message.data, &message.array_buffers)? {
            return Ok((value, PyTuple::empty(py)));
        }
    }
    let input_len = message.data.len() + message.array_buffers.iter().map(Vec::len).sum::<usize>();
    let received = clone::deserialize_message(message, &decode_options(false));
    let received = match received {
        Ok(r) => r,
        Err(e) => return Err(errors::to_py(py, e)),
    };
    let mut pairs = Vec::with_capacity(received.ports.len());
    for port in received.ports {
        let obj = Bound::new(py, MessagePort::wrap(port.clone()))?.into_any();
        pairs.push((port, obj));
    }
    let value = from_graph(py, &received.graph, &pairs, hole_budget(input_len))?;
    let ports = PyTuple::new(py, pairs.iter().map(|(_, o)| o))?;
    Ok((value, ports))
}
