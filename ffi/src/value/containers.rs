//! Linking values into containers: arrays, plain objects, Maps, Sets and Error causes. An
//! object is referenced, not copied: its graph merges into the container's.

use std::ffi::c_char;
use std::sync::Arc;

use webmessaging_core::clone::{Elements, JsString, Object, Value};

use super::graph::{resolve, with_two, DocState};
use super::*;

/// Appends `item` to the array `array` (`array.push(item)`). If `item` is an object it is
/// referenced, not copied: its graph is merged into the array's, so pushing one object twice
/// makes a shared reference and pushing an array into itself a cycle.
/// Ownership: both handles stay the caller's. Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (not an array), `WM_ERR_NULL_ARG`,
/// `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_value_array_push(array: *mut wm_value, item: *const wm_value) -> wm_status {
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
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
    guard(here!(), || {
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
