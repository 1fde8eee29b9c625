//! The few V8 v15 tags and primitive encodings the direct codec writes and reads, kept
//! byte-identical to `webmessaging_core::clone`'s writer (whose helpers are crate-private).

pub(crate) const VERSION: u8 = 0xFF;
pub(crate) const LATEST_VERSION: u8 = 15;
pub(crate) const PADDING: u8 = 0x00;
pub(crate) const UNDEFINED: u8 = b'_';
pub(crate) const NULL: u8 = b'0';
pub(crate) const TRUE: u8 = b'T';
pub(crate) const FALSE: u8 = b'F';
pub(crate) const INT32: u8 = b'I';
pub(crate) const DOUBLE: u8 = b'N';
pub(crate) const BIGINT: u8 = b'Z';
pub(crate) const ONE_BYTE_STRING: u8 = b'"';
pub(crate) const TWO_BYTE_STRING: u8 = b'c';
pub(crate) const OBJECT_REFERENCE: u8 = b'^';
pub(crate) const BEGIN_JS_OBJECT: u8 = b'o';
pub(crate) const END_JS_OBJECT: u8 = b'{';
pub(crate) const BEGIN_DENSE_JS_ARRAY: u8 = b'A';
pub(crate) const END_DENSE_JS_ARRAY: u8 = b'$';
pub(crate) const ARRAY_BUFFER: u8 = b'B';
pub(crate) const ARRAY_BUFFER_TRANSFER: u8 = b't';

/// The canonical quiet NaN V8 writes.
const CANONICAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0000;

/// A u32 as LEB128 (V8 writes the minimal form).
pub(crate) fn varint(buf: &mut Vec<u8>, mut n: u32) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

fn varint_len(n: u32) -> usize {
    match n {
        0..=0x7F => 1,
        0x80..=0x3FFF => 2,
        0x4000..=0x1F_FFFF => 3,
        0x20_0000..=0xFFF_FFFF => 4,
        _ => 5,
    }
}

/// A Number: `I` zigzag when it is an int32 (not −0, as a Smi on Node x64), else `N` double.
pub(crate) fn number(buf: &mut Vec<u8>, x: f64) {
    // `as` saturates and maps NaN to 0, so the round trip is exact only for i32 values.
    let n = x as i32;
    if f64::from(n) == x && !(n == 0 && x.is_sign_negative()) {
        buf.push(INT32);
        varint(buf, ((n << 1) ^ (n >> 31)) as u32);
    } else {
        buf.push(DOUBLE);
        let x = if x.is_nan() {
            f64::from_bits(CANONICAL_NAN_BITS)
        } else {
            x
        };
        buf.extend_from_slice(&x.to_le_bytes());
    }
}

/// A BigInt from sign and little-endian magnitude, in whole 8-byte digits (64-bit V8).
pub(crate) fn bigint(buf: &mut Vec<u8>, negative: bool, magnitude_le: &[u8]) {
    let mut mag = magnitude_le;
    while let [rest @ .., 0] = mag {
        mag = rest;
    }
    let byte_len = mag.len().div_ceil(8) * 8;
    buf.push(BIGINT);
    let negative = negative && !mag.is_empty();
    varint(buf, u32::from(negative) | ((byte_len as u32) << 1));
    buf.extend_from_slice(mag);
    buf.resize(buf.len() + (byte_len - mag.len()), 0);
}

/// A string: `"` Latin-1 when every code point is at most U+00FF, else `c` UTF-16 (after a
/// padding byte when needed to keep the code units at an even offset). Returns its length in
/// UTF-16 code units.
pub(crate) fn string(buf: &mut Vec<u8>, text: &str) -> usize {
    if text.is_ascii() {
        buf.push(ONE_BYTE_STRING);
        varint(buf, text.len() as u32);
        buf.extend_from_slice(text.as_bytes());
        return text.len();
    }
    if text.chars().all(|c| u32::from(c) <= 0xFF) {
        let n = text.chars().count();
        buf.push(ONE_BYTE_STRING);
        varint(buf, n as u32);
        buf.extend(text.chars().map(|c| u32::from(c) as u8));
        return n;
    }
    let units = text.encode_utf16().count();
    let byte_len = (units * 2) as u32;
    if (buf.len() + 1 + varint_len(byte_len)) % 2 == 1 {
        buf.push(PADDING);
    }
    buf.push(TWO_BYTE_STRING);
    varint(buf, byte_len);
    buf.reserve(units * 2);
    for u in text.encode_utf16() {
        buf.extend_from_slice(&u.to_le_bytes());
    }
    units
}
