//! Close reasons, exactly-one close notice, and no mailbox outliving its last owner. These tests
//! read the process-wide live-mailbox counter, so they run one at a time.

mod common;

use std::sync::Mutex;
use std::thread;

use common::*;
use webmessaging_core::{live_mailboxes, CloseReason, Error, MessageChannel};

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `scenario` and checks that every mailbox it created is gone afterwards.
fn leaves_no_mailbox(scenario: impl FnOnce()) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = live_mailboxes();
    scenario();
    assert_eq!(
        live_mailboxes(),
        before,
        "a mailbox outlived its last owner"
    );
}

#[test]
fn close_gives_the_peer_exactly_one_notice_after_everything_sent() {
    leaves_no_mailbox(|| {
        let (a, b) = MessageChannel::new().into_ports();
        a.post_message("1", &[]).unwrap();
        a.post_message("2", &[]).unwrap();
        a.close();
        a.close();
        b.close();
        assert_eq!(drain(&b), ["1", "2"]);
        assert_eq!(recv_close(&b), PEER_CLOSED);
        assert_eq!(recv_close(&b), PEER_CLOSED);
        assert_eq!(recv_close(&a), SELF_CLOSED);
    });
}

#[test]
fn dropping_the_last_handle_is_a_close_with_reason_dropped() {
    leaves_no_mailbox(|| {
        let (a, b) = MessageChannel::new().into_ports();
        let b2 = b.clone();
        drop(b);
        assert!(a.is_entangled(), "a clone still holds the port");
        drop(b2);
        assert_eq!(recv_close(&a), PEER_DROPPED);
    });
}

#[test]
fn a_blocked_receive_wakes_on_close() {
    leaves_no_mailbox(|| {
        let (a, b) = MessageChannel::new().into_ports();
        let waiter = thread::spawn(move || b.recv(None));
        thread::sleep(std::time::Duration::from_millis(20));
        a.close();
        assert!(matches!(waiter.join().unwrap(), Err(Error::Closed(n)) if n.by_peer));
    });
}

#[test]
fn ports_in_flight_inside_a_dropped_queue_are_released() {
    leaves_no_mailbox(|| {
        let (carrier, receiver) = MessageChannel::new().into_ports();
        let (x, y) = MessageChannel::new().into_ports();
        carrier.post_message("", &[x]).unwrap();
        drop(receiver); // drops the queue holding x
        assert_eq!(recv_close(&y), PEER_DROPPED);
        drop((carrier, y));
    });
}

#[test]
fn in_flight_ports_carried_in_a_loop_are_collected() {
    leaves_no_mailbox(|| {
        // c travels in b's queue; then b is posted into c's queue: the two would own each other,
        // out of every handle's reach. Like a browser's GC, the library collects them.
        let (a, b) = MessageChannel::new().into_ports();
        let (c, d) = MessageChannel::new().into_ports();
        a.post_message("carry c", &[c]).unwrap();
        d.post_message("carry b", &[b]).unwrap();
        assert_eq!(recv_close(&a).reason, CloseReason::Dropped);
        assert_eq!(recv_close(&d).reason, CloseReason::Dropped);
        drop((a, d));
    });
}

#[test]
fn a_doomed_channel_and_all_transfers_leave_nothing_behind() {
    leaves_no_mailbox(|| {
        let (a, b) = MessageChannel::new().into_ports();
        let (x, y) = MessageChannel::new().into_ports();
        a.post_message("", &[b.clone(), x]).unwrap();
        assert_eq!(recv_close(&a).reason, CloseReason::Doomed);
        assert_eq!(recv_close(&y).reason, CloseReason::Dropped);
        drop((a, b, y));
    });
}

#[test]
fn many_channels_transferred_and_closed_across_threads_are_all_freed() {
    leaves_no_mailbox(|| {
        let (to_worker, inbox) = MessageChannel::new().into_ports();
        let worker = thread::spawn(move || {
            let mut kept = Vec::new();
            while let Ok(mut m) = inbox.recv(Some(PATIENCE)) {
                let port = m.ports.remove(0);
                if kept.len() % 2 == 0 {
                    port.close();
                }
                kept.push(port);
            }
            kept.len()
        });
        let mut local = Vec::new();
        for i in 0..100 {
            let (p, q) = MessageChannel::new().into_ports();
            p.post_message(format!("{i}").as_str(), &[]).unwrap();
            to_worker.post_message("", &[q]).unwrap();
            local.push(p);
        }
        to_worker.close();
        assert_eq!(worker.join().unwrap(), 100);
        drop(local);
    });
}

#[test]
fn a_long_chain_of_in_flight_ports_is_freed_without_recursion() {
    leaves_no_mailbox(|| {
        // Each port travels in the queue of the next one: 100,000 levels deep. Freeing the chain
        // recursively would overflow the stack.
        let (first, mut carried) = MessageChannel::new().into_ports();
        let mut senders = vec![first];
        for _ in 0..100_000 {
            let (a, b) = MessageChannel::new().into_ports();
            a.post_message("", &[carried]).unwrap();
            senders.push(a);
            carried = b;
        }
        drop(carried);
        drop(senders);
    });
}
