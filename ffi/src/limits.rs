//! Bounds on how much a small input may expand to on its way out to C.
//!
//! A value graph can be tiny and still describe a huge result: an object referenced from two
//! places is written twice as JSON (so 24 arrays each holding the next one twice are 170 bytes
//! on the wire and 117 MB of text), and a sparse array is a length with nothing behind it (13
//! bytes claim 16 million elements). The library refuses such inputs with a named error instead
//! of letting them allocate without bound: JSON text gets the budget below; sparse arrays are
//! bounded by the core reader's own `Limits` (`sparse_length_base` + `sparse_length_per_byte`
//! per input byte), which every decode applies.

use webmessaging_core::clone::{Elements, Graph, Object, Value};

use crate::status::*;

/// JSON output budget: the text of `wm_message_to_json` / `wm_value_to_json` may be at most
/// `WM_JSON_BASE_BYTES` plus `WM_JSON_BYTES_PER_UNIT` bytes per unit of the value's size.
pub const WM_JSON_BASE_BYTES: usize = 1 << 20;

/// Bytes of JSON text allowed per unit of the value's size, where the size counts 4 units for
/// every object, element, property and Map/Set entry and 1 per string code unit, each once
/// however many places refer to it. Every value without shared references fits; shared ones
/// are written at each place they appear (as `JSON.stringify` does) until the budget runs out.
pub const WM_JSON_BYTES_PER_UNIT: usize = 8;

/// Units every object, element, property or entry counts for in a value's size.
const SLOT_UNITS: usize = 4;

/// The size of the value `root` of `graph` in the units of [`WM_JSON_BYTES_PER_UNIT`]: every
/// object reachable from it is counted once, however many references lead to it.
fn size_units(graph: &Graph, root: &Value) -> usize {
    let mut seen = vec![false; graph.len()];
    let mut stack = Vec::new();
    let mut size = 0usize;
    let mut visit = |v: &Value, stack: &mut Vec<_>, size: &mut usize| {
        *size = size.saturating_add(SLOT_UNITS);
        match v {
            Value::String(s) => *size = size.saturating_add(s.len()),
            Value::Object(id) => {
                if let Some(flag) = seen.get_mut(id.index()) {
                    if !*flag {
                        *flag = true;
                        stack.push(*id);
                    }
                }
            }
            _ => {}
        }
    };
    visit(root, &mut stack, &mut size);
    while let Some(id) = stack.pop() {
        let Some(object) = graph.get(id) else {
            continue;
        };
        match object {
            Object::Object(props) => {
                for (k, v) in props {
                    size = size.saturating_add(k.len());
                    visit(v, &mut stack, &mut size);
                }
            }
            Object::Array(a) => {
                match &a.elements {
                    Elements::Dense(items) => {
                        items.iter().for_each(|v| visit(v, &mut stack, &mut size))
                    }
                    Elements::Sparse { entries, .. } => entries
                        .iter()
                        .for_each(|(_, v)| visit(v, &mut stack, &mut size)),
                }
                for (k, v) in &a.properties {
                    size = size.saturating_add(k.len());
                    visit(v, &mut stack, &mut size);
                }
            }
            Object::Map(entries) => entries.iter().for_each(|(k, v)| {
                visit(k, &mut stack, &mut size);
                visit(v, &mut stack, &mut size);
            }),
            Object::Set(items) => items.iter().for_each(|v| visit(v, &mut stack, &mut size)),
            Object::StringObject(s) => size = size.saturating_add(s.len()),
            Object::Error(e) => {
                if let Some(c) = &e.cause {
                    visit(c, &mut stack, &mut size);
                }
            }
            // The other kinds have no JSON form: the writer stops at them anyway.
            _ => {}
        }
    }
    size
}

/// The most bytes of JSON text the value `root` of `graph` may be written as.
pub(crate) fn json_budget(graph: &Graph, root: &Value) -> usize {
    WM_JSON_BASE_BYTES
        .saturating_add(size_units(graph, root).saturating_mul(WM_JSON_BYTES_PER_UNIT))
}

/// The error for JSON text that outgrew its budget.
pub(crate) fn json_too_large(budget: usize) -> Failure {
    Failure::new(
        WM_ERR_DATA_CLONE,
        format!(
            "DataCloneError: the JSON text would exceed its limit of {budget} bytes \
             (1 MiB + 8 per unit of the value's size): shared references are written at every \
             place they appear, so this value expands too much; read it with the wm_value API"
        ),
    )
}
