//! Loom models of the post / close / transfer races on one channel. They check the real queue
//! and port code: every lock the core takes comes from `core/src/sync.rs`, which switches to
//! loom's primitives under `--cfg loom`. Run with `make test-loom`.
#![cfg(loom)]

use webmessaging_core::{CloseReason, Error, MessageChannel, MessagePort};

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

/// Everything queued, then the close record if there is one.
fn drain(port: &MessagePort) -> (Vec<Vec<u8>>, Option<webmessaging_core::CloseNotice>) {
    let mut data = Vec::new();
    loop {
        match port.try_recv() {
            Ok(Some(m)) => data.push(m.data),
            Ok(None) => return (data, None),
            Err(Error::Closed(n)) => return (data, Some(n)),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
}

/// A channel whose second port counts its notifier's calls.
fn counted_channel() -> (
    MessagePort,
    MessagePort,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let (a, b) = MessageChannel::new().into_ports();
    let fired = Arc::new(AtomicUsize::new(0));
    let counter = fired.clone();
    b.set_onmessage(Some(Arc::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    })));
    (a, b, fired)
}

#[test]
fn post_racing_close_delivers_a_prefix_then_one_close_record() {
    model(|| {
        let (a, b) = MessageChannel::new().into_ports();
        let b2 = b.clone();
        let poster = loom::thread::spawn(move || {
            a.post_message("1", &[]).unwrap();
            a.post_message("2", &[]).unwrap();
            a
        });
        let closer = loom::thread::spawn(move || b2.close());
        let a = poster.join().unwrap();
        closer.join().unwrap();
        let (got, end) = drain(&b);
        assert!(got.len() <= 2 && got.iter().zip([b"1", b"2"]).all(|(g, e)| g == e));
        assert_eq!(
            end.map(|n| (n.reason, n.by_peer)),
            Some((CloseReason::Closed, false))
        );
        let (none, peer_end) = drain(&a);
        assert!(none.is_empty());
        assert_eq!(peer_end.map(|n| n.by_peer), Some(true));
    });
}

#[test]
fn post_racing_transfer_loses_nothing() {
    model(|| {
        let (a, b) = MessageChannel::new().into_ports();
        let (c, d) = MessageChannel::new().into_ports();
        let poster = loom::thread::spawn(move || {
            a.post_message("1", &[]).unwrap();
            a.post_message("2", &[]).unwrap();
            a
        });
        let mover = loom::thread::spawn(move || c.post_message("", &[b]).unwrap());
        let _a = poster.join().unwrap();
        mover.join().unwrap();
        let moved = arrived_port(&d);
        let (got, end) = drain(&moved);
        assert_eq!(got, [b"1".to_vec(), b"2".to_vec()]);
        assert_eq!(end, None);
    });
}

#[test]
fn close_racing_transfer_gives_exactly_one_notice_at_the_new_owner() {
    model(|| {
        let (a, b) = MessageChannel::new().into_ports();
        let (c, d) = MessageChannel::new().into_ports();
        let closer = loom::thread::spawn(move || {
            a.post_message("last", &[]).unwrap();
            a.close();
        });
        let mover = loom::thread::spawn(move || c.post_message("", &[b]).unwrap());
        closer.join().unwrap();
        mover.join().unwrap();
        let moved = arrived_port(&d);
        let (got, end) = drain(&moved);
        assert_eq!(got, [b"last".to_vec()]);
        assert_eq!(
            end.map(|n| (n.reason, n.by_peer)),
            Some((CloseReason::Closed, true))
        );
        assert!(matches!(moved.try_recv(), Err(Error::Closed(_))));
    });
}

/// The lock-free post path: a post through one handle racing with the transfer of that very
/// port through another. Either the post came first (the peer gets it, before anything the new
/// owner sends) or it went nowhere; it is never lost halfway or delivered out of order.
#[test]
fn post_racing_the_transfer_of_its_own_port_is_ordered() {
    model(|| {
        let (a, b) = MessageChannel::new().into_ports();
        let (c, d) = MessageChannel::new().into_ports();
        let a2 = a.clone();
        let poster = loom::thread::spawn(move || a2.post_message("x", &[]).unwrap());
        let mover = loom::thread::spawn(move || c.post_message("", &[a]).unwrap());
        poster.join().unwrap();
        mover.join().unwrap();
        let moved = arrived_port(&d);
        moved.post_message("y", &[]).unwrap();
        let (got, end) = drain(&b);
        assert!(
            got == [b"x".to_vec(), b"y".to_vec()] || got == [b"y".to_vec()],
            "{got:?}"
        );
        assert_eq!(end, None);
        let m = moved.metrics();
        assert_eq!(m.posted - m.dropped, got.len() as u64);
    });
}

/// After a receive that may have emptied `b`'s queue while another thread posted `last` (the
/// poster joined): if it emptied it, the notifier fired again for `last`; `last` is what is left.
fn assert_announced_if_emptied(
    b: &MessagePort,
    fired: &std::sync::atomic::AtomicUsize,
    emptied: bool,
    last: &[u8],
) {
    if emptied {
        assert_eq!(
            fired.load(std::sync::atomic::Ordering::SeqCst),
            2,
            "{:?} arrived in an emptied queue unannounced",
            String::from_utf8_lossy(last)
        );
    }
    let (got, _) = drain(b);
    assert_eq!(got, [last.to_vec()]);
}

/// The port that `d` received (the first message waiting at `d` carries it).
fn arrived_port(d: &MessagePort) -> MessagePort {
    d.try_recv()
        .unwrap()
        .expect("the port arrived")
        .ports
        .remove(0)
}

/// Asserts that message "1" was received exactly once: in `early` (by the old handle, before the
/// move) or by the owner of the port that arrived on `d` after it.
fn assert_received_once(early: Vec<Vec<u8>>, d: &MessagePort) {
    let moved = arrived_port(d);
    let (late, _) = drain(&moved);
    let mut all = early;
    all.extend(late);
    assert_eq!(all, [b"1".to_vec()]);
}

/// The lock-free receive path: a receive through one handle racing with the transfer of the
/// receiving port. The message is received exactly once: by the old handle before the move, or
/// by the new owner after it.
#[test]
fn receive_racing_the_transfer_of_the_receiver_delivers_exactly_once() {
    model(|| {
        let (a, b) = MessageChannel::new().into_ports();
        let (c, d) = MessageChannel::new().into_ports();
        a.post_message("1", &[]).unwrap();
        let b2 = b.clone();
        let receiver = loom::thread::spawn(move || match b2.try_recv() {
            Ok(Some(m)) => vec![m.data],
            Ok(None) => panic!("the message was queued before"),
            Err(Error::InvalidStateError(_)) => Vec::new(),
            Err(e) => panic!("unexpected {e:?}"),
        });
        let mover = loom::thread::spawn(move || c.post_message("", &[b]).unwrap());
        let early = receiver.join().unwrap();
        mover.join().unwrap();
        assert_received_once(early, &d);
        drop(a);
    });
}

/// The receiver takes posts in batches: a receive racing posts sees them in order, and the
/// notifier fires again once a receive call has found the queue empty.
#[test]
fn receive_racing_posts_keeps_order_and_the_notifier_edge() {
    use std::sync::atomic::Ordering;
    model(|| {
        let (a, b, fired) = counted_channel();
        let poster = loom::thread::spawn(move || {
            a.post_message("1", &[]).unwrap();
            a.post_message("2", &[]).unwrap();
            a
        });
        let b2 = b.clone();
        let receiver = loom::thread::spawn(move || {
            let mut got = Vec::new();
            for _ in 0..2 {
                if let Ok(Some(m)) = b2.try_recv() {
                    got.push(m.data);
                }
            }
            got
        });
        let a = poster.join().unwrap();
        let mut got = receiver.join().unwrap();
        let (rest, end) = drain(&b);
        got.extend(rest);
        assert_eq!(got, [b"1".to_vec(), b"2".to_vec()]);
        assert_eq!(end, None);
        let before = fired.load(Ordering::SeqCst);
        assert!(before >= 1);
        a.post_message("3", &[]).unwrap();
        assert_eq!(
            fired.load(Ordering::SeqCst),
            before + 1,
            "found empty, so told again"
        );
    });
}

/// A bounded post waiting for room is woken by a receive that frees it, and a blocked receive
/// by the post: no lost wake-up between the receiver's batch and the writers' wait.
#[test]
fn bounded_post_and_blocking_receive_wake_each_other() {
    use std::time::Duration;
    use webmessaging_core::Capacity;
    model(|| {
        let (a, b) = MessageChannel::new().into_ports();
        b.set_capacity(Capacity {
            max_messages: Some(1),
            max_bytes: None,
        });
        a.try_post("1", &[]).unwrap();
        let writer = loom::thread::spawn(move || {
            a.post_timeout("2", &[], Duration::MAX).unwrap();
            a
        });
        let reader = loom::thread::spawn(move || {
            let first = b.recv(None).unwrap().data;
            let second = b.recv(None).unwrap().data;
            (first, second, b)
        });
        let _a = writer.join().unwrap();
        let (first, second, _b) = reader.join().unwrap();
        assert_eq!((first, second), (b"1".to_vec(), b"2".to_vec()));
    });
}

/// The two-lock queue's hand-over: a receiver blocked (or moving the tail to the head) while
/// posts append to the tail gets every message once, in order, and the counters agree.
#[test]
fn blocking_receive_racing_posts_gets_each_message_once_in_order() {
    model(|| {
        let (a, b) = MessageChannel::new().into_ports();
        let poster = loom::thread::spawn(move || {
            for m in ["1", "2", "3"] {
                a.post_message(m, &[]).unwrap();
            }
            a
        });
        let b2 = b.clone();
        let receiver =
            loom::thread::spawn(move || (0..3).map(|_| b2.recv(None).unwrap().data).collect());
        let _a = poster.join().unwrap();
        let got: Vec<Vec<u8>> = receiver.join().unwrap();
        assert_eq!(got, [b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]);
        let m = b.metrics();
        assert_eq!((m.depth, m.enqueued, m.delivered), (0, 3, 3));
        assert!((1..=3).contains(&m.high_water_mark), "{m:?}");
    });
}

/// A close racing a receiver that holds part of the backlog in the head: the close record comes
/// only after both halves are delivered.
#[test]
fn close_racing_a_receiver_comes_after_every_message() {
    model(|| {
        let (a, b) = MessageChannel::new().into_ports();
        a.post_message("1", &[]).unwrap();
        let closer = loom::thread::spawn(move || {
            a.post_message("2", &[]).unwrap();
            a.close();
        });
        let receiver = loom::thread::spawn(move || {
            let mut got = Vec::new();
            loop {
                match b.recv(None) {
                    Ok(m) => got.push(m.data),
                    Err(Error::Closed(n)) => return (got, n),
                    Err(e) => panic!("unexpected {e:?}"),
                }
            }
        });
        closer.join().unwrap();
        let (got, notice) = receiver.join().unwrap();
        assert_eq!(got, [b"1".to_vec(), b"2".to_vec()]);
        assert_eq!((notice.reason, notice.by_peer), (CloseReason::Closed, true));
    });
}

/// `requeue_front` puts a message back at the head while another receiver is blocked waiting at
/// the tail: the blocked receiver is woken and gets it; it is delivered exactly once.
#[test]
fn requeue_front_wakes_a_blocked_receiver() {
    model(|| {
        let (a, b) = MessageChannel::new().into_ports();
        a.post_message("1", &[]).unwrap();
        let b2 = b.clone();
        let batcher = loom::thread::spawn(move || {
            if let Ok(Some(m)) = b2.try_recv() {
                b2.requeue_front(m).unwrap();
            }
        });
        let b3 = b.clone();
        let receiver = loom::thread::spawn(move || b3.recv(None).unwrap().data);
        batcher.join().unwrap();
        assert_eq!(receiver.join().unwrap(), b"1");
        assert!(matches!(b.try_recv(), Ok(None)));
        let m = b.metrics();
        assert_eq!((m.depth, m.enqueued, m.delivered), (0, 1, 1));
        drop(a);
    });
}

/// Two receivers on one port racing a poster: each message is taken once, and each receiver
/// sees its share in posting order.
#[test]
fn two_receivers_racing_a_poster_take_each_message_once() {
    model(|| {
        let (a, b) = MessageChannel::new().into_ports();
        let poster = loom::thread::spawn(move || {
            a.post_message("1", &[]).unwrap();
            a.post_message("2", &[]).unwrap();
            a
        });
        let b2 = b.clone();
        let other = loom::thread::spawn(move || {
            let mut got = Vec::new();
            if let Ok(Some(m)) = b2.try_recv() {
                got.push(m.data);
            }
            got
        });
        let mut mine = Vec::new();
        if let Ok(Some(m)) = b.try_recv() {
            mine.push(m.data);
        }
        let _a = poster.join().unwrap();
        let theirs = other.join().unwrap();
        let (rest, end) = drain(&b);
        assert_eq!(end, None);
        mine.extend(rest);
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "{mine:?}");
        let mut all = mine;
        all.extend(theirs);
        all.sort();
        assert_eq!(all, [b"1".to_vec(), b"2".to_vec()]);
    });
}

/// Posts against a close of the sending port from another thread, with the receiver blocked:
/// every post the queue admitted arrives, in order, before the one close record, and a post
/// the close refused is counted as dropped (never delivered after the record, never lost while
/// counted as sent).
#[test]
fn post_racing_the_senders_close_lands_before_the_record_or_is_dropped() {
    model(|| {
        let (a, b) = MessageChannel::new().into_ports();
        let a2 = a.clone();
        let poster = loom::thread::spawn(move || {
            a2.post_message("1", &[]).unwrap();
            a2.post_message("2", &[]).unwrap();
        });
        let closer = loom::thread::spawn(move || a.close());
        let mut got = Vec::new();
        let notice = loop {
            match b.recv(None) {
                Ok(m) => got.push(m.data),
                Err(Error::Closed(n)) => break n,
                Err(e) => panic!("unexpected {e:?}"),
            }
        };
        poster.join().unwrap();
        closer.join().unwrap();
        assert!(got.len() <= 2 && got.iter().zip([b"1", b"2"]).all(|(g, e)| g == e));
        assert_eq!((notice.reason, notice.by_peer), (CloseReason::Closed, true));
        assert!(
            matches!(b.try_recv(), Err(Error::Closed(_))),
            "nothing after the record"
        );
        let m = b.metrics();
        assert_eq!(
            (m.enqueued, m.delivered, m.depth),
            (got.len() as u64, got.len() as u64, 0)
        );
    });
}

/// A post racing the receive that takes the last message (which re-arms the notifier, as
/// finding the queue empty does): the new message is announced then, or, if the receive saw it
/// and did not re-arm, not at all until the queue is found empty. Never late: a later post
/// must not be the first to announce a message that was already waiting.
#[test]
fn a_post_racing_the_notifier_re_arm_is_announced_on_time() {
    use std::sync::atomic::Ordering;
    model(|| {
        let (a, b, fired) = counted_channel();
        a.post_message("0", &[]).unwrap();
        assert_eq!(fired.load(Ordering::SeqCst), 1);
        let poster = loom::thread::spawn(move || {
            a.post_message("1", &[]).unwrap();
            a
        });
        assert_eq!(b.try_recv().unwrap().unwrap().data, b"0");
        let a = poster.join().unwrap();
        let announced = fired.load(Ordering::SeqCst);
        a.post_message("2", &[]).unwrap();
        if announced == 1 {
            assert_eq!(
                fired.load(Ordering::SeqCst),
                1,
                "\"1\" waited unannounced while the notifier was armed"
            );
        }
        let (got, _) = drain(&b);
        assert_eq!(got, [b"1".to_vec(), b"2".to_vec()]);
    });
}

/// A post racing the receive that takes the last message of a batch on the consumers' side
/// (which takes no producer lock unless the notifier waits to be re-armed): if the queue was
/// empty after that receive, the post is a new edge and is announced.
#[test]
fn a_post_racing_the_receive_that_empties_a_batch_is_announced() {
    model(|| {
        let (a, b, fired) = counted_channel();
        a.post_message("0", &[]).unwrap();
        a.post_message("1", &[]).unwrap();
        assert_eq!(b.try_recv().unwrap().unwrap().data, b"0");
        let poster = loom::thread::spawn(move || {
            a.post_message("2", &[]).unwrap();
            a
        });
        assert_eq!(b.try_recv().unwrap().unwrap().data, b"1");
        let emptied = b.metrics().depth == 0;
        let _a = poster.join().unwrap();
        assert_announced_if_emptied(&b, &fired, emptied, b"2");
    });
}

/// The spin-locked tail and the `sleep` mutex: a bounded post waiting for room is woken when the
/// receiver closes (the wake comes after the tail lock is released) and gives up without error.
#[test]
fn closing_the_receiver_wakes_a_bounded_post_waiting_for_room() {
    use std::time::Duration;
    use webmessaging_core::Capacity;
    model(|| {
        let (a, b) = MessageChannel::new().into_ports();
        b.set_capacity(Capacity {
            max_messages: Some(1),
            max_bytes: None,
        });
        a.try_post("1", &[]).unwrap();
        let writer = loom::thread::spawn(move || {
            a.post_timeout("2", &[], Duration::MAX).unwrap();
            a
        });
        b.close();
        let a = writer.join().unwrap();
        assert_eq!(
            a.metrics().dropped,
            1,
            "the post after the close went nowhere"
        );
    });
}

/// A receive blocked on a port that is transferred away is woken (after the transfer lets go of
/// the tail lock) and ends with `InvalidStateError`; the message posted meanwhile reaches the
/// new owner.
#[test]
fn transferring_a_port_wakes_its_blocked_receiver() {
    model(|| {
        let (a, b) = MessageChannel::new().into_ports();
        let (c, d) = MessageChannel::new().into_ports();
        let b2 = b.clone();
        let receiver = loom::thread::spawn(move || b2.recv(None).map(|m| m.data));
        c.post_message("", &[b]).unwrap();
        a.post_message("1", &[]).unwrap();
        let early = match receiver.join().unwrap() {
            Ok(data) => vec![data],
            Err(Error::InvalidStateError(_)) => Vec::new(),
            Err(e) => panic!("unexpected {e:?}"),
        };
        assert_received_once(early, &d);
        drop(a);
    });
}

/// A receive that takes the tail's only item without moving buffers re-arms the notifier as
/// emptying the queue does: a post racing it is announced if it lands in the emptied queue.
#[test]
fn a_post_racing_the_receive_of_the_only_item_is_announced() {
    model(|| {
        let (a, b, fired) = counted_channel();
        a.post_message("0", &[]).unwrap();
        let poster = loom::thread::spawn(move || {
            a.post_message("1", &[]).unwrap();
            a
        });
        assert_eq!(b.try_recv().unwrap().unwrap().data, b"0");
        let emptied = b.metrics().depth == 0;
        let _a = poster.join().unwrap();
        assert_announced_if_emptied(&b, &fired, emptied, b"1");
    });
}
