//! Deterministic garbage input: 200,000 seeded mutations of the golden vectors (bit flips,
//! truncations, splices, huge lengths, deep nesting). Each must decode or fail with a clean
//! `DecodeError` inside the configured limits — never panic, hang or allocate without bound —
//! and whatever decodes must re-encode and decode to the same graph.

mod clone_common;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use webmessaging_core::clone::{
    decode_transfer, encode_with, validate, DecodeOptions, EncodeOptions, Limits, ObjectId,
    Transferable,
};

const MUTATIONS: usize = 200_000;

/// Tags and bytes worth planting: every tag, varint edges, padding.
const INTERESTING: &[u8] =
    b"\x00\x7f\x80\xff_0TFIUNZS\"c^o{a@A$Dyxnzs R;:',B~tVupwm\\r-?.ESEmsc\x01\x02\x03\x0f\x10";

fn mutate(rng: &mut StdRng, bytes: &mut Vec<u8>, donors: &[Vec<u8>]) {
    let len = bytes.len();
    let pos = |rng: &mut StdRng| {
        if len <= 2 {
            len
        } else {
            rng.random_range(2..=len)
        }
    };
    match rng.random_range(0..100) {
        0..=24 if len > 0 => {
            let i = rng.random_range(0..len);
            bytes[i] ^= 1 << rng.random_range(0..8);
        }
        25..=44 if len > 0 => {
            let i = rng.random_range(0..len);
            bytes[i] = INTERESTING[rng.random_range(0..INTERESTING.len())];
        }
        45..=54 => {
            let p = pos(rng);
            bytes.truncate(p);
        }
        55..=64 => {
            let donor = &donors[rng.random_range(0..donors.len())];
            let a = rng.random_range(0..donor.len());
            let b = rng.random_range(a..=donor.len());
            let p = pos(rng);
            bytes.splice(p..p, donor[a..b].iter().copied());
        }
        65..=72 if len > 2 => {
            let a = rng.random_range(2..len);
            let b = rng.random_range(a..=len.min(a + 8));
            bytes.drain(a..b);
        }
        73..=82 => {
            const HUGE: [&[u8]; 4] = [
                b"\xff\xff\xff\xff\x0f",
                b"\xfe\xff\xff\xff\x07",
                b"\x80\x80\x80\x80\x08",
                b"\xff\xff\x03",
            ];
            let p = pos(rng);
            bytes.splice(p..p, HUGE[rng.random_range(0..HUGE.len())].iter().copied());
        }
        83..=84 => {
            const OPENERS: [&[u8]; 6] = [b"A\x01", b"o", b";", b"'", b"a\x01", b"r\x63"];
            let opener = OPENERS[rng.random_range(0..OPENERS.len())];
            let n = rng.random_range(1..12_000);
            let p = pos(rng);
            bytes.splice(p..p, opener.iter().copied().cycle().take(opener.len() * n));
        }
        85..=92 if len > 2 => {
            let a = rng.random_range(2..len);
            let b = rng.random_range(a..=len.min(a + 16));
            let seg: Vec<u8> = bytes[a..b].to_vec();
            bytes.splice(b..b, seg);
        }
        _ => {
            let p = pos(rng);
            let junk: Vec<u8> = (0..rng.random_range(1..6)).map(|_| rng.random()).collect();
            bytes.splice(p..p, junk);
        }
    }
}

#[test]
fn garbage_inputs_decode_or_fail_cleanly_within_limits() {
    let vectors = clone_common::load();
    let donors: Vec<Vec<u8>> = vectors.iter().map(|v| v.bytes.clone()).collect();
    let (ports, _far) = clone_common::port_table(2);
    let transfer_buffers = [vec![1, 2, 3, 4], vec![5; 8]];
    let tight = DecodeOptions {
        limits: Limits {
            max_depth: 64,
            max_objects: 64,
            max_bytes: 256,
            max_string_units: 256,
            max_bigint_bytes: 16,
            sparse_length_base: 64,
            sparse_length_per_byte: 2,
        },
        ..DecodeOptions::default()
    };
    let option_sets = [
        DecodeOptions::default(),
        DecodeOptions::node_serialize(),
        DecodeOptions {
            strict: false,
            ..DecodeOptions::default()
        },
        tight,
    ];
    let mut rng = StdRng::seed_from_u64(0x5eed_c10e);
    let (mut decoded, mut rejected) = (0usize, 0usize);
    for i in 0..MUTATIONS {
        let mut bytes = donors[rng.random_range(0..donors.len())].clone();
        for _ in 0..rng.random_range(1..=3) {
            mutate(&mut rng, &mut bytes, &donors);
        }
        let opts = &option_sets[i % option_sets.len()];
        let decoded_or = decode_transfer(
            &bytes,
            opts,
            &ports,
            transfer_buffers.iter().cloned().map(Into::into).collect(),
        );
        // The sender's check on foreign bytes says exactly what the reader says.
        let lens: Vec<usize> = transfer_buffers.iter().map(Vec::len).collect();
        assert_eq!(
            validate(&bytes, opts, ports.len(), &lens).err(),
            decoded_or.as_ref().err().cloned(),
            "mutation {i}: validate and decode disagree\n{bytes:02x?}"
        );
        match decoded_or {
            Ok(g) => {
                decoded += 1;
                assert!(g.len() <= opts.limits.max_objects, "object budget exceeded");
                let mut transfer: Vec<Transferable> =
                    ports.iter().cloned().map(Transferable::Port).collect();
                transfer.extend([
                    Transferable::ArrayBuffer(ObjectId(0)),
                    Transferable::ArrayBuffer(ObjectId(1)),
                ]);
                // Lenient reading skips trailing bytes, which paid for sparse lengths: the shorter
                // re-encoding is read with that bound lifted.
                let relaxed = Limits {
                    sparse_length_base: usize::MAX,
                    ..Limits::default()
                };
                let encode_options = EncodeOptions {
                    limits: relaxed.clone(),
                    ..EncodeOptions::default()
                };
                let again = encode_with(&g, &encode_options, &transfer).unwrap_or_else(|e| {
                    panic!("mutation {i}: decoded graph does not re-encode: {e}\n{bytes:02x?}")
                });
                let lenient = DecodeOptions {
                    strict: false,
                    limits: relaxed,
                    ..DecodeOptions::default()
                };
                let g2 = decode_transfer(
                    &again,
                    &lenient,
                    &ports,
                    transfer_buffers.iter().cloned().map(Into::into).collect(),
                )
                .unwrap_or_else(|e| {
                    panic!("mutation {i}: re-encoded bytes do not decode: {e}\n{again:02x?}")
                });
                assert!(
                    g.equivalent(&g2, true),
                    "mutation {i}: round trip changed the value\n{bytes:02x?}"
                );
            }
            Err(e) => {
                rejected += 1;
                assert!(
                    e.offset <= bytes.len(),
                    "mutation {i}: error offset {} beyond input",
                    e.offset
                );
                assert!(!e.message.is_empty());
            }
        }
    }
    // Both outcomes must really occur, or the mutations are not exercising the reader.
    assert!(
        decoded > MUTATIONS / 50 && rejected > MUTATIONS / 4,
        "decoded {decoded}, rejected {rejected}"
    );
}

#[test]
fn every_truncation_of_every_vector_fails_cleanly() {
    for v in clone_common::load() {
        let (ports, _far) = clone_common::port_table(v.ports);
        for cut in 0..v.bytes.len() {
            // A vector is exactly one root value, so no proper prefix of it is complete — except
            // a root ArrayBuffer whose view (`V`) was cut off.
            match decode_transfer(
                &v.bytes[..cut],
                &v.options(),
                &ports,
                v.transfer_buffers.iter().cloned().map(Into::into).collect(),
            ) {
                Ok(_) if v.bytes[cut] == b'V' => {}
                Ok(g) => panic!("{}: prefix of {cut} bytes decoded to {g:?}", v.name),
                Err(e) => assert!(
                    e.offset <= cut,
                    "{}: offset {} beyond cut {cut}",
                    v.name,
                    e.offset
                ),
            }
        }
    }
}
