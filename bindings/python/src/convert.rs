//! The Python value path's entry points (messages, `serialize`, `deserialize`, the `default`
//! hook) and what its two halves share: the direct codec (`crate::codec::encode` /
//! `decode`, Python objects to and from wire bytes) first, the full mapping through the core's
//! value graph (`crate::codec::to_graph` / `from_graph`) for whatever the direct codec leaves.
//!
//! The mapping table is in the README's Python section; the marker types live in
//! `webmessaging/_types.py`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyFloat, PyInt, PyString, PyTuple};
use webmessaging_core::clone::{self, DecodeOptions, JsBigInt, JsString};
use webmessaging_core::{Message, MessagePort as CorePort, Payload};
use webmessaging_python_macros::catch_panics;

use crate::codec;
pub(crate) use crate::codec::from_graph::from_graph;
pub(crate) use crate::codec::to_graph::{graph_with_transfer, to_graph};
use crate::errors::{self, IntoPyResult};
use crate::port::MessagePort;
use crate::transfer::{Transfer, TransferItem};

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
/// whatever its length, a list costs 8 bytes per slot). The core reader's sparse budget
/// (`Limits::sparse_length_base`, 2^20) is the free part.
pub(crate) const FREE_HOLES: usize = 1 << 20;
/// See [`FREE_HOLES`]: the core reader's 16 sparse slots per byte, plus one for a hole of a
/// dense array (a one-byte tag each).
pub(crate) const HOLES_PER_INPUT_BYTE: usize = 17;
/// JavaScript time of `datetime.min` (UTC): the earliest Date Python can read back.
pub(crate) const MIN_DATE_MS: f64 = -62_135_596_800_000.0;
/// JavaScript time of `datetime.max` (UTC): the latest Date Python can read back.
pub(crate) const MAX_DATE_MS: f64 = 253_402_300_799_999.0;

/// The Python classes the mapping needs, imported once.
pub(crate) struct Types {
    pub(crate) undefined: Py<PyAny>,
    pub(crate) hole: Py<PyAny>,
    pub(crate) invalid_date: Py<PyAny>,
    pub(crate) js_bigint: Py<PyAny>,
    pub(crate) js_map: Py<PyAny>,
    pub(crate) js_array: Py<PyAny>,
    pub(crate) js_boxed: Py<PyAny>,
    pub(crate) js_regexp: Py<PyAny>,
    pub(crate) enum_type: Py<PyAny>,
    pub(crate) js_typed_array: Py<PyAny>,
    pub(crate) resizable: Py<PyAny>,
    pub(crate) datetime: Py<PyAny>,
    pub(crate) pattern: Py<PyAny>,
    pub(crate) array: Py<PyAny>,
    pub(crate) date_to_ms: Py<PyAny>,
    pub(crate) ms_to_date: Py<PyAny>,
    pub(crate) regexp_to_js: Py<PyAny>,
    pub(crate) regexp_from_js: Py<PyAny>,
    pub(crate) error_to_js: Py<PyAny>,
    pub(crate) error_from_js: Py<PyAny>,
    pub(crate) set_cause: Py<PyAny>,
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

pub(crate) fn isinstance(obj: &Bound<'_, PyAny>, ty: &Py<PyAny>) -> PyResult<bool> {
    obj.is_instance(ty.bind(obj.py()))
}

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

/// The process-wide `default` hook (`set_default`), used when a call passes none.
static PROCESS_DEFAULT: parking_lot::Mutex<Option<Py<PyAny>>> = parking_lot::Mutex::new(None);

pub(crate) fn resolve_default<'py>(
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
#[catch_panics]
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
    // Writing the graph touches no Python object: let other threads run meanwhile.
    let serialized = py
        .detach(|| clone::serialize_with_transfer(&mut graph, &list))
        .py_err(py)?;
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
    py.detach(|| clone::encode(&graph))
        .map_err(|e| errors::to_py(py, e))
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
    let graph = py
        .detach(|| clone::decode_with(data, &decode_options(node)))
        .map_err(|e| errors::to_py(py, webmessaging_core::Error::from(e)))?;
    from_graph(py, &graph, &[], hole_budget(data.len()))
}

// ---------------------------------------------------------------------------------------------
// Python values from the wire
/// How many `HOLE` items a message of `input_len` bytes may expand to: [`FREE_HOLES`] plus
/// [`HOLES_PER_INPUT_BYTE`] per byte, so a few bytes cannot become a list of millions.
pub(crate) fn hole_budget(input_len: usize) -> usize {
    FREE_HOLES.saturating_add(input_len.saturating_mul(HOLES_PER_INPUT_BYTE))
}

pub(crate) fn py_string<'py>(py: Python<'py>, s: &JsString) -> PyResult<Bound<'py, PyAny>> {
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

pub(crate) fn py_key<'py>(py: Python<'py>, s: &JsString) -> PyResult<Bound<'py, PyAny>> {
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

/// A Number: integral values within ±2^53 come back as `int` (except -0), others as `float`.
pub(crate) fn number(py: Python<'_>, n: f64) -> PyResult<Bound<'_, PyAny>> {
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE && !(n == 0.0 && n.is_sign_negative()) {
        return Ok((n as i64).into_pyobject(py)?.into_any());
    }
    Ok(PyFloat::new(py, n).into_any())
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
    let input_len =
        message.data.len() + message.array_buffers.iter().map(|b| b.len()).sum::<usize>();
    // Reading the bytes touches no Python object: let other threads run meanwhile.
    let received = py.detach(|| clone::deserialize_message(message, &decode_options(false)));
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
