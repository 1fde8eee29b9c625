//! Python values to the core's structured-clone value graph (`webmessaging_core::clone`),
//! which the core then writes. The full mapping: every row of the README's table, the
//! transfer list, and the `default` hook; the direct codec (`super::encode`) hands it every
//! value it does not cover. Every Python object that becomes a graph object is memoized by
//! identity, so shared references and cycles survive. Here: the walk and the common types;
//! every other type is in [`rare`].

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use webmessaging_core::clone::{
    Array, ArrayBuffer, Elements, Graph, JsBigInt, JsString, Limits, Object, ObjectId,
    Transferable, Value,
};

mod rare;

use crate::convert::{
    isinstance, resolve_default, types, DictItems, PtrHasher, Types, MAX_COPIED_OBJECTS, MAX_DEPTH,
    MOVE_THRESHOLD,
};
use crate::errors;
use crate::transfer::{Transfer, TransferItem};

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
                _ => None,
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
