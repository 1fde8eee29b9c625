//! `wm_channel_new` and the `wm_port_*` functions.

use std::ffi::c_char;
use std::sync::Arc;
use std::time::Duration;

use webmessaging_core::{
    Capacity, Error as CoreError, MessageChannel, MessageEventTarget, MessagePort, Payload,
};

use crate::event_loop::{take_registration, Source, Watch};
use crate::handle::{Kind, Table};
use crate::hazard::Local;
use crate::message::{self, wm_message, MessageObj};
use crate::receive::{self, Receiver, Wait};
use crate::status::*;
use crate::value::wm_value;
use crate::{json, value};

/// One end of a message channel (the standard's `MessagePort`).
///
/// An opaque handle: create it with `wm_channel_new` (or receive it with
/// `wm_message_take_port`), release it with `wm_port_free`. A handle stays valid after
/// `wm_port_close` and after being transferred (it is then "detached"), until it is freed.
pub struct wm_port {
    _private: [u8; 0],
}

/// What the library keeps behind a port handle.
pub(crate) struct PortObj {
    pub(crate) port: MessagePort,
    /// Event-loop bookkeeping (`wm_loop_attach`).
    watch: Watch,
}

impl PortObj {
    pub(crate) fn new(port: MessagePort) -> Arc<Self> {
        Arc::new(PortObj {
            port,
            watch: Watch::default(),
        })
    }
}

impl Receiver for PortObj {
    fn target(&self) -> &dyn MessageEventTarget {
        &self.port
    }

    #[inline]
    fn try_take(&self) -> Result<Option<MessageObj>, CoreError> {
        Ok(self.port.try_recv()?.map(MessageObj::from_message))
    }

    #[inline(always)]
    fn try_take_handle(&self, local: Option<&Local>) -> Res<Option<*mut wm_message>> {
        // The core's answer is read where it was written, a word at a time: moving it whole
        // (as `let Some(m) = ...?` does) reloads two words written separately as one wide
        // load, which stalls on store forwarding.
        let got = self.port.try_recv();
        let m = match &got {
            Ok(Some(m)) => m,
            // Nothing queued, or an error.
            _ => return got.map(|_| None).map_err(Failure::from),
        };
        if m.array_buffers.capacity() != 0 || m.ports.capacity() != 0 {
            let m = got.ok().flatten().map(MessageObj::from_message);
            return m.map(message::insert_message).transpose();
        }
        // Bytes only: their `Vec`'s parts are read word by word and the message is made in its
        // slot, instead of being moved whole through the stack twice.
        let (ptr, len, cap) = (m.data.as_ptr().cast_mut(), m.data.len(), m.data.capacity());
        // The bytes pass to the message; the two other vectors own no memory (capacity 0).
        std::mem::forget(got);
        // SAFETY: the parts of the forgotten message's `Vec<u8>`.
        unsafe { message::insert_plain(local, ptr, len, cap) }.map(Some)
    }

    fn take(&self, timeout: Option<Duration>) -> Result<MessageObj, CoreError> {
        Ok(MessageObj::from_message(self.port.recv(timeout)?))
    }
}

impl Source for PortObj {
    fn watch(&self) -> &Watch {
        &self.watch
    }
}

pub(crate) static PORTS: Table<Arc<PortObj>, { Kind::Port as u8 }> = Table::new();

/// Resolves a port handle argument.
pub(crate) fn port_arg(p: *const wm_port, name: &str) -> Res<Arc<PortObj>> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    PORTS.get(p as usize)
}

/// Runs `f` on the port behind `p` inside its handle slot, with no reference count traffic: the
/// hot path of posts without a transfer list and of non-blocking receives. `f` must not block
/// or run C code (see `Table::with`).
pub(crate) fn with_port<R>(
    p: *const wm_port,
    name: &str,
    f: impl FnOnce(&PortObj) -> Res<R>,
) -> Res<R> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    PORTS.with(p as usize, |o| f(o))?
}

/// Posts `payload` from the port behind `handle` (already checked non-NULL). Without a transfer
/// list and without waiting, the post runs inside the port's handle slot; otherwise it takes a
/// reference to the port first.
fn post_from(
    handle: *const wm_port,
    payload: Payload,
    transfer: &[Arc<PortObj>],
    mode: Mode,
) -> Res {
    if transfer.is_empty() && !matches!(mode, Mode::Wait(_)) {
        // Neither a transfer (whose registrations' finalizers are C code) nor a wait happens
        // here, so the post may run inside the slot.
        return with_port(handle, "port", |p| post(p, payload, &[], mode));
    }
    post(&*port_arg(handle, "port")?, payload, transfer, mode)
}

/// Issues a new handle for `port`.
pub(crate) fn new_port_handle(port: MessagePort) -> Res<*mut wm_port> {
    Ok(PORTS.insert(PortObj::new(port))? as *mut wm_port)
}

/// Resolves a transfer list of `n` port handles.
///
/// # Safety
/// `transfer` must be NULL or point at `n` readable handles.
pub(crate) unsafe fn transfer_arg(
    transfer: *const *mut wm_port,
    n: usize,
) -> Res<Vec<Arc<PortObj>>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if transfer.is_null() {
        return Err(Failure::null("transfer"));
    }
    // SAFETY: the caller promises `n` readable elements.
    let handles = unsafe { std::slice::from_raw_parts(transfer, n) };
    handles
        .iter()
        .enumerate()
        .map(|(i, &h)| {
            if h.is_null() {
                Err(Failure::null(&format!("transfer[{i}]")))
            } else {
                PORTS
                    .get(h as usize)
                    .map_err(|f| Failure::new(f.status, format!("transfer[{i}]: {}", f.message)))
            }
        })
        .collect()
}

/// The standard's first check, before anything is serialized (R-CH-13): the transfer list must
/// not hold the posting port itself, nor any port twice.
pub(crate) fn check_source_not_listed(port: &PortObj, transfer: &[Arc<PortObj>]) -> Res {
    for (i, t) in transfer.iter().enumerate() {
        if t.port == port.port {
            return Err(Failure::new(
                WM_ERR_DATA_CLONE,
                "DataCloneError: the transfer list contains the source port",
            ));
        }
        if transfer[..i].iter().any(|o| o.port == t.port) {
            return Err(Failure::new(
                WM_ERR_DATA_CLONE,
                format!("DataCloneError: transfer[{i}] is listed twice"),
            ));
        }
    }
    Ok(())
}

/// How a post treats the receiver's capacity.
#[derive(Clone, Copy)]
pub(crate) enum Mode {
    Web,
    Try,
    Wait(Duration),
}

/// Posts `payload` with the transfer list, then drops the loop registrations of the ports that
/// the post moved away (their notifier went with them).
pub(crate) fn post(port: &PortObj, payload: Payload, transfer: &[Arc<PortObj>], mode: Mode) -> Res {
    if transfer.is_empty() {
        // The common case, without building the port list.
        match mode {
            Mode::Web => port.port.post_message(payload, &[])?,
            Mode::Try => port.port.try_post(payload, &[])?,
            Mode::Wait(t) => port.port.post_timeout(payload, &[], t)?,
        }
        return Ok(());
    }
    let ports: Vec<MessagePort> = transfer.iter().map(|p| p.port.clone()).collect();
    match mode {
        Mode::Web => port.port.post_message(payload, &ports)?,
        Mode::Try => port.port.try_post(payload, &ports)?,
        Mode::Wait(t) => port.port.post_timeout(payload, &ports, t)?,
    }
    drop(ports);
    let regs: Vec<_> = transfer
        .iter()
        .filter_map(|p| take_registration(&**p))
        .collect();
    drop(regs);
    Ok(())
}

/// Creates a message channel: two new ports, entangled with each other, not started
/// (`new MessageChannel()`, R-CH-1).
///
/// Ownership: on `WM_OK`, `*port1` and `*port2` are new handles owned by the caller; release each
/// with `wm_port_free`. On failure both are set to NULL (when not NULL themselves).
/// Thread safety: any thread. The ports may be used from any thread.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_channel_new(
    port1: *mut *mut wm_port,
    port2: *mut *mut wm_port,
) -> wm_status {
    // SAFETY: the caller passes NULL or writable pointers.
    unsafe {
        write_out(port1, std::ptr::null_mut());
        write_out(port2, std::ptr::null_mut());
    }
    guard(here!(), || {
        if port1.is_null() {
            return Err(Failure::null("port1"));
        }
        if port2.is_null() {
            return Err(Failure::null("port2"));
        }
        let (a, b) = MessageChannel::new().into_ports();
        let a = new_port_handle(a)?;
        let b = match new_port_handle(b) {
            Ok(b) => b,
            Err(e) => {
                let _ = PORTS.remove(a as usize);
                return Err(e);
            }
        };
        // SAFETY: checked non-null above; the caller promises they are writable.
        unsafe {
            *port1 = a;
            *port2 = b;
        }
        Ok(())
    })
}

/// Posts a value to the port's entangled peer, transferring the ports in `transfer`
/// (`port.postMessage(value, transfer)`, R-CH-13..24).
///
/// `value` is copied (serialized) before the call returns; the caller keeps owning it. A NULL
/// `value` posts `undefined`. `transfer` is an array of `n` port handles (NULL when `n` is 0):
/// on success each of them is detached (it stays a valid handle you must still free, but it can
/// no longer send or receive; its loop registration, if any, is dropped and its finalizer runs),
/// and the receiver gets new handles for them through `wm_message_take_port`.
///
/// Errors are checked before anything is detached: `transfer` holding `port` itself, a port
/// twice, or a closed or already transferred port is `WM_ERR_DATA_CLONE`. `transfer` holding the
/// peer is not an error: the peer is detached and the message dropped (the channel is lost,
/// R-CH-14). Posting from a closed or unentangled port silently drops the message but still
/// detaches the transferred ports (R-CH-17). Posting never blocks and ignores capacity.
///
/// Thread safety: any thread, concurrently with any other call on either port.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG` (port, or transfer with n > 0, or an element),
/// `WM_ERR_INVALID_HANDLE`, `WM_ERR_DATA_CLONE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_port_post(
    port: *mut wm_port,
    value: *const wm_value,
    transfer: *const *mut wm_port,
    n: usize,
) -> wm_status {
    guard(here!(), || {
        if port.is_null() {
            return Err(Failure::null("port"));
        }
        // SAFETY: forwarded caller promise about `transfer`.
        let t = unsafe { transfer_arg(transfer, n)? };
        if !t.is_empty() {
            // The standard's first check, before serializing (R-CH-13).
            check_source_not_listed(&*port_arg(port, "port")?, &t)?;
        }
        post_from(port, value::serialize(value, &t)?, &t, Mode::Web)
    })
}

/// Like `wm_port_post`, but the value is given as JSON text (NUL-terminated UTF-8), mapped as
/// described in `wm_port_post_json_transfer`. Equivalent to
/// `wm_port_post_json_transfer(port, json, NULL, 0)`.
///
/// Ownership: `json` is borrowed for the call. Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_INVALID_ARG` (not UTF-8),
/// `WM_ERR_SYNTAX` (malformed JSON), `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_port_post_json(port: *mut wm_port, json: *const c_char) -> wm_status {
    // SAFETY: forwarded caller promise about `json`; an empty transfer list.
    guard(here!(), || unsafe {
        post_json(port, json, std::ptr::null(), 0)
    })
}

/// The body of `wm_port_post_json_transfer` (and `wm_port_post_json`).
///
/// # Safety
/// As `wm_port_post_json_transfer`.
unsafe fn post_json(
    port: *mut wm_port,
    json: *const c_char,
    transfer: *const *mut wm_port,
    n: usize,
) -> Res {
    let p = port_arg(port, "port")?;
    // SAFETY: the caller passes NULL or a NUL-terminated string.
    let text = unsafe { json::str_arg(json, "json")? };
    // SAFETY: forwarded caller promise about `transfer`.
    let t = unsafe { transfer_arg(transfer, n)? };
    let graph = json::graph_from_json(text)?;
    check_source_not_listed(&p, &t)?;
    let payload = value::encode_graph(&graph, &t)?;
    post(&p, payload, &t, Mode::Web)
}

/// Posts a value given as JSON text with a transfer list.
///
/// JSON maps to the value model as `JSON.parse` does: `null`, booleans, numbers (as doubles),
/// strings, arrays (dense `Array`s) and objects (plain `Object`s, keys in document order; a
/// repeated key keeps its last value). The transferred ports are not referenced by the JSON;
/// the receiver finds them with `wm_message_take_port`. `json` is borrowed for the call; the
/// transfer rules are those of `wm_port_post`.
///
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_INVALID_ARG` (not UTF-8),
/// `WM_ERR_SYNTAX` (malformed JSON), `WM_ERR_DATA_CLONE` (transfer list), `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_port_post_json_transfer(
    port: *mut wm_port,
    json: *const c_char,
    transfer: *const *mut wm_port,
    n: usize,
) -> wm_status {
    // SAFETY: forwarded caller promises.
    guard(here!(), || unsafe { post_json(port, json, transfer, n) })
}

/// Posts already-serialized wire-format bytes (see the project's wire-format spec) with a
/// transfer list, for programs that serialize themselves or forward `wm_message_serialized`
/// bytes. The bytes are copied and not validated here: a receiver that cannot decode them gets
/// `WM_ERR_DECODE` from its decoding call (the standard's `messageerror`), and nothing else breaks.
///
/// Ownership: `data` (`len` bytes; may be NULL when `len` is 0) is borrowed for the call.
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_DATA_CLONE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_port_post_serialized(
    port: *mut wm_port,
    data: *const u8,
    len: usize,
    transfer: *const *mut wm_port,
    n: usize,
) -> wm_status {
    guard(here!(), || {
        if port.is_null() {
            return Err(Failure::null("port"));
        }
        // SAFETY: the caller promises `len` readable bytes.
        let bytes = unsafe { bytes_arg(data, len, "data")? };
        if n == 0 {
            // The hot path: no transfer list to resolve, the post runs inside the slot. The
            // bytes are copied in there too, so the payload is built where it is used instead
            // of being moved into the call (a reload that stalls on store forwarding).
            return with_port(port, "port", |p| Ok(p.port.post_message(bytes, &[])?));
        }
        // SAFETY: forwarded caller promise about `transfer`.
        let t = unsafe { transfer_arg(transfer, n)? };
        post_from(port, Payload::from(bytes), &t, Mode::Web)
    })
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
    guard(here!(), || {
        let p = port_arg(port, "port")?;
        // SAFETY: forwarded caller promise about `transfer`.
        let ports = unsafe { transfer_arg(transfer, n)? };
        if m == 0 {
            check_source_not_listed(&p, &ports)?;
            let payload = value::serialize(value, &ports)?;
            return post(&p, payload, &ports, Mode::Web);
        }
        if buffers.is_null() {
            return Err(Failure::null("buffers"));
        }
        let v = value::value_arg(value, "value")?;
        // SAFETY: non-null, and the caller promises `m` readable handles.
        let list = unsafe { std::slice::from_raw_parts(buffers, m) };
        let bufs = list
            .iter()
            .enumerate()
            .map(|(i, &b)| value::value_arg(b, &format!("buffers[{i}]")))
            .collect::<Res<Vec<_>>>()?;
        check_source_not_listed(&p, &ports)?;
        let payload = value::serialize_with_buffers(&v, &ports, &bufs)?;
        post(&p, payload, &ports, Mode::Web)
    })
}

/// Like `wm_port_post`, but respects the receiver's capacity (`wm_port_set_capacity`): when the
/// peer's queue is full, it waits for room as `timeout_ms` says, like every timeout of this
/// library: 0 does not wait (`WM_ERR_FULL` at once), > 0 waits up to that many milliseconds
/// (then `WM_ERR_TIMEOUT`), < 0 waits without limit (until a receive makes room, or a close
/// makes the post go nowhere as `wm_port_post` would). On `WM_ERR_FULL` and `WM_ERR_TIMEOUT`
/// nothing is sent or detached.
///
/// Ownership and transfer rules: as `wm_port_post`. Thread safety: any thread; it may block
/// the calling thread as `timeout_ms` allows.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_DATA_CLONE`,
/// `WM_ERR_FULL`, `WM_ERR_TIMEOUT`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_port_try_post(
    port: *mut wm_port,
    value: *const wm_value,
    transfer: *const *mut wm_port,
    n: usize,
    timeout_ms: i64,
) -> wm_status {
    guard(here!(), || {
        let p = port_arg(port, "port")?;
        // SAFETY: forwarded caller promise about `transfer`.
        let t = unsafe { transfer_arg(transfer, n)? };
        let mode = match message::timeout_arg(timeout_ms) {
            Some(t) if t.is_zero() => Mode::Try,
            Some(t) => Mode::Wait(t),
            // A deadline past the end of time: the core waits without one.
            None => Mode::Wait(Duration::MAX),
        };
        value::post_value(&p, value, &t, mode)
    })
}

/// Starts the port: enables its queue so an attached event loop delivers its messages
/// (`port.start()`, R-CH-4). Idempotent, and not an error on a closed or transferred port (R-CH-8).
/// `wm_loop_attach` starts the port itself (like setting `onmessage`). Explicit receive calls
/// read a port whether it is started or not.
///
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_port_start(port: *mut wm_port) -> wm_status {
    guard(here!(), || {
        port_arg(port, "port")?.port.start();
        Ok(())
    })
}

/// Closes the port (`port.close()`, R-CH-18..23): it is detached and disentangled at once (later
/// posts from either side go nowhere), and the peer receives everything already sent and then a
/// close notice (`WM_ERR_CLOSED` from its receive calls, `onclose` on its loop). Messages already
/// queued at this port can still be received (R-CH-21), then this port reports `WM_ERR_CLOSED`
/// too. Idempotent. The handle stays valid: free it with `wm_port_free`.
///
/// Thread safety: any thread; wakes threads blocked in `wm_port_recv` on either end.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_port_close(port: *mut wm_port) -> wm_status {
    guard(here!(), || {
        port_arg(port, "port")?.port.close();
        Ok(())
    })
}

/// Releases a port handle. If the port was neither closed nor transferred, this is the library's
/// stand-in for garbage collection: the channel is disentangled and the peer gets a close notice
/// with reason `WM_CLOSE_DROPPED` (R-CH-35). A loop registration is dropped (its finalizer runs
/// now, or right after the callback that is running it returns). A call running concurrently on
/// another thread with this handle completes normally; later calls with it return
/// `WM_ERR_INVALID_HANDLE`. A thread blocked in `wm_port_recv` on this port keeps it alive until
/// it returns: call `wm_port_close` first to wake it.
///
/// Ownership: consumes the handle. Accepts NULL (does nothing, returns `WM_OK`).
/// Thread safety: any thread, including from inside this port's own callbacks.
/// Returns `WM_OK`, `WM_ERR_INVALID_HANDLE` (already freed or never issued), `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_port_free(port: *mut wm_port) -> wm_status {
    guard(here!(), || {
        if port.is_null() {
            return Ok(());
        }
        let p = PORTS.remove(port as usize)?;
        let reg = take_registration(&*p);
        drop(reg);
        drop(p);
        Ok(())
    })
}

/// Takes the next message from the port's queue without waiting (like Node's
/// `receiveMessageOnPort`; works whether or not the port is started).
///
/// Ownership: on `WM_OK`, `*out` is a new message owned by the caller; free it with
/// `wm_message_free`. On any other status `*out` is set to NULL.
/// Thread safety: any thread. If two threads receive from one port, each message goes to one.
/// Returns `WM_OK`, `WM_ERR_EMPTY` (nothing queued now), `WM_ERR_CLOSED` (the queue reached its
/// close notice; every later call returns it too), `WM_ERR_INVALID_STATE` (the port was
/// transferred away), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_port_try_recv(
    port: *mut wm_port,
    out: *mut *mut wm_message,
) -> wm_status {
    let empty = Wait::No("no message is queued at this port");
    // SAFETY: forwarded from this function's contract on `out`.
    unsafe { receive::recv(here!(), &PORTS, port as usize, "port", empty, out) }
}

/// Takes the next message from the port's queue, blocking up to `timeout_ms` milliseconds
/// (`timeout_ms` < 0: until a message or the close notice arrives; 0: do not wait).
///
/// Ownership: as `wm_port_try_recv`.
/// Thread safety: any thread; blocks only the calling thread, holding no lock another call needs.
/// Returns `WM_OK`, `WM_ERR_TIMEOUT`, `WM_ERR_CLOSED`, `WM_ERR_INVALID_STATE` (transferred away,
/// also while waiting), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_port_recv(
    port: *mut wm_port,
    timeout_ms: i64,
    out: *mut *mut wm_message,
) -> wm_status {
    // SAFETY: forwarded from this function's contract on `out`.
    unsafe {
        receive::recv(
            here!(),
            &PORTS,
            port as usize,
            "port",
            Wait::Ms(timeout_ms),
            out,
        )
    }
}

/// Limits the port's receiving queue (beyond the standard): `max_messages` and `max_bytes`, 0
/// meaning "no limit". Only `wm_port_try_post` from the peer respects the limits; plain posts
/// keep the web's unbounded semantics. The limits travel with the port when it is transferred.
///
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_port_set_capacity(
    port: *mut wm_port,
    max_messages: usize,
    max_bytes: usize,
) -> wm_status {
    guard(here!(), || {
        let p = port_arg(port, "port")?;
        p.port.set_capacity(Capacity {
            max_messages: (max_messages != 0).then_some(max_messages),
            max_bytes: (max_bytes != 0).then_some(max_bytes),
        });
        Ok(())
    })
}

/// Counters of one port (beyond the standard), filled in by `wm_port_get_metrics`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct wm_port_metrics {
    /// Messages waiting in this port's queue.
    pub depth: usize,
    /// Payload bytes waiting in this port's queue.
    pub queued_bytes: usize,
    /// The largest depth this port's queue has reached.
    pub high_water_mark: usize,
    /// Messages that arrived in this port's queue.
    pub enqueued: u64,
    /// Messages taken out of this port's queue.
    pub delivered: u64,
    /// Messages posted from this port (delivered or not).
    pub posted: u64,
    /// Posts from this port that went nowhere (closed, unentangled or doomed).
    pub dropped: u64,
}

/// Reads the port's counters into `*out` (all zero once the port was transferred away: the
/// counters travel with it).
///
/// Ownership: `out` is caller memory, written on `WM_OK`. Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_port_get_metrics(
    port: *const wm_port,
    out: *mut wm_port_metrics,
) -> wm_status {
    guard(here!(), || {
        let p = port_arg(port, "port")?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let m = p.port.metrics();
        let v = wm_port_metrics {
            depth: m.depth,
            queued_bytes: m.queued_bytes,
            high_water_mark: m.high_water_mark,
            enqueued: m.enqueued,
            delivered: m.delivered,
            posted: m.posted,
            dropped: m.dropped,
        };
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { out.write(v) };
        Ok(())
    })
}

/// Port state flags, as read by `wm_port_get_state`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct wm_port_state {
    /// Closed or transferred away (the standard's `[[Detached]]`).
    pub detached: bool,
    /// Still entangled with a peer.
    pub entangled: bool,
    /// Started (`wm_port_start`, `wm_loop_attach`).
    pub started: bool,
}

/// Reads the port's state flags into `*out`.
///
/// Ownership: `out` is caller memory, written on `WM_OK`. Thread safety: any thread (the answer
/// can be stale as soon as another thread acts on the port).
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_port_get_state(
    port: *const wm_port,
    out: *mut wm_port_state,
) -> wm_status {
    guard(here!(), || {
        let p = port_arg(port, "port")?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let v = wm_port_state {
            detached: p.port.is_detached(),
            entangled: p.port.is_entangled(),
            started: p.port.is_started(),
        };
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { out.write(v) };
        Ok(())
    })
}

/// Reads a byte-slice argument.
///
/// # Safety
/// `data` must be NULL or valid for `len` reads for the returned lifetime.
pub(crate) unsafe fn bytes_arg<'a>(data: *const u8, len: usize, name: &str) -> Res<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if data.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-null and the caller promises `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// Whether this process has any live handle (test support; see `wm_debug_live_handles`).
pub(crate) fn live() -> usize {
    PORTS.live()
}
