//! `wm_window_*`: origin-checked `window.postMessage` between window stand-ins.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use webmessaging_core::clone::{self, Transferable};
use webmessaging_core::{MessageEventTarget, MessagePort, Origin, Payload, TargetOrigin, Window};

use crate::event_loop::{self, take_registration, Callbacks, Source, Watch};
use crate::handle::{Kind, Table};
use crate::message::wm_message;
use crate::port::{transfer_arg, wm_port, PortObj};
use crate::receive::{self, Receiver, Wait};
use crate::status::*;
use crate::value::{self, wm_value};
use crate::{event_loop::wm_finalizer, event_loop::wm_loop, json};

/// A window stand-in (a browsing context): an origin and an always-enabled event queue.
///
/// An opaque handle: create it with `wm_window_new` (or get the sender of a message with
/// `wm_message_source`), release it with `wm_window_free`. The window exists while any handle to
/// it does; messages posted to a window that no longer exists are dropped silently.
pub struct wm_window {
    _private: [u8; 0],
}

/// `onmessage` for windows: called by `wm_loop_dispatch` for each message delivered to an
/// attached window (after its origin check). `message` is lent as for ports; read its origin
/// with `wm_message_origin` and its sender with `wm_message_source`.
pub type wm_window_message_cb = Option<
    unsafe extern "C" fn(userdata: *mut c_void, window: *mut wm_window, message: *mut wm_message),
>;

pub(crate) struct WindowObj {
    window: Window,
    watch: Watch,
}

impl Receiver for WindowObj {
    fn target(&self) -> &dyn MessageEventTarget {
        &self.window
    }
}

impl Source for WindowObj {
    fn watch(&self) -> &Watch {
        &self.watch
    }
}

static WINDOWS: Table<Arc<WindowObj>, { Kind::Window as u8 }> = Table::new();

pub(crate) fn live() -> usize {
    WINDOWS.live()
}

pub(crate) fn new_window_handle(window: Window) -> Res<*mut wm_window> {
    Ok(WINDOWS.insert(Arc::new(WindowObj {
        window,
        watch: Watch::default(),
    }))? as *mut wm_window)
}

fn window_arg(w: *const wm_window, name: &str) -> Res<Arc<WindowObj>> {
    if w.is_null() {
        return Err(Failure::null(name));
    }
    WINDOWS.get(w as usize)
}

/// Parses an origin argument: NULL means a new opaque origin.
unsafe fn origin_arg(origin: *const c_char) -> Res<Origin> {
    if origin.is_null() {
        return Ok(Origin::opaque());
    }
    // SAFETY: forwarded caller promise (NUL-terminated).
    let text = unsafe { json::str_arg(origin, "origin")? };
    Ok(Origin::parse(text)?)
}

/// Creates a window whose document has the origin of the URL `origin` (NUL-terminated UTF-8,
/// parsed by the WHATWG URL rules: `"https://app.test/page"` gives `https://app.test`), or a new
/// opaque origin when `origin` is NULL.
///
/// Ownership: on `WM_OK`, `*out` is a new handle owned by the caller (`wm_window_free`).
/// Thread safety: any thread; windows may be used from any thread.
/// Returns `WM_OK`, `WM_ERR_SYNTAX` (not a URL), `WM_ERR_INVALID_ARG` (not UTF-8),
/// `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_window_new(
    origin: *const c_char,
    out: *mut *mut wm_window,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let origin = unsafe { origin_arg(origin)? };
        let h = new_window_handle(Window::new(origin))?;
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { *out = h };
        Ok(())
    })
}

/// Writes the window's current origin, serialized (`"https://app.test"`, `"null"` if opaque), to
/// a new string `*out` (for `wm_string_free`).
/// Thread safety: any thread. Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`,
/// `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_window_get_origin(
    window: *const wm_window,
    out: *mut *mut c_char,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        let w = window_arg(window, "window")?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { *out = json::into_c_string(w.window.origin().ascii_serialization()) };
        Ok(())
    })
}

/// Navigates the window to a document of the URL `origin`'s origin (NULL: a new opaque
/// origin). Messages already queued are checked against the new origin when they are delivered
/// (R-WIN-8). Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_SYNTAX`, `WM_ERR_INVALID_ARG`, `WM_ERR_NULL_ARG`,
/// `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_window_navigate(
    window: *mut wm_window,
    origin: *const c_char,
) -> wm_status {
    guard(here!(), || {
        let w = window_arg(window, "window")?;
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let origin = unsafe { origin_arg(origin)? };
        w.window.navigate(origin);
        Ok(())
    })
}

fn post_to(
    target: &WindowObj,
    source: &WindowObj,
    target_origin: &TargetOrigin,
    payload: Payload,
    transfer: &[Arc<PortObj>],
) -> Res {
    let ports: Vec<MessagePort> = transfer.iter().map(|p| p.port.clone()).collect();
    target
        .window
        .post_message_to(payload, target_origin, &ports, &source.window)?;
    drop(ports);
    let regs: Vec<_> = transfer
        .iter()
        .filter_map(|p| take_registration(&**p))
        .collect();
    drop(regs);
    Ok(())
}

/// `target.postMessage(value, targetOrigin, transfer)` sent by the window `source` (the caller's
/// own window: the event carries its origin and a reference to it).
///
/// In the standard's order: `target_origin` (NUL-terminated UTF-8) is resolved — `"*"` means no
/// check, `"/"` the source's origin, anything else must parse as a URL (`WM_ERR_SYNTAX`, nothing
/// else happens); then the value is serialized with the transfer list (`WM_ERR_DATA_CLONE`) and
/// the ports are detached; the message is queued. The origin check runs at delivery against
/// the target's origin at that time: a mismatch drops the message silently (R-WIN-8, R-WIN-9).
/// A NULL `value` posts `undefined`.
///
/// Ownership: everything is borrowed; transferred port handles stay valid but detached.
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_SYNTAX`, `WM_ERR_DATA_CLONE`, `WM_ERR_INVALID_ARG` (not UTF-8),
/// `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_window_post(
    target: *mut wm_window,
    value: *const wm_value,
    target_origin: *const c_char,
    transfer: *const *mut wm_port,
    n: usize,
    source: *const wm_window,
) -> wm_status {
    guard(here!(), || {
        let t = window_arg(target, "target")?;
        let s = window_arg(source, "source")?;
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let to = unsafe { json::str_arg(target_origin, "target_origin")? };
        // SAFETY: forwarded caller promise about `transfer`.
        let ports = unsafe { transfer_arg(transfer, n)? };
        let to = TargetOrigin::parse(to, &s.window.origin())?;
        let payload = value::serialize(value, &ports)?;
        post_to(&t, &s, &to, payload, &ports)
    })
}

/// Like `wm_window_post` with the value given as JSON text (see `wm_port_post_json_transfer`
/// for the mapping) and no transfer list.
/// Returns `WM_OK`, `WM_ERR_SYNTAX` (bad target origin or malformed JSON),
/// `WM_ERR_INVALID_ARG` (not UTF-8), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_window_post_json(
    target: *mut wm_window,
    json_text: *const c_char,
    target_origin: *const c_char,
    source: *const wm_window,
) -> wm_status {
    guard(here!(), || {
        let t = window_arg(target, "target")?;
        let s = window_arg(source, "source")?;
        // SAFETY: the caller passes NULL or NUL-terminated strings.
        let (to, text) = unsafe {
            (
                json::str_arg(target_origin, "target_origin")?,
                json::str_arg(json_text, "json")?,
            )
        };
        let to = TargetOrigin::parse(to, &s.window.origin())?;
        let graph = json::graph_from_json(text)?;
        let payload = Payload::from(clone::encode_with(
            &graph,
            &Default::default(),
            &[] as &[Transferable],
        )?);
        post_to(&t, &s, &to, payload, &[])
    })
}

/// Takes the next message delivered to the window without waiting (messages failing the origin
/// check are dropped on the way).
/// Ownership: on `WM_OK`, `*out` is a new message (`wm_message_free`); else NULL.
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_EMPTY`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_window_try_recv(
    window: *mut wm_window,
    out: *mut *mut wm_message,
) -> wm_status {
    let empty = Wait::No("no message is waiting for this window");
    // SAFETY: forwarded from this function's contract on `out`.
    unsafe { receive::recv(here!(), &WINDOWS, window as usize, "window", empty, out) }
}

/// Takes the next message delivered to the window, waiting up to `timeout_ms` (< 0: forever).
/// Ownership: as `wm_window_try_recv`. Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_TIMEOUT`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_window_recv(
    window: *mut wm_window,
    timeout_ms: i64,
    out: *mut *mut wm_message,
) -> wm_status {
    let wait = Wait::Ms(timeout_ms);
    // SAFETY: forwarded from this function's contract on `out`.
    unsafe { receive::recv(here!(), &WINDOWS, window as usize, "window", wait, out) }
}

/// Attaches a window to the loop: `onmessage` runs in `wm_loop_dispatch` for each message
/// delivered to it. Rules as `wm_loop_attach` (userdata, finalizer, replacement, threads).
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_window_attach(
    l: *mut wm_loop,
    window: *mut wm_window,
    onmessage: wm_window_message_cb,
    userdata: *mut c_void,
    finalizer: wm_finalizer,
) -> wm_status {
    guard(here!(), || {
        let w = window_arg(window, "window")?;
        event_loop::attach_source(
            l,
            w,
            window as usize,
            Callbacks::Window(onmessage),
            userdata,
            finalizer,
        )
    })
}

/// Detaches a window from the loop (rules as `wm_loop_detach`).
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_window_detach(l: *mut wm_loop, window: *mut wm_window) -> wm_status {
    guard(here!(), || {
        let w = window_arg(window, "window")?;
        event_loop::detach_source(l, &*w)
    })
}

/// Releases a window handle (and its loop registration). The window goes away when its last
/// handle does; messages still queued for it are dropped, closing the ports they carry.
/// Accepts NULL. Thread safety: any thread, including inside its own callback.
/// Returns `WM_OK`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_window_free(window: *mut wm_window) -> wm_status {
    guard(here!(), || {
        if window.is_null() {
            return Ok(());
        }
        let w = WINDOWS.remove(window as usize)?;
        drop(take_registration(&*w));
        drop(w);
        Ok(())
    })
}
