//! Rust-core side of `make bench-c`: the same workloads as `tests/c/bench/bench_c.c`, on
//! `webmessaging_core` directly, so the C ABI's overhead shows as a ratio measured in one run.
//! Prints `throughput_msgs_per_s N`, `same_thread_ns_per_msg N`, `same_thread_best_ns_per_msg N`
//! and `pingpong_p50_ns N`.

use std::thread;
use std::time::Instant;

use webmessaging_core::MessageChannel;

/// The canonical wire bytes of the number 42 (a small message), as the C bench posts.
const MSG: [u8; 4] = [0xff, 0x0f, 0x49, 0x54];

/// CPU time of the calling thread, as the C bench measures the same-thread row: the work of the
/// calls, without the preemptions of a loaded machine.
fn cpu_ns() -> i64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a live timespec to write.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec * 1_000_000_000 + t.tv_nsec
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let rounds: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);

    let (a, b) = MessageChannel::new().into_ports();
    let start = Instant::now();
    let consumer = thread::spawn(move || {
        for _ in 0..n {
            drop(b.recv(None).expect("recv"));
        }
    });
    for _ in 0..n {
        a.post_message(&MSG[..], &[]).expect("post");
    }
    consumer.join().expect("consumer");
    println!(
        "throughput_msgs_per_s {:.0}",
        n as f64 / start.elapsed().as_secs_f64()
    );

    let (a, b) = MessageChannel::new().into_ports();
    let start = cpu_ns();
    for _ in 0..n {
        a.post_message(&MSG[..], &[]).expect("post");
        drop(b.try_recv().expect("recv").expect("a message"));
    }
    println!(
        "same_thread_ns_per_msg {:.1}",
        (cpu_ns() - start) as f64 / n as f64
    );
    // The same loop in 20 chunks, the fastest reported (as the C bench does).
    let chunk = (n / 20).max(1);
    let best = (0..20)
        .map(|_| {
            let start = cpu_ns();
            for _ in 0..chunk {
                a.post_message(&MSG[..], &[]).expect("post");
                drop(b.try_recv().expect("recv").expect("a message"));
            }
            (cpu_ns() - start) as f64 / chunk as f64
        })
        .fold(f64::INFINITY, f64::min);
    println!("same_thread_best_ns_per_msg {best:.1}");

    let (a, b) = MessageChannel::new().into_ports();
    let echo = thread::spawn(move || {
        for _ in 0..rounds {
            drop(b.recv(None).expect("recv"));
            b.post_message(&MSG[..], &[]).expect("post");
        }
    });
    let mut rtt = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t0 = Instant::now();
        a.post_message(&MSG[..], &[]).expect("post");
        drop(a.recv(None).expect("recv"));
        rtt.push(t0.elapsed().as_nanos());
    }
    echo.join().expect("echo");
    rtt.sort_unstable();
    println!("pingpong_p50_ns {}", rtt[rounds / 2]);
}
