//! # webmessaging-node
//!
//! The native half of the `webmessaging` npm package: napi-rs classes over the core's ports. The
//! user-facing API (`MessageChannel`, `MessagePort` as an `EventTarget`, `receiveMessageOnPort`)
//! lives in `index.js`; this crate only moves bytes, ports and wake-ups:
//!
//! - [`NativePort`] wraps one core [`webmessaging_core::MessagePort`]. `post` takes the serialized
//!   value (V8 wire format, written on the JS side by `v8.Serializer`), the transferred ports and
//!   the transferred ArrayBuffers; `drain` returns a batch of received messages in one crossing.
//! - Wake-ups: each JS environment (the main thread, each `Worker`) has one threadsafe function.
//!   A started port's core notifier pushes the port id to the env's ready list and, on the
//!   empty → non-empty edge only, calls the threadsafe function, so a burst of messages costs one
//!   `uv_async` wake and one JS crossing per port batch. No lock is held while JS runs: the
//!   notifier only queues an id; JS then pulls.
//! - Process lifetime: the env's threadsafe function is ref'd while at least one port is ref'd
//!   (JS counts them with Node's rules: first `'message'` listener refs, last one unrefs,
//!   `close()`/`unref()` release).
//! - An env cleanup hook marks the env dead (notifiers become no-ops, so a dead worker gets no
//!   deliveries) and closes every port still owned by that env, so peers see `'close'`.
//! - Worker hand-off: `exportPort` moves a port's handle into a process-wide table under a
//!   token; `importPort` in any env (any thread) claims it exactly once.

#![warn(missing_docs)]

use std::collections::HashMap;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use parking_lot::{Mutex, RwLock};
use webmessaging_core as wm;

static NEXT_PORT_ID: AtomicU32 = AtomicU32::new(1);
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// Ports handed from one env to another by [`export_port`] / [`import_port`].
static EXPORTED: Mutex<Option<HashMap<u64, wm::MessagePort>>> = Mutex::new(None);

/// A raw threadsafe-function pointer. Node-API documents `napi_call_threadsafe_function` as
/// callable from any thread, which is all other threads do with it.
#[derive(Clone, Copy)]
struct Tsfn(sys::napi_threadsafe_function);

// SAFETY: see `Tsfn`: the pointer is only used with thread-safe Node-API calls from other
// threads; ref/unref/release happen on the owning env's thread.
unsafe impl Send for Tsfn {}
// SAFETY: as above: shared use is limited to `napi_call_threadsafe_function`, which Node-API
// documents as thread-safe.
unsafe impl Sync for Tsfn {}

/// What one JS environment shares with posting threads.
struct EnvShared {
    /// Ids of started ports that have something since JS last took them.
    ready: Mutex<Vec<u32>>,
    /// The wake function; `None` once the env is torn down (then nothing is called). Posting
    /// threads call it under the *read* lock, after releasing `ready`: the JS thread taking the
    /// ready list must never wait for a posting thread inside `uv_async_send` (measured: that
    /// contention alone cost ~10 µs per wake-up). The cleanup hook takes the write lock, so no
    /// call can be in flight when the function is released.
    tsfn: RwLock<Option<Tsfn>>,
}

impl EnvShared {
    fn notify(&self, id: u32) {
        let was_empty = {
            let mut ready = self.ready.lock();
            let was_empty = ready.is_empty();
            ready.push(id);
            was_empty
        };
        if was_empty {
            let guard = self.tsfn.read();
            let Some(tsfn) = *guard else { return };
            // SAFETY: the tsfn is live while `tsfn` is Some and we hold the read lock (the
            // cleanup hook takes it out under the write lock before releasing it);
            // non-blocking call, no JS runs here.
            unsafe {
                sys::napi_call_threadsafe_function(
                    tsfn.0,
                    ptr::null_mut(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                );
            }
        }
    }
}

thread_local! {
    /// The env of the JS thread this is (Node runs each env on its own thread).
    static ENV: std::cell::RefCell<Option<Arc<EnvShared>>> = const { std::cell::RefCell::new(None) };
    /// Ports owned by this thread's env by id, held weakly (the NativePort objects own them).
    /// Thread-local, not behind a lock: everything that touches it (calls from JS, finalizers,
    /// the env cleanup hook) runs on the env's own thread.
    static PORTS: std::cell::RefCell<HashMap<u32, Weak<PortCell>>> =
        std::cell::RefCell::new(HashMap::new());
}

thread_local! {
    /// This env's post scratch buffer (see [`set_scratch`]): base pointer and length.
    static SCRATCH: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
    /// This env's receive scratch buffer (see [`set_recv_scratch`]).
    static RECV_SCRATCH: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
}

fn forget_port(id: u32) {
    let _ = PORTS.try_with(|m| m.borrow_mut().remove(&id));
}

fn current_env() -> Result<Arc<EnvShared>> {
    ENV.with(|e| e.borrow().clone()).ok_or_else(|| {
        Error::new(
            Status::GenericFailure,
            "webmessaging: native module not initialised",
        )
    })
}

/// The port handle, shared with the env's cleanup list (which holds it weakly).
struct PortCell {
    port: Mutex<Option<wm::MessagePort>>,
    /// The env whose JS owns this handle.
    env: Arc<EnvShared>,
}

/// The native side of one `MessagePort`.
#[napi]
pub struct NativePort {
    id: u32,
    cell: Arc<PortCell>,
}

impl NativePort {
    fn adopt(port: wm::MessagePort, env: &Arc<EnvShared>) -> NativePort {
        let id = NEXT_PORT_ID.fetch_add(1, Ordering::Relaxed);
        let cell = Arc::new(PortCell {
            port: Mutex::new(Some(port.clone())),
            env: env.clone(),
        });
        PORTS.with(|m| m.borrow_mut().insert(id, Arc::downgrade(&cell)));
        // Enabled at once: whether to deliver is decided on the JS side (Node's start/stop
        // rules); the notifier only says "this port has something".
        let weak = Arc::downgrade(env);
        port.set_notifier(Some(Arc::new(move || {
            if let Some(env) = weak.upgrade() {
                env.notify(id);
            }
        })));
        port.start();
        NativePort { id, cell }
    }
}

impl Drop for NativePort {
    fn drop(&mut self) {
        // The JS object was collected: drop the port (closing it, reason Dropped, unless it was
        // transferred away meanwhile).
        forget_port(self.id);
        let port = self.cell.port.lock().take();
        drop(port);
    }
}

/// The batch layout `Batch` in index.js reads: a little-endian u32 `end` code, a u32 `count`,
/// `count` u32 end offsets into the data, then every message's bytes back to back. Each
/// message's bytes are copied once, straight from the core's message into the batch.
fn batch_bytes<'a>(end: u32, messages: impl Iterator<Item = &'a [u8]> + Clone) -> Vec<u8> {
    let (count, total) = messages
        .clone()
        .fold((0usize, 0usize), |(n, t), m| (n + 1, t + m.len()));
    let mut out = Vec::with_capacity(8 + 4 * count + total);
    out.extend_from_slice(&end.to_le_bytes());
    out.extend_from_slice(&(count as u32).to_le_bytes());
    let mut at = 0u32;
    for m in messages.clone() {
        at += m.len() as u32;
        out.extend_from_slice(&at.to_le_bytes());
    }
    for m in messages {
        out.extend_from_slice(m);
    }
    out
}

/// Batches at least this large are handed to JS as an external Buffer over the Rust bytes
/// (moved, not copied); smaller ones are copied, which is cheaper than an external's finalizer.
const EXTERNAL_MIN: usize = 64 * 1024;

fn batch_buffer(env: &Env, out: Vec<u8>) -> Result<BufferSlice<'_>> {
    if out.len() >= EXTERNAL_MIN {
        BufferSlice::from_data(env, out)
    } else {
        BufferSlice::copy_from(env, &out)
    }
}

/// The `end` code of a batch closed by `n`: 1 closed here or 2 by the peer, with the
/// [`wm::CloseReason`] in bits 8..16 (0 closed, 1 dropped, 2 doomed).
fn close_code(n: wm::CloseNotice) -> u32 {
    let reason = match n.reason {
        wm::CloseReason::Closed => 0,
        wm::CloseReason::Dropped => 1,
        wm::CloseReason::Doomed => 2,
    };
    (if n.by_peer { 2 } else { 1 }) | (reason << 8)
}

fn js_error(e: wm::Error) -> Error {
    // "Name: message": index.js turns this into a DOMException with that name.
    Error::new(Status::GenericFailure, format!("{}: {}", e.name(), e))
}

unsafe extern "C" fn call_wake(
    env: sys::napi_env,
    js_callback: sys::napi_value,
    _context: *mut c_void,
    _data: *mut c_void,
) {
    if env.is_null() || js_callback.is_null() {
        return;
    }
    let mut undefined = ptr::null_mut();
    let mut result = ptr::null_mut();
    // SAFETY: called by Node on the env's thread with a live env and callback value.
    unsafe {
        sys::napi_get_undefined(env, &mut undefined);
        sys::napi_call_function(env, undefined, js_callback, 0, ptr::null(), &mut result);
    }
}

/// Sets up this env: `wake` is called (with no arguments) whenever started ports have
/// something; it should call [`take_ready`] and drain those ports. Idempotent per env.
#[napi]
pub fn init(env: Env, wake: Function<(), ()>) -> Result<()> {
    if ENV.with(|e| e.borrow().is_some()) {
        return Ok(());
    }
    let mut name = ptr::null_mut();
    let mut tsfn = ptr::null_mut();
    let raw_env = env.raw();
    // SAFETY: plain Node-API calls on the env's own thread with valid arguments.
    unsafe {
        let label = "webmessaging";
        check(sys::napi_create_string_utf8(
            raw_env,
            label.as_ptr().cast(),
            label.len() as isize,
            &mut name,
        ))?;
        check(sys::napi_create_threadsafe_function(
            raw_env,
            wake.raw(),
            ptr::null_mut(),
            name,
            0,
            1,
            ptr::null_mut(),
            None,
            ptr::null_mut(),
            Some(call_wake),
            &mut tsfn,
        ))?;
        // Unref'd until a port with a 'message' listener refs it.
        check(sys::napi_unref_threadsafe_function(raw_env, tsfn))?;
    }
    let shared = Arc::new(EnvShared {
        ready: Mutex::new(Vec::new()),
        tsfn: RwLock::new(Some(Tsfn(tsfn))),
    });
    ENV.with(|e| *e.borrow_mut() = Some(shared.clone()));
    env.add_env_cleanup_hook(shared, |shared| {
        // The env is going away (process exit or a Worker terminating): stop every delivery
        // into it, then close its ports so their peers see 'close'.
        let tsfn = shared.tsfn.write().take();
        if let Some(t) = tsfn {
            // SAFETY: the env is still valid during its cleanup hooks; after this no thread
            // calls the tsfn (it was taken out of `wake` under the lock).
            unsafe {
                sys::napi_release_threadsafe_function(
                    t.0,
                    sys::ThreadsafeFunctionReleaseMode::abort,
                );
            }
        }
        let cells: Vec<_> = PORTS
            .try_with(|m| {
                m.borrow_mut()
                    .drain()
                    .filter_map(|(_, w)| w.upgrade())
                    .collect()
            })
            .unwrap_or_default();
        for cell in cells {
            let port = cell.port.lock().take();
            if let Some(p) = port {
                p.close();
            }
        }
        ENV.with(|e| {
            if let Ok(mut e) = e.try_borrow_mut() {
                *e = None;
            }
        });
    })?;
    Ok(())
}

fn check(status: sys::napi_status) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::from(status), "Node-API call failed"))
    }
}

/// Refs (`true`) or unrefs the env's wake-up handle: while ref'd it keeps the event loop alive.
#[napi]
pub fn set_env_ref(env: Env, referenced: bool) -> Result<()> {
    let shared = current_env()?;
    let guard = shared.tsfn.read();
    if let Some(t) = *guard {
        // SAFETY: on the env's thread, tsfn live while Some under the read lock.
        unsafe {
            if referenced {
                check(sys::napi_ref_threadsafe_function(env.raw(), t.0))?;
            } else {
                check(sys::napi_unref_threadsafe_function(env.raw(), t.0))?;
            }
        }
    }
    Ok(())
}

/// Ids of started ports that have something to deliver since the last call: null, one id (the
/// common case, no array to build), or an array of ids.
#[napi]
pub fn take_ready() -> Result<Option<Either<u32, Vec<u32>>>> {
    let shared = current_env()?;
    let mut ready = shared.ready.lock();
    Ok(match ready.len() {
        0 => None,
        1 => ready.pop().map(Either::A),
        _ => Some(Either::B(std::mem::take(&mut *ready))),
    })
}

/// A new entangled pair, as `[port1, port2]`.
#[napi]
pub fn channel() -> Result<Vec<NativePort>> {
    let env = current_env()?;
    let (a, b) = wm::MessageChannel::new().into_ports();
    Ok(vec![NativePort::adopt(a, &env), NativePort::adopt(b, &env)])
}

/// Moves `port` out of this env under a token that [`import_port`] claims once, from any env.
#[napi]
pub fn export_port(id: u32) -> Result<BigInt> {
    let port = lookup(id)?;
    let p = port.cell.port.lock().take();
    let Some(p) = p else {
        return Err(js_error(wm::Error::DataCloneError(
            "the port is detached (closed or already transferred)".into(),
        )));
    };
    if p.is_detached() {
        return Err(js_error(wm::Error::DataCloneError(
            "the port is closed".into(),
        )));
    }
    let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
    EXPORTED
        .lock()
        .get_or_insert_with(HashMap::new)
        .insert(token, p);
    Ok(BigInt::from(token))
}

/// Claims a port exported by [`export_port`]; errors if the token is unknown or already used.
#[napi]
pub fn import_port(token: BigInt) -> Result<NativePort> {
    let env = current_env()?;
    let (_, t, _) = token.get_u64();
    let p = EXPORTED.lock().as_mut().and_then(|m| m.remove(&t));
    match p {
        Some(p) => Ok(NativePort::adopt(p, &env)),
        None => Err(js_error(wm::Error::DataCloneError(
            "unknown port token (never exported, or already imported)".into(),
        ))),
    }
}

/// A port looked up by id: what the `port*` functions work on.
struct Handle {
    id: u32,
    cell: Arc<PortCell>,
}

impl Handle {
    fn port(&self) -> Option<wm::MessagePort> {
        self.cell.port.lock().clone()
    }

    /// Posts the first `len` bytes of `data` (serialized) with the ports and ArrayBuffers they
    /// transfer (in the order of their `\`/`t` indices); transferred ArrayBuffers are copied out
    /// and detached. Returns whether the post doomed the channel (the peer was in `ports`).
    fn post(
        &self,
        data: BufferSlice,
        len: u32,
        ports: Option<Vec<Handle>>,
        buffers: Option<Vec<ArrayBuffer>>,
        bounded: bool,
    ) -> Result<bool> {
        let transfer: Vec<wm::MessagePort> = match &ports {
            None => Vec::new(),
            Some(list) => {
                let mut v = Vec::with_capacity(list.len());
                for (i, np) in list.iter().enumerate() {
                    match np.port() {
                        Some(p) => v.push(p),
                        None => {
                            return Err(js_error(wm::Error::DataCloneError(format!(
                                "port {i} of the transfer list is detached"
                            ))))
                        }
                    }
                }
                v
            }
        };
        let mut array_buffers = Vec::new();
        if let Some(bufs) = &buffers {
            for b in bufs {
                array_buffers.push(b.to_vec());
            }
        }
        let Some(me) = self.port() else {
            // A transferred or exported handle: the post goes nowhere (like a closed port).
            return Ok(false);
        };
        let was_entangled = !transfer.is_empty() && me.is_entangled();
        let len = (len as usize).min(data.len());
        let payload = wm::Payload {
            data: data[..len].to_vec(),
            array_buffers,
        };
        // Bounded (tryPost): fails with Full when the peer's capacity is reached, with nothing
        // detached or sent.
        if bounded {
            me.try_post(payload, &transfer)
        } else {
            me.post_message(payload, &transfer)
        }
        .map_err(js_error)?;
        // Posting the peer through its own channel ("doomed") disentangles us at once.
        let doomed = was_entangled && !me.is_entangled();
        if let Some(bufs) = buffers {
            for b in bufs {
                b.detach()?;
            }
        }
        if let Some(list) = ports {
            for np in list {
                np.cell.port.lock().take();
                forget_port(np.id);
            }
        }
        Ok(doomed)
    }

    /// Messages waiting in the queue (not counting a close record).
    fn depth(&self) -> u32 {
        self.port().map_or(0, |p| p.metrics().depth as u32)
    }

    /// Closes the port (both ends get a close record after everything already sent).
    fn close(&self) {
        if let Some(p) = self.port() {
            p.close();
        }
    }

    /// Whether the handle is gone (transferred, exported) or the port closed.
    fn detached(&self) -> bool {
        self.port().is_none_or(|p| p.is_detached())
    }

    /// Takes up to `max` messages in one crossing. Returns null when there is nothing; else a
    /// Buffer, or `[Buffer, extras]` when some message transferred something. The Buffer holds a
    /// little-endian u32 `end` (0, or 1 closed here / 2 closed by the peer when the close record
    /// followed the messages, or 3 when the handle was transferred away), a u32 `count`, `count`
    /// u32 end offsets, then every message's bytes back to back (message `i` spans
    /// `ends[i-1]..ends[i]` of that data). `extras` lists `[i, ports[] | null, ArrayBuffer[] |
    /// null]` for the messages that transferred something. One Buffer per batch, because every
    /// JS object made here costs more than the messages themselves.
    fn drain<'e>(
        &self,
        env: &'e Env,
        max: u32,
    ) -> Result<Option<Either3<BufferSlice<'e>, Array<'e>, u32>>> {
        let mut messages: Vec<Vec<u8>> = Vec::new();
        let mut extras: Option<Array<'e>> = None;
        let mut end = 0u32;
        match self.port() {
            None => end = 3,
            Some(p) => {
                for _ in 0..max {
                    match p.try_recv() {
                        Ok(Some(mut m)) => {
                            let i = messages.len() as u32;
                            messages.push(std::mem::take(&mut m.data));
                            if !m.ports.is_empty() || !m.array_buffers.is_empty() {
                                let list = match &mut extras {
                                    Some(l) => l,
                                    None => extras.insert(env.create_array(0)?),
                                };
                                list.insert(self.extra(env, i, m)?)?;
                            }
                        }
                        Ok(None) => break,
                        Err(wm::Error::Closed(n)) => {
                            end = close_code(n);
                            break;
                        }
                        Err(wm::Error::InvalidStateError(_)) => {
                            end = 3;
                            break;
                        }
                        Err(e) => return Err(js_error(e)),
                    }
                }
            }
        }
        if messages.is_empty() && end == 0 {
            return Ok(None);
        }
        let out = batch_bytes(end, messages.iter().map(Vec::as_slice));
        let lone = messages.len() <= 1;
        drop(messages);
        if lone && extras.is_none() {
            // A lone message (the latency-bound case): hand it over in this env's receive
            // scratch, skipping the Buffer allocation. JS decodes it before anything else runs.
            let (base, size) = RECV_SCRATCH.with(|s| s.get());
            if base != 0 && out.len() <= size {
                // SAFETY: `set_recv_scratch` registered this memory and keeps its Buffer alive
                // for the env's lifetime; it is private to index.js; we are inside a synchronous
                // call on the env's thread, so no JS touches it while we write.
                unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), base as *mut u8, out.len()) };
                return Ok(Some(Either3::C(out.len() as u32)));
            }
        }
        let buf = batch_buffer(env, out)?;
        Ok(Some(match extras {
            None => Either3::A(buf),
            Some(x) => {
                let mut pair = env.create_array(2)?;
                pair.set(0, buf)?;
                pair.set(1, x)?;
                Either3::B(pair)
            }
        }))
    }

    fn extra<'e>(&self, env: &'e Env, i: u32, m: wm::Message) -> Result<Array<'e>> {
        let mut entry = env.create_array(3)?;
        entry.set(0, i)?;
        if m.ports.is_empty() {
            entry.set(1, Null)?;
        } else {
            let ports: Vec<NativePort> = m
                .ports
                .into_iter()
                .map(|p| NativePort::adopt(p, &self.cell.env))
                .collect();
            entry.set(1, ports)?;
        }
        if m.array_buffers.is_empty() {
            entry.set(2, Null)?;
        } else {
            let mut abs = env.create_array(0)?;
            for b in m.array_buffers {
                abs.insert(ArrayBuffer::from_data(env, b)?)?;
            }
            entry.set(2, abs)?;
        }
        Ok(entry)
    }

    /// Queue counters (beyond the standard).
    fn metrics(&self) -> Vec<f64> {
        let m = self.port().map(|p| p.metrics()).unwrap_or_default();
        vec![
            m.depth as f64,
            m.queued_bytes as f64,
            m.high_water_mark as f64,
            m.enqueued as f64,
            m.delivered as f64,
            m.posted as f64,
            m.dropped as f64,
        ]
    }
}

#[napi]
impl NativePort {
    /// This port's id: the `port*` functions below take it. (Calls on a napi class instance
    /// cost ~10x a plain function call, so the hot paths are plain functions over an id; the
    /// class instance only owns the port, so that garbage collection closes it.)
    #[napi(getter)]
    pub fn id(&self) -> u32 {
        self.id
    }
}

fn lookup(id: u32) -> Result<Handle> {
    let cell = PORTS.with(|m| m.borrow().get(&id).and_then(Weak::upgrade));
    match cell {
        Some(cell) => Ok(Handle { id, cell }),
        // Gone (collected, or never ours): a handle on nothing, like a transferred port.
        None => Ok(Handle {
            id,
            cell: Arc::new(PortCell {
                port: Mutex::new(None),
                env: current_env()?,
            }),
        }),
    }
}

/// Posts the first `len` bytes of `data` on port `id` (see `Handle::post`).
#[napi]
pub fn port_post(
    id: u32,
    data: BufferSlice,
    len: u32,
    ports: Option<Vec<u32>>,
    buffers: Option<Vec<ArrayBuffer>>,
) -> Result<bool> {
    let ports = match ports {
        None => None,
        Some(ids) => Some(ids.into_iter().map(lookup).collect::<Result<Vec<_>>>()?),
    };
    lookup(id)?.post(data, len, ports, buffers, false)
}

/// Like [`port_post`] but respecting the receiver's capacity: throws `Full: ...` when there is
/// no room, with nothing detached or sent.
#[napi]
pub fn port_try_post(
    id: u32,
    data: BufferSlice,
    len: u32,
    ports: Option<Vec<u32>>,
    buffers: Option<Vec<ArrayBuffer>>,
) -> Result<bool> {
    let ports = match ports {
        None => None,
        Some(ids) => Some(ids.into_iter().map(lookup).collect::<Result<Vec<_>>>()?),
    };
    lookup(id)?.post(data, len, ports, buffers, true)
}

/// Limits port `id`'s receiving queue (null or a negative number: no limit on that measure).
/// The limit travels with the port when it is transferred.
#[napi]
pub fn port_set_capacity(id: u32, max_messages: Option<f64>, max_bytes: Option<f64>) -> Result<()> {
    let limit = |v: Option<f64>| v.filter(|x| *x >= 0.0).map(|x| x as usize);
    if let Some(p) = lookup(id)?.port() {
        p.set_capacity(wm::Capacity {
            max_messages: limit(max_messages),
            max_bytes: limit(max_bytes),
        });
    }
    Ok(())
}

/// Puts one message that JS took from port `id` (in a batch) but did not deliver back at the
/// front of the port's queue, with the ports (by id) and ArrayBuffers it carried, so it travels
/// with the port when the port is transferred or exported. index.js calls it for the last
/// undelivered message first. The carried ports' native objects are emptied: JS never saw them.
#[napi]
pub fn port_unshift(
    id: u32,
    data: &[u8],
    ports: Option<Vec<u32>>,
    buffers: Option<Vec<ArrayBuffer>>,
) -> Result<()> {
    let Some(port) = lookup(id)?.cell.port.lock().clone() else {
        return Err(js_error(wm::Error::InvalidStateError(
            "the port was transferred".into(),
        )));
    };
    let carried: Vec<Handle> = ports
        .unwrap_or_default()
        .into_iter()
        .map(lookup)
        .collect::<Result<_>>()?;
    let handles = carried
        .iter()
        .map(|h| {
            h.cell.port.lock().clone().ok_or_else(|| {
                js_error(wm::Error::DataCloneError(
                    "a carried port is no longer here".into(),
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let array_buffers = buffers
        .unwrap_or_default()
        .iter()
        .map(|b| b.to_vec())
        .collect();
    port.requeue_front(wm::Message {
        data: data.to_vec(),
        array_buffers,
        ports: handles,
    })
    .map_err(js_error)?;
    // The ports now ride in the queue again; their native objects hold detached handles.
    for h in carried {
        forget_port(h.id);
        drop(h.cell.port.lock().take());
    }
    Ok(())
}

/// Posts the first `len` bytes of `data` on port `id`, transferring nothing: the hot path.
#[napi]
pub fn port_post_bytes(id: u32, data: &[u8], len: u32) -> Result<()> {
    let cell = PORTS.with(|m| m.borrow().get(&id).and_then(Weak::upgrade));
    let port = cell.and_then(|c| c.port.lock().clone());
    if let Some(p) = port {
        let len = (len as usize).min(data.len());
        p.post_message(data[..len].to_vec(), &[])
            .map_err(js_error)?;
    }
    Ok(())
}

/// Registers this env's scratch Buffer: the JS fast path serializes into it, then posts with
/// [`port_post_scratch`], passing only numbers (converting a Buffer argument costs as much as
/// the post itself). The Buffer must own its memory (`Buffer.allocUnsafeSlow`) and stay private
/// to the package; a reference keeps it alive for the env's lifetime.
#[napi]
pub fn set_scratch(env: Env, buf: BufferSlice) -> Result<()> {
    let mut reference = ptr::null_mut();
    // SAFETY: a plain Node-API call on the env's thread with a live value; the reference is
    // deliberately kept until the env goes away, so the memory below stays valid.
    check(unsafe { sys::napi_create_reference(env.raw(), buf.raw(), 1, &mut reference) })?;
    SCRATCH.with(|s| s.set((buf.as_ptr() as usize, buf.len())));
    Ok(())
}

/// Registers this env's receive scratch Buffer: a drain that finds a single message writes it
/// there and returns its length instead of allocating a Buffer. Same rules as [`set_scratch`].
#[napi]
pub fn set_recv_scratch(env: Env, mut buf: BufferSlice) -> Result<()> {
    let mut reference = ptr::null_mut();
    // SAFETY: as in `set_scratch`: the reference keeps the Buffer alive for the env's lifetime.
    check(unsafe { sys::napi_create_reference(env.raw(), buf.raw(), 1, &mut reference) })?;
    RECV_SCRATCH.with(|s| s.set((buf.as_mut_ptr() as usize, buf.len())));
    Ok(())
}

/// Posts the first `len` bytes of this env's scratch Buffer on port `id`, transferring nothing.
#[napi]
pub fn port_post_scratch(id: u32, len: u32) -> Result<()> {
    let (base, size) = SCRATCH.with(|s| s.get());
    if base == 0 {
        return Err(Error::new(
            Status::GenericFailure,
            "no scratch buffer registered",
        ));
    }
    // SAFETY: `set_scratch` registered this memory and holds a reference to its Buffer for the
    // env's lifetime; the Buffer is private to index.js/codec.js and never detached; this runs
    // on the env's thread during a synchronous call, so no JS writes to it meanwhile.
    let data = unsafe { std::slice::from_raw_parts(base as *const u8, size) };
    let cell = PORTS.with(|m| m.borrow().get(&id).and_then(Weak::upgrade));
    let port = cell.and_then(|c| c.port.lock().clone());
    if let Some(p) = port {
        let len = (len as usize).min(data.len());
        p.post_message(data[..len].to_vec(), &[])
            .map_err(js_error)?;
    }
    Ok(())
}

/// Takes up to `max` messages from port `id` (see `Handle::drain`).
#[napi]
pub fn port_drain(
    env: &Env,
    id: u32,
    max: u32,
) -> Result<Option<Either3<BufferSlice<'_>, Array<'_>, u32>>> {
    lookup(id)?.drain(env, max)
}

/// Schedules a drain of port `id` through the env's wake-up (a later loop turn).
#[napi]
pub fn port_poke(id: u32) -> Result<()> {
    // By id alone: broadcast channels share the id space and the env's ready list.
    current_env()?.notify(id);
    Ok(())
}

/// Messages waiting in port `id`'s queue (not counting a close record).
#[napi]
pub fn port_depth(id: u32) -> Result<u32> {
    Ok(lookup(id)?.depth())
}

/// Closes port `id`.
#[napi]
pub fn port_close(id: u32) -> Result<()> {
    lookup(id)?.close();
    Ok(())
}

/// Whether port `id`'s handle is gone (transferred, exported) or the port closed.
#[napi]
pub fn port_detached(id: u32) -> Result<bool> {
    Ok(lookup(id)?.detached())
}

/// Queue counters of port `id`: depth, queued bytes, high-water mark, enqueued, delivered,
/// posted, dropped.
#[napi]
pub fn port_metrics(id: u32) -> Result<Vec<f64>> {
    Ok(lookup(id)?.metrics())
}

/// Decodes wire bytes with the Rust core's codec and encodes the resulting value graph again
/// (the cross-language tests use it: Node's bytes must read in Rust as the same graph, which the
/// core's canonical writer then reproduces byte for byte).
#[napi(js_name = "_coreReencode")]
pub fn core_reencode(data: BufferSlice) -> Result<Buffer> {
    let graph = wm::clone::decode(&data).map_err(|e| js_error(wm::Error::DecodeError(e)))?;
    let bytes = wm::clone::encode(&graph).map_err(js_error)?;
    Ok(bytes.into())
}

// --- BroadcastChannel ---------------------------------------------------------------------

/// A broadcast channel handle, shared with the env's registry (which holds it weakly).
struct BroadcastCell {
    channel: wm::BroadcastChannel,
}

/// Broadcast channels of this thread by id (ids share the port id space, so one ready list
/// serves both).
fn broadcasts() -> &'static Mutex<HashMap<u32, Weak<BroadcastCell>>> {
    static MAP: std::sync::OnceLock<Mutex<HashMap<u32, Weak<BroadcastCell>>>> =
        std::sync::OnceLock::new();
    MAP.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The native side of one `BroadcastChannel`: owns the core channel (closed when collected).
#[napi]
pub struct NativeBroadcast {
    id: u32,
    cell: Arc<BroadcastCell>,
}

#[napi]
impl NativeBroadcast {
    /// Id for the `broadcast*` functions and the env's ready list.
    #[napi(getter)]
    pub fn id(&self) -> u32 {
        self.id
    }
}

impl Drop for NativeBroadcast {
    fn drop(&mut self) {
        broadcasts().lock().remove(&self.id);
        self.cell.channel.close();
    }
}

/// Opens a broadcast channel named `name` (all channels of this process share one origin);
/// its notifier wakes this env.
#[napi]
pub fn broadcast_open(name: String) -> Result<NativeBroadcast> {
    let env = current_env()?;
    let id = NEXT_PORT_ID.fetch_add(1, Ordering::Relaxed);
    let channel = wm::BroadcastChannel::new(&name, None);
    let weak = Arc::downgrade(&env);
    channel.set_notifier(Some(Arc::new(move || {
        if let Some(env) = weak.upgrade() {
            env.notify(id);
        }
    })));
    let cell = Arc::new(BroadcastCell { channel });
    broadcasts().lock().insert(id, Arc::downgrade(&cell));
    Ok(NativeBroadcast { id, cell })
}

fn broadcast(id: u32) -> Option<Arc<BroadcastCell>> {
    broadcasts().lock().get(&id).and_then(Weak::upgrade)
}

/// Posts the first `len` bytes of `data` to every other open channel of the same name.
#[napi]
pub fn broadcast_post(id: u32, data: &[u8], len: u32) -> Result<()> {
    let Some(cell) = broadcast(id) else {
        return Err(js_error(wm::Error::InvalidStateError(
            "BroadcastChannel is closed.".into(),
        )));
    };
    let len = (len as usize).min(data.len());
    cell.channel
        .post_message(data[..len].to_vec())
        .map_err(js_error)
}

/// Closes the channel (idempotent).
#[napi]
pub fn broadcast_close(id: u32) {
    if let Some(cell) = broadcast(id) {
        cell.channel.close();
    }
}

/// Takes up to `max` messages, in the batch format of `port_drain` (never with extras).
#[napi]
pub fn broadcast_drain(env: &Env, id: u32, max: u32) -> Result<Option<BufferSlice<'_>>> {
    let Some(cell) = broadcast(id) else {
        return Ok(None);
    };
    let mut messages: Vec<Vec<u8>> = Vec::new();
    let mut end = 0u32;
    for _ in 0..max {
        match cell.channel.try_recv() {
            Ok(Some(event)) => messages.push(event.data),
            Ok(None) => break,
            Err(wm::Error::Closed(_)) => {
                end = 1;
                break;
            }
            Err(e) => return Err(js_error(e)),
        }
    }
    if messages.is_empty() && end == 0 {
        return Ok(None);
    }
    let out = batch_bytes(end, messages.iter().map(Vec::as_slice));
    Ok(Some(batch_buffer(env, out)?))
}

// --- Window ---------------------------------------------------------------------------------

/// Every live window of the process by id (weak: the NativeWindow objects own them), so an
/// event's `source` can be mapped back to the JS object of that window.
fn windows() -> &'static Mutex<HashMap<u32, wm::WindowProxy>> {
    static MAP: std::sync::OnceLock<Mutex<HashMap<u32, wm::WindowProxy>>> =
        std::sync::OnceLock::new();
    MAP.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The native side of one `Window` (a stand-in for a browsing context with an origin).
#[napi]
pub struct NativeWindow {
    id: u32,
    _window: wm::Window,
}

#[napi]
impl NativeWindow {
    /// Id for the `window*` functions and the env's ready list.
    #[napi(getter)]
    pub fn id(&self) -> u32 {
        self.id
    }
}

impl Drop for NativeWindow {
    fn drop(&mut self) {
        windows().lock().remove(&self.id);
    }
}

fn window(id: u32) -> Result<wm::Window> {
    windows()
        .lock()
        .get(&id)
        .and_then(wm::WindowProxy::window)
        .ok_or_else(|| js_error(wm::Error::InvalidStateError("the window is gone".into())))
}

/// Opens a window whose document has the origin of `url` (an opaque origin when null); its
/// notifier wakes this env.
#[napi]
pub fn window_open(url: Option<String>) -> Result<NativeWindow> {
    let env = current_env()?;
    let origin = match url {
        Some(u) => wm::Origin::parse(&u).map_err(js_error)?,
        None => wm::Origin::opaque(),
    };
    let id = NEXT_PORT_ID.fetch_add(1, Ordering::Relaxed);
    let w = wm::Window::new(origin);
    let weak = Arc::downgrade(&env);
    w.set_notifier(Some(Arc::new(move || {
        if let Some(env) = weak.upgrade() {
            env.notify(id);
        }
    })));
    windows().lock().insert(id, w.proxy());
    Ok(NativeWindow { id, _window: w })
}

/// The window's origin, ASCII-serialized (`"null"` when opaque).
#[napi]
pub fn window_origin(id: u32) -> Result<String> {
    Ok(window(id)?.origin().ascii_serialization())
}

/// Navigates the window to a document with the origin of `url`.
#[napi]
pub fn window_navigate(id: u32, url: String) -> Result<()> {
    let origin = wm::Origin::parse(&url).map_err(js_error)?;
    window(id)?.navigate(origin);
    Ok(())
}

/// Checks a target origin (`"*"`, `"/"` or a URL) before anything is serialized.
#[napi]
pub fn window_check_target(source: u32, target_origin: String) -> Result<()> {
    wm::TargetOrigin::parse(&target_origin, &window(source)?).map_err(js_error)?;
    Ok(())
}

/// `target.postMessage(bytes, targetOrigin, transfer)` sent by window `source`.
#[napi]
pub fn window_post(
    target: u32,
    data: &[u8],
    len: u32,
    target_origin: String,
    source: u32,
    ports: Option<Vec<u32>>,
) -> Result<()> {
    let handles = match ports {
        None => Vec::new(),
        Some(ids) => ids.into_iter().map(lookup).collect::<Result<Vec<_>>>()?,
    };
    let mut transfer = Vec::with_capacity(handles.len());
    for (i, h) in handles.iter().enumerate() {
        match h.port() {
            Some(p) => transfer.push(p),
            None => {
                return Err(js_error(wm::Error::DataCloneError(format!(
                    "port {i} of the transfer list is detached"
                ))))
            }
        }
    }
    let len = (len as usize).min(data.len());
    window(target)?
        .post_message(
            data[..len].to_vec(),
            &target_origin,
            &transfer,
            &window(source)?,
        )
        .map_err(js_error)?;
    for h in handles {
        h.cell.port.lock().take();
        forget_port(h.id);
    }
    Ok(())
}

/// Takes up to `max` deliverable events: `[data Buffer, origin, source id | null, ports | null]`
/// each (events whose target origin no longer matches were dropped by the core, silently).
#[napi]
pub fn window_drain(env: &Env, id: u32, max: u32) -> Result<Array<'_>> {
    let w = window(id)?;
    let mut out = env.create_array(0)?;
    for _ in 0..max {
        let Some(event) = w.try_recv() else { break };
        let mut entry = env.create_array(4)?;
        entry.set(0, BufferSlice::copy_from(env, &event.data)?)?;
        entry.set(1, event.origin.as_str())?;
        let source = event.source.as_ref().and_then(|s| {
            windows()
                .lock()
                .iter()
                .find(|(_, p)| *p == s)
                .map(|(id, _)| *id)
        });
        match source {
            Some(s) => entry.set(2, s)?,
            None => entry.set(2, Null)?,
        }
        if event.ports.is_empty() {
            entry.set(3, Null)?;
        } else {
            let env_shared = current_env()?;
            let ports: Vec<NativePort> = event
                .ports
                .into_iter()
                .map(|p| NativePort::adopt(p, &env_shared))
                .collect();
            entry.set(3, ports)?;
        }
        out.insert(entry)?;
    }
    Ok(out)
}
