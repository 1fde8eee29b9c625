//! The batch layout a drain hands to JS (read by `Batch` in lib/drain.js), and a large message's
//! bytes handed over alone, whose ArrayBuffer payloads JS adopts without copying.

use std::ffi::c_void;
use std::sync::{Arc, Weak};

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use parking_lot::Mutex;
use webmessaging_core as wm;

use crate::check;
use crate::port::IdMap;

/// The length of the batch layout `Batch` in lib/drain.js reads, holding `messages`: a
/// little-endian u32 `end` code, a u32 `count`, `count` u32 end offsets into the data, then
/// every message's bytes back to back.
pub(crate) fn batch_len(messages: &[Vec<u8>]) -> usize {
    8 + 4 * messages.len() + messages.iter().map(Vec::len).sum::<usize>()
}

/// Writes the batch layout of `messages` (see [`batch_len`]) into `out`, which is exactly
/// that long: each message's bytes are copied once, straight from the core's message to where
/// JS reads them.
pub(crate) fn write_batch(out: &mut [u8], end: u32, messages: &[Vec<u8>]) {
    out[0..4].copy_from_slice(&end.to_le_bytes());
    out[4..8].copy_from_slice(&(messages.len() as u32).to_le_bytes());
    let mut at = 0u32;
    let mut pos = 8;
    for m in messages {
        at += m.len() as u32;
        out[pos..pos + 4].copy_from_slice(&at.to_le_bytes());
        pos += 4;
    }
    for m in messages {
        out[pos..pos + m.len()].copy_from_slice(m);
        pos += m.len();
    }
}

/// Batches at least this large are handed to JS as an external Buffer over the Rust bytes
/// (moved, not copied); smaller ones are written straight into a new Buffer, which is cheaper
/// than an external's finalizer.
const EXTERNAL_MIN: usize = 64 * 1024;

/// The batch of `messages` as a new Buffer.
pub(crate) fn batch_buffer(env: &Env, end: u32, messages: &[Vec<u8>]) -> Result<sys::napi_value> {
    let len = batch_len(messages);
    if len >= EXTERNAL_MIN {
        let mut out = vec![0u8; len];
        write_batch(&mut out, end, messages);
        return Ok(BufferSlice::from_data(env, out)?.raw());
    }
    let mut data = std::ptr::null_mut();
    let mut value = std::ptr::null_mut();
    // SAFETY: a plain Node-API call on the env's thread; on success `data` points at `len`
    // writable bytes owned by the new Buffer, which nothing else has seen yet.
    check(unsafe { sys::napi_create_buffer(env.raw(), len, &mut data, &mut value) })?;
    if len > 0 {
        // SAFETY: as above: `len` bytes at `data`, ours until we return the Buffer.
        let out = unsafe { std::slice::from_raw_parts_mut(data.cast::<u8>(), len) };
        write_batch(out, end, messages);
    }
    Ok(value)
}

/// The `end` code of a batch closed by `n`: 1 closed here or 2 by the peer, with the
/// [`wm::CloseReason`] in bits 8..16 (0 closed, 1 dropped, 2 doomed, 3 lost).
pub(crate) fn close_code(n: wm::CloseNotice) -> u32 {
    let reason = match n.reason {
        wm::CloseReason::Closed => 0,
        wm::CloseReason::Dropped => 1,
        wm::CloseReason::Doomed => 2,
        // A reason newer than this binding reads as the closest one it has.
        wm::CloseReason::Lost | _ => 3,
    };
    (if n.by_peer { 2 } else { 1 }) | (reason << 8)
}

/// The `end` flag of a batch that stopped early (a large message ends a batch, so that the next
/// one can come alone): more messages may be queued, and JS must drain again.
pub(crate) const MORE: u32 = 1 << 16;

/// A message at least this large is handed to JS alone, as an external Buffer over its own
/// bytes (moved, not copied; see [`lone_buffer`]), and ends the batch it would have joined.
pub(crate) const LONE_MIN: usize = EXTERNAL_MIN;

/// Alignment of an ArrayBuffer adopted from a message (see [`adopt_bytes`]): 8, so that every
/// typed array over it (Float64Array, BigInt64Array, Atomics) is naturally aligned.
const ADOPT_ALIGN: usize = 8;

/// The bytes of one received message, shared by the Buffer JS reads it from and by every
/// ArrayBuffer adopted from it (each holds an `Arc`); freed when the last of them is collected.
pub(crate) struct Received {
    ptr: *mut u8,
    len: usize,
    cap: usize,
    /// Adopted ranges of this message, in order: original offset, shift left, length, and the
    /// `shift` bytes the move wrote over.
    adopted: Mutex<Vec<Adopted>>,
}

struct Adopted {
    offset: usize,
    shift: usize,
    length: usize,
    over: [u8; ADOPT_ALIGN],
}

// SAFETY: `Received` owns its allocation (a leaked Vec); the bytes are only read or moved by
// the env's JS thread, during synchronous calls, and freed once (Drop) by whichever thread drops
// the last Arc.
unsafe impl Send for Received {}
// SAFETY: as above; the only shared mutable state is behind a Mutex.
unsafe impl Sync for Received {}

impl Drop for Received {
    fn drop(&mut self) {
        // SAFETY: ptr/len/cap come from a Vec<u8> leaked in `lone_buffer`, dropped only here.
        drop(unsafe { Vec::from_raw_parts(self.ptr, self.len, self.cap) });
    }
}

thread_local! {
    /// This env's lone-message Buffers by data pointer (see [`lone_buffer`]), so that
    /// [`adopt_bytes`] can find the bytes behind a Buffer JS passes back.
    static LONE: std::cell::RefCell<IdMap<usize, Weak<Received>>> =
        std::cell::RefCell::new(IdMap::default());
}

unsafe extern "C" fn drop_lone(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the Box<Arc<Received>> leaked in `lone_buffer`, finalized once.
    let arc = unsafe { Box::from_raw(hint.cast::<Arc<Received>>()) };
    let key = arc.ptr as usize;
    let _ = LONE.try_with(|m| {
        let mut m = m.borrow_mut();
        if m.get(&key)
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(&arc)))
        {
            m.remove(&key);
        }
    });
}

/// One message's bytes as an external Buffer (moved, not copied), registered so that JS can
/// adopt the ArrayBuffer payloads in it without copying them ([`adopt_bytes`]). Where external
/// buffers are not allowed, a copy (not registered: JS then copies the payloads).
pub(crate) fn lone_buffer(env: &Env, data: Vec<u8>) -> Result<sys::napi_value> {
    let mut data = std::mem::ManuallyDrop::new(data);
    let received = Arc::new(Received {
        ptr: data.as_mut_ptr(),
        len: data.len(),
        cap: data.capacity(),
        adopted: Mutex::new(Vec::new()),
    });
    let (key, len) = (received.ptr as usize, received.len);
    let weak = Arc::downgrade(&received);
    let hint = Box::into_raw(Box::new(received));
    let mut out = std::ptr::null_mut();
    // SAFETY: the memory stays valid until `drop_lone` (and every adopted ArrayBuffer's
    // finalizer) dropped its Arc; plain Node-API call on the env's thread.
    let status = unsafe {
        sys::napi_create_external_buffer(
            env.raw(),
            len,
            key as *mut c_void,
            Some(drop_lone),
            hint.cast(),
            &mut out,
        )
    };
    if status == sys::Status::napi_ok {
        LONE.with(|m| m.borrow_mut().insert(key, weak));
        return Ok(out);
    }
    // SAFETY: not handed to Node: take the hint back (dropping it frees the bytes after the
    // copy below).
    let received = unsafe { Box::from_raw(hint) };
    // SAFETY: the bytes are valid for `len` while `received` lives.
    let bytes = unsafe { std::slice::from_raw_parts(received.ptr, received.len) };
    // SAFETY: a plain Node-API call copying `bytes` into a new Buffer.
    check(unsafe {
        sys::napi_create_buffer_copy(
            env.raw(),
            bytes.len(),
            bytes.as_ptr().cast(),
            std::ptr::null_mut(),
            &mut out,
        )
    })?;
    Ok(out)
}

/// The ArrayBuffer payload `buf[offset, offset + length)` of a lone message Buffer (see
/// [`lone_buffer`]) as an ArrayBuffer over those very bytes, moved not copied; `null` when
/// `buf` is not one (or the range cannot be adopted), and JS copies it instead. If the range is
/// not 8-byte aligned it is first moved left within the message (over bytes JS has already
/// read, never over an earlier adopted range), so JS must call this in reading order and never
/// read bytes before `offset + length` again — except after [`adopt_undo`].
#[napi(js_name = "adoptBytes")]
pub fn adopt_bytes<'e>(
    env: &'e Env,
    buf: BufferSlice,
    offset: u32,
    length: u32,
) -> Result<Option<Unknown<'e>>> {
    let base = buf.as_ptr() as usize;
    let Some(received) = LONE.with(|m| m.borrow().get(&base).and_then(Weak::upgrade)) else {
        return Ok(None);
    };
    let (offset, length) = (offset as usize, length as usize);
    if buf.len() != received.len
        || length == 0
        || offset.checked_add(length).is_none_or(|e| e > received.len)
    {
        return Ok(None);
    }
    let mut adopted = received.adopted.lock();
    let low = adopted.last().map_or(0, |a| a.offset + a.length);
    let shift = (base + offset) % ADOPT_ALIGN;
    if offset < low + shift {
        return Ok(None);
    }
    let start = offset - shift;
    let mut over = [0u8; ADOPT_ALIGN];
    if shift != 0 {
        // SAFETY: `start..offset` lies within the message (see below).
        unsafe { std::ptr::copy_nonoverlapping(received.ptr.add(start), over.as_mut_ptr(), shift) };
        // SAFETY: both ranges lie within the message (start >= low >= 0, offset + length <=
        // len); `ptr::copy` allows overlap; JS is inside this synchronous call, so nothing reads
        // the bytes meanwhile, and the moved-over bytes were read already (see above).
        unsafe { std::ptr::copy(received.ptr.add(offset), received.ptr.add(start), length) };
    }
    adopted.push(Adopted {
        offset,
        shift,
        length,
        over,
    });
    drop(adopted);
    // Owned by its own Arc of the message (a backing store whose release may come on any
    // thread), so that it can be transferred on like any other ArrayBuffer.
    // SAFETY: the range lies within the message and stays valid while that Arc lives; no
    // other adopted range overlaps it (see above).
    let made =
        unsafe { crate::backing::external(env, received.ptr.add(start), length, received.clone()) };
    let Ok(out) = made else {
        undo(&received);
        return Ok(None);
    };
    // SAFETY: `out` is a live value of this env.
    Ok(Some(unsafe { Unknown::from_raw_unchecked(env.raw(), out) }))
}

/// Moves every adopted range of a lone message back where it was, so that the message's bytes
/// read as sent again (JS calls it when its decoder gives up after adopting, before V8 reads
/// the same bytes). The ArrayBuffers adopted so far must be dropped by the caller.
#[napi(js_name = "adoptUndo")]
pub fn adopt_undo(buf: BufferSlice) -> Result<()> {
    let base = buf.as_ptr() as usize;
    if let Some(received) = LONE.with(|m| m.borrow().get(&base).and_then(Weak::upgrade)) {
        undo(&received);
    }
    Ok(())
}

fn undo(received: &Received) {
    let mut adopted = received.adopted.lock();
    while let Some(a) = adopted.pop() {
        if a.shift != 0 {
            let start = a.offset - a.shift;
            // SAFETY: the reverse of the move in `adopt_bytes`, within the message: the payload
            // back to its offset, then the bytes it wrote over.
            unsafe {
                std::ptr::copy(
                    received.ptr.add(start),
                    received.ptr.add(a.offset),
                    a.length,
                );
                std::ptr::copy_nonoverlapping(a.over.as_ptr(), received.ptr.add(start), a.shift);
            }
        }
    }
}
