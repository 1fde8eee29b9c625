//! R-BC (BroadcastChannel) requirements of `docs/requirements.md` (R-BC) that the core
//! implements, one test each, named after the requirement id. Each test uses its own channel
//! names, because the registry is process-wide and tests run in parallel.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use webmessaging_core::clone::{self, Graph, Object, Value};
use webmessaging_core::{
    BroadcastChannel, CloseReason, Error, MessageChannel, MessageEvent, Origin,
};

const PATIENCE: Duration = Duration::from_secs(10);

fn origin(url: &str) -> Origin {
    Origin::parse(url).unwrap_or_else(|e| panic!("{url:?}: {e}"))
}

fn chan(name: &str) -> BroadcastChannel {
    BroadcastChannel::new(name, Some(origin("https://bc.test")))
}

fn recv(c: &BroadcastChannel) -> MessageEvent {
    c.recv(Some(PATIENCE))
        .unwrap_or_else(|e| panic!("expected a message, got {e:?}"))
}

fn nothing(c: &BroadcastChannel) -> bool {
    matches!(c.try_recv(), Ok(None))
}

fn post(c: &BroadcastChannel, data: &str) {
    if let Err(e) = c.post_message(data) {
        panic!("post failed: {e:?}");
    }
}

#[test]
fn r_bc_1_empty_and_numeric_names_are_allowed() {
    let a = chan("");
    let b = chan("");
    let one = chan("1");
    assert_eq!((a.name(), one.name()), (String::new(), "1".to_owned()));
    post(&a, "to the empty name");
    assert_eq!(recv(&b).data, b"to the empty name");
    assert!(nothing(&one));
}

#[test]
fn r_bc_2_name_round_trips_unchanged() {
    let names = [
        "r_bc_2 caf\u{e9} \u{1f600}",
        "r_bc_2 \u{212b} (not NFC-normalized)",
    ];
    for name in names {
        assert_eq!(chan(name).name(), name);
    }
    // A lone surrogate (legal in a DOMString) survives and matches exactly.
    let lone: Vec<u16> = "r_bc_2 ".encode_utf16().chain([0xd800]).collect();
    let a = BroadcastChannel::new_utf16(&lone, Some(origin("https://bc.test")));
    let b = BroadcastChannel::new_utf16(&lone, Some(origin("https://bc.test")));
    let replaced = chan("r_bc_2 \u{fffd}");
    assert_eq!(a.name_utf16(), lone.as_slice());
    post(&a, "x");
    assert_eq!(recv(&b).data, b"x");
    assert!(nothing(&replaced));
}

#[test]
fn r_bc_3_others_with_same_name_and_origin_receive() {
    let a = chan("r_bc_3");
    let b = chan("r_bc_3");
    let c = BroadcastChannel::new("r_bc_3", Some(origin("https://bc.test:443/other/page")));
    post(&a, "hello");
    assert_eq!(recv(&b).data, b"hello");
    assert_eq!(recv(&c).data, b"hello");
    // Only the name and the origin select receivers.
    let other_origin = BroadcastChannel::new("r_bc_3", Some(origin("https://other.test")));
    let other_name = chan("r_bc_3 ");
    post(&b, "again");
    assert_eq!(recv(&a).data, b"again");
    assert!(nothing(&other_origin) && nothing(&other_name));
}

#[test]
fn r_bc_4_sender_never_receives_its_own_message() {
    let a = chan("r_bc_4");
    let notified = Arc::new(AtomicUsize::new(0));
    let n = notified.clone();
    a.set_notifier(Some(Arc::new(move || {
        n.fetch_add(1, Ordering::SeqCst);
    })));
    post(&a, "1");
    post(&a, "2");
    assert!(nothing(&a));
    assert_eq!(notified.load(Ordering::SeqCst), 0);
    // A clone is the same object, so it does not receive either.
    let same = a.clone();
    post(&same, "3");
    assert!(nothing(&a));
}

#[test]
fn r_bc_5_names_compared_exactly() {
    let a = chan("r_bc_5 x");
    let upper = chan("r_bc_5 X");
    let spaced = chan("r_bc_5 x ");
    let composed = chan("r_bc_5 \u{e9}");
    let decomposed = chan("r_bc_5 e\u{301}");
    post(&a, "x");
    post(&composed, "e");
    assert!(nothing(&upper) && nothing(&spaced) && nothing(&decomposed));
}

#[test]
fn r_bc_6_other_origins_receive_nothing() {
    let a = chan("r_bc_6");
    let http = BroadcastChannel::new("r_bc_6", Some(origin("http://bc.test")));
    let opaque = BroadcastChannel::new("r_bc_6", Some(Origin::opaque()));
    let default = BroadcastChannel::new("r_bc_6", None);
    post(&a, "x");
    assert!(nothing(&http) && nothing(&opaque) && nothing(&default));
    // Two separately made opaque origins are different origins.
    let opaque2 = BroadcastChannel::new("r_bc_6", Some(Origin::opaque()));
    post(&opaque, "y");
    assert!(nothing(&opaque2));
}

#[test]
fn r_bc_7_post_after_close_is_invalid_state() {
    let a = chan("r_bc_7");
    let b = chan("r_bc_7");
    a.close();
    assert!(a.is_closed());
    assert!(matches!(
        a.post_message("x"),
        Err(Error::InvalidStateError(_))
    ));
    assert!(nothing(&b));
}

#[test]
fn r_bc_10_serialization_errors_thrown_synchronously() {
    let o = Origin::parse("https://bc-value.test").unwrap_or_else(|e| panic!("{e}"));
    let a = BroadcastChannel::new("r_bc_10", Some(o.clone()));
    let b = BroadcastChannel::new("r_bc_10", Some(o));
    // A MessagePort cannot be serialized, and BroadcastChannel has no transfer list.
    let (_keep, port) = MessageChannel::new().into_ports();
    let mut g = Graph::new();
    let p = g.add(Object::MessagePort(port.clone()));
    g.root = p.into();
    assert!(matches!(a.post_value(&g), Err(Error::DataCloneError(_))));
    assert!(!port.is_detached());
    assert!(matches!(b.try_recv(), Ok(None)));
    // A serializable value goes through as the codec's bytes.
    let mut ok = Graph::new();
    ok.root = Value::from("hi");
    a.post_value(&ok).unwrap_or_else(|e| panic!("{e}"));
    let expected = clone::encode(&ok).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(b.recv(Some(PATIENCE)).map(|e| e.data).ok(), Some(expected));
    // After close, InvalidStateError comes before serialization (steps 2 and 3).
    a.close();
    assert!(matches!(a.post_value(&g), Err(Error::InvalidStateError(_))));
}

#[test]
fn r_bc_11_receivers_fixed_at_post_time() {
    let a = chan("r_bc_11");
    post(&a, "before");
    let late = chan("r_bc_11");
    assert!(nothing(&late));
    post(&a, "after");
    assert_eq!(recv(&late).data, b"after");
}

#[test]
fn r_bc_12_receiver_closed_before_delivery_gets_nothing() {
    let a = chan("r_bc_12");
    let b = chan("r_bc_12");
    let c = chan("r_bc_12");
    post(&a, "queued");
    b.close();
    match b.try_recv() {
        Err(Error::Closed(notice)) => assert_eq!(notice.reason, CloseReason::Closed),
        other => panic!("expected Closed, got {other:?}"),
    }
    assert!(matches!(b.recv(Some(PATIENCE)), Err(Error::Closed(_))));
    // The open receiver still gets it.
    assert_eq!(recv(&c).data, b"queued");
}

#[test]
fn r_bc_13_receivers_in_creation_order() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let receivers: Vec<BroadcastChannel> = (0..5).map(|_| chan("r_bc_13")).collect();
    for (i, r) in receivers.iter().enumerate() {
        let order = order.clone();
        r.set_notifier(Some(Arc::new(move || {
            order.lock().unwrap_or_else(|e| e.into_inner()).push(i)
        })));
    }
    let sender = chan("r_bc_13");
    post(&sender, "x");
    assert_eq!(
        *order.lock().unwrap_or_else(|e| e.into_inner()),
        vec![0, 1, 2, 3, 4]
    );
    // Posting from the middle of the list: the others, oldest first.
    for r in &receivers {
        while let Ok(Some(_)) = r.try_recv() {}
    }
    order.lock().unwrap_or_else(|e| e.into_inner()).clear();
    post(&receivers[2], "y");
    assert_eq!(
        *order.lock().unwrap_or_else(|e| e.into_inner()),
        vec![0, 1, 3, 4]
    );
}

#[test]
fn r_bc_14_messages_arrive_in_posting_order() {
    let receiver = chan("r_bc_14");
    let senders: Vec<BroadcastChannel> = (0..4).map(|_| chan("r_bc_14")).collect();
    thread::scope(|s| {
        for (k, sender) in senders.iter().enumerate() {
            s.spawn(move || {
                for i in 0..100u8 {
                    if let Err(e) = sender.post_message(vec![k as u8, i]) {
                        panic!("{e:?}");
                    }
                }
            });
        }
    });
    let mut next = [0u8; 4];
    for _ in 0..400 {
        let e = recv(&receiver);
        let (k, i) = (e.data[0] as usize, e.data[1]);
        assert_eq!(i, next[k], "sender {k} out of order");
        next[k] += 1;
    }
    assert!(nothing(&receiver));
    // Each sender also got the other three senders' 300 messages, in order per sender.
    for sender in &senders {
        let mut count = 0;
        while let Ok(Some(_)) = sender.try_recv() {
            count += 1;
        }
        assert_eq!(count, 300);
    }
}

#[test]
fn r_bc_15_event_fields() {
    let a = BroadcastChannel::new("r_bc_15", Some(origin("HTTPS://BC.TEST:443/x")));
    let b = BroadcastChannel::new("r_bc_15", Some(origin("https://bc.test")));
    post(&a, "data");
    let e = recv(&b);
    assert_eq!(e.event_type.as_str(), "message");
    assert_eq!(e.data, b"data");
    assert_eq!(e.origin, "https://bc.test");
    assert!(e.source.is_none() && e.ports.is_empty() && e.array_buffers.is_empty());
    assert_eq!(e.last_event_id, "");
    // An opaque origin serializes to "null" (R-EV-6).
    let opaque = Origin::opaque();
    let x = BroadcastChannel::new("r_bc_15", Some(opaque.clone()));
    let y = BroadcastChannel::new("r_bc_15", Some(opaque));
    post(&x, "o");
    assert_eq!(recv(&y).origin, "null");
}

#[test]
fn r_bc_16_deserialize_failure_is_messageerror_for_that_receiver_only() {
    let a = chan("r_bc_16");
    let b = chan("r_bc_16");
    let c = chan("r_bc_16");
    post(&a, "\u{0}not a serialized value");
    let mut good = Graph::new();
    good.root = Value::from("fine");
    a.post_value(&good).unwrap_or_else(|e| panic!("{e}"));
    // b fails to deserialize the first message: a messageerror with the origin set.
    let mut e = recv(&b);
    assert!(e.deserialize().is_err());
    assert_eq!(
        (e.event_type.as_str(), e.origin.as_str()),
        ("messageerror", "https://bc.test")
    );
    assert!(e.data.is_empty() && e.source.is_none());
    // c still has both messages as sent, and both receivers go on.
    assert_eq!(recv(&c).data, b"\0not a serialized value");
    for r in [&b, &c] {
        let mut e = recv(r);
        assert_eq!(e.deserialize().ok(), Some(good.clone()));
    }
}

#[test]
fn r_bc_18_no_start_needed() {
    let a = chan("r_bc_18");
    let b = chan("r_bc_18");
    let notified = Arc::new(AtomicUsize::new(0));
    let n = notified.clone();
    // Only a notifier (the listener): no start() call exists or is needed.
    b.set_notifier(Some(Arc::new(move || {
        n.fetch_add(1, Ordering::SeqCst);
    })));
    post(&a, "x");
    assert_eq!(notified.load(Ordering::SeqCst), 1);
    assert_eq!(recv(&b).data, b"x");
    // A notifier set after messages arrived fires at once.
    post(&a, "y");
    let late = Arc::new(AtomicUsize::new(0));
    let l = late.clone();
    b.set_notifier(Some(Arc::new(move || {
        l.fetch_add(1, Ordering::SeqCst);
    })));
    assert_eq!(late.load(Ordering::SeqCst), 1);
}

#[test]
fn r_bc_19_close_is_idempotent_and_final() {
    let a = chan("r_bc_19");
    let b = chan("r_bc_19");
    b.close();
    b.close();
    post(&a, "x");
    assert!(matches!(b.try_recv(), Err(Error::Closed(_))));
    // A blocked receive is woken by close.
    let c = chan("r_bc_19");
    let waiter = {
        let c = c.clone();
        thread::spawn(move || c.recv(None))
    };
    thread::sleep(Duration::from_millis(20));
    c.close();
    assert!(matches!(waiter.join().ok(), Some(Err(Error::Closed(_)))));
}

#[test]
fn default_origin_channels_talk_to_each_other_only() {
    let a = BroadcastChannel::new("default origin", None);
    let b = BroadcastChannel::new("default origin", None);
    let explicit = BroadcastChannel::new("default origin", Some(origin("https://bc.test")));
    assert!(a.origin().is_opaque());
    assert_eq!(a.origin(), b.origin());
    post(&a, "x");
    let e = recv(&b);
    assert_eq!(e.origin, "null");
    assert!(nothing(&explicit));
}

#[test]
fn dropped_receiver_gets_nothing_and_others_keep_working() {
    let a = chan("dropped receiver");
    let b = chan("dropped receiver");
    let c = chan("dropped receiver");
    drop(b);
    post(&a, "x");
    assert_eq!(recv(&c).data, b"x");
    // A channel kept alive only by its own notifier keeps receiving until closed (R-BC-20).
    let kept = chan("dropped receiver");
    let got = Arc::new(AtomicUsize::new(0));
    let (g, k) = (got.clone(), kept.clone());
    kept.set_notifier(Some(Arc::new(move || {
        while let Ok(Some(_)) = k.try_recv() {
            g.fetch_add(1, Ordering::SeqCst);
        }
    })));
    drop(kept);
    post(&a, "y");
    assert_eq!(got.load(Ordering::SeqCst), 1);
}
