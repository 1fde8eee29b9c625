//! The wire format's vocabulary: V8 ValueSerializer tags, version numbers, and the primitive
//! encodings every writer of these bytes shares (varints, Numbers, BigInt digits). Public so
//! that a binding with its own fast writer (Python's direct codec) writes exactly the bytes the
//! core writes. The tag names are V8's `SerializationTag` enumerators; `docs/wire-format.md`
//! describes each.
#![allow(missing_docs)]

use super::number::canonical;

pub const VERSION: u8 = 0xFF;
/// The version we write.
pub const LATEST_VERSION: u32 = 15;
/// The oldest version we read (the public V8 minimum without legacy mode).
pub const MIN_READ_VERSION: u32 = 13;
/// The newest version we read (16 only when every length fits in 32 bits).
pub const MAX_READ_VERSION: u32 = 16;

pub const PADDING: u8 = 0x00;
pub const VERIFY_OBJECT_COUNT: u8 = b'?';
pub const THE_HOLE: u8 = b'-';
pub const UNDEFINED: u8 = b'_';
pub const NULL: u8 = b'0';
pub const TRUE: u8 = b'T';
pub const FALSE: u8 = b'F';
pub const INT32: u8 = b'I';
pub const UINT32: u8 = b'U';
pub const DOUBLE: u8 = b'N';
pub const BIGINT: u8 = b'Z';
pub const UTF8_STRING: u8 = b'S';
pub const ONE_BYTE_STRING: u8 = b'"';
pub const TWO_BYTE_STRING: u8 = b'c';
pub const OBJECT_REFERENCE: u8 = b'^';
pub const BEGIN_JS_OBJECT: u8 = b'o';
pub const END_JS_OBJECT: u8 = b'{';
pub const BEGIN_SPARSE_JS_ARRAY: u8 = b'a';
pub const END_SPARSE_JS_ARRAY: u8 = b'@';
pub const BEGIN_DENSE_JS_ARRAY: u8 = b'A';
pub const END_DENSE_JS_ARRAY: u8 = b'$';
pub const DATE: u8 = b'D';
pub const TRUE_OBJECT: u8 = b'y';
pub const FALSE_OBJECT: u8 = b'x';
pub const NUMBER_OBJECT: u8 = b'n';
pub const BIGINT_OBJECT: u8 = b'z';
pub const STRING_OBJECT: u8 = b's';
pub const REGEXP: u8 = b'R';
pub const BEGIN_JS_MAP: u8 = b';';
pub const END_JS_MAP: u8 = b':';
pub const BEGIN_JS_SET: u8 = b'\'';
pub const END_JS_SET: u8 = b',';
pub const ARRAY_BUFFER: u8 = b'B';
pub const RESIZABLE_ARRAY_BUFFER: u8 = b'~';
pub const ARRAY_BUFFER_TRANSFER: u8 = b't';
pub const ARRAY_BUFFER_VIEW: u8 = b'V';
pub const SHARED_ARRAY_BUFFER: u8 = b'u';
pub const SHARED_OBJECT: u8 = b'p';
pub const WASM_MODULE_TRANSFER: u8 = b'w';
pub const WASM_MEMORY_TRANSFER: u8 = b'm';
pub const HOST_OBJECT: u8 = b'\\';
pub const ERROR: u8 = b'r';

/// Error sub-tags.
pub const ERROR_MESSAGE: u8 = b'm';
pub const ERROR_STACK: u8 = b's';
pub const ERROR_CAUSE: u8 = b'c';
pub const ERROR_END: u8 = b'.';

/// View flag bits (v ≥ 14).
pub const VIEW_LENGTH_TRACKING: u32 = 1;
pub const VIEW_BACKED_BY_RAB: u32 = 2;

/// Writes `n` as an unsigned LEB128 varint, in the minimal form V8 writes.
pub fn write_varint(buf: &mut Vec<u8>, n: u32) {
    if n < 0x80 {
        buf.push(n as u8);
        return;
    }
    let (bytes, len) = varint_bytes(n);
    extend_fixed(buf, &bytes, len);
}

/// Appends the first `len` bytes of `bytes`: the whole fixed-size array is copied (a few
/// register moves, where a variable-length copy would be a `memcpy` call) and the surplus cut.
#[inline]
pub(crate) fn extend_fixed<const N: usize>(buf: &mut Vec<u8>, bytes: &[u8; N], len: usize) {
    let end = buf.len() + len.min(N);
    buf.extend_from_slice(bytes);
    buf.truncate(end);
}

/// Writes a tag byte followed by the varint `n`: one copy for both, not a checked push per byte.
pub fn write_tag_varint(buf: &mut Vec<u8>, tag: u8, n: u32) {
    let mut out = [tag, 0, 0, 0, 0, 0];
    let len = put_varint(&mut out, 1, n);
    extend_fixed(buf, &out, len);
}

/// Writes a container's end: its tag and one or two counts, in one copy.
pub(crate) fn write_end(buf: &mut Vec<u8>, tag: u8, a: u32, b: Option<u32>) {
    let mut out = [tag, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut at = put_varint(&mut out, 1, a);
    if let Some(b) = b {
        at = put_varint(&mut out, at, b);
    }
    extend_fixed(buf, &out, at);
}

/// `n` as a minimal varint in a fixed array, and how many of its bytes are used.
fn varint_bytes(n: u32) -> ([u8; 5], usize) {
    let mut out = [0; 5];
    let len = put_varint(&mut out, 0, n);
    (out, len)
}

/// Writes the varint `n` into `out` from `at` (which has room for five bytes); returns the end.
#[inline]
fn put_varint<const N: usize>(out: &mut [u8; N], mut at: usize, mut n: u32) -> usize {
    while n >= 0x80 && at < N {
        out[at] = (n as u8) | 0x80;
        n >>= 7;
        at += 1;
    }
    if at < N {
        out[at] = n as u8;
        at += 1;
    }
    at
}

/// The length of `n` written by [`write_varint`].
pub fn varint_len(n: u32) -> usize {
    match n {
        0..=0x7F => 1,
        0x80..=0x3FFF => 2,
        0x4000..=0x1F_FFFF => 3,
        0x20_0000..=0xFFF_FFFF => 4,
        _ => 5,
    }
}

/// Writes a Number as V8 on 64-bit Node does: `I` and a zigzag varint for a Smi (an integral
/// value in int32 range that is not −0), else `N` and the double (NaN canonicalised).
#[inline]
pub fn write_number(buf: &mut Vec<u8>, x: f64) {
    // `as` saturates and maps NaN to 0, so the round trip is exact only for i32 values.
    let n = x as i32;
    if f64::from(n) == x && !(n == 0 && x.is_sign_negative()) {
        let zigzag = ((n << 1) ^ (n >> 31)) as u32;
        if zigzag < 0x80 {
            // -64..=63: the tag and one varint byte.
            buf.extend_from_slice(&[INT32, zigzag as u8]);
            return;
        }
        write_tag_varint(buf, INT32, zigzag);
    } else {
        let mut out = [DOUBLE; 9];
        out[1..].copy_from_slice(&canonical(x).to_le_bytes());
        buf.extend_from_slice(&out);
    }
}

/// Writes a BigInt's body (after its `Z` or `z` tag): the bitfield (sign, byte length) and the
/// magnitude, little-endian, in whole 8-byte digits as 64-bit V8 writes them. `magnitude_le`
/// must have no high zero bytes; a zero magnitude is never negative.
pub fn write_bigint_digits(buf: &mut Vec<u8>, negative: bool, magnitude_le: &[u8]) {
    let byte_len = magnitude_le.len().div_ceil(8) * 8;
    let negative = negative && !magnitude_le.is_empty();
    write_varint(buf, u32::from(negative) | ((byte_len as u32) << 1));
    buf.extend_from_slice(magnitude_le);
    buf.resize(buf.len() + (byte_len - magnitude_le.len()), 0);
}
