//! Back-references (`^ id`) resolve to the right object whether wire ids are still arena ids
//! (the decoder keeps no map then) or have parted from them (an Error, a transferred buffer).

use webmessaging_core::clone::{
    decode, decode_transfer, encode, Array, DecodeOptions, Elements, ErrorObject, Graph, Object,
    Value,
};
use webmessaging_core::ArrayBufferContents;

/// `[a, a, e, b, b, a, e]`: shared objects before and after an Error.
fn shared_around_an_error() -> Graph {
    let mut g = Graph::new();
    let a = g.add(Object::object([("k", Value::from(1))]));
    let e = g.add(Object::Error(Box::new(ErrorObject {
        message: Some("m".into()),
        ..Default::default()
    })));
    let b = g.add(Object::array([a]));
    g.root = g
        .add(Object::array([a, a, e, b, b, a, e].map(Value::from)))
        .into();
    g
}

#[test]
fn references_before_and_after_an_error_find_their_objects() {
    let g = shared_around_an_error();
    let bytes = encode(&g).expect("encode");
    assert_eq!(decode(&bytes).expect("decode"), g);
}

/// The root array's elements.
fn root_elements(g: &Graph) -> Vec<Value> {
    let Value::Object(root) = g.root else {
        panic!("root is not an object")
    };
    match g.get(root) {
        Some(Object::Array(Array {
            elements: Elements::Dense(items),
            ..
        })) => items.clone(),
        other => panic!("root is not a dense array: {other:?}"),
    }
}

#[test]
fn references_with_a_transfer_table_find_their_objects() {
    // A transferred buffer takes arena id 0, so no wire id is its arena id.
    let g = shared_around_an_error();
    let bytes = encode(&g).expect("encode");
    let buffers: Vec<ArrayBufferContents> = vec![vec![1u8, 2, 3].into()];
    let got = decode_transfer(&bytes, &DecodeOptions::default(), &[], buffers).expect("decode");
    let ids = root_elements(&got);
    let (a, e, b) = (ids[0].clone(), ids[2].clone(), ids[3].clone());
    assert_eq!(
        ids,
        vec![
            a.clone(),
            a.clone(),
            e.clone(),
            b.clone(),
            b.clone(),
            a.clone(),
            e.clone()
        ]
    );
    let object = |v: &Value| match v {
        Value::Object(id) => got.get(*id),
        _ => None,
    };
    assert!(matches!(object(&a), Some(Object::Object(p)) if p.len() == 1));
    assert!(matches!(object(&e), Some(Object::Error(_))));
    assert!(matches!(object(&b), Some(Object::Array(_))));
}

#[test]
fn a_reference_to_an_unknown_object_is_still_an_error() {
    // `A 1 ^ 5 $ 0 1`: only object 0 (the array) exists.
    let bytes = [0xFF, 0x0F, b'A', 1, b'^', 5, b'$', 0, 1];
    assert!(decode(&bytes).is_err());
    // `A 1 ^ 0 $ 0 1`: the array holds itself, a cycle, allowed.
    let bytes = [0xFF, 0x0F, b'A', 1, b'^', 0, b'$', 0, 1];
    let g = decode(&bytes).expect("decode");
    assert_eq!(root_elements(&g), vec![g.root.clone()]);
}
