//! Cross-process ports between this process and child processes: order both ways, large
//! messages and ArrayBuffers (inline and memfd), close, drop and SIGKILL of the peer.

mod transport_util;

use std::time::Duration;

use transport_util::*;
use webmessaging_core::{CloseReason, Error, MessagePort, Payload};

/// Runs a child role when this binary was started as a child (see `transport_util`).
#[test]
fn child_main() {
    let Some((role, port)) = child_port() else {
        return;
    };
    let n = env_usize("WM_N", 0) as u64;
    match role.as_str() {
        "echo" => echo(&port),
        "send_close" => {
            for i in 0..n {
                port.post_message(seq(i), &[]).unwrap();
            }
            port.close();
        }
        "send_drop" => {
            for i in 0..n {
                port.post_message(seq(i), &[]).unwrap();
            }
            drop(port);
        }
        "send_hang" => {
            for i in 0..n {
                port.post_message(seq(i), &[]).unwrap();
            }
            assert!(webmessaging_ipc::flush(Some(WAIT)));
            println!("ready");
            std::thread::sleep(Duration::from_secs(600));
        }
        "emfile" => {
            // Out of descriptors: export_fd says so by name, and works again once some are freed.
            use rustix::process::{getrlimit, setrlimit, Resource};
            let mut lim = getrlimit(Resource::Nofile);
            lim.current = Some(fd_count() as u64 + 8);
            setrlimit(Resource::Nofile, lim).unwrap();
            let mut kept = Vec::new();
            let err = loop {
                let (p, _q) = webmessaging_core::MessageChannel::new().into_ports();
                match webmessaging_ipc::export_fd(&p) {
                    Ok(fd) => kept.push(fd),
                    Err(e) => break e,
                }
                assert!(kept.len() < 100, "the limit did not bite");
            };
            assert_eq!(
                err.kind(),
                webmessaging_ipc::ErrorKind::DescriptorLimit,
                "{err}"
            );
            assert!(err.raw_os_error().is_some());
            drop(kept);
            assert!(webmessaging_ipc::flush(Some(WAIT)));
            let (p, _q) = webmessaging_core::MessageChannel::new().into_ports();
            webmessaging_ipc::export_fd(&p).unwrap();
            port.post_message("ok", &[]).unwrap();
        }
        "starved" => {
            // Only a few of the next message's descriptors will fit under the new limit.
            use rustix::process::{getrlimit, setrlimit, Resource};
            let mut lim = getrlimit(Resource::Nofile);
            lim.current = Some(fd_count() as u64 + 2);
            setrlimit(Resource::Nofile, lim).unwrap();
            port.post_message("ready", &[]).unwrap();
            let m = recv(&port);
            assert_eq!(m.data, b"ports");
            let (mut alive, mut lost) = (0, 0);
            for p in &m.ports {
                match p.try_recv() {
                    Err(Error::Closed(n)) if n.reason == CloseReason::Lost => lost += 1,
                    Ok(None) => {
                        p.post_message("hi", &[]).unwrap();
                        alive += 1;
                    }
                    other => panic!("{other:?}"),
                }
            }
            port.post_message(format!("{alive} {lost}").as_str(), &[])
                .unwrap();
            // Keep the ports until the parent has counted.
            let _ = port.recv(Some(WAIT));
        }
        other => panic!("unknown role {other}"),
    }
    std::process::exit(0);
}

/// Posts back every message (data, ArrayBuffers and ports) until the port closes.
fn echo(port: &MessagePort) {
    loop {
        match port.recv(Some(WAIT)) {
            Ok(m) => port
                .post_message(
                    Payload {
                        data: m.data,
                        array_buffers: m.array_buffers,
                    },
                    &m.ports,
                )
                .unwrap(),
            Err(Error::Closed(_)) => return,
            Err(e) => panic!("echo: {e:?}"),
        }
    }
}

#[test]
fn messages_both_ways_in_order() {
    let mut peer = spawn_peer("echo", &[]);
    let n = 10_000u64;
    for i in 0..n {
        peer.port.post_message(seq(i), &[]).unwrap();
    }
    for i in 0..n {
        assert_eq!(seq_of(&recv(&peer.port)), i);
    }
    peer.port.close();
    assert!(peer.wait_exit().success());
}

#[test]
fn large_messages_and_array_buffers() {
    let mut peer = spawn_peer("echo", &[]);
    let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
    let small: Vec<u8> = (0..1000).map(|i: u32| (i % 13) as u8).collect();
    let mid: Vec<u8> = vec![9; 64 << 10];
    peer.port.post_message(big.clone(), &[]).unwrap();
    peer.port
        .post_message(
            Payload {
                data: b"buffers".to_vec(),
                array_buffers: vec![
                    small.clone().into(),
                    big.clone().into(),
                    Vec::new().into(),
                    mid.clone().into(),
                ],
            },
            &[],
        )
        .unwrap();
    // A 10 MiB value: inline data would pass the frame's inline budget, so it goes in a memfd.
    let huge = vec![0x5a; 10 << 20];
    peer.port.post_message(huge.clone(), &[]).unwrap();
    assert_eq!(recv(&peer.port).data, big);
    let m = recv(&peer.port);
    assert_eq!(m.data, b"buffers");
    assert_eq!(m.array_buffers, vec![small, big, Vec::new(), mid]);
    assert_eq!(recv(&peer.port).data, huge);
    peer.port.close();
    assert!(peer.wait_exit().success());
}

fn stream_then(role: &str, reason: CloseReason) {
    let n = 2000;
    let mut peer = spawn_peer(role, &[("WM_N", n.to_string())]);
    let (msgs, notice) = recv_all(&peer.port);
    let seqs: Vec<u64> = msgs.iter().map(seq_of).collect();
    assert_eq!(seqs, (0..n as u64).collect::<Vec<_>>());
    assert_eq!(notice, closed_by_peer(reason));
    assert!(peer.wait_exit().success());
}

#[test]
fn n_messages_then_close() {
    stream_then("send_close", CloseReason::Closed);
}

#[test]
fn n_messages_then_drop() {
    stream_then("send_drop", CloseReason::Dropped);
}

#[test]
fn sigkill_after_n_messages_is_lost_after_them() {
    let n = 2000u64;
    let mut peer = spawn_peer("send_hang", &[("WM_N", n.to_string())]);
    assert_eq!(peer.line(), "ready");
    peer.child.kill().unwrap();
    let (msgs, notice) = recv_all(&peer.port);
    assert_eq!(
        msgs.iter().map(seq_of).collect::<Vec<_>>(),
        (0..n).collect::<Vec<_>>()
    );
    assert_eq!(notice, closed_by_peer(CloseReason::Lost));
}

#[test]
fn closing_here_reaches_the_child_and_ends_it() {
    // The echo child returns once its port reports the close; its exit proves the notice
    // crossed. Messages posted before close arrive first (the child echoes them into a port
    // that is closed here, where they are dropped, as in-process).
    let mut peer = spawn_peer("echo", &[]);
    for i in 0..100 {
        peer.port.post_message(seq(i), &[]).unwrap();
    }
    peer.port.close();
    assert!(peer.wait_exit().success());
}

#[test]
fn running_out_of_descriptors_is_a_named_error() {
    let mut peer = spawn_peer("emfile", &[]);
    assert_eq!(recv(&peer.port).data, b"ok");
    assert!(peer.wait_exit().success());
}

#[test]
fn many_threads_posting_on_one_cross_process_port_keep_each_threads_order() {
    // Posting threads race each other and the transport's thread for the bridge (the direct
    // path); every message must cross once, each thread's in its own order.
    let mut peer = spawn_peer("echo", &[]);
    let (threads, per) = (4u64, 20_000u64);
    let posters: Vec<_> = (0..threads)
        .map(|t| {
            let port = peer.port.clone();
            std::thread::spawn(move || {
                for i in 0..per {
                    port.post_message(seq(t << 32 | i), &[]).unwrap();
                }
            })
        })
        .collect();
    let mut next = vec![0u64; threads as usize];
    for _ in 0..threads * per {
        let s = seq_of(&recv(&peer.port));
        let (t, i) = ((s >> 32) as usize, s & 0xffff_ffff);
        assert_eq!(i, next[t], "thread {t}");
        next[t] += 1;
    }
    for p in posters {
        p.join().unwrap();
    }
    assert!(next.iter().all(|&n| n == per));
    peer.port.close();
    assert!(peer.wait_exit().success());
}

#[test]
fn a_port_whose_descriptor_cannot_be_received_is_lost_alone() {
    let mut peer = spawn_peer("starved", &[]);
    assert_eq!(recv(&peer.port).data, b"ready");
    let (mine, theirs): (Vec<MessagePort>, Vec<MessagePort>) = (0..8)
        .map(|_| webmessaging_core::MessageChannel::new().into_ports())
        .unzip();
    peer.port.post_message("ports", &theirs).unwrap();
    let report = String::from_utf8(recv(&peer.port).data).unwrap();
    let (alive, lost): (usize, usize) = {
        let mut w = report.split(' ').map(|n| n.parse().unwrap());
        (w.next().unwrap(), w.next().unwrap())
    };
    assert_eq!(alive + lost, 8, "{report}");
    assert!(
        alive >= 1 && lost >= 1,
        "the limit should cut some off: {report}"
    );
    let (mut hi, mut gone) = (0, 0);
    for p in &mine {
        match p.recv(Some(WAIT)) {
            Ok(m) => {
                assert_eq!(m.data, b"hi");
                hi += 1;
            }
            Err(Error::Closed(n)) => {
                assert_eq!(n.reason, CloseReason::Lost);
                gone += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!((hi, gone), (alive, lost));
    // The connection that carried them is fine.
    peer.port.post_message("done", &[]).unwrap();
    assert!(peer.wait_exit().success());
}

#[test]
fn a_notifier_that_panics_on_the_transport_thread_costs_only_that_notification() {
    use std::sync::Arc;
    // Both ends in this process: export, then import here.
    let (a, b) = webmessaging_core::MessageChannel::new().into_ports();
    let b = webmessaging_ipc::import_fd(webmessaging_ipc::export_fd(&b).unwrap()).unwrap();
    b.set_onmessage(Some(Arc::new(|| panic!("a notifier that panics"))));
    a.post_message("x", &[]).unwrap();
    assert_eq!(recv(&b).data, b"x");
    // The transport's thread lives on: another cross-process pair works.
    let (c, d) = webmessaging_core::MessageChannel::new().into_ports();
    let d = webmessaging_ipc::import_fd(webmessaging_ipc::export_fd(&d).unwrap()).unwrap();
    c.post_message("y", &[]).unwrap();
    assert_eq!(recv(&d).data, b"y");
    let why = webmessaging_ipc::diagnostics()
        .last_protocol_error
        .unwrap_or_default();
    assert!(why.contains("notifier panicked"), "{why}");
    // Dropping b would fire its notifier here, with its own close notice.
    b.set_notifier(None);
}
