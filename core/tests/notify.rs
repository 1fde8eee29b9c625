//! The notifier hook: edge-triggered, coalesced, only while enabled, never under a lock.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use webmessaging_core::{MessageChannel, MessagePort};

#[test]
fn notifications_are_coalesced_until_the_queue_is_drained() {
    let (a, b) = MessageChannel::new().into_ports();
    let (notifier, calls) = counting_notifier();
    b.set_onmessage(Some(notifier));
    for _ in 0..10 {
        a.post_message("x", &[]).unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    b.try_recv().unwrap();
    a.post_message("x", &[]).unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "not drained yet: no new edge"
    );
    assert_eq!(drain(&b).len(), 10);
    a.post_message("x", &[]).unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "drained, then non-empty again: a new edge"
    );
}

#[test]
fn the_close_record_notifies_a_started_port() {
    let (a, b) = MessageChannel::new().into_ports();
    let (notifier, calls) = counting_notifier();
    b.set_onmessage(Some(notifier));
    a.close();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_notifier_installed_on_a_started_backlog_fires_at_once() {
    let (a, b) = MessageChannel::new().into_ports();
    b.start();
    a.post_message("waiting", &[]).unwrap();
    let (notifier, calls) = counting_notifier();
    b.set_notifier(Some(notifier));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn the_notifier_runs_outside_every_lock() {
    // A notifier that drains and replies through both ports would deadlock if any lock were held.
    let (a, b) = MessageChannel::new().into_ports();
    let b2 = b.clone();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    b.set_onmessage(Some(Arc::new(move || {
        while let Ok(Some(m)) = b2.try_recv() {
            seen2.lock().unwrap().push(m.data.clone());
            b2.post_message(m.data, &[]).unwrap();
            b2.metrics();
        }
    })));
    for i in 0..5u8 {
        a.post_message(vec![i], &[]).unwrap();
    }
    assert_eq!(seen.lock().unwrap().len(), 5);
    for i in 0..5u8 {
        assert_eq!(recv_data(&a), [i]);
    }
}

#[test]
fn a_moved_port_loses_its_notifier() {
    let (a, b) = MessageChannel::new().into_ports();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    b.set_onmessage(Some(Arc::new(move || {
        c.fetch_add(1, Ordering::SeqCst);
    })));
    let (carrier, receiver) = MessageChannel::new().into_ports();
    carrier.post_message("", &[b]).unwrap();
    a.post_message("for the new owner", &[]).unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "the old owner's notifier must not fire"
    );
    let moved: MessagePort = recv_port(&receiver);
    assert_eq!(recv_data(&moved), b"for the new owner");
}

#[test]
fn replacing_a_notifier_that_owns_the_peer_does_not_deadlock() {
    // Dropping the old notifier drops the last handle of `b`, which closes `b` and so ends `a`'s
    // queue: that must not happen under `a`'s lock.
    let (a, b) = MessageChannel::new().into_ports();
    a.set_notifier(Some(Arc::new(move || {
        let _ = b.metrics();
    })));
    a.set_notifier(None);
    assert!(!a.is_entangled());
    let (c, d) = MessageChannel::new().into_ports();
    c.set_notifier(Some(Arc::new(move || {
        let _ = d.metrics();
    })));
    let (carrier, _receiver) = MessageChannel::new().into_ports();
    carrier.post_message("", &[c]).unwrap(); // shipping drops the notifier too
}
