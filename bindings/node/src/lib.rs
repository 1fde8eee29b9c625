//! # webmessaging-node
//!
//! The native half of the `webmessaging` npm package: napi-rs classes over the core's ports. The
//! user-facing API (`MessageChannel`, `MessagePort` as an `EventTarget`, `receiveMessageOnPort`)
//! lives in `index.js` and `lib/`; this crate only moves bytes, ports and wake-ups:
//!
//! Modules: [`env`] (wake-up, lifetime, cleanup), [`linger`] (a short wait for the next
//! message before the event loop sleeps), [`port`], [`ipc`] (cross-process ports),
//! [`broadcast`], [`window`], [`drain`] (the one drain, over the core's `MessageEventTarget`),
//! [`batch`] (the layout a drain hands to JS) and [`backing`] (transferred ArrayBuffers move
//! their V8 backing stores).
//!
//! - [`port::NativePort`] wraps one core [`webmessaging_core::MessagePort`]. `post` takes the serialized
//!   value (V8 wire format, written on the JS side by `v8.Serializer`), the transferred ports and
//!   the transferred ArrayBuffers.
//! - [`drain::drain`] takes a batch of received events in one crossing from any receiver (a
//!   port, a broadcast channel or a window: each is a core `MessageEventTarget`), by id.
//! - Wake-ups: each JS environment (the main thread, each `Worker`) has one `uv_async_t`.
//!   A started port's core notifier pushes the port id to the env's ready list and, on the
//!   empty → non-empty edge only, sends the async, so a burst of messages costs one wake-up.
//!   Its callback, at the top of the event loop, calls JS through `napi_make_callback` once per
//!   delivered event, so Node's tick and microtask checkpoint runs after each, as after each
//!   message of Node's own ports. No lock is held while JS runs: the notifier only queues an
//!   id; JS then pulls.
//! - Process lifetime: the env's async handle is ref'd while at least one port is ref'd
//!   (JS counts them with Node's rules: first `'message'` listener refs, last one unrefs,
//!   `close()`/`unref()` release).
//! - An env (async) cleanup hook marks the env dead (notifiers become no-ops, so a dead worker gets no
//!   deliveries), closes every port still owned by that env, so peers see `'close'`, and then
//!   the async handle.
//! - Worker hand-off: `exportPort` moves a port's handle into a process-wide table under a
//!   token; `importPort` in any env (any thread) claims it exactly once.

#![warn(missing_docs)]

pub mod backing;
pub mod batch;
pub mod broadcast;
pub mod drain;
pub mod env;
pub mod ipc;
pub mod linger;
pub mod port;
mod raw;
mod spare;
pub mod window;

use std::sync::atomic::AtomicU32;

use napi::bindgen_prelude::*;
use napi::sys;
use webmessaging_core as wm;

/// Ids of ports, broadcast channels and windows (one space: they share the env's ready list).
pub(crate) static NEXT_PORT_ID: AtomicU32 = AtomicU32::new(1);

/// A core error as a JS error whose message is "Name: message".
pub(crate) fn js_error(e: wm::Error) -> Error {
    // "Name: message": lib/errors.js turns this into a DOMException with that name.
    Error::new(Status::GenericFailure, format!("{}: {}", e.name(), e))
}

/// A Node-API status as a Result.
pub(crate) fn check(status: sys::napi_status) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::from(status), "Node-API call failed"))
    }
}
