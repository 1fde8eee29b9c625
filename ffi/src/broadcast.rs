//! `wm_broadcast_*`: `BroadcastChannel`, one-to-many messages between channels of one name
//! and origin.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use webmessaging_core::{BroadcastChannel, MessageEventTarget, Origin};

use crate::event_loop::{self, take_registration, wm_finalizer, wm_loop, Callbacks, Source, Watch};
use crate::handle::{Kind, Table};
use crate::json;
use crate::message::wm_message;
use crate::receive::{self, Receiver, Wait};
use crate::status::*;
use crate::value::{self, wm_value};

/// A `BroadcastChannel`: every other open channel with the same name and origin receives what
/// one posts, in creation order; the sender does not.
///
/// An opaque handle: create it with `wm_broadcast_new`, release it with `wm_broadcast_free`.
pub struct wm_broadcast {
    _private: [u8; 0],
}

/// `onmessage` for broadcast channels (see `wm_broadcast_attach`); `message` is lent as for
/// ports.
pub type wm_broadcast_message_cb = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        channel: *mut wm_broadcast,
        message: *mut wm_message,
    ),
>;

/// `onclose` for broadcast channels: called once after `wm_broadcast_close`, after any message
/// delivered before it; the registration is over (its finalizer runs right after).
pub type wm_broadcast_close_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, channel: *mut wm_broadcast)>;

pub(crate) struct BroadcastObj {
    channel: BroadcastChannel,
    watch: Watch,
}

impl Receiver for BroadcastObj {
    fn target(&self) -> &dyn MessageEventTarget {
        &self.channel
    }
}

impl Source for BroadcastObj {
    fn watch(&self) -> &Watch {
        &self.watch
    }
}

static CHANNELS: Table<Arc<BroadcastObj>, { Kind::Broadcast as u8 }> = Table::new();

pub(crate) fn live() -> usize {
    CHANNELS.live()
}

fn channel_arg(c: *const wm_broadcast) -> Res<Arc<BroadcastObj>> {
    if c.is_null() {
        return Err(Failure::null("channel"));
    }
    CHANNELS.get(c as usize)
}

/// Creates a broadcast channel named `name` (NUL-terminated UTF-8) in the origin of the URL
/// `origin`, or in the process's default origin when `origin` is NULL.
///
/// Ownership: on `WM_OK`, `*out` is a new handle owned by the caller (`wm_broadcast_free`).
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_SYNTAX` (origin not a URL), `WM_ERR_INVALID_ARG` (not UTF-8),
/// `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_broadcast_new(
    name: *const c_char,
    origin: *const c_char,
    out: *mut *mut wm_broadcast,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: the caller passes NULL or NUL-terminated strings.
        let name = unsafe { json::str_arg(name, "name")? };
        let origin = if origin.is_null() {
            None
        } else {
            // SAFETY: as above.
            Some(Origin::parse(unsafe { json::str_arg(origin, "origin")? })?)
        };
        let obj = BroadcastObj {
            channel: BroadcastChannel::new(name, origin),
            watch: Watch::default(),
        };
        let h = CHANNELS.insert(Arc::new(obj))?;
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { *out = h as *mut wm_broadcast };
        Ok(())
    })
}

/// Posts a value (NULL: `undefined`) to every other open channel of the same name and origin.
/// Broadcast messages carry no transfer list: a MessagePort inside the value is
/// `WM_ERR_DATA_CLONE`. Ownership: `value` is borrowed (copied). Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_INVALID_STATE` (the channel is closed), `WM_ERR_DATA_CLONE`,
/// `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_broadcast_post(
    channel: *mut wm_broadcast,
    value: *const wm_value,
) -> wm_status {
    guard(here!(), || {
        let c = channel_arg(channel)?;
        if c.channel.is_closed() {
            return Err(webmessaging_core::Error::InvalidStateError(
                "the BroadcastChannel is closed".into(),
            )
            .into());
        }
        let payload = value::serialize(value, &[])?;
        c.channel.post_message(payload.data)?;
        Ok(())
    })
}

/// Like `wm_broadcast_post` with the value given as JSON text (mapping as
/// `wm_port_post_json_transfer`).
/// Returns `WM_OK`, `WM_ERR_INVALID_STATE`, `WM_ERR_SYNTAX`, `WM_ERR_INVALID_ARG` (not UTF-8),
/// `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_broadcast_post_json(
    channel: *mut wm_broadcast,
    json_text: *const c_char,
) -> wm_status {
    guard(here!(), || {
        let c = channel_arg(channel)?;
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let text = unsafe { json::str_arg(json_text, "json")? };
        if c.channel.is_closed() {
            return Err(webmessaging_core::Error::InvalidStateError(
                "the BroadcastChannel is closed".into(),
            )
            .into());
        }
        let graph = json::graph_from_json(text)?;
        c.channel.post_value(&graph)?;
        Ok(())
    })
}

/// Takes the next message without waiting. Ownership: on `WM_OK`, `*out` is a new message
/// (`wm_message_free`; `wm_message_origin` gives the sender's origin); else NULL.
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_EMPTY`, `WM_ERR_CLOSED` (after `wm_broadcast_close`),
/// `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_broadcast_try_recv(
    channel: *mut wm_broadcast,
    out: *mut *mut wm_message,
) -> wm_status {
    let empty = Wait::No("no message is waiting on this channel");
    // SAFETY: forwarded from this function's contract on `out`.
    unsafe { receive::recv(here!(), &CHANNELS, channel as usize, "channel", empty, out) }
}

/// Takes the next message, waiting up to `timeout_ms` (< 0: forever).
/// Ownership: as `wm_broadcast_try_recv`. Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_TIMEOUT`, `WM_ERR_CLOSED`, `WM_ERR_NULL_ARG`,
/// `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_broadcast_recv(
    channel: *mut wm_broadcast,
    timeout_ms: i64,
    out: *mut *mut wm_message,
) -> wm_status {
    let wait = Wait::Ms(timeout_ms);
    // SAFETY: forwarded from this function's contract on `out`.
    unsafe { receive::recv(here!(), &CHANNELS, channel as usize, "channel", wait, out) }
}

/// Closes the channel: it leaves its group at once (no more messages arrive, queued ones are
/// dropped) and later posts on it return `WM_ERR_INVALID_STATE`. Idempotent.
/// Thread safety: any thread. Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`,
/// `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_broadcast_close(channel: *mut wm_broadcast) -> wm_status {
    guard(here!(), || {
        channel_arg(channel)?.channel.close();
        Ok(())
    })
}

/// Attaches the channel to the loop: `onmessage` runs in `wm_loop_dispatch` for each message,
/// `onclose` once after `wm_broadcast_close`. Rules as `wm_loop_attach`.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_broadcast_attach(
    l: *mut wm_loop,
    channel: *mut wm_broadcast,
    onmessage: wm_broadcast_message_cb,
    onclose: wm_broadcast_close_cb,
    userdata: *mut c_void,
    finalizer: wm_finalizer,
) -> wm_status {
    guard(here!(), || {
        let c = channel_arg(channel)?;
        event_loop::attach_source(
            l,
            c,
            channel as usize,
            Callbacks::Broadcast(onmessage, onclose),
            userdata,
            finalizer,
        )
    })
}

/// Detaches the channel from the loop (rules as `wm_loop_detach`).
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_broadcast_detach(l: *mut wm_loop, channel: *mut wm_broadcast) -> wm_status {
    guard(here!(), || {
        let c = channel_arg(channel)?;
        event_loop::detach_source(l, &*c)
    })
}

/// Releases the handle (and its loop registration); the last handle of a channel that was not
/// closed closes it. Accepts NULL. Thread safety: any thread, including inside its callbacks.
/// Returns `WM_OK`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_broadcast_free(channel: *mut wm_broadcast) -> wm_status {
    guard(here!(), || {
        if channel.is_null() {
            return Ok(());
        }
        let c = CHANNELS.remove(channel as usize)?;
        drop(take_registration(&*c));
        drop(c);
        Ok(())
    })
}
