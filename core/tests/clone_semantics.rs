//! Structured-clone semantics (R-SC) through `structured_clone` and the codec.

use webmessaging_core::clone::{
    self, structured_clone, Array, ArrayBuffer, ArrayBufferView, Elements, ErrorName, ErrorObject,
    Graph, JsBigInt, JsString, Object, ObjectId, RegExp, RegExpFlags, Value, ViewKind,
};

fn clone_of(mut g: Graph) -> Graph {
    let c = structured_clone(&mut g, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(c.equivalent(&g, true), "{c:?}\n!=\n{g:?}");
    c
}

fn root(g: &Graph) -> &Object {
    g.get(g.root.as_object().unwrap()).unwrap()
}

#[test]
fn r_sc_1_and_2_primitives_keep_their_value_including_minus_zero_and_nan() {
    for v in [
        Value::Undefined,
        Value::Null,
        Value::Bool(true),
        Value::Number(-0.0),
        Value::Number(f64::NAN),
        Value::Number(f64::NEG_INFINITY),
        Value::BigInt("-123456789012345678901234567890".parse().unwrap()),
        Value::from("s"),
    ] {
        let c = clone_of(Graph::from_root(v.clone()));
        assert_eq!(c.root, v);
    }
    assert_ne!(
        Value::Number(0.0),
        Value::Number(-0.0),
        "SameValue tells the zeros apart"
    );
}

#[test]
fn r_sc_3_lone_surrogates_and_nul_survive() {
    let s = JsString::from_utf16(vec![0xd800, 0, 0x41]);
    assert_eq!(
        clone_of(Graph::from_root(Value::String(s.clone()))).root,
        Value::String(s.clone())
    );
    assert_eq!(s.to_rust_string(), None);
    assert_eq!(s.to_string_lossy(), "\u{fffd}\0A");
}

#[test]
fn r_sc_5_wrappers_keep_type_and_value() {
    for o in [
        Object::BooleanObject(false),
        Object::NumberObject(-0.0),
        Object::BigIntObject(JsBigInt::from(-5i64)),
        Object::StringObject("€".into()),
    ] {
        let mut g = Graph::new();
        g.root = g.add(o).into();
        clone_of(g);
    }
}

#[test]
fn r_sc_6_dates_keep_time_values_and_invalid_dates() {
    for t in [0.0, f64::NAN, -8.64e15, 1700000000123.0] {
        let mut g = Graph::new();
        g.root = g.add(Object::Date(t)).into();
        clone_of(g);
    }
    // TimeClip on write: out-of-range times become invalid dates.
    let mut g = Graph::new();
    g.root = g.add(Object::Date(1e300)).into();
    let back = clone::decode(&clone::encode(&g).unwrap()).unwrap();
    assert!(matches!(root(&back), Object::Date(t) if t.is_nan()));
}

#[test]
fn r_sc_7_regexp_keeps_source_and_any_flag_combination() {
    for flags in ["", "g", "dgimsuy", "v", "gimsvy"] {
        let mut g = Graph::new();
        let flags = RegExpFlags::parse(flags).unwrap();
        g.root = g
            .add(Object::RegExp(RegExp {
                source: "a+\\/".into(),
                flags,
            }))
            .into();
        let c = clone_of(g);
        assert!(matches!(root(&c), Object::RegExp(r) if r.flags == flags));
    }
    assert_eq!(RegExpFlags::parse("uv"), None);
    assert_eq!(RegExpFlags::parse("gg"), None);
    assert_eq!(RegExpFlags::parse("yg").unwrap().to_string(), "gy");
}

#[test]
fn r_sc_9_and_11_every_view_kind_and_resizable_buffers_round_trip() {
    for kind in ViewKind::ALL {
        let mut g = Graph::new();
        let b = g.add(Object::ArrayBuffer(ArrayBuffer {
            data: vec![7; 32],
            max_byte_length: Some(64),
            detached: false,
        }));
        let v = g.add(Object::View(ArrayBufferView {
            kind,
            buffer: b,
            byte_offset: 8,
            byte_length: 16,
            length_tracking: false,
        }));
        let t = g.add(Object::View(ArrayBufferView {
            kind,
            buffer: b,
            byte_offset: 0,
            byte_length: 0,
            length_tracking: true,
        }));
        g.root = g.add(Object::array([v, t])).into();
        clone_of(g);
    }
}

#[test]
fn r_sc_12_and_13_views_keep_the_whole_buffer_and_share_it() {
    let mut g = Graph::new();
    let b = g.add(Object::ArrayBuffer(ArrayBuffer::new(vec![0; 1024])));
    let u8v = g.add(Object::View(ArrayBufferView {
        kind: ViewKind::Uint8,
        buffer: b,
        byte_offset: 4,
        byte_length: 4,
        length_tracking: false,
    }));
    let u16v = g.add(Object::View(ArrayBufferView {
        kind: ViewKind::Uint16,
        buffer: b,
        byte_offset: 0,
        byte_length: 1024,
        length_tracking: false,
    }));
    g.root = g.add(Object::array([u8v, u16v])).into();
    let c = clone_of(g);
    let Object::Array(a) = root(&c) else { panic!() };
    let view = |i| match c.get(a.get(i).unwrap().as_object().unwrap()) {
        Some(Object::View(v)) => v.clone(),
        o => panic!("{o:?}"),
    };
    assert_eq!(view(0).buffer, view(1).buffer, "one buffer after the clone");
    assert!(matches!(c.get(view(0).buffer), Some(Object::ArrayBuffer(b)) if b.data.len() == 1024));
}

#[test]
fn r_sc_14_out_of_bounds_or_misaligned_views_are_data_clone_errors() {
    for (offset, len, kind) in [
        (8u32, 16u32, ViewKind::Uint8),
        (0, 3, ViewKind::Uint16),
        (1, 2, ViewKind::Uint16),
    ] {
        let mut g = Graph::new();
        let b = g.add(Object::ArrayBuffer(ArrayBuffer::new(vec![0; 16])));
        g.root = g
            .add(Object::View(ArrayBufferView {
                kind,
                buffer: b,
                byte_offset: offset,
                byte_length: len,
                length_tracking: false,
            }))
            .into();
        assert_eq!(clone::encode(&g).unwrap_err().name(), "DataCloneError");
    }
}

#[test]
fn r_sc_20_and_21_map_and_set_keep_order_and_key_identity() {
    let mut g = Graph::new();
    let k = g.add(Object::object::<&str, Value>([]));
    let m = g.add(Object::Map(vec![
        (Value::from("z"), 1.into()),
        (k.into(), 2.into()),
        (Value::from(3), 3.into()),
    ]));
    let s = g.add(Object::Set(vec![
        Value::from("b"),
        Value::from("a"),
        k.into(),
    ]));
    g.root = g.add(Object::array([k, m, s])).into();
    let c = clone_of(g);
    let Object::Array(a) = root(&c) else { panic!() };
    let Some(Object::Map(entries)) = c.get(a.get(1).unwrap().as_object().unwrap()) else {
        panic!()
    };
    assert_eq!(
        &entries[1].0,
        a.get(0).unwrap(),
        "the Map key is the same object as the array's first element"
    );
}

#[test]
fn r_sc_23_error_names_are_the_seven_natives() {
    assert_eq!(ErrorName::from_name("Foo"), ErrorName::Error);
    assert_eq!(ErrorName::from_name("URIError"), ErrorName::UriError);
    for name in [
        "Error",
        "EvalError",
        "RangeError",
        "ReferenceError",
        "SyntaxError",
        "TypeError",
        "URIError",
    ] {
        let mut g = Graph::new();
        let e = ErrorObject {
            name: ErrorName::from_name(name),
            message: Some("m".into()),
            stack: Some(format!("{name}: m").as_str().into()),
            cause: None,
        };
        g.root = g.add(Object::Error(Box::new(e))).into();
        let c = clone_of(g);
        assert!(matches!(root(&c), Object::Error(e) if e.name.as_str() == name));
    }
}

#[test]
fn r_sc_30_arrays_keep_length_holes_and_extra_properties() {
    let mut g = Graph::new();
    let a = Array {
        elements: Elements::Sparse {
            length: 10,
            entries: vec![(0, 1.into()), (2, 3.into())],
        },
        properties: vec![("foo".into(), 1.into())],
    };
    g.root = g.add(Object::Array(a)).into();
    let c = clone_of(g);
    let Object::Array(a) = root(&c) else { panic!() };
    assert_eq!(a.length(), 10);
    assert_eq!(a.get(1), None);
    assert_eq!(a.properties[0].0, "foo");
}

#[test]
fn r_sc_31_keys_come_back_in_javascript_order() {
    let mut g = Graph::new();
    g.root = g
        .add(Object::object([("b", 1), ("2", 2), ("a", 3), ("1", 4)]))
        .into();
    let back = clone::decode(&clone::encode(&g).unwrap()).unwrap();
    let Object::Object(p) = root(&back) else {
        panic!()
    };
    let keys: Vec<String> = p.iter().map(|(k, _)| k.to_string_lossy()).collect();
    assert_eq!(keys, ["1", "2", "b", "a"]);
}

#[test]
fn r_sc_35_proto_key_is_an_own_property() {
    let mut g = Graph::new();
    g.root = g.add(Object::object([("__proto__", 1)])).into();
    let c = clone_of(g);
    assert!(matches!(root(&c), Object::Object(p) if p[0].0 == "__proto__"));
}

#[test]
fn r_sc_36_cycles_and_shared_references_are_kept() {
    let mut g = Graph::new();
    let o = g.add(Object::object::<&str, Value>([]));
    let shared = g.add(Object::array([1]));
    *g.get_mut(o).unwrap() = Object::object([
        ("self", Value::from(o)),
        ("x", shared.into()),
        ("y", shared.into()),
    ]);
    g.root = o.into();
    let c = clone_of(g);
    let Object::Object(p) = root(&c) else {
        panic!()
    };
    assert_eq!(p[0].1, c.root);
    assert_eq!(p[1].1, p[2].1);
}

#[test]
fn writer_refuses_graphs_the_reader_would_refuse() {
    let mut g = Graph::new();
    g.root = g.add(Object::object([("a", 1), ("a", 2)])).into();
    assert_eq!(clone::encode(&g).unwrap_err().name(), "DataCloneError");
    let mut g = Graph::new();
    g.root = Value::Object(ObjectId(5));
    assert_eq!(clone::encode(&g).unwrap_err().name(), "DataCloneError");
    let mut g = Graph::new();
    let a = Array {
        elements: Elements::Dense(vec![]),
        properties: vec![("0".into(), 1.into())],
    };
    g.root = g.add(Object::Array(a)).into();
    assert_eq!(clone::encode(&g).unwrap_err().name(), "DataCloneError");
}

#[test]
fn js_strings_compare_by_code_units_whatever_their_storage() {
    use std::collections::HashSet;
    let long = "k".repeat(40);
    for text in [
        "",
        "id",
        "é",
        &"x".repeat(22),
        &"x".repeat(23),
        &long,
        "€",
        "a€",
    ] {
        let units: Vec<u16> = text.encode_utf16().collect();
        let a = JsString::from(text);
        let b = JsString::from_utf16(units.clone());
        let c = JsString::from(text.to_owned());
        assert_eq!(a, b, "{text:?}");
        assert_eq!(a, c);
        assert_eq!(a.len(), units.len());
        assert_eq!(&*a.to_utf16(), &units[..]);
        let set: HashSet<JsString> = [a.clone(), b, c].into_iter().collect();
        assert_eq!(set.len(), 1, "equal strings hash alike");
        if let Some(latin1) = a.as_latin1() {
            assert_eq!(JsString::from_latin1(latin1.to_vec()), a);
            assert_eq!(JsString::from_latin1_slice(latin1), a);
        }
    }
    // Ordering is by code units, across one-byte and two-byte storage.
    let mut v = [
        JsString::from("b"),
        JsString::from("€"),
        JsString::from("a".repeat(30)),
        JsString::from("ÿ"),
    ];
    v.sort();
    let sorted: Vec<String> = v.iter().map(JsString::to_string_lossy).collect();
    assert_eq!(sorted, ["a".repeat(30), "b".into(), "ÿ".into(), "€".into()]);
}

#[test]
fn append_copies_a_graph_with_every_reference_renumbered() {
    // Another graph: an array holding itself, a Map keyed by an object, a Set, and a view of a
    // buffer.
    let mut other = Graph::new();
    let buffer = other.add(Object::ArrayBuffer(ArrayBuffer::new(vec![1, 2, 3, 4])));
    let view = other.add(Object::View(ArrayBufferView {
        kind: ViewKind::Uint8,
        buffer,
        byte_offset: 1,
        byte_length: 2,
        length_tracking: false,
    }));
    let key = other.add(Object::object([("k", Value::from(1))]));
    let map = other.add(Object::Map(vec![(key.into(), view.into())]));
    let set = other.add(Object::Set(vec![key.into()]));
    let root = other.add(Object::array([map, set]));
    if let Some(Object::Array(a)) = other.get_mut(root) {
        a.properties.push(("self".into(), root.into()));
    }
    other.root = root.into();

    // Appended after objects of its own, it describes the same value from the shifted root.
    let mut g = Graph::new();
    g.add(Object::array([1, 2]));
    g.add(Object::Date(0.0));
    let offset = g.append(&other);
    assert_eq!(offset, 2);
    assert_eq!(g.len(), 2 + other.len());
    g.root = other.root.shifted(offset);
    assert!(g.equivalent(&other, true));
    // A wrong offset (references left pointing into the first two objects) would not be.
    let mut wrong = g.clone();
    wrong.root = other.root.clone();
    assert!(!wrong.equivalent(&other, true));
}

#[test]
fn a_view_over_a_detached_buffer_says_detached_even_when_the_buffer_is_in_the_transfer_list() {
    let mut g = Graph::new();
    let mut buffer = ArrayBuffer::new(Vec::new());
    buffer.detached = true;
    let b = g.add(Object::ArrayBuffer(buffer));
    g.root = g
        .add(Object::View(ArrayBufferView {
            kind: ViewKind::Uint8,
            buffer: b,
            byte_offset: 0,
            byte_length: 4,
            length_tracking: false,
        }))
        .into();
    for transfer in [vec![], vec![clone::Transferable::ArrayBuffer(b)]] {
        let e = clone::serialize_with_transfer(&mut g, &transfer).unwrap_err();
        assert_eq!(e.name(), "DataCloneError");
        assert!(e.to_string().contains("detached"), "{e}");
    }
}
