//! The batch layout a drain hands to JS (read by `Batch` in index.js).

use napi::bindgen_prelude::*;
use webmessaging_core as wm;

/// The batch layout `Batch` in index.js reads: a little-endian u32 `end` code, a u32 `count`,
/// `count` u32 end offsets into the data, then every message's bytes back to back. Each
/// message's bytes are copied once, straight from the core's message into the batch.
pub(crate) fn batch_bytes<'a>(
    end: u32,
    messages: impl Iterator<Item = &'a [u8]> + Clone,
) -> Vec<u8> {
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

pub(crate) fn batch_buffer(env: &Env, out: Vec<u8>) -> Result<BufferSlice<'_>> {
    if out.len() >= EXTERNAL_MIN {
        BufferSlice::from_data(env, out)
    } else {
        BufferSlice::copy_from(env, &out)
    }
}

/// The `end` code of a batch closed by `n`: 1 closed here or 2 by the peer, with the
/// [`wm::CloseReason`] in bits 8..16 (0 closed, 1 dropped, 2 doomed, 3 lost).
pub(crate) fn close_code(n: wm::CloseNotice) -> u32 {
    let reason = match n.reason {
        wm::CloseReason::Closed => 0,
        wm::CloseReason::Dropped => 1,
        wm::CloseReason::Doomed => 2,
        wm::CloseReason::Lost => 3,
    };
    (if n.by_peer { 2 } else { 1 }) | (reason << 8)
}
