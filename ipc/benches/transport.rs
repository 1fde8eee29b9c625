//! The transport between two processes, each row beside its peer from the same run:
//! - a 1 MiB ArrayBuffer transferred (a sealed memfd beside the frame) vs the same bytes copied
//!   through a raw Unix socket into a fresh buffer;
//! - 16-byte messages one way (msgs/s) vs a raw Unix-socket write/read loop;
//! - round trip p50 of a 16-byte message vs the raw socket's.
//!
//! Runs are interleaved (ours, raw, ours, raw, ...); the table shows medians of `WM_BENCH_RUNS`
//! runs (default 5). The child is this binary run again with `WM_BENCH_ROLE=child`.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use webmessaging_core::{MessageChannel, MessagePort, Payload};
use webmessaging_ipc::{export_fd, import_fd};

const WAIT: Option<Duration> = Some(Duration::from_secs(120));
const MIB: usize = 1 << 20;
const AB_COUNT: usize = 64;
const SMALL_COUNT: usize = 200_000;
const RTT_COUNT: usize = 5_000;

/// (name, unit, ours per run, raw per run, higher is better)
type Row = (&'static str, &'static str, Vec<f64>, Vec<f64>, bool);

fn main() {
    if std::env::var("WM_BENCH_ROLE").as_deref() == Ok("child") {
        child();
        return;
    }
    let runs: usize = std::env::var("WM_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let (port, mut raw, mut child) = spawn_child();
    // Warm up both paths once.
    ours_ab(&port, 4);
    raw_ab(&port, &mut raw, 4);

    let mut rows: Vec<Row> = vec![
        (
            "1 MiB ArrayBuffer transferred",
            "MiB/s",
            vec![],
            vec![],
            true,
        ),
        ("16-byte messages one way", "msgs/s", vec![], vec![], true),
        ("16-byte round trip p50", "us", vec![], vec![], false),
    ];
    for _ in 0..runs {
        rows[0].2.push(ours_ab(&port, AB_COUNT));
        rows[0].3.push(raw_ab(&port, &mut raw, AB_COUNT));
        rows[1].2.push(ours_small(&port, SMALL_COUNT));
        rows[1].3.push(raw_small(&port, &mut raw, SMALL_COUNT));
        rows[2].2.push(ours_rtt(&port, RTT_COUNT));
        rows[2].3.push(raw_rtt(&port, &mut raw, RTT_COUNT));
    }
    port.post_message("exit", &[]).unwrap();
    let _ = child.wait();

    println!("\nwebmessaging-ipc transport, two processes, medians of {runs} interleaved runs");
    println!(
        "{:<32} {:>14} {:>14} {:>8}",
        "row", "ours", "raw socket", "ratio"
    );
    for (name, unit, ours, raw, higher_is_better) in rows {
        let (o, r) = (median(ours), median(raw));
        let ratio = if higher_is_better { o / r } else { r / o };
        println!(
            "{:<32} {:>9.1} {unit:<4} {:>9.1} {unit:<4} {:>7.2}x",
            name, o, r, ratio
        );
    }
    println!(
        "(ratio: ours over raw for rates, raw over ours for latency; above 1 means ours is better)"
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn spawn_child() -> (MessagePort, UnixStream, Child) {
    let (port, theirs) = MessageChannel::new().into_ports();
    let fd = export_fd(&theirs).unwrap();
    let (raw_here, raw_there) = UnixStream::pair().unwrap();
    let (a, b): (RawFd, RawFd) = (fd.as_raw_fd(), raw_there.as_raw_fd());
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.env("WM_BENCH_ROLE", "child")
        .env("WM_BENCH_PORT", a.to_string())
        .env("WM_BENCH_RAW", b.to_string());
    // SAFETY: only fcntl between fork and exec, on descriptors we own.
    unsafe {
        cmd.pre_exec(move || {
            for raw in [a, b] {
                let fd = std::os::fd::BorrowedFd::borrow_raw(raw);
                rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::empty())?;
            }
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    drop(fd);
    drop(raw_there);
    (port, raw_here, child)
}

fn env_fd(name: &str) -> OwnedFd {
    let n: RawFd = std::env::var(name).unwrap().parse().unwrap();
    // SAFETY: the parent passed this descriptor number to us and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(n) }
}

fn child() {
    let port = import_fd(env_fd("WM_BENCH_PORT")).unwrap();
    let mut raw = UnixStream::from(env_fd("WM_BENCH_RAW"));
    loop {
        let m = port.recv(WAIT).unwrap();
        let text = String::from_utf8_lossy(&m.data).to_string();
        let mut words = text.split(' ');
        let verb = words.next().unwrap_or("");
        let n: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
        match verb {
            "ab" => {
                let mut total = 0;
                for _ in 0..n {
                    let m = port.recv(WAIT).unwrap();
                    total += m.array_buffers[0].len();
                }
                assert_eq!(total, n * MIB);
                port.post_message("done", &[]).unwrap();
            }
            "raw_ab" => {
                for _ in 0..n {
                    // A fresh buffer per message, as a received ArrayBuffer is.
                    let mut buf = vec![0u8; MIB];
                    raw.read_exact(&mut buf).unwrap();
                    std::hint::black_box(&buf);
                }
                raw.write_all(b"d").unwrap();
            }
            "small" => {
                for _ in 0..n {
                    port.recv(WAIT).unwrap();
                }
                port.post_message("done", &[]).unwrap();
            }
            "raw_small" => {
                let mut buf = vec![0u8; 64 << 10];
                let mut left = n * 16;
                while left > 0 {
                    let k = raw.read(&mut buf[..left.min(64 << 10)]).unwrap();
                    assert!(k > 0);
                    left -= k;
                }
                raw.write_all(b"d").unwrap();
            }
            "echo" => {
                for _ in 0..n {
                    let m = port.recv(WAIT).unwrap();
                    port.post_message(m.data, &[]).unwrap();
                }
            }
            "raw_echo" => {
                let mut b = [0u8; 16];
                for _ in 0..n {
                    raw.read_exact(&mut b).unwrap();
                    raw.write_all(&b).unwrap();
                }
            }
            "exit" => std::process::exit(0),
            other => panic!("bench child: {other}"),
        }
    }
}

fn ours_ab(port: &MessagePort, n: usize) -> f64 {
    // The buffers exist before the clock starts, as a program's ArrayBuffers do.
    let buffers: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; MIB]).collect();
    port.post_message(format!("ab {n}").as_str(), &[]).unwrap();
    let t = Instant::now();
    for b in buffers {
        port.post_message(
            Payload {
                data: b"ab".to_vec(),
                array_buffers: vec![b.into()],
            },
            &[],
        )
        .unwrap();
    }
    assert_eq!(port.recv(WAIT).unwrap().data, b"done");
    n as f64 / t.elapsed().as_secs_f64()
}

fn raw_ab(port: &MessagePort, raw: &mut UnixStream, n: usize) -> f64 {
    let buf = vec![7u8; MIB];
    port.post_message(format!("raw_ab {n}").as_str(), &[])
        .unwrap();
    let t = Instant::now();
    for _ in 0..n {
        raw.write_all(&buf).unwrap();
    }
    let mut d = [0u8; 1];
    raw.read_exact(&mut d).unwrap();
    n as f64 / t.elapsed().as_secs_f64()
}

fn ours_small(port: &MessagePort, n: usize) -> f64 {
    port.post_message(format!("small {n}").as_str(), &[])
        .unwrap();
    let t = Instant::now();
    for i in 0..n {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&(i as u64).to_le_bytes());
        port.post_message(&b[..], &[]).unwrap();
    }
    assert_eq!(port.recv(WAIT).unwrap().data, b"done");
    n as f64 / t.elapsed().as_secs_f64()
}

fn raw_small(port: &MessagePort, raw: &mut UnixStream, n: usize) -> f64 {
    port.post_message(format!("raw_small {n}").as_str(), &[])
        .unwrap();
    let t = Instant::now();
    for i in 0..n {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&(i as u64).to_le_bytes());
        raw.write_all(&b).unwrap();
    }
    let mut d = [0u8; 1];
    raw.read_exact(&mut d).unwrap();
    n as f64 / t.elapsed().as_secs_f64()
}

fn p50(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1e6
}

fn ours_rtt(port: &MessagePort, n: usize) -> f64 {
    port.post_message(format!("echo {n}").as_str(), &[])
        .unwrap();
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        port.post_message(&[1u8; 16][..], &[]).unwrap();
        port.recv(WAIT).unwrap();
        samples.push(t.elapsed());
    }
    p50(samples)
}

fn raw_rtt(port: &MessagePort, raw: &mut UnixStream, n: usize) -> f64 {
    port.post_message(format!("raw_echo {n}").as_str(), &[])
        .unwrap();
    let mut samples = Vec::with_capacity(n);
    let mut b = [1u8; 16];
    for _ in 0..n {
        let t = Instant::now();
        raw.write_all(&b).unwrap();
        raw.read_exact(&mut b).unwrap();
        samples.push(t.elapsed());
    }
    p50(samples)
}
