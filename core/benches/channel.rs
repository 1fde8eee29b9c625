//! Thread-to-thread benchmark of the core ports against crossbeam-channel doing the same work
//! (moving a small `Vec<u8>` per message). Prints one table: workload, ours, crossbeam, ratio.
//! Medians of several runs; the machine is shared and noisy, so the ratio is what matters.

use std::thread;
use std::time::{Duration, Instant};

use webmessaging_core::MessageChannel;

const MESSAGES: usize = 500_000;
const ROUND_TRIPS: usize = 20_000;
const RUNS: usize = 5;
const PAYLOAD: usize = 16;

/// Pins the current thread to `core` when the machine has it (one core per side where possible).
fn pin(core: usize) {
    if let Some(id) = core_affinity::get_core_ids().and_then(|ids| ids.get(core).copied()) {
        core_affinity::set_for_current(id);
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ours_throughput() -> f64 {
    let (tx, rx) = MessageChannel::new().into_ports();
    let consumer = thread::spawn(move || {
        pin(1);
        for _ in 0..MESSAGES {
            rx.recv(None).expect("message");
        }
    });
    pin(0);
    let start = Instant::now();
    for _ in 0..MESSAGES {
        tx.post_message(vec![7u8; PAYLOAD], &[]).expect("post");
    }
    consumer.join().expect("consumer");
    MESSAGES as f64 / start.elapsed().as_secs_f64()
}

fn crossbeam_throughput() -> f64 {
    let (tx, rx) = crossbeam_channel::unbounded::<Vec<u8>>();
    let consumer = thread::spawn(move || {
        pin(1);
        for _ in 0..MESSAGES {
            rx.recv().expect("message");
        }
    });
    pin(0);
    let start = Instant::now();
    for _ in 0..MESSAGES {
        tx.send(vec![7u8; PAYLOAD]).expect("send");
    }
    consumer.join().expect("consumer");
    MESSAGES as f64 / start.elapsed().as_secs_f64()
}

fn ours_round_trips() -> Vec<Duration> {
    let (a, b) = MessageChannel::new().into_ports();
    let echo = thread::spawn(move || {
        pin(1);
        for _ in 0..ROUND_TRIPS {
            let m = b.recv(None).expect("ping");
            b.post_message(m.data, &[]).expect("pong");
        }
    });
    pin(0);
    let mut times = Vec::with_capacity(ROUND_TRIPS);
    for _ in 0..ROUND_TRIPS {
        let start = Instant::now();
        a.post_message(vec![1u8; PAYLOAD], &[]).expect("ping");
        a.recv(None).expect("pong");
        times.push(start.elapsed());
    }
    echo.join().expect("echo");
    times
}

fn crossbeam_round_trips() -> Vec<Duration> {
    let (ping_tx, ping_rx) = crossbeam_channel::unbounded::<Vec<u8>>();
    let (pong_tx, pong_rx) = crossbeam_channel::unbounded::<Vec<u8>>();
    let echo = thread::spawn(move || {
        pin(1);
        for _ in 0..ROUND_TRIPS {
            let m = ping_rx.recv().expect("ping");
            pong_tx.send(m).expect("pong");
        }
    });
    pin(0);
    let mut times = Vec::with_capacity(ROUND_TRIPS);
    for _ in 0..ROUND_TRIPS {
        let start = Instant::now();
        ping_tx.send(vec![1u8; PAYLOAD]).expect("ping");
        pong_rx.recv().expect("pong");
        times.push(start.elapsed());
    }
    echo.join().expect("echo");
    times
}

const CHANNELS: usize = 200_000;

/// `MessageChannel::new()` and closing both ends, per second.
fn ours_channels() -> f64 {
    let start = Instant::now();
    for _ in 0..CHANNELS {
        let (a, b) = MessageChannel::new().into_ports();
        a.close();
        b.close();
    }
    CHANNELS as f64 / start.elapsed().as_secs_f64()
}

/// crossbeam's channel creation (and drop, its only way to close), per second.
fn crossbeam_channels() -> f64 {
    let start = Instant::now();
    for _ in 0..CHANNELS {
        let (tx, rx) = crossbeam_channel::unbounded::<Vec<u8>>();
        drop(std::hint::black_box(tx));
        drop(std::hint::black_box(rx));
    }
    CHANNELS as f64 / start.elapsed().as_secs_f64()
}

/// Node's `new MessageChannel()` + closing both ports, per second (median of `RUNS` runs in
/// one process), or `None` without `node`.
fn node_channels() -> Option<f64> {
    const SCRIPT: &str = r#"
const { MessageChannel } = require('worker_threads');
const N = 50000, rates = [];
for (let r = 0; r < 5; r++) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) { const c = new MessageChannel(); c.port1.close(); c.port2.close(); }
  rates.push(N / (Number(process.hrtime.bigint() - t) / 1e9));
}
rates.sort((a, b) => a - b);
console.log(rates[2]);
"#;
    let out = std::process::Command::new("node")
        .args(["-e", SCRIPT])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// p50 and p99 over the round trips of every run, in microseconds.
fn latency(mut all: Vec<Duration>) -> (f64, f64) {
    all.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    (us(percentile(&all, 0.50)), us(percentile(&all, 0.99)))
}

/// Nanoseconds per call of `step`, over `MESSAGES` calls.
fn ns_per_message(mut step: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..MESSAGES {
        step();
    }
    t.elapsed().as_secs_f64() * 1e9 / MESSAGES as f64
}

fn main() {
    // `cargo bench` passes `--bench`. `-- profile-post` runs only our one-way workload, for
    // `perf record` to see the post path without the peers' samples.
    if std::env::args().any(|a| a == "profile-post") {
        for _ in 0..RUNS * 4 {
            println!("{:.0}", ours_throughput());
        }
        return;
    }
    // `-- same-thread`: nanoseconds per post and per receive with no second thread (best of
    // `RUNS`), ours beside crossbeam: the instructions' cost without the cache traffic.
    if std::env::args().any(|a| a == "same-thread") {
        let (mut ours, mut theirs) = ((f64::MAX, f64::MAX), (f64::MAX, f64::MAX));
        for _ in 0..RUNS {
            let (tx, rx) = MessageChannel::new().into_ports();
            let post = ns_per_message(|| tx.post_message(vec![7u8; PAYLOAD], &[]).expect("post"));
            let recv = ns_per_message(|| {
                std::hint::black_box(rx.try_recv().expect("recv"));
            });
            ours = (ours.0.min(post), ours.1.min(recv));
            let (tx, rx) = crossbeam_channel::unbounded::<Vec<u8>>();
            let post = ns_per_message(|| tx.send(vec![7u8; PAYLOAD]).expect("send"));
            let recv = ns_per_message(|| {
                std::hint::black_box(rx.try_recv().expect("recv"));
            });
            theirs = (theirs.0.min(post), theirs.1.min(recv));
        }
        println!("ns/post ours {:.1} crossbeam {:.1}", ours.0, theirs.0);
        println!("ns/recv ours {:.1} crossbeam {:.1}", ours.1, theirs.1);
        return;
    }
    // `-- count ours|crossbeam BURST`: 100,000 posts and receives on one thread, BURST posts
    // then BURST receives at a time, and nothing else: for `valgrind --tool=callgrind`, whose
    // instruction count over 100,000 is the cost per message without any cache traffic.
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "count") {
        let burst: usize = args.get(i + 2).and_then(|b| b.parse().ok()).unwrap_or(1);
        let rounds = 100_000 / burst.max(1);
        if args.get(i + 1).is_some_and(|w| w == "crossbeam") {
            let (tx, rx) = crossbeam_channel::unbounded::<Vec<u8>>();
            for _ in 0..rounds {
                for _ in 0..burst {
                    tx.send(vec![7u8; PAYLOAD]).expect("send");
                }
                for _ in 0..burst {
                    std::hint::black_box(rx.try_recv().expect("recv"));
                }
            }
        } else {
            let (tx, rx) = MessageChannel::new().into_ports();
            for _ in 0..rounds {
                for _ in 0..burst {
                    tx.post_message(vec![7u8; PAYLOAD], &[]).expect("post");
                }
                for _ in 0..burst {
                    std::hint::black_box(rx.try_recv().expect("recv"));
                }
            }
        }
        return;
    }
    // `-- oneway N`: N interleaved pairs of the one-way workload, ours then crossbeam's, and
    // the median of the per-pair ratios (for A/B runs of two builds on a noisy machine).
    if let Some(i) = args.iter().position(|a| a == "oneway") {
        let n: usize = args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(9);
        let ratios: Vec<f64> = (0..n)
            .map(|_| ours_throughput() / crossbeam_throughput())
            .collect();
        println!("oneway ratio median {:.3} of {n}", median(ratios));
        return;
    }
    // `-- profile-crossbeam`: the peer's one-way workload alone, to compare counters
    // (`perf stat -e context-switches,syscalls:sys_enter_futex`) with ours.
    if std::env::args().any(|a| a == "profile-crossbeam") {
        for _ in 0..RUNS * 4 {
            println!("{:.0}", crossbeam_throughput());
        }
        return;
    }
    // Interleaved, so both see the same machine.
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        ours.push(ours_throughput());
        theirs.push(crossbeam_throughput());
    }
    let (ours, theirs) = (median(ours), median(theirs));
    let (mut ours_rt, mut cb_rt) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        ours_rt.extend(ours_round_trips());
        cb_rt.extend(crossbeam_round_trips());
    }
    let (ours_p50, ours_p99) = latency(ours_rt);
    let (cb_p50, cb_p99) = latency(cb_rt);
    let (mut ours_new, mut cb_new) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        ours_new.push(ours_channels());
        cb_new.push(crossbeam_channels());
    }
    let (ours_new, cb_new) = (median(ours_new), median(cb_new));
    let node_new = node_channels();

    println!(
        "\ncore channel benchmark ({PAYLOAD}-byte messages, median of {RUNS} runs, 2 threads)"
    );
    println!(
        "{:<38} {:>14} {:>14} {:>8}",
        "workload", "webmessaging", "crossbeam", "ratio"
    );
    println!(
        "{:<38} {:>14.0} {:>14.0} {:>7.2}x",
        "one-way throughput (msgs/s, higher=better)",
        ours,
        theirs,
        ours / theirs
    );
    println!(
        "{:<38} {:>14.2} {:>14.2} {:>7.2}x",
        "round trip p50 (us, lower=better)",
        ours_p50,
        cb_p50,
        ours_p50 / cb_p50
    );
    println!(
        "{:<38} {:>14.2} {:>14.2} {:>7.2}x",
        "round trip p99 (us, lower=better)",
        ours_p99,
        cb_p99,
        ours_p99 / cb_p99
    );
    println!(
        "{:<38} {:>14.0} {:>14.0} {:>7.2}x",
        "channel create + close (per s, higher)",
        ours_new,
        cb_new,
        ours_new / cb_new
    );
    match node_new {
        Some(node) => println!(
            "{:<38} {:>14.0} {:>14.0} {:>7.2}x  (peer: Node `new MessageChannel()` + close)",
            "channel create + close vs Node",
            ours_new,
            node,
            ours_new / node
        ),
        None => println!("channel create + close vs Node: node not found, row skipped"),
    }
}
