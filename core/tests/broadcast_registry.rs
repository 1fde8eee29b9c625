//! The BroadcastChannel registry leaks nothing: closed and dropped channels leave it. One test
//! in its own binary, because `live_broadcast_channels()` counts the whole process.

use std::sync::Arc;
use std::thread;

use webmessaging_core::{live_broadcast_channels, BroadcastChannel, Origin};

#[test]
fn closed_and_dropped_channels_leave_the_registry() {
    assert_eq!(live_broadcast_channels(), 0);
    let o = Origin::parse("https://reg.test").unwrap_or_else(|e| panic!("{e}"));
    let a = BroadcastChannel::new("reg", Some(o.clone()));
    let b = BroadcastChannel::new("reg", Some(o.clone()));
    let c = BroadcastChannel::new("other", None);
    assert_eq!(live_broadcast_channels(), 3);

    a.close();
    assert_eq!(live_broadcast_channels(), 2);
    drop(a);
    assert_eq!(live_broadcast_channels(), 2);

    // A clone is the same channel: it stays until the last handle goes, queued messages or not.
    let b2 = b.clone();
    c.post_message("ignored").unwrap_or_else(|e| panic!("{e}"));
    let d = BroadcastChannel::new("reg", Some(o.clone()));
    d.post_message("queued at b")
        .unwrap_or_else(|e| panic!("{e}"));
    drop(b);
    assert_eq!(live_broadcast_channels(), 3);
    drop(b2);
    drop(c);
    drop(d);
    assert_eq!(live_broadcast_channels(), 0);

    // A notifier that captures its own channel keeps it registered (the keep-alive of a
    // channel with a listener) until close() drops the notifier and so the cycle.
    let sentinel = Arc::new(());
    let e = BroadcastChannel::new("reg", Some(o.clone()));
    let (held, s) = (e.clone(), sentinel.clone());
    e.set_notifier(Some(Arc::new(move || {
        let _ = (&held, &s);
    })));
    assert_eq!(Arc::strong_count(&sentinel), 2);
    e.close();
    assert_eq!(
        Arc::strong_count(&sentinel),
        1,
        "close() must drop the notifier"
    );
    drop(e);
    assert_eq!(live_broadcast_channels(), 0);

    // Many threads creating, posting to and dropping channels of one key.
    thread::scope(|s| {
        for t in 0..4 {
            let o = o.clone();
            s.spawn(move || {
                for i in 0..200 {
                    let ch = BroadcastChannel::new("reg", Some(o.clone()));
                    let _ = ch.post_message(vec![t, i as u8]);
                    if i % 3 == 0 {
                        ch.close();
                    }
                }
            });
        }
    });
    assert_eq!(live_broadcast_channels(), 0);
}
