//! Readers: the type of a value, its primitives, strings, bytes and the members of its
//! containers.

use std::ffi::c_char;

use webmessaging_core::clone::{Graph, JsString, Object, Value};

use super::graph::with_graph;
use super::*;
use crate::port::{new_port_handle, wm_port};

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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
        let v = value_arg(value, "value")?;
        if len.is_null() {
            return Err(Failure::null("len"));
        }
        let bytes = with_graph(&v, |g, v| -> Option<Vec<u8>> {
            match g.get(v.as_object()?)? {
                Object::ArrayBuffer(b) => Some(b.data.clone()),
                Object::View(view) => match g.get(view.buffer)? {
                    // A view of a detached buffer sees no bytes (its byteLength is 0).
                    Object::ArrayBuffer(b) if b.detached => Some(Vec::new()),
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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
        let v = value_arg(value, "value")?;
        let e = with_graph(&v, |g, val| match g.get(val.as_object()?) {
            Some(Object::Error(e)) => Some((**e).clone()),
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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
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
/// Returns `WM_OK`, `WM_ERR_NOT_FOUND` (no such property), `WM_ERR_WRONG_TYPE`,
/// `WM_ERR_INVALID_ARG` (key not UTF-8), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_object_get(
    object: *const wm_value,
    key: *const c_char,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        let o = value_arg(object, "object")?;
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let key = unsafe { json::str_arg(key, "key")? };
        let v = with_graph(&o, |g, v| match v.as_object().and_then(|id| g.get(id)) {
            Some(Object::Object(props)) => props
                .iter()
                .find(|(k, _)| k.eq_str(key))
                .map(|(_, v)| v.clone())
                .ok_or_else(|| Failure::new(WM_ERR_NOT_FOUND, format!("no property {key:?}"))),
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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
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
