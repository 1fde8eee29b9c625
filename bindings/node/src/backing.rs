//! Transferred ArrayBuffers, moved not copied: on a post, each buffer of the transfer list gives
//! its V8 backing store to the message ([`BackingStore`], a core [`wm::ForeignBuffer`]) in
//! O(1) and is detached; on receipt, a backing store of ours becomes the new ArrayBuffer in
//! O(1) (in this isolate or another of the process, as Node's own worker transfer does), and
//! bytes owned by Rust (from C, Python, another process) become an ArrayBuffer over that very
//! memory. Node-API cannot take an ArrayBuffer's memory, so the moves go through a small V8
//! shim (`backing.cc`, built by build.rs when Node's headers are found). Without it, a transfer
//! copies the bytes out as before (`arrayBufferTransfer()` says which).
//!
//! A limit: an ArrayBuffer another addon made over its own memory
//! (`napi_create_external_arraybuffer`) moves like any other, while Node 20's own ports clone
//! such a buffer; Node frees that memory when the creating thread's environment ends, even if
//! a receiver on another thread still holds it. The package's own buffers are not like that.

use std::ffi::c_void;
use std::sync::OnceLock;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use webmessaging_core as wm;

/// Whether the V8 shim is in use in this process: it was built in, and this is the Node major
/// version whose headers it was compiled against (V8's C++ ABI is not stable across majors).
/// Decided by [`check_node`] when the package loads; until then, and otherwise, buffers are
/// copied.
static SHIM_ACTIVE: OnceLock<bool> = OnceLock::new();

fn shim_active() -> bool {
    SHIM_ACTIVE.get() == Some(&true)
}

/// Decides once per process whether the shim may be used here (see [`SHIM_ACTIVE`]).
pub(crate) fn check_node(env: &Env) {
    SHIM_ACTIVE.get_or_init(|| {
        #[cfg(wm_v8_shim)]
        {
            let built: Option<u32> = env!("WM_SHIM_NODE_MAJOR").parse().ok();
            let mut version: *const sys::napi_node_version = std::ptr::null();
            // SAFETY: a plain Node-API call on the env's thread; Node owns the returned struct.
            let status = unsafe { sys::napi_get_node_version(env.raw(), &mut version) };
            // SAFETY: non-null on success, valid for the process's lifetime.
            status == sys::Status::napi_ok
                && !version.is_null()
                && built == Some(unsafe { (*version).major })
        }
        #[cfg(not(wm_v8_shim))]
        {
            let _ = env;
            false
        }
    });
}

/// How transferred ArrayBuffers cross in this process: `"move"`, or `"copy"` (built without
/// Node's headers, or running under another Node major than they came from). For the tests.
#[napi]
pub fn array_buffer_transfer(env: Env) -> &'static str {
    check_node(&env);
    if shim_active() {
        "move"
    } else {
        "copy"
    }
}

#[cfg(wm_v8_shim)]
mod shim {
    use std::ffi::c_void;

    use napi::sys;

    pub(super) const TAKEN: i32 = 0;
    pub(super) const NOT_BUFFER: i32 = 1;
    pub(super) const UNDETACHABLE: i32 = 2;
    pub(super) const RESIZABLE: i32 = 3;

    /// V8's `BackingStore::DeleterCallback`.
    pub(super) type Deleter =
        unsafe extern "C" fn(data: *mut c_void, len: usize, owner: *mut c_void);

    extern "C" {
        pub(super) fn wm_backing_take(
            value: sys::napi_value,
            holder: *mut *mut c_void,
            data: *mut *mut c_void,
            len: *mut usize,
        ) -> i32;
        pub(super) fn wm_backing_release(holder: *mut c_void);
        pub(super) fn wm_backing_into_array_buffer(holder: *mut c_void) -> sys::napi_value;
        pub(super) fn wm_backing_external(
            data: *mut c_void,
            len: usize,
            deleter: Deleter,
            owner: *mut c_void,
        ) -> sys::napi_value;
    }
}

#[cfg(wm_v8_shim)]
/// One reference to a V8 backing store (a heap-allocated `std::shared_ptr<v8::BackingStore>`)
/// and the bytes it keeps alive, travelling in a message.
pub(crate) struct BackingStore {
    holder: *mut c_void,
    data: *mut u8,
    len: usize,
}

#[cfg(wm_v8_shim)]
// SAFETY: a BackingStore is reference counted and thread-safe to release (V8 and Node's worker
// MessagePort move them between threads); its memory lives as long as our reference, and the
// sender's ArrayBuffer was detached, so the message is its only user until it becomes the
// receiver's ArrayBuffer. Dropping it on any thread releases the shared_ptr.
unsafe impl Send for BackingStore {}
#[cfg(wm_v8_shim)]
// SAFETY: `&BackingStore` only reads the bytes; writes need `&mut`.
unsafe impl Sync for BackingStore {}

#[cfg(wm_v8_shim)]
impl wm::ForeignBuffer for BackingStore {
    fn bytes(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `data..data+len` is the store's memory, alive while `holder` is.
        unsafe { std::slice::from_raw_parts(self.data, self.len) }
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: as above; `&mut self` is the only way to these bytes (the sender detached).
        unsafe { std::slice::from_raw_parts_mut(self.data, self.len) }
    }
}

#[cfg(wm_v8_shim)]
impl Drop for BackingStore {
    fn drop(&mut self) {
        // SAFETY: `holder` came from `wm_backing_take` and is released once, here (or consumed
        // by `into_js`, which nulls it).
        unsafe {
            if !self.holder.is_null() {
                shim::wm_backing_release(self.holder);
            }
        }
    }
}

/// The contents of the transfer list's ArrayBuffers for a post, in order, before anything is
/// posted or detached: their backing stores (O(1)), or copies without the shim (and for a
/// resizable buffer). A buffer V8 cannot detach (a WebAssembly.Memory's) is a DataCloneError.
pub(crate) fn take(buffers: &[ArrayBuffer]) -> Result<Vec<wm::ArrayBufferContents>> {
    let mut out = Vec::with_capacity(buffers.len());
    for (i, b) in buffers.iter().enumerate() {
        out.push(take_one(i, b)?);
    }
    // One store in two places would be memory two receivers write at once. lib/errors.js
    // refuses a buffer listed twice; this holds whoever calls.
    if out.len() > 1 {
        let mut at: Vec<usize> = out
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| c.as_ptr() as usize)
            .collect();
        at.sort_unstable();
        if at.windows(2).any(|w| w[0] == w[1]) {
            return Err(crate::js_error(wm::Error::DataCloneError(
                "Transfer list contains duplicate ArrayBuffer".into(),
            )));
        }
    }
    Ok(out)
}

#[cfg(wm_v8_shim)]
fn take_one(i: usize, b: &ArrayBuffer) -> Result<wm::ArrayBufferContents> {
    if !shim_active() {
        return Ok(b.to_vec().into());
    }
    let (mut holder, mut data, mut len) = (std::ptr::null_mut(), std::ptr::null_mut(), 0usize);
    // SAFETY: `b` is a live ArrayBuffer of the current env; we are in a napi callback on its
    // thread (see backing.cc).
    let taken = unsafe { shim::wm_backing_take(b.raw(), &mut holder, &mut data, &mut len) };
    match taken {
        shim::TAKEN => Ok(wm::ArrayBufferContents::foreign(Box::new(BackingStore {
            holder,
            data: data.cast(),
            len,
        }))),
        shim::RESIZABLE => Ok(b.to_vec().into()),
        shim::NOT_BUFFER => Err(crate::js_error(wm::Error::DataCloneError(format!(
            "ArrayBuffer {i} of the transfer list is detached"
        )))),
        shim::UNDETACHABLE => Err(crate::js_error(wm::Error::DataCloneError(format!(
            "ArrayBuffer {i} of the transfer list cannot be detached (a WebAssembly.Memory's \
             buffer?)"
        )))),
        _ => Err(Error::new(Status::GenericFailure, "out of memory")),
    }
}

#[cfg(not(wm_v8_shim))]
fn take_one(_i: usize, b: &ArrayBuffer) -> Result<wm::ArrayBufferContents> {
    Ok(b.to_vec().into())
}

/// Detaches the transfer list's ArrayBuffers once their contents are posted.
pub(crate) fn detach(buffers: Vec<ArrayBuffer>) -> Result<()> {
    for b in buffers {
        b.detach()?;
    }
    Ok(())
}

/// A received ArrayBuffer's contents as a JS ArrayBuffer of `env`, never copied: a backing
/// store of ours becomes the ArrayBuffer itself; bytes Rust owns are lent to it.
pub(crate) fn into_js(env: &Env, contents: wm::ArrayBufferContents) -> Result<sys::napi_value> {
    #[cfg(wm_v8_shim)]
    let contents = match contents.into_foreign::<BackingStore>() {
        Ok(mut store) => {
            // SAFETY: `holder` is a live reference from `wm_backing_take`; we are in a napi
            // callback on `env`'s thread. On success it is consumed, so `store` must not
            // release it.
            let value = unsafe { shim::wm_backing_into_array_buffer(store.holder) };
            if value.is_null() {
                return Err(Error::new(Status::GenericFailure, "no current isolate"));
            }
            store.holder = std::ptr::null_mut();
            return Ok(value);
        }
        Err(owned) => owned,
    };
    lend(env, contents.into_vec())
}

/// An ArrayBuffer over the bytes of `data`, which it owns (moved, not copied).
fn lend(env: &Env, mut data: Vec<u8>) -> Result<sys::napi_value> {
    let (ptr, len) = (data.as_mut_ptr(), data.len());
    // SAFETY: the Vec's heap memory does not move when the Vec itself is moved into the owner.
    unsafe { external(env, ptr, len, data) }
}

/// An ArrayBuffer over `len` bytes at `data`, kept alive by `owner`, which is dropped (on any
/// thread) when the buffer's memory is released.
///
/// # Safety
/// `data..data+len` must stay valid and used by nobody else while `owner` lives.
pub(crate) unsafe fn external<T: Send + 'static>(
    env: &Env,
    data: *mut u8,
    len: usize,
    owner: T,
) -> Result<sys::napi_value> {
    let mut out = std::ptr::null_mut();
    if len == 0 {
        drop(owner);
        // SAFETY: plain Node-API call on the env's thread.
        crate::check(unsafe {
            sys::napi_create_arraybuffer(env.raw(), 0, std::ptr::null_mut(), &mut out)
        })?;
        return Ok(out);
    }
    let owner = Box::into_raw(Box::new(owner)).cast::<c_void>();
    #[cfg(wm_v8_shim)]
    if shim_active() {
        // SAFETY: see the function's contract; `free::<T>` takes the Box back once, on
        // whichever thread releases the store (T is Send).
        out = unsafe { shim::wm_backing_external(data.cast(), len, free::<T>, owner) };
        if out.is_null() {
            // SAFETY: not taken over.
            drop(unsafe { Box::from_raw(owner.cast::<T>()) });
            return Err(Error::new(Status::GenericFailure, "no current isolate"));
        }
        return Ok(out);
    }
    // SAFETY: as above; Node calls `finalize::<T>` once, on the env's thread.
    let status = unsafe {
        sys::napi_create_external_arraybuffer(
            env.raw(),
            data.cast(),
            len,
            Some(finalize::<T>),
            owner,
            &mut out,
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: not taken over.
        drop(unsafe { Box::from_raw(owner.cast::<T>()) });
        return Err(Error::new(
            Status::GenericFailure,
            "could not create an external ArrayBuffer",
        ));
    }
    Ok(out)
}

#[cfg(wm_v8_shim)]
unsafe extern "C" fn free<T>(_data: *mut c_void, _len: usize, owner: *mut c_void) {
    // SAFETY: `owner` is the Box<T> leaked in `external`; V8 calls the deleter once.
    drop(unsafe { Box::from_raw(owner.cast::<T>()) });
}

unsafe extern "C" fn finalize<T>(_env: sys::napi_env, _data: *mut c_void, owner: *mut c_void) {
    // SAFETY: `owner` is the Box<T> leaked in `external`; Node finalizes once.
    drop(unsafe { Box::from_raw(owner.cast::<T>()) });
}
