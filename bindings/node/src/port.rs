//! The native side of `MessagePort`: [`NativePort`] owns one core port (closed when the JS
//! object is collected); the `port*` functions work on a port by id (plain functions: a napi
//! class method call costs ~10x); `exportPort`/`importPort` move a port between envs.

use std::collections::HashMap;
use std::ffi::c_void;
use std::hash::{BuildHasherDefault, Hasher};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use parking_lot::Mutex;
use webmessaging_core as wm;

use crate::backing;
use crate::env::{current_env, EnvShared, SCRATCH};
use crate::{js_error, NEXT_PORT_ID};

static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// Ports handed from one env to another by [`export_port`] / [`import_port`].
static EXPORTED: Mutex<Option<HashMap<u64, wm::MessagePort>>> = Mutex::new(None);

/// A hasher for the ids and addresses keying this crate's per-thread maps: one multiplication
/// (they are ours, not chosen by an attacker; SipHash cost more than the look-ups it guarded,
/// one per post and several per channel).
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(GOLDEN);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(GOLDEN);
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0 ^ n as u64).wrapping_mul(GOLDEN);
    }
}

/// A map keyed by ids or addresses, hashed with [`IdHasher`].
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

thread_local! {
    /// Ports owned by this thread's env by id, held weakly (the NativePort objects own them).
    /// Thread-local, not behind a lock: everything that touches it (calls from JS, finalizers,
    /// the env cleanup hook) runs on the env's own thread.
    pub(crate) static PORTS: std::cell::RefCell<IdMap<u32, Weak<PortCell>>> =
        std::cell::RefCell::new(IdMap::default());
}

pub(crate) fn forget_port(id: u32) {
    let _ = PORTS.try_with(|m| m.borrow_mut().remove(&id));
}

/// The port handle, shared with the env's cleanup list (which holds it weakly).
pub(crate) struct PortCell {
    pub(crate) port: Mutex<Option<wm::MessagePort>>,
}

/// The native side of one `MessagePort`.
#[napi]
pub struct NativePort {
    id: u32,
    cell: Arc<PortCell>,
}

impl NativePort {
    pub(crate) fn adopt(port: wm::MessagePort, env: &Arc<EnvShared>) -> NativePort {
        let id = NEXT_PORT_ID.fetch_add(1, Ordering::Relaxed);
        NativePort::adopt_as(id, port, env)
    }

    fn adopt_as(id: u32, port: wm::MessagePort, env: &Arc<EnvShared>) -> NativePort {
        let cell = Arc::new(PortCell {
            port: Mutex::new(Some(port.clone())),
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

unsafe extern "C" fn drop_owner(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the Box<NativePort> leaked in `channel_for`, finalized once.
    drop(unsafe { Box::from_raw(data.cast::<NativePort>()) });
}

/// A new entangled pair owned by the JS objects `port1` and `port2` themselves: each gets a
/// finalizer that drops its core port when the object is collected (as a NativePort's would),
/// without a NativePort object per port (a class instance costs more than the rest of a
/// channel). Returns port1's id; port2's is the next one.
#[napi(js_name = "channelFor")]
pub fn channel_for(env: &Env, port1: Object, port2: Object) -> Result<u32> {
    let shared = current_env()?;
    let (a, b) = wm::MessageChannel::new().into_ports();
    let first = NEXT_PORT_ID.fetch_add(2, Ordering::Relaxed);
    for (object, port, id) in [(port1, a, first), (port2, b, first + 1)] {
        let owner = Box::into_raw(Box::new(NativePort::adopt_as(id, port, &shared)));
        // SAFETY: a plain Node-API call on the env's thread with a live object; the finalizer
        // takes `owner` back exactly once, when the object is collected (or the env ends).
        let status = unsafe {
            sys::napi_add_finalizer(
                env.raw(),
                object.raw(),
                owner.cast(),
                Some(drop_owner),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if status != sys::Status::napi_ok {
            // SAFETY: not handed to Node.
            drop(unsafe { Box::from_raw(owner) });
            return Err(Error::new(
                Status::GenericFailure,
                "webmessaging: could not attach a port to its object",
            ));
        }
    }
    Ok(first)
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
pub(crate) struct Handle {
    pub(crate) id: u32,
    pub(crate) cell: Arc<PortCell>,
}

impl Handle {
    pub(crate) fn port(&self) -> Option<wm::MessagePort> {
        self.cell.port.lock().clone()
    }

    /// Posts the first `len` bytes of `data` (serialized) with the ports and ArrayBuffers they
    /// transfer (in the order of their `\`/`t` indices); transferred ArrayBuffers give their
    /// backing stores to the message (see [`backing`]) and are detached. Returns whether the
    /// post doomed the channel (the peer was in `ports`).
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
        // Their backing stores, taken in O(1) (nothing is detached unless the post succeeds).
        let array_buffers = match &buffers {
            Some(bufs) => backing::take(bufs)?,
            None => Vec::new(),
        };
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
            backing::detach(bufs)?;
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

pub(crate) fn lookup(id: u32) -> Result<Handle> {
    let cell = PORTS.with(|m| m.borrow().get(&id).and_then(Weak::upgrade));
    match cell {
        Some(cell) => Ok(Handle { id, cell }),
        // Gone (collected, or never ours): a handle on nothing, like a transferred port.
        None => Ok(Handle {
            id,
            cell: Arc::new(PortCell {
                port: Mutex::new(None),
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
    post_by_id(id, data, len, ports, buffers, false)
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
    post_by_id(id, data, len, ports, buffers, true)
}

/// The body of [`port_post`] and [`port_try_post`]: port ids to ports, then `Handle::post`.
fn post_by_id(
    id: u32,
    data: BufferSlice,
    len: u32,
    ports: Option<Vec<u32>>,
    buffers: Option<Vec<ArrayBuffer>>,
    bounded: bool,
) -> Result<bool> {
    let ports = match ports {
        None => None,
        Some(ids) => Some(ids.into_iter().map(lookup).collect::<Result<Vec<_>>>()?),
    };
    lookup(id)?.post(data, len, ports, buffers, bounded)
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

/// What one handed-back message carried besides its bytes: the ports (by id) and the
/// ArrayBuffers, each null when none.
type Carried<'a> = Option<(Option<Vec<u32>>, Option<Vec<ArrayBuffer<'a>>>)>;

/// Hands the messages JS took from port `id` in a batch but did not deliver back to the front of
/// the port's queue, in one call, so that they travel with the port when it is transferred or
/// exported (lib/drain.js's returnStash). `ranges` holds each message's `start, stop` in `data`,
/// in delivery order; `carried[k]` what message `k` carried, or null. Everything is checked
/// before anything is requeued (a carried port no longer here, a range outside `data`); the
/// messages are then requeued last first, so the queue reads as before the drain. The carried
/// ports' native objects are emptied: JS never saw them.
#[napi]
pub fn port_requeue(
    id: u32,
    data: &[u8],
    ranges: Vec<u32>,
    carried: Vec<Carried<'_>>,
) -> Result<()> {
    let Some(port) = lookup(id)?.port() else {
        return Err(js_error(wm::Error::InvalidStateError(
            "the port was transferred".into(),
        )));
    };
    if ranges.len() != 2 * carried.len() {
        return Err(Error::new(
            Status::InvalidArg,
            "portRequeue: two range ends per message",
        ));
    }
    let mut messages = Vec::with_capacity(carried.len());
    let mut emptied = Vec::new();
    let mut carried_buffers = Vec::new();
    for (k, extra) in carried.into_iter().enumerate() {
        let (start, stop) = (ranges[2 * k] as usize, ranges[2 * k + 1] as usize);
        let Some(bytes) = data.get(start..stop) else {
            return Err(Error::new(
                Status::InvalidArg,
                "portRequeue: a range outside the batch",
            ));
        };
        let (ids, buffers) = extra.unwrap_or((None, None));
        let handles: Vec<Handle> = ids
            .unwrap_or_default()
            .into_iter()
            .map(lookup)
            .collect::<Result<_>>()?;
        let ports = handles
            .iter()
            .map(|h| {
                h.port().ok_or_else(|| {
                    js_error(wm::Error::DataCloneError(
                        "a carried port is no longer here".into(),
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let buffers = buffers.unwrap_or_default();
        messages.push(wm::Message {
            data: bytes.to_vec(),
            array_buffers: backing::take(&buffers)?,
            ports,
        });
        // JS never showed these to anyone: their stores ride in the queue again.
        carried_buffers.push(buffers);
        emptied.extend(handles);
    }
    while let Some(m) = messages.pop() {
        port.requeue_front(m).map_err(js_error)?;
    }
    for buffers in carried_buffers {
        backing::detach(buffers)?;
    }
    // The ports now ride in the queue again; their native objects hold detached handles.
    for h in emptied {
        forget_port(h.id);
        drop(h.cell.port.lock().take());
    }
    Ok(())
}

/// Posts the first `len` bytes of `data` on port `id`, transferring nothing: the hot path.
#[napi]
pub fn port_post_bytes(id: u32, data: &[u8], len: u32) -> Result<()> {
    post_prefix(id, data, len)
}

/// Posts the first `len` bytes of this env's scratch Buffer on port `id`, transferring nothing
/// (JS: `portPostScratch(id, len)`, registered by hand in [`register_hot_paths`]).
pub fn port_post_scratch(id: u32, len: u32) -> Result<()> {
    let (base, size) = SCRATCH.with(|s| s.get());
    if base == 0 {
        return Err(Error::new(
            Status::GenericFailure,
            "no scratch buffer registered",
        ));
    }
    // SAFETY: `set_scratch` registered this memory and holds a reference to its Buffer for the
    // env's lifetime; the Buffer is private to lib/shared.js and codec.js and never detached; this runs
    // on the env's thread during a synchronous call, so no JS writes to it meanwhile.
    let data = unsafe { std::slice::from_raw_parts(base as *const u8, size) };
    post_prefix(id, data, len)
}

thread_local! {
    /// The cell of the port this thread posted on last, by id (ids are never reused), so that a
    /// run of posts on one port skips the map look-up and the weak upgrade. Keeping the cell
    /// alive changes nothing: whatever ends the port's life here (collection, transfer, export,
    /// teardown) empties the cell, and a post on an empty cell goes nowhere, as a post on an
    /// id no longer in [`PORTS`] does.
    static LAST_POSTED: std::cell::RefCell<Option<(u32, Arc<PortCell>)>> =
        const { std::cell::RefCell::new(None) };
}

/// The body of [`port_post_bytes`] and [`port_post_scratch`]: posts `data[..len]` on port `id`
/// if it is still this env's and open, transferring nothing.
fn post_prefix(id: u32, data: &[u8], len: u32) -> Result<()> {
    let data = &data[..(len as usize).min(data.len())];
    LAST_POSTED.with(|last| {
        let mut last = last.borrow_mut();
        if last.as_ref().is_none_or(|(at, _)| *at != id) {
            let Some(cell) = PORTS.with(|m| m.borrow().get(&id).and_then(Weak::upgrade)) else {
                return Ok(());
            };
            *last = Some((id, cell));
        }
        let Some((_, cell)) = &*last else {
            return Ok(());
        };
        // Posted under the cell's lock, without a handle of its own: only this env's thread
        // takes that lock, and posting runs no code of ours or of JS (the receiver's notifier
        // only queues its id for its env).
        let port = cell.port.lock();
        if let Some(p) = &*port {
            p.post_message(data.to_vec(), &[]).map_err(js_error)?;
        }
        Ok(())
    })
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

/// Closes port `id`, and schedules its drain through the env's wake-up (the close record is
/// then found even when an earlier notification is still unanswered).
#[napi]
pub fn port_close(id: u32) -> Result<()> {
    lookup(id)?.close();
    current_env()?.notify(id);
    Ok(())
}

/// The one call made per posted message, as a plain Node-API callback: napi-rs's generated
/// wrapper (argument conversion and a borrow scope per call) cost as much as the post itself.
/// Throws what [`port_post_scratch`] returns as an error.
unsafe extern "C" fn raw_port_post_scratch(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: Node calls this on the env's thread with its valid `env` and `info`.
    let args = unsafe { crate::raw::two_u32_args(env, info) };
    let result = if let Some((id, len)) = args {
        port_post_scratch(id, len)
    } else {
        Err(Error::new(
            Status::InvalidArg,
            "portPostScratch(id, len) takes two numbers",
        ))
    };
    if let Err(e) = result {
        let message = std::ffi::CString::new(e.reason.replace('\0', " ")).unwrap_or_default();
        // SAFETY: a plain Node-API call on the env's thread; the message is NUL-terminated.
        unsafe { sys::napi_throw_error(env, ptr::null(), message.as_ptr()) };
    }
    ptr::null_mut()
}

/// Registers the hand-written Node-API callbacks of the per-message paths on the exports.
#[napi(module_exports)]
pub fn register_hot_paths(mut exports: Object, env: Env) -> Result<()> {
    crate::raw::export_callback(&env, &mut exports, "portPostScratch", raw_port_post_scratch)?;
    crate::raw::export_callback(&env, &mut exports, "drain", crate::drain::raw_drain)?;
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

/// Checks bytes that V8's serializer wrote (values the JS codec leaves to V8) against the core
/// reader's default limits, with `ports` ports and transferred buffers of `buffer_lens` bytes,
/// so a value a receiver would refuse is a `DataCloneError` at the sender, as on the JS path.
#[napi(js_name = "validateForeign")]
pub fn validate_foreign(data: BufferSlice, ports: u32, buffer_lens: Vec<u32>) -> Result<()> {
    let lens: Vec<usize> = buffer_lens.iter().map(|&n| n as usize).collect();
    wm::clone::validate(
        &data,
        &wm::clone::DecodeOptions::default(),
        ports as usize,
        &lens,
    )
    .map_err(|e| {
        js_error(wm::Error::DataCloneError(format!(
            "the value is more than a receiver reads: {e}"
        )))
    })
}

/// Decodes wire bytes with the Rust core's codec and encodes the resulting value graph again
/// (the cross-language tests use it: Node's bytes must read in Rust as the same graph, which the
/// core's canonical writer then reproduces byte for byte). The sparse-array budget is lifted:
/// V8's own vectors include a 2^32 - 1 long sparse array in 15 bytes, which the default
/// reader refuses on purpose.
#[napi(js_name = "_coreReencode")]
pub fn core_reencode(data: BufferSlice) -> Result<Buffer> {
    let limits = wm::clone::Limits {
        sparse_length_base: usize::MAX,
        ..Default::default()
    };
    let decode = wm::clone::DecodeOptions {
        limits: limits.clone(),
        ..Default::default()
    };
    let graph =
        wm::clone::decode_with(&data, &decode).map_err(|e| js_error(wm::Error::DecodeError(e)))?;
    let encode = wm::clone::EncodeOptions {
        limits,
        ..Default::default()
    };
    let bytes = wm::clone::encode_with(&graph, &encode, &[]).map_err(js_error)?;
    Ok(bytes.into())
}
