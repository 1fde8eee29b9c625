//! The core's structured-clone value graph to Python values: the full mapping for what the
//! direct codec (`super::decode`) does not read itself. Every graph object becomes exactly one
//! Python object (containers are created empty, memoized, then filled), so shared references
//! and cycles survive.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyFrozenSet, PyList, PySet, PyTuple};
use webmessaging_core::clone::{Array, Elements, Graph, Object, ObjectId, Value, ViewKind};
use webmessaging_core::MessagePort as CorePort;

use crate::convert::{
    bigint_value, number, py_key, py_string, types, Types, FREE_HOLES, HOLES_PER_INPUT_BYTE,
    MAX_DEPTH,
};
use crate::errors;

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
                let set = PyFrozenSet::new(py, items.iter())?;
                if set.len() != items.len() {
                    return Err(self.error(
                        "two members of a Set used as a key are one member of a Python frozenset \
                         (such as 1 and 1n, or 1 and true)",
                    ));
                }
                Ok(set.into_any())
            }
            _ => self.value(v),
        }
    }

    /// Two distinct JavaScript keys that Python sees as one (`1` and `1n`, `1` and `true`, two
    /// arrays with the same items): refused, as a dict or set would silently keep only one.
    fn collision(&self, what: &str, python: &str, key: &Bound<'py, PyAny>) -> PyErr {
        let shown = key
            .repr()
            .map(|r| r.to_string())
            .unwrap_or_else(|_| "?".into());
        self.error(format!(
            "a {what} ({shown}) is the same {python} in Python as an earlier one \
             (such as 1 and 1n, or 1 and true): one of them would be lost"
        ))
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
                    let before = dict.len();
                    dict.set_item(&key, value)?;
                    if dict.len() == before {
                        return Err(self.collision("Map key", "dict key", &key));
                    }
                }
                return Ok(map);
            }
            Object::Set(items) => {
                let set = PySet::empty(py)?;
                self.remember(id, set.as_any());
                for item in items {
                    let v = self.key(item)?;
                    let before = set.len();
                    set.add(&v).map_err(|_| {
                        self.error(format!(
                            "a Set member of type {} cannot be in a Python set",
                            v.get_type()
                                .qualname()
                                .map(|q| q.to_string())
                                .unwrap_or_default()
                        ))
                    })?;
                    if set.len() == before {
                        return Err(self.collision("Set member", "set member", &v));
                    }
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
