//! Constructors: `wm_value_new_*` for every type of the value model, and `wm_value_from_json`.

use std::ffi::c_char;

use webmessaging_core::clone::{
    Array, ArrayBuffer, ArrayBufferView, ErrorName, ErrorObject, JsBigInt, JsString, Object,
    RegExp, RegExpFlags, Value,
};

use super::graph::{with_graph, Doc};
use super::*;
use crate::port::{port_arg, wm_port};

/// Creates `undefined`. Ownership: `*out` is a new value owned by the caller (`wm_value_free`).
/// All `wm_value_new_*` functions set `*out` to NULL on failure and are thread-safe.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_undefined(out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        out_handle!(out, new_primitive(Value::Undefined))
    })
}

/// Creates `null`. Ownership and statuses: as `wm_value_new_undefined`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_null(out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || out_handle!(out, new_primitive(Value::Null)))
}

/// Creates a boolean. Ownership and statuses: as `wm_value_new_undefined`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_bool(b: bool, out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || out_handle!(out, new_primitive(Value::Bool(b))))
}

/// Creates a Number (any double: -0, NaN and infinities survive a post).
/// Ownership and statuses: as `wm_value_new_undefined`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_number(n: f64, out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
        out_handle!(out, new_object(Object::Object(Vec::new())))
    })
}

/// Creates an empty array (`[]`). Ownership and statuses: as `wm_value_new_undefined`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_array(out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        out_handle!(out, new_object(Object::Array(Array::dense(Vec::new()))))
    })
}

/// Creates an empty Map. Ownership and statuses: as `wm_value_new_undefined`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_map(out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        out_handle!(out, new_object(Object::Map(Vec::new())))
    })
}

/// Creates an empty Set. Ownership and statuses: as `wm_value_new_undefined`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_set(out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        out_handle!(out, new_object(Object::Set(Vec::new())))
    })
}

/// Creates a Date from its time value in milliseconds since the epoch (NaN: an invalid Date).
/// Ownership and statuses: as `wm_value_new_undefined`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_new_date(ms: f64, out: *mut *mut wm_value) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || out_handle!(out, new_object(Object::Date(ms))))
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
    guard(here!(), || {
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
    guard(here!(), || {
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
        out_handle!(out, new_object(Object::Error(Box::new(e))))
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
    guard(here!(), || {
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
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (`buffer` is not an ArrayBuffer), `WM_ERR_INVALID_STATE`
/// (`buffer` is detached), `WM_ERR_INVALID_ARG`
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
    guard(here!(), || {
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
            if ab.detached {
                return Err(Failure::new(
                    WM_ERR_INVALID_STATE,
                    "the ArrayBuffer is detached (it was transferred away)",
                ));
            }
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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let text = unsafe { json::str_arg(text, "text")? };
        let mut g = json::graph_from_json(text)?;
        let root = std::mem::take(&mut g.root);
        out_handle!(out, insert(Doc::new(g), root))
    })
}
