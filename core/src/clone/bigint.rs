//! JavaScript BigInt values of any size: a sign and a little-endian magnitude.

use std::fmt;
use std::str::FromStr;

use num_bigint::{BigUint, Sign};

/// A JavaScript BigInt of arbitrary size, kept as sign + magnitude (the wire format's own form).
///
/// Always normalised: no trailing zero bytes in the magnitude, and zero is never negative
/// (JavaScript has no `-0n`).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct JsBigInt {
    /// Little-endian magnitude bytes, no trailing zeros, then one sign byte (1 for negative);
    /// empty for zero. One field keeps a BigInt, and so a [`Value`](super::Value), two words
    /// smaller than a separate sign would.
    repr: Box<[u8]>,
}

impl JsBigInt {
    /// `0n`.
    pub fn zero() -> Self {
        Self::default()
    }

    /// A BigInt from a sign and a little-endian magnitude (leading zeros allowed and dropped).
    pub fn from_sign_magnitude(negative: bool, magnitude_le: impl Into<Vec<u8>>) -> Self {
        let mut repr = magnitude_le.into();
        while repr.last() == Some(&0) {
            repr.pop();
        }
        if !repr.is_empty() {
            repr.push(u8::from(negative));
        }
        JsBigInt {
            repr: repr.into_boxed_slice(),
        }
    }

    /// True for values below zero.
    pub fn is_negative(&self) -> bool {
        self.repr.last() == Some(&1)
    }

    /// True for `0n`.
    pub fn is_zero(&self) -> bool {
        self.repr.is_empty()
    }

    /// The magnitude, little-endian, without trailing zero bytes (empty for zero).
    pub fn magnitude_le(&self) -> &[u8] {
        &self.repr[..self.repr.len().saturating_sub(1)]
    }

    /// The value as an `i128`, if it fits.
    pub fn to_i128(&self) -> Option<i128> {
        let magnitude = self.magnitude_le();
        if magnitude.len() > 16 {
            return None;
        }
        let mut buf = [0u8; 16];
        buf[..magnitude.len()].copy_from_slice(magnitude);
        let m = u128::from_le_bytes(buf);
        if self.is_negative() {
            if m == 1u128 << 127 {
                Some(i128::MIN)
            } else {
                i128::try_from(m).ok().map(|v| -v)
            }
        } else {
            i128::try_from(m).ok()
        }
    }

    /// The value as an `i64`, if it fits.
    pub fn to_i64(&self) -> Option<i64> {
        self.to_i128().and_then(|v| i64::try_from(v).ok())
    }

    /// The decimal text of the value (as JavaScript's `String(n)`).
    pub fn to_decimal(&self) -> String {
        let m = BigUint::from_bytes_le(self.magnitude_le());
        let digits = m.to_str_radix(10);
        if self.is_negative() {
            format!("-{digits}")
        } else {
            digits
        }
    }

    /// Parses decimal text with an optional leading `-` (or `+`); `None` if it is not an integer.
    pub fn parse_decimal(text: &str) -> Option<Self> {
        let (negative, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let m = BigUint::parse_bytes(digits.as_bytes(), 10)?;
        Some(Self::from_sign_magnitude(negative, m.to_bytes_le()))
    }
}

impl From<i128> for JsBigInt {
    fn from(v: i128) -> Self {
        Self::from_sign_magnitude(v < 0, v.unsigned_abs().to_le_bytes())
    }
}

impl From<i64> for JsBigInt {
    fn from(v: i64) -> Self {
        Self::from(i128::from(v))
    }
}

impl From<u64> for JsBigInt {
    fn from(v: u64) -> Self {
        Self::from(i128::from(v))
    }
}

impl From<num_bigint::BigInt> for JsBigInt {
    fn from(v: num_bigint::BigInt) -> Self {
        let (sign, mag) = v.to_bytes_le();
        Self::from_sign_magnitude(sign == Sign::Minus, mag)
    }
}

impl From<&JsBigInt> for num_bigint::BigInt {
    fn from(v: &JsBigInt) -> Self {
        let sign = if v.is_negative() {
            Sign::Minus
        } else {
            Sign::Plus
        };
        num_bigint::BigInt::from_bytes_le(sign, v.magnitude_le())
    }
}

/// The error of [`JsBigInt::from_str`]: the text is not a decimal integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseBigIntError;

impl fmt::Display for ParseBigIntError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a decimal integer")
    }
}

impl std::error::Error for ParseBigIntError {}

impl FromStr for JsBigInt {
    type Err = ParseBigIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_decimal(s).ok_or(ParseBigIntError)
    }
}

impl fmt::Display for JsBigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal())
    }
}

impl fmt::Debug for JsBigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}n", self.to_decimal())
    }
}
