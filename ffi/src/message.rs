//! `wm_message_*`: a received message and what can be taken out of it.

use std::ffi::{c_char, CString};
use std::time::Duration;

use parking_lot::Mutex;
use webmessaging_core::{ArrayBufferContents, Message, MessageEvent, MessagePort, WindowProxy};

use crate::handle::{DropInSlot, Kind, Table};
use crate::hazard::Local;
use crate::port::{new_port_handle, wm_port};
use crate::status::*;
use crate::value::wm_value;
use crate::{json, value};

/// A received message: its serialized value, its transferred ports and ArrayBuffers.
///
/// An opaque handle owned by whoever received it (`wm_port_try_recv`, `wm_port_recv`); release it
/// with `wm_message_free`. Inside an `onmessage` callback the message is lent to the callback and
/// freed by the loop afterwards.
pub struct wm_message {
    _private: [u8; 0],
}

pub(crate) struct MessageObj {
    pub(crate) data: Vec<u8>,
    /// Everything but the bytes, boxed and present only when there is something in it: a
    /// plain port message is 32 bytes to move into its handle slot and one check to drop.
    extra: Option<Box<Extra>>,
}

/// What a message may carry besides its bytes.
#[derive(Default)]
struct Extra {
    array_buffers: Vec<ArrayBufferContents>,
    /// The transferred ports, moved from the event as they are. The message keeps its own
    /// reference to every port, taken or not (a decoded value refers to the same ports); the
    /// port is dropped when the last reference (message, handle, value) goes.
    ports: Vec<MessagePort>,
    /// Which ports were taken (`wm_message_take_port`), by index; empty until the first take.
    taken: Mutex<Vec<bool>>,
    /// The sender's serialized origin (window and broadcast messages; `None`, read as `""`,
    /// for ports).
    origin: Option<CString>,
    /// The sending window, for window messages (weak: it may be gone).
    source: Option<WindowProxy>,
}

impl MessageObj {
    /// A received event as a message. A port's events have an empty origin, kept as `None`
    /// (every other origin is non-empty, `"null"` at least).
    pub(crate) fn from_event(e: MessageEvent) -> Self {
        let origin = (!e.origin.is_empty()).then(|| CString::new(e.origin).unwrap_or_default());
        MessageObj::with_extra(
            e.data,
            Extra {
                array_buffers: e.array_buffers,
                ports: e.ports,
                taken: Mutex::new(Vec::new()),
                origin,
                source: e.source,
            },
        )
    }

    /// A port's message as a message, without building an event first (the receive hot path).
    #[inline]
    pub(crate) fn from_message(m: Message) -> Self {
        if m.array_buffers.is_empty() && m.ports.is_empty() {
            return MessageObj {
                data: m.data,
                extra: None,
            };
        }
        MessageObj::with_extra(
            m.data,
            Extra {
                array_buffers: m.array_buffers,
                ports: m.ports,
                ..Extra::default()
            },
        )
    }

    #[cold]
    fn with_extra(data: Vec<u8>, extra: Extra) -> Self {
        let empty = extra.array_buffers.is_empty()
            && extra.ports.is_empty()
            && extra.origin.is_none()
            && extra.source.is_none();
        MessageObj {
            data,
            extra: (!empty).then(|| Box::new(extra)),
        }
    }

    /// The transferred ports, in transfer-list order.
    fn ports(&self) -> &[MessagePort] {
        self.extra.as_ref().map_or(&[], |e| &e.ports)
    }

    pub(crate) fn port_clones(&self) -> Vec<MessagePort> {
        self.ports().to_vec()
    }

    /// The transferred ArrayBuffers' contents, in transfer-list order.
    pub(crate) fn array_buffers(&self) -> &[ArrayBufferContents] {
        self.extra.as_ref().map_or(&[], |e| &e.array_buffers)
    }
}

impl DropInSlot for MessageObj {
    /// A message of bytes only drops just its bytes: the drop glue would also call out of line
    /// to drop the (empty) extras, on every `wm_message_free`.
    #[inline]
    fn drop_in_slot(slot: &mut Option<Self>) -> bool {
        let p: *mut Option<Self> = slot;
        // SAFETY: `p` is the exclusive `slot`. When the message has no extras its bytes are
        // its only owned part: they are dropped once, then `None` is written over the message
        // without dropping it again (its `extra` is `None`, which owns nothing).
        unsafe {
            if let Some(m) = &mut *p {
                if m.extra.is_none() {
                    std::ptr::drop_in_place(&mut m.data);
                    p.write(None);
                    return true;
                }
            }
            let had = (*p).is_some();
            *p = None;
            had
        }
    }
}

pub(crate) static MESSAGES: Table<MessageObj, { Kind::Message as u8 }> = Table::new();

pub(crate) fn insert_message(m: MessageObj) -> Res<*mut wm_message> {
    Ok(MESSAGES.insert(m)? as *mut wm_message)
}

/// Issues a handle for a message of bytes only, given as the raw parts of its `Vec`: they travel
/// in registers and the message is made right in its slot (the receive hot path). `local`: the
/// thread's `Local` if the caller has it (see `Table::with_local`).
///
/// # Safety
/// `(ptr, len, cap)` are the raw parts of a `Vec<u8>` whose ownership passes here.
#[inline(always)]
pub(crate) unsafe fn insert_plain(
    local: Option<&Local>,
    ptr: *mut u8,
    len: usize,
    cap: usize,
) -> Res<*mut wm_message> {
    let make = || MessageObj {
        // SAFETY: the caller passes the parts of a `Vec<u8>` it gave up.
        data: unsafe { Vec::from_raw_parts(ptr, len, cap) },
        extra: None,
    };
    match MESSAGES.insert_with(local, make) {
        Ok(h) => Ok(h as *mut wm_message),
        Err((f, make)) => {
            drop(make());
            Err(f)
        }
    }
}

/// A C timeout in milliseconds, read the same way by every call that takes one: negative waits
/// without limit (`None`), 0 does not wait, positive waits up to that long.
pub(crate) fn timeout_arg(timeout_ms: i64) -> Option<Duration> {
    (timeout_ms >= 0).then(|| Duration::from_millis(timeout_ms as u64))
}

/// Runs `f` on the message behind `m` (under its slot's lock; `f` must not use the message
/// table).
pub(crate) fn with_message<R>(
    m: *const wm_message,
    name: &str,
    f: impl FnOnce(&MessageObj) -> Res<R>,
) -> Res<R> {
    if m.is_null() {
        return Err(Failure::null(name));
    }
    MESSAGES.with(m as usize, f)?
}

/// Writes the number of ports the message carries (its `event.ports.length`, R-CH-11/30),
/// counting ports already taken, into `*out`.
///
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_message_port_count(
    msg: *const wm_message,
    out: *mut usize,
) -> wm_status {
    guard(here!(), || {
        with_message(msg, "msg", |m| {
            if out.is_null() {
                return Err(Failure::null("out"));
            }
            let n = m.ports().len();
            // SAFETY: checked non-null; the caller promises it is writable.
            unsafe { out.write(n) };
            Ok(())
        })
    })
}

/// Takes transferred port number `i` (in transfer-list order) out of the message as a new
/// handle. The port is entangled with its old peer (R-CH-25), not started (R-CH-28), and its
/// backlog came with it (R-CH-26). A port that is never taken is dropped with the message (its
/// peer gets a `WM_CLOSE_DROPPED` notice).
///
/// Ownership: on `WM_OK`, `*out` is a new port handle owned by the caller (`wm_port_free`); on
/// failure `*out` is NULL. Each port can be taken once.
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_INVALID_ARG` (`i` out of range), `WM_ERR_INVALID_STATE` (already
/// taken), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_message_take_port(
    msg: *mut wm_message,
    i: usize,
    out: *mut *mut wm_port,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        with_message(msg, "msg", |m| {
            if out.is_null() {
                return Err(Failure::null("out"));
            }
            let n = m.ports().len();
            let (port, extra) = match (m.ports().get(i), &m.extra) {
                (Some(p), Some(e)) => (p, e),
                _ => {
                    return Err(Failure::invalid(format!(
                        "port index {i} is out of range (the message has {n})"
                    )))
                }
            };
            {
                let mut taken = extra.taken.lock();
                taken.resize(n, false);
                if std::mem::replace(&mut taken[i], true) {
                    return Err(Failure::new(
                        WM_ERR_INVALID_STATE,
                        format!("port {i} was already taken"),
                    ));
                }
            }
            let port = port.clone();
            let h = new_port_handle(port)?;
            // SAFETY: checked non-null; the caller promises it is writable.
            unsafe { *out = h };
            Ok(())
        })
    })
}

/// Lends out the message's serialized value (wire format) as `*data`/`*len`, for forwarding it
/// with `wm_port_post_serialized` or decoding it yourself.
///
/// Ownership: the bytes belong to the message and stay valid until `wm_message_free`; do not
/// free or modify them. Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_message_serialized(
    msg: *const wm_message,
    data: *mut *const u8,
    len: *mut usize,
) -> wm_status {
    guard(here!(), || {
        with_message(msg, "msg", |m| {
            if data.is_null() {
                return Err(Failure::null("data"));
            }
            if len.is_null() {
                return Err(Failure::null("len"));
            }
            // SAFETY: checked non-null; the caller promises they are writable. The bytes live in the
            // message object, which the handle table keeps alive until `wm_message_free`.
            unsafe {
                *data = m.data.as_ptr();
                *len = m.data.len();
            }
            Ok(())
        })
    })
}

/// Decodes the message's value and writes it as JSON text (UTF-8, NUL-terminated) to `*out`.
///
/// Mapping (strict, never lossy in silence): `null`, booleans, finite numbers, strings, dense
/// arrays and plain objects map to JSON (`-0` is written `-0`; a string's lone surrogates are
/// written as `\uXXXX` escapes). `undefined`, NaN and infinities, BigInt, Date, RegExp, Map, Set,
/// ArrayBuffers and views, Errors, boxed primitives, sparse arrays, arrays with extra properties
/// and cycles have no JSON form: `WM_ERR_DATA_CLONE` (use `wm_message_value` for those).
/// A value reached twice (a shared reference without a cycle) is written twice, within a
/// budget: the text may be at most `WM_JSON_BASE_BYTES` (1 MiB) plus `WM_JSON_BYTES_PER_UNIT`
/// (8) bytes per unit of the value's size (4 units per object, element, property and entry, 1
/// per string code unit, each counted once however often it is referenced). Every value
/// without shared references fits; one whose shared references expand past the budget is
/// `WM_ERR_DATA_CLONE`, with `wm_last_error` saying so.
///
/// Ownership: on `WM_OK`, `*out` is a new string owned by the caller; free it with
/// `wm_string_free`. On failure `*out` is NULL. Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_DECODE` (malformed bytes, the standard's `messageerror`, or sparse
/// arrays past their budget, see `wm_message_value`), `WM_ERR_DATA_CLONE` (no JSON form, or
/// past the JSON budget), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_message_to_json(
    msg: *const wm_message,
    out: *mut *mut c_char,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        with_message(msg, "msg", |m| {
            if out.is_null() {
                return Err(Failure::null("out"));
            }
            let g = value::decode_message(m)?;
            let text = json::graph_to_json(&g, &g.root)?;
            // SAFETY: checked non-null; the caller promises it is writable.
            unsafe { *out = json::into_c_string(text) };
            Ok(())
        })
    })
}

/// Decodes the message's value into a new value tree (every type of the value model, see the
/// `wm_value_*` functions).
///
/// A sparse array is a length with only its present elements behind it, so a few bytes can
/// claim millions of elements. The lengths of a message's sparse arrays may add up to at most
/// 2^20 plus 16 per byte of the message; past that the message is refused with `WM_ERR_DECODE`.
///
/// Ownership: on `WM_OK`, `*out` is a new value owned by the caller (`wm_value_free`); on
/// failure `*out` is NULL. Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_DECODE` (malformed bytes, or sparse arrays past their budget),
/// `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_message_value(
    msg: *const wm_message,
    out: *mut *mut wm_value,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        with_message(msg, "msg", |m| {
            if out.is_null() {
                return Err(Failure::null("out"));
            }
            let v = value::value_from_message(m)?;
            // SAFETY: checked non-null; the caller promises it is writable.
            unsafe { *out = v };
            Ok(())
        })
    })
}

/// Lends out the message's origin: the sender's serialized origin for window and broadcast
/// messages (`"https://a.test"`, or `"null"` for an opaque origin; it comes from the sending
/// window or channel, never from the sender's data — check it before trusting the data), and
/// `""` for port messages (R-CH-11).
///
/// Ownership: the string belongs to the message (valid until `wm_message_free`).
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_message_origin(
    msg: *const wm_message,
    out: *mut *const c_char,
) -> wm_status {
    guard(here!(), || {
        with_message(msg, "msg", |m| {
            if out.is_null() {
                return Err(Failure::null("out"));
            }
            // SAFETY: checked non-null; the string lives in the message object, which the handle
            // table keeps alive until `wm_message_free`.
            unsafe {
                *out = m
                    .extra
                    .as_ref()
                    .and_then(|e| e.origin.as_deref())
                    .map_or(c"".as_ptr(), std::ffi::CStr::as_ptr)
            };
            Ok(())
        })
    })
}

/// Writes a new handle to the window that sent this window message (its `event.source`), to
/// reply with `wm_window_post`.
///
/// Ownership: on `WM_OK`, `*out` is a new window handle owned by the caller (`wm_window_free`);
/// otherwise NULL. Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_NOT_FOUND` (not a window message, or the sending window is gone),
/// `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_message_source(
    msg: *const wm_message,
    out: *mut *mut crate::window::wm_window,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        with_message(msg, "msg", |m| {
            if out.is_null() {
                return Err(Failure::null("out"));
            }
            let w = m
                .extra
                .as_ref()
                .and_then(|e| e.source.as_ref())
                .and_then(WindowProxy::window)
                .ok_or_else(|| {
                    Failure::new(
                        WM_ERR_NOT_FOUND,
                        "the message has no source window (any more)",
                    )
                })?;
            let h = crate::window::new_window_handle(w)?;
            // SAFETY: checked non-null; the caller promises it is writable.
            unsafe { *out = h };
            Ok(())
        })
    })
}

/// Releases a message and every port in it that was not taken (those ports are dropped: their
/// peers get a `WM_CLOSE_DROPPED` notice).
///
/// Ownership: consumes the handle; bytes lent by `wm_message_serialized` become invalid.
/// Accepts NULL (does nothing, returns `WM_OK`). Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_INVALID_HANDLE` (already freed or never issued), `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_message_free(msg: *mut wm_message) -> wm_status {
    guard(here!(), || {
        if msg.is_null() {
            return Ok(());
        }
        MESSAGES.free(msg as usize)?;
        Ok(())
    })
}

pub(crate) fn live() -> usize {
    MESSAGES.live()
}
