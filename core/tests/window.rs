//! R-WIN (window.postMessage) and R-EV (MessageEvent) requirements of
//! `docs/requirements.md` that the core implements, one test each, named after
//! the requirement id. Not here, because they are binding-level (WebIDL conversion, JS event
//! objects): R-WIN-20/21 (dictionary and sequence conversion), R-EV-3/4/5 (frozen `ports`, the
//! constructor, `initMessageEvent`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use webmessaging_core::{
    Error, MessageChannel, MessageEvent, MessageEventType, MessagePort, Origin, TargetOrigin,
    Window, WindowPostMessageOptions,
};

/// Long enough never to fire on a healthy machine; only bounds a hang.
const PATIENCE: Duration = Duration::from_secs(10);

fn origin(url: &str) -> Origin {
    Origin::parse(url).unwrap_or_else(|e| panic!("{url:?}: {e}"))
}

fn window(url: &str) -> Window {
    Window::new(origin(url))
}

fn recv(w: &Window) -> MessageEvent {
    w.recv(Some(PATIENCE))
        .unwrap_or_else(|e| panic!("expected an event, got {e:?}"))
}

fn ok(result: webmessaging_core::Result<()>) {
    if let Err(e) = result {
        panic!("post failed: {e:?}");
    }
}

#[test]
fn r_win_1_options_overload_matches_three_argument_form() {
    let sender = window("https://a.test");
    let target = window("https://b.test");
    let (p1, q1) = MessageChannel::new().into_ports();
    let (p2, q2) = MessageChannel::new().into_ports();
    ok(target.post_message("x", "https://b.test", &[q1], &sender));
    let options = WindowPostMessageOptions {
        target_origin: "https://b.test".into(),
        transfer: vec![q2],
    };
    ok(target.post_message_with_options("x", &options, &sender));
    let (a, b) = (recv(&target), recv(&target));
    assert_eq!(
        (a.event_type, &a.data, &a.origin, a.ports.len()),
        (b.event_type, &b.data, &b.origin, b.ports.len())
    );
    assert_eq!(a.source, b.source);
    // And both ports arrived working.
    p1.post_message("1", &[]).unwrap();
    p2.post_message("2", &[]).unwrap();
    assert_eq!(
        a.ports[0].recv(Some(PATIENCE)).map(|m| m.data).ok(),
        Some(b"1".to_vec())
    );
    assert_eq!(
        b.ports[0].recv(Some(PATIENCE)).map(|m| m.data).ok(),
        Some(b"2".to_vec())
    );
    // A dropped message of one form is dropped in the other too.
    let options = WindowPostMessageOptions {
        target_origin: "https://c.test".into(),
        transfer: vec![],
    };
    ok(target.post_message_with_options("y", &options, &sender));
    ok(target.post_message("y", "https://c.test", &[], &sender));
    assert!(target.try_recv().is_none());
}

#[test]
fn r_win_2_default_target_origin_is_slash() {
    assert_eq!(WindowPostMessageOptions::default().target_origin, "/");
    let sender = window("https://a.test");
    let cross = window("https://b.test");
    let same = window("https://a.test:443/other");
    ok(cross.post_message_with_options("x", &WindowPostMessageOptions::default(), &sender));
    ok(same.post_message_with_options("x", &WindowPostMessageOptions::default(), &sender));
    assert!(cross.try_recv().is_none());
    assert_eq!(recv(&same).data, b"x");
}

#[test]
fn r_win_3_slash_is_the_senders_origin() {
    // "/" is the sender's origin, not the target's: a target at b.test does not get a "/"
    // message from a.test even though "/" would match the target's own origin.
    let sender = window("https://a.test");
    let target = window("https://b.test");
    ok(target.post_message("x", "/", &[], &sender));
    assert!(target.try_recv().is_none());
    assert_eq!(target.metrics().origin_mismatches, 1);
    // Resolved when posting: the sender navigating afterwards does not change it.
    let same = window("https://a.test");
    ok(same.post_message("y", "/", &[], &sender));
    sender.navigate(origin("https://elsewhere.test"));
    assert_eq!(recv(&same).data, b"y");
    assert_eq!(
        TargetOrigin::parse("/", &sender.origin()).ok(),
        Some(TargetOrigin::Origin(origin("https://elsewhere.test")))
    );
}

#[test]
fn r_win_4_asterisk_disables_the_check() {
    let sender = window("https://a.test");
    for target in [
        window("https://b.test"),
        window("http://c.test:8080"),
        Window::new(Origin::opaque()),
    ] {
        ok(target.post_message("x", "*", &[], &sender));
        let e = recv(&target);
        assert_eq!(e.origin, "https://a.test");
    }
    assert_eq!(
        TargetOrigin::parse("*", &sender.origin()).ok(),
        Some(TargetOrigin::Any)
    );
}

#[test]
fn r_win_5_unparseable_target_origin_is_syntax_error_before_transfer() {
    let sender = window("https://a.test");
    let target = window("https://example.com");
    let (_keep, travel) = MessageChannel::new().into_ports();
    for bad in [
        "example.com",
        "//example.com",
        "foo",
        " *",
        "",
        "null",
        "https://exa mple.com",
    ] {
        match target.post_message("x", bad, std::slice::from_ref(&travel), &sender) {
            Err(Error::SyntaxError(_)) => {}
            other => panic!("{bad:?}: expected SyntaxError, got {other:?}"),
        }
        assert!(matches!(
            TargetOrigin::parse(bad, &sender.origin()),
            Err(Error::SyntaxError(_))
        ));
    }
    // The SyntaxError comes first: nothing was transferred or queued.
    assert!(!travel.is_detached());
    assert_eq!(target.metrics().queue.enqueued, 0);
    // Even a transfer list that would fail with DataCloneError loses to the SyntaxError.
    let dup = [travel.clone(), travel.clone()];
    assert!(matches!(
        target.post_message("x", "foo", &dup, &sender),
        Err(Error::SyntaxError(_))
    ));
}

#[test]
fn r_win_6_target_origin_reduced_to_origin() {
    let sender = window("https://s.test");
    let target = window("https://a.test");
    for t in [
        "https://a.test:443/p?q#f",
        "https://a.test/deep/path/",
        "https://u:p@a.test#x",
    ] {
        ok(target.post_message(t, t, &[], &sender));
        assert_eq!(recv(&target).data, t.as_bytes());
    }
}

#[test]
fn r_win_7_opaque_target_origin_never_matches() {
    let sender = window("https://s.test");
    let targets = [
        window("https://a.test"),
        Window::new(Origin::opaque()),
        window("data:,x"),
    ];
    for target in &targets {
        for t in [
            "data:text/html,x",
            "about:blank",
            "javascript:0",
            "file:///tmp/x",
        ] {
            assert_eq!(target.post_message("x", t, &[], &sender), Ok(()));
        }
        assert!(target.try_recv().is_none());
        assert_eq!(target.metrics().origin_mismatches, 4);
    }
    // Even the opaque origin the target itself has: a parsed opaque origin is always new.
    let sandboxed = Window::new(origin("about:blank"));
    ok(sandboxed.post_message("x", "about:blank", &[], &sender));
    assert!(sandboxed.try_recv().is_none());
}

#[test]
fn r_win_8_origin_checked_at_delivery() {
    let sender = window("https://s.test");
    let target = window("https://a.test");
    ok(target.post_message("for a", "https://a.test", &[], &sender));
    ok(target.post_message("for b", "https://b.test", &[], &sender));
    // Both are queued: nothing was checked yet.
    assert_eq!(target.metrics().queue.depth, 2);
    target.navigate(origin("https://b.test"));
    let e = recv(&target);
    assert_eq!(e.data, b"for b");
    assert!(target.try_recv().is_none());
    // Navigating back and forth before delivery: only the origin at delivery counts.
    ok(target.post_message("for a again", "https://a.test", &[], &sender));
    target.navigate(origin("https://a.test"));
    assert_eq!(recv(&target).data, b"for a again");
}

#[test]
fn r_win_9_mismatch_drops_silently() {
    let sender = window("https://s.test");
    let target = window("https://a.test");
    let (keep, travel) = MessageChannel::new().into_ports();
    assert_eq!(
        target.post_message("dropped", "https://b.test", &[travel], &sender),
        Ok(())
    );
    ok(target.post_message("kept", "https://a.test", &[], &sender));
    // No message and no messageerror for the mismatch; the next message comes through.
    let e = recv(&target);
    assert_eq!(
        (e.event_type, e.data.as_slice()),
        (MessageEventType::Message, &b"kept"[..])
    );
    assert!(target.try_recv().is_none());
    assert_eq!(target.metrics().origin_mismatches, 1);
    // The transferred port was lost with the message: its peer is told.
    assert!(!keep.is_entangled());
    assert!(matches!(keep.recv(Some(PATIENCE)), Err(Error::Closed(_))));
}

#[test]
fn r_win_10_transfer_errors_thrown_synchronously() {
    let sender = window("https://s.test");
    let target = window("https://a.test");
    let (_keep, port) = MessageChannel::new().into_ports();
    let (_keep2, other) = MessageChannel::new().into_ports();
    // A port listed twice: DataCloneError, and nothing is detached or queued.
    let result = target.post_message(
        "x",
        "*",
        &[other.clone(), port.clone(), port.clone()],
        &sender,
    );
    assert!(
        matches!(result, Err(Error::DataCloneError(_))),
        "{result:?}"
    );
    assert!(!port.is_detached() && !other.is_detached());
    // A closed port: DataCloneError.
    let (closed, _peer) = MessageChannel::new().into_ports();
    closed.close();
    let result = target.post_message("x", "*", &[port.clone(), closed], &sender);
    assert!(
        matches!(result, Err(Error::DataCloneError(_))),
        "{result:?}"
    );
    assert!(!port.is_detached());
    assert_eq!(target.metrics().queue.enqueued, 0);
    assert!(target.try_recv().is_none());
}

#[test]
fn r_win_11_transfers_happen_even_if_dropped() {
    let sender = window("https://s.test");
    let target = window("https://a.test");
    let (keep, travel) = MessageChannel::new().into_ports();
    ok(target.post_message(
        "x",
        "https://other.test",
        std::slice::from_ref(&travel),
        &sender,
    ));
    // Detached right after the call, before any delivery.
    assert!(travel.is_detached());
    assert!(matches!(travel.post_message("y", &[]), Ok(())));
    assert!(matches!(
        travel.try_recv(),
        Err(Error::InvalidStateError(_))
    ));
    assert!(target.try_recv().is_none());
    assert!(!keep.is_entangled());
}

#[test]
fn r_win_12_event_origin_is_senders_serialized_origin() {
    let target = window("https://t.test");
    for (sender_url, expected) in [
        ("https://a.test:443/page", "https://a.test"),
        ("http://a.test:8080/", "http://a.test:8080"),
        ("https://BÜCHER.test", "https://xn--bcher-kva.test"),
        ("https://[::1]:443", "https://[::1]"),
        ("file:///home/a.html", "null"),
    ] {
        let sender = window(sender_url);
        ok(target.post_message("x", "*", &[], &sender));
        assert_eq!(recv(&target).origin, expected, "sender {sender_url}");
    }
    // The origin is the sender's when it posted, even if it navigates before delivery.
    let sender = window("https://a.test");
    ok(target.post_message("x", "*", &[], &sender));
    sender.navigate(origin("https://b.test"));
    assert_eq!(recv(&target).origin, "https://a.test");
}

#[test]
fn r_win_13_event_source_can_reply() {
    let a = window("https://a.test");
    let b = window("https://b.test");
    ok(b.post_message("ping", "https://b.test", &[], &a));
    let e = recv(&b);
    let source = e
        .source
        .clone()
        .unwrap_or_else(|| panic!("window events carry a source"));
    assert!(source == a && !source.is_closed());
    assert_eq!(source.window().as_ref(), Some(&a));
    ok(source.post_message("pong", &e.origin, &[], &b));
    let reply = recv(&a);
    assert_eq!(
        (reply.data.as_slice(), reply.origin.as_str()),
        (&b"pong"[..], "https://b.test")
    );
    assert_eq!(reply.source.as_ref(), Some(&b.proxy()));
}

#[test]
fn r_win_14_ports_in_transfer_order() {
    let sender = window("https://s.test");
    let target = window("https://t.test");
    let channels: Vec<(MessagePort, MessagePort)> =
        (0..3).map(|_| MessageChannel::new().into_ports()).collect();
    // Transfer order differs from creation order; the message body mentions none of them.
    let transfer = [
        channels[2].1.clone(),
        channels[0].1.clone(),
        channels[1].1.clone(),
    ];
    ok(target.post_message("body", "*", &transfer, &sender));
    let e = recv(&target);
    assert_eq!(e.ports.len(), 3);
    for (i, keep) in [2, 0, 1].into_iter().enumerate() {
        channels[keep]
            .0
            .post_message(format!("via {keep}").as_str(), &[])
            .unwrap();
        let got = e.ports[i].recv(Some(PATIENCE)).map(|m| m.data);
        assert_eq!(
            got.ok(),
            Some(format!("via {keep}").into_bytes()),
            "port {i}"
        );
    }
}

#[test]
fn r_win_15_last_event_id_empty_and_data_cloned() {
    let sender = window("https://s.test");
    let target = window("https://t.test");
    let payload = webmessaging_core::Payload {
        data: vec![0xff, 0x0f, 0x22, 0x01, b'x'],
        array_buffers: vec![vec![1, 2, 3].into()],
    };
    ok(target.post_message(payload.clone(), "*", &[], &sender));
    let e = recv(&target);
    assert_eq!(e.last_event_id, "");
    assert_eq!(
        (e.data, e.array_buffers),
        (payload.data, payload.array_buffers)
    );
}

#[test]
fn r_win_16_undeserializable_data_gives_messageerror_and_queue_goes_on() {
    let sender = window("https://s.test");
    let target = window("https://t.test");
    let (keep, travel) = MessageChannel::new().into_ports();
    ok(target.post_message(&b"\x00not a valid payload"[..], "*", &[travel], &sender));
    ok(target.post_message("next", "*", &[], &sender));
    // The receiver's decoder rejects the first payload: it becomes a messageerror with origin
    // and source set, null data and no ports.
    let e = recv(&target).into_message_error();
    assert_eq!(e.event_type, MessageEventType::MessageError);
    assert_eq!(e.event_type.as_str(), "messageerror");
    assert!(e.is_message_error());
    assert_eq!(e.origin, "https://s.test");
    assert!(e.source.as_ref().is_some_and(|s| *s == sender));
    assert!(e.data.is_empty() && e.ports.is_empty() && e.array_buffers.is_empty());
    // The ports it carried are lost (closed), and the queue goes on.
    assert!(matches!(keep.recv(Some(PATIENCE)), Err(Error::Closed(_))));
    assert_eq!(recv(&target).data, b"next");
}

#[test]
fn r_win_17_delivery_is_asynchronous() {
    let sender = window("https://s.test");
    let target = window("https://t.test");
    let flag = Arc::new(AtomicBool::new(false));
    let notified = Arc::new(AtomicUsize::new(0));
    let n = notified.clone();
    target.set_notifier(Some(Arc::new(move || {
        n.fetch_add(1, Ordering::SeqCst);
    })));
    ok(target.post_message("x", "*", &[], &sender));
    flag.store(true, Ordering::SeqCst);
    // The notifier only says "something is queued"; the event is still waiting.
    assert_eq!(notified.load(Ordering::SeqCst), 1);
    assert_eq!(target.metrics().queue.depth, 1);
    assert_eq!(target.metrics().queue.delivered, 0);
    let _ = recv(&target);
    assert!(flag.load(Ordering::SeqCst));
}

#[test]
fn r_win_18_messages_arrive_in_posting_order() {
    let target = window("https://t.test");
    let senders: Vec<Window> = (0..4)
        .map(|i| window(&format!("https://s{i}.test")))
        .collect();
    thread::scope(|s| {
        for sender in &senders {
            let target = &target;
            s.spawn(move || {
                for i in 0..100u32 {
                    // Every other message targets a wrong origin and must vanish without a gap.
                    let to = if i % 2 == 0 {
                        "https://t.test"
                    } else {
                        "https://nope.test"
                    };
                    ok(target.post_message(i.to_le_bytes().to_vec(), to, &[], sender));
                }
            });
        }
    });
    let mut last: std::collections::HashMap<String, u32> = Default::default();
    let mut count = 0;
    while let Some(e) = target.try_recv() {
        let i = u32::from_le_bytes(
            e.data
                .as_slice()
                .try_into()
                .unwrap_or_else(|_| panic!("4 bytes")),
        );
        assert_eq!(i % 2, 0);
        if let Some(prev) = last.insert(e.origin.clone(), i) {
            assert_eq!(i, prev + 2, "out of order from {}", e.origin);
        }
        count += 1;
    }
    assert_eq!(count, 4 * 50);
    assert_eq!(target.metrics().origin_mismatches, 4 * 50);
}

#[test]
fn r_win_19_post_to_own_window() {
    let w = window("https://a.test");
    ok(w.post_message("self", "*", &[], &w));
    ok(w.post_message("self, same origin", "/", &[], &w));
    ok(w.post_message("self, wrong origin", "https://b.test", &[], &w));
    let e = recv(&w);
    assert_eq!(
        (e.data.as_slice(), e.origin.as_str()),
        (&b"self"[..], "https://a.test")
    );
    assert!(e.source.as_ref().is_some_and(|s| *s == w));
    assert_eq!(recv(&w).data, b"self, same origin");
    assert!(w.try_recv().is_none());
    // An opaque window is the same origin as itself: "/" reaches it, and it reports "null".
    let sandboxed = Window::new(Origin::opaque());
    ok(sandboxed.post_message("opaque self", "/", &[], &sandboxed));
    let e = recv(&sandboxed);
    assert_eq!(
        (e.data.as_slice(), e.origin.as_str()),
        (&b"opaque self"[..], "null")
    );
}

#[test]
fn r_ev_1_event_types_are_message_and_messageerror() {
    let w = window("https://a.test");
    ok(w.post_message("x", "*", &[], &w));
    let e = recv(&w);
    assert_eq!(e.event_type, MessageEventType::Message);
    assert_eq!(e.event_type.to_string(), "message");
    assert!(!e.is_message_error());
    assert_eq!(
        e.into_message_error().event_type.to_string(),
        "messageerror"
    );
}

#[test]
fn r_ev_2_unset_fields_keep_defaults() {
    let w = window("https://a.test");
    ok(w.post_message("x", "*", &[], &w));
    let e = recv(&w);
    assert_eq!(e.last_event_id, "");
    assert!(e.ports.is_empty() && e.array_buffers.is_empty());
    // messageerror: data null (empty), ports empty, origin and source still set.
    let e = e.into_message_error();
    assert!(e.data.is_empty() && e.ports.is_empty());
    assert_eq!(
        (e.origin.as_str(), e.last_event_id.as_str()),
        ("https://a.test", "")
    );
    assert!(e.source.is_some());
}

#[test]
fn r_ev_6_opaque_sender_origin_serializes_to_null() {
    let target = window("https://t.test");
    for sender in [
        Window::new(Origin::opaque()),
        window("data:text/html,x"),
        window("about:blank"),
    ] {
        ok(target.post_message("x", "*", &[], &sender));
        assert_eq!(recv(&target).origin, "null");
    }
}

#[test]
fn window_handles_form_no_cycle_and_closed_windows_drop_posts() {
    // A window holding a message it posted to itself (and a port) is freed when its host
    // drops it: queued events hold only weak source handles.
    let w = window("https://a.test");
    let proxy = w.proxy();
    let (keep, travel) = MessageChannel::new().into_ports();
    ok(w.post_message("to self", "*", &[travel], &w));
    drop(w);
    assert!(proxy.is_closed() && proxy.window().is_none());
    // The port inside the dropped queue was closed with it.
    assert!(matches!(keep.recv(Some(PATIENCE)), Err(Error::Closed(_))));
    // Posting to a closed window still validates and transfers, then goes nowhere.
    let sender = window("https://s.test");
    assert!(matches!(
        proxy.post_message("x", "nope", &[], &sender),
        Err(Error::SyntaxError(_))
    ));
    let (keep, travel) = MessageChannel::new().into_ports();
    ok(proxy.post_message("x", "*", std::slice::from_ref(&travel), &sender));
    assert!(travel.is_detached() && !keep.is_entangled());
}

#[test]
fn window_notifier_runs_with_no_lock_held() {
    let target = window("https://t.test");
    let sender = window("https://s.test");
    let (tx, rx) = mpsc::channel();
    // The notifier drains the window itself: with a lock held this would deadlock. It captures
    // a proxy, not a `Window`, so the window does not keep itself alive.
    let proxy = target.proxy();
    target.set_notifier(Some(Arc::new(move || {
        if let Some(t) = proxy.window() {
            while let Some(e) = t.try_recv() {
                let _ = tx.send(e.data);
            }
        }
    })));
    let weak = target.proxy();
    let poster = thread::spawn(move || {
        for i in 0..3u8 {
            ok(target.post_message(vec![i], "*", &[], &sender));
        }
    });
    for i in 0..3u8 {
        assert_eq!(rx.recv_timeout(PATIENCE).ok(), Some(vec![i]));
    }
    let _ = poster.join();
    assert!(
        weak.is_closed(),
        "the notifier must not keep the window alive"
    );
}

#[test]
fn resolved_target_origin_can_be_reused() {
    let sender = window("https://s.test");
    let target = window("https://a.test");
    let to = TargetOrigin::parse("https://a.test/ignored", &sender.origin())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(to.matches(&origin("https://a.test:443")));
    assert!(!to.matches(&origin("https://b.test")));
    ok(target.post_message_to("1", &to, &[], &sender));
    ok(target.proxy().post_message_to("2", &to, &[], &sender));
    assert_eq!(recv(&target).data, b"1");
    assert_eq!(recv(&target).data, b"2");
}

#[test]
fn handles_and_events_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Window>();
    send_sync::<webmessaging_core::WindowProxy>();
    send_sync::<webmessaging_core::BroadcastChannel>();
    send_sync::<Origin>();
    send_sync::<TargetOrigin>();
    fn send<T: Send>() {}
    send::<MessageEvent>();
    // And a reply really works from another thread.
    let (a, b) = (window("https://a.test"), window("https://b.test"));
    ok(b.post_message("ping", "*", &[], &a));
    let e = recv(&b);
    let replier = thread::spawn(move || {
        if let Some(source) = &e.source {
            ok(source.post_message("pong", &e.origin, &[], &b));
        }
    });
    let _ = replier.join();
    assert_eq!(recv(&a).data, b"pong");
}
