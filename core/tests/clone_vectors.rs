//! Golden vectors written by the real V8 (tests/vectors/generate.mjs): every vector decodes to
//! the graph Node described, and re-encodes to the very same bytes.

mod clone_common;

use clone_common::{build, load, port_table, relaxed, to_hex};
use webmessaging_core::clone::{
    decode_transfer, encode_with, validate, EncodeOptions, ObjectId, Transferable,
};

#[test]
fn golden_vectors_cover_the_wire_format() {
    let vectors = load();
    assert!(vectors.len() >= 120, "only {} vectors", vectors.len());
    for tag in [
        b'o', b'A', b'a', b'D', b'R', b';', b'\'', b'B', b'~', b'V', b'r', b'Z', b'z', b't', b'\\',
        b'c', b'^',
    ] {
        assert!(
            vectors.iter().any(|v| v.bytes[2..].contains(&tag)),
            "no vector contains tag {:?}",
            tag as char
        );
    }
    assert!(
        vectors.iter().any(|v| v.node_mode),
        "no v8.serialize vectors"
    );
    let canonical = vectors
        .iter()
        .filter(|v| !v.node_mode && v.noncanonical.is_none())
        .count();
    assert!(
        canonical >= 120,
        "only {canonical} vectors are checked byte for byte"
    );
}

#[test]
fn golden_vectors_decode_to_the_described_graph_and_reencode_byte_identically() {
    let mut failures = Vec::new();
    for v in load() {
        let (ports, _far) = port_table(v.ports);
        let lens: Vec<usize> = v.transfer_buffers.iter().map(Vec::len).collect();
        if let Err(e) = validate(&v.bytes, &v.options(), v.ports, &lens) {
            failures.push(format!("{}: validate refused it: {e}", v.name));
        }
        let got = match decode_transfer(
            &v.bytes,
            &v.options(),
            &ports,
            v.transfer_buffers.iter().cloned().map(Into::into).collect(),
        ) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("{}: decode failed: {e}", v.name));
                continue;
            }
        };
        let expected = build(&v.graph, &v.transfer_buffers, &ports);
        if !got.equivalent(&expected, true) {
            failures.push(format!(
                "{}: decoded {got:?}\n    expected {expected:?}",
                v.name
            ));
            continue;
        }
        if v.node_mode || v.noncanonical.is_some() {
            continue; // v8.serialize's host-object views are read-only for us
        }
        let mut transfer: Vec<Transferable> =
            ports.iter().cloned().map(Transferable::Port).collect();
        transfer.extend(
            (0..v.transfer_buffers.len() as u32).map(|i| Transferable::ArrayBuffer(ObjectId(i))),
        );
        for (what, graph) in [("decoded", &got), ("described", &expected)] {
            let options = EncodeOptions {
                limits: relaxed(),
                ..EncodeOptions::default()
            };
            match encode_with(graph, &options, &transfer) {
                Ok(bytes) if bytes == v.bytes => {}
                Ok(bytes) => failures.push(format!(
                    "{}: re-encoding the {what} graph differs\n    node {}\n    ours {}",
                    v.name,
                    to_hex(&v.bytes),
                    to_hex(&bytes)
                )),
                Err(e) => {
                    failures.push(format!("{}: encoding the {what} graph failed: {e}", v.name))
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
