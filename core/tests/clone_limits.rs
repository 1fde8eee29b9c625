//! The reader's limits, seen from both ends: what a reader refuses, the sender refuses first
//! (`DataCloneError`, nothing sent), and what a reader materialises stays linear in its input.

use webmessaging_core::clone::{
    self, decode, decode_transfer, decode_with, validate, Array, ArrayBuffer, ArrayBufferView,
    DecodeErrorKind, DecodeOptions, Elements, Graph, Limits, Object, Transferable, Value, ViewKind,
};
use webmessaging_core::MessageChannel;

/// An empty sparse array of length 16,000,000: 13 bytes.
const SPARSE_16M: &[u8] = b"\xff\x0f\x61\x80\xc8\xd0\x07\x40\x00\x80\xc8\xd0\x07";

fn sparse(length: u32) -> Graph {
    let mut g = Graph::new();
    g.root = g
        .add(Object::Array(Array {
            elements: Elements::Sparse {
                length,
                entries: vec![(length - 1, Value::from(1))],
            },
            properties: Vec::new(),
        }))
        .into();
    g
}

#[test]
fn a_13_byte_sparse_array_of_16_million_elements_is_refused() {
    assert_eq!(SPARSE_16M.len(), 13);
    let e = decode(SPARSE_16M).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::LimitExceeded, "{e}");
    assert!(e.message.contains("sparse"), "{e}");
    assert_eq!(e.offset, 2, "blamed on the array's tag");
    // A reader that wants it raises the budget.
    let generous = DecodeOptions {
        limits: Limits {
            sparse_length_per_byte: 2_000_000,
            ..Limits::default()
        },
        ..DecodeOptions::default()
    };
    let g = decode_with(SPARSE_16M, &generous).unwrap();
    let Some(Object::Array(a)) = g.root.as_object().and_then(|id| g.get(id)) else {
        panic!("{g:?}")
    };
    assert_eq!(a.length(), 16_000_000);
}

#[test]
fn the_sparse_budget_is_the_base_plus_a_ratio_of_the_input_for_all_arrays_together() {
    // Length 1,048,576 (the base) in 11 bytes: fits.
    let one = b"\xff\x0f\x61\x80\x80\x40\x40\x00\x80\x80\x40";
    assert!(decode(one).is_ok());
    // Two of them in a 25-byte array: 2,097,152 slots > 1,048,576 + 16 × 25.
    let mut two = b"\xff\x0f\x41\x02".to_vec();
    two.extend_from_slice(&one[2..]);
    two.extend_from_slice(&one[2..]);
    two.extend_from_slice(b"\x24\x00\x02");
    let e = decode(&two).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::LimitExceeded, "{e}");
    assert_eq!(
        Limits::default().sparse_budget(two.len()),
        (1 << 20) + 16 * 25
    );
}

#[test]
fn posting_a_sparse_array_the_reader_would_refuse_is_a_data_clone_error_and_sends_nothing() {
    let (a, b) = MessageChannel::new().into_ports();
    let (keep, travel) = MessageChannel::new().into_ports();
    let mut g = sparse(16_000_000);
    let buffer = g.add(Object::ArrayBuffer(ArrayBuffer::new(vec![1, 2, 3])));
    let transfer = [
        Transferable::Port(travel.clone()),
        Transferable::ArrayBuffer(buffer),
    ];
    let e = clone::post_value(&a, &mut g, &transfer).unwrap_err();
    assert_eq!(e.name(), "DataCloneError", "{e}");
    assert!(e.to_string().contains("sparse"), "{e}");
    assert!(b.try_recv().unwrap().is_none(), "nothing was sent");
    assert!(!travel.is_detached(), "nothing was detached");
    assert!(matches!(g.get(buffer), Some(Object::ArrayBuffer(x)) if !x.detached));
    drop(keep);
    // Within the budget the same shape goes through.
    clone::post_value(&a, &mut sparse(60_000), &[]).unwrap();
    let got = clone::deserialize_with_transfer(b.recv(None).unwrap()).unwrap();
    assert!(got.equivalent(&sparse(60_000), true));
}

#[test]
fn the_writer_enforces_the_readers_default_limits() {
    assert_eq!(
        clone::encode(&sparse(16_000_000)).unwrap_err().name(),
        "DataCloneError"
    );
    let mut g = Graph::new();
    g.root = Value::BigInt(clone::JsBigInt::from_sign_magnitude(
        false,
        vec![1u8; (1 << 20) + 1],
    ));
    let e = clone::encode(&g).unwrap_err();
    assert!(e.to_string().contains("max_bigint_bytes"), "{e}");
}

#[test]
fn validate_checks_foreign_bytes_with_only_the_sizes_of_what_they_transfer() {
    // A Uint8Array over a transferred 4-byte buffer, and a port.
    let (port, _peer) = MessageChannel::new().into_ports();
    let mut g = Graph::new();
    let buffer = g.add(Object::ArrayBuffer(ArrayBuffer::new(vec![0; 4])));
    let view = g.add(Object::View(ArrayBufferView {
        kind: ViewKind::Uint8,
        buffer,
        byte_offset: 0,
        byte_length: 4,
        length_tracking: false,
    }));
    let p = g.add(Object::MessagePort(port.clone()));
    g.root = g.add(Object::array([view, p])).into();
    let transfer = [
        Transferable::ArrayBuffer(buffer),
        Transferable::Port(port.clone()),
    ];
    let bytes = clone::encode_with(&g, &clone::EncodeOptions::default(), &transfer).unwrap();
    let options = DecodeOptions::default();
    validate(&bytes, &options, 1, &[4]).unwrap();
    // Each refusal is the reader's own, word for word.
    for (ports, lens) in [(1, vec![2]), (0, vec![4]), (1, vec![])] {
        let expected = decode_transfer(
            &bytes,
            &options,
            &vec![port.clone(); ports],
            (0..lens.len()).map(|_| vec![0; 2].into()).collect(),
        )
        .map(drop);
        let got = validate(&bytes, &options, ports, &lens);
        assert!(got.is_err(), "{ports} ports, buffers {lens:?}");
        if lens.iter().all(|&l| l == 2) {
            assert_eq!(got, expected);
        }
    }
    // The amplification and the transferred bytes are charged as the reader charges them.
    assert_eq!(
        validate(SPARSE_16M, &options, 0, &[]),
        decode(SPARSE_16M).map(drop)
    );
    let small = DecodeOptions {
        limits: Limits {
            max_bytes: 3,
            ..Limits::default()
        },
        ..DecodeOptions::default()
    };
    let e = validate(&bytes, &small, 1, &[4]).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::LimitExceeded);
}
