//! The reader's in-place path for flat containers (an object whose values are primitives or
//! dense arrays of primitives, such an array on its own) against the frame path it leaves to
//! mid-way: wire ids, back-references, the depth limit and the fall-backs.

use super::*;
use crate::clone::encode;

fn props_of(g: &Graph, v: &Value) -> Properties {
    match v.as_object().and_then(|id| g.get(id)) {
        Some(Object::Object(p)) => p.clone(),
        other => panic!("not an object: {other:?}"),
    }
}

fn array_of(g: &Graph, v: &Value) -> Array {
    match v.as_object().and_then(|id| g.get(id)) {
        Some(Object::Array(a)) => a.clone(),
        other => panic!("not an array: {other:?}"),
    }
}

#[test]
fn a_record_read_in_place_takes_its_wire_ids_in_order_for_back_references() {
    // [{a: 1, t: [1, 2]}, <ref 2: t>, <ref 1: the record>]: ids root 0, record 1, t 2.
    let bytes =
        b"\xff\x0fA\x03o\"\x01aI\x02\"\x01tA\x02I\x02I\x04$\x00\x02{\x02^\x02^\x01$\x00\x03";
    let g = decode(bytes).expect("decode");
    let root = array_of(&g, &g.root);
    let record = root.get(0).expect("record").clone();
    let props = props_of(&g, &record);
    assert_eq!(props.len(), 2);
    assert_eq!(props[0].1, Value::Number(1.0));
    let t = props[1].1.clone();
    let tags = array_of(&g, &t);
    assert_eq!(tags.get(1), Some(&Value::Number(2.0)));
    assert_eq!(
        root.get(1),
        Some(&t),
        "a reference to the array read in place"
    );
    assert_eq!(
        root.get(2),
        Some(&record),
        "a reference to the record read in place"
    );
}

#[test]
fn flat_reading_falls_back_to_frames_where_a_value_is_not_flat() {
    let mut g = Graph::new();
    let inner = g.add(Object::object([("b", 2)]));
    let mixed = g.add(Object::array([
        Value::from(1),
        inner.into(),
        Value::from(3),
    ]));
    let mut holey = Array::dense(vec![Value::from(1), Value::Undefined, Value::from(3)]);
    holey.elements = Elements::Sparse {
        length: 3,
        entries: vec![(0, Value::from(1)), (2, Value::from(3))],
    };
    let holey = g.add(Object::Array(holey));
    let mut named = Array::dense(vec![Value::from(4)]);
    named.properties.push(("x".into(), Value::from(5)));
    let named = g.add(Object::Array(named));
    let flat = g.add(Object::array([Value::from(6), "s".into()]));
    g.root = g
        .add(Object::object([
            ("a", Value::from(mixed)),
            ("h", holey.into()),
            ("n", named.into()),
            ("f", flat.into()),
            ("z", "end".into()),
        ]))
        .into();
    let bytes = encode(&g).expect("encode");
    let back = decode(&bytes).expect("decode");
    assert!(g.equivalent(&back, false), "{back:?}");
}

#[test]
fn the_depth_limit_counts_containers_read_in_place() {
    // {a: [1]}: the array is the second level.
    let bytes = b"\xff\x0fo\"\x01aA\x01I\x02$\x00\x01{\x01";
    let two = DecodeOptions {
        limits: Limits {
            max_depth: 2,
            ..Limits::default()
        },
        ..DecodeOptions::default()
    };
    assert!(decode_with(bytes, &two).is_ok());
    for depth in [0, 1] {
        let mut opts = two.clone();
        opts.limits.max_depth = depth;
        let err = decode_with(bytes, &opts).expect_err("too deep");
        assert_eq!(err.kind, Kind::LimitExceeded, "max_depth {depth}");
        assert!(err.message.contains("nesting"), "{}", err.message);
    }
    // [1] alone, at the root, needs one level.
    let array = b"\xff\x0fA\x01I\x02$\x00\x01";
    let mut none = two.clone();
    none.limits.max_depth = 0;
    assert_eq!(
        decode_with(array, &none).expect_err("too deep").kind,
        Kind::LimitExceeded
    );
}

#[test]
fn a_flat_array_with_a_wrong_end_count_is_refused_as_before() {
    // [1] claiming two elements at its end, and claiming a property.
    for bytes in [
        &b"\xff\x0fA\x01I\x02$\x00\x02"[..],
        &b"\xff\x0fA\x01I\x02$\x01\x01"[..],
    ] {
        let err = decode(bytes).expect_err("bad end count");
        assert_eq!(err.kind, Kind::Malformed);
        assert!(err.message.contains("end count"), "{}", err.message);
    }
}
