//! Number helpers: property-key canonicalisation (ECMAScript `Number::toString`), array
//! indices, TimeClip.

/// The largest array index (2^32 − 2); 2^32 − 1 is a valid `length` but not an index.
pub(crate) const MAX_ARRAY_INDEX: u32 = u32::MAX - 1;

/// Parses a canonical array index: decimal, no leading zeros (except "0"), ≤ 2^32 − 2.
pub(crate) fn parse_array_index(b: &[u8]) -> Option<u32> {
    match b {
        [] => None,
        [b'0'] => Some(0),
        [b'0', ..] => None,
        _ if b.len() > 10 => None,
        _ => {
            let mut v: u64 = 0;
            for &c in b {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + u64::from(c - b'0');
            }
            u32::try_from(v).ok().filter(|&v| v <= MAX_ARRAY_INDEX)
        }
    }
}

/// ECMAScript `Number::toString(x)` (radix 10), as used to turn numeric keys into names.
pub(crate) fn number_to_string(x: f64) -> String {
    if x == 0.0 {
        // Both +0 and -0 print as "0".
        return "0".to_owned();
    }
    ryu_js::Buffer::new().format(x).to_owned()
}

/// TimeClip: times beyond ±8.64e15 ms (and non-finite ones) become NaN; -0 becomes +0.
pub(crate) fn time_clip(t: f64) -> f64 {
    if !t.is_finite() || t.abs() > 8.64e15 {
        f64::NAN
    } else {
        // ToIntegerOrInfinity, then +0 for -0.
        t.trunc() + 0.0
    }
}

/// The canonical quiet NaN V8 writes.
pub(crate) const CANONICAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0000;

/// NaN payloads are not observable in JavaScript: collapse them all to the canonical one.
pub(crate) fn canonical(x: f64) -> f64 {
    if x.is_nan() {
        f64::from_bits(CANONICAL_NAN_BITS)
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_index_bounds() {
        assert_eq!(parse_array_index(b"0"), Some(0));
        assert_eq!(parse_array_index(b"4294967294"), Some(4294967294));
        assert_eq!(parse_array_index(b"4294967295"), None);
        assert_eq!(parse_array_index(b"01"), None);
        assert_eq!(parse_array_index(b"-1"), None);
        assert_eq!(parse_array_index(b"99999999999"), None);
    }

    #[test]
    fn number_keys_print_like_javascript() {
        assert_eq!(number_to_string(1.5), "1.5");
        assert_eq!(number_to_string(-0.0), "0");
        assert_eq!(number_to_string(2147483648.0), "2147483648");
        assert_eq!(number_to_string(1e21), "1e+21");
        assert_eq!(number_to_string(f64::NAN), "NaN");
        assert_eq!(number_to_string(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(number_to_string(1e-7), "1e-7");
    }

    #[test]
    fn time_clip_limits() {
        assert!(time_clip(8.64e15 + 1.0).is_nan());
        assert_eq!(time_clip(8.64e15), 8.64e15);
        assert_eq!(time_clip(1.7).to_bits(), 1.0f64.to_bits());
        assert_eq!(time_clip(-0.0).to_bits(), 0.0f64.to_bits());
    }
}
