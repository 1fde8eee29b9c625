//! The receive paths that skip the producers' lock: a receive from a head that stays non-empty,
//! a receive that empties the head, and a receive that finds the queue empty. Each must keep
//! the notifier contract and the counters as if it had taken every lock.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use webmessaging_core::MessageChannel;

#[test]
fn taking_the_last_message_of_a_batch_re_arms_the_notifier() {
    let (a, b) = MessageChannel::new().into_ports();
    let (notifier, calls) = counting_notifier();
    b.set_onmessage(Some(notifier));
    a.post_message("0", &[]).unwrap();
    a.post_message("1", &[]).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // The first receive moves both messages to the consumers' side; the second takes the last
    // one there, with nothing behind it.
    assert_eq!(recv_data(&b), b"0");
    assert_eq!(b.try_recv().unwrap().unwrap().data, b"1");
    a.post_message("2", &[]).unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "the queue was emptied: the next post is a new edge"
    );
}

#[test]
fn a_blocking_receive_that_takes_the_last_message_re_arms_the_notifier() {
    let (a, b) = MessageChannel::new().into_ports();
    let (notifier, calls) = counting_notifier();
    b.set_onmessage(Some(notifier));
    for m in ["0", "1", "2"] {
        a.post_message(m, &[]).unwrap();
    }
    for m in ["0", "1", "2"] {
        assert_eq!(
            b.recv(Some(Duration::from_secs(5))).unwrap().data,
            m.as_bytes()
        );
    }
    a.post_message("3", &[]).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn receives_from_a_full_head_keep_the_counters() {
    let (a, b) = MessageChannel::new().into_ports();
    for i in 0..5u8 {
        a.post_message(vec![i; 3], &[]).unwrap();
    }
    assert_eq!(recv_data(&b), [0; 3]); // moves the batch to the consumers' side
    a.post_message(vec![9; 4], &[]).unwrap(); // waits behind it
    assert_eq!(b.try_recv().unwrap().unwrap().data, [1; 3]);
    let m = b.metrics();
    assert_eq!((m.depth, m.queued_bytes), (4, 3 * 3 + 4));
    assert_eq!((m.enqueued, m.delivered, m.high_water_mark), (6, 2, 5));
    let rest: Vec<_> = std::iter::from_fn(|| b.try_recv().unwrap().map(|m| m.data)).collect();
    assert_eq!(rest, [vec![2; 3], vec![3; 3], vec![4; 3], vec![9; 4]]);
    let m = b.metrics();
    assert_eq!((m.depth, m.queued_bytes, m.delivered), (0, 0, 6));
    assert_eq!(a.metrics().posted, 6);
}

#[test]
fn finding_the_queue_empty_without_the_tail_lock_still_sees_the_close_record() {
    let (a, b) = MessageChannel::new().into_ports();
    assert!(b.try_recv().unwrap().is_none());
    a.post_message("last", &[]).unwrap();
    a.close();
    assert_eq!(b.try_recv().unwrap().unwrap().data, b"last");
    assert!(matches!(
        b.try_recv(),
        Err(webmessaging_core::Error::Closed(_))
    ));
}
