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

use parking_lot::Mutex;
use webmessaging_core::clone::{
    self, Array, ArrayBuffer, ArrayBufferView, DecodeOptions, Elements, ErrorName, ErrorObject,
    Graph, JsBigInt, JsString, Object, RegExp, RegExpFlags, Transferable, Value, ViewKind,
};
use webmessaging_core::Payload;

use crate::handle::{Kind, Table};
use crate::json;
use crate::message::MessageObj;
use crate::port::{new_port_handle, port_arg, wm_port, PortObj};
use crate::status::*;

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

// ---------------------------------------------------------------------------------------------
// Graphs that can merge: a document is either live or forwards to the document it merged into.

pub(crate) struct Doc(Mutex<DocState>);

enum DocState {
    Live(Graph),
    /// Merged into another document; this one's object ids are that one's plus `offset`.
    Forward(Arc<Doc>, u32),
}

impl Doc {
    fn new(graph: Graph) -> Arc<Doc> {
        Arc::new(Doc(Mutex::new(DocState::Live(graph))))
    }
}

pub(crate) struct ValueObj {
    doc: Arc<Doc>,
    value: Value,
}

static VALUES: Table<Arc<ValueObj>> = Table::new(Kind::Value);

pub(crate) fn live() -> usize {
    VALUES.live()
}

fn shift(v: &Value, offset: u32) -> Value {
    match v {
        Value::Object(id) => Value::Object(clone::ObjectId(id.0 + offset)),
        other => other.clone(),
    }
}

/// Follows forwards to the live document and the value's id in it.
fn resolve(doc: &Arc<Doc>, value: &Value) -> (Arc<Doc>, Value) {
    let mut doc = doc.clone();
    let mut value = value.clone();
    loop {
        let next = match &*doc.0.lock() {
            DocState::Live(_) => None,
            DocState::Forward(to, offset) => Some((to.clone(), *offset)),
        };
        match next {
            None => return (doc, value),
            Some((to, offset)) => {
                value = shift(&value, offset);
                doc = to;
            }
        }
    }
}

/// Runs `f` on the live graph of `v` (with `v`'s value resolved in it).
fn with_graph<R>(v: &ValueObj, f: impl FnOnce(&mut Graph, &Value) -> R) -> R {
    let mut f = Some(f);
    loop {
        let (doc, value) = resolve(&v.doc, &v.value);
        let mut st = doc.0.lock();
        if let DocState::Live(g) = &mut *st {
            let f = f.take().expect("called once");
            return f(g, &value);
        }
        // Merged by another thread between resolve and lock: resolve again.
    }
}

fn remap_value(v: &mut Value, offset: u32) {
    if let Value::Object(id) = v {
        id.0 += offset;
    }
}

fn remap_object(o: &mut Object, offset: u32) {
    let r = |v: &mut Value| remap_value(v, offset);
    match o {
        Object::Object(props) => props.iter_mut().for_each(|(_, v)| r(v)),
        Object::Array(a) => {
            match &mut a.elements {
                Elements::Dense(items) => items.iter_mut().for_each(r),
                Elements::Sparse { entries, .. } => entries.iter_mut().for_each(|(_, v)| r(v)),
            }
            a.properties.iter_mut().for_each(|(_, v)| r(v));
        }
        Object::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            r(k);
            r(v)
        }),
        Object::Set(items) => items.iter_mut().for_each(r),
        Object::View(view) => view.buffer.0 += offset,
        Object::Error(e) => {
            if let Some(c) = &mut e.cause {
                r(c)
            }
        }
        _ => {}
    }
}

/// Runs `f` on one live graph holding both `a` and `b`, merging `b`'s graph into `a`'s first if
/// they differ (only when `b` is an object: primitives need no graph).
fn with_two<R>(a: &ValueObj, b: &ValueObj, f: impl FnOnce(&mut Graph, &Value, &Value) -> R) -> R {
    let mut f = Some(f);
    loop {
        let (da, va) = resolve(&a.doc, &a.value);
        let (db, vb) = resolve(&b.doc, &b.value);
        if Arc::ptr_eq(&da, &db) || !matches!(vb, Value::Object(_)) {
            let mut st = da.0.lock();
            if let DocState::Live(g) = &mut *st {
                return (f.take().expect("called once"))(g, &va, &vb);
            }
            continue;
        }
        // Lock both in address order so concurrent merges cannot deadlock.
        let a_first = Arc::as_ptr(&da) < Arc::as_ptr(&db);
        let (g1, g2) = if a_first {
            (da.0.lock(), db.0.lock())
        } else {
            (db.0.lock(), da.0.lock())
        };
        let (mut sa, mut sb) = if a_first { (g1, g2) } else { (g2, g1) };
        let (DocState::Live(ga), DocState::Live(gb)) = (&mut *sa, &mut *sb) else {
            continue;
        };
        let offset = ga.len() as u32;
        for (_, o) in gb.iter() {
            let mut o = o.clone();
            remap_object(&mut o, offset);
            ga.add(o);
        }
        *sb = DocState::Forward(da.clone(), offset);
        let vb = shift(&vb, offset);
        return (f.take().expect("called once"))(ga, &va, &vb);
    }
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

fn value_arg(v: *const wm_value, name: &str) -> Res<Arc<ValueObj>> {
    if v.is_null() {
        return Err(Failure::null(name));
    }
    VALUES.get(v as usize)
}

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

fn wrong_type(what: &str) -> Failure {
    Failure::new(WM_ERR_WRONG_TYPE, format!("the value is not {what}"))
}

// ---------------------------------------------------------------------------------------------
// Posting and receiving.

/// Serializes the value at `value` (NULL: undefined) with `ports` as the transfer list.
pub(crate) fn serialize(value: *const wm_value, ports: &[Arc<PortObj>]) -> Res<Payload> {
    let transfer: Vec<Transferable> = ports
        .iter()
        .map(|p| Transferable::Port(p.port.clone()))
        .collect();
    let data = if value.is_null() {
        clone::encode_with(&Graph::new(), &Default::default(), &transfer)?
    } else {
        let v = value_arg(value, "value")?;
        with_graph(&v, |g, root| {
            let saved = std::mem::replace(&mut g.root, root.clone());
            let r = clone::encode_with(g, &Default::default(), &transfer);
            g.root = saved;
            r
        })?
    };
    Ok(Payload::from(data))
}

/// Serializes `value` with ports and ArrayBuffers transferred: the buffers' bytes move out of
/// the value graph (the buffers are left detached, as in JavaScript).
fn serialize_with_buffers(
    value: &ValueObj,
    ports: &[Arc<PortObj>],
    buffers: &[Arc<ValueObj>],
) -> Res<Payload> {
    // Bring every buffer into the value's graph first (transferring a buffer of another graph
    // merges the graphs, like referencing it would).
    for b in buffers {
        with_two(value, b, |_, _, _| ());
    }
    loop {
        let (doc, root) = resolve(&value.doc, &value.value);
        let mut ids = Vec::with_capacity(buffers.len());
        for (i, b) in buffers.iter().enumerate() {
            let (bdoc, bv) = resolve(&b.doc, &b.value);
            match bv {
                Value::Object(id) if Arc::ptr_eq(&bdoc, &doc) => ids.push(id),
                Value::Object(_) => break,
                _ => {
                    return Err(Failure::new(
                        WM_ERR_DATA_CLONE,
                        format!("DataCloneError: buffers[{i}] is not an ArrayBuffer"),
                    ))
                }
            }
        }
        if ids.len() != buffers.len() {
            // A concurrent merge moved the graph meanwhile: merge again and retry.
            for b in buffers {
                with_two(value, b, |_, _, _| ());
            }
            continue;
        }
        let mut st = doc.0.lock();
        let DocState::Live(g) = &mut *st else {
            continue;
        };
        let transfer: Vec<Transferable> = ports
            .iter()
            .map(|p| Transferable::Port(p.port.clone()))
            .chain(ids.into_iter().map(Transferable::ArrayBuffer))
            .collect();
        let saved = std::mem::replace(&mut g.root, root);
        let r = clone::serialize_with_transfer(g, &transfer);
        g.root = saved;
        return Ok(r?.payload);
    }
}

/// Posts a value with ports *and ArrayBuffers* transferred (`postMessage(value, [port,
/// buffer])`): the `m` buffers in `buffers` (ArrayBuffer values, usually referenced by `value`)
/// move to the receiver without a copy and are left detached here (length 0; posting them
/// again is `WM_ERR_DATA_CLONE`, R-SC-10). Otherwise as `wm_port_post`. `value` may be NULL
/// (undefined) only when `m` is 0.
///
/// Ownership: all handles stay the caller's. Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_DATA_CLONE` (a buffer that is not an ArrayBuffer, detached, or listed
/// twice; the transfer-list errors of `wm_port_post`), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`,
/// `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_port_post_transfer(
    port: *mut wm_port,
    value: *const wm_value,
    transfer: *const *mut wm_port,
    n: usize,
    buffers: *const *const wm_value,
    m: usize,
) -> wm_status {
    guard("wm_port_post_transfer", || {
        let p = port_arg(port, "port")?;
        // SAFETY: forwarded caller promise about `transfer`.
        let ports = unsafe { crate::port::transfer_arg(transfer, n)? };
        if m == 0 {
            crate::port::check_source_not_listed(&p, &ports)?;
            let payload = serialize(value, &ports)?;
            return crate::port::post(&p, payload, &ports, crate::port::Mode::Web);
        }
        if buffers.is_null() {
            return Err(Failure::null("buffers"));
        }
        let v = value_arg(value, "value")?;
        // SAFETY: non-null, and the caller promises `m` readable handles.
        let list = unsafe { std::slice::from_raw_parts(buffers, m) };
        let bufs = list
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if b.is_null() {
                    Err(Failure::null(&format!("buffers[{i}]")))
                } else {
                    VALUES.get(b as usize)
                }
            })
            .collect::<Res<Vec<_>>>()?;
        crate::port::check_source_not_listed(&p, &ports)?;
        let payload = serialize_with_buffers(&v, &ports, &bufs)?;
        crate::port::post(&p, payload, &ports, crate::port::Mode::Web)
    })
}

/// Serializes the value at `value` (NULL: undefined) with `ports` as the transfer list and posts.
pub(crate) fn post_value(
    port: &PortObj,
    value: *const wm_value,
    ports: &[Arc<PortObj>],
    mode: crate::port::Mode,
) -> Res {
    crate::port::check_source_not_listed(port, ports)?;
    let payload = serialize(value, ports)?;
    crate::port::post(port, payload, ports, mode)
}

/// Serializes a graph built from JSON (no ports inside it) with `ports` transferred alongside.
pub(crate) fn encode_graph(graph: &Graph, ports: &[Arc<PortObj>]) -> Res<Payload> {
    let transfer: Vec<Transferable> = ports
        .iter()
        .map(|p| Transferable::Port(p.port.clone()))
        .collect();
    Ok(Payload::from(clone::encode_with(
        graph,
        &Default::default(),
        &transfer,
    )?))
}

/// Decodes a message into a graph; its port nodes are the message's ports. Sparse arrays may
/// not claim more holes than `limits::check_sparse` allows for the message's size.
pub(crate) fn decode_message(m: &MessageObj) -> Res<Graph> {
    let g = clone::decode_transfer(
        &m.data,
        &DecodeOptions::default(),
        &m.port_clones(),
        m.array_buffers.clone(),
    )
    .map_err(|e| Failure::new(WM_ERR_DECODE, format!("DecodeError: {e}")))?;
    crate::limits::check_sparse(&g, m.data.len())?;
    Ok(g)
}

pub(crate) fn value_from_message(m: &MessageObj) -> Res<*mut wm_value> {
    let mut g = decode_message(m)?;
    let root = std::mem::take(&mut g.root);
    insert(Doc::new(g), root)
}

// ---------------------------------------------------------------------------------------------
// Constructors.

/// Creates `undefined`. Ownership: `*out` is a new value owned by the caller (`wm_value_free`).
/// All `wm_value_new_*` functions set `*out` to NULL on failure and are thread-safe.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_undefined(out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_undefined", || {
        out_handle!(out, new_primitive(Value::Undefined))
    })
}

/// Creates `null`. Ownership and statuses: as `wm_value_new_undefined`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_null(out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_null", || {
        out_handle!(out, new_primitive(Value::Null))
    })
}

/// Creates a boolean. Ownership and statuses: as `wm_value_new_undefined`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_bool(b: bool, out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_bool", || {
        out_handle!(out, new_primitive(Value::Bool(b)))
    })
}

/// Creates a Number (any double: -0, NaN and infinities survive a post).
/// Ownership and statuses: as `wm_value_new_undefined`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_number(n: f64, out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_number", || {
        out_handle!(out, new_primitive(Value::Number(n)))
    })
}

/// Creates a BigInt from decimal text (`"-123456789012345678901234567890"`; an optional sign,
/// then digits). Ownership: as `wm_value_new_undefined`; `decimal` is borrowed.
/// Returns `WM_OK`, `WM_ERR_SYNTAX` (not a decimal integer), `WM_ERR_INVALID_ARG` (not UTF-8),
/// `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_bigint(
    decimal: *const c_char,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_bigint", || {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let text = unsafe { json::str_arg(decimal, "decimal")? };
        let b = JsBigInt::parse_decimal(text).ok_or_else(|| {
            Failure::new(
                WM_ERR_SYNTAX,
                format!("SyntaxError: {text:?} is not a decimal integer"),
            )
        })?;
        out_handle!(out, new_primitive(Value::BigInt(b)))
    })
}

/// Creates a BigInt from a sign and a little-endian magnitude of `len` bytes (the wire form;
/// `magnitude` may be NULL when `len` is 0, which is zero). Ownership: as
/// `wm_value_new_undefined`; `magnitude` is borrowed.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_bigint_bytes(
    negative: bool,
    magnitude: *const u8,
    len: usize,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_bigint_bytes", || {
        // SAFETY: the caller promises `len` readable bytes.
        let bytes = unsafe { crate::port::bytes_arg(magnitude, len, "magnitude")? };
        out_handle!(
            out,
            new_primitive(Value::BigInt(JsBigInt::from_sign_magnitude(
                negative,
                bytes.to_vec()
            )))
        )
    })
}

/// Reads `len` bytes of UTF-8 as a JsString.
unsafe fn utf8_arg(s: *const c_char, len: usize, name: &str) -> Res<JsString> {
    // SAFETY: forwarded caller promise.
    let bytes = unsafe { crate::port::bytes_arg(s.cast(), len, name)? };
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Failure::invalid(format!("`{name}` is not valid UTF-8: {e}")))?;
    Ok(JsString::from(text))
}

/// Creates a string from `len` bytes of UTF-8 (NUL bytes allowed; not NUL-terminated; `s` may
/// be NULL when `len` is 0). Ownership: as `wm_value_new_undefined`; `s` is borrowed.
/// Returns `WM_OK`, `WM_ERR_INVALID_ARG` (invalid UTF-8), `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_string(
    s: *const c_char,
    len: usize,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_string", || {
        // SAFETY: the caller promises `len` readable bytes.
        let s = unsafe { utf8_arg(s, len, "s")? };
        out_handle!(out, new_primitive(Value::String(s)))
    })
}

/// Creates a string from `len` UTF-16 code units (any, lone surrogates included; `units` may be
/// NULL when `len` is 0). Ownership: as `wm_value_new_undefined`; `units` is borrowed.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_string_utf16(
    units: *const u16,
    len: usize,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_string_utf16", || {
        let units: &[u16] = if len == 0 {
            &[]
        } else if units.is_null() {
            return Err(Failure::null("units"));
        } else {
            // SAFETY: non-null and the caller promises `len` readable code units.
            unsafe { std::slice::from_raw_parts(units, len) }
        };
        out_handle!(
            out,
            new_primitive(Value::String(JsString::from_utf16(units.to_vec())))
        )
    })
}

/// Creates an empty plain object (`{}`). Ownership and statuses: as `wm_value_new_undefined`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_object(out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_object", || {
        out_handle!(out, new_object(Object::Object(Vec::new())))
    })
}

/// Creates an empty array (`[]`). Ownership and statuses: as `wm_value_new_undefined`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_array(out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_array", || {
        out_handle!(out, new_object(Object::Array(Array::dense(Vec::new()))))
    })
}

/// Creates an empty Map. Ownership and statuses: as `wm_value_new_undefined`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_map(out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_map", || {
        out_handle!(out, new_object(Object::Map(Vec::new())))
    })
}

/// Creates an empty Set. Ownership and statuses: as `wm_value_new_undefined`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_set(out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_set", || {
        out_handle!(out, new_object(Object::Set(Vec::new())))
    })
}

/// Creates a Date from its time value in milliseconds since the epoch (NaN: an invalid Date).
/// Ownership and statuses: as `wm_value_new_undefined`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_date(ms: f64, out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_date", || {
        out_handle!(out, new_object(Object::Date(ms)))
    })
}

/// Creates a RegExp from its source and flag letters (`"gi"`; NUL-terminated UTF-8, borrowed).
/// The pattern is not compiled. Ownership: as `wm_value_new_undefined`.
/// Returns `WM_OK`, `WM_ERR_SYNTAX` (unknown or repeated flag), `WM_ERR_INVALID_ARG` (not
/// UTF-8), `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_regexp(
    source: *const c_char,
    flags: *const c_char,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_regexp", || {
        // SAFETY: the caller passes NULL or NUL-terminated strings.
        let (source, flags) = unsafe {
            (
                json::str_arg(source, "source")?,
                json::str_arg(flags, "flags")?,
            )
        };
        let flags = RegExpFlags::parse(flags).ok_or_else(|| {
            Failure::new(
                WM_ERR_SYNTAX,
                format!("SyntaxError: invalid RegExp flags {flags:?}"),
            )
        })?;
        out_handle!(
            out,
            new_object(Object::RegExp(RegExp {
                source: source.into(),
                flags
            }))
        )
    })
}

/// Creates an Error. `name` is one of `Error`, `EvalError`, `RangeError`, `ReferenceError`,
/// `SyntaxError`, `TypeError`, `URIError` (any other name becomes `Error`, as in a structured
/// clone); `message` may be NULL (no message). Strings are borrowed NUL-terminated UTF-8.
/// Ownership: as `wm_value_new_undefined`.
/// Returns `WM_OK`, `WM_ERR_INVALID_ARG` (not UTF-8), `WM_ERR_NULL_ARG` (name), `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_error(
    name: *const c_char,
    message: *const c_char,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_error", || {
        // SAFETY: the caller passes NULL or NUL-terminated strings.
        let name = unsafe { json::str_arg(name, "name")? };
        let message = if message.is_null() {
            None
        } else {
            // SAFETY: as above.
            Some(JsString::from(unsafe {
                json::str_arg(message, "message")?
            }))
        };
        let e = ErrorObject {
            name: ErrorName::from_name(name),
            message,
            stack: None,
            cause: None,
        };
        out_handle!(out, new_object(Object::Error(e)))
    })
}

/// Creates an ArrayBuffer holding a copy of `len` bytes (`data` may be NULL when `len` is 0).
/// Ownership: as `wm_value_new_undefined`; `data` is borrowed.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_array_buffer(
    data: *const u8,
    len: usize,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_array_buffer", || {
        // SAFETY: the caller promises `len` readable bytes.
        let bytes = unsafe { crate::port::bytes_arg(data, len, "data")? };
        out_handle!(
            out,
            new_object(Object::ArrayBuffer(ArrayBuffer::new(bytes.to_vec())))
        )
    })
}

/// Creates a typed array or DataView of `kind` over the ArrayBuffer `buffer`, starting at
/// `byte_offset` and `byte_length` bytes long. The view refers to the buffer (it is not
/// copied); several views of one buffer share it after a post, too.
/// Ownership: as `wm_value_new_undefined`; `buffer` stays the caller's.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (`buffer` is not an ArrayBuffer), `WM_ERR_INVALID_ARG`
/// (unknown kind; range outside the buffer or not a multiple of the element size),
/// `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_view(
    kind: i32,
    buffer: *const wm_value,
    byte_offset: usize,
    byte_length: usize,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_view", || {
        let b = value_arg(buffer, "buffer")?;
        let kind = usize::try_from(kind)
            .ok()
            .and_then(|k| VIEW_KINDS.get(k).copied())
            .ok_or_else(|| Failure::invalid(format!("{kind} is not a wm_view_kind")))?;
        let size = kind.element_size();
        let id = with_graph(&b, |g, v| -> Res<Value> {
            let Some(id) = v.as_object() else {
                return Err(wrong_type("an ArrayBuffer"));
            };
            let Some(Object::ArrayBuffer(ab)) = g.get(id) else {
                return Err(wrong_type("an ArrayBuffer"));
            };
            let end = byte_offset.checked_add(byte_length);
            if end.is_none_or(|e| e > ab.data.len())
                || byte_offset % size != 0
                || byte_length % size != 0
            {
                return Err(Failure::invalid(
                    "the view range is outside the buffer or misaligned",
                ));
            }
            let (Ok(off), Ok(len)) = (u32::try_from(byte_offset), u32::try_from(byte_length))
            else {
                return Err(Failure::invalid("the view range exceeds 2^32 bytes"));
            };
            let view = ArrayBufferView {
                kind,
                buffer: id,
                byte_offset: off,
                byte_length: len,
                length_tracking: false,
            };
            Ok(Value::Object(g.add(Object::View(view))))
        })?;
        out_handle!(out, sibling(&b, id))
    })
}

/// Creates a boxed primitive (`new Boolean(b)`, `new Number(n)`, `Object(bigint)`,
/// `new String(s)`) from a bool, Number, BigInt or string value.
/// Ownership: as `wm_value_new_undefined`; `primitive` stays the caller's.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (not one of those four), `WM_ERR_NULL_ARG`,
/// `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_boxed(
    primitive: *const wm_value,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_boxed", || {
        let p = value_arg(primitive, "primitive")?;
        let object = match &p.value {
            Value::Bool(b) => Object::BooleanObject(*b),
            Value::Number(n) => Object::NumberObject(*n),
            Value::BigInt(b) => Object::BigIntObject(b.clone()),
            Value::String(s) => Object::StringObject(s.clone()),
            _ => return Err(wrong_type("a bool, Number, BigInt or string")),
        };
        out_handle!(out, new_object(object))
    })
}

/// Creates a value that stands for `port` inside a message (like putting a MessagePort in
/// `postMessage`'s data). Posting it requires `port` in the transfer list too, else
/// `WM_ERR_DATA_CLONE` (ports are transferable, not serializable: R-CH-15).
/// Ownership: as `wm_value_new_undefined`; the port handle stays the caller's.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_port(
    port: *const wm_port,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_new_port", || {
        let p = port_arg(port, "port")?;
        out_handle!(out, new_object(Object::MessagePort(p.port.clone())))
    })
}

/// Parses JSON text (NUL-terminated UTF-8, borrowed) into a new value, mapped as
/// `wm_port_post_json_transfer` describes. Ownership: as `wm_value_new_undefined`.
/// Returns `WM_OK`, `WM_ERR_SYNTAX` (malformed JSON), `WM_ERR_INVALID_ARG` (not UTF-8),
/// `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_from_json(
    text: *const c_char,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_from_json", || {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let text = unsafe { json::str_arg(text, "text")? };
        let mut g = json::graph_from_json(text)?;
        let root = std::mem::take(&mut g.root);
        out_handle!(out, insert(Doc::new(g), root))
    })
}

// ---------------------------------------------------------------------------------------------
// Containers.

/// Appends `item` to the array `array` (`array.push(item)`). If `item` is an object it is
/// referenced, not copied: its graph is merged into the array's, so pushing one object twice
/// makes a shared reference and pushing an array into itself a cycle.
/// Ownership: both handles stay the caller's. Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (not an array), `WM_ERR_NULL_ARG`,
/// `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_value_array_push(array: *mut wm_value, item: *const wm_value) -> wm_status {
    guard("wm_value_array_push", || {
        let (a, i) = (value_arg(array, "array")?, value_arg(item, "item")?);
        with_two(&a, &i, |g, av, iv| {
            match av.as_object().and_then(|id| g.get_mut(id)) {
                Some(Object::Array(arr)) => match &mut arr.elements {
                    Elements::Dense(items) => items.push(iv.clone()),
                    Elements::Sparse { length, entries } => {
                        entries.push((*length, iv.clone()));
                        *length += 1;
                    }
                },
                _ => return Err(wrong_type("an array")),
            }
            Ok(())
        })
    })
}

/// Sets property `key` (NUL-terminated UTF-8, borrowed) of the plain object `object` to
/// `item` (replacing an existing one in place). Keys keep JavaScript's order: array-index keys
/// ascending first, then the others in insertion order. Objects are referenced as in
/// `wm_value_array_push`. Ownership: handles stay the caller's. Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (not a plain object), `WM_ERR_INVALID_ARG` (key not
/// UTF-8), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_object_set(
    object: *mut wm_value,
    key: *const c_char,
    item: *const wm_value,
) -> wm_status {
    guard("wm_value_object_set", || {
        let o = value_arg(object, "object")?;
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let key = JsString::from(unsafe { json::str_arg(key, "key")? });
        let i = value_arg(item, "item")?;
        with_two(&o, &i, |g, ov, iv| {
            match ov.as_object().and_then(|id| g.get_mut(id)) {
                Some(Object::Object(props)) => {
                    json::set_property(props, key, iv.clone());
                    Ok(())
                }
                _ => Err(wrong_type("a plain object")),
            }
        })
    })
}

/// Sets `key` to `item` in the Map `map` (`map.set(key, item)`): keys compare with SameValueZero
/// (primitives by value, objects by identity); an existing key keeps its position.
/// Ownership: handles stay the caller's. Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (not a Map), `WM_ERR_NULL_ARG`,
/// `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_value_map_set(
    map: *mut wm_value,
    key: *const wm_value,
    item: *const wm_value,
) -> wm_status {
    guard("wm_value_map_set", || {
        let (m, k, i) = (
            value_arg(map, "map")?,
            value_arg(key, "key")?,
            value_arg(item, "item")?,
        );
        // Merge key and item into the map's graph, then resolve all three in that one graph.
        with_two(&m, &k, |_, _, _| ());
        with_two(&m, &i, |_, _, _| ());
        loop {
            let (dm, mv) = resolve(&m.doc, &m.value);
            let (dk, kv) = resolve(&k.doc, &k.value);
            let (di, iv) = resolve(&i.doc, &i.value);
            let key_ok = Arc::ptr_eq(&dm, &dk) || !matches!(kv, Value::Object(_));
            let item_ok = Arc::ptr_eq(&dm, &di) || !matches!(iv, Value::Object(_));
            if !key_ok || !item_ok {
                // Another thread merged the map's graph elsewhere meanwhile: merge again.
                with_two(&m, &k, |_, _, _| ());
                with_two(&m, &i, |_, _, _| ());
                continue;
            }
            let mut st = dm.0.lock();
            let DocState::Live(g) = &mut *st else {
                continue;
            };
            return match mv.as_object().and_then(|id| g.get_mut(id)) {
                Some(Object::Map(entries)) => {
                    match entries.iter_mut().find(|(ek, _)| same_value_zero(ek, &kv)) {
                        Some(e) => e.1 = iv,
                        None => entries.push((kv, iv)),
                    }
                    Ok(())
                }
                _ => Err(wrong_type("a Map")),
            };
        }
    })
}

fn same_value_zero(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

/// Adds `item` to the Set `set` (`set.add(item)`; an existing member is not added again).
/// Ownership: handles stay the caller's. Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (not a Set), `WM_ERR_NULL_ARG`,
/// `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_value_set_add(set: *mut wm_value, item: *const wm_value) -> wm_status {
    guard("wm_value_set_add", || {
        let (s, i) = (value_arg(set, "set")?, value_arg(item, "item")?);
        with_two(&s, &i, |g, sv, iv| {
            match sv.as_object().and_then(|id| g.get_mut(id)) {
                Some(Object::Set(items)) => {
                    if !items.iter().any(|x| same_value_zero(x, iv)) {
                        items.push(iv.clone());
                    }
                    Ok(())
                }
                _ => Err(wrong_type("a Set")),
            }
        })
    })
}

/// Sets the `cause` of the Error `error` to `cause` (referenced as in `wm_value_array_push`).
/// Ownership: handles stay the caller's. Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (not an Error), `WM_ERR_NULL_ARG`,
/// `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_value_error_set_cause(
    error: *mut wm_value,
    cause: *const wm_value,
) -> wm_status {
    guard("wm_value_error_set_cause", || {
        let (e, c) = (value_arg(error, "error")?, value_arg(cause, "cause")?);
        with_two(&e, &c, |g, ev, cv| {
            match ev.as_object().and_then(|id| g.get_mut(id)) {
                Some(Object::Error(err)) => {
                    err.cause = Some(cv.clone());
                    Ok(())
                }
                _ => Err(wrong_type("an Error")),
            }
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Readers.

fn type_of(g: &Graph, v: &Value) -> wm_value_type {
    use wm_value_type::*;
    match v {
        Value::Undefined => WM_VALUE_UNDEFINED,
        Value::Null => WM_VALUE_NULL,
        Value::Bool(_) => WM_VALUE_BOOL,
        Value::Number(_) => WM_VALUE_NUMBER,
        Value::BigInt(_) => WM_VALUE_BIGINT,
        Value::String(_) => WM_VALUE_STRING,
        Value::Object(id) => match g.get(*id) {
            Some(Object::Object(_)) | None => WM_VALUE_OBJECT,
            Some(Object::Array(_)) => WM_VALUE_ARRAY,
            Some(Object::BooleanObject(_)) => WM_VALUE_BOOLEAN_OBJECT,
            Some(Object::NumberObject(_)) => WM_VALUE_NUMBER_OBJECT,
            Some(Object::BigIntObject(_)) => WM_VALUE_BIGINT_OBJECT,
            Some(Object::StringObject(_)) => WM_VALUE_STRING_OBJECT,
            Some(Object::Date(_)) => WM_VALUE_DATE,
            Some(Object::RegExp(_)) => WM_VALUE_REGEXP,
            Some(Object::ArrayBuffer(_)) => WM_VALUE_ARRAY_BUFFER,
            Some(Object::View(_)) => WM_VALUE_VIEW,
            Some(Object::Map(_)) => WM_VALUE_MAP,
            Some(Object::Set(_)) => WM_VALUE_SET,
            Some(Object::Error(_)) => WM_VALUE_ERROR,
            Some(Object::MessagePort(_)) => WM_VALUE_PORT,
        },
    }
}

/// Writes the type of `value` to `*out`. Thread safety: any thread (for all readers).
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_get_type(
    value: *const wm_value,
    out: *mut wm_value_type,
) -> wm_status {
    guard("wm_value_get_type", || {
        let v = value_arg(value, "value")?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let t = with_graph(&v, |g, v| type_of(g, v));
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { out.write(t) };
        Ok(())
    })
}

/// Reads a primitive (or boxed primitive) out of a value with `pick`, writing it through `out`.
fn read<T>(
    value: *const wm_value,
    out: *mut T,
    what: &str,
    pick: impl FnOnce(&Graph, &Value) -> Option<T>,
) -> Res {
    let v = value_arg(value, "value")?;
    if out.is_null() {
        return Err(Failure::null("out"));
    }
    let got = with_graph(&v, |g, v| pick(g, v)).ok_or_else(|| wrong_type(what))?;
    // SAFETY: checked non-null; the caller promises it is writable.
    unsafe { out.write(got) };
    Ok(())
}

/// Reads a boolean (or `new Boolean`) into `*out`.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_get_bool(value: *const wm_value, out: *mut bool) -> wm_status {
    guard("wm_value_get_bool", || {
        read(value, out, "a boolean", |g, v| match v {
            Value::Bool(b) => Some(*b),
            Value::Object(id) => match g.get(*id) {
                Some(Object::BooleanObject(b)) => Some(*b),
                _ => None,
            },
            _ => None,
        })
    })
}

/// Reads a Number (or `new Number`) into `*out`.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_get_number(value: *const wm_value, out: *mut f64) -> wm_status {
    guard("wm_value_get_number", || {
        read(value, out, "a Number", |g, v| match v {
            Value::Number(n) => Some(*n),
            Value::Object(id) => match g.get(*id) {
                Some(Object::NumberObject(n)) => Some(*n),
                _ => None,
            },
            _ => None,
        })
    })
}

/// Reads a Date's time value (ms since the epoch; NaN for an invalid Date) into `*out`.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_get_date(value: *const wm_value, out: *mut f64) -> wm_status {
    guard("wm_value_get_date", || {
        read(value, out, "a Date", |g, v| match g.get(v.as_object()?) {
            Some(Object::Date(t)) => Some(*t),
            _ => None,
        })
    })
}

/// Reads a BigInt (or boxed BigInt) as decimal text into `*out`.
/// Ownership: `*out` is a new string for `wm_string_free` (NULL on failure).
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_get_bigint(
    value: *const wm_value,
    out: *mut *mut c_char,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_get_bigint", || {
        read(value, out, "a BigInt", |g, v| {
            let b = match v {
                Value::BigInt(b) => b,
                Value::Object(id) => match g.get(*id) {
                    Some(Object::BigIntObject(b)) => b,
                    _ => return None,
                },
                _ => return None,
            };
            Some(json::into_c_string(b.to_decimal()))
        })
    })
}

/// Copies out a BigInt (or boxed BigInt) as sign and little-endian magnitude (the wire form):
/// `*negative` (may be NULL) gets the sign, `*len` the magnitude's length in bytes (0 for zero),
/// and when `buf` is not NULL and `cap >= *len`, `buf` the bytes.
/// Ownership: `buf` is caller memory. Returns `WM_OK`, `WM_ERR_INVALID_ARG` (`cap` too small),
/// `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG` (`len`), `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_get_bigint_bytes(
    value: *const wm_value,
    negative: *mut bool,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> wm_status {
    guard("wm_value_get_bigint_bytes", || {
        let v = value_arg(value, "value")?;
        if len.is_null() {
            return Err(Failure::null("len"));
        }
        let b = with_graph(&v, |g, v| match v {
            Value::BigInt(b) => Some(b.clone()),
            Value::Object(id) => match g.get(*id) {
                Some(Object::BigIntObject(b)) => Some(b.clone()),
                _ => None,
            },
            _ => None,
        })
        .ok_or_else(|| wrong_type("a BigInt"))?;
        // SAFETY: the caller passes NULL or a writable pointer.
        unsafe { write_out(negative, b.is_negative()) };
        // SAFETY: the caller promises `buf` holds `cap` bytes.
        unsafe { copy_out(b.magnitude_le(), buf, cap, len) }
    })
}

fn string_of<'g>(g: &'g Graph, v: &'g Value) -> Option<&'g JsString> {
    match v {
        Value::String(s) => Some(s),
        Value::Object(id) => match g.get(*id) {
            Some(Object::StringObject(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// Reads a string (or `new String`) as UTF-8 into a new NUL-terminated string `*out`, its byte
/// length (without the NUL; the text may contain NUL bytes) into `*len` (may be NULL). Lone
/// surrogates have no UTF-8 form and become U+FFFD here; read the exact code units with
/// `wm_value_get_string_utf16`.
/// Ownership: `*out` is a new string for `wm_string_free` (NULL on failure).
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_get_string(
    value: *const wm_value,
    out: *mut *mut c_char,
    len: *mut usize,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_get_string", || {
        let mut n = 0;
        read(value, out, "a string", |g, v| {
            let text = string_of(g, v)?.to_string_lossy();
            n = text.len();
            Some(into_c_bytes(text.into_bytes()))
        })?;
        // SAFETY: the caller passes NULL or a writable pointer.
        unsafe { write_out(len, n) };
        Ok(())
    })
}

/// A NUL-terminated, `malloc`ed copy of bytes that may contain NULs, freed by `wm_string_free`.
pub(crate) fn into_c_bytes(mut bytes: Vec<u8>) -> *mut c_char {
    bytes.push(0);
    // SAFETY: malloc of a non-zero size; checked for NULL below.
    let p = unsafe { libc::malloc(bytes.len()) } as *mut u8;
    if p.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: `p` has room for `bytes.len()` bytes and does not overlap `bytes`.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
    p.cast()
}

/// Copies out a string's UTF-16 code units (exact, lone surrogates included): writes the length
/// in code units to `*len`, and when `buf` is not NULL and `cap >= *len`, the units to `buf`.
/// Call it first with `buf` NULL to learn the length.
/// Ownership: `buf` is caller memory. Returns `WM_OK`, `WM_ERR_INVALID_ARG` (`buf` given but
/// `cap` too small; `*len` still set), `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG` (`len`),
/// `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_get_string_utf16(
    value: *const wm_value,
    buf: *mut u16,
    cap: usize,
    len: *mut usize,
) -> wm_status {
    guard("wm_value_get_string_utf16", || {
        let v = value_arg(value, "value")?;
        if len.is_null() {
            return Err(Failure::null("len"));
        }
        let units = with_graph(&v, |g, v| {
            string_of(g, v).map(|s| s.to_utf16().into_owned())
        })
        .ok_or_else(|| wrong_type("a string"))?;
        // SAFETY: the caller promises `buf` holds `cap` units.
        unsafe { copy_out(&units, buf, cap, len) }
    })
}

/// Copy-out helper: `*len` = n; copy when `buf` is given and large enough.
unsafe fn copy_out<T: Copy>(items: &[T], buf: *mut T, cap: usize, len: *mut usize) -> Res {
    // SAFETY: checked non-null by the callers.
    unsafe { *len = items.len() };
    if buf.is_null() {
        return Ok(());
    }
    if cap < items.len() {
        return Err(Failure::invalid(format!(
            "the buffer holds {cap}, {} are needed",
            items.len()
        )));
    }
    // SAFETY: `buf` has room for `cap >= items.len()` elements (caller promise).
    unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), buf, items.len()) };
    Ok(())
}

/// Copies out the bytes of an ArrayBuffer, or the bytes a typed array or DataView sees: writes
/// the byte length to `*len`, and when `buf` is not NULL and `cap >= *len`, the bytes to `buf`.
/// Ownership: `buf` is caller memory. Returns `WM_OK`, `WM_ERR_INVALID_ARG` (`cap` too small),
/// `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG` (`len`), `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_get_bytes(
    value: *const wm_value,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> wm_status {
    guard("wm_value_get_bytes", || {
        let v = value_arg(value, "value")?;
        if len.is_null() {
            return Err(Failure::null("len"));
        }
        let bytes = with_graph(&v, |g, v| -> Option<Vec<u8>> {
            match g.get(v.as_object()?)? {
                Object::ArrayBuffer(b) => Some(b.data.clone()),
                Object::View(view) => match g.get(view.buffer)? {
                    Object::ArrayBuffer(b) => {
                        let start = view.byte_offset as usize;
                        let end = if view.length_tracking {
                            b.data.len()
                        } else {
                            start + view.byte_length as usize
                        };
                        b.data.get(start..end).map(<[u8]>::to_vec)
                    }
                    _ => None,
                },
                _ => None,
            }
        })
        .ok_or_else(|| wrong_type("an ArrayBuffer or view"))?;
        // SAFETY: the caller promises `buf` holds `cap` bytes.
        unsafe { copy_out(&bytes, buf, cap, len) }
    })
}

/// Describes a typed array or DataView: its kind, a new handle to its ArrayBuffer, and its byte
/// range. Any of the out pointers may be NULL to skip it.
/// Ownership: `*buffer` (if asked) is a new value handle for `wm_value_free`.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_get_view(
    value: *const wm_value,
    kind: *mut wm_view_kind,
    buffer: *mut *mut wm_value,
    byte_offset: *mut usize,
    byte_length: *mut usize,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(buffer, std::ptr::null_mut()) };
    guard("wm_value_get_view", || {
        let v = value_arg(value, "value")?;
        let view = with_graph(&v, |g, val| match g.get(val.as_object()?) {
            Some(Object::View(view)) => Some(view.clone()),
            _ => None,
        })
        .ok_or_else(|| wrong_type("a typed array or DataView"))?;
        if !buffer.is_null() {
            let h = sibling(&v, Value::Object(view.buffer))?;
            // SAFETY: checked non-null; the caller promises it is writable.
            unsafe { *buffer = h };
        }
        // SAFETY: the caller passes NULL or writable pointers.
        unsafe {
            write_out(kind, view_kind_to_c(view.kind));
            write_out(byte_offset, view.byte_offset as usize);
            write_out(byte_length, view.byte_length as usize);
        }
        Ok(())
    })
}

/// Reads a RegExp's source and flag letters into two new strings (either out pointer may be
/// NULL). Ownership: each string is for `wm_string_free`.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_get_regexp(
    value: *const wm_value,
    source: *mut *mut c_char,
    flags: *mut *mut c_char,
) -> wm_status {
    // SAFETY: the caller passes NULL or writable pointers.
    unsafe {
        write_out(source, std::ptr::null_mut());
        write_out(flags, std::ptr::null_mut());
    }
    guard("wm_value_get_regexp", || {
        let v = value_arg(value, "value")?;
        let r = with_graph(&v, |g, val| match g.get(val.as_object()?) {
            Some(Object::RegExp(r)) => Some(r.clone()),
            _ => None,
        })
        .ok_or_else(|| wrong_type("a RegExp"))?;
        // SAFETY: the caller passes NULL or writable pointers.
        unsafe {
            if !source.is_null() {
                *source = into_c_bytes(r.source.to_string_lossy().into_bytes());
            }
            if !flags.is_null() {
                *flags = json::into_c_string(r.flags.to_string());
            }
        }
        Ok(())
    })
}

/// Reads an Error's name (`"TypeError"`...) and message (NULL when it has none) into new
/// strings, and a new handle to its `cause` (undefined when none) — each out pointer may be NULL.
/// Ownership: strings for `wm_string_free`, `*cause` for `wm_value_free`.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_get_error(
    value: *const wm_value,
    name: *mut *mut c_char,
    message: *mut *mut c_char,
    cause: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or writable pointers.
    unsafe {
        write_out(name, std::ptr::null_mut());
        write_out(message, std::ptr::null_mut());
        write_out(cause, std::ptr::null_mut());
    }
    guard("wm_value_get_error", || {
        let v = value_arg(value, "value")?;
        let e = with_graph(&v, |g, val| match g.get(val.as_object()?) {
            Some(Object::Error(e)) => Some(e.clone()),
            _ => None,
        })
        .ok_or_else(|| wrong_type("an Error"))?;
        if !cause.is_null() {
            let h = sibling(&v, e.cause.clone().unwrap_or_default())?;
            // SAFETY: checked non-null; the caller promises it is writable.
            unsafe { *cause = h };
        }
        // SAFETY: the caller passes NULL or writable pointers.
        unsafe {
            if !name.is_null() {
                *name = json::into_c_string(e.name.as_str().to_string());
            }
            if !message.is_null() {
                if let Some(m) = &e.message {
                    *message = into_c_bytes(m.to_string_lossy().into_bytes());
                }
            }
        }
        Ok(())
    })
}

/// Writes a length to `*out`: an array's `length`, a plain object's number of properties, a
/// Map's or Set's size, a string's length in UTF-16 code units, an ArrayBuffer's byte length.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (other types), `WM_ERR_NULL_ARG`,
/// `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_length(value: *const wm_value, out: *mut usize) -> wm_status {
    guard("wm_value_length", || {
        read(
            value,
            out,
            "an array, object, Map, Set, string or ArrayBuffer",
            |g, v| match v {
                Value::String(s) => Some(s.len()),
                Value::Object(id) => match g.get(*id)? {
                    Object::Array(a) => Some(a.length() as usize),
                    Object::Object(p) => Some(p.len()),
                    Object::Map(m) => Some(m.len()),
                    Object::Set(s) => Some(s.len()),
                    Object::StringObject(s) => Some(s.len()),
                    Object::ArrayBuffer(b) => Some(b.data.len()),
                    _ => None,
                },
                _ => None,
            },
        )
    })
}

/// Writes a new handle to element `index` of the array `array` to `*out` (undefined for a hole).
/// Ownership: `*out` is for `wm_value_free` (NULL on failure). It refers to the same object as
/// the element, not a copy.
/// Returns `WM_OK`, `WM_ERR_INVALID_ARG` (index >= length), `WM_ERR_WRONG_TYPE`,
/// `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_array_get(
    array: *const wm_value,
    index: usize,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_array_get", || {
        let a = value_arg(array, "array")?;
        let item = with_graph(&a, |g, v| match v.as_object().and_then(|id| g.get(id)) {
            Some(Object::Array(arr)) => {
                if index as u64 >= arr.length() {
                    return Err(Failure::invalid(format!(
                        "index {index} >= length {}",
                        arr.length()
                    )));
                }
                Ok(u32::try_from(index)
                    .ok()
                    .and_then(|i| arr.get(i))
                    .cloned()
                    .unwrap_or_default())
            }
            _ => Err(wrong_type("an array")),
        })?;
        out_handle!(out, sibling(&a, item))
    })
}

/// Reads property number `index` (in order) of the plain object `object`: a new key string
/// (`*key`, for `wm_string_free`; lone surrogates become U+FFFD) and a new value handle (`*item`,
/// for `wm_value_free`). Either out pointer may be NULL.
/// Returns `WM_OK`, `WM_ERR_INVALID_ARG` (index out of range), `WM_ERR_WRONG_TYPE`,
/// `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_object_entry(
    object: *const wm_value,
    index: usize,
    key: *mut *mut c_char,
    item: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or writable pointers.
    unsafe {
        write_out(key, std::ptr::null_mut());
        write_out(item, std::ptr::null_mut());
    }
    guard("wm_value_object_entry", || {
        let o = value_arg(object, "object")?;
        let (k, v) = with_graph(&o, |g, v| match v.as_object().and_then(|id| g.get(id)) {
            Some(Object::Object(props)) => props.get(index).cloned().ok_or_else(|| {
                Failure::invalid(format!("index {index} >= {} properties", props.len()))
            }),
            _ => Err(wrong_type("a plain object")),
        })?;
        if !item.is_null() {
            let h = sibling(&o, v)?;
            // SAFETY: checked non-null; the caller promises it is writable.
            unsafe { *item = h };
        }
        if !key.is_null() {
            // SAFETY: checked non-null; the caller promises it is writable.
            unsafe { *key = into_c_bytes(k.to_string_lossy().into_bytes()) };
        }
        Ok(())
    })
}

/// Writes a new handle to property `key` (NUL-terminated UTF-8) of the plain object `object`.
/// Ownership: `*out` for `wm_value_free` (NULL on failure).
/// Returns `WM_OK`, `WM_ERR_EMPTY` (no such property), `WM_ERR_WRONG_TYPE`,
/// `WM_ERR_INVALID_ARG` (key not UTF-8), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_object_get(
    object: *const wm_value,
    key: *const c_char,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_object_get", || {
        let o = value_arg(object, "object")?;
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let key = unsafe { json::str_arg(key, "key")? };
        let v = with_graph(&o, |g, v| match v.as_object().and_then(|id| g.get(id)) {
            Some(Object::Object(props)) => props
                .iter()
                .find(|(k, _)| k.eq_str(key))
                .map(|(_, v)| v.clone())
                .ok_or_else(|| Failure::new(WM_ERR_EMPTY, format!("no property {key:?}"))),
            _ => Err(wrong_type("a plain object")),
        })?;
        out_handle!(out, sibling(&o, v))
    })
}

/// Reads entry number `index` (in insertion order) of the Map `map` as two new handles, either
/// out pointer may be NULL. Ownership: handles for `wm_value_free`.
/// Returns `WM_OK`, `WM_ERR_INVALID_ARG` (index out of range), `WM_ERR_WRONG_TYPE`,
/// `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_map_entry(
    map: *const wm_value,
    index: usize,
    key: *mut *mut wm_value,
    item: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or writable pointers.
    unsafe {
        write_out(key, std::ptr::null_mut());
        write_out(item, std::ptr::null_mut());
    }
    guard("wm_value_map_entry", || {
        let m = value_arg(map, "map")?;
        let (k, v) = with_graph(&m, |g, v| match v.as_object().and_then(|id| g.get(id)) {
            Some(Object::Map(entries)) => entries.get(index).cloned().ok_or_else(|| {
                Failure::invalid(format!("index {index} >= {} entries", entries.len()))
            }),
            _ => Err(wrong_type("a Map")),
        })?;
        let kh = if key.is_null() {
            None
        } else {
            Some(sibling(&m, k)?)
        };
        let vh = if item.is_null() {
            None
        } else {
            Some(sibling(&m, v)?)
        };
        // SAFETY: the caller passes NULL or writable pointers.
        unsafe {
            if let Some(h) = kh {
                *key = h;
            }
            if let Some(h) = vh {
                *item = h;
            }
        }
        Ok(())
    })
}

/// Writes a new handle to member number `index` (in insertion order) of the Set `set`.
/// Ownership: `*out` for `wm_value_free`.
/// Returns `WM_OK`, `WM_ERR_INVALID_ARG` (index out of range), `WM_ERR_WRONG_TYPE`,
/// `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_set_get(
    set: *const wm_value,
    index: usize,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_set_get", || {
        let s = value_arg(set, "set")?;
        let v = with_graph(&s, |g, v| match v.as_object().and_then(|id| g.get(id)) {
            Some(Object::Set(items)) => items.get(index).cloned().ok_or_else(|| {
                Failure::invalid(format!("index {index} >= {} members", items.len()))
            }),
            _ => Err(wrong_type("a Set")),
        })?;
        out_handle!(out, sibling(&s, v))
    })
}

/// Writes a new port handle for a MessagePort value (one received inside a message's data) to
/// `*out`. It is the same port as the message's transferred port (`wm_message_take_port`).
/// Ownership: `*out` for `wm_port_free`.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_get_port(
    value: *const wm_value,
    out: *mut *mut wm_port,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard("wm_value_get_port", || {
        let v = value_arg(value, "value")?;
        let p = with_graph(&v, |g, val| match g.get(val.as_object()?) {
            Some(Object::MessagePort(p)) => Some(p.clone()),
            _ => None,
        })
        .ok_or_else(|| wrong_type("a MessagePort"))?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let h = new_port_handle(p)?;
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { *out = h };
        Ok(())
    })
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
    guard("wm_value_same", || {
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
    guard("wm_value_to_json", || {
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
    guard("wm_value_free", || {
        if value.is_null() {
            return Ok(());
        }
        drop(VALUES.remove(value as usize)?);
        Ok(())
    })
}
