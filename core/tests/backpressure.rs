//! Capacity, bounded posts and metrics (beyond the standard).

mod common;

use std::thread;
use std::time::Duration;

use common::*;
use webmessaging_core::{Capacity, Error, MessageChannel, PortMetrics};

#[test]
fn try_post_is_full_at_the_message_capacity_and_loses_nothing() {
    let (a, b) = MessageChannel::new().into_ports();
    b.set_capacity(Capacity {
        max_messages: Some(2),
        max_bytes: None,
    });
    a.try_post("1", &[]).unwrap();
    a.try_post("2", &[]).unwrap();
    let (riding, _keep) = MessageChannel::new().into_ports();
    assert_eq!(
        a.try_post("3", std::slice::from_ref(&riding)),
        Err(Error::Full)
    );
    assert!(!riding.is_detached(), "a refused post detaches nothing");
    assert_eq!(drain(&b), ["1", "2"]);
    a.try_post("3", &[riding]).unwrap();
    assert_eq!(b.recv(Some(PATIENCE)).unwrap().ports.len(), 1);
}

#[test]
fn try_post_is_full_at_the_byte_capacity() {
    let (a, b) = MessageChannel::new().into_ports();
    b.set_capacity(Capacity {
        max_messages: None,
        max_bytes: Some(10),
    });
    a.try_post(vec![0u8; 6], &[]).unwrap();
    assert_eq!(a.try_post(vec![0u8; 6], &[]), Err(Error::Full));
    a.try_post(vec![0u8; 4], &[]).unwrap();
    b.try_recv().unwrap();
    b.try_recv().unwrap();
    // An oversized message still gets into an empty queue, so it can always make progress.
    a.try_post(vec![0u8; 64], &[]).unwrap();
}

#[test]
fn plain_post_message_ignores_capacity() {
    let (a, b) = MessageChannel::new().into_ports();
    b.set_capacity(Capacity {
        max_messages: Some(1),
        max_bytes: None,
    });
    for _ in 0..5 {
        a.post_message("x", &[]).unwrap();
    }
    assert_eq!(b.metrics().depth, 5);
}

#[test]
fn post_timeout_waits_for_room() {
    let (a, b) = MessageChannel::new().into_ports();
    b.set_capacity(Capacity {
        max_messages: Some(1),
        max_bytes: None,
    });
    a.try_post("first", &[]).unwrap();
    let consumer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(30));
        let first = recv_data(&b);
        (first, recv_data(&b), b)
    });
    a.post_timeout("second", &[], PATIENCE).unwrap();
    let (first, second, _b) = consumer.join().unwrap();
    assert_eq!(
        (first.as_slice(), second.as_slice()),
        (&b"first"[..], &b"second"[..])
    );
}

#[test]
fn post_timeout_times_out_without_sending() {
    let (a, b) = MessageChannel::new().into_ports();
    b.set_capacity(Capacity {
        max_messages: Some(1),
        max_bytes: None,
    });
    a.try_post("first", &[]).unwrap();
    assert_eq!(
        a.post_timeout("second", &[], Duration::from_millis(20)),
        Err(Error::Timeout)
    );
    assert_eq!(drain(&b), ["first"]);
}

#[test]
fn a_waiting_post_gives_up_when_the_receiver_closes() {
    let (a, b) = MessageChannel::new().into_ports();
    b.set_capacity(Capacity {
        max_messages: Some(1),
        max_bytes: None,
    });
    a.try_post("first", &[]).unwrap();
    let closer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        b.close();
        b
    });
    // The receiver went away: the post is dropped like any post to a closed port.
    a.post_timeout("second", &[], PATIENCE).unwrap();
    let b = closer.join().unwrap();
    assert_eq!(drain(&b), ["first"]);
    assert_eq!(a.metrics().dropped, 1);
}

#[test]
fn capacity_travels_with_a_transferred_port() {
    let (a, b) = MessageChannel::new().into_ports();
    let cap = Capacity {
        max_messages: Some(3),
        max_bytes: Some(100),
    };
    b.set_capacity(cap);
    let (carrier, receiver) = MessageChannel::new().into_ports();
    carrier.post_message("", &[b]).unwrap();
    let moved = recv_port(&receiver);
    assert_eq!(moved.capacity(), cap);
    drop(a);
}

#[test]
fn metrics_count_depth_bytes_high_water_posted_and_delivered() {
    let (a, b) = MessageChannel::new().into_ports();
    for len in [1usize, 2, 3] {
        a.post_message(vec![0u8; len], &[]).unwrap();
    }
    b.try_recv().unwrap();
    assert_eq!(
        b.metrics(),
        PortMetrics {
            depth: 2,
            queued_bytes: 5,
            high_water_mark: 3,
            enqueued: 3,
            delivered: 1,
            posted: 0,
            dropped: 0
        }
    );
    assert_eq!(a.metrics().posted, 3);
}

#[test]
fn a_try_post_refused_for_room_is_not_counted_as_posted() {
    let (a, b) = MessageChannel::new().into_ports();
    b.set_capacity(Capacity {
        max_messages: Some(1),
        max_bytes: None,
    });
    a.try_post("fits", &[]).unwrap();
    assert_eq!(a.try_post("refused", &[]), Err(Error::Full));
    let m = a.metrics();
    assert_eq!((m.posted, m.dropped), (1, 0));
    assert_eq!(drain(&b), ["fits"]);
}
