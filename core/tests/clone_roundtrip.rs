//! Round-trip properties over seeded random graphs (shared references and cycles included):
//! decode(encode(g)) is g, and encoding is stable (encode ∘ decode ∘ encode = encode).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use webmessaging_core::clone::{
    decode, decode_transfer, decode_with, encode, encode_with, structured_clone, Array,
    ArrayBuffer, ArrayBufferView, DecodeOptions, Elements, EncodeOptions, ErrorName, ErrorObject,
    Graph, JsBigInt, JsString, Limits, Object, ObjectId, RegExp, RegExpFlags, Transferable, Value,
    ViewKind,
};

const GRAPHS: u64 = 3_000;

fn string(rng: &mut StdRng) -> JsString {
    const UNITS: [u16; 10] = [
        b'a' as u16,
        b'b' as u16,
        b'0' as u16,
        b'1' as u16,
        0,
        0xe9,
        0xff,
        0x20ac,
        0xd800,
        0xdc00,
    ];
    let n = rng.random_range(0..6);
    JsString::from_utf16(
        (0..n)
            .map(|_| UNITS[rng.random_range(0..UNITS.len())])
            .collect::<Vec<_>>(),
    )
}

fn number(rng: &mut StdRng) -> f64 {
    const SPECIAL: [f64; 10] = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        1.5,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        2147483648.0,
        -2147483649.0,
    ];
    match rng.random_range(0..3) {
        0 => SPECIAL[rng.random_range(0..SPECIAL.len())],
        1 => f64::from(rng.random::<i32>()),
        _ => f64::from_bits(rng.random::<u64>()),
    }
}

fn bigint(rng: &mut StdRng) -> JsBigInt {
    let n = rng.random_range(0..20);
    let mag: Vec<u8> = (0..n).map(|_| rng.random()).collect();
    JsBigInt::from_sign_magnitude(rng.random_bool(0.5), mag)
}

/// A random primitive or a reference to one of `n` objects.
fn value(rng: &mut StdRng, n: u32) -> Value {
    match rng.random_range(0..12) {
        0 => Value::Undefined,
        1 => Value::Null,
        2 => Value::Bool(rng.random_bool(0.5)),
        3 => Value::Number(number(rng)),
        4 => Value::BigInt(bigint(rng)),
        5 => Value::String(string(rng)),
        _ => Value::Object(ObjectId(rng.random_range(0..n))),
    }
}

/// Distinct property keys (index-like ones included, but never for arrays' extra properties).
fn keys(rng: &mut StdRng, allow_index: bool) -> Vec<JsString> {
    let mut out: Vec<JsString> = Vec::new();
    for _ in 0..rng.random_range(0..6) {
        let k = if allow_index && rng.random_bool(0.3) {
            JsString::from(rng.random_range(0..5000u32).to_string())
        } else {
            string(rng)
        };
        if !out.contains(&k) && (allow_index || k.array_index().is_none()) {
            out.push(k);
        }
    }
    // Index keys first, ascending: the order JavaScript (and the decoder) gives them.
    out.sort_by_key(|k| (k.array_index().is_none(), k.array_index()));
    out
}

fn random_graph(seed: u64) -> Graph {
    let mut rng = StdRng::seed_from_u64(seed);
    let n = rng.random_range(1..24u32);
    let mut g = Graph::new();
    // Buffers first so views can refer to them by kind.
    let buffers = rng.random_range(1..3u32);
    for _ in 0..buffers {
        let len = rng.random_range(0..5) * 8;
        let data = (0..len).map(|_| rng.random()).collect();
        let resizable = rng.random_bool(0.3);
        g.add(Object::ArrayBuffer(ArrayBuffer {
            data,
            max_byte_length: resizable.then_some(len as u32 + 16),
            detached: false,
        }));
    }
    let total = buffers + n;
    for _ in 0..n {
        let obj = match rng.random_range(0..14) {
            0 => Object::Object(
                keys(&mut rng, true)
                    .into_iter()
                    .map(|k| (k, value(&mut rng, total)))
                    .collect(),
            ),
            1 => {
                let elements = (0..rng.random_range(0..5))
                    .map(|_| value(&mut rng, total))
                    .collect();
                let properties = keys(&mut rng, false)
                    .into_iter()
                    .map(|k| (k, value(&mut rng, total)))
                    .collect();
                Object::Array(Array {
                    elements: Elements::Dense(elements),
                    properties,
                })
            }
            2 => {
                // Short ones fit the default sparse budget; long ones test the wire's varints.
                let length = if rng.random_bool(0.5) {
                    rng.random_range(1..300)
                } else {
                    rng.random_range(1..u32::MAX)
                };
                let mut idx: Vec<u32> = (0..rng.random_range(0..4))
                    .map(|_| rng.random_range(0..length))
                    .collect();
                idx.sort();
                idx.dedup();
                let entries = idx
                    .into_iter()
                    .map(|i| (i, value(&mut rng, total)))
                    .collect();
                let properties = keys(&mut rng, false)
                    .into_iter()
                    .map(|k| (k, value(&mut rng, total)))
                    .collect();
                Object::Array(Array {
                    elements: Elements::Sparse { length, entries },
                    properties,
                })
            }
            3 => Object::BooleanObject(rng.random_bool(0.5)),
            4 => Object::NumberObject(number(&mut rng)),
            5 => Object::BigIntObject(bigint(&mut rng)),
            6 => Object::StringObject(string(&mut rng)),
            7 => Object::Date(match rng.random_range(0..3) {
                0 => f64::NAN,
                _ => f64::from(rng.random::<i32>()) * 1000.0,
            }),
            8 => {
                let flags = loop {
                    let f = RegExpFlags(rng.random::<u32>() & RegExpFlags::VALID);
                    if f.is_valid() {
                        break f;
                    }
                };
                Object::RegExp(RegExp {
                    source: string(&mut rng),
                    flags,
                })
            }
            9 => {
                let buffer = ObjectId(rng.random_range(0..buffers));
                let Some(Object::ArrayBuffer(b)) = g.get(buffer) else {
                    unreachable!()
                };
                let (len, resizable) = (b.data.len() as u32, b.max_byte_length.is_some());
                let kind = ViewKind::ALL[rng.random_range(0..ViewKind::ALL.len())];
                let size = kind.element_size() as u32;
                let offset = rng.random_range(0..=len / size) * size;
                let tracking = resizable && rng.random_bool(0.5);
                let byte_length = if tracking {
                    0
                } else {
                    rng.random_range(0..=(len - offset) / size) * size
                };
                Object::View(ArrayBufferView {
                    kind,
                    buffer,
                    byte_offset: offset,
                    byte_length,
                    length_tracking: tracking,
                })
            }
            10 => {
                // Distinct keys under SameValueZero: strings tagged with their position.
                let entries = (0..rng.random_range(0..4))
                    .map(|i| {
                        (
                            Value::String(JsString::from(format!("k{i}"))),
                            value(&mut rng, total),
                        )
                    })
                    .collect();
                Object::Map(entries)
            }
            11 => Object::Set(
                (0..rng.random_range(0..4))
                    .map(|i| Value::Number(f64::from(i)))
                    .collect(),
            ),
            12 => Object::Error(Box::new(ErrorObject {
                name: [ErrorName::Error, ErrorName::TypeError, ErrorName::UriError]
                    [rng.random_range(0..3)],
                message: rng.random_bool(0.7).then(|| string(&mut rng)),
                stack: rng.random_bool(0.5).then(|| string(&mut rng)),
                cause: rng.random_bool(0.5).then(|| value(&mut rng, total)),
            })),
            _ => Object::Map(vec![(
                Value::Object(ObjectId(rng.random_range(0..total))),
                value(&mut rng, total),
            )]),
        };
        g.add(obj);
    }
    g.root = Value::Object(ObjectId(rng.random_range(0..total)));
    g
}

/// The default limits without the sparse-array budget (random sparse lengths reach 2^32 - 1).
fn relaxed() -> Limits {
    Limits {
        sparse_length_base: usize::MAX,
        ..Limits::default()
    }
}

fn encode_relaxed(g: &Graph) -> Vec<u8> {
    let options = EncodeOptions {
        limits: relaxed(),
        ..EncodeOptions::default()
    };
    encode_with(g, &options, &[]).unwrap_or_else(|e| panic!("{e}\n{g:?}"))
}

#[test]
fn r_sc_36_random_graphs_with_cycles_round_trip() {
    let mut cyclic = 0;
    let options = DecodeOptions {
        limits: relaxed(),
        ..DecodeOptions::default()
    };
    for seed in 0..GRAPHS {
        let g = random_graph(seed);
        let bytes = encode_relaxed(&g);
        let back = decode_with(&bytes, &options)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{bytes:02x?}"));
        assert!(
            back.equivalent(&g, true),
            "seed {seed}: {g:?}\n!=\n{back:?}"
        );
        assert_eq!(
            encode_relaxed(&back),
            bytes,
            "seed {seed}: encoding is not stable"
        );
        if bytes.contains(&b'^') {
            cyclic += 1;
        }
    }
    assert!(
        cyclic > GRAPHS / 8,
        "only {cyclic} graphs had shared references or cycles"
    );
}

#[test]
fn structured_clone_of_random_graphs_is_equivalent() {
    let mut cloned = 0;
    for seed in 0..200 {
        let mut g = random_graph(seed);
        match structured_clone(&mut g, &[]) {
            Ok(c) => {
                assert!(c.equivalent(&g, true), "seed {seed}");
                cloned += 1;
            }
            // Only what the default limits refuse may fail (long sparse arrays here).
            Err(e) => assert!(encode(&g).is_err(), "seed {seed}: {e}"),
        }
    }
    assert!(cloned > 100, "only {cloned} of 200 cloned");
}

/// Each limit set tight enough that random graphs land on both sides of it.
fn tight_limits() -> Vec<(&'static str, Limits)> {
    let base = relaxed();
    vec![
        (
            "objects",
            Limits {
                max_objects: 3,
                ..base.clone()
            },
        ),
        (
            "units",
            Limits {
                max_string_units: 6,
                ..base.clone()
            },
        ),
        (
            "bytes",
            Limits {
                max_bytes: 8,
                ..base.clone()
            },
        ),
        (
            "bigint",
            Limits {
                max_bigint_bytes: 8,
                ..base.clone()
            },
        ),
        (
            "depth",
            Limits {
                max_depth: 2,
                ..base.clone()
            },
        ),
        (
            "sparse",
            Limits {
                sparse_length_base: 0,
                sparse_length_per_byte: 2,
                ..base
            },
        ),
    ]
}

#[test]
fn the_writer_refuses_exactly_what_the_reader_refuses() {
    for (name, limits) in tight_limits() {
        let (mut written, mut refused) = (0, 0);
        let encode_options = EncodeOptions {
            limits: limits.clone(),
            ..EncodeOptions::default()
        };
        let decode_options = DecodeOptions {
            limits: limits.clone(),
            ..DecodeOptions::default()
        };
        for seed in 0..1500 {
            let g = random_graph(seed);
            // Half the graphs transfer their first buffer: counted although it is out of band.
            // (Not a resizable one: transfer carries bytes only, so its views would not read.)
            let fixed = matches!(g.get(ObjectId(0)), Some(Object::ArrayBuffer(b)) if b.max_byte_length.is_none());
            let transfer = if seed % 2 == 0 && fixed {
                vec![Transferable::ArrayBuffer(ObjectId(0))]
            } else {
                Vec::new()
            };
            let relaxed_options = EncodeOptions {
                limits: relaxed(),
                ..EncodeOptions::default()
            };
            let bytes = encode_with(&g, &relaxed_options, &transfer).unwrap();
            let buffers = match (transfer.is_empty(), g.get(ObjectId(0))) {
                (false, Some(Object::ArrayBuffer(b))) => vec![b.data.clone().into()],
                _ => Vec::new(),
            };
            let read = decode_transfer(&bytes, &decode_options, &[], buffers);
            match encode_with(&g, &encode_options, &transfer) {
                Ok(ours) => {
                    assert!(
                        read.is_ok(),
                        "{name} seed {seed}: written, then refused: {read:?}"
                    );
                    assert_eq!(ours, bytes);
                    written += 1;
                }
                Err(e) => {
                    assert_eq!(e.name(), "DataCloneError");
                    assert!(
                        read.is_err(),
                        "{name} seed {seed}: refused ({e}) but readable"
                    );
                    refused += 1;
                }
            }
        }
        eprintln!("{name}: {written} written, {refused} refused");
        assert!(
            written > 20 && refused > 20,
            "{name}: {written} written, {refused} refused: the limit is not exercised"
        );
    }
}

#[test]
fn equivalence_notices_broken_sharing() {
    // [s, s] is not [s, t] even when s and t look alike: the comparison is itself tested.
    let mut shared = Graph::new();
    let s = shared.add(Object::object([("x", 1)]));
    let a = shared.add(Object::array([s, s]));
    shared.root = a.into();
    let mut split = Graph::new();
    let s1 = split.add(Object::object([("x", 1)]));
    let s2 = split.add(Object::object([("x", 1)]));
    let a = split.add(Object::array([s1, s2]));
    split.root = a.into();
    assert!(!shared.equivalent(&split, true));
    assert!(decode(&encode(&shared).unwrap())
        .unwrap()
        .equivalent(&shared, true));
}
