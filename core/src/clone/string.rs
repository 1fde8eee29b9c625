//! JavaScript strings: sequences of UTF-16 code units, lone surrogates allowed.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// A JavaScript string: a sequence of UTF-16 code units (WTF-16), so lone surrogates and U+0000
/// survive (R-SC-3). Not a Rust `String`: convert with [`to_string_lossy`](Self::to_string_lossy)
/// or [`to_rust_string`](Self::to_rust_string).
///
/// Internally a string whose code units are all ≤ 0xFF is kept one byte per unit (Latin-1), like
/// V8 does; that is also what decides its wire form (`"` versus `c`). Short one-byte strings
/// (up to 22 units, most keys and many values) live inline, without a heap block; longer ones
/// are shared, so cloning is cheap. Equality, ordering and hashing are by code units.
#[derive(Clone)]
pub struct JsString(Repr);

/// The longest one-byte string held inline.
pub(crate) const INLINE: usize = 22;

/// Invariants (so that equal strings have one representation): one-byte strings of at most
/// `INLINE` units are `Inline` with zeroed spare bytes, longer ones `OneByte`; `TwoByte` holds at
/// least one code unit above 0xFF.
#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    OneByte(Arc<[u8]>),
    TwoByte(Arc<[u16]>),
}

/// `PREFIX_MASKS[n]`: 0xFF in the first `n` bytes, 0 after.
const PREFIX_MASKS: [[u8; INLINE]; INLINE + 1] = {
    let mut masks = [[0u8; INLINE]; INLINE + 1];
    let mut n = 0;
    while n <= INLINE {
        let mut i = 0;
        while i < n {
            masks[n][i] = 0xFF;
            i += 1;
        }
        n += 1;
    }
    masks
};

fn one_byte(bytes: &[u8]) -> Repr {
    if bytes.len() <= INLINE {
        let mut inline = [0u8; INLINE];
        inline[..bytes.len()].copy_from_slice(bytes);
        Repr::Inline {
            len: bytes.len() as u8,
            bytes: inline,
        }
    } else {
        Repr::OneByte(Arc::from(bytes))
    }
}

impl Default for JsString {
    fn default() -> Self {
        JsString(Repr::Inline {
            len: 0,
            bytes: [0; INLINE],
        })
    }
}

impl PartialEq for JsString {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            // Spare bytes are zeroed, so equal inline strings are equal arrays (no memcmp call).
            (Repr::Inline { len: a, bytes: x }, Repr::Inline { len: b, bytes: y }) => {
                a == b && x == y
            }
            (Repr::TwoByte(a), Repr::TwoByte(b)) => a == b,
            (Repr::TwoByte(_), _) | (_, Repr::TwoByte(_)) => false,
            _ => self.as_latin1() == other.as_latin1(),
        }
    }
}

impl Eq for JsString {}

impl std::hash::Hash for JsString {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match (&self.0, self.as_latin1()) {
            (Repr::TwoByte(u), _) => u.hash(state),
            (_, Some(b)) => b.hash(state),
            (_, None) => {}
        }
    }
}

impl PartialOrd for JsString {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// By code units, as JavaScript's `<` on strings.
impl Ord for JsString {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self.as_latin1(), other.as_latin1()) {
            (Some(a), Some(b)) => a.cmp(b),
            _ => self.to_utf16().cmp(&other.to_utf16()),
        }
    }
}

impl JsString {
    /// The empty string.
    pub fn new() -> Self {
        Self::default()
    }

    /// A string from UTF-16 code units (any, including lone surrogates).
    pub fn from_utf16(units: impl Into<Vec<u16>>) -> Self {
        let units = units.into();
        if units.iter().all(|&u| u <= 0xFF) {
            let bytes: Vec<u8> = units.into_iter().map(|u| u as u8).collect();
            JsString(one_byte(&bytes))
        } else {
            JsString(Repr::TwoByte(Arc::from(units)))
        }
    }

    /// A string whose code units are the given Latin-1 bytes (each byte one code unit).
    pub fn from_latin1(bytes: impl Into<Vec<u8>>) -> Self {
        let bytes = bytes.into();
        if bytes.len() <= INLINE {
            JsString(one_byte(&bytes))
        } else {
            JsString(Repr::OneByte(Arc::from(bytes)))
        }
    }

    /// A string whose code units are the given Latin-1 bytes, copied once.
    pub fn from_latin1_slice(bytes: &[u8]) -> Self {
        JsString(one_byte(bytes))
    }

    /// The one-byte string of the first `len` (at most [`INLINE`]) bytes of `window`, the rest
    /// ignored: fixed-size loads and masks instead of a variable-length copy (a call), for a
    /// reader whose input extends a whole window past a short string.
    #[inline(always)]
    pub(crate) fn from_latin1_window(window: &[u8; INLINE], len: usize) -> Self {
        let len = len.min(INLINE);
        let mask = &PREFIX_MASKS[len];
        // Three word-sized ANDs (the last overlaps the second by two bytes) instead of 22.
        let word = |a: &[u8; INLINE], at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&a[at..at + 8]);
            u64::from_ne_bytes(w)
        };
        let mut bytes = [0u8; INLINE];
        for at in [0, 8, INLINE - 8] {
            let w = word(window, at) & word(mask, at);
            bytes[at..at + 8].copy_from_slice(&w.to_ne_bytes());
        }
        JsString(Repr::Inline {
            len: len as u8,
            bytes,
        })
    }

    /// The number of UTF-16 code units (JavaScript's `length`).
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Inline { len, .. } => usize::from(*len),
            Repr::OneByte(b) => b.len(),
            Repr::TwoByte(u) => u.len(),
        }
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The code units as bytes when every unit is ≤ 0xFF (the string V8 calls one-byte).
    pub fn as_latin1(&self) -> Option<&[u8]> {
        match &self.0 {
            Repr::Inline { len, bytes } => Some(&bytes[..usize::from(*len)]),
            Repr::OneByte(b) => Some(b),
            Repr::TwoByte(_) => None,
        }
    }

    /// An inline one-byte string's storage (zero past its length) and length: lets a writer
    /// copy a fixed-size block instead of a variable-length slice.
    pub(crate) fn inline_latin1(&self) -> Option<(&[u8; INLINE], usize)> {
        match &self.0 {
            Repr::Inline { len, bytes } => Some((bytes, usize::from(*len))),
            _ => None,
        }
    }

    /// The code units, borrowed when the string is two-byte, widened otherwise.
    pub fn to_utf16(&self) -> Cow<'_, [u16]> {
        match (&self.0, self.as_latin1()) {
            (Repr::TwoByte(u), _) => Cow::Borrowed(&u[..]),
            (_, b) => Cow::Owned(
                b.unwrap_or_default()
                    .iter()
                    .map(|&c| u16::from(c))
                    .collect(),
            ),
        }
    }

    /// The code unit at `index`.
    pub fn code_unit(&self, index: usize) -> Option<u16> {
        match (&self.0, self.as_latin1()) {
            (Repr::TwoByte(u), _) => u.get(index).copied(),
            (_, b) => b.unwrap_or_default().get(index).map(|&c| u16::from(c)),
        }
    }

    /// The string as Rust text, or `None` if it holds a lone surrogate.
    pub fn to_rust_string(&self) -> Option<String> {
        match (&self.0, self.as_latin1()) {
            (Repr::TwoByte(u), _) => String::from_utf16(u).ok(),
            (_, b) => Some(
                b.unwrap_or_default()
                    .iter()
                    .map(|&c| char::from(c))
                    .collect(),
            ),
        }
    }

    /// The string as Rust text, lone surrogates replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> String {
        match (&self.0, self.as_latin1()) {
            (Repr::TwoByte(u), _) => String::from_utf16_lossy(u),
            (_, b) => b
                .unwrap_or_default()
                .iter()
                .map(|&c| char::from(c))
                .collect(),
        }
    }

    /// True when this string equals the given Rust text.
    pub fn eq_str(&self, s: &str) -> bool {
        match self.as_latin1() {
            Some(b) if s.is_ascii() => b == s.as_bytes(),
            _ => self.to_utf16().iter().copied().eq(s.encode_utf16()),
        }
    }

    /// If this is a canonical array index ("0", "1", … "4294967294"), that index.
    pub fn array_index(&self) -> Option<u32> {
        // Most keys are names: one byte decides.
        if let Repr::Inline { len, bytes } = &self.0 {
            if *len == 0 || !bytes[0].is_ascii_digit() {
                return None;
            }
        }
        self.as_latin1()
            .and_then(crate::clone::number::parse_array_index)
    }
}

impl From<&str> for JsString {
    fn from(s: &str) -> Self {
        if s.is_ascii() {
            return JsString(one_byte(s.as_bytes()));
        }
        if s.chars().all(|c| (c as u32) <= 0xFF) {
            let bytes: Vec<u8> = s.chars().map(|c| c as u32 as u8).collect();
            JsString(one_byte(&bytes))
        } else {
            JsString(Repr::TwoByte(s.encode_utf16().collect()))
        }
    }
}

impl From<String> for JsString {
    fn from(s: String) -> Self {
        if s.is_ascii() {
            return JsString::from_latin1(s.into_bytes());
        }
        JsString::from(s.as_str())
    }
}

impl From<&String> for JsString {
    fn from(s: &String) -> Self {
        JsString::from(s.as_str())
    }
}

impl PartialEq<str> for JsString {
    fn eq(&self, other: &str) -> bool {
        self.eq_str(other)
    }
}

impl PartialEq<&str> for JsString {
    fn eq(&self, other: &&str) -> bool {
        self.eq_str(other)
    }
}

impl fmt::Display for JsString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

impl fmt::Debug for JsString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Inline { .. } | Repr::OneByte(_) => write!(f, "{:?}", self.to_string_lossy()),
            Repr::TwoByte(u) => {
                f.write_str("\"")?;
                for r in char::decode_utf16(u.iter().copied()) {
                    match r {
                        Ok(c) => write!(f, "{}", c.escape_debug())?,
                        Err(e) => write!(f, "\\u{{{:x}}}", e.unpaired_surrogate())?,
                    }
                }
                f.write_str("\"")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_from_a_window_equals_one_from_its_prefix() {
        // Bytes past the string's length are garbage (the rest of the input): they must not
        // survive into the inline storage, where equality and hashing compare every byte.
        let window: [u8; INLINE] = std::array::from_fn(|i| b'a' + i as u8);
        for len in 0..=INLINE {
            let s = JsString::from_latin1_window(&window, len);
            let t = JsString::from_latin1_slice(&window[..len]);
            assert_eq!(s.as_latin1(), Some(&window[..len]));
            assert_eq!(s.inline_latin1(), t.inline_latin1(), "length {len}");
            assert!(s == t, "length {len}");
        }
    }
}
