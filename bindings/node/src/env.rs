//! Each JS environment's wake-up (one `uv_async_t` per env: a crossing per run of delivered
//! events, with Node's tick and microtask checkpoint after each event), its ref count towards
//! process lifetime, its scratch buffers, and its cleanup.

use std::ffi::{c_void, CStr};
use std::ptr;
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use parking_lot::{Mutex, RwLock};

use crate::check;
use crate::linger::Linger;
use crate::port::PORTS;
use crate::spare;

/// libuv's functions, looked up in the host process (Node exports them for addons) when the
/// first env starts: the wake-up is a plain `uv_async_t`, so that its callback runs at the top
/// of the event loop, where each `napi_make_callback` ends with Node's own tick and microtask
/// checkpoint (a threadsafe function's callback runs inside a callback scope of its own, so a
/// checkpoint would only come after the whole batch).
pub(crate) struct Uv {
    async_init: AsyncInit,
    async_send: HandleOp<i32>,
    close: Close,
    ref_: HandleOp<()>,
    unref: HandleOp<()>,
    handle_size: HandleSize,
    /// `uv_backend_fd`: the loop's epoll descriptor, readable when the loop has an event.
    pub(crate) backend_fd: LoopQuery,
    /// `uv_backend_timeout`: how long the loop would sleep now (0: it would not).
    pub(crate) backend_timeout: LoopQuery,
}

type AsyncInit = unsafe extern "C" fn(*mut c_void, *mut c_void, UvAsyncCb) -> i32;
type HandleOp<R> = unsafe extern "C" fn(*mut c_void) -> R;
type Close = unsafe extern "C" fn(*mut c_void, UvCloseCb);
type HandleSize = unsafe extern "C" fn(i32) -> usize;
/// A libuv query on a loop.
pub(crate) type LoopQuery = unsafe extern "C" fn(*const c_void) -> i32;

type UvAsyncCb = unsafe extern "C" fn(*mut c_void);
type UvCloseCb = unsafe extern "C" fn(*mut c_void);

/// libuv's `UV_ASYNC` handle type.
const UV_ASYNC: i32 = 1;

pub(crate) fn uv() -> Result<&'static Uv> {
    static UV: OnceLock<Option<Uv>> = OnceLock::new();
    UV.get_or_init(|| {
        fn sym(name: &CStr) -> Option<*mut c_void> {
            // SAFETY: dlsym with a NUL-terminated name; a null result means "not found".
            let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
            (!p.is_null()).then_some(p)
        }
        // SAFETY: each symbol is libuv's exported function of exactly that C signature.
        unsafe {
            Some(Uv {
                async_init: std::mem::transmute::<*mut c_void, AsyncInit>(sym(c"uv_async_init")?),
                async_send: std::mem::transmute::<*mut c_void, HandleOp<i32>>(sym(
                    c"uv_async_send",
                )?),
                close: std::mem::transmute::<*mut c_void, Close>(sym(c"uv_close")?),
                ref_: std::mem::transmute::<*mut c_void, HandleOp<()>>(sym(c"uv_ref")?),
                unref: std::mem::transmute::<*mut c_void, HandleOp<()>>(sym(c"uv_unref")?),
                handle_size: std::mem::transmute::<*mut c_void, HandleSize>(sym(
                    c"uv_handle_size",
                )?),
                backend_fd: std::mem::transmute::<*mut c_void, LoopQuery>(sym(c"uv_backend_fd")?),
                backend_timeout: std::mem::transmute::<*mut c_void, LoopQuery>(sym(
                    c"uv_backend_timeout",
                )?),
            })
        }
    })
    .as_ref()
    .ok_or_else(|| {
        Error::new(
            Status::GenericFailure,
            "webmessaging: libuv's functions are not exported by this Node",
        )
    })
}

/// An env's `uv_async_t` (memory from `calloc`, freed by its close callback). Other threads
/// only call `uv_async_send` on it, which libuv documents as thread-safe.
#[derive(Clone, Copy)]
struct Handle(*mut c_void);

// SAFETY: see `Handle`: other threads only call `uv_async_send`; init, ref/unref and close
// happen on the owning env's thread.
unsafe impl Send for Handle {}
// SAFETY: as above.
unsafe impl Sync for Handle {}

/// What the wake-up callback needs, on the env's thread (the handle's `data` points here).
struct WakeContext {
    env: sys::napi_env,
    /// The JS wake function.
    wake: sys::napi_ref,
    /// Its async context (one resource, "webmessaging", for every delivery in this env).
    async_context: sys::napi_async_context,
    /// The async cleanup hook, removed once the handle has closed.
    cleanup: sys::napi_async_cleanup_hook_handle,
    /// The env's event loop (libuv's `uv_loop_t`).
    event_loop: *mut c_void,
    /// Whether and how long this thread waits for its next message before the loop sleeps.
    linger: Linger,
}

/// Calls of the JS wake function per event loop turn at most. JS itself ends a port's run as
/// Node does (what was queued when it began, at least 1000 messages) and then returns false;
/// this only guards the event loop against a run that would never end.
const CALLS_PER_TURN: u32 = 1 << 22;

/// What one JS environment shares with posting threads.
pub(crate) struct EnvShared {
    /// Ids of started ports that have something since JS last took them.
    ready: Mutex<Vec<u32>>,
    /// The wake-up handle; `None` once the env is torn down (then nothing is sent). Posting
    /// threads send under the *read* lock, after releasing `ready`: the JS thread taking the
    /// ready list must never wait for a posting thread inside `uv_async_send` (measured: that
    /// contention alone cost ~10 µs per wake-up). The cleanup hook takes the write lock, so no
    /// send can be in flight when the handle closes.
    wake: RwLock<Option<Handle>>,
    /// Whether the env's thread is lingering (crate::linger): it is watching `ready` itself, so
    /// a post needs no wake-up.
    lingering: AtomicBool,
}

impl EnvShared {
    /// Queues `id` as ready and, on the empty → non-empty edge, wakes the env's thread unless
    /// it is lingering.
    pub(crate) fn notify(&self, id: u32) {
        let was_empty = {
            let mut ready = self.ready.lock();
            let was_empty = ready.is_empty();
            ready.push(id);
            was_empty
        };
        if was_empty {
            // Pairs with the fence in `set_lingering(false)`: either this sees the flag still
            // set, and the thread reads `ready` after clearing it, or the thread has stopped
            // and this wakes it.
            fence(Ordering::SeqCst);
            if !self.lingering.load(Ordering::Relaxed) {
                self.wake_up();
            }
        }
    }

    /// Sends the env's wake-up (its callback runs on a later turn of its event loop).
    pub(crate) fn wake_up(&self) {
        let guard = self.wake.read();
        let Some(handle) = *guard else { return };
        if let Ok(uv) = uv() {
            // SAFETY: the handle is open while `wake` is Some and we hold the read lock (the
            // cleanup hook takes it out under the write lock before closing it).
            unsafe { (uv.async_send)(handle.0) };
        }
    }

    /// Whether anything is ready (for a lingering thread).
    pub(crate) fn has_ready(&self) -> bool {
        !self.ready.lock().is_empty()
    }

    /// Marks the env's thread as lingering or not; see `notify`.
    pub(crate) fn set_lingering(&self, lingering: bool) {
        self.lingering.store(lingering, Ordering::Relaxed);
        fence(Ordering::SeqCst);
    }
}

thread_local! {
    /// The env of the JS thread this is (Node runs each env on its own thread).
    static ENV: std::cell::RefCell<Option<Arc<EnvShared>>> = const { std::cell::RefCell::new(None) };
}

thread_local! {
    /// This env's post scratch buffer (see [`set_scratch`]): base pointer and length.
    pub(crate) static SCRATCH: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
    /// This env's receive scratch buffer (see [`set_recv_scratch`]).
    pub(crate) static RECV_SCRATCH: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
}

pub(crate) fn current_env() -> Result<Arc<EnvShared>> {
    ENV.with(|e| e.borrow().clone()).ok_or_else(|| {
        Error::new(
            Status::GenericFailure,
            "webmessaging: native module not initialised",
        )
    })
}

/// The ready ids as the wake function's argument: null, one id, or an array of ids.
///
/// # Safety
/// On the env's thread, inside an open handle scope.
unsafe fn ready_arg(env: sys::napi_env, ready: &[u32]) -> sys::napi_value {
    let mut arg = ptr::null_mut();
    // SAFETY: plain Node-API calls creating values in the caller's handle scope.
    unsafe {
        match ready.len() {
            0 => {
                sys::napi_get_null(env, &mut arg);
            }
            1 => {
                sys::napi_create_uint32(env, ready[0], &mut arg);
            }
            n => {
                sys::napi_create_array_with_length(env, n, &mut arg);
                for (i, &id) in ready.iter().enumerate() {
                    let mut v = ptr::null_mut();
                    sys::napi_create_uint32(env, id, &mut v);
                    sys::napi_set_element(env, arg, i as u32, v);
                }
            }
        }
    }
    arg
}

/// The wake-up, at the top of the event loop: delivers what is ready, then lingers
/// (crate::linger) and delivers again what that catches.
unsafe extern "C" fn on_wake(handle: *mut c_void) {
    // SAFETY: `data` (the handle's first field) points at the env's WakeContext, which lives
    // until the handle's close callback; this callback runs on the env's thread.
    let cx = unsafe { &*(*(handle as *mut *mut WakeContext)) };
    let woke = cx.linger.woke();
    let Some(shared) = ENV.try_with(|e| e.borrow().clone()).ok().flatten() else {
        return;
    };
    loop {
        // The ready list is swapped with the one taken last time (emptied, its memory kept), so
        // a posting thread's push seldom allocates and this thread seldom frees its memory.
        let spare = spare::take(&SPARE_READY);
        let ready = std::mem::replace(&mut *shared.ready.lock(), spare);
        // SAFETY: on the env's thread, with its own handle and context.
        unsafe { deliver(cx, handle, &ready) };
        spare::keep(&SPARE_READY, ready);
        if !cx.linger.linger(&shared, cx.event_loop, woke) {
            break;
        }
    }
}

/// Calls the JS wake function with the ready ids, then again (with null) for as long as it
/// returns true, each through `napi_make_callback`, whose end runs `process.nextTick` callbacks
/// and microtasks. JS delivers a run of events per call with Node's own checkpoint between two
/// of them (lib/drain.js), or one event per call where that checkpoint is not available, so
/// that this scope's end is the checkpoint.
///
/// # Safety
/// On the env's thread, inside its wake-up callback.
unsafe fn deliver(cx: &WakeContext, handle: *mut c_void, ready: &[u32]) {
    let env = cx.env;
    // SAFETY: plain Node-API calls on the env's thread inside a handle scope of our own.
    unsafe {
        let mut scope = ptr::null_mut();
        if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
            return;
        }
        let mut wake = ptr::null_mut();
        let mut recv = ptr::null_mut();
        sys::napi_get_reference_value(env, cx.wake, &mut wake);
        sys::napi_get_global(env, &mut recv); // make_callback needs an object
        let mut arg = ready_arg(env, ready);
        let mut null = ptr::null_mut();
        sys::napi_get_null(env, &mut null);
        let mut calls = 0;
        loop {
            // A scope per further call: a run can make thousands of calls, and handles kept to
            // the end would be GC roots (and memory) for all that time. The first call (the
            // common case: one message per wake-up) uses the outer scope.
            let mut inner = ptr::null_mut();
            if calls > 0 {
                sys::napi_open_handle_scope(env, &mut inner);
            }
            let mut result = ptr::null_mut();
            let status =
                sys::napi_make_callback(env, cx.async_context, recv, wake, 1, &arg, &mut result);
            let mut more = false;
            if status == sys::Status::napi_ok {
                sys::napi_get_value_bool(env, result, &mut more);
            } else {
                // An exception (a listener's, thrown from its tick queue) is the process's
                // uncaught exception, as for Node's own ports; what is left is delivered on a
                // later turn (a spurious wake-up costs one call that finds nothing).
                let mut pending = false;
                sys::napi_is_exception_pending(env, &mut pending);
                if pending {
                    let mut err = ptr::null_mut();
                    sys::napi_get_and_clear_last_exception(env, &mut err);
                    sys::napi_fatal_exception(env, err);
                    if let Ok(uv) = uv() {
                        (uv.async_send)(handle);
                    }
                }
            }
            if calls > 0 {
                sys::napi_close_handle_scope(env, inner);
            }
            if !more {
                break;
            }
            calls += 1;
            if calls == CALLS_PER_TURN {
                // Give the event loop a turn; the rest follows on the next one.
                if let Ok(uv) = uv() {
                    (uv.async_send)(handle);
                }
                break;
            }
            arg = null;
        }
        sys::napi_close_handle_scope(env, scope);
    }
}

thread_local! {
    /// The ready list `on_wake` took last, kept for the next swap (see there).
    static SPARE_READY: std::cell::Cell<Vec<u32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// The handle's close callback: frees it and its context, and lets the env's teardown go on.
unsafe extern "C" fn on_closed(handle: *mut c_void) {
    // SAFETY: `data` points at the Box'd WakeContext made in `init`; the handle memory came
    // from calloc there; neither is used after this.
    unsafe {
        let cx = Box::from_raw(*(handle as *mut *mut WakeContext));
        libc::free(handle);
        sys::napi_remove_async_cleanup_hook(cx.cleanup);
    }
}

/// The env is going away (process exit or a Worker terminating): stop every delivery into it,
/// close its ports so their peers see 'close', then close the wake-up handle (the teardown
/// waits for that).
unsafe extern "C" fn on_teardown(_hook: sys::napi_async_cleanup_hook_handle, data: *mut c_void) {
    // SAFETY: `data` is the raw Arc<EnvShared> made in `init`, reclaimed here once.
    let shared = unsafe { Arc::from_raw(data as *const EnvShared) };
    let handle = shared.wake.write().take();
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
    if let (Some(h), Ok(uv)) = (handle, uv()) {
        // SAFETY: the handle is open and, taken out of `wake` under the write lock, no
        // other thread sends to it any more.
        unsafe { (uv.close)(h.0, on_closed) };
    }
}

/// Sets up this env: `wake` is called whenever started ports have something, with the ids
/// ready since the last wake-up (null, one id, or an array of ids), and again with null for as
/// long as it returns true (one delivery per call). Idempotent per env.
#[napi]
pub fn init(env: Env, wake: Function<(), ()>) -> Result<()> {
    if ENV.with(|e| e.borrow().is_some()) {
        return Ok(());
    }
    crate::backing::check_node(&env);
    let uv = uv()?;
    let raw_env = env.raw();
    let mut cx = Box::new(WakeContext {
        env: raw_env,
        wake: ptr::null_mut(),
        async_context: ptr::null_mut(),
        cleanup: ptr::null_mut(),
        event_loop: ptr::null_mut(),
        linger: Linger::default(),
    });
    let mut event_loop = ptr::null_mut();
    // SAFETY: plain Node-API calls on the env's own thread with valid arguments.
    unsafe {
        let label = "webmessaging";
        let mut name = ptr::null_mut();
        let mut resource = ptr::null_mut();
        check(sys::napi_create_string_utf8(
            raw_env,
            label.as_ptr().cast(),
            label.len() as isize,
            &mut name,
        ))?;
        check(sys::napi_create_object(raw_env, &mut resource))?;
        check(sys::napi_async_init(
            raw_env,
            resource,
            name,
            &mut cx.async_context,
        ))?;
        check(sys::napi_create_reference(
            raw_env,
            wake.raw(),
            1,
            &mut cx.wake,
        ))?;
        check(sys::napi_get_uv_event_loop(raw_env, &mut event_loop))?;
    }
    // SAFETY: memory for one uv_async_t (libuv's own size for it), zeroed; the handle is
    // initialised on its loop's thread, unref'd until a port with a 'message' listener refs
    // it, and its data field (the first) points at its context.
    let handle = unsafe {
        let h = libc::calloc(1, (uv.handle_size)(UV_ASYNC).max(64));
        if h.is_null() {
            return Err(Error::new(
                Status::GenericFailure,
                "webmessaging: out of memory",
            ));
        }
        if (uv.async_init)(event_loop.cast(), h, on_wake) != 0 {
            libc::free(h);
            return Err(Error::new(
                Status::GenericFailure,
                "webmessaging: uv_async_init failed",
            ));
        }
        (uv.unref)(h);
        h
    };
    cx.event_loop = event_loop.cast();
    let cx = Box::into_raw(cx);
    // SAFETY: the handle's first field is `void* data`.
    unsafe { *(handle as *mut *mut WakeContext) = cx };
    let shared = Arc::new(EnvShared {
        ready: Mutex::new(Vec::new()),
        wake: RwLock::new(Some(Handle(handle))),
        lingering: AtomicBool::new(false),
    });
    ENV.with(|e| *e.borrow_mut() = Some(shared.clone()));
    // SAFETY: registers the teardown with the raw Arc it reclaims; the hook handle is kept in
    // the context for `on_closed`, which runs only after the hook has started.
    unsafe {
        check(sys::napi_add_async_cleanup_hook(
            raw_env,
            Some(on_teardown),
            Arc::into_raw(shared) as *mut c_void,
            &mut (*cx).cleanup,
        ))?;
    }
    Ok(())
}

/// Refs (`true`) or unrefs the env's wake-up handle: while ref'd it keeps the event loop alive.
#[napi]
pub fn set_env_ref(referenced: bool) -> Result<()> {
    let shared = current_env()?;
    let uv = uv()?;
    let guard = shared.wake.read();
    if let Some(h) = *guard {
        // SAFETY: on the env's thread, the handle open while Some under the read lock.
        unsafe {
            if referenced {
                (uv.ref_)(h.0);
            } else {
                (uv.unref)(h.0);
            }
        }
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

/// Reports `err` as the process's uncaught exception now (Node's `'uncaughtException'`, or the
/// exit if nothing handles it), then wakes this env again on a later turn. lib/drain.js calls it
/// when the checkpoint between two deliveries throws (a listener's error, rethrown from its
/// tick as Node's EventTarget does): reported at once, as Node reports one from its own ports'
/// callbacks, which also clears the async context stack the throwing tick left behind; the
/// messages still due are delivered on the later turn, as after any delivery that threw.
#[napi(js_name = "reportUncaught")]
pub fn report_uncaught(env: Env, err: Unknown) -> Result<()> {
    // SAFETY: a plain Node-API call on the env's thread with a live value.
    check(unsafe { sys::napi_fatal_exception(env.raw(), err.raw()) })?;
    current_env()?.wake_up();
    Ok(())
}
