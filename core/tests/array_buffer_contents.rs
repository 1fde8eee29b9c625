//! Transferred buffers owned by Rust or lent by a binding's runtime ([`ForeignBuffer`]).
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use webmessaging_core::clone::{deserialize_with_transfer, Object, ObjectId};
use webmessaging_core::{ArrayBufferContents, ForeignBuffer, MessageChannel, Payload};

/// A runtime's buffer stand-in that counts how often it is given back.
#[derive(Debug)]
struct Lent {
    bytes: Vec<u8>,
    returned: Arc<AtomicUsize>,
}

impl ForeignBuffer for Lent {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        self.returned.fetch_add(1, Ordering::SeqCst);
    }
}

struct Other;

impl ForeignBuffer for Other {
    fn bytes(&self) -> &[u8] {
        &[]
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut []
    }
}

fn lent(bytes: &[u8]) -> (ArrayBufferContents, Arc<AtomicUsize>) {
    let returned = Arc::new(AtomicUsize::new(0));
    let buffer = Lent {
        bytes: bytes.to_vec(),
        returned: returned.clone(),
    };
    (ArrayBufferContents::foreign(Box::new(buffer)), returned)
}

#[test]
fn a_foreign_buffer_reads_and_writes_in_place_and_comes_back_as_its_own_type() {
    let (mut contents, returned) = lent(&[1, 2, 3]);
    assert_eq!(&*contents, &[1, 2, 3]);
    contents[0] = 9;
    let contents = match contents.into_foreign::<Other>() {
        Ok(_) => panic!("a Lent buffer came back as another type"),
        Err(unchanged) => unchanged,
    };
    assert_eq!(contents, vec![9, 2, 3]);
    let back = contents
        .into_foreign::<Lent>()
        .unwrap_or_else(|c| panic!("not given back: {c:?}"));
    assert_eq!(back.bytes, [9, 2, 3]);
    assert_eq!(returned.load(Ordering::SeqCst), 0);
    drop(back);
    assert_eq!(returned.load(Ordering::SeqCst), 1);
}

#[test]
fn an_owned_buffer_is_never_taken_for_a_foreign_one_and_moves_into_a_vec() {
    let contents = ArrayBufferContents::from(vec![4, 5]);
    let contents = contents.into_foreign::<Lent>().unwrap_err();
    assert_eq!(contents.into_vec(), vec![4, 5]);
}

#[test]
fn copies_of_a_foreign_buffer_are_owned_and_the_original_is_given_back_once() {
    let (contents, returned) = lent(&[7; 16]);
    let copy = contents.clone();
    assert!(copy.clone().into_foreign::<Lent>().is_err());
    assert_eq!(contents.into_vec(), vec![7; 16]);
    assert_eq!(returned.load(Ordering::SeqCst), 1);
    assert_eq!(copy, vec![7; 16]);
}

#[test]
fn a_foreign_buffer_crosses_a_channel_and_decodes_into_the_value() {
    let (a, b) = MessageChannel::new().into_ports();
    let (contents, returned) = lent(b"abcd");
    // The value is the transferred ArrayBuffer itself: version, transfer reference 0.
    let payload = Payload {
        data: vec![0xff, 0x0f, b't', 0],
        array_buffers: vec![contents],
    };
    a.post_message(payload, &[]).unwrap();
    let message = b.recv(None).unwrap();
    assert_eq!(
        returned.load(Ordering::SeqCst),
        0,
        "given back while in flight"
    );
    let graph = deserialize_with_transfer(message).unwrap();
    assert_eq!(
        returned.load(Ordering::SeqCst),
        1,
        "decoding copies it out once"
    );
    match graph.get(ObjectId(0)) {
        Some(Object::ArrayBuffer(buffer)) => assert_eq!(buffer.data, b"abcd"),
        other => panic!("expected the buffer, got {other:?}"),
    }
}
