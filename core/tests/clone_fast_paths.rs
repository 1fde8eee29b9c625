//! The writer's and reader's fast paths against bytes built by hand from the wire format's rules:
//! strings on each side of the inline limit and of every varint length, Smis at every varint
//! length, containers whose end counts take more than one byte, and graphs with and without
//! shared references and cycles.

use webmessaging_core::clone::{decode, encode, Graph, JsString, Object, Value};

/// An independent LEB128 varint writer.
fn varint(mut n: u32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (n & 0x7F) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

fn header() -> Vec<u8> {
    vec![0xFF, 0x0F]
}

fn one_byte(s: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    out.extend(varint(s.len() as u32));
    out.extend_from_slice(s);
    out
}

fn smi(n: i32) -> Vec<u8> {
    let mut out = vec![b'I'];
    out.extend(varint(((n << 1) ^ (n >> 31)) as u32));
    out
}

fn encode_root(root: Value) -> Vec<u8> {
    encode(&Graph::from_root(root)).expect("encode")
}

/// Latin-1 text of `len` units cycling through printable ASCII and high Latin-1 bytes.
fn latin1(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            if i % 3 == 2 {
                0xA0 + (i % 90) as u8
            } else {
                b'a' + (i % 26) as u8
            }
        })
        .collect()
}

#[test]
fn one_byte_strings_at_every_length_boundary() {
    // 22/23: inline or shared storage; 127/128 and 16383/16384: one, two, three varint bytes.
    for len in [
        0, 1, 2, 7, 8, 21, 22, 23, 24, 63, 64, 127, 128, 129, 16383, 16384,
    ] {
        let text = latin1(len);
        let s = JsString::from_latin1(text.clone());
        let mut want = header();
        want.extend(one_byte(&text));
        assert_eq!(encode_root(s.clone().into()), want, "string of {len} units");
        assert_eq!(decode(&want).expect("decode").root, Value::String(s));
        // As a key and a value of one object, where the writer takes its property fast path.
        let mut g = Graph::new();
        g.root = g
            .add(Object::object([(
                JsString::from_latin1(text.clone()),
                Value::from(len as u32),
            )]))
            .into();
        let mut want = header();
        want.push(b'o');
        want.extend(one_byte(&text));
        want.extend(smi(len as i32));
        want.extend([b'{', 1]);
        assert_eq!(encode(&g).expect("encode"), want, "key of {len} units");
    }
}

#[test]
fn two_byte_strings_are_not_mistaken_for_one_byte() {
    for len in [1, 2, 21, 22, 23] {
        let mut units: Vec<u16> = (0..len).map(|i| u16::from(b'a') + i as u16).collect();
        units[len - 1] = 0x3B1; // α
        let bytes = encode_root(JsString::from_utf16(units.clone()).into());
        // Header (2 bytes), then padding if needed to keep the payload at an even offset.
        let mut want = header();
        if (want.len() + 1 + varint(2 * len as u32).len()) % 2 == 1 {
            want.push(0);
        }
        want.push(b'c');
        want.extend(varint(2 * len as u32));
        want.extend(units.iter().flat_map(|u| u.to_le_bytes()));
        assert_eq!(bytes, want, "two-byte string of {len} units");
    }
}

#[test]
fn smis_at_every_varint_length_and_doubles_beside_them() {
    for n in [
        0,
        1,
        -1,
        63,
        64,
        -64,
        -65,
        8191,
        8192,
        -8192,
        -8193,
        1 << 20,
        (1 << 27) - 1,
        1 << 27,
        i32::MAX,
        i32::MIN,
    ] {
        let mut want = header();
        want.extend(smi(n));
        assert_eq!(encode_root(Value::from(n)), want, "Smi {n}");
    }
    for x in [
        -0.0,
        0.5,
        f64::from(i32::MAX) + 1.0,
        f64::from(i32::MIN) - 1.0,
        f64::INFINITY,
    ] {
        let mut want = header();
        want.push(b'N');
        want.extend(x.to_le_bytes());
        assert_eq!(encode_root(Value::from(x)), want, "double {x}");
    }
}

#[test]
fn end_counts_of_one_to_three_varint_bytes() {
    for n in [0u32, 1, 127, 128, 300, 16384] {
        // An array of n Smis.
        let mut g = Graph::new();
        g.root = g.add(Object::array((0..n).map(|i| i as i32))).into();
        let mut want = header();
        want.push(b'A');
        want.extend(varint(n));
        for i in 0..n {
            want.extend(smi(i as i32));
        }
        want.push(b'$');
        want.extend(varint(0));
        want.extend(varint(n));
        assert_eq!(encode(&g).expect("encode"), want, "array of {n}");
        // An object of n properties.
        let mut g = Graph::new();
        g.root = g
            .add(Object::object(
                (0..n).map(|i| (format!("k{i}"), Value::from(i))),
            ))
            .into();
        let mut want = header();
        want.push(b'o');
        for i in 0..n {
            want.extend(one_byte(format!("k{i}").as_bytes()));
            want.extend(smi(i as i32));
        }
        want.push(b'{');
        want.extend(varint(n));
        assert_eq!(encode(&g).expect("encode"), want, "object of {n}");
    }
}

/// `{a: 1, b: <x>, c: [<x>, 2], d: "z"}`: the writer resumes a container after a nested object.
fn nested(shared: bool) -> (Graph, Vec<u8>) {
    let mut g = Graph::new();
    let x = g.add(Object::object([("v", 7)]));
    let y = if shared {
        x
    } else {
        g.add(Object::object([("v", 7)]))
    };
    let list = g.add(Object::array([Value::from(y), Value::from(2)]));
    g.root = g
        .add(Object::object([
            ("a", Value::from(1)),
            ("b", x.into()),
            ("c", list.into()),
            ("d", "z".into()),
        ]))
        .into();
    let inner = [b'o', b'"', 1, b'v', b'I', 14, b'{', 1];
    let mut want = header();
    want.extend([b'o', b'"', 1, b'a', b'I', 2, b'"', 1, b'b']);
    want.extend(inner);
    want.extend([b'"', 1, b'c', b'A', 2]);
    if shared {
        // Wire ids: root 0, x 1, list 2.
        want.extend([b'^', 1]);
    } else {
        want.extend(inner);
    }
    want.extend([b'I', 4, b'$', 0, 2, b'"', 1, b'd', b'"', 1, b'z', b'{', 4]);
    (g, want)
}

#[test]
fn containers_resume_after_a_nested_object_with_and_without_sharing() {
    for shared in [false, true] {
        let (g, want) = nested(shared);
        let bytes = encode(&g).expect("encode");
        assert_eq!(bytes, want, "shared: {shared}");
        let back = decode(&bytes).expect("decode");
        let root = back.root.as_object().expect("object");
        let Some(Object::Object(props)) = back.get(root) else {
            panic!("root is not an object")
        };
        let b = props[1].1.as_object().expect("b");
        let Some(Object::Array(list)) = back.get(props[2].1.as_object().expect("c")) else {
            panic!("c is not an array")
        };
        let c0 = list.get(0).and_then(Value::as_object).expect("c[0]");
        assert_eq!(b == c0, shared, "shared: {shared}");
    }
}

#[test]
fn a_cycle_is_written_as_a_back_reference() {
    // a = {self: a, list: [a, 1]}
    let mut g = Graph::new();
    let a = g.add(Object::object([("x", 0)]));
    let list = g.add(Object::array([Value::from(a), Value::from(1)]));
    if let Some(Object::Object(props)) = g.get_mut(a) {
        props.clear();
        props.push(("self".into(), a.into()));
        props.push(("list".into(), list.into()));
    }
    g.root = a.into();
    let mut want = header();
    want.extend([b'o', b'"', 4, b's', b'e', b'l', b'f', b'^', 0]);
    want.extend([
        b'"', 4, b'l', b'i', b's', b't', b'A', 2, b'^', 0, b'I', 2, b'$', 0, 2,
    ]);
    want.extend([b'{', 2]);
    let bytes = encode(&g).expect("encode");
    assert_eq!(bytes, want);
    let back = decode(&bytes).expect("decode");
    let root = back.root.as_object().expect("object");
    let Some(Object::Object(props)) = back.get(root) else {
        panic!("root is not an object")
    };
    assert_eq!(props[0].1, Value::Object(root));
    let Some(Object::Array(l)) = back.get(props[1].1.as_object().expect("list")) else {
        panic!("list is not an array")
    };
    assert_eq!(l.get(0), Some(&Value::Object(root)));
    assert_eq!(back.len(), 2);
}

#[test]
fn the_reader_s_property_loop_resumes_after_nested_objects_and_reports_each_key_s_offset() {
    // {a: 1, b: {v: 7}, c: "s", d: {v: 7}, e: 2} by hand, then a duplicate key at each place.
    let inner = [b'o', b'"', 1, b'v', b'I', 14, b'{', 1];
    let mut bytes = header();
    bytes.extend([b'o', b'"', 1, b'a', b'I', 2, b'"', 1, b'b']);
    bytes.extend(inner);
    bytes.extend([b'"', 1, b'c', b'"', 1, b's', b'"', 1, b'd']);
    bytes.extend(inner);
    bytes.extend([b'"', 1, b'e', b'I', 4, b'{', 5]);
    let g = decode(&bytes).expect("decode");
    let root = g.root.as_object().expect("object");
    let Some(Object::Object(props)) = g.get(root) else {
        panic!("root is not an object")
    };
    let keys: Vec<String> = props.iter().map(|(k, _)| k.to_string_lossy()).collect();
    assert_eq!(keys, ["a", "b", "c", "d", "e"]);
    assert_eq!(props[0].1, Value::from(1));
    assert_eq!(props[2].1, Value::from("s"));
    assert_eq!(props[4].1, Value::from(2));
    for i in [1, 3] {
        let Some(Object::Object(p)) = g.get(props[i].1.as_object().expect("nested")) else {
            panic!("property {i} is not an object")
        };
        assert_eq!(p.as_slice(), [("v".into(), Value::from(7))]);
    }
    // Rename "b" (after a primitive), "c" (after a nested object) and "e" to "a": the error
    // points at the renamed key.
    for (key_at, what) in [(8, "b"), (19, "c"), (36, "e")] {
        let mut dup = bytes.clone();
        assert_eq!(dup[key_at..key_at + 3], [b'"', 1, what.as_bytes()[0]]);
        dup[key_at + 2] = b'a';
        let e = decode(&dup).expect_err("duplicate key");
        assert_eq!(e.offset, key_at, "{e}");
        assert!(e.message.contains("duplicate property key \"a\""), "{e}");
    }
}

#[test]
fn the_reader_takes_varints_of_every_length_and_refuses_overlong_ones() {
    for n in [
        0u32,
        1,
        127,
        128,
        16383,
        16384,
        (1 << 21) - 1,
        1 << 21,
        u32::MAX,
    ] {
        let mut bytes = header();
        bytes.push(b'U');
        bytes.extend(varint(n));
        assert_eq!(decode(&bytes).expect("decode").root, Value::from(n), "{n}");
    }
    // 1 written in two bytes (0x81 0x00) is not minimal; a sixth byte is too many.
    for bad in [
        &[b'U', 0x81, 0x00][..],
        &[b'U', 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
    ] {
        let mut bytes = header();
        bytes.extend_from_slice(bad);
        assert!(decode(&bytes).is_err(), "{bad:02x?}");
    }
}

#[test]
fn the_reader_s_short_key_path_leaves_numeric_and_long_keys_to_the_general_one() {
    let long22 = latin1(22);
    let long23 = latin1(23);
    let keys: [&[u8]; 6] = [b"b", b"1a", b"01", &long22, &long23, b"7"];
    let mut bytes = header();
    bytes.push(b'o');
    for (i, k) in keys.iter().enumerate() {
        bytes.extend(one_byte(k));
        bytes.extend(one_byte(&latin1(i * 5)));
    }
    bytes.extend([b'{', keys.len() as u8]);
    let g = decode(&bytes).expect("decode");
    let Some(Object::Object(props)) = g.get(g.root.as_object().expect("object")) else {
        panic!("root is not an object")
    };
    // "7" is an array index: JavaScript lists it first; the others keep their order.
    let got: Vec<(JsString, Value)> = props.clone();
    let mut want: Vec<(JsString, Value)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            (
                JsString::from_latin1(k.to_vec()),
                JsString::from_latin1(latin1(i * 5)).into(),
            )
        })
        .collect();
    let seven = want.pop().expect("seven");
    want.insert(0, seven);
    assert_eq!(got, want);
    // A key or a string value cut short by the end of the input is an error, not a read
    // past it.
    for cut in [6, 8, 10] {
        assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    // A duplicate key on the short path is refused.
    let mut dup = header();
    dup.extend([
        b'o', b'"', 1, b'k', b'I', 2, b'"', 1, b'k', b'I', 4, b'{', 2,
    ]);
    assert!(decode(&dup).is_err());
}
