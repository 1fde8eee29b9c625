//! Window messaging under contention: senders posting (with ports) while the target navigates
//! back and forth and a receiver drains. Checks that nothing is lost, duplicated or reordered,
//! that `"*"` messages always arrive, and that dropped messages' ports are closed rather than
//! leaked. One test in its own binary, because `live_mailboxes()` counts the whole process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use webmessaging_core::{live_mailboxes, MessageChannel, Origin, Window};

const SENDERS: usize = 4;
const PER_SENDER: u32 = 400;

fn origin(url: &str) -> Origin {
    Origin::parse(url).unwrap_or_else(|e| panic!("{url:?}: {e}"))
}

#[test]
fn window_posts_racing_navigation_lose_nothing_and_leak_nothing() {
    let (a, b) = (origin("https://a.test"), origin("https://b.test"));
    let target = Window::new(a.clone());
    let done = AtomicBool::new(false);
    let mut kept_ports = Vec::new();

    let (delivered, star_delivered) = thread::scope(|s| {
        let senders: Vec<_> = (0..SENDERS)
            .map(|k| {
                let target = &target;
                s.spawn(move || {
                    let me = Window::new(origin(&format!("https://sender{k}.test")));
                    let mut keep = Vec::new();
                    for i in 0..PER_SENDER {
                        let to = ["https://a.test", "https://b.test", "*"][(i % 3) as usize];
                        let (mine, travel) = MessageChannel::new().into_ports();
                        let mut data = vec![k as u8];
                        data.extend_from_slice(&i.to_le_bytes());
                        if let Err(e) = target.post_message(data, to, &[travel], &me) {
                            panic!("post failed: {e}");
                        }
                        keep.push(mine);
                    }
                    keep
                })
            })
            .collect();
        let navigator = {
            let (target, done) = (&target, &done);
            s.spawn(move || {
                let mut flip = false;
                while !done.load(Ordering::SeqCst) {
                    target.navigate(if flip { a.clone() } else { b.clone() });
                    flip = !flip;
                    thread::yield_now();
                }
            })
        };
        let receiver = {
            let (target, done) = (&target, &done);
            s.spawn(move || {
                let mut next = [0u32; SENDERS];
                let (mut delivered, mut star) = (0u32, 0u32);
                loop {
                    match target.recv(Some(Duration::from_millis(50))) {
                        Ok(e) => {
                            let k = e.data[0] as usize;
                            let i =
                                u32::from_le_bytes([e.data[1], e.data[2], e.data[3], e.data[4]]);
                            assert!(i >= next[k], "sender {k}: {i} after {}", next[k]);
                            next[k] = i + 1;
                            assert_eq!(e.ports.len(), 1);
                            delivered += 1;
                            star += u32::from(i % 3 == 2);
                        }
                        Err(_) if done.load(Ordering::SeqCst) => break,
                        Err(_) => {}
                    }
                }
                (delivered, star)
            })
        };
        for sender in senders {
            match sender.join() {
                Ok(keep) => kept_ports.extend(keep),
                Err(_) => panic!("a sender panicked"),
            }
        }
        done.store(true, Ordering::SeqCst);
        let _ = navigator.join();
        match receiver.join() {
            Ok(counts) => counts,
            Err(_) => panic!("the receiver panicked"),
        }
    });

    let total = SENDERS as u32 * PER_SENDER;
    let metrics = target.metrics();
    assert_eq!(metrics.queue.enqueued, u64::from(total));
    assert_eq!(
        u64::from(delivered) + metrics.origin_mismatches,
        u64::from(total)
    );
    assert_eq!(
        star_delivered,
        SENDERS as u32 * (PER_SENDER / 3),
        "every \"*\" message arrives"
    );
    // Ports of dropped messages were closed; those delivered were dropped by the receiver.
    assert!(kept_ports.iter().all(|p| !p.is_entangled()));
    drop(kept_ports);
    drop(target);
    assert_eq!(
        live_mailboxes(),
        0,
        "no port mailbox may outlive its handles"
    );
}
