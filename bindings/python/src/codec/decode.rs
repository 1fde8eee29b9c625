//! Wire bytes straight to Python objects, for the canonical subset messages are made of:
//! `undefined`, `null`, booleans, Numbers (`I`, `N`), BigInts, one- and two-byte strings,
//! plain objects with string keys, dense arrays without holes or extra properties,
//! ArrayBuffers (inline or moved beside the bytes), and `^` references to them.
//!
//! The walk is at least as strict as the core reader (`webmessaging_core::clone::decode`):
//! anything else — another tag, a number key, a hole, a duplicate key, a non-minimal varint, an
//! end count that does not match, a lone surrogate, trailing bytes, a limit reached — makes it
//! give up ([`Bail`]); the caller then reads the same bytes through the core's strict reader
//! and the full mapping, which either maps the value or names what is wrong. Only fresh
//! objects were made before giving up, and no user code ran.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use webmessaging_core::clone::{JsBigInt, Limits};
use webmessaging_core::ArrayBufferContents;

use super::encode::Bail;
use super::wire;
use crate::convert::{self, Types, MAX_DEPTH, MOVE_THRESHOLD};

type R<T> = Result<T, Bail>;

struct Reader<'a, 'py> {
    py: Python<'py>,
    t: &'a Types,
    data: &'a [u8],
    pos: usize,
    /// Buffers that travel beside the bytes (`t` + index); each may be read once.
    buffers: &'a [ArrayBufferContents],
    used: Vec<bool>,
    /// Every object read so far, by wire id (for `^`).
    objects: Vec<Bound<'py, PyAny>>,
    depth: usize,
    units: usize,
    bytes: usize,
    limits: Limits,
    /// ASCII keys read so far, with their Python strings.
    keys: Vec<(&'a [u8], Bound<'py, PyAny>)>,
}

/// Reads a whole message: its bytes and the buffers moved beside them. `Ok(Err(Bail))` when
/// the value is not in the subset (see the module docs).
pub(crate) fn read<'py>(
    py: Python<'py>,
    data: &[u8],
    buffers: &[ArrayBufferContents],
) -> PyResult<R<Bound<'py, PyAny>>> {
    // The core reader counts transferred buffers as objects and bytes up front.
    let moved: usize = buffers.iter().map(|b| b.len()).sum();
    let mut r = Reader {
        py,
        t: convert::types(py)?,
        data,
        pos: 0,
        buffers,
        used: vec![false; buffers.len()],
        objects: Vec::with_capacity(16),
        depth: 0,
        units: 0,
        bytes: moved,
        limits: Limits::default(),
        keys: Vec::new(),
    };
    if moved > r.limits.max_bytes {
        return Ok(Err(Bail));
    }
    if r.header().is_err() {
        return Ok(Err(Bail));
    }
    let value = match r.value()? {
        Ok(v) => v,
        Err(b) => return Ok(Err(b)),
    };
    // Strict: nothing but padding after the root.
    if r.data[r.pos..].iter().any(|&b| b != wire::PADDING) {
        return Ok(Err(Bail));
    }
    Ok(Ok(value))
}

/// A `bytes` copy of `data`; a large one is copied with the GIL released (the new object is
/// not reachable from any other thread until it is returned).
fn new_bytes<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    if data.len() < MOVE_THRESHOLD {
        return Ok(PyBytes::new(py, data).into_any());
    }
    // SAFETY: a NULL source asks CPython for an uninitialised bytes object of `data.len()`
    // bytes, which we own alone; every byte is written before anyone else can see it.
    unsafe {
        let raw = pyo3::ffi::PyBytes_FromStringAndSize(std::ptr::null(), data.len() as isize);
        let obj = Bound::from_owned_ptr_or_err(py, raw)?;
        let dst = pyo3::ffi::PyBytes_AsString(obj.as_ptr());
        if dst.is_null() {
            return Err(PyErr::fetch(py));
        }
        let dst = SendPtr(dst.cast::<u8>());
        py.detach(|| {
            let dst = dst;
            std::ptr::copy_nonoverlapping(data.as_ptr(), dst.0, data.len())
        });
        Ok(obj)
    }
}

/// A raw pointer moved into a GIL-released copy (see [`new_bytes`]).
struct SendPtr(*mut u8);
// SAFETY: the pointee is a bytes object only the sending thread owns, written only while that
// thread waits for the copy.
unsafe impl Send for SendPtr {}

impl<'a, 'py> Reader<'a, 'py> {
    fn byte(&mut self) -> R<u8> {
        let b = *self.data.get(self.pos).ok_or(Bail)?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> R<&[u8]> {
        let end = self.pos.checked_add(n).ok_or(Bail)?;
        let s = self.data.get(self.pos..end).ok_or(Bail)?;
        self.pos = end;
        Ok(s)
    }

    /// A minimal u32 varint of at most 5 bytes (the core reader's rule).
    fn varint(&mut self) -> R<u32> {
        let mut n: u64 = 0;
        for i in 0..5 {
            let b = self.byte()?;
            n |= u64::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && b == 0 {
                    return Err(Bail); // not minimal
                }
                return u32::try_from(n).map_err(|_| Bail);
            }
        }
        Err(Bail)
    }

    /// The next tag, after any padding.
    fn tag(&mut self) -> R<u8> {
        loop {
            let b = self.byte()?;
            if b != wire::PADDING {
                return Ok(b);
            }
        }
    }

    fn peek_tag(&mut self) -> R<u8> {
        while self.data.get(self.pos) == Some(&wire::PADDING) {
            self.pos += 1;
        }
        self.data.get(self.pos).copied().ok_or(Bail)
    }

    fn header(&mut self) -> R<()> {
        if self.byte()? != wire::VERSION {
            return Err(Bail);
        }
        // 13 to 15 read alike for this subset; 16 and older ones go to the core reader.
        match self.varint()? {
            13..=15 => Ok(()),
            _ => Err(Bail),
        }
    }

    fn register(&mut self, obj: &Bound<'py, PyAny>) -> R<()> {
        if self.objects.len() + self.buffers.len() >= self.limits.max_objects {
            return Err(Bail);
        }
        self.objects.push(obj.clone());
        Ok(())
    }

    fn charge_units(&mut self, n: usize) -> R<()> {
        self.units = self.units.saturating_add(n);
        if self.units > self.limits.max_string_units {
            return Err(Bail);
        }
        Ok(())
    }

    fn value(&mut self) -> PyResult<R<Bound<'py, PyAny>>> {
        let py = self.py;
        let tag = match self.tag() {
            Ok(t) => t,
            Err(b) => return Ok(Err(b)),
        };
        Ok(Ok(match tag {
            wire::UNDEFINED => self.t.undefined.bind(py).clone(),
            wire::NULL => py.None().into_bound(py),
            wire::TRUE => pyo3::types::PyBool::new(py, true).to_owned().into_any(),
            wire::FALSE => pyo3::types::PyBool::new(py, false).to_owned().into_any(),
            wire::INT32 => {
                let Ok(z) = self.varint() else {
                    return Ok(Err(Bail));
                };
                let n = ((z >> 1) as i32) ^ -((z & 1) as i32);
                n.into_pyobject(py)?.into_any()
            }
            wire::DOUBLE => {
                let Ok(b) = self.take(8) else {
                    return Ok(Err(Bail));
                };
                let mut le = [0u8; 8];
                le.copy_from_slice(b);
                convert::number(py, f64::from_le_bytes(le))?
            }
            wire::BIGINT => return self.bigint(),
            wire::ONE_BYTE_STRING | wire::TWO_BYTE_STRING => return self.string(tag, false),
            wire::OBJECT_REFERENCE => {
                let Ok(id) = self.varint() else {
                    return Ok(Err(Bail));
                };
                match self.objects.get(id as usize) {
                    Some(o) => o.clone(),
                    None => return Ok(Err(Bail)),
                }
            }
            wire::BEGIN_JS_OBJECT => return self.nested(Self::object),
            wire::BEGIN_DENSE_JS_ARRAY => return self.nested(Self::array),
            wire::ARRAY_BUFFER => {
                let Ok(len) = self.varint() else {
                    return Ok(Err(Bail));
                };
                if self.charge_bytes(len as usize).is_err() {
                    return Ok(Err(Bail));
                }
                let Ok(b) = self.take(len as usize) else {
                    return Ok(Err(Bail));
                };
                let bytes = new_bytes(py, b)?;
                if self.register(&bytes).is_err() {
                    return Ok(Err(Bail));
                }
                bytes
            }
            wire::ARRAY_BUFFER_TRANSFER => {
                let Ok(i) = self.varint() else {
                    return Ok(Err(Bail));
                };
                let i = i as usize;
                let buffers = self.buffers;
                let (Some(data), Some(false)) = (buffers.get(i), self.used.get(i).copied()) else {
                    return Ok(Err(Bail));
                };
                self.used[i] = true;
                let bytes = new_bytes(py, data)?;
                if self.register(&bytes).is_err() {
                    return Ok(Err(Bail));
                }
                bytes
            }
            _ => return Ok(Err(Bail)),
        }))
    }

    fn charge_bytes(&mut self, n: usize) -> R<()> {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > self.limits.max_bytes {
            return Err(Bail);
        }
        Ok(())
    }

    fn nested(
        &mut self,
        f: impl FnOnce(&mut Self) -> PyResult<R<Bound<'py, PyAny>>>,
    ) -> PyResult<R<Bound<'py, PyAny>>> {
        // One level short of the limit: the core reader decides at the limit itself.
        if self.depth + 1 >= MAX_DEPTH {
            return Ok(Err(Bail));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    fn bigint(&mut self) -> PyResult<R<Bound<'py, PyAny>>> {
        let Ok(bits) = self.varint() else {
            return Ok(Err(Bail));
        };
        let len = (bits >> 1) as usize;
        if len > self.limits.max_bigint_bytes {
            return Ok(Err(Bail));
        }
        let Ok(mag) = self.take(len) else {
            return Ok(Err(Bail));
        };
        let negative = bits & 1 == 1;
        if negative && mag.iter().all(|&b| b == 0) {
            return Ok(Err(Bail)); // -0n
        }
        let n = JsBigInt::from_sign_magnitude(negative, mag);
        Ok(Ok(convert::bigint_value(self.py, self.t, &n)?))
    }

    /// A one-byte (`"`) or two-byte (`c`) string after its tag; `key`: an object key.
    fn string(&mut self, tag: u8, key: bool) -> PyResult<R<Bound<'py, PyAny>>> {
        let py = self.py;
        let Ok(len) = self.varint() else {
            return Ok(Err(Bail));
        };
        let len = len as usize;
        // An index-like key ("0", "12"): the core reader moves such keys first, in JavaScript's
        // own-key order, so it reads them.
        if key {
            let first = self.data.get(self.pos).copied();
            if first.is_some_and(|b| b.is_ascii_digit()) {
                return Ok(Err(Bail));
            }
        }
        if tag == wire::ONE_BYTE_STRING {
            if self.charge_units(len).is_err() {
                return Ok(Err(Bail));
            }
            let start = self.pos;
            if self.take(len).is_err() {
                return Ok(Err(Bail));
            }
            let data = self.data;
            let b = &data[start..start + len];
            if b.is_ascii() {
                if key {
                    return self.key(b).map(Ok);
                }
                // ASCII is UTF-8.
                let text = std::str::from_utf8(b)
                    .map_err(|_| pyo3::exceptions::PyValueError::new_err("ASCII"))?;
                return Ok(Ok(PyString::new(py, text).into_any()));
            }
            let text: String = b.iter().map(|&c| char::from(c)).collect();
            return Ok(Ok(PyString::new(py, &text).into_any()));
        }
        if len % 2 != 0 || self.charge_units(len / 2).is_err() {
            return Ok(Err(Bail));
        }
        let Ok(b) = self.take(len) else {
            return Ok(Err(Bail));
        };
        let units = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
        match char::decode_utf16(units).collect::<Result<String, _>>() {
            Ok(text) => Ok(Ok(PyString::new(py, &text).into_any())),
            // Lone surrogates: the full mapping reads them.
            Err(_) => Ok(Err(Bail)),
        }
    }

    /// An ASCII object key: keys repeat within a message (a list of records), so the ones seen
    /// so far are looked up first, then the process-wide cache of interned keys.
    fn key(&mut self, b: &'a [u8]) -> PyResult<Bound<'py, PyAny>> {
        if let Some((_, k)) = self.keys.iter().find(|(seen, _)| *seen == b) {
            return Ok(k.clone());
        }
        let k = convert::ascii_key(self.py, b)?;
        if self.keys.len() < 32 {
            self.keys.push((b, k.clone()));
        }
        Ok(k)
    }

    fn object(&mut self) -> PyResult<R<Bound<'py, PyAny>>> {
        let dict = PyDict::new(self.py);
        if self.register(dict.as_any()).is_err() {
            return Ok(Err(Bail));
        }
        let mut n: usize = 0;
        loop {
            let tag = match self.tag() {
                Ok(t) => t,
                Err(b) => return Ok(Err(b)),
            };
            if tag == wire::END_JS_OBJECT {
                // A duplicate key left the dict smaller: the core reader refuses it.
                return Ok(match self.varint() {
                    Ok(count) if count as usize == n && dict.len() == n => Ok(dict.into_any()),
                    _ => Err(Bail),
                });
            }
            // Number keys are canonicalised by the core reader.
            if tag != wire::ONE_BYTE_STRING && tag != wire::TWO_BYTE_STRING {
                return Ok(Err(Bail));
            }
            let key = match self.string(tag, true)? {
                Ok(k) => k,
                Err(b) => return Ok(Err(b)),
            };
            let value = match self.value()? {
                Ok(v) => v,
                Err(b) => return Ok(Err(b)),
            };
            dict.set_item(key, value)?;
            n += 1;
        }
    }

    fn array(&mut self) -> PyResult<R<Bound<'py, PyAny>>> {
        let Ok(len) = self.varint() else {
            return Ok(Err(Bail));
        };
        // Each element takes at least one byte.
        if len as usize > self.data.len() - self.pos {
            return Ok(Err(Bail));
        }
        let list = PyList::empty(self.py);
        if self.register(list.as_any()).is_err() {
            return Ok(Err(Bail));
        }
        for _ in 0..len {
            if self.peek_tag() == Ok(b'-') {
                return Ok(Err(Bail)); // a hole: a JSArray, read by the full mapping
            }
            match self.value()? {
                Ok(v) => list.append(v)?,
                Err(b) => return Ok(Err(b)),
            }
        }
        // No extra properties: `$ 0 len`.
        let end = (|| -> R<bool> {
            Ok(self.tag()? == wire::END_DENSE_JS_ARRAY
                && self.varint()? == 0
                && self.varint()? == len)
        })();
        Ok(match end {
            Ok(true) => Ok(list.into_any()),
            _ => Err(Bail),
        })
    }
}
