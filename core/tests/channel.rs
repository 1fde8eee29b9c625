//! R-CH requirements of `docs/requirements.md` (R-CH) that the core implements, one test
//! each, named after the requirement id.

mod common;

use std::sync::atomic::Ordering;
use std::thread;

use common::*;
use webmessaging_core::{CloseNotice, CloseReason, Error, MessageChannel};

#[test]
fn r_ch_1_new_channel_gives_two_distinct_entangled_ports() {
    let c = MessageChannel::new();
    assert_ne!(c.port1(), c.port2());
    assert!(c.port1().is_entangled() && c.port2().is_entangled());
    c.port1().post_message("hi", &[]).unwrap();
    assert_eq!(recv_data(c.port2()), b"hi");
}

#[test]
fn r_ch_2_port_accessors_return_the_same_port() {
    let c = MessageChannel::new();
    assert_eq!(c.port1(), c.port1());
    assert_eq!(c.port2(), c.port2());
    // The same port, not a copy: what is posted through one access is seen through another.
    c.port2().post_message("x", &[]).unwrap();
    assert_eq!(c.port1().metrics().depth, 1);
}

#[test]
fn r_ch_3_channels_are_bidirectional() {
    let (a, b) = MessageChannel::new().into_ports();
    a.post_message("ping", &[]).unwrap();
    assert_eq!(recv_data(&b), b"ping");
    b.post_message("pong", &[]).unwrap();
    assert_eq!(recv_data(&a), b"pong");
}

#[test]
fn r_ch_4_new_port_buffers_until_started() {
    let (a, b) = MessageChannel::new().into_ports();
    let (notifier, calls) = counting_notifier();
    b.set_notifier(Some(notifier));
    for i in 0..3 {
        a.post_message(format!("m{i}").as_str(), &[]).unwrap();
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "a disabled queue must not notify"
    );
    assert_eq!(b.metrics().depth, 3, "messages are buffered, not dropped");
    b.start();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "start() with a backlog notifies once"
    );
    assert_eq!(drain(&b), ["m0", "m1", "m2"]);
}

#[test]
fn r_ch_5_setting_onmessage_starts_the_port() {
    let (a, b) = MessageChannel::new().into_ports();
    let (notifier, calls) = counting_notifier();
    assert!(!b.is_started());
    b.set_onmessage(Some(notifier));
    assert!(b.is_started());
    a.post_message("x", &[]).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn r_ch_6_a_notifier_alone_does_not_start_the_port() {
    let (a, b) = MessageChannel::new().into_ports();
    let (notifier, calls) = counting_notifier();
    b.set_notifier(Some(notifier));
    a.post_message("x", &[]).unwrap();
    assert!(!b.is_started());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn r_ch_7_a_started_queue_stays_enabled_after_onmessage_is_cleared() {
    let (a, b) = MessageChannel::new().into_ports();
    let (first, _) = counting_notifier();
    b.set_onmessage(Some(first));
    b.set_onmessage(None);
    let (second, calls) = counting_notifier();
    b.set_notifier(Some(second));
    a.post_message("x", &[]).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn r_ch_8_start_is_idempotent_and_never_fails() {
    let (a, b) = MessageChannel::new().into_ports();
    b.start();
    b.start();
    assert!(b.is_started());
    b.close();
    b.start();
    let (carrier, _keep) = MessageChannel::new().into_ports();
    carrier.post_message("", std::slice::from_ref(&a)).unwrap();
    a.start(); // transferred away: still no error
}

#[test]
fn r_ch_9_delivery_is_fifo_per_direction() {
    let (a, b) = MessageChannel::new().into_ports();
    let sender = thread::spawn(move || {
        for i in 0..1000u32 {
            a.post_message(i.to_le_bytes().to_vec(), &[]).unwrap();
        }
        a
    });
    for i in 0..1000u32 {
        assert_eq!(recv_data(&b), i.to_le_bytes());
    }
    drop(sender.join().unwrap());
}

#[test]
fn r_ch_13_transfer_list_with_the_source_port_is_a_data_clone_error() {
    let (a, b) = MessageChannel::new().into_ports();
    let (other, _keep) = MessageChannel::new().into_ports();
    let err = a
        .post_message("x", &[other.clone(), a.clone()])
        .unwrap_err();
    assert!(matches!(err, Error::DataCloneError(_)), "{err:?}");
    assert!(
        !other.is_detached(),
        "nothing is detached when the check fails"
    );
    assert!(!a.is_detached());
    assert_eq!(b.try_recv().unwrap().map(|m| m.data), None);
}

#[test]
fn r_ch_14_transferring_the_peer_dooms_the_channel_without_error() {
    let c = MessageChannel::new();
    c.port1().post_message("x", &[c.port2().clone()]).unwrap();
    assert!(c.port2().is_detached());
    // The message is gone with the channel; the sender learns the channel was lost.
    assert_eq!(
        recv_close(c.port1()),
        CloseNotice {
            reason: CloseReason::Doomed,
            by_peer: true
        }
    );
    let (carrier, _keep) = MessageChannel::new().into_ports();
    let err = carrier.post_message("", &[c.port2().clone()]).unwrap_err();
    assert!(matches!(err, Error::DataCloneError(_)));
}

#[test]
fn r_ch_17_posting_from_a_closed_port_still_detaches_transfers() {
    let (a, b) = MessageChannel::new().into_ports();
    let (moved, moved_peer) = MessageChannel::new().into_ports();
    a.close();
    a.post_message("x", std::slice::from_ref(&moved)).unwrap();
    assert!(
        moved.is_detached(),
        "transfers detach even when the message goes nowhere"
    );
    assert_eq!(recv_close(&b).reason, CloseReason::Closed);
    // The transferred port went nowhere, so it is dropped: its peer hears about it.
    assert_eq!(recv_close(&moved_peer), PEER_DROPPED);
    assert_eq!(a.metrics().dropped, 1);
}

#[test]
fn r_ch_17_posting_from_an_unentangled_port_is_silent() {
    let (a, b) = MessageChannel::new().into_ports();
    b.close();
    assert!(!a.is_entangled());
    a.post_message("x", &[]).unwrap();
    assert!(recv_close(&a).by_peer);
}

#[test]
fn r_ch_18_a_message_to_a_closed_port_never_arrives() {
    let (a, b) = MessageChannel::new().into_ports();
    b.close();
    a.post_message("late", &[]).unwrap();
    assert_eq!(recv_close(&b), SELF_CLOSED);
    assert!(
        b.try_recv().is_err(),
        "the close record is sticky; nothing comes after it"
    );
}

#[test]
fn r_ch_19_a_message_from_a_closed_port_never_arrives() {
    let (a, b) = MessageChannel::new().into_ports();
    a.close();
    a.post_message("late", &[]).unwrap();
    assert_eq!(recv_close(&b), PEER_CLOSED);
}

#[test]
fn r_ch_20_messages_sent_before_the_sender_closes_are_delivered() {
    let (a, b) = MessageChannel::new().into_ports();
    b.post_message("T", &[]).unwrap();
    b.close();
    assert_eq!(recv_data(&a), b"T");
    assert_eq!(recv_close(&a), PEER_CLOSED);
}

#[test]
fn r_ch_21_closing_the_receiver_keeps_messages_already_queued() {
    let (a, b) = MessageChannel::new().into_ports();
    for m in ["1", "2", "3"] {
        a.post_message(m, &[]).unwrap();
    }
    b.close();
    assert_eq!(drain(&b), ["1", "2", "3"]);
    assert!(!recv_close(&b).by_peer);
}

#[test]
fn r_ch_22_close_detaches_only_that_port() {
    let (a, b) = MessageChannel::new().into_ports();
    let (carrier, receiver) = MessageChannel::new().into_ports();
    a.close();
    assert!(a.is_detached());
    assert!(matches!(
        carrier.post_message("", std::slice::from_ref(&a)),
        Err(Error::DataCloneError(_))
    ));
    carrier.post_message("", std::slice::from_ref(&b)).unwrap();
    assert_eq!(receiver.recv(Some(PATIENCE)).unwrap().ports.len(), 1);
}

#[test]
fn r_ch_23_close_is_idempotent() {
    let (a, b) = MessageChannel::new().into_ports();
    a.close();
    a.close();
    assert_eq!(recv_close(&b).reason, CloseReason::Closed);
    assert_eq!(b.metrics().depth, 0, "a second close adds no second record");
}

#[test]
fn r_ch_24_a_transferred_port_cannot_be_transferred_again() {
    let (a, _b) = MessageChannel::new().into_ports();
    let (carrier, _receiver) = MessageChannel::new().into_ports();
    carrier.post_message("", std::slice::from_ref(&a)).unwrap();
    let err = carrier
        .post_message("", std::slice::from_ref(&a))
        .unwrap_err();
    assert!(matches!(err, Error::DataCloneError(_)), "{err:?}");
    assert!(matches!(a.try_recv(), Err(Error::InvalidStateError(_))));
}

#[test]
fn r_ch_25_a_transferred_port_stays_entangled_both_ways() {
    let (a, b) = MessageChannel::new().into_ports();
    let (carrier, receiver) = MessageChannel::new().into_ports();
    carrier.post_message("", &[b]).unwrap();
    let moved = recv_port(&receiver);
    a.post_message("to moved", &[]).unwrap();
    assert_eq!(recv_data(&moved), b"to moved");
    moved.post_message("from moved", &[]).unwrap();
    assert_eq!(recv_data(&a), b"from moved");
}

#[test]
fn r_ch_26_backlog_moves_with_transferred_port() {
    let (a, b) = MessageChannel::new().into_ports();
    let (carrier, receiver) = MessageChannel::new().into_ports();
    for m in ["1", "2", "3"] {
        a.post_message(m, &[]).unwrap();
    }
    carrier.post_message("", &[b]).unwrap();
    a.post_message("4", &[]).unwrap(); // sent while the port is in flight
    let moved = recv_port(&receiver);
    let (notifier, calls) = counting_notifier();
    moved.set_notifier(Some(notifier));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "the received port is not started"
    );
    moved.start();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(drain(&moved), ["1", "2", "3", "4"]);
}

#[test]
fn r_ch_27_messages_sent_before_the_transfer_still_reach_the_peer() {
    let (a, b) = MessageChannel::new().into_ports();
    let (carrier, _receiver) = MessageChannel::new().into_ports();
    a.post_message("before", &[]).unwrap();
    carrier.post_message("", &[a]).unwrap();
    assert_eq!(recv_data(&b), b"before");
}

#[test]
fn r_ch_28_a_received_port_starts_disabled() {
    let (a, b) = MessageChannel::new().into_ports();
    b.start();
    let (carrier, receiver) = MessageChannel::new().into_ports();
    carrier.post_message("", &[b]).unwrap();
    let moved = recv_port(&receiver);
    assert!(!moved.is_started(), "enabled-ness does not travel");
    let (notifier, calls) = counting_notifier();
    moved.set_notifier(Some(notifier));
    a.post_message("x", &[]).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn r_ch_29_a_port_closed_after_transfer_receives_nothing_more() {
    let (a, b) = MessageChannel::new().into_ports();
    let (carrier, receiver) = MessageChannel::new().into_ports();
    carrier.post_message("", &[b]).unwrap();
    let moved = thread::spawn(move || {
        let moved = recv_port(&receiver);
        moved.close();
        moved
    })
    .join()
    .unwrap();
    a.post_message("after close", &[]).unwrap();
    assert!(!recv_close(&moved).by_peer);
    assert_eq!(recv_close(&a), PEER_CLOSED);
}

#[test]
fn r_ch_30_ports_listed_only_in_the_transfer_list_are_delivered() {
    let (carrier, receiver) = MessageChannel::new().into_ports();
    let (x, _keep) = MessageChannel::new().into_ports();
    carrier.post_message(Vec::new(), &[x]).unwrap();
    let m = receiver.recv(Some(PATIENCE)).unwrap();
    assert!(m.data.is_empty());
    assert_eq!(m.ports.len(), 1);
}

#[test]
fn r_ch_30_ports_arrive_in_transfer_list_order() {
    let (carrier, receiver) = MessageChannel::new().into_ports();
    let (x1, y1) = MessageChannel::new().into_ports();
    let (x2, y2) = MessageChannel::new().into_ports();
    carrier.post_message("", &[x2, x1]).unwrap();
    let m = receiver.recv(Some(PATIENCE)).unwrap();
    y2.post_message("via second channel", &[]).unwrap();
    y1.post_message("via first channel", &[]).unwrap();
    assert_eq!(recv_data(&m.ports[0]), b"via second channel");
    assert_eq!(recv_data(&m.ports[1]), b"via first channel");
}

#[test]
fn r_ch_33_a_handle_held_by_a_listener_keeps_the_port_alive() {
    let (a, b) = MessageChannel::new().into_ports();
    let listener = b.clone();
    drop(b); // the application lets go; the listener's handle remains
    let worker = thread::spawn(move || (recv_data(&listener), listener));
    a.post_message("still delivered", &[]).unwrap();
    let (data, listener) = worker.join().unwrap();
    assert_eq!(data, b"still delivered");
    assert!(a.is_entangled() && listener.is_entangled());
}

#[test]
fn r_ch_34_an_in_flight_port_keeps_its_queue_when_every_handle_is_gone() {
    let (a, b) = MessageChannel::new().into_ports();
    let (carrier, receiver) = MessageChannel::new().into_ports();
    a.post_message("queued", &[]).unwrap();
    b.start();
    carrier.post_message("", &[b]).unwrap(); // the message now owns the port
    drop(carrier);
    let moved = recv_port(&receiver);
    assert_eq!(recv_data(&moved), b"queued");
}

#[test]
fn r_ch_35_dropping_the_only_handle_disentangles() {
    let (a, b) = MessageChannel::new().into_ports();
    drop(b);
    assert!(!a.is_entangled());
    a.post_message("to nobody", &[]).unwrap();
    assert_eq!(recv_close(&a), PEER_DROPPED);
    assert_eq!(a.metrics().dropped, 1);
}
