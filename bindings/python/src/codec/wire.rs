//! The wire vocabulary of the direct codec: the core's tags and primitive writers
//! (`webmessaging_core::clone::wire`, so both write the same bytes), plus the two writers that
//! take Python's own representations: a BigInt from a little-endian magnitude and a string from
//! `&str`.

pub(crate) use webmessaging_core::clone::wire::{
    varint_len, write_number as number, write_varint as varint, ARRAY_BUFFER,
    ARRAY_BUFFER_TRANSFER, BEGIN_DENSE_JS_ARRAY, BEGIN_JS_OBJECT, BIGINT, DOUBLE,
    END_DENSE_JS_ARRAY, END_JS_OBJECT, FALSE, INT32, NULL, OBJECT_REFERENCE, ONE_BYTE_STRING,
    PADDING, TRUE, TWO_BYTE_STRING, UNDEFINED, VERSION,
};
use webmessaging_core::clone::wire::{write_bigint_digits, LATEST_VERSION};

/// The version byte we write (15).
pub(crate) const LATEST_VERSION_BYTE: u8 = LATEST_VERSION as u8;

/// A BigInt from sign and little-endian magnitude (high zero bytes allowed).
pub(crate) fn bigint(buf: &mut Vec<u8>, negative: bool, magnitude_le: &[u8]) {
    let mut mag = magnitude_le;
    while let [rest @ .., 0] = mag {
        mag = rest;
    }
    buf.push(BIGINT);
    write_bigint_digits(buf, negative, mag);
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
