//! `wm_value_*`: build and read every type of the structured-clone value model.
//!
//! A `wm_value` handle is a reference to a value inside a *graph* (the core's `clone::Graph`
//! arena). Values are built separately and linked by the container calls
//! (`wm_value_array_push`, `wm_value_object_set`, `wm_value_map_set`, `wm_value_set_add`): linking
//! two values of different graphs merges the second graph into the first, and every handle into
//! the merged graph keeps working (it forwards). So putting one object in two places makes a
//! shared reference, and putting an object inside itself makes a cycle, exactly as in JavaScript.
//! Handles returned by readers (`wm_value_array_get`...) refer to the same objects, so
//! `wm_value_same` can tell identity.

use std::ffi::c_char;
use std::sync::Arc;

use webmessaging_core::clone::{Graph, Object, Value, ViewKind};

use crate::handle::{Kind, Table};
use crate::json;
use crate::status::*;

/// Writes a new handle through `out` after the body produced it; the guard sets `*out` NULL first.
macro_rules! out_handle {
    ($out:ident, $body:expr) => {{
        if $out.is_null() {
            return Err(Failure::null(stringify!($out)));
        }
        let h = $body?;
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { *$out = h };
        Ok(())
    }};
}

mod build;
mod containers;
mod equal;
mod graph;
mod read;
mod wire;

use graph::{resolve, with_graph, Doc};
pub(crate) use read::into_c_bytes;
pub(crate) use wire::{
    decode_message, encode_graph, post_value, serialize, serialize_with_buffers, value_from_message,
};

/// A structured-clone value: a primitive or a reference to an object of a value graph.
///
/// An opaque handle owned by the caller; release it with `wm_value_free`. Freeing a handle
/// never frees the object for other handles or containers that still refer to it.
pub struct wm_value {
    _private: [u8; 0],
}

/// The type of a value, as reported by `wm_value_get_type`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum wm_value_type {
    /// `undefined`.
    WM_VALUE_UNDEFINED = 0,
    /// `null`.
    WM_VALUE_NULL = 1,
    /// `true` or `false`.
    WM_VALUE_BOOL = 2,
    /// A Number (a double: -0, NaN and infinities included).
    WM_VALUE_NUMBER = 3,
    /// A BigInt.
    WM_VALUE_BIGINT = 4,
    /// A string (UTF-16 code units; lone surrogates allowed).
    WM_VALUE_STRING = 5,
    /// A plain object.
    WM_VALUE_OBJECT = 6,
    /// An Array.
    WM_VALUE_ARRAY = 7,
    /// `new Boolean(b)`.
    WM_VALUE_BOOLEAN_OBJECT = 8,
    /// `new Number(n)`.
    WM_VALUE_NUMBER_OBJECT = 9,
    /// `Object(bigint)`.
    WM_VALUE_BIGINT_OBJECT = 10,
    /// `new String(s)`.
    WM_VALUE_STRING_OBJECT = 11,
    /// A Date.
    WM_VALUE_DATE = 12,
    /// A RegExp.
    WM_VALUE_REGEXP = 13,
    /// An ArrayBuffer.
    WM_VALUE_ARRAY_BUFFER = 14,
    /// A typed array or DataView (see `wm_value_get_view`).
    WM_VALUE_VIEW = 15,
    /// A Map.
    WM_VALUE_MAP = 16,
    /// A Set.
    WM_VALUE_SET = 17,
    /// An Error.
    WM_VALUE_ERROR = 18,
    /// A MessagePort.
    WM_VALUE_PORT = 19,
}

/// The kind of a typed array or DataView.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum wm_view_kind {
    /// Int8Array.
    WM_VIEW_INT8 = 0,
    /// Uint8Array.
    WM_VIEW_UINT8 = 1,
    /// Uint8ClampedArray.
    WM_VIEW_UINT8_CLAMPED = 2,
    /// Int16Array.
    WM_VIEW_INT16 = 3,
    /// Uint16Array.
    WM_VIEW_UINT16 = 4,
    /// Int32Array.
    WM_VIEW_INT32 = 5,
    /// Uint32Array.
    WM_VIEW_UINT32 = 6,
    /// Float16Array.
    WM_VIEW_FLOAT16 = 7,
    /// Float32Array.
    WM_VIEW_FLOAT32 = 8,
    /// Float64Array.
    WM_VIEW_FLOAT64 = 9,
    /// BigInt64Array.
    WM_VIEW_BIGINT64 = 10,
    /// BigUint64Array.
    WM_VIEW_BIGUINT64 = 11,
    /// DataView.
    WM_VIEW_DATAVIEW = 12,
}

const VIEW_KINDS: [ViewKind; 13] = ViewKind::ALL;

fn view_kind_to_c(k: ViewKind) -> wm_view_kind {
    let i = VIEW_KINDS.iter().position(|x| *x == k).unwrap_or(12);
    // The C enum's numbers are the indices of `ViewKind::ALL`.
    [
        wm_view_kind::WM_VIEW_INT8,
        wm_view_kind::WM_VIEW_UINT8,
        wm_view_kind::WM_VIEW_UINT8_CLAMPED,
        wm_view_kind::WM_VIEW_INT16,
        wm_view_kind::WM_VIEW_UINT16,
        wm_view_kind::WM_VIEW_INT32,
        wm_view_kind::WM_VIEW_UINT32,
        wm_view_kind::WM_VIEW_FLOAT16,
        wm_view_kind::WM_VIEW_FLOAT32,
        wm_view_kind::WM_VIEW_FLOAT64,
        wm_view_kind::WM_VIEW_BIGINT64,
        wm_view_kind::WM_VIEW_BIGUINT64,
        wm_view_kind::WM_VIEW_DATAVIEW,
    ][i]
}

pub(crate) struct ValueObj {
    doc: Arc<Doc>,
    value: Value,
}

static VALUES: Table<Arc<ValueObj>, { Kind::Value as u8 }> = Table::new();

pub(crate) fn live() -> usize {
    VALUES.live()
}
fn insert(doc: Arc<Doc>, value: Value) -> Res<*mut wm_value> {
    Ok(VALUES.insert(Arc::new(ValueObj { doc, value }))? as *mut wm_value)
}

/// A new handle for a value of the same (live) graph as `like`.
fn sibling(like: &ValueObj, value: Value) -> Res<*mut wm_value> {
    let (doc, _) = resolve(&like.doc, &like.value);
    insert(doc, value)
}

fn new_primitive(value: Value) -> Res<*mut wm_value> {
    insert(Doc::new(Graph::new()), value)
}

fn new_object(object: Object) -> Res<*mut wm_value> {
    let mut g = Graph::new();
    let id = g.add(object);
    insert(Doc::new(g), Value::Object(id))
}

pub(crate) fn value_arg(v: *const wm_value, name: &str) -> Res<Arc<ValueObj>> {
    if v.is_null() {
        return Err(Failure::null(name));
    }
    VALUES.get(v as usize)
}

fn wrong_type(what: &str) -> Failure {
    Failure::new(WM_ERR_WRONG_TYPE, format!("the value is not {what}"))
}

/// Writes to `*out` whether `a` and `b` are the same value: SameValue for primitives, identity
/// for objects (two handles to one shared object are the same).
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_same(
    a: *const wm_value,
    b: *const wm_value,
    out: *mut bool,
) -> wm_status {
    guard(here!(), || {
        let (a, b) = (value_arg(a, "a")?, value_arg(b, "b")?);
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let (da, va) = resolve(&a.doc, &a.value);
        let (db, vb) = resolve(&b.doc, &b.value);
        let same = match (&va, &vb) {
            (Value::Object(_), Value::Object(_)) => Arc::ptr_eq(&da, &db) && va == vb,
            _ => va == vb,
        };
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { out.write(same) };
        Ok(())
    })
}

/// Writes `value` as JSON text to a new string `*out`, with the strict mapping and the output
/// budget described at `wm_message_to_json`. Ownership: `*out` for `wm_string_free` (NULL on
/// failure).
/// Returns `WM_OK`, `WM_ERR_DATA_CLONE` (no JSON form, or past the budget), `WM_ERR_NULL_ARG`,
/// `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_to_json(
    value: *const wm_value,
    out: *mut *mut c_char,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        let v = value_arg(value, "value")?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let text = with_graph(&v, |g, val| json::graph_to_json(g, val))?;
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { *out = json::into_c_string(text) };
        Ok(())
    })
}

/// Releases a value handle. Objects stay alive for the other handles and containers that refer
/// to them. Ownership: consumes the handle. Accepts NULL (returns `WM_OK`).
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_INVALID_HANDLE` (already freed or never issued), `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_value_free(value: *mut wm_value) -> wm_status {
    guard(here!(), || {
        if value.is_null() {
            return Ok(());
        }
        drop(VALUES.remove(value as usize)?);
        Ok(())
    })
}
