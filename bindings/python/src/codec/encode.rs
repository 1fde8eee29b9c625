//! Python objects straight to wire bytes, for the values messages are made of: `None`, `bool`,
//! `int`, `float`, `str`, `bytes`, and `dict` (string keys), `list` and `tuple` of them — all
//! of exact built-in types, so no user code runs and nothing can change under the walk.
//!
//! Anything else (a subclass, a `datetime`, a `set`, an index-like key, ...) makes the walk
//! give up ([`Bail`]) and the caller starts again on the full mapping (`crate::convert`), which
//! writes through the core's value graph. Both produce the same bytes for the same value: the
//! canonical V8 v15 subset of `webmessaging_core::clone::encode` (Node's `new v8.Serializer()`).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use pyo3::Borrowed;
use webmessaging_core::clone::Limits;
use webmessaging_core::Payload;

use super::wire;
use crate::convert::{PtrHasher, MAX_COPIED_OBJECTS, MAX_DEPTH, MOVE_THRESHOLD};

/// The walk met something only the full mapping handles (or a limit the full mapping reports
/// with its proper error): start again there. Nothing was changed or called.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Bail;

type Step = Result<(), Bail>;

/// Strings longer than this (in UTF-8 bytes) are left to the full mapping, which checks the
/// reader's code-unit limit before writing anything.
const LONG_STRING: usize = 1 << 26;

struct Writer<'py> {
    buf: Vec<u8>,
    /// Large `bytes` that travel beside the wire bytes (`t` + index), if moving is on.
    /// Held (not borrowed) until the walk ends, then copied with the GIL released.
    moved: Option<Vec<Bound<'py, PyBytes>>>,
    /// Wire ids of the dicts, lists and `bytes` written so far, by address.
    ids: Ids,
    next_id: u32,
    /// Tuples walked once (walking one again copies it) and the objects such copies made.
    immutables: HashMap<usize, (), BuildHasherDefault<PtrHasher>>,
    copying: usize,
    copied: usize,
    units: usize,
    buffer_bytes: usize,
    depth: usize,
    limits: Limits,
    _py: std::marker::PhantomData<Bound<'py, PyAny>>,
}

/// Wire ids by object address. Addresses stay unique for the whole walk without keeping
/// references: every object reached is owned by a container the walk is inside or has
/// written, no user code runs, and the GIL is held throughout, so none can be freed.
/// Most messages hold a handful of containers: a fixed array is searched linearly (no
/// allocation, no hashing) until it fills.
struct Ids {
    few: [(usize, u32); Ids::FEW],
    len: usize,
    many: HashMap<usize, u32, BuildHasherDefault<PtrHasher>>,
}

impl Ids {
    const FEW: usize = 16;

    fn new() -> Self {
        Ids {
            few: [(0, 0); Ids::FEW],
            len: 0,
            many: HashMap::default(),
        }
    }

    fn get(&self, key: usize) -> Option<u32> {
        if self.len <= Self::FEW {
            self.few[..self.len]
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, id)| *id)
        } else {
            self.many.get(&key).copied()
        }
    }

    fn insert(&mut self, key: usize, id: u32) {
        if self.len < Self::FEW {
            self.few[self.len] = (key, id);
        } else {
            if self.len == Self::FEW {
                self.many.extend(self.few.iter().copied());
            }
            self.many.insert(key, id);
        }
        self.len += 1;
    }
}

/// Writes `value` (header included). `move_large`: `bytes` of [`MOVE_THRESHOLD`] or more go
/// to the payload's buffer table instead of the wire bytes, as transferred buffers do.
pub(crate) fn write(value: &Bound<'_, PyAny>, move_large: bool) -> PyResult<Result<Payload, Bail>> {
    let mut w = Writer {
        buf: Vec::with_capacity(64),
        moved: move_large.then(Vec::new),
        ids: Ids::new(),
        next_id: 0,
        immutables: HashMap::default(),
        copying: 0,
        copied: 0,
        units: 0,
        buffer_bytes: 0,
        depth: 0,
        limits: Limits::default(),
        _py: std::marker::PhantomData,
    };
    w.buf
        .extend_from_slice(&[wire::VERSION, wire::LATEST_VERSION_BYTE]);
    if let Err(b) = w.value(value)? {
        return Ok(Err(b));
    }
    // Copy the large buffers only now, with the GIL released: the walk's borrowed references
    // are no longer in use, and these `bytes` are immutable and held by `moved`.
    let moved = w.moved.unwrap_or_default();
    let slices: Vec<&[u8]> = moved.iter().map(|b| b.as_bytes()).collect();
    let array_buffers = if slices.is_empty() {
        Vec::new()
    } else {
        value
            .py()
            .detach(|| slices.iter().map(|d| d.to_vec().into()).collect())
    };
    Ok(Ok(Payload {
        data: w.buf,
        array_buffers,
    }))
}

impl<'py> Writer<'py> {
    fn value(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<Step> {
        if obj.is_none() {
            self.buf.push(wire::NULL);
        } else if let Ok(b) = obj.cast_exact::<PyBool>() {
            self.buf
                .push(if b.is_true() { wire::TRUE } else { wire::FALSE });
        } else if obj.is_exact_instance_of::<PyInt>() {
            return Ok(self.int(obj));
        } else if let Ok(f) = obj.cast_exact::<PyFloat>() {
            wire::number(&mut self.buf, f.value());
        } else if let Ok(s) = obj.cast_exact::<PyString>() {
            return self.string(s);
        } else {
            return self.object(obj);
        }
        Ok(Ok(()))
    }

    fn int(&mut self, obj: &Bound<'py, PyAny>) -> Step {
        let mut overflow = 0;
        // SAFETY: `obj` is an exact int and the GIL is held; on overflow this returns -1 with
        // `overflow` set and no exception, and an exact int raises nothing else.
        let n = unsafe { pyo3::ffi::PyLong_AsLongLongAndOverflow(obj.as_ptr(), &mut overflow) };
        if overflow != 0 {
            // Larger ints are rare: the full mapping converts them.
            return Err(Bail);
        }
        if n.unsigned_abs() <= 1 << 53 {
            wire::number(&mut self.buf, n as f64);
        } else {
            wire::bigint(&mut self.buf, n < 0, &n.unsigned_abs().to_le_bytes());
        }
        Ok(())
    }

    fn charge_units(&mut self, n: usize) -> Step {
        self.units = self.units.saturating_add(n);
        if self.units > self.limits.max_string_units {
            return Err(Bail);
        }
        Ok(())
    }

    fn string(&mut self, s: &Bound<'py, PyString>) -> PyResult<Step> {
        let Ok(text) = s.to_str() else {
            // Lone surrogates: the full mapping writes them.
            return Ok(Err(Bail));
        };
        if text.len() > LONG_STRING {
            return Ok(Err(Bail));
        }
        let units = wire::string(&mut self.buf, text);
        Ok(self.charge_units(units))
    }

    /// Gives the next object its wire id, within the reader's object limit and the copy budget.
    fn new_id(&mut self) -> Step {
        if self.next_id as usize >= self.limits.max_objects {
            return Err(Bail);
        }
        if self.copying > 0 {
            self.copied += 1;
            if self.copied > MAX_COPIED_OBJECTS {
                return Err(Bail);
            }
        }
        self.next_id += 1;
        Ok(())
    }

    /// `^ id` for a container written before; otherwise remembers it under the next id.
    fn seen(&mut self, obj: &Bound<'py, PyAny>) -> Result<bool, Bail> {
        let key = obj.as_ptr() as usize;
        if let Some(id) = self.ids.get(key) {
            self.buf.push(wire::OBJECT_REFERENCE);
            wire::varint(&mut self.buf, id);
            return Ok(true);
        }
        self.ids.insert(key, self.next_id);
        self.new_id()?;
        Ok(false)
    }

    fn object(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<Step> {
        if self.depth >= MAX_DEPTH {
            return Ok(Err(Bail));
        }
        self.depth += 1;
        let result = self.container(obj);
        self.depth -= 1;
        result
    }

    fn container(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<Step> {
        if let Ok(dict) = obj.cast_exact::<PyDict>() {
            return match self.seen(obj) {
                Ok(true) => Ok(Ok(())),
                Ok(false) => self.dict(dict),
                Err(b) => Ok(Err(b)),
            };
        }
        if let Ok(list) = obj.cast_exact::<PyList>() {
            match self.seen(obj) {
                Ok(true) => return Ok(Ok(())),
                Ok(false) => {}
                Err(b) => return Ok(Err(b)),
            }
            let len = list.len();
            self.buf.push(wire::BEGIN_DENSE_JS_ARRAY);
            wire::varint(&mut self.buf, u32::try_from(len).map_err(|_| too_long())?);
            for i in 0..len {
                // SAFETY: as for dict items (see `dict`): nothing can change the list, so a
                // borrowed item of an index below its length is valid.
                let ptr = unsafe { pyo3::ffi::PyList_GetItem(list.as_ptr(), i as isize) };
                if ptr.is_null() {
                    return Err(PyErr::fetch(list.py()));
                }
                let item = unsafe { Borrowed::from_ptr(list.py(), ptr) };
                if let Err(b) = self.value(&item)? {
                    return Ok(Err(b));
                }
            }
            // Unchanged: no user code ran, and the GIL was held throughout.
            if list.len() != len {
                return Ok(Err(Bail));
            }
            self.end_dense(len as u32);
            return Ok(Ok(()));
        }
        if let Ok(tuple) = obj.cast_exact::<PyTuple>() {
            // Copied at each reference (see the mapping table), so never `^`.
            let again = self.immutables.insert(obj.as_ptr() as usize, ()).is_some();
            if let Err(b) = self.new_id() {
                return Ok(Err(b));
            }
            self.copying += usize::from(again);
            let len = tuple.len();
            self.buf.push(wire::BEGIN_DENSE_JS_ARRAY);
            wire::varint(&mut self.buf, u32::try_from(len).map_err(|_| too_long())?);
            let mut step = Ok(());
            for i in 0..len {
                // SAFETY: `i` is below the length of a tuple, which cannot change.
                let item = unsafe { tuple.get_borrowed_item_unchecked(i) };
                step = self.value(&item)?;
                if step.is_err() {
                    break;
                }
            }
            self.copying -= usize::from(again);
            if step.is_ok() {
                self.end_dense(len as u32);
            }
            return Ok(step);
        }
        if let Ok(bytes) = obj.cast_exact::<PyBytes>() {
            match self.seen(obj) {
                Ok(true) => return Ok(Ok(())),
                Ok(false) => {}
                Err(b) => return Ok(Err(b)),
            }
            let data = bytes.as_bytes();
            self.buffer_bytes = self.buffer_bytes.saturating_add(data.len());
            if self.buffer_bytes > self.limits.max_bytes {
                return Ok(Err(Bail));
            }
            let len = u32::try_from(data.len()).map_err(|_| too_long())?;
            match &mut self.moved {
                Some(moved) if data.len() >= MOVE_THRESHOLD => {
                    self.buf.push(wire::ARRAY_BUFFER_TRANSFER);
                    wire::varint(&mut self.buf, moved.len() as u32);
                    moved.push(bytes.clone());
                }
                _ => {
                    // With the GIL held: the walk's borrowed references must stay valid.
                    self.buf.push(wire::ARRAY_BUFFER);
                    wire::varint(&mut self.buf, len);
                    self.buf.extend_from_slice(data);
                }
            }
            return Ok(Ok(()));
        }
        Ok(Err(Bail))
    }

    fn dict(&mut self, dict: &Bound<'py, PyDict>) -> PyResult<Step> {
        self.buf.push(wire::BEGIN_JS_OBJECT);
        let py = dict.py();
        let len = dict.len();
        let mut pos: pyo3::ffi::Py_ssize_t = 0;
        let mut n: u32 = 0;
        loop {
            let mut k: *mut pyo3::ffi::PyObject = std::ptr::null_mut();
            let mut v: *mut pyo3::ffi::PyObject = std::ptr::null_mut();
            // SAFETY: the GIL is held and `dict` is alive. The references are borrowed, which
            // is sound because nothing can change the dict during the walk: no user code runs
            // (exact built-in types only) and the GIL is never released.
            if unsafe { pyo3::ffi::PyDict_Next(dict.as_ptr(), &mut pos, &mut k, &mut v) } == 0
                || k.is_null()
                || v.is_null()
            {
                break;
            }
            let (k, v) = unsafe { (Borrowed::from_ptr(py, k), Borrowed::from_ptr(py, v)) };
            let Ok(key) = k.cast_exact::<PyString>() else {
                return Ok(Err(Bail)); // a Map, or a str subclass key
            };
            let Ok(text) = key.to_str() else {
                return Ok(Err(Bail));
            };
            // Index keys ("0", "12") go first, as numbers: the full mapping orders them.
            if text.len() > LONG_STRING || text.as_bytes().first().is_some_and(u8::is_ascii_digit) {
                return Ok(Err(Bail));
            }
            let units = wire::string(&mut self.buf, text);
            if let Err(b) = self.charge_units(units) {
                return Ok(Err(b));
            }
            if let Err(b) = self.value(&v)? {
                return Ok(Err(b));
            }
            n += 1;
        }
        if n as usize != len {
            return Ok(Err(Bail));
        }
        self.buf.push(wire::END_JS_OBJECT);
        wire::varint(&mut self.buf, n);
        Ok(Ok(()))
    }

    fn end_dense(&mut self, len: u32) {
        self.buf.push(wire::END_DENSE_JS_ARRAY);
        wire::varint(&mut self.buf, 0);
        wire::varint(&mut self.buf, len);
    }
}

fn too_long() -> PyErr {
    pyo3::exceptions::PyOverflowError::new_err("a container is too long for the wire format")
}
