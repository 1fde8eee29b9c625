//! Lossless transfer: a moved port carries its mailbox, so its backlog and whatever the peer
//! sends while it is in flight arrive at the new owner, in order, once it is started.

mod common;

use std::thread;

use common::*;
use webmessaging_core::{Error, MessageChannel, MessagePort};

fn post_numbers(port: &MessagePort, range: std::ops::Range<u32>) {
    for i in range {
        port.post_message(i.to_string().as_str(), &[]).unwrap();
    }
}

fn expect_numbers(port: &MessagePort, range: std::ops::Range<u32>) {
    for i in range {
        assert_eq!(String::from_utf8(recv_data(port)).unwrap(), i.to_string());
    }
}

#[test]
fn transfer_to_another_thread_keeps_backlog_and_in_flight_messages() {
    let (a, b) = MessageChannel::new().into_ports();
    let (to_worker, worker_inbox) = MessageChannel::new().into_ports();
    post_numbers(&a, 0..100);
    to_worker.post_message("here", &[b]).unwrap();
    post_numbers(&a, 100..200); // while b is in flight
    let worker = thread::spawn(move || {
        let moved = recv_port(&worker_inbox);
        moved.start();
        expect_numbers(&moved, 0..300);
        moved.post_message("done", &[]).unwrap();
    });
    post_numbers(&a, 200..300);
    assert_eq!(recv_data(&a), b"done");
    worker.join().unwrap();
}

#[test]
fn re_transfer_of_a_port_still_in_flight_loses_nothing() {
    let (a, b) = MessageChannel::new().into_ports();
    let (hop1_in, hop1_out) = MessageChannel::new().into_ports();
    let (hop2_in, hop2_out) = MessageChannel::new().into_ports();
    post_numbers(&a, 0..10);
    hop1_in.post_message("", &[b]).unwrap();
    post_numbers(&a, 10..20);
    // Receive it and pass it on at once, without reading or starting it.
    let in_flight = recv_port(&hop1_out);
    hop2_in
        .post_message("", std::slice::from_ref(&in_flight))
        .unwrap();
    assert!(matches!(
        in_flight.try_recv(),
        Err(Error::InvalidStateError(_))
    ));
    post_numbers(&a, 20..30);
    let last = recv_port(&hop2_out);
    expect_numbers(&last, 0..30);
}

#[test]
fn a_port_transferred_back_to_its_original_thread_keeps_order() {
    let (a, b) = MessageChannel::new().into_ports();
    let (main_side, worker_side) = MessageChannel::new().into_ports();
    post_numbers(&a, 0..50);
    main_side.post_message("", &[b]).unwrap();
    let worker = thread::spawn(move || {
        let port = recv_port(&worker_side);
        expect_numbers(&port, 0..25); // read half, send it home with the rest
        worker_side.post_message("", &[port]).unwrap();
        worker_side
    });
    post_numbers(&a, 50..60);
    let home = recv_port(&main_side);
    expect_numbers(&home, 25..60);
    drop(worker.join().unwrap());
}

#[test]
fn a_port_transferred_through_a_chain_of_five_channels_keeps_order() {
    let (a, b) = MessageChannel::new().into_ports();
    let hops: Vec<_> = (0..5).map(|_| MessageChannel::new().into_ports()).collect();
    let mut port = b;
    let mut next = 0;
    for (send, recv) in &hops {
        post_numbers(&a, next..next + 10);
        next += 10;
        send.post_message("", &[port]).unwrap();
        post_numbers(&a, next..next + 10); // in flight on this hop
        next += 10;
        port = recv_port(recv);
    }
    port.start();
    expect_numbers(&port, 0..next);
    // Entangled to the end: it still answers the original peer.
    port.post_message("back", &[]).unwrap();
    assert_eq!(recv_data(&a), b"back");
}

#[test]
fn a_blocked_receive_stops_when_another_thread_transfers_the_port() {
    let (a, b) = MessageChannel::new().into_ports();
    let (carrier, receiver) = MessageChannel::new().into_ports();
    let blocked = {
        let b = b.clone();
        thread::spawn(move || b.recv(None))
    };
    // Give the receiver time to block; the result is the same if it has not yet.
    thread::sleep(std::time::Duration::from_millis(20));
    carrier.post_message("", &[b]).unwrap();
    assert!(matches!(
        blocked.join().unwrap(),
        Err(Error::InvalidStateError(_))
    ));
    a.post_message("for the new owner", &[]).unwrap();
    let moved = recv_port(&receiver);
    assert_eq!(recv_data(&moved), b"for the new owner");
}

#[test]
fn messages_requeued_at_the_front_travel_with_the_port() {
    // A binding took a batch, delivered the first message, then the port is transferred: the
    // rest of the batch goes back in front of what is still queued, ports included.
    let (a, b) = MessageChannel::new().into_ports();
    let (x, y) = MessageChannel::new().into_ports();
    a.post_message("1", &[]).unwrap();
    a.post_message("2", std::slice::from_ref(&x)).unwrap();
    a.post_message("3", &[]).unwrap();
    a.post_message("4", &[]).unwrap();
    let batch: Vec<_> = (0..3).map(|_| b.try_recv().unwrap().unwrap()).collect();
    let delivered_before = b.metrics().delivered;
    let mut rest = batch.into_iter().skip(1).collect::<Vec<_>>();
    while let Some(m) = rest.pop() {
        b.requeue_front(m).unwrap();
    }
    assert_eq!(b.metrics().delivered, delivered_before - 2);
    let (carrier, receiver) = MessageChannel::new().into_ports();
    carrier.post_message("", &[b]).unwrap();
    let moved = recv_port(&receiver);
    let mut second = moved.recv(Some(PATIENCE)).unwrap();
    assert_eq!(second.data, b"2");
    let x_again = second.ports.remove(0);
    y.post_message("to x", &[]).unwrap();
    assert_eq!(recv_data(&x_again), b"to x");
    assert_eq!(recv_data(&moved), b"3");
    assert_eq!(recv_data(&moved), b"4");
}

#[test]
fn requeue_front_refuses_detached_ports_and_changes_nothing() {
    let (a, b) = MessageChannel::new().into_ports();
    let (x, _y) = MessageChannel::new().into_ports();
    a.post_message("m", std::slice::from_ref(&x)).unwrap();
    let m = b.try_recv().unwrap().unwrap();
    let port = m.ports[0].clone();
    port.close();
    let depth = b.metrics().depth;
    assert!(matches!(b.requeue_front(m), Err(Error::DataCloneError(_))));
    assert_eq!(b.metrics().depth, depth);
    let (carrier, _keep) = MessageChannel::new().into_ports();
    carrier.post_message("", std::slice::from_ref(&b)).unwrap();
    let stale = webmessaging_core::Message {
        data: vec![],
        array_buffers: vec![],
        ports: vec![],
    };
    assert!(matches!(
        b.requeue_front(stale),
        Err(Error::InvalidStateError(_))
    ));
}
