//! Stress: 8 threads each post ≥ 100,000 messages over ports that are randomly transferred
//! between the threads and occasionally closed. Checks: nothing lost (except what a close makes
//! the standard drop), nothing duplicated, FIFO per sender, and no mailbox alive at the end.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use webmessaging_core::{live_mailboxes, Error, MessageChannel, MessagePort};

const THREADS: usize = 8;
const CHANNELS: usize = 32;
const PER_THREAD: u64 = 100_000;

/// One direction of one data channel: `end` 0 sends to end 1 and vice versa.
#[derive(Default)]
struct Direction {
    sent: AtomicU64,
    received: AtomicU64,
}

struct Shared {
    directions: Vec<[Direction; 2]>,
    /// Set when either end of a channel was closed: later posts may go nowhere.
    closed: Vec<AtomicBool>,
    closed_count: AtomicUsize,
    done_sending: AtomicUsize,
}

fn encode(channel: usize, end: usize, seq: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(17);
    v.extend_from_slice(&(channel as u64).to_le_bytes());
    v.push(end as u8);
    v.extend_from_slice(&seq.to_le_bytes());
    v
}

fn decode(data: &[u8]) -> (usize, usize, u64) {
    let channel = u64::from_le_bytes(data[0..8].try_into().unwrap()) as usize;
    let seq = u64::from_le_bytes(data[9..17].try_into().unwrap());
    (channel, data[8] as usize, seq)
}

/// A data port a thread owns right now.
struct Owned {
    port: MessagePort,
    channel: usize,
    end: usize,
    closed: bool,
}

/// Takes everything queued at `owned`, checking each message is the next of its direction.
fn receive_all(owned: &mut Owned, shared: &Shared) {
    loop {
        match owned.port.try_recv() {
            Ok(Some(m)) => {
                let (channel, end, seq) = decode(&m.data);
                assert_eq!(
                    (channel, end),
                    (owned.channel, 1 - owned.end),
                    "misrouted message"
                );
                let dir = &shared.directions[channel][end];
                let expected = dir.received.fetch_add(1, Ordering::SeqCst);
                assert_eq!(
                    seq, expected,
                    "lost, duplicated or reordered on channel {channel}"
                );
            }
            Ok(None) => return,
            Err(Error::Closed(_)) => {
                assert!(shared.closed[owned.channel].load(Ordering::SeqCst));
                owned.closed = true;
                return;
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
}

fn worker(
    me: usize,
    mut owned: Vec<Owned>,
    inbox: MessagePort,
    outboxes: Vec<MessagePort>,
    shared: Arc<Shared>,
    barrier: Arc<Barrier>,
) {
    let mut rng = StdRng::seed_from_u64(0x5eed + me as u64);
    let mut sent = 0u64;
    let mut done = false;
    let take_arrivals = |owned: &mut Vec<Owned>, wait: Option<Duration>| {
        let mut wait = wait;
        loop {
            let m = match wait.take() {
                Some(w) => inbox.recv(Some(w)),
                None => inbox.try_recv().and_then(|m| m.ok_or(Error::Timeout)),
            };
            let Ok(mut m) = m else { return };
            let (channel, end, _) = decode(&m.data);
            owned.push(Owned {
                port: m.ports.remove(0),
                channel,
                end,
                closed: false,
            });
        }
    };
    // Everyone keeps posting and passing ports on until every thread has posted its quota, so
    // no thread can be starved of ports by one that has finished.
    while shared.done_sending.load(Ordering::SeqCst) < THREADS {
        take_arrivals(&mut owned, None);
        for o in owned.iter_mut().filter(|o| !o.closed) {
            for _ in 0..rng.random_range(1..32) {
                let dir = &shared.directions[o.channel][o.end];
                let seq = dir.sent.fetch_add(1, Ordering::SeqCst);
                o.port
                    .post_message(encode(o.channel, o.end, seq), &[])
                    .unwrap();
                sent += 1;
            }
        }
        // Hand a random port to a random thread, carrying its identity in the message.
        let movable: Vec<usize> = (0..owned.len())
            .filter(|&i| !owned[i].port.is_detached())
            .collect();
        if !movable.is_empty() && rng.random_bool(0.3) {
            let o = owned.swap_remove(movable[rng.random_range(0..movable.len())]);
            let to = rng.random_range(0..THREADS);
            outboxes[to]
                .post_message(encode(o.channel, o.end, 0), &[o.port])
                .unwrap();
        }
        // Now and then close one, leaving most channels open so every thread can finish.
        if !owned.is_empty()
            && rng.random_bool(0.002)
            && shared.closed_count.load(Ordering::SeqCst) < CHANNELS / 4
        {
            let i = rng.random_range(0..owned.len());
            if !shared.closed[owned[i].channel].swap(true, Ordering::SeqCst) {
                shared.closed_count.fetch_add(1, Ordering::SeqCst);
            }
            owned[i].port.close();
            owned[i].closed = true;
        }
        if !done && sent >= PER_THREAD {
            done = true;
            shared.done_sending.fetch_add(1, Ordering::SeqCst);
        }
        for o in owned.iter_mut() {
            receive_all(o, &shared);
        }
        if owned.is_empty() {
            take_arrivals(&mut owned, Some(Duration::from_millis(1)));
        }
    }
    // Nobody posts any more. Collect ports still in flight, then drain everything.
    barrier.wait();
    take_arrivals(&mut owned, None);
    for o in owned.iter_mut() {
        receive_all(o, &shared);
    }
    barrier.wait();
}

#[test]
fn eight_threads_with_random_transfers_and_closes_lose_nothing() {
    let baseline = live_mailboxes();
    let shared = Arc::new(Shared {
        directions: (0..CHANNELS).map(|_| Default::default()).collect(),
        closed: (0..CHANNELS).map(|_| AtomicBool::new(false)).collect(),
        closed_count: AtomicUsize::new(0),
        done_sending: AtomicUsize::new(0),
    });
    let inboxes: Vec<(MessagePort, MessagePort)> = (0..THREADS)
        .map(|_| MessageChannel::new().into_ports())
        .collect();
    let mut initial: HashMap<usize, Vec<Owned>> = HashMap::new();
    for channel in 0..CHANNELS {
        let (p0, p1) = MessageChannel::new().into_ports();
        for (end, port) in [(0, p0), (1, p1)] {
            let owner = (channel * 2 + end) % THREADS;
            initial.entry(owner).or_default().push(Owned {
                port,
                channel,
                end,
                closed: false,
            });
        }
    }
    let barrier = Arc::new(Barrier::new(THREADS));
    let outboxes: Vec<MessagePort> = inboxes.iter().map(|(send, _)| send.clone()).collect();
    let handles: Vec<_> = inboxes
        .into_iter()
        .enumerate()
        .map(|(me, (_, inbox))| {
            let owned = initial.remove(&me).unwrap_or_default();
            let (outboxes, shared, barrier) = (outboxes.clone(), shared.clone(), barrier.clone());
            thread::spawn(move || worker(me, owned, inbox, outboxes, shared, barrier))
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    drop(outboxes);
    let mut total = 0;
    for (channel, dirs) in shared.directions.iter().enumerate() {
        for dir in dirs {
            let (sent, received) = (
                dir.sent.load(Ordering::SeqCst),
                dir.received.load(Ordering::SeqCst),
            );
            total += sent;
            if shared.closed[channel].load(Ordering::SeqCst) {
                assert!(received <= sent);
            } else {
                assert_eq!(
                    received, sent,
                    "channel {channel} lost messages without a close"
                );
            }
        }
    }
    assert!(total >= PER_THREAD * THREADS as u64);
    assert_eq!(live_mailboxes(), baseline, "mailboxes outlived the test");
}
