//! Windows with structured values (the `clone` codec): the standard's order of errors when
//! posting a value, and `messageerror` for data that does not deserialize.

use std::time::Duration;

use webmessaging_core::clone::{ArrayBuffer, Graph, Object, Transferable, Value};
use webmessaging_core::{Error, MessageChannel, MessageEventType, Origin, Window};

const PATIENCE: Duration = Duration::from_secs(10);

fn window(url: &str) -> Window {
    Window::new(Origin::parse(url).unwrap_or_else(|e| panic!("{url:?}: {e}")))
}

/// `{ buf: ArrayBuffer([1, 2, 3]) }`, returning the buffer's id.
fn graph_with_buffer() -> (Graph, webmessaging_core::clone::ObjectId) {
    let mut g = Graph::new();
    let buf = g.add(Object::ArrayBuffer(ArrayBuffer::new(vec![1, 2, 3])));
    let root = g.add(Object::object([("buf", Value::from(buf))]));
    g.root = root.into();
    (g, buf)
}

fn is_detached(g: &Graph, id: webmessaging_core::clone::ObjectId) -> bool {
    matches!(g.get(id), Some(Object::ArrayBuffer(b)) if b.detached)
}

#[test]
fn r_win_5_syntax_error_before_the_value_is_serialized() {
    let (sender, target) = (window("https://s.test"), window("https://t.test"));
    let (mut g, buf) = graph_with_buffer();
    let (_keep, port) = MessageChannel::new().into_ports();
    let transfer = [
        Transferable::ArrayBuffer(buf),
        Transferable::Port(port.clone()),
    ];
    let result = target.post_value(&mut g, "not a url", &transfer, &sender);
    assert!(matches!(result, Err(Error::SyntaxError(_))), "{result:?}");
    assert!(!is_detached(&g, buf) && !port.is_detached());
    assert_eq!(target.metrics().queue.enqueued, 0);
}

#[test]
fn r_win_10_value_errors_are_data_clone_errors_with_nothing_detached() {
    let (sender, target) = (window("https://s.test"), window("https://t.test"));
    // A port inside the value but not in the transfer list cannot be serialized.
    let (mut g, buf) = graph_with_buffer();
    let (_keep, port) = MessageChannel::new().into_ports();
    let p = g.add(Object::MessagePort(port.clone()));
    g.root = p.into();
    let result = target.post_value(&mut g, "*", &[Transferable::ArrayBuffer(buf)], &sender);
    assert!(
        matches!(result, Err(Error::DataCloneError(_))),
        "{result:?}"
    );
    assert!(!is_detached(&g, buf) && !port.is_detached());
    assert!(target.try_recv().is_none());
}

#[test]
fn r_win_11_value_transfers_happen_even_if_dropped() {
    let (sender, target) = (window("https://s.test"), window("https://t.test"));
    let (mut g, buf) = graph_with_buffer();
    let (keep, port) = MessageChannel::new().into_ports();
    let transfer = [
        Transferable::ArrayBuffer(buf),
        Transferable::Port(port.clone()),
    ];
    let result = target.post_value(&mut g, "https://other.test", &transfer, &sender);
    assert_eq!(result, Ok(()));
    // byteLength is 0 right after the call, and the port is gone, though nothing is delivered.
    assert!(is_detached(&g, buf));
    assert!(matches!(g.get(buf), Some(Object::ArrayBuffer(b)) if b.data.is_empty()));
    assert!(port.is_detached());
    assert!(target.try_recv().is_none());
    assert!(!keep.is_entangled());
}

#[test]
fn r_win_14_value_ports_and_buffers_travel_in_transfer_order() {
    let (sender, target) = (window("https://s.test"), window("https://t.test"));
    let (mut g, buf) = graph_with_buffer();
    let (_k1, p1) = MessageChannel::new().into_ports();
    let (_k2, p2) = MessageChannel::new().into_ports();
    let transfer = [
        Transferable::Port(p2.clone()),
        Transferable::ArrayBuffer(buf),
        Transferable::Port(p1.clone()),
    ];
    target
        .proxy()
        .post_value(&mut g, "*", &transfer, &sender)
        .unwrap_or_else(|e| panic!("{e}"));
    let e = target
        .recv(Some(PATIENCE))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.ports.len(), 2, "ArrayBuffers are not listed in ports");
    assert_eq!(e.array_buffers, vec![vec![1, 2, 3]]);
    assert_eq!(e.origin, "https://s.test");
}

#[test]
fn r_win_16_deserialize_failure_becomes_messageerror() {
    let (sender, target) = (window("https://s.test"), window("https://t.test"));
    let (keep, travel) = MessageChannel::new().into_ports();
    // Bytes no decoder accepts (not even a version header).
    target
        .post_message(&b"\x00garbage"[..], "*", &[travel], &sender)
        .unwrap_or_else(|e| panic!("{e}"));
    target
        .post_message("after", "*", &[], &sender)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut e = target
        .recv(Some(PATIENCE))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(e.deserialize().is_err());
    assert_eq!(e.event_type, MessageEventType::MessageError);
    assert_eq!(e.origin, "https://s.test");
    assert!(e.source.as_ref().is_some_and(|s| *s == sender));
    assert!(e.data.is_empty() && e.ports.is_empty() && e.array_buffers.is_empty());
    // A messageerror has nothing more to deserialize.
    assert!(matches!(e.deserialize(), Err(Error::InvalidStateError(_))));
    // Its ports are lost; the window's queue goes on.
    assert!(matches!(keep.recv(Some(PATIENCE)), Err(Error::Closed(_))));
    let next = target
        .recv(Some(PATIENCE))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(next.data, b"after");
}

#[test]
fn r_win_15_value_arrives_as_a_structured_clone() {
    let (sender, target) = (window("https://s.test"), window("https://t.test"));
    let mut g = Graph::new();
    let list = g.add(Object::Set(vec![Value::from(1), Value::from("two")]));
    let root = g.add(Object::object([
        ("s", Value::from("hi")),
        ("set", Value::from(list)),
    ]));
    g.root = root.into();
    let original = g.clone();
    target
        .post_value(&mut g, "https://t.test", &[], &sender)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut e = target
        .recv(Some(PATIENCE))
        .unwrap_or_else(|e| panic!("{e}"));
    let value = e.deserialize().unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(value, original);
    assert_eq!(
        (e.event_type, e.origin.as_str()),
        (MessageEventType::Message, "https://s.test")
    );
}

#[test]
fn r_win_14_value_ports_are_the_events_ports() {
    let (sender, target) = (window("https://s.test"), window("https://t.test"));
    let (keep, port) = MessageChannel::new().into_ports();
    let mut g = Graph::new();
    let p = g.add(Object::MessagePort(port.clone()));
    let root = g.add(Object::object([("port", Value::from(p))]));
    g.root = root.into();
    let transfer = [Transferable::Port(port)];
    target
        .post_value(&mut g, "*", &transfer, &sender)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut e = target
        .recv(Some(PATIENCE))
        .unwrap_or_else(|e| panic!("{e}"));
    let value = e.deserialize().unwrap_or_else(|err| panic!("{err}"));
    // `e.data.port === e.ports[0]`: the graph's port node is a handle on the event's port.
    let in_value: Vec<_> = value
        .iter()
        .filter_map(|(_, o)| match o {
            Object::MessagePort(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(in_value, e.ports);
    keep.post_message("through", &[])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        in_value[0].recv(Some(PATIENCE)).map(|m| m.data).ok(),
        Some(b"through".to_vec())
    );
}
