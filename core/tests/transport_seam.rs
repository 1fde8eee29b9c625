//! The small port API a transport builds on: close with a reason, take a port as a transfer
//! would, and mailbox identities to recognize a port's peer.

use webmessaging_core::{CloseNotice, CloseReason, Error, MessageChannel};

#[test]
fn close_with_reason_reaches_the_peer_after_earlier_messages() {
    let (a, b) = MessageChannel::new().into_ports();
    a.post_message("first", &[]).unwrap();
    a.close_with(CloseReason::Lost);
    assert!(a.is_detached());
    assert_eq!(b.try_recv().unwrap().unwrap().data, b"first");
    match b.try_recv() {
        Err(Error::Closed(n)) => assert_eq!(
            n,
            CloseNotice {
                reason: CloseReason::Lost,
                by_peer: true
            }
        ),
        other => panic!("{other:?}"),
    }
    // Idempotent, and the first reason stays.
    a.close_with(CloseReason::Closed);
    assert!(matches!(b.try_recv(), Err(Error::Closed(n)) if n.reason == CloseReason::Lost));
}

#[test]
fn take_transfer_moves_the_mailbox_with_its_backlog() {
    let (a, b) = MessageChannel::new().into_ports();
    a.post_message("queued", &[]).unwrap();
    let moved = b.take_transfer().unwrap();
    assert!(b.is_detached());
    assert!(b.mailbox_id().is_none());
    assert!(
        b.take_transfer().is_err(),
        "a detached port cannot be taken twice"
    );
    assert_eq!(moved.try_recv().unwrap().unwrap().data, b"queued");
    moved.post_message("back", &[]).unwrap();
    assert_eq!(a.try_recv().unwrap().unwrap().data, b"back");
    a.close();
    assert!(a.take_transfer().is_err(), "a closed port cannot be taken");
}

#[test]
fn mailbox_ids_name_the_peer_until_the_channel_closes() {
    let (a, b) = MessageChannel::new().into_ports();
    let (ida, idb) = (a.mailbox_id().unwrap(), b.mailbox_id().unwrap());
    assert_ne!(ida, idb);
    assert_eq!(a.peer_mailbox_id(), Some(idb));
    assert_eq!(b.peer_mailbox_id(), Some(ida));
    // The id follows the mailbox through a transfer.
    let (c, d) = MessageChannel::new().into_ports();
    c.post_message("carry", std::slice::from_ref(&b)).unwrap();
    let b2 = d.try_recv().unwrap().unwrap().ports.remove(0);
    assert_eq!(b2.mailbox_id(), Some(idb));
    assert_eq!(a.peer_mailbox_id(), Some(idb));
    a.close();
    assert_eq!(a.peer_mailbox_id(), None);
    assert_eq!(b2.peer_mailbox_id(), None);
}
