//! The long tail of the Python-to-graph mapping: every type but `None`, `bool`, `int`,
//! `float`, `str`, `dict`, `list` and `tuple` (subclasses, bytes and buffers, sets, dates,
//! patterns, exceptions, the `JS*` wrappers, ports, the `default` hook's turn). Its own module
//! so that the recursive path the common containers take stays short to read and light on
//! stack.

use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyFloat, PyFrozenSet, PyInt, PyMemoryView, PySet, PyString,
};
use webmessaging_core::clone::{
    ArrayBuffer, ArrayBufferView, ErrorName, ErrorObject, JsString, Object, ObjectId, RegExp,
    RegExpFlags, Value, ViewKind,
};

use super::Encoder;
use crate::convert::{isinstance, MAX_DATE_MS, MIN_DATE_MS};
use crate::errors;
use crate::port::MessagePort;

/// The typed-array kind for a buffer `format` (a `struct` module code) of `itemsize` bytes.
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
    /// Everything but dict, list and tuple: kept out of the recursive path so that deep
    /// nesting of the common containers uses little stack per level.
    #[inline(never)]
    pub(super) fn rare(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<Value> {
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

    /// A typed array over a fresh copy of `data`.
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

    /// An exception as a JS Error: name, message, stack and cause.
    fn error(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<Value> {
        let py = self.py;
        let id = self.new_object(obj, Object::Error(Box::default()))?;
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
        self.set(id, Object::Error(Box::new(error)));
        Ok(Value::Object(id))
    }
}
