//! Decoder fuzzing: any input decodes or fails with a DecodeError (no panic, no unbounded
//! allocation under the default limits), and whatever decodes re-encodes to bytes that decode to
//! the same graph.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webmessaging_core::clone::{decode_with, encode_with, DecodeOptions, EncodeOptions, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_bytes: 16 << 20, max_string_units: 16 << 20, ..Limits::default() };
    for base in [DecodeOptions::default(), DecodeOptions::node_serialize()] {
        let opts = DecodeOptions { limits: limits.clone(), ..base };
        if let Ok(graph) = decode_with(data, &opts) {
            // Padding and (lenient) trailing bytes paid for sparse lengths that the shorter
            // re-encoding does not: the round trip lifts that one budget.
            let relaxed = Limits { sparse_length_base: usize::MAX, ..limits.clone() };
            let encode_options = EncodeOptions { limits: relaxed.clone(), ..EncodeOptions::default() };
            let bytes = encode_with(&graph, &encode_options, &[]).expect("a decoded graph re-encodes");
            let strict = DecodeOptions { limits: relaxed, ..DecodeOptions::default() };
            let again = decode_with(&bytes, &strict).expect("re-encoded bytes decode");
            assert!(again.equivalent(&graph, true), "round trip changed the value");
        }
    }
});
