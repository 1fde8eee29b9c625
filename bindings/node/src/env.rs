//! Each JS environment's wake-up (one threadsafe function per env, called once per batch of
//! ready ports), its ref count towards process lifetime, its scratch buffers, and its cleanup.

use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use parking_lot::{Mutex, RwLock};

use crate::check;
use crate::port::PORTS;

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
pub(crate) struct EnvShared {
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
    pub(crate) fn notify(&self, id: u32) {
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

unsafe extern "C" fn call_wake(
    env: sys::napi_env,
    js_callback: sys::napi_value,
    _context: *mut c_void,
    _data: *mut c_void,
) {
    if env.is_null() || js_callback.is_null() {
        return;
    }
    // The ready ids go with the call (what `take_ready` would return), saving JS a crossing
    // per wake-up, which is on every message's path when messages come one at a time.
    let ready = ENV
        .try_with(|e| {
            e.borrow()
                .as_ref()
                .map(|s| std::mem::take(&mut *s.ready.lock()))
        })
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut undefined = ptr::null_mut();
    let mut arg = ptr::null_mut();
    let mut result = ptr::null_mut();
    // SAFETY: called by Node on the env's thread with a live env and callback value; plain
    // Node-API calls creating the argument (null, a number, or an array of numbers).
    unsafe {
        sys::napi_get_undefined(env, &mut undefined);
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
        sys::napi_call_function(env, undefined, js_callback, 1, &arg, &mut result);
    }
}

/// Sets up this env: `wake` is called whenever started ports have something, with the ids
/// [`take_ready`] would return (null, one id, or an array); it drains those ports. Idempotent per env.
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
