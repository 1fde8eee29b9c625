//! The codec wired into ports: transfer lists (R-TR), ports inside values (R-CH-15, R-SC-41),
//! structuredClone (R-TR-15).

use std::time::Duration;

use webmessaging_core::clone::{
    self, deserialize_message, post_value, serialize_with_transfer, structured_clone, ArrayBuffer,
    ArrayBufferView, DecodeOptions, Graph, Object, ObjectId, Transferable, Value, ViewKind,
};
use webmessaging_core::{Error, MessageChannel, MessagePort};

const WAIT: Option<Duration> = Some(Duration::from_secs(5));

fn buffer(g: &mut Graph, bytes: &[u8]) -> ObjectId {
    g.add(Object::ArrayBuffer(ArrayBuffer::new(bytes.to_vec())))
}

fn data(g: &Graph, id: ObjectId) -> &ArrayBuffer {
    match g.get(id) {
        Some(Object::ArrayBuffer(b)) => b,
        other => panic!("not a buffer: {other:?}"),
    }
}

fn port_of(g: &Graph, v: &Value) -> MessagePort {
    match g.get(v.as_object().expect("an object")) {
        Some(Object::MessagePort(p)) => p.clone(),
        other => panic!("not a port: {other:?}"),
    }
}

fn prop<'g>(g: &'g Graph, obj: ObjectId, key: &str) -> &'g Value {
    match g.get(obj) {
        Some(Object::Object(props)) => &props.iter().find(|(k, _)| k == key).expect("key").1,
        other => panic!("not an object: {other:?}"),
    }
}

fn is_data_clone(r: Result<impl std::fmt::Debug, Error>) -> String {
    match r {
        Err(Error::DataCloneError(m)) => m,
        other => panic!("expected DataCloneError, got {other:?}"),
    }
}

#[test]
fn value_with_ports_and_buffers_arrives_as_an_equal_graph_with_working_ports() {
    let (a, b) = MessageChannel::new().into_ports();
    let (keep, travel) = MessageChannel::new().into_ports();
    let mut g = Graph::new();
    let ab = buffer(&mut g, &[1, 2, 3, 4]);
    let view = g.add(Object::View(ArrayBufferView {
        kind: ViewKind::Uint16,
        buffer: ab,
        byte_offset: 2,
        byte_length: 2,
        length_tracking: false,
    }));
    let port = g.add(Object::MessagePort(travel.clone()));
    let tags = g.add(Object::array([1, 2, 3]));
    let root = g.add(Object::object([
        ("port", Value::from(port)),
        ("bytes", ab.into()),
        ("view", view.into()),
        ("tags", tags.into()),
        ("again", port.into()),
    ]));
    g.root = root.into();
    let sent = g.clone();
    let ptr = data(&g, ab).data.as_ptr();

    post_value(
        &a,
        &mut g,
        &[
            Transferable::Port(travel.clone()),
            Transferable::ArrayBuffer(ab),
        ],
    )
    .unwrap();
    assert!(travel.is_detached(), "the transferred port is detached");
    assert!(
        data(&g, ab).detached && data(&g, ab).data.is_empty(),
        "the transferred buffer is detached"
    );

    let received = deserialize_message(b.recv(WAIT).unwrap(), &DecodeOptions::default()).unwrap();
    assert!(
        received.graph.equivalent(&sent, false),
        "{:?}\n!=\n{sent:?}",
        received.graph
    );
    let root = received.graph.root.as_object().unwrap();
    let got_ab = prop(&received.graph, root, "bytes").as_object().unwrap();
    assert_eq!(
        data(&received.graph, got_ab).data.as_ptr(),
        ptr,
        "the buffer moved, it was not copied"
    );

    // The port arrived working: it is entangled with `keep`, both ways.
    let moved = port_of(&received.graph, prop(&received.graph, root, "port"));
    assert_eq!(received.ports, vec![moved.clone()]);
    keep.post_message("to the moved port", &[]).unwrap();
    assert_eq!(moved.recv(WAIT).unwrap().data, b"to the moved port");
    moved.post_message("back", &[]).unwrap();
    assert_eq!(keep.recv(WAIT).unwrap().data, b"back");
}

#[test]
fn r_ch_15_port_in_value_but_not_in_transfer_list_is_data_clone_error() {
    let (a, _b) = MessageChannel::new().into_ports();
    let (p, _q) = MessageChannel::new().into_ports();
    let mut g = Graph::new();
    let port = g.add(Object::MessagePort(p.clone()));
    g.root = port.into();
    let msg = is_data_clone(post_value(&a, &mut g, &[]));
    assert!(msg.contains("transfer list"), "{msg}");
    assert!(!p.is_detached(), "nothing was detached");
    is_data_clone(clone::encode(&g));
}

#[test]
fn r_tr_3_non_transferable_item_fails_before_serialization() {
    let (p, _q) = MessageChannel::new().into_ports();
    let mut g = Graph::new();
    let obj = g.add(Object::object([("x", 1)]));
    let port = g.add(Object::MessagePort(p));
    g.root = port.into(); // would fail to serialize too: the transfer-list error must win
    let msg = is_data_clone(serialize_with_transfer(
        &mut g,
        &[Transferable::ArrayBuffer(obj)],
    ));
    assert!(msg.contains("not transferable"), "{msg}");
}

#[test]
fn r_tr_4_duplicate_items_are_data_clone_errors() {
    let mut g = Graph::new();
    let ab = buffer(&mut g, &[1]);
    g.root = ab.into();
    let dup = [Transferable::ArrayBuffer(ab), Transferable::ArrayBuffer(ab)];
    assert!(is_data_clone(serialize_with_transfer(&mut g, &dup)).contains("twice"));
    assert!(!data(&g, ab).detached);
    let (p, _q) = MessageChannel::new().into_ports();
    let dup = [Transferable::Port(p.clone()), Transferable::Port(p.clone())];
    assert!(is_data_clone(serialize_with_transfer(&mut g, &dup)).contains("twice"));
    assert!(!p.is_detached());
}

#[test]
fn r_tr_6_detached_item_is_reported_only_after_the_value_serialized() {
    let mut g = Graph::new();
    let ab = g.add(Object::ArrayBuffer(ArrayBuffer {
        data: vec![],
        max_byte_length: None,
        detached: true,
    }));
    let (p, _q) = MessageChannel::new().into_ports();
    let port = g.add(Object::MessagePort(p));
    g.root = port.into();
    // The value fails first (a port not in the list), so that is the error reported.
    let msg = is_data_clone(serialize_with_transfer(
        &mut g,
        &[Transferable::ArrayBuffer(ab)],
    ));
    assert!(msg.contains("transfer list"), "{msg}");
    g.root = Value::Null;
    let msg = is_data_clone(serialize_with_transfer(
        &mut g,
        &[Transferable::ArrayBuffer(ab)],
    ));
    assert!(msg.contains("detached"), "{msg}");
}

#[test]
fn r_tr_8_transferred_buffer_cannot_be_cloned_or_transferred_again() {
    let mut g = Graph::new();
    let ab = buffer(&mut g, &[9; 16]);
    g.root = ab.into();
    serialize_with_transfer(&mut g, &[Transferable::ArrayBuffer(ab)]).unwrap();
    assert!(data(&g, ab).detached);
    is_data_clone(clone::encode(&g));
    is_data_clone(serialize_with_transfer(
        &mut g,
        &[Transferable::ArrayBuffer(ab)],
    ));
}

#[test]
fn r_tr_9_references_to_a_transferred_buffer_resolve_to_one_object() {
    let mut g = Graph::new();
    let ab = buffer(&mut g, &[1, 2]);
    let root = g.add(Object::object([("a", Value::from(ab)), ("b", ab.into())]));
    g.root = root.into();
    let c = structured_clone(&mut g, &[Transferable::ArrayBuffer(ab)]).unwrap();
    let r = c.root.as_object().unwrap();
    assert_eq!(prop(&c, r, "a"), prop(&c, r, "b"));
    assert_eq!(
        data(&c, prop(&c, r, "a").as_object().unwrap()).data,
        vec![1, 2]
    );
}

#[test]
fn r_tr_10_and_11_unmentioned_items_still_transfer_in_list_order() {
    let (a, b) = MessageChannel::new().into_ports();
    let (p1, _k1) = MessageChannel::new().into_ports();
    let (p2, _k2) = MessageChannel::new().into_ports();
    let mut g = Graph::new();
    let ab = buffer(&mut g, &[7]);
    g.root = Value::Null;
    post_value(
        &a,
        &mut g,
        &[
            Transferable::Port(p2.clone()),
            Transferable::ArrayBuffer(ab),
            Transferable::Port(p1.clone()),
        ],
    )
    .unwrap();
    assert!(data(&g, ab).detached && p1.is_detached() && p2.is_detached());
    let msg = b.recv(WAIT).unwrap();
    assert_eq!(msg.array_buffers, vec![vec![7]]);
    let received = deserialize_message(msg, &DecodeOptions::default()).unwrap();
    assert_eq!(received.ports.len(), 2, "both ports appear in event.ports");
    // The unmentioned buffer is still the graph's first object.
    assert_eq!(data(&received.graph, ObjectId(0)).data, vec![7]);
}

#[test]
fn r_ch_13_posting_a_value_that_transfers_its_own_port_fails() {
    let (a, _b) = MessageChannel::new().into_ports();
    let mut g = Graph::new();
    let ab = buffer(&mut g, &[1]);
    g.root = ab.into();
    is_data_clone(post_value(
        &a,
        &mut g,
        &[Transferable::Port(a.clone()), Transferable::ArrayBuffer(ab)],
    ));
    assert!(!data(&g, ab).detached, "nothing detached on error");
}

#[test]
fn r_tr_15_structured_clone_transfers_ports_that_keep_working() {
    let (p, q) = MessageChannel::new().into_ports();
    let mut g = Graph::new();
    let port = g.add(Object::MessagePort(p.clone()));
    let arr = g.add(Object::array([Value::from(port), port.into()]));
    g.root = arr.into();
    let c = structured_clone(&mut g, &[Transferable::Port(p.clone())]).unwrap();
    assert!(p.is_detached());
    let Some(Object::Array(a)) = c.get(c.root.as_object().unwrap()) else {
        panic!()
    };
    assert_eq!(a.get(0), a.get(1), "one port, referenced twice");
    let clone_port = port_of(&c, a.get(0).unwrap());
    q.post_message("hi", &[]).unwrap();
    assert_eq!(clone_port.recv(WAIT).unwrap().data, b"hi");
}

#[test]
fn r_sc_10_detached_buffer_cannot_be_cloned() {
    let mut g = Graph::new();
    let ab = g.add(Object::ArrayBuffer(ArrayBuffer {
        data: vec![],
        max_byte_length: None,
        detached: true,
    }));
    g.root = ab.into();
    assert!(is_data_clone(clone::encode(&g)).contains("detached"));
}
