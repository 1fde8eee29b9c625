//! `make bench-codec`: our encode/decode throughput next to Node's `v8.serialize` /
//! `v8.deserialize` for the same values, measured in the same run (Node is spawned for its half).
//! Prints one table; ratios above 1 mean we are faster. Medians of 5 samples of ~200 ms.

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use webmessaging_core::clone::{decode, encode, ArrayBuffer, Graph, Object, Value};

fn record(g: &mut Graph, i: i32) -> Value {
    let tags = g.add(Object::array([1, 2, 3]));
    g.add(Object::object([
        ("id", Value::from(i)),
        ("name", format!("name{i}").into()),
        ("tags", tags.into()),
    ]))
    .into()
}

fn workloads() -> Vec<(&'static str, Graph)> {
    let mut one = Graph::new();
    one.root = record(&mut one, 1);
    let mut many = Graph::new();
    let items: Vec<Value> = (0..10_000).map(|i| record(&mut many, i)).collect();
    many.root = many.add(Object::array(items)).into();
    let mut ab = Graph::new();
    ab.root = ab
        .add(Object::ArrayBuffer(ArrayBuffer::new(
            (0..1 << 20).map(|i| i as u8).collect(),
        )))
        .into();
    vec![
        ("record", one),
        ("records_10k", many),
        ("arraybuffer_1mib", ab),
    ]
}

/// Median ops/s over 5 samples of about 200 ms.
fn rate(mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let mut n = 0u64;
            while start.elapsed() < Duration::from_millis(200) {
                for _ in 0..8 {
                    f();
                }
                n += 8;
            }
            n as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[2]
}

fn node_figures() -> Option<serde_json::Value> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/bench-node.mjs"
    );
    let out = Command::new("node").arg(script).output().ok()?;
    if !out.status.success() {
        eprintln!(
            "node benchmark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

fn main() {
    let node = if std::env::var_os("CODEC_BENCH_NO_NODE").is_some() {
        None
    } else {
        node_figures()
    };
    if node.is_none() {
        eprintln!("!!! node not found or failed: printing our figures only !!!");
    }
    println!(
        "structured clone codec vs Node {} v8.serialize/v8.deserialize (median of 5)",
        node_version()
    );
    println!(
        "{:<18} {:<7} {:>13} {:>10} {:>13} {:>10} {:>7}",
        "workload", "op", "ours ops/s", "ours MB/s", "node ops/s", "node MB/s", "ratio"
    );
    // CODEC_BENCH_ONLY=records_10k limits the run to one workload (for profiling).
    let only = std::env::var("CODEC_BENCH_ONLY").ok();
    for (name, graph) in workloads() {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let bytes = encode(&graph).expect("encode");
        // CODEC_BENCH_OPS=decode measures decoding only (for profiling).
        let skip_encode = std::env::var("CODEC_BENCH_OPS").is_ok_and(|o| o == "decode");
        let encode_ops = if skip_encode {
            0.0
        } else {
            rate(|| {
                black_box(encode(black_box(&graph)).expect("encode"));
            })
        };
        let decode_ops = rate(|| {
            black_box(decode(black_box(&bytes)).expect("decode"));
        });
        let mb = bytes.len() as f64 / 1e6;
        let peer = node.as_ref().map(|n| &n[name]);
        for (op, ours, key) in [
            ("encode", encode_ops, "encode_ops"),
            ("decode", decode_ops, "decode_ops"),
        ] {
            let theirs = peer.and_then(|p| p[key].as_f64());
            let peer_mb = peer.and_then(|p| p["bytes"].as_f64()).map(|b| b / 1e6);
            let fmt =
                |x: Option<f64>, prec: usize| x.map_or("-".to_owned(), |v| format!("{v:.prec$}"));
            println!(
                "{:<18} {:<7} {:>13.0} {:>10.1} {:>13} {:>10} {:>7}",
                name,
                op,
                ours,
                ours * mb,
                fmt(theirs, 0),
                fmt(theirs.zip(peer_mb).map(|(t, m)| t * m), 1),
                fmt(theirs.map(|t| ours / t), 2),
            );
        }
        if let Some(b) = peer.and_then(|p| p["bytes"].as_u64()) {
            if b as usize != bytes.len() {
                println!(
                    "  (note: {name} is {} bytes ours, {b} bytes Node's)",
                    bytes.len()
                );
            }
        }
    }
}

fn node_version() -> String {
    Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "(absent)".to_owned())
}
