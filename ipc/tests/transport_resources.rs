//! Descriptors stay bounded: many ports transferred one after another between two processes
//! leave both processes' descriptor counts where they started, and 10,000 cross-process ports
//! can be alive at once.
//!
//! `WM_IPC_TRANSFERS` sets how many sequential transfers the first test makes (default 100,000,
//! the figure: about 11 s here; set it lower on a slow machine). The tests here share
//! the process's descriptor table, so they run one at a time.

mod transport_util;

use std::time::{Duration, Instant};

use parking_lot::Mutex;
use transport_util::*;
use webmessaging_core::{CloseReason, Error, MessageChannel, MessagePort};
use webmessaging_ipc::diagnostics;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Echoes every message with its ports; answers `fds` with its descriptor count; `hold` keeps
/// the ports it gets and says `hi` through each.
#[test]
fn child_main() {
    let Some((_role, parent)) = child_port() else {
        return;
    };
    let mut held: Vec<MessagePort> = Vec::new();
    loop {
        let m = match parent.recv(Some(WAIT)) {
            Ok(m) => m,
            Err(Error::Closed(_)) => break,
            Err(e) => panic!("child: {e:?}"),
        };
        match m.data.as_slice() {
            b"fds" => {
                // Let every retired socket close first.
                wait_until(|| diagnostics().live_bridges == 1);
                parent
                    .post_message(fd_count().to_string().into_bytes(), &[])
                    .unwrap();
            }
            b"hold" => {
                for p in m.ports {
                    p.post_message("hi", &[]).unwrap();
                    held.push(p);
                }
            }
            b"exit" => break,
            _ => parent.post_message(m.data, &m.ports).unwrap(),
        }
    }
    std::process::exit(0);
}

fn wait_until(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

/// This process's resident memory.
fn rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib << 10
}

fn child_fds(peer: &Peer) -> usize {
    peer.port.post_message("fds", &[]).unwrap();
    String::from_utf8(recv(&peer.port).data)
        .unwrap()
        .parse()
        .unwrap()
}

/// One round trip of a fresh port through the child: out, back, used, dropped.
fn transfer_once(peer: &Peer, i: u64) {
    let (a, b) = MessageChannel::new().into_ports();
    peer.port.post_message("port", &[a]).unwrap();
    let a = recv(&peer.port).ports.remove(0);
    a.post_message(seq(i), &[]).unwrap();
    assert_eq!(seq_of(&recv(&b)), i);
    drop(a);
    drop(b);
}

#[test]
fn descriptor_counts_stay_flat_over_many_sequential_transfers() {
    let _one = ONE_AT_A_TIME.lock();
    let mut peer = spawn_peer("echo", &[]);
    transfer_once(&peer, 0);
    assert!(wait_until(|| diagnostics().live_bridges == 1));
    let (here, there) = (fd_count(), child_fds(&peer));
    let n = env_usize("WM_IPC_TRANSFERS", 100_000) as u64;
    let started = Instant::now();
    for i in 1..=n {
        transfer_once(&peer, i);
    }
    let took = started.elapsed();
    assert!(
        wait_until(|| diagnostics().live_bridges == 1 && fd_count() == here),
        "descriptors here: {here} before, {} after {n} transfers ({} live bridges)",
        fd_count(),
        diagnostics().live_bridges
    );
    assert_eq!(child_fds(&peer), there, "descriptors in the child");
    eprintln!(
        "{n} sequential transfers took {took:?}; descriptors flat ({here} here, {there} there)"
    );
    peer.port.post_message("exit", &[]).unwrap();
    assert!(peer.wait_exit().success());
}

#[test]
fn ten_thousand_live_cross_process_ports() {
    let _one = ONE_AT_A_TIME.lock();
    let n = env_usize("WM_IPC_LIVE_PORTS", 10_000);
    let mut peer = spawn_peer("hold", &[]);
    let mut mine = Vec::with_capacity(n);
    for chunk in 0..n.div_ceil(100) {
        let mut theirs = Vec::new();
        for _ in 0..100.min(n - chunk * 100) {
            let (a, b) = MessageChannel::new().into_ports();
            mine.push(a);
            theirs.push(b);
        }
        peer.port.post_message("hold", &theirs).unwrap();
    }
    for (i, p) in mine.iter().enumerate() {
        match p.recv(Some(WAIT)) {
            Ok(m) => assert_eq!(m.data, b"hi"),
            Err(e) => panic!("port {i}: {e:?}; {:?}", diagnostics()),
        }
    }
    assert!(diagnostics().live_bridges > n, "{:?}", diagnostics());
    // Idle bridges hold no read buffer: memory stays small with 10,000 of them.
    let rss = rss_bytes();
    assert!(rss < 512 << 20, "{n} live ports take {} MiB", rss >> 20);
    // All still work both ways, and the child's exit reaches every one of them as `Lost`.
    peer.port.post_message("exit", &[]).unwrap();
    assert!(peer.wait_exit().success());
    for p in &mine {
        match p.recv(Some(WAIT)) {
            Err(Error::Closed(n)) => assert_eq!(n.reason, CloseReason::Lost),
            other => panic!("{other:?}"),
        }
    }
    drop(mine);
    assert!(wait_until(|| diagnostics().live_bridges == 0));
}

#[test]
fn both_ends_closing_with_full_sockets_do_not_wait_on_each_other() {
    let _one = ONE_AT_A_TIME.lock();
    // Both ends of one socket pair in this process (export, then import here): each side
    // posts far more than the socket holds and closes without reading. Each bridge must still
    // finish (it reads and drops what comes while its own CLOSE waits to be written).
    let live = diagnostics().live_bridges;
    let (a, b) = MessageChannel::new().into_ports();
    let b = webmessaging_ipc::import_fd(webmessaging_ipc::export_fd(&b).unwrap()).unwrap();
    let chunk = vec![1u8; 32 << 10];
    for _ in 0..1000 {
        a.post_message(chunk.clone(), &[]).unwrap();
        b.post_message(chunk.clone(), &[]).unwrap();
    }
    a.close();
    b.close();
    assert!(
        wait_until(|| diagnostics().live_bridges == live),
        "{:?}",
        diagnostics()
    );
}
