//! The event queue every receiver is built on: ports, windows and broadcast channels share it.
//!
//! A queue is a FIFO of items plus an optional *end record* (a port's close notice), which is
//! always last because nothing is admitted once it is set. It owns the delivery mechanics the
//! standard leaves to "the event loop": enabling, a coalesced edge-triggered notifier, blocking
//! waits, optional capacity, and counters. Callers keep their own extra state (`X`) under the
//! producers' lock, so admission checks such as "is the sender still entangled with me" are
//! atomic with the append.
//!
//! Two locks, so that producers and consumers do not meet on every message (a two-lock queue
//! after Michael and Scott, with batches instead of nodes): producers append to the *tail* under
//! its lock, which also guards the end record, the caller's state, the notifier and capacity;
//! consumers take from the *head* under its own lock, and only when the head runs dry do they
//! take the tail lock and move the whole tail over at once (or, when it holds one item, take
//! just that one: the usual case of a consumer that keeps up). Each side sits on its own cache
//! lines. Both locks are spin locks ([`crate::sync::SpinLock`]): their critical sections are a
//! few dozen instructions, and a release that is a plain store spares every post and every
//! receive a locked instruction that would wait for the cross-core stores before it. Blocking
//! waits (receivers, bounded posts) sleep on condition variables through a separate `sleep`
//! mutex (see [`TailSide`]). Lock order: head, tail, then `sleep`; nothing else is held while
//! any of them is taken, and nobody sleeps holding the head or the tail lock.
use std::collections::VecDeque;
use std::time::Instant;

use crate::close::CloseNotice;
use crate::error::{Error, Result};
use crate::sync::{
    Arc, AtomicBool, AtomicU64, AtomicUsize, Condvar, Mutex, Ordering, SpinGuard, SpinLock,
};

/// Called when a receiver has something to deliver (see [`crate::MessagePort::set_notifier`]).
///
/// It is edge-triggered and coalesced: it fires once when an enabled queue goes from empty to
/// non-empty (or is enabled with a backlog, or gets its close record) and not again until a
/// receive call has found the queue empty. It is called with no lock held, on whichever thread
/// caused the edge, so it should only wake the real consumer (write to an eventfd, schedule a
/// task), not drain the queue itself.
pub type Notifier = Arc<dyn Fn() + Send + Sync>;

/// Optional limits on a receiving queue (beyond the standard, which has none).
///
/// Only [`crate::MessagePort::try_post`] and [`crate::MessagePort::post_timeout`] respect them;
/// plain `post_message` keeps the web's unbounded semantics. A single message larger than
/// `max_bytes` is still admitted into an empty queue, so it can always make progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capacity {
    /// Most messages the queue holds before bounded posts wait or fail.
    pub max_messages: Option<usize>,
    /// Most payload bytes the queue holds before bounded posts wait or fail.
    pub max_bytes: Option<usize>,
}

/// Counters of one receiving queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueMetrics {
    /// Messages waiting now.
    pub depth: usize,
    /// Payload bytes waiting now.
    pub queued_bytes: usize,
    /// The largest `depth` seen so far.
    pub high_water_mark: usize,
    /// Messages appended so far.
    pub enqueued: u64,
    /// Messages handed to a receiver so far.
    pub delivered: u64,
}

/// How a post treats a capacity limit.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Admission {
    /// Web semantics: ignore capacity.
    Unbounded,
    /// Fail with [`Error::Full`] when there is no room.
    Try,
    /// Wait for room until the deadline, then fail with [`Error::Timeout`].
    WaitUntil(Option<Instant>),
}

/// What a receive call found.
pub(crate) enum Popped<T> {
    Item(T),
    Empty,
    End(CloseNotice),
    /// The queue was handed to a new owner (a transferred port) after the caller looked it up.
    Moved,
}

/// The producers' side of a queue, under the tail lock.
///
/// `repr(C)`, hot fields first: a receiver that refills its head touches the lock word, the
/// items, the byte count and `head_bound`, and nothing else of the producers', so those sit
/// together by the lock (with `available` and `notified` just before it, see [`TailSide`]) and
/// a refill takes as few of the producers' cache lines as it can. The rest is the producers'
/// own and stays in their cache.
#[repr(C)]
pub(crate) struct Tail<T, X> {
    items: Vec<(T, usize)>,
    bytes: usize,
    /// At least the head's length: set when items move to the head, which only shrinks between
    /// moves, so a push reads the head's real length only when it may make a new high-water mark.
    head_bound: usize,
    end: Option<CloseNotice>,
    enabled: bool,
    /// The caller's extra state, guarded by the same lock.
    ext: X,
    notifier: Option<Notifier>,
    high_water_mark: usize,
    enqueued: u64,
    capacity: Capacity,
    reserved_messages: usize,
    reserved_bytes: usize,
}

impl<T, X> Tail<T, X> {
    fn has_room(&self, head: &Head<T>, bytes: usize) -> bool {
        let messages = head.items.len() + self.items.len() + self.reserved_messages;
        let queued = head.bytes + self.bytes + self.reserved_bytes;
        let messages_ok = self.capacity.max_messages.is_none_or(|m| messages < m);
        let bytes_ok = self
            .capacity
            .max_bytes
            .is_none_or(|m| queued == 0 || queued.saturating_add(bytes) <= m);
        messages_ok && bytes_ok
    }
}

/// The consumers' side of a queue, under the head lock: the older items, in order.
pub(crate) struct Head<T> {
    items: VecDeque<(T, usize)>,
    bytes: usize,
    delivered: u64,
}

/// Calls the notifier (user code) if there is one; the caller has released every lock.
#[inline]
fn notify(notifier: Option<Notifier>) {
    if let Some(n) = notifier {
        n();
    }
}

/// Space between the producers' and the consumers' fields, so that each side's hot words sit
/// on cache lines of its own (128 bytes: adjacent-line prefetch pairs lines). Padding rather
/// than alignment, which would make every mailbox an aligned (slower) allocation.
struct Gap {
    _bytes: [u8; 128],
}

impl Gap {
    const fn new() -> Self {
        Gap { _bytes: [0; 128] }
    }
}

/// `repr(C)`: the two words a receiver reads without the lock sit right before the lock word,
/// on the line of the hot fields of [`Tail`].
#[repr(C)]
struct TailSide<T, X> {
    /// Tail items plus the end record, mirrored outside the lock so a receiver can spin on it
    /// briefly before parking (a futex sleep and wake cost far more than a short spin).
    available: AtomicUsize,
    /// A notification fired and no receive call has found the queue empty since. Changed only
    /// under the tail lock; read without it by a receive call that empties the head, which needs
    /// the tail lock to re-arm only when this is set.
    notified: AtomicBool,
    state: SpinLock<Tail<T, X>>,
    /// What the condition variables wait with. A waiter checks under the tail lock, takes
    /// `sleep`, and only then lets go of the tail lock and waits; a waker takes `sleep` after
    /// the change it announces (made under the tail lock, then released), so a wake-up cannot
    /// fall between a waiter's check and its wait. Nobody takes the tail lock holding `sleep`.
    sleep: Mutex<()>,
    readable: Condvar,
    writable: Condvar,
    /// Receivers and bounded posts waiting on `readable` and `writable`. Raised under the tail
    /// lock before the waiter lets go of it, so a change made under that lock sees the waiter;
    /// lowered without it once awake (a stale count costs a needless wake-up, nothing more).
    readers_waiting: AtomicUsize,
    writers_waiting: AtomicUsize,
}

struct HeadSide<T> {
    state: SpinLock<Head<T>>,
    /// The head's length, mirrored for the high-water mark and for spinning receivers.
    len: AtomicUsize,
    /// Bumped (under both locks) each time the queue changes owner; a receive call started under
    /// an older owner stops. Atomic so a receiver can read it without taking a lock.
    epoch: AtomicU64,
    /// Whether a capacity is set (changed under both locks): then every receive takes the tail
    /// lock to wake bounded posts waiting for room.
    bounded: AtomicBool,
}

/// A FIFO with an end record, a notifier, capacity and counters. See the module docs.
#[repr(C)]
pub(crate) struct Queue<T, X> {
    tail: TailSide<T, X>,
    _gap: Gap,
    head: HeadSide<T>,
    _gap_after: Gap,
}

/// Backoff before a receiver parks: spin `2^step` times for steps below `SPIN_STEPS`, then
/// yield the CPU until `BACKOFF_STEPS` (the shape of crossbeam's `Backoff`, with fewer spins and
/// more yields). Short spins checked often: long PAUSE loops make a hypervisor deschedule the
/// vCPU. None under loom, whose model cannot explore unbounded spinning. What matters is how long
/// a receiver waits before it parks: a park costs the receiver a futex sleep and the poster a
/// futex wake. Measured (2026-12, 8 interleaved A/B runs on a loaded 2-core machine): 7 spins
/// then 6 yields, against 31 spins and no yield, took futex calls from ~6 to ~0.003 per 1,000
/// one-way messages, round-trip p50 from ~0.6x crossbeam's to ~0.34x, and one-way from ~0.75x
/// to ~0.84x; more spins and fewer yields did worse on both, and crossbeam's 127 spins then 4
/// yields made round trips slower (an earlier session).
const SPIN_STEPS: u32 = 3;
const BACKOFF_STEPS: u32 = if cfg!(loom) { 0 } else { 9 };

impl<T, X> Queue<T, X> {
    pub(crate) fn new(ext: X, enabled: bool) -> Self {
        Queue {
            tail: TailSide {
                available: AtomicUsize::new(0),
                notified: AtomicBool::new(false),
                state: SpinLock::new(Tail {
                    items: Vec::new(),
                    bytes: 0,
                    head_bound: 0,
                    end: None,
                    enabled,
                    ext,
                    notifier: None,
                    high_water_mark: 0,
                    enqueued: 0,
                    capacity: Capacity::default(),
                    reserved_messages: 0,
                    reserved_bytes: 0,
                }),
                sleep: Mutex::new(()),
                readable: Condvar::new(),
                writable: Condvar::new(),
                readers_waiting: AtomicUsize::new(0),
                writers_waiting: AtomicUsize::new(0),
            },
            _gap: Gap::new(),
            head: HeadSide {
                state: SpinLock::new(Head {
                    items: VecDeque::new(),
                    bytes: 0,
                    delivered: 0,
                }),
                len: AtomicUsize::new(0),
                epoch: AtomicU64::new(0),
                bounded: AtomicBool::new(false),
            },
            _gap_after: Gap::new(),
        }
    }

    /// The notifier to call once every lock is released, if this is an edge (under the tail
    /// lock). `head_has_items` says whether the head holds anything (the tail cannot see it).
    #[inline]
    fn edge(&self, st: &Tail<T, X>, head_has_items: bool) -> Option<Notifier> {
        let has_something = head_has_items || !st.items.is_empty() || st.end.is_some();
        if st.enabled && has_something && !self.tail.notified.load(Ordering::Relaxed) {
            if let Some(n) = &st.notifier {
                self.tail.notified.store(true, Ordering::Release);
                return Some(n.clone());
            }
        }
        None
    }

    /// Re-arms the notifier (under the tail lock): a receive call found the queue empty. Stores
    /// only when armed, so that a receiver that keeps finding the queue empty writes nothing on
    /// the producers' line.
    #[inline]
    fn rearm(&self) {
        if self.tail.notified.load(Ordering::Relaxed) {
            self.tail.notified.store(false, Ordering::Release);
        }
    }

    /// Both locks, in order.
    fn lock_both(&self) -> (SpinGuard<'_, Head<T>>, SpinGuard<'_, Tail<T, X>>) {
        let head = self.head.state.lock();
        (head, self.tail.state.lock())
    }

    /// Whether a receiver waits (read under the tail lock; wake it after letting go). A waiter
    /// counts itself under the tail lock before it lets go, so a change made under the lock
    /// sees every waiter that checked before it, and waking nobody costs no lock.
    #[inline]
    fn readers_wait(&self) -> bool {
        self.tail.readers_waiting.load(Ordering::Relaxed) > 0
    }

    /// Whether a bounded post waits (read under the tail lock; wake it after letting go).
    #[inline]
    fn writers_wait(&self) -> bool {
        self.tail.writers_waiting.load(Ordering::Relaxed) > 0
    }

    /// Wakes one waiter of `cv`. Called after the change it announces was made under the tail
    /// lock, and after letting go of that lock, so the waiter does not wake into a lock still
    /// held; see `TailSide::sleep` for why no wake-up is lost.
    #[cold]
    fn wake_one(&self, cv: &Condvar) {
        let _sleep = self.tail.sleep.lock();
        cv.notify_one();
    }

    /// Lets go of the tail lock `st`, then, if room was made (`room`), wakes one bounded post
    /// waiting for it.
    #[inline]
    fn unlock_waking_writer(&self, st: SpinGuard<'_, Tail<T, X>>, room: bool) {
        let wake = room && self.writers_wait();
        drop(st);
        if wake {
            self.wake_one(&self.tail.writable);
        }
    }

    /// Wakes every waiter of `cv`, as [`Queue::wake_one`] does one.
    #[cold]
    fn wake_all(&self, cv: &Condvar) {
        let _sleep = self.tail.sleep.lock();
        cv.notify_all();
    }

    /// Counts the caller in `waiting`, lets go of the tail lock `st` and waits on `cv` until
    /// woken (spuriously, perhaps) or `deadline`.
    fn wait(
        &self,
        st: SpinGuard<'_, Tail<T, X>>,
        cv: &Condvar,
        waiting: &AtomicUsize,
        deadline: Option<Instant>,
    ) {
        waiting.fetch_add(1, Ordering::Relaxed);
        // Taken before the tail lock goes: a change made under the tail lock after this point
        // is announced under `sleep`, which this holds until it waits.
        let sleep = self.tail.sleep.lock();
        drop(st);
        let sleep = match deadline {
            Some(d) => cv.wait_until(sleep, d),
            None => cv.wait(sleep),
        };
        drop(sleep);
        waiting.fetch_sub(1, Ordering::Relaxed);
    }

    /// Mirrors the tail's length and end record for spinning receivers (under the tail lock).
    #[inline]
    fn publish_tail(&self, tail: &Tail<T, X>) {
        let n = tail.items.len() + usize::from(tail.end.is_some());
        self.tail.available.store(n, Ordering::Release);
    }

    /// Runs `f` on the caller's extra state under the tail lock. `f` must not call user code.
    pub(crate) fn with_ext<R>(&self, f: impl FnOnce(&mut X) -> R) -> R {
        f(&mut self.tail.state.lock().ext)
    }

    /// The current owner epoch (see [`Popped::Moved`]).
    #[inline]
    pub(crate) fn epoch(&self) -> u64 {
        self.head.epoch.load(Ordering::Acquire)
    }

    /// Appends `item` if `admit` accepts it; otherwise hands it back so the caller can drop it
    /// after the lock is gone (dropping a message may close the ports inside it). Takes only the
    /// tail lock.
    #[inline]
    pub(crate) fn push(
        &self,
        item: T,
        bytes: usize,
        reserved: bool,
        admit: impl FnOnce(&X) -> bool,
    ) -> Result<(), T> {
        let mut st = self.tail.state.lock();
        if reserved {
            st.reserved_messages -= 1;
            st.reserved_bytes -= bytes;
        }
        if st.end.is_some() || !admit(&st.ext) {
            self.unlock_waking_writer(st, reserved);
            return Err(item);
        }
        st.items.push((item, bytes));
        self.publish_tail(&st);
        st.bytes += bytes;
        st.enqueued += 1;
        if st.items.len() + st.head_bound > st.high_water_mark {
            let depth = st.items.len() + self.head.len.load(Ordering::Acquire);
            st.high_water_mark = st.high_water_mark.max(depth);
        }
        let wake = self.readers_wait();
        let edge = self.edge(&st, false);
        drop(st);
        if wake {
            self.wake_one(&self.tail.readable);
        }
        notify(edge);
        Ok(())
    }

    /// Puts `item` back at the front: a receiver took it but will not deliver it (a binding's
    /// batch whose port is being transferred). It counts as not delivered.
    pub(crate) fn push_front(&self, item: T, bytes: usize) {
        let (mut head, mut st) = self.lock_both();
        head.items.push_front((item, bytes));
        head.bytes += bytes;
        head.delivered = head.delivered.saturating_sub(1);
        self.head.len.store(head.items.len(), Ordering::Release);
        st.head_bound = st.head_bound.max(head.items.len());
        st.high_water_mark = st.high_water_mark.max(head.items.len() + st.items.len());
        let wake = self.readers_wait();
        let edge = self.edge(&st, true);
        drop((st, head));
        if wake {
            self.wake_one(&self.tail.readable);
        }
        notify(edge);
    }

    /// Reserves room for one message of `bytes` under `admission`. Returns whether a reservation
    /// was made (unbounded posts and receivers that `is_open` rejects make none); a reservation
    /// must be consumed by [`Queue::push`] with `reserved = true` or given back with
    /// [`Queue::release`].
    pub(crate) fn reserve(
        &self,
        bytes: usize,
        admission: Admission,
        is_open: impl Fn(&X) -> bool,
    ) -> Result<bool> {
        let deadline = match admission {
            Admission::Unbounded => return Ok(false),
            Admission::Try => None,
            Admission::WaitUntil(d) => Some(d),
        };
        loop {
            let (head, mut st) = self.lock_both();
            if st.end.is_some() || !is_open(&st.ext) {
                return Ok(false);
            }
            if st.has_room(&head, bytes) {
                st.reserved_messages += 1;
                st.reserved_bytes += bytes;
                return Ok(true);
            }
            // Waiting on the tail lock alone: a receive frees room under the head lock, then
            // (the queue being bounded) takes the tail lock to wake us, so no wake-up is lost.
            drop(head);
            match deadline {
                None => return Err(Error::Full),
                Some(Some(d)) if Instant::now() >= d => return Err(Error::Timeout),
                Some(d) => {
                    self.wait(st, &self.tail.writable, &self.tail.writers_waiting, d);
                }
            }
        }
    }

    /// Gives back a reservation that will not be used.
    pub(crate) fn release(&self, bytes: usize) {
        let mut st = self.tail.state.lock();
        st.reserved_messages -= 1;
        st.reserved_bytes -= bytes;
        self.unlock_waking_writer(st, true);
    }

    /// Moves the whole tail to the (empty) head, under both locks.
    fn refill(&self, head: &mut Head<T>, st: &mut Tail<T, X>) {
        if st.items.is_empty() {
            return;
        }
        // The head is empty: the tail's buffer becomes the head (a `Vec` turns into a
        // `VecDeque` and back without copying) and the head's goes to the tail for reuse.
        let batch = VecDeque::from(std::mem::take(&mut st.items));
        st.items = Vec::from(std::mem::replace(&mut head.items, batch));
        head.bytes += std::mem::take(&mut st.bytes);
        st.head_bound = head.items.len();
        self.head.len.store(head.items.len(), Ordering::Release);
        self.publish_tail(st);
    }

    /// Takes the next item; the caller holds the head lock and has checked the epoch. The tail
    /// lock is taken only when the head is empty and the tail has something, when the head
    /// becomes empty while the notifier waits to be re-armed, or when the queue is bounded: a
    /// receiver that keeps up with its producers must not meet them on their lock per message.
    #[inline]
    fn pop_locked(&self, head: &mut SpinGuard<'_, Head<T>>) -> Popped<T> {
        let mut tail = None;
        if head.items.is_empty() {
            // Nothing to take and nothing to re-arm: found empty without the producers' lock.
            // A post this misses is ordered after this call; one it must see (made before,
            // or whose notification was fired) published `available` or `notified` first.
            if self.tail.available.load(Ordering::Acquire) == 0
                && !self.tail.notified.load(Ordering::Acquire)
            {
                return Popped::Empty;
            }
            let mut st = self.tail.state.lock();
            if st.items.len() == 1 {
                return self.take_only_tail_item(head, st);
            }
            self.refill(head, &mut st);
            if head.items.is_empty() {
                return match st.end {
                    Some(end) => Popped::End(end),
                    None => {
                        self.rearm();
                        Popped::Empty
                    }
                };
            }
            tail = Some(st);
        }
        let Some(item) = self.take_front(head) else {
            return Popped::Empty; // unreachable: the head was just checked or refilled
        };
        let bounded = self.head.bounded.load(Ordering::Relaxed);
        // Taking the last item re-arms the notifier as finding the queue empty does, so the
        // next post is announced; with nothing to re-arm, the tail waits for the next call.
        let emptied =
            head.items.is_empty() && (tail.is_some() || self.tail.notified.load(Ordering::Acquire));
        if emptied || bounded {
            let mut st = tail.unwrap_or_else(|| self.tail.state.lock());
            if head.items.is_empty() {
                self.refill(head, &mut st);
                if head.items.is_empty() && st.end.is_none() {
                    self.rearm();
                }
            }
            // Still under the head lock, which the woken post takes to count the room.
            self.unlock_waking_writer(st, bounded);
        }
        Popped::Item(item)
    }

    /// Takes the tail's only item while the head is empty (the caller holds both locks): the
    /// common case of a receiver that keeps up, served without moving buffers, and with the
    /// tail lock held the shortest time. As taking the last item does, it re-arms the notifier.
    #[inline]
    fn take_only_tail_item(
        &self,
        head: &mut Head<T>,
        mut st: SpinGuard<'_, Tail<T, X>>,
    ) -> Popped<T> {
        let Some((item, bytes)) = st.items.pop() else {
            return Popped::Empty; // unreachable: the caller saw one item
        };
        st.bytes -= bytes;
        head.delivered += 1;
        self.publish_tail(&st);
        if st.end.is_none() {
            self.rearm();
        }
        self.unlock_waking_writer(st, self.head.bounded.load(Ordering::Relaxed));
        Popped::Item(item)
    }

    /// Takes the next item if that leaves the head non-empty and the queue is unbounded: then
    /// nothing else is owed (no refill, no re-arm, no writer to wake). The caller holds the head
    /// lock and has checked the epoch.
    #[inline]
    fn pop_from_full_head(&self, head: &mut Head<T>) -> Option<T> {
        if head.items.len() < 2 || self.head.bounded.load(Ordering::Relaxed) {
            return None;
        }
        self.take_front(head)
    }

    /// Takes the head's first item, keeping the head's byte count, its delivered counter and
    /// its mirrored length. The caller holds the head lock.
    #[inline]
    fn take_front(&self, head: &mut Head<T>) -> Option<T> {
        let (item, bytes) = head.items.pop_front()?;
        head.bytes -= bytes;
        head.delivered += 1;
        self.head.len.store(head.items.len(), Ordering::Release);
        Some(item)
    }

    /// Takes the next item without waiting, if the queue still belongs to owner `epoch`.
    pub(crate) fn try_pop(&self, epoch: u64) -> Popped<T> {
        let mut head = self.head.state.lock();
        if self.epoch() != epoch {
            return Popped::Moved;
        }
        if let Some(item) = self.pop_from_full_head(&mut head) {
            return Popped::Item(item);
        }
        self.pop_locked(&mut head)
    }

    /// Takes the next item, waiting until `deadline` (forever if `None`). Returns
    /// [`Popped::Empty`] only when the deadline passed.
    #[inline]
    pub(crate) fn pop_until(&self, epoch: u64, deadline: Option<Instant>) -> Popped<T> {
        let mut head = self.head.state.lock();
        if self.epoch() == epoch {
            if let Some(item) = self.pop_from_full_head(&mut head) {
                return Popped::Item(item);
            }
        }
        self.pop_or_wait(epoch, deadline, head)
    }

    /// [`Queue::pop_until`] past its first step, which found the head short (or the owner
    /// changed); `head` is the guard that step took.
    #[inline(never)]
    fn pop_or_wait(
        &self,
        epoch: u64,
        deadline: Option<Instant>,
        head: SpinGuard<'_, Head<T>>,
    ) -> Popped<T> {
        let mut first = Some(head);
        loop {
            {
                let mut head = first.take().unwrap_or_else(|| self.head.state.lock());
                if self.epoch() != epoch {
                    return Popped::Moved;
                }
                if let Some(item) = self.pop_from_full_head(&mut head) {
                    return Popped::Item(item);
                }
                // With the head empty and nothing seen in the tail, go straight to the spin
                // instead of taking the producers' lock (a blocking receive owes the notifier
                // no "found empty"; the wait below re-checks under the locks).
                if !head.items.is_empty() || self.tail.available.load(Ordering::Acquire) > 0 {
                    match self.pop_locked(&mut head) {
                        Popped::Empty => {}
                        other => return other,
                    }
                }
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Popped::Empty;
            }
            if self.spin_for_item(epoch) {
                continue;
            }
            let head = self.head.state.lock();
            if !head.items.is_empty() {
                continue;
            }
            let st = self.tail.state.lock();
            // The head lock may go: whoever fills the head (`push_front`) then takes the tail
            // lock, which this holds until it waits.
            drop(head);
            if !st.items.is_empty() || st.end.is_some() || self.epoch() != epoch {
                continue;
            }
            self.wait(
                st,
                &self.tail.readable,
                &self.tail.readers_waiting,
                deadline,
            );
        }
    }

    /// Backs off briefly; returns whether something may have become available (or the owner
    /// changed).
    fn spin_for_item(&self, epoch: u64) -> bool {
        for step in 0..BACKOFF_STEPS {
            if step < SPIN_STEPS {
                for _ in 0..1u32 << step {
                    std::hint::spin_loop();
                }
            } else {
                std::thread::yield_now();
            }
            if self.tail.available.load(Ordering::Acquire) > 0
                || self.head.len.load(Ordering::Acquire) > 0
                || self.epoch() != epoch
            {
                return true;
            }
        }
        false
    }

    /// Sets the end record (at most once in a queue's life) if `decide` agrees; `decide` runs on
    /// the extra state in the same critical section. Returns whether this call set the record.
    pub(crate) fn end(&self, notice: CloseNotice, decide: impl FnOnce(&mut X) -> bool) -> bool {
        let mut st = self.tail.state.lock();
        let first = decide(&mut st.ext) && st.end.is_none();
        let mut edge = None;
        if first {
            st.end = Some(notice);
            self.publish_tail(&st);
            edge = self.edge(&st, true);
        }
        let (readers, writers) = (self.readers_wait(), self.writers_wait());
        drop(st);
        if readers {
            self.wake_all(&self.tail.readable);
        }
        if writers {
            self.wake_all(&self.tail.writable);
        }
        notify(edge);
        first
    }

    /// Wakes blocked writers so they re-check whether the receiver is still open.
    pub(crate) fn wake_writers(&self) {
        // The lock orders this after whatever closed the receiver.
        let wake = {
            let _st = self.tail.state.lock();
            self.writers_wait()
        };
        if wake {
            self.wake_all(&self.tail.writable);
        }
    }

    /// Enables notifications (a port's `start()`); never disabled again except by a move.
    pub(crate) fn enable(&self) {
        let (head, mut st) = self.lock_both();
        st.enabled = true;
        let edge = self.edge(&st, !head.items.is_empty());
        drop((st, head));
        notify(edge);
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.tail.state.lock().enabled
    }

    /// Installs or removes the notifier; fires it at once if an enabled queue already has
    /// something undelivered that nobody was told about.
    pub(crate) fn set_notifier(&self, notifier: Option<Notifier>) {
        let (head, mut st) = self.lock_both();
        let old = std::mem::replace(&mut st.notifier, notifier);
        self.rearm();
        let edge = self.edge(&st, !head.items.is_empty());
        drop((st, head));
        notify(edge);
        // The old notifier is user code's closure: it may own ports whose drop locks this queue,
        // so it is dropped only now, with the locks released.
        drop(old);
    }

    /// Removes the notifier without telling anyone (for a queue nobody can receive from any
    /// more); the old one is dropped outside the lock, as in `set_notifier`.
    pub(crate) fn clear_notifier(&self) {
        let old = self.tail.state.lock().notifier.take();
        drop(old);
    }

    /// Hands the queue to a new owner: disabled again, no notifier, and receive calls made for
    /// the old owner stop with [`Popped::Moved`]. Runs `f` on the extra state in the same lock.
    pub(crate) fn ship(&self, f: impl FnOnce(&mut X)) {
        let (head, mut st) = self.lock_both();
        st.enabled = false;
        let old = st.notifier.take();
        self.rearm();
        self.head.epoch.fetch_add(1, Ordering::AcqRel);
        f(&mut st.ext);
        let readers = self.readers_wait();
        drop((st, head));
        if readers {
            self.wake_all(&self.tail.readable);
        }
        drop(old); // outside the locks, as in `set_notifier`
    }

    /// Whether items may be queued besides the end record, without taking a lock. Exact once
    /// the end record is set and nobody can receive any more (nothing is appended after it).
    pub(crate) fn has_items_besides_end(&self) -> bool {
        self.tail.available.load(Ordering::Acquire) > 1 || self.head.len.load(Ordering::Acquire) > 0
    }

    /// Removes every queued item (for a queue that is being torn down).
    pub(crate) fn take_items(&self) -> Vec<T> {
        let (mut head, mut st) = self.lock_both();
        let mut items: Vec<T> = head.items.drain(..).map(|(item, _)| item).collect();
        items.extend(st.items.drain(..).map(|(item, _)| item));
        head.bytes = 0;
        st.bytes = 0;
        st.head_bound = 0;
        self.head.len.store(0, Ordering::Release);
        self.publish_tail(&st);
        items
    }

    pub(crate) fn set_capacity(&self, capacity: Capacity) {
        let (head, mut st) = self.lock_both();
        st.capacity = capacity;
        self.head
            .bounded
            .store(capacity != Capacity::default(), Ordering::Relaxed);
        let writers = self.writers_wait();
        drop((st, head));
        if writers {
            self.wake_all(&self.tail.writable);
        }
    }

    pub(crate) fn capacity(&self) -> Capacity {
        self.tail.state.lock().capacity
    }

    pub(crate) fn metrics(&self) -> QueueMetrics {
        let (head, st) = self.lock_both();
        QueueMetrics {
            depth: head.items.len() + st.items.len(),
            queued_bytes: head.bytes + st.bytes,
            high_water_mark: st.high_water_mark,
            enqueued: st.enqueued,
            delivered: head.delivered,
        }
    }
}
