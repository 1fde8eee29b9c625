//! JSON in and out, straight to and from the core's value graph (no second codec: the bytes are
//! always written and read by `webmessaging_core::clone`).
//!
//! In: `serde_json` parses the text and a `DeserializeSeed` builds graph objects as it goes, with
//! `JSON.parse`'s results: numbers become doubles, objects keep document order except that
//! array-index keys come first in ascending order (JavaScript's own-key order), and a repeated key
//! keeps its last value in its first position. Nesting deeper than serde_json's limit (128) is a
//! syntax error.
//!
//! Out: a strict walk (see `wm_message_to_json`): only values with an exact JSON form are written.

use std::ffi::{c_char, CStr};
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use webmessaging_core::clone::{Elements, Graph, JsString, Object, ObjectId, Value};

use crate::limits;
use crate::status::*;

/// Reads a NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `s` must be NULL or a NUL-terminated string readable for the returned lifetime.
pub(crate) unsafe fn str_arg<'a>(s: *const c_char, name: &str) -> Res<&'a str> {
    if s.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-null, and the caller promises NUL termination.
    let c = unsafe { CStr::from_ptr(s) };
    c.to_str()
        .map_err(|e| Failure::invalid(format!("`{name}` is not valid UTF-8: {e}")))
}

/// Inserts or replaces a property keeping JavaScript's own-key order: array-index keys first,
/// ascending, then the others in insertion order.
pub(crate) fn set_property(props: &mut Vec<(JsString, Value)>, key: JsString, value: Value) {
    if let Some(slot) = props.iter_mut().find(|(k, _)| *k == key) {
        slot.1 = value;
        return;
    }
    match key.array_index() {
        Some(i) => {
            let at = props
                .iter()
                .position(|(k, _)| k.array_index().is_none_or(|j| j > i))
                .unwrap_or(props.len());
            props.insert(at, (key, value));
        }
        None => props.push((key, value)),
    }
}

struct Build<'g>(&'g mut Graph);

impl<'de> DeserializeSeed<'de> for Build<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Build<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.into()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(Build(&mut *self.0))? {
            items.push(v);
        }
        Ok(Value::Object(self.0.add(Object::array(items))))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut props = Vec::new();
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let v = map.next_value_seed(Build(&mut *self.0))?;
            set_property(&mut props, JsString::from(&*k), v);
        }
        Ok(Value::Object(self.0.add(Object::Object(props))))
    }
}

/// Parses JSON text into a new graph.
pub(crate) fn graph_from_json(text: &str) -> Res<Graph> {
    let mut graph = Graph::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let root = Build(&mut graph)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| Failure::new(WM_ERR_SYNTAX, format!("SyntaxError: malformed JSON: {e}")))?;
    graph.root = root;
    Ok(graph)
}

fn not_json(what: &str) -> Failure {
    Failure::new(
        WM_ERR_DATA_CLONE,
        format!("DataCloneError: {what} has no JSON form (use the wm_value API)"),
    )
}

/// Writes `value` of `graph` as JSON (see `wm_message_to_json` for the mapping), within the
/// budget of `limits::json_budget`.
pub(crate) fn graph_to_json(graph: &Graph, value: &Value) -> Res<String> {
    let budget = limits::json_budget(graph, value);
    let mut out = String::new();
    write_value(graph, value, &mut out, budget)?;
    Ok(out)
}

/// The deepest nesting written: a policy, not a stack bound (the walk is iterative).
const MAX_JSON_DEPTH: usize = 10_000;

/// What the walk does next.
enum Step<'g> {
    Value(&'g Value),
    /// A separator or a closing bracket.
    Text(&'static str),
    Key(&'g JsString),
    /// The object is no longer open around the walk (for cycle detection).
    Leave(ObjectId),
}

/// Writes one value iteratively, so a deep value cannot overflow a small C thread stack.
/// `open` marks the objects around the current position (to refuse cycles). The budget is checked
/// after every value, so the text outgrows it by at most one string, which the budget counts once
/// already: a shared reference cannot make it grow without bound.
fn write_value(graph: &Graph, value: &Value, out: &mut String, budget: usize) -> Res {
    let mut open = vec![false; graph.len()];
    let mut depth = 0usize;
    let mut steps = vec![Step::Value(value)];
    while let Some(step) = steps.pop() {
        let value = match step {
            Step::Text(t) => {
                out.push_str(t);
                continue;
            }
            Step::Key(k) => {
                write_string(k, out);
                out.push(':');
                continue;
            }
            Step::Leave(id) => {
                open[id.index()] = false;
                depth -= 1;
                continue;
            }
            Step::Value(v) => v,
        };
        match value {
            Value::Undefined => return Err(not_json("undefined")),
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => write_number(*n, out)?,
            Value::BigInt(_) => return Err(not_json("a BigInt")),
            Value::String(s) => write_string(s, out),
            Value::Object(id) => {
                let object = graph
                    .get(*id)
                    .ok_or_else(|| not_json("a dangling reference"))?;
                if open[id.index()] {
                    return Err(not_json("a cyclic value"));
                }
                if depth >= MAX_JSON_DEPTH {
                    return Err(not_json("a value nested deeper than 10000 levels"));
                }
                match object {
                    Object::Object(props) => {
                        out.push('{');
                        steps.push(Step::Leave(*id));
                        steps.push(Step::Text("}"));
                        for (i, (k, v)) in props.iter().enumerate().rev() {
                            steps.push(Step::Value(v));
                            steps.push(Step::Key(k));
                            if i > 0 {
                                steps.push(Step::Text(","));
                            }
                        }
                    }
                    Object::Array(a) => match (&a.elements, a.properties.is_empty()) {
                        (Elements::Dense(items), true) => {
                            out.push('[');
                            steps.push(Step::Leave(*id));
                            steps.push(Step::Text("]"));
                            for (i, v) in items.iter().enumerate().rev() {
                                steps.push(Step::Value(v));
                                if i > 0 {
                                    steps.push(Step::Text(","));
                                }
                            }
                        }
                        (Elements::Dense(_), false) => {
                            return Err(not_json("an array with extra properties"))
                        }
                        (Elements::Sparse { .. }, _) => return Err(not_json("a sparse array")),
                    },
                    other => return Err(not_json(&format!("a {}", other.kind_name()))),
                }
                open[id.index()] = true;
                depth += 1;
            }
        }
        if out.len() > budget {
            return Err(limits::json_too_large(budget));
        }
    }
    Ok(())
}

fn write_number(n: f64, out: &mut String) -> Res {
    if !n.is_finite() {
        return Err(not_json("a non-finite number"));
    }
    if n == 0.0 && n.is_sign_negative() {
        out.push_str("-0");
    } else {
        out.push_str(ryu_js::Buffer::new().format_finite(n));
    }
    Ok(())
}

fn write_string(s: &JsString, out: &mut String) {
    out.push('"');
    let units = s.to_utf16();
    for r in char::decode_utf16(units.iter().copied()) {
        match r {
            Ok('"') => out.push_str("\\\""),
            Ok('\\') => out.push_str("\\\\"),
            Ok('\n') => out.push_str("\\n"),
            Ok('\r') => out.push_str("\\r"),
            Ok('\t') => out.push_str("\\t"),
            Ok('\u{8}') => out.push_str("\\b"),
            Ok('\u{c}') => out.push_str("\\f"),
            Ok(c) if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            Ok(c) => out.push(c),
            // A lone surrogate: JSON can carry it as an escape (JSON.stringify does the same).
            Err(e) => out.push_str(&format!("\\u{:04x}", e.unpaired_surrogate())),
        }
    }
    out.push('"');
}

/// Hands a Rust string to C as a `malloc`ed NUL-terminated copy (freed by `wm_string_free`).
pub(crate) fn into_c_string(text: String) -> *mut c_char {
    crate::value::into_c_bytes(text.into_bytes())
}

/// Frees a string the library returned (`wm_message_to_json`, `wm_value_to_json`,
/// `wm_value_get_string`...).
///
/// Ownership: consumes `s`, which must come from this library and not be freed before.
/// Strings are plain `malloc` memory, not handles: freeing one twice is undefined behaviour.
/// Accepts NULL. Thread safety: any thread. Never fails.
#[no_mangle]
pub unsafe extern "C" fn wm_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: the caller promises `s` came from `into_c_string`/`into_c_bytes` (malloc).
        unsafe { libc::free(s.cast()) };
    }
}
