//! Ports that travel between processes inside messages: to a second child, back to the process
//! holding their peer, along a chain, through a relay that exits at once — while their peer
//! streams. Nothing may be lost, duplicated or reordered.

mod transport_util;

use transport_util::*;
use webmessaging_core::{CloseReason, Error, MessageChannel, MessagePort};

/// A command for an agent child: text, then `\n`, then binary arguments.
fn cmd(text: &str, bin: &[u8]) -> Vec<u8> {
    let mut v = text.as_bytes().to_vec();
    v.push(b'\n');
    v.extend_from_slice(bin);
    v
}

fn split(data: &[u8]) -> (&str, &[u8]) {
    let nl = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    (
        std::str::from_utf8(&data[..nl]).unwrap(),
        data.get(nl + 1..).unwrap_or(&[]),
    )
}

fn seqs_bytes(seqs: &[u64]) -> Vec<u8> {
    seqs.iter().flat_map(|s| s.to_le_bytes()).collect()
}

fn bytes_seqs(b: &[u8]) -> Vec<u64> {
    b.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Everything from `p` until its close: the seqs and the close reason's name.
fn drain(p: &MessagePort) -> (Vec<u64>, &'static str) {
    let (msgs, notice) = recv_all(p);
    assert!(notice.by_peer);
    (msgs.iter().map(seq_of).collect(), notice.reason.name())
}

/// The agent: serves commands on its parent port until `exit` or the port closes.
#[test]
fn child_main() {
    let Some((_role, parent)) = child_port() else {
        return;
    };
    loop {
        let m = match parent.recv(Some(WAIT)) {
            Ok(m) => m,
            Err(Error::Closed(_)) => break,
            Err(e) => panic!("agent: {e:?}"),
        };
        let (text, bin) = split(&m.data);
        let mut words = text.split(' ');
        let verb = words.next().unwrap_or("");
        let arg: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
        let mut ports = m.ports.into_iter();
        match verb {
            "stream" | "stream_ack" => {
                let p = ports.next().unwrap();
                if verb == "stream_ack" {
                    parent.post_message(cmd("started", &[]), &[]).unwrap();
                }
                for i in 0..arg {
                    p.post_message(seq(i), &[]).unwrap();
                }
                p.close();
                parent.post_message(cmd("streamed", &[]), &[]).unwrap();
            }
            "collect" => {
                let p = ports.next().unwrap();
                let seqs: Vec<u64> = (0..arg).map(|_| seq_of(&recv(&p))).collect();
                parent
                    .post_message(cmd("handoff", &seqs_bytes(&seqs)), &[p])
                    .unwrap();
            }
            "drain" => {
                let p = ports.next().unwrap();
                let (seqs, reason) = drain(&p);
                parent
                    .post_message(cmd(&format!("drained {reason}"), &seqs_bytes(&seqs)), &[])
                    .unwrap();
            }
            "via" => {
                // A port arrives on `q`; drain it.
                let q = ports.next().unwrap();
                let p = recv(&q).ports.remove(0);
                let (seqs, reason) = drain(&p);
                parent
                    .post_message(cmd(&format!("drained {reason}"), &seqs_bytes(&seqs)), &[])
                    .unwrap();
            }
            "relay" => {
                // Pass `p` on over `q`, then exit at once.
                let (p, q) = (ports.next().unwrap(), ports.next().unwrap());
                q.post_message(cmd("take", &[]), &[p]).unwrap();
                std::process::exit(0);
            }
            "forward" => {
                // Pass `p` on over `q` and stay.
                let (p, q) = (ports.next().unwrap(), ports.next().unwrap());
                q.post_message(cmd("take", &[]), &[p]).unwrap();
            }
            "exit" => break,
            other => panic!("agent: unknown command {other:?} ({bin:?})"),
        }
    }
    std::process::exit(0);
}

fn agent() -> Peer {
    spawn_peer("agent", &[])
}

fn expect(peer: &Peer, verb: &str) -> (String, Vec<u64>, Vec<MessagePort>) {
    let m = recv(&peer.port);
    let (text, bin) = split(&m.data);
    assert!(text.starts_with(verb), "expected {verb}, got {text}");
    (text.to_string(), bytes_seqs(bin), m.ports)
}

fn finish(mut peers: Vec<Peer>) {
    for p in &peers {
        let _ = p.port.post_message(cmd("exit", &[]), &[]);
    }
    for p in &mut peers {
        assert!(p.wait_exit().success());
    }
}

const N: u64 = 20_000;
const K: u64 = 5_000;

#[test]
fn port_moves_to_a_second_child_and_back_while_its_peer_streams() {
    let (streamer, collector) = (agent(), agent());
    let (m1, m2) = MessageChannel::new().into_ports();
    streamer
        .port
        .post_message(cmd(&format!("stream {N}"), &[]), &[m2])
        .unwrap();
    collector
        .port
        .post_message(cmd(&format!("collect {K}"), &[]), &[m1])
        .unwrap();
    let (_, mut seqs, mut ports) = expect(&collector, "handoff");
    let p = ports.remove(0);
    let (rest, reason) = drain(&p);
    seqs.extend(rest);
    assert_eq!(seqs, (0..N).collect::<Vec<_>>());
    assert_eq!(reason, "closed");
    expect(&streamer, "streamed");
    finish(vec![streamer, collector]);
}

#[test]
fn port_goes_back_to_the_process_holding_its_peer() {
    let collector = agent();
    let (m1, m2) = MessageChannel::new().into_ports();
    let sender = std::thread::spawn(move || {
        for i in 0..N {
            m2.post_message(seq(i), &[]).unwrap();
        }
        m2
    });
    collector
        .port
        .post_message(cmd(&format!("collect {K}"), &[]), &[m1])
        .unwrap();
    let (_, mut seqs, mut ports) = expect(&collector, "handoff");
    let m1 = ports.remove(0);
    let m2 = sender.join().unwrap();
    for _ in K..N {
        seqs.push(seq_of(&recv(&m1)));
    }
    assert_eq!(seqs, (0..N).collect::<Vec<_>>());
    // Both directions still work, and close crosses.
    m1.post_message(seq(7), &[]).unwrap();
    assert_eq!(seq_of(&recv(&m2)), 7);
    m2.close();
    assert!(
        matches!(m1.recv(Some(WAIT)), Err(Error::Closed(n)) if n.reason == CloseReason::Closed && n.by_peer)
    );
    finish(vec![collector]);
}

#[test]
fn port_moves_along_a_chain_while_its_peer_streams() {
    // streamer -> (m2) ; m1: here -> a (collect) -> here -> b (collect) -> here
    let (streamer, a, b) = (agent(), agent(), agent());
    let (m1, m2) = MessageChannel::new().into_ports();
    streamer
        .port
        .post_message(cmd(&format!("stream {N}"), &[]), &[m2])
        .unwrap();
    let mut seqs = Vec::new();
    let mut p = m1;
    for hop in [&a, &b, &a] {
        hop.port
            .post_message(cmd(&format!("collect {K}"), &[]), &[p])
            .unwrap();
        let (_, s, mut ports) = expect(hop, "handoff");
        seqs.extend(s);
        p = ports.remove(0);
    }
    let (rest, reason) = drain(&p);
    seqs.extend(rest);
    assert_eq!(seqs, (0..N).collect::<Vec<_>>());
    assert_eq!(reason, "closed");
    finish(vec![streamer, a, b]);
}

#[test]
fn a_relay_that_exits_right_after_passing_a_port_on_breaks_nothing() {
    // The streamer's port goes to the relay, which hands it straight to the sink over a port
    // whose peer lives in the sink, and exits. The sink drains everything.
    let (streamer, mut relay, sink) = (agent(), agent(), agent());
    let (m1, m2) = MessageChannel::new().into_ports();
    let (q, q_sink) = MessageChannel::new().into_ports();
    sink.port.post_message(cmd("via", &[]), &[q_sink]).unwrap();
    relay
        .port
        .post_message(cmd("relay", &[]), &[m1, q])
        .unwrap();
    assert!(relay.wait_exit().success());
    streamer
        .port
        .post_message(cmd(&format!("stream {N}"), &[]), &[m2])
        .unwrap();
    let (text, seqs, _) = expect(&sink, "drained");
    assert_eq!(text, "drained closed");
    assert_eq!(seqs, (0..N).collect::<Vec<_>>());
    expect(&streamer, "streamed");
    finish(vec![streamer, sink]);
}

#[test]
fn a_port_with_a_backlog_moves_between_children_with_the_backlog_first() {
    // m2's messages wait in m1's queue here before m1 moves; then more arrive while it travels
    // from one child to the next (the second hand-over carries the backlog the first read).
    let (a, b) = (agent(), agent());
    let (m1, m2) = MessageChannel::new().into_ports();
    for i in 0..K {
        m2.post_message(seq(i), &[]).unwrap();
    }
    let (q, q_b) = MessageChannel::new().into_ports();
    b.port.post_message(cmd("via", &[]), &[q_b]).unwrap();
    a.port.post_message(cmd("forward", &[]), &[m1, q]).unwrap();
    for i in K..N {
        m2.post_message(seq(i), &[]).unwrap();
    }
    m2.close();
    let (text, seqs, _) = expect(&b, "drained");
    assert_eq!(text, "drained closed");
    assert_eq!(seqs, (0..N).collect::<Vec<_>>());
    finish(vec![a, b]);
}

#[test]
fn killing_either_end_of_a_stream_at_random_moments_never_hangs_or_loses_a_prefix() {
    // Each round: a streamer child sends on a port whose peer a drainer child holds; one of the
    // two is SIGKILLed at a random moment. The survivor must end: a drainer gets a gap-free
    // prefix of the stream then `lost` (or everything then `closed` if the streamer finished
    // first); a streamer finishes its posts, which go nowhere, without blocking.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let rounds = env_usize("WM_IPC_KILL_ROUNDS", 8);
    for round in 0..rounds {
        let (mut streamer, mut drainer) = (agent(), agent());
        let (m1, m2) = MessageChannel::new().into_ports();
        drainer.port.post_message(cmd("drain", &[]), &[m1]).unwrap();
        streamer
            .port
            .post_message(cmd(&format!("stream_ack {}", 200_000), &[]), &[m2])
            .unwrap();
        expect(&streamer, "started");
        std::thread::sleep(std::time::Duration::from_micros(rand(30_000)));
        if rand(2) == 0 {
            streamer.child.kill().unwrap();
            let (text, seqs, _) = expect(&drainer, "drained");
            assert!(
                text == "drained lost" || (text == "drained closed" && seqs.len() == 200_000),
                "round {round}: {text} after {}",
                seqs.len()
            );
            assert_eq!(
                seqs,
                (0..seqs.len() as u64).collect::<Vec<_>>(),
                "round {round}"
            );
            eprintln!(
                "round {round}: streamer killed; drainer got {} then {text}",
                seqs.len()
            );
            finish(vec![drainer]);
        } else {
            drainer.child.kill().unwrap();
            expect(&streamer, "streamed");
            eprintln!("round {round}: drainer killed; streamer finished");
            // The drainer's own port here learns it is gone.
            match drainer.port.recv(Some(WAIT)) {
                Err(Error::Closed(n)) => assert_eq!(n.reason, CloseReason::Lost),
                Ok(m) => assert!(split(&m.data).0.starts_with("drained")),
                Err(e) => panic!("round {round}: {e:?}"),
            }
            finish(vec![streamer]);
        }
    }
}

#[test]
fn a_backlog_holding_ports_and_a_memfd_buffer_moves_with_its_port_twice() {
    // a1 goes out and back, so here it is a bridged port. Then a message carrying port c (whose
    // own peer lives behind another socket) and a 100 KiB buffer (a memfd) waits unread in a1's
    // queue while a1 goes out and back again: the backlog, its port and that port's backlog
    // must all come back intact, in order.
    let q = agent();
    let round_trip = |p: MessagePort| {
        q.port.post_message(cmd("collect 0", &[]), &[p]).unwrap();
        let (_, seqs, mut ports) = expect(&q, "handoff");
        assert!(seqs.is_empty());
        ports.remove(0)
    };
    let (a1, a2) = MessageChannel::new().into_ports();
    let a1 = round_trip(a1);
    let (b1, b2) = MessageChannel::new().into_ports();
    b2.post_message("inner", &[]).unwrap();
    let buffer: Vec<u8> = (0..100 << 10).map(|i: u32| (i % 251) as u8).collect();
    a2.post_message(
        webmessaging_core::Payload {
            data: b"outer".to_vec(),
            array_buffers: vec![buffer.clone().into()],
        },
        &[b1],
    )
    .unwrap();
    a2.post_message("after", &[]).unwrap();
    // Let the message reach a1's queue here before a1 moves (it must travel as backlog).
    let deadline = std::time::Instant::now() + WAIT;
    while a1.metrics().depth < 2 {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let a1 = round_trip(a1);
    let outer = recv(&a1);
    assert_eq!(outer.data, b"outer");
    assert_eq!(outer.array_buffers, vec![buffer]);
    assert_eq!(recv(&a1).data, b"after");
    let c = outer.ports.into_iter().next().unwrap();
    assert_eq!(recv(&c).data, b"inner");
    c.post_message("back", &[]).unwrap();
    assert_eq!(recv(&b2).data, b"back");
    a1.post_message("to a2", &[]).unwrap();
    assert_eq!(recv(&a2).data, b"to a2");
    b2.close();
    assert!(matches!(c.recv(Some(WAIT)), Err(Error::Closed(n)) if n.reason == CloseReason::Closed));
    finish(vec![q]);
}
