//! `make bench-codec`: our encode/decode throughput next to Node's `v8.serialize` /
//! `v8.deserialize` for the same values, measured in the same run (Node is spawned for its half).
//! Prints one table; ratios above 1 mean we are faster. Each figure is the median of 5 samples
//! of ~200 ms; the table gives medians over interleaved rounds (Node, then ours, per round) and
//! the median of the same-round ratios.
//!
//! Knobs: `CODEC_BENCH_ONLY=<workload>`, `CODEC_BENCH_OPS=decode`, `CODEC_BENCH_NO_NODE=1`,
//! `CODEC_BENCH_ROUNDS=n`, and `CODEC_BENCH_ITERS=n` (n untimed operations each, then exit).

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

/// Rounds of the whole comparison (`CODEC_BENCH_ROUNDS`, default 3): each spawns Node, then
/// measures ours, so machine load hits both sides of a round alike.
fn rounds() -> usize {
    std::env::var("CODEC_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(3)
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    Some(xs[xs.len() / 2])
}

/// One row's figures over the rounds: ours, Node's, and the same-round ratios.
#[derive(Default)]
struct Row {
    ours: Vec<f64>,
    theirs: Vec<f64>,
    ratios: Vec<f64>,
}

fn main() {
    let with_node = std::env::var_os("CODEC_BENCH_NO_NODE").is_none();
    // CODEC_BENCH_ONLY=records_10k limits the run to one workload (for profiling).
    let only = std::env::var("CODEC_BENCH_ONLY").ok();
    // CODEC_BENCH_OPS=decode measures decoding only (for profiling).
    let skip_encode = std::env::var("CODEC_BENCH_OPS").is_ok_and(|o| o == "decode");
    let workloads: Vec<_> = workloads()
        .into_iter()
        .filter(|(name, _)| only.as_deref().is_none_or(|o| o == *name))
        .map(|(name, graph)| {
            let bytes = encode(&graph).expect("encode");
            (name, graph, bytes)
        })
        .collect();
    // CODEC_BENCH_ITERS=n runs exactly n of each measured operation, untimed, and exits: a fixed
    // amount of work for instruction counts and page faults (callgrind, perf stat).
    if let Some(n) = std::env::var("CODEC_BENCH_ITERS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    {
        for (_, graph, bytes) in &workloads {
            for _ in 0..n {
                if !skip_encode {
                    black_box(encode(black_box(graph)).expect("encode"));
                }
                black_box(decode(black_box(bytes)).expect("decode"));
            }
        }
        return;
    }
    let rounds = rounds();
    let mut rows: Vec<[Row; 2]> = workloads.iter().map(|_| Default::default()).collect();
    let mut node_bytes: Vec<Option<u64>> = vec![None; workloads.len()];
    let mut node_missing = false;
    for _ in 0..rounds {
        let node = if with_node { node_figures() } else { None };
        node_missing |= node.is_none();
        for (i, (name, graph, bytes)) in workloads.iter().enumerate() {
            let encode_ops = if skip_encode {
                0.0
            } else {
                rate(|| {
                    black_box(encode(black_box(graph)).expect("encode"));
                })
            };
            let decode_ops = rate(|| {
                black_box(decode(black_box(bytes)).expect("decode"));
            });
            let peer = node.as_ref().map(|n| &n[*name]);
            node_bytes[i] = node_bytes[i].or(peer.and_then(|p| p["bytes"].as_u64()));
            let [enc_row, dec_row] = &mut rows[i];
            for (row, ours, key) in [
                (enc_row, encode_ops, "encode_ops"),
                (dec_row, decode_ops, "decode_ops"),
            ] {
                row.ours.push(ours);
                if let Some(theirs) = peer.and_then(|p| p[key].as_f64()) {
                    row.theirs.push(theirs);
                    row.ratios.push(ours / theirs);
                }
            }
        }
    }
    if node_missing {
        eprintln!("!!! node not found or failed in some round: its figures are missing there !!!");
    }
    println!(
        "structured clone codec vs Node {} v8.serialize/v8.deserialize \
         (medians of {rounds} interleaved rounds, each the median of 5 samples)",
        node_version()
    );
    println!(
        "{:<18} {:<7} {:>13} {:>10} {:>13} {:>10} {:>7}",
        "workload", "op", "ours ops/s", "ours MB/s", "node ops/s", "node MB/s", "ratio"
    );
    let fmt = |x: Option<f64>, prec: usize| x.map_or("-".to_owned(), |v| format!("{v:.prec$}"));
    for ((name, _, bytes), (row_pair, peer_bytes)) in
        workloads.iter().zip(rows.into_iter().zip(node_bytes))
    {
        let mb = bytes.len() as f64 / 1e6;
        let peer_mb = peer_bytes.map(|b| b as f64 / 1e6);
        for (op, row) in ["encode", "decode"].into_iter().zip(row_pair) {
            let ours = median(row.ours).unwrap_or_default();
            let theirs = median(row.theirs);
            println!(
                "{:<18} {:<7} {:>13.0} {:>10.1} {:>13} {:>10} {:>7}",
                name,
                op,
                ours,
                ours * mb,
                fmt(theirs, 0),
                fmt(theirs.zip(peer_mb).map(|(t, m)| t * m), 1),
                fmt(median(row.ratios), 2),
            );
        }
        if let Some(b) = peer_bytes {
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
