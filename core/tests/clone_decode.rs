//! The reader's defences (docs/wire-format.md) and what it reads beyond what we write,
//! one hand-made input each.

use webmessaging_core::clone::{
    decode, decode_transfer, decode_with, encode, DecodeErrorKind as K, DecodeOptions, Elements,
    ErrorName, Graph, HostObjects, JsString, Limits, Object, Value,
};
use webmessaging_core::MessageChannel;

fn ok(bytes: &[u8]) -> Graph {
    decode(bytes).unwrap_or_else(|e| panic!("{e}"))
}

fn fails(bytes: &[u8], kind: K, needle: &str) {
    fails_with(bytes, &DecodeOptions::default(), kind, needle);
}

fn fails_with(bytes: &[u8], opts: &DecodeOptions, kind: K, needle: &str) {
    match decode_with(bytes, opts) {
        Ok(g) => panic!("decoded {g:?}, expected {kind:?} ({needle})"),
        Err(e) => {
            assert_eq!(e.kind, kind, "{e}");
            assert!(e.message.contains(needle), "{e:?} lacks {needle:?}");
        }
    }
}

fn root_obj(g: &Graph) -> &Object {
    g.get(g.root.as_object().expect("object root"))
        .expect("root exists")
}

fn limits(f: impl FnOnce(&mut Limits)) -> DecodeOptions {
    let mut o = DecodeOptions::default();
    f(&mut o.limits);
    o
}

// ---- header and versions ----

#[test]
fn header_is_required_and_versions_13_to_16_are_read() {
    fails(b"\x49\x02", K::Unsupported, "header");
    fails(b"\xff\x0c\x5f", K::Unsupported, "version 12");
    fails(b"\xff\x11\x5f", K::Unsupported, "version 17");
    for v in [13u8, 14, 15, 16] {
        assert_eq!(ok(&[0xff, v, b'I', 2]).root, Value::Number(1.0));
    }
    fails(b"", K::Truncated, "");
}

#[test]
fn version_13_views_have_no_flags_and_version_16_lengths_must_fit_32_bits() {
    let g = ok(b"\xff\x0d\x42\x02\x01\x02\x56\x42\x00\x02");
    assert!(matches!(root_obj(&g), Object::View(v) if v.byte_length == 2));
    // v16: a 64-bit-width varint length below 2^32 is fine, above is refused.
    assert!(
        matches!(root_obj(&ok(b"\xff\x10\x42\x01\x07")), Object::ArrayBuffer(b) if b.data == [7])
    );
    fails(b"\xff\x10\x42\x80\x80\x80\x80\x10", K::Unsupported, "2^32");
}

// ---- 1. lengths against the input ----

#[test]
fn lengths_are_checked_against_the_remaining_input_before_allocating() {
    fails(b"\xff\x0f\x22\xff\xff\xff\xff\x0f", K::Truncated, "string");
    fails(b"\xff\x0f\x63\xfe\xff\xff\xff\x0f", K::Truncated, "string");
    fails(
        b"\xff\x0f\x42\xff\xff\xff\xff\x0f",
        K::Truncated,
        "ArrayBuffer",
    );
    fails(
        b"\xff\x0f\x41\xff\xff\xff\xff\x0f",
        K::Truncated,
        "dense array",
    );
    fails(b"\xff\x0f\x5a\xfe\xff\x03", K::Truncated, "BigInt");
}

#[test]
fn sparse_length_and_max_byte_length_are_never_preallocated() {
    // Beyond the default sparse budget (see clone_limits.rs); lifted here.
    let lifted = limits(|l| l.sparse_length_base = usize::MAX);
    let g = decode_with(
        b"\xff\x0f\x61\xff\xff\xff\xff\x0f\x40\x00\xff\xff\xff\xff\x0f",
        &lifted,
    )
    .unwrap();
    match root_obj(&g) {
        Object::Array(a) => assert_eq!(a.length(), 4294967295),
        o => panic!("{o:?}"),
    }
    let g = ok(b"\xff\x0f\x7e\x01\xff\xff\xff\xff\x0f\x09");
    assert!(
        matches!(root_obj(&g), Object::ArrayBuffer(b) if b.max_byte_length == Some(u32::MAX) && b.data == [9])
    );
    fails(
        b"\xff\x0f\x7e\x03\x02\x00\x00\x00",
        K::Malformed,
        "maxByteLength",
    );
}

// ---- 2. varints ----

#[test]
fn varints_are_capped_at_32_bits_and_minimal() {
    fails(
        b"\xff\x0f\x49\x80\x80\x80\x80\x80\x00",
        K::Malformed,
        "32 bits",
    );
    fails(b"\xff\x0f\x49\xff\xff\xff\xff\x7f", K::Malformed, "32 bits");
    fails(b"\xff\x0f\x49\x82\x00", K::Malformed, "minimal");
    assert_eq!(
        ok(b"\xff\x0f\x49\xff\xff\xff\xff\x0f").root,
        Value::Number(-2147483648.0)
    );
    assert_eq!(
        ok(b"\xff\x0f\x55\xff\xff\xff\xff\x0f").root,
        Value::Number(4294967295.0)
    );
}

// ---- 3. depth ----

#[test]
fn nesting_beyond_the_depth_limit_is_an_error_not_a_stack_overflow() {
    let mut deep = b"\xff\x0f".to_vec();
    for _ in 0..1_000_000 {
        deep.extend_from_slice(b"A\x01");
    }
    fails(&deep, K::LimitExceeded, "nesting");
    let opts = limits(|l| l.max_depth = usize::MAX);
    // With no depth limit the reader still cannot overflow its stack: it just runs out of input.
    fails_with(&deep, &opts, K::Truncated, "");
    let mut nested = b"\xff\x0f".to_vec();
    nested.extend(std::iter::repeat_n(*b"A\x01", 100).flatten());
    nested.push(b'_');
    nested.extend(std::iter::repeat_n(*b"$\x00\x01", 100).flatten());
    assert!(decode_with(&nested, &limits(|l| l.max_depth = 100)).is_ok());
    fails_with(
        &nested,
        &limits(|l| l.max_depth = 99),
        K::LimitExceeded,
        "nesting",
    );
}

#[test]
fn deep_graphs_are_refused_by_the_writer_too() {
    let mut g = Graph::new();
    let mut inner = Value::Null;
    for _ in 0..20_000 {
        inner = g.add(Object::array([inner])).into();
    }
    g.root = inner;
    assert_eq!(encode(&g).unwrap_err().name(), "DataCloneError");
}

// ---- 4. budgets ----

#[test]
fn global_budgets_are_enforced() {
    let arr = b"\xff\x0f\x41\x03\x6f\x7b\x00\x6f\x7b\x00\x6f\x7b\x00\x24\x00\x03";
    assert!(decode(arr).is_ok());
    fails_with(
        arr,
        &limits(|l| l.max_objects = 3),
        K::LimitExceeded,
        "object",
    );
    let strings = b"\xff\x0f\x41\x02\x22\x03abc\x22\x03def\x24\x00\x02";
    fails_with(
        strings,
        &limits(|l| l.max_string_units = 5),
        K::LimitExceeded,
        "string",
    );
    let buffers = b"\xff\x0f\x41\x02\x42\x02\x00\x00\x42\x02\x00\x00\x24\x00\x02";
    fails_with(
        buffers,
        &limits(|l| l.max_bytes = 3),
        K::LimitExceeded,
        "ArrayBuffer",
    );
    let big = b"\xff\x0f\x5a\x20\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00";
    fails_with(
        big,
        &limits(|l| l.max_bigint_bytes = 8),
        K::LimitExceeded,
        "BigInt",
    );
}

// ---- 5. references ----

#[test]
fn references_must_name_registered_objects() {
    fails(b"\xff\x0f\x5e\x00", K::Malformed, "unknown object");
    fails(
        b"\xff\x0f\x41\x02\x5e\x01\x6f\x7b\x00\x24\x00\x02",
        K::Malformed,
        "unknown object",
    );
    // A reference to an ancestor under construction is a cycle.
    let g = ok(b"\xff\x0f\x6f\x22\x01\x61\x5e\x00\x7b\x01");
    match root_obj(&g) {
        Object::Object(p) => assert_eq!(p[0].1, g.root),
        o => panic!("{o:?}"),
    }
    // Strings take no id: the object after a string is id 1, not 2.
    fails(
        b"\xff\x0f\x41\x02\x22\x01x\x5e\x01\x24\x00\x02",
        K::Malformed,
        "unknown object",
    );
}

// ---- 6. counts and terminators ----

#[test]
fn end_counts_must_match_what_was_read() {
    fails(
        b"\xff\x0f\x6f\x22\x01\x61\x49\x02\x7b\x02",
        K::Malformed,
        "end count",
    );
    fails(
        b"\xff\x0f\x41\x01\x49\x02\x24\x00\x02",
        K::Malformed,
        "end count",
    );
    fails(
        b"\xff\x0f\x41\x01\x49\x02\x24\x01\x01",
        K::Malformed,
        "end count",
    );
    fails(
        b"\xff\x0f\x61\x02\x49\x00\x49\x02\x40\x02\x02",
        K::Malformed,
        "end count",
    );
    fails(
        b"\xff\x0f\x3b\x49\x02\x49\x04\x3a\x01",
        K::Malformed,
        "end count",
    );
    fails(b"\xff\x0f\x27\x49\x02\x2c\x02", K::Malformed, "end count");
    // The wrong terminator is just an unexpected key tag.
    fails(b"\xff\x0f\x6f\x24\x00\x00", K::Malformed, "key");
}

// ---- 7. keys ----

#[test]
fn keys_are_canonicalised_and_duplicates_rejected() {
    fails(
        b"\xff\x0f\x6f\x49\x02\x49\x00\x22\x01\x31\x49\x00\x7b\x02",
        K::Malformed,
        "duplicate",
    );
    fails(
        b"\xff\x0f\x6f\x22\x01\x61\x49\x00\x22\x01\x61\x49\x00\x7b\x02",
        K::Malformed,
        "duplicate",
    );
    fails(b"\xff\x0f\x6f\x5f\x49\x00\x7b\x01", K::Malformed, "key");
    fails(
        b"\xff\x0f\x6f\x6f\x7b\x00\x49\x00\x7b\x01",
        K::Malformed,
        "key",
    );
    let g = ok(b"\xff\x0f\x6f\x4e\x00\x00\x00\x00\x00\x00\xf8\x3f\x49\x00\x7b\x01");
    match root_obj(&g) {
        Object::Object(p) => assert_eq!(p[0].0, JsString::from("1.5")),
        o => panic!("{o:?}"),
    }
    // __proto__ is an ordinary own key (R-SC-35).
    let g = ok(b"\xff\x0f\x6f\x22\x09__proto__\x49\x02\x7b\x01");
    assert!(matches!(root_obj(&g), Object::Object(p) if p[0].0 == "__proto__"));
}

// ---- 8. strings ----

#[test]
fn strings_keep_lone_surrogates_and_reject_odd_two_byte_lengths() {
    assert_eq!(
        ok(b"\xff\x0f\x63\x02\x00\xd8").root,
        Value::String(JsString::from_utf16(vec![0xd800]))
    );
    fails(b"\xff\x0f\x63\x03\x00\xd8\x00", K::Malformed, "odd");
    assert_eq!(ok(b"\xff\x0f\x22\x01\xe9").root, Value::from("é"));
    assert_eq!(ok(b"\xff\x0f\x53\x02\xc3\xa9").root, Value::from("é"));
    fails(b"\xff\x0f\x53\x01\xff", K::Malformed, "UTF-8");
    // r_sc_3: U+0000 survives.
    assert_eq!(ok(b"\xff\x0f\x22\x03a\x00b").root, Value::from("a\0b"));
}

// ---- 9. BigInt ----

#[test]
fn bigint_minus_zero_is_rejected_and_magnitudes_normalised() {
    fails(b"\xff\x0f\x5a\x01", K::Malformed, "-0");
    fails(
        b"\xff\x0f\x5a\x11\x00\x00\x00\x00\x00\x00\x00\x00",
        K::Malformed,
        "-0",
    );
    // 4-byte digits (32-bit V8) and leading zeros read fine.
    let g = ok(b"\xff\x0f\x5a\x02\x01");
    assert_eq!(g.root, Value::BigInt(1i64.into()));
    assert_eq!(
        encode(&g).unwrap(),
        b"\xff\x0f\x5a\x10\x01\x00\x00\x00\x00\x00\x00\x00"
    );
}

// ---- 10. doubles and dates ----

#[test]
fn nan_is_canonical_and_dates_are_time_clipped() {
    let g = ok(b"\xff\x0f\x4e\x01\x00\x00\x00\x00\x00\xf0\x7f");
    assert_eq!(
        encode(&g).unwrap(),
        b"\xff\x0f\x4e\x00\x00\x00\x00\x00\x00\xf8\x7f"
    );
    let g = ok(b"\xff\x0f\x44\x3c\xe4\x37\x7e\xf3\x40\x3e\x7e"); // 1e300
    assert!(matches!(root_obj(&g), Object::Date(t) if t.is_nan()));
}

// ---- 11. RegExp ----

#[test]
fn regexp_flags_and_source_are_checked() {
    fails(b"\xff\x0f\x52\x22\x01x\x40", K::Malformed, "flags"); // l (linear)
    fails(b"\xff\x0f\x52\x22\x01x\x80\x04", K::Malformed, "flags"); // bit 9
    fails(b"\xff\x0f\x52\x22\x01x\x90\x02", K::Malformed, "flags"); // u + v
    fails(b"\xff\x0f\x52\x49\x02\x00", K::Malformed, "string");
    let g = ok(b"\xff\x0f\x52\x22\x01\x78\xbf\x01");
    assert!(matches!(root_obj(&g), Object::RegExp(r) if r.flags.to_string() == "dgimsuy"));
}

// ---- 12. views ----

#[test]
fn views_must_follow_a_buffer_and_fit_it() {
    fails(b"\xff\x0f\x56\x42\x00\x00\x00", K::Malformed, "follow");
    fails(
        b"\xff\x0f\x42\x02\x00\x00\x56\x42\x01\x02\x00",
        K::Malformed,
        "bounds",
    );
    fails(
        b"\xff\x0f\x42\x04\x00\x00\x00\x00\x56\x57\x01\x02\x00",
        K::Malformed,
        "multiples",
    );
    fails(
        b"\xff\x0f\x42\x02\x00\x00\x56\x5a\x00\x02\x00",
        K::Malformed,
        "sub-tag",
    );
    fails(
        b"\xff\x0f\x42\x02\x00\x00\x56\x42\x00\x02\x04",
        K::Malformed,
        "flags",
    );
    fails(
        b"\xff\x0f\x42\x02\x00\x00\x56\x42\x00\x00\x03",
        K::Malformed,
        "resizab",
    );
    fails(
        b"\xff\x0f\x7e\x02\x04\x00\x00\x56\x42\x00\x02\x00",
        K::Malformed,
        "resizab",
    );
    // A view after a reference to a buffer shares it (R-SC-13).
    let g = ok(b"\xff\x0f\x41\x02\x42\x02\x00\x00\x5e\x01\x56\x42\x00\x02\x00\x24\x00\x02");
    match root_obj(&g) {
        Object::Array(a) => match (&a.elements, g.get(a.get(1).unwrap().as_object().unwrap())) {
            (Elements::Dense(e), Some(Object::View(v))) => {
                assert_eq!(Value::Object(v.buffer), e[0])
            }
            o => panic!("{o:?}"),
        },
        o => panic!("{o:?}"),
    }
}

#[test]
fn node_serialize_dialect_reads_host_object_views() {
    let node = DecodeOptions::node_serialize();
    assert_eq!(node.host_objects, HostObjects::NodeSerialize);
    let g = decode_with(b"\xff\x0f\x5c\x0a\x03abc", &node).unwrap();
    assert!(matches!(root_obj(&g), Object::View(v) if v.byte_length == 3));
    fails_with(
        b"\xff\x0f\x5c\x08\x03\x00\x00\x00",
        &node,
        K::Malformed,
        "multiple",
    );
    fails_with(b"\xff\x0f\x5c\x0d\x00", &node, K::Malformed, "type 13");
    // The default dialect reads `\` as a port index: with no port table that is an error.
    fails(b"\xff\x0f\x5c\x0a\x03abc", K::Malformed, "port table");
}

// ---- 13. transfers and host objects ----

#[test]
fn transfer_table_entries_are_checked_and_used_once() {
    let opts = DecodeOptions::default();
    let (p, _q) = MessageChannel::new().into_ports();
    let ports = [p];
    let e = decode_transfer(b"\xff\x0f\x74\x00", &opts, &ports, vec![]).unwrap_err();
    assert!(e.message.contains("transfer table"), "{e}");
    let twice = b"\xff\x0f\x41\x02\x74\x00\x74\x00\x24\x00\x02";
    let e = decode_transfer(twice, &opts, &ports, vec![vec![1].into()]).unwrap_err();
    assert!(e.message.contains("twice"), "{e}");
    let twice = b"\xff\x0f\x41\x02\x5c\x00\x5c\x00\x24\x00\x02";
    let e = decode_transfer(twice, &opts, &ports, vec![]).unwrap_err();
    assert!(e.message.contains("twice"), "{e}");
    let e = decode_transfer(b"\xff\x0f\x5c\x01", &opts, &ports, vec![]).unwrap_err();
    assert!(e.message.contains("port table"), "{e}");
    let g = decode_transfer(
        b"\xff\x0f\x41\x02\x5c\x00\x5e\x01\x24\x00\x02",
        &opts,
        &ports,
        vec![],
    )
    .unwrap();
    assert!(matches!(root_obj(&g), Object::Array(a) if a.get(0) == a.get(1)));
}

#[test]
fn shared_memory_wasm_and_unknown_tags_are_refused() {
    for t in [b'u', b'p', b'w', b'm'] {
        fails(&[0xff, 0x0f, t, 0], K::Unsupported, "not supported");
    }
    for t in [b'M', b'b', b'i', b'G', b'k', 0x01] {
        fails(&[0xff, 0x0f, t, 0], K::Malformed, "unexpected tag");
    }
    fails(b"\xff\x0f\x2d", K::Malformed, "hole");
}

// ---- 14. Error ----

#[test]
fn errors_read_both_field_orders_and_a_self_referencing_cause() {
    // Node 20's order: message, cause, stack.
    let g = ok(b"\xff\x0f\x72\x54\x6d\x22\x01\x79\x63\x49\x02\x73\x22\x01\x53\x2e");
    match root_obj(&g) {
        Object::Error(e) => {
            assert_eq!(e.name, ErrorName::TypeError);
            assert_eq!(e.cause, Some(Value::Number(1.0)));
            assert_eq!(e.stack, Some(JsString::from("S")));
            // We write the newer order: message, stack, cause.
            assert_eq!(
                encode(&g).unwrap(),
                b"\xff\x0f\x72\x54\x6d\x22\x01\x79\x73\x22\x01\x53\x63\x49\x02\x2e"
            );
        }
        o => panic!("{o:?}"),
    }
    let g = ok(b"\xff\x0f\x72\x6d\x22\x01\x78\x63\x5e\x00\x2e");
    assert!(matches!(root_obj(&g), Object::Error(e) if e.cause == Some(g.root.clone())));
    fails(
        b"\xff\x0f\x72\x6d\x22\x01\x78\x54\x2e",
        K::Malformed,
        "Error field",
    );
    fails(
        b"\xff\x0f\x72\x6d\x22\x01\x78\x6d\x22\x01\x78\x2e",
        K::Malformed,
        "Error field",
    );
    fails(b"\xff\x0f\x72\x6d\x49\x02\x2e", K::Malformed, "string");
    // Before its cause starts, an error cannot be referenced.
    fails(
        b"\xff\x0f\x72\x6d\x22\x01\x78\x2e\x5e\x00",
        K::TrailingBytes,
        "",
    );
}

// ---- 15. Map/Set duplicates ----

#[test]
fn map_and_set_duplicates_are_rejected_strictly_and_merged_leniently() {
    let set = b"\xff\x0f\x27\x49\x02\x49\x02\x2c\x02";
    fails(set, K::Malformed, "duplicate");
    let lenient = DecodeOptions {
        strict: false,
        ..DecodeOptions::default()
    };
    let g = decode_with(set, &lenient).unwrap();
    assert!(matches!(root_obj(&g), Object::Set(v) if v.len() == 1));
    // SameValueZero: +0 and -0 are one key.
    let map = b"\xff\x0f\x3b\x49\x00\x49\x02\x4e\x00\x00\x00\x00\x00\x00\x00\x80\x49\x04\x3a\x04";
    fails(map, K::Malformed, "duplicate");
    let g = decode_with(map, &lenient).unwrap();
    assert!(matches!(root_obj(&g), Object::Map(e) if e.len() == 1 && e[0].1 == Value::Number(2.0)));
    // Beyond the linear-scan size: 40 keys, then each key again with a new value.
    let mut big = b"\xff\x0f\x3b".to_vec();
    for round in 0..2u8 {
        for k in 0..40u8 {
            big.extend_from_slice(&[b'I', k * 2, b'I', round * 2]);
        }
    }
    big.extend_from_slice(b"\x3a\xa0\x01"); // 160 = 2 x 80 wire entries
    fails(&big, K::Malformed, "duplicate");
    let g = decode_with(&big, &lenient).unwrap();
    match root_obj(&g) {
        Object::Map(e) => {
            assert_eq!(e.len(), 40);
            assert!(e
                .iter()
                .enumerate()
                .all(|(i, (k, v))| *k == Value::from(i as i32) && *v == Value::from(1)));
        }
        o => panic!("{o:?}"),
    }
}

// ---- 16. trailing bytes ----

#[test]
fn trailing_bytes_fail_strictly_but_padding_and_lenient_mode_pass() {
    fails(b"\xff\x0f\x49\x02\x54", K::TrailingBytes, "after the root");
    assert!(decode(b"\xff\x0f\x49\x02\x00\x00").is_ok());
    let lenient = DecodeOptions {
        strict: false,
        ..DecodeOptions::default()
    };
    assert_eq!(
        decode_with(b"\xff\x0f\x49\x02\x54", &lenient).unwrap().root,
        Value::Number(1.0)
    );
}

#[test]
fn padding_and_verify_count_are_skipped_before_tags() {
    assert_eq!(
        ok(b"\xff\x0f\x00\x00\x3f\x05\x49\x02").root,
        Value::Number(1.0)
    );
    let g = ok(b"\xff\x0f\x6f\x22\x02ab\x00\x63\x04\x3d\xd8\x00\xde\x7b\x01");
    assert!(matches!(root_obj(&g), Object::Object(p) if p[0].1 == Value::from("😀")));
}

#[test]
fn dense_array_holes_read_as_a_sparse_array() {
    let g = ok(b"\xff\x0f\x41\x03\x49\x02\x2d\x49\x06\x24\x00\x03");
    match root_obj(&g) {
        Object::Array(a) => {
            assert_eq!(a.length(), 3);
            assert_eq!(a.get(1), None);
            assert_eq!(a.get(2), Some(&Value::Number(3.0)));
        }
        o => panic!("{o:?}"),
    }
    fails(
        b"\xff\x0f\x61\x01\x49\x0a\x49\x00\x40\x01\x01",
        K::Malformed,
        "beyond",
    );
}

#[test]
fn errors_say_where() {
    let e = decode(b"\xff\x0f\x6f\x22\x01a\x49\x02\x7b\x05").unwrap_err();
    assert_eq!(e.offset, 9);
    assert!(e.to_string().contains("at byte 9"), "{e}");
}

/// `{k0: 0, …, k(n-1): 0}` without header or end tag; then `extra` keys.
fn many_keys(out: &mut Vec<u8>, names: impl IntoIterator<Item = String>) -> u32 {
    let mut n = 0;
    for name in names {
        out.push(b'"');
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"I\x00");
        n += 1;
    }
    n
}

#[test]
fn duplicate_keys_are_found_among_many_and_nested_objects_keep_their_own() {
    let keys = |r: std::ops::Range<u32>| r.map(|k| format!("k{k}")).collect::<Vec<_>>();
    // 20 keys, then k3 again: beyond the linear scan.
    let mut dup = b"\xff\x0fo".to_vec();
    let n = many_keys(&mut dup, keys(0..20).into_iter().chain(["k3".to_owned()]));
    dup.extend_from_slice(&[b'{', n as u8]);
    fails(&dup, K::Malformed, "duplicate property key \"k3\"");

    // A parent of 20 keys holding, under `child`, an object with the same 20 keys: no
    // duplicate; after the child ends the parent still knows its own keys.
    let nested = |tail: &[String]| {
        let mut b = b"\xff\x0fo".to_vec();
        let mut n = many_keys(&mut b, keys(0..20));
        b.extend_from_slice(b"\"\x05childo");
        let c = many_keys(&mut b, keys(0..20));
        b.extend_from_slice(&[b'{', c as u8]);
        n += 1 + many_keys(&mut b, tail.iter().cloned());
        b.extend_from_slice(&[b'{', n as u8]);
        b
    };
    let g = ok(&nested(&keys(20..22)));
    match root_obj(&g) {
        Object::Object(props) => {
            assert_eq!(props.len(), 23);
            let child = props[20].1.as_object().expect("child");
            assert!(matches!(g.get(child), Some(Object::Object(p)) if p.len() == 20));
        }
        other => panic!("{other:?}"),
    }
    fails(
        &nested(&["k19".to_owned()]),
        K::Malformed,
        "duplicate property key \"k19\"",
    );
    fails(
        &nested(&["child".to_owned()]),
        K::Malformed,
        "duplicate property key \"child\"",
    );
}

#[test]
fn keys_written_out_of_javascript_order_are_read_in_it() {
    let keys = |bytes: &[u8]| match root_obj(&ok(bytes)) {
        Object::Object(props) => props
            .iter()
            .map(|(k, _)| k.to_string_lossy())
            .collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    // {a: 0, 2: 2, 1: 0} as another writer may put it: indices first, ascending.
    assert_eq!(
        keys(b"\xff\x0f\x6f\x22\x01a\x49\x00\x49\x04\x49\x04\x49\x02\x49\x00\x7b\x03"),
        ["1", "2", "a"]
    );
    // Descending indices only; the string "3" is the index 3.
    assert_eq!(
        keys(b"\xff\x0f\x6f\x49\x0a\x49\x00\x22\x013\x49\x00\x7b\x02"),
        ["3", "5"]
    );
    // Already in order: kept as written.
    assert_eq!(
        keys(b"\xff\x0f\x6f\x49\x02\x49\x00\x49\x04\x49\x00\x22\x01b\x49\x00\x22\x01a\x49\x00\x7b\x04"),
        ["1", "2", "b", "a"]
    );
}
