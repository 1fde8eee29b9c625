//! JavaScript strings: sequences of UTF-16 code units, lone surrogates allowed.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// A JavaScript string: a sequence of UTF-16 code units (WTF-16), so lone surrogates and U+0000
/// survive (R-SC-3). Not a Rust `String`: convert with [`to_string_lossy`](Self::to_string_lossy)
/// or [`to_rust_string`](Self::to_rust_string).
///
/// Internally a string whose code units are all ≤ 0xFF is kept one byte per unit (Latin-1), like
/// V8 does; that is also what decides its wire form (`"` versus `c`). Equality and hashing are by
/// code units, whatever the representation. The units are shared: cloning is cheap (the decoder
/// gives every repeated property key one shared copy).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JsString(Repr);

/// Invariant: `TwoByte` holds at least one code unit above 0xFF.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Repr {
    OneByte(Arc<[u8]>),
    TwoByte(Arc<[u16]>),
}

impl Default for JsString {
    fn default() -> Self {
        JsString(Repr::OneByte(Arc::from(&[][..])))
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
            JsString(Repr::OneByte(units.into_iter().map(|u| u as u8).collect()))
        } else {
            JsString(Repr::TwoByte(Arc::from(units)))
        }
    }

    /// A string whose code units are the given Latin-1 bytes (each byte one code unit).
    pub fn from_latin1(bytes: impl Into<Vec<u8>>) -> Self {
        JsString(Repr::OneByte(Arc::from(bytes.into())))
    }

    /// A string whose code units are the given Latin-1 bytes, copied once.
    pub fn from_latin1_slice(bytes: &[u8]) -> Self {
        JsString(Repr::OneByte(Arc::from(bytes)))
    }

    /// The number of UTF-16 code units (JavaScript's `length`).
    pub fn len(&self) -> usize {
        match &self.0 {
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
            Repr::OneByte(b) => Some(b),
            Repr::TwoByte(_) => None,
        }
    }

    /// The code units, borrowed when the string is two-byte, widened otherwise.
    pub fn to_utf16(&self) -> Cow<'_, [u16]> {
        match &self.0 {
            Repr::OneByte(b) => Cow::Owned(b.iter().map(|&c| u16::from(c)).collect()),
            Repr::TwoByte(u) => Cow::Borrowed(&u[..]),
        }
    }

    /// The code unit at `index`.
    pub fn code_unit(&self, index: usize) -> Option<u16> {
        match &self.0 {
            Repr::OneByte(b) => b.get(index).map(|&c| u16::from(c)),
            Repr::TwoByte(u) => u.get(index).copied(),
        }
    }

    /// The string as Rust text, or `None` if it holds a lone surrogate.
    pub fn to_rust_string(&self) -> Option<String> {
        match &self.0 {
            Repr::OneByte(b) => Some(b.iter().map(|&c| char::from(c)).collect()),
            Repr::TwoByte(u) => String::from_utf16(u).ok(),
        }
    }

    /// The string as Rust text, lone surrogates replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> String {
        match &self.0 {
            Repr::OneByte(b) => b.iter().map(|&c| char::from(c)).collect(),
            Repr::TwoByte(u) => String::from_utf16_lossy(u),
        }
    }

    /// True when this string equals the given Rust text.
    pub fn eq_str(&self, s: &str) -> bool {
        match &self.0 {
            Repr::OneByte(b) if s.is_ascii() => **b == *s.as_bytes(),
            _ => self.to_utf16().iter().copied().eq(s.encode_utf16()),
        }
    }

    /// If this is a canonical array index ("0", "1", … "4294967294"), that index.
    pub fn array_index(&self) -> Option<u32> {
        match &self.0 {
            Repr::OneByte(b) => crate::clone::number::parse_array_index(b),
            Repr::TwoByte(_) => None,
        }
    }
}

impl From<&str> for JsString {
    fn from(s: &str) -> Self {
        if s.is_ascii() {
            return JsString(Repr::OneByte(Arc::from(s.as_bytes())));
        }
        if s.chars().all(|c| (c as u32) <= 0xFF) {
            JsString(Repr::OneByte(s.chars().map(|c| c as u32 as u8).collect()))
        } else {
            JsString(Repr::TwoByte(s.encode_utf16().collect()))
        }
    }
}

impl From<String> for JsString {
    fn from(s: String) -> Self {
        if s.is_ascii() {
            return JsString(Repr::OneByte(Arc::from(s.into_bytes())));
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
            Repr::OneByte(_) => write!(f, "{:?}", self.to_string_lossy()),
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
