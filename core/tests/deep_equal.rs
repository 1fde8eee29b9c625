//! `Graph::deep_equal`: values equal as JavaScript reads them, whatever their representation.

use webmessaging_core::clone::{Array, ArrayBufferView, Elements, Graph, Object, Value};

fn eq(a: &Graph, x: &Value, b: &Graph, y: &Value) -> bool {
    a.deep_equal(x, b, y)
}

fn one(object: Object) -> (Graph, Value) {
    let mut g = Graph::new();
    let id = g.add(object);
    (g, Value::Object(id))
}

#[test]
fn dense_and_sparse_with_every_index_are_equal_and_holes_are_not_undefined() {
    let (a, x) = one(Object::Array(Array::dense(vec![1.into(), 2.into()])));
    let full = Array {
        elements: Elements::Sparse {
            length: 2,
            entries: vec![(0, 1.into()), (1, 2.into())],
        },
        properties: Vec::new(),
    };
    let (b, y) = one(Object::Array(full));
    assert!(eq(&a, &x, &b, &y));
    let holey = Array {
        elements: Elements::Sparse {
            length: 2,
            entries: vec![(1, 2.into())],
        },
        properties: Vec::new(),
    };
    let (c, z) = one(Object::Array(holey));
    let (d, w) = one(Object::Array(Array::dense(vec![
        Value::Undefined,
        2.into(),
    ])));
    assert!(!eq(&c, &z, &d, &w));
}

#[test]
fn views_compare_by_kind_and_the_bytes_they_see() {
    use webmessaging_core::clone::{ArrayBuffer, ViewKind};
    let view = |data: Vec<u8>, byte_offset, byte_length, kind| {
        let mut g = Graph::new();
        let buffer = g.add(Object::ArrayBuffer(ArrayBuffer::new(data)));
        let v = g.add(Object::View(ArrayBufferView {
            kind,
            buffer,
            byte_offset,
            byte_length,
            length_tracking: false,
        }));
        (g, Value::Object(v))
    };
    let (a, x) = view(vec![9, 1, 2, 9], 1, 2, ViewKind::Int8);
    let (b, y) = view(vec![1, 2], 0, 2, ViewKind::Int8);
    let (c, z) = view(vec![1, 3], 0, 2, ViewKind::Int8);
    let (d, w) = view(vec![1, 2], 0, 2, ViewKind::Uint8);
    assert!(eq(&a, &x, &b, &y));
    assert!(!eq(&a, &x, &c, &z));
    assert!(!eq(&b, &y, &d, &w));
}

#[test]
fn numbers_by_same_value_and_shapes_one_to_one() {
    assert!(eq(
        &Graph::new(),
        &f64::NAN.into(),
        &Graph::new(),
        &f64::NAN.into()
    ));
    assert!(!eq(
        &Graph::new(),
        &(-0.0).into(),
        &Graph::new(),
        &0.0.into()
    ));
    // [s, s] (one shared object) differs from [s, t] (two equal ones).
    let mut a = Graph::new();
    let s = a.add(Object::Object(Vec::new()));
    let arr = a.add(Object::Array(Array::dense(vec![s.into(), s.into()])));
    let mut b = Graph::new();
    let s1 = b.add(Object::Object(Vec::new()));
    let s2 = b.add(Object::Object(Vec::new()));
    let arr2 = b.add(Object::Array(Array::dense(vec![s1.into(), s2.into()])));
    assert!(!eq(&a, &arr.into(), &b, &arr2.into()));
    assert!(eq(&a, &arr.into(), &a, &arr.into()));
    // A self cycle equals a self cycle.
    let mut c = Graph::new();
    let o = c.add(Object::Object(Vec::new()));
    if let Some(Object::Object(p)) = c.get_mut(o) {
        p.push(("self".into(), o.into()));
    }
    let mut d = c.clone();
    let o2 = d.add(Object::Object(Vec::new()));
    if let Some(Object::Object(p)) = d.get_mut(o2) {
        p.push(("self".into(), o.into()));
    }
    assert!(eq(&c, &o.into(), &c, &o.into()));
    // {self: <itself>} vs {self: <another object that is a cycle>}: different shapes.
    assert!(!eq(&c, &o.into(), &d, &o2.into()));
}

#[test]
fn property_order_counts_for_equivalent_but_not_for_deep_equal() {
    let mut a = Graph::new();
    a.root = a
        .add(Object::object([
            ("x", Value::from(1)),
            ("y", Value::from(2)),
        ]))
        .into();
    let mut b = Graph::new();
    b.root = b
        .add(Object::object([
            ("y", Value::from(2)),
            ("x", Value::from(1)),
        ]))
        .into();
    assert!(eq(&a, &a.root.clone(), &b, &b.root.clone()));
    assert!(!a.equivalent(&b, true));
    let mut c = Graph::new();
    c.root = c
        .add(Object::object([
            ("y", Value::from(2)),
            ("x", Value::from(3)),
        ]))
        .into();
    assert!(!eq(&a, &a.root.clone(), &c, &c.root.clone()));
}
